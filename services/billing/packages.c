/* packages.c -- packages of prepaid sessions: SellPackage, GetPackage,
 * RefundPackage, SetPackagePolicy, the expiry of packages, and the
 * Package message every reply that shows one is built from.
 *
 * Selling a package issues its invoice (invoices.c) in the same
 * transaction, so a package always has the invoice that charged it; the
 * package's price is checked against the per-session range by pricing.c
 * before anything runs, and the tax it includes is the selling clinic's
 * standard rate on the day of sale. That money is prepaid liability: each
 * session drawn (charges.c, which owns every effect of session events)
 * recognises price / sessions rounded down and the last one the leftover
 * cents (pricing_package_share), so no cent is lost to rounding.
 *
 * A package ends in one of two ways besides being used up. Its last day
 * passes with sessions left (expired: what was left is recognised, no
 * money back; the daemon's timer and any session after that day expire
 * it), or its unused sessions are refunded (refunded: the unused value is
 * credited on its invoice and the share of it that was paid is given back
 * against the invoice's payments, newest first, by refunds.c). Packages
 * may be used at any clinic of the chain that accepts the seller's (the
 * accepting clinic's SetPackagePolicy); they stay the seller's, and so
 * does their liability. */
#include "billing.h"

#include "meso/audit.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/handler.h"
#include "meso/mtime.h"
#include "meso/uuid.h"

/* ------------------------------------------------------------- message */

void
billing_package_fill (const PGresult *res, int r, const char *clinic, Meso__V1__Package *p)
{
    meso__v1__package__init (p);
    p->clinic_id = clinic ? (char *) clinic : PQgetvalue (res, r, PKG_CLINIC);
    p->package_id = PQgetvalue (res, r, PKG_ID);
    p->patient_id = PQgetvalue (res, r, PKG_PATIENT);
    p->sessions_total = (uint32_t) store_i64 (res, r, PKG_TOTAL);
    p->sessions_used = (uint32_t) store_i64 (res, r, PKG_USED);
    p->price_cents = store_i64 (res, r, PKG_PRICE);
    p->per_session_cents = pricing_per_session (p->price_cents, p->sessions_total);
    p->currency = PQgetvalue (res, r, PKG_CURRENCY);
    p->invoice_id = PQgetvalue (res, r, PKG_INVOICE);
    p->sold_at_us = store_i64 (res, r, PKG_SOLD_US);
    p->expiry_date = PQgetvalue (res, r, PKG_EXPIRES);
    p->state = meso_enum_from_db (&meso__v1__package_state__descriptor, PQgetvalue (res, r, PKG_STATE),
                                  "package state");
    p->tax_cents = store_i64 (res, r, PKG_TAX);
    p->recognised_cents = pricing_package_recognised (p->price_cents, p->sessions_total, p->sessions_used);
    bool active = p->state == MESO__V1__PACKAGE_STATE__PACKAGE_STATE_ACTIVE;
    p->sessions_left = active ? p->sessions_total - p->sessions_used : 0;
    p->unused_value_cents = active ? p->price_cents - p->recognised_cents : 0;
}

/* ------------------------------------------------------------- expiry */

int
billing_package_expire (meso_db_t *db, const PGresult *res, int r, const char *clinic)
{
    Meso__V1__Package p;
    billing_package_fill (res, r, clinic, &p);
    if (p.state != MESO__V1__PACKAGE_STATE__PACKAGE_STATE_ACTIVE)
        return 0;
    int64_t gross = p.price_cents - p.recognised_cents;
    int64_t tax = p.tax_cents - pricing_package_recognised (p.tax_cents, p.sessions_total, p.sessions_used);
    if (store_package_close (db, p.clinic_id, p.package_id, "expired") != 0)
        return -1;
    Meso__V1__PackageExpired pe = MESO__V1__PACKAGE_EXPIRED__INIT;
    pe.package_id = p.package_id;
    pe.patient_id = p.patient_id;
    pe.expiry_date = p.expiry_date;
    pe.sessions_left = p.sessions_left;
    pe.unused_gross_cents = gross;
    pe.unused_tax_cents = tax;
    pe.unused_net_cents = gross - tax;
    pe.currency = p.currency;
    Meso__V1__Event ev = MESO__V1__EVENT__INIT;
    ev.payload_case = MESO__V1__EVENT__PAYLOAD_PACKAGE_EXPIRED;
    ev.package_expired = &pe;
    return billing_emit (db, &ev, "billing.package_expired", p.clinic_id, NULL);
}

static int
s_expire_due_txn (meso_db_t *db, void *arg)
{
    int *count = arg;
    *count = 0;
    PGresult *due = store_packages_due (db, 200);
    if (!due)
        return -1;
    int rc = 0;
    for (int i = 0; i < PQntuples (due) && rc == 0; i++) {
        const char *clinic = PQgetvalue (due, i, 0);
        PGresult *pkg = store_package_lock (db, clinic, PQgetvalue (due, i, 1));
        if (!pkg)
            rc = -1;
        else if (PQntuples (pkg) == 1 && strcmp (PQgetvalue (pkg, 0, PKG_STATE), "active") == 0) {
            rc = billing_package_expire (db, pkg, 0, clinic);
            if (rc == 0)
                (*count)++;
        }
        PQclear (pkg);
    }
    PQclear (due);
    return rc;
}

int
billing_packages_expire_due (meso_db_t *db, int *count)
{
    *count = 0;
    return meso_db_txn (db, MESO_DB_READ_COMMITTED, s_expire_due_txn, count);
}

/* --------------------------------------------------------- SellPackage */

static int
s_sell_package_effect (meso_db_t *db, meso_idem_job_t *job)
{
    const Meso__V1__SellPackageRequest *in = job->in;
    billing_t *self = job->arg;
    if (billing_patient_known (db, job->reply, in->patient_id) != 0)
        return -1;
    char currency[4];
    if (store_clinic_get (db, in->clinic_id, currency, NULL) != 0)
        return -1;
    if (billing_currency_match (job->reply, "currency", in->currency, currency, "the clinic") != 0)
        return -1;
    uint32_t validity = 0;
    if (store_package_policy_get (db, in->clinic_id, &validity) != 0)
        return -1;
    char expires[11] = "";
    int32_t today = billing_today ();
    if (in->expiry_date && *in->expiry_date)
        snprintf (expires, sizeof expires, "%s", in->expiry_date);
    else if (validity > 0)
        meso_date_format (today + (int32_t) validity, expires, sizeof expires);
    char package_id[MESO_UUID_LEN + 1], invoice_id[MESO_UUID_LEN + 1], desc[64];
    if (meso_uuid_v4 (package_id) != 0) {
        meso_db_set_error (db, NULL, "no randomness for a package id");
        return -1;
    }
    snprintf (desc, sizeof desc, "Package of %u sessions", in->sessions);
    billing_line_t line = { desc, in->price_cents, NULL, 0, PRICING_TAX_STANDARD, 0 };
    size_t badl;
    int64_t tax = 0;
    if (billing_tax_lines (db, in->clinic_id, today, &line, 1, &badl) < 0
        || billing_invoice_issue (db, in->clinic_id, in->patient_id, currency, "package", package_id,
                                  &line, 1, job->req->actor, invoice_id, &tax) != 0)
        return -1;
    if (store_package_insert (db, in->clinic_id, package_id, in->patient_id, in->sessions,
                              in->price_cents, currency, invoice_id, tax, expires,
                              self && self->tz ? self->tz : "UTC") != 0)
        return -1;
    Meso__V1__PackageSold ps = MESO__V1__PACKAGE_SOLD__INIT;
    ps.package_id = package_id;
    ps.patient_id = in->patient_id;
    ps.invoice_id = invoice_id;
    ps.sessions = in->sessions;
    ps.price_cents = in->price_cents;
    ps.tax_cents = tax;
    ps.currency = currency;
    ps.expiry_date = expires;
    Meso__V1__Event ev = MESO__V1__EVENT__INIT;
    ev.payload_case = MESO__V1__EVENT__PAYLOAD_PACKAGE_SOLD;
    ev.package_sold = &ps;
    if (billing_emit (db, &ev, "billing.package_sold", in->clinic_id, job->req->actor) != 0)
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
    int32_t d;
    if (in->expiry_date && *in->expiry_date) {
        /* A day of slack: a clinic east of UTC is already a day ahead. */
        if (meso_date_parse (in->expiry_date, &d) != 0) {
            meso_reply_reason (reply, "invalid_date", "expiry_date", "expiry_date must be a date YYYY-MM-DD");
            bad++;
        }
        else if (d < billing_today () - 1) {
            meso_reply_reason (reply, "in_the_past", "expiry_date",
                               "expiry_date must not be before today (\"\" for the clinic's default)");
            bad++;
        }
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
    meso_page_pos_t pos;
    meso_handler_need_clinic (reply, &bad, "clinic_id", in->clinic_id);
    meso_handler_need_id (reply, &bad, "package_id", in->package_id);
    meso_handler_need_page (reply, &bad, "billing.GetPackage", in->page_token, "is", &pos);
    if (meso_handler_invalid (reply, bad, req->method)
        || billing_clinic (self, reply, "clinic_id", in->clinic_id) != 0)
        return;
    uint32_t size = meso_page_size (in->page_size, 100, 1000);
    PGresult *pres = store_package_get (self->db, in->clinic_id, in->package_id);
    PGresult *ares = pres ? store_package_appointments (self->db, in->clinic_id, in->package_id,
                                                        pos.n ? pos.key[0] : NULL,
                                                        pos.n ? pos.key[1] : NULL, size + 1)
                          : NULL;
    if (!pres || !ares)
        meso_reply_db_error (reply, self->db, req->method);
    else if (PQntuples (pres) == 0)
        meso_reply_error (reply, MESO_NOT_FOUND, "unknown package %.64s in clinic %.64s",
                          in->package_id, in->clinic_id);
    else {
        int fetched = PQntuples (ares);
        int n = fetched > (int) size ? (int) size : fetched;
        char **ids = calloc ((size_t) n + 1, sizeof *ids);
        if (!ids)
            meso_reply_error (reply, MESO_INTERNAL, "out of memory");
        else {
            for (int i = 0; i < n; i++)
                ids[i] = PQgetvalue (ares, i, 0);
            Meso__V1__Package pkg;
            billing_package_fill (pres, 0, in->clinic_id, &pkg);
            meso_call_patient (pkg.patient_id, in->clinic_id);
            Meso__V1__GetPackageReply out = MESO__V1__GET_PACKAGE_REPLY__INIT;
            char next[MESO_PAGE_TOKEN_MAX] = "";
            out.package = &pkg;
            out.n_appointment_ids = (size_t) n;
            out.appointment_ids = ids;
            out.next_page_token = next;
            int more = meso_handler_page_fit (reply, &out.base, &out.n_appointment_ids,
                                              (size_t) fetched, size);
            int last = (int) out.n_appointment_ids - 1;
            const char *k[] = { more > 0 ? PQgetvalue (ares, last, 1) : "",
                                more > 0 ? PQgetvalue (ares, last, 0) : "" };
            if (more == 0 || (more > 0 && meso_handler_page_next (reply, "billing.GetPackage", k, 2, next) == 0))
                meso_reply_ok (reply, &out.base);
            free (ids);
        }
    }
    PQclear (pres);
    PQclear (ares);
}

/* ------------------------------------------------------- RefundPackage */

static int
s_refund_package_effect (meso_db_t *db, meso_idem_job_t *job)
{
    const Meso__V1__RefundPackageRequest *in = job->in;
    meso_reply_t *reply = job->reply;
    /* The package's row lock, then its invoice's (charges.c takes a
     * package's lock and issues only new invoices). */
    PGresult *pres = store_package_lock (db, in->clinic_id, in->package_id);
    if (!pres)
        return -1;
    int rc = -1;
    billing_invoice_t inv;
    memset (&inv, 0, sizeof inv);
    PGresult *cres = NULL;
    billing_refunds_t *rs = calloc (1, sizeof *rs);
    Meso__V1__Refund *ra = calloc (BILLING_MAX_LINES, sizeof *ra);
    Meso__V1__Refund *rp[BILLING_MAX_LINES];
    if (!rs || !ra) {
        meso_db_set_error (db, NULL, "out of memory");
        goto done;
    }
    if (PQntuples (pres) == 0) {
        meso_reply_error (reply, MESO_NOT_FOUND, "unknown package %.64s in clinic %.64s",
                          in->package_id, in->clinic_id);
        meso_reply_reason (reply, "unknown_package", "package_id", "a package is refunded by the clinic that sold it");
        goto done;
    }
    meso_call_patient (PQgetvalue (pres, 0, PKG_PATIENT), in->clinic_id);
    Meso__V1__Package p;
    billing_package_fill (pres, 0, in->clinic_id, &p);
    if (p.state != MESO__V1__PACKAGE_STATE__PACKAGE_STATE_ACTIVE || p.sessions_left == 0) {
        char state[MESO_ENUM_TEXT_MAX];
        meso_reply_error (reply, MESO_FAILED_PRECONDITION, "package %.64s has no unused session to refund (%s, %u of %u used)",
                          in->package_id,
                          meso_enum_text (&meso__v1__package_state__descriptor, (int) p.state, state, sizeof state)
                              ? state : "unknown state",
                          p.sessions_used, p.sessions_total);
        meso_reply_reason (reply, "nothing_unused", "package_id",
                           "only an active package with sessions left can be refunded");
        goto done;
    }
    if (store_lock (db, "invoice", in->clinic_id, p.invoice_id) != 0
        || billing_invoice_load (db, in->clinic_id, p.invoice_id, &inv) <= 0)
        goto done;
    int64_t unused = p.unused_value_cents;
    int64_t unused_tax = p.tax_cents - pricing_package_recognised (p.tax_cents, p.sessions_total, p.sessions_used);
    int64_t back = pricing_package_refund (p.price_cents, unused, inv.msg.paid_cents);
    char cn_id[MESO_UUID_LEN + 1];
    if (billing_credit_issue (db, in->clinic_id, p.invoice_id, p.patient_id, p.currency, unused, unused_tax,
                              "package_refund", in->reason, in->package_id, job->req->actor, cn_id) != 0)
        goto done;
    if (back > 0) {
        int s = billing_refund_spread (db, in->clinic_id, p.invoice_id, back, in->reason, job->req->actor, rs);
        if (s != 0) {
            if (s > 0)
                meso_db_set_error (db, NULL, "package refund exceeds what its invoice's payments hold");
            goto done;
        }
    }
    uint32_t left = p.sessions_left;
    if (store_package_close (db, in->clinic_id, in->package_id, "refunded") != 0)
        goto done;
    Meso__V1__PackageRefunded pr = MESO__V1__PACKAGE_REFUNDED__INIT;
    pr.package_id = in->package_id;
    pr.patient_id = p.patient_id;
    pr.sessions_refunded = left;
    pr.unused_gross_cents = unused;
    pr.refunded_cents = back;
    pr.credit_note_id = cn_id;
    pr.currency = p.currency;
    Meso__V1__Event ev = MESO__V1__EVENT__INIT;
    ev.payload_case = MESO__V1__EVENT__PAYLOAD_PACKAGE_REFUNDED;
    ev.package_refunded = &pr;
    if (billing_emit (db, &ev, "billing.package_refunded", in->clinic_id, job->req->actor) != 0)
        goto done;
    PQclear (pres);
    pres = store_package_get (db, in->clinic_id, in->package_id);
    Meso__V1__CreditNote cn;
    if (!pres || !(cres = billing_credit_load (db, in->clinic_id, cn_id, &cn)))
        goto done;
    billing_package_fill (pres, 0, in->clinic_id, &p);
    for (size_t i = 0; i < rs->n; i++) {
        billing_refund_fill (rs, i, in->clinic_id, p.patient_id, p.currency, in->reason, &ra[i]);
        rp[i] = &ra[i];
    }
    Meso__V1__RefundPackageReply r = MESO__V1__REFUND_PACKAGE_REPLY__INIT;
    r.package = &p;
    r.credit_note = &cn;
    r.refunds = rp;
    r.n_refunds = rs->n;
    r.refunded_cents = back;
    meso_reply_ok (reply, &r.base);
    rc = 0;
done:
    billing_invoice_free (&inv);
    PQclear (pres);
    PQclear (cres);
    free (rs);
    free (ra);
    return rc;
}

void
billing_refund_package (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__RefundPackageRequest *in = body;
    int bad = 0;
    meso_handler_need_clinic (reply, &bad, "clinic_id", in->clinic_id);
    meso_handler_need_id (reply, &bad, "package_id", in->package_id);
    size_t rl = in->reason ? strlen (in->reason) : 0;
    if (rl == 0 || rl > BILLING_REASON_MAX) {
        meso_reply_reason (reply, rl ? "out_of_range" : "missing_field", "reason",
                           "a refund needs a reason of 1 to %d bytes", BILLING_REASON_MAX);
        bad++;
    }
    billing_run (arg, req, reply, bad, "clinic_id", in->clinic_id, in, s_refund_package_effect);
}

/* ---------------------------------------------------- SetPackagePolicy */

#define S_MAX_ACCEPTS 100
#define S_MAX_VALIDITY_DAYS 3660

static int
s_set_package_policy_effect (meso_db_t *db, meso_idem_job_t *job)
{
    const Meso__V1__PackagePolicy *pp = ((const Meso__V1__SetPackagePolicyRequest *) job->in)->policy;
    if (store_clinic_lock (db, pp->clinic_id) != 0
        || store_package_policy_set (db, pp->clinic_id, pp->validity_days, pp->accepts_packages_of,
                                     pp->n_accepts_packages_of) != 0)
        return -1;
    Meso__V1__PackagePolicySet ps = MESO__V1__PACKAGE_POLICY_SET__INIT;
    ps.validity_days = pp->validity_days;
    ps.accepts_packages_of = pp->accepts_packages_of;
    ps.n_accepts_packages_of = pp->n_accepts_packages_of;
    Meso__V1__Event ev = MESO__V1__EVENT__INIT;
    ev.payload_case = MESO__V1__EVENT__PAYLOAD_PACKAGE_POLICY_SET;
    ev.package_policy_set = &ps;
    if (billing_emit (db, &ev, "billing.package_policy_set", pp->clinic_id, job->req->actor) != 0)
        return -1;
    Meso__V1__SetPackagePolicyReply r = MESO__V1__SET_PACKAGE_POLICY_REPLY__INIT;
    r.policy = (Meso__V1__PackagePolicy *) pp;
    meso_reply_ok (job->reply, &r.base);
    return 0;
}

void
billing_set_package_policy (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__SetPackagePolicyRequest *in = body;
    static Meso__V1__PackagePolicy empty = MESO__V1__PACKAGE_POLICY__INIT;
    const Meso__V1__PackagePolicy *pp = in->policy ? in->policy : &empty;
    int bad = 0;
    if (!in->policy) {
        meso_reply_reason (reply, "missing_field", "policy", "policy is required");
        bad++;
    }
    meso_handler_need_clinic (reply, &bad, "policy.clinic_id", pp->clinic_id);
    if (pp->validity_days > S_MAX_VALIDITY_DAYS) {
        meso_reply_reason (reply, "out_of_range", "policy.validity_days",
                           "policy.validity_days must be 0..%d (got %u)", S_MAX_VALIDITY_DAYS, pp->validity_days);
        bad++;
    }
    if (pp->n_accepts_packages_of > S_MAX_ACCEPTS) {
        meso_reply_reason (reply, "out_of_range", "policy.accepts_packages_of",
                           "at most %d clinics", S_MAX_ACCEPTS);
        bad++;
    }
    for (size_t i = 0; i < pp->n_accepts_packages_of && i < S_MAX_ACCEPTS; i++) {
        char field[64];
        snprintf (field, sizeof field, "policy.accepts_packages_of[%zu]", i);
        if (strcmp (pp->accepts_packages_of[i], "*") != 0)
            meso_handler_need_clinic (reply, &bad, field, pp->accepts_packages_of[i]);
    }
    billing_run (arg, req, reply, bad, "policy.clinic_id", pp->clinic_id, in, s_set_package_policy_effect);
}
