/* test_frontdesk.c -- the front desk's day through the real daemons:
 * the agenda of a clinic across a daylight-saving change (two rooms,
 * local times right on both sides, names from screening, stock held),
 * filtered by practitioner and room, paged while sessions are booked
 * between pages; the patient search (accents and case, birth date,
 * phone, e-mail, a renamed patient, the caller's clinic scope); the
 * lookups of practitioners, rooms and clinics; and "mesoctl agenda"
 * printing the day as a timetable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "scheduling_fixture.h"

/* Europe/Madrid jumps from 02:00 (+01:00) to 03:00 (+02:00) on
 * 2027-03-28 (within the screening's 180 days of validity). */
#define DAY "2027-03-28"

typedef struct {
    fx_t *fx;
    char ana[40], jose[40], bjorn[40], maria[40], other[40], late[40];
} w_t;

static w_t s_w;

/* Opening and working hours of the whole day, so that sessions can sit on
 * both sides of the clock change (01:00 and 10:00). */
static void
s_all_day (fx_t *fx, const char *clinic, const char *const *practs, const char *const *names, int n)
{
    meso_result_t r = { 0 };
    Meso__V1__DayHours h[7], *hp[7];
    for (int d = 0; d < 7; d++) {
        meso__v1__day_hours__init (&h[d]);
        h[d].weekday = d + 1;
        h[d].opens = "00:00";
        h[d].closes = "24:00";
        hp[d] = &h[d];
    }
    Meso__V1__Clinic c = MESO__V1__CLINIC__INIT;
    c.clinic_id = (char *) clinic;
    c.name = "Madrid Centro";
    c.time_zone = "Europe/Madrid";
    c.hours = hp;
    c.n_hours = 7;
    Meso__V1__UpsertClinicRequest cr = MESO__V1__UPSERT_CLINIC_REQUEST__INIT;
    cr.clinic = &c;
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.UpsertClinic", &cr.base, NULL, &r), MESO_OK);
    for (int i = 0; i < n; i++) {
        Meso__V1__PractitionerClinic pc = MESO__V1__PRACTITIONER_CLINIC__INIT;
        pc.clinic_id = (char *) clinic;
        pc.hours = hp;
        pc.n_hours = 7;
        Meso__V1__PractitionerClinic *pcp[] = { &pc };
        char *off[] = { "2027-12-25" };
        Meso__V1__Practitioner p = MESO__V1__PRACTITIONER__INIT;
        p.practitioner_id = (char *) practs[i];
        p.name = (char *) names[i];
        p.clinics = pcp;
        p.n_clinics = 1;
        p.days_off = off;
        p.n_days_off = 1;
        Meso__V1__UpsertPractitionerRequest pr = MESO__V1__UPSERT_PRACTITIONER_REQUEST__INIT;
        pr.practitioner = &p;
        assert_int_equal (fx_call (fx, fx->sch, "scheduling.UpsertPractitioner", &pr.base, NULL, &r), MESO_OK);
    }
    const char *rooms[][2] = { { "r1", "Sala Norte" }, { "r2", "Sala Sur" } };
    for (int i = 0; i < 2; i++) {
        Meso__V1__Room rm = MESO__V1__ROOM__INIT;
        rm.clinic_id = (char *) clinic;
        rm.room_id = (char *) rooms[i][0];
        rm.name = (char *) rooms[i][1];
        rm.active = true;
        Meso__V1__UpsertRoomRequest rr = MESO__V1__UPSERT_ROOM_REQUEST__INIT;
        rr.room = &rm;
        assert_int_equal (fx_call (fx, fx->sch, "scheduling.UpsertRoom", &rr.base, NULL, &r), MESO_OK);
    }
    meso_result_reset (&r);
}

/* A screened patient who signed the consent, renamed through
 * UpdatePatient (so the search index follows a change). */
static void
s_patient (fx_t *fx, const char *clinic, const char *given, const char *family, const char *birth,
           const char *phone, const char *email, char *id)
{
    fx_patient (fx, clinic, NULL, false, id);
    Meso__V1__Patient up = MESO__V1__PATIENT__INIT;
    up.id = id;
    up.given_name = (char *) given;
    up.family_name = (char *) family;
    up.birth_date = (char *) birth;
    up.phone = (char *) phone;
    up.email = (char *) email;
    Meso__V1__UpdatePatientRequest ur = MESO__V1__UPDATE_PATIENT_REQUEST__INIT;
    ur.patient = &up;
    meso_result_t r = { 0 };
    assert_int_equal (fx_call (fx, fx->scr, "screening.UpdatePatient", &ur.base, NULL, &r), MESO_OK);
    meso_result_reset (&r);
}

static void
s_book (const char *patient, const char *pract, const char *room, const char *local, char *appt)
{
    meso_result_t r = { 0 };
    int status = fx_book_session (s_w.fx, s_w.fx->sch, "mad", patient, pract, room, local, 60, appt, &r);
    if (status != MESO_OK)
        fail_msg ("booking %s at %s: %d %s", patient, local, status,
                  r.reply && r.reply->message ? r.reply->message : "");
    meso_result_reset (&r);
}

static int
s_setup (void **state)
{
    (void) state;
    fx_t *fx = fx_setup ("frontdesk", 1);
    s_w.fx = fx;
    const char *practs[] = { "dr-alba", "dr-bruno" }, *names[] = { "Dra. Alba Ruiz", "Dr. Bruno Sanz" };
    const char *rooms[] = { "r1", "r2" };
    fx_clinic (fx, "mad", "Europe/Madrid", practs, 2, rooms, 2, true);
    fx_clinic (fx, "bcn", "Europe/Madrid", practs, 0, rooms, 1, true);
    s_all_day (fx, "mad", practs, names, 2);
    s_patient (fx, "mad", "Ana", "López García", "1990-05-04", "+34 600-111-222", "Ana.Lopez@Example.com", s_w.ana);
    s_patient (fx, "mad", "José", "Núñez", "1985-01-20", "612 345 678", "jose@example.com", s_w.jose);
    s_patient (fx, "mad", "Björn", "Ødegaard", "1979-11-02", "", "", s_w.bjorn);
    s_patient (fx, "mad", "María Ana", "Pérez", "1990-05-04", "", "", s_w.maria);
    s_patient (fx, "bcn", "Ana", "Lopez", "1990-05-04", "+34 600 111 222", "", s_w.other);
    s_patient (fx, "mad", "Luis", "Tardío", "1970-03-03", "", "", s_w.late);
    char appt[40];
    s_book (s_w.ana, "dr-alba", "r1", DAY "T01:00", appt);        /* +01:00 */
    s_book (s_w.jose, "dr-bruno", "r2", DAY "T01:30", appt);      /* +01:00, ends after the jump */
    s_book (s_w.bjorn, "dr-alba", "r1", DAY "T10:00", appt);      /* +02:00 */
    s_book (s_w.maria, "dr-bruno", "r2", DAY "T10:00", appt);     /* +02:00 */
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    fx_teardown (s_w.fx);
    return 0;
}

static Meso__V1__GetAgendaReply *
s_agenda (const char *pract, const char *room, uint32_t size, const char *token)
{
    Meso__V1__GetAgendaRequest rq = MESO__V1__GET_AGENDA_REQUEST__INIT;
    rq.clinic_id = "mad";
    rq.date = DAY;
    rq.practitioner_id = (char *) pract;
    rq.room_id = (char *) room;
    rq.page_size = size;
    rq.page_token = (char *) token;
    meso_result_t r = { 0 };
    if (fx_call (s_w.fx, s_w.fx->sch, "scheduling.GetAgenda", &rq.base, NULL, &r) != MESO_OK)
        fail_msg ("GetAgenda: %s", r.reply && r.reply->message ? r.reply->message : "no reply");
    size_t len;
    const uint8_t *b = meso_result_body (&r, &len);
    Meso__V1__GetAgendaReply *rep = meso__v1__get_agenda_reply__unpack (NULL, len, b);
    assert_non_null (rep);
    meso_result_reset (&r);
    return rep;
}

static void
test_agenda_across_dst (void **state)
{
    (void) state;
    Meso__V1__GetAgendaReply *a = s_agenda (NULL, NULL, 0, NULL);
    assert_string_equal (a->time_zone, "Europe/Madrid");
    assert_int_equal (a->n_warnings, 0);
    assert_int_equal (a->n_entries, 4);
    Meso__V1__AgendaEntry **e = a->entries;
    /* Wall times as booked, each with the offset of its side of the change. */
    /* An hour from 01:00 ends at 03:00 on the wall clock: 02:00 never
     * happens that night. */
    assert_string_equal (e[0]->local_start, DAY "T01:00");
    assert_string_equal (e[0]->local_end, DAY "T03:00");
    assert_string_equal (e[0]->utc_offset, "+01:00");
    assert_string_equal (e[1]->local_start, DAY "T01:30");
    assert_string_equal (e[1]->local_end, DAY "T03:30");
    assert_string_equal (e[1]->utc_offset, "+01:00");
    assert_string_equal (e[2]->local_start, DAY "T10:00");
    assert_string_equal (e[2]->utc_offset, "+02:00");
    assert_string_equal (e[3]->local_start, DAY "T10:00");
    assert_string_equal (e[3]->utc_offset, "+02:00");
    /* 01:00 to 10:00 that day is eight hours, not nine. */
    assert_int_equal (e[2]->starts_at_us - e[0]->starts_at_us, INT64_C (8) * 3600 * 1000000);
    assert_int_equal (e[0]->ends_at_us - e[0]->starts_at_us, INT64_C (3600) * 1000000);
    /* 01:00 +01:00 is midnight UTC; 10:00 +02:00 is 08:00 UTC. */
    char utc[40];
    meso_time_format_utc (e[0]->starts_at_us, utc, sizeof utc);
    assert_non_null (strstr (utc, "2027-03-28T00:00"));
    meso_time_format_utc (e[2]->starts_at_us, utc, sizeof utc);
    assert_non_null (strstr (utc, "2027-03-28T08:00"));
    /* Rooms, practitioners, patients' names from screening, states. */
    assert_string_equal (e[0]->room_id, "r1");
    assert_string_equal (e[0]->room_name, "Sala Norte");
    assert_string_equal (e[0]->practitioner_name, "Dra. Alba Ruiz");
    assert_string_equal (e[0]->patient_given_name, "Ana");
    assert_string_equal (e[0]->patient_family_name, "López García");
    assert_string_equal (e[1]->room_id, "r2");
    assert_string_equal (e[1]->patient_family_name, "Núñez");
    /* Same start: ordered by appointment id, so either room first. */
    Meso__V1__AgendaEntry *r1 = strcmp (e[2]->room_id, "r1") == 0 ? e[2] : e[3];
    Meso__V1__AgendaEntry *r2 = r1 == e[2] ? e[3] : e[2];
    assert_string_equal (r1->patient_given_name, "Björn");
    assert_string_equal (r2->room_id, "r2");
    assert_string_equal (r2->patient_given_name, "María Ana");
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal (meso_enum_str (&meso__v1__session_status__descriptor, (int) e[i]->status), "booked");
        assert_int_equal (e[i]->stock_state, MESO__V1__AGENDA_STOCK_STATE__AGENDA_STOCK_STATE_HELD);
        assert_int_equal (e[i]->screening_state, MESO__V1__SCREENING_STATE__SCREENING_STATE_ELIGIBLE);
        assert_int_equal (e[i]->consent_state, MESO__V1__CONSENT_STATE__CONSENT_STATE_SIGNED);
        assert_int_equal (e[i]->n_areas, 1);
        assert_string_equal (e[i]->areas[0], "thighs");
    }
    assert_string_equal (a->next_page_token, "");
    meso__v1__get_agenda_reply__free_unpacked (a, NULL);
}

static void
test_agenda_filters (void **state)
{
    (void) state;
    Meso__V1__GetAgendaReply *a = s_agenda ("dr-alba", NULL, 0, NULL);
    assert_int_equal (a->n_entries, 2);
    assert_string_equal (a->entries[0]->patient_given_name, "Ana");
    assert_string_equal (a->entries[1]->patient_given_name, "Björn");
    meso__v1__get_agenda_reply__free_unpacked (a, NULL);
    a = s_agenda (NULL, "r2", 0, NULL);
    assert_int_equal (a->n_entries, 2);
    assert_string_equal (a->entries[0]->patient_family_name, "Núñez");
    assert_string_equal (a->entries[1]->patient_family_name, "Pérez");
    meso__v1__get_agenda_reply__free_unpacked (a, NULL);
    /* A bad request names its field. */
    Meso__V1__GetAgendaRequest rq = MESO__V1__GET_AGENDA_REQUEST__INIT;
    rq.clinic_id = "mad";
    rq.date = DAY;
    rq.to_date = "2027-12-31";
    meso_result_t r = { 0 };
    assert_int_equal (fx_call (s_w.fx, s_w.fx->sch, "scheduling.GetAgenda", &rq.base, NULL, &r),
                      MESO_INVALID_ARGUMENT);
    assert_string_equal (r.reply->reasons[0]->field, "to_date");
    meso_result_reset (&r);
}

/* Page by page, one session each, while a session is booked after the
 * cursor: every session comes exactly once (the new one too), none is
 * repeated. */
static void
test_agenda_paging_with_inserts (void **state)
{
    (void) state;
    char token[600] = "", appt[40];
    const char *seen[16];
    size_t nseen = 0;
    int page = 0;
    do {
        Meso__V1__GetAgendaReply *a = s_agenda (NULL, NULL, 1, token);
        assert_true (a->n_entries <= 1);
        for (size_t i = 0; i < a->n_entries; i++) {
            for (size_t k = 0; k < nseen; k++)
                assert_string_not_equal (seen[k], a->entries[i]->appointment_id);
            seen[nseen++] = strdup (a->entries[i]->appointment_id);
        }
        snprintf (token, sizeof token, "%s", a->next_page_token);
        meso__v1__get_agenda_reply__free_unpacked (a, NULL);
        if (++page == 2)
            s_book (s_w.late, "dr-alba", "r1", DAY "T12:00", appt);   /* after the cursor */
    } while (token[0] && page < 10);
    assert_int_equal (nseen, 5);
    for (size_t k = 0; k < nseen; k++)
        free ((char *) seen[k]);
}

static Meso__V1__SearchPatientsReply *
s_search (meso_bus_client_t *c, const char *clinic, const char *name, const char *birth, const char *phone,
          const char *email, int expect)
{
    Meso__V1__SearchPatientsRequest rq = MESO__V1__SEARCH_PATIENTS_REQUEST__INIT;
    rq.clinic_id = (char *) clinic;
    rq.name = (char *) name;
    rq.birth_date = (char *) birth;
    rq.phone = (char *) phone;
    rq.email = (char *) email;
    meso_result_t r = { 0 };
    assert_int_equal (fx_call (s_w.fx, c, "screening.SearchPatients", &rq.base, NULL, &r), expect);
    Meso__V1__SearchPatientsReply *rep = NULL;
    if (expect == MESO_OK) {
        size_t len;
        const uint8_t *b = meso_result_body (&r, &len);
        rep = meso__v1__search_patients_reply__unpack (NULL, len, b);
        assert_non_null (rep);
    }
    meso_result_reset (&r);
    return rep;
}

/* The ids found, sorted text "a,b" compared with the expected set. */
static void
s_expect (Meso__V1__SearchPatientsReply *rep, const char *const *ids, size_t n)
{
    assert_int_equal (rep->n_patients, n);
    for (size_t i = 0; i < n; i++) {
        bool found = false;
        for (size_t k = 0; k < rep->n_patients; k++)
            found |= strcmp (rep->patients[k]->id, ids[i]) == 0;
        assert_true (found);
    }
    meso__v1__search_patients_reply__free_unpacked (rep, NULL);
}

static void
test_search (void **state)
{
    (void) state;
    meso_bus_client_t *c = s_w.fx->scr;
    const char *ana[] = { s_w.ana }, *ana_maria[] = { s_w.ana, s_w.maria };
    s_expect (s_search (c, "mad", "lopez", NULL, NULL, NULL, MESO_OK), ana, 1);
    s_expect (s_search (c, "mad", "ana l", NULL, NULL, NULL, MESO_OK), ana, 1);
    s_expect (s_search (c, "mad", "LÓP ANA", NULL, NULL, NULL, MESO_OK), ana, 1);
    s_expect (s_search (c, "mad", "garcia", NULL, NULL, NULL, MESO_OK), ana, 1);
    s_expect (s_search (c, "mad", "ana", NULL, NULL, NULL, MESO_OK), ana_maria, 2);
    const char *jose[] = { s_w.jose }, *bjorn[] = { s_w.bjorn };
    s_expect (s_search (c, "mad", "Nunez jose", NULL, NULL, NULL, MESO_OK), jose, 1);
    s_expect (s_search (c, "mad", "odegaard", NULL, NULL, NULL, MESO_OK), bjorn, 1);
    s_expect (s_search (c, "mad", "bjorn", NULL, NULL, NULL, MESO_OK), bjorn, 1);
    /* Birth date alone, and with a name. */
    s_expect (s_search (c, "mad", NULL, "1990-05-04", NULL, NULL, MESO_OK), ana_maria, 2);
    const char *maria[] = { s_w.maria };
    s_expect (s_search (c, "mad", "perez", "1990-05-04", NULL, NULL, MESO_OK), maria, 1);
    /* Phone without the country prefix, e-mail in another case. */
    s_expect (s_search (c, "mad", NULL, NULL, "600111222", NULL, MESO_OK), ana, 1);
    s_expect (s_search (c, "mad", NULL, NULL, NULL, "ana.lopez@EXAMPLE.com", MESO_OK), ana, 1);
    s_expect (s_search (c, "mad", "lopez", NULL, NULL, "jose@example.com", MESO_OK), NULL, 0);
    /* The name registered by the fixture ("Ana Lopez") was replaced. */
    s_expect (s_search (c, "mad", "ana lopez", "1985-01-20", NULL, NULL, MESO_OK), NULL, 0);
    /* The other clinic's Ana Lopez is found there only. */
    const char *other[] = { s_w.other };
    s_expect (s_search (c, "bcn", "ana lopez", NULL, NULL, NULL, MESO_OK), other, 1);
    /* Nothing to search for, a bad date: the field is named. */
    s_search (c, "mad", "  -- ", NULL, NULL, NULL, MESO_INVALID_ARGUMENT);
    s_search (c, "mad", NULL, "1990-13-01", NULL, NULL, MESO_INVALID_ARGUMENT);
    /* The table holds no name: only keyed hashes. */
    assert_int_equal (fx_sql (s_w.fx, "SELECT count(*) FROM screening.patient_search"
                                      " WHERE position(convert_to('lopez', 'UTF8') IN token) > 0", NULL), 0);
    assert_true (fx_sql (s_w.fx, "SELECT count(*) FROM screening.patient_search WHERE patient_id = $1::uuid",
                         s_w.ana) > 10);
}

static void
test_search_scope (void **state)
{
    (void) state;
    zcert_t *cert = mt_principal_add (s_w.fx->admin, "desk-mad", "person", "{front_desk}", "{mad}", NULL, false);
    assert_non_null (cert);
    meso_bus_client_t *c = NULL;
    for (int attempt = 0; attempt < 30 && !c; attempt++) {
        c = mt_client_as (s_w.fx->screening_ep, cert);
        meso_result_t r = { 0 };
        meso_bus_client_call (c, "Health", NULL, NULL, 3000, &r);
        if (r.status != MESO_OK) {
            meso_bus_client_destroy (&c);
            mt_sleep_ms (100);
        }
        meso_result_reset (&r);
    }
    assert_non_null (c);
    const char *ana[] = { s_w.ana };
    s_expect (s_search (c, "mad", "ana lopez", NULL, NULL, NULL, MESO_OK), ana, 1);
    /* The other clinic's patient: not in this desk's scope. */
    s_search (c, "bcn", "ana lopez", NULL, NULL, NULL, MESO_PERMISSION_DENIED);
    /* GetPatients is for services only. */
    Meso__V1__GetPatientsRequest gp = MESO__V1__GET_PATIENTS_REQUEST__INIT;
    char *ids[] = { s_w.other };
    gp.clinic_id = "mad";
    gp.patient_ids = ids;
    gp.n_patient_ids = 1;
    meso_result_t r = { 0 };
    assert_int_equal (fx_call (s_w.fx, c, "screening.GetPatients", &gp.base, NULL, &r), MESO_PERMISSION_DENIED);
    meso_result_reset (&r);
    meso_bus_client_destroy (&c);
    zcert_destroy (&cert);
}

static void
test_lookups (void **state)
{
    (void) state;
    meso_result_t r = { 0 };
    size_t len;
    const uint8_t *b;
    Meso__V1__ListPractitionersRequest lp = MESO__V1__LIST_PRACTITIONERS_REQUEST__INIT;
    lp.clinic_id = "mad";
    assert_int_equal (fx_call (s_w.fx, s_w.fx->sch, "scheduling.ListPractitioners", &lp.base, NULL, &r), MESO_OK);
    b = meso_result_body (&r, &len);
    Meso__V1__ListPractitionersReply *p = meso__v1__list_practitioners_reply__unpack (NULL, len, b);
    assert_non_null (p);
    assert_int_equal (p->n_practitioners, 2);
    assert_string_equal (p->practitioners[0]->practitioner_id, "dr-alba");
    assert_string_equal (p->practitioners[0]->name, "Dra. Alba Ruiz");
    assert_int_equal (p->practitioners[0]->n_clinics, 1);
    assert_int_equal (p->practitioners[0]->clinics[0]->n_hours, 7);
    assert_string_equal (p->practitioners[0]->clinics[0]->hours[0]->opens, "00:00");
    assert_int_equal (p->practitioners[0]->n_days_off, 1);
    assert_string_equal (p->practitioners[0]->days_off[0], "2027-12-25");
    meso__v1__list_practitioners_reply__free_unpacked (p, NULL);
    /* Rooms, one page at a time. */
    Meso__V1__ListRoomsRequest lr = MESO__V1__LIST_ROOMS_REQUEST__INIT;
    lr.clinic_id = "mad";
    lr.page_size = 1;
    assert_int_equal (fx_call (s_w.fx, s_w.fx->sch, "scheduling.ListRooms", &lr.base, NULL, &r), MESO_OK);
    b = meso_result_body (&r, &len);
    Meso__V1__ListRoomsReply *rm = meso__v1__list_rooms_reply__unpack (NULL, len, b);
    assert_int_equal (rm->n_rooms, 1);
    assert_string_equal (rm->rooms[0]->name, "Sala Norte");
    char token[600];
    snprintf (token, sizeof token, "%s", rm->next_page_token);
    meso__v1__list_rooms_reply__free_unpacked (rm, NULL);
    lr.page_token = token;
    assert_int_equal (fx_call (s_w.fx, s_w.fx->sch, "scheduling.ListRooms", &lr.base, NULL, &r), MESO_OK);
    b = meso_result_body (&r, &len);
    rm = meso__v1__list_rooms_reply__unpack (NULL, len, b);
    assert_int_equal (rm->n_rooms, 1);
    assert_string_equal (rm->rooms[0]->room_id, "r2");
    assert_string_equal (rm->next_page_token, "");
    meso__v1__list_rooms_reply__free_unpacked (rm, NULL);
    Meso__V1__ListClinicsRequest lc = MESO__V1__LIST_CLINICS_REQUEST__INIT;
    assert_int_equal (fx_call (s_w.fx, s_w.fx->sch, "scheduling.ListClinics", &lc.base, NULL, &r), MESO_OK);
    b = meso_result_body (&r, &len);
    Meso__V1__ListClinicsReply *cl = meso__v1__list_clinics_reply__unpack (NULL, len, b);
    assert_int_equal (cl->n_clinics, 2);
    assert_string_equal (cl->clinics[0]->clinic_id, "bcn");
    assert_string_equal (cl->clinics[1]->name, "Madrid Centro");
    assert_string_equal (cl->clinics[1]->time_zone, "Europe/Madrid");
    assert_int_equal (cl->clinics[1]->n_hours, 7);
    meso__v1__list_clinics_reply__free_unpacked (cl, NULL);
    meso_result_reset (&r);
}

/* An inventory that has just started knows no clinic yet: asked by
 * scheduling for the agenda's stock, it must answer without asking
 * scheduling back whether the clinic exists (scheduling is waiting for
 * it, serving the agenda): the stock state is there, no warning. */
static void
test_agenda_after_inventory_restart (void **state)
{
    (void) state;
    fx_t *fx = s_w.fx;
    assert_int_equal (mt_stop (fx->inventory_pid, SIGTERM), 0);
    char role[512], db[600], bind[300], sch[300];
    mt_role_conninfo (fx->dbname, "meso_inventory", role, sizeof role);
    snprintf (db, sizeof db, "--db=%s", role);
    snprintf (bind, sizeof bind, "--bind=%s", fx->inventory_ep);
    snprintf (sch, sizeof sch, "--scheduling=%s", fx->sched_ep[0]);
    const char *argv[] = { "meso-inventory", db, bind, "--events=", "--events-pub=tcp://127.0.0.1:7106", sch, NULL };
    fx->inventory_pid = mt_spawn ("bin/meso-inventory", argv, NULL);
    assert_true (fx->inventory_pid > 0);
    assert_int_equal (mt_wait_healthy (fx->inventory_ep, 10000), 0);
    int64_t t0 = meso_time_mono_ms ();
    Meso__V1__GetAgendaReply *a = s_agenda (NULL, "r2", 0, NULL);
    assert_true (meso_time_mono_ms () - t0 < 1000);
    assert_int_equal (a->n_warnings, 0);
    assert_int_equal (a->n_entries, 2);
    assert_int_equal (a->entries[0]->stock_state, MESO__V1__AGENDA_STOCK_STATE__AGENDA_STOCK_STATE_HELD);
    meso__v1__get_agenda_reply__free_unpacked (a, NULL);
}

static void
test_list_courses (void **state)
{
    (void) state;
    Meso__V1__ListCoursesRequest rq = MESO__V1__LIST_COURSES_REQUEST__INIT;
    rq.patient_id = s_w.ana;
    meso_result_t r = { 0 };
    assert_int_equal (fx_call (s_w.fx, s_w.fx->sch, "scheduling.ListCourses", &rq.base, NULL, &r), MESO_OK);
    size_t len;
    const uint8_t *b = meso_result_body (&r, &len);
    Meso__V1__ListCoursesReply *c = meso__v1__list_courses_reply__unpack (NULL, len, b);
    assert_non_null (c);
    assert_int_equal (c->n_courses, 1);
    assert_string_equal (c->courses[0]->clinic_id, "mad");
    assert_int_equal (c->courses[0]->sessions, 1);
    assert_int_equal (c->courses[0]->upcoming, 1);
    assert_int_equal (c->courses[0]->completed, 0);
    assert_string_equal (c->courses[0]->first_date, DAY);
    assert_string_equal (c->courses[0]->next_local_start, DAY "T01:00");
    assert_string_equal (c->courses[0]->areas[0], "thighs");
    meso__v1__list_courses_reply__free_unpacked (c, NULL);
    meso_result_reset (&r);
}

/* "mesoctl agenda" prints the day: one row per local time with its
 * offset, a column per room, the patients' names in their rooms. */
static void
test_mesoctl_timetable (void **state)
{
    (void) state;
    char out[256];
    snprintf (out, sizeof out, "%s/frontdesk-agenda.txt", mt_build_dir ());
    assert_int_equal (mt_sh ("env MESO_KEYS='%s' MESO_KEY='%s/tester.key_secret' %s/bin/mesoctl agenda"
                             " --clinic mad --date " DAY " --endpoint '%s' > '%s' 2>&1",
                             mt_keys (), mt_keys (), mt_build_dir (), s_w.fx->sched_ep[0], out), 0);
    FILE *f = fopen (out, "r");
    assert_non_null (f);
    char text[8192];
    size_t n = fread (text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose (f);
    fprintf (stderr, "%s", text);
    assert_non_null (strstr (text, "mad (Europe/Madrid), " DAY ": 5 sessions"));
    assert_non_null (strstr (text, "r1 Sala Norte"));
    assert_non_null (strstr (text, "r2 Sala Sur"));
    /* The 01:00 row has Ana in r1 and nobody in r2; the 10:00 row has
     * Björn in r1 and María Ana in r2. */
    const char *row1 = strstr (text, "01:00 +01:00 | Ana López García: thighs");
    assert_non_null (row1);
    const char *row10 = strstr (text, "10:00 +02:00 | Björn Ødegaard: thighs");
    assert_non_null (row10);
    const char *eol = strchr (row10, '\n');
    const char *maria = strstr (row10, "María Ana Pérez: thighs");
    assert_true (maria && maria < eol);
    assert_true (strstr (text, "01:30 +01:00") < row10);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_agenda_across_dst),
        cmocka_unit_test (test_agenda_filters),
        cmocka_unit_test (test_agenda_paging_with_inserts),
        cmocka_unit_test (test_agenda_after_inventory_restart),
        cmocka_unit_test (test_search),
        cmocka_unit_test (test_search_scope),
        cmocka_unit_test (test_lookups),
        cmocka_unit_test (test_list_courses),
        cmocka_unit_test (test_mesoctl_timetable),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
