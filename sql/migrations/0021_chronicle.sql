-- The chronicle (issue 5): each user's activity feed, and the source of live pushes.
--
-- Rows are written in the transaction of what they tell:
--   * reminder        by the reminder job (Swift), one per firing (unique firing_id);
--   * task_assigned   by the trigger on tasks (assignee set to someone else than the actor);
--   * lead_assigned   by the trigger on leads (owner set to someone else than the actor:
--                     robots' routing, a colleague, an admin);
--   * lead_overdue    by the trigger on lead_status_history (to overdue_identification):
--                     to the lead's owner, to every active admin when it has none;
--   * mention         by the trigger on comments (`@login`, to users who may see the card).
-- Writing them in the same transaction as the change (not from a LISTEN handler) makes
-- them exactly once and never lost while no instance runs.
--
-- Every insert sends NOTIFY kontor_chronicle '<user_id>:<id>'; each kontord re-reads the
-- user's new rows and pushes them to the user's subscribed sessions. `xid` (the writing
-- transaction) lets a reader know which rows may still appear: see
-- ChronicleRepository.pushable and docs/TASKS.md ("Live notifications").
--
-- `in_feed` false marks a reminder sent to the app only: pushed, not shown in the feed.
-- Times are the rows' own server-clock stamps (updated_at, at, created_at), never now().

CREATE TABLE chronicle (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users(id),
    kind         text NOT NULL CHECK (kind IN ('reminder', 'task_assigned', 'lead_assigned', 'lead_overdue', 'mention')),
    at           timestamptz NOT NULL,
    text         text NOT NULL CHECK (length(text) BETWEEN 1 AND 4000),
    actor_id     bigint REFERENCES users(id),
    contact_id   bigint REFERENCES contacts(id),
    company_id   bigint REFERENCES companies(id),
    lead_id      bigint REFERENCES leads(id),
    task_id      bigint REFERENCES tasks(id),
    reminder_id  bigint,   -- foreign keys in 0022
    firing_id    bigint,
    comment_id   bigint REFERENCES comments(id),
    in_feed      boolean NOT NULL DEFAULT true,
    push_app     boolean NOT NULL DEFAULT false,
    read_at      timestamptz,
    xid          xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX chronicle_feed_idx ON chronicle (user_id, id DESC) WHERE in_feed;
CREATE INDEX chronicle_unread_idx ON chronicle (user_id, id) WHERE in_feed AND read_at IS NULL;
CREATE INDEX chronicle_push_idx ON chronicle (user_id, xid);
CREATE INDEX chronicle_contact_idx ON chronicle (contact_id) WHERE contact_id IS NOT NULL;

-- Entries keep pointing at the card a merge keeps.
INSERT INTO contact_merge_refs (table_name, column_name) VALUES ('chronicle', 'contact_id');

CREATE FUNCTION chronicle_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('kontor_chronicle', NEW.user_id::text || ':' || NEW.id::text);
    RETURN NULL;
END $$;
CREATE TRIGGER chronicle_notify AFTER INSERT ON chronicle
    FOR EACH ROW EXECUTE FUNCTION chronicle_notify();

-- Who has a feed: active sales users and admins.
CREATE FUNCTION chronicle_recipient(p_user bigint) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM users WHERE id = p_user AND active AND role IN ('user', 'admin'))
$$;

-- A task given to someone (not by themselves).
CREATE FUNCTION chronicle_task_assigned() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.assignee_id IS NULL OR NEW.status <> 'open' THEN RETURN NULL; END IF;
    IF TG_OP = 'UPDATE' AND OLD.assignee_id IS NOT DISTINCT FROM NEW.assignee_id THEN RETURN NULL; END IF;
    IF NEW.assignee_id IS NOT DISTINCT FROM NEW.updated_by OR NOT chronicle_recipient(NEW.assignee_id) THEN RETURN NULL; END IF;
    INSERT INTO chronicle (user_id, kind, at, text, actor_id, contact_id, company_id, lead_id, task_id)
    VALUES (NEW.assignee_id, 'task_assigned', NEW.updated_at, 'Task for you: ' || left(NEW.title, 500), NEW.updated_by,
            NEW.contact_id, NEW.company_id, NEW.lead_id, NEW.id);
    RETURN NULL;
END $$;
CREATE TRIGGER tasks_chronicle AFTER INSERT OR UPDATE OF assignee_id ON tasks
    FOR EACH ROW EXECUTE FUNCTION chronicle_task_assigned();

-- A lead given to someone (not by themselves): routing of inquiries, a colleague, an admin.
CREATE FUNCTION chronicle_lead_assigned() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.owner_id IS NULL THEN RETURN NULL; END IF;
    IF TG_OP = 'UPDATE' AND OLD.owner_id IS NOT DISTINCT FROM NEW.owner_id THEN RETURN NULL; END IF;
    IF NEW.owner_id IS NOT DISTINCT FROM NEW.updated_by OR NOT chronicle_recipient(NEW.owner_id) THEN RETURN NULL; END IF;
    INSERT INTO chronicle (user_id, kind, at, text, actor_id, contact_id, lead_id)
    VALUES (NEW.owner_id, 'lead_assigned', NEW.updated_at,
            'Lead ' || NEW.id || ' is yours (' || NEW.source || coalesce(': ' || left(NEW.summary, 300), '') || ')',
            NEW.updated_by, NEW.contact_id, NEW.id);
    RETURN NULL;
END $$;
CREATE TRIGGER leads_chronicle AFTER INSERT OR UPDATE OF owner_id ON leads
    FOR EACH ROW EXECUTE FUNCTION chronicle_lead_assigned();

-- A lead that became overdue: to its owner, or to every active admin when it has none.
CREATE FUNCTION chronicle_lead_overdue() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_owner bigint;
    v_contact bigint;
BEGIN
    IF NEW.to_status <> 'overdue_identification' THEN RETURN NULL; END IF;
    SELECT owner_id, contact_id INTO v_owner, v_contact FROM leads WHERE id = NEW.lead_id;
    INSERT INTO chronicle (user_id, kind, at, text, actor_id, contact_id, lead_id)
    SELECT u.id, 'lead_overdue', NEW.at,
           'Lead ' || NEW.lead_id || ' is overdue: ' || CASE NEW.cause WHEN 'call_missed' THEN 'a call was missed'
                                                                    WHEN 'message_unanswered' THEN 'a message was not answered in time'
                                                                    ELSE 'it waits for identification' END,
           NEW.actor_id, v_contact, NEW.lead_id
    FROM users u
    WHERE u.active AND u.role IN ('user', 'admin') AND (u.id = v_owner OR (v_owner IS NULL AND u.role = 'admin'))
    ORDER BY u.id;
    RETURN NULL;
END $$;
CREATE TRIGGER lead_status_history_chronicle AFTER INSERT ON lead_status_history
    FOR EACH ROW EXECUTE FUNCTION chronicle_lead_overdue();

-- `@login` in a comment: to each active sales user or admin named, other than the author,
-- who may see the card (the records visibility rule on the contact's, else the
-- company's owner). A login may end a sentence: trailing dots and dashes are dropped.
CREATE FUNCTION chronicle_mentions() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_owner bigint;
BEGIN
    IF position('@' IN NEW.body) = 0 THEN RETURN NULL; END IF;
    IF NEW.contact_id IS NOT NULL THEN
        SELECT owner_id INTO v_owner FROM contacts WHERE id = NEW.contact_id;
    ELSE
        SELECT owner_id INTO v_owner FROM companies WHERE id = NEW.company_id;
    END IF;
    INSERT INTO chronicle (user_id, kind, at, text, actor_id, contact_id, company_id, comment_id)
    SELECT u.id, 'mention', NEW.created_at,
           coalesce(a.full_name, 'Someone') || ' mentioned you: ' || left(NEW.body, 300) || CASE WHEN length(NEW.body) > 300 THEN '…' ELSE '' END,
           NEW.author_id, NEW.contact_id, NEW.company_id, NEW.id
    FROM (SELECT DISTINCT lower(rtrim(m[1], '.-')) AS login
          FROM regexp_matches(NEW.body, '(?:^|[^A-Za-z0-9._@-])@([A-Za-z0-9._@-]{2,64})', 'g') AS m) named
    JOIN users u ON lower(u.login) = named.login
    LEFT JOIN users a ON a.id = NEW.author_id
    WHERE u.active AND u.role IN ('user', 'admin') AND u.id IS DISTINCT FROM NEW.author_id
      AND (u.role = 'admin' OR v_owner IS NULL
           OR EXISTS (SELECT 1 FROM users o WHERE o.id = v_owner AND o.department IS NOT NULL AND o.department = u.department))
    ORDER BY u.id;
    RETURN NULL;
END $$;
CREATE TRIGGER comments_chronicle AFTER INSERT ON comments
    FOR EACH ROW EXECUTE FUNCTION chronicle_mentions();
