-- 021_audit.sql -- the audit trail of patient data: who read or changed
-- which patient's data, when, through which method, with what outcome.
--
-- One row per patient per request of a method the method tables mark as
-- touching patient data (MESO_METHOD_PATIENT, common/include/meso/bus.h):
-- written by the daemon in the effect's own transaction for a change (the
-- last statement before COMMIT), right after the handler and before the
-- reply for a read (a read whose row cannot be written is answered
-- UNAVAILABLE), and for a refusal with its status.
--
-- Append-only: the daemons' roles may only call audit.append (SECURITY
-- DEFINER), never touch the tables; a trigger refuses UPDATE, TRUNCATE and
-- any DELETE that is not audit.prune's, whoever runs it.
--
-- Tamper evidence: the rows of one clinic form a chain. Row n of clinic C
-- stores seq = n (1, 2, 3... without gaps) and
--
--     hash = sha256(previous hash || canonical row)
--
-- where the previous hash is the hash of row n-1, or of the anchor (the
-- last row pruned), or 32 zero bytes for the first row of a chain. The
-- canonical row is the concatenation of these twelve fields, each as its
-- length in bytes (4 bytes, unsigned, big-endian) followed by its UTF-8
-- bytes:
--
--     1 "meso-audit-v1"        7 method ("scheduling.BookCourse")
--     2 clinic_id              8 patient_id ("" when the request named none)
--     3 seq (decimal)          9 request_id
--     4 at (decimal            10 status (decimal, meso.v1.Status)
--       microseconds since     11 access ("read" or "write")
--       1970-01-01 UTC)        12 on_behalf_of ("" when none)
--     5 principal (name)
--     6 principal_key (Z85)
--
-- `mesoctl audit verify` recomputes every hash in C (libsodium) from the
-- raw rows and compares: an edited row, a deleted row (a gap in seq, a
-- first row that does not follow the anchor, a last row behind the head)
-- and reordered rows are each named. audit.head keeps each chain's last
-- seq and hash; its row is also the lock that serialises a clinic's
-- appends, taken as the last statement of the transaction so it is held
-- only for the commit.
--
-- Retention: audit.prune(before) deletes each chain's rows older than
-- before and keeps the last deleted row's seq and hash in audit.anchor, so
-- a chain stays verifiable from its anchor (mesoctl audit prune).
CREATE SCHEMA audit;
COMMENT ON SCHEMA audit IS 'append-only, hash-chained trail of patient data reads and writes';

CREATE TABLE audit.entry (
    clinic_id     text NOT NULL,
    seq           bigint NOT NULL CHECK (seq > 0),
    at            timestamptz NOT NULL,
    principal     text NOT NULL,
    principal_key text NOT NULL,
    on_behalf_of  text NOT NULL DEFAULT '',
    method        text NOT NULL,
    patient_id    text NOT NULL,
    request_id    text NOT NULL,
    status        integer NOT NULL,
    access        text NOT NULL CHECK (access IN ('read', 'write')),
    hash          bytea NOT NULL CHECK (octet_length (hash) = 32),
    PRIMARY KEY (clinic_id, seq)
);
CREATE INDEX entry_patient_idx ON audit.entry (patient_id, at);
CREATE INDEX entry_at_idx ON audit.entry (at);

-- Each chain's last row: the lock of its appends and the end verify checks
-- (a deleted last row leaves the head ahead of the rows).
CREATE TABLE audit.head (
    clinic_id text PRIMARY KEY,
    seq       bigint NOT NULL,
    hash      bytea NOT NULL CHECK (octet_length (hash) = 32)
);

-- The last row pruned from each chain: verify starts from it.
CREATE TABLE audit.anchor (
    clinic_id text PRIMARY KEY,
    seq       bigint NOT NULL,
    hash      bytea NOT NULL CHECK (octet_length (hash) = 32),
    pruned_at timestamptz NOT NULL
);

-- Appends one row to clinic's chain; returns its seq. The head row is
-- locked until the caller's transaction ends. The canonical row is built
-- here in one loop (no helper functions: a SQL function with its own
-- settings is not inlined, and calling twelve of them cost a booking
-- more than the rest of the append).
CREATE FUNCTION audit.append (p_clinic text, p_principal text, p_key text, p_behalf text,
                              p_method text, p_patient text, p_request text, p_status integer,
                              p_access text) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, audit
    AS $$
DECLARE
    v_seq  bigint;
    v_prev bytea;
    v_at   timestamptz;
    v_row  bytea := '';
    v_f    text;
    v_b    bytea;
BEGIN
    UPDATE audit.head SET seq = seq + 1 WHERE clinic_id = p_clinic RETURNING seq, hash
        INTO v_seq, v_prev;
    IF NOT FOUND THEN
        INSERT INTO audit.head (clinic_id, seq, hash)
            VALUES (p_clinic, 0, '\x0000000000000000000000000000000000000000000000000000000000000000')
            ON CONFLICT (clinic_id) DO NOTHING;
        UPDATE audit.head SET seq = seq + 1 WHERE clinic_id = p_clinic RETURNING seq, hash
            INTO v_seq, v_prev;
    END IF;
    -- Taken under the lock, so a chain's times follow its order.
    v_at := date_trunc ('microseconds', clock_timestamp ());
    -- The canonical row: each field's length (4 bytes, big-endian), then its UTF-8 bytes.
    FOREACH v_f IN ARRAY ARRAY['meso-audit-v1', p_clinic, v_seq::text,
                               ((extract (epoch FROM v_at) * 1000000)::bigint)::text, p_principal,
                               p_key, p_method, coalesce (p_patient, ''), p_request,
                               p_status::text, p_access, coalesce (p_behalf, '')] LOOP
        v_b := convert_to (v_f, 'UTF8');
        v_row := v_row || int4send (length (v_b)) || v_b;
    END LOOP;
    v_prev := sha256 (v_prev || v_row);
    INSERT INTO audit.entry (clinic_id, seq, at, principal, principal_key, on_behalf_of, method,
                             patient_id, request_id, status, access, hash)
        VALUES (p_clinic, v_seq, v_at, p_principal, p_key, coalesce (p_behalf, ''), p_method,
                coalesce (p_patient, ''), p_request, p_status, p_access, v_prev);
    UPDATE audit.head SET hash = v_prev WHERE clinic_id = p_clinic;
    RETURN v_seq;
END
$$;

-- Deletes the rows of every chain older than p_before, keeping the last
-- one deleted as the chain's anchor. Returns the rows deleted.
CREATE FUNCTION audit.prune (p_before timestamptz) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, audit
    AS $$
DECLARE
    r     record;
    n     bigint;
    total bigint := 0;
BEGIN
    FOR r IN SELECT e.clinic_id, max (e.seq) AS upto FROM audit.entry e
              WHERE e.at < p_before GROUP BY e.clinic_id ORDER BY e.clinic_id LOOP
        -- The chain's appends wait while it is cut.
        PERFORM 1 FROM audit.head WHERE clinic_id = r.clinic_id FOR UPDATE;
        INSERT INTO audit.anchor (clinic_id, seq, hash, pruned_at)
            SELECT e.clinic_id, e.seq, e.hash, now () FROM audit.entry e
             WHERE e.clinic_id = r.clinic_id AND e.seq = r.upto
            ON CONFLICT (clinic_id) DO UPDATE
                SET seq = EXCLUDED.seq, hash = EXCLUDED.hash, pruned_at = EXCLUDED.pruned_at;
        PERFORM set_config ('meso.audit_pruning', 'on', true);
        DELETE FROM audit.entry WHERE clinic_id = r.clinic_id AND seq <= r.upto;
        GET DIAGNOSTICS n = ROW_COUNT;
        PERFORM set_config ('meso.audit_pruning', 'off', true);
        total := total + n;
    END LOOP;
    RETURN total;
END
$$;

CREATE FUNCTION audit.refuse_change () RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting ('meso.audit_pruning', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit.% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = '42501',
              HINT = 'rows leave the trail only through audit.prune (mesoctl audit prune)';
END
$$;

CREATE TRIGGER entry_append_only BEFORE UPDATE OR DELETE ON audit.entry
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change ();
CREATE TRIGGER entry_no_truncate BEFORE TRUNCATE ON audit.entry
    FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change ();

REVOKE ALL ON ALL TABLES IN SCHEMA audit FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA audit FROM PUBLIC;
GRANT USAGE ON SCHEMA audit TO meso_screening, meso_scheduling, meso_inventory, meso_billing;
GRANT EXECUTE ON FUNCTION audit.append (text, text, text, text, text, text, text, integer, text)
    TO meso_screening, meso_scheduling, meso_inventory, meso_billing;
