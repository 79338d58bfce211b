-- Reporting views of inquiries and leads (issue 4). Documented column by column in
-- docs/REPORTING.md. Versioned names; a view changes only by adding columns at the end.
--
-- Periods are the months of the business time zone, stored by the writer
-- (inquiries.received_period, leads.created_period), so these views need no zone.

-- Per manager (the owner of the inquiry's lead) and month of reception.
CREATE OR REPLACE VIEW reporting.lead_response_v1 AS
SELECT i.received_period AS period,
       to_char(i.received_period, 'YYYY-MM') AS period_label,
       l.owner_id AS manager_id,
       coalesce(u.full_name, '(unassigned)') AS manager_name,
       u.department,
       count(*)::integer AS inquiries,
       (count(*) FILTER (WHERE i.first_response_at IS NOT NULL))::integer AS answered,
       (count(*) FILTER (WHERE i.overdue_at IS NOT NULL))::integer AS overdue_identifications,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY greatest(0, extract(epoch FROM i.first_response_at - i.received_at)))
             FILTER (WHERE i.first_response_at IS NOT NULL))::integer AS median_first_response_seconds,
       round(percentile_cont(0.9) WITHIN GROUP (ORDER BY greatest(0, extract(epoch FROM i.first_response_at - i.received_at)))
             FILTER (WHERE i.first_response_at IS NOT NULL))::integer AS p90_first_response_seconds
FROM public.inquiries i
JOIN public.leads l ON l.id = i.lead_id
LEFT JOIN public.users u ON u.id = l.owner_id
GROUP BY i.received_period, l.owner_id, u.full_name, u.department;

-- Per month and source: inquiries received, and leads made, of which target / rejected.
CREATE OR REPLACE VIEW reporting.inquiries_by_source_v1 AS
WITH inq AS (
    SELECT received_period AS period, source, count(*) AS inquiries
    FROM public.inquiries
    GROUP BY received_period, source
), ld AS (
    SELECT created_period AS period, source, count(*) AS leads,
           count(*) FILTER (WHERE status = 'target') AS target,
           count(*) FILTER (WHERE status = 'rejected') AS rejected
    FROM public.leads
    GROUP BY created_period, source
)
SELECT coalesce(inq.period, ld.period) AS period,
       to_char(coalesce(inq.period, ld.period), 'YYYY-MM') AS period_label,
       coalesce(inq.source, ld.source) AS source,
       coalesce(inq.inquiries, 0)::integer AS inquiries,
       coalesce(ld.leads, 0)::integer AS leads,
       coalesce(ld.target, 0)::integer AS target,
       coalesce(ld.rejected, 0)::integer AS rejected
FROM inq FULL JOIN ld ON ld.period = inq.period AND ld.source = inq.source;
