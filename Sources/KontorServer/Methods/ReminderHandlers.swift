import Foundation
import KontorDomain
import KontorProtocol
import KontorStore
import Postgres

/// `reminder.*`, `user.webhook.*`, `chronicle.*`, `notify.*` (issue 5), the background
/// jobs that fire reminders and deliver webhooks, and the LISTEN channels that wake them.
enum ReminderHandlers {
    static func register(_ t: inout MethodTable) {
        t.register("reminder.create", TaskMethods.ReminderCreateParams.self, reminderCreate)
        t.register("reminder.get", SessionMethods.IDParams.self) { ctx, p in
            let vis = try RecordHandlers.visibility(ctx)
            return try await ctx.app.read { conn in
                try conn.snapshot { conn in
                    let repo = ReminderRepository(conn)
                    guard let r = try repo.get(id: p.id, visibility: vis) else { throw KontorError.notFound("reminder \(p.id)") }
                    let firings = try repo.firings(reminderID: r.id).map {
                        TaskMethods.ReminderFiring(id: $0.id, dueAt: $0.dueAt, firedAt: $0.firedAt, instance: $0.instance, chronicleID: $0.chronicleID,
                                                   webhook: $0.webhook)
                    }
                    return TaskMethods.ReminderCard(reminder: r, firings: firings)
                }
            }
        }
        t.register("reminder.list", TaskMethods.ReminderListParams.self, reminderList)
        t.register("reminder.cancel", RecordMethods.VersionedID.self) { ctx, p in
            let me = try ctx.requirePrincipal()
            let vis = Visibility(me)
            let stamp = ctx.stamp
            return try await ctx.app.transaction { conn in
                let repo = ReminderRepository(conn)
                let r = try repo.lock(p.id, version: p.version, visibility: vis)
                try checkMayChange(r, me)
                guard r.status == .pending else {
                    throw KontorError(.invalidTransition, "reminder \(r.id) is \(r.status.rawValue); only pending reminders can be cancelled",
                                      data: ["status": .string(r.status.rawValue)])
                }
                try repo.cancel(r, stamp: stamp)
                return try reread(repo, r.id, vis)
            }
        }
        t.register("reminder.snooze", TaskMethods.ReminderSnoozeParams.self) { ctx, p in
            let me = try ctx.requirePrincipal()
            let vis = Visibility(me)
            let phrase = p.when ?? "in 10 minutes"
            let until = try TaskHandlers.time(phrase, field: "when", ctx)
            guard until > ctx.now else { throw KontorError.invalidParams("when", "snooze to a time after now") }
            guard until < ctx.now.addingTimeInterval(5 * 366 * 86_400) else { throw KontorError.invalidParams("when", "at most five years ahead") }
            let stamp = ctx.stamp
            return try await ctx.app.transaction { conn in
                let repo = ReminderRepository(conn)
                let r = try repo.lock(p.id, version: p.version, visibility: vis)
                try checkMayChange(r, me)
                guard r.status != .cancelled else {
                    throw KontorError(.invalidTransition, "reminder \(r.id) is cancelled; make a new one", data: ["status": .string(r.status.rawValue)])
                }
                try repo.snooze(r, until: until, when: String(phrase.prefix(200)), stamp: stamp)
                return try reread(repo, r.id, vis)
            }
        }

        // MARK: webhooks
        t.register("user.webhook.get", TaskMethods.WebhookUserParams.self) { ctx, p in
            let who = try webhookUser(ctx, p.userID)
            return try await ctx.app.read { conn in
                try checkSalesUser(conn, who)
                let w = try ReminderRepository(conn).webhook(userID: who)
                return TaskMethods.WebhookInfo(userID: who, url: w?.url, secret: nil, createdAt: w?.createdAt, updatedAt: w?.updatedAt)
            }
        }
        t.register("user.webhook.set", TaskMethods.WebhookSetParams.self) { ctx, p in
            let who = try webhookUser(ctx, p.userID)
            let url = p.url.trimmingCharacters(in: .whitespacesAndNewlines)
            if let problem = WebhookURL.problem(url, allowHTTPLoopback: ctx.app.configuration.webhookAllowHTTPLoopback,
                                                allowLoopback: ctx.app.configuration.webhookAllowLoopback) {
                throw KontorError.invalidParams("url", problem)
            }
            let stamp = ctx.stamp
            let rotate = p.rotateSecret ?? false
            return try await ctx.app.transaction { conn in
                try checkSalesUser(conn, who)
                let repo = ReminderRepository(conn)
                let existing = try repo.webhook(userID: who)
                let secret: String? = (existing == nil || rotate) ? TokenGenerator.make(prefix: "kwh_") : nil
                try repo.setWebhook(userID: who, url: url, newSecret: secret, stamp: stamp)
                guard let w = try repo.webhook(userID: who) else { throw KontorError.notFound("webhook of user \(who)") }
                return TaskMethods.WebhookInfo(userID: who, url: w.url, secret: secret, createdAt: w.createdAt, updatedAt: w.updatedAt)
            }
        }
        t.register("user.webhook.delete", TaskMethods.WebhookUserParams.self) { ctx, p in
            let who = try webhookUser(ctx, p.userID)
            let stamp = ctx.stamp
            guard try await ctx.app.transaction({ conn in try ReminderRepository(conn).deleteWebhook(userID: who, stamp: stamp) }) else {
                throw KontorError.notFound("webhook of user \(who)")
            }
            return OK()
        }

        // MARK: chronicle
        t.register("chronicle.list", TaskMethods.ChronicleListParams.self) { ctx, p in
            let me = try ctx.requirePrincipal()
            let vis = Visibility(me)
            let limit = try RecordHandlers.checkedLimit(p.limit, default: 50, max: 200)
            let before: Int64? = try p.cursor.map { c in
                guard let id = Int64(c), id > 0 else { throw KontorError.invalidParams("cursor", "not a cursor this server gave out") }
                return id
            }
            return try await ctx.app.read { conn in
                try conn.snapshot { conn in
                    let repo = ChronicleRepository(conn)
                    let entries = try repo.list(userID: me.userID, visibility: vis, unreadOnly: p.unread ?? false, kinds: p.kind?.values,
                                                beforeID: before, limit: limit)
                    return TaskMethods.ChronicleList(entries: entries, unread: try repo.unreadCount(userID: me.userID),
                                                     nextCursor: entries.count == limit ? entries.last.map { String($0.id) } : nil)
                }
            }
        }
        t.register("chronicle.mark_read", TaskMethods.MarkReadParams.self) { ctx, p in
            let me = try ctx.requirePrincipal()
            let given = [p.ids != nil, p.throughID != nil, p.all == true].filter { $0 }.count
            guard given == 1 else { throw KontorError.invalidParams("ids", "give exactly one of ids, through_id, all: true") }
            if let ids = p.ids, !(1...1000).contains(ids.count) { throw KontorError.invalidParams("ids", "1 to 1000 ids") }
            let now = ctx.now
            return try await ctx.app.transaction { conn in
                let repo = ChronicleRepository(conn)
                let changed = try repo.markRead(userID: me.userID, ids: p.ids, throughID: p.throughID, at: now)
                return TaskMethods.MarkResult(changed: changed, unread: try repo.unreadCount(userID: me.userID))
            }
        }
        t.register("chronicle.mark_unread", TaskMethods.MarkUnreadParams.self) { ctx, p in
            let me = try ctx.requirePrincipal()
            guard (1...1000).contains(p.ids.count) else { throw KontorError.invalidParams("ids", "1 to 1000 ids") }
            return try await ctx.app.transaction { conn in
                let repo = ChronicleRepository(conn)
                let changed = try repo.markUnread(userID: me.userID, ids: p.ids)
                return TaskMethods.MarkResult(changed: changed, unread: try repo.unreadCount(userID: me.userID))
            }
        }

        // MARK: live notifications
        t.register("notify.subscribe", NoParams.self) { ctx, _ in
            let me = try ctx.requirePrincipal()
            let vis = Visibility(me)
            let (start, unread, missed) = try await ctx.app.read { conn in
                try conn.snapshot { conn in
                    let repo = ChronicleRepository(conn)
                    return (try repo.pushStart(userID: me.userID), try repo.unreadCount(userID: me.userID),
                            try repo.unpushedApp(userID: me.userID, visibility: vis, limit: 100))
                }
            }
            ctx.app.pushes.subscribe(ctx.session, userID: me.userID, horizon: start.horizon, visible: start.visible)
            // Reminders for the app that fired while the user had no subscribed session.
            await ctx.app.pushes.pushBacklog(ctx.session, missed, app: ctx.app)
            return TaskMethods.SubscribeResult(subscribed: true, instance: ctx.app.configuration.instanceName, unread: unread)
        }
        t.register("notify.unsubscribe", NoParams.self) { ctx, _ in
            ctx.app.pushes.unsubscribe(ctx.session)
            return OK()
        }
    }

    /// Background jobs of this family.
    static func backgroundJobs(_ app: App) -> [BackgroundJob] {
        [app.pushes.job(app)] + ReminderJobs.jobs(app)
    }

    /// LISTEN channels of this family.
    static func notificationHandlers(_ app: App, jobs: [String: BackgroundJob]) -> [String: @Sendable (String) -> Void] {
        [
            "kontor_chronicle": { [pushes = app.pushes] payload in pushes.notification(payload) },
            "kontor_reminders": { [fire = jobs[ReminderJobs.fireJobName]] _ in fire?.wake() },
        ]
    }

    static func reread(_ repo: ReminderRepository, _ id: Int64, _ vis: Visibility) throws -> Reminder {
        guard let r = try repo.get(id: id, visibility: vis) else { throw KontorError.notFound("reminder \(id)") }
        return r
    }

    /// The reminder's user, its author and admins may cancel or snooze it; colleagues who
    /// see it may not.
    static func checkMayChange(_ r: LockedReminder, _ me: Principal) throws {
        guard me.role == .admin || r.userID == me.userID || r.createdBy == me.userID else {
            throw KontorError.forbidden("only the reminder's user, its author or an admin may change it")
        }
    }

    /// Whose webhook: the caller's, or (admins) anyone's.
    static func webhookUser(_ ctx: RequestContext, _ userID: Int64?) throws -> Int64 {
        let me = try ctx.requirePrincipal()
        guard let u = userID, u != me.userID else { return me.userID }
        guard me.role == .admin else { throw KontorError.forbidden("a sales user manages only their own webhook") }
        return u
    }

    /// `id` is an active sales user or admin (who can have reminders).
    static func checkSalesUser(_ conn: PostgresConnection, _ id: Int64, field: String = "user_id") throws {
        guard let u = try UserRepository(conn).get(id: id) else { throw KontorError.notFound("user \(id)") }
        try Ownership.checkCanOwn(u, field: field)
    }

    static func reminderCreate(_ ctx: RequestContext, _ p: TaskMethods.ReminderCreateParams) async throws -> Reminder {
        let me = try ctx.requirePrincipal()
        let vis = Visibility(me)
        let text = try RecordInput.required(p.text, field: "text", max: 2000, multiline: true)
        guard (p.contactID == nil) != (p.companyID == nil) else {
            throw KontorError.invalidParams(p.contactID == nil ? "contact_id" : "company_id", "a reminder is on one card: give contact_id or company_id")
        }
        var channels: [ReminderChannel] = []
        for c in p.channels ?? [.chronicle, .app] where !channels.contains(c) { channels.append(c) }
        guard !channels.isEmpty else { throw KontorError.invalidParams("channels", "at least one channel: chronicle, app, webhook") }
        let chosen = channels
        let whenText = p.when.trimmingCharacters(in: .whitespacesAndNewlines)
        let due = try TaskHandlers.time(whenText, field: "when", ctx)
        let now = ctx.now
        guard due >= now.addingTimeInterval(-60) else {
            throw KontorError.invalidParams("when", "that time has passed (\(RFC3339.format(due, timeZone: ctx.app.configuration.timeZone)))")
        }
        guard due < now.addingTimeInterval(5 * 366 * 86_400) else { throw KontorError.invalidParams("when", "at most five years ahead") }
        let target = p.userID ?? me.userID
        if target != me.userID, me.role != .admin { throw KontorError.forbidden("a sales user sets reminders for themselves only") }
        let stamp = ctx.stamp
        return try await ctx.app.transaction { conn in
            guard let user = try UserRepository(conn).get(id: target) else { throw KontorError.notFound("user \(target)") }
            try Ownership.checkCanOwn(user, field: "user_id")
            let theirs = Visibility(Principal(user))
            if let cid = p.contactID {
                let contacts = ContactRepository(conn)
                guard let c = try contacts.get(id: cid, visibility: vis) else { throw KontorError.notFound("contact \(cid)") }
                if c.deletedAt != nil { throw KontorError.invalidParams("contact_id", "contact \(cid) is deleted; restore it first") }
                if try contacts.get(id: cid, visibility: theirs) == nil {
                    throw KontorError.invalidParams("user_id", "\(user.fullName) may not see contact \(cid)")
                }
            } else if let coid = p.companyID {
                try RecordHandlers.checkCompany(conn, coid, vis)
                if try CompanyRepository(conn).get(id: coid, visibility: theirs) == nil {
                    throw KontorError.invalidParams("user_id", "\(user.fullName) may not see company \(coid)")
                }
            }
            let repo = ReminderRepository(conn)
            if chosen.contains(.webhook), try repo.webhook(userID: target) == nil {
                throw KontorError.invalidParams("channels", "\(user.fullName) has no webhook; set one with user.webhook.set first")
            }
            let id = try repo.create(ReminderDraft(userID: target, contactID: p.contactID, companyID: p.companyID, text: text, dueAt: due,
                                                   when: RFC3339.parse(whenText) == nil ? String(whenText.prefix(200)) : nil, channels: chosen),
                                     stamp: stamp)
            return try reread(repo, id, vis)
        }
    }

    static func reminderList(_ ctx: RequestContext, _ p: TaskMethods.ReminderListParams) async throws -> TaskMethods.ReminderList {
        let me = try ctx.requirePrincipal()
        let vis = Visibility(me)
        let limit = try RecordHandlers.checkedLimit(p.limit, default: 50, max: 200)
        let after = try RecordHandlers.cursor(p.cursor)
        let statuses = try TaskHandlers.statuses(p.status?.values, fallback: [ReminderStatus.pending]) { ReminderStatus(rawValue: $0.rawValue) }
        let onCard = p.contactID != nil || p.companyID != nil
        let filter = ReminderFilter(userID: p.userID ?? (onCard ? nil : me.userID), contactID: p.contactID, companyID: p.companyID,
                                    statuses: statuses, dueFrom: p.dueFrom, dueTo: p.dueTo)
        let page = try await ctx.app.read { conn in
            try conn.snapshot { try ReminderRepository($0).list(filter, visibility: vis, after: after, limit: limit) }
        }
        return TaskMethods.ReminderList(reminders: page.items, total: page.total, nextCursor: page.next?.token)
    }
}
