/* handlers.c -- the screening daemon's method table: every method, the
 * type of its body and the file that owns it.
 *
 * The methods live in one file per aggregate, the way Redis keeps one
 * t_<type>.c per data type: patients.c (the patient and what is reported
 * about the patient), screenings.c (questionnaires, their verdicts and
 * Check), settings.c (a clinic's settings), consents.c (treatment
 * consent texts and signatures), erasure.c (erasing a patient),
 * instructions.c (the pre-session instructions reminders carry) and
 * search.c (finding patients, and the agenda's batch read of them). What
 * they all share -- the
 * run frame of a mutating method, refusing with every reason, reading a
 * patient -- is in frame.c rather than here: this table names a method of
 * every aggregate file, and those files call the shared helpers, so the
 * helpers beside the table would make the files call each other in a
 * circle. A new method is a function in its aggregate's file and a line
 * here. Health is answered by the bus server itself. */
#include "meso/access.h"
#include "screening.h"

const meso_method_t screening_methods[] = {
    { "screening.RegisterPatient", screening_register_patient, MESO_METHOD_MUTATING,
      &meso__v1__register_patient_request__descriptor,
      MESO_ROLE_FRONT_DESK | MESO_ROLE_CLINICIAN | MESO_ROLE_CLINIC_MANAGER, "patient.home_clinic_id", MESO_METHOD_PATIENT, MESO_PATIENT_HANDLER },
    { "screening.UpdatePatient", screening_update_patient, MESO_METHOD_MUTATING,
      &meso__v1__update_patient_request__descriptor,
      MESO_ROLE_FRONT_DESK | MESO_ROLE_CLINICIAN | MESO_ROLE_CLINIC_MANAGER, MESO_SCOPE_HANDLER, MESO_METHOD_PATIENT, "patient.id" },
    { "screening.RecordScreening", screening_record_screening, MESO_METHOD_MUTATING,
      &meso__v1__record_screening_request__descriptor,
      MESO_ROLE_CLINICIAN, "clinic_id", MESO_METHOD_HEALTH_DATA | MESO_METHOD_PATIENT, "patient_id" },
    { "screening.GetScreening", screening_get_screening, MESO_METHOD_READ,
      &meso__v1__get_screening_request__descriptor,
      MESO_ROLE_CLINICIAN | MESO_ROLE_CLINIC_MANAGER | MESO_ROLE_SERVICE, MESO_SCOPE_HANDLER,
      MESO_METHOD_HEALTH_DATA | MESO_METHOD_PATIENT, "patient_id" },
    { "screening.Check", screening_check, MESO_METHOD_READ, &meso__v1__check_request__descriptor,
      MESO_ROLE_FRONT_DESK | MESO_ROLE_CLINICIAN | MESO_ROLE_CLINIC_MANAGER | MESO_ROLE_SERVICE, "clinic_id", MESO_METHOD_PATIENT, "patient_id" },
    { "screening.ReportChange", screening_report_change, MESO_METHOD_MUTATING,
      &meso__v1__report_change_request__descriptor,
      MESO_ROLE_FRONT_DESK | MESO_ROLE_CLINICIAN, MESO_SCOPE_HANDLER, MESO_METHOD_PATIENT, "patient_id" },
    { "screening.SetClinicSettings", screening_set_clinic_settings, MESO_METHOD_MUTATING,
      &meso__v1__set_clinic_settings_request__descriptor,
      MESO_ROLE_CLINIC_MANAGER | MESO_ROLE_OPERATOR, "settings.clinic_id", MESO_METHOD_NO_PATIENT },
    { "screening.SetConsentText", screening_set_consent_text, MESO_METHOD_MUTATING,
      &meso__v1__set_consent_text_request__descriptor,
      MESO_ROLE_CLINIC_MANAGER | MESO_ROLE_OPERATOR, "clinic_id", MESO_METHOD_NO_PATIENT },
    { "screening.GetConsentText", screening_get_consent_text, MESO_METHOD_READ,
      &meso__v1__get_consent_text_request__descriptor,
      MESO_ROLE_FRONT_DESK | MESO_ROLE_CLINICIAN | MESO_ROLE_CLINIC_MANAGER, "clinic_id", MESO_METHOD_NO_PATIENT },
    { "screening.SignConsent", screening_sign_consent, MESO_METHOD_MUTATING,
      &meso__v1__sign_consent_request__descriptor,
      MESO_ROLE_FRONT_DESK | MESO_ROLE_CLINICIAN, "clinic_id", MESO_METHOD_PATIENT, "patient_id" },
    { "screening.GetConsents", screening_get_consents, MESO_METHOD_READ,
      &meso__v1__get_consents_request__descriptor,
      MESO_ROLE_FRONT_DESK | MESO_ROLE_CLINICIAN | MESO_ROLE_CLINIC_MANAGER, "clinic_id", MESO_METHOD_PATIENT, "patient_id" },
    { "screening.ExportPatient", screening_export_patient, MESO_METHOD_READ,
      &meso__v1__export_patient_request__descriptor,
      MESO_ROLE_CLINIC_MANAGER | MESO_ROLE_OPERATOR, MESO_SCOPE_HANDLER, MESO_METHOD_HEALTH_DATA | MESO_METHOD_PATIENT, "patient_id" },
    { "screening.ErasePatient", screening_erase_patient, MESO_METHOD_MUTATING,
      &meso__v1__erase_patient_request__descriptor,
      MESO_ROLE_OPERATOR, MESO_SCOPE_HANDLER, MESO_METHOD_PATIENT, "patient_id" },
    { "screening.GetInstructions", screening_get_instructions, MESO_METHOD_READ,
      &meso__v1__get_instructions_request__descriptor,
      MESO_ROLE_SERVICE, MESO_SCOPE_CHAIN, MESO_METHOD_HEALTH_DATA | MESO_METHOD_PATIENT, "patient_id" },
    { "screening.SearchPatients", screening_search_patients, MESO_METHOD_READ,
      &meso__v1__search_patients_request__descriptor,
      MESO_ROLE_FRONT_DESK | MESO_ROLE_CLINICIAN | MESO_ROLE_CLINIC_MANAGER, "clinic_id", MESO_METHOD_PATIENT, MESO_PATIENT_HANDLER },
    { "screening.GetPatients", screening_get_patients, MESO_METHOD_READ,
      &meso__v1__get_patients_request__descriptor,
      MESO_ROLE_SERVICE, "clinic_id", MESO_METHOD_PATIENT, MESO_PATIENT_HANDLER },
    { NULL, NULL, 0, NULL, 0, NULL, 0 }
};
