-- 012_consent.sql -- treatment consent: each clinic's versioned consent
-- texts per treatment, and the patients' signatures (screening schema,
-- the service that owns the patient).
--
-- Both are records of what was said and signed, so both are append-only:
-- a changed text is a new version, a signature is never edited or
-- removed. As for the billing ledger (005), a trigger refuses UPDATE,
-- DELETE and TRUNCATE for everyone, and the service role is not granted
-- them at all (001's default privileges are revoked below).
--
-- The service computes the SHA-256 of each text (OpenSSL); the CHECK
-- below holds the row to it, so a stored hash always matches the stored
-- text byte for byte (the database's encoding is UTF8), and a signature
-- copies the hash of the version it was given on (checked by a foreign
-- key to the text's (clinic, treatment, version, sha256)).

CREATE TABLE screening.consent_texts (
    clinic_id  text NOT NULL CHECK (length (clinic_id) BETWEEN 1 AND 64),
    treatment  text NOT NULL CHECK (treatment ~ '^[a-z][a-z0-9_]{0,63}$'),
    version    integer NOT NULL CHECK (version >= 1),
    body       text NOT NULL CHECK (length (body) BETWEEN 1 AND 20000),
    sha256     text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    created_at timestamptz NOT NULL DEFAULT clock_timestamp (),
    CONSTRAINT consent_text_hash CHECK (sha256 = encode (sha256 (convert_to (body, 'UTF8')), 'hex')),
    PRIMARY KEY (clinic_id, treatment, version),
    UNIQUE (clinic_id, treatment, version, sha256)
);

CREATE TABLE screening.consent_signatures (
    clinic_id    text NOT NULL,
    signature_id uuid NOT NULL,
    patient_id   uuid NOT NULL REFERENCES screening.patients (id),
    treatment    text NOT NULL,
    version      integer NOT NULL,
    text_sha256  text NOT NULL,
    witness      text NOT NULL CHECK (length (witness) BETWEEN 1 AND 200),
    signed_at    timestamptz NOT NULL DEFAULT clock_timestamp (),
    PRIMARY KEY (clinic_id, signature_id),
    FOREIGN KEY (clinic_id, treatment, version, text_sha256)
        REFERENCES screening.consent_texts (clinic_id, treatment, version, sha256)
);
CREATE INDEX consent_signatures_patient_idx
    ON screening.consent_signatures (patient_id, clinic_id, treatment, version);

CREATE FUNCTION screening.refuse_consent_change () RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'screening.% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'publish a new text version or record a new signature instead';
END
$$;

CREATE TRIGGER consent_texts_append_only BEFORE UPDATE OR DELETE ON screening.consent_texts
    FOR EACH ROW EXECUTE FUNCTION screening.refuse_consent_change ();
CREATE TRIGGER consent_texts_no_truncate BEFORE TRUNCATE ON screening.consent_texts
    FOR EACH STATEMENT EXECUTE FUNCTION screening.refuse_consent_change ();
CREATE TRIGGER consent_signatures_append_only BEFORE UPDATE OR DELETE ON screening.consent_signatures
    FOR EACH ROW EXECUTE FUNCTION screening.refuse_consent_change ();
CREATE TRIGGER consent_signatures_no_truncate BEFORE TRUNCATE ON screening.consent_signatures
    FOR EACH STATEMENT EXECUTE FUNCTION screening.refuse_consent_change ();

REVOKE UPDATE, DELETE, TRUNCATE ON screening.consent_texts, screening.consent_signatures
    FROM meso_screening;
