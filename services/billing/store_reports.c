/* store_reports.c -- the SQL of billing's reports, and only that.
 *
 * Each report is one statement per clinic over billing's own tables, with
 * the clinic's local days worked out by PostgreSQL (AT TIME ZONE), never
 * in C. What counts as revenue is written once, here, as the union below
 * (README "Reports" says the same in words):
 *   + invoices issued, except a package's (that money is prepaid
 *     liability until the sessions are performed),
 *   - credit notes of cancellation,
 *   + each session drawn from a package, at the clinic that performed it,
 *   + what an expired package left unused (its price less what its uses
 *     recognised), at the clinic that sold it, when it expired;
 * and beside it, not deducted, the money refunded in the period. A
 * package refund's credit note is not revenue either: it takes back
 * liability, not revenue.
 *
 * The gauge of today (gauges.c) counts something else: what the patients
 * were charged, every invoice issued (sessions, fees, package sales,
 * manual), gross, with nothing deducted. */
#include "billing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What used sessions of a package recognised of col (price_cents or
 * tax_cents): pricing_package_recognised, in SQL. */
#define RECOGNISED(col) \
    "(CASE WHEN sessions_used >= sessions_total THEN " col \
    " ELSE (" col " / sessions_total) * sessions_used END)"

/* at within local days $3..$4 in zone $2. */
#define IN_RANGE(col) \
    " " col " >= ($3::date)::timestamp AT TIME ZONE $2" \
    " AND " col " < ($4::date + 1)::timestamp AT TIME ZONE $2"

PGresult *
store_revenue (meso_db_t *db, const char *clinic, const char *tz, const char *from, const char *to,
               const char *by)
{
    const char *p[] = { clinic, tz, from, to, by };
    return meso_db_query (db,
        "WITH r (at, gross, tax, refunds) AS ("
        "  SELECT issued_at, total_cents, tax_cents, 0::bigint FROM billing.invoice"
        "   WHERE clinic_id = $1 AND kind <> 'package' AND" IN_RANGE ("issued_at")
        "  UNION ALL SELECT issued_at, -gross_cents, -tax_cents, 0 FROM billing.credit_note"
        "   WHERE clinic_id = $1 AND kind = 'cancellation' AND" IN_RANGE ("issued_at")
        "  UNION ALL SELECT used_at, gross_cents, tax_cents, 0 FROM billing.package_use"
        "   WHERE clinic_id = $1 AND" IN_RANGE ("used_at")
        "  UNION ALL SELECT closed_at, price_cents - " RECOGNISED ("price_cents") ","
        "   tax_cents - " RECOGNISED ("tax_cents") ", 0 FROM billing.package"
        "   WHERE clinic_id = $1 AND state = 'expired' AND" IN_RANGE ("closed_at")
        "  UNION ALL SELECT refunded_at, 0, 0, amount_cents FROM billing.refund"
        "   WHERE clinic_id = $1 AND" IN_RANGE ("refunded_at")
        ")"
        " SELECT to_char (at AT TIME ZONE $2, CASE WHEN $5 = 'month' THEN 'YYYY-MM' ELSE 'YYYY-MM-DD' END),"
        " sum (gross), sum (tax), sum (refunds) FROM r GROUP BY 1 ORDER BY 1", 5, p);
}

PGresult *
store_liability (meso_db_t *db, const char *clinic)
{
    const char *p[] = { clinic };
    return meso_db_query (db,
        "SELECT count (*) FILTER (WHERE sessions_used < sessions_total),"
        " coalesce (sum (sessions_total - sessions_used), 0),"
        " coalesce (sum (price_cents - " RECOGNISED ("price_cents") "), 0),"
        " coalesce (sum (tax_cents - " RECOGNISED ("tax_cents") "), 0)"
        " FROM billing.package WHERE clinic_id = $1 AND state = 'active'", 1, p);
}

PGresult *
store_gauge_clinics (meso_db_t *db, int limit)
{
    char l[16];
    snprintf (l, sizeof l, "%d", limit);
    const char *p[] = { l };
    return meso_db_query (db, "SELECT clinic_id FROM billing.clinic_settings ORDER BY clinic_id LIMIT $1::int",
                          1, p);
}

/* v[0..n) as a PostgreSQL text[] literal, every element quoted (malloc'd;
 * NULL when out of memory). */
static char *
s_text_array (const char *const *v, int n)
{
    size_t cap = 3;
    for (int i = 0; i < n; i++)
        cap += 2 * strlen (v[i]) + 3;
    char *out = malloc (cap), *o = out;
    if (!out)
        return NULL;
    *o++ = '{';
    for (int i = 0; i < n; i++) {
        if (i > 0)
            *o++ = ',';
        *o++ = '"';
        for (const char *c = v[i]; *c; c++) {
            if (*c == '"' || *c == '\\')
                *o++ = '\\';
            *o++ = *c;
        }
        *o++ = '"';
    }
    *o++ = '}';
    *o = '\0';
    return out;
}

PGresult *
store_revenue_today (meso_db_t *db, const char *const *clinics, const char *const *zones, int n)
{
    char *ids = s_text_array (clinics, n), *tzs = s_text_array (zones, n);
    PGresult *res = NULL;
    if (ids && tzs) {
        const char *p[] = { ids, tzs };
        /* The bounds of each clinic's local today, then its invoices on
         * the index (clinic_id, issued_at), clinic by clinic (LATERAL):
         * as a join, the bounds that differ by clinic were a join filter
         * and the plan a scan of every invoice (4 s on 2.2 million). */
        res = meso_db_query (db,
            "SELECT c.clinic_id, x.total"
            " FROM (SELECT DISTINCT clinic_id, tz FROM unnest ($1::text[], $2::text[]) AS u (clinic_id, tz)) c"
            " CROSS JOIN LATERAL (SELECT coalesce (sum (i.total_cents), 0)::bigint AS total"
            "  FROM billing.invoice i WHERE i.clinic_id = c.clinic_id"
            "  AND i.issued_at >= (now () AT TIME ZONE c.tz)::date::timestamp AT TIME ZONE c.tz"
            "  AND i.issued_at < ((now () AT TIME ZONE c.tz)::date + 1)::timestamp AT TIME ZONE c.tz) x"
            " ORDER BY c.clinic_id", 2, p);
    }
    free (ids);
    free (tzs);
    return res;
}
