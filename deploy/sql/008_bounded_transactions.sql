-- 008_bounded_transactions: a stuck transaction cannot stall the event feed
-- for long, and the events daemon can say which one it is.
--
-- The relay waits for every transaction older than the oldest running one
-- (xid < pg_snapshot_xmin: the gapless rule, see 002). A service process
-- frozen inside a transaction therefore holds back every event of every
-- stream. That wait stays, but it is bounded: a service session idle in a
-- transaction for 30 s is terminated by PostgreSQL (its transaction rolls
-- back; the client's retry with the same idempotency key resolves it). 30 s
-- is six times the longest call a service makes inside a request (5 s,
-- MESO_CALL_DEADLINE_MS) and far beyond any transaction that does its work.
-- It applies to new sessions; running daemons get it when they reconnect.
--
-- meso_events gets pg_read_all_stats so that pg_stat_activity shows it the
-- xid, start and role of other roles' backends: its Health names the one
-- holding the relay back (MESO_EVENTS_HELD_WARN_MS).
--
-- Roles are cluster-wide and tests migrate many databases of one cluster at
-- once: each change is made only when missing, and a concurrent migration
-- making it first is not an error.
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['meso_screening', 'meso_scheduling', 'meso_inventory',
                             'meso_billing', 'meso_events']
    LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_db_role_setting s JOIN pg_roles o ON o.oid = s.setrole
                       WHERE o.rolname = r AND s.setdatabase = 0
                         AND 'idle_in_transaction_session_timeout=30s' = ANY (s.setconfig)) THEN
            BEGIN
                EXECUTE format('ALTER ROLE %I SET idle_in_transaction_session_timeout = %L', r, '30s');
            EXCEPTION
                WHEN internal_error OR unique_violation THEN NULL;  -- "tuple concurrently updated"
            END;
        END IF;
    END LOOP;
    IF NOT pg_has_role ('meso_events', 'pg_read_all_stats', 'MEMBER') THEN
        BEGIN
            GRANT pg_read_all_stats TO meso_events;
        EXCEPTION
            WHEN internal_error OR unique_violation OR duplicate_object THEN NULL;
        END;
    END IF;
END
$$;
