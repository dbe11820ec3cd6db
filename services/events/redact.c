/* redact.c -- see redact.h.
 *
 * What counts as health data (DESIGN.md "Trust"; proto/meso/v1/events.proto
 * marks each field "Health"):
 * - screening.completed: the reasons (every contraindication and
 *   precaution, with the answers they name) and earliest_first_session
 *   (it reveals anti-inflammatory medication). The verdict stays: whether
 *   a patient may be booked is what the front desk sees too.
 * - screening.patient_changed: the health answers a patient reported
 *   (ReportChange). Only the names of patient record fields an edit
 *   changed are kept, by an allow-list, so an unknown entry is dropped.
 * - session.completed: the clinical notes, the improvement score (set to
 *   -1, the value for "no outcome recorded") and the non-responder flag.
 * - session.cancelled: the free-text reason (it may name a condition:
 *   "patient pregnant"); who cancelled and how late stay.
 * - session.reminder_due: the instructions that follow from the patient's
 *   screening (health_instructions: a washout date reveals
 *   anti-inflammatory medication, others declared medication or
 *   allergies); the instructions every patient gets, the time, clinic,
 *   practitioner and room stay.
 * - session.slot_offered: none (a slot, a hold, the waitlist entry).
 * Everything else was reviewed and carries none: session facts (time,
 * room, areas, recipe, what was injected), consent facts (the text's hash,
 * never its answers), stock, billing. */
#include "redact.h"
#include "meso/outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Empties a string of an unpacked message without changing its
 * allocation (an empty proto3 string may point to shared constant
 * storage: it is left alone). */
static void
s_empty (char *s)
{
    if (s && *s)
        s[0] = '\0';
}

static void
s_screening_completed (Meso__V1__Event *ev)
{
    Meso__V1__ScreeningCompleted *p = ev->screening_completed;
    if (!p)
        return;
    for (size_t i = 0; i < p->n_reasons; i++)
        meso__v1__reason__free_unpacked (p->reasons[i], NULL);
    p->n_reasons = 0;           /* free_unpacked frees the array itself */
    s_empty (p->earliest_first_session);
}

/* The patient record fields an edit (screening.UpdatePatient) reports
 * as changed: contact and identity, not health. */
static const char *const s_patient_fields[] = {
    "given_name", "family_name", "birth_date", "sex", "phone", "email", "home_clinic_id"
};

static bool
s_patient_field (const char *name)
{
    for (size_t i = 0; i < sizeof s_patient_fields / sizeof s_patient_fields[0]; i++)
        if (name && strcmp (name, s_patient_fields[i]) == 0)
            return true;
    return false;
}

static void
s_patient_changed (Meso__V1__Event *ev)
{
    Meso__V1__PatientChanged *p = ev->patient_changed;
    if (!p)
        return;
    size_t kept = 0;
    for (size_t i = 0; i < p->n_changed; i++) {
        if (s_patient_field (p->changed[i]))
            p->changed[kept++] = p->changed[i];
        else
            free (p->changed[i]);   /* the default allocator's free */
    }
    p->n_changed = kept;
}

static void
s_session_completed (Meso__V1__Event *ev)
{
    Meso__V1__SessionCompleted *p = ev->session_completed;
    if (!p)
        return;
    s_empty (p->notes);
    p->outcome_case = MESO__V1__SESSION_COMPLETED__OUTCOME__NOT_SET;   /* as when no outcome was recorded */
    p->improvement_score = 0;
    p->non_responder = false;
}

static void
s_session_cancelled (Meso__V1__Event *ev)
{
    if (ev->session_cancelled)
        s_empty (ev->session_cancelled->reason);
}

static void
s_session_reminder_due (Meso__V1__Event *ev)
{
    Meso__V1__SessionReminderDue *p = ev->session_reminder_due;
    if (!p)
        return;
    for (size_t i = 0; i < p->n_health_instructions; i++)
        free (p->health_instructions[i]);   /* the default allocator's free */
    p->n_health_instructions = 0;
}

typedef void (s_strip_fn) (Meso__V1__Event *ev);

/* Every type of common/src/event_types.c, and what to strip (NULL: none,
 * reviewed). */
static const struct {
    const char *type;
    s_strip_fn *strip;
} s_table[] = {
    { "session.booked", NULL },
    { "session.rescheduled", NULL },
    { "session.cancelled", s_session_cancelled },
    { "session.started", NULL },
    { "session.completed", s_session_completed },
    { "session.no_show", NULL },
    { "session.on_hold", NULL },                /* names the report, not its content */
    { "session.hold_released", NULL },
    { "session.retreatment_due", NULL },
    { "screening.completed", s_screening_completed },
    { "screening.patient_changed", s_patient_changed },
    { "screening.consent_signed", NULL },       /* the fact and the text's hash only */
    { "stock.received", NULL },
    { "stock.reserved", NULL },
    { "stock.released", NULL },
    { "stock.consumed", NULL },
    { "stock.low", NULL },
    { "stock.expiring", NULL },
    { "stock.recalled", NULL },                 /* the lot's recall reason, not a patient's */
    { "stock.recall_shortfall", NULL },
    { "billing.invoice_issued", NULL },
    { "billing.payment_received", NULL },
    { "billing.refund_issued", NULL },
    /* Money and packages: amounts, lines, dates; their free-text reasons
     * are about invoices and packages, not the patient's health. */
    { "billing.package_session_used", NULL },
    { "billing.package_expired", NULL },
    { "billing.credit_note_issued", NULL },
    { "billing.package_refunded", NULL },
    { "billing.price_list_set", NULL },
    { "billing.fee_policy_set", NULL },
    { "billing.tax_rates_set", NULL },
    { "billing.package_policy_set", NULL },
    { "billing.package_sold", NULL },
    { "screening.patient_erased", NULL },       /* the patient id and the instant, no reason */
    { "session.slot_offered", NULL },           /* a slot and its hold for a waitlist entry */
    { "session.reminder_due", s_session_reminder_due },
};

static int
s_find (const char *type)
{
    for (size_t i = 0; type && i < sizeof s_table / sizeof s_table[0]; i++)
        if (strcmp (s_table[i].type, type) == 0)
            return (int) i;
    return -1;
}

bool
redact_known (const char *type)
{
    return s_find (type) >= 0;
}

bool
redact_needed (const char *type)
{
    int i = s_find (type);
    /* An unknown type may hold anything: it needs the decoder's verdict
     * (which refuses it). */
    return i < 0 || s_table[i].strip != NULL;
}

int
redact_event (Meso__V1__Event *ev)
{
    int i = s_find (ev ? ev->type : NULL);
    if (i < 0)
        return -1;
    /* The payloads share a union: a payload that is not the type's own
     * (the outbox refuses those; a hand-edited log row might not) would be
     * read as the wrong message, or pass unstripped. */
    if (ev->payload_case != meso_event_payload_case (ev->type))
        return -1;
    if (s_table[i].strip)
        s_table[i].strip (ev);
    return 0;
}

uint8_t *
redact_packed (const uint8_t *in, size_t len, size_t *out_len)
{
    Meso__V1__Event *ev = meso__v1__event__unpack (NULL, len, in);
    if (!ev)
        return NULL;
    uint8_t *out = NULL;
    if (redact_event (ev) == 0) {
        size_t n = meso__v1__event__get_packed_size (ev);
        out = malloc (n ? n : 1);
        if (out)
            *out_len = meso__v1__event__pack (ev, out);
    }
    meso__v1__event__free_unpacked (ev, NULL);
    return out;
}

/* The patient an event with health fields is about ("" when none). */
static const char *
s_patient (const Meso__V1__Event *ev)
{
    switch (ev->payload_case) {
    case MESO__V1__EVENT__PAYLOAD_SCREENING_COMPLETED:
        return ev->screening_completed->patient_id;
    case MESO__V1__EVENT__PAYLOAD_PATIENT_CHANGED:
        return ev->patient_changed->patient_id;
    case MESO__V1__EVENT__PAYLOAD_SESSION_COMPLETED:
        return ev->session_completed->session ? ev->session_completed->session->patient_id : "";
    case MESO__V1__EVENT__PAYLOAD_SESSION_CANCELLED:
        return ev->session_cancelled->session ? ev->session_cancelled->session->patient_id : "";
    case MESO__V1__EVENT__PAYLOAD_SESSION_REMINDER_DUE:
        return ev->session_reminder_due->session ? ev->session_reminder_due->session->patient_id : "";
    default:
        return "";
    }
}

int
redact_split (const char *type, const uint8_t *in, size_t len, uint8_t **out, size_t *out_len,
              char *patient, size_t size)
{
    int i = s_find (type);
    if (i < 0)
        return -1;
    if (!s_table[i].strip)
        return 0;
    Meso__V1__Event *ev = meso__v1__event__unpack (NULL, len, in);
    if (!ev)
        return -1;
    snprintf (patient, size, "%s", ev->payload_case == meso_event_payload_case (type)
                                   ? (s_patient (ev) ? s_patient (ev) : "") : "");
    int rc = -1;
    if (redact_event (ev) == 0) {
        size_t n = meso__v1__event__get_packed_size (ev);
        *out = malloc (n ? n : 1);
        if (*out) {
            *out_len = meso__v1__event__pack (ev, *out);
            rc = 1;
        }
    }
    meso__v1__event__free_unpacked (ev, NULL);
    return rc;
}

int
redact_erased_patient (const uint8_t *in, size_t len, char *patient, size_t size)
{
    Meso__V1__Event *ev = meso__v1__event__unpack (NULL, len, in);
    if (!ev)
        return -1;
    int rc = -1;
    if (ev->payload_case == MESO__V1__EVENT__PAYLOAD_PATIENT_ERASED && ev->patient_erased->patient_id
        && *ev->patient_erased->patient_id) {
        snprintf (patient, size, "%s", ev->patient_erased->patient_id);
        rc = 0;
    }
    meso__v1__event__free_unpacked (ev, NULL);
    return rc;
}
