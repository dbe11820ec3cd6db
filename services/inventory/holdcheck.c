/* holdcheck.c -- "inventory.CheckHold": is the stock held for a session
 * complete and valid, so that the session may start?
 *
 * scheduling asks it before StartSession (peers.c): a session is not
 * started on a hold that is missing, at risk after a recall, holds a
 * recalled lot or one that expires before the session, or holds less of
 * an ingredient than the recipe needs for the booked areas. The decision
 * is stock_check_hold's (stock.c, pure); this file reads the reservation,
 * the recipe's needs and the held lines' lots, asks, and words each
 * problem naming the ingredient.
 *
 * A read: no transaction of its own, no idempotency key. Only scheduling
 * calls it, so the clinic is not looked up (scheduling waits for the
 * answer; see frame_clinic_from_scheduling). */
#include "inventory.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/handler.h"
#include "meso/mtime.h"

#define S_MSG_MAX 320

typedef struct {
    Meso__V1__HoldProblem *pa;
    Meso__V1__HoldProblem **pp;
    char (*msg)[S_MSG_MAX];
    size_t n;
} s_problems_t;

/* Room for cap problems. 0 or -1. */
static int
s_alloc (s_problems_t *p, size_t cap)
{
    p->pa = calloc (cap + 1, sizeof *p->pa);
    p->pp = calloc (cap + 1, sizeof *p->pp);
    p->msg = calloc (cap + 1, S_MSG_MAX);
    p->n = 0;
    return p->pa && p->pp && p->msg ? 0 : -1;
}

static Meso__V1__HoldProblem *
s_add (s_problems_t *p, const char *problem, const char *ingredient, const char *lot_id)
{
    Meso__V1__HoldProblem *x = &p->pa[p->n];
    meso__v1__hold_problem__init (x);
    x->problem = (char *) problem;
    x->ingredient_code = (char *) ingredient;
    x->lot_id = (char *) lot_id;
    x->message = p->msg[p->n];
    p->pp[p->n] = x;
    p->n++;
    return x;
}

/* The problems of a held reservation r (status "held"). 0, or -1 (db
 * error set). */
static int
s_check (meso_db_t *db, const resv_t *r, s_problems_t *p, PGresult **need_p, PGresult **lines_p)
{
    const Meso__V1__Reservation *m = &r->msg;
    char areas[MAX_AREAS * (ID_MAX + 1) + 4];
    frame_array_literal (areas, sizeof areas, m->areas, m->n_areas);
    PGresult *need = *need_p = store_recipe_need (db, m->recipe_id, m->recipe_version, areas);
    PGresult *lines = *lines_p = need ? store_hold_lines (db, m->clinic_id, m->appointment_id) : NULL;
    if (!lines)
        return -1;
    int nn = PQntuples (need), nl = PQntuples (lines);
    stock_need_t *needs = calloc ((size_t) nn + 1, sizeof *needs);
    bool *at_risk = calloc ((size_t) nn + 1, sizeof *at_risk);
    stock_held_t *held = calloc ((size_t) nl + 1, sizeof *held);
    stock_problem_t *out = calloc ((size_t) (nn + nl) + 1, sizeof *out);
    int rc = -1;
    if (!needs || !at_risk || !held || !out || s_alloc (p, (size_t) (nn + nl)) != 0) {
        meso_db_set_error (db, NULL, "out of memory");
        goto done;
    }
    for (int k = 0; k < nn; k++) {
        needs[k] = (stock_need_t) { PQgetvalue (need, k, 0), store_i64 (need, k, 2), 0 };
        for (size_t g = 0; g < m->n_missing; g++)
            if (strcmp (m->missing[g]->ingredient_code, needs[k].ingredient) == 0)
                at_risk[k] = true;
    }
    for (int i = 0; i < nl; i++)
        held[i] = (stock_held_t) { PQgetvalue (lines, i, 0), (int32_t) store_i64 (lines, i, 3),
                                   store_i64 (lines, i, 4) != 0, store_i64 (lines, i, 1) };
    int32_t session;
    meso_date_parse (m->session_date, &session);
    size_t np = stock_check_hold (needs, (size_t) nn, at_risk, held, (size_t) nl, session, out);
    for (size_t j = 0; j < np; j++) {
        const stock_problem_t *x = &out[j];
        int li = (int) x->line, k = (int) x->need;
        Meso__V1__HoldProblem *h;
        switch (x->kind) {
        case STOCK_HOLD_RECALLED:
            h = s_add (p, "recalled", held[li].ingredient, PQgetvalue (lines, li, 2));
            h->held_milli = x->held;
            snprintf (h->message, S_MSG_MAX, "%s: the hold is in lot %s, which is recalled",
                      held[li].ingredient, PQgetvalue (lines, li, 6));
            break;
        case STOCK_HOLD_EXPIRED:
            h = s_add (p, "expired", held[li].ingredient, PQgetvalue (lines, li, 2));
            h->held_milli = x->held;
            snprintf (h->message, S_MSG_MAX, "%s: the hold is in lot %s, which expires on %s, before the session of %s",
                      held[li].ingredient, PQgetvalue (lines, li, 6), PQgetvalue (lines, li, 5),
                      m->session_date);
            break;
        case STOCK_HOLD_SHORT:
        case STOCK_HOLD_AT_RISK:
            h = s_add (p, x->kind == STOCK_HOLD_SHORT ? "short" : "at_risk", needs[k].ingredient, "");
            h->needed_milli = x->needed;
            h->held_milli = x->held;
            snprintf (h->message, S_MSG_MAX, "%s: %" PRId64 " held in usable lots of %" PRId64 " needed (thousandths of %s)%s",
                      needs[k].ingredient, x->held, x->needed, PQgetvalue (need, k, 1),
                      x->kind == STOCK_HOLD_AT_RISK ? "; at risk since a recall took its lot" : "");
            break;
        }
    }
    rc = 0;
done:
    free (needs);
    free (at_risk);
    free (held);
    free (out);
    return rc;
}

void
inventory_check_hold (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    inventory_t *self = arg;
    Meso__V1__CheckHoldRequest *in = body;
    int bad = 0;
    meso_handler_need_clinic (reply, &bad, "clinic_id", in->clinic_id);
    meso_handler_need_text (reply, &bad, "appointment_id", in->appointment_id, ID_MAX);
    if (meso_handler_invalid (reply, bad, req->method))
        return;
    frame_clinic_from_scheduling (self, in->clinic_id);     /* no lookup: see frame.c */
    resv_t r;
    int found = resv_load (self->db, in->clinic_id, in->appointment_id, &r);
    if (found < 0) {
        meso_reply_db_error (reply, self->db, "cannot read the reservation");
        return;
    }
    s_problems_t p = { 0 };
    PGresult *need = NULL, *lines = NULL;
    if (!found || r.msg.status != MESO__V1__RESERVATION_STATUS__RESERVATION_STATUS_HELD) {
        if (s_alloc (&p, 1) != 0) {
            meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED, "out of memory");
            goto done;
        }
        Meso__V1__HoldProblem *h = s_add (&p, "missing", "", "");
        char status[MESO_ENUM_TEXT_MAX];
        if (found)
            snprintf (h->message, S_MSG_MAX, "no stock is held for appointment %s: its reservation was %s",
                      in->appointment_id,
                      meso_enum_text (&meso__v1__reservation_status__descriptor, (int) r.msg.status, status,
                                      sizeof status) ? status : "in an unknown state");
        else
            snprintf (h->message, S_MSG_MAX, "no stock is held for appointment %s", in->appointment_id);
    }
    else if (s_check (self->db, &r, &p, &need, &lines) != 0) {
        meso_reply_db_error (reply, self->db, "cannot check the hold");
        goto done;
    }
    Meso__V1__CheckHoldReply out = MESO__V1__CHECK_HOLD_REPLY__INIT;
    out.ok = p.n == 0;
    out.n_problems = p.n;
    out.problems = p.pp;
    out.reservation = found ? &r.msg : NULL;
    meso_reply_ok (reply, &out.base);
done:
    free (p.pa);
    free (p.pp);
    free (p.msg);
    PQclear (need);
    PQclear (lines);
    if (found)
        resv_free (&r);
}
