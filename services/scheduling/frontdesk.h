/* frontdesk.h -- the pure decisions of the front desk: when a session's
 * reminders fall due and which one goes out, and whether a freed slot
 * suits a waitlist entry. No I/O: tests/unit/test_frontdesk.c tests them
 * directly; reminders.c and waitlist.c feed them what they read. */
#ifndef SCHEDULING_FRONTDESK_H
#define SCHEDULING_FRONTDESK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FRONTDESK_MAX_LEADS 8
#define FRONTDESK_LEAD_MAX_MIN 20160    /* 14 days */

/* The local instant "YYYY-MM-DDTHH:MM" a reminder lead_minutes before the
 * local start local_start falls due, in wall-clock time: 48 h before
 * 10:00 on a Tuesday is 10:00 on the Sunday, whatever clock change lies
 * between. 0, or -1 for a malformed start or a lead out of range. */
int frontdesk_due_local (const char *local_start, int lead_minutes, char *out, size_t size);

/* Whether the leads are usable: at most FRONTDESK_MAX_LEADS, each
 * 1..FRONTDESK_LEAD_MAX_MIN, no two equal. On failure *bad is the index
 * at fault. */
bool frontdesk_leads_ok (const uint32_t *leads, size_t n, size_t *bad);

typedef enum {
    FRONTDESK_WAIT,                     /* not due yet, or decided before */
    FRONTDESK_SEND,                     /* send it now */
    FRONTDESK_SUPERSEDED                /* due, but a nearer lead is due too: never sent */
} frontdesk_action_t;

/* The reminders of one booked session whose local start is local_start,
 * now_local the clinic's local time now (both "YYYY-MM-DDTHH:MM"): lead i
 * is due when its due local instant is at or before now_local and the
 * session has not started. Of the due leads not decided yet (decided[i]
 * false), the smallest is sent, unless a smaller lead was already
 * decided; every other due one is superseded, so a patient gets one
 * reminder at a time, the nearest. act[i] for each lead. Returns the
 * number of leads to send (0 or 1), -1 for malformed input. */
int frontdesk_reminders (const int *leads, int n, const bool *decided, const char *local_start,
                         const char *now_local, frontdesk_action_t *act);

/* A waitlist entry as the matching reads it. */
typedef struct {
    int32_t from_day, to_day;           /* civil days, the window */
    const char *practitioner;           /* "" any */
    bool moves;                         /* it would move a booked session ... */
    int64_t current_start_us;           /* ... that starts then */
    const int32_t *taken;               /* the patient's other session days */
    int ntaken;
} frontdesk_entry_t;

/* A freed slot. */
typedef struct {
    int32_t day;                        /* its local day */
    int64_t start_us;
    int64_t now_us;
    const char *practitioner;
} frontdesk_slot_t;

/* Whether the slot suits the entry: on a day of its window, with its
 * practitioner if it named one, not started, a week from the patient's
 * other sessions, and earlier than the session it would move. */
bool frontdesk_matches (const frontdesk_entry_t *e, const frontdesk_slot_t *s);

#endif
