/* fhir.h -- a patient's record as a FHIR R4 Bundle, from the four
 * "<service>.ExportPatient" replies (what `mesoctl patient export`
 * collects), for `mesoctl fhir export` (cmd_fhir.c, the only file with
 * I/O).
 *
 * Pure: no I/O, no clock, no environment. The JSON is built with jansson
 * (a Debian library), never by string concatenation. Split by resource
 * family, each file unit tested directly (tests/unit/test_fhir*.c):
 *
 *   fhir_fields.c   every read of a free-string field of the messages
 *                   (Session.status, BookedCourse.status, Invoice.kind,
 *                   Reservation.status, IngredientAmount.unit) and the
 *                   tables that map those lowercase values to FHIR codes:
 *                   when the contract turns them into enums, only the
 *                   readers change
 *   fhir_ids.c      resource ids, references, fullUrls, instants, dates,
 *                   money and decimal quantities, codings
 *   fhir_person.c   Patient, Organization, Practitioner,
 *                   AllergyIntolerance, Condition, Consent
 *   fhir_care.c     CarePlan, Appointment, Medication,
 *                   MedicationAdministration
 *   fhir_invoice.c  Invoice
 *   fhir_bundle.c   the Bundle: every resource once, in a fixed order
 *
 * Ownership: every function returning json_t * hands a new reference to
 * the caller (json_decref); inputs are borrowed. */
#ifndef MESOCTL_FHIR_H
#define MESOCTL_FHIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "billing.pb-c.h"
#include "inventory.pb-c.h"
#include "scheduling.pb-c.h"
#include "screening.pb-c.h"

/* Systems and extensions of meso's own codes (URNs: meso publishes no
 * code system on the web). */
#define FHIR_SYS_PATIENT "urn:meso:v1:patient"
#define FHIR_SYS_CLINIC "urn:meso:v1:clinic"
#define FHIR_SYS_PRACTITIONER "urn:meso:v1:practitioner"
#define FHIR_SYS_INGREDIENT "urn:meso:v1:ingredient"
#define FHIR_SYS_REASON "urn:meso:v1:screening-reason"
#define FHIR_SYS_REASON_KIND "urn:meso:v1:screening-reason-kind"
#define FHIR_SYS_TREATMENT "urn:meso:v1:treatment"
#define FHIR_SYS_INVOICE_KIND "urn:meso:v1:invoice-kind"
#define FHIR_SYS_AREA "urn:meso:v1:treatment-area"
#define FHIR_EXT "urn:meso:v1:extension:"
#define FHIR_UCUM "http://unitsofmeasure.org"
/* The base of every fullUrl when the caller gives none (a name under
 * .invalid, RFC 2606: it resolves nowhere, so it is never mistaken for a
 * server). */
#define FHIR_BASE_DEFAULT "https://meso.invalid/fhir"
/* A resource id: [A-Za-z0-9.-]{1,64}, and its terminating NUL. */
#define FHIR_ID_SIZE 65

/* ------------------------------------------------------------ fields */

/* The readers: the lowercase string value of each free-string field
 * ("booked", "session", "mg", ...), "" when unset. */
const char *fhir_field_session_status (const Meso__V1__Session *s);
const char *fhir_field_course_status (const Meso__V1__BookedCourse *c);
const char *fhir_field_invoice_kind (const Meso__V1__Invoice *i);
const char *fhir_field_reservation_status (const Meso__V1__Reservation *r);
const char *fhir_field_amount_unit (const Meso__V1__IngredientAmount *a);

/* Session.status -> Appointment.status (README "FHIR R4 export"); NULL
 * for a value the table does not know. */
const char *fhir_appointment_status (const char *session_status);
/* True for a session status that is over (completed, cancelled, no_show). */
bool fhir_session_ended (const char *session_status);
/* BookedCourse.status -> CarePlan.status: a booked course is "active"
 * until every session ended, then "completed"; NULL when unknown. */
const char *fhir_careplan_status (const char *course_status, bool all_sessions_ended);
/* Invoice.kind -> its display ("Session", ...); NULL when unknown. */
const char *fhir_invoice_kind_display (const char *kind);
/* The invoice's FHIR status from its amounts: "cancelled" when credited
 * in full, "balanced" when nothing is due, else "issued". */
const char *fhir_invoice_status (int64_t total_cents, int64_t credited_cents, int64_t due_cents);
/* IngredientAmount.unit -> UCUM code ("mg", "mL"); NULL when unknown. */
const char *fhir_ucum_unit (const char *unit);
/* True when the reservation's stock was consumed (a session performed). */
bool fhir_reservation_consumed (const char *reservation_status);

/* --------------------------------------------------------------- ids */

/* The id of a resource for one meso id: that id itself when it is a valid
 * FHIR id, else "h-" and 40 hex digits of the SHA-256 of type, "|" and
 * the id. Ids of resources made of several meso ids (parts, joined) are
 * always the hashed form. out holds FHIR_ID_SIZE bytes; returns out. */
char *fhir_id (const char *type, const char *meso_id, char *out);
char *fhir_id_of (const char *type, const char *const *parts, size_t nparts, char *out);
/* True when id is a valid FHIR id. */
bool fhir_id_valid (const char *id);
/* {"reference": "Type/id"} with id = fhir_id (type, meso_id). */
json_t *fhir_ref (const char *type, const char *meso_id);
/* {"reference": "Type/id"} for an id already made. */
json_t *fhir_ref_id (const char *type, const char *id);
/* An instant (microseconds since the epoch, UTC) as FHIR instant/dateTime
 * "YYYY-MM-DDTHH:MM:SSZ" (fraction only when not whole seconds). */
int fhir_instant (int64_t us, char *buf, size_t size);
/* A civil date "YYYY-MM-DD" when valid, else NULL. */
const char *fhir_date (const char *text);
/* Money {"value": decimal, "currency": "USD"} from cents. */
json_t *fhir_money (int64_t cents, const char *currency);
/* A decimal from thousandths (1500 -> 1.5): an integer when whole. */
json_t *fhir_decimal_milli (int64_t milli);
/* {"coding": [{"system", "code", "display"?}], "text"?}; display/text
 * left out when NULL or "". */
json_t *fhir_concept (const char *system, const char *code, const char *display, const char *text);
/* Sets key to the string s unless s is NULL or "" (FHIR has no empty
 * strings). */
void fhir_set_str (json_t *obj, const char *key, const char *s);
/* Adds an extension {url: FHIR_EXT name, value<type>: v} to obj. */
void fhir_extension (json_t *obj, const char *name, const char *value_key, json_t *value);

/* ------------------------------------------------------- resources */

/* Each returns the resource (with its "id") or NULL with why. */
json_t *fhir_patient (const Meso__V1__Patient *p);
json_t *fhir_organization (const char *clinic_id);
json_t *fhir_practitioner (const char *practitioner_id);
/* One per allergy code of the newest screening that declares any. */
json_t *fhir_allergy (const char *patient_id, const Meso__V1__Screening *s, const char *code);
/* One per reason of a screening: the contraindication or precaution
 * found, with the screening's verdict; active when the screening is the
 * patient's current one, else inactive (a newer screening supersedes it). */
json_t *fhir_condition (const char *patient_id, const Meso__V1__Screening *s, size_t reason, bool current);
/* "eligible", "eligible-with-precautions", "ineligible", "unspecified". */
const char *fhir_verdict_code (int verdict);
json_t *fhir_consent (const Meso__V1__ConsentSignature *c);
json_t *fhir_careplan (const Meso__V1__BookedCourse *c, char *why, size_t size);
json_t *fhir_appointment (const Meso__V1__BookedCourse *c, const Meso__V1__Session *s, char *why,
                          size_t size);
/* The ingredient of one lot; expiry "" when not known. */
json_t *fhir_medication (const Meso__V1__IngredientAmount *a, const char *expiry);
/* One consumed line of a session's reservation; session may be NULL
 * (then the session date is the effective date and no Appointment is
 * named). */
json_t *fhir_administration (const Meso__V1__Reservation *r, const Meso__V1__IngredientAmount *a,
                             const Meso__V1__Session *session, char *why, size_t size);
json_t *fhir_invoice (const Meso__V1__Invoice *i, char *why, size_t size);

/* ------------------------------------------------------------ bundle */

/* A lot's expiry date, as inventory.GetStock tells it. */
typedef struct {
    const char *lot_id;
    const char *expiry_date;
} fhir_lot_t;

typedef struct {
    const Meso__V1__ScreeningExportPatientReply *screening;   /* required */
    const Meso__V1__SchedulingExportPatientReply *scheduling; /* NULL: none */
    const Meso__V1__InventoryExportPatientReply *inventory;   /* NULL: none */
    const Meso__V1__BillingExportPatientReply *billing;       /* NULL: none */
    const fhir_lot_t *lots;
    size_t nlots;
    const char *base_url;       /* NULL or "": FHIR_BASE_DEFAULT */
    int64_t generated_at_us;    /* Bundle.timestamp */
} fhir_input_t;

/* The Bundle (type "collection"), or NULL with why: an erased patient, a
 * status the tables do not know, a consumed lot whose expiry is unknown. */
json_t *fhir_bundle (const fhir_input_t *in, char *why, size_t size);

/* A lot consumed for the patient: its clinic and one consumed line. */
typedef struct {
    const char *clinic_id;
    const Meso__V1__IngredientAmount *line;
} fhir_used_lot_t;

/* Every lot of a consumed line, once each (by lot_id), into out (borrowed
 * pointers into inv), at most max; returns how many there are (which may
 * be more than max). */
size_t fhir_used_lots (const Meso__V1__InventoryExportPatientReply *inv, fhir_used_lot_t *out,
                       size_t max);

#endif
