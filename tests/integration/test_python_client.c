/* test_python_client.c -- the generated Python client books a course.
 *
 * Real meso-screening, meso-inventory and meso-scheduling over CURVE (the
 * scheduling fixture); tests/integration/python_client_booking.py sets up
 * a clinic with the operator key and books a course as a front-desk
 * person limited to that clinic, with clients/python/meso_client.py and
 * the classes the build generated into build/python (MESO_PY_STUBS), and
 * nothing else. Here: the script succeeds (it asserts the plan, the booked
 * sessions, the idempotent retry and INVALID_ARGUMENT naming spec.grade),
 * and the database holds what it says it booked: one booked course of the
 * patient with that many booked appointments, each holding its stock, and
 * one course only despite the retry. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

/* The daemons and the database of the fixture; its set-up helpers are
 * not used: the Python client does the set-up. */
#pragma GCC diagnostic ignored "-Wunused-function"
#include "scheduling_fixture.h"

static void
test_python_client_books_a_course (void **state)
{
    fx_t *fx = fx_setup ("test_python_client", 1);
    zcert_t *desk = mt_principal_add (fx->admin, "py-desk", "person", "{front_desk,clinician}",
                                      "{py-clinic}", NULL, true);
    assert_non_null (desk);
    char dir[512], key[600], out[600];
    snprintf (dir, sizeof dir, "%s/test-logs/python-client-%d", mt_build_dir (), (int) getpid ());
    assert_int_equal (mt_sh ("rm -rf '%s' && mkdir -p '%s'", dir, dir), 0);
    snprintf (key, sizeof key, "%s/py-desk.key", dir);
    assert_int_equal (zcert_save (desk, key), 0);
    snprintf (out, sizeof out, "%s/booked.txt", dir);

    int rc = mt_sh ("MESO_PY_STUBS='%s/python' /usr/bin/python3 '%s/tests/integration/"
                    "python_client_booking.py' --keys '%s' --admin-key '%s/tester.key_secret'"
                    " --key '%s_secret' --screening '%s' --scheduling '%s' --inventory '%s'"
                    " --out '%s'", mt_build_dir (), mt_source_dir (), mt_keys (), mt_keys (), key,
                    fx->screening_ep, fx->sched_ep[0], fx->inventory_ep, out);
    assert_int_equal (rc, 0);

    char patient[64] = "", course[64] = "";
    int sessions = 0;
    FILE *f = fopen (out, "r");
    assert_non_null (f);
    assert_int_equal (fscanf (f, "%63s %63s %d", patient, course, &sessions), 3);
    fclose (f);
    assert_true (sessions >= 2);

    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM scheduling.course WHERE patient_id = $1",
                              patient), 1);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM scheduling.appointment"
                              " WHERE course_id = $1 AND status = 'booked'", course), sessions);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM scheduling.appointment a"
                              " JOIN inventory.reservation r ON r.appointment_id = a.appointment_id"
                              " AND r.status = 'held' WHERE a.course_id = $1", course),
                      sessions);
    fx_check_complete_or_absent (fx);
    zcert_destroy (&desk);
    fx_teardown (fx);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_python_client_books_a_course),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
