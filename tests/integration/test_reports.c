/* test_reports.c -- the chain manager's reports against figures worked
 * out by hand, through the real daemons:
 *
 *   - scheduling.UtilisationReport, AttendanceReport and OutcomesReport
 *     over two ISO weeks of a clinic in Europe/Paris (sessions written
 *     straight into the schema: the daemons refuse to book the past),
 *     with sessions on both sides of a local midnight whose UTC day is
 *     another, a day off, hours that reach outside the opening hours;
 *   - a late cancellation through scheduling.Cancel counted as late;
 *   - the gauges of today (meso_clinic_sessions_*_today) on /metrics;
 *   - inventory.Valuation after receipts with and without a unit cost,
 *     a reservation, a consumption, a discard, an adjustment and a
 *     transfer (the cost travels), rounding half to even;
 *   - each report's refusals of bad input, naming the field. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "scheduling_fixture.h"

#define ZONE "Europe/Paris"

/* One appointment written into scheduling's schema: local start in ZONE,
 * score -1 for none, status as stored. */
static void
s_appt (fx_t *fx, const char *id, const char *course, const char *patient, const char *pract,
        const char *room, const char *local, int minutes, const char *status, int number, int score,
        bool late)
{
    char sql[1600], sc[16];
    if (score < 0)
        snprintf (sc, sizeof sc, "NULL");
    else
        snprintf (sc, sizeof sc, "%d", score);
    snprintf (sql, sizeof sql,
        "INSERT INTO scheduling.appointment (clinic_id, appointment_id, course_id, patient_id,"
        " practitioner_id, room_id, during, status, session_number, areas, recipe_id,"
        " improvement_score, cancelled_at, cancelled_by, cancelled_late)"
        " VALUES ('rep', '%s', '%s', '%s', '%s', '%s',"
        " tstzrange (timestamp '%s' AT TIME ZONE '" ZONE "',"
        "            (timestamp '%s' AT TIME ZONE '" ZONE "') + interval '%d minutes'),"
        " '%s', %d, '{thighs}', 'lipo', %s,"
        " CASE WHEN '%s' = 'cancelled' THEN timestamp '%s' AT TIME ZONE '" ZONE "' - interval '%s' END,"
        " CASE WHEN '%s' = 'cancelled' THEN 'patient' END, %s) RETURNING 1",
        id, course, patient, pract, room, local, local, minutes, status, number, sc,
        status, local, late ? "2 hours" : "3 days", status, late ? "true" : "false");
    assert_int_equal (fx_sql (fx, sql, NULL), 1);
}

static void
s_course_at (fx_t *fx, const char *clinic, const char *id, const char *patient, int grade, int sessions,
             bool non_responder)
{
    char sql[600];
    snprintf (sql, sizeof sql,
        "INSERT INTO scheduling.course (clinic_id, course_id, patient_id, grade, areas, recipe_id,"
        " sessions, status, non_responder) VALUES ('%s', '%s', '%s', %d, '{thighs}', 'lipo', %d,"
        " 'booked', %s) RETURNING 1", clinic, id, patient, grade, sessions, non_responder ? "true" : "false");
    assert_int_equal (fx_sql (fx, sql, NULL), 1);
}

/* The data set of the header, worked out in the comments of each test. */
static fx_t *
s_reports_setup (const char *db)
{
    fx_t *fx = fx_setup (db, 1);
    const char *pr[] = { "p1", "p2" }, *rooms[] = { "r1", "r2" };
    fx_clinic (fx, "rep", ZONE, pr, 2, rooms, 2, false);
    /* Clinic open 08:00-20:00 every day (fixture). p1 works Monday to
     * Friday 09:00-17:00 (480 min) and is off on Wednesday 2026-03-04;
     * p2 works Mondays 07:00-12:00, of which 08:00-12:00 inside the
     * opening hours (240 min). */
    assert_int_equal (fx_sql (fx, "WITH d AS (DELETE FROM scheduling.practitioner_hours"
                                  " WHERE (practitioner_id = 'p1' AND isodow > 5)"
                                  " OR (practitioner_id = 'p2' AND isodow > 1) RETURNING 1)"
                                  " SELECT count(*) FROM d", NULL), 8);
    assert_int_equal (fx_sql (fx, "WITH u AS (UPDATE scheduling.practitioner_hours SET"
                                  " starts = CASE practitioner_id WHEN 'p1' THEN time '09:00' ELSE time '07:00' END,"
                                  " ends = CASE practitioner_id WHEN 'p1' THEN time '17:00' ELSE time '12:00' END"
                                  " WHERE clinic_id = 'rep' RETURNING 1) SELECT count(*) FROM u", NULL), 6);
    assert_int_equal (fx_sql (fx, "INSERT INTO scheduling.practitioner_day_off VALUES ('p1', '2026-03-04')"
                                  " RETURNING 1", NULL), 1);
    /* c1: grade 2, p1, flagged non-responder; c2: grade 3, p2; c4:
     * grade 2 starting after the range. */
    s_course_at (fx, "rep", "c1", "x1", 2, 10, true);
    s_course_at (fx, "rep", "c2", "x2", 3, 21, false);
    s_course_at (fx, "rep", "c4", "x4", 2, 10, false);
    /* ISO week 2026-W10 (Mon 2026-03-02 .. Sun 03-08). */
    s_appt (fx, "a1", "c1", "x1", "p1", "r1", "2026-03-02 10:00", 60, "completed", 1, 0, false);
    s_appt (fx, "a2", "c1", "x1", "p1", "r1", "2026-03-03 10:00", 60, "completed", 2, 0, false);
    s_appt (fx, "a3", "c1", "x1", "p1", "r1", "2026-03-05 10:00", 60, "no_show", 3, -1, false);
    s_appt (fx, "a4", "c1", "x1", "p1", "r1", "2026-03-06 10:00", 60, "cancelled", 4, -1, true);
    s_appt (fx, "a5", "c1", "x1", "p1", "r1", "2026-03-06 12:00", 60, "cancelled", 5, -1, false);
    /* 00:30 local on Monday is 23:30 UTC on Sunday: Monday's. */
    s_appt (fx, "b0", "c2", "x2", "p2", "r2", "2026-03-02 00:30", 30, "booked", 1, -1, false);
    s_appt (fx, "b1", "c2", "x2", "p2", "r2", "2026-03-02 09:00", 60, "booked", 2, -1, false);
    /* 2026-W11 (Mon 03-09 .. Sun 03-15). */
    s_appt (fx, "a6", "c1", "x1", "p1", "r1", "2026-03-09 10:00", 90, "completed", 6, 0, false);
    s_appt (fx, "a7", "c1", "x1", "p1", "r1", "2026-03-10 10:00", 60, "completed", 7, -1, false);
    s_appt (fx, "a8", "c1", "x1", "p1", "r1", "2026-03-11 10:00", 60, "started", 8, -1, false);
    s_appt (fx, "a9", "c1", "x1", "p1", "r1", "2026-03-12 10:00", 60, "completed", 9, 0, false);
    s_appt (fx, "a10", "c1", "x1", "p1", "r1", "2026-03-13 10:00", 60, "completed", 10, 0, false);
    s_appt (fx, "b2", "c2", "x2", "p2", "r2", "2026-03-09 08:00", 60, "no_show", 3, -1, false);
    s_appt (fx, "b9", "c2", "x2", "p2", "r2", "2026-03-15 23:00", 30, "booked", 4, -1, false);
    /* Outside: 00:30 local on Monday 03-16 (23:30 UTC on Sunday 03-15). */
    s_appt (fx, "b10", "c2", "x2", "p2", "r2", "2026-03-16 00:30", 30, "booked", 5, -1, false);
    s_appt (fx, "a0", "c4", "x4", "p1", "r1", "2026-03-16 10:00", 60, "completed", 1, 0, false);
    return fx;
}

static void *
s_report (fx_t *fx, const char *method, const ProtobufCMessage *rq, const ProtobufCMessageDescriptor *d,
          meso_result_t *r)
{
    assert_int_equal (fx_call (fx, fx->sch, method, rq, NULL, r), MESO_OK);
    size_t len;
    const uint8_t *body = meso_result_body (r, &len);
    void *out = protobuf_c_message_unpack (d, NULL, len, body);
    assert_non_null (out);
    return out;
}

static void
test_utilisation (void **state)
{
    (void) state;
    fx_t *fx = s_reports_setup ("reports_util");
    meso_result_t r = { 0 };
    Meso__V1__UtilisationReportRequest rq = MESO__V1__UTILISATION_REPORT_REQUEST__INIT;
    rq.clinic_id = "rep";
    rq.from = "2026-03-02";
    rq.to = "2026-03-15";
    Meso__V1__UtilisationReportReply *u = s_report (fx, "scheduling.UtilisationReport", &rq.base,
                                                    &meso__v1__utilisation_report_reply__descriptor, &r);
    /* W10: p1 4 days x 480 = 1920 available (Wednesday off), booked a1
     * + a2 = 120 (no-show and cancellations free the slot): 6.25%.
     * p2 240 available, booked b0 30 + b1 60 = 90: 37.5%.
     * W11: p1 5 x 480 = 2400, booked 90 + 60 + 60 + 60 + 60 = 330:
     * 13.75%; p2 240, booked b9 30 (b2 a no-show; b10 is Monday 03-16
     * local): 12.5%. Total 570 / 4800 = 11.875% -> 1188 bp (half even). */
    assert_string_equal (u->time_zone, ZONE);
    assert_int_equal (u->n_rows, 4);
    const char *weeks[] = { "2026-W10", "2026-W10", "2026-W11", "2026-W11" };
    const char *mondays[] = { "2026-03-02", "2026-03-02", "2026-03-09", "2026-03-09" };
    const char *who[] = { "p1", "p2", "p1", "p2" };
    int64_t avail[] = { 1920, 240, 2400, 240 }, booked[] = { 120, 90, 330, 30 };
    int32_t bp[] = { 625, 3750, 1375, 1250 };
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal (u->rows[i]->iso_week, weeks[i]);
        assert_string_equal (u->rows[i]->week_start, mondays[i]);
        assert_string_equal (u->rows[i]->practitioner_id, who[i]);
        assert_int_equal (u->rows[i]->available_minutes, avail[i]);
        assert_int_equal (u->rows[i]->booked_minutes, booked[i]);
        assert_int_equal (u->rows[i]->utilisation_bp, bp[i]);
    }
    assert_int_equal (u->available_minutes, 4800);
    assert_int_equal (u->booked_minutes, 570);
    assert_int_equal (u->utilisation_bp, 1188);
    meso__v1__utilisation_report_reply__free_unpacked (u, NULL);

    /* One practitioner, one day: Monday 03-09 for p2 only. */
    rq.from = rq.to = "2026-03-09";
    rq.practitioner_id = "p2";
    u = s_report (fx, "scheduling.UtilisationReport", &rq.base, &meso__v1__utilisation_report_reply__descriptor, &r);
    assert_int_equal (u->n_rows, 1);
    assert_int_equal (u->rows[0]->available_minutes, 240);
    assert_int_equal (u->rows[0]->booked_minutes, 0);
    assert_int_equal (u->rows[0]->utilisation_bp, 0);
    meso__v1__utilisation_report_reply__free_unpacked (u, NULL);

    /* A week nobody works or books: no rows, and "no data", not 0%. */
    rq.from = "2026-01-03";
    rq.to = "2026-01-04";
    rq.practitioner_id = "";
    u = s_report (fx, "scheduling.UtilisationReport", &rq.base, &meso__v1__utilisation_report_reply__descriptor, &r);
    assert_int_equal (u->n_rows, 0);           /* a Saturday and a Sunday */
    assert_int_equal (u->available_minutes, 0);
    assert_int_equal (u->utilisation_bp, -1);
    meso__v1__utilisation_report_reply__free_unpacked (u, NULL);
    meso_result_reset (&r);
    fx_teardown (fx);
}

static void
test_attendance_and_outcomes (void **state)
{
    (void) state;
    fx_t *fx = s_reports_setup ("reports_att");
    meso_result_t r = { 0 };
    Meso__V1__AttendanceReportRequest aq = MESO__V1__ATTENDANCE_REPORT_REQUEST__INIT;
    aq.clinic_id = "rep";
    aq.from = "2026-03-02";
    aq.to = "2026-03-15";
    Meso__V1__AttendanceReportReply *a = s_report (fx, "scheduling.AttendanceReport", &aq.base,
                                                   &meso__v1__attendance_report_reply__descriptor, &r);
    /* p1: attended a1 a2 a6 a7 a8 a9 a10 = 7, no-show a3, late a4,
     * other a5: due 9, 1/9 = 11.11% each. p2: no-show b2, open b0 b1
     * b9: due 1, no-show 100%, late 0%. Total: due 10, 20% and 10%. */
    assert_int_equal (a->n_rows, 2);
    Meso__V1__AttendanceRow *p1 = a->rows[0], *p2 = a->rows[1], *t = a->total;
    assert_string_equal (p1->practitioner_id, "p1");
    assert_int_equal (p1->attended, 7);
    assert_int_equal (p1->no_shows, 1);
    assert_int_equal (p1->late_cancels, 1);
    assert_int_equal (p1->other_cancels, 1);
    assert_int_equal (p1->open, 0);
    assert_int_equal (p1->due, 9);
    assert_int_equal (p1->no_show_rate_bp, 1111);
    assert_int_equal (p1->late_cancel_rate_bp, 1111);
    assert_string_equal (p2->practitioner_id, "p2");
    assert_int_equal (p2->no_shows, 1);
    assert_int_equal (p2->open, 3);
    assert_int_equal (p2->due, 1);
    assert_int_equal (p2->no_show_rate_bp, 10000);
    assert_int_equal (p2->late_cancel_rate_bp, 0);
    assert_int_equal (t->due, 10);
    assert_int_equal (t->open, 3);
    assert_int_equal (t->no_show_rate_bp, 2000);
    assert_int_equal (t->late_cancel_rate_bp, 1000);
    meso__v1__attendance_report_reply__free_unpacked (a, NULL);

    /* Nothing due: the rates say "no data" (-1), not 0%. */
    aq.from = aq.to = "2026-03-16";
    a = s_report (fx, "scheduling.AttendanceReport", &aq.base, &meso__v1__attendance_report_reply__descriptor, &r);
    assert_int_equal (a->total->attended, 1);              /* a0 (b10 is open) */
    assert_int_equal (a->total->open, 1);
    aq.from = aq.to = "2026-01-01";
    meso__v1__attendance_report_reply__free_unpacked (a, NULL);
    a = s_report (fx, "scheduling.AttendanceReport", &aq.base, &meso__v1__attendance_report_reply__descriptor, &r);
    assert_int_equal (a->n_rows, 0);
    assert_int_equal (a->total->no_show_rate_bp, -1);
    assert_int_equal (a->total->late_cancel_rate_bp, -1);
    meso__v1__attendance_report_reply__free_unpacked (a, NULL);

    Meso__V1__OutcomesReportRequest oq = MESO__V1__OUTCOMES_REPORT_REQUEST__INIT;
    oq.clinic_id = "rep";
    oq.from = "2026-03-02";
    oq.to = "2026-03-15";
    Meso__V1__OutcomesReportReply *o = s_report (fx, "scheduling.OutcomesReport", &oq.base,
                                                 &meso__v1__outcomes_report_reply__descriptor, &r);
    /* Grade 2: c1 (c4 starts on 03-16): 6 completed, 5 recorded (a7 was
     * not), evaluable, flagged: 100%. Grade 3: c2, nothing completed,
     * not evaluable: no data. Grade 1: nothing. */
    assert_int_equal (o->n_rows, 3);
    assert_int_equal (o->rows[0]->grade, 1);
    assert_int_equal (o->rows[0]->courses, 0);
    assert_int_equal (o->rows[0]->non_responder_rate_bp, -1);
    assert_int_equal (o->rows[1]->grade, 2);
    assert_int_equal (o->rows[1]->courses, 1);
    assert_int_equal (o->rows[1]->evaluable, 1);
    assert_int_equal (o->rows[1]->non_responders, 1);
    assert_int_equal (o->rows[1]->sessions_completed, 6);
    assert_int_equal (o->rows[1]->outcomes_recorded, 5);
    assert_int_equal (o->rows[1]->non_responder_rate_bp, 10000);
    assert_int_equal (o->rows[2]->grade, 3);
    assert_int_equal (o->rows[2]->courses, 1);
    assert_int_equal (o->rows[2]->evaluable, 0);
    assert_int_equal (o->rows[2]->non_responder_rate_bp, -1);
    meso__v1__outcomes_report_reply__free_unpacked (o, NULL);
    /* Widened to 03-16: c4 joins grade 2 (one completed session, not
     * evaluable): 1 of 1 evaluable still. */
    oq.to = "2026-03-16";
    o = s_report (fx, "scheduling.OutcomesReport", &oq.base, &meso__v1__outcomes_report_reply__descriptor, &r);
    assert_int_equal (o->rows[1]->courses, 2);
    assert_int_equal (o->rows[1]->evaluable, 1);
    assert_int_equal (o->rows[1]->sessions_completed, 7);
    assert_int_equal (o->rows[1]->non_responder_rate_bp, 10000);
    meso__v1__outcomes_report_reply__free_unpacked (o, NULL);
    meso_result_reset (&r);
    fx_teardown (fx);
}

/* Bad input: INVALID_ARGUMENT naming the field, NOT_FOUND for a clinic
 * that does not exist. */
static void
test_report_refusals (void **state)
{
    (void) state;
    fx_t *fx = fx_setup ("reports_bad", 1);
    const char *pr[] = { "p1" }, *rooms[] = { "r1" };
    fx_clinic (fx, "rep", ZONE, pr, 1, rooms, 1, false);
    meso_result_t r = { 0 };
    struct { const char *clinic, *from, *to, *field, *code; int status; } cases[] = {
        { "rep", "", "2026-03-02", "from", "missing_field", MESO_INVALID_ARGUMENT },
        { "rep", "2026-03-02", "2026-02-30", "to", "invalid_date", MESO_INVALID_ARGUMENT },
        { "rep", "2026-03-02", "2026-03-01", "to", "reversed_range", MESO_INVALID_ARGUMENT },
        { "rep", "2026-01-01", "2028-01-02", "to", "range_too_long", MESO_INVALID_ARGUMENT },
        { "Bad Id", "2026-03-01", "2026-03-02", "clinic_id", "invalid_id", MESO_INVALID_ARGUMENT },
        { "nowhere", "2026-03-01", "2026-03-02", "clinic_id", "unknown_clinic", MESO_NOT_FOUND },
    };
    const char *methods[] = { "scheduling.UtilisationReport", "scheduling.AttendanceReport",
                              "scheduling.OutcomesReport" };
    for (size_t m = 0; m < 3; m++)
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            /* The three requests share fields 1..3. */
            Meso__V1__AttendanceReportRequest rq = MESO__V1__ATTENDANCE_REPORT_REQUEST__INIT;
            rq.clinic_id = (char *) cases[i].clinic;
            rq.from = (char *) cases[i].from;
            rq.to = (char *) cases[i].to;
            assert_int_equal (fx_call (fx, fx->sch, methods[m], &rq.base, NULL, &r), cases[i].status);
            assert_true (fx_has_reason (&r, cases[i].code));
            bool named = false;
            for (size_t k = 0; k < r.reply->n_reasons; k++)
                named |= strcmp (r.reply->reasons[k]->field, cases[i].field) == 0;
            assert_true (named);
        }
    /* Two years to the day is allowed. */
    Meso__V1__UtilisationReportRequest uq = MESO__V1__UTILISATION_REPORT_REQUEST__INIT;
    uq.clinic_id = "rep";
    uq.from = "2026-01-01";
    uq.to = "2027-12-31";
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.UtilisationReport", &uq.base, NULL, &r), MESO_OK);
    uq.practitioner_id = "P 1";
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.UtilisationReport", &uq.base, NULL, &r),
                      MESO_INVALID_ARGUMENT);
    assert_true (fx_has_reason (&r, "invalid_id"));
    /* Every bad field at once. */
    uq.from = "";
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.UtilisationReport", &uq.base, NULL, &r),
                      MESO_INVALID_ARGUMENT);
    assert_true (fx_has_reason (&r, "invalid_id") && fx_has_reason (&r, "missing_field"));
    meso_result_reset (&r);
    fx_teardown (fx);
}

/* GET /metrics on 127.0.0.1:port; the body (malloc'd) or NULL. */
static char *
s_metrics (int port)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    assert_true (fd >= 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port) };
    sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    if (connect (fd, (struct sockaddr *) &sa, sizeof sa) != 0) {
        close (fd);
        return NULL;
    }
    const char *rq = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    assert_int_equal (write (fd, rq, strlen (rq)), (ssize_t) strlen (rq));
    size_t cap = 1 << 20, len = 0;
    char *buf = malloc (cap);
    ssize_t n;
    while (len < cap - 1 && (n = read (fd, buf + len, cap - len - 1)) > 0)
        len += (size_t) n;
    close (fd);
    buf[len] = '\0';
    return buf;
}

static void
test_late_cancel_and_gauges (void **state)
{
    (void) state;
    fx_t *fx = fx_setup ("reports_live", 1);
    const char *pr[] = { "q1" }, *rooms[] = { "s1" };
    fx_clinic (fx, "live", "UTC", pr, 1, rooms, 1, true);
    char patient[40], appt[40], day[11], start[20];
    fx_patient (fx, "live", NULL, false, patient);
    fx_day (3, day);
    snprintf (start, sizeof start, "%sT10:00", day);
    meso_result_t r = { 0 };
    assert_int_equal (fx_book_session (fx, fx->sch, "live", patient, "q1", "s1", start, 60, appt, &r), MESO_OK);
    /* A week's notice: three days before is late. */
    assert_int_equal (fx_sql (fx, "WITH u AS (UPDATE scheduling.clinic SET cancel_notice_hours = 168"
                                  " WHERE clinic_id = 'live' RETURNING 1) SELECT count(*) FROM u", NULL), 1);
    Meso__V1__CancelRequest cq = MESO__V1__CANCEL_REQUEST__INIT;
    cq.appointment_id = appt;
    cq.by = MESO__V1__CANCELLED_BY__CANCELLED_BY_PATIENT;
    cq.reason = "travel";
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.Cancel", &cq.base, NULL, &r), MESO_OK);
    Meso__V1__AttendanceReportRequest aq = MESO__V1__ATTENDANCE_REPORT_REQUEST__INIT;
    aq.clinic_id = "live";
    aq.from = aq.to = day;
    Meso__V1__AttendanceReportReply *a = s_report (fx, "scheduling.AttendanceReport", &aq.base,
                                                   &meso__v1__attendance_report_reply__descriptor, &r);
    assert_int_equal (a->total->late_cancels, 1);
    assert_int_equal (a->total->due, 1);
    assert_int_equal (a->total->late_cancel_rate_bp, 10000);
    meso__v1__attendance_report_reply__free_unpacked (a, NULL);

    /* Today at the clinic: one completed, one booked, one cancelled. */
    s_course_at (fx, "live", "g1", "gx", 2, 3, false);
    assert_int_equal (fx_sql (fx,
        "WITH i AS (INSERT INTO scheduling.appointment (clinic_id, appointment_id, course_id, patient_id,"
        " practitioner_id, room_id, during, status, session_number, areas, recipe_id, improvement_score)"
        " SELECT 'live', 'g' || n, 'g1', 'gx', 'q1', 's1',"
        " tstzrange (date_trunc ('day', now () AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' + n * interval '1 hour',"
        "            date_trunc ('day', now () AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' + n * interval '1 hour'"
        "            + interval '30 minutes'),"
        " (ARRAY['completed', 'booked', 'cancelled'])[n], n, '{thighs}', 'lipo', 1"
        " FROM generate_series (1, 3) n RETURNING 1) SELECT count(*) FROM i", NULL), 3);
    /* A scheduling instance serving metrics, its gauges refreshed every
     * second. */
    int port = mt_free_port ();
    char role[512], db[600], bind[300], ep[256], metrics[64];
    mt_role_conninfo (fx->dbname, "meso_scheduling", role, sizeof role);
    mt_ipc_endpoint ("schm", ep, sizeof ep);
    snprintf (db, sizeof db, "--db=%s", role);
    snprintf (bind, sizeof bind, "--bind=%s", ep);
    snprintf (metrics, sizeof metrics, "--metrics=127.0.0.1:%d", port);
    const char *argv[] = { "meso-scheduling", db, bind, metrics, "--gauges-ms=1000", NULL };
    pid_t pid = mt_spawn ("bin/meso-scheduling", argv, NULL);
    assert_true (pid > 0);
    assert_int_equal (mt_wait_healthy (ep, 10000), 0);
    bool seen = false;
    for (int i = 0; i < 100 && !seen; i++) {
        char *body = s_metrics (port);
        seen = body && strstr (body, "\nmeso_clinic_sessions_booked_today{clinic=\"live\"} 2\n")
               && strstr (body, "\nmeso_clinic_sessions_completed_today{clinic=\"live\"} 1\n")
               && strstr (body, "# TYPE meso_clinic_sessions_booked_today gauge\n");
        free (body);
        if (!seen)
            mt_sleep_ms (100);
    }
    assert_true (seen);
    /* Refreshed, not computed once: a second completion shows. */
    assert_int_equal (fx_sql (fx, "WITH u AS (UPDATE scheduling.appointment SET status = 'completed'"
                                  " WHERE appointment_id = 'g2' RETURNING 1) SELECT count(*) FROM u", NULL), 1);
    seen = false;
    for (int i = 0; i < 100 && !seen; i++) {
        char *body = s_metrics (port);
        seen = body && strstr (body, "\nmeso_clinic_sessions_completed_today{clinic=\"live\"} 2\n");
        free (body);
        if (!seen)
            mt_sleep_ms (100);
    }
    assert_true (seen);
    mt_stop (pid, SIGTERM);
    meso_result_reset (&r);
    fx_teardown (fx);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_utilisation),
        cmocka_unit_test (test_attendance_and_outcomes),
        cmocka_unit_test (test_report_refusals),
        cmocka_unit_test (test_late_cancel_and_gauges),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
