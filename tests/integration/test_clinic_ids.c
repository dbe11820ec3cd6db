/* test_clinic_ids.c -- one clinic id syntax and one list of clinics for
 * the whole chain, against real PostgreSQL and real meso-scheduling,
 * meso-screening, meso-inventory and meso-billing over real sockets:
 *   - every request of every service that names a clinic refuses a
 *     malformed id ("ABC%", "Nope Clinic\n", "x'); --") with
 *     INVALID_ARGUMENT naming the field, and an unknown well-formed id
 *     with NOT_FOUND ("no clinic X in the chain"); either way no table of
 *     any service changes (a fingerprint of every row of every table);
 *   - a clinic created through scheduling.UpsertClinic is accepted by all;
 *   - with scheduling down, a clinic not seen before is refused
 *     UNAVAILABLE and nothing changes, while a clinic already confirmed
 *     is still served (the cache);
 *   - scheduling.GetClinic gives the clinic as stored;
 *   - DiscardExpired refuses an as_of after the clinic's local today (in
 *     its own time zone, far from UTC here) and changes nothing; as_of
 *     today still discards what has expired. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture_patient.h"
#include "harness.h"
#include "meso/bus.h"
#include "meso/db.h"
#include "billing.pb-c.h"
#include "inventory.pb-c.h"
#include "scheduling.pb-c.h"
#include "screening.pb-c.h"

enum { SCH, SCR, INV, BIL, NDAEMONS };
static const char *s_names[NDAEMONS] = { "scheduling", "screening", "inventory", "billing" };

typedef struct {
    char dbname[64];
    char admin[512];
    char ep[NDAEMONS][256];
    pid_t pid[NDAEMONS];
    meso_bus_client_t *c[NDAEMONS];
    meso_db_t *db;
    int key;
    char patient[40];           /* a registered patient (RecordScreening) */
    char lot[40];               /* a lot received in the first clinic (Transfer) */
    const char *other;          /* a second clinic that exists (Transfer) */
} fx_t;

/* ------------------------------------------------------------- fixture */

static pid_t
s_spawn (fx_t *fx, int d)
{
    char role[512], db[600], bind[300], a3[300], a4[300], rolename[32];
    snprintf (rolename, sizeof rolename, "meso_%s", s_names[d]);
    mt_role_conninfo (fx->dbname, rolename, role, sizeof role);
    snprintf (db, sizeof db, "--db=%s", role);
    snprintf (bind, sizeof bind, "--bind=%s", fx->ep[d]);
    if (d == SCH) {
        snprintf (a3, sizeof a3, "--screening=%s", fx->ep[SCR]);
        snprintf (a4, sizeof a4, "--inventory=%s", fx->ep[INV]);
    }
    else {
        snprintf (a3, sizeof a3, "--scheduling=%s", fx->ep[SCH]);
        if (d == SCR)
            snprintf (a4, sizeof a4, "--inventory=%s", fx->ep[INV]);
        else
            snprintf (a4, sizeof a4, "--log-level=info");
    }
    char path[64], exe[64];
    snprintf (exe, sizeof exe, "meso-%s", s_names[d]);
    snprintf (path, sizeof path, "bin/meso-%s", s_names[d]);
    /* No events daemon: inventory and billing consume nothing here. */
    const char *argv[] = { exe, db, bind, a3, a4, d == INV || d == BIL ? "--events=" : NULL, NULL };
    pid_t pid = mt_spawn (path, argv, NULL);
    assert_true (pid > 0);
    assert_int_equal (mt_wait_healthy (fx->ep[d], 10000), 0);
    return pid;
}

static fx_t *
s_setup (const char *name)
{
    fx_t *fx = calloc (1, sizeof *fx);
    assert_non_null (fx);
    snprintf (fx->dbname, sizeof fx->dbname, "%s", name);
    assert_int_equal (mt_db_create (name, fx->admin, sizeof fx->admin), 0);
    for (int d = 0; d < NDAEMONS; d++)
        mt_ipc_endpoint (s_names[d], fx->ep[d], sizeof fx->ep[d]);
    for (int d = 0; d < NDAEMONS; d++) {
        fx->pid[d] = s_spawn (fx, d);
        fx->c[d] = mt_client (fx->ep[d]);
        assert_non_null (fx->c[d]);
    }
    fx->db = meso_db_new (fx->admin);
    assert_true (meso_db_ok (fx->db));
    /* A well-formed patient id that names nobody, until one is registered. */
    snprintf (fx->patient, sizeof fx->patient, "00000000-0000-4000-8000-000000000000");
    snprintf (fx->lot, sizeof fx->lot, "no-lot");
    fx->other = "nowhere-else";
    return fx;
}

static void
s_teardown (fx_t *fx)
{
    for (int d = NDAEMONS - 1; d >= 0; d--) {
        meso_bus_client_destroy (&fx->c[d]);
        if (fx->pid[d] > 0)
            mt_stop (fx->pid[d], SIGTERM);
    }
    meso_db_destroy (&fx->db);
    free (fx);
}

static int
s_call (fx_t *fx, int d, const char *method, const ProtobufCMessage *body, meso_result_t *r)
{
    return mt_call (fx->c[d], method, body, NULL, &fx->key, r);
}

static int64_t
s_sql (fx_t *fx, const char *sql, const char *p1)
{
    int64_t v = 0;
    assert_int_equal (mt_sql_int (fx->db, sql, p1, &v), 0);
    return v;
}

/* md5 of every row of every table of the services' schemas and of the
 * outbox, table by table in name order, rows in text order: equal before
 * and after means no service changed anything. */
static void
s_fingerprint (fx_t *fx, char *out, size_t size)
{
    PGresult *tables = meso_db_query (fx->db,
        "SELECT quote_ident (table_schema) || '.' || quote_ident (table_name)"
        " FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
        " AND table_schema IN ('screening', 'inventory', 'billing', 'scheduling', 'events')"
        " ORDER BY 1", 0, NULL);
    assert_non_null (tables);
    assert_true (PQntuples (tables) > 20);
    char sql[512], all[16384] = "";
    for (int i = 0; i < PQntuples (tables); i++) {
        snprintf (sql, sizeof sql,
                  "SELECT md5 (coalesce (string_agg (t::text, '|' ORDER BY t::text), '')) FROM %s t",
                  PQgetvalue (tables, i, 0));
        PGresult *res = meso_db_query (fx->db, sql, 0, NULL);
        assert_non_null (res);
        snprintf (all + strlen (all), sizeof all - strlen (all), "%s=%s;", PQgetvalue (tables, i, 0),
                  PQgetvalue (res, 0, 0));
        PQclear (res);
    }
    PQclear (tables);
    snprintf (out, size, "%s", all);
}

static bool
s_reason (const meso_result_t *r, const char *code, const char *field)
{
    if (!r->reply)
        return false;
    for (size_t i = 0; i < r->reply->n_reasons; i++)
        if (strcmp (r->reply->reasons[i]->code, code) == 0
            && strcmp (r->reply->reasons[i]->field, field) == 0)
            return true;
    return false;
}

static void
s_upsert_clinic (fx_t *fx, const char *id, const char *zone)
{
    Meso__V1__Clinic c = MESO__V1__CLINIC__INIT;
    c.clinic_id = (char *) id;
    c.name = (char *) id;
    c.time_zone = (char *) zone;
    Meso__V1__UpsertClinicRequest rq = MESO__V1__UPSERT_CLINIC_REQUEST__INIT;
    rq.clinic = &c;
    meso_result_t r = { 0 };
    assert_int_equal (s_call (fx, SCH, "scheduling.UpsertClinic", &rq.base, &r), MESO_OK);
    meso_result_reset (&r);
}

static void
s_ingredient (fx_t *fx)
{
    Meso__V1__Ingredient ing = MESO__V1__INGREDIENT__INIT;
    ing.code = "caffeine";
    ing.name = "Caffeine";
    ing.unit = MESO__V1__UNIT__UNIT_MG;
    Meso__V1__UpsertIngredientRequest rq = MESO__V1__UPSERT_INGREDIENT_REQUEST__INIT;
    rq.ingredient = &ing;
    meso_result_t r = { 0 };
    assert_int_equal (s_call (fx, INV, "inventory.UpsertIngredient", &rq.base, &r), MESO_OK);
    meso_result_reset (&r);
}

/* A local date of zone, offset days from its today. */
static void
s_local_date (fx_t *fx, const char *zone, int offset, char *out, size_t size)
{
    char sql[160];
    snprintf (sql, sizeof sql, "SELECT ((now () AT TIME ZONE $1)::date + %d)::text", offset);
    const char *p[] = { zone };
    PGresult *res = meso_db_query (fx->db, sql, 1, p);
    assert_non_null (res);
    snprintf (out, size, "%s", PQgetvalue (res, 0, 0));
    PQclear (res);
}

/* ------------------------------------------- every request with a clinic */

/* One request naming a clinic: sends it with clinic in field. */
typedef struct {
    int daemon;
    const char *method;
    const char *field;          /* the field the clinic goes in, as reasons name it */
    int (*send) (fx_t *fx, const char *clinic, meso_result_t *r);
    int accepted;               /* its status once the clinic exists */
} s_request_t;

static int
s_register (fx_t *fx, const char *clinic, meso_result_t *r)
{
    Meso__V1__Patient p = MESO__V1__PATIENT__INIT;
    p.given_name = "Ana";
    p.family_name = "Lopez";
    p.birth_date = "1990-05-04";
    p.sex = MESO__V1__SEX__SEX_FEMALE;
    p.home_clinic_id = (char *) clinic;
    Meso__V1__RegisterPatientRequest rq = MESO__V1__REGISTER_PATIENT_REQUEST__INIT;
    rq.patient = &p;
    int st = s_call (fx, SCR, "screening.RegisterPatient", &rq.base, r);
    if (st == MESO_OK) {
        size_t len;
        const uint8_t *body = meso_result_body (r, &len);
        Meso__V1__RegisterPatientReply *out = meso__v1__register_patient_reply__unpack (NULL, len, body);
        assert_non_null (out);
        snprintf (fx->patient, sizeof fx->patient, "%s", out->patient->id);
        meso__v1__register_patient_reply__free_unpacked (out, NULL);
    }
    return st;
}

static int
s_settings (fx_t *fx, const char *clinic, meso_result_t *r)
{
    Meso__V1__ClinicSettings cs = MESO__V1__CLINIC_SETTINGS__INIT;
    cs.clinic_id = (char *) clinic;
    cs.max_age = 60;
    Meso__V1__SetClinicSettingsRequest rq = MESO__V1__SET_CLINIC_SETTINGS_REQUEST__INIT;
    rq.settings = &cs;
    return s_call (fx, SCR, "screening.SetClinicSettings", &rq.base, r);
}

static int
s_screening (fx_t *fx, const char *clinic, meso_result_t *r)
{
    mt_answers_t a;
    mt_answers_eligible (&a, 2);
    Meso__V1__RecordScreeningRequest rq = MESO__V1__RECORD_SCREENING_REQUEST__INIT;
    rq.patient_id = fx->patient;
    rq.clinic_id = (char *) clinic;
    rq.answers = &a.q;
    return s_call (fx, SCR, "screening.RecordScreening", &rq.base, r);
}

static int
s_receive_in (fx_t *fx, const char *clinic, const char *lot_number, const char *expiry,
              meso_result_t *r, char *lot_id)
{
    Meso__V1__ReceiveRequest rq = MESO__V1__RECEIVE_REQUEST__INIT;
    rq.clinic_id = (char *) clinic;
    rq.ingredient_code = "caffeine";
    rq.lot_number = (char *) lot_number;
    rq.expiry_date = (char *) expiry;
    rq.quantity_milli = 500000;
    int st = s_call (fx, INV, "inventory.Receive", &rq.base, r);
    if (st == MESO_OK && lot_id) {
        size_t len;
        const uint8_t *body = meso_result_body (r, &len);
        Meso__V1__ReceiveReply *out = meso__v1__receive_reply__unpack (NULL, len, body);
        assert_non_null (out);
        snprintf (lot_id, 40, "%s", out->lot->lot_id);
        meso__v1__receive_reply__free_unpacked (out, NULL);
    }
    return st;
}

static int
s_receive (fx_t *fx, const char *clinic, meso_result_t *r)
{
    return s_receive_in (fx, clinic, "CAF-1", "2099-01-01", r, fx->lot);
}

static int
s_transfer (fx_t *fx, const char *from, const char *to, meso_result_t *r)
{
    Meso__V1__TransferRequest rq = MESO__V1__TRANSFER_REQUEST__INIT;
    rq.from_clinic_id = (char *) from;
    rq.to_clinic_id = (char *) to;
    rq.lot_id = fx->lot;
    rq.quantity_milli = 1000;
    int st = s_call (fx, INV, "inventory.Transfer", &rq.base, r);
    if (st == MESO_OK) {
        /* The next transfer moves the lot that received this one. */
        size_t len;
        const uint8_t *body = meso_result_body (r, &len);
        Meso__V1__TransferReply *out = meso__v1__transfer_reply__unpack (NULL, len, body);
        assert_non_null (out);
        snprintf (fx->lot, sizeof fx->lot, "%s", out->to_lot->lot_id);
        meso__v1__transfer_reply__free_unpacked (out, NULL);
    }
    return st;
}

/* Out of the clinic under test into the other one (its lot, received
 * just before), then back. Refusals must come from the clinic check,
 * before the lot is looked at. */
static int
s_transfer_from (fx_t *fx, const char *clinic, meso_result_t *r)
{
    return s_transfer (fx, clinic, fx->other, r);
}

static int
s_transfer_to (fx_t *fx, const char *clinic, meso_result_t *r)
{
    return s_transfer (fx, fx->other, clinic, r);
}

static int
s_reorder (fx_t *fx, const char *clinic, meso_result_t *r)
{
    Meso__V1__SetReorderPointRequest rq = MESO__V1__SET_REORDER_POINT_REQUEST__INIT;
    rq.clinic_id = (char *) clinic;
    rq.ingredient_code = "caffeine";
    rq.reorder_point_milli = 1000;
    return s_call (fx, INV, "inventory.SetReorderPoint", &rq.base, r);
}

static int
s_stock (fx_t *fx, const char *clinic, meso_result_t *r)
{
    Meso__V1__GetStockRequest rq = MESO__V1__GET_STOCK_REQUEST__INIT;
    rq.clinic_id = (char *) clinic;
    return s_call (fx, INV, "inventory.GetStock", &rq.base, r);
}

static int
s_discard (fx_t *fx, const char *clinic, meso_result_t *r)
{
    Meso__V1__DiscardExpiredRequest rq = MESO__V1__DISCARD_EXPIRED_REQUEST__INIT;
    rq.clinic_id = (char *) clinic;
    return s_call (fx, INV, "inventory.DiscardExpired", &rq.base, r);
}

static int
s_price_list (fx_t *fx, const char *clinic, meso_result_t *r)
{
    Meso__V1__PriceEntry e = MESO__V1__PRICE_ENTRY__INIT;
    e.areas = 1;
    e.price_cents = 35000;
    Meso__V1__PriceEntry *ep[] = { &e };
    Meso__V1__PriceList pl = MESO__V1__PRICE_LIST__INIT;
    pl.clinic_id = (char *) clinic;
    pl.effective_from = "2026-01-01";
    pl.currency = "EUR";
    pl.prices = ep;
    pl.n_prices = 1;
    Meso__V1__SetPriceListRequest rq = MESO__V1__SET_PRICE_LIST_REQUEST__INIT;
    rq.price_list = &pl;
    return s_call (fx, BIL, "billing.SetPriceList", &rq.base, r);
}

static int
s_get_price_list (fx_t *fx, const char *clinic, meso_result_t *r)
{
    Meso__V1__GetPriceListRequest rq = MESO__V1__GET_PRICE_LIST_REQUEST__INIT;
    rq.clinic_id = (char *) clinic;
    return s_call (fx, BIL, "billing.GetPriceList", &rq.base, r);
}

static int
s_fee_policy (fx_t *fx, const char *clinic, meso_result_t *r)
{
    Meso__V1__FeePolicy fp = MESO__V1__FEE_POLICY__INIT;
    fp.clinic_id = (char *) clinic;
    fp.no_show_fee_cents = 3000;
    Meso__V1__SetFeePolicyRequest rq = MESO__V1__SET_FEE_POLICY_REQUEST__INIT;
    rq.policy = &fp;
    return s_call (fx, BIL, "billing.SetFeePolicy", &rq.base, r);
}

static int
s_statement (fx_t *fx, const char *clinic, meso_result_t *r)
{
    Meso__V1__GetStatementRequest rq = MESO__V1__GET_STATEMENT_REQUEST__INIT;
    rq.clinic_id = (char *) clinic;
    rq.patient_id = fx->patient;
    return s_call (fx, BIL, "billing.GetStatement", &rq.base, r);
}

/* In the order the accepted case needs: the patient before its
 * screening, the lot before its transfer, the price list before reading
 * it. */
static const s_request_t s_requests[] = {
    { SCR, "screening.RegisterPatient", "patient.home_clinic_id", s_register, MESO_OK },
    { SCR, "screening.SetClinicSettings", "settings.clinic_id", s_settings, MESO_OK },
    { SCR, "screening.RecordScreening", "clinic_id", s_screening, MESO_OK },
    { INV, "inventory.Receive", "clinic_id", s_receive, MESO_OK },
    { INV, "inventory.Transfer", "from_clinic_id", s_transfer_from, MESO_OK },
    { INV, "inventory.Transfer", "to_clinic_id", s_transfer_to, MESO_OK },
    { INV, "inventory.SetReorderPoint", "clinic_id", s_reorder, MESO_OK },
    { INV, "inventory.GetStock", "clinic_id", s_stock, MESO_OK },
    { INV, "inventory.DiscardExpired", "clinic_id", s_discard, MESO_OK },
    { BIL, "billing.SetPriceList", "price_list.clinic_id", s_price_list, MESO_OK },
    { BIL, "billing.GetPriceList", "clinic_id", s_get_price_list, MESO_OK },
    { BIL, "billing.SetFeePolicy", "policy.clinic_id", s_fee_policy, MESO_OK },
    /* billing never heard of the patient (no events here) */
    { BIL, "billing.GetStatement", "clinic_id", s_statement, MESO_NOT_FOUND },
};
#define NREQUESTS (sizeof s_requests / sizeof s_requests[0])

/* ---------------------------------------------------------------- tests */

/* Malformed ids: INVALID_ARGUMENT naming the field, nothing changed. */
static void
test_malformed_clinic_id_is_invalid_everywhere (void **state)
{
    (void) state;
    fx_t *fx = s_setup ("clinic_ids_malformed");
    s_ingredient (fx);
    s_upsert_clinic (fx, "paris-1", "Europe/Paris");
    fx->other = "paris-1";
    const char *bad[] = { "ABC%", "Nope Clinic\n", "x'); --", "no such clinic!",
                          "a-very-long-clinic-id-that-runs-past-the-sixty-four-bytes-limit-x" };
    char before[16384], after[16384];
    s_fingerprint (fx, before, sizeof before);
    for (size_t i = 0; i < NREQUESTS; i++)
        for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
            meso_result_t r = { 0 };
            int st = s_requests[i].send (fx, bad[b], &r);
            if (st != MESO_INVALID_ARGUMENT || !s_reason (&r, "invalid_id", s_requests[i].field))
                fail_msg ("%s with %s \"%s\": status %d (%s), expected INVALID_ARGUMENT naming %s",
                          s_requests[i].method, s_requests[i].field, bad[b], st, r.message,
                          s_requests[i].field);
            meso_result_reset (&r);
        }
    s_fingerprint (fx, after, sizeof after);
    assert_string_equal (before, after);
    s_teardown (fx);
}

/* Well-formed ids of no clinic: NOT_FOUND, nothing changed; then, once
 * scheduling has the clinic, every request is accepted and took effect. */
static void
test_unknown_clinic_not_found_then_accepted (void **state)
{
    (void) state;
    fx_t *fx = s_setup ("clinic_ids_unknown");
    s_ingredient (fx);
    s_upsert_clinic (fx, "lyon-1", "Europe/Paris");
    fx->other = "lyon-1";
    char before[16384], after[16384];
    s_fingerprint (fx, before, sizeof before);
    for (size_t i = 0; i < NREQUESTS; i++) {
        meso_result_t r = { 0 };
        int st = s_requests[i].send (fx, "paris-1", &r);
        if (st != MESO_NOT_FOUND || !s_reason (&r, "unknown_clinic", s_requests[i].field)
            || strcmp (r.message, "no clinic paris-1 in the chain") != 0)
            fail_msg ("%s with unknown %s: status %d (%s), expected NOT_FOUND", s_requests[i].method,
                      s_requests[i].field, st, r.message);
        meso_result_reset (&r);
    }
    s_fingerprint (fx, after, sizeof after);
    assert_string_equal (before, after);

    /* Created through scheduling: accepted at once (no negative answer
     * was kept). */
    s_upsert_clinic (fx, "paris-1", "Europe/Paris");
    for (size_t i = 0; i < NREQUESTS; i++) {
        meso_result_t r = { 0 };
        int st = s_requests[i].send (fx, "paris-1", &r);
        if (st != s_requests[i].accepted || s_reason (&r, "unknown_clinic", s_requests[i].field))
            fail_msg ("%s with %s paris-1: status %d (%s)", s_requests[i].method, s_requests[i].field,
                      st, r.message);
        meso_result_reset (&r);
    }
    assert_int_equal (s_sql (fx, "SELECT count (*) FROM screening.patients WHERE home_clinic_id = $1", "paris-1"), 1);
    assert_int_equal (s_sql (fx, "SELECT max_age FROM screening.clinic_settings WHERE clinic_id = $1", "paris-1"), 60);
    assert_int_equal (s_sql (fx, "SELECT count (*) FROM screening.screenings WHERE clinic_id = $1", "paris-1"), 1);
    assert_int_equal (s_sql (fx, "SELECT sum (on_hand_milli) FROM inventory.lot WHERE clinic_id = $1", "paris-1"), 500000);
    assert_int_equal (s_sql (fx, "SELECT count (*) FROM inventory.movement WHERE kind = $1", "transfer_in"), 2);
    assert_int_equal (s_sql (fx, "SELECT reorder_point_milli FROM inventory.reorder_point WHERE clinic_id = $1", "paris-1"), 1000);
    assert_int_equal (s_sql (fx, "SELECT count (*) FROM billing.price WHERE clinic_id = $1", "paris-1"), 1);
    assert_int_equal (s_sql (fx, "SELECT no_show_fee_cents FROM billing.clinic_settings WHERE clinic_id = $1", "paris-1"), 3000);
    s_teardown (fx);
}

/* scheduling.GetClinic: the clinic as stored; NOT_FOUND and
 * INVALID_ARGUMENT like any method. */
static void
test_get_clinic (void **state)
{
    (void) state;
    fx_t *fx = s_setup ("clinic_ids_get");
    s_upsert_clinic (fx, "tokyo-1", "Asia/Tokyo");
    Meso__V1__GetClinicRequest rq = MESO__V1__GET_CLINIC_REQUEST__INIT;
    rq.clinic_id = "tokyo-1";
    meso_result_t r = { 0 };
    assert_int_equal (s_call (fx, SCH, "scheduling.GetClinic", &rq.base, &r), MESO_OK);
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__GetClinicReply *out = meso__v1__get_clinic_reply__unpack (NULL, len, body);
    assert_non_null (out);
    assert_string_equal (out->clinic->clinic_id, "tokyo-1");
    assert_string_equal (out->clinic->name, "tokyo-1");
    assert_string_equal (out->clinic->time_zone, "Asia/Tokyo");
    assert_int_equal (out->clinic->slot_minutes, 60);
    assert_int_equal (out->clinic->course->spacing_min_days, 7);
    meso__v1__get_clinic_reply__free_unpacked (out, NULL);
    meso_result_reset (&r);
    rq.clinic_id = "osaka-1";
    assert_int_equal (s_call (fx, SCH, "scheduling.GetClinic", &rq.base, &r), MESO_NOT_FOUND);
    meso_result_reset (&r);
    rq.clinic_id = "Osaka 1";
    assert_int_equal (s_call (fx, SCH, "scheduling.GetClinic", &rq.base, &r), MESO_INVALID_ARGUMENT);
    meso_result_reset (&r);
    s_teardown (fx);
}

/* Scheduling down: a clinic not confirmed yet cannot be checked, so the
 * request is refused UNAVAILABLE (retry) and changes nothing; a clinic
 * confirmed before is served from the cache. */
static void
test_scheduling_down (void **state)
{
    (void) state;
    fx_t *fx = s_setup ("clinic_ids_down");
    s_ingredient (fx);
    s_upsert_clinic (fx, "paris-1", "Europe/Paris");
    s_upsert_clinic (fx, "lyon-1", "Europe/Paris");
    meso_result_t r = { 0 };
    assert_int_equal (s_register (fx, "paris-1", &r), MESO_OK);
    meso_result_reset (&r);
    assert_int_equal (s_receive (fx, "paris-1", &r), MESO_OK);
    meso_result_reset (&r);
    assert_int_equal (s_fee_policy (fx, "paris-1", &r), MESO_OK);
    meso_result_reset (&r);
    assert_int_equal (mt_stop (fx->pid[SCH], SIGTERM), 0);
    fx->pid[SCH] = 0;

    char before[16384], after[16384];
    s_fingerprint (fx, before, sizeof before);
    int (*sends[]) (fx_t *, const char *, meso_result_t *) = { s_register, s_receive, s_fee_policy };
    for (size_t i = 0; i < 3; i++) {
        int st = sends[i] (fx, "lyon-1", &r);
        if (st != MESO_UNAVAILABLE
            || strcmp (r.message, "cannot check clinic lyon-1: scheduling did not answer") != 0)
            fail_msg ("request %zu with lyon-1, scheduling down: status %d (%s)", i, st, r.message);
        meso_result_reset (&r);
    }
    s_fingerprint (fx, after, sizeof after);
    assert_string_equal (before, after);

    /* paris-1 was confirmed: still served. */
    assert_int_equal (s_register (fx, "paris-1", &r), MESO_OK);
    meso_result_reset (&r);
    assert_int_equal (s_stock (fx, "paris-1", &r), MESO_OK);
    meso_result_reset (&r);
    assert_int_equal (s_sql (fx, "SELECT count (*) FROM screening.patients WHERE home_clinic_id = $1", "paris-1"), 2);
    s_teardown (fx);
}

/* DiscardExpired as of a day after the clinic's local today would throw
 * good stock away: refused with that today in the message, nothing
 * discarded. The clinic lives at UTC+14, so its today is not the
 * daemon's (UTC) today for ten hours of every day. */
static void
test_discard_future_as_of (void **state)
{
    (void) state;
    fx_t *fx = s_setup ("clinic_ids_discard");
    const char *zone = "Pacific/Kiritimati";
    s_ingredient (fx);
    s_upsert_clinic (fx, "kiri-1", zone);
    char today[16], tomorrow[16], later[16], gone[40], good[40];
    s_local_date (fx, zone, 0, today, sizeof today);
    s_local_date (fx, zone, 1, tomorrow, sizeof tomorrow);
    s_local_date (fx, zone, 700, later, sizeof later);
    meso_result_t r = { 0 };
    assert_int_equal (s_receive_in (fx, "kiri-1", "CAF-GOOD", later, &r, good), MESO_OK);
    meso_result_reset (&r);
    assert_int_equal (s_receive_in (fx, "kiri-1", "CAF-GONE", later, &r, gone), MESO_OK);
    meso_result_reset (&r);
    /* Time passes for CAF-GONE: it expired yesterday, clinic time. */
    assert_int_equal (s_sql (fx, "WITH u AS (UPDATE inventory.lot SET expiry_date ="
                             " (now () AT TIME ZONE 'Pacific/Kiritimati')::date - 1"
                             " WHERE lot_id = $1 RETURNING 1) SELECT count (*) FROM u", gone), 1);

    char before[16384], after[16384], expect[128];
    s_fingerprint (fx, before, sizeof before);
    const char *future[] = { tomorrow, later, "9999-12-31" };
    for (size_t i = 0; i < 3; i++) {
        Meso__V1__DiscardExpiredRequest rq = MESO__V1__DISCARD_EXPIRED_REQUEST__INIT;
        rq.clinic_id = "kiri-1";
        rq.as_of = (char *) future[i];
        assert_int_equal (s_call (fx, INV, "inventory.DiscardExpired", &rq.base, &r), MESO_INVALID_ARGUMENT);
        snprintf (expect, sizeof expect, "as_of %s is after today (%s) in clinic kiri-1", future[i], today);
        assert_string_equal (r.message, expect);
        assert_true (s_reason (&r, "in_the_future", "as_of"));
        meso_result_reset (&r);
    }
    s_fingerprint (fx, after, sizeof after);
    assert_string_equal (before, after);
    assert_int_equal (s_sql (fx, "SELECT on_hand_milli FROM inventory.lot WHERE lot_id = $1", good), 500000);

    /* As of the clinic's today: the expired lot goes, the good one stays. */
    Meso__V1__DiscardExpiredRequest rq = MESO__V1__DISCARD_EXPIRED_REQUEST__INIT;
    rq.clinic_id = "kiri-1";
    rq.as_of = today;
    assert_int_equal (s_call (fx, INV, "inventory.DiscardExpired", &rq.base, &r), MESO_OK);
    meso_result_reset (&r);
    assert_int_equal (s_sql (fx, "SELECT on_hand_milli FROM inventory.lot WHERE lot_id = $1", gone), 0);
    assert_int_equal (s_sql (fx, "SELECT on_hand_milli FROM inventory.lot WHERE lot_id = $1", good), 500000);
    assert_int_equal (s_sql (fx, "SELECT count (*) FROM inventory.movement WHERE kind = $1", "discard"), 1);
    s_teardown (fx);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_malformed_clinic_id_is_invalid_everywhere),
        cmocka_unit_test (test_unknown_clinic_not_found_then_accepted),
        cmocka_unit_test (test_get_clinic),
        cmocka_unit_test (test_scheduling_down),
        cmocka_unit_test (test_discard_future_as_of),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
