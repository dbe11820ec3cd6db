/* money.h -- money as integer cents. Never a float.
 *
 * Amounts are int64_t cents. Parsing accepts "350", "350.5", "350.50",
 * "-12.30"; anything else (three decimals, letters, overflow) is refused. */
#ifndef MESO_MONEY_H
#define MESO_MONEY_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

/* Parses a decimal amount into cents. Returns 0, or -1 on malformed input
 * or overflow (out untouched). */
int meso_money_parse (const char *text, int64_t *out);

/* Formats cents as "350.00" (with a leading '-' when negative). When
 * currency is non-NULL, appends " USD". Returns the length, like snprintf. */
int meso_money_format (int64_t cents, const char *currency, char *buf, size_t size);

/* Overflow-checked arithmetic: returns false on overflow (out untouched). */
bool meso_money_add (int64_t a, int64_t b, int64_t *out);
bool meso_money_mul (int64_t cents, int64_t factor, int64_t *out);

/* True for a three-letter upper-case ISO 4217 style code ("USD"). */
bool meso_currency_valid (const char *code);

#endif
