/* test_fhir_bundle.c -- the Bundle of the FHIR R4 export (services/
 * mesoctl/fhir_bundle.c and the resources it gathers; pure), from
 * export replies made by hand: each resource once (a lot shared by two
 * sessions is one Medication), every reference resolving to an entry's
 * fullUrl, the Patient first, and refusals with the reason named (an
 * erased patient, a status the tables do not know, a lot without expiry). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "mesoctl/fhir.h"

#define PAT "6f1c0a7e-2b1d-4c3e-9f00-0a1b2c3d4e5f"

typedef struct {
    Meso__V1__Patient patient;
    Meso__V1__Screening screening, *screenings[1];
    Meso__V1__Questionnaire answers;
    char *allergies[2];
    Meso__V1__Reason reason, *reasons[1];
    Meso__V1__ScreeningExportPatientReply scr;
    Meso__V1__Session sessions[2], *sp[2];
    Meso__V1__BookedCourse course, *cp[1];
    Meso__V1__SchedulingExportPatientReply sch;
    Meso__V1__IngredientAmount used[2], *up[2][1];
    Meso__V1__Reservation resv[2], *rp[2];
    Meso__V1__InventoryExportPatientReply inv;
    Meso__V1__InvoiceLine line, *lp[1];
    Meso__V1__Invoice invoice, *ip[1];
    Meso__V1__BillingExportPatientReply bil;
    fhir_lot_t lots[1];
    fhir_input_t in;
} s_history_t;

/* A patient allergic to lidocaine, two completed sessions of one course
 * both served from lot CAF-1, one invoice. */
static void
s_history (s_history_t *h)
{
    memset (h, 0, sizeof *h);
    meso__v1__patient__init (&h->patient);
    h->patient.id = PAT;
    h->patient.given_name = "Ana";
    h->patient.family_name = "Lopez";
    h->patient.birth_date = "1990-05-04";
    h->patient.sex = MESO__V1__SEX__SEX_FEMALE;
    h->patient.home_clinic_id = "par";
    meso__v1__questionnaire__init (&h->answers);
    h->allergies[0] = "lidocaine";
    h->answers.allergies = h->allergies;
    h->answers.n_allergies = 1;
    meso__v1__reason__init (&h->reason);
    h->reason.code = "allergy_declared";
    h->reason.message = "allergy declared: lidocaine";
    h->reasons[0] = &h->reason;
    meso__v1__screening__init (&h->screening);
    h->screening.id = "0b7e8c4e-94c5-4a53-8a32-fb1c3c2b8f1e";
    h->screening.patient_id = PAT;
    h->screening.clinic_id = "par";
    h->screening.screened_on = "2026-11-01";
    h->screening.screened_at_us = INT64_C (1793534400) * 1000000;
    h->screening.answers = &h->answers;
    h->screening.verdict = MESO__V1__VERDICT__VERDICT_ELIGIBLE_WITH_PRECAUTIONS;
    h->screening.reasons = h->reasons;
    h->screening.n_reasons = 1;
    h->screenings[0] = &h->screening;
    meso__v1__screening_export_patient_reply__init (&h->scr);
    h->scr.patient = &h->patient;
    h->scr.screenings = h->screenings;
    h->scr.n_screenings = 1;
    for (int i = 0; i < 2; i++) {
        Meso__V1__Session *s = &h->sessions[i];
        meso__v1__session__init (s);
        s->appointment_id = i ? "a2" : "a1";
        s->course_id = "c1";
        s->patient_id = PAT;
        s->clinic_id = "par";
        s->practitioner_id = "dr-a";
        s->room_id = "r1";
        s->starts_at_us = (INT64_C (1793782800) + i * 7 * 86400) * 1000000;
        s->ends_at_us = s->starts_at_us + INT64_C (3600) * 1000000;
        s->session_number = (uint32_t) i + 1;
        s->status = MESO__V1__SESSION_STATUS__SESSION_STATUS_COMPLETED;
        s->improvement_score = 1;
        h->sp[i] = s;
        Meso__V1__IngredientAmount *a = &h->used[i];
        meso__v1__ingredient_amount__init (a);
        a->ingredient_code = "caffeine";
        a->unit = MESO__V1__UNIT__UNIT_MG;
        a->amount_milli = 100000;
        a->lot_id = "fd2551cb-826a-4ab1-a4ba-bbc4fee2e8d2";
        a->lot_number = "CAF-1";
        h->up[i][0] = a;
        Meso__V1__Reservation *r = &h->resv[i];
        meso__v1__reservation__init (r);
        r->clinic_id = "par";
        r->appointment_id = s->appointment_id;
        r->patient_id = PAT;
        r->session_date = "2026-11-04";
        r->status = MESO__V1__RESERVATION_STATUS__RESERVATION_STATUS_CONSUMED;
        r->consumed = h->up[i];
        r->n_consumed = 1;
        h->rp[i] = r;
    }
    meso__v1__booked_course__init (&h->course);
    h->course.course_id = "c1";
    h->course.clinic_id = "par";
    h->course.patient_id = PAT;
    h->course.grade = 2;
    h->course.status = MESO__V1__COURSE_STATUS__COURSE_STATUS_BOOKED;
    h->course.sessions = h->sp;
    h->course.n_sessions = 2;
    h->cp[0] = &h->course;
    meso__v1__scheduling_export_patient_reply__init (&h->sch);
    h->sch.courses = h->cp;
    h->sch.n_courses = 1;
    meso__v1__inventory_export_patient_reply__init (&h->inv);
    h->inv.reservations = h->rp;
    h->inv.n_reservations = 2;
    meso__v1__invoice_line__init (&h->line);
    h->line.description = "session, 1 area";
    h->line.amount_cents = 40000;
    h->line.net_cents = 33333;
    h->line.tax_cents = 6667;
    h->line.tax_rate_ppm = 200000;
    h->lp[0] = &h->line;
    meso__v1__invoice__init (&h->invoice);
    h->invoice.clinic_id = "par";
    h->invoice.invoice_id = "i1";
    h->invoice.patient_id = PAT;
    h->invoice.currency = "EUR";
    h->invoice.total_cents = 40000;
    h->invoice.net_cents = 33333;
    h->invoice.tax_cents = 6667;
    h->invoice.kind = MESO__V1__INVOICE_KIND__INVOICE_KIND_SESSION;
    h->invoice.lines = h->lp;
    h->invoice.n_lines = 1;
    h->invoice.due_cents = 40000;
    h->ip[0] = &h->invoice;
    meso__v1__billing_export_patient_reply__init (&h->bil);
    h->bil.invoices = h->ip;
    h->bil.n_invoices = 1;
    h->lots[0].lot_id = "fd2551cb-826a-4ab1-a4ba-bbc4fee2e8d2";
    h->lots[0].expiry_date = "2028-10-29";
    h->in.screening = &h->scr;
    h->in.scheduling = &h->sch;
    h->in.inventory = &h->inv;
    h->in.billing = &h->bil;
    h->in.lots = h->lots;
    h->in.nlots = 1;
    h->in.base_url = "https://fhir.example.org/r4";
    h->in.generated_at_us = INT64_C (1795942800) * 1000000;
}

static size_t
s_count (json_t *bundle, const char *type)
{
    size_t n = 0, i;
    json_t *e;
    json_array_foreach (json_object_get (bundle, "entry"), i, e)
        n += strcmp (json_string_value (json_object_get (json_object_get (e, "resource"), "resourceType")), type)
             == 0;
    return n;
}

static json_t *
s_first (json_t *bundle, const char *type)
{
    size_t i;
    json_t *e;
    json_array_foreach (json_object_get (bundle, "entry"), i, e) {
        json_t *r = json_object_get (e, "resource");
        if (strcmp (json_string_value (json_object_get (r, "resourceType")), type) == 0)
            return r;
    }
    return NULL;
}

/* Every "reference" under node is the fullUrl of an entry. */
static void
s_refs_resolve (json_t *bundle, json_t *node)
{
    const char *key;
    json_t *v;
    size_t i;
    if (json_is_object (node)) {
        json_object_foreach (node, key, v) {
            if (strcmp (key, "reference") == 0 && json_is_string (v)) {
                char url[300];
                snprintf (url, sizeof url, "https://fhir.example.org/r4/%s", json_string_value (v));
                bool found = false;
                json_t *e;
                json_array_foreach (json_object_get (bundle, "entry"), i, e)
                    found |= strcmp (json_string_value (json_object_get (e, "fullUrl")), url) == 0;
                if (!found)
                    fail_msg ("unresolved reference %s", json_string_value (v));
            }
            else
                s_refs_resolve (bundle, v);
        }
    }
    else if (json_is_array (node))
        json_array_foreach (node, i, v)
            s_refs_resolve (bundle, v);
}

static void
test_bundle_holds_each_resource_once_and_resolves (void **state)
{
    (void) state;
    s_history_t h;
    s_history (&h);
    char why[300] = "";
    json_t *b = fhir_bundle (&h.in, why, sizeof why);
    assert_non_null (b);
    assert_string_equal (json_string_value (json_object_get (b, "type")), "collection");
    assert_string_equal (json_string_value (json_object_get (b, "timestamp")), "2026-11-29T09:00:00Z");
    json_t *first = json_array_get (json_object_get (b, "entry"), 0);
    assert_string_equal (json_string_value (json_object_get (first, "fullUrl")),
                         "https://fhir.example.org/r4/Patient/" PAT);
    assert_int_equal (s_count (b, "Patient"), 1);
    assert_int_equal (s_count (b, "Organization"), 1);     /* par, named five times */
    assert_int_equal (s_count (b, "Practitioner"), 1);
    assert_int_equal (s_count (b, "AllergyIntolerance"), 1);
    assert_int_equal (s_count (b, "Condition"), 1);
    assert_int_equal (s_count (b, "CarePlan"), 1);
    assert_int_equal (s_count (b, "Appointment"), 2);
    assert_int_equal (s_count (b, "Medication"), 1);       /* one lot, two sessions */
    assert_int_equal (s_count (b, "MedicationAdministration"), 2);
    assert_int_equal (s_count (b, "Invoice"), 1);
    s_refs_resolve (b, b);
    /* Every session over: the course is completed. */
    assert_string_equal (json_string_value (json_object_get (s_first (b, "CarePlan"), "status")), "completed");
    json_t *med = json_object_get (s_first (b, "Medication"), "batch");
    assert_string_equal (json_string_value (json_object_get (med, "lotNumber")), "CAF-1");
    assert_string_equal (json_string_value (json_object_get (med, "expirationDate")), "2028-10-29");
    json_t *inv = s_first (b, "Invoice");
    assert_string_equal (json_string_value (json_object_get (inv, "status")), "issued");
    json_t *gross = json_object_get (inv, "totalGross");
    assert_int_equal (json_integer_value (json_object_get (gross, "value")), 400);
    assert_string_equal (json_string_value (json_object_get (gross, "currency")), "EUR");
    json_t *tax = json_array_get (json_object_get (json_array_get (json_object_get (inv, "lineItem"), 0),
                                                   "priceComponent"), 1);
    assert_true (json_real_value (json_object_get (tax, "factor")) == 0.2);
    json_decref (b);
}

static void
test_bundle_refusals_name_the_reason (void **state)
{
    (void) state;
    s_history_t h;
    char why[300];
    s_history (&h);
    h.patient.erased = true;
    assert_null (fhir_bundle (&h.in, why, sizeof why));
    assert_non_null (strstr (why, "was erased"));
    s_history (&h);
    h.sessions[1].status = (Meso__V1__SessionStatus) 99;   /* not in this build's contract */
    assert_null (fhir_bundle (&h.in, why, sizeof why));
    assert_non_null (strstr (why, "session a2: status \"unspecified\""));
    s_history (&h);
    h.in.nlots = 0;
    assert_null (fhir_bundle (&h.in, why, sizeof why));
    assert_non_null (strstr (why, "CAF-1"));
    assert_non_null (strstr (why, "expiry date"));
    s_history (&h);
    h.invoice.kind = MESO__V1__INVOICE_KIND__INVOICE_KIND_UNSPECIFIED;
    assert_null (fhir_bundle (&h.in, why, sizeof why));
    assert_non_null (strstr (why, "kind \"unspecified\""));
    s_history (&h);
    h.used[0].unit = MESO__V1__UNIT__UNIT_UNSPECIFIED;
    assert_null (fhir_bundle (&h.in, why, sizeof why));
    assert_non_null (strstr (why, "unit \"unspecified\""));
}

static void
test_used_lots_once_each (void **state)
{
    (void) state;
    s_history_t h;
    s_history (&h);
    fhir_used_lot_t used[4];
    assert_int_equal (fhir_used_lots (&h.inv, used, 4), 1);
    assert_string_equal (used[0].clinic_id, "par");
    assert_string_equal (used[0].line->lot_number, "CAF-1");
    /* Held stock was not used. */
    h.resv[0].status = MESO__V1__RESERVATION_STATUS__RESERVATION_STATUS_HELD;
    h.resv[1].status = MESO__V1__RESERVATION_STATUS__RESERVATION_STATUS_RELEASED;
    assert_int_equal (fhir_used_lots (&h.inv, used, 4), 0);
    char why[300];
    json_t *b = fhir_bundle (&h.in, why, sizeof why);
    assert_non_null (b);
    assert_int_equal (s_count (b, "Medication"), 0);
    json_decref (b);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_bundle_holds_each_resource_once_and_resolves),
        cmocka_unit_test (test_bundle_refusals_name_the_reason),
        cmocka_unit_test (test_used_lots_once_each),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
