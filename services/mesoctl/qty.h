/* qty.h -- quantities of an ingredient as mesoctl reads and shows them.
 *
 * On the wire a quantity is integer thousandths of the ingredient's unit
 * (mg or ml); an operator types and reads decimals ("12.5"). The
 * conversion is exact decimal, never a float. Pure: no I/O, unit tested
 * in tests/unit/test_mesoctl_qty.c. */
#ifndef MESOCTL_QTY_H
#define MESOCTL_QTY_H

#include <stddef.h>
#include <stdint.h>

/* "12.5" -> 12500, "-3" -> -3000. At most three decimals and a whole part
 * up to 10000000000009 (about 10^13); no blanks. Returns 0, or
 * -1 (out untouched). */
int mesoctl_qty_parse (const char *text, int64_t *out);

/* 12500 -> "12.5", 3000 -> "3", -1 -> "-0.001" into buf; returns buf. */
const char *mesoctl_qty_format (int64_t milli, char *buf, size_t size);

#endif
