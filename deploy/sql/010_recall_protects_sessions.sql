-- 010_recall_protects_sessions.sql -- what a recall leaves a booked session
-- short of.
--
-- inventory.Recall takes a recalled lot out of every held reservation and
-- re-reserves each session from the clinic's other usable lots. A session
-- that cannot be covered keeps the rest of its hold and gets one row here
-- per (ingredient, recalled lot): what it is short of. "At risk" is
-- derived, not stored twice: a held reservation with a gap row. The rows
-- stay when the reservation is released or consumed (they are the record
-- of what happened); readers join the reservation's status.
--
-- The table is inventory's own, written by meso_inventory only (the
-- default privileges of 001); no other service reads it: they ask
-- inventory.ListAtRisk and inventory.CheckHold.

CREATE TABLE inventory.reservation_gap (
    clinic_id       text NOT NULL,
    appointment_id  text NOT NULL,
    ingredient_code text NOT NULL REFERENCES inventory.ingredient (code),
    lot_id          text NOT NULL,
    missing_milli   bigint NOT NULL CONSTRAINT reservation_gap_missing_positive CHECK (missing_milli > 0),
    -- What the clinic's other lots had usable on the session date when
    -- the recall ran (less than missing, or the session would be covered).
    usable_milli    bigint NOT NULL DEFAULT 0 CONSTRAINT reservation_gap_usable_nonneg CHECK (usable_milli >= 0),
    reason          text NOT NULL DEFAULT '',
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (clinic_id, appointment_id, ingredient_code, lot_id),
    FOREIGN KEY (clinic_id, appointment_id) REFERENCES inventory.reservation (clinic_id, appointment_id),
    FOREIGN KEY (clinic_id, lot_id) REFERENCES inventory.lot (clinic_id, lot_id)
);
COMMENT ON TABLE inventory.reservation_gap IS
    'what a recall left a held reservation short of; a held reservation with a row is at risk';
