/* event_types.c -- the table of event types and the payload each carries.
 *
 * One place that says "session.booked carries session_booked": the outbox
 * refuses an event that breaks it, so every subscriber can switch on the
 * type and trust the payload. Adding an event kind means a line here and a
 * oneof member in proto/meso/v1/events.proto. Pure logic, no I/O. */
#include "meso/outbox.h"

#include <string.h>
#include <stdio.h>

static const struct {
    const char *type;
    Meso__V1__Event__PayloadCase payload;
} s_types[] = {
    { "session.booked", MESO__V1__EVENT__PAYLOAD_SESSION_BOOKED },
    { "session.rescheduled", MESO__V1__EVENT__PAYLOAD_SESSION_RESCHEDULED },
    { "session.cancelled", MESO__V1__EVENT__PAYLOAD_SESSION_CANCELLED },
    { "session.started", MESO__V1__EVENT__PAYLOAD_SESSION_STARTED },
    { "session.completed", MESO__V1__EVENT__PAYLOAD_SESSION_COMPLETED },
    { "session.no_show", MESO__V1__EVENT__PAYLOAD_SESSION_NO_SHOW },
    { "session.on_hold", MESO__V1__EVENT__PAYLOAD_SESSION_ON_HOLD },
    { "session.hold_released", MESO__V1__EVENT__PAYLOAD_SESSION_HOLD_RELEASED },
    { "session.retreatment_due", MESO__V1__EVENT__PAYLOAD_SESSION_RETREATMENT_DUE },
    { "screening.completed", MESO__V1__EVENT__PAYLOAD_SCREENING_COMPLETED },
    { "screening.patient_changed", MESO__V1__EVENT__PAYLOAD_PATIENT_CHANGED },
    { "screening.consent_signed", MESO__V1__EVENT__PAYLOAD_CONSENT_SIGNED },
    { "stock.received", MESO__V1__EVENT__PAYLOAD_STOCK_RECEIVED },
    { "stock.reserved", MESO__V1__EVENT__PAYLOAD_STOCK_RESERVED },
    { "stock.released", MESO__V1__EVENT__PAYLOAD_STOCK_RELEASED },
    { "stock.consumed", MESO__V1__EVENT__PAYLOAD_STOCK_CONSUMED },
    { "stock.low", MESO__V1__EVENT__PAYLOAD_STOCK_LOW },
    { "stock.expiring", MESO__V1__EVENT__PAYLOAD_STOCK_EXPIRING },
    { "stock.recalled", MESO__V1__EVENT__PAYLOAD_STOCK_RECALLED },
    { "stock.recall_shortfall", MESO__V1__EVENT__PAYLOAD_STOCK_RECALL_SHORTFALL },
    { "billing.invoice_issued", MESO__V1__EVENT__PAYLOAD_INVOICE_ISSUED },
    { "billing.payment_received", MESO__V1__EVENT__PAYLOAD_PAYMENT_RECEIVED },
    { "billing.refund_issued", MESO__V1__EVENT__PAYLOAD_REFUND_ISSUED },
    { "billing.package_session_used", MESO__V1__EVENT__PAYLOAD_PACKAGE_SESSION_USED },
    { "billing.package_expired", MESO__V1__EVENT__PAYLOAD_PACKAGE_EXPIRED },
    { "billing.credit_note_issued", MESO__V1__EVENT__PAYLOAD_CREDIT_NOTE_ISSUED },
    { "billing.package_refunded", MESO__V1__EVENT__PAYLOAD_PACKAGE_REFUNDED },
    { "billing.price_list_set", MESO__V1__EVENT__PAYLOAD_PRICE_LIST_SET },
    { "billing.fee_policy_set", MESO__V1__EVENT__PAYLOAD_FEE_POLICY_SET },
    { "billing.tax_rates_set", MESO__V1__EVENT__PAYLOAD_TAX_RATES_SET },
    { "billing.package_policy_set", MESO__V1__EVENT__PAYLOAD_PACKAGE_POLICY_SET },
    { "billing.package_sold", MESO__V1__EVENT__PAYLOAD_PACKAGE_SOLD },
    { "screening.patient_erased", MESO__V1__EVENT__PAYLOAD_PATIENT_ERASED },
    { "session.slot_offered", MESO__V1__EVENT__PAYLOAD_SESSION_SLOT_OFFERED },
    { "session.reminder_due", MESO__V1__EVENT__PAYLOAD_SESSION_REMINDER_DUE },
};

static const char *const s_streams[] = { "session", "screening", "stock", "billing" };

Meso__V1__Event__PayloadCase
meso_event_payload_case (const char *type)
{
    if (!type)
        return MESO__V1__EVENT__PAYLOAD__NOT_SET;
    for (size_t i = 0; i < sizeof s_types / sizeof s_types[0]; i++)
        if (strcmp (s_types[i].type, type) == 0)
            return s_types[i].payload;
    return MESO__V1__EVENT__PAYLOAD__NOT_SET;
}

int
meso_event_stream (const char *type, char *out, size_t size)
{
    if (!type)
        return -1;
    const char *dot = strchr (type, '.');
    if (!dot)
        return -1;
    size_t n = (size_t) (dot - type);
    for (size_t i = 0; i < sizeof s_streams / sizeof s_streams[0]; i++)
        if (strlen (s_streams[i]) == n && strncmp (s_streams[i], type, n) == 0) {
            if (n + 1 > size)
                return -1;
            memcpy (out, type, n);
            out[n] = '\0';
            return 0;
        }
    return -1;
}

const char *
meso_event_type_at (size_t i)
{
    return i < sizeof s_types / sizeof s_types[0] ? s_types[i].type : NULL;
}
