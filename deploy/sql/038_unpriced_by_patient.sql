-- 038_unpriced_by_patient.sql -- a patient's unpriced sessions found
-- without reading the clinic's every charge.
--
-- billing.GetStatement lists, on every page, the patient's sessions that
-- could not be priced (store_unpriced: session_charge WHERE clinic_id AND
-- patient_id AND how = 'unpriced'). No index led with the patient, so the
-- plan scanned the clinic's whole session_charge through
-- session_charge_package_idx's clinic_id prefix: on a chain's two years
-- (tests/bench/bench_scale, 5 clinics) 22,336 rows and 3,297 pages for one
-- statement, 234 ms cold, growing with the clinic's history. Unpriced
-- charges are the exception (a session completed where no price applied),
-- so a partial index holds only them and costs the usual insert nothing.
-- A plain CREATE INDEX (migrations run in a transaction): it holds off
-- writes to session_charge while it reads the table once, a few seconds
-- on millions of rows; reads go on.
CREATE INDEX session_charge_unpriced_idx ON billing.session_charge (clinic_id, patient_id, charged_at)
    WHERE how = 'unpriced';
