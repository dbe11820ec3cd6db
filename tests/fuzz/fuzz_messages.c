/* fuzz_messages.c -- every message of every .proto in proto/meso/v1 under
 * arbitrary bytes: the first byte picks a descriptor from s_messages, the
 * rest goes to protobuf_c_message_unpack, as a service does with a request
 * body, the subscriber with an Event or a ReplayReply and mesoctl with a
 * reply. What decodes must
 *   - pack again, unpack again, and pack to the same bytes a second time
 *     (the round trip is stable);
 *   - render as valid JSON through meso_pbjson_encode (mesoctl --json),
 *     with and without defaults;
 *   - survive the services' pure checks fed from it the way handlers.c
 *     feeds them: a Questionnaire through screening's rules_validate and,
 *     when valid, rules_evaluate / rules_check / rules_course / advice; a
 *     PriceList through pricing_pick; a SellPackageRequest through
 *     pricing_package_check; a FeePolicy through pricing_fee; a CourseSpec
 *     through planner_course_sessions and planner_gaps; every string field
 *     through the date, time, money and code parsers;
 *   - agree with meso_wirecheck, the server's string check on the same
 *     bytes (strings_check.h), which must never crash on any input;
 * and be freed with free_unpacked (the same, default, allocator).
 *
 * protobuf-c 1.4 generates no file descriptors, so s_messages is written
 * out; the replay main() refuses to pass unless it names exactly the
 * messages declared in the .proto files (MESO_SOURCE_DIR), so a message
 * added to the contract without being added here fails the unit tests.
 *
 * With MESO_FUZZ=ON this is a libFuzzer target; without it, main() replays
 * the seed corpus plus deterministic mutations, as fuzz_envelope.c does. */
#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc.pb-c.h"
#include "events.pb-c.h"
#include "screening.pb-c.h"
#include "inventory.pb-c.h"
#include "scheduling.pb-c.h"
#include "billing.pb-c.h"
#include "webhooks.pb-c.h"

#include "meso/money.h"
#include "meso/mtime.h"
#include "meso/pbjson.h"
#include "planner.h"
#include "pricing.h"
#include "rules.h"
#include "strings_check.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Every message of proto/meso/v1. The first byte of each corpus input is
 * an index into this table: add new messages at the end, so the saved
 * corpora keep their meaning. */
static const ProtobufCMessageDescriptor *const s_messages [] = {
    /* rpc.proto */
    &meso__v1__actor__descriptor,
    &meso__v1__request__descriptor,
    &meso__v1__reason__descriptor,
    &meso__v1__reply__descriptor,
    &meso__v1__health_request__descriptor,
    &meso__v1__health_reply__descriptor,
    /* events.proto */
    &meso__v1__event__descriptor,
    &meso__v1__heartbeat__descriptor,
    &meso__v1__stream_head__descriptor,
    &meso__v1__replay_request__descriptor,
    &meso__v1__replay_reply__descriptor,
    &meso__v1__head_request__descriptor,
    &meso__v1__session_info__descriptor,
    &meso__v1__ingredient_amount__descriptor,
    &meso__v1__session_booked__descriptor,
    &meso__v1__session_rescheduled__descriptor,
    &meso__v1__session_cancelled__descriptor,
    &meso__v1__session_started__descriptor,
    &meso__v1__session_completed__descriptor,
    &meso__v1__session_no_show__descriptor,
    &meso__v1__screening_completed__descriptor,
    &meso__v1__patient_changed__descriptor,
    &meso__v1__stock_received__descriptor,
    &meso__v1__stock_reserved__descriptor,
    &meso__v1__stock_released__descriptor,
    &meso__v1__stock_consumed__descriptor,
    &meso__v1__stock_low__descriptor,
    &meso__v1__stock_expiring__descriptor,
    &meso__v1__stock_recalled__descriptor,
    &meso__v1__invoice_issued__descriptor,
    &meso__v1__payment_received__descriptor,
    &meso__v1__refund_issued__descriptor,
    /* screening.proto */
    &meso__v1__patient__descriptor,
    &meso__v1__register_patient_request__descriptor,
    &meso__v1__register_patient_reply__descriptor,
    &meso__v1__update_patient_request__descriptor,
    &meso__v1__update_patient_reply__descriptor,
    &meso__v1__area_grade__descriptor,
    &meso__v1__questionnaire__descriptor,
    &meso__v1__course__descriptor,
    &meso__v1__clinic_settings__descriptor,
    &meso__v1__screening__descriptor,
    &meso__v1__record_screening_request__descriptor,
    &meso__v1__record_screening_reply__descriptor,
    &meso__v1__patient_change__descriptor,
    &meso__v1__get_screening_request__descriptor,
    &meso__v1__get_screening_reply__descriptor,
    &meso__v1__check_request__descriptor,
    &meso__v1__check_reply__descriptor,
    &meso__v1__report_change_request__descriptor,
    &meso__v1__report_change_reply__descriptor,
    &meso__v1__set_clinic_settings_request__descriptor,
    &meso__v1__set_clinic_settings_reply__descriptor,
    /* inventory.proto */
    &meso__v1__ingredient__descriptor,
    &meso__v1__upsert_ingredient_request__descriptor,
    &meso__v1__upsert_ingredient_reply__descriptor,
    &meso__v1__recipe_line__descriptor,
    &meso__v1__upsert_recipe_request__descriptor,
    &meso__v1__upsert_recipe_reply__descriptor,
    &meso__v1__lot__descriptor,
    &meso__v1__receive_request__descriptor,
    &meso__v1__receive_reply__descriptor,
    &meso__v1__adjust_request__descriptor,
    &meso__v1__adjust_reply__descriptor,
    &meso__v1__discard_expired_request__descriptor,
    &meso__v1__discard_expired_reply__descriptor,
    &meso__v1__transfer_request__descriptor,
    &meso__v1__transfer_reply__descriptor,
    &meso__v1__get_stock_request__descriptor,
    &meso__v1__stock_total__descriptor,
    &meso__v1__get_stock_reply__descriptor,
    &meso__v1__set_reorder_point_request__descriptor,
    &meso__v1__set_reorder_point_reply__descriptor,
    &meso__v1__reservation__descriptor,
    &meso__v1__reserve_request__descriptor,
    &meso__v1__reserve_reply__descriptor,
    &meso__v1__release_request__descriptor,
    &meso__v1__release_reply__descriptor,
    &meso__v1__consume_request__descriptor,
    &meso__v1__consume_reply__descriptor,
    &meso__v1__recall_request__descriptor,
    &meso__v1__recall_hit__descriptor,
    &meso__v1__recall_reply__descriptor,
    &meso__v1__forecast_request__descriptor,
    &meso__v1__forecast_line__descriptor,
    &meso__v1__forecast_reply__descriptor,
    /* scheduling.proto */
    &meso__v1__day_hours__descriptor,
    &meso__v1__course_settings__descriptor,
    &meso__v1__clinic__descriptor,
    &meso__v1__upsert_clinic_request__descriptor,
    &meso__v1__upsert_clinic_reply__descriptor,
    &meso__v1__practitioner_clinic__descriptor,
    &meso__v1__practitioner__descriptor,
    &meso__v1__upsert_practitioner_request__descriptor,
    &meso__v1__upsert_practitioner_reply__descriptor,
    &meso__v1__room__descriptor,
    &meso__v1__upsert_room_request__descriptor,
    &meso__v1__upsert_room_reply__descriptor,
    &meso__v1__session__descriptor,
    &meso__v1__planned_session__descriptor,
    &meso__v1__course_spec__descriptor,
    &meso__v1__plan_course_request__descriptor,
    &meso__v1__plan_course_reply__descriptor,
    &meso__v1__book_course_request__descriptor,
    &meso__v1__booked_course__descriptor,
    &meso__v1__book_course_reply__descriptor,
    &meso__v1__book_session_request__descriptor,
    &meso__v1__session_ref__descriptor,
    &meso__v1__session_reply__descriptor,
    &meso__v1__reschedule_request__descriptor,
    &meso__v1__cancel_request__descriptor,
    &meso__v1__complete_session_request__descriptor,
    &meso__v1__get_availability_request__descriptor,
    &meso__v1__free_slot__descriptor,
    &meso__v1__get_availability_reply__descriptor,
    &meso__v1__get_course_request__descriptor,
    &meso__v1__get_course_reply__descriptor,
    /* billing.proto */
    &meso__v1__price_entry__descriptor,
    &meso__v1__price_list__descriptor,
    &meso__v1__set_price_list_request__descriptor,
    &meso__v1__set_price_list_reply__descriptor,
    &meso__v1__get_price_list_request__descriptor,
    &meso__v1__get_price_list_reply__descriptor,
    &meso__v1__fee_policy__descriptor,
    &meso__v1__set_fee_policy_request__descriptor,
    &meso__v1__set_fee_policy_reply__descriptor,
    &meso__v1__package__descriptor,
    &meso__v1__sell_package_request__descriptor,
    &meso__v1__sell_package_reply__descriptor,
    &meso__v1__get_package_request__descriptor,
    &meso__v1__get_package_reply__descriptor,
    &meso__v1__invoice_line__descriptor,
    &meso__v1__invoice__descriptor,
    &meso__v1__issue_invoice_request__descriptor,
    &meso__v1__issue_invoice_reply__descriptor,
    &meso__v1__record_payment_request__descriptor,
    &meso__v1__payment__descriptor,
    &meso__v1__record_payment_reply__descriptor,
    &meso__v1__record_refund_request__descriptor,
    &meso__v1__refund__descriptor,
    &meso__v1__record_refund_reply__descriptor,
    &meso__v1__statement_entry__descriptor,
    &meso__v1__get_statement_request__descriptor,
    &meso__v1__get_statement_reply__descriptor,
    &meso__v1__get_recipe_request__descriptor,
    &meso__v1__get_recipe_reply__descriptor,
    &meso__v1__redate_request__descriptor,
    &meso__v1__redate_reply__descriptor,
    &meso__v1__get_clinic_request__descriptor,
    &meso__v1__get_clinic_reply__descriptor,
    &meso__v1__session_on_hold__descriptor,
    &meso__v1__session_hold_released__descriptor,
    /* treatment consent (screening.proto, events.proto) */
    &meso__v1__consent_text__descriptor,
    &meso__v1__set_consent_text_request__descriptor,
    &meso__v1__set_consent_text_reply__descriptor,
    &meso__v1__get_consent_text_request__descriptor,
    &meso__v1__get_consent_text_reply__descriptor,
    &meso__v1__consent_signature__descriptor,
    &meso__v1__sign_consent_request__descriptor,
    &meso__v1__sign_consent_reply__descriptor,
    &meso__v1__get_consents_request__descriptor,
    &meso__v1__get_consents_reply__descriptor,
    &meso__v1__consent_signed__descriptor,
    /* inventory.proto: the catalogue as other services learn it */
    &meso__v1__get_ingredients_request__descriptor,
    &meso__v1__get_ingredients_reply__descriptor,
    &meso__v1__stock_recall_shortfall__descriptor,
    &meso__v1__list_at_risk_request__descriptor,
    &meso__v1__list_at_risk_reply__descriptor,
    &meso__v1__check_hold_request__descriptor,
    &meso__v1__hold_problem__descriptor,
    &meso__v1__check_hold_reply__descriptor,
    &meso__v1__session_retreatment_due__descriptor,
    /* billing: taxes, packages, credit notes, reports (billing.proto,
     * events.proto) */
    &meso__v1__tax_rate__descriptor,
    &meso__v1__tax_rates__descriptor,
    &meso__v1__set_tax_rates_request__descriptor,
    &meso__v1__set_tax_rates_reply__descriptor,
    &meso__v1__package_policy__descriptor,
    &meso__v1__set_package_policy_request__descriptor,
    &meso__v1__set_package_policy_reply__descriptor,
    &meso__v1__credit_note__descriptor,
    &meso__v1__cancel_invoice_request__descriptor,
    &meso__v1__cancel_invoice_reply__descriptor,
    &meso__v1__refund_package_request__descriptor,
    &meso__v1__refund_package_reply__descriptor,
    &meso__v1__revenue_report_request__descriptor,
    &meso__v1__revenue_row__descriptor,
    &meso__v1__revenue_report_reply__descriptor,
    &meso__v1__liability_report_request__descriptor,
    &meso__v1__liability_row__descriptor,
    &meso__v1__liability_report_reply__descriptor,
    &meso__v1__billed_line__descriptor,
    &meso__v1__credit_note_issued__descriptor,
    &meso__v1__package_sold__descriptor,
    &meso__v1__package_session_used__descriptor,
    &meso__v1__package_expired__descriptor,
    &meso__v1__package_refunded__descriptor,
    &meso__v1__price_point__descriptor,
    &meso__v1__price_list_set__descriptor,
    &meso__v1__fee_policy_set__descriptor,
    &meso__v1__tax_rate_point__descriptor,
    &meso__v1__tax_rates_set__descriptor,
    &meso__v1__package_policy_set__descriptor,
    /* reports (scheduling.proto, inventory.proto) */
    &meso__v1__utilisation_report_request__descriptor,
    &meso__v1__utilisation_row__descriptor,
    &meso__v1__utilisation_report_reply__descriptor,
    &meso__v1__attendance_report_request__descriptor,
    &meso__v1__attendance_row__descriptor,
    &meso__v1__attendance_report_reply__descriptor,
    &meso__v1__outcomes_report_request__descriptor,
    &meso__v1__outcomes_row__descriptor,
    &meso__v1__outcomes_report_reply__descriptor,
    &meso__v1__valuation_request__descriptor,
    &meso__v1__stock_value__descriptor,
    &meso__v1__valuation_line__descriptor,
    &meso__v1__valuation_reply__descriptor,
    /* patient export (rpc.proto and one reply per service) */
    &meso__v1__export_patient_request__descriptor,
    &meso__v1__screening_export_patient_reply__descriptor,
    &meso__v1__scheduling_export_patient_reply__descriptor,
    &meso__v1__inventory_export_patient_reply__descriptor,
    &meso__v1__billing_export_patient_reply__descriptor,
    /* erasure (screening.proto, events.proto) */
    &meso__v1__erase_patient_request__descriptor,
    &meso__v1__erase_patient_reply__descriptor,
    &meso__v1__patient_erased__descriptor,
    /* whole-course changes (scheduling.proto) */
    &meso__v1__moved_session__descriptor,
    &meso__v1__reschedule_course_request__descriptor,
    &meso__v1__cancel_course_request__descriptor,
    &meso__v1__cancelled_session__descriptor,
    &meso__v1__course_change_reply__descriptor,
    /* waitlist and reminders (scheduling.proto, screening.proto, events.proto) */
    &meso__v1__session_slot_offered__descriptor,
    &meso__v1__session_reminder_due__descriptor,
    &meso__v1__get_instructions_request__descriptor,
    &meso__v1__get_instructions_reply__descriptor,
    &meso__v1__front_desk_policy__descriptor,
    &meso__v1__set_front_desk_policy_request__descriptor,
    &meso__v1__front_desk_policy_reply__descriptor,
    &meso__v1__slot_offer__descriptor,
    &meso__v1__waitlist_entry__descriptor,
    &meso__v1__join_waitlist_request__descriptor,
    &meso__v1__waitlist_entry_reply__descriptor,
    &meso__v1__leave_waitlist_request__descriptor,
    &meso__v1__list_waitlist_request__descriptor,
    &meso__v1__list_waitlist_reply__descriptor,
    &meso__v1__accept_offer_request__descriptor,
    /* front desk: search, agenda, lookups (screening, scheduling, billing) */
    &meso__v1__search_patients_request__descriptor,
    &meso__v1__search_patients_reply__descriptor,
    &meso__v1__patient_summary__descriptor,
    &meso__v1__get_patients_request__descriptor,
    &meso__v1__get_patients_reply__descriptor,
    &meso__v1__get_agenda_request__descriptor,
    &meso__v1__agenda_entry__descriptor,
    &meso__v1__get_agenda_reply__descriptor,
    &meso__v1__list_clinics_request__descriptor,
    &meso__v1__list_clinics_reply__descriptor,
    &meso__v1__list_practitioners_request__descriptor,
    &meso__v1__list_practitioners_reply__descriptor,
    &meso__v1__list_rooms_request__descriptor,
    &meso__v1__list_rooms_reply__descriptor,
    &meso__v1__list_courses_request__descriptor,
    &meso__v1__course_summary__descriptor,
    &meso__v1__list_courses_reply__descriptor,
    &meso__v1__get_invoice_request__descriptor,
    &meso__v1__get_invoice_reply__descriptor,
    &meso__v1__list_invoices_request__descriptor,
    &meso__v1__list_invoices_reply__descriptor,
    &meso__v1__get_payment_request__descriptor,
    &meso__v1__get_payment_reply__descriptor,
    &meso__v1__stream_cursor__descriptor,
    &meso__v1__subscription__descriptor,
    &meso__v1__add_subscription_request__descriptor,
    &meso__v1__add_subscription_reply__descriptor,
    &meso__v1__list_subscriptions_request__descriptor,
    &meso__v1__list_subscriptions_reply__descriptor,
    &meso__v1__pause_subscription_request__descriptor,
    &meso__v1__pause_subscription_reply__descriptor,
    &meso__v1__resume_subscription_request__descriptor,
    &meso__v1__resume_subscription_reply__descriptor,
    &meso__v1__remove_subscription_request__descriptor,
    &meso__v1__remove_subscription_reply__descriptor,
    &meso__v1__replay_deliveries_request__descriptor,
    &meso__v1__replay_deliveries_reply__descriptor,
    &meso__v1__delivery__descriptor,
    &meso__v1__list_deliveries_request__descriptor,
    &meso__v1__list_deliveries_reply__descriptor,
    &meso__v1__supplier_lot__descriptor,
};
#define S_NMESSAGES (sizeof s_messages / sizeof s_messages [0])

#define S_CHECK(cond) \
    do { \
        if (!(cond)) { \
            fprintf (stderr, "fuzz_messages: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            abort (); \
        } \
    } while (0)

/* ---------------------------------------------------------- JSON syntax */

/* A strict RFC 8259 recogniser (UTF-8 validated): advances *p past one
 * value, returns 0 or -1. */
static int s_json_value (const char **p, int depth);

static void
s_json_ws (const char **p)
{
    while (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r')
        (*p)++;
}

static int
s_json_string (const char **p)
{
    const unsigned char *s = (const unsigned char *) *p;
    if (*s++ != '"')
        return -1;
    for (;;) {
        unsigned c = *s;
        if (c == '"')
            break;
        if (c < 0x20)
            return -1;      /* raw control character or the end */
        if (c == '\\') {
            s++;
            if (*s == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (!strchr ("0123456789abcdefABCDEF", s [i]) || !s [i])
                        return -1;
                s += 5;
            }
            else if (*s && strchr ("\"\\/bfnrt", *s))
                s++;
            else
                return -1;
            continue;
        }
        int extra = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2
                  : (c & 0xF8) == 0xF0 ? 3 : -1;
        if (extra < 0 || c == 0xC0 || c == 0xC1 || c > 0xF4)
            return -1;
        uint32_t cp = extra ? c & (0x3F >> extra) : c;
        s++;
        for (int i = 0; i < extra; i++, s++) {
            if ((*s & 0xC0) != 0x80)
                return -1;
            cp = (cp << 6) | (*s & 0x3F);
        }
        if ((extra == 2 && cp < 0x800) || (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF))
            || (cp >= 0xD800 && cp <= 0xDFFF))
            return -1;      /* overlong, out of range or a surrogate */
    }
    *p = (const char *) s + 1;
    return 0;
}

static int
s_json_number (const char **p)
{
    const char *s = *p;
    if (*s == '-')
        s++;
    if (*s == '0')
        s++;
    else if (*s >= '1' && *s <= '9')
        while (*s >= '0' && *s <= '9')
            s++;
    else
        return -1;
    if (*s == '.') {
        s++;
        if (!(*s >= '0' && *s <= '9'))
            return -1;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if (!(*s >= '0' && *s <= '9'))
            return -1;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    *p = s;
    return 0;
}

static int
s_json_value (const char **p, int depth)
{
    if (depth > 100)
        return -1;
    s_json_ws (p);
    char c = **p;
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        (*p)++;
        s_json_ws (p);
        if (**p == close) {
            (*p)++;
            return 0;
        }
        for (;;) {
            if (c == '{') {
                s_json_ws (p);
                if (s_json_string (p))
                    return -1;
                s_json_ws (p);
                if (**p != ':')
                    return -1;
                (*p)++;
            }
            if (s_json_value (p, depth + 1))
                return -1;
            s_json_ws (p);
            if (**p == ',') {
                (*p)++;
                continue;
            }
            if (**p != close)
                return -1;
            (*p)++;
            return 0;
        }
    }
    if (c == '"')
        return s_json_string (p);
    if (c == '-' || (c >= '0' && c <= '9'))
        return s_json_number (p);
    const char *words [] = { "true", "false", "null" };
    for (int i = 0; i < 3; i++)
        if (strncmp (*p, words [i], strlen (words [i])) == 0) {
            *p += strlen (words [i]);
            return 0;
        }
    return -1;
}

static void
s_check_json (const ProtobufCMessage *msg, unsigned flags)
{
    size_t len = 0;
    char *json = meso_pbjson_encode (msg, flags, &len);
    S_CHECK (json);     /* not out of memory, and meso's messages are shallow */
    S_CHECK (strlen (json) == len);
    const char *p = json;
    S_CHECK (s_json_value (&p, 0) == 0);
    S_CHECK (*p == '\0');
    S_CHECK (json [0] == '{');
    free (json);
}

/* ------------------------------------------------------------ round trip */

/* True when msg or a message in it kept an unknown field numbered 0.
 * protobuf-c 1.4 accepts one written as an overlong varint (80 00) but
 * packs it back as 00, which it then refuses: re-packed bytes of such a
 * message do not decode. Code that stores a client's message must check
 * (screening's RecordScreening does). */
static bool
s_has_field_zero (const ProtobufCMessage *msg)
{
    for (unsigned i = 0; i < msg->n_unknown_fields; i++)
        if (msg->unknown_fields [i].tag == 0)
            return true;
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    const char *base = (const char *) msg;
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields [i];
        if (f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
            && *(const uint32_t *) (base + f->quantifier_offset) != f->id)
            continue;
        size_t n = 1;
        const ProtobufCMessage *const *items = (const ProtobufCMessage *const *) (base + f->offset);
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            n = *(const size_t *) (base + f->quantifier_offset);
            items = *(const ProtobufCMessage *const *const *) (base + f->offset);
        }
        for (size_t k = 0; k < n; k++)
            if (items [k] && s_has_field_zero (items [k]))
                return true;
    }
    return false;
}

static void
s_check_round_trip (const ProtobufCMessage *msg)
{
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    size_t n1 = protobuf_c_message_get_packed_size (msg);
    uint8_t *b1 = malloc (n1 ? n1 : 1);
    S_CHECK (b1);
    S_CHECK (protobuf_c_message_pack (msg, b1) == n1);
    ProtobufCMessage *again = protobuf_c_message_unpack (desc, NULL, n1, b1);
    if (!again) {
        S_CHECK (s_has_field_zero (msg));
        free (b1);
        return;
    }
    size_t n2 = protobuf_c_message_get_packed_size (again);
    S_CHECK (n2 == n1);
    uint8_t *b2 = malloc (n2 ? n2 : 1);
    S_CHECK (b2);
    S_CHECK (protobuf_c_message_pack (again, b2) == n2);
    S_CHECK (memcmp (b1, b2, n1) == 0);
    protobuf_c_message_free_unpacked (again, NULL);
    free (b1);
    free (b2);
}

/* ---------------------------------------------- the services' pure checks */

#define S_TODAY 20240       /* 2025-05-29 */

static void
s_check_texts (const rules_texts_t *t)
{
    S_CHECK (t->n <= RULES_MAX_TEXTS);
    for (size_t i = 0; i < t->n; i++)
        S_CHECK (strnlen (t->items [i], RULES_TEXT_MAX) < RULES_TEXT_MAX);
}

static void
s_check_reasons (const rules_reasons_t *r)
{
    S_CHECK (r->n <= RULES_MAX_REASONS);
    for (size_t i = 0; i < r->n; i++)
        S_CHECK (r->items [i].code [0] != '\0');
}

/* As screening's handlers.c (s_answers) fills rules_answers_t from a
 * Questionnaire: lists cut at their caps, unknown answers unanswered. */
static void
s_questionnaire (const Meso__V1__Questionnaire *q)
{
    const Meso__V1__Answer answers [RULES_NCONDITIONS] = {
        [RULES_C_PREGNANCY] = q->pregnancy,
        [RULES_C_BREASTFEEDING] = q->breastfeeding,
        [RULES_C_DIABETES] = q->diabetes,
        [RULES_C_ACTIVE_INFECTION] = q->active_infection,
        [RULES_C_SEPTICAEMIA] = q->septicaemia,
        [RULES_C_IMMUNOCOMPROMISED] = q->immunocompromised,
        [RULES_C_LIVER_FAILURE] = q->liver_failure,
        [RULES_C_KIDNEY_FAILURE] = q->kidney_failure,
        [RULES_C_COAGULATION_DISORDER] = q->coagulation_disorder,
        [RULES_C_MENSTRUAL_DISORDER] = q->menstrual_disorder,
        [RULES_C_CANCER] = q->cancer,
        [RULES_C_HEART_ARRHYTHMIA] = q->heart_arrhythmia,
        [RULES_C_BLOOD_CLOTS] = q->blood_clots,
    };
    rules_answers_t a;
    rules_answers_init (&a);
    /* The birth date comes from the patient record; the height picks one
     * of a minor, an adult and someone over the default maximum age. */
    a.birth_date = S_TODAY - 365 * (q->height_mm % 3 == 0 ? 16 : q->height_mm % 3 == 1 ? 40 : 75);
    for (int c = 0; c < RULES_NCONDITIONS; c++) {
        int v = (int) answers [c];
        a.conditions [c] = (v == RULES_NO || v == RULES_YES) ? (rules_answer_t) v : RULES_UNANSWERED;
    }
    a.height_mm = q->height_mm;
    a.weight_g = q->weight_g;
    for (size_t i = 0; i < q->n_allergies && i < RULES_MAX_ALLERGIES; i++)
        a.allergies [a.nallergies++] = q->allergies [i];
    for (size_t i = 0; i < q->n_medications && i < RULES_MAX_MEDICATIONS; i++)
        a.medications [a.nmedications++] = q->medications [i];
    if (meso_date_parse (q->last_anti_inflammatory_dose, &a.last_nsaid_dose) != 0)
        a.last_nsaid_dose = RULES_NO_DATE;
    for (size_t i = 0; i < q->n_areas && i < RULES_MAX_AREAS; i++) {
        a.areas [a.nareas].area = q->areas [i]->area;
        a.areas [a.nareas].grade = q->areas [i]->grade;
        a.areas [a.nareas].mild = q->areas [i]->mild;
        a.nareas++;
    }
    a.diet = (rules_answer_t) q->diet;
    a.exercise = (rules_answer_t) q->exercise;
    a.localised_fat = (rules_answer_t) q->localised_fat_deposits;
    a.early_stage = (rules_answer_t) q->early_stage_cellulite;

    rules_reasons_t *bad = calloc (1, sizeof *bad);
    S_CHECK (bad);
    int rc = rules_validate (&a, S_TODAY, "answers", bad);
    s_check_reasons (bad);
    S_CHECK ((rc == 0) == (bad->n == 0));
    free (bad);

    rules_texts_t *texts = calloc (1, sizeof *texts);
    S_CHECK (texts);
    rules_instructions (&a, texts);
    s_check_texts (texts);
    rules_advice (&a, texts);
    s_check_texts (texts);
    free (texts);
    if (rc != 0)
        return;     /* the handler stops here with INVALID_ARGUMENT */

    rules_settings_t settings;
    rules_settings_default (&settings);
    rules_verdict_t *verdict = calloc (1, sizeof *verdict);
    S_CHECK (verdict);
    rules_evaluate (&a, &settings, S_TODAY, verdict);
    S_CHECK (verdict->verdict == RULES_ELIGIBLE || verdict->verdict == RULES_ELIGIBLE_WITH_PRECAUTIONS
             || verdict->verdict == RULES_INELIGIBLE);
    s_check_reasons (&verdict->reasons);
    S_CHECK (verdict->valid_until == S_TODAY + settings.validity_days);
    bool refused = false;
    for (size_t i = 0; i < verdict->reasons.n; i++)
        refused |= verdict->reasons.items [i].refusal;
    S_CHECK (refused == (verdict->verdict == RULES_INELIGIBLE));
    free (verdict);

    rules_check_input_t in = { .answers = &a, .valid_until = S_TODAY + settings.validity_days };
    rules_check_t *check = calloc (1, sizeof *check);
    S_CHECK (check);
    rules_check (&in, a.allergies, a.nallergies, &settings, S_TODAY + 10, check);
    s_check_reasons (&check->reasons);
    free (check);

    if (a.nareas > 0) {
        rules_course_t course;
        rules_course (a.areas, a.nareas, &course);
        S_CHECK (course.grade >= 1 && course.grade <= 3);
        S_CHECK (course.min_sessions >= 1);
        S_CHECK (course.max_sessions == 0 || course.max_sessions >= course.min_sessions);
        S_CHECK (strnlen (course.summary, RULES_TEXT_MAX) < RULES_TEXT_MAX);
    }
}

/* As billing picks a session price from a clinic's lists. */
static void
s_price_list (const Meso__V1__PriceList *list)
{
    pricing_entry_t rows [PRICING_MAX_AREAS * 2];
    size_t n = 0;
    int32_t from = 0;
    if (meso_date_parse (list->effective_from, &from) != 0)
        from = S_TODAY;
    for (size_t i = 0; i < list->n_prices && n < sizeof rows / sizeof rows [0]; i++) {
        rows [n].effective_from = from - (int32_t) (i % 3);
        rows [n].areas = list->prices [i]->areas;
        rows [n].price_cents = list->prices [i]->price_cents;
        n++;
    }
    for (uint32_t areas = 0; areas <= PRICING_MAX_AREAS + 1; areas++) {
        int64_t price = 0;
        int32_t list_from = 0;
        if (pricing_pick (rows, n, from, areas, &price, &list_from) != 0) {
            S_CHECK (n == 0);
            continue;
        }
        bool found = false;
        for (size_t i = 0; i < n; i++)
            found |= rows [i].price_cents == price && rows [i].effective_from == list_from;
        S_CHECK (found && list_from <= from);
    }
}

static void
s_package (const Meso__V1__SellPackageRequest *req)
{
    int64_t per = -1;
    int rc = pricing_package_check (req->sessions, req->price_cents, &per);
    if (rc != 0)
        return;
    S_CHECK (req->sessions >= 1 && req->sessions <= PRICING_MAX_PACKAGE_SESSIONS);
    S_CHECK (per >= PRICING_MIN_CENTS && per <= PRICING_MAX_CENTS);
    S_CHECK (per * (int64_t) req->sessions <= req->price_cents);
    S_CHECK (req->price_cents < (per + 1) * (int64_t) req->sessions);
}

static void
s_fees (const Meso__V1__FeePolicy *policy)
{
    pricing_fees_t fees = { policy->no_show_fee_cents, policy->late_cancel_fee_cents };
    S_CHECK (pricing_fee (&fees, PRICING_EVENT_NO_SHOW, false, 0) == fees.no_show_cents);
    S_CHECK (pricing_fee (&fees, PRICING_EVENT_CANCELLED, false, PRICING_BY_PATIENT) == 0);
    S_CHECK (pricing_fee (&fees, PRICING_EVENT_CANCELLED, true, PRICING_BY_CLINIC) == 0);
    S_CHECK (pricing_fee (&fees, PRICING_EVENT_CANCELLED, true, PRICING_BY_PATIENT)
             == fees.late_cancel_cents);
}

static void
s_course_spec (const Meso__V1__CourseSpec *spec)
{
    int n = planner_course_sessions (spec->grade, spec->mild, spec->sessions);
    if (n < 0)
        return;
    S_CHECK (n >= 1 && n <= PLANNER_MAX_COURSE);
    planner_settings_t s = { 7, 28, 0 };
    int gaps [PLANNER_MAX_SESSIONS];
    S_CHECK (planner_gaps (n, &s, gaps) == 0);
    S_CHECK (gaps [0] == 0);
    for (int i = 1; i < n; i++)
        S_CHECK (gaps [i] >= s.spacing_min_days && gaps [i] <= s.taper_max_days);
}

/* Every string a client can send goes through the parsers handlers use. */
static void
s_string (const char *text)
{
    S_CHECK (text);     /* protobuf-c gives "" for an absent string */
    int32_t day;
    int minutes;
    if (meso_date_parse (text, &day) == 0) {
        char back [32];
        meso_date_format (day, back, sizeof back);
        S_CHECK (strcmp (back, text) == 0);
    }
    if (planner_parse_hhmm (text, true, &minutes) == 0)
        S_CHECK (minutes >= 0 && minutes <= 24 * 60);
    if (planner_parse_local (text, &day, &minutes) == 0)
        S_CHECK (minutes >= 0 && minutes < 24 * 60);
    int64_t us, cents;
    if (meso_time_parse_rfc3339 (text, &us) == 0) {
        char back [64];
        S_CHECK (meso_time_format_utc (us, back, sizeof back) >= 0);
    }
    if (meso_money_parse (text, &cents) == 0) {
        char back [64];
        S_CHECK (meso_money_format (cents, "USD", back, sizeof back) >= 0);
    }
    if (rules_code_valid (text))
        S_CHECK (text [0] >= 'a' && text [0] <= 'z' && strlen (text) <= RULES_CODE_MAX);
    int c = rules_condition_of (text);
    if (c >= 0)
        S_CHECK (c < RULES_NCONDITIONS && strcmp (rules_condition_code (c), text) == 0);
    if (rules_area_known (text))
        S_CHECK (rules_code_valid (text));
    (void) pricing_method_ok (text);
    (void) meso_currency_valid (text);
}

/* Walks a decoded message by its descriptor. */
static void
s_walk (const ProtobufCMessage *msg, int depth)
{
    S_CHECK (depth < 64);
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    if (desc == &meso__v1__questionnaire__descriptor)
        s_questionnaire ((const Meso__V1__Questionnaire *) msg);
    else if (desc == &meso__v1__price_list__descriptor)
        s_price_list ((const Meso__V1__PriceList *) msg);
    else if (desc == &meso__v1__sell_package_request__descriptor)
        s_package ((const Meso__V1__SellPackageRequest *) msg);
    else if (desc == &meso__v1__fee_policy__descriptor)
        s_fees ((const Meso__V1__FeePolicy *) msg);
    else if (desc == &meso__v1__course_spec__descriptor)
        s_course_spec ((const Meso__V1__CourseSpec *) msg);

    const char *base = (const char *) msg;
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields [i];
        if (f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
            && *(const uint32_t *) (base + f->quantifier_offset) != f->id)
            continue;   /* another member of the oneof is set */
        size_t n = 1;
        const void *const *items = (const void *const *) (base + f->offset);
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            n = *(const size_t *) (base + f->quantifier_offset);
            items = *(const void *const *const *) (base + f->offset);
        }
        for (size_t k = 0; k < n; k++) {
            if (f->type == PROTOBUF_C_TYPE_STRING)
                s_string (items [k]);
            else if (items [k])
                s_walk (items [k], depth + 1);
        }
    }
}

/* Inputs that decoded (for the replay's summary). */
static long s_decoded;

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const ProtobufCMessageDescriptor *desc = s_messages [data [0] % S_NMESSAGES];
    ProtobufCMessage *msg = protobuf_c_message_unpack (desc, NULL, size - 1, data + 1);
    fz_wirecheck (desc, data + 1, size - 1, msg);
    if (!msg)
        return 0;
    S_CHECK (msg->descriptor == desc);
    s_decoded++;
    s_check_round_trip (msg);
    s_check_json (msg, 0);
    s_check_json (msg, MESO_PBJSON_DEFAULTS);
    s_walk (msg, 0);
    protobuf_c_message_free_unpacked (msg, NULL);
    return 0;
}

#ifndef MESO_FUZZING

/* ------------------------------------------- the table against the protos */

/* Fails unless s_messages holds each message declared in
 * the .proto files under source/proto/meso/v1 exactly once, and nothing
 * else. */
static int
s_check_table (const char *source)
{
    int rc = 0;
    for (size_t i = 0; i < S_NMESSAGES; i++) {
        if (s_messages [i]->magic != PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC
            || strcmp (s_messages [i]->package_name, "meso.v1") != 0) {
            fprintf (stderr, "fuzz_messages: entry %zu is not a meso.v1 message\n", i);
            rc = -1;
        }
        for (size_t j = 0; j < i; j++)
            if (s_messages [j] == s_messages [i]) {
                fprintf (stderr, "fuzz_messages: %s listed twice\n", s_messages [i]->name);
                rc = -1;
            }
    }
    char dirname [4096];
    snprintf (dirname, sizeof dirname, "%s/proto/meso/v1", source);
    DIR *dir = opendir (dirname);
    if (!dir) {
        perror (dirname);
        return -1;
    }
    size_t declared = 0;
    int files = 0;
    struct dirent *entry;
    while ((entry = readdir (dir))) {
        size_t len = strlen (entry->d_name);
        if (len < 6 || strcmp (entry->d_name + len - 6, ".proto") != 0)
            continue;
        char path [8192];
        snprintf (path, sizeof path, "%s/%s", dirname, entry->d_name);
        FILE *file = fopen (path, "r");
        if (!file) {
            perror (path);
            closedir (dir);
            return -1;
        }
        files++;
        char line [1024];
        while (fgets (line, sizeof line, file)) {
            const char *p = line + strspn (line, " \t");
            if (strncmp (p, "message", 7) != 0 || (p [7] != ' ' && p [7] != '\t'))
                continue;
            p += 7 + strspn (p + 7, " \t");
            size_t n = strspn (p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_");
            if (n == 0)
                continue;
            declared++;
            bool listed = false;
            for (size_t i = 0; i < S_NMESSAGES && !listed; i++)
                listed = strlen (s_messages [i]->short_name) == n
                         && strncmp (s_messages [i]->short_name, p, n) == 0;
            if (!listed) {
                fprintf (stderr, "fuzz_messages: message %.*s (%s) is missing from s_messages\n",
                         (int) n, p, entry->d_name);
                rc = -1;
            }
        }
        fclose (file);
    }
    closedir (dir);
    if (files < 6 || declared != S_NMESSAGES) {
        fprintf (stderr, "fuzz_messages: %d .proto files declare %zu messages, s_messages holds %zu\n",
                 files, declared, S_NMESSAGES);
        rc = -1;
    }
    return rc;
}

/* ------------------------------------------------------ replay and mutate */

#define MUTATIONS_PER_SEED 400
#define RANDOM_PER_MESSAGE 40

static uint64_t s_rng = 0x9E3779B97F4A7C15ull;

static uint32_t
s_rand (void)
{
    /* xorshift64*: deterministic, so a failure replays the same way. */
    s_rng ^= s_rng >> 12;
    s_rng ^= s_rng << 25;
    s_rng ^= s_rng >> 27;
    return (uint32_t) ((s_rng * 0x2545F4914F6CDD1Dull) >> 32);
}

/* One mutation of seed into out (capacity cap); returns its length. The
 * selector byte is left alone half of the time so each seed mostly stays
 * with its message type. */
static size_t
s_mutate (const uint8_t *seed, size_t len, uint8_t *out, size_t cap)
{
    static const uint8_t interesting [] = { 0x00, 0x01, 0x7F, 0x80, 0xFF, 0x0A, 0x12, 0x32 };
    size_t n = len < cap ? len : cap;
    memcpy (out, seed, n);
    size_t lo = (n > 1 && s_rand () % 2) ? 1 : 0;
    int rounds = 1 + (int) (s_rand () % 4);
    for (int r = 0; r < rounds; r++) {
        size_t pos = n > lo ? lo + s_rand () % (n - lo) : n;
        switch (s_rand () % 6) {
            case 0:     /* flip a bit */
                if (pos < n)
                    out [pos] ^= (uint8_t) (1u << (s_rand () % 8));
                break;
            case 1:     /* an interesting byte */
                if (pos < n)
                    out [pos] = interesting [s_rand () % sizeof interesting];
                break;
            case 2:     /* truncate */
                n = pos;
                break;
            case 3:     /* insert random bytes */
                if (n < cap) {
                    size_t k = 1 + s_rand () % 8;
                    if (k > cap - n)
                        k = cap - n;
                    memmove (out + pos + k, out + pos, n - pos);
                    for (size_t i = 0; i < k; i++)
                        out [pos + i] = (uint8_t) s_rand ();
                    n += k;
                }
                break;
            case 4:     /* duplicate a chunk (repeated fields, merged messages) */
                if (pos < n && n < cap) {
                    size_t k = 1 + s_rand () % (n - pos);
                    if (k > cap - n)
                        k = cap - n;
                    memmove (out + n, out + pos, k);
                    n += k;
                }
                break;
            default:    /* a varint of continuation bytes */
                for (size_t i = pos; i < n && i < pos + 5; i++)
                    out [i] |= 0x80;
                break;
        }
    }
    return n;
}

static void
s_run (const uint8_t *data, size_t n)
{
    /* An exact-size block so ASan sees any read past its end. */
    uint8_t *exact = malloc (n ? n : 1);
    if (!exact)
        abort ();
    memcpy (exact, data, n);
    LLVMFuzzerTestOneInput (exact, n);
    free (exact);
}

int
main (int argc, char **argv)
{
    if (argc != 2) {
        fprintf (stderr, "usage: MESO_SOURCE_DIR=... %s CORPUS_DIR\n", argv [0]);
        return 2;
    }
    const char *source = getenv ("MESO_SOURCE_DIR");
    if (!source || !*source) {
        fprintf (stderr, "fuzz_messages: MESO_SOURCE_DIR is not set\n");
        return 2;
    }
    if (s_check_table (source) != 0)
        return 1;
    DIR *dir = opendir (argv [1]);
    if (!dir) {
        perror (argv [1]);
        return 1;
    }
    const size_t cap = 4096;
    uint8_t *seed = malloc (cap);
    uint8_t *buf = malloc (cap);
    if (!seed || !buf)
        return 1;
    int seeds = 0;
    long runs = 0;
    struct dirent *entry;
    while ((entry = readdir (dir))) {
        if (entry->d_name [0] == '.')
            continue;
        char path [4096];
        snprintf (path, sizeof path, "%s/%s", argv [1], entry->d_name);
        FILE *file = fopen (path, "rb");
        if (!file) {
            perror (path);
            return 1;
        }
        size_t len = fread (seed, 1, cap, file);
        fclose (file);
        long before = s_decoded;
        s_run (seed, len);
        runs++;
        if (s_decoded == before) {
            fprintf (stderr, "fuzz_messages: seed %s does not decode\n", entry->d_name);
            return 1;
        }
        for (int m = 0; m < MUTATIONS_PER_SEED; m++) {
            s_run (buf, s_mutate (seed, len, buf, cap));
            runs++;
        }
        seeds++;
    }
    closedir (dir);
    /* Every message type: empty, then random bodies. */
    for (size_t i = 0; i < S_NMESSAGES; i++) {
        buf [0] = (uint8_t) i;
        s_run (buf, 1);
        runs++;
        for (int k = 0; k < RANDOM_PER_MESSAGE; k++) {
            size_t n = 1 + s_rand () % 128;
            for (size_t b = 1; b < n; b++)
                buf [b] = (uint8_t) s_rand ();
            s_run (buf, n);
            runs++;
        }
    }
    free (seed);
    free (buf);
    printf ("fuzz_messages: %zu message types, %d seeds, %ld inputs (%ld decoded), no crash\n",
            S_NMESSAGES, seeds, runs, s_decoded);
    return seeds > 0 ? 0 : 1;
}

#endif
