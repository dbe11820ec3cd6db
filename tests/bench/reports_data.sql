-- reports_data.sql -- a generated chain for tests/bench/bench_reports.c:
-- 100 clinics in four time zones, 2 years of sessions (the 600 days before
-- today and the 130 after), and 2 years of stock lots and their ledger.
-- Deterministic (setseed), written straight into the schemas as the
-- migrations leave them (the daemons refuse to book the past).
--
--   scheduling: per clinic 5 practitioners (Monday to Friday 09:00-17:00,
--   about 10 days off each) and 5 rooms; 3 one-hour slots a day per
--   practitioner, 80% of them taken, grouped into weekly courses of 10
--   sessions (one patient each): about 620,000 sessions and 77,000
--   courses. Past sessions: 6% no-show, 4% cancelled late, 6% cancelled
--   with notice, the rest completed (10% without a recorded outcome).
--   Future ones: 8% cancelled, the rest booked.
--   inventory: per clinic 5 ingredients, a lot of each every 14 days
--   (10 g; 1 lot in 10 without a unit cost), 40 consumptions of 200 mg
--   each after receipt, the rest discarded when the lot expired (a year
--   after receipt), an adjustment on 1 lot in 7: about 26,000 lots and
--   1.1 million movements.
SELECT setseed (0.42);

INSERT INTO scheduling.clinic (clinic_id, name, time_zone)
SELECT format ('c%s', lpad (i::text, 3, '0')), format ('Clinic %s', i),
       (ARRAY['Europe/Paris', 'America/New_York', 'Australia/Sydney', 'Europe/London'])[1 + i % 4]
FROM generate_series (1, 100) i;
INSERT INTO scheduling.clinic_hours (clinic_id, isodow, opens, closes)
SELECT clinic_id, d, '08:00', '20:00' FROM scheduling.clinic, generate_series (1, 6) d;
INSERT INTO scheduling.practitioner (practitioner_id, name)
SELECT clinic_id || '-p' || j, 'Dr ' || clinic_id || '-' || j FROM scheduling.clinic, generate_series (1, 5) j;
INSERT INTO scheduling.practitioner_hours (clinic_id, practitioner_id, isodow, starts, ends)
SELECT clinic_id, clinic_id || '-p' || j, d, '09:00', '17:00'
FROM scheduling.clinic, generate_series (1, 5) j, generate_series (1, 5) d;
INSERT INTO scheduling.practitioner_day_off (practitioner_id, day)
SELECT DISTINCT clinic_id || '-p' || j, current_date - 600 + (random () * 730)::int
FROM scheduling.clinic, generate_series (1, 5) j, generate_series (1, 10) k;
INSERT INTO scheduling.room (clinic_id, room_id, name)
SELECT clinic_id, 'r' || j, 'Room ' || j FROM scheduling.clinic, generate_series (1, 5) j;

-- Slots: practitioner j, week w (0..103 from the Monday 600 days ago),
-- weekday 1..5, hour; 80% taken.
CREATE TEMP TABLE s AS
SELECT c.clinic_id, c.time_zone, j, w, dow, h,
       date_trunc ('week', current_date - 600)::date + w * 7 + dow - 1 AS day,
       format ('%s-%s-%s-%s-%s', c.clinic_id, j, dow, h, w / 10) AS course_id,
       w % 10 + 1 AS session_number, random () AS r, random () AS r2
FROM scheduling.clinic c, generate_series (1, 5) j, generate_series (0, 103) w,
     generate_series (1, 5) dow, unnest (ARRAY[9, 11, 14]) h
WHERE random () < 0.8;

INSERT INTO scheduling.course (clinic_id, course_id, patient_id, grade, areas, recipe_id, sessions, status,
                               non_responder)
SELECT clinic_id, course_id, 'pt-' || course_id,
       CASE WHEN x < 0.1 THEN 1 WHEN x < 0.8 THEN 2 ELSE 3 END, '{thighs}', 'lipo', 10, 'booked', x > 0.95
FROM (SELECT clinic_id, course_id, random () AS x FROM (SELECT DISTINCT clinic_id, course_id FROM s) d) k;

INSERT INTO scheduling.appointment (clinic_id, appointment_id, course_id, patient_id, practitioner_id, room_id,
    during, status, session_number, areas, recipe_id, improvement_score, cancelled_at, cancelled_by,
    cancelled_late, completed_at)
SELECT clinic_id, course_id || '-' || session_number, course_id, 'pt-' || course_id, clinic_id || '-p' || j,
       'r' || j,
       tstzrange ((day + make_time (h, 0, 0)) AT TIME ZONE time_zone,
                  (day + make_time (h + 1, 0, 0)) AT TIME ZONE time_zone),
       st, session_number, '{thighs}', 'lipo',
       CASE WHEN st = 'completed' AND r2 >= 0.1 THEN (r2 * 4)::int % 4 END,
       CASE WHEN st = 'cancelled' THEN (day + make_time (h, 0, 0)) AT TIME ZONE time_zone
                 - CASE WHEN r < 0.10 AND day < current_date THEN interval '2 hours' ELSE interval '3 days' END END,
       CASE WHEN st = 'cancelled' THEN 'patient' END,
       st = 'cancelled' AND r < 0.10 AND day < current_date,
       CASE WHEN st = 'completed' THEN (day + make_time (h + 1, 0, 0)) AT TIME ZONE time_zone END
FROM (SELECT s.*, CASE WHEN day < current_date THEN
                         CASE WHEN r < 0.06 THEN 'no_show' WHEN r < 0.16 THEN 'cancelled' ELSE 'completed' END
                       ELSE CASE WHEN r < 0.08 THEN 'cancelled' ELSE 'booked' END END AS st
      FROM s) x;

-- Inventory.
INSERT INTO inventory.ingredient (code, name, unit)
SELECT code, code, 'mg' FROM unnest (ARRAY['caffeine', 'l_carnitine', 'artichoke', 'hyaluronic_acid',
                                           'phosphatidylcholine']) code
ON CONFLICT DO NOTHING;

CREATE TEMP TABLE l AS
SELECT c.clinic_id, g.code, n, format ('%s-%s-%s', c.clinic_id, g.code, n) AS lot_id,
       (current_date - 600 + n * 14)::timestamp AT TIME ZONE c.time_zone AS received_at,
       current_date - 600 + n * 14 + 365 AS expiry,
       CASE WHEN (n + g.k) % 10 = 0 THEN NULL ELSE 1 + (n * 7 + g.k) % 9 END AS cost,
       (n + g.k) % 7 = 0 AS adjusted
FROM scheduling.clinic c,
     (SELECT code, k FROM unnest (ARRAY['caffeine', 'l_carnitine', 'artichoke', 'hyaluronic_acid',
                                        'phosphatidylcholine']) WITH ORDINALITY AS t (code, k)) g,
     generate_series (0, 51) n;

CREATE TEMP TABLE mv AS
SELECT clinic_id, lot_id, 'receive'::text AS kind, 10000000::bigint AS delta_milli, received_at AS at FROM l
UNION ALL
SELECT clinic_id, lot_id, 'consume', -200000, received_at + i * interval '7 hours'
FROM l, generate_series (1, 40) i WHERE received_at + i * interval '7 hours' < now ()
UNION ALL
SELECT clinic_id, lot_id, 'adjust', -1500, received_at + interval '2 days' FROM l WHERE adjusted
UNION ALL
SELECT clinic_id, lot_id, 'discard', -(10000000 - 40 * 200000 - CASE WHEN adjusted THEN 1500 ELSE 0 END),
       expiry::timestamp AT TIME ZONE 'UTC'
FROM l WHERE expiry < current_date;

INSERT INTO inventory.lot (clinic_id, lot_id, ingredient_code, lot_number, supplier, expiry_date, on_hand_milli,
                           reserved_milli, received_at, unit_cost_cents)
SELECT l.clinic_id, l.lot_id, l.code, 'LOT-' || l.n, 'Bench Pharma', l.expiry, m.on_hand,
       CASE WHEN l.expiry >= current_date THEN least (m.on_hand, 100000) ELSE 0 END, l.received_at, l.cost
FROM l JOIN (SELECT lot_id, sum (delta_milli) AS on_hand FROM mv GROUP BY lot_id) m USING (lot_id);

INSERT INTO inventory.movement (clinic_id, lot_id, kind, delta_milli, at)
SELECT clinic_id, lot_id, kind, delta_milli, at FROM mv ORDER BY at;

ANALYZE;
