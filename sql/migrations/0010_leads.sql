-- Inquiries and leads (issue 4): our phone lines, lead settings, statuses with labels,
-- rejection reasons, templates, leads and their status history, inquiries with their
-- response times, calls (logical calls and the legs providers send), messages.
--
-- Hooks of the records issue used here (docs/RECORDS.md):
--   * records_contact_calls      replaced: the company card's last call comes from calls
--   * records_contact_activity() attached to calls
--   * contact_merge_refs         calls, messages, inquiries and leads follow a merge
--
-- Times come from the server clock (bind parameters), never from now(), except the
-- created/updated stamps of the seed rows below. Business periods (`*_period`, the first
-- day of the month in the business time zone) are computed by the writer with the
-- configured zone, so the reporting views need no zone of their own.
-- docs/LEADS.md explains the process.

CREATE SCHEMA IF NOT EXISTS reporting;

-- ---------------------------------------------------------------------------
-- Our lines: numbers of ours (never made into contacts) and internal lines
-- (extensions, SIP peers), optionally mapped to the manager who sits on them.
-- `line_key` is the E.164 form of a phone number, else the text lower-cased without
-- whitespace (KontorDomain.LineKey): providers write lines many ways.

CREATE TABLE phone_lines (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    line_key    text NOT NULL CHECK (length(line_key) BETWEEN 1 AND 100),
    written     text NOT NULL CHECK (length(written) BETWEEN 1 AND 100),
    label       text CHECK (length(label) BETWEEN 1 AND 100),
    user_id     bigint REFERENCES users(id),
    version     integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    updated_by  bigint REFERENCES users(id)
);
CREATE UNIQUE INDEX phone_lines_key ON phone_lines (line_key);
CREATE INDEX phone_lines_user_idx ON phone_lines (user_id);

-- ---------------------------------------------------------------------------
-- Settings of the lead process (KontorDomain.LeadSettings), in the foundation's
-- key/value table.

INSERT INTO settings (key, value) VALUES
    ('leads.open_lead_window_seconds', '86400'),
    ('leads.message_response_seconds', '3600'),
    ('leads.wait_thresholds_seconds', '[1200, 2400, 7200, 14400]'),
    ('leads.round_robin_user_ids', '[]')
ON CONFLICT (key) DO NOTHING;

-- The round-robin's position: one row, locked by whoever assigns a lead, so concurrent
-- assignments take turns.
CREATE TABLE lead_round_robin (
    id            smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    last_user_id  bigint REFERENCES users(id),
    updated_at    timestamptz
);
INSERT INTO lead_round_robin (id) VALUES (1);

-- ---------------------------------------------------------------------------
-- Statuses (stable codes; labels are for display and never drive logic) and the
-- editable list of rejection reasons.

CREATE TABLE lead_statuses (
    code        text PRIMARY KEY
                CHECK (code IN ('inquiry', 'identification', 'overdue_identification', 'target', 'rejected')),
    label       text NOT NULL CHECK (length(label) BETWEEN 1 AND 100),
    position    integer NOT NULL,
    updated_at  timestamptz,
    updated_by  bigint REFERENCES users(id)
);
INSERT INTO lead_statuses (code, label, position) VALUES
    ('inquiry', 'Inquiry', 1),
    ('identification', 'Identification', 2),
    ('overdue_identification', 'Overdue identification', 3),
    ('target', 'Target lead', 4),
    ('rejected', 'Rejected lead', 5);

CREATE TABLE lead_rejection_reasons (
    code           text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{0,39}$'),
    label          text NOT NULL CHECK (length(label) BETWEEN 1 AND 200),
    text_required  boolean NOT NULL DEFAULT false,
    active         boolean NOT NULL DEFAULT true,
    position       integer NOT NULL DEFAULT 0,
    version        integer NOT NULL DEFAULT 1,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    updated_by     bigint REFERENCES users(id)
);
INSERT INTO lead_rejection_reasons (code, label, text_required, position, created_at, updated_at) VALUES
    ('wrong_department', 'Looking for another department (e.g. accounting)', false, 1, now(), now()),
    ('wrong_number', 'Wrong number', false, 2, now(), now()),
    ('spam', 'Spam or advertising', false, 3, now(), now()),
    ('not_our_product', 'Not a product we sell', false, 4, now(), now()),
    ('duplicate', 'Duplicate of another lead', false, 5, now(), now()),
    ('other', 'Other (say why)', true, 6, now(), now());

-- ---------------------------------------------------------------------------
-- Templates for leads made by hand.

CREATE TABLE lead_templates (
    id                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                    text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    source                  text NOT NULL DEFAULT 'manual'
                            CHECK (source IN ('phone', 'email', 'telegram', 'viber', 'facebook', 'instagram', 'site', 'manual', 'import')),
    owner_id                bigint REFERENCES users(id),
    summary                 text CHECK (length(summary) BETWEEN 1 AND 2000),
    first_task_title        text CHECK (length(first_task_title) BETWEEN 1 AND 500),
    first_task_due_minutes  integer CHECK (first_task_due_minutes BETWEEN 0 AND 525600),
    active                  boolean NOT NULL DEFAULT true,
    version                 integer NOT NULL DEFAULT 1,
    created_at              timestamptz NOT NULL,
    created_by              bigint REFERENCES users(id),
    updated_at              timestamptz NOT NULL,
    updated_by              bigint REFERENCES users(id)
);
CREATE UNIQUE INDEX lead_templates_name_key ON lead_templates (lower(name));

-- ---------------------------------------------------------------------------
-- Leads and their status history.

CREATE TABLE leads (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    contact_id          bigint NOT NULL REFERENCES contacts(id),
    status              text NOT NULL REFERENCES lead_statuses(code),
    source              text NOT NULL
                        CHECK (source IN ('phone', 'email', 'telegram', 'viber', 'facebook', 'instagram', 'site', 'manual', 'import')),
    owner_id            bigint REFERENCES users(id),
    assigned_by         text NOT NULL
                        CHECK (assigned_by IN ('line', 'direct_number', 'contact_owner', 'round_robin', 'manual', 'template', 'creator', 'unassigned')),
    summary             text CHECK (length(summary) BETWEEN 1 AND 2000),
    template_id         bigint REFERENCES lead_templates(id),
    -- The company the contact was linked to when the lead was qualified.
    company_id          bigint REFERENCES companies(id),
    reject_reason_code  text REFERENCES lead_rejection_reasons(code),
    reject_reason_text  text CHECK (length(reject_reason_text) BETWEEN 1 AND 2000),
    -- The latest inquiry attached (or the creation): the open-lead window runs from it.
    last_inquiry_at     timestamptz NOT NULL,
    status_changed_at   timestamptz NOT NULL,
    closed_at           timestamptz,
    version             integer NOT NULL DEFAULT 1,
    created_at          timestamptz NOT NULL,
    created_by          bigint REFERENCES users(id),
    -- First day of the month (business time zone) of its first inquiry's reception, or
    -- of its creation for leads made by hand.
    created_period      date NOT NULL,
    updated_at          timestamptz NOT NULL,
    updated_by          bigint REFERENCES users(id),
    CHECK ((status IN ('target', 'rejected')) = (closed_at IS NOT NULL)),
    CHECK (status <> 'rejected' OR reject_reason_code IS NOT NULL)
);
CREATE INDEX leads_contact_open_idx ON leads (contact_id, last_inquiry_at DESC)
    WHERE status IN ('inquiry', 'identification', 'overdue_identification');
CREATE INDEX leads_contact_idx ON leads (contact_id);
CREATE INDEX leads_created_idx ON leads (created_at DESC, id DESC);
CREATE INDEX leads_owner_status_idx ON leads (owner_id, status);
CREATE INDEX leads_status_idx ON leads (status, created_at DESC);
CREATE INDEX leads_period_idx ON leads (created_period, source);

CREATE TABLE lead_status_history (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    lead_id      bigint NOT NULL REFERENCES leads(id),
    from_status  text REFERENCES lead_statuses(code),   -- NULL: the lead's creation
    to_status    text NOT NULL REFERENCES lead_statuses(code),
    cause        text NOT NULL
                 CHECK (cause IN ('created', 'call_answered', 'call_missed', 'message_unanswered', 'response', 'qualified', 'rejected', 'reopened')),
    at           timestamptz NOT NULL,
    actor_id     bigint REFERENCES users(id),
    method       text NOT NULL,
    reason_code  text REFERENCES lead_rejection_reasons(code),
    reason_text  text,
    inquiry_id   bigint   -- the inquiry that caused it (foreign key below)
);
CREATE INDEX lead_status_history_lead_idx ON lead_status_history (lead_id, id);
CREATE INDEX lead_status_history_to_idx ON lead_status_history (to_status, at);

-- Issue 5's hook: the first task a lead template asks for. Tasks do not exist yet; the
-- tasks issue turns each row with task_id NULL into a task and sets task_id.
CREATE TABLE lead_first_tasks (
    lead_id      bigint PRIMARY KEY REFERENCES leads(id),
    title        text NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
    due_at       timestamptz,
    assignee_id  bigint REFERENCES users(id),
    created_at   timestamptz NOT NULL,
    task_id      bigint
);
CREATE INDEX lead_first_tasks_pending_idx ON lead_first_tasks (created_at) WHERE task_id IS NULL;

-- Every status change wakes whoever listens (issue 5: chronicle, planners). The payload
-- is a wake-up; listeners re-read lead_status_history.
CREATE FUNCTION leads_notify_status() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('kontor_leads', json_build_object('lead_id', NEW.lead_id, 'history_id', NEW.id,
                                                        'from', NEW.from_status, 'to', NEW.to_status)::text);
    RETURN NULL;
END $$;
CREATE TRIGGER lead_status_history_notify AFTER INSERT ON lead_status_history
    FOR EACH ROW EXECUTE FUNCTION leads_notify_status();

-- ---------------------------------------------------------------------------
-- Inquiries: one per inbound call; one per inbound message, except that messages in
-- the same channel before anyone answered join the inquiry that is waiting.

CREATE TABLE inquiries (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    lead_id              bigint NOT NULL REFERENCES leads(id),
    contact_id           bigint NOT NULL REFERENCES contacts(id),
    source               text NOT NULL CHECK (source IN ('phone', 'email', 'telegram', 'viber', 'facebook', 'instagram', 'site')),
    kind                 text NOT NULL CHECK (kind IN ('call', 'message')),
    received_at          timestamptz NOT NULL,
    -- First day of received_at's month in the business time zone.
    received_period      date NOT NULL,
    first_response_at    timestamptz,
    first_response_by    bigint REFERENCES users(id),
    first_response_kind  text CHECK (first_response_kind IN ('call_answered', 'call_outbound', 'message_outbound', 'manual')),
    -- When it became overdue: the missed call (cleared if a later leg shows the call
    -- was answered after all), or received_at + the message response time.
    overdue_at           timestamptz,
    created_at           timestamptz NOT NULL,
    created_by           bigint REFERENCES users(id),
    CHECK ((first_response_at IS NULL) = (first_response_kind IS NULL))
);
CREATE INDEX inquiries_lead_idx ON inquiries (lead_id, received_at);
CREATE INDEX inquiries_contact_idx ON inquiries (contact_id, received_at DESC);
CREATE INDEX inquiries_received_idx ON inquiries (received_at DESC, id DESC);
CREATE INDEX inquiries_unanswered_idx ON inquiries (contact_id, received_at) WHERE first_response_at IS NULL;
CREATE INDEX inquiries_period_idx ON inquiries (received_period);
-- What the overdue sweep looks at.
CREATE INDEX inquiries_message_pending_idx ON inquiries (received_at)
    WHERE kind = 'message' AND first_response_at IS NULL AND overdue_at IS NULL;

ALTER TABLE lead_status_history ADD CONSTRAINT lead_status_history_inquiry_fkey FOREIGN KEY (inquiry_id) REFERENCES inquiries(id);

-- ---------------------------------------------------------------------------
-- Calls. A provider sends one record per leg (ring groups, transfers); legs sharing a
-- linked id are one logical call (`calls`), whose outcome is computed from all its
-- legs whatever order they arrived in. The idempotency key is (provider, external_id)
-- of the leg; (provider, call_key) makes concurrent legs of one call meet on one row.

CREATE TABLE calls (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider         text NOT NULL,
    call_key         text NOT NULL,    -- the linked id, or the only leg's external id
    direction        text NOT NULL CHECK (direction IN ('inbound', 'outbound', 'internal')),
    kind             text NOT NULL
                     CHECK (kind IN ('incoming_answered', 'incoming_missed', 'outgoing_answered', 'outgoing_missed', 'internal')),
    remote_number    text,
    our_number       text,
    contact_id       bigint REFERENCES contacts(id),
    inquiry_id       bigint REFERENCES inquiries(id),
    lead_id          bigint REFERENCES leads(id),
    manager_id       bigint REFERENCES users(id),
    started_at       timestamptz NOT NULL,
    answered_at      timestamptz,
    ended_at         timestamptz,
    talk_seconds     integer NOT NULL DEFAULT 0,
    wait_seconds     integer,
    recording_url    text,
    legs             integer NOT NULL DEFAULT 0,
    -- This call made the contact / the lead (a later leg may still correct their owner).
    created_contact  boolean NOT NULL DEFAULT false,
    created_lead     boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    CONSTRAINT calls_key UNIQUE (provider, call_key)
);
CREATE INDEX calls_contact_idx ON calls (contact_id, started_at DESC);
CREATE INDEX calls_manager_idx ON calls (manager_id, started_at DESC);
CREATE INDEX calls_started_idx ON calls (started_at DESC, id DESC);
CREATE INDEX calls_lead_idx ON calls (lead_id);
CREATE INDEX calls_inquiry_idx ON calls (inquiry_id);

CREATE TABLE call_legs (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    call_id             bigint REFERENCES calls(id),   -- set in the transaction that inserts the leg
    provider            text NOT NULL CHECK (provider ~ '^[a-z0-9][a-z0-9_.-]{0,39}$'),
    external_id         text NOT NULL CHECK (length(external_id) BETWEEN 1 AND 200),
    linked_id           text CHECK (length(linked_id) BETWEEN 1 AND 200),
    direction           text NOT NULL CHECK (direction IN ('inbound', 'outbound', 'internal')),
    remote_number       text,
    remote_key          text,        -- LineKey of remote_number
    our_number          text,
    our_key             text,        -- LineKey of our_number
    manager_line        text,
    manager_login       text,
    manager_id          bigint REFERENCES users(id),   -- resolved from the login or the line
    started_at          timestamptz NOT NULL,
    answered_at         timestamptz,
    ended_at            timestamptz,
    talk_seconds        integer NOT NULL CHECK (talk_seconds >= 0),
    wait_seconds        integer CHECK (wait_seconds >= 0),
    disposition         text,
    recording_url       text,
    raw                 jsonb,
    ingested_at         timestamptz NOT NULL,
    ingested_by         bigint REFERENCES users(id),
    -- What call.ingest answered the first time (a repeat answers it again).
    result_contact_id   bigint,
    result_inquiry_id   bigint,
    result_lead_id      bigint,
    result_lead_status  text,
    CONSTRAINT call_legs_external_key UNIQUE (provider, external_id)
);
CREATE INDEX call_legs_call_idx ON call_legs (call_id, started_at);

-- ---------------------------------------------------------------------------
-- Messages: e-mail, messengers, social networks, site forms; inbound (from a client)
-- or outbound (a manager's reply). Raw payload kept for audit.

CREATE TABLE messages (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel              text NOT NULL CHECK (channel IN ('email', 'telegram', 'viber', 'facebook', 'instagram', 'site')),
    external_id          text CHECK (length(external_id) BETWEEN 1 AND 1000),   -- NULL: recorded by hand
    direction            text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    contact_id           bigint REFERENCES contacts(id),
    inquiry_id           bigint REFERENCES inquiries(id),
    lead_id              bigint REFERENCES leads(id),
    sender_email         text,
    sender_phone         text,
    sender_messenger_id  text,
    sender_username      text,
    sender_name          text,
    recipient            text,
    subject              text,
    body                 text NOT NULL,
    received_at          timestamptz NOT NULL,
    thread_id            text,
    attachments          jsonb NOT NULL DEFAULT '[]',
    manager_id           bigint REFERENCES users(id),
    raw                  jsonb,
    created_at           timestamptz NOT NULL,
    created_by           bigint REFERENCES users(id),
    result_contact_id    bigint,
    result_inquiry_id    bigint,
    result_lead_id       bigint,
    result_lead_status   text,
    CONSTRAINT messages_external_key UNIQUE (channel, external_id)
);
CREATE INDEX messages_contact_idx ON messages (contact_id, received_at DESC);
CREATE INDEX messages_received_idx ON messages (received_at DESC, id DESC);
CREATE INDEX messages_inquiry_idx ON messages (inquiry_id);
CREATE INDEX messages_lead_idx ON messages (lead_id);
CREATE INDEX messages_manager_idx ON messages (manager_id, received_at DESC);

-- ---------------------------------------------------------------------------
-- Records hooks.

-- The company card's last call: one row per logical call with a contact.
CREATE OR REPLACE VIEW records_contact_calls AS
    SELECT contact_id, started_at AS at, kind FROM calls WHERE contact_id IS NOT NULL;
CREATE TRIGGER calls_company_activity AFTER INSERT OR UPDATE OF contact_id, started_at, kind OR DELETE ON calls
    FOR EACH ROW EXECUTE FUNCTION records_contact_activity();

-- Everything of a contact follows it into a merge.
INSERT INTO contact_merge_refs (table_name, column_name) VALUES
    ('calls', 'contact_id'),
    ('messages', 'contact_id'),
    ('inquiries', 'contact_id'),
    ('leads', 'contact_id');

-- Audit snapshot of a lead (AuditEntity "lead").
CREATE FUNCTION leads_snapshot(p_id bigint) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('contact_id', contact_id, 'status', status, 'source', source, 'owner_id', owner_id,
                              'assigned_by', assigned_by, 'summary', summary, 'company_id', company_id,
                              'reject_reason_code', reject_reason_code, 'reject_reason_text', reject_reason_text)
    FROM leads WHERE id = p_id
$$;
