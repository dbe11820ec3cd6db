/* http.c -- libcurl's multi interface inside the daemon's zmq_poll loop.
 *
 * curl tells which sockets it wants watched (CURLMOPT_SOCKETFUNCTION) and
 * when it wants to be called without socket activity
 * (CURLMOPT_TIMERFUNCTION); the loop puts those sockets in its poll set
 * next to the ROUTER and the SUB socket and calls curl_multi_socket_action
 * for what is ready. So any number of transfers proceed at once without a
 * thread each, and a receiver that accepts and never answers holds only
 * its own transfer until CURLOPT_TIMEOUT_MS.
 *
 * Every transfer: POST, protocols http and https only (redirects not
 * followed: a 3xx is an answer, not a move), TLS peer and host
 * verification on unless the subscription says insecure_tls (allowed only
 * when the daemon is started for tests), no signals (CURLOPT_NOSIGNAL:
 * timeouts without SIGALRM in a daemon), the response body read and
 * dropped. */
#include "webhooks.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/log.h"
#include "meso/mtime.h"
#include "meso/version.h"

#define MAX_FDS 4096

typedef struct {
    CURL *easy;
    void *tag;
    struct curl_slist *headers;
    char *body;
    int64_t started_ms;
    char error[CURL_ERROR_SIZE];
} s_transfer_t;

typedef struct {
    curl_socket_t fd;
    int what;                   /* CURL_POLL_IN / OUT / INOUT */
} s_watch_t;

struct wh_http_t {
    CURLM *multi;
    long timeout_ms;
    wh_http_done_fn *fn;
    void *arg;
    s_watch_t watch[MAX_FDS];
    int nwatch;
    int64_t timer_at_ms;        /* -1: none */
    int running;
    s_transfer_t **transfers;   /* in flight, to find a tag */
    int ntransfers, cap;
};

static int
s_socket_cb (CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    wh_http_t *self = userp;
    for (int i = 0; i < self->nwatch; i++)
        if (self->watch[i].fd == fd) {
            if (what == CURL_POLL_REMOVE)
                self->watch[i] = self->watch[--self->nwatch];
            else
                self->watch[i].what = what;
            return 0;
        }
    if (what != CURL_POLL_REMOVE && self->nwatch < MAX_FDS)
        self->watch[self->nwatch++] = (s_watch_t) { fd, what };
    return 0;
}

static int
s_timer_cb (CURLM *multi, long timeout_ms, void *userp)
{
    wh_http_t *self = userp;
    self->timer_at_ms = timeout_ms < 0 ? -1 : meso_time_mono_ms () + timeout_ms;
    return 0;
}

static size_t
s_discard (char *ptr, size_t size, size_t nmemb, void *userdata)
{
    return size * nmemb;
}

wh_http_t *
wh_http_new (long timeout_ms, wh_http_done_fn *fn, void *arg)
{
    static bool inited;
    if (!inited) {
        if (curl_global_init (CURL_GLOBAL_DEFAULT) != 0)
            return NULL;
        inited = true;
    }
    wh_http_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->multi = curl_multi_init ();
    if (!self->multi) {
        free (self);
        return NULL;
    }
    self->timeout_ms = timeout_ms;
    self->fn = fn;
    self->arg = arg;
    self->timer_at_ms = -1;
    curl_multi_setopt (self->multi, CURLMOPT_SOCKETFUNCTION, s_socket_cb);
    curl_multi_setopt (self->multi, CURLMOPT_SOCKETDATA, self);
    curl_multi_setopt (self->multi, CURLMOPT_TIMERFUNCTION, s_timer_cb);
    curl_multi_setopt (self->multi, CURLMOPT_TIMERDATA, self);
    return self;
}

static void
s_transfer_free (wh_http_t *self, s_transfer_t *t)
{
    curl_multi_remove_handle (self->multi, t->easy);
    curl_easy_cleanup (t->easy);
    curl_slist_free_all (t->headers);
    free (t->body);
    for (int i = 0; i < self->ntransfers; i++)
        if (self->transfers[i] == t) {
            self->transfers[i] = self->transfers[--self->ntransfers];
            break;
        }
    free (t);
}

void
wh_http_destroy (wh_http_t **self_p)
{
    wh_http_t *self = *self_p;
    if (!self)
        return;
    while (self->ntransfers > 0)
        s_transfer_free (self, self->transfers[0]);
    free (self->transfers);
    curl_multi_cleanup (self->multi);
    free (self);
    *self_p = NULL;
}

int
wh_http_post (wh_http_t *self, void *tag, const char *url, bool insecure, void *headers,
              char *body, size_t len)
{
    s_transfer_t *t = calloc (1, sizeof *t);
    if (self->ntransfers == self->cap) {
        int cap = self->cap ? self->cap * 2 : 64;
        s_transfer_t **n = realloc (self->transfers, (size_t) cap * sizeof *n);
        if (n) {
            self->transfers = n;
            self->cap = cap;
        }
    }
    if (!t || self->ntransfers == self->cap || !(t->easy = curl_easy_init ())) {
        free (t);
        curl_slist_free_all (headers);
        free (body);
        return -1;
    }
    t->tag = tag;
    t->headers = headers;
    t->body = body;
    t->started_ms = meso_time_mono_ms ();
    CURL *e = t->easy;
    curl_easy_setopt (e, CURLOPT_URL, url);
    curl_easy_setopt (e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt (e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt (e, CURLOPT_POST, 1L);
    curl_easy_setopt (e, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt (e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) len);
    curl_easy_setopt (e, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt (e, CURLOPT_TIMEOUT_MS, self->timeout_ms);
    curl_easy_setopt (e, CURLOPT_CONNECTTIMEOUT_MS, self->timeout_ms);
    curl_easy_setopt (e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (e, CURLOPT_USERAGENT, "meso-webhooks/" MESO_VERSION);
    curl_easy_setopt (e, CURLOPT_WRITEFUNCTION, s_discard);
    curl_easy_setopt (e, CURLOPT_ERRORBUFFER, t->error);
    curl_easy_setopt (e, CURLOPT_PRIVATE, t);
    curl_easy_setopt (e, CURLOPT_SSL_VERIFYPEER, insecure ? 0L : 1L);
    curl_easy_setopt (e, CURLOPT_SSL_VERIFYHOST, insecure ? 0L : 2L);
    if (curl_multi_add_handle (self->multi, e) != CURLM_OK) {
        curl_easy_cleanup (e);
        curl_slist_free_all (headers);
        free (body);
        free (t);
        return -1;
    }
    self->transfers[self->ntransfers++] = t;
    return 0;
}

void
wh_http_cancel (wh_http_t *self, void *tag)
{
    for (int i = 0; i < self->ntransfers; i++)
        if (self->transfers[i]->tag == tag) {
            s_transfer_free (self, self->transfers[i]);
            return;
        }
}

int
wh_http_items (wh_http_t *self, zmq_pollitem_t *items, int max, long *timeout_ms)
{
    int n = 0;
    for (int i = 0; i < self->nwatch && n < max; i++) {
        short ev = 0;
        if (self->watch[i].what & CURL_POLL_IN)
            ev |= ZMQ_POLLIN;
        if (self->watch[i].what & CURL_POLL_OUT)
            ev |= ZMQ_POLLOUT;
        items[n++] = (zmq_pollitem_t) { NULL, self->watch[i].fd, ev, 0 };
    }
    if (self->timer_at_ms >= 0) {
        int64_t wait = self->timer_at_ms - meso_time_mono_ms ();
        if (wait < 0)
            wait = 0;
        if (wait < *timeout_ms)
            *timeout_ms = (long) wait;
    }
    return n;
}

void
wh_http_turn (wh_http_t *self, zmq_pollitem_t *items, int n)
{
    for (int i = 0; i < n; i++) {
        if (!items[i].revents)
            continue;
        int flags = 0;
        if (items[i].revents & ZMQ_POLLIN)
            flags |= CURL_CSELECT_IN;
        if (items[i].revents & ZMQ_POLLOUT)
            flags |= CURL_CSELECT_OUT;
        if (items[i].revents & ZMQ_POLLERR)
            flags |= CURL_CSELECT_ERR;
        curl_multi_socket_action (self->multi, items[i].fd, flags, &self->running);
    }
    if (self->timer_at_ms >= 0 && meso_time_mono_ms () >= self->timer_at_ms) {
        self->timer_at_ms = -1;
        curl_multi_socket_action (self->multi, CURL_SOCKET_TIMEOUT, 0, &self->running);
    }
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read (self->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        s_transfer_t *t = NULL;
        curl_easy_getinfo (msg->easy_handle, CURLINFO_PRIVATE, (char **) &t);
        long code = 0;
        const char *error = "";
        if (msg->data.result == CURLE_OK)
            curl_easy_getinfo (msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
        else
            error = t->error[0] ? t->error : curl_easy_strerror (msg->data.result);
        char why[CURL_ERROR_SIZE + 8];
        snprintf (why, sizeof why, "%s", error);
        void *tag = t->tag;
        int64_t ms = meso_time_mono_ms () - t->started_ms;
        s_transfer_free (self, t);
        self->fn (tag, (int) code, why, ms, self->arg);
    }
}

int
wh_http_running (wh_http_t *self)
{
    return self->ntransfers;
}
