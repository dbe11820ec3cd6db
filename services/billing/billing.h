/* billing.h -- the billing daemon's state and the interfaces between its
 * files.
 *
 * main.c owns configuration, sockets and the loop; handlers.c the RPC
 * methods and the effect of consumed events; pricing.c the pure decisions;
 * store.c the SQL of the billing schema and nothing else.
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
#include "meso/db.h"
#include "meso/subscriber.h"
#include "events.pb-c.h"
#include "billing.pb-c.h"
#include "pricing.h"

#define BILLING_SCHEMA "billing"

typedef struct {
    meso_db_t *db;
    meso_bus_server_t *server;
    meso_consumer_t *consumer;      /* NULL when no events endpoint is set */
    const pricing_provider_t *provider;
    uint64_t events_applied;        /* events applied since start */
    uint64_t sessions_charged;      /* sessions charged since start */
    /* Tests only (MESO_BILLING_TEST_PAUSE_MS): sleep this long inside the
     * consumer's transaction, after the effect and before the commit, so a
     * test can SIGKILL the daemon there. 0: never. */
    int test_pause_ms;
} billing_t;

/* ---- handlers.c ---- */
extern const meso_method_t billing_methods[];
void billing_health (Meso__V1__HealthReply *health, void *arg);
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
