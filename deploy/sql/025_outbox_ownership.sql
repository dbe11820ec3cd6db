-- 025_outbox_ownership.sql -- each service appends only its own streams
-- to events.outbox, and only the events role reads events.log.
--
-- Until now every service role could INSERT any row into events.outbox: a
-- compromised inventory could write a `session.completed` and billing
-- would invoice an appointment that never existed. Now a trigger checks
-- every inserted row against events.stream_owner:
--
-- * who: the row's stream must be owned by session_user AND by
--   current_user. session_user is the role that logged in, which SET ROLE
--   cannot change (and SET SESSION AUTHORIZATION needs a superuser);
--   current_user is the role whose rights the statement runs with, which a
--   SECURITY DEFINER function changes to its owner. Checking both means a
--   service that found a SECURITY DEFINER function of another role that
--   writes the outbox still writes as itself (session_user), and a superuser
--   session that SET ROLE to a service is that service. A superuser, or a
--   member of the table's owner (the role that runs the migrations), is
--   not checked: it can drop the trigger anyway, and the tests and tools
--   that stand in for a service write with it.
-- * what: the payload is the packed meso.v1.Event that subscribers decode
--   and switch on (not the row's columns), so its top-level fields are read
--   here (events.event_envelope): its `type` (2) must be the row's type,
--   its `stream` (5), when set, the row's stream, and every payload member
--   (field numbers 20 and up, the oneof of events.proto) must lie in the
--   stream's block (session 20-39, screening 40-59, stock 60-79, billing
--   80-99). Otherwise inventory could write a row of its own stock stream
--   whose payload is a session_completed. The payload's size is capped as
--   meso_outbox_append caps it (65536 bytes), so a row written by hand
--   cannot stall a stream with an event no Replay reply can carry.
--
-- The trigger function is deliberately not SECURITY DEFINER: inside one,
-- current_user would be its owner. It reads events.stream_owner with the
-- writer's own rights (SELECT granted below; the table is no secret).
-- Both functions run with the writer's rights and its session, so they
-- fix their search_path to pg_catalog then pg_temp: a writer that made a
-- temporary table called pg_class and put pg_temp first (the one schema
-- a service role may create in) must not be able to answer the trigger's
-- questions. Relations are schema-qualified as well. Cost, measured on a
-- loaded 2-core machine: 80-140 us per inserted event with the trigger,
-- 8-18 us without (50,000 rows of 135 bytes in one INSERT); most of it
-- is the payload scan in plpgsql.
--
-- What the database cannot guarantee: the `actor` inside the payload (who
-- made the change). The database knows the service role, not the CURVE
-- principal the daemon authenticated; meso_outbox_append fills the actor
-- from the authenticated call (meso_call_principal), and a compromised
-- service can still write any actor into events of its own streams. The
-- stream of a logged event is therefore proof of the service that wrote
-- it, its actor only that service's word.
--
-- Reading the log: events.log and events.stream_head were readable by
-- every service role (002). No service reads them through SQL: the
-- consumers (meso_consumer, common/src/consumer.c) and every subscriber
-- ask meso-events' Replay and Head over the bus, where the principal's
-- streams, clinics and health access are applied. So SELECT is revoked
-- from the four service roles; meso_events keeps its grants.

CREATE TABLE events.stream_owner (
    stream      text PRIMARY KEY CHECK (stream IN ('session', 'screening', 'stock', 'billing')),
    role        name NOT NULL,
    -- The block of payload field numbers of the stream's event kinds in
    -- meso.v1.Event's oneof.
    first_field integer NOT NULL,
    last_field  integer NOT NULL,
    CHECK (20 <= first_field AND first_field <= last_field)
);
INSERT INTO events.stream_owner VALUES
    ('session', 'meso_scheduling', 20, 39),
    ('screening', 'meso_screening', 40, 59),
    ('stock', 'meso_inventory', 60, 79),
    ('billing', 'meso_billing', 80, 99);
COMMENT ON TABLE events.stream_owner IS
    'the one service role that may append each stream to events.outbox, and its payload field block';

-- The top-level fields of a packed meso.v1.Event that the owner check
-- needs: the last `type` (2) and `stream` (5) (protobuf: the last one
-- wins), the numbers of the length-delimited fields from 20 up (payload
-- members), and whether the bytes parse as protobuf fields at all.
CREATE FUNCTION events.event_envelope (p bytea, OUT type bytea, OUT stream bytea,
                                       OUT payload_fields integer[], OUT well_formed boolean)
LANGUAGE plpgsql IMMUTABLE STRICT SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    n      integer := length (p);
    pos    integer := 0;
    b      integer;
    shift  integer;
    tag    bigint;
    len    bigint;
    field  bigint;
BEGIN
    payload_fields := '{}';
    well_formed := false;
    WHILE pos < n LOOP
        -- The tag: a varint of at most 5 bytes (field numbers < 2^29).
        tag := 0; shift := 0;
        LOOP
            IF pos >= n OR shift > 28 THEN RETURN; END IF;
            b := get_byte (p, pos); pos := pos + 1;
            tag := tag | ((b & 127)::bigint << shift);
            EXIT WHEN b < 128;
            shift := shift + 7;
        END LOOP;
        field := tag >> 3;
        IF field = 0 THEN RETURN; END IF;
        CASE tag & 7
        WHEN 0 THEN             -- varint: at most 10 bytes
            shift := 0;
            LOOP
                IF pos >= n OR shift > 63 THEN RETURN; END IF;
                b := get_byte (p, pos); pos := pos + 1;
                EXIT WHEN b < 128;
                shift := shift + 7;
            END LOOP;
        WHEN 1 THEN pos := pos + 8;
        WHEN 5 THEN pos := pos + 4;
        WHEN 2 THEN             -- length-delimited: a length below 2^28
            len := 0; shift := 0;
            LOOP
                IF pos >= n OR shift > 21 THEN RETURN; END IF;
                b := get_byte (p, pos); pos := pos + 1;
                len := len | ((b & 127)::bigint << shift);
                EXIT WHEN b < 128;
                shift := shift + 7;
            END LOOP;
            IF pos + len > n THEN RETURN; END IF;
            IF field = 2 THEN
                type := substring (p FROM pos + 1 FOR len::integer);
            ELSIF field = 5 THEN
                stream := substring (p FROM pos + 1 FOR len::integer);
            ELSIF field >= 20 THEN
                payload_fields := payload_fields || field::integer;
            END IF;
            pos := pos + len::integer;
        ELSE
            RETURN;             -- groups (3, 4) and 6, 7 are not in Event
        END CASE;
        IF pos > n THEN RETURN; END IF;
    END LOOP;
    well_formed := true;
END
$$;

CREATE FUNCTION events.outbox_check_owner () RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    owner    events.stream_owner%ROWTYPE;
    tbl_owner oid;
    who      name;
    env      record;
    f        integer;
BEGIN
    SELECT * INTO owner FROM events.stream_owner WHERE stream = NEW.stream;
    SELECT relowner INTO tbl_owner FROM pg_catalog.pg_class WHERE oid = 'events.outbox'::regclass;
    FOREACH who IN ARRAY ARRAY[session_user, current_user]::name[] LOOP
        CONTINUE WHEN pg_has_role (who, tbl_owner, 'MEMBER');
        IF owner.role IS NULL OR who <> owner.role THEN
            RAISE EXCEPTION 'role % may not append to stream %', who, NEW.stream
                USING ERRCODE = 'insufficient_privilege',
                      DETAIL = format ('events.outbox row of type %s; stream %s belongs to %s',
                                       NEW.type, NEW.stream, coalesce (owner.role, 'nobody')),
                      HINT = 'a service appends only its own streams (events.stream_owner)';
        END IF;
    END LOOP;
    -- A type outside its stream is the table's CHECK to refuse (23514).
    IF NOT starts_with (NEW.type, NEW.stream || '.') THEN
        RETURN NEW;
    END IF;
    IF length (NEW.payload) > 65536 THEN
        RAISE EXCEPTION 'event % of % bytes exceeds the 65536-byte limit', NEW.type, length (NEW.payload)
            USING ERRCODE = 'program_limit_exceeded';
    END IF;
    env := events.event_envelope (NEW.payload);
    IF NOT env.well_formed OR env.type IS DISTINCT FROM convert_to (NEW.type, 'UTF8')
       OR (env.stream IS NOT NULL AND env.stream <> convert_to (NEW.stream, 'UTF8'))
       OR cardinality (env.payload_fields) = 0 THEN
        RAISE EXCEPTION 'event payload does not match its row (type %)', NEW.type
            USING ERRCODE = 'invalid_binary_representation',
                  DETAIL = 'the packed meso.v1.Event must carry the row''s type and stream and one payload';
    END IF;
    FOREACH f IN ARRAY env.payload_fields LOOP
        IF f < owner.first_field OR f > owner.last_field THEN
            RAISE EXCEPTION 'event payload field % is not of stream %', f, NEW.stream
                USING ERRCODE = 'insufficient_privilege',
                      DETAIL = format ('stream %s carries payload fields %s to %s',
                                       NEW.stream, owner.first_field, owner.last_field);
        END IF;
    END LOOP;
    RETURN NEW;
END
$$;

CREATE TRIGGER outbox_owner BEFORE INSERT ON events.outbox
    FOR EACH ROW EXECUTE FUNCTION events.outbox_check_owner ();

-- Services keep INSERT only (the trigger fires on every INSERT, COPY
-- included). meso_events had every DML on the events schema's tables by
-- the default privileges of 001; it only reads and deletes outbox rows,
-- so it loses INSERT and UPDATE there (it could otherwise move a row to
-- another stream before relaying it), and it may only read the owners.
REVOKE INSERT, UPDATE ON events.outbox FROM meso_events;
REVOKE INSERT, UPDATE, DELETE ON events.stream_owner FROM meso_events;
GRANT SELECT ON events.stream_owner
    TO meso_screening, meso_scheduling, meso_inventory, meso_billing, meso_events;

-- The log and the heads: meso-events only (Replay and Head over the bus).
REVOKE ALL ON events.log, events.stream_head
    FROM meso_screening, meso_scheduling, meso_inventory, meso_billing;
