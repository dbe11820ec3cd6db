/* test_log.c -- the log writes one valid JSON object per line whatever the
 * message holds (quotes, control characters, broken UTF-8, huge text), with
 * the fields operators filter on, and honours the level.
 *
 * stderr is redirected to a temporary file for each test; a small strict
 * JSON reader below checks every line (RFC 8259 grammar for a flat object,
 * valid UTF-8) and decodes the values to compare them with what was
 * logged. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "meso/log.h"
#include "meso/status.h"

/* ------------------------------------------------------------ capture */

static int s_saved = -1;
static FILE *s_capture;

static void
s_capture_start (void)
{
    fflush (stderr);
    s_capture = tmpfile ();
    assert_non_null (s_capture);
    s_saved = dup (STDERR_FILENO);
    assert_true (dup2 (fileno (s_capture), STDERR_FILENO) >= 0);
}

/* Returns everything written since s_capture_start (caller frees). */
static char *
s_capture_end (size_t *len)
{
    dup2 (s_saved, STDERR_FILENO);
    close (s_saved);
    long size = ftell (s_capture);
    assert_true (size >= 0);
    rewind (s_capture);
    char *text = malloc ((size_t) size + 1);
    assert_non_null (text);
    assert_int_equal (fread (text, 1, (size_t) size, s_capture), (size_t) size);
    text[size] = '\0';
    fclose (s_capture);
    if (len)
        *len = (size_t) size;
    return text;
}

/* --------------------------------------------------------- JSON reader */

#define MAX_FIELDS 16

typedef struct {
    char key[32];
    char value[8192];    /* decoded string, or the literal for other values */
    bool is_string;
} s_field_t;

typedef struct {
    s_field_t fields[MAX_FIELDS];
    int count;
} s_object_t;

static int
s_hex (char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static void
s_put_utf8 (char *out, size_t *n, unsigned cp)
{
    if (cp < 0x80)
        out[(*n)++] = (char) cp;
    else if (cp < 0x800) {
        out[(*n)++] = (char) (0xC0 | (cp >> 6));
        out[(*n)++] = (char) (0x80 | (cp & 0x3F));
    }
    else {
        out[(*n)++] = (char) (0xE0 | (cp >> 12));
        out[(*n)++] = (char) (0x80 | ((cp >> 6) & 0x3F));
        out[(*n)++] = (char) (0x80 | (cp & 0x3F));
    }
}

/* Reads a JSON string at *p (at the opening quote) into out. Fails on raw
 * control characters, bad escapes and invalid UTF-8. */
static bool
s_read_string (const char **p, char *out, size_t size)
{
    const unsigned char *s = (const unsigned char *) *p;
    if (*s++ != '"')
        return false;
    size_t n = 0;
    while (*s != '"') {
        if (n + 4 >= size || *s == '\0' || *s < 0x20)
            return false;
        if (*s == '\\') {
            s++;
            switch (*s) {
                case '"': out[n++] = '"'; break;
                case '\\': out[n++] = '\\'; break;
                case '/': out[n++] = '/'; break;
                case 'b': out[n++] = '\b'; break;
                case 'f': out[n++] = '\f'; break;
                case 'n': out[n++] = '\n'; break;
                case 'r': out[n++] = '\r'; break;
                case 't': out[n++] = '\t'; break;
                case 'u': {
                    unsigned cp = 0;
                    for (int i = 1; i <= 4; i++) {
                        int h = s_hex ((char) s[i]);
                        if (h < 0)
                            return false;
                        cp = cp * 16 + (unsigned) h;
                    }
                    if (cp >= 0xD800 && cp <= 0xDFFF)
                        return false;   /* the logger never needs surrogates */
                    s_put_utf8 (out, &n, cp);
                    s += 4;
                    break;
                }
                default: return false;
            }
            s++;
            continue;
        }
        /* Raw bytes must be valid UTF-8. */
        int len = *s < 0x80 ? 1 : *s >= 0xC2 && *s <= 0xDF ? 2 : *s >= 0xE0 && *s <= 0xEF ? 3
                : *s >= 0xF0 && *s <= 0xF4 ? 4 : 0;
        if (len == 0)
            return false;
        for (int i = 1; i < len; i++)
            if ((s[i] & 0xC0) != 0x80)
                return false;
        if (len == 3 && ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] > 0x9F)))
            return false;
        if (len == 4 && ((s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] > 0x8F)))
            return false;
        memcpy (out + n, s, (size_t) len);
        n += (size_t) len;
        s += len;
    }
    out[n] = '\0';
    *p = (const char *) s + 1;
    return true;
}

/* Parses one line "{...}\n" of string, integer and boolean members. */
static bool
s_parse_line (const char *line, s_object_t *obj)
{
    const char *p = line;
    obj->count = 0;
    if (*p++ != '{')
        return false;
    while (*p != '}') {
        if (obj->count > 0 && *p++ != ',')
            return false;
        if (obj->count == MAX_FIELDS)
            return false;
        s_field_t *f = &obj->fields[obj->count++];
        if (!s_read_string (&p, f->key, sizeof f->key) || *p++ != ':')
            return false;
        if (*p == '"') {
            f->is_string = true;
            if (!s_read_string (&p, f->value, sizeof f->value))
                return false;
        }
        else {
            f->is_string = false;
            size_t n = 0;
            if (strncmp (p, "true", 4) == 0 || strncmp (p, "false", 5) == 0) {
                n = *p == 't' ? 4 : 5;
            }
            else {
                if (*p == '-')
                    n++;
                if (p[n] < '0' || p[n] > '9')
                    return false;
                while (p[n] >= '0' && p[n] <= '9')
                    n++;
            }
            memcpy (f->value, p, n);
            f->value[n] = '\0';
            p += n;
        }
    }
    return p[1] == '\n' && p[2] == '\0';
}

static const s_field_t *
s_get (const s_object_t *obj, const char *key)
{
    for (int i = 0; i < obj->count; i++)
        if (strcmp (obj->fields[i].key, key) == 0)
            return &obj->fields[i];
    return NULL;
}

/* The field key, which the line must have. */
static const s_field_t *
s_must (const s_object_t *obj, const char *key)
{
    const s_field_t *f = s_get (obj, key);
    if (!f)
        fail_msg ("the line has no \"%s\"", key);
    assert_non_null (f);
    return f;
}

/* Ends the capture, checks that exactly one valid line came out and parses
 * it into obj. Returns the raw text (caller frees). */
static char *
s_one_line (s_object_t *obj)
{
    size_t len;
    char *text = s_capture_end (&len);
    assert_true (len > 0);
    assert_true (len <= 4096);                      /* fits one atomic pipe write */
    assert_ptr_equal (strchr (text, '\n'), text + len - 1);
    if (!s_parse_line (text, obj))
        fail_msg ("not a valid JSON line: %s", text);
    return text;
}

/* --------------------------------------------------------------- tests */

static void
test_fields (void **state)
{
    meso_log_init ("events", "info");
    s_capture_start ();
    meso_info ("started on %s with %d workers", "tcp://127.0.0.1:7105", 4);
    s_object_t obj;
    free (s_one_line (&obj));
    assert_string_equal (s_must (&obj, "level")->value, "info");
    assert_string_equal (s_must (&obj, "service")->value, "events");
    assert_string_equal (s_must (&obj, "msg")->value, "started on tcp://127.0.0.1:7105 with 4 workers");
    assert_null (s_get (&obj, "truncated"));
    /* "2026-11-21T12:00:00.123Z" */
    const char *ts = s_must (&obj, "ts")->value;
    assert_int_equal (strnlen (ts, sizeof s_must (&obj, "ts")->value), 24);
    assert_true (ts[4] == '-' && ts[10] == 'T' && ts[19] == '.' && ts[23] == 'Z');
}

static void
test_level_filter (void **state)
{
    meso_log_init ("billing", "warn");
    s_capture_start ();
    meso_debug ("hidden %d", 1);
    meso_info ("hidden %d", 2);
    meso_warn ("shown %d", 3);
    meso_error ("shown %d", 4);
    size_t len;
    char *text = s_capture_end (&len);
    assert_null (strstr (text, "hidden"));
    char *second = strchr (text, '\n');
    assert_non_null (second);
    s_object_t obj;
    *second = '\0';
    char first_line[4200];
    snprintf (first_line, sizeof first_line, "%s\n", text);
    assert_true (s_parse_line (first_line, &obj));
    assert_string_equal (s_must (&obj, "level")->value, "warn");
    assert_true (s_parse_line (second + 1, &obj));
    assert_string_equal (s_must (&obj, "level")->value, "error");
    assert_string_equal (s_must (&obj, "msg")->value, "shown 4");
    free (text);

    meso_log_init ("billing", "debug");
    s_capture_start ();
    meso_debug ("now shown");
    free (s_one_line (&obj));
    assert_string_equal (s_must (&obj, "level")->value, "debug");
    meso_log_init ("billing", NULL);      /* back to info */
    s_capture_start ();
    meso_debug ("hidden again");
    text = s_capture_end (&len);
    assert_int_equal (len, 0);
    free (text);
}

static void
test_escaping (void **state)
{
    meso_log_init ("sched\"uling", NULL);
    s_capture_start ();
    meso_info ("quote \" backslash \\ newline \n tab \t bell \a esc \x1b end");
    s_object_t obj;
    char *text = s_one_line (&obj);
    assert_string_equal (s_must (&obj, "service")->value, "sched\"uling");
    assert_string_equal (s_must (&obj, "msg")->value,
                         "quote \" backslash \\ newline \n tab \t bell \a esc \x1b end");
    assert_non_null (strstr (text, "\\u001b"));
    assert_non_null (strstr (text, "\\u000a"));
    free (text);

    /* Valid multi-byte UTF-8 passes through unchanged. */
    s_capture_start ();
    meso_info ("café 東京 \xF0\x9F\x92\x89");
    free (s_one_line (&obj));
    assert_string_equal (s_must (&obj, "msg")->value, "café 東京 \xF0\x9F\x92\x89");
}

static void
test_invalid_utf8 (void **state)
{
    meso_log_init ("inventory", NULL);
    /* Stray continuation, lone lead byte, overlong '/', a UTF-16
     * surrogate, beyond U+10FFFF, and a sequence cut by the end. */
    const char *bad = "a\x80 b\xC3 c\xC0\xAF d\xED\xA0\x80 e\xF4\x90\x80\x80 f\xE2\x82";
    s_capture_start ();
    meso_info ("%s", bad);
    s_object_t obj;
    free (s_one_line (&obj));
    const char *msg = s_must (&obj, "msg")->value;
    const char *head = "a\xEF\xBF\xBD b\xEF\xBF\xBD c\xEF\xBF\xBD\xEF\xBF\xBD d";
    assert_true (strncmp (msg, head, strlen (head)) == 0);
    assert_null (strchr (msg, '\x80'));
    /* The cut sequence at the end becomes two replacement characters. */
    const char *tail = "f\xEF\xBF\xBD\xEF\xBF\xBD";
    size_t n = strlen (msg);
    assert_true (n > strlen (tail));
    assert_string_equal (msg + n - strlen (tail), tail);
}

static void
test_truncation (void **state)
{
    meso_log_init ("events", NULL);
    /* A message far longer than a line; and one made of characters that
     * each need a six-byte escape, so the cut falls among escapes. */
    static char big[100000];
    memset (big, 'x', sizeof big - 1);
    s_capture_start ();
    meso_info ("%s", big);
    s_object_t obj;
    free (s_one_line (&obj));
    assert_string_equal (s_must (&obj, "truncated")->value, "true");
    assert_true (strlen (s_must (&obj, "msg")->value) > 1000);

    static char ctl[3000];
    memset (ctl, '\x01', sizeof ctl - 1);
    s_capture_start ();
    meso_warn ("%s", ctl);
    free (s_one_line (&obj));
    assert_string_equal (s_must (&obj, "truncated")->value, "true");
    const char *msg = s_must (&obj, "msg")->value;
    for (const char *c = msg; *c; c++)
        assert_int_equal (*c, '\x01');

    /* Multi-byte characters are never cut in half. */
    static char euro[6001];
    for (int i = 0; i < 2000; i++)
        memcpy (euro + 3 * i, "\xE2\x82\xAC", 3);
    s_capture_start ();
    meso_info ("%s", euro);
    free (s_one_line (&obj));
    assert_int_equal (strlen (s_must (&obj, "msg")->value) % 3, 0);
}

static void
test_request_line (void **state)
{
    meso_log_init ("scheduling", NULL);
    s_capture_start ();
    meso_log_request ("req-1", "scheduling.BookCourse", MESO_FAILED_PRECONDITION, 1234,
                      "room \"B\" is taken");
    s_object_t obj;
    free (s_one_line (&obj));
    assert_string_equal (s_must (&obj, "level")->value, "info");
    assert_string_equal (s_must (&obj, "request_id")->value, "req-1");
    assert_string_equal (s_must (&obj, "method")->value, "scheduling.BookCourse");
    assert_string_equal (s_must (&obj, "code")->value, "FAILED_PRECONDITION");
    assert_false (s_must (&obj, "duration_us")->is_string);
    assert_string_equal (s_must (&obj, "duration_us")->value, "1234");
    assert_string_equal (s_must (&obj, "message")->value, "room \"B\" is taken");

    /* OK replies carry no message; internal errors are logged as errors. */
    s_capture_start ();
    meso_log_request ("req-2", "scheduling.GetCourse", MESO_OK, 17, "ignored");
    free (s_one_line (&obj));
    assert_null (s_get (&obj, "message"));
    assert_string_equal (s_must (&obj, "code")->value, "OK");
    s_capture_start ();
    meso_log_request (NULL, NULL, MESO_INTERNAL, 5, NULL);
    free (s_one_line (&obj));
    assert_string_equal (s_must (&obj, "level")->value, "error");
    assert_string_equal (s_must (&obj, "request_id")->value, "");

    /* A huge request id still gives a valid, marked line. */
    static char id[6000];
    memset (id, '"', sizeof id - 1);
    s_capture_start ();
    meso_log_request (id, "m", MESO_INVALID_ARGUMENT, 1, "bad");
    free (s_one_line (&obj));
    assert_string_equal (s_must (&obj, "truncated")->value, "true");
}

static void
test_escape_function (void **state)
{
    char buf[16];
    assert_int_equal (meso_json_escape (buf, sizeof buf, "a\"b"), 4);
    assert_string_equal (buf, "a\\\"b");
    /* Never cut inside an escape: "ab" fits, the 6-byte \u0001 does not. */
    assert_int_equal (meso_json_escape (buf, 8, "ab\x01"), 2);
    assert_string_equal (buf, "ab");
    assert_int_equal (meso_json_escape (buf, 9, "ab\x01"), 8);
    assert_string_equal (buf, "ab\\u0001");
    assert_int_equal (meso_json_escape (buf, 1, "abc"), 0);
    assert_string_equal (buf, "");
    assert_int_equal (meso_json_escape (buf, 0, "abc"), 0);
    assert_int_equal (meso_json_escape (buf, sizeof buf, NULL), 0);
    /* Not cut inside a character either. */
    assert_int_equal (meso_json_escape (buf, 4, "a\xE2\x82\xAC"), 1);
    assert_string_equal (buf, "a");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_fields),
        cmocka_unit_test (test_level_filter),
        cmocka_unit_test (test_escaping),
        cmocka_unit_test (test_invalid_utf8),
        cmocka_unit_test (test_truncation),
        cmocka_unit_test (test_request_line),
        cmocka_unit_test (test_escape_function),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
