/* pricing.h -- billing's pure logic: which price applies, what a package
 * may cost, how a performed session is charged (package draw, invoice or
 * unpriced), what may be refunded, what an invoice payment leaves due,
 * which fee an event incurs, how a statement's ledger adds up; and the
 * payment-provider interface with its "record only" implementation.
 *
 * No I/O here (unit tested directly by tests/unit/test_pricing.c): the
 * daemon reads rows, this decides, the daemon writes. Money is int64 cents,
 * dates are int32 days since 1970-01-01 (meso/mtime.h). */
#ifndef BILLING_PRICING_H
#define BILLING_PRICING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A session costs $300 to $500 (DOMAIN.md, Billing). */
#define PRICING_MIN_CENTS 30000
#define PRICING_MAX_CENTS 50000
/* Areas a price entry may name. */
#define PRICING_MAX_AREAS 12
/* Sessions a package may hold. */
#define PRICING_MAX_PACKAGE_SESSIONS 100
/* Largest single payment (a million dollars: a typing error beyond). */
#define PRICING_MAX_PAYMENT_CENTS (INT64_C (100000000))
/* Largest fee a clinic may set. */
#define PRICING_MAX_FEE_CENTS PRICING_MAX_CENTS

/* One row of a clinic's price lists. */
typedef struct {
    int32_t effective_from;     /* first day the list applies */
    uint32_t areas;             /* number of areas of the session, 1..12 */
    int64_t price_cents;
} pricing_entry_t;

/* True when cents is a valid session price (30000..50000). */
bool pricing_price_ok (int64_t cents);

/* The price of a session treating areas areas (0 counts as 1) on day on,
 * from rows (any order) of every list of one clinic: the list in effect is
 * the one with the latest effective_from <= on; in it, the entry for the
 * session's number of areas, else the largest entry below it, else (only
 * larger entries exist) the smallest entry. Returns 0 with *price (and
 * *list_from when non-NULL) set, or -1 when no list is in effect. */
int pricing_pick (const pricing_entry_t *rows, size_t n, int32_t on, uint32_t areas,
                  int64_t *price, int32_t *list_from);

/* The list in effect on day on among rows (any order): the latest
 * effective_from <= on. Returns 0 with *list_from set, or -1 when none. */
int pricing_list_in_effect (const pricing_entry_t *rows, size_t n, int32_t on, int32_t *list_from);

/* Package check: sessions 1..100 and price / sessions within the session
 * range (so price itself lies in [30000 * sessions, 50000 * sessions]).
 * Returns 0 with *per_session = price / sessions (rounded down), -1 when
 * sessions is out of range, -2 when the price per session is. */
int pricing_package_check (uint32_t sessions, int64_t price_cents, int64_t *per_session);

/* What one session of a package of sessions sessions sold for price_cents
 * is worth, rounded down; 0 for a package of no sessions. */
int64_t pricing_per_session (int64_t price_cents, uint32_t sessions);

/* The package a performed session may be drawn from: the patient's oldest
 * with sessions left (the store finds and locks it). */
typedef struct {
    uint32_t sessions_total;
    int64_t price_cents;
    uint32_t sessions_used;     /* before this session */
} pricing_package_t;

typedef enum {
    PRICING_CHARGE_PACKAGE,     /* one session drawn from the package */
    PRICING_CHARGE_INVOICE,     /* invoiced at the list price in effect */
    PRICING_CHARGE_UNPRICED     /* no list in effect: recorded at 0, invoiced by hand */
} pricing_charge_t;

/* How a session treating areas areas on day on is charged, and *amount:
 * from pkg (NULL: the patient has none) at its share of the price
 * (pricing_package_share of use sessions_used + 1: the price divided by
 * its sessions, rounded down, the last session taking the leftover cents;
 * a package the schema would refuse, of 0 sessions, draws its price); else at the price pricing_pick finds in rows;
 * else unpriced, amount 0. rows are not read when pkg is given. */
pricing_charge_t pricing_session_charge (const pricing_package_t *pkg, const pricing_entry_t *rows,
                                         size_t n, int32_t on, uint32_t areas, int64_t *amount);

/* ---------------------------------------------------------------- taxes
 *
 * Amounts are what the patient pays, tax included. The tax of a line of
 * gross cents at rate_ppm (parts per million) is gross * rate / (1e6 +
 * rate), rounded half to even to the cent, line by line; an invoice's tax
 * is the sum of its lines' (never computed on the total). */
#define PRICING_MAX_RATE_PPM 1000000
/* Tax categories a set may hold; longest category name. */
#define PRICING_MAX_TAX_RATES 20
#define PRICING_TAX_CATEGORY_MAX 32
/* The category of sessions, packages, fees and lines naming none. */
#define PRICING_TAX_STANDARD "standard"

/* num / den rounded half to even; num >= 0, den > 0. */
int64_t pricing_div_half_even (int64_t num, int64_t den);

/* The tax included in gross cents at rate_ppm (gross >= 0, rate <=
 * PRICING_MAX_RATE_PPM). */
int64_t pricing_tax_included (int64_t gross, uint32_t rate_ppm);

/* True when category is 1..32 bytes of [a-z0-9_] starting with a letter. */
bool pricing_tax_category_ok (const char *category);

/* One row of a clinic's tax rate sets. */
typedef struct {
    int32_t effective_from;
    const char *category;       /* points into the caller's storage */
    uint32_t rate_ppm;
} pricing_tax_t;

/* The rate of category ("" or NULL: standard) on day on, from rows (any
 * order) of every set of one clinic: the set in effect is the one with the
 * latest effective_from <= on. 0 with *rate set; the standard category is
 * 0 when no set is in effect or the set lacks it. -1 for another category
 * the set in effect lacks (or with no set in effect). */
int pricing_tax_rate (const pricing_tax_t *rows, size_t n, int32_t on, const char *category,
                      uint32_t *rate);

/* ------------------------------------------------------------- packages */

/* What use use_no (1..sessions) of a package recognises of amount cents
 * (its price, or its tax): amount / sessions rounded down, and the last
 * use the leftover cents as well, so the uses add up to amount exactly.
 * 0 for use_no outside 1..sessions. */
int64_t pricing_package_share (int64_t amount, uint32_t sessions, uint32_t use_no);

/* What used uses of a package have recognised of amount (the sum of their
 * shares). */
int64_t pricing_package_recognised (int64_t amount, uint32_t sessions, uint32_t used);

/* What a refund of a package's unused sessions gives back: of unused
 * (the unused value, price - recognised), the share the patient paid,
 * unused * paid / price rounded down, where paid is what was paid on the
 * package's invoice less what was refunded of it; never more than paid,
 * never negative. */
int64_t pricing_package_refund (int64_t price, int64_t unused, int64_t paid);

/* Spreads a refund of amount over payments given newest first, each with
 * refundable[i] left: takes from the newest as much as it has, then the
 * next. take[i] receives what is taken from payment i (0 for the rest).
 * Returns the number of payments touched, or -1 when amount is not
 * positive or exceeds the sum of refundable (nothing is taken). */
int pricing_spread_refund (const int64_t *refundable, size_t n, int64_t amount, int64_t *take);

/* What may still be refunded of a payment of paid cents from which
 * refunded cents were already given back (never negative). */
int64_t pricing_refundable (int64_t paid, int64_t refunded);

/* True when a refund of amount is allowed: 0 < amount <= refundable. */
bool pricing_refund_ok (int64_t paid, int64_t refunded, int64_t amount);

/* What is still due on an invoice of total on which net (payments less
 * refunds) was paid; callers pass the total less what credit notes took
 * back. */
int64_t pricing_invoice_due (int64_t total, int64_t net_paid);

/* What a payment of amount to an invoice of total, on which net (payments
 * less refunds) was already paid, leaves due; -1 when amount is not
 * positive or exceeds what is due (no overpaying an invoice). */
int64_t pricing_invoice_after_payment (int64_t total, int64_t net_paid, int64_t amount);

/* The clinic's fee policy. 0 means no fee. */
typedef struct {
    int64_t no_show_cents;
    int64_t late_cancel_cents;
} pricing_fees_t;

typedef enum {
    PRICING_EVENT_NO_SHOW,
    PRICING_EVENT_CANCELLED
} pricing_event_t;

/* Who cancelled (values of meso.v1.SessionCancelled.By). */
typedef enum {
    PRICING_BY_UNSPECIFIED = 0,
    PRICING_BY_PATIENT = 1,
    PRICING_BY_CLINIC = 2,
    PRICING_BY_SYSTEM = 3
} pricing_by_t;

/* The fee an event incurs: a no-show its fee; a cancellation the late fee
 * only when late and not by the clinic or the system (a cancellation whose
 * author is unspecified counts as the patient's). 0: no fee. */
int64_t pricing_fee (const pricing_fees_t *fees, pricing_event_t kind, bool late, int by);

/* A statement's figures, summed from the patient's signed ledger entries
 * (charge +, payment -, refund +): charged, paid and refunded as positive
 * amounts, due the sum of every entry. Start from all zeros. */
typedef struct {
    int64_t charged_cents;
    int64_t paid_cents;
    int64_t refunded_cents;
    int64_t due_cents;
    int64_t credited_cents;
} pricing_statement_t;

/* Adds one ledger entry of kind ("charge", "payment", "credit"; anything
 * else counts as a refund) and signed amount to st; credits (negative
 * entries) sum into credited_cents as a positive figure. */
void pricing_statement_add (pricing_statement_t *st, const char *kind, int64_t amount);

/* ------------------------------------------------------ payment provider
 *
 * How money is taken is outside meso today: payments are recorded, not
 * processed. A provider that processes them (a card gateway) can be plugged
 * in later behind this interface; the daemon calls record() inside the
 * payment's transaction and stores the reference it returns. */
typedef struct {
    const char *name;
    /* Records a payment; writes the provider's reference into ref. Returns
     * 0, or -1 with a message in err when the provider refuses it. */
    int (*record) (void *ctx, const char *method, int64_t amount_cents, const char *currency,
                   const char *idempotency_key, char *ref, size_t refsize,
                   char *err, size_t errsize);
    void *ctx;
} pricing_provider_t;

/* The "record only" provider: accepts "card", "cash" and "bank_transfer"
 * with a positive amount and refers to the payment as
 * "<method>:<idempotency key>". */
extern const pricing_provider_t pricing_provider_record_only;

/* True for "card", "cash", "bank_transfer". */
bool pricing_method_ok (const char *method);

#endif
