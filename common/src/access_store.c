/* access_store.c -- keeps the in-memory principals table (access.c) equal
 * to access.principal.
 *
 * Why it is built this way:
 * - A thread of its own with its own connection: it LISTENs on
 *   meso_access and reloads the whole table on every notification (the
 *   table is small: people, integrations and services of one chain), so a
 *   revocation reaches the daemon within the time of one notification and
 *   one SELECT, whatever the daemon's loop is doing.
 * - A lost connection is retried every RETRY_MS; after reconnecting it
 *   reloads at once (notifications sent while it was away are lost, the
 *   reload makes up for them). As a last resort it also reloads every
 *   REFRESH_MS. While the database is away the last table is kept: keys
 *   known before stay known, and no new key can be added meanwhile anyway.
 * - Until the first load every key is unknown: a daemon that cannot read
 *   its principals refuses everyone rather than admit anyone. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "meso/access.h"
#include "meso/log.h"

#define RETRY_MS 1000
#define REFRESH_MS 60000
#define POLL_MS 250

static pthread_t s_thread;
static bool s_started;
static atomic_int s_stop;
static char *s_conninfo;

static const char *SQL_LOAD =
    "SELECT public_key, name, kind, array_to_string (roles, ','),"
    "       clinics IS NULL, coalesce (array_to_string (clinics, ','), ''),"
    "       streams IS NULL, coalesce (array_to_string (streams, ','), ''),"
    "       health, revoked_at IS NOT NULL"
    "  FROM access.principal";

/* Splits "a,b,c" into at most cap items (in place). */
static size_t
s_split (char *list, const char **items, size_t cap)
{
    size_t n = 0;
    char *save = NULL;
    for (char *t = strtok_r (list, ",", &save); t && n < cap; t = strtok_r (NULL, ",", &save))
        items [n++] = t;
    return n;
}

/* Reads the table; returns 0 (the table replaced) or -1. */
static int
s_load (PGconn *conn)
{
    PGresult *res = PQexec (conn, SQL_LOAD);
    if (PQresultStatus (res) != PGRES_TUPLES_OK) {
        meso_warn ("access: cannot read access.principal: %s", PQerrorMessage (conn));
        PQclear (res);
        return -1;
    }
    int rows = PQntuples (res);
    meso_principal_t **list = calloc (rows ? (size_t) rows : 1, sizeof *list);
    if (!list) {
        PQclear (res);
        return -1;
    }
    size_t n = 0;
    for (int r = 0; r < rows; r++) {
        unsigned roles = 0;
        char *roles_text = strdup (PQgetvalue (res, r, 3));
        char *clinics_text = strdup (PQgetvalue (res, r, 5));
        char *streams_text = strdup (PQgetvalue (res, r, 7));
        const char *role_items [MESO_ROLE_COUNT];
        static const char *clinic_items [1000];
        const char *stream_items [8];
        if (roles_text && clinics_text && streams_text) {
            size_t nr = s_split (roles_text, role_items, MESO_ROLE_COUNT);
            for (size_t i = 0; i < nr; i++)
                roles |= meso_role_parse (role_items [i]);
            bool all_clinics = *PQgetvalue (res, r, 4) == 't';
            bool all_streams = *PQgetvalue (res, r, 6) == 't';
            size_t nc = all_clinics ? 0 : s_split (clinics_text, clinic_items, 1000);
            size_t ns = all_streams ? 0 : s_split (streams_text, stream_items, 8);
            int kind = meso_principal_kind_parse (PQgetvalue (res, r, 2));
            meso_principal_t *p = meso_principal_new (
                PQgetvalue (res, r, 0), PQgetvalue (res, r, 1),
                kind < 0 ? MESO_PRINCIPAL_PERSON : (meso_principal_kind_t) kind, roles,
                all_clinics ? NULL : clinic_items, nc, all_streams ? NULL : stream_items, ns,
                *PQgetvalue (res, r, 8) == 't', *PQgetvalue (res, r, 9) == 't');
            if (p)
                list [n++] = p;
        }
        free (roles_text);
        free (clinics_text);
        free (streams_text);
    }
    PQclear (res);
    meso_access_replace (list, n);
    free (list);
    meso_info ("access: %zu principals loaded", n);
    return 0;
}

static int64_t
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
s_sleep_ms (int ms)
{
    struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000L };
    while (nanosleep (&ts, &ts) < 0 && errno == EINTR)
        ;
}

static PGconn *
s_connect (void)
{
    const char *keys [] = { "connect_timeout", "dbname", "application_name", NULL };
    const char *vals [] = { "5", s_conninfo, "meso-access", NULL };
    PGconn *conn = PQconnectdbParams (keys, vals, 1);
    if (PQstatus (conn) != CONNECTION_OK) {
        PQfinish (conn);
        return NULL;
    }
    PGresult *res = PQexec (conn, "LISTEN meso_access");
    bool ok = PQresultStatus (res) == PGRES_COMMAND_OK;
    PQclear (res);
    if (!ok || s_load (conn) != 0) {
        PQfinish (conn);
        return NULL;
    }
    return conn;
}

static void *
s_run (void *arg)
{
    (void) arg;
    PGconn *conn = NULL;
    int64_t refresh_at = 0;
    bool warned = false;
    while (!atomic_load (&s_stop)) {
        if (!conn) {
            conn = s_connect ();
            if (!conn) {
                if (!warned)
                    meso_warn ("access: cannot load the principals yet (retrying every %d ms)",
                               RETRY_MS);
                warned = true;
                s_sleep_ms (RETRY_MS);
                continue;
            }
            warned = false;
            refresh_at = s_now_ms () + REFRESH_MS;
        }
        struct pollfd pfd = { PQsocket (conn), POLLIN, 0 };
        int rc = poll (&pfd, 1, POLL_MS);
        bool reload = false;
        if (rc > 0) {
            if (!PQconsumeInput (conn)) {
                meso_warn ("access: lost the database: %s", PQerrorMessage (conn));
                PQfinish (conn);
                conn = NULL;
                continue;
            }
            PGnotify *note;
            while ((note = PQnotifies (conn))) {
                reload = true;
                PQfreemem (note);
            }
        }
        if (s_now_ms () >= refresh_at)
            reload = true;
        if (reload) {
            if (s_load (conn) != 0 && PQstatus (conn) != CONNECTION_OK) {
                PQfinish (conn);
                conn = NULL;
                continue;
            }
            refresh_at = s_now_ms () + REFRESH_MS;
        }
    }
    PQfinish (conn);
    return NULL;
}

int
meso_access_start (const char *conninfo)
{
    if (s_started)
        return 0;
    s_conninfo = strdup (conninfo ? conninfo : "");
    if (!s_conninfo)
        return -1;
    atomic_store (&s_stop, 0);
    if (pthread_create (&s_thread, NULL, s_run, NULL) != 0) {
        free (s_conninfo);
        s_conninfo = NULL;
        return -1;
    }
    s_started = true;
    return 0;
}

void
meso_access_stop (void)
{
    if (s_started) {
        atomic_store (&s_stop, 1);
        pthread_join (s_thread, NULL);
        s_started = false;
        free (s_conninfo);
        s_conninfo = NULL;
    }
    meso_access_clear ();
}
