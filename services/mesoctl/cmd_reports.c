/* cmd_reports.c -- "mesoctl reports ...": the figures a chain manager
 * runs on, one clinic at a time, over a range of its local days.
 *
 *     mesoctl reports utilisation --clinic C --from D --to D [--practitioner P]
 *     mesoctl reports no-shows    --clinic C --from D --to D
 *     mesoctl reports outcomes    --clinic C --from D --to D
 *     mesoctl reports valuation   --clinic C --from D --to D [--ingredient I]
 *
 * The first three ask scheduling (MESO_SCHEDULING_ENDPOINT), valuation
 * asks inventory (MESO_INVENTORY_ENDPOINT): each report is computed by
 * the service that owns its figures. Each prints a readable table, or
 * with --json the reply message (proto3 JSON mapping). Rates are shown
 * as percentages with two decimals, "-" when there is nothing to divide
 * by; hours with two decimals; values in the clinic's currency (cents
 * shown as units). A refusal prints the message and every reason, and
 * exits 1. Dates are checked by the daemon, which names the field. */
#include <stdio.h>
#include <string.h>

#include "inventory.pb-c.h"
#include "meso/money.h"
#include "meso/report.h"
#include "mesoctl.h"
#include "qty.h"
#include "scheduling.pb-c.h"

static const mesoctl_service_t s_service = {
    .name = "reports",
    .summary = "Utilisation, no-shows and late cancellations, course outcomes (scheduling); "
               "stock valuation (inventory).",
    .endpoint = { "endpoint", "MESO_SCHEDULING_ENDPOINT", "tcp://127.0.0.1:7102", "scheduling daemon endpoint", NULL },
    .timeout_ms = 30000,
    .quirks = MESOCTL_Q_PBJSON,
};

static const char *
s_get (meso_opt_t *opts, const char *name)
{
    const char *v = meso_config_get (opts, name);
    return v ? v : "";
}

/* Minutes as hours with two decimals, half to even. */
static const char *
s_hours (int64_t minutes, char *buf, size_t size)
{
    int64_t c = meso_report_div_half_even (minutes * 100, 60);
    snprintf (buf, size, "%s%lld.%02lld", c < 0 ? "-" : "", (long long) (c < 0 ? -c : c) / 100,
              (long long) (c < 0 ? -c : c) % 100);
    return buf;
}

static const char *
s_money (int64_t cents, char *buf, size_t size)
{
    meso_money_format (cents, NULL, buf, size);
    return buf;
}

/* -------------------------------------------------------- utilisation */

static const meso_opt_t s_util_opts[] = {
    { "clinic", NULL, NULL, "clinic id", NULL },
    { "from", NULL, NULL, "first local day YYYY-MM-DD", NULL },
    { "to", NULL, NULL, "last local day YYYY-MM-DD (included; at most 731 days)", NULL },
    { "practitioner", NULL, "", "only this practitioner", NULL },
    MESOCTL_OPT_END
};

static int
s_utilisation (meso_opt_t *opts)
{
    Meso__V1__UtilisationReportRequest rq = MESO__V1__UTILISATION_REPORT_REQUEST__INIT;
    rq.clinic_id = (char *) s_get (opts, "clinic");
    rq.from = (char *) s_get (opts, "from");
    rq.to = (char *) s_get (opts, "to");
    rq.practitioner_id = (char *) s_get (opts, "practitioner");
    ProtobufCMessage *msg = NULL;
    int rc = mesoctl_call (&s_service, opts, "scheduling.UtilisationReport", &rq.base, false,
                           &meso__v1__utilisation_report_reply__descriptor, &msg);
    if (rc != 0)
        return rc;
    Meso__V1__UtilisationReportReply *out = (Meso__V1__UtilisationReportReply *) msg;
    if (!meso_config_bool (opts, "json")) {
        char a[32], b[32], p[16];
        printf ("Utilisation of clinic %s (%s), %s .. %s\n", out->clinic_id, out->time_zone, rq.from, rq.to);
        printf ("%-9s %-11s %-16s %12s %12s %12s\n", "WEEK", "MONDAY", "PRACTITIONER", "AVAILABLE H",
                "BOOKED H", "UTILISATION");
        for (size_t i = 0; i < out->n_rows; i++) {
            const Meso__V1__UtilisationRow *r = out->rows[i];
            printf ("%-9s %-11s %-16s %12s %12s %12s\n", r->iso_week, r->week_start, r->practitioner_id,
                    s_hours (r->available_minutes, a, sizeof a), s_hours (r->booked_minutes, b, sizeof b),
                    meso_report_rate_text (r->utilisation_bp, p, sizeof p));
        }
        printf ("%-38s %12s %12s %12s\n", "TOTAL", s_hours (out->available_minutes, a, sizeof a),
                s_hours (out->booked_minutes, b, sizeof b), meso_report_rate_text (out->utilisation_bp, p, sizeof p));
    }
    protobuf_c_message_free_unpacked (msg, NULL);
    return MESOCTL_OK;
}

/* ----------------------------------------------------------- no-shows */

static const meso_opt_t s_range_opts[] = {
    { "clinic", NULL, NULL, "clinic id", NULL },
    { "from", NULL, NULL, "first local day YYYY-MM-DD", NULL },
    { "to", NULL, NULL, "last local day YYYY-MM-DD (included; at most 731 days)", NULL },
    MESOCTL_OPT_END
};

static void
s_attendance_row (const char *who, const Meso__V1__AttendanceRow *r)
{
    char a[16], b[16];
    printf ("%-16s %9lld %9lld %9lld %9lld %6lld %6lld %9s %9s\n", who, (long long) r->attended,
            (long long) r->no_shows, (long long) r->late_cancels, (long long) r->other_cancels,
            (long long) r->open, (long long) r->due, meso_report_rate_text (r->no_show_rate_bp, a, sizeof a),
            meso_report_rate_text (r->late_cancel_rate_bp, b, sizeof b));
}

static int
s_no_shows (meso_opt_t *opts)
{
    Meso__V1__AttendanceReportRequest rq = MESO__V1__ATTENDANCE_REPORT_REQUEST__INIT;
    rq.clinic_id = (char *) s_get (opts, "clinic");
    rq.from = (char *) s_get (opts, "from");
    rq.to = (char *) s_get (opts, "to");
    ProtobufCMessage *msg = NULL;
    int rc = mesoctl_call (&s_service, opts, "scheduling.AttendanceReport", &rq.base, false,
                           &meso__v1__attendance_report_reply__descriptor, &msg);
    if (rc != 0)
        return rc;
    Meso__V1__AttendanceReportReply *out = (Meso__V1__AttendanceReportReply *) msg;
    if (!meso_config_bool (opts, "json")) {
        printf ("No-shows and late cancellations at clinic %s (%s), %s .. %s\n", out->clinic_id,
                out->time_zone, rq.from, rq.to);
        printf ("%-16s %9s %9s %9s %9s %6s %6s %9s %9s\n", "PRACTITIONER", "ATTENDED", "NO-SHOWS", "LATE CXL",
                "OTHER CXL", "OPEN", "DUE", "NO-SHOW", "LATE CXL");
        for (size_t i = 0; i < out->n_rows; i++)
            s_attendance_row (out->rows[i]->practitioner_id, out->rows[i]);
        if (out->total)
            s_attendance_row ("TOTAL", out->total);
        printf ("(rates over the sessions due: attended + no-shows + late cancellations)\n");
    }
    protobuf_c_message_free_unpacked (msg, NULL);
    return MESOCTL_OK;
}

/* ----------------------------------------------------------- outcomes */

static int
s_outcomes (meso_opt_t *opts)
{
    Meso__V1__OutcomesReportRequest rq = MESO__V1__OUTCOMES_REPORT_REQUEST__INIT;
    rq.clinic_id = (char *) s_get (opts, "clinic");
    rq.from = (char *) s_get (opts, "from");
    rq.to = (char *) s_get (opts, "to");
    ProtobufCMessage *msg = NULL;
    int rc = mesoctl_call (&s_service, opts, "scheduling.OutcomesReport", &rq.base, false,
                           &meso__v1__outcomes_report_reply__descriptor, &msg);
    if (rc != 0)
        return rc;
    Meso__V1__OutcomesReportReply *out = (Meso__V1__OutcomesReportReply *) msg;
    if (!meso_config_bool (opts, "json")) {
        printf ("Course outcomes at clinic %s (%s), courses starting %s .. %s\n", out->clinic_id,
                out->time_zone, rq.from, rq.to);
        printf ("%-6s %8s %10s %15s %16s %10s %9s\n", "GRADE", "COURSES", "EVALUABLE", "NON-RESPONDERS",
                "NON-RESP. RATE", "COMPLETED", "RECORDED");
        for (size_t i = 0; i < out->n_rows; i++) {
            const Meso__V1__OutcomesRow *r = out->rows[i];
            char p[16];
            printf ("%-6u %8lld %10lld %15lld %16s %10lld %9lld\n", r->grade, (long long) r->courses,
                    (long long) r->evaluable, (long long) r->non_responders,
                    meso_report_rate_text (r->non_responder_rate_bp, p, sizeof p),
                    (long long) r->sessions_completed, (long long) r->outcomes_recorded);
        }
        printf ("(evaluable: at least 5 recorded outcomes, what the non-responder rule judges)\n");
    }
    protobuf_c_message_free_unpacked (msg, NULL);
    return MESOCTL_OK;
}

/* ---------------------------------------------------------- valuation */

static const meso_opt_t s_valuation_opts[] = {
    { "clinic", NULL, NULL, "clinic id", NULL },
    { "from", NULL, NULL, "first local day YYYY-MM-DD", NULL },
    { "to", NULL, NULL, "last local day YYYY-MM-DD (included; at most the clinic's today)", NULL },
    { "ingredient", NULL, "", "only this ingredient", NULL },
    { "endpoint", "MESO_INVENTORY_ENDPOINT", "tcp://127.0.0.1:7103", "inventory daemon endpoint", NULL },
    MESOCTL_OPT_END
};

static int
s_valuation (meso_opt_t *opts)
{
    Meso__V1__ValuationRequest rq = MESO__V1__VALUATION_REQUEST__INIT;
    rq.clinic_id = (char *) s_get (opts, "clinic");
    rq.from = (char *) s_get (opts, "from");
    rq.to = (char *) s_get (opts, "to");
    rq.ingredient_code = (char *) s_get (opts, "ingredient");
    ProtobufCMessage *msg = NULL;
    int rc = mesoctl_call (&s_service, opts, "inventory.Valuation", &rq.base, false,
                           &meso__v1__valuation_reply__descriptor, &msg);
    if (rc != 0)
        return rc;
    Meso__V1__ValuationReply *out = (Meso__V1__ValuationReply *) msg;
    if (!meso_config_bool (opts, "json")) {
        char m[7][32], q[2][32];
        printf ("Stock valuation of clinic %s (%s), %s .. %s (amounts in the clinic's currency)\n",
                out->clinic_id, out->time_zone, out->from, out->to);
        printf ("%-20s %-4s %12s %11s %11s %11s %11s %11s %11s %12s\n", "INGREDIENT", "UNIT", "ON HAND",
                "VALUE", "RESERVED", "RECEIVED", "CONSUMED", "DISCARDED", "ADJUSTED", "UNCOSTED QTY");
        for (size_t i = 0; i < out->n_lines; i++) {
            const Meso__V1__ValuationLine *l = out->lines[i];
            int64_t qty = l->on_hand ? l->on_hand->costed_milli + l->on_hand->uncosted_milli : 0;
            int64_t unc = l->on_hand ? l->on_hand->uncosted_milli : 0;
            printf ("%-20s %-4s %12s %11s %11s %11s %11s %11s %11s %12s\n", l->ingredient_code, meso_enum_str (&meso__v1__unit__descriptor, (int) l->unit),
                    mesoctl_qty_format (qty, q[0], sizeof q[0]),
                    s_money (l->on_hand ? l->on_hand->value_cents : 0, m[0], sizeof m[0]),
                    s_money (l->reserved ? l->reserved->value_cents : 0, m[1], sizeof m[1]),
                    s_money (l->received ? l->received->value_cents : 0, m[2], sizeof m[2]),
                    s_money (l->consumed ? l->consumed->value_cents : 0, m[3], sizeof m[3]),
                    s_money (l->discarded ? l->discarded->value_cents : 0, m[4], sizeof m[4]),
                    s_money (l->adjusted ? l->adjusted->value_cents : 0, m[5], sizeof m[5]),
                    unc ? mesoctl_qty_format (unc, q[1], sizeof q[1]) : "-");
        }
        printf ("%-37s %11s %11s %11s %11s %11s %11s\n", "TOTAL", s_money (out->on_hand_cents, m[0], sizeof m[0]),
                s_money (out->reserved_cents, m[1], sizeof m[1]), s_money (out->received_cents, m[2], sizeof m[2]),
                s_money (out->consumed_cents, m[3], sizeof m[3]), s_money (out->discarded_cents, m[4], sizeof m[4]),
                s_money (out->adjusted_cents, m[5], sizeof m[5]));
        if (out->uncosted_lots)
            printf ("%lld lot(s) have no unit cost: their stock is not valued (UNCOSTED QTY, on hand at the end)\n",
                    (long long) out->uncosted_lots);
        printf ("(on hand at the end of %s; reserved as of now; the rest moved during the period)\n", out->to);
    }
    protobuf_c_message_free_unpacked (msg, NULL);
    return MESOCTL_OK;
}

static const mesoctl_sub_t s_subs[] = {
    { "utilisation", "booked over available practitioner-hours, by ISO week (scheduling)",
      "--clinic C --from YYYY-MM-DD --to YYYY-MM-DD [--practitioner P] [options]",
      "Booked practitioner-hours over available practitioner-hours (working hours inside\n"
      "the opening hours, days off left out) by practitioner and ISO week, in the clinic's\n"
      "local days.",
      "--clinic par --from 2026-03-02 --to 2026-03-29\n--clinic par --from 2026-03-02 --to 2026-03-08 --practitioner dr-martin --json",
      s_util_opts, MESOCTL_JSON, NULL, 0, s_utilisation, "scheduling.UtilisationReport" },
    { "no-shows", "no-show and late-cancellation rates by practitioner (scheduling)",
      "--clinic C --from YYYY-MM-DD --to YYYY-MM-DD [options]",
      "Sessions attended, no-shows, cancellations inside the clinic's notice (late) and\n"
      "others, by practitioner; rates over the sessions that were due.",
      "--clinic par --from 2026-03-01 --to 2026-03-31",
      s_range_opts, MESOCTL_JSON, NULL, 0, s_no_shows, "scheduling.AttendanceReport" },
    { "outcomes", "non-responder rate by cellulite grade (scheduling)",
      "--clinic C --from YYYY-MM-DD --to YYYY-MM-DD [options]",
      "Courses starting in the range by grade: how many, how many have the 5 recorded\n"
      "outcomes the non-responder rule needs, how many were flagged non-responder.",
      "--clinic par --from 2026-01-01 --to 2026-06-30",
      s_range_opts, MESOCTL_JSON, NULL, 0, s_outcomes, "scheduling.OutcomesReport" },
    { "valuation", "what the stock is worth, and what moved in the period (inventory)",
      "--clinic C --from YYYY-MM-DD --to YYYY-MM-DD [--ingredient I] [options]",
      "Values a clinic's stock from the lots' unit costs: on hand at the end of the period,\n"
      "reserved now, and what was received, consumed, discarded and adjusted in it. Lots\n"
      "received without a cost are shown as an uncosted quantity, never as worth 0.",
      "--clinic par --from 2026-03-01 --to 2026-03-31\n--clinic par --from 2026-03-01 --to 2026-03-31 --ingredient caffeine --json",
      s_valuation_opts, MESOCTL_JSON, NULL, 0, s_valuation, "inventory.Valuation" },
    { NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, 0, NULL, NULL }
};

int
mesoctl_reports (int argc, char **argv)
{
    return mesoctl_run (&s_service, s_subs, false, argc, argv);
}
