/* fhir_person.c -- the patient and what screening knows of them, as FHIR
 * R4 resources (fhir.h): Patient, Organization (a clinic), Practitioner,
 * AllergyIntolerance (the allergies declared at screening), Condition
 * (each contraindication or precaution a screening found, with its
 * verdict), Consent (each signature of a consent text).
 *
 * meso knows a clinic and a practitioner by id only in these replies, so
 * Organization and Practitioner carry the id (identifier and name), enough
 * for every reference of the Bundle to resolve. */
#include <stdio.h>
#include <string.h>

#include "fhir.h"

#define SYS_CONSENT_SCOPE "http://terminology.hl7.org/CodeSystem/consentscope"
#define SYS_LOINC "http://loinc.org"
#define SYS_ALLERGY_CLINICAL "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
#define SYS_ALLERGY_VERIFICATION "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
#define SYS_CONDITION_CLINICAL "http://terminology.hl7.org/CodeSystem/condition-clinical"

static json_t *
s_identifier (const char *system, const char *value)
{
    json_t *id = json_object ();
    fhir_set_str (id, "system", system);
    fhir_set_str (id, "value", value);
    return json_pack ("[o]", id);
}

static json_t *
s_resource (const char *type, const char *id)
{
    return json_pack ("{s:s,s:s}", "resourceType", type, "id", id);
}

static const char *
s_gender (Meso__V1__Sex sex)
{
    switch (sex) {
    case MESO__V1__SEX__SEX_FEMALE:
        return "female";
    case MESO__V1__SEX__SEX_MALE:
        return "male";
    case MESO__V1__SEX__SEX_OTHER:
        return "other";
    default:
        return "unknown";
    }
}

json_t *
fhir_patient (const Meso__V1__Patient *p)
{
    char id[FHIR_ID_SIZE];
    json_t *r = s_resource ("Patient", fhir_id ("Patient", p->id, id));
    json_object_set_new (r, "identifier", s_identifier (FHIR_SYS_PATIENT, p->id));
    json_object_set_new (r, "active", json_true ());
    json_t *name = json_pack ("{s:s}", "use", "official");
    fhir_set_str (name, "family", p->family_name);
    if (p->given_name && *p->given_name)
        json_object_set_new (name, "given", json_pack ("[s]", p->given_name));
    json_object_set_new (r, "name", json_pack ("[o]", name));
    json_t *telecom = json_array ();
    if (p->phone && *p->phone)
        json_array_append_new (telecom, json_pack ("{s:s,s:s}", "system", "phone", "value", p->phone));
    if (p->email && *p->email)
        json_array_append_new (telecom, json_pack ("{s:s,s:s}", "system", "email", "value", p->email));
    if (json_array_size (telecom))
        json_object_set_new (r, "telecom", telecom);
    else
        json_decref (telecom);
    json_object_set_new (r, "gender", json_string (s_gender (p->sex)));
    fhir_set_str (r, "birthDate", fhir_date (p->birth_date));
    if (p->home_clinic_id && *p->home_clinic_id)
        json_object_set_new (r, "managingOrganization", fhir_ref ("Organization", p->home_clinic_id));
    return r;
}

json_t *
fhir_organization (const char *clinic_id)
{
    char id[FHIR_ID_SIZE];
    json_t *r = s_resource ("Organization", fhir_id ("Organization", clinic_id, id));
    json_object_set_new (r, "identifier", s_identifier (FHIR_SYS_CLINIC, clinic_id));
    json_object_set_new (r, "active", json_true ());
    fhir_set_str (r, "name", clinic_id);
    return r;
}

json_t *
fhir_practitioner (const char *practitioner_id)
{
    char id[FHIR_ID_SIZE];
    json_t *r = s_resource ("Practitioner", fhir_id ("Practitioner", practitioner_id, id));
    json_object_set_new (r, "identifier", s_identifier (FHIR_SYS_PRACTITIONER, practitioner_id));
    json_object_set_new (r, "active", json_true ());
    return r;
}

/* An allergy to a catalogue ingredient, as the patient declared it at
 * screening: active, unconfirmed (declared, not tested), a medication
 * allergy. */
json_t *
fhir_allergy (const char *patient_id, const Meso__V1__Screening *s, const char *code)
{
    char id[FHIR_ID_SIZE], at[40];
    const char *parts[] = { patient_id, code };
    json_t *r = s_resource ("AllergyIntolerance", fhir_id_of ("AllergyIntolerance", parts, 2, id));
    json_object_set_new (r, "clinicalStatus", fhir_concept (SYS_ALLERGY_CLINICAL, "active", "Active", NULL));
    json_object_set_new (r, "verificationStatus",
                         fhir_concept (SYS_ALLERGY_VERIFICATION, "unconfirmed", "Unconfirmed", NULL));
    json_object_set_new (r, "type", json_string ("allergy"));
    json_object_set_new (r, "category", json_pack ("[s]", "medication"));
    json_object_set_new (r, "code", fhir_concept (FHIR_SYS_INGREDIENT, code, NULL, code));
    json_object_set_new (r, "patient", fhir_ref ("Patient", patient_id));
    fhir_instant (s->screened_at_us, at, sizeof at);
    json_object_set_new (r, "recordedDate", json_string (at));
    json_object_set_new (r, "asserter", fhir_ref ("Patient", patient_id));
    return r;
}

const char *
fhir_verdict_code (int verdict)
{
    switch (verdict) {
    case MESO__V1__VERDICT__VERDICT_ELIGIBLE:
        return "eligible";
    case MESO__V1__VERDICT__VERDICT_ELIGIBLE_WITH_PRECAUTIONS:
        return "eligible-with-precautions";
    case MESO__V1__VERDICT__VERDICT_INELIGIBLE:
        return "ineligible";
    default:
        return "unspecified";
    }
}

/* The precautions of Screening.reasons; every other code is a refusal. */
static bool
s_precaution (const char *code)
{
    static const char *const precautions[] = { "washout", "current_medication", "allergy_declared" };
    for (size_t i = 0; i < sizeof precautions / sizeof precautions[0]; i++)
        if (code && strcmp (code, precautions[i]) == 0)
            return true;
    return false;
}

json_t *
fhir_condition (const char *patient_id, const Meso__V1__Screening *s, size_t reason, bool current)
{
    const Meso__V1__Reason *why = s->reasons[reason];
    char id[FHIR_ID_SIZE], at[40], nth[24];
    snprintf (nth, sizeof nth, "%zu", reason);
    const char *parts[] = { s->id, nth };
    json_t *r = s_resource ("Condition", fhir_id_of ("Condition", parts, 2, id));
    const char *verdict = fhir_verdict_code (s->verdict);
    fhir_extension (r, "screening-verdict", "valueCode", json_string (verdict));
    json_object_set_new (r, "clinicalStatus", current ? fhir_concept (SYS_CONDITION_CLINICAL, "active", "Active", NULL)
                                                      : fhir_concept (SYS_CONDITION_CLINICAL, "inactive", "Inactive", NULL));
    bool precaution = s_precaution (why->code);
    json_object_set_new (r, "category",
                         json_pack ("[o]", fhir_concept (FHIR_SYS_REASON_KIND,
                                                         precaution ? "precaution" : "contraindication",
                                                         precaution ? "Precaution" : "Contraindication",
                                                         NULL)));
    json_object_set_new (r, "code", fhir_concept (FHIR_SYS_REASON, why->code, NULL,
                                                  why->message && *why->message ? why->message : why->code));
    json_object_set_new (r, "subject", fhir_ref ("Patient", patient_id));
    fhir_instant (s->screened_at_us, at, sizeof at);
    json_object_set_new (r, "recordedDate", json_string (at));
    char note[400];
    snprintf (note, sizeof note, "Found by screening %s at clinic %s on %s; verdict: %s.", s->id,
              s->clinic_id, s->screened_on, verdict);
    json_object_set_new (r, "note", json_pack ("[{s:s}]", "text", note));
    return r;
}

/* A signature of a clinic's consent text: what (the treatment, the
 * version), when, where, the SHA-256 of the text signed (an extension of
 * the attachment: Attachment.hash is defined as SHA-1) and the witness.
 * The clinic's current version is active; a signature of an older
 * version is inactive (new courses need the current one). */
json_t *
fhir_consent (const Meso__V1__ConsentSignature *c)
{
    char id[FHIR_ID_SIZE], at[40], title[300];
    json_t *r = s_resource ("Consent", fhir_id ("Consent", c->signature_id, id));
    json_object_set_new (r, "status", json_string (c->current ? "active" : "inactive"));
    json_object_set_new (r, "scope", fhir_concept (SYS_CONSENT_SCOPE, "treatment", "Treatment", NULL));
    json_object_set_new (r, "category",
                         json_pack ("[o]", fhir_concept (SYS_LOINC, "59284-0", "Patient Consent", NULL)));
    json_object_set_new (r, "patient", fhir_ref ("Patient", c->patient_id));
    fhir_instant (c->signed_at_us, at, sizeof at);
    json_object_set_new (r, "dateTime", json_string (at));
    json_object_set_new (r, "performer", json_pack ("[o]", fhir_ref ("Patient", c->patient_id)));
    json_object_set_new (r, "organization", json_pack ("[o]", fhir_ref ("Organization", c->clinic_id)));
    snprintf (title, sizeof title, "%s consent of clinic %s, version %u", c->treatment, c->clinic_id,
              (unsigned) c->version);
    json_t *att = json_pack ("{s:s,s:s}", "contentType", "text/plain", "title", title);
    if (c->text_sha256 && *c->text_sha256)
        fhir_extension (att, "text-sha256", "valueString", json_string (c->text_sha256));
    json_object_set_new (r, "sourceAttachment", att);
    json_t *prov = json_pack ("{s:s}", "type", "permit");
    json_object_set_new (prov, "code",
                         json_pack ("[o]", fhir_concept (FHIR_SYS_TREATMENT, c->treatment, NULL, c->treatment)));
    json_object_set_new (r, "provision", prov);
    if (c->witness && *c->witness)
        fhir_extension (r, "witness", "valueString", json_string (c->witness));
    fhir_extension (r, "consent-version", "valuePositiveInt", json_integer (c->version));
    return r;
}
