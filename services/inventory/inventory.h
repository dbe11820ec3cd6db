/* inventory.h -- the inventory daemon's state and the interfaces between
 * its files.
 *
 * The rooms, top to bottom; a file calls only files below it, so there is
 * no circle and each file reads knowing only what is under it:
 *
 *   main.c         configuration, sockets, the loop
 *   handlers.c     the method table and health: the map from method names
 *                  to the files that own them, and nothing else
 *   catalogue.c    UpsertIngredient, UpsertRecipe, GetRecipe
 *   lots.c         Receive, Adjust, DiscardExpired, Transfer,
 *                  SetReorderPoint: on hand, one lot at a time
 *   reports.c      GetStock, Forecast, Valuation, and the
 *                  stock.expiring announcer main.c's timer calls
 *   recall.c       Recall (takes recalled lots out of held reservations
 *                  and holds the sessions again), ListAtRisk
 *   holdcheck.c    CheckHold: is a session's hold complete and valid
 *   consume.c      Consume, and the effect of session events (completed
 *                  consumes; cancelled and no_show release through holds.c)
 *   holds.c        Reserve, Release, Redate: what reservations hold
 *   reservation.c  a reservation as reply and event (holds.c, consume.c)
 *   lotset.c       the locked lots of one transaction (holds.c, consume.c)
 *   frame.c        what every method shares: validation, the idempotent
 *                  run, today, the stock.low check
 *   store.c        the SQL, by aggregate: store_catalogue.c, store_lots.c,
 *                  store_holds.c, store_reports.c (the valuation), and
 *                  store.c for what they share
 *   stock.c        pure decisions (no I/O, unit tested): is there enough,
 *   fefo.c         which lots to hold, move or draw from
 *
 * The method table cannot live with the helpers the methods share, as the
 * DESIGN has it: the table names every method and every method calls the
 * helpers, so that file and every method file would call each other. So
 * handlers.c holds the table alone, and frame.c the shared helpers.
 *
 * Quantities are int64 thousandths of the ingredient's unit everywhere.
 * Dates cross the store as "YYYY-MM-DD" text. Every function of the store
 * that changes rows is meant to run inside a transaction of meso_db_txn
 * (the caller's); lots are always locked in lot_id order so concurrent
 * transactions cannot deadlock on them. */
#ifndef INVENTORY_INVENTORY_H
#define INVENTORY_INVENTORY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meso/bus.h"
#include "meso/clinics.h"
#include "meso/db.h"
#include "meso/enumtext.h"
#include "meso/idem.h"
#include "meso/subscriber.h"
#include "events.pb-c.h"
#include "inventory.pb-c.h"
#include "stock.h"

#define INVENTORY_SCHEMA "inventory"

/* Limits of a request. */
#define ID_MAX 64
#define TEXT_MAX 200
#define MAX_AREAS 16
#define MAX_LINES 64
/* Quantities above this (a million units) are typing errors, and keep sums
 * far from int64 overflow. */
#define QTY_MAX (INT64_C (1000000000))
/* The latest session date a reservation may have, in years after today.
 * Scheduling gives no session a first date beyond 5 years of the clinic's
 * local today (WHEN_HORIZON_YEARS), and a course of at most 64 sessions
 * at most 31 days apart ends within 1,984 days of its first: 11 years
 * takes every session scheduling can book and refuses a typing error
 * (9999-12-31) that would hold stock for a session that never comes. */
#define SESSION_HORIZON_YEARS 11

/* The daemon's state; each worker has a copy with its own db and clinics
 * (main.c), and main points at the main thread's, whose counters Health
 * reads (atomics: the main thread writes them, workers read). */
typedef struct inventory_s {
    meso_db_t *db;
    meso_bus_server_t *server;
    meso_clinics_t *clinics;        /* which clinics exist (scheduling.GetClinic, cached) */
    meso_consumer_t *consumer;      /* NULL when no events endpoint is set */
    struct inventory_s *main;       /* the main thread's state */
    atomic_uint_fast64_t events_applied;    /* session events applied since start */
    atomic_uint_fast64_t expiring_sent;     /* stock.expiring events emitted */
    atomic_uint_fast64_t cursors[1];        /* the consumer's session cursor */
} inventory_t;

/* ---- handlers.c: the table main.c serves ----
 * The methods (meso_handler_fn, meso/bus.h) are declared under the file
 * that owns them. */
extern const meso_method_t inventory_methods[];
void inventory_health (Meso__V1__HealthReply *health, void *arg);

/* ---- catalogue.c ---- */
meso_handler_fn inventory_upsert_ingredient;
meso_handler_fn inventory_upsert_recipe;
meso_handler_fn inventory_get_recipe;
meso_handler_fn inventory_get_ingredients;

/* ---- lots.c ---- */
meso_handler_fn inventory_receive;
meso_handler_fn inventory_adjust;
meso_handler_fn inventory_discard_expired;
meso_handler_fn inventory_transfer;
meso_handler_fn inventory_set_reorder_point;

/* ---- holds.c ---- */
meso_handler_fn inventory_reserve;
meso_handler_fn inventory_release;
meso_handler_fn inventory_redate;
/* Releases the held stock of an appointment (Release, and the effect of
 * session.cancelled / session.no_show). strict: the method, which refuses
 * a consumed reservation and records a tombstone for an unknown one;
 * lenient: the event, for which both are no-ops. Returns 0 done, 1
 * nothing to do, -1 refused or failed (reply set when refused). */
int holds_release_apply (meso_db_t *db, const char *clinic, const char *appointment,
                         const char *reason, const Meso__V1__Actor *actor, bool strict,
                         meso_reply_t *reply);

/* ---- consume.c ---- */
meso_handler_fn inventory_consume;
/* The effect of one session event, inside the consumer's transaction
 * (meso_consumer_fn): completed consumes, cancelled and no_show release. */
int inventory_on_event (meso_db_t *db, const Meso__V1__Event *event, void *arg);

/* ---- reports.c ---- */
meso_handler_fn inventory_get_stock;
meso_handler_fn inventory_forecast;
meso_handler_fn inventory_valuation;
/* The highest unit cost a lot takes, cents per unit (migration 020). */
#define VALUATION_COST_MAX 100000000
/* Announces lots about to expire (stock.expiring), at most limit per call.
 * Returns how many were announced, or -1. */
int inventory_announce_expiring (inventory_t *self, int limit);

/* ---- recall.c ---- */
meso_handler_fn inventory_recall;
meso_handler_fn inventory_list_at_risk;

/* ---- holdcheck.c ---- */
meso_handler_fn inventory_check_hold;

/* ---- export.c ---- */
meso_handler_fn inventory_export_patient;

/* ---- reservation.c: a reservation as a message ---- */
typedef struct {
    PGresult *head, *lines, *consumed, *gaps;
    Meso__V1__Reservation msg;      /* points into the results */
    Meso__V1__IngredientAmount *la, *ca, *ga;
    Meso__V1__IngredientAmount **lp, **cp, **gp;
    char *areas_buf;
    char **areas;
} resv_t;

/* Loads a reservation with its lines into r. 1 found, 0 not, -1 error (db
 * error set, or out of memory). After 1, resv_free (r). */
int resv_load (meso_db_t *db, const char *clinic, const char *appointment, resv_t *r);
void resv_free (resv_t *r);
/* Replies with the reservation in the reply type of method
 * ("inventory.Reserve", "inventory.Release", else Consume's). 0 or -1
 * (reply NOT_FOUND when there is none). */
int resv_reply (meso_db_t *db, meso_reply_t *reply, const char *clinic, const char *appointment,
                const char *method, bool existing);
/* Emits stock.reserved, stock.released or stock.consumed (kind "reserved",
 * "released", "consumed") with the reservation's current lines or
 * consumption. 0 (also when there is no reservation) or -1. */
int resv_emit (meso_db_t *db, const char *clinic, const char *appointment, const char *kind,
               const char *reason, const Meso__V1__Actor *actor);
/* The same two from a reservation already loaded (resv_load), so a
 * method that announces and answers with it reads it once. */
void resv_reply_loaded (meso_reply_t *reply, resv_t *r, const char *method, bool existing);
int resv_emit_loaded (meso_db_t *db, resv_t *r, const char *kind, const char *reason,
                      const Meso__V1__Actor *actor);

/* ---- lotset.c: the locked lots of one transaction ---- */
typedef struct {
    PGresult *res;                  /* lot columns, lot_id order */
    stock_set_t *set;               /* the same lots for stock.h; set->n rows */
} lotset_t;

/* Locks every lot of clinic whose ingredient is in codes (a text[]
 * literal) and loads them into l. 0, or -1 (db error set). Always
 * lotset_free (l) after. */
int lotset_lock (meso_db_t *db, const char *clinic, const char *codes, lotset_t *l);
void lotset_free (lotset_t *l);
/* Index of lot_id in the set, or -1. */
long lotset_find (const lotset_t *l, const char *lot_id);
const char *lotset_lot_id (const lotset_t *l, size_t i);
/* Writes the decided changes of every lot (d_on_hand, d_reserved). */
int lotset_write (meso_db_t *db, const char *clinic, const lotset_t *l);

/* ---- frame.c: what every method shares ---- */
/* The actor of events the service emits on its own behalf. */
extern const Meso__V1__Actor frame_service_actor;
typedef meso_idem_job_t frame_job_t;
/* Runs a mutating method: the idempotency claim, the effect and the stored
 * reply in one transaction (meso_idem_run). arg is the inventory_t. */
void frame_run (void *arg, const Meso__V1__Request *req, meso_reply_t *reply, void *in,
                meso_idem_effect_fn *effect);
/* Whether the clinic a valid request names on field exists
 * (meso_clinics_check: scheduling.GetClinic on a cache miss), for the
 * methods people and integrations call. 0, with *tz (when non-NULL) the
 * clinic's time zone; or -1 with reply set (NOT_FOUND, UNAVAILABLE). */
int frame_clinic (inventory_t *self, meso_reply_t *reply, const char *field, const char *clinic,
                  const char **tz);
/* For the methods only scheduling calls (Reserve, Release, Redate,
 * Consume, GetRecipe): never a lookup, since scheduling waits for their
 * answer and serves one request at a time, so asking it back would hold
 * both daemons until the deadline. The id's syntax is checked as for
 * any method; scheduling, the owner of the clinics, named it, so the
 * clinic is recorded as known. */
void frame_clinic_from_scheduling (inventory_t *self, const char *clinic);
/* Validation: each adds a reason naming field and counts it in *bad. */
void frame_need_qty (meso_reply_t *reply, int *bad, const char *field, int64_t v);
/* A date YYYY-MM-DD; *days set. False when missing or malformed. */
bool frame_need_date (meso_reply_t *reply, int *bad, const char *field, const char *v,
                      int32_t *days);
/* A session date, no earlier than yesterday (a clinic east of UTC is
 * already on tomorrow) and no later than SESSION_HORIZON_YEARS after
 * tomorrow. */
void frame_need_session_date (meso_reply_t *reply, int *bad, const char *v);
/* Optional text of at most max bytes; the reason names the last part of
 * field ("ingredient.form": "form must be at most ..."). */
void frame_may_text (meso_reply_t *reply, int *bad, const char *field, const char *v, size_t max);
/* 1 to MAX_AREAS treatment areas (0 allowed unless required). False when
 * the count is wrong. */
bool frame_need_area_count (meso_reply_t *reply, int *bad, size_t n, bool required);
/* Each area a treatment area code, none listed twice; stops at the first
 * problem. */
void frame_need_area_codes (meso_reply_t *reply, int *bad, char **areas, size_t n);
/* Today (UTC), days since 1970-01-01, from the process clock. */
int32_t frame_today (void);
/* '{a,b}' from codes already checked by meso_handler_code_ok. */
void frame_array_literal (char *out, size_t size, char *const *names, size_t n);
/* Emits stock.low for (clinic, ingredient) when available just fell below
 * its reorder point. unit NULL or "": looked up. 0, or -1 (db error). */
int frame_low_check (meso_db_t *db, const char *clinic, const char *ingredient, Meso__V1__Unit unit);

/* A unit as the database keeps it ("mg") as the contract's enum; an
 * unknown text is logged and gives UNIT_UNSPECIFIED. */
#define INVENTORY_UNIT(text) \
    ((Meso__V1__Unit) meso_enum_from_db (&meso__v1__unit__descriptor, (text), "unit"))

/* ---- store*.c: the SQL of the inventory schema ----
 *
 * Results are text format; the caller PQclear()s them. NULL / -1 mean a
 * database error (meso_db_error says which). */

/* ---- store.c ---- */

int64_t store_i64 (const PGresult *res, int r, int c);
/* Writes v as decimal text into buf (size bytes): a parameter. */
void store_i64text (char *buf, size_t size, int64_t v);

/* Today (UTC) as days since 1970-01-01 from the database clock. */
int store_today (meso_db_t *db, int32_t *days);

/* ---- store_catalogue.c ---- */

/* Catalogue. ingredient: code, name, unit, form; 0 rows when unknown. */
PGresult *store_ingredient_get (meso_db_t *db, const char *code);
/* Inserts or updates; *created set. Returns 0 or -1. */
int store_ingredient_upsert (meso_db_t *db, const Meso__V1__Ingredient *ing, bool *created);
/* 1 when some lot of the ingredient exists, 0 not, -1 error. */
int store_ingredient_has_lots (meso_db_t *db, const char *code);
/* 1 when some recipe line names the ingredient, 0 not, -1 error. */
int store_ingredient_in_recipes (meso_db_t *db, const char *code);
/* Ingredients whose code is in codes (a text[] literal of valid codes),
 * or, when codes is NULL, the first limit after after_code: columns code,
 * name, unit, form, ordered by code. Caller PQclear()s; NULL on error. */
PGresult *store_ingredients (meso_db_t *db, const char *codes, const char *after_code, int limit);

/* Recipes. Serialises upserts of one recipe id (transaction lock). */
int store_recipe_lock (meso_db_t *db, const char *recipe_id);
/* Latest version (0 when none) and its name into name (size bytes). */
int store_recipe_latest (meso_db_t *db, const char *recipe_id, uint32_t *version,
                         char *name, size_t size);
/* Lines of a version: area, ingredient_code, amount_milli, ordered. */
PGresult *store_recipe_lines (meso_db_t *db, const char *recipe_id, uint32_t version);
int store_recipe_insert (meso_db_t *db, const char *recipe_id, uint32_t version,
                         const char *name);
int store_recipe_line_insert (meso_db_t *db, const char *recipe_id, uint32_t version,
                              const Meso__V1__RecipeLine *line);
/* What a session needs: rows ingredient_code, unit, total amount_milli over
 * areas (areas is a text[] literal; NULL: every area), ordered by
 * ingredient_code. */
PGresult *store_recipe_need (meso_db_t *db, const char *recipe_id, uint32_t version,
                             const char *areas);

/* The reads of a recipe version ($2 = version, 0: the latest) for areas
 * (text[] literal; NULL: all), as statements for one meso_db_pipeline:
 * out[0] one row: latest version (0 when none), the version asked (NULL
 * when there is no such version), its name, the areas asked it has
 * nothing for (comma-joined, "" when none); out[1] its lines for the
 * areas: area, ingredient_code, amount_milli, unit, ordered by area and
 * ingredient; out[2] the rows of store_recipe_need. q holds
 * the parameters and must outlive the pipeline. */
typedef struct {
    char v[16];
    const char *p[3];
} store_recipe_reads_t;
void store_recipe_reads (store_recipe_reads_t *q, const char *recipe_id, uint32_t version,
                         const char *areas, meso_db_stmt_t out[3]);

/* ---- store_lots.c ---- */

/* Columns of every lot result, in this order. */
enum {
    LOT_CLINIC, LOT_ID, LOT_INGREDIENT, LOT_UNIT, LOT_NUMBER, LOT_SUPPLIER, LOT_EXPIRY,
    LOT_ON_HAND, LOT_RESERVED, LOT_RECALLED, LOT_RECALL_REASON, LOT_EXPIRY_DAYS,
    LOT_RECEIVED_US, LOT_COST, LOT_NCOLS
};
/* Points lot's fields into row r of res (valid until PQclear). */
void store_lot_fill (const PGresult *res, int r, Meso__V1__Lot *lot);

/* Lots. */
/* A lot, locked when for_update. */
PGresult *store_lot_get (meso_db_t *db, const char *clinic, const char *lot_id, bool for_update);
/* Locks and returns every lot of clinic whose ingredient is in codes (a
 * text[] literal), in lot_id order. */
PGresult *store_lots_lock (meso_db_t *db, const char *clinic, const char *codes);
/* Receives into (clinic, ingredient, lot_number): a new lot or more of an
 * existing one with the same expiry. cost: cents per unit, or -1 for none
 * (an existing lot keeps its cost; a cost given for an uncosted lot sets
 * it). Writes the lot id (>= 40 bytes). Returns 1 done, 0 when the lot
 * exists with another expiry, 2 when it exists with another cost, -1
 * error. */
int store_lot_receive (meso_db_t *db, const char *clinic, const char *ingredient,
                       const char *lot_number, const char *supplier, const char *expiry,
                       int64_t qty, int64_t cost, char *lot_id);
/* on_hand += d_on_hand, reserved += d_reserved. */
int store_lot_change (meso_db_t *db, const char *clinic, const char *lot_id,
                      int64_t d_on_hand, int64_t d_reserved);
/* Appends to the ledger. */
int store_movement (meso_db_t *db, const char *clinic, const char *lot_id, const char *kind,
                    int64_t delta, const char *appointment_id, const char *reason);
/* A page of the lots of clinic (optionally one ingredient), ingredient then
 * FEFO order (ingredient_code, expiry_date, received_at, lot_id), after
 * the position after[0..3] (ingredient code, expiry date, received_at in
 * microseconds, lot id; NULL: from the first), at most limit. */
PGresult *store_stock_lots (meso_db_t *db, const char *clinic, const char *ingredient,
                            bool include_empty, const char *const *after, uint32_t limit);
/* Totals: ingredient_code, unit, on_hand, reserved, available,
 * reorder_point, low. */
PGresult *store_stock_totals (meso_db_t *db, const char *clinic, const char *ingredient);
/* The local date in time zone tz now (now() AT TIME ZONE tz), as days
 * since 1970-01-01. 0 or -1. */
int store_local_today (meso_db_t *db, const char *tz, int32_t *days);
/* Locks lots of clinic expired before as_of with something unreserved. */
PGresult *store_lots_expired_lock (meso_db_t *db, const char *clinic, const char *as_of);

/* ---- store_reports.c ---- */

/* Columns of the valuation result, one row per ingredient: for each
 * measure (on hand at the end, reserved now, received, consumed,
 * discarded, adjusted in the period) three numbers, the costed quantity,
 * its value in thousandths of a cent (quantity x unit cost) and the
 * uncosted quantity; then the lots without a cost. */
enum {
    VAL_INGREDIENT, VAL_UNIT, VAL_MEASURES,
    VAL_UNCOSTED_LOTS = VAL_MEASURES + 6 * 3, VAL_NCOLS
};
/* The valuation of clinic over its local days [from, to] (zone tz):
 * ingredient "" for all. */
PGresult *store_valuation (meso_db_t *db, const char *clinic, const char *tz, const char *from,
                           const char *to, const char *ingredient);

/* Reorder points. Recomputes whether (clinic, ingredient) is low; returns
 * 1 when it just became low (available and point written), 0 otherwise,
 * -1 error. */
int store_low_check (meso_db_t *db, const char *clinic, const char *ingredient,
                     int64_t *available, int64_t *point);
int store_reorder_set (meso_db_t *db, const char *clinic, const char *ingredient,
                       int64_t point, uint32_t warn_days);

/* Recall: marks the lots (by lot_id, or ingredient + lot_number, clinic
 * optional "") and returns them (lot columns). */
PGresult *store_recall_mark (meso_db_t *db, const char *lot_id, const char *ingredient,
                             const char *lot_number, const char *clinic, const char *reason);
/* Sessions that drew from the lots a recall names (same selection as
 * store_recall_mark): clinic_id, appointment_id, patient_id, session_date,
 * state ("consumed" or "reserved"), lot_id, amount_milli. */
PGresult *store_recall_hits (meso_db_t *db, const char *lot_id, const char *ingredient,
                             const char *lot_number, const char *clinic);
/* The held reservation lines in the lots a recall names (same
 * selection), each reservation row locked (FOR UPDATE) in the order
 * returned: clinic, session date, appointment, lot. Columns RH_*. */
enum {
    RH_CLINIC, RH_APPOINTMENT, RH_PATIENT, RH_DATE, RH_DATE_DAYS, RH_LOT_ID, RH_INGREDIENT,
    RH_AMOUNT, RH_LOT_NUMBER, RH_UNIT, RH_NCOLS
};
PGresult *store_recall_held (meso_db_t *db, const char *lot_id, const char *ingredient,
                             const char *lot_number, const char *clinic);

/* Forecast lines for clinic and horizon (days): ingredient_code, unit,
 * on_hand, reserved, needed, expiring, consumed_30d, reorder_point; and the
 * horizon's dates as the last two columns. */
PGresult *store_forecast (meso_db_t *db, const char *clinic, int horizon_days);

/* Lots due a stock.expiring announcement, locked (SKIP LOCKED): lot
 * columns. */
PGresult *store_expiring_due (meso_db_t *db, int limit);
int store_expiring_mark (meso_db_t *db, const char *clinic, const char *lot_id);

/* ---- store_holds.c ---- */

/* Reservations. Columns: clinic_id, appointment_id, patient_id,
 * session_date, recipe_id, recipe_version, areas (comma-joined), status. */
PGresult *store_reservation_get (meso_db_t *db, const char *clinic, const char *appointment,
                                 bool for_update);
/* store_reservation_get (not locked) as a statement for a pipeline; p
 * holds the two parameters and must outlive it. */
void store_reservation_get_stmt (const char *p[2], const char *clinic, const char *appointment,
                                 meso_db_stmt_t *out);
/* A reservation with everything resv_load shows, in one round trip:
 * out[0] store_reservation_get, out[1] store_reservation_lines, out[2]
 * store_consumption_lines, out[3] store_reservation_gaps. 0 or -1. */
int store_reservation_load (meso_db_t *db, const char *clinic, const char *appointment,
                            PGresult *out[4]);
/* The reservations of a patient (the export): clinic_id, appointment_id,
 * by session date. */
PGresult *store_reservations_of_patient (meso_db_t *db, const char *patient);
/* 1 inserted, 0 existed already, -1 error. */
int store_reservation_insert (meso_db_t *db, const char *clinic, const char *appointment,
                              const char *patient, const char *session_date,
                              const char *recipe_id, uint32_t version, const char *areas,
                              const char *status);
int store_reservation_close (meso_db_t *db, const char *clinic, const char *appointment,
                             const char *status, const char *reason);
/* Lines (reserved or consumed): ingredient_code, unit, amount_milli,
 * lot_id, lot_number, ordered by ingredient then lot expiry. */
PGresult *store_reservation_lines (meso_db_t *db, const char *clinic, const char *appointment);
PGresult *store_consumption_lines (meso_db_t *db, const char *clinic, const char *appointment);
int store_reservation_line_insert (meso_db_t *db, const char *clinic, const char *appointment,
                                   const char *lot_id, const char *ingredient, int64_t amount);
/* Adds amount to the line of lot (inserted when there is none). */
int store_reservation_line_add (meso_db_t *db, const char *clinic, const char *appointment,
                                const char *lot_id, const char *ingredient, int64_t amount);
int store_reservation_line_delete (meso_db_t *db, const char *clinic, const char *appointment,
                                   const char *lot_id);
int store_reservation_redate (meso_db_t *db, const char *clinic, const char *appointment,
                              const char *session_date);
int store_consumption_insert (meso_db_t *db, const char *clinic, const char *appointment,
                              const char *lot_id, const char *ingredient, int64_t amount);

/* What a recall left a held reservation short of (inventory.reservation_gap). */
int store_gap_insert (meso_db_t *db, const char *clinic, const char *appointment,
                      const char *ingredient, const char *lot_id, int64_t missing, int64_t usable,
                      const char *reason);
/* The gaps of a held reservation (none once it is released or consumed):
 * ingredient_code, unit, missing_milli, lot_id, lot_number -- the columns
 * of store_reservation_lines. */
PGresult *store_reservation_gaps (meso_db_t *db, const char *clinic, const char *appointment);
/* A page of the at-risk sessions of clinic (held reservations with a gap)
 * on or after from ("" : all), by date, appointment, ingredient and lot,
 * after the position after[0..3] (date, appointment, ingredient, lot id;
 * NULL: from the first), at most limit. Columns AR_*. */
enum {
    AR_APPOINTMENT, AR_PATIENT, AR_CLINIC, AR_INGREDIENT, AR_LOT_ID, AR_LOT_NUMBER, AR_DATE,
    AR_MISSING, AR_USABLE, AR_UNIT, AR_REASON, AR_NCOLS
};
PGresult *store_at_risk (meso_db_t *db, const char *clinic, const char *from,
                         const char *const *after, uint32_t limit);
/* The held lines of a reservation with their lots' state: ingredient_code,
 * amount_milli, lot_id, expiry (days since 1970-01-01), recalled (0/1),
 * expiry_date text, lot_number. */
PGresult *store_hold_lines (meso_db_t *db, const char *clinic, const char *appointment);

#endif
