-- Stored schedules (issue 6): rows, not timers. kontord's scheduler (BackgroundJob
-- "scheduler") fires each due occurrence exactly once whatever the number of instances:
-- it claims the schedule row (FOR UPDATE SKIP LOCKED), runs the job and records the run
-- in one transaction, and schedule_runs has a unique key per (schedule, occurrence) for
-- successful runs, so a second claim of one occurrence cannot commit. Missed occurrences
-- (the server was down) are run in order at the next start.

CREATE TABLE schedules (
    name            text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]{1,59}$'),
    -- What it runs (a job kontord knows, e.g. 'planfact.close_month').
    job             text NOT NULL,
    description     text NOT NULL DEFAULT '',
    -- Five-field cron expression, evaluated on the wall clock of time_zone.
    cron            text NOT NULL,
    time_zone       text NOT NULL,
    enabled         boolean NOT NULL DEFAULT true,
    -- The next occurrence not yet run; NULL = compute from now at the next tick.
    next_fire_at    timestamptz,
    -- After a failed attempt, not before this instant.
    retry_at        timestamptz,
    failures        integer NOT NULL DEFAULT 0,
    last_run_id     bigint,
    last_fire_at    timestamptz,
    last_status     text,
    last_error      text,
    version         integer NOT NULL DEFAULT 1,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    updated_by      bigint REFERENCES users(id)
);

CREATE TABLE schedule_runs (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    schedule_name  text NOT NULL REFERENCES schedules(name),
    -- The occurrence run; NULL for a manual run (schedule.run_now).
    occurrence     timestamptz,
    trigger        text NOT NULL CHECK (trigger IN ('schedule', 'manual')),
    status         text NOT NULL CHECK (status IN ('succeeded', 'failed')),
    instance       text NOT NULL,
    started_at     timestamptz NOT NULL,
    finished_at    timestamptz NOT NULL,
    requested_by   bigint REFERENCES users(id),
    result         jsonb,
    error          text
);
-- Exactly once: one successful run per occurrence.
CREATE UNIQUE INDEX schedule_runs_occurrence_key ON schedule_runs (schedule_name, occurrence)
    WHERE occurrence IS NOT NULL AND status = 'succeeded';
CREATE INDEX schedule_runs_schedule_idx ON schedule_runs (schedule_name, id DESC);

ALTER TABLE schedules ADD FOREIGN KEY (last_run_id) REFERENCES schedule_runs(id);
ALTER TABLE planfact_closes ADD FOREIGN KEY (schedule_run_id) REFERENCES schedule_runs(id);

-- Every instance's scheduler re-reads the schedules when one changes.
CREATE FUNCTION schedules_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('kontor_schedules', NEW.name);
    RETURN NULL;
END $$;
CREATE TRIGGER schedules_notify AFTER INSERT OR UPDATE OF cron, time_zone, enabled, next_fire_at ON schedules
    FOR EACH ROW EXECUTE FUNCTION schedules_notify();

-- The monthly close: at 00:00 on the 1st, Kyiv time, close the month before.
INSERT INTO schedules (name, job, description, cron, time_zone) VALUES
    ('monthly_close', 'planfact.close_month',
     'Closes every open month before the current one: writes plan, potential and fact per manager, company and contact into history.',
     '0 0 1 * *', 'Europe/Kyiv');
