-- 016_billing_taxes_packages.sql -- taxes, credit notes, complete packages
-- (expiry, refund of unused sessions, use across the chain) and what the
-- revenue and liability reports read (services/billing).
--
-- Taxes: amounts stay what the patient pays (tax included, the $300..$500
-- range applies to them); each invoice line records the tax it includes,
-- its category and rate, and each invoice the sum. Rates are per clinic
-- and category from a date on, like price lists. Rows issued before this
-- migration carry no tax (tax_cents 0), which is what they charged.
--
-- Credit notes take an invoice back (all of it when it is cancelled, the
-- unused value of a package when its sessions are refunded). A credit is a
-- fourth kind of ledger entry, negative like a payment, so the amount due
-- stays the sum of the ledger.
--
-- Packages gain an expiry date, a state (active, expired, refunded), the
-- tax included in their price and the selling clinic's time zone (to know
-- when their last local day has passed). A session drawn from a package
-- is recorded in package_use, at the clinic that performed it, which may
-- be another clinic of the chain than the seller's (package_acceptance
-- says which sellers a clinic accepts); session_charge therefore points at
-- its package through (package_clinic_id, package_id).
--
-- credit_note and package_use are append-only, like the ledger.

-- ------------------------------------------------------------- taxes
CREATE TABLE billing.tax_rate (
    clinic_id       text NOT NULL,
    effective_from  date NOT NULL,
    category        text NOT NULL CONSTRAINT tax_category_format CHECK (category ~ '^[a-z][a-z0-9_]{0,31}$'),
    rate_ppm        integer NOT NULL CONSTRAINT tax_rate_range CHECK (rate_ppm BETWEEN 0 AND 1000000),
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (clinic_id, effective_from, category)
);
-- No tax is a clinic without rows, or a set whose "standard" rate is 0.

ALTER TABLE billing.invoice
    ADD COLUMN tax_cents bigint NOT NULL DEFAULT 0,
    ADD CONSTRAINT invoice_tax_within CHECK (tax_cents BETWEEN 0 AND total_cents);
ALTER TABLE billing.invoice_line
    ADD COLUMN tax_cents bigint NOT NULL DEFAULT 0,
    ADD COLUMN tax_category text NOT NULL DEFAULT 'standard',
    ADD COLUMN tax_rate_ppm integer NOT NULL DEFAULT 0,
    ADD CONSTRAINT invoice_line_tax_within CHECK (tax_cents BETWEEN 0 AND amount_cents),
    ADD CONSTRAINT invoice_line_rate_range CHECK (tax_rate_ppm BETWEEN 0 AND 1000000);

-- ------------------------------------------------------- credit notes
CREATE TABLE billing.credit_note (
    clinic_id       text NOT NULL,
    credit_note_id  text NOT NULL,
    invoice_id      text NOT NULL,
    patient_id      text NOT NULL REFERENCES billing.patient (patient_id),
    currency        text NOT NULL,
    gross_cents     bigint NOT NULL CONSTRAINT credit_note_positive CHECK (gross_cents > 0),
    tax_cents       bigint NOT NULL CONSTRAINT credit_note_tax_within CHECK (tax_cents BETWEEN 0 AND gross_cents),
    kind            text NOT NULL CONSTRAINT credit_note_kind_known CHECK (kind IN ('cancellation', 'package_refund')),
    reason          text NOT NULL CONSTRAINT credit_note_reason_length CHECK (length(reason) BETWEEN 1 AND 500),
    package_id      text,
    issued_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (clinic_id, credit_note_id),
    FOREIGN KEY (clinic_id, invoice_id) REFERENCES billing.invoice (clinic_id, invoice_id)
);
CREATE INDEX credit_note_invoice_idx ON billing.credit_note (clinic_id, invoice_id);

ALTER TABLE billing.ledger
    ADD COLUMN tax_cents bigint NOT NULL DEFAULT 0,
    ADD COLUMN credit_note_id text,
    ADD FOREIGN KEY (clinic_id, credit_note_id) REFERENCES billing.credit_note (clinic_id, credit_note_id),
    DROP CONSTRAINT ledger_kind_known,
    DROP CONSTRAINT ledger_sign,
    ADD CONSTRAINT ledger_kind_known CHECK (kind IN ('charge', 'payment', 'refund', 'credit')),
    ADD CONSTRAINT ledger_sign CHECK (
        (kind = 'charge' AND amount_cents > 0 AND invoice_id IS NOT NULL)
        OR (kind = 'payment' AND amount_cents < 0 AND payment_id IS NOT NULL)
        OR (kind = 'refund' AND amount_cents > 0 AND refund_id IS NOT NULL)
        OR (kind = 'credit' AND amount_cents < 0 AND credit_note_id IS NOT NULL));

-- ----------------------------------------------------------- packages
ALTER TABLE billing.clinic_settings
    ADD COLUMN package_validity_days integer NOT NULL DEFAULT 0
        CONSTRAINT package_validity_range CHECK (package_validity_days BETWEEN 0 AND 3660);

-- Clinic clinic_id accepts the packages sold by accepts ('*': every clinic).
CREATE TABLE billing.package_acceptance (
    clinic_id   text NOT NULL,
    accepts     text NOT NULL CONSTRAINT package_acceptance_id CHECK (length(accepts) BETWEEN 1 AND 64),
    PRIMARY KEY (clinic_id, accepts)
);

ALTER TABLE billing.package
    ADD COLUMN expires_on date,
    ADD COLUMN state text NOT NULL DEFAULT 'active'
        CONSTRAINT package_state_known CHECK (state IN ('active', 'expired', 'refunded')),
    ADD COLUMN closed_at timestamptz,
    ADD COLUMN tax_cents bigint NOT NULL DEFAULT 0,
    ADD COLUMN time_zone text NOT NULL DEFAULT 'UTC',
    ADD CONSTRAINT package_tax_within CHECK (tax_cents BETWEEN 0 AND price_cents),
    ADD CONSTRAINT package_closed_when CHECK ((state = 'active') = (closed_at IS NULL));
CREATE INDEX package_expiry_idx ON billing.package (expires_on) WHERE state = 'active';
CREATE INDEX package_patient_any_idx ON billing.package (patient_id) WHERE state = 'active';

-- One row per session drawn from a package: the revenue it recognises,
-- at the clinic that performed it.
CREATE TABLE billing.package_use (
    package_clinic_id  text NOT NULL,
    package_id         text NOT NULL,
    use_no             integer NOT NULL CONSTRAINT package_use_no_positive CHECK (use_no >= 1),
    clinic_id          text NOT NULL,
    appointment_id     text NOT NULL,
    patient_id         text NOT NULL,
    gross_cents        bigint NOT NULL CONSTRAINT package_use_gross_nonneg CHECK (gross_cents >= 0),
    tax_cents          bigint NOT NULL CONSTRAINT package_use_tax_within CHECK (tax_cents BETWEEN 0 AND gross_cents),
    used_at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (package_clinic_id, package_id, use_no),
    FOREIGN KEY (package_clinic_id, package_id) REFERENCES billing.package (clinic_id, package_id)
);
CREATE INDEX package_use_clinic_idx ON billing.package_use (clinic_id, used_at);

-- A session charged from another clinic's package names that clinic.
ALTER TABLE billing.session_charge ADD COLUMN package_clinic_id text;
UPDATE billing.session_charge SET package_clinic_id = clinic_id WHERE package_id IS NOT NULL;
ALTER TABLE billing.session_charge
    DROP CONSTRAINT session_charge_clinic_id_package_id_fkey,
    ADD FOREIGN KEY (package_clinic_id, package_id) REFERENCES billing.package (clinic_id, package_id),
    ADD CONSTRAINT session_charge_package_clinic CHECK ((package_id IS NULL) = (package_clinic_id IS NULL));
CREATE INDEX session_charge_package_clinic_idx ON billing.session_charge (package_clinic_id, package_id);

-- ------------------------------------------------------------ reports
CREATE INDEX invoice_issued_idx ON billing.invoice (clinic_id, issued_at);
CREATE INDEX refund_at_idx ON billing.refund (clinic_id, refunded_at);
CREATE INDEX credit_note_at_idx ON billing.credit_note (clinic_id, issued_at);
CREATE INDEX package_closed_idx ON billing.package (clinic_id, closed_at) WHERE state = 'expired';

-- ------------------------------------------------------- append-only
CREATE TRIGGER credit_note_append_only BEFORE UPDATE OR DELETE ON billing.credit_note
    FOR EACH ROW EXECUTE FUNCTION billing.refuse_change ();
CREATE TRIGGER package_use_append_only BEFORE UPDATE OR DELETE ON billing.package_use
    FOR EACH ROW EXECUTE FUNCTION billing.refuse_change ();
REVOKE UPDATE, DELETE, TRUNCATE ON billing.credit_note, billing.package_use FROM meso_billing;
