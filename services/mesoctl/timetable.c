/* timetable.c -- pure: a clinic's agenda (scheduling.GetAgenda's
 * entries) printed as the front desk reads a day: one row per start time,
 * one column per room (or practitioner), the patient and areas in each
 * cell. No I/O but the stream it is given, so tests/unit checks the
 * layout directly.
 *
 * Rows are keyed by the local start time and the UTC offset, in the order
 * of the instants: on the night the clocks go back, 02:30 +02:00 and
 * 02:30 +01:00 are two rows, in the order they happen. Widths count
 * characters, not bytes, so accented names line up. */
#include "timetable.h"

#include <stdlib.h>
#include <string.h>

#include "meso/enumtext.h"

#define MAX_COLUMNS 64

/* Characters of a UTF-8 string. */
static size_t
s_chars (const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char) *s & 0xc0) != 0x80)
            n++;
    return n;
}

/* Prints s padded (unless last: a line ends without blanks) or cut,
 * ending in '~', to width characters. */
static void
s_cell (FILE *out, const char *s, size_t width, bool last)
{
    size_t chars = s_chars (s);
    if (chars <= width) {
        fputs (s, out);
        for (size_t i = chars; i < width && !last; i++)
            fputc (' ', out);
        return;
    }
    size_t seen = 0, i = 0;
    while (s[i] && seen < width - 1) {
        i++;
        while (((unsigned char) s[i] & 0xc0) == 0x80)
            i++;
        seen++;
    }
    fwrite (s, 1, i, out);
    fputc ('~', out);
}

static void
s_append (char *out, size_t size, const char *text)
{
    size_t used = strlen (out);
    if (used + 1 < size)
        snprintf (out + used, size - used, "%s", text);
}

void
timetable_cell (const Meso__V1__AgendaEntry *e, char *out, size_t size)
{
    if (size == 0)
        return;
    out[0] = '\0';
    if (e->patient_given_name && *e->patient_given_name) {
        s_append (out, size, e->patient_given_name);
        s_append (out, size, " ");
        s_append (out, size, e->patient_family_name ? e->patient_family_name : "");
    }
    else
        s_append (out, size, "(patient unknown)");
    for (size_t i = 0; i < e->n_areas; i++) {
        s_append (out, size, i ? ", " : ": ");
        s_append (out, size, e->areas[i]);
    }
    char status[MESO_ENUM_TEXT_MAX];
    if (e->status != MESO__V1__SESSION_STATUS__SESSION_STATUS_BOOKED) {
        s_append (out, size, " [");
        s_append (out, size, meso_enum_text (&meso__v1__session_status__descriptor, (int) e->status, status,
                                             sizeof status) ? status : "unspecified");
        s_append (out, size, "]");
    }
    if (e->stock_state == MESO__V1__AGENDA_STOCK_STATE__AGENDA_STOCK_STATE_AT_RISK)
        s_append (out, size, " [stock at risk]");
    Meso__V1__ScreeningState sc = e->screening_state;
    char sctext[MESO_ENUM_TEXT_MAX];
    if (sc != MESO__V1__SCREENING_STATE__SCREENING_STATE_ELIGIBLE
        && sc != MESO__V1__SCREENING_STATE__SCREENING_STATE_ELIGIBLE_WITH_PRECAUTIONS
        && sc != MESO__V1__SCREENING_STATE__SCREENING_STATE_UNKNOWN
        && meso_enum_text (&meso__v1__screening_state__descriptor, (int) sc, sctext, sizeof sctext)) {
        s_append (out, size, " [screening ");
        s_append (out, size, sctext);
        s_append (out, size, "]");
    }
    if (e->consent_state == MESO__V1__CONSENT_STATE__CONSENT_STATE_NONE)
        s_append (out, size, " [no consent]");
}

static const char *
s_col_id (const Meso__V1__AgendaEntry *e, bool by_practitioner)
{
    return by_practitioner ? e->practitioner_id : e->room_id;
}

static const char *
s_col_name (const Meso__V1__AgendaEntry *e, bool by_practitioner)
{
    return by_practitioner ? e->practitioner_name : e->room_name;
}

/* One day: entries[0..n) all start on it. */
static void
s_day (FILE *out, Meso__V1__AgendaEntry *const *e, size_t n, bool by_practitioner)
{
    const char *cols[MAX_COLUMNS];
    const char *names[MAX_COLUMNS];
    size_t width[MAX_COLUMNS];
    size_t ncols = 0;
    char cell[512], head[256];
    for (size_t i = 0; i < n; i++) {
        const char *id = s_col_id (e[i], by_practitioner);
        size_t c = 0;
        while (c < ncols && strcmp (cols[c], id) != 0)
            c++;
        if (c == ncols && ncols < MAX_COLUMNS) {
            /* insert in id order */
            size_t at = 0;
            while (at < ncols && strcmp (cols[at], id) < 0)
                at++;
            memmove (&cols[at + 1], &cols[at], (ncols - at) * sizeof cols[0]);
            memmove (&names[at + 1], &names[at], (ncols - at) * sizeof names[0]);
            cols[at] = id;
            names[at] = s_col_name (e[i], by_practitioner);
            ncols++;
        }
    }
    for (size_t c = 0; c < ncols; c++) {
        snprintf (head, sizeof head, "%s%s%s", cols[c], names[c] && *names[c] && strcmp (names[c], cols[c]) ? " " : "",
                  names[c] && strcmp (names[c], cols[c]) ? names[c] : "");
        width[c] = s_chars (head);
        for (size_t i = 0; i < n; i++)
            if (strcmp (s_col_id (e[i], by_practitioner), cols[c]) == 0) {
                timetable_cell (e[i], cell, sizeof cell);
                if (s_chars (cell) > width[c])
                    width[c] = s_chars (cell);
            }
        if (width[c] > TIMETABLE_CELL_MAX)
            width[c] = TIMETABLE_CELL_MAX;
    }
    s_cell (out, "time", 12, ncols == 0);
    for (size_t c = 0; c < ncols; c++) {
        snprintf (head, sizeof head, "%s%s%s", cols[c], names[c] && *names[c] && strcmp (names[c], cols[c]) ? " " : "",
                  names[c] && strcmp (names[c], cols[c]) ? names[c] : "");
        fputs (" | ", out);
        s_cell (out, head, width[c], c + 1 == ncols);
    }
    fputc ('\n', out);
    for (size_t i = 0; i < 12; i++)
        fputc ('-', out);
    for (size_t c = 0; c < ncols; c++) {
        fputs ("-+-", out);
        for (size_t i = 0; i < width[c]; i++)
            fputc ('-', out);
    }
    fputc ('\n', out);
    /* Rows: runs of entries with the same local start and offset (the
     * entries come in instant order, so a row's entries are adjacent). */
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && strcmp (e[j]->local_start, e[i]->local_start) == 0
               && strcmp (e[j]->utc_offset, e[i]->utc_offset) == 0)
            j++;
        char when[32];
        snprintf (when, sizeof when, "%.5s %s", e[i]->local_start + 11, e[i]->utc_offset);
        s_cell (out, when, 12, ncols == 0);
        for (size_t c = 0; c < ncols; c++) {
            cell[0] = '\0';
            for (size_t k = i; k < j; k++)
                if (strcmp (s_col_id (e[k], by_practitioner), cols[c]) == 0) {
                    if (cell[0])
                        s_append (cell, sizeof cell, " / ");
                    char one[512];
                    timetable_cell (e[k], one, sizeof one);
                    s_append (cell, sizeof cell, one);
                }
            /* no blank at the end of a line */
            fputs (c + 1 == ncols && !cell[0] ? " |" : " | ", out);
            s_cell (out, cell, width[c], c + 1 == ncols);
        }
        fputc ('\n', out);
        i = j;
    }
}

int
timetable_print (FILE *out, const char *clinic_id, const char *time_zone,
                 Meso__V1__AgendaEntry *const *entries, size_t n, bool by_practitioner)
{
    if (n == 0) {
        fprintf (out, "%s (%s): no sessions\n", clinic_id, time_zone);
        return 0;
    }
    int days = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && strncmp (entries[j]->local_start, entries[i]->local_start, 10) == 0)
            j++;
        fprintf (out, "%s%s (%s), %.10s: %zu session%s\n", days ? "\n" : "", clinic_id, time_zone,
                 entries[i]->local_start, j - i, j - i == 1 ? "" : "s");
        s_day (out, &entries[i], j - i, by_practitioner);
        days++;
        i = j;
    }
    return days;
}
