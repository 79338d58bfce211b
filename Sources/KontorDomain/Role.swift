/// Who a session acts as. Source: `docs/DOMAIN` glossary (People and roles).
public enum Role: String, Sendable, CaseIterable, Codable, Hashable {
    /// A sales manager: contacts, companies, leads, tasks of their department.
    case user
    /// Head of sales: sees and controls everyone's work, sets plans, reads all reports.
    case admin
    /// Configures the system (users, robot tokens, schedules); no sales data.
    case techAdmin = "tech_admin"
    /// An integration identity (telephony, mail, messengers, site, automations).
    case robot
}

/// The two sales departments. Source: the seed's "Development" and "Service".
public enum Department: String, Sendable, CaseIterable, Codable, Hashable {
    case development
    case service
}
