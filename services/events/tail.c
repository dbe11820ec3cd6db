/* tail.c -- see tail.h. Each window is a ring of entries; an entry's type,
 * clinic and payload live in one allocation. */
#include "tail.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    tail_event_t ev;
    uint8_t *block;                 /* type, clinic and payload */
} s_entry_t;

typedef struct {
    s_entry_t *ring;
    size_t start;                   /* index of the oldest entry */
    size_t count;
    size_t bytes;                   /* payload bytes held */
} s_window_t;

struct tail_t {
    int nstreams;
    size_t max_events, max_bytes;
    s_window_t *w;
};

tail_t *
tail_new (int nstreams, size_t max_events, size_t max_bytes)
{
    tail_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->nstreams = nstreams;
    self->max_events = max_events ? max_events : 1;
    self->max_bytes = max_bytes;
    self->w = calloc ((size_t) nstreams, sizeof *self->w);
    for (int i = 0; self->w && i < nstreams; i++) {
        self->w[i].ring = calloc (self->max_events, sizeof (s_entry_t));
        if (!self->w[i].ring) {
            tail_destroy (&self);
            return NULL;
        }
    }
    if (!self->w)
        tail_destroy (&self);
    return self;
}

static void
s_drop_oldest (tail_t *self, s_window_t *w)
{
    s_entry_t *e = &w->ring[w->start];
    w->bytes -= e->ev.len;
    free (e->block);
    memset (e, 0, sizeof *e);
    w->start = (w->start + 1) % self->max_events;
    w->count--;
}

static void
s_empty (tail_t *self, s_window_t *w)
{
    while (w->count)
        s_drop_oldest (self, w);
    w->start = 0;
}

void
tail_destroy (tail_t **self_p)
{
    tail_t *self = *self_p;
    if (!self)
        return;
    for (int i = 0; self->w && i < self->nstreams; i++) {
        if (self->w[i].ring)
            s_empty (self, &self->w[i]);
        free (self->w[i].ring);
    }
    free (self->w);
    free (self);
    *self_p = NULL;
}

static s_entry_t *
s_at (const tail_t *self, const s_window_t *w, size_t i)
{
    return &w->ring[(w->start + i) % self->max_events];
}

int
tail_push (tail_t *self, int si, const tail_event_t *ev)
{
    s_window_t *w = &self->w[si];
    if (w->count && s_at (self, w, w->count - 1)->ev.seq + 1 != ev->seq)
        s_empty (self, w);          /* not contiguous: start again here */
    size_t tlen = strlen (ev->type), clen = strlen (ev->clinic);
    uint8_t *block = malloc (tlen + 1 + clen + 1 + (ev->len ? ev->len : 1));
    if (!block) {
        s_empty (self, w);
        return -1;
    }
    while (w->count && (w->count == self->max_events || w->bytes + ev->len > self->max_bytes))
        s_drop_oldest (self, w);
    memcpy (block, ev->type, tlen + 1);
    memcpy (block + tlen + 1, ev->clinic, clen + 1);
    if (ev->len)
        memcpy (block + tlen + 1 + clen + 1, ev->payload, ev->len);
    s_entry_t *e = s_at (self, w, w->count);
    e->block = block;
    e->ev = *ev;
    e->ev.type = (const char *) block;
    e->ev.clinic = (const char *) block + tlen + 1;
    e->ev.payload = block + tlen + 1 + clen + 1;
    w->count++;
    w->bytes += ev->len;
    return 0;
}

void
tail_clear (tail_t *self)
{
    for (int i = 0; i < self->nstreams; i++)
        s_empty (self, &self->w[i]);
}

bool
tail_covers (const tail_t *self, int si, uint64_t after_seq, uint64_t head)
{
    if (after_seq == head)
        return true;
    const s_window_t *w = &self->w[si];
    if (!w->count || after_seq > head)
        return false;
    uint64_t first = s_at (self, w, 0)->ev.seq;
    uint64_t last = s_at (self, w, w->count - 1)->ev.seq;
    return last == head && after_seq + 1 >= first;
}

const tail_event_t *
tail_get (const tail_t *self, int si, uint64_t seq)
{
    const s_window_t *w = &self->w[si];
    if (!w->count)
        return NULL;
    uint64_t first = s_at (self, w, 0)->ev.seq;
    if (seq < first || seq - first >= w->count)
        return NULL;
    return &s_at (self, w, (size_t) (seq - first))->ev;
}
