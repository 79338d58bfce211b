import Foundation
import KontorDomain
import KontorProtocol
import KontorStore
import Postgres

/// `task.*` and `planner.get` (issue 5). docs/TASKS.md has the rules.
enum TaskHandlers {
    static func register(_ t: inout MethodTable) {
        t.register("task.create", TaskMethods.TaskCreateParams.self, taskCreate)
        t.register("task.get", SessionMethods.IDParams.self) { ctx, p in
            let vis = try RecordHandlers.visibility(ctx)
            let now = ctx.now
            return try await ctx.app.read { conn in try reread(conn, p.id, vis, now: now) }
        }
        t.register("task.update", TaskMethods.TaskUpdateParams.self, taskUpdate)
        t.register("task.complete", TaskMethods.TaskCloseParams.self) { ctx, p in
            try await close(ctx, id: p.id, version: p.version, to: .done, note: p.note)
        }
        t.register("task.cancel", TaskMethods.TaskCloseParams.self) { ctx, p in
            try await close(ctx, id: p.id, version: p.version, to: .cancelled, note: p.note)
        }
        t.register("task.reopen", RecordMethods.VersionedID.self) { ctx, p in
            try await close(ctx, id: p.id, version: p.version, to: .open, note: nil)
        }
        t.register("task.list", TaskMethods.TaskListParams.self, taskList)
        t.register("planner.get", TaskMethods.PlannerParams.self, planner)
    }

    /// The business calendar of the server's time zone.
    static func calendar(_ ctx: RequestContext) -> BusinessCalendar { BusinessCalendar(zone: ctx.app.configuration.timeZone) }

    /// A time parameter: RFC 3339, or a phrase (`tomorrow 09:00`) in the business time zone.
    /// - Throws: `invalid_params` naming `field`.
    static func time(_ text: String, field: String, _ ctx: RequestContext) throws -> Date {
        do {
            return try TimePhrase.resolve(text, now: ctx.now, calendar: calendar(ctx))
        } catch let e as TimePhrase.ParseError {
            throw KontorError.invalidParams(field, e.message)
        }
    }

    /// The task after a write in the same transaction, as the caller sees it.
    static func reread(_ conn: PostgresConnection, _ id: Int64, _ vis: Visibility, now: Date) throws -> TaskRecord {
        let clock = LeadClock(now: now, thresholds: try LeadConfigRepository(conn).settings().waitThresholdsSeconds)
        guard let t = try TaskRepository(conn).get(id: id, visibility: vis, clock: clock) else { throw KontorError.notFound("task \(id)") }
        return t
    }

    /// The related records of a new task, checked: each must exist and be visible; a lead
    /// gives its contact (a different `contact_id` is refused) and its source.
    static func related(_ conn: PostgresConnection, contactID: Int64?, companyID: Int64?, leadID: Int64?, vis: Visibility,
                        now: Date) throws -> (contactID: Int64?, lead: Lead?) {
        var contact = contactID
        var lead: Lead?
        if let lid = leadID {
            guard let l = try LeadRepository(conn).get(id: lid, visibility: vis, clock: LeadClock(now: now, thresholds: [])) else {
                throw KontorError.notFound("lead \(lid)")
            }
            if let c = contactID, c != l.contactID {
                throw KontorError.invalidParams("contact_id", "lead \(lid) is about contact \(l.contactID), not \(c); leave contact_id out")
            }
            contact = l.contactID
            lead = l
        }
        if let cid = contact, leadID == nil {
            guard let c = try ContactRepository(conn).get(id: cid, visibility: vis) else { throw KontorError.notFound("contact \(cid)") }
            if c.deletedAt != nil { throw KontorError.invalidParams("contact_id", "contact \(cid) is deleted; restore it first") }
        }
        if let co = companyID { try RecordHandlers.checkCompany(conn, co, vis) }
        return (contact, lead)
    }

    static func taskCreate(_ ctx: RequestContext, _ p: TaskMethods.TaskCreateParams) async throws -> TaskRecord {
        let me = try ctx.requirePrincipal()
        let vis = Visibility(me)
        let title = try RecordInput.required(p.title, field: "title", max: 500)
        let notes = try RecordInput.text(p.notes, field: "notes", max: 10_000, multiline: true)
        let due = try p.dueAt.map { try time($0, field: "due_at", ctx) }
        let (stamp, now) = (ctx.stamp, ctx.now)
        return try await ctx.app.transaction { conn in
            let assignee = try p.assigneeID.map { try LeadHandlers.checkedOwner(conn, $0, by: me, field: "assignee_id") } ?? me.userID
            let rel = try related(conn, contactID: p.contactID, companyID: p.companyID, leadID: p.leadID, vis: vis, now: now)
            let id = try TaskRepository(conn).create(TaskDraft(title: title, notes: notes, assigneeID: assignee, dueAt: due,
                                                               source: p.source ?? rel.lead?.source ?? .manual, contactID: rel.contactID,
                                                               companyID: p.companyID, leadID: p.leadID), stamp: stamp)
            return try reread(conn, id, vis, now: now)
        }
    }

    static func taskUpdate(_ ctx: RequestContext, _ p: TaskMethods.TaskUpdateParams) async throws -> TaskRecord {
        let me = try ctx.requirePrincipal()
        let vis = Visibility(me)
        let title = try p.title.map { try RecordInput.required($0, field: "title", max: 500) }
        let notes = try RecordHandlers.patch(p.notes) { try RecordInput.text($0, field: "notes", max: 10_000, multiline: true) }
        let due: Date?? = try RecordHandlers.patch(p.dueAt) { try time($0, field: "due_at", ctx) }
        let (stamp, now) = (ctx.stamp, ctx.now)
        return try await ctx.app.transaction { conn in
            let repo = TaskRepository(conn)
            let task = try repo.lock(p.id, version: p.version, visibility: vis)
            var assignee: Int64??
            switch p.assigneeID {
            case .absent: assignee = nil
            case .clear: assignee = .some(nil)
            case .set(let a): assignee = a == task.assigneeID ? nil : .some(try LeadHandlers.checkedOwner(conn, a, by: me, field: "assignee_id"))
            }
            try repo.update(task, TaskChanges(title: title, notes: notes, assigneeID: assignee, dueAt: due, source: p.source), stamp: stamp)
            return try reread(conn, task.id, vis, now: now)
        }
    }

    /// `task.complete` (to done), `task.cancel` (to cancelled), `task.reopen` (to open).
    static func close(_ ctx: RequestContext, id: Int64, version: Int?, to status: TaskStatus, note: String?) async throws -> TaskRecord {
        let vis = try RecordHandlers.visibility(ctx)
        let note = try RecordInput.text(note, field: "note", max: 2000, multiline: true)
        let (stamp, now) = (ctx.stamp, ctx.now)
        return try await ctx.app.transaction { conn in
            let repo = TaskRepository(conn)
            let task = try repo.lock(id, version: version, visibility: vis)
            switch (task.status, status) {
            case (.open, .done), (.open, .cancelled), (.done, .open), (.cancelled, .open): break
            default:
                let verb = status == .open ? "reopened" : (status == .done ? "completed" : "cancelled")
                throw KontorError(.invalidTransition, "task \(id) is \(task.status.rawValue); it cannot be \(verb)",
                                  data: ["status": .string(task.status.rawValue)])
            }
            try repo.setStatus(task, to: status, note: note, stamp: stamp)
            return try reread(conn, task.id, vis, now: now)
        }
    }

    /// The statuses a list asks for: `all` = any; nil = `fallback`.
    static func statuses<S>(_ words: [TaskMethods.StatusWord]?, fallback: [S], field: String = "status",
                            map: (TaskMethods.StatusWord) -> S?) throws -> [S]? {
        guard let words else { return fallback }
        if words.contains(.all) { return nil }
        return try words.map { w in
            guard let s = map(w) else { throw KontorError.invalidParams(field, "\(w.rawValue) is not a status here") }
            return s
        }
    }

    static func waitingOver(_ w: Int?) throws -> Int? {
        if let w, !(1...30 * 86_400).contains(w) { throw KontorError.invalidParams("waiting_over", "waiting_over is 1 second to 30 days") }
        return w
    }

    static func taskList(_ ctx: RequestContext, _ p: TaskMethods.TaskListParams) async throws -> TaskMethods.TaskList {
        let me = try ctx.requirePrincipal()
        let vis = Visibility(me)
        let limit = try RecordHandlers.checkedLimit(p.limit, default: 50, max: 200)
        let after = try RecordHandlers.cursor(p.cursor)
        var filter = TaskFilter()
        filter.statuses = try statuses(p.status?.values, fallback: [TaskStatus.open]) { TaskStatus(rawValue: $0.rawValue) }
        if p.mine == true {
            if let a = p.assigneeID, a != me.userID { throw KontorError.invalidParams("mine", "give mine or assignee_id, not both") }
            filter.assigneeID = me.userID
        } else {
            filter.assigneeID = p.assigneeID
        }
        if p.unassigned == true {
            if filter.assigneeID != nil { throw KontorError.invalidParams("unassigned", "unassigned excludes assignee_id and mine") }
            filter.unassigned = true
        }
        let now = ctx.now
        filter.dueFrom = p.dueFrom
        filter.dueTo = p.dueTo
        switch p.due {
        case .overdue?: filter.dueBefore = now
        case .some(.none): filter.noDue = true
        case let bucket?:
            if let r = bucket.range(now: now, calendar: calendar(ctx)) {
                filter.dueFrom = max(r.lowerBound, p.dueFrom ?? r.lowerBound)
                filter.dueTo = min(r.upperBound, p.dueTo ?? r.upperBound)
            }
        case nil: break
        }
        filter.sources = p.source.map { Array(Set($0.values.flatMap(\.sources))).sorted { $0.rawValue < $1.rawValue } }
        filter.waitingOver = try waitingOver(p.waitingOver)
        filter.contactID = p.contactID
        filter.companyID = p.companyID
        filter.leadID = p.leadID
        let f = filter
        return try await ctx.app.read { conn in
            try conn.snapshot { conn in
                let thresholds = try LeadConfigRepository(conn).settings().waitThresholdsSeconds
                let page = try TaskRepository(conn).list(f, visibility: vis, clock: LeadClock(now: now, thresholds: thresholds), after: after, limit: limit)
                return TaskMethods.TaskList(tasks: page.items, total: page.total, nextCursor: page.next?.token, waitThresholdsSeconds: thresholds)
            }
        }
    }

    // MARK: - Planner

    static func planner(_ ctx: RequestContext, _ p: TaskMethods.PlannerParams) async throws -> TaskMethods.Planner {
        let me = try ctx.requirePrincipal()
        let vis = Visibility(me)
        let limit = try RecordHandlers.checkedLimit(p.limit, default: 200, max: 1000)
        if p.team == true {
            guard me.role == .admin else { throw KontorError.forbidden("only admins see the team's planner") }
            if p.userID != nil { throw KontorError.invalidParams("team", "give user_id or team, not both") }
        }
        if let u = p.userID, u != me.userID, me.role != .admin { throw KontorError.forbidden("a sales user sees only their own planner") }
        let now = ctx.now
        let endOfToday = calendar(ctx).dayRange(containing: now).upperBound
        let team = p.team == true
        let wanted = team ? nil : (p.userID ?? me.userID)
        return try await ctx.app.read { conn in
            try conn.snapshot { conn in
                var subject = TaskMethods.PlannerSubject(kind: "team", userID: nil, userName: nil)
                if let u = wanted {
                    guard let user = try UserRepository(conn).get(id: u) else { throw KontorError.notFound("user \(u)") }
                    guard user.role == .user || user.role == .admin else {
                        throw KontorError.invalidParams("user_id", "user \(u) is a \(user.role.rawValue), not a sales manager")
                    }
                    subject = TaskMethods.PlannerSubject(kind: "user", userID: user.id, userName: user.fullName)
                }
                let thresholds = try LeadConfigRepository(conn).settings().waitThresholdsSeconds
                let clock = LeadClock(now: now, thresholds: thresholds)
                let tasks = TaskRepository(conn)
                let overdue = try tasks.list(TaskFilter(statuses: [.open], assigneeID: wanted, dueBefore: now), visibility: vis, clock: clock,
                                             after: nil, limit: limit)
                let dueToday = try tasks.list(TaskFilter(statuses: [.open], assigneeID: wanted, dueFrom: now, dueTo: endOfToday), visibility: vis,
                                              clock: clock, after: nil, limit: limit)
                let calls = try CallRepository(conn).list(CallFilter(managerID: wanted, missedUnanswered: true), visibility: vis, after: nil, limit: limit)
                let messages = try MessageRepository(conn).list(MessageFilter(managerID: wanted, unanswered: true), visibility: vis, after: nil,
                                                                limit: limit)
                let inquiries = InquiryRepository(conn)
                let first = thresholds.first ?? 1200
                let waiting = try inquiries.list(InquiryFilter(ownerID: wanted, waitingOver: first), visibility: vis, now: now, after: nil, limit: limit)
                let counts = try thresholds.map { t in
                    TaskMethods.ThresholdCount(overSeconds: t, count: try inquiries.list(InquiryFilter(ownerID: wanted, waitingOver: t), visibility: vis,
                                                                                         now: now, after: nil, limit: 1).total)
                }
                let leads = try LeadRepository(conn).list(LeadFilter(statuses: [.overdueIdentification], ownerID: wanted), visibility: vis, clock: clock,
                                                          after: nil, limit: limit)
                return TaskMethods.Planner(
                    subject: subject, asOf: now,
                    tasksOverdue: .init(count: overdue.total, items: overdue.items),
                    tasksDueToday: .init(count: dueToday.total, items: dueToday.items),
                    missedCalls: .init(count: calls.total, items: calls.items),
                    unansweredMessages: .init(count: messages.total, items: messages.items),
                    waitingInquiries: .init(count: waiting.total, items: waiting.items, thresholds: counts),
                    overdueLeads: .init(count: leads.total, items: leads.items))
            }
        }
    }
}
