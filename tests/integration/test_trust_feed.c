/* test_trust_feed.c -- the event feed gives each principal only what its
 * scope allows (issue 13, point 5), by events.Replay and by the live feed.
 *
 * Real daemons (screening, scheduling, inventory, events) on a fresh
 * database; the tester screens pregnant patients (a contraindication:
 * screening reasons), books, starts and completes sessions with clinical
 * notes, cancels one with a reason naming a condition and reports a
 * pregnancy, in two clinics. Then:
 * - "marketing" integrations without health access (streams session and
 *   screening; every clinic, or clinic-a only) replay both streams: every
 *   event is decoded and its health fields asserted empty, no byte of the
 *   secrets written above arrives, no event of another clinic or stream
 *   arrives, and every event of their scope does (counted in events.log);
 * - the stock stream is refused to them (PERMISSION_DENIED out_of_scope);
 * - a "clinical" integration (health access) sees the reasons, notes and
 *   changes the marketing ones never see;
 * - the same through meso_subscriber_new_as, with events written while
 *   the subscribers are live (doorbells, then a scoped replay). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "scheduling_fixture.h"
#include "meso/subscriber.h"
#include "events.pb-c.h"

#define NOTES "NOTES-MARK bruising on the left thigh, patient on insulin"
#define CANCEL_REASON "CANCEL-MARK patient reports a pregnancy"

typedef struct {
    fx_t *fx;
    int booked;                         /* sessions booked so far (distinct slots) */
} env_t;

/* ---------------------------------------------------------------- setup */

static void
s_book_complete (env_t *e, const char *clinic, const char *patient, const char *pract,
                 const char *room)
{
    fx_t *fx = e->fx;
    meso_result_t r = { 0 };
    char day[11], start[20], appt[40];
    fx_day (3 + e->booked / 6, day);
    snprintf (start, sizeof start, "%sT%02d:00", day, 9 + e->booked % 6);
    e->booked++;
    if (fx_book_session (fx, fx->sch, clinic, patient, pract, room, start, 60, appt, &r) != MESO_OK)
        fail_msg ("BookSession %s: %s (%s)", start, r.message,
                  r.reply && r.reply->n_reasons ? r.reply->reasons[0]->message : "");
    Meso__V1__SessionRef ref = MESO__V1__SESSION_REF__INIT;
    ref.appointment_id = appt;
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.StartSession", &ref.base, NULL, &r), MESO_OK);
    Meso__V1__CompleteSessionRequest cs = MESO__V1__COMPLETE_SESSION_REQUEST__INIT;
    cs.appointment_id = appt;
    cs.outcome_case = MESO__V1__COMPLETE_SESSION_REQUEST__OUTCOME_IMPROVEMENT_SCORE;
    cs.improvement_score = 2;
    cs.notes = NOTES;
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.CompleteSession", &cs.base, NULL, &r), MESO_OK);
    meso_result_reset (&r);
}

static void
s_book_cancel (env_t *e, const char *clinic, const char *patient, const char *pract,
               const char *room)
{
    fx_t *fx = e->fx;
    meso_result_t r = { 0 };
    char day[11], start[20], appt[40];
    fx_day (3 + e->booked / 6, day);
    snprintf (start, sizeof start, "%sT%02d:00", day, 9 + e->booked % 6);
    e->booked++;
    if (fx_book_session (fx, fx->sch, clinic, patient, pract, room, start, 60, appt, &r) != MESO_OK)
        fail_msg ("BookSession %s: %s (%s)", start, r.message,
                  r.reply && r.reply->n_reasons ? r.reply->reasons[0]->message : "");
    Meso__V1__CancelRequest c = MESO__V1__CANCEL_REQUEST__INIT;
    c.appointment_id = appt;
    c.by = MESO__V1__CANCELLED_BY__CANCELLED_BY_PATIENT;
    c.reason = CANCEL_REASON;
    if (fx_call (fx, fx->sch, "scheduling.Cancel", &c.base, NULL, &r) != MESO_OK)
        fail_msg ("scheduling.Cancel: %s (%s)", r.message, r.reply && r.reply->detail ? r.reply->detail : "");
    meso_result_reset (&r);
}

static void
s_report_pregnancy (env_t *e, const char *patient)
{
    meso_result_t r = { 0 };
    Meso__V1__ReportChangeRequest rc = MESO__V1__REPORT_CHANGE_REQUEST__INIT;
    char *changes[] = { "pregnancy" };
    rc.patient_id = (char *) patient;
    rc.changes = changes;
    rc.n_changes = 1;
    assert_int_equal (fx_call (e->fx, e->fx->scr, "screening.ReportChange", &rc.base, NULL, &r), MESO_OK);
    meso_result_reset (&r);
}

/* One round of health-bearing events in clinic: a pregnant patient's
 * screening (ineligible, with reasons), an eligible patient's completed
 * session with notes, a cancelled one with a reason, and a reported
 * pregnancy. */
static void
s_round (env_t *e, const char *clinic, const char *pract, const char *room)
{
    char pregnant[40], patient[40], other[40];
    fx_patient (e->fx, clinic, NULL, true, pregnant);
    fx_patient (e->fx, clinic, NULL, false, patient);
    fx_patient (e->fx, clinic, NULL, false, other);  /* sessions of one patient are a week apart */
    s_book_complete (e, clinic, patient, pract, room);
    s_book_cancel (e, clinic, other, pract, room);
    s_report_pregnancy (e, patient);
}

/* Waits until the outbox is empty (everything relayed to events.log). */
static void
s_relayed (env_t *e)
{
    for (int64_t end = meso_time_mono_ms () + 20000; meso_time_mono_ms () < end; usleep (50000))
        if (fx_sql (e->fx, "SELECT count(*) FROM events.outbox", NULL) == 0)
            return;
    fail_msg ("events were not relayed within 20 s");
}

static int64_t
s_count (env_t *e, const char *stream, const char *clinic)
{
    char sql[256];
    if (clinic) {
        snprintf (sql, sizeof sql, "SELECT count(*) FROM events.log WHERE stream = $1"
                  " AND clinic_id = '%s'", clinic);
        return fx_sql (e->fx, sql, stream);
    }
    return fx_sql (e->fx, "SELECT count(*) FROM events.log WHERE stream = $1", stream);
}

static int64_t
s_head (env_t *e, const char *stream)
{
    return fx_sql (e->fx, "SELECT seq FROM events.stream_head WHERE stream = $1", stream);
}

/* --------------------------------------------------------- what arrives */

typedef struct {
    const char *clinic;                 /* the only clinic allowed, NULL: any */
    bool health;                        /* what the principal may see */
    int events;
    int by_stream[2];                   /* session, screening */
    int reasons, notes, changes, cancel_reasons;    /* health fields seen */
    uint64_t last[2];
    int disorder;
} seen_t;

static bool
s_contains (const uint8_t *raw, size_t len, const char *needle)
{
    size_t n = strlen (needle);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp (raw + i, needle, n) == 0)
            return true;
    return false;
}

/* Checks one event against the principal's scope; counts the health
 * fields it carries. */
static void
s_check (seen_t *s, const Meso__V1__Event *ev, const uint8_t *raw, size_t len)
{
    int si = strcmp (ev->stream, "session") == 0 ? 0 : strcmp (ev->stream, "screening") == 0 ? 1 : -1;
    if (si < 0)
        fail_msg ("an event of stream %s reached a principal of session and screening", ev->stream);
    if (s->clinic && strcmp (ev->clinic_id, s->clinic) != 0)
        fail_msg ("%s #%" PRIu64 " of clinic \"%s\" reached a principal of %s", ev->type,
                  ev->stream_seq, ev->clinic_id, s->clinic);
    if (ev->stream_seq <= s->last[si])
        s->disorder++;
    s->last[si] = ev->stream_seq;
    s->events++;
    s->by_stream[si]++;
    switch (ev->payload_case) {
    case MESO__V1__EVENT__PAYLOAD_SCREENING_COMPLETED:
        s->reasons += (int) ev->screening_completed->n_reasons;
        if (!s->health) {
            assert_int_equal (ev->screening_completed->n_reasons, 0);
            assert_string_equal (ev->screening_completed->earliest_first_session, "");
        }
        break;
    case MESO__V1__EVENT__PAYLOAD_PATIENT_CHANGED:
        for (size_t i = 0; i < ev->patient_changed->n_changed; i++)
            if (strcmp (ev->patient_changed->changed[i], "pregnancy") == 0)
                s->changes++;
        break;
    case MESO__V1__EVENT__PAYLOAD_SESSION_COMPLETED:
        if (strcmp (ev->session_completed->notes, NOTES) == 0)
            s->notes++;
        if (!s->health) {
            assert_string_equal (ev->session_completed->notes, "");
            assert_int_equal (ev->session_completed->outcome_case, MESO__V1__SESSION_COMPLETED__OUTCOME__NOT_SET);
            assert_false (ev->session_completed->non_responder);
        }
        break;
    case MESO__V1__EVENT__PAYLOAD_SESSION_CANCELLED:
        if (strcmp (ev->session_cancelled->reason, CANCEL_REASON) == 0)
            s->cancel_reasons++;
        if (!s->health)
            assert_string_equal (ev->session_cancelled->reason, "");
        break;
    default:
        break;
    }
    if (!s->health) {
        /* Whatever the field, none of it is on the wire. */
        assert_false (s_contains (raw, len, "NOTES-MARK"));
        assert_false (s_contains (raw, len, "CANCEL-MARK"));
        assert_false (s_contains (raw, len, "pregnan"));
    }
}

/* Replays stream as the principal of c, page after page, through
 * last_seq, until the head. */
static void
s_replay_all (meso_bus_client_t *c, const char *stream, seen_t *s)
{
    uint64_t after = 0;
    for (int pages = 0; pages < 1000; pages++) {
        Meso__V1__ReplayRequest rq = MESO__V1__REPLAY_REQUEST__INIT;
        rq.stream = (char *) stream;
        rq.after_seq = after;
        rq.limit = 7;                   /* small pages: paging over filtered events */
        meso_result_t r = { 0 };
        assert_int_equal (meso_bus_client_call (c, "events.Replay", &rq.base, NULL, 5000, &r), 0);
        size_t len;
        const uint8_t *body = meso_result_body (&r, &len);
        Meso__V1__ReplayReply *rep = meso__v1__replay_reply__unpack (NULL, len, body);
        assert_non_null (rep);
        for (size_t i = 0; i < rep->n_events; i++) {
            const Meso__V1__Event *ev = rep->events[i];
            assert_true (ev->stream_seq > after && ev->stream_seq <= rep->last_seq);
            uint8_t buf[65536];
            size_t n = meso__v1__event__pack (ev, buf);
            s_check (s, ev, buf, n);
        }
        assert_true (rep->last_seq > after || rep->last_seq == rep->head);
        after = rep->last_seq;
        uint64_t head = rep->head;
        meso__v1__replay_reply__free_unpacked (rep, NULL);
        meso_result_reset (&r);
        if (after >= head)
            return;
    }
    fail_msg ("replay of %s did not reach its head in 1000 pages", stream);
}

/* A client of the events daemon as cert, once its key is known there (the
 * principals table reloads on NOTIFY). */
static meso_bus_client_t *
s_client_as (env_t *e, zcert_t *cert)
{
    meso_bus_client_t *c = mt_client_as (e->fx->events_router, cert);
    assert_non_null (c);
    for (int64_t end = meso_time_mono_ms () + 10000; meso_time_mono_ms () < end; ) {
        meso_result_t r = { 0 };
        int rc = meso_bus_client_call (c, "events.Head", NULL, NULL, 2000, &r);
        int status = r.status;
        meso_result_reset (&r);
        if (rc == 0)
            return c;
        if (status != MESO_UNAUTHENTICATED)
            fail_msg ("events.Head: %s", meso_status_name (status));
    }
    fail_msg ("the events daemon never admitted the key");
    return NULL;
}

static env_t *
s_setup (const char *name)
{
    env_t *e = calloc (1, sizeof *e);
    e->fx = fx_setup_events (name, 1);
    const char *pa[] = { "pract-a" }, *ra[] = { "room-a" };
    const char *pb[] = { "pract-b" }, *rb[] = { "room-b" };
    fx_clinic (e->fx, "clinic-a", "Europe/Paris", pa, 1, ra, 1, true);
    fx_clinic (e->fx, "clinic-b", "Europe/Paris", pb, 1, rb, 1, true);
    return e;
}

static void
s_teardown (env_t *e)
{
    fx_teardown (e->fx);
    free (e);
}

/* ---------------------------------------------------------------- tests */

/* By events.Replay: marketing of every clinic, marketing of clinic-a, and
 * a clinical integration. */
static void
test_replay_is_scoped (void **state)
{
    env_t *e = s_setup ("trust_feed_replay");
    s_round (e, "clinic-a", "pract-a", "room-a");
    s_round (e, "clinic-b", "pract-b", "room-b");
    s_relayed (e);
    const char *streams[] = { "session", "screening" };

    zcert_t *all = mt_principal_add (e->fx->admin, "marketing-all", "integration", "{integration}",
                                     NULL, "{session,screening}", false);
    zcert_t *a = mt_principal_add (e->fx->admin, "marketing-a", "integration", "{integration}",
                                   "{clinic-a}", "{session,screening}", false);
    zcert_t *clin = mt_principal_add (e->fx->admin, "clinical", "integration", "{integration}",
                                      NULL, NULL, true);
    assert_true (all && a && clin);

    meso_bus_client_t *c = s_client_as (e, all);
    seen_t s_all = { .clinic = NULL, .health = false };
    for (int i = 0; i < 2; i++) {
        s_replay_all (c, streams[i], &s_all);
        assert_int_equal (s_all.by_stream[i], s_count (e, streams[i], NULL));
    }
    assert_int_equal (s_all.disorder, 0);
    assert_int_equal (s_all.reasons + s_all.notes + s_all.changes + s_all.cancel_reasons, 0);
    /* Not its stream: refused, naming the field. */
    Meso__V1__ReplayRequest rq = MESO__V1__REPLAY_REQUEST__INIT;
    rq.stream = "stock";
    meso_result_t r = { 0 };
    assert_int_not_equal (meso_bus_client_call (c, "events.Replay", &rq.base, NULL, 5000, &r), 0);
    assert_int_equal (r.status, MESO_PERMISSION_DENIED);
    assert_true (fx_has_reason (&r, "out_of_scope"));
    assert_string_equal (r.reply->reasons[0]->field, "stream");
    meso_result_reset (&r);
    meso_bus_client_destroy (&c);

    c = s_client_as (e, a);
    seen_t s_a = { .clinic = "clinic-a", .health = false };
    for (int i = 0; i < 2; i++) {
        s_replay_all (c, streams[i], &s_a);
        assert_int_equal (s_a.by_stream[i], s_count (e, streams[i], "clinic-a"));
    }
    assert_true (s_a.by_stream[0] > 0 && s_a.by_stream[1] > 0);
    assert_true (s_a.events < s_all.events);     /* clinic-b's were there, and left out */
    assert_int_equal (s_a.reasons + s_a.notes + s_a.changes + s_a.cancel_reasons, 0);
    meso_bus_client_destroy (&c);

    /* The clinical integration sees what the others did not: the fields
     * were there. */
    c = s_client_as (e, clin);
    seen_t s_c = { .clinic = NULL, .health = true };
    for (int i = 0; i < 2; i++)
        s_replay_all (c, streams[i], &s_c);
    assert_int_equal (s_c.events, s_all.events);
    assert_true (s_c.reasons >= 2);             /* a pregnant patient in each clinic */
    assert_int_equal (s_c.notes, 2);
    assert_int_equal (s_c.cancel_reasons, 2);
    assert_int_equal (s_c.changes, 2);
    meso_bus_client_destroy (&c);

    zcert_destroy (&all);
    zcert_destroy (&a);
    zcert_destroy (&clin);
    s_teardown (e);
}

static int
s_on_event (const Meso__V1__Event *ev, const uint8_t *raw, size_t len, void *arg)
{
    s_check (arg, ev, raw, len);
    return 0;
}

/* Polls until both subscribers' cursors reach the heads of both streams. */
static void
s_drive (env_t *e, meso_subscriber_t **subs, int n)
{
    const char *streams[] = { "session", "screening" };
    for (int64_t end = meso_time_mono_ms () + 30000; meso_time_mono_ms () < end; ) {
        bool done = true;
        for (int i = 0; i < n; i++) {
            assert_true (meso_subscriber_poll (subs[i], 50) >= 0);
            for (int k = 0; k < 2; k++)
                if (meso_subscriber_cursor (subs[i], streams[k]) < (uint64_t) s_head (e, streams[k]))
                    done = false;
        }
        if (done)
            return;
    }
    fail_msg ("the subscribers did not reach the heads within 30 s");
}

/* By the live feed: subscribers as marketing-a and as the clinical
 * integration catch up, then take events written while they run. */
static void
test_live_feed_is_scoped (void **state)
{
    env_t *e = s_setup ("trust_feed_live");
    s_round (e, "clinic-a", "pract-a", "room-a");
    s_relayed (e);
    zcert_t *a = mt_principal_add (e->fx->admin, "marketing-a", "integration", "{integration}",
                                   "{clinic-a}", "{session,screening}", false);
    zcert_t *clin = mt_principal_add (e->fx->admin, "clinical", "integration", "{integration}",
                                      NULL, NULL, true);
    meso_bus_client_t *probe = s_client_as (e, a);      /* both keys known by now */
    meso_bus_client_destroy (&probe);
    probe = s_client_as (e, clin);
    meso_bus_client_destroy (&probe);

    seen_t s_a = { .clinic = "clinic-a", .health = false };
    seen_t s_c = { .clinic = NULL, .health = true };
    meso_subscriber_t *subs[2];
    subs[0] = meso_subscriber_new_as (e->fx->events_router, e->fx->events_pub, "marketing-a", a,
                                      s_on_event, &s_a);
    subs[1] = meso_subscriber_new_as (e->fx->events_router, e->fx->events_pub, "clinical", clin,
                                      s_on_event, &s_c);
    assert_true (subs[0] && subs[1]);
    for (int i = 0; i < 2; i++) {
        assert_int_equal (meso_subscriber_follow (subs[i], "session", 0), 0);
        assert_int_equal (meso_subscriber_follow (subs[i], "screening", 0), 0);
    }
    s_drive (e, subs, 2);
    int caught_up = s_a.events;
    assert_true (caught_up > 0);

    /* Live: both clinics again while the subscribers poll between calls. */
    meso_subscriber_poll (subs[0], 1200);   /* SUB connected and subscribed */
    meso_subscriber_poll (subs[1], 10);
    s_round (e, "clinic-b", "pract-b", "room-b");
    s_round (e, "clinic-a", "pract-a", "room-a");
    s_relayed (e);
    s_drive (e, subs, 2);

    assert_int_equal (s_a.by_stream[0], s_count (e, "session", "clinic-a"));
    assert_int_equal (s_a.by_stream[1], s_count (e, "screening", "clinic-a"));
    assert_true (s_a.events > caught_up);
    assert_int_equal (s_a.disorder, 0);
    assert_int_equal (s_a.reasons + s_a.notes + s_a.changes + s_a.cancel_reasons, 0);
    assert_true (meso_subscriber_live (subs[0]) > 0);
    /* Its cursors moved past clinic-b's events it never got. */
    assert_int_equal (meso_subscriber_cursor (subs[0], "session"), (uint64_t) s_head (e, "session"));

    assert_int_equal (s_c.by_stream[0], s_count (e, "session", NULL));
    assert_int_equal (s_c.by_stream[1], s_count (e, "screening", NULL));
    assert_int_equal (s_c.notes, 3);
    assert_int_equal (s_c.cancel_reasons, 3);
    assert_int_equal (s_c.changes, 3);
    assert_true (s_c.reasons >= 3);
    for (int i = 0; i < 2; i++)
        meso_subscriber_destroy (&subs[i]);

    /* A stream outside its scope: delivery stops and says so, every poll. */
    seen_t s_x = { .clinic = "clinic-a", .health = false };
    meso_subscriber_t *x = meso_subscriber_new_as (e->fx->events_router, e->fx->events_pub,
                                                   "marketing-a", a, s_on_event, &s_x);
    assert_int_equal (meso_subscriber_follow (x, "stock", 0), 0);
    assert_int_equal (meso_subscriber_poll (x, 200), -1);
    assert_int_equal (meso_subscriber_poll (x, 200), -1);
    assert_int_equal (s_x.events, 0);
    meso_subscriber_destroy (&x);

    zcert_destroy (&a);
    zcert_destroy (&clin);
    s_teardown (e);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_replay_is_scoped),
        cmocka_unit_test (test_live_feed_is_scoped),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
