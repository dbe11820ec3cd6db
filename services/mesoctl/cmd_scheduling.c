/* cmd_scheduling.c -- "mesoctl scheduling ...": the front desk's view of
 * the scheduling daemon.
 *
 *     mesoctl scheduling clinic --clinic C --name N --zone Europe/Paris [--hours 09:00-18:00] [--days 1-6]
 *     mesoctl scheduling practitioner --practitioner P --name N --clinic C [--hours ..] [--days ..]
 *     mesoctl scheduling room --clinic C --room R [--name N]
 *     mesoctl scheduling plan|book --clinic C --patient ID --grade G --areas a,b --first YYYY-MM-DD
 *                                  [--time HH:MM] [--sessions N] [--recipe R] [--practitioner P]
 *     mesoctl scheduling course --course ID | --patient ID
 *     mesoctl scheduling reschedule --appointment A --at YYYY-MM-DDTHH:MM
 *     mesoctl scheduling cancel --appointment A [--by patient|clinic] [--reason T]
 *     mesoctl scheduling start|complete|no-show --appointment A [--score 0..3]
 *
 * plan and book print the course as a calendar in the clinic's local time
 * (one line per session: number, weekday, date, time, gap, practitioner,
 * room, and any conflict the planner worked around); --json prints the
 * reply as JSON (meso_pbjson, field names of scheduling.proto). One option
 * table serves every subcommand: the flags a subcommand does not use are
 * ignored. A refusal prints every reason and exits 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/bus.h"
#include "meso/config.h"
#include "meso/mtime.h"
#include "meso/pbjson.h"
#include "meso/status.h"
#include "meso/uuid.h"
#include "mesoctl.h"
#include "scheduling.pb-c.h"

static const char *const s_wd[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };

static int
s_call (const meso_opt_t *opts, const char *method, const ProtobufCMessage *body, bool mutating,
        const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out)
{
    meso_bus_client_t *client = meso_bus_client_new (meso_config_get (opts, "endpoint"),
                                                     MESO__V1__ACTOR__KIND__KIND_OPERATOR, "mesoctl");
    if (!client)
        return MESOCTL_USAGE;
    char key[MESO_UUID_LEN + 1] = "";
    const char *k = meso_config_get (opts, "key");
    if (mutating && (!k || !*k)) {
        meso_uuid_v4 (key);
        k = key;
    }
    meso_result_t r = { 0 };
    int rc = meso_bus_client_call (client, method, body, mutating ? k : NULL, 30000, &r);
    meso_bus_client_destroy (&client);
    if (rc != 0) {
        fprintf (stderr, "%s: %s\n", meso_status_name (r.status), r.message);
        for (size_t i = 0; r.reply && i < r.reply->n_reasons; i++)
            fprintf (stderr, "  - %s%s%s: %s\n", r.reply->reasons[i]->code,
                     *r.reply->reasons[i]->field ? " @ " : "", r.reply->reasons[i]->field,
                     r.reply->reasons[i]->message);
        if (r.reply && *r.reply->detail)
            fprintf (stderr, "  %s\n", r.reply->detail);
        meso_result_reset (&r);
        return MESOCTL_FAILED;
    }
    size_t len;
    const uint8_t *data = meso_result_body (&r, &len);
    *out = protobuf_c_message_unpack (desc, NULL, len, data);
    meso_result_reset (&r);
    if (!*out)
        return MESOCTL_FAILED;
    if (meso_config_bool (opts, "json")) {
        char *j = meso_pbjson_encode (*out, 0, NULL);
        printf ("%s\n", j ? j : "{}");
        free (j);
    }
    return MESOCTL_OK;
}

static size_t
s_split (char *list, char **out, size_t max)
{
    size_t n = 0;
    char *save = NULL;
    for (char *t = strtok_r (list, ",", &save); t && n < max; t = strtok_r (NULL, ",", &save))
        out[n++] = t;
    return n;
}

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
            s->local_start + 11, s->practitioner_id, s->room_id, s->status, s->appointment_id);
}

static void
s_print_course (const Meso__V1__BookedCourse *c)
{
    printf ("course %s  patient %s  clinic %s  grade %d  recipe %s v%u  %s%s\n", c->course_id, c->patient_id,
            c->clinic_id, c->grade, c->recipe_id, c->recipe_version, c->status,
            c->non_responder ? "  NON-RESPONDER" : "");
    for (size_t i = 0; i < c->n_sessions; i++)
        s_print_session (c->sessions[i]);
}

int
mesoctl_scheduling (int argc, char **argv)
{
    meso_opt_t opts[] = {
        { "endpoint", "MESO_SCHEDULING_ENDPOINT", "tcp://127.0.0.1:7102", "scheduling daemon endpoint", NULL },
        { "key", NULL, "", "idempotency key (default: a new one)", NULL },
        { "json", NULL, "false", "print the reply as JSON", NULL },
        { "clinic", NULL, "", "clinic id", NULL },
        { "name", NULL, "", "display name", NULL },
        { "zone", NULL, "", "IANA time zone of a clinic", NULL },
        { "hours", NULL, "09:00-18:00", "opening or working hours, HH:MM-HH:MM", NULL },
        { "days", NULL, "1-6", "weekdays of those hours, 1 (Mon) .. 7 (Sun), e.g. 1-5", NULL },
        { "slot", NULL, "0", "slot length in minutes (0 = 60)", NULL },
        { "practitioner", NULL, "", "practitioner id", NULL },
        { "room", NULL, "", "room id", NULL },
        { "patient", NULL, "", "patient id", NULL },
        { "grade", NULL, "0", "cellulite grade 1..3", NULL },
        { "mild", NULL, "false", "grade 2 judged mild", NULL },
        { "areas", NULL, "", "treatment areas, comma-separated", NULL },
        { "first", NULL, "", "first session date, YYYY-MM-DD (clinic local)", NULL },
        { "time", NULL, "", "preferred time, HH:MM", NULL },
        { "sessions", NULL, "0", "sessions of the course (0 = from the grade)", NULL },
        { "recipe", NULL, "", "cocktail recipe id", NULL },
        { "course", NULL, "", "course id", NULL },
        { "appointment", NULL, "", "appointment id", NULL },
        { "at", NULL, "", "local start YYYY-MM-DDTHH:MM", NULL },
        { "by", NULL, "patient", "who cancels: patient or clinic", NULL },
        { "reason", NULL, "", "why", NULL },
        { "score", NULL, "0", "improvement score 0..3", NULL },
        { NULL, NULL, NULL, NULL, NULL }
    };
    const char *pos[2] = { NULL, NULL };
    int npos = 2;
    int rc = mesoctl_parsed (meso_config_parse (opts, argc, argv, "mesoctl scheduling",
        "clinic | practitioner | room | plan | book | course | reschedule | cancel | start | complete | no-show",
        pos, &npos));
    if (rc >= 0)
        return rc;
    const char *sub = npos > 0 ? pos[0] : "";
#define G(n) ((char *) meso_config_get (opts, n))
    ProtobufCMessage *out = NULL;
    bool json = meso_config_bool (opts, "json");
    char opens[8], closes[8], areas_buf[512];
    char *areas[16];
    Meso__V1__DayHours h[7], *hp[7];
    if (strcmp (sub, "clinic") == 0) {
        Meso__V1__Clinic c = MESO__V1__CLINIC__INIT;
        c.clinic_id = G ("clinic");
        c.name = G ("name");
        c.time_zone = G ("zone");
        c.slot_minutes = (uint32_t) atoi (G ("slot"));
        c.n_hours = s_hours (opts, h, hp, opens, closes);
        c.hours = hp;
        Meso__V1__UpsertClinicRequest rq = MESO__V1__UPSERT_CLINIC_REQUEST__INIT;
        rq.clinic = &c;
        rc = s_call (opts, "scheduling.UpsertClinic", &rq.base, true, &meso__v1__upsert_clinic_reply__descriptor, &out);
        if (rc == 0 && !json)
            printf ("clinic %s (%s) %s\n", c.clinic_id, c.time_zone,
                    ((Meso__V1__UpsertClinicReply *) out)->created ? "created" : "updated");
    }
    else if (strcmp (sub, "practitioner") == 0) {
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
        Meso__V1__UpsertPractitionerRequest rq = MESO__V1__UPSERT_PRACTITIONER_REQUEST__INIT;
        rq.practitioner = &p;
        rc = s_call (opts, "scheduling.UpsertPractitioner", &rq.base, true,
                     &meso__v1__upsert_practitioner_reply__descriptor, &out);
        if (rc == 0 && !json)
            printf ("practitioner %s in %s\n", p.practitioner_id, pc.clinic_id);
    }
    else if (strcmp (sub, "room") == 0) {
        Meso__V1__Room r = MESO__V1__ROOM__INIT;
        r.clinic_id = G ("clinic");
        r.room_id = G ("room");
        r.name = G ("name");
        r.active = true;
        Meso__V1__UpsertRoomRequest rq = MESO__V1__UPSERT_ROOM_REQUEST__INIT;
        rq.room = &r;
        rc = s_call (opts, "scheduling.UpsertRoom", &rq.base, true, &meso__v1__upsert_room_reply__descriptor, &out);
        if (rc == 0 && !json)
            printf ("room %s in %s\n", r.room_id, r.clinic_id);
    }
    else if (strcmp (sub, "plan") == 0 || strcmp (sub, "book") == 0) {
        Meso__V1__CourseSpec sp = MESO__V1__COURSE_SPEC__INIT;
        sp.clinic_id = G ("clinic");
        sp.patient_id = G ("patient");
        sp.grade = atoi (G ("grade"));
        sp.mild = meso_config_bool (opts, "mild");
        snprintf (areas_buf, sizeof areas_buf, "%s", G ("areas"));
        sp.n_areas = s_split (areas_buf, areas, 16);
        sp.areas = areas;
        sp.first_date = G ("first");
        sp.preferred_time = G ("time");
        sp.sessions = (uint32_t) atoi (G ("sessions"));
        sp.practitioner_id = G ("practitioner");
        sp.recipe_id = G ("recipe");
        if (sub[0] == 'p') {
            Meso__V1__PlanCourseRequest rq = MESO__V1__PLAN_COURSE_REQUEST__INIT;
            rq.spec = &sp;
            rc = s_call (opts, "scheduling.PlanCourse", &rq.base, false, &meso__v1__plan_course_reply__descriptor, &out);
            if (rc == 0 && !json) {
                Meso__V1__PlanCourseReply *p = (Meso__V1__PlanCourseReply *) out;
                printf ("plan for clinic %s (%s): %zu sessions%s\n", p->clinic_id, p->time_zone, p->n_sessions,
                        p->complete ? "" : " -- NOT ALL PLACED");
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
        }
        else {
            Meso__V1__BookCourseRequest rq = MESO__V1__BOOK_COURSE_REQUEST__INIT;
            rq.spec = &sp;
            rc = s_call (opts, "scheduling.BookCourse", &rq.base, true, &meso__v1__book_course_reply__descriptor, &out);
            if (rc == 0 && !json)
                s_print_course (((Meso__V1__BookCourseReply *) out)->course);
        }
    }
    else if (strcmp (sub, "course") == 0) {
        Meso__V1__GetCourseRequest rq = MESO__V1__GET_COURSE_REQUEST__INIT;
        rq.course_id = G ("course");
        rq.patient_id = G ("patient");
        rc = s_call (opts, "scheduling.GetCourse", &rq.base, false, &meso__v1__get_course_reply__descriptor, &out);
        if (rc == 0 && !json)
            for (size_t i = 0; i < ((Meso__V1__GetCourseReply *) out)->n_courses; i++)
                s_print_course (((Meso__V1__GetCourseReply *) out)->courses[i]);
    }
    else if (strcmp (sub, "reschedule") == 0 || strcmp (sub, "cancel") == 0 || strcmp (sub, "start") == 0
             || strcmp (sub, "complete") == 0 || strcmp (sub, "no-show") == 0) {
        Meso__V1__RescheduleRequest rs = MESO__V1__RESCHEDULE_REQUEST__INIT;
        Meso__V1__CancelRequest cq = MESO__V1__CANCEL_REQUEST__INIT;
        Meso__V1__SessionRef ref = MESO__V1__SESSION_REF__INIT;
        Meso__V1__CompleteSessionRequest cp = MESO__V1__COMPLETE_SESSION_REQUEST__INIT;
        const ProtobufCMessage *body = &ref.base;
        const char *method = "scheduling.StartSession";
        rs.appointment_id = cq.appointment_id = ref.appointment_id = cp.appointment_id = G ("appointment");
        if (sub[0] == 'r') {
            rs.local_start = G ("at");
            rs.practitioner_id = G ("practitioner");
            rs.room_id = G ("room");
            body = &rs.base;
            method = "scheduling.Reschedule";
        }
        else if (strcmp (sub, "cancel") == 0) {
            cq.by = strcmp (G ("by"), "clinic") == 0 ? MESO__V1__SESSION_CANCELLED__BY__BY_CLINIC
                                                     : MESO__V1__SESSION_CANCELLED__BY__BY_PATIENT;
            cq.reason = G ("reason");
            body = &cq.base;
            method = "scheduling.Cancel";
        }
        else if (strcmp (sub, "complete") == 0) {
            cp.improvement_score = atoi (G ("score"));
            body = &cp.base;
            method = "scheduling.CompleteSession";
        }
        else if (strcmp (sub, "no-show") == 0)
            method = "scheduling.MarkNoShow";
        rc = s_call (opts, method, body, true, &meso__v1__session_reply__descriptor, &out);
        if (rc == 0 && !json) {
            Meso__V1__SessionReply *s = (Meso__V1__SessionReply *) out;
            s_print_session (s->session);
            if (s->non_responder)
                printf ("  the course is flagged: no improvement after 5 sessions\n");
            if (strcmp (sub, "cancel") == 0)
                printf ("  notice %lld h%s\n", (long long) s->notice_hours, s->late ? " (late)" : "");
        }
    }
    else {
        fprintf (stderr, "mesoctl scheduling: unknown subcommand \"%s\" (see --help)\n", sub);
        return MESOCTL_USAGE;
    }
#undef G
    if (out)
        protobuf_c_message_free_unpacked (out, NULL);
    return rc;
}
