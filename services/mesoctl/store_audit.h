/* store_audit.h -- the SQL of "mesoctl audit" (see store_audit.c). */
#ifndef MESOCTL_STORE_AUDIT_H
#define MESOCTL_STORE_AUDIT_H

#include "meso/db.h"

/* Columns of mesoctl_store_audit_rows, in this order. */
enum {
    AR_CLINIC, AR_SEQ, AR_AT_US, AR_PRINCIPAL, AR_KEY, AR_METHOD, AR_PATIENT, AR_REQUEST,
    AR_STATUS, AR_ACCESS, AR_BEHALF, AR_HASH
};

/* Every chain: clinic_id, anchor seq (NULL: none), anchor hash (hex),
 * head seq (NULL: none), head hash (hex); clinic NULL: all, else that
 * one. NULL on a database error. */
PGresult *mesoctl_store_audit_chains (meso_db_t *db, const char *clinic);

/* Up to limit rows of clinic after seq, in seq order (columns AR_*). */
PGresult *mesoctl_store_audit_rows (meso_db_t *db, const char *clinic, long long after, int limit);

/* Who touched patient: at (UTC text), clinic_id, seq, principal,
 * on_behalf_of, method, access, status, request_id, oldest first, at
 * most limit rows. */
PGresult *mesoctl_store_audit_patient (meso_db_t *db, const char *patient, int limit);

/* audit.prune (before): the rows deleted into *deleted. 0 or -1. */
int mesoctl_store_audit_prune (meso_db_t *db, const char *before, long long *deleted);

#endif
