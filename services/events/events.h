/* events.h -- the events daemon's state, shared by its files.
 *
 * main.c owns the loop, handlers.c the method table, events.Head and
 * health, replay.c events.Replay, store.c the SQL of the events schema,
 * seqwire.c the packed-bytes arithmetic, redact.c the health fields,
 * tail.c the newest events kept in memory. */
#ifndef EVENTS_EVENTS_H
#define EVENTS_EVENTS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "meso/bus.h"
#include "meso/db.h"
#include "tail.h"

/* The streams, in the order of every per-stream array here. */
#define EVENTS_NSTREAMS 4
extern const char *const events_streams[EVENTS_NSTREAMS];

/* Index of a stream name, or -1. */
static inline int
events_stream_index (const char *name)
{
    for (int i = 0; i < EVENTS_NSTREAMS; i++)
        if (name && strcmp (name, events_streams[i]) == 0)
            return i;
    return -1;
}

/* The transaction holding the relay back: the oldest running one with an
 * xid, anywhere in the cluster (pid 0 when none). */
typedef struct {
    int pid;
    char role[64];
    char database[64];
    char state[32];                 /* "active", "idle in transaction"... */
    int64_t age_ms;                 /* since its transaction began */
} store_horizon_t;

/* The daemon's state. The main thread relays and publishes with its own;
 * each worker serving Replay and Head has a copy with its own db (main.c),
 * and main points at the main thread's. What the relay changes and
 * workers read (active, heads, global_head, published, horizon, tail) is
 * written under main->lock by the main thread, and read under it by
 * workers; the main thread reads its own without it. */
typedef struct events_s {
    meso_db_t *db;
    struct events_s *main;          /* the main thread's state */
    pthread_mutex_t lock;           /* in the main thread's state only */
    zsock_t *pub;
    meso_bus_server_t *server;
    bool active;                    /* holds the writer lock */
    int lock_pid;                   /* backend pid of the session holding it */
    int batch;                      /* outbox rows per relay statement */
    int64_t retention_s;            /* prune log rows older than this */
    uint64_t heads[EVENTS_NSTREAMS];
    uint64_t global_head;
    uint64_t published;             /* events sent on PUB since start */
    bool relay_due;                 /* a notification arrived */
    int64_t held_warn_ms;           /* Health degraded when the relay is held back longer */
    store_horizon_t horizon;        /* what holds the relay back, measured each second */
    tail_t *tail;                   /* newest events per stream, while active (tail.h) */
} events_t;


/* ---- store.c: the SQL of the events schema ---- */

/* Tries to become the writer (session advisory lock). 1 got it, 0 not, -1 error. */
int store_try_lock (meso_db_t *db);
/* LISTEN on the outbox channel. */
int store_listen (meso_db_t *db);
/* Reads every stream head (heads[], global) and, when first is non-NULL,
 * each stream's first retained sequence. */
int store_heads (meso_db_t *db, uint64_t heads[EVENTS_NSTREAMS], uint64_t *global,
                 uint64_t first[EVENTS_NSTREAMS]);
/* Moves up to limit finished outbox rows into the log, numbered, in one
 * statement (atomic). Returns the moved rows, binary format, columns:
 * global_seq int8, stream text, stream_seq int8, type text, payload bytea,
 * clinic_id text ("" for none) (caller PQclear()s), or NULL on error. */
PGresult *store_relay (meso_db_t *db, int limit);
/* The events of stream after after_seq, at most limit, binary format,
 * columns stream_seq int8, global_seq int8, payload bytea, type text,
 * clinic_id text ("" for a chain-wide event). With health, the payload
 * is the full one of events.log_health where it has one. */
PGresult *store_replay (meso_db_t *db, const char *stream, uint64_t after_seq, int limit,
                        bool health);
/* Moves the full payload of log row global to events.log_health (with
 * patient) and leaves the redacted copy in the log. 0 or -1. */
int store_health_split (meso_db_t *db, uint64_t global, const char *stream, uint64_t seq,
                        const char *patient, const uint8_t *full, size_t flen,
                        const uint8_t *redacted, size_t rlen);
/* Deletes patient's rows of events.log_health (an erasure). 0 or -1. */
int store_health_forget (meso_db_t *db, const char *patient);

/* ---- health.c: health-bearing payloads apart from the log ---- */

/* Inside the relay's transaction, for the rows store_relay returned:
 * splits each event with health fields (store_health_split) and applies
 * each erasure (store_health_forget; *erased set). 0, or -1 with the db
 * error set. */
int health_split (meso_db_t *db, PGresult *relayed, bool *erased);
/* Deletes the oldest log rows recorded more than retention_s ago, at most
 * limit of them (and their full payloads); returns how many or -1. */
long store_prune (meso_db_t *db, int64_t retention_s, int limit);
/* Bytes the event log takes on disk (table, indexes, TOAST), or -1. */
int64_t store_log_bytes (meso_db_t *db);
/* Milliseconds since the oldest outbox row was written (0 when empty), or -1. */
int64_t store_outbox_lag_ms (meso_db_t *db);

/* Fills out with the transaction holding the relay back. 0 or -1. */
int store_horizon (meso_db_t *db, store_horizon_t *out);

/* Reads a big-endian int8 from a binary result. */
uint64_t store_get_u64 (const PGresult *res, int row, int col);

/* ---- replay.c ---- */
/* events.Replay: the events of one stream the caller may see. */
void events_replay (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);

/* ---- handlers.c ---- */
extern const meso_method_t events_methods[];
void events_health (Meso__V1__HealthReply *health, void *arg);
/* Measures what holds the relay back (self->horizon) and exports
 * meso_events_held_back_seconds; the loop calls it once a second. */
void events_watch_horizon (events_t *self);

#endif
