/* export.c -- "scheduling.ExportPatient": every course of one patient with
 * every session of it, cancelled, completed and failed bookings included
 * (GDPR article 15; meso/export.h).
 *
 * Each course is read as GetCourse reads it (rows_reply_course, the same
 * message), all inside one REPEATABLE READ transaction so the courses
 * agree with each other. The scope is every clinic holding a course of
 * the patient: an export is whole or refused, where GetCourse by patient
 * quietly leaves out the other clinics' courses. A patient scheduling
 * never saw has no course: an empty export, not NOT_FOUND (scheduling
 * does not own the patient). */
#include "scheduling.h"

#include <stdlib.h>

#include "meso/export.h"

typedef struct {
    const char *patient;
    meso_reply_t *reply;                /* the method's: set on a refusal */
    Meso__V1__BookCourseReply **parts;
    Meso__V1__BookedCourse **courses;
    size_t n;
    bool refused;
} s_export_t;

static void
s_clear (s_export_t *x)
{
    for (size_t i = 0; i < x->n; i++)
        meso__v1__book_course_reply__free_unpacked (x->parts[i], NULL);
    free (x->parts);
    free (x->courses);
    x->parts = NULL;
    x->courses = NULL;
    x->n = 0;
}

/* Course id's message, through the reply GetCourse builds. */
static Meso__V1__BookCourseReply *
s_course (meso_db_t *db, const char *course_id, meso_reply_t *tmp)
{
    meso_reply_reset (tmp);
    if (rows_reply_course (db, course_id, tmp) != 0)
        return NULL;
    size_t len;
    uint8_t *packed = meso_reply_pack (tmp, &len);
    Meso__V1__Reply *env = packed ? meso__v1__reply__unpack (NULL, len, packed) : NULL;
    free (packed);
    Meso__V1__BookCourseReply *part = NULL;
    if (env && (int) env->status == MESO_OK)
        part = meso__v1__book_course_reply__unpack (NULL, env->body.len, env->body.data);
    if (env)
        meso__v1__reply__free_unpacked (env, NULL);
    return part;
}

static int
s_read (meso_db_t *db, void *arg)
{
    s_export_t *x = arg;
    s_clear (x);
    PGresult *ids = store_export_courses (db, x->patient);
    if (!ids)
        return -1;
    int n = PQntuples (ids), rc = 0;
    for (int i = 0; i < n && rc == 0; i++)
        if (meso_export_need_clinic (x->reply, PQgetvalue (ids, i, 1)) != 0) {
            x->refused = true;
            rc = -1;
        }
    x->parts = calloc ((size_t) n + 1, sizeof *x->parts);
    x->courses = calloc ((size_t) n + 1, sizeof *x->courses);
    meso_reply_t *tmp = meso_reply_new ();
    if (rc == 0 && (!x->parts || !x->courses || !tmp)) {
        meso_reply_error (x->reply, MESO_RESOURCE_EXHAUSTED, "out of memory");
        x->refused = true;
        rc = -1;
    }
    for (int i = 0; i < n && rc == 0; i++) {
        Meso__V1__BookCourseReply *part = s_course (db, PQgetvalue (ids, i, 0), tmp);
        if (!part) {
            meso_reply_error (x->reply, MESO_INTERNAL, "could not read course %s", PQgetvalue (ids, i, 0));
            x->refused = true;
            rc = -1;
            break;
        }
        x->parts[x->n] = part;
        x->courses[x->n++] = part->course;
    }
    meso_reply_destroy (&tmp);
    PQclear (ids);
    return rc;
}

void
export_patient (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    (void) req;
    scheduling_t *self = arg;
    Meso__V1__ExportPatientRequest *in = body;
    if (!meso_export_valid_id (reply, in->patient_id))
        return;
    s_export_t x = { .patient = in->patient_id, .reply = reply };
    if (meso_db_txn (self->db, MESO_DB_REPEATABLE_READ, s_read, &x) != 0) {
        if (!x.refused)
            meso_reply_db_error (reply, self->db, "cannot read the patient's courses");
    }
    else {
        Meso__V1__SchedulingExportPatientReply out = MESO__V1__SCHEDULING_EXPORT_PATIENT_REPLY__INIT;
        out.n_courses = x.n;
        out.courses = x.courses;
        meso_export_reply (reply, &out.base, "scheduling", in->patient_id);
    }
    s_clear (&x);
}
