/* retreatment.c -- grade 1's yearly preventive session: the course is one
 * session (planner_course_sessions), and when the next one falls due --
 * a year after the last completed session, less the daemon's
 * --retreatment-notice-days -- session.retreatment_due is emitted so the
 * clinic can invite the patient.
 *
 * A timer of the daemon's loop (main.c, every --retreatment-check-ms, as
 * inventory looks for expiring lots). Each course is announced once: the
 * course row is marked in the transaction that appends the event, and
 * the mark is only set where it is still null, so a restart, a retry or
 * a second instance never announces it twice. */
#include "scheduling.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.pb-c.h"
#include "meso/log.h"
#include "meso/mtime.h"
#include "meso/outbox.h"

typedef struct {
    const char *course_id, *clinic_id, *patient_id;
    int32_t last;
    int announced;
} s_due_t;

static int
s_announce_txn (meso_db_t *db, void *arg)
{
    s_due_t *d = arg;
    d->announced = 0;
    int marked = store_retreatment_mark (db, d->course_id);
    if (marked <= 0)
        return marked;                  /* announced meanwhile (0), or an error */
    char last[11], due[11];
    meso_date_format (d->last, last, sizeof last);
    meso_date_format (planner_retreatment_due (d->last), due, sizeof due);
    Meso__V1__SessionRetreatmentDue x = MESO__V1__SESSION_RETREATMENT_DUE__INIT;
    x.course_id = (char *) d->course_id;
    x.patient_id = (char *) d->patient_id;
    x.clinic_id = (char *) d->clinic_id;
    x.last_session_date = last;
    x.due_date = due;
    Meso__V1__Event ev = MESO__V1__EVENT__INIT;
    ev.type = "session.retreatment_due";
    ev.clinic_id = (char *) d->clinic_id;
    ev.payload_case = MESO__V1__EVENT__PAYLOAD_SESSION_RETREATMENT_DUE;
    ev.session_retreatment_due = &x;
    if (meso_outbox_append (db, &ev) != 0)
        return -1;
    d->announced = 1;
    return 0;
}

int
retreatment_announce (scheduling_t *self, int limit)
{
    PGresult *res = store_retreatment_candidates (self->db, self->retreatment_notice_days, limit);
    if (!res)
        return -1;
    int n = 0;
    for (int i = 0; i < PQntuples (res); i++) {
        s_due_t d = { PQgetvalue (res, i, 0), PQgetvalue (res, i, 1), PQgetvalue (res, i, 2),
                      (int32_t) atoi (PQgetvalue (res, i, 3)), 0 };
        int32_t today = (int32_t) atoi (PQgetvalue (res, i, 4));
        if (!planner_retreatment_announce (d.last, today, self->retreatment_notice_days))
            continue;
        if (meso_db_txn (self->db, MESO_DB_READ_COMMITTED, s_announce_txn, &d) != 0) {
            meso_warn ("retreatment of course %s not announced: %s", d.course_id,
                       meso_db_error (self->db)->message);
            continue;
        }
        n += d.announced;
    }
    PQclear (res);
    return n;
}
