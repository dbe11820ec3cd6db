/* harness.c -- support for integration and fault tests (see harness.h).
 *
 * The cluster is the run's throwaway one (deploy/local/pg.sh, started by the
 * ctest fixture "pg"); ctest passes where it is in MESO_TEST_PGHOST and
 * MESO_TEST_PGPORT (a test may point them elsewhere: the failover test sets
 * a multi-host list and MESO_TEST_PGOPTIONS). Each test makes its own database, migrated exactly as
 * production is (meso_migrate on deploy/sql), so tests run in parallel
 * without seeing each other's rows.
 *
 * Children: every process mt_spawn starts is recorded and SIGKILLed by an
 * atexit handler if still running, so a failed assertion does not leave
 * daemons behind. A test killed outright (ASan abort, ctest timeout) runs
 * no atexit handler, so children also ask the kernel for SIGKILL when their
 * parent dies (PR_SET_PDEATHSIG). That signal fires when the *thread* that
 * forked exits: spawn from the main thread (or one that outlives the
 * child). Each child's stdout and stderr go to
 * <build>/test-logs/<name>-<pid>.log, which ctest --output-on-failure does
 * not show but a person debugging a failure wants.
 *
 * Sanitizer reports of children: a daemon's report goes to its log, not to
 * the test, and a daemon that halts on it may only show as a timeout, or
 * not at all when the test had finished with it. So the atexit handler,
 * after killing what is left, reads the log of every child this process
 * started and, when one holds a ThreadSanitizer report, prints where and
 * ends the test with status 66 (TSan's own exit code), whatever the tests
 * said. The children inherit TSAN_OPTIONS (halt_on_error=1 in
 * tests/run.sh --tsan) with the rest of the environment.
 *
 * ipc:// endpoints live in one mkdtemp folder per test process under /tmp:
 * socket paths are limited to ~107 bytes, too short for a build folder
 * path. The folder is removed at exit. */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "meso/bus.h"
#include "meso/db.h"
#include "meso/enumtext.h"
#include "meso/migrate.h"

extern char **environ;

#define MAX_CHILDREN 256

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t s_children[MAX_CHILDREN];
static int s_nchildren;
static bool s_atexit_done;
static char *s_logs[MAX_CHILDREN * 4];     /* every child's log, for s_check_logs */
static int s_nlogs;
static char s_ipc_dir[64];
static unsigned s_ipc_seq;

/* ------------------------------------------------------------ folders */

const char *
mt_source_dir (void)
{
    const char *s = getenv ("MESO_SOURCE_DIR");
    return s && *s ? s : ".";
}

const char *
mt_build_dir (void)
{
    const char *s = getenv ("MESO_BUILD_DIR");
    return s && *s ? s : ".";
}

static const char *
s_pghost (void)
{
    const char *s = getenv ("MESO_TEST_PGHOST");
    return s && *s ? s : "/tmp";
}

static const char *
s_pgport (void)
{
    const char *s = getenv ("MESO_TEST_PGPORT");
    return s && *s ? s : "5432";
}

/* ------------------------------------------------------------ databases */

void
mt_admin_conninfo (const char *dbname, char *out, size_t size)
{
    mt_role_conninfo (dbname, "meso", out, size);
}

void
mt_role_conninfo (const char *name, const char *role, char *out, size_t size)
{
    /* MESO_TEST_PGOPTIONS: more conninfo keywords, e.g. the failover
     * test's target_session_attrs=read-write with a multi-host cluster. */
    const char *extra = getenv ("MESO_TEST_PGOPTIONS");
    snprintf (out, size, "host=%s port=%s user=%s dbname=%s application_name=meso-test%s%s",
              s_pghost (), s_pgport (), role, name, extra && *extra ? " " : "", extra ? extra : "");
}

int
mt_db_create (const char *name, char *out, size_t size)
{
    char admin[512];
    mt_admin_conninfo ("postgres", admin, sizeof admin);
    meso_db_t *db = meso_db_new (admin);
    if (!db || !meso_db_ok (db)) {
        fprintf (stderr, "mt_db_create: cannot connect to the test cluster (%s): %s\n"
                 "  is the ctest fixture pg_start running? (deploy/local/pg.sh)\n",
                 admin, db ? meso_db_error (db)->message : "out of memory");
        meso_db_destroy (&db);
        return -1;
    }
    /* A database name is an identifier: quoted, since it cannot be a
     * parameter. */
    char *quoted = PQescapeIdentifier (meso_db_conn (db), name, strlen (name));
    char sql[512];
    int rc = -1;
    if (quoted) {
        snprintf (sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", quoted);
        if (meso_db_exec (db, sql, 0, NULL) == 0) {
            snprintf (sql, sizeof sql, "CREATE DATABASE %s", quoted);
            rc = meso_db_exec (db, sql, 0, NULL);
        }
        if (rc != 0)
            fprintf (stderr, "mt_db_create: %s: %s [%s]\n", sql,
                     meso_db_error (db)->message, meso_db_error (db)->sqlstate);
        PQfreemem (quoted);
    }
    meso_db_destroy (&db);
    if (rc != 0)
        return -1;

    mt_admin_conninfo (name, out, size);
    db = meso_db_new (out);
    char dir[PATH_MAX];
    snprintf (dir, sizeof dir, "%s/deploy/sql", mt_source_dir ());
    int applied = 0;
    rc = db ? meso_migrate (db, dir, &applied) : -1;
    if (rc != 0)
        fprintf (stderr, "mt_db_create: migrating %s from %s: %s [%s]\n", name, dir,
                 db ? meso_db_error (db)->message : "out of memory",
                 db ? meso_db_error (db)->sqlstate : "");
    meso_db_destroy (&db);
    if (rc == 0)
        rc = mt_principals_register (out);
    return rc;
}

/* ------------------------------------------------------------ endpoints */

static void
s_remove_ipc_dir (void)
{
    if (!s_ipc_dir[0])
        return;
    DIR *d = opendir (s_ipc_dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir (d)) != NULL) {
            if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0)
                continue;
            char path[PATH_MAX];
            snprintf (path, sizeof path, "%s/%s", s_ipc_dir, e->d_name);
            unlink (path);
        }
        closedir (d);
    }
    rmdir (s_ipc_dir);
}

static void s_atexit (void);

static void
s_register_atexit (void)
{
    /* called with s_lock held */
    if (!s_atexit_done) {
        atexit (s_atexit);
        s_atexit_done = true;
    }
}

void
mt_ipc_endpoint (const char *tag, char *out, size_t size)
{
    pthread_mutex_lock (&s_lock);
    if (!s_ipc_dir[0]) {
        snprintf (s_ipc_dir, sizeof s_ipc_dir, "/tmp/mt-XXXXXX");
        if (!mkdtemp (s_ipc_dir)) {
            fprintf (stderr, "mt_ipc_endpoint: mkdtemp: %s\n", strerror (errno));
            abort ();
        }
        s_register_atexit ();
    }
    unsigned n = ++s_ipc_seq;
    pthread_mutex_unlock (&s_lock);
    /* Keep the tag short: the whole path must fit in sun_path. */
    snprintf (out, size, "ipc://%s/%.24s-%u", s_ipc_dir, tag && *tag ? tag : "ep", n);
}

int
mt_free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in addr;
    memset (&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    int port = -1;
    if (bind (fd, (struct sockaddr *) &addr, sizeof addr) == 0
        && getsockname (fd, (struct sockaddr *) &addr, &len) == 0)
        port = ntohs (addr.sin_port);
    close (fd);
    return port;
}

/* ------------------------------------------------------------ processes */

/* Returns true when a child's log holds a sanitizer report (see the top). */
static bool
s_check_logs (void)
{
    static const char *const marks[] = { "WARNING: ThreadSanitizer" };
    bool found = false;
    for (int i = 0; i < s_nlogs; i++) {
        FILE *f = fopen (s_logs[i], "r");
        if (!f)
            continue;
        char line[1024];
        bool here = false;
        while (!here && fgets (line, sizeof line, f))
            for (size_t m = 0; m < sizeof marks / sizeof marks[0] && !here; m++)
                if (strstr (line, marks[m]))
                    here = true;
        fclose (f);
        if (here) {
            fprintf (stderr, "harness: a sanitizer report is in %s\n", s_logs[i]);
            found = true;
        }
        free (s_logs[i]);
    }
    s_nlogs = 0;
    return found;
}

static void
s_atexit (void)
{
    pthread_mutex_lock (&s_lock);
    for (int i = 0; i < s_nchildren; i++) {
        if (s_children[i] > 0) {
            kill (s_children[i], SIGKILL);
            waitpid (s_children[i], NULL, 0);
            s_children[i] = 0;
        }
    }
    s_nchildren = 0;
    bool reported = s_check_logs ();
    pthread_mutex_unlock (&s_lock);
    s_remove_ipc_dir ();
    if (reported) {
        fflush (NULL);
        _exit (66);
    }
}

static void
s_forget (pid_t pid)
{
    pthread_mutex_lock (&s_lock);
    for (int i = 0; i < s_nchildren; i++)
        if (s_children[i] == pid) {
            s_children[i] = s_children[--s_nchildren];
            break;
        }
    pthread_mutex_unlock (&s_lock);
}

/* environ plus extra "KEY=VALUE" entries, extras replacing same keys. */
static char **
s_build_env (const char *const env[])
{
    size_t n = 0, m = 0;
    while (environ[n])
        n++;
    while (env && env[m])
        m++;
    char **out = calloc (n + m + 2, sizeof *out);
    if (!out)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr (environ[i], '=');
        size_t klen = eq ? (size_t) (eq - environ[i]) : strlen (environ[i]);
        bool replaced = false;
        for (size_t j = 0; j < m && !replaced; j++)
            if (strncmp (env[j], environ[i], klen) == 0 && env[j][klen] == '=')
                replaced = true;
        if (!replaced)
            out[k++] = environ[i];
    }
    for (size_t j = 0; j < m; j++)
        out[k++] = (char *) env[j];
    /* Every daemon a test starts runs a worker pool (MESO_WORKERS), so
     * every test exercises it, unless the test or its caller says. */
    bool workers = getenv ("MESO_WORKERS") != NULL;
    for (size_t j = 0; j < m && !workers; j++)
        workers = strncmp (env[j], "MESO_WORKERS=", 13) == 0;
    if (!workers)
        out[k++] = (char *) "MESO_WORKERS=2";
    out[k] = NULL;
    return out;
}

/* Writes "<pid>.log" at out (async-signal-safe: runs in the child). */
static void
s_append_pid_log (char *out, pid_t pid)
{
    char digits[24];
    int n = 0;
    unsigned long v = (unsigned long) pid;
    do {
        digits[n++] = (char) ('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *out++ = digits[--n];
    memcpy (out, ".log", 5);
}

pid_t
mt_spawn (const char *path, const char *const argv[], const char *const env[])
{
    char exe[PATH_MAX];
    if (path[0] == '/')
        snprintf (exe, sizeof exe, "%s", path);
    else
        snprintf (exe, sizeof exe, "%s/%s", mt_build_dir (), path);
    if (access (exe, X_OK) != 0) {
        fprintf (stderr, "mt_spawn: %s is not an executable: %s\n", exe, strerror (errno));
        return -1;
    }
    char logdir[PATH_MAX];
    snprintf (logdir, sizeof logdir, "%s/test-logs", mt_build_dir ());
    if (mkdir (logdir, 0755) != 0 && errno != EEXIST) {
        fprintf (stderr, "mt_spawn: mkdir %s: %s\n", logdir, strerror (errno));
        return -1;
    }
    const char *base = strrchr (exe, '/');
    base = base ? base + 1 : exe;
    /* The log path is built before fork; the child only appends its pid. */
    char logpath[PATH_MAX];
    int plen = snprintf (logpath, sizeof logpath, "%s/%s-", logdir, base);
    if (plen < 0 || (size_t) plen + 32 > sizeof logpath) {
        fprintf (stderr, "mt_spawn: log path too long\n");
        return -1;
    }
    /* Children find the keys through MESO_KEYS; a daemon's endpoints are
     * remembered so that clients know which server key to expect. */
    if (!mt_keys ())
        return -1;
    if (strncmp (base, "meso-", 5) == 0)
        for (int i = 1; argv[i]; i++) {
            if (strncmp (argv[i], "--bind=", 7) == 0)
                mt_service_register (argv[i] + 7, base + 5);
            else
            if (strncmp (argv[i], "--pub=", 6) == 0)
                mt_service_register (argv[i] + 6, base + 5);
            else
            if ((strcmp (argv[i], "--bind") == 0 || strcmp (argv[i], "--pub") == 0) && argv[i + 1])
                mt_service_register (argv[i + 1], base + 5);
        }
    char **envp = s_build_env (env);
    if (!envp)
        return -1;

    pthread_mutex_lock (&s_lock);
    if (s_nchildren == MAX_CHILDREN) {
        pthread_mutex_unlock (&s_lock);
        free (envp);
        fprintf (stderr, "mt_spawn: too many children\n");
        return -1;
    }
    s_register_atexit ();
    pid_t parent = getpid ();
    fflush (NULL);
    pid_t pid = fork ();
    if (pid == 0) {
        /* Child: only async-signal-safe calls from here on (other threads
         * of the parent may have held locks at fork time). */
        prctl (PR_SET_PDEATHSIG, SIGKILL);
        if (getppid () != parent)
            _exit (127);
        s_append_pid_log (logpath + plen, getpid ());
        int fd = open (logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        int devnull = open ("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2 (devnull, 0);
        if (fd >= 0) {
            dup2 (fd, 1);
            dup2 (fd, 2);
        }
        /* A fresh signal state: the test may block or ignore signals. */
        sigset_t none;
        sigemptyset (&none);
        sigprocmask (SIG_SETMASK, &none, NULL);
        signal (SIGPIPE, SIG_DFL);
        execve (exe, (char *const *) argv, envp);
        _exit (127);
    }
    if (pid > 0) {
        s_children[s_nchildren++] = pid;
        if (s_nlogs < (int) (sizeof s_logs / sizeof s_logs[0])) {
            s_append_pid_log (logpath + plen, pid);
            s_logs[s_nlogs] = strdup (logpath);
            if (s_logs[s_nlogs])
                s_nlogs++;
        }
    }
    pthread_mutex_unlock (&s_lock);
    free (envp);
    if (pid < 0) {
        fprintf (stderr, "mt_spawn: fork: %s\n", strerror (errno));
        return -1;
    }
    return pid;
}

int
mt_stop (pid_t pid, int sig)
{
    if (pid <= 0)
        return -1;
    if (kill (pid, sig) != 0 && errno != ESRCH) {
        s_forget (pid);
        return -1;
    }
    int status = 0;
    for (int waited = 0; waited < 10000; waited += 10) {
        pid_t r = waitpid (pid, &status, WNOHANG);
        if (r == pid) {
            s_forget (pid);
            return status;
        }
        if (r < 0) {
            s_forget (pid);
            return -1;
        }
        mt_sleep_ms (10);
    }
    fprintf (stderr, "mt_stop: pid %d ignored signal %d for 10 s, killing it\n", (int) pid, sig);
    kill (pid, SIGKILL);
    pid_t r = waitpid (pid, &status, 0);
    s_forget (pid);
    return r == pid ? status : -1;
}

/* ------------------------------------------------------------ waiting */

static long long
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
mt_wait_healthy (const char *endpoint, int timeout_ms)
{
    meso_bus_client_t *client = mt_client (endpoint);
    if (!client) {
        fprintf (stderr, "mt_wait_healthy: cannot create a client for %s\n", endpoint);
        return -1;
    }
    meso_bus_client_set_attempt_timeout (client, 200);
    long long deadline = s_now_ms () + timeout_ms;
    int rc = -1;
    char last[512] = "no attempt";
    for (;;) {
        long long left = deadline - s_now_ms ();
        if (left <= 0)
            break;
        meso_result_t result;
        memset (&result, 0, sizeof result);
        int call = meso_bus_client_call (client, "Health", NULL, NULL,
                                         left < 1000 ? (int) left : 1000, &result);
        snprintf (last, sizeof last, "%s: %s", meso_status_name (result.status), result.message);
        meso_result_reset (&result);
        if (call == 0) {
            rc = 0;
            break;
        }
        mt_sleep_ms (50);
    }
    meso_bus_client_destroy (&client);
    if (rc != 0)
        fprintf (stderr, "mt_wait_healthy: %s not healthy after %d ms (last: %s)\n",
                 endpoint, timeout_ms, last);
    return rc;
}

pid_t
mt_spawn_events (const char *dbname, char *router, size_t router_size, char *pub,
                 size_t pub_size)
{
    char role[512], db[600], bind[300], pubarg[300];
    mt_ipc_endpoint ("evr", router, router_size);
    mt_ipc_endpoint ("evp", pub, pub_size);
    mt_role_conninfo (dbname, "meso_events", role, sizeof role);
    snprintf (db, sizeof db, "--db=%s", role);
    snprintf (bind, sizeof bind, "--bind=%s", router);
    snprintf (pubarg, sizeof pubarg, "--pub=%s", pub);
    const char *argv[] = { "meso-events", db, bind, pubarg, NULL };
    pid_t pid = mt_spawn ("bin/meso-events", argv, NULL);
    if (pid <= 0)
        return -1;
    if (mt_wait_healthy (router, 10000) != 0) {
        mt_stop (pid, SIGKILL);
        return -1;
    }
    return pid;
}

int
mt_call (meso_bus_client_t *c, const char *method, const ProtobufCMessage *body,
         const char *key, int *seq, meso_result_t *r)
{
    char k[64];
    if (!key) {
        snprintf (k, sizeof k, "test-key-%d", ++*seq);
        key = k;
    }
    meso_bus_client_call (c, method, body, key, 5000, r);
    return r->status;
}

int
mt_sql_int (meso_db_t *db, const char *sql, const char *p1, int64_t *value)
{
    const char *params[] = { p1 };
    PGresult *res = meso_db_query (db, sql, p1 ? 1 : 0, p1 ? params : NULL);
    if (!res) {
        fprintf (stderr, "mt_sql_int: SQL failed: %s: %s\n", sql, meso_db_error (db)->message);
        return -1;
    }
    int rows = PQntuples (res);
    if (rows != 1) {
        fprintf (stderr, "mt_sql_int: %d rows, not 1: %s\n", rows, sql);
        PQclear (res);
        return -1;
    }
    *value = PQgetisnull (res, 0, 0) ? 0 : strtoll (PQgetvalue (res, 0, 0), NULL, 10);
    PQclear (res);
    return 0;
}

int
mt_fingerprint (meso_db_t *db, const char *schemas, char *out, size_t size)
{
    /* One md5 per table over its rows in text order (any table, whatever
     * its columns: query_to_xml runs the per-table query), then one md5
     * over the named list of them. */
    const char *sql =
        "SELECT md5 (coalesce (string_agg (format ('%I.%I', n.nspname, c.relname) || '='"
        "  || (xpath ('/row/h/text()', query_to_xml (format ("
        "       'SELECT md5 (coalesce (string_agg (t::text, '','' ORDER BY t::text), '''')) AS h"
        "        FROM %I.%I t', n.nspname, c.relname), false, true, '')))[1]::text,"
        "  ';' ORDER BY n.nspname, c.relname), ''))"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY (string_to_array ($1, ','))";
    const char *params[] = { schemas };
    PGresult *res = meso_db_query (db, sql, 1, params);
    if (!res) {
        fprintf (stderr, "mt_fingerprint: %s\n", meso_db_error (db)->message);
        return -1;
    }
    snprintf (out, size, "%s", PQgetvalue (res, 0, 0));
    PQclear (res);
    return 0;
}

int
mt_sh (const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    char *cmd = NULL;
    int n = vasprintf (&cmd, fmt, ap);
    va_end (ap);
    if (n < 0)
        return -1;
    fflush (NULL);
    int status = system (cmd);
    free (cmd);
    if (status == -1)
        return -1;
    if (WIFEXITED (status))
        return WEXITSTATUS (status);
    return 128 + (WIFSIGNALED (status) ? WTERMSIG (status) : 0);
}

void
mt_sleep_ms (int ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };
    while (nanosleep (&ts, &ts) != 0 && errno == EINTR)
        ;
}

int
mt_health (const char *endpoint, char *state, size_t state_size, char *notes,
           size_t notes_size)
{
    state[0] = notes[0] = '\0';
    meso_bus_client_t *c = mt_client (endpoint);
    if (!c)
        return -1;
    meso_result_t r;
    memset (&r, 0, sizeof r);
    int rc = -1;
    if (meso_bus_client_call (c, "Health", NULL, NULL, 3000, &r) == 0) {
        size_t len;
        const uint8_t *body = meso_result_body (&r, &len);
        Meso__V1__HealthReply *h = meso__v1__health_reply__unpack (NULL, len, body);
        if (h) {
            char text[MESO_ENUM_TEXT_MAX];
            snprintf (state, state_size, "%s",
                      meso_enum_text (&meso__v1__health_state__descriptor, (int) h->state, text, sizeof text)
                          ? text : "unspecified");
            size_t used = 0;
            for (size_t i = 0; i < h->n_notes && used < notes_size; i++) {
                int n = snprintf (notes + used, notes_size - used, "%s%s", i ? " | " : "",
                                  h->notes[i]);
                if (n < 0)
                    break;
                used += (size_t) n;
            }
            meso__v1__health_reply__free_unpacked (h, NULL);
            rc = 0;
        }
    }
    meso_result_reset (&r);
    meso_bus_client_destroy (&c);
    return rc;
}

long
mt_rss_anon_kb (pid_t pid)
{
    char path[64], line[256];
    snprintf (path, sizeof path, "/proc/%d/status", (int) pid);
    FILE *f = fopen (path, "r");
    if (!f)
        return -1;
    long kb = -1;
    while (fgets (line, sizeof line, f))
        if (sscanf (line, "RssAnon: %ld kB", &kb) == 1)
            break;
    fclose (f);
    return kb;
}
