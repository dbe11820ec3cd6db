-- 020_inventory_lot_cost.sql -- the cost of a lot, for stock valuation
-- (inventory.Valuation, services/inventory/valuation.c).
--
--   - lot.unit_cost_cents: what one unit of the ingredient (one mg or one
--     ml, the ingredient's unit) of this lot cost at receipt, in cents of
--     the clinic's currency. NULL means "not known": such a lot is
--     reported as uncosted (its quantity, no value), never as worth 0.
--     A transfer carries the cost to the destination's lot.
--   - an index on the movement ledger by (clinic_id, at): the valuation
--     sums a clinic's movements over a period and up to its end.
--
-- Columns of a table 004 created: the inventory role already has DML.

ALTER TABLE inventory.lot
    ADD COLUMN unit_cost_cents bigint
        CONSTRAINT lot_unit_cost_range CHECK (unit_cost_cents BETWEEN 0 AND 100000000);
COMMENT ON COLUMN inventory.lot.unit_cost_cents IS
    'cents of the clinic''s currency per unit (mg or ml) at receipt; NULL: uncosted';

CREATE INDEX movement_clinic_at_idx ON inventory.movement (clinic_id, at) INCLUDE (lot_id, kind, delta_milli);
