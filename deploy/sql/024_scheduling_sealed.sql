-- 024_scheduling_sealed.sql -- scheduling's clinical free text sealed
-- under the patient's data key (common/include/meso/vault.h, migration
-- 023).
--
-- A session's notes (CompleteSession) and a cancellation's reason
-- (Cancel) may name a condition ("patient pregnant"). From this migration
-- on meso-scheduling writes them sealed into the two bytea columns below
-- and leaves notes and cancel_reason NULL; an erasure of the patient makes
-- them unreadable. Rows written before keep their plaintext until
-- meso-scheduling seals them at start (services/scheduling/sealed.c). The
-- system's own reasons (a booking undone, a hold decided by a screening)
-- name no condition and stay in cancel_reason.
ALTER TABLE scheduling.appointment
    ADD COLUMN notes_sealed bytea,
    ADD COLUMN cancel_reason_sealed bytea;
