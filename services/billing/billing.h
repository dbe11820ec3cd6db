/* billing.h -- the billing daemon's state and the interfaces between its
 * files. Each section below is owned by the file it names; nothing else
 * defines those functions.
 *
 * The files, one job each, in the order they may call one another (a file
 * calls only files below it, so no two files call each other in a circle):
 *
 *   main.c       configuration, sockets, the loop
 *   handlers.c   the method table (which file owns which method) and Health
 *   statements.c GetStatement: reads every aggregate of a patient
 *   charges.c    the consumer's effect: session charges, fees, patients seen
 *   packages.c   SellPackage, GetPackage
 *   invoices.c   invoices (issuing one, reading one back), IssueInvoice,
 *                RecordPayment, RecordRefund
 *   prices.c     SetPriceList, GetPriceList, SetFeePolicy, the price of a
 *                session
 *   frame.c      what every method shares: validation helpers, the patient
 *                and currency checks, the run frame, event emission
 *   store.c      the SQL of the billing schema, and only that
 *   pricing.c    the pure decisions (no I/O), unit tested directly
 *
 * Money is int64 cents everywhere. Dates cross the store as "YYYY-MM-DD"
 * text. Every store function that changes rows runs inside the caller's
 * meso_db_txn. Invoices and payments are serialised with transaction-level
 * advisory locks (store_lock), always invoice before payment, because the
 * append-only tables cannot be locked with SELECT ... FOR UPDATE (that
 * needs UPDATE privilege, which the service role does not have on them). */
#ifndef BILLING_BILLING_H
#define BILLING_BILLING_H

#include <stdbool.h>
#include <stdint.h>

#include "meso/bus.h"
#include "meso/clinics.h"
#include "meso/db.h"
#include "meso/idem.h"
#include "meso/subscriber.h"
#include "events.pb-c.h"
#include "billing.pb-c.h"
#include "pricing.h"

#define BILLING_SCHEMA "billing"

typedef struct {
    meso_db_t *db;
    meso_bus_server_t *server;
    meso_clinics_t *clinics;        /* which clinics exist (scheduling.GetClinic, cached) */
    meso_consumer_t *consumer;      /* NULL when no events endpoint is set */
    const pricing_provider_t *provider;
    uint64_t events_applied;        /* events applied since start */
    uint64_t sessions_charged;      /* sessions charged since start */
    /* Tests only (MESO_BILLING_TEST_PAUSE_MS): sleep this long inside the
     * consumer's transaction, after the effect and before the commit, so a
     * test can SIGKILL the daemon there. 0: never. */
    int test_pause_ms;
} billing_t;

/* Longest id a request or an event may carry, in bytes. */
#define BILLING_ID_MAX 64
/* Longest description of an invoice line, or reference of a payment. */
#define BILLING_TEXT_MAX 200
/* Longest reason of a refund. */
#define BILLING_REASON_MAX 500
/* Most lines an invoice may have. */
#define BILLING_MAX_LINES 50

/* ---- handlers.c: the method table and Health ---- */
extern const meso_method_t billing_methods[];
void billing_health (Meso__V1__HealthReply *health, void *arg);

/* ---- frame.c: what every method shares ---- */

/* Validation: each adds a reason naming field and counts it in *bad
 * (meso/handler.h). A currency, when given, is a three-letter code; an
 * amount is 1..max cents. */
void billing_need_currency (meso_reply_t *reply, int *bad, const char *field, const char *v);
void billing_need_amount (meso_reply_t *reply, int *bad, const char *field, int64_t v, int64_t max);
/* Today (UTC), in days since 1970-01-01. */
int32_t billing_today (void);
/* INVALID_ARGUMENT "currency mismatch" when given is set and is not
 * expected (the currency of whose: "the clinic", "the invoice"...).
 * Returns 0 or -1. */
int billing_currency_match (meso_reply_t *reply, const char *field, const char *given,
                            const char *expected, const char *whose);
/* NOT_FOUND unless billing knows the patient. Returns 0, or -1 (with the
 * reply set, or with only the db error set when the database failed). */
int billing_patient_known (meso_db_t *db, meso_reply_t *reply, const char *patient);
/* Whether the clinic a valid request names on field exists
 * (meso_clinics_check: scheduling.GetClinic on a cache miss). 0, or -1
 * with reply set (NOT_FOUND, UNAVAILABLE). */
int billing_clinic (billing_t *self, meso_reply_t *reply, const char *field, const char *clinic);
/* The run frame of a mutating method: when bad is not 0, the
 * INVALID_ARGUMENT reply (meso_handler_invalid); when the clinic named on
 * clinic_field does not exist, its refusal (billing_clinic); else effect
 * in one transaction with the idempotency claim and the stored reply
 * (meso_idem_run, job->arg is self). */
void billing_run (billing_t *self, const Meso__V1__Request *req, meso_reply_t *reply, int bad,
                  const char *clinic_field, const char *clinic, void *in,
                  meso_idem_effect_fn *effect);
/* Appends ev to the outbox as type at clinic; an actor that names nobody
 * (NULL or no id) counts as billing's own. Returns 0 or -1. */
int billing_emit (meso_db_t *db, Meso__V1__Event *ev, const char *type, const char *clinic,
                  const Meso__V1__Actor *actor);

/* ---- prices.c: price lists and the fee policy ---- */
void billing_set_price_list (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);
void billing_get_price_list (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);
void billing_set_fee_policy (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);
/* A clinic's price rows, for the pricing_* decisions: *rows malloc'd (the
 * caller frees it), *n rows. Returns 0 or -1. */
int billing_price_rows (meso_db_t *db, const char *clinic, pricing_entry_t **rows, size_t *n);
/* The list price of a session: 1 found, 0 no list in effect, -1 error. */
int billing_session_price (meso_db_t *db, const char *clinic, int32_t on, uint32_t areas,
                           int64_t *price);

/* ---- invoices.c: invoices, payments, refunds ---- */
void billing_issue_invoice (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);
void billing_record_payment (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);
void billing_record_refund (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);

typedef struct {
    const char *description;
    int64_t cents;
    const char *appointment_id;     /* may be NULL or "" */
    uint32_t areas;
} billing_line_t;

/* Issues an invoice of kind ("manual", "session", "fee", "package") for
 * package_id (may be NULL): the invoice, its n lines, one ledger charge,
 * the billing.invoice_issued event. Writes its id into invoice_id (>= 37
 * bytes). Returns 0 or -1 (db error set). */
int billing_invoice_issue (meso_db_t *db, const char *clinic, const char *patient,
                           const char *currency, const char *kind, const char *package_id,
                           const billing_line_t *lines, size_t n, const Meso__V1__Actor *actor,
                           char *invoice_id);

/* An invoice read back, with the storage its message points into. */
typedef struct {
    PGresult *head, *lines;
    Meso__V1__Invoice msg;
    Meso__V1__InvoiceLine *la;
    Meso__V1__InvoiceLine **lp;
} billing_invoice_t;

/* Reads an invoice into v: 1 found (billing_invoice_free v when done), 0
 * not, -1 error (v holds nothing either way). */
int billing_invoice_load (meso_db_t *db, const char *clinic, const char *invoice_id,
                          billing_invoice_t *v);
void billing_invoice_free (billing_invoice_t *v);

/* ---- packages.c: packages ---- */
void billing_sell_package (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);
void billing_get_package (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);
/* Fills p from row r of a store_package_* result (PKG_* columns); p points
 * into res. */
void billing_package_fill (const PGresult *res, int r, const char *clinic, Meso__V1__Package *p);

/* ---- statements.c: a patient's statement ---- */
void billing_get_statement (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);

/* ---- charges.c: the effect of consumed events ---- */
/* The effect of one event, inside the consumer's transaction
 * (meso_consumer_fn). */
int billing_on_event (meso_db_t *db, const Meso__V1__Event *event, void *arg);

/* ---- store.c: the SQL of the billing schema ----
 *
 * Results are text format; the caller PQclear()s them. NULL / -1 mean a
 * database error (meso_db_error says which). */

int64_t store_i64 (const PGresult *res, int r, int c);

/* Takes a transaction-level advisory lock on (what, clinic, id). */
int store_lock (meso_db_t *db, const char *what, const char *clinic, const char *id);

/* Patients. 1 known, 0 not, -1 error. */
int store_patient_known (meso_db_t *db, const char *patient);
/* Records that billing has seen patient (source: "screening.completed"...). */
int store_patient_see (meso_db_t *db, const char *patient, const char *source);

/* Clinic settings (defaults when the clinic has no row): currency (>= 4
 * bytes), fees. Returns 0 or -1. */
int store_clinic_get (meso_db_t *db, const char *clinic, char *currency, pricing_fees_t *fees);
/* Creates the row when missing and locks it. */
int store_clinic_lock (meso_db_t *db, const char *clinic);
int store_clinic_set_currency (meso_db_t *db, const char *clinic, const char *currency);
int store_clinic_set_fees (meso_db_t *db, const char *clinic, const pricing_fees_t *fees);
/* 1 when the clinic has any invoice, 0 not, -1 error. */
int store_clinic_has_invoices (meso_db_t *db, const char *clinic);

/* Price rows of clinic: effective_from (text), effective_from (days),
 * areas, price_cents; by effective_from, areas. */
PGresult *store_prices (meso_db_t *db, const char *clinic);
/* Deletes the list of (clinic, from) (to replace it). */
int store_price_list_clear (meso_db_t *db, const char *clinic, const char *from);
int store_price_insert (meso_db_t *db, const char *clinic, const char *from, uint32_t areas,
                        int64_t cents);

/* Invoices. */
int store_invoice_insert (meso_db_t *db, const char *clinic, const char *invoice_id,
                          const char *patient, const char *currency, int64_t total,
                          const char *kind, const char *package_id);
int store_invoice_line_insert (meso_db_t *db, const char *clinic, const char *invoice_id,
                               int line_no, const char *description, int64_t cents,
                               const char *appointment_id, uint32_t areas);
enum { INV_PATIENT, INV_CURRENCY, INV_TOTAL, INV_KIND, INV_PACKAGE, INV_ISSUED_US, INV_NET_PAID,
       INV_NCOLS };
/* An invoice: the columns above (net paid = payments less refunds on it). */
PGresult *store_invoice_get (meso_db_t *db, const char *clinic, const char *invoice_id);
/* Lines: description, amount_cents, appointment_id, areas; by line_no. */
PGresult *store_invoice_lines (meso_db_t *db, const char *clinic, const char *invoice_id);

/* Ledger. amount signed (charge +, payment -, refund +); ids may be NULL. */
int store_ledger_append (meso_db_t *db, const char *clinic, const char *patient, const char *kind,
                         int64_t amount, const char *currency, const char *invoice_id,
                         const char *payment_id, const char *refund_id,
                         const char *appointment_id, const char *package_id,
                         const char *description);
/* Entries of a patient at a clinic: kind, amount_cents, invoice_id,
 * payment_id, refund_id, appointment_id, package_id, description, at_us. */
PGresult *store_ledger_entries (meso_db_t *db, const char *clinic, const char *patient);
/* Sum of the patient's entries (the amount due). */
int store_balance (meso_db_t *db, const char *clinic, const char *patient, int64_t *due);

/* Payments. */
int store_payment_insert (meso_db_t *db, const char *clinic, const char *payment_id,
                          const char *patient, const char *invoice_id, int64_t amount,
                          const char *currency, const char *method, const char *provider,
                          const char *provider_ref, const char *reference, const char *key);
enum { PAY_PATIENT, PAY_INVOICE, PAY_AMOUNT, PAY_CURRENCY, PAY_METHOD, PAY_PROVIDER,
       PAY_PROVIDER_REF, PAY_REFERENCE, PAY_RECEIVED_US, PAY_REFUNDED, PAY_NCOLS };
PGresult *store_payment_get (meso_db_t *db, const char *clinic, const char *payment_id);

/* Refunds. */
int store_refund_insert (meso_db_t *db, const char *clinic, const char *refund_id,
                         const char *payment_id, const char *patient, int64_t amount,
                         const char *currency, const char *reason);

/* Packages. */
int store_package_insert (meso_db_t *db, const char *clinic, const char *package_id,
                          const char *patient, uint32_t sessions, int64_t price,
                          const char *currency, const char *invoice_id);
enum { PKG_ID, PKG_PATIENT, PKG_TOTAL, PKG_USED, PKG_PRICE, PKG_CURRENCY, PKG_INVOICE,
       PKG_SOLD_US, PKG_NCOLS };
PGresult *store_package_get (meso_db_t *db, const char *clinic, const char *package_id);
/* The patient's packages at clinic, oldest first. */
PGresult *store_packages_of (meso_db_t *db, const char *clinic, const char *patient);
/* Locks the patient's oldest package with sessions left: 0 or 1 row. */
PGresult *store_package_next (meso_db_t *db, const char *clinic, const char *patient);
int store_package_use (meso_db_t *db, const char *clinic, const char *package_id);
/* Appointment ids charged to a package, in order. */
PGresult *store_package_appointments (meso_db_t *db, const char *clinic, const char *package_id);

/* Session charges. 1 when the appointment was dealt with, 0 not, -1. */
int store_charge_exists (meso_db_t *db, const char *clinic, const char *appointment);
int store_charge_insert (meso_db_t *db, const char *clinic, const char *appointment,
                         const char *patient, const char *kind, const char *how,
                         uint32_t areas, const char *session_date, const char *package_id,
                         const char *invoice_id, int64_t amount, const char *event_id);
/* Appointments of the patient charged 'unpriced'. */
PGresult *store_unpriced (meso_db_t *db, const char *clinic, const char *patient);

#endif
