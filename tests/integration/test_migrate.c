/* test_migrate.c -- migrations against a real PostgreSQL: each file applied
 * once (also with two migrators racing), edited or stray files refused, a
 * failing file leaves nothing behind, the privileges of
 * 001_foundation.sql keep each service role in its own schema, and a
 * role's password is set without ever being sent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "meso/db.h"
#include "meso/migrate.h"
#include "meso/status.h"

static char s_sqldir[1024];

static int
s_group_setup (void **state)
{
    (void) state;
    snprintf (s_sqldir, sizeof s_sqldir, "%s/deploy/sql", mt_source_dir ());
    return 0;
}

/* An empty database (not migrated); its conninfo in out. */
static void
s_fresh_db (const char *name, char *out, size_t size)
{
    char admin[512];
    mt_admin_conninfo ("postgres", admin, sizeof admin);
    meso_db_t *db = meso_db_new (admin);
    assert_true (meso_db_ok (db));
    char sql[256];
    snprintf (sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
    assert_int_equal (meso_db_exec (db, sql, 0, NULL), 0);
    snprintf (sql, sizeof sql, "CREATE DATABASE %s", name);
    assert_int_equal (meso_db_exec (db, sql, 0, NULL), 0);
    meso_db_destroy (&db);
    mt_admin_conninfo (name, out, size);
}

/* Number and highest version of the migration files in dir. */
static int
s_count_files (const char *dir, int *highest)
{
    DIR *d = opendir (dir);
    assert_non_null (d);
    int n = 0;
    *highest = 0;
    struct dirent *e;
    while ((e = readdir (d)) != NULL) {
        size_t len = strlen (e->d_name);
        if (len > 4 && strcmp (e->d_name + len - 4, ".sql") == 0) {
            n++;
            int v = atoi (e->d_name);
            if (v > *highest)
                *highest = v;
        }
    }
    closedir (d);
    return n;
}

static int
s_int (meso_db_t *db, const char *sql)
{
    PGresult *res = meso_db_query (db, sql, 0, NULL);
    if (!res)
        fail_msg ("%s: %s", sql, meso_db_error (db)->message);
    int v = atoi (PQgetvalue (res, 0, 0));
    PQclear (res);
    return v;
}

static void
test_fresh_then_nothing (void **state)
{
    (void) state;
    char info[512];
    s_fresh_db ("mt_mig_fresh", info, sizeof info);
    int highest;
    int files = s_count_files (s_sqldir, &highest);
    assert_true (files >= 1);

    meso_db_t *db = meso_db_new (info);
    assert_int_equal (meso_migrate_version (db), 0);
    int applied = -1;
    if (meso_migrate (db, s_sqldir, &applied) != 0)
        fail_msg ("migrate: %s", meso_db_error (db)->message);
    assert_int_equal (applied, files);
    assert_int_equal (meso_migrate_version (db), highest);
    assert_int_equal (s_int (db, "SELECT count(*) FROM public.schema_migrations"), files);
    PGresult *res = meso_db_query (db, "SELECT name, length(sha256), applied_at <= now()"
                                   " FROM public.schema_migrations WHERE version = 1", 0, NULL);
    assert_non_null (res);
    assert_int_equal (PQntuples (res), 1);
    assert_string_equal (PQgetvalue (res, 0, 0), "001_foundation.sql");
    assert_string_equal (PQgetvalue (res, 0, 1), "64");
    assert_string_equal (PQgetvalue (res, 0, 2), "t");
    PQclear (res);
    /* What 001 creates is there. */
    assert_int_equal (s_int (db, "SELECT count(*) FROM pg_namespace WHERE nspname IN"
                             " ('screening','scheduling','inventory','billing','events')"), 5);
    assert_int_equal (s_int (db, "SELECT count(*) FROM pg_extension WHERE extname = 'btree_gist'"), 1);

    applied = -1;
    assert_int_equal (meso_migrate (db, s_sqldir, &applied), 0);
    assert_int_equal (applied, 0);
    assert_int_equal (s_int (db, "SELECT count(*) FROM public.schema_migrations"), files);
    meso_db_destroy (&db);
}

typedef struct {
    const char *conninfo;
    pthread_barrier_t *barrier;
    int rc;
    int applied;
    char error[512];
} s_migrator_t;

static void *
s_migrator (void *arg)
{
    s_migrator_t *m = arg;
    meso_db_t *db = meso_db_new (m->conninfo);
    pthread_barrier_wait (m->barrier);
    m->rc = meso_migrate (db, s_sqldir, &m->applied);
    snprintf (m->error, sizeof m->error, "%s", meso_db_error (db)->message);
    meso_db_destroy (&db);
    return NULL;
}

static void
test_concurrent_migrators (void **state)
{
    (void) state;
    char info[512];
    s_fresh_db ("mt_mig_conc", info, sizeof info);
    int highest;
    int files = s_count_files (s_sqldir, &highest);
    pthread_barrier_t barrier;
    pthread_barrier_init (&barrier, NULL, 2);
    s_migrator_t m[2];
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        memset (&m[i], 0, sizeof m[i]);
        m[i].conninfo = info;
        m[i].barrier = &barrier;
        assert_int_equal (pthread_create (&t[i], NULL, s_migrator, &m[i]), 0);
    }
    for (int i = 0; i < 2; i++)
        pthread_join (t[i], NULL);
    pthread_barrier_destroy (&barrier);
    for (int i = 0; i < 2; i++)
        if (m[i].rc != 0)
            fail_msg ("migrator %d: %s", i, m[i].error);
    /* Every file once, by one or the other. */
    assert_int_equal (m[0].applied + m[1].applied, files);
    meso_db_t *db = meso_db_new (info);
    assert_int_equal (s_int (db, "SELECT count(*) FROM public.schema_migrations"), files);
    assert_int_equal (s_int (db, "SELECT count(DISTINCT version) FROM public.schema_migrations"),
                      files);
    assert_int_equal (meso_migrate_version (db), highest);
    meso_db_destroy (&db);
}

static void
s_write (const char *dir, const char *name, const char *mode, const char *text)
{
    char path[1200];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen (path, mode);
    assert_non_null (f);
    fputs (text, f);
    fclose (f);
}

static void
test_edited_stray_and_failing_files (void **state)
{
    (void) state;
    char dir[] = "/tmp/mt-mig-XXXXXX";
    assert_non_null (mkdtemp (dir));
    assert_int_equal (mt_sh ("cp %s/*.sql %s/", s_sqldir, dir), 0);
    char info[512];
    s_fresh_db ("mt_mig_edit", info, sizeof info);
    meso_db_t *db = meso_db_new (info);
    int applied;
    assert_int_equal (meso_migrate (db, dir, &applied), 0);
    int files = applied;

    /* A new migration with several statements and a $$ block applies. */
    s_write (dir, "900_extra.sql", "w",
             "CREATE TABLE public.extra (x int);\n"
             "INSERT INTO public.extra VALUES (1);\n"
             "DO $$ BEGIN INSERT INTO public.extra VALUES (2); END $$;\n");
    assert_int_equal (meso_migrate (db, dir, &applied), 0);
    assert_int_equal (applied, 1);
    assert_int_equal (s_int (db, "SELECT sum(x) FROM public.extra"), 3);

    /* A failing migration: refused naming the file, nothing of it stays,
     * and it is not recorded. */
    s_write (dir, "901_broken.sql", "w",
             "CREATE TABLE public.half (x int);\n"
             "INSERT INTO public.nope VALUES (1);\n");
    assert_int_equal (meso_migrate (db, dir, &applied), -1);
    assert_int_equal (applied, 0);
    assert_non_null (strstr (meso_db_error (db)->message, "901_broken.sql"));
    assert_string_equal (meso_db_error (db)->sqlstate, "42P01");
    assert_int_equal (s_int (db, "SELECT count(*) FROM pg_class WHERE relname = 'half'"), 0);
    assert_int_equal (meso_migrate_version (db), 900);
    assert_int_equal (mt_sh ("rm %s/901_broken.sql", dir), 0);

    /* A stray .sql file is refused by name; other files are ignored. */
    s_write (dir, "README", "w", "not a migration\n");
    s_write (dir, "fix_things.sql", "w", "SELECT 1;\n");
    assert_int_equal (meso_migrate (db, dir, &applied), -1);
    assert_non_null (strstr (meso_db_error (db)->message, "fix_things.sql"));
    assert_int_equal (mt_sh ("rm %s/fix_things.sql", dir), 0);
    assert_int_equal (meso_migrate (db, dir, &applied), 0);
    assert_int_equal (applied, 0);

    /* Editing an applied file is refused, naming it. */
    s_write (dir, "001_foundation.sql", "a", "-- an innocent edit\n");
    assert_int_equal (meso_migrate (db, dir, &applied), -1);
    assert_non_null (strstr (meso_db_error (db)->message, "001_foundation.sql"));
    assert_non_null (strstr (meso_db_error (db)->message, "changed"));
    assert_int_equal (s_int (db, "SELECT count(*) FROM public.schema_migrations"), files + 1);
    /* The advisory lock was released: another session can take it. */
    meso_db_t *other = meso_db_new (info);
    assert_int_equal (s_int (other, "SELECT pg_try_advisory_lock(7882834338069407602)::int"), 1);
    meso_db_destroy (&other);

    assert_int_equal (mt_sh ("rm -r %s", dir), 0);
    meso_db_destroy (&db);
}

static void
test_roles_stay_in_their_schema (void **state)
{
    (void) state;
    char info[512];
    assert_int_equal (mt_db_create ("mt_mig_roles", info, sizeof info), 0);

    char role_info[512];
    mt_role_conninfo ("mt_mig_roles", "meso_screening", role_info, sizeof role_info);
    meso_db_t *screening = meso_db_new (role_info);
    if (!meso_db_ok (screening))
        fail_msg ("connect as meso_screening: %s", meso_db_error (screening)->message);
    assert_int_equal (s_int (screening, "SELECT (current_user = 'meso_screening')::int"), 1);

    const char *row[] = { "k1", "screening.Check" };
    assert_int_equal (meso_db_exec (screening,
                                    "INSERT INTO screening.idempotency (key, method, request_hash)"
                                    " VALUES ($1, $2, '\\x00')", 2, row), 0);
    assert_int_equal (s_int (screening, "SELECT count(*) FROM screening.idempotency"), 1);

    assert_int_equal (meso_db_exec (screening,
                                    "INSERT INTO billing.idempotency (key, method, request_hash)"
                                    " VALUES ($1, $2, '\\x00')", 2, row), -1);
    assert_string_equal (meso_db_error (screening)->sqlstate, "42501");
    assert_int_equal (meso_db_status (screening), MESO_PERMISSION_DENIED);
    assert_null (meso_db_query (screening, "SELECT * FROM billing.idempotency", 0, NULL));
    assert_string_equal (meso_db_error (screening)->sqlstate, "42501");

    /* Every service may announce events of its streams, but not read the
     * outbox. The payload is a packed Event (type screening.assessed, an
     * empty member 40 of screening's block, migration 025); bytes that are
     * not one are refused. */
    const char *ev[] = { "screening", "screening.assessed", "clinic-1" };
    assert_int_equal (meso_db_exec (screening,
                                    "INSERT INTO events.outbox (stream, type, clinic_id, payload)"
                                    " VALUES ($1, $2, $3, '\\x121273637265656e696e672e6173736573736564c20200')", 3, ev), 0);
    assert_int_equal (meso_db_exec (screening,
                                    "INSERT INTO events.outbox (stream, type, clinic_id, payload)"
                                    " VALUES ($1, $2, $3, '\\x0102')", 3, ev), -1);
    assert_string_equal (meso_db_error (screening)->sqlstate, "22P03");
    assert_null (meso_db_query (screening, "SELECT * FROM events.outbox", 0, NULL));
    assert_string_equal (meso_db_error (screening)->sqlstate, "42501");
    /* A topic outside its stream is refused by the schema. */
    const char *wrong[] = { "screening", "session.booked", "clinic-1" };
    assert_int_equal (meso_db_exec (screening,
                                    "INSERT INTO events.outbox (stream, type, clinic_id, payload)"
                                    " VALUES ($1, $2, $3, '\\x')", 3, wrong), -1);
    assert_string_equal (meso_db_error (screening)->sqlstate, "23514");
    meso_db_destroy (&screening);

    /* The events role reads and drains the outbox; the row carries the
     * writer's transaction id. */
    mt_role_conninfo ("mt_mig_roles", "meso_events", role_info, sizeof role_info);
    meso_db_t *events = meso_db_new (role_info);
    assert_int_equal (s_int (events, "SELECT count(*) FROM events.outbox"
                             " WHERE type = 'screening.assessed' AND xid IS NOT NULL"
                             " AND payload = '\\x121273637265656e696e672e6173736573736564c20200'"), 1);
    assert_int_equal (meso_db_exec (events, "DELETE FROM events.outbox", 0, NULL), 0);
    assert_int_equal (meso_db_exec (events, "INSERT INTO screening.idempotency (key, method,"
                                    " request_hash) VALUES ('x', 'y', '\\x00')", 0, NULL), -1);
    assert_string_equal (meso_db_error (events)->sqlstate, "42501");
    meso_db_destroy (&events);
}

/* mesoctl migrate with MESO_INVENTORY_DB_PASSWORD, on a private cluster
 * (its pg_hba and settings are changed, which the run's shared cluster
 * must not see) that logs every DDL statement and asks meso_inventory for
 * its password over TCP: the role stores a SCRAM-SHA-256 verifier, logs in
 * with the password (and not with another), and the password appears
 * nowhere in the server log. */
static char s_pw_dir[600];
static char s_pw_port[16];

/* A failed assertion leaves no cluster behind. */
static void
s_pw_cleanup (void)
{
    if (s_pw_dir[0])
        mt_sh ("%s/deploy/local/pg.sh stop %s %s >/dev/null 2>&1; rm -rf %s", mt_source_dir (),
               s_pw_dir, s_pw_port, s_pw_dir);
}

static void
test_password_sent_as_scram_verifier (void **state)
{
    (void) state;
    char *dir = s_pw_dir, *port = s_pw_port, admin[800], conninfo[800];
    atexit (s_pw_cleanup);
    snprintf (dir, sizeof s_pw_dir, "%s/pgpw-%d", mt_build_dir (), (int) getpid ());
    snprintf (port, sizeof s_pw_port, "%d", mt_free_port ());
    assert_int_equal (mt_sh ("MESO_PG_FAST=1 %s/deploy/local/pg.sh start %s %s >/dev/null",
                             mt_source_dir (), dir, port), 0);
    assert_int_equal (mt_sh ("sed -i '1i host all meso_inventory 127.0.0.1/32 scram-sha-256'"
                             " %s/data/pg_hba.conf", dir), 0);
    snprintf (admin, sizeof admin, "host=%s/run port=%s user=meso dbname=postgres", dir, port);
    meso_db_t *db = meso_db_new (admin);
    assert_true (meso_db_ok (db));
    assert_int_equal (meso_db_exec (db, "ALTER SYSTEM SET log_statement = 'ddl'", 0, NULL), 0);
    assert_int_equal (meso_db_exec (db, "SELECT pg_reload_conf ()", 0, NULL), 0);
    assert_int_equal (meso_db_exec (db, "CREATE DATABASE mt_pw", 0, NULL), 0);

    const char *password = "Pw-7f3a9c1e-never-in-the-log";
    assert_int_equal (mt_sh ("MESO_INVENTORY_DB_PASSWORD='%s' %s/bin/mesoctl migrate"
                             " --db 'host=%s/run port=%s user=meso dbname=mt_pw' --dir %s >/dev/null",
                             password, mt_build_dir (), dir, port, s_sqldir), 0);
    PGresult *res = meso_db_query (db, "SELECT rolpassword FROM pg_authid"
                                       " WHERE rolname = 'meso_inventory'", 0, NULL);
    assert_non_null (res);
    assert_int_equal (strncmp (PQgetvalue (res, 0, 0), "SCRAM-SHA-256$", 14), 0);
    PQclear (res);

    /* Logs in with the password, over TCP where scram-sha-256 is asked. */
    snprintf (conninfo, sizeof conninfo, "host=127.0.0.1 port=%s user=meso_inventory dbname=mt_pw"
              " password=%s", port, password);
    PGconn *conn = PQconnectdb (conninfo);
    assert_int_equal (PQstatus (conn), CONNECTION_OK);
    PQfinish (conn);
    snprintf (conninfo, sizeof conninfo, "host=127.0.0.1 port=%s user=meso_inventory dbname=mt_pw"
              " password=wrong", port);
    conn = PQconnectdb (conninfo);
    assert_int_equal (PQstatus (conn), CONNECTION_BAD);
    PQfinish (conn);

    /* DDL was logged (the ALTER ROLE with its verifier), the password never. */
    assert_int_equal (mt_sh ("grep -q 'ALTER ROLE' %s/pg.log", dir), 0);
    assert_int_equal (mt_sh ("grep -q -F -- '%s' %s/pg.log", password, dir), 1);
    meso_db_destroy (&db);
    s_pw_cleanup ();
    s_pw_dir[0] = '\0';
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_fresh_then_nothing),
        cmocka_unit_test (test_concurrent_migrators),
        cmocka_unit_test (test_edited_stray_and_failing_files),
        cmocka_unit_test (test_roles_stay_in_their_schema),
        cmocka_unit_test (test_password_sent_as_scram_verifier),
    };
    return cmocka_run_group_tests (tests, s_group_setup, NULL);
}
