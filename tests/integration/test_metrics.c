/* test_metrics.c -- the Prometheus endpoint of the daemons.
 *
 * Real meso-screening and meso-events on a fresh database, each serving
 * metrics on a loopback port (--metrics / MESO_METRICS_BIND). Every scrape
 * is read over a plain TCP socket and checked by a strict parser of the
 * text exposition format written here: HELP and TYPE at most once per
 * family and before its samples, families not interleaved, metric and label
 * names well formed, label values correctly escaped, no duplicate series,
 * numbers that parse, histogram buckets in increasing le, cumulative, ending
 * with le="+Inf" equal to _count. Then: the request counters and the
 * latency histogram move by exactly the requests made (by method and code),
 * events exposes its stream heads, writer state and publish lag, a bad
 * --metrics value stops the daemon at start, other paths get 404, and the
 * in-process renderer escapes label values and lumps methods beyond its
 * table into "other". */
#include <arpa/inet.h>
#include <ctype.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture_patient.h"
#include "harness.h"
#include "meso/bus.h"
#include "meso/metrics.h"
#include "meso/version.h"
#include "screening.pb-c.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

/* ------------------------------------------------------ a strict parser */

#define MAXS 4096
typedef struct {
    char name[128];
    char labels[512];           /* canonical: a="x",b="y" in the text's order */
    char le[256];               /* the le label of a bucket, else "" */
    char nole[512];             /* labels without le */
    double value;
} sample_t;

typedef struct {
    sample_t s[MAXS];
    int n;
} scrape_t;

static bool
s_name_ok (const char *p, size_t len, bool metric)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        bool ok = isalpha ((unsigned char) c) || c == '_' || (metric && c == ':')
               || (i > 0 && isdigit ((unsigned char) c));
        if (!ok)
            return false;
    }
    return true;
}

static bool
s_value (const char *p, double *out)
{
    if (strcmp (p, "+Inf") == 0) { *out = INFINITY; return true; }
    if (strcmp (p, "-Inf") == 0) { *out = -INFINITY; return true; }
    if (strcmp (p, "NaN") == 0) { *out = NAN; return true; }
    char *end;
    *out = strtod (p, &end);
    return end != p && *end == '\0';
}

/* Family of a sample name given the declared type of the candidate. */
static const char *
s_family_of (const char *name, const char *fam, const char *type)
{
    size_t fl = strlen (fam);
    if (strcmp (name, fam) == 0)
        return strcmp (type, "histogram") == 0 ? NULL : fam;
    if (strcmp (type, "histogram") == 0 && strncmp (name, fam, fl) == 0
        && (strcmp (name + fl, "_bucket") == 0 || strcmp (name + fl, "_sum") == 0
            || strcmp (name + fl, "_count") == 0))
        return fam;
    return NULL;
}

/* Parses text into sc; fails the test with the offending line. */
static void
s_parse (const char *text, scrape_t *sc)
{
    char fams[256][128], types[256][16];
    bool helped[256];
    int nfam = 0, cur = -1;
    sc->n = 0;
    assert_true (strlen (text) > 0 && text[strlen (text) - 1] == '\n');
    char *copy = strdup (text);
    char *save = NULL;
    for (char *line = strtok_r (copy, "\n", &save); line; line = strtok_r (NULL, "\n", &save)) {
        if (line[0] == '#') {
            char kw[8], name[128], rest[256] = "";
            int n = sscanf (line, "# %7s %127s %255[^\n]", kw, name, rest);
            if (n < 2 || (strcmp (kw, "HELP") != 0 && strcmp (kw, "TYPE") != 0))
                continue;       /* a plain comment */
            if (!s_name_ok (name, strlen (name), true))
                fail_msg ("bad metric name in: %s", line);
            int f = -1;
            for (int i = 0; i < nfam; i++)
                if (strcmp (fams[i], name) == 0)
                    f = i;
            if (f < 0) {
                assert_true (nfam < 256);
                f = nfam++;
                snprintf (fams[f], sizeof fams[f], "%s", name);
                types[f][0] = '\0';
                helped[f] = false;
            }
            else if (f != cur)
                fail_msg ("family %s interleaved with another: %s", name, line);
            cur = f;
            if (strcmp (kw, "TYPE") == 0) {
                if (types[f][0])
                    fail_msg ("second TYPE for %s", name);
                for (int i = 0; i < sc->n; i++)
                    if (s_family_of (sc->s[i].name, name, rest))
                        fail_msg ("TYPE of %s after its samples", name);
                if (strcmp (rest, "counter") && strcmp (rest, "gauge") && strcmp (rest, "histogram")
                    && strcmp (rest, "summary") && strcmp (rest, "untyped"))
                    fail_msg ("unknown type in: %s", line);
                snprintf (types[f], sizeof types[f], "%.15s", rest);
            }
            else {
                if (helped[f])
                    fail_msg ("second HELP for %s", name);
                helped[f] = true;
            }
            continue;
        }
        assert_true (sc->n < MAXS);
        sample_t *s = &sc->s[sc->n];
        memset (s, 0, sizeof *s);
        const char *p = line;
        size_t nl = strcspn (p, "{ ");
        if (!s_name_ok (p, nl, true) || nl >= sizeof s->name)
            fail_msg ("bad sample name: %s", line);
        memcpy (s->name, p, nl);
        p += nl;
        if (*p == '{') {
            p++;
            char *out = s->labels, *nole = s->nole;
            bool first = true;
            while (*p != '}') {
                if (!first) {
                    if (*p != ',')
                        fail_msg ("expected , between labels: %s", line);
                    p++;
                    if (*p == '}')
                        break;  /* a trailing comma is allowed */
                }
                size_t ln = strcspn (p, "=");
                if (!s_name_ok (p, ln, false) || p[ln] != '=' || p[ln + 1] != '"')
                    fail_msg ("bad label: %s", line);
                char lname[64] = "";
                snprintf (lname, sizeof lname, "%.*s", (int) ln, p);
                p += ln + 2;
                char val[256];
                size_t vl = 0;
                while (*p != '"') {
                    if (!*p)
                        fail_msg ("unterminated label value: %s", line);
                    if (*p == '\\') {
                        p++;
                        if (*p == 'n') val[vl++] = '\n';
                        else if (*p == '\\' || *p == '"') val[vl++] = *p;
                        else fail_msg ("bad escape in: %s", line);
                    }
                    else
                        val[vl++] = *p;
                    p++;
                    assert_true (vl < sizeof val - 1);
                }
                val[vl] = '\0';
                p++;
                char probe[72];
                snprintf (probe, sizeof probe, "%s=\"", lname);
                if (strncmp (s->labels, probe, strlen (probe)) == 0)
                    fail_msg ("label %s twice: %s", lname, line);
                snprintf (probe, sizeof probe, ",%s=\"", lname);
                if (strstr (s->labels, probe))
                    fail_msg ("label %s twice: %s", lname, line);
                out += sprintf (out, "%s%s=\"%s\"", first ? "" : ",", lname, val);
                if (strcmp (lname, "le") == 0)
                    snprintf (s->le, sizeof s->le, "%s", val);
                else
                    nole += sprintf (nole, "%s%s=\"%s\"", nole == s->nole ? "" : ",", lname, val);
                first = false;
            }
            p++;
        }
        if (*p != ' ')
            fail_msg ("expected a space before the value: %s", line);
        p++;
        char num[64];
        if (sscanf (p, "%63s", num) != 1 || !s_value (num, &s->value))
            fail_msg ("bad value: %s", line);
        p += strlen (num);
        if (*p == ' ') {        /* an optional integer timestamp */
            char *end;
            strtoll (p + 1, &end, 10);
            if (*end)
                fail_msg ("bad timestamp: %s", line);
        }
        else if (*p)
            fail_msg ("trailing text: %s", line);
        /* The sample belongs to the current family, which has a TYPE. */
        if (cur < 0 || !types[cur][0] || !s_family_of (s->name, fams[cur], types[cur]))
            fail_msg ("sample outside its declared family: %s", line);
        for (int i = 0; i < sc->n; i++)
            if (strcmp (sc->s[i].name, s->name) == 0 && strcmp (sc->s[i].labels, s->labels) == 0)
                fail_msg ("duplicate series: %s", line);
        if (strcmp (types[cur], "histogram") == 0 && strstr (s->name, "_bucket") && !s->le[0])
            fail_msg ("bucket without le: %s", line);
        if (strcmp (types[cur], "counter") == 0 && !(s->value >= 0))
            fail_msg ("negative counter: %s", line);
        sc->n++;
    }
    free (copy);

    /* Histograms: per series, le increasing, cumulative, +Inf last = count. */
    for (int f = 0; f < nfam; f++) {
        if (strcmp (types[f], "histogram") != 0)
            continue;
        char bucket[160], count[160];
        snprintf (bucket, sizeof bucket, "%.127s_bucket", fams[f]);
        snprintf (count, sizeof count, "%.127s_count", fams[f]);
        for (int i = 0; i < sc->n; i++) {
            if (strcmp (sc->s[i].name, count) != 0)
                continue;
            double prev_le = -INFINITY, prev = 0;
            bool inf = false;
            int nb = 0;
            for (int j = 0; j < sc->n; j++) {
                const sample_t *b = &sc->s[j];
                if (strcmp (b->name, bucket) != 0 || strcmp (b->nole, sc->s[i].labels) != 0)
                    continue;
                double le;
                assert_true (s_value (b->le, &le));
                if (inf)
                    fail_msg ("%s{%s}: a bucket after +Inf", bucket, b->labels);
                if (!(le > prev_le))
                    fail_msg ("%s{%s}: le not increasing", bucket, b->labels);
                if (b->value < prev)
                    fail_msg ("%s{%s}: not cumulative", bucket, b->labels);
                prev_le = le;
                prev = b->value;
                inf = isinf (le);
                nb++;
            }
            if (nb == 0 || !inf)
                fail_msg ("%s{%s}: buckets must end with le=\"+Inf\"", bucket, sc->s[i].labels);
            if (prev != sc->s[i].value)
                fail_msg ("%s{%s}: +Inf bucket %g != count %g", bucket, sc->s[i].labels, prev,
                          sc->s[i].value);
        }
    }
}

/* Value of a series, or -1 when absent. */
static double
s_get (const scrape_t *sc, const char *name, const char *labels)
{
    for (int i = 0; i < sc->n; i++)
        if (strcmp (sc->s[i].name, name) == 0 && strcmp (sc->s[i].labels, labels) == 0)
            return sc->s[i].value;
    return -1;
}

/* --------------------------------------------------------------- HTTP */

/* GET path on 127.0.0.1:port; returns the status code, body in *body
 * (malloc'd), Content-Type in ctype. */
static int
s_http_get (int port, const char *path, char **body, char *ctype, size_t ctsize)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    assert_true (fd >= 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port) };
    a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    if (connect (fd, (struct sockaddr *) &a, sizeof a) != 0) {
        close (fd);
        return -1;
    }
    char req[256];
    int n = snprintf (req, sizeof req, "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
    assert_int_equal (write (fd, req, (size_t) n), n);
    size_t cap = 65536, len = 0;
    char *buf = malloc (cap);
    ssize_t r;
    while ((r = read (fd, buf + len, cap - len - 1)) > 0) {
        len += (size_t) r;
        if (cap - len < 4096)
            buf = realloc (buf, cap *= 2);
    }
    close (fd);
    buf[len] = '\0';
    int status = 0;
    assert_int_equal (sscanf (buf, "HTTP/1.%*d %d", &status), 1);
    char *hdr_end = strstr (buf, "\r\n\r\n");
    assert_non_null (hdr_end);
    *hdr_end = '\0';
    ctype[0] = '\0';
    char *ct = strcasestr (buf, "\r\nContent-Type: ");
    if (ct)
        snprintf (ctype, ctsize, "%.*s", (int) strcspn (ct + 16, "\r"), ct + 16);
    *body = strdup (hdr_end + 4);
    free (buf);
    return status;
}

static scrape_t *
s_scrape (int port)
{
    char *body = NULL, ctype[128];
    int status = -1;
    for (int i = 0; i < 50 && status < 0; i++) {
        status = s_http_get (port, "/metrics", &body, ctype, sizeof ctype);
        if (status < 0)
            mt_sleep_ms (100);
    }
    assert_int_equal (status, 200);
    assert_non_null (strstr (ctype, "text/plain"));
    assert_non_null (strstr (ctype, "version=0.0.4"));
    scrape_t *sc = calloc (1, sizeof *sc);
    s_parse (body, sc);
    free (body);
    return sc;
}

/* -------------------------------------------------------------- tests */

static void
test_daemons (void **state)
{
    char admin[512], role[512], db[600], bind[300], ev_bind[300], pub[300], mbind[64], ev_mbind[64];
    assert_int_equal (mt_db_create ("test_metrics", admin, sizeof admin), 0);
    int port = mt_free_port (), ev_port = mt_free_port ();
    while (ev_port == port)
        ev_port = mt_free_port ();

    mt_ipc_endpoint ("scr", bind, sizeof bind);
    mt_role_conninfo ("test_metrics", "meso_screening", role, sizeof role);
    snprintf (db, sizeof db, "--db=%s", role);
    char b1[320];
    snprintf (b1, sizeof b1, "--bind=%s", bind);
    snprintf (mbind, sizeof mbind, "MESO_METRICS_BIND=127.0.0.1:%d", port);
    const char *a1[] = { "meso-screening", db, b1, "--scheduling=", "--inventory=", NULL };
    const char *e1[] = { mbind, NULL };
    pid_t scr = mt_spawn ("bin/meso-screening", a1, e1);

    mt_ipc_endpoint ("ev", ev_bind, sizeof ev_bind);
    mt_ipc_endpoint ("pub", pub, sizeof pub);
    char edb[600], b2[320], p2[320];
    mt_role_conninfo ("test_metrics", "meso_events", role, sizeof role);
    snprintf (edb, sizeof edb, "--db=%s", role);
    snprintf (b2, sizeof b2, "--bind=%s", ev_bind);
    snprintf (p2, sizeof p2, "--pub=%s", pub);
    snprintf (ev_mbind, sizeof ev_mbind, "--metrics=127.0.0.1:%d", ev_port);
    const char *a2[] = { "meso-events", edb, b2, p2, ev_mbind, NULL };
    pid_t ev = mt_spawn ("bin/meso-events", a2, NULL);
    assert_true (scr > 0 && ev > 0);
    assert_int_equal (mt_wait_healthy (bind, 10000), 0);
    assert_int_equal (mt_wait_healthy (ev_bind, 10000), 0);

    scrape_t *before = s_scrape (port);
    const char *reg = "method=\"screening.RegisterPatient\",code=\"OK\"";
    const char *bad = "method=\"screening.RegisterPatient\",code=\"INVALID_ARGUMENT\"";
    double ok0 = s_get (before, "meso_requests_total", reg);
    double bad0 = s_get (before, "meso_requests_total", bad);
    double cnt0 = s_get (before, "meso_request_duration_seconds_count", "method=\"screening.RegisterPatient\"");
    assert_true (s_get (before, "meso_build_info", "service=\"screening\",version=\"" MESO_VERSION "\"") == 1);
    assert_true (s_get (before, "meso_db_retries_total", "") >= 0);

    meso_bus_client_t *c = mt_client (bind);
    meso_result_t r = { 0 };
    char patient[64] = "";
    for (int i = 0; i < 3; i++) {
        Meso__V1__Patient p = MESO__V1__PATIENT__INIT;
        p.given_name = "Ana";
        p.family_name = "Lopez";
        p.birth_date = "1990-05-04";
        p.sex = MESO__V1__SEX__SEX_FEMALE;
        p.home_clinic_id = "lyon";
        Meso__V1__RegisterPatientRequest rq = MESO__V1__REGISTER_PATIENT_REQUEST__INIT;
        rq.patient = &p;
        char key[32];
        snprintf (key, sizeof key, "metrics-%d", i);
        meso_result_reset (&r);
        assert_int_equal (meso_bus_client_call (c, "screening.RegisterPatient", &rq.base, key, 10000, &r), 0);
        if (i == 0) {
            size_t len;
            const uint8_t *body = meso_result_body (&r, &len);
            Meso__V1__RegisterPatientReply *rep = meso__v1__register_patient_reply__unpack (NULL, len, body);
            assert_non_null (rep);
            snprintf (patient, sizeof patient, "%s", rep->patient->id);
            meso__v1__register_patient_reply__free_unpacked (rep, NULL);
        }
    }
    /* A screening: the event that events must publish. */
    mt_answers_t a;
    mt_answers_eligible (&a, 2);
    Meso__V1__RecordScreeningRequest sr = MESO__V1__RECORD_SCREENING_REQUEST__INIT;
    sr.patient_id = patient;
    sr.clinic_id = "lyon";
    sr.answers = &a.q;
    meso_result_reset (&r);
    assert_int_equal (meso_bus_client_call (c, "screening.RecordScreening", &sr.base, "metrics-scr", 10000, &r), 0);
    /* A request refused for bad input, and one for a method that does not
     * exist (counted as "unknown", not under its made-up name). */
    Meso__V1__RegisterPatientRequest empty = MESO__V1__REGISTER_PATIENT_REQUEST__INIT;
    meso_result_reset (&r);
    meso_bus_client_call (c, "screening.RegisterPatient", &empty.base, "metrics-bad", 10000, &r);
    assert_int_equal (r.status, MESO_INVALID_ARGUMENT);
    meso_result_reset (&r);
    meso_bus_client_call (c, "screening.NoSuchMethod", NULL, NULL, 10000, &r);
    assert_int_not_equal (r.status, MESO_OK);
    meso_result_reset (&r);
    meso_bus_client_destroy (&c);

    /* The daemon counts a request just after sending its reply, so the
     * last one (NoSuchMethod) may not be counted yet when its reply is
     * here (seen under ASan): scrape until it is. The daemon serves
     * requests one at a time, so the earlier ones are counted by then. */
    scrape_t *after = s_scrape (port);
    for (int i = 0; i < 50
         && s_get (after, "meso_request_duration_seconds_count", "method=\"unknown\"") < 1; i++) {
        free (after);
        mt_sleep_ms (100);
        after = s_scrape (port);
    }
    assert_true (s_get (after, "meso_requests_total", reg) == (ok0 < 0 ? 0 : ok0) + 3);
    assert_true (s_get (after, "meso_requests_total", bad) == (bad0 < 0 ? 0 : bad0) + 1);
    assert_true (s_get (after, "meso_request_duration_seconds_count",
                        "method=\"screening.RegisterPatient\"") == (cnt0 < 0 ? 0 : cnt0) + 4);
    assert_true (s_get (after, "meso_request_duration_seconds_bucket",
                        "method=\"screening.RegisterPatient\",le=\"+Inf\"") == (cnt0 < 0 ? 0 : cnt0) + 4);
    assert_true (s_get (after, "meso_request_duration_seconds_sum",
                        "method=\"screening.RegisterPatient\"") > 0);
    for (int i = 0; i < after->n; i++)
        assert_null (strstr (after->s[i].labels, "NoSuchMethod"));
    assert_true (s_get (after, "meso_request_duration_seconds_count", "method=\"unknown\"") >= 1);
    /* mt_wait_healthy's Health calls are counted too. */
    assert_true (s_get (after, "meso_requests_total", "method=\"Health\",code=\"OK\"") >= 1);
    free (before);
    free (after);

    /* events: the screening's event gets published; the
     * stream head, the writer state and the lag are exposed. */
    scrape_t *es = NULL;
    for (int i = 0; i < 50; i++) {
        free (es);
        es = s_scrape (ev_port);
        if (s_get (es, "meso_events_stream_head", "stream=\"screening\"") >= 1
            && s_get (es, "meso_events_publish_lag_seconds", "") >= 0)
            break;
        mt_sleep_ms (100);
    }
    assert_true (s_get (es, "meso_events_stream_head", "stream=\"screening\"") >= 1);
    assert_true (s_get (es, "meso_events_writer_active", "") == 1);
    double lag = s_get (es, "meso_events_publish_lag_seconds", "");
    assert_true (lag >= 0 && lag < 60);
    assert_true (s_get (es, "meso_events_published_total", "") >= 1);
    assert_true (s_get (es, "meso_build_info", "service=\"events\",version=\"" MESO_VERSION "\"") == 1);
    free (es);

    /* Another path: 404, and the daemon still serves. */
    char *body = NULL, ctype[128];
    assert_int_equal (s_http_get (port, "/nope", &body, ctype, sizeof ctype), 404);
    free (body);

    assert_int_equal (mt_stop (scr, SIGTERM), 0);
    assert_int_equal (mt_stop (ev, SIGTERM), 0);

    /* A metrics bind that is not host:port stops the daemon at start. */
    const char *a3[] = { "meso-screening", db, b1, "--metrics=nowhere", "--scheduling=", "--inventory=", NULL };
    pid_t bad_pid = mt_spawn ("bin/meso-screening", a3, NULL);
    int st = mt_stop (bad_pid, 0);
    assert_true (WIFEXITED (st) && WEXITSTATUS (st) == 1);
}

/* The renderer in-process: escaping, "other", and the parser accepts it. */
static void
test_render (void **state)
{
    assert_int_equal (meso_metrics_start ("unit", ""), 0);
    meso_metrics_request ("a.B", MESO_OK, 300);
    meso_metrics_request ("a.B", MESO_OK, 2000000);
    meso_metrics_request ("a.B", MESO_NOT_FOUND, 20000000);     /* beyond 10 s */
    meso_metrics_set ("meso_test_gauge", "A gauge.", "name", "q\"uo\\te\nnl", 2.5);
    meso_metrics_set ("meso_test_gauge", "A gauge.", "name", "plain", -1);
    meso_metrics_add ("meso_test_total", "A counter.", NULL, NULL, 2);
    meso_metrics_add ("meso_test_total", "A counter.", NULL, NULL, 3);
    for (int i = 0; i < 200; i++) {
        char m[32];
        snprintf (m, sizeof m, "m.M%d", i);
        meso_metrics_request (m, MESO_OK, 10);
    }
    char *text = meso_metrics_render ();
    assert_non_null (text);
    scrape_t *sc = calloc (1, sizeof *sc);
    s_parse (text, sc);
    free (text);
    assert_true (s_get (sc, "meso_requests_total", "method=\"a.B\",code=\"OK\"") == 2);
    assert_true (s_get (sc, "meso_requests_total", "method=\"a.B\",code=\"NOT_FOUND\"") == 1);
    assert_true (s_get (sc, "meso_request_duration_seconds_bucket", "method=\"a.B\",le=\"0.0005\"") == 1);
    assert_true (s_get (sc, "meso_request_duration_seconds_bucket", "method=\"a.B\",le=\"2.5\"") == 2);
    assert_true (s_get (sc, "meso_request_duration_seconds_bucket", "method=\"a.B\",le=\"10\"") == 2);
    assert_true (s_get (sc, "meso_request_duration_seconds_bucket", "method=\"a.B\",le=\"+Inf\"") == 3);
    assert_true (fabs (s_get (sc, "meso_request_duration_seconds_sum", "method=\"a.B\"") - 22.0003) < 1e-9);
    assert_true (s_get (sc, "meso_test_gauge", "name=\"q\"uo\\te\nnl\"") == 2.5);
    assert_true (s_get (sc, "meso_test_total", "") == 5);
    /* 128 methods at most: a.B, 126 of m.M*, and "other" for the rest. */
    assert_true (s_get (sc, "meso_request_duration_seconds_count", "method=\"m.M125\"") == 1);
    assert_true (s_get (sc, "meso_request_duration_seconds_count", "method=\"m.M126\"") == -1);
    assert_true (s_get (sc, "meso_request_duration_seconds_count", "method=\"other\"") == 200 - 126);
    free (sc);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_render),
        cmocka_unit_test (test_daemons),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
