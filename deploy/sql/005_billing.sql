-- 005_billing.sql -- the billing service: clinic settings (currency, fee
-- policy), price lists, packages, invoices, payments, refunds, the session
-- charges, the append-only ledger, the patients billing knows and the
-- cursor of its event consumer.
--
-- Invariants held by the schema, not only by C:
--   * a session price is 30000..50000 cents (price_in_range);
--   * a package's price per session is within the same range
--     (package_per_session_in_range), and never more sessions used than
--     bought (package_used_within);
--   * money is bigint cents; amounts of invoices, payments and refunds are
--     positive; the ledger's sign follows its kind (ledger_sign);
--   * an appointment is charged at most once (session_charge's key), so a
--     redelivered or re-sent session.completed cannot charge twice;
--   * the ledger, invoices, payments and refunds are append-only: the
--     service role has no UPDATE/DELETE/TRUNCATE on them and a trigger
--     refuses UPDATE and DELETE from anyone. Balances are sums of the
--     ledger (charge +, payment -, refund +), never stored.
-- clinic_id leads every key of per-clinic data. Patients are chain-wide ids
-- owned by screening; billing.patient records the ones billing has seen.
--
-- Tables are owned by the migrating user; meso_billing gets DML through the
-- default privileges of 001, taken back below where rows are immutable.

-- ------------------------------------------------------------ clinics
-- A clinic without a row: currency USD, no fees.
CREATE TABLE billing.clinic_settings (
    clinic_id             text PRIMARY KEY
                          CONSTRAINT clinic_settings_id_present CHECK (length(clinic_id) BETWEEN 1 AND 64),
    currency              text NOT NULL DEFAULT 'USD'
                          CONSTRAINT clinic_currency_format CHECK (currency ~ '^[A-Z]{3}$'),
    no_show_fee_cents     bigint NOT NULL DEFAULT 0
                          CONSTRAINT no_show_fee_range CHECK (no_show_fee_cents BETWEEN 0 AND 50000),
    late_cancel_fee_cents bigint NOT NULL DEFAULT 0
                          CONSTRAINT late_cancel_fee_range CHECK (late_cancel_fee_cents BETWEEN 0 AND 50000),
    updated_at            timestamptz NOT NULL DEFAULT now()
);

-- --------------------------------------------------------- price lists
-- A list is the set of rows of one (clinic, effective_from). The list in
-- effect on a day is the one with the latest effective_from not after it.
CREATE TABLE billing.price (
    clinic_id       text NOT NULL,
    effective_from  date NOT NULL,
    areas           integer NOT NULL CONSTRAINT price_areas_range CHECK (areas BETWEEN 1 AND 12),
    price_cents     bigint NOT NULL
                    CONSTRAINT price_in_range CHECK (price_cents BETWEEN 30000 AND 50000),
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (clinic_id, effective_from, areas)
);

-- ------------------------------------------------------------ patients
-- The patients billing knows: seen in a consumed event or given a billing
-- record. Chain-wide (a patient may visit several clinics).
CREATE TABLE billing.patient (
    patient_id  text PRIMARY KEY
                CONSTRAINT patient_id_present CHECK (length(patient_id) BETWEEN 1 AND 64),
    source      text NOT NULL,
    first_seen  timestamptz NOT NULL DEFAULT now()
);

-- ------------------------------------------------------------ invoices
CREATE TABLE billing.invoice (
    clinic_id    text NOT NULL,
    invoice_id   text NOT NULL,
    patient_id   text NOT NULL REFERENCES billing.patient (patient_id),
    currency     text NOT NULL CONSTRAINT invoice_currency_format CHECK (currency ~ '^[A-Z]{3}$'),
    total_cents  bigint NOT NULL CONSTRAINT invoice_total_positive CHECK (total_cents > 0),
    kind         text NOT NULL CONSTRAINT invoice_kind_known
                 CHECK (kind IN ('session', 'package', 'fee', 'manual')),
    package_id   text,
    issued_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (clinic_id, invoice_id)
);
CREATE INDEX invoice_patient_idx ON billing.invoice (clinic_id, patient_id);

CREATE TABLE billing.invoice_line (
    clinic_id       text NOT NULL,
    invoice_id      text NOT NULL,
    line_no         integer NOT NULL CONSTRAINT invoice_line_no_positive CHECK (line_no >= 1),
    description     text NOT NULL CONSTRAINT invoice_line_description_length CHECK (length(description) BETWEEN 1 AND 200),
    amount_cents    bigint NOT NULL CONSTRAINT invoice_line_amount_positive CHECK (amount_cents > 0),
    appointment_id  text,
    areas           integer NOT NULL DEFAULT 0 CONSTRAINT invoice_line_areas_range CHECK (areas BETWEEN 0 AND 12),
    PRIMARY KEY (clinic_id, invoice_id, line_no),
    FOREIGN KEY (clinic_id, invoice_id) REFERENCES billing.invoice (clinic_id, invoice_id)
);

-- ------------------------------------------------------------ packages
CREATE TABLE billing.package (
    clinic_id       text NOT NULL,
    package_id      text NOT NULL,
    patient_id      text NOT NULL REFERENCES billing.patient (patient_id),
    sessions_total  integer NOT NULL CONSTRAINT package_sessions_range CHECK (sessions_total BETWEEN 1 AND 100),
    sessions_used   integer NOT NULL DEFAULT 0,
    price_cents     bigint NOT NULL,
    currency        text NOT NULL,
    invoice_id      text NOT NULL,
    sold_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (clinic_id, package_id),
    FOREIGN KEY (clinic_id, invoice_id) REFERENCES billing.invoice (clinic_id, invoice_id),
    CONSTRAINT package_used_within CHECK (sessions_used BETWEEN 0 AND sessions_total),
    CONSTRAINT package_per_session_in_range
        CHECK (price_cents BETWEEN 30000::bigint * sessions_total AND 50000::bigint * sessions_total)
);
CREATE INDEX package_patient_idx ON billing.package (clinic_id, patient_id, sold_at);

-- ------------------------------------------------------------ payments
CREATE TABLE billing.payment (
    clinic_id       text NOT NULL,
    payment_id      text NOT NULL,
    patient_id      text NOT NULL REFERENCES billing.patient (patient_id),
    invoice_id      text,
    amount_cents    bigint NOT NULL
                    CONSTRAINT payment_amount_range CHECK (amount_cents BETWEEN 1 AND 100000000),
    currency        text NOT NULL CONSTRAINT payment_currency_format CHECK (currency ~ '^[A-Z]{3}$'),
    method          text NOT NULL CONSTRAINT payment_method_known
                    CHECK (method IN ('card', 'cash', 'bank_transfer')),
    provider        text NOT NULL,
    provider_ref    text NOT NULL DEFAULT '',
    reference       text NOT NULL DEFAULT '',
    -- The request's idempotency key: one payment per key, whatever happens
    -- to billing.idempotency.
    idempotency_key text NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (clinic_id, payment_id),
    CONSTRAINT payment_key_unique UNIQUE (clinic_id, idempotency_key),
    FOREIGN KEY (clinic_id, invoice_id) REFERENCES billing.invoice (clinic_id, invoice_id)
);
CREATE INDEX payment_invoice_idx ON billing.payment (clinic_id, invoice_id);
CREATE INDEX payment_patient_idx ON billing.payment (clinic_id, patient_id);

-- ------------------------------------------------------------- refunds
CREATE TABLE billing.refund (
    clinic_id     text NOT NULL,
    refund_id     text NOT NULL,
    payment_id    text NOT NULL,
    patient_id    text NOT NULL,
    amount_cents  bigint NOT NULL CONSTRAINT refund_amount_positive CHECK (amount_cents > 0),
    currency      text NOT NULL,
    reason        text NOT NULL CONSTRAINT refund_reason_length CHECK (length(reason) BETWEEN 1 AND 500),
    refunded_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (clinic_id, refund_id),
    FOREIGN KEY (clinic_id, payment_id) REFERENCES billing.payment (clinic_id, payment_id)
);
CREATE INDEX refund_payment_idx ON billing.refund (clinic_id, payment_id);

-- ----------------------------------------------------- session charges
-- One row per appointment billing has dealt with: how it was charged.
-- The key makes a second charge of one appointment impossible.
CREATE TABLE billing.session_charge (
    clinic_id       text NOT NULL,
    appointment_id  text NOT NULL CONSTRAINT session_charge_appointment_present CHECK (length(appointment_id) BETWEEN 1 AND 64),
    patient_id      text NOT NULL REFERENCES billing.patient (patient_id),
    kind            text NOT NULL CONSTRAINT session_charge_kind_known
                    CHECK (kind IN ('session', 'no_show', 'late_cancel')),
    -- 'package': drawn from package_id; 'invoiced': on invoice_id;
    -- 'unpriced': no price list in effect, to invoice by hand.
    how             text NOT NULL CONSTRAINT session_charge_how_known
                    CHECK (how IN ('package', 'invoiced', 'unpriced')),
    areas           integer NOT NULL DEFAULT 0,
    session_date    date,
    package_id      text,
    invoice_id      text,
    amount_cents    bigint NOT NULL DEFAULT 0 CONSTRAINT session_charge_amount_nonneg CHECK (amount_cents >= 0),
    event_id        text NOT NULL,
    charged_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (clinic_id, appointment_id),
    FOREIGN KEY (clinic_id, package_id) REFERENCES billing.package (clinic_id, package_id),
    FOREIGN KEY (clinic_id, invoice_id) REFERENCES billing.invoice (clinic_id, invoice_id),
    CONSTRAINT session_charge_how_matches CHECK (
        (how = 'package' AND package_id IS NOT NULL AND invoice_id IS NULL)
        OR (how = 'invoiced' AND invoice_id IS NOT NULL AND package_id IS NULL)
        OR (how = 'unpriced' AND invoice_id IS NULL AND package_id IS NULL))
);
CREATE INDEX session_charge_package_idx ON billing.session_charge (clinic_id, package_id);

-- -------------------------------------------------------------- ledger
-- Every movement of a patient's account, signed as it counts towards the
-- amount due: charge > 0, payment < 0, refund > 0. The amount due of a
-- patient at a clinic is the sum of their entries.
CREATE TABLE billing.ledger (
    clinic_id       text NOT NULL,
    entry_id        bigserial,
    patient_id      text NOT NULL REFERENCES billing.patient (patient_id),
    kind            text NOT NULL CONSTRAINT ledger_kind_known CHECK (kind IN ('charge', 'payment', 'refund')),
    amount_cents    bigint NOT NULL,
    currency        text NOT NULL,
    invoice_id      text,
    payment_id      text,
    refund_id       text,
    appointment_id  text,
    package_id      text,
    description     text NOT NULL DEFAULT '',
    at              timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (clinic_id, entry_id),
    CONSTRAINT ledger_sign CHECK (
        (kind = 'charge' AND amount_cents > 0 AND invoice_id IS NOT NULL)
        OR (kind = 'payment' AND amount_cents < 0 AND payment_id IS NOT NULL)
        OR (kind = 'refund' AND amount_cents > 0 AND refund_id IS NOT NULL)),
    FOREIGN KEY (clinic_id, invoice_id) REFERENCES billing.invoice (clinic_id, invoice_id),
    FOREIGN KEY (clinic_id, payment_id) REFERENCES billing.payment (clinic_id, payment_id),
    FOREIGN KEY (clinic_id, refund_id) REFERENCES billing.refund (clinic_id, refund_id)
);
CREATE INDEX ledger_patient_idx ON billing.ledger (clinic_id, patient_id, entry_id);

-- Append-only: refused for everyone (the owner included) by trigger, and
-- not granted to the service role at all.
CREATE FUNCTION billing.refuse_change () RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'billing.% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'record a correcting entry (a refund, a new invoice) instead';
END
$$;

CREATE TRIGGER ledger_append_only BEFORE UPDATE OR DELETE ON billing.ledger
    FOR EACH ROW EXECUTE FUNCTION billing.refuse_change ();
CREATE TRIGGER ledger_no_truncate BEFORE TRUNCATE ON billing.ledger
    FOR EACH STATEMENT EXECUTE FUNCTION billing.refuse_change ();
CREATE TRIGGER invoice_append_only BEFORE UPDATE OR DELETE ON billing.invoice
    FOR EACH ROW EXECUTE FUNCTION billing.refuse_change ();
CREATE TRIGGER invoice_line_append_only BEFORE UPDATE OR DELETE ON billing.invoice_line
    FOR EACH ROW EXECUTE FUNCTION billing.refuse_change ();
CREATE TRIGGER payment_append_only BEFORE UPDATE OR DELETE ON billing.payment
    FOR EACH ROW EXECUTE FUNCTION billing.refuse_change ();
CREATE TRIGGER refund_append_only BEFORE UPDATE OR DELETE ON billing.refund
    FOR EACH ROW EXECUTE FUNCTION billing.refuse_change ();

REVOKE UPDATE, DELETE, TRUNCATE
    ON billing.ledger, billing.invoice, billing.invoice_line, billing.payment, billing.refund
    FROM meso_billing;

-- ------------------------------------------------------ event consumer
-- The cursor of each stream the daemon consumes (meso_consumer), advanced
-- in the same transaction as the effect of the event.
CREATE TABLE billing.event_cursor (
    stream  text PRIMARY KEY,
    seq     bigint NOT NULL CONSTRAINT event_cursor_seq_nonneg CHECK (seq >= 0)
);
