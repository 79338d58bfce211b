-- Runs after every view file (alphabetically last): the BI role reads every view of
-- schema `reporting` and nothing else. Re-applied on every migrate, so views added by
-- any file in sql/views are covered.
GRANT USAGE ON SCHEMA reporting TO kontor_bi;
GRANT SELECT ON ALL TABLES IN SCHEMA reporting TO kontor_bi;
