/* store_export.c -- the SQL of billing.ExportPatient: which records of the
 * billing schema name a patient, in every clinic (the records themselves
 * are read with the loaders the other methods use). */
#include "billing.h"

#define US(col) "(extract (epoch FROM " col ") * 1000000)::bigint"

PGresult *
store_export_ids (meso_db_t *db, const char *patient)
{
    const char *p[] = { patient };
    return meso_db_query (db,
        "SELECT kind, clinic_id, id FROM ("
        "  SELECT 1 AS k, 'invoice' AS kind, clinic_id, invoice_id AS id, issued_at AS at"
        "   FROM billing.invoice WHERE patient_id = $1"
        "  UNION ALL SELECT 2, 'payment', clinic_id, payment_id, received_at"
        "   FROM billing.payment WHERE patient_id = $1"
        "  UNION ALL SELECT 3, 'credit_note', clinic_id, credit_note_id, issued_at"
        "   FROM billing.credit_note WHERE patient_id = $1"
        "  UNION ALL SELECT 4, 'package', clinic_id, package_id, sold_at"
        "   FROM billing.package WHERE patient_id = $1) x"
        " ORDER BY k, at, clinic_id, id", 1, p);
}

PGresult *
store_export_refunds (meso_db_t *db, const char *patient)
{
    const char *p[] = { patient };
    return meso_db_query (db,
        "SELECT clinic_id, refund_id, payment_id, amount_cents, currency, reason, " US ("refunded_at")
        " FROM billing.refund WHERE patient_id = $1 ORDER BY refunded_at, clinic_id, refund_id", 1, p);
}
