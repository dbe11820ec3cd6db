/* test_wire.c -- the request decoder and the request-id peeker against
 * valid envelopes and the malformed inputs the server must survive. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "meso/bus.h"

/* Packs a request with the given fields into a malloc'd buffer. */
static uint8_t *
s_pack (const char *id, const char *method, const char *key, size_t *len)
{
    Meso__V1__Request req = MESO__V1__REQUEST__INIT;
    req.request_id = (char *) id;
    req.method = (char *) method;
    req.idempotency_key = (char *) key;
    uint8_t body [3] = { 1, 2, 3 };
    req.body.data = body;
    req.body.len = sizeof body;
    req.deadline_ms = 1500;
    *len = meso__v1__request__get_packed_size (&req);
    uint8_t *buf = malloc (*len);
    assert_non_null (buf);
    meso__v1__request__pack (&req, buf);
    return buf;
}

/* ------------------------------------------------------------- peek */

static void
test_peek_valid (void **state)
{
    size_t len;
    uint8_t *buf = s_pack ("abc-42", "demo.Echo", "", &len);
    char id [65];
    assert_int_equal (meso_wire_peek_request_id (buf, len, id, sizeof id), 0);
    assert_string_equal (id, "abc-42");
    /* A small buffer gets a truncated, terminated copy. */
    char small [4];
    assert_int_equal (meso_wire_peek_request_id (buf, len, small, sizeof small), 0);
    assert_string_equal (small, "abc");
    free (buf);
}

static void
test_peek_after_other_fields (void **state)
{
    /* varint field 4, fixed64 field 9, fixed32 field 10, bytes field 6,
     * then field 1: the scanner must skip every wire type. */
    const uint8_t buf [] = {
        0x20, 0x96, 0x01,                               /* 4: 150 */
        0x49, 1, 2, 3, 4, 5, 6, 7, 8,                   /* 9: fixed64 */
        0x55, 1, 2, 3, 4,                               /* 10: fixed32 */
        0x32, 0x02, 'x', 'y',                           /* 6: "xy" */
        0x0A, 0x03, 'r', '-', '1'                       /* 1: "r-1" */
    };
    char id [65];
    assert_int_equal (meso_wire_peek_request_id (buf, sizeof buf, id, sizeof id), 0);
    assert_string_equal (id, "r-1");
}

static void
test_peek_no_field_1 (void **state)
{
    size_t len;
    uint8_t *buf = s_pack ("", "demo.Echo", "k", &len);
    char id [65] = "junk";
    assert_int_equal (meso_wire_peek_request_id (buf, len, id, sizeof id), -1);
    assert_string_equal (id, "");
    free (buf);
}

static void
test_peek_truncated_varint (void **state)
{
    /* A key whose varint never ends. */
    const uint8_t key [] = { 0x80, 0x80, 0x80 };
    char id [65];
    assert_int_equal (meso_wire_peek_request_id (key, sizeof key, id, sizeof id), -1);
    /* Field 1's length varint cut short. */
    const uint8_t length [] = { 0x0A, 0xFF };
    assert_int_equal (meso_wire_peek_request_id (length, sizeof length, id, sizeof id), -1);
    /* Eleven continuation bytes: longer than any varint. */
    const uint8_t endless [] = { 0x20, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                 0xFF, 0xFF, 0xFF, 0x01, 0x0A, 0x01, 'x' };
    assert_int_equal (meso_wire_peek_request_id (endless, sizeof endless, id, sizeof id), -1);
}

static void
test_peek_length_past_end (void **state)
{
    const uint8_t buf [] = { 0x0A, 0x05, 'a', 'b' };
    char id [65];
    assert_int_equal (meso_wire_peek_request_id (buf, sizeof buf, id, sizeof id), -1);
    /* Found before the damage: still returned (the frame may be cut). */
    const uint8_t later [] = { 0x0A, 0x01, 'a', 0x12, 0x09, 'D' };
    assert_int_equal (meso_wire_peek_request_id (later, sizeof later, id, sizeof id), 0);
    assert_string_equal (id, "a");
}

static void
test_peek_huge_length (void **state)
{
    /* Length 2^64-1: pos + n would wrap around. */
    const uint8_t buf [] = { 0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                             0xFF, 0x01, 'a' };
    char id [65];
    assert_int_equal (meso_wire_peek_request_id (buf, sizeof buf, id, sizeof id), -1);
    /* A huge length on another field before field 1. */
    const uint8_t other [] = { 0x32, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x0A, 0x01, 'a' };
    assert_int_equal (meso_wire_peek_request_id (other, sizeof other, id, sizeof id), -1);
}

static void
test_peek_empty_and_bad_types (void **state)
{
    char id [65];
    assert_int_equal (meso_wire_peek_request_id (NULL, 0, id, sizeof id), -1);
    const uint8_t one [] = { 0 };
    assert_int_equal (meso_wire_peek_request_id (one, 0, id, sizeof id), -1);
    /* Field number 0 and a group start are not ours. */
    assert_int_equal (meso_wire_peek_request_id (one, sizeof one, id, sizeof id), -1);
    const uint8_t group [] = { 0x0B, 0x0A, 0x01, 'a' };
    assert_int_equal (meso_wire_peek_request_id (group, sizeof group, id, sizeof id), -1);
    /* No room for even the NUL. */
    size_t len;
    uint8_t *buf = s_pack ("x", "m", "", &len);
    assert_int_equal (meso_wire_peek_request_id (buf, len, id, 0), -1);
    free (buf);
}

/* ------------------------------------------------------------- decode */

static void
test_decode_valid (void **state)
{
    size_t len;
    uint8_t *buf = s_pack ("r-1", "demo.Increment", "key-1", &len);
    Meso__V1__Request *req = NULL;
    char err [256];
    const char *field = "x";
    assert_int_equal (meso_wire_decode_request (buf, len, &req, err, sizeof err, &field), 0);
    assert_non_null (req);
    assert_string_equal (req->request_id, "r-1");
    assert_string_equal (req->method, "demo.Increment");
    assert_string_equal (req->idempotency_key, "key-1");
    assert_int_equal (req->deadline_ms, 1500);
    assert_int_equal (req->body.len, 3);
    assert_int_equal (req->body.data [2], 3);
    meso__v1__request__free_unpacked (req, NULL);
    free (buf);
}

static void
s_expect_refused (const uint8_t *buf, size_t len, const char *want_field, const char *want_text)
{
    Meso__V1__Request *req = (Meso__V1__Request *) 1;
    char err [256];
    const char *field = NULL;
    assert_int_equal (meso_wire_decode_request (buf, len, &req, err, sizeof err, &field), -1);
    assert_null (req);
    assert_non_null (field);
    assert_string_equal (field, want_field);
    assert_non_null (strstr (err, want_text));
}

/* Packs a request with an actor; '#' in the packed bytes becomes with. */
static uint8_t *
s_pack_actor (const char *actor_id, int kind, uint8_t with, size_t *len)
{
    Meso__V1__Actor actor = MESO__V1__ACTOR__INIT;
    actor.id = (char *) actor_id;
    actor.kind = (Meso__V1__Actor__Kind) kind;
    Meso__V1__Request req = MESO__V1__REQUEST__INIT;
    req.request_id = "r-1";
    req.method = "demo.Echo";
    req.actor = &actor;
    *len = meso__v1__request__get_packed_size (&req);
    uint8_t *buf = malloc (*len);
    assert_non_null (buf);
    meso__v1__request__pack (&req, buf);
    for (size_t i = 0; i < *len; i++)
        if (buf [i] == '#')
            buf [i] = with;
    return buf;
}

/* The actor goes into events: bounded, only valid text, a known kind. */
static void
test_decode_actor_bounds (void **state)
{
    char id [MESO_ACTOR_ID_MAX + 2];
    memset (id, 'a', sizeof id - 1);
    id [sizeof id - 1] = '\0';
    size_t len;
    uint8_t *buf = s_pack_actor (id, 1, '#', &len);
    s_expect_refused (buf, len, "actor.id", "the limit is 128");
    free (buf);
    id [MESO_ACTOR_ID_MAX] = '\0';         /* exactly the limit is fine */
    buf = s_pack_actor (id, 1, '#', &len);
    Meso__V1__Request *req;
    char err [256];
    const char *field;
    assert_int_equal (meso_wire_decode_request (buf, len, &req, err, sizeof err, &field), 0);
    meso__v1__request__free_unpacked (req, NULL);
    free (buf);
    buf = s_pack_actor ("alice#mallory", 1, 0, &len);
    s_expect_refused (buf, len, "actor.id", "actor.id contains a NUL byte");
    free (buf);
    buf = s_pack_actor ("alice#", 1, 0xFF, &len);
    s_expect_refused (buf, len, "actor.id", "actor.id is not valid UTF-8");
    free (buf);
    /* A key that starts with a NUL is not an empty (absent) key. */
    buf = s_pack ("r-1", "demo.Echo", "#key", &len);
    for (size_t i = 0; i < len; i++)
        if (buf [i] == '#')
            buf [i] = 0;
    s_expect_refused (buf, len, "idempotency_key", "idempotency_key contains a NUL byte");
    free (buf);
    buf = s_pack_actor ("alice", 77, '#', &len);
    s_expect_refused (buf, len, "actor.kind", "actor.kind 77");
    free (buf);
}

/* Unknown fields, in the envelope and inside the actor, are dropped at
 * decode: what a handler can copy into an event is the known fields. */
static void
test_decode_strips_unknown (void **state)
{
    size_t len;
    uint8_t *clean = s_pack_actor ("alice", 1, '#', &len);
    uint8_t buf [128];
    /* actor (field 5) = kind 1, id "alice", unknown 15 = "padding" */
    size_t n = 0;
    buf [n++] = 0x0A; buf [n++] = 3; memcpy (buf + n, "r-1", 3); n += 3;
    buf [n++] = 0x12; buf [n++] = 9; memcpy (buf + n, "demo.Echo", 9); n += 9;
    buf [n++] = 0x2A; buf [n++] = 2 + 7 + 9;
    buf [n++] = 0x08; buf [n++] = 1;
    buf [n++] = 0x12; buf [n++] = 5; memcpy (buf + n, "alice", 5); n += 5;
    buf [n++] = 0x7A; buf [n++] = 7; memcpy (buf + n, "padding", 7); n += 7;
    buf [n++] = 0xA2; buf [n++] = 0x01; buf [n++] = 1; buf [n++] = 'z';
    Meso__V1__Request *req;
    char err [256];
    const char *field;
    assert_int_equal (meso_wire_decode_request (buf, n, &req, err, sizeof err, &field), 0);
    assert_int_equal (req->base.n_unknown_fields, 0);
    assert_int_equal (req->actor->base.n_unknown_fields, 0);
    assert_string_equal (req->actor->id, "alice");
    assert_int_equal (meso__v1__request__get_packed_size (req), len);
    meso__v1__request__free_unpacked (req, NULL);
    free (clean);
}

static void
test_decode_missing_fields (void **state)
{
    size_t len;
    uint8_t *buf = s_pack ("r-1", "", "", &len);
    s_expect_refused (buf, len, "method", "method is required");
    free (buf);
    buf = s_pack ("", "demo.Echo", "", &len);
    s_expect_refused (buf, len, "request_id", "request_id is required");
    free (buf);
}

static void
test_decode_oversize_fields (void **state)
{
    char id [66];
    memset (id, 'i', 65);
    id [65] = '\0';
    size_t len;
    uint8_t *buf = s_pack (id, "demo.Echo", "", &len);
    s_expect_refused (buf, len, "request_id", "65 bytes");
    free (buf);
    id [64] = '\0';             /* exactly 64 is fine */
    buf = s_pack (id, "demo.Echo", "", &len);
    Meso__V1__Request *req;
    char err [256];
    const char *field;
    assert_int_equal (meso_wire_decode_request (buf, len, &req, err, sizeof err, &field), 0);
    meso__v1__request__free_unpacked (req, NULL);
    free (buf);

    char key [130];
    memset (key, 'k', 129);
    key [129] = '\0';
    buf = s_pack ("r", "demo.Increment", key, &len);
    s_expect_refused (buf, len, "idempotency_key", "129 bytes");
    free (buf);
}

static void
test_decode_bad_strings (void **state)
{
    size_t len;
    uint8_t *buf = s_pack ("r\xff", "demo.Echo", "", &len);
    s_expect_refused (buf, len, "request_id", "UTF-8");
    free (buf);
    /* method "a\0b": protobuf-c would hand us "a". */
    const uint8_t nul [] = { 0x0A, 0x01, 'r', 0x12, 0x03, 'a', 0, 'b' };
    s_expect_refused (nul, sizeof nul, "method", "NUL");
}

static void
test_decode_garbage (void **state)
{
    const uint8_t garbage [] = "this is not protobuf \xff\xff\xff\xff";
    s_expect_refused (garbage, sizeof garbage, "", "not a packed meso.v1.Request");
    s_expect_refused (garbage, 0, "", "empty frame");
    /* The right bytes, cut in the middle. */
    size_t len;
    uint8_t *buf = s_pack ("r-1", "demo.Echo", "", &len);
    s_expect_refused (buf, len - 2, "", "not a packed");
    free (buf);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_peek_valid),
        cmocka_unit_test (test_peek_after_other_fields),
        cmocka_unit_test (test_peek_no_field_1),
        cmocka_unit_test (test_peek_truncated_varint),
        cmocka_unit_test (test_peek_length_past_end),
        cmocka_unit_test (test_peek_huge_length),
        cmocka_unit_test (test_peek_empty_and_bad_types),
        cmocka_unit_test (test_decode_valid),
        cmocka_unit_test (test_decode_missing_fields),
        cmocka_unit_test (test_decode_actor_bounds),
        cmocka_unit_test (test_decode_strips_unknown),
        cmocka_unit_test (test_decode_oversize_fields),
        cmocka_unit_test (test_decode_bad_strings),
        cmocka_unit_test (test_decode_garbage),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
