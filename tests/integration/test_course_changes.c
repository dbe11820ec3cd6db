/* test_course_changes.c -- whole-course changes and the re-plan of a slot
 * lost during a booking, through the real daemons (screening, inventory,
 * two scheduling instances, events; billing for the fees) and PostgreSQL:
 *
 *   - RescheduleCourse moves every remaining session from a date with the
 *     course's gaps (the first where the second was: the course's own
 *     slots do not block it), re-dates their stock, one session.rescheduled
 *     each;
 *   - all or nothing: a new slot taken between the plan and the move (from
 *     the other instance, while the first waits after its re-dates) moves
 *     nothing and puts every stock date back;
 *   - a process killed after its first re-date: recovery puts the stock
 *     date back and nothing moved;
 *   - CancelCourse cancels every remaining session, inventory releases the
 *     stock and billing charges the late-cancellation fee of the sessions
 *     inside the clinic's notice, from the session.cancelled events;
 *   - BookCourse whose planned slot another booking takes between the plan
 *     and the insert re-plans that session and names it in the reply.
 *
 * The clinic keeps UTC, one practitioner and one room, so a planned slot
 * taken is taken for good. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>

#include "scheduling_fixture.h"
#include "billing.pb-c.h"
#include "events.pb-c.h"

static const char *const s_practs[] = { "dr-a" };
static const char *const s_rooms[] = { "room-1" };

typedef struct {
    fx_t *fx;
    char wait_file[256];
    meso_bus_client_t *c0, *c1;         /* instance 0 (test hooks), instance 1 */
} s_ctx_t;

/* The clinic's cancellation notice: 168 h (a week). */
static void
s_notice (fx_t *fx)
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
    cs.cancel_notice_hours = 168;
    Meso__V1__Clinic cl = MESO__V1__CLINIC__INIT;
    cl.clinic_id = "utc";
    cl.name = "utc";
    cl.time_zone = "UTC";
    cl.hours = hp;
    cl.n_hours = 7;
    cl.course = &cs;
    Meso__V1__UpsertClinicRequest rq = MESO__V1__UPSERT_CLINIC_REQUEST__INIT;
    rq.clinic = &cl;
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.UpsertClinic", &rq.base, NULL, &r), MESO_OK);
    meso_result_reset (&r);
}

/* Two scheduling instances; env (may be NULL) for instance 0. */
static s_ctx_t *
s_setup (const char *name, const char *const *env)
{
    s_ctx_t *x = calloc (1, sizeof *x);
    assert_non_null (x);
    x->fx = fx_setup_events (name, 2);
    fx_clinic (x->fx, "utc", "UTC", s_practs, 1, s_rooms, 1, true);
    s_notice (x->fx);
    if (env) {
        mt_stop (x->fx->sched_pid[0], SIGTERM);
        x->fx->sched_pid[0] = fx_spawn_scheduling (x->fx, 0, env);
        assert_int_equal (mt_wait_healthy (x->fx->sched_ep[0], 10000), 0);
    }
    x->c0 = mt_client (x->fx->sched_ep[0]);
    x->c1 = mt_client (x->fx->sched_ep[1]);
    assert_true (x->c0 && x->c1);
    return x;
}

static void
s_teardown (s_ctx_t *x)
{
    meso_bus_client_destroy (&x->c0);
    meso_bus_client_destroy (&x->c1);
    fx_teardown (x->fx);
    free (x);
}

static void
s_spec (Meso__V1__CourseSpec *sp, char **areas, const char *patient, const char *first)
{
    meso__v1__course_spec__init (sp);
    sp->clinic_id = "utc";
    sp->patient_id = (char *) patient;
    sp->grade = 2;
    areas[0] = "thighs";
    sp->areas = areas;
    sp->n_areas = 1;
    sp->first_date = (char *) first;
    sp->preferred_time = "10:00";
    sp->sessions = 4;
    sp->recipe_id = "lipo";
    sp->maintenance_case = MESO__V1__COURSE_SPEC__MAINTENANCE_MAINTENANCE_SESSIONS;
    sp->maintenance_sessions = 0;
}

static int
s_call (meso_bus_client_t *c, const char *method, const ProtobufCMessage *body, meso_result_t *r)
{
    static atomic_int n;        /* two test threads call this */
    char key[96];
    snprintf (key, sizeof key, "cc-%d-%d-%d", (int) getpid (), (int) pthread_self () & 0xffff,
              atomic_fetch_add (&n, 1) + 1);
    meso_result_reset (r);
    meso_bus_client_call (c, method, body, key, 40000, r);
    return r->status;
}

static Meso__V1__BookCourseReply *
s_book (meso_bus_client_t *c, const char *patient, const char *first, meso_result_t *r)
{
    Meso__V1__CourseSpec sp;
    char *areas[1];
    s_spec (&sp, areas, patient, first);
    Meso__V1__BookCourseRequest rq = MESO__V1__BOOK_COURSE_REQUEST__INIT;
    rq.spec = &sp;
    if (s_call (c, "scheduling.BookCourse", &rq.base, r) != MESO_OK)
        return NULL;
    size_t len;
    const uint8_t *body = meso_result_body (r, &len);
    return meso__v1__book_course_reply__unpack (NULL, len, body);
}

/* RescheduleCourse under key (NULL: a new one). */
static Meso__V1__CourseChangeReply *
s_reschedule_key (meso_bus_client_t *c, const char *course, const char *from, const char *key, meso_result_t *r)
{
    Meso__V1__RescheduleCourseRequest rq = MESO__V1__RESCHEDULE_COURSE_REQUEST__INIT;
    rq.course_id = (char *) course;
    rq.from_date = (char *) from;
    if (key) {
        meso_result_reset (r);
        meso_bus_client_call (c, "scheduling.RescheduleCourse", &rq.base, key, 40000, r);
    }
    else
        s_call (c, "scheduling.RescheduleCourse", &rq.base, r);
    if (r->status != MESO_OK)
        return NULL;
    size_t len;
    const uint8_t *body = meso_result_body (r, &len);
    return meso__v1__course_change_reply__unpack (NULL, len, body);
}

static Meso__V1__CourseChangeReply *
s_reschedule (meso_bus_client_t *c, const char *course, const char *from, meso_result_t *r)
{
    return s_reschedule_key (c, course, from, NULL, r);
}

/* Where the course's sessions are, and their stock's dates, as text. */
static void
s_snapshot (fx_t *fx, const char *course, char *out, size_t size)
{
    const char *p[] = { course };
    PGresult *res = meso_db_query (fx->db,
        "SELECT string_agg (a.appointment_id || '@' || lower (a.during)::text || '/' || a.status"
        "   || '/' || r.session_date::text || '/' || r.status, ';' ORDER BY a.session_number)"
        " FROM scheduling.appointment a JOIN inventory.reservation r USING (clinic_id, appointment_id)"
        " WHERE a.course_id = $1", 1, p);
    assert_non_null (res);
    snprintf (out, size, "%s", PQgetvalue (res, 0, 0));
    PQclear (res);
}

static int32_t
s_day (const char *local)
{
    int32_t d;
    char date[11];
    snprintf (date, sizeof date, "%.10s", local);
    assert_int_equal (meso_date_parse (date, &d), 0);
    return d;
}

static void
s_wait_file (const char *path, bool exists)
{
    for (int i = 0; i < 400 && (access (path, F_OK) == 0) != exists; i++)
        mt_sleep_ms (50);
    assert_int_equal (access (path, F_OK) == 0, exists);
}

/* Polls sql until it returns want (at most 15 s). */
static void
s_until (fx_t *fx, const char *sql, const char *p1, int64_t want)
{
    int64_t v = -1;
    for (int i = 0; i < 300 && (v = fx_sql (fx, sql, p1)) != want; i++)
        mt_sleep_ms (50);
    if (v != want)
        fail_msg ("%s: %" PRId64 ", expected %" PRId64, sql, v, want);
}

/* Events of a type written so far (in the outbox or already relayed). */
static int64_t
s_events (fx_t *fx, const char *type)
{
    return fx_sql (fx, "SELECT (SELECT count(*) FROM events.outbox WHERE type = $1)"
                   " + (SELECT count(*) FROM events.log WHERE type = $1)", type);
}

/* A call on another thread: instance 0 waits inside it. */
typedef struct {
    meso_bus_client_t *c;
    const char *method;
    const char *patient, *course, *date;
    meso_result_t r;
    void *reply;
} s_async_t;

static void *
s_async (void *arg)
{
    s_async_t *a = arg;
    if (strcmp (a->method, "scheduling.BookCourse") == 0)
        a->reply = s_book (a->c, a->patient, a->date, &a->r);
    else
        a->reply = s_reschedule (a->c, a->course, a->date, &a->r);
    return NULL;
}

/* ------------------------------------------------------------- tests */

/* Moved from a week later: the first session lands where the second was
 * (the course's own slots do not block the new plan), the gaps of the
 * course are kept, each reservation follows its session's new day, and
 * one session.rescheduled per session is written. */
static void
test_reschedule_moves (void **state)
{
    s_ctx_t *x = s_setup ("cc_moves", NULL);
    fx_t *fx = x->fx;
    char p1[40], d1[11], d8[11];
    fx_patient (fx, "utc", NULL, false, p1);
    fx_day (1, d1);
    fx_day (8, d8);
    meso_result_t r = { 0 };
    Meso__V1__BookCourseReply *bc = s_book (x->c1, p1, d1, &r);
    assert_non_null (bc);
    Meso__V1__BookedCourse *c = bc->course;
    assert_int_equal (c->n_sessions, 4);
    assert_int_equal (bc->n_replanned, 0);
    Meso__V1__CourseChangeReply *cr = s_reschedule_key (x->c0, c->course_id, d8, "cc-moves", &r);
    if (!cr)
        fail_msg ("RescheduleCourse: %s", r.message);
    assert_int_equal (cr->n_moved, 4);
    char want[20];
    snprintf (want, sizeof want, "%sT10:00", d8);
    assert_string_equal (cr->moved[0]->new_local_start, want);
    assert_string_equal (cr->moved[0]->original_local_start, c->sessions[0]->local_start);
    for (size_t i = 1; i < 4; i++)
        assert_int_equal (s_day (cr->moved[i]->new_local_start) - s_day (cr->moved[i - 1]->new_local_start),
                          s_day (c->sessions[i]->local_start) - s_day (c->sessions[i - 1]->local_start));
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal (cr->course->sessions[i]->local_start, cr->moved[i]->new_local_start);
        assert_string_equal (meso_enum_str (&meso__v1__session_status__descriptor, (int) cr->course->sessions[i]->status), "booked");
        char sql[256];
        snprintf (sql, sizeof sql, "SELECT session_date - date '%.10s' FROM inventory.reservation"
                  " WHERE appointment_id = $1 AND status = 'held'", cr->moved[i]->new_local_start);
        assert_int_equal (fx_sql (fx, sql, cr->moved[i]->appointment_id), 0);
    }
    assert_int_equal (s_events (fx, "session.rescheduled"), 4);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM scheduling.course_change WHERE status = 'done'", NULL), 1);
    assert_int_equal (fx_overlaps (fx), 0);
    /* A retry with the same key is the same answer; nothing moves again. */
    Meso__V1__CourseChangeReply *again = s_reschedule_key (x->c1, c->course_id, d8, "cc-moves", &r);
    assert_non_null (again);
    assert_true (r.reply->replayed);
    assert_int_equal (again->n_moved, 4);
    assert_string_equal (again->moved[3]->new_local_start, cr->moved[3]->new_local_start);
    assert_int_equal (s_events (fx, "session.rescheduled"), 4);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM scheduling.course_change", NULL), 1);
    meso__v1__course_change_reply__free_unpacked (again, NULL);
    meso__v1__course_change_reply__free_unpacked (cr, NULL);
    meso__v1__book_course_reply__free_unpacked (bc, NULL);
    meso_result_reset (&r);
    s_teardown (x);
}

/* One new slot taken between the plan and the move: nothing moves, and
 * the stock dates inventory had already changed are put back. */
static void
test_reschedule_all_or_nothing (void **state)
{
    char wait[300];
    snprintf (wait, sizeof wait, "MESO_SCHEDULING_TEST_WAIT_FILE=/tmp/cc-wait-%d", (int) getpid ());
    const char *env[] = { wait, NULL };
    s_ctx_t *x = s_setup ("cc_all_or_nothing", env);
    fx_t *fx = x->fx;
    const char *path = strchr (wait, '=') + 1;
    unlink (path);
    char p1[40], p2[40], d1[11], d8[11];
    fx_patient (fx, "utc", NULL, false, p1);
    fx_patient (fx, "utc", NULL, false, p2);
    fx_day (1, d1);
    fx_day (8, d8);
    meso_result_t r = { 0 };
    Meso__V1__BookCourseReply *bc = s_book (x->c1, p1, d1, &r);
    assert_non_null (bc);
    char course[64], before[4096], after[4096];
    snprintf (course, sizeof course, "%s", bc->course->course_id);
    s_snapshot (fx, course, before, sizeof before);

    s_async_t a = { .c = x->c0, .method = "scheduling.RescheduleCourse", .course = course, .date = d8 };
    pthread_t t;
    assert_int_equal (pthread_create (&t, NULL, s_async, &a), 0);
    s_wait_file (path, true);
    /* Instance 0 re-dated the stock and waits: take session 3's new slot. */
    PGresult *res = meso_db_query (fx->db,
        "SELECT i.new_date::text FROM scheduling.course_change_item i JOIN scheduling.appointment a"
        " USING (appointment_id) WHERE a.session_number = 3", 0, NULL);
    assert_true (res && PQntuples (res) == 1);
    char slot[20];
    snprintf (slot, sizeof slot, "%sT10:00", PQgetvalue (res, 0, 0));
    PQclear (res);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM inventory.reservation r JOIN scheduling.appointment a"
                              " USING (clinic_id, appointment_id) WHERE a.course_id = $1"
                              " AND r.session_date <> (lower (a.during) AT TIME ZONE 'UTC')::date", course), 4);
    meso_result_t r2 = { 0 };
    assert_int_equal (fx_book_session (fx, x->c1, "utc", p2, "dr-a", "room-1", slot, 0, NULL, &r2), MESO_OK);
    meso_result_reset (&r2);
    unlink (path);
    pthread_join (t, NULL);
    assert_null (a.reply);
    assert_int_equal (a.r.status, MESO_ALREADY_EXISTS);
    assert_true (fx_has_reason (&a.r, "slot_taken"));
    meso_result_reset (&a.r);
    s_snapshot (fx, course, after, sizeof after);
    assert_string_equal (before, after);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM scheduling.course_change WHERE status = 'undone'", NULL), 1);
    assert_int_equal (s_events (fx, "session.rescheduled"), 0);
    meso__v1__book_course_reply__free_unpacked (bc, NULL);
    meso_result_reset (&r);
    s_teardown (x);
}

/* The process dies after its first re-date: recovery (the other instance
 * or the restarted one) puts that stock date back; nothing moved. */
static void
test_reschedule_recovery (void **state)
{
    char pf[300];
    snprintf (pf, sizeof pf, "MESO_SCHEDULING_TEST_PAUSE_FILE=/tmp/cc-pause-%d", (int) getpid ());
    const char *env[] = { "MESO_SCHEDULING_TEST_PAUSE_AT=12", pf, NULL };
    s_ctx_t *x = s_setup ("cc_recovery", env);
    fx_t *fx = x->fx;
    const char *path = strchr (pf, '=') + 1;
    unlink (path);
    char p1[40], d1[11], d8[11];
    fx_patient (fx, "utc", NULL, false, p1);
    fx_day (1, d1);
    fx_day (8, d8);
    meso_result_t r = { 0 };
    Meso__V1__BookCourseReply *bc = s_book (x->c1, p1, d1, &r);
    assert_non_null (bc);
    char course[64], before[4096], after[4096];
    snprintf (course, sizeof course, "%s", bc->course->course_id);
    s_snapshot (fx, course, before, sizeof before);
    Meso__V1__RescheduleCourseRequest rq = MESO__V1__RESCHEDULE_COURSE_REQUEST__INIT;
    rq.course_id = course;
    rq.from_date = d8;
    meso_result_reset (&r);
    meso_bus_client_call (x->c0, "scheduling.RescheduleCourse", &rq.base, "cc-recovery", 2500, &r);
    assert_int_not_equal (r.status, MESO_OK);
    s_wait_file (path, true);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM scheduling.course_change WHERE status = 'pending'", NULL), 1);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM inventory.reservation r JOIN scheduling.appointment a"
                              " USING (clinic_id, appointment_id) WHERE a.course_id = $1"
                              " AND r.session_date <> (lower (a.during) AT TIME ZONE 'UTC')::date", course), 1);
    mt_stop (fx->sched_pid[0], SIGKILL);
    fx->sched_pid[0] = fx_spawn_scheduling (fx, 0, NULL);
    assert_int_equal (mt_wait_healthy (fx->sched_ep[0], 10000), 0);
    s_until (fx, "SELECT count(*) FROM scheduling.course_change WHERE status = 'undone'", NULL, 1);
    s_snapshot (fx, course, after, sizeof after);
    assert_string_equal (before, after);
    assert_int_equal (s_events (fx, "session.rescheduled"), 0);
    unlink (path);
    meso__v1__book_course_reply__free_unpacked (bc, NULL);
    meso_result_reset (&r);
    s_teardown (x);
}

/* Every remaining session cancelled by the patient: inventory releases
 * each session's stock and billing charges the late-cancellation fee of
 * the sessions inside the 168 h notice, as for single cancels. */
static void
test_cancel_course (void **state)
{
    s_ctx_t *x = s_setup ("cc_cancel", NULL);
    fx_t *fx = x->fx;
    /* billing, consuming the session stream */
    char role[512], db[600], bind[300], ev[300], evp[300], ep[256];
    mt_ipc_endpoint ("bil", ep, sizeof ep);
    mt_role_conninfo (fx->dbname, "meso_billing", role, sizeof role);
    snprintf (db, sizeof db, "--db=%s", role);
    snprintf (bind, sizeof bind, "--bind=%s", ep);
    snprintf (ev, sizeof ev, "--events=%s", fx->events_router);
    snprintf (evp, sizeof evp, "--events-pub=%s", fx->events_pub);
    const char *argv[] = { "meso-billing", db, bind, ev, evp, "--scheduling=", NULL };
    pid_t billing = mt_spawn ("bin/meso-billing", argv, NULL);
    assert_true (billing > 0);
    assert_int_equal (mt_wait_healthy (ep, 10000), 0);
    meso_bus_client_t *bil = mt_client (ep);
    Meso__V1__FeePolicy fp = MESO__V1__FEE_POLICY__INIT;
    fp.clinic_id = "utc";
    fp.late_cancel_fee_cents = 5000;
    Meso__V1__SetFeePolicyRequest fq = MESO__V1__SET_FEE_POLICY_REQUEST__INIT;
    fq.policy = &fp;
    meso_result_t r = { 0 };
    assert_int_equal (s_call (bil, "billing.SetFeePolicy", &fq.base, &r), MESO_OK);

    char p1[40], d1[11];
    fx_patient (fx, "utc", NULL, false, p1);
    fx_day (1, d1);
    Meso__V1__BookCourseReply *bc = s_book (fx->sch, p1, d1, &r);
    assert_non_null (bc);
    char course[64];
    snprintf (course, sizeof course, "%s", bc->course->course_id);
    Meso__V1__CancelCourseRequest cq = MESO__V1__CANCEL_COURSE_REQUEST__INIT;
    cq.course_id = course;
    cq.by = MESO__V1__CANCELLED_BY__CANCELLED_BY_PATIENT;
    cq.reason = "moving abroad";
    assert_int_equal (s_call (fx->sch, "scheduling.CancelCourse", &cq.base, &r), MESO_OK);
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__CourseChangeReply *cr = meso__v1__course_change_reply__unpack (NULL, len, body);
    assert_non_null (cr);
    assert_int_equal (cr->n_cancelled, 4);
    int late = 0;
    for (size_t i = 0; i < cr->n_cancelled; i++) {
        assert_int_equal (cr->cancelled[i]->late, cr->cancelled[i]->notice_hours < 168);
        late += cr->cancelled[i]->late;
        assert_string_equal (meso_enum_str (&meso__v1__session_status__descriptor, (int) cr->course->sessions[i]->status), "cancelled");
    }
    assert_true (late >= 1 && late < 4);        /* tomorrow's is late, the fourth (3 weeks on) is not */
    assert_int_equal (s_events (fx, "session.cancelled"), 4);
    /* Stock released and fees charged from the events. */
    s_until (fx, "SELECT count(*) FROM inventory.reservation r JOIN scheduling.appointment a"
             " USING (clinic_id, appointment_id) WHERE a.course_id = $1 AND r.status = 'released'", course, 4);
    s_until (fx, "SELECT count(*) FROM billing.session_charge WHERE kind = 'late_cancel' AND amount_cents = 5000",
             NULL, late);
    /* Nothing left to cancel. */
    assert_int_equal (s_call (fx->sch, "scheduling.CancelCourse", &cq.base, &r), MESO_FAILED_PRECONDITION);
    meso__v1__course_change_reply__free_unpacked (cr, NULL);
    meso__v1__book_course_reply__free_unpacked (bc, NULL);
    meso_result_reset (&r);
    meso_bus_client_destroy (&bil);
    mt_stop (billing, SIGTERM);
    s_teardown (x);
}

/* BookCourse's planned slot for session 2 is taken (from the other
 * instance) while the booking waits between plan and insert: session 2 is
 * re-planned, the course is booked and the reply names the move. */
static void
test_replan_on_taken_slot (void **state)
{
    char wait[300];
    snprintf (wait, sizeof wait, "MESO_SCHEDULING_TEST_WAIT_FILE=/tmp/cc-replan-%d", (int) getpid ());
    const char *env[] = { wait, NULL };
    s_ctx_t *x = s_setup ("cc_replan", env);
    fx_t *fx = x->fx;
    const char *path = strchr (wait, '=') + 1;
    unlink (path);
    char p1[40], p2[40], d1[11];
    fx_patient (fx, "utc", NULL, false, p1);
    fx_patient (fx, "utc", NULL, false, p2);
    fx_day (1, d1);
    s_async_t a = { .c = x->c0, .method = "scheduling.BookCourse", .patient = p1, .date = d1 };
    pthread_t t;
    assert_int_equal (pthread_create (&t, NULL, s_async, &a), 0);
    s_wait_file (path, true);
    /* The same plan, from the other instance; take session 2's slot. */
    Meso__V1__CourseSpec sp;
    char *areas[1];
    s_spec (&sp, areas, p1, d1);
    Meso__V1__PlanCourseRequest pq = MESO__V1__PLAN_COURSE_REQUEST__INIT;
    pq.spec = &sp;
    meso_result_t r = { 0 };
    assert_int_equal (s_call (x->c1, "scheduling.PlanCourse", &pq.base, &r), MESO_OK);
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__PlanCourseReply *plan = meso__v1__plan_course_reply__unpack (NULL, len, body);
    assert_non_null (plan);
    char planned[20];
    snprintf (planned, sizeof planned, "%s", plan->sessions[1]->local_start);
    meso_result_t r2 = { 0 };
    assert_int_equal (fx_book_session (fx, x->c1, "utc", p2, plan->sessions[1]->practitioner_id,
                                       plan->sessions[1]->room_id, planned, 0, NULL, &r2), MESO_OK);
    meso_result_reset (&r2);
    unlink (path);
    pthread_join (t, NULL);
    Meso__V1__BookCourseReply *bc = a.reply;
    if (!bc)
        fail_msg ("BookCourse: %s", a.r.message);
    assert_int_equal (bc->n_replanned, 1);
    Meso__V1__MovedSession *m = bc->replanned[0];
    assert_int_equal (m->session_number, 2);
    assert_string_equal (m->original_local_start, planned);
    assert_string_not_equal (m->new_local_start, planned);
    Meso__V1__BookedCourse *c = bc->course;
    assert_string_equal (meso_enum_str (&meso__v1__course_status__descriptor, (int) c->status), "booked");
    assert_int_equal (c->n_sessions, 4);
    assert_string_equal (c->sessions[1]->local_start, m->new_local_start);
    assert_string_equal (c->sessions[1]->appointment_id, m->appointment_id);
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal (meso_enum_str (&meso__v1__session_status__descriptor, (int) c->sessions[i]->status), "booked");
        if (i != 1)
            assert_string_equal (c->sessions[i]->local_start, plan->sessions[i]->local_start);
    }
    assert_true (s_day (c->sessions[1]->local_start) - s_day (c->sessions[0]->local_start) >= 7);
    assert_true (s_day (c->sessions[2]->local_start) - s_day (c->sessions[1]->local_start) >= 7);
    assert_int_equal (fx_overlaps (fx), 0);
    fx_check_complete_or_absent (fx);
    /* GetCourse names the move too. */
    Meso__V1__GetCourseRequest gq = MESO__V1__GET_COURSE_REQUEST__INIT;
    gq.course_id = c->course_id;
    gq.key_case = MESO__V1__GET_COURSE_REQUEST__KEY_COURSE_ID;
    assert_int_equal (s_call (x->c1, "scheduling.GetCourse", &gq.base, &r), MESO_OK);
    meso__v1__plan_course_reply__free_unpacked (plan, NULL);
    meso__v1__book_course_reply__free_unpacked (bc, NULL);
    meso_result_reset (&a.r);
    meso_result_reset (&r);
    s_teardown (x);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_reschedule_moves),
        cmocka_unit_test (test_reschedule_all_or_nothing),
        cmocka_unit_test (test_reschedule_recovery),
        cmocka_unit_test (test_cancel_course),
        cmocka_unit_test (test_replan_on_taken_slot),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
