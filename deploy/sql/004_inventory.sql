-- 004_inventory.sql -- the inventory service: catalogue, recipes, lots,
-- reservations, consumptions, the movement ledger, reorder points and the
-- cursor of its event consumer.
--
-- The invariants that matter most live here, not only in C, so that no bug
-- and no hand-written SQL can break them:
--   * a lot never has less than zero on hand (lot_on_hand_nonneg),
--   * a lot never has more reserved than on hand, nor a negative reserve
--     (lot_reserved_within),
--   * amounts are positive integers of thousandths of the unit,
--   * a reservation line and a consumption line point at a real lot of the
--     same clinic (foreign keys inside the schema).
-- clinic_id leads every key of per-clinic data so the tables can be
-- distributed or split by clinic without a redesign. The catalogue and the
-- recipes are chain-wide reference data: every service role may read them.
--
-- Tables are owned by the migrating user; meso_inventory gets DML through
-- the default privileges of 001.

-- ------------------------------------------------------------ catalogue
CREATE TABLE inventory.ingredient (
    code        text PRIMARY KEY
                CONSTRAINT ingredient_code_format CHECK (code ~ '^[a-z0-9_-]{1,64}$'),
    name        text NOT NULL
                CONSTRAINT ingredient_name_length CHECK (length(name) BETWEEN 1 AND 200),
    unit        text NOT NULL
                CONSTRAINT ingredient_unit_known CHECK (unit IN ('mg', 'ml')),
    form        text NOT NULL DEFAULT '',
    updated_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE inventory.ingredient IS 'chain-wide ingredient catalogue (reference data)';

-- A recipe version is immutable once written: a session records the
-- version it used. A change makes version + 1.
CREATE TABLE inventory.recipe (
    recipe_id   text NOT NULL
                CONSTRAINT recipe_id_format CHECK (recipe_id ~ '^[a-z0-9_-]{1,64}$'),
    version     integer NOT NULL CONSTRAINT recipe_version_positive CHECK (version >= 1),
    name        text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (recipe_id, version)
);

CREATE TABLE inventory.recipe_line (
    recipe_id       text NOT NULL,
    version         integer NOT NULL,
    area            text NOT NULL CONSTRAINT recipe_line_area_format CHECK (area ~ '^[a-z_]{1,64}$'),
    ingredient_code text NOT NULL REFERENCES inventory.ingredient (code),
    amount_milli    bigint NOT NULL CONSTRAINT recipe_line_amount_positive CHECK (amount_milli > 0),
    PRIMARY KEY (recipe_id, version, area, ingredient_code),
    FOREIGN KEY (recipe_id, version) REFERENCES inventory.recipe (recipe_id, version)
);
COMMENT ON TABLE inventory.recipe_line IS 'per treatment area, the amount of each ingredient';

-- ----------------------------------------------------------------- lots
CREATE TABLE inventory.lot (
    clinic_id       text NOT NULL CONSTRAINT lot_clinic_present CHECK (length(clinic_id) BETWEEN 1 AND 64),
    lot_id          text NOT NULL DEFAULT gen_random_uuid()::text,
    ingredient_code text NOT NULL REFERENCES inventory.ingredient (code),
    lot_number      text NOT NULL CONSTRAINT lot_number_length CHECK (length(lot_number) BETWEEN 1 AND 128),
    supplier        text NOT NULL DEFAULT '',
    expiry_date     date NOT NULL,
    on_hand_milli   bigint NOT NULL
                    CONSTRAINT lot_on_hand_nonneg CHECK (on_hand_milli >= 0),
    reserved_milli  bigint NOT NULL DEFAULT 0
                    CONSTRAINT lot_reserved_within CHECK (reserved_milli >= 0 AND reserved_milli <= on_hand_milli),
    received_at     timestamptz NOT NULL DEFAULT now(),
    recalled_at     timestamptz,
    recall_reason   text,
    -- Set when stock.expiring was announced for this lot (once per lot).
    expiring_sent_at timestamptz,
    PRIMARY KEY (clinic_id, lot_id),
    CONSTRAINT lot_number_unique UNIQUE (clinic_id, ingredient_code, lot_number)
);
CREATE INDEX lot_pick_idx ON inventory.lot (clinic_id, ingredient_code, expiry_date);
-- Recalls name a supplier lot number across the chain.
CREATE INDEX lot_number_idx ON inventory.lot (ingredient_code, lot_number);
CREATE INDEX lot_id_idx ON inventory.lot (lot_id);
COMMENT ON TABLE inventory.lot IS 'stock of one ingredient lot in one clinic; on hand >= reserved >= 0';

-- --------------------------------------------------------- reservations
-- One per appointment: Reserve is idempotent by appointment id.
CREATE TABLE inventory.reservation (
    clinic_id       text NOT NULL,
    appointment_id  text NOT NULL CONSTRAINT reservation_appointment_present CHECK (length(appointment_id) BETWEEN 1 AND 64),
    patient_id      text NOT NULL,
    session_date    date NOT NULL,
    recipe_id       text NOT NULL DEFAULT '',
    recipe_version  integer NOT NULL DEFAULT 0,
    areas           text[] NOT NULL DEFAULT '{}',
    status          text NOT NULL
                    CONSTRAINT reservation_status_known CHECK (status IN ('held', 'consumed', 'released')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    closed_at       timestamptz,
    close_reason    text,
    PRIMARY KEY (clinic_id, appointment_id)
);
CREATE INDEX reservation_held_idx ON inventory.reservation (clinic_id, session_date) WHERE status = 'held';

CREATE TABLE inventory.reservation_line (
    clinic_id       text NOT NULL,
    appointment_id  text NOT NULL,
    lot_id          text NOT NULL,
    ingredient_code text NOT NULL,
    amount_milli    bigint NOT NULL CONSTRAINT reservation_line_amount_positive CHECK (amount_milli > 0),
    PRIMARY KEY (clinic_id, appointment_id, lot_id),
    FOREIGN KEY (clinic_id, appointment_id) REFERENCES inventory.reservation (clinic_id, appointment_id),
    FOREIGN KEY (clinic_id, lot_id) REFERENCES inventory.lot (clinic_id, lot_id)
);
CREATE INDEX reservation_line_lot_idx ON inventory.reservation_line (clinic_id, lot_id);

-- What each session actually received, per lot: what a recall follows.
CREATE TABLE inventory.consumption (
    clinic_id       text NOT NULL,
    appointment_id  text NOT NULL,
    lot_id          text NOT NULL,
    ingredient_code text NOT NULL,
    amount_milli    bigint NOT NULL CONSTRAINT consumption_amount_positive CHECK (amount_milli > 0),
    consumed_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (clinic_id, appointment_id, lot_id),
    FOREIGN KEY (clinic_id, appointment_id) REFERENCES inventory.reservation (clinic_id, appointment_id),
    FOREIGN KEY (clinic_id, lot_id) REFERENCES inventory.lot (clinic_id, lot_id)
);
CREATE INDEX consumption_lot_idx ON inventory.consumption (clinic_id, lot_id);

-- ------------------------------------------------------------ ledger
-- Every change of on_hand, signed. For every lot, the sum of its movements
-- equals its on_hand (the tests check it).
CREATE TABLE inventory.movement (
    clinic_id       text NOT NULL,
    movement_id     bigserial,
    lot_id          text NOT NULL,
    kind            text NOT NULL
                    CONSTRAINT movement_kind_known
                    CHECK (kind IN ('receive', 'adjust', 'discard', 'transfer_out', 'transfer_in', 'consume')),
    delta_milli     bigint NOT NULL CONSTRAINT movement_delta_nonzero CHECK (delta_milli <> 0),
    appointment_id  text,
    reason          text NOT NULL DEFAULT '',
    at              timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (clinic_id, movement_id),
    FOREIGN KEY (clinic_id, lot_id) REFERENCES inventory.lot (clinic_id, lot_id)
);
CREATE INDEX movement_lot_idx ON inventory.movement (clinic_id, lot_id);

-- ------------------------------------------------------- reorder points
CREATE TABLE inventory.reorder_point (
    clinic_id           text NOT NULL,
    ingredient_code     text NOT NULL REFERENCES inventory.ingredient (code),
    reorder_point_milli bigint NOT NULL CONSTRAINT reorder_point_nonneg CHECK (reorder_point_milli >= 0),
    expiring_warn_days  integer NOT NULL DEFAULT 30
                        CONSTRAINT reorder_warn_days_range CHECK (expiring_warn_days BETWEEN 1 AND 365),
    -- Set while available is below the point (stock.low is sent when it
    -- becomes set, so once per crossing).
    low_since           timestamptz,
    PRIMARY KEY (clinic_id, ingredient_code)
);

-- ------------------------------------------------------ event consumer
-- The cursor of each stream the daemon consumes (meso_consumer), advanced
-- in the same transaction as the effect of the event.
CREATE TABLE inventory.event_cursor (
    stream  text PRIMARY KEY,
    seq     bigint NOT NULL CONSTRAINT event_cursor_seq_nonneg CHECK (seq >= 0)
);

-- ------------------------------------------------- reference data grants
GRANT USAGE ON SCHEMA inventory TO meso_screening, meso_scheduling, meso_billing, meso_events;
GRANT SELECT ON inventory.ingredient, inventory.recipe, inventory.recipe_line
    TO meso_screening, meso_scheduling, meso_billing, meso_events;
