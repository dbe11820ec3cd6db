/* catalogue.c -- the ingredient codes screening knows: inventory's
 * catalogue, learnt on demand (see screening.h).
 *
 * The chain has one ingredient catalogue and inventory owns it
 * (inventory.UpsertIngredient). Allergies are recorded as its codes and
 * checked against a cocktail's ingredients, so screening must accept
 * exactly the codes inventory has, and an ingredient added there must be
 * usable here at once ("at once bookable and checkable").
 *
 * Why ask on a miss rather than follow catalogue events: an event reaches
 * screening only after the events daemon relayed it, so a booking made
 * right after UpsertIngredient would be refused for a code that exists.
 * Asking inventory.GetIngredients for the codes of a request that are not
 * yet known answers with what inventory has committed, at once.
 *
 * Why a positive cache in screening's own table (screening.ingredients,
 * migration 011): ingredients are never deleted from inventory's
 * catalogue, so a code once confirmed stays valid and later requests cost
 * no round trip; the table also keeps the foreign key of recorded
 * allergies. A code inventory does not have is never kept, so adding it a
 * moment later works. A client cannot fill the table with junk: only
 * codes inventory confirmed are written.
 *
 * Why this cannot hang: screening asks inventory while it serves Check,
 * which scheduling calls while it waits. Inventory never calls screening
 * (nor waits on scheduling longer than its own 800 ms clinic lookup), and
 * the lookup here has a short deadline, under the second after which
 * scheduling's client resends, so at worst a Check is refused UNAVAILABLE
 * (the booking can be retried) and no daemon waits on another in a
 * circle. */
#include "screening.h"

#include <stdio.h>
#include <string.h>

#include "inventory.pb-c.h"
#include "meso/handler.h"
#include "meso/log.h"
#include "meso/metrics.h"

#define MAX_ASK 64

static void
s_count (const char *outcome)
{
    meso_metrics_add ("meso_ingredient_lookups_total",
                      "Ingredient lookups sent to inventory (codes not known yet), by outcome.",
                      "outcome", outcome, 1);
}

int
screening_catalogue_learn (screening_t *self, meso_reply_t *reply, const char *const *codes,
                           size_t n, const char *list)
{
    if (!self->inventory)
        return 0;
    char *ask[MAX_ASK];
    size_t at[MAX_ASK], nask = 0;
    bool shapes_ok = true;
    for (size_t i = 0; i < n && nask < MAX_ASK; i++) {
        if (!meso_handler_ingredient_ok (codes[i])) {
            shapes_ok = false;
            continue;               /* the shape is refused by the caller */
        }
        bool dup = false;
        for (size_t j = 0; !dup && j < nask; j++)
            dup = strcmp (ask[j], codes[i]) == 0;
        if (dup)
            continue;
        int known = store_ingredient_known (self->db, codes[i]);
        if (known < 0) {
            meso_reply_db_error (reply, self->db, "cannot read the ingredient codes");
            return -1;
        }
        if (!known) {
            at[nask] = i;
            ask[nask++] = (char *) codes[i];
        }
    }
    if (nask == 0)
        return shapes_ok ? 1 : 0;

    Meso__V1__GetIngredientsRequest rq = MESO__V1__GET_INGREDIENTS_REQUEST__INIT;
    rq.codes = ask;
    rq.n_codes = nask;
    meso_result_t r = { 0 };
    int rc = meso_bus_client_call (self->inventory, "inventory.GetIngredients", &rq.base, NULL,
                                   SCREENING_CATALOGUE_DEADLINE_MS, &r);
    Meso__V1__GetIngredientsReply *out = NULL;
    if (rc == 0) {
        size_t len;
        const uint8_t *body = meso_result_body (&r, &len);
        out = meso__v1__get_ingredients_reply__unpack (NULL, len, body);
    }
    if (!out) {
        /* The outcome is unknown: refuse what cannot be checked, so the
         * client retries, rather than call a real ingredient unknown. */
        meso_reply_error (reply, MESO_UNAVAILABLE,
                          "cannot check ingredient %s against the catalogue: inventory did not answer",
                          ask[0]);
        meso_reply_detail (reply, "%s", rc == 0 ? "inventory sent an unreadable GetIngredientsReply"
                                                : r.message);
        char f[48];
        snprintf (f, sizeof f, "%s[%zu]", list, at[0]);
        meso_reply_reason (reply, "ingredient_unchecked", f,
                           "retry the request; inventory must be running to check a new ingredient");
        meso_warn ("cannot look up ingredient %s at inventory: %s", ask[0], r.message);
        s_count ("unavailable");
        meso_result_reset (&r);
        return -1;
    }
    int result = 0;
    for (size_t i = 0; i < out->n_ingredients; i++) {
        const Meso__V1__Ingredient *ing = out->ingredients[i];
        if (!meso_handler_ingredient_ok (ing->code))
            continue;
        if (store_ingredient_confirm (self->db, ing->code, ing->name) != 0) {
            meso_reply_db_error (reply, self->db, "cannot record an ingredient code");
            result = -1;
            break;
        }
        s_count ("found");
    }
    for (size_t i = 0; result == 0 && i < out->n_unknown; i++)
        s_count ("not_found");
    meso__v1__get_ingredients_reply__free_unpacked (out, NULL);
    meso_result_reset (&r);
    return result;
}
