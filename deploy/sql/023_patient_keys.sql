-- 023_patient_keys.sql -- per-patient data keys (crypto-shredding), the
-- screening columns that hold personal and health data sealed under them,
-- and health-bearing event payloads kept apart from events.log.
--
-- Keys (common/include/meso/vault.h). vault.patient_keys holds one row
-- per patient: its 32-byte data key wrapped by the chain's master key,
-- which lives in the keys folder (vault.master), never in the database, so
-- a dump alone opens nothing. Erasure sets `wrapped` to NULL and records
-- when, by whom and why; the trigger below allows that change only (once)
-- and refuses every other UPDATE, DELETE and TRUNCATE, for everyone. Only
-- the services that seal or open fields may read the table (screening,
-- scheduling); screening, which owns the patient, makes and erases keys.
--
-- Screening. New rows keep their personal and health data only sealed:
-- patients.personal (names, birth date, sex, phone, e-mail), screenings
-- .record (the whole questionnaire and verdict; the answer columns are
-- left NULL and no area or allergy rows are written), patient_changes
-- .sealed (the reported changes and the note). The plaintext columns stay
-- for rows written before this migration (a migration has no key to seal
-- them with): meso-screening seals those at start (services/screening/
-- legacy.c), which is what the columns' new NULLs and the narrow UPDATE
-- grants below are for. idempotency.patient_id lets an erasure delete the
-- stored replies that repeat a patient's data.
--
-- Events. events.log keeps every event with its health fields removed
-- (services/events/redact.c); events.log_health keeps the full payload of
-- the events that have health fields, with the patient, readable by the
-- events daemon only. An erasure's event (screening.patient_erased)
-- deletes the patient's rows there when the daemon relays it.

CREATE SCHEMA vault;
COMMENT ON SCHEMA vault IS 'per-patient data keys, wrapped by the master key of the keys folder';

CREATE TABLE vault.patient_keys (
    patient_id   uuid PRIMARY KEY,
    clinic_id    text NOT NULL CHECK (length (clinic_id) BETWEEN 1 AND 64),
    wrapped      bytea CHECK (wrapped IS NULL OR length (wrapped) = 73),
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp (),
    erased_at    timestamptz,
    erased_by    text CHECK (length (erased_by) <= 200),
    erase_reason text CHECK (length (erase_reason) BETWEEN 1 AND 1000),
    CONSTRAINT patient_key_state CHECK ((wrapped IS NULL) = (erased_at IS NOT NULL)),
    CONSTRAINT patient_key_erasure CHECK ((erased_at IS NULL) = (erase_reason IS NULL))
);
CREATE INDEX patient_keys_clinic_idx ON vault.patient_keys (clinic_id);

CREATE FUNCTION vault.only_erasure () RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.erased_at IS NULL AND NEW.wrapped IS NULL
       AND NEW.erased_at IS NOT NULL AND NEW.patient_id = OLD.patient_id
       AND NEW.clinic_id = OLD.clinic_id AND NEW.created_at = OLD.created_at THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'vault.patient_keys: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'a data key is only ever erased (screening.ErasePatient)';
END
$$;
CREATE TRIGGER patient_keys_only_erasure BEFORE UPDATE OR DELETE ON vault.patient_keys
    FOR EACH ROW EXECUTE FUNCTION vault.only_erasure ();
CREATE TRIGGER patient_keys_no_truncate BEFORE TRUNCATE ON vault.patient_keys
    FOR EACH STATEMENT EXECUTE FUNCTION vault.only_erasure ();

GRANT USAGE ON SCHEMA vault TO meso_screening, meso_scheduling;
GRANT SELECT, INSERT ON vault.patient_keys TO meso_screening;
GRANT UPDATE (wrapped, erased_at, erased_by, erase_reason) ON vault.patient_keys TO meso_screening;
GRANT SELECT ON vault.patient_keys TO meso_scheduling;

-- ------------------------------------------------------------- screening
ALTER TABLE screening.patients
    ADD COLUMN personal bytea,
    ALTER COLUMN given_name DROP NOT NULL,
    ALTER COLUMN family_name DROP NOT NULL,
    ALTER COLUMN birth_date DROP NOT NULL,
    ALTER COLUMN sex DROP NOT NULL,
    ALTER COLUMN phone DROP NOT NULL,
    ALTER COLUMN email DROP NOT NULL;

ALTER TABLE screening.screenings
    ADD COLUMN sealed boolean NOT NULL DEFAULT false,
    ALTER COLUMN pregnancy DROP NOT NULL,
    ALTER COLUMN breastfeeding DROP NOT NULL,
    ALTER COLUMN diabetes DROP NOT NULL,
    ALTER COLUMN active_infection DROP NOT NULL,
    ALTER COLUMN septicaemia DROP NOT NULL,
    ALTER COLUMN immunocompromised DROP NOT NULL,
    ALTER COLUMN liver_failure DROP NOT NULL,
    ALTER COLUMN kidney_failure DROP NOT NULL,
    ALTER COLUMN coagulation_disorder DROP NOT NULL,
    ALTER COLUMN menstrual_disorder DROP NOT NULL,
    ALTER COLUMN cancer DROP NOT NULL,
    ALTER COLUMN heart_arrhythmia DROP NOT NULL,
    ALTER COLUMN blood_clots DROP NOT NULL,
    ALTER COLUMN height_mm DROP NOT NULL,
    ALTER COLUMN weight_g DROP NOT NULL,
    ALTER COLUMN medication_count DROP NOT NULL;

ALTER TABLE screening.patient_changes
    ADD COLUMN sealed bytea,
    ALTER COLUMN changes DROP NOT NULL,
    ALTER COLUMN note DROP NOT NULL;

ALTER TABLE screening.idempotency ADD COLUMN patient_id uuid;
CREATE INDEX idempotency_patient_idx ON screening.idempotency (patient_id)
    WHERE patient_id IS NOT NULL;

-- Screenings and reported changes stay records: the one rewrite allowed
-- is sealing a row written before this migration (plaintext out, the
-- same content sealed in), once, everything else equal.
CREATE FUNCTION screening.refuse_rewrite_but_seal () RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT OLD.sealed AND NEW.sealed
       AND NEW.id = OLD.id AND NEW.patient_id = OLD.patient_id AND NEW.clinic_id = OLD.clinic_id
       AND NEW.screened_at = OLD.screened_at AND NEW.verdict = OLD.verdict
       AND NEW.valid_until = OLD.valid_until
       AND num_nulls (NEW.pregnancy, NEW.breastfeeding, NEW.diabetes, NEW.active_infection,
                      NEW.septicaemia, NEW.immunocompromised, NEW.liver_failure,
                      NEW.kidney_failure, NEW.coagulation_disorder, NEW.menstrual_disorder,
                      NEW.cancer, NEW.heart_arrhythmia, NEW.blood_clots, NEW.height_mm,
                      NEW.weight_g, NEW.medication_count, NEW.last_nsaid_dose,
                      NEW.earliest_first_session) = 18 THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'screening records are never overwritten'
        USING ERRCODE = 'check_violation',
              HINT = 'record a new screening instead';
END
$$;
CREATE FUNCTION screening.refuse_change_rewrite_but_seal () RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.sealed IS NULL AND NEW.sealed IS NOT NULL
       AND NEW.id = OLD.id AND NEW.patient_id = OLD.patient_id
       AND NEW.reported_at = OLD.reported_at AND NEW.ineligible = OLD.ineligible
       AND NEW.changes IS NULL AND NEW.note IS NULL THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'screening records are never overwritten'
        USING ERRCODE = 'check_violation',
              HINT = 'record a new screening instead';
END
$$;
DROP TRIGGER screenings_no_update ON screening.screenings;
CREATE TRIGGER screenings_no_update BEFORE UPDATE ON screening.screenings
    FOR EACH ROW EXECUTE FUNCTION screening.refuse_rewrite_but_seal ();
DROP TRIGGER patient_changes_no_update ON screening.patient_changes;
CREATE TRIGGER patient_changes_no_update BEFORE UPDATE ON screening.patient_changes
    FOR EACH ROW EXECUTE FUNCTION screening.refuse_change_rewrite_but_seal ();

-- A sealed screening keeps its areas and allergies in the record only:
-- the rows of a legacy screening may go once it is sealed, never before.
CREATE FUNCTION screening.delete_if_sealed () RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM screening.screenings s WHERE s.id = OLD.screening_id AND s.sealed) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'screening.%: rows of an unsealed screening are never deleted', TG_TABLE_NAME
        USING ERRCODE = 'check_violation';
END
$$;
CREATE TRIGGER screening_areas_delete BEFORE DELETE ON screening.screening_areas
    FOR EACH ROW EXECUTE FUNCTION screening.delete_if_sealed ();
CREATE TRIGGER screening_allergies_delete BEFORE DELETE ON screening.screening_allergies
    FOR EACH ROW EXECUTE FUNCTION screening.delete_if_sealed ();

GRANT UPDATE (sealed, record, pregnancy, breastfeeding, diabetes, active_infection, septicaemia,
              immunocompromised, liver_failure, kidney_failure, coagulation_disorder,
              menstrual_disorder, cancer, heart_arrhythmia, blood_clots, height_mm, weight_g,
              medication_count, last_nsaid_dose, earliest_first_session)
    ON screening.screenings TO meso_screening;
GRANT UPDATE (sealed, changes, note) ON screening.patient_changes TO meso_screening;
GRANT DELETE ON screening.screening_areas, screening.screening_allergies TO meso_screening;

-- ---------------------------------------------------------------- events
CREATE TABLE events.log_health (
    global_seq bigint PRIMARY KEY,
    stream     text   NOT NULL,
    stream_seq bigint NOT NULL,
    patient_id text   NOT NULL,
    payload    bytea  NOT NULL,
    UNIQUE (stream, stream_seq)
);
CREATE INDEX log_health_patient_idx ON events.log_health (patient_id);
COMMENT ON TABLE events.log_health IS
    'full payloads of the events with health fields (events.log holds them redacted); events role only';
-- Only the events daemon: 001's default privileges gave it DML; nobody
-- else gets anything. It rewrites a log row's payload once, when it
-- moves the full one here.
REVOKE ALL ON events.log_health FROM PUBLIC;
GRANT UPDATE (payload) ON events.log TO meso_events;
