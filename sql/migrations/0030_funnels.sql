-- Funnels (issue 6): every company sits in exactly one stage of the Development funnel
-- (stages configured by admins) or of the Service funnel (three fixed stages). Every move
-- is recorded (who, when, from, to), so the time a company spent in each stage is derived
-- from funnel_moves; company_funnel.since is when it entered its current stage.
--
-- Times come from the server clock (bind parameters) in the repositories; the trigger
-- that puts a new company into the first stage uses the company's created_at.

CREATE TABLE funnel_stages (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    funnel      text NOT NULL CHECK (funnel IN ('development', 'service')),
    -- Stable code: never changes, never reused (also after removal).
    code        text NOT NULL CHECK (code ~ '^[a-z][a-z0-9_]{1,39}$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    position    integer NOT NULL CHECK (position >= 1),
    -- A removed stage stays (moves and history point at it) and holds no company.
    removed_at  timestamptz,
    removed_by  bigint REFERENCES users(id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX funnel_stages_code_key ON funnel_stages (code);
CREATE INDEX funnel_stages_order_idx ON funnel_stages (funnel, position) WHERE removed_at IS NULL;

-- The default Development funnel of an office-supplies distributor, and the Service
-- funnel of the seed. Admins rename, reorder, add and remove Development stages.
INSERT INTO funnel_stages (funnel, code, name, position) VALUES
    ('development', 'new',              'New company',          1),
    ('development', 'contacted',        'Contacted',            2),
    ('development', 'needs_identified', 'Needs identified',     3),
    ('development', 'proposal',         'Proposal sent',        4),
    ('development', 'negotiation',      'Negotiation',          5),
    ('development', 'first_order',      'First order',          6),
    ('service',     'deal_planned',             'Deal planned',             1),
    ('service',     'deal_partially_completed', 'Deal partially completed', 2),
    ('service',     'deal_completed',           'Deal completed',           3);

-- Where each company is now.
CREATE TABLE company_funnel (
    company_id  bigint PRIMARY KEY REFERENCES companies(id),
    stage_id    bigint NOT NULL REFERENCES funnel_stages(id),
    since       timestamptz NOT NULL
);
CREATE INDEX company_funnel_stage_idx ON company_funnel (stage_id);

-- Every move: entering the funnel (from_stage_id NULL), moves by people, forced moves by
-- admins, and moves made when a stage was removed.
CREATE TABLE funnel_moves (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    company_id     bigint NOT NULL REFERENCES companies(id),
    from_stage_id  bigint REFERENCES funnel_stages(id),
    to_stage_id    bigint NOT NULL REFERENCES funnel_stages(id),
    at             timestamptz NOT NULL,
    actor_id       bigint REFERENCES users(id),
    method         text NOT NULL,
    -- 'move' (by the rules), 'forced' (an admin's override), 'stage_removed', 'entered'
    kind           text NOT NULL CHECK (kind IN ('entered', 'move', 'forced', 'stage_removed')),
    note           text CHECK (length(note) BETWEEN 1 AND 1000)
);
CREATE INDEX funnel_moves_company_idx ON funnel_moves (company_id, id);

-- The first live Development stage.
CREATE FUNCTION funnel_first_stage() RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT id FROM funnel_stages WHERE funnel = 'development' AND removed_at IS NULL ORDER BY position, id LIMIT 1
$$;

-- Every new company enters the first Development stage, whatever created it.
CREATE FUNCTION funnel_company_enters() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_stage bigint := funnel_first_stage();
BEGIN
    INSERT INTO company_funnel (company_id, stage_id, since) VALUES (NEW.id, v_stage, NEW.created_at);
    INSERT INTO funnel_moves (company_id, from_stage_id, to_stage_id, at, actor_id, method, kind)
    VALUES (NEW.id, NULL, v_stage, NEW.created_at, NEW.created_by, 'company.create', 'entered');
    RETURN NULL;
END $$;
CREATE TRIGGER companies_funnel_enter AFTER INSERT ON companies
    FOR EACH ROW EXECUTE FUNCTION funnel_company_enters();

-- Companies that exist already enter the first stage now.
INSERT INTO company_funnel (company_id, stage_id, since)
    SELECT id, funnel_first_stage(), created_at FROM companies;
INSERT INTO funnel_moves (company_id, from_stage_id, to_stage_id, at, actor_id, method, kind)
    SELECT id, NULL, funnel_first_stage(), created_at, created_by, 'migration', 'entered' FROM companies;
