/* charges.c -- the effect of consumed events: billing's consumer callback
 * (billing_on_event). A performed session is charged once, from a package
 * or on an invoice; a no-show or a late cancellation costs the clinic's
 * fee, if it set one; any event naming a patient makes the patient known to
 * billing.
 *
 * Who is a patient: screening owns patients and billing never reads its
 * tables. Billing knows a patient once an event it consumes names them
 * (screening.completed, screening.patient_changed, any session event) --
 * recorded in billing.patient -- and every billing record references that
 * table. A method naming a patient billing has never seen gets NOT_FOUND.
 *
 * Packages: a performed session is drawn from the patient's active
 * package with sessions left, sold at this clinic or at a clinic it
 * accepts (its own first, then the oldest), recognising its share of the
 * package's price and tax (billing.package_session_used). A package whose
 * last day is before the session's date is expired there and then
 * (billing.package_expired) and the next one, or the price list, pays.
 * Invoices carry the tax of the clinic's standard rate on the session
 * date.
 *
 * Events are facts: the effect is lenient where a method is strict. A
 * session with no price in effect is recorded as 'unpriced' (to invoice by
 * hand, listed in the statement) rather than failing, which would stop the
 * stream for every later event. Each appointment is dealt with at most once
 * (billing.session_charge), so a replayed event changes nothing. How a
 * session is charged and which fee applies are decided by pricing.c; this
 * file loads what the decision needs and writes what it says. */
#include "billing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "meso/log.h"
#include "meso/mtime.h"
#include "meso/uuid.h"

/* --------------------------------------------------------------- dates */

/* The session's date, clinic local: local_start "YYYY-MM-DDTHH:MM" starts
 * with it; else the UTC date of the start; else of the event. */
static int32_t
s_session_date (const Meso__V1__SessionInfo *s, const Meso__V1__Event *ev)
{
    int32_t d;
    if (s->local_start && strlen (s->local_start) >= 10) {
        char buf[11];
        memcpy (buf, s->local_start, 10);
        buf[10] = '\0';
        if (meso_date_parse (buf, &d) == 0)
            return d;
    }
    int64_t us = s->starts_at_us ? s->starts_at_us : ev->occurred_at_us;
    return us ? (int32_t) (us / INT64_C (86400000000)) : billing_today ();
}

/* Draws the session from package row pick of pkg (locked): its share of
 * the price (amount, from pricing_session_charge) and of the tax, the use,
 * the charge and billing.package_session_used. 1 or -1. */
static int
s_draw_package (meso_db_t *db, const Meso__V1__Event *ev, const Meso__V1__SessionInfo *s,
                const char *clinic, const PGresult *pkg, int pick, int64_t amount, uint32_t areas,
                const char *date)
{
    const char *pkg_clinic = PQgetvalue (pkg, pick, PKG_CLINIC);
    const char *package_id = PQgetvalue (pkg, pick, PKG_ID);
    uint32_t total = (uint32_t) store_i64 (pkg, pick, PKG_TOTAL);
    uint32_t use_no = (uint32_t) store_i64 (pkg, pick, PKG_USED) + 1;
    int64_t tax = pricing_package_share (store_i64 (pkg, pick, PKG_TAX), total, use_no);
    if (store_package_use (db, pkg_clinic, package_id, use_no, clinic, s->appointment_id,
                           s->patient_id, amount, tax) != 0
        || store_charge_insert (db, clinic, s->appointment_id, s->patient_id, "session", "package",
                                areas, date, pkg_clinic, package_id, NULL, amount, ev->id) != 0)
        return -1;
    Meso__V1__PackageSessionUsed pu = MESO__V1__PACKAGE_SESSION_USED__INIT;
    pu.package_id = (char *) package_id;
    pu.package_clinic_id = (char *) pkg_clinic;
    pu.patient_id = s->patient_id;
    pu.appointment_id = s->appointment_id;
    pu.use_no = use_no;
    pu.sessions_total = total;
    pu.sessions_left = total - use_no;
    pu.gross_cents = amount;
    pu.tax_cents = tax;
    pu.net_cents = amount - tax;
    pu.currency = PQgetvalue (pkg, pick, PKG_CURRENCY);
    pu.session_date = (char *) date;
    pu.last = use_no == total;
    Meso__V1__Event out = MESO__V1__EVENT__INIT;
    out.payload_case = MESO__V1__EVENT__PAYLOAD_PACKAGE_SESSION_USED;
    out.package_session_used = &pu;
    return billing_emit (db, &out, "billing.package_session_used", clinic, ev->actor) == 0 ? 1 : -1;
}

/* session.completed: charges the session once. 1 charged now, 0 already. */
static int
s_charge_session (meso_db_t *db, const Meso__V1__Event *ev, const Meso__V1__SessionInfo *s,
                  const char *clinic)
{
    int done = store_charge_exists (db, clinic, s->appointment_id);
    if (done != 0)
        return done < 0 ? -1 : 0;
    uint32_t areas = s->n_areas ? (uint32_t) s->n_areas : 1;
    int32_t on = s_session_date (s, ev);
    char date[11];
    meso_date_format (on, date, sizeof date);
    /* The packages the session may draw from, locked; the price rows only
     * when none pays (a prepaid session needs no price). */
    PGresult *pkg = store_package_candidates (db, clinic, s->patient_id, date);
    if (!pkg)
        return -1;
    int pick = -1;
    for (int i = 0; i < PQntuples (pkg) && pick < 0; i++) {
        int32_t last;
        const char *exp = PQgetvalue (pkg, i, PKG_EXPIRES);
        if (*exp && meso_date_parse (exp, &last) == 0 && last < on) {
            if (billing_package_expire (db, pkg, i, NULL) != 0) {
                PQclear (pkg);
                return -1;
            }
            continue;
        }
        pick = i;
    }
    pricing_package_t pk = { 0, 0, 0 };
    if (pick >= 0) {
        pk.sessions_total = (uint32_t) store_i64 (pkg, pick, PKG_TOTAL);
        pk.price_cents = store_i64 (pkg, pick, PKG_PRICE);
        pk.sessions_used = (uint32_t) store_i64 (pkg, pick, PKG_USED);
    }
    pricing_entry_t *rows = NULL;
    size_t n = 0;
    if (pick < 0 && billing_price_rows (db, clinic, &rows, &n) != 0) {
        PQclear (pkg);
        return -1;
    }
    int64_t amount = 0;
    pricing_charge_t how = pricing_session_charge (pick >= 0 ? &pk : NULL, rows, n, on, areas, &amount);
    free (rows);
    if (how == PRICING_CHARGE_PACKAGE) {
        int rc = s_draw_package (db, ev, s, clinic, pkg, pick, amount, areas, date);
        PQclear (pkg);
        return rc;
    }
    PQclear (pkg);
    if (how == PRICING_CHARGE_UNPRICED) {
        /* An event is a fact: recorded, to invoice by hand, rather than
         * refused, which would stop the stream for every later event. */
        meso_warn ("no price list of clinic %s in effect on %s: appointment %s recorded unpriced",
                   clinic, date, s->appointment_id);
        return store_charge_insert (db, clinic, s->appointment_id, s->patient_id, "session", "unpriced",
                                    areas, date, NULL, NULL, NULL, 0, ev->id) == 0 ? 1 : -1;
    }
    char desc[96], currency[4], invoice_id[MESO_UUID_LEN + 1];
    snprintf (desc, sizeof desc, "Session %s, %u area%s", date, areas, areas > 1 ? "s" : "");
    billing_line_t line = { desc, amount, s->appointment_id, areas, PRICING_TAX_STANDARD, 0 };
    size_t badl;
    if (store_clinic_get (db, clinic, currency, NULL) != 0
        || billing_tax_lines (db, clinic, on, &line, 1, &badl) < 0
        || billing_invoice_issue (db, clinic, s->patient_id, currency, "session", NULL, &line, 1,
                                  ev->actor, invoice_id, NULL) != 0
        || store_charge_insert (db, clinic, s->appointment_id, s->patient_id, "session", "invoiced",
                                areas, date, NULL, NULL, invoice_id, amount, ev->id) != 0)
        return -1;
    return 1;
}

/* session.no_show / late session.cancelled: the clinic's fee, if any. */
static int
s_charge_fee (meso_db_t *db, const Meso__V1__Event *ev, const Meso__V1__SessionInfo *s,
              const char *clinic, pricing_event_t kind, bool late, int by)
{
    char currency[4];
    pricing_fees_t fees;
    if (store_clinic_get (db, clinic, currency, &fees) != 0)
        return -1;
    int64_t fee = pricing_fee (&fees, kind, late, by);
    if (fee <= 0)
        return 0;
    int done = store_charge_exists (db, clinic, s->appointment_id);
    if (done != 0)
        return done < 0 ? -1 : 0;
    const char *what = kind == PRICING_EVENT_NO_SHOW ? "no_show" : "late_cancel";
    char desc[96], invoice_id[MESO_UUID_LEN + 1], date[11];
    int32_t on = s_session_date (s, ev);
    meso_date_format (on, date, sizeof date);
    snprintf (desc, sizeof desc, "%s fee, session %s",
              kind == PRICING_EVENT_NO_SHOW ? "No-show" : "Late cancellation", date);
    billing_line_t line = { desc, fee, s->appointment_id, 0, PRICING_TAX_STANDARD, 0 };
    size_t badl;
    if (billing_tax_lines (db, clinic, on, &line, 1, &badl) < 0
        || billing_invoice_issue (db, clinic, s->patient_id, currency, "fee", NULL, &line, 1, ev->actor,
                                  invoice_id, NULL) != 0
        || store_charge_insert (db, clinic, s->appointment_id, s->patient_id, what, "invoiced",
                                (uint32_t) s->n_areas, date, NULL, NULL, invoice_id, fee, ev->id) != 0)
        return -1;
    return 1;
}

int
billing_on_event (meso_db_t *db, const Meso__V1__Event *ev, void *arg)
{
    billing_t *self = arg;
    const Meso__V1__SessionInfo *s = NULL;
    switch (ev->payload_case) {
    case MESO__V1__EVENT__PAYLOAD_SCREENING_COMPLETED:
        if (ev->screening_completed->patient_id && *ev->screening_completed->patient_id
            && strlen (ev->screening_completed->patient_id) <= BILLING_ID_MAX)
            return store_patient_see (db, ev->screening_completed->patient_id, ev->type);
        return 0;
    case MESO__V1__EVENT__PAYLOAD_PATIENT_CHANGED:
        if (ev->patient_changed->patient_id && *ev->patient_changed->patient_id
            && strlen (ev->patient_changed->patient_id) <= BILLING_ID_MAX)
            return store_patient_see (db, ev->patient_changed->patient_id, ev->type);
        return 0;
    case MESO__V1__EVENT__PAYLOAD_SESSION_BOOKED: s = ev->session_booked->session; break;
    case MESO__V1__EVENT__PAYLOAD_SESSION_RESCHEDULED: s = ev->session_rescheduled->session; break;
    case MESO__V1__EVENT__PAYLOAD_SESSION_STARTED: s = ev->session_started->session; break;
    case MESO__V1__EVENT__PAYLOAD_SESSION_COMPLETED: s = ev->session_completed->session; break;
    case MESO__V1__EVENT__PAYLOAD_SESSION_NO_SHOW: s = ev->session_no_show->session; break;
    case MESO__V1__EVENT__PAYLOAD_SESSION_CANCELLED: s = ev->session_cancelled->session; break;
    default:
        return 0;
    }
    const char *clinic = s && s->clinic_id && *s->clinic_id ? s->clinic_id : ev->clinic_id;
    if (!s || !s->patient_id || !*s->patient_id || strlen (s->patient_id) > BILLING_ID_MAX
        || !s->appointment_id || !*s->appointment_id || strlen (s->appointment_id) > BILLING_ID_MAX
        || !clinic || !*clinic || strlen (clinic) > BILLING_ID_MAX) {
        meso_warn ("event %s (%s) lacks a patient, appointment or clinic: ignored", ev->id, ev->type);
        return 0;
    }
    if (store_patient_see (db, s->patient_id, ev->type) != 0)
        return -1;
    int rc = 0;
    switch (ev->payload_case) {
    case MESO__V1__EVENT__PAYLOAD_SESSION_COMPLETED:
        rc = s_charge_session (db, ev, s, clinic);
        break;
    case MESO__V1__EVENT__PAYLOAD_SESSION_NO_SHOW:
        rc = s_charge_fee (db, ev, s, clinic, PRICING_EVENT_NO_SHOW, false, 0);
        break;
    case MESO__V1__EVENT__PAYLOAD_SESSION_CANCELLED:
        rc = s_charge_fee (db, ev, s, clinic, PRICING_EVENT_CANCELLED, ev->session_cancelled->late,
                           (int) ev->session_cancelled->by);
        break;
    default:
        break;
    }
    if (rc < 0)
        return -1;
    if (self) {
        self->events_applied++;
        if (rc > 0 && ev->payload_case == MESO__V1__EVENT__PAYLOAD_SESSION_COMPLETED)
            self->sessions_charged++;
        if (self->test_pause_ms > 0 && rc > 0) {
            /* Tests: the effect is written, the commit has not happened. */
            meso_info ("test pause: %d ms before committing event %s", self->test_pause_ms, ev->id);
            usleep ((useconds_t) self->test_pause_ms * 1000);
        }
    }
    return 0;
}
