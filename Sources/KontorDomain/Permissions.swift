/// Who may call a method.
public enum Access: Sendable, Equatable {
    /// Callable before login (and by every logged-in role).
    case anonymous
    /// Callable by these roles only.
    case roles(Set<Role>)
}

/// The permission table: every protocol method × role, deny by default.
///
/// The server consults it before any handler runs; a method missing here is refused for
/// everyone (and a test checks that every registered method has a row). Row-level rules
/// (which records a role may see) live in `Visibility`, not here.
public enum Permissions {
    static let humans: Set<Role> = [.user, .admin, .techAdmin]
    static let sales: Set<Role> = [.user, .admin]
    static let admins: Set<Role> = [.admin]
    static let userManagers: Set<Role> = [.admin, .techAdmin]
    static let tech: Set<Role> = [.techAdmin]
    static let robots: Set<Role> = [.robot]
    static let everyone: Set<Role> = Set(Role.allCases)

    /// method name → who may call it.
    public static let table: [String: Access] = {
        var t: [String: Access] = [:]
        func allow(_ methods: [String], _ roles: Set<Role>) {
            for m in methods { t[m] = .roles(roles) }
        }
        // MARK: session (issue 2)
        for m in ["ping", "server.info", "auth.login", "auth.token", "auth.resume"] { t[m] = .anonymous }
        allow(["auth.logout", "auth.whoami"], everyone)
        allow(["auth.change_password"], humans)
        // MARK: users and robot tokens (issue 2)
        allow(["user.list", "user.get"], humans)
        allow(["user.create", "user.update", "user.set_password"], userManagers)
        allow(["robot.token.create", "robot.token.revoke", "robot.token.list"], tech)
        // MARK: records (issue 3)
        // Row-level rules (whose records) are in `Visibility`; robots only look up for routing.
        allow(["contact.create", "contact.get", "contact.update", "contact.list", "contact.find", "contact.merge",
               "contact.delete", "contact.restore", "contact.comment", "contact.to_company",
               "company.create", "company.get", "company.update", "company.list", "company.delete", "company.restore",
               "company.comment", "counterparty.add", "counterparty.update", "counterparty.list", "audit.list"], sales)
        allow(["contact.lookup"], robots)
        // Spreadsheets and CRM exports: a robot (kontor-bridge) or a person through `kontor`.
        // Rows the caller may not see are reported, never changed (`Visibility`).
        allow(["contact.import"], [.robot, .admin, .user])
        // MARK: leads and ingestion (issue 4)
        // Robots only deliver; reading is for sales; the process's configuration is for admins and tech admins.
        allow(["call.ingest", "message.ingest"], robots)
        allow(["lead.create", "lead.get", "lead.list", "lead.update", "lead.qualify", "lead.reject", "inquiry.list", "inquiry.respond",
               "call.list", "call.get", "message.list", "message.get", "report.lead_response"], sales)
        allow(["lead.reopen"], admins)
        allow(["lead.settings.get", "lead.status.list", "lead.reason.list", "lead.template.list"], humans)
        allow(["lead.settings.update", "lead.status.update", "lead.reason.create", "lead.reason.update", "lead.template.create",
               "lead.template.update", "line.list", "line.set", "line.delete"], userManagers)
        // MARK: tasks, reminders, planners, notifications (issue 5)
        // Rows follow `Visibility` (tasks by assignee; reminders by card and user); whose feed,
        // planner or webhook (oneself, or anyone for admins) is checked by the handlers.
        allow(["task.create", "task.get", "task.update", "task.complete", "task.reopen", "task.cancel", "task.list",
               "reminder.create", "reminder.get", "reminder.list", "reminder.cancel", "reminder.snooze",
               "user.webhook.get", "user.webhook.set", "user.webhook.delete",
               "chronicle.list", "chronicle.mark_read", "chronicle.mark_unread", "notify.subscribe", "notify.unsubscribe",
               "planner.get"], sales)
        // MARK: funnels, plan/fact, reports, schedules (issue 6)
        // Rows (whose companies and figures) follow `Visibility`; admins set plans and manage stages.
        allow(["funnel.list", "company.set_stage", "company.stage_history", "plan.get", "plan.list", "shipment.list",
               "report.plan_fact", "report.funnel"], sales)
        allow(["funnel.add_stage", "funnel.rename_stage", "funnel.reorder_stages", "funnel.remove_stage", "plan.set"], admins)
        allow(["shipment.record"], sales.union(robots))
        allow(["schedule.list", "schedule.update", "schedule.run_now", "schedule.history"], tech)
        return t
    }()

    /// Whether `role` may call `method`; nil role = not logged in.
    public static func allows(_ role: Role?, _ method: String) -> Bool {
        switch table[method] {
        case nil: return false
        case .anonymous: return true
        case .roles(let roles):
            guard let role else { return false }
            return roles.contains(role)
        }
    }

    /// Whether the method can be called before login.
    public static func isAnonymous(_ method: String) -> Bool {
        table[method] == .anonymous
    }
}
