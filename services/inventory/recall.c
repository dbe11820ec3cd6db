/* recall.c -- recalls that protect booked patients: "inventory.Recall",
 * and the sessions a recall left uncovered ("inventory.ListAtRisk").
 *
 * A recalled lot is never injected (DOMAIN.md, "Safety rules"). So a
 * recall does more than mark lots and report: in its one transaction it
 * takes the recalled lots out of every held reservation and holds each
 * session again from the clinic's other usable lots, first-expiring-first
 * by the session's date, the earliest session first (stock_recover,
 * stock.c). A session that cannot be covered in full keeps the rest of its
 * hold, gets a gap row (inventory.reservation_gap: "at risk" is a held
 * reservation with one) and a stock.recall_shortfall event, so the clinic
 * can call the patient; scheduling will not start it (CheckHold). Partial
 * cover is not attempted: it would take stock other sessions may need and
 * still not let the session start.
 *
 * Locking, in the order holds.c uses (reservation rows, then lots in
 * lot_id order): the held reservations on the lots are locked first, the
 * lots marked, then the held lines read again -- a Reserve that committed
 * between the two is seen by the second read, and any later one finds the
 * lot recalled -- and each clinic's lots of the ingredient locked. */
#include "inventory.h"
#include "meso/access.h"

#include "meso/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/handler.h"

/* What happened to each held line a recall reached. */
enum { S_MOVED = 1, S_AT_RISK = 2 };

typedef struct {
    meso_db_t *db;
    frame_job_t *job;
    const char *reason;
    PGresult *held;                     /* store_recall_held */
    char *outcome;                      /* per held row: S_MOVED or S_AT_RISK */
    Meso__V1__StockRecallShortfall *ua; /* uncovered, in held order */
    Meso__V1__StockRecallShortfall **up;
    size_t n_uncovered;
    uint32_t moved;
} s_recall_t;

static int
s_emit (s_recall_t *x, Meso__V1__Event *ev, const char *type, const char *clinic)
{
    return meso_handler_emit (x->db, ev, type, clinic, x->job->req->actor, &frame_service_actor);
}

/* The held rows [a, b) of one clinic: give back, hold again, write, tell. */
static int
s_recover_clinic (s_recall_t *x, int a, int b)
{
    meso_db_t *db = x->db;
    PGresult *h = x->held;
    const char *clinic = PQgetvalue (h, a, RH_CLINIC);
    size_t n = (size_t) (b - a);
    char **codes = calloc (n + 1, sizeof *codes);
    stock_gap_t *gaps = calloc (n + 1, sizeof *gaps);
    size_t lit_size = n * (ID_MAX + 1) + 4;
    char *lit = malloc (lit_size);
    lotset_t lots = { 0 };
    fefo_pick_t *picks = NULL;
    Meso__V1__IngredientAmount *na = NULL, **np = NULL;
    int rc = -1;
    if (!codes || !gaps || !lit)
        goto oom;
    size_t ncodes = 0;
    for (int i = a; i < b; i++) {
        const char *code = PQgetvalue (h, i, RH_INGREDIENT);
        size_t c = 0;
        while (c < ncodes && strcmp (codes[c], code) != 0)
            c++;
        if (c == ncodes)
            codes[ncodes++] = (char *) code;
    }
    frame_array_literal (lit, lit_size, codes, ncodes);
    if (lotset_lock (db, clinic, lit, &lots) != 0)
        goto done;
    size_t nlots = lots.set->n;
    picks = calloc (n * nlots + 1, sizeof *picks);
    na = calloc (nlots + 1, sizeof *na);
    np = calloc (nlots + 1, sizeof *np);
    if (!picks || !na || !np)
        goto oom;
    for (int i = a; i < b; i++)
        gaps[i - a] = (stock_gap_t) { PQgetvalue (h, i, RH_INGREDIENT),
                                      lotset_find (&lots, PQgetvalue (h, i, RH_LOT_ID)),
                                      (int32_t) store_i64 (h, i, RH_DATE_DAYS),
                                      store_i64 (h, i, RH_AMOUNT), false, 0, 0, 0 };
    if (stock_recover (lots.set, gaps, n, picks) < 0) {
        meso_reply_error (x->job->reply, MESO_INTERNAL, "lot picking failed in clinic %s", clinic);
        goto done;
    }
    char why[300];
    for (int i = a; i < b; i++) {
        const stock_gap_t *g = &gaps[i - a];
        const char *appt = PQgetvalue (h, i, RH_APPOINTMENT);
        const char *lot_id = PQgetvalue (h, i, RH_LOT_ID);
        if (store_reservation_line_delete (db, clinic, appt, lot_id) != 0)
            goto done;
        snprintf (why, sizeof why, "lot %.64s recalled: %.200s", PQgetvalue (h, i, RH_LOT_NUMBER),
                  x->reason);
        Meso__V1__IngredientAmount gone = MESO__V1__INGREDIENT_AMOUNT__INIT, *gp = &gone;
        gone.ingredient_code = (char *) g->ingredient;
        gone.unit = INVENTORY_UNIT (PQgetvalue (h, i, RH_UNIT));
        gone.amount_milli = g->amount;
        gone.lot_id = (char *) lot_id;
        gone.lot_number = PQgetvalue (h, i, RH_LOT_NUMBER);
        Meso__V1__StockReleased sl = MESO__V1__STOCK_RELEASED__INIT;
        sl.appointment_id = (char *) appt;
        sl.n_lines = 1;
        sl.lines = &gp;
        sl.reason = why;
        Meso__V1__Event ev = MESO__V1__EVENT__INIT;
        ev.payload_case = MESO__V1__EVENT__PAYLOAD_STOCK_RELEASED;
        ev.stock_released = &sl;
        if (s_emit (x, &ev, "stock.released", clinic) != 0)
            goto done;
        if (g->covered) {
            for (size_t k = 0; k < g->n_picks; k++) {
                const fefo_pick_t *p = &picks[g->first_pick + k];
                Meso__V1__IngredientAmount *l = &na[k];
                meso__v1__ingredient_amount__init (l);
                l->ingredient_code = (char *) g->ingredient;
                l->unit = gone.unit;
                l->amount_milli = p->amount;
                l->lot_id = PQgetvalue (lots.res, (int) p->lot, LOT_ID);
                l->lot_number = PQgetvalue (lots.res, (int) p->lot, LOT_NUMBER);
                np[k] = l;
                if (store_reservation_line_add (db, clinic, appt, l->lot_id, g->ingredient, p->amount) != 0)
                    goto done;
            }
            Meso__V1__StockReserved sr = MESO__V1__STOCK_RESERVED__INIT;
            sr.appointment_id = (char *) appt;
            sr.patient_id = PQgetvalue (h, i, RH_PATIENT);
            sr.session_date = PQgetvalue (h, i, RH_DATE);
            sr.n_lines = g->n_picks;
            sr.lines = np;
            Meso__V1__Event ev2 = MESO__V1__EVENT__INIT;
            ev2.payload_case = MESO__V1__EVENT__PAYLOAD_STOCK_RESERVED;
            ev2.stock_reserved = &sr;
            if (s_emit (x, &ev2, "stock.reserved", clinic) != 0)
                goto done;
            x->outcome[i] = S_MOVED;
            x->moved++;
            continue;
        }
        if (store_gap_insert (db, clinic, appt, g->ingredient, lot_id, g->amount, g->usable, x->reason) != 0)
            goto done;
        Meso__V1__StockRecallShortfall *u = &x->ua[x->n_uncovered];
        meso__v1__stock_recall_shortfall__init (u);
        u->appointment_id = (char *) appt;
        u->patient_id = PQgetvalue (h, i, RH_PATIENT);
        u->clinic_id = (char *) clinic;
        u->ingredient_code = (char *) g->ingredient;
        u->lot_id = (char *) lot_id;
        u->lot_number = PQgetvalue (h, i, RH_LOT_NUMBER);
        u->session_date = PQgetvalue (h, i, RH_DATE);
        u->missing_milli = g->amount;
        u->usable_milli = g->usable;
        u->unit = gone.unit;
        u->reason = (char *) x->reason;
        x->up[x->n_uncovered++] = u;
        Meso__V1__Event ev3 = MESO__V1__EVENT__INIT;
        ev3.payload_case = MESO__V1__EVENT__PAYLOAD_STOCK_RECALL_SHORTFALL;
        ev3.stock_recall_shortfall = u;
        if (s_emit (x, &ev3, "stock.recall_shortfall", clinic) != 0)
            goto done;
        x->outcome[i] = S_AT_RISK;
    }
    if (lotset_write (db, clinic, &lots) != 0)
        goto done;
    for (size_t c = 0; c < ncodes; c++)
        if (frame_low_check (db, clinic, codes[c], MESO__V1__UNIT__UNIT_UNSPECIFIED) < 0)
            goto done;
    rc = 0;
    goto done;
oom:
    meso_db_set_error (db, NULL, "out of memory");
done:
    free (codes);
    free (gaps);
    free (lit);
    free (picks);
    free (na);
    free (np);
    lotset_free (&lots);
    return rc;
}

/* The state of a "reserved" hit after the recovery. */
static const char *
s_hit_state (const s_recall_t *x, const char *clinic, const char *appt, const char *lot_id)
{
    for (int i = 0; i < PQntuples (x->held); i++)
        if (strcmp (PQgetvalue (x->held, i, RH_APPOINTMENT), appt) == 0
            && strcmp (PQgetvalue (x->held, i, RH_CLINIC), clinic) == 0
            && strcmp (PQgetvalue (x->held, i, RH_LOT_ID), lot_id) == 0)
            return x->outcome[i] == S_MOVED ? "moved" : "at_risk";
    return "reserved";          /* not reached: the hit was a held line */
}

/* One stock.recalled per lot, with the sessions of that lot; then the
 * reply. */
static int
s_recall_report (s_recall_t *x, PGresult *lots, PGresult *hits)
{
    Meso__V1__RecallRequest *in = x->job->in;
    int nl = PQntuples (lots), nh = PQntuples (hits), rc = -1;
    meso_call_patient (NULL, NULL);     /* looked; each patient hit is added below */
    Meso__V1__Lot *la = calloc ((size_t) nl + 1, sizeof *la);
    Meso__V1__Lot **lp = calloc ((size_t) nl + 1, sizeof *lp);
    Meso__V1__RecallHit *ha = calloc ((size_t) nh + 1, sizeof *ha);
    Meso__V1__RecallHit **hp = calloc ((size_t) nh + 1, sizeof *hp);
    char **appts = calloc ((size_t) nh + 1, sizeof *appts);
    char **patients = calloc ((size_t) nh + 1, sizeof *patients);
    if (!la || !lp || !ha || !hp || !appts || !patients) {
        meso_db_set_error (x->db, NULL, "out of memory");
        goto done;
    }
    for (int i = 0; i < nh; i++) {
        meso__v1__recall_hit__init (&ha[i]);
        ha[i].clinic_id = PQgetvalue (hits, i, 0);
        ha[i].appointment_id = PQgetvalue (hits, i, 1);
        ha[i].patient_id = PQgetvalue (hits, i, 2);
        meso_call_patient (ha[i].patient_id[0] ? ha[i].patient_id : NULL, ha[i].clinic_id);
        ha[i].session_date = PQgetvalue (hits, i, 3);
        const char *state = PQgetvalue (hits, i, 4);
        ha[i].lot_id = PQgetvalue (hits, i, 5);
        ha[i].amount_milli = store_i64 (hits, i, 6);
        if (strcmp (state, "reserved") == 0)
            state = s_hit_state (x, ha[i].clinic_id, ha[i].appointment_id, ha[i].lot_id);
        ha[i].state = meso_enum_from_db (&meso__v1__recall_hit_state__descriptor, state, "recall hit state");
        hp[i] = &ha[i];
    }
    for (int l = 0; l < nl; l++) {
        store_lot_fill (lots, l, &la[l]);
        lp[l] = &la[l];
        size_t n = 0;
        for (int i = 0; i < nh; i++)
            if (strcmp (ha[i].lot_id, la[l].lot_id) == 0
                && strcmp (ha[i].clinic_id, la[l].clinic_id) == 0) {
                appts[n] = ha[i].appointment_id;
                patients[n] = ha[i].patient_id;
                n++;
            }
        Meso__V1__StockRecalled sr = MESO__V1__STOCK_RECALLED__INIT;
        sr.lot_id = la[l].lot_id;
        sr.ingredient_code = la[l].ingredient_code;
        sr.lot_number = la[l].lot_number;
        sr.reason = in->reason;
        sr.n_appointment_ids = n;
        sr.appointment_ids = appts;
        sr.n_patient_ids = n;
        sr.patient_ids = patients;
        Meso__V1__Event ev = MESO__V1__EVENT__INIT;
        ev.payload_case = MESO__V1__EVENT__PAYLOAD_STOCK_RECALLED;
        ev.stock_recalled = &sr;
        if (s_emit (x, &ev, "stock.recalled", la[l].clinic_id) != 0
            || frame_low_check (x->db, la[l].clinic_id, la[l].ingredient_code, la[l].unit) < 0)
            goto done;
    }
    Meso__V1__RecallReply out = MESO__V1__RECALL_REPLY__INIT;
    out.n_lots = (size_t) nl;
    out.lots = lp;
    out.n_sessions = (size_t) nh;
    out.sessions = hp;
    out.sessions_moved = x->moved;
    out.n_uncovered = x->n_uncovered;
    out.uncovered = x->up;
    meso_reply_ok (x->job->reply, &out.base);
    rc = 0;
done:
    free (la);
    free (lp);
    free (ha);
    free (hp);
    free (appts);
    free (patients);
    return rc;
}

/* The lot a request names, by id or by supplier number ("" for the
 * other): the oneof's members share storage, so only the one set is
 * read. */
static void
s_lot_of (const Meso__V1__RecallRequest *in, const char **lot_id, const char **code, const char **number)
{
    bool by_id = in->lot_case == MESO__V1__RECALL_REQUEST__LOT_LOT_ID && in->lot_id;
    bool by_number = in->lot_case == MESO__V1__RECALL_REQUEST__LOT_SUPPLIER_LOT && in->supplier_lot;
    *lot_id = by_id ? in->lot_id : "";
    *code = by_number && in->supplier_lot->ingredient_code ? in->supplier_lot->ingredient_code : "";
    *number = by_number && in->supplier_lot->lot_number ? in->supplier_lot->lot_number : "";
}

static int
s_recall_effect (meso_db_t *db, frame_job_t *job)
{
    Meso__V1__RecallRequest *in = job->in;
    const char *lot_id, *code, *number;
    s_lot_of (in, &lot_id, &code, &number);
    s_recall_t x = { db, job, in->reason, NULL, NULL, NULL, NULL, 0, 0 };
    PGresult *lots = NULL, *hits = NULL;
    int rc = -1;
    /* Lock the held reservations on the lots before the lots. */
    PGresult *first = store_recall_held (db, lot_id, code, number, in->clinic_id);
    if (!first)
        return -1;
    PQclear (first);
    lots = store_recall_mark (db, lot_id, code, number, in->clinic_id, in->reason);
    if (!lots)
        goto done;
    if (PQntuples (lots) == 0) {
        const char *in_clinic = in->clinic_id && *in->clinic_id ? " in clinic " : "";
        const char *clinic = in->clinic_id ? in->clinic_id : "";
        if (*lot_id)
            meso_reply_error (job->reply, MESO_NOT_FOUND, "no lot %s%s%s", lot_id, in_clinic, clinic);
        else
            meso_reply_error (job->reply, MESO_NOT_FOUND, "no lot number %s of %s%s%s", number,
                              code, in_clinic, clinic);
        goto done;
    }
    hits = store_recall_hits (db, lot_id, code, number, in->clinic_id);
    x.held = hits ? store_recall_held (db, lot_id, code, number, in->clinic_id)
                  : NULL;
    if (!x.held)
        goto done;
    int nheld = PQntuples (x.held);
    x.outcome = calloc ((size_t) nheld + 1, 1);
    x.ua = calloc ((size_t) nheld + 1, sizeof *x.ua);
    x.up = calloc ((size_t) nheld + 1, sizeof *x.up);
    if (!x.outcome || !x.ua || !x.up) {
        meso_db_set_error (db, NULL, "out of memory");
        goto done;
    }
    for (int a = 0, b; a < nheld; a = b) {
        for (b = a; b < nheld && strcmp (PQgetvalue (x.held, b, RH_CLINIC),
                                          PQgetvalue (x.held, a, RH_CLINIC)) == 0; b++)
            ;
        if (s_recover_clinic (&x, a, b) != 0)
            goto done;
    }
    rc = s_recall_report (&x, lots, hits);
done:
    free (x.outcome);
    free (x.ua);
    free (x.up);
    PQclear (x.held);
    PQclear (hits);
    PQclear (lots);
    return rc;
}

/* ------------------------------------------------------ paging a recall
 *
 * A recall is done once; its reply (every lot, session and uncovered
 * session) is what the idempotency store keeps for its key, whole, and
 * is never changed after. A reply goes out a page at a time: page_size
 * items of sessions and of uncovered, and next_page_token; a later page
 * is the same request with the same idempotency key and the token, and
 * is cut from the stored reply. So the pages are positions in a list
 * that no insert can move (the token holds the two indexes), and what a
 * recall did is read exactly as it was decided, even after the sessions
 * moved on. */

#define S_RECALL "inventory.Recall"
#define S_RECALL_PAGE_DEFAULT 1000
#define S_RECALL_PAGE_MAX 2000

static int
s_recall_not_made (meso_db_t *db, frame_job_t *job)
{
    (void) db;
    meso_reply_error (job->reply, MESO_INVALID_ARGUMENT,
                      "invalid inventory.Recall request");
    meso_reply_reason (job->reply, "invalid_page_token", "page_token",
                       "no recall was made with this idempotency key: a later page is the first "
                       "request again, with its idempotency key and the page_token");
    return -1;
}

/* Replaces the whole reply of a recall in reply with the page at pos. */
static void
s_recall_page (meso_reply_t *reply, const Meso__V1__RecallRequest *in, const meso_page_pos_t *pos)
{
    if (meso_reply_status (reply) != MESO_OK)
        return;
    size_t len;
    uint8_t *packed = meso_reply_pack (reply, &len);
    Meso__V1__Reply *env = packed ? meso__v1__reply__unpack (NULL, len, packed) : NULL;
    free (packed);
    Meso__V1__RecallReply *all = env ? meso__v1__recall_reply__unpack (NULL, env->body.len,
                                                                        env->body.data) : NULL;
    if (!all) {
        meso_reply_error (reply, MESO_INTERNAL, "cannot read the recall's reply back");
        goto done;
    }
    size_t size = meso_page_size (in->page_size, S_RECALL_PAGE_DEFAULT, S_RECALL_PAGE_MAX);
    size_t a = pos->n ? strtoull (pos->key[0], NULL, 10) : 0;
    size_t b = pos->n ? strtoull (pos->key[1], NULL, 10) : 0;
    if (a > all->n_sessions || b > all->n_uncovered) {
        meso_reply_error (reply, MESO_INVALID_ARGUMENT, "invalid inventory.Recall request");
        meso_reply_reason (reply, "invalid_page_token", "page_token",
                           "page_token is past the end of this recall's reply");
        goto done;
    }
    Meso__V1__RecallReply out = *all;
    char next[MESO_PAGE_TOKEN_MAX] = "";
    out.next_page_token = next;
    out.sessions = all->sessions + a;
    out.n_sessions = all->n_sessions - a > size ? size : all->n_sessions - a;
    out.uncovered = all->uncovered + b;
    out.n_uncovered = all->n_uncovered - b > size ? size : all->n_uncovered - b;
    /* The frame cap: fewer sessions first, then fewer uncovered. */
    size_t want_s = out.n_sessions, want_u = out.n_uncovered;
    meso_page_fit (&out.base, &out.n_sessions, MESO_PAGE_REPLY_LIMIT);
    if (out.n_sessions == 0)
        meso_page_fit (&out.base, &out.n_uncovered, MESO_PAGE_REPLY_LIMIT);
    if ((want_s && !out.n_sessions && want_u && !out.n_uncovered)
        || protobuf_c_message_get_packed_size (&out.base) > MESO_PAGE_REPLY_LIMIT) {
        meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED,
                          "one item of this recall is larger than a reply may be");
        goto done;
    }
    if (a + out.n_sessions < all->n_sessions || b + out.n_uncovered < all->n_uncovered) {
        char ka[24], kb[24];
        snprintf (ka, sizeof ka, "%zu", a + out.n_sessions);
        snprintf (kb, sizeof kb, "%zu", b + out.n_uncovered);
        const char *k[] = { ka, kb };
        if (meso_handler_page_next (reply, S_RECALL, k, 2, next) != 0)
            goto done;
    }
    meso_reply_ok (reply, &out.base);
done:
    if (all)
        meso__v1__recall_reply__free_unpacked (all, NULL);
    if (env)
        meso__v1__reply__free_unpacked (env, NULL);
}

void
inventory_recall (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__RecallRequest *in = body;
    int bad = 0;
    meso_handler_need_text (reply, &bad, "reason", in->reason, TEXT_MAX);
    const char *lot_id, *code, *number;
    s_lot_of (in, &lot_id, &code, &number);
    if (in->lot_case == MESO__V1__RECALL_REQUEST__LOT_LOT_ID)
        frame_may_text (reply, &bad, "lot_id", lot_id, ID_MAX);
    if (!*lot_id && in->lot_case != MESO__V1__RECALL_REQUEST__LOT_SUPPLIER_LOT) {
        meso_reply_reason (reply, "missing_field", "lot_id", "give lot_id, or supplier_lot");
        bad++;
    }
    else if (in->lot_case == MESO__V1__RECALL_REQUEST__LOT_SUPPLIER_LOT) {
        meso_handler_need_ingredient (reply, &bad, "supplier_lot.ingredient_code", code);
        meso_handler_need_text (reply, &bad, "supplier_lot.lot_number", number, 128);
    }
    if (in->clinic_id && *in->clinic_id)
        meso_handler_need_clinic (reply, &bad, "clinic_id", in->clinic_id);
    meso_page_pos_t pos;
    meso_handler_need_page (reply, &bad, S_RECALL, in->page_token, "ii", &pos);
    if (meso_handler_invalid (reply, bad, req->method)
        || (in->clinic_id && *in->clinic_id
            && frame_clinic (arg, reply, "clinic_id", in->clinic_id, NULL) != 0))
        return;
    if (!pos.n) {
        frame_run (arg, req, reply, in, s_recall_effect);
        s_recall_page (reply, in, &pos);
        return;
    }
    /* A later page: the stored reply of this key, found through the
     * request as first sent (page_token empty), so the same key with
     * another request is refused as any reuse of a key is, and a key
     * that made no recall changes nothing (s_recall_not_made). */
    Meso__V1__RecallRequest first = *in;
    first.page_token = "";
    size_t len = protobuf_c_message_get_packed_size (&first.base);
    uint8_t *packed = malloc (len ? len : 1);
    if (!packed) {
        meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    protobuf_c_message_pack (&first.base, packed);
    Meso__V1__Request as_first = *req;
    as_first.body.data = packed;
    as_first.body.len = len;
    frame_run (arg, &as_first, reply, in, s_recall_not_made);
    free (packed);
    s_recall_page (reply, in, &pos);
}

/* ------------------------------------------------------------ ListAtRisk */

#define S_AT_RISK "inventory.ListAtRisk"

void
inventory_list_at_risk (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    inventory_t *self = arg;
    Meso__V1__ListAtRiskRequest *in = body;
    int bad = 0;
    int32_t from;
    meso_handler_need_clinic (reply, &bad, "clinic_id", in->clinic_id);
    if (in->from_date && *in->from_date)
        frame_need_date (reply, &bad, "from_date", in->from_date, &from);
    meso_page_pos_t pos;
    meso_handler_need_page (reply, &bad, S_AT_RISK, in->page_token, "dsss", &pos);
    if (meso_handler_invalid (reply, bad, req->method))
        return;
    /* scheduling asks while it serves an agenda and waits for the answer:
     * a service is never asked back whether the clinic exists (see
     * frame_clinic_from_scheduling); people and integrations are. */
    const meso_principal_t *who = meso_call_principal ();
    if (who && who->kind == MESO_PRINCIPAL_SERVICE)
        frame_clinic_from_scheduling (self, in->clinic_id);
    else if (frame_clinic (self, reply, "clinic_id", in->clinic_id, NULL) != 0)
        return;
    uint32_t size = meso_page_size (in->page_size, 1000, 2000);
    const char *after[] = { pos.key[0], pos.key[1], pos.key[2], pos.key[3] };
    PGresult *res = store_at_risk (self->db, in->clinic_id, in->from_date, pos.n ? after : NULL, size + 1);
    if (!res) {
        meso_reply_db_error (reply, self->db, "cannot list the sessions at risk");
        return;
    }
    int fetched = PQntuples (res);
    int n = fetched > (int) size ? (int) size : fetched;
    meso_call_patient (NULL, in->clinic_id);    /* looked; each one listed below */
    Meso__V1__StockRecallShortfall *ua = calloc ((size_t) n + 1, sizeof *ua);
    Meso__V1__StockRecallShortfall **up = calloc ((size_t) n + 1, sizeof *up);
    if (ua && up) {
        for (int i = 0; i < n; i++) {
            Meso__V1__StockRecallShortfall *u = &ua[i];
            meso__v1__stock_recall_shortfall__init (u);
            u->appointment_id = PQgetvalue (res, i, AR_APPOINTMENT);
            u->patient_id = PQgetvalue (res, i, AR_PATIENT);
            meso_call_patient (u->patient_id[0] ? u->patient_id : NULL, in->clinic_id);
            u->clinic_id = PQgetvalue (res, i, AR_CLINIC);
            u->ingredient_code = PQgetvalue (res, i, AR_INGREDIENT);
            u->lot_id = PQgetvalue (res, i, AR_LOT_ID);
            u->lot_number = PQgetvalue (res, i, AR_LOT_NUMBER);
            u->session_date = PQgetvalue (res, i, AR_DATE);
            u->missing_milli = store_i64 (res, i, AR_MISSING);
            u->usable_milli = store_i64 (res, i, AR_USABLE);
            u->unit = INVENTORY_UNIT (PQgetvalue (res, i, AR_UNIT));
            u->reason = PQgetvalue (res, i, AR_REASON);
            up[i] = u;
        }
        Meso__V1__ListAtRiskReply out = MESO__V1__LIST_AT_RISK_REPLY__INIT;
        out.n_sessions = (size_t) n;
        out.sessions = up;
        char next[MESO_PAGE_TOKEN_MAX] = "";
        out.next_page_token = next;
        int more = meso_handler_page_fit (reply, &out.base, &out.n_sessions, (size_t) fetched, size);
        if (more > 0) {
            int last = (int) out.n_sessions - 1;
            const char *k[] = { PQgetvalue (res, last, AR_DATE), PQgetvalue (res, last, AR_APPOINTMENT),
                                PQgetvalue (res, last, AR_INGREDIENT), PQgetvalue (res, last, AR_LOT_ID) };
            if (meso_handler_page_next (reply, S_AT_RISK, k, 4, next) != 0)
                more = -1;
        }
        if (more >= 0)
            meso_reply_ok (reply, &out.base);
    }
    else
        meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED, "out of memory");
    free (ua);
    free (up);
    PQclear (res);
}
