/* cmd_frontdesk.c -- "mesoctl scheduling ...", the front desk's changes
 * of whole courses, the waitlist and the clinic's reminder and hold
 * settings (cmd_scheduling.c lists these subcommands after its own):
 *
 *     mesoctl scheduling reschedule-course --course ID --from YYYY-MM-DD [--time HH:MM] [--practitioner P]
 *     mesoctl scheduling cancel-course     --course ID [--by patient|clinic] [--reason T]
 *     mesoctl scheduling front-desk        --clinic C [--leads 2880,120|none] [--hold MIN]
 *     mesoctl scheduling waitlist join     --clinic C --patient ID --from D --to D
 *                                          (--areas a,b --recipe R | --appointment A | --course ID)
 *     mesoctl scheduling waitlist list     --clinic C [--status waiting|served|left|all] [--page-size N] [--page-token T]
 *     mesoctl scheduling waitlist leave    --clinic C --entry ID
 *     mesoctl scheduling waitlist accept   --clinic C --offer ID
 *
 * Each prints a readable table in the clinic's local time, or the reply as
 * JSON with --json. Split from cmd_scheduling.c to keep each file under
 * 600 lines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mesoctl.h"
#include "scheduling.pb-c.h"

static const mesoctl_service_t s_service = {
    .name = "scheduling",
    .summary = "Clinics, practitioners and rooms; courses planned, booked and followed session by session.",
    .endpoint = { "endpoint", "MESO_SCHEDULING_ENDPOINT", "tcp://127.0.0.1:7102", "scheduling daemon endpoint", NULL },
    .timeout_ms = 30000,
    .quirks = MESOCTL_Q_SILENT_CLIENT | MESOCTL_Q_SILENT_DECODE | MESOCTL_Q_PBJSON,
};

#define G(n) ((char *) mesoctl_opt (opts, n))
#define JSON(o) meso_config_bool (o, "json")

/* ------------------------------------------------------- whole courses */

static const meso_opt_t s_reschedule_opts[] = {
    { "course", NULL, "", "course id", NULL },
    { "from", NULL, "", "the first remaining session's new day, YYYY-MM-DD (clinic local)", NULL },
    { "time", NULL, "", "preferred time HH:MM (default: the first remaining session's)", NULL },
    { "practitioner", NULL, "", "practitioner tried first (default: the first remaining session's)", NULL },
    MESOCTL_OPT_END
};

static int
s_reschedule_course (meso_opt_t *opts)
{
    Meso__V1__RescheduleCourseRequest rq = MESO__V1__RESCHEDULE_COURSE_REQUEST__INIT;
    rq.course_id = G ("course");
    rq.from_date = G ("from");
    rq.preferred_time = G ("time");
    rq.practitioner_id = G ("practitioner");
    ProtobufCMessage *out = NULL;
    int rc = mesoctl_call (&s_service, opts, "scheduling.RescheduleCourse", &rq.base, true,
                           &meso__v1__course_change_reply__descriptor, &out);
    if (rc == 0 && !JSON (opts)) {
        Meso__V1__CourseChangeReply *r = (Meso__V1__CourseChangeReply *) out;
        printf ("moved %zu session%s\n", r->n_moved, r->n_moved == 1 ? "" : "s");
        for (size_t i = 0; i < r->n_moved; i++)
            printf ("  %2u  %s -> %s  %s %s\n", r->moved[i]->session_number, r->moved[i]->original_local_start,
                    r->moved[i]->new_local_start, r->moved[i]->practitioner_id, r->moved[i]->room_id);
    }
    if (out)
        protobuf_c_message_free_unpacked (out, NULL);
    return rc;
}

static const meso_opt_t s_cancel_opts[] = {
    { "course", NULL, "", "course id", NULL },
    { "by", NULL, "patient", "who cancels: patient or clinic", NULL },
    { "reason", NULL, "", "why", NULL },
    MESOCTL_OPT_END
};

static int
s_cancel_course (meso_opt_t *opts)
{
    Meso__V1__CancelCourseRequest rq = MESO__V1__CANCEL_COURSE_REQUEST__INIT;
    rq.course_id = G ("course");
    rq.by = strcmp (G ("by"), "clinic") == 0 ? MESO__V1__CANCELLED_BY__CANCELLED_BY_CLINIC
                                             : MESO__V1__CANCELLED_BY__CANCELLED_BY_PATIENT;
    rq.reason = G ("reason");
    ProtobufCMessage *out = NULL;
    int rc = mesoctl_call (&s_service, opts, "scheduling.CancelCourse", &rq.base, true,
                           &meso__v1__course_change_reply__descriptor, &out);
    if (rc == 0 && !JSON (opts)) {
        Meso__V1__CourseChangeReply *r = (Meso__V1__CourseChangeReply *) out;
        printf ("cancelled %zu session%s\n", r->n_cancelled, r->n_cancelled == 1 ? "" : "s");
        for (size_t i = 0; i < r->n_cancelled; i++)
            printf ("  %2u  %s  notice %lld h%s\n", r->cancelled[i]->session_number, r->cancelled[i]->local_start,
                    (long long) r->cancelled[i]->notice_hours, r->cancelled[i]->late ? " (late)" : "");
    }
    if (out)
        protobuf_c_message_free_unpacked (out, NULL);
    return rc;
}

/* ---------------------------------------------------------- front desk */

static const meso_opt_t s_policy_opts[] = {
    { "clinic", NULL, "", "clinic id", NULL },
    { "leads", NULL, "2880,120", "reminder leads in minutes before a session, comma-separated; none: no reminders", NULL },
    { "hold", NULL, "0", "minutes a waitlist offer is held (0: the daemon's --offer-hold-s)", NULL },
    MESOCTL_OPT_END
};

static int
s_policy (meso_opt_t *opts)
{
    char buf[256], *items[16];
    snprintf (buf, sizeof buf, "%s", G ("leads"));
    size_t n = strcmp (buf, "none") == 0 ? 0 : mesoctl_split (buf, ",", true, items, 16);
    uint32_t leads[16];
    for (size_t i = 0; i < n; i++)
        leads[i] = (uint32_t) strtoul (items[i], NULL, 10);
    Meso__V1__FrontDeskPolicy p = MESO__V1__FRONT_DESK_POLICY__INIT;
    p.clinic_id = G ("clinic");
    p.reminder_lead_minutes = leads;
    p.n_reminder_lead_minutes = n;
    p.offer_hold_minutes = (uint32_t) strtoul (G ("hold"), NULL, 10);
    Meso__V1__SetFrontDeskPolicyRequest rq = MESO__V1__SET_FRONT_DESK_POLICY_REQUEST__INIT;
    rq.policy = &p;
    ProtobufCMessage *out = NULL;
    int rc = mesoctl_call (&s_service, opts, "scheduling.SetFrontDeskPolicy", &rq.base, true,
                           &meso__v1__front_desk_policy_reply__descriptor, &out);
    if (rc == 0 && !JSON (opts)) {
        Meso__V1__FrontDeskPolicy *q = ((Meso__V1__FrontDeskPolicyReply *) out)->policy;
        printf ("clinic %s  reminders", q->clinic_id);
        for (size_t i = 0; i < q->n_reminder_lead_minutes; i++)
            printf ("%s%u min", i ? ", " : " ", q->reminder_lead_minutes[i]);
        printf ("%s  offer hold %s", q->n_reminder_lead_minutes ? "" : " none", q->offer_hold_minutes ? "" : "default");
        if (q->offer_hold_minutes)
            printf ("%u min", q->offer_hold_minutes);
        printf ("\n");
    }
    if (out)
        protobuf_c_message_free_unpacked (out, NULL);
    return rc;
}

/* ------------------------------------------------------------ waitlist */

static void
s_print_entry (const Meso__V1__WaitlistEntry *e)
{
    printf ("%s  patient %s  %s..%s  %s  %s%s  practitioner %s\n", e->entry_id, e->patient_id, e->from_date,
            e->to_date, meso_enum_str (&meso__v1__waitlist_status__descriptor, (int) e->status),
            e->appointment_id[0] ? "moves " : "new session", e->appointment_id,
            e->practitioner_id[0] ? e->practitioner_id : "any");
    if (e->offer) {
        time_t t = (time_t) (e->offer->expires_at_us / 1000000);
        struct tm tm;
        char until[32] = "?";
        if (gmtime_r (&t, &tm))
            strftime (until, sizeof until, "%Y-%m-%dT%H:%M:%SZ", &tm);
        printf ("    offer %s  %s  %s %s  held until %s\n", e->offer->offer_id, e->offer->local_start,
                e->offer->practitioner_id, e->offer->room_id, until);
    }
}

static const meso_opt_t s_join_opts[] = {
    { "clinic", NULL, "", "clinic id", NULL },
    { "patient", NULL, "", "patient id", NULL },
    { "practitioner", NULL, "", "only this practitioner (default: any)", NULL },
    { "from", NULL, "", "first day of the window, YYYY-MM-DD", NULL },
    { "to", NULL, "", "last day of the window, YYYY-MM-DD", NULL },
    { "areas", NULL, "", "a new session's areas, comma-separated", NULL },
    { "recipe", NULL, "", "a new session's recipe", NULL },
    { "appointment", NULL, "", "the booked session to move earlier", NULL },
    { "course", NULL, "", "move the course's next booked session earlier", NULL },
    MESOCTL_OPT_END
};

static int
s_entry_call (meso_opt_t *opts, const char *method, const ProtobufCMessage *body)
{
    ProtobufCMessage *out = NULL;
    int rc = mesoctl_call (&s_service, opts, method, body, true, &meso__v1__waitlist_entry_reply__descriptor, &out);
    if (rc == 0 && !JSON (opts))
        s_print_entry (((Meso__V1__WaitlistEntryReply *) out)->entry);
    if (out)
        protobuf_c_message_free_unpacked (out, NULL);
    return rc;
}

static int
s_join (meso_opt_t *opts)
{
    char buf[512], *areas[16];
    snprintf (buf, sizeof buf, "%s", G ("areas"));
    Meso__V1__JoinWaitlistRequest rq = MESO__V1__JOIN_WAITLIST_REQUEST__INIT;
    rq.clinic_id = G ("clinic");
    rq.patient_id = G ("patient");
    rq.practitioner_id = G ("practitioner");
    rq.from_date = G ("from");
    rq.to_date = G ("to");
    rq.n_areas = mesoctl_split (buf, ",", true, areas, 16);
    rq.areas = areas;
    rq.recipe_id = G ("recipe");
    rq.appointment_id = G ("appointment");
    rq.course_id = G ("course");
    return s_entry_call (opts, "scheduling.JoinWaitlist", &rq.base);
}

static const meso_opt_t s_leave_opts[] = {
    { "clinic", NULL, "", "clinic id", NULL },
    { "entry", NULL, "", "waitlist entry id", NULL },
    MESOCTL_OPT_END
};

static int
s_leave (meso_opt_t *opts)
{
    Meso__V1__LeaveWaitlistRequest rq = MESO__V1__LEAVE_WAITLIST_REQUEST__INIT;
    rq.clinic_id = G ("clinic");
    rq.entry_id = G ("entry");
    return s_entry_call (opts, "scheduling.LeaveWaitlist", &rq.base);
}

static const meso_opt_t s_list_opts[] = {
    { "clinic", NULL, "", "clinic id", NULL },
    { "status", NULL, "waiting", "waiting, served, left or all", NULL },
    { "page-size", NULL, "0", "entries per page (0: 100)", NULL },
    { "page-token", NULL, "", "next_page_token of the previous page", NULL },
    MESOCTL_OPT_END
};

static int
s_list (meso_opt_t *opts)
{
    Meso__V1__ListWaitlistRequest rq = MESO__V1__LIST_WAITLIST_REQUEST__INIT;
    rq.clinic_id = G ("clinic");
    int status = 0;
    if (mesoctl_enum_opt (opts, "status", &meso__v1__waitlist_filter__descriptor, &status) != 0)
        return MESOCTL_USAGE;
    rq.status = (Meso__V1__WaitlistFilter) status;
    rq.page_size = (uint32_t) strtoul (G ("page-size"), NULL, 10);
    rq.page_token = G ("page-token");
    ProtobufCMessage *out = NULL;
    int rc = mesoctl_call (&s_service, opts, "scheduling.ListWaitlist", &rq.base, false,
                           &meso__v1__list_waitlist_reply__descriptor, &out);
    if (rc == 0 && !JSON (opts)) {
        Meso__V1__ListWaitlistReply *r = (Meso__V1__ListWaitlistReply *) out;
        for (size_t i = 0; i < r->n_entries; i++)
            s_print_entry (r->entries[i]);
        if (r->next_page_token[0])
            printf ("more: --page-token %s\n", r->next_page_token);
    }
    if (out)
        protobuf_c_message_free_unpacked (out, NULL);
    return rc;
}

static const meso_opt_t s_accept_opts[] = {
    { "clinic", NULL, "", "clinic id", NULL },
    { "offer", NULL, "", "offer id (session.slot_offered, waitlist list)", NULL },
    MESOCTL_OPT_END
};

static int
s_accept (meso_opt_t *opts)
{
    Meso__V1__AcceptOfferRequest rq = MESO__V1__ACCEPT_OFFER_REQUEST__INIT;
    rq.clinic_id = G ("clinic");
    rq.offer_id = G ("offer");
    ProtobufCMessage *out = NULL;
    int rc = mesoctl_call (&s_service, opts, "scheduling.AcceptOffer", &rq.base, true,
                           &meso__v1__session_reply__descriptor, &out);
    if (rc == 0 && !JSON (opts)) {
        const Meso__V1__Session *s = ((Meso__V1__SessionReply *) out)->session;
        printf ("booked %s  %s  %s %s  patient %s\n", s->appointment_id, s->local_start, s->practitioner_id,
                s->room_id, s->patient_id);
    }
    if (out)
        protobuf_c_message_free_unpacked (out, NULL);
    return rc;
}

#undef G

#define JK (MESOCTL_JSON | MESOCTL_KEY)

const mesoctl_sub_t mesoctl_scheduling_frontdesk[] = {
    { "reschedule-course", "move every remaining session of a course from a date (all or nothing)",
      "--course ID --from YYYY-MM-DD [--time HH:MM] [--practitioner P] [options]",
      "Re-plans the remaining sessions of a course from a day with the course's rules and moves\n"
      "them all, with their stock, or none when one new slot cannot be had.",
      "--course 2b9d...07 --from 2025-04-07 --time 10:00",
      s_reschedule_opts, JK, NULL, 0, s_reschedule_course, "scheduling.RescheduleCourse" },
    { "cancel-course", "cancel every remaining session of a course",
      "--course ID [--by patient|clinic] [--reason T] [options]",
      "Cancels the remaining sessions of a course, each as cancel does (stock released, late\n"
      "fees per the clinic's policy), and prints the notice of each.",
      "--course 2b9d...07 --by patient --reason \"moving abroad\"",
      s_cancel_opts, JK, NULL, 0, s_cancel_course, "scheduling.CancelCourse" },
    { "front-desk", "a clinic's reminder leads and waitlist offer hold",
      "--clinic C [--leads 2880,120|none] [--hold MIN] [options]",
      "Sets when session.reminder_due goes out (minutes before each session, the clinic's\n"
      "wall clock) and how long a slot offered from the waitlist is held.",
      "--clinic par --leads 2880,120 --hold 30",
      s_policy_opts, JK, NULL, 0, s_policy, "scheduling.SetFrontDeskPolicy" },
    { "waitlist join", "a patient waits for an earlier slot",
      "--clinic C --patient ID --from D --to D (--areas a,b --recipe R | --appointment A | --course ID) [options]",
      "Adds a patient to the clinic's waitlist for a slot in a window of days: a new session,\n"
      "or a booked session to move earlier. A freed slot is offered first come, first served.",
      "--clinic par --patient 6f1c...e2 --from 2025-03-10 --to 2025-03-21 --areas thighs --recipe lipo-std",
      s_join_opts, JK, NULL, 0, s_join, "scheduling.JoinWaitlist" },
    { "waitlist list", "the clinic's waitlist, in waiting order, with open offers",
      "--clinic C [--status waiting|served|left|all] [--page-size N] [--page-token T] [options]",
      "Lists the clinic's waitlist entries first come first, each with its open offer.",
      "--clinic par\n--clinic par --status all --page-size 50",
      s_list_opts, MESOCTL_JSON, NULL, 0, s_list, "scheduling.ListWaitlist" },
    { "waitlist leave", "take an entry off the waitlist (its offer passes on)",
      "--clinic C --entry ID [options]",
      "The entry stops waiting; an open offer of it is withdrawn and goes to the next entry.",
      "--clinic par --entry 51e0...9b",
      s_leave_opts, JK, NULL, 0, s_leave, "scheduling.LeaveWaitlist" },
    { "waitlist accept", "book the patient of an open offer into the held slot",
      "--clinic C --offer ID [options]",
      "Takes an open offer: the entry's session moves to the slot, or a new session is booked.",
      "--clinic par --offer 0c7a...41",
      s_accept_opts, JK, NULL, 0, s_accept, "scheduling.AcceptOffer" },
    { NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, 0, NULL, NULL }
};
