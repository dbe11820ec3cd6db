/* test_reply.c -- what a handler fills, and the stored form of a reply
 * that the idempotency store keeps and replays. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "meso/bus.h"
/* For meso_reply_envelope: the envelope the server sends, request_id and
 * replayed included. */
#include "../../common/src/bus_private.h"

/* Unpacks what meso_reply_pack produced, to look at the envelope. */
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
test_ok_with_body (void **state)
{
    meso_reply_t *reply = meso_reply_new ();
    assert_int_equal (meso_reply_status (reply), MESO_OK);
    Meso__V1__HealthReply health = MESO__V1__HEALTH_REPLY__INIT;
    health.service = "demo";
    health.uptime_s = 42;
    meso_reply_ok (reply, &health.base);

    Meso__V1__Reply *env = s_envelope (reply);
    assert_int_equal (env->status, MESO__V1__STATUS__STATUS_OK);
    assert_string_equal (env->request_id, "");      /* never stored */
    Meso__V1__HealthReply *back = meso__v1__health_reply__unpack (NULL, env->body.len,
                                                                  env->body.data);
    assert_non_null (back);
    assert_string_equal (back->service, "demo");
    assert_int_equal (back->uptime_s, 42);
    meso__v1__health_reply__free_unpacked (back, NULL);
    meso__v1__reply__free_unpacked (env, NULL);

    /* Raw bytes are copied, not borrowed. */
    uint8_t raw [4] = { 9, 8, 7, 6 };
    meso_reply_ok_bytes (reply, raw, sizeof raw);
    raw [0] = 0;
    env = s_envelope (reply);
    assert_int_equal (env->body.len, 4);
    assert_int_equal (env->body.data [0], 9);
    meso__v1__reply__free_unpacked (env, NULL);
    meso_reply_destroy (&reply);
    assert_null (reply);
}

static void
test_error_reasons_detail (void **state)
{
    meso_reply_t *reply = meso_reply_new ();
    meso_reply_ok_bytes (reply, (const uint8_t *) "body", 4);
    meso_reply_error (reply, MESO_INVALID_ARGUMENT, "%d fields are wrong", 2);
    meso_reply_detail (reply, "see %s", "reasons");
    meso_reply_reason (reply, "missing_field", "patient.birth_date", "birth date is required");
    meso_reply_reason (reply, "pregnancy", NULL, "not during pregnancy (week %d)", 12);
    assert_int_equal (meso_reply_status (reply), MESO_INVALID_ARGUMENT);

    Meso__V1__Reply *env = s_envelope (reply);
    assert_int_equal (env->status, MESO__V1__STATUS__STATUS_INVALID_ARGUMENT);
    assert_string_equal (env->message, "2 fields are wrong");
    assert_string_equal (env->detail, "see reasons");
    /* An error carries no body, even one set before. */
    assert_int_equal (env->body.len, 0);
    assert_int_equal (env->n_reasons, 2);
    assert_string_equal (env->reasons [0]->code, "missing_field");
    assert_string_equal (env->reasons [0]->field, "patient.birth_date");
    assert_string_equal (env->reasons [0]->message, "birth date is required");
    assert_string_equal (env->reasons [1]->code, "pregnancy");
    assert_string_equal (env->reasons [1]->field, "");
    assert_string_equal (env->reasons [1]->message, "not during pregnancy (week 12)");
    meso__v1__reply__free_unpacked (env, NULL);
    meso_reply_destroy (&reply);
}

static void
test_strings_stay_valid (void **state)
{
    /* Quoting client bytes must not produce an invalid proto3 string or a
     * multi-line message. */
    meso_reply_t *reply = meso_reply_new ();
    meso_reply_error (reply, MESO_NOT_FOUND, "unknown method \"%s\"", "x\xff\xc3y\nz");
    Meso__V1__Reply *env = s_envelope (reply);
    assert_string_equal (env->message, "unknown method \"x??y z\"");
    meso__v1__reply__free_unpacked (env, NULL);

    /* A long message is cut, not refused; valid UTF-8 survives. */
    char *long_text = malloc (5000);
    memset (long_text, 'a', 4999);
    long_text [4999] = '\0';
    meso_reply_error (reply, MESO_INTERNAL, "%s \xc3\xa9", long_text);
    env = s_envelope (reply);
    assert_true (strlen (env->message) <= 1024);
    assert_true (strlen (env->message) > 500);
    meso__v1__reply__free_unpacked (env, NULL);
    meso_reply_error (reply, MESO_INTERNAL, "caf\xc3\xa9");
    env = s_envelope (reply);
    assert_string_equal (env->message, "caf\xc3\xa9");
    meso__v1__reply__free_unpacked (env, NULL);
    free (long_text);

    /* An "error" with status OK is a caller bug: it must not read as OK. */
    meso_reply_error (reply, MESO_OK, "oops");
    assert_int_equal (meso_reply_status (reply), MESO_INTERNAL);
    meso_reply_destroy (&reply);
}

static void
test_pack_unpack_round_trip (void **state)
{
    meso_reply_t *first = meso_reply_new ();
    meso_reply_ok_bytes (first, (const uint8_t *) "\x08\x2a", 2);
    meso_reply_detail (first, "created");
    size_t len = 0;
    uint8_t *stored = meso_reply_pack (first, &len);
    assert_non_null (stored);

    meso_reply_t *again = meso_reply_new ();
    meso_reply_error (again, MESO_ABORTED, "left over from an earlier attempt");
    meso_reply_reason (again, "stale", NULL, "must disappear");
    assert_int_equal (meso_reply_unpack_into (again, stored, len), 0);
    assert_int_equal (meso_reply_status (again), MESO_OK);
    Meso__V1__Reply *env = s_envelope (again);
    assert_int_equal (env->body.len, 2);
    assert_memory_equal (env->body.data, "\x08\x2a", 2);
    assert_string_equal (env->detail, "created");
    assert_string_equal (env->message, "");
    assert_int_equal (env->n_reasons, 0);
    /* The stored form never says replayed... */
    assert_false (env->replayed);
    meso__v1__reply__free_unpacked (env, NULL);
    free (stored);
    /* ...but what the server sends for it does, with the request id. */
    Meso__V1__Reply wire = MESO__V1__REPLY__INIT;
    meso_reply_envelope (again, &wire, "req-7");
    assert_true (wire.replayed);
    assert_string_equal (wire.request_id, "req-7");
    assert_int_equal (wire.body.len, 2);
    meso_reply_reset (again);
    meso__v1__reply__init (&wire);
    meso_reply_envelope (again, &wire, NULL);
    assert_false (wire.replayed);

    /* ...an error reply with reasons survives the trip as well. */
    meso_reply_error (first, MESO_FAILED_PRECONDITION, "key reused");
    meso_reply_reason (first, "idempotency_key_reused", "idempotency_key", "different request");
    stored = meso_reply_pack (first, &len);
    assert_int_equal (meso_reply_unpack_into (again, stored, len), 0);
    assert_int_equal (meso_reply_status (again), MESO_FAILED_PRECONDITION);
    env = s_envelope (again);
    assert_string_equal (env->message, "key reused");
    assert_int_equal (env->n_reasons, 1);
    assert_string_equal (env->reasons [0]->field, "idempotency_key");
    meso__v1__reply__free_unpacked (env, NULL);
    free (stored);

    /* Garbage does not decode and leaves the reply as it was. */
    const uint8_t garbage [] = { 0x0A, 0x7F, 'x' };
    assert_int_equal (meso_reply_unpack_into (again, garbage, sizeof garbage), -1);
    assert_int_equal (meso_reply_status (again), MESO_FAILED_PRECONDITION);
    meso_reply_destroy (&first);
    meso_reply_destroy (&again);
}

static void
test_reset_clears_everything (void **state)
{
    meso_reply_t *reply = meso_reply_new ();
    meso_reply_ok_bytes (reply, (const uint8_t *) "abc", 3);
    meso_reply_error (reply, MESO_ABORTED, "conflict");
    meso_reply_detail (reply, "SQLSTATE 40001");
    for (int i = 0; i < 300; i++)           /* more than are kept */
        meso_reply_reason (reply, "r", "f", "reason %d", i);
    Meso__V1__Reply *env = s_envelope (reply);
    assert_int_equal (env->n_reasons, 256);
    meso__v1__reply__free_unpacked (env, NULL);

    meso_reply_reset (reply);
    assert_int_equal (meso_reply_status (reply), MESO_OK);
    env = s_envelope (reply);
    assert_int_equal (env->status, MESO__V1__STATUS__STATUS_OK);
    assert_string_equal (env->message, "");
    assert_string_equal (env->detail, "");
    assert_int_equal (env->n_reasons, 0);
    assert_int_equal (env->body.len, 0);
    assert_false (env->replayed);
    meso__v1__reply__free_unpacked (env, NULL);

    /* Reused buffers hold exactly the new content. */
    meso_reply_reason (reply, "x", NULL, "short");
    env = s_envelope (reply);
    assert_int_equal (env->n_reasons, 1);
    assert_string_equal (env->reasons [0]->message, "short");
    assert_string_equal (env->reasons [0]->field, "");
    meso__v1__reply__free_unpacked (env, NULL);
    meso_reply_destroy (&reply);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_ok_with_body),
        cmocka_unit_test (test_error_reasons_detail),
        cmocka_unit_test (test_strings_stay_valid),
        cmocka_unit_test (test_pack_unpack_round_trip),
        cmocka_unit_test (test_reset_clears_everything),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
