/* refunds.c -- money given back and invoices taken back: RecordRefund
 * (against one payment, or against an invoice, spread over its payments
 * newest first), CancelInvoice, and the credit notes and refund spreading
 * that packages.c uses to refund a package's unused sessions.
 *
 * Every movement is written twice in one transaction, like the rest of
 * billing: in its own append-only table (refund, credit_note) and as a
 * signed ledger entry (refund +, credit -), with its event. A refund never
 * exceeds what is left of a payment: the payment's lock is taken after its
 * invoice's (the order RecordPayment uses), and what is left is read under
 * both. Spreading a refund over an invoice's payments newest first is
 * decided by pricing_spread_refund; this file loads the payments and
 * writes one refund per payment touched.
 *
 * A cancelled invoice keeps what was paid on it as credit on the patient's
 * account: cancelling and giving money back are two decisions, and the
 * clerk may want to keep the credit for the next session. */
#include "billing.h"

#include "meso/audit.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/handler.h"
#include "meso/mtime.h"
#include "meso/uuid.h"

/* ------------------------------------------------------------- refunds */

/* One refund of amount from a payment (its locks held): row, ledger entry,
 * event. Writes the id into id (>= 37 bytes). 0 or -1. */
static int
s_refund_one (meso_db_t *db, const char *clinic, const char *payment_id, const char *invoice_id,
              const char *patient, int64_t amount, const char *currency, const char *reason,
              const Meso__V1__Actor *actor, char *id)
{
    meso_call_patient (patient, clinic);
    if (meso_uuid_v4 (id) != 0) {
        meso_db_set_error (db, NULL, "no randomness for a refund id");
        return -1;
    }
    if (store_refund_insert (db, clinic, id, payment_id, patient, amount, currency, reason) != 0
        || store_ledger_append (db, clinic, patient, "refund", amount, currency, invoice_id,
                                payment_id, id, NULL, NULL, reason, 0, NULL) != 0)
        return -1;
    Meso__V1__RefundIssued ri = MESO__V1__REFUND_ISSUED__INIT;
    ri.refund_id = id;
    ri.patient_id = (char *) patient;
    ri.payment_id = (char *) payment_id;
    ri.amount_cents = amount;
    ri.currency = (char *) currency;
    ri.reason = (char *) reason;
    ri.invoice_id = (char *) (invoice_id ? invoice_id : "");
    Meso__V1__Event ev = MESO__V1__EVENT__INIT;
    ev.payload_case = MESO__V1__EVENT__PAYLOAD_REFUND_ISSUED;
    ev.refund_issued = &ri;
    return billing_emit (db, &ev, "billing.refund_issued", clinic, actor);
}

int
billing_refund_spread (meso_db_t *db, const char *clinic, const char *invoice_id, int64_t amount,
                       const char *reason, const Meso__V1__Actor *actor, billing_refunds_t *out)
{
    memset (out, 0, sizeof *out);
    PGresult *inv = store_invoice_get (db, clinic, invoice_id);
    PGresult *pays = inv ? store_invoice_payments (db, clinic, invoice_id) : NULL;
    int rc = -1;
    if (!pays)
        goto done;
    if (PQntuples (inv) == 0) {
        meso_db_set_error (db, NULL, "invoice vanished");
        goto done;
    }
    size_t n = (size_t) PQntuples (pays);
    if (n > BILLING_MAX_LINES)
        n = BILLING_MAX_LINES;      /* more payments on one invoice: the newest 50 */
    int64_t left[BILLING_MAX_LINES], take[BILLING_MAX_LINES];
    for (size_t i = 0; i < n; i++)
        left[i] = pricing_refundable (store_i64 (pays, (int) i, 1), store_i64 (pays, (int) i, 2));
    if (pricing_spread_refund (left, n, amount, take) < 0) {
        rc = 1;
        goto done;
    }
    const char *patient = PQgetvalue (inv, 0, INV_PATIENT);
    const char *currency = PQgetvalue (inv, 0, INV_CURRENCY);
    for (size_t i = 0; i < n; i++) {
        if (take[i] <= 0)
            continue;
        const char *pid = PQgetvalue (pays, (int) i, 0);
        size_t k = out->n;
        if (store_lock (db, "payment", clinic, pid) != 0
            || s_refund_one (db, clinic, pid, invoice_id, patient, take[i], currency, reason, actor,
                             out->ids[k]) != 0)
            goto done;
        snprintf (out->payment_ids[k], sizeof out->payment_ids[k], "%s", pid);
        out->cents[k] = take[i];
        out->n++;
    }
    rc = 0;
done:
    PQclear (inv);
    PQclear (pays);
    return rc;
}

void
billing_refund_fill (const billing_refunds_t *rs, size_t i, const char *clinic, const char *patient,
                     const char *currency, const char *reason, Meso__V1__Refund *r)
{
    meso__v1__refund__init (r);
    r->clinic_id = (char *) clinic;
    r->refund_id = (char *) rs->ids[i];
    r->payment_id = (char *) rs->payment_ids[i];
    r->patient_id = (char *) patient;
    r->amount_cents = rs->cents[i];
    r->currency = (char *) currency;
    r->reason = (char *) reason;
    r->refunded_at_us = meso_time_now_us ();
}

/* RecordRefund with an invoice_id: spread over its payments. */
static int
s_refund_invoice (meso_db_t *db, meso_idem_job_t *job)
{
    const Meso__V1__RecordRefundRequest *in = job->in;
    meso_reply_t *reply = job->reply;
    if (store_lock (db, "invoice", in->clinic_id, in->invoice_id) != 0)
        return -1;
    billing_invoice_t inv;
    int found = billing_invoice_load (db, in->clinic_id, in->invoice_id, &inv);
    if (found < 0)
        return -1;
    if (found == 0) {
        meso_reply_error (reply, MESO_NOT_FOUND, "unknown invoice %.64s in clinic %.64s",
                          in->invoice_id, in->clinic_id);
        meso_reply_reason (reply, "unknown_invoice", "invoice_id", "check the invoice id and clinic");
        return -1;
    }
    int rc = -1;
    billing_refunds_t *rs = calloc (1, sizeof *rs);
    Meso__V1__Refund *ra = calloc (BILLING_MAX_LINES, sizeof *ra);
    Meso__V1__Refund *rp[BILLING_MAX_LINES];
    if (!rs || !ra) {
        meso_db_set_error (db, NULL, "out of memory");
        goto done;
    }
    if (billing_currency_match (reply, "currency", in->currency, inv.msg.currency, "the invoice") != 0)
        goto done;
    int64_t paid = inv.msg.paid_cents;
    int s = billing_refund_spread (db, in->clinic_id, in->invoice_id, in->amount_cents, in->reason,
                                   job->req->actor, rs);
    if (s < 0)
        goto done;
    if (s > 0) {
        meso_reply_error (reply, MESO_FAILED_PRECONDITION,
                          "refund of %" PRId64 " cents exceeds the %" PRId64 " cents paid on invoice %.64s",
                          in->amount_cents, paid > 0 ? paid : 0, in->invoice_id);
        meso_reply_detail (reply, "an invoice's refund is spread over its payments, newest first, "
                                  "each at most what is left of it");
        meso_reply_reason (reply, "refund_exceeds_paid", "amount_cents", "refund at most %" PRId64 " cents",
                           paid > 0 ? paid : 0);
        goto done;
    }
    int64_t balance = 0;
    if (store_balance (db, in->clinic_id, inv.msg.patient_id, &balance) != 0)
        goto done;
    for (size_t i = 0; i < rs->n; i++) {
        billing_refund_fill (rs, i, in->clinic_id, inv.msg.patient_id, inv.msg.currency, in->reason, &ra[i]);
        rp[i] = &ra[i];
    }
    Meso__V1__RecordRefundReply r = MESO__V1__RECORD_REFUND_REPLY__INIT;
    r.refund = rs->n ? rp[0] : NULL;
    r.refunds = rp;
    r.n_refunds = rs->n;
    r.refundable_left_cents = paid - in->amount_cents;
    r.balance_due_cents = balance;
    meso_reply_ok (reply, &r.base);
    rc = 0;
done:
    billing_invoice_free (&inv);
    free (rs);
    free (ra);
    return rc;
}

static int
s_record_refund_effect (meso_db_t *db, meso_idem_job_t *job)
{
    const Meso__V1__RecordRefundRequest *in = job->in;
    meso_reply_t *reply = job->reply;
    if (in->invoice_id && *in->invoice_id)
        return s_refund_invoice (db, job);
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
    char invoice_id[BILLING_ID_MAX + 1];
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
    billing_refunds_t one;
    memset (&one, 0, sizeof one);
    if (billing_currency_match (reply, "currency", in->currency, currency, "the payment") != 0)
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
    if (s_refund_one (db, in->clinic_id, in->payment_id, invoice_id, patient, in->amount_cents,
                      currency, in->reason, job->req->actor, one.ids[0]) != 0)
        goto done;
    snprintf (one.payment_ids[0], sizeof one.payment_ids[0], "%s", in->payment_id);
    one.cents[0] = in->amount_cents;
    one.n = 1;
    int64_t balance = 0;
    if (store_balance (db, in->clinic_id, patient, &balance) != 0)
        goto done;
    Meso__V1__Refund out, *outp[1] = { &out };
    billing_refund_fill (&one, 0, in->clinic_id, patient, currency, in->reason, &out);
    Meso__V1__RecordRefundReply r = MESO__V1__RECORD_REFUND_REPLY__INIT;
    r.refund = &out;
    r.refunds = outp;
    r.n_refunds = 1;
    r.refundable_left_cents = pricing_refundable (paid, refunded + in->amount_cents);
    r.balance_due_cents = balance;
    meso_reply_ok (reply, &r.base);
    rc = 0;
done:
    PQclear (pay);
    return rc;
}

void
billing_record_refund (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__RecordRefundRequest *in = body;
    int bad = 0;
    meso_handler_need_clinic (reply, &bad, "clinic_id", in->clinic_id);
    bool by_invoice = in->invoice_id && *in->invoice_id;
    bool by_payment = in->payment_id && *in->payment_id;
    if (by_invoice && by_payment) {
        meso_reply_reason (reply, "conflicting_fields", "invoice_id",
                           "give payment_id or invoice_id, not both");
        bad++;
    }
    else if (by_invoice)
        meso_handler_need_id (reply, &bad, "invoice_id", in->invoice_id);
    else
        meso_handler_need_id (reply, &bad, "payment_id", in->payment_id);
    billing_need_amount (reply, &bad, "amount_cents", in->amount_cents, PRICING_MAX_PAYMENT_CENTS);
    billing_need_currency (reply, &bad, "currency", in->currency);
    size_t rl = in->reason ? strlen (in->reason) : 0;
    if (rl == 0 || rl > BILLING_REASON_MAX) {
        meso_reply_reason (reply, rl ? "out_of_range" : "missing_field", "reason",
                           "a refund needs a reason of 1 to %d bytes", BILLING_REASON_MAX);
        bad++;
    }
    billing_run (arg, req, reply, bad, "clinic_id", in->clinic_id, in, s_record_refund_effect);
}

/* -------------------------------------------------------- credit notes */

int
billing_credit_issue (meso_db_t *db, const char *clinic, const char *invoice_id,
                      const char *patient, const char *currency, int64_t gross, int64_t tax,
                      const char *kind, const char *reason, const char *package_id,
                      const Meso__V1__Actor *actor, char *id)
{
    meso_call_patient (patient, clinic);
    if (meso_uuid_v4 (id) != 0) {
        meso_db_set_error (db, NULL, "no randomness for a credit note id");
        return -1;
    }
    char desc[BILLING_TEXT_MAX + 1];
    snprintf (desc, sizeof desc, "Credit note (%s)", kind);
    if (store_credit_insert (db, clinic, id, invoice_id, patient, currency, gross, tax, kind, reason,
                             package_id) != 0
        || store_ledger_append (db, clinic, patient, "credit", -gross, currency, invoice_id, NULL,
                                NULL, NULL, package_id, desc, -tax, id) != 0)
        return -1;
    Meso__V1__CreditNoteIssued cn = MESO__V1__CREDIT_NOTE_ISSUED__INIT;
    cn.credit_note_id = id;
    cn.invoice_id = (char *) invoice_id;
    cn.patient_id = (char *) patient;
    cn.gross_cents = gross;
    cn.tax_cents = tax;
    cn.net_cents = gross - tax;
    cn.currency = (char *) currency;
    cn.reason = (char *) reason;
    cn.kind = meso_enum_from_text (&meso__v1__credit_note_kind__descriptor, kind);
    cn.package_id = (char *) (package_id ? package_id : "");
    Meso__V1__Event ev = MESO__V1__EVENT__INIT;
    ev.payload_case = MESO__V1__EVENT__PAYLOAD_CREDIT_NOTE_ISSUED;
    ev.credit_note_issued = &cn;
    return billing_emit (db, &ev, "billing.credit_note_issued", clinic, actor);
}

PGresult *
billing_credit_load (meso_db_t *db, const char *clinic, const char *id, Meso__V1__CreditNote *c)
{
    PGresult *res = store_credit_get (db, clinic, id);
    if (!res)
        return NULL;
    if (PQntuples (res) == 0) {
        PQclear (res);
        meso_db_set_error (db, NULL, "credit note vanished");
        return NULL;
    }
    meso__v1__credit_note__init (c);
    c->clinic_id = (char *) clinic;
    c->credit_note_id = (char *) id;
    c->invoice_id = PQgetvalue (res, 0, 0);
    c->patient_id = PQgetvalue (res, 0, 1);
    c->currency = PQgetvalue (res, 0, 2);
    c->gross_cents = store_i64 (res, 0, 3);
    c->tax_cents = store_i64 (res, 0, 4);
    c->net_cents = c->gross_cents - c->tax_cents;
    c->kind = meso_enum_from_db (&meso__v1__credit_note_kind__descriptor, PQgetvalue (res, 0, 5),
                                 "credit note kind");
    c->reason = PQgetvalue (res, 0, 6);
    c->package_id = PQgetvalue (res, 0, 7);
    c->issued_at_us = store_i64 (res, 0, 8);
    return res;
}

/* -------------------------------------------------------- CancelInvoice */

static int
s_cancel_invoice_effect (meso_db_t *db, meso_idem_job_t *job)
{
    const Meso__V1__CancelInvoiceRequest *in = job->in;
    meso_reply_t *reply = job->reply;
    if (store_lock (db, "invoice", in->clinic_id, in->invoice_id) != 0)
        return -1;
    billing_invoice_t inv;
    int found = billing_invoice_load (db, in->clinic_id, in->invoice_id, &inv);
    if (found < 0)
        return -1;
    if (found == 0) {
        meso_reply_error (reply, MESO_NOT_FOUND, "unknown invoice %.64s in clinic %.64s",
                          in->invoice_id, in->clinic_id);
        meso_reply_reason (reply, "unknown_invoice", "invoice_id", "check the invoice id and clinic");
        return -1;
    }
    meso_call_patient (inv.msg.patient_id, in->clinic_id);
    int rc = -1;
    PGresult *cres = NULL;
    char id[MESO_UUID_LEN + 1];
    if (inv.msg.kind == MESO__V1__INVOICE_KIND__INVOICE_KIND_PACKAGE) {
        meso_reply_error (reply, MESO_FAILED_PRECONDITION, "invoice %.64s sold package %.64s",
                          in->invoice_id, inv.msg.package_id);
        meso_reply_reason (reply, "package_invoice", "invoice_id",
                           "refund the package's unused sessions with billing.RefundPackage");
        goto done;
    }
    if (inv.msg.credited_cents > 0) {
        meso_reply_error (reply, MESO_FAILED_PRECONDITION, "invoice %.64s is already credited (%" PRId64 " cents)",
                          in->invoice_id, inv.msg.credited_cents);
        meso_reply_reason (reply, "already_credited", "invoice_id", "an invoice is cancelled once");
        goto done;
    }
    if (billing_credit_issue (db, in->clinic_id, in->invoice_id, inv.msg.patient_id, inv.msg.currency,
                              inv.msg.total_cents, inv.msg.tax_cents, "cancellation", in->reason, NULL,
                              job->req->actor, id) != 0)
        goto done;
    billing_invoice_free (&inv);
    Meso__V1__CreditNote cn;
    if (billing_invoice_load (db, in->clinic_id, in->invoice_id, &inv) <= 0
        || !(cres = billing_credit_load (db, in->clinic_id, id, &cn)))
        goto done;
    Meso__V1__CancelInvoiceReply r = MESO__V1__CANCEL_INVOICE_REPLY__INIT;
    r.credit_note = &cn;
    r.invoice = &inv.msg;
    meso_reply_ok (reply, &r.base);
    rc = 0;
done:
    PQclear (cres);
    billing_invoice_free (&inv);
    return rc;
}

void
billing_cancel_invoice (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__CancelInvoiceRequest *in = body;
    int bad = 0;
    meso_handler_need_clinic (reply, &bad, "clinic_id", in->clinic_id);
    meso_handler_need_id (reply, &bad, "invoice_id", in->invoice_id);
    size_t rl = in->reason ? strlen (in->reason) : 0;
    if (rl == 0 || rl > BILLING_REASON_MAX) {
        meso_reply_reason (reply, rl ? "out_of_range" : "missing_field", "reason",
                           "a cancellation needs a reason of 1 to %d bytes", BILLING_REASON_MAX);
        bad++;
    }
    billing_run (arg, req, reply, bad, "clinic_id", in->clinic_id, in, s_cancel_invoice_effect);
}
