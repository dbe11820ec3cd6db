-- 003_screening.sql -- the screening service: patients, dated screenings,
-- reported changes, per-clinic thresholds, and the ingredient codes that
-- allergies are written in.
--
-- Privileges follow 001: tables are owned by the migrating user and
-- meso_screening gets DML through 001's ALTER DEFAULT PRIVILEGES on schema
-- screening. Screenings are a medical record: they are never overwritten
-- (a new questionnaire is a new row) so the service role loses UPDATE and
-- DELETE on them below, and a trigger refuses updates from anyone.
--
-- A screening row keeps the answers that carry invariants as columns (each
-- contraindication, height, weight, dates, verdict; grades and allergies in
-- child tables with CHECKs and foreign keys) and `record`, the packed
-- meso.v1.Screening exactly as it was answered, so the history reads back
-- byte for byte what the clinician saw.

-- --------------------------------------------------------- ingredient codes
-- The screening copy of the chain's ingredient reference list, used to
-- validate allergy codes. The catalogue belongs to the inventory service;
-- until inventory owns and publishes it, this list is kept here and must
-- be extended together with inventory's.
CREATE TABLE screening.ingredients (
    code text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{0,63}$'),
    name text NOT NULL CHECK (length (name) BETWEEN 1 AND 200)
);

INSERT INTO screening.ingredients (code, name) VALUES
    ('caffeine', 'Caffeine'),
    ('l_carnitine', 'L-carnitine'),
    ('hyaluronic_acid', 'Hyaluronic acid'),
    ('artichoke_extract', 'Artichoke extract'),
    ('glycolic_acid', 'Glycolic acid'),
    ('vitamin_c', 'Vitamin C'),
    ('vitamin_b_complex', 'Vitamin B complex'),
    ('vitamins', 'Vitamins (unspecified)'),
    ('amino_acids', 'Amino acids'),
    ('minerals', 'Minerals'),
    ('plant_extracts', 'Plant extracts'),
    ('homeopathic_extracts', 'Homeopathic extracts'),
    ('phosphatidylcholine', 'Phosphatidylcholine'),
    ('lidocaine', 'Lidocaine (local anaesthetic)'),
    ('procaine', 'Procaine (local anaesthetic)');

-- -------------------------------------------------------- clinic settings
-- A clinic without a row uses these column defaults (the same numbers as
-- services/screening/rules.h).
CREATE TABLE screening.clinic_settings (
    clinic_id       text PRIMARY KEY CHECK (length (clinic_id) BETWEEN 1 AND 64),
    max_age         integer NOT NULL DEFAULT 70 CHECK (max_age BETWEEN 18 AND 120),
    bmi_obesity_x10 integer NOT NULL DEFAULT 300 CHECK (bmi_obesity_x10 BETWEEN 150 AND 600),
    validity_days   integer NOT NULL DEFAULT 180 CHECK (validity_days BETWEEN 1 AND 3650),
    updated_at      timestamptz NOT NULL DEFAULT now ()
);

-- ---------------------------------------------------------------- patients
CREATE TABLE screening.patients (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid (),
    given_name     text NOT NULL CHECK (length (given_name) BETWEEN 1 AND 200),
    family_name    text NOT NULL CHECK (length (family_name) BETWEEN 1 AND 200),
    birth_date     date NOT NULL CHECK (birth_date >= DATE '1900-01-01'),
    sex            smallint NOT NULL DEFAULT 0 CHECK (sex BETWEEN 0 AND 3),
    phone          text NOT NULL DEFAULT '' CHECK (length (phone) <= 64),
    email          text NOT NULL DEFAULT '' CHECK (length (email) <= 254),
    home_clinic_id text NOT NULL CHECK (length (home_clinic_id) BETWEEN 1 AND 64),
    created_at     timestamptz NOT NULL DEFAULT now (),
    updated_at     timestamptz NOT NULL DEFAULT now ()
);
CREATE INDEX patients_home_clinic_idx ON screening.patients (home_clinic_id);

-- -------------------------------------------------------------- screenings
CREATE TABLE screening.screenings (
    id                     uuid PRIMARY KEY DEFAULT gen_random_uuid (),
    patient_id             uuid NOT NULL REFERENCES screening.patients (id),
    clinic_id              text NOT NULL CHECK (length (clinic_id) BETWEEN 1 AND 64),
    screened_at            timestamptz NOT NULL DEFAULT now (),
    screened_on            date NOT NULL,
    pregnancy              boolean NOT NULL,
    breastfeeding          boolean NOT NULL,
    diabetes               boolean NOT NULL,
    active_infection       boolean NOT NULL,
    septicaemia            boolean NOT NULL,
    immunocompromised      boolean NOT NULL,
    liver_failure          boolean NOT NULL,
    kidney_failure         boolean NOT NULL,
    coagulation_disorder   boolean NOT NULL,
    menstrual_disorder     boolean NOT NULL,
    cancer                 boolean NOT NULL,
    heart_arrhythmia       boolean NOT NULL,
    blood_clots            boolean NOT NULL,
    height_mm              integer NOT NULL CHECK (height_mm BETWEEN 500 AND 2500),
    weight_g               integer NOT NULL CHECK (weight_g BETWEEN 20000 AND 400000),
    last_nsaid_dose        date CHECK (last_nsaid_dose <= screened_on),
    medication_count       integer NOT NULL DEFAULT 0 CHECK (medication_count BETWEEN 0 AND 32),
    verdict                text NOT NULL
                           CHECK (verdict IN ('eligible', 'eligible_with_precautions', 'ineligible')),
    valid_until            date NOT NULL CHECK (valid_until > screened_on),
    earliest_first_session date,
    -- The thresholds applied, for the record.
    max_age                integer NOT NULL CHECK (max_age BETWEEN 18 AND 120),
    bmi_obesity_x10        integer NOT NULL CHECK (bmi_obesity_x10 BETWEEN 150 AND 600),
    validity_days          integer NOT NULL CHECK (validity_days BETWEEN 1 AND 3650),
    -- The packed meso.v1.Screening as returned to the caller.
    record                 bytea NOT NULL
);
CREATE INDEX screenings_patient_idx ON screening.screenings (patient_id, screened_at DESC);

CREATE TABLE screening.screening_areas (
    screening_id uuid NOT NULL REFERENCES screening.screenings (id),
    area         text NOT NULL CHECK (area IN ('upper_abdomen', 'lower_abdomen', 'hips',
                     'outer_thighs', 'thighs', 'knees', 'arms', 'inner_arms', 'buttocks',
                     'calves', 'neck', 'love_handles')),
    grade        smallint NOT NULL CHECK (grade BETWEEN 1 AND 3),
    mild         boolean NOT NULL DEFAULT false,
    PRIMARY KEY (screening_id, area)
);

CREATE TABLE screening.screening_allergies (
    screening_id    uuid NOT NULL REFERENCES screening.screenings (id),
    ingredient_code text NOT NULL REFERENCES screening.ingredients (code),
    PRIMARY KEY (screening_id, ingredient_code)
);

-- --------------------------------------------------------- reported changes
-- A change reported after a patient's newest screening outdates it: Check
-- refuses until a new screening is recorded.
CREATE TABLE screening.patient_changes (
    id          bigserial PRIMARY KEY,
    patient_id  uuid NOT NULL REFERENCES screening.patients (id),
    changes     text[] NOT NULL CHECK (cardinality (changes) BETWEEN 1 AND 16),
    note        text NOT NULL DEFAULT '' CHECK (length (note) <= 1000),
    ineligible  boolean NOT NULL,
    reported_at timestamptz NOT NULL DEFAULT clock_timestamp ()
);
CREATE INDEX patient_changes_patient_idx ON screening.patient_changes (patient_id, reported_at);

-- ------------------------------------------------------ records stay records
CREATE FUNCTION screening.refuse_rewrite () RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'screening records are never overwritten'
        USING ERRCODE = 'check_violation',
              HINT = 'record a new screening instead';
END
$$;

CREATE TRIGGER screenings_no_update BEFORE UPDATE ON screening.screenings
    FOR EACH ROW EXECUTE FUNCTION screening.refuse_rewrite ();
CREATE TRIGGER screening_areas_no_update BEFORE UPDATE ON screening.screening_areas
    FOR EACH ROW EXECUTE FUNCTION screening.refuse_rewrite ();
CREATE TRIGGER screening_allergies_no_update BEFORE UPDATE ON screening.screening_allergies
    FOR EACH ROW EXECUTE FUNCTION screening.refuse_rewrite ();
CREATE TRIGGER patient_changes_no_update BEFORE UPDATE ON screening.patient_changes
    FOR EACH ROW EXECUTE FUNCTION screening.refuse_rewrite ();

REVOKE UPDATE, DELETE ON screening.screenings, screening.screening_areas,
    screening.screening_allergies, screening.patient_changes FROM meso_screening;
-- The reference list is read-only for the service.
REVOKE INSERT, UPDATE, DELETE ON screening.ingredients FROM meso_screening;
