import Foundation
import KontorDomain
import KontorProtocol
import KontorStore
import Postgres

/// `call.ingest`, `message.ingest`, `lead.*`, `inquiry.*`, `call.list|get`,
/// `message.list|get`, `report.lead_response`, and the lead process's configuration
/// (`lead.settings.*`, `lead.status.*`, `lead.reason.*`, `lead.template.*`, `line.*`)
/// (issue 4). docs/LEADS.md describes the process.
enum LeadHandlers {
    static func register(_ t: inout MethodTable) {
        // MARK: ingestion (robots)
        t.register("call.ingest", IngestMethods.CallIngestParams.self) { ctx, p in
            let leg = try cleanLeg(ctx, p)
            let name = personName(p.remoteName)
            let (app, stamp) = (ctx.app, ctx.stamp)
            return try await app.transaction { conn in try LeadService(conn, app: app, stamp: stamp).ingestCall(leg, remoteName: name) }
        }
        t.register("message.ingest", IngestMethods.MessageIngestParams.self) { ctx, p in
            let (draft, keys) = try cleanMessage(ctx, p)
            let login = try robotText(p.managerLogin, field: "manager_login", max: 64)
            let editOf = try RecordInput.key(p.editOf, field: "edit_of", max: 1000)
            let (app, stamp) = (ctx.app, ctx.stamp)
            return try await app.transaction { conn in
                try LeadService(conn, app: app, stamp: stamp).ingestMessage(draft, sender: keys, managerLogin: login, editOf: editOf)
            }
        }

        // MARK: leads
        t.register("lead.create", LeadMethods.LeadCreateParams.self, leadCreate)
        t.register("lead.get", SessionMethods.IDParams.self) { ctx, p in
            let vis = try RecordHandlers.visibility(ctx)
            let now = ctx.now
            return try await ctx.app.read { conn in
                try conn.snapshot { conn in try leadCard(conn, p.id, vis, now: now) }
            }
        }
        t.register("lead.list", LeadMethods.LeadListParams.self, leadList)
        t.register("lead.update", LeadMethods.LeadUpdateParams.self, leadUpdate)
        t.register("lead.qualify", LeadMethods.LeadQualifyParams.self, leadQualify)
        t.register("lead.reject", LeadMethods.LeadRejectParams.self, leadReject)
        t.register("lead.reopen", RecordMethods.VersionedID.self) { ctx, p in
            let vis = try RecordHandlers.visibility(ctx)
            let (stamp, now) = (ctx.stamp, ctx.now)
            return try await ctx.app.transaction { conn in
                let leads = LeadRepository(conn)
                let lead = try leads.lock(p.id, version: p.version, visibility: vis)
                let to = try LeadRules.reopenTarget(from: lead.status, previous: try leads.statusBeforeClose(leadID: lead.id))
                try leads.transition(lead, to: to, cause: .reopened, stamp: stamp)
                return try reread(conn, lead.id, vis, now: now)
            }
        }

        // MARK: inquiries, calls, messages
        t.register("inquiry.list", LeadMethods.InquiryListParams.self, inquiryList)
        t.register("inquiry.respond", LeadMethods.InquiryRespondParams.self, inquiryRespond)
        t.register("call.list", LeadMethods.CallListParams.self, callList)
        t.register("call.get", SessionMethods.IDParams.self) { ctx, p in
            let vis = try RecordHandlers.visibility(ctx)
            let (call, legs) = try await ctx.app.read { conn in
                try conn.snapshot { conn -> (Call, [(leg: CallLeg, raw: String?)]) in
                    let repo = CallRepository(conn)
                    guard let call = try repo.get(id: p.id, visibility: vis) else { throw KontorError.notFound("call \(p.id)") }
                    return (call, try repo.legs(callID: call.id))
                }
            }
            return LeadMethods.CallCard(call: call, legs: try legs.map { LeadMethods.CallLegInfo(leg: $0.leg, raw: try $0.raw.map { try JSONValue.parse($0) }) })
        }
        t.register("message.list", LeadMethods.MessageListParams.self, messageList)
        t.register("message.get", SessionMethods.IDParams.self) { ctx, p in
            let vis = try RecordHandlers.visibility(ctx)
            guard let found = try await ctx.app.read({ conn in try MessageRepository(conn).get(id: p.id, visibility: vis) }) else {
                throw KontorError.notFound("message \(p.id)")
            }
            return LeadMethods.MessageCard(message: found.message, raw: try found.raw.map { try JSONValue.parse($0) })
        }
        t.register("report.lead_response", LeadMethods.LeadResponseParams.self, leadResponse)

        LeadConfigHandlers.register(&t)
    }

    // MARK: - Cleaning robot input

    /// Text from a robot: control characters dropped, trimmed; empty → nil.
    /// - Throws: `invalid_params` when longer than `max` characters.
    static func robotText(_ s: String?, field: String, max: Int) throws -> String? {
        guard let t = cleaned(s) else { return nil }
        if t.count > max { throw KontorError.invalidParams(field, "\(field) is longer than \(max) characters") }
        return t
    }

    /// Like `robotText` but cut to `max` characters instead of refused (names, subjects).
    static func truncated(_ s: String?, max: Int) -> String? {
        cleaned(s).map { String($0.prefix(max)) }
    }

    static func cleaned(_ s: String?) -> String? {
        guard let s else { return nil }
        let kept = s.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : Character($0) }
        let t = String(kept).trimmingCharacters(in: .whitespacesAndNewlines)
        return t.isEmpty ? nil : t
    }

    /// A payload as JSON text PostgreSQL's jsonb accepts (it refuses `\u0000`).
    /// - Throws: `invalid_params` (`raw`) when longer than `IngestMethods.rawMaxBytes`.
    static func rawJSON(_ v: JSONValue?) throws -> String? {
        guard let text = v.map({ $0.jsonText.replacingOccurrences(of: "\\u0000", with: "\\ufffd") }) else { return nil }
        if text.utf8.count > IngestMethods.rawMaxBytes {
            throw KontorError.invalidParams("raw", "raw is \(text.utf8.count) bytes of JSON; at most \(IngestMethods.rawMaxBytes) are kept")
        }
        return text
    }

    /// A caller id or sender name fit to name a contact: cleaned, cut to 200 characters,
    /// nil when it has no letter (PBXs often repeat the number as the name).
    static func personName(_ s: String?) -> String? {
        guard let t = truncated(s, max: 200), t.contains(where: \.isLetter) else { return nil }
        return t
    }

    static func cleanLeg(_ ctx: RequestContext, _ p: IngestMethods.CallIngestParams) throws -> CallLegDraft {
        let normalizer = RecordHandlers.normalizer(ctx)
        guard let externalID = try RecordInput.key(p.externalID, field: "external_id", max: 200) else {
            throw KontorError.invalidParams("external_id", "external_id must not be empty")
        }
        let now = ctx.now
        try EventTime.check(p.startedAt, field: "started_at", now: now)
        try EventTime.check(p.answeredAt, field: "answered_at", now: now)
        try EventTime.check(p.endedAt, field: "ended_at", now: now)
        let times = CallTimes(startedAt: p.startedAt, answeredAt: p.answeredAt, endedAt: p.endedAt)
        let provider = p.provider.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        guard provider.range(of: "^[a-z0-9][a-z0-9_.-]{0,39}$", options: .regularExpression) != nil else {
            throw KontorError.invalidParams("provider", "provider is 1 to 40 of a-z 0-9 _ . - (e.g. binotel, asterisk)")
        }
        guard (0...604_800).contains(p.talkSeconds) else { throw KontorError.invalidParams("talk_seconds", "talk_seconds is 0 to 604800") }
        if let w = p.waitSeconds, !(0...604_800).contains(w) { throw KontorError.invalidParams("wait_seconds", "wait_seconds is 0 to 604800") }
        let remote = try robotText(p.remoteNumber, field: "remote_number", max: 100)
        let ours = try robotText(p.ourNumber, field: "our_number", max: 100)
        guard let direction = CommDirection(rawValue: p.direction.rawValue) else { throw KontorError.invalidParams("direction", "unknown direction") }
        return CallLegDraft(
            provider: provider, externalID: externalID, linkedID: try RecordInput.key(p.linkedID, field: "linked_id", max: 200), direction: direction,
            remoteNumber: remote, remoteKey: LineKey.make(remote, normalizer: normalizer), ourNumber: ours,
            ourKey: LineKey.make(ours, normalizer: normalizer), managerLine: try robotText(p.managerLine, field: "manager_line", max: 100),
            managerLogin: try robotText(p.managerLogin, field: "manager_login", max: 64), managerID: nil, startedAt: times.startedAt,
            answeredAt: times.answeredAt, endedAt: times.endedAt, talkSeconds: p.talkSeconds, waitSeconds: p.waitSeconds,
            disposition: truncated(p.disposition, max: 100), recordingURL: try robotText(p.recordingURL, field: "recording_url", max: 2000),
            raw: try rawJSON(p.raw))
    }

    static func cleanMessage(_ ctx: RequestContext, _ p: IngestMethods.MessageIngestParams) throws -> (MessageDraft, LeadService.SenderKeys) {
        guard let externalID = try RecordInput.key(p.externalID, field: "external_id", max: 1000) else {
            throw KontorError.invalidParams("external_id", "external_id must not be empty")
        }
        try EventTime.check(p.receivedAt, field: "received_at", now: ctx.now)
        guard let channel = ContactSource(rawValue: p.channel.rawValue) else { throw KontorError.invalidParams("channel", "unknown channel") }
        let direction: CommDirection
        switch p.direction ?? .inbound {
        case .inbound: direction = .inbound
        case .outbound: direction = .outbound
        case .internal: throw KontorError.invalidParams("direction", "a message is inbound or outbound")
        }
        guard (p.attachments ?? []).count <= IngestMethods.attachmentsMax else {
            throw KontorError.invalidParams("attachments", "at most \(IngestMethods.attachmentsMax) attachments")
        }
        var attachments: [MessageAttachment] = []
        for (i, a) in (p.attachments ?? []).enumerated() {
            if let size = a.size, size < 0 { throw KontorError.invalidParams("attachments[\(i)].size", "a size is 0 or more bytes") }
            attachments.append(MessageAttachment(name: truncated(a.name, max: 300), contentType: truncated(a.contentType, max: 200), size: a.size))
        }
        let sender = MessageParty(email: truncated(p.sender.email, max: 320), phone: truncated(p.sender.phone, max: 100),
                                  messengerID: try robotText(p.sender.messengerID, field: "sender.messenger_id", max: 200),
                                  username: truncated(p.sender.username, max: 101), name: truncated(p.sender.name, max: 200))
        var keys = LeadService.SenderKeys()
        keys.name = sender.name
        keys.company = truncated(p.sender.company, max: 300)
        if let e = sender.email { keys.email = try? RecordInput.emails([(e, nil)]).first }
        if let phone = sender.phone, RecordHandlers.normalizer(ctx).normalize(phone).e164 != nil {
            keys.phone = try? RecordInput.phones([(phone, nil)], normalizer: RecordHandlers.normalizer(ctx)).first
        }
        if let kind = MessengerKind(rawValue: channel.rawValue), sender.messengerID != nil || sender.username != nil {
            let handle = (try? RecordInput.messengers([ContactMessenger(kind: kind, externalID: nil, handle: sender.username)]))?.first?.handle
            if sender.messengerID != nil || handle != nil {
                keys.messenger = ContactMessenger(kind: kind, externalID: sender.messengerID, handle: handle)
            }
        }
        let text = String(String.UnicodeScalarView(p.text.unicodeScalars.filter { $0 != "\u{0}" }))
        let draft = MessageDraft(channel: channel, externalID: externalID, direction: direction, sender: sender,
                                 recipient: truncated(p.recipient, max: 1000), subject: truncated(p.subject, max: 1000), text: text,
                                 receivedAt: p.receivedAt, threadID: truncated(p.threadID, max: 200), attachments: attachments, managerID: nil,
                                 raw: try rawJSON(p.raw))
        return (draft, keys)
    }

    // MARK: - Leads

    /// The lead after a write in the same transaction, as the caller sees it.
    static func reread(_ conn: PostgresConnection, _ id: Int64, _ vis: Visibility, now: Date) throws -> Lead {
        let clock = LeadClock(now: now, thresholds: try LeadConfigRepository(conn).settings().waitThresholdsSeconds)
        guard let lead = try LeadRepository(conn).get(id: id, visibility: vis, clock: clock) else { throw KontorError.notFound("lead \(id)") }
        return lead
    }

    static func leadCard(_ conn: PostgresConnection, _ id: Int64, _ vis: Visibility, now: Date) throws -> LeadMethods.LeadCard {
        let lead = try reread(conn, id, vis, now: now)
        let leads = LeadRepository(conn)
        return LeadMethods.LeadCard(lead: lead, inquiries: try InquiryRepository(conn).forLead(id, visibility: vis, now: now),
                                    history: try leads.history(leadID: id), firstTask: try leads.firstTask(leadID: id))
    }

    /// The active sales user or admin `id`, checked as an owner the caller may assign.
    static func checkedOwner(_ conn: PostgresConnection, _ id: Int64, by me: Principal, field: String = "owner_id") throws -> Int64 {
        guard let owner = try UserRepository(conn).get(id: id) else { throw KontorError.invalidParams(field, "no user \(id)") }
        try Ownership.checkAssignable(owner, by: me, field: field)
        return id
    }

    static func leadCreate(_ ctx: RequestContext, _ p: LeadMethods.LeadCreateParams) async throws -> Lead {
        let me = try ctx.requirePrincipal()
        let vis = Visibility(me)
        let summary = try RecordInput.text(p.summary, field: "summary", max: 2000, multiline: true)
        let taskTitle = try RecordInput.text(p.firstTaskTitle, field: "first_task_title", max: 500)
        let (app, stamp, now) = (ctx.app, ctx.stamp, ctx.now)
        let zone = app.configuration.timeZone.identifier
        return try await app.transaction { conn in
            guard let contact = try ContactRepository(conn).get(id: p.contactID, visibility: vis) else {
                throw KontorError.notFound("contact \(p.contactID)")
            }
            if contact.deletedAt != nil { throw KontorError.invalidParams("contact_id", "contact \(contact.id) is deleted; restore it first") }
            var template: LeadTemplate?
            if let tid = p.templateID {
                guard let t = try LeadConfigRepository(conn).template(id: tid) else { throw KontorError.notFound("lead template \(tid)") }
                guard t.active else { throw KontorError.invalidParams("template_id", "lead template \(tid) is inactive") }
                template = t
            }
            let leads = LeadRepository(conn)
            guard let contactLock = try leads.lockContact(contact.id) else { throw KontorError.notFound("contact \(contact.id)") }
            let owner: (id: Int64?, by: LeadAssignment)
            if let o = p.ownerID {
                owner = (try checkedOwner(conn, o, by: me), .manual)
            } else if let o = template?.ownerID {
                owner = (try checkedOwner(conn, o, by: me), .template)
            } else if me.role == .user {
                owner = (me.userID, .creator)
            } else if let o = contactLock.ownerID {
                owner = (o, .contactOwner)
            } else {
                owner = (nil, .unassigned)
            }
            let id = try leads.create(LeadDraft(contactID: contact.id, status: .identification, source: p.source ?? template?.source ?? .manual,
                                                ownerID: owner.id, assignedBy: owner.by, summary: summary ?? template?.summary,
                                                templateID: template?.id, lastInquiryAt: now), zone: zone, stamp: stamp)
            if let title = taskTitle ?? template?.firstTaskTitle {
                let due = p.firstTaskDueAt ?? template?.firstTaskDueMinutes.map { now.addingTimeInterval(Double($0) * 60) }
                try leads.setFirstTask(leadID: id, LeadFirstTask(title: title, dueAt: due, assigneeID: owner.id, taskID: nil), at: now)
                _ = try TaskService.materializeFirstTasks(conn, leadID: id, limit: 1, stamp: stamp)  // issue 5: the task itself
            }
            return try reread(conn, id, vis, now: now)
        }
    }

    static func leadList(_ ctx: RequestContext, _ p: LeadMethods.LeadListParams) async throws -> LeadMethods.LeadList {
        let vis = try RecordHandlers.visibility(ctx)
        let limit = try RecordHandlers.checkedLimit(p.limit, default: 50, max: 200)
        let after = try RecordHandlers.cursor(p.cursor)
        if let w = p.waitingOver, !(1...30 * 86_400).contains(w) {
            throw KontorError.invalidParams("waiting_over", "waiting_over is 1 second to 30 days")
        }
        let filter = LeadFilter(statuses: p.status?.values, sources: p.source?.values, ownerID: p.ownerID, unowned: p.unowned ?? false,
                                contactID: p.contactID, companyID: p.companyID, waitingOver: p.waitingOver, createdFrom: p.createdFrom,
                                createdTo: p.createdTo)
        let now = ctx.now
        return try await ctx.app.read { conn in
            try conn.snapshot { conn in
                let thresholds = try LeadConfigRepository(conn).settings().waitThresholdsSeconds
                let page = try LeadRepository(conn).list(filter, visibility: vis, clock: LeadClock(now: now, thresholds: thresholds),
                                                         after: after, limit: limit)
                return LeadMethods.LeadList(leads: page.items, total: page.total, nextCursor: page.next?.token, waitThresholdsSeconds: thresholds)
            }
        }
    }

    static func leadUpdate(_ ctx: RequestContext, _ p: LeadMethods.LeadUpdateParams) async throws -> Lead {
        let me = try ctx.requirePrincipal()
        let vis = Visibility(me)
        let summary: String?? = try RecordHandlers.patch(p.summary) { try RecordInput.text($0, field: "summary", max: 2000, multiline: true) }
        let (stamp, now) = (ctx.stamp, ctx.now)
        return try await ctx.app.transaction { conn in
            let leads = LeadRepository(conn)
            let lead = try leads.lock(p.id, version: p.version, visibility: vis)
            var owner: (id: Int64?, by: LeadAssignment)?
            switch p.ownerID {
            case .absent: owner = nil
            case .clear: owner = (nil, .unassigned)
            case .set(let o): owner = (try checkedOwner(conn, o, by: me), .manual)
            }
            if let o = owner, o.id == lead.ownerID { owner = nil }
            try leads.update(lead, summary: summary, owner: owner, stamp: stamp)
            return try reread(conn, lead.id, vis, now: now)
        }
    }

    static func leadQualify(_ ctx: RequestContext, _ p: LeadMethods.LeadQualifyParams) async throws -> LeadMethods.LeadQualifyResult {
        let vis = try RecordHandlers.visibility(ctx)
        let companyName = try RecordInput.text(p.companyName, field: "company_name", max: 300)
        let (stamp, now) = (ctx.stamp, ctx.now)
        return try await ctx.app.transaction { conn in
            let leads = LeadRepository(conn)
            let contacts = ContactRepository(conn)
            // Lock order: the contact, then the lead.
            guard let peek = try leads.visibleIDs([p.id], visibility: vis).first,
                  let contactID = try leads.get(id: peek, visibility: vis, clock: LeadClock(now: now, thresholds: []))?.contactID else {
                throw KontorError.notFound("lead \(p.id)")
            }
            _ = try leads.lockContact(contactID)
            let lead = try leads.lock(p.id, version: p.version, visibility: vis)
            try LeadRules.checkClose(from: lead.status, to: .target)
            guard let contact = try contacts.get(id: lead.contactID, visibility: vis) else { throw KontorError.notFound("contact \(lead.contactID)") }
            if let cv = p.contactVersion, cv != contact.version {
                var e = KontorError.conflict(currentVersion: contact.version)
                e.data["field"] = .string("contact_version")
                throw e
            }
            if contact.deletedAt != nil { throw KontorError.invalidParams("id", "the lead's contact \(contact.id) is deleted; restore it first") }
            let companyID: Int64
            if let target = p.companyID {
                if let existing = contact.companyID, existing != target {
                    throw KontorError.invalidParams("company_id", "contact \(contact.id) belongs to company \(existing); qualify without company_id or move the contact first")
                }
                if contact.companyID == nil {
                    try RecordHandlers.checkCompany(conn, target, vis)
                    try contacts.update(id: contact.id, version: contact.version, changes: ContactChanges(companyID: .some(target), group: .client),
                                        visibility: vis, stamp: stamp, action: "qualify")
                }
                companyID = target
            } else if let existing = contact.companyID {
                companyID = existing
            } else {
                companyID = try RecordHandlers.toCompany(conn, contactID: contact.id, version: contact.version, name: companyName,
                                                         visibility: vis, stamp: stamp).company.company.id
            }
            try leads.transition(lead, to: .target, cause: .qualified, companyID: companyID, stamp: stamp)
            return LeadMethods.LeadQualifyResult(lead: try reread(conn, lead.id, vis, now: now),
                                                 contact: try RecordHandlers.reread(contacts, contact.id, vis),
                                                 company: try RecordHandlers.companyCard(conn, companyID, vis))
        }
    }

    static func leadReject(_ ctx: RequestContext, _ p: LeadMethods.LeadRejectParams) async throws -> Lead {
        let vis = try RecordHandlers.visibility(ctx)
        guard let code = try RecordInput.text(p.reason, field: "reason", max: 40) else {
            throw KontorError(.reasonRequired, "rejecting a lead needs a reason: a code from lead.reason.list (and reason_text)",
                              data: ["field": .string("reason")])
        }
        let text = try RecordInput.text(p.reasonText, field: "reason_text", max: 2000, multiline: true)
        let (stamp, now) = (ctx.stamp, ctx.now)
        return try await ctx.app.transaction { conn in
            let leads = LeadRepository(conn)
            let lead = try leads.lock(p.id, version: p.version, visibility: vis)
            try LeadRules.checkClose(from: lead.status, to: .rejected)
            guard let reason = try LeadConfigRepository(conn).reason(code: code), reason.active else {
                throw KontorError.invalidParams("reason", "\(code) is not an active rejection reason (see lead.reason.list)")
            }
            if reason.textRequired, text == nil {
                throw KontorError(.reasonRequired, "the reason \(code) needs reason_text saying why", data: ["field": .string("reason_text")])
            }
            try leads.transition(lead, to: .rejected, cause: .rejected, reasonCode: code, reasonText: text, stamp: stamp)
            return try reread(conn, lead.id, vis, now: now)
        }
    }

    // MARK: - Inquiries, calls, messages

    static func inquiryList(_ ctx: RequestContext, _ p: LeadMethods.InquiryListParams) async throws -> LeadMethods.InquiryList {
        let vis = try RecordHandlers.visibility(ctx)
        let limit = try RecordHandlers.checkedLimit(p.limit, default: 50, max: 200)
        let after = try RecordHandlers.cursor(p.cursor)
        if let w = p.waitingOver, !(1...30 * 86_400).contains(w) {
            throw KontorError.invalidParams("waiting_over", "waiting_over is 1 second to 30 days")
        }
        let filter = InquiryFilter(leadID: p.leadID, contactID: p.contactID, companyID: p.companyID, ownerID: p.ownerID, sources: p.source?.values,
                                   unanswered: p.unanswered ?? false, waitingOver: p.waitingOver, overdue: p.overdue ?? false,
                                   receivedFrom: p.receivedFrom, receivedTo: p.receivedTo)
        let now = ctx.now
        let page = try await ctx.app.read { conn in
            try conn.snapshot { try InquiryRepository($0).list(filter, visibility: vis, now: now, after: after, limit: limit) }
        }
        return LeadMethods.InquiryList(inquiries: page.items, total: page.total, nextCursor: page.next?.token)
    }

    static func inquiryRespond(_ ctx: RequestContext, _ p: LeadMethods.InquiryRespondParams) async throws -> LeadMethods.InquiryRespondResult {
        let me = try ctx.requirePrincipal()
        let vis = Visibility(me)
        guard (p.contactID == nil) != (p.leadID == nil) else {
            throw KontorError.invalidParams(p.contactID == nil ? "contact_id" : "lead_id", "give exactly one of contact_id, lead_id")
        }
        let channel = p.channel ?? .phone
        guard channel != .manual, channel != .import else {
            throw KontorError.invalidParams("channel", "channel is how you answered: phone, email, telegram, viber, facebook, instagram or site")
        }
        let now = ctx.now
        let at = p.at ?? now
        try EventTime.check(at, field: "at", now: now, futureTolerance: 60)
        let text = try RecordInput.text(p.text, field: "text", max: 100_000, multiline: true)
        let subject = try RecordInput.text(p.subject, field: "subject", max: 1000)
        let (app, stamp) = (ctx.app, ctx.stamp)
        return try await app.transaction { conn in
            let leads = LeadRepository(conn)
            let contactID: Int64
            if let lid = p.leadID {
                guard let lead = try leads.get(id: lid, visibility: vis, clock: LeadClock(now: now, thresholds: [])) else {
                    throw KontorError.notFound("lead \(lid)")
                }
                contactID = lead.contactID
            } else if let cid = p.contactID {
                guard try ContactRepository(conn).get(id: cid, visibility: vis) != nil else { throw KontorError.notFound("contact \(cid)") }
                contactID = cid
            } else {
                throw KontorError.invalidParams("contact_id", "give exactly one of contact_id, lead_id")
            }
            let locked = try leads.lockContact(contactID)?.id ?? contactID
            let service = try LeadService(conn, app: app, stamp: stamp)
            // Only what the caller may see is answered (and moved): the same rule as every read.
            let done = try service.respond(contactID: locked, at: at, by: me.userID, kind: .manual, cause: .response, scope: vis,
                                           alsoLeads: p.leadID.map { [$0] } ?? [])
            var message: ChannelMessage?
            if let text, channel != .phone {
                let messages = MessageRepository(conn)
                let draft = MessageDraft(channel: channel, externalID: nil, direction: .outbound,
                                         sender: MessageParty(email: nil, phone: nil, messengerID: nil, username: nil, name: nil), recipient: nil,
                                         subject: subject, text: text, receivedAt: at, threadID: nil, attachments: [], managerID: me.userID, raw: nil)
                if let mid = try messages.claim(draft, stamp: stamp) {
                    let leadID = try p.leadID ?? leads.latestOpenLead(contactID: locked)
                    try messages.link(mid, IngestOutcome(recordID: mid, contactID: locked, inquiryID: nil, leadID: leadID, leadStatus: nil))
                    message = try messages.get(id: mid, visibility: vis)?.message
                }
            }
            let touched = Array(Set(done.inquiries.map(\.leadID) + done.leads + (p.leadID.map { [$0] } ?? []))).sorted()
            return LeadMethods.InquiryRespondResult(
                inquiries: try InquiryRepository(conn).get(ids: done.inquiries.map(\.id), visibility: vis, now: now),
                leads: touched.compactMap { id in try? reread(conn, id, vis, now: now) }, message: message)
        }
    }

    static func callList(_ ctx: RequestContext, _ p: LeadMethods.CallListParams) async throws -> LeadMethods.CallList {
        let vis = try RecordHandlers.visibility(ctx)
        let limit = try RecordHandlers.checkedLimit(p.limit, default: 50, max: 200)
        let after = try RecordHandlers.cursor(p.cursor)
        let filter = CallFilter(contactID: p.contactID, companyID: p.companyID, managerID: p.managerID, leadID: p.leadID, kinds: p.kind?.values,
                                missedUnanswered: p.missedUnanswered ?? false, startedFrom: p.startedFrom, startedTo: p.startedTo)
        let page = try await ctx.app.read { conn in
            try conn.snapshot { try CallRepository($0).list(filter, visibility: vis, after: after, limit: limit) }
        }
        return LeadMethods.CallList(calls: page.items, total: page.total, nextCursor: page.next?.token)
    }

    static func messageList(_ ctx: RequestContext, _ p: LeadMethods.MessageListParams) async throws -> LeadMethods.MessageList {
        let vis = try RecordHandlers.visibility(ctx)
        let limit = try RecordHandlers.checkedLimit(p.limit, default: 50, max: 200)
        let after = try RecordHandlers.cursor(p.cursor)
        if p.direction == .internal { throw KontorError.invalidParams("direction", "a message is inbound or outbound") }
        let filter = MessageFilter(contactID: p.contactID, companyID: p.companyID, managerID: p.managerID, leadID: p.leadID, inquiryID: p.inquiryID,
                                   channels: p.channel?.values, direction: p.direction, unanswered: p.unanswered ?? false,
                                   receivedFrom: p.receivedFrom, receivedTo: p.receivedTo)
        let page = try await ctx.app.read { conn in
            try conn.snapshot { try MessageRepository($0).list(filter, visibility: vis, after: after, limit: limit) }
        }
        return LeadMethods.MessageList(messages: page.items, total: page.total, nextCursor: page.next?.token)
    }

    // MARK: - Report

    /// `YYYY-MM` → the first day of that month.
    static func period(_ s: String?, field: String, default d: PostgresDate) throws -> PostgresDate {
        guard let s else { return d }
        let parts = s.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 4, parts[1].count == 2, let y = Int(parts[0]), let m = Int(parts[1]),
              (2000...2200).contains(y), (1...12).contains(m) else {
            throw KontorError.invalidParams(field, "\(field) is a month written YYYY-MM")
        }
        return PostgresDate(year: y, month: m, day: 1)
    }

    static func leadResponse(_ ctx: RequestContext, _ p: LeadMethods.LeadResponseParams) async throws -> LeadMethods.LeadResponseReport {
        let me = try ctx.requirePrincipal()
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = ctx.app.configuration.timeZone
        let c = cal.dateComponents([.year, .month], from: ctx.now)
        let current = PostgresDate(year: c.year ?? 2000, month: c.month ?? 1, day: 1)
        let from = try period(p.from, field: "from", default: current)
        let to = try period(p.to, field: "to", default: p.from == nil ? current : from)
        guard from <= to else { throw KontorError.invalidParams("to", "to is the same month as from or later") }
        guard (to.year - from.year) * 12 + (to.month - from.month) < 120 else { throw KontorError.invalidParams("to", "at most 120 months at once") }
        var manager = p.managerID
        if me.role != .admin {
            if let m = manager, m != me.userID { throw KontorError.forbidden("a sales user sees only their own figures") }
            manager = me.userID
        }
        let who = manager
        return LeadMethods.LeadResponseReport(rows: try await ctx.app.read { conn in
            try LeadReportRepository(conn).leadResponse(from: from, to: to, managerID: who)
        })
    }
}
