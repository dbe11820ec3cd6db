/* cmd_webhooks.c -- "mesoctl webhooks": subscriptions of meso-webhooks
 * and what became of their deliveries.
 *
 *     mesoctl webhooks add --clinic C --url URL --streams s1,s2 [--types t1,t2]
 *                          [--health] [--description D] [--from-start]
 *     mesoctl webhooks list [--clinic C]
 *     mesoctl webhooks pause|resume|remove --id ID
 *     mesoctl webhooks replay --id ID [--stream S --from-seq N]
 *     mesoctl webhooks deliveries [--id ID] [--parked]
 *
 * add prints the signing secret once: the daemon keeps it sealed and never
 * shows it again (a retry of the same add with the same --key does). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "meso/mtime.h"
#include "mesoctl.h"
#include "webhooks.pb-c.h"

static const mesoctl_service_t s_service = {
    .name = "webhooks",
    .summary = "Signed HTTP deliveries of events: subscriptions, their deliveries, replays\n"
               "of parked ones (--json prints the reply as JSON).",
    .endpoint = { "endpoint", "MESO_WEBHOOKS_ENDPOINT", "tcp://127.0.0.1:7107", "webhooks daemon", NULL },
    .timeout_ms = 10000,
    .quirks = MESOCTL_Q_JSON_REPLY | MESOCTL_Q_PBJSON,
};

#define S_SVC (&s_service)

static const char *
s_state (Meso__V1__SubscriptionState s)
{
    switch (s) {
    case MESO__V1__SUBSCRIPTION_STATE__SUBSCRIPTION_STATE_ACTIVE: return "active";
    case MESO__V1__SUBSCRIPTION_STATE__SUBSCRIPTION_STATE_PAUSED: return "paused";
    case MESO__V1__SUBSCRIPTION_STATE__SUBSCRIPTION_STATE_PARKED: return "parked";
    default: return "?";
    }
}

static void
s_print_sub (const Meso__V1__Subscription *s)
{
    if (!s)
        return;
    printf ("subscription %s  %s  clinic %s\n  url %s\n  streams", s->subscription_id, s_state (s->state),
            *s->clinic_id ? s->clinic_id : "(every clinic)", s->url);
    for (size_t i = 0; i < s->n_streams; i++)
        printf (" %s", s->streams[i]);
    if (s->n_event_types) {
        printf ("; types");
        for (size_t i = 0; i < s->n_event_types; i++)
            printf (" %s", s->event_types[i]);
    }
    printf ("%s\n  cursors", s->include_health ? "; with health fields" : "");
    for (size_t i = 0; i < s->n_cursors; i++)
        printf (" %s:%" PRIu64, s->cursors[i]->stream, s->cursors[i]->seq);
    printf ("\n");
    if (s->failures || *s->parked_reason)
        printf ("  failures %u%s%s\n", s->failures, *s->parked_reason ? "; parked: " : "", s->parked_reason);
}

/* Calls a method whose reply's first field is the subscription. */
static int
s_sub_call (meso_opt_t *opts, const char *method, ProtobufCMessage *body,
            const ProtobufCMessageDescriptor *desc)
{
    ProtobufCMessage *out = NULL;
    int rc = mesoctl_call (S_SVC, opts, method, body, true, desc, &out);
    if (rc == MESOCTL_OK && !meso_config_bool (opts, "json"))
        s_print_sub (((Meso__V1__PauseSubscriptionReply *) out)->subscription);
    if (out)
        protobuf_c_message_free_unpacked (out, NULL);
    return rc;
}

/* ------------------------------------------------------------------ add */

static const meso_opt_t s_add_opts[] = {
    { "clinic", NULL, "", "the clinic whose events are sent (\"\" for every clinic: callers of every clinic only)", NULL },
    { "url", NULL, "", "where to POST: http:// or https://", NULL },
    { "streams", NULL, "", "comma-separated: session, screening, stock, billing", NULL },
    { "types", NULL, "", "comma-separated event types to send (default: every type of the streams)", NULL },
    { "health", NULL, "false", "keep health fields (only a caller allowed to see health data)", NULL },
    { "description", NULL, "", "a note for operators", NULL },
    { "from-start", NULL, "false", "send the retained log from its start, not only new events", NULL },
    { "insecure-tls", NULL, "false", "do not verify the receiver's TLS certificate (test receivers; the "
      "daemon must allow it)", NULL },
    MESOCTL_OPT_END
};

static int
s_add (meso_opt_t *opts)
{
    char streams_buf[256], types_buf[4096];
    char *streams[8], *types[64];
    snprintf (streams_buf, sizeof streams_buf, "%s", mesoctl_opt (opts, "streams"));
    snprintf (types_buf, sizeof types_buf, "%s", mesoctl_opt (opts, "types"));
    Meso__V1__AddSubscriptionRequest rq = MESO__V1__ADD_SUBSCRIPTION_REQUEST__INIT;
    rq.clinic_id = (char *) mesoctl_opt (opts, "clinic");
    rq.url = (char *) mesoctl_opt (opts, "url");
    rq.n_streams = mesoctl_split (streams_buf, ",", true, streams, 8);
    rq.streams = streams;
    rq.n_event_types = mesoctl_split (types_buf, ",", true, types, 64);
    rq.event_types = types;
    rq.include_health = meso_config_bool (opts, "health");
    rq.description = (char *) mesoctl_opt (opts, "description");
    rq.from_start = meso_config_bool (opts, "from-start");
    rq.insecure_tls = meso_config_bool (opts, "insecure-tls");
    ProtobufCMessage *out = NULL;
    int rc = mesoctl_call (S_SVC, opts, "webhooks.AddSubscription", &rq.base, true,
                           &meso__v1__add_subscription_reply__descriptor, &out);
    if (rc == MESOCTL_OK && !meso_config_bool (opts, "json")) {
        Meso__V1__AddSubscriptionReply *r = (Meso__V1__AddSubscriptionReply *) out;
        s_print_sub (r->subscription);
        printf ("  secret %s\n  (shown once: give it to the receiver, which checks Meso-Signature with it)\n",
                r->secret);
    }
    if (out)
        protobuf_c_message_free_unpacked (out, NULL);
    return rc;
}

/* ----------------------------------------------------------------- list */

static const meso_opt_t s_list_opts[] = {
    { "clinic", NULL, "", "one clinic's subscriptions (default: every one you may see)", NULL },
    MESOCTL_PAGE_OPTS,
    MESOCTL_OPT_END
};

static void
s_list_page (const ProtobufCMessage *reply, int page, void *arg)
{
    const Meso__V1__ListSubscriptionsReply *r = (const Meso__V1__ListSubscriptionsReply *) reply;
    for (size_t i = 0; i < r->n_subscriptions; i++)
        s_print_sub (r->subscriptions[i]);
    if (page == 0 && r->n_subscriptions == 0)
        printf ("no subscription\n");
}

static int
s_list (meso_opt_t *opts)
{
    Meso__V1__ListSubscriptionsRequest rq = MESO__V1__LIST_SUBSCRIPTIONS_REQUEST__INIT;
    rq.clinic_id = (char *) mesoctl_opt (opts, "clinic");
    return mesoctl_call_pages (S_SVC, opts, "webhooks.ListSubscriptions", &rq.base, false,
                               &meso__v1__list_subscriptions_reply__descriptor, s_list_page, NULL);
}

/* ------------------------------------------- pause, resume, remove */

static const meso_opt_t s_id_opts[] = {
    { "id", NULL, "", "the subscription id (webhooks list shows it)", NULL },
    MESOCTL_OPT_END
};

static int
s_pause (meso_opt_t *opts)
{
    Meso__V1__PauseSubscriptionRequest rq = MESO__V1__PAUSE_SUBSCRIPTION_REQUEST__INIT;
    rq.subscription_id = (char *) mesoctl_opt (opts, "id");
    return s_sub_call (opts, "webhooks.PauseSubscription", &rq.base, &meso__v1__pause_subscription_reply__descriptor);
}

static int
s_resume (meso_opt_t *opts)
{
    Meso__V1__ResumeSubscriptionRequest rq = MESO__V1__RESUME_SUBSCRIPTION_REQUEST__INIT;
    rq.subscription_id = (char *) mesoctl_opt (opts, "id");
    return s_sub_call (opts, "webhooks.ResumeSubscription", &rq.base, &meso__v1__resume_subscription_reply__descriptor);
}

static int
s_remove (meso_opt_t *opts)
{
    Meso__V1__RemoveSubscriptionRequest rq = MESO__V1__REMOVE_SUBSCRIPTION_REQUEST__INIT;
    rq.subscription_id = (char *) mesoctl_opt (opts, "id");
    ProtobufCMessage *out = NULL;
    int rc = mesoctl_call (S_SVC, opts, "webhooks.RemoveSubscription", &rq.base, true,
                           &meso__v1__remove_subscription_reply__descriptor, &out);
    if (rc == MESOCTL_OK && !meso_config_bool (opts, "json"))
        printf ("removed subscription %s\n", ((Meso__V1__RemoveSubscriptionReply *) out)->subscription_id);
    if (out)
        protobuf_c_message_free_unpacked (out, NULL);
    return rc;
}

/* --------------------------------------------------------------- replay */

static const meso_opt_t s_replay_opts[] = {
    { "id", NULL, "", "the subscription id", NULL },
    { "stream", NULL, "", "with --from-seq: the stream to rewind", NULL },
    { "from-seq", NULL, "0", "deliver again from this stream sequence (0: from the cursor, the parked "
      "event first)", NULL },
    MESOCTL_OPT_END
};

static int
s_replay (meso_opt_t *opts)
{
    long from = 0;
    if (meso_config_int (opts, "from-seq", 0, 9007199254740991L, &from) != 0)
        return MESOCTL_USAGE;
    Meso__V1__ReplayDeliveriesRequest rq = MESO__V1__REPLAY_DELIVERIES_REQUEST__INIT;
    rq.subscription_id = (char *) mesoctl_opt (opts, "id");
    rq.stream = (char *) mesoctl_opt (opts, "stream");
    rq.from_seq = (uint64_t) from;
    return s_sub_call (opts, "webhooks.ReplayDeliveries", &rq.base, &meso__v1__replay_deliveries_reply__descriptor);
}

/* ----------------------------------------------------------- deliveries */

static const meso_opt_t s_deliveries_opts[] = {
    { "id", NULL, "", "one subscription's deliveries (default: every one you may see)", NULL },
    { "parked", NULL, "false", "only the parked deliveries (of subscriptions parked now)", NULL },
    MESOCTL_PAGE_OPTS,
    MESOCTL_OPT_END
};

static const char *
s_outcome (Meso__V1__DeliveryOutcome o)
{
    switch (o) {
    case MESO__V1__DELIVERY_OUTCOME__DELIVERY_OUTCOME_DELIVERED: return "delivered";
    case MESO__V1__DELIVERY_OUTCOME__DELIVERY_OUTCOME_FAILED: return "failed";
    case MESO__V1__DELIVERY_OUTCOME__DELIVERY_OUTCOME_PARKED: return "parked";
    default: return "?";
    }
}

static void
s_deliveries_page (const ProtobufCMessage *reply, int page, void *arg)
{
    const Meso__V1__ListDeliveriesReply *r = (const Meso__V1__ListDeliveriesReply *) reply;
    if (page == 0)
        printf ("%-24s %-36s %-22s %-16s %3s %-9s %4s %6s  %s\n", "at (UTC)", "subscription", "event",
                "stream seq", "try", "outcome", "http", "ms", "error");
    for (size_t i = 0; i < r->n_deliveries; i++) {
        const Meso__V1__Delivery *d = r->deliveries[i];
        char at[40], seq[40];
        meso_time_format_utc (d->at_us, at, sizeof at);
        snprintf (seq, sizeof seq, "%s %" PRIu64, d->stream, d->stream_seq);
        printf ("%-24s %-36s %-22s %-16s %3u %-9s %4u %6u  %s\n", at, d->subscription_id, d->event_type, seq,
                d->attempt, s_outcome (d->outcome), d->http_status, d->duration_ms, d->error);
    }
}

static int
s_deliveries (meso_opt_t *opts)
{
    Meso__V1__ListDeliveriesRequest rq = MESO__V1__LIST_DELIVERIES_REQUEST__INIT;
    rq.subscription_id = (char *) mesoctl_opt (opts, "id");
    rq.parked = meso_config_bool (opts, "parked");
    return mesoctl_call_pages (S_SVC, opts, "webhooks.ListDeliveries", &rq.base, false,
                               &meso__v1__list_deliveries_reply__descriptor, s_deliveries_page, NULL);
}

static const mesoctl_sub_t s_subs[] = {
    { "add", "subscribe a URL to a clinic's events (prints the signing secret once)",
      "--clinic C --url URL --streams s1,s2 [--types t1,t2] [--health] [options]",
      "Adds a subscription: every event of the streams (or of the types) about the\n"
      "clinic is POSTed to the URL as JSON, signed with the secret printed here.",
      "--clinic par --url https://crm.example.com/meso --streams session --types session.booked,session.completed",
      s_add_opts, MESOCTL_JSON | MESOCTL_KEY, NULL, 0, s_add, "webhooks.AddSubscription" },
    { "list", "the subscriptions, their state and cursors",
      "[--clinic C] [options]",
      "Lists the subscriptions of your clinics, oldest first, with their state,\n"
      "cursors and, when parked, why.",
      "--clinic par",
      s_list_opts, MESOCTL_JSON, NULL, 0, s_list, "webhooks.ListSubscriptions" },
    { "pause", "stop sending to a subscription (its cursor waits)",
      "--id ID [options]",
      "Pauses a subscription: nothing is sent until it is resumed; events wait.",
      "--id 3f6c0a7e-2b1d-4c3e-9f00-0a1b2c3d4e5f",
      s_id_opts, MESOCTL_JSON | MESOCTL_KEY, NULL, 0, s_pause, "webhooks.PauseSubscription" },
    { "resume", "send again to a paused subscription",
      "--id ID [options]",
      "Resumes a paused subscription from its cursor (a parked one is resumed by replay).",
      "--id 3f6c0a7e-2b1d-4c3e-9f00-0a1b2c3d4e5f",
      s_id_opts, MESOCTL_JSON | MESOCTL_KEY, NULL, 0, s_resume, "webhooks.ResumeSubscription" },
    { "remove", "delete a subscription and its delivery records",
      "--id ID [options]",
      "Removes a subscription for good (its secret and records go with it).",
      "--id 3f6c0a7e-2b1d-4c3e-9f00-0a1b2c3d4e5f",
      s_id_opts, MESOCTL_JSON | MESOCTL_KEY, NULL, 0, s_remove, "webhooks.RemoveSubscription" },
    { "replay", "deliver a parked subscription's events again (after fixing the receiver)",
      "--id ID [--stream S --from-seq N] [options]",
      "Makes a parked (or paused) subscription active with its failures cleared: the\n"
      "parked event is sent first. --stream and --from-seq rewind the cursor first.",
      "--id 3f6c0a7e-2b1d-4c3e-9f00-0a1b2c3d4e5f --stream session --from-seq 120",
      s_replay_opts, MESOCTL_JSON | MESOCTL_KEY, NULL, 0, s_replay, "webhooks.ReplayDeliveries" },
    { "deliveries", "delivery attempts, newest first (--parked: those waiting for a replay)",
      "[--id ID] [--parked] [options]",
      "Lists delivery attempts with their outcome, HTTP status, error and duration.",
      "--parked",
      s_deliveries_opts, MESOCTL_JSON, NULL, 0, s_deliveries, "webhooks.ListDeliveries" },
    { NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, 0, NULL, NULL }
};

int
mesoctl_webhooks (int argc, char **argv)
{
    return mesoctl_run (&s_service, s_subs, false, argc, argv);
}
