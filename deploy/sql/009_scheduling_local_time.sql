-- 009_scheduling_local_time.sql -- one rule for turning a clinic's local
-- wall time into an instant, for every statement that does it.
--
-- PostgreSQL's own "timestamp AT TIME ZONE zone" has two silent choices:
--   - a local time that does not exist (the spring-forward gap: 02:30 in
--     Europe/Paris on the last Sunday of March) is read with the offset in
--     force before the change, so it lands at 03:30;
--   - a local time that happens twice (the autumn hour) is read with the
--     offset after the change: the second occurrence.
-- Scheduling refuses the first (the daemon asks local_gap and names the
-- gap to the caller; the planner never proposes such a slot) and, for the
-- second, takes the first occurrence -- the earlier UTC instant -- as RFC
-- 5545 (iCalendar) does. local_instant gives that reading; a local time
-- exists when local_instant(lt, tz) AT TIME ZONE tz = lt.
--
-- The functions are single SQL expressions (inlined by the planner) and
-- STABLE (zone rules may change with the tz database). Execution is
-- granted to PUBLIC by default; the scheduling role reads its schema.

-- The offset of zone tz from UTC at instant u (local minus UTC).
CREATE FUNCTION scheduling.utc_offset (u timestamptz, tz text) RETURNS interval
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT (u AT TIME ZONE tz) - (u AT TIME ZONE 'UTC') $$;

-- The instant of local time lt in zone tz: for an ambiguous lt, the
-- first occurrence. The candidates are PostgreSQL's reading and lt read
-- with the offsets in force a day before and a day after it; the earliest
-- that reads back as lt wins. For a time in a gap none reads back, and
-- PostgreSQL's reading is returned (callers check local_gap first).
CREATE FUNCTION scheduling.local_instant (lt timestamp, tz text) RETURNS timestamptz
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT least (lt AT TIME ZONE tz,
        CASE WHEN ((lt - scheduling.utc_offset ((lt AT TIME ZONE tz) - interval '1 day', tz))
                   AT TIME ZONE 'UTC') AT TIME ZONE tz = lt
             THEN (lt - scheduling.utc_offset ((lt AT TIME ZONE tz) - interval '1 day', tz))
                  AT TIME ZONE 'UTC' END,
        CASE WHEN ((lt - scheduling.utc_offset ((lt AT TIME ZONE tz) + interval '1 day', tz))
                   AT TIME ZONE 'UTC') AT TIME ZONE tz = lt
             THEN (lt - scheduling.utc_offset ((lt AT TIME ZONE tz) + interval '1 day', tz))
                  AT TIME ZONE 'UTC' END) $$;

-- The daylight-saving gap that contains local time lt in zone tz, as the
-- local times [clocks jump from, clocks jump to), or NULL when lt exists.
-- The gap is as long as the offset grows across the change, so its start
-- is the first minute within that length before lt that does not exist
-- (lt itself among them, else lt exists).
CREATE FUNCTION scheduling.local_gap (lt timestamp, tz text) RETURNS tsrange
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT tsrange (min (m), min (m) + max (x.g))
          FROM (SELECT scheduling.utc_offset ((lt AT TIME ZONE tz) + interval '1 day', tz)
                     - scheduling.utc_offset ((lt AT TIME ZONE tz) - interval '1 day', tz) AS g) x
          CROSS JOIN generate_series (lt - x.g + interval '1 minute', lt, interval '1 minute') AS m
          WHERE (scheduling.local_instant (m, tz) AT TIME ZONE tz) <> m
          HAVING bool_or (m = lt) $$;
