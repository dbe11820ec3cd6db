/* answers.c -- a screening between the wire and the rules: a
 * questionnaire read into rules_answers_t, ingredient codes checked
 * against the catalogue screening has confirmed, a stored record decoded,
 * and the rules' reasons and texts put on the wire (see screening.h).
 *
 * Cut out of screenings.c, which records, reads and checks screenings:
 * all three need these translations, and with them inside, that file
 * passed the size of one aggregate. Nothing here calls a method file. */
#include "screening.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/handler.h"
#include "meso/mtime.h"

/* The contraindication answers of a Questionnaire, in rules_condition_t
 * order. */
static const size_t s_condition_offsets[RULES_NCONDITIONS] = {
    [RULES_C_PREGNANCY] = offsetof (Meso__V1__Questionnaire, pregnancy),
    [RULES_C_BREASTFEEDING] = offsetof (Meso__V1__Questionnaire, breastfeeding),
    [RULES_C_DIABETES] = offsetof (Meso__V1__Questionnaire, diabetes),
    [RULES_C_ACTIVE_INFECTION] = offsetof (Meso__V1__Questionnaire, active_infection),
    [RULES_C_SEPTICAEMIA] = offsetof (Meso__V1__Questionnaire, septicaemia),
    [RULES_C_IMMUNOCOMPROMISED] = offsetof (Meso__V1__Questionnaire, immunocompromised),
    [RULES_C_LIVER_FAILURE] = offsetof (Meso__V1__Questionnaire, liver_failure),
    [RULES_C_KIDNEY_FAILURE] = offsetof (Meso__V1__Questionnaire, kidney_failure),
    [RULES_C_COAGULATION_DISORDER] = offsetof (Meso__V1__Questionnaire, coagulation_disorder),
    [RULES_C_MENSTRUAL_DISORDER] = offsetof (Meso__V1__Questionnaire, menstrual_disorder),
    [RULES_C_CANCER] = offsetof (Meso__V1__Questionnaire, cancer),
    [RULES_C_HEART_ARRHYTHMIA] = offsetof (Meso__V1__Questionnaire, heart_arrhythmia),
    [RULES_C_BLOOD_CLOTS] = offsetof (Meso__V1__Questionnaire, blood_clots),
};

/* Fills a from a questionnaire (strings borrowed from q). Shape problems
 * that rules_validate cannot see (date syntax, list lengths) go to bad. */
void
screening_answers_from (const Meso__V1__Questionnaire *q, int32_t birth, rules_answers_t *a, rules_reasons_t *bad)
{
    rules_answers_init (a);
    a->birth_date = birth;
    for (int c = 0; c < RULES_NCONDITIONS; c++) {
        int v = *(const int *) ((const char *) q + s_condition_offsets[c]);
        a->conditions[c] = (v == RULES_NO || v == RULES_YES) ? (rules_answer_t) v : RULES_UNANSWERED;
    }
    a->height_mm = q->height_mm;
    a->weight_g = q->weight_g;
    if (q->n_allergies > RULES_MAX_ALLERGIES)
        rules_reason_add (bad, true, "too_many", "answers.allergies",
                          "answers.allergies holds more than %d codes.", RULES_MAX_ALLERGIES);
    for (size_t i = 0; i < q->n_allergies && i < RULES_MAX_ALLERGIES; i++)
        a->allergies[a->nallergies++] = q->allergies[i];
    if (q->n_medications > RULES_MAX_MEDICATIONS)
        rules_reason_add (bad, true, "too_many", "answers.medications",
                          "answers.medications holds more than %d entries.", RULES_MAX_MEDICATIONS);
    for (size_t i = 0; i < q->n_medications && i < RULES_MAX_MEDICATIONS; i++) {
        if (screening_chars (q->medications[i]) == 0 || screening_chars (q->medications[i]) > 200) {
            char f[48];
            snprintf (f, sizeof f, "answers.medications[%zu]", i);
            rules_reason_add (bad, true, "out_of_range", f, "%s must be 1 to 200 characters.", f);
        }
        a->medications[a->nmedications++] = q->medications[i];
    }
    if (q->last_anti_inflammatory_dose && *q->last_anti_inflammatory_dose
        && meso_date_parse (q->last_anti_inflammatory_dose, &a->last_nsaid_dose) != 0) {
        a->last_nsaid_dose = RULES_NO_DATE;
        rules_reason_add (bad, true, "invalid_date", "answers.last_anti_inflammatory_dose",
                          "answers.last_anti_inflammatory_dose must be a date YYYY-MM-DD.");
    }
    if (q->n_areas > RULES_MAX_AREAS)
        rules_reason_add (bad, true, "too_many", "answers.areas",
                          "answers.areas holds more than %d areas.", RULES_MAX_AREAS);
    for (size_t i = 0; i < q->n_areas && i < RULES_MAX_AREAS; i++) {
        a->areas[a->nareas].area = q->areas[i]->area;
        a->areas[a->nareas].grade = q->areas[i]->grade;
        a->areas[a->nareas].mild = q->areas[i]->mild;
        a->nareas++;
    }
    a->diet = (rules_answer_t) q->diet;
    a->exercise = (rules_answer_t) q->exercise;
    a->localised_fat = (rules_answer_t) q->localised_fat_deposits;
    a->early_stage = (rules_answer_t) q->early_stage_cellulite;
}

/* Adds unknown_ingredient on "<list>[i]" for each code that is not in the
 * ingredient catalogue (inventory's, as far as screening has confirmed
 * it: the caller ran screening_catalogue_learn first, so a code inventory
 * holds is known here). A code that is not of the ingredient syntax is
 * not looked up: it counts as unknown, or is skipped when shape_reported
 * (the rules have said so already). 0, or -1 with the database error in
 * reply. */
int
screening_catalogue_check (meso_db_t *db, meso_reply_t *reply, const char *const *codes, size_t n,
             const char *list, bool shape_reported, rules_reasons_t *bad)
{
    for (size_t i = 0; i < n; i++) {
        int known = 0;
        if (meso_handler_ingredient_ok (codes[i]))
            known = store_ingredient_known (db, codes[i]);
        else if (shape_reported)
            continue;
        if (known < 0) {
            meso_reply_db_error (reply, db, "cannot read the ingredient list");
            return -1;
        }
        if (!known) {
            char f[48];
            snprintf (f, sizeof f, "%s[%zu]", list, i);
            rules_reason_add (bad, true, "unknown_ingredient", f,
                              "%s: \"%.64s\" is not in the ingredient catalogue "
                              "(inventory.UpsertIngredient adds it).", f, codes[i]);
        }
    }
    return 0;
}

/* The placeholder of a sealed screening of an erased patient: what
 * stays clear in the row (packed and unpacked again, so the caller frees
 * it like any other). */
static Meso__V1__Screening *
s_erased (PGresult *res, int r, const store_patient_t *p)
{
    const char *verdict = PQgetvalue (res, r, 6);
    Meso__V1__Screening sc = MESO__V1__SCREENING__INIT;
    sc.id = PQgetvalue (res, r, 0);
    sc.patient_id = (char *) p->id;
    sc.clinic_id = PQgetvalue (res, r, 4);
    sc.screened_at_us = strtoll (PQgetvalue (res, r, 1), NULL, 10);
    sc.screened_on = PQgetvalue (res, r, 5);
    sc.verdict = strcmp (verdict, "eligible") == 0 ? MESO__V1__VERDICT__VERDICT_ELIGIBLE
               : strcmp (verdict, "ineligible") == 0 ? MESO__V1__VERDICT__VERDICT_INELIGIBLE
               : MESO__V1__VERDICT__VERDICT_ELIGIBLE_WITH_PRECAUTIONS;
    sc.valid_until = PQgetvalue (res, r, 7);
    sc.erased = true;
    size_t n = meso__v1__screening__get_packed_size (&sc);
    uint8_t *buf = malloc (n ? n : 1);
    if (!buf)
        return NULL;
    meso__v1__screening__pack (&sc, buf);
    Meso__V1__Screening *out = meso__v1__screening__unpack (NULL, n, buf);
    free (buf);
    return out;
}

/* The stored screening of row r of a store_screenings result (caller
 * frees it), or NULL with DATA_LOSS in reply when it does not decode (or
 * open) or, with need_answers, has no answers. */
Meso__V1__Screening *
screening_stored (PGresult *res, int r, bool need_answers, const store_patient_t *p,
                  meso_reply_t *reply)
{
    size_t len, plen = 0;
    bool sealed = PQgetvalue (res, r, 3)[0] == 't';
    if (sealed && p->erased) {
        Meso__V1__Screening *sc = need_answers ? NULL : s_erased (res, r, p);
        if (!sc)
            meso_reply_error (reply, MESO_FAILED_PRECONDITION, "patient erased: screening %s is unreadable",
                              PQgetvalue (res, r, 0));
        return sc;
    }
    uint8_t *raw = store_bytea (res, r, 2, &len);
    uint8_t *plain = NULL;
    if (raw && sealed) {
        plain = p->key_state == MESO_VAULT_KEY_OK
              ? meso_vault_open_dup (&p->key, p->id, PERSONAL_RECORD_COLUMN, raw, len, &plen) : NULL;
        PQfreemem (raw);
        raw = NULL;
    }
    Meso__V1__Screening *sc = plain ? meso__v1__screening__unpack (NULL, plen, plain)
                            : raw ? meso__v1__screening__unpack (NULL, len, raw) : NULL;
    PQfreemem (raw);
    free (plain);
    if (sc && need_answers && !sc->answers) {
        meso__v1__screening__free_unpacked (sc, NULL);
        sc = NULL;
    }
    if (!sc)
        meso_reply_error (reply, MESO_DATA_LOSS, "screening %s does not decode",
                          PQgetvalue (res, r, 0));
    return sc;
}


/* which: 0 all, 1 refusals, 2 precautions. */
void
screening_pbreasons (rules_reasons_t *r, int which, screening_pbreasons_t *out)
{
    out->n = 0;
    for (size_t i = 0; i < r->n; i++) {
        if ((which == 1 && !r->items[i].refusal) || (which == 2 && r->items[i].refusal))
            continue;
        Meso__V1__Reason *pr = &out->items[out->n];
        meso__v1__reason__init (pr);
        pr->code = r->items[i].code;
        pr->field = r->items[i].field;
        pr->message = r->items[i].message;
        out->ptrs[out->n++] = pr;
    }
}


void
screening_pbtexts (rules_texts_t *t, screening_pbtexts_t *out)
{
    out->n = t->n;
    for (size_t i = 0; i < t->n; i++)
        out->ptrs[i] = t->items[i];
}
