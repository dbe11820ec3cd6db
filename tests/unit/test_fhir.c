/* test_fhir.c -- the pieces of the FHIR R4 export (services/mesoctl/
 * fhir_fields.c, fhir_ids.c; pure): every status mapping of the README's
 * tables and what an unknown value gives, ids (kept, hashed, stable,
 * unambiguous), instants, dates, money and quantities as exact decimals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mesoctl/fhir.h"

static void
test_appointment_status_table (void **state)
{
    (void) state;
    const char *table[][2] = {
        { "pending", "pending" },     { "booked", "booked" },       { "on_hold", "pending" },
        { "started", "arrived" },     { "completed", "fulfilled" }, { "cancelled", "cancelled" },
        { "no_show", "noshow" },
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        assert_string_equal (fhir_appointment_status (table[i][0]), table[i][1]);
    assert_null (fhir_appointment_status ("rescheduled"));
    assert_null (fhir_appointment_status (""));
    assert_null (fhir_appointment_status (NULL));
    assert_true (fhir_session_ended ("completed"));
    assert_true (fhir_session_ended ("cancelled"));
    assert_true (fhir_session_ended ("no_show"));
    assert_false (fhir_session_ended ("booked"));
    assert_false (fhir_session_ended ("started"));
}

static void
test_careplan_status_table (void **state)
{
    (void) state;
    assert_string_equal (fhir_careplan_status ("pending", false), "draft");
    assert_string_equal (fhir_careplan_status ("booked", false), "active");
    assert_string_equal (fhir_careplan_status ("booked", true), "completed");
    assert_string_equal (fhir_careplan_status ("failed", false), "revoked");
    assert_string_equal (fhir_careplan_status ("failed", true), "revoked");
    assert_null (fhir_careplan_status ("done", true));
}

static void
test_invoice_status_and_kind (void **state)
{
    (void) state;
    assert_string_equal (fhir_invoice_status (40000, 0, 40000), "issued");
    assert_string_equal (fhir_invoice_status (40000, 0, 10000), "issued");     /* part paid */
    assert_string_equal (fhir_invoice_status (40000, 0, 0), "balanced");
    assert_string_equal (fhir_invoice_status (40000, 40000, 0), "cancelled");
    assert_string_equal (fhir_invoice_status (40000, 40000, -40000), "cancelled"); /* paid, then credited */
    assert_string_equal (fhir_invoice_status (40000, 5000, 35000), "issued");  /* part credited */
    assert_string_equal (fhir_invoice_kind_display ("session"), "Session performed");
    assert_string_equal (fhir_invoice_kind_display ("package"), "Package of sessions");
    assert_string_equal (fhir_invoice_kind_display ("fee"), "Cancellation or no-show fee");
    assert_string_equal (fhir_invoice_kind_display ("manual"), "Manual invoice");
    assert_null (fhir_invoice_kind_display ("refund"));
    assert_string_equal (fhir_ucum_unit ("mg"), "mg");
    assert_string_equal (fhir_ucum_unit ("ml"), "mL");
    assert_null (fhir_ucum_unit ("g"));
    assert_true (fhir_reservation_consumed ("consumed"));
    assert_false (fhir_reservation_consumed ("held"));
    assert_false (fhir_reservation_consumed ("released"));
}

static void
test_field_readers_give_the_lowercase_values (void **state)
{
    (void) state;
    Meso__V1__Session s = MESO__V1__SESSION__INIT;
    s.status = MESO__V1__SESSION_STATUS__SESSION_STATUS_NO_SHOW;
    assert_string_equal (fhir_field_session_status (&s), "no_show");
    Meso__V1__BookedCourse c = MESO__V1__BOOKED_COURSE__INIT;
    c.status = MESO__V1__COURSE_STATUS__COURSE_STATUS_BOOKED;
    assert_string_equal (fhir_field_course_status (&c), "booked");
    Meso__V1__Invoice i = MESO__V1__INVOICE__INIT;
    i.kind = MESO__V1__INVOICE_KIND__INVOICE_KIND_FEE;
    assert_string_equal (fhir_field_invoice_kind (&i), "fee");
    Meso__V1__Reservation r = MESO__V1__RESERVATION__INIT;
    r.status = MESO__V1__RESERVATION_STATUS__RESERVATION_STATUS_CONSUMED;
    assert_string_equal (fhir_field_reservation_status (&r), "consumed");
    Meso__V1__IngredientAmount a = MESO__V1__INGREDIENT_AMOUNT__INIT;
    a.unit = MESO__V1__UNIT__UNIT_ML;
    assert_string_equal (fhir_field_amount_unit (&a), "ml");
    a.unit = (Meso__V1__Unit) 99;       /* a value this build does not know */
    assert_string_equal (fhir_field_amount_unit (&a), "unspecified");
}

static void
test_ids_kept_or_hashed (void **state)
{
    (void) state;
    char id[FHIR_ID_SIZE], again[FHIR_ID_SIZE];
    /* A UUID and a clinic id are valid FHIR ids: kept. */
    assert_string_equal (fhir_id ("Patient", "6f1c0a7e-2b1d-4c3e-9f00-0a1b2c3d4e5f", id),
                         "6f1c0a7e-2b1d-4c3e-9f00-0a1b2c3d4e5f");
    assert_string_equal (fhir_id ("Organization", "par", id), "par");
    /* An underscore, or more than 64 bytes: hashed, "h-" and 40 hex. */
    fhir_id ("Organization", "paris_1", id);
    assert_int_equal (strlen (id), 42);
    assert_memory_equal (id, "h-", 2);
    assert_true (fhir_id_valid (id));
    assert_string_equal (fhir_id ("Organization", "paris_1", again), id);     /* stable */
    assert_string_not_equal (fhir_id ("Practitioner", "paris_1", again), id); /* per type */
    char longid[80];
    memset (longid, 'a', 65);
    longid[65] = 0;
    assert_false (fhir_id_valid (longid));
    assert_true (fhir_id_valid (fhir_id ("Patient", longid, id)));
    assert_false (fhir_id_valid (""));
    assert_false (fhir_id_valid ("a b"));
    assert_true (fhir_id_valid ("A.b-9"));
    /* Parts are not ambiguous: ("a", "bc") is not ("ab", "c"). */
    const char *p1[] = { "a", "bc" }, *p2[] = { "ab", "c" };
    assert_string_not_equal (fhir_id_of ("Condition", p1, 2, id), fhir_id_of ("Condition", p2, 2, again));
    assert_string_equal (fhir_id_of ("Condition", p1, 2, id), fhir_id_of ("Condition", p1, 2, again));
    json_t *ref = fhir_ref ("Patient", "abc");
    assert_string_equal (json_string_value (json_object_get (ref, "reference")), "Patient/abc");
    json_decref (ref);
}

static void
test_instants_and_dates (void **state)
{
    (void) state;
    char at[40];
    fhir_instant (0, at, sizeof at);
    assert_string_equal (at, "1970-01-01T00:00:00Z");
    /* 2026-11-29 09:00:00 UTC. */
    fhir_instant (INT64_C (1795942800) * 1000000, at, sizeof at);
    assert_string_equal (at, "2026-11-29T09:00:00Z");
    fhir_instant (INT64_C (1795942800) * 1000000 + 250000, at, sizeof at);
    assert_string_equal (at, "2026-11-29T09:00:00.250000Z");
    fhir_instant (-1000000, at, sizeof at);
    assert_string_equal (at, "1969-12-31T23:59:59Z");
    assert_string_equal (fhir_date ("2028-10-29"), "2028-10-29");
    assert_null (fhir_date ("2028-02-30"));
    assert_null (fhir_date ("29/10/2028"));
    assert_null (fhir_date (""));
    assert_null (fhir_date (NULL));
}

/* v dumped as the export dumps it. */
static void
s_dumps (json_t *v, const char *want)
{
    json_t *wrap = json_pack ("{s:o}", "v", v);
    char *text = json_dumps (wrap, JSON_COMPACT | JSON_REAL_PRECISION (15));
    assert_non_null (text);
    assert_string_equal (text, want);
    free (text);
    json_decref (wrap);
}

static void
test_money_and_quantities_are_exact_decimals (void **state)
{
    (void) state;
    s_dumps (fhir_money (40000, "USD"), "{\"v\":{\"value\":400,\"currency\":\"USD\"}}");
    s_dumps (fhir_money (4550, "EUR"), "{\"v\":{\"value\":45.5,\"currency\":\"EUR\"}}");
    s_dumps (fhir_money (12345, "USD"), "{\"v\":{\"value\":123.45,\"currency\":\"USD\"}}");
    s_dumps (fhir_money (1, "USD"), "{\"v\":{\"value\":0.01,\"currency\":\"USD\"}}");
    s_dumps (fhir_money (-4010, "USD"), "{\"v\":{\"value\":-40.1,\"currency\":\"USD\"}}");
    s_dumps (fhir_money (10000000099, "USD"), "{\"v\":{\"value\":100000000.99,\"currency\":\"USD\"}}");
    s_dumps (fhir_decimal_milli (100000), "{\"v\":100}");
    s_dumps (fhir_decimal_milli (1500), "{\"v\":1.5}");
    s_dumps (fhir_decimal_milli (1), "{\"v\":0.001}");
    s_dumps (fhir_decimal_milli (123456789), "{\"v\":123456.789}");
}

static void
test_concepts_and_empty_strings (void **state)
{
    (void) state;
    json_t *o = json_object ();
    fhir_set_str (o, "a", "");
    fhir_set_str (o, "b", NULL);
    fhir_set_str (o, "c", "x");
    assert_int_equal (json_object_size (o), 1);
    json_decref (o);
    s_dumps (fhir_concept (FHIR_SYS_INGREDIENT, "caffeine", NULL, "caffeine"),
             "{\"v\":{\"coding\":[{\"system\":\"urn:meso:v1:ingredient\",\"code\":\"caffeine\"}],"
             "\"text\":\"caffeine\"}}");
    o = json_object ();
    fhir_extension (o, "course-grade", "valueInteger", json_integer (2));
    fhir_extension (o, "non-responder", "valueBoolean", json_false ());
    s_dumps (o, "{\"v\":{\"extension\":[{\"url\":\"urn:meso:v1:extension:course-grade\",\"valueInteger\":2},"
                "{\"url\":\"urn:meso:v1:extension:non-responder\",\"valueBoolean\":false}]}}");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_appointment_status_table),
        cmocka_unit_test (test_careplan_status_table),
        cmocka_unit_test (test_invoice_status_and_kind),
        cmocka_unit_test (test_field_readers_give_the_lowercase_values),
        cmocka_unit_test (test_ids_kept_or_hashed),
        cmocka_unit_test (test_instants_and_dates),
        cmocka_unit_test (test_money_and_quantities_are_exact_decimals),
        cmocka_unit_test (test_concepts_and_empty_strings),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
