-- The BI role (0033) may read the reporting views and nothing else. Two things every
-- role gets from PostgreSQL itself are closed here where the migrating role is allowed
-- to (docs/REPORTING.md, "What a DBA runs"):
--
--   * advisory locks (pg_advisory_*): a cluster-wide key space open to PUBLIC. Kontor no
--     longer uses them (AppLocks, 0034), so holding them blocks nothing of ours; revoking
--     them also keeps BI away from other software of the cluster that does use them.
--   * the large-object writers (lo_create, lo_from_bytea, lowrite, ...): large objects are
--     stored in pg_largeobject of this database whoever writes them, so PUBLIC's EXECUTE
--     on them lets a read-only login store data (`BEGIN READ WRITE` lifts the role's
--     read-only default).
--
-- Functions of pg_catalog belong to the bootstrap superuser: only a superuser can revoke
-- PUBLIC's EXECUTE on them. For anyone else REVOKE changes nothing and only warns, and
-- temp_file_limit (a superuser setting) cannot be set either; so this migration checks
-- what it achieved, warns, and kontord logs what is left after every migrate
-- (kontor_bi_gaps()). Function privileges are per database and travel with dumps and
-- template copies.

-- The pg_catalog functions PUBLIC (and so kontor_bi) must not execute.
CREATE FUNCTION kontor_bi_denied_functions() RETURNS SETOF regprocedure LANGUAGE sql STABLE AS $$
    SELECT p.oid::regprocedure FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = 'pg_catalog'
      AND (p.proname ~ '^pg_(try_)?advisory_(xact_)?lock(_shared)?$'
           OR p.proname IN ('lo_create', 'lo_creat', 'lo_from_bytea', 'lo_open', 'lo_put', 'lo_import', 'lo_export',
                            'lowrite', 'lo_truncate', 'lo_truncate64', 'lo_unlink'))
    ORDER BY p.proname, p.oid::regprocedure::text
$$;

-- What a DBA still has to do: every denied function kontor_bi may execute, and a
-- missing temp_file_limit. Empty when the role is locked down (or does not exist).
CREATE FUNCTION kontor_bi_gaps() RETURNS SETOF text LANGUAGE sql STABLE AS $$
    SELECT 'REVOKE EXECUTE ON FUNCTION pg_catalog.' || f::text || ' FROM PUBLIC'
    FROM kontor_bi_denied_functions() f
    WHERE EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kontor_bi') AND has_function_privilege('kontor_bi', f, 'EXECUTE')
    UNION ALL
    SELECT 'ALTER ROLE kontor_bi SET temp_file_limit = ''1GB'''
    WHERE EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kontor_bi')
      AND NOT EXISTS (SELECT 1 FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole, unnest(s.setconfig) c
                      WHERE r.rolname = 'kontor_bi' AND s.setdatabase = 0 AND split_part(c, '=', 1) = 'temp_file_limit')
$$;

DO $$
DECLARE
    v_fn regprocedure;
BEGIN
    FOR v_fn IN SELECT * FROM kontor_bi_denied_functions() LOOP
        BEGIN
            EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', v_fn);
        EXCEPTION WHEN insufficient_privilege THEN
            NULL;  -- reported below
        END;
    END LOOP;
END $$;

-- Temporary files (sorts and hashes that spill to disk) are the one thing a read-only
-- query still writes: cap them per session. Kept when an operator set another value.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole, unnest(s.setconfig) c
                   WHERE r.rolname = 'kontor_bi' AND s.setdatabase = 0 AND split_part(c, '=', 1) = 'temp_file_limit') THEN
        ALTER ROLE kontor_bi SET temp_file_limit = '1GB';
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    NULL;  -- reported below
END $$;

DO $$
DECLARE
    v_left text;
BEGIN
    SELECT string_agg(g, '; ') INTO v_left FROM kontor_bi_gaps() g;
    IF v_left IS NOT NULL THEN
        RAISE WARNING 'kontor_bi is not fully locked down; a superuser must run: %', v_left
            USING HINT = 'docs/REPORTING.md, "What a DBA runs"';
    END IF;
END $$;
