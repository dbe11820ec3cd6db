/* cmd_health.c -- "mesoctl health": asks every daemon's built-in Health
 * method and prints a table (or JSON), exiting 0 only when all are "ok".
 *
 * Each service is asked from its own thread with its own bus client, so
 * the command takes as long as the slowest answer (at most --timeout), not
 * the sum: a stack that is entirely down answers in one timeout. A service
 * that does not reply in time is "down"; one that replies is whatever its
 * HealthReply.state says ("ok", "degraded", "starting"). A reply from a
 * different service than the one asked (a wrong port) is reported as
 * "mismatch" rather than trusted. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/bus.h"
#include "meso/config.h"
#include "meso/log.h"
#include "meso/status.h"
#include "mesoctl.h"

#define MAX_PROBES 16

typedef struct {
    const char *service;            /* name asked for; NULL with --endpoint */
    const char *endpoint;
    int timeout_ms;
    /* outcome, filled by the thread */
    bool replied;                   /* a reply envelope arrived */
    int status;                     /* its status, or why none came */
    char message[320];
    Meso__V1__HealthReply *health;  /* unpacked body when status is OK */
    const char *state;              /* "ok", "degraded", "down", ... */
} s_probe_t;

static const char *const s_services[] = { "screening", "scheduling", "inventory", "billing",
                                          "events", "webhooks" };
#define NSERVICES 6

static void *
s_probe_run (void *arg)
{
    s_probe_t *p = arg;
    meso_bus_client_t *client = meso_bus_client_new (p->service, p->endpoint);
    if (!client) {
        p->status = MESO_INVALID_ARGUMENT;
        snprintf (p->message, sizeof p->message, "cannot use endpoint \"%s\"", p->endpoint);
        return NULL;
    }
    /* Health is a read: resending it is harmless, and a resend helps when
     * the first attempt went to a connection that was just going away. */
    meso_bus_client_set_attempt_timeout (client, p->timeout_ms < 1000 ? p->timeout_ms : 1000);
    Meso__V1__HealthRequest req = MESO__V1__HEALTH_REQUEST__INIT;
    meso_result_t r = { 0 };
    meso_bus_client_call (client, "Health", &req.base, NULL, p->timeout_ms, &r);
    p->replied = r.reply != NULL;
    p->status = r.status;
    snprintf (p->message, sizeof p->message, "%s", r.message);
    if (r.status == MESO_OK) {
        size_t len;
        const uint8_t *body = meso_result_body (&r, &len);
        p->health = meso__v1__health_reply__unpack (NULL, len, body);
        if (!p->health) {
            p->status = MESO_INTERNAL;
            snprintf (p->message, sizeof p->message, "the Health reply body does not decode");
        }
    }
    meso_result_reset (&r);
    meso_bus_client_destroy (&client);
    return NULL;
}

static void
s_judge (s_probe_t *p)
{
    if (!p->replied)
        p->state = "down";
    else if (p->status != MESO_OK || !p->health)
        p->state = "error";
    else if (p->service && strcmp (p->health->service, p->service) != 0)
        p->state = "mismatch";
    else if (p->health->state == MESO__V1__HEALTH_STATE__HEALTH_STATE_OK)
        p->state = "ok";            /* kept for the whole run: no enumtext ring */
    else if (p->health->state == MESO__V1__HEALTH_STATE__HEALTH_STATE_DEGRADED)
        p->state = "degraded";
    else if (p->health->state == MESO__V1__HEALTH_STATE__HEALTH_STATE_STARTING)
        p->state = "starting";
    else
        p->state = p->health->db_ok ? "ok" : "degraded";
}

static void
s_uptime (uint64_t s, char *buf, size_t size)
{
    if (s >= 86400)
        snprintf (buf, size, "%lud%luh", (unsigned long) (s / 86400), (unsigned long) (s % 86400 / 3600));
    else if (s >= 3600)
        snprintf (buf, size, "%luh%lum", (unsigned long) (s / 3600), (unsigned long) (s % 3600 / 60));
    else if (s >= 60)
        snprintf (buf, size, "%lum%lus", (unsigned long) (s / 60), (unsigned long) (s % 60));
    else
        snprintf (buf, size, "%lus", (unsigned long) s);
}

/* What the NOTES column and the JSON "error" say about a probe. */
static void
s_notes (const s_probe_t *p, char *buf, size_t size)
{
    buf[0] = '\0';
    size_t n = 0;
    if (!p->replied || p->status != MESO_OK || !p->health) {
        if (p->replied)
            snprintf (buf, size, "%s: %s", meso_status_name (p->status), p->message);
        else
            snprintf (buf, size, "%s", p->message);
        return;
    }
    const Meso__V1__HealthReply *h = p->health;
    if (p->service && strcmp (h->service, p->service) != 0)
        n += (size_t) snprintf (buf + n, size - n, "answered as \"%s\"; ", h->service);
    if (!h->db_ok && n < size)
        n += (size_t) snprintf (buf + n, size - n, "database: %s; ", h->db_error);
    for (size_t i = 0; i < h->n_notes && n < size; i++)
        n += (size_t) snprintf (buf + n, size - n, "%s; ", h->notes[i]);
    if (n >= 2 && n < size)
        buf[n - 2] = '\0';
}

static void
s_print_table (s_probe_t *probes, int n)
{
    printf ("%-11s %-24s %-9s %-9s %-8s %-8s %-8s %s\n", "SERVICE", "ENDPOINT", "STATE",
            "DATABASE", "VERSION", "UPTIME", "LAG", "NOTES");
    for (int i = 0; i < n; i++) {
        s_probe_t *p = &probes[i];
        const Meso__V1__HealthReply *h = p->status == MESO_OK ? p->health : NULL;
        char uptime[32] = "-", lag[32] = "-", notes[1024];
        if (h) {
            s_uptime (h->uptime_s, uptime, sizeof uptime);
            snprintf (lag, sizeof lag, "%lldms", (long long) h->lag_ms);
        }
        s_notes (p, notes, sizeof notes);
        const char *name = p->service ? p->service : h && *h->service ? h->service : "?";
        printf ("%-11s %-24s %-9s %-9s %-8s %-8s %-8s %s\n", name, p->endpoint, p->state,
                h ? (h->db_ok ? "ok" : "down") : "-", h && *h->version ? h->version : "-",
                uptime, lag, notes);
    }
}

static void
s_json_string (const char *s)
{
    char buf[2048];
    meso_json_escape (buf, sizeof buf, s ? s : "");
    printf ("\"%s\"", buf);
}

static void
s_print_json (s_probe_t *probes, int n)
{
    printf ("[");
    for (int i = 0; i < n; i++) {
        s_probe_t *p = &probes[i];
        const Meso__V1__HealthReply *h = p->status == MESO_OK ? p->health : NULL;
        printf ("%s\n  {\"service\":", i ? "," : "");
        s_json_string (p->service ? p->service : h ? h->service : "");
        printf (",\"endpoint\":");
        s_json_string (p->endpoint);
        printf (",\"state\":");
        s_json_string (p->state);
        printf (",\"status\":");
        s_json_string (p->replied ? meso_status_name (p->status) : "NO_REPLY");
        if (h) {
            printf (",\"answered_as\":");
            s_json_string (h->service);
            printf (",\"version\":");
            s_json_string (h->version);
            printf (",\"uptime_s\":%llu,\"db_ok\":%s,\"db_error\":", (unsigned long long) h->uptime_s,
                    h->db_ok ? "true" : "false");
            s_json_string (h->db_error);
            printf (",\"lag_ms\":%lld,\"notes\":[", (long long) h->lag_ms);
            for (size_t k = 0; k < h->n_notes; k++) {
                printf ("%s", k ? "," : "");
                s_json_string (h->notes[k]);
            }
            printf ("]");
        }
        else {
            char notes[1024];
            s_notes (p, notes, sizeof notes);
            printf (",\"error\":");
            s_json_string (notes);
        }
        printf ("}");
    }
    printf ("%s]\n", n ? "\n" : "");
}

/* Fills probes from the --services list (comma-separated names). */
static int
s_pick (const meso_opt_t *opts, const char *list, s_probe_t *probes, int *n)
{
    char names[256];
    snprintf (names, sizeof names, "%s", list);
    char *save = NULL;
    *n = 0;
    for (char *name = strtok_r (names, ", ", &save); name; name = strtok_r (NULL, ", ", &save)) {
        int k = 0;
        while (k < NSERVICES && strcmp (s_services[k], name) != 0)
            k++;
        if (k == NSERVICES) {
            fprintf (stderr, "mesoctl health: unknown service '%s' (known: screening, scheduling, "
                             "inventory, billing, events, webhooks)\n", name);
            return -1;
        }
        if (*n == MAX_PROBES)
            break;
        char opt[64];
        snprintf (opt, sizeof opt, "%s-endpoint", s_services[k]);
        probes[*n].service = s_services[k];
        probes[*n].endpoint = meso_config_get (opts, opt);
        (*n)++;
    }
    if (*n == 0) {
        fprintf (stderr, "mesoctl health: --services names no service\n");
        return -1;
    }
    return 0;
}

int
mesoctl_health (int argc, char **argv)
{
    meso_opt_t opts[] = {
        { "json", NULL, "false", "print a JSON array, one object per service", NULL },
        { "services", NULL, "screening,scheduling,inventory,billing,events,webhooks",
          "which services to ask, comma-separated", NULL },
        { "timeout", NULL, "2000",
          "milliseconds to wait for the replies (services are asked in parallel)", NULL },
        { "endpoint", NULL, NULL, "ask this one endpoint instead (e.g. tcp://127.0.0.1:7105)", NULL },
        { "screening-endpoint", "MESO_SCREENING_ENDPOINT", "tcp://127.0.0.1:7101",
          "screening daemon", NULL },
        { "scheduling-endpoint", "MESO_SCHEDULING_ENDPOINT", "tcp://127.0.0.1:7102",
          "scheduling daemon", NULL },
        { "inventory-endpoint", "MESO_INVENTORY_ENDPOINT", "tcp://127.0.0.1:7103",
          "inventory daemon", NULL },
        { "billing-endpoint", "MESO_BILLING_ENDPOINT", "tcp://127.0.0.1:7104",
          "billing daemon", NULL },
        { "events-endpoint", "MESO_EVENTS_ENDPOINT", "tcp://127.0.0.1:7105",
          "events daemon (its ROUTER)", NULL },
        { "webhooks-endpoint", "MESO_WEBHOOKS_ENDPOINT", "tcp://127.0.0.1:7107",
          "webhooks daemon", NULL },
        { NULL, NULL, NULL, NULL, NULL }
    };
    int rc = mesoctl_parsed (meso_config_parse (opts, argc, argv, "mesoctl health",
        "Asks each daemon's Health method and prints service, endpoint, state, database,\n"
        "version, uptime, lag and notes. Exits 0 when every service asked is ok, 1 when\n"
        "any is degraded, starting or down (no reply within the timeout).", NULL, NULL));
    if (rc >= 0)
        return rc;
    long timeout;
    if (meso_config_int (opts, "timeout", 1, 600000, &timeout))
        return MESOCTL_USAGE;

    s_probe_t probes[MAX_PROBES];
    memset (probes, 0, sizeof probes);
    int n = 0;
    const char *endpoint = meso_config_get (opts, "endpoint");
    if (endpoint && *endpoint) {
        /* The server's key is found by its service's name. */
        const char *named = meso_config_get (opts, "services");
        const char *svc = NULL;
        for (int k = 0; named && k < NSERVICES; k++)
            if (strcmp (named, s_services[k]) == 0)
                svc = s_services[k];
        if (!svc) {
            fprintf (stderr, "mesoctl health: --endpoint needs --services naming its one "
                     "service (%s, %s, %s, %s or %s): its key is found by that name\n",
                     s_services[0], s_services[1], s_services[2], s_services[3], s_services[4]);
            return MESOCTL_USAGE;
        }
        probes[0].service = svc;
        probes[0].endpoint = endpoint;
        n = 1;
    }
    else if (s_pick (opts, meso_config_get (opts, "services"), probes, &n))
        return MESOCTL_USAGE;

    /* CZMQ's global context is created lazily; create it here, before the
     * threads, so they do not race to create it. */
    zsys_init ();
    if (mesoctl_keys () != 0)
        return MESOCTL_USAGE;
    pthread_t threads[MAX_PROBES];
    bool started[MAX_PROBES] = { false };
    for (int i = 0; i < n; i++) {
        probes[i].timeout_ms = (int) timeout;
        started[i] = pthread_create (&threads[i], NULL, s_probe_run, &probes[i]) == 0;
        if (!started[i])
            s_probe_run (&probes[i]);   /* no thread: ask inline */
    }
    for (int i = 0; i < n; i++)
        if (started[i])
            pthread_join (threads[i], NULL);

    bool all_ok = true;
    for (int i = 0; i < n; i++) {
        s_judge (&probes[i]);
        if (strcmp (probes[i].state, "ok") != 0)
            all_ok = false;
    }
    if (meso_config_bool (opts, "json"))
        s_print_json (probes, n);
    else
        s_print_table (probes, n);
    fflush (stdout);
    for (int i = 0; i < n; i++)
        if (probes[i].health)
            meso__v1__health_reply__free_unpacked (probes[i].health, NULL);
    return all_ok ? MESOCTL_OK : MESOCTL_FAILED;
}
