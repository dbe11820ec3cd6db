/* test_oneofs.c -- the either/or request fields that became oneofs, end
 * to end: real PostgreSQL and real meso-screening, meso-inventory and
 * meso-scheduling (scheduling_fixture.h).
 *
 *   - scheduling.GetCourse with neither course_id nor patient_id is
 *     refused INVALID_ARGUMENT naming course_id; by course_id it answers
 *     that course, by patient_id the patient's courses;
 *   - inventory.Recall with neither lot_id nor supplier_lot is refused
 *     naming lot_id, a supplier_lot with a bad ingredient code naming
 *     supplier_lot.ingredient_code; neither recalls anything; a
 *     supplier_lot recall recalls the lot in the clinic asked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "scheduling_fixture.h"

static bool
s_reason_field (const meso_result_t *r, const char *field)
{
    for (size_t i = 0; r->reply && i < r->reply->n_reasons; i++)
        if (strcmp (r->reply->reasons[i]->field, field) == 0)
            return true;
    return false;
}

static size_t
s_courses (meso_result_t *r)
{
    size_t len;
    const uint8_t *body = meso_result_body (r, &len);
    Meso__V1__GetCourseReply *out = meso__v1__get_course_reply__unpack (NULL, len, body);
    assert_non_null (out);
    size_t n = out->n_courses;
    meso__v1__get_course_reply__free_unpacked (out, NULL);
    return n;
}

static void
test_get_course_key (void **state)
{
    (void) state;
    fx_t *fx = fx_setup ("oneof_course", 1);
    const char *pr[] = { "dr-a" }, *rm[] = { "room-1" };
    fx_clinic (fx, "par", "Europe/Paris", pr, 1, rm, 1, true);
    char pat[40], day[16], at[20];
    fx_patient (fx, "par", NULL, false, pat);
    fx_day (3, day);
    snprintf (at, sizeof at, "%.10sT10:00", day);
    meso_result_t r = { 0 };
    assert_int_equal (fx_book_session (fx, fx->sch, "par", pat, "dr-a", "room-1", at, 60, NULL, &r), MESO_OK);
    char course[64];
    PGresult *res = meso_db_query (fx->db, "SELECT course_id FROM scheduling.course WHERE patient_id = $1", 1,
                                   (const char *[]) { pat });
    assert_non_null (res);
    assert_int_equal (PQntuples (res), 1);
    snprintf (course, sizeof course, "%s", PQgetvalue (res, 0, 0));
    PQclear (res);

    Meso__V1__GetCourseRequest gc = MESO__V1__GET_COURSE_REQUEST__INIT;
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.GetCourse", &gc.base, NULL, &r), MESO_INVALID_ARGUMENT);
    assert_true (s_reason_field (&r, "course_id"));
    gc.key_case = MESO__V1__GET_COURSE_REQUEST__KEY_COURSE_ID;
    gc.course_id = course;
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.GetCourse", &gc.base, NULL, &r), MESO_OK);
    assert_int_equal (s_courses (&r), 1);
    gc.key_case = MESO__V1__GET_COURSE_REQUEST__KEY_PATIENT_ID;
    gc.patient_id = pat;
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.GetCourse", &gc.base, NULL, &r), MESO_OK);
    assert_int_equal (s_courses (&r), 1);
    meso_result_reset (&r);
    fx_teardown (fx);
}

static void
test_recall_lot (void **state)
{
    (void) state;
    fx_t *fx = fx_setup ("oneof_recall", 1);
    const char *pr[] = { "dr-a" }, *rm[] = { "room-1" };
    fx_clinic (fx, "par", "Europe/Paris", pr, 1, rm, 1, true);
    meso_result_t r = { 0 };
    Meso__V1__RecallRequest rq = MESO__V1__RECALL_REQUEST__INIT;
    rq.clinic_id = "par";
    rq.reason = "supplier notice";
    assert_int_equal (fx_call (fx, fx->inv, "inventory.Recall", &rq.base, NULL, &r), MESO_INVALID_ARGUMENT);
    assert_true (s_reason_field (&r, "lot_id"));
    Meso__V1__SupplierLot sl = MESO__V1__SUPPLIER_LOT__INIT;
    sl.ingredient_code = "Not A Code";
    sl.lot_number = "X";
    rq.lot_case = MESO__V1__RECALL_REQUEST__LOT_SUPPLIER_LOT;
    rq.supplier_lot = &sl;
    assert_int_equal (fx_call (fx, fx->inv, "inventory.Recall", &rq.base, NULL, &r), MESO_INVALID_ARGUMENT);
    assert_true (s_reason_field (&r, "supplier_lot.ingredient_code"));
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM inventory.lot WHERE recalled_at IS NOT NULL", NULL), 0);
    /* The fixture's caffeine lot, by its supplier number. */
    PGresult *res = meso_db_query (fx->db, "SELECT lot_number FROM inventory.lot WHERE clinic_id = 'par'"
                                           " AND ingredient_code = 'caffeine' LIMIT 1", 0, NULL);
    assert_non_null (res);
    assert_int_equal (PQntuples (res), 1);
    char number[130];
    snprintf (number, sizeof number, "%s", PQgetvalue (res, 0, 0));
    PQclear (res);
    sl.ingredient_code = "caffeine";
    sl.lot_number = number;
    assert_int_equal (fx_call (fx, fx->inv, "inventory.Recall", &rq.base, NULL, &r), MESO_OK);
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM inventory.lot WHERE recalled_at IS NOT NULL"
                                  " AND ingredient_code = 'caffeine' AND clinic_id = 'par'", NULL), 1);
    meso_result_reset (&r);
    fx_teardown (fx);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_get_course_key),
        cmocka_unit_test (test_recall_lot),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
