-- 032_waitlist_reminders.sql -- the front desk's waitlist with slot
-- offers, and session reminders (issue 16, points 7 and 8).
--
-- front_desk_policy: per clinic, the reminder leads (minutes before a
-- session's local start, in the clinic's wall-clock time) and how long a
-- slot offered from the waitlist is held. A clinic without a row gets
-- 48 h and 2 h, and the daemon's --offer-hold-s.
CREATE TABLE scheduling.front_desk_policy (
    clinic_id       text PRIMARY KEY REFERENCES scheduling.clinic (clinic_id),
    reminder_lead_minutes integer[] NOT NULL DEFAULT '{2880,120}'
                    CONSTRAINT front_desk_leads_count CHECK (cardinality(reminder_lead_minutes) <= 8),
    offer_hold_minutes integer
                    CONSTRAINT front_desk_hold_range CHECK (offer_hold_minutes BETWEEN 1 AND 1440),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- One row per reminder decided: sent (a session.reminder_due in the outbox,
-- written in the same transaction) or superseded (a later lead was due at
-- the same time: the daemon was down, or the session was booked late, and
-- only the nearest reminder goes out). The key holds the session's start,
-- so a rescheduled session gets the reminders of its new time, once each.
CREATE TABLE scheduling.reminder_sent (
    clinic_id       text NOT NULL,
    appointment_id  text NOT NULL,
    lead_minutes    integer NOT NULL,
    starts_at       timestamptz NOT NULL,
    outcome         text NOT NULL CONSTRAINT reminder_outcome_known CHECK (outcome IN ('sent', 'superseded')),
    decided_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (clinic_id, appointment_id, lead_minutes, starts_at)
);

-- A patient waiting for an earlier slot: a window of local dates, an
-- optional practitioner, the areas and recipe of a new session, or the
-- booked session it would move. Served first come, first served (seq).
CREATE TABLE scheduling.waitlist_entry (
    clinic_id       text NOT NULL REFERENCES scheduling.clinic (clinic_id),
    entry_id        text NOT NULL,
    seq             bigserial NOT NULL,
    patient_id      text NOT NULL CONSTRAINT waitlist_patient_present CHECK (length(patient_id) BETWEEN 1 AND 64),
    practitioner_id text,
    from_date       date NOT NULL,
    to_date         date NOT NULL,
    areas           text[] NOT NULL CONSTRAINT waitlist_areas_present CHECK (cardinality(areas) >= 1),
    recipe_id       text NOT NULL DEFAULT '',
    appointment_id  text,
    status          text NOT NULL
                    CONSTRAINT waitlist_status_known CHECK (status IN ('waiting', 'served', 'left')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (clinic_id, entry_id),
    CONSTRAINT waitlist_window CHECK (to_date >= from_date)
);
CREATE UNIQUE INDEX waitlist_entry_id_idx ON scheduling.waitlist_entry (entry_id);
CREATE INDEX waitlist_waiting_idx ON scheduling.waitlist_entry (clinic_id, seq) WHERE status = 'waiting';

-- A freed slot offered to one entry and held for it until expires_at:
-- only that entry's patient may book a practitioner or room into it
-- meanwhile (the trigger below). 'open' until accepted (the patient booked
-- into it), expired (the tick passes it to the next entry) or withdrawn.
CREATE TABLE scheduling.slot_offer (
    clinic_id       text NOT NULL,
    offer_id        text NOT NULL,
    entry_id        text NOT NULL,
    patient_id      text NOT NULL,
    practitioner_id text NOT NULL,
    room_id         text NOT NULL,
    during          tstzrange NOT NULL,
    expires_at      timestamptz NOT NULL,
    freed_appointment_id text NOT NULL,
    status          text NOT NULL
                    CONSTRAINT slot_offer_status_known CHECK (status IN ('open', 'accepted', 'expired', 'withdrawn')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (clinic_id, offer_id),
    FOREIGN KEY (clinic_id, entry_id) REFERENCES scheduling.waitlist_entry (clinic_id, entry_id)
);
CREATE UNIQUE INDEX slot_offer_id_idx ON scheduling.slot_offer (offer_id);
CREATE INDEX slot_offer_open_idx ON scheduling.slot_offer USING gist (clinic_id, during) WHERE status = 'open';
CREATE INDEX slot_offer_expiry_idx ON scheduling.slot_offer (expires_at) WHERE status = 'open';

-- The hold, in the schema like the exclusion constraints: an appointment
-- taking a practitioner or room during an open, unexpired offer of another
-- patient is refused with the exclusion constraints' SQLSTATE (23P01), so
-- every way of booking (BookCourse, BookSession, Reschedule, a course
-- moved) reads it as "slot taken". The offer's own patient taking it
-- accepts the offer and serves the entry.
CREATE FUNCTION scheduling.slot_offer_hold () RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    o record;
BEGIN
    IF NEW.status NOT IN ('pending', 'booked') THEN
        RETURN NEW;
    END IF;
    FOR o IN SELECT * FROM scheduling.slot_offer s
              WHERE s.status = 'open' AND s.expires_at > now() AND s.during && NEW.during
                AND (s.practitioner_id = NEW.practitioner_id
                     OR (s.clinic_id = NEW.clinic_id AND s.room_id = NEW.room_id))
    LOOP
        IF o.patient_id <> NEW.patient_id THEN
            RAISE EXCEPTION 'slot held for a waitlist offer'
                USING ERRCODE = 'exclusion_violation',
                      DETAIL = format('offer %s holds practitioner %s, room %s until %s',
                                      o.offer_id, o.practitioner_id, o.room_id, o.expires_at);
        END IF;
        UPDATE scheduling.slot_offer SET status = 'accepted', updated_at = now()
         WHERE clinic_id = o.clinic_id AND offer_id = o.offer_id;
        UPDATE scheduling.waitlist_entry SET status = 'served', updated_at = now()
         WHERE clinic_id = o.clinic_id AND entry_id = o.entry_id;
    END LOOP;
    RETURN NEW;
END $$;

CREATE TRIGGER appointment_slot_offer_hold
    BEFORE INSERT OR UPDATE OF during, practitioner_id, room_id, status ON scheduling.appointment
    FOR EACH ROW EXECUTE FUNCTION scheduling.slot_offer_hold ();
