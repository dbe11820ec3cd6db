/* test_tail.c -- the events daemon's in-memory window of the newest
 * events (services/events/tail.c): it answers only for ranges it holds
 * whole and up to the head, drops the oldest events beyond its limits,
 * restarts on a sequence that does not follow, and copies what it keeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "events/tail.h"

static void
s_push (tail_t *t, int si, uint64_t seq, size_t len)
{
    char type[32], clinic[16];
    uint8_t payload[64];
    snprintf (type, sizeof type, "stock.low");
    snprintf (clinic, sizeof clinic, "c-%llu", (unsigned long long) seq);
    memset (payload, (int) (seq & 0xff), sizeof payload);
    tail_event_t ev = { seq, seq + 1000, type, clinic, payload, len };
    assert_int_equal (tail_push (t, si, &ev), 0);
    memset (type, 'x', sizeof type - 1);    /* the tail keeps its own copy */
    memset (payload, 0, sizeof payload);
}

static void
test_covers_and_get (void **state)
{
    tail_t *t = tail_new (2, 8, 1 << 20);
    assert_non_null (t);
    assert_true (tail_covers (t, 0, 0, 0));         /* nothing to give */
    assert_false (tail_covers (t, 0, 0, 3));        /* empty window */
    for (uint64_t s = 5; s <= 9; s++)
        s_push (t, 0, s, 10);
    assert_true (tail_covers (t, 0, 4, 9));         /* 5..9 */
    assert_true (tail_covers (t, 0, 7, 9));
    assert_true (tail_covers (t, 0, 9, 9));
    assert_false (tail_covers (t, 0, 3, 9));        /* 4 is not held */
    assert_false (tail_covers (t, 0, 4, 10));       /* the head is beyond it */
    assert_false (tail_covers (t, 0, 10, 9));       /* a cursor ahead: the log decides */
    assert_false (tail_covers (t, 1, 4, 9));        /* another stream */
    const tail_event_t *e = tail_get (t, 0, 7);
    assert_non_null (e);
    assert_int_equal (e->seq, 7);
    assert_int_equal (e->global, 1007);
    assert_string_equal (e->type, "stock.low");
    assert_string_equal (e->clinic, "c-7");
    assert_int_equal (e->len, 10);
    assert_int_equal (e->payload[9], 7);
    assert_null (tail_get (t, 0, 4));
    assert_null (tail_get (t, 0, 10));
    tail_destroy (&t);
    assert_null (t);
}

static void
test_limits_and_restart (void **state)
{
    tail_t *t = tail_new (1, 4, 100);
    for (uint64_t s = 1; s <= 10; s++)
        s_push (t, 0, s, 10);
    /* At most 4 events: 7..10. */
    assert_null (tail_get (t, 0, 6));
    assert_non_null (tail_get (t, 0, 7));
    assert_true (tail_covers (t, 0, 6, 10));
    assert_false (tail_covers (t, 0, 5, 10));
    /* At most 100 bytes: two 40-byte events and a 30-byte one leave 2. */
    s_push (t, 0, 11, 40);
    s_push (t, 0, 12, 40);
    s_push (t, 0, 13, 30);
    assert_null (tail_get (t, 0, 11));
    assert_non_null (tail_get (t, 0, 12));
    assert_true (tail_covers (t, 0, 11, 13));
    /* One larger than the budget is still kept, alone. */
    s_push (t, 0, 14, 64);
    s_push (t, 0, 15, 64);
    assert_null (tail_get (t, 0, 14));
    assert_non_null (tail_get (t, 0, 15));
    /* A sequence that does not follow restarts the window. */
    s_push (t, 0, 20, 10);
    assert_null (tail_get (t, 0, 15));
    assert_true (tail_covers (t, 0, 19, 20));
    assert_false (tail_covers (t, 0, 18, 20));
    tail_clear (t);
    assert_null (tail_get (t, 0, 20));
    assert_false (tail_covers (t, 0, 19, 20));
    tail_destroy (&t);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_covers_and_get),
        cmocka_unit_test (test_limits_and_restart),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
