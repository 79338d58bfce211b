-- Plan and fact (issue 6): plans per manager and per company per month, shipments (the
-- facts), and the history the monthly close writes.
--
-- A period is the first day of a month of the business time zone (a `date`). Money is
-- numeric(14,2). A shipment counts in exactly one period (`period`): the month of its
-- shipped_at in the business time zone, or, when that month is already closed, the first
-- open month after it (a late document is booked forward, never into a closed month).

CREATE TABLE manager_plans (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    manager_id  bigint NOT NULL REFERENCES users(id),
    period      date NOT NULL CHECK (extract(day FROM period) = 1),
    plan        numeric(14,2) NOT NULL DEFAULT 0 CHECK (plan >= 0),
    potential   numeric(14,2) NOT NULL DEFAULT 0 CHECK (potential >= 0),
    version     integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    updated_by  bigint REFERENCES users(id),
    UNIQUE (manager_id, period)
);
CREATE INDEX manager_plans_period_idx ON manager_plans (period);

CREATE TABLE company_plans (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    company_id  bigint NOT NULL REFERENCES companies(id),
    period      date NOT NULL CHECK (extract(day FROM period) = 1),
    plan        numeric(14,2) NOT NULL DEFAULT 0 CHECK (plan >= 0),
    potential   numeric(14,2) NOT NULL DEFAULT 0 CHECK (potential >= 0),
    version     integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    updated_by  bigint REFERENCES users(id),
    UNIQUE (company_id, period)
);
CREATE INDEX company_plans_period_idx ON company_plans (period);

-- Audit snapshots (audit_log entity 'manager_plan' / 'company_plan').
CREATE FUNCTION planfact_manager_plan_snapshot(p_id bigint) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('manager_id', manager_id, 'period', to_char(period, 'YYYY-MM'),
                              'plan', plan::text, 'potential', potential::text)
    FROM manager_plans WHERE id = p_id
$$;
CREATE FUNCTION planfact_company_plan_snapshot(p_id bigint) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('company_id', company_id, 'period', to_char(period, 'YYYY-MM'),
                              'plan', plan::text, 'potential', potential::text)
    FROM company_plans WHERE id = p_id
$$;

-- Shipments: one row per document (an order delivered, or a refund as a negative amount).
CREATE TABLE shipments (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The sender's id of the document: delivering it twice records it once.
    external_id      text CHECK (length(external_id) BETWEEN 1 AND 200),
    company_id       bigint NOT NULL REFERENCES companies(id),
    counterparty_id  bigint REFERENCES counterparties(id),
    -- The person of the company the order came through, when known (contact figures).
    contact_id       bigint REFERENCES contacts(id),
    -- The manager the sale counts for (plan/fact per manager); NULL = nobody.
    manager_id       bigint REFERENCES users(id),
    document_number  text NOT NULL CHECK (length(document_number) BETWEEN 1 AND 100),
    amount           numeric(14,2) NOT NULL CHECK (amount <> 0),
    shipped_at       timestamptz NOT NULL,
    -- The month of shipped_at in the business time zone.
    shipped_period   date NOT NULL CHECK (extract(day FROM shipped_period) = 1),
    -- The month it counts in: shipped_period, or the first open month when that was closed.
    period           date NOT NULL CHECK (extract(day FROM period) = 1 AND period >= shipped_period),
    recorded_at      timestamptz NOT NULL,
    recorded_by      bigint REFERENCES users(id)
);
CREATE UNIQUE INDEX shipments_external_id_key ON shipments (external_id) WHERE external_id IS NOT NULL;
CREATE INDEX shipments_period_idx ON shipments (period, company_id);
CREATE INDEX shipments_company_idx ON shipments (company_id, shipped_at);
CREATE INDEX shipments_manager_idx ON shipments (manager_id, period);
CREATE INDEX shipments_contact_idx ON shipments (contact_id) WHERE contact_id IS NOT NULL;
CREATE INDEX shipments_list_idx ON shipments (shipped_at DESC, id DESC);

-- A contact merged into another takes its shipments along (contact figures follow).
INSERT INTO contact_merge_refs (table_name, column_name) VALUES ('shipments', 'contact_id');

-- Closed months: one row per period, written once by the monthly close (primary key),
-- with the totals it closed.
CREATE TABLE planfact_closes (
    period           date PRIMARY KEY CHECK (extract(day FROM period) = 1),
    closed_at        timestamptz NOT NULL,
    schedule_run_id  bigint,
    time_zone        text NOT NULL,
    shipments        integer NOT NULL,
    fact             numeric(14,2) NOT NULL
);

-- The figures of a closed month per manager, per company and per contact, as they were at
-- the close (names included). Written once per period, in the close's transaction.
--   manager rows: plan/potential from manager_plans, fact from shipments.manager_id
--                 (subject_id NULL: shipments without a manager)
--   company rows: plan/potential from company_plans, fact from shipments.company_id
--   contact rows: fact of the shipments that name the contact; no plan (NULL)
CREATE TABLE planfact_history (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    period         date NOT NULL REFERENCES planfact_closes(period),
    kind           text NOT NULL CHECK (kind IN ('manager', 'company', 'contact')),
    subject_id     bigint,
    subject_name   text NOT NULL,
    -- manager rows: the manager's department at the close; company rows: the owner's.
    department     text,
    -- company rows: the owner at the close; contact rows: the contact's company at the close.
    owner_id       bigint,
    company_id     bigint,
    plan           numeric(14,2),
    potential      numeric(14,2),
    fact           numeric(14,2) NOT NULL,
    shipments      integer NOT NULL,
    CHECK (subject_id IS NOT NULL OR kind = 'manager')
);
CREATE UNIQUE INDEX planfact_history_key ON planfact_history (period, kind, (coalesce(subject_id, 0)));
