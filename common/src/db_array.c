/* db_array.c -- a PostgreSQL text[] literal from C strings, for passing a
 * list as one query parameter ($1::text[]). Pure: no I/O.
 *
 * Every element is double-quoted with '"' and '\' escaped, so any text
 * (commas, braces, spaces, the word NULL) arrives as itself; a NULL
 * pointer becomes the SQL NULL element. libpq has no builder for array
 * literals (only for the binary array format, which needs the element
 * type's OID and lengths), hence this one. */
#include "meso/db.h"

#include <stdlib.h>
#include <string.h>

char *
meso_db_text_array (const char *const *items, size_t n)
{
    size_t size = 3;            /* "{}" and the NUL */
    for (size_t i = 0; i < n; i++) {
        size += 1 + 4;          /* a comma, or NULL's letters */
        if (items[i])
            for (const char *c = items[i]; *c; c++)
                size += (*c == '"' || *c == '\\') ? 2 : 1;
        size += 2;              /* the quotes */
    }
    char *out = malloc (size);
    if (!out)
        return NULL;
    char *w = out;
    *w++ = '{';
    for (size_t i = 0; i < n; i++) {
        if (i)
            *w++ = ',';
        if (!items[i]) {
            memcpy (w, "NULL", 4);
            w += 4;
            continue;
        }
        *w++ = '"';
        for (const char *c = items[i]; *c; c++) {
            if (*c == '"' || *c == '\\')
                *w++ = '\\';
            *w++ = *c;
        }
        *w++ = '"';
    }
    *w++ = '}';
    *w = '\0';
    return out;
}
