/* test_lifecycle.c -- which change a session's status allows: every
 * change of a booked session needs it booked, completing needs it
 * started, and nothing moves a session that is over (cancelled, no-show,
 * completed) or not booked yet (pending). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "scheduling/lifecycle.h"

static void
test_needs_and_leads_to (void **state)
{
    (void) state;
    assert_string_equal (lifecycle_needs (LIFECYCLE_RESCHEDULE), "booked");
    assert_string_equal (lifecycle_needs (LIFECYCLE_CANCEL), "booked");
    assert_string_equal (lifecycle_needs (LIFECYCLE_NO_SHOW), "booked");
    assert_string_equal (lifecycle_needs (LIFECYCLE_START), "booked");
    assert_string_equal (lifecycle_needs (LIFECYCLE_COMPLETE), "started");
    assert_string_equal (lifecycle_leads_to (LIFECYCLE_RESCHEDULE), "booked");
    assert_string_equal (lifecycle_leads_to (LIFECYCLE_CANCEL), "cancelled");
    assert_string_equal (lifecycle_leads_to (LIFECYCLE_NO_SHOW), "no_show");
    assert_string_equal (lifecycle_leads_to (LIFECYCLE_START), "started");
    assert_string_equal (lifecycle_leads_to (LIFECYCLE_COMPLETE), "completed");
    /* out of range: nothing needed can be met */
    assert_string_equal (lifecycle_needs ((lifecycle_change_t) 99), "");
    assert_false (lifecycle_allows ((lifecycle_change_t) 99, ""));
}

static void
test_allows (void **state)
{
    (void) state;
    static const char *const statuses[] = { "pending", "booked", "started", "completed", "cancelled",
                                            "no_show", "failed", "", NULL };
    static const lifecycle_change_t changes[] = { LIFECYCLE_RESCHEDULE, LIFECYCLE_CANCEL, LIFECYCLE_NO_SHOW,
                                                  LIFECYCLE_START, LIFECYCLE_COMPLETE };
    for (size_t c = 0; c < sizeof changes / sizeof changes[0]; c++)
        for (size_t i = 0; statuses[i]; i++) {
            const char *st = statuses[i];
            int want = changes[c] == LIFECYCLE_COMPLETE ? st[0] && !strcmp (st, "started")
                                                        : st[0] && !strcmp (st, "booked");
            assert_int_equal (lifecycle_allows (changes[c], st), want);
        }
    assert_false (lifecycle_allows (LIFECYCLE_CANCEL, NULL));
    /* exact match, not a prefix */
    assert_false (lifecycle_allows (LIFECYCLE_START, "booked "));
    assert_false (lifecycle_allows (LIFECYCLE_START, "book"));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_needs_and_leads_to),
        cmocka_unit_test (test_allows),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
