/* health.c -- health-bearing payloads kept apart from events.log
 * (migration 023).
 *
 * events.log is what ops, tests and (through grants the streams work
 * decides) some service roles may read; it must not hold screening
 * reasons, reported conditions or clinical notes. So the relay, in the
 * transaction that moves a batch from the outbox, rewrites the log row of
 * every event whose type carries health fields (redact.c decides which)
 * with its redacted copy, and puts the full payload, with the patient it
 * is about, into events.log_health, which only the events role can read.
 * Replay serves a principal with health access from there (store.c),
 * everyone else from the log.
 *
 * Erasure: a screening.patient_erased event relayed in the batch deletes
 * that patient's rows of events.log_health in the same transaction, so the
 * erased patient's health data is gone from the log too; what remains in
 * events.log is the redacted copy (ids, dates, verdicts). Events already
 * delivered to integrations stay theirs to delete (README, "Patient
 * data"). */
#include "events.h"
#include "redact.h"

#include <stdlib.h>

int
health_split (meso_db_t *db, PGresult *relayed, bool *erased)
{
    *erased = false;
    for (int r = 0; r < PQntuples (relayed); r++) {
        const char *type = PQgetvalue (relayed, r, 3);
        const uint8_t *payload = (const uint8_t *) PQgetvalue (relayed, r, 4);
        size_t plen = (size_t) PQgetlength (relayed, r, 4);
        char patient[128];
        if (strcmp (type, "screening.patient_erased") == 0) {
            if (redact_erased_patient (payload, plen, patient, sizeof patient) == 0) {
                if (store_health_forget (db, patient) != 0)
                    return -1;
                *erased = true;
            }
            continue;
        }
        uint8_t *redacted = NULL;
        size_t rlen = 0;
        int rc = redact_split (type, payload, plen, &redacted, &rlen, patient, sizeof patient);
        if (rc == 0)
            continue;
        if (rc < 0) {
            /* The outbox accepts only known types with their own payload:
             * this cannot be, and the row must not reach the log whole. */
            meso_db_set_error (db, "XX000", "event %s #%llu cannot be cleared of its health fields",
                               type, (unsigned long long) store_get_u64 (relayed, r, 2));
            return -1;
        }
        rc = store_health_split (db, store_get_u64 (relayed, r, 0), PQgetvalue (relayed, r, 1),
                                 store_get_u64 (relayed, r, 2), patient, payload, plen, redacted, rlen);
        free (redacted);
        if (rc != 0)
            return -1;
    }
    return 0;
}
