/* keys.c -- which CURVE key pair mesoctl speaks with.
 *
 * mesoctl is an operator's tool: it calls as the principal whose pair it
 * finds, in this order: MESO_KEY (a .key_secret file), then
 * operator.key_secret in MESO_KEYS, in the local run's state folder
 * (MESO_LOCAL_DIR/keys when that variable is set, as deploy/local/up.sh
 * reads it, else <checkout>/.local/keys, found from mesoctl's own path
 * <checkout>/<build folder>/bin/mesoctl), and in /var/lib/meso/keys (the compose
 * volume). The same folder holds the daemons' public keys. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <czmq.h>

#include "meso/curve.h"
#include "mesoctl.h"

static int s_state = -1;        /* -1 not tried, 0 ready, 1 failed */

/* <checkout>/.local/keys from /proc/self/exe = <checkout>/<build>/bin/mesoctl. */
static bool
s_local_keys (char *out, size_t size)
{
    char exe [PATH_MAX];
    ssize_t n = readlink ("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return false;
    exe [n] = '\0';
    for (int up = 0; up < 3; up++) {
        char *slash = strrchr (exe, '/');
        if (!slash)
            return false;
        *slash = '\0';
    }
    if ((size_t) snprintf (out, size, "%.*s/.local/keys", (int) (size - 16), exe) >= size)
        return false;
    char probe [PATH_MAX + 32];
    snprintf (probe, sizeof probe, "%s/operator.key_secret", out);
    return zsys_file_exists (probe);
}

int
mesoctl_keys (void)
{
    if (s_state >= 0)
        return s_state;
    char err [512] = "";
    const char *dir = getenv ("MESO_KEYS");
    char found [PATH_MAX];
    const char *local = getenv ("MESO_LOCAL_DIR");
    if ((!dir || !*dir) && local && *local) {
        snprintf (found, sizeof found, "%s/keys", local);
        char probe [PATH_MAX + 32];
        snprintf (probe, sizeof probe, "%s/operator.key_secret", found);
        if (zsys_file_exists (probe))
            dir = found;
    }
    if ((!dir || !*dir) && s_local_keys (found, sizeof found))
        dir = found;
    if ((!dir || !*dir) && zsys_file_exists ("/var/lib/meso/keys/operator.key_secret"))
        dir = "/var/lib/meso/keys";
    s_state = meso_curve_setup ("operator", dir && *dir ? dir : "", err, sizeof err) == 0 ? 0 : 1;
    if (s_state)
        fprintf (stderr, "mesoctl: %s\n"
                 "  (mesoctl looks for operator.key_secret in MESO_KEYS, MESO_LOCAL_DIR/keys, <checkout>/.local/keys "
                 "and /var/lib/meso/keys; MESO_KEY names another pair)\n", err);
    return s_state;
}
