/* log.c -- JSON-lines logging on stderr (see log.h).
 *
 * Every line is built in one stack buffer and written with one write(2):
 * lines from several processes sharing a stderr (a supervisor's pipe, a
 * test harness's log file) never interleave inside a line, and the buffer
 * is no larger than PIPE_BUF (4096 on Linux) so a write to a pipe is
 * atomic. Nothing is allocated per line: this runs for every request.
 *
 * The output is always valid JSON whatever the message holds: quotes,
 * backslashes and control characters are escaped, bytes that are not valid
 * UTF-8 become U+FFFD, and a message too long for the line is cut on a
 * character boundary (never inside an escape) with "truncated":true added.
 *
 * The service name and level are set once at start-up by meso_log_init,
 * before any thread is started; after that the module only reads them.
 *
 * A server logs a line per request, so the per-line cost matters: the
 * timestamp text is kept per thread and reused within one millisecond, and
 * between meso_log_batch_begin/end a thread's lines are gathered and
 * written together, still as whole lines of at most PIPE_BUF bytes per
 * write(2), so the no-interleaving promise holds. */
#include "meso/log.h"
#include "meso/mtime.h"
#include "meso/status.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define LOG_LINE_MAX 4096
#define LOG_MSG_MAX 2048

static char s_service[64] = "meso";
static meso_log_level_t s_level = MESO_LOG_INFO;

static const char *const s_level_names[] = { "debug", "info", "warn", "error" };

/* Per thread: the last timestamp text and its millisecond, and the batch. */
static __thread int64_t s_ts_ms = -1;
static __thread char s_ts[40];
static __thread struct {
    char buf[LOG_LINE_MAX];
    size_t len;
    int depth;
} s_batch;

void
meso_log_init (const char *service, const char *level)
{
    if (service)
        meso_json_escape (s_service, sizeof s_service, service);
    s_level = MESO_LOG_INFO;
    if (level) {
        for (int i = 0; i < 4; i++)
            if (strcasecmp (level, s_level_names[i]) == 0)
                s_level = (meso_log_level_t) i;
        if (strcasecmp (level, "warning") == 0)
            s_level = MESO_LOG_WARN;
    }
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when the bytes at p
 * are not one (stray continuation byte, overlong form, surrogate, beyond
 * U+10FFFF, or cut short by the end of the string). */
static int
s_utf8_len (const unsigned char *p)
{
    unsigned char c = p[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return (p[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        unsigned char lo = c == 0xE0 ? 0xA0 : 0x80;    /* no overlong */
        unsigned char hi = c == 0xED ? 0x9F : 0xBF;    /* no surrogates */
        if (p[1] < lo || p[1] > hi || (p[2] & 0xC0) != 0x80)
            return 0;
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        unsigned char lo = c == 0xF0 ? 0x90 : 0x80;    /* no overlong */
        unsigned char hi = c == 0xF4 ? 0x8F : 0xBF;    /* <= U+10FFFF */
        if (p[1] < lo || p[1] > hi || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
            return 0;
        return 4;
    }
    return 0;
}

/* Escapes src into dst (size bytes with the NUL); *complete tells whether
 * all of src fit. */
static size_t
s_escape (char *dst, size_t size, const char *src, bool *complete)
{
    *complete = false;
    if (size == 0)
        return 0;
    size_t n = 0;
    const unsigned char *p = (const unsigned char *) (src ? src : "");
    while (*p) {
        /* Printable ASCII other than quote and backslash (what ids, method
         * names and most messages are made of) is copied a run at a time;
         * one byte is one whole piece, so cutting the run is still all or
         * nothing per piece. */
        const unsigned char *q = p;
        while (*q >= 0x20 && *q < 0x80 && *q != '"' && *q != '\\')
            q++;
        if (q > p) {
            size_t run = (size_t) (q - p);
            size_t room = size - 1 - n;
            if (run > room)
                run = room;
            memcpy (dst + n, p, run);
            n += run;
            p += run;
            if (p < q)
                break;
            continue;
        }
        char esc[8];
        const char *piece;
        size_t len;
        int advance;
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char) *p;
            piece = esc;
            len = 2;
            advance = 1;
        }
        else if (*p < 0x20) {
            snprintf (esc, sizeof esc, "\\u%04x", *p);
            piece = esc;
            len = 6;
            advance = 1;
        }
        else {
            advance = s_utf8_len (p);
            if (advance > 0) {
                piece = (const char *) p;
                len = (size_t) advance;
            }
            else {
                piece = "\\ufffd";
                len = 6;
                advance = 1;
            }
        }
        /* All or nothing: a piece that does not fit ends the output, so
         * it is never cut inside an escape or a character. */
        if (n + len + 1 > size)
            break;
        memcpy (dst + n, piece, len);
        n += len;
        p += advance;
    }
    dst[n] = '\0';
    *complete = *p == '\0';
    return n;
}

size_t
meso_json_escape (char *dst, size_t size, const char *src)
{
    bool complete;
    return s_escape (dst, size, src, &complete);
}

/* A fixed-size line under construction. Pieces are added whole or not at
 * all, and LOG_RESERVE bytes are always kept free for the ending
 * (,"truncated":true and "}\n"), so the line stays valid JSON whatever
 * does not fit. full records that something was left out. */
#define LOG_RESERVE 24

typedef struct {
    char buf[LOG_LINE_MAX];
    size_t len;
    bool full;
} s_line_t;

static void
s_raw (s_line_t *line, const char *text)
{
    size_t len = strlen (text);
    if (line->len + len + LOG_RESERVE > sizeof line->buf) {
        line->full = true;
        return;
    }
    memcpy (line->buf + line->len, text, len);
    line->len += len;
}

/* ,"key":"escaped value" -- key is a literal that needs no escaping. */
static void
s_field (s_line_t *line, const char *key, const char *value)
{
    size_t keylen = strlen (key);
    /* The key, its quotes, colon, and both quotes of an empty value. */
    if (line->len + keylen + 6 + LOG_RESERVE > sizeof line->buf) {
        line->full = true;
        return;
    }
    line->buf[line->len++] = ',';
    line->buf[line->len++] = '"';
    memcpy (line->buf + line->len, key, keylen);
    line->len += keylen;
    line->buf[line->len++] = '"';
    line->buf[line->len++] = ':';
    line->buf[line->len++] = '"';
    /* The escape may use everything but the reserve and the closing quote
     * (its terminating NUL lands where the quote goes). */
    bool complete;
    line->len += s_escape (line->buf + line->len,
                           sizeof line->buf - line->len - LOG_RESERVE, value, &complete);
    if (!complete)
        line->full = true;
    line->buf[line->len++] = '"';
}

static void
s_begin (s_line_t *line, meso_log_level_t level)
{
    int64_t now_us = meso_time_now_us ();
    if (now_us / 1000 != s_ts_ms) {
        meso_time_format_utc (now_us, s_ts, sizeof s_ts);
        s_ts_ms = now_us / 1000;
    }
    const char *ts = s_ts;
    line->len = 0;
    line->full = false;
    s_raw (line, "{\"ts\":\"");
    s_raw (line, ts);
    s_raw (line, "\",\"level\":\"");
    s_raw (line, s_level_names[level]);
    s_raw (line, "\",\"service\":\"");
    s_raw (line, s_service);     /* escaped by meso_log_init */
    s_raw (line, "\"");
}

static void s_write (const char *buf, size_t *len);

static void
s_end (s_line_t *line, bool truncated)
{
    if (truncated || line->full) {
        /* Fits: LOG_RESERVE was kept free for it. */
        const char *t = ",\"truncated\":true";
        size_t len = strlen (t);
        memcpy (line->buf + line->len, t, len);
        line->len += len;
    }
    line->buf[line->len++] = '}';
    line->buf[line->len++] = '\n';
    if (s_batch.depth > 0) {
        if (s_batch.len + line->len > sizeof s_batch.buf)
            s_write (s_batch.buf, &s_batch.len);
        memcpy (s_batch.buf + s_batch.len, line->buf, line->len);
        s_batch.len += line->len;
        return;
    }
    s_write (line->buf, &line->len);
}

void
meso_log_batch_begin (void)
{
    s_batch.depth++;
}

void
meso_log_batch_end (void)
{
    if (s_batch.depth > 0 && --s_batch.depth == 0 && s_batch.len > 0)
        s_write (s_batch.buf, &s_batch.len);
}

/* Writes len bytes of buf to stderr in one write(2) when it can, and sets
 * *len to 0. */
static void
s_write (const char *buf, size_t *len)
{
    const char *p = buf;
    size_t left = *len;
    *len = 0;
    while (left > 0) {
        ssize_t w = write (STDERR_FILENO, p, left);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return;     /* nowhere to report a failing stderr */
        }
        p += w;
        left -= (size_t) w;
    }
}

void
meso_log (meso_log_level_t level, const char *fmt, ...)
{
    if (level < s_level || level > MESO_LOG_ERROR)
        return;
    char msg[LOG_MSG_MAX];
    va_list ap;
    va_start (ap, fmt);
    int n = vsnprintf (msg, sizeof msg, fmt, ap);
    va_end (ap);
    bool truncated = n < 0 || (size_t) n >= sizeof msg;
    if (n < 0)
        msg[0] = '\0';
    s_line_t line;
    s_begin (&line, level);
    s_field (&line, "msg", msg);
    s_end (&line, truncated);
}

void
meso_log_request (const char *request_id, const char *method, int status,
                  int64_t duration_us, const char *message)
{
    meso_log_request_by (request_id, method, status, duration_us, message, NULL, NULL);
}

void
meso_log_request_by (const char *request_id, const char *method, int status,
                     int64_t duration_us, const char *message, const char *principal,
                     const char *on_behalf_of)
{
    /* Failures of the service itself are errors; a caller's mistake
     * (INVALID_ARGUMENT, NOT_FOUND...) is business as usual. */
    meso_log_level_t level = MESO_LOG_INFO;
    if (status == MESO_INTERNAL || status == MESO_UNKNOWN || status == MESO_DATA_LOSS)
        level = MESO_LOG_ERROR;
    if (level < s_level)
        return;
    s_line_t line;
    s_begin (&line, level);
    s_field (&line, "msg", "request");
    s_field (&line, "request_id", request_id ? request_id : "");
    s_field (&line, "method", method ? method : "");
    s_field (&line, "code", meso_status_name (status));
    if (principal)
        s_field (&line, "principal", principal);
    if (on_behalf_of && *on_behalf_of)
        s_field (&line, "on_behalf_of", on_behalf_of);
    /* ,"duration_us":N by hand: snprintf costs more than the rest of
     * the line, and this runs for every request. */
    char num[48] = ",\"duration_us\":";
    size_t at = strlen (num);
    uint64_t v = (uint64_t) duration_us;
    if (duration_us < 0) {
        num[at++] = '-';
        v = 0 - v;
    }
    char digits[24];
    size_t nd = 0;
    do {
        digits[nd++] = (char) ('0' + v % 10);
        v /= 10;
    } while (v > 0);
    while (nd > 0)
        num[at++] = digits[--nd];
    num[at] = '\0';
    s_raw (&line, num);
    if (status != MESO_OK && message)
        s_field (&line, "message", message);
    s_end (&line, false);
}
