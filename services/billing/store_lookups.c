/* store_lookups.c -- the SQL of billing's lookups: a page of a clinic's
 * invoices with their sums (paid net of refunds, credited), newest first,
 * keyset-paged by (issued_at, invoice_id) descending; local dates become
 * instants in the clinic's zone (PostgreSQL's AT TIME ZONE). */
#include "billing.h"

#include <stdio.h>

#define US(col) "(extract (epoch FROM " col ") * 1000000)::bigint"

PGresult *
store_invoices_page (meso_db_t *db, const store_invoices_query_t *q)
{
    char lim[16];
    snprintf (lim, sizeof lim, "%d", q->limit);
    const char *p[] = { q->clinic, q->tz,
                        q->patient && *q->patient ? q->patient : NULL,
                        q->from && *q->from ? q->from : NULL,
                        q->to && *q->to ? q->to : NULL,
                        q->state && *q->state ? q->state : "",
                        q->after_us && *q->after_us ? q->after_us : NULL,
                        q->after_id && *q->after_id ? q->after_id : "",
                        lim };
    return meso_db_query (db,
        "SELECT * FROM ("
        " SELECT i.invoice_id, i.patient_id, i.currency, i.total_cents, i.kind,"
        "  coalesce (i.package_id, ''), " US ("i.issued_at") ","
        "  coalesce ((SELECT sum (amount_cents) FROM billing.payment p"
        "             WHERE p.clinic_id = i.clinic_id AND p.invoice_id = i.invoice_id), 0)"
        "  - coalesce ((SELECT sum (r.amount_cents) FROM billing.refund r JOIN billing.payment p"
        "               USING (clinic_id, payment_id)"
        "               WHERE p.clinic_id = i.clinic_id AND p.invoice_id = i.invoice_id), 0) AS paid,"
        "  i.tax_cents,"
        "  coalesce ((SELECT sum (gross_cents) FROM billing.credit_note c"
        "             WHERE c.clinic_id = i.clinic_id AND c.invoice_id = i.invoice_id), 0) AS credited"
        " FROM billing.invoice i"
        " WHERE i.clinic_id = $1"
        "   AND ($3::text IS NULL OR i.patient_id = $3)"
        "   AND ($4::date IS NULL OR i.issued_at >= ($4::date)::timestamp AT TIME ZONE $2)"
        "   AND ($5::date IS NULL OR i.issued_at < ($5::date + 1)::timestamp AT TIME ZONE $2)"
        "   AND ($7::bigint IS NULL OR (i.issued_at, i.invoice_id)"
        "        < ('epoch'::timestamptz + $7::bigint * interval '1 microsecond', $8::text))"
        " ) x"
        " WHERE $6 = '' OR ($6 = 'open') = (total_cents - credited - paid > 0)"
        " ORDER BY 7 DESC, 1 DESC LIMIT $9::int", 9, p);
}
