/* test_waitlist.c -- the waitlist through the real daemons (screening,
 * inventory, scheduling) and PostgreSQL: a cancelled session's slot is
 * offered to the first waiting entry and held (another patient's booking
 * of it is refused), the hold expires and the slot passes to the next
 * entry, which takes it by moving its later session there; the slot that
 * move left is offered back to the first entry, which books a new
 * session into it. Holds last 3 s here (MESO_SCHEDULING_OFFER_HOLD_S). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "scheduling_fixture.h"
#include "events.pb-c.h"

static const char *const s_practs[] = { "dr-a" };
static const char *const s_rooms[] = { "room-1" };

static void
s_join (fx_t *fx, const char *patient, int from, int to, const char *appt, char *entry)
{
    char f[11], t[11];
    fx_day (from, f);
    fx_day (to, t);
    Meso__V1__JoinWaitlistRequest rq = MESO__V1__JOIN_WAITLIST_REQUEST__INIT;
    rq.clinic_id = "utc";
    rq.patient_id = (char *) patient;
    rq.from_date = f;
    rq.to_date = t;
    char *areas[] = { "thighs" };
    if (appt)
        rq.appointment_id = (char *) appt;
    else {
        rq.areas = areas;
        rq.n_areas = 1;
        rq.recipe_id = "lipo";
    }
    meso_result_t r = { 0 };
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.JoinWaitlist", &rq.base, NULL, &r), MESO_OK);
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__WaitlistEntryReply *out = meso__v1__waitlist_entry_reply__unpack (NULL, len, body);
    assert_non_null (out);
    assert_int_equal (out->entry->status, MESO__V1__WAITLIST_STATUS__WAITLIST_STATUS_WAITING);
    snprintf (entry, 40, "%s", out->entry->entry_id);
    meso__v1__waitlist_entry_reply__free_unpacked (out, NULL);
    meso_result_reset (&r);
}

/* The n-th session.slot_offered (0-based, in order), or NULL. */
static Meso__V1__SessionSlotOffered *
s_offer (fx_t *fx, int n, Meso__V1__Event **keep)
{
    PGresult *res = meso_db_query (fx->db, "SELECT payload FROM events.outbox WHERE type = 'session.slot_offered'"
                                   " ORDER BY id", 0, NULL);
    assert_non_null (res);
    *keep = NULL;
    if (n < PQntuples (res)) {
        size_t len = 0;
        unsigned char *raw = PQunescapeBytea ((const unsigned char *) PQgetvalue (res, n, 0), &len);
        *keep = meso__v1__event__unpack (NULL, len, raw);
        PQfreemem (raw);
    }
    PQclear (res);
    return *keep ? (*keep)->session_slot_offered : NULL;
}

static int64_t
s_offers (fx_t *fx)
{
    return fx_sql (fx, "SELECT count(*) FROM events.outbox WHERE type = 'session.slot_offered'", NULL);
}

static int
s_accept (fx_t *fx, const char *offer, Meso__V1__SessionReply **out)
{
    Meso__V1__AcceptOfferRequest rq = MESO__V1__ACCEPT_OFFER_REQUEST__INIT;
    rq.clinic_id = "utc";
    rq.offer_id = (char *) offer;
    meso_result_t r = { 0 };
    int st = fx_call (fx, fx->sch, "scheduling.AcceptOffer", &rq.base, NULL, &r);
    if (st == MESO_OK && out) {
        size_t len;
        const uint8_t *body = meso_result_body (&r, &len);
        *out = meso__v1__session_reply__unpack (NULL, len, body);
    }
    else if (st != MESO_OK)
        fprintf (stderr, "AcceptOffer: %s\n", r.message);
    meso_result_reset (&r);
    return st;
}

static void
test_offer_hold_expiry_accept (void **state)
{
    fx_t *fx = fx_setup ("wait_offer", 1);
    fx_clinic (fx, "utc", "UTC", s_practs, 1, s_rooms, 1, true);
    const char *env[] = { "MESO_SCHEDULING_FRONTDESK_MS=200", "MESO_SCHEDULING_OFFER_HOLD_S=3", NULL };
    mt_stop (fx->sched_pid[0], SIGTERM);
    fx->sched_pid[0] = fx_spawn_scheduling (fx, 0, env);
    assert_int_equal (mt_wait_healthy (fx->sched_ep[0], 10000), 0);
    char pa[40], w1[40], w2[40], px[40];
    fx_patient (fx, "utc", NULL, false, pa);
    fx_patient (fx, "utc", NULL, false, w1);
    fx_patient (fx, "utc", NULL, false, w2);
    fx_patient (fx, "utc", NULL, false, px);
    char d3[11], d9[11], s3[20], s9[20];
    fx_day (3, d3);
    fx_day (9, d9);
    snprintf (s3, sizeof s3, "%sT10:00", d3);
    snprintf (s9, sizeof s9, "%sT10:00", d9);
    meso_result_t r = { 0 };
    char a_appt[40], w2_appt[40];
    assert_int_equal (fx_book_session (fx, fx->sch, "utc", pa, "dr-a", "room-1", s3, 0, a_appt, &r), MESO_OK);
    assert_int_equal (fx_book_session (fx, fx->sch, "utc", w2, "dr-a", "room-1", s9, 0, w2_appt, &r), MESO_OK);
    char e1[40], e2[40], e3[40];
    s_join (fx, w1, 1, 10, NULL, e1);       /* first come: a new session */
    s_join (fx, w2, 1, 8, w2_appt, e2);     /* second: move day 9 earlier */
    s_join (fx, px, 1, 2, NULL, e3);        /* a window the slot misses */

    /* A cancels: the slot goes to the first entry and is held. */
    Meso__V1__CancelRequest cq = MESO__V1__CANCEL_REQUEST__INIT;
    cq.appointment_id = a_appt;
    cq.by = MESO__V1__CANCELLED_BY__CANCELLED_BY_PATIENT;
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.Cancel", &cq.base, NULL, &r), MESO_OK);
    assert_int_equal (s_offers (fx), 1);
    Meso__V1__Event *ev;
    Meso__V1__SessionSlotOffered *o = s_offer (fx, 0, &ev);
    assert_non_null (o);
    assert_string_equal (o->entry_id, e1);
    assert_string_equal (o->patient_id, w1);
    assert_string_equal (o->local_start, s3);
    assert_string_equal (o->freed_appointment_id, a_appt);
    assert_string_equal (o->appointment_id, "");
    char offer1[40];
    snprintf (offer1, sizeof offer1, "%s", o->offer_id);
    meso__v1__event__free_unpacked (ev, NULL);
    /* ListWaitlist shows it on the first entry, in waiting order. */
    Meso__V1__ListWaitlistRequest lq = MESO__V1__LIST_WAITLIST_REQUEST__INIT;
    lq.clinic_id = "utc";
    lq.page_size = 2;
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.ListWaitlist", &lq.base, NULL, &r), MESO_OK);
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__ListWaitlistReply *lw = meso__v1__list_waitlist_reply__unpack (NULL, len, body);
    assert_non_null (lw);
    assert_int_equal (lw->n_entries, 2);
    assert_string_equal (lw->entries[0]->entry_id, e1);
    assert_non_null (lw->entries[0]->offer);
    assert_string_equal (lw->entries[0]->offer->offer_id, offer1);
    assert_string_equal (lw->entries[1]->entry_id, e2);
    assert_null (lw->entries[1]->offer);
    assert_string_not_equal (lw->next_page_token, "");
    char token[600];
    snprintf (token, sizeof token, "%s", lw->next_page_token);
    meso__v1__list_waitlist_reply__free_unpacked (lw, NULL);
    lq.page_token = token;
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.ListWaitlist", &lq.base, NULL, &r), MESO_OK);
    body = meso_result_body (&r, &len);
    lw = meso__v1__list_waitlist_reply__unpack (NULL, len, body);
    assert_int_equal (lw->n_entries, 1);
    assert_string_equal (lw->entries[0]->entry_id, e3);
    assert_string_equal (lw->next_page_token, "");
    meso__v1__list_waitlist_reply__free_unpacked (lw, NULL);

    /* Held: another patient cannot book it. */
    assert_int_equal (fx_book_session (fx, fx->sch, "utc", px, "dr-a", "room-1", s3, 0, NULL, &r), MESO_ALREADY_EXISTS);
    /* ... and GetAvailability does not offer it (the next hour is free). */
    Meso__V1__GetAvailabilityRequest aq = MESO__V1__GET_AVAILABILITY_REQUEST__INIT;
    aq.clinic_id = "utc";
    aq.date = d3;
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.GetAvailability", &aq.base, NULL, &r), MESO_OK);
    body = meso_result_body (&r, &len);
    Meso__V1__GetAvailabilityReply *av = meso__v1__get_availability_reply__unpack (NULL, len, body);
    assert_non_null (av);
    bool held_listed = false, next_listed = false;
    char s3b[20];
    snprintf (s3b, sizeof s3b, "%sT11:00", d3);
    for (size_t i = 0; i < av->n_slots; i++) {
        held_listed = held_listed || strcmp (av->slots[i]->local_start, s3) == 0;
        next_listed = next_listed || strcmp (av->slots[i]->local_start, s3b) == 0;
    }
    assert_false (held_listed);
    assert_true (next_listed);
    meso__v1__get_availability_reply__free_unpacked (av, NULL);

    /* The hold expires: the slot passes to the second entry. */
    int64_t n = 1;
    for (int i = 0; i < 100 && n < 2; i++) {
        mt_sleep_ms (100);
        n = s_offers (fx);
    }
    assert_int_equal (n, 2);
    o = s_offer (fx, 1, &ev);
    assert_string_equal (o->entry_id, e2);
    assert_string_equal (o->appointment_id, w2_appt);
    assert_string_equal (o->local_start, s3);
    char offer2[40];
    snprintf (offer2, sizeof offer2, "%s", o->offer_id);
    meso__v1__event__free_unpacked (ev, NULL);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM scheduling.slot_offer WHERE offer_id = $1 AND status = 'expired'",
                              offer1), 1);
    assert_int_equal (s_accept (fx, offer1, NULL), MESO_FAILED_PRECONDITION);

    /* The second entry takes it: its day 9 session moves to day 3 ... */
    Meso__V1__SessionReply *sr = NULL;
    assert_int_equal (s_accept (fx, offer2, &sr), MESO_OK);
    assert_non_null (sr);
    assert_string_equal (sr->session->appointment_id, w2_appt);
    assert_string_equal (sr->session->local_start, s3);
    meso__v1__session_reply__free_unpacked (sr, NULL);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM scheduling.waitlist_entry WHERE entry_id = $1 AND status = 'served'",
                              e2), 1);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM scheduling.slot_offer WHERE offer_id = $1 AND status = 'accepted'",
                              offer2), 1);
    /* ... and the day 9 slot it left goes back to the first entry. */
    assert_int_equal (s_offers (fx), 3);
    o = s_offer (fx, 2, &ev);
    assert_string_equal (o->entry_id, e1);
    assert_string_equal (o->local_start, s9);
    char offer3[40];
    snprintf (offer3, sizeof offer3, "%s", o->offer_id);
    meso__v1__event__free_unpacked (ev, NULL);
    assert_int_equal (s_accept (fx, offer3, &sr), MESO_OK);
    assert_string_equal (sr->session->patient_id, w1);
    assert_string_equal (sr->session->local_start, s9);
    assert_string_equal (meso_enum_str (&meso__v1__session_status__descriptor, (int) sr->session->status), "booked");
    meso__v1__session_reply__free_unpacked (sr, NULL);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM scheduling.waitlist_entry WHERE entry_id = $1 AND status = 'served'",
                              e1), 1);
    assert_int_equal (fx_overlaps (fx), 0);

    /* Leaving: the entry stops waiting. */
    Meso__V1__LeaveWaitlistRequest vq = MESO__V1__LEAVE_WAITLIST_REQUEST__INIT;
    vq.clinic_id = "utc";
    vq.entry_id = e3;
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.LeaveWaitlist", &vq.base, NULL, &r), MESO_OK);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM scheduling.waitlist_entry WHERE entry_id = $1 AND status = 'left'",
                              e3), 1);
    meso_result_reset (&r);
    fx_teardown (fx);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_offer_hold_expiry_accept),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
