/* cmd_migrate.c -- "mesoctl migrate": applies the pending migrations of
 * deploy/sql to the database (see meso/migrate.h for the rules: numeric
 * order, each once, under an advisory lock, edited files refused).
 *
 * The folder defaults to ./deploy/sql when run from a checkout, else to
 * /usr/share/meso/sql where a package or the image installs it. Run it as
 * a role that may create schemas and roles (the cluster's superuser in a
 * local run); the daemons then connect with their own roles.
 *
 * --<service>-db-password (MESO_<SERVICE>_DB_PASSWORD) sets the password of
 * role meso_<service> after migrating, for deployments where the daemons
 * log in with passwords (docker-compose.yml); 001_foundation.sql creates the
 * roles without one. Only the password's SCRAM-SHA-256 verifier is sent
 * (meso_migrate_set_password), never the password itself. */
#include <stdio.h>
#include <sys/stat.h>

#include "meso/config.h"
#include "meso/db.h"
#include "meso/migrate.h"
#include "mesoctl.h"

#define CHECKOUT_SQL_DIR "deploy/sql"
#define INSTALLED_SQL_DIR "/usr/share/meso/sql"

static bool
s_is_dir (const char *path)
{
    struct stat st;
    return stat (path, &st) == 0 && S_ISDIR (st.st_mode);
}

static const char *const s_services[] = { "screening", "scheduling", "inventory", "billing", "events",
                                          "webhooks" };
#define NSERVICES (sizeof s_services / sizeof s_services[0])

/* Sets role meso_<service>'s password from its option when non-empty. */
static int
s_set_passwords (meso_db_t *db, const meso_opt_t *opts)
{
    for (size_t i = 0; i < NSERVICES; i++) {
        char opt[64], role[64];
        snprintf (opt, sizeof opt, "%s-db-password", s_services[i]);
        snprintf (role, sizeof role, "meso_%s", s_services[i]);
        const char *pw = meso_config_get (opts, opt);
        if (!pw || !*pw)
            continue;
        if (meso_migrate_set_password (db, role, pw) != 0)
            return -1;
        printf ("password of role %s set\n", role);
    }
    return 0;
}

static void
s_print_error (meso_db_t *db, const char *what)
{
    const meso_db_error_t *e = meso_db_error (db);
    fprintf (stderr, "mesoctl migrate: %s: %s\n", what, e->message);
    if (e->sqlstate[0])
        fprintf (stderr, "SQLSTATE: %s\n", e->sqlstate);
    if (e->detail[0])
        fprintf (stderr, "DETAIL: %s\n", e->detail);
    if (e->hint[0])
        fprintf (stderr, "HINT: %s\n", e->hint);
}

int
mesoctl_migrate (int argc, char **argv)
{
    meso_opt_t opts[] = {
        { "db", "MESO_DB", "dbname=meso", "libpq conninfo of a role allowed to create schemas and roles", NULL },
        { "dir", "MESO_MIGRATIONS_DIR", NULL,
          "folder of NNN_name.sql files (default: ./" CHECKOUT_SQL_DIR " if it exists, else "
          INSTALLED_SQL_DIR ")", NULL },
        { "screening-db-password", "MESO_SCREENING_DB_PASSWORD", "",
          "after migrating, set role meso_screening's password (empty: leave it)", NULL },
        { "scheduling-db-password", "MESO_SCHEDULING_DB_PASSWORD", "",
          "the same for meso_scheduling", NULL },
        { "inventory-db-password", "MESO_INVENTORY_DB_PASSWORD", "",
          "the same for meso_inventory", NULL },
        { "billing-db-password", "MESO_BILLING_DB_PASSWORD", "",
          "the same for meso_billing", NULL },
        { "events-db-password", "MESO_EVENTS_DB_PASSWORD", "",
          "the same for meso_events", NULL },
        { "webhooks-db-password", "MESO_WEBHOOKS_DB_PASSWORD", "",
          "the same for meso_webhooks", NULL },
        { NULL, NULL, NULL, NULL, NULL }
    };
    int rc = mesoctl_parsed (meso_config_parse (opts, argc, argv, "mesoctl migrate",
        "Applies pending migrations, each in its own transaction, and prints how many\n"
        "were applied and the database's version.", NULL, NULL));
    if (rc >= 0)
        return rc;
    const char *dir = meso_config_get (opts, "dir");
    if (!dir || !*dir)
        dir = s_is_dir (CHECKOUT_SQL_DIR) ? CHECKOUT_SQL_DIR : INSTALLED_SQL_DIR;
    if (!s_is_dir (dir)) {
        fprintf (stderr, "mesoctl migrate: no migrations folder %s\n"
                         "HINT: run from the checkout's top folder, or pass --dir / set MESO_MIGRATIONS_DIR\n",
                 dir);
        return MESOCTL_FAILED;
    }
    meso_db_t *db = meso_db_new (meso_config_get (opts, "db"));
    if (!db) {
        fprintf (stderr, "mesoctl migrate: out of memory\n");
        return MESOCTL_FAILED;
    }
    if (!meso_db_ok (db)) {
        s_print_error (db, "cannot connect to the database");
        meso_db_destroy (&db);
        return MESOCTL_FAILED;
    }
    int applied = 0;
    if (meso_migrate (db, dir, &applied) < 0) {
        s_print_error (db, "migration failed");
        if (applied > 0)
            fprintf (stderr, "(%d migration%s applied before the failure)\n", applied,
                     applied == 1 ? " was" : "s were");
        meso_db_destroy (&db);
        return MESOCTL_FAILED;
    }
    int version = meso_migrate_version (db);
    if (version < 0) {
        s_print_error (db, "cannot read the schema version");
        meso_db_destroy (&db);
        return MESOCTL_FAILED;
    }
    printf ("applied %d migration%s from %s; database at version %d\n", applied,
            applied == 1 ? "" : "s", dir, version);
    if (s_set_passwords (db, opts) != 0) {
        s_print_error (db, "cannot set a role's password");
        meso_db_destroy (&db);
        return MESOCTL_FAILED;
    }
    meso_db_destroy (&db);
    return MESOCTL_OK;
}
