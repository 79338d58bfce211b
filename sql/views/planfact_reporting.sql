-- Reporting views of plan, fact and funnels (issue 6). Documented column by column in
-- docs/REPORTING.md. Versioned names; a view changes only by adding columns at the end.
--
-- Facts are sums over shipments, one row per document, so a document is counted once
-- whatever number of contacts its company has. A shipment counts in shipments.period
-- (the business-time-zone month of shipped_at, or the first open month when that was
-- already closed). For a closed month these figures equal the history the close wrote.

-- Each view aggregates plans and shipments in ONE pass over a UNION ALL grouped by
-- (period, subject), so a filter on `period` (reports ask for a few months) is pushed
-- down into both arms and reaches `shipments` through its period index; nothing is
-- materialised over all shipments. `closed` is "at or before the last closed month":
-- months before the first close are frozen too (their late shipments are booked into
-- the first open month).

CREATE OR REPLACE VIEW reporting.plan_fact_by_manager_v1 AS
WITH k AS NOT MATERIALIZED (
    SELECT x.period, x.manager_id, sum(x.plan) AS plan, sum(x.potential) AS potential, sum(x.fact) AS fact,
           sum(x.n) AS shipments
    FROM (SELECT p.period, p.manager_id, p.plan, p.potential, 0::numeric AS fact, 0 AS n FROM public.manager_plans p
          UNION ALL
          SELECT s.period, s.manager_id, 0, 0, s.amount, 1 FROM public.shipments s) x
    GROUP BY x.period, x.manager_id
)
SELECT k.period,
       to_char(k.period, 'YYYY-MM') AS period_label,
       k.manager_id,
       coalesce(u.full_name, '(no manager)') AS manager_name,
       u.department,
       k.plan::numeric AS plan,
       k.potential::numeric AS potential,
       k.fact::numeric AS fact,
       (k.fact - k.plan)::numeric AS difference,
       CASE WHEN k.plan = 0 THEN NULL ELSE round(k.fact / k.plan, 4) END AS ratio,
       k.shipments::integer AS shipments,
       coalesce(k.period <= (SELECT max(c.period) FROM public.planfact_closes c), false) AS closed
FROM k
LEFT JOIN public.users u ON u.id = k.manager_id;

CREATE OR REPLACE VIEW reporting.plan_fact_by_company_v1 AS
WITH k AS NOT MATERIALIZED (
    SELECT x.period, x.company_id, sum(x.plan) AS plan, sum(x.potential) AS potential, sum(x.fact) AS fact,
           sum(x.n) AS shipments
    FROM (SELECT p.period, p.company_id, p.plan, p.potential, 0::numeric AS fact, 0 AS n FROM public.company_plans p
          UNION ALL
          SELECT s.period, s.company_id, 0, 0, s.amount, 1 FROM public.shipments s) x
    GROUP BY x.period, x.company_id
)
SELECT k.period,
       to_char(k.period, 'YYYY-MM') AS period_label,
       k.company_id,
       co.name AS company_name,
       co.owner_id AS manager_id,
       u.full_name AS manager_name,
       u.department,
       k.plan::numeric AS plan,
       k.potential::numeric AS potential,
       k.fact::numeric AS fact,
       (k.fact - k.plan)::numeric AS difference,
       CASE WHEN k.plan = 0 THEN NULL ELSE round(k.fact / k.plan, 4) END AS ratio,
       k.shipments::integer AS shipments,
       coalesce(k.period <= (SELECT max(c.period) FROM public.planfact_closes c), false) AS closed,
       (co.deleted_at IS NOT NULL) AS company_deleted
FROM k
JOIN public.companies co ON co.id = k.company_id
LEFT JOIN public.users u ON u.id = co.owner_id;

CREATE OR REPLACE VIEW reporting.funnel_stages_v1 AS
SELECT st.funnel, st.code AS stage, st.name AS stage_name, st.position AS stage_position,
       (st.removed_at IS NOT NULL) AS removed
FROM public.funnel_stages st;

CREATE OR REPLACE VIEW reporting.funnel_v1 AS
SELECT st.funnel,
       st.code AS stage,
       st.name AS stage_name,
       st.position AS stage_position,
       co.owner_id AS manager_id,
       u.full_name AS manager_name,
       u.department,
       count(*)::integer AS companies,
       round((avg(extract(epoch FROM (now() - cf.since))) / 86400)::numeric, 1) AS avg_days_in_stage,
       round((max(extract(epoch FROM (now() - cf.since))) / 86400)::numeric, 1) AS max_days_in_stage,
       min(cf.since) AS oldest_since
FROM public.company_funnel cf
JOIN public.funnel_stages st ON st.id = cf.stage_id
JOIN public.companies co ON co.id = cf.company_id AND co.deleted_at IS NULL
LEFT JOIN public.users u ON u.id = co.owner_id
GROUP BY st.funnel, st.code, st.name, st.position, co.owner_id, u.full_name, u.department;

CREATE OR REPLACE VIEW reporting.funnel_companies_v1 AS
SELECT co.id AS company_id,
       co.name AS company_name,
       co.owner_id AS manager_id,
       u.full_name AS manager_name,
       u.department,
       st.funnel,
       st.code AS stage,
       st.name AS stage_name,
       cf.since,
       round((extract(epoch FROM (now() - cf.since)) / 86400)::numeric, 1) AS days_in_stage
FROM public.company_funnel cf
JOIN public.funnel_stages st ON st.id = cf.stage_id
JOIN public.companies co ON co.id = cf.company_id AND co.deleted_at IS NULL
LEFT JOIN public.users u ON u.id = co.owner_id;
