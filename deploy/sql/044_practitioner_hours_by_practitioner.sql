-- 044_practitioner_hours_by_practitioner.sql -- a practitioner's hours
-- found by practitioner.
--
-- practitioner_hours is keyed (clinic_id, practitioner_id, isodow): by
-- clinic. The calendar of PlanCourse / BookCourse asks which of a
-- clinic's practitioners also work at another clinic (their sessions
-- there take them away), and without an index by practitioner that read
-- every other clinic's hours: 12,000 rows and 6.5 of the statement's 9.6
-- ms on a chain of 100 clinics of 20 practitioners, growing with the
-- chain. The agenda's hours of given practitioners, a practitioner's
-- clinics and removing a practitioner (and the cascade from
-- scheduling.practitioner) read by practitioner too. A small table: the
-- build holds off changes to the hours for milliseconds.
CREATE INDEX practitioner_hours_practitioner_idx
    ON scheduling.practitioner_hours (practitioner_id, clinic_id);
