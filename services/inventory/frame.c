/* frame.c -- what every inventory method shares: the validation of the
 * fields several methods have (quantities, dates, session dates, optional
 * texts, treatment areas), the frame of a mutating method (one idempotent
 * transaction, meso_idem_run), today's date, the text[] literal the store
 * takes, and the stock.low check every change of stock ends with.
 *
 * These are what the DESIGN puts in handlers.c. They live here instead
 * because handlers.c holds the method table, which names every method,
 * while every method calls these: kept in one file, the table's file and
 * the methods' files would call each other. Here they call only the store
 * and libmeso, so every method file sits above this one.
 *
 * Validation collects (meso/handler.h): each helper adds a reason naming
 * the field and counts it, so a client learns every problem at once. The
 * texts of the reasons are part of the replies and stay as they are. */
#include "inventory.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/handler.h"
#include "meso/mtime.h"

const Meso__V1__Actor frame_service_actor = {
    PROTOBUF_C_MESSAGE_INIT (&meso__v1__actor__descriptor),
    MESO__V1__ACTOR__KIND__KIND_SERVICE, "inventory", (char *) ""
};

/* -------------------------------------------------------------- clinics */

int
frame_clinic (inventory_t *self, meso_reply_t *reply, const char *field, const char *clinic,
              const char **tz)
{
    return meso_clinics_check (self->clinics, clinic, field, reply, tz);
}

void
frame_clinic_from_scheduling (inventory_t *self, const char *clinic)
{
    meso_clinics_learn (self->clinics, clinic);
}

/* ----------------------------------------------------------- validation */

void
frame_need_qty (meso_reply_t *reply, int *bad, const char *field, int64_t v)
{
    if (v <= 0 || v > QTY_MAX) {
        meso_reply_reason (reply, "out_of_range", field,
                           "%s must be a positive amount in thousandths of the unit, at most %" PRId64
                           " (got %" PRId64 ")", field, QTY_MAX, v);
        (*bad)++;
    }
}

bool
frame_need_date (meso_reply_t *reply, int *bad, const char *field, const char *v, int32_t *days)
{
    if (!v || !*v) {
        meso_reply_reason (reply, "missing_field", field, "%s is required (YYYY-MM-DD)", field);
        (*bad)++;
        return false;
    }
    if (meso_date_parse (v, days) != 0) {
        meso_reply_reason (reply, "invalid_date", field,
                           "%s must be a date YYYY-MM-DD (got \"%.32s\")", field, v);
        (*bad)++;
        return false;
    }
    return true;
}

/* day plus years, 29 February becoming the 28th in a common year. */
static int32_t
s_years_after (int32_t day, int years)
{
    int y, m, d;
    meso_date_to_ymd (day, &y, &m, &d);
    if (m == 2 && d == 29 && !meso_date_valid (y + years, 2, 29))
        d = 28;
    return meso_date_from_ymd (y + years, m, d);
}

void
frame_need_session_date (meso_reply_t *reply, int *bad, const char *v)
{
    int32_t session;
    if (!frame_need_date (reply, bad, "session_date", v, &session))
        return;
    int32_t today = frame_today ();
    if (session < today - 1) {
        meso_reply_reason (reply, "in_the_past", "session_date",
                           "the session date %s is in the past", v);
        (*bad)++;
        return;
    }
    int32_t last = s_years_after (today + 1, SESSION_HORIZON_YEARS);
    if (session > last) {
        char until[16];
        meso_date_format (last, until, sizeof until);
        meso_reply_reason (reply, "beyond_horizon", "session_date",
                           "the session date %s is beyond the horizon of %d years (%s)", v,
                           SESSION_HORIZON_YEARS, until);
        (*bad)++;
    }
}

void
frame_may_text (meso_reply_t *reply, int *bad, const char *field, const char *v, size_t max)
{
    if (v && strlen (v) > max) {
        const char *dot = strrchr (field, '.');
        meso_reply_reason (reply, "out_of_range", field, "%s must be at most %zu bytes",
                           dot ? dot + 1 : field, max);
        (*bad)++;
    }
}

bool
frame_need_area_count (meso_reply_t *reply, int *bad, size_t n, bool required)
{
    if ((required && n == 0) || n > MAX_AREAS) {
        meso_reply_reason (reply, n ? "out_of_range" : "missing_field", "areas",
                           "give 1 to %d treatment areas", MAX_AREAS);
        (*bad)++;
        return false;
    }
    return true;
}

void
frame_need_area_codes (meso_reply_t *reply, int *bad, char **areas, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!meso_handler_code_ok (areas[i], false)) {
            meso_reply_reason (reply, "invalid_area", "areas",
                               "area \"%.64s\" is not a treatment area code (a-z, 0-9, _)", areas[i]);
            (*bad)++;
            return;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp (areas[i], areas[j]) == 0) {
                meso_reply_reason (reply, "duplicate_area", "areas", "area %s is listed twice", areas[i]);
                (*bad)++;
                return;
            }
    }
}

int32_t
frame_today (void)
{
    int64_t us = meso_time_now_us ();
    return (int32_t) (us / INT64_C (86400000000));
}


void
frame_array_literal (char *out, size_t size, char *const *names, size_t n)
{
    size_t len = 0;
    len += (size_t) snprintf (out + len, size - len, "{");
    for (size_t i = 0; i < n && len < size; i++)
        len += (size_t) snprintf (out + len, size - len, "%s%s", i ? "," : "", names[i]);
    if (len < size)
        snprintf (out + len, size - len, "}");
}

/* ----------------------------------------------------- mutating runner */

void
frame_run (void *arg, const Meso__V1__Request *req, meso_reply_t *reply, void *in,
           meso_idem_effect_fn *effect)
{
    inventory_t *self = arg;
    meso_idem_run (self->db, INVENTORY_SCHEMA, req, reply, in, effect, self);
}

/* ------------------------------------------------------------ stock.low */

/* unit is looked up only on a crossing, which is rare, so the event always
 * says what the quantities count. */
int
frame_low_check (meso_db_t *db, const char *clinic, const char *ingredient, Meso__V1__Unit unit)
{
    int64_t available = 0, point = 0;
    int crossed = store_low_check (db, clinic, ingredient, &available, &point);
    if (crossed <= 0)
        return crossed;
    if (unit == MESO__V1__UNIT__UNIT_UNSPECIFIED) {
        PGresult *res = store_ingredient_get (db, ingredient);
        if (!res)
            return -1;
        if (PQntuples (res) == 1)
            unit = INVENTORY_UNIT (PQgetvalue (res, 0, 2));
        PQclear (res);
    }
    Meso__V1__StockLow low = MESO__V1__STOCK_LOW__INIT;
    low.ingredient_code = (char *) ingredient;
    low.unit = unit;
    low.available_milli = available;
    low.reorder_point_milli = point;
    Meso__V1__Event ev = MESO__V1__EVENT__INIT;
    ev.payload_case = MESO__V1__EVENT__PAYLOAD_STOCK_LOW;
    ev.stock_low = &low;
    return meso_handler_emit (db, &ev, "stock.low", clinic, NULL, &frame_service_actor);
}
