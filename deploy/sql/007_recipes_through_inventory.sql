-- 007_recipes_through_inventory.sql -- scheduling no longer reads the
-- recipe tables of inventory.
--
-- Scheduling learns a recipe's version and ingredients by asking the
-- inventory daemon (inventory.GetRecipe) and records the version it was
-- given, so nothing of scheduling depends on how inventory stores recipes.
-- Taking the read grant away keeps it that way: a query from
-- meso_scheduling into these tables now fails instead of quietly coupling
-- the two schemas again. The other roles keep the grant of 004 for now.
REVOKE SELECT ON inventory.recipe, inventory.recipe_line FROM meso_scheduling;
