/* reports.c -- the reports billing owns: RevenueReport (revenue
 * recognised, by clinic and local day or month) and LiabilityReport (the
 * unused value of the packages each clinic sold).
 *
 * Both are computed in SQL (store_reports.c, where what counts as revenue
 * is written down) from billing's own tables, one statement per clinic
 * asked, each in the clinic's time zone (from the clinics cache: the zone
 * scheduling gives, UTC when billing runs without scheduling) and
 * currency. Reads only: no idempotency key, no transaction beyond each
 * statement's own snapshot. */
#include "meso/access.h"
#include "billing.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/handler.h"
#include "meso/mtime.h"

#define S_MAX_CLINICS 100
#define S_MAX_DAYS 3660

/* Validates the clinic list; reasons on field clinic_ids[i]. */
static void
s_need_clinics (meso_reply_t *reply, int *bad, char *const *ids, size_t n)
{
    if (n == 0 || n > S_MAX_CLINICS) {
        meso_reply_reason (reply, n ? "out_of_range" : "missing_field", "clinic_ids",
                           "give 1 to %d clinic ids", S_MAX_CLINICS);
        (*bad)++;
    }
    for (size_t i = 0; i < n && i < S_MAX_CLINICS; i++) {
        char field[48];
        snprintf (field, sizeof field, "clinic_ids[%zu]", i);
        meso_handler_need_clinic (reply, bad, field, ids[i]);
    }
}

/* Checks each clinic exists and keeps its zone in tz[i]. 0 or -1 (reply
 * set). */
static int
s_clinic_zones (billing_t *self, meso_reply_t *reply, char *const *ids, size_t n, const char **tz)
{
    for (size_t i = 0; i < n; i++) {
        char field[48];
        snprintf (field, sizeof field, "clinic_ids[%zu]", i);
        /* Each clinic of the report must be in the caller's scope. */
        if (meso_call_need_clinic (reply, ids[i], field) != 0
            || billing_clinic (self, reply, field, ids[i]) != 0)
            return -1;
        tz[i] = self->tz;
    }
    return 0;
}

/* ------------------------------------------------------- RevenueReport */

void
billing_revenue_report (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    billing_t *self = arg;
    Meso__V1__RevenueReportRequest *in = body;
    int bad = 0;
    s_need_clinics (reply, &bad, in->clinic_ids, in->n_clinic_ids);
    int32_t from = 0, to = 0;
    if (!in->from || meso_date_parse (in->from, &from) != 0) {
        meso_reply_reason (reply, "invalid_date", "from", "from must be a date YYYY-MM-DD");
        bad++;
    }
    if (!in->to || meso_date_parse (in->to, &to) != 0) {
        meso_reply_reason (reply, "invalid_date", "to", "to must be a date YYYY-MM-DD");
        bad++;
    }
    else if (from && (to < from || to - from > S_MAX_DAYS)) {
        meso_reply_reason (reply, "out_of_range", "to", "to must be from..from + %d days", S_MAX_DAYS);
        bad++;
    }
    const char *by = in->by && *in->by ? in->by : "day";
    if (strcmp (by, "day") != 0 && strcmp (by, "month") != 0) {
        meso_reply_reason (reply, "invalid_value", "by", "by must be day or month (got \"%.16s\")", by);
        bad++;
    }
    const char *tz[S_MAX_CLINICS];
    if (meso_handler_invalid (reply, bad, req->method)
        || s_clinic_zones (self, reply, in->clinic_ids, in->n_clinic_ids, tz) != 0)
        return;
    size_t nc = in->n_clinic_ids;
    PGresult *res[S_MAX_CLINICS] = { NULL };
    char cur[S_MAX_CLINICS][4];
    size_t total_rows = 0;
    Meso__V1__RevenueRow *ra = NULL, **rp = NULL, *ta = NULL, **tp = NULL;
    char period[32];
    snprintf (period, sizeof period, "%s..%s", in->from, in->to);
    for (size_t c = 0; c < nc; c++) {
        if (store_clinic_get (self->db, in->clinic_ids[c], cur[c], NULL) != 0
            || !(res[c] = store_revenue (self->db, in->clinic_ids[c], tz[c], in->from, in->to, by))) {
            meso_reply_db_error (reply, self->db, req->method);
            goto done;
        }
        total_rows += (size_t) PQntuples (res[c]);
    }
    ra = calloc (total_rows + 1, sizeof *ra);
    rp = calloc (total_rows + 1, sizeof *rp);
    ta = calloc (nc + 1, sizeof *ta);
    tp = calloc (nc + 1, sizeof *tp);
    if (!ra || !rp || !ta || !tp) {
        meso_reply_error (reply, MESO_INTERNAL, "out of memory");
        goto done;
    }
    size_t k = 0;
    for (size_t c = 0; c < nc; c++) {
        Meso__V1__RevenueRow *t = &ta[c];
        meso__v1__revenue_row__init (t);
        t->clinic_id = in->clinic_ids[c];
        t->period = period;
        t->currency = cur[c];
        tp[c] = t;
        for (int i = 0; i < PQntuples (res[c]); i++, k++) {
            Meso__V1__RevenueRow *r = &ra[k];
            meso__v1__revenue_row__init (r);
            r->clinic_id = in->clinic_ids[c];
            r->period = PQgetvalue (res[c], i, 0);
            r->currency = cur[c];
            r->gross_cents = store_i64 (res[c], i, 1);
            r->tax_cents = store_i64 (res[c], i, 2);
            r->net_cents = r->gross_cents - r->tax_cents;
            r->refunds_cents = store_i64 (res[c], i, 3);
            rp[k] = r;
            t->gross_cents += r->gross_cents;
            t->tax_cents += r->tax_cents;
            t->net_cents += r->net_cents;
            t->refunds_cents += r->refunds_cents;
        }
    }
    Meso__V1__RevenueReportReply out = MESO__V1__REVENUE_REPORT_REPLY__INIT;
    out.rows = rp;
    out.n_rows = k;
    out.totals = tp;
    out.n_totals = nc;
    meso_reply_ok (reply, &out.base);
done:
    for (size_t c = 0; c < nc; c++)
        PQclear (res[c]);
    free (ra);
    free (rp);
    free (ta);
    free (tp);
}

/* ----------------------------------------------------- LiabilityReport */

void
billing_liability_report (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    billing_t *self = arg;
    Meso__V1__LiabilityReportRequest *in = body;
    int bad = 0;
    s_need_clinics (reply, &bad, in->clinic_ids, in->n_clinic_ids);
    const char *tz[S_MAX_CLINICS];
    if (meso_handler_invalid (reply, bad, req->method)
        || s_clinic_zones (self, reply, in->clinic_ids, in->n_clinic_ids, tz) != 0)
        return;
    size_t nc = in->n_clinic_ids;
    Meso__V1__LiabilityRow *ra = calloc (nc + 1, sizeof *ra);
    Meso__V1__LiabilityRow **rp = calloc (nc + 1, sizeof *rp);
    char (*cur)[4] = calloc (nc + 1, sizeof *cur);
    if (!ra || !rp || !cur) {
        meso_reply_error (reply, MESO_INTERNAL, "out of memory");
        goto done;
    }
    for (size_t c = 0; c < nc; c++) {
        PGresult *res = NULL;
        if (store_clinic_get (self->db, in->clinic_ids[c], cur[c], NULL) != 0
            || !(res = store_liability (self->db, in->clinic_ids[c]))) {
            meso_reply_db_error (reply, self->db, req->method);
            goto done;
        }
        Meso__V1__LiabilityRow *r = &ra[c];
        meso__v1__liability_row__init (r);
        r->clinic_id = in->clinic_ids[c];
        r->currency = cur[c];
        r->packages = (uint32_t) store_i64 (res, 0, 0);
        r->sessions_left = (uint32_t) store_i64 (res, 0, 1);
        r->liability_cents = store_i64 (res, 0, 2);
        r->tax_cents = store_i64 (res, 0, 3);
        rp[c] = r;
        PQclear (res);
    }
    Meso__V1__LiabilityReportReply out = MESO__V1__LIABILITY_REPORT_REPLY__INIT;
    out.rows = rp;
    out.n_rows = nc;
    meso_reply_ok (reply, &out.base);
done:
    free (ra);
    free (rp);
    free (cur);
}
