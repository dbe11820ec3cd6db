/* test_bus_string_at.c -- meso_bus_string_at, which reads the clinic
 * scope and the audited patient out of a request by path, with oneofs:
 * a member other than the one set reads as unset (its storage is the set
 * member's), so GetCourse by course_id is never audited as a read of a
 * patient named by the course id, and a deposit flag is never read as
 * an invoice id. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "../../common/src/bus_private.h"
#include "billing.pb-c.h"
#include "inventory.pb-c.h"
#include "scheduling.pb-c.h"

static void
test_oneof_members (void **state)
{
    (void) state;
    Meso__V1__GetCourseRequest gc = MESO__V1__GET_COURSE_REQUEST__INIT;
    assert_string_equal (meso_bus_string_at (&gc.base, "patient_id"), "");
    assert_string_equal (meso_bus_string_at (&gc.base, "course_id"), "");
    gc.key_case = MESO__V1__GET_COURSE_REQUEST__KEY_COURSE_ID;
    gc.course_id = "course-1";
    assert_string_equal (meso_bus_string_at (&gc.base, "course_id"), "course-1");
    assert_string_equal (meso_bus_string_at (&gc.base, "patient_id"), "");
    gc.key_case = MESO__V1__GET_COURSE_REQUEST__KEY_PATIENT_ID;
    gc.patient_id = "pat-1";
    assert_string_equal (meso_bus_string_at (&gc.base, "patient_id"), "pat-1");
    assert_string_equal (meso_bus_string_at (&gc.base, "course_id"), "");

    /* A bool member set: the string member is unset, not its bytes. */
    Meso__V1__RecordPaymentRequest rp = MESO__V1__RECORD_PAYMENT_REQUEST__INIT;
    rp.clinic_id = "paris";
    rp.patient_id = "pat-1";
    rp.target_case = MESO__V1__RECORD_PAYMENT_REQUEST__TARGET_DEPOSIT;
    rp.deposit = true;
    assert_string_equal (meso_bus_string_at (&rp.base, "invoice_id"), "");
    assert_string_equal (meso_bus_string_at (&rp.base, "patient_id"), "pat-1");
    assert_string_equal (meso_bus_string_at (&rp.base, "clinic_id"), "paris");

    /* Through a message member of a oneof. */
    Meso__V1__RecallRequest rc = MESO__V1__RECALL_REQUEST__INIT;
    Meso__V1__SupplierLot sl = MESO__V1__SUPPLIER_LOT__INIT;
    sl.ingredient_code = "caffeine";
    sl.lot_number = "CAF-1";
    assert_string_equal (meso_bus_string_at (&rc.base, "supplier_lot.lot_number"), "");
    rc.lot_case = MESO__V1__RECALL_REQUEST__LOT_SUPPLIER_LOT;
    rc.supplier_lot = &sl;
    assert_string_equal (meso_bus_string_at (&rc.base, "supplier_lot.lot_number"), "CAF-1");
    assert_string_equal (meso_bus_string_at (&rc.base, "lot_id"), "");
    /* Not a string field: NULL, as before. */
    assert_null (meso_bus_string_at (&rc.base, "supplier_lot"));
    assert_null (meso_bus_string_at (&rc.base, "page_size"));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_oneof_members),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
