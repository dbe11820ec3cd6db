-- essential_schema.sql -- the tables of the essential work of one booking
-- (essential.pgbench), in a schema of their own: meso's tables are not
-- touched. bench_scheduling loads it with psql (-v clients=N) in the bench
-- database and runs essential.pgbench beside the daemons and booking.pgbench.
--
-- Only what a booking must do, with the same kinds of constraint as
-- deploy/sql: the latest screening verdict of the patient (eligible and
-- current), an appointment that no other active appointment of the
-- practitioner or of the room overlaps (two exclusion constraints on a
-- tstzrange, btree_gist, as scheduling.appointment), stock lots picked
-- first-expiry-first-out and held (reserved never above on hand, as
-- inventory.lot), and the event in an outbox, in one transaction.
--
-- Client c (pgbench's client_id, 0..clients-1) has its own clinic ec<c>,
-- practitioner ep<c>, room er<c>, patient epat<c> and lots, so clients
-- do not conflict. Each ingredient has, in every clinic, a recalled lot
-- expiring first, then a lot with too little free stock, then the lot the
-- pick must find, then a later one: the FEFO pick skips two lots.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS btree_gist;
DROP SCHEMA IF EXISTS essential CASCADE;
CREATE SCHEMA essential;
CREATE SEQUENCE essential.seq;

CREATE TABLE essential.screening (
    patient_id  text NOT NULL,
    screened_at timestamptz NOT NULL,
    eligible    boolean NOT NULL,
    valid_until date NOT NULL,
    PRIMARY KEY (patient_id, screened_at)
);

CREATE TABLE essential.appointment (
    clinic_id       text NOT NULL,
    appointment_id  text NOT NULL,
    patient_id      text NOT NULL,
    practitioner_id text NOT NULL,
    room_id         text NOT NULL,
    during          tstzrange NOT NULL,
    status          text NOT NULL,
    PRIMARY KEY (clinic_id, appointment_id),
    CONSTRAINT appointment_practitioner_free EXCLUDE USING gist
        (during WITH &&, practitioner_id WITH =)
        WHERE (status IN ('pending', 'booked', 'started', 'completed')),
    CONSTRAINT appointment_room_free EXCLUDE USING gist
        (during WITH &&, clinic_id WITH =, room_id WITH =)
        WHERE (status IN ('pending', 'booked', 'started', 'completed'))
);

CREATE TABLE essential.lot (
    clinic_id       text NOT NULL,
    lot_id          text NOT NULL,
    ingredient_code text NOT NULL,
    expiry_date     date NOT NULL,
    on_hand_milli   bigint NOT NULL CHECK (on_hand_milli >= 0),
    reserved_milli  bigint NOT NULL DEFAULT 0
                    CHECK (reserved_milli >= 0 AND reserved_milli <= on_hand_milli),
    recalled_at     timestamptz,
    PRIMARY KEY (clinic_id, lot_id)
);
CREATE INDEX lot_pick_idx ON essential.lot (clinic_id, ingredient_code, expiry_date);

-- lot_id NOT NULL: a pick that finds no lot fails the booking.
CREATE TABLE essential.hold (
    clinic_id       text NOT NULL,
    appointment_id  text NOT NULL,
    lot_id          text NOT NULL,
    ingredient_code text NOT NULL,
    amount_milli    bigint NOT NULL CHECK (amount_milli > 0),
    PRIMARY KEY (clinic_id, appointment_id, lot_id),
    FOREIGN KEY (clinic_id, appointment_id) REFERENCES essential.appointment (clinic_id, appointment_id),
    FOREIGN KEY (clinic_id, lot_id) REFERENCES essential.lot (clinic_id, lot_id)
);

CREATE TABLE essential.outbox (
    id          bigserial PRIMARY KEY,
    type        text NOT NULL,
    clinic_id   text NOT NULL,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    payload     bytea NOT NULL
);

-- Each patient has an older ineligible screening and a current eligible one.
INSERT INTO essential.screening
SELECT 'epat' || c, now() - interval '400 days', false, current_date - 35 FROM generate_series(0, :clients - 1) c
UNION ALL
SELECT 'epat' || c, now() - interval '1 day', true, current_date + 364 FROM generate_series(0, :clients - 1) c;

INSERT INTO essential.lot (clinic_id, lot_id, ingredient_code, expiry_date, on_hand_milli, reserved_milli, recalled_at)
SELECT 'ec' || c, ing || '-' || k, ing, date '2090-01-01' + 30 * k,
       CASE k WHEN 1 THEN 500 ELSE 1000000000000 END, 0, CASE k WHEN 0 THEN now() END
FROM generate_series(0, :clients - 1) c, unnest('{caffeine,l_carnitine}'::text[]) ing, generate_series(0, 3) k;
ANALYZE essential.screening;
ANALYZE essential.lot;
