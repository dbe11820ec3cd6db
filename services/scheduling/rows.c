/* rows.c -- session and course rows into the messages clients and
 * events carry: Session (replies), SessionInfo (events), and the
 * BookedCourse reply.
 *
 * A file of its own because the methods and the saga both answer with
 * them (the saga's final step replies with the booked course and emits
 * session.booked from the rows): kept in the method files, the saga would
 * call back into the files that call it. It reads rows through
 * store_sessions.c and calls nothing else of the service. */
#include "scheduling.h"

#include <stdlib.h>
#include <string.h>

size_t
rows_split (char *text, char **out, size_t max)
{
    size_t n = 0;
    if (!text || !text[0])
        return 0;
    char *save = NULL;
    for (char *t = strtok_r (text, ",", &save); t && n < max; t = strtok_r (NULL, ",", &save))
        out[n++] = t;
    return n;
}

void
rows_session (const PGresult *res, int i, Meso__V1__Session *s, char **areas)
{
    meso__v1__session__init (s);
    s->appointment_id = PQgetvalue (res, i, SC_APPT);
    s->course_id = PQgetvalue (res, i, SC_COURSE);
    s->patient_id = PQgetvalue (res, i, SC_PATIENT);
    s->clinic_id = PQgetvalue (res, i, SC_CLINIC);
    s->practitioner_id = PQgetvalue (res, i, SC_PRACT);
    s->room_id = PQgetvalue (res, i, SC_ROOM);
    s->starts_at_us = strtoll (PQgetvalue (res, i, SC_START), NULL, 10);
    s->ends_at_us = strtoll (PQgetvalue (res, i, SC_END), NULL, 10);
    s->local_start = PQgetvalue (res, i, SC_LOCAL);
    s->time_zone = PQgetvalue (res, i, SC_TZ);
    s->session_number = (uint32_t) atoi (PQgetvalue (res, i, SC_NUMBER));
    s->maintenance = strcmp (PQgetvalue (res, i, SC_MAINT), "t") == 0;
    s->status = meso_enum_from_db (&meso__v1__session_status__descriptor, PQgetvalue (res, i, SC_STATUS),
                                   "session status");
    /* The query gives -1 for no score: absent in the reply. */
    s->improvement_score = atoi (PQgetvalue (res, i, SC_SCORE));
    if (s->improvement_score >= 0)
        s->outcome_case = MESO__V1__SESSION__OUTCOME_IMPROVEMENT_SCORE;
    else
        s->improvement_score = 0;
    /* PQgetvalue's storage is the result's own: splitting it in place is
     * how the areas become strings without a copy. */
    s->n_areas = rows_split (PQgetvalue (res, i, SC_AREAS), areas, SCHED_MAX_AREAS);
    s->areas = areas;
}

void
rows_info (const PGresult *res, int i, Meso__V1__SessionInfo *s, char **areas)
{
    meso__v1__session_info__init (s);
    s->appointment_id = PQgetvalue (res, i, SC_APPT);
    s->course_id = PQgetvalue (res, i, SC_COURSE);
    s->patient_id = PQgetvalue (res, i, SC_PATIENT);
    s->clinic_id = PQgetvalue (res, i, SC_CLINIC);
    s->practitioner_id = PQgetvalue (res, i, SC_PRACT);
    s->room_id = PQgetvalue (res, i, SC_ROOM);
    s->starts_at_us = strtoll (PQgetvalue (res, i, SC_START), NULL, 10);
    s->ends_at_us = strtoll (PQgetvalue (res, i, SC_END), NULL, 10);
    s->local_start = PQgetvalue (res, i, SC_LOCAL);
    s->time_zone = PQgetvalue (res, i, SC_TZ);
    s->session_number = (uint32_t) atoi (PQgetvalue (res, i, SC_NUMBER));
    s->course_sessions = (uint32_t) atoi (PQgetvalue (res, i, SC_COURSE_SESSIONS));
    s->recipe_id = PQgetvalue (res, i, SC_RECIPE);
    s->recipe_version = (uint32_t) atoi (PQgetvalue (res, i, SC_RECIPE_VERSION));
    s->maintenance = strcmp (PQgetvalue (res, i, SC_MAINT), "t") == 0;
    char *text = PQgetvalue (res, i, SC_AREAS);
    /* The same row may be read twice (Session and SessionInfo): split a
     * copy kept in areas[SCHED_MAX_AREAS - 1]'s place is not possible, so
     * callers use a fresh result per use. */
    s->n_areas = rows_split (text, areas, SCHED_MAX_AREAS);
    s->areas = areas;
}


/* Fills one BookedCourse (course columns + its session rows) and packs the
 * reply. */
/* The sessions re-planned during the booking (BookCourseReply.replanned)
 * beside where each is now; replies with out. 0 or -1 (reply set). */
static int
s_replanned (PGresult *m, const Meso__V1__BookedCourse *bc, Meso__V1__BookCourseReply *out,
             meso_reply_t *reply)
{
    int n = PQntuples (m);
    Meso__V1__MovedSession *ms = calloc ((size_t) n + 1, sizeof *ms);
    Meso__V1__MovedSession **mp = calloc ((size_t) n + 1, sizeof *mp);
    int rc = -1;
    if (ms && mp) {
        for (int i = 0; i < n; i++) {
            meso__v1__moved_session__init (&ms[i]);
            ms[i].session_number = (uint32_t) atoi (PQgetvalue (m, i, 0));
            ms[i].appointment_id = PQgetvalue (m, i, 1);
            ms[i].original_starts_at_us = strtoll (PQgetvalue (m, i, 2), NULL, 10);
            ms[i].original_local_start = PQgetvalue (m, i, 3);
            for (size_t k = 0; k < bc->n_sessions; k++)
                if (strcmp (bc->sessions[k]->appointment_id, ms[i].appointment_id) == 0) {
                    ms[i].new_local_start = bc->sessions[k]->local_start;
                    ms[i].new_starts_at_us = bc->sessions[k]->starts_at_us;
                    ms[i].practitioner_id = bc->sessions[k]->practitioner_id;
                    ms[i].room_id = bc->sessions[k]->room_id;
                }
            mp[i] = &ms[i];
        }
        out->replanned = mp;
        out->n_replanned = (size_t) n;
        meso_reply_ok (reply, &out->base);
        rc = 0;
    }
    else
        meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED, "out of memory");
    free (ms);
    free (mp);
    return rc;
}

int
rows_reply_course (meso_db_t *db, const char *course_id, meso_reply_t *reply)
{
    PGresult *r[3];
    if (store_course_read (db, course_id, r) != 0) {
        meso_reply_db_error (reply, db, "course");
        return -1;
    }
    int rc = rows_reply_course_read (r, course_id, reply);
    for (int i = 0; i < 3; i++)
        PQclear (r[i]);
    return rc;
}

int
rows_reply_course_read (PGresult *const r[3], const char *course_id, meso_reply_t *reply)
{
    PGresult *c = r[0], *s = r[1];
    if (PQntuples (c) != 1) {
        meso_reply_error (reply, MESO_NOT_FOUND, "no course %s", course_id);
        return -1;
    }
    int n = PQntuples (s);
    Meso__V1__Session *sessions = calloc ((size_t) n + 1, sizeof *sessions);
    Meso__V1__Session **ptrs = calloc ((size_t) n + 1, sizeof *ptrs);
    char **areas = calloc ((size_t) (n + 1) * SCHED_MAX_AREAS, sizeof *areas);
    char *careas[SCHED_MAX_AREAS];
    int rc = -1;
    if (sessions && ptrs && areas) {
        Meso__V1__BookedCourse bc = MESO__V1__BOOKED_COURSE__INIT;
        bc.course_id = PQgetvalue (c, 0, 0);
        bc.clinic_id = PQgetvalue (c, 0, 1);
        bc.patient_id = PQgetvalue (c, 0, 2);
        bc.grade = atoi (PQgetvalue (c, 0, 3));
        bc.n_areas = rows_split (PQgetvalue (c, 0, 4), careas, SCHED_MAX_AREAS);
        bc.areas = careas;
        bc.recipe_id = PQgetvalue (c, 0, 5);
        bc.recipe_version = (uint32_t) atoi (PQgetvalue (c, 0, 6));
        bc.status = meso_enum_from_db (&meso__v1__course_status__descriptor, PQgetvalue (c, 0, 7),
                                       "course status");
        bc.non_responder = strcmp (PQgetvalue (c, 0, 8), "t") == 0;
        bc.requested_first_date = PQgetvalue (c, 0, 9);
        bc.first_date_note = PQgetvalue (c, 0, 10);
        for (int i = 0; i < n; i++) {
            rows_session (s, i, &sessions[i], areas + (size_t) i * SCHED_MAX_AREAS);
            ptrs[i] = &sessions[i];
        }
        bc.sessions = ptrs;
        bc.n_sessions = (size_t) n;
        Meso__V1__BookCourseReply out = MESO__V1__BOOK_COURSE_REPLY__INIT;
        out.course = &bc;
        rc = s_replanned (r[2], &bc, &out, reply);
    }
    else
        meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED, "out of memory");
    free (sessions);
    free (ptrs);
    free (areas);
    return rc;
}
