/* pricing.c -- billing's pure logic (see pricing.h). No I/O, no clock. */
#include "pricing.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

bool
pricing_price_ok (int64_t cents)
{
    return cents >= PRICING_MIN_CENTS && cents <= PRICING_MAX_CENTS;
}

int
pricing_pick (const pricing_entry_t *rows, size_t n, int32_t on, uint32_t areas,
              int64_t *price, int32_t *list_from)
{
    assert (price);
    if (areas == 0)
        areas = 1;
    int32_t from;
    if (pricing_list_in_effect (rows, n, on, &from) != 0)
        return -1;
    /* In it: the largest entry with areas <= the session's, else the
     * smallest entry. */
    const pricing_entry_t *below = NULL, *smallest = NULL;
    for (size_t i = 0; i < n; i++) {
        const pricing_entry_t *e = &rows[i];
        if (e->effective_from != from)
            continue;
        if (e->areas <= areas && (!below || e->areas > below->areas))
            below = e;
        if (!smallest || e->areas < smallest->areas)
            smallest = e;
    }
    const pricing_entry_t *e = below ? below : smallest;
    if (!e)
        return -1;
    *price = e->price_cents;
    if (list_from)
        *list_from = from;
    return 0;
}

int
pricing_list_in_effect (const pricing_entry_t *rows, size_t n, int32_t on, int32_t *list_from)
{
    assert (list_from);
    bool found = false;
    int32_t from = 0;
    for (size_t i = 0; i < n; i++)
        if (rows[i].effective_from <= on && (!found || rows[i].effective_from > from)) {
            from = rows[i].effective_from;
            found = true;
        }
    if (!found)
        return -1;
    *list_from = from;
    return 0;
}

int
pricing_package_check (uint32_t sessions, int64_t price_cents, int64_t *per_session)
{
    if (sessions < 1 || sessions > PRICING_MAX_PACKAGE_SESSIONS)
        return -1;
    /* Compare without dividing so no rounding lets a price slip through. */
    if (price_cents < (int64_t) sessions * PRICING_MIN_CENTS
        || price_cents > (int64_t) sessions * PRICING_MAX_CENTS)
        return -2;
    if (per_session)
        *per_session = price_cents / (int64_t) sessions;
    return 0;
}

int64_t
pricing_per_session (int64_t price_cents, uint32_t sessions)
{
    return sessions ? price_cents / (int64_t) sessions : 0;
}

pricing_charge_t
pricing_session_charge (const pricing_package_t *pkg, const pricing_entry_t *rows, size_t n,
                        int32_t on, uint32_t areas, int64_t *amount)
{
    assert (amount);
    /* A prepaid session is never invoiced again, whatever the list says. */
    if (pkg) {
        *amount = pkg->sessions_total
                  ? pricing_package_share (pkg->price_cents, pkg->sessions_total, pkg->sessions_used + 1)
                  : pkg->price_cents;
        return PRICING_CHARGE_PACKAGE;
    }
    if (pricing_pick (rows, n, on, areas, amount, NULL) == 0)
        return PRICING_CHARGE_INVOICE;
    *amount = 0;
    return PRICING_CHARGE_UNPRICED;
}

/* ---------------------------------------------------------------- taxes */

int64_t
pricing_div_half_even (int64_t num, int64_t den)
{
    assert (num >= 0 && den > 0);
    int64_t q = num / den, r = num % den;
    /* Compare 2r with den without overflow: r < den. */
    if (r > den - r || (r == den - r && (q & 1)))
        q++;
    return q;
}

int64_t
pricing_tax_included (int64_t gross, uint32_t rate_ppm)
{
    if (gross <= 0 || rate_ppm == 0)
        return 0;
    if (rate_ppm > PRICING_MAX_RATE_PPM)
        rate_ppm = PRICING_MAX_RATE_PPM;
    /* gross <= 1e8 * 50 lines, rate <= 1e6: the product fits in 63 bits. */
    return pricing_div_half_even (gross * (int64_t) rate_ppm, INT64_C (1000000) + rate_ppm);
}

bool
pricing_tax_category_ok (const char *c)
{
    if (!c || !(*c >= 'a' && *c <= 'z'))
        return false;
    size_t n = 0;
    for (; c[n]; n++)
        if (!((c[n] >= 'a' && c[n] <= 'z') || (c[n] >= '0' && c[n] <= '9') || c[n] == '_'))
            return false;
    return n <= PRICING_TAX_CATEGORY_MAX;
}

int
pricing_tax_rate (const pricing_tax_t *rows, size_t n, int32_t on, const char *category,
                  uint32_t *rate)
{
    assert (rate);
    const char *cat = category && *category ? category : PRICING_TAX_STANDARD;
    bool standard = strcmp (cat, PRICING_TAX_STANDARD) == 0;
    bool found = false;
    int32_t from = 0;
    for (size_t i = 0; i < n; i++)
        if (rows[i].effective_from <= on && (!found || rows[i].effective_from > from)) {
            from = rows[i].effective_from;
            found = true;
        }
    *rate = 0;
    if (found)
        for (size_t i = 0; i < n; i++)
            if (rows[i].effective_from == from && rows[i].category
                && strcmp (rows[i].category, cat) == 0) {
                *rate = rows[i].rate_ppm;
                return 0;
            }
    /* No tax is the default only for the standard category: a line that
     * names another one must find it. */
    return standard ? 0 : -1;
}

/* ------------------------------------------------------------- packages */

int64_t
pricing_package_share (int64_t amount, uint32_t sessions, uint32_t use_no)
{
    if (sessions == 0 || use_no < 1 || use_no > sessions)
        return 0;
    int64_t share = amount / (int64_t) sessions;
    return use_no == sessions ? share + amount % (int64_t) sessions : share;
}

int64_t
pricing_package_recognised (int64_t amount, uint32_t sessions, uint32_t used)
{
    if (sessions == 0 || used == 0)
        return 0;
    if (used >= sessions)
        return amount;
    return (amount / (int64_t) sessions) * (int64_t) used;
}

int64_t
pricing_package_refund (int64_t price, int64_t unused, int64_t paid)
{
    if (price <= 0 || unused <= 0 || paid <= 0)
        return 0;
    if (unused > price)
        unused = price;
    /* unused <= price <= 5e6 cents and paid bounded by the invoice: the
     * product stays far below 2^63. */
    int64_t back = paid >= price ? unused : (unused * paid) / price;
    return back > paid ? paid : back;
}

int
pricing_spread_refund (const int64_t *refundable, size_t n, int64_t amount, int64_t *take)
{
    int64_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += refundable[i] > 0 ? refundable[i] : 0;
    if (amount <= 0 || amount > sum)
        return -1;
    int touched = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t avail = refundable[i] > 0 ? refundable[i] : 0;
        take[i] = amount < avail ? amount : avail;
        amount -= take[i];
        if (take[i] > 0)
            touched++;
    }
    return touched;
}

/* -------------------------------------------------------------- refunds */

int64_t
pricing_refundable (int64_t paid, int64_t refunded)
{
    int64_t left = paid - refunded;
    return left > 0 ? left : 0;
}

bool
pricing_refund_ok (int64_t paid, int64_t refunded, int64_t amount)
{
    return amount > 0 && amount <= pricing_refundable (paid, refunded);
}

int64_t
pricing_invoice_due (int64_t total, int64_t net_paid)
{
    return total - net_paid;
}

int64_t
pricing_invoice_after_payment (int64_t total, int64_t net_paid, int64_t amount)
{
    int64_t due = pricing_invoice_due (total, net_paid);
    if (amount <= 0 || amount > due)
        return -1;
    return due - amount;
}

int64_t
pricing_fee (const pricing_fees_t *fees, pricing_event_t kind, bool late, int by)
{
    assert (fees);
    if (kind == PRICING_EVENT_NO_SHOW)
        return fees->no_show_cents > 0 ? fees->no_show_cents : 0;
    /* The clinic cancelling, or the booking saga undoing itself, never
     * costs the patient anything. */
    if (!late || by == PRICING_BY_CLINIC || by == PRICING_BY_SYSTEM)
        return 0;
    return fees->late_cancel_cents > 0 ? fees->late_cancel_cents : 0;
}

void
pricing_statement_add (pricing_statement_t *st, const char *kind, int64_t amount)
{
    assert (st && kind);
    /* Payments are negative entries: the statement shows them paid, as a
     * positive amount. */
    if (strcmp (kind, "charge") == 0)
        st->charged_cents += amount;
    else if (strcmp (kind, "payment") == 0)
        st->paid_cents -= amount;
    else if (strcmp (kind, "credit") == 0)
        st->credited_cents -= amount;
    else
        st->refunded_cents += amount;
    st->due_cents += amount;
}

bool
pricing_method_ok (const char *method)
{
    return method && (strcmp (method, "card") == 0 || strcmp (method, "cash") == 0
                      || strcmp (method, "bank_transfer") == 0);
}

static int
s_record_only (void *ctx, const char *method, int64_t amount_cents, const char *currency,
               const char *idempotency_key, char *ref, size_t refsize, char *err, size_t errsize)
{
    (void) ctx;
    (void) currency;
    if (!pricing_method_ok (method)) {
        snprintf (err, errsize, "unknown payment method \"%.32s\"", method ? method : "");
        return -1;
    }
    if (amount_cents <= 0) {
        snprintf (err, errsize, "amount must be positive");
        return -1;
    }
    snprintf (ref, refsize, "%s:%s", method, idempotency_key ? idempotency_key : "");
    return 0;
}

const pricing_provider_t pricing_provider_record_only = { "record-only", s_record_only, NULL };
