-- 019_scheduling_reports.sql -- what scheduling's reports need
-- (services/scheduling/reports.c, store_reports.c).
--
--   - appointment.cancelled_late: whether a cancellation came inside the
--     clinic's notice (the `late` of session.cancelled), fixed when it
--     happens. Deriving it later from cancelled_at would read the clinic's
--     notice as it is then, not as it was, and could not tell a session
--     that was on hold (never late) from one that was booked. Rows
--     cancelled before this migration are read the way Cancel decided
--     then: by a person (not the system), with fewer whole hours of notice
--     than the clinic's current setting.
--   - an index on (clinic_id, start of the slot): every report and the
--     per-clinic gauges read one clinic's sessions over a span of days;
--     the gist index of 006 answers overlaps, not ranges of starts.
--
-- Columns of a table 006 created: the scheduling role already has DML.

ALTER TABLE scheduling.appointment
    ADD COLUMN cancelled_late boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN scheduling.appointment.cancelled_late IS
    'cancelled inside the clinic''s notice (session.cancelled late), as decided when cancelled';

UPDATE scheduling.appointment a
   SET cancelled_late = true
  FROM scheduling.clinic c
 WHERE c.clinic_id = a.clinic_id AND a.status = 'cancelled'
   AND a.cancelled_by IN ('patient', 'clinic') AND a.cancelled_at IS NOT NULL
   AND floor (extract (epoch FROM lower (a.during) - a.cancelled_at) / 3600) < c.cancel_notice_hours;

CREATE INDEX appointment_clinic_start_idx ON scheduling.appointment (clinic_id, lower (during))
    INCLUDE (practitioner_id, status);
