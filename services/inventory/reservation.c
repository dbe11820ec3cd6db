/* reservation.c -- a reservation as the messages carry it: loaded with its
 * held and consumed lines into a Meso__V1__Reservation, put in the reply of
 * Reserve, Release or Consume, or emitted as stock.reserved,
 * stock.released or stock.consumed.
 *
 * Its own file because holds.c (Reserve, Release, Redate) and consume.c
 * (Consume, session events) both answer and announce with it, and neither
 * should call the other for that. It reads; it never changes a row. */
#include "inventory.h"

#include <stdlib.h>
#include <string.h>

#include "meso/handler.h"

void
resv_free (resv_t *r)
{
    PQclear (r->head);
    PQclear (r->lines);
    PQclear (r->consumed);
    PQclear (r->gaps);
    free (r->la);
    free (r->ca);
    free (r->ga);
    free (r->lp);
    free (r->cp);
    free (r->gp);
    free (r->areas_buf);
    free (r->areas);
    memset (r, 0, sizeof *r);
}

static int
s_amounts (PGresult *res, Meso__V1__IngredientAmount **arr, Meso__V1__IngredientAmount ***ptrs)
{
    int n = PQntuples (res);
    *arr = calloc ((size_t) n + 1, sizeof **arr);
    *ptrs = calloc ((size_t) n + 1, sizeof **ptrs);
    if (!*arr || !*ptrs)
        return -1;
    for (int i = 0; i < n; i++) {
        Meso__V1__IngredientAmount *a = &(*arr)[i];
        meso__v1__ingredient_amount__init (a);
        a->ingredient_code = PQgetvalue (res, i, 0);
        a->unit = INVENTORY_UNIT (PQgetvalue (res, i, 1));
        a->amount_milli = store_i64 (res, i, 2);
        a->lot_id = PQgetvalue (res, i, 3);
        a->lot_number = PQgetvalue (res, i, 4);
        if (PQnfields (res) > 5)        /* lines read from a lot carry its expiry */
            a->lot_expiry_date = PQgetvalue (res, i, 5);
        (*ptrs)[i] = a;
    }
    return n;
}

/* Loads a reservation with its lines. 1 found, 0 not, -1 error (db error
 * set, or out of memory). */
int
resv_load (meso_db_t *db, const char *clinic, const char *appointment, resv_t *r)
{
    memset (r, 0, sizeof *r);
    /* The row and its three kinds of lines in one round trip. */
    PGresult *res[4];
    if (store_reservation_load (db, clinic, appointment, res) != 0)
        return -1;
    r->head = res[0];
    r->lines = res[1];
    r->consumed = res[2];
    r->gaps = res[3];
    if (PQntuples (r->head) == 0) {
        resv_free (r);
        return 0;
    }
    Meso__V1__Reservation *m = &r->msg;
    meso__v1__reservation__init (m);
    m->clinic_id = PQgetvalue (r->head, 0, 0);
    m->appointment_id = PQgetvalue (r->head, 0, 1);
    m->patient_id = PQgetvalue (r->head, 0, 2);
    m->session_date = PQgetvalue (r->head, 0, 3);
    m->recipe_id = PQgetvalue (r->head, 0, 4);
    m->recipe_version = (uint32_t) store_i64 (r->head, 0, 5);
    m->status = meso_enum_from_db (&meso__v1__reservation_status__descriptor, PQgetvalue (r->head, 0, 7),
                                   "reservation status");
    const char *areas = PQgetvalue (r->head, 0, 6);
    r->areas_buf = strdup (areas);
    r->areas = calloc (strlen (areas) / 2 + 2, sizeof *r->areas);
    if (!r->areas_buf || !r->areas) {
        resv_free (r);
        return -1;
    }
    size_t na = 0;
    for (char *save = NULL, *tok = strtok_r (r->areas_buf, ",", &save); tok;
         tok = strtok_r (NULL, ",", &save))
        r->areas[na++] = tok;
    m->n_areas = na;
    m->areas = r->areas;
    int nl = s_amounts (r->lines, &r->la, &r->lp);
    int nc = s_amounts (r->consumed, &r->ca, &r->cp);
    int ng = s_amounts (r->gaps, &r->ga, &r->gp);
    if (nl < 0 || nc < 0 || ng < 0) {
        resv_free (r);
        return -1;
    }
    m->n_lines = (size_t) nl;
    m->lines = r->lp;
    m->n_consumed = (size_t) nc;
    m->consumed = r->cp;
    /* A recall's gaps count only while the reservation is held (the
     * store returns none otherwise). */
    m->at_risk = ng > 0;
    m->n_missing = (size_t) ng;
    m->missing = r->gp;
    return 1;
}

void
resv_reply_loaded (meso_reply_t *reply, resv_t *r, const char *method, bool existing)
{
    if (strcmp (method, "inventory.Reserve") == 0) {
        Meso__V1__ReserveReply out = MESO__V1__RESERVE_REPLY__INIT;
        out.reservation = &r->msg;
        out.existing = existing;
        meso_reply_ok (reply, &out.base);
    }
    else if (strcmp (method, "inventory.Release") == 0) {
        Meso__V1__ReleaseReply out = MESO__V1__RELEASE_REPLY__INIT;
        out.reservation = &r->msg;
        meso_reply_ok (reply, &out.base);
    }
    else {
        Meso__V1__ConsumeReply out = MESO__V1__CONSUME_REPLY__INIT;
        out.reservation = &r->msg;
        meso_reply_ok (reply, &out.base);
    }
}

/* Replies with a reservation in the reply message type of the method. */
int
resv_reply (meso_db_t *db, meso_reply_t *reply, const char *clinic, const char *appointment,
            const char *method, bool existing)
{
    resv_t r;
    int rc = resv_load (db, clinic, appointment, &r);
    if (rc < 0)
        return -1;
    if (rc == 0) {
        meso_reply_error (reply, MESO_NOT_FOUND, "no reservation for appointment %.64s in clinic %.64s",
                          appointment, clinic);
        return -1;
    }
    resv_reply_loaded (reply, &r, method, existing);
    resv_free (&r);
    return 0;
}

/* Builds the event lines of a reservation's current lines (or
 * consumption) and emits one event. kind: "reserved", "released",
 * "consumed". */
int
resv_emit (meso_db_t *db, const char *clinic, const char *appointment, const char *kind,
           const char *reason, const Meso__V1__Actor *actor)
{
    resv_t r;
    int rc = resv_load (db, clinic, appointment, &r);
    if (rc <= 0)
        return rc < 0 ? -1 : 0;
    rc = resv_emit_loaded (db, &r, kind, reason, actor);
    resv_free (&r);
    return rc;
}

int
resv_emit_loaded (meso_db_t *db, resv_t *r, const char *kind, const char *reason,
                  const Meso__V1__Actor *actor)
{
    const char *clinic = r->msg.clinic_id;
    Meso__V1__Event ev = MESO__V1__EVENT__INIT;
    Meso__V1__StockReserved sr = MESO__V1__STOCK_RESERVED__INIT;
    Meso__V1__StockReleased sl = MESO__V1__STOCK_RELEASED__INIT;
    Meso__V1__StockConsumed sc = MESO__V1__STOCK_CONSUMED__INIT;
    const char *type;
    if (strcmp (kind, "reserved") == 0) {
        sr.appointment_id = r->msg.appointment_id;
        sr.patient_id = r->msg.patient_id;
        sr.session_date = r->msg.session_date;
        sr.n_lines = r->msg.n_lines;
        sr.lines = r->msg.lines;
        ev.payload_case = MESO__V1__EVENT__PAYLOAD_STOCK_RESERVED;
        ev.stock_reserved = &sr;
        type = "stock.reserved";
    }
    else if (strcmp (kind, "released") == 0) {
        sl.appointment_id = r->msg.appointment_id;
        sl.n_lines = r->msg.n_lines;
        sl.lines = r->msg.lines;
        sl.reason = (char *) (reason ? reason : "");
        ev.payload_case = MESO__V1__EVENT__PAYLOAD_STOCK_RELEASED;
        ev.stock_released = &sl;
        type = "stock.released";
    }
    else {
        sc.appointment_id = r->msg.appointment_id;
        sc.patient_id = r->msg.patient_id;
        sc.n_lines = r->msg.n_consumed;
        sc.lines = r->msg.consumed;
        ev.payload_case = MESO__V1__EVENT__PAYLOAD_STOCK_CONSUMED;
        ev.stock_consumed = &sc;
        type = "stock.consumed";
    }
    return meso_handler_emit (db, &ev, type, clinic, actor, &frame_service_actor);
}
