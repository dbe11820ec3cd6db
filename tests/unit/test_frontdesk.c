/* test_frontdesk.c -- the front desk's pure decisions (frontdesk.c):
 * reminders due in the clinic's wall-clock time across a clock change,
 * the one reminder sent when several fell due, and a freed slot against
 * a waitlist entry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "scheduling/frontdesk.h"

static void
test_due_local (void **state)
{
    char out[32];
    assert_int_equal (frontdesk_due_local ("2027-03-30T10:00", 2880, out, sizeof out), 0);
    /* 48 h of wall clock across Europe's spring-forward night (03-28) */
    assert_string_equal (out, "2027-03-28T10:00");
    assert_int_equal (frontdesk_due_local ("2027-03-01T01:30", 120, out, sizeof out), 0);
    assert_string_equal (out, "2027-02-28T23:30");
    assert_int_equal (frontdesk_due_local ("2028-03-01T00:00", 1440, out, sizeof out), 0);
    assert_string_equal (out, "2028-02-29T00:00");     /* leap day */
    assert_int_equal (frontdesk_due_local ("1970-01-01T00:30", 60, out, sizeof out), 0);
    assert_string_equal (out, "1969-12-31T23:30");
    assert_int_equal (frontdesk_due_local ("2027-03-30T10:00", 0, out, sizeof out), -1);
    assert_int_equal (frontdesk_due_local ("2027-03-30T10:00", 20161, out, sizeof out), -1);
    assert_int_equal (frontdesk_due_local ("2027-03-30 10:00", 60, out, sizeof out), -1);
}

static void
test_leads_ok (void **state)
{
    size_t bad = 99;
    const uint32_t good[] = { 2880, 120 };
    assert_true (frontdesk_leads_ok (good, 2, &bad));
    assert_true (frontdesk_leads_ok (good, 0, &bad));
    const uint32_t dup[] = { 120, 2880, 120 };
    assert_false (frontdesk_leads_ok (dup, 3, &bad));
    assert_int_equal (bad, 2);
    const uint32_t zero[] = { 0 };
    assert_false (frontdesk_leads_ok (zero, 1, &bad));
    const uint32_t many[9] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
    assert_false (frontdesk_leads_ok (many, 9, &bad));
}

static void
test_reminders (void **state)
{
    const int leads[] = { 2880, 120 };
    bool none[] = { false, false };
    frontdesk_action_t act[2];
    /* three days ahead: nothing due */
    assert_int_equal (frontdesk_reminders (leads, 2, none, "2027-05-10T10:00", "2027-05-07T10:00", act), 0);
    assert_int_equal (act[0], FRONTDESK_WAIT);
    assert_int_equal (act[1], FRONTDESK_WAIT);
    /* exactly 48 h before: the first */
    assert_int_equal (frontdesk_reminders (leads, 2, none, "2027-05-10T10:00", "2027-05-08T10:00", act), 1);
    assert_int_equal (act[0], FRONTDESK_SEND);
    assert_int_equal (act[1], FRONTDESK_WAIT);
    /* the first sent, 2 h before: the second */
    bool first[] = { true, false };
    assert_int_equal (frontdesk_reminders (leads, 2, first, "2027-05-10T10:00", "2027-05-10T08:00", act), 1);
    assert_int_equal (act[0], FRONTDESK_WAIT);
    assert_int_equal (act[1], FRONTDESK_SEND);
    /* both due, none sent (down for two days, or booked late): the nearest only */
    assert_int_equal (frontdesk_reminders (leads, 2, none, "2027-05-10T10:00", "2027-05-10T09:00", act), 1);
    assert_int_equal (act[0], FRONTDESK_SUPERSEDED);
    assert_int_equal (act[1], FRONTDESK_SEND);
    /* both decided: nothing more */
    bool both[] = { true, true };
    assert_int_equal (frontdesk_reminders (leads, 2, both, "2027-05-10T10:00", "2027-05-10T09:00", act), 0);
    /* the session started (a restart after it): none, however late */
    assert_int_equal (frontdesk_reminders (leads, 2, none, "2027-05-10T10:00", "2027-05-10T10:00", act), 0);
    assert_int_equal (act[1], FRONTDESK_WAIT);
    assert_int_equal (frontdesk_reminders (leads, 2, none, "2027-05-10T10:00", "2027-05-10 09:00", act), -1);
}

static void
test_matches (void **state)
{
    const int32_t taken[] = { 100 };
    frontdesk_entry_t e = { .from_day = 90, .to_day = 120, .practitioner = "", .moves = false,
                            .taken = taken, .ntaken = 1 };
    frontdesk_slot_t s = { .day = 110, .start_us = 2000, .now_us = 1000, .practitioner = "dr-a" };
    assert_true (frontdesk_matches (&e, &s));
    s.day = 121;                        /* outside the window */
    assert_false (frontdesk_matches (&e, &s));
    s.day = 95;                         /* 5 days from another session */
    assert_false (frontdesk_matches (&e, &s));
    s.day = 110;
    e.practitioner = "dr-b";            /* another practitioner asked for */
    assert_false (frontdesk_matches (&e, &s));
    e.practitioner = "dr-a";
    assert_true (frontdesk_matches (&e, &s));
    e.moves = true;                     /* only an earlier slot moves a session */
    e.current_start_us = 2000;
    assert_false (frontdesk_matches (&e, &s));
    e.current_start_us = 5000;
    assert_true (frontdesk_matches (&e, &s));
    s.now_us = 3000;                    /* already started */
    assert_false (frontdesk_matches (&e, &s));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_due_local),
        cmocka_unit_test (test_leads_ok),
        cmocka_unit_test (test_reminders),
        cmocka_unit_test (test_matches),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
