/* consume.c -- what sessions consumed: "inventory.Consume", and the
 * effect of session events (inventory_on_event): session.completed
 * consumes, session.cancelled and session.no_show release (holds.c).
 *
 * Consumption exists twice, as the method and as the event, and the two
 * share s_consume_apply. The event path is lenient where the method is
 * strict: an event is a fact that already happened, so a state that makes
 * it moot (already consumed, never reserved, an unknown ingredient) is a
 * no-op or a warning rather than an error that would stop the stream
 * forever. A session may also consume without a reservation (given the
 * actual amounts, the patient and the date). The event runs inside
 * meso_consumer's transaction, which also advances the cursor.
 *
 * What to draw from which lot -- give back the hold, take the actual
 * amounts from the named lot, then the reservation's lots, then the
 * clinic's other usable lots, never a recalled one -- is stock_consume's
 * (stock.c); this file checks, locks, asks and writes the ledger. */
#include "inventory.h"

#include "meso/audit.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/handler.h"
#include "meso/log.h"
#include "meso/mtime.h"

/* A consumption, from the method or from session.completed. */
typedef struct {
    const char *clinic;
    const char *appointment;
    Meso__V1__IngredientAmount **actual;
    size_t n_actual;
    const char *patient;
    const char *session_date;
    const Meso__V1__Actor *actor;
    bool strict;
} s_consume_args_t;

static int
s_codes_add (char **codes, int *n, const char *code)
{
    for (int i = 0; i < *n; i++)
        if (strcmp (codes[i], code) == 0)
            return 0;
    codes[(*n)++] = (char *) code;
    return 1;
}

/* Records what a session consumed. 0 done, 1 nothing to do, -1 refused or
 * failed. */
static int
s_consume_apply (meso_db_t *db, const s_consume_args_t *a, meso_reply_t *reply)
{
    PGresult *head = store_reservation_get (db, a->clinic, a->appointment, true);
    if (!head)
        return -1;
    char session_date[16] = "";
    if (PQntuples (head) == 0) {
        PQclear (head);
        if (a->n_actual == 0 || !a->patient || !*a->patient || !a->session_date || !*a->session_date) {
            if (!a->strict)
                return 1;
            meso_reply_error (reply, MESO_NOT_FOUND,
                              "no reservation for appointment %.64s in clinic %.64s", a->appointment,
                              a->clinic);
            meso_reply_detail (reply, "to record a consumption without a reservation, give the actual "
                                      "amounts, patient_id and session_date");
            return -1;
        }
        int32_t d;
        if (meso_date_parse (a->session_date, &d) != 0) {
            if (!a->strict)
                return 1;
            meso_reply_error (reply, MESO_INVALID_ARGUMENT, "session_date must be YYYY-MM-DD");
            return -1;
        }
        if (store_reservation_insert (db, a->clinic, a->appointment, a->patient, a->session_date,
                                      "", 0, "{}", "held") < 0)
            return -1;
        snprintf (session_date, sizeof session_date, "%s", a->session_date);
    }
    else {
        char status[16];
        snprintf (status, sizeof status, "%s", PQgetvalue (head, 0, 7));
        snprintf (session_date, sizeof session_date, "%s", PQgetvalue (head, 0, 3));
        meso_call_patient (PQgetvalue (head, 0, 2)[0] ? PQgetvalue (head, 0, 2) : NULL, a->clinic);
        PQclear (head);
        if (strcmp (status, "consumed") == 0)
            return 1;
        if (strcmp (status, "released") == 0) {
            if (!a->strict) {
                meso_warn ("session %s completed after its reservation was released: nothing consumed",
                           a->appointment);
                return 1;
            }
            meso_reply_error (reply, MESO_FAILED_PRECONDITION,
                              "the reservation of appointment %s was released", a->appointment);
            return -1;
        }
    }
    int32_t session;
    meso_date_parse (session_date, &session);

    PGresult *lines = store_reservation_lines (db, a->clinic, a->appointment);
    if (!lines)
        return -1;
    int nl = PQntuples (lines);
    int rc = -1;
    size_t cap = (size_t) nl + a->n_actual + 1;
    char **codes = calloc (cap, sizeof *codes);
    size_t lit_size = cap * (ID_MAX + 1) + 4;
    char *lit = malloc (lit_size);
    bool *use = calloc (a->n_actual + 1, sizeof *use);
    lotset_t lots = { 0 };
    stock_line_t *held = NULL, *drawn = NULL;
    int64_t *left = NULL;
    int ncodes = 0;
    if (!codes || !lit || !use)
        goto done;
    for (int i = 0; i < nl; i++)
        s_codes_add (codes, &ncodes, PQgetvalue (lines, i, 0));
    /* Check the actual amounts: unknown ingredients and bad amounts are
     * refused by the method and skipped (logged) by the event. */
    int bad = 0;
    for (size_t k = 0; k < a->n_actual; k++) {
        const Meso__V1__IngredientAmount *x = a->actual[k];
        char field[48];
        snprintf (field, sizeof field, "actual[%zu]", k);
        bool ok = meso_handler_ingredient_ok (x->ingredient_code) && x->amount_milli > 0
               && x->amount_milli <= QTY_MAX;
        if (ok) {
            PGresult *res = store_ingredient_get (db, x->ingredient_code);
            if (!res)
                goto done;
            ok = PQntuples (res) == 1;
            PQclear (res);
        }
        if (!ok) {
            if (a->strict)
                meso_reply_reason (reply, "invalid_amount", field,
                                   "%.64s: a catalogue ingredient and a positive amount are needed",
                                   x->ingredient_code ? x->ingredient_code : "");
            else
                meso_warn ("session %s: consumed line for \"%.64s\" ignored (unknown ingredient or bad amount)",
                           a->appointment, x->ingredient_code ? x->ingredient_code : "");
            bad++;
            continue;
        }
        use[k] = true;
        s_codes_add (codes, &ncodes, x->ingredient_code);
    }
    if (bad && a->strict) {
        meso_reply_error (reply, MESO_INVALID_ARGUMENT, "invalid actual amounts");
        goto done;
    }
    frame_array_literal (lit, lit_size, codes, (size_t) ncodes);
    if (lotset_lock (db, a->clinic, lit, &lots) != 0)
        goto done;
    held = calloc ((size_t) nl + 1, sizeof *held);
    drawn = calloc (a->n_actual + 1, sizeof *drawn);
    left = calloc (a->n_actual + 1, sizeof *left);
    if (!held || !drawn || !left) {
        meso_db_set_error (db, NULL, "out of memory");
        goto done;
    }
    for (int i = 0; i < nl; i++)
        held[i] = (stock_line_t) { PQgetvalue (lines, i, 0), lotset_find (&lots, PQgetvalue (lines, i, 3)),
                                   store_i64 (lines, i, 2) };
    size_t ndrawn = 0;
    for (size_t k = 0; k < a->n_actual; k++) {
        const Meso__V1__IngredientAmount *x = a->actual[k];
        if (use[k])
            drawn[ndrawn++] = (stock_line_t) {
                x->ingredient_code, x->lot_id && *x->lot_id ? lotset_find (&lots, x->lot_id) : -1,
                x->amount_milli };
    }
    /* A recalled lot is never injected: the method refuses to record
     * one; the event (a fact) draws from the usable lots instead
     * (stock_consume never takes from a recalled lot). */
    int recalled = 0;
    for (size_t j = 0; a->strict && j < ndrawn; j++)
        if (drawn[j].lot >= 0 && lots.set->fl[drawn[j].lot].recalled) {
            meso_reply_reason (reply, "recalled_lot", drawn[j].ingredient, "%s: lot %s is recalled",
                               drawn[j].ingredient, lotset_lot_id (&lots, (size_t) drawn[j].lot));
            recalled++;
        }
    if (recalled) {
        meso_reply_error (reply, MESO_FAILED_PRECONDITION,
                          "a recalled lot cannot be consumed in clinic %s", a->clinic);
        goto done;
    }
    /* No actual amounts: what was held. Actual amounts all skipped (the
     * event's bad lines): nothing drawn. */
    int64_t shortfall = stock_consume (lots.set, held, (size_t) nl, a->n_actual ? drawn : NULL,
                                       ndrawn, session, left);
    for (size_t j = 0; a->strict && j < ndrawn; j++)
        if (left[j] > 0)
            meso_reply_reason (reply, "insufficient_stock", drawn[j].ingredient,
                               "%s: %" PRId64 " more than clinic %s has on hand",
                               drawn[j].ingredient, left[j], a->clinic);
    if (shortfall > 0) {
        if (a->strict) {
            meso_reply_error (reply, MESO_FAILED_PRECONDITION,
                              "the actual amounts exceed the stock on hand in clinic %s", a->clinic);
            meso_reply_detail (reply, "receive or adjust the missing stock, then consume again");
            goto done;
        }
        meso_warn ("session %s consumed %" PRId64 " more than clinic %s had on hand: recorded what was there",
                   a->appointment, shortfall, a->clinic);
    }
    const stock_set_t *set = lots.set;
    for (size_t i = 0; i < set->n; i++) {
        if (set->d_on_hand[i] >= 0)
            continue;
        const char *lot_id = lotset_lot_id (&lots, i);
        if (store_movement (db, a->clinic, lot_id, "consume", set->d_on_hand[i], a->appointment, NULL) != 0
            || store_consumption_insert (db, a->clinic, a->appointment, lot_id, set->ingredient[i],
                                         -set->d_on_hand[i]) != 0)
            goto done;
    }
    if (lotset_write (db, a->clinic, &lots) != 0
        || store_reservation_close (db, a->clinic, a->appointment, "consumed", NULL) != 0
        || resv_emit (db, a->clinic, a->appointment, "consumed", NULL, a->actor) != 0)
        goto done;
    for (int i = 0; i < ncodes; i++)
        if (frame_low_check (db, a->clinic, codes[i], MESO__V1__UNIT__UNIT_UNSPECIFIED) < 0)
            goto done;
    rc = 0;
done:
    lotset_free (&lots);
    free (held);
    free (drawn);
    free (left);
    free (codes);
    free (lit);
    free (use);
    PQclear (lines);
    return rc;
}

static int
s_consume_effect (meso_db_t *db, frame_job_t *job)
{
    Meso__V1__ConsumeRequest *in = job->in;
    s_consume_args_t a = { in->clinic_id, in->appointment_id, in->actual, in->n_actual,
                           in->patient_id, in->session_date, job->req->actor, true };
    if (s_consume_apply (db, &a, job->reply) < 0)
        return -1;
    return resv_reply (db, job->reply, in->clinic_id, in->appointment_id, job->req->method, false);
}

void
inventory_consume (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__ConsumeRequest *in = body;
    int bad = 0;
    meso_handler_need_clinic (reply, &bad, "clinic_id", in->clinic_id);
    meso_handler_need_text (reply, &bad, "appointment_id", in->appointment_id, ID_MAX);
    /* recorded only without a reservation, but bounded either way */
    frame_may_text (reply, &bad, "patient_id", in->patient_id, ID_MAX);
    frame_may_text (reply, &bad, "session_date", in->session_date, 10);
    if (in->n_actual > MAX_LINES) {
        meso_reply_reason (reply, "out_of_range", "actual", "at most %d actual amounts", MAX_LINES);
        bad++;
    }
    for (size_t k = 0; k < in->n_actual && k < MAX_LINES; k++) {
        char field[48];
        snprintf (field, sizeof field, "actual[%zu].ingredient_code", k);
        meso_handler_need_ingredient (reply, &bad, field, in->actual[k]->ingredient_code);
        snprintf (field, sizeof field, "actual[%zu].amount_milli", k);
        frame_need_qty (reply, &bad, field, in->actual[k]->amount_milli);
    }
    if (meso_handler_invalid (reply, bad, req->method))
        return;
    frame_clinic_from_scheduling (arg, in->clinic_id);     /* no lookup: see frame.c */
    frame_run (arg, req, reply, in, s_consume_effect);
}

/* ------------------------------------------------------- session events */

int
inventory_on_event (meso_db_t *db, const Meso__V1__Event *ev, void *arg)
{
    inventory_t *self = arg;
    const Meso__V1__SessionInfo *s = NULL;
    int kind = 0;               /* 1 consume, 2 release */
    const char *reason = "";
    Meso__V1__IngredientAmount **actual = NULL;
    size_t n_actual = 0;
    switch (ev->payload_case) {
    case MESO__V1__EVENT__PAYLOAD_SESSION_COMPLETED:
        s = ev->session_completed->session;
        actual = ev->session_completed->consumed;
        n_actual = ev->session_completed->n_consumed;
        kind = 1;
        break;
    case MESO__V1__EVENT__PAYLOAD_SESSION_CANCELLED:
        s = ev->session_cancelled->session;
        reason = "session cancelled";
        kind = 2;
        break;
    case MESO__V1__EVENT__PAYLOAD_SESSION_NO_SHOW:
        s = ev->session_no_show->session;
        reason = "no-show";
        kind = 2;
        break;
    default:
        return 0;               /* other session events change no stock */
    }
    if (!s || !s->appointment_id || !*s->appointment_id) {
        meso_warn ("event %s (%s) has no session: ignored", ev->id, ev->type);
        return 0;
    }
    const char *clinic = s->clinic_id && *s->clinic_id ? s->clinic_id : ev->clinic_id;
    meso_reply_t *scratch = meso_reply_new ();
    if (!scratch) {
        meso_db_set_error (db, NULL, "out of memory");
        return -1;
    }
    int rc;
    if (kind == 1) {
        /* The session's date, clinic local, for a consumption without a
         * reservation: the local start "YYYY-MM-DDTHH:MM" starts with it. */
        char date[11] = "";
        if (s->local_start && strlen (s->local_start) >= 10)
            memcpy (date, s->local_start, 10);
        else if (s->starts_at_us)
            meso_date_format ((int32_t) (s->starts_at_us / INT64_C (86400000000)), date, sizeof date);
        s_consume_args_t a = { clinic, s->appointment_id, actual, n_actual, s->patient_id, date,
                               ev->actor, false };
        rc = s_consume_apply (db, &a, scratch);
    }
    else
        rc = holds_release_apply (db, clinic, s->appointment_id, reason, ev->actor, false, scratch);
    meso_reply_destroy (&scratch);
    if (rc >= 0 && self)
        self->events_applied++;
    return rc < 0 ? -1 : 0;
}

