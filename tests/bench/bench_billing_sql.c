/* bench_billing_sql.c -- see bench_billing_sql.h. */
#include "bench_billing_sql.h"

#include <stdlib.h>

#include "billing.h"

PGresult *
bench_billing_revenue (meso_db_t *db, const char *clinic, const char *tz, const char *from, const char *to,
                       const char *by)
{
    return store_revenue (db, clinic, tz, from, to, by);
}

PGresult *
bench_billing_liability (meso_db_t *db, const char *clinic)
{
    return store_liability (db, clinic);
}

PGresult *
bench_billing_today (meso_db_t *db, const char *(*zone_of) (int))
{
    PGresult *ids = store_gauge_clinics (db, BILLING_GAUGE_CLINICS);
    if (!ids)
        return NULL;
    int n = PQntuples (ids);
    const char **c = calloc ((size_t) n + 1, sizeof *c), **z = calloc ((size_t) n + 1, sizeof *z);
    for (int i = 0; c && z && i < n; i++) {
        c[i] = PQgetvalue (ids, i, 0);
        z[i] = zone_of (atoi (c[i] + 1));
    }
    PGresult *res = c && z ? store_revenue_today (db, c, z, n) : NULL;
    free (c);
    free (z);
    PQclear (ids);
    return res;
}
