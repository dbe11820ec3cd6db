/* curve.c -- the process's CURVE keys and its ZAP handler.
 *
 * Why it is built this way:
 * - Certificates are CZMQ's (zcert: Z85 text files a person can read and
 *   copy); the handshake and the encryption are libzmq's CURVE.
 * - The ZAP handler is ours rather than zauth's: zauth admits a key when
 *   a certificate file for it sits in a folder, while meso's principals
 *   live in PostgreSQL and change while the daemon runs (access.h). It is
 *   the same protocol (RFC 27) on the same endpoint, answered from the
 *   principals table: 200 with the key as User-Id for a known, unrevoked
 *   key, 400 for anything else. It runs in an actor thread of its own, so
 *   handshakes are decided whatever the daemon's loop is doing.
 * - libzmq only consults a ZAP handler that is bound before the server
 *   socket accepts (without one, CURVE admits any key), so
 *   meso_curve_server starts the handler before the caller binds, and
 *   sets ZMQ_ZAP_ENFORCE_DOMAIN so a missing handler refuses instead.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <stdatomic.h>

#include "meso/access.h"
#include "meso/curve.h"
#include "meso/log.h"

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"

static char s_keys_dir [1024];
static zcert_t *s_identity;
static zactor_t *s_zap;
static atomic_bool s_zap_bound;     /* set by the actor once it has bound */
static pthread_mutex_t s_zap_lock = PTHREAD_MUTEX_INITIALIZER;

const char *
meso_curve_keys_dir (void)
{
    return s_keys_dir;
}

zcert_t *
meso_curve_identity (void)
{
    return s_identity;
}

zcert_t *
meso_curve_load (const char *name, bool secret, char *err, size_t errsize)
{
    char path [1200];
    if (!*s_keys_dir) {
        snprintf (err, errsize, "no keys folder: set MESO_KEYS");
        return NULL;
    }
    snprintf (path, sizeof path, "%s/%s.key%s", s_keys_dir, name, secret ? "_secret" : "");
    if (!zsys_file_exists (path)) {
        snprintf (err, errsize, "no key file %s", path);
        return NULL;
    }
    /* zcert_load prefers "<path>_secret" when it exists: for the public
     * part of a pair we only ever use the public key below. */
    zcert_t *cert = zcert_load (path);
    if (!cert)
        snprintf (err, errsize, "%s is not a CURVE certificate", path);
    return cert;
}

int
meso_curve_setup (const char *self, const char *keys_dir, char *err, size_t errsize)
{
    const char *dir = keys_dir ? keys_dir : getenv ("MESO_KEYS");
    snprintf (s_keys_dir, sizeof s_keys_dir, "%s", dir ? dir : "");
    zcert_destroy (&s_identity);
    const char *own = getenv ("MESO_KEY");
    if (own && *own) {
        if (!zsys_file_exists (own)) {
            snprintf (err, errsize, "MESO_KEY names %s, which does not exist", own);
            return -1;
        }
        s_identity = zcert_load (own);
        if (!s_identity) {
            snprintf (err, errsize, "MESO_KEY: %s is not a CURVE certificate", own);
            return -1;
        }
    }
    else {
        if (!*s_keys_dir) {
            snprintf (err, errsize, "no CURVE keys: set MESO_KEYS to the keys folder "
                      "(or MESO_KEY to this process's .key_secret file)");
            return -1;
        }
        s_identity = meso_curve_load (self, true, err, errsize);
        if (!s_identity)
            return -1;
    }
    if (strlen (zcert_secret_txt (s_identity)) != 40
        || strcmp (zcert_secret_txt (s_identity), "0000000000000000000000000000000000000000") == 0) {
        snprintf (err, errsize, "the key of %s has no secret part", self);
        zcert_destroy (&s_identity);
        return -1;
    }
    return 0;
}

/* ----------------------------------------------------------- the ZAP handler */

/* One line per refusal would let a client with a bad key, which libzmq
 * reconnects every second, fill the log: at most one line per
 * REFUSAL_LOG_MS, with the count of the others. */
#define REFUSAL_LOG_MS 10000
static void
s_log_refusal (const char *address, const char *why, const char *key)
{
    static int64_t next_at;
    static unsigned long quiet;
    int64_t now = zclock_mono ();
    if (now < next_at) {
        quiet++;
        return;
    }
    meso_warn ("refused a CURVE handshake from %s: %s%s%s (%lu more since the last such line)",
               address ? address : "?", why, *key ? " " : "", key, quiet);
    quiet = 0;
    next_at = now + REFUSAL_LOG_MS;
}

/* Answers one ZAP request (RFC 27): version, request id, domain, address,
 * identity, mechanism, credentials... -> version, request id, status code,
 * status text, user id, metadata. */
static void
s_zap_answer (zsock_t *handler)
{
    zmsg_t *request = zmsg_recv (handler);
    if (!request)
        return;
    char *version = zmsg_popstr (request);
    char *request_id = zmsg_popstr (request);
    char *domain = zmsg_popstr (request);
    char *address = zmsg_popstr (request);
    char *identity = zmsg_popstr (request);
    char *mechanism = zmsg_popstr (request);
    zframe_t *credentials = zmsg_pop (request);

    const char *code = "400";
    const char *text = "unknown key";
    char key [MESO_KEY_Z85_LEN + 1] = "";
    if (!version || strcmp (version, "1.0") != 0)
        text = "unsupported ZAP version";
    else
    if (!mechanism || strcmp (mechanism, "CURVE") != 0)
        text = "only CURVE is accepted";
    else
    if (!credentials || zframe_size (credentials) != 32)
        text = "malformed CURVE credentials";
    else {
        zmq_z85_encode (key, zframe_data (credentials), 32);
        if (meso_access_generation () == 0) {
            /* Not loaded yet: a temporary failure (300), which clients
             * retry, rather than a refusal. */
            code = "300";
            text = "principals not loaded yet";
        }
        meso_principal_t *p = meso_access_acquire (key);
        if (p && !p->revoked) {
            code = "200";
            text = "OK";
        }
        else
        if (strcmp (code, "300") != 0)
            text = p ? "revoked key" : "unknown key";
        meso_principal_release (p);
    }
    if (strcmp (code, "200") != 0)
        s_log_refusal (address, text, key);
    zmsg_t *reply = zmsg_new ();
    zmsg_addstr (reply, "1.0");
    zmsg_addstr (reply, request_id ? request_id : "");
    zmsg_addstr (reply, code);
    zmsg_addstr (reply, text);
    zmsg_addstr (reply, strcmp (code, "200") == 0 ? key : "");
    zmsg_addmem (reply, "", 0);
    zmsg_send (&reply, handler);

    zframe_destroy (&credentials);
    free (version);
    free (request_id);
    free (domain);
    free (address);
    free (identity);
    free (mechanism);
    zmsg_destroy (&request);
}

static void
s_zap_actor (zsock_t *pipe, void *args)
{
    (void) args;
    zsock_t *handler = zsock_new (ZMQ_REP);
    if (!handler || zsock_bind (handler, ZAP_ENDPOINT) < 0) {
        meso_error ("cannot bind the ZAP handler on %s: %s", ZAP_ENDPOINT,
                    zmq_strerror (zmq_errno ()));
        zsock_destroy (&handler);
        zsock_signal (pipe, 1);
        return;
    }
    atomic_store (&s_zap_bound, true);
    zsock_signal (pipe, 0);
    zpoller_t *poller = zpoller_new (pipe, handler, NULL);
    while (true) {
        void *which = zpoller_wait (poller, -1);
        if (which == pipe) {
            zmsg_t *msg = zmsg_recv (pipe);
            char *command = msg ? zmsg_popstr (msg) : NULL;
            bool term = !command || strcmp (command, "$TERM") == 0;
            free (command);
            zmsg_destroy (&msg);
            if (term)
                break;
        }
        else
        if (which == handler)
            s_zap_answer (handler);
        else
        if (zpoller_terminated (poller))
            break;
    }
    zpoller_destroy (&poller);
    zsock_destroy (&handler);
}

static int
s_zap_start (void)
{
    pthread_mutex_lock (&s_zap_lock);
    if (!s_zap) {
        /* Stopped before CZMQ's own atexit handler (registered earlier, by
         * the first socket), which would find the actor's sockets open. */
        static bool registered;
        if (!registered)
            atexit (meso_curve_shutdown);
        registered = true;
        s_zap = zactor_new (s_zap_actor, NULL);
        /* zactor_new waits for the actor's signal but does not report its
         * status: the actor says whether it bound. Without a handler,
         * ZMQ_ZAP_ENFORCE_DOMAIN makes every handshake fail (closed). */
        if (s_zap && !atomic_load (&s_zap_bound))
            zactor_destroy (&s_zap);
    }
    int rc = s_zap ? 0 : -1;
    pthread_mutex_unlock (&s_zap_lock);
    return rc;
}

void
meso_curve_shutdown (void)
{
    pthread_mutex_lock (&s_zap_lock);
    zactor_destroy (&s_zap);
    pthread_mutex_unlock (&s_zap_lock);
    zcert_destroy (&s_identity);
}

int
meso_curve_server (zsock_t *sock, const char *service)
{
    /* A daemon serves with its own pair; a process serving under another
     * name (a test's in-process server) with that name's pair if there is
     * one. */
    char err [1300];                /* may name a key path (up to 1200) */
    zcert_t *named = NULL;
    if (service && *s_keys_dir && s_identity) {
        char path [1200];
        snprintf (path, sizeof path, "%s/%s.key_secret", s_keys_dir, service);
        if (zsys_file_exists (path))
            named = meso_curve_load (service, true, err, sizeof err);
    }
    zcert_t *cert = named ? named : s_identity;
    if (!cert) {
        meso_error ("no CURVE key to serve %s with: set MESO_KEYS (meso_curve_setup)",
                    service ? service : "");
        return -1;
    }
    if (s_zap_start () != 0) {
        meso_error ("cannot start the ZAP handler");
        zcert_destroy (&named);
        return -1;
    }
    zsock_set_zap_domain (sock, "meso");
    zsock_set_zap_enforce_domain (sock, 1);
    zsock_set_curve_server (sock, 1);
    zcert_apply (cert, sock);
    zcert_destroy (&named);
    return 0;
}

int
meso_trust_start (const char *service, const char *conninfo)
{
    char err [512];
    if (meso_curve_setup (service, NULL, err, sizeof err) != 0) {
        meso_error ("%s", err);
        return -1;
    }
    if (conninfo && meso_access_start (conninfo) != 0) {
        meso_error ("cannot start the principals loader");
        return -1;
    }
    /* Give the first load a moment, so that the first callers are not
     * turned away while the table is still empty. */
    for (int waited = 0; conninfo && meso_access_generation () == 0 && waited < 3000; waited += 50)
        zclock_sleep (50);
    meso_info ("CURVE on: keys in %s, serving as %s", *s_keys_dir ? s_keys_dir : "(MESO_KEY)",
               zcert_public_txt (s_identity));
    return 0;
}

int
meso_curve_client (zsock_t *sock, const char *service, zcert_t *identity, char *err,
                   size_t errsize)
{
    zcert_t *own = identity ? identity : s_identity;
    if (!own) {
        snprintf (err, errsize, "no CURVE key for this client: set MESO_KEYS (or MESO_KEY)");
        return -1;
    }
    zcert_t *server = meso_curve_load (service, false, err, errsize);
    if (!server)
        return -1;
    zcert_apply (own, sock);
    zsock_set_curve_serverkey (sock, zcert_public_txt (server));
    zcert_destroy (&server);
    return 0;
}
