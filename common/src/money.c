/* money.c -- money as integer cents (see money.h).
 *
 * Amounts never pass through a float: a double cannot hold 0.10 exactly and
 * an invoice must add up to the cent. Parsing is strict on purpose -- an
 * amount that is not exactly "[-]digits[.d[d]]" is refused rather than
 * guessed at ("1.234" would silently lose a tenth of a cent, "1e3" and
 * " 12" are typos) -- and every operation checks for int64 overflow. */
#include "meso/money.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>

int
meso_money_parse (const char *text, int64_t *out)
{
    assert (out);
    if (!text)
        return -1;
    const char *p = text;
    bool negative = false;
    if (*p == '-') {
        negative = true;
        p++;
    }
    /* The magnitude is gathered as unsigned so that INT64_MIN cents, whose
     * magnitude is one more than INT64_MAX, can be parsed too. */
    uint64_t limit = negative ? (uint64_t) INT64_MAX + 1 : (uint64_t) INT64_MAX;
    uint64_t cents = 0;
    int whole_digits = 0;
    while (*p >= '0' && *p <= '9') {
        uint64_t digit = (uint64_t) (*p - '0');
        /* cents counts whole units until the scaling below; keep whole*100
         * within the limit at every step. */
        if (cents > (limit / 100 - digit) / 10)
            return -1;
        cents = cents * 10 + digit;
        whole_digits++;
        p++;
    }
    if (whole_digits == 0)
        return -1;
    cents *= 100;
    if (*p == '.') {
        p++;
        int frac_digits = 0;
        uint64_t frac = 0;
        while (*p >= '0' && *p <= '9') {
            if (++frac_digits > 2)
                return -1;      /* a fraction of a cent */
            frac = frac * 10 + (uint64_t) (*p - '0');
            p++;
        }
        if (frac_digits == 0)
            return -1;          /* "350." */
        if (frac_digits == 1)
            frac *= 10;         /* "350.5" is 350.50 */
        if (frac > limit - cents)
            return -1;
        cents += frac;
    }
    if (*p != '\0')
        return -1;
    if (negative)
        /* -(cents - 1) - 1 stays in range even for INT64_MIN. */
        *out = cents == 0 ? 0 : -(int64_t) (cents - 1) - 1;
    else
        *out = (int64_t) cents;
    return 0;
}

int
meso_money_format (int64_t cents, const char *currency, char *buf, size_t size)
{
    assert (buf || size == 0);
    uint64_t magnitude = cents < 0 ? (uint64_t) (-(cents + 1)) + 1 : (uint64_t) cents;
    return snprintf (buf, size, "%s%" PRIu64 ".%02u%s%s", cents < 0 ? "-" : "",
                     magnitude / 100, (unsigned) (magnitude % 100),
                     currency ? " " : "", currency ? currency : "");
}

bool
meso_money_add (int64_t a, int64_t b, int64_t *out)
{
    assert (out);
    int64_t sum;
    if (__builtin_add_overflow (a, b, &sum))
        return false;
    *out = sum;
    return true;
}

bool
meso_money_mul (int64_t cents, int64_t factor, int64_t *out)
{
    assert (out);
    int64_t product;
    if (__builtin_mul_overflow (cents, factor, &product))
        return false;
    *out = product;
    return true;
}

bool
meso_currency_valid (const char *code)
{
    if (!code)
        return false;
    for (int i = 0; i < 3; i++)
        if (code[i] < 'A' || code[i] > 'Z')
            return false;
    return code[3] == '\0';
}
