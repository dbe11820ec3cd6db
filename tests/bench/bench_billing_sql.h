/* bench_billing_sql.h -- billing's report statements for bench_reports.c,
 * through billing's own store functions (services/billing/store_reports.c,
 * compiled into the benchmark). A file of their own because billing.h and
 * the other services' store headers declare store functions of the same
 * names. */
#ifndef BENCH_BILLING_SQL_H
#define BENCH_BILLING_SQL_H
#include <libpq-fe.h>
#include "meso/db.h"

/* store_revenue: clinic in zone tz over local days from..to, by "day" or
 * "month". */
PGresult *bench_billing_revenue (meso_db_t *db, const char *clinic, const char *tz, const char *from,
                                 const char *to, const char *by);
/* store_liability of clinic. */
PGresult *bench_billing_liability (meso_db_t *db, const char *clinic);
/* store_gauge_clinics then store_revenue_today over the clinics of the
 * chain (zones: zone_of (i) for clinic c%03d i): what the gauge's tick
 * runs, less the zone lookups (cached in the daemon). */
PGresult *bench_billing_today (meso_db_t *db, const char *(*zone_of) (int));
#endif
