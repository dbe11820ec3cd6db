/* bench_bus.c -- what the bus costs on top of raw ZeroMQ + protobuf-c,
 * and what CURVE costs on top of the plaintext bus.
 *
 * Three variants over tcp loopback, their servers in a child process (as a
 * daemon is: its own libzmq I/O thread, which is where CURVE encrypts),
 * each in its own thread, doing the same work per request:
 *   raw   a ROUTER that unpacks the Request, packs a Reply carrying the same
 *         body, and a DEALER that packs Requests and unpacks Replies, all
 *         with zmq_msg_t on the CZMQ sockets (the cheapest honest baseline);
 *   plain meso_bus_server with a "bench.Echo" handler (it logs a JSON line
 *         per request, as in production) and meso_bus_client, on an
 *         endpoint listed in MESO_PLAINTEXT_ENDPOINTS;
 *   curve the same over CURVE, as every daemon runs: encryption, the ZAP
 *         handler at connect, and per request the principal's lookup, the
 *         roles check and the actor rewrite.
 * The keys are made for the run in a temporary folder. A fourth line
 * measures libzmq's CURVE alone (the raw client and server over CURVE
 * against raw plaintext), so what the bus adds to CURVE can be told from
 * what CURVE itself costs.
 * Modes: one request in flight (meso_bus_client_call), and 64 in flight
 * (meso_bus_client_send / recv). The body is a packed meso.v1.HealthReply
 * of about 200 bytes.
 *
 * Then memory: meso-demo without a database, VmRSS idle and after 20000
 * Echo requests, against the 8 MB target (bench_bus_memory.c).
 *
 * It prints figures and ratios; it never fails on time. Run it with stderr
 * where a daemon's stderr would go (the bus server logs every request):
 *     build/tests/bench/bench_bus 2>/dev/null
 * For diagnosis: BENCH_LOG=warn turns the request log lines off (to see
 * what they cost); BENCH_HYBRID=1 adds the raw client against the bus
 * server (server overhead alone). The bus servers use worker threads as
 * the daemons do (MESO_WORKERS, MESO_WORKER_QUEUE; MESO_WORKERS=none for
 * none). Two cores shared with other work make
 * single runs noisy: each figure is the best of 3 interleaved runs.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "meso/access.h"
#include "meso/bus.h"
#include "meso/curve.h"
#include "meso/db.h"
#include "meso/log.h"
#include "bench_bus.h"

#define N_SERIAL 20000
#define N_PIPELINED 100000
#define IN_FLIGHT 64
#define REPEATS 3

static uint8_t s_body [512];
static size_t s_body_len;

static int64_t
s_now_us (void)
{
    return zclock_usecs ();
}

static void
s_make_body (void)
{
    Meso__V1__HealthReply h = MESO__V1__HEALTH_REPLY__INIT;
    h.service = "scheduling";
    h.version = "0.1.0";
    h.uptime_s = 123456;
    h.db_ok = true;
    h.lag_ms = 42;
    h.state = MESO__V1__HEALTH_STATE__HEALTH_STATE_OK;
    char *notes [] = {
        "role=primary", "clinic=lyon-part-dieu", "practitioners=12",
        "rooms=5 (2 in maintenance until 2026-12-01)",
        "pending_bookings=3", "last_migration=014_course_plans",
        "tz=Europe/Paris"
    };
    h.notes = notes;
    h.n_notes = sizeof notes / sizeof notes [0];
    s_body_len = meso__v1__health_reply__pack (&h, s_body);
}

/* ------------------------------------------------------------- raw */

typedef struct {
    zsock_t *router;
    volatile int stop;
} raw_server_t;

static void *
s_raw_server (void *arg)
{
    raw_server_t *self = arg;
    void *handle = zsock_resolve (self->router);
    uint8_t *out = malloc (4096);
    while (!self->stop) {
        zmq_pollitem_t item = { handle, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&item, 1, 100) <= 0)
            continue;
        while (true) {
            zmq_msg_t id, empty, payload;
            zmq_msg_init (&id);
            if (zmq_msg_recv (&id, handle, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close (&id);
                break;
            }
            /* [identity][payload], as the bus client sends it. */
            zmq_msg_init (&empty);
            zmq_msg_init (&payload);
            zmq_msg_recv (&payload, handle, 0);
            Meso__V1__Request *req = meso__v1__request__unpack (NULL, zmq_msg_size (&payload),
                                                                zmq_msg_data (&payload));
            Meso__V1__Reply reply = MESO__V1__REPLY__INIT;
            if (req) {
                reply.request_id = req->request_id;
                reply.body = req->body;
            }
            size_t len = meso__v1__reply__pack (&reply, out);
            zmq_msg_send (&id, handle, ZMQ_SNDMORE);
            zmq_send (handle, out, len, 0);
            if (req)
                meso__v1__request__free_unpacked (req, NULL);
            zmq_msg_close (&empty);
            zmq_msg_close (&payload);
        }
    }
    free (out);
    return NULL;
}

typedef struct {
    zsock_t *dealer;
    void *handle;
    uint64_t counter;
    int pid;
    Meso__V1__HealthReply *body;
    uint8_t buf [1024];
} raw_client_t;

static void
s_raw_send (raw_client_t *c)
{
    char id [40];
    snprintf (id, sizeof id, "%d-%" PRIu64, c->pid, ++c->counter);
    /* The same envelope as meso_bus_client's: an actor and a deadline
     * (without them the raw server unpacked a smaller message and did
     * about half the protobuf-c work per request of the bus server). */
    Meso__V1__Actor actor = MESO__V1__ACTOR__INIT;
    actor.kind = MESO__V1__ACTOR__KIND__KIND_SERVICE;
    actor.id = "bench";
    Meso__V1__Request req = MESO__V1__REQUEST__INIT;
    req.request_id = id;
    req.method = "bench.Echo";
    req.deadline_ms = 5000;
    req.actor = &actor;
    /* Packs the body message each time, as the bus client does. */
    uint8_t body [512];
    req.body.data = body;
    req.body.len = meso__v1__health_reply__pack (c->body, body);
    size_t len = meso__v1__request__pack (&req, c->buf);
    zmq_send (c->handle, c->buf, len, 0);
}

static int
s_raw_recv (raw_client_t *c)
{
    zmq_msg_t payload;
    zmq_msg_init (&payload);
    if (zmq_msg_recv (&payload, c->handle, 0) < 0) {
        zmq_msg_close (&payload);
        return -1;
    }
    Meso__V1__Reply *reply = meso__v1__reply__unpack (NULL, zmq_msg_size (&payload),
                                                      zmq_msg_data (&payload));
    int rc = reply && reply->body.len == s_body_len ? 0 : -1;
    if (reply)
        meso__v1__reply__free_unpacked (reply, NULL);
    zmq_msg_close (&payload);
    return rc;
}

/* Returns elapsed microseconds for n round trips with `window` in flight. */
static int64_t
s_raw_run (const char *endpoint, int n, int window, bool curve)
{
    raw_client_t c = { 0 };
    c.dealer = zsock_new (ZMQ_DEALER);
    c.handle = zsock_resolve (c.dealer);
    char err [256];
    if (curve)
        meso_curve_client (c.dealer, "bench", NULL, err, sizeof err);
    zsock_connect (c.dealer, "%s", endpoint);
    c.body = meso__v1__health_reply__unpack (NULL, s_body_len, s_body);
    c.pid = (int) getpid ();
    /* Warm-up (connection set-up is not what we measure). */
    s_raw_send (&c);
    s_raw_recv (&c);
    int64_t start = s_now_us ();
    int sent = 0, received = 0, errors = 0;
    while (sent < window && sent < n) {
        s_raw_send (&c);
        sent++;
    }
    while (received < n) {
        if (s_raw_recv (&c) != 0)
            errors++;
        received++;
        if (sent < n) {
            s_raw_send (&c);
            sent++;
        }
    }
    int64_t took = s_now_us () - start;
    if (errors)
        fprintf (stdout, "raw: %d bad replies\n", errors);
    meso__v1__health_reply__free_unpacked (c.body, NULL);
    zsock_destroy (&c.dealer);
    return took;
}

/* ------------------------------------------------------------- bus */

static void
s_echo (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    (void) body;
    meso_reply_ok_bytes (reply, req->body.data, req->body.len);
}

static const meso_method_t s_methods [] = {
    { "bench.Echo", s_echo, MESO_METHOD_READ, NULL, MESO_ROLE_ALL | MESO_ROLE_ANONYMOUS, NULL, 0 },
    { NULL, NULL, MESO_METHOD_READ, NULL, 0, NULL, 0 }
};

/* A temporary keys folder: pairs for the servers ("bench", "demo") and
 * this process ("client"), the client admitted as an operator. */
static char s_keys [64];

/* Server side (the child): the pairs of the servers ("bench", "demo") and
 * of the client, which is admitted as an operator. */
static int
s_keys_make (void)
{
    const char *names [] = { "bench", "demo", "client" };
    for (int i = 0; i < 3; i++) {
        zcert_t *cert = zcert_new ();
        char path [128];
        snprintf (path, sizeof path, "%s/%s.key", s_keys, names [i]);
        if (!cert || zcert_save (cert, path) != 0)
            return -1;
        zcert_destroy (&cert);
    }
    char err [256];
    if (meso_curve_setup ("bench", s_keys, err, sizeof err) != 0) {
        fprintf (stdout, "keys: %s\n", err);
        return -1;
    }
    zcert_t *client = meso_curve_load ("client", false, err, sizeof err);
    if (!client)
        return -1;
    meso_access_put (meso_principal_new (zcert_public_txt (client), "bench-client",
                                         MESO_PRINCIPAL_OPERATOR, MESO_ROLE_ALL, NULL, 0, NULL, 0,
                                         true, false));
    zcert_destroy (&client);
    return 0;
}

static void
s_keys_remove (void)
{
    const char *names [] = { "bench.key", "bench.key_secret", "demo.key", "demo.key_secret",
                             "client.key", "client.key_secret" };
    for (int i = 0; i < 6; i++) {
        char path [128];
        snprintf (path, sizeof path, "%s/%s", s_keys, names [i]);
        unlink (path);
    }
    rmdir (s_keys);
}

/* A free tcp port on loopback: bind port 0, read it back, release it (a
 * plain socket: libzmq would release it only later, in its I/O thread). */
int
bench_free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET };
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    int port = -1;
    if (fd >= 0 && bind (fd, (struct sockaddr *) &addr, sizeof addr) == 0
        && getsockname (fd, (struct sockaddr *) &addr, &len) == 0)
        port = ntohs (addr.sin_port);
    if (fd >= 0)
        close (fd);
    return port;
}

/* The bench handlers need no state of their own: a worker is just a thread. */
static int
s_worker_init (void *arg, int index, void **worker_arg, meso_db_t **db)
{
    (void) index;
    *worker_arg = arg;
    *db = NULL;
    return 0;
}

static void
s_worker_fini (void *arg, void *worker_arg)
{
    (void) arg;
    (void) worker_arg;
}

/* The bus servers' workers: 0 for MESO_WORKERS=none, else as a daemon
 * resolves MESO_WORKERS. */
static int
s_workers (void)
{
    const char *w = getenv ("MESO_WORKERS");
    if (w && strcmp (w, "none") == 0)
        return 0;
    return meso_bus_workers_resolve (w ? atol (w) : 0);
}

static void *
s_bus_server (void *arg)
{
    meso_bus_server_run ((meso_bus_server_t *) arg, NULL, NULL, 0);
    return NULL;
}

static int64_t
s_bus_run (const char *endpoint, int n, int window)
{
    meso_bus_client_t *client = meso_bus_client_new ("bench", endpoint);
    Meso__V1__HealthReply *body = meso__v1__health_reply__unpack (NULL, s_body_len, s_body);
    meso_result_t r = { 0 };
    meso_bus_client_call (client, "bench.Echo", &body->base, NULL, 5000, &r);    /* warm-up */
    meso_result_reset (&r);
    int errors = 0;
    int64_t start = s_now_us ();
    if (window == 1) {
        for (int i = 0; i < n; i++) {
            if (meso_bus_client_call (client, "bench.Echo", &body->base, NULL, 5000, &r) != 0)
                errors++;
            meso_result_reset (&r);
        }
    }
    else {
        char id [40];
        int sent = 0, received = 0;
        while (sent < window && sent < n) {
            meso_bus_client_send (client, "bench.Echo", &body->base, NULL, 5000, id);
            sent++;
        }
        while (received < n) {
            if (meso_bus_client_recv (client, 5000, &r) != 0 || r.status != MESO_OK)
                errors++;
            meso_result_reset (&r);
            received++;
            if (sent < n) {
                meso_bus_client_send (client, "bench.Echo", &body->base, NULL, 5000, id);
                sent++;
            }
        }
    }
    int64_t took = s_now_us () - start;
    if (errors)
        fprintf (stdout, "bus: %d failed calls\n", errors);
    meso__v1__health_reply__free_unpacked (body, NULL);
    meso_bus_client_destroy (&client);
    return took;
}

/* ------------------------------------------------------------- main */

/* The servers, in a process of their own as a daemon is (with its own
 * libzmq I/O thread: in one process, the client's and the server's CURVE
 * work would share one). Signals ready on fd, serves until SIGTERM. */
static int
s_servers (const char *raw_ep, const char *raw_curve_ep, const char *bus_ep,
           const char *curve_ep, int fd)
{
    zsys_init ();
    meso_log_init ("bench", getenv ("BENCH_LOG") ? getenv ("BENCH_LOG") : "info");
    raw_server_t raw = { 0 };
    raw.router = zsock_new (ZMQ_ROUTER);
    zsock_set_sndhwm (raw.router, 10000);
    zsock_set_rcvhwm (raw.router, 10000);
    raw_server_t rawc = { 0 };
    rawc.router = zsock_new (ZMQ_ROUTER);
    zsock_set_sndhwm (rawc.router, 10000);
    zsock_set_rcvhwm (rawc.router, 10000);
    if (s_keys_make () != 0 || zsock_bind (raw.router, "%s", raw_ep) < 0
        || meso_curve_server (rawc.router, "bench") != 0
        || zsock_bind (rawc.router, "%s", raw_curve_ep) < 0)
        return 1;
    pthread_t raw_thread, rawc_thread;
    pthread_create (&raw_thread, NULL, s_raw_server, &raw);
    pthread_create (&rawc_thread, NULL, s_raw_server, &rawc);
    meso_bus_server_t *bus = meso_bus_server_new ("bench", bus_ep, s_methods, NULL, NULL);
    meso_bus_server_t *curve = meso_bus_server_new ("bench", curve_ep, s_methods, NULL, NULL);
    if (!bus || !curve)
        return 1;
    /* Through worker threads, as the daemons serve: MESO_WORKERS as they
     * read it (unset or 0: one per core); "none" serves in the server's
     * own thread (the pool's reference). */
    int workers = s_workers ();
    if (workers > 0
        && (meso_bus_server_start (bus, workers, s_worker_init, s_worker_fini, NULL) != 0
            || meso_bus_server_start (curve, workers, s_worker_init, s_worker_fini, NULL) != 0))
        return 1;
    pthread_t curve_thread;
    pthread_create (&curve_thread, NULL, s_bus_server, curve);
    if (write (fd, "1", 1) != 1)
        return 1;
    close (fd);
    meso_bus_server_run (bus, NULL, NULL, 0);     /* until SIGTERM */
    meso_bus_server_stop (curve);
    pthread_join (curve_thread, NULL);
    raw.stop = 1;
    rawc.stop = 1;
    pthread_join (raw_thread, NULL);
    pthread_join (rawc_thread, NULL);
    zsock_destroy (&rawc.router);
    fprintf (stderr, "bench servers: plain served %" PRIu64 ", curve %" PRIu64 "\n",
             meso_bus_server_served (bus), meso_bus_server_served (curve));
    meso_bus_server_destroy (&bus);
    meso_bus_server_destroy (&curve);
    zsock_destroy (&raw.router);
    meso_curve_shutdown ();
    return 0;
}

int
main (void)
{
    s_make_body ();
    char raw_ep [64], raw_curve_ep [64], bus_ep [64], curve_ep [64];
    snprintf (raw_ep, sizeof raw_ep, "tcp://127.0.0.1:%d", bench_free_port ());
    snprintf (raw_curve_ep, sizeof raw_curve_ep, "tcp://127.0.0.1:%d", bench_free_port ());
    snprintf (bus_ep, sizeof bus_ep, "tcp://127.0.0.1:%d", bench_free_port ());
    snprintf (curve_ep, sizeof curve_ep, "tcp://127.0.0.1:%d", bench_free_port ());
    setenv ("MESO_PLAINTEXT_ENDPOINTS", bus_ep, 1);
    /* 64 requests in flight may leave a few more replies than that queued
     * at once: give each peer room for 256 (a 64 MiB budget would drop the
     * 65th and cost the bench a 5 s timeout per drop). */
    setenv ("MESO_BUS_PEER_BUDGET", "268435456", 1);
    snprintf (s_keys, sizeof s_keys, "/tmp/meso-bench-keys-XXXXXX");
    if (!mkdtemp (s_keys)) {
        fprintf (stdout, "cannot make a keys folder\n");
        return 1;
    }
    setenv ("MESO_KEYS", s_keys, 1);
    int ready [2];
    if (pipe (ready) != 0)
        return 1;
    /* Before any CZMQ call: a forked child would not have libzmq's threads. */
    pid_t servers = fork ();
    if (servers == 0) {
        close (ready [0]);
        _exit (s_servers (raw_ep, raw_curve_ep, bus_ep, curve_ep, ready [1]));
    }
    close (ready [1]);
    char byte;
    if (servers < 0 || read (ready [0], &byte, 1) != 1) {
        fprintf (stdout, "the bench servers did not start\n");
        return 1;
    }
    close (ready [0]);
    zsys_init ();
    meso_log_init ("bench", getenv ("BENCH_LOG") ? getenv ("BENCH_LOG") : "info");
    char err [256];
    if (meso_curve_setup ("client", s_keys, err, sizeof err) != 0) {
        fprintf (stdout, "keys: %s\n", err);
        kill (servers, SIGTERM);
        return 1;
    }

    const char *wq = getenv ("MESO_WORKER_QUEUE");
    printf ("bus vs raw ZeroMQ+protobuf-c, and CURVE vs plaintext, tcp loopback, body %zu bytes,\n"
            "servers in a process of their own, best of %d interleaved runs; the bus servers\n"
            "log a JSON line per request to stderr; bus workers: %d%s (MESO_WORKERS), "
            "queue %d per worker (MESO_WORKER_QUEUE)\n\n",
            s_body_len, REPEATS, s_workers (), s_workers () ? "" : " (served in the routing thread)",
            meso_bus_queue_resolve (wq));
    printf ("%-14s %10s %9s %10s %9s %8s %8s %10s %9s %11s  %s\n", "mode", "raw req/s",
            "raw us/rt", "plain req/s", "us/rt", "pl/raw", "target", "curve req/s", "us/rt",
            "curve/plain", "target");
    double raw_curve [2] = { 0, 0 }, curve_raw [2] = { 0, 0 };
    struct { const char *name; int n; int window; } modes [] = {
        { "1 in flight", N_SERIAL, 1 },
        { "64 in flight", N_PIPELINED, IN_FLIGHT },
    };
    /* Two cores shared with whatever else runs: interleave the variants
     * and keep the best of REPEATS runs of each. */
    for (size_t i = 0; i < sizeof modes / sizeof modes [0]; i++) {
        int64_t raw_us = INT64_MAX, bus_us = INT64_MAX, curve_us = INT64_MAX;
        int64_t rawc_us = INT64_MAX;
        for (int rep = 0; rep < REPEATS; rep++) {
            int64_t tc = s_raw_run (raw_curve_ep, modes [i].n, modes [i].window, true);
            rawc_us = tc < rawc_us ? tc : rawc_us;
            int64_t t = s_raw_run (raw_ep, modes [i].n, modes [i].window, false);
            raw_us = t < raw_us ? t : raw_us;
            t = s_bus_run (bus_ep, modes [i].n, modes [i].window);
            bus_us = t < bus_us ? t : bus_us;
            t = s_bus_run (curve_ep, modes [i].n, modes [i].window);
            curve_us = t < curve_us ? t : curve_us;
        }
        double raw_rps = modes [i].n / (raw_us / 1e6);
        double bus_rps = modes [i].n / (bus_us / 1e6);
        double curve_rps = modes [i].n / (curve_us / 1e6);
        double ratio = bus_rps / raw_rps;
        double cratio = curve_rps / bus_rps;
        printf ("%-14s %10.0f %9.1f %10.0f %9.1f %8.2f %5s %-2s %10.0f %9.1f %11.2f  >= 0.80 %s\n",
                modes [i].name, raw_rps, (double) raw_us / modes [i].n, bus_rps,
                (double) bus_us / modes [i].n, ratio, ">=0.8", ratio >= 0.80 ? "ok" : "NO",
                curve_rps, (double) curve_us / modes [i].n, cratio,
                cratio >= 0.80 ? "ok" : "BELOW");
        raw_curve [i] = (double) raw_us / (double) rawc_us;
        curve_raw [i] = (double) rawc_us / (double) curve_us;
        fflush (stdout);
    }
    printf ("libzmq's own CURVE, raw client and server as above: raw CURVE / raw plaintext = "
            "%.2f (1 in flight), %.2f (64 in flight)\n", raw_curve [0], raw_curve [1]);
    printf ("bus over CURVE / raw over CURVE (like with like, as the daemons run): "
            "%.2f (1 in flight), %.2f (64 in flight)\n", curve_raw [0], curve_raw [1]);
    if (getenv ("BENCH_HYBRID")) {
        int64_t best = INT64_MAX;
        for (int rep = 0; rep < REPEATS; rep++) {
            int64_t t = s_raw_run (bus_ep, N_PIPELINED, IN_FLIGHT, false);
            best = t < best ? t : best;
        }
        printf ("raw client -> bus server, 64 in flight: %.1f us/rt\n", (double) best / N_PIPELINED);
    }
    kill (servers, SIGTERM);
    waitpid (servers, NULL, 0);

    bench_bus_memory (s_body, s_body_len);
    s_keys_remove ();
    meso_curve_shutdown ();
    return 0;
}
