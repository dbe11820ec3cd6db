/* main.c -- mesoctl, the operator's command line: finds the command and
 * runs it.
 *
 *     mesoctl health [--json] [--services a,b] [--timeout MS] [--endpoint EP]
 *     mesoctl migrate [--db CONNINFO] [--dir DIR]
 *
 * Commands are a table so that a new one is one file (cmd_<name>.c) and one
 * line here; a service's command is a table of subcommands, each with its
 * own options and --help (opts.c), taking MESO_* variables like the
 * daemons. Logs (from libmeso,
 * e.g. the bus client) go to stderr as JSON lines at level warn unless
 * MESO_LOG_LEVEL says otherwise, keeping stdout for the command's output. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/log.h"
#include "meso/version.h"
#include "mesoctl.h"

static const mesoctl_cmd_t s_commands[] = {
    { "health", "ask each daemon whether it is healthy (exit 1 when one is not)", mesoctl_health },
    { "migrate", "apply pending database migrations from deploy/sql", mesoctl_migrate },
    { "keys", "make the CURVE key pairs of the daemons and the operator", mesoctl_keys_cmd },
    { "access", "principals: add, list, show, revoke, bootstrap", mesoctl_access },
    { "events", "tail an event stream or show the stream heads", mesoctl_events },
    { "patient", "register or erase a patient (screening)", mesoctl_patient },
    { "screening", "record, show or check a patient's screening", mesoctl_screening },
    { "consent", "treatment consent texts and signatures (screening)", mesoctl_consent },
    { "inventory", "receive, stock, transfer, recall, at-risk, hold, forecast (inventory)", mesoctl_inventory },
    { "scheduling", "clinics, practitioners, rooms, plan, book, reschedule, cancel, start, complete, course", mesoctl_scheduling },
    { "billing", "prices, fees, packages, invoices, payments, refunds, statements (billing)", mesoctl_billing },
    { "reports", "utilisation, no-shows, outcomes (scheduling); stock valuation (inventory)", mesoctl_reports },
    { "audit", "the audit trail of patient data: verify, patient, prune", mesoctl_audit },
    { "agenda", "a clinic's day as a timetable: who, when, which room (scheduling)", mesoctl_agenda },
    { "fhir", "a patient's record as a FHIR R4 Bundle: export", mesoctl_fhir },
    { "webhooks", "subscriptions of signed HTTP deliveries: add, list, pause, resume, replay, deliveries", mesoctl_webhooks },
    { NULL, NULL, NULL }
};

static void
s_usage (FILE *out)
{
    fprintf (out, "Usage: mesoctl <command> [options]\n\n"
                  "Operate a meso installation.\n\nCommands:\n");
    for (const mesoctl_cmd_t *c = s_commands; c->name; c++)
        fprintf (out, "  %-10s %s\n", c->name, c->help);
    fprintf (out, "\nRun \"mesoctl <command> --help\" for a command's options.\n"
                  "Options:\n  --help     print this help and exit\n"
                  "  --version  print the version and exit\n");
}

int
main (int argc, char **argv)
{
    meso_log_init ("mesoctl", getenv ("MESO_LOG_LEVEL") ? getenv ("MESO_LOG_LEVEL") : "warn");
    if (argc < 2) {
        s_usage (stderr);
        return MESOCTL_USAGE;
    }
    const char *name = argv[1];
    if (strcmp (name, "--help") == 0 || strcmp (name, "-h") == 0 || strcmp (name, "help") == 0) {
        s_usage (stdout);
        return MESOCTL_OK;
    }
    if (strcmp (name, "--version") == 0) {
        printf ("mesoctl %s\n", MESO_VERSION);
        return MESOCTL_OK;
    }
    for (const mesoctl_cmd_t *c = s_commands; c->name; c++)
        if (strcmp (c->name, name) == 0)
            return c->fn (argc - 1, argv + 1);
    fprintf (stderr, "mesoctl: unknown command '%s' (see mesoctl --help)\n", name);
    return MESOCTL_USAGE;
}
