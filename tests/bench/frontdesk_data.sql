-- frontdesk_data.sql -- a generated chain for tests/bench/bench_frontdesk.c:
-- 100 clinics in four time zones, each with 20 practitioners and 8 rooms,
-- open Monday to Saturday 08:00-20:00, and two years of sessions (the
-- 600 days before today and the 130 after), with their patients at
-- screening (names with accents, birth dates, phones, e-mails, one
-- screening, valid until a day between 29 days ago and 170 days ahead,
-- and a signed consent for 22 in 23). Deterministic (setseed),
-- written straight into the schemas as the migrations leave them. The
-- search index rows are keyed hashes made with the search key, so the
-- benchmark writes them itself (search_norm.c), not this file.
--
--   Busy clinics c001..c005: 90% of the 8 rooms x 12 hourly slots taken
--   (about 86 sessions a day), patients in weekly courses of 10 sessions.
--   The other 95: 4% of the slots taken, one patient per weekly slot over
--   the two years. (psql -v weeks=N: N weeks from 600 days ago, 104 for
--   the two years; a small N checks the script quickly.) Practitioner of room r at hour h: ((r - 1) + 8 (h mod
--   2)) mod 20 + 1, so no practitioner is in two rooms at once. Past
--   sessions: 5% no-show, 5% cancelled, the rest completed; future ones:
--   5% cancelled, the rest booked.
SELECT setseed (0.16);

INSERT INTO scheduling.clinic (clinic_id, name, time_zone)
SELECT format ('c%s', lpad (i::text, 3, '0')), format ('Clinic %s', i),
       (ARRAY['Europe/Madrid', 'America/New_York', 'Australia/Sydney', 'Europe/London'])[1 + i % 4]
FROM generate_series (1, 100) i;
INSERT INTO scheduling.clinic_hours (clinic_id, isodow, opens, closes)
SELECT clinic_id, d, '08:00', '20:00' FROM scheduling.clinic, generate_series (1, 6) d;
INSERT INTO scheduling.practitioner (practitioner_id, name)
SELECT clinic_id || '-p' || j, (ARRAY['Dra. Alba', 'Dr. Bruno', 'Dra. Carmen', 'Dr. David', 'Dra. Elena'])[1 + j % 5]
       || ' ' || (ARRAY['Ruiz', 'Sanz', 'Gil', 'Mora'])[1 + j % 4] || ' ' || j
FROM scheduling.clinic, generate_series (1, 20) j;
INSERT INTO scheduling.practitioner_hours (clinic_id, practitioner_id, isodow, starts, ends)
SELECT clinic_id, clinic_id || '-p' || j, d, '08:00', '20:00'
FROM scheduling.clinic, generate_series (1, 20) j, generate_series (1, 6) d;
INSERT INTO scheduling.room (clinic_id, room_id, name)
SELECT clinic_id, 'r' || j, 'Sala ' || j FROM scheduling.clinic, generate_series (1, 8) j;

CREATE TEMP TABLE s AS
SELECT c.clinic_id, c.time_zone, r, dow, h, w,
       date_trunc ('week', current_date - 600)::date + w * 7 + dow - 1 AS day,
       format ('%s-%s-%s-%s-%s', c.clinic_id, r, dow, h, CASE WHEN busy THEN w / 10 ELSE 0 END) AS course_id,
       CASE WHEN busy THEN w % 10 + 1 ELSE w + 1 END AS session_number, random () AS x
FROM (SELECT *, clinic_id <= 'c005' AS busy FROM scheduling.clinic) c,
     generate_series (1, 8) r, generate_series (0, :weeks - 1) w, generate_series (1, 6) dow, generate_series (8, 19) h
WHERE random () < CASE WHEN busy THEN 0.9 ELSE 0.04 END;

CREATE TEMP TABLE pt AS
SELECT clinic_id, course_id, md5 (course_id)::uuid AS patient_id, row_number () OVER (ORDER BY course_id) AS n
FROM (SELECT DISTINCT clinic_id, course_id FROM s) d;

INSERT INTO scheduling.course (clinic_id, course_id, patient_id, grade, areas, recipe_id, sessions, status)
SELECT clinic_id, course_id, patient_id::text, 2, '{thighs}', 'lipo', 10, 'booked' FROM pt;

INSERT INTO scheduling.appointment (clinic_id, appointment_id, course_id, patient_id, practitioner_id, room_id,
    during, status, session_number, areas, recipe_id, cancelled_at, cancelled_by, completed_at)
SELECT s.clinic_id, md5 (s.course_id || '/' || s.w)::uuid::text, s.course_id, pt.patient_id::text,
       s.clinic_id || '-p' || (((s.r - 1) + 8 * (s.h % 2)) % 20 + 1), 'r' || s.r,
       tstzrange ((s.day + make_time (s.h, 0, 0)) AT TIME ZONE s.time_zone,
                  (s.day + make_time (s.h + 1, 0, 0)) AT TIME ZONE s.time_zone),
       st, s.session_number, CASE WHEN s.x < 0.5 THEN '{thighs}'::text[] ELSE '{thighs,hips}' END, 'lipo',
       CASE WHEN st = 'cancelled' THEN (s.day + make_time (s.h, 0, 0)) AT TIME ZONE s.time_zone - interval '3 days' END,
       CASE WHEN st = 'cancelled' THEN 'patient' END,
       CASE WHEN st = 'completed' THEN (s.day + make_time (s.h + 1, 0, 0)) AT TIME ZONE s.time_zone END
FROM (SELECT s.*, CASE WHEN day < current_date THEN
                         CASE WHEN x < 0.05 THEN 'no_show' WHEN x < 0.10 THEN 'cancelled' ELSE 'completed' END
                       ELSE CASE WHEN x < 0.05 THEN 'cancelled' ELSE 'booked' END END AS st
      FROM s) s JOIN pt USING (clinic_id, course_id);

-- Screening: the patients, a screening and a signed consent each.
INSERT INTO screening.patients (id, given_name, family_name, birth_date, sex, phone, email, home_clinic_id)
SELECT patient_id, g, f || ' ' || f2, date '1950-01-01' + (n * 7919 % 20000)::int, 1,
       '+34 6' || lpad ((n * 104729 % 100000000)::text, 8, '0'),
       lower (translate (g, 'ÁÉÍÓÚáéíóúñÑ', 'AEIOUaeiounN')) || '.' || n || '@example.com', clinic_id
FROM (SELECT pt.*, (ARRAY['Ana', 'María', 'José', 'Lucía', 'Björn', 'Zoë', 'Inés', 'Óscar', 'Ángela', 'Raúl',
                          'Sofía', 'Jesús', 'Núria', 'Iñaki', 'Chloé', 'Søren'])[1 + n % 16] AS g,
             (ARRAY['López', 'García', 'Martínez', 'Pérez', 'Sánchez', 'Gómez', 'Fernández', 'Díaz',
                    'Muñoz', 'Álvarez', 'Romero', 'Núñez', 'Ødegaard', 'Müller', 'Dubois', 'Castaño',
                    'Ibáñez', 'Peña', 'Calderón', 'Ruiz'])[1 + (n / 16) % 20] AS f,
             (ARRAY['Serrano', 'Vázquez', 'Cortés', 'Molina', 'Ortega', 'Rubio', 'Marín', 'Iglesias',
                    'Domínguez', 'Herrera', 'Nieto', 'Santos', 'Méndez'])[1 + (n / 320) % 13] AS f2
      FROM pt) p;
-- What the front desk would type to find each patient, kept apart: the
-- screening daemon seals the names, phones and e-mails of
-- screening.patients when it starts (vault.h), so the benchmark picks its
-- search terms here, as a receptionist reads them off a card.
CREATE TABLE public.bench_patient_card AS
SELECT id, home_clinic_id, given_name, family_name, phone, birth_date FROM screening.patients;

INSERT INTO screening.screenings (patient_id, clinic_id, screened_at, screened_on, pregnancy, breastfeeding,
    diabetes, active_infection, septicaemia, immunocompromised, liver_failure, kidney_failure,
    coagulation_disorder, menstrual_disorder, cancer, heart_arrhythmia, blood_clots, height_mm, weight_g,
    verdict, valid_until, max_age, bmi_obesity_x10, validity_days, record)
SELECT patient_id, clinic_id, now () - interval '30 days', current_date - 30, false, false, false, false,
       false, false, false, false, false, false, false, false, false, 1650, 62000,
       CASE WHEN n % 17 = 0 THEN 'eligible_with_precautions' ELSE 'eligible' END,
       current_date - 29 + (n % 200)::int, 70, 300, 180, '\x'
FROM pt;

INSERT INTO screening.consent_texts (clinic_id, treatment, version, body, sha256)
SELECT clinic_id, 'body_mesotherapy', 1, 'I consent (' || clinic_id || ').',
       encode (sha256 (convert_to ('I consent (' || clinic_id || ').', 'UTF8')), 'hex')
FROM scheduling.clinic;
INSERT INTO screening.consent_signatures (clinic_id, signature_id, patient_id, treatment, version, text_sha256,
                                          witness)
SELECT pt.clinic_id, md5 ('sig' || pt.patient_id)::uuid, pt.patient_id, 'body_mesotherapy', 1, t.sha256, 'Bench'
FROM pt JOIN screening.consent_texts t ON t.clinic_id = pt.clinic_id AND t.treatment = 'body_mesotherapy'
WHERE pt.n % 23 <> 0;

ANALYZE;
