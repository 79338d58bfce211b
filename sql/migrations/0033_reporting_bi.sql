-- Reporting schema and the read-only BI role (issue 6).
--
-- Views live in schema `reporting` (sql/views/, re-applied on every migrate); BI tools log
-- in as `kontor_bi`, which may read those views and nothing else. Roles are cluster-wide,
-- so the role is created once per cluster (guarded); privileges are per database and
-- are granted here and by sql/views/zz_reporting_grants.sql after every migrate.
--
-- The migrating role needs CREATEROLE (or kontor_bi created beforehand by a superuser);
-- see docs/OPERATIONS.md.

CREATE SCHEMA IF NOT EXISTS reporting;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kontor_bi') THEN
        -- NOLOGIN until an operator gives it a password and LOGIN (docs/REPORTING.md).
        CREATE ROLE kontor_bi NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS
            CONNECTION LIMIT 5;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;  -- another database of this cluster created it at the same moment
END $$;

-- Defaults for every session of the role (a session may still change them; privileges,
-- not these settings, are what keep it from writing). Set only where missing: another
-- database of the cluster may have set them (and an operator may have tuned them).
DO $$
DECLARE
    v_settings text[] := coalesce((SELECT s.setconfig FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole
                                   WHERE r.rolname = 'kontor_bi' AND s.setdatabase = 0), '{}');
    v_defaults text[] := ARRAY['default_transaction_read_only=on', 'statement_timeout=60s',
                               'idle_in_transaction_session_timeout=300s', 'search_path=reporting'];
    v_item text;
BEGIN
    FOREACH v_item IN ARRAY v_defaults LOOP
        IF NOT EXISTS (SELECT 1 FROM unnest(v_settings) x WHERE split_part(x, '=', 1) = split_part(v_item, '=', 1)) THEN
            EXECUTE format('ALTER ROLE kontor_bi SET %I = %L', split_part(v_item, '=', 1), split_part(v_item, '=', 2));
        END IF;
    END LOOP;
END $$;

-- This database: nothing by default for anyone but the owner. PUBLIC (every role,
-- kontor_bi included) may connect, but may not use schema public (where the base tables
-- and functions are) or execute our functions. Temporary tables are revoked by
-- sql/views/zz_reporting_grants.sql on every migrate (database privileges do not travel
-- with CREATE DATABASE ... TEMPLATE or a restore into a new database).
REVOKE ALL ON SCHEMA public FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC;
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
REVOKE ALL ON SCHEMA reporting FROM PUBLIC;
GRANT USAGE ON SCHEMA reporting TO kontor_bi;
