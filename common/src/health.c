/* health.c -- the per-process registry of health checks (see health.h).
 *
 * A fixed array under a mutex: a handful of checks per process, registered
 * at start and consulted only when someone asks Health, so nothing smarter
 * is worth its code. */
#include <assert.h>
#include <pthread.h>

#include "meso/health.h"

typedef struct {
    meso_health_check_fn *fn;
    void *arg;
} s_check_t;

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static s_check_t s_checks[MESO_HEALTH_CHECKS_MAX];

int
meso_health_register (meso_health_check_fn *fn, void *arg)
{
    assert (fn);
    int rc = -1;
    pthread_mutex_lock (&s_lock);
    for (int i = 0; i < MESO_HEALTH_CHECKS_MAX; i++)
        if (!s_checks[i].fn) {
            s_checks[i].fn = fn;
            s_checks[i].arg = arg;
            rc = 0;
            break;
        }
    pthread_mutex_unlock (&s_lock);
    return rc;
}

void
meso_health_unregister (meso_health_check_fn *fn, void *arg)
{
    pthread_mutex_lock (&s_lock);
    for (int i = 0; i < MESO_HEALTH_CHECKS_MAX; i++)
        if (s_checks[i].fn == fn && s_checks[i].arg == arg)
            s_checks[i].fn = NULL;
    pthread_mutex_unlock (&s_lock);
}

int
meso_health_collect (char (*notes)[MESO_HEALTH_NOTE_MAX], int max, bool *degraded)
{
    assert (notes || max == 0);
    assert (degraded);
    int n = 0;
    pthread_mutex_lock (&s_lock);
    for (int i = 0; i < MESO_HEALTH_CHECKS_MAX && n < max; i++) {
        if (!s_checks[i].fn)
            continue;
        notes[n][0] = '\0';
        if (s_checks[i].fn (s_checks[i].arg, notes[n], MESO_HEALTH_NOTE_MAX))
            *degraded = true;
        if (notes[n][0])
            n++;
    }
    pthread_mutex_unlock (&s_lock);
    return n;
}
