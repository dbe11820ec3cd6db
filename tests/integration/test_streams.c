/* test_streams.c -- each service appends only its own streams, and only
 * meso-events reads the log (deploy/sql/025_outbox_ownership.sql).
 *
 * The attack of issue 14: connected as the inventory role, insert a
 * forged session.completed into events.outbox; billing, which consumes
 * the session stream, invoiced 42000 cents for an appointment that never
 * existed. Here the very same event is written by the inventory role
 * (refused, nothing invoiced) and by the scheduling role, its owner
 * (accepted and invoiced: the forgery was a working one). Then the ways
 * around it: SET ROLE, a SECURITY DEFINER function of the owner, a
 * temporary pg_class put first in the search_path, a row of
 * inventory's own stream whose payload is a session event, and the events
 * role itself. Last, as each role over its own connection (what psql
 * does): every event type of its own streams accepted, every other
 * refused, and SELECT on events.log and events.stream_head refused to the
 * four services and allowed to meso-events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "billing_fixture.h"

static const char *const s_roles[] = { "meso_scheduling", "meso_screening", "meso_inventory",
                                       "meso_billing" };
static const char *const s_owned[] = { "session", "screening", "stock", "billing" };

/* A session.completed of 2 areas for appointment appt of pat-1 at
 * clinic-a, today: 42000 cents with fx_prices below. */
static void
s_completed (Meso__V1__Event *ev, Meso__V1__SessionCompleted *sc, Meso__V1__SessionInfo *si,
             const char *appt)
{
    static char *areas[] = { "thighs", "hips" };
    static char local[32];
    char date[16];
    fx_date (0, date);
    snprintf (local, sizeof local, "%sT10:00", date);
    meso__v1__session_info__init (si);
    si->appointment_id = (char *) appt;
    si->patient_id = "pat-1";
    si->clinic_id = "clinic-a";
    si->areas = areas;
    si->n_areas = 2;
    si->local_start = local;
    meso__v1__session_completed__init (sc);
    sc->session = si;
    meso__v1__event__init (ev);
    ev->type = "session.completed";
    ev->clinic_id = "clinic-a";
    ev->payload_case = MESO__V1__EVENT__PAYLOAD_SESSION_COMPLETED;
    ev->session_completed = sc;
}

/* Appends ev in one transaction on a connection as role; returns 0 or -1
 * with the SQLSTATE in state (6 bytes). */
static int
s_append_as (fx_t *fx, const char *role, Meso__V1__Event *ev, char *state)
{
    char conninfo[512];
    mt_role_conninfo (fx->dbname, role, conninfo, sizeof conninfo);
    meso_db_t *db = meso_db_new (conninfo);
    assert_true (meso_db_ok (db));
    meso_db_set_max_attempts (db, 1);
    int rc = meso_db_txn (db, MESO_DB_READ_COMMITTED, fx_emit_txn, ev);
    snprintf (state, 6, "%s", rc == 0 ? "" : meso_db_error (db)->sqlstate);
    meso_db_destroy (&db);
    return rc;
}

/* Runs sql on a connection as role; returns the SQLSTATE ("" when it
 * succeeded) in state. */
static void
s_sql_as (fx_t *fx, const char *role, const char *sql, char *state)
{
    char conninfo[512];
    mt_role_conninfo (fx->dbname, role, conninfo, sizeof conninfo);
    meso_db_t *db = meso_db_new (conninfo);
    assert_true (meso_db_ok (db));
    int rc = meso_db_exec (db, sql, 0, NULL);
    snprintf (state, 6, "%s", rc == 0 ? "" : meso_db_error (db)->sqlstate);
    meso_db_destroy (&db);
}

static void
test_a_forged_session_event_is_refused (void **state)
{
    (void) state;
    fx_t *fx = fx_setup ("streams_forge");
    int64_t prices[] = { 35000, 42000 };
    assert_int_equal (fx_prices (fx, "clinic-a", -30, prices, 2, NULL), MESO_OK);
    fx_screened (fx, "pat-1");
    char st[6];

    /* The attack: inventory writes a session.completed. */
    Meso__V1__Event ev;
    Meso__V1__SessionCompleted sc;
    Meso__V1__SessionInfo si;
    s_completed (&ev, &sc, &si, "appt-forged");
    assert_int_equal (s_append_as (fx, "meso_inventory", &ev, st), -1);
    assert_string_equal (st, "42501");

    /* SET ROLE does not help: a superuser session that becomes inventory
     * is inventory. */
    meso_db_t *su = meso_db_new (fx->admin);
    assert_int_equal (meso_db_exec (su, "SET ROLE meso_inventory", 0, NULL), 0);
    assert_int_equal (meso_db_txn (su, MESO_DB_READ_COMMITTED, fx_emit_txn, &ev), -1);
    assert_string_equal (meso_db_error (su)->sqlstate, "42501");
    assert_int_equal (meso_db_exec (su, "RESET ROLE", 0, NULL), 0);

    /* Nor does a SECURITY DEFINER function of the owner that writes the
     * outbox: it runs as meso_scheduling, but the session is inventory's. */
    assert_int_equal (meso_db_exec (su,
        "CREATE FUNCTION public.sched_writes (t text, p bytea) RETURNS void"
        " LANGUAGE sql SECURITY DEFINER AS"
        " $$ INSERT INTO events.outbox (stream, type, payload) VALUES ('session', t, p) $$", 0, NULL), 0);
    assert_int_equal (meso_db_exec (su, "ALTER FUNCTION public.sched_writes (text, bytea) OWNER TO meso_scheduling",
                                    0, NULL), 0);
    ev.stream = "session";
    size_t len = meso__v1__event__get_packed_size (&ev);
    uint8_t *buf = malloc (len);
    meso__v1__event__pack (&ev, buf);
    ev.stream = NULL;
    char conninfo[512];
    mt_role_conninfo (fx->dbname, "meso_inventory", conninfo, sizeof conninfo);
    meso_db_t *inv = meso_db_new (conninfo);
    const char *vals[] = { "session.completed", (const char *) buf };
    int lens[] = { 0, (int) len }, fmts[] = { 0, 1 };
    assert_null (meso_db_query_bin (inv, "SELECT public.sched_writes ($1, $2)", 2, vals, lens, fmts));
    assert_string_equal (meso_db_error (inv)->sqlstate, "42501");

    /* Nor a temporary table named pg_class, searched first, that makes
     * inventory the outbox's owner (the trigger fixes its search_path). */
    assert_int_equal (meso_db_exec (inv, "CREATE TEMP TABLE pg_class (oid oid, relowner oid)", 0, NULL), 0);
    assert_int_equal (meso_db_exec (inv, "INSERT INTO pg_temp.pg_class SELECT 'events.outbox'::regclass, oid"
                                    " FROM pg_roles WHERE rolname = current_user", 0, NULL), 0);
    assert_int_equal (meso_db_exec (inv, "SET search_path = pg_temp, pg_catalog", 0, NULL), 0);
    assert_null (meso_db_query_bin (inv, "INSERT INTO events.outbox (stream, type, payload)"
                                    " VALUES ('session', $1, $2)", 2, vals, lens, fmts));
    assert_string_equal (meso_db_error (inv)->sqlstate, "42501");
    assert_int_equal (meso_db_exec (inv, "RESET search_path", 0, NULL), 0);

    /* Nor a row of inventory's own stream carrying a session payload. */
    vals[0] = "stock.low";
    ev.type = "stock.low";
    ev.stream = "stock";
    free (buf);
    len = meso__v1__event__get_packed_size (&ev);
    buf = malloc (len);
    meso__v1__event__pack (&ev, buf);
    lens[1] = (int) len;
    vals[1] = (const char *) buf;
    assert_null (meso_db_query_bin (inv, "INSERT INTO events.outbox (stream, type, payload)"
                                    " VALUES ('stock', $1, $2)", 2, vals, lens, fmts));
    assert_string_equal (meso_db_error (inv)->sqlstate, "42501");
    /* ... or one whose payload names another type than its row. */
    assert_null (meso_db_query_bin (inv, "INSERT INTO events.outbox (stream, type, payload)"
                                    " VALUES ('stock', 'stock.received', $1)", 1, vals + 1, lens + 1, fmts + 1));
    assert_string_equal (meso_db_error (inv)->sqlstate, "22P03");
    free (buf);
    meso_db_destroy (&inv);
    ev.type = "session.completed";
    ev.stream = NULL;

    /* Nor the events role, which relays the log but owns no stream. */
    assert_int_equal (s_append_as (fx, "meso_events", &ev, st), -1);
    assert_string_equal (st, "42501");
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM events.outbox", NULL), 0);

    /* The same event from scheduling, its owner, is a real one: billing
     * invoices it (and, having consumed up to it, nothing forged). */
    s_completed (&ev, &sc, &si, "appt-real");
    assert_int_equal (s_append_as (fx, "meso_scheduling", &ev, st), 0);
    fx_wait_cursor (fx, "session", 1);
    assert_int_equal (fx_sql (fx, "SELECT amount_cents FROM billing.session_charge WHERE appointment_id = 'appt-real'",
                              NULL), 42000);
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM billing.session_charge WHERE appointment_id <> 'appt-real'",
                              NULL), 0);
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM billing.invoice", NULL), 1);
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM events.log WHERE stream = 'session'", NULL), 1);
    meso_db_destroy (&su);
    fx_teardown (fx);
}

/* An event of type with an empty payload of the right kind, built from
 * the descriptor (every type, without a line per type here). */
static ProtobufCMessage *
s_event_of (const char *type, Meso__V1__Event *ev)
{
    meso__v1__event__init (ev);
    ev->type = (char *) type;
    ev->clinic_id = "clinic-a";
    ev->payload_case = meso_event_payload_case (type);
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field (&meso__v1__event__descriptor, (unsigned) ev->payload_case);
    assert_non_null (f);
    const ProtobufCMessageDescriptor *md = f->descriptor;
    ProtobufCMessage *m = calloc (1, md->sizeof_message);
    md->message_init (m);
    *(ProtobufCMessage **) ((char *) ev + f->offset) = m;
    return m;
}

static void
test_each_role_appends_only_its_streams_and_reads_no_log (void **state)
{
    (void) state;
    char conninfo[512];
    assert_int_equal (mt_db_create ("streams_roles", conninfo, sizeof conninfo), 0);
    fx_t fx = { 0 };
    snprintf (fx.dbname, sizeof fx.dbname, "streams_roles");
    snprintf (fx.admin, sizeof fx.admin, "%s", conninfo);
    fx.db = meso_db_new (conninfo);
    char st[6];
    int accepted = 0, refused = 0, ntypes = 0;
    for (size_t t = 0; meso_event_type_at (t); t++, ntypes++) {
        const char *type = meso_event_type_at (t);
        Meso__V1__Event ev;
        ProtobufCMessage *m = s_event_of (type, &ev);
        for (size_t r = 0; r < 4; r++) {
            bool own = strncmp (type, s_owned[r], strlen (s_owned[r])) == 0
                       && type[strlen (s_owned[r])] == '.';
            int rc = s_append_as (&fx, s_roles[r], &ev, st);
            if (own) {
                if (rc != 0)
                    fail_msg ("%s refused %s: %s", s_roles[r], type, st);
                accepted++;
            }
            else {
                if (rc == 0 || strcmp (st, "42501") != 0)
                    fail_msg ("%s appended %s (%s)", s_roles[r], type, st);
                refused++;
            }
        }
        free (m);
    }
    /* Each type accepted from its owner only. */
    assert_int_equal (accepted, ntypes);
    assert_int_equal (refused, 3 * ntypes);
    assert_int_equal (fx_sql (&fx, "SELECT count (*) FROM events.outbox", NULL), ntypes);

    /* The log and the heads: meso-events only. */
    for (size_t r = 0; r < 4; r++) {
        s_sql_as (&fx, s_roles[r], "SELECT count (*) FROM events.log", st);
        assert_string_equal (st, "42501");
        s_sql_as (&fx, s_roles[r], "SELECT seq FROM events.stream_head", st);
        assert_string_equal (st, "42501");
        s_sql_as (&fx, s_roles[r], "UPDATE events.stream_owner SET role = current_user", st);
        assert_string_equal (st, "42501");
    }
    s_sql_as (&fx, "meso_events", "SELECT count (*) FROM events.log", st);
    assert_string_equal (st, "");
    s_sql_as (&fx, "meso_events", "UPDATE events.stream_owner SET role = 'meso_events'", st);
    assert_string_equal (st, "42501");
    s_sql_as (&fx, "meso_events", "UPDATE events.outbox SET stream = 'session'", st);
    assert_string_equal (st, "42501");
    meso_db_destroy (&fx.db);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_a_forged_session_event_is_refused),
        cmocka_unit_test (test_each_role_appends_only_its_streams_and_reads_no_log),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
