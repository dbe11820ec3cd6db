/* test_redact.c -- health fields never reach a subscriber without health
 * access: every event type known to the outbox (common/src/event_types.c)
 * is classified in services/events/redact.c (a new type makes this test
 * fail until someone decides what in it is health data), the four types
 * that carry health data lose exactly those fields, and every other type
 * comes back unchanged, byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events/redact.h"
#include "meso/outbox.h"
#include "events.pb-c.h"

/* Packs ev into a new buffer. */
static uint8_t *
s_pack (const Meso__V1__Event *ev, size_t *len)
{
    *len = meso__v1__event__get_packed_size (ev);
    uint8_t *buf = malloc (*len ? *len : 1);
    assert_non_null (buf);
    meso__v1__event__pack (ev, buf);
    return buf;
}

/* Redacts ev through the packed path and returns the decoded result. */
static Meso__V1__Event *
s_redact (const Meso__V1__Event *ev)
{
    size_t len, outlen = 0;
    uint8_t *in = s_pack (ev, &len);
    uint8_t *out = redact_packed (in, len, &outlen);
    free (in);
    assert_non_null (out);
    Meso__V1__Event *back = meso__v1__event__unpack (NULL, outlen, out);
    free (out);
    assert_non_null (back);
    return back;
}

static void
s_envelope (Meso__V1__Event *ev, const char *type)
{
    ev->id = "ev-1";
    ev->type = (char *) type;
    ev->clinic_id = "clinic-a";
    ev->stream = "x";
    ev->occurred_at_us = 1700000000000000;
    ev->payload_case = meso_event_payload_case (type);
}

/* Every type of the outbox's table has an entry. */
static void
test_every_type_is_classified (void **state)
{
    size_t n = 0;
    for (const char *type; (type = meso_event_type_at (n)); n++)
        if (!redact_known (type))
            fail_msg ("event type %s has no entry in services/events/redact.c: "
                      "decide which of its fields are health data", type);
    assert_true (n >= 23);
    assert_false (redact_known ("session.unheard_of"));
    assert_true (redact_needed ("session.unheard_of"));
}

/* A payload message of descriptor d with every scalar field set (strings
 * "v-<name>", numbers 7, bools true, enums their second value) and one
 * entry in each repeated string field; nested messages left unset. */
static ProtobufCMessage *
s_filled (const ProtobufCMessageDescriptor *d)
{
    ProtobufCMessage *m = calloc (1, d->sizeof_message);
    assert_non_null (m);
    protobuf_c_message_init (d, m);
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        char *at = (char *) m + f->offset;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            if (f->type == PROTOBUF_C_TYPE_STRING) {
                char **one = malloc (sizeof *one);
                one[0] = "v-entry";
                *(size_t *) ((char *) m + f->quantifier_offset) = 1;
                *(char ***) at = one;
            }
            continue;
        }
        switch (f->type) {
        case PROTOBUF_C_TYPE_STRING: {
            char *s = malloc (strlen (f->name) + 3);
            sprintf (s, "v-%s", f->name);
            *(char **) at = s;
            break;
        }
        case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_ENUM:
            *(int32_t *) at = f->type == PROTOBUF_C_TYPE_ENUM ? 1 : 7;
            break;
        case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_UINT64:
            *(int64_t *) at = 7;
            break;
        case PROTOBUF_C_TYPE_BOOL:
            *(protobuf_c_boolean *) at = 1;
            break;
        default:
            break;
        }
    }
    return m;
}

static void
s_filled_free (ProtobufCMessage *m)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        char *at = (char *) m + f->offset;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            if (f->type == PROTOBUF_C_TYPE_STRING)
                free (*(char ***) at);
        }
        else if (f->type == PROTOBUF_C_TYPE_STRING)
            free (*(char **) at);
    }
    free (m);
}

/* Every type: a fully set payload survives redaction as a decodable event
 * of the same type and id; a type without health fields comes back byte
 * for byte. */
static void
test_every_type_redacts (void **state)
{
    const ProtobufCFieldDescriptor *fields = meso__v1__event__descriptor.fields;
    for (size_t t = 0; meso_event_type_at (t); t++) {
        const char *type = meso_event_type_at (t);
        Meso__V1__Event ev = MESO__V1__EVENT__INIT;
        s_envelope (&ev, type);
        const ProtobufCFieldDescriptor *f = NULL;
        for (unsigned i = 0; i < meso__v1__event__descriptor.n_fields; i++)
            if (fields[i].id == (uint32_t) ev.payload_case)
                f = &fields[i];
        assert_non_null (f);
        ProtobufCMessage *payload = s_filled (f->descriptor);
        *(ProtobufCMessage **) ((char *) &ev + f->offset) = payload;

        size_t len, outlen = 0;
        uint8_t *in = s_pack (&ev, &len);
        uint8_t *out = redact_packed (in, len, &outlen);
        assert_non_null (out);
        Meso__V1__Event *back = meso__v1__event__unpack (NULL, outlen, out);
        assert_non_null (back);
        assert_string_equal (back->type, type);
        assert_string_equal (back->id, "ev-1");
        assert_string_equal (back->clinic_id, "clinic-a");
        assert_int_equal (back->payload_case, ev.payload_case);
        if (!redact_needed (type)) {
            assert_int_equal (outlen, len);
            assert_memory_equal (out, in, len);
        }
        else
            assert_true (outlen < len);    /* something was removed */
        meso__v1__event__free_unpacked (back, NULL);
        free (in);
        free (out);
        s_filled_free (payload);
    }
}

static void
test_screening_completed (void **state)
{
    Meso__V1__Event ev = MESO__V1__EVENT__INIT;
    s_envelope (&ev, "screening.completed");
    Meso__V1__ScreeningCompleted sc = MESO__V1__SCREENING_COMPLETED__INIT;
    Meso__V1__Reason r1 = MESO__V1__REASON__INIT, r2 = MESO__V1__REASON__INIT;
    r1.code = "pregnancy";
    r1.field = "answers.pregnant";
    r1.message = "Pregnancy is an absolute contraindication.";
    r2.code = "anti_inflammatory";
    r2.message = "Stop aspirin a week before.";
    Meso__V1__Reason *rs[] = { &r1, &r2 };
    sc.patient_id = "p-1";
    sc.screening_id = "s-1";
    sc.verdict = MESO__V1__VERDICT__VERDICT_INELIGIBLE;
    sc.n_reasons = 2;
    sc.reasons = rs;
    sc.valid_until = "2027-05-01";
    sc.earliest_first_session = "2026-12-08";
    ev.screening_completed = &sc;
    Meso__V1__Event *back = s_redact (&ev);
    const Meso__V1__ScreeningCompleted *b = back->screening_completed;
    assert_int_equal (b->n_reasons, 0);
    assert_string_equal (b->earliest_first_session, "");
    assert_string_equal (b->patient_id, "p-1");
    assert_string_equal (b->screening_id, "s-1");
    assert_string_equal (b->valid_until, "2027-05-01");
    assert_int_equal (b->verdict, MESO__V1__VERDICT__VERDICT_INELIGIBLE);
    meso__v1__event__free_unpacked (back, NULL);
}

static void
test_patient_changed (void **state)
{
    Meso__V1__Event ev = MESO__V1__EVENT__INIT;
    s_envelope (&ev, "screening.patient_changed");
    Meso__V1__PatientChanged pc = MESO__V1__PATIENT_CHANGED__INIT;
    char *changed[] = { "pregnancy", "phone", "diabetes", "home_clinic_id", "something_new" };
    pc.patient_id = "p-1";
    pc.n_changed = 5;
    pc.changed = changed;
    pc.ineligible = true;
    pc.screening_outdated = true;
    ev.patient_changed = &pc;
    Meso__V1__Event *back = s_redact (&ev);
    const Meso__V1__PatientChanged *b = back->patient_changed;
    assert_int_equal (b->n_changed, 2);
    assert_string_equal (b->changed[0], "phone");
    assert_string_equal (b->changed[1], "home_clinic_id");
    assert_string_equal (b->patient_id, "p-1");
    assert_true (b->screening_outdated);
    meso__v1__event__free_unpacked (back, NULL);
}

static void
test_session_completed_and_cancelled (void **state)
{
    Meso__V1__SessionInfo info = MESO__V1__SESSION_INFO__INIT;
    info.appointment_id = "a-1";
    info.patient_id = "p-1";
    Meso__V1__Event ev = MESO__V1__EVENT__INIT;
    s_envelope (&ev, "session.completed");
    Meso__V1__SessionCompleted sc = MESO__V1__SESSION_COMPLETED__INIT;
    Meso__V1__IngredientAmount caf = MESO__V1__INGREDIENT_AMOUNT__INIT;
    caf.ingredient_code = "caffeine";
    caf.amount_milli = 1500;
    Meso__V1__IngredientAmount *lines[] = { &caf };
    sc.session = &info;
    sc.completed_at_us = 42;
    sc.outcome_case = MESO__V1__SESSION_COMPLETED__OUTCOME_IMPROVEMENT_SCORE;
    sc.improvement_score = 2;
    sc.non_responder = true;
    sc.notes = "bruising on the left thigh; patient reports diabetes medication";
    sc.n_consumed = 1;
    sc.consumed = lines;
    ev.session_completed = &sc;
    Meso__V1__Event *back = s_redact (&ev);
    const Meso__V1__SessionCompleted *b = back->session_completed;
    assert_string_equal (b->notes, "");
    assert_int_equal (b->outcome_case, MESO__V1__SESSION_COMPLETED__OUTCOME__NOT_SET);
    assert_false (b->non_responder);
    assert_string_equal (b->session->appointment_id, "a-1");
    assert_int_equal (b->completed_at_us, 42);
    assert_int_equal (b->n_consumed, 1);
    assert_int_equal (b->consumed[0]->amount_milli, 1500);
    meso__v1__event__free_unpacked (back, NULL);

    Meso__V1__Event cev = MESO__V1__EVENT__INIT;
    s_envelope (&cev, "session.cancelled");
    Meso__V1__SessionCancelled cc = MESO__V1__SESSION_CANCELLED__INIT;
    cc.session = &info;
    cc.by = MESO__V1__CANCELLED_BY__CANCELLED_BY_PATIENT;
    cc.reason = "patient is pregnant";
    cc.late = true;
    cev.session_cancelled = &cc;
    back = s_redact (&cev);
    assert_string_equal (back->session_cancelled->reason, "");
    assert_int_equal (back->session_cancelled->by, MESO__V1__CANCELLED_BY__CANCELLED_BY_PATIENT);
    assert_true (back->session_cancelled->late);
    meso__v1__event__free_unpacked (back, NULL);
}

/* The relay's split (services/events/health.c): a health-bearing event
 * gives its redacted copy and its patient; one without health fields
 * gives nothing; an erasure event gives its patient. */
static void
test_split_for_the_relay (void **state)
{
    (void) state;
    Meso__V1__SessionInfo info = MESO__V1__SESSION_INFO__INIT;
    info.appointment_id = "a-1";
    info.patient_id = "p-7";
    Meso__V1__Event ev = MESO__V1__EVENT__INIT;
    s_envelope (&ev, "session.cancelled");
    Meso__V1__SessionCancelled cc = MESO__V1__SESSION_CANCELLED__INIT;
    cc.session = &info;
    cc.reason = "patient is pregnant";
    ev.session_cancelled = &cc;
    size_t len, outlen = 0;
    uint8_t *in = s_pack (&ev, &len), *out = NULL;
    char patient[64] = "";
    assert_int_equal (redact_split ("session.cancelled", in, len, &out, &outlen, patient, sizeof patient), 1);
    assert_string_equal (patient, "p-7");
    Meso__V1__Event *back = meso__v1__event__unpack (NULL, outlen, out);
    assert_non_null (back);
    assert_string_equal (back->session_cancelled->reason, "");
    meso__v1__event__free_unpacked (back, NULL);
    free (out);
    assert_int_equal (redact_erased_patient (in, len, patient, sizeof patient), -1);
    free (in);

    Meso__V1__Event bev = MESO__V1__EVENT__INIT;
    s_envelope (&bev, "session.booked");
    Meso__V1__SessionBooked sb = MESO__V1__SESSION_BOOKED__INIT;
    sb.session = &info;
    bev.session_booked = &sb;
    in = s_pack (&bev, &len);
    out = NULL;
    assert_int_equal (redact_split ("session.booked", in, len, &out, &outlen, patient, sizeof patient), 0);
    assert_null (out);
    assert_int_equal (redact_split ("session.unheard_of", in, len, &out, &outlen, patient, sizeof patient), -1);
    free (in);

    Meso__V1__Event eev = MESO__V1__EVENT__INIT;
    s_envelope (&eev, "screening.patient_erased");
    Meso__V1__PatientErased pe = MESO__V1__PATIENT_ERASED__INIT;
    pe.patient_id = "p-9";
    pe.erased_at_us = 5;
    eev.patient_erased = &pe;
    in = s_pack (&eev, &len);
    assert_int_equal (redact_erased_patient (in, len, patient, sizeof patient), 0);
    assert_string_equal (patient, "p-9");
    assert_int_equal (redact_split ("screening.patient_erased", in, len, &out, &outlen, patient,
                                    sizeof patient), 0);
    free (in);
}

/* An unknown type, a payload that is not the type's own, and bytes that
 * do not decode are refused, never passed through. */
static void
test_refuses_what_it_cannot_classify (void **state)
{
    Meso__V1__Event ev = MESO__V1__EVENT__INIT;
    s_envelope (&ev, "session.booked");
    Meso__V1__ScreeningCompleted sc = MESO__V1__SCREENING_COMPLETED__INIT;
    Meso__V1__Reason r = MESO__V1__REASON__INIT;
    Meso__V1__Reason *rs[] = { &r };
    r.message = "diabetes";
    sc.n_reasons = 1;
    sc.reasons = rs;
    ev.payload_case = MESO__V1__EVENT__PAYLOAD_SCREENING_COMPLETED;
    ev.screening_completed = &sc;
    size_t len, outlen = 0;
    uint8_t *in = s_pack (&ev, &len);
    assert_null (redact_packed (in, len, &outlen));
    free (in);

    ev.type = "session.unheard_of";
    in = s_pack (&ev, &len);
    assert_null (redact_packed (in, len, &outlen));
    free (in);

    const uint8_t junk[] = { 0x0a, 0xff, 0xff };
    assert_null (redact_packed (junk, sizeof junk, &outlen));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_every_type_is_classified),
        cmocka_unit_test (test_every_type_redacts),
        cmocka_unit_test (test_screening_completed),
        cmocka_unit_test (test_patient_changed),
        cmocka_unit_test (test_session_completed_and_cancelled),
        cmocka_unit_test (test_refuses_what_it_cannot_classify),
        cmocka_unit_test (test_split_for_the_relay),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
