/* clinics.h -- "does this clinic exist, and in which time zone?", for the
 * services that do not own the list of clinics (screening, inventory,
 * billing).
 *
 * Scheduling owns the clinics; the others never read its tables but ask
 * scheduling.GetClinic over the bus, on a miss, with a short deadline, and
 * keep the positive answers (with the time zone) for the life of the
 * daemon: clinics are never deleted. A negative answer is never kept, so
 * a clinic created a moment later is accepted at once.
 *
 * One request at a time: a daemon serves one request at a time and so
 * does scheduling. A method that scheduling itself calls while it waits
 * (inventory's Reserve, Release, Redate, Consume, GetRecipe, screening's
 * Check) must never ask scheduling back, or both would wait until the
 * deadline: such methods check the id's syntax only and may record the
 * clinic as known (meso_clinics_learn), scheduling being the authority.
 *
 * Every lookup sent (a cache miss) counts in the metric
 * meso_clinic_lookups_total{outcome="found|not_found|unavailable"}.
 *
 * Ownership: the cache owns its bus client and its entries; the time zone
 * handed out points into an entry, which lives as long as the cache. */
#ifndef MESO_CLINICS_H
#define MESO_CLINICS_H

#include "meso/bus.h"

typedef struct meso_clinics_t meso_clinics_t;

/* How long one lookup waits for scheduling, in total (ms): under the 1 s
 * after which the bus client resends a request, so a caller waiting on a
 * request that needs a lookup does not send it twice. */
#define MESO_CLINICS_DEADLINE_MS 800

/* A cache asking scheduling at endpoint (one or more, comma-separated) as
 * the service named service. endpoint NULL or "": the existence check is
 * off (the syntax is still the caller's to check), every clinic counts as
 * known, in UTC. Returns NULL on out-of-memory or an endpoint the bus
 * client refuses. */
meso_clinics_t *meso_clinics_new (const char *endpoint, const char *service);
void meso_clinics_destroy (meso_clinics_t **self_p);

/* True when the existence check is on. */
bool meso_clinics_checking (const meso_clinics_t *self);

/* Whether clinic_id (already of valid syntax) exists. 0 when it does (or
 * the check is off), with *tz_out (when tz_out is non-NULL) set to its
 * IANA time zone ("UTC" when the check is off). -1 with reply set
 * otherwise: NOT_FOUND "no clinic <id> in the chain" with the reason
 * "unknown_clinic" on field, or UNAVAILABLE "cannot check clinic <id>:
 * scheduling did not answer" (retry). self NULL: as with the check off. */
int meso_clinics_check (meso_clinics_t *self, const char *clinic_id, const char *field,
                        meso_reply_t *reply, const char **tz_out);

/* Records clinic_id as known without asking (scheduling named it; its
 * zone is not known here, so a later check that wants the zone asks). */
void meso_clinics_learn (meso_clinics_t *self, const char *clinic_id);

#endif
