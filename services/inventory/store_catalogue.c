/* store_catalogue.c -- the SQL of the catalogue: ingredients, and
 * recipes with their versions and lines (catalogue.c's, and what Reserve
 * reads of a recipe). A recipe version is written once and never changed;
 * upserts of one recipe id are serialised by a transaction-scoped advisory
 * lock, so two cannot both write version n + 1. */
#include "inventory.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ catalogue */

PGresult *
store_ingredient_get (meso_db_t *db, const char *code)
{
    const char *p[] = { code };
    return meso_db_query (db,
        "SELECT code, name, unit, form FROM inventory.ingredient WHERE code = $1", 1, p);
}

PGresult *
store_ingredients (meso_db_t *db, const char *codes, const char *after_code, int limit)
{
    if (codes) {
        const char *p[] = { codes };
        return meso_db_query (db,
            "SELECT code, name, unit, form FROM inventory.ingredient"
            " WHERE code = ANY ($1::text[]) ORDER BY code", 1, p);
    }
    char lim[16];
    snprintf (lim, sizeof lim, "%d", limit);
    const char *p[] = { after_code ? after_code : "", lim };
    return meso_db_query (db,
        "SELECT code, name, unit, form FROM inventory.ingredient"
        " WHERE code > $1 ORDER BY code LIMIT $2::int", 2, p);
}

int
store_ingredient_upsert (meso_db_t *db, const Meso__V1__Ingredient *ing, bool *created)
{
    char unit[MESO_ENUM_TEXT_MAX];
    meso_enum_text (&meso__v1__unit__descriptor, (int) ing->unit, unit, sizeof unit);
    const char *p[] = { ing->code, ing->name, unit, ing->form ? ing->form : "" };
    PGresult *res = meso_db_query (db,
        "INSERT INTO inventory.ingredient (code, name, unit, form) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, unit = EXCLUDED.unit, "
        "  form = EXCLUDED.form, updated_at = now () "
        "RETURNING (xmax = 0)::int", 4, p);
    if (!res)
        return -1;
    *created = store_i64 (res, 0, 0) != 0;
    PQclear (res);
    return 0;
}

int
store_ingredient_has_lots (meso_db_t *db, const char *code)
{
    const char *p[] = { code };
    PGresult *res = meso_db_query (db,
        "SELECT EXISTS (SELECT 1 FROM inventory.lot WHERE ingredient_code = $1)::int", 1, p);
    if (!res)
        return -1;
    int has = (int) store_i64 (res, 0, 0);
    PQclear (res);
    return has;
}

int
store_ingredient_in_recipes (meso_db_t *db, const char *code)
{
    const char *p[] = { code };
    PGresult *res = meso_db_query (db,
        "SELECT EXISTS (SELECT 1 FROM inventory.recipe_line WHERE ingredient_code = $1)::int", 1, p);
    if (!res)
        return -1;
    int used = (int) store_i64 (res, 0, 0);
    PQclear (res);
    return used;
}

/* -------------------------------------------------------------- recipes */

int
store_recipe_lock (meso_db_t *db, const char *recipe_id)
{
    const char *p[] = { recipe_id };
    return meso_db_exec (db, "SELECT pg_advisory_xact_lock (hashtext ('inventory.recipe:' || $1))", 1, p);
}

int
store_recipe_latest (meso_db_t *db, const char *recipe_id, uint32_t *version, char *name,
                     size_t size)
{
    const char *p[] = { recipe_id };
    PGresult *res = meso_db_query (db,
        "SELECT version, name FROM inventory.recipe WHERE recipe_id = $1 "
        "ORDER BY version DESC LIMIT 1", 1, p);
    if (!res)
        return -1;
    *version = 0;
    if (name && size)
        name[0] = '\0';
    if (PQntuples (res) == 1) {
        *version = (uint32_t) store_i64 (res, 0, 0);
        if (name && size)
            snprintf (name, size, "%s", PQgetvalue (res, 0, 1));
    }
    PQclear (res);
    return 0;
}

PGresult *
store_recipe_lines (meso_db_t *db, const char *recipe_id, uint32_t version)
{
    char v[16];
    snprintf (v, sizeof v, "%u", version);
    const char *p[] = { recipe_id, v };
    return meso_db_query (db,
        "SELECT area, ingredient_code, amount_milli FROM inventory.recipe_line "
        "WHERE recipe_id = $1 AND version = $2::int ORDER BY area, ingredient_code", 2, p);
}

int
store_recipe_insert (meso_db_t *db, const char *recipe_id, uint32_t version, const char *name)
{
    char v[16];
    snprintf (v, sizeof v, "%u", version);
    const char *p[] = { recipe_id, v, name ? name : "" };
    return meso_db_exec (db,
        "INSERT INTO inventory.recipe (recipe_id, version, name) VALUES ($1, $2::int, $3)", 3, p);
}

int
store_recipe_line_insert (meso_db_t *db, const char *recipe_id, uint32_t version,
                          const Meso__V1__RecipeLine *line)
{
    char v[16], a[24];
    snprintf (v, sizeof v, "%u", version);
    store_i64text (a, sizeof a, line->amount_milli);
    const char *p[] = { recipe_id, v, line->area, line->ingredient_code, a };
    return meso_db_exec (db,
        "INSERT INTO inventory.recipe_line (recipe_id, version, area, ingredient_code, amount_milli) "
        "VALUES ($1, $2::int, $3, $4, $5::bigint)", 5, p);
}

PGresult *
store_recipe_need (meso_db_t *db, const char *recipe_id, uint32_t version, const char *areas)
{
    char v[16];
    snprintf (v, sizeof v, "%u", version);
    const char *p[] = { recipe_id, v, areas };
    return meso_db_query (db,
        "SELECT rl.ingredient_code, i.unit, sum (rl.amount_milli)::bigint "
        "FROM inventory.recipe_line rl JOIN inventory.ingredient i ON i.code = rl.ingredient_code "
        "WHERE rl.recipe_id = $1 AND rl.version = $2::int "
        "  AND ($3::text[] IS NULL OR rl.area = ANY ($3::text[])) "
        "GROUP BY rl.ingredient_code, i.unit ORDER BY rl.ingredient_code", 3, p);
}

/* The version asked, $2 (0: the latest of $1). */
#define RECIPE_VERSION_OF \
    "CASE WHEN $2::int = 0 THEN (SELECT max (version) FROM inventory.recipe WHERE recipe_id = $1) " \
    "ELSE $2::int END"

void
store_recipe_reads (store_recipe_reads_t *q, const char *recipe_id, uint32_t version,
                    const char *areas, meso_db_stmt_t out[3])
{
    snprintf (q->v, sizeof q->v, "%u", version);
    q->p[0] = recipe_id;
    q->p[1] = q->v;
    q->p[2] = areas;
    out[0] = (meso_db_stmt_t) { "SELECT h.latest, r.version, r.name, "
        "  (SELECT coalesce (string_agg (u.a, ',' ORDER BY u.o), '') "
        "   FROM unnest ($3::text[]) WITH ORDINALITY AS u (a, o) "
        "   WHERE r.version IS NOT NULL AND NOT EXISTS (SELECT 1 FROM inventory.recipe_line rl "
        "     WHERE rl.recipe_id = $1 AND rl.version = r.version AND rl.area = u.a)) "
        "FROM (SELECT coalesce (max (version), 0) AS latest FROM inventory.recipe WHERE recipe_id = $1) h "
        "LEFT JOIN inventory.recipe r ON r.recipe_id = $1 "
        "  AND r.version = CASE WHEN $2::int = 0 THEN h.latest ELSE $2::int END", 3, q->p };
    out[1] = (meso_db_stmt_t) { "SELECT rl.area, rl.ingredient_code, rl.amount_milli, i.unit "
        "FROM inventory.recipe_line rl JOIN inventory.ingredient i ON i.code = rl.ingredient_code "
        "WHERE rl.recipe_id = $1 AND rl.version = " RECIPE_VERSION_OF
        "  AND ($3::text[] IS NULL OR rl.area = ANY ($3::text[])) "
        "ORDER BY rl.area, rl.ingredient_code", 3, q->p };
    out[2] = (meso_db_stmt_t) { "SELECT rl.ingredient_code, i.unit, sum (rl.amount_milli)::bigint "
        "FROM inventory.recipe_line rl JOIN inventory.ingredient i ON i.code = rl.ingredient_code "
        "WHERE rl.recipe_id = $1 AND rl.version = " RECIPE_VERSION_OF
        "  AND ($3::text[] IS NULL OR rl.area = ANY ($3::text[])) "
        "GROUP BY rl.ingredient_code, i.unit ORDER BY rl.ingredient_code", 3, q->p };
}
