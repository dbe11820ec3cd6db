/* test_bus_workers.c -- meso_bus_workers_resolve: MESO_WORKERS to a worker
 * count (the value itself when 1..64, else one per online core); and
 * meso_bus_queue_resolve: MESO_WORKER_QUEUE to the requests a pool takes
 * per worker (the value when 1..64, else 4). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <unistd.h>

#include "meso/bus.h"

static int
s_cores (void)
{
    long n = sysconf (_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > MESO_BUS_WORKERS_MAX ? MESO_BUS_WORKERS_MAX : (int) n;
}

static void
test_configured_values_are_kept (void **state)
{
    (void) state;
    assert_int_equal (meso_bus_workers_resolve (1), 1);
    assert_int_equal (meso_bus_workers_resolve (2), 2);
    assert_int_equal (meso_bus_workers_resolve (MESO_BUS_WORKERS_MAX), MESO_BUS_WORKERS_MAX);
}

static void
test_zero_means_one_per_core (void **state)
{
    (void) state;
    int n = meso_bus_workers_resolve (0);
    assert_int_equal (n, s_cores ());
    assert_true (n >= 1 && n <= MESO_BUS_WORKERS_MAX);
}

static void
test_out_of_range_falls_back_to_cores (void **state)
{
    (void) state;
    assert_int_equal (meso_bus_workers_resolve (-3), s_cores ());
    assert_int_equal (meso_bus_workers_resolve (MESO_BUS_WORKERS_MAX + 1), s_cores ());
}

static void
test_queue_values_are_kept (void **state)
{
    (void) state;
    assert_int_equal (meso_bus_queue_resolve ("1"), 1);
    assert_int_equal (meso_bus_queue_resolve ("16"), 16);
    assert_int_equal (meso_bus_queue_resolve ("64"), MESO_BUS_QUEUE_MAX);
}

static void
test_queue_unset_or_bad_is_the_default (void **state)
{
    (void) state;
    assert_int_equal (MESO_BUS_QUEUE_DEFAULT, 4);
    assert_int_equal (meso_bus_queue_resolve (NULL), MESO_BUS_QUEUE_DEFAULT);
    assert_int_equal (meso_bus_queue_resolve (""), MESO_BUS_QUEUE_DEFAULT);
    assert_int_equal (meso_bus_queue_resolve ("0"), MESO_BUS_QUEUE_DEFAULT);
    assert_int_equal (meso_bus_queue_resolve ("-2"), MESO_BUS_QUEUE_DEFAULT);
    assert_int_equal (meso_bus_queue_resolve ("65"), MESO_BUS_QUEUE_DEFAULT);
    assert_int_equal (meso_bus_queue_resolve ("4x"), MESO_BUS_QUEUE_DEFAULT);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_configured_values_are_kept),
        cmocka_unit_test (test_zero_means_one_per_core),
        cmocka_unit_test (test_out_of_range_falls_back_to_cores),
        cmocka_unit_test (test_queue_values_are_kept),
        cmocka_unit_test (test_queue_unset_or_bad_is_the_default),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
