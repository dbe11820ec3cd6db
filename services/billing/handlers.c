/* handlers.c -- the billing daemon's methods ("billing.*") and the effect
 * of consumed events (session charges, fees, patients seen).
 *
 * Each method: decode, validate (every bad field named in a reason), run
 * one transaction, reply. Mutating methods run through s_run: the
 * idempotency claim, the effect and the stored reply share a transaction,
 * so a retried request replays its reply and an error changes nothing (the
 * whole transaction rolls back, claim included).
 *
 * Every money movement is written twice in the same transaction: in its own
 * table (invoice, payment, refund) and as a signed ledger entry (charge +,
 * payment -, refund +). A patient's amount due is the sum of their ledger
 * entries; nothing stores a balance that could drift.
 *
 * Who is a patient: screening owns patients and billing never reads its
 * tables. Billing knows a patient once an event it consumes names them
 * (screening.completed, screening.patient_changed, any session event) --
 * recorded in billing.patient -- and every billing record references that
 * table. A method naming a patient billing has never seen gets NOT_FOUND.
 *
 * Events are facts: the consumer's effect is lenient where a method is
 * strict. A session with no price in effect is recorded as 'unpriced' (to
 * invoice by hand, listed in the statement) rather than failing, which
 * would stop the stream for every later event. */
#include "billing.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "meso/handler.h"
#include "meso/idem.h"
#include "meso/log.h"
#include "meso/money.h"
#include "meso/mtime.h"
#include "meso/outbox.h"
#include "meso/uuid.h"

#define ID_MAX 64
#define TEXT_MAX 200
#define REASON_MAX 500
#define MAX_LINES 50

static Meso__V1__Actor s_service_actor = {
    PROTOBUF_C_MESSAGE_INIT (&meso__v1__actor__descriptor),
    MESO__V1__ACTOR__KIND__KIND_SERVICE, "billing"
};

/* ----------------------------------------------------------- validation */

static void
s_need_currency (meso_reply_t *reply, int *bad, const char *field, const char *v)
{
    if (v && *v && !meso_currency_valid (v)) {
        meso_reply_reason (reply, "invalid_currency", field,
                           "%s must be a three-letter code such as USD (got \"%.16s\")", field, v);
        (*bad)++;
    }
}

static void
s_need_amount (meso_reply_t *reply, int *bad, const char *field, int64_t v, int64_t max)
{
    if (v <= 0 || v > max) {
        meso_reply_reason (reply, "out_of_range", field,
                           "%s must be a positive amount of cents, at most %" PRId64 " (got %" PRId64 ")",
                           field, max, v);
        (*bad)++;
    }
}

static int32_t
s_today (void)
{
    return (int32_t) (meso_time_now_us () / INT64_C (86400000000));
}

/* Refuses a currency that is not the clinic's (or the invoice's). */
static int
s_currency_match (meso_reply_t *reply, const char *field, const char *given, const char *expected,
                  const char *whose)
{
    if (given && *given && strcmp (given, expected) != 0) {
        meso_reply_error (reply, MESO_INVALID_ARGUMENT, "currency mismatch: %s is in %s, not %.8s",
                          whose, expected, given);
        meso_reply_reason (reply, "currency_mismatch", field, "use %s (or leave %s empty)",
                           expected, field);
        return -1;
    }
    return 0;
}

/* NOT_FOUND unless billing knows the patient. */
static int
s_patient_known (meso_db_t *db, meso_reply_t *reply, const char *patient)
{
    int known = store_patient_known (db, patient);
    if (known < 0)
        return -1;
    if (known == 0) {
        meso_reply_error (reply, MESO_NOT_FOUND, "unknown patient %.64s", patient);
        meso_reply_detail (reply, "billing knows a patient once screening or a session event names "
                                  "them, or once they have a billing record");
        meso_reply_reason (reply, "unknown_patient", "patient_id", "screen the patient first");
        return -1;
    }
    return 0;
}

/* ----------------------------------------------------- mutating runner */

/* Every mutating method runs through meso_idem_run (idem.h). */
typedef meso_idem_job_t s_job_t;

static void
s_run (billing_t *self, const Meso__V1__Request *req, meso_reply_t *reply, void *in,
       meso_idem_effect_fn *effect)
{
    meso_idem_run (self->db, BILLING_SCHEMA, req, reply, in, effect, self);
}

/* -------------------------------------------------------------- events */

/* An actor that names nobody (no id) counts as billing's own. */
static int
s_emit (meso_db_t *db, Meso__V1__Event *ev, const char *type, const char *clinic,
        const Meso__V1__Actor *actor)
{
    return meso_handler_emit (db, ev, type, clinic, actor && actor->id && *actor->id ? actor : NULL,
                              &s_service_actor);
}

/* ------------------------------------------------------------ invoices */

typedef struct {
    const char *description;
    int64_t cents;
    const char *appointment_id;
    uint32_t areas;
} s_line_t;

/* Issues an invoice: the invoice, its lines, one ledger charge, the
 * billing.invoice_issued event. Writes the id (>= 37 bytes). */
static int
s_invoice_create (meso_db_t *db, const char *clinic, const char *patient, const char *currency,
                  const char *kind, const char *package_id, const s_line_t *lines, size_t n,
                  const Meso__V1__Actor *actor, char *invoice_id)
{
    int64_t total = 0;
    for (size_t i = 0; i < n; i++)
        if (!meso_money_add (total, lines[i].cents, &total)) {
            meso_db_set_error (db, "22003", "invoice total overflows");
            return -1;
        }
    if (meso_uuid_v4 (invoice_id) != 0) {
        meso_db_set_error (db, NULL, "no randomness for an invoice id");
        return -1;
    }
    if (store_invoice_insert (db, clinic, invoice_id, patient, currency, total, kind, package_id) != 0)
        return -1;
    const char *appts[MAX_LINES];
    size_t nappts = 0;
    for (size_t i = 0; i < n; i++) {
        if (store_invoice_line_insert (db, clinic, invoice_id, (int) i + 1, lines[i].description,
                                       lines[i].cents, lines[i].appointment_id, lines[i].areas) != 0)
            return -1;
        if (lines[i].appointment_id && *lines[i].appointment_id && nappts < MAX_LINES)
            appts[nappts++] = lines[i].appointment_id;
    }
    char desc[TEXT_MAX + 1];
    snprintf (desc, sizeof desc, "%s", n == 1 ? lines[0].description : "invoice");
    if (store_ledger_append (db, clinic, patient, "charge", total, currency, invoice_id, NULL, NULL,
                             nappts == 1 ? appts[0] : NULL, package_id, desc) != 0)
        return -1;
    Meso__V1__InvoiceIssued ii = MESO__V1__INVOICE_ISSUED__INIT;
    ii.invoice_id = invoice_id;
    ii.patient_id = (char *) patient;
    ii.amount_cents = total;
    ii.currency = (char *) currency;
    ii.appointment_ids = (char **) appts;
    ii.n_appointment_ids = nappts;
    ii.package_id = (char *) (package_id ? package_id : "");
    Meso__V1__Event ev = MESO__V1__EVENT__INIT;
    ev.payload_case = MESO__V1__EVENT__PAYLOAD_INVOICE_ISSUED;
    ev.invoice_issued = &ii;
    return s_emit (db, &ev, "billing.invoice_issued", clinic, actor);
}

/* An invoice read back, with the storage its message points into. */
typedef struct {
    PGresult *head, *lines;
    Meso__V1__Invoice msg;
    Meso__V1__InvoiceLine *la;
    Meso__V1__InvoiceLine **lp;
} s_invoice_t;

static void
s_invoice_free (s_invoice_t *v)
{
    PQclear (v->head);
    PQclear (v->lines);
    free (v->la);
    free (v->lp);
    memset (v, 0, sizeof *v);
}

/* 1 found, 0 not, -1 error. */
static int
s_invoice_load (meso_db_t *db, const char *clinic, const char *invoice_id, s_invoice_t *v)
{
    memset (v, 0, sizeof *v);
    v->head = store_invoice_get (db, clinic, invoice_id);
    if (!v->head)
        return -1;
    if (PQntuples (v->head) == 0) {
        s_invoice_free (v);
        return 0;
    }
    v->lines = store_invoice_lines (db, clinic, invoice_id);
    if (!v->lines) {
        s_invoice_free (v);
        return -1;
    }
    int n = PQntuples (v->lines);
    v->la = calloc ((size_t) n + 1, sizeof *v->la);
    v->lp = calloc ((size_t) n + 1, sizeof *v->lp);
    if (!v->la || !v->lp) {
        s_invoice_free (v);
        meso_db_set_error (db, NULL, "out of memory");
        return -1;
    }
    for (int i = 0; i < n; i++) {
        meso__v1__invoice_line__init (&v->la[i]);
        v->la[i].description = PQgetvalue (v->lines, i, 0);
        v->la[i].amount_cents = store_i64 (v->lines, i, 1);
        v->la[i].appointment_id = PQgetvalue (v->lines, i, 2);
        v->la[i].areas = (uint32_t) store_i64 (v->lines, i, 3);
        v->lp[i] = &v->la[i];
    }
    Meso__V1__Invoice *m = &v->msg;
    meso__v1__invoice__init (m);
    m->clinic_id = (char *) clinic;
    m->invoice_id = (char *) invoice_id;
    m->patient_id = PQgetvalue (v->head, 0, INV_PATIENT);
    m->currency = PQgetvalue (v->head, 0, INV_CURRENCY);
    m->total_cents = store_i64 (v->head, 0, INV_TOTAL);
    m->kind = PQgetvalue (v->head, 0, INV_KIND);
    m->package_id = PQgetvalue (v->head, 0, INV_PACKAGE);
    m->issued_at_us = store_i64 (v->head, 0, INV_ISSUED_US);
    m->paid_cents = store_i64 (v->head, 0, INV_NET_PAID);
    m->due_cents = m->total_cents - m->paid_cents;
    m->n_lines = (size_t) n;
    m->lines = v->lp;
    return 1;
}

/* ------------------------------------------------------------ packages */

static void
s_package_fill (const PGresult *res, int r, const char *clinic, Meso__V1__Package *p)
{
    meso__v1__package__init (p);
    p->clinic_id = (char *) clinic;
    p->package_id = PQgetvalue (res, r, PKG_ID);
    p->patient_id = PQgetvalue (res, r, PKG_PATIENT);
    p->sessions_total = (uint32_t) store_i64 (res, r, PKG_TOTAL);
    p->sessions_used = (uint32_t) store_i64 (res, r, PKG_USED);
    p->sessions_left = p->sessions_total - p->sessions_used;
    p->price_cents = store_i64 (res, r, PKG_PRICE);
    p->per_session_cents = p->sessions_total ? p->price_cents / p->sessions_total : 0;
    p->currency = PQgetvalue (res, r, PKG_CURRENCY);
    p->invoice_id = PQgetvalue (res, r, PKG_INVOICE);
    p->sold_at_us = store_i64 (res, r, PKG_SOLD_US);
}

/* ---------------------------------------------------------- price lists */

/* Loads a clinic's price rows for pricing_pick. *rows malloc'd. */
static int
s_price_rows (meso_db_t *db, const char *clinic, pricing_entry_t **rows, size_t *n)
{
    PGresult *res = store_prices (db, clinic);
    if (!res)
        return -1;
    int nr = PQntuples (res);
    *rows = calloc ((size_t) nr + 1, sizeof **rows);
    if (!*rows) {
        PQclear (res);
        meso_db_set_error (db, NULL, "out of memory");
        return -1;
    }
    for (int i = 0; i < nr; i++) {
        (*rows)[i].effective_from = (int32_t) store_i64 (res, i, 1);
        (*rows)[i].areas = (uint32_t) store_i64 (res, i, 2);
        (*rows)[i].price_cents = store_i64 (res, i, 3);
    }
    *n = (size_t) nr;
    PQclear (res);
    return 0;
}

/* The price of a session: 1 found, 0 no list in effect, -1 error. */
static int
s_session_price (meso_db_t *db, const char *clinic, int32_t on, uint32_t areas, int64_t *price)
{
    pricing_entry_t *rows = NULL;
    size_t n = 0;
    if (s_price_rows (db, clinic, &rows, &n) != 0)
        return -1;
    int rc = pricing_pick (rows, n, on, areas, price, NULL);
    free (rows);
    return rc == 0 ? 1 : 0;
}

typedef struct {
    const Meso__V1__PriceList *list;
} s_price_in_t;

static int
s_set_price_list_effect (meso_db_t *db, s_job_t *job)
{
    const Meso__V1__PriceList *pl = ((s_price_in_t *) job->in)->list;
    if (store_clinic_lock (db, pl->clinic_id) != 0)
        return -1;
    char currency[4];
    if (store_clinic_get (db, pl->clinic_id, currency, NULL) != 0)
        return -1;
    if (pl->currency && *pl->currency && strcmp (pl->currency, currency) != 0) {
        int has = store_clinic_has_invoices (db, pl->clinic_id);
        if (has < 0)
            return -1;
        if (has) {
            meso_reply_error (job->reply, MESO_FAILED_PRECONDITION,
                              "currency mismatch: clinic %.64s invoices in %s, cannot switch to %.8s",
                              pl->clinic_id, currency, pl->currency);
            meso_reply_reason (job->reply, "currency_mismatch", "price_list.currency",
                               "use %s (or leave currency empty)", currency);
            return -1;
        }
        if (store_clinic_set_currency (db, pl->clinic_id, pl->currency) != 0)
            return -1;
        snprintf (currency, sizeof currency, "%s", pl->currency);
    }
    if (store_price_list_clear (db, pl->clinic_id, pl->effective_from) != 0)
        return -1;
    for (size_t i = 0; i < pl->n_prices; i++)
        if (store_price_insert (db, pl->clinic_id, pl->effective_from, pl->prices[i]->areas,
                                pl->prices[i]->price_cents) != 0)
            return -1;
    Meso__V1__PriceList out = *pl;
    out.currency = currency;
    Meso__V1__SetPriceListReply r = MESO__V1__SET_PRICE_LIST_REPLY__INIT;
    r.price_list = &out;
    meso_reply_ok (job->reply, &r.base);
    return 0;
}

static void
s_set_price_list (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__SetPriceListRequest *in = body;
    int bad = 0;
    const Meso__V1__PriceList *pl = in->price_list;
    if (!pl) {
        meso_reply_reason (reply, "missing_field", "price_list", "price_list is required");
        bad++;
    }
    else {
        meso_handler_need_id (reply, &bad, "price_list.clinic_id", pl->clinic_id);
        s_need_currency (reply, &bad, "price_list.currency", pl->currency);
        int32_t d;
        if (!pl->effective_from || meso_date_parse (pl->effective_from, &d) != 0) {
            meso_reply_reason (reply, "invalid_date", "price_list.effective_from",
                               "price_list.effective_from must be a date YYYY-MM-DD");
            bad++;
        }
        if (pl->n_prices == 0 || pl->n_prices > PRICING_MAX_AREAS) {
            meso_reply_reason (reply, "out_of_range", "price_list.prices",
                               "give 1 to %d prices (one per number of areas)", PRICING_MAX_AREAS);
            bad++;
        }
        bool seen[PRICING_MAX_AREAS + 1] = { false };
        for (size_t i = 0; i < pl->n_prices && i < PRICING_MAX_AREAS; i++) {
            const Meso__V1__PriceEntry *e = pl->prices[i];
            char field[64];
            snprintf (field, sizeof field, "price_list.prices[%zu].areas", i);
            if (e->areas < 1 || e->areas > PRICING_MAX_AREAS) {
                meso_reply_reason (reply, "out_of_range", field, "%s must be 1..%d (got %u)",
                                   field, PRICING_MAX_AREAS, e->areas);
                bad++;
            }
            else if (seen[e->areas]) {
                meso_reply_reason (reply, "duplicate", field, "%u areas is priced twice", e->areas);
                bad++;
            }
            else
                seen[e->areas] = true;
            snprintf (field, sizeof field, "price_list.prices[%zu].price_cents", i);
            if (!pricing_price_ok (e->price_cents)) {
                meso_reply_reason (reply, "price_out_of_range", field,
                                   "a session costs %d to %d cents ($300 to $500); got %" PRId64,
                                   PRICING_MIN_CENTS, PRICING_MAX_CENTS, e->price_cents);
                bad++;
            }
        }
    }
    if (!meso_handler_invalid (reply, bad, req->method)) {
        s_price_in_t job_in = { pl };
        s_run (arg, req, reply, &job_in, s_set_price_list_effect);
    }
}

static void
s_get_price_list (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    billing_t *self = arg;
    Meso__V1__GetPriceListRequest *in = body;
    int bad = 0;
    meso_handler_need_id (reply, &bad, "clinic_id", in->clinic_id);
    int32_t on = s_today ();
    if (in->on_date && *in->on_date && meso_date_parse (in->on_date, &on) != 0) {
        meso_reply_reason (reply, "invalid_date", "on_date", "on_date must be a date YYYY-MM-DD");
        bad++;
    }
    if (meso_handler_invalid (reply, bad, req->method)) {
        return;
    }
    char currency[4];
    pricing_fees_t fees;
    PGresult *res = NULL;
    if (store_clinic_get (self->db, in->clinic_id, currency, &fees) != 0
        || !(res = store_prices (self->db, in->clinic_id))) {
        meso_reply_db_error (reply, self->db, req->method);
        return;
    }
    int n = PQntuples (res);
    Meso__V1__PriceEntry *ea = calloc ((size_t) n + 1, sizeof *ea);
    Meso__V1__PriceEntry **ep = calloc ((size_t) n + 1, sizeof *ep);
    Meso__V1__PriceList *la = calloc ((size_t) n + 1, sizeof *la);
    Meso__V1__PriceList **lp = calloc ((size_t) n + 1, sizeof *lp);
    if (!ea || !ep || !la || !lp) {
        meso_reply_error (reply, MESO_INTERNAL, "out of memory");
        goto done;
    }
    /* Rows come by effective_from then areas: one list per run of dates. */
    size_t nl = 0;
    int in_effect = -1;
    for (int i = 0; i < n; i++) {
        meso__v1__price_entry__init (&ea[i]);
        ea[i].areas = (uint32_t) store_i64 (res, i, 2);
        ea[i].price_cents = store_i64 (res, i, 3);
        ep[i] = &ea[i];
        if (i == 0 || strcmp (PQgetvalue (res, i, 0), PQgetvalue (res, i - 1, 0)) != 0) {
            Meso__V1__PriceList *l = &la[nl];
            meso__v1__price_list__init (l);
            l->clinic_id = in->clinic_id;
            l->effective_from = PQgetvalue (res, i, 0);
            l->currency = currency;
            l->prices = &ep[i];
            lp[nl] = l;
            if (store_i64 (res, i, 1) <= on)
                in_effect = (int) nl;
            nl++;
        }
        la[nl - 1].n_prices++;
    }
    Meso__V1__FeePolicy fp = MESO__V1__FEE_POLICY__INIT;
    fp.clinic_id = in->clinic_id;
    fp.no_show_fee_cents = fees.no_show_cents;
    fp.late_cancel_fee_cents = fees.late_cancel_cents;
    Meso__V1__GetPriceListReply out = MESO__V1__GET_PRICE_LIST_REPLY__INIT;
    out.in_effect = in_effect >= 0 ? &la[in_effect] : NULL;
    out.n_all = nl;
    out.all = lp;
    out.fee_policy = &fp;
    out.currency = currency;
    meso_reply_ok (reply, &out.base);
done:
    free (ea);
    free (ep);
    free (la);
    free (lp);
    PQclear (res);
}

/* ----------------------------------------------------------- fee policy */

static int
s_set_fee_policy_effect (meso_db_t *db, s_job_t *job)
{
    const Meso__V1__FeePolicy *p = job->in;
    pricing_fees_t fees = { p->no_show_fee_cents, p->late_cancel_fee_cents };
    if (store_clinic_lock (db, p->clinic_id) != 0 || store_clinic_set_fees (db, p->clinic_id, &fees) != 0)
        return -1;
    Meso__V1__SetFeePolicyReply r = MESO__V1__SET_FEE_POLICY_REPLY__INIT;
    r.policy = (Meso__V1__FeePolicy *) p;
    meso_reply_ok (job->reply, &r.base);
    return 0;
}

static void
s_set_fee_policy (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__SetFeePolicyRequest *in = body;
    int bad = 0;
    if (!in->policy) {
        meso_reply_reason (reply, "missing_field", "policy", "policy is required");
        bad++;
    }
    else {
        meso_handler_need_id (reply, &bad, "policy.clinic_id", in->policy->clinic_id);
        int64_t v[2] = { in->policy->no_show_fee_cents, in->policy->late_cancel_fee_cents };
        const char *f[2] = { "policy.no_show_fee_cents", "policy.late_cancel_fee_cents" };
        for (int i = 0; i < 2; i++)
            if (v[i] < 0 || v[i] > PRICING_MAX_FEE_CENTS) {
                meso_reply_reason (reply, "out_of_range", f[i],
                                   "%s must be 0 (no fee) to %d cents (got %" PRId64 ")", f[i],
                                   PRICING_MAX_FEE_CENTS, v[i]);
                bad++;
            }
    }
    if (!meso_handler_invalid (reply, bad, req->method))
        s_run (arg, req, reply, in->policy, s_set_fee_policy_effect);
}

/* ------------------------------------------------------------- packages */

static int
s_sell_package_effect (meso_db_t *db, s_job_t *job)
{
    const Meso__V1__SellPackageRequest *in = job->in;
    if (s_patient_known (db, job->reply, in->patient_id) != 0)
        return -1;
    char currency[4];
    if (store_clinic_get (db, in->clinic_id, currency, NULL) != 0)
        return -1;
    if (s_currency_match (job->reply, "currency", in->currency, currency, "the clinic") != 0)
        return -1;
    char package_id[MESO_UUID_LEN + 1], invoice_id[MESO_UUID_LEN + 1], desc[64];
    if (meso_uuid_v4 (package_id) != 0) {
        meso_db_set_error (db, NULL, "no randomness for a package id");
        return -1;
    }
    snprintf (desc, sizeof desc, "Package of %u sessions", in->sessions);
    s_line_t line = { desc, in->price_cents, NULL, 0 };
    if (s_invoice_create (db, in->clinic_id, in->patient_id, currency, "package", package_id, &line,
                          1, job->req->actor, invoice_id) != 0)
        return -1;
    if (store_package_insert (db, in->clinic_id, package_id, in->patient_id, in->sessions,
                              in->price_cents, currency, invoice_id) != 0)
        return -1;
    PGresult *pres = store_package_get (db, in->clinic_id, package_id);
    if (!pres)
        return -1;
    s_invoice_t inv;
    if (s_invoice_load (db, in->clinic_id, invoice_id, &inv) <= 0) {
        PQclear (pres);
        return -1;
    }
    Meso__V1__Package pkg;
    s_package_fill (pres, 0, in->clinic_id, &pkg);
    Meso__V1__SellPackageReply r = MESO__V1__SELL_PACKAGE_REPLY__INIT;
    r.package = &pkg;
    r.invoice = &inv.msg;
    meso_reply_ok (job->reply, &r.base);
    s_invoice_free (&inv);
    PQclear (pres);
    return 0;
}

static void
s_sell_package (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__SellPackageRequest *in = body;
    int bad = 0;
    meso_handler_need_id (reply, &bad, "clinic_id", in->clinic_id);
    meso_handler_need_id (reply, &bad, "patient_id", in->patient_id);
    s_need_currency (reply, &bad, "currency", in->currency);
    int rc = pricing_package_check (in->sessions, in->price_cents, NULL);
    if (rc == -1) {
        meso_reply_reason (reply, "out_of_range", "sessions", "sessions must be 1..%d (got %u)",
                           PRICING_MAX_PACKAGE_SESSIONS, in->sessions);
        bad++;
    }
    else if (rc == -2) {
        meso_reply_reason (reply, "price_out_of_range", "price_cents",
                           "the price per session must be %d to %d cents: for %u sessions the "
                           "package costs %" PRId64 " to %" PRId64 " cents (got %" PRId64 ")",
                           PRICING_MIN_CENTS, PRICING_MAX_CENTS, in->sessions,
                           (int64_t) in->sessions * PRICING_MIN_CENTS,
                           (int64_t) in->sessions * PRICING_MAX_CENTS, in->price_cents);
        bad++;
    }
    if (!meso_handler_invalid (reply, bad, req->method))
        s_run (arg, req, reply, in, s_sell_package_effect);
}

static void
s_get_package (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    billing_t *self = arg;
    Meso__V1__GetPackageRequest *in = body;
    int bad = 0;
    meso_handler_need_id (reply, &bad, "clinic_id", in->clinic_id);
    meso_handler_need_id (reply, &bad, "package_id", in->package_id);
    if (meso_handler_invalid (reply, bad, req->method)) {
        return;
    }
    PGresult *pres = store_package_get (self->db, in->clinic_id, in->package_id);
    PGresult *ares = pres ? store_package_appointments (self->db, in->clinic_id, in->package_id) : NULL;
    if (!pres || !ares)
        meso_reply_db_error (reply, self->db, req->method);
    else if (PQntuples (pres) == 0)
        meso_reply_error (reply, MESO_NOT_FOUND, "unknown package %.64s in clinic %.64s",
                          in->package_id, in->clinic_id);
    else {
        int n = PQntuples (ares);
        char **ids = calloc ((size_t) n + 1, sizeof *ids);
        if (!ids)
            meso_reply_error (reply, MESO_INTERNAL, "out of memory");
        else {
            for (int i = 0; i < n; i++)
                ids[i] = PQgetvalue (ares, i, 0);
            Meso__V1__Package pkg;
            s_package_fill (pres, 0, in->clinic_id, &pkg);
            Meso__V1__GetPackageReply out = MESO__V1__GET_PACKAGE_REPLY__INIT;
            out.package = &pkg;
            out.n_appointment_ids = (size_t) n;
            out.appointment_ids = ids;
            meso_reply_ok (reply, &out.base);
            free (ids);
        }
    }
    PQclear (pres);
    PQclear (ares);
}

/* ------------------------------------------------------------- invoices */

static int
s_issue_invoice_effect (meso_db_t *db, s_job_t *job)
{
    const Meso__V1__IssueInvoiceRequest *in = job->in;
    if (s_patient_known (db, job->reply, in->patient_id) != 0)
        return -1;
    char currency[4];
    if (store_clinic_get (db, in->clinic_id, currency, NULL) != 0)
        return -1;
    if (s_currency_match (job->reply, "currency", in->currency, currency, "the clinic") != 0)
        return -1;
    int32_t on = s_today ();
    if (in->service_date && *in->service_date)
        meso_date_parse (in->service_date, &on);
    s_line_t lines[MAX_LINES];
    char descs[MAX_LINES][48];
    for (size_t i = 0; i < in->n_lines; i++) {
        const Meso__V1__InvoiceLine *l = in->lines[i];
        lines[i].cents = l->amount_cents;
        lines[i].appointment_id = l->appointment_id;
        lines[i].areas = l->areas;
        lines[i].description = l->description;
        if (l->amount_cents == 0) {
            int rc = s_session_price (db, in->clinic_id, on, l->areas, &lines[i].cents);
            if (rc < 0)
                return -1;
            if (rc == 0) {
                char d[11];
                meso_date_format (on, d, sizeof d);
                meso_reply_error (job->reply, MESO_NOT_FOUND, "no price list of clinic %.64s in effect on %s",
                                  in->clinic_id, d);
                meso_reply_reason (job->reply, "no_price_list", "service_date",
                                   "set a price list (billing.SetPriceList) or give amount_cents");
                return -1;
            }
        }
        if (!l->description || !*l->description) {
            if (l->areas)
                snprintf (descs[i], sizeof descs[i], "Session, %u area%s", l->areas, l->areas > 1 ? "s" : "");
            else
                snprintf (descs[i], sizeof descs[i], "Charge");
            lines[i].description = descs[i];
        }
    }
    char invoice_id[MESO_UUID_LEN + 1];
    if (s_invoice_create (db, in->clinic_id, in->patient_id, currency, "manual", NULL, lines,
                          in->n_lines, job->req->actor, invoice_id) != 0)
        return -1;
    s_invoice_t inv;
    if (s_invoice_load (db, in->clinic_id, invoice_id, &inv) <= 0)
        return -1;
    Meso__V1__IssueInvoiceReply r = MESO__V1__ISSUE_INVOICE_REPLY__INIT;
    r.invoice = &inv.msg;
    meso_reply_ok (job->reply, &r.base);
    s_invoice_free (&inv);
    return 0;
}

static void
s_issue_invoice (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__IssueInvoiceRequest *in = body;
    int bad = 0;
    meso_handler_need_id (reply, &bad, "clinic_id", in->clinic_id);
    meso_handler_need_id (reply, &bad, "patient_id", in->patient_id);
    s_need_currency (reply, &bad, "currency", in->currency);
    int32_t d;
    if (in->service_date && *in->service_date && meso_date_parse (in->service_date, &d) != 0) {
        meso_reply_reason (reply, "invalid_date", "service_date", "service_date must be a date YYYY-MM-DD");
        bad++;
    }
    if (in->n_lines == 0 || in->n_lines > MAX_LINES) {
        meso_reply_reason (reply, "out_of_range", "lines", "give 1 to %d lines", MAX_LINES);
        bad++;
    }
    for (size_t i = 0; i < in->n_lines && i < MAX_LINES; i++) {
        const Meso__V1__InvoiceLine *l = in->lines[i];
        char field[48];
        snprintf (field, sizeof field, "lines[%zu].amount_cents", i);
        if (l->amount_cents < 0 || l->amount_cents > PRICING_MAX_PAYMENT_CENTS) {
            meso_reply_reason (reply, "out_of_range", field,
                               "%s must be a positive amount of cents (got %" PRId64 ")", field,
                               l->amount_cents);
            bad++;
        }
        else if (l->amount_cents == 0 && (l->areas < 1 || l->areas > PRICING_MAX_AREAS)) {
            meso_reply_reason (reply, "missing_field", field,
                               "%s is required unless areas (1..%d) asks for the list price", field,
                               PRICING_MAX_AREAS);
            bad++;
        }
        snprintf (field, sizeof field, "lines[%zu].areas", i);
        if (l->areas > PRICING_MAX_AREAS) {
            meso_reply_reason (reply, "out_of_range", field, "%s must be 0..%d", field, PRICING_MAX_AREAS);
            bad++;
        }
        snprintf (field, sizeof field, "lines[%zu].description", i);
        if (l->description && strlen (l->description) > TEXT_MAX) {
            meso_reply_reason (reply, "out_of_range", field, "%s must be at most %d bytes", field, TEXT_MAX);
            bad++;
        }
        snprintf (field, sizeof field, "lines[%zu].appointment_id", i);
        if (l->appointment_id && strlen (l->appointment_id) > ID_MAX) {
            meso_reply_reason (reply, "out_of_range", field, "%s must be at most %d bytes", field, ID_MAX);
            bad++;
        }
    }
    if (!meso_handler_invalid (reply, bad, req->method))
        s_run (arg, req, reply, in, s_issue_invoice_effect);
}

/* ------------------------------------------------------------- payments */

static void
s_payment_fill (const PGresult *res, const char *clinic, const char *payment_id, Meso__V1__Payment *p)
{
    meso__v1__payment__init (p);
    p->clinic_id = (char *) clinic;
    p->payment_id = (char *) payment_id;
    p->patient_id = PQgetvalue (res, 0, PAY_PATIENT);
    p->invoice_id = PQgetvalue (res, 0, PAY_INVOICE);
    p->amount_cents = store_i64 (res, 0, PAY_AMOUNT);
    p->currency = PQgetvalue (res, 0, PAY_CURRENCY);
    p->method = PQgetvalue (res, 0, PAY_METHOD);
    p->provider = PQgetvalue (res, 0, PAY_PROVIDER);
    p->provider_ref = PQgetvalue (res, 0, PAY_PROVIDER_REF);
    p->reference = PQgetvalue (res, 0, PAY_REFERENCE);
    p->received_at_us = store_i64 (res, 0, PAY_RECEIVED_US);
    p->refunded_cents = store_i64 (res, 0, PAY_REFUNDED);
}

static int
s_record_payment_effect (meso_db_t *db, s_job_t *job)
{
    const Meso__V1__RecordPaymentRequest *in = job->in;
    meso_reply_t *reply = job->reply;
    char currency[4];
    if (store_clinic_get (db, in->clinic_id, currency, NULL) != 0)
        return -1;
    const char *patient = in->patient_id;
    int64_t invoice_due = 0;
    PGresult *inv = NULL;
    if (in->invoice_id && *in->invoice_id) {
        /* Payments to one invoice one at a time: what is due is read after
         * the lock, so two payments cannot both pay the last dollar. */
        if (store_lock (db, "invoice", in->clinic_id, in->invoice_id) != 0
            || !(inv = store_invoice_get (db, in->clinic_id, in->invoice_id)))
            return -1;
        if (PQntuples (inv) == 0) {
            PQclear (inv);
            meso_reply_error (reply, MESO_NOT_FOUND, "unknown invoice %.64s in clinic %.64s",
                              in->invoice_id, in->clinic_id);
            meso_reply_reason (reply, "unknown_invoice", "invoice_id", "check the invoice id and clinic");
            return -1;
        }
        patient = PQgetvalue (inv, 0, INV_PATIENT);
        snprintf (currency, sizeof currency, "%s", PQgetvalue (inv, 0, INV_CURRENCY));
        if (in->patient_id && *in->patient_id && strcmp (in->patient_id, patient) != 0) {
            meso_reply_error (reply, MESO_INVALID_ARGUMENT, "invoice %.64s is not patient %.64s's",
                              in->invoice_id, in->patient_id);
            meso_reply_reason (reply, "patient_mismatch", "patient_id", "leave patient_id empty or give the invoice's patient");
            PQclear (inv);
            return -1;
        }
        if (s_currency_match (reply, "currency", in->currency, currency, "the invoice") != 0) {
            PQclear (inv);
            return -1;
        }
        invoice_due = pricing_invoice_after_payment (store_i64 (inv, 0, INV_TOTAL),
                                                     store_i64 (inv, 0, INV_NET_PAID), in->amount_cents);
        if (invoice_due < 0) {
            meso_reply_error (reply, MESO_FAILED_PRECONDITION,
                              "payment of %" PRId64 " cents exceeds the %" PRId64 " cents due on invoice %.64s",
                              in->amount_cents,
                              store_i64 (inv, 0, INV_TOTAL) - store_i64 (inv, 0, INV_NET_PAID), in->invoice_id);
            meso_reply_reason (reply, "overpayment", "amount_cents",
                               "pay at most what is due, or record the rest as a deposit without invoice_id");
            PQclear (inv);
            return -1;
        }
    }
    else {
        if (s_patient_known (db, reply, patient) != 0)
            return -1;
        if (s_currency_match (reply, "currency", in->currency, currency, "the clinic") != 0)
            return -1;
    }
    billing_t *self = job->arg;
    char ref[256], err[256] = "";
    if (self->provider->record (self->provider->ctx, in->method, in->amount_cents, currency,
                                job->req->idempotency_key, ref, sizeof ref, err, sizeof err) != 0) {
        meso_reply_error (reply, MESO_FAILED_PRECONDITION, "payment refused by %s: %s",
                          self->provider->name, err);
        PQclear (inv);
        return -1;
    }
    char payment_id[MESO_UUID_LEN + 1];
    int rc = -1;
    PGresult *pay = NULL;
    if (meso_uuid_v4 (payment_id) != 0)
        meso_db_set_error (db, NULL, "no randomness for a payment id");
    else if (store_payment_insert (db, in->clinic_id, payment_id, patient, in->invoice_id,
                                   in->amount_cents, currency, in->method, self->provider->name,
                                   ref, in->reference, job->req->idempotency_key) == 0
             && store_ledger_append (db, in->clinic_id, patient, "payment", -in->amount_cents,
                                     currency, in->invoice_id, payment_id, NULL, NULL, NULL,
                                     in->method) == 0) {
        Meso__V1__PaymentReceived pr = MESO__V1__PAYMENT_RECEIVED__INIT;
        pr.payment_id = payment_id;
        pr.patient_id = (char *) patient;
        pr.invoice_id = in->invoice_id;
        pr.amount_cents = in->amount_cents;
        pr.currency = currency;
        pr.method = in->method;
        Meso__V1__Event ev = MESO__V1__EVENT__INIT;
        ev.payload_case = MESO__V1__EVENT__PAYLOAD_PAYMENT_RECEIVED;
        ev.payment_received = &pr;
        int64_t balance = 0;
        if (s_emit (db, &ev, "billing.payment_received", in->clinic_id, job->req->actor) == 0
            && store_balance (db, in->clinic_id, patient, &balance) == 0
            && (pay = store_payment_get (db, in->clinic_id, payment_id)) != NULL) {
            Meso__V1__Payment p;
            s_payment_fill (pay, in->clinic_id, payment_id, &p);
            Meso__V1__RecordPaymentReply r = MESO__V1__RECORD_PAYMENT_REPLY__INIT;
            r.payment = &p;
            r.invoice_due_cents = invoice_due;
            r.balance_due_cents = balance;
            meso_reply_ok (reply, &r.base);
            rc = 0;
        }
    }
    PQclear (pay);
    PQclear (inv);
    return rc;
}

static void
s_record_payment (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__RecordPaymentRequest *in = body;
    int bad = 0;
    meso_handler_need_id (reply, &bad, "clinic_id", in->clinic_id);
    bool has_invoice = in->invoice_id && *in->invoice_id;
    if (has_invoice)
        meso_handler_need_id (reply, &bad, "invoice_id", in->invoice_id);
    if (!has_invoice || (in->patient_id && *in->patient_id))
        meso_handler_need_id (reply, &bad, "patient_id", in->patient_id);
    s_need_amount (reply, &bad, "amount_cents", in->amount_cents, PRICING_MAX_PAYMENT_CENTS);
    s_need_currency (reply, &bad, "currency", in->currency);
    if (!pricing_method_ok (in->method)) {
        meso_reply_reason (reply, "invalid_method", "method",
                           "method must be card, cash or bank_transfer (got \"%.32s\")",
                           in->method ? in->method : "");
        bad++;
    }
    if (in->reference && strlen (in->reference) > TEXT_MAX) {
        meso_reply_reason (reply, "out_of_range", "reference", "reference must be at most %d bytes", TEXT_MAX);
        bad++;
    }
    if (!meso_handler_invalid (reply, bad, req->method))
        s_run (arg, req, reply, in, s_record_payment_effect);
}

/* -------------------------------------------------------------- refunds */

static int
s_record_refund_effect (meso_db_t *db, s_job_t *job)
{
    const Meso__V1__RecordRefundRequest *in = job->in;
    meso_reply_t *reply = job->reply;
    PGresult *pay = store_payment_get (db, in->clinic_id, in->payment_id);
    if (!pay)
        return -1;
    if (PQntuples (pay) == 0) {
        PQclear (pay);
        meso_reply_error (reply, MESO_NOT_FOUND, "unknown payment %.64s in clinic %.64s",
                          in->payment_id, in->clinic_id);
        meso_reply_reason (reply, "unknown_payment", "payment_id", "check the payment id and clinic");
        return -1;
    }
    /* The invoice first, then the payment (the order payments use), then
     * read again under the locks. */
    char invoice_id[ID_MAX + 1];
    snprintf (invoice_id, sizeof invoice_id, "%s", PQgetvalue (pay, 0, PAY_INVOICE));
    PQclear (pay);
    if ((*invoice_id && store_lock (db, "invoice", in->clinic_id, invoice_id) != 0)
        || store_lock (db, "payment", in->clinic_id, in->payment_id) != 0
        || !(pay = store_payment_get (db, in->clinic_id, in->payment_id)))
        return -1;
    int rc = -1;
    const char *currency = PQgetvalue (pay, 0, PAY_CURRENCY);
    const char *patient = PQgetvalue (pay, 0, PAY_PATIENT);
    int64_t paid = store_i64 (pay, 0, PAY_AMOUNT), refunded = store_i64 (pay, 0, PAY_REFUNDED);
    char refund_id[MESO_UUID_LEN + 1];
    if (s_currency_match (reply, "currency", in->currency, currency, "the payment") != 0)
        goto done;
    if (!pricing_refund_ok (paid, refunded, in->amount_cents)) {
        meso_reply_error (reply, MESO_FAILED_PRECONDITION,
                          "refund of %" PRId64 " cents exceeds the %" PRId64 " cents left of payment %.64s",
                          in->amount_cents, pricing_refundable (paid, refunded), in->payment_id);
        meso_reply_detail (reply, "paid %" PRId64 " cents, already refunded %" PRId64 " cents", paid, refunded);
        meso_reply_reason (reply, "refund_exceeds_paid", "amount_cents",
                           "refund at most %" PRId64 " cents", pricing_refundable (paid, refunded));
        goto done;
    }
    if (meso_uuid_v4 (refund_id) != 0) {
        meso_db_set_error (db, NULL, "no randomness for a refund id");
        goto done;
    }
    if (store_refund_insert (db, in->clinic_id, refund_id, in->payment_id, patient, in->amount_cents,
                             currency, in->reason) != 0
        || store_ledger_append (db, in->clinic_id, patient, "refund", in->amount_cents, currency,
                                invoice_id, in->payment_id, refund_id, NULL, NULL, in->reason) != 0)
        goto done;
    Meso__V1__RefundIssued ri = MESO__V1__REFUND_ISSUED__INIT;
    ri.refund_id = refund_id;
    ri.patient_id = (char *) patient;
    ri.payment_id = in->payment_id;
    ri.amount_cents = in->amount_cents;
    ri.currency = (char *) currency;
    ri.reason = in->reason;
    Meso__V1__Event ev = MESO__V1__EVENT__INIT;
    ev.payload_case = MESO__V1__EVENT__PAYLOAD_REFUND_ISSUED;
    ev.refund_issued = &ri;
    int64_t balance = 0;
    if (s_emit (db, &ev, "billing.refund_issued", in->clinic_id, job->req->actor) != 0
        || store_balance (db, in->clinic_id, patient, &balance) != 0)
        goto done;
    Meso__V1__Refund out = MESO__V1__REFUND__INIT;
    out.clinic_id = in->clinic_id;
    out.refund_id = refund_id;
    out.payment_id = in->payment_id;
    out.patient_id = (char *) patient;
    out.amount_cents = in->amount_cents;
    out.currency = (char *) currency;
    out.reason = in->reason;
    out.refunded_at_us = meso_time_now_us ();
    Meso__V1__RecordRefundReply r = MESO__V1__RECORD_REFUND_REPLY__INIT;
    r.refund = &out;
    r.refundable_left_cents = pricing_refundable (paid, refunded + in->amount_cents);
    r.balance_due_cents = balance;
    meso_reply_ok (reply, &r.base);
    rc = 0;
done:
    PQclear (pay);
    return rc;
}

static void
s_record_refund (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__RecordRefundRequest *in = body;
    int bad = 0;
    meso_handler_need_id (reply, &bad, "clinic_id", in->clinic_id);
    meso_handler_need_id (reply, &bad, "payment_id", in->payment_id);
    s_need_amount (reply, &bad, "amount_cents", in->amount_cents, PRICING_MAX_PAYMENT_CENTS);
    s_need_currency (reply, &bad, "currency", in->currency);
    size_t rl = in->reason ? strlen (in->reason) : 0;
    if (rl == 0 || rl > REASON_MAX) {
        meso_reply_reason (reply, rl ? "out_of_range" : "missing_field", "reason",
                           "a refund needs a reason of 1 to %d bytes", REASON_MAX);
        bad++;
    }
    if (!meso_handler_invalid (reply, bad, req->method))
        s_run (arg, req, reply, in, s_record_refund_effect);
}

/* ------------------------------------------------------------ statement */

static void
s_get_statement (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    billing_t *self = arg;
    Meso__V1__GetStatementRequest *in = body;
    int bad = 0;
    meso_handler_need_id (reply, &bad, "clinic_id", in->clinic_id);
    meso_handler_need_id (reply, &bad, "patient_id", in->patient_id);
    if (meso_handler_invalid (reply, bad, req->method)) {
        return;
    }
    PGresult *led = NULL, *pkgs = NULL, *unp = NULL;
    Meso__V1__StatementEntry *ea = NULL, **ep = NULL;
    Meso__V1__Package *pa = NULL, **pp = NULL;
    char **up = NULL;
    char currency[4];
    if (s_patient_known (self->db, reply, in->patient_id) != 0) {
        if (meso_reply_status (reply) == MESO_OK)
            meso_reply_db_error (reply, self->db, req->method);
        goto done;
    }
    /* One snapshot would be nicer, but each sum below is computed from the
     * ledger rows returned, so the figures always add up among themselves. */
    if (store_clinic_get (self->db, in->clinic_id, currency, NULL) != 0
        || !(led = store_ledger_entries (self->db, in->clinic_id, in->patient_id))
        || !(pkgs = store_packages_of (self->db, in->clinic_id, in->patient_id))
        || !(unp = store_unpriced (self->db, in->clinic_id, in->patient_id))) {
        meso_reply_db_error (reply, self->db, req->method);
        goto done;
    }
    int ne = PQntuples (led), np = PQntuples (pkgs), nu = PQntuples (unp);
    ea = calloc ((size_t) ne + 1, sizeof *ea);
    ep = calloc ((size_t) ne + 1, sizeof *ep);
    pa = calloc ((size_t) np + 1, sizeof *pa);
    pp = calloc ((size_t) np + 1, sizeof *pp);
    up = calloc ((size_t) nu + 1, sizeof *up);
    if (!ea || !ep || !pa || !pp || !up) {
        meso_reply_error (reply, MESO_INTERNAL, "out of memory");
        goto done;
    }
    Meso__V1__GetStatementReply out = MESO__V1__GET_STATEMENT_REPLY__INIT;
    for (int i = 0; i < ne; i++) {
        Meso__V1__StatementEntry *e = &ea[i];
        meso__v1__statement_entry__init (e);
        e->kind = PQgetvalue (led, i, 0);
        e->amount_cents = store_i64 (led, i, 1);
        e->invoice_id = PQgetvalue (led, i, 2);
        e->payment_id = PQgetvalue (led, i, 3);
        e->refund_id = PQgetvalue (led, i, 4);
        e->appointment_id = PQgetvalue (led, i, 5);
        e->package_id = PQgetvalue (led, i, 6);
        e->description = PQgetvalue (led, i, 7);
        e->at_us = store_i64 (led, i, 8);
        ep[i] = e;
        if (strcmp (e->kind, "charge") == 0)
            out.charged_cents += e->amount_cents;
        else if (strcmp (e->kind, "payment") == 0)
            out.paid_cents -= e->amount_cents;
        else
            out.refunded_cents += e->amount_cents;
        out.amount_due_cents += e->amount_cents;
    }
    for (int i = 0; i < np; i++) {
        s_package_fill (pkgs, i, in->clinic_id, &pa[i]);
        pp[i] = &pa[i];
        out.package_sessions_left += pa[i].sessions_left;
    }
    for (int i = 0; i < nu; i++)
        up[i] = PQgetvalue (unp, i, 0);
    out.clinic_id = in->clinic_id;
    out.patient_id = in->patient_id;
    out.currency = currency;
    out.n_entries = (size_t) ne;
    out.entries = ep;
    out.n_packages = (size_t) np;
    out.packages = pp;
    out.n_unpriced_appointments = (size_t) nu;
    out.unpriced_appointments = up;
    meso_reply_ok (reply, &out.base);
done:
    free (ea);
    free (ep);
    free (pa);
    free (pp);
    free (up);
    PQclear (led);
    PQclear (pkgs);
    PQclear (unp);
}

const meso_method_t billing_methods[] = {
    { "billing.SetPriceList", s_set_price_list, MESO_METHOD_MUTATING, &meso__v1__set_price_list_request__descriptor },
    { "billing.GetPriceList", s_get_price_list, MESO_METHOD_READ, &meso__v1__get_price_list_request__descriptor },
    { "billing.SetFeePolicy", s_set_fee_policy, MESO_METHOD_MUTATING, &meso__v1__set_fee_policy_request__descriptor },
    { "billing.SellPackage", s_sell_package, MESO_METHOD_MUTATING, &meso__v1__sell_package_request__descriptor },
    { "billing.GetPackage", s_get_package, MESO_METHOD_READ, &meso__v1__get_package_request__descriptor },
    { "billing.IssueInvoice", s_issue_invoice, MESO_METHOD_MUTATING, &meso__v1__issue_invoice_request__descriptor },
    { "billing.RecordPayment", s_record_payment, MESO_METHOD_MUTATING, &meso__v1__record_payment_request__descriptor },
    { "billing.RecordRefund", s_record_refund, MESO_METHOD_MUTATING, &meso__v1__record_refund_request__descriptor },
    { "billing.GetStatement", s_get_statement, MESO_METHOD_READ, &meso__v1__get_statement_request__descriptor },
    { NULL, NULL, 0, NULL }
};

/* --------------------------------------------------------------- events */

/* The session's date, clinic local: local_start "YYYY-MM-DDTHH:MM" starts
 * with it; else the UTC date of the start; else of the event. */
static int32_t
s_session_date (const Meso__V1__SessionInfo *s, const Meso__V1__Event *ev)
{
    int32_t d;
    if (s->local_start && strlen (s->local_start) >= 10) {
        char buf[11];
        memcpy (buf, s->local_start, 10);
        buf[10] = '\0';
        if (meso_date_parse (buf, &d) == 0)
            return d;
    }
    int64_t us = s->starts_at_us ? s->starts_at_us : ev->occurred_at_us;
    return us ? (int32_t) (us / INT64_C (86400000000)) : s_today ();
}

/* session.completed: charges the session once. 1 charged now, 0 already. */
static int
s_charge_session (meso_db_t *db, const Meso__V1__Event *ev, const Meso__V1__SessionInfo *s,
                  const char *clinic)
{
    int done = store_charge_exists (db, clinic, s->appointment_id);
    if (done != 0)
        return done < 0 ? -1 : 0;
    uint32_t areas = s->n_areas ? (uint32_t) s->n_areas : 1;
    int32_t on = s_session_date (s, ev);
    char date[11];
    meso_date_format (on, date, sizeof date);
    /* From a package when the patient has one with sessions left. */
    PGresult *pkg = store_package_next (db, clinic, s->patient_id);
    if (!pkg)
        return -1;
    if (PQntuples (pkg) == 1) {
        char package_id[ID_MAX + 1];
        snprintf (package_id, sizeof package_id, "%s", PQgetvalue (pkg, 0, PKG_ID));
        int64_t per = store_i64 (pkg, 0, PKG_PRICE) / (store_i64 (pkg, 0, PKG_TOTAL) ? store_i64 (pkg, 0, PKG_TOTAL) : 1);
        PQclear (pkg);
        if (store_package_use (db, clinic, package_id) != 0
            || store_charge_insert (db, clinic, s->appointment_id, s->patient_id, "session", "package",
                                    areas, date, package_id, NULL, per, ev->id) != 0)
            return -1;
        return 1;
    }
    PQclear (pkg);
    /* Else on an invoice at the price in effect on the session's date. */
    int64_t price = 0;
    int rc = s_session_price (db, clinic, on, areas, &price);
    if (rc < 0)
        return -1;
    if (rc == 0) {
        meso_warn ("no price list of clinic %s in effect on %s: appointment %s recorded unpriced",
                   clinic, date, s->appointment_id);
        return store_charge_insert (db, clinic, s->appointment_id, s->patient_id, "session", "unpriced",
                                    areas, date, NULL, NULL, 0, ev->id) == 0 ? 1 : -1;
    }
    char desc[96], currency[4], invoice_id[MESO_UUID_LEN + 1];
    snprintf (desc, sizeof desc, "Session %s, %u area%s", date, areas, areas > 1 ? "s" : "");
    s_line_t line = { desc, price, s->appointment_id, areas };
    if (store_clinic_get (db, clinic, currency, NULL) != 0
        || s_invoice_create (db, clinic, s->patient_id, currency, "session", NULL, &line, 1,
                             ev->actor, invoice_id) != 0
        || store_charge_insert (db, clinic, s->appointment_id, s->patient_id, "session", "invoiced",
                                areas, date, NULL, invoice_id, price, ev->id) != 0)
        return -1;
    return 1;
}

/* session.no_show / late session.cancelled: the clinic's fee, if any. */
static int
s_charge_fee (meso_db_t *db, const Meso__V1__Event *ev, const Meso__V1__SessionInfo *s,
              const char *clinic, pricing_event_t kind, bool late, int by)
{
    char currency[4];
    pricing_fees_t fees;
    if (store_clinic_get (db, clinic, currency, &fees) != 0)
        return -1;
    int64_t fee = pricing_fee (&fees, kind, late, by);
    if (fee <= 0)
        return 0;
    int done = store_charge_exists (db, clinic, s->appointment_id);
    if (done != 0)
        return done < 0 ? -1 : 0;
    const char *what = kind == PRICING_EVENT_NO_SHOW ? "no_show" : "late_cancel";
    char desc[96], invoice_id[MESO_UUID_LEN + 1], date[11];
    int32_t on = s_session_date (s, ev);
    meso_date_format (on, date, sizeof date);
    snprintf (desc, sizeof desc, "%s fee, session %s",
              kind == PRICING_EVENT_NO_SHOW ? "No-show" : "Late cancellation", date);
    s_line_t line = { desc, fee, s->appointment_id, 0 };
    if (s_invoice_create (db, clinic, s->patient_id, currency, "fee", NULL, &line, 1, ev->actor,
                          invoice_id) != 0
        || store_charge_insert (db, clinic, s->appointment_id, s->patient_id, what, "invoiced",
                                (uint32_t) s->n_areas, date, NULL, invoice_id, fee, ev->id) != 0)
        return -1;
    return 1;
}

int
billing_on_event (meso_db_t *db, const Meso__V1__Event *ev, void *arg)
{
    billing_t *self = arg;
    const Meso__V1__SessionInfo *s = NULL;
    switch (ev->payload_case) {
    case MESO__V1__EVENT__PAYLOAD_SCREENING_COMPLETED:
        if (ev->screening_completed->patient_id && *ev->screening_completed->patient_id
            && strlen (ev->screening_completed->patient_id) <= ID_MAX)
            return store_patient_see (db, ev->screening_completed->patient_id, ev->type);
        return 0;
    case MESO__V1__EVENT__PAYLOAD_PATIENT_CHANGED:
        if (ev->patient_changed->patient_id && *ev->patient_changed->patient_id
            && strlen (ev->patient_changed->patient_id) <= ID_MAX)
            return store_patient_see (db, ev->patient_changed->patient_id, ev->type);
        return 0;
    case MESO__V1__EVENT__PAYLOAD_SESSION_BOOKED: s = ev->session_booked->session; break;
    case MESO__V1__EVENT__PAYLOAD_SESSION_RESCHEDULED: s = ev->session_rescheduled->session; break;
    case MESO__V1__EVENT__PAYLOAD_SESSION_STARTED: s = ev->session_started->session; break;
    case MESO__V1__EVENT__PAYLOAD_SESSION_COMPLETED: s = ev->session_completed->session; break;
    case MESO__V1__EVENT__PAYLOAD_SESSION_NO_SHOW: s = ev->session_no_show->session; break;
    case MESO__V1__EVENT__PAYLOAD_SESSION_CANCELLED: s = ev->session_cancelled->session; break;
    default:
        return 0;
    }
    const char *clinic = s && s->clinic_id && *s->clinic_id ? s->clinic_id : ev->clinic_id;
    if (!s || !s->patient_id || !*s->patient_id || strlen (s->patient_id) > ID_MAX
        || !s->appointment_id || !*s->appointment_id || strlen (s->appointment_id) > ID_MAX
        || !clinic || !*clinic || strlen (clinic) > ID_MAX) {
        meso_warn ("event %s (%s) lacks a patient, appointment or clinic: ignored", ev->id, ev->type);
        return 0;
    }
    if (store_patient_see (db, s->patient_id, ev->type) != 0)
        return -1;
    int rc = 0;
    switch (ev->payload_case) {
    case MESO__V1__EVENT__PAYLOAD_SESSION_COMPLETED:
        rc = s_charge_session (db, ev, s, clinic);
        break;
    case MESO__V1__EVENT__PAYLOAD_SESSION_NO_SHOW:
        rc = s_charge_fee (db, ev, s, clinic, PRICING_EVENT_NO_SHOW, false, 0);
        break;
    case MESO__V1__EVENT__PAYLOAD_SESSION_CANCELLED:
        rc = s_charge_fee (db, ev, s, clinic, PRICING_EVENT_CANCELLED, ev->session_cancelled->late,
                           (int) ev->session_cancelled->by);
        break;
    default:
        break;
    }
    if (rc < 0)
        return -1;
    if (self) {
        self->events_applied++;
        if (rc > 0 && ev->payload_case == MESO__V1__EVENT__PAYLOAD_SESSION_COMPLETED)
            self->sessions_charged++;
        if (self->test_pause_ms > 0 && rc > 0) {
            /* Tests: the effect is written, the commit has not happened. */
            meso_info ("test pause: %d ms before committing event %s", self->test_pause_ms, ev->id);
            usleep ((useconds_t) self->test_pause_ms * 1000);
        }
    }
    return 0;
}

/* --------------------------------------------------------------- health */

void
billing_health (Meso__V1__HealthReply *health, void *arg)
{
    billing_t *self = arg;
    static char notes[2][128];
    static char *note_ptrs[2] = { notes[0], notes[1] };
    snprintf (notes[0], sizeof notes[0], "consumer=%s session_cursor=%llu screening_cursor=%llu",
              self->consumer ? "on" : "off",
              (unsigned long long) (self->consumer ? meso_consumer_cursor (self->consumer, "session") : 0),
              (unsigned long long) (self->consumer ? meso_consumer_cursor (self->consumer, "screening") : 0));
    snprintf (notes[1], sizeof notes[1], "events_applied=%llu sessions_charged=%llu provider=%s",
              (unsigned long long) self->events_applied, (unsigned long long) self->sessions_charged,
              self->provider ? self->provider->name : "");
    health->n_notes = 2;
    health->notes = note_ptrs;
}
