/* test_mesoctl_commands.c -- the mesoctl subcommands added so that every
 * method has one, run as a person would (the mesoctl binary, as the
 * tester's key) against real PostgreSQL and real meso-screening,
 * meso-inventory and meso-scheduling daemons, each checked by what it
 * changed or showed:
 *   - scheduling practitioner in a second clinic keeps the hours of the
 *     first and the days off (it used to drop them); room --inactive takes
 *     a room out of planning, --active puts it back;
 *   - scheduling book-session books (the appointment is in the database),
 *     availability then lists one slot fewer, clinic-show shows the zone;
 *   - patient update changes the phone and says so; screening settings
 *     stores the thresholds; report-change outdates the screening;
 *   - inventory adjust, reorder-point, recipe-show, discard-expired, and
 *     the service-only reserve, redate, release and consume of one
 *     appointment (the operator debugging a hold). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sys/wait.h>

#include "scheduling_fixture.h"

/* Runs mesoctl with args against fx's daemons as the tester; stdout and
 * stderr into out; returns the exit status. */
static int
s_ctl (fx_t *fx, char *out, size_t size, const char *fmt, ...)
{
    char args[2048], cmd[4096];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (args, sizeof args, fmt, ap);
    va_end (ap);
    snprintf (cmd, sizeof cmd,
              "env MESO_KEYS='%s' MESO_KEY='%s/tester.key_secret' MESO_SCREENING_ENDPOINT='%s'"
              " MESO_INVENTORY_ENDPOINT='%s' MESO_SCHEDULING_ENDPOINT='%s' %s/bin/mesoctl %s 2>&1",
              mt_keys (), mt_keys (), fx->screening_ep, fx->inventory_ep, fx->sched_ep[0], mt_build_dir (),
              args);
    FILE *p = popen (cmd, "r");
    assert_non_null (p);
    size_t n = fread (out, 1, size - 1, p);
    out[n] = '\0';
    int status = pclose (p);
    int rc = WIFEXITED (status) ? WEXITSTATUS (status) : -1;
    if (rc != 0)
        print_message ("mesoctl %s -> %d:\n%s\n", args, rc, out);
    return rc;
}

static void
test_scheduling_commands (void **state)
{
    (void) state;
    fx_t *fx = fx_setup ("ctl_sched", 1);
    const char *pr[] = { "dr-a" }, *rm[] = { "room-1", "room-2" };
    fx_clinic (fx, "par", "Europe/Paris", pr, 1, rm, 2, true);
    fx_clinic (fx, "lyo", "Europe/Paris", NULL, 0, NULL, 0, false);
    static char out[65536];

    /* dr-a works in par (fixture: every day); add Saturdays in lyo, and a
     * day off: par's hours and the day off stay. */
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM scheduling.practitioner_hours"
                                  " WHERE practitioner_id = 'dr-a' AND clinic_id = 'par'", NULL), 7);
    assert_int_equal (s_ctl (fx, out, sizeof out, "scheduling practitioner --practitioner dr-a --name dr-a"
                             " --clinic par --hours 08:00-20:00 --days 1-7 --days-off 2031-01-02"), 0);
    assert_int_equal (s_ctl (fx, out, sizeof out, "scheduling practitioner --practitioner dr-a --name dr-a"
                             " --clinic lyo --hours 10:00-16:00 --days 6-6"), 0);
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM scheduling.practitioner_hours"
                                  " WHERE practitioner_id = 'dr-a' AND clinic_id = 'par'", NULL), 7);
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM scheduling.practitioner_hours"
                                  " WHERE practitioner_id = 'dr-a' AND clinic_id = 'lyo'", NULL), 1);
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM scheduling.practitioner_day_off"
                                  " WHERE practitioner_id = 'dr-a'", NULL), 1);

    /* Rooms: --inactive, then --active. */
    assert_int_equal (s_ctl (fx, out, sizeof out, "scheduling room --clinic par --room room-2 --name R2 --inactive"), 0);
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM scheduling.room WHERE room_id = 'room-2' AND NOT active",
                              NULL), 1);
    assert_int_equal (s_ctl (fx, out, sizeof out, "scheduling room --clinic par --room room-2 --name R2 --active"), 0);
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM scheduling.room WHERE room_id = 'room-2' AND active",
                              NULL), 1);
    assert_int_equal (s_ctl (fx, out, sizeof out, "scheduling room --clinic par --room room-2 --active --inactive"), 2);

    /* clinic-show, availability, book-session. */
    assert_int_equal (s_ctl (fx, out, sizeof out, "scheduling clinic-show --clinic par"), 0);
    assert_non_null (strstr (out, "Europe/Paris"));
    char pat[40], day[16];
    fx_patient (fx, "par", NULL, false, pat);
    fx_day (3, day);
    assert_int_equal (s_ctl (fx, out, sizeof out, "scheduling availability --clinic par --date %s --json", day), 0);
    int64_t before = 0;
    for (const char *p = strstr (out, "local_start"); p; p = strstr (p + 1, "local_start"))
        before++;
    assert_true (before > 0);
    assert_int_equal (s_ctl (fx, out, sizeof out, "scheduling book-session --clinic par --patient %s"
                             " --practitioner dr-a --room room-1 --at %sT10:00 --areas thighs --recipe lipo",
                             pat, day), 0);
    assert_non_null (strstr (out, "appointment "));
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM scheduling.appointment WHERE patient_id = $1"
                                  " AND status = 'booked'", pat), 1);
    assert_int_equal (s_ctl (fx, out, sizeof out, "scheduling availability --clinic par --date %s --json", day), 0);
    int64_t after = 0;
    for (const char *p = strstr (out, "local_start"); p; p = strstr (p + 1, "local_start"))
        after++;
    assert_int_equal (after, before - 1);

    /* The patient's record and the clinic's thresholds. */
    assert_int_equal (s_ctl (fx, out, sizeof out, "patient update --patient %s --phone 0612345678", pat), 0);
    assert_non_null (strstr (out, "changed: phone"));
    assert_int_equal (s_ctl (fx, out, sizeof out, "screening settings --clinic par --max-age 65"), 0);
    assert_int_equal (fx_sql (fx, "SELECT max_age FROM screening.clinic_settings WHERE clinic_id = 'par'", NULL), 65);
    assert_int_equal (s_ctl (fx, out, sizeof out, "screening report-change --patient %s --changes weight", pat), 0);
    assert_int_equal (s_ctl (fx, out, sizeof out, "screening show --patient %s", pat), 0);
    assert_non_null (strstr (out, "OUTDATED"));
    fx_teardown (fx);
}

static void
test_inventory_commands (void **state)
{
    (void) state;
    fx_t *fx = fx_setup ("ctl_inv", 1);
    const char *pr[] = { "dr-a" }, *rm[] = { "room-1" };
    fx_clinic (fx, "par", "Europe/Paris", pr, 1, rm, 1, true);
    static char out[65536];
    char lot[64];
    PGresult *res = meso_db_query (fx->db, "SELECT lot_id FROM inventory.lot WHERE lot_number = 'CAF-1'", 0, NULL);
    assert_non_null (res);
    snprintf (lot, sizeof lot, "%s", PQgetvalue (res, 0, 0));
    PQclear (res);

    /* adjust: 100 g on hand, minus 2.5 mg. */
    assert_int_equal (s_ctl (fx, out, sizeof out, "inventory adjust --clinic par --lot-id %s --qty -2.5"
                             " --reason \"vial broken\"", lot), 0);
    assert_int_equal (fx_sql (fx, "SELECT on_hand_milli FROM inventory.lot WHERE lot_id::text = $1", lot),
                      INT64_C (100000000) - 2500);
    /* reorder-point stored. */
    assert_int_equal (s_ctl (fx, out, sizeof out, "inventory reorder-point --clinic par --ingredient caffeine"
                             " --qty 500 --warn-days 45"), 0);
    assert_int_equal (fx_sql (fx, "SELECT reorder_point_milli FROM inventory.reorder_point"
                                  " WHERE clinic_id = 'par' AND ingredient_code = 'caffeine'", NULL), 500000);
    /* recipe-show: thighs takes 100 mg caffeine. */
    assert_int_equal (s_ctl (fx, out, sizeof out, "inventory recipe-show --recipe lipo --areas thighs"), 0);
    assert_non_null (strstr (out, "caffeine"));
    assert_non_null (strstr (out, "100"));
    /* discard-expired: nothing has expired. */
    assert_int_equal (s_ctl (fx, out, sizeof out, "inventory discard-expired --clinic par"), 0);
    assert_non_null (strstr (out, "0 lots discarded from"));

    /* A hold by hand, as scheduling would make it: reserve, redate,
     * release; then another reserved and consumed. */
    char d1[16], d2[16];
    fx_day (10, d1);
    fx_day (12, d2);
    assert_int_equal (s_ctl (fx, out, sizeof out, "inventory reserve --clinic par --appointment ap-1"
                             " --patient pat-1 --date %s --areas thighs --recipe lipo", d1), 0);
    assert_int_equal (fx_sql (fx, "SELECT reserved_milli FROM inventory.lot WHERE lot_id::text = $1", lot), 100000);
    assert_int_equal (s_ctl (fx, out, sizeof out, "inventory redate --clinic par --appointment ap-1 --date %s", d2), 0);
    assert_non_null (strstr (out, d2));
    assert_int_equal (s_ctl (fx, out, sizeof out, "inventory release --clinic par --appointment ap-1"), 0);
    assert_int_equal (fx_sql (fx, "SELECT reserved_milli FROM inventory.lot WHERE lot_id::text = $1", lot), 0);
    assert_int_equal (s_ctl (fx, out, sizeof out, "inventory reserve --clinic par --appointment ap-2"
                             " --patient pat-2 --date %s --areas thighs --recipe lipo", d1), 0);
    assert_int_equal (s_ctl (fx, out, sizeof out, "inventory consume --clinic par --appointment ap-2"), 0);
    assert_non_null (strstr (out, "consumed"));
    assert_int_equal (fx_sql (fx, "SELECT on_hand_milli FROM inventory.lot WHERE lot_id::text = $1", lot),
                      INT64_C (100000000) - 2500 - 100000);
    fx_teardown (fx);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_scheduling_commands),
        cmocka_unit_test (test_inventory_commands),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
