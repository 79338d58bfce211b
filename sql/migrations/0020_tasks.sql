-- Tasks (issue 5): work for a person, with a due time, a source (the channel the work
-- came from) and the records it concerns (a contact, a company, a lead).
--
-- * Visibility follows the assignee (the records rule on assignee_id): a sales user sees
--   the tasks of their department's members and unassigned ones.
-- * Every change is audited (entity `task`, snapshot tasks_snapshot).
-- * The first task a lead template asks for (lead_first_tasks, issue 4) becomes a task in
--   the transaction of lead.create, or by the `tasks.first_tasks` job for rows written
--   another way; lead_first_tasks.task_id then points at it.
-- * Times come from the server clock (bind parameters), never from now().
-- docs/TASKS.md explains the rest.

CREATE TABLE tasks (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title            text NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
    notes            text CHECK (length(notes) BETWEEN 1 AND 10000),
    status           text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'cancelled')),
    assignee_id      bigint REFERENCES users(id),
    due_at           timestamptz,
    source           text NOT NULL DEFAULT 'manual'
                     CHECK (source IN ('phone', 'email', 'telegram', 'viber', 'facebook', 'instagram', 'site', 'manual', 'import')),
    contact_id       bigint REFERENCES contacts(id),
    company_id       bigint REFERENCES companies(id),
    lead_id          bigint REFERENCES leads(id),
    -- When and by whom it was completed or cancelled.
    completed_at     timestamptz,
    completed_by     bigint REFERENCES users(id),
    completion_note  text CHECK (length(completion_note) BETWEEN 1 AND 2000),
    version          integer NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL,
    created_by       bigint REFERENCES users(id),
    updated_at       timestamptz NOT NULL,
    updated_by       bigint REFERENCES users(id),
    CHECK ((status = 'open') = (completed_at IS NULL))
);
-- The planners: a manager's open tasks by due time.
CREATE INDEX tasks_open_assignee_due_idx ON tasks (assignee_id, due_at) WHERE status = 'open';
CREATE INDEX tasks_due_idx ON tasks (due_at, id);
CREATE INDEX tasks_contact_idx ON tasks (contact_id);
CREATE INDEX tasks_company_idx ON tasks (company_id);
CREATE INDEX tasks_lead_idx ON tasks (lead_id);

-- A lead template's first task points at the task it became.
ALTER TABLE lead_first_tasks ADD CONSTRAINT lead_first_tasks_task_fkey FOREIGN KEY (task_id) REFERENCES tasks(id);

-- Tasks follow their contact into a merge.
INSERT INTO contact_merge_refs (table_name, column_name) VALUES ('tasks', 'contact_id');

-- Audit snapshot of a task (AuditEntity "task").
CREATE FUNCTION tasks_snapshot(p_id bigint) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('title', title, 'notes', notes, 'status', status, 'assignee_id', assignee_id, 'due_at', due_at,
                              'source', source, 'contact_id', contact_id, 'company_id', company_id, 'lead_id', lead_id,
                              'completion_note', completion_note)
    FROM tasks WHERE id = p_id
$$;
