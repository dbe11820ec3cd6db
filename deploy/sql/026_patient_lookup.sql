-- 026_patient_lookup.sql -- indexes for finding one patient's records in
-- every clinic (<service>.ExportPatient, mesoctl patient export).
--
-- The keys of inventory and billing lead with clinic_id (DESIGN.md: a
-- chain that outgrows one server distributes by clinic), so a patient's
-- records across the chain were found by reading the whole table. These
-- secondary indexes on patient_id make the export an index scan per table
-- (screening and scheduling.course had one already). They are small (one
-- entry per row, text ids) and cost one more index entry per insert.
CREATE INDEX reservation_patient_idx ON inventory.reservation (patient_id);
CREATE INDEX invoice_patient_any_idx ON billing.invoice (patient_id);
CREATE INDEX payment_patient_any_idx ON billing.payment (patient_id);
CREATE INDEX refund_patient_idx ON billing.refund (patient_id);
CREATE INDEX credit_note_patient_idx ON billing.credit_note (patient_id);
CREATE INDEX package_patient_all_idx ON billing.package (patient_id);
