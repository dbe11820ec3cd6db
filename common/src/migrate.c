/* migrate.c -- applying deploy/sql migrations (see migrate.h).
 *
 * A run:
 *   1. lists the folder: every *.sql file must be named NNN_name.sql (three
 *      or more digits, then [a-z0-9_]); a stray .sql file is an error rather
 *      than silently skipped, because a migration that is never applied is
 *      worse than one that stops the deploy. Other files (README...) are
 *      ignored. Two files with the same number are an error.
 *   2. takes a session advisory lock (MESO_MIGRATE_LOCK_KEY), so migrators
 *      started at once -- several replicas of a deploy, parallel tests --
 *      run one after the other; the second finds everything applied.
 *   3. creates public.schema_migrations if needed (under the lock: two
 *      concurrent CREATE TABLE IF NOT EXISTS can still collide).
 *   4. checks every applied file still has its recorded sha256 (migrations
 *      are never edited: a changed file is an error naming it), then applies
 *      the pending ones in numeric order, each in its own transaction with
 *      its schema_migrations row: a failure leaves the database at the last
 *      good migration, and the next run resumes there.
 *
 * A migration file is run with PQexec, the only place in libmeso where SQL
 * is not parameterised: a file holds many statements and $$-quoted DO
 * blocks, which only the simple query protocol accepts, and its content is
 * trusted (it is part of the release, reviewed like code), never user
 * input. Because the file runs inside our transaction it must not contain
 * BEGIN/COMMIT or statements that refuse to run in a transaction block
 * (CREATE INDEX CONCURRENTLY, CREATE DATABASE).
 *
 * The sha256 of a file is computed by PostgreSQL (sha256(bytea), sent as a
 * binary parameter), which saves libmeso a hash implementation. */
#include "meso/migrate.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_private.h"

/* pg_advisory_lock key of the migration run: 'meso' 'migr' in ASCII. Other
 * advisory locks of meso (the events writer...) use other keys. */
#define MESO_MIGRATE_LOCK_KEY "7882834338069407602"

typedef struct {
    int version;
    char *name;                 /* file name, "001_foundation.sql" */
    char *path;
    char *content;              /* NUL-terminated */
    size_t size;
    char sha256[65];
    bool applied;               /* found in schema_migrations */
} s_file_t;

typedef struct {
    s_file_t *files;
    size_t count;
} s_list_t;

static void
s_list_free (s_list_t *list)
{
    for (size_t i = 0; i < list->count; i++) {
        free (list->files[i].name);
        free (list->files[i].path);
        free (list->files[i].content);
    }
    free (list->files);
    list->files = NULL;
    list->count = 0;
}

static bool
s_ends_with (const char *s, const char *suffix)
{
    size_t n = strlen (s), m = strlen (suffix);
    return n >= m && strcmp (s + n - m, suffix) == 0;
}

/* ^[0-9]{3,}_[a-z0-9_]+\.sql$ ; sets *version. */
static bool
s_valid_name (const char *name, int *version)
{
    const char *p = name;
    long v = 0;
    int digits = 0;
    while (*p >= '0' && *p <= '9') {
        v = v * 10 + (*p - '0');
        if (v > INT_MAX)
            return false;
        p++;
        digits++;
    }
    if (digits < 3 || *p != '_')
        return false;
    p++;
    const char *start = p;
    while ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')
        p++;
    if (p == start || strcmp (p, ".sql") != 0)
        return false;
    *version = (int) v;
    return true;
}

static int
s_by_version (const void *a, const void *b)
{
    const s_file_t *x = a, *y = b;
    return (x->version > y->version) - (x->version < y->version);
}

static int
s_read_file (meso_db_t *db, s_file_t *f)
{
    FILE *fp = fopen (f->path, "rb");
    if (!fp) {
        meso_db_set_error (db, NULL, "cannot open migration %s: %s", f->path, strerror (errno));
        return -1;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc (cap);
    while (buf) {
        if (len + 1 >= cap) {
            char *bigger = realloc (buf, cap * 2);
            if (!bigger) {
                free (buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t n = fread (buf + len, 1, cap - len - 1, fp);
        len += n;
        if (n == 0)
            break;
    }
    bool failed = ferror (fp);
    fclose (fp);
    if (!buf || failed) {
        free (buf);
        meso_db_set_error (db, NULL, "cannot read migration %s", f->path);
        return -1;
    }
    buf[len] = '\0';
    if (memchr (buf, '\0', len)) {
        free (buf);
        meso_db_set_error (db, NULL, "migration %s contains a NUL byte", f->name);
        return -1;
    }
    f->content = buf;
    f->size = len;
    return 0;
}

/* Lists, validates and reads the folder's migrations, sorted by version. */
static int
s_list_dir (meso_db_t *db, const char *dir, s_list_t *list)
{
    DIR *d = opendir (dir);
    if (!d) {
        meso_db_set_error (db, NULL, "cannot open migrations folder %s: %s", dir, strerror (errno));
        return -1;
    }
    size_t cap = 0;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir (d)) != NULL) {
        if (!s_ends_with (e->d_name, ".sql"))
            continue;
        int version;
        if (!s_valid_name (e->d_name, &version)) {
            meso_db_set_error (db, NULL,
                               "stray file %s in %s: migrations are named NNN_name.sql "
                               "(three or more digits, then lower-case letters, digits, _)",
                               e->d_name, dir);
            rc = -1;
            break;
        }
        if (list->count == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            s_file_t *bigger = realloc (list->files, ncap * sizeof *bigger);
            if (!bigger) {
                meso_db_set_error (db, NULL, "out of memory listing %s", dir);
                rc = -1;
                break;
            }
            list->files = bigger;
            cap = ncap;
        }
        s_file_t *f = &list->files[list->count];
        memset (f, 0, sizeof *f);
        f->version = version;
        f->name = strdup (e->d_name);
        if (f->name && asprintf (&f->path, "%s/%s", dir, e->d_name) < 0)
            f->path = NULL;
        list->count++;
        if (!f->name || !f->path) {
            meso_db_set_error (db, NULL, "out of memory listing %s", dir);
            rc = -1;
            break;
        }
    }
    closedir (d);
    if (rc != 0)
        return -1;
    if (list->count > 0)
        qsort (list->files, list->count, sizeof *list->files, s_by_version);
    for (size_t i = 1; i < list->count; i++)
        if (list->files[i].version == list->files[i - 1].version) {
            meso_db_set_error (db, NULL, "migrations %s and %s have the same number %d",
                               list->files[i - 1].name, list->files[i].name,
                               list->files[i].version);
            return -1;
        }
    for (size_t i = 0; i < list->count; i++)
        if (s_read_file (db, &list->files[i]) != 0)
            return -1;
    return 0;
}

static int
s_sha256 (meso_db_t *db, s_file_t *f)
{
    const char *values[] = { f->content };
    int lengths[] = { (int) f->size };
    int formats[] = { 1 };
    if (f->size > INT_MAX) {
        meso_db_set_error (db, NULL, "migration %s is too large", f->name);
        return -1;
    }
    PGresult *res = meso_db_query_bin (db, "SELECT encode(sha256($1::bytea), 'hex')", 1,
                                       values, lengths, formats);
    if (!res)
        return -1;
    snprintf (f->sha256, sizeof f->sha256, "%s", PQgetvalue (res, 0, 0));
    PQclear (res);
    return 0;
}

/* The transaction of one migration: the file, then its row. */
static int
s_apply_fn (meso_db_t *db, void *arg)
{
    const s_file_t *f = arg;
    PGresult *res = PQexec (meso_db_conn (db), f->content);
    ExecStatusType st = res ? PQresultStatus (res) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
        char prefix[320];
        snprintf (prefix, sizeof prefix, "migration %s failed", f->name);
        meso_db_set_error_result (db, res, prefix);
        PQclear (res);
        return -1;
    }
    PQclear (res);
    char version[16];
    snprintf (version, sizeof version, "%d", f->version);
    const char *params[] = { version, f->name, f->sha256 };
    return meso_db_exec (db,
                         "INSERT INTO public.schema_migrations (version, name, sha256, applied_at)"
                         " VALUES ($1, $2, $3, now())",
                         3, params);
}

/* Everything under the lock. */
static int
s_run (meso_db_t *db, s_list_t *list, int *applied)
{
    if (meso_db_exec (db,
                      "CREATE TABLE IF NOT EXISTS public.schema_migrations ("
                      " version int PRIMARY KEY,"
                      " name text NOT NULL,"
                      " sha256 text NOT NULL,"
                      " applied_at timestamptz NOT NULL DEFAULT now())",
                      0, NULL) != 0)
        return -1;
    PGresult *res = meso_db_query (db,
                                   "SELECT version, name, sha256 FROM public.schema_migrations"
                                   " ORDER BY version", 0, NULL);
    if (!res)
        return -1;
    int rows = PQntuples (res);
    int rc = 0;
    for (size_t i = 0; i < list->count && rc == 0; i++) {
        s_file_t *f = &list->files[i];
        if (s_sha256 (db, f) != 0) {
            rc = -1;
            break;
        }
        for (int r = 0; r < rows; r++) {
            if (atoi (PQgetvalue (res, r, 0)) != f->version)
                continue;
            const char *name = PQgetvalue (res, r, 1);
            const char *sha = PQgetvalue (res, r, 2);
            if (strcmp (name, f->name) != 0) {
                meso_db_set_error (db, NULL,
                                   "migration %d was applied as %s but the folder has %s: "
                                   "migrations are never renamed", f->version, name, f->name);
                rc = -1;
            }
            else if (strcmp (sha, f->sha256) != 0) {
                meso_db_set_error (db, NULL,
                                   "migration %s was changed after it was applied "
                                   "(sha256 now %.12s..., applied %.12s...): "
                                   "never edit an applied migration, add a new one",
                                   f->name, f->sha256, sha);
                rc = -1;
            }
            f->applied = true;
            break;
        }
    }
    PQclear (res);
    for (size_t i = 0; i < list->count && rc == 0; i++) {
        s_file_t *f = &list->files[i];
        if (f->applied)
            continue;
        if (meso_db_txn (db, MESO_DB_READ_COMMITTED, s_apply_fn, f) != 0) {
            rc = -1;
            break;
        }
        if (applied)
            (*applied)++;
    }
    return rc;
}

int
meso_migrate (meso_db_t *db, const char *dir, int *applied)
{
    assert (db);
    assert (dir);
    if (applied)
        *applied = 0;
    s_list_t list = { NULL, 0 };
    if (s_list_dir (db, dir, &list) != 0) {
        s_list_free (&list);
        return -1;
    }
    if (meso_db_exec (db, "SELECT pg_advisory_lock(" MESO_MIGRATE_LOCK_KEY ")", 0, NULL) != 0) {
        s_list_free (&list);
        return -1;
    }
    int rc = s_run (db, &list, applied);
    /* Unlock with a raw call, which leaves the run's error as it is. When
     * the connection is gone the lock went with it. */
    if (meso_db_ok (db)) {
        PGresult *res = PQexecParams (meso_db_conn (db),
                                      "SELECT pg_advisory_unlock(" MESO_MIGRATE_LOCK_KEY ")",
                                      0, NULL, NULL, NULL, NULL, 0);
        PQclear (res);
    }
    s_list_free (&list);
    return rc;
}

int
meso_migrate_version (meso_db_t *db)
{
    assert (db);
    PGresult *res = meso_db_query (db, "SELECT to_regclass('public.schema_migrations') IS NOT NULL",
                                   0, NULL);
    if (!res)
        return -1;
    bool exists = strcmp (PQgetvalue (res, 0, 0), "t") == 0;
    PQclear (res);
    if (!exists)
        return 0;
    res = meso_db_query (db, "SELECT coalesce(max(version), 0) FROM public.schema_migrations",
                         0, NULL);
    if (!res)
        return -1;
    int v = atoi (PQgetvalue (res, 0, 0));
    PQclear (res);
    return v;
}

/* ----------------------------------------------------------- passwords */

/* ALTER ROLE ... PASSWORD 'plaintext' would put the password into the
 * server log (log_statement = ddl or all) and pg_stat_activity: the
 * SCRAM-SHA-256 verifier is computed here by libpq, and only the verifier
 * is sent, which the server stores as it is. ALTER ROLE takes no bind
 * parameters, so the role and the verifier are quoted by libpq. */
int
meso_migrate_set_password (meso_db_t *db, const char *role, const char *password)
{
    assert (db && role && password);
    if (meso_db_ensure (db) != 0)
        return -1;
    PGconn *conn = meso_db_conn (db);
    char *verifier = PQencryptPasswordConn (conn, password, role, "scram-sha-256");
    if (!verifier) {
        meso_db_set_error (db, "XX000", "cannot compute the SCRAM verifier of role %s: %s",
                           role, PQerrorMessage (conn));
        return -1;
    }
    char *ident = PQescapeIdentifier (conn, role, strlen (role));
    char *literal = PQescapeLiteral (conn, verifier, strlen (verifier));
    PQfreemem (verifier);
    char *sql = NULL;
    int rc = -1;
    if (!ident || !literal || asprintf (&sql, "ALTER ROLE %s PASSWORD %s", ident, literal) < 0) {
        sql = NULL;
        meso_db_set_error (db, "53200", "out of memory setting the password of role %s", role);
    }
    else
        rc = meso_db_exec (db, sql, 0, NULL);
    free (sql);
    PQfreemem (ident);
    PQfreemem (literal);
    return rc;
}
