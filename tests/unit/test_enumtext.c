/* test_enumtext.c -- the contract's enums <-> the lowercase text the
 * database keeps and mesoctl shows (meso/enumtext.h), both ways, for
 * every enum that replaces a free string. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "billing.pb-c.h"
#include "inventory.pb-c.h"
#include "meso/enumtext.h"
#include "rpc.pb-c.h"
#include "scheduling.pb-c.h"

/* Every value of every enum: its text maps back to it, and the text is
 * the database's spelling (checked for the values the CHECK constraints
 * of deploy/sql name). */
static void
s_round_trip (const ProtobufCEnumDescriptor *d, const char *const *texts, size_t n)
{
    assert_int_equal (d->n_values, n + 1);     /* UNSPECIFIED and the texts */
    for (size_t i = 0; i < n; i++) {
        int v = meso_enum_from_text (d, texts[i]);
        assert_int_not_equal (v, 0);
        char buf[MESO_ENUM_TEXT_MAX];
        assert_non_null (meso_enum_text (d, v, buf, sizeof buf));
        assert_string_equal (buf, texts[i]);
        assert_string_equal (meso_enum_str (d, v), texts[i]);
        assert_true (meso_enum_valid (d, v));
    }
}

static void
test_round_trips (void **state)
{
    (void) state;
    static const char *const unit[] = { "mg", "ml" };
    s_round_trip (&meso__v1__unit__descriptor, unit, 2);
    static const char *const method[] = { "card", "cash", "bank_transfer" };
    s_round_trip (&meso__v1__payment_method__descriptor, method, 3);
    static const char *const ikind[] = { "session", "package", "fee", "manual" };
    s_round_trip (&meso__v1__invoice_kind__descriptor, ikind, 4);
    static const char *const ckind[] = { "cancellation", "package_refund" };
    s_round_trip (&meso__v1__credit_note_kind__descriptor, ckind, 2);
    static const char *const skind[] = { "charge", "payment", "refund", "credit" };
    s_round_trip (&meso__v1__statement_entry_kind__descriptor, skind, 4);
    static const char *const pstate[] = { "active", "expired", "refunded" };
    s_round_trip (&meso__v1__package_state__descriptor, pstate, 3);
    static const char *const session[] = { "pending", "booked", "on_hold", "started",
                                           "completed", "cancelled", "no_show" };
    s_round_trip (&meso__v1__session_status__descriptor, session, 7);
    static const char *const course[] = { "pending", "booked", "failed" };
    s_round_trip (&meso__v1__course_status__descriptor, course, 3);
    static const char *const resv[] = { "held", "consumed", "released" };
    s_round_trip (&meso__v1__reservation_status__descriptor, resv, 3);
    static const char *const hit[] = { "consumed", "moved", "at_risk" };
    s_round_trip (&meso__v1__recall_hit_state__descriptor, hit, 3);
    static const char *const health[] = { "ok", "degraded", "starting" };
    s_round_trip (&meso__v1__health_state__descriptor, health, 3);
}

static void
test_known_values (void **state)
{
    (void) state;
    assert_int_equal (meso_enum_from_text (&meso__v1__unit__descriptor, "mg"), MESO__V1__UNIT__UNIT_MG);
    assert_int_equal (meso_enum_from_text (&meso__v1__payment_method__descriptor, "bank_transfer"),
                      MESO__V1__PAYMENT_METHOD__PAYMENT_METHOD_BANK_TRANSFER);
    assert_int_equal (meso_enum_from_text (&meso__v1__session_status__descriptor, "no_show"),
                      MESO__V1__SESSION_STATUS__SESSION_STATUS_NO_SHOW);
    char buf[MESO_ENUM_TEXT_MAX];
    assert_string_equal (meso_enum_text (&meso__v1__session_status__descriptor,
                                         MESO__V1__SESSION_STATUS__SESSION_STATUS_ON_HOLD, buf, sizeof buf),
                         "on_hold");
}

/* Unknown texts give UNSPECIFIED; UNSPECIFIED and unknown values give no
 * text and are not valid in a request. */
static void
test_unknown (void **state)
{
    (void) state;
    const ProtobufCEnumDescriptor *u = &meso__v1__unit__descriptor;
    assert_int_equal (meso_enum_from_text (u, "kg"), 0);
    assert_int_equal (meso_enum_from_text (u, ""), 0);
    assert_int_equal (meso_enum_from_text (u, NULL), 0);
    assert_int_equal (meso_enum_from_text (u, "unspecified"), 0);
    assert_int_equal (meso_enum_from_text (u, "MG"), 0);        /* the text is lowercase */
    assert_int_equal (meso_enum_from_text (u, "UNIT_MG"), 0);   /* not the value name */
    assert_int_equal (meso_enum_from_text (u, "m"), 0);
    assert_int_equal (meso_enum_from_text (u, "mgx"), 0);
    assert_int_equal (meso_enum_from_db (u, "gallon", "unit"), 0);
    assert_int_equal (meso_enum_from_db (u, "ml", "unit"), MESO__V1__UNIT__UNIT_ML);
    char buf[MESO_ENUM_TEXT_MAX] = "x";
    assert_null (meso_enum_text (u, 0, buf, sizeof buf));
    assert_string_equal (buf, "");
    assert_null (meso_enum_text (u, 42, buf, sizeof buf));
    assert_null (meso_enum_text (u, MESO__V1__UNIT__UNIT_MG, buf, 2));  /* "mg" needs 3 bytes */
    assert_string_equal (meso_enum_str (u, 0), "unspecified");
    assert_string_equal (meso_enum_str (u, 42), "unspecified");
    assert_false (meso_enum_valid (u, 0));
    assert_false (meso_enum_valid (u, 42));
    assert_false (meso_enum_valid (u, -1));
    /* An enum without an _UNSPECIFIED zero is not mapped at all. */
    assert_int_equal (meso_enum_from_text (&meso__v1__status__descriptor, "ok"), 0);
    assert_false (meso_enum_valid (&meso__v1__status__descriptor, MESO__V1__STATUS__STATUS_NOT_FOUND));
}

/* The per-thread ring keeps 8 results alive at once. */
static void
test_ring (void **state)
{
    (void) state;
    const ProtobufCEnumDescriptor *d = &meso__v1__session_status__descriptor;
    const char *a = meso_enum_str (d, MESO__V1__SESSION_STATUS__SESSION_STATUS_BOOKED);
    for (int i = 0; i < 7; i++)
        (void) meso_enum_str (d, MESO__V1__SESSION_STATUS__SESSION_STATUS_CANCELLED);
    assert_string_equal (a, "booked");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_round_trips),
        cmocka_unit_test (test_known_values),
        cmocka_unit_test (test_unknown),
        cmocka_unit_test (test_ring),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
