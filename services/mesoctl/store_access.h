/* store_access.h -- the SQL of "mesoctl access": access.principal, read
 * and written as the migration role (the daemons only read it; see
 * deploy/sql/015_access.sql). Every change fires the table's NOTIFY, so
 * the running daemons reload at once. */
#ifndef MESOCTL_STORE_ACCESS_H
#define MESOCTL_STORE_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <libpq-fe.h>

#include "meso/db.h"

/* A principal to register: lists are text[] literals ("{par,nyc}"),
 * clinics / streams NULL for every one. */
typedef struct {
    const char *key;            /* Z85 public key */
    const char *name;
    const char *kind;
    const char *roles;
    const char *clinics;
    const char *streams;
    bool health;
} mesoctl_principal_in_t;

/* Registers p. Returns 0; 1 when the name or the key is taken (err says
 * by whom, nothing written); -1 on a database error (the db's error). */
int mesoctl_store_principal_add (meso_db_t *db, const mesoctl_principal_in_t *p, char *err,
                                 size_t errsize);

/* Principals ordered by name (only the one named name, when not NULL):
 * columns 0 name, 1 kind, 2 roles, 3 clinics, 4 streams (comma-separated
 * text; clinics/streams SQL NULL = every one), 5 health ("t"/"f"),
 * 6 created_at, 7 revoked_at (NULL when active; both UTC, seconds,
 * "YYYY-MM-DD HH:MM:SS"), 8 public_key. NULL on a database error. */
PGresult *mesoctl_store_principals (meso_db_t *db, const char *name);

/* Revokes name now. Returns 0 (revoked; when gets the time), 1 (no such
 * principal), 2 (already revoked; when gets since when), -1 (database). */
int mesoctl_store_principal_revoke (meso_db_t *db, const char *name, char *when, size_t whensize);

/* What mesoctl_store_bootstrap did with one principal. */
typedef enum {
    MESOCTL_BOOT_ADDED,         /* registered */
    MESOCTL_BOOT_KEPT,          /* already registered with this key */
    MESOCTL_BOOT_REKEYED,       /* registered with another key: key replaced */
    MESOCTL_BOOT_REVOKED,       /* revoked: left alone */
    MESOCTL_BOOT_CONFLICT       /* the key belongs to another name: left alone */
} mesoctl_boot_t;

/* Registers each of the n principals unless present, in one transaction
 * (all or nothing). outcome[i] says what happened to each. Returns 0 or
 * -1 (database). */
int mesoctl_store_bootstrap (meso_db_t *db, const mesoctl_principal_in_t *p, size_t n,
                             mesoctl_boot_t *outcome);

#endif
