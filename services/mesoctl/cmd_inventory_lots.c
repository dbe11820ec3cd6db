/* cmd_inventory_lots.c -- "mesoctl inventory ..." corrections of the
 * stock room and the recipes as stored:
 *
 *     mesoctl inventory adjust          --clinic C --lot-id ID --qty -2.5 --reason R
 *     mesoctl inventory discard-expired --clinic C [--as-of YYYY-MM-DD]
 *     mesoctl inventory reorder-point   --clinic C --ingredient I --qty Q [--warn-days N]
 *     mesoctl inventory recipe-show     --recipe R [--recipe-version N] [--areas a,b]
 *
 * Quantities in the ingredient's unit with up to three decimals (qty.c),
 * as every inventory subcommand. Each prints a readable form, or with
 * --json the reply with every field of inventory.proto. A refusal prints
 * the method, its message and every reason, and exits 1. */
#include <stdio.h>
#include <string.h>

#include "answers.h"
#include "inventory.pb-c.h"
#include "mesoctl.h"
#include "qty.h"

#define S_SVC (&mesoctl_inventory_service)
#define G(n) ((char *) mesoctl_opt (opts, n))

static void
s_lot (const char *what, const Meso__V1__Lot *l)
{
    char a[32], b[32];
    printf ("%s lot %s (%s %s, expires %s): on hand %s %s, reserved %s\n", what, l->lot_id,
            l->ingredient_code, l->lot_number, l->expiry_date,
            mesoctl_qty_format (l->on_hand_milli, a, sizeof a), meso_enum_str (&meso__v1__unit__descriptor, (int) l->unit),
            mesoctl_qty_format (l->reserved_milli, b, sizeof b));
}

static int
s_qty (const meso_opt_t *opts, const char *name, int64_t *out)
{
    if (mesoctl_qty_parse (mesoctl_opt (opts, name), out) != 0) {
        fprintf (stderr, "mesoctl: --%s must be a number with at most 3 decimals (got \"%s\")\n", name,
                 mesoctl_opt (opts, name));
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------- adjust */

static const meso_opt_t s_adjust_opts[] = {
    { "clinic", NULL, NULL, "clinic id (required)", NULL },
    { "lot-id", NULL, NULL, "the lot id (required)", NULL },
    { "qty", NULL, NULL, "change in the ingredient's unit, negative removes, e.g. -2.5 (required)", NULL },
    { "reason", NULL, NULL, "why: count, breakage... (required, kept in the ledger)", NULL },
    MESOCTL_OPT_END
};

static int
s_adjust (meso_opt_t *opts)
{
    Meso__V1__AdjustRequest rq = MESO__V1__ADJUST_REQUEST__INIT;
    if (s_qty (opts, "qty", &rq.delta_milli) != 0)
        return MESOCTL_USAGE;
    rq.clinic_id = G ("clinic");
    rq.lot_id = G ("lot-id");
    rq.reason = G ("reason");
    ProtobufCMessage *out = NULL;
    int rc = mesoctl_call (S_SVC, opts, "inventory.Adjust", &rq.base, true,
                           &meso__v1__adjust_reply__descriptor, &out);
    if (rc != MESOCTL_OK)
        return rc;
    const Meso__V1__AdjustReply *rep = (const Meso__V1__AdjustReply *) out;
    if (!meso_config_bool (opts, "json") && rep->lot)
        s_lot ("adjusted", rep->lot);
    protobuf_c_message_free_unpacked (out, NULL);
    return MESOCTL_OK;
}

/* ---------------------------------------------------- discard-expired */

static const meso_opt_t s_discard_opts[] = {
    { "clinic", NULL, NULL, "clinic id (required)", NULL },
    { "as-of", NULL, "", "discard what expired before this day, at most today (default today)", NULL },
    MESOCTL_OPT_END
};

static int
s_discard (meso_opt_t *opts)
{
    Meso__V1__DiscardExpiredRequest rq = MESO__V1__DISCARD_EXPIRED_REQUEST__INIT;
    rq.clinic_id = G ("clinic");
    rq.as_of = G ("as-of");
    ProtobufCMessage *out = NULL;
    int rc = mesoctl_call (S_SVC, opts, "inventory.DiscardExpired", &rq.base, true,
                           &meso__v1__discard_expired_reply__descriptor, &out);
    if (rc != MESOCTL_OK)
        return rc;
    const Meso__V1__DiscardExpiredReply *rep = (const Meso__V1__DiscardExpiredReply *) out;
    if (!meso_config_bool (opts, "json")) {
        printf ("%zu lot%s discarded from\n", rep->n_discarded, rep->n_discarded == 1 ? "" : "s");
        for (size_t i = 0; i < rep->n_discarded; i++) {
            char a[32];
            const Meso__V1__IngredientAmount *d = rep->discarded[i];
            printf ("  %-14s %-14s %12s %-4s %s\n", d->ingredient_code, d->lot_number,
                    mesoctl_qty_format (d->amount_milli, a, sizeof a), meso_enum_str (&meso__v1__unit__descriptor, (int) d->unit), d->lot_id);
        }
    }
    protobuf_c_message_free_unpacked (out, NULL);
    return MESOCTL_OK;
}

/* ------------------------------------------------------ reorder-point */

static const meso_opt_t s_reorder_opts[] = {
    { "clinic", NULL, NULL, "clinic id (required)", NULL },
    { "ingredient", NULL, NULL, "ingredient code (required)", NULL },
    { "qty", NULL, NULL, "reorder when available falls below this, in the ingredient's unit (required)", NULL },
    { "warn-days", NULL, "0", "announce a lot this many days before it expires, 1..365 (0: 30)", NULL },
    MESOCTL_OPT_END
};

static int
s_reorder (meso_opt_t *opts)
{
    long days = 0;
    Meso__V1__SetReorderPointRequest rq = MESO__V1__SET_REORDER_POINT_REQUEST__INIT;
    if (s_qty (opts, "qty", &rq.reorder_point_milli) != 0
        || meso_config_int (opts, "warn-days", 0, 365, &days) != 0)
        return MESOCTL_USAGE;
    rq.clinic_id = G ("clinic");
    rq.ingredient_code = G ("ingredient");
    rq.expiring_warn_days = (uint32_t) days;
    ProtobufCMessage *out = NULL;
    int rc = mesoctl_call (S_SVC, opts, "inventory.SetReorderPoint", &rq.base, true,
                           &meso__v1__set_reorder_point_reply__descriptor, &out);
    if (rc != MESOCTL_OK)
        return rc;
    const Meso__V1__SetReorderPointReply *rep = (const Meso__V1__SetReorderPointReply *) out;
    char a[32];
    if (!meso_config_bool (opts, "json"))
        printf ("%s at %s: reorder below %s; lots announced %u days before expiry\n", rep->ingredient_code,
                rep->clinic_id, mesoctl_qty_format (rep->reorder_point_milli, a, sizeof a),
                rep->expiring_warn_days);
    protobuf_c_message_free_unpacked (out, NULL);
    return MESOCTL_OK;
}

/* -------------------------------------------------------- recipe-show */

static const meso_opt_t s_recipe_show_opts[] = {
    { "recipe", NULL, NULL, "recipe id (required)", NULL },
    { "recipe-version", NULL, "0", "recipe version (0: the latest)", NULL },
    { "areas", NULL, "", "only these areas, comma-separated (and what a session over them needs)", NULL },
    MESOCTL_OPT_END
};

static int
s_recipe_show (meso_opt_t *opts)
{
    long version = 0;
    if (meso_config_int (opts, "recipe-version", 0, 1000000, &version) != 0)
        return MESOCTL_USAGE;
    char buf[1024];
    char *areas[MESOCTL_MAX_ITEMS];
    snprintf (buf, sizeof buf, "%s", G ("areas"));
    Meso__V1__GetRecipeRequest rq = MESO__V1__GET_RECIPE_REQUEST__INIT;
    rq.recipe_id = G ("recipe");
    rq.version = (uint32_t) version;
    rq.n_areas = mesoctl_split (buf, ",", true, areas, MESOCTL_MAX_ITEMS);
    rq.areas = areas;
    ProtobufCMessage *out = NULL;
    int rc = mesoctl_call (S_SVC, opts, "inventory.GetRecipe", &rq.base, false,
                           &meso__v1__get_recipe_reply__descriptor, &out);
    if (rc != MESOCTL_OK)
        return rc;
    const Meso__V1__GetRecipeReply *rep = (const Meso__V1__GetRecipeReply *) out;
    if (!meso_config_bool (opts, "json")) {
        char a[32];
        printf ("recipe %s v%u (latest v%u): %s\n", rep->recipe_id, rep->version, rep->latest_version, rep->name);
        for (size_t i = 0; i < rep->n_lines; i++)
            printf ("  %-14s %-14s %12s %s\n", rep->lines[i]->area, rep->lines[i]->ingredient_code,
                    mesoctl_qty_format (rep->lines[i]->amount_milli, a, sizeof a), meso_enum_str (&meso__v1__unit__descriptor, (int) rep->lines[i]->unit));
        printf ("one session needs:\n");
        for (size_t i = 0; i < rep->n_needs; i++)
            printf ("  %-14s %12s %s\n", rep->needs[i]->ingredient_code,
                    mesoctl_qty_format (rep->needs[i]->amount_milli, a, sizeof a), meso_enum_str (&meso__v1__unit__descriptor, (int) rep->needs[i]->unit));
    }
    protobuf_c_message_free_unpacked (out, NULL);
    return MESOCTL_OK;
}

const mesoctl_sub_t mesoctl_inventory_lots[] = {
    { "adjust", "correct a lot's quantity on hand (count, breakage)",
      "--clinic C --lot-id ID --qty Q --reason R [options]",
      "Adds (or with a negative --qty removes) a quantity of a lot, with the reason kept in\n"
      "the movement ledger. The result may not go below zero nor below what is reserved.",
      "--clinic par --lot-id 0b6c...41 --qty -2.5 --reason \"vial broken\"",
      s_adjust_opts, MESOCTL_JSON | MESOCTL_KEY, NULL, 0, s_adjust, "inventory.Adjust" },
    { "discard-expired", "take expired stock off the shelf",
      "--clinic C [--as-of YYYY-MM-DD] [options]",
      "Removes the unreserved quantity of every lot of the clinic that expired before --as-of\n"
      "(default: the clinic's today) and lists what was discarded.",
      "--clinic par",
      s_discard_opts, MESOCTL_JSON | MESOCTL_KEY, NULL, 0, s_discard, "inventory.DiscardExpired" },
    { "reorder-point", "when to reorder an ingredient, and when to announce expiring lots",
      "--clinic C --ingredient I --qty Q [--warn-days N] [options]",
      "Sets the level under which the clinic must reorder an ingredient (stock.low is announced\n"
      "when available falls below it) and how many days before expiry a lot is announced.",
      "--clinic par --ingredient caffeine --qty 500 --warn-days 45",
      s_reorder_opts, MESOCTL_JSON | MESOCTL_KEY, NULL, 0, s_reorder, "inventory.SetReorderPoint" },
    { "recipe-show", "a recipe version and what a session over some areas needs",
      "--recipe R [--recipe-version N] [--areas a,b] [options]",
      "Shows a recipe version (the latest by default): its lines per area, and what one\n"
      "session over the areas given (every area when none) takes of each ingredient.",
      "--recipe lipo\n--recipe lipo --recipe-version 2 --areas thighs,hips --json",
      s_recipe_show_opts, MESOCTL_JSON, NULL, 0, s_recipe_show, "inventory.GetRecipe" },
    { NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, 0, NULL, NULL }
};
