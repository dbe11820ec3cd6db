/* search.c -- finding patients: SearchPatients (the front desk's search
 * by name, birth date, phone or e-mail), GetPatients (a page of an
 * agenda's patients with their screening and consent state, in one
 * call), and the blind index kept with every patient.
 *
 * The search never reads a personal field: it hashes what was typed with
 * the chain's search key (search_norm.c) and asks screening.patient_search
 * (migration 027) for the patients holding every hash, then reads those
 * patients the normal way (store_patients_get_many), as any read of a
 * patient does. The index rows of a patient are replaced in the
 * transaction of RegisterPatient and UpdatePatient (patients.c calls
 * screening_search_index), so a search sees a patient as soon as its
 * registration commits; patients registered before the index existed
 * are indexed at start (screening_search_backfill).
 *
 * The key is the file search.key (64 hex digits) in the keys folder,
 * made by "mesoctl keys init" beside the CURVE keys. Without it the
 * daemon does not start: a patient registered without index rows would
 * be missing from every search. */
#include "meso/audit.h"
#include "screening.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/log.h"
#include "meso/mtime.h"
#include "meso/page.h"

#define SEARCH_PAGE_DEFAULT 50
#define SEARCH_PAGE_MAX 200
#define GET_PATIENTS_MAX 500
#define SEARCH_LIST "screening.SearchPatients"
#define DEFAULT_TREATMENT "body_mesotherapy"

int
screening_search_key_load (screening_t *self, const char *path, const char *keys_dir)
{
    char file[1200];
    if (path && *path)
        snprintf (file, sizeof file, "%s", path);
    else
        snprintf (file, sizeof file, "%s/search.key", keys_dir ? keys_dir : ".");
    FILE *f = fopen (file, "r");
    char text[160] = "";
    if (f) {
        if (!fgets (text, sizeof text, f))
            text[0] = '\0';
        fclose (f);
    }
    if (!f || search_key_parse (text, self->search_key) != 0) {
        meso_error ("no patient search key in %s (64 hex digits): run \"mesoctl keys init --dir %s\"",
                    file, keys_dir && *keys_dir ? keys_dir : "<keys folder>");
        return -1;
    }
    return 0;
}

int
screening_search_index (screening_t *self, meso_db_t *db, const store_patient_t *p)
{
    /* An erased patient is found by nobody: no rows (the backfill would
     * otherwise index its placeholders). */
    if (p->erased)
        return store_search_forget (db, p->id);
    search_token_t t[SEARCH_TOKENS_MAX];
    size_t n = search_index_tokens (self->search_key, p->given_name, p->family_name, p->birth_date,
                                    p->phone, p->email, t, SEARCH_TOKENS_MAX);
    return store_search_replace (db, p->id, p->home_clinic_id, t, n);
}

typedef struct {
    screening_t *self;
    PGresult *ids;
    int indexed;
} s_backfill_t;

static int
s_backfill_txn (meso_db_t *db, void *arg)
{
    s_backfill_t *b = arg;
    b->indexed = 0;
    for (int i = 0; i < PQntuples (b->ids); i++) {
        store_patient_t p;
        int found = store_patient_get (db, PQgetvalue (b->ids, i, 0), true, &p);
        if (found < 0)
            return -1;
        if (found == 0)
            continue;
        if (screening_search_index (b->self, db, &p) != 0)
            return -1;
        if (!p.erased)
            b->indexed++;               /* an erased one is only forgotten */
    }
    return 0;
}

int
screening_search_backfill (screening_t *self)
{
    int total = 0;
    for (;;) {
        PGresult *ids = store_search_unindexed (self->db, 500);
        if (!ids)
            return -1;
        if (PQntuples (ids) == 0) {
            PQclear (ids);
            break;
        }
        s_backfill_t b = { self, ids, 0 };
        int rc = meso_db_txn (self->db, MESO_DB_READ_COMMITTED, s_backfill_txn, &b);
        PQclear (ids);
        if (rc != 0)
            return -1;
        total += b.indexed;
        if (b.indexed == 0)
            break;
    }
    if (total > 0)
        meso_info ("patient search: indexed %d patients registered before the index", total);
    return total;
}

/* The patients of ids (uuid text, n of them) in that order, read the
 * normal way; rows[i] NULL when not found. *store receives the storage
 * (free it). Returns 0 or -1 (database error). */
static int
s_read_patients (meso_db_t *db, char **ids, size_t n, store_patient_t **store, store_patient_t **rows)
{
    *store = NULL;
    if (n == 0)
        return 0;
    size_t size = n * 38 + 4;
    char *lit = malloc (size);
    store_patient_t *got = calloc (n, sizeof *got);
    if (!lit || !got) {
        free (lit);
        free (got);
        meso_db_set_error (db, NULL, "out of memory");
        return -1;
    }
    size_t used = 0;
    lit[used++] = '{';
    for (size_t i = 0; i < n; i++)
        used += (size_t) snprintf (lit + used, size - used, "%s%s", i ? "," : "", ids[i]);
    snprintf (lit + used, size - used, "}");
    int m = store_patients_get_many (db, lit, got, n);
    free (lit);
    if (m < 0) {
        free (got);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        rows[i] = NULL;
        for (int j = 0; j < m; j++)
            if (strcasecmp (got[j].id, ids[i]) == 0) {
                rows[i] = &got[j];
                break;
            }
    }
    *store = got;
    return 0;
}

void
screening_search_patients (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    screening_t *self = arg;
    Meso__V1__SearchPatientsRequest *rq = body;
    rules_reasons_t bad = { .n = 0 };
    screening_need_clinic (&bad, "clinic_id", rq->clinic_id, true);
    const char *name = rq->name ? rq->name : "";
    const char *birth = rq->birth_date ? rq->birth_date : "";
    const char *phone = rq->phone ? rq->phone : "";
    const char *email = rq->email ? rq->email : "";
    if (!*name && !*birth && !*phone && !*email)
        rules_reason_add (&bad, true, "missing_field", "name",
                          "give at least one of name, birth_date, phone, email.");
    if (strlen (name) > 200)
        rules_reason_add (&bad, true, "too_long", "name", "name must be at most 200 bytes.");
    int32_t day;
    if (*birth && meso_date_parse (birth, &day) != 0)
        rules_reason_add (&bad, true, "invalid_date", "birth_date", "birth_date must be \"YYYY-MM-DD\".");
    char digits[80];
    if (*phone && (strlen (phone) > 64 || search_digits (phone, digits, sizeof digits) < SEARCH_PHONE_MIN))
        rules_reason_add (&bad, true, "invalid_phone", "phone",
                          "phone must hold at least %d digits (at most 64 bytes).", SEARCH_PHONE_MIN);
    if (*email && (strlen (email) > 254 || !strchr (email, '@')))
        rules_reason_add (&bad, true, "invalid_email", "email",
                          "email must contain '@' (at most 254 bytes).");
    meso_page_pos_t pos;
    rules_reasons_t key_bad = { .n = 0 };
    int decoded = meso_page_token_decode (SEARCH_LIST, rq->page_token, 1, &pos);
    if (decoded == 0 && pos.n == 1)
        screening_need_patient_id (&key_bad, "page_token", pos.key[0]);
    if (decoded != 0 || key_bad.n > 0)
        rules_reason_add (&bad, true, "invalid_page_token", "page_token",
                          "page_token is not one of this search's: start again without it.");
    search_token_t t[64];
    int nt = 0;
    if (bad.n == 0) {
        nt = search_query_tokens (self->search_key, name, birth, phone, email, t, 64);
        if (nt < 0)
            rules_reason_add (&bad, true, "too_many_words", "name", "name may hold at most %d words.",
                              SEARCH_WORDS_MAX);
        else if (nt == 0)
            rules_reason_add (&bad, true, "missing_field", "name",
                              "name holds no letter or digit to search for.");
    }
    if (screening_invalid (reply, &bad, req->method))
        return;
    uint32_t size = meso_page_size (rq->page_size, SEARCH_PAGE_DEFAULT, SEARCH_PAGE_MAX);
    PGresult *found = store_search_find (self->db, rq->clinic_id, t, (size_t) nt,
                                         pos.n ? pos.key[0] : NULL, (int) size + 1);
    if (!found) {
        meso_reply_db_error (reply, self->db, "cannot search the patients");
        return;
    }
    size_t n = (size_t) PQntuples (found);
    bool more = n > size;
    if (more)
        n = size;
    char *ids[SEARCH_PAGE_MAX + 1];
    for (size_t i = 0; i < n; i++)
        ids[i] = PQgetvalue (found, (int) i, 0);
    store_patient_t *store = NULL, *rows[SEARCH_PAGE_MAX + 1];
    Meso__V1__Patient *pb = calloc (n + 1, sizeof *pb);
    Meso__V1__Patient **pp = calloc (n + 1, sizeof *pp);
    if (!pb || !pp)
        meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED, "out of memory");
    else if (s_read_patients (self->db, ids, n, &store, rows) != 0)
        meso_reply_db_error (reply, self->db, "cannot read the patients found");
    else {
        /* A patient erased between the index and the read is left out. */
        size_t k = 0;
        const char *last = NULL;
        for (size_t i = 0; i < n; i++) {
            last = ids[i];
            if (!rows[i])
                continue;
            screening_patient_proto (rows[i], &pb[k]);
            pp[k] = &pb[k];
            k++;
        }
        Meso__V1__SearchPatientsReply out = MESO__V1__SEARCH_PATIENTS_REPLY__INIT;
        out.patients = pp;
        out.n_patients = k;
        size_t fit = meso_page_fit (&out.base, &out.n_patients, MESO_PAGE_REPLY_LIMIT);
        /* The audit trail: one row per patient found on the page. */
        for (size_t i = 0; i < fit; i++)
            meso_call_patient (pp[i]->id, pp[i]->home_clinic_id);
        if (fit == 0)
            meso_call_patient (NULL, NULL);
        char token[MESO_PAGE_TOKEN_MAX] = "";
        if (fit < k) {
            more = true;
            last = fit ? pp[fit - 1]->id : NULL;
        }
        if (more && last) {
            const char *keys[] = { last };
            meso_page_token_encode (SEARCH_LIST, keys, 1, token, sizeof token);
        }
        out.next_page_token = token;
        meso_reply_ok (reply, &out.base);
    }
    free (store);
    free (pb);
    free (pp);
    PQclear (found);
}

void
screening_get_patients (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    screening_t *self = arg;
    Meso__V1__GetPatientsRequest *rq = body;
    rules_reasons_t bad = { .n = 0 };
    screening_need_clinic (&bad, "clinic_id", rq->clinic_id, true);
    if (rq->n_patient_ids == 0 || rq->n_patient_ids > GET_PATIENTS_MAX)
        rules_reason_add (&bad, true, "out_of_range", "patient_ids",
                          "patient_ids must hold 1 to %d ids.", GET_PATIENTS_MAX);
    for (size_t i = 0; i < rq->n_patient_ids && i < GET_PATIENTS_MAX; i++) {
        char field[40];
        snprintf (field, sizeof field, "patient_ids[%zu]", i);
        screening_need_patient_id (&bad, field, rq->patient_ids[i]);
    }
    int32_t day;
    char date[16];
    if (rq->date && *rq->date) {
        if (meso_date_parse (rq->date, &day) != 0)
            rules_reason_add (&bad, true, "invalid_date", "date", "date must be \"YYYY-MM-DD\".");
        snprintf (date, sizeof date, "%s", rq->date);
    }
    else
        meso_date_format ((int32_t) (meso_time_now_us () / 86400000000LL), date, sizeof date);
    const char *treatment = rq->treatment && *rq->treatment ? rq->treatment : DEFAULT_TREATMENT;
    if (!rules_code_valid (treatment))
        rules_reason_add (&bad, true, "invalid_code", "treatment", "treatment must be a code.");
    if (screening_invalid (reply, &bad, req->method))
        return;
    size_t n = rq->n_patient_ids;
    store_patient_t *store = NULL;
    store_patient_t **rows = calloc (n, sizeof *rows);
    Meso__V1__PatientSummary *ps = calloc (n, sizeof *ps);
    Meso__V1__PatientSummary **pp = calloc (n, sizeof *pp);
    char *lit = malloc (n * 38 + 4);
    PGresult *st = NULL;
    if (!rows || !ps || !pp || !lit) {
        meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED, "out of memory");
        goto done;
    }
    if (s_read_patients (self->db, rq->patient_ids, n, &store, rows) != 0) {
        meso_reply_db_error (reply, self->db, "cannot read the patients");
        goto done;
    }
    size_t used = 0;
    lit[used++] = '{';
    for (size_t i = 0; i < n; i++)
        used += (size_t) sprintf (lit + used, "%s%s", i ? "," : "", rq->patient_ids[i]);
    strcpy (lit + used, "}");
    st = store_patients_state (self->db, lit, rq->clinic_id, treatment, date);
    if (!st) {
        meso_reply_db_error (reply, self->db, "cannot read the screening and consent states");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        Meso__V1__PatientSummary *s = &ps[i];
        meso__v1__patient_summary__init (s);
        pp[i] = s;
        s->patient_id = rq->patient_ids[i];
        if (!rows[i])
            continue;
        s->found = true;
        s->given_name = rows[i]->given_name;
        s->family_name = rows[i]->family_name;
        s->birth_date = rows[i]->birth_date;
        s->home_clinic_id = rows[i]->home_clinic_id;
        /* unnest keeps the order of the ids: row i is id i */
        int r = (int) i;
        if (r >= PQntuples (st))
            continue;
        char *verdict = PQgetvalue (st, r, 1);
        s->screening_valid_until = PQgetvalue (st, r, 2);
        if (!*verdict)
            s->screening_state = MESO__V1__SCREENING_STATE__SCREENING_STATE_NONE;
        else if (strcmp (PQgetvalue (st, r, 4), "t") == 0)
            s->screening_state = MESO__V1__SCREENING_STATE__SCREENING_STATE_CHANGED;
        else if (strcmp (verdict, "ineligible") != 0 && strcmp (PQgetvalue (st, r, 3), "t") == 0)
            s->screening_state = MESO__V1__SCREENING_STATE__SCREENING_STATE_EXPIRED;
        else
            s->screening_state = meso_enum_from_db (&meso__v1__screening_state__descriptor, verdict,
                                                    "screening verdict");
        int current = atoi (PQgetvalue (st, r, 5)), signed_v = atoi (PQgetvalue (st, r, 6));
        s->consent_state = signed_v == 0 ? MESO__V1__CONSENT_STATE__CONSENT_STATE_NONE
                         : signed_v >= current ? MESO__V1__CONSENT_STATE__CONSENT_STATE_SIGNED
                         : MESO__V1__CONSENT_STATE__CONSENT_STATE_SIGNED_OLDER;
    }
    Meso__V1__GetPatientsReply out = MESO__V1__GET_PATIENTS_REPLY__INIT;
    out.patients = pp;
    out.n_patients = n;
    /* The audit trail: one row per patient read. */
    bool any = false;
    for (size_t i = 0; i < n; i++)
        if (rows[i]) {
            meso_call_patient (rows[i]->id, rows[i]->home_clinic_id);
            any = true;
        }
    if (!any)
        meso_call_patient (NULL, NULL);
    meso_reply_ok (reply, &out.base);
done:
    PQclear (st);
    free (lit);
    free (store);
    free (rows);
    free (ps);
    free (pp);
}
