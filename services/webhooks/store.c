/* store.c -- the SQL of the webhooks schema (deploy/sql/033_webhooks.sql),
 * and only there.
 *
 * Functions that change rows run inside the caller's transaction
 * (meso_db_txn). Text arrays cross as literals ("{session,stock}") of
 * words the methods validated (rules.c), never of raw input. */
#include "webhooks.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

int
store_sub_insert (meso_db_t *db, const store_sub_new_t *s)
{
    const char *values[] = { s->id, s->clinic, s->url, s->streams, s->types,
                             s->include_health ? "true" : "false", s->insecure ? "true" : "false",
                             s->description, (const char *) s->sealed, s->created_by };
    int lengths[] = { 0, 0, 0, 0, 0, 0, 0, 0, (int) s->sealed_len, 0 };
    int formats[] = { 0, 0, 0, 0, 0, 0, 0, 0, 1, 0 };
    PGresult *res = meso_db_query_bin (db,
        "INSERT INTO webhooks.subscription (subscription_id, clinic_id, url, streams, event_types, "
        " include_health, insecure_tls, description, secret_sealed, created_by) "
        "VALUES ($1::uuid, $2, $3, $4::text[], $5::text[], $6::boolean, $7::boolean, $8, $9, $10)",
        10, values, lengths, formats);
    if (!res)
        return -1;
    PQclear (res);
    return 0;
}

int
store_cursor_set (meso_db_t *db, const char *id, const char *stream, uint64_t seq)
{
    char s[24];
    snprintf (s, sizeof s, "%" PRIu64, seq);
    const char *values[] = { id, stream, s };
    return meso_db_exec (db,
        "INSERT INTO webhooks.cursor (subscription_id, stream, seq) VALUES ($1::uuid, $2, $3::bigint) "
        "ON CONFLICT (subscription_id, stream) DO UPDATE SET seq = EXCLUDED.seq", 3, values);
}

PGresult *
store_sub_get (meso_db_t *db, const char *id, bool for_update)
{
    const char *values[] = { id };
    return meso_db_query (db, for_update
        ? "SELECT " SUB_COLUMNS " FROM webhooks.subscription s WHERE s.subscription_id = $1::uuid FOR UPDATE"
        : "SELECT " SUB_COLUMNS " FROM webhooks.subscription s WHERE s.subscription_id = $1::uuid",
        1, values);
}

PGresult *
store_sub_page (meso_db_t *db, const char *clinic, const char *after_created, const char *after_id,
                int limit)
{
    char lim[16];
    snprintf (lim, sizeof lim, "%d", limit);
    const char *values[] = { clinic && *clinic ? clinic : NULL, after_created, after_id, lim };
    return meso_db_query (db,
        "SELECT " SUB_COLUMNS " FROM webhooks.subscription s "
        "WHERE ($1::text IS NULL OR s.clinic_id = $1) "
        "  AND ($2::bigint IS NULL OR ((extract(epoch FROM s.created_at) * 1000000)::bigint, s.subscription_id) "
        "       > ($2::bigint, $3::uuid)) "
        "ORDER BY (extract(epoch FROM s.created_at) * 1000000)::bigint, s.subscription_id LIMIT $4::integer",
        4, values);
}

PGresult *
store_sub_all (meso_db_t *db)
{
    return meso_db_query (db,
        "SELECT " SUB_COLUMNS " FROM webhooks.subscription s ORDER BY s.created_at, s.subscription_id",
        0, NULL);
}

int
store_sub_set_state (meso_db_t *db, const char *id, const char *state, bool clear)
{
    const char *values[] = { id, state, clear ? "true" : "false" };
    return meso_db_exec (db,
        "UPDATE webhooks.subscription SET state = $2, version = version + 1, "
        " failures = CASE WHEN $3::boolean THEN 0 ELSE failures END, "
        " parked_reason = CASE WHEN $3::boolean THEN '' ELSE parked_reason END "
        "WHERE subscription_id = $1::uuid", 3, values);
}

int
store_sub_delete (meso_db_t *db, const char *id)
{
    const char *values[] = { id };
    return meso_db_exec (db, "DELETE FROM webhooks.subscription WHERE subscription_id = $1::uuid", 1,
                         values);
}

int
store_delivery_insert (meso_db_t *db, const store_delivery_t *d)
{
    char seq[24], attempt[16], status[16], ms[24];
    snprintf (seq, sizeof seq, "%" PRIu64, d->seq);
    snprintf (attempt, sizeof attempt, "%" PRIu32, d->attempt);
    snprintf (status, sizeof status, "%d", d->http_status);
    snprintf (ms, sizeof ms, "%" PRId64, d->duration_ms);
    const char *values[] = { d->sub, d->event_id, d->event_type, d->stream, seq, attempt,
                             d->outcome, status, d->error ? d->error : "", ms };
    return meso_db_exec (db,
        "INSERT INTO webhooks.delivery (subscription_id, event_id, event_type, stream, stream_seq, "
        " attempt, outcome, http_status, error, duration_ms) "
        "VALUES ($1::uuid, $2, $3, $4, $5::bigint, $6::integer, $7, $8::integer, left($9, 500), "
        " least($10::bigint, 2147483647)::integer)", 10, values);
}

int
store_cursor_advance (meso_db_t *db, const char *id, const char *stream, uint64_t seq,
                      int64_t version)
{
    char s[24], v[24];
    snprintf (s, sizeof s, "%" PRIu64, seq);
    snprintf (v, sizeof v, "%" PRId64, version);
    const char *values[] = { id, stream, s, v };
    return meso_db_exec (db,
        "UPDATE webhooks.cursor c SET seq = $3::bigint FROM webhooks.subscription s "
        "WHERE c.subscription_id = $1::uuid AND c.stream = $2 "
        "  AND s.subscription_id = c.subscription_id AND s.version = $4::bigint", 4, values);
}

int
store_sub_failed (meso_db_t *db, const char *id, uint32_t failures, const char *state,
                  const char *reason, int64_t version)
{
    char f[16], v[24];
    snprintf (f, sizeof f, "%" PRIu32, failures);
    snprintf (v, sizeof v, "%" PRId64, version);
    const char *values[] = { id, f, state, reason ? reason : "", v };
    return meso_db_exec (db,
        "UPDATE webhooks.subscription SET failures = $2::integer, "
        " state = coalesce($3, state), "
        " parked_reason = CASE WHEN $3 IS NULL THEN parked_reason ELSE left($4, 500) END "
        "WHERE subscription_id = $1::uuid AND version = $5::bigint", 5, values);
}

PGresult *
store_delivery_page (meso_db_t *db, const char *sub, bool parked, const char *before_id, int limit)
{
    char lim[16];
    snprintf (lim, sizeof lim, "%d", limit);
    const char *values[] = { sub && *sub ? sub : NULL, parked ? "true" : "false", before_id, lim };
    return meso_db_query (db,
        "SELECT d.delivery_id, d.subscription_id, d.event_id, d.event_type, d.stream, d.stream_seq, "
        " d.attempt, d.outcome, d.http_status, d.error, "
        " (extract(epoch FROM d.at) * 1000000)::bigint, d.duration_ms, s.clinic_id "
        "FROM webhooks.delivery d JOIN webhooks.subscription s USING (subscription_id) "
        "WHERE ($1::uuid IS NULL OR d.subscription_id = $1::uuid) "
        "  AND (NOT $2::boolean OR (d.outcome = 'parked' AND s.state = 'parked')) "
        "  AND ($3::bigint IS NULL OR d.delivery_id < $3::bigint) "
        "ORDER BY d.delivery_id DESC LIMIT $4::integer", 4, values);
}

int
store_delivery_purge (meso_db_t *db, long days, int batch)
{
    char d[24], b[16];
    snprintf (d, sizeof d, "%ld", days);
    snprintf (b, sizeof b, "%d", batch);
    const char *values[] = { d, b };
    PGresult *res = meso_db_query (db,
        "DELETE FROM webhooks.delivery WHERE delivery_id IN ("
        " SELECT d.delivery_id FROM webhooks.delivery d"
        " WHERE d.at < now() - make_interval(days => $1::integer)"
        "   AND NOT (d.outcome = 'parked' AND EXISTS (SELECT 1 FROM webhooks.subscription s"
        "            WHERE s.subscription_id = d.subscription_id AND s.state = 'parked'))"
        " ORDER BY d.delivery_id LIMIT $2::integer FOR UPDATE OF d SKIP LOCKED)", 2, values);
    if (!res)
        return -1;
    int n = atoi (PQcmdTuples (res));
    PQclear (res);
    return n;
}
