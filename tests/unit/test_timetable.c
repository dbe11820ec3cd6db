/* test_timetable.c -- "mesoctl agenda"'s timetable (timetable.c, pure):
 * rows by local time and offset (a wall time that happens twice shows
 * twice), columns by room or practitioner in id order, cells with the
 * patient, the areas and what needs attention, widths in characters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mesoctl/timetable.h"

static Meso__V1__AgendaEntry
s_entry (const char *start, const char *offset, int64_t us, const char *room, const char *pract,
         const char *given, const char *family, char **areas, size_t nareas)
{
    Meso__V1__AgendaEntry e = MESO__V1__AGENDA_ENTRY__INIT;
    e.local_start = (char *) start;
    e.utc_offset = (char *) offset;
    e.starts_at_us = us;
    e.room_id = (char *) room;
    e.room_name = (char *) room;
    e.practitioner_id = (char *) pract;
    e.practitioner_name = (char *) pract;
    e.patient_given_name = (char *) given;
    e.patient_family_name = (char *) family;
    e.areas = areas;
    e.n_areas = nareas;
    e.status = MESO__V1__SESSION_STATUS__SESSION_STATUS_BOOKED;
    e.stock_state = MESO__V1__AGENDA_STOCK_STATE__AGENDA_STOCK_STATE_HELD;
    e.screening_state = MESO__V1__SCREENING_STATE__SCREENING_STATE_ELIGIBLE;
    e.consent_state = MESO__V1__CONSENT_STATE__CONSENT_STATE_SIGNED;
    return e;
}

static char *
s_print (Meso__V1__AgendaEntry **e, size_t n, bool by_practitioner)
{
    FILE *f = tmpfile ();
    assert_non_null (f);
    timetable_print (f, "mad", "Europe/Madrid", e, n, by_practitioner);
    long len = ftell (f);
    assert_true (len >= 0);
    char *text = calloc ((size_t) len + 1, 1);
    assert_non_null (text);
    rewind (f);
    assert_int_equal (fread (text, 1, (size_t) len, f), (size_t) len);
    fclose (f);
    return text;
}

static void
test_rows_and_columns (void **state)
{
    (void) state;
    char *a1[] = { "thighs" }, *a2[] = { "hips", "knees" };
    Meso__V1__AgendaEntry e[] = {
        s_entry ("2027-10-31T02:30", "+02:00", 1, "r2", "dr-b", "José", "Núñez", a1, 1),
        s_entry ("2027-10-31T02:30", "+01:00", 2, "r1", "dr-a", "Ana", "López", a2, 2),
        s_entry ("2027-10-31T10:00", "+01:00", 3, "r1", "dr-a", "Björn", "Ødegaard", a1, 1),
    };
    Meso__V1__AgendaEntry *p[] = { &e[0], &e[1], &e[2] };
    char *out = s_print (p, 3, false);
    /* r1 before r2 whatever the order of the entries; the repeated 02:30
     * twice, in the order it happens. */
    const char *head = strstr (out, "time         | r1");
    assert_non_null (head);
    assert_non_null (strstr (head, "| r2"));
    const char *first = strstr (out, "02:30 +02:00 | ");
    const char *second = strstr (out, "02:30 +01:00 | Ana López: hips, knees");
    assert_true (first && second && first < second);
    assert_non_null (strstr (first, "José Núñez: thighs"));
    assert_non_null (strstr (out, "10:00 +01:00 | Björn Ødegaard: thighs"));
    assert_non_null (strstr (out, "mad (Europe/Madrid), 2027-10-31: 3 sessions"));
    /* Accented names take their width in characters: the column bars
     * line up (the same byte offset would not). */
    char *l1 = strstr (out, "02:30 +01:00"), *l2 = strstr (out, "10:00 +01:00");
    char *bar1 = strchr (l1 + 14, '|'), *bar2 = strchr (l2 + 14, '|');
    assert_non_null (bar1);
    assert_non_null (bar2);
    size_t c1 = 0, c2 = 0;
    for (char *c = l1; c < bar1; c++)
        c1 += ((unsigned char) *c & 0xc0) != 0x80;
    for (char *c = l2; c < bar2; c++)
        c2 += ((unsigned char) *c & 0xc0) != 0x80;
    assert_int_equal (c1, c2);
    free (out);
    out = s_print (p, 3, true);
    assert_non_null (strstr (out, "time         | dr-a"));
    free (out);
}

static void
test_cells_and_days (void **state)
{
    (void) state;
    char *a1[] = { "thighs" };
    Meso__V1__AgendaEntry e = s_entry ("2027-10-31T09:00", "+01:00", 1, "r1", "dr-a", "Ana", "López", a1, 1);
    char cell[256];
    timetable_cell (&e, cell, sizeof cell);
    assert_string_equal (cell, "Ana López: thighs");
    e.status = MESO__V1__SESSION_STATUS__SESSION_STATUS_CANCELLED;
    e.stock_state = MESO__V1__AGENDA_STOCK_STATE__AGENDA_STOCK_STATE_AT_RISK;
    e.screening_state = MESO__V1__SCREENING_STATE__SCREENING_STATE_EXPIRED;
    e.consent_state = MESO__V1__CONSENT_STATE__CONSENT_STATE_NONE;
    timetable_cell (&e, cell, sizeof cell);
    assert_string_equal (cell, "Ana López: thighs [cancelled] [stock at risk] [screening expired] [no consent]");
    e.patient_given_name = "";
    e.status = MESO__V1__SESSION_STATUS__SESSION_STATUS_BOOKED;
    e.stock_state = MESO__V1__AGENDA_STOCK_STATE__AGENDA_STOCK_STATE_HELD;
    e.screening_state = MESO__V1__SCREENING_STATE__SCREENING_STATE_UNKNOWN;
    e.consent_state = MESO__V1__CONSENT_STATE__CONSENT_STATE_UNKNOWN;
    timetable_cell (&e, cell, sizeof cell);
    assert_string_equal (cell, "(patient unknown): thighs");
    /* Two days: two tables; a long cell is cut. */
    Meso__V1__AgendaEntry d1 = s_entry ("2027-10-31T09:00", "+01:00", 1, "r1", "dr-a", "Ana",
                                        "López García de la Fuente y Montenegro", a1, 1);
    Meso__V1__AgendaEntry d2 = s_entry ("2027-11-01T09:00", "+01:00", 2, "r1", "dr-a", "Ana", "López", a1, 1);
    Meso__V1__AgendaEntry *p[] = { &d1, &d2 };
    char *out = s_print (p, 2, false);
    assert_non_null (strstr (out, "2027-10-31: 1 session\n"));
    assert_non_null (strstr (out, "2027-11-01: 1 session\n"));
    assert_non_null (strstr (out, "~"));
    free (out);
    out = s_print (NULL, 0, false);
    assert_string_equal (out, "mad (Europe/Madrid): no sessions\n");
    free (out);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_rows_and_columns),
        cmocka_unit_test (test_cells_and_days),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
