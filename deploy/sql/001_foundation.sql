-- 001_foundation.sql -- schemas, roles, the outbox and the idempotency tables.
--
-- One database, a schema per service. Each service connects as its own
-- LOGIN role, which may read and write its own schema only, plus insert
-- into events.outbox (a business change and its event are written in the
-- same transaction; the events daemon, role meso_events, reads and deletes
-- the outbox and owns the rest of the events schema).
--
-- How the privileges are arranged: tables are created and owned by the
-- migrating user (the one running `mesoctl migrate`), never by a service
-- role, so a service cannot ALTER or DROP its tables. ALTER DEFAULT
-- PRIVILEGES below (for the migrating user, i.e. the current role) gives
-- each service role DML on every table and sequence that later migrations
-- create in its schema, so later migrations need no GRANTs of their own
-- for the owning service; a table another service must read (reference
-- data) gets an explicit GRANT SELECT in the migration that creates it.
--
-- Roles are cluster-wide while this file runs once per database, and tests
-- migrate many databases of one cluster at the same time: roles are created
-- only when missing, and a concurrent creator winning the race is not an
-- error. The roles get no password here; operators set one
-- (ALTER ROLE ... PASSWORD) where the cluster does not use trust/peer/cert.
--
-- Runs inside one transaction (see common/src/migrate.c).

-- Exclusion constraints against double booking combine equality on ids with
-- range overlap: GiST needs btree_gist for the equality part.
CREATE EXTENSION IF NOT EXISTS btree_gist;

-- ------------------------------------------------------------------ roles
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['meso_screening', 'meso_scheduling', 'meso_inventory',
                             'meso_billing', 'meso_events']
    LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I LOGIN', r);
            EXCEPTION
                -- Another database's migration created it meanwhile.
                WHEN duplicate_object OR unique_violation THEN NULL;
            END;
        END IF;
    END LOOP;
END
$$;

-- ---------------------------------------------------------------- schemas
CREATE SCHEMA screening;
CREATE SCHEMA scheduling;
CREATE SCHEMA inventory;
CREATE SCHEMA billing;
CREATE SCHEMA events;

COMMENT ON SCHEMA screening IS 'screening service: patients, questionnaires, eligibility';
COMMENT ON SCHEMA scheduling IS 'scheduling service: courses, appointments, rooms, practitioners';
COMMENT ON SCHEMA inventory IS 'inventory service: ingredients, lots, reservations, stock moves';
COMMENT ON SCHEMA billing IS 'billing service: prices, invoices, payments';
COMMENT ON SCHEMA events IS 'events daemon: the outbox every service writes, the published log';

-- Each service: USAGE on its own schema, DML on what is created in it.
GRANT USAGE ON SCHEMA screening TO meso_screening;
GRANT USAGE ON SCHEMA scheduling TO meso_scheduling;
GRANT USAGE ON SCHEMA inventory TO meso_inventory;
GRANT USAGE ON SCHEMA billing TO meso_billing;
GRANT USAGE ON SCHEMA events TO meso_events;

ALTER DEFAULT PRIVILEGES IN SCHEMA screening
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO meso_screening;
ALTER DEFAULT PRIVILEGES IN SCHEMA screening
    GRANT USAGE, SELECT ON SEQUENCES TO meso_screening;

ALTER DEFAULT PRIVILEGES IN SCHEMA scheduling
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO meso_scheduling;
ALTER DEFAULT PRIVILEGES IN SCHEMA scheduling
    GRANT USAGE, SELECT ON SEQUENCES TO meso_scheduling;

ALTER DEFAULT PRIVILEGES IN SCHEMA inventory
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO meso_inventory;
ALTER DEFAULT PRIVILEGES IN SCHEMA inventory
    GRANT USAGE, SELECT ON SEQUENCES TO meso_inventory;

ALTER DEFAULT PRIVILEGES IN SCHEMA billing
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO meso_billing;
ALTER DEFAULT PRIVILEGES IN SCHEMA billing
    GRANT USAGE, SELECT ON SEQUENCES TO meso_billing;

ALTER DEFAULT PRIVILEGES IN SCHEMA events
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO meso_events;
ALTER DEFAULT PRIVILEGES IN SCHEMA events
    GRANT USAGE, SELECT ON SEQUENCES TO meso_events;

-- ----------------------------------------------------------------- outbox
-- Written by every service in the transaction of the change it announces;
-- drained by the events daemon into the numbered, published log. xid is
-- the writing transaction's id: the daemon only takes rows whose
-- transactions are all finished (xid < pg_snapshot_xmin(...)), because a
-- smaller id can commit after a larger one and a serial id alone would let
-- it be skipped.
CREATE TABLE events.outbox (
    id          bigserial PRIMARY KEY,
    xid         xid8 NOT NULL DEFAULT pg_current_xact_id(),
    stream      text NOT NULL
                CONSTRAINT outbox_stream_known
                CHECK (stream IN ('session', 'screening', 'stock', 'billing')),
    -- The topic, "stream.kind", e.g. 'session.booked'.
    type        text NOT NULL
                CONSTRAINT outbox_type_in_stream
                CHECK (starts_with(type, stream || '.') AND length(type) > length(stream) + 1),
    clinic_id   text,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    -- The packed typed payload (see proto/meso/v1/events.proto).
    payload     bytea NOT NULL
);
CREATE INDEX outbox_xid_idx ON events.outbox (xid);

COMMENT ON TABLE events.outbox IS
    'events written by services with their change; drained by the events daemon';

-- Every service may announce events: schema USAGE, INSERT, and nextval on
-- the id sequence (the column default). meso_events got full DML through
-- the default privileges above.
GRANT USAGE ON SCHEMA events
    TO meso_screening, meso_scheduling, meso_inventory, meso_billing;
GRANT INSERT ON events.outbox
    TO meso_screening, meso_scheduling, meso_inventory, meso_billing;
GRANT USAGE ON SEQUENCE events.outbox_id_seq
    TO meso_screening, meso_scheduling, meso_inventory, meso_billing;

-- ------------------------------------------------------ idempotency tables
-- One per service, in its own schema (see common/include/meso/idem.h): the
-- reply of each mutating request, stored with its effect. request_hash is
-- sha256(method || '\0' || body); reply is the packed reply envelope. The
-- service role reads and writes it through the default privileges above.
-- created_at allows purging keys older than any client's retry window.
CREATE TABLE screening.idempotency (
    key          text PRIMARY KEY,
    method       text NOT NULL,
    request_hash bytea NOT NULL,
    reply        bytea,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idempotency_created_at_idx ON screening.idempotency (created_at);

CREATE TABLE scheduling.idempotency (
    key          text PRIMARY KEY,
    method       text NOT NULL,
    request_hash bytea NOT NULL,
    reply        bytea,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idempotency_created_at_idx ON scheduling.idempotency (created_at);

CREATE TABLE inventory.idempotency (
    key          text PRIMARY KEY,
    method       text NOT NULL,
    request_hash bytea NOT NULL,
    reply        bytea,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idempotency_created_at_idx ON inventory.idempotency (created_at);

CREATE TABLE billing.idempotency (
    key          text PRIMARY KEY,
    method       text NOT NULL,
    request_hash bytea NOT NULL,
    reply        bytea,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idempotency_created_at_idx ON billing.idempotency (created_at);
