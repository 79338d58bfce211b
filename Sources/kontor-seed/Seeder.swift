import Foundation
import KontorDomain
import KontorProtocol
import NIOConcurrencyHelpers

/// What `kontor-seed` was told.
struct SeedOptions: Sendable {
    var host: String
    var port: Int
    var adminLogin: String
    var adminPassword: String
    var techLogin: String
    var techPassword: String
    /// The password every demo manager gets.
    var managerPassword: String
    /// Where the robot's token is written (mode 0600); nil = not written.
    var tokenFile: String?
    var seed: UInt64
    /// Requests in flight at once.
    var concurrency: Int
    var quiet: Bool
}

/// Loads the demo into a running, empty kontord, over the protocol, in phases:
/// team → companies and people (one at a time, so their ids are the same every run) →
/// three months of calls and messages through the robot (each person's events in
/// order, people side by side) → the managers work the leads → funnels, comments,
/// manual leads → plans, shipments, the monthly close → tasks and reminders when served.
final class Seeder: Sendable {
    let options: SeedOptions
    let data: SeedData
    let world: World
    let calendar: DemoCalendar
    let admin: Member
    let tech: Member
    let ledger = Ledger()
    private let members = NIOLockedValueBox<[String: Member]>([:])
    private let devStages: [String]
    private let started = Date()

    private init(options: SeedOptions, data: SeedData, world: World, calendar: DemoCalendar, admin: Member, tech: Member, devStages: [String]) {
        self.options = options; self.data = data; self.world = world; self.calendar = calendar
        self.admin = admin; self.tech = tech; self.devStages = devStages
    }

    private let lap = NIOLockedValueBox(Date())

    /// Prints a progress line with the time the phase took.
    func say(_ line: String) {
        let now = Date()
        let seconds = lap.withLockedValue { last -> Double in
            defer { last = now }
            return now.timeIntervalSince(last)
        }
        if !options.quiet { print(line + String(format: " (%.1f s)", seconds)) }
    }

    // MARK: - Entry

    /// Checks that the database is empty, then seeds it.
    /// - Throws: `SeedError.refused` when the database has data (nothing written),
    ///   `SeedError.server` when a call fails.
    static func run(options: SeedOptions, data: SeedData) async throws -> Summary {
        let probe = try await Member.connect(host: options.host, port: options.port, login: "-")
        let info = try await probe.call("server.info")
        await probe.close()
        let zone = info["time_zone"]?.stringValue.flatMap(TimeZone.init(identifier:)) ?? TimeZone(identifier: "Europe/Kyiv") ?? .current
        let now = info["time"]?.stringValue.flatMap(RFC3339.parse) ?? Date()
        let calendar = DemoCalendar(now: now, zone: zone)

        // Both logins at once (a password check is slow on purpose).
        async let adminLogin = login(options.adminLogin, options.adminPassword, options)
        async let techLogin = login(options.techLogin, options.techPassword, options)
        let admin = try await adminLogin
        let tech = try await techLogin
        try await checkEmpty(admin: admin, options: options)

        var builder = WorldBuilder(data: data, calendar: calendar, seed: options.seed)
        let world = builder.build()
        let stages = try await admin.call("funnel.list")["stages"]?.arrayValue ?? []
        let dev = stages.filter { $0["funnel"]?.stringValue == "development" }.compactMap { $0["code"]?.stringValue }
        guard dev.count >= 2 else { throw SeedError.server("funnel.list has fewer than two Development stages") }
        let seeder = Seeder(options: options, data: data, world: world, calendar: calendar, admin: admin, tech: tech, devStages: dev)
        return try await seeder.seed()
    }

    /// Logs in one of the two admins; failing to is a reason not to seed.
    static func login(_ login: String, _ password: String, _ options: SeedOptions) async throws -> Member {
        do {
            return try await Member.connect(host: options.host, port: options.port, login: login, password: password)
        } catch let e as SeedError {
            throw SeedError.refused("cannot log in as \(login) (\(e)); not seeding")
        }
    }

    /// Refuses a database with any contact, company, lead, call or user besides the two
    /// admins the Makefile made.
    static func checkEmpty(admin: Member, options: SeedOptions) async throws {
        func total(_ method: String, _ params: JSONValue = ["limit": 1]) async throws -> Int {
            Int(try await admin.call(method, params).int64("total") ?? 0)
        }
        let contacts = try await total("contact.list") + total("contact.list", ["limit": 1, "deleted": true])
        if contacts > 0 { throw SeedError.refused("database already has \(contacts) contact\(contacts == 1 ? "" : "s"); not seeding") }
        let companies = try await total("company.list") + total("company.list", ["limit": 1, "deleted": true])
        if companies > 0 { throw SeedError.refused("database already has \(companies) compan\(companies == 1 ? "y" : "ies"); not seeding") }
        let users = try await admin.call("user.list")["users"]?.arrayValue ?? []
        let others = users.compactMap { $0["login"]?.stringValue }.filter { $0 != options.adminLogin && $0 != options.techLogin }
        if !others.isEmpty {
            throw SeedError.refused("database already has \(others.count) user\(others.count == 1 ? "" : "s") besides \(options.adminLogin) and \(options.techLogin) (\(others.prefix(5).joined(separator: ", "))); not seeding")
        }
        let leads = try await total("lead.list")
        if leads > 0 { throw SeedError.refused("database already has \(leads) lead\(leads == 1 ? "" : "s"); not seeding") }
        let calls = try await total("call.list")
        if calls > 0 { throw SeedError.refused("database already has \(calls) call\(calls == 1 ? "" : "s"); not seeding") }
    }

    func member(_ login: String) -> Member {
        if login == options.adminLogin { return admin }
        return members.withLockedValue { $0[login] } ?? admin
    }

    /// The member whose user id this is (the admin when unknown).
    func member(id: Int64?) -> Member {
        guard let id else { return admin }
        let login = world.managers.first { ledger.user($0.login) == id }?.login
        return login.map(member) ?? admin
    }

    var robot: Member { member(data.staff.robot.login) }

    private func seed() async throws -> Summary {
        try await team()
        try await records()
        let settings = try await admin.call("lead.settings.get")
        let responseSeconds = settings.int64("message_response_seconds") ?? 3600
        // While history is replayed, a message and its reply arrive milliseconds apart but
        // days after the message was written: hold the overdue sweep off (30 days, the
        // most) so it does not mark a message between the two. Put back at the end.
        _ = try await admin.call("lead.settings.update", ["message_response_seconds": 2_592_000])
        do {
            try await ingest()
            try await workLeads()
            try await cards()
            try await money()
            try await seedTasksAndReminders()
        } catch {
            _ = try? await admin.call("lead.settings.update", ["message_response_seconds": .int(responseSeconds)])
            throw error
        }
        _ = try await admin.call("lead.settings.update", ["message_response_seconds": .int(responseSeconds)])
        let summary = try await summarise()
        for m in members.withLockedValue({ Array($0.values) }) { await m.close() }
        await admin.close()
        await tech.close()
        return summary
    }

    // MARK: - The team

    private func team() async throws {
        let domain = data.staff.mailDomain
        // The two admins get the names staff.json gives them, however they were made.
        for (member, person) in [(admin, data.staff.admin), (tech, data.staff.techAdmin)] {
            let me = try await member.call("auth.whoami")["user"] ?? .null
            if let id = me.int64("id"), let version = me.int64("version"), me["full_name"]?.stringValue != person.fullName {
                _ = try await member.call("user.update", ["id": .int(id), "version": .int(version), "full_name": .string(person.fullName)])
            }
            if let id = me.int64("id") { ledger.setUser(member.login, id) }
        }
        // The head of sales creates the sales team (one by one: the same ids every run),
        // then sets their passwords side by side; the tech admin makes the robot and lines.
        for m in world.managers {
            let u = try await admin.call("user.create", object([
                ("login", .string(m.login)), ("full_name", .string(m.fullName)), ("role", "user"), ("department", .string(m.department)),
                ("email", .string("\(m.login)@\(domain)")),
            ]))
            if let id = u.int64("id") { ledger.setUser(m.login, id) }
        }
        let password = options.managerPassword
        try await concurrently(world.managers.compactMap { ledger.user($0.login) }, limit: options.concurrency) { id in
            _ = try await self.admin.call("user.set_password", ["id": .int(id), "password": .string(password)])
        }
        let r = data.staff.robot
        let robotUser = try await tech.call("user.create", ["login": .string(r.login), "full_name": .string(r.fullName), "role": "robot"])
        guard let robotID = robotUser.int64("id") else { throw SeedError.server("user.create answered no id for the robot") }
        ledger.setUser(r.login, robotID)
        let token = try await tech.call("robot.token.create", ["user_id": .int(robotID), "label": .string(r.tokenLabel)])
        guard let secret = token["token"]?.stringValue else { throw SeedError.server("robot.token.create answered no token") }
        if let path = options.tokenFile { try writeSecret(secret, to: path) }
        for n in data.staff.mainNumbers {
            _ = try await tech.call("line.set", ["line": .string(n.line), "label": .string(n.label)])
        }
        for m in world.managers {
            guard let id = ledger.user(m.login) else { continue }
            let name = m.fullName
            _ = try await tech.call("line.set", ["line": .string(m.extension), "label": .string("Внутрішній \(m.extension): \(name)"), "user_id": .int(id)])
            let direct = data.staff.managers.first { $0.login == m.login }?.direct ?? ""
            _ = try await tech.call("line.set", ["line": .string(direct), "label": .string("Прямий номер: \(name)"), "user_id": .int(id)])
        }
        let (host, port) = (options.host, options.port)
        let logged = NIOLockedValueBox<[String: Member]>([:])
        try await concurrently(world.managers.map(\.login) + [r.login], limit: options.concurrency) { login in
            let m = login == r.login ? try await Member.connect(host: host, port: port, login: login, token: secret)
                : try await Member.connect(host: host, port: port, login: login, password: password)
            logged.withLockedValue { $0[login] = m }
        }
        members.withLockedValue { $0 = logged.withLockedValue { $0 } }
        let templates: [JSONValue] = [
            ["name": "Повторне замовлення", "source": "phone", "summary": "Клієнт повторює замовлення",
             "first_task_title": "Виставити рахунок і погодити доставку", "first_task_due_minutes": 60],
            ["name": "Запит комерційної пропозиції", "source": "email", "summary": "Потрібна комерційна пропозиція",
             "first_task_title": "Надіслати КП з цінами", "first_task_due_minutes": 240],
        ]
        for t in templates {
            if let id = try await admin.call("lead.template.create", t).int64("id") { ledger.addTemplate(id) }
        }
        say("team: \(world.managers.count) managers, robot \(r.login) with a token, \(data.staff.mainNumbers.count + 2 * world.managers.count) lines, \(templates.count) lead templates")
    }

    private func writeSecret(_ secret: String, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
        try (secret + "\n").write(to: url, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
    }

    // MARK: - Companies and people (in order: the same ids every run)

    private func records() async throws {
        var counterparties = 0
        for c in world.companies {
            let owner = member(c.ownerLogin)
            let made = try await owner.call("company.create", object([
                ("name", .string(c.name)), ("website", .text(c.website)), ("address", .string(c.address)), ("notes", .text(c.notes)),
            ]))
            guard let cid = made.int64("id") else { throw SeedError.server("company.create answered no id") }
            ledger.setCompany(c.key, cid)
            for cp in c.counterparties {
                let r = try await owner.call("counterparty.add", object([
                    ("company_id", .int(cid)), ("legal_name", .string(cp.legalName)), ("edrpou", .text(cp.edrpou)),
                    ("vat_number", .text(cp.vat)), ("address", .text(cp.address)),
                ]))
                if let id = r.int64("id") { ledger.addCounterparty(c.key, id) }
                counterparties += 1
            }
            for key in c.contactKeys {
                let p = world.contacts[key]
                var messengers: [JSONValue] = []
                if let t = p.telegram { messengers.append(["kind": "telegram", "external_id": .string(t.id), "handle": .string(t.handle)]) }
                if let v = p.viber { messengers.append(["kind": "viber", "external_id": .string(v)]) }
                let made = try await owner.call("contact.create", object([
                    ("full_name", .string(p.name.display)), ("position", .text(p.position)), ("company_id", .int(cid)),
                    ("group", .string(p.group)), ("source", .string(p.source)),
                    ("phones", .array(p.phones.map { object([("number", .string($0.written)), ("label", .text($0.label))]) })),
                    ("emails", p.email.map { .array([.string($0)]) }), ("messengers", messengers.isEmpty ? nil : .array(messengers)),
                ]))
                guard let id = made.int64("id") else { throw SeedError.server("contact.create answered no id") }
                ledger.setContact(key, id)
            }
        }
        say("companies: \(world.companies.count) with \(counterparties) counterparties and \(world.contacts.count) contacts")
    }

    // MARK: - Calls and messages through the robot

    private func ingest() async throws {
        let groups = Dictionary(grouping: world.events, by: \.party)
        let strangerEvents = world.strangers.flatMap { groups[.stranger($0.key)] ?? [] }
        let clientParties = groups.keys.compactMap { p -> Int? in if case .contact(let k) = p { return k } else { return nil } }.sorted()
        let counts = NIOLockedValueBox((calls: 0, legs: 0, messages: 0))
        @Sendable func delivered(_ e: EventSeed, _ n: Int) {
            counts.withLockedValue { if case .call = e.kind { $0.calls += 1; $0.legs += n } else { $0.messages += 1 } }
        }
        // New people first, one event after another: their leads take turns in the
        // round-robin, and their cards, leads and companies get the same ids every run.
        for e in strangerEvents { delivered(e, try await deliver(e)) }
        // Then the clients (owned already), each one's events in order, side by side.
        try await concurrently(clientParties, limit: options.concurrency) { key in
            for e in groups[.contact(key)] ?? [] { delivered(e, try await self.deliver(e)) }
        }
        let c = counts.withLockedValue { $0 }
        say("robot: \(c.calls) calls (\(c.legs) legs) and \(c.messages) messages since \(calendar.period(world.firstMonthOffset))-01")
    }

    /// Delivers one event; returns the number of requests it took.
    private func deliver(_ e: EventSeed) async throws -> Int {
        let robot = self.robot
        var result: JSONValue = .null
        var sent = 0
        switch e.kind {
        case .call(let call):
            for (i, leg) in call.legs.enumerated() {
                let end = leg.offset + leg.wait + leg.talk
                let params = object([
                    ("external_id", .string("\(call.generalID)-\(i + 1)")), ("provider", "binotel"), ("linked_id", .string(call.generalID)),
                    ("direction", .string(call.direction)), ("remote_number", .string(call.remote)), ("our_number", .string(call.our)),
                    ("manager_line", .text(leg.ext)), ("started_at", .string(calendar.text(e.at, seconds: leg.offset))),
                    ("answered_at", leg.talk > 0 ? .string(calendar.text(e.at, seconds: leg.offset + leg.wait)) : nil),
                    ("ended_at", .string(calendar.text(e.at, seconds: end))), ("talk_seconds", .int(Int64(leg.talk))),
                    ("wait_seconds", .int(Int64(leg.wait))), ("disposition", .string(leg.disposition)),
                    ("recording_url", leg.talk > 0 ? .string("https://pbx.\(data.staff.mailDomain)/records/\(call.generalID)-\(i + 1).mp3") : nil),
                    ("raw", object([("generalCallID", .string(call.generalID)), ("callType", .string(call.direction == "inbound" ? "0" : "1")),
                                    ("internalNumber", .text(leg.ext)), ("externalNumber", .string(call.remote)),
                                    ("billsec", .int(Int64(leg.talk))), ("disposition", .string(leg.disposition))])),
                ])
                let r = try await robot.call("call.ingest", params)
                sent += 1
                if r.int64("lead_id") != nil || result == .null { result = r }
            }
        case .message(let m):
            var sender: [(String, JSONValue?)] = [("email", .text(m.senderEmail)), ("phone", .text(m.senderPhone)),
                                                  ("messenger_id", .text(m.senderMessengerID)), ("username", .text(m.senderUsername)),
                                                  ("name", .text(m.senderName))]
            if m.direction == "outbound" { sender = [("email", .text(m.senderEmail))] }
            let params = object([
                ("external_id", .string(m.externalID)), ("channel", .string(m.channel)), ("direction", .string(m.direction)),
                ("sender", object(sender)), ("recipient", .text(m.recipient)), ("subject", .text(m.subject)), ("text", .string(m.text)),
                ("received_at", .string(calendar.text(e.at))), ("thread_id", .text(m.threadID)), ("manager_login", .text(m.managerLogin)),
                ("attachments", m.attachment.map { .array([["name": .string($0.name), "content_type": .string($0.type), "size": .int(Int64($0.size))]]) }),
            ])
            result = try await robot.call("message.ingest", params)
            sent = 1
        }
        if case .stranger(let key) = e.party, let cid = result.int64("contact_id") { ledger.setStranger(key, cid) }
        if let plan = e.lead, let lead = result.int64("lead_id") { ledger.noteLead(lead, plan: plan, party: e.party, at: e.at) }
        return sent
    }

    // MARK: - Leads: the managers qualify and reject

    /// Every lead as the admin sees it: owner, status, contact.
    private func allLeads() async throws -> [Int64: (owner: Int64?, status: String)] {
        var out: [Int64: (owner: Int64?, status: String)] = [:]
        var cursor: String?
        repeat {
            let page = try await admin.call("lead.list", object([("limit", 200), ("cursor", .text(cursor))]))
            for l in page["leads"]?.arrayValue ?? [] {
                guard let id = l.int64("id") else { continue }
                out[id] = (l.int64("owner_id"), l["status"]?.stringValue ?? "")
            }
            cursor = page["next_cursor"]?.stringValue
        } while cursor != nil
        return out
    }

    private var recentFrom: Minute { -2 * 1440 + calendar.nowMinute }

    private func workLeads() async throws {
        let leads = try await allLeads()
        let noted = ledger.leads
        var grouped: [Party: [Int64]] = [:]
        for (id, l) in noted { grouped[l.party, default: []].append(id) }
        for k in grouped.keys { grouped[k]?.sort() }
        let byParty = grouped
        let counts = NIOLockedValueBox((target: 0, rejected: 0))
        let strangers = world.strangers
        let parties = byParty.keys.compactMap { p -> Int? in if case .contact(let k) = p { return k } else { return nil } }.sorted()
        enum Work: Sendable { case strangers, client(Int) }
        try await concurrently([Work.strangers] + parties.map { Work.client($0) }, limit: options.concurrency) { w in
            switch w {
            case .strangers:
                for s in strangers {
                    let r = try await self.workStranger(s, leads: byParty[.stranger(s.key)] ?? [], all: leads, noted: noted)
                    counts.withLockedValue { $0.target += r.target; $0.rejected += r.rejected }
                }
            case .client(let key):
                for id in byParty[.contact(key)] ?? [] {
                    guard let l = leads[id], let n = noted[id], ["inquiry", "identification", "overdue_identification"].contains(l.status),
                          n.latest < self.recentFrom else { continue }
                    let who = self.member(id: l.owner)
                    switch n.plan {
                    case .qualify:
                        _ = try await who.call("lead.qualify", ["id": .int(id)])
                        counts.withLockedValue { $0.target += 1 }
                    case .reject(let reason, let text):
                        _ = try await who.call("lead.reject", ["id": .int(id), "reason": .string(reason), "reason_text": .string(text)])
                        counts.withLockedValue { $0.rejected += 1 }
                    case .keepOpen:
                        break
                    }
                }
            }
        }
        // People who wrote first and called later: the two cards become one.
        var merged = 0
        for s in strangers {
            guard let original = s.duplicateOf, let survivor = ledger.stranger(original), let twin = ledger.stranger(s.key), survivor != twin else { continue }
            _ = try await member(s.answeredBy).call("contact.merge", ["survivor_id": .int(survivor), "merged_id": .int(twin)])
            merged += 1
        }
        let c = counts.withLockedValue { $0 }
        say("leads: \(leads.count) from the inquiries; managers qualified \(c.target), rejected \(c.rejected), merged \(merged) duplicate cards; the rest are still being worked")
    }

    /// A new person's card and leads: the manager fills in the card, then qualifies
    /// (into a new company or one we know) or rejects.
    private func workStranger(_ s: StrangerSeed, leads ids: [Int64], all: [Int64: (owner: Int64?, status: String)],
                              noted: [Int64: (plan: LeadPlan, party: Party, latest: Minute)]) async throws -> (target: Int, rejected: Int) {
        guard let cid = ledger.stranger(s.key) else { return (0, 0) }
        let owner = member(id: ids.first.flatMap { all[$0]?.owner })
        let card = try await owner.call("contact.get", ["id": .int(cid)])
        guard let version = card.int64("version") else { return (0, 0) }
        let name = card["full_name"]?.stringValue
        _ = try await owner.call("contact.update", object([
            ("id", .int(cid)), ("version", .int(version)), ("full_name", name == nil ? .string(s.name.display) : nil),
            ("position", .string(s.position)), ("organization", s.organization.isEmpty ? nil : .string(s.organization)),
        ]))
        var result = (target: 0, rejected: 0)
        for id in ids {
            guard let l = all[id], let n = noted[id], ["inquiry", "identification", "overdue_identification"].contains(l.status),
                  n.latest < recentFrom else { continue }
            let who = member(id: l.owner)
            switch (s.outcome, n.plan) {
            case (.newClient(let cname, let legal, let website, let address, let step), _):
                if let existing = ledger.strangerCompany(s.key) {
                    _ = try await who.call("lead.qualify", ["id": .int(id), "company_id": .int(existing)])
                } else {
                    let q = try await who.call("lead.qualify", ["id": .int(id), "company_name": .string(cname)])
                    guard let company = q["company"], let compID = company.int64("id") else { continue }
                    ledger.setStrangerCompany(s.key, compID)
                    _ = try await who.call("counterparty.add", object([
                        ("company_id", .int(compID)), ("legal_name", .string(legal.legalName)), ("edrpou", .text(legal.edrpou)),
                        ("address", .text(legal.address)),
                    ]))
                    if let v = company.int64("version") {
                        _ = try await who.call("company.update", object([("id", .int(compID)), ("version", .int(v)), ("website", .text(website)),
                                                                         ("address", .string(address))]))
                    }
                    for i in 1...min(step, devStages.count - 1) {
                        _ = try await who.call("company.set_stage", ["id": .int(compID), "stage": .string(devStages[i]), "from": .string(devStages[i - 1])])
                    }
                }
                result.target += 1
            case (.joins(let key), _):
                guard let compID = ledger.company(key) else { continue }
                _ = try await who.call("lead.qualify", ["id": .int(id), "company_id": .int(compID)])
                result.target += 1
            case (_, .reject(let reason, let text)):
                _ = try await who.call("lead.reject", ["id": .int(id), "reason": .string(reason), "reason_text": .string(text)])
                result.rejected += 1
            default:
                break
            }
        }
        if s.deleteAfter { _ = try await owner.call("contact.delete", ["id": .int(cid)]) }
        return result
    }

    // MARK: - Funnels, comments, leads by hand

    private func cards() async throws {
        // Leads by hand first, one by one (the same ids every run).
        let templates = ledger.templates
        for l in world.manualLeads {
            guard let cid = ledger.contact(l.contactKey) else { continue }
            _ = try await member(l.ownerLogin).call("lead.create", object([
                ("contact_id", .int(cid)), ("template_id", templates.isEmpty ? nil : .int(templates[l.template % templates.count])),
                ("summary", .string(l.summary)),
            ]))
        }
        enum Work: Sendable { case funnel(Int), comment(Int) }
        let work = world.companies.map { Work.funnel($0.key) } + world.comments.indices.map { Work.comment($0) }
        let moves = NIOLockedValueBox(0)
        try await concurrently(work, limit: options.concurrency) { w in
            switch w {
            case .funnel(let key):
                let c = self.world.companies[key]
                guard let id = self.ledger.company(key) else { return }
                let owner = self.member(c.ownerLogin)
                if c.segment == "service" {
                    _ = try await self.admin.call("company.set_stage", ["id": .int(id), "stage": .string(c.serviceStage), "force": true,
                                                                        "note": "Клієнт із таблиць до впровадження CRM"])
                    moves.withLockedValue { $0 += 1 }
                    if let next = c.serviceMove {
                        _ = try await owner.call("company.set_stage", ["id": .int(id), "stage": .string(next), "from": .string(c.serviceStage)])
                        moves.withLockedValue { $0 += 1 }
                    }
                } else if c.devStep > 0 {
                    for i in 1...min(c.devStep, self.devStages.count - 1) {
                        _ = try await owner.call("company.set_stage", ["id": .int(id), "stage": .string(self.devStages[i]),
                                                                       "from": .string(self.devStages[i - 1])])
                        moves.withLockedValue { $0 += 1 }
                    }
                }
            case .comment(let i):
                let c = self.world.comments[i]
                let who = self.member(c.authorLogin)
                if let key = c.contactKey, let id = self.ledger.contact(key) {
                    _ = try await who.call("contact.comment", ["id": .int(id), "body": .string(c.body)])
                } else if let key = c.companyKey, let id = self.ledger.company(key) {
                    _ = try await who.call("company.comment", ["id": .int(id), "body": .string(c.body)])
                }
            }
        }
        say("cards: \(moves.withLockedValue { $0 }) funnel moves, \(world.comments.count) comments, \(world.manualLeads.count) leads made by hand")
    }

    // MARK: - Plans, shipments, the monthly close

    private func money() async throws {
        enum Work: Sendable { case plan(Int), shipment(Int) }
        let work = world.plans.indices.map { Work.plan($0) } + world.shipments.indices.map { Work.shipment($0) }
        try await concurrently(work, limit: options.concurrency) { w in
            switch w {
            case .plan(let i):
                let p = self.world.plans[i]
                var params: [(String, JSONValue?)] = [("period", .string(self.calendar.period(p.monthOffset))),
                                                      ("plan", .string(Words.money(kopecks: p.planKopecks))),
                                                      ("potential", .string(Words.money(kopecks: p.potentialKopecks)))]
                if let login = p.managerLogin, let id = self.ledger.user(login) { params.append(("manager_id", .int(id))) }
                if let key = p.companyKey, let id = self.ledger.company(key) { params.append(("company_id", .int(id))) }
                _ = try await self.admin.call("plan.set", object(params))
            case .shipment(let i):
                let s = self.world.shipments[i]
                let c = self.world.companies[s.companyKey]
                let cp = c.counterparties[min(s.counterparty, c.counterparties.count - 1)]
                var params: [(String, JSONValue?)] = [
                    ("external_id", .string("1c:\(s.document)")), ("document_number", .string(s.document)),
                    ("amount", .string(Words.money(kopecks: s.kopecks))), ("shipped_at", .string(self.calendar.text(s.at))),
                    ("contact_id", s.contactKey.flatMap { self.ledger.contact($0) }.map { .int($0) }),
                ]
                if let code = cp.edrpou {
                    params.append(("edrpou", .string(code)))
                } else if let id = self.ledger.company(c.key) {
                    params.append(("company_id", .int(id)))
                }
                _ = try await self.robot.call("shipment.record", object(params))
            }
        }
        let refunds = world.shipments.filter { $0.kopecks < 0 }.count
        say("money: \(world.plans.count) plans, \(world.shipments.count - refunds) shipments and \(refunds) refunds recorded by the robot")
        let run = try await tech.call("schedule.run_now", ["name": "monthly_close"])
        let closed = run["result"]?["closed"]?.arrayValue?.compactMap { $0["period"]?.stringValue } ?? []
        say("monthly close: \(closed.isEmpty ? "nothing to close" : "closed " + closed.joined(separator: ", "))")
    }

    // MARK: - Summary

    /// What the database holds after seeding, as the admin sees it.
    struct Summary: Sendable {
        var lines: [String]
        var seconds: Double
        var requests: Int
    }

    private func summarise() async throws -> Summary {
        func total(_ method: String, _ params: JSONValue) async throws -> Int {
            Int(try await admin.call(method, params).int64("total") ?? 0)
        }
        let users = try await admin.call("user.list")["users"]?.arrayValue?.count ?? 0
        let contacts = try await total("contact.list", ["limit": 1])
        let companies = try await total("company.list", ["limit": 1])
        var statuses: [String] = []
        for s in ["inquiry", "identification", "overdue_identification", "target", "rejected"] {
            statuses.append("\(s) \(try await total("lead.list", ["limit": 1, "status": .string(s)]))")
        }
        let answered = try await total("call.list", ["limit": 1, "kind": ["incoming_answered", "outgoing_answered"]])
        let missed = try await total("call.list", ["limit": 1, "kind": ["incoming_missed", "outgoing_missed"]])
        let messages = try await total("message.list", ["limit": 1])
        let shipments = try await admin.call("shipment.list", ["limit": 1, "from": .string(calendar.period(world.firstMonthOffset)),
                                                                "to": .string(calendar.period(0))])
        let requests = ([admin, tech] + members.withLockedValue { Array($0.values) }).map(\.requests).reduce(0, +)
        return Summary(lines: [
            "users: \(users) (admin, tech admin, robot, \(world.managers.count) managers)",
            "companies: \(companies), contacts: \(contacts)",
            "leads: " + statuses.joined(separator: ", "),
            "calls: \(answered) answered, \(missed) missed; messages: \(messages)",
            "shipments: \(shipments.int64("total") ?? 0), sum \(shipments["sum"]?.stringValue ?? "?") UAH",
        ], seconds: Date().timeIntervalSince(started), requests: requests)
    }
}
