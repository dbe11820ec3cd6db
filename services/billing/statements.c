/* statements.c -- a patient's statement at a clinic: GetStatement.
 *
 * The statement reads across every aggregate of a patient (the ledger
 * entries of invoices, payments and refunds, the packages, the sessions
 * recorded unpriced), so it sits above them in a file of its own: in
 * invoices.c, with the ledger it mostly reads, it would call packages.c
 * (for the Package message) while packages.c calls invoices.c (to issue a
 * package's invoice), a circle.
 *
 * Paged: the entries come a page at a time (keyset on entry_id, meso/page.h),
 * while the figures (summed by kind in SQL, combined by pricing.c), the
 * packages and the unpriced appointments are the whole account's, on every
 * page, so the first page alone still says what the patient owes. */
#include "billing.h"

#include <stdlib.h>

#include "meso/handler.h"

/* Entries per page (billing.proto, GetStatementRequest.page_size). */
#define S_PAGE_DEFAULT 500
#define S_PAGE_MAX 2000
#define S_LIST "billing.GetStatement"

void
billing_get_statement (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    billing_t *self = arg;
    Meso__V1__GetStatementRequest *in = body;
    int bad = 0;
    meso_page_pos_t pos;
    meso_handler_need_clinic (reply, &bad, "clinic_id", in->clinic_id);
    meso_handler_need_id (reply, &bad, "patient_id", in->patient_id);
    meso_handler_need_page (reply, &bad, S_LIST, in->page_token, "i", &pos);
    if (meso_handler_invalid (reply, bad, req->method)
        || billing_clinic (self, reply, "clinic_id", in->clinic_id) != 0)
        return;
    uint32_t size = meso_page_size (in->page_size, S_PAGE_DEFAULT, S_PAGE_MAX);
    PGresult *led = NULL, *sum = NULL, *pkgs = NULL, *unp = NULL;
    Meso__V1__StatementEntry *ea = NULL, **ep = NULL;
    Meso__V1__Package *pa = NULL, **pp = NULL;
    char **up = NULL;
    char currency[4];
    char next[MESO_PAGE_TOKEN_MAX] = "";
    if (billing_patient_known (self->db, reply, in->patient_id) != 0) {
        if (meso_reply_status (reply) == MESO_OK)
            meso_reply_db_error (reply, self->db, req->method);
        goto done;
    }
    /* The page first, the sums after: a sum may then count an entry
     * recorded after the page was read, never miss one the page shows. */
    if (store_clinic_get (self->db, in->clinic_id, currency, NULL) != 0
        || !(led = store_ledger_entries (self->db, in->clinic_id, in->patient_id,
                                         pos.n ? pos.key[0] : NULL, size + 1))
        || !(sum = store_ledger_sums (self->db, in->clinic_id, in->patient_id))
        || !(pkgs = store_packages_of (self->db, in->clinic_id, in->patient_id))
        || !(unp = store_unpriced (self->db, in->clinic_id, in->patient_id))) {
        meso_reply_db_error (reply, self->db, req->method);
        goto done;
    }
    int fetched = PQntuples (led), np = PQntuples (pkgs), nu = PQntuples (unp);
    int ne = fetched > (int) size ? (int) size : fetched;
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
    pricing_statement_t sums = { 0, 0, 0, 0, 0 };
    int64_t tax = 0;
    for (int i = 0; i < PQntuples (sum); i++) {
        pricing_statement_add (&sums, PQgetvalue (sum, i, 0), store_i64 (sum, i, 1));
        tax += store_i64 (sum, i, 2);
    }
    for (int i = 0; i < ne; i++) {
        Meso__V1__StatementEntry *e = &ea[i];
        meso__v1__statement_entry__init (e);
        e->kind = meso_enum_from_db (&meso__v1__statement_entry_kind__descriptor, PQgetvalue (led, i, 0),
                                     "ledger entry kind");
        e->amount_cents = store_i64 (led, i, 1);
        e->invoice_id = PQgetvalue (led, i, 2);
        e->payment_id = PQgetvalue (led, i, 3);
        e->refund_id = PQgetvalue (led, i, 4);
        e->appointment_id = PQgetvalue (led, i, 5);
        e->package_id = PQgetvalue (led, i, 6);
        e->description = PQgetvalue (led, i, 7);
        e->at_us = store_i64 (led, i, 8);
        e->tax_cents = store_i64 (led, i, 9);
        e->credit_note_id = PQgetvalue (led, i, 10);
        ep[i] = e;
    }
    out.charged_cents = sums.charged_cents;
    out.paid_cents = sums.paid_cents;
    out.refunded_cents = sums.refunded_cents;
    out.amount_due_cents = sums.due_cents;
    out.credited_cents = sums.credited_cents;
    out.tax_cents = tax;
    for (int i = 0; i < np; i++) {
        billing_package_fill (pkgs, i, in->clinic_id, &pa[i]);
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
    out.next_page_token = next;
    int more = meso_handler_page_fit (reply, &out.base, &out.n_entries, (size_t) fetched, size);
    if (more < 0)
        goto done;
    if (more) {
        const char *k[] = { PQgetvalue (led, (int) out.n_entries - 1, 11) };
        if (meso_handler_page_next (reply, S_LIST, k, 1, next) != 0)
            goto done;
    }
    meso_reply_ok (reply, &out.base);
done:
    free (ea);
    free (ep);
    free (pa);
    free (pp);
    free (up);
    PQclear (led);
    PQclear (sum);
    PQclear (pkgs);
    PQclear (unp);
}
