-- 014_scheduling_hold.sql -- a reported change holds a patient's upcoming
-- sessions (services/scheduling/holds.c).
--
-- Scheduling consumes the screening stream: screening.patient_changed
-- (a change of health that outdates the screening) puts the patient's
-- booked sessions from the report on into the new status 'on_hold'; a new
-- screening releases them (eligible) or cancels them (ineligible). A held
-- session keeps its slot -- it is one of the statuses the three exclusion
-- constraints count -- and its stock reservation, until the decision.
--
-- The status CHECK and the exclusion constraints are rewritten from their
-- stored definitions, adding 'on_hold' to the list, rather than restated:
-- any status another migration added before this one stays allowed. Each
-- is checked to hold the list this expects before it is touched.
--
-- The consumer's cursor: scheduling.event_cursor (meso_consumer), created
-- only if no earlier migration created it.

ALTER TABLE scheduling.appointment
    ADD COLUMN held_since timestamptz,
    ADD COLUMN hold_event text
        CONSTRAINT appointment_hold_event_length CHECK (length(hold_event) <= 64);
COMMENT ON COLUMN scheduling.appointment.held_since IS
    'on_hold: when the change that holds the session was reported';
COMMENT ON COLUMN scheduling.appointment.hold_event IS
    'on_hold: id of the screening.patient_changed event that holds the session';

DO $$
DECLARE
    c record;
    n integer := 0;
BEGIN
    FOR c IN SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
              WHERE conrelid = 'scheduling.appointment'::regclass
                AND conname IN ('appointment_status_known', 'appointment_practitioner_free',
                                'appointment_room_free', 'appointment_patient_free')
    LOOP
        n := n + 1;
        CONTINUE WHEN position('''on_hold''::text' IN c.def) > 0;
        IF position('ARRAY[''pending''::text' IN c.def) = 0 THEN
            RAISE EXCEPTION 'constraint % has an unexpected definition: %', c.conname, c.def;
        END IF;
        EXECUTE format('ALTER TABLE scheduling.appointment DROP CONSTRAINT %I', c.conname);
        EXECUTE format('ALTER TABLE scheduling.appointment ADD CONSTRAINT %I %s', c.conname,
                       replace(c.def, 'ARRAY[''pending''::text',
                               'ARRAY[''pending''::text, ''on_hold''::text'));
    END LOOP;
    IF n <> 4 THEN
        RAISE EXCEPTION 'expected 4 status constraints on scheduling.appointment, found %', n;
    END IF;
END
$$;

-- The held sessions of a patient, for the release or cancellation.
CREATE INDEX appointment_held_idx ON scheduling.appointment (patient_id) WHERE status = 'on_hold';

CREATE TABLE IF NOT EXISTS scheduling.event_cursor (
    stream  text PRIMARY KEY,
    seq     bigint NOT NULL CONSTRAINT event_cursor_seq_nonneg CHECK (seq >= 0)
);
