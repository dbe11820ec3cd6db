/* test_lifecycle.c -- which change a session's status allows: every
 * change of a booked session needs it booked, completing needs it
 * started, and nothing moves a session that is over (cancelled, no-show,
 * completed) or not booked yet (pending); a session on hold is released
 * or cancelled and nothing else, and says why; what a new screening does
 * to held sessions, and from when a reported change holds them. */
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

static void
test_on_hold (void **state)
{
    (void) state;
    /* Held: a booked session, by a reported change. */
    assert_true (lifecycle_allows (LIFECYCLE_HOLD, "booked"));
    assert_string_equal (lifecycle_leads_to (LIFECYCLE_HOLD), "on_hold");
    static const char *const not_held[] = { "pending", "started", "completed", "cancelled", "no_show",
                                            "on_hold", "", NULL };
    for (size_t i = 0; not_held[i]; i++)
        assert_false (lifecycle_allows (LIFECYCLE_HOLD, not_held[i]));
    /* From on_hold: released back to booked, or cancelled; nothing else. */
    assert_true (lifecycle_allows (LIFECYCLE_RELEASE, "on_hold"));
    assert_string_equal (lifecycle_leads_to (LIFECYCLE_RELEASE), "booked");
    assert_false (lifecycle_allows (LIFECYCLE_RELEASE, "booked"));
    assert_true (lifecycle_allows (LIFECYCLE_CANCEL, "on_hold"));
    assert_false (lifecycle_allows (LIFECYCLE_START, "on_hold"));
    assert_false (lifecycle_allows (LIFECYCLE_RESCHEDULE, "on_hold"));
    assert_false (lifecycle_allows (LIFECYCLE_NO_SHOW, "on_hold"));
    assert_false (lifecycle_allows (LIFECYCLE_COMPLETE, "on_hold"));
    /* The reason a person reads. */
    char why[256];
    lifecycle_why (LIFECYCLE_START, "on_hold", why, sizeof why);
    assert_non_null (strstr (why, "on hold"));
    assert_non_null (strstr (why, "new eligible screening"));
    lifecycle_why (LIFECYCLE_START, "completed", why, sizeof why);
    assert_string_equal (why, "this change needs a session that is booked");
    lifecycle_why (LIFECYCLE_CANCEL, "completed", why, sizeof why);
    assert_string_equal (why, "this change needs a session that is booked or on_hold");
    lifecycle_why (LIFECYCLE_COMPLETE, "on_hold", why, sizeof why);
    assert_non_null (strstr (why, "on hold"));
    char tiny[8];
    lifecycle_why (LIFECYCLE_START, "on_hold", tiny, sizeof tiny);
    assert_int_equal (strlen (tiny), sizeof tiny - 1);
}

static void
test_after_screening (void **state)
{
    (void) state;
    lifecycle_change_t c = LIFECYCLE_START;
    assert_true (lifecycle_after_screening (1, &c));
    assert_int_equal (c, LIFECYCLE_RELEASE);
    c = LIFECYCLE_START;
    assert_true (lifecycle_after_screening (2, &c));       /* with precautions */
    assert_int_equal (c, LIFECYCLE_RELEASE);
    assert_true (lifecycle_after_screening (3, &c));
    assert_int_equal (c, LIFECYCLE_CANCEL);
    c = LIFECYCLE_START;
    assert_false (lifecycle_after_screening (0, &c));
    assert_false (lifecycle_after_screening (4, &c));
    assert_false (lifecycle_after_screening (-1, &c));
    assert_int_equal (c, LIFECYCLE_START);                 /* untouched */
    /* The hold starts at the report, else at the event. */
    assert_int_equal (lifecycle_hold_from (1000, 2000), 1000);
    assert_int_equal (lifecycle_hold_from (0, 2000), 2000);
    assert_int_equal (lifecycle_hold_from (-5, 2000), 2000);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_needs_and_leads_to),
        cmocka_unit_test (test_allows),
        cmocka_unit_test (test_on_hold),
        cmocka_unit_test (test_after_screening),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
