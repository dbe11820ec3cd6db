/* rules.c -- the screening rules (see rules.h). Pure: no I/O, no
 * allocation, no clock; the caller passes "today".
 *
 * Every rule adds its own reason instead of returning at the first one, so
 * a clinician sees everything that stands in the way at once. BMI is
 * compared in exact integer arithmetic (grams, millimetres, tenths of the
 * threshold): a float would put a patient exactly at 30.0 on either side
 * depending on rounding. */
#include "rules.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "meso/handler.h"
#include "meso/mtime.h"

static const struct {
    const char *code;
    const char *sentence;               /* refusal sentence */
} s_conditions[RULES_NCONDITIONS] = {
    [RULES_C_PREGNANCY] = { "pregnancy", "Pregnancy is an absolute contraindication to mesotherapy." },
    [RULES_C_BREASTFEEDING] = { "breastfeeding", "Breastfeeding is an absolute contraindication to mesotherapy." },
    [RULES_C_DIABETES] = { "diabetes", "Diabetes is an absolute contraindication to mesotherapy." },
    [RULES_C_ACTIVE_INFECTION] = { "active_infection", "An active infection is an absolute contraindication to mesotherapy." },
    [RULES_C_SEPTICAEMIA] = { "septicaemia", "Septicaemia is an absolute contraindication to mesotherapy." },
    [RULES_C_IMMUNOCOMPROMISED] = { "immunocompromised", "An immunocompromised patient may not receive mesotherapy." },
    [RULES_C_LIVER_FAILURE] = { "liver_failure", "Liver failure is an absolute contraindication to mesotherapy." },
    [RULES_C_KIDNEY_FAILURE] = { "kidney_failure", "Kidney failure is an absolute contraindication to mesotherapy." },
    [RULES_C_COAGULATION_DISORDER] = { "coagulation_disorder", "A coagulation disorder is an absolute contraindication to injections." },
    [RULES_C_MENSTRUAL_DISORDER] = { "menstrual_disorder", "A menstrual disorder is an absolute contraindication to mesotherapy." },
    [RULES_C_CANCER] = { "cancer", "Cancer is an absolute contraindication to mesotherapy." },
    [RULES_C_HEART_ARRHYTHMIA] = { "heart_arrhythmia", "A heart arrhythmia is an absolute contraindication to mesotherapy." },
    [RULES_C_BLOOD_CLOTS] = { "blood_clots", "A history of blood clots is an absolute contraindication to mesotherapy." },
};

/* Changes a patient may report besides the contraindications. */
static const char *const s_other_changes[] = { "allergy", "medication", "weight", "other", NULL };

/* Treatment areas named in the articles (000, 002, 004). */
static const char *const s_areas[] = {
    "upper_abdomen", "lower_abdomen", "hips", "outer_thighs", "thighs", "knees",
    "arms", "inner_arms", "buttocks", "calves", "neck", "love_handles", NULL
};

const char *
rules_condition_code (rules_condition_t c)
{
    return (c >= 0 && c < RULES_NCONDITIONS) ? s_conditions[c].code : "unknown";
}

int
rules_condition_of (const char *code)
{
    for (int c = 0; code && c < RULES_NCONDITIONS; c++)
        if (strcmp (code, s_conditions[c].code) == 0)
            return c;
    return -1;
}

void
rules_settings_default (rules_settings_t *s)
{
    s->max_age = RULES_DEFAULT_MAX_AGE;
    s->bmi_obesity_x10 = RULES_DEFAULT_BMI_X10;
    s->validity_days = RULES_DEFAULT_VALIDITY_DAYS;
}

void
rules_settings_from (uint32_t max_age, uint32_t bmi_obesity_x10, uint32_t validity_days,
                     rules_settings_t *out)
{
    rules_settings_default (out);
    if (max_age)
        out->max_age = max_age > 1000 ? 1000 : (int) max_age;
    if (bmi_obesity_x10)
        out->bmi_obesity_x10 = bmi_obesity_x10 > 10000 ? 10000 : (int) bmi_obesity_x10;
    if (validity_days)
        out->validity_days = validity_days > 100000 ? 100000 : (int) validity_days;
}

int
rules_settings_valid (const rules_settings_t *s, const char **field)
{
    if (s->max_age < RULES_MIN_AGE || s->max_age > 120)
        *field = "max_age";
    else if (s->bmi_obesity_x10 < 150 || s->bmi_obesity_x10 > 600)
        *field = "bmi_obesity_x10";
    else if (s->validity_days < 1 || s->validity_days > 3650)
        *field = "validity_days";
    else
        return 0;
    return -1;
}

void
rules_answers_init (rules_answers_t *a)
{
    memset (a, 0, sizeof *a);
    a->birth_date = RULES_NO_DATE;
    a->last_nsaid_dose = RULES_NO_DATE;
}

void
rules_reason_add (rules_reasons_t *r, bool refusal, const char *code, const char *field,
                  const char *fmt, ...)
{
    if (r->n == RULES_MAX_REASONS)
        return;
    rules_reason_t *it = &r->items[r->n++];
    snprintf (it->code, sizeof it->code, "%s", code);
    snprintf (it->field, sizeof it->field, "%s", field ? field : "");
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (it->message, sizeof it->message, fmt, ap);
    va_end (ap);
    it->refusal = refusal;
}

bool
rules_reasons_has (const rules_reasons_t *r, const char *code)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp (r->items[i].code, code) == 0)
            return true;
    return false;
}

bool
rules_code_valid (const char *code)
{
    if (!code || !(code[0] >= 'a' && code[0] <= 'z'))
        return false;
    size_t n = 0;
    for (const char *p = code; *p; p++, n++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return false;
    return n <= RULES_CODE_MAX;
}

bool
rules_area_known (const char *area)
{
    for (int i = 0; area && s_areas[i]; i++)
        if (strcmp (area, s_areas[i]) == 0)
            return true;
    return false;
}

int32_t
rules_day_of (int64_t us)
{
    int64_t d = us / 86400000000LL;
    if (us < 0 && us % 86400000000LL != 0)
        d--;
    return (int32_t) d;
}

bool
rules_change_known (const char *code)
{
    if (rules_condition_of (code) >= 0)
        return true;
    for (int i = 0; code && s_other_changes[i]; i++)
        if (strcmp (code, s_other_changes[i]) == 0)
            return true;
    return false;
}

bool
rules_change_ineligible (const char *const *codes, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (rules_condition_of (codes[i]) >= 0)
            return true;
    return false;
}

bool
rules_screening_outdated (bool screened, size_t nchanges_since)
{
    return screened && nchanges_since > 0;
}

int
rules_validate (const rules_answers_t *a, int32_t today, const char *prefix,
                rules_reasons_t *out)
{
    size_t before = out->n;
    char f[64];
    for (int c = 0; c < RULES_NCONDITIONS; c++) {
        if (a->conditions[c] != RULES_NO && a->conditions[c] != RULES_YES) {
            snprintf (f, sizeof f, "%s.%s", prefix, s_conditions[c].code);
            rules_reason_add (out, true, "missing_answer", f, "%s must be answered yes or no.", f);
        }
    }
    snprintf (f, sizeof f, "%s.height_mm", prefix);
    if (a->height_mm == 0)
        rules_reason_add (out, true, "missing_answer", f, "%s is required (height in millimetres).", f);
    else if (a->height_mm < 500 || a->height_mm > 2500)
        rules_reason_add (out, true, "out_of_range", f, "%s must be between 500 and 2500 (got %d).", f,
                          (int) a->height_mm);
    snprintf (f, sizeof f, "%s.weight_g", prefix);
    if (a->weight_g == 0)
        rules_reason_add (out, true, "missing_answer", f, "%s is required (weight in grams).", f);
    else if (a->weight_g < 20000 || a->weight_g > 400000)
        rules_reason_add (out, true, "out_of_range", f, "%s must be between 20000 and 400000 grams (got %d).", f,
                          (int) a->weight_g);
    if (a->last_nsaid_dose != RULES_NO_DATE && a->last_nsaid_dose > today) {
        snprintf (f, sizeof f, "%s.last_anti_inflammatory_dose", prefix);
        rules_reason_add (out, true, "out_of_range", f, "%s is in the future; give the date of the last dose taken.", f);
    }
    if (a->nareas == 0) {
        snprintf (f, sizeof f, "%s.areas", prefix);
        rules_reason_add (out, true, "missing_answer", f, "%s needs the cellulite grade of at least one treatment area.", f);
    }
    for (size_t i = 0; i < a->nareas; i++) {
        const rules_area_t *ar = &a->areas[i];
        snprintf (f, sizeof f, "%s.areas[%zu].area", prefix, i);
        if (!rules_area_known (ar->area))
            rules_reason_add (out, true, "unknown_area", f, "%s: \"%.64s\" is not a treatment area.", f,
                              ar->area ? ar->area : "");
        else
            for (size_t j = 0; j < i; j++)
                if (a->areas[j].area && strcmp (a->areas[j].area, ar->area) == 0) {
                    rules_reason_add (out, true, "duplicate_area", f, "%s: area %s is graded twice.", f, ar->area);
                    break;
                }
        if (ar->grade < 1 || ar->grade > 3) {
            snprintf (f, sizeof f, "%s.areas[%zu].grade", prefix, i);
            rules_reason_add (out, true, "out_of_range", f, "%s must be a cellulite grade 1, 2 or 3 (got %d).", f,
                              ar->grade);
        }
    }
    /* The chain's one ingredient-code syntax (inventory's catalogue owns
     * the codes): whether the code exists is the catalogue's question. */
    for (size_t i = 0; i < a->nallergies; i++)
        if (!meso_handler_ingredient_ok (a->allergies[i])) {
            snprintf (f, sizeof f, "%s.allergies[%zu]", prefix, i);
            rules_reason_add (out, true, "unknown_ingredient", f,
                              "%s is not an ingredient code (1 to 64 of a-z, 0-9, _ or -).", f);
        }
    return out->n == before ? 0 : -1;
}

int
rules_bmi_x10 (int32_t height_mm, int32_t weight_g)
{
    if (height_mm <= 0)
        return 0;
    int64_t h2 = (int64_t) height_mm * height_mm;
    return (int) ((int64_t) weight_g * 10000 / h2);
}

bool
rules_obese (int32_t height_mm, int32_t weight_g, int threshold_x10)
{
    /* BMI = (g / 1000) / (mm / 1000)^2 = g * 1000 / mm^2, so
     * BMI >= t / 10  <=>  g * 10000 >= t * mm^2. */
    int64_t h2 = (int64_t) height_mm * height_mm;
    return (int64_t) weight_g * 10000 >= (int64_t) threshold_x10 * h2;
}

static void
s_date (int32_t d, char *buf, size_t size)
{
    meso_date_format (d, buf, size);
}

/* The 18th birthday (Feb 29 births: Mar 1 in a non-leap year). */
static int32_t
s_adult_on (int32_t birth)
{
    int y, m, d;
    meso_date_to_ymd (birth, &y, &m, &d);
    if (m == 2 && d == 29 && !meso_date_valid (y + RULES_MIN_AGE, 2, 29))
        return meso_date_from_ymd (y + RULES_MIN_AGE, 3, 1);
    return meso_date_from_ymd (y + RULES_MIN_AGE, m, d);
}

/* The refusals that depend on the answers and the day (age, conditions,
 * obesity). */
static void
s_refusals (const rules_answers_t *a, const rules_settings_t *s, int32_t on, rules_reasons_t *out)
{
    int age = meso_date_age_years (a->birth_date, on);
    if (age < RULES_MIN_AGE) {
        char when[16];
        s_date (s_adult_on (a->birth_date), when, sizeof when);
        rules_reason_add (out, true, "minor", "patient.birth_date",
                          "The patient is %d, under 18: minors are not treated (18 on %s).", age, when);
    }
    else if (age > s->max_age)
        rules_reason_add (out, true, "over_max_age", "patient.birth_date",
                          "The patient is %d, over the clinic's maximum age of %d.", age, s->max_age);
    for (int c = 0; c < RULES_NCONDITIONS; c++)
        if (a->conditions[c] == RULES_YES) {
            char f[64];
            snprintf (f, sizeof f, "answers.%s", s_conditions[c].code);
            rules_reason_add (out, true, s_conditions[c].code, f, "%s", s_conditions[c].sentence);
        }
    if (rules_obese (a->height_mm, a->weight_g, s->bmi_obesity_x10)) {
        int b = rules_bmi_x10 (a->height_mm, a->weight_g);
        rules_reason_add (out, true, "obesity", "answers.weight_g",
                          "BMI %d.%d is at or above the obesity threshold of %d.%d.", b / 10, b % 10,
                          s->bmi_obesity_x10 / 10, s->bmi_obesity_x10 % 10);
    }
}

void
rules_evaluate (const rules_answers_t *a, const rules_settings_t *s, int32_t on,
                rules_verdict_t *out)
{
    memset (out, 0, sizeof *out);
    s_refusals (a, s, on, &out->reasons);
    size_t refusals = out->reasons.n;

    out->earliest_first_session = RULES_NO_DATE;
    if (a->last_nsaid_dose != RULES_NO_DATE && a->last_nsaid_dose + RULES_WASHOUT_DAYS > on) {
        out->earliest_first_session = a->last_nsaid_dose + RULES_WASHOUT_DAYS;
        char last[16], first[16];
        s_date (a->last_nsaid_dose, last, sizeof last);
        s_date (out->earliest_first_session, first, sizeof first);
        rules_reason_add (&out->reasons, false, "washout", "answers.last_anti_inflammatory_dose",
                          "Last aspirin or anti-inflammatory dose on %s: no session before %s (7 days).",
                          last, first);
    }
    if (a->nmedications > 0)
        rules_reason_add (&out->reasons, false, "current_medication", "answers.medications",
                          "The patient takes %zu declared medication(s): the practitioner reviews them before each session.",
                          a->nmedications);
    if (a->nallergies > 0) {
        char list[160] = "";
        size_t len = 0;
        for (size_t i = 0; i < a->nallergies && len < sizeof list; i++)
            len += (size_t) snprintf (list + len, sizeof list - len, "%s%s", i ? ", " : "",
                                      a->allergies[i]);
        rules_reason_add (&out->reasons, false, "allergy_declared", "answers.allergies",
                          "Allergic to %s: no cocktail for this patient may contain it.", list);
    }
    out->verdict = refusals > 0 ? RULES_INELIGIBLE
                 : out->reasons.n > 0 ? RULES_ELIGIBLE_WITH_PRECAUTIONS : RULES_ELIGIBLE;
    out->valid_until = on + s->validity_days;
}

void
rules_check (const rules_check_input_t *in, const char *const *ingredients,
             size_t ningredients, const rules_settings_t *s, int32_t date,
             rules_check_t *out)
{
    memset (out, 0, sizeof *out);
    out->earliest_allowed = RULES_NO_DATE;
    rules_reasons_t *r = &out->reasons;
    /* Refusals that waiting cannot clear make earliest_allowed meaningless. */
    bool final = false;
    int32_t earliest = date;
    if (!in->answers) {
        rules_reason_add (r, true, "no_screening", "patient_id",
                          "The patient has no screening: record a questionnaire first.");
        return;
    }
    const rules_answers_t *a = in->answers;
    if (date > in->valid_until) {
        char until[16];
        s_date (in->valid_until, until, sizeof until);
        rules_reason_add (r, true, "screening_expired", "date",
                          "The screening was valid until %s: screen the patient again.", until);
        final = true;
    }
    for (size_t i = 0; i < in->nchanges; i++) {
        int c = rules_condition_of (in->changes[i]);
        if (c >= 0) {
            rules_reason_add (r, true, s_conditions[c].code, "changes", "Reported after the screening: %s",
                              s_conditions[c].sentence);
            final = true;
        }
    }
    if (in->nchanges > 0) {
        rules_reason_add (r, true, "change_reported", "changes",
                          "The patient reported a change after the screening: screen the patient again.");
        final = true;
    }
    size_t before = r->n;
    s_refusals (a, s, date, r);
    for (size_t i = before; i < r->n; i++) {
        if (strcmp (r->items[i].code, "minor") == 0) {
            int32_t adult = s_adult_on (a->birth_date);
            if (adult > earliest)
                earliest = adult;
        }
        else
            final = true;
    }
    for (size_t k = 0; k < ningredients; k++)
        for (size_t i = 0; i < a->nallergies; i++)
            if (ingredients[k] && a->allergies[i] && strcmp (ingredients[k], a->allergies[i]) == 0) {
                char f[48];
                snprintf (f, sizeof f, "ingredients[%zu]", k);
                rules_reason_add (r, true, "allergy", f,
                                  "The patient is allergic to %s, an ingredient of this cocktail.", ingredients[k]);
                final = true;
            }
    int32_t washout_end = RULES_NO_DATE;
    if (a->last_nsaid_dose != RULES_NO_DATE)
        washout_end = a->last_nsaid_dose + RULES_WASHOUT_DAYS;
    if (washout_end != RULES_NO_DATE && date < washout_end) {
        char last[16], first[16];
        s_date (a->last_nsaid_dose, last, sizeof last);
        s_date (washout_end, first, sizeof first);
        rules_reason_add (r, true, "washout", "date",
                          "Last aspirin or anti-inflammatory dose on %s: the earliest allowed session is %s.",
                          last, first);
        if (washout_end > earliest)
            earliest = washout_end;
    }
    out->allowed = r->n == 0;
    if (out->allowed) {
        /* Precautions of the screening go with a positive answer. */
        if (a->nmedications > 0)
            rules_reason_add (r, false, "current_medication", "answers.medications",
                              "The patient takes %zu declared medication(s): review them before the session.",
                              a->nmedications);
        if (a->nallergies > 0)
            rules_reason_add (r, false, "allergy_declared", "answers.allergies",
                              "The patient has declared allergies; none is in this cocktail.");
        out->earliest_allowed = washout_end;
    }
    else if (!final && earliest <= in->valid_until)
        out->earliest_allowed = earliest;
}

void
rules_course (const rules_area_t *areas, size_t n, rules_course_t *out)
{
    memset (out, 0, sizeof *out);
    int grade = 0;
    bool all_mild = true;
    for (size_t i = 0; i < n; i++)
        if (areas[i].grade > grade)
            grade = areas[i].grade;
    for (size_t i = 0; i < n; i++)
        if (areas[i].grade == 2 && !areas[i].mild)
            all_mild = false;
    out->grade = grade;
    if (grade <= 1) {
        out->grade = 1;
        out->min_sessions = out->max_sessions = 1;
        out->spacing_min_days = out->spacing_max_days = 365;
        snprintf (out->summary, sizeof out->summary,
                  "Grade 1: one preventive session a year.");
    }
    else if (grade == 2) {
        out->min_sessions = all_mild ? 3 : 10;
        out->max_sessions = all_mild ? 5 : 15;
        out->spacing_min_days = RULES_MIN_SPACING_DAYS;
        out->spacing_max_days = 10;
        snprintf (out->summary, sizeof out->summary,
                  "Grade 2%s: %d to %d sessions, 7 to 10 days apart (never under 7).",
                  all_mild ? " (mild)" : "", out->min_sessions, out->max_sessions);
    }
    else {
        out->min_sessions = 21;
        out->max_sessions = 0;
        out->spacing_min_days = RULES_MIN_SPACING_DAYS;
        out->spacing_max_days = 10;
        snprintf (out->summary, sizeof out->summary,
                  "Grade 3: more than 20 sessions, 7 to 10 days apart; the outcome is less predictable.");
    }
}

static void
s_text (rules_texts_t *t, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static void
s_text (rules_texts_t *t, const char *fmt, ...)
{
    if (t->n == RULES_MAX_TEXTS)
        return;
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (t->items[t->n++], RULES_TEXT_MAX, fmt, ap);
    va_end (ap);
}

void
rules_instructions (const rules_answers_t *a, rules_texts_t *out)
{
    memset (out, 0, sizeof *out);
    if (a->last_nsaid_dose != RULES_NO_DATE) {
        char first[16];
        s_date (a->last_nsaid_dose + RULES_WASHOUT_DAYS, first, sizeof first);
        s_text (out, "Take no aspirin or anti-inflammatory medication before the course: "
                     "the first session is on %s at the earliest.", first);
    }
    else
        s_text (out, "Take no aspirin or anti-inflammatory medication in the 7 days before the first session.");
    s_text (out, "Avoid caffeine and stimulants before the session.");
    s_text (out, "Do not shower immediately before the session.");
    s_text (out, "Do not wear make-up immediately before the session.");
    if (a->nmedications > 0)
        s_text (out, "Tell the practitioner about any change to your current medication.");
    if (a->nallergies > 0)
        s_text (out, "Remind the practitioner of your allergies before each session.");
}

void
rules_advice (const rules_answers_t *a, rules_texts_t *out)
{
    memset (out, 0, sizeof *out);
    if (a->diet == RULES_YES && a->exercise == RULES_YES)
        s_text (out, "Good candidate: combines diet and exercise.");
    else if (a->diet == RULES_NO || a->exercise == RULES_NO)
        s_text (out, "Results are better when mesotherapy is combined with diet and exercise.");
    if (a->localised_fat == RULES_YES)
        s_text (out, "Good candidate: localised fat deposits.");
    if (a->early_stage == RULES_YES)
        s_text (out, "Good candidate: early-stage cellulite.");
}
