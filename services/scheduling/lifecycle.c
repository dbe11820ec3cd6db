/* lifecycle.c -- which change a session's status allows (see
 * lifecycle.h). One table, so a new change is one row and every method
 * asks the same question the same way; tested by
 * tests/unit/test_lifecycle.c. */
#include "lifecycle.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *needs;
    const char *also;           /* a second status the change takes, or NULL */
    const char *leads_to;
} s_changes[] = {
    [LIFECYCLE_RESCHEDULE] = { "booked", NULL, "booked" },
    [LIFECYCLE_CANCEL] = { "booked", "on_hold", "cancelled" },
    [LIFECYCLE_NO_SHOW] = { "booked", NULL, "no_show" },
    [LIFECYCLE_START] = { "booked", NULL, "started" },
    [LIFECYCLE_COMPLETE] = { "started", NULL, "completed" },
    [LIFECYCLE_HOLD] = { "booked", NULL, "on_hold" },
    [LIFECYCLE_RELEASE] = { "on_hold", NULL, "booked" },
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
    if ((size_t) change >= S_NCHANGES || !status)
        return false;
    return strcmp (status, s_changes[change].needs) == 0
           || (s_changes[change].also && strcmp (status, s_changes[change].also) == 0);
}

const char *
lifecycle_leads_to (lifecycle_change_t change)
{
    return (size_t) change < S_NCHANGES ? s_changes[change].leads_to : "";
}

void
lifecycle_why (lifecycle_change_t change, const char *status, char *out, size_t size)
{
    if (!out || size == 0)
        return;
    if (status && strcmp (status, "on_hold") == 0 && !lifecycle_allows (change, status))
        snprintf (out, size, "the session is on hold: the patient reported a change of health; "
                             "a new eligible screening releases it, an ineligible one cancels it");
    else if ((size_t) change < S_NCHANGES && s_changes[change].also)
        snprintf (out, size, "this change needs a session that is %s or %s", s_changes[change].needs,
                  s_changes[change].also);
    else
        snprintf (out, size, "this change needs a session that is %s", lifecycle_needs (change));
}

bool
lifecycle_after_screening (int verdict, lifecycle_change_t *out)
{
    /* Precautions (e.g. the anti-inflammatory washout) are Check's to
     * enforce at StartSession: they do not keep a session on hold. */
    if (verdict == 1 || verdict == 2)
        *out = LIFECYCLE_RELEASE;
    else if (verdict == 3)
        *out = LIFECYCLE_CANCEL;
    else
        return false;
    return true;
}

int64_t
lifecycle_hold_from (int64_t effective_us, int64_t occurred_us)
{
    return effective_us > 0 ? effective_us : occurred_us;
}
