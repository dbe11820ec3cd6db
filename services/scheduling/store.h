/* store.h -- the SQL of the scheduling schema, and only that: the
 * interface of the store files, one per aggregate.
 *
 *   store_clinics.c   clinics, their hours, practitioners, rooms, and the
 *                     one-day slot queries (GetAvailability, a slot asked
 *                     for by hand)
 *   store_calendar.c  a clinic's calendar for the slot search of a plan
 *   store_sessions.c  session (appointment) and course rows, and the
 *                     changes of a booked session
 *   store_saga.c      the booking saga's rows: its lock, the pending
 *                     course and appointments, undo, the final commit,
 *                     recovery's view
 *   store_holds.c     sessions held after a reported change, released or
 *                     cancelled by a new screening
 *   store_reports.c   the reports (utilisation, attendance, outcomes) and
 *                     the per-clinic figures of today for the gauges
 *   store_course_changes.c  whole-course changes and sessions re-planned
 *                     during a booking
 *   store_agenda.c    the front desk's reads: the agenda, the lists of
 *                     clinics, practitioners and rooms
 *
 * No SQL text lives anywhere else in the service. The store files call
 * nothing of the service but planner.c (pure) and their own functions:
 * every other file may call them, they call no other file back.
 * store_sql.h holds the few SQL fragments they share.
 * Errors are the connection's (meso_db_error); a function that returns a
 * PGresult hands it to the caller, who PQclears it. */
#ifndef SCHEDULING_STORE_H
#define SCHEDULING_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meso/db.h"
#include "planner.h"
#include "when.h"
#include "scheduling.pb-c.h"

#define SCHED_ID_MAX 64
#define SCHED_MAX_AREAS 16

/* A clinic row. */
typedef struct {
    char clinic_id[SCHED_ID_MAX + 1];
    char name[804];
    char time_zone[65];
    int slot_minutes;
    planner_settings_t course;
    int cancel_notice_hours;
    bool allow_overlapping_courses;     /* a second course may overlap an active one */
    int32_t today;                      /* the clinic's local date when read (civil day) */
    int64_t now_us;                     /* the database's now() when read */
} store_clinic_t;

/* ---- store_clinics.c ---- */

int store_clinic_get (meso_db_t *db, const char *clinic_id, store_clinic_t *out);
/* Inserts or replaces the clinic and its hours. 1 created, 0 updated, -1. */
int store_clinic_upsert (meso_db_t *db, const Meso__V1__Clinic *c);
/* 1 when PostgreSQL knows the zone, 0 not, -1 error. */
int store_zone_known (meso_db_t *db, const char *zone);
/* The clinic's hours as a result: isodow, opens "HH:MM", closes. */
PGresult *store_clinic_hours (meso_db_t *db, const char *clinic_id);

/* Inserts or updates the practitioner, replaces the hours of the clinics
 * listed (of every clinic unless keep_other_clinics) and the days off
 * (adds them when keep_days_off). 1 created, 0 updated, -1. */
int store_practitioner_upsert (meso_db_t *db, const Meso__V1__Practitioner *p, bool keep_other_clinics,
                               bool keep_days_off);
/* Locks the practitioner's row (when there is one) and returns the clinics
 * it has working hours in (one column, clinic_id); NULL on error. */
PGresult *store_practitioner_clinics (meso_db_t *db, const char *practitioner_id);
int store_room_upsert (meso_db_t *db, const Meso__V1__Room *r, bool *active);

/* Free slots of a clinic on a local day: columns minute, start_us, end_us,
 * practitioner_id, room_id, local_start, exists ("t" when the local start
 * reads back as itself: "f" inside a daylight-saving gap). prefer: a practitioner tried
 * first ("" none); only: keep to prefer. patient: whose own appointments
 * must not overlap ("" none). */
PGresult *store_free_slots (meso_db_t *db, const char *clinic_id, const char *date,
                            const char *prefer, bool only, const char *patient);

/* What the schema says of a practitioner/room taking [local start, +
 * minutes) in the clinic (planner_slot_verdict judges it), and the UTC
 * instants of the slot (an ambiguous local time is its first occurrence:
 * scheduling.local_instant). when gets the instant, whether the local
 * start exists in the clinic's zone (it reads back as itself) and, when
 * not, the gap it falls in (when_verdict judges it); its other fields
 * are left as they are. 0 or -1. */
int store_slot_facts (meso_db_t *db, const store_clinic_t *c, const char *practitioner,
                      const char *room, const char *local_start, int minutes,
                      int64_t *start_us, int64_t *end_us, planner_slot_facts_t *facts,
                      when_facts_t *when);

/* ---- store_calendar.c ----
 *
 * A clinic's calendar for the slot search of PlanCourse / BookCourse:
 * loaded in a few statements, searched in memory by planner.c. new loads
 * what does not depend on the day (the clinic's hours, its practitioners'
 * hours and days off over [first, first + ndays), its active rooms) and
 * days[0..n) in one statement; load fetches days (civil days; those outside the range or loaded
 * already are skipped) in one statement: each day's local midnight as an
 * instant (PostgreSQL's zone arithmetic), the instants of the slot starts
 * on a day with a clock change, and every active appointment overlapping
 * the day (or the window of it around the preferred time) of the clinic's
 * rooms, its practitioners (in any clinic) and the patient (in any
 * clinic). Practitioners and rooms are indexed in id order. */
typedef struct store_calendar_t store_calendar_t;

store_calendar_t *store_calendar_new (meso_db_t *db, const store_clinic_t *c, const char *patient,
                                      int preferred, int32_t first, int ndays, const int32_t *days, int n);
void store_calendar_destroy (store_calendar_t **self_p);
int store_calendar_load (store_calendar_t *self, const int32_t *days, int n);
bool store_calendar_loaded (const store_calendar_t *self, int32_t day);
/* The free slots of a loaded day that can be nearest to the preferred
 * time (minutes) given to new: the day's slots nearest to it are loaded
 * first (a window), the whole day only when the window cannot prove which
 * free slot is nearest (earliest on a tie). The nearest of those returned
 * is the nearest of planner_free_slots over the whole day. prefer: a
 * practitioner index or -1. Returns the count or -1 (error set). */
int store_calendar_free_slots (store_calendar_t *self, int32_t day, int prefer, planner_free_t *out, int max);
/* Index of a practitioner id (-1 not one of the clinic's), and the ids. */
int store_calendar_practitioner (const store_calendar_t *self, const char *id);
const char *store_calendar_practitioner_id (const store_calendar_t *self, int index);
const char *store_calendar_room_id (const store_calendar_t *self, int index);

/* ---- store_sessions.c ---- */

/* Columns of a session row (store_session_* results), in this order. */
enum {
    SC_APPT, SC_COURSE, SC_PATIENT, SC_CLINIC, SC_PRACT, SC_ROOM, SC_START, SC_END,
    SC_LOCAL, SC_TZ, SC_NUMBER, SC_MAINT, SC_STATUS, SC_SCORE, SC_AREAS, SC_RECIPE,
    SC_RECIPE_VERSION, SC_COURSE_SESSIONS, SC_LOCAL_DATE, SC_NOTICE_H, SC_POLICY_H
};

/* Session rows (columns SC_*). */
PGresult *store_session_get (meso_db_t *db, const char *appointment_id, bool lock);
PGresult *store_course_sessions (meso_db_t *db, const char *course_id);

/* A course row: course_id, clinic_id, patient_id, grade, areas "a,b",
 * recipe_id, recipe_version, status, non_responder. */
PGresult *store_course_get (meso_db_t *db, const char *course_id);
/* Course ids and their clinics (course_id, clinic_id, created_at in
 * microseconds): the course (by_course) or the patient's courses that did
 * not fail, oldest first, after the position (created_at in microseconds,
 * course_id; NULL, NULL: from the oldest). */
PGresult *store_course_ids (meso_db_t *db, bool by_course, const char *id, const char *after_us,
                            const char *after_id);
/* Every course of a patient, failed bookings included (the export):
 * course_id, clinic_id; oldest first. */
PGresult *store_export_courses (meso_db_t *db, const char *patient_id);

/* The local dates (civil days) of the active sessions of the course just
 * before and after session number (INT32_MIN / INT32_MAX: none), in
 * zone. 0 or -1. */
int store_course_neighbours (meso_db_t *db, const char *course_id, const char *number,
                             const char *zone, int32_t *prev, int32_t *next);
/* Locks the course row (FOR UPDATE). 0 or -1. */
int store_course_lock (meso_db_t *db, const char *course_id);
/* The improvement scores of the course's completed sessions in session
 * order, at most max. Returns the count or -1. */
int store_course_scores (meso_db_t *db, const char *course_id, int *scores, int max);
int store_course_flag_non_responder (meso_db_t *db, const char *course_id);

/* The changes of a session: one statement each, 0 or -1. */
int store_session_move (meso_db_t *db, const char *appointment_id, const char *practitioner,
                        const char *room, int64_t start_us, int64_t end_us);
/* late: inside the clinic's notice (kept for the reports, migration 019). */
int store_session_cancel (meso_db_t *db, const char *appointment_id, const char *by, const char *reason,
                          bool late);
int store_session_no_show (meso_db_t *db, const char *appointment_id);
int store_session_start (meso_db_t *db, const char *appointment_id);
int store_session_complete (meso_db_t *db, const char *appointment_id, int score, const char *notes);

/* ---- store_courses.c ---- */

/* The local days (civil) of the patient's active sessions from 8 days
 * ago on, every course and clinic, except_appointment excluded (NULL
 * none), sorted; at most max. Returns the count or -1. */
int store_patient_days (meso_db_t *db, const char *patient_id, const char *except_appointment, int32_t *out,
                        int max);
/* The patient's active courses of more than one session (a session still
 * to come): course_id, first day, last day (civil days). */
PGresult *store_patient_courses (meso_db_t *db, const char *patient_id);
/* Keeps the first date a booking asked for ("YYYY-MM-DD") and the note
 * saying why it starts later. 0 or -1. */
int store_course_note (meso_db_t *db, const char *course_id, const char *requested_first, const char *note);
/* Booked grade 1 courses not yet announced whose last completed session
 * is a year ago, less notice_days: course_id, clinic_id, patient_id, last
 * session day, the clinic's today (civil days). */
PGresult *store_retreatment_candidates (meso_db_t *db, int notice_days, int limit);
/* Marks the course announced: 1 done, 0 it already was, -1. */
int store_retreatment_mark (meso_db_t *db, const char *course_id);

/* ---- store_saga.c ---- */

/* The saga's session advisory lock on a course: held by the process
 * running its booking. lock waits (try_only: does not); 1 got, 0 not, -1. */
int store_saga_lock (meso_db_t *db, const char *course_id, bool try_only);
void store_saga_unlock (meso_db_t *db, const char *course_id);

/* The idempotency key's state for a booking: columns method, hash
 * matches, reply is null, reply, pending course_id (see saga.c s_replay).
 * hash_in: method '\0' body, hlen bytes. */
PGresult *store_saga_replay (meso_db_t *db, const char *key, const char *hash_in, size_t hlen);

/* The pending course row (with the request, so recovery can store the
 * reply under its key) and one pending appointment of it. areas: "{a,b}"
 * (store_array_literal). -1 with the connection's error (23505: a course
 * with this key exists; 23P01: a double booking). */
typedef struct {
    const char *clinic_id, *course_id, *patient_id;
    int grade;
    bool mild;
    const char *areas, *recipe_id;
    int recipe_version;
    int sessions;
    const char *idem_key;               /* NULL: none */
    const char *method;
    const uint8_t *request;
    size_t request_len;
} store_saga_course_t;

typedef struct {
    const char *appointment_id, *practitioner_id, *room_id;
    int64_t start_us, end_us;
    int number;
    bool maintenance;
} store_saga_appointment_t;

int store_saga_insert_course (meso_db_t *db, const store_saga_course_t *c);
int store_saga_insert_appointment (meso_db_t *db, const store_saga_course_t *c,
                                   const store_saga_appointment_t *a);

/* The pending appointments of a course: appointment_id, clinic_id,
 * patient_id, local date, recipe_id, recipe_version, areas "a,b". */
PGresult *store_saga_pending (meso_db_t *db, const char *course_id);
/* Deletes the pending appointments and marks the course failed. 0 or -1. */
int store_saga_undo (meso_db_t *db, const char *course_id, const char *why);
/* Marks the pending course and its appointments booked: 1 done, 0 the
 * course was no longer pending, -1. */
int store_saga_confirm (meso_db_t *db, const char *course_id);
/* The course's status, idem_key, method, request (bytea text). */
PGresult *store_saga_course (meso_db_t *db, const char *course_id);
/* Up to 100 pending course ids, oldest first. */
PGresult *store_saga_pending_courses (meso_db_t *db);
/* Pending courses (sagas not finished) and the age in seconds of the
 * oldest (0 when none). 0 or -1. */
int store_saga_pending_stats (meso_db_t *db, int64_t *count, double *oldest_s);

/* ---- store_holds.c ----
 *
 * One statement each over all the patient's sessions (every clinic);
 * each returns the appointment ids it changed (one column), in start
 * order. hold: booked sessions starting at or after since_us go on_hold,
 * remembering the instant and the event id. release: on_hold back to
 * booked. cancel: on_hold to cancelled by the system, with reason. */
PGresult *store_hold_sessions (meso_db_t *db, const char *patient_id, int64_t since_us, const char *event_id);
PGresult *store_hold_release (meso_db_t *db, const char *patient_id);
PGresult *store_hold_cancel (meso_db_t *db, const char *patient_id, const char *reason);

/* "{a,b}" of codes (validated [a-z0-9_-]). */
void store_array_literal (char *out, size_t size, char *const *items, size_t n);

/* ---- store_reports.c ----
 *
 * One clinic over its local days [from, to] ("YYYY-MM-DD"). */

/* Utilisation by practitioner and ISO week: practitioner_id, the week's
 * Monday (civil day), available minutes, booked minutes; by week then
 * practitioner. practitioner "" for all. */
PGresult *store_report_utilisation (meso_db_t *db, const char *clinic, const char *from, const char *to,
                                    const char *practitioner);
/* By practitioner: practitioner_id, attended, no-shows, late cancels,
 * other cancels, open (booked or on hold). */
PGresult *store_report_attendance (meso_db_t *db, const char *clinic, const char *from, const char *to);
/* Grades 1..3: grade, courses starting in the range, evaluable (5 or
 * more recorded outcomes), non-responders, completed sessions, recorded
 * outcomes. */
PGresult *store_report_outcomes (meso_db_t *db, const char *clinic, const char *from, const char *to);
/* Every clinic (at most limit, by id): clinic_id, sessions on its local
 * today's schedule (not cancelled), of which completed. */
PGresult *store_report_today (meso_db_t *db, int limit);

/* ---- sealed.c: clinical free text under the patient's data key ---- */

#define SCHED_NOTES_COLUMN "scheduling.appointment.notes_sealed"
#define SCHED_REASON_COLUMN "scheduling.appointment.cancel_reason_sealed"
enum { SCHED_SEAL_PLAIN = 0, SCHED_SEAL_SEALED = 1, SCHED_SEAL_NONE = 2 };
/* Seals text for patient_id under its data key: SCHED_SEAL_SEALED with
 * *out (free()) and *len; SCHED_SEAL_PLAIN when the patient has no key
 * (keep the plaintext column); SCHED_SEAL_NONE when it was erased (store
 * nothing); -1 with the db error set. */
int sched_seal (meso_db_t *db, const char *patient_id, const char *column, const char *text,
                uint8_t **out, size_t *len);
/* Seals the texts of sessions written before migration 024, one per
 * transaction. Returns how many, -1 on error (logged). */
long sched_seal_legacy (meso_db_t *db);

/* ---- store_sealed.c ---- */

/* Ids of sessions after `after` with a plaintext note or a person's
 * cancellation reason, at most limit. */
PGresult *store_sealed_legacy (meso_db_t *db, const char *after, int limit);
/* One session's appointment_id, patient_id, notes, cancellation reason
 * (NULL: none to seal). */
PGresult *store_sealed_row (meso_db_t *db, const char *appointment_id);
/* Sets the plaintext and sealed forms of the texts marked set. 0 or -1. */
int store_sealed_texts (meso_db_t *db, const char *appointment_id, const char *notes,
                        const uint8_t *notes_sealed, size_t nlen, bool notes_set, const char *reason,
                        const uint8_t *reason_sealed, size_t rlen, bool reason_set);
/* ---- store_course_changes.c ----
 *
 * Whole-course changes (migration 031). */

/* Locks the course's remaining sessions (booked or on hold, starting
 * after now), in session order. 0 or -1. */
int store_course_lock_remaining (meso_db_t *db, const char *course_id);
/* store_patient_days without the course's remaining sessions (they are
 * the ones moving). Returns the count or -1. */
int store_patient_days_except_course (meso_db_t *db, const char *patient_id, const char *course_id, int32_t *out,
                                      int max);
/* A pending change and one item of it (dates "YYYY-MM-DD"). 0 or -1. */
int store_change_insert (meso_db_t *db, const char *clinic_id, const char *change_id, const char *course_id);
int store_change_item (meso_db_t *db, const char *clinic_id, const char *change_id, const char *appointment_id,
                       const char *old_date, const char *new_date);
/* Marks a pending change done (or undone): 1 it was pending, 0 not, -1. */
int store_change_finish (meso_db_t *db, const char *change_id, bool done);
/* Pending change ids (at most 100, oldest first). */
PGresult *store_change_pending (meso_db_t *db);
/* The items of a pending change: appointment_id, clinic_id, old_date. */
PGresult *store_change_items (meso_db_t *db, const char *change_id);
/* A session re-planned during BookCourse: where it had been planned. */
int store_replanned_insert (meso_db_t *db, const char *clinic_id, const char *course_id, int number,
                            const char *appointment_id, int64_t original_us, const char *original_local);
/* The course's re-planned sessions: session_number, appointment_id,
 * original start (us), original local start. */
PGresult *store_replanned_get (meso_db_t *db, const char *course_id);

/* Frees the course's remaining booked sessions (status 'cancelled' until
 * store_session_place puts each back, in the same transaction). Returns
 * how many, or -1. */
int store_course_free_remaining (meso_db_t *db, const char *course_id);
/* A freed session booked again at its new slot. 0 or -1 (23P01: taken). */
int store_session_place (meso_db_t *db, const char *appointment_id, const char *practitioner, const char *room,
                         int64_t start_us, int64_t end_us);

/* ---- store_frontdesk.c ---- (migration 032) */

/* The clinic's reminder leads ("2880,120") and offer hold (0: none set).
 * 1 found, 0 no clinic, -1. */
int store_frontdesk_policy_get (meso_db_t *db, const char *clinic_id, char *leads, size_t size, int *hold_minutes);
/* leads "{2880,120}"; hold 0: none. 0 or -1. */
int store_frontdesk_policy_set (meso_db_t *db, const char *clinic_id, const char *leads, int hold_minutes);
/* Booked sessions with a reminder lead due and not decided, soonest
 * first: appointment_id, clinic_id, patient_id, local start, the clinic's
 * local now, leads "a,b", decided leads "a,b", start (us). */
PGresult *store_reminder_candidates (meso_db_t *db, int limit);
/* Records a reminder decided (sent or superseded): 1 recorded, 0 it was
 * already, -1. */
int store_reminder_decide (meso_db_t *db, const char *clinic_id, const char *appointment_id, int lead,
                           int64_t starts_us, bool sent);
/* The clinic's, practitioner's and room's names of an appointment. */
PGresult *store_reminder_names (meso_db_t *db, const char *appointment_id);

/* ---- store_waitlist.c ---- (migration 032) */

/* Columns of a waitlist entry row (store_waitlist_get / _list), with its
 * open offer ("" / 0 when none). */
enum {
    W_ENTRY, W_CLINIC, W_PATIENT, W_PRACT, W_FROM, W_TO, W_AREAS, W_RECIPE, W_APPT, W_STATUS, W_CREATED,
    W_SEQ, W_OFFER, W_O_PRACT, W_O_ROOM, W_O_LOCAL, W_O_START, W_O_END, W_O_EXPIRES, W_O_STATUS
};
/* areas "{a,b}"; practitioner and appointment NULL or "" for none. */
int store_waitlist_insert (meso_db_t *db, const char *clinic_id, const char *entry_id, const char *patient_id,
                           const char *practitioner_id, const char *from, const char *to, const char *areas,
                           const char *recipe_id, const char *appointment_id);
PGresult *store_waitlist_get (meso_db_t *db, const char *clinic_id, const char *entry_id, bool lock);
/* The clinic's entries of status ("all" every one) after seq (NULL
 * first), in waiting order, at most limit. */
PGresult *store_waitlist_list (meso_db_t *db, const char *clinic_id, const char *status, const char *after_seq,
                               int limit);
/* A waiting entry leaves: 1, 0 it was not waiting, -1. */
int store_waitlist_leave (meso_db_t *db, const char *clinic_id, const char *entry_id);
/* An appointment of the clinic: patient_id, status, areas "a,b", recipe_id. */
PGresult *store_appointment_start (meso_db_t *db, const char *clinic_id, const char *appointment_id);
/* 1 when no active appointment and no open offer holds the practitioner
 * or the clinic's room in [start, end); 0 taken; -1. */
int store_slot_free (meso_db_t *db, const char *clinic_id, const char *practitioner, const char *room, int64_t start_us,
                     int64_t end_us);
/* Waiting entries the slot may go to, first come first (not the freed
 * session's patient, no open offer, never offered this slot, the slot's
 * local day in the window): entry_id, patient_id, practitioner_id,
 * from day, to day, appointment_id, that session's start (us, -1 none),
 * the slot's local day, the slot's local start. */
PGresult *store_waitlist_candidates (meso_db_t *db, const char *clinic_id, const char *practitioner, const char *room,
                                     int64_t start_us, int64_t end_us, const char *freed_patient);
/* A new open offer held hold_s seconds; returns its expiry (us) as a
 * one-row result. */
PGresult *store_offer_insert (meso_db_t *db, const char *clinic_id, const char *offer_id, const char *entry_id,
                              const char *patient_id, const char *practitioner, const char *room, int64_t start_us,
                              int64_t end_us, int hold_s, const char *freed_appointment_id);
/* Columns of an offer row (store_offer_*). */
enum {
    O_OFFER, O_ENTRY, O_PATIENT, O_PRACT, O_ROOM, O_START, O_END, O_EXPIRES, O_STATUS, O_EXPIRED, O_LOCAL,
    O_APPT, O_AREAS, O_RECIPE, O_FREED, O_CLINIC
};
PGresult *store_offer_get (meso_db_t *db, const char *clinic_id, const char *offer_id, bool lock);
/* The entry's open offer, locked (no row: none). */
PGresult *store_offer_open_of (meso_db_t *db, const char *clinic_id, const char *entry_id);
/* Open offers past their expiry: clinic_id, offer_id. */
PGresult *store_offers_expired (meso_db_t *db, int limit);
/* An open offer closed ("expired", "withdrawn"): 1, 0 not open, -1. */
int store_offer_close (meso_db_t *db, const char *clinic_id, const char *offer_id, const char *status);
/* ---- store_agenda.c ---- */

/* An agenda page: the clinic's sessions starting on local days
 * [from, to] ("YYYY-MM-DD"), after the keyset position (after_us, after_id)
 * (NULL or "": from the start). */
typedef struct {
    const char *clinic_id, *from, *to;
    const char *practitioner_id, *room_id;      /* "" or NULL: every one */
    bool include_cancelled;
    const char *after_us, *after_id;
    int limit;
    const char *time_zone;                      /* the clinic's */
} store_agenda_query_t;

/* Columns AG_*, by start then appointment id. */
enum {
    AG_APPT, AG_COURSE, AG_NUMBER, AG_COURSE_SESSIONS, AG_START, AG_END, AG_LOCAL_START,
    AG_LOCAL_END, AG_OFFSET_S, AG_PRACT, AG_PRACT_NAME, AG_ROOM, AG_ROOM_NAME, AG_PATIENT,
    AG_STATUS, AG_AREAS
};
PGresult *store_agenda (meso_db_t *db, const store_agenda_query_t *q);
/* Clinics after id `after`, by id: clinic_id, name, time_zone,
 * slot_minutes, spacing_min_days, taper_max_days, maintenance_sessions,
 * cancel_notice_hours, allow_overlapping_courses. */
PGresult *store_clinics_page (meso_db_t *db, const char *after, int limit);
/* Hours of the clinics of ids_literal ("{a,b}"): clinic_id, isodow,
 * opens, closes; by clinic and weekday. */
PGresult *store_clinics_hours (meso_db_t *db, const char *ids_literal);
/* Practitioners with hours in the clinic, after id `after`, by id:
 * practitioner_id, name. */
PGresult *store_practitioners_page (meso_db_t *db, const char *clinic_id, const char *after, int limit);
/* Their hours in every clinic: practitioner_id, clinic_id, isodow, starts,
 * ends; and days off on or after from (NULL/"": all): practitioner_id,
 * day. */
PGresult *store_practitioners_hours (meso_db_t *db, const char *ids_literal);
PGresult *store_practitioners_days_off (meso_db_t *db, const char *ids_literal, const char *from);
/* Rooms of the clinic after id `after`, by id: clinic_id, room_id, name,
 * active. */
PGresult *store_rooms_page (meso_db_t *db, const char *clinic_id, const char *after, int limit);
/* A patient's courses that did not fail, oldest first, after the keyset
 * position (after_us: created_at in microseconds, NULL first page;
 * after_id): course_id, clinic_id, grade, areas "a,b", status, sessions,
 * non_responder, completed, upcoming, first local date, last local date,
 * next local start ("" none), created_at_us. */
PGresult *store_courses_page (meso_db_t *db, const char *patient_id, const char *after_us, const char *after_id,
                              int limit);

#endif
