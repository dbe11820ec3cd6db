/* instructions.c -- screening.GetInstructions: the pre-session
 * instructions of a patient's current screening, for the reminders
 * scheduling sends (session.reminder_due).
 *
 * The instructions are derived as Check derives them (rules_instructions
 * on the screening's answers), then split: those every patient gets --
 * the instructions of a screening with no precaution at all -- are not
 * health data and may reach any subscriber; the rest follow from this
 * patient's answers (the washout date of a declared anti-inflammatory
 * dose, declared medication, allergies) and are health data, which the
 * event feed removes for a subscriber without health access. Read-only;
 * service principals only (the method table). */
#include "screening.h"

#include <string.h>

#include "meso/audit.h"
#include "meso/mtime.h"

void
screening_get_instructions (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    screening_t *self = arg;
    Meso__V1__GetInstructionsRequest *rq = body;
    rules_reasons_t bad = { .n = 0 };
    screening_need_patient_id (&bad, "patient_id", rq->patient_id);
    if (screening_invalid (reply, &bad, req->method))
        return;
    store_patient_t p;
    if (screening_patient (reply, self->db, rq->patient_id, false, &p) != 0)
        return;
    meso_call_patient (p.id, p.home_clinic_id);     /* the audit trail's clinic */
    PGresult *res = store_screenings (self->db, p.id, 1, NULL, NULL);
    if (!res) {
        meso_reply_db_error (reply, self->db, "cannot read the screenings");
        return;
    }
    Meso__V1__Screening *sc = NULL;
    if (PQntuples (res) == 1 && !(sc = screening_stored (res, 0, true, &p, reply))) {
        PQclear (res);
        return;
    }
    rules_answers_t none, a;
    rules_answers_init (&none);
    rules_answers_init (&a);
    if (sc && sc->erased) {
        /* An erased patient's answers are gone: only the general
         * instructions remain (and she can be booked no more anyway). */
        meso__v1__screening__free_unpacked (sc, NULL);
        sc = NULL;
    }
    if (sc) {
        int32_t birth = 0;
        meso_date_parse (p.birth_date, &birth);
        rules_reasons_t ignore = { .n = 0 };
        screening_answers_from (sc->answers, birth, &a, &ignore);
    }
    rules_texts_t general, mine, personal;
    rules_instructions (&none, &general);
    rules_instructions (&a, &mine);
    memset (&personal, 0, sizeof personal);
    for (size_t i = 0; sc && i < mine.n; i++) {
        bool common = false;
        for (size_t k = 0; k < general.n && !common; k++)
            common = strcmp (mine.items[i], general.items[k]) == 0;
        if (!common && personal.n < RULES_MAX_TEXTS)
            memcpy (personal.items[personal.n++], mine.items[i], sizeof mine.items[i]);
    }
    screening_pbtexts_t g, h;
    screening_pbtexts (&general, &g);
    screening_pbtexts (&personal, &h);
    Meso__V1__GetInstructionsReply out = MESO__V1__GET_INSTRUCTIONS_REPLY__INIT;
    out.instructions = g.ptrs;
    out.n_instructions = g.n;
    out.health_instructions = h.ptrs;
    out.n_health_instructions = h.n;
    out.screening_id = sc ? sc->id : "";
    meso_reply_ok (reply, &out.base);
    if (sc)
        meso__v1__screening__free_unpacked (sc, NULL);
    PQclear (res);
}
