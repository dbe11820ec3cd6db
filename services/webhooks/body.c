/* body.c -- the JSON body of one delivery (logic.h).
 *
 * The daemon's own principal sees health data (it serves subscriptions
 * that may), so the events it replays are whole; for a subscription
 * without include_health the health fields are removed here with the
 * events daemon's own table (services/events/redact.c, linked, not
 * copied), which refuses a type it has not classified: such an event is
 * never sent whole by oversight. */
#include "logic.h"

#include <stdio.h>
#include <stdlib.h>

#include "events.pb-c.h"
#include "meso/pbjson.h"
#include "redact.h"

char *
wh_body (const uint8_t *raw, size_t len, bool include_health, size_t *out_len, char *id,
         char *type, int64_t *occurred_s)
{
    Meso__V1__Event *ev = meso__v1__event__unpack (NULL, len, raw);
    if (!ev)
        return NULL;
    snprintf (id, 65, "%s", ev->id ? ev->id : "");
    snprintf (type, 65, "%s", ev->type ? ev->type : "");
    *occurred_s = ev->occurred_at_us / 1000000;
    char *json = NULL;
    if (include_health || redact_event (ev) == 0)
        json = meso_pbjson_encode (&ev->base, 0, out_len);
    meso__v1__event__free_unpacked (ev, NULL);
    return json;
}
