/* fhir_fields.c -- every read of a free-string field of the export
 * messages, and the tables that turn those lowercase values into FHIR
 * codes (fhir.h).
 *
 * These fields are enums of the contract (Session.status,
 * BookedCourse.status, Invoice.kind, Reservation.status,
 * IngredientAmount.unit). The readers below are the only places that
 * touch them: each maps the enum back to its lowercase text ("booked",
 * "session", "mg": meso/enumtext.h), "unspecified" for a value the
 * contract does not know. The tables take those texts, so they are tested
 * with plain strings.
 *
 * A value a table does not know is NULL, never a guess: the export then
 * stops with the value named (a status the mapping has not been taught is
 * a bug to fix, not data to hide). */
#include <string.h>

#include "fhir.h"
#include "meso/enumtext.h"

const char *
fhir_field_session_status (const Meso__V1__Session *s)
{
    return meso_enum_str (&meso__v1__session_status__descriptor, (int) s->status);
}

const char *
fhir_field_course_status (const Meso__V1__BookedCourse *c)
{
    return meso_enum_str (&meso__v1__course_status__descriptor, (int) c->status);
}

const char *
fhir_field_invoice_kind (const Meso__V1__Invoice *i)
{
    return meso_enum_str (&meso__v1__invoice_kind__descriptor, (int) i->kind);
}

const char *
fhir_field_reservation_status (const Meso__V1__Reservation *r)
{
    return meso_enum_str (&meso__v1__reservation_status__descriptor, (int) r->status);
}

const char *
fhir_field_amount_unit (const Meso__V1__IngredientAmount *a)
{
    return meso_enum_str (&meso__v1__unit__descriptor, (int) a->unit);
}

typedef struct {
    const char *meso;
    const char *fhir;
} s_map_t;

static const char *
s_lookup (const s_map_t *map, size_t n, const char *value)
{
    for (size_t i = 0; value && i < n; i++)
        if (strcmp (map[i].meso, value) == 0)
            return map[i].fhir;
    return NULL;
}

/* Session.status -> Appointment.status (R4 value set
 * appointmentstatus). "pending" is a booking whose saga has not finished
 * (stock not yet held): FHIR's pending, "not all participants have
 * finalised". "on_hold" waits for a new screening after a reported
 * change: still pending, not booked, until it clears. "started" is the
 * patient in the room: arrived. */
static const s_map_t s_appointment[] = {
    { "pending", "pending" },
    { "booked", "booked" },
    { "on_hold", "pending" },
    { "started", "arrived" },
    { "completed", "fulfilled" },
    { "cancelled", "cancelled" },
    { "no_show", "noshow" },
};

const char *
fhir_appointment_status (const char *session_status)
{
    return s_lookup (s_appointment, sizeof s_appointment / sizeof s_appointment[0], session_status);
}

bool
fhir_session_ended (const char *session_status)
{
    return session_status
           && (strcmp (session_status, "completed") == 0 || strcmp (session_status, "cancelled") == 0
               || strcmp (session_status, "no_show") == 0);
}

/* BookedCourse.status -> CarePlan.status (R4 request-status): a course
 * still being booked is a draft; a booking that failed was undone
 * (revoked); a booked course is active until every session is over. */
const char *
fhir_careplan_status (const char *course_status, bool all_sessions_ended)
{
    static const s_map_t map[] = {
        { "pending", "draft" },
        { "booked", "active" },
        { "failed", "revoked" },
    };
    const char *st = s_lookup (map, sizeof map / sizeof map[0], course_status);
    if (st && strcmp (st, "active") == 0 && all_sessions_ended)
        return "completed";
    return st;
}

const char *
fhir_invoice_kind_display (const char *kind)
{
    static const s_map_t map[] = {
        { "session", "Session performed" },
        { "package", "Package of sessions" },
        { "fee", "Cancellation or no-show fee" },
        { "manual", "Manual invoice" },
    };
    return s_lookup (map, sizeof map / sizeof map[0], kind);
}

/* Invoice.status (R4 invoice-status) from the amounts: meso keeps no
 * status column, an invoice is issued when made and never a draft. */
const char *
fhir_invoice_status (int64_t total_cents, int64_t credited_cents, int64_t due_cents)
{
    if (total_cents > 0 && credited_cents >= total_cents)
        return "cancelled";
    if (due_cents <= 0)
        return "balanced";
    return "issued";
}

/* The catalogue's units -> UCUM (case matters there: millilitre is mL). */
const char *
fhir_ucum_unit (const char *unit)
{
    static const s_map_t map[] = {
        { "mg", "mg" },
        { "ml", "mL" },
    };
    return s_lookup (map, sizeof map / sizeof map[0], unit);
}

bool
fhir_reservation_consumed (const char *reservation_status)
{
    return reservation_status && strcmp (reservation_status, "consumed") == 0;
}
