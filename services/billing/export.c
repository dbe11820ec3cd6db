/* export.c -- "billing.ExportPatient": a patient's invoices, payments,
 * refunds, credit notes and packages in every clinic (GDPR article 15;
 * meso/export.h).
 *
 * The ids come from one query over the five tables (store_export.c), and
 * each record is read by the loader its own method answers with
 * (billing_invoice_load, store_payment_get, billing_credit_load,
 * store_package_get), so the export shows exactly what IssueInvoice,
 * RecordPayment, CancelInvoice and GetPackage show. Everything runs in one
 * REPEATABLE READ transaction: totals agree (an invoice's paid and due
 * with the payments listed). The scope is every clinic holding a record:
 * whole or refused. A patient billing never saw has an empty export. */
#include "billing.h"

#include <stdlib.h>
#include <string.h>

#include "meso/export.h"

typedef struct {
    const char *patient;
    meso_reply_t *reply;
    bool refused;
    PGresult *ids, *refunds;
    PGresult **res;                     /* per id: its row(s), NULL for invoices */
    billing_invoice_t *inv;
    Meso__V1__Invoice **invp;
    Meso__V1__Payment *pay, **payp;
    Meso__V1__CreditNote *cn, **cnp;
    Meso__V1__Package *pkg, **pkgp;
    Meso__V1__Refund *rf, **rfp;
    size_t ninv, npay, ncn, npkg, nrf, nres;
} s_export_t;

static void
s_clear (s_export_t *x)
{
    for (size_t i = 0; i < x->ninv; i++)
        billing_invoice_free (&x->inv[i]);
    for (size_t i = 0; i < x->nres; i++)
        if (x->res[i])
            PQclear (x->res[i]);
    if (x->ids)
        PQclear (x->ids);
    if (x->refunds)
        PQclear (x->refunds);
    free (x->res);
    free (x->inv);
    free (x->invp);
    free (x->pay);
    free (x->payp);
    free (x->cn);
    free (x->cnp);
    free (x->pkg);
    free (x->pkgp);
    free (x->rf);
    free (x->rfp);
    const char *patient = x->patient;
    meso_reply_t *reply = x->reply;
    memset (x, 0, sizeof *x);
    x->patient = patient;
    x->reply = reply;
}

/* One record of the ids query, row r, into its array. 0, or -1 (database
 * error, or the record vanished). */
static int
s_record (meso_db_t *db, s_export_t *x, int r)
{
    const char *kind = PQgetvalue (x->ids, r, 0), *clinic = PQgetvalue (x->ids, r, 1),
               *id = PQgetvalue (x->ids, r, 2);
    if (strcmp (kind, "invoice") == 0) {
        if (billing_invoice_load (db, clinic, id, &x->inv[x->ninv]) <= 0)
            return -1;
        x->invp[x->ninv] = &x->inv[x->ninv].msg;
        x->ninv++;
        return 0;
    }
    PGresult *res = NULL;
    if (strcmp (kind, "payment") == 0) {
        res = store_payment_get (db, clinic, id);
        if (res && PQntuples (res) == 1) {
            billing_payment_fill (res, clinic, id, &x->pay[x->npay]);
            x->payp[x->npay] = &x->pay[x->npay];
            x->npay++;
        }
    }
    else if (strcmp (kind, "credit_note") == 0) {
        res = billing_credit_load (db, clinic, id, &x->cn[x->ncn]);
        if (res) {
            x->cnp[x->ncn] = &x->cn[x->ncn];
            x->ncn++;
        }
    }
    else {
        res = store_package_get (db, clinic, id);
        if (res && PQntuples (res) == 1) {
            billing_package_fill (res, 0, clinic, &x->pkg[x->npkg]);
            x->pkgp[x->npkg] = &x->pkg[x->npkg];
            x->npkg++;
        }
    }
    if (!res)
        return -1;
    x->res[x->nres++] = res;
    return 0;
}

static int
s_read (meso_db_t *db, void *arg)
{
    s_export_t *x = arg;
    s_clear (x);
    x->ids = store_export_ids (db, x->patient);
    x->refunds = x->ids ? store_export_refunds (db, x->patient) : NULL;
    if (!x->refunds)
        return -1;
    size_t n = (size_t) PQntuples (x->ids), nr = (size_t) PQntuples (x->refunds);
    for (size_t i = 0; i < n; i++)
        if (meso_export_need_clinic (x->reply, PQgetvalue (x->ids, (int) i, 1)) != 0) {
            x->refused = true;
            return -1;
        }
    for (size_t i = 0; i < nr; i++)
        if (meso_export_need_clinic (x->reply, PQgetvalue (x->refunds, (int) i, 0)) != 0) {
            x->refused = true;
            return -1;
        }
    x->res = calloc (n + 1, sizeof *x->res);
    x->inv = calloc (n + 1, sizeof *x->inv);
    x->invp = calloc (n + 1, sizeof *x->invp);
    x->pay = calloc (n + 1, sizeof *x->pay);
    x->payp = calloc (n + 1, sizeof *x->payp);
    x->cn = calloc (n + 1, sizeof *x->cn);
    x->cnp = calloc (n + 1, sizeof *x->cnp);
    x->pkg = calloc (n + 1, sizeof *x->pkg);
    x->pkgp = calloc (n + 1, sizeof *x->pkgp);
    x->rf = calloc (nr + 1, sizeof *x->rf);
    x->rfp = calloc (nr + 1, sizeof *x->rfp);
    if (!x->res || !x->inv || !x->invp || !x->pay || !x->payp || !x->cn || !x->cnp || !x->pkg
        || !x->pkgp || !x->rf || !x->rfp) {
        meso_reply_error (x->reply, MESO_RESOURCE_EXHAUSTED, "out of memory");
        x->refused = true;
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (s_record (db, x, (int) i) != 0)
            return -1;
    for (size_t i = 0; i < nr; i++) {
        Meso__V1__Refund *f = &x->rf[i];
        meso__v1__refund__init (f);
        f->clinic_id = PQgetvalue (x->refunds, (int) i, 0);
        f->refund_id = PQgetvalue (x->refunds, (int) i, 1);
        f->payment_id = PQgetvalue (x->refunds, (int) i, 2);
        f->patient_id = (char *) x->patient;
        f->amount_cents = store_i64 (x->refunds, (int) i, 3);
        f->currency = PQgetvalue (x->refunds, (int) i, 4);
        f->reason = PQgetvalue (x->refunds, (int) i, 5);
        f->refunded_at_us = store_i64 (x->refunds, (int) i, 6);
        x->rfp[i] = f;
    }
    x->nrf = nr;
    return 0;
}

void
billing_export_patient (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    (void) req;
    billing_t *self = arg;
    Meso__V1__ExportPatientRequest *in = body;
    if (!meso_export_valid_id (reply, in->patient_id))
        return;
    s_export_t x = { .patient = in->patient_id, .reply = reply };
    if (meso_db_txn (self->db, MESO_DB_REPEATABLE_READ, s_read, &x) != 0) {
        if (!x.refused)
            meso_reply_db_error (reply, self->db, "cannot read the patient's billing records");
    }
    else {
        Meso__V1__BillingExportPatientReply out = MESO__V1__BILLING_EXPORT_PATIENT_REPLY__INIT;
        out.n_invoices = x.ninv;
        out.invoices = x.invp;
        out.n_payments = x.npay;
        out.payments = x.payp;
        out.n_refunds = x.nrf;
        out.refunds = x.rfp;
        out.n_credit_notes = x.ncn;
        out.credit_notes = x.cnp;
        out.n_packages = x.npkg;
        out.packages = x.pkgp;
        meso_export_reply (reply, &out.base, "billing", in->patient_id);
    }
    s_clear (&x);
}
