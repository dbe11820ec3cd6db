/* retry.c -- what an attempt comes to, and how long to wait (logic.h).
 *
 * Back-off is exponential, capped, with jitter over the upper half of the
 * interval ("equal jitter" in AWS's analysis of back-off): the draw keeps
 * the subscriptions of one failed receiver from retrying in step, and
 * the lower half kept keeps a retry from coming at once. */
#include "logic.h"

bool
wh_retryable (int http_status)
{
    return http_status == 0 || http_status == 408 || http_status == 429
           || (http_status >= 500 && http_status <= 599);
}

wh_outcome_t
wh_decide (int http_status, uint32_t attempt, uint32_t max_refused, uint32_t park_after)
{
    if (http_status >= 200 && http_status <= 299)
        return WH_DELIVERED;
    if (attempt >= park_after)
        return WH_PARK;
    if (!wh_retryable (http_status) && attempt >= max_refused)
        return WH_PARK;
    return WH_RETRY;
}

int64_t
wh_backoff_ms (uint32_t attempt, int64_t base_ms, int64_t cap_ms, double draw)
{
    if (base_ms < 1)
        base_ms = 1;
    if (cap_ms < base_ms)
        cap_ms = base_ms;
    int64_t top = base_ms;
    for (uint32_t i = 1; i < attempt && top < cap_ms; i++)
        top *= 2;
    if (top > cap_ms)
        top = cap_ms;
    if (draw < 0)
        draw = 0;
    if (draw >= 1)
        draw = 0.999999;
    int64_t low = top / 2;
    int64_t wait = low + (int64_t) ((double) (top - low) * draw);
    return wait < 1 ? 1 : wait;
}
