/* qty.c -- decimal quantities in thousandths of a unit (see qty.h).
 *
 * Its own file, outside cmd_inventory.c, so that it is pure and can be
 * tested without a daemon: a rounding slip here would receive or move the
 * wrong amount of a drug. */
#include <ctype.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "qty.h"

int
mesoctl_qty_parse (const char *text, int64_t *out)
{
    if (!text || !*text)
        return -1;
    const char *p = text;
    bool neg = *p == '-';
    if (neg || *p == '+')
        p++;
    int64_t whole = 0, frac = 0;
    int fdigits = 0;
    if (!isdigit ((unsigned char) *p))
        return -1;
    while (isdigit ((unsigned char) *p)) {
        if (whole > INT64_C (1000000000000))
            return -1;
        whole = whole * 10 + (*p++ - '0');
    }
    if (*p == '.') {
        p++;
        while (isdigit ((unsigned char) *p)) {
            if (++fdigits > 3)
                return -1;          /* finer than a thousandth */
            frac = frac * 10 + (*p++ - '0');
        }
    }
    if (*p)
        return -1;
    while (fdigits++ < 3)
        frac *= 10;
    *out = (whole * 1000 + frac) * (neg ? -1 : 1);
    return 0;
}

const char *
mesoctl_qty_format (int64_t milli, char *buf, size_t size)
{
    int64_t a = milli < 0 ? -milli : milli;
    if (a % 1000 == 0)
        snprintf (buf, size, "%s%" PRId64, milli < 0 ? "-" : "", a / 1000);
    else {
        snprintf (buf, size, "%s%" PRId64 ".%03" PRId64, milli < 0 ? "-" : "", a / 1000, a % 1000);
        size_t n = strlen (buf);
        while (n > 0 && buf[n - 1] == '0')
            buf[--n] = '\0';
    }
    return buf;
}
