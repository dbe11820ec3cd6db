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
--   billing: per clinic a currency, no-show and late-cancel fees, two
--   price lists (one a year), a tax rate (0, 10% or 20% by zone). One
--   course in 5 is prepaid by a package of 10 sessions (3500.00) sold the
--   day before its first session and drawn by each completed session; a
--   package not used up expires a year after its sale. Every other
--   completed session is invoiced on completion (gross, tax inside), with
--   its ledger charge; 9 invoices in 10 are paid 5 minutes later and 1
--   payment in 50 is partly refunded (50.00) 3 days after.
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

-- Billing.
INSERT INTO billing.clinic_settings (clinic_id, currency, no_show_fee_cents, late_cancel_fee_cents)
SELECT clinic_id, CASE time_zone WHEN 'America/New_York' THEN 'USD' WHEN 'Australia/Sydney' THEN 'AUD'
                                 WHEN 'Europe/London' THEN 'GBP' ELSE 'EUR' END, 5000, 3000
FROM scheduling.clinic;
INSERT INTO billing.price (clinic_id, effective_from, areas, price_cents)
SELECT clinic_id, current_date - 600 + y * 365, a, 30000 + a * 1500 + y * 1000
FROM scheduling.clinic, generate_series (1, 12) a, generate_series (0, 1) y;
INSERT INTO billing.tax_rate (clinic_id, effective_from, category, rate_ppm)
SELECT clinic_id, current_date - 600, 'standard',
       CASE time_zone WHEN 'America/New_York' THEN 0 WHEN 'Australia/Sydney' THEN 100000 ELSE 200000 END
FROM scheduling.clinic;
INSERT INTO billing.patient (patient_id, source) SELECT patient_id, 'bench' FROM scheduling.course;

CREATE TEMP TABLE pk AS
SELECT a.clinic_id, a.course_id, a.patient_id, 'pk-' || a.course_id AS package_id, st.currency,
       min (lower (a.during)) - interval '1 day' AS sold_at,
       count (*) FILTER (WHERE a.status = 'completed')::int AS used,
       round (350000.0 * max (tr.rate_ppm) / (1000000 + max (tr.rate_ppm)))::bigint AS tax
FROM scheduling.appointment a JOIN billing.clinic_settings st USING (clinic_id)
JOIN billing.tax_rate tr USING (clinic_id)
WHERE abs (hashtext (a.course_id)) % 5 = 0
GROUP BY 1, 2, 3, 4, 5;

CREATE TEMP TABLE b AS
SELECT a.clinic_id, a.appointment_id, a.course_id, a.patient_id, a.completed_at AS at, st.currency,
       (lower (a.during) AT TIME ZONE c.time_zone)::date AS day,
       CASE WHEN (lower (a.during) AT TIME ZONE c.time_zone)::date < current_date - 235
            THEN 31500 ELSE 32500 END AS gross,
       tr.rate_ppm AS rate, pk.package_id, pk.tax AS pkg_tax,
       row_number () OVER (PARTITION BY a.course_id ORDER BY a.session_number)::int AS use_no,
       random () AS r
FROM scheduling.appointment a JOIN scheduling.clinic c USING (clinic_id)
JOIN billing.clinic_settings st USING (clinic_id) JOIN billing.tax_rate tr USING (clinic_id)
LEFT JOIN pk USING (clinic_id, course_id)
WHERE a.status = 'completed';

-- Packages: sold (an invoice, its line, the ledger), paid, drawn.
INSERT INTO billing.invoice (clinic_id, invoice_id, patient_id, currency, total_cents, kind, package_id,
                             issued_at, tax_cents)
SELECT clinic_id, 'ip-' || course_id, patient_id, currency, 350000, 'package', package_id, sold_at, tax FROM pk;
INSERT INTO billing.invoice_line (clinic_id, invoice_id, line_no, description, amount_cents, tax_cents,
                                  tax_rate_ppm)
SELECT clinic_id, 'ip-' || course_id, 1, 'Package of 10 sessions', 350000, tax, 0 FROM pk;
INSERT INTO billing.package (clinic_id, package_id, patient_id, sessions_total, sessions_used, price_cents,
                             currency, invoice_id, sold_at, expires_on, state, closed_at, tax_cents, time_zone)
SELECT pk.clinic_id, package_id, patient_id, 10, used, 350000, currency, 'ip-' || course_id, sold_at,
       (sold_at + interval '365 days')::date,
       CASE WHEN used < 10 AND sold_at + interval '365 days' < now () THEN 'expired' ELSE 'active' END,
       CASE WHEN used < 10 AND sold_at + interval '365 days' < now () THEN sold_at + interval '365 days' END,
       tax, c.time_zone
FROM pk JOIN scheduling.clinic c USING (clinic_id);
INSERT INTO billing.payment (clinic_id, payment_id, patient_id, invoice_id, amount_cents, currency, method,
                             provider, idempotency_key, received_at)
SELECT clinic_id, 'pp-' || course_id, patient_id, 'ip-' || course_id, 350000, currency, 'card', 'bench',
       'pp-' || course_id, sold_at FROM pk;
INSERT INTO billing.package_use (package_clinic_id, package_id, use_no, clinic_id, appointment_id, patient_id,
                                 gross_cents, tax_cents, used_at)
SELECT clinic_id, package_id, use_no, clinic_id, appointment_id, patient_id, 35000, pkg_tax / 10, at
FROM b WHERE package_id IS NOT NULL;
-- Sessions invoiced, 9 in 10 paid, 1 payment in 50 partly refunded.
INSERT INTO billing.invoice (clinic_id, invoice_id, patient_id, currency, total_cents, kind, issued_at, tax_cents)
SELECT clinic_id, 'is-' || appointment_id, patient_id, currency, gross, 'session', at,
       round (gross::numeric * rate / (1000000 + rate))
FROM b WHERE package_id IS NULL;
INSERT INTO billing.invoice_line (clinic_id, invoice_id, line_no, description, amount_cents, appointment_id,
                                  areas, tax_cents, tax_rate_ppm)
SELECT clinic_id, 'is-' || appointment_id, 1, 'Session, 1 area', gross, appointment_id, 1,
       round (gross::numeric * rate / (1000000 + rate)), rate
FROM b WHERE package_id IS NULL;
INSERT INTO billing.payment (clinic_id, payment_id, patient_id, invoice_id, amount_cents, currency, method,
                             provider, idempotency_key, received_at)
SELECT clinic_id, 'ps-' || appointment_id, patient_id, 'is-' || appointment_id, gross, currency, 'card', 'bench',
       'ps-' || appointment_id, at + interval '5 minutes'
FROM b WHERE package_id IS NULL AND r < 0.9;
INSERT INTO billing.refund (clinic_id, refund_id, payment_id, patient_id, amount_cents, currency, reason,
                            refunded_at)
SELECT clinic_id, 'rf-' || appointment_id, 'ps-' || appointment_id, patient_id, 5000, currency, 'goodwill',
       at + interval '3 days'
FROM b WHERE package_id IS NULL AND r < 0.018 AND at + interval '3 days' < now ();

INSERT INTO billing.session_charge (clinic_id, appointment_id, patient_id, kind, how, areas, session_date,
                                    package_clinic_id, package_id, invoice_id, amount_cents, event_id, charged_at)
SELECT clinic_id, appointment_id, patient_id, 'session', CASE WHEN package_id IS NULL THEN 'invoiced'
       ELSE 'package' END, 1, day, CASE WHEN package_id IS NOT NULL THEN clinic_id END, package_id,
       CASE WHEN package_id IS NULL THEN 'is-' || appointment_id END,
       CASE WHEN package_id IS NULL THEN gross ELSE 0 END, 'ev-' || appointment_id, at
FROM b;

-- The ledger, in time order.
INSERT INTO billing.ledger (clinic_id, patient_id, kind, amount_cents, currency, invoice_id, payment_id,
                            refund_id, appointment_id, package_id, description, at, tax_cents)
SELECT clinic_id, patient_id, kind, amount, currency, invoice_id, payment_id, refund_id, appointment_id,
       package_id, description, at, tax
FROM (SELECT i.clinic_id, i.patient_id, 'charge' AS kind, i.total_cents AS amount, i.currency, i.invoice_id,
             NULL AS payment_id, NULL AS refund_id, l.appointment_id, i.package_id, l.description,
             i.issued_at AS at, i.tax_cents AS tax
      FROM billing.invoice i JOIN billing.invoice_line l USING (clinic_id, invoice_id)
      UNION ALL
      SELECT clinic_id, patient_id, 'payment', -amount_cents, currency, NULL, payment_id, NULL, NULL, NULL,
             'Payment', received_at, 0 FROM billing.payment
      UNION ALL
      SELECT clinic_id, patient_id, 'refund', amount_cents, currency, NULL, NULL, refund_id, NULL, NULL,
             reason, refunded_at, 0 FROM billing.refund) m
ORDER BY at;

ANALYZE;
