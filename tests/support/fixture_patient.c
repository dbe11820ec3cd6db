/* fixture_patient.c -- a patient registered, screened eligible and
 * optionally consented, through the screening daemon (see
 * fixture_patient.h). */
#include "fixture_patient.h"

#include <stdio.h>

#include "meso/status.h"

void
mt_answers_eligible (mt_answers_t *self, int32_t grade)
{
    meso__v1__questionnaire__init (&self->q);
    Meso__V1__Answer no = MESO__V1__ANSWER__ANSWER_NO;
    self->q.pregnancy = self->q.breastfeeding = self->q.diabetes = self->q.active_infection = no;
    self->q.septicaemia = self->q.immunocompromised = self->q.liver_failure = self->q.kidney_failure = no;
    self->q.coagulation_disorder = self->q.menstrual_disorder = self->q.cancer = no;
    self->q.heart_arrhythmia = self->q.blood_clots = no;
    self->q.height_mm = 1700;
    self->q.weight_g = 65000;
    meso__v1__area_grade__init (&self->area);
    self->area.area = "thighs";
    self->area.grade = grade;
    self->areas[0] = &self->area;
    self->q.areas = self->areas;
    self->q.n_areas = 1;
}

int
mt_patient_eligible (mt_call_fn *call, meso_bus_client_t *scr, const char *clinic,
                     const char *given_name, const char *family_name, int32_t grade,
                     const char *witness, char *id, size_t id_size)
{
    meso_result_t r = { 0 };
    Meso__V1__Patient p = MESO__V1__PATIENT__INIT;
    p.given_name = (char *) given_name;
    p.family_name = (char *) family_name;
    p.birth_date = "1990-05-04";
    p.sex = MESO__V1__SEX__SEX_FEMALE;
    p.home_clinic_id = (char *) clinic;
    Meso__V1__RegisterPatientRequest rq = MESO__V1__REGISTER_PATIENT_REQUEST__INIT;
    rq.patient = &p;
    if (call (scr, "screening.RegisterPatient", &rq.base, &r) != MESO_OK) {
        meso_result_reset (&r);
        return -1;
    }
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__RegisterPatientReply *rep = meso__v1__register_patient_reply__unpack (NULL, len, body);
    meso_result_reset (&r);
    if (!rep)
        return -1;
    snprintf (id, id_size, "%s", rep->patient->id);
    meso__v1__register_patient_reply__free_unpacked (rep, NULL);
    mt_answers_t a;
    mt_answers_eligible (&a, grade);
    Meso__V1__RecordScreeningRequest sr = MESO__V1__RECORD_SCREENING_REQUEST__INIT;
    sr.patient_id = id;
    sr.clinic_id = (char *) clinic;
    sr.answers = &a.q;
    int rc = call (scr, "screening.RecordScreening", &sr.base, &r);
    Meso__V1__SignConsentRequest sc = MESO__V1__SIGN_CONSENT_REQUEST__INIT;
    sc.patient_id = id;
    sc.clinic_id = (char *) clinic;
    sc.treatment = "body_mesotherapy";
    sc.version = 1;
    sc.witness = (char *) witness;
    if (rc == MESO_OK && witness)
        rc = call (scr, "screening.SignConsent", &sc.base, &r);
    meso_result_reset (&r);
    return rc == MESO_OK ? 0 : -1;
}
