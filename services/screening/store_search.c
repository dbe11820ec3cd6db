/* store_search.c -- the SQL of the patient search (migration 027): the
 * blind index rows of a patient, the search itself, the patients not yet
 * indexed, and the agenda's batch of screening and consent states.
 *
 * Tokens cross as lower-case hex and become bytea in the statement
 * (decode), so no bytea escaping is done here. */
#include "screening.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "{h1,h2}" of the tokens' hex into out. */
static void
s_literal (char *out, size_t size, const search_token_t *t, size_t n)
{
    size_t used = 0;
    out[used++] = '{';
    for (size_t i = 0; i < n && used + SEARCH_TOKEN_HEX + 2 < size; i++) {
        if (i)
            out[used++] = ',';
        memcpy (out + used, t[i].hex, SEARCH_TOKEN_HEX - 1);
        used += SEARCH_TOKEN_HEX - 1;
    }
    out[used++] = '}';
    out[used] = '\0';
}

int
store_search_forget (meso_db_t *db, const char *patient_id)
{
    const char *p[] = { patient_id };
    return meso_db_exec (db, "DELETE FROM screening.patient_search WHERE patient_id = $1::uuid", 1, p);
}

int
store_search_replace (meso_db_t *db, const char *patient_id, const char *clinic_id,
                      const search_token_t *t, size_t n)
{
    if (store_search_forget (db, patient_id) != 0)
        return -1;
    if (n == 0)
        return 0;
    char tokens[SEARCH_TOKENS_MAX * (SEARCH_TOKEN_HEX + 1) + 4];
    char kinds[SEARCH_TOKENS_MAX * 2 + 4];
    s_literal (tokens, sizeof tokens, t, n);
    size_t k = 0;
    kinds[k++] = '{';
    for (size_t i = 0; i < n; i++) {
        if (i)
            kinds[k++] = ',';
        kinds[k++] = t[i].kind;
    }
    kinds[k++] = '}';
    kinds[k] = '\0';
    const char *p[] = { clinic_id, patient_id, tokens, kinds };
    return meso_db_exec (db,
        "INSERT INTO screening.patient_search (clinic_id, patient_id, token, kind)"
        " SELECT $1, $2::uuid, decode (t, 'hex'), k::\"char\""
        " FROM unnest ($3::text[], $4::text[]) AS u (t, k)"
        " ON CONFLICT DO NOTHING", 4, p);
}

PGresult *
store_search_find (meso_db_t *db, const char *clinic_id, const search_token_t *t, size_t n,
                   const char *after, int limit)
{
    char tokens[64 * (SEARCH_TOKEN_HEX + 1) + 4];
    char count[16], lim[16];
    s_literal (tokens, sizeof tokens, t, n);
    snprintf (count, sizeof count, "%zu", n);
    snprintf (lim, sizeof lim, "%d", limit);
    const char *p[] = { clinic_id, tokens, count, lim, after && *after ? after : NULL };
    /* Every token of the search must be one of the patient's: the
     * primary key makes (token, patient) unique, so a count per patient
     * equal to the tokens asked means all of them. */
    return meso_db_query (db,
        "SELECT patient_id::text FROM screening.patient_search"
        " WHERE clinic_id = $1"
        "   AND token = ANY (ARRAY (SELECT decode (h, 'hex') FROM unnest ($2::text[]) AS h))"
        "   AND ($5::uuid IS NULL OR patient_id > $5::uuid)"
        " GROUP BY patient_id HAVING count(*) = $3::int"
        " ORDER BY patient_id LIMIT $4::int", 5, p);
}

PGresult *
store_search_unindexed (meso_db_t *db, int limit)
{
    char lim[16];
    snprintf (lim, sizeof lim, "%d", limit);
    const char *p[] = { lim };
    return meso_db_query (db,
        "SELECT p.id::text FROM screening.patients p"
        " WHERE NOT EXISTS (SELECT 1 FROM screening.patient_search s"
        "                   WHERE s.patient_id = p.id AND s.kind = 'b')"
        /* an erased patient has no rows, and must get none */
        "   AND NOT EXISTS (SELECT 1 FROM vault.patient_keys k"
        "                   WHERE k.patient_id = p.id AND k.wrapped IS NULL)"
        " ORDER BY p.id LIMIT $1::int", 1, p);
}

PGresult *
store_patients_state (meso_db_t *db, const char *ids_literal, const char *clinic_id,
                      const char *treatment, const char *date)
{
    const char *p[] = { ids_literal, clinic_id, treatment, date };
    /* One row per id: the newest screening's verdict and validity,
     * whether a change was reported after it, the clinic's current
     * consent version and the newest the patient signed there. */
    return meso_db_query (db,
        "SELECT u.id::text, coalesce (s.verdict, ''), coalesce (s.valid_until::text, ''),"
        "  coalesce (s.valid_until < $4::date, false),"
        "  coalesce (EXISTS (SELECT 1 FROM screening.patient_changes c"
        "            WHERE c.patient_id = u.id AND c.reported_at > s.screened_at), false),"
        "  coalesce ((SELECT max (version) FROM screening.consent_texts t"
        "             WHERE t.clinic_id = $2 AND t.treatment = $3), 0),"
        "  coalesce ((SELECT max (version) FROM screening.consent_signatures g"
        "             WHERE g.patient_id = u.id AND g.clinic_id = $2 AND g.treatment = $3), 0)"
        " FROM unnest ($1::uuid[]) WITH ORDINALITY AS u (id, i)"
        " LEFT JOIN LATERAL (SELECT verdict, valid_until, screened_at FROM screening.screenings x"
        "                    WHERE x.patient_id = u.id ORDER BY screened_at DESC LIMIT 1) s ON true"
        " ORDER BY u.i",
        4, p);
}
