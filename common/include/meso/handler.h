/* handler.h -- the small pieces every service's method handlers repeat:
 * refusing an undecodable body, naming each bad field of a request in a
 * reason, turning those reasons into one INVALID_ARGUMENT reply, and
 * recording an event with its type, clinic and actor filled in.
 *
 * Validation collects: each meso_handler_need_* adds a reason naming the
 * field and counts it in *bad, so a client learns every problem of a
 * request at once; meso_handler_invalid then sets the one error status.
 * The reply texts are part of what clients see, and stay as they are. */
#ifndef MESO_HANDLER_H
#define MESO_HANDLER_H

#include <stdbool.h>
#include <stddef.h>

#include "meso/bus.h"
#include "meso/db.h"
#include "meso/page.h"
#include "events.pb-c.h"

/* Longest id or code a request may carry, in bytes. */
#define MESO_HANDLER_ID_MAX 64

/* Replies INVALID_ARGUMENT "<method> body is not a packed <type>" (type
 * is the message's full name, "meso.v1.ReceiveRequest") with the reason
 * "undecodable" on field "body". The bus server calls it for every method
 * that declares its input type. */
void meso_handler_undecodable (meso_reply_t *reply, const char *method, const char *type);

/* When bad is not 0, replies INVALID_ARGUMENT "invalid <method> request"
 * (the reasons already added say what is wrong). Returns bad != 0. */
bool meso_handler_invalid (meso_reply_t *reply, int bad, const char *method);

/* True for a code: 1 to MESO_HANDLER_ID_MAX characters of a-z, 0-9, '_'
 * and, when allow_dash, '-'. */
bool meso_handler_code_ok (const char *s, bool allow_dash);

/* True for a clinic id, the one syntax of the chain (scheduling's code
 * syntax): 1 to MESO_HANDLER_ID_MAX characters of a-z, 0-9, '_' or '-'. */
bool meso_handler_clinic_ok (const char *s);

/* True for an ingredient code, the one syntax of the chain for them:
 * 1 to MESO_HANDLER_ID_MAX characters of a-z, 0-9, '_' or '-' (the
 * syntax of inventory's catalogue, which owns the codes). Every service
 * that takes an ingredient code checks it with this or
 * meso_handler_need_ingredient, so a code one service accepts is never
 * refused by another for its shape. */
bool meso_handler_ingredient_ok (const char *s);

/* Required clinic id (meso_handler_clinic_ok). Else adds "missing_field"
 * ("<field> is required") or "invalid_id" ("<field> must be a clinic id:
 * ...") on field and counts it in *bad. Whether the clinic exists is
 * meso/clinics.h's question, asked once the request is valid. */
void meso_handler_need_clinic (meso_reply_t *reply, int *bad, const char *field, const char *v);

/* Required text of at most max bytes. Else adds the reason "missing_field"
 * ("<field> is required") or "out_of_range" ("<field> must be at most <max>
 * bytes") on field and counts it in *bad. */
void meso_handler_need_text (meso_reply_t *reply, int *bad, const char *field, const char *v,
                             size_t max);

/* Required id: meso_handler_need_text with max MESO_HANDLER_ID_MAX. */
void meso_handler_need_id (meso_reply_t *reply, int *bad, const char *field, const char *v);

/* Required code (meso_handler_code_ok, dashes allowed). Else adds "missing_field" or
 * "invalid_code" on field and counts it in *bad. */
void meso_handler_need_code (meso_reply_t *reply, int *bad, const char *field, const char *v);

/* Required ingredient code (meso_handler_ingredient_ok). Else adds
 * "missing_field" or "invalid_code" on field, with the texts of
 * meso_handler_need_code, and counts it in *bad. Whether the code is in
 * the catalogue is the caller's question (inventory's tables, or
 * screening's copy of what inventory confirmed). */
void meso_handler_need_ingredient (meso_reply_t *reply, int *bad, const char *field,
                                   const char *v);

/* Sets ev's type, clinic_id (clinic NULL: "") and actor (actor, or
 * fallback when actor is NULL) and appends it to the outbox in db's
 * current transaction (meso_outbox_append). Returns 0, or -1 with the db
 * error set. */
int meso_handler_emit (meso_db_t *db, Meso__V1__Event *ev, const char *type, const char *clinic,
                       const Meso__V1__Actor *actor, const Meso__V1__Actor *fallback);

/* Paging (meso/page.h). Decodes token, the request's page_token, for the
 * list named list into *pos, its sort key values typed by keys, one letter
 * each: 'i' a decimal integer (an id, an instant in microseconds), 'u' a
 * UUID, 'c' a code (meso_handler_code_ok), 'd' a date YYYY-MM-DD, 's' any
 * text. A token that is not one of this list's, or whose values are not of
 * their type, adds "invalid_page_token" on "page_token" and counts it in
 * *bad. "" is the first page (pos->n == 0). */
void meso_handler_need_page (meso_reply_t *reply, int *bad, const char *list, const char *token,
                             const char *keys, meso_page_pos_t *pos);

/* The test of meso_handler_need_page without the reason, for a service
 * that collects its reasons its own way: true when token is "" or one of
 * list's with values of their types (*pos filled), false otherwise. */
bool meso_handler_page_ok (const char *list, const char *token, const char *keys,
                           meso_page_pos_t *pos);

/* Ends a page of a list method. fetched is how many rows the query gave
 * (asked for size + 1), *count the items put in msg's repeated field
 * (at most size). Shrinks *count with meso_page_fit so msg stays under
 * MESO_PAGE_REPLY_LIMIT and returns whether a next page exists (rows
 * were left out). When not even one item fits, replies
 * RESOURCE_EXHAUSTED and returns -1. */
int meso_handler_page_fit (meso_reply_t *reply, ProtobufCMessage *msg, size_t *count,
                           size_t fetched, size_t size);

/* Writes the token of the position after a row whose sort key values are
 * keys[0..n-1] into out (MESO_PAGE_TOKEN_MAX bytes). Returns 0, or -1
 * with INTERNAL replied (a key longer than MESO_PAGE_KEY_MAX). */
int meso_handler_page_next (meso_reply_t *reply, const char *list, const char *const *keys,
                            size_t n, char *out);

#endif
