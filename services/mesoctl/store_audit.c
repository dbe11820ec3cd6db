/* store_audit.c -- the SQL of "mesoctl audit" (see store_audit.h).
 *
 * Run as the migration role (--db), like "mesoctl access": the audit
 * schema grants the daemons' roles nothing but audit.append, so reading
 * the trail, checking it and pruning it are an operator's acts, outside
 * any daemon. A bus method would need a daemon allowed to read every
 * clinic's trail, which is exactly the reach the trail is meant to watch.
 *
 * The rows are read raw (the hash as hex, the time as microseconds since
 * the epoch, everything else as stored): verify recomputes every hash
 * itself (common/src/audit_chain.c). */
#include <stdio.h>
#include <stdlib.h>

#include "store_audit.h"

PGresult *
mesoctl_store_audit_chains (meso_db_t *db, const char *clinic)
{
    const char *params[] = { clinic };
    return meso_db_query (db,
        "WITH c AS (SELECT clinic_id FROM audit.head UNION SELECT clinic_id FROM audit.anchor"
        "           UNION SELECT DISTINCT clinic_id FROM audit.entry)"
        " SELECT c.clinic_id, a.seq, encode (a.hash, 'hex'), h.seq, encode (h.hash, 'hex')"
        "   FROM c LEFT JOIN audit.anchor a USING (clinic_id) LEFT JOIN audit.head h USING (clinic_id)"
        "  WHERE $1::text IS NULL OR c.clinic_id = $1 ORDER BY c.clinic_id", 1, params);
}

PGresult *
mesoctl_store_audit_rows (meso_db_t *db, const char *clinic, long long after, int limit)
{
    char a[24], l[16];
    snprintf (a, sizeof a, "%lld", after);
    snprintf (l, sizeof l, "%d", limit);
    const char *params[] = { clinic, a, l };
    return meso_db_query (db,
        "SELECT clinic_id, seq, (extract (epoch FROM at) * 1000000)::bigint, principal,"
        " principal_key, method, patient_id, request_id, status, access, on_behalf_of,"
        " encode (hash, 'hex')"
        " FROM audit.entry WHERE clinic_id = $1 AND seq > $2::bigint ORDER BY seq LIMIT $3::integer",
        3, params);
}

PGresult *
mesoctl_store_audit_patient (meso_db_t *db, const char *patient, int limit)
{
    char l[16];
    snprintf (l, sizeof l, "%d", limit);
    const char *params[] = { patient, l };
    return meso_db_query (db,
        "SELECT to_char (at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), clinic_id, seq,"
        " principal, on_behalf_of, method, access, status, request_id"
        " FROM audit.entry WHERE patient_id = $1 ORDER BY at, clinic_id, seq LIMIT $2::integer",
        2, params);
}

int
mesoctl_store_audit_prune (meso_db_t *db, const char *before, long long *deleted)
{
    const char *params[] = { before };
    PGresult *r = meso_db_query (db, "SELECT audit.prune ($1::timestamptz)", 1, params);
    if (!r)
        return -1;
    *deleted = atoll (PQgetvalue (r, 0, 0));
    PQclear (r);
    return 0;
}
