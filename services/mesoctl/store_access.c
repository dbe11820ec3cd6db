/* store_access.c -- the SQL of "mesoctl access" (see store_access.h).
 *
 * The migration role runs these statements directly, never a daemon:
 * access.principal is the daemons' source of trust and none of them may
 * write it. The name and the key are looked up before an insert so that
 * a duplicate is reported by whom it clashes with; the UNIQUE and PRIMARY
 * KEY constraints still decide when two operators race. */
#include <stdio.h>
#include <string.h>

#include "store_access.h"

#define TS(col) "to_char (" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')"

/* Who holds name or key already: 1 with err set, 0 none, -1 database. */
static int
s_taken (meso_db_t *db, const mesoctl_principal_in_t *p, char *err, size_t errsize)
{
    const char *params[] = { p->name, p->key };
    PGresult *r = meso_db_query (db,
        "SELECT name, public_key = $2, name = $1, revoked_at IS NOT NULL FROM access.principal"
        " WHERE name = $1 OR public_key = $2 ORDER BY name = $1 DESC LIMIT 1", 2, params);
    if (!r)
        return -1;
    int rc = 0;
    if (PQntuples (r) == 1) {
        const char *who = PQgetvalue (r, 0, 0);
        bool revoked = PQgetvalue (r, 0, 3)[0] == 't';
        if (PQgetvalue (r, 0, 2)[0] == 't')
            snprintf (err, errsize, "ALREADY_EXISTS: a principal named \"%s\" already exists%s "
                      "(see mesoctl access show --name %s)", who, revoked ? " (revoked: names are "
                      "never reused, so events and logs stay unambiguous)" : "", who);
        else
            snprintf (err, errsize, "ALREADY_EXISTS: this public key is already registered, as \"%s\"%s",
                      who, revoked ? " (revoked)" : "");
        rc = 1;
    }
    PQclear (r);
    return rc;
}

int
mesoctl_store_principal_add (meso_db_t *db, const mesoctl_principal_in_t *p, char *err,
                             size_t errsize)
{
    int taken = s_taken (db, p, err, errsize);
    if (taken != 0)
        return taken;
    const char *params[] = { p->key, p->name, p->kind, p->roles, p->clinics, p->streams,
                             p->health ? "true" : "false" };
    if (meso_db_exec (db,
            "INSERT INTO access.principal (public_key, name, kind, roles, clinics, streams, health)"
            " VALUES ($1, $2, $3, $4::text[], $5::text[], $6::text[], $7::boolean)", 7, params) != 0) {
        if (strcmp (meso_db_error (db)->sqlstate, "23505") == 0) {
            snprintf (err, errsize, "ALREADY_EXISTS: the name or the key was registered a moment "
                      "ago by someone else");
            return 1;
        }
        return -1;
    }
    return 0;
}

PGresult *
mesoctl_store_principals (meso_db_t *db, const char *name)
{
    const char *params[] = { name };
    return meso_db_query (db,
        "SELECT name, kind, array_to_string (roles, ','), array_to_string (clinics, ','),"
        " array_to_string (streams, ','), health, " TS ("created_at") ", " TS ("revoked_at") ","
        " public_key FROM access.principal WHERE $1::text IS NULL OR name = $1 ORDER BY name",
        1, params);
}

int
mesoctl_store_principal_revoke (meso_db_t *db, const char *name, char *when, size_t whensize)
{
    const char *params[] = { name };
    PGresult *r = meso_db_query (db,
        "WITH target AS (SELECT name, revoked_at FROM access.principal WHERE name = $1 FOR UPDATE),"
        " done AS (UPDATE access.principal p SET revoked_at = now () FROM target t"
        "          WHERE p.name = t.name AND t.revoked_at IS NULL RETURNING p.revoked_at)"
        " SELECT (SELECT " TS ("revoked_at") " FROM done), (SELECT " TS ("revoked_at") " FROM target),"
        " EXISTS (SELECT 1 FROM target)", 1, params);
    if (!r)
        return -1;
    int rc;
    if (!PQgetisnull (r, 0, 0)) {
        snprintf (when, whensize, "%s", PQgetvalue (r, 0, 0));
        rc = 0;
    }
    else if (PQgetvalue (r, 0, 2)[0] != 't')
        rc = 1;
    else {
        snprintf (when, whensize, "%s", PQgetvalue (r, 0, 1));
        rc = 2;
    }
    PQclear (r);
    return rc;
}

typedef struct {
    const mesoctl_principal_in_t *p;
    size_t n;
    mesoctl_boot_t *outcome;
} s_boot_t;

static int
s_boot_one (meso_db_t *db, const mesoctl_principal_in_t *p, mesoctl_boot_t *outcome)
{
    const char *params[] = { p->name, p->key };
    PGresult *r = meso_db_query (db,
        "SELECT (SELECT public_key FROM access.principal WHERE name = $1 FOR UPDATE),"
        " (SELECT revoked_at IS NOT NULL FROM access.principal WHERE name = $1),"
        " (SELECT name FROM access.principal WHERE public_key = $2)", 2, params);
    if (!r)
        return -1;
    bool named = !PQgetisnull (r, 0, 0);
    bool same_key = named && strcmp (PQgetvalue (r, 0, 0), p->key) == 0;
    bool revoked = named && PQgetvalue (r, 0, 1)[0] == 't';
    bool key_elsewhere = !PQgetisnull (r, 0, 2) && strcmp (PQgetvalue (r, 0, 2), p->name) != 0;
    PQclear (r);
    if (same_key) {
        *outcome = revoked ? MESOCTL_BOOT_REVOKED : MESOCTL_BOOT_KEPT;
        return 0;
    }
    if (revoked || key_elsewhere) {
        *outcome = revoked ? MESOCTL_BOOT_REVOKED : MESOCTL_BOOT_CONFLICT;
        return 0;
    }
    if (named) {
        /* A daemon or operator whose key files were made again (a lost
         * keys folder or volume): its new key replaces the old one, if
         * it is still of the kind bootstrap registers. */
        const char *upd[] = { p->key, p->name, p->kind };
        PGresult *u = meso_db_query (db, "UPDATE access.principal SET public_key = $1"
                                         " WHERE name = $2 AND kind = $3 RETURNING 1", 3, upd);
        if (!u)
            return -1;
        *outcome = PQntuples (u) == 1 ? MESOCTL_BOOT_REKEYED : MESOCTL_BOOT_CONFLICT;
        PQclear (u);
        return 0;
    }
    const char *ins[] = { p->key, p->name, p->kind, p->roles, p->clinics, p->streams,
                          p->health ? "true" : "false" };
    if (meso_db_exec (db,
            "INSERT INTO access.principal (public_key, name, kind, roles, clinics, streams, health)"
            " VALUES ($1, $2, $3, $4::text[], $5::text[], $6::text[], $7::boolean)", 7, ins) != 0)
        return -1;
    *outcome = MESOCTL_BOOT_ADDED;
    return 0;
}

static int
s_boot_txn (meso_db_t *db, void *arg)
{
    s_boot_t *b = arg;
    for (size_t i = 0; i < b->n; i++)
        if (s_boot_one (db, &b->p[i], &b->outcome[i]) != 0)
            return -1;
    return 0;
}

int
mesoctl_store_bootstrap (meso_db_t *db, const mesoctl_principal_in_t *p, size_t n,
                         mesoctl_boot_t *outcome)
{
    s_boot_t b = { p, n, outcome };
    return meso_db_txn (db, MESO_DB_READ_COMMITTED, s_boot_txn, &b);
}
