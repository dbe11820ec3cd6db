/* store.c -- the SQL of the billing schema, and only that.
 *
 * Every statement is parameterised. Instants leave as microseconds since
 * the epoch (text), so handlers never parse timestamps. Locks: invoices
 * and payments are append-only and the service role has no UPDATE on them,
 * so they are serialised with pg_advisory_xact_lock on a hash of (what,
 * clinic, id) instead of row locks; callers take the invoice's lock before
 * the payment's. Packages and clinic settings are ordinary rows, locked
 * FOR UPDATE. Packages, tax rates and credit notes are in
 * store_packages.c, the reports' queries in store_reports.c. */
#include "billing.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define US(col) "(extract (epoch FROM " col ") * 1000000)::bigint"

int64_t
store_i64 (const PGresult *res, int r, int c)
{
    if (PQgetisnull (res, r, c))
        return 0;
    return strtoll (PQgetvalue (res, r, c), NULL, 10);
}

static int
s_count (meso_db_t *db, const char *sql, int n, const char *const *p)
{
    PGresult *res = meso_db_query (db, sql, n, p);
    if (!res)
        return -1;
    int v = PQntuples (res) > 0 && store_i64 (res, 0, 0) > 0 ? 1 : 0;
    PQclear (res);
    return v;
}

int
store_lock (meso_db_t *db, const char *what, const char *clinic, const char *id)
{
    const char *p[] = { what, clinic, id };
    return meso_db_exec (db, "SELECT pg_advisory_xact_lock (hashtextextended ("
                             " 'billing:' || $1 || ':' || $2 || ':' || $3, 0))", 3, p);
}

/* ------------------------------------------------------------ patients */

int
store_patient_known (meso_db_t *db, const char *patient)
{
    const char *p[] = { patient };
    return s_count (db, "SELECT count (*) FROM billing.patient WHERE patient_id = $1", 1, p);
}

int
store_patient_see (meso_db_t *db, const char *patient, const char *source)
{
    const char *p[] = { patient, source };
    return meso_db_exec (db, "INSERT INTO billing.patient (patient_id, source) VALUES ($1, $2)"
                             " ON CONFLICT (patient_id) DO NOTHING", 2, p);
}

/* ------------------------------------------------------------- clinics */

int
store_clinic_get (meso_db_t *db, const char *clinic, char *currency, pricing_fees_t *fees)
{
    const char *p[] = { clinic };
    PGresult *res = meso_db_query (db,
        "SELECT currency, no_show_fee_cents, late_cancel_fee_cents FROM billing.clinic_settings"
        " WHERE clinic_id = $1", 1, p);
    if (!res)
        return -1;
    snprintf (currency, 4, "%s", PQntuples (res) ? PQgetvalue (res, 0, 0) : "USD");
    if (fees) {
        fees->no_show_cents = PQntuples (res) ? store_i64 (res, 0, 1) : 0;
        fees->late_cancel_cents = PQntuples (res) ? store_i64 (res, 0, 2) : 0;
    }
    PQclear (res);
    return 0;
}

int
store_clinic_lock (meso_db_t *db, const char *clinic)
{
    const char *p[] = { clinic };
    if (meso_db_exec (db, "INSERT INTO billing.clinic_settings (clinic_id) VALUES ($1)"
                          " ON CONFLICT (clinic_id) DO NOTHING", 1, p) != 0)
        return -1;
    return meso_db_exec (db, "SELECT 1 FROM billing.clinic_settings WHERE clinic_id = $1 FOR UPDATE",
                         1, p);
}

int
store_clinic_set_currency (meso_db_t *db, const char *clinic, const char *currency)
{
    const char *p[] = { clinic, currency };
    return meso_db_exec (db, "UPDATE billing.clinic_settings SET currency = $2, updated_at = now()"
                             " WHERE clinic_id = $1", 2, p);
}

int
store_clinic_set_fees (meso_db_t *db, const char *clinic, const pricing_fees_t *fees)
{
    char a[24], b[24];
    snprintf (a, sizeof a, "%" PRId64, fees->no_show_cents);
    snprintf (b, sizeof b, "%" PRId64, fees->late_cancel_cents);
    const char *p[] = { clinic, a, b };
    return meso_db_exec (db, "UPDATE billing.clinic_settings SET no_show_fee_cents = $2,"
                             " late_cancel_fee_cents = $3, updated_at = now() WHERE clinic_id = $1",
                         3, p);
}

int
store_clinic_has_invoices (meso_db_t *db, const char *clinic)
{
    const char *p[] = { clinic };
    return s_count (db, "SELECT count (*) FROM (SELECT 1 FROM billing.invoice WHERE clinic_id = $1"
                        " LIMIT 1) x", 1, p);
}

/* -------------------------------------------------------------- prices */

PGresult *
store_prices (meso_db_t *db, const char *clinic)
{
    const char *p[] = { clinic };
    return meso_db_query (db,
        "SELECT to_char (effective_from, 'YYYY-MM-DD'), effective_from - date '1970-01-01',"
        " areas, price_cents FROM billing.price WHERE clinic_id = $1"
        " ORDER BY effective_from, areas", 1, p);
}

int
store_price_list_clear (meso_db_t *db, const char *clinic, const char *from)
{
    const char *p[] = { clinic, from };
    return meso_db_exec (db, "DELETE FROM billing.price WHERE clinic_id = $1 AND effective_from = $2",
                         2, p);
}

int
store_price_insert (meso_db_t *db, const char *clinic, const char *from, uint32_t areas,
                    int64_t cents)
{
    char a[16], c[24];
    snprintf (a, sizeof a, "%u", areas);
    snprintf (c, sizeof c, "%" PRId64, cents);
    const char *p[] = { clinic, from, a, c };
    return meso_db_exec (db, "INSERT INTO billing.price (clinic_id, effective_from, areas, price_cents)"
                             " VALUES ($1, $2, $3, $4)", 4, p);
}

/* ------------------------------------------------------------ invoices */

int
store_invoice_insert (meso_db_t *db, const char *clinic, const char *invoice_id,
                      const char *patient, const char *currency, int64_t total, const char *kind,
                      const char *package_id, int64_t tax)
{
    char t[24], x[24];
    snprintf (t, sizeof t, "%" PRId64, total);
    snprintf (x, sizeof x, "%" PRId64, tax);
    const char *p[] = { clinic, invoice_id, patient, currency, t, kind,
                        package_id && *package_id ? package_id : NULL, x };
    return meso_db_exec (db, "INSERT INTO billing.invoice (clinic_id, invoice_id, patient_id, currency,"
                             " total_cents, kind, package_id, tax_cents)"
                             " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)", 8, p);
}

int
store_invoice_line_insert (meso_db_t *db, const char *clinic, const char *invoice_id, int line_no,
                           const char *description, int64_t cents, const char *appointment_id,
                           uint32_t areas, int64_t tax, const char *category, uint32_t rate_ppm)
{
    char n[16], c[24], a[16], x[24], r[16];
    snprintf (n, sizeof n, "%d", line_no);
    snprintf (c, sizeof c, "%" PRId64, cents);
    snprintf (a, sizeof a, "%u", areas);
    snprintf (x, sizeof x, "%" PRId64, tax);
    snprintf (r, sizeof r, "%u", rate_ppm);
    const char *p[] = { clinic, invoice_id, n, description, c,
                        appointment_id && *appointment_id ? appointment_id : NULL, a, x,
                        category && *category ? category : "standard", r };
    return meso_db_exec (db, "INSERT INTO billing.invoice_line (clinic_id, invoice_id, line_no,"
                             " description, amount_cents, appointment_id, areas, tax_cents,"
                             " tax_category, tax_rate_ppm)"
                             " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)", 10, p);
}

PGresult *
store_invoice_get (meso_db_t *db, const char *clinic, const char *invoice_id)
{
    const char *p[] = { clinic, invoice_id };
    return meso_db_query (db,
        "SELECT i.patient_id, i.currency, i.total_cents, i.kind, coalesce (i.package_id, ''),"
        " " US ("i.issued_at") ","
        " coalesce ((SELECT sum (amount_cents) FROM billing.payment p"
        "            WHERE p.clinic_id = i.clinic_id AND p.invoice_id = i.invoice_id), 0)"
        " - coalesce ((SELECT sum (r.amount_cents) FROM billing.refund r JOIN billing.payment p"
        "              USING (clinic_id, payment_id)"
        "              WHERE p.clinic_id = i.clinic_id AND p.invoice_id = i.invoice_id), 0),"
        " i.tax_cents,"
        " coalesce ((SELECT sum (gross_cents) FROM billing.credit_note c"
        "            WHERE c.clinic_id = i.clinic_id AND c.invoice_id = i.invoice_id), 0)"
        " FROM billing.invoice i WHERE i.clinic_id = $1 AND i.invoice_id = $2", 2, p);
}

PGresult *
store_invoice_lines (meso_db_t *db, const char *clinic, const char *invoice_id)
{
    const char *p[] = { clinic, invoice_id };
    return meso_db_query (db,
        "SELECT description, amount_cents, coalesce (appointment_id, ''), areas, tax_cents,"
        " tax_category, tax_rate_ppm FROM billing.invoice_line WHERE clinic_id = $1 AND invoice_id = $2 ORDER BY line_no", 2, p);
}

/* -------------------------------------------------------------- ledger */

int
store_ledger_append (meso_db_t *db, const char *clinic, const char *patient, const char *kind,
                     int64_t amount, const char *currency, const char *invoice_id,
                     const char *payment_id, const char *refund_id, const char *appointment_id,
                     const char *package_id, const char *description, int64_t tax,
                     const char *credit_note_id)
{
    char a[24], x[24];
    snprintf (a, sizeof a, "%" PRId64, amount);
    snprintf (x, sizeof x, "%" PRId64, tax);
#define NN(s) ((s) && *(s) ? (s) : NULL)
    const char *p[] = { clinic, patient, kind, a, currency, NN (invoice_id), NN (payment_id),
                        NN (refund_id), NN (appointment_id), NN (package_id),
                        description ? description : "", x, NN (credit_note_id) };
#undef NN
    return meso_db_exec (db, "INSERT INTO billing.ledger (clinic_id, patient_id, kind, amount_cents,"
                             " currency, invoice_id, payment_id, refund_id, appointment_id, package_id,"
                             " description, tax_cents, credit_note_id)"
                             " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                         13, p);
}

PGresult *
store_ledger_entries (meso_db_t *db, const char *clinic, const char *patient, const char *after,
                      uint32_t limit)
{
    char l[16];
    snprintf (l, sizeof l, "%u", limit);
    const char *p[] = { clinic, patient, after, l };
    /* Keyset on entry_id: migration 029 makes a patient's entries take
     * their ids in commit order, so a later entry never lands before a
     * position a client already holds. */
    return meso_db_query (db,
        "SELECT kind, amount_cents, coalesce (invoice_id, ''), coalesce (payment_id, ''),"
        " coalesce (refund_id, ''), coalesce (appointment_id, ''), coalesce (package_id, ''),"
        " description, " US ("at") ", tax_cents, coalesce (credit_note_id, ''), entry_id"
        " FROM billing.ledger WHERE clinic_id = $1 AND patient_id = $2"
        " AND ($3::bigint IS NULL OR entry_id > $3::bigint)"
        " ORDER BY entry_id LIMIT $4::int", 4, p);
}

PGresult *
store_ledger_sums (meso_db_t *db, const char *clinic, const char *patient)
{
    const char *p[] = { clinic, patient };
    /* The ledger's sums, kept by trigger (migration 043). */
    return meso_db_query (db,
        "SELECT kind, amount_cents, tax_cents FROM billing.account_total"
        " WHERE clinic_id = $1 AND patient_id = $2", 2, p);
}

int
store_balance (meso_db_t *db, const char *clinic, const char *patient, int64_t *due)
{
    const char *p[] = { clinic, patient };
    PGresult *res = meso_db_query (db,
        "SELECT coalesce (sum (amount_cents), 0) FROM billing.account_total"
        " WHERE clinic_id = $1 AND patient_id = $2", 2, p);
    if (!res)
        return -1;
    *due = store_i64 (res, 0, 0);
    PQclear (res);
    return 0;
}

/* ------------------------------------------------------------ payments */

int
store_payment_insert (meso_db_t *db, const char *clinic, const char *payment_id,
                      const char *patient, const char *invoice_id, int64_t amount,
                      const char *currency, const char *method, const char *provider,
                      const char *provider_ref, const char *reference, const char *key)
{
    char a[24];
    snprintf (a, sizeof a, "%" PRId64, amount);
    const char *p[] = { clinic, payment_id, patient, invoice_id && *invoice_id ? invoice_id : NULL,
                        a, currency, method, provider, provider_ref, reference ? reference : "",
                        key };
    return meso_db_exec (db, "INSERT INTO billing.payment (clinic_id, payment_id, patient_id,"
                             " invoice_id, amount_cents, currency, method, provider, provider_ref,"
                             " reference, idempotency_key)"
                             " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)", 11, p);
}

PGresult *
store_payment_get (meso_db_t *db, const char *clinic, const char *payment_id)
{
    const char *p[] = { clinic, payment_id };
    return meso_db_query (db,
        "SELECT patient_id, coalesce (invoice_id, ''), amount_cents, currency, method, provider,"
        " provider_ref, reference, " US ("received_at") ","
        " coalesce ((SELECT sum (amount_cents) FROM billing.refund r"
        "            WHERE r.clinic_id = p.clinic_id AND r.payment_id = p.payment_id), 0)"
        " FROM billing.payment p WHERE clinic_id = $1 AND payment_id = $2", 2, p);
}

/* ------------------------------------------------------------- refunds */

int
store_refund_insert (meso_db_t *db, const char *clinic, const char *refund_id,
                     const char *payment_id, const char *patient, int64_t amount,
                     const char *currency, const char *reason)
{
    char a[24];
    snprintf (a, sizeof a, "%" PRId64, amount);
    const char *p[] = { clinic, refund_id, payment_id, patient, a, currency, reason };
    return meso_db_exec (db, "INSERT INTO billing.refund (clinic_id, refund_id, payment_id,"
                             " patient_id, amount_cents, currency, reason)"
                             " VALUES ($1, $2, $3, $4, $5, $6, $7)", 7, p);
}

/* ----------------------------------------------------- session charges */

int
store_charge_exists (meso_db_t *db, const char *clinic, const char *appointment)
{
    const char *p[] = { clinic, appointment };
    return s_count (db, "SELECT count (*) FROM billing.session_charge"
                        " WHERE clinic_id = $1 AND appointment_id = $2", 2, p);
}

int
store_charge_insert (meso_db_t *db, const char *clinic, const char *appointment,
                     const char *patient, const char *kind, const char *how, uint32_t areas,
                     const char *session_date, const char *pkg_clinic, const char *package_id,
                     const char *invoice_id, int64_t amount, const char *event_id)
{
    char a[16], c[24];
    snprintf (a, sizeof a, "%u", areas);
    snprintf (c, sizeof c, "%" PRId64, amount);
    bool pkg = package_id && *package_id;
    const char *p[] = { clinic, appointment, patient, kind, how, a,
                        session_date && *session_date ? session_date : NULL,
                        pkg ? package_id : NULL,
                        invoice_id && *invoice_id ? invoice_id : NULL, c, event_id ? event_id : "",
                        pkg ? pkg_clinic : NULL };
    return meso_db_exec (db, "INSERT INTO billing.session_charge (clinic_id, appointment_id,"
                             " patient_id, kind, how, areas, session_date, package_id, invoice_id,"
                             " amount_cents, event_id, package_clinic_id)"
                             " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)", 12, p);
}

PGresult *
store_unpriced (meso_db_t *db, const char *clinic, const char *patient)
{
    const char *p[] = { clinic, patient };
    return meso_db_query (db, "SELECT appointment_id FROM billing.session_charge"
                              " WHERE clinic_id = $1 AND patient_id = $2 AND how = 'unpriced'"
                              " ORDER BY charged_at", 2, p);
}
