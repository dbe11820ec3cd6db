/* fhir_bundle.c -- the four ExportPatient replies as one FHIR R4 Bundle
 * (fhir.h).
 *
 * Type "collection": a set of resources for the receiver to store, with no
 * Composition to lead it (a "document" Bundle needs one, with sections
 * and an author, and promises a signed, unchangeable document, which this
 * export is not). Every entry has a fullUrl, <base>/<Type>/<id>, so the
 * relative references inside the resources ("Patient/<id>") resolve to
 * the entries by the rules of Bundle resolution; each resource appears
 * once, however often it is referenced (a clinic, a practitioner, a lot
 * used by two sessions).
 *
 * Order: Patient first, then screening's records (allergies, conditions,
 * consents), the courses (CarePlan, then its appointments), what was
 * administered (Medication, MedicationAdministration), the invoices; an
 * Organization or Practitioner comes just before the first resource that
 * names it (the home clinic just after the Patient).
 *
 * Refused (NULL with why): an erased patient (their data key is gone: the
 * names read "[erased]"; a FHIR record of placeholders would be mistaken
 * for a person), a status the mapping tables do not know, a consumed lot
 * whose expiry date is not in the lots given. */
#include <stdio.h>
#include <string.h>

#include "fhir.h"

typedef struct {
    json_t *entries;
    json_t *seen;               /* "Type/id" -> true */
    const char *base;
} s_bundle_t;

/* Adds resource r (taken) unless one of its type and id is there. */
static void
s_add (s_bundle_t *b, json_t *r)
{
    char key[160], url[400];
    snprintf (key, sizeof key, "%s/%s", json_string_value (json_object_get (r, "resourceType")),
              json_string_value (json_object_get (r, "id")));
    if (json_object_get (b->seen, key)) {
        json_decref (r);
        return;
    }
    json_object_set_new (b->seen, key, json_true ());
    snprintf (url, sizeof url, "%s/%s", b->base, key);
    json_array_append_new (b->entries, json_pack ("{s:s,s:o}", "fullUrl", url, "resource", r));
}

static void
s_clinic (s_bundle_t *b, const char *clinic_id)
{
    if (clinic_id && *clinic_id)
        s_add (b, fhir_organization (clinic_id));
}

static const Meso__V1__Session *
s_session (const Meso__V1__SchedulingExportPatientReply *sch, const char *appointment_id)
{
    for (size_t i = 0; sch && i < sch->n_courses; i++)
        for (size_t k = 0; k < sch->courses[i]->n_sessions; k++)
            if (strcmp (sch->courses[i]->sessions[k]->appointment_id, appointment_id) == 0)
                return sch->courses[i]->sessions[k];
    return NULL;
}

static const char *
s_expiry (const fhir_input_t *in, const char *lot_id)
{
    for (size_t i = 0; i < in->nlots; i++)
        if (in->lots[i].lot_id && strcmp (in->lots[i].lot_id, lot_id) == 0)
            return in->lots[i].expiry_date;
    return NULL;
}

size_t
fhir_used_lots (const Meso__V1__InventoryExportPatientReply *inv, fhir_used_lot_t *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; inv && i < inv->n_reservations; i++) {
        const Meso__V1__Reservation *r = inv->reservations[i];
        if (!fhir_reservation_consumed (fhir_field_reservation_status (r)))
            continue;
        for (size_t k = 0; k < r->n_consumed; k++) {
            const Meso__V1__IngredientAmount *a = r->consumed[k];
            bool dup = false;
            for (size_t j = 0; j < n && j < max && !dup; j++)
                dup = strcmp (out[j].line->lot_id, a->lot_id) == 0;
            if (dup)
                continue;
            if (n < max) {
                out[n].clinic_id = r->clinic_id;
                out[n].line = a;
            }
            n++;
        }
    }
    return n;
}

static int
s_screening (s_bundle_t *b, const Meso__V1__ScreeningExportPatientReply *scr)
{
    const char *patient = scr->patient->id;
    /* The allergies of the newest screening still readable: the patient's
     * current declaration (an older screening's list was replaced). */
    const Meso__V1__Screening *now = NULL;
    for (size_t i = scr->n_screenings; i-- > 0 && !now;)
        if (!scr->screenings[i]->erased)
            now = scr->screenings[i];
    if (now && now->answers)
        for (size_t k = 0; k < now->answers->n_allergies; k++)
            s_add (b, fhir_allergy (patient, now, now->answers->allergies[k]));
    for (size_t i = 0; i < scr->n_screenings; i++) {
        const Meso__V1__Screening *s = scr->screenings[i];
        for (size_t k = 0; k < s->n_reasons; k++)
            s_add (b, fhir_condition (patient, s, k, s == now));
    }
    for (size_t i = 0; i < scr->n_consents; i++) {
        s_clinic (b, scr->consents[i]->clinic_id);
        s_add (b, fhir_consent (scr->consents[i]));
    }
    return 0;
}

static int
s_courses (s_bundle_t *b, const Meso__V1__SchedulingExportPatientReply *sch, char *why, size_t size)
{
    for (size_t i = 0; sch && i < sch->n_courses; i++) {
        const Meso__V1__BookedCourse *c = sch->courses[i];
        s_clinic (b, c->clinic_id);
        json_t *plan = fhir_careplan (c, why, size);
        if (!plan)
            return -1;
        s_add (b, plan);
        for (size_t k = 0; k < c->n_sessions; k++) {
            const Meso__V1__Session *s = c->sessions[k];
            s_clinic (b, s->clinic_id);
            if (s->practitioner_id && *s->practitioner_id)
                s_add (b, fhir_practitioner (s->practitioner_id));
            json_t *appt = fhir_appointment (c, s, why, size);
            if (!appt)
                return -1;
            s_add (b, appt);
        }
    }
    return 0;
}

static int
s_administered (s_bundle_t *b, const fhir_input_t *in, char *why, size_t size)
{
    const Meso__V1__InventoryExportPatientReply *inv = in->inventory;
    for (size_t i = 0; inv && i < inv->n_reservations; i++) {
        const Meso__V1__Reservation *r = inv->reservations[i];
        if (!fhir_reservation_consumed (fhir_field_reservation_status (r)))
            continue;
        const Meso__V1__Session *s = s_session (in->scheduling, r->appointment_id);
        for (size_t k = 0; k < r->n_consumed; k++) {
            const Meso__V1__IngredientAmount *a = r->consumed[k];
            const char *expiry = a->lot_expiry_date && *a->lot_expiry_date ? a->lot_expiry_date
                                                                            : s_expiry (in, a->lot_id);
            if (!expiry || !fhir_date (expiry)) {
                snprintf (why, size, "lot %s (%s, lot number %s) used for appointment %s: its expiry date "
                          "is not known", a->lot_id, a->ingredient_code, a->lot_number, r->appointment_id);
                return -1;
            }
            s_add (b, fhir_medication (a, expiry));
            json_t *adm = fhir_administration (r, a, s, why, size);
            if (!adm)
                return -1;
            s_add (b, adm);
        }
    }
    return 0;
}

static int
s_invoices (s_bundle_t *b, const Meso__V1__BillingExportPatientReply *bil, char *why, size_t size)
{
    for (size_t i = 0; bil && i < bil->n_invoices; i++) {
        s_clinic (b, bil->invoices[i]->clinic_id);
        json_t *inv = fhir_invoice (bil->invoices[i], why, size);
        if (!inv)
            return -1;
        s_add (b, inv);
    }
    return 0;
}

json_t *
fhir_bundle (const fhir_input_t *in, char *why, size_t size)
{
    const Meso__V1__ScreeningExportPatientReply *scr = in->screening;
    if (!scr || !scr->patient || !scr->patient->id || !*scr->patient->id) {
        snprintf (why, size, "screening's export holds no patient");
        return NULL;
    }
    const Meso__V1__Patient *p = scr->patient;
    if (p->erased) {
        snprintf (why, size, "patient %s was erased (screening.ErasePatient): their personal and "
                  "health data are unreadable, so no FHIR record is made", p->id);
        return NULL;
    }
    s_bundle_t b = { json_array (), json_object (), in->base_url && *in->base_url ? in->base_url
                                                                                  : FHIR_BASE_DEFAULT };
    s_add (&b, fhir_patient (p));
    s_clinic (&b, p->home_clinic_id);
    int rc = s_screening (&b, scr);
    if (rc == 0)
        rc = s_courses (&b, in->scheduling, why, size);
    if (rc == 0)
        rc = s_administered (&b, in, why, size);
    if (rc == 0)
        rc = s_invoices (&b, in->billing, why, size);
    json_decref (b.seen);
    if (rc != 0) {
        json_decref (b.entries);
        return NULL;
    }
    char id[FHIR_ID_SIZE], at[40], stamp[32];
    fhir_instant (in->generated_at_us, at, sizeof at);
    snprintf (stamp, sizeof stamp, "%lld", (long long) in->generated_at_us);
    const char *parts[] = { p->id, stamp };
    json_t *bundle = json_pack ("{s:s,s:s}", "resourceType", "Bundle", "id", fhir_id_of ("Bundle", parts, 2, id));
    json_object_set_new (bundle, "identifier",
                         json_pack ("{s:s,s:s}", "system", "urn:meso:v1:fhir-export", "value", id));
    json_object_set_new (bundle, "type", json_string ("collection"));
    json_object_set_new (bundle, "timestamp", json_string (at));
    json_object_set_new (bundle, "entry", b.entries);
    return bundle;
}
