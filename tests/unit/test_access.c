/* test_access.c -- the pure parts of the trust model: role and kind names
 * (access.c), whether a principal may act in a clinic or read a stream,
 * the principals table in memory, the current call's scope checks, and
 * the bus server's decision before a handler runs (meso_bus_authorize in
 * bus_authz.c: roles, health data, the clinic named by the request). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "meso/access.h"
#include "meso/bus.h"
#include "../../common/src/bus_private.h"
#include "inventory.pb-c.h"
#include "scheduling.pb-c.h"

#define KEY_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define KEY_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static meso_principal_t *
s_desk_a (void)
{
    const char *clinics[] = { "clinic-a" };
    const char *streams[] = { "session" };
    meso_principal_t *p = meso_principal_new (KEY_A, "desk-a", MESO_PRINCIPAL_PERSON,
                                              MESO_ROLE_FRONT_DESK, clinics, 1, streams, 1,
                                              false, false);
    assert_non_null (p);
    return p;
}

static meso_principal_t *
s_chain (unsigned roles, bool health)
{
    meso_principal_t *p = meso_principal_new (KEY_B, "chain", MESO_PRINCIPAL_OPERATOR, roles,
                                              NULL, 0, NULL, 0, health, false);
    assert_non_null (p);
    return p;
}

/* The reply's envelope (status, reasons), to look at. */
static Meso__V1__Reply *
s_envelope (meso_reply_t *reply)
{
    size_t len = 0;
    uint8_t *buf = meso_reply_pack (reply, &len);
    assert_non_null (buf);
    Meso__V1__Reply *env = meso__v1__reply__unpack (NULL, len, buf);
    free (buf);
    assert_non_null (env);
    return env;
}

/* Asserts reply holds status with reason code on field (NULL: none). */
static void
s_assert_refused (meso_reply_t *reply, int status, const char *code, const char *field)
{
    assert_int_equal (meso_reply_status (reply), status);
    Meso__V1__Reply *env = s_envelope (reply);
    if (code) {
        assert_true (env->n_reasons >= 1);
        assert_string_equal (env->reasons[0]->code, code);
        assert_string_equal (env->reasons[0]->field, field ? field : "");
    }
    meso__v1__reply__free_unpacked (env, NULL);
}

/* ---------------------------------------------------------------- names */

static void
test_role_names_round_trip (void **state)
{
    (void) state;
    const char *names[] = { "front_desk", "clinician", "stock_keeper", "billing_clerk",
                            "clinic_manager", "integration", "service", "operator" };
    unsigned all = 0;
    for (int i = 0; i < MESO_ROLE_COUNT; i++) {
        unsigned bit = meso_role_parse (names[i]);
        assert_int_equal (bit, 1u << i);
        assert_string_equal (meso_role_name (bit), names[i]);
        all |= bit;
    }
    assert_int_equal (all, MESO_ROLE_ALL);
    assert_int_equal (meso_role_parse ("FRONT_DESK"), 0);      /* names are exact */
    assert_int_equal (meso_role_parse ("front_desk "), 0);
    assert_int_equal (meso_role_parse (""), 0);
    assert_int_equal (meso_role_parse (NULL), 0);
    assert_null (meso_role_name (0));
    assert_null (meso_role_name (MESO_ROLE_FRONT_DESK | MESO_ROLE_CLINICIAN));
    assert_null (meso_role_name (MESO_ROLE_ANONYMOUS));
}

static void
test_roles_format (void **state)
{
    (void) state;
    char out[160];
    meso_roles_format (0, out, sizeof out);
    assert_string_equal (out, "none");
    meso_roles_format (MESO_ROLE_BILLING_CLERK | MESO_ROLE_FRONT_DESK, out, sizeof out);
    assert_string_equal (out, "front_desk, billing_clerk");
    meso_roles_format (MESO_ROLE_ALL, out, sizeof out);
    assert_string_equal (out, "front_desk, clinician, stock_keeper, billing_clerk, clinic_manager, "
                              "integration, service, operator");
    /* A buffer too small is cut, never overrun, and stays terminated. */
    char small[17];
    memset (small, 'x', sizeof small);
    meso_roles_format (MESO_ROLE_FRONT_DESK | MESO_ROLE_CLINICIAN, small, 16);
    assert_string_equal (small, "front_desk, cli");
    assert_int_equal (small[16], 'x');
}

static void
test_kind_names (void **state)
{
    (void) state;
    const char *kinds[] = { "person", "integration", "service", "operator" };
    for (int i = 0; i < 4; i++) {
        assert_int_equal (meso_principal_kind_parse (kinds[i]), i);
        assert_string_equal (meso_principal_kind_name ((meso_principal_kind_t) i), kinds[i]);
    }
    assert_int_equal (meso_principal_kind_parse ("robot"), -1);
    assert_int_equal (meso_principal_kind_parse (NULL), -1);
    assert_string_equal (meso_principal_kind_name ((meso_principal_kind_t) 9), "unknown");
    assert_int_equal (meso_principal_actor_kind (MESO_PRINCIPAL_PERSON), MESO__V1__ACTOR__KIND__KIND_USER);
    assert_int_equal (meso_principal_actor_kind (MESO_PRINCIPAL_SERVICE),
                      MESO__V1__ACTOR__KIND__KIND_SERVICE);
}

/* ----------------------------------------------------------- principals */

static void
test_principal_scope (void **state)
{
    (void) state;
    assert_null (meso_principal_new ("short", "x", MESO_PRINCIPAL_PERSON, 0, NULL, 0, NULL, 0, false,
                                     false));
    meso_principal_t *p = s_desk_a ();
    assert_false (p->all_clinics);
    assert_true (meso_principal_in_clinic (p, "clinic-a"));
    assert_false (meso_principal_in_clinic (p, "clinic-b"));
    assert_false (meso_principal_in_clinic (p, "clinic-"));
    assert_false (meso_principal_in_clinic (p, ""));          /* "every clinic" is not its */
    assert_false (meso_principal_in_clinic (p, NULL));
    assert_true (meso_principal_in_stream (p, "session"));
    assert_false (meso_principal_in_stream (p, "screening"));
    assert_false (meso_principal_in_stream (p, ""));
    assert_false (meso_principal_in_clinic (NULL, "clinic-a"));
    assert_false (meso_principal_in_stream (NULL, "session"));

    meso_principal_t *all = s_chain (MESO_ROLE_OPERATOR, true);
    assert_true (meso_principal_in_clinic (all, "clinic-b"));
    assert_true (meso_principal_in_clinic (all, ""));
    assert_true (meso_principal_in_stream (all, "screening"));

    /* An empty list is no clinic at all, not every clinic. */
    meso_principal_t *none = meso_principal_new (KEY_A, "none", MESO_PRINCIPAL_PERSON, 0,
                                                 (const char *const[]) { NULL }, 0, NULL, 0,
                                                 false, false);
    assert_non_null (none);
    assert_false (meso_principal_in_clinic (none, "clinic-a"));
    meso_principal_release (none);
    meso_principal_release (p);
    meso_principal_release (all);
    meso_principal_release (NULL);
}

static void
test_table (void **state)
{
    (void) state;
    meso_access_clear ();
    assert_int_equal (meso_access_count (), 0);
    assert_false (meso_access_known (KEY_A));
    unsigned long g = meso_access_generation ();
    meso_access_put (s_desk_a ());
    assert_true (meso_access_generation () > g);
    assert_true (meso_access_known (KEY_A));
    assert_false (meso_access_known (KEY_B));
    assert_false (meso_access_known ("short"));
    assert_false (meso_access_known (NULL));

    /* A holder keeps its principal while the table is replaced. */
    meso_principal_t *held = meso_access_acquire (KEY_A);
    assert_non_null (held);
    meso_principal_t *revoked = meso_principal_new (KEY_A, "desk-a", MESO_PRINCIPAL_PERSON,
                                                    MESO_ROLE_FRONT_DESK, NULL, 0, NULL, 0, false,
                                                    true);
    meso_principal_t *list[] = { revoked, s_chain (MESO_ROLE_OPERATOR, true) };
    meso_access_replace (list, 2);
    assert_int_equal (meso_access_count (), 2);
    assert_false (meso_access_known (KEY_A));                 /* revoked: the handshake fails */
    meso_principal_t *again = meso_access_acquire (KEY_A);  /* but it is still looked up */
    assert_non_null (again);
    assert_true (again->revoked);
    meso_principal_release (again);
    assert_false (held->revoked);
    assert_string_equal (held->clinics[0], "clinic-a");
    meso_principal_release (held);
    meso_access_clear ();
    assert_false (meso_access_known (KEY_B));
}

/* ------------------------------------------------------ the current call */

static void
test_call_scope (void **state)
{
    (void) state;
    meso_reply_t *reply = meso_reply_new ();
    /* Outside a request everything is allowed. */
    assert_null (meso_call_principal ());
    assert_false (meso_call_scoped ());
    assert_true (meso_call_in_clinic ("clinic-b"));
    assert_true (meso_call_health ());
    assert_int_equal (meso_call_need_clinic (reply, "clinic-b", "clinic_id"), 0);
    assert_int_equal (meso_reply_status (reply), MESO_OK);

    meso_principal_t *p = s_desk_a ();
    meso_call_begin (p, "someone");
    assert_ptr_equal (meso_call_principal (), p);
    assert_string_equal (meso_call_on_behalf_of (), "someone");
    assert_true (meso_call_scoped ());
    assert_false (meso_call_health ());
    assert_false (meso_call_scope_checked ());
    assert_true (meso_call_in_clinic ("clinic-a"));
    assert_false (meso_call_in_clinic ("clinic-b"));
    assert_false (meso_call_scope_checked ());                  /* filtering alone is not a check */
    meso_call_scope_filtered ();
    assert_true (meso_call_scope_checked ());
    meso_call_end ();

    meso_call_begin (p, NULL);
    assert_string_equal (meso_call_on_behalf_of (), "");
    assert_int_equal (meso_call_need_clinic (reply, "clinic-a", "appointment_id"), 0);
    assert_true (meso_call_scope_checked ());
    assert_int_equal (meso_reply_status (reply), MESO_OK);
    assert_int_equal (meso_call_need_clinic (reply, "clinic-b", "appointment_id"), -1);
    s_assert_refused (reply, MESO_PERMISSION_DENIED, "out_of_scope", "appointment_id");
    meso_call_end ();
    assert_null (meso_call_principal ());
    assert_false (meso_call_scope_checked ());

    meso_principal_t *all = s_chain (MESO_ROLE_OPERATOR, true);
    meso_call_begin (all, NULL);
    assert_false (meso_call_scoped ());
    assert_true (meso_call_in_clinic ("clinic-b"));
    meso_call_end ();
    meso_principal_release (all);
    meso_principal_release (p);
    meso_reply_destroy (&reply);
}

/* ------------------------------------------------- the server's decision */

static void
s_noop (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    (void) req, (void) body, (void) reply, (void) arg;
}

static int
s_authorize (const meso_method_t *m, const meso_principal_t *p, const ProtobufCMessage *body,
             meso_reply_t *reply)
{
    meso_reply_reset (reply);
    int rc = meso_bus_authorize (m, p, body, reply);
    assert_null (meso_call_principal ());                      /* leaves no call behind */
    return rc;
}

static void
test_authorize_roles (void **state)
{
    (void) state;
    meso_reply_t *reply = meso_reply_new ();
    meso_principal_t *desk = s_desk_a ();
    meso_method_t adjust = { "inventory.Adjust", s_noop, MESO_METHOD_MUTATING,
                             &meso__v1__adjust_request__descriptor,
                             MESO_ROLE_STOCK_KEEPER | MESO_ROLE_CLINIC_MANAGER, "clinic_id", 0 };
    Meso__V1__AdjustRequest ad = MESO__V1__ADJUST_REQUEST__INIT;
    ad.clinic_id = "clinic-a";
    assert_int_equal (s_authorize (&adjust, desk, &ad.base, reply), -1);
    s_assert_refused (reply, MESO_PERMISSION_DENIED, "role_missing", NULL);

    /* Service only: an operator of every clinic may not either. */
    meso_principal_t *op = s_chain (MESO_ROLE_OPERATOR, true);
    meso_method_t reserve = { "inventory.Reserve", s_noop, MESO_METHOD_MUTATING,
                              &meso__v1__reserve_request__descriptor, MESO_ROLE_SERVICE, "clinic_id", 0 };
    Meso__V1__ReserveRequest rs = MESO__V1__RESERVE_REQUEST__INIT;
    rs.clinic_id = "clinic-a";
    assert_int_equal (s_authorize (&reserve, op, &rs.base, reply), -1);
    s_assert_refused (reply, MESO_PERMISSION_DENIED, "role_missing", NULL);
    meso_principal_t *svc = s_chain (MESO_ROLE_SERVICE, true);
    assert_int_equal (s_authorize (&reserve, svc, &rs.base, reply), 0);

    /* A table entry without roles is callable by nobody. */
    meso_method_t closed = adjust;
    closed.roles = 0;
    assert_int_equal (s_authorize (&closed, op, &ad.base, reply), -1);
    s_assert_refused (reply, MESO_PERMISSION_DENIED, "role_missing", NULL);

    /* Health data. */
    meso_method_t health = adjust;
    health.roles = MESO_ROLE_FRONT_DESK;
    health.flags = MESO_METHOD_HEALTH_DATA;
    assert_int_equal (s_authorize (&health, desk, &ad.base, reply), -1);
    s_assert_refused (reply, MESO_PERMISSION_DENIED, "health_data", NULL);

    /* No principal (a plaintext endpoint): only anonymous methods. */
    assert_int_equal (s_authorize (&adjust, NULL, &ad.base, reply), -1);
    s_assert_refused (reply, MESO_UNAUTHENTICATED, NULL, NULL);
    meso_method_t open = adjust;
    open.roles |= MESO_ROLE_ANONYMOUS;
    assert_int_equal (s_authorize (&open, NULL, &ad.base, reply), 0);

    meso_principal_release (desk);
    meso_principal_release (op);
    meso_principal_release (svc);
    meso_reply_destroy (&reply);
}

static void
test_authorize_clinic (void **state)
{
    (void) state;
    meso_reply_t *reply = meso_reply_new ();
    meso_principal_t *desk = s_desk_a ();
    meso_principal_t *chain = s_chain (MESO_ROLE_FRONT_DESK, false);
    meso_method_t stock = { "inventory.GetStock", s_noop, MESO_METHOD_READ,
                            &meso__v1__get_stock_request__descriptor, MESO_ROLE_FRONT_DESK, "clinic_id", 0 };
    Meso__V1__GetStockRequest gs = MESO__V1__GET_STOCK_REQUEST__INIT;
    gs.clinic_id = "clinic-a";
    assert_int_equal (s_authorize (&stock, desk, &gs.base, reply), 0);
    gs.clinic_id = "clinic-b";
    assert_int_equal (s_authorize (&stock, desk, &gs.base, reply), -1);
    s_assert_refused (reply, MESO_PERMISSION_DENIED, "out_of_scope", "clinic_id");
    assert_int_equal (s_authorize (&stock, chain, &gs.base, reply), 0);
    gs.clinic_id = "";                                          /* omitted */
    assert_int_equal (s_authorize (&stock, desk, &gs.base, reply), -1);
    s_assert_refused (reply, MESO_PERMISSION_DENIED, "out_of_scope", "clinic_id");
    assert_int_equal (s_authorize (&stock, chain, &gs.base, reply), 0);

    /* A path into a sub-message; the sub-message absent is no clinic. */
    meso_method_t book = { "scheduling.BookCourse", s_noop, MESO_METHOD_MUTATING,
                           &meso__v1__book_course_request__descriptor, MESO_ROLE_FRONT_DESK,
                           "spec.clinic_id", 0 };
    Meso__V1__BookCourseRequest bc = MESO__V1__BOOK_COURSE_REQUEST__INIT;
    assert_int_equal (s_authorize (&book, desk, &bc.base, reply), -1);
    s_assert_refused (reply, MESO_PERMISSION_DENIED, "out_of_scope", "spec.clinic_id");
    Meso__V1__CourseSpec sp = MESO__V1__COURSE_SPEC__INIT;
    sp.clinic_id = "clinic-a";
    bc.spec = &sp;
    assert_int_equal (s_authorize (&book, desk, &bc.base, reply), 0);
    sp.clinic_id = "clinic-b";
    assert_int_equal (s_authorize (&book, desk, &bc.base, reply), -1);
    s_assert_refused (reply, MESO_PERMISSION_DENIED, "out_of_scope", "spec.clinic_id");

    /* A path the message does not have is our bug: refused, never let
     * through (what Transfer's "clinic_id" did). */
    meso_method_t wrong = book;
    wrong.scope = "spec.clinic";
    assert_int_equal (s_authorize (&wrong, desk, &bc.base, reply), -1);
    assert_int_equal (meso_reply_status (reply), MESO_INTERNAL);
    wrong.scope = "spec";                                        /* not a string */
    assert_int_equal (s_authorize (&wrong, desk, &bc.base, reply), -1);
    assert_int_equal (meso_reply_status (reply), MESO_INTERNAL);

    /* Left to the handler, or the whole chain's. */
    meso_method_t handler = stock;
    handler.scope = MESO_SCOPE_HANDLER;
    assert_int_equal (s_authorize (&handler, desk, &gs.base, reply), 0);
    meso_method_t chainwide = stock;
    chainwide.scope = MESO_SCOPE_CHAIN;
    assert_int_equal (s_authorize (&chainwide, desk, &gs.base, reply), -1);
    s_assert_refused (reply, MESO_PERMISSION_DENIED, "out_of_scope", NULL);
    assert_int_equal (s_authorize (&chainwide, chain, &gs.base, reply), 0);
    meso_method_t any = stock;
    any.scope = NULL;
    gs.clinic_id = "clinic-b";
    assert_int_equal (s_authorize (&any, desk, &gs.base, reply), 0);

    meso_principal_release (desk);
    meso_principal_release (chain);
    meso_reply_destroy (&reply);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_role_names_round_trip),
        cmocka_unit_test (test_roles_format),
        cmocka_unit_test (test_kind_names),
        cmocka_unit_test (test_principal_scope),
        cmocka_unit_test (test_table),
        cmocka_unit_test (test_call_scope),
        cmocka_unit_test (test_authorize_roles),
        cmocka_unit_test (test_authorize_clinic),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
