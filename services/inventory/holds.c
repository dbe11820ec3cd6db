/* holds.c -- reservations held for sessions: "inventory.Reserve",
 * "inventory.Release", "inventory.Redate".
 *
 * A reservation holds stock for one appointment: lines (lot, amount) of
 * the recipe's needs for the booked areas, picked first-expiring-first
 * among the lots usable on the session date. The decisions -- is there
 * enough of every ingredient, which lots to hold, which lines a new date
 * moves -- are stock.c's; this file loads and locks (lotset.c), asks, and
 * writes. Consumption is consume.c's: it is the end of a hold, but also
 * the effect of a session event and of a session that was never reserved.
 *
 * Concurrency: the reservation row is locked (or inserted) before any lot,
 * then the lots in lot_id order, so two clients cannot both take the last
 * unit, and the CHECKs of the schema (on hand >= reserved >= 0) stand
 * behind that. Reserve is idempotent by appointment id as well as by key: a
 * concurrent Reserve of the same appointment waits on the row the first
 * inserted, then returns the reservation the first one made.
 *
 * A Release of an appointment that holds nothing still records it, as a
 * released reservation without lines (a tombstone), and a Reserve of a
 * released appointment is refused. So a Reserve that arrives after the
 * booking it served was undone (a request left queued by a scheduling
 * process that died, delivered after recovery released the appointment)
 * cannot hold stock for a booking that does not exist.
 *
 * Redate moves a held reservation to another session date (a rescheduled
 * session) in one transaction: lines in lots that expire before the new
 * date are given back and picked again, or the move is refused and nothing
 * changes. */
#include "inventory.h"

#include "meso/audit.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/handler.h"
#include "meso/mtime.h"

/* -------------------------------------------------------------- Reserve */

typedef struct {
    Meso__V1__ReserveRequest *in;
    char areas[MAX_AREAS * (ID_MAX + 1) + 4];
} s_reserve_t;

/* Replies with an existing reservation of the appointment when there is
 * one: 1 replied, 0 none, -1 refused or failed. res: the appointment's
 * reservation row as read already, or NULL to read it (freed here). */
static int
s_reserve_existing (meso_db_t *db, frame_job_t *job, PGresult *res)
{
    s_reserve_t *r = job->in;
    if (!res)
        res = store_reservation_get (db, r->in->clinic_id, r->in->appointment_id, false);
    if (!res)
        return -1;
    if (PQntuples (res) == 0) {
        PQclear (res);
        return 0;
    }
    int rc = 1;
    /* Released first: a tombstone (Release before any Reserve) has no
     * patient. */
    if (strcmp (PQgetvalue (res, 0, 7), "released") == 0) {
        meso_reply_error (job->reply, MESO_FAILED_PRECONDITION,
                          "the reservation of appointment %s was released; a new booking needs a new appointment",
                          r->in->appointment_id);
        meso_reply_reason (job->reply, "released", "appointment_id",
                           "appointment %s was released and cannot be reserved again", r->in->appointment_id);
        rc = -1;
    }
    else if (strcmp (PQgetvalue (res, 0, 2), r->in->patient_id) != 0) {
        meso_reply_error (job->reply, MESO_FAILED_PRECONDITION,
                          "appointment %s is reserved for another patient", r->in->appointment_id);
        rc = -1;
    }
    PQclear (res);
    if (rc == 1 && resv_reply (db, job->reply, r->in->clinic_id, r->in->appointment_id,
                                        "inventory.Reserve", true) != 0)
        rc = -1;
    return rc;
}

/* The areas of the comma-joined list missing as reasons; their count. */
static int
s_missing_areas (meso_reply_t *reply, const char *missing, const char *recipe_id, uint32_t version)
{
    int n = 0;
    for (const char *a = missing; *a;) {
        size_t len = strcspn (a, ",");
        meso_reply_reason (reply, "unknown_area", "areas", "recipe %s version %u has nothing for area \"%.*s\"",
                           recipe_id, version, (int) len, a);
        n++;
        a += len + (a[len] == ',');
    }
    return n;
}

static int
s_reserve_effect (meso_db_t *db, frame_job_t *job)
{
    s_reserve_t *r = job->in;
    Meso__V1__ReserveRequest *in = r->in;
    /* The appointment's reservation, the recipe version with the areas it
     * lacks, and what the session needs: one round trip. */
    const char *gp[2];
    store_recipe_reads_t q;
    meso_db_stmt_t st[3], rs[3];
    PGresult *pre[3];
    store_reservation_get_stmt (gp, in->clinic_id, in->appointment_id, &st[0]);
    store_recipe_reads (&q, in->recipe_id, in->recipe_version, r->areas, rs);
    st[1] = rs[0];
    st[2] = rs[2];
    if (meso_db_pipeline (db, 3, st, pre) != 0)
        return -1;
    PGresult *head = pre[1], *need = pre[2];
    int rc = s_reserve_existing (db, job, pre[0]);
    if (rc != 0) {
        PQclear (head);
        PQclear (need);
        return rc > 0 ? 0 : -1;
    }
    if (PQgetisnull (head, 0, 1)) {
        meso_reply_error (job->reply, MESO_NOT_FOUND, "no recipe %s%s%.0u", in->recipe_id,
                          in->recipe_version ? " version " : "", in->recipe_version);
        meso_reply_reason (job->reply, "unknown_recipe", in->recipe_version ? "recipe_version" : "recipe_id",
                           "record the recipe with UpsertRecipe first");
        PQclear (head);
        PQclear (need);
        return -1;
    }
    uint32_t version = (uint32_t) store_i64 (head, 0, 1);
    int nmissing = s_missing_areas (job->reply, PQgetvalue (head, 0, 3), in->recipe_id, version);
    PQclear (head);
    if (nmissing) {
        meso_reply_error (job->reply, MESO_INVALID_ARGUMENT,
                          "recipe %s version %u does not cover %d of the areas", in->recipe_id,
                          version, nmissing);
        PQclear (need);
        return -1;
    }

    int ins = store_reservation_insert (db, in->clinic_id, in->appointment_id, in->patient_id,
                                        in->session_date, in->recipe_id, version, r->areas, "held");
    if (ins <= 0) {
        PQclear (need);
        if (ins < 0)
            return -1;
        /* A concurrent Reserve of the same appointment committed first. */
        rc = s_reserve_existing (db, job, NULL);
        return rc > 0 ? 0 : -1;
    }

    int nneed = PQntuples (need);
    char **codes = calloc ((size_t) nneed + 1, sizeof *codes);
    stock_need_t *needs = calloc ((size_t) nneed + 1, sizeof *needs);
    size_t lit_size = (size_t) nneed * (ID_MAX + 1) + 4;
    char *lit = malloc (lit_size);
    lotset_t lots = { 0 };
    fefo_pick_t *picks = NULL;
    rc = -1;
    if (!codes || !needs || !lit)
        goto done;
    for (int k = 0; k < nneed; k++) {
        codes[k] = PQgetvalue (need, k, 0);
        needs[k] = (stock_need_t) { codes[k], store_i64 (need, k, 2), 0 };
    }
    frame_array_literal (lit, lit_size, codes, (size_t) nneed);
    int32_t session;
    meso_date_parse (in->session_date, &session);
    if (lotset_lock (db, in->clinic_id, lit, &lots) != 0)
        goto done;
    picks = calloc (lots.set->n + 1, sizeof *picks);
    if (!picks)
        goto done;

    /* All or nothing, and every shortage named. */
    int short_count = stock_shortages (lots.set, needs, (size_t) nneed, session);
    for (int k = 0; short_count && k < nneed; k++)
        if (needs[k].usable < needs[k].amount)
            meso_reply_reason (job->reply, "insufficient_stock", codes[k],
                               "%s: %" PRId64 " needed, %" PRId64 " usable on %s (thousandths of %s)",
                               codes[k], needs[k].amount, needs[k].usable, in->session_date,
                               PQgetvalue (need, k, 1));
    if (short_count) {
        meso_reply_error (job->reply, MESO_RESOURCE_EXHAUSTED,
                          "not enough stock in clinic %s for the session of %s: %d ingredient%s short",
                          in->clinic_id, in->session_date, short_count, short_count > 1 ? "s" : "");
        goto done;
    }
    for (int k = 0; k < nneed; k++) {
        int np = stock_hold (lots.set, codes[k], session, needs[k].amount, picks, NULL);
        if (np < 0) {
            meso_reply_error (job->reply, MESO_INTERNAL, "lot picking failed for %s", codes[k]);
            goto done;
        }
        for (int p = 0; p < np; p++)
            if (store_reservation_line_insert (db, in->clinic_id, in->appointment_id,
                                               lotset_lot_id (&lots, picks[p].lot), codes[k],
                                               picks[p].amount) != 0)
                goto done;
    }
    /* Read back once: the event and the reply show the same lines. */
    resv_t made;
    int got = lotset_write (db, in->clinic_id, &lots) == 0
            ? resv_load (db, in->clinic_id, in->appointment_id, &made) : -1;
    if (got == 0)
        meso_db_set_error (db, NULL, "the reservation just made is gone");
    if (got <= 0)
        goto done;
    if (resv_emit_loaded (db, &made, "reserved", NULL, job->req->actor) != 0) {
        resv_free (&made);
        goto done;
    }
    for (int k = 0; k < nneed; k++)
        if (frame_low_check (db, in->clinic_id, codes[k], INVENTORY_UNIT (PQgetvalue (need, k, 1))) < 0) {
            resv_free (&made);
            goto done;
        }
    resv_reply_loaded (job->reply, &made, "inventory.Reserve", false);
    resv_free (&made);
    rc = 0;
done:
    free (picks);
    lotset_free (&lots);
    free (codes);
    free (needs);
    free (lit);
    PQclear (need);
    return rc;
}

void
inventory_reserve (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__ReserveRequest *in = body;
    int bad = 0;
    s_reserve_t r = { in, "" };
    meso_handler_need_text (reply, &bad, "appointment_id", in->appointment_id, ID_MAX);
    meso_handler_need_text (reply, &bad, "patient_id", in->patient_id, ID_MAX);
    meso_handler_need_clinic (reply, &bad, "clinic_id", in->clinic_id);
    meso_handler_need_code (reply, &bad, "recipe_id", in->recipe_id);
    frame_need_session_date (reply, &bad, in->session_date);
    /* The codes are checked only when every other field is good: a Reserve
     * has always answered that way. */
    frame_need_area_count (reply, &bad, in->n_areas, true);
    if (!bad)
        frame_need_area_codes (reply, &bad, in->areas, in->n_areas);
    if (!bad)
        frame_array_literal (r.areas, sizeof r.areas, in->areas, in->n_areas);
    if (meso_handler_invalid (reply, bad, req->method))
        return;
    frame_clinic_from_scheduling (arg, in->clinic_id);     /* no lookup: see frame.c */
    frame_run (arg, req, reply, &r, s_reserve_effect);
}

/* -------------------------------------------------------------- Release */

/* Releases the held stock of an appointment. Returns 0 done, 1 nothing to
 * do (not found when lenient, already released, or consumed when
 * lenient), -1 refused or failed (reply set when refused). */
int
holds_release_apply (meso_db_t *db, const char *clinic, const char *appointment,
                     const char *reason, const Meso__V1__Actor *actor, bool strict,
                     meso_reply_t *reply)
{
    PGresult *head = store_reservation_get (db, clinic, appointment, true);
    if (!head)
        return -1;
    if (PQntuples (head) == 0) {
        PQclear (head);
        meso_call_patient (NULL, clinic);       /* no patient's stock touched */
        if (!strict)
            return 1;
        /* Never reserved: record the release (a tombstone, no lines), so
         * that a Reserve for this appointment still in flight -- sent by a
         * booking that has since been undone -- is refused when it lands
         * instead of holding stock for nothing. */
        char today[16];
        meso_date_format (frame_today (), today, sizeof today);
        int ins = store_reservation_insert (db, clinic, appointment, "", today, "", 0, "{}", "released");
        if (ins < 0)
            return -1;
        if (ins == 0)           /* a concurrent Reserve committed first: release what it holds */
            return holds_release_apply (db, clinic, appointment, reason, actor, strict, reply);
        return store_reservation_close (db, clinic, appointment, "released", reason) != 0 ? -1 : 1;
    }
    char status[16];
    snprintf (status, sizeof status, "%s", PQgetvalue (head, 0, 7));
    if (PQgetvalue (head, 0, 2)[0])
        meso_call_patient (PQgetvalue (head, 0, 2), clinic);
    else
        meso_call_patient (NULL, clinic);       /* a tombstone: no patient */
    PQclear (head);
    if (strcmp (status, "released") == 0)
        return 1;
    if (strcmp (status, "consumed") == 0) {
        if (!strict)
            return 1;
        meso_reply_error (reply, MESO_FAILED_PRECONDITION,
                          "the reservation of appointment %s was consumed: nothing to release",
                          appointment);
        return -1;
    }
    PGresult *lines = store_reservation_lines (db, clinic, appointment);
    if (!lines)
        return -1;
    int rc = -1;
    int n = PQntuples (lines);
    char **codes = calloc ((size_t) n + 1, sizeof *codes);
    size_t lit_size = (size_t) n * (ID_MAX + 1) + 4;
    char *lit = malloc (lit_size);
    lotset_t lots = { 0 };
    if (!codes || !lit)
        goto done;
    for (int i = 0; i < n; i++)
        codes[i] = PQgetvalue (lines, i, 0);
    frame_array_literal (lit, lit_size, codes, (size_t) n);
    if (lotset_lock (db, clinic, lit, &lots) != 0)
        goto done;
    for (int i = 0; i < n; i++) {
        long li = lotset_find (&lots, PQgetvalue (lines, i, 3));
        if (li >= 0)
            stock_give_back (lots.set, (size_t) li, store_i64 (lines, i, 2));
    }
    if (lotset_write (db, clinic, &lots) != 0
        || store_reservation_close (db, clinic, appointment, "released", reason) != 0
        || resv_emit (db, clinic, appointment, "released", reason, actor) != 0)
        goto done;
    for (int i = 0; i < n; i++)
        if (frame_low_check (db, clinic, codes[i], INVENTORY_UNIT (PQgetvalue (lines, i, 1))) < 0)
            goto done;
    rc = 0;
done:
    lotset_free (&lots);
    free (codes);
    free (lit);
    PQclear (lines);
    return rc;
}

static int
s_release_effect (meso_db_t *db, frame_job_t *job)
{
    Meso__V1__ReleaseRequest *in = job->in;
    if (holds_release_apply (db, in->clinic_id, in->appointment_id, in->reason, job->req->actor, true,
                         job->reply) < 0)
        return -1;
    return resv_reply (db, job->reply, in->clinic_id, in->appointment_id,
                                job->req->method, false);
}

void
inventory_release (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__ReleaseRequest *in = body;
    int bad = 0;
    meso_handler_need_clinic (reply, &bad, "clinic_id", in->clinic_id);
    meso_handler_need_text (reply, &bad, "appointment_id", in->appointment_id, ID_MAX);
    frame_may_text (reply, &bad, "reason", in->reason, TEXT_MAX);
    if (meso_handler_invalid (reply, bad, req->method))
        return;
    frame_clinic_from_scheduling (arg, in->clinic_id);     /* no lookup: see frame.c */
    frame_run (arg, req, reply, in, s_release_effect);
}

/* --------------------------------------------------------------- Redate */

/* Moves a held reservation to in->session_date. The reservation row is
 * locked first, then its lots (lot_id order), as Reserve and Release do.
 * Only the lines in lots that expire before the new date move; their
 * amounts are picked again, per ingredient, first-expiring-first among the
 * lots usable on the new date. Any shortage refuses the whole move (the
 * transaction rolls back). */
static int
s_redate_effect (meso_db_t *db, frame_job_t *job)
{
    Meso__V1__RedateRequest *in = job->in;
    const char *clinic = in->clinic_id, *appt = in->appointment_id;
    int32_t session;
    char date[16];
    meso_date_parse (in->session_date, &session);
    meso_date_format (session, date, sizeof date);

    PGresult *head = store_reservation_get (db, clinic, appt, true);
    if (!head)
        return -1;
    if (PQntuples (head) == 0) {
        PQclear (head);
        meso_reply_error (job->reply, MESO_NOT_FOUND, "no reservation for appointment %.64s in clinic %.64s",
                          appt, clinic);
        meso_reply_reason (job->reply, "unknown_reservation", "appointment_id",
                           "reserve the session (inventory.Reserve) before moving it");
        return -1;
    }
    char prev[16], status[16], patient[ID_MAX + 1];
    snprintf (prev, sizeof prev, "%s", PQgetvalue (head, 0, 3));
    snprintf (patient, sizeof patient, "%s", PQgetvalue (head, 0, 2));
    snprintf (status, sizeof status, "%s", PQgetvalue (head, 0, 7));
    PQclear (head);
    meso_call_patient (patient[0] ? patient : NULL, clinic);
    if (strcmp (status, "held") != 0) {
        meso_reply_error (job->reply, MESO_FAILED_PRECONDITION,
                          "the reservation of appointment %s is %s: only a held reservation can move",
                          appt, status);
        meso_reply_reason (job->reply, "wrong_status", "appointment_id", "the reservation is %s", status);
        return -1;
    }

    PGresult *lines = NULL;
    lotset_t lots = { 0 };
    char **codes = NULL, *lit = NULL;
    stock_line_t *held = NULL;
    stock_redate_t plan = { 0 };
    Meso__V1__IngredientAmount *ra = NULL, *ta = NULL, **rp = NULL, **tp = NULL;
    size_t nr = 0, nt = 0;
    int rc = -1;
    if (strcmp (prev, date) == 0)
        goto reply;             /* already there: nothing moves */

    lines = store_reservation_lines (db, clinic, appt);
    if (!lines)
        goto done;
    int n = PQntuples (lines);
    size_t lit_size = (size_t) n * (ID_MAX + 1) + 4;
    codes = calloc ((size_t) n + 1, sizeof *codes);
    lit = malloc (lit_size);
    if (!codes || !lit)
        goto oom;
    for (int i = 0; i < n; i++)
        codes[i] = PQgetvalue (lines, i, 0);
    frame_array_literal (lit, lit_size, codes, (size_t) n);
    if (lotset_lock (db, clinic, lit, &lots) != 0)
        goto done;
    size_t nlots = lots.set->n;
    held = calloc ((size_t) n + 1, sizeof *held);
    plan.released = calloc ((size_t) n + 1, sizeof *plan.released);
    plan.shorts = calloc ((size_t) n + 1, sizeof *plan.shorts);
    plan.held = calloc (nlots + 1, sizeof *plan.held);
    ra = calloc ((size_t) n + 1, sizeof *ra);
    rp = calloc ((size_t) n + 1, sizeof *rp);
    ta = calloc (nlots + 1, sizeof *ta);
    tp = calloc (nlots + 1, sizeof *tp);
    if (!held || !plan.released || !plan.shorts || !plan.held || !ra || !rp || !ta || !tp)
        goto oom;
    /* The lines are ordered by ingredient, as stock_redate needs. */
    for (int i = 0; i < n; i++)
        held[i] = (stock_line_t) { codes[i], lotset_find (&lots, PQgetvalue (lines, i, 3)),
                                 store_i64 (lines, i, 2) };
    if (stock_redate (lots.set, held, (size_t) n, session, &plan) != 0) {
        if (plan.failed == (size_t) n)
            goto oom;
        meso_reply_error (job->reply, MESO_INTERNAL, "lot picking failed for %s", codes[plan.failed]);
        goto done;
    }
    for (size_t k = 0; k < plan.n_shorts; k++) {
        const stock_short_t *x = &plan.shorts[k];
        meso_reply_reason (job->reply, "insufficient_stock", codes[x->line],
                           "%s: %" PRId64 " to move, %" PRId64 " usable on %s (thousandths of %s)",
                           codes[x->line], x->moved, x->usable, date,
                           PQgetvalue (lines, (int) x->line, 1));
    }
    int short_count = (int) plan.n_shorts;
    if (short_count) {
        meso_reply_error (job->reply, MESO_RESOURCE_EXHAUSTED,
                          "not enough stock in clinic %s to move appointment %s to %s: %d ingredient%s short",
                          clinic, appt, date, short_count, short_count > 1 ? "s" : "");
        meso_reply_detail (job->reply, "the reservation stays on %s", prev);
        goto done;
    }
    /* Released lines leave; held picks are added (to lots that stay
     * usable, so never one just left). */
    for (size_t k = 0; k < plan.n_released; k++) {
        int e = (int) plan.released[k].line;
        Meso__V1__IngredientAmount *a = &ra[nr];
        meso__v1__ingredient_amount__init (a);
        a->ingredient_code = codes[e];
        a->unit = INVENTORY_UNIT (PQgetvalue (lines, e, 1));
        a->amount_milli = plan.released[k].amount;
        a->lot_id = PQgetvalue (lines, e, 3);
        a->lot_number = PQgetvalue (lines, e, 4);
        rp[nr++] = a;
        if (store_reservation_line_delete (db, clinic, appt, a->lot_id) != 0)
            goto done;
    }
    for (size_t k = 0; k < plan.n_held; k++) {
        int g = (int) plan.held[k].line;
        int i = (int) plan.held[k].lot;
        Meso__V1__IngredientAmount *a = &ta[nt];
        meso__v1__ingredient_amount__init (a);
        a->ingredient_code = codes[g];
        a->unit = INVENTORY_UNIT (PQgetvalue (lines, g, 1));
        a->amount_milli = plan.held[k].amount;
        a->lot_id = PQgetvalue (lots.res, i, LOT_ID);
        a->lot_number = PQgetvalue (lots.res, i, LOT_NUMBER);
        tp[nt++] = a;
        if (store_reservation_line_add (db, clinic, appt, a->lot_id, codes[g], a->amount_milli) != 0)
            goto done;
    }
    if (lotset_write (db, clinic, &lots) != 0 || store_reservation_redate (db, clinic, appt, date) != 0)
        goto done;
    if (nr) {
        char why[300];
        snprintf (why, sizeof why, "session moved from %s to %s: lot expires before%s%.200s", prev, date,
                  in->reason && in->reason[0] ? "; " : "", in->reason ? in->reason : "");
        Meso__V1__StockReleased sl = MESO__V1__STOCK_RELEASED__INIT;
        sl.appointment_id = (char *) appt;
        sl.n_lines = nr;
        sl.lines = rp;
        sl.reason = why;
        Meso__V1__Event ev = MESO__V1__EVENT__INIT;
        ev.payload_case = MESO__V1__EVENT__PAYLOAD_STOCK_RELEASED;
        ev.stock_released = &sl;
        if (meso_handler_emit (db, &ev, "stock.released", clinic,
                               job->req->actor, &frame_service_actor) != 0)
            goto done;
        Meso__V1__StockReserved sr = MESO__V1__STOCK_RESERVED__INIT;
        sr.appointment_id = (char *) appt;
        sr.patient_id = patient;
        sr.session_date = date;
        sr.n_lines = nt;
        sr.lines = tp;
        Meso__V1__Event ev2 = MESO__V1__EVENT__INIT;
        ev2.payload_case = MESO__V1__EVENT__PAYLOAD_STOCK_RESERVED;
        ev2.stock_reserved = &sr;
        if (meso_handler_emit (db, &ev2, "stock.reserved", clinic,
                               job->req->actor, &frame_service_actor) != 0)
            goto done;
        for (size_t k = 0; k < nr; k++)
            if (frame_low_check (db, clinic, ra[k].ingredient_code, ra[k].unit) < 0)
                goto done;
    }
reply:;
    resv_t r;
    int found = resv_load (db, clinic, appt, &r);
    if (found <= 0)
        goto done;
    Meso__V1__RedateReply out = MESO__V1__REDATE_REPLY__INIT;
    out.reservation = &r.msg;
    out.previous_date = prev;
    out.n_released = nr;
    out.released = rp;
    out.n_reserved = nt;
    out.reserved = tp;
    meso_reply_ok (job->reply, &out.base);
    resv_free (&r);
    rc = 0;
    goto done;
oom:
    meso_db_set_error (db, NULL, "out of memory");
done:
    free (held);
    free (plan.released);
    free (plan.shorts);
    free (plan.held);
    free (ra);
    free (rp);
    free (ta);
    free (tp);
    lotset_free (&lots);
    free (codes);
    free (lit);
    PQclear (lines);
    return rc;
}

void
inventory_redate (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__RedateRequest *in = body;
    int bad = 0;
    meso_handler_need_clinic (reply, &bad, "clinic_id", in->clinic_id);
    meso_handler_need_text (reply, &bad, "appointment_id", in->appointment_id, ID_MAX);
    frame_need_session_date (reply, &bad, in->session_date);
    frame_may_text (reply, &bad, "reason", in->reason, TEXT_MAX);
    if (meso_handler_invalid (reply, bad, req->method))
        return;
    frame_clinic_from_scheduling (arg, in->clinic_id);     /* no lookup: see frame.c */
    frame_run (arg, req, reply, in, s_redate_effect);
}

