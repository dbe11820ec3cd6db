/* scheduling.h -- the scheduling daemon's state and the interface between
 * its files.
 *
 * Who owns what, in the order the files depend on each other (a file
 * calls only files below it, so no two files call each other in a
 * circle):
 *
 *   main.c       configuration, sockets, the loop
 *   handlers.c   the method table, and nothing else: it names every
 *                method, so every method file is below it
 *   clinics.c    UpsertClinic, UpsertPractitioner, UpsertRoom, GetClinic
 *   courses.c    PlanCourse, BookCourse, BookSession, GetCourse,
 *                GetAvailability
 *   course_rules.c  the course rules that need the screening and the
 *                patient's other sessions (washout, grade, validity,
 *                7 days apart, overlapping courses)
 *   retreatment.c  the timer announcing grade 1's yearly session
 *   sessions.c   Reschedule, Cancel, MarkNoShow, StartSession,
 *                CompleteSession
 *   agenda.c     GetAgenda (the front desk's day)
 *   lookups.c    ListClinics, ListPractitioners, ListRooms, ListCourses
 *   reports.c    UtilisationReport, AttendanceReport, OutcomesReport,
 *                and the per-clinic gauges of today (main.c's tick)
 *   course_changes.c  RescheduleCourse, CancelCourse (the remaining
 *                sessions of a course)
 *   course_recovery.c  a reschedule whose process died, undone
 *   saga.c       the booking saga across screening and inventory, and
 *                its recovery after a crash
 *   replan.c     new slots for sessions of a course already planned (a
 *                slot lost during a booking, a course moved from a date)
 *   reminders.c  SetFrontDeskPolicy, and the timer emitting
 *                session.reminder_due
 *   offers.c     AcceptOffer (through Reschedule or BookSession)
 *   waitlist.c   JoinWaitlist, LeaveWaitlist, ListWaitlist; a freed slot
 *                offered and held, expired offers passed on
 *   holds.c      the screening-event consumer: a reported change holds
 *                the patient's upcoming sessions, a new screening
 *                releases or cancels them
 *   frame.c      what every method shares: validation helpers, the
 *                clinic lookup, the idempotent run of a mutating method
 *   rows.c       session and course rows into messages; the BookedCourse
 *                reply (methods and the saga both answer with it)
 *   peers.c      the calls to the other services (inventory, screening)
 *   peers_frontdesk.c  the agenda's calls (screening.GetPatients,
 *                inventory.ListAtRisk), one of each per page
 *   store*.c     the SQL (store.h)
 *   planner.c    pure: course planning, slot choice and validity
 *   lifecycle.c  pure: which change a session's status allows
 *   when.c       pure: whether a time may be given to a session (past,
 *                horizon, daylight-saving gap)
 *   frontdesk.c  pure: reminders due in local time, a freed slot against
 *                a waitlist entry
 *
 * The last three are a library of their own, unit tested directly. */
#ifndef SCHEDULING_SCHEDULING_H
#define SCHEDULING_SCHEDULING_H

#include <stdbool.h>
#include <stdint.h>

#include "meso/bus.h"
#include "meso/db.h"
#include "meso/enumtext.h"
#include "meso/idem.h"
#include "meso/subscriber.h"
#include "lifecycle.h"
#include "planner.h"
#include "store.h"
#include "when.h"
#include "scheduling.pb-c.h"
#include "inventory.pb-c.h"
#include "screening.pb-c.h"

#define SCHED_SCHEMA "scheduling"

typedef struct {
    meso_db_t *db;
    meso_bus_server_t *server;
    meso_bus_client_t *screening;       /* screening.Check */
    meso_bus_client_t *inventory;       /* inventory.GetRecipe / Reserve / Redate / Release */
    int call_deadline_ms;
    int pause_at;                       /* test only: saga step to stop at (0: none) */
    char pause_file[512];               /* test only: created when paused */
    int64_t next_recovery_ms;
    meso_consumer_t *consumer;          /* screening events (holds.c); NULL: not consumed */
    uint64_t holds_applied;             /* events that held, released or cancelled sessions */
    int retreatment_every_ms;           /* how often to look for grade 1 courses due */
    int retreatment_notice_days;        /* announce this many days before due */
    int64_t next_retreatment_ms;
    int gauges_every_ms;                /* how often the clinic gauges are refreshed */
    int64_t next_gauges_ms;
    int frontdesk_every_ms;             /* how often reminders and offer holds are looked at */
    int64_t next_frontdesk_ms;
    int offer_hold_s;                   /* a waitlist offer's hold when the clinic set none */
} scheduling_t;

/* One session to book (a planned slot). */
typedef struct {
    char appointment_id[40];
    char practitioner_id[SCHED_ID_MAX + 1];
    char room_id[SCHED_ID_MAX + 1];
    int64_t starts_us;
    int64_t ends_us;
    char local_start[20];               /* "YYYY-MM-DDTHH:MM" */
    char local_date[11];
    int session_number;
    bool maintenance;
} sched_slot_t;

/* A booking for the saga: one course of n slots. */
typedef struct {
    const Meso__V1__Request *req;       /* for the idempotency key and stored reply */
    store_clinic_t clinic;
    const char *patient_id;
    int grade;
    bool mild;
    char **areas;
    size_t n_areas;
    const char *recipe_id;
    sched_slot_t *slots;
    int n;
    const char *requested_first;        /* BookCourse: the first date asked (NULL: none kept) */
    const char *first_note;             /* why the course starts later ("" none) */
    /* BookCourse: sessions re-planned because their slot was taken
     * between the plan and the insert (replan.c), with where they had
     * been planned. */
    int n_moved;
    struct {
        int index;
        int64_t original_us;
        char original_local[20];
    } moved[PLANNER_MAX_SESSIONS];
} sched_booking_t;

/* What the course rules know of the patient's current screening
 * (screening.GetScreening). known false: no screening (Check refuses the
 * booking in its own words). */
typedef struct {
    bool known;
    char screening_id[40];
    int grade;                          /* the screening's worst grade */
    int32_t valid_until;                /* civil day */
    int32_t earliest;                   /* earliest first session, INT32_MIN none */
} sched_screening_t;

/* The patient's other sessions as course_rules reads them. */
#define SCHED_PATIENT_GAP_DAYS 7        /* at least a week between two sessions of a patient */
#define SCHED_MAX_TAKEN 300             /* > 5 years of weekly sessions */

typedef struct {
    sched_screening_t screening;
    int32_t asked;                      /* spec.first_date */
    int32_t first;                      /* the first day planned (the washout applied) */
    char note[200];                     /* why first > asked, "" when equal */
    int32_t taken[SCHED_MAX_TAKEN];     /* the patient's active session days, any course */
    int ntaken;
} sched_course_facts_t;

/* ---- handlers.c ---- */
extern const meso_method_t scheduling_methods[];

/* ---- the methods (meso_handler_fn): clinics.c, courses.c, sessions.c ---- */
void clinics_upsert_clinic (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);
void clinics_upsert_practitioner (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);
void clinics_upsert_room (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);
void clinics_get_clinic (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);

void courses_plan (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);
void courses_book (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);
void courses_book_session (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);
void courses_get (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);
void courses_availability (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);
/* export.c */
void export_patient (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);

void sessions_reschedule (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);
void sessions_cancel (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);
void sessions_no_show (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);
void sessions_start (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);
void sessions_complete (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);

void reports_utilisation (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);
void reports_attendance (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);
void reports_outcomes (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);

void agenda_get (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);
void lookups_list_clinics (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);
void lookups_list_practitioners (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);
void lookups_list_rooms (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);
void lookups_list_courses (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);
/* Sets the gauges meso_clinic_sessions_booked_today and
 * meso_clinic_sessions_completed_today of every clinic. Returns the
 * clinics covered, or -1. */
int reports_gauges (scheduling_t *self);

/* ---- course_rules.c ---- */

/* Reads what the rules need before a course is planned: the screening
 * (washout moves f->first and words f->note) and the patient's session
 * days. 0, or -1 (reply set). */
int course_rules_facts (scheduling_t *self, const store_clinic_t *clinic, const Meso__V1__CourseSpec *sp,
                        sched_course_facts_t *f, meso_reply_t *reply);
/* The booking's own rules once planned (days[0..n) the sessions' local
 * days): the screening's grade, its validity on every day, and no overlap
 * with another active course unless the clinic allows it. 0, or -1 with
 * the refusal in reply. */
int course_rules_booking (scheduling_t *self, const store_clinic_t *clinic, const Meso__V1__CourseSpec *sp,
                          const sched_course_facts_t *f, const int32_t *days, int n, meso_reply_t *reply);
/* Whether local_day is at least a week from every other active session
 * of the patient (except_appointment excluded, NULL none): 0 yes, 1 no
 * (refusal in reply, reason "too_close" on field), -1 error (reply set). */
int course_rules_apart (meso_db_t *db, const char *patient_id, const char *except_appointment,
                        int32_t local_day, const char *field, meso_reply_t *reply);

/* ---- retreatment.c ---- */

/* Emits session.retreatment_due, once per course, for every grade 1
 * course whose next yearly session falls due (within the notice). Returns
 * the number announced, -1 on error. */
int retreatment_announce (scheduling_t *self, int limit);

/* ---- saga.c ---- */

/* Runs the booking saga for b (slots planned, appointment ids unset) and
 * fills reply (BookCourseReply or the refusal). */
void saga_book (scheduling_t *self, sched_booking_t *b, meso_reply_t *reply);
/* Step 0 of the saga on its own: true when the request's idempotency key
 * already has an answer (the stored reply, a refusal of a reused key, or
 * "still in progress") and reply holds it. The booking methods ask first,
 * so a retry is answered before the course rules look at the patient's
 * sessions -- the booking being retried is one of them. */
bool saga_replayed (scheduling_t *self, const Meso__V1__Request *req, meso_reply_t *reply);
/* Finishes or undoes every pending course whose saga has no live owner.
 * Returns the number handled, -1 on error. */
int saga_recover (scheduling_t *self);
/* Test-only pause point (MESO_SCHEDULING_TEST_PAUSE_AT). */
void saga_pause_point (scheduling_t *self, int step);
/* Test-only wait point (MESO_SCHEDULING_TEST_WAIT_FILE): creates the file
 * and waits until it is removed (at most 30 s). */
void saga_wait_point (void);

/* ---- holds.c ---- */

/* meso_consumer_fn of the screening stream (arg: the scheduling_t). */
int holds_on_event (meso_db_t *db, const Meso__V1__Event *ev, void *arg);

/* ---- frame.c ----
 *
 * Validation collects: each sched_need_* / sched_bad adds a reason naming
 * the field and counts it in *bad; the first sets the INVALID_ARGUMENT
 * error "<field>: <message>". These texts are the scheduling methods' own
 * (meso/handler.h words its replies differently) and stay as they are. */

/* Every mutating method's effect runs through meso_idem_run (idem.h). */
typedef meso_idem_job_t sched_job_t;

/* A code: 1..SCHED_ID_MAX characters of a-z, 0-9, '_' or '-'. */
bool sched_code_ok (const char *s);
void sched_bad (meso_reply_t *reply, int *bad, const char *code, const char *field, const char *msg);
/* Present ("missing_field", "required"). */
void sched_need (meso_reply_t *reply, int *bad, const char *field, const char *value);
/* Present and a code ("invalid_id"). */
void sched_need_id (meso_reply_t *reply, int *bad, const char *field, const char *value);
/* Every string of every request has a limit, checked before any database
 * work (the schema's CHECKs are the last line, not the first): names
 * SCHED_NAME_MAX bytes, ids and time zones SCHED_ID_MAX, free texts their
 * own (reasons, notes). */
#define SCHED_NAME_MAX 200
/* Absent or at most max bytes ("too_long"). */
void sched_text_max (meso_reply_t *reply, int *bad, const char *field, const char *value, size_t max);
/* Present ("missing_field") and at most max bytes ("too_long"). */
void sched_need_text (meso_reply_t *reply, int *bad, const char *field, const char *value, size_t max);
/* A patient, appointment or course id: present, at most SCHED_ID_MAX
 * bytes (any bytes: they are other services' or generated). */
void sched_need_ref (meso_reply_t *reply, int *bad, const char *field, const char *value);
/* Every area a code ("invalid_area") and listed once ("duplicate"), named
 * "<field>[i]". */
void sched_check_areas (meso_reply_t *reply, int *bad, const char *field, char **areas, size_t n);
/* Whether items[i] equals one of items[0..i). */
bool sched_listed_before (char *const *items, size_t i);
/* Loads the clinic for a method that reads it: 0, or -1 with reply set
 * (the database error, or NOT_FOUND "no clinic <id>" with the reason
 * "unknown_clinic" on field). */
int sched_clinic_load (scheduling_t *self, const char *clinic_id, const char *field, store_clinic_t *out,
                       meso_reply_t *reply);
/* The one check of a time given to a session (BookSession, Reschedule,
 * the first date of PlanCourse / BookCourse): when_verdict on f, whose
 * today and now are set here from the clinic c. 0, or -1 with reply set
 * (INVALID_ARGUMENT: the reason when_code on field, value named). */
int sched_check_when (meso_reply_t *reply, const store_clinic_t *c, const char *field, const char *value,
                      when_facts_t *f);
/* The clinic scope of a method about one appointment (MESO_SCOPE_HANDLER):
 * 0 when the caller may act in the appointment's clinic, or when no
 * appointment has this id (the method answers NOT_FOUND itself); -1 with
 * reply set to PERMISSION_DENIED "out_of_scope" on field, or the database
 * error. An appointment never changes clinic, so this runs before the
 * method's transaction: a retry replaying a stored reply is checked too. */
int sched_scope_appointment (scheduling_t *self, const char *appointment_id, const char *field,
                             meso_reply_t *reply);
/* Runs effect in one transaction under the request's idempotency key. */
void sched_run (scheduling_t *self, const Meso__V1__Request *req, meso_reply_t *reply, void *in,
                meso_idem_effect_fn *effect);

/* ---- rows.c ---- */

/* Splits "a,b" in place into out; returns the count. */
size_t rows_split (char *text, char **out, size_t max);
/* Fills a Session / SessionInfo from row i of a session result (strings
 * point into res, whose areas text is split in place: one use per
 * result). areas receives the split areas (at least SCHED_MAX_AREAS
 * pointers). */
void rows_session (const PGresult *res, int i, Meso__V1__Session *s, char **areas);
void rows_info (const PGresult *res, int i, Meso__V1__SessionInfo *s, char **areas);
/* Reads the BookedCourse of course_id into reply (OK). 0 or -1 (reply set). */
int rows_reply_course (meso_db_t *db, const char *course_id, meso_reply_t *reply);
/* The same from the results of store_course_read (left to the caller). */
int rows_reply_course_read (PGresult *const r[3], const char *course_id, meso_reply_t *reply);

/* ---- peers.c ---- */

#define SCHED_MAX_INGREDIENTS 64

/* A recipe as inventory.GetRecipe gave it: the version and the codes of
 * the ingredients a session over the areas asked needs. */
typedef struct {
    uint32_t version;
    int n;
    char codes[SCHED_MAX_INGREDIENTS][SCHED_ID_MAX + 1];
    char *ingredients[SCHED_MAX_INGREDIENTS];   /* point into codes */
} sched_recipe_t;

/* One appointment's stock, as inventory.Reserve wants it. */
typedef struct {
    char appointment_id[40];
    char clinic_id[SCHED_ID_MAX + 1];
    char patient_id[SCHED_ID_MAX + 1];
    char date[11];
    char recipe_id[SCHED_ID_MAX + 1];
    int recipe_version;
    char areas[SCHED_MAX_AREAS * (SCHED_ID_MAX + 1)];   /* "a,b" */
} sched_reservation_t;

/* Copies a remote refusal into reply: its status, message ("<who>:
 * <message>"), detail and reasons. */
void peers_copy_refusal (meso_reply_t *reply, const meso_result_t *r, const char *who);
/* Asks inventory for recipe_id (version 0: the latest) over areas. The
 * recipes are inventory's: scheduling never reads its tables. 0, or -1
 * with reply set (inventory's refusal, or why it could not be asked). */
int peers_recipe (scheduling_t *self, const char *recipe_id, uint32_t version, char *const *areas,
                  size_t n_areas, sched_recipe_t *out, meso_reply_t *reply);
/* The treatment every session scheduling books is (the chain's one
 * treatment): screening.Check asks for the patient's signed consent to
 * it at the session's clinic. */
#define SCHED_TREATMENT "body_mesotherapy"

/* screening.Check of the patient for the recipe's ingredients on date,
 * and of the consent to SCHED_TREATMENT at clinic_id: any signed version
 * to start a session, the clinic's current one when new_course (a
 * booking: new versions apply to new courses). 0 allowed; else the
 * answer (or its absence) is in *r for the caller to word. The caller
 * resets r either way. */
int peers_check (scheduling_t *self, const char *patient_id, const sched_recipe_t *recipe,
                 const char *date, const char *clinic_id, bool new_course, meso_result_t *r);
/* inventory.Redate: moves the appointment's reservation to date
 * ("YYYY-MM-DD"), swapping lots that expire before it. 0 moved; 1
 * refused (reply set, nothing changed at inventory); -1 no answer (reply
 * set; inventory may or may not have moved it). */
int peers_redate (scheduling_t *self, const char *clinic_id, const char *appointment_id,
                  const char *date, const char *reason, meso_reply_t *reply);
/* screening.GetScreening of the patient into out: 0 (out->known false
 * when the patient has no screening or is unknown there), -1 with reply
 * set when screening could not answer. */
int peers_screening (scheduling_t *self, const char *patient_id, sched_screening_t *out, meso_reply_t *reply);
/* inventory.Reserve (idempotent by appointment): 0 reserved; 1 refused
 * (reply set); -1 unreachable (reply set). */
int peers_reserve (scheduling_t *self, const sched_reservation_t *x, meso_reply_t *reply);
/* inventory.Release: 0 released (or nothing to release); -1 unreachable
 * or refused (logged). */
int peers_release (scheduling_t *self, const char *clinic_id, const char *appointment_id);
/* inventory.CheckHold: whether the appointment's stock hold is complete
 * and valid (held, not at risk, no recalled or expired lot, the recipe in
 * full). 0 good; -1 with reply set: FAILED_PRECONDITION naming each
 * ingredient at fault (reason "stock_hold", field the ingredient), or
 * inventory's refusal / UNAVAILABLE. */
int peers_check_hold (scheduling_t *self, const char *clinic_id, const char *appointment_id,
                      meso_reply_t *reply);
/* screening.GetInstructions of the patient: the unpacked reply (the caller
 * frees it; empty when screening does not know the patient), or NULL when
 * screening refused or did not answer (logged; *unreachable true for no
 * answer at all). */
Meso__V1__GetInstructionsReply *peers_instructions (scheduling_t *self, const char *patient_id,
                                                    bool *unreachable);

/* ---- replan.c ---- */

/* Re-plans session i of a booking whose slot was taken: the nearest free
 * slot to its time on its day or the next PLANNER_SEARCH_DAYS days, keeping
 * the clinic's spacing to sessions i-1 and i+1 of the plan and a week from
 * the patient's other sessions; the preferred practitioner is its own.
 * 0 re-planned (b->slots[i] moved, id and number kept), 1 nothing free, -1
 * error (the connection's). */
int replan_session (scheduling_t *self, sched_booking_t *b, int i);
/* Plans slots[0..n) (session_number and maintenance set, in order) of a
 * course of ncourse course sessions from day from, the first at least the
 * spacing after prev_done (INT32_MIN none): each later one at its gap
 * (planner_gaps; a month for maintenance) after the one before, a week
 * from taken[0..ntaken). 0 every slot placed; 1 slots[*unplaced] has no
 * free slot; -1 error (the connection's). */
int replan_course (scheduling_t *self, const store_clinic_t *clinic, const char *patient_id,
                   const char *practitioner_id, int preferred, int32_t from, int32_t prev_done, int ncourse,
                   const int32_t *taken, int ntaken, sched_slot_t *slots, int n, int *unplaced);

/* ---- course_changes.c ---- */

void course_changes_reschedule (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);
void course_changes_cancel (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);
/* ---- course_recovery.c ---- */

/* Undoes every RescheduleCourse left pending by a process that died (its
 * stock dates put back). Returns the number undone, -1 on error. */
int course_changes_recover (scheduling_t *self);

/* ---- reminders.c ---- */

void reminders_set_policy (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);
/* Emits the session.reminder_due that fell due (at most limit sessions
 * looked at). Returns the number sent, -1 on error. */
int reminders_tick (scheduling_t *self, int limit);

/* ---- waitlist.c, offers.c ---- */

void waitlist_join (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);
void waitlist_leave (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);
void waitlist_list (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);
void offers_accept (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg);
/* In the transaction that freed it: offers the slot of appointment_id
 * (prev: the slot it left, NULL: its own, cancelled) to the first waiting
 * entry it suits, with a hold and session.slot_offered. 0 (offered or
 * not), -1 error. */
int waitlist_offer_freed (scheduling_t *self, meso_db_t *db, const char *appointment_id, const sched_slot_t *prev);
/* The same for a slot given by its parts: 1 offered, 0 nobody / not free,
 * -1 error. */
int waitlist_offer_slot (scheduling_t *self, meso_db_t *db, const char *clinic_id, const char *practitioner,
                         const char *room, int64_t start_us, int64_t end_us, const char *freed_appointment,
                         const char *freed_patient);
/* Closes offers whose hold ended and passes each slot on. Returns the
 * number closed, -1 on error. */
int waitlist_expire (scheduling_t *self, int limit);

/* ---- peers_frontdesk.c ---- */

/* screening.GetPatients of ids[0..n) for clinic_id on date: the reply
 * (the caller frees it), or NULL with why. */
Meso__V1__GetPatientsReply *peers_patients (scheduling_t *self, const char *clinic_id, const char *date,
                                            char **ids, size_t n, char *why, size_t why_size);
/* inventory.ListAtRisk of clinic_id from from_date: the reply (the caller
 * frees it), or NULL with why. */
Meso__V1__ListAtRiskReply *peers_at_risk (scheduling_t *self, const char *clinic_id, const char *from_date,
                                          char *why, size_t why_size);

#endif
