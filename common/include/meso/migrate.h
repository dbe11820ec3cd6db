/* migrate.h -- applying deploy/sql migrations.
 *
 * Files named NNN_name.sql (NNN: three or more digits) in one folder are
 * applied in numeric order, each once, each in its own transaction together
 * with its row in public.schema_migrations (version, name, sha256 of the
 * file, applied_at). The whole run holds a session advisory lock, so two
 * migrators started at once apply each file once. A file already applied
 * whose content changed is an error: migrations are never edited, a new one
 * is added. */
#ifndef MESO_MIGRATE_H
#define MESO_MIGRATE_H

#include "meso/db.h"

/* Applies pending migrations from dir. *applied (may be NULL) is set to how
 * many were applied now. Returns 0, or -1 with the database error set (or a
 * message via meso_db_set_error for file problems). */
int meso_migrate (meso_db_t *db, const char *dir, int *applied);

/* Number of the newest applied migration (0 when none); -1 on error. */
int meso_migrate_version (meso_db_t *db);

/* Sets role's password without ever sending it: libpq computes its
 * SCRAM-SHA-256 verifier (PQencryptPasswordConn) and only the verifier
 * goes to the server, so no log or statistics view can show the
 * password. Returns 0, or -1 with the database error set. */
int meso_migrate_set_password (meso_db_t *db, const char *role, const char *password);

#endif
