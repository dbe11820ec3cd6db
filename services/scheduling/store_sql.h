/* store_sql.h -- the SQL fragments the store files share; included by
 * store_*.c only.
 *
 * US(x): an instant as microseconds since the epoch (what the daemon and
 * the wire carry). ACTIVE: the statuses of an appointment that holds its
 * slot -- one list, so the free-slot query, the calendar and the booking
 * checks can never disagree on what blocks a slot (a session on hold
 * keeps its slot until a new screening decides; migration 014). */
#ifndef SCHEDULING_STORE_SQL_H
#define SCHEDULING_STORE_SQL_H

#define US(x) "(extract(epoch FROM " x ") * 1000000)::bigint"
#define ACTIVE "('pending', 'booked', 'on_hold', 'started', 'completed')"

/* The appointments a of patient p that start at t or later, read through
 * appointment_patient_start_idx (migration 041). Written as two row
 * comparisons, which only a btree answers: given "a.patient_id = p" the
 * planner prices the patient's exclusion constraint (GiST, the range
 * first since 040) as cheaply, and that scan reads the whole index (165
 * buffers against 13 on a 5,000-session bench database; the whole
 * constraint on a chain's years). lower(during) is finite (006's
 * appointment_during_shape), so the upper bound leaves none out. */
#define PATIENT_FROM(p, t) \
    "(a.patient_id, lower(a.during)) >= (" p ", " t ")" \
    " AND (a.patient_id, lower(a.during)) < (" p ", 'infinity'::timestamptz)"

/* The sessions a course was moved from at booking (store_replanned_get,
 * store_course_read). */
#define REPLANNED_GET \
    "SELECT session_number, appointment_id, " US ("original_start") ", original_local" \
    " FROM scheduling.course_replanned WHERE course_id = $1 ORDER BY session_number"

#endif
