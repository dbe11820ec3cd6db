/* cmd_audit.c -- "mesoctl audit": the audit trail of patient data
 * (deploy/sql/021_audit.sql, common/include/meso/audit.h).
 *
 *     mesoctl audit verify [--clinic C]
 *     mesoctl audit patient <id> [--json] [--limit N]
 *     mesoctl audit prune [--before YYYY-MM-DD] [--retention-days N]
 *
 * These read and prune the trail directly as the migration role (--db),
 * like "mesoctl access": the daemons' roles may only append to it, and no
 * daemon is given the reach to read every clinic's trail (see
 * store_audit.c). verify trusts no hash the database computed: it reads
 * the raw rows and recomputes each chain in C (audit_chain.c, libsodium),
 * from the chain's anchor (the last pruned row) to its head, and names
 * the first broken link of each chain. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/audit.h"
#include "meso/log.h"
#include "meso/mtime.h"
#include "meso/status.h"
#include "mesoctl.h"
#include "store_audit.h"

#define CHUNK 5000
#define TEXT 160

static void
s_db_error (meso_db_t *db, const char *what)
{
    const meso_db_error_t *e = meso_db_error (db);
    fprintf (stderr, "mesoctl audit %s: %s\n", what, e->message);
    if (e->sqlstate[0])
        fprintf (stderr, "SQLSTATE: %s\n", e->sqlstate);
    if (strcmp (e->sqlstate, "42P01") == 0 || strcmp (e->sqlstate, "3F000") == 0)
        fprintf (stderr, "HINT: the database has no audit schema yet: run mesoctl migrate first\n");
    else if (strcmp (e->sqlstate, "42501") == 0)
        fprintf (stderr, "HINT: --db must connect as the migration role (the daemons' roles may "
                         "only append to the trail)\n");
}

static meso_db_t *
s_connect (const meso_opt_t *opts, const char *what)
{
    meso_db_t *db = meso_db_new (mesoctl_opt (opts, "db"));
    if (db && !meso_db_ok (db)) {
        s_db_error (db, what);
        meso_db_destroy (&db);
    }
    return db;
}

/* 64 hex digits into 32 bytes: 0, or -1 when malformed. */
static int
s_unhex (const char *hex, uint8_t *out)
{
    if (strlen (hex) != 2 * MESO_AUDIT_HASH_LEN)
        return -1;
    for (int i = 0; i < MESO_AUDIT_HASH_LEN; i++) {
        unsigned v;
        if (sscanf (hex + 2 * i, "%2x", &v) != 1)
            return -1;
        out[i] = (uint8_t) v;
    }
    return 0;
}

/* ---------------------------------------------------------------- verify */

/* One row with its own copies of the texts (it outlives its result). */
typedef struct {
    meso_audit_row_t row;
    uint8_t hash[MESO_AUDIT_HASH_LEN];
    char text[9][TEXT];
} s_row_t;

static void
s_row_load (PGresult *r, int i, s_row_t *out)
{
    const int cols[9] = { AR_CLINIC, AR_PRINCIPAL, AR_KEY, AR_METHOD, AR_PATIENT, AR_REQUEST,
                          AR_ACCESS, AR_BEHALF, AR_HASH };
    for (int k = 0; k < 9; k++)
        snprintf (out->text[k], TEXT, "%s", PQgetvalue (r, i, cols[k]));
    meso_audit_row_t *w = &out->row;
    w->clinic_id = out->text[0];
    w->principal = out->text[1];
    w->principal_key = out->text[2];
    w->method = out->text[3];
    w->patient_id = out->text[4];
    w->request_id = out->text[5];
    w->access = out->text[6];
    w->on_behalf_of = out->text[7];
    w->seq = atoll (PQgetvalue (r, i, AR_SEQ));
    w->at_us = atoll (PQgetvalue (r, i, AR_AT_US));
    w->status = atoi (PQgetvalue (r, i, AR_STATUS));
    if (s_unhex (out->text[8], out->hash) != 0)
        memset (out->hash, 0, sizeof out->hash);
}

/* Walks one chain. Returns 0 intact, 1 broken (printed), -1 database. */
static int
s_verify_chain (meso_db_t *db, PGresult *chains, int c)
{
    const char *clinic = PQgetvalue (chains, c, 0);
    const char *label = *clinic ? clinic : "(no clinic)";
    long long anchor = PQgetisnull (chains, c, 1) ? 0 : atoll (PQgetvalue (chains, c, 1));
    uint8_t anchor_hash[MESO_AUDIT_HASH_LEN], head_hash[MESO_AUDIT_HASH_LEN];
    if (anchor && s_unhex (PQgetvalue (chains, c, 2), anchor_hash) != 0)
        memset (anchor_hash, 0, sizeof anchor_hash);
    long long head = PQgetisnull (chains, c, 3) ? 0 : atoll (PQgetvalue (chains, c, 3));
    if (head && s_unhex (PQgetvalue (chains, c, 4), head_hash) != 0)
        memset (head_hash, 0, sizeof head_hash);

    meso_audit_chain_t chain;
    meso_audit_chain_start (&chain, anchor, anchor ? anchor_hash : NULL);
    char why[512];
    meso_audit_break_t b = MESO_AUDIT_OK;
    /* Two slots, each row checked once the one after it is read (the
     * walk looks one row ahead to tell a swap from an edit). */
    s_row_t *slot = calloc (2, sizeof *slot);
    if (!slot) {
        fprintf (stderr, "mesoctl audit verify: out of memory\n");
        return -1;
    }
    s_row_t *cur = NULL;        /* read, not checked yet */
    int fill = 0;
    long long after = anchor;
    for (;;) {
        PGresult *r = mesoctl_store_audit_rows (db, clinic, after, CHUNK);
        if (!r) {
            free (slot);
            return -1;
        }
        int n = PQntuples (r);
        for (int i = 0; i < n && b == MESO_AUDIT_OK; i++) {
            s_row_t *next = &slot[fill];
            fill ^= 1;
            s_row_load (r, i, next);
            if (cur)
                b = meso_audit_chain_next (&chain, &cur->row, cur->hash, &next->row, why, sizeof why);
            cur = next;
            after = cur->row.seq;
        }
        PQclear (r);
        if (n < CHUNK || b != MESO_AUDIT_OK)
            break;
    }
    if (b == MESO_AUDIT_OK && cur)
        b = meso_audit_chain_next (&chain, &cur->row, cur->hash, NULL, why, sizeof why);
    if (b == MESO_AUDIT_OK)
        b = meso_audit_chain_end (&chain, head, head ? head_hash : NULL, why, sizeof why);
    free (slot);
    if (b != MESO_AUDIT_OK) {
        printf ("clinic %s: BROKEN (%s): %s\n", label, meso_audit_break_name (b), why);
        return 1;
    }
    if (anchor)
        printf ("clinic %s: ok, %lld rows, seq %lld..%lld, from the anchor at seq %lld\n", label,
                chain.rows, anchor + 1, head, anchor);
    else
        printf ("clinic %s: ok, %lld rows, seq 1..%lld\n", label, chain.rows, head);
    return 0;
}

static int
s_verify (meso_opt_t *opts)
{
    const char *clinic = mesoctl_opt (opts, "clinic");
    meso_db_t *db = s_connect (opts, "verify");
    if (!db)
        return MESOCTL_FAILED;
    PGresult *chains = mesoctl_store_audit_chains (db, *clinic ? clinic : NULL);
    if (!chains) {
        s_db_error (db, "verify");
        meso_db_destroy (&db);
        return MESOCTL_FAILED;
    }
    int broken = 0, failed = 0;
    for (int c = 0; c < PQntuples (chains) && !failed; c++) {
        int rc = s_verify_chain (db, chains, c);
        if (rc < 0) {
            s_db_error (db, "verify");
            failed = 1;
        }
        else
            broken += rc;
    }
    int n = PQntuples (chains);
    PQclear (chains);
    meso_db_destroy (&db);
    if (failed)
        return MESOCTL_FAILED;
    if (n == 0)
        printf ("no audit rows%s%s\n", *clinic ? " for clinic " : "", clinic);
    if (broken) {
        printf ("%d of %d chain(s) broken: rows were changed outside audit.append and audit.prune\n",
                broken, n);
        return MESOCTL_FAILED;
    }
    return MESOCTL_OK;
}

/* --------------------------------------------------------------- patient */

void
mesoctl_audit_rows_json (FILE *out, PGresult *r)
{
    static const char *const keys[] = { "at", "clinic_id", "seq", "principal", "on_behalf_of",
                                        "method", "access", "status", "request_id" };
    int n = PQntuples (r);
    fprintf (out, "[");
    for (int i = 0; i < n; i++) {
        fprintf (out, "%s\n  {", i ? "," : "");
        for (int k = 0; k < 9; k++) {
            char buf[1024];
            if (k == 2) {
                fprintf (out, ",\"seq\":%s", PQgetvalue (r, i, k));
                continue;
            }
            if (k == 7) {
                fprintf (out, ",\"status\":\"%s\"", meso_status_name (atoi (PQgetvalue (r, i, k))));
                continue;
            }
            meso_json_escape (buf, sizeof buf, PQgetvalue (r, i, k));
            fprintf (out, "%s\"%s\":\"%s\"", k ? "," : "", keys[k], buf);
        }
        fprintf (out, "}");
    }
    fprintf (out, "%s]", n ? "\n" : "");
}

PGresult *
mesoctl_audit_patient_rows (const char *conninfo, const char *patient, int limit, char *why,
                            size_t size)
{
    meso_db_t *db = meso_db_new (conninfo);
    PGresult *r = db && meso_db_ok (db) ? mesoctl_store_audit_patient (db, patient, limit) : NULL;
    if (!r)
        snprintf (why, size, "%s", db ? meso_db_error (db)->message : "out of memory");
    meso_db_destroy (&db);
    return r;
}

static int
s_patient (meso_opt_t *opts)
{
    const char *id = mesoctl_opt (opts, "id");
    if (!*id) {
        fprintf (stderr, "mesoctl audit patient: give the patient's id (mesoctl audit patient <id>)\n");
        return MESOCTL_USAGE;
    }
    long limit;
    if (meso_config_int (opts, "limit", 1, 1000000, &limit) != 0)
        return MESOCTL_USAGE;
    meso_db_t *db = s_connect (opts, "patient");
    if (!db)
        return MESOCTL_FAILED;
    PGresult *r = mesoctl_store_audit_patient (db, id, (int) limit);
    if (!r) {
        s_db_error (db, "patient");
        meso_db_destroy (&db);
        return MESOCTL_FAILED;
    }
    int n = PQntuples (r);
    if (meso_config_bool (opts, "json")) {
        mesoctl_audit_rows_json (stdout, r);
        printf ("\n");
    }
    else {
        printf ("%-27s %-16s %-20s %-20s %-30s %-6s %s\n", "AT (UTC)", "CLINIC", "PRINCIPAL",
                "ON BEHALF OF", "METHOD", "ACCESS", "OUTCOME");
        for (int i = 0; i < n; i++)
            printf ("%-27s %-16s %-20s %-20s %-30s %-6s %s\n", PQgetvalue (r, i, 0),
                    PQgetvalue (r, i, 1), PQgetvalue (r, i, 3),
                    PQgetvalue (r, i, 4)[0] ? PQgetvalue (r, i, 4) : "-", PQgetvalue (r, i, 5),
                    PQgetvalue (r, i, 6), meso_status_name (atoi (PQgetvalue (r, i, 7))));
        if (n == 0)
            printf ("(no audit rows for patient %s)\n", id);
    }
    PQclear (r);
    meso_db_destroy (&db);
    return MESOCTL_OK;
}

/* ----------------------------------------------------------------- prune */

static int
s_prune (meso_opt_t *opts)
{
    const char *before = mesoctl_opt (opts, "before");
    long days;
    if (meso_config_int (opts, "retention-days", MESO_AUDIT_RETENTION_MIN_DAYS,
                         MESO_AUDIT_RETENTION_MAX_DAYS, &days) != 0)
        return MESOCTL_USAGE;
    int32_t today = (int32_t) (meso_time_now_us () / INT64_C (86400000000));
    int32_t cut;
    if (*before) {
        if (meso_date_parse (before, &cut) != 0) {
            fprintf (stderr, "mesoctl audit prune: --before must be a date YYYY-MM-DD\n");
            return MESOCTL_USAGE;
        }
        if (cut > today + 1) {
            fprintf (stderr, "mesoctl audit prune: --before %s is in the future\n", before);
            return MESOCTL_USAGE;
        }
    }
    else
        cut = today - (int32_t) days;
    char date[16], ts[40];
    meso_date_format (cut, date, sizeof date);
    snprintf (ts, sizeof ts, "%s 00:00:00+00", date);
    meso_db_t *db = s_connect (opts, "prune");
    if (!db)
        return MESOCTL_FAILED;
    long long deleted = 0;
    if (mesoctl_store_audit_prune (db, ts, &deleted) != 0) {
        s_db_error (db, "prune");
        meso_db_destroy (&db);
        return MESOCTL_FAILED;
    }
    meso_db_destroy (&db);
    printf ("pruned %lld audit row(s) older than %s (UTC); each chain keeps its anchor\n", deleted,
            date);
    return MESOCTL_OK;
}

/* ------------------------------------------------------------- the table */

static const meso_opt_t s_verify_opts[] = {
    { "clinic", NULL, "", "only this clinic's chain (\"\": every chain)", NULL },
    MESOCTL_OPT_END
};
static const meso_opt_t s_patient_opts[] = {
    { "id", NULL, "", "the patient's id (or give it as the argument)", NULL },
    { "json", NULL, "false", "print a JSON array", NULL },
    { "limit", NULL, "10000", "at most this many rows, oldest first", NULL },
    MESOCTL_OPT_END
};
static const meso_opt_t s_prune_opts[] = {
    { "before", NULL, "", "delete the rows before this day (YYYY-MM-DD, UTC); default: today "
      "minus --retention-days", NULL },
    { "retention-days", "MESO_AUDIT_RETENTION_DAYS", "2192",
      "days the trail is kept (30..36600; 2192: six years)", NULL },
    MESOCTL_OPT_END
};

static const mesoctl_sub_t s_subs[] = {
    { "verify", "recompute every clinic's hash chain and name the first broken link", "[--clinic C]",
      "Reads the raw audit rows and recomputes each clinic's chain in C (SHA-256 of the previous\n"
      "hash and the canonical row, see README \"Patient data\"), from the chain's anchor to its\n"
      "head. Prints one line per chain; a broken one names its clinic, the seq and what differs\n"
      "(edited, missing, reordered, truncated). Exit 1 when a chain is broken.",
      "\n--clinic par", s_verify_opts, 0, NULL, 0, s_verify },
    { "patient", "who read or changed a patient's data: when, which method, the outcome",
      "<id> [--json] [--limit N]",
      "Lists the audit rows of one patient, oldest first: time, clinic, principal, the person a\n"
      "service acted for, method, read or write, and the outcome status.",
      "2b1c5a4e-0d7f-4c55-9a61-3f0e2d1c9b8a\n2b1c5a4e-0d7f-4c55-9a61-3f0e2d1c9b8a --json",
      s_patient_opts, 0, NULL, 0, s_patient },
    { "prune", "delete rows past the retention, keeping each chain's anchor",
      "[--before YYYY-MM-DD] [--retention-days N]",
      "Deletes each chain's rows older than --before (default: today minus --retention-days,\n"
      "MESO_AUDIT_RETENTION_DAYS, six years) and keeps the last deleted row's seq and hash as\n"
      "the chain's anchor, so verify still checks what is left.",
      "\n--retention-days 3650\n--before 2020-01-01", s_prune_opts, 0, NULL, 0, s_prune },
    { NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, 0, NULL }
};

static const mesoctl_service_t s_audit = {
    .name = "audit",
    .summary = "the audit trail of patient data: verify, who touched a patient, prune "
               "(as the migration role)",
    .endpoint = { "db", "MESO_DB", "dbname=meso",
                  "libpq conninfo of the migration role (the daemons may only append)", NULL },
};

int
mesoctl_audit (int argc, char **argv)
{
    /* "mesoctl audit patient <id>": the id may come as an argument. */
    static char *args[64];
    static char idopt[200];
    if (argc >= 3 && argc < 62 && strcmp (argv[1], "patient") == 0 && argv[2][0] != '-') {
        snprintf (idopt, sizeof idopt, "--id=%s", argv[2]);
        args[0] = argv[0];
        args[1] = argv[1];
        args[2] = idopt;
        for (int i = 3; i < argc; i++)
            args[i] = argv[i];
        args[argc] = NULL;
        argv = args;
    }
    return mesoctl_run (&s_audit, s_subs, false, argc, argv);
}
