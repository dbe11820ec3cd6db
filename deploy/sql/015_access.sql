-- 015_access.sql -- who may call meso: the principals behind the CURVE keys.
--
-- A principal is a CURVE public key (Z85, 40 characters) with a name, a
-- kind, the roles it holds, the clinics it may act in, the event streams
-- it may read and whether it may see health data. Every daemon reads this
-- table (and only reads it): its ZAP handler refuses the handshake of a key
-- that is not here or is revoked, and its bus server checks the roles and
-- the clinic of every request. A change NOTIFYs channel meso_access so the
-- daemons reload at once: a revocation takes effect within seconds,
-- without a restart. Rows are managed by the migration role (mesoctl
-- access), never by a daemon; a revoked principal is kept (revoked_at), so
-- the names in events and logs stay resolvable.
CREATE SCHEMA access;
COMMENT ON SCHEMA access IS 'principals: CURVE keys, roles, clinic scopes (read by every daemon)';

CREATE TABLE access.principal (
    public_key  text PRIMARY KEY
                CHECK (public_key ~ '^[0-9A-Za-z.:+=^!/*?&<>()\[\]{}@%$#-]{40}$'),
    name        text NOT NULL UNIQUE
                CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$'),
    kind        text NOT NULL
                CHECK (kind IN ('person', 'integration', 'service', 'operator')),
    roles       text[] NOT NULL DEFAULT '{}'
                CHECK (roles <@ ARRAY['front_desk', 'clinician', 'stock_keeper', 'billing_clerk',
                                      'clinic_manager', 'integration', 'service', 'operator']),
    -- NULL: every clinic of the chain; otherwise the clinic ids it may act in.
    clinics     text[] CHECK (clinics IS NULL OR cardinality (clinics) BETWEEN 1 AND 1000),
    -- NULL: every event stream; otherwise the streams it may read.
    streams     text[] CHECK (streams IS NULL OR streams <@ ARRAY['session', 'screening', 'stock', 'billing']),
    health      boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz,
    note        text NOT NULL DEFAULT '' CHECK (length (note) <= 500)
);

CREATE FUNCTION access.notify_change () RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify ('meso_access', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER principal_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON access.principal FOR EACH STATEMENT EXECUTE FUNCTION access.notify_change ();

GRANT USAGE ON SCHEMA access TO meso_screening, meso_scheduling, meso_inventory,
    meso_billing, meso_events;
GRANT SELECT ON access.principal TO meso_screening, meso_scheduling, meso_inventory,
    meso_billing, meso_events;
