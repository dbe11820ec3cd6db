/* page.h -- keyset paging for list methods: page sizes, opaque page
 * tokens, and a reply that never outgrows the frame cap.
 *
 * Every list method takes `page_size` and `page_token` and answers
 * `next_page_token` ("" on the last page). A token is the position after
 * the last row returned -- the values of the list's sort key for that row
 * -- never an OFFSET, so a page stays correct while rows are inserted
 * before or after it: the next page starts strictly after that key.
 *
 * The SQL of a list is always
 *     WHERE <filters> AND (k1, k2) > ($k1, $k2)   -- only when a token came
 *     ORDER BY k1, k2 LIMIT <size + 1>
 * where (k1, k2) is unique (end with the row id), and the extra row says
 * whether there is a next page. The key values travel as text and are cast
 * by the SQL ($k1::timestamptz), so the handler checks each decoded value
 * (meso_uuid_valid, a number, a time) before using it.
 *
 * A token names its list, so a token of one list (or a garbled one) is
 * refused by another with INVALID_ARGUMENT, and it carries a checksum
 * (BLAKE2b, libsodium) that catches truncation and typing errors. It is
 * not signed: a client that crafts a token only moves its own position in
 * a list it may read anyway (the scope and filters are in the query, never
 * in the token). Tokens are base64url without padding (libsodium), safe in
 * a shell and a URL. */
#ifndef MESO_PAGE_H
#define MESO_PAGE_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#define MESO_PAGE_KEYS_MAX  4       /* sort key columns of one list */
#define MESO_PAGE_KEY_MAX   64      /* bytes of one key value */
#define MESO_PAGE_TOKEN_MAX 512     /* bytes of an encoded token, with its NUL */

/* A decoded position: n == 0 is the first page. */
typedef struct {
    size_t n;
    char key[MESO_PAGE_KEYS_MAX][MESO_PAGE_KEY_MAX + 1];
} meso_page_pos_t;

/* The page size to use: 0 asks for `dflt`; above `max` is lowered to
 * `max` (a client may ask for less, never for more). */
uint32_t meso_page_size (uint32_t requested, uint32_t dflt, uint32_t max);

/* Writes the token for the position after a row whose sort key values
 * are keys[0..n-1], for the list named `list` (e.g.
 * "billing.GetStatement"). Returns 0, or -1 when n is 0 or above
 * MESO_PAGE_KEYS_MAX, a key is longer than MESO_PAGE_KEY_MAX, or `size`
 * is too small (MESO_PAGE_TOKEN_MAX always suffices). */
int meso_page_token_encode (const char *list, const char *const *keys, size_t n, char *out,
                            size_t size);

/* Reads a token made by meso_page_token_encode for the same list with n
 * keys. NULL or "" is the first page (pos->n = 0). Returns 0, or -1 when
 * the token is not one of this list's (malformed, wrong list, wrong key
 * count, checksum mismatch): answer INVALID_ARGUMENT naming page_token. */
int meso_page_token_decode (const char *list, const char *token, size_t n, meso_page_pos_t *pos);

/* Lowers *count -- the item count of a repeated field inside `msg` (e.g.
 * &reply->n_entries) -- to the largest value for which `msg` packs into
 * at most `limit` bytes, and returns it (0 when even one item is too
 * big). Items past the new count are left in the array, untouched: the
 * caller frees them if it owns them, and makes the next page token from
 * the last item kept. Leave room for the envelope: use
 * MESO_PAGE_REPLY_LIMIT as `limit` for a bus reply. */
size_t meso_page_fit (ProtobufCMessage *msg, size_t *count, size_t limit);

/* What a reply body may use of the bus's frame cap: the envelope
 * (request id, status, message, reasons) takes the rest. */
#define MESO_PAGE_REPLY_LIMIT ((size_t) (1024 * 1024) - (size_t) 16384)

#endif
