/* bench_sched_plan.c -- PlanCourse of 20 sessions in a clinic with 20
 * practitioners, 10 rooms and a year of bookings (about 70% of the
 * room-hours taken), 200 calls through one scheduling instance (or as many
 * as fit in 20 s): p50/p99 against the 5 ms target. With
 * MESO_BENCH_COMPARE=<another build folder>, that build's daemon too,
 * called alternately on the same data (tests/bench/plan_compare.sh). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_scheduling.h"
#include "harness.h"
#include "meso/mtime.h"
#include "meso/status.h"
#include "scheduling.pb-c.h"

#define PLAN_CALLS 200

int
bs_plan (meso_db_t *db, const fleet_t *fleet)
{
    if (bs_clinic ("busy", "Europe/Paris", "08:00", "20:00", 6, 20, 10) != 0 || bs_stock ("busy") != 0)
        return -1;
    char patient[40];
    if (bs_patient ("busy", patient) != 0)
        return -1;
    /* A year of bookings from tomorrow: every room-hour of the opening
     * hours, 70% of them taken, room r by practitioner 2r or 2r+1 on
     * alternate days (so no practitioner is in two rooms at once). */
    if (meso_db_exec (db,
            "INSERT INTO scheduling.course (clinic_id, course_id, patient_id, grade, areas, recipe_id,"
            " sessions, status) VALUES ('busy', 'busy-year', 'someone', 2, '{thighs}', 'bench', 64, 'booked')",
            0, NULL)
        || meso_db_exec (db,
            "INSERT INTO scheduling.appointment (clinic_id, appointment_id, course_id, patient_id,"
            " practitioner_id, room_id, during, status, session_number, areas, recipe_id, recipe_version)"
            " SELECT 'busy', 'busy-' || d || '-' || h || '-' || r, 'busy-year', 'busy-patient-' || d || '-' || h || '-' || r,"
            "  'busy-p' || (2 * r + d % 2), 'busy-r' || r,"
            "  tstzrange(((current_date + d) + make_interval(hours => h)) AT TIME ZONE 'Europe/Paris',"
            "            ((current_date + d) + make_interval(hours => h + 1)) AT TIME ZONE 'Europe/Paris', '[)'),"
            "  'booked', 1, '{thighs}', 'bench', 1"
            " FROM generate_series(1, 365) d, generate_series(8, 19) h, generate_series(0, 9) r"
            " WHERE extract(isodow FROM current_date + d) < 7 AND random() < 0.7", 0, NULL)
        || meso_db_exec (db, "ANALYZE scheduling.appointment", 0, NULL)) {
        fprintf (stderr, "bench_scheduling: busy clinic: %s\n", meso_db_error (db)->message);
        return -1;
    }
    PGresult *res = meso_db_query (db, "SELECT count(*) FROM scheduling.appointment WHERE clinic_id = 'busy'", 0, NULL);
    long busy = res ? strtol (PQgetvalue (res, 0, 0), NULL, 10) : 0;
    PQclear (res);
    char first[16];
    bs_day (2, first);
    char *areas[] = { "thighs" };
    Meso__V1__CourseSpec sp = MESO__V1__COURSE_SPEC__INIT;
    sp.clinic_id = "busy";
    sp.patient_id = patient;
    sp.grade = 3;
    sp.areas = areas;
    sp.n_areas = 1;
    sp.first_date = first;
    sp.preferred_time = "10:00";
    sp.sessions = 20;
    sp.recipe_id = "bench";
    Meso__V1__PlanCourseRequest pq = MESO__V1__PLAN_COURSE_REQUEST__INIT;
    pq.spec = &sp;
    /* MESO_BENCH_COMPARE=<another build folder>: that build's daemon
     * too, called alternately on the same data (the order swapped on
     * every call), for a before/after in the same machine state. */
    const char *other = getenv ("MESO_BENCH_COMPARE");
    pid_t opid = -1;
    meso_bus_client_t *oc = other && other[0] ? bs_other_start (fleet, other, &opid) : NULL;
    int64_t *oplan = malloc (sizeof (int64_t) * PLAN_CALLS);
    int onp = 0;
    int64_t *plan = malloc (sizeof (int64_t) * PLAN_CALLS);
    int np = 0, placed = -1, conflicts = 0;
    meso_result_t r = { 0 };
    int64_t plan_deadline = meso_time_mono_us () + 20 * INT64_C (1000000);   /* at most 20 s */
    for (int i = 0; i < PLAN_CALLS + 10 && meso_time_mono_us () < plan_deadline; i++) {
        if (oc && i % 2 == 1) {
            int64_t oa = meso_time_mono_us ();
            meso_result_reset (&r);
            meso_bus_client_call (oc, "scheduling.PlanCourse", &pq.base, NULL, 20000, &r);
            if (i >= 10 && r.status == MESO_OK)
                oplan[onp++] = meso_time_mono_us () - oa;
        }
        int64_t a = meso_time_mono_us ();
        meso_result_reset (&r);
        meso_bus_client_call (bs_sch, "scheduling.PlanCourse", &pq.base, NULL, 20000, &r);
        int64_t b = meso_time_mono_us ();
        if (oc && i % 2 == 0) {
            meso_result_t o = { 0 };
            int64_t oa = meso_time_mono_us ();
            meso_bus_client_call (oc, "scheduling.PlanCourse", &pq.base, NULL, 20000, &o);
            if (i >= 10 && o.status == MESO_OK)
                oplan[onp++] = meso_time_mono_us () - oa;
            meso_result_reset (&o);
        }
        if (r.status != MESO_OK) {
            fprintf (stderr, "bench_scheduling: PlanCourse: %s: %s\n", meso_status_name (r.status), r.message);
            break;
        }
        if (i == 0) {
            size_t len;
            const uint8_t *body = meso_result_body (&r, &len);
            Meso__V1__PlanCourseReply *out = meso__v1__plan_course_reply__unpack (NULL, len, body);
            if (out) {
                placed = 0;
                for (size_t s = 0; s < out->n_sessions; s++) {
                    placed += !out->sessions[s]->unplaced;
                    conflicts += (int) out->sessions[s]->n_conflicts;
                }
                meso__v1__plan_course_reply__free_unpacked (out, NULL);
            }
        }
        if (i >= 10)                    /* the first calls warm the caches */
            plan[np++] = b - a;
    }
    meso_result_reset (&r);
    if (np) {
        qsort (plan, (size_t) np, sizeof *plan, bs_cmp_i64);
        printf ("scheduling: PlanCourse, 20 sessions, 20 practitioners, 10 rooms, %ld bookings over a year"
                " (%d placed, %d conflicts worked around)\n", busy, placed, conflicts);
        printf ("  p50 %.2f ms, p99 %.2f ms (target p99 < 5 ms), %d calls\n", plan[np / 2] / 1000.0,
                plan[np * 99 / 100] / 1000.0, np);
    }
    if (onp) {
        qsort (oplan, (size_t) onp, sizeof *oplan, bs_cmp_i64);
        printf ("  p50 %.2f ms, p99 %.2f ms, %d calls by %s's daemon, alternately\n", oplan[onp / 2] / 1000.0,
                oplan[onp * 99 / 100] / 1000.0, onp, other);
    }
    meso_bus_client_destroy (&oc);
    if (opid > 0)
        mt_stop (opid, SIGTERM);
    free (oplan);
    free (plan);
    return 0;
}
