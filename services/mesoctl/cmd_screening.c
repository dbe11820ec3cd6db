/* cmd_screening.c -- "mesoctl screening ...": a practitioner's view of the
 * screening daemon.
 *
 *     mesoctl screening record --patient ID (--file answers.json | flags)
 *     mesoctl screening show   --patient ID
 *     mesoctl screening check  --patient ID --ingredients a,b --date YYYY-MM-DD
 *     mesoctl screening report-change --patient ID --changes c1,c2 [--note T]
 *     mesoctl screening settings --clinic C [--max-age N] [--bmi-obesity N] [--validity-days N]
 *
 * Each prints a readable form, or with --json the reply message as JSON
 * (field names as in proto/meso/v1/screening.proto, every field, printed
 * from the protobuf-c descriptors so the output follows the contract). A
 * refusal prints every reason and exits 1; with --json it is a JSON object
 * on stdout instead.
 *
 * The questionnaire's reader (answers file and flags) is answers.c, and
 * registering a patient is cmd_patients.c: this file keeps what a
 * screening is and how its verdict reads. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answers.h"
#include "mesoctl.h"
#include "screening.pb-c.h"

static const mesoctl_service_t s_service = {
    .name = "screening",
    .summary = "A patient's screening: record the questionnaire, read the verdict, check a session.",
    .endpoint = { "endpoint", "MESO_SCREENING_ENDPOINT", "tcp://127.0.0.1:7101", "screening daemon", NULL },
    .timeout_ms = 10000,
    .quirks = MESOCTL_Q_JSON_REFUSAL,
};

/* ------------------------------------------------------- readable form */

static const char *
s_verdict (int v)
{
    return v == 1 ? "ELIGIBLE" : v == 2 ? "ELIGIBLE WITH PRECAUTIONS" : v == 3 ? "INELIGIBLE" : "UNKNOWN";
}

static void
s_print_screening (const Meso__V1__Screening *s)
{
    printf ("Screening %s on %s at %s: %s\n", s->id, s->screened_on, s->clinic_id, s_verdict (s->verdict));
    printf ("  valid until %s", s->valid_until);
    if (*s->earliest_first_session)
        printf (", first session not before %s", s->earliest_first_session);
    printf ("\n");
    for (size_t i = 0; i < s->n_reasons; i++) {
        /* Precautions are the codes the verdict lets through. */
        const char *c = s->reasons[i]->code;
        bool precaution = strcmp (c, "washout") == 0 || strcmp (c, "current_medication") == 0
                       || strcmp (c, "allergy_declared") == 0;
        printf ("  %s %-20s %s\n", precaution ? "precaution" : "REFUSAL   ", c, s->reasons[i]->message);
    }
    if (s->course)
        printf ("  course: %s\n", s->course->summary);
    for (size_t i = 0; i < s->n_instructions; i++)
        printf ("  before each session: %s\n", s->instructions[i]);
    for (size_t i = 0; i < s->n_advice; i++)
        printf ("  note: %s\n", s->advice[i]);
}

/* ------------------------------------------------------------ record */

static int
s_record (meso_opt_t *opts)
{
    const char *patient = meso_config_get (opts, "patient");
    if (!patient) {
        fprintf (stderr, "mesoctl screening record: --patient is required\n");
        return MESOCTL_USAGE;
    }
    mesoctl_answers_t *a = mesoctl_answers_new ();
    if (!a)
        return MESOCTL_FAILED;
    const char *file = meso_config_get (opts, "file");
    int rc = MESOCTL_USAGE;
    if ((file && *file && mesoctl_answers_read_file (a, file) != 0) || mesoctl_answers_from_flags (a, opts) != 0)
        goto done;
    Meso__V1__RecordScreeningRequest rq = MESO__V1__RECORD_SCREENING_REQUEST__INIT;
    rq.patient_id = (char *) patient;
    rq.clinic_id = (char *) meso_config_get (opts, "clinic");
    rq.answers = &a->q;
    ProtobufCMessage *out = NULL;
    rc = mesoctl_call (&s_service, opts, "screening.RecordScreening", &rq.base, true,
                       &meso__v1__record_screening_reply__descriptor, &out);
    if (rc == MESOCTL_OK) {
        if (!meso_config_bool (opts, "json"))
            s_print_screening (((Meso__V1__RecordScreeningReply *) out)->screening);
        protobuf_c_message_free_unpacked (out, NULL);
    }
done:
    mesoctl_answers_destroy (&a);
    return rc;
}

static const meso_opt_t s_record_opts[] = {
    { "patient", NULL, NULL, "patient id (required)", NULL },
    { "clinic", NULL, "", "screening clinic (default: the patient's home clinic)", NULL },
    { "file", NULL, "", "answers as a flat JSON object (see the description above)", NULL },
    { "no", NULL, "", "contraindications answered no, comma-separated, or \"all\"", NULL },
    { "yes", NULL, "", "contraindications answered yes, comma-separated (e.g. pregnancy)", NULL },
    { "height-mm", NULL, "", "height in millimetres", NULL },
    { "weight-g", NULL, "", "weight in grams", NULL },
    { "allergies", NULL, "", "allergy ingredient codes, comma-separated", NULL },
    { "medications", NULL, "", "current medication, semicolon-separated", NULL },
    { "last-nsaid", NULL, "", "date of the last aspirin/anti-inflammatory dose", NULL },
    { "areas", NULL, "", "area:grade[:mild], comma-separated (e.g. thighs:2,hips:1)", NULL },
    { "diet", NULL, "", "yes/no: follows a diet", NULL },
    { "exercise", NULL, "", "yes/no: exercises", NULL },
    { "localised_fat_deposits", NULL, "", "yes/no", NULL },
    { "early_stage_cellulite", NULL, "", "yes/no", NULL },
    MESOCTL_OPT_END
};

/* -------------------------------------------------------------- show */

/* A page of a screening record: the patient, the current screening and
 * the changes on the first page, then the history. */
static void
s_show_page (const ProtobufCMessage *m, int page, void *arg)
{
    (void) arg;
    const Meso__V1__GetScreeningReply *g = (const Meso__V1__GetScreeningReply *) m;
    if (page == 0) {
        Meso__V1__Patient *p = g->patient;
        printf ("Patient %s: %s %s, born %s, home clinic %s\n", p->id, p->given_name,
                p->family_name, p->birth_date, p->home_clinic_id);
        if (!g->current)
            printf ("No screening yet: the patient may not be treated.\n");
        else
            s_print_screening (g->current);
        if (g->outdated)
            printf ("OUTDATED: the patient reported changes after this screening; screen again.\n");
        for (size_t i = 0; i < g->n_changes; i++) {
            printf ("  change reported:");
            for (size_t k = 0; k < g->changes[i]->n_changes; k++)
                printf (" %s", g->changes[i]->changes[k]);
            printf ("%s%s\n", *g->changes[i]->note ? " -- " : "", g->changes[i]->note);
        }
    }
    if (page == 0 && g->n_history > 1)
        printf ("History:\n");
    if (page > 0 || g->n_history > 1)
        for (size_t i = 0; i < g->n_history; i++)
            printf ("  %s  %-26s %s\n", g->history[i]->screened_on,
                    s_verdict (g->history[i]->verdict), g->history[i]->id);
}

static int
s_show (meso_opt_t *opts)
{
    long history;
    if (!meso_config_get (opts, "patient") || meso_config_int (opts, "history", 1, 200, &history)) {
        fprintf (stderr, "mesoctl screening show: --patient is required\n");
        return MESOCTL_USAGE;
    }
    Meso__V1__GetScreeningRequest rq = MESO__V1__GET_SCREENING_REQUEST__INIT;
    rq.patient_id = (char *) meso_config_get (opts, "patient");
    rq.history_limit = (uint32_t) history;
    return mesoctl_call_pages (&s_service, opts, "screening.GetScreening", &rq.base, false,
                               &meso__v1__get_screening_reply__descriptor, s_show_page, NULL);
}

static const meso_opt_t s_show_opts[] = {
    { "patient", NULL, NULL, "patient id (required)", NULL },
    { "history", NULL, "20", "screenings of the history to list (per page when --page-size is 0)", NULL },
    MESOCTL_PAGE_OPTS,
    MESOCTL_OPT_END
};

/* ------------------------------------------------------------- check */

static int
s_check (meso_opt_t *opts)
{
    if (!meso_config_get (opts, "patient") || !meso_config_get (opts, "ingredients")
        || !meso_config_get (opts, "date")) {
        fprintf (stderr, "mesoctl screening check: --patient, --ingredients and --date are required\n");
        return MESOCTL_USAGE;
    }
    char buf[2048];
    char *items[MESOCTL_MAX_ITEMS];
    snprintf (buf, sizeof buf, "%s", meso_config_get (opts, "ingredients"));
    Meso__V1__CheckRequest rq = MESO__V1__CHECK_REQUEST__INIT;
    rq.patient_id = (char *) meso_config_get (opts, "patient");
    rq.n_ingredients = mesoctl_split (buf, ",", true, items, MESOCTL_MAX_ITEMS);
    rq.ingredients = items;
    rq.date = (char *) meso_config_get (opts, "date");
    rq.clinic_id = (char *) meso_config_get (opts, "clinic");
    ProtobufCMessage *out = NULL;
    int rc = mesoctl_call (&s_service, opts, "screening.Check", &rq.base, false,
                           &meso__v1__check_reply__descriptor, &out);
    if (rc != MESOCTL_OK)
        return rc;
    Meso__V1__CheckReply *c = (Meso__V1__CheckReply *) out;
    if (!meso_config_bool (opts, "json")) {
        printf ("ALLOWED on %s (screening %s, %s, valid until %s)\n", rq.date, c->screening_id,
                s_verdict (c->verdict), c->valid_until);
        for (size_t i = 0; i < c->n_precautions; i++)
            printf ("  precaution %-20s %s\n", c->precautions[i]->code, c->precautions[i]->message);
        for (size_t i = 0; i < c->n_instructions; i++)
            printf ("  before the session: %s\n", c->instructions[i]);
    }
    protobuf_c_message_free_unpacked (out, NULL);
    return MESOCTL_OK;
}

static const meso_opt_t s_check_opts[] = {
    { "patient", NULL, NULL, "patient id (required)", NULL },
    { "ingredients", NULL, NULL, "ingredient codes of the cocktail, comma-separated (required)", NULL },
    { "date", NULL, NULL, "session day YYYY-MM-DD (required)", NULL },
    { "clinic", NULL, "", "clinic of the session (default: the screening clinic)", NULL },
    MESOCTL_OPT_END
};

/* ------------------------------------------------- report-change, settings */

static int
s_report_change (meso_opt_t *opts)
{
    char buf[2048];
    char *items[MESOCTL_MAX_ITEMS];
    snprintf (buf, sizeof buf, "%s", mesoctl_opt (opts, "changes"));
    Meso__V1__ReportChangeRequest rq = MESO__V1__REPORT_CHANGE_REQUEST__INIT;
    rq.patient_id = (char *) mesoctl_opt (opts, "patient");
    rq.n_changes = mesoctl_split (buf, ",", true, items, MESOCTL_MAX_ITEMS);
    rq.changes = items;
    rq.note = (char *) mesoctl_opt (opts, "note");
    ProtobufCMessage *out = NULL;
    int rc = mesoctl_call (&s_service, opts, "screening.ReportChange", &rq.base, true,
                           &meso__v1__report_change_reply__descriptor, &out);
    if (rc != MESOCTL_OK)
        return rc;
    Meso__V1__ReportChangeReply *rep = (Meso__V1__ReportChangeReply *) out;
    if (!meso_config_bool (opts, "json") && rep->change) {
        printf ("change reported for patient %s:", rq.patient_id);
        for (size_t i = 0; i < rep->change->n_changes; i++)
            printf (" %s", rep->change->changes[i]);
        printf ("\n%s\n", rep->change->ineligible
                ? "INELIGIBLE: an absolute contraindication; sessions on hold"
                : "the screening is outdated: screen the patient again before the next session");
    }
    protobuf_c_message_free_unpacked (out, NULL);
    return MESOCTL_OK;
}

static const meso_opt_t s_report_change_opts[] = {
    { "patient", NULL, NULL, "patient id (required)", NULL },
    { "changes", NULL, NULL, "what changed, comma-separated: pregnancy, diabetes, ..., allergy, "
      "medication, weight, other (required)", NULL },
    { "note", NULL, "", "free text", NULL },
    MESOCTL_OPT_END
};

static int
s_settings (meso_opt_t *opts)
{
    long v[3];
    const char *names[] = { "max-age", "bmi-obesity", "validity-days" };
    for (int i = 0; i < 3; i++)
        if (meso_config_int (opts, names[i], 0, 100000, &v[i]) != 0)
            return MESOCTL_USAGE;
    Meso__V1__ClinicSettings cs = MESO__V1__CLINIC_SETTINGS__INIT;
    cs.clinic_id = (char *) mesoctl_opt (opts, "clinic");
    cs.max_age = (uint32_t) v[0];
    cs.bmi_obesity_x10 = (uint32_t) v[1];
    cs.validity_days = (uint32_t) v[2];
    Meso__V1__SetClinicSettingsRequest rq = MESO__V1__SET_CLINIC_SETTINGS_REQUEST__INIT;
    rq.settings = &cs;
    ProtobufCMessage *out = NULL;
    int rc = mesoctl_call (&s_service, opts, "screening.SetClinicSettings", &rq.base, true,
                           &meso__v1__set_clinic_settings_reply__descriptor, &out);
    if (rc != MESOCTL_OK)
        return rc;
    Meso__V1__SetClinicSettingsReply *rep = (Meso__V1__SetClinicSettingsReply *) out;
    if (!meso_config_bool (opts, "json") && rep->settings)
        printf ("clinic %s: oldest age treated %u, obese from BMI %u.%u, a screening valid %u days\n",
                rep->settings->clinic_id, rep->settings->max_age, rep->settings->bmi_obesity_x10 / 10,
                rep->settings->bmi_obesity_x10 % 10, rep->settings->validity_days);
    protobuf_c_message_free_unpacked (out, NULL);
    return MESOCTL_OK;
}

static const meso_opt_t s_settings_opts[] = {
    { "clinic", NULL, NULL, "clinic id (required)", NULL },
    { "max-age", NULL, "0", "oldest age treated, 18..120 (0: the default, 70)", NULL },
    { "bmi-obesity", NULL, "0", "BMI x 10 from which a patient counts as obese, 150..600 (0: 300)", NULL },
    { "validity-days", NULL, "0", "days a screening stays valid, 1..3650 (0: 180)", NULL },
    MESOCTL_OPT_END
};

/* ------------------------------------------------------------- entry */

/* -------------------------------------------------------- instructions */

static const meso_opt_t s_instructions_opts[] = {
    { "patient", NULL, NULL, "patient id (required)", NULL },
    MESOCTL_OPT_END
};

/* What a reminder tells the patient before a session. The method is open
 * to service principals only (scheduling's reminders call it): for an
 * operator who checks what a reminder will carry. */
static int
s_instructions (meso_opt_t *opts)
{
    Meso__V1__GetInstructionsRequest rq = MESO__V1__GET_INSTRUCTIONS_REQUEST__INIT;
    rq.patient_id = (char *) mesoctl_opt (opts, "patient");
    ProtobufCMessage *out = NULL;
    int rc = mesoctl_call (&s_service, opts, "screening.GetInstructions", &rq.base, false,
                           &meso__v1__get_instructions_reply__descriptor, &out);
    if (rc != MESOCTL_OK)
        return rc;
    Meso__V1__GetInstructionsReply *rep = (Meso__V1__GetInstructionsReply *) out;
    if (!meso_config_bool (opts, "json")) {
        printf ("screening %s\n", *rep->screening_id ? rep->screening_id : "(none)");
        for (size_t i = 0; i < rep->n_instructions; i++)
            printf ("  %s\n", rep->instructions[i]);
        for (size_t i = 0; i < rep->n_health_instructions; i++)
            printf ("  (health) %s\n", rep->health_instructions[i]);
    }
    protobuf_c_message_free_unpacked (out, NULL);
    return MESOCTL_OK;
}

static const mesoctl_sub_t s_subs[] = {
    { "record", "record a questionnaire (--file answers.json or flags)",
      "--patient ID [--file answers.json] [answer flags] [options]",
      "Records a new screening questionnaire (from --file, then flags on top) and prints the\n"
      "verdict with every reason. Answers file: one flat JSON object keyed by the\n"
      "Questionnaire's field names: {\"pregnancy\": \"no\", ..., \"height_mm\": 1700,\n"
      "\"weight_g\": 65000, \"allergies\": [\"lidocaine\"], \"areas\": [\"thighs:2\"]}",
      "--patient 6f1c...e2 --no all --height-mm 1680 --weight-g 64000 --areas thighs:2,hips:2\n"
      "--patient 6f1c...e2 --file answers.json --yes pregnancy",
      s_record_opts, MESOCTL_JSON | MESOCTL_KEY, NULL, 0, s_record, "screening.RecordScreening" },
    { "show", "a patient's verdict with every reason, and the history",
      "--patient ID [--history N] [--page-size N] [--page-token T | --all] [options]",
      "Shows a patient's current screening: verdict, every reason, course, instructions,\n"
      "changes reported since, and the history.",
      "--patient 6f1c...e2 --history 5\n--patient 6f1c...e2 --page-size 20 --all",
      s_show_opts, MESOCTL_JSON, NULL, 0, s_show, "screening.GetScreening" },
    { "check", "may the patient receive --ingredients on --date?",
      "--patient ID --ingredients a,b --date YYYY-MM-DD [--clinic C] [options]",
      "May the patient receive these ingredients on this day? Exits 0 when allowed, 1 with\n"
      "every reason when not.",
      "--patient 6f1c...e2 --ingredients caffeine,procaine --date 2025-03-14",
      s_check_opts, MESOCTL_JSON, NULL, 0, s_check, "screening.Check" },
    { "report-change", "the patient reports a change of health (the screening is outdated)",
      "--patient ID --changes c1,c2 [--note TEXT] [options]",
      "Records a change of health the patient reports: the current screening is outdated\n"
      "from now (Check refuses until a new one is recorded), booked sessions included.",
      "--patient 6f1c...e2 --changes pregnancy --note \"told the front desk on the phone\"",
      s_report_change_opts, MESOCTL_JSON | MESOCTL_KEY, NULL, 0, s_report_change, "screening.ReportChange" },
    { "settings", "a clinic's screening thresholds (age, BMI, validity)",
      "--clinic C [--max-age N] [--bmi-obesity N] [--validity-days N] [options]",
      "Sets a clinic's screening thresholds; a value left 0 takes the default. Prints the\n"
      "settings stored.",
      "--clinic par --max-age 65 --bmi-obesity 320 --validity-days 120",
      s_settings_opts, MESOCTL_JSON | MESOCTL_KEY, NULL, 0, s_settings, "screening.SetClinicSettings" },
    { "instructions", "what a session reminder tells the patient (service principals)",
      "--patient ID [options]",
      "Prints the pre-session instructions reminders carry: those every patient gets, then\n"
      "those that follow from the patient's screening (health). Open to service principals\n"
      "only: run it with a service's key pair (MESO_KEY).",
      "--patient 6f1c...e2",
      s_instructions_opts, MESOCTL_JSON, NULL, 0, s_instructions, "screening.GetInstructions" },
    { NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, 0, NULL, NULL }
};

int
mesoctl_screening (int argc, char **argv)
{
    return mesoctl_run (&s_service, s_subs, false, argc, argv);
}
