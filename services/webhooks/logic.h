/* logic.h -- the pure decisions of meso-webhooks, no I/O, unit tested
 * directly (tests/unit/test_webhooks_logic.c):
 *
 *   sign.c   the signature header: v1=<hex HMAC-SHA256(secret,
 *            timestamp "." body)>, libsodium's crypto_auth_hmacsha256
 *   retry.c  what a finished attempt comes to (delivered, retry, park)
 *            and the back-off before the next one (exponential, with
 *            jitter)
 *   rules.c  a subscription's URL, streams and event types, and whether
 *            an event is one it wants
 *   body.c   the JSON body of an event (meso_pbjson_encode of the event,
 *            health fields removed by the events daemon's own redaction,
 *            services/events/redact.c, unless the subscription may keep
 *            them)
 *
 * Every function here takes its inputs as arguments (the jitter draw
 * included), so a test can give it any case. */
#ifndef WEBHOOKS_LOGIC_H
#define WEBHOOKS_LOGIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- sign.c ---- */

#define WH_SECRET_BYTES 32
/* "v1=" + 64 hex digits + NUL */
#define WH_SIGNATURE_MAX 68

/* Writes "v1=<hex>" of HMAC-SHA256(secret, timestamp "." body) into out
 * (WH_SIGNATURE_MAX bytes). timestamp is the decimal text sent in
 * Meso-Timestamp (Unix seconds). Returns 0, or -1 when secret_len is 0. */
int wh_sign (const uint8_t *secret, size_t secret_len, const char *timestamp, const char *body,
             size_t body_len, char *out);

/* ---- retry.c ---- */

typedef enum {
    WH_DELIVERED = 0,   /* 2xx: advance the cursor */
    WH_RETRY = 1,       /* try the same event again after a back-off */
    WH_PARK = 2         /* stop: the subscription waits for an operator */
} wh_outcome_t;

/* Whether a failure is worth retrying: no HTTP answer (timeout,
 * connection refused or reset, TLS error: http_status 0), 5xx, 408 and
 * 429. Anything else that is not 2xx (other 4xx, 3xx: redirects are not
 * followed, 1xx) is the receiver refusing the event. */
bool wh_retryable (int http_status);

/* What attempt number attempt (1-based) of an event comes to, given the
 * HTTP status it got (0: none). A refusal (not retryable) parks once it
 * has happened max_refused times in a row for this event; any failure
 * parks after park_after attempts of one event, so a receiver that is
 * down for good is parked in bounded time too. */
wh_outcome_t wh_decide (int http_status, uint32_t attempt, uint32_t max_refused,
                        uint32_t park_after);

/* The wait before attempt number attempt + 1 after attempt failed:
 * a uniform draw in [top/2, top], top = min(cap, base * 2^(attempt-1))
 * with draw in [0, 1). Never below 1 ms. */
int64_t wh_backoff_ms (uint32_t attempt, int64_t base_ms, int64_t cap_ms, double draw);

/* ---- rules.c ---- */

#define WH_URL_MAX 2048
#define WH_NSTREAMS 4
#define WH_TYPES_MAX 64
#define WH_TYPE_MAX 64

/* Index of a stream ("session" 0, "screening" 1, "stock" 2, "billing" 3),
 * -1 when unknown. */
int wh_stream_index (const char *stream);
const char *wh_stream_name (int index);

/* NULL when url is a usable http:// or https:// URL (a host, at most
 * WH_URL_MAX bytes, no whitespace or control characters), else why not. */
const char *wh_url_problem (const char *url);

/* NULL when type is "<stream>.<kind>" (kind: a-z, 0-9, _) of one of the
 * streams streams[0..n), else why not. */
const char *wh_type_problem (const char *type, char *const *streams, size_t n);

/* Whether an event of type about clinic (the event's clinic_id, "" for
 * chain-wide) goes to a subscription of sub_clinic ("" every clinic) and
 * types[0..n) (none: every type of its streams). */
bool wh_wants (const char *sub_clinic, char *const *types, size_t n, const char *type,
               const char *clinic);

/* ---- body.c ---- */

/* The JSON body of the packed event raw[0..len): every field under its
 * proto name (meso_pbjson_encode), without the health fields unless
 * include_health. Returns a malloc'd NUL-terminated text (length in
 * *out_len), or NULL when raw does not decode, its type has no entry in
 * the redaction table and health must go, or memory runs out. The
 * event's id, type and occurred_at (seconds) are copied into id, type
 * (65 bytes each) and *occurred_s. */
char *wh_body (const uint8_t *raw, size_t len, bool include_health, size_t *out_len, char *id,
               char *type, int64_t *occurred_s);

#endif
