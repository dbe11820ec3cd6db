/* test_webhooks_logic.c -- the pure decisions of meso-webhooks
 * (services/webhooks/logic.h): the signature against a value computed
 * with Python's hmac and against the timestamp "." body rule, the
 * outcome of an attempt for every class of answer, the back-off's bounds
 * and growth, URL and event type checks, which events a subscription
 * wants, and the JSON body with and without health fields. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.pb-c.h"
#include "webhooks/logic.h"

static void
test_sign_vector (void **state)
{
    /* With an empty body the signed text is "<timestamp>." */
    char sig[WH_SIGNATURE_MAX];
    const uint8_t key[] = "Jefe";
    assert_int_equal (wh_sign (key, 4, "what do ya want for nothing?", "", 0, sig), 0);
    /* HMAC-SHA256("Jefe", "what do ya want for nothing?.") computed with
     * Python: hmac.new(b"Jefe", b"what do ya want for nothing?.", "sha256") */
    assert_string_equal (sig, "v1=38c6c848e5a2f57451f5095df6370d5c9b83175b99df46422b34960c28def6ae");
}

static void
test_sign_rule (void **state)
{
    uint8_t secret[WH_SECRET_BYTES];
    memset (secret, 7, sizeof secret);
    char a[WH_SIGNATURE_MAX], b[WH_SIGNATURE_MAX], c[WH_SIGNATURE_MAX];
    wh_sign (secret, sizeof secret, "1700000000", "{\"id\":\"x\"}", 10, a);
    wh_sign (secret, sizeof secret, "1700000001", "{\"id\":\"x\"}", 10, b);
    wh_sign (secret, sizeof secret, "1700000000", "{\"id\":\"y\"}", 10, c);
    assert_int_equal (strlen (a), 3 + 64);
    assert_memory_equal (a, "v1=", 3);
    assert_string_not_equal (a, b);     /* the timestamp is signed */
    assert_string_not_equal (a, c);     /* the body is signed */
    assert_int_equal (wh_sign (secret, 0, "1", "", 0, a), -1);
}

static void
test_decide (void **state)
{
    /* 2xx delivers, at any attempt */
    assert_int_equal (wh_decide (200, 1, 3, 10), WH_DELIVERED);
    assert_int_equal (wh_decide (204, 9, 3, 10), WH_DELIVERED);
    /* retryable: no answer, 5xx, 408, 429 -- until park_after */
    int retry[] = { 0, 500, 502, 503, 504, 408, 429 };
    for (size_t i = 0; i < sizeof retry / sizeof retry[0]; i++) {
        assert_true (wh_retryable (retry[i]));
        assert_int_equal (wh_decide (retry[i], 1, 3, 10), WH_RETRY);
        assert_int_equal (wh_decide (retry[i], 9, 3, 10), WH_RETRY);
        assert_int_equal (wh_decide (retry[i], 10, 3, 10), WH_PARK);
    }
    /* refusals: 4xx other than 408/429, 3xx (not followed), 1xx */
    int refused[] = { 400, 401, 403, 404, 410, 422, 301, 302, 101 };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        assert_false (wh_retryable (refused[i]));
        assert_int_equal (wh_decide (refused[i], 1, 3, 10), WH_RETRY);
        assert_int_equal (wh_decide (refused[i], 2, 3, 10), WH_RETRY);
        assert_int_equal (wh_decide (refused[i], 3, 3, 10), WH_PARK);
    }
    assert_int_equal (wh_decide (410, 1, 1, 10), WH_PARK);
}

static void
test_backoff (void **state)
{
    /* attempt 1: [base/2, base]; doubles; capped */
    assert_int_equal (wh_backoff_ms (1, 1000, 60000, 0.0), 500);
    assert_int_equal (wh_backoff_ms (1, 1000, 60000, 0.999999), 999);
    assert_int_equal (wh_backoff_ms (2, 1000, 60000, 0.0), 1000);
    assert_int_equal (wh_backoff_ms (3, 1000, 60000, 0.5), 3000);
    assert_int_equal (wh_backoff_ms (20, 1000, 60000, 0.0), 30000);
    assert_true (wh_backoff_ms (20, 1000, 60000, 0.999999) <= 60000);
    assert_true (wh_backoff_ms (1000, 1000, 60000, 0.5) <= 60000);   /* no overflow */
    for (uint32_t a = 1; a < 40; a++)
        for (double d = 0; d < 1; d += 0.125) {
            int64_t w = wh_backoff_ms (a, 50, 400, d);
            assert_true (w >= 25 && w <= 400);
        }
    /* out-of-range inputs stay sane */
    assert_int_equal (wh_backoff_ms (1, 0, 0, 0.0), 1);
    assert_true (wh_backoff_ms (1, 1000, 60000, 7.0) <= 1000);
    assert_int_equal (wh_backoff_ms (1, 1000, 60000, -1.0), 500);
}

static void
test_url (void **state)
{
    assert_null (wh_url_problem ("http://127.0.0.1:8080/hook"));
    assert_null (wh_url_problem ("https://crm.example.com/meso?x=1"));
    assert_non_null (wh_url_problem (""));
    assert_non_null (wh_url_problem (NULL));
    assert_non_null (wh_url_problem ("ftp://example.com/"));
    assert_non_null (wh_url_problem ("file:///etc/passwd"));
    assert_non_null (wh_url_problem ("HTTP//example.com"));
    assert_non_null (wh_url_problem ("http://"));
    assert_non_null (wh_url_problem ("http:///path"));
    assert_non_null (wh_url_problem ("http://:80/"));
    assert_non_null (wh_url_problem ("http://user:pw@example.com/"));
    assert_non_null (wh_url_problem ("http://example.com/a b"));
    assert_non_null (wh_url_problem ("http://example.com/\r\nX-Evil: 1"));
    char big[2100];
    memset (big, 'a', sizeof big);
    memcpy (big, "http://", 7);
    big[sizeof big - 1] = '\0';
    assert_non_null (wh_url_problem (big));
}

static void
test_types_and_wants (void **state)
{
    char *streams[] = { "session", "stock" };
    assert_null (wh_type_problem ("session.booked", streams, 2));
    assert_null (wh_type_problem ("stock.low", streams, 2));
    assert_non_null (wh_type_problem ("billing.invoice_issued", streams, 2));
    assert_non_null (wh_type_problem ("sessionbooked", streams, 2));
    assert_non_null (wh_type_problem ("session.", streams, 2));
    assert_non_null (wh_type_problem ("session.Booked", streams, 2));
    assert_non_null (wh_type_problem ("sess.booked", streams, 2));
    assert_int_equal (wh_stream_index ("billing"), 3);
    assert_int_equal (wh_stream_index ("nope"), -1);
    assert_string_equal (wh_stream_name (1), "screening");
    char *types[] = { "session.booked" };
    assert_true (wh_wants ("par", NULL, 0, "session.completed", "par"));
    assert_false (wh_wants ("par", NULL, 0, "session.completed", "lyon"));
    assert_false (wh_wants ("par", NULL, 0, "session.completed", ""));     /* chain-wide */
    assert_true (wh_wants ("", NULL, 0, "session.completed", "lyon"));
    assert_true (wh_wants ("", NULL, 0, "stock.low", ""));
    assert_true (wh_wants ("par", types, 1, "session.booked", "par"));
    assert_false (wh_wants ("par", types, 1, "session.completed", "par"));
}

static uint8_t *
s_completed (size_t *len)
{
    Meso__V1__Event ev = MESO__V1__EVENT__INIT;
    Meso__V1__SessionCompleted done = MESO__V1__SESSION_COMPLETED__INIT;
    Meso__V1__SessionInfo info = MESO__V1__SESSION_INFO__INIT;
    info.appointment_id = "a-1";
    info.clinic_id = "par";
    done.session = &info;
    done.notes = "NOTE-MARK bruising";
    ev.id = "ev-1";
    ev.type = "session.completed";
    ev.clinic_id = "par";
    ev.stream = "session";
    ev.stream_seq = 7;
    ev.occurred_at_us = 1700000000123456LL;
    ev.payload_case = MESO__V1__EVENT__PAYLOAD_SESSION_COMPLETED;
    ev.session_completed = &done;
    *len = meso__v1__event__get_packed_size (&ev);
    uint8_t *buf = malloc (*len);
    meso__v1__event__pack (&ev, buf);
    return buf;
}

static void
test_body (void **state)
{
    size_t len, out_len;
    uint8_t *raw = s_completed (&len);
    char id[65], type[65];
    int64_t occurred;
    char *whole = wh_body (raw, len, true, &out_len, id, type, &occurred);
    char *plain = wh_body (raw, len, false, &out_len, id, type, &occurred);
    assert_non_null (whole);
    assert_non_null (plain);
    assert_string_equal (id, "ev-1");
    assert_string_equal (type, "session.completed");
    assert_int_equal (occurred, 1700000000);
    assert_int_equal (out_len, strlen (plain));
    /* proto field names, the health field only where allowed */
    assert_non_null (strstr (whole, "\"stream_seq\":7"));
    assert_non_null (strstr (whole, "\"appointment_id\":\"a-1\""));
    assert_non_null (strstr (whole, "NOTE-MARK"));
    assert_null (strstr (plain, "NOTE-MARK"));
    assert_non_null (strstr (plain, "\"appointment_id\":\"a-1\""));
    free (whole);
    free (plain);
    /* garbage does not decode */
    uint8_t junk[] = { 0xff, 0xff, 0xff };
    assert_null (wh_body (junk, sizeof junk, true, &out_len, id, type, &occurred));
    free (raw);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_sign_vector),
        cmocka_unit_test (test_sign_rule),
        cmocka_unit_test (test_decide),
        cmocka_unit_test (test_backoff),
        cmocka_unit_test (test_url),
        cmocka_unit_test (test_types_and_wants),
        cmocka_unit_test (test_body),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
