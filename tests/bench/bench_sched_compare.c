/* bench_sched_compare.c -- MESO_BENCH_ONLY=compare MESO_BENCH_COMPARE=
 * <another build folder>: this build's meso-scheduling and that build's on
 * the same database (tests/bench/plan_compare.sh builds a git revision for
 * it); clinics in Europe/Paris and America/New_York filled with random
 * bookings, days off, a practitioner shared between clinics and patients
 * booked elsewhere; both sent the same few hundred varied PlanCourse
 * requests, the replies compared byte for byte (exit 1 on a difference):
 * a change to how the calendar is loaded must not change a plan. */
#include <assert.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_scheduling.h"
#include "harness.h"
#include "meso/mtime.h"
#include "meso/status.h"
#include "scheduling.pb-c.h"

#define CMP_CALLS 400

static int
s_cmp_sql (meso_db_t *db, const char *sql)
{
    if (meso_db_exec (db, sql, 0, NULL) == 0)
        return 0;
    fprintf (stderr, "bench_scheduling: compare: %s\n%s\n", meso_db_error (db)->message, sql);
    return -1;
}

/* Random bookings (some cancelled), of the clinic's own patients and of
 * patient, over 400 days in the clinic's zone; slots of 15 minutes to 2
 * hours at quarter hours; the exclusion constraints drop the overlaps. */
static int
s_cmp_fill (meso_db_t *db, const char *clinic, const char *zone, int npract, int nrooms, int tries,
            const char *patient)
{
    char sql[2048];
    snprintf (sql, sizeof sql,
        "INSERT INTO scheduling.course (clinic_id, course_id, patient_id, grade, areas, recipe_id, sessions, status)"
        " VALUES ('%s', 'cmp-%s', 'someone', 2, '{thighs}', 'bench', 64, 'booked')", clinic, clinic);
    if (s_cmp_sql (db, sql) != 0)
        return -1;
    snprintf (sql, sizeof sql,
        "INSERT INTO scheduling.appointment (clinic_id, appointment_id, course_id, patient_id,"
        " practitioner_id, room_id, during, status, session_number, areas, recipe_id, recipe_version)"
        " SELECT '%s', 'cmp-%s-' || g, 'cmp-%s',"
        "  CASE WHEN g %% 97 = 0 THEN '%s' ELSE 'cmp-pat-' || g END,"
        "  '%s-p' || floor(random() * %d)::int, '%s-r' || floor(random() * %d)::int,"
        "  tstzrange(t, t + make_interval(mins => 15 * (1 + floor(random() * 8)::int)), '[)'),"
        "  CASE WHEN random() < 0.1 THEN 'cancelled' ELSE 'booked' END, 1, '{thighs}', 'bench', 1"
        " FROM (SELECT g, ((current_date + floor(random() * 400)::int)"
        "        + make_interval(mins => 15 * floor(random() * 96)::int)) AT TIME ZONE '%s' AS t"
        "       FROM generate_series(1, %d) g) s"
        " ON CONFLICT DO NOTHING",
        clinic, clinic, clinic, patient, clinic, npract, clinic, nrooms, zone, tries);
    if (s_cmp_sql (db, sql) != 0)
        return -1;
    snprintf (sql, sizeof sql,
        "INSERT INTO scheduling.practitioner_day_off (practitioner_id, day)"
        " SELECT '%s-p' || floor(random() * %d)::int, current_date + floor(random() * 400)::int"
        " FROM generate_series(1, %d) ON CONFLICT DO NOTHING", clinic, npract, 20 * npract);
    return s_cmp_sql (db, sql);
}

/* The whole reply (status, message, detail, reasons, body) packed, but
 * for its request id; malloc'ed, *len its size; NULL when none came. */
static uint8_t *
s_cmp_reply (const meso_result_t *r, size_t *len)
{
    *len = 0;
    if (!r->reply)
        return NULL;
    char *id = r->reply->request_id;
    r->reply->request_id = "";
    *len = meso__v1__reply__get_packed_size (r->reply);
    uint8_t *out = malloc (*len + 1);
    assert (out);
    meso__v1__reply__pack (r->reply, out);
    r->reply->request_id = id;
    return out;
}

/* The comparison (see the top of the file). Returns 0 when every reply is
 * the same, 1 otherwise. */
int
bs_compare (meso_db_t *db, const fleet_t *f, const char *other)
{
    pid_t pid;
    meso_bus_client_t *old = bs_other_start (f, other, &pid);
    if (!old)
        return 1;

    /* Clinics: Paris open every day, Paris with 30-minute slots and late
     * hours, New York open Monday to Saturday with 45-minute slots. */
    static const struct {
        const char *id, *zone, *opens, *closes;
        int ndays, npract, nrooms, slot, tries;
    } cl[] = {
        { "cmpa", "Europe/Paris", "08:00", "20:00", 7, 5, 3, 0, 20000 },
        { "cmpb", "Europe/Paris", "10:00", "23:30", 7, 3, 2, 30, 9000 },
        { "cmpc", "America/New_York", "07:00", "19:00", 6, 4, 4, 45, 14000 },
    };
    enum { NCL = 3, NPAT = 3 };
    char pat[NCL][NPAT][40];
    int rc = 0;
    for (int c = 0; c < NCL && rc == 0; c++) {
        rc = bs_clinic (cl[c].id, cl[c].zone, cl[c].opens, cl[c].closes, cl[c].ndays, cl[c].npract, cl[c].nrooms);
        for (int k = 0; k < NPAT && rc == 0; k++)
            rc = bs_patient (cl[c].id, pat[c][k]);
        char sql[512];
        if (rc == 0 && cl[c].slot) {
            snprintf (sql, sizeof sql, "UPDATE scheduling.clinic SET slot_minutes = %d WHERE clinic_id = '%s'",
                      cl[c].slot, cl[c].id);
            rc = s_cmp_sql (db, sql);
        }
        /* Practitioner 1 works afternoons only, 2 not on Mondays. */
        if (rc == 0) {
            snprintf (sql, sizeof sql,
                      "UPDATE scheduling.practitioner_hours SET starts = '13:00' WHERE practitioner_id = '%s-p1'",
                      cl[c].id);
            rc = s_cmp_sql (db, sql);
        }
        if (rc == 0) {
            snprintf (sql, sizeof sql,
                      "DELETE FROM scheduling.practitioner_hours WHERE practitioner_id = '%s-p2' AND isodow = 1",
                      cl[c].id);
            rc = s_cmp_sql (db, sql);
        }
        if (rc == 0)
            rc = s_cmp_fill (db, cl[c].id, cl[c].zone, cl[c].npract, cl[c].nrooms, cl[c].tries, pat[c][0]);
    }
    /* cmpa-p0 works in cmpb too (booked there), and cmpa's first patient
     * has sessions in cmpc. */
    if (rc == 0)
        rc = s_cmp_sql (db,
            "INSERT INTO scheduling.practitioner_hours (clinic_id, practitioner_id, isodow, starts, ends)"
            " SELECT 'cmpb', 'cmpa-p0', d, '10:00', '23:30' FROM generate_series(1, 7) d");
    if (rc == 0) {
        char sql[1024];
        snprintf (sql, sizeof sql,
            "INSERT INTO scheduling.appointment (clinic_id, appointment_id, course_id, patient_id,"
            " practitioner_id, room_id, during, status, session_number, areas, recipe_id, recipe_version)"
            " SELECT clinic, 'cmpx-' || clinic || g, 'cmp-' || clinic, CASE WHEN clinic = 'cmpc' THEN '%s'"
            "  ELSE 'cmpx-pat-' || g END, CASE WHEN clinic = 'cmpc' THEN 'cmpc-p3' ELSE 'cmpa-p0' END,"
            "  clinic || '-r1', tstzrange(t, t + interval '90 minutes'), 'booked', 1, '{thighs}', 'bench', 1"
            " FROM (SELECT g, c AS clinic, ((current_date + floor(random() * 400)::int)"
            "        + make_interval(mins => 15 * floor(random() * 96)::int)) AT TIME ZONE"
            "        (SELECT time_zone FROM scheduling.clinic WHERE clinic_id = c) AS t"
            "       FROM generate_series(1, 1500) g, unnest('{cmpb,cmpc}'::text[]) c) s ON CONFLICT DO NOTHING",
            pat[0][0]);
        rc = s_cmp_sql (db, sql);
    }
    if (rc == 0)
        rc = s_cmp_sql (db, "ANALYZE scheduling.appointment");
    if (rc != 0) {
        meso_bus_client_destroy (&old);
        mt_stop (pid, SIGTERM);
        return 1;
    }

    static const char *times[] = { "", "00:00", "07:00", "08:00", "09:45", "10:00", "12:30", "13:15",
                                   "16:00", "18:45", "19:30", "22:00", "23:59" };
    char *areas[] = { "thighs" };
    srand (20261121);
    int same = 0, differ = 0, errors = 0, sessions = 0, moved = 0;
    meso_result_t a = { 0 }, b = { 0 };
    for (int i = 0; i < CMP_CALLS; i++) {
        int c = rand () % NCL;
        char first[16], hhmm[8], pract[64];
        /* Mostly the coming year; a quarter around the clock changes
         * (the last Sundays of March and October, the second Sunday of
         * March and the first of November) by way of dense offsets. */
        bs_day (i % 4 == 0 ? rand () % 15 : rand () % 330, first);
        if (i % 4 == 0) {
            int32_t today = (int32_t) (meso_time_now_us () / INT64_C (86400000000)), d;
            static const char *changes[] = { "03-08", "03-25", "10-25", "11-01" };
            char txt[16];
            meso_date_format (today, txt, sizeof txt);
            int year = atoi (txt);
            for (int y = year; y <= year + 1; y++) {
                snprintf (txt, sizeof txt, "%d-%s", y, changes[rand () % 4]);
                if (meso_date_parse (txt, &d) == 0 && d > today + 1) {
                    meso_date_format (d + rand () % 10 - 3, first, sizeof first);
                    break;
                }
            }
        }
        const char *pt = times[rand () % 13];
        if (rand () % 3 == 0) {
            snprintf (hhmm, sizeof hhmm, "%02d:%02d", 6 + rand () % 17, (rand () % 12) * 5);
            pt = hhmm;
        }
        int pk = rand () % 8;
        if (pk < cl[c].npract)
            snprintf (pract, sizeof pract, "%s-p%d", cl[c].id, pk);
        else
            pract[0] = 0;
        Meso__V1__CourseSpec sp = MESO__V1__COURSE_SPEC__INIT;
        sp.clinic_id = (char *) cl[c].id;
        sp.patient_id = pat[c][rand () % NPAT];
        if (rand () % 10 == 0)
            sp.patient_id = pat[0][0];                  /* booked in cmpc and elsewhere */
        sp.grade = 1 + rand () % 3;
        sp.mild = rand () % 4 == 0;
        sp.areas = areas;
        sp.n_areas = 1;
        sp.first_date = first;
        sp.preferred_time = (char *) pt;
        sp.sessions = rand () % 3 == 0 ? 0 : (unsigned) (1 + rand () % 25);
        sp.maintenance_case = MESO__V1__COURSE_SPEC__MAINTENANCE_MAINTENANCE_SESSIONS;
        sp.maintenance_sessions = (unsigned) (rand () % 4);
        sp.practitioner_id = pract;
        sp.recipe_id = "bench";
        Meso__V1__PlanCourseRequest pq = MESO__V1__PLAN_COURSE_REQUEST__INIT;
        pq.spec = &sp;
        meso_result_reset (&a);
        meso_result_reset (&b);
        meso_bus_client_call (bs_sch, "scheduling.PlanCourse", &pq.base, NULL, 20000, &a);
        meso_bus_client_call (old, "scheduling.PlanCourse", &pq.base, NULL, 20000, &b);
        size_t la, pa, pb;
        const uint8_t *ba = meso_result_body (&a, &la);
        uint8_t *ra = s_cmp_reply (&a, &pa), *rb = s_cmp_reply (&b, &pb);
        bool eq = a.status == b.status && strcmp (a.message, b.message) == 0 && ra && rb && pa == pb
               && memcmp (ra, rb, pa) == 0;
        free (ra);
        free (rb);
        if (eq)
            same++;
        else {
            differ++;
            fprintf (stderr, "bench_scheduling: compare: call %d differs (%s %s %s grade %d sessions %u"
                     " practitioner '%s' patient %s): %s/%zu bytes vs %s/%zu bytes\n", i, cl[c].id, first, pt,
                     sp.grade, sp.sessions, pract, sp.patient_id, meso_status_name (a.status), pa,
                     meso_status_name (b.status), pb);
        }
        if (a.status != MESO_OK)
            errors++;
        else {
            Meso__V1__PlanCourseReply *out = meso__v1__plan_course_reply__unpack (NULL, la, ba);
            for (size_t k = 0; out && k < out->n_sessions; k++) {
                sessions++;
                moved += out->sessions[k]->n_conflicts > 0;
            }
            if (out)
                meso__v1__plan_course_reply__free_unpacked (out, NULL);
        }
    }
    meso_result_reset (&a);
    meso_result_reset (&b);
    printf ("scheduling: PlanCourse compared with %s: %d calls, %d identical, %d different"
            " (%d refused by both or either, %d sessions planned, %d with a conflict worked around)\n",
            other, CMP_CALLS, same, differ, errors, sessions, moved);
    meso_bus_client_destroy (&old);
    mt_stop (pid, SIGTERM);
    return differ == 0 && same == CMP_CALLS ? 0 : 1;
}
