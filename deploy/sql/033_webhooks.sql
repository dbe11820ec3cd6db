-- 033_webhooks.sql -- meso-webhooks: subscriptions, their cursors and the
-- record of every delivery attempt.
--
-- The daemon connects as meso_webhooks, which may write its own schema
-- only. It reads events through events.Replay over the bus (its principal,
-- "webhooks", is a service principal of every clinic with health access),
-- never events.log: it gets no privilege on the events schema. It reads
-- access.principal, as every daemon does, for its ZAP handler.
--
-- A subscription's signing secret is stored sealed (crypto_secretbox under
-- <MESO_KEYS>/webhooks.seal, which the database never sees): secret_sealed
-- is nonce || ciphertext.
--
-- Roles are cluster-wide and tests migrate many databases of one cluster at
-- once (see 001): the role and its settings are made only when missing.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'meso_webhooks') THEN
        BEGIN
            CREATE ROLE meso_webhooks LOGIN;
        EXCEPTION
            WHEN duplicate_object OR unique_violation THEN NULL;
        END;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_db_role_setting s JOIN pg_roles o ON o.oid = s.setrole
                   WHERE o.rolname = 'meso_webhooks' AND s.setdatabase = 0
                     AND 'idle_in_transaction_session_timeout=30s' = ANY (s.setconfig)) THEN
        BEGIN
            ALTER ROLE meso_webhooks SET idle_in_transaction_session_timeout = '30s';
        EXCEPTION
            WHEN internal_error OR unique_violation THEN NULL;  -- "tuple concurrently updated"
        END;
    END IF;
END
$$;

CREATE SCHEMA webhooks;
COMMENT ON SCHEMA webhooks IS 'webhooks daemon: subscriptions, cursors, delivery attempts';
GRANT USAGE ON SCHEMA webhooks TO meso_webhooks;
ALTER DEFAULT PRIVILEGES IN SCHEMA webhooks
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO meso_webhooks;
ALTER DEFAULT PRIVILEGES IN SCHEMA webhooks
    GRANT USAGE, SELECT ON SEQUENCES TO meso_webhooks;

GRANT USAGE ON SCHEMA access TO meso_webhooks;
GRANT SELECT ON access.principal TO meso_webhooks;

-- The idempotency store (common/include/meso/idem.h), as every service's.
CREATE TABLE webhooks.idempotency (
    key          text PRIMARY KEY,
    method       text NOT NULL,
    request_hash bytea NOT NULL,
    reply        bytea,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idempotency_created_at_idx ON webhooks.idempotency (created_at);

-- clinic_id '' is every clinic (and the chain-wide events). version moves
-- with every change an operator makes, so the delivering instance sees
-- that its copy is stale (a replay may have rewound a cursor).
CREATE TABLE webhooks.subscription (
    subscription_id uuid PRIMARY KEY,
    clinic_id       text NOT NULL CONSTRAINT subscription_clinic_length CHECK (length(clinic_id) <= 64),
    url             text NOT NULL
                    CONSTRAINT subscription_url_scheme CHECK (url ~ '^https?://[^[:space:]]+$' AND length(url) <= 2048),
    streams         text[] NOT NULL
                    CONSTRAINT subscription_streams_known
                    CHECK (cardinality(streams) BETWEEN 1 AND 4
                           AND streams <@ ARRAY['session', 'screening', 'stock', 'billing']),
    event_types     text[] NOT NULL DEFAULT '{}',
    include_health  boolean NOT NULL DEFAULT false,
    insecure_tls    boolean NOT NULL DEFAULT false,
    state           text NOT NULL DEFAULT 'active'
                    CONSTRAINT subscription_state_known CHECK (state IN ('active', 'paused', 'parked')),
    description     text NOT NULL DEFAULT '' CONSTRAINT subscription_description_length CHECK (length(description) <= 200),
    secret_sealed   bytea NOT NULL,
    failures        integer NOT NULL DEFAULT 0 CONSTRAINT subscription_failures_range CHECK (failures >= 0),
    parked_reason   text NOT NULL DEFAULT '',
    version         bigint NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL DEFAULT now(),
    created_by      text NOT NULL DEFAULT ''
);
CREATE INDEX subscription_clinic_idx ON webhooks.subscription (clinic_id, created_at);

-- Each subscription's position in each stream it follows: the last stream
-- sequence delivered (2xx) or passed over (not its clinic or type).
CREATE TABLE webhooks.cursor (
    subscription_id uuid NOT NULL REFERENCES webhooks.subscription ON DELETE CASCADE,
    stream          text NOT NULL,
    seq             bigint NOT NULL CONSTRAINT cursor_seq_range CHECK (seq >= 0),
    PRIMARY KEY (subscription_id, stream)
);

-- Every attempt, delivered or not.
CREATE TABLE webhooks.delivery (
    delivery_id     bigserial PRIMARY KEY,
    subscription_id uuid NOT NULL REFERENCES webhooks.subscription ON DELETE CASCADE,
    event_id        text NOT NULL,
    event_type      text NOT NULL,
    stream          text NOT NULL,
    stream_seq      bigint NOT NULL,
    attempt         integer NOT NULL CONSTRAINT delivery_attempt_positive CHECK (attempt >= 1),
    outcome         text NOT NULL CONSTRAINT delivery_outcome_known CHECK (outcome IN ('delivered', 'failed', 'parked')),
    http_status     integer NOT NULL DEFAULT 0,
    error           text NOT NULL DEFAULT '',
    duration_ms     integer NOT NULL DEFAULT 0,
    at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX delivery_subscription_idx ON webhooks.delivery (subscription_id, delivery_id);
