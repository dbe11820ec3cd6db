-- 013_course_rules.sql -- what scheduling keeps for the course rules of
-- DOMAIN.md ("Safety rules that hold across services").
--
--   - clinic.allow_overlapping_courses: a clinic may let a patient's second
--     course overlap an active one (default: refused). The 7 days between
--     any two sessions of a patient hold either way.
--   - course.requested_first_date and first_date_note: the first date a
--     booking asked for and, when the washout moved the course later, the
--     sentence saying so; kept with the course so that the reply stored
--     under the idempotency key, recovery and GetCourse all say it.
--   - course.retreatment_announced_at: a grade 1 course's next yearly
--     preventive session was announced (session.retreatment_due) at this
--     instant; set in the transaction that appends the event, so each
--     course is announced once, across restarts and instances.
--   - appointment_completed_has_score goes: a session completed without a
--     recorded outcome keeps improvement_score NULL ("not recorded", not
--     0), and only recorded outcomes count towards the non-responder flag.
--
-- Columns of tables 006 created: the scheduling role already has DML on
-- them.

ALTER TABLE scheduling.clinic
    ADD COLUMN allow_overlapping_courses boolean NOT NULL DEFAULT false;

ALTER TABLE scheduling.course
    ADD COLUMN requested_first_date date,
    ADD COLUMN first_date_note text NOT NULL DEFAULT ''
        CONSTRAINT course_first_date_note_length CHECK (length(first_date_note) <= 400),
    ADD COLUMN retreatment_announced_at timestamptz;

-- The grade 1 courses still to announce (the timer's scan).
CREATE INDEX course_retreatment_idx ON scheduling.course (clinic_id)
    WHERE grade = 1 AND status = 'booked' AND retreatment_announced_at IS NULL;

ALTER TABLE scheduling.appointment DROP CONSTRAINT appointment_completed_has_score;
