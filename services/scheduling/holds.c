/* holds.c -- a reported change holds the patient's upcoming sessions:
 * scheduling's consumer of the screening stream (holds_on_event, run by
 * meso_consumer inside the transaction that also advances the cursor in
 * scheduling.event_cursor, so each event has its effect exactly once,
 * across restarts and several instances).
 *
 *   screening.patient_changed with screening_outdated (a change of health
 *     reported with ReportChange, not an edit of contact details): every
 *     booked session of the patient, in any clinic, starting at or after
 *     the report goes on_hold -- slot and stock kept -- and each gets a
 *     session.on_hold event. Earlier sessions are left as they are.
 *   screening.completed (a new screening, necessarily after the report:
 *     the stream is in commit order): eligible, with or without
 *     precautions, puts every held session back to booked
 *     (session.hold_released); ineligible cancels them
 *     (session.cancelled, by BY_SYSTEM, never late), on which inventory
 *     releases their stock and billing charges no fee, as for any
 *     cancellation.
 *
 * One event per session rather than one per patient: every session event
 * carries one SessionInfo, so subscribers (the front desk, reminders,
 * inventory, billing) handle a held session the way they handle any other
 * change of one session, in that session's clinic. The events name the
 * report (its instant and event id) but not what changed: that is health
 * data and stays on the screening stream.
 *
 * The release does not ask screening again: the verdict is in the event,
 * and StartSession asks screening's Check before the session starts
 * anyway (allergies to the recipe, the washout, the validity on the
 * day). Nothing here calls another service: the consumer runs while the
 * daemon may be needed by screening or inventory. Which statuses a hold,
 * a release and a cancellation take and leave is lifecycle.c's; the SQL
 * is store_holds.c's. */
#include "scheduling.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.pb-c.h"
#include "meso/log.h"
#include "meso/outbox.h"

typedef struct {
    const Meso__V1__Event *cause;       /* the screening event */
    lifecycle_change_t change;
    int64_t reported_us;                /* hold */
    const char *screening_id;           /* release, cancel */
    const char *reason;                 /* cancel */
} s_hold_t;

/* Appends the event of one changed session, built from its fresh row. */
static int
s_announce (meso_db_t *db, const char *appointment_id, const s_hold_t *h)
{
    PGresult *res = store_session_get (db, appointment_id, false);
    if (!res)
        return -1;
    if (PQntuples (res) != 1) {
        PQclear (res);
        meso_db_set_error (db, NULL, "appointment %s vanished", appointment_id);
        return -1;
    }
    Meso__V1__SessionInfo info;
    char *areas[SCHED_MAX_AREAS];
    rows_info (res, 0, &info, areas);
    Meso__V1__Event ev = MESO__V1__EVENT__INIT;
    ev.clinic_id = info.clinic_id;
    ev.actor = h->cause->actor;
    Meso__V1__SessionOnHold held = MESO__V1__SESSION_ON_HOLD__INIT;
    Meso__V1__SessionHoldReleased released = MESO__V1__SESSION_HOLD_RELEASED__INIT;
    Meso__V1__SessionCancelled cancelled = MESO__V1__SESSION_CANCELLED__INIT;
    switch (h->change) {
    case LIFECYCLE_HOLD:
        held.session = &info;
        held.reported_at_us = h->reported_us;
        held.change_event_id = h->cause->id ? h->cause->id : "";
        ev.type = "session.on_hold";
        ev.payload_case = MESO__V1__EVENT__PAYLOAD_SESSION_ON_HOLD;
        ev.session_on_hold = &held;
        break;
    case LIFECYCLE_RELEASE:
        released.session = &info;
        released.screening_id = (char *) h->screening_id;
        ev.type = "session.hold_released";
        ev.payload_case = MESO__V1__EVENT__PAYLOAD_SESSION_HOLD_RELEASED;
        ev.session_hold_released = &released;
        break;
    default:
        cancelled.session = &info;
        cancelled.by = MESO__V1__CANCELLED_BY__CANCELLED_BY_SYSTEM;
        cancelled.reason = (char *) h->reason;
        cancelled.notice_hours = strtoll (PQgetvalue (res, 0, SC_NOTICE_H), NULL, 10);
        cancelled.late = false;
        ev.type = "session.cancelled";
        ev.payload_case = MESO__V1__EVENT__PAYLOAD_SESSION_CANCELLED;
        ev.session_cancelled = &cancelled;
        break;
    }
    int rc = meso_outbox_append (db, &ev);
    PQclear (res);
    return rc;
}

/* Applies h to the patient's sessions and announces each. Returns the
 * number changed, or -1. */
static int
s_apply (scheduling_t *self, meso_db_t *db, const char *patient_id, const s_hold_t *h)
{
    PGresult *res;
    if (h->change == LIFECYCLE_HOLD)
        res = store_hold_sessions (db, patient_id, h->reported_us, h->cause->id ? h->cause->id : "");
    else if (h->change == LIFECYCLE_RELEASE)
        res = store_hold_release (db, patient_id);
    else
        res = store_hold_cancel (db, patient_id, h->reason);
    if (!res)
        return -1;
    int n = PQntuples (res);
    for (int i = 0; i < n; i++)
        if (s_announce (db, PQgetvalue (res, i, 0), h) != 0
            || (self && h->change == LIFECYCLE_CANCEL
                && waitlist_offer_freed (self, db, PQgetvalue (res, i, 0), NULL) != 0)) {
            PQclear (res);
            return -1;
        }
    PQclear (res);
    if (n > 0) {
        meso_info ("%s %d session%s of patient %s (event %s)",
                   h->change == LIFECYCLE_HOLD ? "held" : h->change == LIFECYCLE_RELEASE ? "released" : "cancelled",
                   n, n > 1 ? "s" : "", patient_id, h->cause->id ? h->cause->id : "");
        if (self)
            self->holds_applied++;
    }
    return n;
}

int
holds_on_event (meso_db_t *db, const Meso__V1__Event *ev, void *arg)
{
    scheduling_t *self = arg;
    s_hold_t h = { .cause = ev, .screening_id = "", .reason = "" };
    const char *patient = NULL;
    char reason[200];
    switch (ev->payload_case) {
    case MESO__V1__EVENT__PAYLOAD_PATIENT_CHANGED: {
        const Meso__V1__PatientChanged *pc = ev->patient_changed;
        if (!pc->screening_outdated)
            return 0;           /* contact details, home clinic: nothing to hold */
        patient = pc->patient_id;
        h.change = LIFECYCLE_HOLD;
        h.reported_us = lifecycle_hold_from (pc->effective_at_us, ev->occurred_at_us);
        break;
    }
    case MESO__V1__EVENT__PAYLOAD_SCREENING_COMPLETED: {
        const Meso__V1__ScreeningCompleted *sc = ev->screening_completed;
        if (!lifecycle_after_screening ((int) sc->verdict, &h.change))
            return 0;
        patient = sc->patient_id;
        h.screening_id = sc->screening_id ? sc->screening_id : "";
        snprintf (reason, sizeof reason, "patient ineligible at screening %.64s after a reported change",
                  h.screening_id);
        h.reason = reason;
        break;
    }
    default:
        return 0;               /* other screening events hold nothing */
    }
    if (!patient || !*patient || strlen (patient) > SCHED_ID_MAX) {
        /* A fact that names no patient can hold nothing: skipping it keeps
         * the stream moving for every later event. */
        meso_warn ("event %s (%s) names no usable patient: ignored", ev->id, ev->type);
        return 0;
    }
    return s_apply (self, db, patient, &h) < 0 ? -1 : 0;
}
