/* screening.h -- the screening daemon's state and the interface between
 * its files, each of which owns one thing:
 *
 *   main.c        configuration, the socket, the loop
 *   handlers.c    the method table: every method and the file that owns it
 *   patients.c    RegisterPatient, UpdatePatient, ReportChange, and the
 *                 screening.patient_changed event
 *   screenings.c  RecordScreening, GetScreening, Check
 *   settings.c    SetClinicSettings
 *   search.c      SearchPatients, GetPatients, and the search index kept
 *                 with every patient (its key, the backfill at start)
 *   consents.c    SetConsentText, GetConsentText, SignConsent,
 *                 GetConsents, and the consent part of Check
 *   erasure.c     ErasePatient: the patient's data key destroyed
 *   personal.c    the sealed form of personal and health fields (the
 *                 patient record, a screening's record, a reported
 *                 change) under the patient's data key (meso/vault.h)
 *   legacy.c      sealing, at start, rows written before migration 023
 *   answers.c     a screening between the wire and the rules: the
 *                 questionnaire read, codes checked against the
 *                 catalogue, a stored record decoded, reasons on the wire
 *   catalogue.c   the ingredient codes screening knows: inventory's
 *                 catalogue, asked on a code not seen before and kept
 *   frame.c       what every method shares: the run frame of a mutating
 *                 method (key, work, reply in one transaction), the
 *                 refusal with every reason, reading a patient
 *   rules.c       the rules, pure (rules.h): every decision taken from a
 *                 request or from loaded rows
 *   consent_rules.c  treatment consent, pure (consent_rules.h): codes,
 *                 the SHA-256 of a text, whether signatures suffice
 *   store.c       the SQL of the screening schema, and nothing else
 *   store_consent.c  the SQL of the consent texts and signatures
 *   store_search.c   the SQL of the search index (migration 027) and the
 *                 agenda's batch of screening and consent states
 *   search_norm.c the search index's folding and keyed hashes, pure
 *                 (search_norm.h)
 *
 * Calls go one way, with no circle: handlers.c -> the aggregate files ->
 * frame.c and catalogue.c -> store.c -> personal.c; screenings.c -> consents.c (Check's
 * consent part); everything may call rules.c, which calls nothing of the
 * daemon. Strings in the structs below are borrowed unless said. */
#ifndef SCREENING_SCREENING_H
#define SCREENING_SCREENING_H

#include <stdbool.h>
#include <stdint.h>

#include "meso/bus.h"
#include "meso/clinics.h"
#include "meso/db.h"
#include "meso/enumtext.h"
#include "meso/vault.h"
#include "meso/handler.h"
#include "rules.h"
#include "search_norm.h"
#include "screening.pb-c.h"

typedef struct {
    meso_db_t *db;
    meso_bus_server_t *server;
    meso_clinics_t *clinics;        /* which clinics exist (scheduling.GetClinic, cached) */
    meso_bus_client_t *inventory;   /* the catalogue's owner (GetIngredients); NULL: none */
    meso_bus_client_t *scheduling;  /* asked before an erasure (GetCourse); NULL: none */
    uint8_t search_key[SEARCH_KEY_BYTES];   /* the blind index's key (search.c) */
} screening_t;

/* A patient row, as text (sizes are the schema's limits + NUL). */
typedef struct {
    char id[40];
    char given_name[804];               /* 200 characters of up to 4 bytes */
    char family_name[804];
    char birth_date[16];                /* "YYYY-MM-DD" */
    int sex;
    char phone[260];
    char email[1020];
    char home_clinic_id[260];
    int64_t created_at_us;
    int64_t updated_at_us;
    /* The patient's data key (store_patient_get fills it): key_state is a
     * meso_vault_state_t; MESO_VAULT_KEY_ERASED makes the fields above
     * placeholders and erased true. */
    int key_state;
    meso_vault_key_t key;
    bool erased;
    int64_t erased_at_us;
} store_patient_t;

/* A screening row as the store needs it. */
typedef struct {
    const char *patient_id;
    const char *clinic_id;
    int64_t screened_at_us;
    int32_t screened_on;
    const rules_answers_t *answers;
    const rules_verdict_t *verdict;
    const rules_settings_t *settings;
    const uint8_t *record;              /* packed meso.v1.Screening */
    size_t record_len;
    const store_patient_t *patient;     /* its key seals the record */
} store_screening_t;

/* ---- store.c: the SQL of the screening schema ---- */

/* The settings of clinic (defaults when it has none). 0 or -1. */
int store_settings_get (meso_db_t *db, const char *clinic_id, rules_settings_t *out);
/* The settings in a result of their columns (defaults when no row). */
void store_settings_row (const PGresult *res, rules_settings_t *out);
/* Creates or replaces clinic's settings. 0 or -1. */
int store_settings_set (meso_db_t *db, const char *clinic_id, const rules_settings_t *s);

/* Inserts p (fields as validated by the handler) with a new data key,
 * its personal fields sealed under it; fills out with the row as stored
 * (id, timestamps, key). 0 or -1. */
int store_patient_insert (meso_db_t *db, const Meso__V1__Patient *p, store_patient_t *out);
/* Reads patient id, its personal fields opened with its data key (an
 * erased patient reads as placeholders, erased set); lock takes a row lock
 * (FOR UPDATE). 1 found, 0 not found, -1 error. */
int store_patient_get (meso_db_t *db, const char *id, bool lock, store_patient_t *out);
/* The patient of a result of store_check_reads (out[0]), opened as
 * store_patient_get opens it. 1 found, 0 not found, -1 error. */
int store_patient_row (meso_db_t *db, PGresult *res, store_patient_t *out);
/* What a Check reads, in one round trip (patient_id a valid UUID):
 * out[0] the patient (store_patient_row), out[1] the latest screening
 * (the columns of store_screenings), out[2] the changes reported after
 * it (those of store_changes_since; none without a screening), out[3]
 * the settings (store_settings_row) of clinic_id, or when it is empty of
 * the clinic of that screening. 0, or -1 with the db error set. */
int store_check_reads (meso_db_t *db, const char *patient_id, const char *clinic_id, PGresult *out[4]);
/* Reads the patients whose ids are in ids_literal ("{uuid,uuid}", each
 * a valid UUID), in no particular order, at most max, opened as
 * store_patient_get opens one. Returns the count or -1. */
int store_patients_get_many (meso_db_t *db, const char *ids_literal, store_patient_t *out, size_t max);
/* Writes every field of p (a full row, read by store_patient_get) back,
 * sealed (a patient of before migration 023 gets its key here). 0 or -1. */
int store_patient_update (meso_db_t *db, const store_patient_t *p, store_patient_t *out);
/* Erasure's part in the screening schema: the plaintext columns of a
 * row of before migration 023 emptied, and the stored replies of
 * requests about the patient deleted (their count in *replies). 0 or -1. */
int store_patient_erase (meso_db_t *db, const char *id, long *replies);
/* Records that the stored reply of idempotency key `key` is about
 * patient_id (erasure deletes it). 0 or -1. */
int store_idem_patient (meso_db_t *db, const char *key, const char *patient_id);

/* 1 when code is an ingredient inventory confirmed (screening.ingredients
 * with confirmed_at set), 0 when not, -1 on error. */
int store_ingredient_known (meso_db_t *db, const char *code);
/* Records code (of valid syntax) as confirmed by inventory, with its
 * display name. Idempotent. 0 or -1. */
int store_ingredient_confirm (meso_db_t *db, const char *code, const char *name);

/* The current time (clock_timestamp()), microseconds. 0 or -1. */
int store_now (meso_db_t *db, int64_t *out_us);

/* Inserts a screening with its areas and allergies; writes its new id
 * (the caller made it, so the packed record can carry it). 0 or -1. */
int store_screening_insert (meso_db_t *db, const char *id, const store_screening_t *s);

/* The newest screenings of patient, newest first, at most limit, after
 * the position (screened_at in microseconds, id; NULL, NULL: from the
 * newest): columns id, screened_at_us, record (bytea as returned by libpq
 * in text form; use store_bytea), sealed ('t'/'f'), clinic_id,
 * screened_on, verdict, valid_until. Caller PQclear()s; NULL on error. */
PGresult *store_screenings (meso_db_t *db, const char *patient_id, int limit,
                            const char *before_us, const char *after_id);
/* The clinics where patient has a screening (one column, clinic_id).
 * Caller PQclear()s; NULL on error. */
PGresult *store_patient_screened_at (meso_db_t *db, const char *patient_id);
/* Unescapes a bytea text value; caller PQfreemem()s. */
uint8_t *store_bytea (const PGresult *res, int row, int col, size_t *len);

/* Changes of patient reported after since_us (all when since_us is
 * INT64_MIN), oldest first: columns changes (text "{a,b}"), note,
 * reported_at_us, ineligible ('t'/'f'), sealed (bytea; when not NULL it
 * holds changes and note: personal_change_open). NULL on error. */
PGresult *store_changes_since (meso_db_t *db, const char *patient_id, int64_t since_us);
/* Records a change (codes already validated as [a-z0-9_]), sealed under
 * p's key. 0 or -1. */
int store_change_insert (meso_db_t *db, const store_patient_t *p, const char *const *codes,
                         size_t n, const char *note, bool ineligible, int64_t *reported_us);
/* Splits a text[] value of plain codes ("{a,b}") into out (pointers into
 * buf, which receives a copy). Returns the count. */
size_t store_split_codes (const char *value, char *buf, size_t bufsize, const char **out,
                          size_t max);

/* ---- store_legacy.c: rows written before migration 023 ---- */

/* Ids of patients with a plaintext record, screening or change (at most
 * limit). NULL on error. */
PGresult *store_legacy_patients (meso_db_t *db, int limit);
/* Seals a patient row: personal set, plaintext columns NULL. 0 or -1. */
int store_legacy_seal_patient (meso_db_t *db, const char *id, const uint8_t *sealed, size_t len);
/* A patient's unsealed screenings, locked: columns id, record. */
PGresult *store_legacy_screenings (meso_db_t *db, const char *patient_id);
/* Seals screening id (record replaced, answer columns NULL, area and
 * allergy rows deleted). 0 or -1. */
int store_legacy_seal_screening (meso_db_t *db, const char *id, const uint8_t *sealed, size_t len);
/* A patient's unsealed changes, locked: columns id, changes, note. */
PGresult *store_legacy_changes (meso_db_t *db, const char *patient_id);
/* Seals change id (sealed set, changes and note NULL). 0 or -1. */
int store_legacy_seal_change (meso_db_t *db, const char *id, const uint8_t *sealed, size_t len);

/* ---- personal.c: the sealed form of personal and health fields ---- */

#define PERSONAL_PATIENT_COLUMN "screening.patients.personal"
#define PERSONAL_RECORD_COLUMN "screening.screenings.record"
#define PERSONAL_CHANGE_COLUMN "screening.patient_changes.sealed"

/* p's personal fields (names, birth date, sex, phone, e-mail) packed and
 * sealed under key for p->id; caller free()s. NULL on no memory. */
uint8_t *personal_patient_seal (const meso_vault_key_t *key, const store_patient_t *p,
                                size_t *len);
/* Opens what personal_patient_seal made into p's personal fields. 0 or
 * -1 (does not open or decode). */
int personal_patient_open (const meso_vault_key_t *key, const uint8_t *sealed, size_t len,
                           store_patient_t *p);
/* Sets p's personal fields to the placeholders of an erased patient. */
void personal_patient_erased (store_patient_t *p);
/* A reported change (codes, note) packed and sealed for patient_id;
 * caller free()s. NULL on no memory. */
uint8_t *personal_change_seal (const meso_vault_key_t *key, const char *patient_id,
                               const char *const *codes, size_t n, const char *note, size_t *len);
/* Row r of a store_changes_since result as plaintext: codes as text
 * "{a,b}" into codes (size bytes), the note in a fresh string (caller
 * free()s). An erased patient's change reads "{}" and "[erased]". 0, or
 * -1 when it does not open or memory ran out. */
int personal_change_open (const store_patient_t *p, PGresult *res, int r, char *codes,
                          size_t size, char **note);

/* ---- store_consent.c: consent texts and signatures ---- */

/* Serialises the texts and signatures of (clinic, treatment) until the
 * transaction ends (numbering a new version; signing the current one).
 * 0 or -1. */
int store_consent_lock (meso_db_t *db, const char *clinic_id, const char *treatment);
/* Version `version` (0: the current one) of a clinic's text: no row when
 * none, else columns clinic_id, treatment, version, body, sha256,
 * created_at_us, current ('t'/'f'). Caller PQclear()s; NULL on error. */
PGresult *store_consent_text (meso_db_t *db, const char *clinic_id, const char *treatment,
                              int version);
/* Inserts the next version (under store_consent_lock) and returns it as
 * one row of store_consent_text's columns. NULL on error. */
PGresult *store_consent_text_insert (meso_db_t *db, const char *clinic_id, const char *treatment,
                                     const char *body, const char *sha256);
/* Inserts a signature and returns it: columns signature_id, patient_id,
 * clinic_id, treatment, version, text_sha256, witness, signed_at_us,
 * current ('t'/'f'). NULL on error. */
PGresult *store_consent_sign (meso_db_t *db, const char *signature_id, const char *patient_id,
                              const char *clinic_id, const char *treatment, int version,
                              const char *sha256, const char *witness);
/* A page of a patient's signatures, newest first, after the position
 * (signed_at in microseconds, signature_id; NULL, NULL: from the newest),
 * at most limit, in store_consent_sign's columns; clinic_id and treatment ("" or NULL: any) filter. NULL on
 * error. */
PGresult *store_consents (meso_db_t *db, const char *patient_id, const char *clinic_id,
                          const char *treatment, const char *before_us, const char *after_id,
                          int limit);
/* The clinic's current version (0: no text), the newest version the
 * patient signed there for the treatment (0: none) and whether the
 * current one is signed. 0 or -1. */
int store_consent_state (meso_db_t *db, const char *patient_id, const char *clinic_id,
                         const char *treatment, int *current, int *newest_signed,
                         bool *current_signed);

/* ---- store_search.c: the patient search (migration 027) ---- */

/* Deletes every search row of the patient (erasure; before a re-index).
 * 0 or -1. */
int store_search_forget (meso_db_t *db, const char *patient_id);
/* Replaces the patient's search rows with t[0..n), under clinic_id. */
int store_search_replace (meso_db_t *db, const char *patient_id, const char *clinic_id,
                          const search_token_t *t, size_t n);
/* Ids of the patients of clinic_id holding every token of t[0..n) (n at
 * most 64), after patient id `after` ("" or NULL: from the start), by
 * id, at most limit. NULL on error. */
PGresult *store_search_find (meso_db_t *db, const char *clinic_id, const search_token_t *t, size_t n,
                             const char *after, int limit);
/* Ids of up to limit patients with no search rows (registered before
 * migration 027). NULL on error. */
PGresult *store_search_unindexed (meso_db_t *db, int limit);
/* One row per id of ids_literal ("{uuid,...}"), in its order: id, newest screening's
 * verdict ("" none), its valid_until, expired on date ('t'/'f'), a
 * change reported after it ('t'/'f'), the clinic's current consent
 * version for treatment (0 none), the newest version the patient
 * signed there (0 none). NULL on error. */
PGresult *store_patients_state (meso_db_t *db, const char *ids_literal, const char *clinic_id,
                                const char *treatment, const char *date);

/* ---- frame.c: what every method shares ---- */

/* One request on its way through a method: what the bus server handed
 * the handler, plus the method's own state for its transaction. */
typedef struct {
    screening_t *self;
    const Meso__V1__Request *req;
    void *body;                         /* the decoded request (the server's) */
    meso_reply_t *reply;
    void *state;                        /* the method's own; NULL when none */
    /* The clinic the request names (NULL: none): screening_run asks
     * whether it exists (meso/clinics.h) once the request is valid, and
     * refuses it on field when it does not. */
    const char *clinic_id;
    const char *clinic_field;
    /* The patient the stored reply is about, set by the work (a reply
     * that repeats personal or health data): erasure deletes it. */
    char patient_id[40];
} screening_call_t;

/* A mutating method's work inside its transaction, after its key was
 * claimed: sets the reply and returns 0 to commit (the frame then stores
 * the reply under the key), or -1 with an error in the reply to roll
 * everything back. Runs again from the start when the transaction is
 * retried. */
typedef int (screening_txn_fn) (meso_db_t *db, screening_call_t *call);

/* The frame of every mutating method. When bad holds reasons, refuses the
 * request (screening_invalid). When call names a clinic that does not
 * exist (or cannot be checked), refuses it (meso_clinics_check). Else, in one READ COMMITTED transaction,
 * claims the idempotency key (a retry replays the stored reply), runs fn
 * and stores its reply under the key. A failure fn left unexplained (the
 * COMMIT itself) becomes the database's error, introduced by what. */
void screening_run (screening_call_t *call, const rules_reasons_t *bad, screening_txn_fn *fn,
                    const char *what);

/* When bad holds reasons: replies INVALID_ARGUMENT "invalid <method>
 * request: <n> problem(s), see reasons" with every one of them, and
 * returns true. False, reply untouched, when bad is empty. */
bool screening_invalid (meso_reply_t *reply, const rules_reasons_t *bad, const char *method);
/* Puts every reason of r into reply and sets status with fmt, which
 * formats what (%s) and the count of reasons (%zu). */
void screening_refuse (meso_reply_t *reply, meso_status_t status, const rules_reasons_t *r,
                       const char *fmt, const char *what);

/* Adds "missing_field" (when required) or "invalid_id" on field unless id
 * is a clinic id of the chain's one syntax (meso_handler_clinic_ok); an
 * empty id is fine when not required. */
void screening_need_clinic (rules_reasons_t *bad, const char *field, const char *id, bool required);
/* Adds "invalid_id" on field unless id is a UUID. */
void screening_need_patient_id (rules_reasons_t *bad, const char *field, const char *id);
/* Characters (not bytes) of a UTF-8 string; 0 for NULL. */
size_t screening_chars (const char *s);

/* Reads patient id into p (lock: FOR UPDATE, inside a transaction). 0, or
 * -1 with the reply set: NOT_FOUND with the reason "not_found" on
 * patient_id, or the database's error. */
int screening_patient (meso_reply_t *reply, meso_db_t *db, const char *id, bool lock,
                       store_patient_t *p);
/* screening_patient_live's answer for rc, a store_patient_row of id. */
int screening_patient_live_row (meso_reply_t *reply, meso_db_t *db, int rc, const char *id,
                                const store_patient_t *p, const char *field);
/* The same for a method that acts on the patient: an erased patient is
 * refused, FAILED_PRECONDITION "patient erased: register again" (reason
 * "patient_erased" on field). */
int screening_patient_live (meso_reply_t *reply, meso_db_t *db, const char *id, bool lock,
                            store_patient_t *p, const char *field);

/* The clinic scope of a method about one patient (MESO_SCOPE_HANDLER):
 * 0 when the caller may act in p's home clinic or, with screened_too, in
 * a clinic where p has a screening; else -1 with reply PERMISSION_DENIED
 * "out_of_scope" on field (or the database's error). Always 0 for a
 * caller of every clinic. */
int screening_scope_patient (meso_reply_t *reply, meso_db_t *db, const store_patient_t *p,
                             bool screened_too, const char *field);
/* The same for patient id read outside a transaction, before the frame
 * (so a replayed reply is checked too): 0 as well when there is no such
 * patient (the method answers NOT_FOUND itself). */
int screening_scope_patient_id (screening_t *self, meso_reply_t *reply, const char *id,
                                bool screened_too, const char *field);

/* The wire form of a patient row (strings borrowed from p). */
void screening_patient_proto (store_patient_t *p, Meso__V1__Patient *out);
/* The wire form of a clinic's settings (strings borrowed). */
void screening_settings_proto (const char *clinic_id, const rules_settings_t *s,
                               Meso__V1__ClinicSettings *out);

/* ---- catalogue.c: the ingredient codes screening knows ---- */

/* How long one catalogue lookup waits for inventory, in total (ms): under
 * the 1 s after which scheduling's bus client resends a Check. */
#define SCREENING_CATALOGUE_DEADLINE_MS 800

/* Makes every code of codes[0..n) that has the ingredient syntax and is
 * not yet known (store_ingredient_known) known when inventory's catalogue
 * holds it: one inventory.GetIngredients for all of them, the answers
 * recorded with store_ingredient_confirm. Codes inventory does not hold
 * stay unknown, for the caller to name. 0, or -1 with reply set:
 * UNAVAILABLE with the reason "ingredient_unchecked" on "<list>[i]" when
 * inventory did not answer about a code not seen before, or the database
 * error. Without an inventory endpoint, nothing is asked and 0 returned.
 * 1 instead of 0 when every code was of the ingredient syntax and already
 * known here (so screening_catalogue_check has nothing to find: codes
 * are never removed from the catalogue). */
int screening_catalogue_learn (screening_t *self, meso_reply_t *reply, const char *const *codes,
                               size_t n, const char *list);

/* ---- the methods, one file per aggregate ---- */

/* patients.c */
meso_handler_fn screening_register_patient;
meso_handler_fn screening_update_patient;
meso_handler_fn screening_report_change;
/* screenings.c */
meso_handler_fn screening_record_screening;
meso_handler_fn screening_get_screening;
meso_handler_fn screening_check;
/* settings.c */
meso_handler_fn screening_set_clinic_settings;
/* erasure.c */
meso_handler_fn screening_erase_patient;
/* legacy.c: seals the patients, screenings and reported changes written
 * before migration 023 (plaintext), in batches, each patient in its own
 * transaction. Returns the patients sealed, -1 on error (logged). */
long screening_seal_legacy (screening_t *self);
/* search.c: SearchPatients, GetPatients, and the index kept with the
 * patient */
meso_handler_fn screening_search_patients;
meso_handler_fn screening_get_patients;
/* Reads the search key: the file at path, else <keys_dir>/search.key.
 * 0, or -1 (logged: run "mesoctl keys init"). */
int screening_search_key_load (screening_t *self, const char *path, const char *keys_dir);
/* Replaces p's search rows, inside the caller's transaction. 0 or -1. */
int screening_search_index (screening_t *self, meso_db_t *db, const store_patient_t *p);
/* Indexes the patients registered before the search existed, in
 * batches, one transaction each. Returns the number indexed, -1. */
int screening_search_backfill (screening_t *self);
/* consents.c */
meso_handler_fn screening_set_consent_text;
meso_handler_fn screening_get_consent_text;
meso_handler_fn screening_sign_consent;
meso_handler_fn screening_get_consents;
/* A signature as a message from row r of a store_consents result (strings
 * point into res). */
void screening_sig_proto (PGresult *res, int r, Meso__V1__ConsentSignature *out);
/* export.c */
meso_handler_fn screening_export_patient;
/* screenings.c: the reported changes of a store_changes_since result of
 * patient p as messages, opened under p's data key (pointing into res and
 * into the buffers here; the notes are owned). 0, or -1 when out of
 * memory or a change does not open. */
typedef struct {
    Meso__V1__PatientChange *items;
    Meso__V1__PatientChange **ptrs;
    char **codes;                       /* per row: pointer array into bufs */
    char (*bufs)[16 * (RULES_CODE_MAX + 1) + 4];
    char **notes;                       /* per row, owned */
    size_t n;
} screening_changes_t;
int screening_changes_proto (PGresult *res, const store_patient_t *p, screening_changes_t *out);
void screening_changes_free (screening_changes_t *c);
/* instructions.c */
meso_handler_fn screening_get_instructions;
/* Check's consent part: adds to bad what is wrong with rq's treatment
 * (a code; clinic_id required with it). */
void screening_consent_need (rules_reasons_t *bad, const Meso__V1__CheckRequest *rq);
/* With rq->treatment, decides consent for patient_id at rq->clinic_id:
 * a refusal (consent_rules.h) turns out into a refusal with that one
 * reason (precautions dropped, no earliest date); when allowed, *version
 * is the signed version relied on. Without treatment nothing changes and
 * *version is 0. 0, or -1 with the database error in reply. */
int screening_consent_check (meso_db_t *db, meso_reply_t *reply, const Meso__V1__CheckRequest *rq,
                             const char *patient_id, rules_check_t *out, uint32_t *version);

/* ---- handlers.c ---- */
extern const meso_method_t screening_methods[];


/* ---- answers.c: a screening between the wire and the rules ---- */

typedef struct {
    Meso__V1__Reason items[RULES_MAX_REASONS];
    Meso__V1__Reason *ptrs[RULES_MAX_REASONS];
    size_t n;
} screening_pbreasons_t;
typedef struct {
    char *ptrs[RULES_MAX_TEXTS];
    size_t n;
} screening_pbtexts_t;

/* Fills a from a questionnaire (strings borrowed from q); shape problems
 * rules_validate cannot see go to bad. */
void screening_answers_from (const Meso__V1__Questionnaire *q, int32_t birth, rules_answers_t *a,
                             rules_reasons_t *bad);
/* Adds unknown_ingredient on "<list>[i]" for each code not in the
 * confirmed catalogue. 0, or -1 with the database error in reply. */
int screening_catalogue_check (meso_db_t *db, meso_reply_t *reply, const char *const *codes, size_t n,
                               const char *list, bool shape_reported, rules_reasons_t *bad);
/* The stored screening of row r of a store_screenings result of patient
 * p (caller frees it; an erased patient's is a placeholder with erased
 * set), or NULL with DATA_LOSS in reply. */
Meso__V1__Screening *screening_stored (PGresult *res, int r, bool need_answers,
                                       const store_patient_t *p, meso_reply_t *reply);
/* The reasons (which: 0 all, 1 refusals, 2 precautions) and texts as
 * wire messages, pointing into r / t. */
void screening_pbreasons (rules_reasons_t *r, int which, screening_pbreasons_t *out);
void screening_pbtexts (rules_texts_t *t, screening_pbtexts_t *out);

#endif
