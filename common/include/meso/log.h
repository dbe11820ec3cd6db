/* log.h -- JSON-lines logging on stderr.
 *
 * One JSON object per line: {"ts":"2026-11-21T12:00:00.123Z","level":"info",
 * "service":"events","msg":"..."} plus request fields for request logs.
 * Lines are written with a single write(2) so concurrent processes sharing a
 * stderr do not interleave inside a line. */
#ifndef MESO_LOG_H
#define MESO_LOG_H

#include <stdint.h>
#include <stddef.h>

typedef enum { MESO_LOG_DEBUG, MESO_LOG_INFO, MESO_LOG_WARN, MESO_LOG_ERROR } meso_log_level_t;

/* Sets the service name put in every line and the minimum level
 * ("debug", "info", "warn", "error"; NULL keeps "info"). */
void meso_log_init (const char *service, const char *level);

/* Logs a free-form message. */
void meso_log (meso_log_level_t level, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

#define meso_debug(...) meso_log (MESO_LOG_DEBUG, __VA_ARGS__)
#define meso_info(...) meso_log (MESO_LOG_INFO, __VA_ARGS__)
#define meso_warn(...) meso_log (MESO_LOG_WARN, __VA_ARGS__)
#define meso_error(...) meso_log (MESO_LOG_ERROR, __VA_ARGS__)

/* Logs one served request: request id, method, status code name, duration
 * in microseconds, and the reply message when not OK. */
void meso_log_request (const char *request_id, const char *method, int status,
                       int64_t duration_us, const char *message);
/* The same line with the authenticated principal that called (its name,
 * "" on a plaintext endpoint; NULL leaves the field out) and the person a
 * service principal acted for. */
void meso_log_request_by (const char *request_id, const char *method, int status,
                          int64_t duration_us, const char *message, const char *principal,
                          const char *on_behalf_of);

/* Between these two calls the calling thread's lines are gathered and
 * written together (whole lines, at most PIPE_BUF bytes per write) when the
 * buffer fills and at the end; for a server answering a burst of requests.
 * Calls nest. */
void meso_log_batch_begin (void);
void meso_log_batch_end (void);

/* Appends the JSON string escape of src (without quotes) to dst, never
 * writing more than size bytes including the terminating NUL. Returns the
 * length written (truncated output is still valid JSON text). */
size_t meso_json_escape (char *dst, size_t size, const char *src);

#endif
