-- 040_appointment_gist_range_first.sql -- the appointments' GiST indexes
-- lead with the time range.
--
-- The three exclusion constraints of 006 (a practitioner, a room, a
-- patient in one active appointment at an instant) and the clinic-day
-- index led with the text ids: (practitioner_id, during). A GiST tree
-- built by insertion groups its pages by the first column's penalty, and
-- btree_gist's penalty for text separates ids poorly, so the pages of one
-- practitioner are spread through the tree and every check of a new
-- booking visits more of them the more history the table holds. Measured
-- on 300,000 appointments: one practitioner-and-hour check read 40 index
-- pages (0.65 ms); with the range first, 4 (0.06 ms), and the index built
-- in half the time (19 s against 38 s). On 1.2 million, still 4 pages.
-- The range's penalty groups entries by time, and a booking's check only
-- looks at the hour it takes: what it reads grows with the chain's width
-- at that hour, not with its years of history.
--
-- Same constraints, same names (the daemons map 23P01 by sqlstate, and
-- 014's on_hold rewrite matches them by name); only the column order
-- changes. Each definition is read from the catalogue and rewritten, so
-- the status lists later migrations set are kept; an unexpected
-- definition stops the migration.
--
-- Cost: the four indexes are built again under an exclusive lock on
-- scheduling.appointment (migrations run in a transaction). About 20 s
-- per constraint per 300,000 appointments on a 2-core machine: plan the
-- upgrade of a large chain in a quiet hour (README, "Upgrade").
DO $$
DECLARE
    c record;
    fixed text;
    n integer := 0;
BEGIN
    FOR c IN SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
              WHERE conrelid = 'scheduling.appointment'::regclass
                AND conname IN ('appointment_practitioner_free', 'appointment_room_free',
                                'appointment_patient_free')
    LOOP
        n := n + 1;
        fixed := replace(replace(replace(c.def,
            '(practitioner_id WITH =, during WITH &&)', '(during WITH &&, practitioner_id WITH =)'),
            '(clinic_id WITH =, room_id WITH =, during WITH &&)', '(during WITH &&, clinic_id WITH =, room_id WITH =)'),
            '(patient_id WITH =, during WITH &&)', '(during WITH &&, patient_id WITH =)');
        IF fixed = c.def THEN
            RAISE EXCEPTION 'constraint % has an unexpected definition: %', c.conname, c.def;
        END IF;
        EXECUTE format('ALTER TABLE scheduling.appointment DROP CONSTRAINT %I', c.conname);
        EXECUTE format('ALTER TABLE scheduling.appointment ADD CONSTRAINT %I %s', c.conname, fixed);
    END LOOP;
    IF n <> 3 THEN
        RAISE EXCEPTION 'expected 3 exclusion constraints on scheduling.appointment, found %', n;
    END IF;
END
$$;

-- The agenda of a clinic's day (clinic_id = $1 AND during && day).
DROP INDEX scheduling.appointment_clinic_day_idx;
CREATE INDEX appointment_clinic_day_idx ON scheduling.appointment USING gist (during, clinic_id);
