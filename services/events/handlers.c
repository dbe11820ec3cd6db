/* handlers.c -- the events daemon's method table (events.Replay lives in
 * replay.c), events.Head and the health report.
 *
 * Both methods are reads, served by the active writer and by a standby
 * alike, open to every role: what each caller gets is scoped inside
 * events.Replay (replay.c), and heads are no secret (the heartbeat
 * publishes them to every subscriber). */
#include "meso/access.h"
#include "events.h"
#include "seqwire.h"
#include "events.pb-c.h"
#include "meso/metrics.h"
#include "meso/mtime.h"
#include "meso/outbox.h"

#include <stdio.h>
#include <stdlib.h>

static void
s_head (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    (void) body;
    events_t *self = arg;
    uint64_t heads[EVENTS_NSTREAMS] = { 0 }, first[EVENTS_NSTREAMS] = { 0 }, global = 0;
    if (store_heads (self->db, heads, &global, first) != 0) {
        meso_reply_db_error (reply, self->db, "cannot read the stream heads");
        return;
    }
    Meso__V1__StreamHead sh[EVENTS_NSTREAMS];
    Meso__V1__StreamHead *shp[EVENTS_NSTREAMS];
    for (int i = 0; i < EVENTS_NSTREAMS; i++) {
        meso__v1__stream_head__init (&sh[i]);
        sh[i].stream = (char *) events_streams[i];
        sh[i].head = heads[i];
        sh[i].first_retained = first[i];
        shp[i] = &sh[i];
    }
    Meso__V1__Heartbeat hb = MESO__V1__HEARTBEAT__INIT;
    hb.at_us = meso_time_now_us ();
    hb.n_heads = EVENTS_NSTREAMS;
    hb.heads = shp;
    hb.global_head = global;
    pthread_mutex_lock (&self->main->lock);
    hb.active = self->main->active;
    pthread_mutex_unlock (&self->main->lock);
    meso_reply_ok (reply, &hb.base);
}

const meso_method_t events_methods[] = {
    { "events.Replay", events_replay, MESO_METHOD_READ, &meso__v1__replay_request__descriptor,
      MESO_ROLE_ALL, NULL, MESO_METHOD_NO_PATIENT },
    { "events.Head", s_head, MESO_METHOD_READ, &meso__v1__head_request__descriptor,
      MESO_ROLE_ALL, NULL, MESO_METHOD_NO_PATIENT },
    { NULL, NULL, 0, NULL, 0, NULL, 0 }
};

void
events_health (Meso__V1__HealthReply *health, void *arg)
{
    events_t *self = arg;           /* the serving worker's: its db */
    events_t *m = self->main;
    static __thread char notes[3][320];
    static __thread char *note_ptrs[3];
    for (int i = 0; i < 3; i++)
        note_ptrs[i] = notes[i];
    pthread_mutex_lock (&m->lock);
    bool active = m->active;
    uint64_t global_head = m->global_head, published = m->published;
    store_horizon_t h = m->horizon;
    pthread_mutex_unlock (&m->lock);
    snprintf (notes[0], sizeof notes[0], "role=%s", active ? "active" : "standby");
    snprintf (notes[1], sizeof notes[1], "global_head=%llu published=%llu",
              (unsigned long long) global_head, (unsigned long long) published);
    health->n_notes = 2;
    health->notes = note_ptrs;
    if (health->db_ok) {
        int64_t lag = store_outbox_lag_ms (self->db);
        health->lag_ms = lag < 0 ? 0 : lag;
        /* Rows waiting more than 10 s mean relaying is stuck (or a long
         * transaction holds the horizon back). */
        if (active && lag > 10000)
            health->state = MESO__V1__HEALTH_STATE__HEALTH_STATE_DEGRADED;
        /* The gapless rule makes every event wait for the oldest running
         * write transaction: say which one, and for how long (measured by
         * events_watch_horizon, once a second). */
        if (active && h.pid && h.age_ms > m->held_warn_ms) {
            health->state = MESO__V1__HEALTH_STATE__HEALTH_STATE_DEGRADED;
            snprintf (notes[2], sizeof notes[2],
                      "relay held back %lld ms by pid %d (role %s, database %s, %s) "
                      "over MESO_EVENTS_HELD_WARN_MS=%lld", (long long) h.age_ms, h.pid,
                      h.role, h.database, h.state, (long long) m->held_warn_ms);
            health->n_notes = 3;
        }
    }
}

void
events_watch_horizon (events_t *self)
{
    store_horizon_t h;
    memset (&h, 0, sizeof h);
    bool ok = self->active && store_horizon (self->db, &h) == 0;
    if (!ok)
        memset (&h, 0, sizeof h);
    pthread_mutex_lock (&self->lock);
    self->horizon = h;
    pthread_mutex_unlock (&self->lock);
    if (!ok)
        return;
    meso_metrics_set ("meso_events_held_back_seconds",
                      "Age of the oldest running transaction the relay must wait for.",
                      NULL, NULL, (double) h.age_ms / 1000.0);
}
