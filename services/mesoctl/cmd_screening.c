/* cmd_screening.c -- "mesoctl patient ..." and "mesoctl screening ...":
 * a front desk's and a practitioner's view of the screening daemon.
 *
 *     mesoctl patient register --given G --family F --birth YYYY-MM-DD --clinic C
 *     mesoctl screening record --patient ID (--file answers.json | flags)
 *     mesoctl screening show   --patient ID
 *     mesoctl screening check  --patient ID --ingredients a,b --date YYYY-MM-DD
 *
 * Each prints a readable form, or with --json the reply message as JSON
 * (field names as in proto/meso/v1/screening.proto, printed generically
 * from the protobuf-c descriptors so the output follows the contract). A
 * refusal prints every reason and exits 1.
 *
 * The answers file is one flat JSON object keyed by the Questionnaire
 * field names: contraindications as "yes"/"no" (or true/false), height_mm
 * and weight_g as numbers, allergies and medications as arrays of strings,
 * last_anti_inflammatory_dose as "YYYY-MM-DD", areas as an array of
 * "area:grade" or "area:grade:mild" strings. Only that shape is read: a
 * full JSON library is not worth a dependency for one flat file. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/bus.h"
#include "meso/config.h"
#include "meso/log.h"
#include "meso/status.h"
#include "meso/uuid.h"
#include "mesoctl.h"
#include "screening.pb-c.h"

#define MAX_ITEMS 64

/* ------------------------------------------------------ JSON printing */

static void
s_json_str (const char *s)
{
    char buf[4096];
    meso_json_escape (buf, sizeof buf, s ? s : "");
    printf ("\"%s\"", buf);
}

static void s_json_message (const ProtobufCMessage *m);

static void
s_json_value (const ProtobufCFieldDescriptor *f, const void *p)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
        printf ("%d", *(const int32_t *) p);
        break;
    case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32:
        printf ("%u", *(const uint32_t *) p);
        break;
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
        printf ("%lld", (long long) *(const int64_t *) p);
        break;
    case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
        printf ("%llu", (unsigned long long) *(const uint64_t *) p);
        break;
    case PROTOBUF_C_TYPE_BOOL:
        printf ("%s", *(const protobuf_c_boolean *) p ? "true" : "false");
        break;
    case PROTOBUF_C_TYPE_FLOAT:
        printf ("%g", (double) *(const float *) p);
        break;
    case PROTOBUF_C_TYPE_DOUBLE:
        printf ("%g", *(const double *) p);
        break;
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumValue *v =
            protobuf_c_enum_descriptor_get_value (f->descriptor, *(const int *) p);
        if (v)
            s_json_str (v->name);
        else
            printf ("%d", *(const int *) p);
        break;
    }
    case PROTOBUF_C_TYPE_STRING:
        s_json_str (*(char *const *) p);
        break;
    case PROTOBUF_C_TYPE_BYTES:
        printf ("%zu", ((const ProtobufCBinaryData *) p)->len);
        break;
    case PROTOBUF_C_TYPE_MESSAGE:
        if (*(ProtobufCMessage *const *) p)
            s_json_message (*(ProtobufCMessage *const *) p);
        else
            printf ("null");
        break;
    }
}

static size_t
s_field_size (const ProtobufCFieldDescriptor *f)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64: case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof (protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING: case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof (void *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof (ProtobufCBinaryData);
    default:
        return 4;
    }
}

static void
s_json_message (const ProtobufCMessage *m)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    printf ("{");
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const char *base = (const char *) m;
        printf ("%s\"%s\":", i ? "," : "", f->name);
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *) (base + f->quantifier_offset);
            const char *arr = *(const char *const *) (base + f->offset);
            printf ("[");
            for (size_t k = 0; k < n; k++) {
                if (k)
                    printf (",");
                s_json_value (f, arr + k * s_field_size (f));
            }
            printf ("]");
        }
        else
            s_json_value (f, base + f->offset);
    }
    printf ("}");
}

/* ------------------------------------------------------------ calling */

/* Calls method; on success unpacks the body with desc into *out. Prints a
 * refusal (every reason) and returns MESOCTL_FAILED otherwise. */
static int
s_call (const meso_opt_t *opts, const char *method, const ProtobufCMessage *body, bool mutating,
        const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out)
{
    bool json = meso_config_bool (opts, "json");
    meso_bus_client_t *client = meso_bus_client_new (meso_config_get (opts, "endpoint"),
                                                     MESO__V1__ACTOR__KIND__KIND_OPERATOR, "mesoctl");
    if (!client) {
        fprintf (stderr, "mesoctl: cannot use endpoint \"%s\"\n", meso_config_get (opts, "endpoint"));
        return MESOCTL_USAGE;
    }
    char key[MESO_UUID_LEN + 1] = "";
    /* Only mutating commands have --key (meso_config_get asserts it exists). */
    const char *k = mutating ? meso_config_get (opts, "key") : NULL;
    if (mutating && (!k || !*k)) {
        meso_uuid_v4 (key);
        k = key;
    }
    meso_result_t r = { 0 };
    int rc = meso_bus_client_call (client, method, body, mutating ? k : NULL, 10000, &r);
    meso_bus_client_destroy (&client);
    if (rc != 0) {
        if (json) {
            printf ("{\"status\":\"%s\",\"message\":", meso_status_name (r.status));
            s_json_str (r.message);
            printf (",\"detail\":");
            s_json_str (r.reply ? r.reply->detail : "");
            printf (",\"reasons\":[");
            for (size_t i = 0; r.reply && i < r.reply->n_reasons; i++) {
                if (i)
                    printf (",");
                s_json_message (&r.reply->reasons[i]->base);
            }
            printf ("]}\n");
        }
        else {
            fprintf (stderr, "%s: %s\n", meso_status_name (r.status), r.message);
            for (size_t i = 0; r.reply && i < r.reply->n_reasons; i++) {
                Meso__V1__Reason *re = r.reply->reasons[i];
                fprintf (stderr, "  - %s%s%s: %s\n", re->code, *re->field ? " @ " : "",
                         re->field, re->message);
            }
            if (r.reply && *r.reply->detail)
                fprintf (stderr, "  %s\n", r.reply->detail);
        }
        meso_result_reset (&r);
        return MESOCTL_FAILED;
    }
    size_t len;
    const uint8_t *data = meso_result_body (&r, &len);
    *out = protobuf_c_message_unpack (desc, NULL, len, data);
    meso_result_reset (&r);
    if (!*out) {
        fprintf (stderr, "mesoctl: the reply of %s does not decode\n", method);
        return MESOCTL_FAILED;
    }
    if (json) {
        s_json_message (*out);
        printf ("\n");
    }
    return MESOCTL_OK;
}

/* Splits list at sep into out (pointers into list, which is modified). */
static size_t
s_split (char *list, const char *sep, char **out, size_t max)
{
    size_t n = 0;
    char *save = NULL;
    for (char *t = strtok_r (list, sep, &save); t && n < max; t = strtok_r (NULL, sep, &save)) {
        while (*t == ' ')
            t++;
        if (*t)
            out[n++] = t;
    }
    return n;
}

/* --------------------------------------------------- patient register */

int
mesoctl_patient (int argc, char **argv)
{
    if (argc < 2 || strcmp (argv[1], "register") != 0) {
        fprintf (stderr, "Usage: mesoctl patient register --given G --family F --birth YYYY-MM-DD "
                         "--clinic C [--sex female|male|other] [--phone P] [--email E] [--json]\n");
        return (argc >= 2 && strcmp (argv[1], "--help") == 0) ? MESOCTL_OK : MESOCTL_USAGE;
    }
    meso_opt_t opts[] = {
        { "given", NULL, NULL, "given name (required)", NULL },
        { "family", NULL, NULL, "family name (required)", NULL },
        { "birth", NULL, NULL, "birth date YYYY-MM-DD (required)", NULL },
        { "clinic", NULL, NULL, "home clinic id (required)", NULL },
        { "sex", NULL, "", "female, male or other", NULL },
        { "phone", NULL, "", "contact phone", NULL },
        { "email", NULL, "", "contact e-mail", NULL },
        { "key", NULL, "", "idempotency key (default: a new UUID; reuse it to retry safely)", NULL },
        { "json", NULL, "false", "print the reply as JSON", NULL },
        { "endpoint", "MESO_SCREENING_ENDPOINT", "tcp://127.0.0.1:7101", "screening daemon", NULL },
        { NULL, NULL, NULL, NULL, NULL }
    };
    int rc = mesoctl_parsed (meso_config_parse (opts, argc - 1, argv + 1, "mesoctl patient register",
        "Registers a patient and prints the new patient id.", NULL, NULL));
    if (rc >= 0)
        return rc;
    Meso__V1__Patient p = MESO__V1__PATIENT__INIT;
    p.given_name = (char *) (meso_config_get (opts, "given") ? meso_config_get (opts, "given") : "");
    p.family_name = (char *) (meso_config_get (opts, "family") ? meso_config_get (opts, "family") : "");
    p.birth_date = (char *) (meso_config_get (opts, "birth") ? meso_config_get (opts, "birth") : "");
    p.home_clinic_id = (char *) (meso_config_get (opts, "clinic") ? meso_config_get (opts, "clinic") : "");
    p.phone = (char *) meso_config_get (opts, "phone");
    p.email = (char *) meso_config_get (opts, "email");
    const char *sex = meso_config_get (opts, "sex");
    p.sex = strcmp (sex, "female") == 0 ? MESO__V1__SEX__SEX_FEMALE
          : strcmp (sex, "male") == 0 ? MESO__V1__SEX__SEX_MALE
          : strcmp (sex, "other") == 0 ? MESO__V1__SEX__SEX_OTHER : MESO__V1__SEX__SEX_UNSPECIFIED;
    Meso__V1__RegisterPatientRequest rq = MESO__V1__REGISTER_PATIENT_REQUEST__INIT;
    rq.patient = &p;
    ProtobufCMessage *out = NULL;
    rc = s_call (opts, "screening.RegisterPatient", &rq.base, true,
                 &meso__v1__register_patient_reply__descriptor, &out);
    if (rc != MESOCTL_OK)
        return rc;
    Meso__V1__RegisterPatientReply *rep = (Meso__V1__RegisterPatientReply *) out;
    if (!meso_config_bool (opts, "json"))
        printf ("patient %s registered: %s %s, born %s, home clinic %s\n", rep->patient->id,
                rep->patient->given_name, rep->patient->family_name, rep->patient->birth_date,
                rep->patient->home_clinic_id);
    protobuf_c_message_free_unpacked (out, NULL);
    return MESOCTL_OK;
}

/* ------------------------------------------------------ the answers */

typedef struct {
    Meso__V1__Questionnaire q;
    char *allergies[MAX_ITEMS];
    char *meds[MAX_ITEMS];
    Meso__V1__AreaGrade areas[MAX_ITEMS];
    Meso__V1__AreaGrade *area_ptrs[MAX_ITEMS];
    char *strings[4 * MAX_ITEMS];       /* owned copies, freed at the end */
    size_t nstrings;
} s_answers_t;

static Meso__V1__Answer *
s_answer_field (s_answers_t *a, const char *name)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name (&meso__v1__questionnaire__descriptor, name);
    if (!f || f->type != PROTOBUF_C_TYPE_ENUM)
        return NULL;
    return (Meso__V1__Answer *) ((char *) &a->q + f->offset);
}

static int
s_set_answer (s_answers_t *a, const char *name, const char *value)
{
    Meso__V1__Answer *f = s_answer_field (a, name);
    if (!f) {
        fprintf (stderr, "mesoctl: \"%s\" is not a yes/no question of the questionnaire\n", name);
        return -1;
    }
    if (strcmp (value, "yes") == 0 || strcmp (value, "true") == 0)
        *f = MESO__V1__ANSWER__ANSWER_YES;
    else if (strcmp (value, "no") == 0 || strcmp (value, "false") == 0)
        *f = MESO__V1__ANSWER__ANSWER_NO;
    else {
        fprintf (stderr, "mesoctl: %s must be yes or no (got \"%s\")\n", name, value);
        return -1;
    }
    return 0;
}

static char *
s_keep (s_answers_t *a, const char *s)
{
    if (a->nstrings == sizeof a->strings / sizeof a->strings[0])
        return (char *) "";
    return a->strings[a->nstrings++] = strdup (s);
}

static int
s_add_area (s_answers_t *a, const char *spec)
{
    if (a->q.n_areas == MAX_ITEMS)
        return 0;
    char buf[160];
    snprintf (buf, sizeof buf, "%s", spec);
    char *parts[3] = { NULL, NULL, NULL };
    size_t n = s_split (buf, ":", parts, 3);
    if (n < 2) {
        fprintf (stderr, "mesoctl: an area is \"area:grade\" or \"area:grade:mild\" (got \"%s\")\n", spec);
        return -1;
    }
    Meso__V1__AreaGrade *g = &a->areas[a->q.n_areas];
    meso__v1__area_grade__init (g);
    g->area = s_keep (a, parts[0]);
    g->grade = atoi (parts[1]);
    g->mild = n == 3 && strcmp (parts[2], "mild") == 0;
    a->area_ptrs[a->q.n_areas++] = g;
    return 0;
}

/* A minimal reader for the flat answers object (see the top of the file). */
typedef struct {
    const char *p;
} s_json_t;

static void
s_ws (s_json_t *j)
{
    while (isspace ((unsigned char) *j->p))
        j->p++;
}

/* Reads a JSON string into out (escapes \" \\ \/ \n \t only). */
static int
s_jstring (s_json_t *j, char *out, size_t size)
{
    s_ws (j);
    if (*j->p != '"')
        return -1;
    j->p++;
    size_t n = 0;
    while (*j->p && *j->p != '"') {
        char c = *j->p++;
        if (c == '\\') {
            c = *j->p++;
            c = c == 'n' ? '\n' : c == 't' ? '\t' : c;
        }
        if (n + 1 < size)
            out[n++] = c;
    }
    if (*j->p != '"')
        return -1;
    j->p++;
    out[n] = '\0';
    return 0;
}

/* Reads a scalar (string, number, true/false/null) as text. */
static int
s_jscalar (s_json_t *j, char *out, size_t size)
{
    s_ws (j);
    if (*j->p == '"')
        return s_jstring (j, out, size);
    size_t n = 0;
    while (*j->p && (isalnum ((unsigned char) *j->p) || *j->p == '-' || *j->p == '.')) {
        if (n + 1 < size)
            out[n++] = *j->p;
        j->p++;
    }
    out[n] = '\0';
    return n ? 0 : -1;
}

static int
s_read_file (const char *path, s_answers_t *a)
{
    FILE *f = fopen (path, "r");
    if (!f) {
        fprintf (stderr, "mesoctl: cannot open %s\n", path);
        return -1;
    }
    char *text = calloc (1, 65537);
    size_t len = text ? fread (text, 1, 65536, f) : 0;
    fclose (f);
    if (!text)
        return -1;
    text[len] = '\0';
    s_json_t j = { text };
    int rc = -1;
    s_ws (&j);
    if (*j.p++ != '{')
        goto bad;
    for (;;) {
        s_ws (&j);
        if (*j.p == '}')
            break;
        char key[64], val[1024];
        if (s_jstring (&j, key, sizeof key) != 0)
            goto bad;
        s_ws (&j);
        if (*j.p++ != ':')
            goto bad;
        s_ws (&j);
        if (*j.p == '[') {
            j.p++;
            for (;;) {
                s_ws (&j);
                if (*j.p == ']') {
                    j.p++;
                    break;
                }
                if (s_jstring (&j, val, sizeof val) != 0)
                    goto bad;
                if (strcmp (key, "allergies") == 0 && a->q.n_allergies < MAX_ITEMS)
                    a->allergies[a->q.n_allergies++] = s_keep (a, val);
                else if (strcmp (key, "medications") == 0 && a->q.n_medications < MAX_ITEMS)
                    a->meds[a->q.n_medications++] = s_keep (a, val);
                else if (strcmp (key, "areas") == 0) {
                    if (s_add_area (a, val) != 0)
                        goto fail;
                }
                else {
                    fprintf (stderr, "mesoctl: %s: \"%s\" is not a list field\n", path, key);
                    goto fail;
                }
                s_ws (&j);
                if (*j.p == ',')
                    j.p++;
            }
        }
        else {
            if (s_jscalar (&j, val, sizeof val) != 0)
                goto bad;
            if (strcmp (key, "height_mm") == 0)
                a->q.height_mm = atoi (val);
            else if (strcmp (key, "weight_g") == 0)
                a->q.weight_g = atoi (val);
            else if (strcmp (key, "last_anti_inflammatory_dose") == 0)
                a->q.last_anti_inflammatory_dose = strcmp (val, "null") ? s_keep (a, val) : (char *) "";
            else if (strcmp (val, "null") != 0 && s_set_answer (a, key, val) != 0)
                goto fail;
        }
        s_ws (&j);
        if (*j.p == ',')
            j.p++;
    }
    rc = 0;
    goto fail;
bad:
    fprintf (stderr, "mesoctl: %s is not a flat JSON answers object (near byte %ld)\n", path,
             (long) (j.p - text));
fail:
    free (text);
    return rc;
}

static int
s_answers_from_flags (const meso_opt_t *opts, s_answers_t *a)
{
    char buf[2048];
    char *items[MAX_ITEMS];
    const char *no = meso_config_get (opts, "no");
    if (no && strcmp (no, "all") == 0) {
        for (unsigned i = 0; i < meso__v1__questionnaire__descriptor.n_fields; i++) {
            const ProtobufCFieldDescriptor *f = &meso__v1__questionnaire__descriptor.fields[i];
            if (f->type == PROTOBUF_C_TYPE_ENUM && f->id < 30)
                *(Meso__V1__Answer *) ((char *) &a->q + f->offset) = MESO__V1__ANSWER__ANSWER_NO;
        }
    }
    else if (no && *no) {
        snprintf (buf, sizeof buf, "%s", no);
        size_t n = s_split (buf, ",", items, MAX_ITEMS);
        for (size_t i = 0; i < n; i++)
            if (s_set_answer (a, items[i], "no") != 0)
                return -1;
    }
    const char *yes = meso_config_get (opts, "yes");
    if (yes && *yes) {
        snprintf (buf, sizeof buf, "%s", yes);
        size_t n = s_split (buf, ",", items, MAX_ITEMS);
        for (size_t i = 0; i < n; i++)
            if (s_set_answer (a, items[i], "yes") != 0)
                return -1;
    }
    const char *advisory[] = { "diet", "exercise", "localised_fat_deposits", "early_stage_cellulite" };
    for (size_t i = 0; i < 4; i++) {
        const char *v = meso_config_get (opts, advisory[i]);
        if (v && *v && s_set_answer (a, advisory[i], v) != 0)
            return -1;
    }
    const char *v;
    if ((v = meso_config_get (opts, "height-mm")) && *v)
        a->q.height_mm = atoi (v);
    if ((v = meso_config_get (opts, "weight-g")) && *v)
        a->q.weight_g = atoi (v);
    if ((v = meso_config_get (opts, "last-nsaid")) && *v)
        a->q.last_anti_inflammatory_dose = s_keep (a, v);
    if ((v = meso_config_get (opts, "allergies")) && *v) {
        snprintf (buf, sizeof buf, "%s", v);
        size_t n = s_split (buf, ",", items, MAX_ITEMS);
        for (size_t i = 0; i < n && a->q.n_allergies < MAX_ITEMS; i++)
            a->allergies[a->q.n_allergies++] = s_keep (a, items[i]);
    }
    if ((v = meso_config_get (opts, "medications")) && *v) {
        snprintf (buf, sizeof buf, "%s", v);
        size_t n = s_split (buf, ";", items, MAX_ITEMS);
        for (size_t i = 0; i < n && a->q.n_medications < MAX_ITEMS; i++)
            a->meds[a->q.n_medications++] = s_keep (a, items[i]);
    }
    if ((v = meso_config_get (opts, "areas")) && *v) {
        snprintf (buf, sizeof buf, "%s", v);
        size_t n = s_split (buf, ",", items, MAX_ITEMS);
        for (size_t i = 0; i < n; i++)
            if (s_add_area (a, items[i]) != 0)
                return -1;
    }
    return 0;
}

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

/* ------------------------------------------------------ screening ... */

static int
s_record (int argc, char **argv)
{
    meso_opt_t opts[] = {
        { "patient", NULL, NULL, "patient id (required)", NULL },
        { "clinic", NULL, "", "screening clinic (default: the patient's home clinic)", NULL },
        { "file", NULL, "", "answers as a flat JSON object (see mesoctl screening --help)", NULL },
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
        { "key", NULL, "", "idempotency key (default: a new UUID)", NULL },
        { "json", NULL, "false", "print the reply as JSON", NULL },
        { "endpoint", "MESO_SCREENING_ENDPOINT", "tcp://127.0.0.1:7101", "screening daemon", NULL },
        { NULL, NULL, NULL, NULL, NULL }
    };
    int rc = mesoctl_parsed (meso_config_parse (opts, argc, argv, "mesoctl screening record",
        "Records a new screening questionnaire (from --file, then flags on top) and prints the\n"
        "verdict with every reason. Answers file: {\"pregnancy\": \"no\", ..., \"height_mm\": 1700,\n"
        "\"weight_g\": 65000, \"allergies\": [\"lidocaine\"], \"areas\": [\"thighs:2\"]}", NULL, NULL));
    if (rc >= 0)
        return rc;
    const char *patient = meso_config_get (opts, "patient");
    if (!patient) {
        fprintf (stderr, "mesoctl screening record: --patient is required\n");
        return MESOCTL_USAGE;
    }
    s_answers_t *a = calloc (1, sizeof *a);
    if (!a)
        return MESOCTL_FAILED;
    meso__v1__questionnaire__init (&a->q);
    a->q.allergies = a->allergies;
    a->q.medications = a->meds;
    a->q.areas = a->area_ptrs;
    const char *file = meso_config_get (opts, "file");
    rc = MESOCTL_USAGE;
    if ((file && *file && s_read_file (file, a) != 0) || s_answers_from_flags (opts, a) != 0)
        goto done;
    Meso__V1__RecordScreeningRequest rq = MESO__V1__RECORD_SCREENING_REQUEST__INIT;
    rq.patient_id = (char *) patient;
    rq.clinic_id = (char *) meso_config_get (opts, "clinic");
    rq.answers = &a->q;
    ProtobufCMessage *out = NULL;
    rc = s_call (opts, "screening.RecordScreening", &rq.base, true,
                 &meso__v1__record_screening_reply__descriptor, &out);
    if (rc == MESOCTL_OK) {
        if (!meso_config_bool (opts, "json"))
            s_print_screening (((Meso__V1__RecordScreeningReply *) out)->screening);
        protobuf_c_message_free_unpacked (out, NULL);
    }
done:
    for (size_t i = 0; i < a->nstrings; i++)
        free (a->strings[i]);
    free (a);
    return rc;
}

static int
s_show (int argc, char **argv)
{
    meso_opt_t opts[] = {
        { "patient", NULL, NULL, "patient id (required)", NULL },
        { "history", NULL, "20", "screenings of the history to list", NULL },
        { "json", NULL, "false", "print the reply as JSON", NULL },
        { "endpoint", "MESO_SCREENING_ENDPOINT", "tcp://127.0.0.1:7101", "screening daemon", NULL },
        { NULL, NULL, NULL, NULL, NULL }
    };
    int rc = mesoctl_parsed (meso_config_parse (opts, argc, argv, "mesoctl screening show",
        "Shows a patient's current screening: verdict, every reason, course, instructions,\n"
        "changes reported since, and the history.", NULL, NULL));
    if (rc >= 0)
        return rc;
    long history;
    if (!meso_config_get (opts, "patient") || meso_config_int (opts, "history", 1, 200, &history)) {
        fprintf (stderr, "mesoctl screening show: --patient is required\n");
        return MESOCTL_USAGE;
    }
    Meso__V1__GetScreeningRequest rq = MESO__V1__GET_SCREENING_REQUEST__INIT;
    rq.patient_id = (char *) meso_config_get (opts, "patient");
    rq.history_limit = (uint32_t) history;
    ProtobufCMessage *out = NULL;
    rc = s_call (opts, "screening.GetScreening", &rq.base, false,
                 &meso__v1__get_screening_reply__descriptor, &out);
    if (rc != MESOCTL_OK)
        return rc;
    Meso__V1__GetScreeningReply *g = (Meso__V1__GetScreeningReply *) out;
    if (!meso_config_bool (opts, "json")) {
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
        if (g->n_history > 1) {
            printf ("History:\n");
            for (size_t i = 0; i < g->n_history; i++)
                printf ("  %s  %-26s %s\n", g->history[i]->screened_on,
                        s_verdict (g->history[i]->verdict), g->history[i]->id);
        }
    }
    protobuf_c_message_free_unpacked (out, NULL);
    return MESOCTL_OK;
}

static int
s_checkcmd (int argc, char **argv)
{
    meso_opt_t opts[] = {
        { "patient", NULL, NULL, "patient id (required)", NULL },
        { "ingredients", NULL, NULL, "ingredient codes of the cocktail, comma-separated (required)", NULL },
        { "date", NULL, NULL, "session day YYYY-MM-DD (required)", NULL },
        { "clinic", NULL, "", "clinic of the session (default: the screening clinic)", NULL },
        { "json", NULL, "false", "print the reply as JSON", NULL },
        { "endpoint", "MESO_SCREENING_ENDPOINT", "tcp://127.0.0.1:7101", "screening daemon", NULL },
        { NULL, NULL, NULL, NULL, NULL }
    };
    int rc = mesoctl_parsed (meso_config_parse (opts, argc, argv, "mesoctl screening check",
        "May the patient receive these ingredients on this day? Exits 0 when allowed, 1 with\n"
        "every reason when not.", NULL, NULL));
    if (rc >= 0)
        return rc;
    if (!meso_config_get (opts, "patient") || !meso_config_get (opts, "ingredients")
        || !meso_config_get (opts, "date")) {
        fprintf (stderr, "mesoctl screening check: --patient, --ingredients and --date are required\n");
        return MESOCTL_USAGE;
    }
    char buf[2048];
    char *items[MAX_ITEMS];
    snprintf (buf, sizeof buf, "%s", meso_config_get (opts, "ingredients"));
    Meso__V1__CheckRequest rq = MESO__V1__CHECK_REQUEST__INIT;
    rq.patient_id = (char *) meso_config_get (opts, "patient");
    rq.n_ingredients = s_split (buf, ",", items, MAX_ITEMS);
    rq.ingredients = items;
    rq.date = (char *) meso_config_get (opts, "date");
    rq.clinic_id = (char *) meso_config_get (opts, "clinic");
    ProtobufCMessage *out = NULL;
    rc = s_call (opts, "screening.Check", &rq.base, false, &meso__v1__check_reply__descriptor, &out);
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

int
mesoctl_screening (int argc, char **argv)
{
    const char *sub = argc >= 2 ? argv[1] : "";
    if (strcmp (sub, "record") == 0)
        return s_record (argc - 1, argv + 1);
    if (strcmp (sub, "show") == 0)
        return s_show (argc - 1, argv + 1);
    if (strcmp (sub, "check") == 0)
        return s_checkcmd (argc - 1, argv + 1);
    FILE *out = strcmp (sub, "--help") == 0 ? stdout : stderr;
    fprintf (out, "Usage: mesoctl screening record|show|check [options]\n"
                  "  record  record a questionnaire (--file answers.json or flags)\n"
                  "  show    a patient's verdict with every reason, and the history\n"
                  "  check   may the patient receive --ingredients on --date?\n"
                  "Run \"mesoctl screening <sub> --help\" for the options.\n");
    return out == stdout ? MESOCTL_OK : MESOCTL_USAGE;
}
