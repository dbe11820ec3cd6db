/* config.c -- executable configuration: flags over MESO_* environment over
 * defaults (see config.h).
 *
 * Every meso executable is configured the same way so an operator learns it
 * once: the environment suits containers and supervisors, a flag overrides
 * it for one run, and the defaults run the whole set on one machine.
 * Values are never copied: they point into argv, the environment or the
 * option table, all of which outlive main's use of them.
 *
 * An environment variable that is set but empty counts as unset (compose
 * files and shells often pass VAR= to mean "nothing"). A flag value may be
 * empty: --name= says so explicitly. */
#include "meso/config.h"
#include "meso/version.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* For error messages of meso_config_int, which has no program argument. */
static const char *s_program = "meso";

static meso_opt_t *
s_find (const meso_opt_t *opts, const char *name, size_t len)
{
    for (const meso_opt_t *o = opts; o->name; o++)
        if (strlen (o->name) == len && strncmp (o->name, name, len) == 0)
            return (meso_opt_t *) o;
    return NULL;
}

static bool
s_is_boolean (const meso_opt_t *opt)
{
    return opt->def && (strcmp (opt->def, "true") == 0 || strcmp (opt->def, "false") == 0);
}

static void
s_flag (const meso_opt_t *o, char *buf, size_t size)
{
    snprintf (buf, size, "--%s%s", o->name, s_is_boolean (o) ? "" : " VALUE");
}

static void
s_help (const meso_opt_t *opts, const char *program, const char *summary)
{
    /* One column wide enough for the longest flag. */
    int width = 11;
    for (const meso_opt_t *o = opts; o->name; o++) {
        char flag[128];
        s_flag (o, flag, sizeof flag);
        if ((int) strlen (flag) > width)
            width = (int) strlen (flag);
    }
    printf ("Usage: %s [options]\n", program);
    if (summary && *summary)
        printf ("\n%s\n", summary);
    printf ("\nOptions (a flag overrides its environment variable, which overrides the default):\n");
    for (const meso_opt_t *o = opts; o->name; o++) {
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
}

int
meso_config_parse (meso_opt_t *opts, int argc, char **argv, const char *program,
                   const char *summary, const char **positional, int *npositional)
{
    assert (opts);
    assert (program);
    assert (!positional || npositional);
    s_program = program;
    int capacity = positional ? *npositional : 0;
    int count = 0;
    for (meso_opt_t *o = opts; o->name; o++)
        o->value = NULL;

    bool flags_done = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!flags_done && strcmp (arg, "--") == 0) {
            flags_done = true;
            continue;
        }
        if (flags_done || strncmp (arg, "--", 2) != 0) {
            if (!flags_done && arg[0] == '-' && arg[1] != '\0') {
                /* "-h" is common enough to honour; other single-dash flags
                 * are refused rather than taken for positional values. */
                if (strcmp (arg, "-h") == 0) {
                    s_help (opts, program, summary);
                    return 1;
                }
                fprintf (stderr, "%s: unknown option %s (see --help)\n", program, arg);
                return -1;
            }
            if (count >= capacity) {
                fprintf (stderr, "%s: unexpected argument '%s' (see --help)\n", program, arg);
                return -1;
            }
            positional[count++] = arg;
            continue;
        }
        const char *name = arg + 2;
        const char *eq = strchr (name, '=');
        size_t len = eq ? (size_t) (eq - name) : strlen (name);
        meso_opt_t *opt = s_find (opts, name, len);
        if (!opt && !eq && strcmp (name, "help") == 0) {
            s_help (opts, program, summary);
            return 1;
        }
        if (!opt && !eq && strcmp (name, "version") == 0) {
            printf ("%s %s\n", program, MESO_VERSION);
            return 1;
        }
        if (!opt) {
            fprintf (stderr, "%s: unknown option --%.*s (see --help)\n", program, (int) len, name);
            return -1;
        }
        if (eq)
            opt->value = eq + 1;
        else if (s_is_boolean (opt))
            opt->value = "true";
        else if (i + 1 < argc && strncmp (argv[i + 1], "--", 2) != 0)
            opt->value = argv[++i];
        else {
            fprintf (stderr, "%s: option --%s needs a value (see --help)\n", program, opt->name);
            return -1;
        }
    }
    for (meso_opt_t *o = opts; o->name; o++) {
        if (o->value)
            continue;
        const char *env = o->env ? getenv (o->env) : NULL;
        o->value = env && *env ? env : o->def;
    }
    if (npositional)
        *npositional = count;
    return 0;
}

static const meso_opt_t *
s_get (const meso_opt_t *opts, const char *name)
{
    assert (opts && name);
    const meso_opt_t *opt = s_find (opts, name, strlen (name));
    assert (opt);   /* asking for an option the table does not declare */
    return opt;
}

const char *
meso_config_get (const meso_opt_t *opts, const char *name)
{
    return s_get (opts, name)->value;
}

int
meso_config_int (const meso_opt_t *opts, const char *name, long min, long max, long *out)
{
    assert (out);
    const meso_opt_t *opt = s_get (opts, name);
    char env[96] = "";
    if (opt->env)
        snprintf (env, sizeof env, " (%s)", opt->env);
    const char *v = opt->value;
    if (!v || !*v) {
        fprintf (stderr, "%s: --%s%s needs a value: an integer from %ld to %ld\n",
                 s_program, opt->name, env, min, max);
        return -1;
    }
    errno = 0;
    char *end;
    long n = strtol (v, &end, 10);
    /* strtol skips leading blanks; a value with them is still a typo. */
    if (*end != '\0' || v[0] == ' ' || v[0] == '\t' || errno == ERANGE || n < min || n > max) {
        fprintf (stderr, "%s: --%s%s must be an integer from %ld to %ld, got '%s'\n",
                 s_program, opt->name, env, min, max, v);
        return -1;
    }
    *out = n;
    return 0;
}

bool
meso_config_bool (const meso_opt_t *opts, const char *name)
{
    const char *v = s_get (opts, name)->value;
    if (!v)
        return false;
    return strcasecmp (v, "true") == 0 || strcmp (v, "1") == 0 || strcasecmp (v, "yes") == 0
        || strcasecmp (v, "on") == 0;
}
