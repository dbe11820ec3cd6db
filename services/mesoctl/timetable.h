/* timetable.h -- pure: a clinic's agenda as a text timetable
 * (timetable.c; "mesoctl agenda"). */
#ifndef MESOCTL_TIMETABLE_H
#define MESOCTL_TIMETABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "scheduling.pb-c.h"

/* Widest cell, in characters (a longer one is cut and ends in "~"). */
#define TIMETABLE_CELL_MAX 48

/* The text of one entry's cell: "Given Family: area, area" and, when the
 * session needs attention, its marks ("[cancelled]", "[stock at risk]",
 * "[screening expired]", "[no consent]"...). Writes at most size - 1
 * bytes and a NUL. */
void timetable_cell (const Meso__V1__AgendaEntry *e, char *out, size_t size);

/* Prints entries[0..n) (in start order, as GetAgenda answers) as one
 * table per local day: rows are the local start times (with the UTC
 * offset, so a wall time that happens twice on a clock change shows
 * twice), columns the rooms (by_practitioner: the practitioners) in id
 * order, cells timetable_cell. A day with no entry prints "no sessions".
 * Returns the number of days printed. */
int timetable_print (FILE *out, const char *clinic_id, const char *time_zone,
                     Meso__V1__AgendaEntry *const *entries, size_t n, bool by_practitioner);

#endif
