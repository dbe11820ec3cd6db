/* bench_frontdesk_sql.h -- screening's store functions for
 * bench_frontdesk.c, behind names of their own (screening.h and the other
 * services' store headers declare types of the same names, so they are
 * compiled in a file of their own: bench_frontdesk_sql.c). */
#ifndef BENCH_FRONTDESK_SQL_H
#define BENCH_FRONTDESK_SQL_H

#include <stddef.h>
#include <stdint.h>
#include "meso/db.h"

/* What GetPatients reads for ids_literal ("{uuid,...}", n ids): the
 * patients, then their screening and consent states. Returns the rows
 * read or -1. */
int bench_fd_patients (meso_db_t *db, const char *ids_literal, size_t n, const char *clinic, const char *date);
/* What SearchPatients reads for a name, birth date, phone or e-mail
 * (any may be NULL) in clinic with key: the matching ids (a page of 50),
 * then those patients. Returns the patients found or -1. */
int bench_fd_search (meso_db_t *db, const uint8_t *key, const char *clinic, const char *name, const char *birth,
                     const char *phone, const char *email);
/* The same, then the search's audit rows (bench_fd_audit) when audit_us
 * is not NULL, their time written there. */
int bench_fd_search_audited (meso_db_t *db, const uint8_t *key, const char *clinic, const char *name,
                             const char *birth, const char *phone, const char *email, int64_t *audit_us);
/* The audit rows a list read appends (common/src/audit.c): one per
 * patient of ids_literal in clinic, by audit.append_rows, as the
 * service's role does after answering method. Returns 0 or -1. */
int bench_fd_audit (meso_db_t *db, const char *clinic, const char *ids_literal, const char *method);
/* Writes the search index of every patient (COPY), as the daemon would.
 * Returns the rows written or -1. */
int64_t bench_fd_index (meso_db_t *db, const uint8_t *key);

#endif
