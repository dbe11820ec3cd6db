/* packages.c -- packages of prepaid sessions: SellPackage, GetPackage,
 * and the Package message every reply that shows one is built from.
 *
 * Selling a package issues its invoice (invoices.c) in the same
 * transaction, so a package always has the invoice that charged it; the
 * package's price is checked against the per-session range by pricing.c
 * before anything runs. Drawing a session from a package is not here: it
 * happens when a session is performed, in charges.c, which owns every
 * effect of session events. */
#include "billing.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "meso/handler.h"
#include "meso/uuid.h"

/* ------------------------------------------------------------- message */

void
billing_package_fill (const PGresult *res, int r, const char *clinic, Meso__V1__Package *p)
{
    meso__v1__package__init (p);
    p->clinic_id = (char *) clinic;
    p->package_id = PQgetvalue (res, r, PKG_ID);
    p->patient_id = PQgetvalue (res, r, PKG_PATIENT);
    p->sessions_total = (uint32_t) store_i64 (res, r, PKG_TOTAL);
    p->sessions_used = (uint32_t) store_i64 (res, r, PKG_USED);
    p->sessions_left = p->sessions_total - p->sessions_used;
    p->price_cents = store_i64 (res, r, PKG_PRICE);
    p->per_session_cents = pricing_per_session (p->price_cents, p->sessions_total);
    p->currency = PQgetvalue (res, r, PKG_CURRENCY);
    p->invoice_id = PQgetvalue (res, r, PKG_INVOICE);
    p->sold_at_us = store_i64 (res, r, PKG_SOLD_US);
}

/* --------------------------------------------------------- SellPackage */

static int
s_sell_package_effect (meso_db_t *db, meso_idem_job_t *job)
{
    const Meso__V1__SellPackageRequest *in = job->in;
    if (billing_patient_known (db, job->reply, in->patient_id) != 0)
        return -1;
    char currency[4];
    if (store_clinic_get (db, in->clinic_id, currency, NULL) != 0)
        return -1;
    if (billing_currency_match (job->reply, "currency", in->currency, currency, "the clinic") != 0)
        return -1;
    char package_id[MESO_UUID_LEN + 1], invoice_id[MESO_UUID_LEN + 1], desc[64];
    if (meso_uuid_v4 (package_id) != 0) {
        meso_db_set_error (db, NULL, "no randomness for a package id");
        return -1;
    }
    snprintf (desc, sizeof desc, "Package of %u sessions", in->sessions);
    billing_line_t line = { desc, in->price_cents, NULL, 0 };
    if (billing_invoice_issue (db, in->clinic_id, in->patient_id, currency, "package", package_id,
                               &line, 1, job->req->actor, invoice_id) != 0)
        return -1;
    if (store_package_insert (db, in->clinic_id, package_id, in->patient_id, in->sessions,
                              in->price_cents, currency, invoice_id) != 0)
        return -1;
    PGresult *pres = store_package_get (db, in->clinic_id, package_id);
    if (!pres)
        return -1;
    billing_invoice_t inv;
    if (billing_invoice_load (db, in->clinic_id, invoice_id, &inv) <= 0) {
        PQclear (pres);
        return -1;
    }
    Meso__V1__Package pkg;
    billing_package_fill (pres, 0, in->clinic_id, &pkg);
    Meso__V1__SellPackageReply r = MESO__V1__SELL_PACKAGE_REPLY__INIT;
    r.package = &pkg;
    r.invoice = &inv.msg;
    meso_reply_ok (job->reply, &r.base);
    billing_invoice_free (&inv);
    PQclear (pres);
    return 0;
}

void
billing_sell_package (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__SellPackageRequest *in = body;
    int bad = 0;
    meso_handler_need_clinic (reply, &bad, "clinic_id", in->clinic_id);
    meso_handler_need_id (reply, &bad, "patient_id", in->patient_id);
    billing_need_currency (reply, &bad, "currency", in->currency);
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
    billing_run (arg, req, reply, bad, "clinic_id", in->clinic_id, in, s_sell_package_effect);
}

/* ---------------------------------------------------------- GetPackage */

void
billing_get_package (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    billing_t *self = arg;
    Meso__V1__GetPackageRequest *in = body;
    int bad = 0;
    meso_handler_need_clinic (reply, &bad, "clinic_id", in->clinic_id);
    meso_handler_need_id (reply, &bad, "package_id", in->package_id);
    if (meso_handler_invalid (reply, bad, req->method)
        || billing_clinic (self, reply, "clinic_id", in->clinic_id) != 0)
        return;
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
            billing_package_fill (pres, 0, in->clinic_id, &pkg);
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
