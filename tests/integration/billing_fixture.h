/* billing_fixture.h -- what the billing tests share (included by
 * tests/integration/test_billing.c and tests/fault/test_billing_faults.c;
 * static functions, one copy per test program): a fresh database, a real
 * meso-events and a real meso-billing over ipc:// sockets, and helpers that
 * call billing's methods, feed it events through the outbox (as screening
 * and scheduling would) and wait until its consumer has taken them. */
#ifndef BILLING_FIXTURE_H
#define BILLING_FIXTURE_H

#include <inttypes.h>
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

__attribute__ ((unused)) static pid_t
fx_spawn_billing (fx_t *fx, const char *pause_ms)
{
    char role[512], db[600], bind[300], ev[300], evp[300], env_pause[64];
    mt_role_conninfo (fx->dbname, "meso_billing", role, sizeof role);
    snprintf (db, sizeof db, "--db=%s", role);
    snprintf (bind, sizeof bind, "--bind=%s", fx->router);
    snprintf (ev, sizeof ev, "--events=%s", fx->events_router);
    snprintf (evp, sizeof evp, "--events-pub=%s", fx->events_pub);
    snprintf (env_pause, sizeof env_pause, "MESO_BILLING_TEST_PAUSE_MS=%s", pause_ms ? pause_ms : "");
    /* No scheduling here: clinic ids are checked for syntax only
     * (tests/integration/test_clinic_ids.c checks them against one). */
    const char *argv[] = { "meso-billing", db, bind, ev, evp, "--scheduling=", NULL };
    const char *env[] = { env_pause, NULL };
    pid_t pid = mt_spawn ("bin/meso-billing", argv, env);
    assert_true (pid > 0);
    assert_int_equal (mt_wait_healthy (fx->router, 10000), 0);
    return pid;
}

static fx_t *
fx_setup (const char *name)
{
    fx_t *fx = calloc (1, sizeof *fx);
    assert_non_null (fx);
    snprintf (fx->dbname, sizeof fx->dbname, "%s", name);
    assert_int_equal (mt_db_create (name, fx->admin, sizeof fx->admin), 0);
    mt_ipc_endpoint ("bil", fx->router, sizeof fx->router);
    fx->events_pid = mt_spawn_events (name, fx->events_router, sizeof fx->events_router,
                                      fx->events_pub, sizeof fx->events_pub);
    assert_true (fx->events_pid > 0);
    fx->pid = fx_spawn_billing (fx, NULL);
    fx->c = mt_client (fx->router);
    assert_non_null (fx->c);
    fx->db = meso_db_new (fx->admin);
    assert_true (meso_db_ok (fx->db));
    return fx;
}

static void
fx_teardown (fx_t *fx)
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
fx_call (fx_t *fx, const char *method, const ProtobufCMessage *body, const char *key,
         meso_result_t *r)
{
    return mt_call (fx->c, method, body, key, &fx->key, r);
}

/* One integer from SQL (superuser). */
static int64_t
fx_sql (fx_t *fx, const char *sql, const char *p1)
{
    int64_t v = 0;
    assert_int_equal (mt_sql_int (fx->db, sql, p1, &v), 0);
    return v;
}

static int
fx_emit_txn (meso_db_t *db, void *arg)
{
    return meso_outbox_append (db, arg);
}

__attribute__ ((unused)) static void
fx_emit (fx_t *fx, Meso__V1__Event *ev)
{
    meso_db_t *db = meso_db_new (fx->admin);
    assert_int_equal (meso_db_txn (db, MESO_DB_READ_COMMITTED, fx_emit_txn, ev), 0);
    meso_db_destroy (&db);
}

/* Waits until the consumer's cursor of stream reaches seq. */
__attribute__ ((unused)) static void
fx_wait_cursor (fx_t *fx, const char *stream, int64_t seq)
{
    int64_t t0 = meso_time_mono_ms (), cur = 0;
    while (meso_time_mono_ms () - t0 < 15000) {
        cur = fx_sql (fx, stream[1] == 'e'
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
__attribute__ ((unused)) static void
fx_screened (fx_t *fx, const char *patient)
{
    Meso__V1__ScreeningCompleted sc = MESO__V1__SCREENING_COMPLETED__INIT;
    sc.patient_id = (char *) patient;
    sc.screening_id = "scr";
    sc.verdict = MESO__V1__VERDICT__VERDICT_ELIGIBLE;
    Meso__V1__Event ev = MESO__V1__EVENT__INIT;
    ev.type = "screening.completed";
    ev.payload_case = MESO__V1__EVENT__PAYLOAD_SCREENING_COMPLETED;
    ev.screening_completed = &sc;
    fx_emit (fx, &ev);
    fx_wait_cursor (fx, "screening", ++fx->screening_seq);
}

/* A session event: type "session.completed", "session.no_show" or
 * "session.cancelled" (late, by). date_offset: days from today. Does not
 * wait. */
__attribute__ ((unused)) static void
fx_session (fx_t *fx, const char *type, const char *clinic, const char *appt, const char *patient,
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
    fx_emit (fx, &ev);
    fx->session_seq++;
}

__attribute__ ((unused)) static void
fx_date (int offset, char *out)
{
    int32_t today = (int32_t) (meso_time_now_us () / INT64_C (86400000000));
    meso_date_format (today + offset, out, 11);
}

/* Sets clinic's price list from today + offset: prices[i] for i+1 areas. */
__attribute__ ((unused)) static int
fx_prices (fx_t *fx, const char *clinic, int offset, const int64_t *prices, size_t n,
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
    fx_date (offset, from);
    Meso__V1__PriceList pl = MESO__V1__PRICE_LIST__INIT;
    pl.clinic_id = (char *) clinic;
    pl.effective_from = from;
    pl.currency = (char *) (currency ? currency : "");
    pl.prices = ep;
    pl.n_prices = n;
    Meso__V1__SetPriceListRequest rq = MESO__V1__SET_PRICE_LIST_REQUEST__INIT;
    rq.price_list = &pl;
    meso_result_t r = { 0 };
    int st = fx_call (fx, "billing.SetPriceList", &rq.base, NULL, &r);
    meso_result_reset (&r);
    return st;
}

/* Records a payment; payment id into pid (>= 40 bytes) when OK. */
__attribute__ ((unused)) static int
fx_pay (fx_t *fx, const char *clinic, const char *patient, const char *invoice, int64_t cents,
        const char *currency, const char *key, char *pid)
{
    Meso__V1__RecordPaymentRequest rq = MESO__V1__RECORD_PAYMENT_REQUEST__INIT;
    rq.clinic_id = (char *) clinic;
    rq.patient_id = (char *) (patient ? patient : "");
    if (invoice) {              /* an invoice ("" too: refused as billing would) */
        rq.target_case = MESO__V1__RECORD_PAYMENT_REQUEST__TARGET_INVOICE_ID;
        rq.invoice_id = (char *) invoice;
    }
    else {
        rq.target_case = MESO__V1__RECORD_PAYMENT_REQUEST__TARGET_DEPOSIT;
        rq.deposit = true;
    }
    rq.amount_cents = cents;
    rq.currency = (char *) (currency ? currency : "");
    rq.method = MESO__V1__PAYMENT_METHOD__PAYMENT_METHOD_CARD;
    meso_result_t r = { 0 };
    int st = fx_call (fx, "billing.RecordPayment", &rq.base, key, &r);
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

#endif
