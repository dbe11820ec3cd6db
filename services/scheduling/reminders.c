/* reminders.c -- a clinic's front-desk settings (SetFrontDeskPolicy) and
 * the session reminders: session.reminder_due at each of the clinic's
 * leads before a booked session (48 h and 2 h unless the clinic set
 * others), once each.
 *
 * A timer of main.c (every --frontdesk-ms) asks for the booked sessions
 * with a lead due and not decided (store_frontdesk.c); frontdesk.c decides
 * in the clinic's wall-clock time which one goes out. Each decision is a
 * row of scheduling.reminder_sent, keyed by session, lead and start, in
 * the same transaction as the session.reminder_due it stands for, with
 * the session's row locked and checked still booked at that start: so a
 * reminder goes out once across restarts and instances, a reminder that
 * fell due while the daemon was down goes out when it is back (unless the
 * session started: none then), a cancelled session gets none, and a
 * rescheduled one gets those of its new time.
 *
 * The event carries what a message to the patient needs besides the
 * contact details (screening's patient record, not copied into the event
 * log): the session, the clinic, practitioner and room by name, the local
 * time, and the pre-session instructions of the patient's screening
 * (screening.GetInstructions), split into those every patient gets and
 * those that say something of this patient's health (health_instructions,
 * removed from the feed of a subscriber without health access). A
 * screening that cannot be asked leaves the reminder for the next tick. */
#include "scheduling.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.pb-c.h"
#include "frontdesk.h"
#include "meso/log.h"
#include "meso/outbox.h"
#include "screening.pb-c.h"

/* ------------------------------------------------- SetFrontDeskPolicy */

typedef struct {
    Meso__V1__FrontDeskPolicy *in;
    char leads[FRONTDESK_MAX_LEADS * 8 + 4];
} s_policy_t;

/* The reply: the policy as stored. */
static int
s_policy_reply (meso_db_t *db, const char *clinic_id, meso_reply_t *reply)
{
    char leads[256];
    int hold = 0;
    if (store_frontdesk_policy_get (db, clinic_id, leads, sizeof leads, &hold) != 1)
        return -1;
    uint32_t l[FRONTDESK_MAX_LEADS];
    size_t n = 0;
    for (char *p = leads; *p && n < FRONTDESK_MAX_LEADS;) {
        l[n++] = (uint32_t) strtoul (p, &p, 10);
        if (*p == ',')
            p++;
    }
    Meso__V1__FrontDeskPolicy pol = MESO__V1__FRONT_DESK_POLICY__INIT;
    pol.clinic_id = (char *) clinic_id;
    pol.reminder_lead_minutes = l;
    pol.n_reminder_lead_minutes = n;
    pol.offer_hold_minutes = (uint32_t) hold;
    Meso__V1__FrontDeskPolicyReply out = MESO__V1__FRONT_DESK_POLICY_REPLY__INIT;
    out.policy = &pol;
    meso_reply_ok (reply, &out.base);
    return 0;
}

static int
s_policy_effect (meso_db_t *db, sched_job_t *job)
{
    s_policy_t *p = job->in;
    if (store_frontdesk_policy_set (db, p->in->clinic_id, p->leads, (int) p->in->offer_hold_minutes) != 0)
        return -1;
    return s_policy_reply (db, p->in->clinic_id, job->reply);
}

void
reminders_set_policy (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    scheduling_t *self = arg;
    Meso__V1__SetFrontDeskPolicyRequest *in = body;
    int bad = 0;
    if (!in->policy) {
        sched_bad (reply, &bad, "missing_field", "policy", "required");
        return;
    }
    Meso__V1__FrontDeskPolicy *p = in->policy;
    sched_need_id (reply, &bad, "policy.clinic_id", p->clinic_id);
    size_t at = 0;
    if (!frontdesk_leads_ok (p->reminder_lead_minutes, p->n_reminder_lead_minutes, &at)) {
        char f[64];
        snprintf (f, sizeof f, "policy.reminder_lead_minutes[%zu]", at);
        sched_bad (reply, &bad, "out_of_range", at >= FRONTDESK_MAX_LEADS ? "policy.reminder_lead_minutes" : f,
                   "at most 8 distinct leads of 1..20160 minutes");
    }
    if (p->offer_hold_minutes > 1440)
        sched_bad (reply, &bad, "out_of_range", "policy.offer_hold_minutes", "1..1440 (0: the daemon's default)");
    store_clinic_t clinic;
    if (bad || sched_clinic_load (self, p->clinic_id, "policy.clinic_id", &clinic, reply) != 0)
        return;
    s_policy_t x = { p, "{" };
    for (size_t i = 0; i < p->n_reminder_lead_minutes; i++)
        snprintf (x.leads + strlen (x.leads), sizeof x.leads - strlen (x.leads), "%s%u", i ? "," : "",
                  p->reminder_lead_minutes[i]);
    snprintf (x.leads + strlen (x.leads), sizeof x.leads - strlen (x.leads), "}");
    sched_run (self, req, reply, &x, s_policy_effect);
}

/* ---------------------------------------------------------- reminders */

typedef struct {
    const char *appointment_id, *clinic_id;
    int64_t starts_us;
    const int *leads;
    int n;
    const frontdesk_action_t *act;
    const char *local_start;
    const Meso__V1__GetInstructionsReply *ins;
    int sent;
} s_remind_t;

static int
s_remind_txn (meso_db_t *db, void *arg)
{
    s_remind_t *x = arg;
    x->sent = 0;
    /* Still booked at the time the reminders were computed for. */
    PGresult *res = store_session_get (db, x->appointment_id, true);
    if (!res)
        return -1;
    if (PQntuples (res) != 1 || strcmp (PQgetvalue (res, 0, SC_STATUS), "booked") != 0
        || strtoll (PQgetvalue (res, 0, SC_START), NULL, 10) != x->starts_us) {
        PQclear (res);
        return 0;
    }
    PGresult *names = store_reminder_names (db, x->appointment_id);
    if (!names || PQntuples (names) != 1) {
        PQclear (res);
        PQclear (names);
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < x->n && rc == 0; i++) {
        if (x->act[i] == FRONTDESK_WAIT)
            continue;
        bool send = x->act[i] == FRONTDESK_SEND;
        int got = store_reminder_decide (db, x->clinic_id, x->appointment_id, x->leads[i], x->starts_us, send);
        if (got < 0)
            rc = -1;
        if (got != 1 || !send)
            continue;           /* decided before (another instance): its event went with it */
        Meso__V1__SessionInfo info;
        char *areas[SCHED_MAX_AREAS];
        rows_info (res, 0, &info, areas);
        char due[32];
        frontdesk_due_local (x->local_start, x->leads[i], due, sizeof due);
        Meso__V1__SessionReminderDue rd = MESO__V1__SESSION_REMINDER_DUE__INIT;
        rd.session = &info;
        rd.lead_minutes = (uint32_t) x->leads[i];
        rd.due_local = due;
        rd.clinic_name = PQgetvalue (names, 0, 0);
        rd.practitioner_name = PQgetvalue (names, 0, 1);
        rd.room_name = PQgetvalue (names, 0, 2);
        rd.instructions = x->ins->instructions;
        rd.n_instructions = x->ins->n_instructions;
        rd.health_instructions = x->ins->health_instructions;
        rd.n_health_instructions = x->ins->n_health_instructions;
        Meso__V1__Event ev = MESO__V1__EVENT__INIT;
        ev.type = "session.reminder_due";
        ev.clinic_id = info.clinic_id;
        ev.payload_case = MESO__V1__EVENT__PAYLOAD_SESSION_REMINDER_DUE;
        ev.session_reminder_due = &rd;
        if (meso_outbox_append (db, &ev) != 0)
            rc = -1;
        else
            x->sent++;
    }
    PQclear (names);
    PQclear (res);
    return rc;
}

/* Splits "a,b" of integers into out (at most max). */
static int
s_ints (const char *text, int *out, int max)
{
    int n = 0;
    const char *p = text;
    while (*p && n < max) {
        char *end;
        long v = strtol (p, &end, 10);
        if (end == p)
            break;
        out[n++] = (int) v;
        p = *end == ',' ? end + 1 : end;
    }
    return n;
}

int
reminders_tick (scheduling_t *self, int limit)
{
    PGresult *res = store_reminder_candidates (self->db, limit);
    if (!res)
        return -1;
    int sent = 0;
    for (int r = 0; r < PQntuples (res); r++) {
        int leads[FRONTDESK_MAX_LEADS], decided_leads[64];
        int n = s_ints (PQgetvalue (res, r, 5), leads, FRONTDESK_MAX_LEADS);
        int nd = s_ints (PQgetvalue (res, r, 6), decided_leads, 64);
        bool decided[FRONTDESK_MAX_LEADS];
        for (int i = 0; i < n; i++) {
            decided[i] = false;
            for (int k = 0; k < nd; k++)
                decided[i] = decided[i] || decided_leads[k] == leads[i];
        }
        frontdesk_action_t act[FRONTDESK_MAX_LEADS];
        const char *local_start = PQgetvalue (res, r, 3);
        int want = frontdesk_reminders (leads, n, decided, local_start, PQgetvalue (res, r, 4), act);
        if (want < 0)
            continue;
        Meso__V1__GetInstructionsReply *ins = NULL;
        Meso__V1__GetInstructionsReply none = MESO__V1__GET_INSTRUCTIONS_REPLY__INIT;
        bool unreachable = false;
        if (want > 0 && !(ins = peers_instructions (self, PQgetvalue (res, r, 2), &unreachable))) {
            /* Screening did not answer: the rest waits for the next tick.
             * Asking for every candidate would hold the daemon (it serves
             * requests between ticks) for a deadline per session. */
            if (unreachable)
                break;
            continue;
        }
        s_remind_t x = { PQgetvalue (res, r, 0), PQgetvalue (res, r, 1), strtoll (PQgetvalue (res, r, 7), NULL, 10),
                         leads, n, act, local_start, ins ? ins : &none, 0 };
        if (meso_db_txn (self->db, MESO_DB_READ_COMMITTED, s_remind_txn, &x) != 0)
            meso_warn ("reminder of appointment %s not written: %s", x.appointment_id,
                       meso_db_error (self->db)->message);
        else
            sent += x.sent;
        if (ins)
            meso__v1__get_instructions_reply__free_unpacked (ins, NULL);
    }
    PQclear (res);
    return sent;
}
