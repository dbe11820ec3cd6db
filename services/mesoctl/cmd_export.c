/* cmd_export.c -- "mesoctl patient export <id>": a patient's whole record
 * across the services as one JSON document (GDPR article 15).
 *
 *     mesoctl patient export <patient-id> [--out FILE]
 *
 * Each service answers for what it holds, "<service>.ExportPatient"
 * (screening: registration, screenings with answers and verdicts, reported
 * changes, consents; scheduling: courses and every session; inventory: the
 * stock reserved and consumed for the patient, by lot; billing: invoices,
 * payments, refunds, credit notes, packages), and this command puts the
 * four replies side by side, in the protobuf JSON mapping (meso/pbjson.h,
 * every field shown), under a header:
 *
 *     {"export": {"format": "meso.patient_export.v1", "patient_id": ...,
 *                 "generated_at": RFC 3339 UTC, "generated_by": {"name",
 *                 "public_key"} (the key mesoctl called with: the
 *                 principal the services authenticated),
 *                 "services": [{"service", "status", "message"}, ...],
 *                 "complete": true when all four answered},
 *      "screening": {...} or null, "scheduling": ..., "inventory": ...,
 *      "billing": ...,
 *      "audit": [...]}
 *
 * "audit" holds the patient's entries of the audit trail (who read or
 * changed the record, when, how), read as `mesoctl audit patient` reads
 * them: directly, with --db, as the migration role, the only role that
 * may read the trail (deploy/sql/021_audit.sql). Without --db, or when
 * the read fails, "audit" is null and the header's "audit_included" is
 * false (the services' sections do not depend on it). The four calls go one after the other (a person's export is
 * rare; each is one reply under the frame cap, see meso/export.h), made by
 * export_calls.c, which `mesoctl fhir export` shares. A
 * service that refuses or does not answer leaves its section null with its
 * status in the header, and the command exits 1: an export is never
 * passed off as whole when it is not. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <czmq.h>

#include "meso/bus.h"
#include "meso/curve.h"
#include "meso/mtime.h"
#include "meso/pbjson.h"
#include "mesoctl.h"
#include "billing.pb-c.h"
#include "inventory.pb-c.h"
#include "scheduling.pb-c.h"
#include "screening.pb-c.h"

#define NPARTS MESOCTL_EXPORT_PARTS

const meso_opt_t mesoctl_patient_export_opts[] = {
    { "patient", NULL, "", "the patient id (or give it as the argument)", NULL },
    { "out", NULL, "", "write the document to this file (mode 0600) instead of stdout", NULL },
    MESOCTL_EXPORT_OPTS,
    { "db", "MESO_DB", "", "libpq conninfo of the migration role: adds the patient's audit entries "
      "(only that role reads the trail; without it \"audit\" is null)", NULL },
    MESOCTL_OPT_END
};

/* s as a JSON string. */
static void
s_json_str (FILE *out, const char *s)
{
    fputc ('"', out);
    for (const unsigned char *p = (const unsigned char *) (s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf (out, "\\%c", *p);
        else if (*p < 0x20)
            fprintf (out, "\\u%04x", *p);
        else
            fputc (*p, out);
    }
    fputc ('"', out);
}

/* Most audit entries an export carries (a patient's record is read a few
 * times per visit: far above a lifetime's). */
#define EXPORT_AUDIT_MAX 100000

int
mesoctl_patient_export (meso_opt_t *opts)
{
    const char *patient = mesoctl_arg (0) ? mesoctl_arg (0) : mesoctl_opt (opts, "patient");
    if (!*patient) {
        fprintf (stderr, "mesoctl patient export: give the patient id (mesoctl patient export <id>)\n");
        return MESOCTL_USAGE;
    }
    long timeout;
    if (meso_config_int (opts, "timeout", 100, 600000, &timeout) != 0)
        return MESOCTL_USAGE;
    if (mesoctl_keys () != 0)
        return MESOCTL_FAILED;
    mesoctl_export_t x;
    int rc = mesoctl_export_collect (opts, patient, (int) timeout, &x);
    if (rc == MESOCTL_USAGE)
        return rc;
    bool complete = rc == MESOCTL_OK;
    ProtobufCMessage **got = x.got;
    meso_result_t *res = x.res;

    /* The audit entries, after the services answered: the trail then holds
     * this export's own reads too. */
    PGresult *audit = NULL;
    const char *conninfo = mesoctl_opt (opts, "db");
    if (*conninfo) {
        char why[512];
        audit = mesoctl_audit_patient_rows (conninfo, patient, EXPORT_AUDIT_MAX, why, sizeof why);
        if (!audit)
            fprintf (stderr, "mesoctl patient export: the audit entries were not read: %s\n", why);
    }

    FILE *out = stdout;
    const char *path = mesoctl_opt (opts, "out");
    if (*path) {
        int fd = open (path, O_WRONLY | O_CREAT | O_EXCL, 0600);
        out = fd >= 0 ? fdopen (fd, "w") : NULL;
        if (!out) {
            if (fd >= 0)
                close (fd);
            fprintf (stderr, "mesoctl: cannot create %s (it must not exist)\n", path);
            for (size_t i = 0; i < NPARTS; i++) {
                meso_result_reset (&res[i]);
                if (got[i])
                    protobuf_c_message_free_unpacked (got[i], NULL);
            }
            if (audit)
                PQclear (audit);
            return MESOCTL_FAILED;
        }
    }
    char at[40] = "";
    meso_time_format_utc (meso_time_now_us (), at, sizeof at);
    zcert_t *me = meso_curve_identity ();
    fputs ("{\"export\":{\"format\":\"meso.patient_export.v1\",\"patient_id\":", out);
    s_json_str (out, patient);
    fputs (",\"generated_at\":", out);
    s_json_str (out, at);
    fputs (",\"generated_by\":{\"name\":", out);
    s_json_str (out, me && zcert_meta (me, "name") ? zcert_meta (me, "name") : "");
    fputs (",\"public_key\":", out);
    s_json_str (out, me ? zcert_public_txt (me) : "");
    fputs ("},\"services\":[", out);
    for (size_t i = 0; i < NPARTS; i++) {
        fprintf (out, "%s{\"service\":\"%s\",\"status\":\"%s\",\"message\":", i ? "," : "",
                 mesoctl_export_services[i], got[i] ? "OK" : res[i].status == MESO_OK ? "INTERNAL"
                                                   : meso_status_name (res[i].status));
        s_json_str (out, got[i] ? "" : res[i].message);
        fputs ("}", out);
    }
    fprintf (out, "],\"complete\":%s,\"audit_included\":%s}", complete ? "true" : "false",
             audit ? "true" : "false");
    for (size_t i = 0; i < NPARTS; i++) {
        fprintf (out, ",\n\"%s\":", mesoctl_export_services[i]);
        char *json = got[i] ? meso_pbjson_encode (got[i], MESO_PBJSON_DEFAULTS, NULL) : NULL;
        fputs (json ? json : "null", out);
        if (got[i] && !json)
            complete = false;
        free (json);
        meso_result_reset (&res[i]);
        if (got[i])
            protobuf_c_message_free_unpacked (got[i], NULL);
    }
    fputs (",\n\"audit\":", out);
    if (audit)
        mesoctl_audit_rows_json (out, audit);
    else
        fputs ("null", out);
    fputs ("}\n", out);
    if (audit)
        PQclear (audit);
    if (out != stdout && fclose (out) != 0) {
        fprintf (stderr, "mesoctl: cannot write %s\n", path);
        return MESOCTL_FAILED;
    }
    return complete ? MESOCTL_OK : MESOCTL_FAILED;
}
