/* test_webhooks.c -- meso-webhooks against real receivers (issue 18,
 * part 1).
 *
 * Real PostgreSQL, meso-events, meso-webhooks, and HTTP receivers started
 * here (tests/integration/webhook_receiver.py: Python's http.server, one
 * path per behaviour). Events are written through the outbox by
 * meso-test-emit, each scenario in a clinic of its own, so every
 * subscription (scoped to one clinic) sees only its scenario's events.
 * What is asserted is what a receiver sees:
 *   - every request's signature checks with Python's hmac over
 *     timestamp "." body, within the timestamp tolerance, and the headers
 *     name the body's event;
 *   - events arrive in stream order, each once (after deduplication by
 *     event id) and all of them;
 *   - a receiver failing 3 times (503) then succeeding gets every event,
 *     once each after deduplication, in order, and the failed attempts
 *     are listed;
 *   - a receiver answering 410 parks its subscription (listed with
 *     --parked, metric meso_webhook_parked 1); after it recovers an
 *     operator's replay delivers everything;
 *   - meso-webhooks killed with SIGKILL mid-delivery resumes from its
 *     cursor: every event arrives, in order, none missing;
 *   - a receiver that accepts and never answers does not delay a healthy
 *     one: the healthy one has every event within a bound while the hung
 *     one's attempts time out;
 *   - health fields (clinical notes) absent for a subscription without
 *     include_health, present with it; a manager without health access
 *     cannot add include_health, nor a subscription of another clinic or
 *     of every clinic; a bad URL is refused naming the field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "meso/mtime.h"
#include "webhooks.pb-c.h"

#define DB "webhooks_test"
#define TIMEOUT_MS 4000

typedef struct {
    char conninfo[512];
    char router[256], pub[256], bind[256];
    char logdir[512], log[600], state[600];
    int metrics_port;
    pid_t events, webhooks, receiver;
    int port;
    meso_bus_client_t *client;
    meso_db_t *db;
    int seq;
    char order_id[40];          /* test_signed_in_order's subscription */
} env_t;

static env_t *E;

/* ------------------------------------------------------------- helpers */

static pid_t
s_spawn_webhooks (env_t *e)
{
    char db[600], role[512], bind[300], ev[300], pub[300], metrics[64];
    mt_role_conninfo (DB, "meso_webhooks", role, sizeof role);
    snprintf (db, sizeof db, "--db=%s", role);
    snprintf (bind, sizeof bind, "--bind=%s", e->bind);
    snprintf (ev, sizeof ev, "--events=%s", e->router);
    snprintf (pub, sizeof pub, "--events-pub=%s", e->pub);
    snprintf (metrics, sizeof metrics, "--metrics=127.0.0.1:%d", e->metrics_port);
    const char *argv[] = { "meso-webhooks", db, bind, ev, pub, metrics, "--timeout-ms=4000",
                           "--backoff-base-ms=50", "--backoff-cap-ms=400", "--max-attempts=2",
                           "--park-after=10", NULL };
    pid_t pid = mt_spawn ("bin/meso-webhooks", argv, NULL);
    assert_true (pid > 0);
    assert_int_equal (mt_wait_healthy (e->bind, 15000), 0);
    return pid;
}

static void
s_emit (env_t *e, const char *stream, const char *clinic, int count, bool health)
{
    assert_int_equal (mt_sh ("%s/bin/meso-test-emit --db '%s' --stream %s --clinic %s --count %d --per-txn 5%s "
                             ">/dev/null", mt_build_dir (), e->conninfo, stream, clinic, count,
                             health ? " --health" : ""), 0);
}

/* Adds a subscription; returns its id in id, its secret in secret. */
static int
s_add (env_t *e, meso_bus_client_t *c, const char *clinic, const char *path, const char *stream,
       bool health, char *id, char *secret, meso_result_t *r)
{
    char url[300];
    snprintf (url, sizeof url, "http://127.0.0.1:%d/%s", e->port, path);
    char *streams[] = { (char *) stream };
    Meso__V1__AddSubscriptionRequest rq = MESO__V1__ADD_SUBSCRIPTION_REQUEST__INIT;
    rq.clinic_id = (char *) clinic;
    rq.url = url;
    rq.streams = streams;
    rq.n_streams = 1;
    rq.include_health = health;
    int status = mt_call (c, "webhooks.AddSubscription", &rq.base, NULL, &e->seq, r);
    if (status == MESO_OK) {
        size_t len;
        const uint8_t *body = meso_result_body (r, &len);
        Meso__V1__AddSubscriptionReply *rep = meso__v1__add_subscription_reply__unpack (NULL, len, body);
        assert_non_null (rep);
        assert_int_equal (strlen (rep->secret), 64);
        snprintf (id, 40, "%s", rep->subscription->subscription_id);
        snprintf (secret, 65, "%s", rep->secret);
        assert_int_equal (rep->subscription->state, MESO__V1__SUBSCRIPTION_STATE__SUBSCRIPTION_STATE_ACTIVE);
        meso__v1__add_subscription_reply__free_unpacked (rep, NULL);
    }
    return status;
}

/* The events name answered 200 to, deduplicated: their stream sequences
 * in arrival order into seqs (at most max); returns the count, and the
 * duplicates in *dups. */
static int
s_delivered (env_t *e, const char *name, long *seqs, int max, int *dups)
{
    char cmd[1400];
    snprintf (cmd, sizeof cmd, "python3 %s/tests/integration/webhook_receiver.py delivered --log %s --name %s",
              mt_source_dir (), e->log, name);
    FILE *p = popen (cmd, "r");
    assert_non_null (p);
    char line[256];
    int n = 0;
    *dups = 0;
    while (fgets (line, sizeof line, p)) {
        char stream[32];
        long seq;
        if (sscanf (line, "duplicates %d", dups) == 1)
            continue;
        if (sscanf (line, "%31s %ld", stream, &seq) == 2 && n < max)
            seqs[n++] = seq;
    }
    pclose (p);
    return n;
}

/* Waits until name has want distinct events answered 200; returns how many. */
static int
s_wait_delivered (env_t *e, const char *name, int want, int timeout_ms, long *seqs, int max, int *dups)
{
    int n = 0;
    for (int64_t end = meso_time_mono_ms () + timeout_ms; meso_time_mono_ms () < end; mt_sleep_ms (100)) {
        n = s_delivered (e, name, seqs, max, dups);
        if (n >= want)
            break;
    }
    return n;
}

/* Requests name received (any answer). */
static int
s_requests (env_t *e, const char *name)
{
    char cmd[1400];
    snprintf (cmd, sizeof cmd, "grep -c '\"name\": \"%s\"' %s 2>/dev/null", name, e->log);
    FILE *p = popen (cmd, "r");
    int n = 0;
    if (p && fscanf (p, "%d", &n) != 1)
        n = 0;
    if (p)
        pclose (p);
    return n;
}

static void
s_assert_in_order (const long *seqs, int n)
{
    for (int i = 1; i < n; i++)
        if (seqs[i] != seqs[i - 1] + 1)
            fail_msg ("delivery %d has stream sequence %ld after %ld", i, seqs[i], seqs[i - 1]);
}

static void
s_verify (env_t *e, const char *name, const char *secret)
{
    assert_int_equal (mt_sh ("python3 %s/tests/integration/webhook_receiver.py verify --log %s --name %s "
                             "--secret %s >/dev/null", mt_source_dir (), e->log, name, secret), 0);
}

static Meso__V1__ListDeliveriesReply *
s_deliveries (env_t *e, const char *id, bool parked)
{
    Meso__V1__ListDeliveriesRequest rq = MESO__V1__LIST_DELIVERIES_REQUEST__INIT;
    rq.subscription_id = (char *) id;
    rq.parked = parked;
    meso_result_t r = { 0 };
    assert_int_equal (mt_call (e->client, "webhooks.ListDeliveries", &rq.base, NULL, &e->seq, &r), MESO_OK);
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__ListDeliveriesReply *rep = meso__v1__list_deliveries_reply__unpack (NULL, len, body);
    meso_result_reset (&r);
    assert_non_null (rep);
    return rep;
}

/* --------------------------------------------------------------- setup */

static int
s_setup (void **state)
{
    env_t *e = calloc (1, sizeof *e);
    E = e;
    if (mt_db_create (DB, e->conninfo, sizeof e->conninfo) != 0)
        return -1;
    e->db = meso_db_new (e->conninfo);
    e->events = mt_spawn_events (DB, e->router, sizeof e->router, e->pub, sizeof e->pub);
    if (e->events <= 0)
        return -1;
    snprintf (e->logdir, sizeof e->logdir, "%s/test-logs/webhooks-%d", mt_build_dir (), (int) getpid ());
    snprintf (e->log, sizeof e->log, "%s/requests.jsonl", e->logdir);
    snprintf (e->state, sizeof e->state, "%s/state", e->logdir);
    if (mt_sh ("rm -rf %s && mkdir -p %s", e->logdir, e->state) != 0)
        return -1;
    char portfile[700];
    snprintf (portfile, sizeof portfile, "%s/port", e->logdir);
    char script[600];
    snprintf (script, sizeof script, "%s/tests/integration/webhook_receiver.py", mt_source_dir ());
    const char *argv[] = { "python3", script, "serve", "--port-file", portfile, "--log", e->log,
                           "--state", e->state, NULL };
    e->receiver = mt_spawn ("/usr/bin/python3", argv, NULL);
    for (int i = 0; i < 100 && !e->port; i++, mt_sleep_ms (50)) {
        FILE *f = fopen (portfile, "r");
        if (f && fscanf (f, "%d", &e->port) != 1)
            e->port = 0;
        if (f)
            fclose (f);
    }
    if (!e->port)
        return -1;
    mt_ipc_endpoint ("whk", e->bind, sizeof e->bind);
    e->metrics_port = mt_free_port ();
    e->webhooks = s_spawn_webhooks (e);
    e->client = mt_client (e->bind);
    /* The feed must know the heads before a subscription can start "now". */
    for (int64_t end = meso_time_mono_ms () + 10000; meso_time_mono_ms () < end; mt_sleep_ms (100)) {
        char st[32], notes[1024];
        if (mt_health (e->bind, st, sizeof st, notes, sizeof notes) == 0 && strstr (notes, "feed=on")
            && strstr (notes, "role=active"))
            break;
    }
    *state = e;
    return 0;
}

static int
s_teardown (void **state)
{
    env_t *e = *state;
    if (!e)
        return 0;
    meso_bus_client_destroy (&e->client);
    if (e->webhooks > 0)
        mt_stop (e->webhooks, SIGTERM);
    if (e->receiver > 0)
        mt_stop (e->receiver, SIGKILL);
    if (e->events > 0)
        mt_stop (e->events, SIGTERM);
    meso_db_destroy (&e->db);
    free (e);
    return 0;
}

/* --------------------------------------------------------------- tests */

/* Signed, in order, each once. */
static void
test_signed_in_order (void **state)
{
    env_t *e = *state;
    meso_result_t r = { 0 };
    char id[40], secret[65];
    assert_int_equal (s_add (e, e->client, "c-order", "ok/order", "stock", false, id, secret, &r), MESO_OK);
    meso_result_reset (&r);
    snprintf (e->order_id, sizeof e->order_id, "%s", id);
    s_emit (e, "stock", "c-order", 30, false);
    long seqs[64];
    int dups;
    int n = s_wait_delivered (e, "order", 30, 20000, seqs, 64, &dups);
    assert_int_equal (n, 30);
    s_assert_in_order (seqs, n);
    assert_int_equal (dups, 0);
    s_verify (e, "order", secret);
    /* A secret that is not the subscription's does not verify. */
    assert_int_not_equal (mt_sh ("python3 %s/tests/integration/webhook_receiver.py verify --log %s --name order "
                                 "--secret %064d >/dev/null 2>&1", mt_source_dir (), e->log, 7), 0);
}

/* 503 three times, then 200: every event, once after dedup, in order. */
static void
test_flaky_receiver (void **state)
{
    env_t *e = *state;
    meso_result_t r = { 0 };
    char id[40], secret[65];
    assert_int_equal (s_add (e, e->client, "c-flaky", "flaky/flaky", "billing", false, id, secret, &r), MESO_OK);
    meso_result_reset (&r);
    s_emit (e, "billing", "c-flaky", 8, false);
    long seqs[64];
    int dups;
    int n = s_wait_delivered (e, "flaky", 8, 20000, seqs, 64, &dups);
    assert_int_equal (n, 8);
    s_assert_in_order (seqs, n);
    assert_int_equal (s_requests (e, "flaky"), 8 + 3 + dups);
    s_verify (e, "flaky", secret);
    Meso__V1__ListDeliveriesReply *d = s_deliveries (e, id, false);
    int failed = 0, delivered = 0;
    for (size_t i = 0; i < d->n_deliveries; i++) {
        failed += d->deliveries[i]->outcome == MESO__V1__DELIVERY_OUTCOME__DELIVERY_OUTCOME_FAILED;
        delivered += d->deliveries[i]->outcome == MESO__V1__DELIVERY_OUTCOME__DELIVERY_OUTCOME_DELIVERED;
        if (d->deliveries[i]->outcome == MESO__V1__DELIVERY_OUTCOME__DELIVERY_OUTCOME_FAILED)
            assert_int_equal (d->deliveries[i]->http_status, 503);
    }
    assert_int_equal (failed, 3);
    assert_true (delivered >= 8);
    meso__v1__list_deliveries_reply__free_unpacked (d, NULL);
}

static char *
s_metrics (env_t *e)
{
    char cmd[256];
    snprintf (cmd, sizeof cmd, "curl -s http://127.0.0.1:%d/metrics", e->metrics_port);
    FILE *p = popen (cmd, "r");
    assert_non_null (p);
    size_t cap = 1 << 20, len = 0;
    char *buf = calloc (1, cap);
    size_t got;
    while ((got = fread (buf + len, 1, cap - 1 - len, p)) > 0)
        len += got;
    pclose (p);
    return buf;
}

/* 410 parks; the operator replays after the receiver recovers. */
static void
test_gone_parks_then_replay (void **state)
{
    env_t *e = *state;
    meso_result_t r = { 0 };
    char id[40], secret[65];
    assert_int_equal (s_add (e, e->client, "c-gone", "gone/gone", "screening", false, id, secret, &r), MESO_OK);
    meso_result_reset (&r);
    s_emit (e, "screening", "c-gone", 5, false);
    /* parked after --max-attempts=2 refusals */
    Meso__V1__ListDeliveriesReply *d = NULL;
    for (int64_t end = meso_time_mono_ms () + 15000; meso_time_mono_ms () < end; mt_sleep_ms (100)) {
        d = s_deliveries (e, id, true);
        if (d->n_deliveries > 0)
            break;
        meso__v1__list_deliveries_reply__free_unpacked (d, NULL);
        d = NULL;
    }
    assert_non_null (d);
    assert_int_equal (d->n_deliveries, 1);
    assert_int_equal (d->deliveries[0]->http_status, 410);
    assert_int_equal (d->deliveries[0]->attempt, 2);
    assert_int_equal (d->deliveries[0]->stream_seq, 1);
    meso__v1__list_deliveries_reply__free_unpacked (d, NULL);
    assert_int_equal (s_requests (e, "gone"), 2);
    mt_sleep_ms (500);
    assert_int_equal (s_requests (e, "gone"), 2);         /* nothing more while parked */
    Meso__V1__ListSubscriptionsRequest lq = MESO__V1__LIST_SUBSCRIPTIONS_REQUEST__INIT;
    lq.clinic_id = "c-gone";
    assert_int_equal (mt_call (e->client, "webhooks.ListSubscriptions", &lq.base, NULL, &e->seq, &r), MESO_OK);
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__ListSubscriptionsReply *ls = meso__v1__list_subscriptions_reply__unpack (NULL, len, body);
    assert_int_equal (ls->n_subscriptions, 1);
    assert_int_equal (ls->subscriptions[0]->state, MESO__V1__SUBSCRIPTION_STATE__SUBSCRIPTION_STATE_PARKED);
    assert_non_null (strstr (ls->subscriptions[0]->parked_reason, "HTTP 410"));
    meso__v1__list_subscriptions_reply__free_unpacked (ls, NULL);
    meso_result_reset (&r);
    /* the metric the alert rule reads */
    char want[128];
    snprintf (want, sizeof want, "meso_webhook_parked{subscription=\"%s\"} 1", id);
    bool seen = false;
    for (int64_t end = meso_time_mono_ms () + 5000; !seen && meso_time_mono_ms () < end; mt_sleep_ms (200)) {
        char *m = s_metrics (e);
        seen = strstr (m, want) != NULL;
        free (m);
    }
    assert_true (seen);
    /* Resume is not the way out of parking; replay is. */
    Meso__V1__ResumeSubscriptionRequest rs = MESO__V1__RESUME_SUBSCRIPTION_REQUEST__INIT;
    rs.subscription_id = id;
    assert_int_equal (mt_call (e->client, "webhooks.ResumeSubscription", &rs.base, NULL, &e->seq, &r),
                      MESO_FAILED_PRECONDITION);
    meso_result_reset (&r);
    assert_int_equal (mt_sh ("touch %s/gone.recovered", e->state), 0);
    Meso__V1__ReplayDeliveriesRequest rp = MESO__V1__REPLAY_DELIVERIES_REQUEST__INIT;
    rp.subscription_id = id;
    assert_int_equal (mt_call (e->client, "webhooks.ReplayDeliveries", &rp.base, NULL, &e->seq, &r), MESO_OK);
    meso_result_reset (&r);
    long seqs[64];
    int dups;
    int n = s_wait_delivered (e, "gone", 5, 15000, seqs, 64, &dups);
    assert_int_equal (n, 5);
    s_assert_in_order (seqs, n);
    assert_int_equal (seqs[0], 1);
    s_verify (e, "gone", secret);
    d = s_deliveries (e, id, true);
    assert_int_equal (d->n_deliveries, 0);                /* no longer parked */
    meso__v1__list_deliveries_reply__free_unpacked (d, NULL);
}

/* SIGKILL mid-delivery: the restarted daemon resumes from the cursor. */
static void
test_kill_resumes (void **state)
{
    env_t *e = *state;
    meso_result_t r = { 0 };
    char id[40], secret[65];
    assert_int_equal (s_add (e, e->client, "c-kill", "slow/kill", "stock", false, id, secret, &r), MESO_OK);
    meso_result_reset (&r);
    s_emit (e, "stock", "c-kill", 150, false);
    long seqs[256];
    int dups;
    int n = s_wait_delivered (e, "kill", 20, 20000, seqs, 256, &dups);
    assert_true (n >= 20);
    assert_int_equal (mt_stop (e->webhooks, SIGKILL) >= 0, 1);
    int at_kill = s_delivered (e, "kill", seqs, 256, &dups);
    assert_true (at_kill < 150);                           /* killed mid-way */
    /* Records past the retention (30 days) go when the restarted daemon
     * takes the deliverer lock: age test_signed_in_order's. */
    int64_t aged = 0;
    assert_int_equal (mt_sql_int (e->db, "WITH a AS (UPDATE webhooks.delivery SET at = now() - interval '31 days'"
                                         " WHERE subscription_id = $1::uuid RETURNING 1) SELECT count(*) FROM a",
                                  e->order_id, &aged), 0);
    assert_int_equal (aged, 30);
    e->webhooks = s_spawn_webhooks (e);
    n = s_wait_delivered (e, "kill", 150, 30000, seqs, 256, &dups);
    assert_int_equal (n, 150);
    s_assert_in_order (seqs, n);
    /* the stock stream carries c-order's 30 events first */
    assert_int_equal (seqs[0], 31);
    s_verify (e, "kill", secret);
    int64_t left = -1;
    assert_int_equal (mt_sql_int (e->db, "SELECT count(*) FROM webhooks.delivery WHERE subscription_id = $1::uuid",
                                  e->order_id, &left), 0);
    assert_int_equal (left, 0);
    print_message ("kill -9 after %d of 150 delivered; %d sent again after the restart\n", at_kill, dups);
}

/* A hung receiver does not delay a healthy one. */
static void
test_hung_does_not_delay (void **state)
{
    env_t *e = *state;
    meso_result_t r = { 0 };
    char hung[40], healthy[40], secret[65];
    assert_int_equal (s_add (e, e->client, "c-hang", "hang/hung", "session", false, hung, secret, &r), MESO_OK);
    meso_result_reset (&r);
    assert_int_equal (s_add (e, e->client, "c-hang", "ok/healthy", "session", false, healthy, secret, &r), MESO_OK);
    meso_result_reset (&r);
    int64_t t0 = meso_time_mono_ms ();
    s_emit (e, "session", "c-hang", 10, false);
    long seqs[64];
    int dups;
    int n = s_wait_delivered (e, "healthy", 10, 10000, seqs, 64, &dups);
    int64_t took = meso_time_mono_ms () - t0;
    assert_int_equal (n, 10);
    s_assert_in_order (seqs, n);
    /* all ten well within one timeout of the hung receiver */
    print_message ("healthy receiver: 10 events in %lld ms beside a hung one (timeout %d ms)\n",
                   (long long) took, TIMEOUT_MS);
    assert_true (took < TIMEOUT_MS);
    assert_true (s_requests (e, "hung") >= 1);
    long none[4];
    assert_int_equal (s_delivered (e, "hung", none, 4, &dups), 0);
    /* the hung one's attempt times out and is recorded as failed */
    Meso__V1__ListDeliveriesReply *d = NULL;
    for (int64_t end = meso_time_mono_ms () + TIMEOUT_MS + 6000; meso_time_mono_ms () < end; mt_sleep_ms (200)) {
        d = s_deliveries (e, hung, false);
        if (d->n_deliveries > 0)
            break;
        meso__v1__list_deliveries_reply__free_unpacked (d, NULL);
        d = NULL;
    }
    assert_non_null (d);
    assert_int_equal (d->deliveries[0]->http_status, 0);
    assert_int_equal (d->deliveries[0]->outcome, MESO__V1__DELIVERY_OUTCOME__DELIVERY_OUTCOME_FAILED);
    assert_true (d->deliveries[0]->duration_ms >= TIMEOUT_MS - 100);
    meso__v1__list_deliveries_reply__free_unpacked (d, NULL);
    /* pause it, so it stops holding a transfer for the later tests */
    Meso__V1__PauseSubscriptionRequest pq = MESO__V1__PAUSE_SUBSCRIPTION_REQUEST__INIT;
    pq.subscription_id = hung;
    assert_int_equal (mt_call (e->client, "webhooks.PauseSubscription", &pq.base, NULL, &e->seq, &r), MESO_OK);
    meso_result_reset (&r);
}

/* Health fields only where allowed. */
static void
test_health_fields (void **state)
{
    env_t *e = *state;
    meso_result_t r = { 0 };
    char plain[40], clinical[40], s1[65], s2[65];
    assert_int_equal (s_add (e, e->client, "c-health", "ok/plain", "session", false, plain, s1, &r), MESO_OK);
    meso_result_reset (&r);
    assert_int_equal (s_add (e, e->client, "c-health", "ok/clinical", "session", true, clinical, s2, &r), MESO_OK);
    meso_result_reset (&r);
    s_emit (e, "session", "c-health", 4, true);
    long seqs[16];
    int dups;
    assert_int_equal (s_wait_delivered (e, "plain", 4, 15000, seqs, 16, &dups), 4);
    assert_int_equal (s_wait_delivered (e, "clinical", 4, 15000, seqs, 16, &dups), 4);
    s_verify (e, "plain", s1);
    s_verify (e, "clinical", s2);
    /* the bodies, decoded: notes only for the clinical subscription */
    assert_int_equal (mt_sh ("python3 - %s <<'PY'\n"
                             "import base64, json, sys\n"
                             "bodies = {'plain': [], 'clinical': []}\n"
                             "for line in open(sys.argv[1]):\n"
                             "    rec = json.loads(line)\n"
                             "    if rec['name'] in bodies and rec['status'] == 200:\n"
                             "        bodies[rec['name']].append(base64.b64decode(rec['body']).decode())\n"
                             "assert len(bodies['plain']) >= 4 and len(bodies['clinical']) >= 4, bodies\n"
                             "assert all('clinical note' not in b for b in bodies['plain']), bodies['plain']\n"
                             "assert all('clinical note' in b for b in bodies['clinical']), bodies['clinical']\n"
                             "assert all(json.loads(b)['type'] == 'session.completed' for b in bodies['plain'])\n"
                             "PY", e->log), 0);
}

/* Who may subscribe to what. */
static void
test_who_may_subscribe (void **state)
{
    env_t *e = *state;
    meso_result_t r = { 0 };
    char id[40], secret[65];
    zcert_t *cert = mt_principal_add (e->conninfo, "mgr-nohealth", "person", "{clinic_manager}", "{c-scope}",
                                      NULL, false);
    assert_non_null (cert);
    meso_bus_client_t *mgr = mt_client_as (e->bind, cert);
    mt_sleep_ms (1500);                                  /* the daemons reload access.principal */
    assert_int_equal (s_add (e, mgr, "c-scope", "ok/scope", "stock", true, id, secret, &r), MESO_PERMISSION_DENIED);
    assert_string_equal (r.reply->reasons[0]->field, "include_health");
    meso_result_reset (&r);
    assert_int_equal (s_add (e, mgr, "c-other", "ok/scope", "stock", false, id, secret, &r), MESO_PERMISSION_DENIED);
    meso_result_reset (&r);
    assert_int_equal (s_add (e, mgr, "", "ok/scope", "stock", false, id, secret, &r), MESO_PERMISSION_DENIED);
    meso_result_reset (&r);
    assert_int_equal (s_add (e, mgr, "c-scope", "ok/scope", "stock", false, id, secret, &r), MESO_OK);
    meso_result_reset (&r);
    /* the manager sees its clinic's subscription only */
    Meso__V1__ListSubscriptionsRequest lq = MESO__V1__LIST_SUBSCRIPTIONS_REQUEST__INIT;
    assert_int_equal (mt_call (mgr, "webhooks.ListSubscriptions", &lq.base, NULL, &e->seq, &r), MESO_OK);
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__ListSubscriptionsReply *ls = meso__v1__list_subscriptions_reply__unpack (NULL, len, body);
    assert_int_equal (ls->n_subscriptions, 1);
    assert_string_equal (ls->subscriptions[0]->subscription_id, id);
    meso__v1__list_subscriptions_reply__free_unpacked (ls, NULL);
    meso_result_reset (&r);
    /* a front desk may not manage subscriptions at all */
    zcert_t *fd = mt_principal_add (e->conninfo, "desk", "person", "{front_desk}", "{c-scope}", NULL, false);
    meso_bus_client_t *desk = mt_client_as (e->bind, fd);
    mt_sleep_ms (1500);
    assert_int_equal (s_add (e, desk, "c-scope", "ok/scope", "stock", false, id, secret, &r), MESO_PERMISSION_DENIED);
    meso_result_reset (&r);
    /* a bad URL is refused naming the field */
    Meso__V1__AddSubscriptionRequest rq = MESO__V1__ADD_SUBSCRIPTION_REQUEST__INIT;
    char *streams[] = { "stock" };
    rq.clinic_id = "c-scope";
    rq.url = "ftp://127.0.0.1/x";
    rq.streams = streams;
    rq.n_streams = 1;
    assert_int_equal (mt_call (e->client, "webhooks.AddSubscription", &rq.base, NULL, &e->seq, &r),
                      MESO_INVALID_ARGUMENT);
    assert_string_equal (r.reply->reasons[0]->field, "url");
    meso_result_reset (&r);
    /* the same key again: the same subscription and the same secret */
    rq.url = "http://127.0.0.1:1/again";
    char again1[65], again2[65];
    for (int i = 0; i < 2; i++) {
        assert_int_equal (mt_call (e->client, "webhooks.AddSubscription", &rq.base, "add-again", &e->seq, &r), MESO_OK);
        body = meso_result_body (&r, &len);
        Meso__V1__AddSubscriptionReply *a = meso__v1__add_subscription_reply__unpack (NULL, len, body);
        snprintf (i ? again2 : again1, 65, "%s", a->secret);
        meso__v1__add_subscription_reply__free_unpacked (a, NULL);
        meso_result_reset (&r);
    }
    assert_string_equal (again1, again2);
    /* and the database holds no secret in the clear */
    int64_t clear = -1;
    assert_int_equal (mt_sql_int (e->db, "SELECT count(*) FROM webhooks.idempotency "
                                         "WHERE position(convert_to($1, 'UTF8') IN reply) > 0", again1, &clear), 0);
    assert_int_equal (clear, 0);
    meso_bus_client_destroy (&mgr);
    meso_bus_client_destroy (&desk);
    zcert_destroy (&cert);
    zcert_destroy (&fd);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_signed_in_order),
        cmocka_unit_test (test_flaky_receiver),
        cmocka_unit_test (test_gone_parks_then_replay),
        cmocka_unit_test (test_kill_resumes),
        cmocka_unit_test (test_hung_does_not_delay),
        cmocka_unit_test (test_health_fields),
        cmocka_unit_test (test_who_may_subscribe),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
