/* test_scheduling_faults.c -- scheduling under concurrency and crashes,
 * against real PostgreSQL and real daemons:
 *   - 50 concurrent clients over two scheduling instances book overlapping,
 *     touching and identical slots of one practitioner and one room: no two
 *     active sessions overlap (checked by a query), every acknowledged
 *     booking exists, back-to-back [10:00,11:00) and [11:00,12:00) both
 *     succeed;
 *   - the scheduling daemon SIGKILLed at each step of the booking saga
 *     (MESO_SCHEDULING_TEST_PAUSE_AT), then restarted: every booking is
 *     complete (booked, stock held) or absent (neither), and the client's
 *     retry with the same key gets a consistent answer;
 *   - stock short midway: the booking is undone, and a Reserve of its
 *     appointments arriving late (queued by a process that died) is
 *     refused, so nothing stays held;
 *   - a client's resend of a booking reaching the other instance while
 *     the first attempt is still running there (after its attempt
 *     timeout, as under load) ends with the booking's reply, not "in
 *     progress"; so does a first attempt whose key the resend booked
 *     meanwhile. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>

#include "../integration/scheduling_fixture.h"

#define NCLIENTS 50

static const char *const s_practs[] = { "dr-a" };
static const char *const s_rooms[] = { "room-1" };

typedef struct {
    fx_t *fx;
    const char *endpoints;
    char patient[40];
    char local_start[20];
    int minutes;
    int status;
    char appt[40];
} s_client_t;

static void *
s_client (void *arg)
{
    s_client_t *c = arg;
    meso_bus_client_t *bus = mt_client (c->endpoints);
    meso_result_t r = { 0 };
    c->status = fx_book_session (c->fx, bus, "paris", c->patient, "dr-a", "room-1", c->local_start,
                                 c->minutes, c->appt, &r);
    meso_result_reset (&r);
    meso_bus_client_destroy (&bus);
    return NULL;
}

static void
test_fifty_clients_never_double_book (void **state)
{
    fx_t *fx = fx_setup ("sched_fault_conc", 2);
    fx_clinic (fx, "paris", "Europe/Paris", s_practs, 1, s_rooms, 1, true);
    char endpoints[600];
    snprintf (endpoints, sizeof endpoints, "%s,%s", fx->sched_ep[0], fx->sched_ep[1]);
    static s_client_t c[NCLIENTS];
    char d1[11], d2[11];
    fx_day (5, d1);
    fx_day (6, d2);
    /* Day 1: 30 clients on starts every 30 minutes from 10:00 to 12:00
     * (60-minute sessions: overlapping, touching and identical). Day 2: 20
     * clients on only 10:00 and 11:00, identical or back to back. */
    static const char *const starts[] = { "10:00", "10:30", "11:00", "11:30", "12:00" };
    for (int i = 0; i < NCLIENTS; i++) {
        c[i].fx = fx;
        c[i].endpoints = endpoints;
        c[i].minutes = 60;
        fx_patient (fx, "paris", NULL, false, c[i].patient);
        if (i < 30)
            snprintf (c[i].local_start, sizeof c[i].local_start, "%sT%s", d1, starts[i % 5]);
        else
            snprintf (c[i].local_start, sizeof c[i].local_start, "%sT%s", d2, i % 2 ? "10:00" : "11:00");
    }
    pthread_t t[NCLIENTS];
    for (int i = 0; i < NCLIENTS; i++)
        assert_int_equal (pthread_create (&t[i], NULL, s_client, &c[i]), 0);
    for (int i = 0; i < NCLIENTS; i++)
        pthread_join (t[i], NULL);

    int ok = 0, taken = 0, ok_d2_10 = 0, ok_d2_11 = 0;
    for (int i = 0; i < NCLIENTS; i++) {
        if (c[i].status == MESO_OK) {
            ok++;
            /* every acknowledged booking exists, booked, stock held */
            assert_int_equal (fx_sql (fx, "SELECT count(*) FROM scheduling.appointment WHERE appointment_id = $1"
                                      " AND status = 'booked'", c[i].appt), 1);
            assert_int_equal (fx_sql (fx, "SELECT count(*) FROM inventory.reservation WHERE appointment_id = $1"
                                      " AND status = 'held'", c[i].appt), 1);
            if (i >= 30)
                *(strstr (c[i].local_start, "T10:00") ? &ok_d2_10 : &ok_d2_11) += 1;
        }
        else {
            if (c[i].status != MESO_ALREADY_EXISTS)
                fail_msg ("client %d (%s) got status %d", i, c[i].local_start, c[i].status);
            taken++;
        }
    }
    printf ("# 50 clients: %d booked, %d refused as taken\n", ok, taken);
    assert_int_equal (fx_overlaps (fx), 0);
    /* Back to back on day 2: exactly one of each. */
    assert_int_equal (ok_d2_10, 1);
    assert_int_equal (ok_d2_11, 1);
    /* Day 1 holds at least 2 sessions (10:00-12:00 worth) and at most 3. */
    int64_t d1n = fx_sql (fx, "SELECT count(*) FROM scheduling.appointment WHERE status = 'booked'"
                          " AND to_char(lower(during) AT TIME ZONE 'Europe/Paris', 'YYYY-MM-DD') = $1", d1);
    assert_true (d1n >= 2 && d1n <= 3);
    assert_int_equal (ok, (int) fx_sql (fx, "SELECT count(*) FROM scheduling.appointment", NULL));
    fx_check_complete_or_absent (fx);
    fx_teardown (fx);
}

static bool
s_wait_file (const char *path, int ms)
{
    for (int i = 0; i < ms / 20; i++) {
        if (access (path, F_OK) == 0)
            return true;
        mt_sleep_ms (20);
    }
    return false;
}

static void
test_kill_at_each_saga_step (void **state)
{
    fx_t *fx = fx_setup ("sched_fault_saga", 1);
    fx_clinic (fx, "paris", "Europe/Paris", s_practs, 1, s_rooms, 1, true);
    for (int step = 1; step <= 5; step++) {
        char pat[40], first[11], pausefile[300], env1[64], env2[400], key[64];
        fx_patient (fx, "paris", NULL, false, pat);
        fx_day (2 + step, first);
        snprintf (pausefile, sizeof pausefile, "%s/sched-pause-%d-%d", mt_build_dir (), (int) getpid (), step);
        unlink (pausefile);
        snprintf (env1, sizeof env1, "MESO_SCHEDULING_TEST_PAUSE_AT=%d", step);
        snprintf (env2, sizeof env2, "MESO_SCHEDULING_TEST_PAUSE_FILE=%s", pausefile);
        const char *env[] = { env1, env2, NULL };
        /* Replace the running daemon by one that stops at this step. */
        mt_stop (fx->sched_pid[0], SIGTERM);
        fx->sched_pid[0] = fx_spawn_scheduling (fx, 0, env);
        assert_int_equal (mt_wait_healthy (fx->sched_ep[0], 10000), 0);

        Meso__V1__CourseSpec sp = MESO__V1__COURSE_SPEC__INIT;
        sp.clinic_id = "paris";
        sp.patient_id = pat;
        sp.grade = 2;
        char *areas[] = { "thighs" };
        sp.areas = areas;
        sp.n_areas = 1;
        sp.first_date = first;
        sp.preferred_time = "09:00";
        sp.sessions = 3;
        sp.recipe_id = "lipo";
        Meso__V1__BookCourseRequest rq = MESO__V1__BOOK_COURSE_REQUEST__INIT;
        rq.spec = &sp;
        snprintf (key, sizeof key, "saga-kill-%d", step);
        char rid[64];
        assert_int_equal (meso_bus_client_send (fx->sch, "scheduling.BookCourse", &rq.base, key, 30000, rid), 0);
        assert_true (s_wait_file (pausefile, 10000));
        assert_int_equal (kill (fx->sched_pid[0], SIGKILL), 0);
        mt_stop (fx->sched_pid[0], SIGKILL);
        /* Restart: recovery runs before it serves. */
        fx->sched_pid[0] = fx_spawn_scheduling (fx, 0, NULL);
        assert_int_equal (mt_wait_healthy (fx->sched_ep[0], 10000), 0);
        fx_check_complete_or_absent (fx);
        int64_t booked = fx_sql (fx, "SELECT count(*) FROM scheduling.course WHERE patient_id = $1"
                                 " AND status = 'booked'", pat);
        /* Steps 1 (nothing written yet) leaves it absent; from step 2 on
         * the pending booking is driven forward to complete. */
        assert_int_equal (booked, step == 1 ? 0 : 1);
        /* A stray reply to the killed request may still be queued: drain. */
        meso_result_t r = { 0 };
        while (meso_bus_client_recv (fx->sch, 50, &r) == 0 || r.reply)
            meso_result_reset (&r);
        meso_result_reset (&r);
        /* The client's retry with the same key: one course in the end. */
        assert_int_equal (fx_call (fx, fx->sch, "scheduling.BookCourse", &rq.base, key, &r), MESO_OK);
        if (step >= 2)
            assert_true (r.reply->replayed);
        meso_result_reset (&r);
        assert_int_equal (fx_sql (fx, "SELECT count(*) FROM scheduling.course WHERE patient_id = $1"
                                  " AND status = 'booked'", pat), 1);
        assert_int_equal (fx_sql (fx, "SELECT count(*) FROM scheduling.appointment WHERE patient_id = $1"
                                  " AND status = 'booked'", pat), 3);
        assert_int_equal (fx_sql (fx, "SELECT count(*) FROM events.outbox o WHERE type = 'session.booked'"
                                  " AND o.clinic_id = 'paris'", NULL), 3 * step);
        fx_check_complete_or_absent (fx);
        unlink (pausefile);
    }
    fx_teardown (fx);
}

/* The undo: stock runs out in the middle of a course; the sessions
 * reserved so far are released and nothing stays booked. */
static void
test_stock_short_midway_undoes (void **state)
{
    fx_t *fx = fx_setup ("sched_fault_undo", 1);
    fx_clinic (fx, "paris", "Europe/Paris", s_practs, 1, s_rooms, 1, false);
    char pat[40], first[11], expiry[11];
    fx_patient (fx, "paris", NULL, false, pat);
    fx_day (3, first);
    fx_day (400, expiry);
    meso_result_t r = { 0 };
    /* enough for 2 sessions (100 mg caffeine, 50 mg l-carnitine each) */
    const char *ing[] = { "caffeine", "l_carnitine" };
    int64_t qty[] = { 200000, 100000 };
    for (int i = 0; i < 2; i++) {
        Meso__V1__ReceiveRequest rv = MESO__V1__RECEIVE_REQUEST__INIT;
        rv.clinic_id = "paris";
        rv.ingredient_code = (char *) ing[i];
        rv.lot_number = "L-1";
        rv.expiry_date = expiry;
        rv.quantity_milli = qty[i];
        assert_int_equal (fx_call (fx, fx->inv, "inventory.Receive", &rv.base, NULL, &r), MESO_OK);
    }
    Meso__V1__CourseSpec sp = MESO__V1__COURSE_SPEC__INIT;
    sp.clinic_id = "paris";
    sp.patient_id = pat;
    sp.grade = 2;
    char *areas[] = { "thighs" };
    sp.areas = areas;
    sp.n_areas = 1;
    sp.first_date = first;
    sp.sessions = 4;
    sp.recipe_id = "lipo";
    Meso__V1__BookCourseRequest rq = MESO__V1__BOOK_COURSE_REQUEST__INIT;
    rq.spec = &sp;
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.BookCourse", &rq.base, NULL, &r), MESO_RESOURCE_EXHAUSTED);
    assert_true (fx_has_reason (&r, "insufficient_stock"));
    meso_result_reset (&r);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM scheduling.appointment", NULL), 0);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM inventory.reservation WHERE status = 'held'", NULL), 0);
    assert_int_equal (fx_sql (fx, "SELECT coalesce(sum(reserved_milli), 0) FROM inventory.lot", NULL), 0);
    /* The undo released all four appointments, the two never reserved
     * included (tombstones). A Reserve for any of them still in flight --
     * sent by a scheduling process that died before it was delivered --
     * is refused when it lands: nothing is held for the undone booking. */
    PGresult *res = meso_db_query (fx->db, "SELECT clinic_id, appointment_id FROM inventory.reservation"
                                   " WHERE status = 'released' ORDER BY appointment_id", 0, NULL);
    assert_non_null (res);
    assert_int_equal (PQntuples (res), 4);
    for (int i = 0; i < PQntuples (res); i++) {
        Meso__V1__ReserveRequest rv = MESO__V1__RESERVE_REQUEST__INIT;
        rv.appointment_id = PQgetvalue (res, i, 1);
        rv.patient_id = pat;
        rv.clinic_id = PQgetvalue (res, i, 0);
        rv.session_date = first;
        rv.areas = areas;
        rv.n_areas = 1;
        rv.recipe_id = "lipo";
        assert_int_equal (fx_call (fx, fx->inv, "inventory.Reserve", &rv.base, NULL, &r), MESO_FAILED_PRECONDITION);
        assert_true (fx_has_reason (&r, "released"));
    }
    PQclear (res);
    meso_result_reset (&r);
    assert_int_equal (fx_sql (fx, "SELECT coalesce(sum(reserved_milli), 0) FROM inventory.lot", NULL), 0);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM inventory.reservation WHERE status = 'held'", NULL), 0);
    fx_check_complete_or_absent (fx);
    fx_teardown (fx);
}

/* A BookCourse of two sessions for patient from day at 14:00, called with
 * key through c as a client does (resending after each 1 s attempt, up to
 * 20 s); its status, course id and whether the reply was a stored one. */
typedef struct {
    meso_bus_client_t *c;
    const char *patient, *day, *key;
    int status;
    bool replayed;
    char course[40];
    char message[256];
} s_course_call_t;

static void *
s_course_call (void *arg)
{
    s_course_call_t *x = arg;
    Meso__V1__CourseSpec sp = MESO__V1__COURSE_SPEC__INIT;
    sp.clinic_id = "paris";
    sp.patient_id = (char *) x->patient;
    sp.grade = 2;
    char *areas[] = { "thighs" };
    sp.areas = areas;
    sp.n_areas = 1;
    sp.first_date = (char *) x->day;
    sp.preferred_time = "14:00";
    sp.sessions = 2;
    sp.recipe_id = "lipo";
    Meso__V1__BookCourseRequest rq = MESO__V1__BOOK_COURSE_REQUEST__INIT;
    rq.spec = &sp;
    meso_result_t r = { 0 };
    meso_bus_client_call (x->c, "scheduling.BookCourse", &rq.base, x->key, 20000, &r);
    x->status = r.status;
    x->replayed = r.reply && r.reply->replayed;
    snprintf (x->message, sizeof x->message, "%s", r.message);
    x->course[0] = '\0';
    if (r.status == MESO_OK) {
        size_t len;
        const uint8_t *body = meso_result_body (&r, &len);
        Meso__V1__BookCourseReply *out = meso__v1__book_course_reply__unpack (NULL, len, body);
        if (out) {
            snprintf (x->course, sizeof x->course, "%s", out->course->course_id);
            meso__v1__book_course_reply__free_unpacked (out, NULL);
        }
    }
    else
        printf ("# BookCourse %s: %s: %s\n", x->key, meso_status_name (r.status), r.message);
    meso_result_reset (&r);
    return NULL;
}

/* A client's resend reaching the other instance while its first attempt
 * is still running there (as under load, after the 1 s attempt timeout),
 * in both orders: the answer is the booking, never "in progress".
 * Instance 0 holds its bookings after step 1 until the wait file is
 * removed (MESO_SCHEDULING_TEST_WAIT_FILE, saga.c). */
static void
test_retry_on_other_instance_waits (void **state)
{
    fx_t *fx = fx_setup ("sched_fault_retry", 2);
    fx_clinic (fx, "paris", "Europe/Paris", s_practs, 1, s_rooms, 1, true);
    char wait[300], env1[340];
    snprintf (wait, sizeof wait, "%s/sched-wait-%d", mt_build_dir (), (int) getpid ());
    unlink (wait);
    snprintf (env1, sizeof env1, "MESO_SCHEDULING_TEST_WAIT_FILE=%s", wait);
    const char *env[] = { env1, NULL };
    mt_stop (fx->sched_pid[0], SIGTERM);
    fx->sched_pid[0] = fx_spawn_scheduling (fx, 0, env);
    assert_int_equal (mt_wait_healthy (fx->sched_ep[0], 10000), 0);
    meso_bus_client_t *a = mt_client (fx->sched_ep[0]), *b = mt_client (fx->sched_ep[1]);
    char pat[40], day[11];
    pthread_t th;

    /* 1. The first attempt's course is pending on instance 0 (held after
     * step 1, then waiting on inventory, stopped); the same request, key
     * and all, goes to instance 1, which answers "in progress" until
     * inventory resumes and instance 0 finishes: the call then gets the
     * booking's stored reply. */
    fx_patient (fx, "paris", NULL, false, pat);
    fx_day (4, day);
    s_course_call_t first = { a, pat, day, "retry-other-instance-1", -1, false, "", "" };
    assert_int_equal (pthread_create (&th, NULL, s_course_call, &first), 0);
    assert_true (s_wait_file (wait, 10000));
    assert_int_equal (kill (fx->inventory_pid, SIGSTOP), 0);
    unlink (wait);
    int64_t pending = 0;
    for (int i = 0; i < 250 && pending == 0; i++) {
        mt_sleep_ms (20);
        pending = fx_sql (fx, "SELECT count(*) FROM scheduling.course WHERE idem_key = $1 AND status = 'pending'",
                          first.key);
    }
    assert_int_equal (pending, 1);
    s_course_call_t retry = { b, pat, day, first.key, -1, false, "", "" };
    pthread_t th2;
    assert_int_equal (pthread_create (&th2, NULL, s_course_call, &retry), 0);
    mt_sleep_ms (1500);         /* instance 1 answers "in progress" meanwhile */
    assert_int_equal (kill (fx->inventory_pid, SIGCONT), 0);
    pthread_join (th, NULL);
    pthread_join (th2, NULL);
    assert_int_equal (first.status, MESO_OK);
    assert_int_equal (retry.status, MESO_OK);
    assert_true (retry.replayed);
    assert_string_equal (first.course, retry.course);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM scheduling.course WHERE patient_id = $1", pat), 1);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM scheduling.appointment WHERE patient_id = $1"
                              " AND status = 'booked'", pat), 2);

    /* 2. The resend books first: instance 0 holds the first attempt before
     * its pending insert while instance 1 books the same request; instance
     * 0's insert then meets the key's course ("in progress"), and the
     * call's next resend gets the stored reply. */
    char pat2[40];
    fx_patient (fx, "paris", NULL, false, pat2);
    fx_day (40, day);
    s_course_call_t held = { a, pat2, day, "retry-other-instance-2", -1, false, "", "" };
    assert_int_equal (pthread_create (&th, NULL, s_course_call, &held), 0);
    assert_true (s_wait_file (wait, 10000));
    s_course_call_t other = { b, pat2, day, held.key, -1, false, "", "" };
    s_course_call (&other);
    assert_int_equal (other.status, MESO_OK);
    assert_false (other.replayed);
    unlink (wait);
    pthread_join (th, NULL);
    assert_int_equal (held.status, MESO_OK);
    assert_true (held.replayed);
    assert_string_equal (held.course, other.course);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM scheduling.course WHERE patient_id = $1", pat2), 1);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM scheduling.appointment WHERE patient_id = $1"
                              " AND status = 'booked'", pat2), 2);
    fx_check_complete_or_absent (fx);
    meso_bus_client_destroy (&a);
    meso_bus_client_destroy (&b);
    fx_teardown (fx);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_fifty_clients_never_double_book),
        cmocka_unit_test (test_kill_at_each_saga_step),
        cmocka_unit_test (test_stock_short_midway_undoes),
        cmocka_unit_test (test_retry_on_other_instance_waits),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
