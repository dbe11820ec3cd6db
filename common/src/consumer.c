/* consumer.c -- the internal-consumer variant of the subscriber: the cursor
 * lives in the consumer's own schema and moves in the same transaction as
 * the effect (see subscriber.h).
 *
 * Why it is built this way:
 * - Delivery is at-least-once (replays overlap live events, a process dies
 *   between its effect and anything it keeps in memory). Exactly-once
 *   effects come from the database: each event runs
 *       BEGIN; SELECT seq ... FOR UPDATE; effect; UPDATE seq; COMMIT
 *   and an event at or below the stored seq is skipped. The row lock also
 *   serialises several instances of one service consuming the same stream:
 *   the second waits for the first's commit, then sees the event as done.
 * - The stored cursor is the truth, the subscriber's in-memory cursor only
 *   a copy. When the stored one is behind the event (an operator rewound
 *   it), applying the event would skip the ones in between: instead the
 *   subscriber is moved back to the stored cursor and replays from there.
 *   When it is ahead (another instance did the work), events are skipped
 *   one by one, each a cheap transaction, which keeps every instance's
 *   cursor moving.
 * - A consumer that cannot advance (one event failing again and again, or
 *   nothing arriving while the head is further) keeps serving its daemon's
 *   requests, so nobody would notice: each followed stream has a progress
 *   tracker (meso/progress.h), and the consumer registers a health check
 *   (meso/health.h) that turns every bus server's Health in the process to
 *   "degraded" with the stuck position and the last error, and sets
 *   meso_consumer_stuck{stream} (1 when stuck) and
 *   meso_consumer_stuck_seq{stream} (the event it cannot get past, 0 when
 *   moving). A service gets this by using meso_consumer at all.
 * - The schema name is pasted into the SQL (identifiers cannot be
 *   parameters), so it is checked to be a plain lower-case identifier and
 *   quoted; the statements are built once, here. */
#include <assert.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/health.h"
#include "meso/log.h"
#include "meso/metrics.h"
#include "meso/mtime.h"
#include "meso/progress.h"
#include "meso/subscriber.h"
#include "subscriber_private.h"

struct meso_consumer_t {
    meso_db_t *db;
    meso_subscriber_t *sub;
    meso_consumer_fn *fn;
    void *arg;
    char *name;
    char sql_ensure[160];
    char sql_read[160];
    char sql_lock[160];
    char sql_update[160];
    int nstreams;
    char streams[4][16];        /* followed streams, for the progress below */
    meso_progress_t progress[4];
    /* What the last look (s_check_stuck, on the consumer's thread) found,
     * for the health check, which runs on whichever thread serves Health
     * (a worker): it reads this copy, never the subscriber. */
    pthread_mutex_t lock;
    bool stuck;
    char note[MESO_HEALTH_NOTE_MAX];
};

/* One event's transaction. */
typedef struct {
    meso_consumer_t *self;
    const Meso__V1__Event *ev;
    bool skipped;
    bool rewind;                /* the stored cursor is behind the event */
    uint64_t stored;
} s_txn_t;

static meso_progress_t *
s_progress (meso_consumer_t *self, const char *stream)
{
    for (int i = 0; i < self->nstreams; i++)
        if (stream && strcmp (self->streams[i], stream) == 0)
            return &self->progress[i];
    return NULL;
}

/* Updates the stuck metrics of every stream; writes a note for the first
 * stuck one into note (when note is non-NULL). Returns true when one is. */
static bool
s_check_stuck (meso_consumer_t *self)
{
    int64_t now = meso_time_mono_ms ();
    bool any = false;
    char note[MESO_HEALTH_NOTE_MAX] = "";
    size_t size = sizeof note;
    for (int i = 0; i < self->nstreams; i++) {
        meso_progress_t *p = &self->progress[i];
        uint64_t head = meso_subscriber_head (self->sub, self->streams[i]);
        meso_progress_moved (p, meso_subscriber_cursor (self->sub, self->streams[i]), now);
        uint64_t at = meso_progress_stuck (p, head, now, MESO_PROGRESS_STUCK_FAILURES,
                                           MESO_PROGRESS_STALL_MS);
        meso_metrics_set ("meso_consumer_stuck",
                          "1 when this consumer cannot get past an event of the stream.",
                          "stream", self->streams[i], at ? 1 : 0);
        meso_metrics_set ("meso_consumer_stuck_seq",
                          "The stream sequence this consumer cannot get past (0: moving).",
                          "stream", self->streams[i], (double) at);
        if (at && !any)
            meso_progress_note (p, self->name, self->streams[i], at, head, now, note, size);
        any = any || at;
    }
    pthread_mutex_lock (&self->lock);
    self->stuck = any;
    memcpy (self->note, note, sizeof note);
    pthread_mutex_unlock (&self->lock);
    return any;
}

/* The health check registered for this consumer (meso/health.h): what
 * the consumer's thread found last. */
static bool
s_health_check (void *arg, char *note, size_t size)
{
    meso_consumer_t *self = arg;
    pthread_mutex_lock (&self->lock);
    bool stuck = self->stuck;
    snprintf (note, size, "%s", self->note);
    pthread_mutex_unlock (&self->lock);
    return stuck;
}

static bool
s_valid_identifier (const char *s)
{
    if (!s || !*s || strlen (s) > 63)
        return false;
    if (!((*s >= 'a' && *s <= 'z') || *s == '_'))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    return true;
}

static int
s_apply (meso_db_t *db, void *arg)
{
    s_txn_t *t = arg;
    meso_consumer_t *self = t->self;
    t->skipped = false;
    t->rewind = false;
    char seq[24];
    snprintf (seq, sizeof seq, "%" PRIu64, t->ev->stream_seq);
    const char *params[2] = { t->ev->stream, seq };
    PGresult *res = meso_db_query (db, self->sql_lock, 1, params);
    if (!res)
        return -1;
    if (PQntuples (res) != 1) {
        PQclear (res);
        meso_db_set_error (db, "P0002", "no event_cursor row for stream %s", t->ev->stream);
        return -1;
    }
    t->stored = strtoull (PQgetvalue (res, 0, 0), NULL, 10);
    PQclear (res);
    if (t->stored >= t->ev->stream_seq) {
        t->skipped = true;      /* done already, by us earlier or by another instance */
        return 0;
    }
    if (t->stored + 1 != t->ev->stream_seq) {
        t->rewind = true;
        meso_db_set_error (db, NULL, "stored cursor %" PRIu64 " of stream %s is behind event %"
                           PRIu64, t->stored, t->ev->stream, t->ev->stream_seq);
        return -1;
    }
    if (self->fn (db, t->ev, self->arg) != 0) {
        if (!meso_db_error (db)->sqlstate[0] && !meso_db_error (db)->message[0])
            meso_db_set_error (db, NULL, "the handler refused the event");
        return -1;
    }
    return meso_db_exec (db, self->sql_update, 2, params);
}

/* Ops compare it with meso_events_stream_head: the consumer's lag. Set at
 * start from the stored cursor too, so that a consumer stuck at its first
 * event still shows how far behind it is. */
static void
s_export_cursor (const char *stream, uint64_t seq)
{
    meso_metrics_set ("meso_consumer_cursor", "Last stream sequence whose effect this consumer committed.",
                      "stream", stream, (double) seq);
}

static int
s_on_event (const Meso__V1__Event *ev, const uint8_t *raw, size_t len, void *arg)
{
    meso_consumer_t *self = arg;
    s_txn_t t = { .self = self, .ev = ev };
    if (meso_db_txn (self->db, MESO_DB_READ_COMMITTED, s_apply, &t) == 0) {
        s_export_cursor (ev->stream, t.skipped && t.stored > ev->stream_seq ? t.stored : ev->stream_seq);
        return 0;
    }
    if (t.rewind) {
        meso_warn ("consumer %s: stored cursor of %s is %" PRIu64 ", below event %" PRIu64
                   "; replaying from the stored cursor", self->name, ev->stream, t.stored,
                   ev->stream_seq);
        meso_subscriber_set_cursor (self->sub, ev->stream, t.stored);
        return -1;
    }
    const meso_db_error_t *e = meso_db_error (self->db);
    meso_warn ("consumer %s: event %s #%" PRIu64 " (%s) not applied: %s%s%s%s; it will come again",
               self->name, ev->stream, ev->stream_seq, ev->type, e->message,
               e->sqlstate[0] ? " (SQLSTATE " : "", e->sqlstate, e->sqlstate[0] ? ")" : "");
    meso_progress_t *p = s_progress (self, ev->stream);
    if (p) {
        char why[160];
        snprintf (why, sizeof why, "%.120s%s%s%s", e->message[0] ? e->message : "not applied",
                  e->sqlstate[0] ? " (SQLSTATE " : "", e->sqlstate, e->sqlstate[0] ? ")" : "");
        meso_progress_failed (p, ev->stream_seq, why);
        s_check_stuck (self);
    }
    return -1;
}

meso_consumer_t *
meso_consumer_new (meso_db_t *db, const char *schema, const char *streams,
                   const char *router, const char *pub, const char *name,
                   meso_consumer_fn *fn, void *arg)
{
    assert (db);
    assert (schema);
    assert (streams);
    assert (router && pub);
    assert (fn);
    if (!s_valid_identifier (schema)) {
        meso_error ("consumer %s: schema \"%s\" is not a plain lower-case identifier",
                    name ? name : "", schema);
        return NULL;
    }
    meso_consumer_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    pthread_mutex_init (&self->lock, NULL);
    self->db = db;
    self->fn = fn;
    self->arg = arg;
    self->name = strdup (name && *name ? name : schema);
    if (!self->name) {
        meso_consumer_destroy (&self);
        return NULL;
    }
    snprintf (self->sql_ensure, sizeof self->sql_ensure,
              "INSERT INTO \"%s\".event_cursor (stream, seq) VALUES ($1, 0)"
              " ON CONFLICT (stream) DO NOTHING", schema);
    snprintf (self->sql_read, sizeof self->sql_read,
              "SELECT seq FROM \"%s\".event_cursor WHERE stream = $1", schema);
    snprintf (self->sql_lock, sizeof self->sql_lock,
              "SELECT seq FROM \"%s\".event_cursor WHERE stream = $1 FOR UPDATE", schema);
    snprintf (self->sql_update, sizeof self->sql_update,
              "UPDATE \"%s\".event_cursor SET seq = $2 WHERE stream = $1", schema);

    self->sub = meso_subscriber_new (router, pub, self->name, s_on_event, self);
    if (!self->sub) {
        meso_consumer_destroy (&self);
        return NULL;
    }
    char *list = strdup (streams);
    char *save = NULL;
    int followed = 0, failed = !list;
    for (char *s = list ? strtok_r (list, ",", &save) : NULL; s && !failed;
         s = strtok_r (NULL, ",", &save)) {
        while (*s == ' ')
            s++;
        if (!*s)
            continue;
        const char *params[1] = { s };
        PGresult *res = NULL;
        if (meso_db_exec (db, self->sql_ensure, 1, params) != 0
            || !(res = meso_db_query (db, self->sql_read, 1, params)) || PQntuples (res) != 1) {
            const meso_db_error_t *e = meso_db_error (db);
            meso_error ("consumer %s: cannot read the cursor of %s in %s.event_cursor: %s%s%s%s",
                        self->name, s, schema, e->message[0] ? e->message : "no row",
                        e->sqlstate[0] ? " (SQLSTATE " : "", e->sqlstate, e->sqlstate[0] ? ")" : "");
            failed = 1;
        }
        else if (self->nstreams == 4
                 || meso_subscriber_follow (self->sub, s, strtoull (PQgetvalue (res, 0, 0), NULL, 10)) != 0)
            failed = 1;
        else {
            snprintf (self->streams[self->nstreams], sizeof self->streams[0], "%s", s);
            meso_progress_init (&self->progress[self->nstreams],
                                meso_subscriber_cursor (self->sub, s), meso_time_mono_ms ());
            s_export_cursor (s, meso_subscriber_cursor (self->sub, s));
            self->nstreams++;
            followed++;
        }
        PQclear (res);
    }
    free (list);
    if (failed || followed == 0) {
        if (!failed)
            meso_error ("consumer %s: no stream in \"%s\"", self->name, streams);
        meso_consumer_destroy (&self);
        return NULL;
    }
    if (meso_health_register (s_health_check, self) != 0)
        meso_warn ("consumer %s: too many health checks; a stuck stream will not show in Health",
                   self->name);
    s_check_stuck (self);
    return self;
}

void
meso_consumer_destroy (meso_consumer_t **self_p)
{
    assert (self_p);
    meso_consumer_t *self = *self_p;
    if (!self)
        return;
    meso_health_unregister (s_health_check, self);
    meso_subscriber_destroy (&self->sub);
    pthread_mutex_destroy (&self->lock);
    free (self->name);
    free (self);
    *self_p = NULL;
}

int
meso_consumer_poll (meso_consumer_t *self, int timeout_ms)
{
    assert (self);
    int rc = meso_subscriber_poll (self->sub, timeout_ms);
    s_check_stuck (self);
    return rc;
}

zsock_t *
meso_consumer_socket (meso_consumer_t *self)
{
    assert (self);
    return meso_subscriber_socket (self->sub);
}

uint64_t
meso_consumer_cursor (meso_consumer_t *self, const char *stream)
{
    assert (self);
    return meso_subscriber_cursor (self->sub, stream);
}
