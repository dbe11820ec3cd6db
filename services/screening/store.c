/* store.c -- the SQL of the screening schema, and only that.
 *
 * Every statement is parameterised. Instants cross as microseconds since
 * the epoch (computed in SQL, so no time zone is involved), dates as
 * "YYYY-MM-DD" text. The handlers call these inside their own
 * transactions (meso_db_txn); nothing here begins or commits. */
#include "screening.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/mtime.h"
#include "meso/uuid.h"

#define US_OF(col) "(extract (epoch FROM " col ") * 1000000)::int8"

static void
s_copy (char *dst, size_t size, const char *src)
{
    snprintf (dst, size, "%s", src ? src : "");
}

int
store_settings_get (meso_db_t *db, const char *clinic_id, rules_settings_t *out)
{
    rules_settings_default (out);
    const char *params[] = { clinic_id };
    PGresult *res = meso_db_query (db,
        "SELECT max_age, bmi_obesity_x10, validity_days FROM screening.clinic_settings"
        " WHERE clinic_id = $1", 1, params);
    if (!res)
        return -1;
    store_settings_row (res, out);
    PQclear (res);
    return 0;
}

void
store_settings_row (const PGresult *res, rules_settings_t *out)
{
    rules_settings_default (out);
    if (PQntuples (res) == 1) {
        out->max_age = atoi (PQgetvalue (res, 0, 0));
        out->bmi_obesity_x10 = atoi (PQgetvalue (res, 0, 1));
        out->validity_days = atoi (PQgetvalue (res, 0, 2));
    }
}

int
store_settings_set (meso_db_t *db, const char *clinic_id, const rules_settings_t *s)
{
    char a[16], b[16], c[16];
    snprintf (a, sizeof a, "%d", s->max_age);
    snprintf (b, sizeof b, "%d", s->bmi_obesity_x10);
    snprintf (c, sizeof c, "%d", s->validity_days);
    const char *params[] = { clinic_id, a, b, c };
    return meso_db_exec (db,
        "INSERT INTO screening.clinic_settings (clinic_id, max_age, bmi_obesity_x10, validity_days)"
        " VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (clinic_id) DO UPDATE SET max_age = EXCLUDED.max_age,"
        "   bmi_obesity_x10 = EXCLUDED.bmi_obesity_x10, validity_days = EXCLUDED.validity_days,"
        "   updated_at = now ()", 4, params);
}

/* Column 10 is the sealed personal fields (NULL for a row of before
 * migration 023, whose fields are still in the plaintext columns). */
/* A patient row with its data key, read in the same statement (columns
 * 11..13: meso_vault_key_row). */
#define PATIENT_COLS \
    "p.id, coalesce (p.given_name, ''), coalesce (p.family_name, ''), coalesce (p.birth_date::text, ''), " \
    "coalesce (p.sex, 0), coalesce (p.phone, ''), coalesce (p.email, ''), p.home_clinic_id, " \
    US_OF ("p.created_at") ", " US_OF ("p.updated_at") ", p.personal, k.patient_id IS NOT NULL, " \
    MESO_VAULT_KEY_COLS ("k")
#define PATIENT_FROM \
    " FROM screening.patients p LEFT JOIN vault.patient_keys k ON k.patient_id = p.id"

/* Fills out from row i and opens its sealed fields with the patient's
 * data key. 0, or -1 with the db error set. */
static int
s_patient_row_at (meso_db_t *db, PGresult *res, int i, store_patient_t *out)
{
    memset (out, 0, sizeof *out);
    s_copy (out->id, sizeof out->id, PQgetvalue (res, i, 0));
    s_copy (out->given_name, sizeof out->given_name, PQgetvalue (res, i, 1));
    s_copy (out->family_name, sizeof out->family_name, PQgetvalue (res, i, 2));
    s_copy (out->birth_date, sizeof out->birth_date, PQgetvalue (res, i, 3));
    out->sex = atoi (PQgetvalue (res, i, 4));
    s_copy (out->phone, sizeof out->phone, PQgetvalue (res, i, 5));
    s_copy (out->email, sizeof out->email, PQgetvalue (res, i, 6));
    s_copy (out->home_clinic_id, sizeof out->home_clinic_id, PQgetvalue (res, i, 7));
    out->created_at_us = strtoll (PQgetvalue (res, i, 8), NULL, 10);
    out->updated_at_us = strtoll (PQgetvalue (res, i, 9), NULL, 10);
    out->key_state = meso_vault_key_row (db, out->id, res, i, 11, &out->key, &out->erased_at_us);
    if (out->key_state < 0)
        return -1;
    if (out->key_state == MESO_VAULT_KEY_ERASED) {
        personal_patient_erased (out);
        return 0;
    }
    if (PQgetisnull (res, i, 10))
        return 0;                       /* plaintext, of before migration 023 */
    size_t len = 0;
    uint8_t *bin = PQunescapeBytea ((const unsigned char *) PQgetvalue (res, i, 10), &len);
    int rc = out->key_state == MESO_VAULT_KEY_OK && bin
           ? personal_patient_open (&out->key, bin, len, out) : -1;
    PQfreemem (bin);
    if (rc != 0)
        meso_db_set_error (db, "XX001", "the personal fields of patient %s do not open with its key",
                           out->id);
    return rc;
}

static int
s_patient_row (meso_db_t *db, PGresult *res, store_patient_t *out)
{
    return s_patient_row_at (db, res, 0, out);
}

/* The data key to seal p's new rows under: its own, or a new one for a
 * patient of before migration 023 (sealed from its first new row). 0, or
 * -1 with the db error set (an erased patient has none). */
static int
s_key (meso_db_t *db, const store_patient_t *p, meso_vault_key_t *out)
{
    if (p->key_state == MESO_VAULT_KEY_OK) {
        *out = p->key;
        return 0;
    }
    if (p->key_state == MESO_VAULT_KEY_NONE)
        return meso_vault_key_create (db, p->id, p->home_clinic_id, out);
    meso_db_set_error (db, "55000", "patient %s is erased", p->id);
    return -1;
}

int
store_patient_insert (meso_db_t *db, const Meso__V1__Patient *p, store_patient_t *out)
{
    store_patient_t in;
    memset (&in, 0, sizeof in);
    if (meso_uuid_v4 (in.id) != 0) {
        meso_db_set_error (db, NULL, "no randomness for a patient id");
        return -1;
    }
    s_copy (in.given_name, sizeof in.given_name, p->given_name);
    s_copy (in.family_name, sizeof in.family_name, p->family_name);
    s_copy (in.birth_date, sizeof in.birth_date, p->birth_date);
    in.sex = (int) p->sex;
    s_copy (in.phone, sizeof in.phone, p->phone);
    s_copy (in.email, sizeof in.email, p->email);
    s_copy (in.home_clinic_id, sizeof in.home_clinic_id, p->home_clinic_id);
    if (meso_vault_key_create (db, in.id, in.home_clinic_id, &in.key) != 0)
        return -1;
    in.key_state = MESO_VAULT_KEY_OK;
    size_t len = 0;
    uint8_t *sealed = personal_patient_seal (&in.key, &in, &len);
    if (!sealed) {
        meso_db_set_error (db, NULL, "out of memory sealing a patient");
        return -1;
    }
    const char *values[] = { in.id, in.home_clinic_id, (const char *) sealed };
    int lengths[] = { 0, 0, (int) len }, formats[] = { 0, 0, 1 };
    PGresult *res = meso_db_query_bin (db,
        "INSERT INTO screening.patients (id, home_clinic_id, personal)"
        " VALUES ($1::uuid, $2, $3) RETURNING " US_OF ("created_at") ", " US_OF ("updated_at"),
        3, values, lengths, formats);
    free (sealed);
    if (!res)
        return -1;
    in.created_at_us = strtoll (PQgetvalue (res, 0, 0), NULL, 10);
    in.updated_at_us = strtoll (PQgetvalue (res, 0, 1), NULL, 10);
    PQclear (res);
    *out = in;
    return 0;
}

int
store_patient_get (meso_db_t *db, const char *id, bool lock, store_patient_t *out)
{
    const char *params[] = { id };
    PGresult *res = meso_db_query (db, lock
        ? "SELECT " PATIENT_COLS PATIENT_FROM " WHERE p.id = $1::uuid FOR UPDATE OF p"
        : "SELECT " PATIENT_COLS PATIENT_FROM " WHERE p.id = $1::uuid", 1, params);
    if (!res)
        return -1;
    int found = PQntuples (res) == 1;
    if (found && s_patient_row (db, res, out) != 0)
        found = -1;
    PQclear (res);
    return found;
}

int
store_patient_row (meso_db_t *db, PGresult *res, store_patient_t *out)
{
    if (PQntuples (res) != 1)
        return 0;
    return s_patient_row (db, res, out) == 0 ? 1 : -1;
}

/* The patient's latest screening, as a subquery. */
#define LATEST_SCREENING(col) \
    "(SELECT " col " FROM screening.screenings WHERE patient_id = $1::uuid" \
    " ORDER BY screened_at DESC, id LIMIT 1)"

int
store_check_reads (meso_db_t *db, const char *patient_id, const char *clinic_id, PGresult *out[4])
{
    const char *params[] = { patient_id, clinic_id && *clinic_id ? clinic_id : NULL };
    const meso_db_stmt_t st[] = {
        { "SELECT " PATIENT_COLS PATIENT_FROM " WHERE p.id = $1::uuid", 1, params },
        { "SELECT id, " US_OF ("screened_at") ", record, sealed, clinic_id, screened_on::text, verdict,"
          " valid_until::text FROM screening.screenings WHERE patient_id = $1::uuid"
          " ORDER BY screened_at DESC, id LIMIT 1", 1, params },
        { "SELECT coalesce (changes::text, '{}'), coalesce (note, ''), " US_OF ("reported_at") ","
          " ineligible, sealed FROM screening.patient_changes WHERE patient_id = $1::uuid"
          " AND reported_at > " LATEST_SCREENING ("screened_at") " ORDER BY reported_at, id", 1, params },
        { "SELECT max_age, bmi_obesity_x10, validity_days FROM screening.clinic_settings"
          " WHERE clinic_id = coalesce ($2::text, " LATEST_SCREENING ("clinic_id") ")", 2, params },
    };
    return meso_db_pipeline (db, 4, st, out);
}

int
store_patients_get_many (meso_db_t *db, const char *ids_literal, store_patient_t *out, size_t max)
{
    const char *params[] = { ids_literal };
    PGresult *res = meso_db_query (db,
        "SELECT " PATIENT_COLS PATIENT_FROM " WHERE p.id = ANY ($1::uuid[])", 1, params);
    if (!res)
        return -1;
    int n = PQntuples (res);
    if ((size_t) n > max)
        n = (int) max;
    for (int i = 0; i < n; i++)
        if (s_patient_row_at (db, res, i, &out[i]) != 0) {
            n = -1;
            break;
        }
    PQclear (res);
    return n;
}

int
store_patient_update (meso_db_t *db, const store_patient_t *p, store_patient_t *out)
{
    store_patient_t now = *p;
    if (s_key (db, p, &now.key) != 0)
        return -1;
    now.key_state = MESO_VAULT_KEY_OK;
    size_t len = 0;
    uint8_t *sealed = personal_patient_seal (&now.key, &now, &len);
    if (!sealed) {
        meso_db_set_error (db, NULL, "out of memory sealing a patient");
        return -1;
    }
    const char *values[] = { now.id, now.home_clinic_id, (const char *) sealed };
    int lengths[] = { 0, 0, (int) len }, formats[] = { 0, 0, 1 };
    PGresult *res = meso_db_query_bin (db,
        "UPDATE screening.patients SET personal = $3, given_name = NULL, family_name = NULL,"
        " birth_date = NULL, sex = NULL, phone = NULL, email = NULL, home_clinic_id = $2,"
        " updated_at = now () WHERE id = $1::uuid RETURNING " US_OF ("updated_at"),
        3, values, lengths, formats);
    free (sealed);
    if (!res)
        return -1;
    if (PQntuples (res) != 1) {
        PQclear (res);
        meso_db_set_error (db, NULL, "patient %s vanished during the update", p->id);
        return -1;
    }
    now.updated_at_us = strtoll (PQgetvalue (res, 0, 0), NULL, 10);
    PQclear (res);
    *out = now;
    return 0;
}

int
store_patient_erase (meso_db_t *db, const char *id, long *replies)
{
    const char *params[] = { id };
    if (meso_db_exec (db,
            "UPDATE screening.patients SET given_name = NULL, family_name = NULL, birth_date = NULL,"
            " sex = NULL, phone = NULL, email = NULL WHERE id = $1::uuid AND given_name IS NOT NULL",
            1, params) != 0)
        return -1;
    /* The search index's keyed hashes of the name, birth date, phone and
     * e-mail go too (store_search.c). */
    if (store_search_forget (db, id) != 0)
        return -1;
    PGresult *res = meso_db_query (db, "DELETE FROM screening.idempotency WHERE patient_id = $1::uuid",
                                   1, params);
    if (!res)
        return -1;
    *replies = strtol (PQcmdTuples (res), NULL, 10);
    PQclear (res);
    return 0;
}

int
store_idem_patient (meso_db_t *db, const char *key, const char *patient_id)
{
    const char *params[] = { key, patient_id };
    return meso_db_exec (db, "UPDATE screening.idempotency SET patient_id = $2::uuid WHERE key = $1",
                         2, params);
}

int
store_ingredient_known (meso_db_t *db, const char *code)
{
    const char *params[] = { code };
    PGresult *res = meso_db_query (db, "SELECT 1 FROM screening.ingredients"
                                   " WHERE code = $1 AND confirmed_at IS NOT NULL", 1, params);
    if (!res)
        return -1;
    int known = PQntuples (res) == 1;
    PQclear (res);
    return known;
}

int
store_ingredient_confirm (meso_db_t *db, const char *code, const char *name)
{
    const char *params[] = { code, name && *name ? name : code };
    PGresult *res = meso_db_query (db,
        "INSERT INTO screening.ingredients (code, name, confirmed_at) VALUES ($1, $2, now ())"
        " ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name,"
        "   confirmed_at = coalesce (screening.ingredients.confirmed_at, EXCLUDED.confirmed_at)",
        2, params);
    if (!res)
        return -1;
    PQclear (res);
    return 0;
}

int
store_now (meso_db_t *db, int64_t *out_us)
{
    PGresult *res = meso_db_query (db, "SELECT " US_OF ("clock_timestamp ()"), 0, NULL);
    if (!res)
        return -1;
    *out_us = strtoll (PQgetvalue (res, 0, 0), NULL, 10);
    PQclear (res);
    return 0;
}

static const char *
s_verdict_text (rules_verdict_kind_t v)
{
    return v == RULES_ELIGIBLE ? "eligible"
         : v == RULES_ELIGIBLE_WITH_PRECAUTIONS ? "eligible_with_precautions" : "ineligible";
}

int
store_screening_insert (meso_db_t *db, const char *id, const store_screening_t *s)
{
    const rules_answers_t *a = s->answers;
    /* Parameters: 1 id, 2 patient, 3 clinic, 4 screened_at_us, 5 screened_on,
     * 6..18 conditions, 19 height, 20 weight, 21 last dose, 22 medication
     * count, 23 verdict, 24 valid_until, 25 earliest, 26..28 settings,
     * 29 record (binary). */
    char at[24], on[16], cond[RULES_NCONDITIONS][2], h[16], w[16], dose[16], meds[8],
         until[16], earliest[16], s1[16], s2[16], s3[16];
    snprintf (at, sizeof at, "%" PRId64, s->screened_at_us);
    meso_date_format (s->screened_on, on, sizeof on);
    for (int c = 0; c < RULES_NCONDITIONS; c++)
        snprintf (cond[c], sizeof cond[c], "%c", a->conditions[c] == RULES_YES ? 't' : 'f');
    snprintf (h, sizeof h, "%d", (int) a->height_mm);
    snprintf (w, sizeof w, "%d", (int) a->weight_g);
    if (a->last_nsaid_dose != RULES_NO_DATE)
        meso_date_format (a->last_nsaid_dose, dose, sizeof dose);
    snprintf (meds, sizeof meds, "%zu", a->nmedications);
    meso_date_format (s->verdict->valid_until, until, sizeof until);
    if (s->verdict->earliest_first_session != RULES_NO_DATE)
        meso_date_format (s->verdict->earliest_first_session, earliest, sizeof earliest);
    snprintf (s1, sizeof s1, "%d", s->settings->max_age);
    snprintf (s2, sizeof s2, "%d", s->settings->bmi_obesity_x10);
    snprintf (s3, sizeof s3, "%d", s->settings->validity_days);

    /* Sealed: the record under the patient's key, the answer columns
     * NULL and no area or allergy rows (the record holds them). */
    const store_patient_t *pt = s->patient;
    meso_vault_key_t key;
    bool seal = pt != NULL;
    if (seal && s_key (db, pt, &key) != 0)
        return -1;
    size_t sealed_len = 0;
    uint8_t *sealed = seal ? meso_vault_seal_dup (&key, pt->id, PERSONAL_RECORD_COLUMN, s->record,
                                                  s->record_len, &sealed_len)
                           : NULL;
    if (seal && !sealed) {
        meso_db_set_error (db, NULL, "out of memory sealing a screening");
        return -1;
    }
    const char *values[30];
    int lengths[30] = { 0 }, formats[30] = { 0 };
    values[0] = id;
    values[1] = s->patient_id;
    values[2] = s->clinic_id;
    values[3] = at;
    values[4] = on;
    for (int c = 0; c < RULES_NCONDITIONS; c++)
        values[5 + c] = seal ? NULL : cond[c];
    values[18] = seal ? NULL : h;
    values[19] = seal ? NULL : w;
    values[20] = !seal && a->last_nsaid_dose != RULES_NO_DATE ? dose : NULL;
    values[21] = seal ? NULL : meds;
    values[22] = s_verdict_text (s->verdict->verdict);
    values[23] = until;
    values[24] = !seal && s->verdict->earliest_first_session != RULES_NO_DATE ? earliest : NULL;
    values[25] = s1;
    values[26] = s2;
    values[27] = s3;
    values[28] = seal ? (const char *) sealed : (const char *) s->record;
    lengths[28] = (int) (seal ? sealed_len : s->record_len);
    formats[28] = 1;
    values[29] = seal ? "t" : "f";
    PGresult *res = meso_db_query_bin (db,
        "INSERT INTO screening.screenings (id, patient_id, clinic_id, screened_at, screened_on,"
        " pregnancy, breastfeeding, diabetes, active_infection, septicaemia, immunocompromised,"
        " liver_failure, kidney_failure, coagulation_disorder, menstrual_disorder, cancer,"
        " heart_arrhythmia, blood_clots, height_mm, weight_g, last_nsaid_dose, medication_count,"
        " verdict, valid_until, earliest_first_session, max_age, bmi_obesity_x10, validity_days,"
        " record, sealed)"
        " VALUES ($1::uuid, $2::uuid, $3, timestamptz 'epoch' + $4::int8 * interval '1 microsecond', $5::date,"
        " $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21::date, $22,"
        " $23, $24::date, $25::date, $26, $27, $28, $29, $30)",
        30, values, lengths, formats);
    free (sealed);
    if (!res)
        return -1;
    PQclear (res);
    if (seal)
        return 0;

    for (size_t i = 0; i < a->nareas; i++) {
        char grade[8];
        snprintf (grade, sizeof grade, "%d", a->areas[i].grade);
        const char *p[] = { id, a->areas[i].area, grade, a->areas[i].mild ? "t" : "f" };
        if (meso_db_exec (db, "INSERT INTO screening.screening_areas (screening_id, area, grade, mild)"
                              " VALUES ($1::uuid, $2, $3, $4)", 4, p) != 0)
            return -1;
    }
    for (size_t i = 0; i < a->nallergies; i++) {
        const char *p[] = { id, a->allergies[i] };
        if (meso_db_exec (db, "INSERT INTO screening.screening_allergies (screening_id, ingredient_code)"
                              " VALUES ($1::uuid, $2) ON CONFLICT DO NOTHING", 2, p) != 0)
            return -1;
    }
    return 0;
}

PGresult *
store_screenings (meso_db_t *db, const char *patient_id, int limit, const char *before_us,
                  const char *after_id)
{
    char lim[16];
    snprintf (lim, sizeof lim, "%d", limit);
    const char *params[] = { patient_id, lim, before_us, after_id };
    return meso_db_query (db,
        "SELECT id, " US_OF ("screened_at") ", record, sealed, clinic_id, screened_on::text, verdict,"
        " valid_until::text FROM screening.screenings"
        " WHERE patient_id = $1::uuid"
        " AND ($3::int8 IS NULL"
        "      OR screened_at < timestamptz 'epoch' + $3::int8 * interval '1 microsecond'"
        "      OR (screened_at = timestamptz 'epoch' + $3::int8 * interval '1 microsecond'"
        "          AND id > $4::uuid))"
        " ORDER BY screened_at DESC, id LIMIT $2::int", 4, params);
}

PGresult *
store_patient_screened_at (meso_db_t *db, const char *patient_id)
{
    const char *params[] = { patient_id };
    return meso_db_query (db, "SELECT DISTINCT clinic_id FROM screening.screenings"
                          " WHERE patient_id = $1::uuid ORDER BY clinic_id", 1, params);
}

uint8_t *
store_bytea (const PGresult *res, int row, int col, size_t *len)
{
    return PQunescapeBytea ((const unsigned char *) PQgetvalue (res, row, col), len);
}

PGresult *
store_changes_since (meso_db_t *db, const char *patient_id, int64_t since_us)
{
    char since[24];
    snprintf (since, sizeof since, "%" PRId64, since_us);
    const char *params[] = { patient_id, since_us == INT64_MIN ? NULL : since };
    return meso_db_query (db,
        "SELECT coalesce (changes::text, '{}'), coalesce (note, ''), " US_OF ("reported_at") ","
        " ineligible, sealed"
        " FROM screening.patient_changes WHERE patient_id = $1::uuid"
        " AND ($2::int8 IS NULL OR reported_at > timestamptz 'epoch' + $2::int8 * interval '1 microsecond')"
        " ORDER BY reported_at, id", 2, params);
}

int
store_change_insert (meso_db_t *db, const store_patient_t *p, const char *const *codes,
                     size_t n, const char *note, bool ineligible, int64_t *reported_us)
{
    meso_vault_key_t key;
    if (s_key (db, p, &key) != 0)
        return -1;
    size_t len = 0;
    uint8_t *sealed = personal_change_seal (&key, p->id, codes, n < 16 ? n : 16, note, &len);
    if (!sealed) {
        meso_db_set_error (db, NULL, "out of memory sealing a change");
        return -1;
    }
    const char *values[] = { p->id, (const char *) sealed, ineligible ? "t" : "f" };
    int lengths[] = { 0, (int) len, 0 }, formats[] = { 0, 1, 0 };
    PGresult *res = meso_db_query_bin (db,
        "INSERT INTO screening.patient_changes (patient_id, changes, note, sealed, ineligible)"
        " VALUES ($1::uuid, NULL, NULL, $2, $3) RETURNING " US_OF ("reported_at"),
        3, values, lengths, formats);
    free (sealed);
    if (!res)
        return -1;
    *reported_us = strtoll (PQgetvalue (res, 0, 0), NULL, 10);
    PQclear (res);
    return 0;
}

size_t
store_split_codes (const char *value, char *buf, size_t bufsize, const char **out, size_t max)
{
    s_copy (buf, bufsize, value);
    char *p = buf;
    if (*p == '{')
        p++;
    size_t n = 0;
    while (*p && *p != '}' && n < max) {
        out[n++] = p;
        while (*p && *p != ',' && *p != '}')
            p++;
        if (!*p)
            break;
        char sep = *p;
        *p++ = '\0';
        if (sep == '}')
            break;
    }
    return n;
}
