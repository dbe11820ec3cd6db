/* mesoctl.h -- what the files of mesoctl share, and who owns what.
 *
 *   main.c            the command table ("mesoctl --help"), nothing else
 *   opts.c            option tables: merging a subcommand's own options with
 *                     the ones every subcommand of a service takes, --help
 *                     with usage and example, finding the subcommand
 *   call.c            calling a daemon: idempotency key, deadline, the
 *                     refusal printed with every reason, the reply as JSON
 *   pages.c           a list subcommand's pages (--page-size, --page-token, --all)
 *   services.c        how inventory's and scheduling's subcommands, spread
 *                     over several cmd_ files, reach their daemons
 *   qty.c             quantities in thousandths of a unit (pure, unit tested)
 *   cmd_<name>.c      one service's subcommands, each with its own option
 *                     table and its own --help (cmd_patients.c and
 *                     cmd_screening.c (and cmd_consent.c) talk to the screening daemon;
 *                     answers.c reads the questionnaire for the latter)
 *   cmd_reports.c     the reports, each asked of the service that owns it
 *   cmd_health.c, cmd_migrate.c   the two commands that are not a service's
 *   export_calls.c    the four ExportPatient calls of cmd_export.c and
 *                     cmd_fhir.c; fhir_*.c map them to FHIR (pure, fhir.h)
 *   cmd_keys.c, cmd_access.c      key pairs and principals (access_input.c
 *                     checks the inputs, store_access.c holds the SQL)
 *
 * The calls go one way: main.c -> cmd_*.c -> opts.c, call.c, pages.c,
 * services.c, qty.c, answers.c; the shared files call no command file, so
 * there is no circle.
 *
 * Each command exports one function that takes the arguments after
 * "mesoctl" (argv[0] is the command's name) and returns the exit status:
 * 0 success, 1 failure, 2 usage error. A command made of subcommands
 * declares them in a table of mesoctl_sub_t and hands it to mesoctl_run. */
#ifndef MESOCTL_H
#define MESOCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <libpq-fe.h>

#include "meso/bus.h"
#include "meso/config.h"
#include "meso/enumtext.h"
#include <protobuf-c/protobuf-c.h>

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

/* The end of an option table. */
#define MESOCTL_OPT_END { NULL, NULL, NULL, NULL, NULL }

int mesoctl_health (int argc, char **argv);
int mesoctl_migrate (int argc, char **argv);
int mesoctl_keys_cmd (int argc, char **argv);
int mesoctl_access (int argc, char **argv);
int mesoctl_webhooks (int argc, char **argv);
int mesoctl_events (int argc, char **argv);
int mesoctl_patient (int argc, char **argv);
int mesoctl_screening (int argc, char **argv);
int mesoctl_consent (int argc, char **argv);
int mesoctl_inventory (int argc, char **argv);
int mesoctl_scheduling (int argc, char **argv);
int mesoctl_billing (int argc, char **argv);
int mesoctl_reports (int argc, char **argv);
/* cmd_export.c: "mesoctl patient export" (a subcommand of cmd_patients.c). */
int mesoctl_patient_export (meso_opt_t *opts);
extern const meso_opt_t mesoctl_patient_export_opts[];
int mesoctl_audit (int argc, char **argv);
/* cmd_fhir.c: "mesoctl fhir export" (a patient's record as a FHIR R4
 * Bundle, mapped by fhir_*.c). */
int mesoctl_fhir (int argc, char **argv);
/* export_calls.c: the four "<service>.ExportPatient" calls both exports
 * make, in the order of mesoctl_export_services; got[i] is the unpacked
 * reply, or NULL with res[i] saying why (also printed on stderr). Returns
 * MESOCTL_OK when all four answered, MESOCTL_FAILED when one did not,
 * MESOCTL_USAGE for an unusable endpoint (nothing kept). The caller
 * releases x with mesoctl_export_reset. */
#define MESOCTL_EXPORT_PARTS 4
typedef struct {
    ProtobufCMessage *got[MESOCTL_EXPORT_PARTS];
    meso_result_t res[MESOCTL_EXPORT_PARTS];
} mesoctl_export_t;
extern const char *const mesoctl_export_services[MESOCTL_EXPORT_PARTS];
int mesoctl_export_collect (const meso_opt_t *opts, const char *patient, int timeout_ms, mesoctl_export_t *x);
void mesoctl_export_reset (mesoctl_export_t *x);
/* The options every export takes: the four endpoints and --timeout. */
#define MESOCTL_EXPORT_OPTS                                                                        \
    { "endpoint", "MESO_SCREENING_ENDPOINT", "tcp://127.0.0.1:7101", "screening daemon (as for every patient subcommand)", NULL }, \
    { "scheduling-endpoint", "MESO_SCHEDULING_ENDPOINT", "tcp://127.0.0.1:7102", "scheduling daemon", NULL }, \
    { "inventory-endpoint", "MESO_INVENTORY_ENDPOINT", "tcp://127.0.0.1:7103", "inventory daemon", NULL }, \
    { "billing-endpoint", "MESO_BILLING_ENDPOINT", "tcp://127.0.0.1:7104", "billing daemon", NULL }, \
    { "timeout", NULL, "10000", "deadline of each service's call in milliseconds", NULL }
/* cmd_audit.c: the rows of mesoctl_store_audit_patient as a JSON array
 * (no newline), and those rows read with conninfo (the migration role),
 * or NULL with why. The export uses both. */
void mesoctl_audit_rows_json (FILE *out, PGresult *r);
PGresult *mesoctl_audit_patient_rows (const char *conninfo, const char *patient, int limit, char *why,
                                      size_t size);
int mesoctl_agenda (int argc, char **argv);

/* ------------------------------------------------------------ services */

/* How a service's subcommands reach it and show its answers. The quirks
 * record how each command file called its daemon before the files shared
 * one caller; they are kept so that every output stays byte for byte what
 * scripts already parse, and they differ by history, not by design. */
enum {
    /* A bad endpoint or an undecodable reply exits without a word. */
    MESOCTL_Q_SILENT_CLIENT = 1u << 0,
    MESOCTL_Q_SILENT_DECODE = 1u << 1,
    /* A refusal as "method: STATUS: message", "  detail: ...", then
     * "  - code field: message" (else "STATUS: message", the reasons as
     * "  - code @ field: message", then the detail). */
    MESOCTL_Q_METHOD_ERRORS = 1u << 2,
    /* With --json a refusal is printed on stdout as a JSON object
     * {status, message, detail, reasons} and not on stderr. */
    MESOCTL_Q_JSON_REFUSAL = 1u << 3,
    /* With --json a refusal's Reply envelope is printed on stdout (pbjson)
     * and the refusal on stderr as well. */
    MESOCTL_Q_JSON_REPLY = 1u << 4,
    /* --json through meso_pbjson (proto3 mapping, defaults left out); else
     * every field of the message, from its descriptor. */
    MESOCTL_Q_PBJSON = 1u << 5,
};

typedef struct {
    const char *name;           /* "inventory", as in "mesoctl inventory" */
    const char *summary;        /* first line of "mesoctl inventory --help" */
    meso_opt_t endpoint;        /* its --endpoint option */
    /* A call's deadline in milliseconds; 0: the --timeout option, which
     * every subcommand then has (default timeout_default). */
    int timeout_ms;
    const char *timeout_default;
    size_t key_max;             /* longest --key sent (longer is cut); 0: any */
    unsigned quirks;            /* MESOCTL_Q_* */
    /* The daemon serving it, whose server key is <daemon>.key ("screening"
     * for "patient" and "consent"); NULL: the daemon is called name. */
    const char *daemon;
} mesoctl_service_t;

/* -------------------------------------------------------- subcommands */

/* Options every subcommand of a service may take (mesoctl_sub_t.common). */
#define MESOCTL_JSON 1u         /* --json: print the reply as JSON */
#define MESOCTL_KEY 2u          /* --key: idempotency key of a mutating call */

/* A subcommand runs with its parsed options (its own, then the common ones,
 * then the tolerated ones; read them with meso_config_get). */
typedef int (mesoctl_sub_fn) (meso_opt_t *opts);

typedef struct {
    const char *name;           /* "receive", or two words: "prices set" */
    const char *summary;        /* one line for "mesoctl <service> --help" */
    const char *usage;          /* its synopsis, after "mesoctl <service> <name> " */
    const char *about;          /* what it does, for its own --help */
    const char *example;        /* one or more example lines (no "mesoctl ...") */
    const meso_opt_t *opts;     /* its own options; an own "json", "key" or
                                   "endpoint" replaces the common one */
    unsigned common;            /* MESOCTL_JSON | MESOCTL_KEY */
    /* Options accepted and ignored, not shown in --help: flags that an
     * older, shared table of the service took (scripts pass them). */
    const meso_opt_t *tolerated;
    int spare_args;             /* positional arguments accepted and ignored */
    mesoctl_sub_fn *fn;
    /* The methods it calls, comma-separated ("inventory.GetStock"), shown
     * in its --help as "Calls: ..."; tests/tools/mesoctl_methods.py checks
     * that every method of every service's method table has a subcommand. */
    const char *calls;
} mesoctl_sub_t;

/* Runs the subcommand of svc named by argv[1] (argv[1] argv[2] for a
 * two-word name), after parsing its options; prints the service's help
 * (--help, -h: stdout, exit 0) or its usage (no or an unknown subcommand:
 * stderr, exit 2). With find_anywhere the subcommand may follow options,
 * as in "mesoctl scheduling --json course ...", the options being those
 * of the tolerated table. subs ends with a NULL name. */
int mesoctl_run (const mesoctl_service_t *svc, const mesoctl_sub_t *subs, bool find_anywhere,
                 int argc, char **argv);

/* Turns meso_config_parse's result into an exit status: -1 when the
 * command should go on, else the status to exit with. */
int mesoctl_parsed (int rc);

/* The value of an option, "" when it has none. */
const char *mesoctl_opt (const meso_opt_t *opts, const char *name);
/* Option `name` as a value of enum d, given as its lowercase text ("mg",
 * "bank_transfer"; meso/enumtext.h): 0 with *value set (0 when the option
 * is absent or empty), or MESOCTL_USAGE after saying on stderr which
 * texts it takes. */
int mesoctl_enum_opt (const meso_opt_t *opts, const char *name, const ProtobufCEnumDescriptor *d, int *value);
/* The i-th positional argument of the subcommand being run (up to its
 * spare_args), NULL when not given. */
const char *mesoctl_arg (int i);

/* Splits list at any of sep into out (pointers into list, which is
 * modified), skipping leading blanks and empty items when skip_blank, up
 * to max. Returns the count. */
size_t mesoctl_split (char *list, const char *sep, bool skip_blank, char **out, size_t max);

/* -------------------------------------------------------------- calls */

/* Calls method of svc with body; mutating calls carry --key, or a new
 * UUID. On success unpacks the reply body with desc into *out (the caller
 * frees it with protobuf_c_message_free_unpacked) and, with --json, prints
 * it. Else prints the refusal and returns MESOCTL_FAILED (MESOCTL_USAGE
 * for a bad endpoint or --timeout). */
int mesoctl_call (const mesoctl_service_t *svc, const meso_opt_t *opts, const char *method,
                  const ProtobufCMessage *body, bool mutating,
                  const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out);

/* -------------------------------------------------------------- pages */

/* The options of a list subcommand (pages.c), at the end of its table. */
#define MESOCTL_PAGE_OPTS                                                                  \
    { "page-size", NULL, "0", "items per page (0: the method's default; more than its "   \
      "maximum is lowered)", NULL },                                                      \
    { "page-token", NULL, "", "start at this page (the token a previous page printed)", NULL }, \
    { "all", NULL, "false", "follow the pages to the last one", NULL }

/* Prints one page of a list (the reply message; page 0 is the first
 * printed: print headers then). */
typedef void (mesoctl_page_fn) (const ProtobufCMessage *reply, int page, void *arg);

/* Calls method like mesoctl_call, page by page: sets body's page_size and
 * page_token from --page-size and --page-token, shows each reply (with
 * --json: prints it as mesoctl_call does, show is not called), and with
 * --all follows next_page_token to the last page; without it prints on
 * stderr the token of the next page when there is one. A mutating method
 * keeps one idempotency key for every page. Returns the exit status. */
int mesoctl_call_pages (const mesoctl_service_t *svc, meso_opt_t *opts, const char *method,
                        ProtobufCMessage *body, bool mutating, const ProtobufCMessageDescriptor *desc,
                        mesoctl_page_fn *show, void *arg);

/* --------------------------------------------------------- scheduling */

/* cmd_frontdesk.c: whole-course changes, the waitlist and the front-desk
 * settings (cmd_scheduling.c lists them after its own). */
extern const mesoctl_sub_t mesoctl_scheduling_frontdesk[];

/* services.c: the scheduling daemon as every scheduling subcommand
 * reaches it. cmd_scheduling_days.c: the subcommands about a clinic's
 * days: one session booked, the free slots of a day, the clinic as stored
 * (cmd_scheduling.c lists them after its own). */
extern const mesoctl_service_t mesoctl_scheduling_service;
extern const mesoctl_sub_t mesoctl_scheduling_days[];

/* ---------------------------------------------------------- inventory */

/* services.c: the inventory daemon as every inventory subcommand
 * reaches it. cmd_inventory_lots.c: corrections of the stock room and
 * the recipes (adjust, discard-expired, reorder-point, recipe-show).
 * cmd_inventory_holds.c: the holds the services make (reserve, release,
 * redate, consume), for an operator who debugs them. */
extern const mesoctl_service_t mesoctl_inventory_service;
extern const mesoctl_sub_t mesoctl_inventory_lots[];
extern const mesoctl_sub_t mesoctl_inventory_holds[];
/* ------------------------------------------------------- front desk */

/* cmd_agenda.c: the subcommands "patient search|get", "scheduling
 * clinics|practitioners|rooms|courses" and "billing invoices|invoice-show|
 * payment-show" (listed in cmd_patients.c, cmd_scheduling.c and
 * cmd_billing.c) and their option tables. */
int mesoctl_patient_search (meso_opt_t *opts);
int mesoctl_patient_get (meso_opt_t *opts);
int mesoctl_scheduling_clinics (meso_opt_t *opts);
int mesoctl_scheduling_practitioners (meso_opt_t *opts);
int mesoctl_scheduling_rooms (meso_opt_t *opts);
int mesoctl_scheduling_courses (meso_opt_t *opts);
int mesoctl_billing_invoice_show (meso_opt_t *opts);
int mesoctl_billing_invoices (meso_opt_t *opts);
int mesoctl_billing_payment_show (meso_opt_t *opts);
extern const meso_opt_t mesoctl_patient_search_opts[];
extern const meso_opt_t mesoctl_patient_get_opts[];
extern const meso_opt_t mesoctl_scheduling_clinics_opts[];
extern const meso_opt_t mesoctl_scheduling_practitioners_opts[];
extern const meso_opt_t mesoctl_scheduling_rooms_opts[];
extern const meso_opt_t mesoctl_scheduling_courses_opts[];
extern const meso_opt_t mesoctl_billing_invoice_show_opts[];
extern const meso_opt_t mesoctl_billing_invoices_opts[];
extern const meso_opt_t mesoctl_billing_payment_show_opts[];

/* ------------------------------------------------------------ billing */

/* cmd_billing_books.c: the billing daemon as every billing subcommand
 * reaches it, and its subcommands for taxes, package policy and refunds,
 * cancellations and reports (cmd_billing.c lists them after its own). */
extern const mesoctl_service_t mesoctl_billing_service;
extern const mesoctl_sub_t mesoctl_billing_books[];

/* Prints m on stdout as one JSON object with every field, from its
 * descriptor (enums by name, bytes by length), without a newline. */
void mesoctl_json_print (const ProtobufCMessage *m);

/* keys.c: chooses the CURVE pair mesoctl calls with (once); returns 0, or
 * 1 after printing why there is none. */
int mesoctl_keys (void);

/* cmd_keys.c: writes a fresh CURVE pair as <dir>/<name>.key (0644) and
 * <name>.key_secret (0600), name and kind in its metadata, removing both
 * on failure; hands the pair to *made when not NULL. Returns 0 or -1
 * (errno). The caller checks first that neither file exists. */
struct _zcert_t;
/* cmd_keys.c: "mesoctl keys init" itself: makes the missing pairs of the
 * comma-separated names (NULL: the daemons, webhooks and operator) in dir
 * and prints what it did. Returns an exit status. */
int mesoctl_keys_init (const char *dir, const char *names);
int mesoctl_keys_write (const char *dir, const char *name, const char *kind, struct _zcert_t **made);

#endif
