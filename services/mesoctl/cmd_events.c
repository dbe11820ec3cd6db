/* cmd_events.c -- "mesoctl events": watch the event streams.
 *
 *     mesoctl events tail --stream S[,S2] [--from N] [--json] [--count K]
 *     mesoctl events head [--json]
 *
 * tail follows streams through the same subscriber library the services
 * use (meso/subscriber.h), so what it prints is what a consumer gets: every
 * event once, in stream order, replayed from the log when it was missed
 * live, scoped to the key's principal (MESO_KEY=<integration>.key_secret
 * shows what that integration sees). Without --from it starts at each stream's current head (only new
 * events, like tail -f); --from N prints the events after N first (--from 0:
 * everything retained). With several streams each starts from the same N.
 * One line per event:
 *
 *     <stream_seq> <type> <clinic or -> <occurred_at UTC> <payload summary>
 *
 * or with --json one JSON object per line with every field of the Event
 * (meso/pbjson.h). stdout is line-buffered, so a pipe sees each event as it
 * comes. Exit status: 0 after --count events or on Ctrl-C; 1 when the
 * events daemon cannot be reached for the head or refuses the replay
 * (events pruned, cursor beyond the log, a stream outside the key's scope:
 * the reason is logged on stderr). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/bus.h"
#include "meso/config.h"
#include "meso/log.h"
#include "meso/mtime.h"
#include "meso/pbjson.h"
#include "meso/status.h"
#include "meso/subscriber.h"
#include "mesoctl.h"

#define SUMMARY_MAX 200

/* --------------------------------------------------------------- head */

/* Calls events.Head; returns the unpacked Heartbeat (caller frees) or NULL
 * after printing why. */
static Meso__V1__Heartbeat *
s_head (const char *endpoint, int timeout_ms)
{
    meso_bus_client_t *client = mesoctl_keys () == 0 ? meso_bus_client_new ("events", endpoint) : NULL;
    if (!client) {
        fprintf (stderr, "mesoctl events: cannot use endpoint \"%s\"\n", endpoint);
        return NULL;
    }
    Meso__V1__HeadRequest rq = MESO__V1__HEAD_REQUEST__INIT;
    meso_result_t r = { 0 };
    Meso__V1__Heartbeat *hb = NULL;
    if (meso_bus_client_call (client, "events.Head", &rq.base, NULL, timeout_ms, &r) == 0) {
        size_t len;
        const uint8_t *body = meso_result_body (&r, &len);
        hb = meso__v1__heartbeat__unpack (NULL, len, body);
        if (!hb)
            fprintf (stderr, "mesoctl events: the events.Head reply does not decode\n");
    }
    else
        fprintf (stderr, "mesoctl events: events.Head on %s: %s: %s\n", endpoint,
                 meso_status_name (r.status), r.message);
    meso_result_reset (&r);
    meso_bus_client_destroy (&client);
    return hb;
}

static const meso_opt_t s_head_opts[] = {
    { "json", NULL, "false", "print the reply (a meso.v1.Heartbeat) as one JSON object", NULL },
    { "endpoint", "MESO_EVENTS_ENDPOINT", "tcp://127.0.0.1:7105",
      "the events daemon's ROUTER (comma-separated for several)", NULL },
    { "timeout", NULL, "3000", "milliseconds to wait for the reply", NULL },
    MESOCTL_OPT_END
};

static int
s_cmd_head (meso_opt_t *opts)
{
    long timeout;
    if (meso_config_int (opts, "timeout", 1, 600000, &timeout))
        return MESOCTL_USAGE;
    Meso__V1__Heartbeat *hb = s_head (meso_config_get (opts, "endpoint"), (int) timeout);
    if (!hb)
        return MESOCTL_FAILED;
    if (meso_config_bool (opts, "json")) {
        char *json = meso_pbjson_encode (&hb->base, MESO_PBJSON_DEFAULTS, NULL);
        if (json)
            printf ("%s\n", json);
        free (json);
    }
    else {
        printf ("%-10s %12s %15s\n", "STREAM", "HEAD", "FIRST_RETAINED");
        for (size_t i = 0; i < hb->n_heads; i++)
            printf ("%-10s %12" PRIu64 " %15" PRIu64 "\n", hb->heads[i]->stream,
                    hb->heads[i]->head, hb->heads[i]->first_retained);
        printf ("global head %" PRIu64 ", %s\n", hb->global_head,
                hb->active ? "active writer" : "standby");
    }
    meso__v1__heartbeat__free_unpacked (hb, NULL);
    return MESOCTL_OK;
}

/* --------------------------------------------------------------- tail */

typedef struct {
    bool json;
    uint64_t count;             /* stop after this many (0: never) */
    uint64_t printed;
    bool done;
} s_tail_t;

/* Appends "name=value" for the non-default scalar fields of msg, nested
 * messages flattened, repeated values joined with commas. */
static void
s_summary (const ProtobufCMessage *msg, char *out, size_t size, size_t *len, int depth)
{
    const ProtobufCMessageDescriptor *d = msg->descriptor;
    const char *base = (const char *) msg;
    for (unsigned i = 0; i < d->n_fields && *len + 1 < size && depth < 4; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const void *p = base + f->offset;
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF
            && *(const uint32_t *) (base + f->quantifier_offset) != f->id)
            continue;
        if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
            if (f->label != PROTOBUF_C_LABEL_REPEATED && *(const ProtobufCMessage *const *) p)
                s_summary (*(const ProtobufCMessage *const *) p, out, size, len, depth + 1);
            continue;
        }
        if (f->type == PROTOBUF_C_TYPE_BYTES)
            continue;
        char value[128] = "";
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *) (base + f->quantifier_offset);
            if (n == 0 || f->type != PROTOBUF_C_TYPE_STRING)
                continue;
            char *const *arr = *(char *const *const *) p;
            size_t vl = 0;
            for (size_t k = 0; k < n && vl + 1 < sizeof value; k++)
                vl += (size_t) snprintf (value + vl, sizeof value - vl, "%s%s", k ? "," : "", arr[k]);
        }
        else {
            switch (f->type) {
            case PROTOBUF_C_TYPE_STRING: {
                const char *s = *(char *const *) p;
                if (!s || !*s)
                    continue;
                snprintf (value, sizeof value, "%s", s);
                break;
            }
            case PROTOBUF_C_TYPE_INT64:
            case PROTOBUF_C_TYPE_SINT64:
            case PROTOBUF_C_TYPE_SFIXED64:
                if (*(const int64_t *) p == 0)
                    continue;
                snprintf (value, sizeof value, "%" PRId64, *(const int64_t *) p);
                break;
            case PROTOBUF_C_TYPE_UINT64:
            case PROTOBUF_C_TYPE_FIXED64:
                if (*(const uint64_t *) p == 0)
                    continue;
                snprintf (value, sizeof value, "%" PRIu64, *(const uint64_t *) p);
                break;
            case PROTOBUF_C_TYPE_INT32:
            case PROTOBUF_C_TYPE_SINT32:
            case PROTOBUF_C_TYPE_SFIXED32:
                if (*(const int32_t *) p == 0)
                    continue;
                snprintf (value, sizeof value, "%" PRId32, *(const int32_t *) p);
                break;
            case PROTOBUF_C_TYPE_UINT32:
            case PROTOBUF_C_TYPE_FIXED32:
                if (*(const uint32_t *) p == 0)
                    continue;
                snprintf (value, sizeof value, "%" PRIu32, *(const uint32_t *) p);
                break;
            case PROTOBUF_C_TYPE_BOOL:
                if (!*(const protobuf_c_boolean *) p)
                    continue;
                snprintf (value, sizeof value, "true");
                break;
            case PROTOBUF_C_TYPE_ENUM: {
                int v = *(const int *) p;
                if (v == 0)
                    continue;
                const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value (f->descriptor, v);
                snprintf (value, sizeof value, "%s", ev ? ev->name : "?");
                break;
            }
            default:
                continue;       /* floats: none in events */
            }
        }
        int n = snprintf (out + *len, size - *len, "%s%s=%s", *len ? " " : "", f->name, value);
        if (n < 0 || (size_t) n >= size - *len) {
            *len = size - 1;
            if (size > 4)
                memcpy (out + size - 4, "...", 4);
            return;
        }
        *len += (size_t) n;
    }
}

static int
s_print (const Meso__V1__Event *ev, const uint8_t *raw, size_t len, void *arg)
{
    s_tail_t *t = arg;
    if (t->done)
        return -1;              /* --count reached: stop delivery */
    if (t->json) {
        char *json = meso_pbjson_encode (&ev->base, MESO_PBJSON_DEFAULTS, NULL);
        if (!json)
            return -1;
        printf ("%s\n", json);
        free (json);
    }
    else {
        char when[40], summary[SUMMARY_MAX + 1] = "";
        meso_time_format_utc (ev->occurred_at_us, when, sizeof when);
        size_t slen = 0;
        const ProtobufCMessage *payload = NULL;
        const ProtobufCMessageDescriptor *d = ev->base.descriptor;
        for (unsigned i = 0; i < d->n_fields; i++)
            if (d->fields[i].flags & PROTOBUF_C_FIELD_FLAG_ONEOF && d->fields[i].id == ev->payload_case)
                payload = *(const ProtobufCMessage *const *) ((const char *) ev + d->fields[i].offset);
        if (payload)
            s_summary (payload, summary, sizeof summary, &slen, 0);
        printf ("%" PRIu64 " %s %s %s %s\n", ev->stream_seq, ev->type,
                ev->clinic_id && *ev->clinic_id ? ev->clinic_id : "-", when, summary);
    }
    t->printed++;
    if (t->count && t->printed >= t->count)
        t->done = true;
    return 0;
}

static const meso_opt_t s_tail_opts[] = {
    { "stream", NULL, NULL, "stream(s) to follow: session, screening, stock, billing (comma-separated)", NULL },
    { "from", NULL, NULL, "print the events after this stream sequence first (0: all retained); "
      "default: only new events", NULL },
    { "json", NULL, "false", "one JSON object per event (every field, payload included)", NULL },
    { "count", NULL, "0", "exit after this many events (0: run until Ctrl-C)", NULL },
    { "endpoint", "MESO_EVENTS_ENDPOINT", "tcp://127.0.0.1:7105",
      "the events daemon's ROUTER, for replays and the head", NULL },
    { "pub-endpoint", "MESO_EVENTS_PUB_ENDPOINT", "tcp://127.0.0.1:7106",
      "the events daemon's PUB (comma-separated: every instance)", NULL },
    { "timeout", NULL, "3000", "milliseconds to wait for the head at start", NULL },
    MESOCTL_OPT_END
};

static int
s_cmd_tail (meso_opt_t *opts)
{
    const char *streams = meso_config_get (opts, "stream");
    if (!streams || !*streams) {
        fprintf (stderr, "mesoctl events tail: --stream is required (session, screening, stock, billing)\n");
        return MESOCTL_USAGE;
    }
    long count, timeout;
    if (meso_config_int (opts, "count", 0, 1000000000L, &count)
        || meso_config_int (opts, "timeout", 1, 600000, &timeout))
        return MESOCTL_USAGE;
    const char *from_text = meso_config_get (opts, "from");
    uint64_t from = 0;
    if (from_text) {
        char *end = NULL;
        from = strtoull (from_text, &end, 10);
        if (!*from_text || *end || from_text[0] == '-') {
            fprintf (stderr, "mesoctl events tail: --from must be a sequence number (got \"%s\")\n",
                     from_text);
            return MESOCTL_USAGE;
        }
    }
    zsys_init ();
    setvbuf (stdout, NULL, _IOLBF, 0);
    /* The subscriber calls with the pair chosen here (--from skips
     * s_head, which would choose it otherwise). */
    if (mesoctl_keys () != 0)
        return MESOCTL_USAGE;
    const char *router = meso_config_get (opts, "endpoint");
    Meso__V1__Heartbeat *hb = NULL;
    if (!from_text && !(hb = s_head (router, (int) timeout)))
        return MESOCTL_FAILED;

    s_tail_t t = { .json = meso_config_bool (opts, "json"), .count = (uint64_t) count };
    meso_subscriber_t *sub = meso_subscriber_new (router, meso_config_get (opts, "pub-endpoint"),
                                                  "mesoctl", s_print, &t);
    if (!sub) {
        if (hb)
            meso__v1__heartbeat__free_unpacked (hb, NULL);
        return MESOCTL_FAILED;
    }
    char *list = strdup (streams);
    char *save = NULL;
    int rc = MESOCTL_OK;
    for (char *s = list ? strtok_r (list, ",", &save) : NULL; s; s = strtok_r (NULL, ",", &save)) {
        uint64_t cursor = from;
        if (hb)
            for (size_t i = 0; i < hb->n_heads; i++)
                if (strcmp (hb->heads[i]->stream, s) == 0)
                    cursor = hb->heads[i]->head;
        if (meso_subscriber_follow (sub, s, cursor) != 0) {
            fprintf (stderr, "mesoctl events tail: unknown stream \"%s\" (session, screening, stock, billing)\n", s);
            rc = MESOCTL_USAGE;
        }
    }
    free (list);
    if (hb)
        meso__v1__heartbeat__free_unpacked (hb, NULL);

    while (rc == MESOCTL_OK && !t.done && !zsys_interrupted) {
        if (meso_subscriber_poll (sub, 1000) < 0 && !t.done && !zsys_interrupted) {
            fprintf (stderr, "mesoctl events tail: delivery stopped (see the error above)\n");
            rc = MESOCTL_FAILED;
        }
    }
    meso_subscriber_destroy (&sub);
    return rc;
}

/* -------------------------------------------------------------- entry */

/* Subcommands of events declare their own --endpoint and --timeout (the
 * ROUTER of the head; tail also takes the PUB): the service's are not
 * added, and no call goes through mesoctl_call. */
static const mesoctl_service_t s_service = {
    .name = "events",
    .summary = "The event streams: follow them (tail), or see where each one stands (head).",
    .endpoint = { "endpoint", "MESO_EVENTS_ENDPOINT", "tcp://127.0.0.1:7105", "the events daemon's ROUTER", NULL },
    .timeout_ms = 3000,
};

static const mesoctl_sub_t s_subs[] = {
    { "tail", "print events as they happen, once each, in stream order",
      "--stream S[,S2] [--from N] [--count K] [--json] [options]",
      "Prints events as they happen, each once and in stream order, replaying what the\n"
      "live feed missed. Line: seq type clinic occurred_at summary.",
      "--stream session\n--stream session,stock --from 0 --count 20 --json",
      s_tail_opts, 0, NULL, 0, s_cmd_tail, "events.Head,events.Replay" },
    { "head", "print each stream's head",
      "[--json] [options]",
      "Prints each stream's head (highest sequence) and oldest retained sequence,\n"
      "the global head, and whether the daemon asked is the active writer.",
      "--json\n--endpoint tcp://127.0.0.1:7105",
      s_head_opts, 0, NULL, 0, s_cmd_head, "events.Head" },
    { NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, 0, NULL, NULL }
};

int
mesoctl_events (int argc, char **argv)
{
    return mesoctl_run (&s_service, s_subs, false, argc, argv);
}
