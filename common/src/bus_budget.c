/* bus_budget.c -- how many replies a server may queue for one peer, and
 * how many requests its worker pool takes at once (MESO_WORKER_QUEUE).
 *
 * libzmq's high-water mark counts messages, not bytes: at its old 10000, a
 * client sending Replay requests it never reads made the events daemon hold
 * 10000 replies of up to 1 MiB each. The budget is in bytes per peer
 * (MESO_BUS_PEER_BUDGET, default 64 MiB) and the HWM is derived from it
 * with the largest reply the bus allows, so the bound holds whatever the
 * replies are. 64 MiB gives 64 queued replies: more than any client keeps
 * in flight (the benchmarks use 64), few enough that a hundred stalled
 * peers cannot exhaust a machine. */
#include <errno.h>
#include <stdlib.h>

#include "meso/bus.h"
#include "meso/log.h"
#include "bus_private.h"

#define HWM_MAX 10000
#define PEER_BUDGET_DEFAULT (64LL * 1024 * 1024)

int
meso_bus_peer_hwm (long long budget)
{
    long long hwm = budget / MESO_BUS_MAX_FRAME;
    return hwm < 1 ? 1 : hwm > HWM_MAX ? HWM_MAX : (int) hwm;
}

long long
meso_bus_peer_budget (void)
{
    const char *v = getenv ("MESO_BUS_PEER_BUDGET");
    if (!v || !*v)
        return PEER_BUDGET_DEFAULT;
    char *end;
    errno = 0;
    long long budget = strtoll (v, &end, 10);
    if (errno || *end || budget < MESO_BUS_MAX_FRAME) {
        meso_warn ("MESO_BUS_PEER_BUDGET=\"%.32s\" is not a byte count of at least %d; "
                   "using %lld", v, MESO_BUS_MAX_FRAME, PEER_BUDGET_DEFAULT);
        return PEER_BUDGET_DEFAULT;
    }
    return budget;
}


int
meso_bus_queue_resolve (const char *value)
{
    if (!value || !*value)
        return MESO_BUS_QUEUE_DEFAULT;
    char *end;
    errno = 0;
    long n = strtol (value, &end, 10);
    if (errno || *end || n < 1 || n > MESO_BUS_QUEUE_MAX) {
        meso_warn ("MESO_WORKER_QUEUE=\"%.32s\" is not a count of 1..%d; using %d", value,
                   MESO_BUS_QUEUE_MAX, MESO_BUS_QUEUE_DEFAULT);
        return MESO_BUS_QUEUE_DEFAULT;
    }
    return (int) n;
}
