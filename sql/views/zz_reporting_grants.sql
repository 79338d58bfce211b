-- Runs after every view file (alphabetically last), on every migrate: the BI role reads
-- every view of schema `reporting` and nothing else. Views added by any file in
-- sql/views are covered.
GRANT USAGE ON SCHEMA reporting TO kontor_bi;
GRANT SELECT ON ALL TABLES IN SCHEMA reporting TO kontor_bi;

-- Database privileges are per database and are not copied by CREATE DATABASE ... TEMPLATE
-- or a restore, so they are asserted here, every time: PUBLIC (kontor_bi included) may
-- not create temporary tables; the application role may.
DO $$
BEGIN
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO %I', current_database(), current_user);
END $$;
