/* test_reminders.c -- session.reminder_due through the real daemons
 * (screening, inventory, scheduling) and PostgreSQL: a clinic with two
 * leads, the first due at once and the second a minute or so later; the
 * scheduling daemon is killed between the two and restarted after the
 * second fell due. Each reminder goes out exactly once, the second one on
 * catching up after the restart, none for a cancelled session, and each
 * carries the practical facts and the screening's instructions (the
 * general ones, and the one that follows from the patient's allergy as a
 * health instruction).
 *
 * The clinic's zone is picked so that its local time is around noon
 * whenever the test runs (Etc/GMT offsets), inside its opening hours. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <time.h>

#include "scheduling_fixture.h"
#include "events.pb-c.h"

static const char *const s_practs[] = { "dr-a" };
static const char *const s_rooms[] = { "room-1" };

static void
s_policy (fx_t *fx, const char *clinic, const uint32_t *leads, size_t n)
{
    Meso__V1__FrontDeskPolicy p = MESO__V1__FRONT_DESK_POLICY__INIT;
    p.clinic_id = (char *) clinic;
    p.reminder_lead_minutes = (uint32_t *) leads;
    p.n_reminder_lead_minutes = n;
    Meso__V1__SetFrontDeskPolicyRequest rq = MESO__V1__SET_FRONT_DESK_POLICY_REQUEST__INIT;
    rq.policy = &p;
    meso_result_t r = { 0 };
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.SetFrontDeskPolicy", &rq.base, NULL, &r), MESO_OK);
    meso_result_reset (&r);
}

/* The local "YYYY-MM-DDTHH:MM" of instant t (seconds) at offset hours. */
static void
s_local (time_t t, int offset_h, char *out, size_t size)
{
    time_t l = t + offset_h * 3600;
    struct tm tm;
    gmtime_r (&l, &tm);
    strftime (out, size, "%Y-%m-%dT%H:%M", &tm);
}

static int64_t
s_reminders (fx_t *fx, const char *appt)
{
    return fx_sql (fx, "SELECT count(*) FROM events.outbox WHERE type = 'session.reminder_due'"
                   " AND payload IS NOT NULL AND position ($1::bytea IN payload) > 0", appt);
}

static Meso__V1__Event *
s_reminder (fx_t *fx, const char *appt, int lead)
{
    char sql[256];
    snprintf (sql, sizeof sql, "SELECT payload FROM events.outbox WHERE type = 'session.reminder_due'"
              " AND position ($1::bytea IN payload) > 0 ORDER BY id");
    const char *p[] = { appt };
    PGresult *res = meso_db_query (fx->db, sql, 1, p);
    assert_non_null (res);
    Meso__V1__Event *found = NULL;
    for (int i = 0; i < PQntuples (res) && !found; i++) {
        size_t len = 0;
        unsigned char *raw = PQunescapeBytea ((const unsigned char *) PQgetvalue (res, i, 0), &len);
        Meso__V1__Event *ev = meso__v1__event__unpack (NULL, len, raw);
        PQfreemem (raw);
        assert_non_null (ev);
        if (ev->session_reminder_due->lead_minutes == (uint32_t) lead)
            found = ev;
        else
            meso__v1__event__free_unpacked (ev, NULL);
    }
    PQclear (res);
    return found;
}

static void
test_reminders_once_across_restart (void **state)
{
    fx_t *fx = fx_setup ("rem_restart", 1);
    /* local time around noon */
    time_t now = time (NULL);
    struct tm utc;
    gmtime_r (&now, &utc);
    int offset = 12 - utc.tm_hour;
    char zone[32];
    snprintf (zone, sizeof zone, offset >= 0 ? "Etc/GMT-%d" : "Etc/GMT+%d", offset >= 0 ? offset : -offset);
    fx_clinic (fx, "rem", zone, s_practs, 1, s_rooms, 1, true);
    /* an ingredient outside the recipe the patient is allergic to */
    Meso__V1__Ingredient ing = MESO__V1__INGREDIENT__INIT;
    ing.code = "lidocaine";
    ing.name = "lidocaine";
    ing.unit = MESO__V1__UNIT__UNIT_MG;
    Meso__V1__UpsertIngredientRequest ir = MESO__V1__UPSERT_INGREDIENT_REQUEST__INIT;
    ir.ingredient = &ing;
    meso_result_t r = { 0 };
    assert_int_equal (fx_call (fx, fx->inv, "inventory.UpsertIngredient", &ir.base, NULL, &r), MESO_OK);
    char p1[40], p2[40];
    fx_patient (fx, "rem", "lidocaine", false, p1);
    fx_patient (fx, "rem", NULL, false, p2);
    s_policy (fx, "rem", NULL, 0);      /* none while the sessions are set up */

    const char *env[] = { "MESO_SCHEDULING_FRONTDESK_MS=200", NULL };
    mt_stop (fx->sched_pid[0], SIGTERM);
    fx->sched_pid[0] = fx_spawn_scheduling (fx, 0, env);
    assert_int_equal (mt_wait_healthy (fx->sched_ep[0], 10000), 0);

    /* m1: the next minute boundary at least 20 s away; the session two
     * minutes after it. Lead 600 is due at once, lead 2 at m1. */
    now = time (NULL);
    time_t m1 = (now / 60 + 1) * 60;
    if (m1 - now < 20)
        m1 += 60;
    char s1[20], s2[20];
    s_local (m1 + 120, offset, s1, sizeof s1);
    s_local (m1 + 120 + 1800, offset, s2, sizeof s2);
    char a1[40], a2[40];
    assert_int_equal (fx_book_session (fx, fx->sch, "rem", p1, "dr-a", "room-1", s1, 15, a1, &r), MESO_OK);
    assert_int_equal (fx_book_session (fx, fx->sch, "rem", p2, "dr-a", "room-1", s2, 15, a2, &r), MESO_OK);
    Meso__V1__CancelRequest cq = MESO__V1__CANCEL_REQUEST__INIT;
    cq.appointment_id = a2;
    cq.by = MESO__V1__CANCELLED_BY__CANCELLED_BY_PATIENT;
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.Cancel", &cq.base, NULL, &r), MESO_OK);
    meso_result_reset (&r);
    const uint32_t leads[] = { 600, 2 };
    s_policy (fx, "rem", leads, 2);

    /* the first reminder, once */
    int64_t n = 0;
    for (int i = 0; i < 100 && n == 0; i++) {
        mt_sleep_ms (100);
        n = s_reminders (fx, a1);
    }
    assert_int_equal (n, 1);
    Meso__V1__Event *ev = s_reminder (fx, a1, 600);
    assert_non_null (ev);
    Meso__V1__SessionReminderDue *x = ev->session_reminder_due;
    assert_string_equal (x->session->appointment_id, a1);
    assert_string_equal (x->session->local_start, s1);
    assert_string_equal (x->session->time_zone, zone);
    assert_string_equal (x->clinic_name, "rem");
    assert_string_equal (x->practitioner_name, "dr-a");
    assert_string_equal (x->room_name, "room-1");
    assert_int_equal (x->n_instructions, 4);       /* washout, caffeine, shower, make-up */
    assert_int_equal (x->n_health_instructions, 1);
    assert_non_null (strstr (x->health_instructions[0], "allergies"));
    char due[20];
    s_local (m1 + 120 - 600 * 60, offset, due, sizeof due);
    assert_string_equal (x->due_local, due);
    meso__v1__event__free_unpacked (ev, NULL);

    /* killed before the second falls due, back after it did */
    mt_stop (fx->sched_pid[0], SIGKILL);
    while (time (NULL) < m1 + 2)
        mt_sleep_ms (200);
    assert_int_equal (s_reminders (fx, a1), 1);
    fx->sched_pid[0] = fx_spawn_scheduling (fx, 0, env);
    assert_int_equal (mt_wait_healthy (fx->sched_ep[0], 10000), 0);
    for (int i = 0; i < 100 && n < 2; i++) {
        mt_sleep_ms (100);
        n = s_reminders (fx, a1);
    }
    assert_int_equal (n, 2);
    ev = s_reminder (fx, a1, 2);
    assert_non_null (ev);
    meso__v1__event__free_unpacked (ev, NULL);
    /* and no more, however many ticks; none for the cancelled session */
    mt_sleep_ms (1500);
    assert_int_equal (s_reminders (fx, a1), 2);
    assert_int_equal (s_reminders (fx, a2), 0);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM scheduling.reminder_sent WHERE appointment_id = $1", a2), 0);
    fx_teardown (fx);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_reminders_once_across_restart),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
