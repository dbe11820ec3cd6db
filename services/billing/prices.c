/* prices.c -- a clinic's price lists and fee policy: SetPriceList,
 * GetPriceList, SetFeePolicy; and the price of a session, which invoices.c
 * (a line asking for the list price) and charges.c (a performed session)
 * look up through here.
 *
 * A price list is a set of entries (price per number of areas) in effect
 * from a date until the next list's date; a new list for the same date
 * replaces it whole. Which list and which entry apply is decided by
 * pricing.c from the rows this file loads, so the rule lives in one place.
 * The fee policy shares the clinic_settings row with the clinic's currency,
 * which SetPriceList may set while the clinic has no invoice yet. Tax
 * rates, which GetPriceList shows beside the prices, are in taxes.c; the
 * package settings it shows are set in packages.c. Every change emits its
 * event (billing.price_list_set, billing.fee_policy_set). */
#include "billing.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/handler.h"
#include "meso/mtime.h"

/* -------------------------------------------------- price of a session */

int
billing_price_rows (meso_db_t *db, const char *clinic, pricing_entry_t **rows, size_t *n)
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

int
billing_session_price (meso_db_t *db, const char *clinic, int32_t on, uint32_t areas, int64_t *price)
{
    pricing_entry_t *rows = NULL;
    size_t n = 0;
    if (billing_price_rows (db, clinic, &rows, &n) != 0)
        return -1;
    int rc = pricing_pick (rows, n, on, areas, price, NULL);
    free (rows);
    return rc == 0 ? 1 : 0;
}

/* --------------------------------------------------------- price lists */

typedef struct {
    const Meso__V1__PriceList *list;
} s_price_in_t;

static int
s_set_price_list_effect (meso_db_t *db, meso_idem_job_t *job)
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
    Meso__V1__PricePoint pa[PRICING_MAX_AREAS], *pp[PRICING_MAX_AREAS];
    size_t np = pl->n_prices < PRICING_MAX_AREAS ? pl->n_prices : PRICING_MAX_AREAS;
    for (size_t i = 0; i < np; i++) {
        meso__v1__price_point__init (&pa[i]);
        pa[i].areas = pl->prices[i]->areas;
        pa[i].price_cents = pl->prices[i]->price_cents;
        pp[i] = &pa[i];
    }
    Meso__V1__PriceListSet ps = MESO__V1__PRICE_LIST_SET__INIT;
    ps.effective_from = pl->effective_from;
    ps.currency = currency;
    ps.prices = pp;
    ps.n_prices = np;
    Meso__V1__Event ev = MESO__V1__EVENT__INIT;
    ev.payload_case = MESO__V1__EVENT__PAYLOAD_PRICE_LIST_SET;
    ev.price_list_set = &ps;
    if (billing_emit (db, &ev, "billing.price_list_set", pl->clinic_id, job->req->actor) != 0)
        return -1;
    Meso__V1__PriceList out = *pl;
    out.currency = currency;
    Meso__V1__SetPriceListReply r = MESO__V1__SET_PRICE_LIST_REPLY__INIT;
    r.price_list = &out;
    meso_reply_ok (job->reply, &r.base);
    return 0;
}

/* Adds a reason for each bad entry of pl->prices. */
static void
s_need_prices (meso_reply_t *reply, int *bad, const Meso__V1__PriceList *pl)
{
    if (pl->n_prices == 0 || pl->n_prices > PRICING_MAX_AREAS) {
        meso_reply_reason (reply, "out_of_range", "price_list.prices",
                           "give 1 to %d prices (one per number of areas)", PRICING_MAX_AREAS);
        (*bad)++;
    }
    bool seen[PRICING_MAX_AREAS + 1] = { false };
    for (size_t i = 0; i < pl->n_prices && i < PRICING_MAX_AREAS; i++) {
        const Meso__V1__PriceEntry *e = pl->prices[i];
        char field[64];
        snprintf (field, sizeof field, "price_list.prices[%zu].areas", i);
        if (e->areas < 1 || e->areas > PRICING_MAX_AREAS) {
            meso_reply_reason (reply, "out_of_range", field, "%s must be 1..%d (got %u)",
                               field, PRICING_MAX_AREAS, e->areas);
            (*bad)++;
        }
        else if (seen[e->areas]) {
            meso_reply_reason (reply, "duplicate", field, "%u areas is priced twice", e->areas);
            (*bad)++;
        }
        else
            seen[e->areas] = true;
        snprintf (field, sizeof field, "price_list.prices[%zu].price_cents", i);
        if (!pricing_price_ok (e->price_cents)) {
            meso_reply_reason (reply, "price_out_of_range", field,
                               "a session costs %d to %d cents ($300 to $500); got %" PRId64,
                               PRICING_MIN_CENTS, PRICING_MAX_CENTS, e->price_cents);
            (*bad)++;
        }
    }
}

void
billing_set_price_list (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__SetPriceListRequest *in = body;
    int bad = 0;
    const Meso__V1__PriceList *pl = in->price_list;
    if (!pl) {
        meso_reply_reason (reply, "missing_field", "price_list", "price_list is required");
        bad++;
    }
    else {
        meso_handler_need_clinic (reply, &bad, "price_list.clinic_id", pl->clinic_id);
        billing_need_currency (reply, &bad, "price_list.currency", pl->currency);
        int32_t d;
        if (!pl->effective_from || meso_date_parse (pl->effective_from, &d) != 0) {
            meso_reply_reason (reply, "invalid_date", "price_list.effective_from",
                               "price_list.effective_from must be a date YYYY-MM-DD");
            bad++;
        }
        s_need_prices (reply, &bad, pl);
    }
    s_price_in_t job_in = { pl };
    billing_run (arg, req, reply, bad, "price_list.clinic_id", pl ? pl->clinic_id : NULL, &job_in,
                 s_set_price_list_effect);
}

void
billing_get_price_list (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    billing_t *self = arg;
    Meso__V1__GetPriceListRequest *in = body;
    int bad = 0;
    meso_page_pos_t pos;
    meso_handler_need_clinic (reply, &bad, "clinic_id", in->clinic_id);
    meso_handler_need_page (reply, &bad, "billing.GetPriceList", in->page_token, "d", &pos);
    int32_t on = billing_today ();
    if (in->on_date && *in->on_date && meso_date_parse (in->on_date, &on) != 0) {
        meso_reply_reason (reply, "invalid_date", "on_date", "on_date must be a date YYYY-MM-DD");
        bad++;
    }
    if (meso_handler_invalid (reply, bad, req->method)
        || billing_clinic (self, reply, "clinic_id", in->clinic_id) != 0)
        return;
    char currency[4];
    pricing_fees_t fees;
    PGresult *res = NULL, *acc = NULL;
    uint32_t validity = 0;
    billing_tax_sets_t taxes;
    memset (&taxes, 0, sizeof taxes);
    char **accepts = NULL;
    if (store_clinic_get (self->db, in->clinic_id, currency, &fees) != 0
        || store_package_policy_get (self->db, in->clinic_id, &validity) != 0
        || !(acc = store_package_accepts (self->db, in->clinic_id))
        || billing_tax_sets_load (self->db, in->clinic_id, on, &taxes) != 0
        || !(res = store_prices (self->db, in->clinic_id))) {
        meso_reply_db_error (reply, self->db, req->method);
        goto done;
    }
    int n = PQntuples (res), na = PQntuples (acc);
    accepts = calloc ((size_t) na + 1, sizeof *accepts);
    pricing_entry_t *rows = calloc ((size_t) n + 1, sizeof *rows);
    Meso__V1__PriceEntry *ea = calloc ((size_t) n + 1, sizeof *ea);
    Meso__V1__PriceEntry **ep = calloc ((size_t) n + 1, sizeof *ep);
    Meso__V1__PriceList *la = calloc ((size_t) n + 1, sizeof *la);
    Meso__V1__PriceList **lp = calloc ((size_t) n + 1, sizeof *lp);
    if (!rows || !ea || !ep || !la || !lp || !accepts) {
        meso_reply_error (reply, MESO_INTERNAL, "out of memory");
        free (rows);
        free (ea);
        free (ep);
        free (la);
        free (lp);
        goto done;
    }
    for (int i = 0; i < n; i++) {
        rows[i].effective_from = (int32_t) store_i64 (res, i, 1);
        rows[i].areas = (uint32_t) store_i64 (res, i, 2);
        rows[i].price_cents = store_i64 (res, i, 3);
    }
    int32_t from;
    bool any = pricing_list_in_effect (rows, (size_t) n, on, &from) == 0;
    /* Rows come by effective_from then areas: one list per run of dates. */
    size_t nl = 0;
    int in_effect = -1;
    for (int i = 0; i < n; i++) {
        meso__v1__price_entry__init (&ea[i]);
        ea[i].areas = rows[i].areas;
        ea[i].price_cents = rows[i].price_cents;
        ep[i] = &ea[i];
        if (i == 0 || strcmp (PQgetvalue (res, i, 0), PQgetvalue (res, i - 1, 0)) != 0) {
            Meso__V1__PriceList *l = &la[nl];
            meso__v1__price_list__init (l);
            l->clinic_id = in->clinic_id;
            l->effective_from = PQgetvalue (res, i, 0);
            l->currency = currency;
            l->prices = &ep[i];
            lp[nl] = l;
            if (any && rows[i].effective_from == from)
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
    /* Keyset on effective_from over the lists read: every list is read
     * anyway to find the one in effect, and a clinic has few. */
    size_t first = 0;
    while (pos.n && first < nl && strcmp (lp[first]->effective_from, pos.key[0]) <= 0)
        first++;
    uint32_t size = meso_page_size (in->page_size, 100, 1000);
    size_t left = nl - first;
    out.n_all = left > size ? size : left;
    out.all = lp + first;
    char next[MESO_PAGE_TOKEN_MAX] = "";
    out.next_page_token = next;
    out.fee_policy = &fp;
    out.currency = currency;
    out.tax_rates = taxes.sp;
    out.n_tax_rates = taxes.n;
    out.tax_in_effect = taxes.in_effect >= 0 ? taxes.sp[taxes.in_effect] : NULL;
    for (int i = 0; i < na; i++)
        accepts[i] = PQgetvalue (acc, i, 0);
    Meso__V1__PackagePolicy pp = MESO__V1__PACKAGE_POLICY__INIT;
    pp.clinic_id = in->clinic_id;
    pp.validity_days = validity;
    pp.accepts_packages_of = accepts;
    pp.n_accepts_packages_of = (size_t) na;
    out.package_policy = &pp;
    int more = meso_handler_page_fit (reply, &out.base, &out.n_all, left, size);
    const char *k[] = { more > 0 ? out.all[out.n_all - 1]->effective_from : "" };
    if (more == 0 || (more > 0 && meso_handler_page_next (reply, "billing.GetPriceList", k, 1, next) == 0))
        meso_reply_ok (reply, &out.base);
    free (rows);
    free (ea);
    free (ep);
    free (la);
    free (lp);
done:
    free (accepts);
    billing_tax_sets_free (&taxes);
    PQclear (res);
    PQclear (acc);
}

/* ---------------------------------------------------------- fee policy */

static int
s_set_fee_policy_effect (meso_db_t *db, meso_idem_job_t *job)
{
    const Meso__V1__FeePolicy *p = job->in;
    pricing_fees_t fees = { p->no_show_fee_cents, p->late_cancel_fee_cents };
    if (store_clinic_lock (db, p->clinic_id) != 0 || store_clinic_set_fees (db, p->clinic_id, &fees) != 0)
        return -1;
    Meso__V1__FeePolicySet fs = MESO__V1__FEE_POLICY_SET__INIT;
    fs.no_show_fee_cents = p->no_show_fee_cents;
    fs.late_cancel_fee_cents = p->late_cancel_fee_cents;
    Meso__V1__Event ev = MESO__V1__EVENT__INIT;
    ev.payload_case = MESO__V1__EVENT__PAYLOAD_FEE_POLICY_SET;
    ev.fee_policy_set = &fs;
    if (billing_emit (db, &ev, "billing.fee_policy_set", p->clinic_id, job->req->actor) != 0)
        return -1;
    Meso__V1__SetFeePolicyReply r = MESO__V1__SET_FEE_POLICY_REPLY__INIT;
    r.policy = (Meso__V1__FeePolicy *) p;
    meso_reply_ok (job->reply, &r.base);
    return 0;
}

void
billing_set_fee_policy (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__SetFeePolicyRequest *in = body;
    int bad = 0;
    if (!in->policy) {
        meso_reply_reason (reply, "missing_field", "policy", "policy is required");
        bad++;
    }
    else {
        meso_handler_need_clinic (reply, &bad, "policy.clinic_id", in->policy->clinic_id);
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
    billing_run (arg, req, reply, bad, "policy.clinic_id", in->policy ? in->policy->clinic_id : NULL,
                 in->policy, s_set_fee_policy_effect);
}
