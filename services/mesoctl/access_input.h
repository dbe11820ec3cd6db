/* access_input.h -- what "mesoctl access" accepts, checked before anything
 * is written: a principal's name, kind, roles, clinics and streams, and a
 * CURVE public key typed as Z85 text.
 *
 * Each check turns the operator's comma-separated list into the text[]
 * literal access.principal stores ("{front_desk,clinician}"), or says
 * what is wrong in one line that names the option and, for a closed set,
 * lists the valid values. The rules are the schema's
 * (deploy/sql/015_access.sql): checking them here first gives a message a
 * person can act on instead of a CHECK violation, and lets a bad command
 * change nothing (no key files written). Pure: no I/O, unit tested in
 * tests/unit/test_mesoctl_access_input.c. */
#ifndef MESOCTL_ACCESS_INPUT_H
#define MESOCTL_ACCESS_INPUT_H

#include <stdbool.h>
#include <stddef.h>

/* Longest text[] literal produced (1000 clinic ids of 64 characters). */
#define MESOCTL_ACCESS_LIST_MAX 66000

/* A name: 1..64 of [A-Za-z0-9._@-], starting with a letter or digit.
 * Returns 0, or -1 with why in err. */
int mesoctl_access_name (const char *name, char *err, size_t errsize);

/* "person", "integration", "service", "operator": 0, else -1 with err
 * listing them. */
int mesoctl_access_kind (const char *kind, char *err, size_t errsize);

/* "front_desk,clinician" -> "{front_desk,clinician}" in out (duplicates
 * once, blanks around items ignored); "all" -> every role. An unknown or
 * missing role is refused with the valid ones listed. Returns 0 or -1. */
int mesoctl_access_roles (const char *list, char *out, size_t size, char *err, size_t errsize);

/* Clinic ids ([a-z0-9_-], 1..64 each, at most 1000) -> "{par,nyc}";
 * "all" -> *all set and out "" (every clinic of the chain). "" is refused
 * when required (persons and integrations must name their clinics or say
 * "all"), else means every clinic. Returns 0 or -1. */
int mesoctl_access_clinics (const char *list, bool required, bool *all, char *out, size_t size,
                            char *err, size_t errsize);

/* Streams (session, screening, stock, billing) -> "{session,stock}";
 * "" or "all" -> *all set (every stream). Returns 0 or -1. */
int mesoctl_access_streams (const char *list, bool *all, char *out, size_t size, char *err,
                            size_t errsize);

/* A Z85 public key: exactly 40 characters of the Z85 alphabet. Returns 0
 * or -1. */
int mesoctl_access_public_key (const char *key, char *err, size_t errsize);

#endif
