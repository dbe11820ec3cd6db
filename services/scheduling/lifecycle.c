/* lifecycle.c -- which change a session's status allows (see
 * lifecycle.h). One table, so a new change is one row and every method
 * asks the same question the same way; tested by
 * tests/unit/test_lifecycle.c. */
#include "lifecycle.h"

#include <stddef.h>
#include <string.h>

static const struct {
    const char *needs;
    const char *leads_to;
} s_changes[] = {
    [LIFECYCLE_RESCHEDULE] = { "booked", "booked" },
    [LIFECYCLE_CANCEL] = { "booked", "cancelled" },
    [LIFECYCLE_NO_SHOW] = { "booked", "no_show" },
    [LIFECYCLE_START] = { "booked", "started" },
    [LIFECYCLE_COMPLETE] = { "started", "completed" },
};

#define S_NCHANGES (sizeof s_changes / sizeof s_changes[0])

const char *
lifecycle_needs (lifecycle_change_t change)
{
    return (size_t) change < S_NCHANGES ? s_changes[change].needs : "";
}

bool
lifecycle_allows (lifecycle_change_t change, const char *status)
{
    return (size_t) change < S_NCHANGES && status && strcmp (status, s_changes[change].needs) == 0;
}

const char *
lifecycle_leads_to (lifecycle_change_t change)
{
    return (size_t) change < S_NCHANGES ? s_changes[change].leads_to : "";
}
