/* invoices.c -- invoices and the money paid against them: issuing an
 * invoice and reading one back (for every file that bills), and the
 * methods IssueInvoice and RecordPayment.
 *
 * Every money movement is written twice in the same transaction: in its own
 * table (invoice, payment, refund) and as a signed ledger entry (charge +,
 * payment -, refund +). A patient's amount due is the sum of their ledger
 * entries; nothing stores a balance that could drift.
 *
 * Taxes: every amount is what the patient pays; the tax each line
 * includes is worked out here, line by line, at the rate the caller found
 * (billing_tax_lines), rounded half to even (pricing_tax_included), and
 * the invoice's tax is the sum of its lines'. Rounding per line, not on
 * the total, is what a printed invoice shows and what an accountant adds.
 *
 * Payments stay with invoices: a payment to an invoice is checked against
 * what the invoice still owes (its total less credit notes less what was
 * paid). Refunds and credit notes are in refunds.c, which reads invoices
 * through this file. The statement, which reads packages as well, is in
 * statements.c: here it would close a circle with packages.c, which issues
 * its invoice through this file. How much may be paid or refunded is
 * decided by pricing.c. */
#include "billing.h"

#include "meso/audit.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/handler.h"
#include "meso/money.h"
#include "meso/mtime.h"
#include "meso/uuid.h"

/* ---------------------------------------------------- issue, read back */

int
billing_invoice_issue (meso_db_t *db, const char *clinic, const char *patient,
                       const char *currency, const char *kind, const char *package_id,
                       const billing_line_t *lines, size_t n, const Meso__V1__Actor *actor,
                       char *invoice_id, int64_t *tax_out)
{
    int64_t total = 0, tax = 0, taxes[BILLING_MAX_LINES];
    if (n > BILLING_MAX_LINES) {
        meso_db_set_error (db, "22003", "too many invoice lines");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (!meso_money_add (total, lines[i].cents, &total)) {
            meso_db_set_error (db, "22003", "invoice total overflows");
            return -1;
        }
        taxes[i] = pricing_tax_included (lines[i].cents, lines[i].rate_ppm);
        tax += taxes[i];
    }
    if (tax_out)
        *tax_out = tax;
    if (meso_uuid_v4 (invoice_id) != 0) {
        meso_db_set_error (db, NULL, "no randomness for an invoice id");
        return -1;
    }
    if (store_invoice_insert (db, clinic, invoice_id, patient, currency, total, kind, package_id,
                              tax) != 0)
        return -1;
    const char *appts[BILLING_MAX_LINES];
    size_t nappts = 0;
    Meso__V1__BilledLine bl[BILLING_MAX_LINES], *blp[BILLING_MAX_LINES];
    for (size_t i = 0; i < n; i++) {
        const char *cat = lines[i].tax_category && *lines[i].tax_category ? lines[i].tax_category
                                                                          : PRICING_TAX_STANDARD;
        if (store_invoice_line_insert (db, clinic, invoice_id, (int) i + 1, lines[i].description,
                                       lines[i].cents, lines[i].appointment_id, lines[i].areas,
                                       taxes[i], cat, lines[i].rate_ppm) != 0)
            return -1;
        if (lines[i].appointment_id && *lines[i].appointment_id && nappts < BILLING_MAX_LINES)
            appts[nappts++] = lines[i].appointment_id;
        meso__v1__billed_line__init (&bl[i]);
        bl[i].description = (char *) lines[i].description;
        bl[i].gross_cents = lines[i].cents;
        bl[i].tax_cents = taxes[i];
        bl[i].net_cents = lines[i].cents - taxes[i];
        bl[i].tax_category = (char *) cat;
        bl[i].tax_rate_ppm = lines[i].rate_ppm;
        bl[i].appointment_id = (char *) (lines[i].appointment_id ? lines[i].appointment_id : "");
        bl[i].areas = lines[i].areas;
        blp[i] = &bl[i];
    }
    char desc[BILLING_TEXT_MAX + 1];
    snprintf (desc, sizeof desc, "%s", n == 1 ? lines[0].description : "invoice");
    if (store_ledger_append (db, clinic, patient, "charge", total, currency, invoice_id, NULL, NULL,
                             nappts == 1 ? appts[0] : NULL, package_id, desc, tax, NULL) != 0)
        return -1;
    Meso__V1__InvoiceIssued ii = MESO__V1__INVOICE_ISSUED__INIT;
    ii.invoice_id = invoice_id;
    ii.patient_id = (char *) patient;
    ii.amount_cents = total;
    ii.currency = (char *) currency;
    ii.appointment_ids = (char **) appts;
    ii.n_appointment_ids = nappts;
    ii.package_id = (char *) (package_id ? package_id : "");
    ii.lines = blp;
    ii.n_lines = n;
    ii.net_cents = total - tax;
    ii.tax_cents = tax;
    ii.kind = meso_enum_from_text (&meso__v1__invoice_kind__descriptor, kind);
    Meso__V1__Event ev = MESO__V1__EVENT__INIT;
    ev.payload_case = MESO__V1__EVENT__PAYLOAD_INVOICE_ISSUED;
    ev.invoice_issued = &ii;
    return billing_emit (db, &ev, "billing.invoice_issued", clinic, actor);
}

void
billing_invoice_free (billing_invoice_t *v)
{
    PQclear (v->head);
    PQclear (v->lines);
    free (v->la);
    free (v->lp);
    memset (v, 0, sizeof *v);
}

int
billing_invoice_load (meso_db_t *db, const char *clinic, const char *invoice_id,
                      billing_invoice_t *v)
{
    memset (v, 0, sizeof *v);
    v->head = store_invoice_get (db, clinic, invoice_id);
    if (!v->head)
        return -1;
    if (PQntuples (v->head) == 0) {
        billing_invoice_free (v);
        return 0;
    }
    v->lines = store_invoice_lines (db, clinic, invoice_id);
    if (!v->lines) {
        billing_invoice_free (v);
        return -1;
    }
    int n = PQntuples (v->lines);
    v->la = calloc ((size_t) n + 1, sizeof *v->la);
    v->lp = calloc ((size_t) n + 1, sizeof *v->lp);
    if (!v->la || !v->lp) {
        billing_invoice_free (v);
        meso_db_set_error (db, NULL, "out of memory");
        return -1;
    }
    for (int i = 0; i < n; i++) {
        meso__v1__invoice_line__init (&v->la[i]);
        v->la[i].description = PQgetvalue (v->lines, i, 0);
        v->la[i].amount_cents = store_i64 (v->lines, i, 1);
        v->la[i].appointment_id = PQgetvalue (v->lines, i, 2);
        v->la[i].areas = (uint32_t) store_i64 (v->lines, i, 3);
        v->la[i].tax_cents = store_i64 (v->lines, i, 4);
        v->la[i].net_cents = v->la[i].amount_cents - v->la[i].tax_cents;
        v->la[i].tax_category = PQgetvalue (v->lines, i, 5);
        v->la[i].tax_rate_ppm = (uint32_t) store_i64 (v->lines, i, 6);
        v->lp[i] = &v->la[i];
    }
    Meso__V1__Invoice *m = &v->msg;
    meso__v1__invoice__init (m);
    m->clinic_id = (char *) clinic;
    m->invoice_id = (char *) invoice_id;
    m->patient_id = PQgetvalue (v->head, 0, INV_PATIENT);
    m->currency = PQgetvalue (v->head, 0, INV_CURRENCY);
    m->total_cents = store_i64 (v->head, 0, INV_TOTAL);
    m->kind = meso_enum_from_db (&meso__v1__invoice_kind__descriptor,
                                 PQgetvalue (v->head, 0, INV_KIND), "invoice kind");
    m->package_id = PQgetvalue (v->head, 0, INV_PACKAGE);
    m->issued_at_us = store_i64 (v->head, 0, INV_ISSUED_US);
    m->paid_cents = store_i64 (v->head, 0, INV_NET_PAID);
    m->tax_cents = store_i64 (v->head, 0, INV_TAX);
    m->net_cents = m->total_cents - m->tax_cents;
    m->credited_cents = store_i64 (v->head, 0, INV_CREDITED);
    m->due_cents = pricing_invoice_due (m->total_cents - m->credited_cents, m->paid_cents);
    m->n_lines = (size_t) n;
    m->lines = v->lp;
    return 1;
}

/* -------------------------------------------------------- IssueInvoice */

static int
s_issue_invoice_effect (meso_db_t *db, meso_idem_job_t *job)
{
    const Meso__V1__IssueInvoiceRequest *in = job->in;
    if (billing_patient_known (db, job->reply, in->patient_id) != 0)
        return -1;
    char currency[4];
    if (store_clinic_get (db, in->clinic_id, currency, NULL) != 0)
        return -1;
    if (billing_currency_match (job->reply, "currency", in->currency, currency, "the clinic") != 0)
        return -1;
    int32_t on = billing_today ();
    if (in->service_date && *in->service_date)
        meso_date_parse (in->service_date, &on);
    billing_line_t lines[BILLING_MAX_LINES];
    char descs[BILLING_MAX_LINES][48];
    for (size_t i = 0; i < in->n_lines; i++) {
        const Meso__V1__InvoiceLine *l = in->lines[i];
        lines[i].cents = l->amount_cents;
        lines[i].appointment_id = l->appointment_id;
        lines[i].areas = l->areas;
        lines[i].description = l->description;
        lines[i].tax_category = l->tax_category;
        lines[i].rate_ppm = 0;
        if (l->amount_cents == 0) {
            int rc = billing_session_price (db, in->clinic_id, on, l->areas, &lines[i].cents);
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
    size_t badl = 0;
    int trc = billing_tax_lines (db, in->clinic_id, on, lines, in->n_lines, &badl);
    if (trc < 0)
        return -1;
    if (trc > 0) {
        char field[48], d[11];
        snprintf (field, sizeof field, "lines[%zu].tax_category", badl);
        meso_date_format (on, d, sizeof d);
        meso_reply_error (job->reply, MESO_INVALID_ARGUMENT,
                          "no tax category \"%.32s\" in clinic %.64s's rates on %s",
                          lines[badl].tax_category, in->clinic_id, d);
        meso_reply_reason (job->reply, "unknown_tax_category", field,
                           "name a category of the clinic's rates in effect (billing.SetTaxRates), or leave it empty");
        return -1;
    }
    char invoice_id[MESO_UUID_LEN + 1];
    if (billing_invoice_issue (db, in->clinic_id, in->patient_id, currency, "manual", NULL, lines,
                               in->n_lines, job->req->actor, invoice_id, NULL) != 0)
        return -1;
    billing_invoice_t inv;
    if (billing_invoice_load (db, in->clinic_id, invoice_id, &inv) <= 0)
        return -1;
    Meso__V1__IssueInvoiceReply r = MESO__V1__ISSUE_INVOICE_REPLY__INIT;
    r.invoice = &inv.msg;
    meso_reply_ok (job->reply, &r.base);
    billing_invoice_free (&inv);
    return 0;
}

void
billing_issue_invoice (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__IssueInvoiceRequest *in = body;
    int bad = 0;
    meso_handler_need_clinic (reply, &bad, "clinic_id", in->clinic_id);
    meso_handler_need_id (reply, &bad, "patient_id", in->patient_id);
    billing_need_currency (reply, &bad, "currency", in->currency);
    int32_t d;
    if (in->service_date && *in->service_date && meso_date_parse (in->service_date, &d) != 0) {
        meso_reply_reason (reply, "invalid_date", "service_date", "service_date must be a date YYYY-MM-DD");
        bad++;
    }
    if (in->n_lines == 0 || in->n_lines > BILLING_MAX_LINES) {
        meso_reply_reason (reply, "out_of_range", "lines", "give 1 to %d lines", BILLING_MAX_LINES);
        bad++;
    }
    for (size_t i = 0; i < in->n_lines && i < BILLING_MAX_LINES; i++) {
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
        if (l->description && strlen (l->description) > BILLING_TEXT_MAX) {
            meso_reply_reason (reply, "out_of_range", field, "%s must be at most %d bytes", field, BILLING_TEXT_MAX);
            bad++;
        }
        snprintf (field, sizeof field, "lines[%zu].tax_category", i);
        if (l->tax_category && *l->tax_category && !pricing_tax_category_ok (l->tax_category)) {
            meso_reply_reason (reply, "invalid_tax_category", field,
                               "%s must be 1..%d bytes of a-z, 0-9 and _, starting with a letter",
                               field, PRICING_TAX_CATEGORY_MAX);
            bad++;
        }
        snprintf (field, sizeof field, "lines[%zu].appointment_id", i);
        if (l->appointment_id && strlen (l->appointment_id) > BILLING_ID_MAX) {
            meso_reply_reason (reply, "out_of_range", field, "%s must be at most %d bytes", field, BILLING_ID_MAX);
            bad++;
        }
    }
    billing_run (arg, req, reply, bad, "clinic_id", in->clinic_id, in, s_issue_invoice_effect);
}

/* ------------------------------------------------------------ payments */

void
billing_payment_fill (const PGresult *res, const char *clinic, const char *payment_id, Meso__V1__Payment *p)
{
    meso__v1__payment__init (p);
    p->clinic_id = (char *) clinic;
    p->payment_id = (char *) payment_id;
    p->patient_id = PQgetvalue (res, 0, PAY_PATIENT);
    p->invoice_id = PQgetvalue (res, 0, PAY_INVOICE);
    p->amount_cents = store_i64 (res, 0, PAY_AMOUNT);
    p->currency = PQgetvalue (res, 0, PAY_CURRENCY);
    p->method = meso_enum_from_db (&meso__v1__payment_method__descriptor,
                                   PQgetvalue (res, 0, PAY_METHOD), "payment method");
    p->provider = PQgetvalue (res, 0, PAY_PROVIDER);
    p->provider_ref = PQgetvalue (res, 0, PAY_PROVIDER_REF);
    p->reference = PQgetvalue (res, 0, PAY_REFERENCE);
    p->received_at_us = store_i64 (res, 0, PAY_RECEIVED_US);
    p->refunded_cents = store_i64 (res, 0, PAY_REFUNDED);
}

static const char *
s_payment_invoice (const Meso__V1__RecordPaymentRequest *in)
{
    return in->target_case == MESO__V1__RECORD_PAYMENT_REQUEST__TARGET_INVOICE_ID && in->invoice_id ? in->invoice_id
                                                                                                      : "";
}

static int
s_record_payment_effect (meso_db_t *db, meso_idem_job_t *job)
{
    const Meso__V1__RecordPaymentRequest *in = job->in;
    meso_reply_t *reply = job->reply;
    char currency[4];
    if (store_clinic_get (db, in->clinic_id, currency, NULL) != 0)
        return -1;
    const char *patient = in->patient_id;
    /* The oneof's members share storage: read invoice_id only when set. */
    const char *invoice_id = s_payment_invoice (in);
    int64_t invoice_due = 0;
    PGresult *inv = NULL;
    if (*invoice_id) {
        /* Payments to one invoice one at a time: what is due is read after
         * the lock, so two payments cannot both pay the last dollar. */
        if (store_lock (db, "invoice", in->clinic_id, invoice_id) != 0
            || !(inv = store_invoice_get (db, in->clinic_id, invoice_id)))
            return -1;
        if (PQntuples (inv) == 0) {
            PQclear (inv);
            meso_reply_error (reply, MESO_NOT_FOUND, "unknown invoice %.64s in clinic %.64s",
                              invoice_id, in->clinic_id);
            meso_reply_reason (reply, "unknown_invoice", "invoice_id", "check the invoice id and clinic");
            return -1;
        }
        patient = PQgetvalue (inv, 0, INV_PATIENT);
        snprintf (currency, sizeof currency, "%s", PQgetvalue (inv, 0, INV_CURRENCY));
        if (in->patient_id && *in->patient_id && strcmp (in->patient_id, patient) != 0) {
            meso_reply_error (reply, MESO_INVALID_ARGUMENT, "invoice %.64s is not patient %.64s's",
                              invoice_id, in->patient_id);
            meso_reply_reason (reply, "patient_mismatch", "patient_id", "leave patient_id empty or give the invoice's patient");
            PQclear (inv);
            return -1;
        }
        if (billing_currency_match (reply, "currency", in->currency, currency, "the invoice") != 0) {
            PQclear (inv);
            return -1;
        }
        int64_t owed = store_i64 (inv, 0, INV_TOTAL) - store_i64 (inv, 0, INV_CREDITED);
        invoice_due = pricing_invoice_after_payment (owed, store_i64 (inv, 0, INV_NET_PAID),
                                                     in->amount_cents);
        if (invoice_due < 0) {
            meso_reply_error (reply, MESO_FAILED_PRECONDITION,
                              "payment of %" PRId64 " cents exceeds the %" PRId64 " cents due on invoice %.64s",
                              in->amount_cents,
                              pricing_invoice_due (owed, store_i64 (inv, 0, INV_NET_PAID)),
                              invoice_id);
            meso_reply_reason (reply, "overpayment", "amount_cents",
                               "pay at most what is due, or record the rest as a deposit without invoice_id");
            PQclear (inv);
            return -1;
        }
    }
    else {
        if (billing_patient_known (db, reply, patient) != 0)
            return -1;
        if (billing_currency_match (reply, "currency", in->currency, currency, "the clinic") != 0)
            return -1;
    }
    billing_t *self = job->arg;
    char ref[256], err[256] = "", method[MESO_ENUM_TEXT_MAX];
    meso_enum_text (&meso__v1__payment_method__descriptor, in->method, method, sizeof method);
    if (self->provider->record (self->provider->ctx, method, in->amount_cents, currency,
                                job->req->idempotency_key, ref, sizeof ref, err, sizeof err) != 0) {
        meso_reply_error (reply, MESO_FAILED_PRECONDITION, "payment refused by %s: %s",
                          self->provider->name, err);
        PQclear (inv);
        return -1;
    }
    meso_call_patient (patient, in->clinic_id);
    char payment_id[MESO_UUID_LEN + 1];
    int rc = -1;
    PGresult *pay = NULL;
    if (meso_uuid_v4 (payment_id) != 0)
        meso_db_set_error (db, NULL, "no randomness for a payment id");
    else if (store_payment_insert (db, in->clinic_id, payment_id, patient, invoice_id,
                                   in->amount_cents, currency, method, self->provider->name,
                                   ref, in->reference, job->req->idempotency_key) == 0
             && store_ledger_append (db, in->clinic_id, patient, "payment", -in->amount_cents,
                                     currency, invoice_id, payment_id, NULL, NULL, NULL,
                                     method, 0, NULL) == 0) {
        Meso__V1__PaymentReceived pr = MESO__V1__PAYMENT_RECEIVED__INIT;
        pr.payment_id = payment_id;
        pr.patient_id = (char *) patient;
        pr.invoice_id = (char *) invoice_id;
        pr.amount_cents = in->amount_cents;
        pr.currency = currency;
        pr.method = in->method;
        Meso__V1__Event ev = MESO__V1__EVENT__INIT;
        ev.payload_case = MESO__V1__EVENT__PAYLOAD_PAYMENT_RECEIVED;
        ev.payment_received = &pr;
        int64_t balance = 0;
        if (billing_emit (db, &ev, "billing.payment_received", in->clinic_id, job->req->actor) == 0
            && store_balance (db, in->clinic_id, patient, &balance) == 0
            && (pay = store_payment_get (db, in->clinic_id, payment_id)) != NULL) {
            Meso__V1__Payment p;
            billing_payment_fill (pay, in->clinic_id, payment_id, &p);
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

void
billing_record_payment (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__RecordPaymentRequest *in = body;
    int bad = 0;
    meso_handler_need_clinic (reply, &bad, "clinic_id", in->clinic_id);
    bool has_invoice = in->target_case == MESO__V1__RECORD_PAYMENT_REQUEST__TARGET_INVOICE_ID;
    if (has_invoice)
        meso_handler_need_id (reply, &bad, "invoice_id", in->invoice_id);
    else if (in->target_case != MESO__V1__RECORD_PAYMENT_REQUEST__TARGET_DEPOSIT || !in->deposit) {
        meso_reply_reason (reply, "missing_field", "invoice_id",
                           "invoice_id, or deposit for a deposit on the patient's account, is required");
        bad++;
    }
    if (!has_invoice || (in->patient_id && *in->patient_id))
        meso_handler_need_id (reply, &bad, "patient_id", in->patient_id);
    billing_need_amount (reply, &bad, "amount_cents", in->amount_cents, PRICING_MAX_PAYMENT_CENTS);
    billing_need_currency (reply, &bad, "currency", in->currency);
    char method[MESO_ENUM_TEXT_MAX];
    if (!meso_enum_text (&meso__v1__payment_method__descriptor, in->method, method, sizeof method)
        || !pricing_method_ok (method)) {
        meso_reply_reason (reply, "invalid_method", "method",
                           "method must be PAYMENT_METHOD_CARD, _CASH or _BANK_TRANSFER (got %d)",
                           (int) in->method);
        bad++;
    }
    if (in->reference && strlen (in->reference) > BILLING_TEXT_MAX) {
        meso_reply_reason (reply, "out_of_range", "reference", "reference must be at most %d bytes", BILLING_TEXT_MAX);
        bad++;
    }
    billing_run (arg, req, reply, bad, "clinic_id", in->clinic_id, in, s_record_payment_effect);
}
