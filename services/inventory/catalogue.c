/* catalogue.c -- the catalogue: ingredients and the recipes that name
 * them ("inventory.UpsertIngredient", "inventory.GetIngredients",
 * "inventory.UpsertRecipe", "inventory.GetRecipe").
 *
 * This is the one ingredient catalogue of the chain. Screening checks
 * allergies against it by asking GetIngredients for a code it has not
 * seen (and keeps the codes confirmed: an ingredient is never deleted),
 * so nothing else keeps a list of its own. Codes have one syntax
 * everywhere, meso_handler_ingredient_ok. Inventory never calls
 * screening, so screening may ask while it serves scheduling's Check.
 *
 * One file because a recipe line counts in its ingredient's unit: an
 * ingredient's unit may change only while neither stock nor a recipe uses
 * it, and a recipe may name only catalogue ingredients. Recipes are
 * versioned and a version is never changed once written: an upsert that
 * changes nothing keeps the version, and GetRecipe -- how the other
 * services learn a recipe; they never read the recipe tables themselves --
 * reads without a transaction and still sees one version whole. */
#include "inventory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/handler.h"

/* ---------------------------------------------------------- UpsertIngredient */

static int
s_upsert_ingredient_effect (meso_db_t *db, frame_job_t *job)
{
    Meso__V1__UpsertIngredientRequest *in = job->in;
    PGresult *res = store_ingredient_get (db, in->ingredient->code);
    if (!res)
        return -1;
    bool unit_change = PQntuples (res) == 1 && INVENTORY_UNIT (PQgetvalue (res, 0, 2)) != in->ingredient->unit;
    PQclear (res);
    if (unit_change) {
        int has = store_ingredient_has_lots (db, in->ingredient->code);
        if (has < 0)
            return -1;
        if (has) {
            meso_reply_error (job->reply, MESO_FAILED_PRECONDITION,
                              "the unit of ingredient %s cannot change while stock of it exists",
                              in->ingredient->code);
            meso_reply_detail (job->reply, "quantities of its lots are counted in the old unit");
            return -1;
        }
        /* Recipe amounts are counted in the unit too: 100 mg would
         * silently become 100 ml. */
        int used = store_ingredient_in_recipes (db, in->ingredient->code);
        if (used < 0)
            return -1;
        if (used) {
            meso_reply_error (job->reply, MESO_FAILED_PRECONDITION,
                              "the unit of ingredient %s cannot change while recipes use it",
                              in->ingredient->code);
            meso_reply_detail (job->reply, "recipe amounts of it are counted in the old unit");
            return -1;
        }
    }
    bool created = false;
    if (store_ingredient_upsert (db, in->ingredient, &created) != 0)
        return -1;
    Meso__V1__UpsertIngredientReply out = MESO__V1__UPSERT_INGREDIENT_REPLY__INIT;
    out.ingredient = in->ingredient;
    out.created = created;
    meso_reply_ok (job->reply, &out.base);
    return 0;
}

void
inventory_upsert_ingredient (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__UpsertIngredientRequest *in = body;
    int bad = 0;
    if (!in->ingredient) {
        meso_reply_reason (reply, "missing_field", "ingredient", "ingredient is required");
        bad++;
    }
    else {
        meso_handler_need_ingredient (reply, &bad, "ingredient.code", in->ingredient->code);
        meso_handler_need_text (reply, &bad, "ingredient.name", in->ingredient->name, TEXT_MAX);
        if (!meso_enum_valid (&meso__v1__unit__descriptor, (int) in->ingredient->unit)) {
            meso_reply_reason (reply, "invalid_unit", "ingredient.unit",
                               "unit must be UNIT_MG or UNIT_ML");
            bad++;
        }
        frame_may_text (reply, &bad, "ingredient.form", in->ingredient->form, TEXT_MAX);
    }
    if (!meso_handler_invalid (reply, bad, req->method))
        frame_run (arg, req, reply, in, s_upsert_ingredient_effect);
}

/* ------------------------------------------------------- GetIngredients */

#define GET_INGREDIENTS_MAX_CODES 64
#define GET_INGREDIENTS_LIMIT 100
#define GET_INGREDIENTS_LIMIT_MAX 500

/* A read: one statement, so it sees one state of the catalogue. */
void
inventory_get_ingredients (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    inventory_t *self = arg;
    Meso__V1__GetIngredientsRequest *in = body;
    int bad = 0;
    if (in->n_codes > GET_INGREDIENTS_MAX_CODES) {
        meso_reply_reason (reply, "out_of_range", "codes", "ask for at most %d codes at once",
                           GET_INGREDIENTS_MAX_CODES);
        bad++;
    }
    for (size_t i = 0; !bad && i < in->n_codes; i++) {
        char field[32];
        snprintf (field, sizeof field, "codes[%zu]", i);
        meso_handler_need_ingredient (reply, &bad, field, in->codes[i]);
    }
    if (in->after_code && *in->after_code && !meso_handler_ingredient_ok (in->after_code)) {
        meso_reply_reason (reply, "invalid_code", "after_code",
                           "after_code must be an ingredient code (a-z, 0-9, _ or -)");
        bad++;
    }
    if (in->limit > GET_INGREDIENTS_LIMIT_MAX) {
        meso_reply_reason (reply, "out_of_range", "limit", "limit must be at most %d",
                           GET_INGREDIENTS_LIMIT_MAX);
        bad++;
    }
    if (meso_handler_invalid (reply, bad, req->method))
        return;
    int limit = in->limit ? (int) in->limit : GET_INGREDIENTS_LIMIT;
    char lit[GET_INGREDIENTS_MAX_CODES * (ID_MAX + 1) + 4];
    if (in->n_codes)
        frame_array_literal (lit, sizeof lit, in->codes, in->n_codes);
    /* One more than asked tells whether more follow. */
    PGresult *res = store_ingredients (self->db, in->n_codes ? lit : NULL, in->after_code, limit + 1);
    if (!res) {
        meso_reply_db_error (reply, self->db, "cannot read the ingredient catalogue");
        return;
    }
    int n = PQntuples (res);
    bool more = !in->n_codes && n > limit;
    if (more)
        n = limit;
    Meso__V1__Ingredient *items = calloc ((size_t) n + 1, sizeof *items);
    Meso__V1__Ingredient **ptrs = calloc ((size_t) n + 1, sizeof *ptrs);
    char **unknown = calloc (in->n_codes + 1, sizeof *unknown);
    if (!items || !ptrs || !unknown) {
        meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED, "out of memory");
        goto done;
    }
    for (int i = 0; i < n; i++) {
        meso__v1__ingredient__init (&items[i]);
        items[i].code = PQgetvalue (res, i, 0);
        items[i].name = PQgetvalue (res, i, 1);
        items[i].unit = INVENTORY_UNIT (PQgetvalue (res, i, 2));
        items[i].form = PQgetvalue (res, i, 3);
        ptrs[i] = &items[i];
    }
    size_t nunknown = 0;
    for (size_t k = 0; k < in->n_codes; k++) {
        bool seen = false;
        for (int i = 0; !seen && i < n; i++)
            seen = strcmp (in->codes[k], items[i].code) == 0;
        for (size_t j = 0; !seen && j < nunknown; j++)
            seen = strcmp (in->codes[k], unknown[j]) == 0;
        if (!seen)
            unknown[nunknown++] = in->codes[k];
    }
    Meso__V1__GetIngredientsReply out = MESO__V1__GET_INGREDIENTS_REPLY__INIT;
    out.n_ingredients = (size_t) n;
    out.ingredients = ptrs;
    out.n_unknown = nunknown;
    out.unknown = unknown;
    out.more = more;
    meso_reply_ok (reply, &out.base);
done:
    free (items);
    free (ptrs);
    free (unknown);
    PQclear (res);
}

/* ---------------------------------------------------------- UpsertRecipe */

static int
s_line_cmp (const void *a, const void *b)
{
    const Meso__V1__RecipeLine *x = *(Meso__V1__RecipeLine *const *) a;
    const Meso__V1__RecipeLine *y = *(Meso__V1__RecipeLine *const *) b;
    int c = strcmp (x->area, y->area);
    return c ? c : strcmp (x->ingredient_code, y->ingredient_code);
}

static int
s_upsert_recipe_effect (meso_db_t *db, frame_job_t *job)
{
    Meso__V1__UpsertRecipeRequest *in = job->in;
    /* Every ingredient must be in the catalogue. */
    int unknown = 0;
    for (size_t i = 0; i < in->n_lines; i++) {
        PGresult *res = store_ingredient_get (db, in->lines[i]->ingredient_code);
        if (!res)
            return -1;
        if (PQntuples (res) == 0) {
            char field[48];
            snprintf (field, sizeof field, "lines[%zu].ingredient_code", i);
            meso_reply_reason (job->reply, "unknown_ingredient", field,
                               "ingredient \"%s\" is not in the catalogue; add it with UpsertIngredient",
                               in->lines[i]->ingredient_code);
            unknown++;
        }
        PQclear (res);
    }
    if (unknown) {
        meso_reply_error (job->reply, MESO_NOT_FOUND, "recipe %s names %d unknown ingredient%s",
                          in->recipe_id, unknown, unknown > 1 ? "s" : "");
        return -1;
    }
    if (store_recipe_lock (db, in->recipe_id) != 0)
        return -1;
    uint32_t version = 0;
    char name[TEXT_MAX + 1];
    if (store_recipe_latest (db, in->recipe_id, &version, name, sizeof name) != 0)
        return -1;
    bool same = false;
    if (version > 0 && strcmp (name, in->name ? in->name : "") == 0) {
        PGresult *res = store_recipe_lines (db, in->recipe_id, version);
        if (!res)
            return -1;
        /* Lines arrive sorted (s_upsert_recipe sorted them); the store
         * returns them in the same order. */
        same = (size_t) PQntuples (res) == in->n_lines;
        for (size_t i = 0; same && i < in->n_lines; i++)
            same = strcmp (PQgetvalue (res, (int) i, 0), in->lines[i]->area) == 0
                && strcmp (PQgetvalue (res, (int) i, 1), in->lines[i]->ingredient_code) == 0
                && store_i64 (res, (int) i, 2) == in->lines[i]->amount_milli;
        PQclear (res);
    }
    Meso__V1__UpsertRecipeReply out = MESO__V1__UPSERT_RECIPE_REPLY__INIT;
    out.recipe_id = in->recipe_id;
    if (same) {
        out.version = version;
        out.changed = false;
    }
    else {
        version++;
        if (store_recipe_insert (db, in->recipe_id, version, in->name) != 0)
            return -1;
        for (size_t i = 0; i < in->n_lines; i++)
            if (store_recipe_line_insert (db, in->recipe_id, version, in->lines[i]) != 0)
                return -1;
        out.version = version;
        out.changed = true;
    }
    meso_reply_ok (job->reply, &out.base);
    return 0;
}

void
inventory_upsert_recipe (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__UpsertRecipeRequest *in = body;
    int bad = 0;
    meso_handler_need_code (reply, &bad, "recipe_id", in->recipe_id);
    frame_may_text (reply, &bad, "name", in->name, TEXT_MAX);
    if (in->n_lines == 0) {
        meso_reply_reason (reply, "missing_field", "lines",
                           "a recipe needs at least one line (area, ingredient, amount)");
        bad++;
    }
    else if (in->n_lines > MAX_LINES * MAX_AREAS) {
        meso_reply_reason (reply, "out_of_range", "lines", "at most %d lines", MAX_LINES * MAX_AREAS);
        bad++;
    }
    for (size_t i = 0; !bad && i < in->n_lines; i++) {
        char field[48];
        Meso__V1__RecipeLine *l = in->lines[i];
        if (!meso_handler_code_ok (l->area, false) || strchr (l->area, '-')) {
            snprintf (field, sizeof field, "lines[%zu].area", i);
            meso_reply_reason (reply, "invalid_area", field,
                               "area must be a treatment area code of a-z, 0-9 and _ (got \"%.64s\")",
                               l->area);
            bad++;
        }
        snprintf (field, sizeof field, "lines[%zu].ingredient_code", i);
        meso_handler_need_ingredient (reply, &bad, field, l->ingredient_code);
        snprintf (field, sizeof field, "lines[%zu].amount_milli", i);
        frame_need_qty (reply, &bad, field, l->amount_milli);
    }
    if (!bad) {
        qsort (in->lines, in->n_lines, sizeof *in->lines, s_line_cmp);
        for (size_t i = 1; i < in->n_lines; i++)
            if (s_line_cmp (&in->lines[i - 1], &in->lines[i]) == 0) {
                meso_reply_reason (reply, "duplicate_line", "lines",
                                   "area %s lists ingredient %s twice", in->lines[i]->area,
                                   in->lines[i]->ingredient_code);
                bad++;
                break;
            }
    }
    if (!meso_handler_invalid (reply, bad, req->method))
        frame_run (arg, req, reply, in, s_upsert_recipe_effect);
}

/* ------------------------------------------------------------ GetRecipe */

/* A read: recipe versions are never changed once written, so the head,
 * the lines and the needs are read without a transaction (in one
 * pipeline, store_recipe_reads) and still agree. */
void
inventory_get_recipe (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    inventory_t *self = arg;
    Meso__V1__GetRecipeRequest *in = body;
    int bad = 0;
    meso_handler_need_code (reply, &bad, "recipe_id", in->recipe_id);
    if (frame_need_area_count (reply, &bad, in->n_areas, false))
        frame_need_area_codes (reply, &bad, in->areas, in->n_areas);
    char lit[MAX_AREAS * (ID_MAX + 1) + 4];
    const char *areas = NULL;
    if (!bad && in->n_areas) {
        frame_array_literal (lit, sizeof lit, in->areas, in->n_areas);
        areas = lit;
    }
    PGresult *head = NULL, *lines = NULL, *need = NULL;
    Meso__V1__RecipeLine *la = NULL, **lp = NULL;
    Meso__V1__IngredientAmount *na = NULL, **np = NULL;
    if (meso_handler_invalid (reply, bad, req->method))
        goto done;
    /* The head with the areas it lacks, the lines and the needs: one
     * round trip, the version resolved in each statement alike. */
    store_recipe_reads_t q;
    meso_db_stmt_t st[3];
    PGresult *rr[3];
    store_recipe_reads (&q, in->recipe_id, in->version, areas, st);
    if (meso_db_pipeline (self->db, 3, st, rr) != 0)
        goto db_error;
    head = rr[0];
    lines = rr[1];
    need = rr[2];
    uint32_t latest = (uint32_t) store_i64 (head, 0, 0);
    if (PQgetisnull (head, 0, 1)) {
        meso_reply_error (reply, MESO_NOT_FOUND, "no recipe %s%s%.0u", in->recipe_id,
                          in->version ? " version " : "", in->version);
        meso_reply_reason (reply, "unknown_recipe", in->version ? "version" : "recipe_id",
                           "record the recipe with inventory.UpsertRecipe first");
        goto done;
    }
    uint32_t version = (uint32_t) store_i64 (head, 0, 1);
    int nmissing = 0;
    for (const char *a = PQgetvalue (head, 0, 3); *a; nmissing++) {
        size_t len = strcspn (a, ",");
        meso_reply_reason (reply, "unknown_area", "areas", "recipe %s version %u has nothing for area \"%.*s\"",
                           in->recipe_id, version, (int) len, a);
        a += len + (a[len] == ',');
    }
    if (nmissing) {
        meso_reply_error (reply, MESO_INVALID_ARGUMENT, "recipe %s version %u does not cover %d of the areas",
                          in->recipe_id, version, nmissing);
        goto done;
    }
    int nl = PQntuples (lines), nn = PQntuples (need);
    la = calloc ((size_t) nl + 1, sizeof *la);
    lp = calloc ((size_t) nl + 1, sizeof *lp);
    na = calloc ((size_t) nn + 1, sizeof *na);
    np = calloc ((size_t) nn + 1, sizeof *np);
    if (!la || !lp || !na || !np) {
        meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED, "out of memory");
        goto done;
    }
    for (int i = 0; i < nl; i++) {
        meso__v1__recipe_line__init (&la[i]);
        la[i].area = PQgetvalue (lines, i, 0);
        la[i].ingredient_code = PQgetvalue (lines, i, 1);
        la[i].amount_milli = store_i64 (lines, i, 2);
        la[i].unit = INVENTORY_UNIT (PQgetvalue (lines, i, 3));
        lp[i] = &la[i];
    }
    for (int i = 0; i < nn; i++) {
        meso__v1__ingredient_amount__init (&na[i]);
        na[i].ingredient_code = PQgetvalue (need, i, 0);
        na[i].unit = INVENTORY_UNIT (PQgetvalue (need, i, 1));
        na[i].amount_milli = store_i64 (need, i, 2);
        np[i] = &na[i];
    }
    Meso__V1__GetRecipeReply out = MESO__V1__GET_RECIPE_REPLY__INIT;
    out.recipe_id = in->recipe_id;
    out.version = version;
    out.name = PQgetvalue (head, 0, 2);
    out.n_lines = (size_t) nl;
    out.lines = lp;
    out.n_needs = (size_t) nn;
    out.needs = np;
    out.latest_version = latest;
    meso_reply_ok (reply, &out.base);
    goto done;
db_error:
    meso_reply_db_error (reply, self->db, "cannot read the recipe");
done:
    free (la);
    free (lp);
    free (na);
    free (np);
    PQclear (head);
    PQclear (lines);
    PQclear (need);
}

