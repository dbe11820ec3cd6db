/* config.h -- executable configuration: MESO_* environment, flags override.
 *
 * A program declares a table of options, terminated by an entry whose name
 * is NULL:
 *
 *     meso_opt_t opts[] = {
 *         { "db", "MESO_DB", "host=/tmp dbname=meso", "libpq conninfo" },
 *         { "bind", "MESO_EVENTS_BIND", "tcp://127.0.0.1:7105", "ROUTER endpoint" },
 *         { NULL }
 *     };
 *     int rc = meso_config_parse (opts, argc, argv, "meso-events",
 *                                 "the events daemon", NULL);
 *
 * Precedence: --name=value or --name value on the command line, then the
 * environment variable, then the default. --help prints every option with its
 * variable, default and help text; --version prints the version. A boolean
 * flag is an option whose default is "false" or "true": "--name" alone sets
 * it to "true". Unknown flags and missing values are errors. Arguments that
 * are not flags are returned as positional arguments. */
#ifndef MESO_CONFIG_H
#define MESO_CONFIG_H

#include <stdbool.h>

typedef struct {
    const char *name;   /* flag name without "--" */
    const char *env;    /* environment variable, or NULL */
    const char *def;    /* default value, or NULL for none */
    const char *help;   /* one line */
    const char *value;  /* filled by meso_config_parse (points into argv,
                           environ or def; never freed) */
} meso_opt_t;

/* Parses argv[1..]. Positional arguments (not starting with "--", or all
 * after a lone "--") are stored in order into positional[] when it is
 * non-NULL (up to *npositional entries; *npositional is set to the count).
 * Returns 0 to go on, 1 when --help or --version was printed (exit 0), -1
 * after printing an error to stderr (exit 2). */
int meso_config_parse (meso_opt_t *opts, int argc, char **argv,
                       const char *program, const char *summary,
                       const char **positional, int *npositional);

/* The value of option name (asserts that it exists in the table). */
const char *meso_config_get (const meso_opt_t *opts, const char *name);
/* Integer value; returns -1 and prints an error when not an integer in
 * [min, max]. */
int meso_config_int (const meso_opt_t *opts, const char *name, long min, long max, long *out);
/* Boolean value: "true/1/yes/on" or "false/0/no/off". */
bool meso_config_bool (const meso_opt_t *opts, const char *name);

#endif
