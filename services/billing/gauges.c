/* gauges.c -- the per-clinic figure of today billing publishes as a
 * Prometheus gauge, beside scheduling's two (bookings and completed
 * sessions today):
 *
 *   meso_clinic_revenue_today_cents{clinic}
 *     what the clinic's patients were charged in the clinic's local
 *     today: every invoice issued (sessions, no-show and late-cancel
 *     fees, package sales, manual invoices), gross (tax included), in the
 *     clinic's billing currency, with nothing deducted (no payments,
 *     refunds or credit notes). A session drawn from a package counts
 *     when the package is sold, not when it is used.
 *
 * main.c's tick calls billing_gauges (every --gauges-ms), not each
 * scrape. Billing does not own the clinics' time zones: each clinic with
 * billing settings is asked of the clinics cache (scheduling.GetClinic on
 * a miss, kept for the life of the daemon), then one grouped statement
 * (store_revenue_today) sums every clinic's today on the invoices' index.
 * When scheduling does not answer, the clinics not yet known wait for the
 * next tick (one lookup deadline per tick at most). */
#include "billing.h"

#include <stdlib.h>

#include "meso/log.h"
#include "meso/metrics.h"

int
billing_gauges (billing_t *self)
{
    PGresult *ids = store_gauge_clinics (self->db, BILLING_GAUGE_CLINICS);
    if (!ids) {
        meso_warn ("revenue gauge not refreshed: %s", meso_db_error (self->db)->message);
        return -1;
    }
    int n = PQntuples (ids), k = 0;
    const char **clinics = calloc ((size_t) n + 1, sizeof *clinics);
    const char **zones = calloc ((size_t) n + 1, sizeof *zones);
    meso_reply_t *reply = meso_reply_new ();
    if (!clinics || !zones || !reply) {
        meso_warn ("revenue gauge not refreshed: out of memory");
        free (clinics);
        free (zones);
        meso_reply_destroy (&reply);
        PQclear (ids);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        const char *clinic = PQgetvalue (ids, i, 0), *tz = NULL;
        meso_reply_reset (reply);
        if (meso_clinics_check (self->clinics, clinic, "clinic_id", reply, &tz) == 0) {
            clinics[k] = clinic;
            zones[k++] = tz && *tz ? tz : "UTC";
        }
        else if (meso_reply_status (reply) == MESO_UNAVAILABLE)
            break;                      /* the rest at the next tick */
    }
    meso_reply_destroy (&reply);
    int rc = k;
    PGresult *res = k > 0 ? store_revenue_today (self->db, clinics, zones, k) : NULL;
    if (k > 0 && !res) {
        meso_warn ("revenue gauge not refreshed: %s", meso_db_error (self->db)->message);
        rc = -1;
    }
    for (int i = 0; res && i < PQntuples (res); i++)
        meso_metrics_set ("meso_clinic_revenue_today_cents",
                          "What the clinic's patients were charged in its local today: invoices issued "
                          "(sessions, fees, package sales, manual), gross with tax, in the clinic's "
                          "currency, cents; nothing deducted (payments, refunds, credit notes).",
                          "clinic", PQgetvalue (res, i, 0), (double) store_i64 (res, i, 1));
    PQclear (res);
    PQclear (ids);
    free (clinics);
    free (zones);
    return rc;
}
