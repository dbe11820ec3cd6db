/* test_fd_limit.c -- a daemon out of file descriptors, against a real
 * meso-screening and PostgreSQL:
 *   - started with soft < hard open-files limit, it runs with soft = hard
 *     (/proc/<pid>/limits);
 *   - started with 64:64, more idle TCP connections than that are opened:
 *     the accept failures are counted (meso_bus_accept_failed_total on
 *     /metrics, beside meso_process_open_fds and meso_process_max_fds) and
 *     logged, once the connections are closed the daemon answers again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "meso/mtime.h"

#define IDLE 100               /* over 64, under 64 + the listen backlog (100): connect never waits */

static pid_t
s_spawn (const char *limit, int port, int metrics_port)
{
    char conninfo[512], dbarg[600], bind[64], metrics[64], exe[600], nofile[64];
    mt_role_conninfo ("fd_limit", "meso_screening", conninfo, sizeof conninfo);
    snprintf (dbarg, sizeof dbarg, "--db=%s", conninfo);
    snprintf (bind, sizeof bind, "--bind=tcp://127.0.0.1:%d", port);
    snprintf (metrics, sizeof metrics, "--metrics=127.0.0.1:%d", metrics_port);
    snprintf (exe, sizeof exe, "%s/bin/meso-screening", mt_build_dir ());
    snprintf (nofile, sizeof nofile, "--nofile=%s", limit);
    const char *argv[] = { "prlimit", nofile, exe, dbarg, bind, metrics, "--scheduling=", NULL };
    pid_t pid = mt_spawn ("/usr/bin/prlimit", argv, NULL);
    assert_true (pid > 0);
    char endpoint[64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port);
    /* Started through prlimit: say whose key the endpoint serves with. */
    mt_service_register (endpoint, "screening");
    assert_int_equal (mt_wait_healthy (endpoint, 10000), 0);
    return pid;
}

/* The value of a metric without labels on /metrics (-1 when absent). */
static double
s_metric (int metrics_port, const char *name)
{
    char path[600];
    snprintf (path, sizeof path, "%s/fd-metrics-%d.txt", mt_build_dir (), (int) getpid ());
    if (mt_sh ("curl -s -m 5 http://127.0.0.1:%d/metrics > %s", metrics_port, path) != 0)
        return -1;
    FILE *f = fopen (path, "r");
    assert_non_null (f);
    char line[512];
    double v = -1;
    size_t n = strlen (name);
    while (fgets (line, sizeof line, f))
        if (strncmp (line, name, n) == 0 && line[n] == ' ')
            v = strtod (line + n + 1, NULL);
    fclose (f);
    unlink (path);
    return v;
}

static void
test_soft_limit_raised_to_hard (void **state)
{
    (void) state;
    struct rlimit rl;
    assert_int_equal (getrlimit (RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max <= 64)
        skip ();
    char limit[64];
    snprintf (limit, sizeof limit, "64:%llu", (unsigned long long) rl.rlim_max);
    int metrics_port = mt_free_port ();
    pid_t pid = s_spawn (limit, mt_free_port (), metrics_port);
    char path[64], line[256];
    snprintf (path, sizeof path, "/proc/%d/limits", (int) pid);
    FILE *f = fopen (path, "r");
    assert_non_null (f);
    unsigned long long soft = 0, hard = 0;
    while (fgets (line, sizeof line, f))
        if (strncmp (line, "Max open files", 14) == 0)
            sscanf (line + 14, "%llu %llu", &soft, &hard);
    fclose (f);
    print_message ("started with %s: soft %llu, hard %llu\n", limit, soft, hard);
    assert_int_equal (hard, (unsigned long long) rl.rlim_max);
    assert_int_equal (soft, hard);
    assert_true (s_metric (metrics_port, "meso_process_max_fds") == (double) hard);
    assert_true (s_metric (metrics_port, "meso_process_open_fds") > 0);
    int64_t t0 = meso_time_mono_ms ();
    assert_int_equal (mt_stop (pid, SIGTERM), 0);
    print_message ("stopped in %lld ms\n", (long long) (meso_time_mono_ms () - t0));
}

static void
test_exhausted_descriptors_are_counted_and_logged (void **state)
{
    (void) state;
    int port = mt_free_port ();
    int metrics_port = mt_free_port ();
    pid_t pid = s_spawn ("64:64", port, metrics_port);
    assert_true (s_metric (metrics_port, "meso_process_max_fds") == 64);

    /* Idle connections that never speak ZMTP: each costs the daemon a
     * descriptor until it runs out. */
    int fds[IDLE];
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port) };
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    for (int i = 0; i < IDLE; i++) {
        fds[i] = socket (AF_INET, SOCK_STREAM, 0);
        assert_true (fds[i] >= 0);
        assert_int_equal (connect (fds[i], (struct sockaddr *) &addr, sizeof addr), 0);
    }
    /* Logged at once (mt_spawn: test-logs/<basename>-<pid>.log); the
     * metrics endpoint needs a descriptor too, so it is read after. */
    int64_t t0 = meso_time_mono_ms ();
    int logged = 1;
    while (meso_time_mono_ms () - t0 < 10000
           && (logged = mt_sh ("grep -q 'cannot accept connections on' %s/test-logs/prlimit-%d.log",
                               mt_build_dir (), (int) pid)) != 0)
        mt_sleep_ms (100);
    assert_int_equal (logged, 0);
    print_message ("logged after %lld ms\n", (long long) (meso_time_mono_ms () - t0));
    for (int i = 0; i < IDLE; i++)
        close (fds[i]);
    double failed = -1;
    t0 = meso_time_mono_ms ();
    while (meso_time_mono_ms () - t0 < 20000
           && (failed = s_metric (metrics_port, "meso_bus_accept_failed_total")) <= 0)
        mt_sleep_ms (100);
    print_message ("accept failures counted: %.0f, in %lld ms\n", failed,
                   (long long) (meso_time_mono_ms () - t0));
    assert_true (failed > 0);
    /* With the idle connections gone it serves again. */
    char endpoint[64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port);
    t0 = meso_time_mono_ms ();
    assert_int_equal (mt_wait_healthy (endpoint, 10000), 0);
    print_message ("healthy again after %lld ms\n", (long long) (meso_time_mono_ms () - t0));
    t0 = meso_time_mono_ms ();
    assert_int_equal (mt_stop (pid, SIGTERM), 0);
    print_message ("stopped in %lld ms\n", (long long) (meso_time_mono_ms () - t0));
}

static int
s_setup (void **state)
{
    (void) state;
    char admin[512];
    return mt_db_create ("fd_limit", admin, sizeof admin);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_soft_limit_raised_to_hard),
        cmocka_unit_test (test_exhausted_descriptors_are_counted_and_logged),
    };
    return cmocka_run_group_tests (tests, s_setup, NULL);
}
