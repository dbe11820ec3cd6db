/* lookups.c -- the front desk's lists of reference data: ListClinics,
 * ListPractitioners (with their hours in every clinic and their days
 * off), ListRooms. Reads: no key, no transaction; keyset-paged by id
 * (meso/page.h), each page read in a fixed number of statements (the
 * page, then the hours and days off of all its practitioners at once).
 *
 * ListClinics and ListCourses name no clinic (MESO_SCOPE_HANDLER): a caller limited to
 * some clinics gets only those (meso_call_in_clinic), and the page still
 * advances over the clinics it may not see. A practitioner's hours in
 * clinics outside the caller's scope are left out the same way. */
#include "scheduling.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/access.h"
#include "meso/mtime.h"
#include "meso/page.h"

#define LIST_PAGE_DEFAULT 100
#define LIST_PAGE_MAX 500

/* Decodes a one-key token of list into after ("" first page). 0 or -1
 * (reply set). */
static int
s_token (meso_reply_t *reply, const char *list, const char *token, meso_page_pos_t *pos)
{
    if (meso_page_token_decode (list, token, 1, pos) != 0 || (pos->n == 1 && !sched_code_ok (pos->key[0]))) {
        int bad = 0;
        sched_bad (reply, &bad, "invalid_page_token", "page_token",
                   "not a page token of this list: ask again without it");
        return -1;
    }
    return 0;
}

/* The next page token after id when more (else ""). */
static void
s_next (const char *list, bool more, const char *id, char *out, size_t size)
{
    out[0] = '\0';
    if (more && id) {
        const char *keys[] = { id };
        meso_page_token_encode (list, keys, 1, out, size);
    }
}

/* "{a,b}" of n ids (codes: no quoting needed), malloc'd. */
static char *
s_literal (PGresult *res, int col, size_t n)
{
    char *lit = malloc (n * (SCHED_ID_MAX + 1) + 3);
    if (!lit)
        return NULL;
    size_t used = 0;
    lit[used++] = '{';
    for (size_t i = 0; i < n; i++)
        used += (size_t) sprintf (lit + used, "%s%s", i ? "," : "", PQgetvalue (res, (int) i, col));
    strcpy (lit + used, "}");
    return lit;
}

/* Fills hours[0..) with the rows of res whose column key_col equals key
 * (and, with clinic_col >= 0, clinic_col equals clinic); columns from
 * dow_col: isodow, opens, closes. Returns the count (at most 7). */
static size_t
s_hours (PGresult *res, int key_col, const char *key, int clinic_col, const char *clinic, int dow_col,
         Meso__V1__DayHours *h, Meso__V1__DayHours **hp)
{
    size_t n = 0;
    for (int i = 0; i < PQntuples (res) && n < 7; i++) {
        if (strcmp (PQgetvalue (res, i, key_col), key) != 0)
            continue;
        if (clinic_col >= 0 && strcmp (PQgetvalue (res, i, clinic_col), clinic) != 0)
            continue;
        meso__v1__day_hours__init (&h[n]);
        h[n].weekday = atoi (PQgetvalue (res, i, dow_col));
        h[n].opens = PQgetvalue (res, i, dow_col + 1);
        h[n].closes = PQgetvalue (res, i, dow_col + 2);
        hp[n] = &h[n];
        n++;
    }
    return n;
}

void
lookups_list_clinics (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    (void) req;
    scheduling_t *self = arg;
    Meso__V1__ListClinicsRequest *in = body;
    meso_page_pos_t pos;
    if (s_token (reply, "scheduling.ListClinics", in->page_token, &pos) != 0)
        return;
    uint32_t size = meso_page_size (in->page_size, LIST_PAGE_DEFAULT, LIST_PAGE_MAX);
    PGresult *res = store_clinics_page (self->db, pos.n ? pos.key[0] : "", (int) size + 1);
    if (!res) {
        meso_reply_db_error (reply, self->db, "clinics");
        return;
    }
    size_t n = (size_t) PQntuples (res);
    bool more = n > size;
    if (more)
        n = size;
    char *lit = s_literal (res, 0, n);
    PGresult *hours = lit ? store_clinics_hours (self->db, lit) : NULL;
    Meso__V1__Clinic *c = calloc (n + 1, sizeof *c);
    Meso__V1__Clinic **cp = calloc (n + 1, sizeof *cp);
    Meso__V1__CourseSettings *cs = calloc (n + 1, sizeof *cs);
    Meso__V1__DayHours *h = calloc ((n + 1) * 7, sizeof *h);
    Meso__V1__DayHours **hp = calloc ((n + 1) * 7, sizeof *hp);
    if (!hours)
        meso_reply_db_error (reply, self->db, "clinic hours");
    else if (!c || !cp || !cs || !h || !hp)
        meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED, "out of memory");
    else {
        size_t k = 0;
        const char *last = NULL;
        for (size_t i = 0; i < n; i++) {
            int r = (int) i;
            last = PQgetvalue (res, r, 0);
            if (!meso_call_in_clinic (last))
                continue;
            meso__v1__clinic__init (&c[k]);
            meso__v1__course_settings__init (&cs[k]);
            c[k].clinic_id = PQgetvalue (res, r, 0);
            c[k].name = PQgetvalue (res, r, 1);
            c[k].time_zone = PQgetvalue (res, r, 2);
            c[k].slot_minutes = (uint32_t) atoi (PQgetvalue (res, r, 3));
            cs[k].spacing_min_days = (uint32_t) atoi (PQgetvalue (res, r, 4));
            cs[k].taper_max_days = (uint32_t) atoi (PQgetvalue (res, r, 5));
            cs[k].maintenance_sessions = (uint32_t) atoi (PQgetvalue (res, r, 6));
            cs[k].cancel_notice_hours = (uint32_t) atoi (PQgetvalue (res, r, 7));
            cs[k].allow_overlapping_courses = strcmp (PQgetvalue (res, r, 8), "t") == 0;
            c[k].course = &cs[k];
            c[k].n_hours = s_hours (hours, 0, c[k].clinic_id, -1, NULL, 1, &h[k * 7], &hp[k * 7]);
            c[k].hours = &hp[k * 7];
            cp[k] = &c[k];
            k++;
        }
        meso_call_scope_filtered ();
        Meso__V1__ListClinicsReply out = MESO__V1__LIST_CLINICS_REPLY__INIT;
        out.clinics = cp;
        out.n_clinics = k;
        size_t fit = meso_page_fit (&out.base, &out.n_clinics, MESO_PAGE_REPLY_LIMIT);
        if (fit < k) {
            more = true;
            last = fit ? cp[fit - 1]->clinic_id : NULL;
        }
        char token[MESO_PAGE_TOKEN_MAX];
        s_next ("scheduling.ListClinics", more, last, token, sizeof token);
        out.next_page_token = token;
        meso_reply_ok (reply, &out.base);
    }
    free (lit);
    free (c);
    free (cp);
    free (cs);
    free (h);
    free (hp);
    PQclear (hours);
    PQclear (res);
}

void
lookups_list_practitioners (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    (void) req;
    scheduling_t *self = arg;
    Meso__V1__ListPractitionersRequest *in = body;
    int bad = 0;
    int32_t day;
    sched_need_id (reply, &bad, "clinic_id", in->clinic_id);
    if (in->days_off_from && *in->days_off_from && meso_date_parse (in->days_off_from, &day) != 0)
        sched_bad (reply, &bad, "invalid_date", "days_off_from", "must be \"YYYY-MM-DD\"");
    meso_page_pos_t pos;
    store_clinic_t clinic;
    if (bad || s_token (reply, "scheduling.ListPractitioners", in->page_token, &pos) != 0
        || sched_clinic_load (self, in->clinic_id, "clinic_id", &clinic, reply) != 0)
        return;
    uint32_t size = meso_page_size (in->page_size, LIST_PAGE_DEFAULT, LIST_PAGE_MAX);
    PGresult *res = store_practitioners_page (self->db, in->clinic_id, pos.n ? pos.key[0] : "", (int) size + 1);
    if (!res) {
        meso_reply_db_error (reply, self->db, "practitioners");
        return;
    }
    size_t n = (size_t) PQntuples (res);
    bool more = n > size;
    if (more)
        n = size;
    char *lit = s_literal (res, 0, n);
    PGresult *hours = lit ? store_practitioners_hours (self->db, lit) : NULL;
    PGresult *off = hours ? store_practitioners_days_off (self->db, lit, in->days_off_from) : NULL;
    /* Per practitioner: at most one PractitionerClinic per clinic row
     * of hours, and 7 hours each. */
    size_t nh = hours ? (size_t) PQntuples (hours) : 0, no = off ? (size_t) PQntuples (off) : 0;
    Meso__V1__Practitioner *p = calloc (n + 1, sizeof *p);
    Meso__V1__Practitioner **pp = calloc (n + 1, sizeof *pp);
    Meso__V1__PractitionerClinic *pc = calloc (nh + 1, sizeof *pc);
    Meso__V1__PractitionerClinic **pcp = calloc (nh + 1, sizeof *pcp);
    Meso__V1__DayHours *h = calloc ((nh + 1) * 7, sizeof *h);
    Meso__V1__DayHours **hp = calloc ((nh + 1) * 7, sizeof *hp);
    char **days = calloc (no + 1, sizeof *days);
    if (!off)
        meso_reply_db_error (reply, self->db, "practitioners' hours");
    else if (!p || !pp || !pc || !pcp || !h || !hp || !days)
        meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED, "out of memory");
    else {
        size_t npc = 0, nd = 0;
        for (size_t i = 0; i < n; i++) {
            const char *id = PQgetvalue (res, (int) i, 0);
            meso__v1__practitioner__init (&p[i]);
            p[i].practitioner_id = (char *) id;
            p[i].name = PQgetvalue (res, (int) i, 1);
            p[i].clinics = &pcp[npc];
            for (size_t r = 0; r < nh; r++) {
                const char *clinic_id = PQgetvalue (hours, (int) r, 1);
                if (strcmp (PQgetvalue (hours, (int) r, 0), id) != 0 || !meso_call_in_clinic (clinic_id))
                    continue;
                if (p[i].n_clinics > 0 && strcmp (pcp[npc - 1]->clinic_id, clinic_id) == 0)
                    continue;           /* this clinic's hours are read already */
                meso__v1__practitioner_clinic__init (&pc[npc]);
                pc[npc].clinic_id = (char *) clinic_id;
                pc[npc].n_hours = s_hours (hours, 0, id, 1, clinic_id, 2, &h[npc * 7], &hp[npc * 7]);
                pc[npc].hours = &hp[npc * 7];
                pcp[npc] = &pc[npc];
                npc++;
                p[i].n_clinics++;
            }
            p[i].days_off = &days[nd];
            for (size_t r = 0; r < no; r++)
                if (strcmp (PQgetvalue (off, (int) r, 0), id) == 0) {
                    days[nd++] = PQgetvalue (off, (int) r, 1);
                    p[i].n_days_off++;
                }
            pp[i] = &p[i];
        }
        Meso__V1__ListPractitionersReply out = MESO__V1__LIST_PRACTITIONERS_REPLY__INIT;
        out.practitioners = pp;
        out.n_practitioners = n;
        size_t fit = meso_page_fit (&out.base, &out.n_practitioners, MESO_PAGE_REPLY_LIMIT);
        const char *last = n ? pp[n - 1]->practitioner_id : NULL;
        if (fit < n) {
            more = true;
            last = fit ? pp[fit - 1]->practitioner_id : NULL;
        }
        char token[MESO_PAGE_TOKEN_MAX];
        s_next ("scheduling.ListPractitioners", more, last, token, sizeof token);
        out.next_page_token = token;
        meso_reply_ok (reply, &out.base);
    }
    free (lit);
    free (p);
    free (pp);
    free (pc);
    free (pcp);
    free (h);
    free (hp);
    free (days);
    PQclear (off);
    PQclear (hours);
    PQclear (res);
}

void
lookups_list_rooms (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    (void) req;
    scheduling_t *self = arg;
    Meso__V1__ListRoomsRequest *in = body;
    int bad = 0;
    sched_need_id (reply, &bad, "clinic_id", in->clinic_id);
    meso_page_pos_t pos;
    store_clinic_t clinic;
    if (bad || s_token (reply, "scheduling.ListRooms", in->page_token, &pos) != 0
        || sched_clinic_load (self, in->clinic_id, "clinic_id", &clinic, reply) != 0)
        return;
    uint32_t size = meso_page_size (in->page_size, LIST_PAGE_DEFAULT, LIST_PAGE_MAX);
    PGresult *res = store_rooms_page (self->db, in->clinic_id, pos.n ? pos.key[0] : "", (int) size + 1);
    if (!res) {
        meso_reply_db_error (reply, self->db, "rooms");
        return;
    }
    size_t n = (size_t) PQntuples (res);
    bool more = n > size;
    if (more)
        n = size;
    Meso__V1__Room *rm = calloc (n + 1, sizeof *rm);
    Meso__V1__Room **rp = calloc (n + 1, sizeof *rp);
    if (!rm || !rp)
        meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED, "out of memory");
    else {
        for (size_t i = 0; i < n; i++) {
            meso__v1__room__init (&rm[i]);
            rm[i].clinic_id = PQgetvalue (res, (int) i, 0);
            rm[i].room_id = PQgetvalue (res, (int) i, 1);
            rm[i].name = PQgetvalue (res, (int) i, 2);
            rm[i].state_case = MESO__V1__ROOM__STATE_ACTIVE;
            rm[i].active = strcmp (PQgetvalue (res, (int) i, 3), "t") == 0;
            rp[i] = &rm[i];
        }
        Meso__V1__ListRoomsReply out = MESO__V1__LIST_ROOMS_REPLY__INIT;
        out.rooms = rp;
        out.n_rooms = n;
        size_t fit = meso_page_fit (&out.base, &out.n_rooms, MESO_PAGE_REPLY_LIMIT);
        const char *last = n ? rp[n - 1]->room_id : NULL;
        if (fit < n) {
            more = true;
            last = fit ? rp[fit - 1]->room_id : NULL;
        }
        char token[MESO_PAGE_TOKEN_MAX];
        s_next ("scheduling.ListRooms", more, last, token, sizeof token);
        out.next_page_token = token;
        meso_reply_ok (reply, &out.base);
    }
    free (rm);
    free (rp);
    PQclear (res);
}

void
lookups_list_courses (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    (void) req;
    scheduling_t *self = arg;
    Meso__V1__ListCoursesRequest *in = body;
    int bad = 0;
    sched_need_ref (reply, &bad, "patient_id", in->patient_id);
    meso_page_pos_t pos;
    if (!bad && (meso_page_token_decode ("scheduling.ListCourses", in->page_token, 2, &pos) != 0
                 || (pos.n == 2 && strspn (pos.key[0], "-0123456789") != strlen (pos.key[0]))))
        sched_bad (reply, &bad, "invalid_page_token", "page_token",
                   "not a page token of this list: ask again without it");
    if (bad)
        return;
    uint32_t size = meso_page_size (in->page_size, 50, 200);
    PGresult *res = store_courses_page (self->db, in->patient_id, pos.n ? pos.key[0] : NULL,
                                        pos.n ? pos.key[1] : NULL, (int) size + 1);
    if (!res) {
        meso_reply_db_error (reply, self->db, "courses");
        return;
    }
    size_t n = (size_t) PQntuples (res);
    bool more = n > size;
    if (more)
        n = size;
    Meso__V1__CourseSummary *cs = calloc (n + 1, sizeof *cs);
    Meso__V1__CourseSummary **cp = calloc (n + 1, sizeof *cp);
    char **areas = calloc ((n + 1) * SCHED_MAX_AREAS, sizeof *areas);
    if (!cs || !cp || !areas)
        meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED, "out of memory");
    else {
        size_t k = 0;
        int last = -1;
        for (size_t i = 0; i < n; i++) {
            int r = (int) i;
            last = r;
            /* A scoped caller sees the courses of its clinics only. */
            if (!meso_call_in_clinic (PQgetvalue (res, r, 1)))
                continue;
            Meso__V1__CourseSummary *c = &cs[k];
            meso__v1__course_summary__init (c);
            c->course_id = PQgetvalue (res, r, 0);
            c->clinic_id = PQgetvalue (res, r, 1);
            c->grade = atoi (PQgetvalue (res, r, 2));
            c->n_areas = rows_split (PQgetvalue (res, r, 3), &areas[k * SCHED_MAX_AREAS], SCHED_MAX_AREAS);
            c->areas = &areas[k * SCHED_MAX_AREAS];
            c->status = meso_enum_from_db (&meso__v1__course_status__descriptor, PQgetvalue (res, r, 4),
                                           "course status");
            c->sessions = (uint32_t) atoi (PQgetvalue (res, r, 5));
            c->non_responder = strcmp (PQgetvalue (res, r, 6), "t") == 0;
            c->completed = (uint32_t) atoi (PQgetvalue (res, r, 7));
            c->upcoming = (uint32_t) atoi (PQgetvalue (res, r, 8));
            c->first_date = PQgetvalue (res, r, 9);
            c->last_date = PQgetvalue (res, r, 10);
            c->next_local_start = PQgetvalue (res, r, 11);
            cp[k++] = c;
        }
        meso_call_scope_filtered ();
        Meso__V1__ListCoursesReply out = MESO__V1__LIST_COURSES_REPLY__INIT;
        out.courses = cp;
        out.n_courses = k;
        size_t fit = meso_page_fit (&out.base, &out.n_courses, MESO_PAGE_REPLY_LIMIT);
        if (fit < k) {
            more = true;
            /* the row of the last course kept */
            for (int r = 0; r < (int) n; r++)
                if (fit > 0 && strcmp (PQgetvalue (res, r, 0), cp[fit - 1]->course_id) == 0)
                    last = r;
            if (fit == 0)
                last = -1;
        }
        char token[MESO_PAGE_TOKEN_MAX] = "";
        if (more && last >= 0) {
            const char *keys[] = { PQgetvalue (res, last, 12), PQgetvalue (res, last, 0) };
            meso_page_token_encode ("scheduling.ListCourses", keys, 2, token, sizeof token);
        }
        out.next_page_token = token;
        meso_reply_ok (reply, &out.base);
    }
    free (cs);
    free (cp);
    free (areas);
    PQclear (res);
}
