/* handlers.c -- the scheduling daemon's method table ("scheduling.*"):
 * each method's name, handler, kind and input type, which the bus server
 * decodes before calling the handler.
 *
 * The methods live in one file per aggregate, the way Redis keeps one
 * t_<type>.c per data type: clinics.c (clinics, practitioners, rooms),
 * courses.c (planning, booking, reading courses and free slots),
 * sessions.c (the changes of a booked session), reports.c (the
 * reports). A method: decode (done
 * by the bus server), validate, run one transaction, reply.
 *
 * What every method shares is in frame.c, not here: this table names
 * every method, so a helper kept in this file would have the method files
 * and this one call each other in a circle. Mutating methods other than
 * the bookings claim their idempotency key in the transaction of the
 * effect and its event (meso/idem.h, meso/outbox.h): a retry replays the
 * reply, and an effect, its event and its key commit together or not at
 * all. BookCourse and BookSession span services and run the saga of
 * saga.c instead. */
#include "meso/access.h"
#include "scheduling.h"

const meso_method_t scheduling_methods[] = {
    { "scheduling.UpsertClinic", clinics_upsert_clinic, MESO_METHOD_MUTATING, &meso__v1__upsert_clinic_request__descriptor,
      MESO_ROLE_CLINIC_MANAGER | MESO_ROLE_OPERATOR, "clinic.clinic_id", 0 },
    { "scheduling.UpsertPractitioner", clinics_upsert_practitioner, MESO_METHOD_MUTATING, &meso__v1__upsert_practitioner_request__descriptor,
      MESO_ROLE_CLINIC_MANAGER | MESO_ROLE_OPERATOR, MESO_SCOPE_HANDLER, 0 },
    { "scheduling.UpsertRoom", clinics_upsert_room, MESO_METHOD_MUTATING, &meso__v1__upsert_room_request__descriptor,
      MESO_ROLE_CLINIC_MANAGER | MESO_ROLE_OPERATOR, "room.clinic_id", 0 },
    { "scheduling.PlanCourse", courses_plan, MESO_METHOD_READ, &meso__v1__plan_course_request__descriptor,
      MESO_ROLE_FRONT_DESK | MESO_ROLE_CLINICIAN | MESO_ROLE_CLINIC_MANAGER, "spec.clinic_id", 0 },
    { "scheduling.BookCourse", courses_book, MESO_METHOD_MUTATING, &meso__v1__book_course_request__descriptor,
      MESO_ROLE_FRONT_DESK | MESO_ROLE_CLINICIAN | MESO_ROLE_CLINIC_MANAGER, "spec.clinic_id", 0 },
    { "scheduling.BookSession", courses_book_session, MESO_METHOD_MUTATING, &meso__v1__book_session_request__descriptor,
      MESO_ROLE_FRONT_DESK | MESO_ROLE_CLINICIAN | MESO_ROLE_CLINIC_MANAGER, "clinic_id", 0 },
    { "scheduling.Reschedule", sessions_reschedule, MESO_METHOD_MUTATING, &meso__v1__reschedule_request__descriptor,
      MESO_ROLE_FRONT_DESK | MESO_ROLE_CLINICIAN | MESO_ROLE_CLINIC_MANAGER, MESO_SCOPE_HANDLER, 0 },
    { "scheduling.Cancel", sessions_cancel, MESO_METHOD_MUTATING, &meso__v1__cancel_request__descriptor,
      MESO_ROLE_FRONT_DESK | MESO_ROLE_CLINICIAN | MESO_ROLE_CLINIC_MANAGER, MESO_SCOPE_HANDLER, 0 },
    { "scheduling.MarkNoShow", sessions_no_show, MESO_METHOD_MUTATING, &meso__v1__session_ref__descriptor,
      MESO_ROLE_FRONT_DESK | MESO_ROLE_CLINICIAN | MESO_ROLE_CLINIC_MANAGER, MESO_SCOPE_HANDLER, 0 },
    { "scheduling.StartSession", sessions_start, MESO_METHOD_MUTATING, &meso__v1__session_ref__descriptor,
      MESO_ROLE_CLINICIAN, MESO_SCOPE_HANDLER, 0 },
    { "scheduling.CompleteSession", sessions_complete, MESO_METHOD_MUTATING, &meso__v1__complete_session_request__descriptor,
      MESO_ROLE_CLINICIAN, MESO_SCOPE_HANDLER, 0 },
    { "scheduling.GetAvailability", courses_availability, MESO_METHOD_READ, &meso__v1__get_availability_request__descriptor,
      MESO_ROLE_FRONT_DESK | MESO_ROLE_CLINICIAN | MESO_ROLE_CLINIC_MANAGER | MESO_ROLE_INTEGRATION, "clinic_id", 0 },
    { "scheduling.GetCourse", courses_get, MESO_METHOD_READ, &meso__v1__get_course_request__descriptor,
      MESO_ROLE_FRONT_DESK | MESO_ROLE_CLINICIAN | MESO_ROLE_CLINIC_MANAGER, MESO_SCOPE_HANDLER, 0 },
    { "scheduling.GetClinic", clinics_get_clinic, MESO_METHOD_READ, &meso__v1__get_clinic_request__descriptor,
      MESO_ROLE_ALL, "clinic_id", 0 },
    { "scheduling.UtilisationReport", reports_utilisation, MESO_METHOD_READ, &meso__v1__utilisation_report_request__descriptor,
      MESO_ROLE_CLINIC_MANAGER | MESO_ROLE_OPERATOR, "clinic_id", 0 },
    { "scheduling.AttendanceReport", reports_attendance, MESO_METHOD_READ, &meso__v1__attendance_report_request__descriptor,
      MESO_ROLE_CLINIC_MANAGER | MESO_ROLE_OPERATOR, "clinic_id", 0 },
    { "scheduling.OutcomesReport", reports_outcomes, MESO_METHOD_READ, &meso__v1__outcomes_report_request__descriptor,
      MESO_ROLE_CLINIC_MANAGER | MESO_ROLE_CLINICIAN | MESO_ROLE_OPERATOR, "clinic_id", 0 },
    { "scheduling.GetAgenda", agenda_get, MESO_METHOD_READ, &meso__v1__get_agenda_request__descriptor,
      MESO_ROLE_FRONT_DESK | MESO_ROLE_CLINICIAN | MESO_ROLE_CLINIC_MANAGER, "clinic_id", 0 },
    { "scheduling.ListClinics", lookups_list_clinics, MESO_METHOD_READ, &meso__v1__list_clinics_request__descriptor,
      MESO_ROLE_ALL, MESO_SCOPE_HANDLER, 0 },
    { "scheduling.ListPractitioners", lookups_list_practitioners, MESO_METHOD_READ,
      &meso__v1__list_practitioners_request__descriptor,
      MESO_ROLE_FRONT_DESK | MESO_ROLE_CLINICIAN | MESO_ROLE_CLINIC_MANAGER | MESO_ROLE_OPERATOR, "clinic_id", 0 },
    { "scheduling.ListRooms", lookups_list_rooms, MESO_METHOD_READ, &meso__v1__list_rooms_request__descriptor,
      MESO_ROLE_FRONT_DESK | MESO_ROLE_CLINICIAN | MESO_ROLE_CLINIC_MANAGER | MESO_ROLE_OPERATOR, "clinic_id", 0 },
    { "scheduling.ListCourses", lookups_list_courses, MESO_METHOD_READ, &meso__v1__list_courses_request__descriptor,
      MESO_ROLE_FRONT_DESK | MESO_ROLE_CLINICIAN | MESO_ROLE_CLINIC_MANAGER, MESO_SCOPE_HANDLER, 0 },
    { NULL, NULL, 0, NULL, 0, NULL, 0 }
};
