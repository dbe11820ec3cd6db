/* store_calendar.c -- the SQL of a clinic's calendar: what the slot
 * search of PlanCourse / BookCourse reads, in a few statements, to search
 * in memory (planner_free_slots) instead of asking PostgreSQL per
 * candidate day.
 *
 * A file of its own because it is one object with one job (load a
 * calendar, answer "which slots of this day are free") and most of the
 * schema's SQL by size; the clinic rows it reads are the clinics
 * aggregate's (store_clinics.c), but only through its own statements. */
#include "store.h"

#include <assert.h>
#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/mtime.h"
#include "store_sql.h"

static void
s_copy (char *dst, size_t size, const char *src)
{
    snprintf (dst, size, "%s", src ? src : "");
}

/* The calendar's statements are long unions whose planning costs as much
 * as running them: meso_db_query_binres prepares them once per connection
 * (db.c's statement cache), so the daemon plans them once. Their results
 * are binary: a PlanCourse reads some two thousand rows, and formatting,
 * sending and parsing instants as text (extract(epoch) is numeric) cost
 * as much as finding them. The first statement of a calendar carries the
 * clinic's hours, practitioners, days off and rooms and the first days,
 * so a plan whose sessions land on their targets is one round trip.
 *
 * Every row has the same ten columns: kind (text), n, i, j, l (int4), a, b
 * (timestamptz), f (bool), t1, t2 (text):
 *   z  n day, a its local midnight, f not 24 hours long (a clock change),
 *      l 1 when only a window of it was asked for: i..j, the slot starts
 *      (minutes) nearest to the preferred time $4 (within $5 minutes of
 *      it, or of the first/last slot start when it falls outside the
 *      opening hours; $5 < 0 the whole day)
 *   m  n day, i a slot start (minute) on such a day, a its instant (the
 *      first occurrence of an ambiguous time: scheduling.local_instant),
 *      f whether it exists (reads back as itself; not in a clock-change
 *      gap)
 *   a  n day, a b an appointment (or a slot held for another patient's
 *      waitlist offer, migration 032) overlapping the day (an hour's margin
 *      each side, and the last slot's length past midnight) or its window
 *      (from the first slot start to the end of the last; an hour's margin
 *      on a day with a clock change, where local times do not map to
 *      instants in order), f the patient's, t1 practitioner, t2 room (this
 *      clinic's only)
 *   h  i isodow, j opens, l closes (minutes)
 *   p  n rank of the practitioner in id order (from 1), i isodow, j starts,
 *      l ends, t1 practitioner
 *   r  n rank of the room in id order (from 1), t1 room
 *   o  n a day off of t1
 * Ranks use the database's collation, as the free-slot query orders.
 *
 * A day is first loaded in a window around the preferred time: a plan
 * takes the free slot nearest to it, which is almost always close, and
 * the window reads a fraction of the day's appointments. When the window
 * cannot prove its nearest free slot is the day's (none free, or a slot
 * outside it could be as near), the whole day is loaded and searched:
 * the slot chosen is the same either way. */

#define STORE_WINDOW_SLOTS 2            /* slots each side of the preferred time */

#define CAL_DAYS \
    "WITH c AS (SELECT time_zone AS tz, slot_minutes AS sm, make_interval(mins => slot_minutes) AS len" \
    "           FROM scheduling.clinic WHERE clinic_id = $1)," \
    " d AS (SELECT x AS n, date '1970-01-01' + x AS day, c.tz, c.len," \
    "              (date '1970-01-01' + x)::timestamp AT TIME ZONE c.tz AS t0," \
    "              (date '1970-01-01' + x + 1)::timestamp AT TIME ZONE c.tz AS t1," \
    "              $5::int >= 0 AND h.opens IS NOT NULL AS win," \
    "              least(greatest($4::int, (extract(epoch FROM h.opens) / 60)::int)," \
    "                    (extract(epoch FROM h.closes) / 60)::int - c.sm) AS wc" \
    "       FROM c CROSS JOIN unnest($2::int[]) AS x LEFT JOIN scheduling.clinic_hours h" \
    "        ON h.clinic_id = $1 AND h.isodow = extract(isodow FROM date '1970-01-01' + x))," \
    " w AS (SELECT n, CASE WHEN NOT win" \
    "  THEN tstzrange(t0 - interval '1 hour', t1 + len + interval '1 hour')" \
    "  ELSE tstzrange((day + make_interval(mins => greatest(wc - $5::int, 0))) AT TIME ZONE tz - g," \
    "                 (day + make_interval(mins => least(wc + $5::int, 1440))) AT TIME ZONE tz + len + g) END AS r" \
    "  FROM (SELECT d.*, CASE WHEN extract(epoch FROM t1) - extract(epoch FROM t0) <> 86400" \
    "        THEN interval '1 hour' ELSE interval '0' END AS g FROM d) AS dg)" \
    " SELECT 'z'::text, n, CASE WHEN win THEN wc - $5::int ELSE 0 END, CASE WHEN win THEN wc + $5::int ELSE 0 END," \
    "  win::int, t0, NULL::timestamptz," \
    "  extract(epoch FROM t1) - extract(epoch FROM t0) <> 86400, NULL::text, NULL::text FROM d" \
    " UNION ALL SELECT 'm', d.n, (extract(hour FROM t) * 60 + extract(minute FROM t))::int, 0, 0," \
    "  scheduling.local_instant(t, d.tz), NULL, (scheduling.local_instant(t, d.tz) AT TIME ZONE d.tz) = t," \
    "  NULL, NULL" \
    "  FROM d JOIN scheduling.clinic_hours h ON h.clinic_id = $1 AND h.isodow = extract(isodow FROM d.day)" \
    "  CROSS JOIN generate_series(d.day + h.opens, d.day + h.closes - d.len, d.len) AS t" \
    "  WHERE extract(epoch FROM d.t1) - extract(epoch FROM d.t0) <> 86400" \
    " UNION ALL SELECT 'a', w.n, 0, 0, 0, lower(a.during), upper(a.during), a.patient_id = $3," \
    "  a.practitioner_id, a.room_id" \
    "  FROM w JOIN scheduling.appointment a ON a.clinic_id = $1 AND a.during && w.r" \
    "   AND a.status IN " ACTIVE \
    " UNION ALL SELECT 'a', w.n, 0, 0, 0, lower(a.during), upper(a.during), a.patient_id = $3," \
    "  a.practitioner_id, NULL" \
    "  FROM w JOIN scheduling.appointment a ON a.during && w.r AND a.status IN " ACTIVE \
    "   AND a.clinic_id <> $1 AND a.practitioner_id IN (SELECT h.practitioner_id" \
    "       FROM scheduling.practitioner_hours h WHERE h.clinic_id = $1" \
    "       AND EXISTS (SELECT 1 FROM scheduling.practitioner_hours e" \
    "                   WHERE e.practitioner_id = h.practitioner_id AND e.clinic_id <> $1))" \
    " UNION ALL SELECT 'a', w.n, 0, 0, 0, lower(a.during), upper(a.during), true," \
    "  a.practitioner_id, NULL" \
    "  FROM w JOIN scheduling.appointment a ON a.patient_id = $3 AND a.during && w.r" \
    "   AND a.status IN " ACTIVE " AND a.clinic_id <> $1" \
    " UNION ALL SELECT 'a', w.n, 0, 0, 0, lower(o.during), upper(o.during), false," \
    "  o.practitioner_id, o.room_id" \
    "  FROM w JOIN scheduling.slot_offer o ON o.clinic_id = $1 AND o.during && w.r" \
    "   AND o.status = 'open' AND o.expires_at > now() AND o.patient_id <> $3"

#define CAL_CLINIC \
    " UNION ALL SELECT 'h', 0, isodow, (extract(epoch FROM opens) / 60)::int," \
    "  (extract(epoch FROM closes) / 60)::int, NULL, NULL, false, NULL, NULL" \
    "  FROM scheduling.clinic_hours WHERE clinic_id = $1" \
    " UNION ALL SELECT 'p', (dense_rank() OVER (ORDER BY practitioner_id))::int, isodow," \
    "  (extract(epoch FROM starts) / 60)::int, (extract(epoch FROM ends) / 60)::int, NULL, NULL, false," \
    "  practitioner_id, NULL FROM scheduling.practitioner_hours WHERE clinic_id = $1" \
    " UNION ALL SELECT 'r', (row_number() OVER (ORDER BY room_id))::int, 0, 0, 0, NULL, NULL, false," \
    "  room_id, NULL FROM scheduling.room WHERE clinic_id = $1 AND active" \
    " UNION ALL SELECT 'o', o.day - date '1970-01-01', 0, 0, 0, NULL, NULL, false, o.practitioner_id, NULL" \
    "  FROM scheduling.practitioner_day_off o WHERE o.day BETWEEN $6::date AND $7::date" \
    "   AND o.practitioner_id IN (SELECT practitioner_id FROM scheduling.practitioner_hours" \
    "                             WHERE clinic_id = $1)"

enum { CAL_K, CAL_N, CAL_I, CAL_J, CAL_L, CAL_A, CAL_B, CAL_F, CAL_T1, CAL_T2, CAL_NCOLS };

struct store_calendar_t {
    meso_db_t *db;
    char clinic_id[SCHED_ID_MAX + 1];
    char patient[SCHED_ID_MAX + 1];
    int slot_min;
    int preferred;                      /* minutes: the time the plan prefers */
    int32_t first;
    int ndays;
    planner_week_t hours;
    int n_pract;
    char (*pract_id)[SCHED_ID_MAX + 1];
    planner_practitioner_t *pract;
    int32_t *days_off;                  /* grouped by practitioner, sorted */
    int n_rooms;
    char (*room_id)[SCHED_ID_MAX + 1];
    int *pract_hash, *room_hash;        /* open addressing: index + 1, 0 empty */
    int hash_cap;                       /* a power of two, > 2 * max(n_pract, n_rooms) */
    bool *loaded;                       /* [ndays] */
    int *win_lo, *win_hi;               /* [ndays]: the window loaded, lo > hi: the whole day */
    planner_day_t *days;                /* [ndays] */
    planner_busy_t **busy;              /* [ndays], owned */
    int *busy_cap;                      /* [ndays] */
};

static void
s_week_closed (planner_week_t *w)
{
    for (int d = 0; d < 8; d++)
        w->from[d] = w->to[d] = -1;
}

/* ---- values of a binary result (network byte order) ---- */

static int32_t
s_bin_i32 (const PGresult *res, int row, int col)
{
    uint32_t v;
    if (PQgetisnull (res, row, col) || PQgetlength (res, row, col) != 4)
        return 0;
    memcpy (&v, PQgetvalue (res, row, col), sizeof v);
    return (int32_t) be32toh (v);
}

static bool
s_bin_bool (const PGresult *res, int row, int col)
{
    return !PQgetisnull (res, row, col) && PQgetvalue (res, row, col)[0] != 0;
}

/* A timestamptz: microseconds since 2000-01-01 UTC on the wire, since
 * 1970-01-01 here (what extract(epoch) * 1000000 gave). */
static int64_t
s_bin_instant (const PGresult *res, int row, int col)
{
    uint64_t v;
    if (PQgetisnull (res, row, col) || PQgetlength (res, row, col) != 8)
        return 0;
    memcpy (&v, PQgetvalue (res, row, col), sizeof v);
    return (int64_t) be64toh (v) + INT64_C (946684800000000);
}

/* ---- id to index: a few thousand appointment rows per plan ---- */

static unsigned
s_hash (const char *id)
{
    unsigned h = 2166136261u;               /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *) id; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h;
}

static void
s_hash_put (int *table, int cap, const char *id, int index)
{
    unsigned m = (unsigned) cap - 1, h = s_hash (id) & m;
    while (table[h])
        h = (h + 1) & m;
    table[h] = index + 1;
}

static int
s_hash_get (const int *table, int cap, char (*ids)[SCHED_ID_MAX + 1], const char *id)
{
    if (!table || !id || !id[0])
        return -1;
    unsigned m = (unsigned) cap - 1, h = s_hash (id) & m;
    while (table[h]) {
        if (strcmp (ids[table[h] - 1], id) == 0)
            return table[h] - 1;
        h = (h + 1) & m;
    }
    return -1;
}

void
store_calendar_destroy (store_calendar_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    store_calendar_t *self = *self_p;
    for (int i = 0; self->busy && i < self->ndays; i++)
        free (self->busy[i]);
    free (self->busy);
    free (self->busy_cap);
    free (self->days);
    free (self->loaded);
    free (self->win_lo);
    free (self->win_hi);
    free (self->pract_id);
    free (self->pract);
    free (self->days_off);
    free (self->room_id);
    free (self->pract_hash);
    free (self->room_hash);
    free (self);
    *self_p = NULL;
}

static int
s_int32_cmp (const void *a, const void *b)
{
    int32_t x = *(const int32_t *) a, y = *(const int32_t *) b;
    return x < y ? -1 : x > y;
}

/* The clinic's rows (h, p, r, o) of the first statement. Returns 0 or -1
 * (out of memory, error set). */
static int
s_take_clinic (store_calendar_t *self, const PGresult *res)
{
    int rows = PQntuples (res), n_off = 0;
    for (int i = 0; i < rows; i++) {
        char k = PQgetvalue (res, i, CAL_K)[0];
        int n = s_bin_i32 (res, i, CAL_N);
        if (k == 'p' && n > self->n_pract)
            self->n_pract = n;
        else if (k == 'r' && n > self->n_rooms)
            self->n_rooms = n;
        else if (k == 'o')
            n_off++;
    }
    int most = self->n_pract > self->n_rooms ? self->n_pract : self->n_rooms;
    self->hash_cap = 16;
    while (self->hash_cap <= 2 * most)
        self->hash_cap *= 2;
    self->pract_id = calloc ((size_t) self->n_pract + 1, sizeof *self->pract_id);
    self->pract = calloc ((size_t) self->n_pract + 1, sizeof *self->pract);
    self->days_off = calloc ((size_t) n_off + 1, sizeof *self->days_off);
    self->room_id = calloc ((size_t) self->n_rooms + 1, sizeof *self->room_id);
    self->pract_hash = calloc ((size_t) self->hash_cap, sizeof *self->pract_hash);
    self->room_hash = calloc ((size_t) self->hash_cap, sizeof *self->room_hash);
    if (!self->pract_id || !self->pract || !self->days_off || !self->room_id || !self->pract_hash
        || !self->room_hash) {
        meso_db_set_error (self->db, "53200", "out of memory for the calendar");
        return -1;
    }
    for (int p = 0; p < self->n_pract; p++)
        s_week_closed (&self->pract[p].hours);
    for (int i = 0; i < rows; i++) {
        char k = PQgetvalue (res, i, CAL_K)[0];
        int n = s_bin_i32 (res, i, CAL_N), dow = s_bin_i32 (res, i, CAL_I);
        int a = s_bin_i32 (res, i, CAL_J), b = s_bin_i32 (res, i, CAL_L);
        if (k == 'h' && dow >= 1 && dow <= 7) {
            self->hours.from[dow] = a;
            self->hours.to[dow] = b;
        }
        else if (k == 'p' && n >= 1) {
            s_copy (self->pract_id[n - 1], sizeof self->pract_id[0], PQgetvalue (res, i, CAL_T1));
            if (dow >= 1 && dow <= 7) {
                self->pract[n - 1].hours.from[dow] = a;
                self->pract[n - 1].hours.to[dow] = b;
            }
        }
        else if (k == 'r' && n >= 1)
            s_copy (self->room_id[n - 1], sizeof self->room_id[0], PQgetvalue (res, i, CAL_T1));
    }
    for (int p = 0; p < self->n_pract; p++)
        s_hash_put (self->pract_hash, self->hash_cap, self->pract_id[p], p);
    for (int r = 0; r < self->n_rooms; r++)
        s_hash_put (self->room_hash, self->hash_cap, self->room_id[r], r);
    /* Days off grouped by practitioner (in index order), each group
     * sorted: planner.c looks them up by bisection. */
    for (int i = 0; i < rows; i++)
        if (PQgetvalue (res, i, CAL_K)[0] == 'o') {
            int p = store_calendar_practitioner (self, PQgetvalue (res, i, CAL_T1));
            if (p >= 0)
                self->pract[p].n_days_off++;
        }
    int at = 0;
    for (int p = 0; p < self->n_pract; p++) {
        self->pract[p].days_off = &self->days_off[at];
        at += self->pract[p].n_days_off;
        self->pract[p].n_days_off = 0;
    }
    for (int i = 0; i < rows; i++)
        if (PQgetvalue (res, i, CAL_K)[0] == 'o') {
            int p = store_calendar_practitioner (self, PQgetvalue (res, i, CAL_T1));
            if (p >= 0) {
                planner_practitioner_t *pr = &self->pract[p];
                self->days_off[(pr->days_off - self->days_off) + pr->n_days_off++] = s_bin_i32 (res, i, CAL_N);
            }
        }
    for (int p = 0; p < self->n_pract; p++)
        qsort (self->days_off + (self->pract[p].days_off - self->days_off), (size_t) self->pract[p].n_days_off,
               sizeof (int32_t), s_int32_cmp);
    return 0;
}

static int
s_busy_add (store_calendar_t *self, int i, const planner_busy_t *b)
{
    planner_day_t *d = &self->days[i];
    if (d->n_busy == self->busy_cap[i]) {
        int cap = self->busy_cap[i] ? self->busy_cap[i] * 2 : 64;
        planner_busy_t *x = realloc (self->busy[i], (size_t) cap * sizeof *x);
        if (!x)
            return -1;
        self->busy[i] = x;
        self->busy_cap[i] = cap;
    }
    self->busy[i][d->n_busy++] = *b;
    d->busy = self->busy[i];
    return 0;
}

/* The day rows (z, m, a) of a result. Returns 0 or -1 (error set). */
static int
s_take_days (store_calendar_t *self, const PGresult *res)
{
    for (int r = 0; r < PQntuples (res); r++) {
        char k = PQgetvalue (res, r, CAL_K)[0];
        if (k != 'z' && k != 'm' && k != 'a')
            continue;
        int64_t i = (int64_t) s_bin_i32 (res, r, CAL_N) - self->first;
        if (i < 0 || i >= self->ndays)
            continue;
        planner_day_t *d = &self->days[i];
        int64_t a = s_bin_instant (res, r, CAL_A);
        if (k == 'z') {
            d->day = (int32_t) (self->first + i);
            d->midnight_us = a;
            d->exact = s_bin_bool (res, r, CAL_F);
            self->loaded[i] = true;
            bool win = s_bin_i32 (res, r, CAL_L) != 0;
            self->win_lo[i] = win ? s_bin_i32 (res, r, CAL_I) : 1;
            self->win_hi[i] = win ? s_bin_i32 (res, r, CAL_J) : 0;
        }
        else if (k == 'm') {
            if (d->n_exact < PLANNER_MAX_SLOTS) {
                d->exact_gap[d->n_exact] = !s_bin_bool (res, r, CAL_F);
                d->exact_min[d->n_exact] = s_bin_i32 (res, r, CAL_I);
                d->exact_us[d->n_exact++] = a;
            }
        }
        else {
            planner_busy_t b;
            b.start_us = a;
            b.end_us = s_bin_instant (res, r, CAL_B);
            b.patient = s_bin_bool (res, r, CAL_F);
            b.practitioner = store_calendar_practitioner (self, PQgetvalue (res, r, CAL_T1));
            b.room = PQgetisnull (res, r, CAL_T2)
                   ? -1 : s_hash_get (self->room_hash, self->hash_cap, self->room_id, PQgetvalue (res, r, CAL_T2));
            if ((b.practitioner >= 0 || b.room >= 0 || b.patient) && s_busy_add (self, (int) i, &b) != 0) {
                meso_db_set_error (self->db, "53200", "out of memory for the calendar");
                return -1;
            }
        }
    }
    return 0;
}

/* "{d1,d2,...}" of the days of days[0..n) still to load (offsets from
 * 1970-01-01), or NULL (out of memory, error set); *wanted their count. */
static char *
s_day_list (store_calendar_t *self, const int32_t *days, int n, int *wanted)
{
    size_t cap = (size_t) n * 12 + 4, used = 0;
    char *list = malloc (cap);
    if (!list) {
        meso_db_set_error (self->db, "53200", "out of memory for the calendar");
        return NULL;
    }
    used += (size_t) snprintf (list, cap, "{");
    *wanted = 0;
    for (int k = 0; k < n; k++) {
        int64_t i = (int64_t) days[k] - self->first;
        if (i < 0 || i >= self->ndays || self->loaded[i])
            continue;
        bool dup = false;
        for (int j = 0; j < k && !dup; j++)
            dup = days[j] == days[k];
        if (dup)
            continue;
        used += (size_t) snprintf (list + used, cap - used, "%s%d", *wanted ? "," : "", (int) days[k]);
        (*wanted)++;
    }
    snprintf (list + used, cap - used, "}");
    return list;
}

/* Whether res has the calendar's shape. */
static bool
s_shape_ok (store_calendar_t *self, const PGresult *res)
{
    if (PQnfields (res) == CAL_NCOLS && PQfformat (res, CAL_N) == 1)
        return true;
    meso_db_set_error (self->db, "XX000", "unexpected shape of the calendar");
    return false;
}

store_calendar_t *
store_calendar_new (meso_db_t *db, const store_clinic_t *c, const char *patient, int preferred, int32_t first,
                    int ndays, const int32_t *days, int n)
{
    assert (db && c && ndays > 0);
    assert (n == 0 || days);
    store_calendar_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->db = db;
    s_copy (self->clinic_id, sizeof self->clinic_id, c->clinic_id);
    s_copy (self->patient, sizeof self->patient, patient);
    self->slot_min = c->slot_minutes;
    self->preferred = preferred;
    self->first = first;
    self->ndays = ndays;
    s_week_closed (&self->hours);
    self->loaded = calloc ((size_t) ndays, sizeof *self->loaded);
    self->win_lo = calloc ((size_t) ndays, sizeof *self->win_lo);
    self->win_hi = calloc ((size_t) ndays, sizeof *self->win_hi);
    self->days = calloc ((size_t) ndays, sizeof *self->days);
    self->busy = calloc ((size_t) ndays, sizeof *self->busy);
    self->busy_cap = calloc ((size_t) ndays, sizeof *self->busy_cap);
    if (!self->loaded || !self->win_lo || !self->win_hi || !self->days || !self->busy || !self->busy_cap) {
        meso_db_set_error (db, "53200", "out of memory for the calendar");
        store_calendar_destroy (&self);
        return NULL;
    }
    int wanted;
    char *list = s_day_list (self, days, n, &wanted);
    if (!list) {
        store_calendar_destroy (&self);
        return NULL;
    }
    char from[11], to[11];
    meso_date_format (first, from, sizeof from);
    meso_date_format (first + ndays - 1, to, sizeof to);
    char pref[12], half[12];
    snprintf (pref, sizeof pref, "%d", preferred);
    snprintf (half, sizeof half, "%d", STORE_WINDOW_SLOTS * c->slot_minutes);
    const char *p[] = { self->clinic_id, list, self->patient, pref, half, from, to };
    PGresult *res = meso_db_query_binres (db, CAL_DAYS CAL_CLINIC, 7, p);
    free (list);
    if (!res || !s_shape_ok (self, res) || s_take_clinic (self, res) != 0 || s_take_days (self, res) != 0) {
        PQclear (res);
        store_calendar_destroy (&self);
        return NULL;
    }
    PQclear (res);
    return self;
}

int
store_calendar_practitioner (const store_calendar_t *self, const char *id)
{
    return s_hash_get (self->pract_hash, self->hash_cap, self->pract_id, id);
}

const char *
store_calendar_practitioner_id (const store_calendar_t *self, int index)
{
    return index >= 0 && index < self->n_pract ? self->pract_id[index] : "";
}

const char *
store_calendar_room_id (const store_calendar_t *self, int index)
{
    return index >= 0 && index < self->n_rooms ? self->room_id[index] : "";
}

bool
store_calendar_loaded (const store_calendar_t *self, int32_t day)
{
    int64_t i = (int64_t) day - self->first;
    return i >= 0 && i < self->ndays && self->loaded[i];
}

/* Loads days[0..n) not loaded yet, in their windows (whole: the whole
 * days). Returns 0 or -1 (error set). */
static int
s_load (store_calendar_t *self, const int32_t *days, int n, bool whole)
{
    int wanted;
    char *list = s_day_list (self, days, n, &wanted);
    if (!list)
        return -1;
    if (wanted == 0) {
        free (list);
        return 0;
    }
    char pref[12], half[12];
    snprintf (pref, sizeof pref, "%d", self->preferred);
    snprintf (half, sizeof half, "%d", whole ? -1 : STORE_WINDOW_SLOTS * self->slot_min);
    const char *p[] = { self->clinic_id, list, self->patient, pref, half };
    PGresult *res = meso_db_query_binres (self->db, CAL_DAYS, 5, p);
    free (list);
    if (!res)
        return -1;
    int rc = s_shape_ok (self, res) && s_take_days (self, res) == 0 ? 0 : -1;
    PQclear (res);
    return rc;
}

int
store_calendar_load (store_calendar_t *self, const int32_t *days, int n)
{
    assert (self);
    return s_load (self, days, n, false);
}

int
store_calendar_free_slots (store_calendar_t *self, int32_t day, int prefer, planner_free_t *out, int max)
{
    assert (self);
    if (!store_calendar_loaded (self, day))
        return 0;
    int64_t i = (int64_t) day - self->first;
    planner_day_t *d = &self->days[i];
    int n = planner_free_slots (d, &self->hours, self->slot_min, self->pract, self->n_pract, prefer,
                                self->n_rooms, out, max);
    int lo = self->win_lo[i], hi = self->win_hi[i];
    if (lo > hi)
        return n;                       /* the whole day */
    /* Slots outside the window were judged without their appointments. */
    int kept = 0;
    for (int k = 0; k < n; k++)
        if (out[k].minute >= lo && out[k].minute <= hi)
            out[kept++] = out[k];
    if (planner_window_decides (&self->hours, self->slot_min, self->preferred, day, lo, hi, out, kept))
        return kept;
    /* The whole day, from scratch. */
    self->loaded[i] = false;
    d->n_busy = 0;
    d->n_exact = 0;
    if (s_load (self, &day, 1, true) != 0)
        return -1;
    if (!store_calendar_loaded (self, day))
        return 0;
    return planner_free_slots (d, &self->hours, self->slot_min, self->pract, self->n_pract, prefer,
                               self->n_rooms, out, max);
}
