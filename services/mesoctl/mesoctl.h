/* mesoctl.h -- the command table of mesoctl.
 *
 * Each command lives in its own cmd_<name>.c and exports one function that
 * takes the arguments after "mesoctl" (argv[0] is the command's name) and
 * returns the exit status: 0 success, 1 failure, 2 usage error. Adding a
 * command is one file and one line in the table in main.c. */
#ifndef MESOCTL_H
#define MESOCTL_H

typedef int (mesoctl_fn) (int argc, char **argv);

typedef struct {
    const char *name;   /* "health" */
    const char *help;   /* one line for "mesoctl --help" */
    mesoctl_fn *fn;
} mesoctl_cmd_t;

/* Exit statuses every command uses. */
#define MESOCTL_OK 0
#define MESOCTL_FAILED 1
#define MESOCTL_USAGE 2

/* Turns meso_config_parse's result into an exit status: -1 when the
 * command should go on, else the status to exit with. */
int mesoctl_parsed (int rc);

int mesoctl_health (int argc, char **argv);
int mesoctl_migrate (int argc, char **argv);
int mesoctl_events (int argc, char **argv);
int mesoctl_patient (int argc, char **argv);
int mesoctl_screening (int argc, char **argv);
int mesoctl_inventory (int argc, char **argv);
int mesoctl_scheduling (int argc, char **argv);
int mesoctl_billing (int argc, char **argv);

#endif
