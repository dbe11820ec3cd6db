/* bench_memory.c -- each daemon's memory, counted honestly (issue 20 part
 * 5): RssAnon (/proc/PID/status: the process's own anonymous pages, what
 * it costs beyond the shared libraries) and PSS (/proc/PID/smaps_rollup:
 * resident pages, shared ones divided by their sharers), idle and after a
 * million requests, beside the target (RssAnon under 4 MB idle, flat under
 * load).
 *
 * The five daemons run with their defaults but MESO_WORKERS (from the
 * environment, else the harness's); the load is Health (one per-worker
 * database ping) and events.Head (one small read), spread evenly over the
 * five, 64 in flight per daemon, as fast as the machine allows.
 * MESO_BENCH_N changes the total (default 1000000). RssAnon is read at
 * checkpoints (50k, 200k, 500k, 1M, 2M requests in all, those up to the
 * total, and the total), so that "flat" can be read off the output: a
 * leak grows at every checkpoint, a bounded cache or allocator state
 * grows early and then stays. Needs PostgreSQL: run through
 * tests/bench/run.sh memory. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "meso/bus.h"
#include "meso/mtime.h"

#define NDAEMONS 5
#define INFLIGHT 64
#define NCHECKS 6

typedef struct {
    const char *name;
    char ep[256];
    pid_t pid;
    meso_bus_client_t *client;
    long rss_idle, pss_idle, rss_load, pss_load;
    long rss_at[NCHECKS];       /* RssAnon at each checkpoint */
} daemon_t;

/* The checkpoints up to total, ending with total; returns how many. */
static int
s_checkpoints (long total, long *at)
{
    static const long marks[] = { 50000, 200000, 500000, 1000000, 2000000 };
    int n = 0;
    for (size_t i = 0; i < sizeof marks / sizeof marks[0] && n < NCHECKS - 1; i++)
        if (marks[i] < total)
            at[n++] = marks[i];
    at[n++] = total;
    return n;
}

static long
s_pss_kb (pid_t pid)
{
    char path[64], line[256];
    snprintf (path, sizeof path, "/proc/%d/smaps_rollup", (int) pid);
    FILE *f = fopen (path, "r");
    if (!f)
        return -1;
    long kb = -1;
    while (fgets (line, sizeof line, f))
        if (sscanf (line, "Pss: %ld kB", &kb) == 1)
            break;
    fclose (f);
    return kb;
}

static pid_t
s_spawn (const char *name, const char *role, const char *ep, const char *a1, const char *a2,
         const char *a3)
{
    char conn[512], db[600], bind[300], path[64];
    mt_role_conninfo ("bench_memory", role, conn, sizeof conn);
    snprintf (db, sizeof db, "--db=%s", conn);
    snprintf (bind, sizeof bind, "--bind=%s", ep);
    snprintf (path, sizeof path, "bin/%s", name);
    const char *argv[] = { name, db, bind, "--log-level=warn", a1, a2, a3, NULL };
    pid_t pid = mt_spawn (path, argv, NULL);
    /* A minute: a daemon may run under valgrind (see run.sh memory). */
    if (pid > 0 && mt_wait_healthy (ep, 60000) != 0) {
        mt_stop (pid, SIGKILL);
        return -1;
    }
    return pid;
}

/* Sends n requests of method to client, INFLIGHT at a time. Returns the
 * number answered OK. */
static long
s_load (meso_bus_client_t *client, const char *method, long n)
{
    long sent = 0, ok = 0, recvd = 0;
    char rid[64];
    while (recvd < n) {
        while (sent < n && sent - recvd < INFLIGHT) {
            if (meso_bus_client_send (client, method, NULL, NULL, 30000, rid) != 0)
                return ok;
            sent++;
        }
        meso_result_t r = { 0 };
        if (meso_bus_client_recv (client, 10000, &r) != 0 && !r.reply) {
            meso_result_reset (&r);
            return ok;
        }
        if (r.status == MESO_OK)
            ok++;
        else
        if (recvd - ok < 3)     /* the first few are enough to say why */
            fprintf (stderr, "bench_memory: %s: %s\n", method, r.message);
        recvd++;
        meso_result_reset (&r);
    }
    return ok;
}

int
main (void)
{
    if (!getenv ("MESO_TEST_PGHOST")) {
        fprintf (stderr, "bench_memory: run it through tests/bench/run.sh memory (needs PostgreSQL)\n");
        return 2;
    }
    long total = getenv ("MESO_BENCH_N") ? atol (getenv ("MESO_BENCH_N")) : 1000000;
    /* 64 in flight may leave a few more replies than that queued at once
     * (as in bench_bus): room for 256 per peer, so none is dropped. */
    setenv ("MESO_BUS_PEER_BUDGET", "268435456", 1);
    char admin[512];
    if (mt_db_create ("bench_memory", admin, sizeof admin) != 0)
        return 1;
    daemon_t d[NDAEMONS] = { { .name = "events" }, { .name = "scheduling" }, { .name = "screening" },
                             { .name = "inventory" }, { .name = "billing" } };
    for (int i = 0; i < NDAEMONS; i++)
        mt_ipc_endpoint (d[i].name, d[i].ep, sizeof d[i].ep);
    char pub[256], a_pub[300], a_ev[300], a_sch[300], a_scr[300], a_inv[300];
    mt_ipc_endpoint ("pub", pub, sizeof pub);
    snprintf (a_pub, sizeof a_pub, "--pub=%s", pub);
    snprintf (a_ev, sizeof a_ev, "--events=%s", d[0].ep);
    snprintf (a_sch, sizeof a_sch, "--scheduling=%s", d[1].ep);
    snprintf (a_scr, sizeof a_scr, "--screening=%s", d[2].ep);
    snprintf (a_inv, sizeof a_inv, "--inventory=%s", d[3].ep);
    char a_evpub[300];
    snprintf (a_evpub, sizeof a_evpub, "--events-pub=%s", pub);
    d[0].pid = s_spawn ("meso-events", "meso_events", d[0].ep, a_pub, NULL, NULL);
    d[1].pid = s_spawn ("meso-scheduling", "meso_scheduling", d[1].ep, a_scr, a_inv, "--events=");
    d[2].pid = s_spawn ("meso-screening", "meso_screening", d[2].ep, a_sch, a_inv, NULL);
    d[3].pid = s_spawn ("meso-inventory", "meso_inventory", d[3].ep, a_sch, a_ev, a_evpub);
    d[4].pid = s_spawn ("meso-billing", "meso_billing", d[4].ep, a_sch, a_ev, a_evpub);
    for (int i = 0; i < NDAEMONS; i++)
        if (d[i].pid <= 0) {
            fprintf (stderr, "bench_memory: meso-%s did not start\n", d[i].name);
            return 1;
        }
    mt_sleep_ms (2000);         /* settled: consumers caught up, first ticks done */
    for (int i = 0; i < NDAEMONS; i++) {
        d[i].rss_idle = mt_rss_anon_kb (d[i].pid);
        d[i].pss_idle = s_pss_kb (d[i].pid);
    }

    for (int i = 0; i < NDAEMONS; i++)
        if (!(d[i].client = mt_client (d[i].ep)))
            return 1;
    long at[NCHECKS];
    int nchecks = s_checkpoints (total, at);
    int64_t t0 = meso_time_mono_ms ();
    long ok = 0, done = 0;
    for (int k = 0; k < nchecks; k++) {
        for (int i = 0; i < NDAEMONS; i++) {
            long share = (at[k] - done) / NDAEMONS;
            /* events.Head is a read of the stream heads; elsewhere Health. */
            long got = s_load (d[i].client, i == 0 ? "events.Head" : "Health", share);
            if (got != share)
                fprintf (stderr, "bench_memory: meso-%s answered %ld of %ld OK\n", d[i].name,
                         got, share);
            ok += got;
        }
        done = at[k];
        mt_sleep_ms (200);
        for (int i = 0; i < NDAEMONS; i++)
            d[i].rss_at[k] = mt_rss_anon_kb (d[i].pid);
    }
    int64_t took = meso_time_mono_ms () - t0;
    for (int i = 0; i < NDAEMONS; i++)
        meso_bus_client_destroy (&d[i].client);
    mt_sleep_ms (1000);
    for (int i = 0; i < NDAEMONS; i++) {
        d[i].rss_load = mt_rss_anon_kb (d[i].pid);
        d[i].pss_load = s_pss_kb (d[i].pid);
    }
    const char *w = getenv ("MESO_WORKERS");
    printf ("\nMemory of each daemon (MESO_WORKERS=%s), idle and after %ld requests "
            "(%ld OK, %.0f/s, Health and events.Head):\n", w ? w : "2 (harness)", total, ok,
            took > 0 ? (double) ok * 1000.0 / (double) took : 0.0);
    printf ("  %-11s %12s %12s %12s %12s %10s\n", "daemon", "RssAnon idle", "after", "growth",
            "PSS idle", "after");
    for (int i = 0; i < NDAEMONS; i++)
        printf ("  %-11s %9ld kB %9ld kB %+9ld kB %9ld kB %7ld kB\n", d[i].name, d[i].rss_idle,
                d[i].rss_load, d[i].rss_load - d[i].rss_idle, d[i].pss_idle, d[i].pss_load);
    printf ("  target: RssAnon under 4096 kB idle, growth about 0 under load\n");
    printf ("\nRssAnon (kB) of each daemon after n requests in all (flat: the same figure "
            "from one checkpoint to the next):\n  %-11s %8s", "daemon", "idle");
    for (int k = 0; k < nchecks; k++)
        printf (" %7ldk", at[k] / 1000);
    printf ("\n");
    for (int i = 0; i < NDAEMONS; i++) {
        printf ("  %-11s %8ld", d[i].name, d[i].rss_idle);
        for (int k = 0; k < nchecks; k++)
            printf (" %8ld", d[i].rss_at[k]);
        printf ("\n");
    }
    for (int i = NDAEMONS - 1; i >= 0; i--)
        mt_stop (d[i].pid, SIGTERM);
    return 0;
}
