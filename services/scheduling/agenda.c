/* agenda.c -- GetAgenda: a clinic's sessions over local days for the
 * front desk, with who, where, and whether each can go ahead.
 *
 * One page is one statement here (store_agenda: sessions with their
 * practitioner and room names, local start and end in the clinic's zone,
 * keyset-paged by start and appointment id), then one call to screening
 * for the page's patients (screening.GetPatients: names from the patient
 * record, screening and consent state) and one to inventory
 * (inventory.ListAtRisk: the reservations a recall left short): never a
 * call per row. A peer that does not answer leaves its columns "unknown"
 * and a line in the reply's warnings rather than failing the page: the
 * front desk still sees who is booked where.
 *
 * The local times are PostgreSQL's (AT TIME ZONE): on a day with a clock
 * change the sessions keep their wall times on both sides, and the page's
 * day bounds are local midnights (scheduling.local_instant). */
#include "meso/audit.h"
#include "scheduling.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/mtime.h"
#include "meso/page.h"

#define AGENDA_LIST "scheduling.GetAgenda"
#define AGENDA_PAGE_DEFAULT 100
#define AGENDA_PAGE_MAX 500
#define AGENDA_DAYS_MAX 31

/* "+HH:MM" of an offset in seconds. */
static void
s_offset (int seconds, char *out, size_t size)
{
    int a = seconds < 0 ? -seconds : seconds;
    snprintf (out, size, "%c%02d:%02d", seconds < 0 ? '-' : '+', a / 3600, (a / 60) % 60);
}

/* Validates the request; fills the days. 0, or -1 with reply set. */
static int
s_validate (const Meso__V1__GetAgendaRequest *in, meso_reply_t *reply, char *to, meso_page_pos_t *pos)
{
    int bad = 0;
    int32_t from_day = 0, to_day = 0;
    sched_need_id (reply, &bad, "clinic_id", in->clinic_id);
    if (!in->date || !*in->date)
        sched_bad (reply, &bad, "missing_field", "date", "required");
    else if (meso_date_parse (in->date, &from_day) != 0)
        sched_bad (reply, &bad, "invalid_date", "date", "must be \"YYYY-MM-DD\"");
    if (in->to_date && *in->to_date) {
        if (meso_date_parse (in->to_date, &to_day) != 0)
            sched_bad (reply, &bad, "invalid_date", "to_date", "must be \"YYYY-MM-DD\"");
        else if (!bad && to_day < from_day)
            sched_bad (reply, &bad, "end_before_start", "to_date", "must not be before date");
        else if (!bad && to_day - from_day >= AGENDA_DAYS_MAX)
            sched_bad (reply, &bad, "out_of_range", "to_date", "at most 31 days from date (ask again for more)");
    }
    else
        to_day = from_day;
    if (in->practitioner_id && *in->practitioner_id)
        sched_need_id (reply, &bad, "practitioner_id", in->practitioner_id);
    if (in->room_id && *in->room_id)
        sched_need_id (reply, &bad, "room_id", in->room_id);
    if (meso_page_token_decode (AGENDA_LIST, in->page_token, 2, pos) != 0
        || (pos->n == 2 && (strspn (pos->key[0], "-0123456789") != strlen (pos->key[0])
                            || strlen (pos->key[1]) > SCHED_ID_MAX)))
        sched_bad (reply, &bad, "invalid_page_token", "page_token",
                   "not a page token of this agenda: ask again without it");
    if (bad)
        return -1;
    meso_date_format (to_day, to, 11);
    return 0;
}

/* Whether id has the shape of a UUID, the patient ids screening makes:
 * only those are asked of screening (an id of another shape would have
 * the whole batch refused). */
static bool
s_uuid_shaped (const char *id)
{
    if (strlen (id) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? id[i] != '-' : !strchr ("0123456789abcdefABCDEF", id[i]))
            return false;
    }
    return true;
}

/* The entry for the patient of row i from screening's answer (NULL: not
 * asked or no answer). */
static void
s_patient (Meso__V1__AgendaEntry *e, const Meso__V1__GetPatientsReply *pr)
{
    e->patient_given_name = "";
    e->patient_family_name = "";
    e->screening_state = MESO__V1__SCREENING_STATE__SCREENING_STATE_UNKNOWN;
    e->screening_valid_until = "";
    e->consent_state = MESO__V1__CONSENT_STATE__CONSENT_STATE_UNKNOWN;
    if (!pr)
        return;
    for (size_t k = 0; k < pr->n_patients; k++) {
        const Meso__V1__PatientSummary *s = pr->patients[k];
        if (strcmp (s->patient_id, e->patient_id) != 0)
            continue;
        if (!s->found) {
            e->screening_state = MESO__V1__SCREENING_STATE__SCREENING_STATE_NONE;
            e->consent_state = MESO__V1__CONSENT_STATE__CONSENT_STATE_NONE;
            return;
        }
        e->patient_given_name = s->given_name;
        e->patient_family_name = s->family_name;
        e->screening_state = s->screening_state;
        e->screening_valid_until = s->screening_valid_until;
        e->consent_state = s->consent_state;
        return;
    }
}

static Meso__V1__AgendaStockState
s_stock (Meso__V1__SessionStatus status, const char *appt, const Meso__V1__ListAtRiskReply *risk, bool asked)
{
    if (status == MESO__V1__SESSION_STATUS__SESSION_STATUS_PENDING)
        return MESO__V1__AGENDA_STOCK_STATE__AGENDA_STOCK_STATE_RESERVING;
    if (status != MESO__V1__SESSION_STATUS__SESSION_STATUS_BOOKED
        && status != MESO__V1__SESSION_STATUS__SESSION_STATUS_ON_HOLD
        && status != MESO__V1__SESSION_STATUS__SESSION_STATUS_STARTED)
        return MESO__V1__AGENDA_STOCK_STATE__AGENDA_STOCK_STATE_NONE;
    if (!asked)
        return MESO__V1__AGENDA_STOCK_STATE__AGENDA_STOCK_STATE_UNKNOWN;
    for (size_t k = 0; risk && k < risk->n_sessions; k++)
        if (strcmp (risk->sessions[k]->appointment_id, appt) == 0)
            return MESO__V1__AGENDA_STOCK_STATE__AGENDA_STOCK_STATE_AT_RISK;
    return MESO__V1__AGENDA_STOCK_STATE__AGENDA_STOCK_STATE_HELD;
}

void
agenda_get (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    (void) req;
    scheduling_t *self = arg;
    Meso__V1__GetAgendaRequest *in = body;
    char to[11];
    meso_page_pos_t pos;
    if (s_validate (in, reply, to, &pos) != 0)
        return;
    store_clinic_t clinic;
    if (sched_clinic_load (self, in->clinic_id, "clinic_id", &clinic, reply) != 0)
        return;
    uint32_t size = meso_page_size (in->page_size, AGENDA_PAGE_DEFAULT, AGENDA_PAGE_MAX);
    store_agenda_query_t q = { in->clinic_id, in->date, to, in->practitioner_id, in->room_id,
                               in->include_cancelled, pos.n ? pos.key[0] : NULL,
                               pos.n ? pos.key[1] : NULL, (int) size + 1, clinic.time_zone };
    PGresult *res = store_agenda (self->db, &q);
    if (!res) {
        meso_reply_db_error (reply, self->db, "agenda");
        return;
    }
    size_t n = (size_t) PQntuples (res);
    bool more = n > size;
    if (more)
        n = size;
    Meso__V1__AgendaEntry *items = calloc (n + 1, sizeof *items);
    Meso__V1__AgendaEntry **ptrs = calloc (n + 1, sizeof *ptrs);
    char **areas = calloc ((n + 1) * SCHED_MAX_AREAS, sizeof *areas);
    char **ids = calloc (n + 1, sizeof *ids);
    char (*offsets)[12] = calloc (n + 1, sizeof *offsets);
    Meso__V1__GetPatientsReply *patients = NULL;
    Meso__V1__ListAtRiskReply *risk = NULL;
    if (!items || !ptrs || !areas || !ids || !offsets) {
        meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED, "out of memory");
        goto done;
    }
    /* The page's distinct patients, for one call to screening. */
    size_t nids = 0;
    bool holds_stock = false;
    for (size_t i = 0; i < n; i++) {
        char *pid = PQgetvalue (res, (int) i, AG_PATIENT);
        bool seen = !s_uuid_shaped (pid);
        for (size_t k = 0; k < nids && !seen; k++)
            seen = strcmp (ids[k], pid) == 0;
        if (!seen)
            ids[nids++] = pid;
        const char *st = PQgetvalue (res, (int) i, AG_STATUS);
        holds_stock |= strcmp (st, "booked") == 0 || strcmp (st, "on_hold") == 0 || strcmp (st, "started") == 0;
    }
    char *warnings[2];
    char w_scr[340] = "", w_inv[340] = "", why[256] = "";
    size_t nw = 0;
    if (nids > 0) {
        patients = peers_patients (self, in->clinic_id, in->date, ids, nids, why, sizeof why);
        if (!patients) {
            snprintf (w_scr, sizeof w_scr, "screening did not answer (%s): patient names and states unknown", why);
            warnings[nw++] = w_scr;
        }
    }
    if (holds_stock) {
        risk = peers_at_risk (self, in->clinic_id, in->date, why, sizeof why);
        if (!risk) {
            snprintf (w_inv, sizeof w_inv, "inventory did not answer (%s): stock state unknown", why);
            warnings[nw++] = w_inv;
        }
    }
    for (size_t i = 0; i < n; i++) {
        int r = (int) i;
        Meso__V1__AgendaEntry *e = &items[i];
        meso__v1__agenda_entry__init (e);
        ptrs[i] = e;
        e->appointment_id = PQgetvalue (res, r, AG_APPT);
        e->course_id = PQgetvalue (res, r, AG_COURSE);
        e->session_number = (uint32_t) atoi (PQgetvalue (res, r, AG_NUMBER));
        e->course_sessions = (uint32_t) atoi (PQgetvalue (res, r, AG_COURSE_SESSIONS));
        e->starts_at_us = strtoll (PQgetvalue (res, r, AG_START), NULL, 10);
        e->ends_at_us = strtoll (PQgetvalue (res, r, AG_END), NULL, 10);
        e->local_start = PQgetvalue (res, r, AG_LOCAL_START);
        e->local_end = PQgetvalue (res, r, AG_LOCAL_END);
        s_offset (atoi (PQgetvalue (res, r, AG_OFFSET_S)), offsets[i], sizeof offsets[i]);
        e->utc_offset = offsets[i];
        e->practitioner_id = PQgetvalue (res, r, AG_PRACT);
        e->practitioner_name = PQgetvalue (res, r, AG_PRACT_NAME);
        e->room_id = PQgetvalue (res, r, AG_ROOM);
        e->room_name = PQgetvalue (res, r, AG_ROOM_NAME);
        e->patient_id = PQgetvalue (res, r, AG_PATIENT);
        e->status = meso_enum_from_db (&meso__v1__session_status__descriptor, PQgetvalue (res, r, AG_STATUS),
                                       "session status");
        e->n_areas = rows_split (PQgetvalue (res, r, AG_AREAS), &areas[i * SCHED_MAX_AREAS], SCHED_MAX_AREAS);
        e->areas = &areas[i * SCHED_MAX_AREAS];
        e->stock_state = s_stock (e->status, e->appointment_id, risk, risk != NULL);
        s_patient (e, patients);
    }
    Meso__V1__GetAgendaReply out = MESO__V1__GET_AGENDA_REPLY__INIT;
    out.clinic_id = clinic.clinic_id;
    out.time_zone = clinic.time_zone;
    out.entries = ptrs;
    out.n_entries = n;
    out.warnings = warnings;
    out.n_warnings = nw;
    size_t fit = meso_page_fit (&out.base, &out.n_entries, MESO_PAGE_REPLY_LIMIT);
    /* The audit trail: one row per patient on the page. */
    for (size_t i = 0; i < fit; i++)
        meso_call_patient (items[i].patient_id, clinic.clinic_id);
    if (fit == 0)
        meso_call_patient (NULL, NULL);
    char token[MESO_PAGE_TOKEN_MAX] = "";
    if (fit < n)
        more = true;
    if (more && fit > 0) {
        char us[32];
        snprintf (us, sizeof us, "%lld", (long long) items[fit - 1].starts_at_us);
        const char *keys[] = { us, items[fit - 1].appointment_id };
        meso_page_token_encode (AGENDA_LIST, keys, 2, token, sizeof token);
    }
    out.next_page_token = token;
    meso_reply_ok (reply, &out.base);
done:
    if (patients)
        meso__v1__get_patients_reply__free_unpacked (patients, NULL);
    if (risk)
        meso__v1__list_at_risk_reply__free_unpacked (risk, NULL);
    free (items);
    free (ptrs);
    free (areas);
    free (ids);
    free (offsets);
    PQclear (res);
}
