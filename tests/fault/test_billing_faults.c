/* test_billing_faults.c -- billing under faults, against a real
 * meso-billing, meso-events and PostgreSQL:
 *   - the daemon is SIGKILLed inside the consumer transaction of a
 *     session.completed, after the charge is written and before the commit
 *     (MESO_BILLING_TEST_PAUSE_MS holds it there): nothing is charged;
 *     after a restart the session is charged exactly once;
 *   - the same payment sent 100 times concurrently with one idempotency key
 *     (100 clients, 100 threads) records one payment, one ledger entry, one
 *     event, and every caller gets the same reply; the same key with a
 *     different amount is refused and changes nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "meso/bus.h"
#include "meso/db.h"
#include "meso/mtime.h"
#include "meso/outbox.h"
#include "events.pb-c.h"
#include "billing.pb-c.h"

typedef struct {
    char dbname[64];
    char admin[512];            /* superuser conninfo */
    char router[256];
    pid_t pid;
    pid_t events_pid;
    char events_router[256];
    char events_pub[256];
    meso_bus_client_t *c;
    meso_db_t *db;              /* superuser connection, for checks */
    int key;
    int64_t session_seq;        /* events emitted per stream, to wait on */
    int64_t screening_seq;
} fx_t;

static pid_t
s_spawn_billing (fx_t *fx, const char *pause_ms)
{
    char role[512], db[600], bind[300], ev[300], evp[300], env_pause[64];
    mt_role_conninfo (fx->dbname, "meso_billing", role, sizeof role);
    snprintf (db, sizeof db, "--db=%s", role);
    snprintf (bind, sizeof bind, "--bind=%s", fx->router);
    snprintf (ev, sizeof ev, "--events=%s", fx->events_router);
    snprintf (evp, sizeof evp, "--events-pub=%s", fx->events_pub);
    snprintf (env_pause, sizeof env_pause, "MESO_BILLING_TEST_PAUSE_MS=%s", pause_ms ? pause_ms : "");
    const char *argv[] = { "meso-billing", db, bind, ev, evp, NULL };
    const char *env[] = { env_pause, NULL };
    pid_t pid = mt_spawn ("bin/meso-billing", argv, env);
    assert_true (pid > 0);
    assert_int_equal (mt_wait_healthy (fx->router, 10000), 0);
    return pid;
}

static fx_t *
s_setup (const char *name)
{
    fx_t *fx = calloc (1, sizeof *fx);
    assert_non_null (fx);
    snprintf (fx->dbname, sizeof fx->dbname, "%s", name);
    assert_int_equal (mt_db_create (name, fx->admin, sizeof fx->admin), 0);
    mt_ipc_endpoint ("bil", fx->router, sizeof fx->router);
    char role[512], db[600], bind[300], pub[300];
    mt_ipc_endpoint ("evr", fx->events_router, sizeof fx->events_router);
    mt_ipc_endpoint ("evp", fx->events_pub, sizeof fx->events_pub);
    mt_role_conninfo (name, "meso_events", role, sizeof role);
    snprintf (db, sizeof db, "--db=%s", role);
    snprintf (bind, sizeof bind, "--bind=%s", fx->events_router);
    snprintf (pub, sizeof pub, "--pub=%s", fx->events_pub);
    const char *argv[] = { "meso-events", db, bind, pub, NULL };
    fx->events_pid = mt_spawn ("bin/meso-events", argv, NULL);
    assert_true (fx->events_pid > 0);
    assert_int_equal (mt_wait_healthy (fx->events_router, 10000), 0);
    fx->pid = s_spawn_billing (fx, NULL);
    fx->c = meso_bus_client_new (fx->router, MESO__V1__ACTOR__KIND__KIND_OPERATOR, "test");
    assert_non_null (fx->c);
    fx->db = meso_db_new (fx->admin);
    assert_true (meso_db_ok (fx->db));
    return fx;
}

static void
s_teardown (fx_t *fx)
{
    meso_bus_client_destroy (&fx->c);
    meso_db_destroy (&fx->db);
    if (fx->pid > 0)
        assert_int_equal (mt_stop (fx->pid, SIGTERM), 0);
    mt_stop (fx->events_pid, SIGTERM);
    free (fx);
}

/* Calls method; returns the status. key NULL: a fresh key. */
static int
s_call (fx_t *fx, const char *method, const ProtobufCMessage *body, const char *key,
        meso_result_t *r)
{
    char k[64];
    if (!key) {
        snprintf (k, sizeof k, "test-key-%d", ++fx->key);
        key = k;
    }
    meso_bus_client_call (fx->c, method, body, key, 5000, r);
    return r->status;
}

/* One integer from SQL (superuser). */
static int64_t
s_sql (fx_t *fx, const char *sql, const char *p1)
{
    const char *params[] = { p1 };
    PGresult *res = meso_db_query (fx->db, sql, p1 ? 1 : 0, p1 ? params : NULL);
    if (!res)
        fail_msg ("SQL failed: %s: %s", sql, meso_db_error (fx->db)->message);
    assert_int_equal (PQntuples (res), 1);
    int64_t v = PQgetisnull (res, 0, 0) ? 0 : strtoll (PQgetvalue (res, 0, 0), NULL, 10);
    PQclear (res);
    return v;
}

static int
s_emit_txn (meso_db_t *db, void *arg)
{
    return meso_outbox_append (db, arg);
}

static void
s_emit (fx_t *fx, Meso__V1__Event *ev)
{
    meso_db_t *db = meso_db_new (fx->admin);
    assert_int_equal (meso_db_txn (db, MESO_DB_READ_COMMITTED, s_emit_txn, ev), 0);
    meso_db_destroy (&db);
}

/* Waits until the consumer's cursor of stream reaches seq. */
static void
s_wait_cursor (fx_t *fx, const char *stream, int64_t seq)
{
    int64_t t0 = meso_time_mono_ms (), cur = 0;
    while (meso_time_mono_ms () - t0 < 15000) {
        cur = s_sql (fx, stream[1] == 'e'
                     ? "SELECT coalesce (max (seq), 0) FROM billing.event_cursor WHERE stream = 'session'"
                     : "SELECT coalesce (max (seq), 0) FROM billing.event_cursor WHERE stream = 'screening'",
                     NULL);
        if (cur >= seq)
            break;
        mt_sleep_ms (30);
    }
    assert_int_equal (cur, seq);
}

/* screening.completed for patient: billing learns the patient. */
static void
s_screened (fx_t *fx, const char *patient)
{
    Meso__V1__ScreeningCompleted sc = MESO__V1__SCREENING_COMPLETED__INIT;
    sc.patient_id = (char *) patient;
    sc.screening_id = "scr";
    sc.verdict = MESO__V1__SCREENING_COMPLETED__VERDICT__VERDICT_ELIGIBLE;
    Meso__V1__Event ev = MESO__V1__EVENT__INIT;
    ev.type = "screening.completed";
    ev.payload_case = MESO__V1__EVENT__PAYLOAD_SCREENING_COMPLETED;
    ev.screening_completed = &sc;
    s_emit (fx, &ev);
    s_wait_cursor (fx, "screening", ++fx->screening_seq);
}

/* A session event: type "session.completed", "session.no_show" or
 * "session.cancelled" (late, by). date_offset: days from today. Does not
 * wait. */
static void
s_session (fx_t *fx, const char *type, const char *clinic, const char *appt, const char *patient,
           size_t n_areas, int date_offset, bool late, int by)
{
    Meso__V1__SessionInfo si = MESO__V1__SESSION_INFO__INIT;
    si.appointment_id = (char *) appt;
    si.patient_id = (char *) patient;
    si.clinic_id = (char *) clinic;
    char *areas[] = { "thighs", "hips", "knees", "arms" };
    si.areas = areas;
    si.n_areas = n_areas;
    char date[16], local[32];
    int32_t today = (int32_t) (meso_time_now_us () / INT64_C (86400000000));
    meso_date_format (today + date_offset, date, sizeof date);
    snprintf (local, sizeof local, "%sT10:00", date);
    si.local_start = local;
    Meso__V1__Event ev = MESO__V1__EVENT__INIT;
    Meso__V1__SessionCompleted sc = MESO__V1__SESSION_COMPLETED__INIT;
    Meso__V1__SessionCancelled sx = MESO__V1__SESSION_CANCELLED__INIT;
    Meso__V1__SessionNoShow sn = MESO__V1__SESSION_NO_SHOW__INIT;
    ev.type = (char *) type;
    ev.clinic_id = (char *) clinic;
    if (strcmp (type, "session.completed") == 0) {
        sc.session = &si;
        ev.payload_case = MESO__V1__EVENT__PAYLOAD_SESSION_COMPLETED;
        ev.session_completed = &sc;
    }
    else if (strcmp (type, "session.cancelled") == 0) {
        sx.session = &si;
        sx.late = late;
        sx.by = by;
        ev.payload_case = MESO__V1__EVENT__PAYLOAD_SESSION_CANCELLED;
        ev.session_cancelled = &sx;
    }
    else {
        sn.session = &si;
        ev.payload_case = MESO__V1__EVENT__PAYLOAD_SESSION_NO_SHOW;
        ev.session_no_show = &sn;
    }
    s_emit (fx, &ev);
    fx->session_seq++;
}

static void
s_date (int offset, char *out)
{
    int32_t today = (int32_t) (meso_time_now_us () / INT64_C (86400000000));
    meso_date_format (today + offset, out, 11);
}

/* Sets clinic's price list from today + offset: prices[i] for i+1 areas. */
static int
s_prices (fx_t *fx, const char *clinic, int offset, const int64_t *prices, size_t n,
          const char *currency)
{
    Meso__V1__PriceEntry e[8], *ep[8];
    for (size_t i = 0; i < n; i++) {
        meso__v1__price_entry__init (&e[i]);
        e[i].areas = (uint32_t) i + 1;
        e[i].price_cents = prices[i];
        ep[i] = &e[i];
    }
    char from[16];
    s_date (offset, from);
    Meso__V1__PriceList pl = MESO__V1__PRICE_LIST__INIT;
    pl.clinic_id = (char *) clinic;
    pl.effective_from = from;
    pl.currency = (char *) (currency ? currency : "");
    pl.prices = ep;
    pl.n_prices = n;
    Meso__V1__SetPriceListRequest rq = MESO__V1__SET_PRICE_LIST_REQUEST__INIT;
    rq.price_list = &pl;
    meso_result_t r = { 0 };
    int st = s_call (fx, "billing.SetPriceList", &rq.base, NULL, &r);
    meso_result_reset (&r);
    return st;
}

/* Records a payment; payment id into pid (>= 40 bytes) when OK. */
__attribute__ ((unused)) static int
s_pay (fx_t *fx, const char *clinic, const char *patient, const char *invoice, int64_t cents,
       const char *currency, const char *key, char *pid)
{
    Meso__V1__RecordPaymentRequest rq = MESO__V1__RECORD_PAYMENT_REQUEST__INIT;
    rq.clinic_id = (char *) clinic;
    rq.patient_id = (char *) (patient ? patient : "");
    rq.invoice_id = (char *) (invoice ? invoice : "");
    rq.amount_cents = cents;
    rq.currency = (char *) (currency ? currency : "");
    rq.method = "card";
    meso_result_t r = { 0 };
    int st = s_call (fx, "billing.RecordPayment", &rq.base, key, &r);
    if (st == MESO_OK && pid) {
        size_t len;
        const uint8_t *b = meso_result_body (&r, &len);
        Meso__V1__RecordPaymentReply *out = meso__v1__record_payment_reply__unpack (NULL, len, b);
        assert_non_null (out);
        snprintf (pid, 40, "%s", out->payment->payment_id);
        meso__v1__record_payment_reply__free_unpacked (out, NULL);
    }
    meso_result_reset (&r);
    return st;
}

static void
test_sigkill_before_commit_charges_once (void **state)
{
    fx_t *fx = s_setup ("bil_fault_kill");
    int64_t prices[] = { 40000 };
    assert_int_equal (s_prices (fx, "clinic-a", -5, prices, 1, NULL), MESO_OK);
    s_screened (fx, "pat-1");
    /* Restart the daemon with the pause inside event transactions. */
    assert_int_equal (mt_stop (fx->pid, SIGTERM), 0);
    fx->pid = s_spawn_billing (fx, "20000");
    s_session (fx, "session.completed", "clinic-a", "appt-1", "pat-1", 1, 0, false, 0);

    /* Wait until the consumer's transaction has done its work and sits
     * before its commit (idle in transaction for a while). */
    int64_t t0 = meso_time_mono_ms ();
    int64_t waiting = 0;
    while (meso_time_mono_ms () - t0 < 15000) {
        waiting = s_sql (fx, "SELECT count (*) FROM pg_stat_activity WHERE usename = 'meso_billing'"
                             " AND datname = current_database () AND state = 'idle in transaction'"
                             " AND state_change < now () - interval '300 ms'", NULL);
        if (waiting > 0)
            break;
        mt_sleep_ms (50);
    }
    assert_int_equal (waiting, 1);
    /* The charge is written but not committed: a lock on the appointment's
     * charge row would show it; what matters is that after the kill
     * nothing of it remains. */
    assert_int_equal (mt_stop (fx->pid, SIGKILL) != -1, 1);
    fx->pid = 0;
    /* The backend notices the dead client and rolls back. */
    t0 = meso_time_mono_ms ();
    while (meso_time_mono_ms () - t0 < 10000
           && s_sql (fx, "SELECT count (*) FROM pg_stat_activity WHERE usename = 'meso_billing'"
                         " AND datname = current_database ()", NULL) > 0)
        mt_sleep_ms (50);
    assert_int_equal (s_sql (fx, "SELECT count (*) FROM billing.session_charge", NULL), 0);
    assert_int_equal (s_sql (fx, "SELECT count (*) FROM billing.ledger", NULL), 0);
    assert_int_equal (s_sql (fx, "SELECT seq FROM billing.event_cursor WHERE stream = 'session'", NULL), 0);

    /* Restart (no pause): the event comes again and is charged once. */
    fx->pid = s_spawn_billing (fx, NULL);
    s_wait_cursor (fx, "session", fx->session_seq);
    assert_int_equal (s_sql (fx, "SELECT count (*) FROM billing.session_charge WHERE appointment_id = 'appt-1'", NULL), 1);
    assert_int_equal (s_sql (fx, "SELECT count (*) FROM billing.ledger WHERE kind = 'charge'", NULL), 1);
    assert_int_equal (s_sql (fx, "SELECT sum (amount_cents) FROM billing.ledger", NULL), 40000);
    assert_int_equal (s_sql (fx, "SELECT (SELECT count (*) FROM events.outbox WHERE type = 'billing.invoice_issued')"
                                 " + (SELECT count (*) FROM events.log WHERE type = 'billing.invoice_issued')", NULL), 1);
    /* Once more for good measure: the event redelivered from a rewound
     * cursor charges nothing. */
    assert_int_equal (mt_stop (fx->pid, SIGKILL) != -1, 1);
    assert_int_equal (meso_db_exec (fx->db, "UPDATE billing.event_cursor SET seq = 0", 0, NULL), 0);
    fx->pid = s_spawn_billing (fx, NULL);
    s_wait_cursor (fx, "session", fx->session_seq);
    s_wait_cursor (fx, "screening", fx->screening_seq);
    assert_int_equal (s_sql (fx, "SELECT count (*) FROM billing.ledger WHERE kind = 'charge'", NULL), 1);
    s_teardown (fx);
}

/* ------------------------------------------------ concurrent payments */

#define NCLIENTS 100

typedef struct {
    const char *endpoint;
    const char *invoice;
    int64_t amount;
    pthread_barrier_t *barrier;
    int status;
    bool replayed;
    uint8_t body[1024];
    size_t len;
} s_payer_t;

static void *
s_payer (void *arg)
{
    s_payer_t *p = arg;
    meso_bus_client_t *c = meso_bus_client_new (p->endpoint, MESO__V1__ACTOR__KIND__KIND_USER, "desk");
    Meso__V1__RecordPaymentRequest rq = MESO__V1__RECORD_PAYMENT_REQUEST__INIT;
    rq.clinic_id = "clinic-a";
    rq.invoice_id = (char *) p->invoice;
    rq.amount_cents = p->amount;
    rq.method = "card";
    rq.reference = "slip 42";
    meso_result_t r = { 0 };
    pthread_barrier_wait (p->barrier);
    meso_bus_client_call (c, "billing.RecordPayment", &rq.base, "pay-once-key", 20000, &r);
    p->status = r.status;
    p->replayed = r.reply && r.reply->replayed;
    size_t len = 0;
    const uint8_t *b = meso_result_body (&r, &len);
    if (b && len <= sizeof p->body) {
        memcpy (p->body, b, len);
        p->len = len;
    }
    meso_result_reset (&r);
    meso_bus_client_destroy (&c);
    return NULL;
}

static void
test_same_payment_100_times_concurrently (void **state)
{
    fx_t *fx = s_setup ("bil_fault_pay");
    int64_t prices[] = { 45000 };
    assert_int_equal (s_prices (fx, "clinic-a", -1, prices, 1, NULL), MESO_OK);
    s_screened (fx, "pat-1");
    s_session (fx, "session.completed", "clinic-a", "appt-1", "pat-1", 1, 0, false, 0);
    s_wait_cursor (fx, "session", fx->session_seq);
    PGresult *res = meso_db_query (fx->db, "SELECT invoice_id FROM billing.invoice", 0, NULL);
    assert_non_null (res);
    assert_int_equal (PQntuples (res), 1);
    char invoice[64];
    snprintf (invoice, sizeof invoice, "%s", PQgetvalue (res, 0, 0));
    PQclear (res);

    static s_payer_t payers[NCLIENTS];
    pthread_t threads[NCLIENTS];
    pthread_barrier_t barrier;
    pthread_barrier_init (&barrier, NULL, NCLIENTS);
    int64_t t0 = meso_time_mono_ms ();
    for (int i = 0; i < NCLIENTS; i++) {
        memset (&payers[i], 0, sizeof payers[i]);
        payers[i].endpoint = fx->router;
        payers[i].invoice = invoice;
        payers[i].amount = 30000;
        payers[i].barrier = &barrier;
        assert_int_equal (pthread_create (&threads[i], NULL, s_payer, &payers[i]), 0);
    }
    for (int i = 0; i < NCLIENTS; i++)
        pthread_join (threads[i], NULL);
    pthread_barrier_destroy (&barrier);
    int replayed = 0;
    for (int i = 0; i < NCLIENTS; i++) {
        assert_int_equal (payers[i].status, MESO_OK);
        assert_true (payers[i].len > 0);
        assert_int_equal (payers[i].len, payers[0].len);
        assert_memory_equal (payers[i].body, payers[0].body, payers[0].len);
        replayed += payers[i].replayed;
    }
    printf ("%d concurrent payments with one key: all OK in %" PRId64 " ms, %d replayed, identical replies\n",
            NCLIENTS, meso_time_mono_ms () - t0, replayed);
    assert_int_equal (replayed, NCLIENTS - 1);
    Meso__V1__RecordPaymentReply *out =
        meso__v1__record_payment_reply__unpack (NULL, payers[0].len, payers[0].body);
    assert_non_null (out);
    assert_int_equal (out->payment->amount_cents, 30000);
    assert_int_equal (out->invoice_due_cents, 15000);
    assert_int_equal (out->balance_due_cents, 15000);
    assert_string_equal (out->payment->provider, "record-only");
    meso__v1__record_payment_reply__free_unpacked (out, NULL);
    assert_int_equal (s_sql (fx, "SELECT count (*) FROM billing.payment", NULL), 1);
    assert_int_equal (s_sql (fx, "SELECT count (*) FROM billing.ledger WHERE kind = 'payment'", NULL), 1);
    assert_int_equal (s_sql (fx, "SELECT sum (amount_cents) FROM billing.ledger", NULL), 15000);
    assert_int_equal (s_sql (fx, "SELECT (SELECT count (*) FROM events.outbox WHERE type = 'billing.payment_received')"
                                 " + (SELECT count (*) FROM events.log WHERE type = 'billing.payment_received')", NULL), 1);

    /* The same key with a different amount: refused, nothing changes. */
    int64_t n_before = s_sql (fx, "SELECT count (*) FROM billing.ledger", NULL)
                     + s_sql (fx, "SELECT count (*) FROM billing.payment", NULL);
    Meso__V1__RecordPaymentRequest rq = MESO__V1__RECORD_PAYMENT_REQUEST__INIT;
    rq.clinic_id = "clinic-a";
    rq.invoice_id = invoice;
    rq.amount_cents = 15000;
    rq.method = "card";
    rq.reference = "slip 42";
    meso_result_t r = { 0 };
    assert_int_equal (s_call (fx, "billing.RecordPayment", &rq.base, "pay-once-key", &r), MESO_FAILED_PRECONDITION);
    meso_result_reset (&r);
    assert_int_equal (s_sql (fx, "SELECT count (*) FROM billing.ledger", NULL)
                      + s_sql (fx, "SELECT count (*) FROM billing.payment", NULL), n_before);
    /* The same request with the key again still replays. */
    rq.amount_cents = 30000;
    assert_int_equal (s_call (fx, "billing.RecordPayment", &rq.base, "pay-once-key", &r), MESO_OK);
    assert_true (r.reply->replayed);
    meso_result_reset (&r);
    assert_int_equal (s_sql (fx, "SELECT count (*) FROM billing.payment", NULL), 1);
    s_teardown (fx);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_sigkill_before_commit_charges_once),
        cmocka_unit_test (test_same_payment_100_times_concurrently),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
