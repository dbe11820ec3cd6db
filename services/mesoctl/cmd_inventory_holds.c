/* cmd_inventory_holds.c -- "mesoctl inventory ..." for the holds the
 * services make: scheduling reserves, redates and releases a session's
 * stock, and consumes it when the session is completed. Only service
 * principals may call these methods (the operator key holds every role):
 * they are here for an operator who debugs a booking, not for the front
 * desk.
 *
 *     mesoctl inventory reserve --clinic C --appointment A --patient P --date YYYY-MM-DD
 *                               --areas a,b --recipe R [--recipe-version N]
 *     mesoctl inventory release --clinic C --appointment A [--reason R]
 *     mesoctl inventory redate  --clinic C --appointment A --date YYYY-MM-DD [--reason R]
 *     mesoctl inventory consume --clinic C --appointment A
 *                               [--actual ingredient:qty[:lot_id],...] [--patient P --date D]
 *
 * Each prints the reservation afterwards, or with --json the reply with
 * every field of inventory.proto. */
#include <stdio.h>
#include <string.h>

#include "answers.h"
#include "inventory.pb-c.h"
#include "mesoctl.h"
#include "qty.h"

#define S_SVC (&mesoctl_inventory_service)
#define G(n) ((char *) mesoctl_opt (opts, n))

static void
s_amounts (const char *what, Meso__V1__IngredientAmount **a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char q[32];
        printf ("  %-9s %-14s %12s %-4s %-14s %s\n", what, a[i]->ingredient_code,
                mesoctl_qty_format (a[i]->amount_milli, q, sizeof q), meso_enum_str (&meso__v1__unit__descriptor, (int) a[i]->unit), a[i]->lot_number,
                a[i]->lot_id);
    }
}

static void
s_reservation (const Meso__V1__Reservation *r)
{
    if (!r)
        return;
    printf ("reservation of appointment %s at %s: %s, session %s, recipe %s v%u%s\n", r->appointment_id,
            r->clinic_id, meso_enum_str (&meso__v1__reservation_status__descriptor, (int) r->status), r->session_date, r->recipe_id, r->recipe_version,
            r->at_risk ? ", AT RISK" : "");
    s_amounts ("held", r->lines, r->n_lines);
    s_amounts ("consumed", r->consumed, r->n_consumed);
    s_amounts ("missing", r->missing, r->n_missing);
}

/* Calls method and prints the reservation of its reply (first field). */
static int
s_hold_call (meso_opt_t *opts, const char *method, ProtobufCMessage *body,
             const ProtobufCMessageDescriptor *desc)
{
    ProtobufCMessage *out = NULL;
    int rc = mesoctl_call (S_SVC, opts, method, body, true, desc, &out);
    if (rc != MESOCTL_OK)
        return rc;
    if (!meso_config_bool (opts, "json")) {
        /* Every reply here carries the Reservation as field 1. */
        const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field (desc, 1);
        s_reservation (*(Meso__V1__Reservation **) (void *) ((char *) out + f->offset));
        if (desc == &meso__v1__redate_reply__descriptor) {
            const Meso__V1__RedateReply *rd = (const Meso__V1__RedateReply *) out;
            printf ("  moved from %s\n", rd->previous_date);
            s_amounts ("released", rd->released, rd->n_released);
            s_amounts ("reserved", rd->reserved, rd->n_reserved);
        }
    }
    protobuf_c_message_free_unpacked (out, NULL);
    return MESOCTL_OK;
}

static const meso_opt_t s_reserve_opts[] = {
    { "clinic", NULL, NULL, "clinic id (required)", NULL },
    { "appointment", NULL, NULL, "appointment id (required)", NULL },
    { "patient", NULL, NULL, "patient id (required)", NULL },
    { "date", NULL, NULL, "session day YYYY-MM-DD (required)", NULL },
    { "areas", NULL, NULL, "treatment areas, comma-separated (required)", NULL },
    { "recipe", NULL, NULL, "recipe id (required)", NULL },
    { "recipe-version", NULL, "0", "recipe version (0: the latest)", NULL },
    MESOCTL_OPT_END
};

static int
s_reserve (meso_opt_t *opts)
{
    long version = 0;
    if (meso_config_int (opts, "recipe-version", 0, 1000000, &version) != 0)
        return MESOCTL_USAGE;
    char buf[1024];
    char *areas[MESOCTL_MAX_ITEMS];
    snprintf (buf, sizeof buf, "%s", G ("areas"));
    Meso__V1__ReserveRequest rq = MESO__V1__RESERVE_REQUEST__INIT;
    rq.clinic_id = G ("clinic");
    rq.appointment_id = G ("appointment");
    rq.patient_id = G ("patient");
    rq.session_date = G ("date");
    rq.n_areas = mesoctl_split (buf, ",", true, areas, MESOCTL_MAX_ITEMS);
    rq.areas = areas;
    rq.recipe_id = G ("recipe");
    rq.recipe_version = (uint32_t) version;
    return s_hold_call (opts, "inventory.Reserve", &rq.base, &meso__v1__reserve_reply__descriptor);
}

static const meso_opt_t s_release_opts[] = {
    { "clinic", NULL, NULL, "clinic id (required)", NULL },
    { "appointment", NULL, NULL, "appointment id (required)", NULL },
    { "reason", NULL, "", "why (kept with the stock events)", NULL },
    MESOCTL_OPT_END
};

static int
s_release (meso_opt_t *opts)
{
    Meso__V1__ReleaseRequest rq = MESO__V1__RELEASE_REQUEST__INIT;
    rq.clinic_id = G ("clinic");
    rq.appointment_id = G ("appointment");
    rq.reason = G ("reason");
    return s_hold_call (opts, "inventory.Release", &rq.base, &meso__v1__release_reply__descriptor);
}

static const meso_opt_t s_redate_opts[] = {
    { "clinic", NULL, NULL, "clinic id (required)", NULL },
    { "appointment", NULL, NULL, "appointment id (required)", NULL },
    { "date", NULL, NULL, "new session day YYYY-MM-DD (required)", NULL },
    { "reason", NULL, "", "why (kept with the stock events)", NULL },
    MESOCTL_OPT_END
};

static int
s_redate (meso_opt_t *opts)
{
    Meso__V1__RedateRequest rq = MESO__V1__REDATE_REQUEST__INIT;
    rq.clinic_id = G ("clinic");
    rq.appointment_id = G ("appointment");
    rq.session_date = G ("date");
    rq.reason = G ("reason");
    return s_hold_call (opts, "inventory.Redate", &rq.base, &meso__v1__redate_reply__descriptor);
}

static const meso_opt_t s_consume_opts[] = {
    { "clinic", NULL, NULL, "clinic id (required)", NULL },
    { "appointment", NULL, NULL, "appointment id (required)", NULL },
    { "actual", NULL, "", "what was used, ingredient:qty[:lot_id],... (default: what is held)", NULL },
    { "patient", NULL, "", "patient id, only for a session without a reservation", NULL },
    { "date", NULL, "", "session day YYYY-MM-DD, only for a session without a reservation", NULL },
    MESOCTL_OPT_END
};

static int
s_consume (meso_opt_t *opts)
{
    char buf[2048];
    char *items[MESOCTL_MAX_ITEMS];
    snprintf (buf, sizeof buf, "%s", G ("actual"));
    size_t n = mesoctl_split (buf, ",", true, items, MESOCTL_MAX_ITEMS);
    Meso__V1__IngredientAmount a[MESOCTL_MAX_ITEMS], *ap[MESOCTL_MAX_ITEMS];
    for (size_t i = 0; i < n; i++) {
        char *parts[3] = { NULL, NULL, NULL };
        size_t np = mesoctl_split (items[i], ":", false, parts, 3);
        meso__v1__ingredient_amount__init (&a[i]);
        if (np < 2 || mesoctl_qty_parse (parts[1], &a[i].amount_milli) != 0) {
            fprintf (stderr, "mesoctl inventory consume: --actual takes ingredient:qty[:lot_id],...\n");
            return MESOCTL_USAGE;
        }
        a[i].ingredient_code = parts[0];
        a[i].lot_id = np > 2 ? parts[2] : "";
        ap[i] = &a[i];
    }
    Meso__V1__ConsumeRequest rq = MESO__V1__CONSUME_REQUEST__INIT;
    rq.clinic_id = G ("clinic");
    rq.appointment_id = G ("appointment");
    rq.actual = ap;
    rq.n_actual = n;
    rq.patient_id = G ("patient");
    rq.session_date = G ("date");
    return s_hold_call (opts, "inventory.Consume", &rq.base, &meso__v1__consume_reply__descriptor);
}

const mesoctl_sub_t mesoctl_inventory_holds[] = {
    { "reserve", "hold a session's stock (what scheduling does when it books; service only)",
      "--clinic C --appointment A --patient P --date YYYY-MM-DD --areas a,b --recipe R [options]",
      "Holds the cocktail of a session, first-expiring-first, all or nothing, as scheduling\n"
      "does when it books; reserving an appointment again returns its reservation. For an\n"
      "operator debugging a booking: the method is open to service principals only.",
      "--clinic par --appointment 9a1e...07 --patient 6f1c...e2 --date 2026-09-01 --areas thighs --recipe lipo",
      s_reserve_opts, MESOCTL_JSON | MESOCTL_KEY, NULL, 0, s_reserve, "inventory.Reserve" },
    { "release", "give back a session's stock (service only)",
      "--clinic C --appointment A [--reason R] [options]",
      "Gives back the stock held for an appointment, as scheduling does on a cancellation;\n"
      "an appointment never reserved is recorded as released. Service principals only.",
      "--clinic par --appointment 9a1e...07 --reason \"booking abandoned\"",
      s_release_opts, MESOCTL_JSON | MESOCTL_KEY, NULL, 0, s_release, "inventory.Release" },
    { "redate", "move a held reservation to a new session day (service only)",
      "--clinic C --appointment A --date YYYY-MM-DD [--reason R] [options]",
      "Moves a held reservation to a new session day, re-taking what expires before it,\n"
      "all or nothing, as scheduling does on a reschedule. Service principals only.",
      "--clinic par --appointment 9a1e...07 --date 2026-09-15 --reason rescheduled",
      s_redate_opts, MESOCTL_JSON | MESOCTL_KEY, NULL, 0, s_redate, "inventory.Redate" },
    { "consume", "record what a completed session used (service only)",
      "--clinic C --appointment A [--actual ingredient:qty[:lot_id],...] [options]",
      "Records what a completed session used: what is held, or the --actual amounts. Service\n"
      "principals only (scheduling's session.completed does it).",
      "--clinic par --appointment 9a1e...07\n--clinic par --appointment 9a1e...07 --actual caffeine:95,l_carnitine:50",
      s_consume_opts, MESOCTL_JSON | MESOCTL_KEY, NULL, 0, s_consume, "inventory.Consume" },
    { NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, 0, NULL, NULL }
};
