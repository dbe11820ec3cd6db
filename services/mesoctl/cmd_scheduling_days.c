/* cmd_scheduling_days.c -- "mesoctl scheduling ..." about a clinic's days:
 *
 *     mesoctl scheduling book-session --clinic C --patient ID --practitioner P --room R
 *                                     --at YYYY-MM-DDTHH:MM --areas a,b --recipe R
 *                                     [--minutes N] [--maintenance]
 *     mesoctl scheduling availability --clinic C --date YYYY-MM-DD [--practitioner P]
 *     mesoctl scheduling clinic-show  --clinic C
 *
 * A file of its own because cmd_scheduling.c is full; the subcommands are
 * listed after that file's (mesoctl_scheduling). Each prints a readable
 * form in the clinic's local time, or with --json the reply as JSON
 * (meso_pbjson, as every scheduling subcommand). A refusal prints every
 * reason and exits 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answers.h"
#include "meso/mtime.h"
#include "mesoctl.h"
#include "scheduling.pb-c.h"

#define S_SVC (&mesoctl_scheduling_service)
#define G(n) ((char *) mesoctl_opt (opts, n))

static const char *const s_wd[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };

/* ------------------------------------------------------- book-session */

static const meso_opt_t s_book_session_opts[] = {
    { "clinic", NULL, NULL, "clinic id (required)", NULL },
    { "patient", NULL, NULL, "patient id (required)", NULL },
    { "practitioner", NULL, NULL, "practitioner id (required)", NULL },
    { "room", NULL, NULL, "room id (required)", NULL },
    { "at", NULL, NULL, "local start YYYY-MM-DDTHH:MM (required)", NULL },
    { "areas", NULL, NULL, "treatment areas, comma-separated (required)", NULL },
    { "recipe", NULL, NULL, "cocktail recipe id (required)", NULL },
    { "minutes", NULL, "0", "length in minutes (0: the clinic's slot)", NULL },
    { "maintenance", NULL, "false", "a maintenance session (not part of a course)", NULL },
    MESOCTL_OPT_END
};

static int
s_book_session (meso_opt_t *opts)
{
    long minutes = 0;
    if (meso_config_int (opts, "minutes", 0, 480, &minutes) != 0)
        return MESOCTL_USAGE;
    char buf[1024];
    char *areas[MESOCTL_MAX_ITEMS];
    snprintf (buf, sizeof buf, "%s", G ("areas"));
    Meso__V1__BookSessionRequest rq = MESO__V1__BOOK_SESSION_REQUEST__INIT;
    rq.clinic_id = G ("clinic");
    rq.patient_id = G ("patient");
    rq.practitioner_id = G ("practitioner");
    rq.room_id = G ("room");
    rq.local_start = G ("at");
    rq.duration_minutes = (uint32_t) minutes;
    rq.n_areas = mesoctl_split (buf, ",", true, areas, MESOCTL_MAX_ITEMS);
    rq.areas = areas;
    rq.recipe_id = G ("recipe");
    rq.maintenance = meso_config_bool (opts, "maintenance");
    ProtobufCMessage *out = NULL;
    int rc = mesoctl_call (S_SVC, opts, "scheduling.BookSession", &rq.base, true,
                           &meso__v1__book_course_reply__descriptor, &out);
    if (rc != MESOCTL_OK)
        return rc;
    const Meso__V1__BookedCourse *c = ((Meso__V1__BookCourseReply *) out)->course;
    if (!meso_config_bool (opts, "json") && c)
        for (size_t i = 0; i < c->n_sessions; i++) {
            const Meso__V1__Session *s = c->sessions[i];
            printf ("booked %s at %s with %s in %s (course %s): appointment %s\n", s->local_start,
                    c->clinic_id, s->practitioner_id, s->room_id, c->course_id, s->appointment_id);
        }
    protobuf_c_message_free_unpacked (out, NULL);
    return MESOCTL_OK;
}

/* ------------------------------------------------------- availability */

static const meso_opt_t s_availability_opts[] = {
    { "clinic", NULL, NULL, "clinic id (required)", NULL },
    { "date", NULL, NULL, "local day YYYY-MM-DD (required)", NULL },
    { "practitioner", NULL, "", "only this practitioner", NULL },
    MESOCTL_OPT_END
};

static int
s_availability (meso_opt_t *opts)
{
    Meso__V1__GetAvailabilityRequest rq = MESO__V1__GET_AVAILABILITY_REQUEST__INIT;
    rq.clinic_id = G ("clinic");
    rq.date = G ("date");
    rq.practitioner_id = G ("practitioner");
    ProtobufCMessage *out = NULL;
    int rc = mesoctl_call (S_SVC, opts, "scheduling.GetAvailability", &rq.base, false,
                           &meso__v1__get_availability_reply__descriptor, &out);
    if (rc != MESOCTL_OK)
        return rc;
    const Meso__V1__GetAvailabilityReply *rep = (const Meso__V1__GetAvailabilityReply *) out;
    if (!meso_config_bool (opts, "json")) {
        int32_t day = 0;
        meso_date_parse (rq.date, &day);
        printf ("%s %s at %s: %zu free slot%s\n", s_wd[meso_date_weekday (day)], rq.date, rq.clinic_id,
                rep->n_slots, rep->n_slots == 1 ? "" : "s");
        for (size_t i = 0; i < rep->n_slots; i++) {
            const Meso__V1__FreeSlot *f = rep->slots[i];
            printf ("  %s  %-16s %s\n", strlen (f->local_start) > 11 ? f->local_start + 11 : f->local_start,
                    f->practitioner_id, f->room_id);
        }
    }
    protobuf_c_message_free_unpacked (out, NULL);
    return MESOCTL_OK;
}

/* -------------------------------------------------------- clinic-show */

static const meso_opt_t s_clinic_show_opts[] = {
    { "clinic", NULL, NULL, "clinic id (required)", NULL },
    MESOCTL_OPT_END
};

static int
s_clinic_show (meso_opt_t *opts)
{
    Meso__V1__GetClinicRequest rq = MESO__V1__GET_CLINIC_REQUEST__INIT;
    rq.clinic_id = G ("clinic");
    ProtobufCMessage *out = NULL;
    int rc = mesoctl_call (S_SVC, opts, "scheduling.GetClinic", &rq.base, false,
                           &meso__v1__get_clinic_reply__descriptor, &out);
    if (rc != MESOCTL_OK)
        return rc;
    const Meso__V1__Clinic *c = ((Meso__V1__GetClinicReply *) out)->clinic;
    if (!meso_config_bool (opts, "json") && c) {
        printf ("clinic %s: %s, %s, slots of %u minutes\n", c->clinic_id, c->name, c->time_zone,
                c->slot_minutes);
        for (size_t i = 0; i < c->n_hours; i++) {
            int d = c->hours[i]->weekday;
            printf ("  %s %s-%s\n", d >= 1 && d <= 7 ? s_wd[d - 1] : "?", c->hours[i]->opens,
                    c->hours[i]->closes);
        }
        if (c->course)
            printf ("  courses: sessions at least %u days apart, last gaps up to %u days, %u maintenance, "
                    "late cancellation under %u h notice%s\n", c->course->spacing_min_days,
                    c->course->taper_max_days, c->course->maintenance_sessions,
                    c->course->cancel_notice_hours,
                    c->course->allow_overlapping_courses ? ", overlapping courses allowed" : "");
    }
    protobuf_c_message_free_unpacked (out, NULL);
    return MESOCTL_OK;
}

const mesoctl_sub_t mesoctl_scheduling_days[] = {
    { "book-session", "book one session (a maintenance or single session)",
      "--clinic C --patient ID --practitioner P --room R --at YYYY-MM-DDTHH:MM --areas a,b --recipe R [options]",
      "Books one session with a practitioner in a room at a local time, through the same\n"
      "checks and stock hold as a course (a course of one session); prints the appointment.",
      "--clinic par --patient 6f1c...e2 --practitioner par-moreau --room par-r1 --at 2026-09-01T10:00 "
      "--areas thighs --recipe lipo --maintenance",
      s_book_session_opts, MESOCTL_JSON | MESOCTL_KEY, NULL, 0, s_book_session, "scheduling.BookSession" },
    { "availability", "the free slots of a clinic on a day",
      "--clinic C --date YYYY-MM-DD [--practitioner P] [options]",
      "Lists the free slots of a clinic on a local day, each with a free practitioner and room.",
      "--clinic par --date 2026-09-01\n--clinic par --date 2026-09-01 --practitioner par-moreau --json",
      s_availability_opts, MESOCTL_JSON, NULL, 0, s_availability, "scheduling.GetAvailability" },
    { "clinic-show", "a clinic as stored: zone, hours, course settings",
      "--clinic C [options]",
      "Shows a clinic as scheduling stores it: name, time zone, opening hours, slot length\n"
      "and course settings (defaults filled in).",
      "--clinic par",
      s_clinic_show_opts, MESOCTL_JSON, NULL, 0, s_clinic_show, "scheduling.GetClinic" },
    { NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, 0, NULL, NULL }
};
