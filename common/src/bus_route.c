/* bus_route.c -- moving requests and replies through the ROUTER: reading a
 * whole message, sending a reply back on its route (the server's loop is
 * in bus_server.c).
 *
 * Why it is built this way:
 * - Reading and sending are apart from serving (bus_server.c) so that the
 *   routing thread of a server with workers (bus_pool.c) does only this:
 *   the frames of a request are read into a job that a worker serves, and
 *   its reply message (job->reply, made by the worker) is sent from there:
 *   zmq_msg_send hands it to libzmq without a copy.
 * - Replies are sent with ZMQ_DONTWAIT and ZMQ_ROUTER_MANDATORY: a peer
 *   that went away (EHOSTUNREACH) or stopped reading (EAGAIN at the HWM)
 *   costs a dropped reply, never a blocked server. Drops are counted
 *   (meso_bus_replies_dropped_total{reason}) and logged at most once per
 *   DROP_LOG_MS with the count since the last line: a flood of unread
 *   replies must not become a flood of log lines. Only one thread sends
 *   (the routing thread, or the caller's without workers), so the drop
 *   counters need no lock. */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "meso/bus.h"
#include "meso/log.h"
#include "meso/metrics.h"
#include "bus_private.h"

#define DROP_LOG_MS 10000
#define DROPPED_HELP "Replies dropped: the peer was gone or not reading (its queue was full)."

/* A reply that could not be sent: counted always, logged at most once per
 * DROP_LOG_MS (with how many were dropped since the previous line). */
static void
s_dropped (meso_bus_server_t *self, const char *request_id, int err)
{
    /* EHOSTUNREACH: the client is gone; EAGAIN: it stopped reading. */
    meso_metrics_add ("meso_bus_replies_dropped_total", DROPPED_HELP,
                      "reason", err == EAGAIN ? "not_reading" : "gone", 1);
    self->drops_unlogged++;
    int64_t now = zclock_mono ();
    if (now < self->drop_log_at)
        return;
    meso_warn ("%llu repl%s dropped since the last such line (at most one every %d s), "
               "the latest to request %s: %s "
               "(a peer holds at most %d unread replies, MESO_BUS_PEER_BUDGET)",
               (unsigned long long) self->drops_unlogged, self->drops_unlogged == 1 ? "y" : "ies",
               DROP_LOG_MS / 1000, request_id,
               err == EAGAIN ? "the peer is not reading" : zmq_strerror (err), self->sndhwm);
    self->drops_unlogged = 0;
    self->drop_log_at = now + DROP_LOG_MS;
}

void
meso_bus_send (meso_bus_server_t *self, meso_bus_job_t *job)
{
    if (zmq_msg_send (&job->identity, self->handle, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
        s_dropped (self, job->request_id, zmq_errno ());
        zmq_msg_close (&job->identity);
        zmq_msg_close (&job->reply);
        return;
    }
    /* Once the first part is accepted the rest of the message is too. */
    if (job->delimited)
        zmq_send (self->handle, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    if (zmq_msg_send (&job->reply, self->handle, ZMQ_DONTWAIT) < 0)
        zmq_msg_close (&job->reply);
}

void
meso_bus_job_close (meso_bus_job_t *job)
{
    for (int i = 0; i < job->kept; i++)
        zmq_msg_close (&job->frames [i]);
    job->kept = 0;
}

int
meso_bus_recv (meso_bus_server_t *self, meso_bus_job_t *job)
{
    job->kept = 0;
    zmq_msg_init (&job->identity);
    if (zmq_msg_recv (&job->identity, self->handle, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&job->identity);
        return zmq_errno () == EAGAIN ? 0 : -1;
    }
    job->received_us = meso_bus_now_us ();
    int count = 0;
    int more = zmq_msg_more (&job->identity);
    while (more) {
        zmq_msg_t scratch;
        zmq_msg_t *frame = count < MESO_BUS_FRAMES_KEPT ? &job->frames [count] : &scratch;
        zmq_msg_init (frame);
        /* Parts of a message arrive together: this does not block. */
        if (zmq_msg_recv (frame, self->handle, 0) < 0) {
            zmq_msg_close (frame);
            if (zmq_errno () == EINTR)
                continue;
            break;
        }
        more = zmq_msg_more (frame);
        if (frame == &scratch)
            zmq_msg_close (frame);
        else
            job->kept++;
        count++;
    }
    job->count = count > 0 ? count : 1;
    return 1;
}
