/* curve.h -- CURVE on every socket: the process's key pair, the servers'
 * public keys, and the ZAP handler that admits only known principals.
 *
 * Keys live in one folder (MESO_KEYS) as CZMQ certificate files:
 * "<name>.key" holds a public key, "<name>.key_secret" the pair. A daemon
 * named "scheduling" serves with scheduling.key_secret and calls other
 * daemons with the same pair (its service principal); a client of
 * "scheduling" trusts the server key in scheduling.key. The process's own
 * pair is MESO_KEY (a path to a .key_secret file) when set, else
 * <MESO_KEYS>/<self>.key_secret, where self is the name given to
 * meso_curve_setup ("operator" for mesoctl).
 *
 * Every ROUTER and PUB of a daemon is a CURVE server whose handshakes are
 * decided by the ZAP handler here (RFC 27, on inproc://zeromq.zap.01): a
 * key that is not in the principals table (access.h) or is revoked never
 * completes its handshake; the accepted connection carries the key as its
 * ZAP User-Id, which the bus server reads from every request. Nothing of
 * the cryptography is ours: libzmq does CURVE (libsodium), CZMQ reads and
 * writes the certificates. */
#ifndef MESO_CURVE_H
#define MESO_CURVE_H

#include <stdbool.h>
#include <czmq.h>

/* Chooses the process's identity: keys folder from MESO_KEYS (keys_dir
 * NULL) and own pair as above. Returns 0, or -1 with why in err (no
 * folder, no pair). Call once at start, before any socket. */
int meso_curve_setup (const char *self, const char *keys_dir, char *err, size_t errsize);

/* The keys folder chosen by meso_curve_setup ("" when none). */
const char *meso_curve_keys_dir (void);
/* The process's pair (NULL before meso_curve_setup). */
zcert_t *meso_curve_identity (void);

/* Loads "<keys>/<name>.key" (public part only when secret is false,
 * "<name>.key_secret" otherwise). NULL with why in err. */
zcert_t *meso_curve_load (const char *name, bool secret, char *err, size_t errsize);

/* Makes sock a CURVE server of service with the process's pair (or, in a
 * process serving under another name, that name's pair when the keys
 * folder has one), answered by the ZAP handler (started here on first
 * use). Call before binding. Returns 0, or -1 (and logs why). */
int meso_curve_server (zsock_t *sock, const char *service);

/* What every daemon does at start: meso_curve_setup (service) and
 * meso_access_start (conninfo) (access.h). Returns 0, or -1 (logged). */
int meso_trust_start (const char *service, const char *conninfo);

/* Makes sock a CURVE client of service with identity (NULL: the
 * process's). Returns 0, or -1 with why in err (no server key for
 * service...). */
int meso_curve_client (zsock_t *sock, const char *service, zcert_t *identity, char *err,
                       size_t errsize);

/* Whether endpoint is listed in MESO_PLAINTEXT_ENDPOINTS: no CURVE there
 * (an operator's explicit choice, per endpoint; servers warn about it). A
 * list of endpoints counts as plaintext when its first one is. */
bool meso_bus_plaintext_endpoint (const char *endpoint);

/* Stops the ZAP handler (at exit). */
void meso_curve_shutdown (void);

#endif
