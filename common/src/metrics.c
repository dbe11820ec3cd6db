/* metrics.c -- the process's Prometheus registry and its HTTP endpoint.
 *
 * Why it is built this way:
 * - One static registry per process, behind one mutex: the daemons' worker
 *   threads (meso_bus_server_start), their main thread and libmicrohttpd's
 *   thread rendering a scrape share it; recording a request holds it a few
 *   hundred nanoseconds, so a handful of workers barely contend. Atomics per series
 *   would save little and make a consistent snapshot (histogram buckets
 *   that add up to its count) harder.
 * - Fixed-size tables, no allocation when recording: a request is a lookup
 *   of its method (linear over at most 128, usually a dozen) and a few
 *   increments. Label cardinality is bounded by construction: the method
 *   label comes from the server's own method table ("unknown" otherwise),
 *   the code label from the 17 canonical statuses.
 * - Histogram buckets are kept per bucket and made cumulative when
 *   rendered, as the text format wants (le="+Inf" equals _count).
 * - libmicrohttpd runs its own polling thread (MHD_USE_INTERNAL_POLLING_
 *   THREAD): the daemon's zmq_poll loop is untouched, and a slow scraper
 *   cannot delay a request. Its error log is off: it would print plain text
 *   into our JSON-lines stderr; a failed bind is reported by us instead.
 */
#include <arpa/inet.h>
#include <assert.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "meso/log.h"
#include "meso/metrics.h"
#include "meso/status.h"
#include "meso/version.h"

#define MAX_METHODS 128
#define MAX_SERIES 1024        /* per-clinic gauges: two a clinic, 500 clinics */
#define NCODES 17               /* canonical status codes 0..16 */
#define METHOD_LEN 128
#define VALUE_LEN 72            /* a clinic id (64) fits */

/* Upper bounds of the latency buckets, in seconds (+Inf is implicit). */
static const double s_bounds[] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
};
#define NBUCKETS (sizeof s_bounds / sizeof s_bounds[0])

typedef struct {
    char name[METHOD_LEN];
    uint64_t codes[NCODES];
    uint64_t buckets[NBUCKETS + 1];     /* per bucket, the last is (10, +Inf) */
    uint64_t count;
    double sum;                         /* seconds */
} s_method_t;

typedef struct {
    const char *name;
    const char *help;
    const char *label;
    char value[VALUE_LEN];
    bool counter;
    double v;
} s_series_t;

static struct {
    pthread_mutex_t lock;
    char service[64];
    double started;                     /* unix seconds */
    s_method_t methods[MAX_METHODS];
    int nmethods;
    s_series_t series[MAX_SERIES];
    int nseries;
    uint64_t db_retries;
    struct MHD_Daemon *httpd;
} s_reg = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* ------------------------------------------------------------ recording */

static s_method_t *
s_method (const char *name)
{
    for (int i = 0; i < s_reg.nmethods; i++)
        if (strcmp (s_reg.methods[i].name, name) == 0)
            return &s_reg.methods[i];
    if (s_reg.nmethods < MAX_METHODS - 1 || strcmp (name, "other") == 0) {
        if (s_reg.nmethods == MAX_METHODS)
            return NULL;
        s_method_t *m = &s_reg.methods[s_reg.nmethods++];
        memset (m, 0, sizeof *m);
        snprintf (m->name, sizeof m->name, "%s", name);
        return m;
    }
    return s_method ("other");  /* the last slot is kept for it */
}

void
meso_metrics_request (const char *method, int status, int64_t duration_us)
{
    double s = duration_us > 0 ? (double) duration_us / 1e6 : 0;
    size_t b = 0;
    while (b < NBUCKETS && s > s_bounds[b])
        b++;
    pthread_mutex_lock (&s_reg.lock);
    s_method_t *m = s_method (method && *method ? method : "unknown");
    if (m) {
        m->codes[status >= 0 && status < NCODES ? status : MESO_UNKNOWN]++;
        m->buckets[b]++;
        m->count++;
        m->sum += s;
    }
    pthread_mutex_unlock (&s_reg.lock);
}

void
meso_metrics_db_retry (void)
{
    pthread_mutex_lock (&s_reg.lock);
    s_reg.db_retries++;
    pthread_mutex_unlock (&s_reg.lock);
}

static void
s_series (const char *name, const char *help, const char *label, const char *value,
          bool counter, double v, bool add)
{
    assert (name && help);
    assert (!label == !value);
    pthread_mutex_lock (&s_reg.lock);
    s_series_t *found = NULL;
    for (int i = 0; i < s_reg.nseries && !found; i++) {
        s_series_t *s = &s_reg.series[i];
        if (strcmp (s->name, name) == 0
            && (label ? s->label && strncmp (s->value, value, VALUE_LEN - 1) == 0 : !s->label))
            found = s;
    }
    if (!found && s_reg.nseries < MAX_SERIES) {
        found = &s_reg.series[s_reg.nseries++];
        found->name = name;
        found->help = help;
        found->label = label;
        found->counter = counter;
        found->v = 0;
        snprintf (found->value, sizeof found->value, "%s", value ? value : "");
    }
    if (found)
        found->v = add ? found->v + v : v;
    pthread_mutex_unlock (&s_reg.lock);
}

void
meso_metrics_set (const char *name, const char *help, const char *label,
                  const char *value, double v)
{
    s_series (name, help, label, value, false, v, false);
}

void
meso_metrics_add (const char *name, const char *help, const char *label,
                  const char *value, double delta)
{
    s_series (name, help, label, value, true, delta, true);
}

/* ------------------------------------------------------------ rendering */

typedef struct {
    char *buf;
    size_t len, cap;
    bool oom;
} s_out_t;

static void
s_printf (s_out_t *o, const char *fmt, ...)
{
    if (o->oom)
        return;
    for (;;) {
        va_list ap;
        va_start (ap, fmt);
        int n = vsnprintf (o->buf + o->len, o->cap - o->len, fmt, ap);
        va_end (ap);
        if (n < 0) {
            o->oom = true;
            return;
        }
        if ((size_t) n < o->cap - o->len) {
            o->len += (size_t) n;
            return;
        }
        size_t cap = o->cap * 2 + (size_t) n;
        char *b = realloc (o->buf, cap);
        if (!b) {
            o->oom = true;
            return;
        }
        o->buf = b;
        o->cap = cap;
    }
}

/* A label value with \, " and newline escaped. */
static void
s_escaped (s_out_t *o, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\')
            s_printf (o, "\\\\");
        else if (*v == '"')
            s_printf (o, "\\\"");
        else if (*v == '\n')
            s_printf (o, "\\n");
        else
            s_printf (o, "%c", *v);
    }
}

/* Shortest text that reads back as the same double; integers plainly. */
static void
s_number (s_out_t *o, double v)
{
    if (isnan (v))
        s_printf (o, "NaN");
    else if (isinf (v))
        s_printf (o, v > 0 ? "+Inf" : "-Inf");
    else if (v < 9e15 && v > -9e15 && v == (double) (int64_t) v)
        s_printf (o, "%lld", (long long) v);
    else {
        char buf[32];
        for (int prec = 1; prec <= 17; prec++) {
            snprintf (buf, sizeof buf, "%.*g", prec, v);
            if (strtod (buf, NULL) == v)
                break;
        }
        s_printf (o, "%s", buf);
    }
}

char *
meso_metrics_render (void)
{
    s_out_t o = { .cap = 8192 };
    o.buf = malloc (o.cap);
    if (!o.buf)
        return NULL;
    o.buf[0] = '\0';
    pthread_mutex_lock (&s_reg.lock);

    s_printf (&o, "# HELP meso_build_info The daemon and its version (always 1).\n"
                  "# TYPE meso_build_info gauge\n"
                  "meso_build_info{service=\"");
    s_escaped (&o, s_reg.service);
    s_printf (&o, "\",version=\"%s\"} 1\n", MESO_VERSION);
    s_printf (&o, "# HELP meso_process_start_time_seconds Start time of the process since the Unix epoch.\n"
                  "# TYPE meso_process_start_time_seconds gauge\n"
                  "meso_process_start_time_seconds ");
    s_number (&o, s_reg.started);
    s_printf (&o, "\n");

    s_printf (&o, "# HELP meso_requests_total Requests answered, by method and status code.\n"
                  "# TYPE meso_requests_total counter\n");
    for (int i = 0; i < s_reg.nmethods; i++)
        for (int c = 0; c < NCODES; c++)
            if (s_reg.methods[i].codes[c]) {
                s_printf (&o, "meso_requests_total{method=\"");
                s_escaped (&o, s_reg.methods[i].name);
                s_printf (&o, "\",code=\"%s\"} %llu\n", meso_status_name (c),
                          (unsigned long long) s_reg.methods[i].codes[c]);
            }

    s_printf (&o, "# HELP meso_request_duration_seconds Time to answer a request, by method.\n"
                  "# TYPE meso_request_duration_seconds histogram\n");
    for (int i = 0; i < s_reg.nmethods; i++) {
        const s_method_t *m = &s_reg.methods[i];
        uint64_t cum = 0;
        for (size_t b = 0; b <= NBUCKETS; b++) {
            cum += m->buckets[b];
            s_printf (&o, "meso_request_duration_seconds_bucket{method=\"");
            s_escaped (&o, m->name);
            if (b < NBUCKETS) {
                s_printf (&o, "\",le=\"");
                s_number (&o, s_bounds[b]);
                s_printf (&o, "\"} %llu\n", (unsigned long long) cum);
            }
            else
                s_printf (&o, "\",le=\"+Inf\"} %llu\n", (unsigned long long) cum);
        }
        s_printf (&o, "meso_request_duration_seconds_sum{method=\"");
        s_escaped (&o, m->name);
        s_printf (&o, "\"} ");
        s_number (&o, m->sum);
        s_printf (&o, "\nmeso_request_duration_seconds_count{method=\"");
        s_escaped (&o, m->name);
        s_printf (&o, "\"} %llu\n", (unsigned long long) m->count);
    }

    s_printf (&o, "# HELP meso_db_retries_total Transactions retried after a serialization failure or deadlock.\n"
                  "# TYPE meso_db_retries_total counter\n"
                  "meso_db_retries_total %llu\n", (unsigned long long) s_reg.db_retries);

    /* Service series, grouped by name: HELP and TYPE once per family. */
    for (int i = 0; i < s_reg.nseries; i++) {
        const s_series_t *s = &s_reg.series[i];
        bool first = true;
        for (int j = 0; j < i && first; j++)
            if (strcmp (s_reg.series[j].name, s->name) == 0)
                first = false;
        if (!first)
            continue;
        s_printf (&o, "# HELP %s %s\n# TYPE %s %s\n", s->name, s->help, s->name,
                  s->counter ? "counter" : "gauge");
        for (int j = i; j < s_reg.nseries; j++) {
            const s_series_t *t = &s_reg.series[j];
            if (strcmp (t->name, s->name) != 0)
                continue;
            s_printf (&o, "%s", t->name);
            if (t->label) {
                s_printf (&o, "{%s=\"", t->label);
                s_escaped (&o, t->value);
                s_printf (&o, "\"}");
            }
            s_printf (&o, " ");
            s_number (&o, t->v);
            s_printf (&o, "\n");
        }
    }
    pthread_mutex_unlock (&s_reg.lock);
    if (o.oom) {
        free (o.buf);
        return NULL;
    }
    return o.buf;
}

/* ---------------------------------------------------------------- HTTP */

static enum MHD_Result
s_answer (void *cls, struct MHD_Connection *conn, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    if (strcmp (method, "GET") != 0 && strcmp (method, "HEAD") != 0) {
        static const char msg[] = "only GET /metrics\n";
        struct MHD_Response *r = MHD_create_response_from_buffer (sizeof msg - 1, (void *) msg,
                                                                  MHD_RESPMEM_PERSISTENT);
        enum MHD_Result rc = MHD_queue_response (conn, MHD_HTTP_METHOD_NOT_ALLOWED, r);
        MHD_destroy_response (r);
        return rc;
    }
    if (strcmp (url, "/metrics") != 0 && strcmp (url, "/") != 0) {
        static const char msg[] = "not found: the metrics are at /metrics\n";
        struct MHD_Response *r = MHD_create_response_from_buffer (sizeof msg - 1, (void *) msg,
                                                                  MHD_RESPMEM_PERSISTENT);
        enum MHD_Result rc = MHD_queue_response (conn, MHD_HTTP_NOT_FOUND, r);
        MHD_destroy_response (r);
        return rc;
    }
    char *text = meso_metrics_render ();
    if (!text)
        return MHD_NO;
    struct MHD_Response *r = MHD_create_response_from_buffer (strlen (text), text,
                                                              MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free (text);
        return MHD_NO;
    }
    MHD_add_response_header (r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
    enum MHD_Result rc = MHD_queue_response (conn, MHD_HTTP_OK, r);
    MHD_destroy_response (r);
    return rc;
}

int
meso_metrics_start (const char *service, const char *bind)
{
    assert (service);
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    pthread_mutex_lock (&s_reg.lock);
    snprintf (s_reg.service, sizeof s_reg.service, "%s", service);
    s_reg.started = (double) ts.tv_sec;
    pthread_mutex_unlock (&s_reg.lock);
    if (!bind || !*bind)
        return 0;
    assert (!s_reg.httpd);

    const char *colon = strrchr (bind, ':');
    char host[64] = "";
    char *end = NULL;
    long port = colon ? strtol (colon + 1, &end, 10) : -1;
    if (!colon || (size_t) (colon - bind) >= sizeof host || !end || *end || end == colon + 1
        || port < 1 || port > 65535) {
        meso_error ("metrics endpoint \"%s\" is not host:port (e.g. 127.0.0.1:9101)", bind);
        return -1;
    }
    memcpy (host, bind, (size_t) (colon - bind));
    struct sockaddr_in addr;
    memset (&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons ((uint16_t) port);
    if (!*host || strcmp (host, "*") == 0)
        addr.sin_addr.s_addr = htonl (INADDR_ANY);
    else if (strcmp (host, "localhost") == 0)
        addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    else if (inet_pton (AF_INET, host, &addr.sin_addr) != 1) {
        meso_error ("metrics endpoint \"%s\": \"%s\" is not an IPv4 address", bind, host);
        return -1;
    }
    s_reg.httpd = MHD_start_daemon (MHD_USE_INTERNAL_POLLING_THREAD, (uint16_t) port, NULL, NULL,
                                    s_answer, NULL,
                                    MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &addr,
                                    MHD_OPTION_CONNECTION_LIMIT, (unsigned int) 32,
                                    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 10,
                                    MHD_OPTION_END);
    if (!s_reg.httpd) {
        meso_error ("cannot serve metrics on %s (address in use?)", bind);
        return -1;
    }
    meso_info ("metrics on http://%s/metrics", bind);
    return 0;
}

void
meso_metrics_stop (void)
{
    if (s_reg.httpd) {
        MHD_stop_daemon (s_reg.httpd);
        s_reg.httpd = NULL;
    }
}
