/* access.h -- who is calling: principals, roles, clinic scopes, and the
 * call being served.
 *
 * A principal is a CURVE public key registered in access.principal (see
 * deploy/sql/015_access.sql) with a name, a kind, roles, the clinics it may
 * act in, the event streams it may read and whether it may see health
 * data. Every daemon keeps the table in memory (meso_access_start loads it
 * and reloads it on NOTIFY meso_access); its ZAP handler (curve.h) refuses
 * the handshake of a key that is not there or is revoked, and its bus
 * server looks the caller up again for every request, so a key revoked
 * while its connection is open is refused at its next request.
 *
 * While a handler runs, the bus server publishes the call (principal,
 * on-behalf-of) for the serving thread: meso_call_principal() and
 * meso_call_need_clinic() read it, and a bus client making a call from
 * that thread passes the person along as on_behalf_of. */
#ifndef MESO_ACCESS_H
#define MESO_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include "meso/bus.h"

/* Roles, as bits of a method's allowed set and a principal's roles. */
enum {
    MESO_ROLE_FRONT_DESK = 1u << 0,
    MESO_ROLE_CLINICIAN = 1u << 1,
    MESO_ROLE_STOCK_KEEPER = 1u << 2,
    MESO_ROLE_BILLING_CLERK = 1u << 3,
    MESO_ROLE_CLINIC_MANAGER = 1u << 4,
    MESO_ROLE_INTEGRATION = 1u << 5,
    MESO_ROLE_SERVICE = 1u << 6,
    MESO_ROLE_OPERATOR = 1u << 7,
    MESO_ROLE_ALL = 0xffu
};
#define MESO_ROLE_COUNT 8

typedef enum {
    MESO_PRINCIPAL_PERSON = 0,
    MESO_PRINCIPAL_INTEGRATION = 1,
    MESO_PRINCIPAL_SERVICE = 2,
    MESO_PRINCIPAL_OPERATOR = 3
} meso_principal_kind_t;

#define MESO_KEY_Z85_LEN 40
#define MESO_PRINCIPAL_NAME_MAX 64

typedef struct {
    char key [MESO_KEY_Z85_LEN + 1];        /* Z85 public key */
    char name [MESO_PRINCIPAL_NAME_MAX + 1];
    meso_principal_kind_t kind;
    unsigned roles;                         /* MESO_ROLE_* bits */
    bool all_clinics;                       /* clinics = every clinic of the chain */
    char **clinics;                         /* n_clinics ids, when not all_clinics */
    size_t n_clinics;
    bool all_streams;
    char **streams;
    size_t n_streams;
    bool health;                            /* may see health data */
    bool revoked;
    int refs;                               /* owners; see meso_principal_release */
} meso_principal_t;

/* ----------------------------------------------------- pure helpers */

/* "front_desk" -> MESO_ROLE_FRONT_DESK; 0 when unknown. */
unsigned meso_role_parse (const char *name);
/* Name of one role bit ("front_desk"), NULL when not exactly one known bit. */
const char *meso_role_name (unsigned role);
/* Writes the role names of mask joined by ", " ("none" for 0). */
void meso_roles_format (unsigned mask, char *out, size_t size);
/* "person" -> MESO_PRINCIPAL_PERSON...; -1 when unknown. */
int meso_principal_kind_parse (const char *name);
const char *meso_principal_kind_name (meso_principal_kind_t kind);
/* The Actor.Kind a principal kind is recorded as. */
int meso_principal_actor_kind (meso_principal_kind_t kind);
/* Whether p may act in clinic (false for an empty clinic unless p has
 * every clinic). */
bool meso_principal_in_clinic (const meso_principal_t *p, const char *clinic);
/* Whether p may read stream ("session", "screening", ...). */
bool meso_principal_in_stream (const meso_principal_t *p, const char *stream);

/* Refuses with PERMISSION_DENIED (reason "out_of_scope" on field) unless
 * p may act in clinic (p NULL: allowed). Returns 0 when allowed. */
int meso_principal_need_clinic (const meso_principal_t *p, meso_reply_t *reply,
                                const char *clinic, const char *field);

/* A principal made from its parts (clinics/streams NULL: all), for the
 * loader and for tests, with one reference. Returns NULL on out-of-memory
 * or when key is not 40 characters. */
meso_principal_t *meso_principal_new (const char *key, const char *name,
                                      meso_principal_kind_t kind, unsigned roles,
                                      const char *const *clinics, size_t n_clinics,
                                      const char *const *streams, size_t n_streams,
                                      bool health, bool revoked);
/* Drops one reference; the last frees it. NULL-safe. */
void meso_principal_release (meso_principal_t *p);

/* ----------------------------------------------------- the table */

/* Starts the loader: a thread with its own connection to conninfo that
 * reads access.principal, LISTENs on meso_access and reloads on every
 * notification (and reconnects by itself). Until the first load, every
 * key is unknown. Once per process; later calls are ignored. Returns 0,
 * or -1 when the thread cannot start. */
int meso_access_start (const char *conninfo);
/* Stops the loader and empties the table (at exit, for valgrind). */
void meso_access_stop (void);

/* Replaces the whole table (takes one reference of each principal and
 * drops the old table's): what the loader does after each read; tests and
 * in-process servers without a database use it directly. */
void meso_access_replace (meso_principal_t **principals, size_t n);
/* Adds or replaces one principal (takes it). */
void meso_access_put (meso_principal_t *p);
/* Empties the table (every key unknown). */
void meso_access_clear (void);
/* Number of principals loaded, and the number of loads so far. */
size_t meso_access_count (void);
unsigned long meso_access_generation (void);

/* Whether key (Z85) names a principal that is not revoked: the ZAP
 * handler's question. */
bool meso_access_known (const char *key);
/* The principal of key with a reference the caller releases, or NULL
 * when the key is unknown. A revoked principal is returned too (its
 * revoked flag set). Principals never change once made: a reload makes new
 * ones, so a request keeps a consistent view however long it runs. */
meso_principal_t *meso_access_acquire (const char *key);

/* ----------------------------------------------------- the current call */

/* The principal of the request the calling thread is serving, NULL
 * outside a request (or on a plaintext server). */
const meso_principal_t *meso_call_principal (void);
/* The person a service principal acts for ("" when none). */
const char *meso_call_on_behalf_of (void);
/* Refuses with PERMISSION_DENIED (reason "out_of_scope", field) unless the
 * caller may act in clinic; marks the call's scope as checked. Returns 0
 * when allowed. Outside a request (no principal) everything is allowed. */
int meso_call_need_clinic (meso_reply_t *reply, const char *clinic, const char *field);
/* The clinic the handler last checked with meso_call_need_clinic ("" when
 * none): the audit trail's clinic for a method whose scope the handler
 * resolves. */
const char *meso_call_clinic (void);
/* Whether the caller may act in clinic (no reply, no mark): for filtering
 * lists. */
bool meso_call_in_clinic (const char *clinic);
/* Marks the call's scope as checked when the handler answered a list
 * filtered with meso_call_in_clinic (only the rows of the caller's
 * clinics) rather than about one clinic. */
void meso_call_scope_filtered (void);
/* Whether the caller is limited to some clinics (false outside a request
 * and for a principal of every clinic): a handler may skip the lookup of
 * a row's clinic when it is not. */
bool meso_call_scoped (void);
/* Whether the caller may see health data (true outside a request). */
bool meso_call_health (void);

/* For the bus server: sets and clears the calling thread's call. */
void meso_call_begin (const meso_principal_t *p, const char *on_behalf_of);
bool meso_call_scope_checked (void);
void meso_call_end (void);

#endif
