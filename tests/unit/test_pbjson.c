/* test_pbjson.c -- the descriptor-driven JSON printer: nested messages,
 * repeated fields, oneofs, enums by name, bytes as base64, 64-bit integers
 * as numbers, escaping, and the "every field" mode of mesoctl --json. The
 * expected texts are written out in full: the output is what an operator
 * pipes into jq. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "meso/pbjson.h"
#include "events.pb-c.h"
#include "rpc.pb-c.h"

static void
s_expect (const ProtobufCMessage *msg, unsigned flags, const char *want)
{
    size_t len = 0;
    char *got = meso_pbjson_encode (msg, flags, &len);
    assert_non_null (got);
    assert_string_equal (got, want);
    assert_int_equal (len, strlen (want));
    free (got);
}

static void
test_nested_repeated_oneof (void **state)
{
    Meso__V1__SessionInfo info = MESO__V1__SESSION_INFO__INIT;
    char *areas[] = { "thighs", "buttocks" };
    info.appointment_id = "a-1";
    info.starts_at_us = 1795000000000000LL;
    info.n_areas = 2;
    info.areas = areas;
    info.session_number = 3;
    info.maintenance = 1;
    Meso__V1__IngredientAmount caf = MESO__V1__INGREDIENT_AMOUNT__INIT;
    caf.ingredient_code = "caffeine";
    caf.unit = MESO__V1__UNIT__UNIT_MG;
    caf.amount_milli = 1500;
    Meso__V1__IngredientAmount *consumed[] = { &caf };
    Meso__V1__SessionCompleted done = MESO__V1__SESSION_COMPLETED__INIT;
    done.session = &info;
    done.n_consumed = 1;
    done.consumed = consumed;
    Meso__V1__Actor actor = MESO__V1__ACTOR__INIT;
    actor.kind = MESO__V1__ACTOR__KIND__KIND_USER;
    actor.id = "dr-who";
    Meso__V1__Event ev = MESO__V1__EVENT__INIT;
    ev.id = "e-1";
    ev.type = "session.completed";
    ev.stream = "session";
    ev.stream_seq = UINT64_MAX;
    ev.global_seq = 42;
    ev.occurred_at_us = -5;
    ev.actor = &actor;
    ev.payload_case = MESO__V1__EVENT__PAYLOAD_SESSION_COMPLETED;
    ev.session_completed = &done;
    s_expect (&ev.base, 0,
              "{\"id\":\"e-1\",\"type\":\"session.completed\",\"occurred_at_us\":-5,"
              "\"stream\":\"session\",\"stream_seq\":18446744073709551615,\"global_seq\":42,"
              "\"actor\":{\"kind\":\"KIND_USER\",\"id\":\"dr-who\"},"
              "\"session_completed\":{\"session\":{\"appointment_id\":\"a-1\","
              "\"starts_at_us\":1795000000000000,\"areas\":[\"thighs\",\"buttocks\"],"
              "\"session_number\":3,\"maintenance\":true},"
              "\"consumed\":[{\"ingredient_code\":\"caffeine\",\"unit\":\"UNIT_MG\","
              "\"amount_milli\":1500}]}}");
}

static void
test_every_field_mode (void **state)
{
    /* Defaults appear, unset messages are null, the oneof shows only the
     * member that is set (even when it is empty). */
    Meso__V1__StockLow low = MESO__V1__STOCK_LOW__INIT;
    Meso__V1__Event ev = MESO__V1__EVENT__INIT;
    ev.type = "stock.low";
    ev.payload_case = MESO__V1__EVENT__PAYLOAD_STOCK_LOW;
    ev.stock_low = &low;
    s_expect (&ev.base, MESO_PBJSON_DEFAULTS,
              "{\"id\":\"\",\"type\":\"stock.low\",\"clinic_id\":\"\",\"occurred_at_us\":0,"
              "\"stream\":\"\",\"stream_seq\":0,\"global_seq\":0,\"clinic_time_zone\":\"\","
              "\"actor\":null,\"stock_low\":{\"ingredient_code\":\"\",\"unit\":\"UNIT_UNSPECIFIED\","
              "\"available_milli\":0,\"reorder_point_milli\":0}}");
    s_expect (&ev.base, 0, "{\"type\":\"stock.low\",\"stock_low\":{}}");

    Meso__V1__ReplayReply empty = MESO__V1__REPLAY_REPLY__INIT;
    s_expect (&empty.base, MESO_PBJSON_DEFAULTS, "{\"events\":[],\"head\":0,\"last_seq\":0}");
    s_expect (&empty.base, 0, "{}");
}

static void
test_enums (void **state)
{
    Meso__V1__SessionCancelled c = MESO__V1__SESSION_CANCELLED__INIT;
    c.by = MESO__V1__CANCELLED_BY__CANCELLED_BY_PATIENT;
    c.late = 1;
    c.notice_hours = -3;
    s_expect (&c.base, 0, "{\"by\":\"CANCELLED_BY_PATIENT\",\"notice_hours\":-3,\"late\":true}");
    /* A value the descriptor does not know: its number. */
    c.by = 77;
    s_expect (&c.base, 0, "{\"by\":77,\"notice_hours\":-3,\"late\":true}");
    Meso__V1__Reply r = MESO__V1__REPLY__INIT;
    r.status = MESO__V1__STATUS__STATUS_FAILED_PRECONDITION;
    s_expect (&r.base, 0, "{\"status\":\"STATUS_FAILED_PRECONDITION\"}");
}

static void
test_bytes_base64 (void **state)
{
    Meso__V1__Request rq = MESO__V1__REQUEST__INIT;
    struct {
        const char *in;
        const char *out;
    } cases[] = {
        { "f", "{\"body\":\"Zg==\"}" },
        { "fo", "{\"body\":\"Zm8=\"}" },
        { "foo", "{\"body\":\"Zm9v\"}" },
        { "foob", "{\"body\":\"Zm9vYg==\"}" },
        { "\xff\xfe\x00", "{\"body\":\"//4A\"}" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rq.body.data = (uint8_t *) cases[i].in;
        rq.body.len = i == 4 ? 3 : strlen (cases[i].in);
        s_expect (&rq.base, 0, cases[i].out);
    }
    rq.body.data = NULL;
    rq.body.len = 0;
    s_expect (&rq.base, MESO_PBJSON_DEFAULTS,
              "{\"request_id\":\"\",\"method\":\"\",\"idempotency_key\":\"\",\"deadline_ms\":0,"
              "\"actor\":null,\"body\":\"\"}");
}

static void
test_string_escapes (void **state)
{
    Meso__V1__Reason r = MESO__V1__REASON__INIT;
    r.code = "q\"b\\s\n\t\x01";
    r.field = "caf\xc3\xa9 \xe2\x82\xac";           /* valid UTF-8 passes through */
    r.message = "bad \xff end \xc3";                /* invalid bytes become U+FFFD */
    s_expect (&r.base, 0,
              "{\"code\":\"q\\\"b\\\\s\\n\\t\\u0001\",\"field\":\"caf\xc3\xa9 \xe2\x82\xac\","
              "\"message\":\"bad \\ufffd end \\ufffd\"}");
    /* Overlong encodings and surrogates are not valid either. */
    r.code = "\xc0\xaf";
    r.field = "\xed\xa0\x80";
    r.message = "";
    s_expect (&r.base, 0, "{\"code\":\"\\ufffd\\ufffd\",\"field\":\"\\ufffd\\ufffd\\ufffd\"}");
}

static void
test_packed_event_round_trip (void **state)
{
    /* What mesoctl does: unpack the bytes off the wire, print. */
    Meso__V1__PaymentReceived pay = MESO__V1__PAYMENT_RECEIVED__INIT;
    pay.payment_id = "p-9";
    pay.amount_cents = 35000;
    pay.currency = "EUR";
    Meso__V1__Event ev = MESO__V1__EVENT__INIT;
    ev.type = "billing.payment_received";
    ev.clinic_id = "c-1";
    ev.payload_case = MESO__V1__EVENT__PAYLOAD_PAYMENT_RECEIVED;
    ev.payment_received = &pay;
    uint8_t buf[256];
    size_t len = meso__v1__event__pack (&ev, buf);
    Meso__V1__Event *back = meso__v1__event__unpack (NULL, len, buf);
    assert_non_null (back);
    s_expect (&back->base, 0,
              "{\"type\":\"billing.payment_received\",\"clinic_id\":\"c-1\","
              "\"payment_received\":{\"payment_id\":\"p-9\",\"amount_cents\":35000,"
              "\"currency\":\"EUR\"}}");
    meso__v1__event__free_unpacked (back, NULL);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_nested_repeated_oneof),
        cmocka_unit_test (test_every_field_mode),
        cmocka_unit_test (test_enums),
        cmocka_unit_test (test_bytes_base64),
        cmocka_unit_test (test_string_escapes),
        cmocka_unit_test (test_packed_event_round_trip),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
