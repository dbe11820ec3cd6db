/* billing.h -- the billing daemon's state and the interfaces between its
 * files. Each section below is owned by the file it names; nothing else
 * defines those functions.
 *
 * The files, one job each, in the order they may call one another (a file
 * calls only files below it, so no two files call each other in a circle):
 *
 *   main.c       configuration, sockets, the loop
 *   gauges.c     the per-clinic gauge of today (main.c's tick)
 *   handlers.c   the method table (which file owns which method) and Health
 *   reports.c    RevenueReport, LiabilityReport
 *   statements.c GetStatement: reads every aggregate of a patient
 *   charges.c    the consumer's effect: session charges, fees, patients
 *                seen, packages drawn and expired
 *   packages.c   SellPackage, GetPackage, RefundPackage, SetPackagePolicy,
 *                the expiry of packages
 *   refunds.c    RecordRefund (by payment or by invoice), CancelInvoice,
 *                credit notes
 *   invoices.c   invoices (issuing one, reading one back), IssueInvoice,
 *                RecordPayment
 *   prices.c     SetPriceList, GetPriceList, SetFeePolicy, the price of a
 *                session
 *   taxes.c      SetTaxRates, the tax rate of a line
 *   frame.c      what every method shares: validation helpers, the patient
 *                and currency checks, the run frame, event emission
 *   store.c, store_packages.c, store_reports.c
 *                the SQL of the billing schema, and only that
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

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "meso/bus.h"
#include "meso/clinics.h"
#include "meso/db.h"
#include "meso/enumtext.h"
#include "meso/idem.h"
#include "meso/page.h"
#include "meso/subscriber.h"
#include "events.pb-c.h"
#include "billing.pb-c.h"
#include "pricing.h"

#define BILLING_SCHEMA "billing"

/* The daemon's state; each worker has a copy with its own db and clinics
 * (main.c), and main points at the main thread's, whose counters Health
 * reads (atomics: the main thread writes them, workers read). */
typedef struct billing_s {
    meso_db_t *db;
    meso_bus_server_t *server;
    meso_clinics_t *clinics;        /* which clinics exist (scheduling.GetClinic, cached) */
    meso_consumer_t *consumer;      /* NULL when no events endpoint is set */
    struct billing_s *main;         /* the main thread's state */
    const pricing_provider_t *provider;
    atomic_uint_fast64_t events_applied;    /* events applied since start */
    atomic_uint_fast64_t sessions_charged;  /* sessions charged since start */
    atomic_uint_fast64_t packages_expired;  /* packages expired since start */
    atomic_uint_fast64_t cursors[2];        /* the consumer's session, screening cursors */
    /* The IANA zone of the clinic the running request names (set by
     * billing_run and the read methods before the work; "UTC" when
     * clinics are not checked). Points into the clinics cache. */
    const char *tz;
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

/* ---- gauges.c: the per-clinic gauge of today ---- */
/* Sets meso_clinic_revenue_today_cents{clinic} for every clinic with
 * billing settings (at most BILLING_GAUGE_CLINICS). The number of clinics
 * set, or -1 (logged). */
#define BILLING_GAUGE_CLINICS 500
int billing_gauges (billing_t *self);

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
 * (meso_clinics_check: scheduling.GetClinic on a cache miss), and sets
 * self->tz to its zone. 0, or -1 with reply set (NOT_FOUND,
 * UNAVAILABLE). */
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

/* ---- invoices.c: invoices and payments ---- */
void billing_issue_invoice (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);
void billing_record_payment (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);

typedef struct {
    const char *description;
    int64_t cents;                  /* gross: what the patient pays */
    const char *appointment_id;     /* may be NULL or "" */
    uint32_t areas;
    const char *tax_category;       /* NULL or "": standard */
    uint32_t rate_ppm;              /* set by billing_tax_lines */
} billing_line_t;

/* ---- taxes.c: tax rates and the tax of lines ---- */
void billing_set_tax_rates (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);
/* Every tax rate set of a clinic as messages, and the one in effect on a
 * day (index into sp, -1 none); storage owned, billing_tax_sets_free. */
typedef struct {
    PGresult *res;
    Meso__V1__TaxRates *sa, **sp;
    Meso__V1__TaxRate *ra, **rp;
    size_t n;
    int in_effect;
} billing_tax_sets_t;
int billing_tax_sets_load (meso_db_t *db, const char *clinic, int32_t on, billing_tax_sets_t *v);
void billing_tax_sets_free (billing_tax_sets_t *v);
/* Sets lines[i].rate_ppm from clinic's rates in effect on day on. 0, -1
 * database error, 1 when line *bad names a category the set in effect
 * lacks. */
int billing_tax_lines (meso_db_t *db, const char *clinic, int32_t on, billing_line_t *lines,
                       size_t n, size_t *bad);

/* Issues an invoice of kind ("manual", "session", "fee", "package") for
 * package_id (may be NULL): the invoice, its n lines (tax included at
 * each line's rate_ppm, rounded per line), one ledger charge, the
 * billing.invoice_issued event. Writes its id into invoice_id (>= 37
 * bytes) and, when tax is non-NULL, its total tax. Returns 0 or -1 (db
 * error set). */
int billing_invoice_issue (meso_db_t *db, const char *clinic, const char *patient,
                           const char *currency, const char *kind, const char *package_id,
                           const billing_line_t *lines, size_t n, const Meso__V1__Actor *actor,
                           char *invoice_id, int64_t *tax);

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
/* Fills p from a store_payment_get result (strings point into res). */
void billing_payment_fill (const PGresult *res, const char *clinic, const char *payment_id,
                           Meso__V1__Payment *p);

/* ---- export.c: billing.ExportPatient ---- */
void billing_export_patient (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);

/* ---- refunds.c: refunds and credit notes ---- */
void billing_record_refund (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);
void billing_cancel_invoice (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);

/* Refunds made by billing_refund_spread, for a reply. */
typedef struct {
    size_t n;
    char ids[BILLING_MAX_LINES][40];
    char payment_ids[BILLING_MAX_LINES][BILLING_ID_MAX + 1];
    int64_t cents[BILLING_MAX_LINES];
} billing_refunds_t;

/* Gives back amount of what was paid on invoice_id (its lock held by the
 * caller), spread over its payments newest first: a refund row, a ledger
 * entry and a billing.refund_issued event per payment touched. 0, -1
 * database error, 1 when amount exceeds what may be refunded (nothing
 * done). */
int billing_refund_spread (meso_db_t *db, const char *clinic, const char *invoice_id,
                           int64_t amount, const char *reason, const Meso__V1__Actor *actor,
                           billing_refunds_t *out);
/* Issues a credit note of kind ("cancellation", "package_refund") on an
 * invoice: the row, a ledger credit (negative, with its tax) and the
 * billing.credit_note_issued event. Writes its id into id (>= 37 bytes).
 * 0 or -1. */
int billing_credit_issue (meso_db_t *db, const char *clinic, const char *invoice_id,
                          const char *patient, const char *currency, int64_t gross, int64_t tax,
                          const char *kind, const char *reason, const char *package_id,
                          const Meso__V1__Actor *actor, char *id);
/* Reads a credit note into c (strings point into the returned result,
 * which the caller PQclear()s); NULL on error. */
PGresult *billing_credit_load (meso_db_t *db, const char *clinic, const char *id,
                               Meso__V1__CreditNote *c);
/* Fills r (strings point into ids) from refund i of refunds made at
 * clinic. */
void billing_refund_fill (const billing_refunds_t *rs, size_t i, const char *clinic,
                          const char *patient, const char *currency, const char *reason,
                          Meso__V1__Refund *r);

/* ---- packages.c: packages ---- */
void billing_sell_package (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);
void billing_get_package (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);
void billing_refund_package (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);
void billing_set_package_policy (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);
/* Fills p from row r of a store_package_* result (PKG_* columns); p points
 * into res. */
void billing_package_fill (const PGresult *res, int r, const char *clinic, Meso__V1__Package *p);
/* Expires the package of row r of a store_package_* result (locked by the
 * caller): state, revenue of what was left, billing.package_expired. 0 or
 * -1. */
int billing_package_expire (meso_db_t *db, const PGresult *res, int r, const char *clinic);
/* Expires every active package whose last day has passed in its clinic's
 * zone (the daemon's timer); *count receives how many. 0 or -1. */
int billing_packages_expire_due (meso_db_t *db, int *count);

/* ---- reports.c: the reports ---- */
void billing_revenue_report (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);
void billing_liability_report (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);

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
                          const char *kind, const char *package_id, int64_t tax);
int store_invoice_line_insert (meso_db_t *db, const char *clinic, const char *invoice_id,
                               int line_no, const char *description, int64_t cents,
                               const char *appointment_id, uint32_t areas, int64_t tax,
                               const char *category, uint32_t rate_ppm);
enum { INV_PATIENT, INV_CURRENCY, INV_TOTAL, INV_KIND, INV_PACKAGE, INV_ISSUED_US, INV_NET_PAID,
       INV_TAX, INV_CREDITED, INV_NCOLS };
/* An invoice: the columns above (net paid = payments less refunds on it;
 * credited = its credit notes). */
PGresult *store_invoice_get (meso_db_t *db, const char *clinic, const char *invoice_id);
/* Lines: description, amount_cents, appointment_id, areas, tax_cents,
 * tax_category, tax_rate_ppm; by line_no. */
PGresult *store_invoice_lines (meso_db_t *db, const char *clinic, const char *invoice_id);

/* Ledger. amount signed (charge +, payment -, refund +, credit -), tax
 * signed likewise; ids may be NULL. */
int store_ledger_append (meso_db_t *db, const char *clinic, const char *patient, const char *kind,
                         int64_t amount, const char *currency, const char *invoice_id,
                         const char *payment_id, const char *refund_id,
                         const char *appointment_id, const char *package_id,
                         const char *description, int64_t tax, const char *credit_note_id);
/* A page of the entries of a patient at a clinic, in entry_id order,
 * after entry_id `after` (NULL: from the first), at most limit: kind,
 * amount_cents, invoice_id, payment_id, refund_id, appointment_id,
 * package_id, description, at_us, tax_cents, credit_note_id, entry_id. */
PGresult *store_ledger_entries (meso_db_t *db, const char *clinic, const char *patient,
                                const char *after, uint32_t limit);
/* kind, sum of amount_cents, sum of tax_cents of every entry of a
 * patient at a clinic, one row per kind. */
PGresult *store_ledger_sums (meso_db_t *db, const char *clinic, const char *patient);
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

/* ---- store_packages.c: packages, tax rates, credit notes ---- */
/* expires_on NULL or "": never. */
int store_package_insert (meso_db_t *db, const char *clinic, const char *package_id,
                          const char *patient, uint32_t sessions, int64_t price,
                          const char *currency, const char *invoice_id, int64_t tax,
                          const char *expires_on, const char *tz);
enum { PKG_ID, PKG_PATIENT, PKG_TOTAL, PKG_USED, PKG_PRICE, PKG_CURRENCY, PKG_INVOICE,
       PKG_SOLD_US, PKG_EXPIRES, PKG_STATE, PKG_TAX, PKG_CLINIC, PKG_NCOLS };
PGresult *store_package_get (meso_db_t *db, const char *clinic, const char *package_id);
/* The same, locked FOR UPDATE. */
PGresult *store_package_lock (meso_db_t *db, const char *clinic, const char *package_id);
/* The patient's packages at clinic, oldest first. */
PGresult *store_packages_of (meso_db_t *db, const char *clinic, const char *patient);
/* Locks the active packages with sessions left that a session of the
 * patient at clinic on date may draw from: sold there or by a clinic it
 * accepts; its own first, then oldest first. Expired ones (expires_on
 * before date) come too, so the caller can expire them. */
PGresult *store_package_candidates (meso_db_t *db, const char *clinic, const char *patient,
                                    const char *date);
/* One more session used; the use recorded at clinic (the performing one). */
int store_package_use (meso_db_t *db, const char *pkg_clinic, const char *package_id,
                       uint32_t use_no, const char *clinic, const char *appointment,
                       const char *patient, int64_t gross, int64_t tax);
/* Closes an active package as state ("expired", "refunded"). */
int store_package_close (meso_db_t *db, const char *clinic, const char *package_id,
                         const char *state);
/* Active packages whose expires_on has passed in their zone: clinic_id,
 * package_id; at most limit. */
PGresult *store_packages_due (meso_db_t *db, int limit);
/* Appointment ids charged to a package, in order. */
/* A page of the appointments charged to a package, after the position
 * (charged_at in microseconds, appointment_id; NULL: from the first), at
 * most limit: appointment_id, charged_at in microseconds. */
PGresult *store_package_appointments (meso_db_t *db, const char *clinic, const char *package_id,
                                      const char *after_us, const char *after_id, uint32_t limit);
/* The clinic's package settings: validity days; accepted sellers. */
int store_package_policy_get (meso_db_t *db, const char *clinic, uint32_t *validity_days);
PGresult *store_package_accepts (meso_db_t *db, const char *clinic);
int store_package_policy_set (meso_db_t *db, const char *clinic, uint32_t validity_days,
                              char *const *accepts, size_t n);

/* Tax rate rows of clinic: effective_from (text), effective_from (days),
 * category, rate_ppm; by effective_from, category. */
PGresult *store_tax_rates (meso_db_t *db, const char *clinic);
int store_tax_rates_clear (meso_db_t *db, const char *clinic, const char *from);
int store_tax_rate_insert (meso_db_t *db, const char *clinic, const char *from,
                           const char *category, uint32_t rate_ppm);

/* Credit notes. */
int store_credit_insert (meso_db_t *db, const char *clinic, const char *id, const char *invoice_id,
                         const char *patient, const char *currency, int64_t gross, int64_t tax,
                         const char *kind, const char *reason, const char *package_id);
/* invoice_id, patient_id, currency, gross, tax, kind, reason, package_id,
 * issued_at_us. */
PGresult *store_credit_get (meso_db_t *db, const char *clinic, const char *id);
/* The payments of an invoice, newest first: payment_id, amount_cents,
 * refunded_cents. */
PGresult *store_invoice_payments (meso_db_t *db, const char *clinic, const char *invoice_id);

/* ---- store_export.c: a patient's records (billing.ExportPatient) ---- */
/* The ids of the patient's records in every clinic, each kind oldest
 * first: kind ("invoice", "payment", "credit_note", "package"),
 * clinic_id, id. */
PGresult *store_export_ids (meso_db_t *db, const char *patient);
/* The patient's refunds, oldest first: clinic_id, refund_id, payment_id,
 * amount_cents, currency, reason, refunded_at_us. */
PGresult *store_export_refunds (meso_db_t *db, const char *patient);

/* ---- store_reports.c: the reports' SQL ---- */
/* Revenue of clinic from..to (local days in zone tz) by "day" or "month":
 * period, gross, tax, refunds. */
PGresult *store_revenue (meso_db_t *db, const char *clinic, const char *tz, const char *from,
                         const char *to, const char *by);
/* Liability of clinic: packages, sessions_left, liability, tax. */
PGresult *store_liability (meso_db_t *db, const char *clinic);
/* The clinics billing has settings for (at most limit): clinic_id. */
PGresult *store_gauge_clinics (meso_db_t *db, int limit);
/* What the patients of each of clinics[0..n) were charged in the
 * clinic's local today (zones[i]): clinic_id, cents (invoices issued,
 * gross). One statement. NULL on failure (meso_db_error). */
PGresult *store_revenue_today (meso_db_t *db, const char *const *clinics, const char *const *zones,
                               int n);

/* Session charges. 1 when the appointment was dealt with, 0 not, -1. */
int store_charge_exists (meso_db_t *db, const char *clinic, const char *appointment);
int store_charge_insert (meso_db_t *db, const char *clinic, const char *appointment,
                         const char *patient, const char *kind, const char *how,
                         uint32_t areas, const char *session_date, const char *pkg_clinic,
                         const char *package_id, const char *invoice_id, int64_t amount,
                         const char *event_id);
/* Appointments of the patient charged 'unpriced'. */
PGresult *store_unpriced (meso_db_t *db, const char *clinic, const char *patient);

/* ---- lookups.c: GetInvoice, ListInvoices, GetPayment ---- */
void billing_get_invoice (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);
void billing_list_invoices (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);
void billing_get_payment (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);

/* ---- store_lookups.c ---- */

/* A page of a clinic's invoices in zone tz, newest first, after the
 * keyset position (after_us, after_id) (NULL: from the newest). */
typedef struct {
    const char *clinic, *tz, *patient, *from, *to, *state;
    const char *after_us, *after_id;
    int limit;
} store_invoices_query_t;
/* Columns: invoice_id, patient_id, currency, total_cents, kind,
 * package_id, issued_at_us, paid (net of refunds), tax_cents, credited. */
PGresult *store_invoices_page (meso_db_t *db, const store_invoices_query_t *q);

#endif
