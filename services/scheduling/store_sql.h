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
 * appointment_patient_c_idx (migration 042): the comparison is collated
 * "C" as that index is, so that no other index can answer it -- with a
 * plain "a.patient_id = p" the planner may take the patient's exclusion
 * constraint (GiST, the range first since 040), whose scan for a patient
 * reads the whole index. PATIENT_IS is the same without a start. */
#define PATIENT_IS(p) "a.patient_id = " p " COLLATE \"C\""
#define PATIENT_FROM(p, t) PATIENT_IS (p) " AND lower(a.during) >= " t

/* The sessions a course was moved from at booking (store_replanned_get,
 * store_course_read). */
#define REPLANNED_GET \
    "SELECT session_number, appointment_id, " US ("original_start") ", original_local" \
    " FROM scheduling.course_replanned WHERE course_id = $1 ORDER BY session_number"

#endif
