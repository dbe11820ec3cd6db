/* fixture_bench.c -- see fixture_bench.h. */
#include "fixture_bench.h"

#include "events.pb-c.h"
#include "inventory.pb-c.h"
#include "meso/outbox.h"
#include "meso/status.h"

int
mt_bench_recipe (mt_call_fn *call, meso_bus_client_t *inv)
{
    meso_result_t r = { 0 };
    Meso__V1__Ingredient ing = MESO__V1__INGREDIENT__INIT;
    ing.code = "caffeine";
    ing.name = "Caffeine";
    ing.unit = MESO__V1__UNIT__UNIT_MG;
    Meso__V1__UpsertIngredientRequest ir = MESO__V1__UPSERT_INGREDIENT_REQUEST__INIT;
    ir.ingredient = &ing;
    int rc = call (inv, "inventory.UpsertIngredient", &ir.base, &r);
    Meso__V1__RecipeLine l = MESO__V1__RECIPE_LINE__INIT;
    l.area = "thighs";
    l.ingredient_code = "caffeine";
    l.amount_milli = 1000;
    Meso__V1__RecipeLine *lines[] = { &l };
    Meso__V1__UpsertRecipeRequest rq = MESO__V1__UPSERT_RECIPE_REQUEST__INIT;
    rq.recipe_id = "bench";
    rq.name = "Bench";
    rq.lines = lines;
    rq.n_lines = 1;
    if (rc == MESO_OK)
        rc = call (inv, "inventory.UpsertRecipe", &rq.base, &r);
    meso_result_reset (&r);
    return rc == MESO_OK ? 0 : -1;
}

int
mt_outbox_stock_low (meso_db_t *db, const char *id, const char *clinic, const char *tz)
{
    Meso__V1__Event ev = MESO__V1__EVENT__INIT;
    Meso__V1__StockLow low = MESO__V1__STOCK_LOW__INIT;
    low.ingredient_code = "caffeine";
    low.unit = MESO__V1__UNIT__UNIT_MG;
    low.available_milli = 1500;
    low.reorder_point_milli = 5000;
    ev.id = (char *) id;
    ev.type = "stock.low";
    ev.clinic_id = (char *) clinic;
    ev.clinic_time_zone = (char *) tz;
    ev.payload_case = MESO__V1__EVENT__PAYLOAD_STOCK_LOW;
    ev.stock_low = &low;
    return meso_outbox_append (db, &ev) != 0 ? -1 : 0;
}
