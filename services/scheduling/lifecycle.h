/* lifecycle.h -- the life of a session: which changes its status allows.
 *
 *   pending --(saga)--> booked --Start--> started --Complete--> completed
 *                         |  \--Reschedule--> booked
 *                         |--Cancel--> cancelled
 *                         |--MarkNoShow--> no_show
 *                         \--Hold--> on_hold --Release--> booked
 *                                       \--Cancel--> cancelled
 *
 * on_hold: the patient reported a change (screening.patient_changed)
 * after which the session may not go ahead until a new screening decides
 * (holds.c). It keeps its slot and its stock; a new eligible screening
 * releases it, an ineligible one cancels it. Nothing else moves it:
 * StartSession, Reschedule and MarkNoShow refuse it (lifecycle_why says
 * why); Cancel is allowed, so a patient may still call it off.
 *
 * Pure (no I/O): the methods load the session's row, ask here, then write.
 * Kept apart from planner.c, which plans courses; this says what may
 * happen to a session once it is booked. */
#ifndef SCHEDULING_LIFECYCLE_H
#define SCHEDULING_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    LIFECYCLE_RESCHEDULE,
    LIFECYCLE_CANCEL,
    LIFECYCLE_NO_SHOW,
    LIFECYCLE_START,
    LIFECYCLE_COMPLETE,
    LIFECYCLE_HOLD,             /* a reported change holds the session */
    LIFECYCLE_RELEASE           /* a new eligible screening releases it */
} lifecycle_change_t;

/* The status a change needs ("booked", "started" or "on_hold"); Cancel
 * also takes an "on_hold" session (lifecycle_allows). */
const char *lifecycle_needs (lifecycle_change_t change);
/* Whether a session in status (as stored: "booked", "started", ...) may
 * undergo change. */
bool lifecycle_allows (lifecycle_change_t change, const char *status);
/* The status a change leaves the session in. */
const char *lifecycle_leads_to (lifecycle_change_t change);
/* Why a session in status may not undergo change, one sentence for a
 * person, into out (always terminated): a held session says it waits for
 * a new screening; any other says which status the change needs. */
void lifecycle_why (lifecycle_change_t change, const char *status, char *out, size_t size);

/* What a new screening does to a held session, from its verdict
 * (ScreeningCompleted.Verdict: 1 eligible, 2 eligible with precautions,
 * 3 ineligible): LIFECYCLE_RELEASE for 1 and 2, LIFECYCLE_CANCEL for 3;
 * false for anything else (the screening decides nothing). */
bool lifecycle_after_screening (int verdict, lifecycle_change_t *out);
/* The instant from which a reported change holds sessions: when it was
 * reported (effective_us) or, when the report does not say, when its
 * event occurred; sessions starting at or after it are held. */
int64_t lifecycle_hold_from (int64_t effective_us, int64_t occurred_us);

#endif
