import Foundation
import KontorDomain
import KontorProtocol
import KontorStore
import Postgres

/// The lead process's configuration: `lead.settings.*`, `lead.status.*`,
/// `lead.reason.*`, `lead.template.*`, `line.*` (issue 4), and the overdue sweep job.
enum LeadConfigHandlers {
    static func register(_ t: inout MethodTable) {
        // MARK: settings
        t.register("lead.settings.get", NoParams.self) { ctx, _ in
            try await ctx.app.read { conn in try LeadConfigRepository(conn).settings() }
        }
        t.register("lead.settings.update", LeadMethods.LeadSettingsUpdateParams.self) { ctx, p in
            let stamp = ctx.stamp
            let settings = try await ctx.app.transaction { conn -> LeadSettings in
                let repo = LeadConfigRepository(conn)
                var s = try repo.settings()
                if let v = p.openLeadWindowSeconds { s.openLeadWindowSeconds = v }
                if let v = p.messageResponseSeconds { s.messageResponseSeconds = v }
                if let v = p.waitThresholdsSeconds { s.waitThresholdsSeconds = v }
                if let v = p.roundRobinUserIDs { s.roundRobinUserIDs = v }
                try s.validate()
                if let bad = try repo.notSalesUsers(s.roundRobinUserIDs).first {
                    throw KontorError.invalidParams("round_robin_user_ids", "user \(bad) is not an active sales user")
                }
                try repo.saveSettings(s, stamp: stamp)
                return s
            }
            return settings
        }

        // MARK: statuses
        t.register("lead.status.list", NoParams.self) { ctx, _ in
            LeadMethods.StatusList(statuses: try await ctx.app.read { conn in try LeadConfigRepository(conn).statuses() })
        }
        t.register("lead.status.update", LeadMethods.StatusLabelParams.self) { ctx, p in
            let label = try RecordInput.required(p.label, field: "label", max: 100)
            let stamp = ctx.stamp
            return LeadMethods.StatusList(statuses: try await ctx.app.transaction { conn in
                let repo = LeadConfigRepository(conn)
                try repo.setStatusLabel(p.code, label: label, stamp: stamp)
                return try repo.statuses()
            })
        }

        // MARK: rejection reasons
        t.register("lead.reason.list", LeadMethods.AllParams.self) { ctx, p in
            LeadMethods.ReasonList(reasons: try await ctx.app.read { conn in
                try LeadConfigRepository(conn).reasons(includeInactive: p.all ?? false)
            })
        }
        t.register("lead.reason.create", LeadMethods.ReasonCreateParams.self) { ctx, p in
            let code = p.code.trimmingCharacters(in: .whitespaces)
            guard code.range(of: "^[a-z][a-z0-9_]{0,39}$", options: .regularExpression) != nil else {
                throw KontorError.invalidParams("code", "a code is 1 to 40 of a-z 0-9 _, starting with a letter")
            }
            let label = try RecordInput.required(p.label, field: "label", max: 200)
            let stamp = ctx.stamp
            return try await ctx.app.transaction { conn in
                try LeadConfigRepository(conn).createReason(code: code, label: label, textRequired: p.textRequired ?? false,
                                                            position: p.position ?? 100, stamp: stamp)
            }
        }
        t.register("lead.reason.update", LeadMethods.ReasonUpdateParams.self) { ctx, p in
            let label = try p.label.map { try RecordInput.required($0, field: "label", max: 200) }
            let stamp = ctx.stamp
            return try await ctx.app.transaction { conn in
                try LeadConfigRepository(conn).updateReason(code: p.code, version: p.version, label: label, textRequired: p.textRequired,
                                                            active: p.active, position: p.position, stamp: stamp)
            }
        }

        // MARK: templates
        t.register("lead.template.list", LeadMethods.AllParams.self) { ctx, p in
            LeadMethods.TemplateList(templates: try await ctx.app.read { conn in
                try LeadConfigRepository(conn).templates(includeInactive: p.all ?? false)
            })
        }
        t.register("lead.template.create", LeadMethods.TemplateCreateParams.self) { ctx, p in
            let draft = LeadTemplateDraft(
                name: try RecordInput.required(p.name, field: "name", max: 200), source: p.source ?? .manual, ownerID: p.ownerID,
                summary: try RecordInput.text(p.summary, field: "summary", max: 2000, multiline: true),
                firstTaskTitle: try RecordInput.text(p.firstTaskTitle, field: "first_task_title", max: 500),
                firstTaskDueMinutes: try dueMinutes(p.firstTaskDueMinutes), active: true)
            let stamp = ctx.stamp
            return try await ctx.app.transaction { conn in
                if let o = draft.ownerID { try checkTemplateOwner(conn, o) }
                return try LeadConfigRepository(conn).createTemplate(draft, stamp: stamp)
            }
        }
        t.register("lead.template.update", LeadMethods.TemplateUpdateParams.self) { ctx, p in
            let name = try p.name.map { try RecordInput.required($0, field: "name", max: 200) }
            let summary = try RecordHandlers.patch(p.summary) { try RecordInput.text($0, field: "summary", max: 2000, multiline: true) }
            let title = try RecordHandlers.patch(p.firstTaskTitle) { try RecordInput.text($0, field: "first_task_title", max: 500) }
            let due = try RecordHandlers.patch(p.firstTaskDueMinutes) { try dueMinutes($0) }
            let stamp = ctx.stamp
            return try await ctx.app.transaction { conn in
                let repo = LeadConfigRepository(conn)
                guard let t = try repo.template(id: p.id) else { throw KontorError.notFound("lead template \(p.id)") }
                if case .set(let o) = p.ownerID { try checkTemplateOwner(conn, o) }
                let draft = LeadTemplateDraft(name: name ?? t.name, source: p.source ?? t.source, ownerID: p.ownerID.change ?? t.ownerID,
                                              summary: summary ?? t.summary, firstTaskTitle: title ?? t.firstTaskTitle,
                                              firstTaskDueMinutes: due ?? t.firstTaskDueMinutes, active: p.active ?? t.active)
                return try repo.updateTemplate(id: p.id, version: p.version, draft, stamp: stamp)
            }
        }

        // MARK: lines
        t.register("line.list", NoParams.self) { ctx, _ in
            LeadMethods.LineList(lines: try await ctx.app.read { conn in try LeadConfigRepository(conn).lines() })
        }
        t.register("line.set", LeadMethods.LineSetParams.self) { ctx, p in
            let written = try RecordInput.required(p.line, field: "line", max: 100)
            guard let key = LineKey.make(written, normalizer: RecordHandlers.normalizer(ctx)) else {
                throw KontorError.invalidParams("line", "a line is a phone number, an extension or a SIP peer name (up to 100 characters)")
            }
            let label = try RecordInput.text(p.label, field: "label", max: 100)
            let stamp = ctx.stamp
            return try await ctx.app.transaction { conn in
                if let u = p.userID { try checkTemplateOwner(conn, u, field: "user_id") }
                return try LeadConfigRepository(conn).saveLine(key: key, written: written, label: label, userID: p.userID, stamp: stamp)
            }
        }
        t.register("line.delete", LeadMethods.LineDeleteParams.self) { ctx, p in
            let written = try RecordInput.required(p.line, field: "line", max: 100)
            guard let key = LineKey.make(written, normalizer: RecordHandlers.normalizer(ctx)) else { throw KontorError.notFound("line \(written)") }
            let stamp = ctx.stamp
            guard try await ctx.app.transaction({ conn in try LeadConfigRepository(conn).deleteLine(key: key, stamp: stamp) }) else {
                throw KontorError.notFound("line \(written)")
            }
            return OK()
        }
    }

    static func dueMinutes(_ m: Int?) throws -> Int? {
        guard let m else { return nil }
        guard (0...525_600).contains(m) else { throw KontorError.invalidParams("first_task_due_minutes", "0 to 525600 minutes (a year)") }
        return m
    }

    /// A template's owner or a line's manager: an active sales user or admin.
    static func checkTemplateOwner(_ conn: PostgresConnection, _ id: Int64, field: String = "owner_id") throws {
        guard let u = try UserRepository(conn).get(id: id) else { throw KontorError.invalidParams(field, "no user \(id)") }
        guard u.active, u.role == .user || u.role == .admin else {
            throw KontorError.invalidParams(field, "user \(id) is not an active sales user or admin")
        }
    }

    // MARK: - The overdue sweep

    /// The background job's name (tests: `server.job(LeadConfigHandlers.overdueJobName)`).
    static let overdueJobName = "leads.overdue"

    /// Marks messages unanswered past the configured time overdue (and their leads
    /// `overdue_identification`); runs every minute, and as soon as the next one falls due.
    static func overdueJob(_ app: App) -> BackgroundJob {
        BackgroundJob(name: overdueJobName, interval: 60, app: app) { app in
            let now = app.clock.now()
            let stamp = ChangeStamp(actorID: nil, method: overdueJobName, at: now)
            let limit = 200
            let (marked, next) = try await app.transaction { conn in
                try LeadService(conn, app: app, stamp: stamp).sweepOverdueMessages(now: now, limit: limit)
            }
            if marked >= limit { return 0.01 }
            return next.map { max(0.01, $0.timeIntervalSince(now)) }
        }
    }
}
