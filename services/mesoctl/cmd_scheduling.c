/* cmd_scheduling.c -- "mesoctl scheduling ...": the front desk's view of
 * the scheduling daemon.
 *
 *     mesoctl scheduling clinic --clinic C --name N --zone Europe/Paris [--hours 09:00-18:00] [--days 1-6]
 *     mesoctl scheduling practitioner --practitioner P --name N --clinic C [--hours ..] [--days ..]
 *     mesoctl scheduling room --clinic C --room R [--name N] [--inactive|--active]
 *     mesoctl scheduling plan|book --clinic C --patient ID --grade G --areas a,b --first YYYY-MM-DD
 *                                  [--time HH:MM] [--sessions N] [--recipe R] [--practitioner P]
 *     mesoctl scheduling course --course ID | --patient ID
 *     mesoctl scheduling reschedule --appointment A --at YYYY-MM-DDTHH:MM
 *     mesoctl scheduling cancel --appointment A [--by patient|clinic] [--reason T]
 *     mesoctl scheduling start|complete|no-show --appointment A [--score 0..3]
 *     (book-session, availability and clinic-show: cmd_scheduling_days.c)
 *
 * plan and book print the course as a calendar in the clinic's local time
 * (one line per session: number, weekday, date, time, gap, practitioner,
 * room, and any conflict the planner worked around); --json prints the
 * reply as JSON (meso_pbjson, field names of scheduling.proto). A refusal
 * prints every reason and exits 1.
 *
 * Each subcommand has its own option table and --help. The service once
 * had one table for all of them, so scripts may pass a flag a subcommand
 * does not read, or put options before the subcommand ("scheduling --json
 * course ..."): both are still accepted (s_legacy is every subcommand's
 * tolerated table), and the flags a subcommand does not read are ignored
 * as they always were. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answers.h"
#include "meso/mtime.h"
#include "mesoctl.h"
#include "scheduling.pb-c.h"

/* The daemon as every subcommand reaches it: services.c. */
#define s_service mesoctl_scheduling_service

/* The options the service's one table took (see the top of the file). */
static const meso_opt_t s_legacy[] = {
    { "endpoint", "MESO_SCHEDULING_ENDPOINT", "tcp://127.0.0.1:7102", "scheduling daemon endpoint", NULL },
    { "key", NULL, "", "idempotency key (default: a new one)", NULL },
    { "json", NULL, "false", "print the reply as JSON", NULL },
    { "clinic", NULL, "", "clinic id", NULL },
    { "name", NULL, "", "display name", NULL },
    { "zone", NULL, "", "IANA time zone of a clinic", NULL },
    { "hours", NULL, "09:00-18:00", "opening or working hours, HH:MM-HH:MM", NULL },
    { "days", NULL, "1-6", "weekdays of those hours, 1 (Mon) .. 7 (Sun), e.g. 1-5", NULL },
    { "slot", NULL, "0", "slot length in minutes (0 = 60)", NULL },
    { "overlapping-courses", NULL, "false", "allow a patient's courses to overlap (default: refused)", NULL },
    { "no-overlapping-courses", NULL, "false", "refuse overlapping courses again (with neither flag an existing clinic keeps its course settings; with one, its other course settings take their defaults)", NULL },
    { "practitioner", NULL, "", "practitioner id", NULL },
    { "room", NULL, "", "room id", NULL },
    { "patient", NULL, "", "patient id", NULL },
    { "grade", NULL, "0", "cellulite grade 1..3", NULL },
    { "mild", NULL, "false", "grade 2 judged mild", NULL },
    { "areas", NULL, "", "treatment areas, comma-separated", NULL },
    { "first", NULL, "", "first session date, YYYY-MM-DD (clinic local)", NULL },
    { "time", NULL, "", "preferred time, HH:MM", NULL },
    { "sessions", NULL, "0", "sessions of the course (0 = from the grade)", NULL },
    { "maintenance", NULL, "", "maintenance sessions after the course, 0..24 (absent: the clinic's)", NULL },
    { "recipe", NULL, "", "cocktail recipe id", NULL },
    { "course", NULL, "", "course id", NULL },
    { "appointment", NULL, "", "appointment id", NULL },
    { "at", NULL, "", "local start YYYY-MM-DDTHH:MM", NULL },
    { "by", NULL, "patient", "who cancels: patient or clinic", NULL },
    { "reason", NULL, "", "why", NULL },
    { "score", NULL, "", "improvement score 0..3 (absent: not recorded)", NULL },
    MESOCTL_OPT_END
};

/* Each subcommand's own options, named as in s_legacy. */
#define OPT_CLINIC { "clinic", NULL, "", "clinic id", NULL }
#define OPT_NAME { "name", NULL, "", "display name", NULL }
#define OPT_HOURS { "hours", NULL, "09:00-18:00", "opening or working hours, HH:MM-HH:MM", NULL }
#define OPT_DAYS { "days", NULL, "1-6", "weekdays of those hours, 1 (Mon) .. 7 (Sun), e.g. 1-5", NULL }
#define OPT_PRACTITIONER { "practitioner", NULL, "", "practitioner id", NULL }
#define OPT_ROOM { "room", NULL, "", "room id", NULL }
#define OPT_PATIENT { "patient", NULL, "", "patient id", NULL }
#define OPT_APPOINTMENT { "appointment", NULL, "", "appointment id", NULL }

#define G(n) ((char *) mesoctl_opt (opts, n))

static const char *const s_wd[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };

/* --hours 09:00-18:00 --days 1-6 into 7 DayHours. */
static size_t
s_hours (const meso_opt_t *opts, Meso__V1__DayHours *h, Meso__V1__DayHours **hp, char *opens, char *closes)
{
    const char *hours = meso_config_get (opts, "hours");
    const char *days = meso_config_get (opts, "days");
    int d0 = 1, d1 = 6;
    if (sscanf (days, "%d-%d", &d0, &d1) != 2 || d0 < 1 || d1 > 7 || d0 > d1)
        d0 = 1, d1 = 6;
    if (sscanf (hours, "%5[0-9:]-%5[0-9:]", opens, closes) != 2) {
        strcpy (opens, "09:00");
        strcpy (closes, "18:00");
    }
    size_t n = 0;
    for (int d = d0; d <= d1; d++, n++) {
        meso__v1__day_hours__init (&h[n]);
        h[n].weekday = d;
        h[n].opens = opens;
        h[n].closes = closes;
        hp[n] = &h[n];
    }
    return n;
}

static void
s_print_session (const Meso__V1__Session *s)
{
    int32_t day = 0;
    char date[11];
    snprintf (date, sizeof date, "%.10s", s->local_start);
    meso_date_parse (date, &day);
    printf ("  %2u  %s %s %s  %-12s %-10s %-9s %s\n", s->session_number, s_wd[meso_date_weekday (day)], date,
            s->local_start + 11, s->practitioner_id, s->room_id, meso_enum_str (&meso__v1__session_status__descriptor, (int) s->status), s->appointment_id);
}

static void
s_print_course (const Meso__V1__BookedCourse *c)
{
    printf ("course %s  patient %s  clinic %s  grade %d  recipe %s v%u  %s%s\n", c->course_id, c->patient_id,
            c->clinic_id, c->grade, c->recipe_id, c->recipe_version, meso_enum_str (&meso__v1__course_status__descriptor, (int) c->status),
            c->non_responder ? "  NON-RESPONDER" : "");
    if (c->first_date_note && c->first_date_note[0])
        printf ("  note: %s\n", c->first_date_note);
    size_t held = 0;
    for (size_t i = 0; i < c->n_sessions; i++) {
        s_print_session (c->sessions[i]);
        held += c->sessions[i]->status == MESO__V1__SESSION_STATUS__SESSION_STATUS_ON_HOLD;
    }
    if (held)
        printf ("  %zu session%s on_hold: the patient reported a change; a new screening releases "
                "(eligible) or cancels (ineligible) %s\n", held, held > 1 ? "s" : "", held > 1 ? "them" : "it");
}

/* ---------------------------------------------- clinics, practitioners */

static const meso_opt_t s_clinic_opts[] = {
    OPT_CLINIC, OPT_NAME,
    { "zone", NULL, "", "IANA time zone of a clinic", NULL },
    OPT_HOURS, OPT_DAYS,
    { "slot", NULL, "0", "slot length in minutes (0 = 60)", NULL },
    { "overlapping-courses", NULL, "false", "allow a patient's courses to overlap (default: refused)", NULL },
    { "no-overlapping-courses", NULL, "false", "refuse overlapping courses again (with neither flag an existing clinic keeps its course settings; with one, its other course settings take their defaults)", NULL },
    MESOCTL_OPT_END
};

static int
s_clinic (meso_opt_t *opts)
{
    char opens[8], closes[8];
    Meso__V1__DayHours h[7], *hp[7];
    Meso__V1__Clinic c = MESO__V1__CLINIC__INIT;
    c.clinic_id = G ("clinic");
    c.name = G ("name");
    c.time_zone = G ("zone");
    c.slot_minutes = (uint32_t) atoi (G ("slot"));
    c.n_hours = s_hours (opts, h, hp, opens, closes);
    c.hours = hp;
    Meso__V1__CourseSettings cs = MESO__V1__COURSE_SETTINGS__INIT;
    bool allow = meso_config_bool (opts, "overlapping-courses");
    bool refuse = meso_config_bool (opts, "no-overlapping-courses");
    if (allow && refuse) {
        fprintf (stderr, "mesoctl scheduling clinic: --overlapping-courses or --no-overlapping-courses, not both\n");
        return MESOCTL_USAGE;
    }
    cs.allow_overlapping_courses = allow;
    /* Only when one is given: an absent course keeps the clinic's settings. */
    c.course = allow || refuse ? &cs : NULL;
    Meso__V1__UpsertClinicRequest rq = MESO__V1__UPSERT_CLINIC_REQUEST__INIT;
    rq.clinic = &c;
    ProtobufCMessage *out = NULL;
    int rc = mesoctl_call (&s_service, opts, "scheduling.UpsertClinic", &rq.base, true,
                           &meso__v1__upsert_clinic_reply__descriptor, &out);
    if (rc == 0 && !meso_config_bool (opts, "json"))
        printf ("clinic %s (%s) %s\n", c.clinic_id, c.time_zone,
                ((Meso__V1__UpsertClinicReply *) out)->created ? "created" : "updated");
    if (out)
        protobuf_c_message_free_unpacked (out, NULL);
    return rc;
}

static const meso_opt_t s_practitioner_opts[] = {
    OPT_PRACTITIONER, OPT_NAME, OPT_CLINIC, OPT_HOURS, OPT_DAYS,
    { "days-off", NULL, "", "days off to add, YYYY-MM-DD, comma-separated", NULL },
    MESOCTL_OPT_END
};

static int
s_practitioner (meso_opt_t *opts)
{
    char opens[8], closes[8];
    Meso__V1__DayHours h[7], *hp[7];
    Meso__V1__PractitionerClinic pc = MESO__V1__PRACTITIONER_CLINIC__INIT;
    pc.clinic_id = G ("clinic");
    pc.n_hours = s_hours (opts, h, hp, opens, closes);
    pc.hours = hp;
    Meso__V1__PractitionerClinic *pcp[] = { &pc };
    Meso__V1__Practitioner p = MESO__V1__PRACTITIONER__INIT;
    p.practitioner_id = G ("practitioner");
    p.name = G ("name");
    p.clinics = pcp;
    p.n_clinics = 1;
    char off[1024];
    char *days_off[MESOCTL_MAX_ITEMS];
    snprintf (off, sizeof off, "%s", G ("days-off"));
    p.n_days_off = mesoctl_split (off, ",", true, days_off, MESOCTL_MAX_ITEMS);
    p.days_off = days_off;
    Meso__V1__UpsertPractitionerRequest rq = MESO__V1__UPSERT_PRACTITIONER_REQUEST__INIT;
    rq.practitioner = &p;
    /* One clinic's hours at a time: the practitioner's other clinics and
     * days off stay as they are. */
    rq.keep_other_clinics = true;
    rq.keep_days_off = true;
    ProtobufCMessage *out = NULL;
    int rc = mesoctl_call (&s_service, opts, "scheduling.UpsertPractitioner", &rq.base, true,
                           &meso__v1__upsert_practitioner_reply__descriptor, &out);
    if (rc == 0 && !meso_config_bool (opts, "json"))
        printf ("practitioner %s in %s\n", p.practitioner_id, pc.clinic_id);
    if (out)
        protobuf_c_message_free_unpacked (out, NULL);
    return rc;
}

static const meso_opt_t s_room_opts[] = {
    OPT_CLINIC, OPT_ROOM, OPT_NAME,
    { "inactive", NULL, "false", "take the room out of planning (its bookings stay)", NULL },
    { "active", NULL, "false", "put the room in planning (a new room is; an existing one keeps its state)", NULL },
    MESOCTL_OPT_END
};

static int
s_room (meso_opt_t *opts)
{
    if (meso_config_bool (opts, "inactive") && meso_config_bool (opts, "active")) {
        fprintf (stderr, "mesoctl scheduling room: --active or --inactive, not both\n");
        return MESOCTL_USAGE;
    }
    Meso__V1__Room r = MESO__V1__ROOM__INIT;
    r.clinic_id = G ("clinic");
    r.room_id = G ("room");
    r.name = G ("name");
    /* Neither flag: an existing room keeps its state (a new one is active). */
    if (meso_config_bool (opts, "inactive") || meso_config_bool (opts, "active"))
        r.state_case = MESO__V1__ROOM__STATE_ACTIVE;
    r.active = !meso_config_bool (opts, "inactive");
    Meso__V1__UpsertRoomRequest rq = MESO__V1__UPSERT_ROOM_REQUEST__INIT;
    rq.room = &r;
    ProtobufCMessage *out = NULL;
    int rc = mesoctl_call (&s_service, opts, "scheduling.UpsertRoom", &rq.base, true,
                           &meso__v1__upsert_room_reply__descriptor, &out);
    const Meso__V1__UpsertRoomReply *rep = (const Meso__V1__UpsertRoomReply *) out;
    if (rc == 0 && !meso_config_bool (opts, "json") && rep && rep->room)
        printf ("room %s in %s%s\n", rep->room->room_id, rep->room->clinic_id, rep->room->active ? "" : " (inactive)");
    if (out)
        protobuf_c_message_free_unpacked (out, NULL);
    return rc;
}

/* ------------------------------------------------------------ courses */

static const meso_opt_t s_course_spec_opts[] = {
    OPT_CLINIC, OPT_PATIENT,
    { "grade", NULL, "0", "cellulite grade 1..3", NULL },
    { "mild", NULL, "false", "grade 2 judged mild", NULL },
    { "areas", NULL, "", "treatment areas, comma-separated", NULL },
    { "first", NULL, "", "first session date, YYYY-MM-DD (clinic local)", NULL },
    { "time", NULL, "", "preferred time, HH:MM", NULL },
    { "sessions", NULL, "0", "sessions of the course (0 = from the grade)", NULL },
    { "maintenance", NULL, "", "maintenance sessions after the course, 0..24 (absent: the clinic's)", NULL },
    { "recipe", NULL, "", "cocktail recipe id", NULL },
    OPT_PRACTITIONER,
    MESOCTL_OPT_END
};

/* The course plan and book ask for; areas point into areas_buf. */
static void
s_course_spec (const meso_opt_t *opts, Meso__V1__CourseSpec *sp, char *areas_buf, size_t size, char **areas)
{
    meso__v1__course_spec__init (sp);
    sp->clinic_id = G ("clinic");
    sp->patient_id = G ("patient");
    sp->grade = atoi (G ("grade"));
    sp->mild = meso_config_bool (opts, "mild");
    snprintf (areas_buf, size, "%s", G ("areas"));
    sp->n_areas = mesoctl_split (areas_buf, ",", false, areas, 16);
    sp->areas = areas;
    sp->first_date = G ("first");
    sp->preferred_time = G ("time");
    sp->sessions = (uint32_t) atoi (G ("sessions"));
    if (G ("maintenance")[0]) {         /* an explicit 0 plans none */
        sp->maintenance_case = MESO__V1__COURSE_SPEC__MAINTENANCE_MAINTENANCE_SESSIONS;
        sp->maintenance_sessions = (uint32_t) atoi (G ("maintenance"));
    }
    sp->practitioner_id = G ("practitioner");
    sp->recipe_id = G ("recipe");
}

static int
s_plan (meso_opt_t *opts)
{
    char areas_buf[512], *areas[16];
    Meso__V1__CourseSpec sp;
    s_course_spec (opts, &sp, areas_buf, sizeof areas_buf, areas);
    Meso__V1__PlanCourseRequest rq = MESO__V1__PLAN_COURSE_REQUEST__INIT;
    rq.spec = &sp;
    ProtobufCMessage *out = NULL;
    int rc = mesoctl_call (&s_service, opts, "scheduling.PlanCourse", &rq.base, false,
                           &meso__v1__plan_course_reply__descriptor, &out);
    if (rc == 0 && !meso_config_bool (opts, "json")) {
        Meso__V1__PlanCourseReply *p = (Meso__V1__PlanCourseReply *) out;
        printf ("plan for clinic %s (%s): %zu sessions%s\n", p->clinic_id, p->time_zone, p->n_sessions,
                p->complete ? "" : " -- NOT ALL PLACED");
        if (p->first_date_note && p->first_date_note[0])
            printf ("  note: %s\n", p->first_date_note);
        for (size_t i = 0; i < p->n_sessions; i++) {
            Meso__V1__PlannedSession *s = p->sessions[i];
            int32_t day = 0;
            char date[11];
            snprintf (date, sizeof date, "%.10s", s->unplaced ? s->target_date : s->local_start);
            meso_date_parse (date, &day);
            printf ("  %2u%s %s %s %s  +%-3u %-12s %-10s", s->session_number, s->maintenance ? "m" : " ",
                    s_wd[meso_date_weekday (day)], date, s->unplaced ? "--:--" : s->local_start + 11,
                    s->gap_days, s->practitioner_id, s->room_id);
            for (size_t k = 0; k < s->n_conflicts; k++)
                printf ("%s%s", k ? "; " : " (", s->conflicts[k]);
            printf ("%s\n", s->n_conflicts ? ")" : "");
        }
    }
    if (out)
        protobuf_c_message_free_unpacked (out, NULL);
    return rc;
}

static int
s_book (meso_opt_t *opts)
{
    char areas_buf[512], *areas[16];
    Meso__V1__CourseSpec sp;
    s_course_spec (opts, &sp, areas_buf, sizeof areas_buf, areas);
    Meso__V1__BookCourseRequest rq = MESO__V1__BOOK_COURSE_REQUEST__INIT;
    rq.spec = &sp;
    ProtobufCMessage *out = NULL;
    int rc = mesoctl_call (&s_service, opts, "scheduling.BookCourse", &rq.base, true,
                           &meso__v1__book_course_reply__descriptor, &out);
    if (rc == 0 && !meso_config_bool (opts, "json"))
        s_print_course (((Meso__V1__BookCourseReply *) out)->course);
    if (out)
        protobuf_c_message_free_unpacked (out, NULL);
    return rc;
}

static const meso_opt_t s_course_opts[] = {
    { "course", NULL, "", "course id", NULL },
    OPT_PATIENT,
    MESOCTL_PAGE_OPTS,
    MESOCTL_OPT_END
};

static void
s_course_page (const ProtobufCMessage *m, int page, void *arg)
{
    (void) page;
    (void) arg;
    const Meso__V1__GetCourseReply *out = (const Meso__V1__GetCourseReply *) m;
    for (size_t i = 0; i < out->n_courses; i++)
        s_print_course (out->courses[i]);
}

static int
s_course (meso_opt_t *opts)
{
    Meso__V1__GetCourseRequest rq = MESO__V1__GET_COURSE_REQUEST__INIT;
    const char *course = G ("course"), *patient = G ("patient");
    if (*course && *patient) {
        fprintf (stderr, "mesoctl: give --course or --patient, not both\n");
        return MESOCTL_USAGE;
    }
    if (*course) {
        rq.key_case = MESO__V1__GET_COURSE_REQUEST__KEY_COURSE_ID;
        rq.course_id = (char *) course;
    }
    else if (*patient) {
        rq.key_case = MESO__V1__GET_COURSE_REQUEST__KEY_PATIENT_ID;
        rq.patient_id = (char *) patient;
    }
    return mesoctl_call_pages (&s_service, opts, "scheduling.GetCourse", &rq.base, false,
                               &meso__v1__get_course_reply__descriptor, s_course_page, NULL);
}

/* ----------------------------------------------------------- sessions */

/* Calls method for one session and prints it; cancelled tells whether to
 * print the notice the patient gave. */
static int
s_session_call (meso_opt_t *opts, const char *method, const ProtobufCMessage *body, bool cancelled)
{
    ProtobufCMessage *out = NULL;
    int rc = mesoctl_call (&s_service, opts, method, body, true, &meso__v1__session_reply__descriptor, &out);
    if (rc == 0 && !meso_config_bool (opts, "json")) {
        Meso__V1__SessionReply *s = (Meso__V1__SessionReply *) out;
        s_print_session (s->session);
        if (s->non_responder)
            printf ("  the course is flagged: no improvement after 5 sessions\n");
        if (cancelled)
            printf ("  notice %lld h%s\n", (long long) s->notice_hours, s->late ? " (late)" : "");
    }
    if (out)
        protobuf_c_message_free_unpacked (out, NULL);
    return rc;
}

static const meso_opt_t s_reschedule_opts[] = {
    OPT_APPOINTMENT,
    { "at", NULL, "", "local start YYYY-MM-DDTHH:MM", NULL },
    OPT_PRACTITIONER, OPT_ROOM,
    MESOCTL_OPT_END
};

static int
s_reschedule (meso_opt_t *opts)
{
    Meso__V1__RescheduleRequest rs = MESO__V1__RESCHEDULE_REQUEST__INIT;
    rs.appointment_id = G ("appointment");
    rs.local_start = G ("at");
    rs.practitioner_id = G ("practitioner");
    rs.room_id = G ("room");
    return s_session_call (opts, "scheduling.Reschedule", &rs.base, false);
}

static const meso_opt_t s_cancel_opts[] = {
    OPT_APPOINTMENT,
    { "by", NULL, "patient", "who cancels: patient or clinic", NULL },
    { "reason", NULL, "", "why", NULL },
    MESOCTL_OPT_END
};

static int
s_cancel (meso_opt_t *opts)
{
    Meso__V1__CancelRequest cq = MESO__V1__CANCEL_REQUEST__INIT;
    cq.appointment_id = G ("appointment");
    cq.by = strcmp (G ("by"), "clinic") == 0 ? MESO__V1__CANCELLED_BY__CANCELLED_BY_CLINIC
                                             : MESO__V1__CANCELLED_BY__CANCELLED_BY_PATIENT;
    cq.reason = G ("reason");
    return s_session_call (opts, "scheduling.Cancel", &cq.base, true);
}

static const meso_opt_t s_appointment_opts[] = { OPT_APPOINTMENT, MESOCTL_OPT_END };

static int
s_start (meso_opt_t *opts)
{
    Meso__V1__SessionRef ref = MESO__V1__SESSION_REF__INIT;
    ref.appointment_id = G ("appointment");
    return s_session_call (opts, "scheduling.StartSession", &ref.base, false);
}

static int
s_no_show (meso_opt_t *opts)
{
    Meso__V1__SessionRef ref = MESO__V1__SESSION_REF__INIT;
    ref.appointment_id = G ("appointment");
    return s_session_call (opts, "scheduling.MarkNoShow", &ref.base, false);
}

static const meso_opt_t s_complete_opts[] = {
    OPT_APPOINTMENT,
    { "score", NULL, "", "improvement score 0..3 (absent: not recorded)", NULL },
    MESOCTL_OPT_END
};

static int
s_complete (meso_opt_t *opts)
{
    Meso__V1__CompleteSessionRequest cp = MESO__V1__COMPLETE_SESSION_REQUEST__INIT;
    cp.appointment_id = G ("appointment");
    if (G ("score")[0]) {               /* absent: not recorded, not 0 */
        cp.outcome_case = MESO__V1__COMPLETE_SESSION_REQUEST__OUTCOME_IMPROVEMENT_SCORE;
        cp.improvement_score = atoi (G ("score"));
    }
    return s_session_call (opts, "scheduling.CompleteSession", &cp.base, false);
}

#undef G

/* -------------------------------------------------------------- entry */

#define JK (MESOCTL_JSON | MESOCTL_KEY)

static const mesoctl_sub_t s_subs[] = {
    { "clinic", "add or change a clinic: time zone, opening hours, slot length",
      "--clinic C --name N --zone ZONE [--hours HH:MM-HH:MM] [--days D1-D2] [--slot MIN] [options]",
      "Creates or updates a clinic with its opening hours (the same hours on each day of --days).",
      "--clinic par --name \"Meso Paris Marais\" --zone Europe/Paris --hours 09:00-18:00 --days 1-6",
      s_clinic_opts, JK, s_legacy, 1, s_clinic, "scheduling.UpsertClinic" },
    { "practitioner", "add or change a practitioner and their hours in a clinic",
      "--practitioner P --name N --clinic C [--hours HH:MM-HH:MM] [--days D1-D2] [--days-off D,...] [options]",
      "Creates or updates a practitioner working in a clinic (the same hours on each day of --days).\n"
      "Only that clinic's hours change: the practitioner's hours in other clinics and days off\n"
      "stay; --days-off adds days off.",
      "--practitioner par-moreau --name \"Dr Claire Moreau\" --clinic par --hours 09:00-18:00 --days 1-5\n"
      "--practitioner par-moreau --name \"Dr Claire Moreau\" --clinic lyo --hours 10:00-16:00 --days 6-6 --days-off 2026-08-14",
      s_practitioner_opts, JK, s_legacy, 1, s_practitioner, "scheduling.UpsertPractitioner" },
    { "room", "add or change a treatment room of a clinic",
      "--clinic C --room R [--name N] [--inactive | --active] [options]",
      "Creates or updates a treatment room of a clinic; --inactive takes it out of planning\n"
      "(existing bookings stay), --active (the default) puts it back.",
      "--clinic par --room par-r1 --name \"Salle 1\"\n--clinic par --room par-r1 --name \"Salle 1\" --inactive",
      s_room_opts, JK, s_legacy, 1, s_room, "scheduling.UpsertRoom" },
    { "plan", "preview a course's calendar; nothing is booked",
      "--clinic C --patient ID --grade G --areas a,b --first YYYY-MM-DD [--time HH:MM] [options]",
      "Plans a course and prints its calendar in the clinic's local time, with any conflict\n"
      "the planner worked around. Nothing is booked.",
      "--clinic par --patient 6f1c...e2 --grade 2 --areas thighs,hips --first 2025-03-10 --time 10:00 --recipe lipo-std",
      s_course_spec_opts, MESOCTL_JSON, s_legacy, 1, s_plan, "scheduling.PlanCourse" },
    { "book", "book a course: screening checked, sessions placed, stock reserved",
      "--clinic C --patient ID --grade G --areas a,b --first YYYY-MM-DD [--time HH:MM] [options]",
      "Books a course: checks the screening, places every session and reserves the stock,\n"
      "then prints the course.",
      "--clinic par --patient 6f1c...e2 --grade 2 --areas thighs,hips --first 2025-03-10 --time 10:00 --recipe lipo-std",
      s_course_spec_opts, JK, s_legacy, 1, s_book, "scheduling.BookCourse" },
    { "course", "a booked course, or every course of a patient",
      "(--course ID | --patient ID) [--page-size N] [--page-token T | --all] [options]",
      "Prints a booked course with its sessions, or every course of a patient.",
      "--patient 6f1c...e2\n--course 2b9d...07 --json\n--patient 6f1c...e2 --page-size 100 --all",
      s_course_opts, MESOCTL_JSON, s_legacy, 1, s_course, "scheduling.GetCourse" },
    { "reschedule", "move a session to another time (room, practitioner)",
      "--appointment A --at YYYY-MM-DDTHH:MM [--practitioner P] [--room R] [options]",
      "Moves a booked session to another local start time, practitioner or room.",
      "--appointment 9a4e...c1 --at 2025-03-17T11:00",
      s_reschedule_opts, JK, s_legacy, 1, s_reschedule, "scheduling.Reschedule" },
    { "cancel", "cancel a session; prints the notice given",
      "--appointment A [--by patient|clinic] [--reason T] [options]",
      "Cancels a booked session and prints the notice given in hours (late: within the\n"
      "clinic's cancellation window).",
      "--appointment 9a4e...c1 --by patient --reason \"travelling\"",
      s_cancel_opts, JK, s_legacy, 1, s_cancel, "scheduling.Cancel" },
    { "start", "start a session (the screening is checked again)",
      "--appointment A [options]",
      "Starts a session; the screening is checked again for that day.",
      "--appointment 9a4e...c1",
      s_appointment_opts, JK, s_legacy, 1, s_start, "scheduling.StartSession" },
    { "complete", "complete a session with the improvement seen",
      "--appointment A [--score 0..3] [options]",
      "Completes a started session with the improvement score seen (0 none .. 3 marked);\n"
      "without --score the outcome is not recorded (it does not count as no improvement).",
      "--appointment 9a4e...c1 --score 1",
      s_complete_opts, JK, s_legacy, 1, s_complete, "scheduling.CompleteSession" },
    { "no-show", "mark a session the patient did not come to",
      "--appointment A [options]",
      "Marks a booked session as a no-show.",
      "--appointment 9a4e...c1",
      s_appointment_opts, JK, s_legacy, 1, s_no_show, "scheduling.MarkNoShow" },
    { "clinics", "the clinics of the chain (those the caller may act in)",
      "[--page-size N] [--page-token T] [options]",
      "Lists the clinics with their zone, slot length and opening hours, by id.",
      "\n--json",
      mesoctl_scheduling_clinics_opts, MESOCTL_JSON, NULL, 0, mesoctl_scheduling_clinics, "scheduling.ListClinics" },
    { "practitioners", "a clinic's practitioners with their hours and days off",
      "--clinic C [--days-off-from YYYY-MM-DD] [options]",
      "Lists the practitioners working in a clinic, by id, with their hours in every clinic\n"
      "and their days off.",
      "--clinic mad\n--clinic mad --days-off-from 2027-01-01 --json",
      mesoctl_scheduling_practitioners_opts, MESOCTL_JSON, NULL, 0, mesoctl_scheduling_practitioners, "scheduling.ListPractitioners" },
    { "rooms", "a clinic's rooms, active or not",
      "--clinic C [options]",
      "Lists the rooms of a clinic, by id, with their names and whether they are in use.",
      "--clinic mad",
      mesoctl_scheduling_rooms_opts, MESOCTL_JSON, NULL, 0, mesoctl_scheduling_rooms, "scheduling.ListRooms" },
    { "courses", "a patient's courses, one line each, with the next session",
      "--patient ID [options]",
      "Lists a patient's courses (failed bookings left out), oldest first: clinic, grade,\n"
      "first and last session day, sessions done and to come, the next session.",
      "--patient 6f1c...e2",
      mesoctl_scheduling_courses_opts, MESOCTL_JSON, NULL, 0, mesoctl_scheduling_courses, "scheduling.ListCourses" },
    { NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, 0, NULL, NULL }
};

int
mesoctl_scheduling (int argc, char **argv)
{
    /* This file's subcommands, then the front desk's (cmd_frontdesk.c) and
     * cmd_scheduling_days.c's. */
    mesoctl_sub_t all[sizeof s_subs / sizeof s_subs[0] + 32];
    size_t n = 0;
    for (size_t i = 0; s_subs[i].name; i++)
        all[n++] = s_subs[i];
    for (size_t i = 0; mesoctl_scheduling_frontdesk[i].name && n + 1 < sizeof all / sizeof all[0]; i++)
        all[n++] = mesoctl_scheduling_frontdesk[i];
    for (size_t i = 0; mesoctl_scheduling_days[i].name && n + 1 < sizeof all / sizeof all[0]; i++)
        all[n++] = mesoctl_scheduling_days[i];
    memset (&all[n], 0, sizeof all[n]);
    return mesoctl_run (&s_service, all, true, argc, argv);
}
