/* scheduling.h -- the scheduling daemon's state and the interface between
 * its files.
 *
 * main.c owns the loop; handlers.c the RPC methods (decode, validate, one
 * transaction, reply); saga.c the booking saga across screening and
 * inventory and its recovery after a crash; planner.c the pure planning
 * rules; store.c the SQL of the scheduling schema and nothing else. */
#ifndef SCHEDULING_SCHEDULING_H
#define SCHEDULING_SCHEDULING_H

#include <stdbool.h>
#include <stdint.h>

#include "meso/bus.h"
#include "meso/db.h"
#include "planner.h"
#include "scheduling.pb-c.h"

#define SCHED_SCHEMA "scheduling"
#define SCHED_ID_MAX 64
#define SCHED_MAX_AREAS 16

typedef struct {
    meso_db_t *db;
    meso_bus_server_t *server;
    meso_bus_client_t *screening;       /* screening.Check */
    meso_bus_client_t *inventory;       /* inventory.GetRecipe / Reserve / Redate / Release */
    int call_deadline_ms;
    int pause_at;                       /* test only: saga step to stop at (0: none) */
    char pause_file[512];               /* test only: created when paused */
    int64_t next_recovery_ms;
} scheduling_t;

/* A clinic row. */
typedef struct {
    char clinic_id[SCHED_ID_MAX + 1];
    char name[804];
    char time_zone[65];
    int slot_minutes;
    planner_settings_t course;
    int cancel_notice_hours;
    int32_t today;                      /* the clinic's local date when read (civil day) */
} store_clinic_t;

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
} sched_booking_t;

/* ---- store.c: the SQL of the scheduling schema ---- */

/* Columns of a session row (store_session_* results), in this order. */
enum {
    SC_APPT, SC_COURSE, SC_PATIENT, SC_CLINIC, SC_PRACT, SC_ROOM, SC_START, SC_END,
    SC_LOCAL, SC_TZ, SC_NUMBER, SC_MAINT, SC_STATUS, SC_SCORE, SC_AREAS, SC_RECIPE,
    SC_RECIPE_VERSION, SC_COURSE_SESSIONS, SC_LOCAL_DATE, SC_NOTICE_H, SC_POLICY_H
};

int store_clinic_get (meso_db_t *db, const char *clinic_id, store_clinic_t *out);
/* Inserts or replaces the clinic and its hours. 1 created, 0 updated, -1. */
int store_clinic_upsert (meso_db_t *db, const Meso__V1__Clinic *c);
/* 1 when PostgreSQL knows the zone, 0 not, -1 error. */
int store_zone_known (meso_db_t *db, const char *zone);
/* The clinic's hours as a result: isodow, opens "HH:MM", closes. */
PGresult *store_clinic_hours (meso_db_t *db, const char *clinic_id);

int store_practitioner_upsert (meso_db_t *db, const Meso__V1__Practitioner *p);
int store_room_upsert (meso_db_t *db, const Meso__V1__Room *r);

/* Free slots of a clinic on a local day: columns minute, start_us, end_us,
 * practitioner_id, room_id, local_start. prefer: a practitioner tried
 * first ("" none); only: keep to prefer. patient: whose own appointments
 * must not overlap ("" none). */
PGresult *store_free_slots (meso_db_t *db, const char *clinic_id, const char *date,
                            const char *prefer, bool only, const char *patient);

/* A clinic's calendar for the slot search of PlanCourse / BookCourse:
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

/* Why a practitioner/room cannot take [local start, + minutes) in the
 * clinic: writes a message and returns 1; 0 when all is well; -1 error.
 * Fills the UTC instants. */
int store_slot_check (meso_db_t *db, const store_clinic_t *c, const char *practitioner,
                      const char *room, const char *local_start, int minutes,
                      int64_t *start_us, int64_t *end_us, char *why, size_t whysize);

/* Session rows (columns SC_*). */
PGresult *store_session_get (meso_db_t *db, const char *appointment_id, bool lock);
PGresult *store_course_sessions (meso_db_t *db, const char *course_id);

/* "{a,b}" of codes (validated [a-z0-9_-]). */
void store_array_literal (char *out, size_t size, char *const *items, size_t n);

/* ---- saga.c ---- */

#define SCHED_MAX_INGREDIENTS 64

/* A recipe as inventory.GetRecipe gave it: the version and the codes of
 * the ingredients a session over the areas asked needs. */
typedef struct {
    uint32_t version;
    int n;
    char codes[SCHED_MAX_INGREDIENTS][SCHED_ID_MAX + 1];
    char *ingredients[SCHED_MAX_INGREDIENTS];   /* point into codes */
} sched_recipe_t;

/* Asks inventory for recipe_id (version 0: the latest) over areas. The
 * recipes are inventory's: scheduling never reads its tables. 0, or -1
 * with reply set (inventory's refusal, or why it could not be asked). */
int saga_recipe (scheduling_t *self, const char *recipe_id, uint32_t version, char *const *areas,
                 size_t n_areas, sched_recipe_t *out, meso_reply_t *reply);
/* inventory.Redate: moves the appointment's reservation to date
 * ("YYYY-MM-DD"), swapping lots that expire before it. 0 moved; 1
 * refused (reply set, nothing changed at inventory); -1 no answer (reply
 * set; inventory may or may not have moved it). */
int saga_redate (scheduling_t *self, const char *clinic_id, const char *appointment_id,
                 const char *date, const char *reason, meso_reply_t *reply);

/* Runs the booking saga for b (slots planned, appointment ids unset) and
 * fills reply (BookCourseReply or the refusal). */
void saga_book (scheduling_t *self, sched_booking_t *b, meso_reply_t *reply);
/* Finishes or undoes every pending course whose saga has no live owner.
 * Returns the number handled, -1 on error. */
int saga_recover (scheduling_t *self);
/* Test-only pause point (MESO_SCHEDULING_TEST_PAUSE_AT). */
void saga_pause_point (scheduling_t *self, int step);

/* ---- handlers.c ---- */
extern const meso_method_t scheduling_methods[];

/* Fills a Session / SessionInfo from row i of a session result (strings
 * point into res). areas_buf receives the split areas (at least
 * SCHED_MAX_AREAS pointers). */
void handlers_session_from_row (const PGresult *res, int i, Meso__V1__Session *s, char **areas);
void handlers_info_from_row (const PGresult *res, int i, Meso__V1__SessionInfo *s, char **areas);
/* Splits "a,b" in place into out; returns the count. */
size_t handlers_split (char *text, char **out, size_t max);
/* Reads the BookedCourse of course_id into reply (OK). 0 or -1 (reply set). */
int handlers_reply_course (meso_db_t *db, const char *course_id, meso_reply_t *reply);

#endif
