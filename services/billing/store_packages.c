/* store_packages.c -- the SQL of packages (their sale, draws, expiry and
 * the clinic's package settings), of tax rates and of credit notes: the
 * parts of the billing schema that 016_billing_taxes_packages.sql added,
 * kept out of store.c so each file stays small.
 *
 * Packages are ordinary rows, locked FOR UPDATE while a session is drawn
 * from one or it is expired or refunded; what a package has recognised is
 * not stored but follows from sessions_used (pricing_package_recognised),
 * and each draw is also an append-only package_use row, at the clinic that
 * performed the session, for the revenue report. */
#include "billing.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define US(col) "(extract (epoch FROM " col ") * 1000000)::bigint"

/* ------------------------------------------------------------ packages */

int
store_package_insert (meso_db_t *db, const char *clinic, const char *package_id,
                      const char *patient, uint32_t sessions, int64_t price,
                      const char *currency, const char *invoice_id, int64_t tax,
                      const char *expires_on, const char *tz)
{
    char s[16], a[24], x[24];
    snprintf (s, sizeof s, "%u", sessions);
    snprintf (a, sizeof a, "%" PRId64, price);
    snprintf (x, sizeof x, "%" PRId64, tax);
    const char *p[] = { clinic, package_id, patient, s, a, currency, invoice_id, x,
                        expires_on && *expires_on ? expires_on : NULL, tz && *tz ? tz : "UTC" };
    return meso_db_exec (db, "INSERT INTO billing.package (clinic_id, package_id, patient_id,"
                             " sessions_total, price_cents, currency, invoice_id, tax_cents,"
                             " expires_on, time_zone)"
                             " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)", 10, p);
}

#define PKG_COLS "p.package_id, p.patient_id, p.sessions_total, p.sessions_used, p.price_cents," \
                 " p.currency, p.invoice_id, " US ("p.sold_at") ","                              \
                 " coalesce (to_char (p.expires_on, 'YYYY-MM-DD'), ''), p.state, p.tax_cents,"   \
                 " p.clinic_id"

PGresult *
store_package_get (meso_db_t *db, const char *clinic, const char *package_id)
{
    const char *p[] = { clinic, package_id };
    return meso_db_query (db, "SELECT " PKG_COLS " FROM billing.package p"
                              " WHERE clinic_id = $1 AND package_id = $2", 2, p);
}

PGresult *
store_package_lock (meso_db_t *db, const char *clinic, const char *package_id)
{
    const char *p[] = { clinic, package_id };
    return meso_db_query (db, "SELECT " PKG_COLS " FROM billing.package p"
                              " WHERE clinic_id = $1 AND package_id = $2 FOR UPDATE", 2, p);
}

PGresult *
store_packages_of (meso_db_t *db, const char *clinic, const char *patient)
{
    const char *p[] = { clinic, patient };
    return meso_db_query (db, "SELECT " PKG_COLS " FROM billing.package p"
                              " WHERE clinic_id = $1 AND patient_id = $2 ORDER BY sold_at, package_id",
                          2, p);
}

PGresult *
store_package_candidates (meso_db_t *db, const char *clinic, const char *patient, const char *date)
{
    (void) date;
    const char *p[] = { clinic, patient };
    return meso_db_query (db, "SELECT " PKG_COLS " FROM billing.package p"
                              " WHERE p.patient_id = $2 AND p.state = 'active'"
                              " AND p.sessions_used < p.sessions_total"
                              " AND (p.clinic_id = $1 OR EXISTS (SELECT 1 FROM billing.package_acceptance a"
                              "      WHERE a.clinic_id = $1 AND a.accepts IN (p.clinic_id, '*')))"
                              " ORDER BY p.clinic_id <> $1, p.sold_at, p.package_id FOR UPDATE OF p",
                          2, p);
}

int
store_package_use (meso_db_t *db, const char *pkg_clinic, const char *package_id, uint32_t use_no,
                   const char *clinic, const char *appointment, const char *patient, int64_t gross,
                   int64_t tax)
{
    char u[16], g[24], x[24];
    snprintf (u, sizeof u, "%u", use_no);
    snprintf (g, sizeof g, "%" PRId64, gross);
    snprintf (x, sizeof x, "%" PRId64, tax);
    const char *p[] = { pkg_clinic, package_id, u, clinic, appointment, patient, g, x };
    if (meso_db_exec (db, "UPDATE billing.package SET sessions_used = sessions_used + 1"
                          " WHERE clinic_id = $1 AND package_id = $2", 2, p) != 0)
        return -1;
    return meso_db_exec (db, "INSERT INTO billing.package_use (package_clinic_id, package_id, use_no,"
                             " clinic_id, appointment_id, patient_id, gross_cents, tax_cents)"
                             " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)", 8, p);
}

int
store_package_close (meso_db_t *db, const char *clinic, const char *package_id, const char *state)
{
    const char *p[] = { clinic, package_id, state };
    return meso_db_exec (db, "UPDATE billing.package SET state = $3, closed_at = now()"
                             " WHERE clinic_id = $1 AND package_id = $2 AND state = 'active'", 3, p);
}

PGresult *
store_packages_due (meso_db_t *db, int limit)
{
    char l[16];
    snprintf (l, sizeof l, "%d", limit);
    const char *p[] = { l };
    return meso_db_query (db, "SELECT clinic_id, package_id FROM billing.package"
                              " WHERE state = 'active' AND expires_on IS NOT NULL"
                              " AND expires_on < (now () AT TIME ZONE time_zone)::date"
                              " ORDER BY expires_on, clinic_id, package_id LIMIT $1", 1, p);
}

PGresult *
store_package_appointments (meso_db_t *db, const char *clinic, const char *package_id,
                            const char *after_us, const char *after_id, uint32_t limit)
{
    char l[16];
    snprintf (l, sizeof l, "%u", limit);
    const char *p[] = { clinic, package_id, after_us, after_id, l };
    return meso_db_query (db, "SELECT appointment_id,"
                              " (extract (epoch FROM charged_at) * 1000000)::bigint"
                              " FROM billing.session_charge"
                              " WHERE package_clinic_id = $1 AND package_id = $2"
                              " AND ($3::bigint IS NULL OR (charged_at, appointment_id)"
                              "      > ('epoch'::timestamptz + $3::bigint * interval '1 microsecond', $4))"
                              " ORDER BY charged_at, appointment_id LIMIT $5::int", 5, p);
}

int
store_package_policy_get (meso_db_t *db, const char *clinic, uint32_t *validity_days)
{
    const char *p[] = { clinic };
    PGresult *res = meso_db_query (db, "SELECT package_validity_days FROM billing.clinic_settings"
                                       " WHERE clinic_id = $1", 1, p);
    if (!res)
        return -1;
    *validity_days = PQntuples (res) ? (uint32_t) store_i64 (res, 0, 0) : 0;
    PQclear (res);
    return 0;
}

PGresult *
store_package_accepts (meso_db_t *db, const char *clinic)
{
    const char *p[] = { clinic };
    return meso_db_query (db, "SELECT accepts FROM billing.package_acceptance WHERE clinic_id = $1"
                              " ORDER BY accepts", 1, p);
}

int
store_package_policy_set (meso_db_t *db, const char *clinic, uint32_t validity_days,
                          char *const *accepts, size_t n)
{
    char d[16];
    snprintf (d, sizeof d, "%u", validity_days);
    const char *p[] = { clinic, d };
    if (meso_db_exec (db, "UPDATE billing.clinic_settings SET package_validity_days = $2,"
                          " updated_at = now () WHERE clinic_id = $1", 2, p) != 0
        || meso_db_exec (db, "DELETE FROM billing.package_acceptance WHERE clinic_id = $1", 1, p) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const char *q[] = { clinic, accepts[i] };
        if (meso_db_exec (db, "INSERT INTO billing.package_acceptance (clinic_id, accepts)"
                              " VALUES ($1, $2) ON CONFLICT DO NOTHING", 2, q) != 0)
            return -1;
    }
    return 0;
}

/* ----------------------------------------------------------- tax rates */

PGresult *
store_tax_rates (meso_db_t *db, const char *clinic)
{
    const char *p[] = { clinic };
    return meso_db_query (db,
        "SELECT to_char (effective_from, 'YYYY-MM-DD'), effective_from - date '1970-01-01',"
        " category, rate_ppm FROM billing.tax_rate WHERE clinic_id = $1"
        " ORDER BY effective_from, category", 1, p);
}

int
store_tax_rates_clear (meso_db_t *db, const char *clinic, const char *from)
{
    const char *p[] = { clinic, from };
    return meso_db_exec (db, "DELETE FROM billing.tax_rate WHERE clinic_id = $1 AND effective_from = $2",
                         2, p);
}

int
store_tax_rate_insert (meso_db_t *db, const char *clinic, const char *from, const char *category,
                       uint32_t rate_ppm)
{
    char r[16];
    snprintf (r, sizeof r, "%u", rate_ppm);
    const char *p[] = { clinic, from, category, r };
    return meso_db_exec (db, "INSERT INTO billing.tax_rate (clinic_id, effective_from, category, rate_ppm)"
                             " VALUES ($1, $2, $3, $4)", 4, p);
}

/* -------------------------------------------------------- credit notes */

int
store_credit_insert (meso_db_t *db, const char *clinic, const char *id, const char *invoice_id,
                     const char *patient, const char *currency, int64_t gross, int64_t tax,
                     const char *kind, const char *reason, const char *package_id)
{
    char g[24], x[24];
    snprintf (g, sizeof g, "%" PRId64, gross);
    snprintf (x, sizeof x, "%" PRId64, tax);
    const char *p[] = { clinic, id, invoice_id, patient, currency, g, x, kind, reason,
                        package_id && *package_id ? package_id : NULL };
    return meso_db_exec (db, "INSERT INTO billing.credit_note (clinic_id, credit_note_id, invoice_id,"
                             " patient_id, currency, gross_cents, tax_cents, kind, reason, package_id)"
                             " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)", 10, p);
}

PGresult *
store_credit_get (meso_db_t *db, const char *clinic, const char *id)
{
    const char *p[] = { clinic, id };
    return meso_db_query (db, "SELECT invoice_id, patient_id, currency, gross_cents, tax_cents, kind,"
                              " reason, coalesce (package_id, ''), " US ("issued_at")
                              " FROM billing.credit_note WHERE clinic_id = $1 AND credit_note_id = $2",
                          2, p);
}

PGresult *
store_invoice_payments (meso_db_t *db, const char *clinic, const char *invoice_id)
{
    const char *p[] = { clinic, invoice_id };
    return meso_db_query (db,
        "SELECT payment_id, amount_cents,"
        " coalesce ((SELECT sum (amount_cents) FROM billing.refund r"
        "            WHERE r.clinic_id = p.clinic_id AND r.payment_id = p.payment_id), 0)"
        " FROM billing.payment p WHERE clinic_id = $1 AND invoice_id = $2"
        " ORDER BY received_at DESC, payment_id DESC", 2, p);
}
