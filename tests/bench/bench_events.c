/* bench_events.c -- events from commit to delivery, and replay speed.
 *
 * Needs a PostgreSQL cluster: run it through tests/bench/run.sh, which
 * starts a throwaway one and sets MESO_TEST_PGHOST / MESO_TEST_PGPORT.
 * Measures and prints; never passes or fails on time.
 *
 *   1. latency: one writer commits one event per transaction at 1,000/s
 *      for 5 s; 10 subscribers record when each event arrives. Printed:
 *      commit-to-delivery p50/p99/max against the 5 ms p99 target.
 *   2. throughput: the writer commits 20,000 events as fast as it can (100
 *      per transaction); events/s until the last of 10 subscribers has all.
 *   3. replay: 100,000 events in the log; a new subscriber catches up from
 *      0. Printed side by side with the database's own speed at reading the
 *      same rows (one SELECT through libpq), and the target 100,000/s. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture_bench.h"
#include "harness.h"
#include "meso/db.h"
#include "meso/mtime.h"
#include "meso/outbox.h"
#include "meso/subscriber.h"

#define NSUBS 10
#define MAXEV 100000

static char s_conninfo[512], s_router[256], s_pub[256];
static int64_t *s_commit_us;            /* per event index */
static int64_t *s_arrive_us[NSUBS];
static _Atomic int s_stop;

typedef struct {
    int sub;
    uint64_t target;                    /* stop when the cursor reaches it */
    _Atomic uint64_t got;
    int64_t done_us;
} sub_t;

static int
s_on_event (const Meso__V1__Event *ev, const uint8_t *raw, size_t len, void *arg)
{
    sub_t *s = arg;
    int idx;
    if (sscanf (ev->id, "b-%d", &idx) == 1 && idx >= 0 && idx < MAXEV && s->sub < NSUBS)
        s_arrive_us[s->sub][idx] = meso_time_mono_us ();
    atomic_fetch_add (&s->got, 1);
    return 0;
}

static void *
s_subscriber (void *arg)
{
    sub_t *s = arg;
    meso_subscriber_t *sub = meso_subscriber_new (s_router, s_pub, "bench", s_on_event, s);
    meso_subscriber_follow (sub, "stock", 0);
    while (!atomic_load (&s_stop)) {
        meso_subscriber_poll (sub, 20);
        if (s->target && meso_subscriber_cursor (sub, "stock") >= s->target) {
            s->done_us = meso_time_mono_us ();
            break;
        }
    }
    meso_subscriber_destroy (&sub);
    return NULL;
}

typedef struct {
    int from, n;
} batch_t;

static int
s_emit (meso_db_t *db, void *arg)
{
    batch_t *b = arg;
    for (int i = b->from; i < b->from + b->n; i++) {
        char id[32];
        snprintf (id, sizeof id, "b-%d", i);
        if (mt_outbox_stock_low (db, id, "clinic-nyc", "America/New_York") != 0)
            return -1;
    }
    return 0;
}

static int
s_cmp (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return x < y ? -1 : x > y;
}

static uint64_t
s_wait_head (meso_db_t *db, uint64_t want)
{
    for (int i = 0; i < 3000; i++) {
        PGresult *res = meso_db_query (db, "SELECT seq FROM events.stream_head WHERE stream = 'stock'", 0, NULL);
        uint64_t head = res ? strtoull (PQgetvalue (res, 0, 0), NULL, 10) : 0;
        PQclear (res);
        if (head >= want)
            return head;
        mt_sleep_ms (20);
    }
    return 0;
}

int
main (void)
{
    if (!getenv ("MESO_TEST_PGHOST")) {
        fprintf (stderr, "bench_events: run it through tests/bench/run.sh (needs PostgreSQL)\n");
        return 2;
    }
    s_commit_us = calloc (MAXEV, sizeof (int64_t));
    for (int s = 0; s < NSUBS; s++)
        s_arrive_us[s] = calloc (MAXEV, sizeof (int64_t));
    if (mt_db_create ("bench_events", s_conninfo, sizeof s_conninfo) != 0)
        return 1;
    mt_ipc_endpoint ("router", s_router, sizeof s_router);
    mt_ipc_endpoint ("pub", s_pub, sizeof s_pub);
    char db[600], bind[300], pub[300];
    snprintf (db, sizeof db, "--db=%s", s_conninfo);
    snprintf (bind, sizeof bind, "--bind=%s", s_router);
    snprintf (pub, sizeof pub, "--pub=%s", s_pub);
    const char *argv[] = { "meso-events", db, bind, pub, "--log-level=warn", NULL };
    pid_t events = mt_spawn ("bin/meso-events", argv, NULL);
    if (events < 0 || mt_wait_healthy (s_router, 10000) != 0)
        return 1;
    meso_db_t *w = meso_db_new (s_conninfo);

    /* ---- 1. latency at 1,000 events/s ---- */
    const int nlat = 5000;
    sub_t subs[NSUBS];
    pthread_t th[NSUBS];
    for (int s = 0; s < NSUBS; s++) {
        subs[s] = (sub_t) { .sub = s, .target = (uint64_t) nlat };
        pthread_create (&th[s], NULL, s_subscriber, &subs[s]);
    }
    mt_sleep_ms (500);                  /* subscribers connected and caught up */
    int64_t start = meso_time_mono_us ();
    for (int i = 0; i < nlat; i++) {
        int64_t due = start + (int64_t) i * 1000;
        while (meso_time_mono_us () < due)
            ;
        batch_t b = { i, 1 };
        meso_db_txn (w, MESO_DB_READ_COMMITTED, s_emit, &b);
        s_commit_us[i] = meso_time_mono_us ();
    }
    for (int s = 0; s < NSUBS; s++)
        pthread_join (th[s], NULL);
    int64_t *lat = malloc (sizeof (int64_t) * nlat * NSUBS);
    size_t nl = 0;
    for (int s = 0; s < NSUBS; s++)
        for (int i = 0; i < nlat; i++)
            if (s_arrive_us[s][i])
                lat[nl++] = s_arrive_us[s][i] - s_commit_us[i];
    qsort (lat, nl, sizeof *lat, s_cmp);
    printf ("events: commit-to-delivery at 1000 events/s, %d subscribers, %zu deliveries\n", NSUBS, nl);
    printf ("  %-10s %10s %10s\n", "", "measured", "target");
    printf ("  %-10s %8.2f ms %10s\n", "p50", lat[nl / 2] / 1000.0, "");
    printf ("  %-10s %8.2f ms %7s ms   (ratio target/measured %.2f)\n", "p99",
            lat[nl * 99 / 100] / 1000.0, "5.00", 5000.0 / (double) (lat[nl * 99 / 100] ? lat[nl * 99 / 100] : 1));
    printf ("  %-10s %8.2f ms\n", "max", lat[nl - 1] / 1000.0);
    free (lat);

    /* ---- 2. throughput, flat out ---- */
    const int nthr = 20000;
    uint64_t base = s_wait_head (w, (uint64_t) nlat);
    for (int s = 0; s < NSUBS; s++) {
        subs[s] = (sub_t) { .sub = NSUBS, .target = base + (uint64_t) nthr };
        pthread_create (&th[s], NULL, s_subscriber, &subs[s]);
    }
    mt_sleep_ms (1500);                 /* each replays the first 5,000 */
    start = meso_time_mono_us ();
    for (int i = 0; i < nthr; i += 100) {
        batch_t b = { nlat + i, 100 };
        meso_db_txn (w, MESO_DB_READ_COMMITTED, s_emit, &b);
    }
    int64_t last = 0;
    for (int s = 0; s < NSUBS; s++) {
        pthread_join (th[s], NULL);
        if (subs[s].done_us > last)
            last = subs[s].done_us;
    }
    double secs = (double) (last - start) / 1e6;
    printf ("events: throughput, commit to delivery at all %d subscribers: %d events in %.2f s = %.0f events/s\n",
            NSUBS, nthr, secs, nthr / secs);

    /* ---- 3. replay of 100,000 events ---- */
    const int nrep = 100000;
    uint64_t have = base + (uint64_t) nthr;
    for (uint64_t i = have; i < (uint64_t) nrep; i += 1000) {
        batch_t b = { 0, (int) ((uint64_t) nrep - i < 1000 ? (uint64_t) nrep - i : 1000) };
        b.from = (int) i;
        meso_db_txn (w, MESO_DB_READ_COMMITTED, s_emit, &b);
    }
    s_wait_head (w, (uint64_t) nrep);
    /* The reference: the database reading the same rows, one statement. */
    int64_t t0 = meso_time_mono_us ();
    PGresult *res = meso_db_query (w, "SELECT stream_seq, global_seq, payload FROM events.log"
                                      " WHERE stream = 'stock' ORDER BY stream_seq", 0, NULL);
    int64_t t1 = meso_time_mono_us ();
    int rows = res ? PQntuples (res) : 0;
    PQclear (res);
    double ref = rows / ((double) (t1 - t0) / 1e6);
    sub_t rs = { .sub = NSUBS, .target = (uint64_t) nrep };
    t0 = meso_time_mono_us ();
    s_subscriber (&rs);
    t1 = meso_time_mono_us ();
    double rate = (double) atomic_load (&rs.got) / ((double) (t1 - t0) / 1e6);
    printf ("events: replay of %d events from sequence 0\n", nrep);
    printf ("  %-34s %12.0f events/s\n", "subscriber (events.Replay pages)", rate);
    printf ("  %-34s %12.0f events/s   ratio %.2f\n", "reference: one SELECT via libpq", ref, rate / ref);
    printf ("  %-34s %12.0f events/s   ratio %.2f\n", "target", 100000.0, rate / 100000.0);

    atomic_store (&s_stop, 1);
    meso_db_destroy (&w);
    mt_stop (events, SIGTERM);
    return 0;
}
