/* opts.c -- option tables of mesoctl's subcommands: one parser, one help.
 *
 * Each subcommand declares only the options it reads (mesoctl_sub_t.opts);
 * this file adds what every subcommand of its service takes (--endpoint,
 * --json, --key, --timeout: mesoctl_service_t and mesoctl_sub_t.common),
 * so those are written once, and prints its --help: its synopsis, what it
 * does, its own options with their environment variables and defaults, and
 * an example. Parsing itself is meso_config_parse's, so a subcommand takes
 * flags, MESO_* variables and defaults exactly as the daemons do.
 *
 * Why --help is found here before meso_config_parse sees it: a subcommand
 * may tolerate options an older shared table took (scheduling's, billing
 * package's), and those must parse without being listed. The scan below
 * walks the arguments as meso_config_parse does, so --help wins exactly
 * where it would have (not as the value of an option, not after an
 * unknown option or a lone "--"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesoctl.h"

/* Options of the largest merged table (own + common + tolerated). */
#define MAX_OPTS 64

/* meso_config keeps the program name it was given for the messages of
 * meso_config_int, after parsing: it must outlive the parse. */
static char s_program[160];
/* The positional arguments of the subcommand being run (spare_args). */
static const char *s_args[4];
static int s_nargs;

static const meso_opt_t s_json_opt = { "json", NULL, "false", "print the reply as JSON", NULL };
static const meso_opt_t s_key_opt = {
    "key", NULL, "", "idempotency key (default: a new UUID; reuse it to retry safely)", NULL
};

int
mesoctl_parsed (int rc)
{
    if (rc == 0)
        return -1;
    return rc == 1 ? MESOCTL_OK : MESOCTL_USAGE;
}

static const meso_opt_t *
s_find (const meso_opt_t *opts, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n && opts[i].name; i++)
        if (strlen (opts[i].name) == len && strncmp (opts[i].name, name, len) == 0)
            return &opts[i];
    return NULL;
}

const char *
mesoctl_arg (int i)
{
    return i >= 0 && i < s_nargs ? s_args[i] : NULL;
}

const char *
mesoctl_opt (const meso_opt_t *opts, const char *name)
{
    const meso_opt_t *o = s_find (opts, MAX_OPTS, name, strlen (name));
    return o && o->value ? o->value : "";
}

int
mesoctl_enum_opt (const meso_opt_t *opts, const char *name, const ProtobufCEnumDescriptor *d, int *value)
{
    const char *text = mesoctl_opt (opts, name);
    *value = meso_enum_from_text (d, text);
    if (*value != 0 || !*text)
        return 0;
    fprintf (stderr, "mesoctl: --%s must be one of:", name);
    for (unsigned i = 0; i < d->n_values; i++)
        if (d->values[i].value != 0)
            fprintf (stderr, " %s", meso_enum_str (d, d->values[i].value));
    fprintf (stderr, " (got \"%s\")\n", text);
    return MESOCTL_USAGE;
}

size_t
mesoctl_split (char *list, const char *sep, bool skip_blank, char **out, size_t max)
{
    size_t n = 0;
    char *save = NULL;
    for (char *t = strtok_r (list, sep, &save); t && n < max; t = strtok_r (NULL, sep, &save)) {
        while (skip_blank && *t == ' ')
            t++;
        if (*t || !skip_blank)
            out[n++] = t;
    }
    return n;
}

static bool
s_is_boolean (const meso_opt_t *o)
{
    return o->def && (strcmp (o->def, "true") == 0 || strcmp (o->def, "false") == 0);
}

/* Appends o to the table unless an option of that name is in it. */
static void
s_add (meso_opt_t *opts, size_t *n, const meso_opt_t *o)
{
    if (*n + 1 < MAX_OPTS && !s_find (opts, *n, o->name, strlen (o->name)))
        opts[(*n)++] = *o;
}

/* The table sub parses: its own options, the common ones, then the
 * tolerated ones. Returns how many are shown in --help. */
static size_t
s_merge (const mesoctl_service_t *svc, const mesoctl_sub_t *sub, meso_opt_t *opts)
{
    size_t n = 0;
    for (const meso_opt_t *o = sub->opts; o && o->name; o++)
        s_add (opts, &n, o);
    if (sub->common & MESOCTL_KEY)
        s_add (opts, &n, &s_key_opt);
    if (sub->common & MESOCTL_JSON)
        s_add (opts, &n, &s_json_opt);
    s_add (opts, &n, &svc->endpoint);
    if (svc->timeout_default) {
        meso_opt_t t = { "timeout", NULL, svc->timeout_default, "milliseconds to wait for the reply", NULL };
        s_add (opts, &n, &t);
    }
    size_t shown = n;
    for (const meso_opt_t *o = sub->tolerated; o && o->name; o++)
        s_add (opts, &n, o);
    opts[n] = (meso_opt_t) MESOCTL_OPT_END;
    return shown;
}

/* Whether meso_config_parse would meet --help (or -h) in argv before an
 * error, a --version or the end (see the top of the file). */
static bool
s_wants_help (const meso_opt_t *opts, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp (arg, "--") == 0)
            return false;
        if (strncmp (arg, "--", 2) != 0) {
            if (strcmp (arg, "-h") == 0)
                return true;
            if (arg[0] == '-' && arg[1] != '\0')
                return false;
            continue;
        }
        const char *name = arg + 2;
        const char *eq = strchr (name, '=');
        size_t len = eq ? (size_t) (eq - name) : strlen (name);
        const meso_opt_t *o = s_find (opts, MAX_OPTS, name, len);
        if (!o)
            return !eq && strcmp (name, "help") == 0;
        if (!eq && !s_is_boolean (o)) {
            if (i + 1 >= argc || strncmp (argv[i + 1], "--", 2) == 0)
                return false;
            i++;
        }
    }
    return false;
}

static void
s_flag (const meso_opt_t *o, char *buf, size_t size)
{
    snprintf (buf, size, "--%s%s", o->name, s_is_boolean (o) ? "" : " VALUE");
}

/* Prints each line of text with prefix before it. */
static void
s_lines (const char *prefix, const char *text)
{
    while (text && *text) {
        const char *nl = strchr (text, '\n');
        int len = nl ? (int) (nl - text) : (int) strlen (text);
        printf ("%s%.*s\n", prefix, len, text);
        text = nl ? nl + 1 : NULL;
    }
}

static void
s_help (const meso_opt_t *opts, size_t shown, const char *usage, const char *about, const char *example,
        const char *calls)
{
    int width = 11;
    for (size_t i = 0; i < shown; i++) {
        char flag[128];
        s_flag (&opts[i], flag, sizeof flag);
        if ((int) strlen (flag) > width)
            width = (int) strlen (flag);
    }
    printf ("Usage: %s %s\n", s_program, usage && *usage ? usage : "[options]");
    if (about && *about)
        printf ("\n%s\n", about);
    if (calls && *calls)
        printf ("\nCalls: %s\n", calls);
    printf ("\nOptions (a flag overrides its environment variable, which overrides the default):\n");
    for (size_t i = 0; i < shown; i++) {
        const meso_opt_t *o = &opts[i];
        char flag[128];
        s_flag (o, flag, sizeof flag);
        printf ("  %-*s  %s\n", width, flag, o->help ? o->help : "");
        printf ("  %-*s  ", width, "");
        if (o->env)
            printf ("env %s, ", o->env);
        if (o->def)
            printf ("default \"%s\"\n", o->def);
        else
            printf ("no default\n");
    }
    printf ("  %-*s  %s\n", width, "--help", "print this help and exit");
    printf ("  %-*s  %s\n", width, "--version", "print the version and exit");
    if (example && *example) {
        char prefix[200];
        snprintf (prefix, sizeof prefix, "  %s ", s_program);
        printf ("\nExample%s:\n", strchr (example, '\n') ? "s" : "");
        s_lines (prefix, example);
    }
}

static int
s_run_sub (const mesoctl_service_t *svc, const mesoctl_sub_t *sub, int argc, char **argv)
{
    meso_opt_t opts[MAX_OPTS];
    size_t shown = s_merge (svc, sub, opts);
    snprintf (s_program, sizeof s_program, "mesoctl %s %s", svc->name, sub->name);
    if (s_wants_help (opts, argc, argv)) {
        s_help (opts, shown, sub->usage, sub->about, sub->example, sub->calls);
        return MESOCTL_OK;
    }
    const char *spare[4];
    int nspare = sub->spare_args < 4 ? sub->spare_args : 4;
    int rc = mesoctl_parsed (meso_config_parse (opts, argc, argv, s_program, sub->about,
                                                nspare ? spare : NULL, nspare ? &nspare : NULL));
    if (rc >= 0)
        return rc;
    s_nargs = nspare;
    for (int i = 0; i < nspare; i++)
        s_args[i] = spare[i];
    return sub->fn (opts);
}

/* Does sub's name, one word or two, start argv? Returns the words used. */
static int
s_match (const mesoctl_sub_t *sub, int argc, char **argv)
{
    const char *sp = strchr (sub->name, ' ');
    if (!sp)
        return argc >= 2 && strcmp (argv[1], sub->name) == 0 ? 1 : 0;
    size_t len = (size_t) (sp - sub->name);
    return argc >= 3 && strlen (argv[1]) == len && strncmp (argv[1], sub->name, len) == 0
        && strcmp (argv[2], sp + 1) == 0 ? 2 : 0;
}

/* Lists the subcommands whose name starts with group (all when ""). */
static void
s_usage (FILE *out, const mesoctl_service_t *svc, const mesoctl_sub_t *subs, const char *group)
{
    size_t glen = strlen (group);
    int width = 0;
    for (const mesoctl_sub_t *s = subs; s->name; s++)
        if ((int) strlen (s->name) > width)
            width = (int) strlen (s->name);
    fprintf (out, "Usage: mesoctl %s %s%s<subcommand> [options]\n\n%s\n\nSubcommands:\n", svc->name,
             group, glen ? " " : "", svc->summary);
    for (const mesoctl_sub_t *s = subs; s->name; s++)
        if (!glen || (strncmp (s->name, group, glen) == 0 && s->name[glen] == ' '))
            fprintf (out, "  %-*s  %s\n", width, s->name, s->summary);
    fprintf (out, "\nRun \"mesoctl %s <subcommand> --help\" for its options and an example.\n", svc->name);
}

/* With find_anywhere: the index of the first argument that is not an
 * option or an option's value (by the table tolerated), or 0. */
static int
s_first_word (const meso_opt_t *tolerated, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strncmp (arg, "--", 2) != 0)
            return arg[0] == '-' && arg[1] ? 0 : i;
        const char *name = arg + 2;
        const char *eq = strchr (name, '=');
        size_t len = eq ? (size_t) (eq - name) : strlen (name);
        const meso_opt_t *o = tolerated ? s_find (tolerated, MAX_OPTS, name, len) : NULL;
        if (!o || eq || s_is_boolean (o))
            continue;
        if (i + 1 < argc && strncmp (argv[i + 1], "--", 2) != 0)
            i++;
    }
    return 0;
}

int
mesoctl_run (const mesoctl_service_t *svc, const mesoctl_sub_t *subs, bool find_anywhere,
             int argc, char **argv)
{
    const char *w1 = argc >= 2 ? argv[1] : "";
    bool help = strcmp (w1, "--help") == 0 || strcmp (w1, "-h") == 0;
    for (const mesoctl_sub_t *s = subs; s->name; s++) {
        int words = s_match (s, argc, argv);
        if (words)
            return s_run_sub (svc, s, argc - words, argv + words);
    }
    if (find_anywhere && !help && strncmp (w1, "--", 2) == 0) {
        /* "mesoctl scheduling --json course ...": the same as the
         * subcommand first, the other arguments in their order. */
        int at = s_first_word (subs[0].tolerated, argc, argv);
        for (const mesoctl_sub_t *s = subs; at && s->name; s++)
            if (!strchr (s->name, ' ') && strcmp (argv[at], s->name) == 0) {
                char **moved = malloc ((size_t) argc * sizeof *moved);
                if (!moved)
                    return MESOCTL_FAILED;
                int n = 0;
                moved[n++] = argv[at];
                for (int i = 1; i < argc; i++)
                    if (i != at)
                        moved[n++] = argv[i];
                int rc = s_run_sub (svc, s, n, moved);
                free (moved);
                return rc;
            }
    }
    if (find_anywhere && !help && strncmp (w1, "--", 2) == 0) {
        /* No subcommand among the options: what the shared table did with
         * them (--version, an option's error, a later --help). */
        meso_opt_t all[MAX_OPTS];
        size_t n = 0;
        for (const meso_opt_t *o = subs[0].tolerated; o && o->name; o++)
            s_add (all, &n, o);
        all[n] = (meso_opt_t) MESOCTL_OPT_END;
        snprintf (s_program, sizeof s_program, "mesoctl %s", svc->name);
        const char *pos[2];
        int npos = 2;
        int rc = mesoctl_parsed (meso_config_parse (all, argc, argv, s_program, svc->summary, pos, &npos));
        if (rc >= 0)
            return rc;
    }
    /* The first word of a two-word subcommand ("billing package"): its
     * group's usage. */
    const char *group = "";
    for (const mesoctl_sub_t *s = subs; s->name && !help; s++) {
        const char *sp = strchr (s->name, ' ');
        if (sp && *w1 && strlen (w1) == (size_t) (sp - s->name) && strncmp (w1, s->name, strlen (w1)) == 0) {
            group = w1;
            const char *w2 = argc >= 3 ? argv[2] : "";
            help = strcmp (w2, "--help") == 0 || strcmp (w2, "-h") == 0;
            break;
        }
    }
    if (!help && *w1 && !*group)
        fprintf (stderr, "mesoctl %s: unknown subcommand \"%s\"\n", svc->name, w1);
    s_usage (help ? stdout : stderr, svc, subs, group);
    return help ? MESOCTL_OK : MESOCTL_USAGE;
}
