import Foundation
import KontorDomain
import Postgres

/// Reads of the lead reporting views (`sql/views/leads_reporting.sql`, documented in
/// docs/REPORTING.md). No role checks: the caller decides whose figures to ask for.
public struct LeadReportRepository {
    let conn: PostgresConnection

    public init(_ conn: PostgresConnection) { self.conn = conn }

    /// `reporting.lead_response_v1` for the months `from`...`to` (first days of months),
    /// one manager or all (`managerID` nil), by period then manager name.
    public func leadResponse(from: PostgresDate, to: PostgresDate, managerID: Int64?) throws -> [LeadResponseRow] {
        try conn.query("""
            SELECT period_label, manager_id, manager_name, inquiries, answered, overdue_identifications,
                   median_first_response_seconds, p90_first_response_seconds
            FROM reporting.lead_response_v1
            WHERE period BETWEEN \(from) AND \(to) AND (\(managerID)::bigint IS NULL OR manager_id = \(managerID))
            ORDER BY period, manager_name, manager_id
            """).map { r in
            LeadResponseRow(period: try r.decode("period_label"), managerID: try r.decode("manager_id", as: Int64?.self),
                            managerName: try r.decode("manager_name"), inquiries: try r.decode("inquiries"), answered: try r.decode("answered"),
                            overdueIdentifications: try r.decode("overdue_identifications"),
                            medianFirstResponseSeconds: try r.decode("median_first_response_seconds", as: Int?.self),
                            p90FirstResponseSeconds: try r.decode("p90_first_response_seconds", as: Int?.self))
        }
    }
}
