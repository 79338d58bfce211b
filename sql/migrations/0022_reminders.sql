-- Reminders (issue 5): a note left on a contact or company card for a user, due at a
-- time, delivered through channels: the chronicle, the app (a `reminder.due` push) and
-- the user's webhook (signed HTTPS POSTs, retried with back-off).
--
-- Exactly once across instances (docs/TASKS.md, "Exactly once"):
--   * the `reminders.fire` job of every instance claims due rows with
--     FOR UPDATE SKIP LOCKED, and in the same transaction marks them fired and writes the
--     firing, its chronicle row and its webhook delivery: all or nothing;
--   * reminder_firings (reminder_id, due_at) is the occurrence key: an occurrence that
--     slipped through twice (a due time set back by hand) is refused the second time;
--   * pending rows stay pending while no instance runs, so they fire late, not never.
-- Webhook deliveries are leased to one instance per attempt (lease_until) and every
-- attempt is recorded in webhook_attempts.
-- Times come from the server clock (bind parameters), never from now().

-- A user's webhook (one per user): where reminders go for mobile or browser push
-- gateways, and the HMAC-SHA256 key they are signed with (shown once, when made).
CREATE TABLE user_webhooks (
    user_id     bigint PRIMARY KEY REFERENCES users(id),
    url         text NOT NULL CHECK (length(url) BETWEEN 8 AND 2000),
    secret      text NOT NULL CHECK (length(secret) >= 32),
    version     integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    updated_by  bigint REFERENCES users(id)
);

CREATE TABLE reminders (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users(id),
    contact_id  bigint REFERENCES contacts(id),
    company_id  bigint REFERENCES companies(id),
    text        text NOT NULL CHECK (length(text) BETWEEN 1 AND 2000),
    due_at      timestamptz NOT NULL,
    -- The time as written ("tomorrow 09:00"), for display.
    when_text   text CHECK (length(when_text) BETWEEN 1 AND 200),
    channels    text[] NOT NULL CHECK (cardinality(channels) BETWEEN 1 AND 3 AND channels <@ ARRAY['chronicle', 'app', 'webhook']::text[]),
    status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'fired', 'cancelled')),
    fired_at    timestamptz,
    snoozes     integer NOT NULL DEFAULT 0,
    version     integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL,
    created_by  bigint REFERENCES users(id),
    updated_at  timestamptz NOT NULL,
    updated_by  bigint REFERENCES users(id),
    CHECK ((contact_id IS NULL) <> (company_id IS NULL))
);
-- What the reminder job looks at.
CREATE INDEX reminders_pending_due_idx ON reminders (due_at, id) WHERE status = 'pending';
CREATE INDEX reminders_user_idx ON reminders (user_id, due_at);
CREATE INDEX reminders_contact_idx ON reminders (contact_id) WHERE contact_id IS NOT NULL;
CREATE INDEX reminders_company_idx ON reminders (company_id) WHERE company_id IS NOT NULL;

-- One row per occurrence fired (a snoozed reminder fires again at its new time).
CREATE TABLE reminder_firings (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    reminder_id   bigint NOT NULL REFERENCES reminders(id),
    due_at        timestamptz NOT NULL,
    fired_at      timestamptz NOT NULL,
    instance      text NOT NULL,
    chronicle_id  bigint REFERENCES chronicle(id),
    CONSTRAINT reminder_firings_occurrence_key UNIQUE (reminder_id, due_at)
);

ALTER TABLE chronicle ADD CONSTRAINT chronicle_reminder_fkey FOREIGN KEY (reminder_id) REFERENCES reminders(id);
ALTER TABLE chronicle ADD CONSTRAINT chronicle_firing_fkey FOREIGN KEY (firing_id) REFERENCES reminder_firings(id);
-- A firing writes one chronicle row at most.
CREATE UNIQUE INDEX chronicle_firing_key ON chronicle (firing_id) WHERE firing_id IS NOT NULL;

-- The webhook side of a firing: the exact body (retries send the same bytes), its state
-- and the lease of the instance attempting it.
CREATE TABLE webhook_deliveries (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    firing_id         bigint NOT NULL REFERENCES reminder_firings(id),
    user_id           bigint NOT NULL REFERENCES users(id),
    event             text NOT NULL,
    url               text,
    body              text NOT NULL,
    status            text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts          integer NOT NULL DEFAULT 0,
    next_attempt_at   timestamptz,
    lease_until       timestamptz,
    lease_instance    text,
    last_status_code  integer,
    last_error        text,
    delivered_at      timestamptz,
    created_at        timestamptz NOT NULL,
    CONSTRAINT webhook_deliveries_firing_key UNIQUE (firing_id),
    CHECK (status <> 'pending' OR next_attempt_at IS NOT NULL)
);
CREATE INDEX webhook_deliveries_pending_idx ON webhook_deliveries (next_attempt_at, id) WHERE status = 'pending';

CREATE TABLE webhook_attempts (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id  bigint NOT NULL REFERENCES webhook_deliveries(id),
    attempt      integer NOT NULL,
    started_at   timestamptz NOT NULL,
    duration_ms  integer NOT NULL,
    status_code  integer,
    error        text,
    instance     text NOT NULL,
    CONSTRAINT webhook_attempts_key UNIQUE (delivery_id, attempt)
);

-- Every instance's reminder job wakes when a due time is set or moved.
CREATE FUNCTION reminders_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('kontor_reminders', NEW.id::text);
    RETURN NULL;
END $$;
CREATE TRIGGER reminders_notify AFTER INSERT OR UPDATE OF due_at, status ON reminders
    FOR EACH ROW WHEN (NEW.status = 'pending') EXECUTE FUNCTION reminders_notify();

-- Reminders follow their contact into a merge.
INSERT INTO contact_merge_refs (table_name, column_name) VALUES ('reminders', 'contact_id');

-- Audit snapshot of a reminder (AuditEntity "reminder").
CREATE FUNCTION reminders_snapshot(p_id bigint) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('user_id', user_id, 'contact_id', contact_id, 'company_id', company_id, 'text', text, 'due_at', due_at,
                              'channels', to_jsonb(channels), 'status', status)
    FROM reminders WHERE id = p_id
$$;
