/* test_failover.c -- the primary PostgreSQL dies under booking load and the
 * synchronous standby takes over, against real daemons (screening,
 * inventory, scheduling, billing, two meso-events) and a real Patroni
 * cluster (deploy/local/ha.sh: etcd, a primary and a synchronous standby,
 * on MESO_TEST_HAPORT and the five ports after it).
 *
 * The daemons connect with the multi-host conninfo of the README
 * ("host=...,... port=...,... target_session_attrs=read-write"). Four
 * clients book sessions (each with a fresh patient, so nothing is refused
 * for business reasons) and one records payments, each at a steady pace;
 * a subscriber follows the session and billing streams through both events
 * instances. Once some work is acknowledged, the primary's postmaster is
 * SIGKILLed. A client answered UNAVAILABLE (or left without a reply), or
 * ABORTED for a booking whose interrupted saga is still pending, retries
 * with the same idempotency key, as the contract says; any other answer
 * fails the test. Afterwards:
 *   - the standby was promoted (the primary is now the other node) and the
 *     daemons resumed: the longest time without an acknowledgement after
 *     the kill, and when it ended, are printed for bookings and for
 *     payments; the end must come within 30 s of the kill;
 *   - every acknowledged booking exists (booked, stock held) and has its
 *     session.booked event in the log; every acknowledged payment exists
 *     and has its billing.payment_received event; every event the
 *     subscriber received is in the log at the same sequence;
 *   - the log is gapless: per stream, the count of events equals the last
 *     sequence and the head, and the subscriber received 1..head once each;
 *   - exactly one events instance holds the writer lock on the new primary
 *     (pg_locks), and it is the one whose health says role=active;
 *   - every daemon is healthy, every booking is complete or absent, and the
 *     old primary came back as the synchronous standby. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>

#include "../integration/scheduling_fixture.h"
#include "billing.pb-c.h"
#include "meso/subscriber.h"

#define NBOOKERS 4
#define NPER 30                     /* bookings per booker */
#define NPAY 60                     /* payments */
#define PACE_MS 120                 /* between two requests of one client */
#define KILL_AFTER 30               /* acknowledged requests before the kill */
#define RESUME_BOUND_MS 30000
#define MAX_EVENTS 4096
#define WRITER_LOCK "7882822370106504307"   /* services/events/store.c */

static char s_dir[600];
static int s_port;
static atomic_llong s_kill_ms;      /* mono ms of the kill, 0 before */
static atomic_int s_acked;          /* acknowledged requests, all clients */
static atomic_int s_stop_sub;

/* When each acknowledgement came (mono ms), bookings [0] and payments [1]:
 * the longest silence after the kill is the outage. Killing the
 * postmaster does not stop its backends at once, so the first failure may
 * come some time after the kill itself. */
#define MAX_ACKS 512
static int64_t s_ack_ms[2][MAX_ACKS];
static int s_nack[2];
static pthread_mutex_t s_ack_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const s_practs[] = { "dr-0", "dr-1", "dr-2", "dr-3" };
static const char *const s_rooms[] = { "room-0", "room-1", "room-2", "room-3" };

/* What one client did. */
typedef struct {
    fx_t *fx;
    int idx;
    const char *endpoint;
    char (*patients)[40];           /* one per request */
    int n;
    char ids[NPAY > NPER ? NPAY : NPER][40];   /* appointment or payment ids, "" when not OK */
    int ok, unavailable;
    int bad_status;                 /* first status other than OK / UNAVAILABLE, 0 if none */
    char bad_message[256];
} s_client_t;

static void
s_note_ok (s_client_t *c)
{
    c->ok++;
    atomic_fetch_add (&s_acked, 1);
    int k = c->idx == NBOOKERS;
    pthread_mutex_lock (&s_ack_lock);
    if (s_nack[k] < MAX_ACKS)
        s_ack_ms[k][s_nack[k]++] = meso_time_mono_ms ();
    pthread_mutex_unlock (&s_ack_lock);
}

/* The longest time without an acknowledgement of kind k from the kill on
 * (acknowledgements are appended in time order); *end_ms: when it ended,
 * from the kill. */
static int64_t
s_outage (int k, int64_t kill_ms, int64_t *end_ms)
{
    int64_t prev = kill_ms, worst = 0;
    *end_ms = -1;
    for (int i = 0; i < s_nack[k]; i++) {
        if (s_ack_ms[k][i] < kill_ms)
            continue;
        if (s_ack_ms[k][i] - prev > worst) {
            worst = s_ack_ms[k][i] - prev;
            *end_ms = s_ack_ms[k][i] - kill_ms;
        }
        prev = s_ack_ms[k][i];
    }
    return worst;
}

/* Retries one request with its key while the answer is UNAVAILABLE or
 * missing (up to 60 s); returns the last status. */
static int
s_until_answered (s_client_t *c, int (*call) (s_client_t *, int, meso_bus_client_t *, meso_result_t *),
                  int i, meso_bus_client_t *bus)
{
    meso_result_t r = { 0 };
    int64_t t0 = meso_time_mono_ms ();
    int st;
    for (;;) {
        int64_t sent = meso_time_mono_ms ();
        st = call (c, i, bus, &r);
        if (st == MESO_OK) {
            s_note_ok (c);
            break;
        }
        /* ABORTED: a booking whose saga the failover interrupted is still
         * pending ("retry in a few seconds") until scheduling's recovery
         * finishes it. */
        bool again = st == MESO_UNAVAILABLE || st == MESO_DEADLINE_EXCEEDED || st == MESO_ABORTED;
        if (!again || sent - t0 > 60000) {
            if (!c->bad_status) {
                c->bad_status = st;
                snprintf (c->bad_message, sizeof c->bad_message, "request %d: %.200s", i, r.message);
            }
            break;
        }
        c->unavailable++;
        mt_sleep_ms (100);
    }
    meso_result_reset (&r);
    return st;
}

static int
s_book (s_client_t *c, int i, meso_bus_client_t *bus, meso_result_t *r)
{
    char day[11], start[20];
    fx_day (3 + i / 12, day);
    snprintf (start, sizeof start, "%sT%02d:00", day, 8 + i % 12);
    return fx_book_session (c->fx, bus, "lyon", c->patients[i], s_practs[c->idx], s_rooms[c->idx],
                            start, 60, c->ids[i], r);
}

static int
s_pay (s_client_t *c, int i, meso_bus_client_t *bus, meso_result_t *r)
{
    Meso__V1__RecordPaymentRequest rq = MESO__V1__RECORD_PAYMENT_REQUEST__INIT;
    rq.clinic_id = "lyon";
    rq.patient_id = c->patients[i];
    rq.target_case = MESO__V1__RECORD_PAYMENT_REQUEST__TARGET_DEPOSIT;
    rq.deposit = true;
    rq.amount_cents = 1000 + i;
    rq.currency = "";
    rq.method = MESO__V1__PAYMENT_METHOD__PAYMENT_METHOD_CARD;
    char key[48];
    snprintf (key, sizeof key, "pay-%d", i);
    meso_result_reset (r);
    meso_bus_client_call (bus, "billing.RecordPayment", &rq.base, key, 20000, r);
    if (r->status == MESO_OK) {
        size_t len;
        const uint8_t *b = meso_result_body (r, &len);
        Meso__V1__RecordPaymentReply *out = meso__v1__record_payment_reply__unpack (NULL, len, b);
        if (out) {
            snprintf (c->ids[i], sizeof c->ids[i], "%s", out->payment->payment_id);
            meso__v1__record_payment_reply__free_unpacked (out, NULL);
        }
    }
    return r->status;
}

static void *
s_client_thread (void *arg)
{
    s_client_t *c = arg;
    bool payer = c->idx == NBOOKERS;
    meso_bus_client_t *bus = mt_client (c->endpoint);
    for (int i = 0; i < c->n; i++) {
        s_until_answered (c, payer ? s_pay : s_book, i, bus);
        mt_sleep_ms (PACE_MS);
    }
    meso_bus_client_destroy (&bus);
    return NULL;
}

/* ------------------------------------------------------------ subscriber */

typedef struct {
    char stream[12];
    uint64_t seq;
    char id[40];
} s_seen_t;

static s_seen_t s_seen[MAX_EVENTS];
static int s_nseen;
static pthread_mutex_t s_seen_lock = PTHREAD_MUTEX_INITIALIZER;

static int
s_on_event (const Meso__V1__Event *ev, const uint8_t *raw, size_t len, void *arg)
{
    (void) raw;
    (void) len;
    (void) arg;
    pthread_mutex_lock (&s_seen_lock);
    if (s_nseen < MAX_EVENTS) {
        s_seen_t *s = &s_seen[s_nseen++];
        const char *dot = strchr (ev->type, '.');
        snprintf (s->stream, sizeof s->stream, "%.*s", dot ? (int) (dot - ev->type) : 0, ev->type);
        s->seq = ev->stream_seq;
        snprintf (s->id, sizeof s->id, "%s", ev->id);
    }
    pthread_mutex_unlock (&s_seen_lock);
    return 0;
}

typedef struct {
    char routers[600], pubs[600];
} s_sub_arg_t;

static void *
s_sub_thread (void *arg)
{
    s_sub_arg_t *a = arg;
    meso_subscriber_t *sub = meso_subscriber_new (a->routers, a->pubs, "failover-test", s_on_event, NULL);
    if (!sub)
        return NULL;
    meso_subscriber_follow (sub, "session", 0);
    meso_subscriber_follow (sub, "billing", 0);
    while (!atomic_load (&s_stop_sub))
        meso_subscriber_poll (sub, 100);
    meso_subscriber_destroy (&sub);
    return NULL;
}

static int
s_seen_count (const char *stream)
{
    pthread_mutex_lock (&s_seen_lock);
    int n = 0;
    for (int i = 0; i < s_nseen; i++)
        n += strcmp (s_seen[i].stream, stream) == 0;
    pthread_mutex_unlock (&s_seen_lock);
    return n;
}

/* ------------------------------------------------------------ the test */

/* The integer of a query with n text parameters. */
static int64_t
s_q (fx_t *fx, const char *sql, int n, const char *p1, const char *p2, const char *p3)
{
    const char *p[] = { p1, p2, p3 };
    PGresult *res = meso_db_query (fx->db, sql, n, p);
    if (!res)
        fail_msg ("SQL failed: %s: %s", sql, meso_db_error (fx->db)->message);
    int64_t v = strtoll (PQgetvalue (res, 0, 0), NULL, 10);
    PQclear (res);
    return v;
}

static pid_t
s_spawn_billing (fx_t *fx, const char *router, const char *ev_routers, const char *ev_pubs)
{
    char role[512], db[600], bind[300], ev[700], evp[700];
    mt_role_conninfo (fx->dbname, "meso_billing", role, sizeof role);
    snprintf (db, sizeof db, "--db=%s", role);
    snprintf (bind, sizeof bind, "--bind=%s", router);
    snprintf (ev, sizeof ev, "--events=%s", ev_routers);
    snprintf (evp, sizeof evp, "--events-pub=%s", ev_pubs);
    const char *argv[] = { "meso-billing", db, bind, ev, evp, "--scheduling=", NULL };
    pid_t pid = mt_spawn ("bin/meso-billing", argv, NULL);
    assert_true (pid > 0);
    assert_int_equal (mt_wait_healthy (router, 10000), 0);
    return pid;
}

/* Waits until every daemon answers Health "ok"; returns the ms it took. */
static int64_t
s_wait_all_ok (const char *const *eps, int n, int timeout_ms)
{
    int64_t t0 = meso_time_mono_ms ();
    for (int i = 0; i < n; i++) {
        char state[32] = "", notes[512] = "";
        while (mt_health (eps[i], state, sizeof state, notes, sizeof notes) != 0
               || strcmp (state, "ok") != 0) {
            if (meso_time_mono_ms () - t0 > timeout_ms)
                fail_msg ("%s is %s after the failover: %s", eps[i], state, notes);
            mt_sleep_ms (100);
        }
    }
    return meso_time_mono_ms () - t0;
}

static void
test_primary_killed_under_load (void **state)
{
    (void) state;
    fx_t *fx = fx_setup_events ("failover", 1);
    char ev2_router[256], ev2_pub[256], bil[256];
    pid_t ev2 = mt_spawn_events ("failover", ev2_router, sizeof ev2_router, ev2_pub, sizeof ev2_pub);
    assert_true (ev2 > 0);
    s_sub_arg_t sa;
    snprintf (sa.routers, sizeof sa.routers, "%s,%s", fx->events_router, ev2_router);
    snprintf (sa.pubs, sizeof sa.pubs, "%s,%s", fx->events_pub, ev2_pub);
    mt_ipc_endpoint ("bil", bil, sizeof bil);
    pid_t billing = s_spawn_billing (fx, bil, sa.routers, sa.pubs);

    fx_clinic (fx, "lyon", "Europe/Paris", s_practs, NBOOKERS, s_rooms, NBOOKERS, true);
    static char patients[NBOOKERS * NPER][40];
    for (int i = 0; i < NBOOKERS * NPER; i++)
        fx_patient (fx, "lyon", NULL, false, patients[i]);
    /* Billing knows a patient from screening's events: wait for them all. */
    int64_t t0 = meso_time_mono_ms ();
    while (fx_sql (fx, "SELECT count (*) FROM billing.patient", NULL) < NBOOKERS * NPER) {
        assert_true (meso_time_mono_ms () - t0 < 30000);
        mt_sleep_ms (100);
    }

    pthread_t sub;
    assert_int_equal (pthread_create (&sub, NULL, s_sub_thread, &sa), 0);
    static s_client_t cl[NBOOKERS + 1];
    pthread_t th[NBOOKERS + 1];
    for (int i = 0; i <= NBOOKERS; i++) {
        cl[i].fx = fx;
        cl[i].idx = i;
        cl[i].endpoint = i < NBOOKERS ? fx->sched_ep[0] : bil;
        cl[i].patients = i < NBOOKERS ? &patients[i * NPER] : patients;
        cl[i].n = i < NBOOKERS ? NPER : NPAY;
        assert_int_equal (pthread_create (&th[i], NULL, s_client_thread, &cl[i]), 0);
    }
    t0 = meso_time_mono_ms ();
    while (atomic_load (&s_acked) < KILL_AFTER) {
        assert_true (meso_time_mono_ms () - t0 < 60000);
        mt_sleep_ms (20);
    }
    int acked_before = atomic_load (&s_acked);
    int64_t old_port = fx_sql (fx, "SELECT inet_server_port ()", NULL);
    int64_t kill_at = meso_time_mono_ms ();
    atomic_store (&s_kill_ms, kill_at);
    assert_int_equal (mt_sh ("%s/deploy/local/ha.sh kill %s %d", mt_source_dir (), s_dir, s_port), 0);
    for (int i = 0; i <= NBOOKERS; i++)
        pthread_join (th[i], NULL);

    /* Every request answered, none with anything but OK in the end. */
    int booked = 0, paid = 0, retried = 0;
    for (int i = 0; i <= NBOOKERS; i++) {
        if (cl[i].bad_status)
            fail_msg ("client %d got status %d (%s)", i, cl[i].bad_status, cl[i].bad_message);
        assert_int_equal (cl[i].ok, cl[i].n);
        retried += cl[i].unavailable;
        *(i < NBOOKERS ? &booked : &paid) += cl[i].ok;
    }
    int64_t end_book, end_pay;
    int64_t gap_book = s_outage (0, kill_at, &end_book), gap_pay = s_outage (1, kill_at, &end_pay);
    printf ("# failover: %d requests acknowledged before the kill; %d bookings and %d payments"
            " acknowledged in all; %d answers UNAVAILABLE, ABORTED or none retried with their key\n",
            acked_before, booked, paid, retried);
    printf ("# failover: bookings: none acknowledged for %lld ms, resumed %lld ms after the SIGKILL of"
            " the primary's postmaster; payments: none for %lld ms, resumed after %lld ms\n",
            (long long) gap_book, (long long) end_book, (long long) gap_pay, (long long) end_pay);
    assert_true (end_book >= 0 && end_book < RESUME_BOUND_MS);
    assert_true (end_pay >= 0 && end_pay < RESUME_BOUND_MS);

    /* The admin connection died with the old primary: the next statement
     * reconnects, to the new one. */
    t0 = meso_time_mono_ms ();
    while (meso_db_ping (fx->db) != 0) {
        if (meso_time_mono_ms () - t0 > 10000)
            fail_msg ("no writable primary 10 s after the load ended: %s", meso_db_error (fx->db)->message);
        mt_sleep_ms (100);
    }
    /* ... which is the other node: the standby was promoted. */
    assert_int_equal (fx_sql (fx, "SELECT pg_is_in_recovery ()::int", NULL), 0);
    assert_int_not_equal (fx_sql (fx, "SELECT inet_server_port ()", NULL), old_port);

    /* Every acknowledged booking and payment is there, with its event. */
    for (int i = 0; i < NBOOKERS; i++)
        for (int j = 0; j < NPER; j++) {
            const char *a = cl[i].ids[j];
            assert_int_equal (fx_sql (fx, "SELECT count (*) FROM scheduling.appointment"
                                          " WHERE appointment_id = $1 AND status = 'booked'", a), 1);
            assert_int_equal (fx_sql (fx, "SELECT count (*) FROM inventory.reservation"
                                          " WHERE appointment_id = $1 AND status = 'held'", a), 1);
        }
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM scheduling.appointment WHERE status = 'booked'",
                              NULL), booked);
    for (int j = 0; j < NPAY; j++)
        assert_int_equal (fx_sql (fx, "SELECT count (*) FROM billing.payment WHERE payment_id = $1",
                                  cl[NBOOKERS].ids[j]), 1);
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM billing.payment", NULL), paid);
    fx_check_complete_or_absent (fx);

    /* The relay drains the outbox; the subscriber catches up. */
    t0 = meso_time_mono_ms ();
    while (fx_sql (fx, "SELECT count (*) FROM events.outbox", NULL) > 0
           || s_seen_count ("session") < fx_sql (fx, "SELECT seq FROM events.stream_head"
                                                     " WHERE stream = 'session'", NULL)
           || s_seen_count ("billing") < fx_sql (fx, "SELECT seq FROM events.stream_head"
                                                     " WHERE stream = 'billing'", NULL)) {
        if (meso_time_mono_ms () - t0 > 30000)
            fail_msg ("events not relayed or not delivered: outbox %lld, session %d seen",
                      (long long) fx_sql (fx, "SELECT count (*) FROM events.outbox", NULL),
                      s_seen_count ("session"));
        mt_sleep_ms (100);
    }
    atomic_store (&s_stop_sub, 1);
    pthread_join (sub, NULL);
    for (int i = 0; i < NBOOKERS; i++)
        for (int j = 0; j < NPER; j++)
            assert_int_equal (s_q (fx, "SELECT count (*) FROM events.log WHERE type = $1"
                                       " AND position (convert_to ($2, 'UTF8') IN payload) > 0",
                                  2, "session.booked", cl[i].ids[j], NULL), 1);
    for (int j = 0; j < NPAY; j++)
        assert_int_equal (s_q (fx, "SELECT count (*) FROM events.log WHERE type = $1"
                                   " AND position (convert_to ($2, 'UTF8') IN payload) > 0",
                              2, "billing.payment_received", cl[NBOOKERS].ids[j], NULL), 1);
    /* Gapless: per stream and globally, count = last sequence = head. */
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM (SELECT stream FROM events.log GROUP BY stream"
                                  " HAVING count (*) <> max (stream_seq)) g", NULL), 0);
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM events.stream_head h WHERE h.stream <> '*' AND"
                                  " h.seq <> (SELECT coalesce (max (stream_seq), 0) FROM events.log l"
                                  " WHERE l.stream = h.stream)", NULL), 0);
    assert_int_equal (fx_sql (fx, "SELECT (count (*) = max (global_seq) AND max (global_seq) ="
                                  " (SELECT seq FROM events.stream_head WHERE stream = '*'))::int"
                                  " FROM events.log", NULL), 1);
    /* The subscriber got 1..head of each stream once each, and each is in
     * the log at the same place. */
    int64_t heads[2] = { fx_sql (fx, "SELECT seq FROM events.stream_head WHERE stream = 'session'", NULL),
                         fx_sql (fx, "SELECT seq FROM events.stream_head WHERE stream = 'billing'", NULL) };
    assert_int_equal (s_seen_count ("session"), heads[0]);
    assert_int_equal (s_seen_count ("billing"), heads[1]);
    uint64_t next[2] = { 1, 1 };
    for (int i = 0; i < s_nseen; i++) {
        int k = strcmp (s_seen[i].stream, "session") == 0 ? 0 : 1;
        assert_int_equal (s_seen[i].seq, next[k]++);
        char seq[24];
        snprintf (seq, sizeof seq, "%llu", (unsigned long long) s_seen[i].seq);
        assert_int_equal (s_q (fx, "SELECT count (*) FROM events.log WHERE stream = $1 AND stream_seq = $2"
                                   " AND position (convert_to ($3, 'UTF8') IN payload) > 0",
                              3, s_seen[i].stream, seq, s_seen[i].id), 1);
    }
    printf ("# failover: event log gapless: %lld session and %lld billing events, all %d delivered"
            " once, in order\n", (long long) heads[0], (long long) heads[1], s_nseen);

    /* The writer lock: held once, on the new primary, by the instance
     * that says it is active. */
    const char *eps[] = { fx->screening_ep, fx->inventory_ep, fx->sched_ep[0], bil,
                          fx->events_router, ev2_router };
    int64_t healthy_ms = s_wait_all_ok (eps, 6, 20000);
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
                                  " WHERE l.locktype = 'advisory' AND l.granted AND a.usename = 'meso_events'"
                                  " AND ((l.classid::bigint << 32) | l.objid::bigint) = " WRITER_LOCK, NULL), 1);
    int active = 0;
    for (int i = 4; i < 6; i++) {
        char st[32], notes[512];
        assert_int_equal (mt_health (eps[i], st, sizeof st, notes, sizeof notes), 0);
        active += strstr (notes, "role=active") != NULL;
    }
    assert_int_equal (active, 1);
    printf ("# failover: every daemon ok %lld ms after the load ended; one events writer\n",
            (long long) healthy_ms);

    /* The old primary is back, as the synchronous standby. */
    t0 = meso_time_mono_ms ();
    assert_int_equal (mt_sh ("%s/deploy/local/ha.sh wait %s %d >/dev/null", mt_source_dir (), s_dir, s_port), 0);
    printf ("# failover: old primary back as synchronous standby %lld ms after the checks began\n",
            (long long) (meso_time_mono_ms () - t0));

    mt_stop (billing, SIGTERM);
    mt_stop (ev2, SIGTERM);
    fx_teardown (fx);
}

/* The cluster stops however the test ends; its folder (Patroni, etcd and
 * PostgreSQL logs) is removed only after a pass. */
static void
s_cleanup (void)
{
    if (s_dir[0])
        mt_sh ("%s/deploy/local/ha.sh stop %s %d >/dev/null 2>&1", mt_source_dir (), s_dir, s_port);
}

int
main (void)
{
    const char *p = getenv ("MESO_TEST_HAPORT");
    s_port = p && *p ? atoi (p) : 23790;
    snprintf (s_dir, sizeof s_dir, "%s/ha-%d", mt_build_dir (), (int) getpid ());
    atexit (s_cleanup);
    int64_t t0 = meso_time_mono_ms ();
    if (mt_sh ("%s/deploy/local/ha.sh start %s %d", mt_source_dir (), s_dir, s_port) != 0) {
        fprintf (stderr, "test_failover: the Patroni cluster did not start (deploy/local/setup.sh"
                         " installs patroni and etcd; logs in %s)\n", s_dir);
        return 1;
    }
    printf ("# failover: Patroni cluster up in %lld ms\n", (long long) (meso_time_mono_ms () - t0));
    char hosts[64], ports[32];
    snprintf (hosts, sizeof hosts, "127.0.0.1,127.0.0.1");
    snprintf (ports, sizeof ports, "%d,%d", s_port, s_port + 1);
    setenv ("MESO_TEST_PGHOST", hosts, 1);
    setenv ("MESO_TEST_PGPORT", ports, 1);
    setenv ("MESO_TEST_PGOPTIONS", "target_session_attrs=read-write", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_primary_killed_under_load),
    };
    int rc = cmocka_run_group_tests (tests, NULL, NULL);
    s_cleanup ();
    if (rc == 0)
        mt_sh ("rm -rf %s", s_dir);
    else
        fprintf (stderr, "test_failover: the cluster's logs are in %s/node*/patroni.log,"
                         " %s/node*/data/log\n", s_dir, s_dir);
    s_dir[0] = '\0';
    return rc;
}
