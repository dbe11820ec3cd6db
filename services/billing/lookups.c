/* lookups.c -- billing's lookups for the front desk: GetInvoice (one
 * invoice with its lines and sums, as billing_invoice_load reads it for
 * every reply that shows an invoice), ListInvoices (a clinic's invoices,
 * newest first, by patient, local date range and open/paid, keyset-paged
 * by issue instant and id: meso/page.h) and GetPayment. Reads: no key,
 * no transaction. */
#include "meso/audit.h"
#include "billing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/handler.h"
#include "meso/mtime.h"
#include "meso/page.h"

#define INVOICES_LIST "billing.ListInvoices"
#define INVOICES_PAGE_DEFAULT 50
#define INVOICES_PAGE_MAX 500

void
billing_get_invoice (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    billing_t *self = arg;
    Meso__V1__GetInvoiceRequest *in = body;
    int bad = 0;
    meso_handler_need_clinic (reply, &bad, "clinic_id", in->clinic_id);
    meso_handler_need_id (reply, &bad, "invoice_id", in->invoice_id);
    if (meso_handler_invalid (reply, bad, req->method)
        || billing_clinic (self, reply, "clinic_id", in->clinic_id) != 0)
        return;
    billing_invoice_t inv;
    int found = billing_invoice_load (self->db, in->clinic_id, in->invoice_id, &inv);
    if (found < 0)
        meso_reply_db_error (reply, self->db, req->method);
    else if (found == 0) {
        meso_reply_error (reply, MESO_NOT_FOUND, "unknown invoice %.64s in clinic %.64s", in->invoice_id,
                          in->clinic_id);
        meso_reply_reason (reply, "not_found", "invoice_id", "no such invoice in this clinic");
    }
    else {
        Meso__V1__GetInvoiceReply out = MESO__V1__GET_INVOICE_REPLY__INIT;
        out.invoice = &inv.msg;
        meso_call_patient (inv.msg.patient_id, in->clinic_id);     /* the audit trail */
        meso_reply_ok (reply, &out.base);
        billing_invoice_free (&inv);
    }
}

void
billing_get_payment (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    billing_t *self = arg;
    Meso__V1__GetPaymentRequest *in = body;
    int bad = 0;
    meso_handler_need_clinic (reply, &bad, "clinic_id", in->clinic_id);
    meso_handler_need_id (reply, &bad, "payment_id", in->payment_id);
    if (meso_handler_invalid (reply, bad, req->method)
        || billing_clinic (self, reply, "clinic_id", in->clinic_id) != 0)
        return;
    PGresult *res = store_payment_get (self->db, in->clinic_id, in->payment_id);
    if (!res) {
        meso_reply_db_error (reply, self->db, req->method);
        return;
    }
    if (PQntuples (res) == 0) {
        meso_reply_error (reply, MESO_NOT_FOUND, "unknown payment %.64s in clinic %.64s", in->payment_id,
                          in->clinic_id);
        meso_reply_reason (reply, "not_found", "payment_id", "no such payment in this clinic");
    }
    else {
        Meso__V1__Payment p = MESO__V1__PAYMENT__INIT;
        p.clinic_id = in->clinic_id;
        p.payment_id = in->payment_id;
        p.patient_id = PQgetvalue (res, 0, PAY_PATIENT);
        p.invoice_id = PQgetvalue (res, 0, PAY_INVOICE);
        p.amount_cents = store_i64 (res, 0, PAY_AMOUNT);
        p.currency = PQgetvalue (res, 0, PAY_CURRENCY);
        p.method = meso_enum_from_db (&meso__v1__payment_method__descriptor,
                                      PQgetvalue (res, 0, PAY_METHOD), "payment method");
        p.provider = PQgetvalue (res, 0, PAY_PROVIDER);
        p.provider_ref = PQgetvalue (res, 0, PAY_PROVIDER_REF);
        p.reference = PQgetvalue (res, 0, PAY_REFERENCE);
        p.received_at_us = store_i64 (res, 0, PAY_RECEIVED_US);
        p.refunded_cents = store_i64 (res, 0, PAY_REFUNDED);
        Meso__V1__GetPaymentReply out = MESO__V1__GET_PAYMENT_REPLY__INIT;
        out.payment = &p;
        meso_call_patient (p.patient_id, in->clinic_id);           /* the audit trail */
        meso_reply_ok (reply, &out.base);
    }
    PQclear (res);
}

void
billing_list_invoices (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    billing_t *self = arg;
    Meso__V1__ListInvoicesRequest *in = body;
    int bad = 0;
    int32_t from = 0, to = 0;
    meso_handler_need_clinic (reply, &bad, "clinic_id", in->clinic_id);
    if (in->patient_id && *in->patient_id)
        meso_handler_need_id (reply, &bad, "patient_id", in->patient_id);
    if (in->from_date && *in->from_date && meso_date_parse (in->from_date, &from) != 0) {
        meso_reply_reason (reply, "invalid_date", "from_date", "from_date must be a date YYYY-MM-DD");
        bad++;
    }
    if (in->to_date && *in->to_date && meso_date_parse (in->to_date, &to) != 0) {
        meso_reply_reason (reply, "invalid_date", "to_date", "to_date must be a date YYYY-MM-DD");
        bad++;
    }
    else if (!bad && in->from_date && *in->from_date && in->to_date && *in->to_date && to < from) {
        meso_reply_reason (reply, "end_before_start", "to_date", "to_date must not be before from_date");
        bad++;
    }
    const char *state = in->state ? in->state : "";
    if (*state && strcmp (state, "open") != 0 && strcmp (state, "paid") != 0) {
        meso_reply_reason (reply, "invalid_state", "state", "state must be \"\", \"open\" or \"paid\"");
        bad++;
    }
    meso_page_pos_t pos;
    if (meso_page_token_decode (INVOICES_LIST, in->page_token, 2, &pos) != 0
        || (pos.n == 2 && strspn (pos.key[0], "-0123456789") != strlen (pos.key[0]))) {
        meso_reply_reason (reply, "invalid_page_token", "page_token",
                           "not a page token of this list: ask again without it");
        bad++;
    }
    if (meso_handler_invalid (reply, bad, req->method)
        || billing_clinic (self, reply, "clinic_id", in->clinic_id) != 0)
        return;
    uint32_t size = meso_page_size (in->page_size, INVOICES_PAGE_DEFAULT, INVOICES_PAGE_MAX);
    store_invoices_query_t q = { in->clinic_id, self->tz, in->patient_id, in->from_date, in->to_date, state,
                                 pos.n ? pos.key[0] : NULL, pos.n ? pos.key[1] : NULL, (int) size + 1 };
    PGresult *res = store_invoices_page (self->db, &q);
    if (!res) {
        meso_reply_db_error (reply, self->db, req->method);
        return;
    }
    size_t n = (size_t) PQntuples (res);
    bool more = n > size;
    if (more)
        n = size;
    Meso__V1__Invoice *iv = calloc (n + 1, sizeof *iv);
    Meso__V1__Invoice **ip = calloc (n + 1, sizeof *ip);
    if (!iv || !ip)
        meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED, "out of memory");
    else {
        for (size_t i = 0; i < n; i++) {
            int r = (int) i;
            Meso__V1__Invoice *m = &iv[i];
            meso__v1__invoice__init (m);
            m->clinic_id = in->clinic_id;
            m->invoice_id = PQgetvalue (res, r, 0);
            m->patient_id = PQgetvalue (res, r, 1);
            m->currency = PQgetvalue (res, r, 2);
            m->total_cents = store_i64 (res, r, 3);
            m->kind = meso_enum_from_db (&meso__v1__invoice_kind__descriptor, PQgetvalue (res, r, 4),
                                         "invoice kind");
            m->package_id = PQgetvalue (res, r, 5);
            m->issued_at_us = store_i64 (res, r, 6);
            m->paid_cents = store_i64 (res, r, 7);
            m->tax_cents = store_i64 (res, r, 8);
            m->net_cents = m->total_cents - m->tax_cents;
            m->credited_cents = store_i64 (res, r, 9);
            m->due_cents = pricing_invoice_due (m->total_cents - m->credited_cents, m->paid_cents);
            ip[i] = m;
        }
        Meso__V1__ListInvoicesReply out = MESO__V1__LIST_INVOICES_REPLY__INIT;
        out.invoices = ip;
        out.n_invoices = n;
        size_t fit = meso_page_fit (&out.base, &out.n_invoices, MESO_PAGE_REPLY_LIMIT);
        /* The audit trail: one row per patient on the page. */
        for (size_t i = 0; i < fit; i++)
            meso_call_patient (ip[i]->patient_id, in->clinic_id);
        if (fit == 0)
            meso_call_patient (NULL, NULL);
        if (fit < n)
            more = true;
        char token[MESO_PAGE_TOKEN_MAX] = "";
        if (more && fit > 0) {
            char us[32];
            snprintf (us, sizeof us, "%lld", (long long) ip[fit - 1]->issued_at_us);
            const char *keys[] = { us, ip[fit - 1]->invoice_id };
            meso_page_token_encode (INVOICES_LIST, keys, 2, token, sizeof token);
        }
        out.next_page_token = token;
        meso_reply_ok (reply, &out.base);
    }
    free (iv);
    free (ip);
    PQclear (res);
}
