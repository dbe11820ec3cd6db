/* rules.c -- a subscription's URL, streams and types, and whether an
 * event is one it wants (logic.h).
 *
 * URLs: only http and https (libcurl would take file://, gopher:// and
 * more; CURLOPT_PROTOCOLS_STR repeats the restriction at the transfer),
 * with a host, and nothing a header or a log line could be confused by. */
#include "logic.h"

#include <string.h>

static const char *const s_streams[WH_NSTREAMS] = { "session", "screening", "stock", "billing" };

int
wh_stream_index (const char *stream)
{
    for (int i = 0; stream && i < WH_NSTREAMS; i++)
        if (strcmp (stream, s_streams[i]) == 0)
            return i;
    return -1;
}

const char *
wh_stream_name (int index)
{
    return index >= 0 && index < WH_NSTREAMS ? s_streams[index] : "";
}

const char *
wh_url_problem (const char *url)
{
    if (!url || !*url)
        return "url is required";
    if (strlen (url) > WH_URL_MAX)
        return "url must be at most 2048 bytes";
    for (const unsigned char *p = (const unsigned char *) url; *p; p++)
        if (*p <= 0x20 || *p == 0x7f)
            return "url must not contain spaces or control characters";
    const char *rest = NULL;
    if (strncmp (url, "http://", 7) == 0)
        rest = url + 7;
    else if (strncmp (url, "https://", 8) == 0)
        rest = url + 8;
    else
        return "url must start with http:// or https://";
    size_t host = strcspn (rest, "/?#");
    const char *at = memchr (rest, '@', host);
    if (at)
        return "url must not carry a user or password (the signature authenticates us)";
    if (host == 0 || rest[0] == ':')
        return "url must name a host";
    return NULL;
}

const char *
wh_type_problem (const char *type, char *const *streams, size_t n)
{
    if (!type || !*type)
        return "an event type must not be empty";
    if (strlen (type) > WH_TYPE_MAX)
        return "an event type is at most 64 bytes";
    const char *dot = strchr (type, '.');
    if (!dot || dot[1] == '\0')
        return "an event type is \"<stream>.<kind>\", e.g. session.booked";
    for (const char *p = dot + 1; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return "an event kind is a-z, 0-9 and _";
    for (size_t i = 0; i < n; i++)
        if (strlen (streams[i]) == (size_t) (dot - type) && strncmp (type, streams[i], (size_t) (dot - type)) == 0)
            return NULL;
    return "an event type must be of one of the subscription's streams";
}

bool
wh_wants (const char *sub_clinic, char *const *types, size_t n, const char *type,
          const char *clinic)
{
    if (sub_clinic && *sub_clinic && strcmp (sub_clinic, clinic ? clinic : "") != 0)
        return false;
    if (n == 0)
        return true;
    for (size_t i = 0; i < n; i++)
        if (strcmp (types[i], type) == 0)
            return true;
    return false;
}
