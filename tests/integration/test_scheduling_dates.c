/* test_scheduling_dates.c -- what a caller sends cannot give a session an
 * impossible time or poison a record, against real PostgreSQL and real
 * meso-screening, meso-inventory and meso-scheduling over real sockets:
 *   - every way a session gets a time (BookSession, Reschedule, PlanCourse
 *     and BookCourse start dates) refuses the past and dates beyond the
 *     horizon (5 years ahead of the clinic's local today), naming the
 *     field and the horizon, and changes nothing;
 *   - a local time inside a daylight-saving gap (spring forward) is
 *     refused, naming the gap, and the planner and GetAvailability never
 *     propose one; an ambiguous local time (autumn, it happens twice) is
 *     the first occurrence, the earlier UTC instant (RFC 5545);
 *   - string fields past their documented limits, a clinic listed twice
 *     for a practitioner and an area listed twice get INVALID_ARGUMENT
 *     naming the field, before any database work, and change nothing.
 * "Nothing changed" is a fingerprint of every scheduling table (and of
 * inventory's reservations and the outbox) taken before and after. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "scheduling_fixture.h"

static const char *const s_practs[] = { "dr-a" };
static const char *const s_rooms[] = { "room-1" };

/* md5 of every row of the scheduling tables, inventory's reservations and
 * the outbox, each table's rows in order. out: 33 bytes. */
static void
s_fingerprint (fx_t *fx, char *out)
{
    PGresult *res = meso_db_query (fx->db,
        "SELECT md5(string_agg(t, '|' ORDER BY t)) FROM ("
        " SELECT 'c' || x::text AS t FROM scheduling.clinic x"
        " UNION ALL SELECT 'h' || x::text FROM scheduling.clinic_hours x"
        " UNION ALL SELECT 'p' || x::text FROM scheduling.practitioner x"
        " UNION ALL SELECT 'ph' || x::text FROM scheduling.practitioner_hours x"
        " UNION ALL SELECT 'po' || x::text FROM scheduling.practitioner_day_off x"
        " UNION ALL SELECT 'r' || x::text FROM scheduling.room x"
        " UNION ALL SELECT 'co' || x::text FROM scheduling.course x"
        " UNION ALL SELECT 'a' || x::text FROM scheduling.appointment x"
        " UNION ALL SELECT 'i' || x::text FROM scheduling.idempotency x"
        " UNION ALL SELECT 'ir' || x::text FROM inventory.reservation x"
        " UNION ALL SELECT 'o' || x::text FROM events.outbox x) s", 0, NULL);
    if (!res)
        fail_msg ("fingerprint: %s", meso_db_error (fx->db)->message);
    snprintf (out, 33, "%s", PQgetvalue (res, 0, 0));
    PQclear (res);
}

/* The reason with this code, or NULL. */
static const Meso__V1__Reason *
s_reason (const meso_result_t *r, const char *code)
{
    for (size_t i = 0; r->reply && i < r->reply->n_reasons; i++)
        if (strcmp (r->reply->reasons[i]->code, code) == 0)
            return r->reply->reasons[i];
    return NULL;
}

/* Asserts r is INVALID_ARGUMENT with a reason code on field, and that
 * the message contains text (NULL: any). */
static void
s_refused (const meso_result_t *r, const char *code, const char *field, const char *text)
{
    if (r->status != MESO_INVALID_ARGUMENT)
        fail_msg ("expected INVALID_ARGUMENT (%s on %s), got %d: %s", code, field, r->status,
                  r->message ? r->message : "");
    const Meso__V1__Reason *x = s_reason (r, code);
    if (!x)
        fail_msg ("no reason %s in \"%s\"", code, r->message ? r->message : "");
    assert_string_equal (x->field, field);
    if (text && !strstr (r->message, text))
        fail_msg ("\"%s\" does not contain \"%s\"", r->message, text);
}

/* The last Sunday of month in year, "YYYY-MM-DD" (the European clock
 * changes: March forward, October back). */
static void
s_last_sunday (int year, int month, char *out)
{
    int32_t d = meso_date_from_ymd (year, month, 31);
    while (meso_date_weekday (d) != 6)
        d--;
    meso_date_format (d, out, 11);
}

/* The next last Sunday of month at least a week from today. */
static void
s_next_change (int month, char *out)
{
    int32_t today = (int32_t) (meso_time_now_us () / INT64_C (86400000000));
    int y, m, d;
    meso_date_to_ymd (today, &y, &m, &d);
    for (;; y++) {
        s_last_sunday (y, month, out);
        int32_t day;
        assert_int_equal (meso_date_parse (out, &day), 0);
        if (day >= today + 7)
            return;
    }
}

/* A clinic open around the clock (00:00-24:00 every day) in Europe/Paris,
 * with dr-n working all of it, one room, stock, and screenings valid for
 * 800 days: the clock changes at 02:00 and 03:00 fall inside its hours. */
static void
s_night_clinic (fx_t *fx)
{
    fx_clinic (fx, "night", "Europe/Paris", NULL, 0, NULL, 0, true);
    meso_result_t r = { 0 };
    Meso__V1__DayHours h[7], *hp[7];
    for (int d = 0; d < 7; d++) {
        meso__v1__day_hours__init (&h[d]);
        h[d].weekday = d + 1;
        h[d].opens = "00:00";
        h[d].closes = "24:00";
        hp[d] = &h[d];
    }
    Meso__V1__Clinic c = MESO__V1__CLINIC__INIT;
    c.clinic_id = "night";
    c.name = "Night";
    c.time_zone = "Europe/Paris";
    c.hours = hp;
    c.n_hours = 7;
    Meso__V1__UpsertClinicRequest cr = MESO__V1__UPSERT_CLINIC_REQUEST__INIT;
    cr.clinic = &c;
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.UpsertClinic", &cr.base, NULL, &r), MESO_OK);
    Meso__V1__PractitionerClinic pc = MESO__V1__PRACTITIONER_CLINIC__INIT;
    pc.clinic_id = "night";
    pc.hours = hp;
    pc.n_hours = 7;
    Meso__V1__PractitionerClinic *pcp[] = { &pc };
    Meso__V1__Practitioner p = MESO__V1__PRACTITIONER__INIT;
    p.practitioner_id = "dr-n";
    p.name = "Dr N";
    p.clinics = pcp;
    p.n_clinics = 1;
    Meso__V1__UpsertPractitionerRequest pr = MESO__V1__UPSERT_PRACTITIONER_REQUEST__INIT;
    pr.practitioner = &p;
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.UpsertPractitioner", &pr.base, NULL, &r), MESO_OK);
    Meso__V1__Room rm = MESO__V1__ROOM__INIT;
    rm.clinic_id = "night";
    rm.room_id = "room-n";
    rm.name = "N";
    rm.active = true;
    Meso__V1__UpsertRoomRequest rr = MESO__V1__UPSERT_ROOM_REQUEST__INIT;
    rr.room = &rm;
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.UpsertRoom", &rr.base, NULL, &r), MESO_OK);
    /* screenings stay valid long enough to book at the next clock change */
    Meso__V1__ClinicSettings cs = MESO__V1__CLINIC_SETTINGS__INIT;
    cs.clinic_id = "night";
    cs.validity_days = 800;
    Meso__V1__SetClinicSettingsRequest sq = MESO__V1__SET_CLINIC_SETTINGS_REQUEST__INIT;
    sq.settings = &cs;
    assert_int_equal (fx_call (fx, fx->scr, "screening.SetClinicSettings", &sq.base, NULL, &r), MESO_OK);
    meso_result_reset (&r);
}

static int
s_course_call (fx_t *fx, const char *method, const char *clinic, const char *patient, const char *first,
               const char *time, unsigned sessions, meso_result_t *r)
{
    Meso__V1__CourseSpec sp = MESO__V1__COURSE_SPEC__INIT;
    sp.clinic_id = (char *) clinic;
    sp.patient_id = (char *) patient;
    sp.grade = 2;
    char *areas[] = { "thighs" };
    sp.areas = areas;
    sp.n_areas = 1;
    sp.first_date = (char *) first;
    sp.preferred_time = (char *) time;
    sp.sessions = sessions;
    sp.recipe_id = "lipo";
    Meso__V1__BookCourseRequest rq = MESO__V1__BOOK_COURSE_REQUEST__INIT;   /* same shape as PlanCourse's */
    rq.spec = &sp;
    return fx_call (fx, fx->sch, method, &rq.base, NULL, r);
}

static int
s_reschedule (fx_t *fx, const char *appt, const char *local_start, meso_result_t *r)
{
    Meso__V1__RescheduleRequest rs = MESO__V1__RESCHEDULE_REQUEST__INIT;
    rs.appointment_id = (char *) appt;
    rs.local_start = (char *) local_start;
    return fx_call (fx, fx->sch, "scheduling.Reschedule", &rs.base, NULL, r);
}

/* Reschedule into the past is refused as BookSession's is, and changes
 * nothing; so is a date beyond the horizon. */
static void
test_reschedule_into_the_past (void **state)
{
    fx_t *fx = fx_setup ("sched_dates_past", 1);
    fx_clinic (fx, "paris", "Europe/Paris", s_practs, 1, s_rooms, 1, true);
    char pat[40], day[11], ls[20], appt[40], before[33], after[33];
    fx_patient (fx, "paris", NULL, false, pat);
    meso_result_t r = { 0 };
    fx_day (3, day);
    snprintf (ls, sizeof ls, "%sT10:00", day);
    assert_int_equal (fx_book_session (fx, fx->sch, "paris", pat, "dr-a", "room-1", ls, 60, appt, &r), MESO_OK);
    s_fingerprint (fx, before);

    fx_day (-2, day);
    snprintf (ls, sizeof ls, "%sT10:00", day);
    s_reschedule (fx, appt, ls, &r);
    s_refused (&r, "in_the_past", "local_start", "in the past");
    /* the same rule as BookSession's */
    fx_book_session (fx, fx->sch, "paris", pat, "dr-a", "room-1", ls, 60, NULL, &r);
    s_refused (&r, "in_the_past", "local_start", "in the past");

    fx_day (5 * 366 + 2, day);
    snprintf (ls, sizeof ls, "%sT10:00", day);
    s_reschedule (fx, appt, ls, &r);
    s_refused (&r, "beyond_horizon", "local_start", "5 years");
    s_reschedule (fx, appt, "9999-12-31T10:00", &r);
    s_refused (&r, "beyond_horizon", "local_start", "5 years");
    s_reschedule (fx, appt, "0001-01-01T10:00", &r);
    s_refused (&r, "in_the_past", "local_start", NULL);
    meso_result_reset (&r);
    s_fingerprint (fx, after);
    assert_string_equal (before, after);
    fx_teardown (fx);
}

/* PlanCourse, BookCourse and BookSession beyond the horizon are refused
 * naming the field and the horizon; a date within it is planned. */
static void
test_beyond_the_horizon (void **state)
{
    fx_t *fx = fx_setup ("sched_dates_horizon", 1);
    fx_clinic (fx, "paris", "Europe/Paris", s_practs, 1, s_rooms, 1, true);
    char pat[40], far[11], near[11], ls[20], before[33], after[33];
    fx_patient (fx, "paris", NULL, false, pat);
    meso_result_t r = { 0 };
    s_fingerprint (fx, before);
    fx_day (5 * 366 + 2, far);
    const char *firsts[] = { "9999-12-31", far };
    for (int i = 0; i < 2; i++) {
        s_course_call (fx, "scheduling.PlanCourse", "paris", pat, firsts[i], "10:00", 2, &r);
        s_refused (&r, "beyond_horizon", "spec.first_date", "5 years");
        s_course_call (fx, "scheduling.BookCourse", "paris", pat, firsts[i], "10:00", 2, &r);
        s_refused (&r, "beyond_horizon", "spec.first_date", "5 years");
        snprintf (ls, sizeof ls, "%sT10:00", firsts[i]);
        fx_book_session (fx, fx->sch, "paris", pat, "dr-a", "room-1", ls, 60, NULL, &r);
        s_refused (&r, "beyond_horizon", "local_start", "5 years");
    }
    /* an absurd past date */
    s_course_call (fx, "scheduling.PlanCourse", "paris", pat, "0001-01-01", "10:00", 2, &r);
    s_refused (&r, "in_the_past", "spec.first_date", NULL);
    s_fingerprint (fx, after);
    assert_string_equal (before, after);
    /* four years ahead is fine */
    fx_day (4 * 365, near);
    assert_int_equal (s_course_call (fx, "scheduling.PlanCourse", "paris", pat, near, "10:00", 2, &r), MESO_OK);
    meso_result_reset (&r);
    fx_teardown (fx);
}

/* A local time that does not exist (spring forward) is refused naming
 * the gap; nothing proposes one. */
static void
test_dst_gap (void **state)
{
    fx_t *fx = fx_setup ("sched_dates_gap", 1);
    fx_clinic (fx, "paris", "Europe/Paris", s_practs, 1, s_rooms, 1, true);
    s_night_clinic (fx);
    char pat[40], spring[11], ls[20], want[160], appt[40], before[33], after[33];
    fx_patient (fx, "night", NULL, false, pat);
    s_next_change (3, spring);
    meso_result_t r = { 0 };
    s_fingerprint (fx, before);
    snprintf (ls, sizeof ls, "%sT02:30", spring);
    fx_book_session (fx, fx->sch, "night", pat, "dr-n", "room-n", ls, 60, NULL, &r);
    snprintf (want, sizeof want, "%s does not exist in Europe/Paris: clocks go from 02:00 to 03:00", ls);
    s_refused (&r, "dst_gap", "local_start", want);
    s_fingerprint (fx, after);
    assert_string_equal (before, after);

    /* The planner's nearest slot to 02:00 is not 02:00 (it does not
     * exist) but 01:00, at its true instant; GetAvailability has no 02:00. */
    Meso__V1__CourseSpec sp = MESO__V1__COURSE_SPEC__INIT;
    sp.clinic_id = "night";
    sp.patient_id = pat;
    sp.grade = 1;
    char *areas[] = { "thighs" };
    sp.areas = areas;
    sp.n_areas = 1;
    sp.first_date = spring;
    sp.preferred_time = "02:00";
    Meso__V1__PlanCourseRequest pq = MESO__V1__PLAN_COURSE_REQUEST__INIT;
    pq.spec = &sp;
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.PlanCourse", &pq.base, NULL, &r), MESO_OK);
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__PlanCourseReply *plan = meso__v1__plan_course_reply__unpack (NULL, len, body);
    assert_non_null (plan);
    assert_int_equal (plan->n_sessions, 1);
    snprintf (ls, sizeof ls, "%sT01:00", spring);
    assert_string_equal (plan->sessions[0]->local_start, ls);
    char utc[40], wantutc[40];
    meso_time_format_utc (plan->sessions[0]->starts_at_us, utc, sizeof utc);
    snprintf (wantutc, sizeof wantutc, "%sT00:00:00.000Z", spring);
    assert_string_equal (utc, wantutc);
    meso__v1__plan_course_reply__free_unpacked (plan, NULL);

    Meso__V1__GetAvailabilityRequest ga = MESO__V1__GET_AVAILABILITY_REQUEST__INIT;
    ga.clinic_id = "night";
    ga.date = spring;
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.GetAvailability", &ga.base, NULL, &r), MESO_OK);
    body = meso_result_body (&r, &len);
    Meso__V1__GetAvailabilityReply *av = meso__v1__get_availability_reply__unpack (NULL, len, body);
    assert_non_null (av);
    assert_int_equal (av->n_slots, 23);             /* 24 hours less the lost one */
    for (size_t i = 0; i < av->n_slots; i++)
        assert_null (strstr (av->slots[i]->local_start, "T02:"));
    meso__v1__get_availability_reply__free_unpacked (av, NULL);

    /* Reschedule into the gap is refused too. */
    snprintf (ls, sizeof ls, "%sT05:00", spring);
    assert_int_equal (fx_book_session (fx, fx->sch, "night", pat, "dr-n", "room-n", ls, 60, appt, &r), MESO_OK);
    s_fingerprint (fx, before);
    snprintf (ls, sizeof ls, "%sT02:00", spring);
    s_reschedule (fx, appt, ls, &r);
    s_refused (&r, "dst_gap", "local_start", "clocks go from 02:00 to 03:00");
    meso_result_reset (&r);
    s_fingerprint (fx, after);
    assert_string_equal (before, after);
    fx_teardown (fx);
}

/* An ambiguous local time (the autumn hour that happens twice) is its
 * first occurrence, the earlier UTC instant, for a session asked for by
 * hand and for the planner alike. */
static void
test_dst_ambiguous_first_occurrence (void **state)
{
    fx_t *fx = fx_setup ("sched_dates_ambiguous", 1);
    fx_clinic (fx, "paris", "Europe/Paris", s_practs, 1, s_rooms, 1, true);
    s_night_clinic (fx);
    char pat[40], pat2[40], autumn[11], ls[20], appt[40], utc[40], want[40];
    fx_patient (fx, "night", NULL, false, pat);
    fx_patient (fx, "night", NULL, false, pat2);
    s_next_change (10, autumn);
    meso_result_t r = { 0 };
    /* 02:30 CEST (UTC+2) is 00:30Z; the second 02:30 (CET) is 01:30Z. */
    snprintf (ls, sizeof ls, "%sT02:30", autumn);
    assert_int_equal (fx_book_session (fx, fx->sch, "night", pat, "dr-n", "room-n", ls, 30, appt, &r), MESO_OK);
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__BookCourseReply *bc = meso__v1__book_course_reply__unpack (NULL, len, body);
    assert_non_null (bc);
    meso_time_format_utc (bc->course->sessions[0]->starts_at_us, utc, sizeof utc);
    snprintf (want, sizeof want, "%sT00:30:00.000Z", autumn);
    assert_string_equal (utc, want);
    assert_string_equal (bc->course->sessions[0]->local_start, ls);
    meso__v1__book_course_reply__free_unpacked (bc, NULL);

    /* The planner: 02:00 that day is 00:00Z. */
    Meso__V1__CourseSpec sp = MESO__V1__COURSE_SPEC__INIT;
    sp.clinic_id = "night";
    sp.patient_id = pat2;
    sp.grade = 1;
    char *areas[] = { "thighs" };
    sp.areas = areas;
    sp.n_areas = 1;
    sp.first_date = autumn;
    sp.preferred_time = "02:00";
    sp.practitioner_id = "dr-n";
    Meso__V1__PlanCourseRequest pq = MESO__V1__PLAN_COURSE_REQUEST__INIT;
    pq.spec = &sp;
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.PlanCourse", &pq.base, NULL, &r), MESO_OK);
    body = meso_result_body (&r, &len);
    Meso__V1__PlanCourseReply *plan = meso__v1__plan_course_reply__unpack (NULL, len, body);
    assert_non_null (plan);
    /* dr-n holds 00:30Z-01:00Z (the first 02:30): the first 02:00 slot
     * [00:00Z, 01:00Z) overlaps it, so the nearest free is 01:00 or 03:00 */
    assert_true (strcmp (plan->sessions[0]->local_start + 11, "02:00") != 0);
    meso__v1__plan_course_reply__free_unpacked (plan, NULL);
    meso_result_reset (&r);
    fx_teardown (fx);
}

/* Strings past their limits, a clinic listed twice and an area listed
 * twice: INVALID_ARGUMENT naming the field, nothing changed. */
static void
test_limits_and_duplicates (void **state)
{
    fx_t *fx = fx_setup ("sched_dates_limits", 1);
    fx_clinic (fx, "paris", "Europe/Paris", s_practs, 1, s_rooms, 1, true);
    fx_clinic (fx, "lyon", "Europe/Paris", NULL, 0, NULL, 0, false);
    char pat[40], before[33], after[33], day[11], ls[20], appt[40];
    fx_patient (fx, "paris", NULL, false, pat);
    meso_result_t r = { 0 };
    fx_day (3, day);
    snprintf (ls, sizeof ls, "%sT10:00", day);
    assert_int_equal (fx_book_session (fx, fx->sch, "paris", pat, "dr-a", "room-1", ls, 60, appt, &r), MESO_OK);
    s_fingerprint (fx, before);
    char *big = malloc (1000001);
    assert_non_null (big);
    memset (big, 'x', 1000000);
    big[1000000] = '\0';
    char n201[202];
    memset (n201, 'n', 201);
    n201[201] = '\0';

    /* a 201-byte clinic name (an update of paris) */
    Meso__V1__Clinic c = MESO__V1__CLINIC__INIT;
    c.clinic_id = "paris";
    c.name = n201;
    c.time_zone = "Europe/Paris";
    Meso__V1__UpsertClinicRequest cr = MESO__V1__UPSERT_CLINIC_REQUEST__INIT;
    cr.clinic = &c;
    fx_call (fx, fx->sch, "scheduling.UpsertClinic", &cr.base, NULL, &r);
    s_refused (&r, "too_long", "clinic.name", "200");
    c.name = "Paris";
    c.time_zone = big;
    fx_call (fx, fx->sch, "scheduling.UpsertClinic", &cr.base, NULL, &r);
    s_refused (&r, "too_long", "clinic.time_zone", NULL);

    /* the same clinic twice for a practitioner */
    Meso__V1__PractitionerClinic pc1 = MESO__V1__PRACTITIONER_CLINIC__INIT, pc2 = MESO__V1__PRACTITIONER_CLINIC__INIT;
    pc1.clinic_id = "paris";
    pc2.clinic_id = "paris";
    Meso__V1__PractitionerClinic *pcp[] = { &pc1, &pc2 };
    Meso__V1__Practitioner p = MESO__V1__PRACTITIONER__INIT;
    p.practitioner_id = "dr-a";
    p.name = "A";
    p.clinics = pcp;
    p.n_clinics = 2;
    Meso__V1__UpsertPractitionerRequest pr = MESO__V1__UPSERT_PRACTITIONER_REQUEST__INIT;
    pr.practitioner = &p;
    fx_call (fx, fx->sch, "scheduling.UpsertPractitioner", &pr.base, NULL, &r);
    s_refused (&r, "duplicate", "practitioner.clinics[1].clinic_id", "listed twice");
    pc2.clinic_id = "lyon";
    p.name = n201;
    fx_call (fx, fx->sch, "scheduling.UpsertPractitioner", &pr.base, NULL, &r);
    s_refused (&r, "too_long", "practitioner.name", "200");

    /* a 1,000,000-byte room name */
    Meso__V1__Room rm = MESO__V1__ROOM__INIT;
    rm.clinic_id = "paris";
    rm.room_id = "room-1";
    rm.name = big;
    rm.active = true;
    Meso__V1__UpsertRoomRequest rr = MESO__V1__UPSERT_ROOM_REQUEST__INIT;
    rr.room = &rm;
    fx_call (fx, fx->sch, "scheduling.UpsertRoom", &rr.base, NULL, &r);
    s_refused (&r, "too_long", "room.name", NULL);

    /* ids, notes and reasons of the session methods */
    Meso__V1__CancelRequest cq = MESO__V1__CANCEL_REQUEST__INIT;
    cq.appointment_id = big;
    cq.by = MESO__V1__CANCELLED_BY__CANCELLED_BY_CLINIC;
    fx_call (fx, fx->sch, "scheduling.Cancel", &cq.base, NULL, &r);
    s_refused (&r, "too_long", "appointment_id", NULL);
    cq.appointment_id = appt;
    cq.reason = big;
    fx_call (fx, fx->sch, "scheduling.Cancel", &cq.base, NULL, &r);
    s_refused (&r, "too_long", "reason", NULL);
    Meso__V1__CompleteSessionRequest cs = MESO__V1__COMPLETE_SESSION_REQUEST__INIT;
    cs.appointment_id = appt;
    cs.notes = big;
    fx_call (fx, fx->sch, "scheduling.CompleteSession", &cs.base, NULL, &r);
    s_refused (&r, "too_long", "notes", NULL);
    s_reschedule (fx, big, ls, &r);
    s_refused (&r, "too_long", "appointment_id", NULL);
    Meso__V1__GetCourseRequest gc = MESO__V1__GET_COURSE_REQUEST__INIT;
    gc.patient_id = big;
    gc.key_case = MESO__V1__GET_COURSE_REQUEST__KEY_PATIENT_ID;
    fx_call (fx, fx->sch, "scheduling.GetCourse", &gc.base, NULL, &r);
    s_refused (&r, "too_long", "patient_id", NULL);
    gc.patient_id = NULL;
    gc.course_id = big;
    gc.key_case = MESO__V1__GET_COURSE_REQUEST__KEY_COURSE_ID;
    fx_call (fx, fx->sch, "scheduling.GetCourse", &gc.base, NULL, &r);
    s_refused (&r, "too_long", "course_id", NULL);

    /* a patient id past 64 bytes, an area twice, a recipe id that is no
     * code on a plan */
    char p65[66];
    memset (p65, 'p', 65);
    p65[65] = '\0';
    s_course_call (fx, "scheduling.PlanCourse", "paris", p65, day, "10:00", 2, &r);
    s_refused (&r, "too_long", "spec.patient_id", NULL);
    Meso__V1__CourseSpec sp = MESO__V1__COURSE_SPEC__INIT;
    sp.clinic_id = "paris";
    sp.patient_id = pat;
    sp.grade = 2;
    char *areas[] = { "thighs", "thighs" };
    sp.areas = areas;
    sp.n_areas = 2;
    sp.first_date = day;
    sp.recipe_id = "lipo";
    Meso__V1__BookCourseRequest bq = MESO__V1__BOOK_COURSE_REQUEST__INIT;
    bq.spec = &sp;
    fx_call (fx, fx->sch, "scheduling.BookCourse", &bq.base, NULL, &r);
    s_refused (&r, "duplicate", "spec.areas[1]", "listed twice");
    sp.n_areas = 1;
    sp.recipe_id = big;
    fx_call (fx, fx->sch, "scheduling.PlanCourse", &bq.base, NULL, &r);
    s_refused (&r, "invalid_id", "spec.recipe_id", NULL);
    free (big);
    meso_result_reset (&r);
    s_fingerprint (fx, after);
    assert_string_equal (before, after);
    fx_teardown (fx);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_reschedule_into_the_past),
        cmocka_unit_test (test_beyond_the_horizon),
        cmocka_unit_test (test_dst_gap),
        cmocka_unit_test (test_dst_ambiguous_first_occurrence),
        cmocka_unit_test (test_limits_and_duplicates),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
