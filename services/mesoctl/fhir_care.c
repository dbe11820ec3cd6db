/* fhir_care.c -- the treatment as FHIR R4 resources (fhir.h): CarePlan
 * (a course: grade, planned sessions, status), Appointment (each
 * session), Medication (one lot of one ingredient, with batch.lotNumber
 * and batch.expirationDate) and MedicationAdministration (what one session
 * consumed from one lot).
 *
 * How they link, since R4 has no direct Appointment -> Medication
 * element: CarePlan.activity.reference names each Appointment;
 * Appointment.supportingInformation names its CarePlan;
 * MedicationAdministration names the Medication (medicationReference),
 * the Patient (subject), the practitioner (performer) and the session
 * (supportingInformation -> Appointment). Medication is per lot, so two
 * sessions served from one lot share it.
 *
 * meso facts FHIR has no element for travel as extensions (FHIR_EXT...):
 * the course's grade, planned and maintenance sessions, recipe and
 * non-responder flag; a session's number, maintenance flag, improvement
 * score, treatment areas, room and clinic. */
#include <stdio.h>
#include <string.h>

#include "fhir.h"

#define SYS_ROUTE "http://terminology.hl7.org/CodeSystem/v3-RouteOfAdministration"

static json_t *
s_resource (const char *type, const char *id)
{
    return json_pack ("{s:s,s:s}", "resourceType", type, "id", id);
}

static void
s_instant (json_t *obj, const char *key, int64_t us)
{
    char at[40];
    fhir_instant (us, at, sizeof at);
    json_object_set_new (obj, key, json_string (at));
}

json_t *
fhir_careplan (const Meso__V1__BookedCourse *c, char *why, size_t size)
{
    bool ended = c->n_sessions > 0;
    uint32_t planned = 0, maintenance = 0;
    int64_t first = 0, last = 0;
    for (size_t i = 0; i < c->n_sessions; i++) {
        const Meso__V1__Session *s = c->sessions[i];
        if (!fhir_session_ended (fhir_field_session_status (s)))
            ended = false;
        if (s->maintenance)
            maintenance++;
        else
            planned++;
        if (!first || s->starts_at_us < first)
            first = s->starts_at_us;
        if (s->ends_at_us > last)
            last = s->ends_at_us;
    }
    const char *status = fhir_careplan_status (fhir_field_course_status (c), ended);
    if (!status) {
        snprintf (why, size, "course %s: status \"%s\" has no CarePlan status", c->course_id,
                  fhir_field_course_status (c));
        return NULL;
    }
    char id[FHIR_ID_SIZE], title[120], desc[600];
    json_t *r = s_resource ("CarePlan", fhir_id ("CarePlan", c->course_id, id));
    fhir_extension (r, "course-grade", "valueInteger", json_integer (c->grade));
    fhir_extension (r, "planned-sessions", "valueUnsignedInt", json_integer (planned));
    fhir_extension (r, "maintenance-sessions", "valueUnsignedInt", json_integer (maintenance));
    fhir_extension (r, "non-responder", "valueBoolean", json_boolean (c->non_responder));
    if (c->recipe_id && *c->recipe_id) {
        char recipe[120];
        snprintf (recipe, sizeof recipe, "%s v%u", c->recipe_id, (unsigned) c->recipe_version);
        fhir_extension (r, "recipe", "valueString", json_string (recipe));
    }
    json_object_set_new (r, "status", json_string (status));
    json_object_set_new (r, "intent", json_string ("plan"));
    snprintf (title, sizeof title, "Mesotherapy course, cellulite grade %d", (int) c->grade);
    json_object_set_new (r, "title", json_string (title));
    int n = snprintf (desc, sizeof desc, "%u sessions planned", (unsigned) planned);
    if (maintenance)
        n += snprintf (desc + n, sizeof desc - (size_t) n, " and %u maintenance", (unsigned) maintenance);
    for (size_t i = 0; i < c->n_areas && (size_t) n < sizeof desc; i++)
        n += snprintf (desc + n, sizeof desc - (size_t) n, "%s%s", i ? ", " : "; areas: ", c->areas[i]);
    json_object_set_new (r, "description", json_string (desc));
    json_object_set_new (r, "subject", fhir_ref ("Patient", c->patient_id));
    if (first) {
        json_t *period = json_object ();
        s_instant (period, "start", first);
        s_instant (period, "end", last);
        json_object_set_new (r, "period", period);
    }
    json_object_set_new (r, "author", fhir_ref ("Organization", c->clinic_id));
    if (c->n_sessions) {
        json_t *acts = json_array ();
        for (size_t i = 0; i < c->n_sessions; i++)
            json_array_append_new (acts, json_pack ("{s:o}", "reference",
                                                    fhir_ref ("Appointment", c->sessions[i]->appointment_id)));
        json_object_set_new (r, "activity", acts);
    }
    return r;
}

json_t *
fhir_appointment (const Meso__V1__BookedCourse *c, const Meso__V1__Session *s, char *why, size_t size)
{
    const char *status = fhir_appointment_status (fhir_field_session_status (s));
    if (!status) {
        snprintf (why, size, "session %s: status \"%s\" has no Appointment status", s->appointment_id,
                  fhir_field_session_status (s));
        return NULL;
    }
    char id[FHIR_ID_SIZE], desc[300];
    json_t *r = s_resource ("Appointment", fhir_id ("Appointment", s->appointment_id, id));
    fhir_extension (r, "session-number", "valuePositiveInt", json_integer (s->session_number ? s->session_number : 1));
    fhir_extension (r, "maintenance", "valueBoolean", json_boolean (s->maintenance));
    if (s->outcome_case == MESO__V1__SESSION__OUTCOME_IMPROVEMENT_SCORE && fhir_session_ended (fhir_field_session_status (s)))
        fhir_extension (r, "improvement-score", "valueInteger", json_integer (s->improvement_score));
    for (size_t i = 0; i < s->n_areas; i++)
        fhir_extension (r, "treatment-area", "valueCode", json_string (s->areas[i]));
    fhir_extension (r, "clinic", "valueReference", fhir_ref ("Organization", s->clinic_id));
    if (s->room_id && *s->room_id)
        fhir_extension (r, "room", "valueString", json_string (s->room_id));
    json_object_set_new (r, "status", json_string (status));
    snprintf (desc, sizeof desc, "%s session %u of %zu (local %s %s)",
              s->maintenance ? "Maintenance" : "Mesotherapy", (unsigned) s->session_number,
              c ? c->n_sessions : (size_t) 1, s->local_start ? s->local_start : "", s->time_zone ? s->time_zone : "");
    json_object_set_new (r, "description", json_string (desc));
    if (s->starts_at_us && s->ends_at_us > s->starts_at_us) {
        s_instant (r, "start", s->starts_at_us);
        s_instant (r, "end", s->ends_at_us);
        json_object_set_new (r, "minutesDuration",
                             json_integer ((s->ends_at_us - s->starts_at_us) / 60000000));
    }
    if (c)
        json_object_set_new (r, "supportingInformation", json_pack ("[o]", fhir_ref ("CarePlan", c->course_id)));
    json_t *parts = json_array ();
    json_array_append_new (parts, json_pack ("{s:o,s:s,s:s}", "actor", fhir_ref ("Patient", s->patient_id),
                                             "required", "required", "status", "accepted"));
    if (s->practitioner_id && *s->practitioner_id)
        json_array_append_new (parts, json_pack ("{s:o,s:s,s:s}", "actor",
                                                 fhir_ref ("Practitioner", s->practitioner_id), "required",
                                                 "required", "status", "accepted"));
    json_object_set_new (r, "participant", parts);
    return r;
}

json_t *
fhir_medication (const Meso__V1__IngredientAmount *a, const char *expiry)
{
    char id[FHIR_ID_SIZE];
    json_t *r = s_resource ("Medication", fhir_id ("Medication", a->lot_id, id));
    json_object_set_new (r, "code", fhir_concept (FHIR_SYS_INGREDIENT, a->ingredient_code, NULL,
                                                  a->ingredient_code));
    json_t *batch = json_object ();
    fhir_set_str (batch, "lotNumber", a->lot_number);
    fhir_set_str (batch, "expirationDate", fhir_date (expiry));
    json_object_set_new (r, "batch", batch);
    return r;
}

json_t *
fhir_administration (const Meso__V1__Reservation *res, const Meso__V1__IngredientAmount *a,
                     const Meso__V1__Session *session, char *why, size_t size)
{
    const char *ucum = fhir_ucum_unit (fhir_field_amount_unit (a));
    if (!ucum) {
        snprintf (why, size, "appointment %s: unit \"%s\" of %s has no UCUM code", res->appointment_id,
                  fhir_field_amount_unit (a), a->ingredient_code);
        return NULL;
    }
    char id[FHIR_ID_SIZE];
    const char *parts[] = { res->appointment_id, a->lot_id };
    json_t *r = s_resource ("MedicationAdministration", fhir_id_of ("MedicationAdministration", parts, 2, id));
    json_object_set_new (r, "status", json_string ("completed"));
    json_object_set_new (r, "medicationReference", fhir_ref ("Medication", a->lot_id));
    json_object_set_new (r, "subject", fhir_ref ("Patient", res->patient_id));
    if (session && session->starts_at_us)
        s_instant (r, "effectiveDateTime", session->starts_at_us);
    else
        fhir_set_str (r, "effectiveDateTime", fhir_date (res->session_date));
    if (session && session->practitioner_id && *session->practitioner_id)
        json_object_set_new (r, "performer", json_pack ("[{s:o}]", "actor",
                                                        fhir_ref ("Practitioner", session->practitioner_id)));
    if (session)
        json_object_set_new (r, "supportingInformation",
                             json_pack ("[o]", fhir_ref ("Appointment", res->appointment_id)));
    json_t *dose = json_object ();
    json_object_set_new (dose, "value", fhir_decimal_milli (a->amount_milli));
    json_object_set_new (dose, "unit", json_string (ucum));
    json_object_set_new (dose, "system", json_string (FHIR_UCUM));
    json_object_set_new (dose, "code", json_string (ucum));
    json_t *dosage = json_object ();
    json_object_set_new (dosage, "route", fhir_concept (SYS_ROUTE, "IDINJ", "Injection, intradermal", NULL));
    json_object_set_new (dosage, "dose", dose);
    json_object_set_new (r, "dosage", dosage);
    return r;
}
