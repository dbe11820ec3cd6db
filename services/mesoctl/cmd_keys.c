/* cmd_keys.c -- "mesoctl keys init": the CURVE key pairs a fresh
 * installation needs, made once.
 *
 *     mesoctl keys init --dir DIR [--names screening,scheduling,...]
 *
 * Each name gets "<name>.key" (public, mode 0644) and "<name>.key_secret"
 * (the pair, mode 0600) in DIR, as CZMQ certificates (zcert): the format
 * the daemons, mesoctl and pyzmq's zmq.auth read. A name whose files are
 * there already is left alone, never overwritten: the key is the daemon's
 * identity, registered in access.principal, and a new one would lock it
 * out until registered again. So deploy/local/up.sh and docker-compose
 * run it at every start and only the first start makes anything. The
 * default names are the five daemons, webhooks (its own service identity)
 * and "operator" (the break-glass key mesoctl finds by default; see
 * "mesoctl access bootstrap"). It also makes the vault's master key,
 * vault.master (meso/vault.h), once, the same way: never overwritten,
 * since every patient's data key is wrapped by it.
 *
 * It also makes "search.key" (mode 0600) when there is none: 32 random
 * bytes in hex, the key of screening's patient search index (keyed
 * hashes of names, birth dates, phones, e-mails; migration 027). It is
 * never overwritten either: a new key would make every indexed patient
 * unfindable until re-indexed.
 *
 * And "webhooks.seal" (mode 0600, the same shape): the key meso-webhooks
 * seals its subscriptions' signing secrets with (crypto_secretbox), never
 * overwritten, since the stored secrets open only with it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <czmq.h>
#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include "access_input.h"
#include "meso/vault.h"
#include "mesoctl.h"

#define DEFAULT_NAMES "screening,scheduling,inventory,billing,events,webhooks,operator"
#define MAX_NAMES 64

/* mkdir -p with mode for the folders made. */
static int
s_mkdirs (const char *dir, mode_t mode)
{
    char path[1024];
    if (snprintf (path, sizeof path, "%s", dir) >= (int) sizeof path)
        return -1;
    for (char *p = path + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir (path, mode) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir (path, mode) != 0 && errno != EEXIST ? -1 : 0;
}

int
mesoctl_keys_write (const char *dir, const char *name, const char *kind, zcert_t **made)
{
    char path[1200], secret[1216];
    snprintf (path, sizeof path, "%s/%s.key", dir, name);
    snprintf (secret, sizeof secret, "%s_secret", path);
    zcert_t *cert = zcert_new ();
    if (!cert)
        return -1;
    zcert_set_meta (cert, "name", "%s", name);
    zcert_set_meta (cert, "kind", "%s", kind);
    if (zcert_save (cert, path) != 0 || chmod (secret, 0600) != 0 || chmod (path, 0644) != 0) {
        int e = errno;
        unlink (path);
        unlink (secret);
        zcert_destroy (&cert);
        errno = e ? e : EIO;
        return -1;
    }
    if (made)
        *made = cert;
    else
        zcert_destroy (&cert);
    return 0;
}

/* Makes DIR/name (32 random bytes in hex) when missing: 1 made, 0 kept,
 * -1 error. */
static int
s_hex_key (const char *dir, const char *name)
{
    char path[1200];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno == EEXIST ? 0 : -1;
    unsigned char key[32];
    char hex[65];
    randombytes_buf (key, sizeof key);
    sodium_bin2hex (hex, sizeof hex, key, sizeof key);
    sodium_memzero (key, sizeof key);
    hex[64] = '\n';
    ssize_t w = write (fd, hex, sizeof hex);
    sodium_memzero (hex, sizeof hex);
    if (close (fd) != 0 || w != (ssize_t) sizeof hex) {
        unlink (path);
        return -1;
    }
    return 1;
}

int
mesoctl_keys_init (const char *dir, const char *csv)
{
    if (!*dir) {
        fprintf (stderr, "mesoctl keys init: --dir (or MESO_KEYS) names no folder\n");
        return MESOCTL_USAGE;
    }
    char names[1024];
    snprintf (names, sizeof names, "%s", csv ? csv : DEFAULT_NAMES);
    char *list[MAX_NAMES];
    size_t n = mesoctl_split (names, ",", true, list, MAX_NAMES);
    char err[256];
    if (n == 0) {
        fprintf (stderr, "mesoctl keys init: --names names no key\n");
        return MESOCTL_USAGE;
    }
    for (size_t i = 0; i < n; i++)
        if (mesoctl_access_name (list[i], err, sizeof err) != 0) {
            fprintf (stderr, "mesoctl keys init: %s\n", err + 2);    /* "--name ..." -> "name ..." */
            return MESOCTL_USAGE;
        }
    if (s_mkdirs (dir, 0755) != 0) {
        fprintf (stderr, "mesoctl keys init: cannot make folder %s: %s\n", dir, strerror (errno));
        return MESOCTL_FAILED;
    }
    int made = 0, kept = 0;
    for (size_t i = 0; i < n; i++) {
        char path[1200], secret[1216];
        snprintf (path, sizeof path, "%s/%s.key", dir, list[i]);
        snprintf (secret, sizeof secret, "%s_secret", path);
        bool has_public = zsys_file_exists (path), has_secret = zsys_file_exists (secret);
        if (has_public || has_secret) {
            printf ("kept %-11s %s%s\n", list[i], has_secret ? secret : path,
                    has_secret && has_public ? "" : "  (only this half: make the pair again by hand)");
            kept++;
            continue;
        }
        const char *kind = strcmp (list[i], "operator") == 0 ? "operator" : "service";
        if (mesoctl_keys_write (dir, list[i], kind, NULL) != 0) {
            fprintf (stderr, "mesoctl keys init: cannot write %s: %s\n", secret, strerror (errno));
            return MESOCTL_FAILED;
        }
        printf ("made %-11s %s (public), %s (secret, mode 0600)\n", list[i], path, secret);
        made++;
    }
    /* The vault's master key: wraps every patient's data key (meso/vault.h). */
    bool master_made = false;
    if (meso_vault_master_init (dir, &master_made, err, sizeof err) != 0) {
        fprintf (stderr, "mesoctl keys init: %s\n", err);
        return MESOCTL_FAILED;
    }
    printf ("%s vault master key %s/%s%s\n", master_made ? "made" : "kept", dir,
            MESO_VAULT_MASTER_FILE, master_made ? " (mode 0600; back it up apart from the database)" : "");
    int search = s_hex_key (dir, "search.key");
    if (search < 0) {
        fprintf (stderr, "mesoctl keys init: cannot write %s/search.key: %s\n", dir, strerror (errno));
        return MESOCTL_FAILED;
    }
    if (search > 0)
        printf ("made search key %s/search.key (mode 0600)\n", dir);
    int seal = s_hex_key (dir, "webhooks.seal");
    if (seal < 0) {
        fprintf (stderr, "mesoctl keys init: cannot write %s/webhooks.seal: %s\n", dir, strerror (errno));
        return MESOCTL_FAILED;
    }
    if (seal > 0)
        printf ("made webhooks sealing key %s/webhooks.seal (mode 0600; back it up apart from the database)\n",
                dir);
    printf ("%d key pair%s made, %d kept, in %s\n", made, made == 1 ? "" : "s", kept, dir);
    return MESOCTL_OK;
}

static int
s_init (meso_opt_t *opts)
{
    return mesoctl_keys_init (mesoctl_opt (opts, "dir"), mesoctl_opt (opts, "names"));
}

static const meso_opt_t s_init_opts[] = {
    { "names", NULL, DEFAULT_NAMES, "comma-separated names, one key pair each", NULL },
    MESOCTL_OPT_END
};

static const mesoctl_sub_t s_subs[] = {
    { "init", "make the missing key pairs of the daemons and the operator (never overwrites)",
      "--dir DIR [--names a,b,...]",
      "Makes a CURVE key pair (<name>.key, <name>.key_secret mode 0600) for each name\n"
      "that has none in DIR; existing files are never overwritten. Prints what it made.\n"
      "Register them with \"mesoctl access bootstrap\".",
      "--dir .local/keys\n--dir /var/lib/meso/keys --names screening,operator",
      s_init_opts, 0, NULL, 0, s_init, NULL },
    { NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, 0, NULL, NULL }
};

static const mesoctl_service_t s_keys = {
    .name = "keys",
    .summary = "CURVE key pairs of the daemons and the operator",
    .endpoint = { "dir", "MESO_KEYS", NULL, "folder of the key files (made if missing)", NULL },
};

int
mesoctl_keys_cmd (int argc, char **argv)
{
    return mesoctl_run (&s_keys, s_subs, false, argc, argv);
}
