/* access.c -- the principals table in memory and the call being served.
 *
 * Why it is built this way:
 * - The table is read by the ZAP handler thread (one lookup per new
 *   connection), by every serving thread (one lookup per request) and
 *   replaced by the loader thread (access_store.c) on each NOTIFY. A
 *   mutex around a zhashx is enough: a lookup is a hash probe and a
 *   reference count increment, far below the cost of the request.
 * - Principals are immutable and reference counted: a reload builds new
 *   ones and drops the table's references to the old, so a request that
 *   holds one keeps a consistent view while the table changes under it.
 * - The current call is thread-local: handlers and bus clients read it
 *   without it being threaded through every handler signature, and each
 *   serving thread (one today, a pool later) has its own.
 * The role and kind names here are the ones of the access.principal
 * CHECK constraints (deploy/sql/015_access.sql). */
#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>

#include "meso/access.h"
#include "meso/status.h"

static const char *s_role_names [MESO_ROLE_COUNT] = {
    "front_desk", "clinician", "stock_keeper", "billing_clerk",
    "clinic_manager", "integration", "service", "operator"
};

static const char *s_kind_names [] = { "person", "integration", "service", "operator" };

unsigned
meso_role_parse (const char *name)
{
    if (!name)
        return 0;
    for (int i = 0; i < MESO_ROLE_COUNT; i++)
        if (strcmp (name, s_role_names [i]) == 0)
            return 1u << i;
    return 0;
}

const char *
meso_role_name (unsigned role)
{
    for (int i = 0; i < MESO_ROLE_COUNT; i++)
        if (role == 1u << i)
            return s_role_names [i];
    return NULL;
}

void
meso_roles_format (unsigned mask, char *out, size_t size)
{
    assert (out && size > 0);
    out [0] = '\0';
    size_t used = 0;
    for (int i = 0; i < MESO_ROLE_COUNT; i++) {
        if (!(mask & (1u << i)))
            continue;
        int n = snprintf (out + used, size - used, "%s%s", used ? ", " : "", s_role_names [i]);
        if (n < 0 || (size_t) n >= size - used)
            return;
        used += (size_t) n;
    }
    if (used == 0)
        snprintf (out, size, "none");
}

int
meso_principal_kind_parse (const char *name)
{
    for (int i = 0; name && i < 4; i++)
        if (strcmp (name, s_kind_names [i]) == 0)
            return i;
    return -1;
}

const char *
meso_principal_kind_name (meso_principal_kind_t kind)
{
    return (unsigned) kind < 4 ? s_kind_names [kind] : "unknown";
}

int
meso_principal_actor_kind (meso_principal_kind_t kind)
{
    switch (kind) {
    case MESO_PRINCIPAL_PERSON: return MESO__V1__ACTOR__KIND__KIND_USER;
    case MESO_PRINCIPAL_INTEGRATION: return MESO__V1__ACTOR__KIND__KIND_INTEGRATION;
    case MESO_PRINCIPAL_SERVICE: return MESO__V1__ACTOR__KIND__KIND_SERVICE;
    case MESO_PRINCIPAL_OPERATOR: return MESO__V1__ACTOR__KIND__KIND_OPERATOR;
    }
    return MESO__V1__ACTOR__KIND__KIND_UNSPECIFIED;
}

static bool
s_in_list (char *const *list, size_t n, const char *item)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp (list [i], item) == 0)
            return true;
    return false;
}

bool
meso_principal_in_clinic (const meso_principal_t *p, const char *clinic)
{
    if (!p)
        return false;
    if (p->all_clinics)
        return true;
    return clinic && *clinic && s_in_list (p->clinics, p->n_clinics, clinic);
}

bool
meso_principal_in_stream (const meso_principal_t *p, const char *stream)
{
    if (!p)
        return false;
    if (p->all_streams)
        return true;
    return stream && *stream && s_in_list (p->streams, p->n_streams, stream);
}

static char **
s_copy_list (const char *const *items, size_t n)
{
    char **out = calloc (n ? n : 1, sizeof *out);
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        out [i] = strdup (items [i] ? items [i] : "");
        if (!out [i]) {
            while (i > 0)
                free (out [--i]);
            free (out);
            return NULL;
        }
    }
    return out;
}

meso_principal_t *
meso_principal_new (const char *key, const char *name, meso_principal_kind_t kind,
                    unsigned roles, const char *const *clinics, size_t n_clinics,
                    const char *const *streams, size_t n_streams, bool health, bool revoked)
{
    if (!key || strlen (key) != MESO_KEY_Z85_LEN || !name)
        return NULL;
    meso_principal_t *p = calloc (1, sizeof *p);
    if (!p)
        return NULL;
    memcpy (p->key, key, MESO_KEY_Z85_LEN + 1);
    snprintf (p->name, sizeof p->name, "%s", name);
    p->kind = kind;
    p->roles = roles;
    p->all_clinics = clinics == NULL;
    p->all_streams = streams == NULL;
    p->health = health;
    p->revoked = revoked;
    p->refs = 1;
    if (clinics) {
        p->clinics = s_copy_list (clinics, n_clinics);
        p->n_clinics = n_clinics;
    }
    if (streams) {
        p->streams = s_copy_list (streams, n_streams);
        p->n_streams = n_streams;
    }
    if ((clinics && !p->clinics) || (streams && !p->streams)) {
        p->refs = 1;
        meso_principal_release (p);
        return NULL;
    }
    return p;
}

void
meso_principal_release (meso_principal_t *p)
{
    if (!p)
        return;
    if (__atomic_sub_fetch (&p->refs, 1, __ATOMIC_ACQ_REL) > 0)
        return;
    for (size_t i = 0; i < p->n_clinics; i++)
        free (p->clinics [i]);
    free (p->clinics);
    for (size_t i = 0; i < p->n_streams; i++)
        free (p->streams [i]);
    free (p->streams);
    free (p);
}

/* ---------------------------------------------------------- the table */

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static zhashx_t *s_table;               /* Z85 key -> meso_principal_t (one reference) */
static unsigned long s_generation;

static void
s_release_item (void **item)
{
    meso_principal_release (*item);
    *item = NULL;
}

static zhashx_t *
s_new_table (void)
{
    zhashx_t *t = zhashx_new ();
    if (t)
        zhashx_set_destructor (t, s_release_item);
    return t;
}

void
meso_access_replace (meso_principal_t **principals, size_t n)
{
    zhashx_t *fresh = s_new_table ();
    if (!fresh) {
        for (size_t i = 0; i < n; i++)
            meso_principal_release (principals [i]);
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (principals [i])
            zhashx_update (fresh, principals [i]->key, principals [i]);
    pthread_mutex_lock (&s_lock);
    zhashx_t *old = s_table;
    s_table = fresh;
    s_generation++;
    pthread_mutex_unlock (&s_lock);
    zhashx_destroy (&old);
}

void
meso_access_put (meso_principal_t *p)
{
    if (!p)
        return;
    pthread_mutex_lock (&s_lock);
    if (!s_table)
        s_table = s_new_table ();
    if (s_table)
        zhashx_update (s_table, p->key, p);
    else
        meso_principal_release (p);
    s_generation++;
    pthread_mutex_unlock (&s_lock);
}

size_t
meso_access_count (void)
{
    pthread_mutex_lock (&s_lock);
    size_t n = s_table ? zhashx_size (s_table) : 0;
    pthread_mutex_unlock (&s_lock);
    return n;
}

unsigned long
meso_access_generation (void)
{
    pthread_mutex_lock (&s_lock);
    unsigned long g = s_generation;
    pthread_mutex_unlock (&s_lock);
    return g;
}

meso_principal_t *
meso_access_acquire (const char *key)
{
    if (!key || strlen (key) != MESO_KEY_Z85_LEN)
        return NULL;
    pthread_mutex_lock (&s_lock);
    meso_principal_t *p = s_table ? zhashx_lookup (s_table, key) : NULL;
    if (p)
        __atomic_add_fetch (&p->refs, 1, __ATOMIC_RELAXED);
    pthread_mutex_unlock (&s_lock);
    return p;
}

bool
meso_access_known (const char *key)
{
    meso_principal_t *p = meso_access_acquire (key);
    bool known = p && !p->revoked;
    meso_principal_release (p);
    return known;
}

void
meso_access_clear (void)
{
    pthread_mutex_lock (&s_lock);
    zhashx_t *old = s_table;
    s_table = NULL;
    pthread_mutex_unlock (&s_lock);
    zhashx_destroy (&old);
}

/* ---------------------------------------------------- the current call */

static __thread const meso_principal_t *s_principal;
static __thread const char *s_on_behalf_of;
static __thread bool s_scope_checked;
static __thread char s_clinic[MESO_ACTOR_ID_MAX + 1];     /* last checked */

void
meso_call_begin (const meso_principal_t *p, const char *on_behalf_of)
{
    s_principal = p;
    s_on_behalf_of = on_behalf_of ? on_behalf_of : "";
    s_scope_checked = false;
    s_clinic[0] = '\0';
}

void
meso_call_end (void)
{
    s_principal = NULL;
    s_on_behalf_of = NULL;
    s_scope_checked = false;
    s_clinic[0] = '\0';
}

bool
meso_call_scope_checked (void)
{
    return s_scope_checked;
}

const meso_principal_t *
meso_call_principal (void)
{
    return s_principal;
}

const char *
meso_call_on_behalf_of (void)
{
    return s_on_behalf_of ? s_on_behalf_of : "";
}

bool
meso_call_in_clinic (const char *clinic)
{
    return !s_principal || meso_principal_in_clinic (s_principal, clinic);
}

void
meso_call_scope_filtered (void)
{
    s_scope_checked = true;
}

bool
meso_call_scoped (void)
{
    return s_principal && !s_principal->all_clinics;
}

bool
meso_call_health (void)
{
    return !s_principal || s_principal->health;
}

int
meso_principal_need_clinic (const meso_principal_t *p, meso_reply_t *reply, const char *clinic,
                            const char *field)
{
    if (!p || meso_principal_in_clinic (p, clinic))
        return 0;
    meso_reply_error (reply, MESO_PERMISSION_DENIED,
                      "%s may not act in clinic \"%s\"", p->name, clinic ? clinic : "");
    meso_reply_detail (reply, "the principal's clinic scope does not include this clinic; "
                       "nothing was changed");
    meso_reply_reason (reply, "out_of_scope", field, "clinic \"%s\" is outside the scope of %s",
                       clinic ? clinic : "", p->name);
    return -1;
}

int
meso_call_need_clinic (meso_reply_t *reply, const char *clinic, const char *field)
{
    s_scope_checked = true;
    snprintf (s_clinic, sizeof s_clinic, "%s", clinic ? clinic : "");
    return meso_principal_need_clinic (s_principal, reply, clinic, field);
}

const char *
meso_call_clinic (void)
{
    return s_clinic;
}
