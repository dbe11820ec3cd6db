/* test_defaults.c -- no proto3 default traps in scheduling's settings, end
 * to end: real PostgreSQL and real meso-screening, meso-inventory and
 * meso-scheduling (scheduling_fixture.h).
 *
 *   - Room.active has presence (a one-field oneof): an UpsertRoom without it creates an active
 *     room and leaves an existing room's state alone (a rename no longer
 *     takes a room out of planning); false and true still switch it; the
 *     reply always says the stored state;
 *   - an UpsertClinic without course settings keeps the clinic's (a new
 *     clinic gets the defaults); with them, they replace the stored ones.
 * (Session.improvement_score absent rather than -1: test_scheduling and
 * test_scheduling_courses.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "scheduling_fixture.h"

/* UpsertRoom; returns the reply's active (-1 when absent). */
static int
s_room (fx_t *fx, const char *room, const char *name, int active)
{
    meso_result_t r = { 0 };
    Meso__V1__Room rm = MESO__V1__ROOM__INIT;
    rm.clinic_id = "par";
    rm.room_id = (char *) room;
    rm.name = (char *) name;
    if (active >= 0) {
        rm.state_case = MESO__V1__ROOM__STATE_ACTIVE;
        rm.active = active == 1;
    }
    Meso__V1__UpsertRoomRequest rq = MESO__V1__UPSERT_ROOM_REQUEST__INIT;
    rq.room = &rm;
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.UpsertRoom", &rq.base, NULL, &r), MESO_OK);
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__UpsertRoomReply *out = meso__v1__upsert_room_reply__unpack (NULL, len, body);
    assert_non_null (out);
    int got = out->room->state_case == MESO__V1__ROOM__STATE_ACTIVE ? out->room->active : -1;
    meso__v1__upsert_room_reply__free_unpacked (out, NULL);
    meso_result_reset (&r);
    return got;
}

static int64_t
s_active (fx_t *fx, const char *room)
{
    return fx_sql (fx, "SELECT count (*) FROM scheduling.room WHERE clinic_id = 'par' AND room_id = $1"
                       " AND active", room);
}

static void
test_room_active (void **state)
{
    (void) state;
    fx_t *fx = fx_setup ("def_room", 1);
    fx_clinic (fx, "par", "Europe/Paris", NULL, 0, NULL, 0, false);
    assert_int_equal (s_room (fx, "r1", "One", -1), 1);        /* new, unset: active */
    assert_int_equal (s_active (fx, "r1"), 1);
    assert_int_equal (s_room (fx, "r1", "One", 0), 0);         /* false: out of planning */
    assert_int_equal (s_active (fx, "r1"), 0);
    assert_int_equal (s_room (fx, "r1", "Room one", -1), 0);   /* a rename keeps it out */
    assert_int_equal (s_active (fx, "r1"), 0);
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM scheduling.room WHERE room_id = $1 AND name = 'Room one'",
                              "r1"), 1);
    assert_int_equal (s_room (fx, "r1", "Room one", 1), 1);    /* true: back */
    assert_int_equal (s_active (fx, "r1"), 1);
    fx_teardown (fx);
}

/* UpsertClinic "par" with the fixture's zone; course NULL or cs. Returns
 * the reply's spacing_min_days. */
static uint32_t
s_clinic (fx_t *fx, Meso__V1__CourseSettings *cs)
{
    meso_result_t r = { 0 };
    Meso__V1__Clinic c = MESO__V1__CLINIC__INIT;
    c.clinic_id = "par";
    c.name = "Paris";
    c.time_zone = "Europe/Paris";
    c.course = cs;
    Meso__V1__UpsertClinicRequest rq = MESO__V1__UPSERT_CLINIC_REQUEST__INIT;
    rq.clinic = &c;
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.UpsertClinic", &rq.base, NULL, &r), MESO_OK);
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__UpsertClinicReply *out = meso__v1__upsert_clinic_reply__unpack (NULL, len, body);
    assert_non_null (out);
    assert_non_null (out->clinic->course);
    uint32_t spacing = out->clinic->course->spacing_min_days;
    meso__v1__upsert_clinic_reply__free_unpacked (out, NULL);
    meso_result_reset (&r);
    return spacing;
}

static void
test_clinic_course_kept (void **state)
{
    (void) state;
    fx_t *fx = fx_setup ("def_clinic", 1);
    assert_int_equal (s_clinic (fx, NULL), 7);                 /* new: the defaults */
    Meso__V1__CourseSettings cs = MESO__V1__COURSE_SETTINGS__INIT;
    cs.spacing_min_days = 14;
    cs.cancel_notice_hours = 48;
    cs.allow_overlapping_courses = true;
    assert_int_equal (s_clinic (fx, &cs), 14);
    /* A change of name or hours without the settings keeps them. */
    assert_int_equal (s_clinic (fx, NULL), 14);
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM scheduling.clinic WHERE clinic_id = $1"
                                  " AND spacing_min_days = 14 AND cancel_notice_hours = 48"
                                  " AND allow_overlapping_courses", "par"), 1);
    /* Settings given replace them all (0 takes the default). */
    Meso__V1__CourseSettings back = MESO__V1__COURSE_SETTINGS__INIT;
    assert_int_equal (s_clinic (fx, &back), 7);
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM scheduling.clinic WHERE clinic_id = $1"
                                  " AND spacing_min_days = 7 AND cancel_notice_hours = 24"
                                  " AND NOT allow_overlapping_courses", "par"), 1);
    fx_teardown (fx);
}

int
main (void)
{
    (void) fx_patient;          /* the fixture's, unused here */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_room_active),
        cmocka_unit_test (test_clinic_course_kept),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
