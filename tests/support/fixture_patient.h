/* fixture_patient.h -- a patient registered and screened eligible, and
 * optionally consented, through screening's own methods (RegisterPatient,
 * RecordScreening, SignConsent), for the tests and benchmarks that need
 * one before they book; and the eligible questionnaire alone, for those
 * that send RecordScreening themselves. No assertions: callers check what
 * is returned (cmocka tests with assert_*, benchmarks by printing). */
#ifndef MESO_FIXTURE_PATIENT_H
#define MESO_FIXTURE_PATIENT_H

#include <stddef.h>
#include <stdint.h>

#include "meso/bus.h"
#include "screening.pb-c.h"

/* Answers that make a patient eligible: every contraindication NO, height
 * 1700 mm, weight 65000 g, the thighs at grade. q points into the struct
 * (use it in place, do not copy it); change fields of q before sending
 * when a test needs other answers (allergies...). */
typedef struct {
    Meso__V1__Questionnaire q;
    Meso__V1__AreaGrade area;
    Meso__V1__AreaGrade *areas[1];
} mt_answers_t;

void mt_answers_eligible (mt_answers_t *self, int32_t grade);

/* How the fixture sends each request: the caller's own call, with its keys,
 * timeout, retries and reporting. It resets r before calling and returns
 * the reply's status (also in r). */
typedef int mt_call_fn (meso_bus_client_t *c, const char *method, const ProtobufCMessage *body,
                        meso_result_t *r);

/* Registers a patient of clinic (given_name family_name, born 1990-05-04,
 * female) through scr, screens them there with mt_answers_eligible (grade),
 * and, when witness is not NULL, has them sign the clinic's
 * body_mesotherapy consent, version 1, before that witness. Each request
 * is sent only when the one before succeeded. Writes the patient id to id
 * (40 bytes are enough). Returns 0, or -1 at the first request that is not
 * OK (call reported it) or a reply that does not unpack. */
int mt_patient_eligible (mt_call_fn *call, meso_bus_client_t *scr, const char *clinic,
                         const char *given_name, const char *family_name, int32_t grade,
                         const char *witness, char *id, size_t id_size);

#endif
