-- 002_events: the replayable event log.
--
-- events.outbox (001) receives events inside the business transactions of
-- every service. The events daemon moves finished transactions' rows from
-- the outbox to events.log, numbering them: global_seq without gaps across
-- all streams, stream_seq without gaps within a stream. The heads live in
-- events.stream_head ('*' is the global head) so numbering never scans the
-- log, and survive pruning of old log rows.
--
-- payload holds the packed meso.v1.Event exactly as the service wrote it
-- (sequence fields unset): the daemon appends the two sequence fields when
-- it publishes or replays (protobuf merges appended fields), so events are
-- never unpacked on the hot path.

CREATE TABLE events.log (
    global_seq  bigint      PRIMARY KEY,
    stream      text        NOT NULL CHECK (stream IN ('session', 'screening', 'stock', 'billing')),
    stream_seq  bigint      NOT NULL CHECK (stream_seq > 0),
    type        text        NOT NULL CHECK (starts_with (type, stream || '.')),
    clinic_id   text,
    occurred_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now (),
    payload     bytea       NOT NULL,
    UNIQUE (stream, stream_seq)
);
CREATE INDEX log_recorded_at_idx ON events.log (recorded_at);

CREATE TABLE events.stream_head (
    stream text   PRIMARY KEY CHECK (stream IN ('*', 'session', 'screening', 'stock', 'billing')),
    seq    bigint NOT NULL DEFAULT 0 CHECK (seq >= 0)
);
INSERT INTO events.stream_head (stream) VALUES ('*'), ('session'), ('screening'), ('stock'), ('billing');

-- The events daemon writes the log and the heads; every service may read
-- them (their own consumers replay through the daemon, but ops and tests
-- may look).
GRANT SELECT, INSERT, DELETE ON events.log TO meso_events;
GRANT SELECT, UPDATE ON events.stream_head TO meso_events;
GRANT SELECT, DELETE ON events.outbox TO meso_events;
GRANT SELECT ON events.log, events.stream_head TO meso_screening, meso_scheduling, meso_inventory, meso_billing;
