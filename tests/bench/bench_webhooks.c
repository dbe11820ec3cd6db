/* bench_webhooks.c -- meso-webhooks: deliveries per second and
 * commit-to-delivery latency with 50 subscriptions to a local receiver.
 *
 * Needs a PostgreSQL cluster: run it through tests/bench/run.sh webhooks,
 * which runs bench_events first in the same invocation, so the raw event
 * feed's figures (the same events to 10 meso_subscribers) print beside
 * these. Measures and prints; never passes or fails on time.
 *
 * The receiver is in this process, on libmicrohttpd with a pool of
 * threads, answering 200 at once and recording when each (subscription,
 * event) first arrived, so the receiver is not what is measured. Events
 * are stock.low of one clinic, written through the outbox as a service
 * writes them; every subscription follows the stock stream of that
 * clinic, without health fields (each body goes through the redaction and
 * the JSON rendering).
 *
 *   1. latency: one event per transaction at MESO_BENCH_RATE events/s (50)
 *      for 5 s, i.e. 50 x rate deliveries/s; commit-to-delivery p50, p99,
 *      max over every delivery;
 *   2. throughput: 1,000 events committed at once (100 per transaction);
 *      deliveries/s until the last subscription has every one. */
#include <microhttpd.h>
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
#include "webhooks.pb-c.h"

#define NSUBS 50
#define MAXEV 20000

static int64_t *s_commit_us;                /* per event index */
static _Atomic int64_t *s_arrive_us;        /* [sub * MAXEV + event] */
static _Atomic long s_requests;

static enum MHD_Result
s_answer (void *cls, struct MHD_Connection *c, const char *url, const char *method,
          const char *version, const char *upload, size_t *upload_size, void **state)
{
    if (!*state) {                          /* headers: the first call */
        int sub = -1, ev = -1;
        const char *id = MHD_lookup_connection_value (c, MHD_HEADER_KIND, "Meso-Event-Id");
        if (sscanf (url, "/s/%d", &sub) == 1 && id && sscanf (id, "b-%d", &ev) == 1 && sub >= 0
            && sub < NSUBS && ev >= 0 && ev < MAXEV) {
            int64_t zero = 0;
            atomic_compare_exchange_strong (&s_arrive_us[(size_t) sub * MAXEV + (size_t) ev], &zero,
                                            meso_time_mono_us ());
        }
        atomic_fetch_add (&s_requests, 1);
        *state = (void *) 1;
        return MHD_YES;
    }
    if (*upload_size) {                     /* the body: read and dropped */
        *upload_size = 0;
        return MHD_YES;
    }
    struct MHD_Response *r = MHD_create_response_from_buffer (2, (void *) "{}", MHD_RESPMEM_PERSISTENT);
    enum MHD_Result rc = MHD_queue_response (c, 200, r);
    MHD_destroy_response (r);
    return rc;
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

/* Deliveries of events [from, to) received so far. */
static long
s_received (int from, int to)
{
    long n = 0;
    for (int s = 0; s < NSUBS; s++)
        for (int i = from; i < to; i++)
            n += atomic_load (&s_arrive_us[(size_t) s * MAXEV + (size_t) i]) != 0;
    return n;
}

/* Waits until every subscription has events [from, to) or timeout_s;
 * returns the mono time of the last arrival, 0 on timeout. */
static int64_t
s_wait_all (int from, int to, int timeout_s)
{
    long want = (long) NSUBS * (to - from);
    for (int64_t end = meso_time_mono_ms () + timeout_s * 1000; meso_time_mono_ms () < end; mt_sleep_ms (20))
        if (s_received (from, to) == want) {
            int64_t last = 0;
            for (int s = 0; s < NSUBS; s++)
                for (int i = from; i < to; i++) {
                    int64_t t = atomic_load (&s_arrive_us[(size_t) s * MAXEV + (size_t) i]);
                    if (t > last)
                        last = t;
                }
            return last;
        }
    return 0;
}

int
main (void)
{
    if (!getenv ("MESO_TEST_PGHOST")) {
        fprintf (stderr, "bench_webhooks: run it through tests/bench/run.sh webhooks (needs PostgreSQL)\n");
        return 2;
    }
    int rate = getenv ("MESO_BENCH_RATE") ? atoi (getenv ("MESO_BENCH_RATE")) : 50;
    if (rate < 1 || rate > 2000)
        rate = 50;
    s_commit_us = calloc (MAXEV, sizeof (int64_t));
    s_arrive_us = calloc ((size_t) NSUBS * MAXEV, sizeof *s_arrive_us);
    char conninfo[512], router[256], pub[256], bind[256];
    if (mt_db_create ("bench_webhooks", conninfo, sizeof conninfo) != 0)
        return 1;
    pid_t events = mt_spawn_events ("bench_webhooks", router, sizeof router, pub, sizeof pub);
    if (events < 0)
        return 1;
    mt_ipc_endpoint ("whk", bind, sizeof bind);
    char db[600], role[512], b[300], ev[300], evp[300];
    mt_role_conninfo ("bench_webhooks", "meso_webhooks", role, sizeof role);
    snprintf (db, sizeof db, "--db=%s", role);
    snprintf (b, sizeof b, "--bind=%s", bind);
    snprintf (ev, sizeof ev, "--events=%s", router);
    snprintf (evp, sizeof evp, "--events-pub=%s", pub);
    const char *argv[] = { "meso-webhooks", db, b, ev, evp, "--log-level=warn", NULL };
    pid_t webhooks = mt_spawn ("bin/meso-webhooks", argv, NULL);
    if (webhooks < 0 || mt_wait_healthy (bind, 10000) != 0)
        return 1;
    for (int i = 0; i < 100; i++, mt_sleep_ms (100)) {
        char st[32], notes[1024];
        if (mt_health (bind, st, sizeof st, notes, sizeof notes) == 0 && strstr (notes, "feed=on")
            && strstr (notes, "role=active"))
            break;
    }

    /* The receiver. */
    int port = mt_free_port ();
    struct MHD_Daemon *mhd = MHD_start_daemon (MHD_USE_AUTO_INTERNAL_THREAD,
                                               (uint16_t) port, NULL, NULL, s_answer, NULL,
                                               MHD_OPTION_THREAD_POOL_SIZE, 4U,
                                               MHD_OPTION_CONNECTION_LIMIT, 1000U, MHD_OPTION_END);
    if (!mhd) {
        fprintf (stderr, "bench_webhooks: cannot start the receiver on port %d\n", port);
        return 1;
    }
    meso_bus_client_t *c = mt_client (bind);
    int seq = 0;
    for (int s = 0; s < NSUBS; s++) {
        char url[128];
        snprintf (url, sizeof url, "http://127.0.0.1:%d/s/%d", port, s);
        char *streams[] = { "stock" };
        Meso__V1__AddSubscriptionRequest rq = MESO__V1__ADD_SUBSCRIPTION_REQUEST__INIT;
        rq.clinic_id = "clinic-nyc";
        rq.url = url;
        rq.streams = streams;
        rq.n_streams = 1;
        meso_result_t r = { 0 };
        if (mt_call (c, "webhooks.AddSubscription", &rq.base, NULL, &seq, &r) != MESO_OK) {
            fprintf (stderr, "bench_webhooks: AddSubscription: %s\n", r.message);
            return 1;
        }
        meso_result_reset (&r);
    }
    mt_sleep_ms (1500);                 /* the engine has loaded them */
    meso_db_t *w = meso_db_new (conninfo);

    /* ---- 1. latency at rate events/s ---- */
    int nlat = rate * 5;
    int64_t start = meso_time_mono_us ();
    for (int i = 0; i < nlat; i++) {
        int64_t due = start + (int64_t) i * 1000000 / rate;
        while (meso_time_mono_us () < due)
            mt_sleep_ms (1);
        batch_t bt = { i, 1 };
        meso_db_txn (w, MESO_DB_READ_COMMITTED, s_emit, &bt);
        s_commit_us[i] = meso_time_mono_us ();
    }
    s_wait_all (0, nlat, 120);
    int64_t *lat = malloc (sizeof (int64_t) * (size_t) nlat * NSUBS);
    size_t nl = 0;
    for (int s = 0; s < NSUBS; s++)
        for (int i = 0; i < nlat; i++) {
            int64_t t = atomic_load (&s_arrive_us[(size_t) s * MAXEV + (size_t) i]);
            if (t)
                lat[nl++] = t - s_commit_us[i];
        }
    qsort (lat, nl, sizeof *lat, s_cmp);
    printf ("webhooks: commit-to-delivery at %d events/s, %d subscriptions (%d deliveries/s), %zu of %d deliveries\n",
            rate, NSUBS, rate * NSUBS, nl, nlat * NSUBS);
    if (nl) {
        printf ("  %-10s %8.2f ms\n", "p50", lat[nl / 2] / 1000.0);
        printf ("  %-10s %8.2f ms\n", "p99", lat[nl * 99 / 100] / 1000.0);
        printf ("  %-10s %8.2f ms\n", "max", lat[nl - 1] / 1000.0);
    }
    free (lat);

    /* ---- 2. throughput: 1,000 events at once ---- */
    const int nthr = 1000;
    long before = atomic_load (&s_requests);
    start = meso_time_mono_us ();
    for (int i = 0; i < nthr; i += 100) {
        batch_t bt = { nlat + i, 100 };
        meso_db_txn (w, MESO_DB_READ_COMMITTED, s_emit, &bt);
    }
    int64_t last = s_wait_all (nlat, nlat + nthr, 300);
    if (last) {
        double secs = (double) (last - start) / 1e6;
        printf ("webhooks: throughput, %d events to %d subscriptions: %d deliveries in %.2f s = %.0f deliveries/s "
                "(%ld requests)\n", nthr, NSUBS, nthr * NSUBS, secs, nthr * NSUBS / secs,
                atomic_load (&s_requests) - before);
    }
    else
        printf ("webhooks: throughput: not every delivery arrived within 300 s (%ld of %d)\n",
                s_received (nlat, nlat + nthr), nthr * NSUBS);

    meso_bus_client_destroy (&c);
    meso_db_destroy (&w);
    mt_stop (webhooks, SIGTERM);
    mt_stop (events, SIGTERM);
    MHD_stop_daemon (mhd);
    return 0;
}
