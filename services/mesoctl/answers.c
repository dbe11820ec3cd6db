/* answers.c -- the questionnaire of "mesoctl screening record", read from
 * an answers file and from flags.
 *
 * The answers file is one flat JSON object keyed by the Questionnaire
 * field names: contraindications as "yes"/"no" (or true/false), height_mm
 * and weight_g as numbers, allergies and medications as arrays of strings,
 * last_anti_inflammatory_dose as "YYYY-MM-DD", areas as an array of
 * "area:grade" or "area:grade:mild" strings. Only that shape is read: a
 * full JSON library is not worth a dependency for one flat file.
 *
 * Its own file because it is a parser, not a command: cmd_screening.c
 * sends what this builds (hiredis keeps its parser apart from its I/O the
 * same way). Yes/no questions are found by name in the Questionnaire's
 * descriptor, so a question added to screening.proto is answerable here
 * without a change. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answers.h"
#include "mesoctl.h"

mesoctl_answers_t *
mesoctl_answers_new (void)
{
    mesoctl_answers_t *a = calloc (1, sizeof *a);
    if (!a)
        return NULL;
    meso__v1__questionnaire__init (&a->q);
    a->q.allergies = a->allergies;
    a->q.medications = a->meds;
    a->q.areas = a->area_ptrs;
    return a;
}

void
mesoctl_answers_destroy (mesoctl_answers_t **self_p)
{
    mesoctl_answers_t *a = *self_p;
    if (!a)
        return;
    for (size_t i = 0; i < a->nstrings; i++)
        free (a->strings[i]);
    free (a);
    *self_p = NULL;
}

static Meso__V1__Answer *
s_answer_field (mesoctl_answers_t *a, const char *name)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name (&meso__v1__questionnaire__descriptor, name);
    if (!f || f->type != PROTOBUF_C_TYPE_ENUM)
        return NULL;
    return (Meso__V1__Answer *) ((char *) &a->q + f->offset);
}

static int
s_set_answer (mesoctl_answers_t *a, const char *name, const char *value)
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
s_keep (mesoctl_answers_t *a, const char *s)
{
    if (a->nstrings == sizeof a->strings / sizeof a->strings[0])
        return (char *) "";
    return a->strings[a->nstrings++] = strdup (s);
}

static int
s_add_area (mesoctl_answers_t *a, const char *spec)
{
    if (a->q.n_areas == MESOCTL_MAX_ITEMS)
        return 0;
    char buf[160];
    snprintf (buf, sizeof buf, "%s", spec);
    char *parts[3] = { NULL, NULL, NULL };
    size_t n = mesoctl_split (buf, ":", true, parts, 3);
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

int
mesoctl_answers_read_file (mesoctl_answers_t *a, const char *path)
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
                if (strcmp (key, "allergies") == 0 && a->q.n_allergies < MESOCTL_MAX_ITEMS)
                    a->allergies[a->q.n_allergies++] = s_keep (a, val);
                else if (strcmp (key, "medications") == 0 && a->q.n_medications < MESOCTL_MAX_ITEMS)
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

int
mesoctl_answers_from_flags (mesoctl_answers_t *a, const meso_opt_t *opts)
{
    char buf[2048];
    char *items[MESOCTL_MAX_ITEMS];
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
        size_t n = mesoctl_split (buf, ",", true, items, MESOCTL_MAX_ITEMS);
        for (size_t i = 0; i < n; i++)
            if (s_set_answer (a, items[i], "no") != 0)
                return -1;
    }
    const char *yes = meso_config_get (opts, "yes");
    if (yes && *yes) {
        snprintf (buf, sizeof buf, "%s", yes);
        size_t n = mesoctl_split (buf, ",", true, items, MESOCTL_MAX_ITEMS);
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
        size_t n = mesoctl_split (buf, ",", true, items, MESOCTL_MAX_ITEMS);
        for (size_t i = 0; i < n && a->q.n_allergies < MESOCTL_MAX_ITEMS; i++)
            a->allergies[a->q.n_allergies++] = s_keep (a, items[i]);
    }
    if ((v = meso_config_get (opts, "medications")) && *v) {
        snprintf (buf, sizeof buf, "%s", v);
        size_t n = mesoctl_split (buf, ";", true, items, MESOCTL_MAX_ITEMS);
        for (size_t i = 0; i < n && a->q.n_medications < MESOCTL_MAX_ITEMS; i++)
            a->meds[a->q.n_medications++] = s_keep (a, items[i]);
    }
    if ((v = meso_config_get (opts, "areas")) && *v) {
        snprintf (buf, sizeof buf, "%s", v);
        size_t n = mesoctl_split (buf, ",", true, items, MESOCTL_MAX_ITEMS);
        for (size_t i = 0; i < n; i++)
            if (s_add_area (a, items[i]) != 0)
                return -1;
    }
    return 0;
}
