/* test_scheduling.c -- the scheduling daemon's promises, against real
 * PostgreSQL and real meso-screening, meso-inventory and meso-scheduling
 * over real sockets:
 *   - a course is planned and booked in one step: 10 sessions at least 7
 *     days apart, the gaps widening at the end, each booked with stock held
 *     and a session.booked event; a retry replays the same booking;
 *   - a course across a daylight-saving change keeps its local time;
 *   - an ineligible patient, an allergy to an ingredient of the cocktail or
 *     missing stock refuses the booking with the reason and leaves no
 *     appointment and no reservation;
 *   - the lifecycle: start (screening checked again: a patient who reported
 *     a change is stopped), complete with a score (non-responder after the
 *     5th session without improvement), cancel with notice, no-show,
 *     reschedule keeping the spacing; each with its event;
 *   - a reschedule moves the stock with the session: past the expiry of
 *     the lot it holds, to a lot that lasts, or refused when none does;
 *     the recipe version inventory gave is the one recorded;
 *   - bad input gets a clear error and changes nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "scheduling_fixture.h"

static const char *const s_practs[] = { "dr-a", "dr-b" };
static const char *const s_rooms[] = { "room-1", "room-2" };

static Meso__V1__BookCourseReply *
s_book_course (fx_t *fx, const char *clinic, const char *patient, const char *first, const char *time,
               int grade, unsigned sessions, const char *key, meso_result_t *r)
{
    Meso__V1__CourseSpec sp = MESO__V1__COURSE_SPEC__INIT;
    sp.clinic_id = (char *) clinic;
    sp.patient_id = (char *) patient;
    sp.grade = grade;
    char *areas[] = { "thighs" };
    sp.areas = areas;
    sp.n_areas = 1;
    sp.first_date = (char *) first;
    sp.preferred_time = (char *) time;
    sp.sessions = sessions;
    sp.recipe_id = "lipo";
    Meso__V1__BookCourseRequest rq = MESO__V1__BOOK_COURSE_REQUEST__INIT;
    rq.spec = &sp;
    if (fx_call (fx, fx->sch, "scheduling.BookCourse", &rq.base, key, r) != MESO_OK)
        return NULL;
    size_t len;
    const uint8_t *body = meso_result_body (r, &len);
    return meso__v1__book_course_reply__unpack (NULL, len, body);
}

static int
s_session_call (fx_t *fx, const char *method, const char *appt, meso_result_t *r)
{
    Meso__V1__SessionRef ref = MESO__V1__SESSION_REF__INIT;
    ref.appointment_id = (char *) appt;
    return fx_call (fx, fx->sch, method, &ref.base, NULL, r);
}

static int
s_complete (fx_t *fx, const char *appt, int score, bool *non_responder, meso_result_t *r)
{
    Meso__V1__CompleteSessionRequest rq = MESO__V1__COMPLETE_SESSION_REQUEST__INIT;
    rq.appointment_id = (char *) appt;
    rq.outcome_case = MESO__V1__COMPLETE_SESSION_REQUEST__OUTCOME_IMPROVEMENT_SCORE;
    rq.improvement_score = score;
    int st = fx_call (fx, fx->sch, "scheduling.CompleteSession", &rq.base, NULL, r);
    if (st == MESO_OK) {
        size_t len;
        const uint8_t *body = meso_result_body (r, &len);
        Meso__V1__SessionReply *out = meso__v1__session_reply__unpack (NULL, len, body);
        assert_non_null (out);
        assert_string_equal (meso_enum_str (&meso__v1__session_status__descriptor, (int) out->session->status), "completed");
        *non_responder = out->non_responder;
        meso__v1__session_reply__free_unpacked (out, NULL);
    }
    return st;
}

static void
test_course_booked_lifecycle (void **state)
{
    fx_t *fx = fx_setup ("sched_it_course", 1);
    fx_clinic (fx, "paris", "Europe/Paris", s_practs, 2, s_rooms, 2, true);
    char pat[40], first[11];
    fx_patient (fx, "paris", NULL, false, pat);
    fx_day (3, first);
    meso_result_t r = { 0 };

    /* The preview books nothing. */
    Meso__V1__CourseSpec sp = MESO__V1__COURSE_SPEC__INIT;
    sp.clinic_id = "paris";
    sp.patient_id = pat;
    sp.grade = 2;
    char *areas[] = { "thighs" };
    sp.areas = areas;
    sp.n_areas = 1;
    sp.first_date = first;
    sp.preferred_time = "10:00";
    Meso__V1__PlanCourseRequest pq = MESO__V1__PLAN_COURSE_REQUEST__INIT;
    pq.spec = &sp;
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.PlanCourse", &pq.base, NULL, &r), MESO_OK);
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__PlanCourseReply *plan = meso__v1__plan_course_reply__unpack (NULL, len, body);
    assert_non_null (plan);
    assert_true (plan->complete);
    assert_int_equal (plan->n_sessions, 10);
    int want_gaps[10] = { 0, 7, 7, 7, 7, 7, 7, 14, 21, 28 };
    for (size_t i = 0; i < plan->n_sessions; i++) {
        assert_int_equal (plan->sessions[i]->gap_days, want_gaps[i]);
        assert_string_equal (plan->sessions[i]->local_start + 11, "10:00");
    }
    meso__v1__plan_course_reply__free_unpacked (plan, NULL);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM scheduling.appointment", NULL), 0);

    /* Book it: 10 sessions booked, 10 reservations held, 10 events. */
    Meso__V1__BookCourseReply *bc = s_book_course (fx, "paris", pat, first, "10:00", 2, 0, "course-1", &r);
    assert_non_null (bc);
    assert_string_equal (meso_enum_str (&meso__v1__course_status__descriptor, (int) bc->course->status), "booked");
    assert_int_equal (bc->course->n_sessions, 10);
    char course[40], appts[10][40];
    snprintf (course, sizeof course, "%s", bc->course->course_id);
    for (int i = 0; i < 10; i++) {
        snprintf (appts[i], 40, "%s", bc->course->sessions[i]->appointment_id);
        assert_string_equal (meso_enum_str (&meso__v1__session_status__descriptor, (int) bc->course->sessions[i]->status), "booked");
    }
    meso__v1__book_course_reply__free_unpacked (bc, NULL);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM scheduling.appointment WHERE status = 'booked'", NULL), 10);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM inventory.reservation WHERE status = 'held'", NULL), 10);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM events.outbox WHERE type = 'session.booked'", NULL), 10);
    /* 10 sessions x 100 mg caffeine held */
    assert_int_equal (fx_sql (fx, "SELECT sum(reserved_milli) FROM inventory.lot WHERE ingredient_code = 'caffeine'",
                              NULL), 1000000);
    /* A retry with the same key replays the same course. */
    bc = s_book_course (fx, "paris", pat, first, "10:00", 2, 0, "course-1", &r);
    assert_non_null (bc);
    assert_true (r.reply->replayed);
    assert_string_equal (bc->course->course_id, course);
    meso__v1__book_course_reply__free_unpacked (bc, NULL);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM scheduling.appointment", NULL), 10);
    /* The same key with another request (11:00) is refused and books nothing. */
    assert_null (s_book_course (fx, "paris", pat, first, "11:00", 2, 0, "course-1", &r));
    assert_int_equal (r.status, MESO_FAILED_PRECONDITION);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM scheduling.appointment", NULL), 10);

    /* Reschedule session 6 one day later: 8 days after 5, but 6 days
     * before 7: refused; a slot of the same day at 15:00 is fine. */
    PGresult *res = meso_db_query (fx->db, "SELECT to_char(lower(during) AT TIME ZONE 'Europe/Paris', 'YYYY-MM-DD')"
                                   " FROM scheduling.appointment WHERE course_id = $1 AND session_number = 6",
                                   1, (const char *[]) { course });
    assert_non_null (res);
    int32_t d6;
    assert_int_equal (meso_date_parse (PQgetvalue (res, 0, 0), &d6), 0);
    PQclear (res);
    char ls[20], dd[11];
    meso_date_format (d6 + 1, dd, sizeof dd);
    snprintf (ls, sizeof ls, "%sT10:00", dd);
    Meso__V1__RescheduleRequest rs = MESO__V1__RESCHEDULE_REQUEST__INIT;
    rs.appointment_id = appts[5];
    rs.local_start = ls;
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.Reschedule", &rs.base, NULL, &r), MESO_FAILED_PRECONDITION);
    assert_true (fx_has_reason (&r, "spacing"));
    meso_date_format (d6, dd, sizeof dd);
    snprintf (ls, sizeof ls, "%sT15:00", dd);
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.Reschedule", &rs.base, NULL, &r), MESO_OK);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM events.outbox WHERE type = 'session.rescheduled'", NULL), 1);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM scheduling.appointment WHERE appointment_id = $1"
                              " AND to_char(lower(during) AT TIME ZONE 'Europe/Paris', 'HH24:MI') = '15:00'",
                              appts[5]), 1);

    /* Five sessions without improvement: the 5th flags the course. */
    bool nr = false;
    for (int i = 0; i < 5; i++) {
        assert_int_equal (s_session_call (fx, "scheduling.StartSession", appts[i], &r), MESO_OK);
        assert_int_equal (s_complete (fx, appts[i], 0, &nr, &r), MESO_OK);
        assert_int_equal (nr, i == 4);
    }
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM scheduling.course WHERE non_responder", NULL), 1);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM events.outbox WHERE type = 'session.started'", NULL), 5);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM events.outbox WHERE type = 'session.completed'", NULL), 5);
    /* Completing a session that has not started is refused. */
    assert_int_equal (s_complete (fx, appts[6], 2, &nr, &r), MESO_FAILED_PRECONDITION);
    /* Score out of range. */
    assert_int_equal (s_complete (fx, appts[4], 4, &nr, &r), MESO_INVALID_ARGUMENT);

    /* Cancel by the patient: notice given, event; cancelling twice is refused. */
    Meso__V1__CancelRequest cq = MESO__V1__CANCEL_REQUEST__INIT;
    cq.appointment_id = appts[6];
    cq.by = MESO__V1__CANCELLED_BY__CANCELLED_BY_PATIENT;
    cq.reason = "travel";
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.Cancel", &cq.base, NULL, &r), MESO_OK);
    body = meso_result_body (&r, &len);
    Meso__V1__SessionReply *sr = meso__v1__session_reply__unpack (NULL, len, body);
    assert_non_null (sr);
    assert_string_equal (meso_enum_str (&meso__v1__session_status__descriptor, (int) sr->session->status), "cancelled");
    assert_true (sr->notice_hours > 24);
    assert_false (sr->late);
    meso__v1__session_reply__free_unpacked (sr, NULL);
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.Cancel", &cq.base, NULL, &r), MESO_FAILED_PRECONDITION);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM events.outbox WHERE type = 'session.cancelled'", NULL), 1);
    /* No-show. */
    assert_int_equal (s_session_call (fx, "scheduling.MarkNoShow", appts[7], &r), MESO_OK);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM events.outbox WHERE type = 'session.no_show'", NULL), 1);

    /* The patient reports a pregnancy: the next session cannot start. */
    Meso__V1__ReportChangeRequest rc = MESO__V1__REPORT_CHANGE_REQUEST__INIT;
    rc.patient_id = pat;
    char *changes[] = { "pregnancy" };
    rc.changes = changes;
    rc.n_changes = 1;
    assert_int_equal (fx_call (fx, fx->scr, "screening.ReportChange", &rc.base, NULL, &r), MESO_OK);
    assert_int_equal (s_session_call (fx, "scheduling.StartSession", appts[8], &r), MESO_FAILED_PRECONDITION);
    assert_true (fx_has_reason (&r, "change_reported"));
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM scheduling.appointment WHERE appointment_id = $1"
                              " AND status = 'booked'", appts[8]), 1);

    /* GetCourse shows it all. */
    Meso__V1__GetCourseRequest gq = MESO__V1__GET_COURSE_REQUEST__INIT;
    gq.patient_id = pat;
    gq.key_case = MESO__V1__GET_COURSE_REQUEST__KEY_PATIENT_ID;
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.GetCourse", &gq.base, NULL, &r), MESO_OK);
    body = meso_result_body (&r, &len);
    Meso__V1__GetCourseReply *gc = meso__v1__get_course_reply__unpack (NULL, len, body);
    assert_non_null (gc);
    assert_int_equal (gc->n_courses, 1);
    assert_true (gc->courses[0]->non_responder);
    assert_int_equal (gc->courses[0]->n_sessions, 10);
    assert_string_equal (meso_enum_str (&meso__v1__session_status__descriptor, (int) gc->courses[0]->sessions[6]->status), "cancelled");
    assert_int_equal (gc->courses[0]->sessions[0]->outcome_case, MESO__V1__SESSION__OUTCOME_IMPROVEMENT_SCORE);
    assert_int_equal (gc->courses[0]->sessions[0]->improvement_score, 0);
    assert_int_equal (gc->courses[0]->sessions[9]->outcome_case, MESO__V1__SESSION__OUTCOME__NOT_SET);     /* not completed */
    meso__v1__get_course_reply__free_unpacked (gc, NULL);
    meso_result_reset (&r);
    assert_int_equal (fx_overlaps (fx), 0);
    fx_teardown (fx);
}

static void
test_dst_keeps_local_time (void **state)
{
    fx_t *fx = fx_setup ("sched_it_dst", 1);
    fx_clinic (fx, "paris", "Europe/Paris", s_practs, 1, s_rooms, 1, true);
    fx_clinic (fx, "nyc", "America/New_York", s_practs + 1, 1, s_rooms + 1, 1, true);
    char pat[40], pat2[40];
    fx_patient (fx, "paris", NULL, false, pat);
    fx_patient (fx, "nyc", NULL, false, pat2);
    meso_result_t r = { 0 };
    /* Europe/Paris springs forward on 2027-03-28: 2027-03-15, 22 are CET
     * (UTC+1), 03-29 is CEST (UTC+2). New York: 2027-03-14. */
    Meso__V1__BookCourseReply *bc = s_book_course (fx, "paris", pat, "2027-03-15", "10:00", 2, 3, NULL, &r);
    assert_non_null (bc);
    assert_int_equal (bc->course->n_sessions, 3);
    for (int i = 0; i < 3; i++)
        assert_string_equal (bc->course->sessions[i]->local_start + 11, "10:00");
    assert_string_equal (bc->course->sessions[0]->local_start, "2027-03-15T10:00");
    assert_string_equal (bc->course->sessions[1]->local_start, "2027-03-22T10:00");
    /* the last gap of a 3-session course widens to two weeks */
    assert_string_equal (bc->course->sessions[2]->local_start, "2027-04-05T10:00");
    char utc[40];
    meso_time_format_utc (bc->course->sessions[0]->starts_at_us, utc, sizeof utc);
    assert_string_equal (utc, "2027-03-15T09:00:00.000Z");
    meso_time_format_utc (bc->course->sessions[2]->starts_at_us, utc, sizeof utc);
    assert_string_equal (utc, "2027-04-05T08:00:00.000Z");
    /* 21 days minus the lost hour between the first and the last */
    assert_int_equal (bc->course->sessions[2]->starts_at_us - bc->course->sessions[0]->starts_at_us,
                      INT64_C (3600000000) * (21 * 24 - 1));
    meso__v1__book_course_reply__free_unpacked (bc, NULL);

    bc = s_book_course (fx, "nyc", pat2, "2027-03-08", "09:00", 2, 2, NULL, &r);
    assert_non_null (bc);
    assert_string_equal (bc->course->sessions[0]->local_start, "2027-03-08T09:00");
    assert_string_equal (bc->course->sessions[1]->local_start, "2027-03-15T09:00");
    meso_time_format_utc (bc->course->sessions[0]->starts_at_us, utc, sizeof utc);
    assert_string_equal (utc, "2027-03-08T14:00:00.000Z");
    meso_time_format_utc (bc->course->sessions[1]->starts_at_us, utc, sizeof utc);
    assert_string_equal (utc, "2027-03-15T13:00:00.000Z");
    meso__v1__book_course_reply__free_unpacked (bc, NULL);
    meso_result_reset (&r);
    fx_teardown (fx);
}

static void
test_refusals_leave_nothing (void **state)
{
    fx_t *fx = fx_setup ("sched_it_refuse", 1);
    fx_clinic (fx, "paris", "Europe/Paris", s_practs, 1, s_rooms, 1, true);
    fx_clinic (fx, "empty", "Europe/Paris", s_practs + 1, 1, s_rooms + 1, 1, false);
    char pregnant[40], allergic[40], fine[40], first[11];
    fx_patient (fx, "paris", NULL, true, pregnant);
    fx_patient (fx, "paris", "caffeine", false, allergic);
    fx_patient (fx, "empty", NULL, false, fine);
    fx_day (2, first);
    meso_result_t r = { 0 };
    assert_null (s_book_course (fx, "paris", pregnant, first, "10:00", 2, 0, NULL, &r));
    assert_int_equal (r.status, MESO_FAILED_PRECONDITION);
    assert_true (fx_has_reason (&r, "pregnancy"));
    assert_null (s_book_course (fx, "paris", allergic, first, "10:00", 2, 0, NULL, &r));
    assert_int_equal (r.status, MESO_FAILED_PRECONDITION);
    assert_true (fx_has_reason (&r, "allergy"));
    assert_null (s_book_course (fx, "empty", fine, first, "10:00", 2, 4, NULL, &r));
    assert_int_equal (r.status, MESO_RESOURCE_EXHAUSTED);
    assert_true (fx_has_reason (&r, "insufficient_stock"));
    meso_result_reset (&r);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM scheduling.appointment", NULL), 0);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM inventory.reservation WHERE status = 'held'", NULL), 0);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM scheduling.course WHERE status <> 'failed'", NULL), 0);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM events.outbox WHERE stream = 'session'", NULL), 0);
    fx_teardown (fx);
}

static void
test_bad_input_changes_nothing (void **state)
{
    fx_t *fx = fx_setup ("sched_it_bad", 1);
    fx_clinic (fx, "paris", "Europe/Paris", s_practs, 1, s_rooms, 1, true);
    char pat[40], first[11], ls[20];
    fx_patient (fx, "paris", NULL, false, pat);
    fx_day (2, first);
    meso_result_t r = { 0 };
    int64_t before = fx_sql (fx, "SELECT count(*) FROM scheduling.idempotency", NULL);
    /* unknown clinic */
    assert_null (s_book_course (fx, "nowhere", pat, first, "10:00", 2, 0, NULL, &r));
    assert_int_equal (r.status, MESO_NOT_FOUND);
    assert_true (fx_has_reason (&r, "unknown_clinic"));
    /* grade 0 */
    assert_null (s_book_course (fx, "paris", pat, first, "10:00", 0, 0, NULL, &r));
    assert_int_equal (r.status, MESO_INVALID_ARGUMENT);
    assert_string_equal (r.reply->reasons[0]->field, "spec.grade");
    /* a time outside the opening hours (08:00-20:00) */
    snprintf (ls, sizeof ls, "%sT21:00", first);
    assert_int_equal (fx_book_session (fx, fx->sch, "paris", pat, "dr-a", "room-1", ls, 60, NULL, &r),
                      MESO_INVALID_ARGUMENT);
    assert_true (fx_has_reason (&r, "outside_hours"));
    snprintf (ls, sizeof ls, "%sT19:30", first);      /* ends after closing */
    assert_int_equal (fx_book_session (fx, fx->sch, "paris", pat, "dr-a", "room-1", ls, 60, NULL, &r),
                      MESO_INVALID_ARGUMENT);
    /* end before start: opening hours closing before they open */
    Meso__V1__DayHours h = MESO__V1__DAY_HOURS__INIT;
    h.weekday = 1;
    h.opens = "18:00";
    h.closes = "09:00";
    Meso__V1__DayHours *hp[] = { &h };
    Meso__V1__Clinic c = MESO__V1__CLINIC__INIT;
    c.clinic_id = "lyon";
    c.name = "Lyon";
    c.time_zone = "Europe/Paris";
    c.hours = hp;
    c.n_hours = 1;
    Meso__V1__UpsertClinicRequest cr = MESO__V1__UPSERT_CLINIC_REQUEST__INIT;
    cr.clinic = &c;
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.UpsertClinic", &cr.base, NULL, &r), MESO_INVALID_ARGUMENT);
    assert_true (fx_has_reason (&r, "end_before_start"));
    /* unknown time zone */
    h.opens = "09:00";
    h.closes = "18:00";
    c.time_zone = "Mars/Olympus";
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.UpsertClinic", &cr.base, NULL, &r), MESO_INVALID_ARGUMENT);
    assert_true (fx_has_reason (&r, "unknown_time_zone"));
    /* a first date in the past, an unknown appointment, a spacing under 7 days */
    assert_null (s_book_course (fx, "paris", pat, "2020-01-06", "10:00", 2, 0, NULL, &r));
    assert_int_equal (r.status, MESO_INVALID_ARGUMENT);
    assert_int_equal (s_session_call (fx, "scheduling.StartSession", "no-such-appointment", &r), MESO_NOT_FOUND);
    Meso__V1__CourseSettings cs = MESO__V1__COURSE_SETTINGS__INIT;
    cs.spacing_min_days = 3;
    c.time_zone = "Europe/Paris";
    c.course = &cs;
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.UpsertClinic", &cr.base, NULL, &r), MESO_INVALID_ARGUMENT);
    /* an undecodable body */
    Meso__V1__SessionRef junk = MESO__V1__SESSION_REF__INIT;
    junk.appointment_id = "x";
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.UpsertRoom", &junk.base, NULL, &r), MESO_INVALID_ARGUMENT);
    meso_result_reset (&r);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM scheduling.appointment", NULL), 0);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM scheduling.course", NULL), 0);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM scheduling.clinic", NULL), 1);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM scheduling.idempotency", NULL), before);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM inventory.reservation", NULL), 0);
    fx_teardown (fx);
}

static void
s_receive (fx_t *fx, const char *clinic, const char *ingredient, const char *lot_number, int expiry_days,
           int64_t qty)
{
    char expiry[11];
    fx_day (expiry_days, expiry);
    Meso__V1__ReceiveRequest rv = MESO__V1__RECEIVE_REQUEST__INIT;
    rv.clinic_id = (char *) clinic;
    rv.ingredient_code = (char *) ingredient;
    rv.lot_number = (char *) lot_number;
    rv.expiry_date = expiry;
    rv.quantity_milli = qty;
    meso_result_t r = { 0 };
    assert_int_equal (fx_call (fx, fx->inv, "inventory.Receive", &rv.base, NULL, &r), MESO_OK);
    meso_result_reset (&r);
}

/* Reserved amount of an appointment in the lot with this number. */
static int64_t
s_held_in (fx_t *fx, const char *appt, const char *lot_number)
{
    char sql[400];
    snprintf (sql, sizeof sql,
              "SELECT coalesce(sum(rl.amount_milli), 0) FROM inventory.reservation_line rl"
              " JOIN inventory.lot l USING (clinic_id, lot_id)"
              " JOIN inventory.reservation r USING (clinic_id, appointment_id)"
              " WHERE rl.appointment_id = $1 AND r.status = 'held' AND l.lot_number = '%s'", lot_number);
    return fx_sql (fx, sql, appt);
}

/* Reschedule keeps the stock right: a session moved past the expiry of
 * the lot it holds moves to a lot that lasts, or, when none does, the
 * reschedule is refused and nothing changes. The recipe version comes
 * from inventory and is recorded on both sides. */
static void
test_reschedule_moves_stock (void **state)
{
    fx_t *fx = fx_setup ("sched_it_resched", 1);
    fx_clinic (fx, "paris", "Europe/Paris", s_practs, 2, s_rooms, 2, false);
    s_receive (fx, "paris", "caffeine", "CAF-SHORT", 10, INT64_C (1000000));   /* 1 g, 10 days */
    s_receive (fx, "paris", "caffeine", "CAF-LONG", 60, INT64_C (100000));     /* one session */
    s_receive (fx, "paris", "l_carnitine", "LC-1", 700, INT64_C (1000000));
    char p1[40], p2[40], p3[40], d5[11], d6[11], d7[11], d20[11], d25[11], ls[20];
    fx_patient (fx, "paris", NULL, false, p1);
    fx_patient (fx, "paris", NULL, false, p2);
    fx_patient (fx, "paris", NULL, false, p3);
    fx_day (5, d5);
    fx_day (6, d6);
    fx_day (7, d7);
    fx_day (20, d20);
    fx_day (25, d25);
    meso_result_t r = { 0 };
    char a1[40], a2[40], a3[40];
    snprintf (ls, sizeof ls, "%sT10:00", d5);
    assert_int_equal (fx_book_session (fx, fx->sch, "paris", p1, "dr-a", "room-1", ls, 60, a1, &r), MESO_OK);
    assert_int_equal (s_held_in (fx, a1, "CAF-SHORT"), 100000);
    assert_int_equal (fx_sql (fx, "SELECT recipe_version FROM scheduling.appointment WHERE appointment_id = $1", a1), 1);

    /* Day 5 -> day 20: CAF-SHORT expires on day 10, so the 100 mg move to
     * CAF-LONG; L-carnitine stays. */
    Meso__V1__RescheduleRequest rs = MESO__V1__RESCHEDULE_REQUEST__INIT;
    rs.appointment_id = a1;
    snprintf (ls, sizeof ls, "%sT11:00", d20);
    rs.local_start = ls;
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.Reschedule", &rs.base, NULL, &r), MESO_OK);
    assert_int_equal (s_held_in (fx, a1, "CAF-SHORT"), 0);
    assert_int_equal (s_held_in (fx, a1, "CAF-LONG"), 100000);
    assert_int_equal (s_held_in (fx, a1, "LC-1"), 50000);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM inventory.reservation WHERE appointment_id = $1"
                              " AND session_date = (SELECT (lower(during) AT TIME ZONE 'Europe/Paris')::date"
                              "  FROM scheduling.appointment WHERE appointment_id = $1)", a1), 1);
    assert_int_equal (fx_sql (fx, "SELECT reserved_milli FROM inventory.lot WHERE lot_number = 'CAF-SHORT'", NULL), 0);
    assert_int_equal (fx_sql (fx, "SELECT reserved_milli FROM inventory.lot WHERE lot_number = 'CAF-LONG'", NULL), 100000);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM events.outbox WHERE type = 'session.rescheduled'", NULL), 1);

    /* A second session on day 6 holds CAF-SHORT; day 25 would need a lot
     * that lasts, and CAF-LONG is all held: refused, nothing moves. */
    snprintf (ls, sizeof ls, "%sT10:00", d6);
    assert_int_equal (fx_book_session (fx, fx->sch, "paris", p2, "dr-a", "room-1", ls, 60, a2, &r), MESO_OK);
    assert_int_equal (s_held_in (fx, a2, "CAF-SHORT"), 100000);
    rs.appointment_id = a2;
    snprintf (ls, sizeof ls, "%sT10:00", d25);
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.Reschedule", &rs.base, NULL, &r), MESO_RESOURCE_EXHAUSTED);
    assert_true (fx_has_reason (&r, "insufficient_stock"));
    char want[20];
    snprintf (want, sizeof want, "%sT10:00", d6);
    PGresult *res = meso_db_query (fx->db, "SELECT to_char(lower(during) AT TIME ZONE 'Europe/Paris',"
                                   " 'YYYY-MM-DD\"T\"HH24:MI') FROM scheduling.appointment WHERE appointment_id = $1",
                                   1, (const char *[]) { a2 });
    assert_non_null (res);
    assert_string_equal (PQgetvalue (res, 0, 0), want);
    PQclear (res);
    assert_int_equal (s_held_in (fx, a2, "CAF-SHORT"), 100000);
    res = meso_db_query (fx->db, "SELECT session_date::text FROM inventory.reservation WHERE appointment_id = $1",
                         1, (const char *[]) { a2 });
    assert_non_null (res);
    assert_string_equal (PQgetvalue (res, 0, 0), d6);
    PQclear (res);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM events.outbox WHERE type = 'session.rescheduled'", NULL), 1);
    /* Within the same day, the reservation is left as it is. */
    snprintf (ls, sizeof ls, "%sT16:00", d6);
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.Reschedule", &rs.base, NULL, &r), MESO_OK);
    assert_int_equal (s_held_in (fx, a2, "CAF-SHORT"), 100000);

    /* A new recipe version (thighs: caffeine 120 mg): the next booking
     * records version 2, as inventory gave it, and holds 120 mg. */
    Meso__V1__RecipeLine l1 = MESO__V1__RECIPE_LINE__INIT, l2 = MESO__V1__RECIPE_LINE__INIT;
    l1.area = "thighs"; l1.ingredient_code = "caffeine"; l1.amount_milli = 120000;
    l2.area = "thighs"; l2.ingredient_code = "l_carnitine"; l2.amount_milli = 50000;
    Meso__V1__RecipeLine *lines[] = { &l1, &l2 };
    Meso__V1__UpsertRecipeRequest uq = MESO__V1__UPSERT_RECIPE_REQUEST__INIT;
    uq.recipe_id = "lipo";
    uq.name = "Lipolytic v2";
    uq.lines = lines;
    uq.n_lines = 2;
    assert_int_equal (fx_call (fx, fx->inv, "inventory.UpsertRecipe", &uq.base, NULL, &r), MESO_OK);
    snprintf (ls, sizeof ls, "%sT10:00", d7);
    assert_int_equal (fx_book_session (fx, fx->sch, "paris", p3, "dr-b", "room-2", ls, 60, a3, &r), MESO_OK);
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__BookCourseReply *bc = meso__v1__book_course_reply__unpack (NULL, len, body);
    assert_non_null (bc);
    assert_int_equal (bc->course->recipe_version, 2);
    meso__v1__book_course_reply__free_unpacked (bc, NULL);
    assert_int_equal (fx_sql (fx, "SELECT recipe_version FROM scheduling.appointment WHERE appointment_id = $1", a3), 2);
    assert_int_equal (fx_sql (fx, "SELECT recipe_version FROM inventory.reservation WHERE appointment_id = $1", a3), 2);
    assert_int_equal (s_held_in (fx, a3, "CAF-SHORT"), 120000);
    /* The first session keeps the version it was booked with. */
    assert_int_equal (fx_sql (fx, "SELECT recipe_version FROM scheduling.appointment WHERE appointment_id = $1", a1), 1);
    meso_result_reset (&r);
    fx_check_complete_or_absent (fx);
    fx_teardown (fx);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_course_booked_lifecycle),
        cmocka_unit_test (test_dst_keeps_local_time),
        cmocka_unit_test (test_refusals_leave_nothing),
        cmocka_unit_test (test_bad_input_changes_nothing),
        cmocka_unit_test (test_reschedule_moves_stock),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
