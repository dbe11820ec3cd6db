/* db_private.h -- what db.c offers the rest of libmeso but not services:
 * filling a handle's error from a PGresult obtained outside db.c (migrate.c
 * runs whole migration files with PQexec on meso_db_conn). */
#ifndef MESO_DB_PRIVATE_H
#define MESO_DB_PRIVATE_H

#include "meso/db.h"

/* Sets the handle's error from a failed result (res may be NULL: the error
 * is then taken from the connection), prefixing the message with prefix
 * (may be NULL). Connection loss is reported as class 08, as everywhere. */
void meso_db_set_error_result (meso_db_t *self, const PGresult *res, const char *prefix);

#endif
