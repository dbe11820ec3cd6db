/* lifecycle.h -- the life of a session: which changes its status allows.
 *
 *   pending --(saga)--> booked --Start--> started --Complete--> completed
 *                         |  \--Reschedule--> booked
 *                         |--Cancel--> cancelled
 *                         \--MarkNoShow--> no_show
 *
 * Pure (no I/O): the methods load the session's row, ask here, then write.
 * Kept apart from planner.c, which plans courses; this says what may
 * happen to a session once it is booked. */
#ifndef SCHEDULING_LIFECYCLE_H
#define SCHEDULING_LIFECYCLE_H

#include <stdbool.h>

typedef enum {
    LIFECYCLE_RESCHEDULE,
    LIFECYCLE_CANCEL,
    LIFECYCLE_NO_SHOW,
    LIFECYCLE_START,
    LIFECYCLE_COMPLETE
} lifecycle_change_t;

/* The status a change needs ("booked" or "started"). */
const char *lifecycle_needs (lifecycle_change_t change);
/* Whether a session in status (as stored: "booked", "started", ...) may
 * undergo change. */
bool lifecycle_allows (lifecycle_change_t change, const char *status);
/* The status a change leaves the session in. */
const char *lifecycle_leads_to (lifecycle_change_t change);

#endif
