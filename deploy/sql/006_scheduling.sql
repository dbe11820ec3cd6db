-- 006_scheduling.sql -- the scheduling service: clinics (the chain's
-- reference data), practitioners, rooms, courses and appointments.
--
-- The rule that matters most lives here, not only in C: no practitioner,
-- no room and no patient is ever booked twice at the same instant. Three
-- exclusion constraints (btree_gist, tstzrange '[)') refuse any overlap of
-- active appointments, whatever the code does and however many daemons
-- insert at once; touching slots [10:00,11:00) and [11:00,12:00) do not
-- overlap. The code never checks-then-inserts: it inserts and maps the
-- refusal (SQLSTATE 23P01) to ALREADY_EXISTS.
--
-- Times are timestamptz (UTC); a clinic's opening hours and a
-- practitioner's working hours are local wall-clock times of the clinic's
-- IANA zone, turned into instants by PostgreSQL (AT TIME ZONE).
--
-- Tables are owned by the migrating user; meso_scheduling gets DML through
-- the default privileges of 001. Clinics are reference data: every service
-- role may read them.

-- ---------------------------------------------------------------- clinics
CREATE TABLE scheduling.clinic (
    clinic_id           text PRIMARY KEY
                        CONSTRAINT clinic_id_format CHECK (clinic_id ~ '^[a-z0-9_-]{1,64}$'),
    name                text NOT NULL
                        CONSTRAINT clinic_name_length CHECK (length(name) BETWEEN 1 AND 200),
    time_zone           text NOT NULL
                        CONSTRAINT clinic_time_zone_present CHECK (length(time_zone) BETWEEN 1 AND 64),
    slot_minutes        integer NOT NULL DEFAULT 60
                        CONSTRAINT clinic_slot_range CHECK (slot_minutes BETWEEN 15 AND 240),
    spacing_min_days    integer NOT NULL DEFAULT 7
                        CONSTRAINT clinic_spacing_min CHECK (spacing_min_days BETWEEN 7 AND 60),
    taper_max_days      integer NOT NULL DEFAULT 28
                        CONSTRAINT clinic_taper_range CHECK (taper_max_days BETWEEN 14 AND 31),
    maintenance_sessions integer NOT NULL DEFAULT 0
                        CONSTRAINT clinic_maintenance_range CHECK (maintenance_sessions BETWEEN 0 AND 24),
    cancel_notice_hours integer NOT NULL DEFAULT 24
                        CONSTRAINT clinic_notice_range CHECK (cancel_notice_hours BETWEEN 0 AND 168),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE scheduling.clinic IS 'clinics of the chain (reference data, readable by every service)';

-- Opening hours, local time; a weekday without a row is closed.
CREATE TABLE scheduling.clinic_hours (
    clinic_id   text NOT NULL REFERENCES scheduling.clinic (clinic_id) ON DELETE CASCADE,
    isodow      integer NOT NULL CONSTRAINT clinic_hours_isodow CHECK (isodow BETWEEN 1 AND 7),
    opens       time NOT NULL,
    closes      time NOT NULL,
    CONSTRAINT clinic_hours_order CHECK (opens < closes),
    PRIMARY KEY (clinic_id, isodow)
);

-- ---------------------------------------------------------- practitioners
CREATE TABLE scheduling.practitioner (
    practitioner_id text PRIMARY KEY
                    CONSTRAINT practitioner_id_format CHECK (practitioner_id ~ '^[a-z0-9_-]{1,64}$'),
    name            text NOT NULL
                    CONSTRAINT practitioner_name_length CHECK (length(name) BETWEEN 1 AND 200),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Working hours of a practitioner in a clinic, local time of that clinic.
CREATE TABLE scheduling.practitioner_hours (
    clinic_id       text NOT NULL REFERENCES scheduling.clinic (clinic_id),
    practitioner_id text NOT NULL REFERENCES scheduling.practitioner (practitioner_id) ON DELETE CASCADE,
    isodow          integer NOT NULL CONSTRAINT practitioner_hours_isodow CHECK (isodow BETWEEN 1 AND 7),
    starts          time NOT NULL,
    ends            time NOT NULL,
    CONSTRAINT practitioner_hours_order CHECK (starts < ends),
    PRIMARY KEY (clinic_id, practitioner_id, isodow)
);
CREATE INDEX practitioner_hours_day_idx ON scheduling.practitioner_hours (clinic_id, isodow);

CREATE TABLE scheduling.practitioner_day_off (
    practitioner_id text NOT NULL REFERENCES scheduling.practitioner (practitioner_id) ON DELETE CASCADE,
    day             date NOT NULL,
    PRIMARY KEY (practitioner_id, day)
);

-- ------------------------------------------------------------------ rooms
CREATE TABLE scheduling.room (
    clinic_id   text NOT NULL REFERENCES scheduling.clinic (clinic_id),
    room_id     text NOT NULL CONSTRAINT room_id_format CHECK (room_id ~ '^[a-z0-9_-]{1,64}$'),
    name        text NOT NULL DEFAULT '',
    active      boolean NOT NULL DEFAULT true,
    PRIMARY KEY (clinic_id, room_id)
);

-- ---------------------------------------------------------------- courses
-- A course is the unit the booking saga books, all or nothing: a single
-- session is a course of one. status 'pending' while the saga runs; the
-- process running it holds a session advisory lock on the course, so a
-- pending course whose lock is free belongs to a dead process and is
-- finished or undone by recovery (services/scheduling/saga.c). request is
-- the packed request body, so recovery can store the reply under the
-- caller's idempotency key.
CREATE TABLE scheduling.course (
    clinic_id       text NOT NULL REFERENCES scheduling.clinic (clinic_id),
    course_id       text NOT NULL,
    patient_id      text NOT NULL CONSTRAINT course_patient_present CHECK (length(patient_id) BETWEEN 1 AND 64),
    grade           integer NOT NULL CONSTRAINT course_grade_range CHECK (grade BETWEEN 1 AND 3),
    mild            boolean NOT NULL DEFAULT false,
    areas           text[] NOT NULL CONSTRAINT course_areas_present CHECK (cardinality(areas) >= 1),
    recipe_id       text NOT NULL,
    recipe_version  integer NOT NULL DEFAULT 0,
    sessions        integer NOT NULL CONSTRAINT course_sessions_range CHECK (sessions BETWEEN 1 AND 64),
    status          text NOT NULL
                    CONSTRAINT course_status_known CHECK (status IN ('pending', 'booked', 'failed')),
    failure         text,
    non_responder   boolean NOT NULL DEFAULT false,
    idem_key        text,
    method          text NOT NULL DEFAULT '',
    request         bytea,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (clinic_id, course_id)
);
CREATE UNIQUE INDEX course_id_idx ON scheduling.course (course_id);
-- One live booking per idempotency key (a failed one may be retried).
CREATE UNIQUE INDEX course_idem_idx ON scheduling.course (idem_key) WHERE status <> 'failed';
CREATE INDEX course_pending_idx ON scheduling.course (created_at) WHERE status = 'pending';
CREATE INDEX course_patient_idx ON scheduling.course (patient_id);

-- ----------------------------------------------------------- appointments
CREATE TABLE scheduling.appointment (
    clinic_id       text NOT NULL,
    appointment_id  text NOT NULL,
    course_id       text NOT NULL,
    patient_id      text NOT NULL,
    practitioner_id text NOT NULL REFERENCES scheduling.practitioner (practitioner_id),
    room_id         text NOT NULL,
    during          tstzrange NOT NULL,
    status          text NOT NULL
                    CONSTRAINT appointment_status_known
                    CHECK (status IN ('pending', 'booked', 'started', 'completed', 'cancelled', 'no_show')),
    session_number  integer NOT NULL CONSTRAINT appointment_number_positive CHECK (session_number >= 1),
    maintenance     boolean NOT NULL DEFAULT false,
    areas           text[] NOT NULL CONSTRAINT appointment_areas_present CHECK (cardinality(areas) >= 1),
    recipe_id       text NOT NULL,
    recipe_version  integer NOT NULL DEFAULT 0,
    improvement_score integer
                    CONSTRAINT appointment_improvement_range CHECK (improvement_score BETWEEN 0 AND 3),
    notes           text,
    started_at      timestamptz,
    completed_at    timestamptz,
    cancelled_at    timestamptz,
    cancelled_by    text CONSTRAINT appointment_cancelled_by CHECK (cancelled_by IN ('patient', 'clinic', 'system')),
    cancel_reason   text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (clinic_id, appointment_id),
    FOREIGN KEY (clinic_id, course_id) REFERENCES scheduling.course (clinic_id, course_id),
    FOREIGN KEY (clinic_id, room_id) REFERENCES scheduling.room (clinic_id, room_id),
    -- A slot is a non-empty half-open range with finite bounds.
    CONSTRAINT appointment_during_shape CHECK (
        NOT isempty(during) AND lower_inc(during) AND NOT upper_inc(during)
        AND NOT lower_inf(during) AND NOT upper_inf(during)),
    CONSTRAINT appointment_completed_has_score CHECK (
        status <> 'completed' OR improvement_score IS NOT NULL),
    -- No double booking: a practitioner (in any clinic), a room, a patient
    -- (in any clinic) is in at most one active appointment at an instant.
    -- Cancelled and no-show appointments free their slot.
    CONSTRAINT appointment_practitioner_free EXCLUDE USING gist
        (practitioner_id WITH =, during WITH &&)
        WHERE (status IN ('pending', 'booked', 'started', 'completed')),
    CONSTRAINT appointment_room_free EXCLUDE USING gist
        (clinic_id WITH =, room_id WITH =, during WITH &&)
        WHERE (status IN ('pending', 'booked', 'started', 'completed')),
    CONSTRAINT appointment_patient_free EXCLUDE USING gist
        (patient_id WITH =, during WITH &&)
        WHERE (status IN ('pending', 'booked', 'started', 'completed'))
);
CREATE UNIQUE INDEX appointment_id_idx ON scheduling.appointment (appointment_id);
CREATE INDEX appointment_course_idx ON scheduling.appointment (course_id, session_number);
CREATE INDEX appointment_clinic_day_idx ON scheduling.appointment USING gist (clinic_id, during);

-- ------------------------------------------------- reference data grants
GRANT USAGE ON SCHEMA scheduling TO meso_screening, meso_inventory, meso_billing, meso_events;
GRANT SELECT ON scheduling.clinic, scheduling.clinic_hours
    TO meso_screening, meso_inventory, meso_billing, meso_events;
