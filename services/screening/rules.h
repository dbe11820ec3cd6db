/* rules.h -- the screening rules as pure code: validation of a
 * questionnaire, the verdict with every reason, Check on a date, the
 * recommended course and the pre-session instructions, and the smaller
 * decisions the methods take from a request or from rows they loaded
 * (the day of an instant, which reported changes exist and which make a
 * patient ineligible, when a screening is outdated, a clinic's requested
 * settings), with the reason collector every method validates with.
 *
 * No I/O and no allocation: everything is in caller-owned structs, so the
 * unit tests drive every rule and its boundary directly and the daemon's
 * method files only load, call these, write and translate to the wire. The
 * rules come from DOMAIN.md ("Screening", "Course planning"); the numbers
 * the articles leave open are in rules_settings_t (per clinic). Dates are
 * days since 1970-01-01 (meso/mtime.h). */
#ifndef SCREENING_RULES_H
#define SCREENING_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RULES_MIN_AGE 18                /* law: minors are never treated */
#define RULES_WASHOUT_DAYS 7            /* aspirin/anti-inflammatory stop (001) */
#define RULES_MIN_SPACING_DAYS 7        /* between sessions (001, 004) */
#define RULES_DEFAULT_MAX_AGE 70        /* 002: providers treat 18-70 */
#define RULES_DEFAULT_BMI_X10 300       /* BMI 30.0: usual obesity definition */
#define RULES_DEFAULT_VALIDITY_DAYS 180

#define RULES_NO_DATE INT32_MIN         /* "no date" in every date field */
#define RULES_MAX_REASONS 64
#define RULES_MAX_TEXTS 12
#define RULES_TEXT_MAX 240
#define RULES_MAX_AREAS 12
#define RULES_MAX_ALLERGIES 32
#define RULES_MAX_MEDICATIONS 32
#define RULES_MAX_INGREDIENTS 64
#define RULES_CODE_MAX 64               /* ingredient / area / change code length */

/* Answers, numbered as meso.v1.Answer. */
typedef enum { RULES_UNANSWERED = 0, RULES_NO = 1, RULES_YES = 2 } rules_answer_t;

/* Verdicts, numbered as meso.v1.ScreeningCompleted.Verdict. */
typedef enum {
    RULES_ELIGIBLE = 1,
    RULES_ELIGIBLE_WITH_PRECAUTIONS = 2,
    RULES_INELIGIBLE = 3
} rules_verdict_kind_t;

/* The absolute contraindications answered one by one. */
typedef enum {
    RULES_C_PREGNANCY,
    RULES_C_BREASTFEEDING,
    RULES_C_DIABETES,
    RULES_C_ACTIVE_INFECTION,
    RULES_C_SEPTICAEMIA,
    RULES_C_IMMUNOCOMPROMISED,
    RULES_C_LIVER_FAILURE,
    RULES_C_KIDNEY_FAILURE,
    RULES_C_COAGULATION_DISORDER,
    RULES_C_MENSTRUAL_DISORDER,
    RULES_C_CANCER,
    RULES_C_HEART_ARRHYTHMIA,
    RULES_C_BLOOD_CLOTS,
    RULES_NCONDITIONS
} rules_condition_t;

/* The code of a condition ("pregnancy"), equal to its questionnaire field
 * name and to its refusal reason code. */
const char *rules_condition_code (rules_condition_t c);
/* The condition of a code, or -1. */
int rules_condition_of (const char *code);

typedef struct {
    int max_age;                        /* oldest age treated (years) */
    int bmi_obesity_x10;                /* BMI x10 from which obese */
    int validity_days;                  /* screening validity */
} rules_settings_t;

void rules_settings_default (rules_settings_t *s);
/* The settings a clinic asks for: the defaults, each replaced by the
 * matching value that is not 0. A value far beyond its range is clamped
 * to one still beyond it (max_age 1000, bmi_obesity_x10 10000,
 * validity_days 100000), so that rules_settings_valid refuses it instead
 * of an int overflow turning it into a valid number. */
void rules_settings_from (uint32_t max_age, uint32_t bmi_obesity_x10, uint32_t validity_days,
                          rules_settings_t *out);
/* 0 when every setting is in range, else -1 with the offending field
 * name ("max_age", ...) in *field. */
int rules_settings_valid (const rules_settings_t *s, const char **field);

typedef struct {
    const char *area;                   /* "thighs" */
    int grade;                          /* 1..3 */
    bool mild;                          /* grade 2 judged mild */
} rules_area_t;

/* One questionnaire, borrowed strings. */
typedef struct {
    int32_t birth_date;                 /* the patient's, from the patient record */
    rules_answer_t conditions[RULES_NCONDITIONS];
    int32_t height_mm;
    int32_t weight_g;
    const char *allergies[RULES_MAX_ALLERGIES];
    size_t nallergies;
    size_t nmedications;
    const char *medications[RULES_MAX_MEDICATIONS];
    int32_t last_nsaid_dose;            /* RULES_NO_DATE when none */
    rules_area_t areas[RULES_MAX_AREAS];
    size_t nareas;
    rules_answer_t diet, exercise, localised_fat, early_stage;
} rules_answers_t;

/* Fills a with "nothing answered" (dates RULES_NO_DATE). */
void rules_answers_init (rules_answers_t *a);

typedef struct {
    char code[32];                      /* stable: "pregnancy", "washout"... */
    char field[64];                     /* "answers.pregnancy", "" when none */
    char message[RULES_TEXT_MAX];       /* a sentence a clinician accepts */
    bool refusal;                       /* false: a precaution */
} rules_reason_t;

typedef struct {
    rules_reason_t items[RULES_MAX_REASONS];
    size_t n;
} rules_reasons_t;

/* True when reasons holds one with code. */
bool rules_reasons_has (const rules_reasons_t *r, const char *code);
/* Appends a reason (field NULL: none); once r holds RULES_MAX_REASONS the
 * rest are dropped (the first ones say enough). The rules and the
 * daemon's request validation collect reasons through this one function. */
void rules_reason_add (rules_reasons_t *r, bool refusal, const char *code, const char *field,
                       const char *fmt, ...) __attribute__ ((format (printf, 5, 6)));

/* True when code looks like an area or change code: [a-z][a-z0-9_]*, at
 * most RULES_CODE_MAX bytes. Ingredient codes are not checked with this
 * but with the chain's one syntax, meso_handler_ingredient_ok. */
bool rules_code_valid (const char *code);
/* True for a known treatment area code. */
bool rules_area_known (const char *area);

/* The day (days since 1970-01-01, UTC) of an instant in microseconds since
 * the epoch, rounded toward the past: an instant before 1970 is on the day
 * it happened, not the day after. */
int32_t rules_day_of (int64_t us);

/* True when code may be reported as a change of the patient: a
 * contraindication code, or allergy, medication, weight, other. */
bool rules_change_known (const char *code);
/* True when a reported change makes the patient ineligible: one of codes
 * is a contraindication. */
bool rules_change_ineligible (const char *const *codes, size_t n);
/* True when the newest screening no longer holds because changes were
 * reported after it (nchanges_since); false without a screening. Check
 * refuses for the same reason ("change_reported"). */
bool rules_screening_outdated (bool screened, size_t nchanges_since);

/* Checks the shape and ranges of a questionnaire as of day today (dates
 * not in the future, every contraindication answered, height, weight,
 * grades 1..3, known areas each once, code syntax of allergies). Adds one
 * reason per problem, field prefixed with prefix ("answers"). Returns 0
 * when valid, -1 otherwise. Whether an allergy code is in the catalogue is
 * the caller's check (it needs the database). */
int rules_validate (const rules_answers_t *a, int32_t today, const char *prefix,
                    rules_reasons_t *out);

/* BMI x10, rounded down (for messages); 0 when height is 0. */
int rules_bmi_x10 (int32_t height_mm, int32_t weight_g);
/* True when the BMI is at or above threshold_x10 (exact integer arithmetic). */
bool rules_obese (int32_t height_mm, int32_t weight_g, int threshold_x10);

typedef struct {
    rules_verdict_kind_t verdict;
    rules_reasons_t reasons;            /* refusals, then precautions */
    int32_t valid_until;                /* on + validity_days */
    int32_t earliest_first_session;     /* RULES_NO_DATE when unconstrained */
} rules_verdict_t;

/* The verdict of a (valid) questionnaire answered on day on. */
void rules_evaluate (const rules_answers_t *a, const rules_settings_t *s, int32_t on,
                     rules_verdict_t *out);

/* What Check knows about the patient. */
typedef struct {
    const rules_answers_t *answers;     /* the newest screening, NULL if none */
    int32_t valid_until;                /* of that screening */
    /* Changes reported after that screening (codes). */
    const char *changes[16];
    size_t nchanges;
} rules_check_input_t;

typedef struct {
    bool allowed;
    rules_reasons_t reasons;            /* refusals when !allowed, else precautions */
    /* When every refusal clears by waiting (washout, minor): the first day
     * it does; RULES_NO_DATE otherwise. When allowed: the washout end if
     * any. */
    int32_t earliest_allowed;
} rules_check_t;

/* May the patient receive ingredients (codes) on day date? Every reason
 * at once. */
void rules_check (const rules_check_input_t *in, const char *const *ingredients,
                  size_t ningredients, const rules_settings_t *s, int32_t date,
                  rules_check_t *out);

typedef struct {
    int grade;                          /* worst grade among the areas */
    int min_sessions;
    int max_sessions;                   /* 0: open-ended */
    int spacing_min_days;
    int spacing_max_days;
    char summary[RULES_TEXT_MAX];
} rules_course_t;

/* The course for the worst grade of areas (n >= 1). Grade 1: one
 * preventive session a year; grade 2: 10-15 sessions (3-5 when every
 * grade-2 area is mild); grade 3: more than 20. Sessions at least 7 days
 * apart, 7-10 usual. */
void rules_course (const rules_area_t *areas, size_t n, rules_course_t *out);

typedef struct {
    char items[RULES_MAX_TEXTS][RULES_TEXT_MAX];
    size_t n;
} rules_texts_t;

/* Pre-session instructions for a patient with these answers. */
void rules_instructions (const rules_answers_t *a, rules_texts_t *out);
/* Advisory notes (good-candidate flags). */
void rules_advice (const rules_answers_t *a, rules_texts_t *out);

#endif
