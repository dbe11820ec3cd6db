/* handlers.c -- the scheduling daemon's method table ("scheduling.*"):
 * each method's name, handler, kind and input type, which the bus server
 * decodes before calling the handler.
 *
 * The methods live in one file per aggregate, the way Redis keeps one
 * t_<type>.c per data type: clinics.c (clinics, practitioners, rooms),
 * courses.c (planning, booking, reading courses and free slots),
 * sessions.c (the changes of a booked session), reports.c (the
 * reports), course_changes.c (the remaining sessions of a course),
 * reminders.c (front-desk settings), waitlist.c and offers.c (the
 * waitlist and its slot offers). A method: decode (done
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
      MESO_ROLE_CLINIC_MANAGER | MESO_ROLE_OPERATOR, "clinic.clinic_id", MESO_METHOD_NO_PATIENT },
    { "scheduling.UpsertPractitioner", clinics_upsert_practitioner, MESO_METHOD_MUTATING, &meso__v1__upsert_practitioner_request__descriptor,
      MESO_ROLE_CLINIC_MANAGER | MESO_ROLE_OPERATOR, MESO_SCOPE_HANDLER, MESO_METHOD_NO_PATIENT },
    { "scheduling.UpsertRoom", clinics_upsert_room, MESO_METHOD_MUTATING, &meso__v1__upsert_room_request__descriptor,
      MESO_ROLE_CLINIC_MANAGER | MESO_ROLE_OPERATOR, "room.clinic_id", MESO_METHOD_NO_PATIENT },
    { "scheduling.PlanCourse", courses_plan, MESO_METHOD_READ, &meso__v1__plan_course_request__descriptor,
      MESO_ROLE_FRONT_DESK | MESO_ROLE_CLINICIAN | MESO_ROLE_CLINIC_MANAGER, "spec.clinic_id", MESO_METHOD_PATIENT, "spec.patient_id" },
    { "scheduling.BookCourse", courses_book, MESO_METHOD_MUTATING, &meso__v1__book_course_request__descriptor,
      MESO_ROLE_FRONT_DESK | MESO_ROLE_CLINICIAN | MESO_ROLE_CLINIC_MANAGER, "spec.clinic_id", MESO_METHOD_PATIENT, "spec.patient_id" },
    { "scheduling.BookSession", courses_book_session, MESO_METHOD_MUTATING, &meso__v1__book_session_request__descriptor,
      MESO_ROLE_FRONT_DESK | MESO_ROLE_CLINICIAN | MESO_ROLE_CLINIC_MANAGER, "clinic_id", MESO_METHOD_PATIENT, "patient_id" },
    { "scheduling.Reschedule", sessions_reschedule, MESO_METHOD_MUTATING, &meso__v1__reschedule_request__descriptor,
      MESO_ROLE_FRONT_DESK | MESO_ROLE_CLINICIAN | MESO_ROLE_CLINIC_MANAGER, MESO_SCOPE_HANDLER, MESO_METHOD_PATIENT, MESO_PATIENT_HANDLER },
    { "scheduling.Cancel", sessions_cancel, MESO_METHOD_MUTATING, &meso__v1__cancel_request__descriptor,
      MESO_ROLE_FRONT_DESK | MESO_ROLE_CLINICIAN | MESO_ROLE_CLINIC_MANAGER, MESO_SCOPE_HANDLER, MESO_METHOD_PATIENT, MESO_PATIENT_HANDLER },
    { "scheduling.MarkNoShow", sessions_no_show, MESO_METHOD_MUTATING, &meso__v1__session_ref__descriptor,
      MESO_ROLE_FRONT_DESK | MESO_ROLE_CLINICIAN | MESO_ROLE_CLINIC_MANAGER, MESO_SCOPE_HANDLER, MESO_METHOD_PATIENT, MESO_PATIENT_HANDLER },
    { "scheduling.StartSession", sessions_start, MESO_METHOD_MUTATING, &meso__v1__session_ref__descriptor,
      MESO_ROLE_CLINICIAN, MESO_SCOPE_HANDLER, MESO_METHOD_PATIENT, MESO_PATIENT_HANDLER },
    { "scheduling.CompleteSession", sessions_complete, MESO_METHOD_MUTATING, &meso__v1__complete_session_request__descriptor,
      MESO_ROLE_CLINICIAN, MESO_SCOPE_HANDLER, MESO_METHOD_PATIENT, MESO_PATIENT_HANDLER },
    { "scheduling.GetAvailability", courses_availability, MESO_METHOD_READ, &meso__v1__get_availability_request__descriptor,
      MESO_ROLE_FRONT_DESK | MESO_ROLE_CLINICIAN | MESO_ROLE_CLINIC_MANAGER | MESO_ROLE_INTEGRATION, "clinic_id", MESO_METHOD_NO_PATIENT },
    { "scheduling.GetCourse", courses_get, MESO_METHOD_READ, &meso__v1__get_course_request__descriptor,
      MESO_ROLE_FRONT_DESK | MESO_ROLE_CLINICIAN | MESO_ROLE_CLINIC_MANAGER | MESO_ROLE_SERVICE, MESO_SCOPE_HANDLER, MESO_METHOD_PATIENT, "patient_id" },
    { "scheduling.GetClinic", clinics_get_clinic, MESO_METHOD_READ, &meso__v1__get_clinic_request__descriptor,
      MESO_ROLE_ALL, "clinic_id", MESO_METHOD_NO_PATIENT },
    { "scheduling.UtilisationReport", reports_utilisation, MESO_METHOD_READ, &meso__v1__utilisation_report_request__descriptor,
      MESO_ROLE_CLINIC_MANAGER | MESO_ROLE_OPERATOR, "clinic_id", MESO_METHOD_NO_PATIENT },
    { "scheduling.AttendanceReport", reports_attendance, MESO_METHOD_READ, &meso__v1__attendance_report_request__descriptor,
      MESO_ROLE_CLINIC_MANAGER | MESO_ROLE_OPERATOR, "clinic_id", MESO_METHOD_NO_PATIENT },
    { "scheduling.OutcomesReport", reports_outcomes, MESO_METHOD_READ, &meso__v1__outcomes_report_request__descriptor,
      MESO_ROLE_CLINIC_MANAGER | MESO_ROLE_CLINICIAN | MESO_ROLE_OPERATOR, "clinic_id", MESO_METHOD_NO_PATIENT },
    { "scheduling.ExportPatient", export_patient, MESO_METHOD_READ, &meso__v1__export_patient_request__descriptor,
      MESO_ROLE_CLINIC_MANAGER | MESO_ROLE_OPERATOR, MESO_SCOPE_HANDLER, MESO_METHOD_HEALTH_DATA | MESO_METHOD_PATIENT, "patient_id" },
    { "scheduling.RescheduleCourse", course_changes_reschedule, MESO_METHOD_MUTATING, &meso__v1__reschedule_course_request__descriptor,
      MESO_ROLE_FRONT_DESK | MESO_ROLE_CLINICIAN | MESO_ROLE_CLINIC_MANAGER, MESO_SCOPE_HANDLER, MESO_METHOD_PATIENT, MESO_PATIENT_HANDLER },
    { "scheduling.CancelCourse", course_changes_cancel, MESO_METHOD_MUTATING, &meso__v1__cancel_course_request__descriptor,
      MESO_ROLE_FRONT_DESK | MESO_ROLE_CLINICIAN | MESO_ROLE_CLINIC_MANAGER, MESO_SCOPE_HANDLER, MESO_METHOD_PATIENT, MESO_PATIENT_HANDLER },
    { "scheduling.SetFrontDeskPolicy", reminders_set_policy, MESO_METHOD_MUTATING, &meso__v1__set_front_desk_policy_request__descriptor,
      MESO_ROLE_CLINIC_MANAGER | MESO_ROLE_OPERATOR, "policy.clinic_id", MESO_METHOD_NO_PATIENT },
    { "scheduling.JoinWaitlist", waitlist_join, MESO_METHOD_MUTATING, &meso__v1__join_waitlist_request__descriptor,
      MESO_ROLE_FRONT_DESK | MESO_ROLE_CLINICIAN | MESO_ROLE_CLINIC_MANAGER, "clinic_id", MESO_METHOD_PATIENT, "patient_id" },
    { "scheduling.LeaveWaitlist", waitlist_leave, MESO_METHOD_MUTATING, &meso__v1__leave_waitlist_request__descriptor,
      MESO_ROLE_FRONT_DESK | MESO_ROLE_CLINICIAN | MESO_ROLE_CLINIC_MANAGER, "clinic_id", MESO_METHOD_PATIENT, MESO_PATIENT_HANDLER },
    { "scheduling.ListWaitlist", waitlist_list, MESO_METHOD_READ, &meso__v1__list_waitlist_request__descriptor,
      MESO_ROLE_FRONT_DESK | MESO_ROLE_CLINICIAN | MESO_ROLE_CLINIC_MANAGER, "clinic_id", MESO_METHOD_PATIENT, MESO_PATIENT_HANDLER },
    { "scheduling.AcceptOffer", offers_accept, MESO_METHOD_MUTATING, &meso__v1__accept_offer_request__descriptor,
      MESO_ROLE_FRONT_DESK | MESO_ROLE_CLINICIAN | MESO_ROLE_CLINIC_MANAGER, "clinic_id", MESO_METHOD_PATIENT, MESO_PATIENT_HANDLER },
    { "scheduling.GetAgenda", agenda_get, MESO_METHOD_READ, &meso__v1__get_agenda_request__descriptor,
      MESO_ROLE_FRONT_DESK | MESO_ROLE_CLINICIAN | MESO_ROLE_CLINIC_MANAGER, "clinic_id", MESO_METHOD_PATIENT, MESO_PATIENT_HANDLER },
    { "scheduling.ListClinics", lookups_list_clinics, MESO_METHOD_READ, &meso__v1__list_clinics_request__descriptor,
      MESO_ROLE_ALL, MESO_SCOPE_HANDLER, MESO_METHOD_NO_PATIENT },
    { "scheduling.ListPractitioners", lookups_list_practitioners, MESO_METHOD_READ,
      &meso__v1__list_practitioners_request__descriptor,
      MESO_ROLE_FRONT_DESK | MESO_ROLE_CLINICIAN | MESO_ROLE_CLINIC_MANAGER | MESO_ROLE_OPERATOR, "clinic_id", MESO_METHOD_NO_PATIENT },
    { "scheduling.ListRooms", lookups_list_rooms, MESO_METHOD_READ, &meso__v1__list_rooms_request__descriptor,
      MESO_ROLE_FRONT_DESK | MESO_ROLE_CLINICIAN | MESO_ROLE_CLINIC_MANAGER | MESO_ROLE_OPERATOR, "clinic_id", MESO_METHOD_NO_PATIENT },
    { "scheduling.ListCourses", lookups_list_courses, MESO_METHOD_READ, &meso__v1__list_courses_request__descriptor,
      MESO_ROLE_FRONT_DESK | MESO_ROLE_CLINICIAN | MESO_ROLE_CLINIC_MANAGER, MESO_SCOPE_HANDLER, MESO_METHOD_PATIENT, "patient_id" },
    { NULL, NULL, 0, NULL, 0, NULL, 0 }
};
