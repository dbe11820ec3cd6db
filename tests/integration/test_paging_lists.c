/* test_paging_lists.c -- the paged list methods of screening, scheduling
 * and inventory, against real PostgreSQL and real meso-screening,
 * meso-inventory and meso-scheduling daemons over real sockets. For each
 * of GetScreening (history), GetConsents, GetCourse (by patient),
 * ListAtRisk, GetStock (lots) and Recall (sessions and uncovered, cut
 * from the reply the recall stored under its key), a list of 5 read with
 * a page_size of 2
 * comes as 2, 2 and 1 items, each item once, in the list's order, the
 * last page without a next_page_token; and a garbled token or a token of
 * another list is refused with INVALID_ARGUMENT naming page_token.
 * (billing's lists: test_paging_billing.c.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "meso/page.h"
#include "scheduling_fixture.h"

/* One list method to walk: how to ask for a page and read what came. */
typedef struct {
    const char *method;
    meso_bus_client_t *c;
    ProtobufCMessage *rq;                       /* the request, page fields set by walk */
    uint32_t *page_size;                        /* its page_size field */
    char **page_token;                          /* its page_token field */
    const ProtobufCMessageDescriptor *reply;
    /* Item i of a reply as a string (its id), the item count, the token. */
    size_t (*count) (const ProtobufCMessage *m);
    const char *(*id) (const ProtobufCMessage *m, size_t i);
    const char *(*next) (const ProtobufCMessage *m);
} s_list_t;

/* Walks l by pages of 2: 5 items as 2, 2, 1, none twice. Writes the first
 * page's token into token0 (for the cross-list check). */
static void
s_walk (fx_t *fx, const s_list_t *l, char *token0)
{
    char token[MESO_PAGE_TOKEN_MAX] = "";
    char seen[5][80];
    size_t want[] = { 2, 2, 1 }, n = 0;
    for (int p = 0; p < 3; p++) {
        *l->page_size = 2;
        *l->page_token = token;
        meso_result_t r = { 0 };
        int st = fx_call (fx, l->c, l->method, l->rq, NULL, &r);
        if (st != MESO_OK)
            fail_msg ("%s page %d: status %d %s", l->method, p, st, r.reply ? r.reply->message : "");
        size_t len;
        const uint8_t *b = meso_result_body (&r, &len);
        ProtobufCMessage *m = protobuf_c_message_unpack (l->reply, NULL, len, b);
        assert_non_null (m);
        if (l->count (m) != want[p])
            fail_msg ("%s page %d: %zu items, want %zu", l->method, p, l->count (m), want[p]);
        for (size_t i = 0; i < l->count (m); i++) {
            for (size_t j = 0; j < n; j++)
                assert_string_not_equal (seen[j], l->id (m, i));
            snprintf (seen[n++], sizeof seen[0], "%s", l->id (m, i));
        }
        assert_int_equal (*l->next (m) != '\0', p < 2);
        snprintf (token, sizeof token, "%s", l->next (m));
        if (p == 0)
            snprintf (token0, MESO_PAGE_TOKEN_MAX, "%s", token);
        protobuf_c_message_free_unpacked (m, NULL);
        meso_result_reset (&r);
    }
    assert_int_equal (n, 5);
}

/* A garbled token and other's token are refused naming page_token. */
static void
s_refuses (fx_t *fx, const s_list_t *l, const char *other)
{
    const char *bad[] = { "not a token", "cDEAAAAAAAAAAAAAAAAAAAAAAAAAA", other };
    for (int i = 0; i < 3; i++) {
        *l->page_size = 0;
        *l->page_token = (char *) bad[i];
        meso_result_t r = { 0 };
        assert_int_equal (fx_call (fx, l->c, l->method, l->rq, NULL, &r), MESO_INVALID_ARGUMENT);
        bool named = false;
        for (size_t k = 0; k < r.reply->n_reasons; k++)
            named |= strcmp (r.reply->reasons[k]->field, "page_token") == 0;
        if (!named)
            fail_msg ("%s: token %d refused without naming page_token", l->method, i);
        meso_result_reset (&r);
    }
    *l->page_token = "";
}

#define S_ACCESSORS(name, T, field, idexpr)                                              \
    static size_t name##_count (const ProtobufCMessage *m) { return ((const T *) m)->n_##field; } \
    static const char *name##_id (const ProtobufCMessage *m, size_t i)                   \
    {                                                                                    \
        const T *r = (const T *) m;                                                      \
        return idexpr;                                                                   \
    }                                                                                    \
    static const char *name##_next (const ProtobufCMessage *m) { return ((const T *) m)->next_page_token; }

S_ACCESSORS (scr, Meso__V1__GetScreeningReply, history, r->history[i]->id)
S_ACCESSORS (con, Meso__V1__GetConsentsReply, signatures, r->signatures[i]->signature_id)
S_ACCESSORS (crs, Meso__V1__GetCourseReply, courses, r->courses[i]->course_id)
S_ACCESSORS (risk, Meso__V1__ListAtRiskReply, sessions, r->sessions[i]->appointment_id)
S_ACCESSORS (stk, Meso__V1__GetStockReply, lots, r->lots[i]->lot_id)

static void
test_lists_walk_by_twos (void **state)
{
    (void) state;
    fx_t *fx = fx_setup ("pg_lists", 1);
    const char *pr[] = { "dr-a" }, *rm[] = { "room-1" };
    fx_clinic (fx, "par", "Europe/Paris", pr, 1, rm, 1, true);
    char pat[40];
    fx_patient (fx, "par", NULL, false, pat);
    meso_result_t r = { 0 };

    /* Four more screenings (five in the history), four more consent
     * versions signed (five signatures). */
    for (int i = 0; i < 4; i++) {
        Meso__V1__Questionnaire q = MESO__V1__QUESTIONNAIRE__INIT;
        Meso__V1__Answer no = MESO__V1__ANSWER__ANSWER_NO;
        q.pregnancy = q.breastfeeding = q.diabetes = q.active_infection = no;
        q.septicaemia = q.immunocompromised = q.liver_failure = q.kidney_failure = no;
        q.coagulation_disorder = q.menstrual_disorder = q.cancer = no;
        q.heart_arrhythmia = q.blood_clots = no;
        q.height_mm = 1700;
        q.weight_g = 65000 + i;
        Meso__V1__AreaGrade ag = MESO__V1__AREA_GRADE__INIT;
        ag.area = "thighs";
        ag.grade = 2;
        Meso__V1__AreaGrade *ags[] = { &ag };
        q.areas = ags;
        q.n_areas = 1;
        Meso__V1__RecordScreeningRequest sr = MESO__V1__RECORD_SCREENING_REQUEST__INIT;
        sr.patient_id = pat;
        sr.clinic_id = "par";
        sr.answers = &q;
        assert_int_equal (fx_call (fx, fx->scr, "screening.RecordScreening", &sr.base, NULL, &r), MESO_OK);
        char text[128];
        snprintf (text, sizeof text, "%s (version %d)", FX_CONSENT_TEXT, i + 2);
        Meso__V1__SetConsentTextRequest ct = MESO__V1__SET_CONSENT_TEXT_REQUEST__INIT;
        ct.clinic_id = "par";
        ct.treatment = "body_mesotherapy";
        ct.text = text;
        assert_int_equal (fx_call (fx, fx->scr, "screening.SetConsentText", &ct.base, NULL, &r), MESO_OK);
        assert_int_equal (fx_sign_consent (fx, pat, "par", (uint32_t) i + 2), MESO_OK);
    }
    /* Five single sessions (five courses) two weeks apart, each holding
     * caffeine from lot CAF-1; then CAF-1 is recalled with no other
     * caffeine: five sessions at risk. */
    for (int i = 0; i < 5; i++) {
        char day[16], at[20];
        fx_day (2 + 14 * i, day);
        snprintf (at, sizeof at, "%.10sT10:00", day);
        if (fx_book_session (fx, fx->sch, "par", pat, "dr-a", "room-1", at, 60, NULL, &r) != MESO_OK)
            fail_msg ("BookSession %s: %s", at, r.reply ? r.reply->message : "");
    }
    Meso__V1__RecallRequest rc = MESO__V1__RECALL_REQUEST__INIT;
    Meso__V1__SupplierLot c1 = MESO__V1__SUPPLIER_LOT__INIT;
    c1.ingredient_code = "caffeine";
    c1.lot_number = "CAF-1";
    rc.lot_case = MESO__V1__RECALL_REQUEST__LOT_SUPPLIER_LOT;
    rc.supplier_lot = &c1;
    rc.clinic_id = "par";
    rc.reason = "supplier notice";
    rc.page_size = 2;
    /* The recall's reply by twos: the first page makes the recall, the
     * next ones are the same request and key with the token. */
    char token[MESO_PAGE_TOKEN_MAX] = "", recall_token[MESO_PAGE_TOKEN_MAX] = "";
    size_t want[] = { 2, 2, 1 };
    for (int p = 0; p < 3; p++) {
        rc.page_token = token;
        assert_int_equal (fx_call (fx, fx->inv, "inventory.Recall", &rc.base, "recall-caf-1", &r), MESO_OK);
        size_t len;
        const uint8_t *b = meso_result_body (&r, &len);
        Meso__V1__RecallReply *rr = meso__v1__recall_reply__unpack (NULL, len, b);
        assert_non_null (rr);
        assert_int_equal (rr->n_sessions, want[p]);
        assert_int_equal (rr->n_uncovered, want[p]);
        assert_int_equal (rr->n_lots, 1);
        for (size_t i = 0; i < rr->n_sessions; i++)
            assert_string_equal (meso_enum_str (&meso__v1__recall_hit_state__descriptor, (int) rr->sessions[i]->state), "at_risk");
        assert_int_equal (*rr->next_page_token != '\0', p < 2);
        snprintf (token, sizeof token, "%s", rr->next_page_token);
        if (p == 0)
            snprintf (recall_token, sizeof recall_token, "%s", token);
        meso__v1__recall_reply__free_unpacked (rr, NULL);
    }
    /* Three pages, one recall (one stock.recalled); a key that made no
     * recall, or a garbled token, is refused naming page_token. */
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM events.outbox WHERE type = 'stock.recalled'", NULL), 1);
    rc.page_token = recall_token;
    assert_int_equal (fx_call (fx, fx->inv, "inventory.Recall", &rc.base, "another-key", &r),
                      MESO_INVALID_ARGUMENT);
    assert_string_equal (r.reply->reasons[r.reply->n_reasons - 1]->field, "page_token");
    rc.page_token = "garbage";
    assert_int_equal (fx_call (fx, fx->inv, "inventory.Recall", &rc.base, "recall-caf-1", &r),
                      MESO_INVALID_ARGUMENT);
    assert_string_equal (r.reply->reasons[r.reply->n_reasons - 1]->field, "page_token");
    /* Three more lots of l_carnitine: five lots. */
    char expiry[16];
    fx_day (300, expiry);
    for (int i = 0; i < 3; i++) {
        char lot[16];
        snprintf (lot, sizeof lot, "LC-%d", i + 2);
        Meso__V1__ReceiveRequest rv = MESO__V1__RECEIVE_REQUEST__INIT;
        rv.clinic_id = "par";
        rv.ingredient_code = "l_carnitine";
        rv.lot_number = lot;
        rv.expiry_date = expiry;
        rv.quantity_milli = 1000000;
        assert_int_equal (fx_call (fx, fx->inv, "inventory.Receive", &rv.base, NULL, &r), MESO_OK);
    }
    meso_result_reset (&r);

    Meso__V1__GetScreeningRequest gs = MESO__V1__GET_SCREENING_REQUEST__INIT;
    gs.patient_id = pat;
    Meso__V1__GetConsentsRequest gc = MESO__V1__GET_CONSENTS_REQUEST__INIT;
    gc.patient_id = pat;
    Meso__V1__GetCourseRequest gr = MESO__V1__GET_COURSE_REQUEST__INIT;
    gr.patient_id = pat;
    gr.key_case = MESO__V1__GET_COURSE_REQUEST__KEY_PATIENT_ID;
    Meso__V1__ListAtRiskRequest ar = MESO__V1__LIST_AT_RISK_REQUEST__INIT;
    ar.clinic_id = "par";
    Meso__V1__GetStockRequest gk = MESO__V1__GET_STOCK_REQUEST__INIT;
    gk.clinic_id = "par";
    s_list_t lists[] = {
        { "screening.GetScreening", fx->scr, &gs.base, &gs.page_size, &gs.page_token,
          &meso__v1__get_screening_reply__descriptor, scr_count, scr_id, scr_next },
        { "screening.GetConsents", fx->scr, &gc.base, &gc.page_size, &gc.page_token,
          &meso__v1__get_consents_reply__descriptor, con_count, con_id, con_next },
        { "scheduling.GetCourse", fx->sch, &gr.base, &gr.page_size, &gr.page_token,
          &meso__v1__get_course_reply__descriptor, crs_count, crs_id, crs_next },
        { "inventory.ListAtRisk", fx->inv, &ar.base, &ar.page_size, &ar.page_token,
          &meso__v1__list_at_risk_reply__descriptor, risk_count, risk_id, risk_next },
        { "inventory.GetStock", fx->inv, &gk.base, &gk.page_size, &gk.page_token,
          &meso__v1__get_stock_reply__descriptor, stk_count, stk_id, stk_next },
    };
    size_t nl = sizeof lists / sizeof lists[0];
    char first[5][MESO_PAGE_TOKEN_MAX];
    for (size_t i = 0; i < nl; i++)
        s_walk (fx, &lists[i], first[i]);
    for (size_t i = 0; i < nl; i++)
        s_refuses (fx, &lists[i], first[(i + 1) % nl]);

    /* The current screening and the stock totals are on every page. */
    gs.page_size = 2;
    gs.page_token = first[0];
    assert_int_equal (fx_call (fx, fx->scr, "screening.GetScreening", &gs.base, NULL, &r), MESO_OK);
    size_t len;
    const uint8_t *b = meso_result_body (&r, &len);
    Meso__V1__GetScreeningReply *sp = meso__v1__get_screening_reply__unpack (NULL, len, b);
    assert_non_null (sp);
    assert_non_null (sp->current);
    assert_int_equal (sp->current->answers->weight_g, 65003);
    assert_int_not_equal (sp->history[0]->answers->weight_g, 65003);
    meso__v1__get_screening_reply__free_unpacked (sp, NULL);
    gk.page_size = 2;
    gk.page_token = first[4];
    assert_int_equal (fx_call (fx, fx->inv, "inventory.GetStock", &gk.base, NULL, &r), MESO_OK);
    b = meso_result_body (&r, &len);
    Meso__V1__GetStockReply *gp = meso__v1__get_stock_reply__unpack (NULL, len, b);
    assert_non_null (gp);
    assert_int_equal (gp->n_totals, 2);
    meso__v1__get_stock_reply__free_unpacked (gp, NULL);
    meso_result_reset (&r);
    fx_teardown (fx);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_lists_walk_by_twos),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
