/* billing_calls.h -- typed calls to billing's methods for the tests of
 * taxes, packages, refunds, credit notes, reports and the event-fed
 * ledger (tests/integration/test_billing_*.c), on top of billing_fixture.h.
 * Static functions, one copy per test program; each returns the reply's
 * status and, when OK and asked for, the unpacked reply (the caller frees
 * it with protobuf_c_message_free_unpacked). */
#ifndef BILLING_CALLS_H
#define BILLING_CALLS_H

#include "billing_fixture.h"

/* Calls method with body; on OK and out non-NULL unpacks the reply as
 * desc into *out. */
__attribute__ ((unused)) static int
bc_call (fx_t *fx, const char *method, const ProtobufCMessage *body,
         const ProtobufCMessageDescriptor *desc, void *out)
{
    meso_result_t r = { 0 };
    int st = fx_call (fx, method, body, NULL, &r);
    if (out)
        *(ProtobufCMessage **) out = NULL;
    if (st == MESO_OK && out) {
        size_t len;
        const uint8_t *b = meso_result_body (&r, &len);
        *(ProtobufCMessage **) out = protobuf_c_message_unpack (desc, NULL, len, b);
        assert_non_null (*(ProtobufCMessage **) out);
    }
    meso_result_reset (&r);
    return st;
}

__attribute__ ((unused)) static void
bc_free (void *m)
{
    if (m)
        protobuf_c_message_free_unpacked (m, NULL);
}

/* SetTaxRates of clinic from today + offset: n (category, rate) pairs. */
__attribute__ ((unused)) static int
bc_tax (fx_t *fx, const char *clinic, int offset, size_t n, const char *const *cats,
        const uint32_t *ppm)
{
    Meso__V1__TaxRate r[8], *rp[8];
    for (size_t i = 0; i < n; i++) {
        meso__v1__tax_rate__init (&r[i]);
        r[i].category = (char *) cats[i];
        r[i].rate_ppm = ppm[i];
        rp[i] = &r[i];
    }
    char from[16];
    fx_date (offset, from);
    Meso__V1__TaxRates t = MESO__V1__TAX_RATES__INIT;
    t.clinic_id = (char *) clinic;
    t.effective_from = from;
    t.rates = rp;
    t.n_rates = n;
    Meso__V1__SetTaxRatesRequest rq = MESO__V1__SET_TAX_RATES_REQUEST__INIT;
    rq.tax_rates = &t;
    return bc_call (fx, "billing.SetTaxRates", &rq.base, NULL, NULL);
}

/* IssueInvoice of n lines (amount, category); reply into *out. */
__attribute__ ((unused)) static int
bc_invoice (fx_t *fx, const char *clinic, const char *patient, size_t n, const int64_t *cents,
            const char *const *cats, Meso__V1__IssueInvoiceReply **out)
{
    Meso__V1__InvoiceLine l[8], *lp[8];
    for (size_t i = 0; i < n; i++) {
        meso__v1__invoice_line__init (&l[i]);
        l[i].amount_cents = cents[i];
        l[i].tax_category = (char *) (cats ? cats[i] : "");
        lp[i] = &l[i];
    }
    Meso__V1__IssueInvoiceRequest rq = MESO__V1__ISSUE_INVOICE_REQUEST__INIT;
    rq.clinic_id = (char *) clinic;
    rq.patient_id = (char *) patient;
    rq.lines = lp;
    rq.n_lines = n;
    return bc_call (fx, "billing.IssueInvoice", &rq.base, &meso__v1__issue_invoice_reply__descriptor, out);
}

/* SellPackage; expiry_date NULL: the clinic's default. */
__attribute__ ((unused)) static int
bc_sell (fx_t *fx, const char *clinic, const char *patient, uint32_t sessions, int64_t price,
         const char *expiry_date, Meso__V1__SellPackageReply **out)
{
    Meso__V1__SellPackageRequest rq = MESO__V1__SELL_PACKAGE_REQUEST__INIT;
    rq.clinic_id = (char *) clinic;
    rq.patient_id = (char *) patient;
    rq.sessions = sessions;
    rq.price_cents = price;
    rq.expiry_date = (char *) (expiry_date ? expiry_date : "");
    return bc_call (fx, "billing.SellPackage", &rq.base, &meso__v1__sell_package_reply__descriptor, out);
}

__attribute__ ((unused)) static int
bc_package (fx_t *fx, const char *clinic, const char *package, Meso__V1__GetPackageReply **out)
{
    Meso__V1__GetPackageRequest rq = MESO__V1__GET_PACKAGE_REQUEST__INIT;
    rq.clinic_id = (char *) clinic;
    rq.package_id = (char *) package;
    return bc_call (fx, "billing.GetPackage", &rq.base, &meso__v1__get_package_reply__descriptor, out);
}

__attribute__ ((unused)) static int
bc_refund_package (fx_t *fx, const char *clinic, const char *package,
                   Meso__V1__RefundPackageReply **out)
{
    Meso__V1__RefundPackageRequest rq = MESO__V1__REFUND_PACKAGE_REQUEST__INIT;
    rq.clinic_id = (char *) clinic;
    rq.package_id = (char *) package;
    rq.reason = "patient moved away";
    return bc_call (fx, "billing.RefundPackage", &rq.base, &meso__v1__refund_package_reply__descriptor, out);
}

/* SetPackagePolicy: validity days and accepted sellers. */
__attribute__ ((unused)) static int
bc_policy (fx_t *fx, const char *clinic, uint32_t days, size_t n, const char *const *accepts)
{
    Meso__V1__PackagePolicy p = MESO__V1__PACKAGE_POLICY__INIT;
    p.clinic_id = (char *) clinic;
    p.validity_days = days;
    p.accepts_packages_of = (char **) accepts;
    p.n_accepts_packages_of = n;
    Meso__V1__SetPackagePolicyRequest rq = MESO__V1__SET_PACKAGE_POLICY_REQUEST__INIT;
    rq.policy = &p;
    return bc_call (fx, "billing.SetPackagePolicy", &rq.base, NULL, NULL);
}

/* RecordRefund by payment (payment set) or by invoice (invoice set). */
__attribute__ ((unused)) static int
bc_refund (fx_t *fx, const char *clinic, const char *payment, const char *invoice, int64_t cents,
           Meso__V1__RecordRefundReply **out)
{
    Meso__V1__RecordRefundRequest rq = MESO__V1__RECORD_REFUND_REQUEST__INIT;
    rq.clinic_id = (char *) clinic;
    rq.payment_id = (char *) (payment ? payment : "");
    rq.invoice_id = (char *) (invoice ? invoice : "");
    rq.amount_cents = cents;
    rq.reason = "goodwill";
    return bc_call (fx, "billing.RecordRefund", &rq.base, &meso__v1__record_refund_reply__descriptor, out);
}

__attribute__ ((unused)) static int
bc_cancel (fx_t *fx, const char *clinic, const char *invoice, Meso__V1__CancelInvoiceReply **out)
{
    Meso__V1__CancelInvoiceRequest rq = MESO__V1__CANCEL_INVOICE_REQUEST__INIT;
    rq.clinic_id = (char *) clinic;
    rq.invoice_id = (char *) invoice;
    rq.reason = "issued in error";
    return bc_call (fx, "billing.CancelInvoice", &rq.base, &meso__v1__cancel_invoice_reply__descriptor, out);
}

__attribute__ ((unused)) static Meso__V1__GetStatementReply *
bc_statement (fx_t *fx, const char *clinic, const char *patient)
{
    Meso__V1__GetStatementRequest rq = MESO__V1__GET_STATEMENT_REQUEST__INIT;
    rq.clinic_id = (char *) clinic;
    rq.patient_id = (char *) patient;
    Meso__V1__GetStatementReply *out = NULL;
    assert_int_equal (bc_call (fx, "billing.GetStatement", &rq.base,
                               &meso__v1__get_statement_reply__descriptor, &out), MESO_OK);
    /* The statement's own figures add up. */
    assert_int_equal (out->amount_due_cents,
                      out->charged_cents - out->credited_cents - out->paid_cents + out->refunded_cents);
    return out;
}

__attribute__ ((unused)) static int64_t
bc_due (fx_t *fx, const char *clinic, const char *patient)
{
    Meso__V1__GetStatementReply *s = bc_statement (fx, clinic, patient);
    int64_t due = s->amount_due_cents;
    bc_free (s);
    return due;
}

/* Events of type in the outbox and log (whatever the relay has done). */
__attribute__ ((unused)) static int64_t
bc_events (fx_t *fx, const char *type)
{
    return fx_sql (fx, "SELECT (SELECT count (*) FROM events.outbox WHERE type = $1)"
                       " + (SELECT count (*) FROM events.log WHERE type = $1)", type);
}

#endif
