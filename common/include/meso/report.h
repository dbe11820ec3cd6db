/* report.h -- the arithmetic the reports of every service share: pure,
 * no I/O, unit tested directly (tests/unit/test_report.c).
 *
 * Reports count in SQL and divide here, so that every service rounds the
 * same way: integers only (money is cents, never a float), half to even
 * (the banker's rounding: a tie goes to the even neighbour, so a long
 * column of ties does not drift upwards), and a rate with nothing to
 * divide by is "no data" (-1), never 0%. */
#ifndef MESO_REPORT_H
#define MESO_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest range of days a report covers (two years, one of them
 * possibly leap). */
#define MESO_REPORT_MAX_DAYS 731

/* num / den rounded half to even; den > 0. */
int64_t meso_report_div_half_even (int64_t num, int64_t den);

/* num / den in basis points (10000 = 100%), half to even; -1 when den
 * <= 0 (nothing to divide by) or num < 0. Saturates at INT32_MAX. */
int32_t meso_report_rate_bp (int64_t num, int64_t den);

/* Formats a rate in basis points as a percentage with two decimals
 * ("12.34%"), or "-" for -1. Returns out. */
char *meso_report_rate_text (int32_t bp, char *out, size_t size);

/* The ISO 8601 week of a civil day (days since 1970-01-01): its
 * week-based year and week number (1..53). Monday starts the week; week
 * 1 is the one with the year's first Thursday, so 2027-01-01 (a Friday)
 * is in 2026-W53 and 2024-12-30 (a Monday) in 2025-W01. */
void meso_report_iso_week (int32_t day, int *year, int *week);
/* The Monday of day's ISO week. */
int32_t meso_report_week_monday (int32_t day);
/* "2027-W05". Returns the length, like snprintf. */
int meso_report_week_text (int32_t day, char *out, size_t size);

/* What is wrong with a range of days [from, to] asked of a report. */
typedef enum {
    MESO_RANGE_OK,
    MESO_RANGE_REVERSED,        /* to before from */
    MESO_RANGE_TOO_LONG,        /* more than max_days days */
    MESO_RANGE_FUTURE           /* to after the last day allowed */
} meso_range_verdict_t;

/* Judges [from, to] (both included): at most max_days days, and to at
 * most last (INT32_MAX: no limit). */
meso_range_verdict_t meso_report_range (int32_t from, int32_t to, int max_days, int32_t last);

#endif
