/* cmd_billing_books.c -- "mesoctl billing ...", the books: taxes, package
 * settings and refunds, cancelled invoices, and the revenue and liability
 * reports. Also the billing daemon as every billing subcommand reaches it
 * (mesoctl_billing_service), so cmd_billing.c, which lists these
 * subcommands after its own, calls this file and not the other way round.
 *
 *     mesoctl billing taxes          --clinic C --from YYYY-MM-DD --rates standard:20,reduced:5.5
 *     mesoctl billing package policy --clinic C [--validity-days N] [--accepts A,B | --accepts '*']
 *     mesoctl billing package refund --clinic C --package ID --reason "..."
 *     mesoctl billing cancel         --clinic C --invoice ID --reason "..."
 *     mesoctl billing revenue        --clinic C[,C...] --from YYYY-MM-DD --to YYYY-MM-DD [--by day|month]
 *     mesoctl billing liability      --clinic C[,C...]
 *
 * Tax rates on the command line are percentages with up to four decimals
 * ("20", "5.5", "8.875"), turned into parts per million without a float.
 * The reports print one line per clinic and period, then each clinic's
 * total; --json prints the reply. Split from cmd_billing.c to keep each
 * file under 600 lines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "billing.pb-c.h"
#include "meso/money.h"
#include "mesoctl.h"

const mesoctl_service_t mesoctl_billing_service = {
    .name = "billing",
    .summary = "Prices, taxes, fees, packages, invoices, payments, refunds, statements and\n"
               "reports (amounts are decimal: 350 or 350.50; --json prints the reply as JSON).",
    .endpoint = { "endpoint", "MESO_BILLING_ENDPOINT", "tcp://127.0.0.1:7104", "billing daemon", NULL },
    .timeout_ms = 10000,
    .quirks = MESOCTL_Q_JSON_REPLY | MESOCTL_Q_PBJSON,
};

#define S_SVC (&mesoctl_billing_service)

static const char *
s_money (int64_t cents, char *buf, size_t size)
{
    meso_money_format (cents, NULL, buf, size);
    return buf;
}

/* "20" / "5.5" / "8.875" (percent) into parts per million; -1 if not. */
static int
s_percent_ppm (const char *t, uint32_t *ppm)
{
    uint64_t whole = 0, frac = 0;
    int digits = 0, fdigits = 0;
    const char *p = t;
    for (; *p >= '0' && *p <= '9'; p++, digits++)
        whole = whole * 10 + (uint64_t) (*p - '0');
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++, fdigits++) {
            if (fdigits == 4)
                return -1;
            frac = frac * 10 + (uint64_t) (*p - '0');
        }
    }
    if (*p || digits == 0 || digits > 3)
        return -1;
    for (int i = fdigits; i < 4; i++)
        frac *= 10;
    uint64_t v = whole * 10000 + frac;
    if (v > 1000000)
        return -1;
    *ppm = (uint32_t) v;
    return 0;
}

/* ----------------------------------------------------------------- taxes */

static const meso_opt_t s_taxes_opts[] = {
    { "clinic", NULL, NULL, "clinic id (required)", NULL },
    { "from", NULL, NULL, "first day the rates apply, YYYY-MM-DD (required)", NULL },
    { "rates", NULL, NULL, "category:percent pairs, e.g. standard:20,reduced:5.5 (required; "
                           "no tax: standard:0)", NULL },
    MESOCTL_OPT_END
};

static int
s_taxes (meso_opt_t *opts)
{
    char list[512], *items[20];
    snprintf (list, sizeof list, "%s", mesoctl_opt (opts, "rates"));
    size_t n = mesoctl_split (list, ",", true, items, 20);
    Meso__V1__TaxRate r[20], *rp[20];
    for (size_t i = 0; i < n; i++) {
        char *colon = strchr (items[i], ':');
        meso__v1__tax_rate__init (&r[i]);
        if (!colon || (*colon = '\0', s_percent_ppm (colon + 1, &r[i].rate_ppm) != 0)) {
            fprintf (stderr, "mesoctl: --rates takes category:percent pairs, e.g. standard:20,reduced:5.5\n");
            return MESOCTL_USAGE;
        }
        r[i].category = items[i];
        rp[i] = &r[i];
    }
    Meso__V1__TaxRates t = MESO__V1__TAX_RATES__INIT;
    t.clinic_id = (char *) mesoctl_opt (opts, "clinic");
    t.effective_from = (char *) mesoctl_opt (opts, "from");
    t.rates = rp;
    t.n_rates = n;
    Meso__V1__SetTaxRatesRequest rq = MESO__V1__SET_TAX_RATES_REQUEST__INIT;
    rq.tax_rates = &t;
    ProtobufCMessage *out = NULL;
    int rc = mesoctl_call (S_SVC, opts, "billing.SetTaxRates", &rq.base, true,
                           &meso__v1__set_tax_rates_reply__descriptor, &out);
    if (rc == MESOCTL_OK && !meso_config_bool (opts, "json"))
        printf ("tax rates of %s from %s set (%zu rate%s)\n", t.clinic_id, t.effective_from, n,
                n == 1 ? "" : "s");
    if (out)
        protobuf_c_message_free_unpacked (out, NULL);
    return rc;
}

/* ------------------------------------------------------------- packages */

static const meso_opt_t s_policy_opts[] = {
    { "clinic", NULL, NULL, "clinic id (required)", NULL },
    { "validity-days", NULL, "0", "days a package sold here may be used (0: no expiry)", NULL },
    { "accepts", NULL, "", "clinics whose packages this clinic accepts, comma-separated, or *", NULL },
    MESOCTL_OPT_END
};

static int
s_policy (meso_opt_t *opts)
{
    long days = 0;
    if (meso_config_int (opts, "validity-days", 0, 3660, &days) != 0)
        return MESOCTL_USAGE;
    char list[2048], *items[100];
    snprintf (list, sizeof list, "%s", mesoctl_opt (opts, "accepts"));
    size_t n = mesoctl_split (list, ",", true, items, 100);
    Meso__V1__PackagePolicy p = MESO__V1__PACKAGE_POLICY__INIT;
    p.clinic_id = (char *) mesoctl_opt (opts, "clinic");
    p.validity_days = (uint32_t) days;
    p.accepts_packages_of = items;
    p.n_accepts_packages_of = n;
    Meso__V1__SetPackagePolicyRequest rq = MESO__V1__SET_PACKAGE_POLICY_REQUEST__INIT;
    rq.policy = &p;
    ProtobufCMessage *out = NULL;
    int rc = mesoctl_call (S_SVC, opts, "billing.SetPackagePolicy", &rq.base, true,
                           &meso__v1__set_package_policy_reply__descriptor, &out);
    if (rc == MESOCTL_OK && !meso_config_bool (opts, "json")) {
        printf ("package policy of %s set: ", p.clinic_id);
        if (days)
            printf ("packages sold here last %ld days", days);
        else
            printf ("no expiry by default");
        printf ("; accepts the packages of");
        for (size_t i = 0; i < n; i++)
            printf (" %s", items[i]);
        printf ("%s\n", n ? "" : " no other clinic");
    }
    if (out)
        protobuf_c_message_free_unpacked (out, NULL);
    return rc;
}

static const meso_opt_t s_package_refund_opts[] = {
    { "clinic", NULL, NULL, "clinic that sold the package (required)", NULL },
    { "package", NULL, NULL, "package id (required)", NULL },
    { "reason", NULL, NULL, "why (required)", NULL },
    MESOCTL_OPT_END
};

static int
s_package_refund (meso_opt_t *opts)
{
    Meso__V1__RefundPackageRequest rq = MESO__V1__REFUND_PACKAGE_REQUEST__INIT;
    rq.clinic_id = (char *) mesoctl_opt (opts, "clinic");
    rq.package_id = (char *) mesoctl_opt (opts, "package");
    rq.reason = (char *) mesoctl_opt (opts, "reason");
    ProtobufCMessage *out = NULL;
    int rc = mesoctl_call (S_SVC, opts, "billing.RefundPackage", &rq.base, true,
                           &meso__v1__refund_package_reply__descriptor, &out);
    if (rc == MESOCTL_OK && !meso_config_bool (opts, "json")) {
        Meso__V1__RefundPackageReply *r = (Meso__V1__RefundPackageReply *) out;
        char a[48], b[48];
        printf ("package %s refunded: unused value %s credited (credit note %s), %s given back %s\n",
                r->package->package_id, s_money (r->credit_note->gross_cents, a, sizeof a),
                r->credit_note->credit_note_id, s_money (r->refunded_cents, b, sizeof b),
                r->package->currency);
        for (size_t i = 0; i < r->n_refunds; i++)
            printf ("  refund %s: %s of payment %s\n", r->refunds[i]->refund_id,
                    s_money (r->refunds[i]->amount_cents, a, sizeof a), r->refunds[i]->payment_id);
    }
    if (out)
        protobuf_c_message_free_unpacked (out, NULL);
    return rc;
}

/* --------------------------------------------------------------- cancel */

static const meso_opt_t s_cancel_opts[] = {
    { "clinic", NULL, NULL, "clinic id (required)", NULL },
    { "invoice", NULL, NULL, "invoice cancelled (required)", NULL },
    { "reason", NULL, NULL, "why (required)", NULL },
    MESOCTL_OPT_END
};

static int
s_cancel (meso_opt_t *opts)
{
    Meso__V1__CancelInvoiceRequest rq = MESO__V1__CANCEL_INVOICE_REQUEST__INIT;
    rq.clinic_id = (char *) mesoctl_opt (opts, "clinic");
    rq.invoice_id = (char *) mesoctl_opt (opts, "invoice");
    rq.reason = (char *) mesoctl_opt (opts, "reason");
    ProtobufCMessage *out = NULL;
    int rc = mesoctl_call (S_SVC, opts, "billing.CancelInvoice", &rq.base, true,
                           &meso__v1__cancel_invoice_reply__descriptor, &out);
    if (rc == MESOCTL_OK && !meso_config_bool (opts, "json")) {
        Meso__V1__CancelInvoiceReply *r = (Meso__V1__CancelInvoiceReply *) out;
        char a[48], b[48], c[48];
        printf ("invoice %s cancelled by credit note %s: %s (net %s, tax %s) %s; left to pay %s\n",
                r->invoice->invoice_id, r->credit_note->credit_note_id,
                s_money (r->credit_note->gross_cents, a, sizeof a), s_money (r->credit_note->net_cents, b, sizeof b),
                s_money (r->credit_note->tax_cents, c, sizeof c), r->credit_note->currency,
                s_money (r->invoice->due_cents, a, sizeof a));
    }
    if (out)
        protobuf_c_message_free_unpacked (out, NULL);
    return rc;
}

/* -------------------------------------------------------------- reports */

static const meso_opt_t s_revenue_opts[] = {
    { "clinic", NULL, NULL, "clinic id(s), comma-separated (required)", NULL },
    { "from", NULL, NULL, "first local day, YYYY-MM-DD (required)", NULL },
    { "to", NULL, NULL, "last local day, YYYY-MM-DD (required)", NULL },
    { "by", NULL, "day", "day or month", NULL },
    MESOCTL_OPT_END
};

static void
s_revenue_line (const Meso__V1__RevenueRow *r)
{
    char g[32], n[32], t[32], f[32];
    printf ("%-16s %-22s %-4s %13s %13s %12s %12s\n", r->clinic_id, r->period, r->currency,
            s_money (r->gross_cents, g, sizeof g), s_money (r->net_cents, n, sizeof n),
            s_money (r->tax_cents, t, sizeof t), s_money (r->refunds_cents, f, sizeof f));
}

static int
s_revenue (meso_opt_t *opts)
{
    char list[2048], *ids[100];
    snprintf (list, sizeof list, "%s", mesoctl_opt (opts, "clinic"));
    Meso__V1__RevenueReportRequest rq = MESO__V1__REVENUE_REPORT_REQUEST__INIT;
    rq.clinic_ids = ids;
    rq.n_clinic_ids = mesoctl_split (list, ",", true, ids, 100);
    rq.from = (char *) mesoctl_opt (opts, "from");
    rq.to = (char *) mesoctl_opt (opts, "to");
    rq.by = (char *) mesoctl_opt (opts, "by");
    ProtobufCMessage *out = NULL;
    int rc = mesoctl_call (S_SVC, opts, "billing.RevenueReport", &rq.base, false,
                           &meso__v1__revenue_report_reply__descriptor, &out);
    if (rc == MESOCTL_OK && !meso_config_bool (opts, "json")) {
        Meso__V1__RevenueReportReply *r = (Meso__V1__RevenueReportReply *) out;
        printf ("%-16s %-22s %-4s %13s %13s %12s %12s\n", "clinic", "period", "cur", "gross", "net",
                "tax", "refunds");
        for (size_t i = 0; i < r->n_rows; i++)
            s_revenue_line (r->rows[i]);
        for (size_t i = 0; i < r->n_totals; i++)
            s_revenue_line (r->totals[i]);
    }
    if (out)
        protobuf_c_message_free_unpacked (out, NULL);
    return rc;
}

static const meso_opt_t s_liability_opts[] = {
    { "clinic", NULL, NULL, "clinic id(s), comma-separated (required)", NULL },
    MESOCTL_OPT_END
};

static int
s_liability (meso_opt_t *opts)
{
    char list[2048], *ids[100];
    snprintf (list, sizeof list, "%s", mesoctl_opt (opts, "clinic"));
    Meso__V1__LiabilityReportRequest rq = MESO__V1__LIABILITY_REPORT_REQUEST__INIT;
    rq.clinic_ids = ids;
    rq.n_clinic_ids = mesoctl_split (list, ",", true, ids, 100);
    ProtobufCMessage *out = NULL;
    int rc = mesoctl_call (S_SVC, opts, "billing.LiabilityReport", &rq.base, false,
                           &meso__v1__liability_report_reply__descriptor, &out);
    if (rc == MESOCTL_OK && !meso_config_bool (opts, "json")) {
        Meso__V1__LiabilityReportReply *r = (Meso__V1__LiabilityReportReply *) out;
        printf ("%-16s %-4s %8s %8s %13s %12s\n", "clinic", "cur", "packages", "sessions", "liability", "tax");
        for (size_t i = 0; i < r->n_rows; i++) {
            char l[32], t[32];
            printf ("%-16s %-4s %8u %8u %13s %12s\n", r->rows[i]->clinic_id, r->rows[i]->currency,
                    r->rows[i]->packages, r->rows[i]->sessions_left,
                    s_money (r->rows[i]->liability_cents, l, sizeof l),
                    s_money (r->rows[i]->tax_cents, t, sizeof t));
        }
    }
    if (out)
        protobuf_c_message_free_unpacked (out, NULL);
    return rc;
}

const mesoctl_sub_t mesoctl_billing_books[] = {
    { "taxes", "set a clinic's tax rates (VAT or sales tax, per category, from a date)",
      "--clinic C --from YYYY-MM-DD --rates CATEGORY:PERCENT,... [options]",
      "Sets a clinic's tax rates from a date on; prices stay what the patient pays and\n"
      "each invoice line shows the tax it includes (rounded per line, half to even).",
      "--clinic par --from 2025-01-01 --rates standard:20,reduced:5.5",
      s_taxes_opts, MESOCTL_JSON | MESOCTL_KEY, NULL, 0, s_taxes, "billing.SetTaxRates" },
    { "package policy", "a clinic's package expiry and which clinics' packages it accepts",
      "--clinic C [--validity-days N] [--accepts C1,C2 | --accepts '*'] [options]",
      "Sets how long packages sold here last by default and whose packages the clinic\n"
      "accepts for its sessions (the chain setting).",
      "--clinic lyon --validity-days 365 --accepts par,marseille",
      s_policy_opts, MESOCTL_JSON | MESOCTL_KEY, NULL, 0, s_policy, "billing.SetPackagePolicy" },
    { "package refund", "refund a package's unused sessions (pro rata of what was paid)",
      "--clinic C --package ID --reason R [options]",
      "Credits a package's unused value and gives back the share that was paid,\n"
      "newest payment first.",
      "--clinic par --package 4d2a...9f --reason \"moved abroad\"",
      s_package_refund_opts, MESOCTL_JSON | MESOCTL_KEY, NULL, 0, s_package_refund, "billing.RefundPackage" },
    { "cancel", "cancel an invoice with a credit note",
      "--clinic C --invoice ID --reason R [options]",
      "Cancels an invoice with a credit note for all of it (what was paid stays as credit).",
      "--clinic par --invoice 7c3e...10 --reason \"issued twice\"",
      s_cancel_opts, MESOCTL_JSON | MESOCTL_KEY, NULL, 0, s_cancel, "billing.CancelInvoice" },
    { "revenue", "revenue report: gross, net, tax and refunds by clinic and day or month",
      "--clinic C[,C...] --from YYYY-MM-DD --to YYYY-MM-DD [--by day|month] [options]",
      "Revenue recognised per clinic and local day or month (sessions, fees, manual\n"
      "invoices less cancellations, sessions drawn from packages, expired packages),\n"
      "with the refunds of the period beside it.",
      "--clinic par,lyon --from 2025-03-01 --to 2025-03-31 --by month",
      s_revenue_opts, MESOCTL_JSON, NULL, 0, s_revenue, "billing.RevenueReport" },
    { "liability", "prepaid liability: unused package sessions x price, by clinic",
      "--clinic C[,C...] [options]",
      "The unused value of the active packages each clinic sold.",
      "--clinic par,lyon",
      s_liability_opts, MESOCTL_JSON, NULL, 0, s_liability, "billing.LiabilityReport" },
    { NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, 0, NULL, NULL }
};
