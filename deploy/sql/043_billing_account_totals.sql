-- 043_billing_account_totals.sql -- a patient's account summed as it is
-- written, not at each read.
--
-- billing.GetStatement gives, on every page, the sums of the patient's
-- whole account by kind, and billing's balance check sums it too. Since
-- 039 those sums are an index-only scan, but of every entry the patient
-- ever had: on tests/bench/bench_scale's chain (two years, about 460
-- entries a patient) the statement took 1.5 to 2x what it takes for a
-- patient of two weeks. billing.account_total keeps, per clinic, patient
-- and kind, the sums and the count of the ledger's entries, so a
-- statement reads at most four rows whatever the history.
--
-- The totals are the ledger's, by construction:
-- - an AFTER INSERT trigger on the ledger adds each entry to its row, in
--   the entry's own transaction (the ledger is append-only, so inserts
--   are the only change to follow);
-- - the trigger's function runs as its owner (SECURITY DEFINER): the
--   billing role may read the totals but not write them, so nothing but a
--   ledger entry moves them;
-- - entries of one patient at one clinic are already recorded one
--   transaction at a time (029's advisory lock), so the row an entry
--   updates is not a new point of contention.
--
-- The backfill runs after the trigger is created, in the migration's
-- transaction: CREATE TRIGGER holds off new ledger entries until commit,
-- so no entry is counted twice or missed: 9 s on a ledger of 4.5 million
-- entries. A dump restores both tables before it creates the trigger, so
-- the totals come back as they were; a load that writes the ledger with
-- triggers off (session_replication_role = replica) must fill them
-- itself (tests/bench/scale_data.sql does).
--
-- ledger_patient_sums_idx (039) answered only those sums: dropped, one
-- index less for every entry to write.
CREATE TABLE billing.account_total (
    clinic_id    text   NOT NULL,
    patient_id   text   NOT NULL,
    kind         text   NOT NULL,
    amount_cents bigint NOT NULL,
    tax_cents    bigint NOT NULL,
    entries      bigint NOT NULL CHECK (entries > 0),
    PRIMARY KEY (clinic_id, patient_id, kind)
);
COMMENT ON TABLE billing.account_total IS
    'per clinic, patient and kind: the sums and count of billing.ledger''s entries, kept by trigger';

CREATE FUNCTION billing.account_total_add () RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO billing.account_total AS t
        (clinic_id, patient_id, kind, amount_cents, tax_cents, entries)
    VALUES (NEW.clinic_id, NEW.patient_id, NEW.kind, NEW.amount_cents, NEW.tax_cents, 1)
    ON CONFLICT (clinic_id, patient_id, kind) DO UPDATE
        SET amount_cents = t.amount_cents + EXCLUDED.amount_cents,
            tax_cents = t.tax_cents + EXCLUDED.tax_cents,
            entries = t.entries + 1;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION billing.account_total_add () FROM PUBLIC;

CREATE TRIGGER ledger_account_total AFTER INSERT ON billing.ledger
    FOR EACH ROW EXECUTE FUNCTION billing.account_total_add ();

INSERT INTO billing.account_total (clinic_id, patient_id, kind, amount_cents, tax_cents, entries)
SELECT clinic_id, patient_id, kind, sum (amount_cents), sum (tax_cents), count (*)
FROM billing.ledger GROUP BY clinic_id, patient_id, kind;

-- The billing role reads them (statements, balances); amounts only, keyed
-- by the patient's id like the ledger they sum.
-- The schema's default privileges would let it write them: taken back.
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON billing.account_total FROM meso_billing;
GRANT SELECT ON billing.account_total TO meso_billing;

DROP INDEX billing.ledger_patient_sums_idx;
