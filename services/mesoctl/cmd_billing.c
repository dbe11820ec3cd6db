/* cmd_billing.c -- "mesoctl billing ...": the front desk's view of the
 * billing daemon.
 *
 *     mesoctl billing prices set  --clinic C --from YYYY-MM-DD --prices 1:350,2:420 [--currency USD]
 *     mesoctl billing prices show --clinic C [--date YYYY-MM-DD]
 *     mesoctl billing fees        --clinic C --no-show 100 --late-cancel 50
 *     mesoctl billing package sell --clinic C --patient P --sessions N --price 3800
 *     mesoctl billing package show --clinic C --package ID
 *     mesoctl billing invoice     --clinic C --patient P (--amount 350 | --areas N) [--description D]
 *     mesoctl billing pay         --clinic C (--invoice I | --patient P) --amount 350 --method card
 *     mesoctl billing refund      --clinic C (--payment ID | --invoice ID) --amount 50 --reason "..."
 *     mesoctl billing statement   --clinic C --patient P
 *
 * (taxes, package policy, package refund, cancel, revenue and liability
 * are in cmd_billing_books.c.)
 *
 * Amounts on the command line are decimal currency units ("350", "350.50"),
 * turned into integer cents by meso_money_parse: never a float. Each prints
 * a readable form, or with --json the reply message as one JSON line
 * (meso/pbjson.h: field names as in proto/meso/v1/billing.proto). A refusal
 * prints every reason and exits 1. Mutating commands take --key (default: a
 * new UUID): run again with the same key to retry safely.
 *
 * Each subcommand has its own option table and --help; "package sell" and
 * "package show" once shared one table, so each still accepts (and
 * ignores) the other's flags. One file for the service: the subcommands
 * share the amount parsing and the money format, and it stays under 600
 * lines; the subcommands of the books went to cmd_billing_books.c when
 * it would not. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "billing.pb-c.h"
#include "meso/money.h"
#include "meso/mtime.h"
#include "mesoctl.h"

/* The daemon as every billing subcommand reaches it (cmd_billing_books.c). */
#define s_service mesoctl_billing_service

/* Parses an amount option into cents; prints why not. */
static int
s_amount (const meso_opt_t *opts, const char *name, int64_t *cents)
{
    const char *v = mesoctl_opt (opts, name);
    if (!*v || meso_money_parse (v, cents) != 0) {
        fprintf (stderr, "mesoctl: --%s must be an amount such as 350 or 350.50 (got \"%s\")\n", name, v);
        return -1;
    }
    return 0;
}

static const char *
s_money (int64_t cents, const char *currency, char *buf, size_t size)
{
    meso_money_format (cents, currency, buf, size);
    return buf;
}

/* ---------------------------------------------------------------- prices */

static const meso_opt_t s_prices_set_opts[] = {
    { "clinic", NULL, NULL, "clinic id (required)", NULL },
    { "from", NULL, NULL, "first day the list applies, YYYY-MM-DD (required)", NULL },
    { "prices", NULL, NULL, "areas:price pairs, e.g. 1:350,2:420 (required)", NULL },
    { "currency", NULL, "", "the clinic's currency (default: keep, USD)", NULL },
    MESOCTL_OPT_END
};

static int
s_prices_set (meso_opt_t *opts)
{
    int rc;
    char list[512];
    snprintf (list, sizeof list, "%s", mesoctl_opt (opts, "prices"));
    Meso__V1__PriceEntry e[12], *ep[12];
    size_t n = 0;
    char *save = NULL;
    for (char *t = strtok_r (list, ",", &save); t; t = strtok_r (NULL, ",", &save)) {
        char *colon = strchr (t, ':');
        int64_t cents;
        if (n == 12 || !colon || (*colon = '\0', meso_money_parse (colon + 1, &cents) != 0)) {
            fprintf (stderr, "mesoctl: --prices takes up to 12 areas:price pairs, e.g. 1:350,2:420\n");
            return MESOCTL_USAGE;
        }
        meso__v1__price_entry__init (&e[n]);
        e[n].areas = (uint32_t) atoi (t);
        e[n].price_cents = cents;
        ep[n] = &e[n];
        n++;
    }
    Meso__V1__PriceList pl = MESO__V1__PRICE_LIST__INIT;
    pl.clinic_id = (char *) mesoctl_opt (opts, "clinic");
    pl.effective_from = (char *) mesoctl_opt (opts, "from");
    pl.currency = (char *) mesoctl_opt (opts, "currency");
    pl.prices = ep;
    pl.n_prices = n;
    Meso__V1__SetPriceListRequest rq = MESO__V1__SET_PRICE_LIST_REQUEST__INIT;
    rq.price_list = &pl;
    ProtobufCMessage *out = NULL;
    rc = mesoctl_call (&s_service, opts, "billing.SetPriceList", &rq.base, true, &meso__v1__set_price_list_reply__descriptor, &out);
    if (rc != MESOCTL_OK)
        return rc;
    Meso__V1__SetPriceListReply *rep = (Meso__V1__SetPriceListReply *) out;
    if (!meso_config_bool (opts, "json"))
        printf ("price list of %s from %s set (%zu prices, %s)\n", rep->price_list->clinic_id,
                rep->price_list->effective_from, rep->price_list->n_prices, rep->price_list->currency);
    protobuf_c_message_free_unpacked (out, NULL);
    return MESOCTL_OK;
}

static const meso_opt_t s_prices_show_opts[] = {
    { "clinic", NULL, NULL, "clinic id (required)", NULL },
    { "date", NULL, "", "the day to show the list in effect for (default today)", NULL },
    MESOCTL_PAGE_OPTS,
    MESOCTL_OPT_END
};

/* A page of price lists; the clinic's fees, taxes and package settings
 * after the last page's lists. */
static void
s_prices_page (const ProtobufCMessage *m, int page, void *arg)
{
    const char *clinic = arg;
    const Meso__V1__GetPriceListReply *rep = (const Meso__V1__GetPriceListReply *) m;
    {
        char b[64];
        if (page == 0)
            printf ("clinic %s, currency %s\n", clinic, rep->currency);
        for (size_t i = 0; i < rep->n_all; i++) {
            Meso__V1__PriceList *l = rep->all[i];
            bool now = rep->in_effect && strcmp (rep->in_effect->effective_from, l->effective_from) == 0;
            printf ("  from %s%s\n", l->effective_from, now ? "  (in effect)" : "");
            for (size_t k = 0; k < l->n_prices; k++)
                printf ("    %2u area%s  %s\n", l->prices[k]->areas, l->prices[k]->areas > 1 ? "s" : " ",
                        s_money (l->prices[k]->price_cents, rep->currency, b, sizeof b));
        }
        if (page == 0 && rep->n_all == 0)
            printf ("  no price list\n");
        if (*rep->next_page_token)
            return;
        if (rep->fee_policy) {
            char c[64];
            printf ("  fees: no-show %s, late cancellation %s\n",
                    s_money (rep->fee_policy->no_show_fee_cents, rep->currency, b, sizeof b),
                    s_money (rep->fee_policy->late_cancel_fee_cents, rep->currency, c, sizeof c));
        }
        for (size_t i = 0; i < rep->n_tax_rates; i++) {
            Meso__V1__TaxRates *t = rep->tax_rates[i];
            bool now = rep->tax_in_effect && strcmp (rep->tax_in_effect->effective_from, t->effective_from) == 0;
            printf ("  taxes from %s%s:", t->effective_from, now ? " (in effect)" : "");
            for (size_t k = 0; k < t->n_rates; k++) {
                /* parts per million as a percentage: 88750 -> 8.875 */
                char pct[16];
                int len = snprintf (pct, sizeof pct, "%u.%04u", t->rates[k]->rate_ppm / 10000,
                                    t->rates[k]->rate_ppm % 10000);
                while (len > 0 && pct[len - 1] == '0')
                    pct[--len] = '\0';
                if (len > 0 && pct[len - 1] == '.')
                    pct[--len] = '\0';
                printf (" %s %s%%", t->rates[k]->category, pct);
            }
            printf ("\n");
        }
        if (rep->n_tax_rates == 0)
            printf ("  no tax\n");
        if (rep->package_policy) {
            printf ("  packages: %s%u days; accepts packages of", rep->package_policy->validity_days ? "" : "no expiry, ",
                    rep->package_policy->validity_days);
            for (size_t k = 0; k < rep->package_policy->n_accepts_packages_of; k++)
                printf (" %s", rep->package_policy->accepts_packages_of[k]);
            printf ("%s\n", rep->package_policy->n_accepts_packages_of ? "" : " no other clinic");
        }
    }
}

static int
s_prices_show (meso_opt_t *opts)
{
    Meso__V1__GetPriceListRequest rq = MESO__V1__GET_PRICE_LIST_REQUEST__INIT;
    rq.clinic_id = (char *) mesoctl_opt (opts, "clinic");
    rq.on_date = (char *) mesoctl_opt (opts, "date");
    return mesoctl_call_pages (&s_service, opts, "billing.GetPriceList", &rq.base, false,
                               &meso__v1__get_price_list_reply__descriptor, s_prices_page, rq.clinic_id);
}

static const meso_opt_t s_fees_opts[] = {
    { "clinic", NULL, NULL, "clinic id (required)", NULL },
    { "no-show", NULL, "0", "fee for a no-show (0: none)", NULL },
    { "late-cancel", NULL, "0", "fee for a late cancellation by the patient (0: none)", NULL },
    MESOCTL_OPT_END
};

static int
s_fees (meso_opt_t *opts)
{
    int rc;
    Meso__V1__FeePolicy fp = MESO__V1__FEE_POLICY__INIT;
    fp.clinic_id = (char *) mesoctl_opt (opts, "clinic");
    if (s_amount (opts, "no-show", &fp.no_show_fee_cents) != 0
        || s_amount (opts, "late-cancel", &fp.late_cancel_fee_cents) != 0)
        return MESOCTL_USAGE;
    Meso__V1__SetFeePolicyRequest rq = MESO__V1__SET_FEE_POLICY_REQUEST__INIT;
    rq.policy = &fp;
    ProtobufCMessage *out = NULL;
    rc = mesoctl_call (&s_service, opts, "billing.SetFeePolicy", &rq.base, true, &meso__v1__set_fee_policy_reply__descriptor, &out);
    if (rc != MESOCTL_OK)
        return rc;
    if (!meso_config_bool (opts, "json"))
        printf ("fee policy of %s set\n", fp.clinic_id);
    protobuf_c_message_free_unpacked (out, NULL);
    return MESOCTL_OK;
}

/* -------------------------------------------------------------- packages */

static void
s_print_package (const Meso__V1__Package *p)
{
    char b[64], c[64];
    printf ("package %s of patient %s at %s: %u of %u sessions left, %s (%s per session), invoice %s\n",
            p->package_id, p->patient_id, p->clinic_id, p->sessions_left, p->sessions_total,
            s_money (p->price_cents, p->currency, b, sizeof b),
            s_money (p->per_session_cents, p->currency, c, sizeof c), p->invoice_id);
    printf ("  %s, %s, unused value %s\n", meso_enum_str (&meso__v1__package_state__descriptor, (int) p->state),
            *p->expiry_date ? p->expiry_date : "no expiry", s_money (p->unused_value_cents, p->currency, b, sizeof b));
}

/* sell and show once shared one table: each tolerates the other's flags. */
static const meso_opt_t s_package_sell_opts[] = {
    { "clinic", NULL, NULL, "clinic id (required)", NULL },
    { "patient", NULL, "", "patient id", NULL },
    { "sessions", NULL, "0", "sessions in the package", NULL },
    { "price", NULL, "", "price of the whole package", NULL },
    { "expires", NULL, "", "last day of use, YYYY-MM-DD (default: the clinic's validity days)", NULL },
    MESOCTL_OPT_END
};

static const meso_opt_t s_package_show_opts[] = {
    { "clinic", NULL, NULL, "clinic id (required)", NULL },
    { "package", NULL, "", "package id", NULL },
    MESOCTL_PAGE_OPTS,
    MESOCTL_OPT_END
};

static const meso_opt_t s_package_tolerated[] = {
    { "patient", NULL, "", "patient id (sell)", NULL },
    { "sessions", NULL, "0", "sessions in the package (sell)", NULL },
    { "price", NULL, "", "price of the whole package (sell)", NULL },
    { "package", NULL, "", "package id (show)", NULL },
    { "key", NULL, "", "idempotency key (sell)", NULL },
    MESOCTL_OPT_END
};

static int
s_package_sell (meso_opt_t *opts)
{
    ProtobufCMessage *out = NULL;
    Meso__V1__SellPackageRequest rq = MESO__V1__SELL_PACKAGE_REQUEST__INIT;
    rq.clinic_id = (char *) mesoctl_opt (opts, "clinic");
    rq.patient_id = (char *) mesoctl_opt (opts, "patient");
    long sessions = 0;
    if (meso_config_int (opts, "sessions", 0, 1000, &sessions) != 0 || s_amount (opts, "price", &rq.price_cents) != 0)
        return MESOCTL_USAGE;
    rq.sessions = (uint32_t) sessions;
    rq.expiry_date = (char *) mesoctl_opt (opts, "expires");
    int rc = mesoctl_call (&s_service, opts, "billing.SellPackage", &rq.base, true,
                           &meso__v1__sell_package_reply__descriptor, &out);
    if (rc == MESOCTL_OK && !meso_config_bool (opts, "json"))
        s_print_package (((Meso__V1__SellPackageReply *) out)->package);
    if (out)
        protobuf_c_message_free_unpacked (out, NULL);
    return rc;
}

static void
s_package_page (const ProtobufCMessage *m, int page, void *arg)
{
    size_t *n = arg;
    const Meso__V1__GetPackageReply *rep = (const Meso__V1__GetPackageReply *) m;
    if (page == 0)
        s_print_package (rep->package);
    for (size_t i = 0; i < rep->n_appointment_ids; i++)
        printf ("  session %zu: appointment %s\n", ++*n, rep->appointment_ids[i]);
}

static int
s_package_show (meso_opt_t *opts)
{
    Meso__V1__GetPackageRequest rq = MESO__V1__GET_PACKAGE_REQUEST__INIT;
    rq.clinic_id = (char *) mesoctl_opt (opts, "clinic");
    rq.package_id = (char *) mesoctl_opt (opts, "package");
    size_t n = 0;
    return mesoctl_call_pages (&s_service, opts, "billing.GetPackage", &rq.base, false,
                               &meso__v1__get_package_reply__descriptor, s_package_page, &n);
}

/* ----------------------------------------------------- invoice, pay, refund */

static const meso_opt_t s_invoice_opts[] = {
    { "clinic", NULL, NULL, "clinic id (required)", NULL },
    { "patient", NULL, NULL, "patient id (required)", NULL },
    { "amount", NULL, "", "amount of the line (or --areas for the list price)", NULL },
    { "areas", NULL, "0", "areas of a session priced from the list", NULL },
    { "date", NULL, "", "service date for the list price (default today)", NULL },
    { "description", NULL, "", "what is charged", NULL },
    { "tax-category", NULL, "", "tax category of the line (default standard)", NULL },
    MESOCTL_OPT_END
};

static int
s_invoice (meso_opt_t *opts)
{
    int rc;
    Meso__V1__InvoiceLine l = MESO__V1__INVOICE_LINE__INIT;
    long areas = 0;
    if (meso_config_int (opts, "areas", 0, 12, &areas) != 0)
        return MESOCTL_USAGE;
    l.areas = (uint32_t) areas;
    if (*mesoctl_opt (opts, "amount") && s_amount (opts, "amount", &l.amount_cents) != 0)
        return MESOCTL_USAGE;
    l.description = (char *) mesoctl_opt (opts, "description");
    l.tax_category = (char *) mesoctl_opt (opts, "tax-category");
    Meso__V1__InvoiceLine *lp[] = { &l };
    Meso__V1__IssueInvoiceRequest rq = MESO__V1__ISSUE_INVOICE_REQUEST__INIT;
    rq.clinic_id = (char *) mesoctl_opt (opts, "clinic");
    rq.patient_id = (char *) mesoctl_opt (opts, "patient");
    rq.service_date = (char *) mesoctl_opt (opts, "date");
    rq.lines = lp;
    rq.n_lines = 1;
    ProtobufCMessage *out = NULL;
    rc = mesoctl_call (&s_service, opts, "billing.IssueInvoice", &rq.base, true, &meso__v1__issue_invoice_reply__descriptor, &out);
    if (rc != MESOCTL_OK)
        return rc;
    Meso__V1__Invoice *inv = ((Meso__V1__IssueInvoiceReply *) out)->invoice;
    char b[64], c[64];
    if (!meso_config_bool (opts, "json"))
        printf ("invoice %s: %s to patient %s (tax included %s)\n", inv->invoice_id,
                s_money (inv->total_cents, inv->currency, b, sizeof b), inv->patient_id,
                s_money (inv->tax_cents, NULL, c, sizeof c));
    protobuf_c_message_free_unpacked (out, NULL);
    return MESOCTL_OK;
}

static const meso_opt_t s_pay_opts[] = {
    { "clinic", NULL, NULL, "clinic id (required)", NULL },
    { "invoice", NULL, "", "invoice paid (empty: a deposit on account)", NULL },
    { "patient", NULL, "", "patient id (required for a deposit)", NULL },
    { "amount", NULL, NULL, "amount received (required)", NULL },
    { "currency", NULL, "", "currency (default: the clinic's)", NULL },
    { "method", NULL, "card", "card, cash or bank_transfer", NULL },
    { "reference", NULL, "", "slip or transfer reference", NULL },
    MESOCTL_OPT_END
};

static int
s_pay (meso_opt_t *opts)
{
    int rc;
    Meso__V1__RecordPaymentRequest rq = MESO__V1__RECORD_PAYMENT_REQUEST__INIT;
    rq.clinic_id = (char *) mesoctl_opt (opts, "clinic");
    rq.invoice_id = (char *) mesoctl_opt (opts, "invoice");
    if (*rq.invoice_id)
        rq.target_case = MESO__V1__RECORD_PAYMENT_REQUEST__TARGET_INVOICE_ID;
    else {                      /* no --invoice: a deposit, as the help says */
        rq.target_case = MESO__V1__RECORD_PAYMENT_REQUEST__TARGET_DEPOSIT;
        rq.deposit = true;
    }
    rq.patient_id = (char *) mesoctl_opt (opts, "patient");
    rq.currency = (char *) mesoctl_opt (opts, "currency");
    rq.reference = (char *) mesoctl_opt (opts, "reference");
    int method = 0;
    if (s_amount (opts, "amount", &rq.amount_cents) != 0
        || mesoctl_enum_opt (opts, "method", &meso__v1__payment_method__descriptor, &method) != 0)
        return MESOCTL_USAGE;
    rq.method = (Meso__V1__PaymentMethod) method;
    ProtobufCMessage *out = NULL;
    rc = mesoctl_call (&s_service, opts, "billing.RecordPayment", &rq.base, true, &meso__v1__record_payment_reply__descriptor, &out);
    if (rc != MESOCTL_OK)
        return rc;
    Meso__V1__RecordPaymentReply *rep = (Meso__V1__RecordPaymentReply *) out;
    char a[64], b[64], c[64];
    if (!meso_config_bool (opts, "json"))
        printf ("payment %s: %s by %s recorded%s%s; left on the invoice %s; patient owes %s\n",
                rep->payment->payment_id, s_money (rep->payment->amount_cents, rep->payment->currency, a, sizeof a),
                meso_enum_str (&meso__v1__payment_method__descriptor, (int) rep->payment->method), *rep->payment->invoice_id ? " on invoice " : " as a deposit",
                rep->payment->invoice_id, s_money (rep->invoice_due_cents, rep->payment->currency, b, sizeof b),
                s_money (rep->balance_due_cents, rep->payment->currency, c, sizeof c));
    protobuf_c_message_free_unpacked (out, NULL);
    return MESOCTL_OK;
}

static const meso_opt_t s_refund_opts[] = {
    { "clinic", NULL, NULL, "clinic id (required)", NULL },
    { "payment", NULL, "", "payment refunded (or --invoice)", NULL },
    { "invoice", NULL, "", "refund against this invoice's payments, newest first", NULL },
    { "amount", NULL, NULL, "amount given back (required)", NULL },
    { "reason", NULL, NULL, "why (required)", NULL },
    MESOCTL_OPT_END
};

static int
s_refund (meso_opt_t *opts)
{
    int rc;
    Meso__V1__RecordRefundRequest rq = MESO__V1__RECORD_REFUND_REQUEST__INIT;
    rq.clinic_id = (char *) mesoctl_opt (opts, "clinic");
    rq.payment_id = (char *) mesoctl_opt (opts, "payment");
    rq.invoice_id = (char *) mesoctl_opt (opts, "invoice");
    rq.reason = (char *) mesoctl_opt (opts, "reason");
    if (s_amount (opts, "amount", &rq.amount_cents) != 0)
        return MESOCTL_USAGE;
    ProtobufCMessage *out = NULL;
    rc = mesoctl_call (&s_service, opts, "billing.RecordRefund", &rq.base, true, &meso__v1__record_refund_reply__descriptor, &out);
    if (rc != MESOCTL_OK)
        return rc;
    Meso__V1__RecordRefundReply *rep = (Meso__V1__RecordRefundReply *) out;
    char a[64], b[64], c[64];
    if (!meso_config_bool (opts, "json"))
        for (size_t i = 0; i < rep->n_refunds; i++)
            printf ("refund %s: %s of payment %s; refundable left %s; patient owes %s\n", rep->refunds[i]->refund_id,
                    s_money (rep->refunds[i]->amount_cents, rep->refunds[i]->currency, a, sizeof a),
                    rep->refunds[i]->payment_id,
                    s_money (rep->refundable_left_cents, rep->refunds[i]->currency, b, sizeof b),
                    s_money (rep->balance_due_cents, rep->refunds[i]->currency, c, sizeof c));
    protobuf_c_message_free_unpacked (out, NULL);
    return MESOCTL_OK;
}

/* ------------------------------------------------------------- statement */

static const meso_opt_t s_statement_opts[] = {
    { "clinic", NULL, NULL, "clinic id (required)", NULL },
    { "patient", NULL, NULL, "patient id (required)", NULL },
    MESOCTL_PAGE_OPTS,
    MESOCTL_OPT_END
};

/* A page of a statement's entries; the account's figures after the last
 * page's entries. */
static void
s_statement_page (const ProtobufCMessage *m, int page, void *arg)
{
    (void) arg;
    const Meso__V1__GetStatementReply *s = (const Meso__V1__GetStatementReply *) m;
    {
        char b[64], c[64];
        const char *cur = s->currency;
        if (page == 0)
            printf ("statement of patient %s at %s (%s)\n", s->patient_id, s->clinic_id, cur);
        for (size_t i = 0; i < s->n_entries; i++) {
            Meso__V1__StatementEntry *e = s->entries[i];
            char when[32];
            meso_time_format_utc (e->at_us, when, sizeof when);
            when[10] = '\0';
            const char *ref = *e->refund_id ? e->refund_id : *e->payment_id ? e->payment_id
                            : *e->credit_note_id ? e->credit_note_id : e->invoice_id;
            printf ("  %s  %-8s %14s  %-36s  %s\n", when, meso_enum_str (&meso__v1__statement_entry_kind__descriptor, (int) e->kind), s_money (e->amount_cents, NULL, b, sizeof b),
                    ref, e->description);
        }
        if (*s->next_page_token)
            return;
        printf ("  charged  %s (tax included %s)\n", s_money (s->charged_cents, cur, b, sizeof b),
                s_money (s->tax_cents, NULL, c, sizeof c));
        if (s->credited_cents)
            printf ("  credited %s\n", s_money (s->credited_cents, cur, b, sizeof b));
        printf ("  paid     %s\n", s_money (s->paid_cents, cur, b, sizeof b));
        printf ("  refunded %s\n", s_money (s->refunded_cents, cur, b, sizeof b));
        printf ("  %s %s\n", s->amount_due_cents < 0 ? "credit  " : "due     ",
                s_money (s->amount_due_cents < 0 ? -s->amount_due_cents : s->amount_due_cents, cur, b, sizeof b));
        for (size_t i = 0; i < s->n_packages; i++)
            printf ("  package %s: %u of %u sessions left\n", s->packages[i]->package_id,
                    s->packages[i]->sessions_left, s->packages[i]->sessions_total);
        for (size_t i = 0; i < s->n_unpriced_appointments; i++)
            printf ("  unpriced session (no price list in effect): appointment %s\n", s->unpriced_appointments[i]);
    }
}

static int
s_statement (meso_opt_t *opts)
{
    Meso__V1__GetStatementRequest rq = MESO__V1__GET_STATEMENT_REQUEST__INIT;
    rq.clinic_id = (char *) mesoctl_opt (opts, "clinic");
    rq.patient_id = (char *) mesoctl_opt (opts, "patient");
    return mesoctl_call_pages (&s_service, opts, "billing.GetStatement", &rq.base, false,
                               &meso__v1__get_statement_reply__descriptor, s_statement_page, NULL);
}

static const mesoctl_sub_t s_subs[] = {
    { "prices set", "set a clinic's price list (per number of areas, from a date)",
      "--clinic C --from YYYY-MM-DD --prices AREAS:PRICE,... [--currency CUR] [options]",
      "Sets a clinic's price list per number of areas from a date on.",
      "--clinic par --from 2025-01-01 --prices 1:300,2:360,3:420 --currency EUR",
      s_prices_set_opts, MESOCTL_JSON | MESOCTL_KEY, NULL, 0, s_prices_set, "billing.SetPriceList" },
    { "prices show", "a clinic's price lists, the one in effect, and its fees",
      "--clinic C [--date YYYY-MM-DD] [--page-size N] [--page-token T | --all] [options]",
      "Shows a clinic's price lists, the one in effect, and its fee policy.",
      "--clinic par --date 2025-03-14\n--clinic par --date 2025-03-14 --page-size 100 --all",
      s_prices_show_opts, MESOCTL_JSON, NULL, 0, s_prices_show, "billing.GetPriceList" },
    { "fees", "a clinic's no-show and late-cancellation fees",
      "--clinic C [--no-show AMOUNT] [--late-cancel AMOUNT] [options]",
      "Sets a clinic's no-show and late-cancellation fees.",
      "--clinic par --no-show 50 --late-cancel 30",
      s_fees_opts, MESOCTL_JSON | MESOCTL_KEY, NULL, 0, s_fees, "billing.SetFeePolicy" },
    { "package sell", "sell a prepaid package of sessions, invoiced",
      "--clinic C --patient P --sessions N --price AMOUNT [options]",
      "Sells a prepaid package of sessions and invoices it.",
      "--clinic par --patient 6f1c...e2 --sessions 10 --price 3000",
      s_package_sell_opts, MESOCTL_JSON | MESOCTL_KEY, s_package_tolerated, 0, s_package_sell, "billing.SellPackage" },
    { "package show", "a package and what is left of it",
      "--clinic C --package ID [--page-size N] [--page-token T | --all] [options]",
      "Shows a package and what is left of it.",
      "--clinic par --package 4d2a...9f\n--clinic par --package 4d2a...9f --page-size 100 --all",
      s_package_show_opts, MESOCTL_JSON, s_package_tolerated, 0, s_package_show, "billing.GetPackage" },
    { "invoice", "issue an invoice of one line",
      "--clinic C --patient P (--amount AMOUNT | --areas N) [--description D] [options]",
      "Issues an invoice of one line: --amount, or the list price of --areas on --date.",
      "--clinic par --patient 6f1c...e2 --areas 2 --description \"session, thighs and hips\"",
      s_invoice_opts, MESOCTL_JSON | MESOCTL_KEY, NULL, 0, s_invoice, "billing.IssueInvoice" },
    { "pay", "record a payment (card, cash, bank_transfer)",
      "--clinic C (--invoice I | --patient P) --amount AMOUNT [--method M] [options]",
      "Records a payment received (recorded, not processed).",
      "--clinic par --invoice 7c3e...10 --amount 360 --method card --reference SLIP-0042",
      s_pay_opts, MESOCTL_JSON | MESOCTL_KEY, NULL, 0, s_pay, "billing.RecordPayment" },
    { "refund", "refund (part of) a payment or an invoice's payments, with a reason",
      "--clinic C (--payment ID | --invoice ID) --amount AMOUNT --reason R [options]",
      "Records a refund of (part of) a payment, at most what is left of it; or of what\n"
      "was paid on an invoice, spread over its payments newest first.",
      "--clinic par --payment 5e8b...33 --amount 50 --reason \"session shortened\"",
      s_refund_opts, MESOCTL_JSON | MESOCTL_KEY, NULL, 0, s_refund, "billing.RecordRefund" },
    { "statement", "a patient's charges, payments, refunds and amount due",
      "--clinic C --patient P [--page-size N] [--page-token T | --all] [options]",
      "Shows a patient's charges, payments, refunds, packages and amount due.",
      "--clinic par --patient 6f1c...e2\n--clinic par --patient 6f1c...e2 --page-size 100 --all",
      s_statement_opts, MESOCTL_JSON, NULL, 0, s_statement, "billing.GetStatement" },
    { "invoices", "a clinic's invoices, newest first, by patient, dates, open or paid",
      "--clinic C [--patient ID] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--state open|paid] [options]",
      "Lists a clinic's invoices, newest first, with total, paid and due.",
      "--clinic mad --state open\n--clinic mad --patient 6f1c...e2 --from 2027-01-01 --to 2027-01-31 --json",
      mesoctl_billing_invoices_opts, MESOCTL_JSON, NULL, 0, mesoctl_billing_invoices, "billing.ListInvoices" },
    { "invoice-show", "one invoice with its lines, paid and due",
      "--clinic C --invoice ID [options]",
      "Prints an invoice with its lines (amount and tax), what is paid and what is due.",
      "--clinic mad --invoice 3c2e...9a",
      mesoctl_billing_invoice_show_opts, MESOCTL_JSON, NULL, 0, mesoctl_billing_invoice_show, "billing.GetInvoice" },
    { "payment-show", "one payment and what was refunded from it",
      "--clinic C --payment ID [options]",
      "Prints a payment: amount, method, the invoice it paid, what was refunded from it.",
      "--clinic mad --payment 7d41...0b",
      mesoctl_billing_payment_show_opts, MESOCTL_JSON, NULL, 0, mesoctl_billing_payment_show, "billing.GetPayment" },
    { NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, 0, NULL, NULL }
};

int
mesoctl_billing (int argc, char **argv)
{
    /* This file's subcommands, then the books' (cmd_billing_books.c). */
    mesoctl_sub_t all[sizeof s_subs / sizeof s_subs[0] + 16];
    size_t n = 0;
    for (size_t i = 0; s_subs[i].name; i++)
        all[n++] = s_subs[i];
    for (size_t i = 0; mesoctl_billing_books[i].name && n + 1 < sizeof all / sizeof all[0]; i++)
        all[n++] = mesoctl_billing_books[i];
    memset (&all[n], 0, sizeof all[n]);
    return mesoctl_run (&s_service, all, false, argc, argv);
}
