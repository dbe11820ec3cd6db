/* peers.c -- the calls scheduling makes to the other services:
 * inventory.GetRecipe, Reserve, Redate, Release and CheckHold, and
 * screening.Check and GetScreening (the facts the course rules need).
 *
 * Apart from the saga because the methods need some of them too
 * (StartSession screens again, Reschedule moves the reservation): with
 * the calls here, a method file and the saga both call down into this
 * file and never into each other. Each call words its own refusal; the
 * bus client and its deadline are the daemon's (scheduling_t). */
#include "scheduling.h"

#include <stdio.h>
#include <string.h>

#include "inventory.pb-c.h"
#include "screening.pb-c.h"
#include "meso/log.h"
#include "meso/mtime.h"
#include "meso/uuid.h"

void
peers_copy_refusal (meso_reply_t *reply, const meso_result_t *r, const char *who)
{
    int status = r->status == MESO_OK ? MESO_INTERNAL : r->status;
    meso_reply_error (reply, status, "%s: %s", who, r->message);
    if (r->reply) {
        if (r->reply->detail && r->reply->detail[0])
            meso_reply_detail (reply, "%s", r->reply->detail);
        for (size_t i = 0; i < r->reply->n_reasons; i++) {
            const Meso__V1__Reason *x = r->reply->reasons[i];
            meso_reply_reason (reply, x->code, x->field && x->field[0] ? x->field : NULL, "%s",
                               x->message ? x->message : "");
        }
    }
}

/* ------------------------------------------------------------ inventory */

int
peers_recipe (scheduling_t *self, const char *recipe_id, uint32_t version, char *const *areas,
              size_t n_areas, sched_recipe_t *out, meso_reply_t *reply)
{
    memset (out, 0, sizeof *out);
    Meso__V1__GetRecipeRequest rq = MESO__V1__GET_RECIPE_REQUEST__INIT;
    rq.recipe_id = (char *) recipe_id;
    rq.version = version;
    rq.areas = (char **) areas;
    rq.n_areas = n_areas;
    meso_result_t r = { 0 };
    if (meso_bus_client_call (self->inventory, "inventory.GetRecipe", &rq.base, NULL,
                              self->call_deadline_ms, &r) != 0) {
        peers_copy_refusal (reply, &r, "recipe lookup at inventory");
        meso_result_reset (&r);
        return -1;
    }
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__GetRecipeReply *rep = meso__v1__get_recipe_reply__unpack (NULL, len, body);
    int rc = -1;
    if (!rep)
        meso_reply_error (reply, MESO_INTERNAL, "inventory sent an undecodable GetRecipeReply");
    else if (rep->n_needs == 0 || rep->version == 0) {
        meso_reply_error (reply, MESO_NOT_FOUND, "recipe %s needs nothing for these areas", recipe_id);
        meso_reply_reason (reply, "unknown_recipe", "recipe_id",
                           "record the recipe in inventory (inventory.UpsertRecipe) for these areas");
    }
    else if (rep->n_needs > SCHED_MAX_INGREDIENTS)
        meso_reply_error (reply, MESO_FAILED_PRECONDITION, "recipe %s has more than %d ingredients",
                          recipe_id, SCHED_MAX_INGREDIENTS);
    else {
        out->version = rep->version;
        for (size_t i = 0; i < rep->n_needs; i++) {
            snprintf (out->codes[i], sizeof out->codes[i], "%s", rep->needs[i]->ingredient_code);
            out->ingredients[i] = out->codes[i];
        }
        out->n = (int) rep->n_needs;
        rc = 0;
    }
    if (rep)
        meso__v1__get_recipe_reply__free_unpacked (rep, NULL);
    meso_result_reset (&r);
    return rc;
}

int
peers_redate (scheduling_t *self, const char *clinic_id, const char *appointment_id,
              const char *date, const char *reason, meso_reply_t *reply)
{
    Meso__V1__RedateRequest rq = MESO__V1__REDATE_REQUEST__INIT;
    rq.clinic_id = (char *) clinic_id;
    rq.appointment_id = (char *) appointment_id;
    rq.session_date = (char *) date;
    rq.reason = (char *) reason;
    /* A fresh key per call: the client's own retries of this call share
     * it, but a later call (the move undone, then made again) must be
     * applied, not answered with an old stored reply. Redate is
     * idempotent by its target date anyway. */
    char key[96], uuid[40];
    if (meso_uuid_v4 (uuid) != 0) {
        meso_reply_error (reply, MESO_INTERNAL, "no randomness for ids");
        return -1;
    }
    snprintf (key, sizeof key, "scheduling-redate-%s", uuid);
    meso_result_t r = { 0 };
    int rc = meso_bus_client_call (self->inventory, "inventory.Redate", &rq.base, key,
                                   self->call_deadline_ms, &r);
    if (rc != 0) {
        peers_copy_refusal (reply, &r, "inventory");
        rc = r.reply ? 1 : -1;
    }
    meso_result_reset (&r);
    return rc;
}

int
peers_reserve (scheduling_t *self, const sched_reservation_t *x, meso_reply_t *reply)
{
    char areas[sizeof x->areas];
    snprintf (areas, sizeof areas, "%s", x->areas);
    char *list[SCHED_MAX_AREAS];
    size_t n = rows_split (areas, list, SCHED_MAX_AREAS);
    Meso__V1__ReserveRequest rq = MESO__V1__RESERVE_REQUEST__INIT;
    rq.appointment_id = (char *) x->appointment_id;
    rq.patient_id = (char *) x->patient_id;
    rq.clinic_id = (char *) x->clinic_id;
    rq.session_date = (char *) x->date;
    rq.areas = list;
    rq.n_areas = n;
    rq.recipe_id = (char *) x->recipe_id;
    rq.recipe_version = (uint32_t) x->recipe_version;
    char key[96];
    snprintf (key, sizeof key, "scheduling-reserve-%s", x->appointment_id);
    meso_result_t r = { 0 };
    int rc = meso_bus_client_call (self->inventory, "inventory.Reserve", &rq.base, key,
                                   self->call_deadline_ms, &r);
    if (rc != 0) {
        peers_copy_refusal (reply, &r, "inventory");
        rc = r.reply ? 1 : -1;
    }
    meso_result_reset (&r);
    return rc;
}

int
peers_release (scheduling_t *self, const char *clinic_id, const char *appointment_id)
{
    Meso__V1__ReleaseRequest rq = MESO__V1__RELEASE_REQUEST__INIT;
    rq.clinic_id = (char *) clinic_id;
    rq.appointment_id = (char *) appointment_id;
    rq.reason = "booking undone";
    char key[96];
    snprintf (key, sizeof key, "scheduling-release-%s", appointment_id);
    meso_result_t r = { 0 };
    int rc = meso_bus_client_call (self->inventory, "inventory.Release", &rq.base, key,
                                   self->call_deadline_ms, &r);
    if (rc != 0 && r.status == MESO_NOT_FOUND)
        rc = 0;                 /* never reserved: nothing to give back */
    if (rc != 0)
        meso_warn ("release of appointment %s failed: %s", appointment_id, r.message);
    meso_result_reset (&r);
    return rc;
}

int
peers_check_hold (scheduling_t *self, const char *clinic_id, const char *appointment_id,
                  meso_reply_t *reply)
{
    Meso__V1__CheckHoldRequest rq = MESO__V1__CHECK_HOLD_REQUEST__INIT;
    rq.clinic_id = (char *) clinic_id;
    rq.appointment_id = (char *) appointment_id;
    meso_result_t r = { 0 };
    if (meso_bus_client_call (self->inventory, "inventory.CheckHold", &rq.base, NULL,
                              self->call_deadline_ms, &r) != 0) {
        peers_copy_refusal (reply, &r, "stock check at inventory");
        meso_result_reset (&r);
        return -1;
    }
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__CheckHoldReply *rep = meso__v1__check_hold_reply__unpack (NULL, len, body);
    int rc = -1;
    if (!rep)
        meso_reply_error (reply, MESO_INTERNAL, "inventory sent an undecodable CheckHoldReply");
    else if (rep->ok)
        rc = 0;
    else {
        /* The first problem names the ingredient in the message; every
         * problem is a reason. */
        const Meso__V1__HoldProblem *p0 = rep->n_problems ? rep->problems[0] : NULL;
        meso_reply_error (reply, MESO_FAILED_PRECONDITION, "the stock held for appointment %s is not usable: %s",
                          appointment_id, p0 ? p0->message : "no detail");
        for (size_t i = 0; i < rep->n_problems; i++)
            meso_reply_reason (reply, "stock_hold",
                               rep->problems[i]->ingredient_code[0] ? rep->problems[i]->ingredient_code : NULL,
                               "%s (%s)", rep->problems[i]->message, rep->problems[i]->problem);
    }
    if (rep)
        meso__v1__check_hold_reply__free_unpacked (rep, NULL);
    meso_result_reset (&r);
    return rc;
}

/* ------------------------------------------------------------ screening */

int
peers_check (scheduling_t *self, const char *patient_id, const sched_recipe_t *recipe,
             const char *date, const char *clinic_id, bool new_course, meso_result_t *r)
{
    Meso__V1__CheckRequest ck = MESO__V1__CHECK_REQUEST__INIT;
    ck.patient_id = (char *) patient_id;
    ck.ingredients = (char **) recipe->ingredients;
    ck.n_ingredients = (size_t) recipe->n;
    ck.date = (char *) date;
    ck.clinic_id = (char *) clinic_id;
    ck.treatment = SCHED_TREATMENT;
    ck.require_current_consent = new_course;
    return meso_bus_client_call (self->screening, "screening.Check", &ck.base, NULL,
                                 self->call_deadline_ms, r);
}

int
peers_screening (scheduling_t *self, const char *patient_id, sched_screening_t *out, meso_reply_t *reply)
{
    memset (out, 0, sizeof *out);
    out->earliest = INT32_MIN;
    Meso__V1__GetScreeningRequest rq = MESO__V1__GET_SCREENING_REQUEST__INIT;
    rq.patient_id = (char *) patient_id;
    rq.history_limit = 1;
    meso_result_t r = { 0 };
    if (meso_bus_client_call (self->screening, "screening.GetScreening", &rq.base, NULL,
                              self->call_deadline_ms, &r) != 0) {
        int rc = 0;
        if (r.status != MESO_NOT_FOUND) {       /* an unknown patient: Check words it */
            peers_copy_refusal (reply, &r, "screening lookup");
            rc = -1;
        }
        meso_result_reset (&r);
        return rc;
    }
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__GetScreeningReply *rep = meso__v1__get_screening_reply__unpack (NULL, len, body);
    int rc = 0;
    if (!rep) {
        meso_reply_error (reply, MESO_INTERNAL, "screening sent an undecodable GetScreeningReply");
        rc = -1;
    }
    else if (rep->current) {
        const Meso__V1__Screening *sc = rep->current;
        snprintf (out->screening_id, sizeof out->screening_id, "%s", sc->id ? sc->id : "");
        out->grade = sc->course ? sc->course->grade : 0;
        out->known = meso_date_parse (sc->valid_until, &out->valid_until) == 0;
        int32_t e;
        if (sc->earliest_first_session && sc->earliest_first_session[0]
            && meso_date_parse (sc->earliest_first_session, &e) == 0)
            out->earliest = e;
    }
    if (rep)
        meso__v1__get_screening_reply__free_unpacked (rep, NULL);
    meso_result_reset (&r);
    return rc;
}

Meso__V1__GetInstructionsReply *
peers_instructions (scheduling_t *self, const char *patient_id, bool *unreachable)
{
    *unreachable = false;
    Meso__V1__GetInstructionsRequest rq = MESO__V1__GET_INSTRUCTIONS_REQUEST__INIT;
    rq.patient_id = (char *) patient_id;
    meso_result_t r = { 0 };
    Meso__V1__GetInstructionsReply *out = NULL;
    int rc = meso_bus_client_call (self->screening, "screening.GetInstructions", &rq.base, NULL,
                                   self->call_deadline_ms, &r);
    if (rc == 0) {
        size_t len;
        const uint8_t *body = meso_result_body (&r, &len);
        out = meso__v1__get_instructions_reply__unpack (NULL, len, body);
    }
    else if (r.reply && r.status == MESO_NOT_FOUND)
        /* a patient screening does not know: a reminder without them */
        out = meso__v1__get_instructions_reply__unpack (NULL, 0, (const uint8_t *) "");
    else {
        *unreachable = !r.reply;        /* no answer at all, not a refusal */
        meso_warn ("screening.GetInstructions for patient %s: %s", patient_id, r.message);
    }
    meso_result_reset (&r);
    return out;
}
