/* test_wirecheck.c -- the descriptor-driven string check on packed bytes
 * (meso_wirecheck) and meso_pb_strip_unknown: NULs and invalid UTF-8 are
 * found in every string field, at any depth, in repeated fields and oneof
 * members, with the field's path; unknown fields are skipped by the check
 * and dropped by the strip; malformed bytes never crash it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "meso/wirecheck.h"
#include "rpc.pb-c.h"
#include "events.pb-c.h"
#include "screening.pb-c.h"
#include "inventory.pb-c.h"
#include "billing.pb-c.h"
#include "scheduling.pb-c.h"

/* Packs msg and replaces every '#' of the packed bytes by with. */
static uint8_t *
s_pack (const ProtobufCMessage *msg, uint8_t with, size_t *len)
{
    *len = protobuf_c_message_get_packed_size (msg);
    uint8_t *buf = malloc (*len ? *len : 1);
    assert_non_null (buf);
    protobuf_c_message_pack (msg, buf);
    for (size_t i = 0; i < *len; i++)
        if (buf [i] == '#')
            buf [i] = with;
    return buf;
}

static meso_wirecheck_t
s_check (const ProtobufCMessage *msg, uint8_t with, char *path, size_t size)
{
    size_t len;
    uint8_t *buf = s_pack (msg, with, &len);
    meso_wirecheck_t rc = meso_wirecheck (msg->descriptor, buf, len, path, size);
    free (buf);
    return rc;
}

static void
test_nested_string (void **state)
{
    (void) state;
    Meso__V1__Patient p = MESO__V1__PATIENT__INIT;
    p.given_name = "Ann#Evil";
    p.family_name = "Smith";
    Meso__V1__RegisterPatientRequest rq = MESO__V1__REGISTER_PATIENT_REQUEST__INIT;
    rq.patient = &p;
    char path [128];
    assert_int_equal (s_check (&rq.base, 'x', path, sizeof path), MESO_WIRECHECK_OK);
    assert_string_equal (path, "");
    assert_int_equal (s_check (&rq.base, 0, path, sizeof path), MESO_WIRECHECK_NUL);
    assert_string_equal (path, "patient.given_name");
    assert_int_equal (s_check (&rq.base, 0xFF, path, sizeof path), MESO_WIRECHECK_UTF8);
    assert_string_equal (path, "patient.given_name");
    /* Valid multi-byte UTF-8 passes; a lone continuation byte does not. */
    p.given_name = "Zo\xc3\xab #";
    assert_int_equal (s_check (&rq.base, 'x', path, sizeof path), MESO_WIRECHECK_OK);
    assert_int_equal (s_check (&rq.base, 0x80, path, sizeof path), MESO_WIRECHECK_UTF8);
}

static void
test_repeated_message_index (void **state)
{
    (void) state;
    Meso__V1__RecipeLine l [3];
    Meso__V1__RecipeLine *lp [3];
    for (int i = 0; i < 3; i++) {
        meso__v1__recipe_line__init (&l [i]);
        l [i].area = "thighs";
        l [i].ingredient_code = i == 2 ? "caf#" : "caffeine";
        l [i].amount_milli = 1000;
        lp [i] = &l [i];
    }
    Meso__V1__UpsertRecipeRequest rq = MESO__V1__UPSERT_RECIPE_REQUEST__INIT;
    rq.recipe_id = "r";
    rq.n_lines = 3;
    rq.lines = lp;
    char path [128];
    assert_int_equal (s_check (&rq.base, 0xC0, path, sizeof path), MESO_WIRECHECK_UTF8);
    assert_string_equal (path, "lines[2].ingredient_code");
    assert_int_equal (s_check (&rq.base, 0, path, sizeof path), MESO_WIRECHECK_NUL);
    assert_string_equal (path, "lines[2].ingredient_code");
}

static void
test_repeated_string_index (void **state)
{
    (void) state;
    char *areas [] = { "thighs", "hips#" };
    Meso__V1__ReserveRequest rq = MESO__V1__RESERVE_REQUEST__INIT;
    rq.appointment_id = "a";
    rq.n_areas = 2;
    rq.areas = areas;
    char path [128];
    assert_int_equal (s_check (&rq.base, 0, path, sizeof path), MESO_WIRECHECK_NUL);
    assert_string_equal (path, "areas[1]");
}

static void
test_oneof_member (void **state)
{
    (void) state;
    Meso__V1__StockReleased sr = MESO__V1__STOCK_RELEASED__INIT;
    sr.appointment_id = "a";
    sr.reason = "cancel\xe2\x82#";          /* a cut 3-byte sequence */
    Meso__V1__Event ev = MESO__V1__EVENT__INIT;
    ev.type = "stock.released";
    ev.payload_case = MESO__V1__EVENT__PAYLOAD_STOCK_RELEASED;
    ev.stock_released = &sr;
    char path [128];
    assert_int_equal (s_check (&ev.base, 0xAC, path, sizeof path),
                      MESO_WIRECHECK_OK);   /* completes the euro sign */
    assert_int_equal (s_check (&ev.base, 'x', path, sizeof path), MESO_WIRECHECK_UTF8);
    assert_string_equal (path, "stock_released.reason");
}

static void
test_envelope_actor (void **state)
{
    (void) state;
    Meso__V1__Actor actor = MESO__V1__ACTOR__INIT;
    actor.id = "alice#mallory";
    Meso__V1__Request req = MESO__V1__REQUEST__INIT;
    req.request_id = "r";
    req.method = "m";
    req.actor = &actor;
    char path [128];
    assert_int_equal (s_check (&req.base, 0, path, sizeof path), MESO_WIRECHECK_NUL);
    assert_string_equal (path, "actor.id");
}

/* Unknown fields are not looked into, whatever they hold; bytes fields
 * are not strings. */
static void
test_unknown_and_bytes_skipped (void **state)
{
    (void) state;
    const uint8_t buf [] = {
        0x0A, 0x01, 'r',                    /* 1 request_id "r" */
        0xFA, 0x01, 0x02, 0x00, 0xFF,       /* 31: unknown, NUL and 0xFF */
        0x32, 0x02, 0x00, 0xFF,             /* 6 body (bytes): anything */
    };
    char path [64];
    assert_int_equal (meso_wirecheck (&meso__v1__request__descriptor, buf, sizeof buf,
                                      path, sizeof path), MESO_WIRECHECK_OK);
}

static void
test_malformed_never_crashes (void **state)
{
    (void) state;
    char path [64];
    const uint8_t truncated [] = { 0x0A, 0x05, 'a', 'b' };
    assert_int_equal (meso_wirecheck (&meso__v1__request__descriptor, truncated,
                                      sizeof truncated, path, sizeof path),
                      MESO_WIRECHECK_MALFORMED);
    const uint8_t field0 [] = { 0x02, 0x00 };
    assert_int_equal (meso_wirecheck (&meso__v1__request__descriptor, field0, sizeof field0,
                                      path, sizeof path), MESO_WIRECHECK_MALFORMED);
    const uint8_t group [] = { 0x0B };
    assert_int_equal (meso_wirecheck (&meso__v1__request__descriptor, group, sizeof group,
                                      path, sizeof path), MESO_WIRECHECK_MALFORMED);
    /* An embedded message whose length runs past its parent. */
    const uint8_t nested [] = { 0x2A, 0x03, 0x12, 0x05, 'a' };
    assert_int_equal (meso_wirecheck (&meso__v1__request__descriptor, nested, sizeof nested,
                                      path, sizeof path), MESO_WIRECHECK_MALFORMED);
    assert_int_equal (meso_wirecheck (&meso__v1__request__descriptor, NULL, 0, NULL, 0),
                      MESO_WIRECHECK_OK);
    /* A tiny path buffer is truncated, never overrun. */
    Meso__V1__Patient p = MESO__V1__PATIENT__INIT;
    p.given_name = "#";
    Meso__V1__RegisterPatientRequest rq = MESO__V1__REGISTER_PATIENT_REQUEST__INIT;
    rq.patient = &p;
    char small [5];
    assert_int_equal (s_check (&rq.base, 0, small, sizeof small), MESO_WIRECHECK_NUL);
    assert_string_equal (small, "pati");
}

/* The whole class: every string field (singular or repeated) of every
 * message below, set alone to a bad value, is found and named. */
static void
test_every_string_field (void **state)
{
    (void) state;
    const ProtobufCMessageDescriptor *const descs [] = {
        &meso__v1__request__descriptor, &meso__v1__actor__descriptor,
        &meso__v1__patient__descriptor, &meso__v1__receive_request__descriptor,
        &meso__v1__reserve_request__descriptor, &meso__v1__redate_request__descriptor,
        &meso__v1__release_request__descriptor, &meso__v1__upsert_recipe_request__descriptor,
        &meso__v1__issue_invoice_request__descriptor, &meso__v1__invoice_line__descriptor,
        &meso__v1__record_payment_request__descriptor, &meso__v1__stock_released__descriptor,
        &meso__v1__session_info__descriptor, &meso__v1__book_course_request__descriptor,
    };
    int checked = 0;
    for (size_t d = 0; d < sizeof descs / sizeof descs [0]; d++) {
        const ProtobufCMessageDescriptor *desc = descs [d];
        for (unsigned f = 0; f < desc->n_fields; f++) {
            const ProtobufCFieldDescriptor *field = &desc->fields [f];
            if (field->type != PROTOBUF_C_TYPE_STRING)
                continue;
            ProtobufCMessage *msg = calloc (1, desc->sizeof_message);
            assert_non_null (msg);
            desc->message_init (msg);
            char *items [2] = { "ok", "b#d" };
            char expect [128];
            if (field->label == PROTOBUF_C_LABEL_REPEATED) {
                *(size_t *) ((char *) msg + field->quantifier_offset) = 2;
                *(char ***) ((char *) msg + field->offset) = items;
                snprintf (expect, sizeof expect, "%s[1]", field->name);
            }
            else {
                if (field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
                    *(uint32_t *) ((char *) msg + field->quantifier_offset) = field->id;
                *(char **) ((char *) msg + field->offset) = items [1];
                snprintf (expect, sizeof expect, "%s", field->name);
            }
            char path [128];
            assert_int_equal (s_check (msg, 0, path, sizeof path), MESO_WIRECHECK_NUL);
            assert_string_equal (path, expect);
            assert_int_equal (s_check (msg, 0xFE, path, sizeof path), MESO_WIRECHECK_UTF8);
            assert_string_equal (path, expect);
            assert_int_equal (s_check (msg, 'x', path, sizeof path), MESO_WIRECHECK_OK);
            free (msg);
            checked++;
        }
    }
    assert_true (checked > 40);
}

/* An actor padded with unknown fields comes out with its known fields
 * only: packing it again gives what a clean actor packs to. */
static void
test_strip_unknown (void **state)
{
    (void) state;
    Meso__V1__Actor actor = MESO__V1__ACTOR__INIT;
    actor.kind = MESO__V1__ACTOR__KIND__KIND_USER;
    actor.id = "alice";
    Meso__V1__Request req = MESO__V1__REQUEST__INIT;
    req.request_id = "r";
    req.method = "m";
    req.actor = &actor;
    size_t clean_len = meso__v1__request__get_packed_size (&req);

    /* The same request with 4 KiB of unknown field 15 inside the actor,
     * and an unknown field 20 in the envelope. */
    size_t pad = 4096;
    size_t actor_len = meso__v1__actor__get_packed_size (&actor);
    uint8_t *buf = malloc (clean_len + pad + 64);
    assert_non_null (buf);
    size_t n = 0;
    buf [n++] = 0x0A; buf [n++] = 1; buf [n++] = 'r';
    buf [n++] = 0x12; buf [n++] = 1; buf [n++] = 'm';
    size_t inner = actor_len + 3 + pad;      /* key 0x7A, 2-byte length */
    buf [n++] = 0x2A;
    buf [n++] = (uint8_t) (0x80 | (inner & 0x7F));
    buf [n++] = (uint8_t) (inner >> 7);
    n += meso__v1__actor__pack (&actor, buf + n);
    buf [n++] = 0x7A;                           /* field 15, length-delimited */
    buf [n++] = (uint8_t) (0x80 | (pad & 0x7F));
    buf [n++] = (uint8_t) (pad >> 7);
    memset (buf + n, 'A', pad);
    n += pad;
    buf [n++] = 0xA2; buf [n++] = 0x01; buf [n++] = 1; buf [n++] = 'z';     /* field 20 */

    Meso__V1__Request *got = meso__v1__request__unpack (NULL, n, buf);
    assert_non_null (got);
    assert_true (got->actor->base.n_unknown_fields == 1);
    assert_true (meso__v1__request__get_packed_size (got) > clean_len + pad);
    meso_pb_strip_unknown (&got->base, NULL);
    assert_int_equal (got->actor->base.n_unknown_fields, 0);
    assert_int_equal (got->base.n_unknown_fields, 0);
    assert_int_equal (meso__v1__request__get_packed_size (got), clean_len);
    assert_string_equal (got->actor->id, "alice");
    meso__v1__request__free_unpacked (got, NULL);
    free (buf);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_nested_string),
        cmocka_unit_test (test_repeated_message_index),
        cmocka_unit_test (test_repeated_string_index),
        cmocka_unit_test (test_oneof_member),
        cmocka_unit_test (test_envelope_actor),
        cmocka_unit_test (test_unknown_and_bytes_skipped),
        cmocka_unit_test (test_malformed_never_crashes),
        cmocka_unit_test (test_every_string_field),
        cmocka_unit_test (test_strip_unknown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
