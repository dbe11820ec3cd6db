/* health.h -- checks that can make a daemon's Health "degraded" without
 * the daemon's own health hook knowing about them.
 *
 * A part of libmeso that can fail quietly while the daemon still serves
 * (an event consumer stuck on one event) registers a check when it is
 * made and unregisters it when it is destroyed. Every bus server's
 * built-in Health runs the registered checks after the service's own hook
 * (meso_health_fn), adds their notes and turns the state to "degraded"
 * when one says so. A service therefore gets this without a line of its
 * own. The registry is per process and locked: checks may be registered
 * from any thread, and a check runs on the thread serving Health, so it
 * must only read state it guards itself (or that belongs to that thread). */
#ifndef MESO_HEALTH_H
#define MESO_HEALTH_H

#include <stdbool.h>
#include <stddef.h>

/* Longest note a check writes, terminating NUL included. */
#define MESO_HEALTH_NOTE_MAX 256
/* Checks a process may register at most. */
#define MESO_HEALTH_CHECKS_MAX 16

/* Writes at most one note into note (size bytes; leave it "" for none) and
 * returns true when the daemon should report "degraded". */
typedef bool (meso_health_check_fn) (void *arg, char *note, size_t size);

/* Registers fn with arg. Returns 0, or -1 when MESO_HEALTH_CHECKS_MAX are
 * registered already. */
int meso_health_register (meso_health_check_fn *fn, void *arg);
/* Removes the registration of fn with arg (no-op when absent). */
void meso_health_unregister (meso_health_check_fn *fn, void *arg);

/* Runs every check; their non-empty notes go to notes[0..max). Returns the
 * number of notes written; *degraded is set when a check says so (left
 * unchanged otherwise). */
int meso_health_collect (char (*notes)[MESO_HEALTH_NOTE_MAX], int max, bool *degraded);

#endif
