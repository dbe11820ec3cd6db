/* audit.h -- the audit trail of patient data (deploy/sql/021_audit.sql).
 *
 * Which methods are audited is declared in the method tables: a method
 * flagged MESO_METHOD_PATIENT (meso/bus.h) gets one row per patient it
 * touches, per request, with the authenticated principal (name and key),
 * the person a service acts for, the method, the patient, the clinic, the
 * request id, the outcome status and whether it read or wrote. The bus
 * server drives it:
 *
 *   - before the handler it notes the method and the patient named at
 *     meso_method_t.patient (meso_audit_begin);
 *   - a handler that learns its patients itself (by appointment id, a
 *     list...) reports each with meso_call_patient;
 *   - a mutating method's run frame calls meso_audit_append as the last
 *     statement of its transaction, so the rows commit with the effect or
 *     not at all (the chain's lock is held only for the commit);
 *   - after the handler (meso_audit_finish), a successful request whose
 *     rows were not written in its transaction (a read, a replay) gets
 *     them now, in a statement of their own, before the reply is sent:
 *     when that fails the reply is replaced by UNAVAILABLE and its body is
 *     never sent. A refused or failed request gets rows with its status
 *     (and keeps its reply if they cannot be written: it disclosed
 *     nothing; the failure is logged), except UNAVAILABLE: the database
 *     was out of reach, nothing was read or changed, and the retry is
 *     recorded.
 *
 * A method touching several patients (a list) writes one row per patient,
 * so `mesoctl audit patient <id>` finds every request that touched that
 * patient with one index look-up. A successful patient method that named
 * no patient (no field value and nothing reported) is a bug of its
 * handler: its answer is withheld (INTERNAL) and the omission logged,
 * unless the handler said it touched none (meso_call_patient (NULL, ..)).
 *
 * The canonical row and the chain (pure, no I/O) are at the end: mesoctl
 * audit verify recomputes every hash with them from the raw rows. */
#ifndef MESO_AUDIT_H
#define MESO_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meso/bus.h"
#include "meso/db.h"

/* The retention of the trail, in days (MESO_AUDIT_RETENTION_DAYS of
 * mesoctl audit prune): six years by default, as medical-record rules
 * commonly ask. */
#define MESO_AUDIT_RETENTION_DAYS 2192
#define MESO_AUDIT_RETENTION_MIN_DAYS 30
#define MESO_AUDIT_RETENTION_MAX_DAYS 36600

/* Most patients one request records (a longer list is refused INTERNAL:
 * a list method pages its replies well below this). */
#define MESO_AUDIT_PATIENTS_MAX 1000

/* The handler of the current call touched patient_id of clinic_id (clinic
 * NULL or "": the clinic the call's scope names or the handler checked).
 * patient_id NULL: the handler looked and touched no patient (no row).
 * Duplicates are recorded once. Outside a request: nothing. */
void meso_call_patient (const char *patient_id, const char *clinic_id);

/* The current call answers a stored reply (an idempotency replay): the
 * handler did not run, so a method that learns its patient from the
 * database records the row with the patient named in the request, or
 * none (the row's request id is the original's when the client retried,
 * as the bus client does). The run frames call it. */
void meso_audit_replay (void);

/* Writes the current call's rows in db's open transaction, with the status
 * of reply (OK, or a replayed OK). To be the last statement before COMMIT.
 * Does nothing outside a patient method's request. Returns 0, or -1 with
 * the database error set (the caller rolls back). */
int meso_audit_append (meso_db_t *db, const meso_reply_t *reply);

/* For the bus server (see above). begin copies what it needs from req and
 * body; finish writes the rows not written yet and may replace reply;
 * end forgets the call. db NULL (a server without a database): nothing is
 * recorded. */
void meso_audit_begin (const meso_method_t *m, const Meso__V1__Request *req,
                       const ProtobufCMessage *body);
void meso_audit_finish (meso_db_t *db, meso_reply_t *reply);
void meso_audit_end (void);

/* ------------------------------------------------ canonical row, chain */

#define MESO_AUDIT_HASH_LEN 32

typedef struct {
    const char *clinic_id;
    long long seq;
    long long at_us;            /* microseconds since 1970-01-01 UTC */
    const char *principal;
    const char *principal_key;
    const char *method;
    const char *patient_id;
    const char *request_id;
    int status;
    const char *access;         /* "read" or "write" */
    const char *on_behalf_of;
} meso_audit_row_t;

/* Writes the canonical encoding of row into out (see 021_audit.sql) and
 * returns its length; when it exceeds size, returns the length needed and
 * writes nothing. */
size_t meso_audit_canonical (const meso_audit_row_t *row, uint8_t *out, size_t size);

/* hash = sha256(prev || canonical(row)). Returns 0, -1 on out-of-memory. */
int meso_audit_hash (const uint8_t prev[MESO_AUDIT_HASH_LEN], const meso_audit_row_t *row,
                     uint8_t hash[MESO_AUDIT_HASH_LEN]);

/* Walking one chain in seq order. Start with meso_audit_chain_start (the
 * anchor's seq and hash, or 0 and NULL for a chain never pruned), feed
 * every row with its stored hash, then meso_audit_chain_end with the
 * head's seq and hash. Each returns MESO_AUDIT_OK or the first break,
 * with a one-line description in why. */
typedef enum {
    MESO_AUDIT_OK = 0,
    MESO_AUDIT_EDITED,          /* the stored hash is not the recomputed one */
    MESO_AUDIT_MISSING,         /* a gap in seq: rows deleted */
    MESO_AUDIT_REORDERED,       /* seq repeated or going back */
    MESO_AUDIT_TRUNCATED        /* the head is ahead of the last row */
} meso_audit_break_t;

typedef struct {
    long long seq;              /* the last seq seen (the anchor's at start) */
    uint8_t hash[MESO_AUDIT_HASH_LEN];
    long long at_us;            /* the last row's time */
    long long rows;             /* rows checked */
} meso_audit_chain_t;

void meso_audit_chain_start (meso_audit_chain_t *c, long long anchor_seq,
                             const uint8_t *anchor_hash);
/* next: the row after this one (NULL at the end). A row's time is taken
 * under the chain's lock, so times never go back along a chain: a hash
 * that does not match beside a time out of order is told as rows put in
 * another order (their contents swapped), otherwise as an edit. */
meso_audit_break_t meso_audit_chain_next (meso_audit_chain_t *c, const meso_audit_row_t *row,
                                          const uint8_t stored[MESO_AUDIT_HASH_LEN],
                                          const meso_audit_row_t *next, char *why, size_t size);
meso_audit_break_t meso_audit_chain_end (meso_audit_chain_t *c, long long head_seq,
                                         const uint8_t head_hash[MESO_AUDIT_HASH_LEN],
                                         char *why, size_t size);
/* "edited", "missing", "reordered", "truncated", "ok". */
const char *meso_audit_break_name (meso_audit_break_t b);

#endif
