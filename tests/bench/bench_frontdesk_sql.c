/* bench_frontdesk_sql.c -- screening's store functions (store.c,
 * store_search.c and search_norm.c, compiled in) for
 * bench_frontdesk.c: the same SQL text the daemon runs, called directly;
 * and the search index of the generated patients, written with COPY. */
#include "bench_frontdesk_sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/mtime.h"
#include "screening.h"

int
bench_fd_patients (meso_db_t *db, const char *ids_literal, size_t n, const char *clinic, const char *date)
{
    store_patient_t *rows = calloc (n + 1, sizeof *rows);
    if (!rows)
        return -1;
    int got = store_patients_get_many (db, ids_literal, rows, n);
    free (rows);
    if (got < 0)
        return -1;
    PGresult *st = store_patients_state (db, ids_literal, clinic, "body_mesotherapy", date);
    if (!st)
        return -1;
    PQclear (st);
    return got;
}

int
bench_fd_audit (meso_db_t *db, const char *clinic, const char *ids_literal, const char *method)
{
    const char *p[] = { clinic, ids_literal, method };
    PGresult *res = meso_db_query (db, "SELECT audit.append_rows (array_fill ($1::text, ARRAY[cardinality ($2::text[])]),"
                                       " $2::text[], 'bench-direct', 'bench-direct-key', 'ana-frontdesk', $3,"
                                       " 'bench-request', 0, 'read')", 3, p);
    PQclear (res);
    return res ? 0 : -1;
}

int
bench_fd_search (meso_db_t *db, const uint8_t *key, const char *clinic, const char *name, const char *birth,
                 const char *phone, const char *email)
{
    return bench_fd_search_audited (db, key, clinic, name, birth, phone, email, NULL);
}

int
bench_fd_search_audited (meso_db_t *db, const uint8_t *key, const char *clinic, const char *name,
                         const char *birth, const char *phone, const char *email, int64_t *audit_us)
{
    search_token_t t[64];
    int nt = search_query_tokens (key, name, birth, phone, email, t, 64);
    if (nt <= 0)
        return -1;
    PGresult *ids = store_search_find (db, clinic, t, (size_t) nt, NULL, 51);
    if (!ids)
        return -1;
    int n = PQntuples (ids) > 50 ? 50 : PQntuples (ids);
    char *lit = malloc ((size_t) n * 38 + 4);
    store_patient_t *rows = calloc ((size_t) n + 1, sizeof *rows);
    int got = -1;
    if (lit && rows) {
        size_t used = 0;
        lit[used++] = '{';
        for (int i = 0; i < n; i++)
            used += (size_t) sprintf (lit + used, "%s%s", i ? "," : "", PQgetvalue (ids, i, 0));
        strcpy (lit + used, "}");
        got = n ? store_patients_get_many (db, lit, rows, (size_t) n) : 0;
        if (got > 0 && audit_us) {
            int64_t s = meso_time_mono_us ();
            if (bench_fd_audit (db, clinic, lit, "screening.SearchPatients") != 0)
                got = -1;
            *audit_us = meso_time_mono_us () - s;
        }
    }
    free (lit);
    free (rows);
    PQclear (ids);
    return got;
}

int64_t
bench_fd_index (meso_db_t *db, const uint8_t *key)
{
    PGresult *res = meso_db_query (db, "SELECT id::text, given_name, family_name, birth_date::text, phone, email,"
                                       " home_clinic_id FROM screening.patients", 0, NULL);
    if (!res)
        return -1;
    PGconn *conn = meso_db_conn (db);
    PGresult *cp = PQexec (conn, "COPY screening.patient_search (clinic_id, patient_id, token, kind) FROM STDIN");
    if (PQresultStatus (cp) != PGRES_COPY_IN) {
        fprintf (stderr, "bench_frontdesk: COPY: %s", PQerrorMessage (conn));
        PQclear (cp);
        PQclear (res);
        return -1;
    }
    PQclear (cp);
    int64_t rows = 0;
    char line[256];
    for (int i = 0; i < PQntuples (res); i++) {
        search_token_t t[SEARCH_TOKENS_MAX];
        size_t n = search_index_tokens (key, PQgetvalue (res, i, 1), PQgetvalue (res, i, 2), PQgetvalue (res, i, 3),
                                        PQgetvalue (res, i, 4), PQgetvalue (res, i, 5), t, SEARCH_TOKENS_MAX);
        for (size_t k = 0; k < n; k++) {
            int len = snprintf (line, sizeof line, "%s\t%s\t\\\\x%s\t%c\n", PQgetvalue (res, i, 6),
                                PQgetvalue (res, i, 0), t[k].hex, t[k].kind);
            if (PQputCopyData (conn, line, len) != 1)
                break;
            rows++;
        }
    }
    PQclear (res);
    if (PQputCopyEnd (conn, NULL) != 1)
        return -1;
    PGresult *end = PQgetResult (conn);
    int ok = PQresultStatus (end) == PGRES_COMMAND_OK;
    if (!ok)
        fprintf (stderr, "bench_frontdesk: COPY: %s", PQerrorMessage (conn));
    PQclear (end);
    while ((end = PQgetResult (conn)))
        PQclear (end);
    return ok ? rows : -1;
}
