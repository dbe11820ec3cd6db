/* reports.c -- what a chain manager reads of scheduling: utilisation
 * (booked over available practitioner-hours, by practitioner and ISO
 * week), attendance (no-show and late-cancel rates) and course outcomes
 * (the non-responder rate by grade), for one clinic over a range of its
 * local days; and the per-clinic figures of today that main.c's tick
 * publishes as Prometheus gauges.
 *
 * Read methods: validate, one statement (store_reports.c), reply. SQL
 * counts and sums; the divisions and the ISO week labels are meso/
 * report.h's (half to even, -1 for "no data"), the same in every
 * service. The gauges are refreshed on a timer, not per scrape: one
 * grouped statement over every clinic's today, cheap on the index of
 * migration 019, however often Prometheus asks. */
#include "scheduling.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/log.h"
#include "meso/metrics.h"
#include "meso/mtime.h"
#include "meso/report.h"

/* The clinics the gauges cover (two series each, within the metrics
 * registry's room). */
#define REPORTS_GAUGE_CLINICS 500

static int64_t
s_i64 (const PGresult *res, int r, int c)
{
    return strtoll (PQgetvalue (res, r, c), NULL, 10);
}

/* clinic_id, from and to of a report: present, dates, in order, at most
 * MESO_REPORT_MAX_DAYS days; then the clinic (its zone). bad: the
 * reasons the method's own fields already gave (every bad field is named
 * at once). 0, or -1 with the refusal in reply. */
static int
s_report_args (scheduling_t *self, meso_reply_t *reply, int bad, const char *clinic_id, const char *from,
               const char *to, store_clinic_t *clinic)
{
    int32_t f = 0, t = 0;
    bool dates = true;
    sched_need_id (reply, &bad, "clinic_id", clinic_id);
    const char *names[2] = { "from", "to" };
    const char *values[2] = { from, to };
    int32_t *days[2] = { &f, &t };
    for (int i = 0; i < 2; i++) {
        if (!values[i] || !values[i][0]) {
            sched_bad (reply, &bad, "missing_field", names[i], "required, \"YYYY-MM-DD\"");
            dates = false;
        }
        else if (meso_date_parse (values[i], days[i]) != 0) {
            sched_bad (reply, &bad, "invalid_date", names[i], "not a date \"YYYY-MM-DD\"");
            dates = false;
        }
    }
    if (dates) {
        meso_range_verdict_t v = meso_report_range (f, t, MESO_REPORT_MAX_DAYS, INT32_MAX);
        if (v == MESO_RANGE_REVERSED)
            sched_bad (reply, &bad, "reversed_range", "to", "before from");
        else if (v == MESO_RANGE_TOO_LONG) {
            char msg[64];
            snprintf (msg, sizeof msg, "at most %d days after from", MESO_REPORT_MAX_DAYS - 1);
            sched_bad (reply, &bad, "range_too_long", "to", msg);
        }
    }
    if (bad)
        return -1;
    return sched_clinic_load (self, clinic_id, "clinic_id", clinic, reply);
}

/* ------------------------------------------------------- Utilisation */

void
reports_utilisation (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    (void) req;
    scheduling_t *self = arg;
    Meso__V1__UtilisationReportRequest *in = body;
    store_clinic_t clinic;
    int bad = 0;
    if (in->practitioner_id && in->practitioner_id[0])
        sched_need_id (reply, &bad, "practitioner_id", in->practitioner_id);
    if (s_report_args (self, reply, bad, in->clinic_id, in->from, in->to, &clinic) != 0)
        return;
    PGresult *res = store_report_utilisation (self->db, in->clinic_id, in->from, in->to, in->practitioner_id);
    if (!res) {
        meso_reply_db_error (reply, self->db, "utilisation");
        return;
    }
    int n = PQntuples (res);
    Meso__V1__UtilisationRow *ra = calloc ((size_t) n + 1, sizeof *ra);
    Meso__V1__UtilisationRow **rp = calloc ((size_t) n + 1, sizeof *rp);
    char (*text)[2][16] = calloc ((size_t) n + 1, sizeof *text);
    Meso__V1__UtilisationReportReply out = MESO__V1__UTILISATION_REPORT_REPLY__INIT;
    if (ra && rp && text) {
        for (int i = 0; i < n; i++) {
            Meso__V1__UtilisationRow *r = &ra[i];
            meso__v1__utilisation_row__init (r);
            int32_t monday = (int32_t) s_i64 (res, i, 1);
            meso_report_week_text (monday, text[i][0], sizeof text[i][0]);
            meso_date_format (monday, text[i][1], sizeof text[i][1]);
            r->practitioner_id = PQgetvalue (res, i, 0);
            r->iso_week = text[i][0];
            r->week_start = text[i][1];
            r->available_minutes = s_i64 (res, i, 2);
            r->booked_minutes = s_i64 (res, i, 3);
            r->utilisation_bp = meso_report_rate_bp (r->booked_minutes, r->available_minutes);
            out.available_minutes += r->available_minutes;
            out.booked_minutes += r->booked_minutes;
            rp[i] = r;
        }
        out.clinic_id = clinic.clinic_id;
        out.time_zone = clinic.time_zone;
        out.n_rows = (size_t) n;
        out.rows = rp;
        out.utilisation_bp = meso_report_rate_bp (out.booked_minutes, out.available_minutes);
        meso_reply_ok (reply, &out.base);
    }
    else
        meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED, "out of memory");
    free (ra);
    free (rp);
    free (text);
    PQclear (res);
}

/* -------------------------------------------------------- Attendance */

static void
s_attendance_rates (Meso__V1__AttendanceRow *r)
{
    r->due = r->attended + r->no_shows + r->late_cancels;
    r->no_show_rate_bp = meso_report_rate_bp (r->no_shows, r->due);
    r->late_cancel_rate_bp = meso_report_rate_bp (r->late_cancels, r->due);
}

void
reports_attendance (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    (void) req;
    scheduling_t *self = arg;
    Meso__V1__AttendanceReportRequest *in = body;
    store_clinic_t clinic;
    if (s_report_args (self, reply, 0, in->clinic_id, in->from, in->to, &clinic) != 0)
        return;
    PGresult *res = store_report_attendance (self->db, in->clinic_id, in->from, in->to);
    if (!res) {
        meso_reply_db_error (reply, self->db, "attendance");
        return;
    }
    int n = PQntuples (res);
    Meso__V1__AttendanceRow *ra = calloc ((size_t) n + 1, sizeof *ra);
    Meso__V1__AttendanceRow **rp = calloc ((size_t) n + 1, sizeof *rp);
    Meso__V1__AttendanceRow total = MESO__V1__ATTENDANCE_ROW__INIT;
    Meso__V1__AttendanceReportReply out = MESO__V1__ATTENDANCE_REPORT_REPLY__INIT;
    if (ra && rp) {
        for (int i = 0; i < n; i++) {
            Meso__V1__AttendanceRow *r = &ra[i];
            meso__v1__attendance_row__init (r);
            r->practitioner_id = PQgetvalue (res, i, 0);
            r->attended = s_i64 (res, i, 1);
            r->no_shows = s_i64 (res, i, 2);
            r->late_cancels = s_i64 (res, i, 3);
            r->other_cancels = s_i64 (res, i, 4);
            r->open = s_i64 (res, i, 5);
            s_attendance_rates (r);
            total.attended += r->attended;
            total.no_shows += r->no_shows;
            total.late_cancels += r->late_cancels;
            total.other_cancels += r->other_cancels;
            total.open += r->open;
            rp[i] = r;
        }
        s_attendance_rates (&total);
        out.clinic_id = clinic.clinic_id;
        out.time_zone = clinic.time_zone;
        out.n_rows = (size_t) n;
        out.rows = rp;
        out.total = &total;
        meso_reply_ok (reply, &out.base);
    }
    else
        meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED, "out of memory");
    free (ra);
    free (rp);
    PQclear (res);
}

/* ---------------------------------------------------------- Outcomes */

void
reports_outcomes (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    (void) req;
    scheduling_t *self = arg;
    Meso__V1__OutcomesReportRequest *in = body;
    store_clinic_t clinic;
    if (s_report_args (self, reply, 0, in->clinic_id, in->from, in->to, &clinic) != 0)
        return;
    PGresult *res = store_report_outcomes (self->db, in->clinic_id, in->from, in->to);
    if (!res) {
        meso_reply_db_error (reply, self->db, "outcomes");
        return;
    }
    Meso__V1__OutcomesRow ra[3], *rp[3];
    size_t n = 0;
    for (int i = 0; i < PQntuples (res) && n < 3; i++, n++) {
        Meso__V1__OutcomesRow *r = &ra[n];
        meso__v1__outcomes_row__init (r);
        r->grade = (uint32_t) s_i64 (res, i, 0);
        r->courses = s_i64 (res, i, 1);
        r->evaluable = s_i64 (res, i, 2);
        r->non_responders = s_i64 (res, i, 3);
        r->sessions_completed = s_i64 (res, i, 4);
        r->outcomes_recorded = s_i64 (res, i, 5);
        r->non_responder_rate_bp = meso_report_rate_bp (r->non_responders, r->evaluable);
        rp[n] = r;
    }
    Meso__V1__OutcomesReportReply out = MESO__V1__OUTCOMES_REPORT_REPLY__INIT;
    out.clinic_id = clinic.clinic_id;
    out.time_zone = clinic.time_zone;
    out.n_rows = n;
    out.rows = rp;
    meso_reply_ok (reply, &out.base);
    PQclear (res);
}

/* ------------------------------------------------------------ gauges */

int
reports_gauges (scheduling_t *self)
{
    PGresult *res = store_report_today (self->db, REPORTS_GAUGE_CLINICS);
    if (!res) {
        meso_warn ("clinic gauges not refreshed: %s", meso_db_error (self->db)->message);
        return -1;
    }
    int n = PQntuples (res);
    for (int i = 0; i < n; i++) {
        const char *clinic = PQgetvalue (res, i, 0);
        meso_metrics_set ("meso_clinic_sessions_booked_today",
                          "Sessions on the clinic's schedule for its local today, not cancelled.",
                          "clinic", clinic, (double) s_i64 (res, i, 1));
        meso_metrics_set ("meso_clinic_sessions_completed_today",
                          "Sessions of the clinic's local today completed.",
                          "clinic", clinic, (double) s_i64 (res, i, 2));
    }
    PQclear (res);
    return n;
}
