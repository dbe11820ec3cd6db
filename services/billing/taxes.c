/* taxes.c -- a clinic's tax rates: SetTaxRates, the rate each invoice
 * line is taxed at (billing_tax_lines, for every file that invoices), and
 * the sets as GetPriceList shows them.
 *
 * A set of rates (one per category) applies from its date until the next
 * set's, like price lists, and a new set for the same date replaces it
 * whole. One VAT or sales-tax rate is a set of one "standard" rate; a
 * clinic with several categories names them on its invoice lines. A
 * clinic that never set a rate charges no tax. Which rate applies is
 * decided by pricing_tax_rate from the rows this file loads; the tax
 * itself is worked out per line where the invoice is written
 * (invoices.c). Every change emits billing.tax_rates_set. */
#include "billing.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/handler.h"
#include "meso/mtime.h"

/* --------------------------------------------------------- line rates */

int
billing_tax_lines (meso_db_t *db, const char *clinic, int32_t on, billing_line_t *lines, size_t n,
                   size_t *bad)
{
    PGresult *res = store_tax_rates (db, clinic);
    if (!res)
        return -1;
    int nr = PQntuples (res);
    pricing_tax_t *rows = calloc ((size_t) nr + 1, sizeof *rows);
    if (!rows) {
        PQclear (res);
        meso_db_set_error (db, NULL, "out of memory");
        return -1;
    }
    for (int i = 0; i < nr; i++) {
        rows[i].effective_from = (int32_t) store_i64 (res, i, 1);
        rows[i].category = PQgetvalue (res, i, 2);
        rows[i].rate_ppm = (uint32_t) store_i64 (res, i, 3);
    }
    int rc = 0;
    for (size_t i = 0; i < n; i++)
        if (pricing_tax_rate (rows, (size_t) nr, on, lines[i].tax_category, &lines[i].rate_ppm) != 0) {
            *bad = i;
            rc = 1;
            break;
        }
    free (rows);
    PQclear (res);
    return rc;
}

/* ------------------------------------------------------- sets, as read */

void
billing_tax_sets_free (billing_tax_sets_t *v)
{
    PQclear (v->res);
    free (v->sa);
    free (v->sp);
    free (v->ra);
    free (v->rp);
    memset (v, 0, sizeof *v);
    v->in_effect = -1;
}

int
billing_tax_sets_load (meso_db_t *db, const char *clinic, int32_t on, billing_tax_sets_t *v)
{
    memset (v, 0, sizeof *v);
    v->in_effect = -1;
    v->res = store_tax_rates (db, clinic);
    if (!v->res)
        return -1;
    int n = PQntuples (v->res);
    v->sa = calloc ((size_t) n + 1, sizeof *v->sa);
    v->sp = calloc ((size_t) n + 1, sizeof *v->sp);
    v->ra = calloc ((size_t) n + 1, sizeof *v->ra);
    v->rp = calloc ((size_t) n + 1, sizeof *v->rp);
    if (!v->sa || !v->sp || !v->ra || !v->rp) {
        billing_tax_sets_free (v);
        meso_db_set_error (db, NULL, "out of memory");
        return -1;
    }
    /* Rows come by effective_from then category: one set per run of
     * dates; the set in effect is the last one not after on. */
    for (int i = 0; i < n; i++) {
        meso__v1__tax_rate__init (&v->ra[i]);
        v->ra[i].category = PQgetvalue (v->res, i, 2);
        v->ra[i].rate_ppm = (uint32_t) store_i64 (v->res, i, 3);
        v->rp[i] = &v->ra[i];
        if (i == 0 || strcmp (PQgetvalue (v->res, i, 0), PQgetvalue (v->res, i - 1, 0)) != 0) {
            Meso__V1__TaxRates *s = &v->sa[v->n];
            meso__v1__tax_rates__init (s);
            s->clinic_id = (char *) clinic;
            s->effective_from = PQgetvalue (v->res, i, 0);
            s->rates = &v->rp[i];
            v->sp[v->n] = s;
            if (store_i64 (v->res, i, 1) <= on)
                v->in_effect = (int) v->n;
            v->n++;
        }
        v->sa[v->n - 1].n_rates++;
    }
    return 0;
}

/* -------------------------------------------------------- SetTaxRates */

static int
s_set_tax_rates_effect (meso_db_t *db, meso_idem_job_t *job)
{
    const Meso__V1__TaxRates *t = ((const Meso__V1__SetTaxRatesRequest *) job->in)->tax_rates;
    if (store_clinic_lock (db, t->clinic_id) != 0
        || store_tax_rates_clear (db, t->clinic_id, t->effective_from) != 0)
        return -1;
    Meso__V1__TaxRatePoint pa[PRICING_MAX_TAX_RATES], *pp[PRICING_MAX_TAX_RATES];
    for (size_t i = 0; i < t->n_rates; i++) {
        if (store_tax_rate_insert (db, t->clinic_id, t->effective_from, t->rates[i]->category,
                                   t->rates[i]->rate_ppm) != 0)
            return -1;
        meso__v1__tax_rate_point__init (&pa[i]);
        pa[i].category = t->rates[i]->category;
        pa[i].rate_ppm = t->rates[i]->rate_ppm;
        pp[i] = &pa[i];
    }
    Meso__V1__TaxRatesSet ts = MESO__V1__TAX_RATES_SET__INIT;
    ts.effective_from = t->effective_from;
    ts.rates = pp;
    ts.n_rates = t->n_rates;
    Meso__V1__Event ev = MESO__V1__EVENT__INIT;
    ev.payload_case = MESO__V1__EVENT__PAYLOAD_TAX_RATES_SET;
    ev.tax_rates_set = &ts;
    if (billing_emit (db, &ev, "billing.tax_rates_set", t->clinic_id, job->req->actor) != 0)
        return -1;
    Meso__V1__SetTaxRatesReply r = MESO__V1__SET_TAX_RATES_REPLY__INIT;
    r.tax_rates = (Meso__V1__TaxRates *) t;
    meso_reply_ok (job->reply, &r.base);
    return 0;
}

void
billing_set_tax_rates (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__SetTaxRatesRequest *in = body;
    static Meso__V1__TaxRates empty = MESO__V1__TAX_RATES__INIT;
    const Meso__V1__TaxRates *t = in->tax_rates ? in->tax_rates : &empty;
    int bad = 0;
    if (!in->tax_rates) {
        meso_reply_reason (reply, "missing_field", "tax_rates", "tax_rates is required");
        bad++;
    }
    meso_handler_need_clinic (reply, &bad, "tax_rates.clinic_id", t->clinic_id);
    int32_t d;
    if (!t->effective_from || meso_date_parse (t->effective_from, &d) != 0) {
        meso_reply_reason (reply, "invalid_date", "tax_rates.effective_from",
                           "tax_rates.effective_from must be a date YYYY-MM-DD");
        bad++;
    }
    if (t->n_rates == 0 || t->n_rates > PRICING_MAX_TAX_RATES) {
        meso_reply_reason (reply, "out_of_range", "tax_rates.rates",
                           "give 1 to %d rates (no tax: \"standard\" at 0)", PRICING_MAX_TAX_RATES);
        bad++;
    }
    for (size_t i = 0; i < t->n_rates && i < PRICING_MAX_TAX_RATES; i++) {
        char field[64];
        const Meso__V1__TaxRate *r = t->rates[i];
        snprintf (field, sizeof field, "tax_rates.rates[%zu].category", i);
        if (!pricing_tax_category_ok (r->category)) {
            meso_reply_reason (reply, "invalid_tax_category", field,
                               "%s must be 1..%d bytes of a-z, 0-9 and _, starting with a letter",
                               field, PRICING_TAX_CATEGORY_MAX);
            bad++;
        }
        else
            for (size_t k = 0; k < i; k++)
                if (strcmp (t->rates[k]->category, r->category) == 0) {
                    meso_reply_reason (reply, "duplicate", field, "category %s is given twice", r->category);
                    bad++;
                    break;
                }
        snprintf (field, sizeof field, "tax_rates.rates[%zu].rate_ppm", i);
        if (r->rate_ppm > PRICING_MAX_RATE_PPM) {
            meso_reply_reason (reply, "out_of_range", field,
                               "%s must be 0..%d parts per million (200000 = 20%%; got %u)", field,
                               PRICING_MAX_RATE_PPM, r->rate_ppm);
            bad++;
        }
    }
    billing_run (arg, req, reply, bad, "tax_rates.clinic_id", t->clinic_id, in, s_set_tax_rates_effect);
}
