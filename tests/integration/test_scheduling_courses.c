/* test_scheduling_courses.c -- the course rules of DOMAIN.md ("Safety
 * rules that hold across services") through the real daemons
 * (screening, inventory, scheduling) and PostgreSQL, each at its
 * boundary: grade 3's session count, the washout on day 6 and day 7, 6
 * and 7 days between sessions of two courses, overlapping courses per
 * clinic, the screening's grade, a screening expiring mid-course, an
 * omitted improvement score, explicit zero maintenance and grade 1's
 * yearly session announced once. The clinics live in UTC so that "today"
 * is the same day for the test, screening and the clinic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "scheduling_fixture.h"
#include "events.pb-c.h"

static const char *const s_practs[] = { "dr-a", "dr-b" };
static const char *const s_rooms[] = { "room-1", "room-2" };

/* Re-upserts clinic c (open every day 08:00-20:00) with course settings. */
static void
s_clinic_settings (fx_t *fx, const char *c, unsigned maintenance, bool overlap)
{
    meso_result_t r = { 0 };
    Meso__V1__DayHours h[7], *hp[7];
    for (int d = 0; d < 7; d++) {
        meso__v1__day_hours__init (&h[d]);
        h[d].weekday = d + 1;
        h[d].opens = "08:00";
        h[d].closes = "20:00";
        hp[d] = &h[d];
    }
    Meso__V1__CourseSettings cs = MESO__V1__COURSE_SETTINGS__INIT;
    cs.maintenance_sessions = maintenance;
    cs.allow_overlapping_courses = overlap;
    Meso__V1__Clinic cl = MESO__V1__CLINIC__INIT;
    cl.clinic_id = (char *) c;
    cl.name = (char *) c;
    cl.time_zone = "UTC";
    cl.hours = hp;
    cl.n_hours = 7;
    cl.course = &cs;
    Meso__V1__UpsertClinicRequest rq = MESO__V1__UPSERT_CLINIC_REQUEST__INIT;
    rq.clinic = &cl;
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.UpsertClinic", &rq.base, NULL, &r), MESO_OK);
    meso_result_reset (&r);
}

static void
s_validity (fx_t *fx, const char *clinic, unsigned days)
{
    meso_result_t r = { 0 };
    Meso__V1__ClinicSettings cs = MESO__V1__CLINIC_SETTINGS__INIT;
    cs.clinic_id = (char *) clinic;
    cs.validity_days = days;
    Meso__V1__SetClinicSettingsRequest sq = MESO__V1__SET_CLINIC_SETTINGS_REQUEST__INIT;
    sq.settings = &cs;
    assert_int_equal (fx_call (fx, fx->scr, "screening.SetClinicSettings", &sq.base, NULL, &r), MESO_OK);
    meso_result_reset (&r);
}

/* Registers and screens a patient (thighs at grade, the last
 * anti-inflammatory dose on dose, NULL: none), who signs the clinic's
 * consent. */
static void
s_patient (fx_t *fx, const char *clinic, int grade, const char *dose, char *id)
{
    meso_result_t r = { 0 };
    Meso__V1__Patient p = MESO__V1__PATIENT__INIT;
    p.given_name = "Iris";
    p.family_name = "Moreau";
    p.birth_date = "1988-02-11";
    p.sex = MESO__V1__SEX__SEX_FEMALE;
    p.home_clinic_id = (char *) clinic;
    Meso__V1__RegisterPatientRequest rq = MESO__V1__REGISTER_PATIENT_REQUEST__INIT;
    rq.patient = &p;
    assert_int_equal (fx_call (fx, fx->scr, "screening.RegisterPatient", &rq.base, NULL, &r), MESO_OK);
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__RegisterPatientReply *rep = meso__v1__register_patient_reply__unpack (NULL, len, body);
    assert_non_null (rep);
    snprintf (id, 40, "%s", rep->patient->id);
    meso__v1__register_patient_reply__free_unpacked (rep, NULL);
    Meso__V1__Questionnaire q = MESO__V1__QUESTIONNAIRE__INIT;
    Meso__V1__Answer no = MESO__V1__ANSWER__ANSWER_NO;
    q.pregnancy = q.breastfeeding = q.diabetes = q.active_infection = no;
    q.septicaemia = q.immunocompromised = q.liver_failure = q.kidney_failure = no;
    q.coagulation_disorder = q.menstrual_disorder = q.cancer = no;
    q.heart_arrhythmia = q.blood_clots = no;
    q.height_mm = 1680;
    q.weight_g = 62000;
    if (dose)
        q.last_anti_inflammatory_dose = (char *) dose;
    Meso__V1__AreaGrade ag = MESO__V1__AREA_GRADE__INIT;
    ag.area = "thighs";
    ag.grade = grade;
    Meso__V1__AreaGrade *ags[] = { &ag };
    q.areas = ags;
    q.n_areas = 1;
    Meso__V1__RecordScreeningRequest sr = MESO__V1__RECORD_SCREENING_REQUEST__INIT;
    sr.patient_id = id;
    sr.clinic_id = (char *) clinic;
    sr.answers = &q;
    assert_int_equal (fx_call (fx, fx->scr, "screening.RecordScreening", &sr.base, NULL, &r), MESO_OK);
    meso_result_reset (&r);
    /* Booking needs the clinic's current treatment consent signed. */
    fx_sign_consent (fx, id, clinic, 1);
}

static fx_t *
s_setup (const char *name)
{
    fx_t *fx = fx_setup (name, 1);
    fx_clinic (fx, "utc", "UTC", s_practs, 2, s_rooms, 2, true);
    return fx;
}

/* A course spec over thighs with recipe lipo at 10:00; maintenance < 0:
 * absent. */
static void
s_spec (Meso__V1__CourseSpec *sp, char **areas, const char *patient, int grade, const char *first, unsigned sessions,
        int maintenance)
{
    meso__v1__course_spec__init (sp);
    sp->clinic_id = "utc";
    sp->patient_id = (char *) patient;
    sp->grade = grade;
    areas[0] = "thighs";
    sp->areas = areas;
    sp->n_areas = 1;
    sp->first_date = (char *) first;
    sp->preferred_time = "10:00";
    sp->sessions = sessions;
    sp->recipe_id = "lipo";
    if (maintenance >= 0) {
        sp->maintenance_case = MESO__V1__COURSE_SPEC__MAINTENANCE_MAINTENANCE_SESSIONS;
        sp->maintenance_sessions = (uint32_t) maintenance;
    }
}

static Meso__V1__PlanCourseReply *
s_plan (fx_t *fx, const char *patient, int grade, const char *first, unsigned sessions, int maintenance)
{
    Meso__V1__CourseSpec sp;
    char *areas[1];
    s_spec (&sp, areas, patient, grade, first, sessions, maintenance);
    Meso__V1__PlanCourseRequest rq = MESO__V1__PLAN_COURSE_REQUEST__INIT;
    rq.spec = &sp;
    meso_result_t r = { 0 };
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.PlanCourse", &rq.base, NULL, &r), MESO_OK);
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__PlanCourseReply *out = meso__v1__plan_course_reply__unpack (NULL, len, body);
    assert_non_null (out);
    meso_result_reset (&r);
    return out;
}

/* BookCourse; the reply (OK) or NULL with r holding the refusal. */
static Meso__V1__BookCourseReply *
s_book (fx_t *fx, const char *patient, int grade, const char *first, unsigned sessions, int maintenance,
        meso_result_t *r)
{
    Meso__V1__CourseSpec sp;
    char *areas[1];
    s_spec (&sp, areas, patient, grade, first, sessions, maintenance);
    Meso__V1__BookCourseRequest rq = MESO__V1__BOOK_COURSE_REQUEST__INIT;
    rq.spec = &sp;
    if (fx_call (fx, fx->sch, "scheduling.BookCourse", &rq.base, NULL, r) != MESO_OK)
        return NULL;
    size_t len;
    const uint8_t *body = meso_result_body (r, &len);
    Meso__V1__BookCourseReply *out = meso__v1__book_course_reply__unpack (NULL, len, body);
    assert_non_null (out);
    return out;
}

static int
s_ref (fx_t *fx, const char *method, const char *appt)
{
    Meso__V1__SessionRef ref = MESO__V1__SESSION_REF__INIT;
    ref.appointment_id = (char *) appt;
    meso_result_t r = { 0 };
    int st = fx_call (fx, fx->sch, method, &ref.base, NULL, &r);
    meso_result_reset (&r);
    return st;
}

/* Completes a started session, with a score (>= 0) or none (< 0);
 * returns the reply's non_responder and the session's recorded score. */
static bool
s_complete (fx_t *fx, const char *appt, int score, int *recorded)
{
    Meso__V1__CompleteSessionRequest rq = MESO__V1__COMPLETE_SESSION_REQUEST__INIT;
    rq.appointment_id = (char *) appt;
    if (score >= 0) {
        rq.outcome_case = MESO__V1__COMPLETE_SESSION_REQUEST__OUTCOME_IMPROVEMENT_SCORE;
        rq.improvement_score = score;
    }
    meso_result_t r = { 0 };
    if (fx_call (fx, fx->sch, "scheduling.CompleteSession", &rq.base, NULL, &r) != MESO_OK)
        fail_msg ("CompleteSession: %s", r.message);
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__SessionReply *out = meso__v1__session_reply__unpack (NULL, len, body);
    assert_non_null (out);
    bool nr = out->non_responder;
    *recorded = out->session->outcome_case == MESO__V1__SESSION__OUTCOME_IMPROVEMENT_SCORE ? out->session->improvement_score : -1;
    meso__v1__session_reply__free_unpacked (out, NULL);
    meso_result_reset (&r);
    return nr;
}

static void
s_day_of (const char *local, char *out)
{
    snprintf (out, 11, "%.10s", local);
}

/* ------------------------------------------------------------- tests */

/* Grade 3 plans 21 sessions ("more than 20"), and the course books them
 * all when the screening stays valid that long; an explicit zero
 * maintenance plans none where the clinic's setting would add two; grade 1
 * is a course of one. */
static void
test_grade3_count_and_maintenance (void **state)
{
    fx_t *fx = s_setup ("sched_course_grade3");
    s_clinic_settings (fx, "utc", 2, false);
    s_validity (fx, "utc", 400);
    char pat[40], first[11];
    s_patient (fx, "utc", 3, NULL, pat);
    fx_day (2, first);

    Meso__V1__PlanCourseReply *p = s_plan (fx, pat, 3, first, 0, -1);
    assert_int_equal (p->n_sessions, 21 + 2);           /* the clinic's two maintenance sessions */
    int course = 0;
    for (size_t i = 0; i < p->n_sessions; i++)
        course += !p->sessions[i]->maintenance;
    assert_int_equal (course, 21);
    meso__v1__plan_course_reply__free_unpacked (p, NULL);

    p = s_plan (fx, pat, 3, first, 0, 0);               /* explicit zero */
    assert_int_equal (p->n_sessions, 21);
    for (size_t i = 0; i < p->n_sessions; i++)
        assert_false (p->sessions[i]->maintenance);
    meso__v1__plan_course_reply__free_unpacked (p, NULL);

    p = s_plan (fx, pat, 1, first, 0, -1);              /* grade 1: one session, no maintenance */
    assert_int_equal (p->n_sessions, 1);
    meso__v1__plan_course_reply__free_unpacked (p, NULL);

    meso_result_t r = { 0 };
    Meso__V1__BookCourseReply *bc = s_book (fx, pat, 3, first, 0, 0, &r);
    assert_non_null (bc);
    assert_int_equal (bc->course->n_sessions, 21);
    meso__v1__book_course_reply__free_unpacked (bc, NULL);
    meso_result_reset (&r);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM scheduling.appointment WHERE patient_id = $1"
                              " AND status = 'booked'", pat), 21);
    fx_check_complete_or_absent (fx);
    fx_teardown (fx);
}

/* The last anti-inflammatory dose today: the first session may be on day
 * 7, not day 6. Planning or booking from day 6 starts on day 7 and says
 * so; from day 7 nothing moves. */
static void
test_washout_day6_day7 (void **state)
{
    fx_t *fx = s_setup ("sched_course_washout");
    char dose[11], d6[11], d7[11], a[40], b[40];
    fx_day (0, dose);
    fx_day (6, d6);
    fx_day (7, d7);
    s_patient (fx, "utc", 2, dose, a);
    s_patient (fx, "utc", 2, dose, b);

    Meso__V1__PlanCourseReply *p = s_plan (fx, a, 2, d6, 2, 0);
    char day[11];
    s_day_of (p->sessions[0]->local_start, day);
    assert_string_equal (day, d7);
    assert_non_null (strstr (p->first_date_note, "moved from"));
    assert_non_null (strstr (p->first_date_note, d7));
    meso__v1__plan_course_reply__free_unpacked (p, NULL);

    meso_result_t r = { 0 };
    Meso__V1__BookCourseReply *bc = s_book (fx, a, 2, d6, 2, 0, &r);
    assert_non_null (bc);
    s_day_of (bc->course->sessions[0]->local_start, day);
    assert_string_equal (day, d7);
    assert_string_equal (bc->course->requested_first_date, d6);
    assert_non_null (strstr (bc->course->first_date_note, d7));
    char course[40];
    snprintf (course, sizeof course, "%s", bc->course->course_id);
    meso__v1__book_course_reply__free_unpacked (bc, NULL);
    meso_result_reset (&r);
    /* the note stays with the course */
    Meso__V1__GetCourseRequest gq = MESO__V1__GET_COURSE_REQUEST__INIT;
    gq.course_id = course;
    gq.key_case = MESO__V1__GET_COURSE_REQUEST__KEY_COURSE_ID;
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.GetCourse", &gq.base, NULL, &r), MESO_OK);
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__GetCourseReply *gc = meso__v1__get_course_reply__unpack (NULL, len, body);
    assert_non_null (gc);
    assert_non_null (strstr (gc->courses[0]->first_date_note, "washout"));
    meso__v1__get_course_reply__free_unpacked (gc, NULL);
    meso_result_reset (&r);

    bc = s_book (fx, b, 2, d7, 2, 0, &r);               /* day 7: as asked */
    assert_non_null (bc);
    s_day_of (bc->course->sessions[0]->local_start, day);
    assert_string_equal (day, d7);
    assert_string_equal (bc->course->first_date_note, "");
    meso__v1__book_course_reply__free_unpacked (bc, NULL);
    meso_result_reset (&r);
    fx_check_complete_or_absent (fx);
    fx_teardown (fx);
}

/* Two courses of one patient: a session 6 days after the other course's
 * is never planned (the plan takes day 7), a single session 6 days after
 * is refused, 7 days after is booked, and cannot be moved back to 6. */
static void
test_spacing_across_courses (void **state)
{
    fx_t *fx = s_setup ("sched_course_spacing");
    char pat[40], d0[11], d7[11], d13[11], d14[11], at20[20], at21[20], day[11];
    s_patient (fx, "utc", 2, NULL, pat);
    fx_day (3, d0);
    fx_day (3 + 7, d7);
    fx_day (3 + 13, d13);
    fx_day (3 + 14, d14);
    fx_day (3 + 20, day);
    snprintf (at20, sizeof at20, "%sT10:00", day);
    fx_day (3 + 21, day);
    snprintf (at21, sizeof at21, "%sT10:00", day);
    meso_result_t r = { 0 };

    Meso__V1__BookCourseReply *bc = s_book (fx, pat, 2, d0, 2, 0, &r);  /* d0 and d0 + 7 */
    assert_non_null (bc);
    s_day_of (bc->course->sessions[1]->local_start, day);
    assert_string_equal (day, d7);
    meso__v1__book_course_reply__free_unpacked (bc, NULL);
    meso_result_reset (&r);

    bc = s_book (fx, pat, 2, d13, 1, 0, &r);            /* asked 6 days after: lands 7 after */
    assert_non_null (bc);
    s_day_of (bc->course->sessions[0]->local_start, day);
    assert_string_equal (day, d14);
    meso__v1__book_course_reply__free_unpacked (bc, NULL);
    meso_result_reset (&r);

    assert_int_equal (fx_book_session (fx, fx->sch, "utc", pat, "dr-a", "room-1", at20, 0, NULL, &r),
                      MESO_FAILED_PRECONDITION);
    assert_true (fx_has_reason (&r, "too_close"));
    assert_non_null (strstr (r.message, d14));
    char single[40];
    assert_int_equal (fx_book_session (fx, fx->sch, "utc", pat, "dr-a", "room-1", at21, 0, single, &r), MESO_OK);
    meso_result_reset (&r);
    /* moving the single session back to 6 days after the course's is refused too */
    Meso__V1__RescheduleRequest rs = MESO__V1__RESCHEDULE_REQUEST__INIT;
    rs.appointment_id = single;
    rs.local_start = at20;
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.Reschedule", &rs.base, NULL, &r), MESO_FAILED_PRECONDITION);
    assert_true (fx_has_reason (&r, "too_close"));
    meso_result_reset (&r);
    /* no two sessions of the patient closer than a week */
    assert_int_equal (fx_sql (fx,
        "SELECT count(*) FROM scheduling.appointment a JOIN scheduling.appointment b"
        " ON a.patient_id = b.patient_id AND a.appointment_id < b.appointment_id"
        " WHERE a.patient_id = $1 AND a.status = 'booked' AND b.status = 'booked'"
        " AND abs(lower(a.during)::date - lower(b.during)::date) < 7", pat), 0);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM scheduling.appointment WHERE patient_id = $1"
                              " AND status = 'booked'", pat), 4);
    fx_check_complete_or_absent (fx);
    fx_teardown (fx);
}

/* A course inside another active course's dates is refused unless the
 * clinic allows overlapping courses; a course asked with another grade
 * than the screening's is refused. */
static void
test_overlap_and_grade (void **state)
{
    fx_t *fx = s_setup ("sched_course_overlap");
    char pat[40], d0[11], d21[11], day[11];
    fx_patient (fx, "utc", NULL, false, pat);           /* thighs at grade 2 */
    fx_day (3, d0);
    fx_day (3 + 21, d21);
    meso_result_t r = { 0 };

    assert_null (s_book (fx, pat, 3, d0, 2, 0, &r));    /* screened grade 2 */
    assert_int_equal (r.status, MESO_FAILED_PRECONDITION);
    assert_true (fx_has_reason (&r, "grade_mismatch"));
    meso_result_reset (&r);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM scheduling.appointment", NULL), 0);

    Meso__V1__BookCourseReply *bc = s_book (fx, pat, 2, d0, 4, 0, &r); /* d0, +7, +14, +28 */
    assert_non_null (bc);
    assert_int_equal (bc->course->n_sessions, 4);
    meso__v1__book_course_reply__free_unpacked (bc, NULL);
    meso_result_reset (&r);

    assert_null (s_book (fx, pat, 2, d21, 1, 0, &r));
    assert_int_equal (r.status, MESO_FAILED_PRECONDITION);
    assert_true (fx_has_reason (&r, "course_overlap"));
    meso_result_reset (&r);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM scheduling.appointment WHERE patient_id = $1", pat), 4);

    s_clinic_settings (fx, "utc", 0, true);
    bc = s_book (fx, pat, 2, d21, 1, 0, &r);
    assert_non_null (bc);
    s_day_of (bc->course->sessions[0]->local_start, day);
    assert_string_equal (day, d21);                     /* 7 days from +14 and from +28 */
    meso__v1__book_course_reply__free_unpacked (bc, NULL);
    meso_result_reset (&r);
    fx_check_complete_or_absent (fx);
    fx_teardown (fx);
}

/* A screening valid 30 days: a course whose last session is on day 30
 * books; one whose 5th session falls after it is refused, naming the
 * session and its date, and nothing is booked. */
static void
test_screening_expires_mid_course (void **state)
{
    fx_t *fx = s_setup ("sched_course_validity");
    s_validity (fx, "utc", 30);
    char a[40], b[40], first[11], d30[11], d51[11];
    s_patient (fx, "utc", 2, NULL, a);
    s_patient (fx, "utc", 2, NULL, b);
    fx_day (2, first);
    fx_day (30, d30);
    fx_day (51, d51);
    meso_result_t r = { 0 };

    /* 4 sessions: +2, +9, +16, +30 (the last gap widens to two weeks) */
    Meso__V1__BookCourseReply *bc = s_book (fx, a, 2, first, 4, 0, &r);
    assert_non_null (bc);
    char day[11];
    s_day_of (bc->course->sessions[3]->local_start, day);
    assert_string_equal (day, d30);
    meso__v1__book_course_reply__free_unpacked (bc, NULL);
    meso_result_reset (&r);

    /* 5 sessions: the 5th on +51, after the validity */
    assert_null (s_book (fx, b, 2, first, 5, 0, &r));
    assert_int_equal (r.status, MESO_FAILED_PRECONDITION);
    assert_true (fx_has_reason (&r, "screening_expires"));
    assert_non_null (strstr (r.message, "session 5"));
    assert_non_null (strstr (r.message, d51));
    assert_non_null (strstr (r.message, d30));
    meso_result_reset (&r);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM scheduling.appointment WHERE patient_id = $1", b), 0);
    fx_check_complete_or_absent (fx);
    fx_teardown (fx);
}

/* An omitted score is "not recorded" (absent; -1 here), not 0: four recorded zeros and
 * one unrecorded session do not flag the course; the fifth recorded zero
 * does. */
static void
test_omitted_score (void **state)
{
    fx_t *fx = s_setup ("sched_course_score");
    char pat[40], first[11];
    s_patient (fx, "utc", 2, NULL, pat);
    fx_day (2, first);
    meso_result_t r = { 0 };
    Meso__V1__BookCourseReply *bc = s_book (fx, pat, 2, first, 6, 0, &r);
    assert_non_null (bc);
    char appts[6][40];
    for (int i = 0; i < 6; i++)
        snprintf (appts[i], 40, "%s", bc->course->sessions[i]->appointment_id);
    meso__v1__book_course_reply__free_unpacked (bc, NULL);
    meso_result_reset (&r);
    int recorded;
    for (int i = 0; i < 6; i++) {
        assert_int_equal (s_ref (fx, "scheduling.StartSession", appts[i]), MESO_OK);
        bool nr = s_complete (fx, appts[i], i == 0 ? -1 : 0, &recorded);
        assert_int_equal (recorded, i == 0 ? -1 : 0);
        assert_int_equal (nr, i == 5);                  /* 5 recorded outcomes only at the 6th */
    }
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM scheduling.appointment WHERE patient_id = $1"
                              " AND status = 'completed' AND improvement_score IS NULL", pat), 1);
    fx_teardown (fx);
}

/* Grade 1: a course of one session; once it is done and its next yearly
 * session falls due (here within the notice given to the daemon),
 * session.retreatment_due names the course, the patient and the due day
 * -- once, across a restart. */
static void
test_grade1_retreatment_due (void **state)
{
    fx_t *fx = s_setup ("sched_course_retreat");
    s_clinic_settings (fx, "utc", 2, false);
    const char *env[] = { "MESO_SCHEDULING_RETREATMENT_NOTICE_DAYS=731",
                          "MESO_SCHEDULING_RETREATMENT_CHECK_MS=1000", NULL };
    mt_stop (fx->sched_pid[0], SIGTERM);
    fx->sched_pid[0] = fx_spawn_scheduling (fx, 0, env);
    assert_int_equal (mt_wait_healthy (fx->sched_ep[0], 10000), 0);
    char pat[40], first[11];
    s_patient (fx, "utc", 1, NULL, pat);
    fx_day (2, first);
    meso_result_t r = { 0 };
    Meso__V1__BookCourseReply *bc = s_book (fx, pat, 1, first, 0, -1, &r);
    assert_non_null (bc);
    assert_int_equal (bc->course->n_sessions, 1);       /* no maintenance for grade 1 */
    char appt[40], course[40];
    snprintf (appt, sizeof appt, "%s", bc->course->sessions[0]->appointment_id);
    snprintf (course, sizeof course, "%s", bc->course->course_id);
    meso__v1__book_course_reply__free_unpacked (bc, NULL);
    meso_result_reset (&r);
    mt_sleep_ms (1500);
    /* nothing due before the session is done */
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM events.outbox WHERE type = 'session.retreatment_due'",
                              NULL), 0);
    assert_int_equal (s_ref (fx, "scheduling.StartSession", appt), MESO_OK);
    int recorded;
    s_complete (fx, appt, 2, &recorded);
    int64_t n = 0;
    for (int i = 0; i < 100 && n == 0; i++) {
        mt_sleep_ms (100);
        n = fx_sql (fx, "SELECT count(*) FROM events.outbox WHERE type = 'session.retreatment_due'", NULL);
    }
    assert_int_equal (n, 1);
    PGresult *res = meso_db_query (fx->db, "SELECT payload FROM events.outbox"
                                   " WHERE type = 'session.retreatment_due'", 0, NULL);
    assert_non_null (res);
    size_t len = 0;
    unsigned char *raw = PQunescapeBytea ((const unsigned char *) PQgetvalue (res, 0, 0), &len);
    PQclear (res);
    Meso__V1__Event *ev = meso__v1__event__unpack (NULL, len, raw);
    PQfreemem (raw);
    assert_non_null (ev);
    assert_int_equal (ev->payload_case, MESO__V1__EVENT__PAYLOAD_SESSION_RETREATMENT_DUE);
    Meso__V1__SessionRetreatmentDue *x = ev->session_retreatment_due;
    assert_string_equal (x->course_id, course);
    assert_string_equal (x->patient_id, pat);
    assert_string_equal (x->clinic_id, "utc");
    assert_string_equal (x->last_session_date, first);
    int y, m, d;
    int32_t fd;
    assert_int_equal (meso_date_parse (first, &fd), 0);
    meso_date_to_ymd (fd, &y, &m, &d);
    if (m == 2 && d == 29 && !meso_date_valid (y + 1, m, d))
        d = 28;
    char due[11];
    meso_date_format (meso_date_from_ymd (y + 1, m, d), due, sizeof due);
    assert_string_equal (x->due_date, due);
    meso__v1__event__free_unpacked (ev, NULL);
    /* once: not again on later ticks, nor after a restart */
    mt_stop (fx->sched_pid[0], SIGTERM);
    fx->sched_pid[0] = fx_spawn_scheduling (fx, 0, env);
    assert_int_equal (mt_wait_healthy (fx->sched_ep[0], 10000), 0);
    mt_sleep_ms (2500);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM events.outbox WHERE type = 'session.retreatment_due'",
                              NULL), 1);
    fx_teardown (fx);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_grade3_count_and_maintenance),
        cmocka_unit_test (test_washout_day6_day7),
        cmocka_unit_test (test_spacing_across_courses),
        cmocka_unit_test (test_overlap_and_grade),
        cmocka_unit_test (test_screening_expires_mid_course),
        cmocka_unit_test (test_omitted_score),
        cmocka_unit_test (test_grade1_retreatment_due),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
