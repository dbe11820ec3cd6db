/* test_scheduling_hold.c -- a reported change holds the patient's upcoming
 * sessions, against real PostgreSQL and real meso-events, meso-screening,
 * meso-inventory and meso-scheduling over real sockets (scheduling
 * consumes the screening stream, inventory the session stream):
 *   - a change of health reported at screening puts the patient's booked
 *     sessions from the report on on_hold, each with a session.on_hold
 *     event naming the report; a session before the report is untouched;
 *     the stock stays reserved; StartSession, Reschedule and MarkNoShow
 *     are refused naming the hold; a change of contact details holds
 *     nothing;
 *   - a new eligible screening releases them (booked again,
 *     session.hold_released naming the screening) and the session starts;
 *   - a new ineligible screening cancels them (by the system, never late:
 *     no fee) and inventory releases their stock;
 *   - scheduling stopped and restarted while screening events keep coming
 *     applies each event once: one event per session and change, no more
 *     after another restart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "scheduling_fixture.h"
#include "events.pb-c.h"

static const char *const s_practs[] = { "dr-a" };
static const char *const s_rooms[] = { "room-1" };

#define S_CLINIC "c1"

static int
s_session_call (fx_t *fx, const char *method, const char *appt, meso_result_t *r)
{
    Meso__V1__SessionRef ref = MESO__V1__SESSION_REF__INIT;
    ref.appointment_id = (char *) appt;
    return fx_call (fx, fx->sch, method, &ref.base, NULL, r);
}

/* A new screening of patient: eligible, or ineligible (pregnant). */
static void
s_screen (fx_t *fx, const char *patient, bool pregnant)
{
    meso_result_t r = { 0 };
    Meso__V1__Questionnaire q = MESO__V1__QUESTIONNAIRE__INIT;
    Meso__V1__Answer no = MESO__V1__ANSWER__ANSWER_NO;
    q.pregnancy = pregnant ? MESO__V1__ANSWER__ANSWER_YES : no;
    q.breastfeeding = q.diabetes = q.active_infection = no;
    q.septicaemia = q.immunocompromised = q.liver_failure = q.kidney_failure = no;
    q.coagulation_disorder = q.menstrual_disorder = q.cancer = no;
    q.heart_arrhythmia = q.blood_clots = no;
    q.height_mm = 1700;
    q.weight_g = 65000;
    Meso__V1__AreaGrade ag = MESO__V1__AREA_GRADE__INIT;
    ag.area = "thighs";
    ag.grade = 2;
    Meso__V1__AreaGrade *ags[] = { &ag };
    q.areas = ags;
    q.n_areas = 1;
    Meso__V1__RecordScreeningRequest sr = MESO__V1__RECORD_SCREENING_REQUEST__INIT;
    sr.patient_id = (char *) patient;
    sr.clinic_id = S_CLINIC;
    sr.answers = &q;
    assert_int_equal (fx_call (fx, fx->scr, "screening.RecordScreening", &sr.base, NULL, &r), MESO_OK);
    meso_result_reset (&r);
}

static void
s_report (fx_t *fx, const char *patient, const char *change)
{
    meso_result_t r = { 0 };
    Meso__V1__ReportChangeRequest rc = MESO__V1__REPORT_CHANGE_REQUEST__INIT;
    rc.patient_id = (char *) patient;
    char *changes[] = { (char *) change };
    rc.changes = changes;
    rc.n_changes = 1;
    assert_int_equal (fx_call (fx, fx->scr, "screening.ReportChange", &rc.base, NULL, &r), MESO_OK);
    meso_result_reset (&r);
}

/* Books one 60-minute session at 10:00, offset days from today. */
static void
s_book (fx_t *fx, const char *patient, int offset, char *appt)
{
    char day[11], ls[20];
    meso_result_t r = { 0 };
    fx_day (offset, day);
    snprintf (ls, sizeof ls, "%sT10:00", day);
    assert_int_equal (fx_book_session (fx, fx->sch, S_CLINIC, patient, "dr-a", "room-1", ls, 60, appt, &r),
                      MESO_OK);
    meso_result_reset (&r);
}

/* Waits until count(sql) == want (15 s at most), then asserts it. */
static void
s_wait_count (fx_t *fx, const char *sql, const char *p1, int64_t want)
{
    int64_t t0 = meso_time_mono_ms (), n = -1;
    while (meso_time_mono_ms () - t0 < 15000) {
        n = fx_sql (fx, sql, p1);
        if (n == want)
            break;
        mt_sleep_ms (30);
    }
    assert_int_equal (n, want);
}

static const char *
s_status (fx_t *fx, const char *appt, char *out, size_t size)
{
    const char *p[] = { appt };
    PGresult *res = meso_db_query (fx->db, "SELECT status FROM scheduling.appointment WHERE appointment_id = $1",
                                   1, p);
    assert_non_null (res);
    assert_int_equal (PQntuples (res), 1);
    snprintf (out, size, "%s", PQgetvalue (res, 0, 0));
    PQclear (res);
    return out;
}

/* Waits until scheduling's cursor of the screening stream is at the
 * stream's head in the log (every screening event relayed so far seen). */
static void
s_wait_caught_up (fx_t *fx)
{
    s_wait_count (fx, "SELECT (SELECT coalesce(max(stream_seq), 0) FROM events.log WHERE stream = 'screening')"
                      " - coalesce((SELECT seq FROM scheduling.event_cursor WHERE stream = 'screening'), 0)"
                      " + (SELECT count(*) FROM events.outbox WHERE type LIKE 'screening.%')",
                  NULL, 0);
}

/* The session events of the log of type, unpacked, in order; *n the
 * count. Free each with meso__v1__event__free_unpacked. */
static Meso__V1__Event **
s_events (fx_t *fx, const char *type, size_t *n)
{
    const char *p[] = { type };
    /* The full payload: the log holds health-bearing events redacted,
     * their whole form is in events.log_health (migration 023). */
    PGresult *res = meso_db_query (fx->db, "SELECT coalesce (h.payload, l.payload) FROM events.log l"
                                   " LEFT JOIN events.log_health h USING (global_seq)"
                                   " WHERE l.type = $1 ORDER BY l.global_seq", 1, p);
    assert_non_null (res);
    *n = (size_t) PQntuples (res);
    Meso__V1__Event **out = calloc (*n + 1, sizeof *out);
    assert_non_null (out);
    for (size_t i = 0; i < *n; i++) {
        size_t len = 0;
        unsigned char *raw = PQunescapeBytea ((const unsigned char *) PQgetvalue (res, (int) i, 0), &len);
        assert_non_null (raw);
        out[i] = meso__v1__event__unpack (NULL, len, raw);
        assert_non_null (out[i]);
        PQfreemem (raw);
    }
    PQclear (res);
    return out;
}

static void
s_events_free (Meso__V1__Event **evs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        meso__v1__event__free_unpacked (evs[i], NULL);
    free (evs);
}

/* The id of the latest event of type in the log ("" none). */
static void
s_last_event_id (fx_t *fx, const char *type, char *out)
{
    size_t n;
    Meso__V1__Event **evs = s_events (fx, type, &n);
    snprintf (out, 64, "%s", n ? evs[n - 1]->id : "");
    s_events_free (evs, n);
}

static void
test_hold_then_release (void **state)
{
    (void) state;
    fx_t *fx = fx_setup_events ("sched_it_hold", 1);
    fx_clinic (fx, S_CLINIC, "UTC", s_practs, 1, s_rooms, 1, true);
    char pat[40], early[40], b[40], c[40], st[16];
    meso_result_t r = { 0 };
    fx_patient (fx, S_CLINIC, NULL, false, pat);
    s_book (fx, pat, 2, early);
    s_book (fx, pat, 9, b);
    s_book (fx, pat, 16, c);
    /* The first session took place before the report: an hour ago. */
    assert_int_equal (fx_sql (fx, "UPDATE scheduling.appointment SET during = tstzrange(now() - interval '2 hours',"
                              " now() - interval '1 hour', '[)') WHERE appointment_id = $1 RETURNING 1", early), 1);

    /* A change of contact details holds nothing. */
    Meso__V1__Patient up = MESO__V1__PATIENT__INIT;
    up.id = pat;
    up.email = "ana@example.org";
    Meso__V1__UpdatePatientRequest ur = MESO__V1__UPDATE_PATIENT_REQUEST__INIT;
    ur.patient = &up;
    assert_int_equal (fx_call (fx, fx->scr, "screening.UpdatePatient", &ur.base, NULL, &r), MESO_OK);
    s_wait_caught_up (fx);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM scheduling.appointment WHERE status = 'on_hold'", NULL), 0);

    /* A reported pregnancy: the two upcoming sessions go on hold. */
    s_report (fx, pat, "pregnancy");
    s_wait_count (fx, "SELECT count(*) FROM scheduling.appointment WHERE status = 'on_hold'", NULL, 2);
    assert_string_equal (s_status (fx, b, st, sizeof st), "on_hold");
    assert_string_equal (s_status (fx, c, st, sizeof st), "on_hold");
    assert_string_equal (s_status (fx, early, st, sizeof st), "booked");
    /* Their stock stays reserved until a decision. */
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM inventory.reservation WHERE status = 'held'"
                              " AND appointment_id IN (SELECT appointment_id FROM scheduling.appointment"
                              " WHERE status = 'on_hold')", NULL), 2);
    /* One session.on_hold per held session, naming the report. */
    char change_id[64];
    s_wait_count (fx, "SELECT count(*) FROM events.log WHERE type = 'session.on_hold'", NULL, 2);
    s_last_event_id (fx, "screening.patient_changed", change_id);
    size_t n;
    Meso__V1__Event **evs = s_events (fx, "session.on_hold", &n);
    assert_int_equal (n, 2);
    assert_string_equal (evs[0]->session_on_hold->session->appointment_id, b);
    assert_string_equal (evs[1]->session_on_hold->session->appointment_id, c);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal (evs[i]->session_on_hold->session->patient_id, pat);
        assert_string_equal (evs[i]->clinic_id, S_CLINIC);
        assert_string_equal (evs[i]->session_on_hold->change_event_id, change_id);
        assert_true (evs[i]->session_on_hold->reported_at_us > 0);
    }
    s_events_free (evs, n);

    /* Nothing moves a held session but a screening (or a cancellation). */
    assert_int_equal (s_session_call (fx, "scheduling.StartSession", b, &r), MESO_FAILED_PRECONDITION);
    assert_true (fx_has_reason (&r, "on_hold"));
    assert_non_null (strstr (r.message, "on_hold"));
    assert_non_null (strstr (r.reply->reasons[0]->message, "new eligible screening"));
    assert_int_equal (s_session_call (fx, "scheduling.MarkNoShow", b, &r), MESO_FAILED_PRECONDITION);
    assert_true (fx_has_reason (&r, "on_hold"));
    char day[11], ls[20];
    fx_day (10, day);
    snprintf (ls, sizeof ls, "%sT11:00", day);
    Meso__V1__RescheduleRequest rs = MESO__V1__RESCHEDULE_REQUEST__INIT;
    rs.appointment_id = b;
    rs.local_start = ls;
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.Reschedule", &rs.base, NULL, &r), MESO_FAILED_PRECONDITION);
    assert_true (fx_has_reason (&r, "on_hold"));
    assert_string_equal (s_status (fx, b, st, sizeof st), "on_hold");
    /* The held session keeps its slot: nobody else can take it. */
    char other[40], ls_b[20];
    fx_patient (fx, S_CLINIC, NULL, false, other);
    fx_day (9, day);
    snprintf (ls_b, sizeof ls_b, "%sT10:00", day);
    assert_int_equal (fx_book_session (fx, fx->sch, S_CLINIC, other, "dr-a", "room-1", ls_b, 60, NULL, &r),
                      MESO_ALREADY_EXISTS);

    /* A new eligible screening releases both. */
    s_screen (fx, pat, false);
    s_wait_count (fx, "SELECT count(*) FROM scheduling.appointment WHERE status = 'on_hold'", NULL, 0);
    assert_string_equal (s_status (fx, b, st, sizeof st), "booked");
    assert_string_equal (s_status (fx, c, st, sizeof st), "booked");
    s_wait_count (fx, "SELECT count(*) FROM events.log WHERE type = 'session.hold_released'", NULL, 2);
    size_t ns;
    Meso__V1__Event **scr = s_events (fx, "screening.completed", &ns);
    assert_true (ns >= 2);
    evs = s_events (fx, "session.hold_released", &n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal (evs[i]->session_hold_released->screening_id,
                             scr[ns - 1]->screening_completed->screening_id);
    assert_string_equal (evs[0]->session_hold_released->session->appointment_id, b);
    s_events_free (evs, n);
    s_events_free (scr, ns);
    assert_int_equal (s_session_call (fx, "scheduling.StartSession", b, &r), MESO_OK);
    assert_string_equal (s_status (fx, b, st, sizeof st), "started");
    meso_result_reset (&r);
    fx_teardown (fx);
}

static void
test_ineligible_cancels (void **state)
{
    (void) state;
    fx_t *fx = fx_setup_events ("sched_it_hold_cancel", 1);
    fx_clinic (fx, S_CLINIC, "UTC", s_practs, 1, s_rooms, 1, true);
    char pat[40], b[40], c[40], st[16];
    meso_result_t r = { 0 };
    fx_patient (fx, S_CLINIC, NULL, false, pat);
    s_book (fx, pat, 1, b);
    s_book (fx, pat, 8, c);
    int64_t held_before = fx_sql (fx, "SELECT coalesce(sum(reserved_milli), 0) FROM inventory.lot", NULL);
    assert_true (held_before > 0);
    s_report (fx, pat, "pregnancy");
    s_wait_count (fx, "SELECT count(*) FROM scheduling.appointment WHERE status = 'on_hold'", NULL, 2);

    /* The new screening says the patient is pregnant: ineligible. */
    s_screen (fx, pat, true);
    s_wait_count (fx, "SELECT count(*) FROM scheduling.appointment WHERE status = 'cancelled'"
                      " AND cancelled_by = 'system'", NULL, 2);
    assert_string_equal (s_status (fx, b, st, sizeof st), "cancelled");
    /* Inventory released their stock, as for any cancellation. */
    s_wait_count (fx, "SELECT count(*) FROM inventory.reservation WHERE status = 'released'", NULL, 2);
    assert_int_equal (fx_sql (fx, "SELECT coalesce(sum(reserved_milli), 0) FROM inventory.lot", NULL), 0);
    /* Cancelled by the system, never late: billing charges no fee. */
    s_wait_count (fx, "SELECT count(*) FROM events.log WHERE type = 'session.cancelled'", NULL, 2);
    size_t n;
    Meso__V1__Event **evs = s_events (fx, "session.cancelled", &n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal (evs[i]->session_cancelled->by, MESO__V1__CANCELLED_BY__CANCELLED_BY_SYSTEM);
        assert_false (evs[i]->session_cancelled->late);
        assert_non_null (strstr (evs[i]->session_cancelled->reason, "ineligible"));
    }
    assert_string_equal (evs[0]->session_cancelled->session->appointment_id, b);
    s_events_free (evs, n);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM events.log WHERE type = 'session.hold_released'", NULL), 0);
    meso_result_reset (&r);
    fx_teardown (fx);
}

/* How many events of type the log has for appointment. */
static int64_t
s_count_for (fx_t *fx, const char *type, const char *appt)
{
    size_t n;
    Meso__V1__Event **evs = s_events (fx, type, &n);
    int64_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const Meso__V1__SessionInfo *s = evs[i]->payload_case == MESO__V1__EVENT__PAYLOAD_SESSION_ON_HOLD
                                         ? evs[i]->session_on_hold->session
                                         : evs[i]->session_hold_released->session;
        k += strcmp (s->appointment_id, appt) == 0;
    }
    s_events_free (evs, n);
    return k;
}

static void
test_restart_applies_once (void **state)
{
    (void) state;
    fx_t *fx = fx_setup_events ("sched_it_hold_restart", 1);
    fx_clinic (fx, S_CLINIC, "UTC", s_practs, 1, s_rooms, 1, true);
    char pat[40], b[40], c[40], st[16];
    fx_patient (fx, S_CLINIC, NULL, false, pat);
    s_book (fx, pat, 3, b);
    s_book (fx, pat, 10, c);
    s_report (fx, pat, "medication");
    s_wait_count (fx, "SELECT count(*) FROM scheduling.appointment WHERE status = 'on_hold'", NULL, 2);

    /* Scheduling dies; the screening stream goes on without it. */
    assert_true (mt_stop (fx->sched_pid[0], SIGKILL) >= 0);
    fx->sched_pid[0] = 0;
    s_screen (fx, pat, false);          /* release */
    s_report (fx, pat, "diabetes");     /* hold again */
    s_screen (fx, pat, false);          /* release again */
    s_report (fx, pat, "other");        /* and hold */
    s_wait_count (fx, "SELECT count(*) FROM events.outbox", NULL, 0);
    assert_string_equal (s_status (fx, b, st, sizeof st), "on_hold");

    /* Back: it resumes from its cursor and applies each event once. */
    fx->sched_pid[0] = fx_spawn_scheduling (fx, 0, NULL);
    assert_int_equal (mt_wait_healthy (fx->sched_ep[0], 10000), 0);
    s_wait_caught_up (fx);
    s_wait_count (fx, "SELECT count(*) FROM events.log WHERE type = 'session.on_hold'", NULL, 6);
    s_wait_count (fx, "SELECT count(*) FROM events.log WHERE type = 'session.hold_released'", NULL, 4);
    assert_string_equal (s_status (fx, b, st, sizeof st), "on_hold");
    assert_string_equal (s_status (fx, c, st, sizeof st), "on_hold");
    assert_int_equal (s_count_for (fx, "session.on_hold", b), 3);
    assert_int_equal (s_count_for (fx, "session.on_hold", c), 3);
    assert_int_equal (s_count_for (fx, "session.hold_released", b), 2);

    /* Another restart (a clean one) replays nothing twice. */
    assert_int_equal (mt_stop (fx->sched_pid[0], SIGTERM), 0);
    fx->sched_pid[0] = fx_spawn_scheduling (fx, 0, NULL);
    assert_int_equal (mt_wait_healthy (fx->sched_ep[0], 10000), 0);
    s_screen (fx, pat, false);          /* a new event after the restart */
    s_wait_count (fx, "SELECT count(*) FROM events.log WHERE type = 'session.hold_released'", NULL, 6);
    s_wait_caught_up (fx);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM events.log WHERE type = 'session.on_hold'", NULL), 6);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM events.log WHERE type = 'session.hold_released'", NULL), 6);
    assert_string_equal (s_status (fx, b, st, sizeof st), "booked");
    fx_teardown (fx);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_hold_then_release),
        cmocka_unit_test (test_ineligible_cancels),
        cmocka_unit_test (test_restart_applies_once),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
