/* bus_health.c -- the Health method every bus server answers by itself.
 *
 * Four sources, in this order: the server (version, uptime), the database
 * handle (pinged: db_ok, db_error), the service's own hook (lag, state,
 * notes) and the checks registered in meso/health.h (event consumers that
 * cannot advance). The last ones come after the hook so that a service
 * cannot report "ok" over them: "degraded" from a check always stands.
 *
 * Strings the hook puts in the HealthReply must stay valid after it
 * returns (static, or owned by its arg); the reply is packed here, before
 * anything on this stack goes away. */
#include <stdio.h>

#include "meso/bus.h"
#include "meso/db.h"
#include "meso/health.h"
#include "meso/version.h"
#include "bus_private.h"

#define NOTES_MAX 16            /* notes of the hook plus the checks' */

void
meso_bus_health (const char *service, int64_t started_ms, struct meso_db_t *db,
                 const char *pool, meso_health_fn *fn, void *arg, meso_reply_t *reply)
{
    Meso__V1__HealthReply health = MESO__V1__HEALTH_REPLY__INIT;
    health.service = (char *) service;
    health.version = (char *) MESO_VERSION;
    health.uptime_s = (uint64_t) ((zclock_mono () - started_ms) / 1000);
    health.state = MESO__V1__HEALTH_STATE__HEALTH_STATE_OK;
    char db_error [600] = "";
    if (db) {
        if (meso_db_ping (db) == 0)
            health.db_ok = true;
        else {
            const meso_db_error_t *err = meso_db_error (db);
            snprintf (db_error, sizeof db_error, "%s%s%s",
                      err && err->sqlstate [0] ? err->sqlstate : "",
                      err && err->sqlstate [0] ? ": " : "",
                      err && err->message [0] ? err->message : "database unreachable");
            health.db_error = db_error;
            health.state = MESO__V1__HEALTH_STATE__HEALTH_STATE_DEGRADED;
        }
    }
    else {
        static char *notes [] = { (char *) "db=none" };
        health.n_notes = 1;
        health.notes = notes;
    }
    if (fn)
        fn (&health, arg);

    char checked [NOTES_MAX][MESO_HEALTH_NOTE_MAX];
    char *all [NOTES_MAX];
    bool degraded = false;
    size_t own = health.n_notes < NOTES_MAX - 1 ? health.n_notes : NOTES_MAX - 1;
    int n = meso_health_collect (checked, NOTES_MAX - 1 - (int) own, &degraded);
    if (n > 0 || pool) {
        size_t k = 0;
        if (pool)
            all [k++] = (char *) pool;
        for (size_t i = 0; i < own; i++)
            all [k++] = health.notes [i];
        for (int i = 0; i < n; i++)
            all [k++] = checked [i];
        health.notes = all;
        health.n_notes = k;
    }
    if (degraded)
        health.state = MESO__V1__HEALTH_STATE__HEALTH_STATE_DEGRADED;
    meso_reply_ok (reply, &health.base);
}
