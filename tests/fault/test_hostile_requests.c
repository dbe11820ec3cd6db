/* test_hostile_requests.c -- requests sent to hurt, against the real
 * daemons over real sockets:
 *   - a screening.RecordScreening whose event would be oversized (the
 *     request's actor padded with a 200 KB unknown field, which protobuf
 *     keeps and the event copies) is refused, changes nothing in any
 *     table, and the screening stream keeps flowing to a subscriber;
 *   - a client sending 1,500 events.Replay requests and never reading the
 *     replies does not grow the events daemon beyond its per-peer budget:
 *     the replies are dropped and counted, the log says so in a few lines,
 *     and a well-behaved client is still served. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "meso/bus.h"
#include "meso/db.h"
#include "meso/status.h"
#include "meso/subscriber.h"
#include "events.pb-c.h"
#include "screening.pb-c.h"

/* Every table's rows, hashed in a stable order: equal strings mean equal
 * contents. */
static char *
s_fingerprint (meso_db_t *db)
{
    PGresult *res = meso_db_query (db,
        "SELECT string_agg (n.nspname || '.' || c.relname || '=' ||"
        "  (xpath ('/row/h/text()', query_to_xml (format ("
        "    'SELECT md5 (coalesce (string_agg (t::text, '','' ORDER BY t::text), '''')) AS h"
        "     FROM %I.%I t', n.nspname, c.relname), false, true, '')))[1]::text,"
        "  ' ' ORDER BY n.nspname, c.relname)"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
        "   AND n.nspname NOT LIKE 'pg_toast%'", 0, NULL);
    assert_non_null (res);
    char *fp = strdup (PQgetvalue (res, 0, 0));
    PQclear (res);
    assert_true (strlen (fp) > 100);
    return fp;
}

/* -------------------------------------------------- an oversized event */

static int s_keys;

static int
s_call (meso_bus_client_t *c, const char *method, const ProtobufCMessage *body, meso_result_t *r)
{
    char key[64];
    snprintf (key, sizeof key, "hostile-%d-%d", (int) getpid (), ++s_keys);
    meso_result_reset (r);
    meso_bus_client_call (c, method, body, key, 5000, r);
    return r->status;
}

static void
s_register (meso_bus_client_t *c, char *id)
{
    Meso__V1__Patient p = MESO__V1__PATIENT__INIT;
    p.given_name = "Ana";
    p.family_name = "Lopez";
    p.birth_date = "1990-05-10";
    p.sex = MESO__V1__SEX__SEX_FEMALE;
    p.home_clinic_id = "clinic-a";
    Meso__V1__RegisterPatientRequest rq = MESO__V1__REGISTER_PATIENT_REQUEST__INIT;
    rq.patient = &p;
    meso_result_t r = { 0 };
    assert_int_equal (s_call (c, "screening.RegisterPatient", &rq.base, &r), MESO_OK);
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__RegisterPatientReply *rep = meso__v1__register_patient_reply__unpack (NULL, len, body);
    assert_non_null (rep);
    strcpy (id, rep->patient->id);
    meso__v1__register_patient_reply__free_unpacked (rep, NULL);
    meso_result_reset (&r);
}

/* A RecordScreening request body for patient (malloc'd, *len). */
static uint8_t *
s_record_body (const char *patient, size_t *len)
{
    Meso__V1__Questionnaire q = MESO__V1__QUESTIONNAIRE__INIT;
    Meso__V1__Answer no = MESO__V1__ANSWER__ANSWER_NO;
    q.pregnancy = q.breastfeeding = q.diabetes = q.active_infection = no;
    q.septicaemia = q.immunocompromised = q.liver_failure = q.kidney_failure = no;
    q.coagulation_disorder = q.menstrual_disorder = q.cancer = no;
    q.heart_arrhythmia = q.blood_clots = no;
    q.height_mm = 1700;
    q.weight_g = 65000;
    Meso__V1__AreaGrade area = MESO__V1__AREA_GRADE__INIT;
    area.area = "thighs";
    area.grade = 2;
    Meso__V1__AreaGrade *areas[1] = { &area };
    q.n_areas = 1;
    q.areas = areas;
    q.diet = q.exercise = MESO__V1__ANSWER__ANSWER_YES;
    Meso__V1__RecordScreeningRequest rq = MESO__V1__RECORD_SCREENING_REQUEST__INIT;
    rq.patient_id = (char *) patient;
    rq.answers = &q;
    *len = meso__v1__record_screening_request__get_packed_size (&rq);
    uint8_t *buf = malloc (*len);
    meso__v1__record_screening_request__pack (&rq, buf);
    return buf;
}

static int
s_record (meso_bus_client_t *c, const char *patient, meso_result_t *r)
{
    size_t len;
    uint8_t *body = s_record_body (patient, &len);
    Meso__V1__RecordScreeningRequest *rq = meso__v1__record_screening_request__unpack (NULL, len, body);
    int status = s_call (c, "screening.RecordScreening", &rq->base, r);
    meso__v1__record_screening_request__free_unpacked (rq, NULL);
    free (body);
    return status;
}

/* Sends RecordScreening by hand with an actor carrying an unknown field of
 * pad bytes; returns the reply (caller frees) or NULL when none came. */
static Meso__V1__Reply *
s_record_padded (const char *endpoint, const char *patient, size_t pad)
{
    /* protobuf-c keeps an unknown field's bytes after its tag: the
     * length varint, then the bytes. */
    uint8_t *filler = malloc (pad + 10);
    size_t vl = 0;
    for (size_t v = pad; ; v >>= 7) {
        filler[vl++] = (uint8_t) ((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
        if (v < 0x80)
            break;
    }
    memset (filler + vl, 'p', pad);
    ProtobufCMessageUnknownField unknown = { .tag = 99, .wire_type = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED,
                                             .len = vl + pad, .data = filler };
    Meso__V1__Actor actor = MESO__V1__ACTOR__INIT;
    actor.kind = MESO__V1__ACTOR__KIND__KIND_USER;
    actor.id = "dr-pad";
    actor.base.n_unknown_fields = 1;
    actor.base.unknown_fields = &unknown;
    size_t blen;
    uint8_t *body = s_record_body (patient, &blen);
    Meso__V1__Request req = MESO__V1__REQUEST__INIT;
    req.request_id = "padded-1";
    req.method = "screening.RecordScreening";
    req.idempotency_key = "padded-key-1";
    req.deadline_ms = 5000;
    req.actor = &actor;
    req.body.data = body;
    req.body.len = blen;
    size_t flen = meso__v1__request__get_packed_size (&req);
    assert_true (flen < MESO_BUS_MAX_FRAME);
    uint8_t *frame = malloc (flen);
    meso__v1__request__pack (&req, frame);
    zsock_t *dealer = mt_dealer (endpoint);
    assert_int_equal (zsock_connect (dealer, "%s", endpoint), 0);
    zsock_set_rcvtimeo (dealer, 5000);
    assert_int_equal (zmq_send (zsock_resolve (dealer), "", 0, ZMQ_SNDMORE), 0);
    assert_int_equal (zmq_send (zsock_resolve (dealer), frame, flen, 0), (int) flen);
    Meso__V1__Reply *reply = NULL;
    zmsg_t *msg = zmsg_recv (dealer);
    if (msg && zmsg_size (msg) == 2) {
        zframe_t *f = zmsg_last (msg);
        reply = meso__v1__reply__unpack (NULL, zframe_size (f), zframe_data (f));
    }
    zmsg_destroy (&msg);
    zsock_destroy (&dealer);
    free (frame);
    free (body);
    free (filler);
    return reply;
}

typedef struct {
    int completed;
    size_t largest;
} s_seen_t;

static int
s_on_event (const Meso__V1__Event *ev, const uint8_t *raw, size_t len, void *arg)
{
    (void) raw;
    s_seen_t *seen = arg;
    if (strcmp (ev->type, "screening.completed") == 0)
        seen->completed++;
    if (len > seen->largest)
        seen->largest = len;
    return 0;
}

static void
s_wait_outbox_empty (meso_db_t *db)
{
    int64_t n = 1;
    for (int i = 0; i < 200 && n > 0; i++) {
        assert_int_equal (mt_sql_int (db, "SELECT count (*) FROM events.outbox", NULL, &n), 0);
        if (n > 0)
            mt_sleep_ms (25);
    }
    assert_int_equal (n, 0);
}

static void
test_an_oversized_event_is_refused_and_changes_nothing (void **state)
{
    (void) state;
    char admin[512], role[512], router[256], pub[256], endpoint[256], dbarg[600], bind[300];
    assert_int_equal (mt_db_create ("hostile_big", admin, sizeof admin), 0);
    pid_t events = mt_spawn_events ("hostile_big", router, sizeof router, pub, sizeof pub);
    assert_true (events > 0);
    mt_role_conninfo ("hostile_big", "meso_screening", role, sizeof role);
    mt_ipc_endpoint ("screening", endpoint, sizeof endpoint);
    snprintf (dbarg, sizeof dbarg, "--db=%s", role);
    snprintf (bind, sizeof bind, "--bind=%s", endpoint);
    const char *argv[] = { "meso-screening", dbarg, bind, "--scheduling=", "--inventory=", NULL };
    pid_t screening = mt_spawn ("bin/meso-screening", argv, NULL);
    assert_true (screening > 0);
    assert_int_equal (mt_wait_healthy (endpoint, 10000), 0);

    meso_bus_client_t *good = mt_client (endpoint);
    char patient[64];
    s_register (good, patient);
    meso_result_t r = { 0 };
    assert_int_equal (s_record (good, patient, &r), MESO_OK);
    meso_db_t *db = meso_db_new (admin);
    s_wait_outbox_empty (db);
    char *before = s_fingerprint (db);

    /* 200 KB inside the actor: the request fits the 1 MiB frame, its
     * event would not fit the 64 KiB cap. */
    Meso__V1__Reply *reply = s_record_padded (endpoint, patient, 200 * 1024);
    assert_non_null (reply);
    if ((int) reply->status == MESO_OK) {
        /* The envelope decoder dropped the unknown field before anything
         * used it: accepted as an ordinary screening, with a small event. */
        int64_t big = 0;
        s_wait_outbox_empty (db);
        assert_int_equal (mt_sql_int (db, "SELECT count (*) FROM events.log WHERE length (payload) > 65536",
                                      NULL, &big), 0);
        assert_int_equal (big, 0);
        print_message ("the padded actor was stripped at decode: accepted with a small event\n");
    }
    else {
        /* Refused, by the event cap (RESOURCE_EXHAUSTED naming the event
         * and its size) or by a bound at decode (INVALID_ARGUMENT), and
         * nothing changed anywhere. */
        assert_true ((int) reply->status == MESO_RESOURCE_EXHAUSTED || (int) reply->status == MESO_INVALID_ARGUMENT);
        if ((int) reply->status == MESO_RESOURCE_EXHAUSTED) {
            assert_non_null (strstr (reply->message, "screening.completed"));
            assert_non_null (strstr (reply->message, "bytes exceeds the 65536-byte limit"));
            assert_non_null (strstr (reply->detail, "54000"));
        }
        mt_sleep_ms (300);      /* anything it might have set off, relayed */
        char *after = s_fingerprint (db);
        assert_string_equal (after, before);
        free (after);
    }
    int expected = (int) reply->status == MESO_OK ? 3 : 2;
    meso__v1__reply__free_unpacked (reply, NULL);
    free (before);

    /* The stream keeps flowing: the next screening reaches a subscriber. */
    assert_int_equal (s_record (good, patient, &r), MESO_OK);
    meso_result_reset (&r);
    s_seen_t seen = { 0, 0 };
    meso_subscriber_t *sub = meso_subscriber_new (router, pub, "hostile", s_on_event, &seen);
    assert_int_equal (meso_subscriber_follow (sub, "screening", 0), 0);
    for (int i = 0; i < 200 && seen.completed < expected; i++)
        meso_subscriber_poll (sub, 50);
    assert_int_equal (seen.completed, expected);
    assert_true (seen.largest < 65536);
    meso_subscriber_destroy (&sub);

    meso_bus_client_destroy (&good);
    meso_db_destroy (&db);
    assert_int_equal (mt_stop (screening, SIGTERM), 0);
    assert_int_equal (mt_stop (events, SIGTERM), 0);
}

/* ------------------------------------------------- replies never read */

#define UNREAD 1500
#define BUDGET (8 * 1024 * 1024)
/* The bound: the budget plus allocator and libzmq slack. Without a byte
 * budget the daemon held a page (256 KiB here) per unread reply: ~375 MiB. */
#define RSS_GROWTH_MAX_KB (40 * 1024)

/* The value of the first metric line starting with prefix, or -1. */
static double
s_metric (int port, const char *prefix)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port) };
    sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    if (connect (fd, (struct sockaddr *) &sa, sizeof sa) != 0) {
        close (fd);
        return -1;
    }
    const char req[] = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    assert_int_equal (write (fd, req, sizeof req - 1), (ssize_t) sizeof req - 1);
    static char buf[1 << 20];
    size_t len = 0;
    ssize_t n;
    while (len < sizeof buf - 1 && (n = read (fd, buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t) n;
    close (fd);
    buf[len] = '\0';
    double v = -1;
    for (char *line = buf; line && *line; line = strchr (line, '\n') ? strchr (line, '\n') + 1 : NULL)
        if (strncmp (line, prefix, strlen (prefix)) == 0) {
            v = atof (line + strlen (prefix));
            break;
        }
    return v;
}

static int
s_log_lines (pid_t pid, const char *needle)
{
    char path[1024], line[4096];
    snprintf (path, sizeof path, "%s/test-logs/meso-events-%d.log", mt_build_dir (), (int) pid);
    FILE *f = fopen (path, "r");
    assert_non_null (f);
    int n = 0;
    while (fgets (line, sizeof line, f))
        if (strstr (line, needle))
            n++;
    fclose (f);
    return n;
}

static void
test_unread_replies_stay_within_the_peer_budget (void **state)
{
    (void) state;
    char admin[512], role[512], router[256], pub[256], dbarg[600], bind[300], pubarg[300];
    assert_int_equal (mt_db_create ("hostile_unread", admin, sizeof admin), 0);
    /* 1,200 events of ~700 bytes: every Replay from 0 is a full page. */
    meso_db_t *db = meso_db_new (admin);
    assert_int_equal (meso_db_exec (db,
        "WITH ins AS (INSERT INTO events.log (global_seq, stream, stream_seq, type, occurred_at, payload)"
        " SELECT g, 'stock', g, 'stock.low', now (), '\\x0a'::bytea || '\\xb805'::bytea"
        "  || convert_to (repeat ('e', 696), 'UTF8') FROM generate_series (1, 1200) g)"
        " UPDATE events.stream_head SET seq = 1200 WHERE stream IN ('stock', '*')", 0, NULL), 0);
    meso_db_destroy (&db);

    int port = mt_free_port ();
    char metrics[64], budget[64];
    snprintf (metrics, sizeof metrics, "MESO_METRICS_BIND=127.0.0.1:%d", port);
    snprintf (budget, sizeof budget, "MESO_BUS_PEER_BUDGET=%d", BUDGET);
    mt_ipc_endpoint ("unr", router, sizeof router);
    mt_ipc_endpoint ("unp", pub, sizeof pub);
    mt_role_conninfo ("hostile_unread", "meso_events", role, sizeof role);
    snprintf (dbarg, sizeof dbarg, "--db=%s", role);
    snprintf (bind, sizeof bind, "--bind=%s", router);
    snprintf (pubarg, sizeof pubarg, "--pub=%s", pub);
    const char *argv[] = { "meso-events", dbarg, bind, pubarg, NULL };
    const char *env[] = { metrics, budget, NULL };
    pid_t pid = mt_spawn ("bin/meso-events", argv, env);
    assert_true (pid > 0);
    assert_int_equal (mt_wait_healthy (router, 10000), 0);

    /* Warm up with a client that reads, so the baseline has its buffers. */
    meso_bus_client_t *good = mt_client (router);
    Meso__V1__ReplayRequest rq = MESO__V1__REPLAY_REQUEST__INIT;
    rq.stream = "stock";
    rq.limit = 10000;
    meso_result_t r = { 0 };
    for (int i = 0; i < 20; i++) {
        assert_int_equal (meso_bus_client_call (good, "events.Replay", &rq.base, NULL, 5000, &r), 0);
        meso_result_reset (&r);
    }
    long base_kb = mt_rss_anon_kb (pid);
    assert_true (base_kb > 0);

    /* The hostile client: it reads nothing, and holds at most one reply. */
    zsock_t *bad = mt_dealer (router);
    zsock_set_rcvhwm (bad, 1);
    zsock_set_rcvbuf (bad, 4096);
    assert_int_equal (zsock_connect (bad, "%s", router), 0);
    size_t blen = meso__v1__replay_request__get_packed_size (&rq);
    uint8_t body[64];
    meso__v1__replay_request__pack (&rq, body);
    for (int i = 0; i < UNREAD; i++) {
        char rid[32];
        snprintf (rid, sizeof rid, "unread-%d", i);
        Meso__V1__Request req = MESO__V1__REQUEST__INIT;
        req.request_id = rid;
        req.method = "events.Replay";
        req.body.data = body;
        req.body.len = blen;
        uint8_t frame[256];
        size_t flen = meso__v1__request__pack (&req, frame);
        assert_int_equal (zmq_send (zsock_resolve (bad), "", 0, ZMQ_SNDMORE), 0);
        assert_int_equal (zmq_send (zsock_resolve (bad), frame, flen, 0), (int) flen);
    }
    /* Wait until the daemon has answered all of them. */
    int64_t sent_ms = zclock_mono ();
    double served = 0;
    for (int i = 0; i < 600 && served < UNREAD + 20; i++) {
        served = s_metric (port, "meso_requests_total{method=\"events.Replay\",code=\"OK\"} ");
        if (served < UNREAD + 20)
            mt_sleep_ms (50);
    }
    assert_true (served >= UNREAD + 20);
    long peak_kb = mt_rss_anon_kb (pid);
    print_message ("events RssAnon: %ld kB before, %ld kB after %d unread replies (bound +%d kB)\n",
                   base_kb, peak_kb, UNREAD, RSS_GROWTH_MAX_KB);
    assert_true (peak_kb - base_kb < RSS_GROWTH_MAX_KB);

    /* Dropped, counted, and said in few lines. */
    double dropped = s_metric (port, "meso_bus_replies_dropped_total{reason=\"not_reading\"} ");
    assert_true (dropped >= UNREAD - 100);
    /* One line per 10 s interval in which replies were dropped. */
    int lines = s_log_lines (pid, "dropped since the last such line");
    int64_t took_s = (zclock_mono () - sent_ms) / 1000;
    print_message ("%d drop lines over %lld s\n", lines, (long long) took_s);
    assert_true (lines >= 1);
    assert_true (lines <= 2 + took_s / 10);

    /* A well-behaved client is still served. */
    assert_int_equal (meso_bus_client_call (good, "events.Replay", &rq.base, NULL, 5000, &r), 0);
    size_t len;
    const uint8_t *rb = meso_result_body (&r, &len);
    Meso__V1__ReplayReply *rep = meso__v1__replay_reply__unpack (NULL, len, rb);
    assert_non_null (rep);
    assert_true (rep->n_events > 100);
    assert_int_equal (rep->head, 1200);
    meso__v1__replay_reply__free_unpacked (rep, NULL);
    meso_result_reset (&r);

    zsock_destroy (&bad);
    meso_bus_client_destroy (&good);
    assert_int_equal (mt_stop (pid, SIGTERM), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_an_oversized_event_is_refused_and_changes_nothing),
        cmocka_unit_test (test_unread_replies_stay_within_the_peer_budget),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
