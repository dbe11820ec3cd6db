/* store.c -- the SQL of the events schema, and only that.
 *
 * Relaying is one statement: take the finished transactions' outbox rows
 * (xid older than the oldest running transaction: a row whose transaction
 * took an early outbox id but commits late is not skipped, it is simply not
 * taken yet), number them from the heads, insert them into the log, delete
 * them from the outbox and advance the heads. A single statement is atomic:
 * either all of it happened or none of it did, whatever dies in between. */
#include "events.h"
#include "meso/outbox.h"

#include <endian.h>
#include <stdio.h>
#include <stdlib.h>

/* pg_try_advisory_lock key for "the active writer": 'meso' 'evts'. */
#define WRITER_LOCK_KEY "7882822370106504307"

const char *const events_streams[EVENTS_NSTREAMS] = { "session", "screening", "stock", "billing" };

/* Runs a statement with text parameters and a binary result (through the
 * db handle's statement cache: replay runs constantly; the writer's handle,
 * which relays, has its cache off, see main.c). */
static PGresult *
s_query_binary (meso_db_t *db, const char *sql, int n, const char *const *params)
{
    return meso_db_query_binres (db, sql, n, params);
}

uint64_t
store_get_u64 (const PGresult *res, int row, int col)
{
    uint64_t v;
    memcpy (&v, PQgetvalue (res, row, col), sizeof v);
    return be64toh (v);
}

int
store_try_lock (meso_db_t *db)
{
    PGresult *res = meso_db_query (db, "SELECT pg_try_advisory_lock (" WRITER_LOCK_KEY ")", 0, NULL);
    if (!res)
        return -1;
    int got = PQgetvalue (res, 0, 0)[0] == 't';
    PQclear (res);
    return got;
}

int
store_listen (meso_db_t *db)
{
    /* LISTEN takes an identifier, not a parameter; the channel is a constant. */
    return meso_db_exec (db, "LISTEN " MESO_OUTBOX_CHANNEL, 0, NULL);
}

int
store_heads (meso_db_t *db, uint64_t heads[EVENTS_NSTREAMS], uint64_t *global,
             uint64_t first[EVENTS_NSTREAMS])
{
    PGresult *res = meso_db_query (db,
        "SELECT h.stream, h.seq,"
        " coalesce ((SELECT min (l.stream_seq) FROM events.log l WHERE l.stream = h.stream), h.seq + 1)"
        " FROM events.stream_head h", 0, NULL);
    if (!res)
        return -1;
    for (int r = 0; r < PQntuples (res); r++) {
        const char *name = PQgetvalue (res, r, 0);
        uint64_t seq = strtoull (PQgetvalue (res, r, 1), NULL, 10);
        int i = events_stream_index (name);
        if (i >= 0) {
            heads[i] = seq;
            if (first)
                first[i] = strtoull (PQgetvalue (res, r, 2), NULL, 10);
        }
        else if (strcmp (name, "*") == 0)
            *global = seq;
    }
    PQclear (res);
    return 0;
}

PGresult *
store_relay (meso_db_t *db, int limit)
{
    char lim[16];
    snprintf (lim, sizeof lim, "%d", limit);
    const char *params[1] = { lim };
    return s_query_binary (db,
        "WITH batch AS ("
        "  SELECT o.id, o.stream, o.type, o.clinic_id, o.occurred_at, o.payload,"
        "         row_number () OVER (ORDER BY o.id) AS g,"
        "         row_number () OVER (PARTITION BY o.stream ORDER BY o.id) AS s"
        "  FROM (SELECT * FROM events.outbox"
        "        WHERE xid < pg_snapshot_xmin (pg_current_snapshot ())"
        "        ORDER BY id LIMIT $1::int) o),"
        " heads AS (SELECT stream, seq FROM events.stream_head),"
        " ins AS ("
        "  INSERT INTO events.log (global_seq, stream, stream_seq, type, clinic_id, occurred_at, payload)"
        "  SELECT (SELECT seq FROM heads WHERE stream = '*') + b.g, b.stream, h.seq + b.s,"
        "         b.type, b.clinic_id, b.occurred_at, b.payload"
        "  FROM batch b JOIN heads h ON h.stream = b.stream"
        "  RETURNING global_seq, stream, stream_seq, type, payload, clinic_id),"
        " del AS (DELETE FROM events.outbox WHERE id IN (SELECT id FROM batch)),"
        " upd AS (UPDATE events.stream_head h SET seq = h.seq + c.n"
        "  FROM (SELECT stream, count (*) AS n FROM batch GROUP BY stream"
        "        UNION ALL SELECT '*', count (*) FROM batch) c"
        "  WHERE h.stream = c.stream AND c.n > 0)"
        " SELECT global_seq, stream, stream_seq, type, payload, coalesce (clinic_id, '')"
        " FROM ins ORDER BY global_seq",
        1, params);
}

PGresult *
store_replay (meso_db_t *db, const char *stream, uint64_t after_seq, int limit, bool health)
{
    char after[24], lim[16];
    snprintf (after, sizeof after, "%llu", (unsigned long long) after_seq);
    snprintf (lim, sizeof lim, "%d", limit);
    const char *params[3] = { stream, after, lim };
    if (health)
        return s_query_binary (db,
            "SELECT l.stream_seq, l.global_seq, coalesce (h.payload, l.payload), l.type,"
            " coalesce (l.clinic_id, '') FROM events.log l"
            " LEFT JOIN events.log_health h ON h.global_seq = l.global_seq"
            " WHERE l.stream = $1 AND l.stream_seq > $2::bigint ORDER BY l.stream_seq LIMIT $3::int",
            3, params);
    return s_query_binary (db,
        "SELECT stream_seq, global_seq, payload, type, coalesce (clinic_id, '') FROM events.log"
        " WHERE stream = $1 AND stream_seq > $2::bigint ORDER BY stream_seq LIMIT $3::int",
        3, params);
}

int
store_health_split (meso_db_t *db, uint64_t global, const char *stream, uint64_t seq,
                    const char *patient, const uint8_t *full, size_t flen,
                    const uint8_t *redacted, size_t rlen)
{
    char g[24], s[24];
    snprintf (g, sizeof g, "%llu", (unsigned long long) global);
    snprintf (s, sizeof s, "%llu", (unsigned long long) seq);
    const char *values[6] = { g, stream, s, patient, (const char *) full, (const char *) redacted };
    int lengths[6] = { 0, 0, 0, 0, (int) flen, (int) rlen };
    int formats[6] = { 0, 0, 0, 0, 1, 1 };
    PGresult *res = meso_db_query_bin (db,
        "WITH h AS (INSERT INTO events.log_health (global_seq, stream, stream_seq, patient_id, payload)"
        "  VALUES ($1::bigint, $2, $3::bigint, $4, $5))"
        " UPDATE events.log SET payload = $6 WHERE global_seq = $1::bigint",
        6, values, lengths, formats);
    if (!res)
        return -1;
    PQclear (res);
    return 0;
}

int
store_health_forget (meso_db_t *db, const char *patient)
{
    const char *params[1] = { patient };
    return meso_db_exec (db, "DELETE FROM events.log_health WHERE patient_id = $1", 1, params);
}

long
store_prune (meso_db_t *db, int64_t retention_s, int limit)
{
    char secs[24], lim[16];
    snprintf (secs, sizeof secs, "%lld", (long long) retention_s);
    snprintf (lim, sizeof lim, "%d", limit);
    const char *params[2] = { secs, lim };
    /* Oldest first (log_recorded_at_idx; global_seq orders one relay
     * batch's rows, recorded at the same instant), so what is left is
     * always the log's tail. The full payloads of the pruned events go
     * with them. */
    PGresult *res = meso_db_query (db,
        "WITH d AS (DELETE FROM events.log WHERE global_seq IN ("
        "  SELECT global_seq FROM events.log"
        "  WHERE recorded_at < now () - $1::bigint * interval '1 second'"
        "  ORDER BY recorded_at, global_seq LIMIT $2::int)"
        "  RETURNING global_seq),"
        " h AS (DELETE FROM events.log_health WHERE global_seq IN (SELECT global_seq FROM d))"
        " SELECT count (*) FROM d",
        2, params);
    if (!res)
        return -1;
    long n = strtol (PQgetvalue (res, 0, 0), NULL, 10);
    PQclear (res);
    return n;
}

int64_t
store_log_bytes (meso_db_t *db)
{
    PGresult *res = meso_db_query (db, "SELECT pg_total_relation_size ('events.log')", 0, NULL);
    if (!res)
        return -1;
    int64_t n = PQntuples (res) == 1 ? strtoll (PQgetvalue (res, 0, 0), NULL, 10) : -1;
    PQclear (res);
    return n;
}

int64_t
store_outbox_lag_ms (meso_db_t *db)
{
    PGresult *res = meso_db_query (db,
        "SELECT coalesce ((extract (epoch FROM clock_timestamp () - min (occurred_at)) * 1000)::bigint, 0)"
        " FROM events.outbox", 0, NULL);
    if (!res)
        return -1;
    int64_t lag = strtoll (PQgetvalue (res, 0, 0), NULL, 10);
    PQclear (res);
    return lag < 0 ? 0 : lag;
}

int
store_horizon (meso_db_t *db, store_horizon_t *out)
{
    /* The running transaction with the oldest xid is what
     * pg_snapshot_xmin waits for (relay, above). Other roles' xids and
     * xact_start are visible through pg_read_all_stats (008). */
    memset (out, 0, sizeof *out);
    PGresult *res = meso_db_query (db,
        "SELECT pid, coalesce (usename, ''), coalesce (datname, ''), coalesce (state, ''),"
        " greatest ((extract (epoch FROM clock_timestamp () - xact_start) * 1000)::bigint, 0)"
        " FROM pg_stat_activity"
        " WHERE backend_xid IS NOT NULL AND xact_start IS NOT NULL AND pid <> pg_backend_pid ()"
        " ORDER BY age (backend_xid) DESC LIMIT 1", 0, NULL);
    if (!res)
        return -1;
    if (PQntuples (res) == 1) {
        out->pid = atoi (PQgetvalue (res, 0, 0));
        snprintf (out->role, sizeof out->role, "%s", PQgetvalue (res, 0, 1));
        snprintf (out->database, sizeof out->database, "%s", PQgetvalue (res, 0, 2));
        snprintf (out->state, sizeof out->state, "%s", PQgetvalue (res, 0, 3));
        out->age_ms = strtoll (PQgetvalue (res, 0, 4), NULL, 10);
    }
    PQclear (res);
    return 0;
}
