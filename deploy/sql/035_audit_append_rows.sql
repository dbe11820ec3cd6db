-- 035_audit_append_rows.sql -- the audit rows of one request in one
-- statement.
--
-- A list read (the agenda of a day, a search, a page of patients) records
-- one row per patient on the page (021). Through audit.append that was one
-- statement per patient, each a round trip and a plpgsql call: about a
-- hundred per agenda page at each of the three services the agenda asks.
-- audit.append_rows takes the request's rows as two parallel arrays
-- (clinic, patient) and appends them all: each clinic's head row is locked
-- and updated once, the entries go in with one INSERT. The chain, the
-- canonical row and the hash are exactly audit.append's (021's header), so
-- `mesoctl audit verify` reads both alike.
--
-- The caller passes the rows in clinic order (two requests touching the
-- same clinics then lock their heads in the same order: no deadlock); rows
-- of one clinic get consecutive seqs in the order given. Returns the
-- number of rows appended.
CREATE FUNCTION audit.append_rows (p_clinics text[], p_patients text[], p_principal text,
                                   p_key text, p_behalf text, p_method text, p_request text,
                                   p_status integer, p_access text) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, audit
    AS $$
DECLARE
    n        integer := coalesce (cardinality (p_clinics), 0);
    i        integer;
    v_clinic text;
    v_seq    bigint;
    v_prev   bytea;
    v_at     timestamptz;
    v_b      bytea;
    -- The fields every row of the request shares, encoded once: field 1;
    -- fields 5, 6, 7; fields 9 to 12. Per row: clinic, seq, at, patient.
    v_first  bytea;
    v_mid    bytea := '';
    v_tail   bytea := '';
    v_cl     bytea;
    v_f      text;
    a_clinic text[] := '{}';
    a_seq    bigint[] := '{}';
    a_at     timestamptz[] := '{}';
    a_pat    text[] := '{}';
    a_hash   bytea[] := '{}';
BEGIN
    IF n <> coalesce (cardinality (p_patients), 0) THEN
        RAISE EXCEPTION 'audit.append_rows: % clinics for % patients', n, cardinality (p_patients)
            USING ERRCODE = '22023';
    END IF;
    v_b := convert_to ('meso-audit-v1', 'UTF8');
    v_first := int4send (length (v_b)) || v_b;
    FOREACH v_f IN ARRAY ARRAY[p_principal, p_key, p_method] LOOP
        v_b := convert_to (v_f, 'UTF8');
        v_mid := v_mid || int4send (length (v_b)) || v_b;
    END LOOP;
    FOREACH v_f IN ARRAY ARRAY[p_request, p_status::text, p_access, coalesce (p_behalf, '')] LOOP
        v_b := convert_to (v_f, 'UTF8');
        v_tail := v_tail || int4send (length (v_b)) || v_b;
    END LOOP;
    FOR i IN 1 .. n LOOP
        IF v_clinic IS DISTINCT FROM p_clinics[i] THEN
            IF v_clinic IS NOT NULL THEN
                UPDATE audit.head SET seq = v_seq, hash = v_prev WHERE clinic_id = v_clinic;
            END IF;
            v_clinic := p_clinics[i];
            v_b := convert_to (v_clinic, 'UTF8');
            v_cl := int4send (length (v_b)) || v_b;
            SELECT seq, hash INTO v_seq, v_prev FROM audit.head WHERE clinic_id = v_clinic FOR UPDATE;
            IF NOT FOUND THEN
                INSERT INTO audit.head (clinic_id, seq, hash)
                    VALUES (v_clinic, 0, '\x0000000000000000000000000000000000000000000000000000000000000000')
                    ON CONFLICT (clinic_id) DO NOTHING;
                SELECT seq, hash INTO v_seq, v_prev FROM audit.head WHERE clinic_id = v_clinic
                    FOR UPDATE;
            END IF;
        END IF;
        v_seq := v_seq + 1;
        -- Taken under the lock, so a chain's times follow its order.
        v_at := date_trunc ('microseconds', clock_timestamp ());
        -- The canonical row (021's header) in one expression: a plpgsql
        -- statement costs far more than an operator inside one.
        v_prev := sha256 (v_prev || v_first || v_cl
            || int4send (length (v_seq::text)) || convert_to (v_seq::text, 'UTF8')
            || int4send (length (((extract (epoch FROM v_at) * 1000000)::bigint)::text))
            || convert_to (((extract (epoch FROM v_at) * 1000000)::bigint)::text, 'UTF8')
            || v_mid
            || int4send (octet_length (convert_to (coalesce (p_patients[i], ''), 'UTF8')))
            || convert_to (coalesce (p_patients[i], ''), 'UTF8')
            || v_tail);
        a_clinic := a_clinic || v_clinic;
        a_seq := a_seq || v_seq;
        a_at := a_at || v_at;
        a_pat := a_pat || coalesce (p_patients[i], '');
        a_hash := a_hash || v_prev;
    END LOOP;
    IF v_clinic IS NOT NULL THEN
        UPDATE audit.head SET seq = v_seq, hash = v_prev WHERE clinic_id = v_clinic;
    END IF;
    INSERT INTO audit.entry (clinic_id, seq, at, principal, principal_key, on_behalf_of, method,
                             patient_id, request_id, status, access, hash)
        SELECT c, s, t, p_principal, p_key, coalesce (p_behalf, ''), p_method, pt, p_request,
               p_status, p_access, h
          FROM unnest (a_clinic, a_seq, a_at, a_pat, a_hash) AS r (c, s, t, pt, h);
    RETURN n;
END
$$;

REVOKE ALL ON FUNCTION audit.append_rows (text[], text[], text, text, text, text, text, integer, text)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit.append_rows (text[], text[], text, text, text, text, text, integer,
                                             text)
    TO meso_screening, meso_scheduling, meso_inventory, meso_billing;
