/* redact.h -- the same events without their health fields, for a
 * subscriber whose principal may not see health data.
 *
 * Every event type has an entry in one table (redact.c): either the
 * function that clears its health fields or an explicit "none" after
 * review. A type without an entry is a type nobody classified, and the
 * unit test (tests/unit/test_redact.c) fails for it, so a new event kind
 * cannot reach marketing integrations with its health fields by
 * oversight. The daemon refuses to hand such an event to a subscriber
 * without health access (it cannot know what it holds). Pure functions,
 * no I/O. */
#ifndef EVENTS_REDACT_H
#define EVENTS_REDACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "events.pb-c.h"

/* Whether type was classified (has an entry, with or without health
 * fields). */
bool redact_known (const char *type);

/* Whether events of type carry health fields (and so must be decoded and
 * re-encoded for a subscriber without health access). */
bool redact_needed (const char *type);

/* Clears the health fields of ev in place (ev from
 * meso__v1__event__unpack with the default allocator: removed strings are
 * emptied or freed so that free_unpacked stays correct). Returns 0, or -1
 * when ev's type has no entry or its payload is not the type's own. */
int redact_event (Meso__V1__Event *ev);

/* The packed event in/len with its health fields removed: a new buffer
 * (free()) of *out_len bytes, or NULL when in does not decode, its type
 * has no entry, or memory runs out. */
uint8_t *redact_packed (const uint8_t *in, size_t len, size_t *out_len);

/* For the relay (health.c): when events of type carry health fields,
 * the packed event without them in a new buffer (*out, free()) and the
 * patient it is about copied into patient (size bytes; "" when it names
 * none); returns 1. 0 when type carries no health fields (nothing made),
 * -1 when in does not decode, its type has no entry or memory runs out. */
int redact_split (const char *type, const uint8_t *in, size_t len, uint8_t **out,
                  size_t *out_len, char *patient, size_t size);

/* The patient of a packed screening.patient_erased event, copied into
 * patient; 0, or -1 when in is not such an event. */
int redact_erased_patient (const uint8_t *in, size_t len, char *patient, size_t size);

#endif
