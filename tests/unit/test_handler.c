/* test_handler.c -- the handler helpers every service shares (handler.h):
 * the exact texts, codes and fields of the replies clients see, and the
 * fields meso_handler_emit fills before the outbox sees the event. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "meso/handler.h"

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

static void
test_undecodable (void **state)
{
    meso_reply_t *reply = meso_reply_new ();
    meso_handler_undecodable (reply, "billing.RecordPayment", "meso.v1.RecordPaymentRequest");
    Meso__V1__Reply *env = s_envelope (reply);
    assert_int_equal (env->status, MESO__V1__STATUS__STATUS_INVALID_ARGUMENT);
    assert_string_equal (env->message,
                         "billing.RecordPayment body is not a packed meso.v1.RecordPaymentRequest");
    assert_int_equal (env->n_reasons, 1);
    assert_string_equal (env->reasons[0]->code, "undecodable");
    assert_string_equal (env->reasons[0]->field, "body");
    assert_string_equal (env->reasons[0]->message, "send a packed meso.v1.RecordPaymentRequest");
    meso__v1__reply__free_unpacked (env, NULL);
    meso_reply_destroy (&reply);
}

static void
test_invalid (void **state)
{
    meso_reply_t *reply = meso_reply_new ();
    /* Nothing bad: the reply stays OK. */
    assert_false (meso_handler_invalid (reply, 0, "inventory.Receive"));
    assert_int_equal (meso_reply_status (reply), MESO_OK);
    int bad = 0;
    meso_handler_need_text (reply, &bad, "clinic_id", "", 64);
    meso_handler_need_text (reply, &bad, "reason", "count", 200);
    assert_int_equal (bad, 1);
    assert_true (meso_handler_invalid (reply, bad, "inventory.Receive"));
    Meso__V1__Reply *env = s_envelope (reply);
    assert_int_equal (env->status, MESO__V1__STATUS__STATUS_INVALID_ARGUMENT);
    assert_string_equal (env->message, "invalid inventory.Receive request");
    assert_int_equal (env->n_reasons, 1);
    assert_string_equal (env->reasons[0]->field, "clinic_id");
    meso__v1__reply__free_unpacked (env, NULL);
    meso_reply_destroy (&reply);
}

static void
test_code_ok (void **state)
{
    assert_true (meso_handler_code_ok ("caffeine", true));
    assert_true (meso_handler_code_ok ("clinic-a_2", true));
    char longest[MESO_HANDLER_ID_MAX + 2];
    memset (longest, 'a', sizeof longest);
    longest[MESO_HANDLER_ID_MAX] = '\0';
    assert_true (meso_handler_code_ok (longest, true));
    longest[MESO_HANDLER_ID_MAX] = 'a';
    longest[MESO_HANDLER_ID_MAX + 1] = '\0';
    assert_false (meso_handler_code_ok (longest, true));
    assert_false (meso_handler_code_ok (NULL, true));
    assert_false (meso_handler_code_ok ("", true));
    assert_false (meso_handler_code_ok ("Caffeine", true));
    assert_false (meso_handler_code_ok ("bad code", true));
    assert_false (meso_handler_code_ok ("caf\xc3\xa9", true));
    /* Without dashes (treatment areas). */
    assert_true (meso_handler_code_ok ("inner_thighs", false));
    assert_false (meso_handler_code_ok ("inner-thighs", false));
}

/* One clinic id syntax for the whole chain: what the adversarial pass sent
 * is refused, with one line that does not echo the value. */
static void
test_need_clinic (void **state)
{
    assert_true (meso_handler_clinic_ok ("paris-1"));
    assert_true (meso_handler_clinic_ok ("lyon_part_dieu-2"));
    const char *bad[] = { "ABC%", "Nope Clinic\n", "x'); --", "no such clinic!", "", NULL,
                          "Paris-1", "caf\xc3\xa9",
                          "a234567890123456789012345678901234567890123456789012345678901234x" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false (meso_handler_clinic_ok (bad[i]));
    meso_reply_t *reply = meso_reply_new ();
    int bad_n = 0;
    meso_handler_need_clinic (reply, &bad_n, "price_list.clinic_id", "paris-1");   /* fine */
    meso_handler_need_clinic (reply, &bad_n, "price_list.clinic_id", "Nope Clinic\n");
    meso_handler_need_clinic (reply, &bad_n, "clinic_id", NULL);
    assert_int_equal (bad_n, 2);
    Meso__V1__Reply *env = s_envelope (reply);
    assert_int_equal (env->n_reasons, 2);
    assert_string_equal (env->reasons[0]->code, "invalid_id");
    assert_string_equal (env->reasons[0]->field, "price_list.clinic_id");
    assert_string_equal (env->reasons[0]->message,
                         "price_list.clinic_id must be a clinic id: 1 to 64 characters of a-z, 0-9, _ or -");
    assert_string_equal (env->reasons[1]->code, "missing_field");
    assert_string_equal (env->reasons[1]->field, "clinic_id");
    meso__v1__reply__free_unpacked (env, NULL);
    meso_reply_destroy (&reply);
}

/* One ingredient code syntax for the chain: what inventory's catalogue
 * accepts (dashes, a leading digit) screening accepts too, and the old
 * screening-only shape is a subset of it. */
static void
test_need_ingredient (void **state)
{
    const char *good[] = { "caffeine", "artichoke", "l_carnitine", "vitamin-b12", "5htp" };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_true (meso_handler_ingredient_ok (good[i]));
    const char *bad[] = { NULL, "", "Caffeine", "unicorn dust", "caf\xc3\xa9", "x'); --",
                          "a234567890123456789012345678901234567890123456789012345678901234x" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false (meso_handler_ingredient_ok (bad[i]));
    meso_reply_t *reply = meso_reply_new ();
    int n = 0;
    meso_handler_need_ingredient (reply, &n, "lines[0].ingredient_code", "artichoke");  /* fine */
    meso_handler_need_ingredient (reply, &n, "lines[1].ingredient_code", "Bad Code!");
    meso_handler_need_ingredient (reply, &n, "ingredient.code", NULL);
    assert_int_equal (n, 2);
    Meso__V1__Reply *env = s_envelope (reply);
    assert_int_equal (env->n_reasons, 2);
    assert_string_equal (env->reasons[0]->code, "invalid_code");
    assert_string_equal (env->reasons[0]->field, "lines[1].ingredient_code");
    assert_string_equal (env->reasons[0]->message,
                         "lines[1].ingredient_code must be 1 to 64 characters of a-z, 0-9, _ or - "
                         "(got \"Bad Code!\")");
    assert_string_equal (env->reasons[1]->code, "missing_field");
    assert_string_equal (env->reasons[1]->field, "ingredient.code");
    meso__v1__reply__free_unpacked (env, NULL);
    meso_reply_destroy (&reply);
}

static void
test_need_reasons (void **state)
{
    meso_reply_t *reply = meso_reply_new ();
    int bad = 0;
    char over[80];
    memset (over, 'x', sizeof over);
    over[65] = '\0';
    meso_handler_need_text (reply, &bad, "name", NULL, 200);        /* missing */
    meso_handler_need_text (reply, &bad, "lot_number", over, 64);   /* too long */
    meso_handler_need_id (reply, &bad, "patient_id", over);         /* too long */
    meso_handler_need_id (reply, &bad, "clinic_id", "clinic-a");     /* fine */
    over[64] = '\0';
    meso_handler_need_id (reply, &bad, "invoice_id", over);         /* 64: fine */
    meso_handler_need_code (reply, &bad, "recipe_id", "");          /* missing */
    meso_handler_need_code (reply, &bad, "ingredient_code", "Bad Code!");
    meso_handler_need_code (reply, &bad, "unit", "mg");             /* fine */
    assert_int_equal (bad, 5);
    /* Reasons alone do not make an error: meso_handler_invalid does. */
    assert_int_equal (meso_reply_status (reply), MESO_OK);
    meso_handler_invalid (reply, bad, "x.Y");
    Meso__V1__Reply *env = s_envelope (reply);
    assert_int_equal (env->n_reasons, 5);
    const char *want[5][3] = {
        { "missing_field", "name", "name is required" },
        { "out_of_range", "lot_number", "lot_number must be at most 64 bytes" },
        { "out_of_range", "patient_id", "patient_id must be at most 64 bytes" },
        { "missing_field", "recipe_id", "recipe_id is required" },
        { "invalid_code", "ingredient_code",
          "ingredient_code must be 1 to 64 characters of a-z, 0-9, _ or - (got \"Bad Code!\")" },
    };
    for (int i = 0; i < 5; i++) {
        assert_string_equal (env->reasons[i]->code, want[i][0]);
        assert_string_equal (env->reasons[i]->field, want[i][1]);
        assert_string_equal (env->reasons[i]->message, want[i][2]);
    }
    meso__v1__reply__free_unpacked (env, NULL);
    meso_reply_destroy (&reply);
}

static void
test_emit_fills_the_event (void **state)
{
    /* A handle that never connects: the outbox refuses the mismatched
     * payload before it would touch the database, after emit filled the
     * event. */
    meso_db_t *db = meso_db_new ("host=/nonexistent-meso-test port=1 connect_timeout=1");
    assert_non_null (db);
    Meso__V1__Actor service = MESO__V1__ACTOR__INIT;
    service.id = "inventory";
    Meso__V1__Actor client = MESO__V1__ACTOR__INIT;
    client.id = "nurse-1";
    Meso__V1__Event ev = MESO__V1__EVENT__INIT;
    assert_int_equal (meso_handler_emit (db, &ev, "stock.low", NULL, NULL, &service), -1);
    assert_string_equal (ev.type, "stock.low");
    assert_string_equal (ev.clinic_id, "");
    assert_ptr_equal (ev.actor, &service);
    assert_int_equal (meso_handler_emit (db, &ev, "stock.received", "clinic-a", &client, &service),
                      -1);
    assert_string_equal (ev.type, "stock.received");
    assert_string_equal (ev.clinic_id, "clinic-a");
    assert_ptr_equal (ev.actor, &client);
    /* No fallback: the actor as given, even none. */
    assert_int_equal (meso_handler_emit (db, &ev, "screening.completed", "clinic-b", NULL, NULL), -1);
    assert_null (ev.actor);
    assert_string_equal (meso_db_error (db)->sqlstate, "22023");
    meso_db_destroy (&db);
}

/* Page tokens through the handler helpers: each key type is checked. */
static void
test_page_tokens (void **state)
{
    (void) state;
    meso_page_pos_t pos;
    char tok[MESO_PAGE_TOKEN_MAX];
    /* "" is the first page. */
    assert_true (meso_handler_page_ok ("a.List", "", "iu", &pos));
    assert_int_equal (pos.n, 0);
    assert_true (meso_handler_page_ok ("a.List", NULL, "iu", &pos));
    /* A good token of this list, its keys back. */
    const char *good[] = { "-1700000000000000", "0b6c1e2a-7f3d-4c5e-9a8b-1234567890ab" };
    assert_int_equal (meso_page_token_encode ("a.List", good, 2, tok, sizeof tok), 0);
    assert_true (meso_handler_page_ok ("a.List", tok, "iu", &pos));
    assert_int_equal (pos.n, 2);
    assert_string_equal (pos.key[1], good[1]);
    /* Another list's, or another key count: refused. */
    assert_false (meso_handler_page_ok ("b.List", tok, "iu", &pos));
    assert_int_equal (pos.n, 0);
    assert_false (meso_handler_page_ok ("a.List", tok, "i", &pos));
    /* Well-formed tokens whose values are not of their types. */
    const char *cases[][2] = {
        { "12a", "i" }, { "", "i" }, { "12345678901234567890", "i" }, { "0b6c1e2a-7f3d", "u" },
        { "0b6c1e2a-7f3d-4c5e-9a8b-1234567890zz", "u" }, { "Bad Code", "c" }, { "2026-1-01", "d" },
        { "2026-01-0x", "d" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *k[] = { cases[i][0] };
        assert_int_equal (meso_page_token_encode ("a.List", k, 1, tok, sizeof tok), 0);
        assert_false (meso_handler_page_ok ("a.List", tok, cases[i][1], &pos));
    }
    const char *ok[][2] = { { "42", "i" }, { "caffeine", "c" }, { "2026-01-31", "d" }, { "any text", "s" } };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        const char *k[] = { ok[i][0] };
        assert_int_equal (meso_page_token_encode ("a.List", k, 1, tok, sizeof tok), 0);
        assert_true (meso_handler_page_ok ("a.List", tok, ok[i][1], &pos));
    }
    /* need_page: a reason on page_token, counted. */
    meso_reply_t *reply = meso_reply_new ();
    int bad = 0;
    meso_handler_need_page (reply, &bad, "a.List", "garbage", "i", &pos);
    assert_int_equal (bad, 1);
    assert_true (meso_handler_invalid (reply, bad, "a.List"));
    Meso__V1__Reply *env = s_envelope (reply);
    assert_int_equal (env->status, MESO_INVALID_ARGUMENT);
    assert_string_equal (env->reasons[0]->field, "page_token");
    assert_string_equal (env->reasons[0]->code, "invalid_page_token");
    meso__v1__reply__free_unpacked (env, NULL);
    meso_reply_destroy (&reply);
}

/* page_fit: more when the query had a row past the page or the frame cap
 * cut it; an error when not one item fits. */
static void
test_page_fit (void **state)
{
    (void) state;
    meso_reply_t *reply = meso_reply_new ();
    static char big[600 * 1024];
    memset (big, 'x', sizeof big - 1);
    char *names[3] = { "a", "b", "c" };
    Meso__V1__StockRecalled m = MESO__V1__STOCK_RECALLED__INIT;
    m.appointment_ids = names;
    m.n_appointment_ids = 3;
    assert_int_equal (meso_handler_page_fit (reply, &m.base, &m.n_appointment_ids, 3, 3), 0);
    assert_int_equal (meso_handler_page_fit (reply, &m.base, &m.n_appointment_ids, 4, 3), 1);
    assert_int_equal (m.n_appointment_ids, 3);
    /* Two items of 600 KB: one fits under the cap. */
    names[0] = big;
    names[1] = big;
    m.n_appointment_ids = 2;
    assert_int_equal (meso_handler_page_fit (reply, &m.base, &m.n_appointment_ids, 2, 2), 1);
    assert_int_equal (m.n_appointment_ids, 1);
    /* One item over the cap alone: RESOURCE_EXHAUSTED. */
    static char huge[1100 * 1024];
    memset (huge, 'y', sizeof huge - 1);
    names[0] = huge;
    m.n_appointment_ids = 1;
    assert_int_equal (meso_handler_page_fit (reply, &m.base, &m.n_appointment_ids, 1, 1), -1);
    assert_int_equal (meso_reply_status (reply), MESO_RESOURCE_EXHAUSTED);
    /* page_next: the token of the last key, decodable by its list. */
    char tok[MESO_PAGE_TOKEN_MAX];
    const char *k[] = { "7" };
    assert_int_equal (meso_handler_page_next (reply, "a.List", k, 1, tok), 0);
    meso_page_pos_t pos;
    assert_true (meso_handler_page_ok ("a.List", tok, "i", &pos));
    assert_string_equal (pos.key[0], "7");
    meso_reply_destroy (&reply);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_undecodable),
        cmocka_unit_test (test_invalid),
        cmocka_unit_test (test_code_ok),
        cmocka_unit_test (test_need_clinic),
        cmocka_unit_test (test_need_ingredient),
        cmocka_unit_test (test_need_reasons),
        cmocka_unit_test (test_emit_fills_the_event),
        cmocka_unit_test (test_page_tokens),
        cmocka_unit_test (test_page_fit),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
