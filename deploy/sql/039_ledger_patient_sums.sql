-- 039_ledger_patient_sums.sql -- a patient's account summed from an index
-- alone.
--
-- billing.GetStatement gives, on every page, the sums of the patient's
-- whole account by kind (store_ledger_sums), and the balance sums it too.
-- ledger_patient_idx (clinic_id, patient_id, entry_id) finds the entries
-- but every amount is read from the table: for a patient with two years
-- of sessions (464 entries on tests/bench/bench_scale's chain) one heap
-- page per entry, 330 buffers and 0.8 ms, cold reads on a large ledger.
-- With the amounts in an index the sums are an index-only scan (9
-- buffers, 0.26 ms): the ledger is append-only, so its visibility map
-- stays set once autovacuum has passed. A plain CREATE INDEX (migrations
-- run in a transaction): it holds off new ledger entries while it reads
-- the table once; reads go on.
CREATE INDEX ledger_patient_sums_idx ON billing.ledger (clinic_id, patient_id)
    INCLUDE (kind, amount_cents, tax_cents);
