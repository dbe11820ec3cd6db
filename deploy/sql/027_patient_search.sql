-- 027_patient_search.sql -- the patient search's blind index (screening
-- schema; services/screening/search.c and search_norm.c).
--
-- The front desk finds a patient by the start of a name (accents and case
-- ignored), a birth date, a phone or an e-mail. The patient's personal
-- fields are stored encrypted under per-patient keys, so the search cannot
-- read them: it reads this table, which holds for each patient keyed
-- hashes (BLAKE2b-128 keyed with the chain's search key, the file
-- search.key beside the CURVE keys) of every prefix of up to 12 letters of
-- each folded word of the name, of the birth date, of the phone's last 9
-- digits and of the lower-cased e-mail. Without the key the rows say
-- nothing but how many entries a patient has. A search computes the
-- hashes of what was typed and asks for the patients holding all of them.
--
-- clinic_id is the patient's home clinic (the search is within a clinic,
-- and it leads the key as everywhere). The rows of a patient are replaced
-- in the transaction of RegisterPatient and UpdatePatient; patients
-- registered before this migration are indexed by the daemon at start
-- (those without a 'b' row, which every indexed patient has). Erasing a
-- patient deletes its rows (store_search_forget).
CREATE TABLE screening.patient_search (
    clinic_id  text NOT NULL CHECK (length (clinic_id) BETWEEN 1 AND 64),
    token      bytea NOT NULL CHECK (length (token) = 16),
    patient_id uuid NOT NULL REFERENCES screening.patients (id),
    -- 'n' a name prefix, 'b' the birth date, 'p' the phone, 'e' the e-mail
    kind       "char" NOT NULL CHECK (kind IN ('n', 'b', 'p', 'e')),
    PRIMARY KEY (clinic_id, token, patient_id)
);
CREATE INDEX patient_search_patient_idx ON screening.patient_search (patient_id, kind);
COMMENT ON TABLE screening.patient_search IS
    'blind index of the patient search: keyed hashes of name prefixes, birth date, phone, e-mail';
