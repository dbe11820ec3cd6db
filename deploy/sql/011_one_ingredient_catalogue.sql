-- 011_one_ingredient_catalogue.sql -- one ingredient catalogue for the
-- chain, owned by inventory (inventory.ingredient); screening's fixed list
-- is retired.
--
-- Until now screening validated allergy codes and the ingredients of a
-- cocktail against screening.ingredients, a list written in 003 that had
-- to be extended by hand together with inventory's: an ingredient added
-- with inventory.UpsertIngredient (the demo's "artichoke") made every
-- booking of a recipe using it fail. From here on:
--
--   * screening.ingredients is screening's copy of the codes inventory
--     confirmed. The daemon asks inventory.GetIngredients for a code it
--     has not seen and inserts the answer (confirmed_at set). A row with
--     confirmed_at NULL is not consulted. Ingredients are never deleted
--     from inventory's catalogue, so a confirmed code stays valid.
--   * The 15 codes of 003 are no longer seed data: those nothing points at
--     are deleted; those recorded allergies point at (the foreign key of
--     screening_allergies) stay as history, unconfirmed, and count again
--     only once inventory confirms them. Codes both lists share are
--     confirmed here, since inventory already holds them.
--   * Ingredient codes have one syntax across the chain, inventory's
--     ([a-z0-9_-], 1..64 bytes; meso_handler_ingredient_ok in C): the
--     narrower screening check of 003 is replaced.
--   * meso_screening may insert and update the copy (003 made it
--     read-only), never delete from it.

ALTER TABLE screening.ingredients DROP CONSTRAINT ingredients_code_check;
ALTER TABLE screening.ingredients
    ADD CONSTRAINT ingredients_code_format CHECK (code ~ '^[a-z0-9_-]{1,64}$');
ALTER TABLE screening.ingredients ADD COLUMN confirmed_at timestamptz;
COMMENT ON TABLE screening.ingredients IS
    'codes of inventory.ingredient that screening has confirmed (inventory.GetIngredients); '
    'rows with confirmed_at NULL are retired seed data kept for recorded allergies';

DELETE FROM screening.ingredients s
 WHERE NOT EXISTS (SELECT 1 FROM screening.screening_allergies a WHERE a.ingredient_code = s.code)
   AND NOT EXISTS (SELECT 1 FROM inventory.ingredient i WHERE i.code = s.code);

UPDATE screening.ingredients s SET name = i.name, confirmed_at = now ()
  FROM inventory.ingredient i WHERE i.code = s.code;

GRANT INSERT, UPDATE ON screening.ingredients TO meso_screening;
