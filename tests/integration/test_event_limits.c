/* test_event_limits.c -- nothing a caller sends can make an event the log
 * cannot replay, and what cannot move is said out loud:
 *   - every event type is refused over MESO_OUTBOX_EVENT_MAX with
 *     RESOURCE_EXHAUSTED naming its type and size, and accepted under it;
 *   - Replay returns the event at the cursor even when it is larger than a
 *     page, and names an event too large for any reply;
 *   - a consumer stuck on one event makes Health degraded with the
 *     position and the error, and sets meso_consumer_stuck{stream};
 *   - a transaction holding the relay back makes the events daemon's
 *     Health degraded with its pid and role, and its event is delivered
 *     once it commits.
 * Real PostgreSQL, real meso-events, real sockets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "meso/bus.h"
#include "meso/db.h"
#include "meso/metrics.h"
#include "meso/outbox.h"
#include "meso/status.h"
#include "meso/subscriber.h"
#include "events.pb-c.h"

/* A stock.low event whose actor id is pad bytes long, packed into a
 * malloc'd buffer (*len). */
static uint8_t *
s_pack_padded (size_t pad, size_t *len)
{
    char *id = malloc (pad + 1);
    memset (id, 'x', pad);
    id[pad] = '\0';
    Meso__V1__Actor actor = MESO__V1__ACTOR__INIT;
    actor.id = id;
    Meso__V1__StockLow low = MESO__V1__STOCK_LOW__INIT;
    low.ingredient_code = "caffeine";
    Meso__V1__Event ev = MESO__V1__EVENT__INIT;
    ev.id = "00000000-0000-4000-8000-000000000000";
    ev.type = "stock.low";
    ev.stream = "stock";
    ev.actor = &actor;
    ev.payload_case = MESO__V1__EVENT__PAYLOAD_STOCK_LOW;
    ev.stock_low = &low;
    *len = meso__v1__event__get_packed_size (&ev);
    uint8_t *buf = malloc (*len);
    meso__v1__event__pack (&ev, buf);
    free (id);
    return buf;
}

/* ------------------------------------------------------- the size cap */

typedef struct {
    const char *type;
    Meso__V1__Event__PayloadCase pc;
    const ProtobufCFieldDescriptor *field;
    size_t pad;
    int rc;
    int status;
    char message[512];
} s_append_t;

static int
s_append (meso_db_t *db, void *arg)
{
    s_append_t *a = arg;
    /* An empty payload of the type's own message: the union member is
     * at the same offset for every case. */
    const ProtobufCMessageDescriptor *pd = a->field->descriptor;
    ProtobufCMessage *payload = calloc (1, pd->sizeof_message);
    protobuf_c_message_init (pd, payload);
    char *id = malloc (a->pad + 1);
    memset (id, 'a', a->pad);
    id[a->pad] = '\0';
    Meso__V1__Actor actor = MESO__V1__ACTOR__INIT;
    actor.id = id;
    Meso__V1__Event ev = MESO__V1__EVENT__INIT;
    ev.type = (char *) a->type;
    ev.clinic_id = "clinic-a";
    ev.actor = &actor;
    ev.payload_case = a->pc;
    memcpy ((char *) &ev + a->field->offset, &payload, sizeof payload);
    a->rc = meso_outbox_append (db, &ev);
    a->status = a->rc == 0 ? MESO_OK : meso_db_status (db);
    snprintf (a->message, sizeof a->message, "%s", meso_db_error (db)->message);
    free (id);
    free (payload);
    return a->rc;
}

static void
test_every_event_type_is_capped (void **state)
{
    (void) state;
    char conninfo[512];
    assert_int_equal (mt_db_create ("limits_cap", conninfo, sizeof conninfo), 0);
    meso_db_t *db = meso_db_new (conninfo);
    int types = 0;
    const ProtobufCMessageDescriptor *ed = &meso__v1__event__descriptor;
    for (unsigned i = 0; i < ed->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &ed->fields[i];
        if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) || f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        /* The type that carries this payload: "stock_low" is "stock.low",
         * "invoice_issued" is "billing.invoice_issued". */
        static const char *const streams[] = { "session", "screening", "stock", "billing" };
        char type[96] = "";
        for (int k = 0; k < 4 && !type[0]; k++) {
            size_t sl = strlen (streams[k]);
            char cand[96];
            if (strncmp (f->name, streams[k], sl) == 0 && f->name[sl] == '_')
                snprintf (cand, sizeof cand, "%s.%s", streams[k], f->name + sl + 1);
            else
                snprintf (cand, sizeof cand, "%s.%s", streams[k], f->name);
            if ((unsigned) meso_event_payload_case (cand) == f->id)
                strcpy (type, cand);
        }
        assert_true (type[0] != '\0');
        types++;

        s_append_t over = { type, (Meso__V1__Event__PayloadCase) f->id, f,
                            MESO_OUTBOX_EVENT_MAX, 0, 0, "" };
        assert_int_equal (meso_db_txn (db, MESO_DB_READ_COMMITTED, s_append, &over), -1);
        assert_int_equal (over.rc, -1);
        assert_string_equal (meso_db_error (db)->sqlstate, "54000");
        assert_int_equal (over.status, MESO_RESOURCE_EXHAUSTED);
        assert_non_null (strstr (over.message, type));
        assert_non_null (strstr (over.message, "bytes exceeds the 65536-byte limit"));
        assert_true (meso_db_error (db)->hint[0] != '\0');

        s_append_t under = { type, (Meso__V1__Event__PayloadCase) f->id, f,
                             MESO_OUTBOX_EVENT_MAX - 1024, 0, 0, "" };
        assert_int_equal (meso_db_txn (db, MESO_DB_READ_COMMITTED, s_append, &under), 0);
    }
    assert_true (types >= 15);
    /* Only the events under the cap were stored, one per type. */
    int64_t n = 0;
    assert_int_equal (mt_sql_int (db, "SELECT count (*) FROM events.outbox", NULL, &n), 0);
    assert_int_equal (n, types);
    assert_int_equal (mt_sql_int (db, "SELECT count (*) FROM events.outbox WHERE length (payload) > $1::int",
                                  "65536", &n), 0);
    assert_int_equal (n, 0);
    meso_db_destroy (&db);
}

/* ----------------------------------------------------------- replay */

static void
s_log_insert (meso_db_t *db, uint64_t seq, const uint8_t *payload, size_t len)
{
    char s[24];
    snprintf (s, sizeof s, "%" PRIu64, seq);
    const char *values[2] = { s, (const char *) payload };
    int lengths[2] = { 0, (int) len };
    int formats[2] = { 0, 1 };
    PGresult *res = meso_db_query_bin (db,
        "WITH ins AS (INSERT INTO events.log (global_seq, stream, stream_seq, type, occurred_at, payload)"
        " VALUES ($1::bigint, 'stock', $1::bigint, 'stock.low', now (), $2))"
        " UPDATE events.stream_head SET seq = $1::bigint WHERE stream IN ('stock', '*')",
        2, values, lengths, formats);
    assert_non_null (res);
    PQclear (res);
}

/* Replays stock after after; returns the status, the events in *n and
 * the first one's size in *first_len. */
static int
s_replay (meso_bus_client_t *c, uint64_t after, size_t *n, size_t *first_len, char *msg,
          size_t msg_size)
{
    Meso__V1__ReplayRequest rq = MESO__V1__REPLAY_REQUEST__INIT;
    rq.stream = "stock";
    rq.after_seq = after;
    rq.limit = 10000;
    meso_result_t r = { 0 };
    meso_bus_client_call (c, "events.Replay", &rq.base, NULL, 5000, &r);
    int status = r.status;
    snprintf (msg, msg_size, "%s", r.message);
    *n = 0;
    if (status == MESO_OK) {
        size_t len;
        const uint8_t *body = meso_result_body (&r, &len);
        Meso__V1__ReplayReply *rep = meso__v1__replay_reply__unpack (NULL, len, body);
        assert_non_null (rep);
        *n = rep->n_events;
        if (rep->n_events > 0) {
            *first_len = meso__v1__event__get_packed_size (rep->events[0]);
            assert_int_equal (rep->events[0]->stream_seq, after + 1);
        }
        meso__v1__replay_reply__free_unpacked (rep, NULL);
    }
    meso_result_reset (&r);
    return status;
}

static void
test_replay_returns_an_event_larger_than_a_page (void **state)
{
    (void) state;
    char conninfo[512], router[256], pub[256];
    assert_int_equal (mt_db_create ("limits_replay", conninfo, sizeof conninfo), 0);
    meso_db_t *db = meso_db_new (conninfo);
    /* Stored before the cap existed: 300 KiB (over a 256 KiB page, under
     * a reply), two small ones, then 1.05 MB (over any reply). */
    size_t len;
    uint8_t *big = s_pack_padded (300 * 1024, &len);
    s_log_insert (db, 1, big, len);
    free (big);
    uint8_t *small = s_pack_padded (100, &len);
    s_log_insert (db, 2, small, len);
    s_log_insert (db, 3, small, len);
    free (small);
    uint8_t *huge = s_pack_padded (1050 * 1000, &len);
    s_log_insert (db, 4, huge, len);
    free (huge);
    s_log_insert (db, 5, (const uint8_t *) "\x0a\x01x", 3);

    pid_t pid = mt_spawn_events ("limits_replay", router, sizeof router, pub, sizeof pub);
    assert_true (pid > 0);
    meso_bus_client_t *c = mt_client (router);
    size_t n = 0, first = 0;
    char msg[512];
    assert_int_equal (s_replay (c, 0, &n, &first, msg, sizeof msg), MESO_OK);
    assert_int_equal (n, 1);                    /* the page shrank to the one event */
    assert_true (first > 300 * 1024);
    assert_int_equal (s_replay (c, 1, &n, &first, msg, sizeof msg), MESO_OK);
    assert_int_equal (n, 2);
    /* Too large for any reply: refused, naming where and why, every time. */
    for (int i = 0; i < 2; i++) {
        assert_int_equal (s_replay (c, 3, &n, &first, msg, sizeof msg), MESO_RESOURCE_EXHAUSTED);
        assert_non_null (strstr (msg, "event stock #4 is"));
        assert_non_null (strstr (msg, "too large for any events.Replay reply"));
    }
    assert_int_equal (s_replay (c, 4, &n, &first, msg, sizeof msg), MESO_OK);
    assert_int_equal (n, 1);
    meso_bus_client_destroy (&c);
    assert_int_equal (mt_stop (pid, SIGTERM), 0);
    meso_db_destroy (&db);
}

/* ---------------------------------------------------- a stuck consumer */

typedef struct {
    uint64_t refuse_seq;        /* the effect fails for this event while set */
    int calls;
} s_refuse_t;

static int
s_effect (meso_db_t *db, const Meso__V1__Event *ev, void *arg)
{
    s_refuse_t *rf = arg;
    rf->calls++;
    if (ev->stream_seq == rf->refuse_seq) {
        meso_db_set_error (db, "23514", "test refuses event %" PRIu64, ev->stream_seq);
        return -1;
    }
    return 0;
}

static int
s_emit (meso_db_t *db, void *arg)
{
    (void) arg;
    Meso__V1__StockLow low = MESO__V1__STOCK_LOW__INIT;
    low.ingredient_code = "caffeine";
    Meso__V1__Event ev = MESO__V1__EVENT__INIT;
    ev.type = "stock.low";
    ev.clinic_id = "clinic-a";
    ev.payload_case = MESO__V1__EVENT__PAYLOAD_STOCK_LOW;
    ev.stock_low = &low;
    return meso_outbox_append (db, &ev);
}

/* Asks Health of an in-process server (which this thread must serve). */
static void
s_inproc_health (meso_bus_server_t *server, const char *endpoint, char *st, char *notes)
{
    meso_bus_client_t *c = mt_client (endpoint);
    char rid[64];
    assert_int_equal (meso_bus_client_send (c, "Health", NULL, NULL, 3000, rid), 0);
    meso_result_t r = { 0 };
    for (int i = 0; i < 100; i++) {
        meso_bus_server_handle (server);
        if (meso_bus_client_recv (c, 20, &r) == 0)
            break;
    }
    assert_int_equal (r.status, MESO_OK);
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__HealthReply *h = meso__v1__health_reply__unpack (NULL, len, body);
    assert_non_null (h);
    strcpy (st, meso_enum_str (&meso__v1__health_state__descriptor, (int) h->state));
    notes[0] = '\0';
    for (size_t i = 0; i < h->n_notes; i++)
        strcat (strcat (notes, h->notes[i]), " | ");
    meso__v1__health_reply__free_unpacked (h, NULL);
    meso_result_reset (&r);
    meso_bus_client_destroy (&c);
}

static void
test_a_stuck_consumer_makes_health_degraded (void **state)
{
    (void) state;
    char conninfo[512], router[256], pub[256], endpoint[256];
    assert_int_equal (mt_db_create ("limits_stuck", conninfo, sizeof conninfo), 0);
    meso_db_t *db = meso_db_new (conninfo);
    assert_int_equal (meso_db_exec (db, "CREATE SCHEMA stucktest", 0, NULL), 0);
    assert_int_equal (meso_db_exec (db, "CREATE TABLE stucktest.event_cursor"
                                        " (stream text PRIMARY KEY, seq bigint NOT NULL)", 0, NULL), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal (meso_db_txn (db, MESO_DB_READ_COMMITTED, s_emit, NULL), 0);
    pid_t pid = mt_spawn_events ("limits_stuck", router, sizeof router, pub, sizeof pub);
    assert_true (pid > 0);

    /* A daemon of its own: a bus server and a consumer in this process. */
    static const meso_method_t none[] = { { NULL, NULL, 0, NULL, 0, NULL, 0 } };
    mt_ipc_endpoint ("stuck", endpoint, sizeof endpoint);
    /* Served with this process's own pair (tester's). */
    mt_service_register (endpoint, "tester");
    meso_bus_server_t *server = meso_bus_server_new ("stucktest", endpoint, none, NULL, NULL);
    assert_non_null (server);
    meso_db_t *cdb = meso_db_new (conninfo);
    s_refuse_t rf = { 2, 0 };
    meso_consumer_t *cons = meso_consumer_new (cdb, "stucktest", "stock", router, pub, "stucktest",
                                               s_effect, &rf);
    assert_non_null (cons);
    char st[32], notes[2048];
    s_inproc_health (server, endpoint, st, notes);
    assert_string_equal (st, "ok");

    for (int i = 0; i < 100 && rf.calls < 6; i++)
        meso_consumer_poll (cons, 50);
    assert_int_equal (meso_consumer_cursor (cons, "stock"), 1);
    s_inproc_health (server, endpoint, st, notes);
    assert_string_equal (st, "degraded");
    assert_non_null (strstr (notes, "consumer stucktest stuck at stock #2"));
    assert_non_null (strstr (notes, "test refuses event 2"));
    char *text = meso_metrics_render ();
    assert_non_null (strstr (text, "meso_consumer_stuck{stream=\"stock\"} 1"));
    assert_non_null (strstr (text, "meso_consumer_stuck_seq{stream=\"stock\"} 2"));
    free (text);

    /* Fixed: it moves on, and says so. */
    rf.refuse_seq = 0;
    for (int i = 0; i < 100 && meso_consumer_cursor (cons, "stock") < 3; i++)
        meso_consumer_poll (cons, 50);
    assert_int_equal (meso_consumer_cursor (cons, "stock"), 3);
    s_inproc_health (server, endpoint, st, notes);
    assert_string_equal (st, "ok");
    assert_null (strstr (notes, "stuck"));
    text = meso_metrics_render ();
    assert_non_null (strstr (text, "meso_consumer_stuck{stream=\"stock\"} 0"));
    free (text);

    meso_consumer_destroy (&cons);
    meso_bus_server_destroy (&server);
    meso_db_destroy (&cdb);
    assert_int_equal (mt_stop (pid, SIGTERM), 0);
    meso_db_destroy (&db);
}

/* ------------------------------------------- a transaction holding back */

static void
test_a_held_back_relay_is_named_in_health (void **state)
{
    (void) state;
    char conninfo[512], role[512], router[256], pub[256];
    assert_int_equal (mt_db_create ("limits_held", conninfo, sizeof conninfo), 0);
    char evrole[512], dbarg[600], bind[300], pubarg[300];
    mt_ipc_endpoint ("heldr", router, sizeof router);
    mt_ipc_endpoint ("heldp", pub, sizeof pub);
    mt_role_conninfo ("limits_held", "meso_events", evrole, sizeof evrole);
    snprintf (dbarg, sizeof dbarg, "--db=%s", evrole);
    snprintf (bind, sizeof bind, "--bind=%s", router);
    snprintf (pubarg, sizeof pubarg, "--pub=%s", pub);
    const char *argv[] = { "meso-events", dbarg, bind, pubarg, "--held-warn-ms=300", NULL };
    pid_t pid = mt_spawn ("bin/meso-events", argv, NULL);
    assert_true (pid > 0);
    assert_int_equal (mt_wait_healthy (router, 10000), 0);
    char st[32], notes[2048];

    /* A service's transaction that wrote its event and does not commit. */
    mt_role_conninfo ("limits_held", "meso_inventory", role, sizeof role);
    meso_db_t *svc = meso_db_new (role);
    assert_int_equal (meso_db_exec (svc, "BEGIN", 0, NULL), 0);
    assert_int_equal (s_emit (svc, NULL), 0);
    char want[64];
    snprintf (want, sizeof want, "by pid %d (role meso_inventory", PQbackendPID (meso_db_conn (svc)));
    bool named = false;
    for (int i = 0; i < 100 && !named; i++) {
        assert_int_equal (mt_health (router, st, sizeof st, notes, sizeof notes), 0);
        named = strcmp (st, "degraded") == 0 && strstr (notes, want) && strstr (notes, "limits_held");
        if (!named)
            mt_sleep_ms (50);
    }
    assert_true (named);

    /* Committed: ok again, and the event is delivered. (The test cluster
     * is shared with tests running beside this one, whose transactions
     * hold every database's relay back too: degraded is accepted only
     * when it names another backend.) */
    assert_int_equal (meso_db_exec (svc, "COMMIT", 0, NULL), 0);
    bool ok = false;
    for (int i = 0; i < 100 && !ok; i++) {
        assert_int_equal (mt_health (router, st, sizeof st, notes, sizeof notes), 0);
        ok = !strstr (notes, want)
             && (strcmp (st, "ok") == 0 || strstr (notes, "relay held back"));
        if (!ok)
            mt_sleep_ms (50);
    }
    assert_true (ok);
    meso_bus_client_t *c = mt_client (router);
    size_t n = 0, first = 0;
    char msg[512];
    for (int i = 0; i < 100 && n == 0; i++) {
        assert_int_equal (s_replay (c, 0, &n, &first, msg, sizeof msg), MESO_OK);
        if (n == 0)
            mt_sleep_ms (50);
    }
    assert_int_equal (n, 1);
    meso_bus_client_destroy (&c);
    meso_db_destroy (&svc);
    assert_int_equal (mt_stop (pid, SIGTERM), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_every_event_type_is_capped),
        cmocka_unit_test (test_replay_returns_an_event_larger_than_a_page),
        cmocka_unit_test (test_a_stuck_consumer_makes_health_degraded),
        cmocka_unit_test (test_a_held_back_relay_is_named_in_health),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
