-- Named locks only the application can take (KontorStore.AppLocks).
--
-- Advisory locks (pg_advisory_*) share one cluster-wide key space that every role may
-- use, so the read-only BI role could hold the keys Kontor locks and stall shipments,
-- plans, logins and imports. These locks are row locks on this table instead: locking
-- a row needs UPDATE or SELECT on the table, and only its owner (the application's role)
-- has any privilege on it (schema public is closed to PUBLIC since 0033).
--
-- Rows are made on first use and may be deleted at any time (the next user makes the
-- row again); keys from outside text are hashed, so the table stays small.

CREATE TABLE app_locks (
    key  text PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 200)
);
REVOKE ALL ON app_locks FROM PUBLIC;

-- The plan/fact lock: plan and shipment writes hold it shared, the monthly close
-- exclusively. Made here so that shared holders never meet on its first insert.
INSERT INTO app_locks (key) VALUES ('planfact.months');
