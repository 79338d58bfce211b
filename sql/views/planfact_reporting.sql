-- Reporting views of plan, fact and funnels (issue 6). Documented column by column in
-- docs/REPORTING.md. Versioned names; a view changes only by adding columns at the end.
--
-- Facts are sums over shipments, one row per document, so a document is counted once
-- whatever number of contacts its company has. A shipment counts in shipments.period
-- (the business-time-zone month of shipped_at, or the first open month when that was
-- already closed). For a closed month these figures equal the history the close wrote.

CREATE OR REPLACE VIEW reporting.plan_fact_by_manager_v1 AS
WITH facts AS (
    SELECT s.period, s.manager_id, sum(s.amount) AS fact, count(DISTINCT s.id) AS shipments
    FROM public.shipments s
    GROUP BY s.period, s.manager_id
), keys AS (
    SELECT period, manager_id FROM public.manager_plans
    UNION
    SELECT period, manager_id FROM facts
)
SELECT k.period,
       to_char(k.period, 'YYYY-MM') AS period_label,
       k.manager_id,
       coalesce(u.full_name, '(no manager)') AS manager_name,
       u.department,
       coalesce(p.plan, 0) AS plan,
       coalesce(p.potential, 0) AS potential,
       coalesce(f.fact, 0) AS fact,
       coalesce(f.fact, 0) - coalesce(p.plan, 0) AS difference,
       CASE WHEN coalesce(p.plan, 0) = 0 THEN NULL ELSE round(coalesce(f.fact, 0) / p.plan, 4) END AS ratio,
       coalesce(f.shipments, 0)::integer AS shipments,
       (c.period IS NOT NULL) AS closed
FROM keys k
LEFT JOIN public.manager_plans p ON p.period = k.period AND p.manager_id = k.manager_id
LEFT JOIN facts f ON f.period = k.period AND f.manager_id IS NOT DISTINCT FROM k.manager_id
LEFT JOIN public.users u ON u.id = k.manager_id
LEFT JOIN public.planfact_closes c ON c.period = k.period;

CREATE OR REPLACE VIEW reporting.plan_fact_by_company_v1 AS
WITH facts AS (
    SELECT s.period, s.company_id, sum(s.amount) AS fact, count(DISTINCT s.id) AS shipments
    FROM public.shipments s
    GROUP BY s.period, s.company_id
), keys AS (
    SELECT period, company_id FROM public.company_plans
    UNION
    SELECT period, company_id FROM facts
)
SELECT k.period,
       to_char(k.period, 'YYYY-MM') AS period_label,
       k.company_id,
       co.name AS company_name,
       co.owner_id AS manager_id,
       u.full_name AS manager_name,
       u.department,
       coalesce(p.plan, 0) AS plan,
       coalesce(p.potential, 0) AS potential,
       coalesce(f.fact, 0) AS fact,
       coalesce(f.fact, 0) - coalesce(p.plan, 0) AS difference,
       CASE WHEN coalesce(p.plan, 0) = 0 THEN NULL ELSE round(coalesce(f.fact, 0) / p.plan, 4) END AS ratio,
       coalesce(f.shipments, 0)::integer AS shipments,
       (c.period IS NOT NULL) AS closed,
       (co.deleted_at IS NOT NULL) AS company_deleted
FROM keys k
JOIN public.companies co ON co.id = k.company_id
LEFT JOIN public.company_plans p ON p.period = k.period AND p.company_id = k.company_id
LEFT JOIN facts f ON f.period = k.period AND f.company_id = k.company_id
LEFT JOIN public.users u ON u.id = co.owner_id
LEFT JOIN public.planfact_closes c ON c.period = k.period;

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
