/* bench_bus_memory.c -- bench_bus's last part: meso-demo without a
 * database, VmRSS, RssAnon, RssFile and PSS idle and after MEM_REQUESTS
 * Echo requests (64 in flight through a bare DEALER), against the 8 MB
 * target, and whether it exits cleanly on SIGTERM. */
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "meso/bus.h"
#include "bench_bus.h"

#define IN_FLIGHT 64
#define MEM_REQUESTS 20000

static int64_t
s_now_us (void)
{
    return zclock_usecs ();
}

/* One "Key: N kB" value of a /proc file, or -1. */
static long
s_proc_kb (pid_t pid, const char *file, const char *key)
{
    char path [64];
    snprintf (path, sizeof path, "/proc/%d/%s", (int) pid, file);
    FILE *f = fopen (path, "r");
    if (!f)
        return -1;
    char line [256];
    long kb = -1;
    size_t keylen = strlen (key);
    while (fgets (line, sizeof line, f))
        if (strncmp (line, key, keylen) == 0 && line [keylen] == ':') {
            kb = strtol (line + keylen + 1, NULL, 10);
            break;
        }
    fclose (f);
    return kb;
}

typedef struct {
    long rss, anon, file, pss;
} s_mem_t;

static s_mem_t
s_mem (pid_t pid)
{
    s_mem_t m = {
        s_proc_kb (pid, "status", "VmRSS"), s_proc_kb (pid, "status", "RssAnon"),
        s_proc_kb (pid, "status", "RssFile"), s_proc_kb (pid, "smaps_rollup", "Pss")
    };
    return m;
}

static void
s_demo_path (char *out, size_t size)
{
    const char *build = getenv ("MESO_BUILD_DIR");
    if (build && *build) {
        snprintf (out, size, "%s/bin/meso-demo", build);
        return;
    }
    /* build/tests/bench/bench_bus -> build/bin/meso-demo */
    char exe [PATH_MAX];
    ssize_t n = readlink ("/proc/self/exe", exe, sizeof exe - 1);
    exe [n > 0 ? n : 0] = '\0';
    char *dir = dirname (dirname (dirname (exe)));
    snprintf (out, size, "%s/bin/meso-demo", dir);
}

void
bench_bus_memory (const uint8_t *s_body, size_t s_body_len)
{
    char demo [PATH_MAX + 32];
    s_demo_path (demo, sizeof demo);
    if (access (demo, X_OK) != 0) {
        printf ("\nmemory: %s not found (build meso-demo), skipped\n", demo);
        return;
    }
    /* Plaintext, so that the load below can use a bare DEALER. */
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", bench_free_port ());
    char plain [512];
    snprintf (plain, sizeof plain, "%s,%s", getenv ("MESO_PLAINTEXT_ENDPOINTS"), endpoint);
    setenv ("MESO_PLAINTEXT_ENDPOINTS", plain, 1);

    pid_t pid = fork ();
    if (pid == 0) {
        FILE *devnull = freopen ("/dev/null", "w", stderr);
        (void) devnull;
        execl (demo, "meso-demo", "--db", "", "--bind", endpoint, (char *) NULL);
        _exit (127);
    }
    meso_bus_client_t *client = meso_bus_client_new ("demo", endpoint);
    meso_bus_client_set_attempt_timeout (client, 200);
    meso_result_t r = { 0 };
    int up = meso_bus_client_call (client, "Health", NULL, NULL, 10000, &r);
    meso_result_reset (&r);
    if (up != 0) {
        printf ("\nmemory: meso-demo did not come up on %s\n", endpoint);
        kill (pid, SIGKILL);
        waitpid (pid, NULL, 0);
        meso_bus_client_destroy (&client);
        return;
    }
    zclock_sleep (200);
    s_mem_t idle = s_mem (pid);

    /* A packed meso.test.EchoRequest { bytes payload = 1 } around the same
     * body, written by hand (demo.proto is not linked here). The load goes
     * through a plain DEALER with 64 in flight to be quick. */
    uint8_t echo [600];
    echo [0] = 0x0A;
    echo [1] = (uint8_t) (0x80 | (s_body_len & 0x7F));
    echo [2] = (uint8_t) (s_body_len >> 7);
    memcpy (echo + 3, s_body, s_body_len);
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    void *handle = zsock_resolve (dealer);
    zsock_connect (dealer, "%s", endpoint);
    uint8_t buf [1024];
    int ok = 0, sent = 0, received = 0;
    uint64_t counter = 0;
    int64_t start = s_now_us ();
    while (received < MEM_REQUESTS) {
        while (sent < MEM_REQUESTS && sent - received < IN_FLIGHT) {
            char id [40];
            snprintf (id, sizeof id, "mem-%" PRIu64, ++counter);
            Meso__V1__Request req = MESO__V1__REQUEST__INIT;
            req.request_id = id;
            req.method = "demo.Echo";
            req.body.data = echo;
            req.body.len = s_body_len + 3;
            size_t len = meso__v1__request__pack (&req, buf);
            zmq_send (handle, "", 0, ZMQ_SNDMORE);
            zmq_send (handle, buf, len, 0);
            sent++;
        }
        zmq_msg_t empty, reply;
        zmq_msg_init (&empty);
        zmq_msg_init (&reply);
        zmq_msg_recv (&empty, handle, 0);
        zmq_msg_recv (&reply, handle, 0);
        Meso__V1__Reply *rep = meso__v1__reply__unpack (NULL, zmq_msg_size (&reply),
                                                        zmq_msg_data (&reply));
        if (rep && rep->status == MESO__V1__STATUS__STATUS_OK
            && rep->body.len == s_body_len + 3)
            ok++;
        if (rep)
            meso__v1__reply__free_unpacked (rep, NULL);
        zmq_msg_close (&empty);
        zmq_msg_close (&reply);
        received++;
    }
    int64_t took = s_now_us () - start;
    zsock_destroy (&dealer);
    s_mem_t loaded = s_mem (pid);
    kill (pid, SIGTERM);
    int status = 0;
    waitpid (pid, &status, 0);
    meso_bus_client_destroy (&client);

    printf ("\nmemory of meso-demo --db '' (target: VmRSS < 8 MB = 8192 kB)\n");
    printf ("  %-38s %8s %8s %8s %8s\n", "", "VmRSS", "RssAnon", "RssFile", "Pss");
    printf ("  %-38s %5ld kB %5ld kB %5ld kB %5ld kB  %s\n", "idle", idle.rss, idle.anon,
            idle.file, idle.pss, idle.rss < 8192 ? "ok" : "OVER");
    char label [64];
    snprintf (label, sizeof label, "after %d Echo (%d OK, %.0f/s)", MEM_REQUESTS, ok,
              MEM_REQUESTS / (took / 1e6));
    printf ("  %-38s %5ld kB %5ld kB %5ld kB %5ld kB  %s\n", label, loaded.rss, loaded.anon,
            loaded.file, loaded.pss, loaded.rss < 8192 ? "ok" : "OVER");
    printf ("  (RssFile is shared library pages -- libzmq, libpq and what they pull in --\n"
            "   shared with every other process using them; RssAnon is the daemon's own)\n");
    printf ("  exit on SIGTERM: %s\n",
            WIFEXITED (status) && WEXITSTATUS (status) == 0 ? "clean (0)" : "NOT CLEAN");
}

