-- 029_billing_ledger_keyset.sql -- a patient's ledger entries take their
-- entry_id in commit order, so billing.GetStatement can page by entry_id
-- (keyset, meso/page.h) while entries are being recorded.
--
-- entry_id is a bigserial: two transactions recording for one patient at
-- once could take ids 7 and 8 and commit 8 first; a client paging the
-- statement in between would read 8, hold "after 8" as its position, and
-- never see 7. The trigger below takes a transaction-scoped advisory lock
-- on (clinic, patient) before the row takes its id, so entries of one
-- patient at one clinic are recorded one transaction at a time and each
-- takes an id above every committed one. Entries of different patients
-- do not wait for each other. The id drawn by the column default before
-- the trigger runs is dropped (a gap, as after any rollback).
--
-- The billing role already inserts into the ledger and uses its sequence.

CREATE FUNCTION billing.ledger_keyset_order () RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock (hashtextextended (
        'billing:ledger:' || NEW.clinic_id || ':' || NEW.patient_id, 0));
    NEW.entry_id := nextval (pg_get_serial_sequence ('billing.ledger', 'entry_id'));
    RETURN NEW;
END
$$;

CREATE TRIGGER ledger_keyset_order BEFORE INSERT ON billing.ledger
    FOR EACH ROW EXECUTE FUNCTION billing.ledger_keyset_order ();
