-- scale_data.sql -- a generated chain for tests/bench/bench_scale.c, the
-- same script for the small database and the large one:
--
--   psql -v clinics=N -v past=D -v future=F -v idem=K -f scale_data.sql
--
-- N clinics in four time zones, each with 20 practitioners and 8 rooms,
-- open Monday to Saturday 08:00-20:00 (as frontdesk_data.sql), and the
-- weeks from D days before today to F days after: half of the 8 rooms x
-- 12 hourly slots taken, in weekly courses of 10 sessions. Practitioner of
-- room r at hour h: ((r - 1) + 8 (h mod 2)) mod 20 + 1 (never in two
-- rooms at once). Patients: one per (clinic, room, hour), in a course on
-- each weekday of that room and hour (96 patients a clinic, each in
-- several courses at once: a patient is never in two sessions at once,
-- and the screening daemon seals 9,600 patients at its first start on the
-- large chain rather than the 300,000 one patient per course would give).
-- Past sessions: 5% no-show, 5% cancelled, the rest completed (score 2);
-- future ones: 5% cancelled, the rest booked.
--
--   screening: the patients, a screening valid until 200 days ahead and a
--   signed consent (version 1 of the clinic's text) each.
--   inventory: the caffeine lot of each clinic (expiring in 3 years); a
--   reservation per session (held for the booked, consumed for the
--   completed with its consumption line, released otherwise).
--   billing: each completed session invoiced (32500, tax inside at the
--   zone's rate) with its line, its session charge, its ledger charge; paid
--   5 minutes later (payment and ledger payment).
--   events.log: each session's life, numbered as the events daemon does
--   (gapless global and per-stream sequences in time order), each payload
--   a packed meso.v1.Event with its typed payload: session.booked,
--   stock.reserved, session.reminder_due (48 h before), then session.started,
--   session.completed, stock.consumed, billing.invoice_issued,
--   billing.payment_received for a completed one, session.cancelled or
--   session.no_show and stock.released otherwise; plus
--   screening.completed and screening.consent_signed per patient.
--   idempotency: K keys over the four services' tables (4 in 10
--   scheduling, 3 inventory, 2 billing, 1 screening), created in the last
--   29 days (the longest retention the daemons allow is 30).
--
-- Deterministic (setseed), written straight into the schemas as the
-- migrations leave them, with the append-only and foreign-key triggers off
-- while it loads (session_replication_role = replica, as a restore does):
-- the rows are consistent by construction. Needs a superuser.
\timing on
SET session_replication_role = replica;
SET work_mem = '512MB';
SET maintenance_work_mem = '512MB';
SET synchronous_commit = off;
SELECT setseed (0.20);

-- ---------------------------------------------------- protobuf encoding
-- Varint of v (0 <= v < 2^56): up to 8 bytes packed big-endian into an
-- int8 and cut to length (every shift parenthesised: PostgreSQL gives
-- | and << the same precedence). Inlined by the planner (one expression).
CREATE FUNCTION pg_temp.vi (v bigint) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
SELECT substring (int8send (
         (((v & 127) | CASE WHEN v >= 128 THEN 128 ELSE 0 END) << 56)
       | ((((v >> 7) & 127) | CASE WHEN v >= 16384 THEN 128 ELSE 0 END) << 48)
       | ((((v >> 14) & 127) | CASE WHEN v >= 2097152 THEN 128 ELSE 0 END) << 40)
       | ((((v >> 21) & 127) | CASE WHEN v >= 268435456 THEN 128 ELSE 0 END) << 32)
       | ((((v >> 28) & 127) | CASE WHEN v >= 34359738368 THEN 128 ELSE 0 END) << 24)
       | ((((v >> 35) & 127) | CASE WHEN v >= 4398046511104 THEN 128 ELSE 0 END) << 16)
       | ((((v >> 42) & 127) | CASE WHEN v >= 562949953421312 THEN 128 ELSE 0 END) << 8)
       | ((v >> 49) & 127))
       FROM 1 FOR CASE WHEN v < 128 THEN 1 WHEN v < 16384 THEN 2 WHEN v < 2097152 THEN 3
                       WHEN v < 268435456 THEN 4 WHEN v < 34359738368 THEN 5 WHEN v < 4398046511104 THEN 6
                       WHEN v < 562949953421312 THEN 7 ELSE 8 END)
$$;
-- The rest is written so that vi only ever gets constants (folded when
-- the query is planned): per-row values go through cheaper forms. They
-- are STABLE, not IMMUTABLE: they call convert_to and extract, which are
-- stable, and the planner inlines a function only when it is no less
-- volatile than its body (not inlined, each call costs tens of us).
-- A length (< 16384) as a varint.
CREATE FUNCTION pg_temp.ln (n int) RETURNS bytea LANGUAGE sql STABLE AS $$
SELECT CASE WHEN n < 128 THEN set_byte ('\x00'::bytea, 0, n)
            ELSE set_byte (set_byte ('\x0000'::bytea, 0, (n & 127) | 128), 1, n >> 7) END $$;
-- An instant in microseconds since the epoch (2^49 <= v < 2^56: 1987 to
-- 4253) as its 8-byte varint.
CREATE FUNCTION pg_temp.v8 (v bigint) RETURNS bytea LANGUAGE sql STABLE AS $$
SELECT int8send ((((v & 127) | 128) << 56) | ((((v >> 7) & 127) | 128) << 48)
                 | ((((v >> 14) & 127) | 128) << 40) | ((((v >> 21) & 127) | 128) << 32)
                 | ((((v >> 28) & 127) | 128) << 24) | ((((v >> 35) & 127) | 128) << 16)
                 | ((((v >> 42) & 127) | 128) << 8) | ((v >> 49) & 127)) $$;
-- Field f (a constant) as: a small varint (v < 128), an instant, a
-- constant varint, length-delimited bytes, a string.
CREATE FUNCTION pg_temp.p1 (f int, v int) RETURNS bytea LANGUAGE sql STABLE AS $$
SELECT pg_temp.vi (f * 8) || set_byte ('\x00'::bytea, 0, v) $$;
CREATE FUNCTION pg_temp.pt (f int, v bigint) RETURNS bytea LANGUAGE sql STABLE AS $$
SELECT pg_temp.vi (f * 8) || pg_temp.v8 (v) $$;
CREATE FUNCTION pg_temp.pv (f int, v bigint) RETURNS bytea LANGUAGE sql STABLE AS $$
SELECT pg_temp.vi (f * 8) || pg_temp.vi (v) $$;
CREATE FUNCTION pg_temp.pb (f int, b bytea) RETURNS bytea LANGUAGE sql STABLE AS $$
SELECT pg_temp.vi (f * 8 + 2) || pg_temp.ln (length (b)) || b $$;
CREATE FUNCTION pg_temp.ps (f int, s text) RETURNS bytea LANGUAGE sql STABLE AS $$
SELECT pg_temp.vi (f * 8 + 2) || pg_temp.ln (octet_length (s)) || convert_to (s, 'UTF8') $$;
CREATE FUNCTION pg_temp.us (t timestamptz) RETURNS bigint LANGUAGE sql STABLE AS $$
SELECT (extract (epoch FROM t) * 1000000)::bigint $$;

-- ------------------------------------------------------------ the chain
INSERT INTO scheduling.clinic (clinic_id, name, time_zone)
SELECT format ('c%s', lpad (i::text, 3, '0')), format ('Clinic %s', i),
       (ARRAY['Europe/Madrid', 'America/New_York', 'Australia/Sydney', 'Europe/London'])[1 + i % 4]
FROM generate_series (1, :clinics) i;
INSERT INTO scheduling.clinic_hours (clinic_id, isodow, opens, closes)
SELECT clinic_id, d, '08:00', '20:00' FROM scheduling.clinic, generate_series (1, 6) d;
INSERT INTO scheduling.practitioner (practitioner_id, name)
SELECT clinic_id || '-p' || j, 'Practitioner ' || clinic_id || '-' || j
FROM scheduling.clinic, generate_series (1, 20) j;
INSERT INTO scheduling.practitioner_hours (clinic_id, practitioner_id, isodow, starts, ends)
SELECT clinic_id, clinic_id || '-p' || j, d, '08:00', '20:00'
FROM scheduling.clinic, generate_series (1, 20) j, generate_series (1, 6) d;
INSERT INTO scheduling.room (clinic_id, room_id, name)
SELECT clinic_id, 'r' || j, 'Sala ' || j FROM scheduling.clinic, generate_series (1, 8) j;

-- The sessions: every slot of the weeks, half of them taken. Booked 14
-- days ahead, or (a session further ahead than that) some hours before
-- now; cancelled 3 days before, or half-way from its booking to now. info
-- is the packed SessionInfo every session event repeats. (OFFSET 0 keeps
-- each level computed once: flattened, the encoders would repeat the
-- expressions of their arguments.)
CREATE TEMP TABLE s AS
SELECT *, pg_temp.ps (1, appointment_id) || pg_temp.ps (2, course_id) || pg_temp.ps (3, patient_id)
          || pg_temp.ps (4, clinic_id) || pg_temp.ps (5, practitioner_id) || pg_temp.ps (6, 'r' || r)
          || pg_temp.pt (7, starts_us) || pg_temp.pt (8, ends_us)
          || pg_temp.ps (9, to_char (day, 'YYYY-MM-DD') || 'T' || lpad (h::text, 2, '0') || ':00')
          || pg_temp.ps (10, time_zone) || pg_temp.ps (11, 'thighs') || pg_temp.p1 (12, session_number)
          || pg_temp.pv (13, 10) || pg_temp.ps (14, 'lipo') || pg_temp.pv (15, 1) AS info,
       CASE WHEN st = 'cancelled' THEN least (starts - interval '3 days', booked_at + (now () - booked_at) / 2)
       END AS cancel_at
FROM (SELECT *, md5 (course_id || '/' || w)::uuid::text AS appointment_id,
             least (starts - interval '14 days',
                    now () - (1 + (r * 131 + h * 17 + w * 7 + dow) % 1000) * interval '1 hour') AS booked_at,
             pg_temp.us (starts) AS starts_us, pg_temp.us (ends) AS ends_us
      FROM (SELECT c.clinic_id, c.time_zone, r, dow, h, w, day,
                   format ('%s-%s-%s-%s-%s', c.clinic_id, r, dow, h, w / 10) AS course_id,
                   md5 (format ('%s-%s-%s', c.clinic_id, r, h))::uuid::text AS patient_id,
                   c.clinic_id || '-p' || (((r - 1) + 8 * (h % 2)) % 20 + 1) AS practitioner_id,
                   w % 10 + 1 AS session_number,
                   (day + make_time (h, 0, 0)) AT TIME ZONE c.time_zone AS starts,
                   (day + make_time (h + 1, 0, 0)) AT TIME ZONE c.time_zone AS ends,
                   CASE WHEN day < current_date THEN
                          CASE WHEN x < 0.05 THEN 'no_show' WHEN x < 0.10 THEN 'cancelled' ELSE 'completed' END
                        ELSE CASE WHEN x < 0.05 THEN 'cancelled' ELSE 'booked' END END AS st
            FROM (SELECT c.*, r, dow, h, w,
                         date_trunc ('week', current_date - :past)::date + w * 7 + dow - 1 AS day,
                         random () AS x, random () AS taken
                  FROM scheduling.clinic c, generate_series (1, 8) r,
                       generate_series (0, (:past + :future) / 7) w, generate_series (1, 6) dow,
                       generate_series (8, 19) h) c
            WHERE taken < 0.5 AND day <= current_date + :future OFFSET 0) k OFFSET 0) t;

INSERT INTO scheduling.course (clinic_id, course_id, patient_id, grade, areas, recipe_id, sessions, status)
SELECT DISTINCT clinic_id, course_id, patient_id, 2, '{thighs}'::text[], 'lipo', 10, 'booked' FROM s;

-- The appointments' GiST indexes (the three exclusion constraints and the
-- clinic-day index) are dropped for the load and made again after from
-- their own definitions, read from the catalogue: a GiST index over text
-- costs about a millisecond a row inserted one at a time on this machine,
-- built at once a fraction of that.
CREATE TEMP TABLE appt_gist AS
SELECT 'ALTER TABLE scheduling.appointment ADD CONSTRAINT ' || quote_ident (conname) || ' '
       || pg_get_constraintdef (oid) AS make, 'ALTER TABLE scheduling.appointment DROP CONSTRAINT '
       || quote_ident (conname) AS drop
FROM pg_constraint WHERE conrelid = 'scheduling.appointment'::regclass AND contype = 'x'
UNION ALL
SELECT pg_get_indexdef (i.indexrelid), 'DROP INDEX scheduling.' || quote_ident (c.relname)
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
WHERE i.indrelid = 'scheduling.appointment'::regclass AND am.amname = 'gist'
  AND NOT EXISTS (SELECT 1 FROM pg_constraint x WHERE x.conindid = i.indexrelid);
DO $$ DECLARE d text; BEGIN FOR d IN SELECT drop FROM appt_gist LOOP EXECUTE d; END LOOP; END $$;
INSERT INTO scheduling.appointment (clinic_id, appointment_id, course_id, patient_id, practitioner_id, room_id,
    during, status, session_number, areas, recipe_id, recipe_version, improvement_score, cancelled_at,
    cancelled_by, completed_at, started_at, created_at, updated_at)
SELECT clinic_id, appointment_id, course_id, patient_id, practitioner_id, 'r' || r, tstzrange (starts, ends), st, session_number, '{thighs}', 'lipo', 1,
       CASE WHEN st = 'completed' THEN 2 END,
       cancel_at, CASE WHEN st = 'cancelled' THEN 'patient' END,
       CASE WHEN st = 'completed' THEN ends END, CASE WHEN st = 'completed' THEN starts END,
       booked_at, coalesce (cancel_at, booked_at)
FROM s ORDER BY clinic_id, r, h, starts;
DO $$ DECLARE d text; BEGIN FOR d IN SELECT make FROM appt_gist LOOP EXECUTE d; END LOOP; END $$;

-- The reminders already decided (the default leads, 48 h and 2 h): the
-- sessions still to come that one is due for. The 48 h one went out
-- (session.reminder_due below, for every session); the 2 h one is marked
-- superseded.
INSERT INTO scheduling.reminder_sent (clinic_id, appointment_id, lead_minutes, starts_at, outcome, decided_at)
SELECT clinic_id, appointment_id, lead, starts, CASE lead WHEN 2880 THEN 'sent' ELSE 'superseded' END,
       starts - lead * interval '1 minute'
FROM s, unnest (ARRAY[2880, 120]) lead
WHERE st = 'booked' AND starts > now () AND starts - lead * interval '1 minute' < now ();

-- ------------------------------------------------------------ screening
CREATE TEMP TABLE pt AS
SELECT clinic_id, patient_id, row_number () OVER (ORDER BY patient_id) AS n
FROM (SELECT DISTINCT clinic_id, patient_id FROM s) d;
INSERT INTO screening.patients (id, given_name, family_name, birth_date, sex, phone, email, home_clinic_id,
                                created_at)
SELECT patient_id::uuid, (ARRAY['Ana', 'María', 'José', 'Lucía', 'Inés', 'Óscar', 'Raúl', 'Sofía'])[1 + n % 8],
       (ARRAY['López', 'García', 'Martínez', 'Pérez', 'Núñez', 'Muñoz', 'Díaz', 'Ruiz'])[1 + (n / 8) % 8],
       date '1950-01-01' + (n * 7919 % 20000)::int, 1, '+34 6' || lpad ((n * 104729 % 100000000)::text, 8, '0'),
       'patient.' || n || '@example.com', clinic_id, now () - (:past + 14) * interval '1 day'
FROM pt;
INSERT INTO screening.screenings (patient_id, clinic_id, screened_at, screened_on, pregnancy, breastfeeding,
    diabetes, active_infection, septicaemia, immunocompromised, liver_failure, kidney_failure,
    coagulation_disorder, menstrual_disorder, cancer, heart_arrhythmia, blood_clots, height_mm, weight_g,
    verdict, valid_until, max_age, bmi_obesity_x10, validity_days, id, record)
SELECT patient_id::uuid, clinic_id, now () - interval '10 days', current_date - 10, false, false, false, false,
       false, false, false, false, false, false, false, false, false, 1650, 62000, 'eligible',
       current_date + 200, 70, 300, 210, md5 ('scr' || patient_id)::uuid,
       -- The packed meso.v1.Screening: ids, when, the answers (13 times
       -- ANSWER_NO, height 1650 mm, weight 62000 g, thighs grade 2),
       -- eligible, valid until.
       pg_temp.ps (1, md5 ('scr' || patient_id)::uuid::text) || pg_temp.ps (2, patient_id)
       || pg_temp.ps (3, clinic_id) || pg_temp.pt (4, pg_temp.us (now () - interval '10 days'))
       || pg_temp.ps (5, to_char (current_date - 10, 'YYYY-MM-DD'))
       || pg_temp.pb (6, decode ('0801100118012001280130013801400148015001580160016801'
                                 || 'b801f20cc001b0e403', 'hex')
                         || pg_temp.pb (25, pg_temp.ps (1, 'thighs') || pg_temp.pv (2, 2)))
       || pg_temp.pv (7, 1) || pg_temp.ps (9, to_char (current_date + 200, 'YYYY-MM-DD'))
FROM pt;
INSERT INTO screening.consent_texts (clinic_id, treatment, version, body, sha256)
SELECT clinic_id, 'body_mesotherapy', 1, 'I consent (' || clinic_id || ').',
       encode (sha256 (convert_to ('I consent (' || clinic_id || ').', 'UTF8')), 'hex')
FROM scheduling.clinic;
INSERT INTO screening.consent_signatures (clinic_id, signature_id, patient_id, treatment, version, text_sha256,
                                          witness, signed_at)
SELECT pt.clinic_id, md5 ('sig' || pt.patient_id)::uuid, pt.patient_id::uuid, 'body_mesotherapy', 1, t.sha256,
       'Bench', now () - (:past + 14) * interval '1 day'
FROM pt JOIN screening.consent_texts t ON t.clinic_id = pt.clinic_id AND t.treatment = 'body_mesotherapy';

-- ------------------------------------------------------------ inventory
INSERT INTO inventory.ingredient (code, name, unit) VALUES ('caffeine', 'Caffeine', 'mg') ON CONFLICT DO NOTHING;
INSERT INTO inventory.lot (clinic_id, lot_id, ingredient_code, lot_number, supplier, expiry_date, on_hand_milli,
                           reserved_milli, received_at, unit_cost_cents)
SELECT c.clinic_id, 'lot-' || c.clinic_id, 'caffeine', 'GEN-1', 'Bench Pharma', current_date + 1100,
       1000000000000, coalesce (h.n, 0) * 1000, now () - (:past + 14) * interval '1 day', 2
FROM scheduling.clinic c
LEFT JOIN (SELECT clinic_id, count (*) AS n FROM s WHERE st = 'booked' GROUP BY 1) h USING (clinic_id);
INSERT INTO inventory.reservation (clinic_id, appointment_id, patient_id, session_date, recipe_id, recipe_version,
                                   areas, status, created_at, closed_at, close_reason)
SELECT clinic_id, appointment_id, patient_id, day, 'lipo', 1, '{thighs}',
       CASE st WHEN 'booked' THEN 'held' WHEN 'completed' THEN 'consumed' ELSE 'released' END,
       booked_at, CASE WHEN st = 'cancelled' THEN cancel_at WHEN st <> 'booked' THEN ends END,
       CASE WHEN st IN ('cancelled', 'no_show') THEN st END
FROM s;
INSERT INTO inventory.reservation_line (clinic_id, appointment_id, lot_id, ingredient_code, amount_milli)
SELECT clinic_id, appointment_id, 'lot-' || clinic_id, 'caffeine', 1000 FROM s WHERE st = 'booked';
INSERT INTO inventory.consumption (clinic_id, appointment_id, lot_id, ingredient_code, amount_milli, consumed_at)
SELECT clinic_id, appointment_id, 'lot-' || clinic_id, 'caffeine', 1000, ends FROM s WHERE st = 'completed';

-- -------------------------------------------------------------- billing
INSERT INTO billing.clinic_settings (clinic_id, currency, no_show_fee_cents, late_cancel_fee_cents)
SELECT clinic_id, CASE time_zone WHEN 'America/New_York' THEN 'USD' WHEN 'Australia/Sydney' THEN 'AUD'
                                 WHEN 'Europe/London' THEN 'GBP' ELSE 'EUR' END, 5000, 3000
FROM scheduling.clinic;
INSERT INTO billing.price (clinic_id, effective_from, areas, price_cents)
SELECT clinic_id, current_date - :past - 14, a, 30000 + a * 1500 FROM scheduling.clinic, generate_series (1, 12) a;
INSERT INTO billing.tax_rate (clinic_id, effective_from, category, rate_ppm)
SELECT clinic_id, current_date - :past - 14, 'standard',
       CASE time_zone WHEN 'America/New_York' THEN 0 WHEN 'Australia/Sydney' THEN 100000 ELSE 200000 END
FROM scheduling.clinic;
INSERT INTO billing.patient (patient_id, source, first_seen)
SELECT patient_id, 'scheduling', now () - (:past + 14) * interval '1 day' FROM pt;
CREATE TEMP TABLE b AS
SELECT s.clinic_id, s.appointment_id, s.patient_id, s.ends AS at, s.day, st.currency, tr.rate_ppm AS rate,
       round (32500::numeric * tr.rate_ppm / (1000000 + tr.rate_ppm))::bigint AS tax
FROM s JOIN billing.clinic_settings st USING (clinic_id) JOIN billing.tax_rate tr USING (clinic_id)
WHERE s.st = 'completed';
INSERT INTO billing.invoice (clinic_id, invoice_id, patient_id, currency, total_cents, kind, issued_at, tax_cents)
SELECT clinic_id, 'is-' || appointment_id, patient_id, currency, 32500, 'session', at, tax FROM b ORDER BY at;
INSERT INTO billing.invoice_line (clinic_id, invoice_id, line_no, description, amount_cents, appointment_id,
                                  areas, tax_cents, tax_rate_ppm)
SELECT clinic_id, 'is-' || appointment_id, 1, 'Session, 1 area', 32500, appointment_id, 1, tax, rate FROM b;
INSERT INTO billing.payment (clinic_id, payment_id, patient_id, invoice_id, amount_cents, currency, method,
                             provider, idempotency_key, received_at)
SELECT clinic_id, 'ps-' || appointment_id, patient_id, 'is-' || appointment_id, 32500, currency, 'card', 'bench',
       'ps-' || appointment_id, at + interval '5 minutes'
FROM b ORDER BY at;
INSERT INTO billing.session_charge (clinic_id, appointment_id, patient_id, kind, how, areas, session_date,
                                    invoice_id, amount_cents, event_id, charged_at)
SELECT clinic_id, appointment_id, patient_id, 'session', 'invoiced', 1, day, 'is-' || appointment_id, 32500,
       md5 (appointment_id || 'session.completed')::uuid::text, at
FROM b;
INSERT INTO billing.ledger (clinic_id, patient_id, kind, amount_cents, currency, invoice_id, payment_id,
                            appointment_id, description, at, tax_cents)
SELECT clinic_id, patient_id, kind, amount, currency, invoice_id, payment_id, appointment_id, description, at, tax
FROM (SELECT clinic_id, patient_id, 'charge' AS kind, 32500 AS amount, currency, 'is-' || appointment_id AS invoice_id,
             NULL AS payment_id, appointment_id, 'Session, 1 area' AS description, at, tax FROM b
      UNION ALL
      SELECT clinic_id, patient_id, 'payment', -32500, currency, NULL, 'ps-' || appointment_id, NULL, 'Payment',
             at + interval '5 minutes', 0 FROM b) m
ORDER BY at;
-- The ledger's totals (migration 043): its trigger is off while loading.
INSERT INTO billing.account_total (clinic_id, patient_id, kind, amount_cents, tax_cents, entries)
SELECT clinic_id, patient_id, kind, sum (amount_cents), sum (tax_cents), count (*)
FROM billing.ledger GROUP BY clinic_id, patient_id, kind;

-- ------------------------------------------------------------ the events
-- IngredientAmount {ingredient_code = 1, unit = 2 (mg: 1), amount_milli = 3, lot_id = 4}.
-- tag: the Event's payload field key (constant per branch, so folded).
CREATE TEMP TABLE ev (stream text, type text, clinic_id text, tz text, at timestamptz, tag bytea, body bytea);
INSERT INTO ev
SELECT 'session', 'session.booked', clinic_id, time_zone, booked_at, pg_temp.vi (20 * 8 + 2), pg_temp.pb (1, info) FROM s
UNION ALL
SELECT 'stock', 'stock.reserved', clinic_id, time_zone, booked_at, pg_temp.vi (61 * 8 + 2),
       pg_temp.ps (1, appointment_id) || pg_temp.ps (2, patient_id) || pg_temp.ps (3, to_char (day, 'YYYY-MM-DD'))
       || pg_temp.pb (4, pg_temp.ps (1, 'caffeine') || pg_temp.pv (2, 1) || pg_temp.pv (3, 1000) || pg_temp.ps (4, 'lot-' || clinic_id))
FROM s
UNION ALL
SELECT 'session', 'session.reminder_due', clinic_id, time_zone, starts - interval '2 days', pg_temp.vi (30 * 8 + 2),
       pg_temp.pb (1, info) || pg_temp.pv (2, 2880)
FROM s WHERE st IN ('booked', 'completed', 'no_show') AND starts - interval '2 days' < now ()
UNION ALL
SELECT 'session', 'session.started', clinic_id, time_zone, starts, pg_temp.vi (23 * 8 + 2),
       pg_temp.pb (1, info) || pg_temp.pt (2, starts_us) FROM s WHERE st = 'completed'
UNION ALL
SELECT 'session', 'session.completed', clinic_id, time_zone, ends, pg_temp.vi (24 * 8 + 2),
       pg_temp.pb (1, info) || pg_temp.pt (2, ends_us) || pg_temp.pv (3, 2) FROM s WHERE st = 'completed'
UNION ALL
SELECT 'stock', 'stock.consumed', clinic_id, time_zone, ends, pg_temp.vi (62 * 8 + 2),
       pg_temp.ps (1, appointment_id) || pg_temp.ps (2, patient_id)
       || pg_temp.pb (3, pg_temp.ps (1, 'caffeine') || pg_temp.pv (2, 1) || pg_temp.pv (3, 1000) || pg_temp.ps (4, 'lot-' || clinic_id))
FROM s WHERE st = 'completed'
UNION ALL
SELECT 'session', 'session.cancelled', clinic_id, time_zone, cancel_at, pg_temp.vi (22 * 8 + 2),
       pg_temp.pb (1, info) || pg_temp.pv (2, 1) || pg_temp.pv (4, 72) FROM s WHERE st = 'cancelled'
UNION ALL
SELECT 'session', 'session.no_show', clinic_id, time_zone, ends, pg_temp.vi (25 * 8 + 2), pg_temp.pb (1, info) FROM s WHERE st = 'no_show'
UNION ALL
SELECT 'stock', 'stock.released', clinic_id, time_zone,
       CASE WHEN st = 'cancelled' THEN cancel_at ELSE ends END, pg_temp.vi (66 * 8 + 2),
       pg_temp.ps (1, appointment_id) || pg_temp.ps (3, st) FROM s WHERE st IN ('cancelled', 'no_show');
INSERT INTO ev
SELECT 'billing', 'billing.invoice_issued', b.clinic_id, c.time_zone, b.at, pg_temp.vi (80 * 8 + 2),
       pg_temp.ps (1, 'is-' || appointment_id) || pg_temp.ps (2, patient_id) || pg_temp.pv (3, 32500)
       || pg_temp.ps (4, currency) || pg_temp.ps (5, appointment_id)
FROM b JOIN scheduling.clinic c USING (clinic_id)
UNION ALL
SELECT 'billing', 'billing.payment_received', b.clinic_id, c.time_zone, b.at + interval '5 minutes', pg_temp.vi (81 * 8 + 2),
       pg_temp.ps (1, 'ps-' || appointment_id) || pg_temp.ps (2, patient_id) || pg_temp.ps (3, 'is-' || appointment_id)
       || pg_temp.pv (4, 32500) || pg_temp.ps (5, currency) || pg_temp.pv (6, 1)
FROM b JOIN scheduling.clinic c USING (clinic_id)
UNION ALL
SELECT 'screening', 'screening.completed', pt.clinic_id, c.time_zone, now () - interval '10 days', pg_temp.vi (40 * 8 + 2),
       pg_temp.ps (1, pt.patient_id) || pg_temp.ps (2, md5 ('scr' || pt.patient_id)::uuid::text) || pg_temp.pv (3, 1)
       || pg_temp.pv (5, pg_temp.us (now () - interval '10 days'))
       || pg_temp.ps (6, to_char (current_date + 200, 'YYYY-MM-DD'))
FROM pt JOIN scheduling.clinic c USING (clinic_id)
UNION ALL
SELECT 'screening', 'screening.consent_signed', pt.clinic_id, c.time_zone, now () - (:past + 14) * interval '1 day', pg_temp.vi (42 * 8 + 2),
       pg_temp.ps (1, pt.patient_id) || pg_temp.ps (2, md5 ('sig' || pt.patient_id)::uuid::text)
       || pg_temp.ps (3, 'body_mesotherapy') || pg_temp.pv (4, 1) || pg_temp.ps (6, 'Bench')
FROM pt JOIN scheduling.clinic c USING (clinic_id);

-- Numbered in time order, as the events daemon would have: gapless global
-- and per-stream sequences; the Event packed around the typed payload.
INSERT INTO events.log (global_seq, stream, stream_seq, type, clinic_id, occurred_at, recorded_at, payload)
SELECT row_number () OVER (ORDER BY at, tag, body), stream,
       row_number () OVER (PARTITION BY stream ORDER BY at, tag, body), type, clinic_id, at, at,
       pg_temp.ps (1, md5 (body || convert_to (type, 'UTF8'))::uuid::text) || pg_temp.ps (2, type)
       || pg_temp.ps (3, clinic_id) || pg_temp.pt (4, at_us) || pg_temp.ps (5, stream)
       || pg_temp.ps (8, tz) || tag || pg_temp.ln (length (body)) || body
FROM (SELECT *, pg_temp.us (at) AS at_us FROM ev OFFSET 0) e ORDER BY 1;
UPDATE events.stream_head h SET seq = coalesce ((SELECT max (stream_seq) FROM events.log l WHERE l.stream = h.stream),
                                                0) WHERE h.stream <> '*';
UPDATE events.stream_head SET seq = (SELECT coalesce (max (global_seq), 0) FROM events.log) WHERE stream = '*';
DROP TABLE ev;

-- ------------------------------------------------------- idempotency keys
-- The stored reply is an opaque packed envelope: 48 bytes of it here.
INSERT INTO scheduling.idempotency (key, method, request_hash, reply, created_at)
SELECT 'gen-sch-' || i, 'scheduling.BookSession', sha256 (int8send (i)), decode (repeat ('08', 48), 'hex'),
       now () - (i % 2505600) * interval '1 second'
FROM generate_series (1, (:idem * 4 / 10)::bigint) i;
INSERT INTO inventory.idempotency (key, method, request_hash, reply, created_at)
SELECT 'gen-inv-' || i, 'inventory.Reserve', sha256 (int8send (i)), decode (repeat ('08', 48), 'hex'),
       now () - (i % 2505600) * interval '1 second'
FROM generate_series (1, (:idem * 3 / 10)::bigint) i;
INSERT INTO billing.idempotency (key, method, request_hash, reply, created_at)
SELECT 'gen-bil-' || i, 'billing.RecordPayment', sha256 (int8send (i)), decode (repeat ('08', 48), 'hex'),
       now () - (i % 2505600) * interval '1 second'
FROM generate_series (1, (:idem * 2 / 10)::bigint) i;
INSERT INTO screening.idempotency (key, method, request_hash, reply, created_at)
SELECT 'gen-scr-' || i, 'screening.RecordScreening', sha256 (int8send (i)), decode (repeat ('08', 48), 'hex'),
       now () - (i % 2505600) * interval '1 second'
FROM generate_series (1, (:idem / 10)::bigint) i;

RESET session_replication_role;
-- As after a restore: every table vacuumed (visibility maps set, so
-- index-only scans need no heap reads) and analyzed. Without it
-- autovacuum works through the 20 million events and the keys while the
-- benchmark measures.
VACUUM (ANALYZE);
