-- 031_course_changes.sql -- whole-course changes and sessions re-planned
-- during a booking (issue 16, points 5 and 6).
--
-- course_change: a RescheduleCourse between its first step (this row and
-- its items, committed before inventory is asked to re-date anything) and
-- its last (the sessions moved, their events, the row 'done', in one
-- transaction). A row left 'pending' by a process that died means the
-- sessions never moved: recovery re-dates the stock of every item back to
-- old_date and marks the row 'undone'. The process running a change holds
-- a session advisory lock on its id, so recovery leaves a live one alone.
CREATE TABLE scheduling.course_change (
    clinic_id       text NOT NULL REFERENCES scheduling.clinic (clinic_id),
    change_id       text NOT NULL,
    course_id       text NOT NULL,
    status          text NOT NULL
                    CONSTRAINT course_change_status_known CHECK (status IN ('pending', 'done', 'undone')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    PRIMARY KEY (clinic_id, change_id),
    FOREIGN KEY (clinic_id, course_id) REFERENCES scheduling.course (clinic_id, course_id)
);
CREATE UNIQUE INDEX course_change_id_idx ON scheduling.course_change (change_id);
CREATE INDEX course_change_pending_idx ON scheduling.course_change (created_at) WHERE status = 'pending';

-- One session of a change: its stock's session date before and after.
CREATE TABLE scheduling.course_change_item (
    clinic_id       text NOT NULL,
    change_id       text NOT NULL,
    appointment_id  text NOT NULL,
    old_date        date NOT NULL,
    new_date        date NOT NULL,
    PRIMARY KEY (clinic_id, change_id, appointment_id),
    FOREIGN KEY (clinic_id, change_id) REFERENCES scheduling.course_change (clinic_id, change_id)
);

-- A session of a BookCourse whose planned slot was taken between the plan
-- and the booking, and where it was re-planned (BookCourseReply.replanned).
-- Written with the pending appointments; a failed booking's rows stay
-- with its failed course.
CREATE TABLE scheduling.course_replanned (
    clinic_id       text NOT NULL,
    course_id       text NOT NULL,
    session_number  integer NOT NULL,
    appointment_id  text NOT NULL,
    original_start  timestamptz NOT NULL,
    original_local  text NOT NULL,
    PRIMARY KEY (clinic_id, course_id, session_number),
    FOREIGN KEY (clinic_id, course_id) REFERENCES scheduling.course (clinic_id, course_id)
);
