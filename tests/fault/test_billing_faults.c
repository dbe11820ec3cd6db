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

#include "../integration/billing_fixture.h"

static void
test_sigkill_before_commit_charges_once (void **state)
{
    fx_t *fx = fx_setup ("bil_fault_kill");
    int64_t prices[] = { 40000 };
    assert_int_equal (fx_prices (fx, "clinic-a", -5, prices, 1, NULL), MESO_OK);
    fx_screened (fx, "pat-1");
    /* Restart the daemon with the pause inside event transactions. */
    assert_int_equal (mt_stop (fx->pid, SIGTERM), 0);
    fx->pid = fx_spawn_billing (fx, "20000");
    fx_session (fx, "session.completed", "clinic-a", "appt-1", "pat-1", 1, 0, false, 0);

    /* Wait until the consumer's transaction has done its work and sits
     * before its commit (idle in transaction for a while). */
    int64_t t0 = meso_time_mono_ms ();
    int64_t waiting = 0;
    while (meso_time_mono_ms () - t0 < 15000) {
        waiting = fx_sql (fx, "SELECT count (*) FROM pg_stat_activity WHERE usename = 'meso_billing'"
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
           && fx_sql (fx, "SELECT count (*) FROM pg_stat_activity WHERE usename = 'meso_billing'"
                         " AND datname = current_database ()", NULL) > 0)
        mt_sleep_ms (50);
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM billing.session_charge", NULL), 0);
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM billing.ledger", NULL), 0);
    assert_int_equal (fx_sql (fx, "SELECT seq FROM billing.event_cursor WHERE stream = 'session'", NULL), 0);

    /* Restart (no pause): the event comes again and is charged once. */
    fx->pid = fx_spawn_billing (fx, NULL);
    fx_wait_cursor (fx, "session", fx->session_seq);
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM billing.session_charge WHERE appointment_id = 'appt-1'", NULL), 1);
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM billing.ledger WHERE kind = 'charge'", NULL), 1);
    assert_int_equal (fx_sql (fx, "SELECT sum (amount_cents) FROM billing.ledger", NULL), 40000);
    assert_int_equal (fx_sql (fx, "SELECT (SELECT count (*) FROM events.outbox WHERE type = 'billing.invoice_issued')"
                                 " + (SELECT count (*) FROM events.log WHERE type = 'billing.invoice_issued')", NULL), 1);
    /* Once more for good measure: the event redelivered from a rewound
     * cursor charges nothing. */
    assert_int_equal (mt_stop (fx->pid, SIGKILL) != -1, 1);
    assert_int_equal (meso_db_exec (fx->db, "UPDATE billing.event_cursor SET seq = 0", 0, NULL), 0);
    fx->pid = fx_spawn_billing (fx, NULL);
    fx_wait_cursor (fx, "session", fx->session_seq);
    fx_wait_cursor (fx, "screening", fx->screening_seq);
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM billing.ledger WHERE kind = 'charge'", NULL), 1);
    fx_teardown (fx);
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
    meso_bus_client_t *c = mt_client (p->endpoint);
    Meso__V1__RecordPaymentRequest rq = MESO__V1__RECORD_PAYMENT_REQUEST__INIT;
    rq.clinic_id = "clinic-a";
    rq.target_case = MESO__V1__RECORD_PAYMENT_REQUEST__TARGET_INVOICE_ID;
    rq.invoice_id = (char *) p->invoice;
    rq.amount_cents = p->amount;
    rq.method = MESO__V1__PAYMENT_METHOD__PAYMENT_METHOD_CARD;
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
    fx_t *fx = fx_setup ("bil_fault_pay");
    int64_t prices[] = { 45000 };
    assert_int_equal (fx_prices (fx, "clinic-a", -1, prices, 1, NULL), MESO_OK);
    fx_screened (fx, "pat-1");
    fx_session (fx, "session.completed", "clinic-a", "appt-1", "pat-1", 1, 0, false, 0);
    fx_wait_cursor (fx, "session", fx->session_seq);
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
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM billing.payment", NULL), 1);
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM billing.ledger WHERE kind = 'payment'", NULL), 1);
    assert_int_equal (fx_sql (fx, "SELECT sum (amount_cents) FROM billing.ledger", NULL), 15000);
    assert_int_equal (fx_sql (fx, "SELECT (SELECT count (*) FROM events.outbox WHERE type = 'billing.payment_received')"
                                 " + (SELECT count (*) FROM events.log WHERE type = 'billing.payment_received')", NULL), 1);

    /* The same key with a different amount: refused, nothing changes. */
    int64_t n_before = fx_sql (fx, "SELECT count (*) FROM billing.ledger", NULL)
                     + fx_sql (fx, "SELECT count (*) FROM billing.payment", NULL);
    Meso__V1__RecordPaymentRequest rq = MESO__V1__RECORD_PAYMENT_REQUEST__INIT;
    rq.clinic_id = "clinic-a";
    rq.target_case = MESO__V1__RECORD_PAYMENT_REQUEST__TARGET_INVOICE_ID;
    rq.invoice_id = invoice;
    rq.amount_cents = 15000;
    rq.method = MESO__V1__PAYMENT_METHOD__PAYMENT_METHOD_CARD;
    rq.reference = "slip 42";
    meso_result_t r = { 0 };
    assert_int_equal (fx_call (fx, "billing.RecordPayment", &rq.base, "pay-once-key", &r), MESO_FAILED_PRECONDITION);
    meso_result_reset (&r);
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM billing.ledger", NULL)
                      + fx_sql (fx, "SELECT count (*) FROM billing.payment", NULL), n_before);
    /* The same request with the key again still replays. */
    rq.amount_cents = 30000;
    assert_int_equal (fx_call (fx, "billing.RecordPayment", &rq.base, "pay-once-key", &r), MESO_OK);
    assert_true (r.reply->replayed);
    meso_result_reset (&r);
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM billing.payment", NULL), 1);
    fx_teardown (fx);
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
