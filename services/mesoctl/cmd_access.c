/* cmd_access.c -- "mesoctl access": who may call meso.
 *
 *     mesoctl access add --name N --kind K --roles r1,r2 [--clinics c1,c2|all]
 *                        [--streams s1,s2] [--health] [--out DIR | --public-key Z85 | --key-file F]
 *     mesoctl access list [--json] | show --name N | revoke --name N
 *     mesoctl access bootstrap --keys DIR
 *
 * Principals live in access.principal (deploy/sql/015_access.sql), which
 * the daemons only read: these commands write it directly as the
 * migration role (--db, like "mesoctl migrate"), never through a daemon,
 * and every change NOTIFYs the daemons, which reload within moments (a
 * revoked key is refused at its next handshake or request).
 *
 * add makes a fresh key pair by default and writes it to --out once:
 * the secret is never stored anywhere else (the table holds the public
 * key only), so the person it is for takes the file and the copy here is
 * deleted. Everything is checked before anything is written
 * (access_input.c); the key files are written before the row is inserted
 * and removed again when the insert is refused, so a refused command
 * leaves nothing behind.
 *
 * bootstrap registers the keys of a folder made by "mesoctl keys init":
 * each daemon's (and webhooks') as a service principal (role service,
 * every clinic, health data: daemons serve every clinic and pass the
 * person they act for along), and operator.key as the operator with every
 * role, every clinic and health data: the installation's break-glass key,
 * which mesoctl uses by default. It is idempotent: a principal already
 * registered with its key is kept, one registered with another key (its
 * files were made again) gets the new key, a revoked one is left revoked.
 * With --init it first makes the missing pairs ("mesoctl keys init"), so
 * that docker-compose's one-shot "keys" service is one command. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <czmq.h>

#include "access_input.h"
#include "meso/access.h"
#include "meso/log.h"
#include "mesoctl.h"
#include "store_access.h"

static const char *const s_services[] = { "screening", "scheduling", "inventory", "billing", "events",
                                          "webhooks" };
#define NSERVICES (sizeof s_services / sizeof s_services[0])

static void
s_db_error (meso_db_t *db, const char *what)
{
    const meso_db_error_t *e = meso_db_error (db);
    fprintf (stderr, "mesoctl access %s: %s\n", what, e->message);
    if (e->sqlstate[0])
        fprintf (stderr, "SQLSTATE: %s\n", e->sqlstate);
    if (e->detail[0])
        fprintf (stderr, "DETAIL: %s\n", e->detail);
    if (strcmp (e->sqlstate, "42P01") == 0 || strcmp (e->sqlstate, "3F000") == 0)
        fprintf (stderr, "HINT: the database has no access schema yet: run mesoctl migrate first\n");
    else if (strcmp (e->sqlstate, "42501") == 0)
        fprintf (stderr, "HINT: --db must connect as the migration role (the daemons' roles only read "
                         "access.principal)\n");
}

/* Connects with --db; NULL after saying why. */
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

/* ------------------------------------------------------------------ add */

static int
s_add (meso_opt_t *opts)
{
    const char *name = mesoctl_opt (opts, "name"), *kind = mesoctl_opt (opts, "kind");
    const char *out = mesoctl_opt (opts, "out"), *pub = mesoctl_opt (opts, "public-key");
    const char *file = mesoctl_opt (opts, "key-file");
    static char roles[MESOCTL_ACCESS_LIST_MAX], clinics[MESOCTL_ACCESS_LIST_MAX];
    char streams[128], err[512];
    bool all_clinics, all_streams;
    bool person = strcmp (kind, "person") == 0 || strcmp (kind, "integration") == 0;
    if (mesoctl_access_name (name, err, sizeof err) || mesoctl_access_kind (kind, err, sizeof err)
        || mesoctl_access_roles (mesoctl_opt (opts, "roles"), roles, sizeof roles, err, sizeof err)
        || mesoctl_access_clinics (mesoctl_opt (opts, "clinics"), person, &all_clinics, clinics,
                                   sizeof clinics, err, sizeof err)
        || mesoctl_access_streams (mesoctl_opt (opts, "streams"), &all_streams, streams, sizeof streams,
                                   err, sizeof err)
        || (*pub && mesoctl_access_public_key (pub, err, sizeof err))) {
        fprintf (stderr, "mesoctl access add: %s\nnothing was changed\n", err);
        return MESOCTL_USAGE;
    }
    if ((*out != 0) + (*pub != 0) + (*file != 0) > 1) {
        fprintf (stderr, "mesoctl access add: give one of --out, --public-key, --key-file\n"
                         "nothing was changed\n");
        return MESOCTL_USAGE;
    }
    char key[MESO_KEY_Z85_LEN + 1] = "";
    if (*pub)
        snprintf (key, sizeof key, "%s", pub);
    else if (*file) {
        zcert_t *cert = zsys_file_exists (file) ? zcert_load (file) : NULL;
        if (!cert) {
            fprintf (stderr, "mesoctl access add: --key-file %s: not a readable CZMQ certificate\n"
                             "nothing was changed\n", file);
            return MESOCTL_USAGE;
        }
        snprintf (key, sizeof key, "%s", zcert_public_txt (cert));
        zcert_destroy (&cert);
    }
    /* A fresh pair goes to --out (default: the current folder). */
    const char *dir = *out ? out : ".";
    char path[1200], secret[1216];
    snprintf (path, sizeof path, "%s/%s.key", dir, name);
    snprintf (secret, sizeof secret, "%s_secret", path);
    bool fresh = !*key;
    if (fresh && (zsys_file_exists (path) || zsys_file_exists (secret))) {
        fprintf (stderr, "mesoctl access add: %s exists: a key file is never overwritten (another "
                         "--out, or --key-file to register that key)\nnothing was changed\n",
                 zsys_file_exists (path) ? path : secret);
        return MESOCTL_USAGE;
    }
    meso_db_t *db = s_connect (opts, "add");
    if (!db)
        return MESOCTL_FAILED;
    if (fresh) {
        zcert_t *cert = NULL;
        if (zsys_dir_create ("%s", dir) != 0 || mesoctl_keys_write (dir, name, kind, &cert) != 0) {
            fprintf (stderr, "mesoctl access add: cannot write %s\nnothing was changed\n", secret);
            meso_db_destroy (&db);
            return MESOCTL_FAILED;
        }
        snprintf (key, sizeof key, "%s", zcert_public_txt (cert));
        zcert_destroy (&cert);
    }
    mesoctl_principal_in_t p = { key, name, kind, roles, all_clinics ? NULL : clinics,
                                 all_streams ? NULL : streams, meso_config_bool (opts, "health") };
    int rc = mesoctl_store_principal_add (db, &p, err, sizeof err);
    if (rc != 0) {
        if (fresh) {
            unlink (path);
            unlink (secret);
        }
        if (rc > 0)
            fprintf (stderr, "mesoctl access add: %s\nnothing was changed\n", err);
        else
            s_db_error (db, "add");
        meso_db_destroy (&db);
        return MESOCTL_FAILED;
    }
    meso_db_destroy (&db);
    printf ("principal %s registered: %s, roles %.*s, clinics %s, streams %s, %s\n", name, kind,
            (int) strlen (roles) - 2, roles + 1, all_clinics ? "all" : clinics,
            all_streams ? "all" : streams, p.health ? "sees health data" : "no health data");
    printf ("public key %s\n", key);
    if (fresh) {
        printf ("key pair   %s (public)\n           %s (secret, mode 0600)\n", path, secret);
        printf ("The secret key is in that file only: meso keeps no copy. Hand it to %s\n"
                "(MESO_KEY=%s mesoctl ...) and delete it here.\n", name, secret);
    }
    return MESOCTL_OK;
}

/* -------------------------------------------------------- list and show */

static void
s_json_str (const char *key, const char *value, bool comma)
{
    char buf[2048];
    meso_json_escape (buf, sizeof buf, value);
    printf ("%s\"%s\":\"%s\"", comma ? "," : "", key, buf);
}

/* A comma-separated text (NULL: every one) as a JSON array or null. */
static void
s_json_list (const char *key, PGresult *r, int row, int col)
{
    printf (",\"%s\":", key);
    if (PQgetisnull (r, row, col)) {
        printf ("null");
        return;
    }
    char copy[MESOCTL_ACCESS_LIST_MAX], *items[1024];
    snprintf (copy, sizeof copy, "%s", PQgetvalue (r, row, col));
    size_t n = mesoctl_split (copy, ",", false, items, 1024);
    printf ("[");
    for (size_t i = 0; i < n; i++)
        printf ("%s\"%s\"", i ? "," : "", items[i]);     /* ids and roles: no escapes */
    printf ("]");
}

static void
s_print_json (PGresult *r)
{
    printf ("[");
    for (int i = 0; i < PQntuples (r); i++) {
        printf ("%s\n  {", i ? "," : "");
        s_json_str ("name", PQgetvalue (r, i, 0), false);
        s_json_str ("kind", PQgetvalue (r, i, 1), true);
        s_json_list ("roles", r, i, 2);
        s_json_list ("clinics", r, i, 3);
        s_json_list ("streams", r, i, 4);
        printf (",\"health\":%s", PQgetvalue (r, i, 5)[0] == 't' ? "true" : "false");
        s_json_str ("created_at", PQgetvalue (r, i, 6), true);
        if (PQgetisnull (r, i, 7))
            printf (",\"revoked_at\":null");
        else
            s_json_str ("revoked_at", PQgetvalue (r, i, 7), true);
        s_json_str ("public_key", PQgetvalue (r, i, 8), true);
        printf ("}");
    }
    printf ("%s]\n", PQntuples (r) ? "\n" : "");
}

static const char *
s_or_all (PGresult *r, int row, int col)
{
    return PQgetisnull (r, row, col) ? "all" : PQgetvalue (r, row, col);
}

static int
s_list (meso_opt_t *opts)
{
    meso_db_t *db = s_connect (opts, "list");
    if (!db)
        return MESOCTL_FAILED;
    PGresult *r = mesoctl_store_principals (db, NULL);
    if (!r) {
        s_db_error (db, "list");
        meso_db_destroy (&db);
        return MESOCTL_FAILED;
    }
    if (meso_config_bool (opts, "json"))
        s_print_json (r);
    else {
        printf ("%-24s %-11s %-40s %-16s %-16s %-6s %-19s %s\n", "NAME", "KIND", "ROLES", "CLINICS",
                "STREAMS", "HEALTH", "CREATED", "REVOKED");
        for (int i = 0; i < PQntuples (r); i++)
            printf ("%-24s %-11s %-40s %-16s %-16s %-6s %-19s %s\n", PQgetvalue (r, i, 0),
                    PQgetvalue (r, i, 1), PQgetvalue (r, i, 2), s_or_all (r, i, 3), s_or_all (r, i, 4),
                    PQgetvalue (r, i, 5)[0] == 't' ? "yes" : "no", PQgetvalue (r, i, 6),
                    PQgetisnull (r, i, 7) ? "-" : PQgetvalue (r, i, 7));
    }
    PQclear (r);
    meso_db_destroy (&db);
    return MESOCTL_OK;
}

static int
s_show (meso_opt_t *opts)
{
    const char *name = mesoctl_opt (opts, "name");
    if (!*name) {
        fprintf (stderr, "mesoctl access show: --name is required\n");
        return MESOCTL_USAGE;
    }
    meso_db_t *db = s_connect (opts, "show");
    if (!db)
        return MESOCTL_FAILED;
    PGresult *r = mesoctl_store_principals (db, name);
    if (!r) {
        s_db_error (db, "show");
        meso_db_destroy (&db);
        return MESOCTL_FAILED;
    }
    int rc = MESOCTL_OK;
    if (PQntuples (r) == 0) {
        fprintf (stderr, "mesoctl access show: no principal named \"%s\" (see mesoctl access list)\n", name);
        rc = MESOCTL_FAILED;
    }
    else if (meso_config_bool (opts, "json"))
        s_print_json (r);
    else
        printf ("name        %s\nkind        %s\nroles       %s\nclinics     %s\nstreams     %s\n"
                "health data %s\npublic key  %s\ncreated     %s UTC\nrevoked     %s%s\n",
                PQgetvalue (r, 0, 0), PQgetvalue (r, 0, 1), PQgetvalue (r, 0, 2), s_or_all (r, 0, 3),
                s_or_all (r, 0, 4), PQgetvalue (r, 0, 5)[0] == 't' ? "yes" : "no", PQgetvalue (r, 0, 8),
                PQgetvalue (r, 0, 6), PQgetisnull (r, 0, 7) ? "no" : PQgetvalue (r, 0, 7),
                PQgetisnull (r, 0, 7) ? "" : " UTC");
    PQclear (r);
    meso_db_destroy (&db);
    return rc;
}

/* --------------------------------------------------------------- revoke */

static int
s_revoke (meso_opt_t *opts)
{
    const char *name = mesoctl_opt (opts, "name");
    if (!*name) {
        fprintf (stderr, "mesoctl access revoke: --name is required\n");
        return MESOCTL_USAGE;
    }
    meso_db_t *db = s_connect (opts, "revoke");
    if (!db)
        return MESOCTL_FAILED;
    char when[64] = "";
    int rc = mesoctl_store_principal_revoke (db, name, when, sizeof when);
    if (rc < 0)
        s_db_error (db, "revoke");
    else if (rc == 1)
        fprintf (stderr, "mesoctl access revoke: no principal named \"%s\" (see mesoctl access list)\n", name);
    else if (rc == 2)
        printf ("%s was already revoked, at %s UTC: nothing changed\n", name, when);
    else
        printf ("revoked %s at %s UTC: the daemons refuse its key within seconds, open connections "
                "included\n", name, when);
    meso_db_destroy (&db);
    return rc == 0 || rc == 2 ? MESOCTL_OK : MESOCTL_FAILED;
}

#define MAX_INTEGRATIONS 8

/* ------------------------------------------------------------ bootstrap */

static int
s_bootstrap (meso_opt_t *opts)
{
    const char *dir = mesoctl_opt (opts, "keys");
    if (!*dir) {
        fprintf (stderr, "mesoctl access bootstrap: --keys (or MESO_KEYS) names no folder\n");
        return MESOCTL_USAGE;
    }
    /* Integrations named by --integrations: their pairs are made with the
     * daemons' (--init) and registered to read the session stream of every
     * clinic, without health data (the examples' subscriber). */
    const char *integrations = mesoctl_opt (opts, "integrations");
    char names[MAX_INTEGRATIONS][MESO_PRINCIPAL_NAME_MAX + 1];
    size_t ni = 0;
    for (const char *c = integrations; *c && ni < MAX_INTEGRATIONS;) {
        size_t len = strcspn (c, ",");
        if (len > 0 && len <= MESO_PRINCIPAL_NAME_MAX) {
            memcpy (names[ni], c, len);
            names[ni][len] = '\0';
            ni++;
        }
        else
        if (len > 0) {
            fprintf (stderr, "mesoctl access bootstrap: --integrations: a name is longer than %d\n",
                     MESO_PRINCIPAL_NAME_MAX);
            return MESOCTL_USAGE;
        }
        c += len + (c[len] == ',');
    }
    if (meso_config_bool (opts, "init")) {
        int rc = mesoctl_keys_init (dir, NULL);
        if (rc == MESOCTL_OK && ni > 0)
            rc = mesoctl_keys_init (dir, integrations);
        if (rc != MESOCTL_OK)
            return rc;
    }
    static const char all_roles[] = "{front_desk,clinician,stock_keeper,billing_clerk,clinic_manager,"
                                    "integration,service,operator}";
    mesoctl_principal_in_t p[NSERVICES + 1 + MAX_INTEGRATIONS];
    char keys[NSERVICES + 1 + MAX_INTEGRATIONS][MESO_KEY_Z85_LEN + 1];
    size_t n = 0;
    for (size_t i = 0; i <= NSERVICES + ni; i++) {
        const char *name = i < NSERVICES ? s_services[i] : i == NSERVICES ? "operator"
                                                                          : names[i - NSERVICES - 1];
        char path[1200];
        snprintf (path, sizeof path, "%s/%s.key", dir, name);
        zcert_t *cert = zsys_file_exists (path) ? zcert_load (path) : NULL;
        if (!cert) {
            printf ("skipped %-11s no %s\n", name, path);
            continue;
        }
        snprintf (keys[n], sizeof keys[n], "%s", zcert_public_txt (cert));
        zcert_destroy (&cert);
        bool op = i == NSERVICES;
        if (i > NSERVICES)
            p[n] = (mesoctl_principal_in_t) { keys[n], name, "integration", "{integration}", NULL,
                                              "{session}", false };
        else
            p[n] = (mesoctl_principal_in_t) { keys[n], name, op ? "operator" : "service",
                                              op ? all_roles : "{service}", NULL, NULL, true };
        n++;
    }
    if (n == 0) {
        fprintf (stderr, "mesoctl access bootstrap: no key in %s (run mesoctl keys init --dir %s)\n",
                 dir, dir);
        return MESOCTL_FAILED;
    }
    meso_db_t *db = s_connect (opts, "bootstrap");
    if (!db)
        return MESOCTL_FAILED;
    mesoctl_boot_t outcome[NSERVICES + 1 + MAX_INTEGRATIONS];
    if (mesoctl_store_bootstrap (db, p, n, outcome) != 0) {
        s_db_error (db, "bootstrap");
        meso_db_destroy (&db);
        return MESOCTL_FAILED;
    }
    meso_db_destroy (&db);
    static const char *const said[] = {
        [MESOCTL_BOOT_ADDED] = "registered",
        [MESOCTL_BOOT_KEPT] = "already registered",
        [MESOCTL_BOOT_REKEYED] = "key replaced by the one in the folder",
        [MESOCTL_BOOT_REVOKED] = "revoked: left alone (register a new name with mesoctl access add)",
        [MESOCTL_BOOT_CONFLICT] = "NOT registered: the name or the key belongs to another principal",
    };
    int conflicts = 0;
    for (size_t i = 0; i < n; i++) {
        printf ("%-8s %-11s %s\n", p[i].kind, p[i].name, said[outcome[i]]);
        conflicts += outcome[i] == MESOCTL_BOOT_CONFLICT;
    }
    return conflicts ? MESOCTL_FAILED : MESOCTL_OK;
}

/* --------------------------------------------------------------- tables */

static const meso_opt_t s_add_opts[] = {
    { "name", NULL, "", "the principal's name (recorded as the actor of its calls)", NULL },
    { "kind", NULL, "person", "person, integration, service or operator", NULL },
    { "roles", NULL, "", "comma-separated roles (front_desk, clinician, stock_keeper, billing_clerk, "
      "clinic_manager, integration, service, operator), or all", NULL },
    { "clinics", NULL, "", "clinic ids it may act in, or all (required for a person or integration)", NULL },
    { "streams", NULL, "", "event streams it may read (session, screening, stock, billing; default all)", NULL },
    { "health", NULL, "false", "it may see health data", NULL },
    { "out", NULL, "", "folder for the new key pair <name>.key, <name>.key_secret (default .)", NULL },
    { "public-key", NULL, "", "register this Z85 public key instead of making a pair", NULL },
    { "key-file", NULL, "", "register the public key of this CZMQ certificate file instead", NULL },
    MESOCTL_OPT_END
};
static const meso_opt_t s_json_opts[] = {
    { "json", NULL, "false", "print a JSON array", NULL },
    MESOCTL_OPT_END
};
static const meso_opt_t s_name_opts[] = {
    { "name", NULL, "", "the principal's name", NULL },
    { "json", NULL, "false", "print a JSON array", NULL },
    MESOCTL_OPT_END
};
static const meso_opt_t s_revoke_opts[] = {
    { "name", NULL, "", "the principal's name", NULL },
    MESOCTL_OPT_END
};
static const meso_opt_t s_bootstrap_opts[] = {
    { "keys", "MESO_KEYS", "", "folder made by mesoctl keys init", NULL },
    { "init", NULL, "false", "first make the missing key pairs in it (mesoctl keys init)", NULL },
    { "integrations", NULL, "", "comma-separated integration names whose keys (<name>.key) to "
      "register too, reading the session stream of every clinic without health data", NULL },
    MESOCTL_OPT_END
};

static const mesoctl_sub_t s_subs[] = {
    { "add", "register a principal (a fresh key pair by default)",
      "--name N --kind K --roles r1,r2 [--clinics c1,c2|all] [--streams s1,s2] [--health] "
      "[--out DIR | --public-key Z85 | --key-file F]",
      "Registers a principal: a CURVE public key with a name, a kind, roles, the clinics it\n"
      "may act in, the event streams it may read and whether it sees health data. By default\n"
      "makes a fresh key pair in --out and prints its paths once: the secret key is kept\n"
      "nowhere else. Every input is checked first; a refused command changes nothing.",
      "--name ana-frontdesk --kind person --roles front_desk --clinics par --out people\n"
      "--name crm --kind integration --roles integration --clinics all --streams session "
      "--key-file crm.key",
      s_add_opts, 0, NULL, 0, s_add, NULL },
    { "list", "list every principal, revoked ones included", "[--json]",
      "Lists the principals: name, kind, roles, clinics and streams (all: every one),\n"
      "health data, when created and revoked.", "\n--json", s_json_opts, 0, NULL, 0, s_list, NULL },
    { "show", "show one principal and its public key", "--name N [--json]",
      "Shows one principal, its public key included; exit 1 when there is none of that name.",
      "--name ana-frontdesk", s_name_opts, 0, NULL, 0, s_show, NULL },
    { "revoke", "revoke a principal: its key stops working within seconds", "--name N",
      "Revokes a principal now: the daemons reload and refuse its key at the next handshake\n"
      "or request, within seconds and without a restart. The row is kept, so names in\n"
      "events and logs stay resolvable; a name is never reused.",
      "--name ana-frontdesk", s_revoke_opts, 0, NULL, 0, s_revoke, NULL },
    { "bootstrap", "register the daemons' keys and the operator's break-glass key of a folder",
      "--keys DIR [--init]",
      "Registers the keys of DIR (made by mesoctl keys init): each daemon's as a service\n"
      "principal (role service, every clinic, health data) and operator.key as the operator\n"
      "(every role, every clinic, health data: the break-glass key mesoctl uses by default).\n"
      "Idempotent: what is registered is kept; a key made again replaces the old one.",
      "--keys .local/keys\n--keys /var/lib/meso/keys --init", s_bootstrap_opts, 0, NULL, 0, s_bootstrap, NULL },
    { NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, 0, NULL, NULL }
};

static const mesoctl_service_t s_access = {
    .name = "access",
    .summary = "principals: who may call meso (written as the migration role, never by a daemon)",
    .endpoint = { "db", "MESO_DB", "dbname=meso",
                  "libpq conninfo of the migration role (the daemons only read access.principal)", NULL },
};

int
mesoctl_access (int argc, char **argv)
{
    return mesoctl_run (&s_access, s_subs, false, argc, argv);
}
