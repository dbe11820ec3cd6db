/* store_consent.c -- the SQL of treatment consent (tables of
 * deploy/sql/012_consent.sql), and only that.
 *
 * Apart from store.c because consent is its own aggregate (consents.c):
 * texts and signatures, both append-only, so nothing here updates or
 * deletes. Instants cross as microseconds since the epoch; the handlers
 * call these inside their own transactions. */
#include "screening.h"

#include <stdio.h>
#include <stdlib.h>

#define US_OF(col) "(extract (epoch FROM " col ") * 1000000)::int8"

/* The newest version of (clinic, treatment), as a scalar subquery of the
 * parameters $1 and $2. */
#define CURRENT_VERSION \
    "(SELECT max (version) FROM screening.consent_texts WHERE clinic_id = $1 AND treatment = $2)"

#define TEXT_COLS \
    "t.clinic_id, t.treatment, t.version, t.body, t.sha256, " US_OF ("t.created_at") ", " \
    "t.version = " CURRENT_VERSION

PGresult *
store_consent_text (meso_db_t *db, const char *clinic_id, const char *treatment, int version)
{
    char v[16];
    snprintf (v, sizeof v, "%d", version);
    const char *params[] = { clinic_id, treatment, v };
    return meso_db_query (db,
        "SELECT " TEXT_COLS " FROM screening.consent_texts t"
        " WHERE t.clinic_id = $1 AND t.treatment = $2"
        "   AND t.version = CASE WHEN $3::int4 = 0 THEN " CURRENT_VERSION " ELSE $3::int4 END",
        3, params);
}

int
store_consent_lock (meso_db_t *db, const char *clinic_id, const char *treatment)
{
    const char *params[] = { clinic_id, treatment };
    return meso_db_exec (db, "SELECT pg_advisory_xact_lock (hashtext ('screening.consent_texts'),"
                         " hashtext ($1 || '/' || $2))", 2, params);
}

PGresult *
store_consent_text_insert (meso_db_t *db, const char *clinic_id, const char *treatment,
                           const char *body, const char *sha256)
{
    const char *params[] = { clinic_id, treatment, body, sha256 };
    return meso_db_query (db,
        "INSERT INTO screening.consent_texts AS t (clinic_id, treatment, version, body, sha256)"
        " VALUES ($1, $2, coalesce (" CURRENT_VERSION ", 0) + 1, $3, $4)"
        " RETURNING t.clinic_id, t.treatment, t.version, t.body, t.sha256, "
        US_OF ("t.created_at") ", true", 4, params);
}

#define SIG_COLS \
    "s.signature_id, s.patient_id, s.clinic_id, s.treatment, s.version, s.text_sha256, " \
    "s.witness, " US_OF ("s.signed_at") ", s.version = (SELECT max (version) FROM " \
    "screening.consent_texts c WHERE c.clinic_id = s.clinic_id AND c.treatment = s.treatment)"

PGresult *
store_consent_sign (meso_db_t *db, const char *signature_id, const char *patient_id,
                    const char *clinic_id, const char *treatment, int version,
                    const char *sha256, const char *witness)
{
    char v[16];
    snprintf (v, sizeof v, "%d", version);
    const char *params[] = { signature_id, patient_id, clinic_id, treatment, v, sha256, witness };
    return meso_db_query (db,
        "INSERT INTO screening.consent_signatures AS s (signature_id, patient_id, clinic_id,"
        "   treatment, version, text_sha256, witness)"
        " VALUES ($1::uuid, $2::uuid, $3, $4, $5::int4, $6, $7) RETURNING " SIG_COLS, 7, params);
}

PGresult *
store_consents (meso_db_t *db, const char *patient_id, const char *clinic_id, const char *treatment,
                const char *before_us, const char *after_id, int limit)
{
    char lim[16];
    snprintf (lim, sizeof lim, "%d", limit);
    const char *params[] = { patient_id, clinic_id ? clinic_id : "", treatment ? treatment : "",
                             before_us, after_id, lim };
    return meso_db_query (db,
        "SELECT " SIG_COLS
        " FROM screening.consent_signatures s"
        " WHERE s.patient_id = $1::uuid AND ($2 = '' OR s.clinic_id = $2)"
        "   AND ($3 = '' OR s.treatment = $3)"
        "   AND ($4::int8 IS NULL"
        "        OR s.signed_at < timestamptz 'epoch' + $4::int8 * interval '1 microsecond'"
        "        OR (s.signed_at = timestamptz 'epoch' + $4::int8 * interval '1 microsecond'"
        "            AND s.signature_id > $5::uuid))"
        " ORDER BY s.signed_at DESC, s.signature_id LIMIT $6::int", 6, params);
}

int
store_consent_state (meso_db_t *db, const char *patient_id, const char *clinic_id,
                     const char *treatment, int *current, int *newest_signed, bool *current_signed)
{
    const char *params[] = { clinic_id, treatment, patient_id };
    PGresult *res = meso_db_query (db,
        "SELECT coalesce (" CURRENT_VERSION ", 0),"
        "  coalesce ((SELECT max (version) FROM screening.consent_signatures"
        "             WHERE patient_id = $3::uuid AND clinic_id = $1 AND treatment = $2), 0),"
        "  EXISTS (SELECT 1 FROM screening.consent_signatures WHERE patient_id = $3::uuid"
        "          AND clinic_id = $1 AND treatment = $2 AND version = " CURRENT_VERSION ")",
        3, params);
    if (!res)
        return -1;
    *current = atoi (PQgetvalue (res, 0, 0));
    *newest_signed = atoi (PQgetvalue (res, 0, 1));
    *current_signed = PQgetvalue (res, 0, 2)[0] == 't';
    PQclear (res);
    return 0;
}
