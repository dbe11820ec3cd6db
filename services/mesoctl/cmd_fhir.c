/* cmd_fhir.c -- "mesoctl fhir export": a patient's record as a FHIR R4
 * Bundle (README "Integrations", "FHIR R4 export").
 *
 *     mesoctl fhir export --patient ID [--out FILE] [--base-url URL]
 *
 * The I/O of the export, and only that: the four "<service>.ExportPatient"
 * replies (export_calls.c, the calls `mesoctl patient export` makes). The
 * consumed lines carry their lot's expiry (IngredientAmount.
 * lot_expiry_date); only for lines without it (an inventory daemon older
 * than the field) inventory.GetStock of each (clinic, ingredient)
 * concerned is asked, empty lots included, page by page. The mapping is
 * fhir_*.c (pure, unit tested); the JSON is jansson's, written with 15
 * significant digits for decimals (exact for every amount, see
 * fhir_ids.c).
 *
 * Whole or nothing: a service that refuses or does not answer, a lot whose
 * expiry cannot be read, an erased patient, a status the
 * mapping does not know: nothing is written, one line on stderr says why,
 * exit 1. A FHIR receiver stores what it is given as the truth, so a
 * partial Bundle is never passed off as the record. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fhir.h"
#include "meso/bus.h"
#include "meso/mtime.h"
#include "mesoctl.h"

/* Most lots one export looks up (a course of 40 sessions of a few
 * ingredients each uses far fewer). */
#define MAX_LOTS 512

static const meso_opt_t s_export_opts[] = {
    { "patient", NULL, "", "the patient id (required)", NULL },
    { "out", NULL, "", "write the Bundle to this file (mode 0600, must not exist) instead of stdout", NULL },
    { "base-url", "MESO_FHIR_BASE_URL", FHIR_BASE_DEFAULT,
      "base of every entry's fullUrl (<base>/<Type>/<id>): the receiving FHIR server's", NULL },
    MESOCTL_EXPORT_OPTS,
    MESOCTL_OPT_END
};

typedef struct {
    fhir_lot_t lots[MAX_LOTS];
    size_t n;
} s_lots_t;

static void
s_lots_free (s_lots_t *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free ((char *) l->lots[i].lot_id);
        free ((char *) l->lots[i].expiry_date);
    }
    l->n = 0;
}

/* The expiry dates of the lots in used[0..n) that clinic holds of
 * ingredient (all pages of inventory.GetStock). Returns 0, or -1 after
 * saying why on stderr. */
static int
s_lookup (meso_bus_client_t *inv, int timeout, const char *clinic, const char *ingredient,
          const fhir_used_lot_t *used, size_t n, s_lots_t *out)
{
    char token[512] = "";
    do {
        Meso__V1__GetStockRequest rq = MESO__V1__GET_STOCK_REQUEST__INIT;
        rq.clinic_id = (char *) clinic;
        rq.ingredient_code = (char *) ingredient;
        rq.include_empty = true;
        rq.page_token = token;
        meso_result_t r = { 0 };
        Meso__V1__GetStockReply *rep = NULL;
        if (meso_bus_client_call (inv, "inventory.GetStock", &rq.base, NULL, timeout, &r) == 0) {
            size_t len;
            const uint8_t *body = meso_result_body (&r, &len);
            rep = meso__v1__get_stock_reply__unpack (NULL, len, body);
        }
        if (!rep) {
            fprintf (stderr, "mesoctl fhir export: the expiry dates of %s lots at clinic %s cannot be read: "
                             "inventory.GetStock: %s: %s\n", ingredient, clinic,
                     r.status == MESO_OK ? "INTERNAL" : meso_status_name (r.status),
                     r.status == MESO_OK ? "the reply does not decode" : r.message);
            if (r.status == MESO_PERMISSION_DENIED)
                fprintf (stderr, "HINT: reading stock needs a clinic manager, stock keeper, clinician or "
                                 "front desk of clinic %s\n", clinic);
            meso_result_reset (&r);
            return -1;
        }
        for (size_t i = 0; i < rep->n_lots; i++)
            for (size_t k = 0; k < n; k++)
                if (strcmp (used[k].line->lot_id, rep->lots[i]->lot_id) == 0 && out->n < MAX_LOTS) {
                    out->lots[out->n].lot_id = strdup (rep->lots[i]->lot_id);
                    out->lots[out->n].expiry_date = strdup (rep->lots[i]->expiry_date);
                    out->n++;
                }
        snprintf (token, sizeof token, "%s", rep->next_page_token ? rep->next_page_token : "");
        meso__v1__get_stock_reply__free_unpacked (rep, NULL);
        meso_result_reset (&r);
    } while (*token);
    return 0;
}

/* Whether a used lot's line already says its expiry (inventory's export
 * fills lot_expiry_date; a daemon older than the field does not). */
static bool
s_known (const fhir_used_lot_t *u)
{
    return u->line->lot_expiry_date && *u->line->lot_expiry_date;
}

/* Every (clinic, ingredient) of the used lots whose lines do not carry
 * their expiry, asked once. */
static int
s_expiries (const meso_opt_t *opts, int timeout, const fhir_used_lot_t *used, size_t n, s_lots_t *out)
{
    size_t unknown = 0;
    for (size_t i = 0; i < n; i++)
        unknown += !s_known (&used[i]);
    if (unknown == 0)
        return 0;
    meso_bus_client_t *inv = meso_bus_client_new ("inventory", mesoctl_opt (opts, "inventory-endpoint"));
    if (!inv) {
        fprintf (stderr, "mesoctl: cannot use endpoint \"%s\"\n", mesoctl_opt (opts, "inventory-endpoint"));
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        bool asked = s_known (&used[i]);
        for (size_t k = 0; k < i && !asked; k++)
            asked = strcmp (used[k].clinic_id, used[i].clinic_id) == 0
                    && strcmp (used[k].line->ingredient_code, used[i].line->ingredient_code) == 0;
        if (!asked)
            rc = s_lookup (inv, timeout, used[i].clinic_id, used[i].line->ingredient_code, used, n, out);
    }
    meso_bus_client_destroy (&inv);
    return rc;
}

/* One line for a service that did not answer: the patient unknown or out
 * of the caller's scope said plainly. */
static void
s_refused (const char *patient, const mesoctl_export_t *x)
{
    bool denied = false;
    for (size_t i = 0; i < MESOCTL_EXPORT_PARTS; i++) {
        if (x->got[i])
            continue;
        if (i == 0 && x->res[i].status == MESO_NOT_FOUND)
            fprintf (stderr, "mesoctl fhir export: unknown patient %s (screening has no such patient)\n",
                     patient);
        else if (x->res[i].status == MESO_PERMISSION_DENIED && !denied) {
            denied = true;
            fprintf (stderr, "mesoctl fhir export: refused by %s: the caller may not export patient %s "
                             "(roles operator or clinic manager, of every clinic holding a record)\n",
                     mesoctl_export_services[i], patient);
        }
    }
    fprintf (stderr, "mesoctl fhir export: no Bundle written: every service must answer\n");
}

static int
s_write (const meso_opt_t *opts, json_t *bundle)
{
    char *text = json_dumps (bundle, JSON_INDENT (1) | JSON_REAL_PRECISION (15));
    if (!text) {
        fprintf (stderr, "mesoctl fhir export: the Bundle cannot be written as JSON\n");
        return MESOCTL_FAILED;
    }
    const char *path = mesoctl_opt (opts, "out");
    FILE *out = stdout;
    if (*path) {
        int fd = open (path, O_WRONLY | O_CREAT | O_EXCL, 0600);
        out = fd >= 0 ? fdopen (fd, "w") : NULL;
        if (!out) {
            if (fd >= 0)
                close (fd);
            fprintf (stderr, "mesoctl: cannot create %s (it must not exist)\n", path);
            free (text);
            return MESOCTL_FAILED;
        }
    }
    fputs (text, out);
    fputc ('\n', out);
    free (text);
    if (out != stdout && fclose (out) != 0) {
        fprintf (stderr, "mesoctl: cannot write %s\n", path);
        return MESOCTL_FAILED;
    }
    return MESOCTL_OK;
}

static int
s_export (meso_opt_t *opts)
{
    const char *patient = mesoctl_opt (opts, "patient");
    if (!*patient) {
        fprintf (stderr, "mesoctl fhir export: give the patient id (--patient ID)\n");
        return MESOCTL_USAGE;
    }
    long timeout;
    if (meso_config_int (opts, "timeout", 100, 600000, &timeout) != 0)
        return MESOCTL_USAGE;
    if (mesoctl_keys () != 0)
        return MESOCTL_FAILED;
    mesoctl_export_t x;
    int rc = mesoctl_export_collect (opts, patient, (int) timeout, &x);
    if (rc != MESOCTL_OK) {
        if (rc == MESOCTL_FAILED)
            s_refused (patient, &x);
        mesoctl_export_reset (&x);
        return rc;
    }
    fhir_input_t in = {
        .screening = (const Meso__V1__ScreeningExportPatientReply *) x.got[0],
        .scheduling = (const Meso__V1__SchedulingExportPatientReply *) x.got[1],
        .inventory = (const Meso__V1__InventoryExportPatientReply *) x.got[2],
        .billing = (const Meso__V1__BillingExportPatientReply *) x.got[3],
        .base_url = mesoctl_opt (opts, "base-url"),
        .generated_at_us = meso_time_now_us (),
    };
    static fhir_used_lot_t used[MAX_LOTS];
    static s_lots_t lots;
    size_t n = fhir_used_lots (in.inventory, used, MAX_LOTS);
    json_t *bundle = NULL;
    char why[600] = "";
    if (n > MAX_LOTS)
        snprintf (why, sizeof why, "the patient's sessions used %zu lots, more than the %d an export "
                  "looks up", n, MAX_LOTS);
    else if (s_expiries (opts, (int) timeout, used, n, &lots) != 0)
        snprintf (why, sizeof why, "the lots' expiry dates are needed for Medication.batch");
    else {
        in.lots = lots.lots;
        in.nlots = lots.n;
        bundle = fhir_bundle (&in, why, sizeof why);
    }
    rc = MESOCTL_FAILED;
    if (bundle)
        rc = s_write (opts, bundle);
    else
        fprintf (stderr, "mesoctl fhir export: no Bundle written: %s\n", why);
    json_decref (bundle);
    s_lots_free (&lots);
    mesoctl_export_reset (&x);
    return rc;
}

static const mesoctl_sub_t s_subs[] = {
    { "export", "a patient's record as a FHIR R4 Bundle (JSON)",
      "--patient ID [--out FILE] [--base-url URL] [options]",
      "Asks screening, scheduling, inventory and billing for everything they hold about the\n"
      "patient (<service>.ExportPatient, as `mesoctl patient export`; roles operator or clinic\n"
      "manager of every clinic holding a record; the consumed lines carry their lots' expiry\n"
      "dates) and prints one FHIR R4 Bundle of type collection: Patient, Organization,\n"
      "Practitioner, AllergyIntolerance, Condition, Consent, CarePlan, Appointment, Medication,\n"
      "MedicationAdministration, Invoice (README \"FHIR R4 export\" has the mappings). Whole or\n"
      "nothing: an unknown, erased or out-of-scope patient, or a service that does not\n"
      "answer, writes nothing and exits 1.",
      "--patient 6f1c0a7e-2b1d-4c3e-9f00-0a1b2c3d4e5f --out ana-lopez.fhir.json",
      s_export_opts, 0, NULL, 0, s_export,
      "screening.ExportPatient,scheduling.ExportPatient,inventory.ExportPatient,billing.ExportPatient,"
      "inventory.GetStock" },
    { NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, 0, NULL, NULL }
};

static const mesoctl_service_t s_fhir = {
    .name = "fhir",
    .summary = "A patient's record as FHIR R4 (HL7), for the systems that speak it.",
    .endpoint = { "endpoint", "MESO_SCREENING_ENDPOINT", "tcp://127.0.0.1:7101", "screening daemon", NULL },
    .timeout_ms = 10000,
};

int
mesoctl_fhir (int argc, char **argv)
{
    return mesoctl_run (&s_fhir, s_subs, false, argc, argv);
}
