/* bus_monitor.c -- file descriptors of a daemon: the limit raised at start,
 * and what the ROUTER cannot tell its loop, counted and logged.
 *
 * Why it is built this way:
 * - Every connection a ROUTER accepts costs a descriptor. Once the process
 *   runs out (EMFILE), libzmq's listener can no longer accept: new clients
 *   hang, and nothing reaches the server's loop, since no message arrives.
 *   libzmq reports it only through a socket monitor (ZMQ_EVENT_ACCEPT_FAILED
 *   with the errno). The monitor's events are read by a small actor thread
 *   of their own, so they are seen whatever loop the daemon runs and even
 *   when no request ever arrives again.
 * - The actor counts the failures (meso_bus_accept_failed_total) and logs
 *   them at most once per LOG_EVERY_MS (the first at once, then the count
 *   since the last line): libzmq's listener retries the accept at every
 *   poll while the process is out of descriptors (hundreds of thousands of
 *   times a second), so one line per attempt would flood the log, and the
 *   counter is updated in batches (COUNT_EVERY_MS) rather than per event.
 * - Every second it also records the open descriptors and the limit
 *   (meso_process_open_fds, meso_process_max_fds) so an operator sees the
 *   exhaustion coming. Counting /proc/self/fd itself needs a descriptor: at
 *   the limit the gauge keeps its last value.
 * - meso_fd_limit_raise: the soft RLIMIT_NOFILE of a service is often 1024
 *   (or lower) while the hard limit allows much more; a daemon raises its
 *   soft limit to the hard one at start (meso_bus_server_new calls it), so
 *   the hard limit set by the operator (systemd LimitNOFILE, docker
 *   --ulimit) is what counts. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "meso/log.h"
#include "meso/metrics.h"
#include "bus_private.h"

#define LOG_EVERY_MS 10000
#define GAUGE_EVERY_MS 1000
#define COUNT_EVERY_MS 100

struct meso_bus_monitor_t {
    void *router;               /* the libzmq socket watched */
    zactor_t *actor;
};

void
meso_fd_limit_raise (void)
{
    struct rlimit rl;
    if (getrlimit (RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max)
        return;
    rlim_t was = rl.rlim_cur;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit (RLIMIT_NOFILE, &rl) != 0)
        meso_warn ("cannot raise the open-files limit from %llu to %llu: %s",
                   (unsigned long long) was, (unsigned long long) rl.rlim_max,
                   strerror (errno));
    else
        meso_info ("open-files limit raised from %llu to %llu (the hard limit)",
                   (unsigned long long) was, (unsigned long long) rl.rlim_max);
}

static void
s_record_fds (void)
{
    struct rlimit rl;
    if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        meso_metrics_set ("meso_process_max_fds", "Limit of open file descriptors (soft)",
                          NULL, NULL, (double) rl.rlim_cur);
    DIR *dir = opendir ("/proc/self/fd");
    if (!dir)
        return;                 /* at the limit, or no /proc: keep the last value */
    long n = 0;
    struct dirent *entry;
    while ((entry = readdir (dir)))
        if (entry->d_name[0] != '.')
            n++;
    closedir (dir);
    meso_metrics_set ("meso_process_open_fds", "Open file descriptors", NULL, NULL,
                      (double) (n > 0 ? n - 1 : 0));    /* less the one reading */
}

/* The actor: args is the monitor's inproc endpoint, a heap copy the actor
 * owns and frees. Threads: the daemon's thread writes the copy before
 * zactor_new starts this thread (pthread_create orders the two), and only
 * this thread reads and frees it. It was a buffer on the caller's stack,
 * read here while zactor_new waited: the only ordering between that read
 * and the caller's next use of its stack was the signal over the inproc
 * pipe, which libzmq passes through lock-free queues ThreadSanitizer cannot
 * see, and a copy owned by one thread needs no such argument. */
static void
s_actor (zsock_t *pipe, void *args)
{
    char *endpoint = args;
    zsock_t *events = zsock_new_pair (NULL);
    int rc = events ? zsock_connect (events, "%s", endpoint) : -1;
    free (endpoint);
    if (rc != 0) {
        zsock_destroy (&events);
        zsock_signal (pipe, 1);
        return;
    }
    zsock_signal (pipe, 0);
    zpoller_t *poller = zpoller_new (pipe, events, NULL);
    unsigned long unlogged = 0;
    int64_t last_log = 0;
    int last_errno = 0;
    char where[256] = "";
    int64_t next_gauge = 0;
    unsigned long uncounted = 0;
    int64_t next_count = 0;
    s_record_fds ();
    while (poller) {
        int64_t now = zclock_mono ();
        if (now >= next_gauge) {
            s_record_fds ();
            next_gauge = now + GAUGE_EVERY_MS;
        }
        if (uncounted && now >= next_count) {
            meso_metrics_add ("meso_bus_accept_failed_total",
                              "Connections the ROUTER could not accept (EMFILE...)",
                              NULL, NULL, (double) uncounted);
            uncounted = 0;
            next_count = now + COUNT_EVERY_MS;
        }
        if (unlogged && now - last_log >= LOG_EVERY_MS) {
            meso_warn ("cannot accept connections on %s: %s (%lu failures since the last "
                       "message); raise the open-files limit or close idle clients "
                       "(metric meso_bus_accept_failed_total)",
                       where, strerror (last_errno), unlogged);
            unlogged = 0;
            last_log = now;
        }
        int64_t until = uncounted && next_count < next_gauge ? next_count : next_gauge;
        int wait = (int) (until - now);
        void *which = zpoller_wait (poller, wait > 0 ? wait : 0);
        if (which == pipe)
            break;              /* $TERM */
        if (which != events) {
            if (zpoller_terminated (poller))
                break;
            continue;
        }
        zmsg_t *msg = zmsg_recv (events);
        if (!msg)
            break;
        zframe_t *head = zmsg_first (msg);
        zframe_t *addr = zmsg_next (msg);
        if (head && zframe_size (head) >= 6) {
            const uint8_t *d = zframe_data (head);
            uint16_t event;
            uint32_t value;
            memcpy (&event, d, 2);
            memcpy (&value, d + 2, 4);
            if (event == ZMQ_EVENT_ACCEPT_FAILED) {
                uncounted++;
                last_errno = (int) value;
                if (addr)
                    snprintf (where, sizeof where, "%.*s", (int) zframe_size (addr),
                              (const char *) zframe_data (addr));
                unlogged++;
            }
        }
        zmsg_destroy (&msg);
    }
    zpoller_destroy (&poller);
    zsock_destroy (&events);
}

meso_bus_monitor_t *
meso_bus_monitor_new (void *router)
{
    meso_bus_monitor_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->router = router;
    /* One endpoint per server: a process may run several. */
    char endpoint[64];
    snprintf (endpoint, sizeof endpoint, "inproc://meso-bus-monitor-%p", (void *) self);
    char *copy = strdup (endpoint);     /* the actor's: see s_actor */
    if (!copy) {
        free (self);
        return NULL;
    }
    if (zmq_socket_monitor (router, endpoint, ZMQ_EVENT_ACCEPT_FAILED) != 0) {
        meso_warn ("cannot monitor the ROUTER socket: %s", zmq_strerror (zmq_errno ()));
        free (copy);
        free (self);
        return NULL;
    }
    /* CZMQ's zactor_new returns NULL only when an allocation fails, before
     * it starts the thread: the copy is then still ours. */
    self->actor = zactor_new (s_actor, copy);
    if (!self->actor) {
        free (copy);
        zmq_socket_monitor (router, NULL, 0);
        free (self);
        return NULL;
    }
    return self;
}

void
meso_bus_monitor_destroy (meso_bus_monitor_t **self_p)
{
    meso_bus_monitor_t *self = *self_p;
    if (!self)
        return;
    zactor_destroy (&self->actor);
    zmq_socket_monitor (self->router, NULL, 0);
    free (self);
    *self_p = NULL;
}
