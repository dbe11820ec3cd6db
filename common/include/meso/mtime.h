/* mtime.h -- time helpers.
 *
 * Instants are int64_t microseconds since the Unix epoch, UTC (the same
 * resolution as PostgreSQL's timestamptz). Calendar dates are int32_t days
 * since 1970-01-01 (proleptic Gregorian). Time-zone arithmetic is left to
 * PostgreSQL (AT TIME ZONE): setenv("TZ") is not safe in a daemon. */
#ifndef MESO_MTIME_H
#define MESO_MTIME_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

/* Wall clock now, microseconds since the epoch. */
int64_t meso_time_now_us (void);
/* Monotonic clock, microseconds; for durations and deadlines only. */
int64_t meso_time_mono_us (void);
/* Monotonic clock, milliseconds. */
int64_t meso_time_mono_ms (void);

/* Formats an instant as RFC 3339 UTC with milliseconds:
 * "2026-11-21T12:00:00.123Z". Returns the length, like snprintf. */
int meso_time_format_utc (int64_t us, char *buf, size_t size);

/* Parses RFC 3339: "2026-11-21T12:00:00Z", with optional fraction and
 * "+HH:MM"/"-HH:MM" offset. Returns 0 or -1. */
int meso_time_parse_rfc3339 (const char *text, int64_t *out_us);

/* Days since 1970-01-01 for a civil date; -1 on out-of-range month/day
 * via meso_date_valid. */
int32_t meso_date_from_ymd (int year, int month, int day);
void meso_date_to_ymd (int32_t days, int *year, int *month, int *day);
bool meso_date_valid (int year, int month, int day);

/* Parses "YYYY-MM-DD" (strict). Returns 0 or -1. */
int meso_date_parse (const char *text, int32_t *out_days);
/* Formats as "YYYY-MM-DD". Returns the length, like snprintf. */
int meso_date_format (int32_t days, char *buf, size_t size);
/* 0 = Monday ... 6 = Sunday (ISO). */
int meso_date_weekday (int32_t days);
/* Whole years from birth to on (age on a given day; the birthday itself
 * counts: born 2008-11-21 is 18 on 2026-11-21). Feb 29 birthdays turn a
 * year older on Mar 1 in non-leap years. */
int meso_date_age_years (int32_t birth, int32_t on);

#endif
