import Foundation
import KontorClient
import KontorDomain
import KontorProtocol
import KontorTestSupport
import Postgres
import Testing

@Suite("Leads: statuses, qualification, rejection, templates, waiting times, reports, permissions")
struct LeadProcessTests {
    /// A lead from a missed call of `remote` to our number +380445550000.
    static func missedLead(_ w: RecordWorld, _ robot: KontorConnection, remote: String, id: String) async throws -> IngestMethods.CallIngestResult {
        try await robot.ingest(simpleCall(id, remote: remote, at: Date(timeIntervalSince1970: 1_790_000_000), our: "+380445550000"))
    }

    @Test("reject without a reason: reason_required and the lead unchanged; with one: rejected; other moves: invalid_transition; reopen for admins")
    func rejectAndReopen() async throws {
        try await withWorld(Self.rejectAndReopenBody)
    }

    static func rejectAndReopenBody(_ w: RecordWorld) async throws {
        do {
            _ = try await w.admin.call("line.set", ["line": "+380445550000", "label": "Olena's number", "user_id": num(w.devUser.id)])
            w.server.clock.set(Date(timeIntervalSince1970: 1_790_000_100))
            let robot = try await w.robot()
            let r = try await Self.missedLead(w, robot, remote: "0505550701", id: "x1")
            let before = try await w.lead(r.leadID)
            #expect(before["owner_id"]?.int64Value == w.devUser.id)
            #expect(before["assigned_by"] == "direct_number")
            let v = before["version"] ?? 0
            var e = await failure { _ = try await w.dev.call("lead.reject", ["id": num(r.leadID), "version": v]) }
            #expect(e?.kind == .reasonRequired)
            #expect(e?.kind.code == -32012)
            e = await failure { _ = try await w.dev.call("lead.reject", ["id": num(r.leadID), "version": v, "reason": "  ", "reason_text": "nope"]) }
            #expect(e?.kind == .reasonRequired)
            e = await failure { _ = try await w.dev.call("lead.reject", ["id": num(r.leadID), "version": v, "reason": "other"]) }
            #expect(e?.kind == .reasonRequired, "`other` needs its free text")
            e = await failure { _ = try await w.dev.call("lead.reject", ["id": num(r.leadID), "version": v, "reason": "no_such_reason"]) }
            #expect(e?.kind == .invalidParams)
            #expect(try await w.lead(r.leadID) == before, "unchanged")
            // Now with a reason.
            let rejected = try await w.dev.call("lead.reject", ["id": num(r.leadID), "version": v, "reason": "wrong_department",
                                                                 "reason_text": "Looking for the accountant"])
            #expect(rejected["status"] == "rejected")
            #expect(rejected["reject_reason_code"] == "wrong_department")
            #expect(rejected["reject_reason_label"] == "Looking for another department (e.g. accounting)")
            #expect(rejected["reject_reason_text"] == "Looking for the accountant")
            #expect(rejected["closed_at"] != .null)
            // Rejecting works the lead: its missed call leaves the planner lists.
            #expect(try await w.admin.call("call.list", ["missed_unanswered": true])["total"]?.int == 0)
            #expect(try await w.admin.call("inquiry.list", ["unanswered": true])["total"]?.int == 0)
            let rv = rejected["version"] ?? 0
            // Any other move from here is refused.
            e = await failure { _ = try await w.dev.call("lead.reject", ["id": num(r.leadID), "version": rv, "reason": "spam"]) }
            #expect(e?.kind == .invalidTransition)
            e = await failure { _ = try await w.dev.call("lead.qualify", ["id": num(r.leadID), "version": rv]) }
            #expect(e?.kind == .invalidTransition)
            // A stale version is a conflict.
            e = await failure { _ = try await w.dev.call("lead.reject", ["id": num(r.leadID), "version": v, "reason": "spam"]) }
            #expect(e?.kind == .conflict)
            // Reopen: admins only; back to where it was.
            e = await failure { _ = try await w.dev.call("lead.reopen", ["id": num(r.leadID), "version": rv]) }
            #expect(e?.kind == .forbidden)
            let reopened = try await w.admin.call("lead.reopen", ["id": num(r.leadID), "version": rv])
            #expect(reopened["status"] == "overdue_identification")
            #expect(reopened["reject_reason_code"] == .null)
            #expect(try await w.admin.call("call.list", ["missed_unanswered": true])["total"]?.int == 1, "reopened: back in the lists")
            e = await failure { _ = try await w.admin.call("lead.reopen", ["id": num(r.leadID), "version": reopened["version"] ?? 0]) }
            #expect(e?.kind == .invalidTransition)
            // Every transition with who and when, and in the audit.
            let card = try await w.lead(r.leadID)
            let history = card["history"]?.items ?? []
            #expect(history.map { $0["to_status"] } == ["inquiry", "overdue_identification", "rejected", "overdue_identification"])
            #expect(history[2]["actor_name"] == "Olena Dev")
            #expect(history[2]["reason_code"] == "wrong_department")
            #expect(history[2]["method"] == "lead.reject")
            #expect(history[3]["actor_name"] == "Boss Admin")
            #expect(history[3]["cause"] == "reopened")
            #expect(history.allSatisfy { $0["at"]?.stringValue != nil })
            let audit = try await w.dev.call("audit.list", ["entity": "lead", "entity_id": num(r.leadID)])
            #expect((audit["entries"]?.items.map { $0["action"]?.stringValue ?? "" } ?? []).sorted() == ["create", "status", "status", "status"])
            await robot.close()
        }
    }

    @Test("qualify links the contact to a new company named from the card, or to an existing one, in one transaction")
    func qualify() async throws {
        try await withWorld(Self.qualifyBody)
    }

    static func qualifyBody(_ w: RecordWorld) async throws {
        do {
            let robot = try await w.robot()
            let a = try await robot.ingest(simpleCall("q1", remote: "0505550801", at: Date(timeIntervalSince1970: 1_790_000_000), talk: 30))
            let va = try await w.admin.call("contact.get", ["id": num(a.contactID)])["version"] ?? 0
            _ = try await w.admin.call("contact.update", ["id": num(a.contactID), "version": va, "organization": "ТОВ «Канцелярія Плюс»"])
            var lead = try await w.lead(a.leadID)
            // A stale contact version fails the whole step: no company is made.
            var e = await failure { _ = try await w.admin.call("lead.qualify", ["id": num(a.leadID), "version": lead["version"] ?? 0, "contact_version": 1]) }
            #expect(e?.kind == .conflict)
            #expect(try await w.count("companies") == 0)
            #expect(try await w.lead(a.leadID)["status"] == "identification")
            let q = try await w.admin.call("lead.qualify", ["id": num(a.leadID), "version": lead["version"] ?? 0])
            #expect(q["lead"]?["status"] == "target")
            #expect(q["company"]?["name"] == "ТОВ «Канцелярія Плюс»")
            #expect(q["contact"]?["company_id"] == q["company"]?["id"])
            #expect(q["contact"]?["group"] == "client")
            #expect(q["lead"]?["company_id"] == q["company"]?["id"])
            e = await failure { _ = try await w.admin.call("lead.qualify", ["id": num(a.leadID), "version": q["lead"]?["version"] ?? 0]) }
            #expect(e?.kind == .invalidTransition)
            // Into an existing company.
            let company = try await w.admin.call("company.create", ["name": "Existing Ltd"])
            let b = try await robot.ingest(simpleCall("q2", remote: "0505550802", at: Date(timeIntervalSince1970: 1_790_000_000)))
            lead = try await w.lead(b.leadID)
            let q2 = try await w.admin.call("lead.qualify", ["id": num(b.leadID), "version": lead["version"] ?? 0, "company_id": num(company.id)])
            #expect(q2["lead"]?["status"] == "target", "from overdue_identification too")
            #expect(q2["contact"]?["company_id"]?.int64Value == company.id)
            #expect(try await w.count("companies") == 2)
            let history = try await w.lead(b.leadID)["history"]?.items.last
            #expect(history?["cause"] == "qualified")
            // The target and its inquiry show in the source report.
            let bySource = try await w.server.database.with { conn in
                try conn.query("SELECT sum(inquiries) AS i, sum(leads) AS l, sum(target) AS t FROM reporting.inquiries_by_source_v1 WHERE source = 'phone'")
                    .one().decode("t", as: Int.self)
            }
            #expect(bySource == 2)
            await robot.close()
        }
    }

    @Test("lead.create from a contact card with a template: source, owner, summary and the first task")
    func createFromTemplate() async throws {
        try await withWorld(Self.createFromTemplateBody)
    }

    static func createFromTemplateBody(_ w: RecordWorld) async throws {
        do {
            let t = try await w.admin.call("lead.template.create", ["name": "Price request", "source": "site", "owner_id": num(w.dev2User.id),
                                                                   "summary": "Wants a price list", "first_task_title": "Send the price list",
                                                                   "first_task_due_minutes": 30])
            #expect(try await w.dev.call("lead.template.list")["templates"]?.items.count == 1)
            let contact = try await w.dev.newContact("Client", phones: ["0505550901"])
            let now = Date(timeIntervalSince1970: 1_790_000_000)
            w.server.clock.set(now)
            let lead = try await w.dev.call("lead.create", ["contact_id": num(contact.id), "template_id": num(t.id)])
            #expect(lead["source"] == "site")
            #expect(lead["owner_id"]?.int64Value == w.dev2User.id)
            #expect(lead["assigned_by"] == "template")
            #expect(lead["summary"] == "Wants a price list")
            #expect(lead["status"] == "identification")
            let card = try await w.dev.call("lead.get", ["id": num(lead.id)])
            #expect(card["first_task"]?["title"] == "Send the price list")
            #expect(card["first_task"]?["due_at"]?.stringValue == RFC3339.format(now.addingTimeInterval(1800), timeZone: TimeZone(identifier: "Europe/Kyiv") ?? .current))
            #expect(card["first_task"]?["assignee_id"]?.int64Value == w.dev2User.id)
            // Issue 5: the first task is a real task, made in the lead's transaction.
            let taskID = try #require(card["first_task"]?["task_id"]?.int64Value)
            let task = try await w.dev.call("task.get", ["id": num(taskID)])
            #expect(task["lead_id"]?.int64Value == lead.id && task["title"] == "Send the price list" && task["source"] == "site")
            // By hand, without a template: the creator owns it; a Service owner is not the Development user's to give.
            let own = try await w.dev.call("lead.create", ["contact_id": num(contact.id), "summary": "Second need"])
            #expect(own["owner_id"]?.int64Value == w.devUser.id)
            #expect(own["assigned_by"] == "creator")
            #expect(own["source"] == "manual")
            let e = await failure { _ = try await w.dev.call("lead.create", ["contact_id": num(contact.id), "owner_id": num(w.serviceUser.id)]) }
            #expect(e?.kind == .forbidden)
            // Deactivated templates cannot be used.
            _ = try await w.admin.call("lead.template.update", ["id": num(t.id), "version": t["version"] ?? 0, "active": false])
            #expect(await failure { _ = try await w.dev.call("lead.create", ["contact_id": num(contact.id), "template_id": num(t.id)]) }?.kind == .invalidParams)
            // Reassigning within the department.
            let moved = try await w.dev.call("lead.update", ["id": num(own.id), "version": own["version"] ?? 0, "owner_id": num(w.dev2User.id)])
            #expect(moved["owner_id"]?.int64Value == w.dev2User.id)
            #expect(moved["assigned_by"] == "manual")
        }
    }

    @Test("waiting-time filters return exactly the leads past each threshold at a fixed clock")
    func waitingFilters() async throws {
        try await withWorld(Self.waitingFiltersBody)
    }

    static func waitingFiltersBody(_ w: RecordWorld) async throws {
        do {
            let robot = try await w.robot()
            let now = kyivMorning
            w.server.clock.set(now)
            // Minutes each client has waited; 20 is exactly on the first threshold (not over it).
            let waits = [5, 20, 25, 45, 130, 250]
            var pairs: [(Int, Int64)] = []
            for m in waits {
                let r = try await robot.ingest(simpleMail("wait-\(m)", from: "client\(m)@example.org", at: now.addingTimeInterval(-Double(m) * 60)))
                pairs.append((m, r.leadID ?? -1))
            }
            let leadByWait = Dictionary(uniqueKeysWithValues: pairs)
            // One more that waited long but was answered.
            let answered = try await robot.ingest(simpleMail("wait-done", from: "done@example.org", at: now.addingTimeInterval(-300 * 60)))
            _ = try await w.admin.call("inquiry.respond", ["lead_id": num(answered.leadID), "channel": "email", "text": "Done",
                                                           "at": .string(RFC3339.format(now.addingTimeInterval(-200 * 60), timeZone: .current))])
            let expected: [Int: Set<Int>] = [1200: [25, 45, 130, 250], 2400: [45, 130, 250], 7200: [130, 250], 14400: [250]]
            for (threshold, minutes) in expected {
                let list = try await w.admin.call("lead.list", ["waiting_over": .number("\(threshold)")])
                #expect(Set(ids(list["leads"]?.items ?? [])) == Set(minutes.compactMap { leadByWait[$0] }), "over \(threshold) s")
                #expect(list["total"]?.int == minutes.count)
                let inquiries = try await w.admin.call("inquiry.list", ["waiting_over": .number("\(threshold)")])
                #expect(inquiries["total"]?.int == minutes.count)
            }
            let all = try await w.admin.call("lead.list", [:])
            #expect(all["wait_thresholds_seconds"]?.items.compactMap(\.int) == [1200, 2400, 7200, 14400])
            let l250 = try #require(all["leads"]?.items.first { $0.id == leadByWait[250] })
            #expect(l250["waiting_seconds"]?.int == 250 * 60)
            #expect(l250["waiting_over"]?.int == 14400)
            let l20 = try #require(all["leads"]?.items.first { $0.id == leadByWait[20] })
            #expect(l20["waiting_over"] == .null)
            // Thresholds are configurable.
            _ = try await w.admin.call("lead.settings.update", ["wait_thresholds_seconds": [600, 3600]])
            let l45 = try #require(try await w.admin.call("lead.list", [:])["leads"]?.items.first { $0.id == leadByWait[45] })
            #expect(l45["waiting_over"]?.int == 600)
            #expect(await failure { _ = try await w.admin.call("lead.settings.update", ["wait_thresholds_seconds": [3600, 600]]) }?.kind == .invalidParams)
            // Combined with status and source filters.
            #expect(try await w.admin.call("lead.list", ["waiting_over": 1200, "source": "email", "status": ["inquiry", "overdue_identification"]])["total"]?.int == 4)
            #expect(try await w.admin.call("lead.list", ["waiting_over": 1200, "source": "phone"])["total"]?.int == 0)
            await robot.close()
        }
    }

    @Test("report.lead_response: per manager and month in the business time zone; a user sees their own figures, admins everyone")
    func leadResponseReport() async throws {
        try await withWorld(Self.leadResponseReportBody)
    }

    static func leadResponseReportBody(_ w: RecordWorld) async throws {
        do {
            _ = try await w.admin.call("line.set", ["line": "101", "user_id": num(w.devUser.id)])
            _ = try await w.admin.call("line.set", ["line": "102", "user_id": num(w.dev2User.id)])
            _ = try await w.admin.call("line.set", ["line": "+380445559999", "label": "Taras's number", "user_id": num(w.dev2User.id)])
            let robot = try await w.robot()
            // 2026-10-31 23:30 Kyiv (21:30 UTC): October both ways.
            let oct = Date(timeIntervalSince1970: 1_793_482_200)
            // 2026-11-01 00:30 Kyiv = 2026-10-31 22:30 UTC: November in Kyiv.
            let nov = Date(timeIntervalSince1970: 1_793_485_800)
            _ = try await robot.ingest(simpleCall("r1", remote: "0505551001", at: oct, talk: 60, wait: 10, line: "101"))
            _ = try await robot.ingest(simpleCall("r2", remote: "0505551002", at: nov, talk: 60, wait: 20, line: "101"))
            _ = try await robot.ingest(simpleCall("r3", remote: "0505551003", at: nov.addingTimeInterval(3600), talk: 60, wait: 40, line: "101"))
            _ = try await robot.ingest(simpleCall("r4", remote: "0505551004", at: nov.addingTimeInterval(7200), our: "044 555 99 99"))
            _ = try await robot.ingest(simpleCall("r5", remote: "0505551005", at: nov, talk: 5, wait: 3, line: "102"))
            let report = try await w.admin.call("report.lead_response", ["from": "2026-10", "to": "2026-11"])
            let rows = report["rows"]?.items ?? []
            let olenaOct = rows.first { $0["period"] == "2026-10" && $0["manager_id"]?.int64Value == w.devUser.id }
            #expect(olenaOct?["inquiries"]?.int == 1)
            #expect(olenaOct?["median_first_response_seconds"]?.int == 10)
            let olenaNov = try #require(rows.first { $0["period"] == "2026-11" && $0["manager_id"]?.int64Value == w.devUser.id })
            #expect(olenaNov["inquiries"]?.int == 2)
            #expect(olenaNov["answered"]?.int == 2)
            #expect(olenaNov["overdue_identifications"]?.int == 0)
            #expect(olenaNov["median_first_response_seconds"]?.int == 30)
            #expect(olenaNov["p90_first_response_seconds"]?.int == 38)
            let novTotal = rows.filter { $0["period"] == "2026-11" }.compactMap { $0["inquiries"]?.int }.reduce(0, +)
            #expect(novTotal == 4)
            #expect(rows.filter { $0["period"] == "2026-11" }.compactMap { $0["overdue_identifications"]?.int }.reduce(0, +) == 1)
            // A user gets their own figures only.
            let mine = try await w.dev2.call("report.lead_response", ["from": "2026-10", "to": "2026-11"])
            #expect(mine["rows"]?.items.allSatisfy { $0["manager_id"]?.int64Value == w.dev2User.id } == true)
            let taras = mine["rows"]?.items.first { $0["period"] == "2026-11" }
            #expect(taras?["median_first_response_seconds"]?.int == 3)
            #expect(taras?["inquiries"]?.int == 2)
            #expect(taras?["answered"]?.int == 1)
            #expect(taras?["overdue_identifications"]?.int == 1)
            #expect(await failure { _ = try await w.dev2.call("report.lead_response", ["manager_id": num(w.devUser.id)]) }?.kind == .forbidden)
            #expect(await failure { _ = try await w.admin.call("report.lead_response", ["from": "2026-13"]) }?.kind == .invalidParams)
            // The source view agrees.
            let phone = try await w.server.database.with { conn in
                try conn.query("SELECT period_label, inquiries, leads FROM reporting.inquiries_by_source_v1 WHERE source = 'phone' ORDER BY period").map {
                    (try $0.decode("period_label", as: String.self), try $0.decode("inquiries", as: Int.self))
                }
            }
            #expect(phone.map(\.0) == ["2026-10", "2026-11"] || phone.map(\.0).contains("2026-11"))
            #expect(phone.first { $0.0 == "2026-10" }?.1 == 1)
            #expect(phone.first { $0.0 == "2026-11" }?.1 == 4)
            await robot.close()
        }
    }

    @Test("a robot cannot read reports, leads or manage users; a user cannot ingest; a tech admin configures but reads no leads")
    func permissions() async throws {
        try await withWorld(Self.permissionsBody)
    }

    static func permissionsBody(_ w: RecordWorld) async throws {
        do {
            let robot = try await w.robot()
            for method in ["report.lead_response", "lead.list", "lead.get", "call.list", "message.list", "user.create", "user.update", "line.set"] {
                #expect(await failure { _ = try await robot.call(method, [:]) }?.kind == .forbidden, "robot: \(method)")
            }
            let call = try Samples.binotel()
            #expect(await failure { _ = try await w.dev.call("call.ingest", call, as: IngestMethods.CallIngestResult.self) }?.kind == .forbidden)
            #expect(await failure { _ = try await w.admin.call("message.ingest", try Samples.telegram(), as: IngestMethods.MessageIngestResult.self) }?.kind == .forbidden)
            try await w.server.createUser("tech", role: .techAdmin)
            let tech = try await w.server.login("tech")
            _ = try await tech.call("line.set", ["line": "905", "user_id": num(w.devUser.id)])
            _ = try await tech.call("lead.reason.create", ["code": "test_call", "label": "A test call"])
            _ = try await tech.call("lead.status.update", ["code": "target", "label": "Цільовий лід"])
            #expect(try await w.dev.call("lead.status.list")["statuses"]?.items.first { $0["code"] == "target" }?["label"] == "Цільовий лід")
            #expect(await failure { _ = try await tech.call("lead.list", [:]) }?.kind == .forbidden)
            #expect(await failure { _ = try await w.dev.call("lead.reason.create", ["code": "x", "label": "X"]) }?.kind == .forbidden)
            let reasons = try await w.dev.call("lead.reason.list")
            let testCall = try #require(reasons["reasons"]?.items.first { $0["code"] == "test_call" })
            _ = try await w.admin.call("lead.reason.update", ["code": "test_call", "version": testCall["version"] ?? 0, "active": false])
            #expect(try await w.dev.call("lead.reason.list")["reasons"]?.items.contains { $0["code"] == "test_call" } == false)
            #expect(try await w.dev.call("lead.reason.list", ["all": true])["reasons"]?.items.contains { $0["code"] == "test_call" } == true)
            await tech.close()
            await robot.close()
        }
    }

    @Test("visibility: a Service manager sees no Development leads, calls, messages or inquiries")
    func visibility() async throws {
        try await withWorld(Self.visibilityBody)
    }

    static func visibilityBody(_ w: RecordWorld) async throws {
        do {
            _ = try await w.admin.call("line.set", ["line": "101", "user_id": num(w.devUser.id)])
            let robot = try await w.robot()
            let t = Date(timeIntervalSince1970: 1_790_000_000)
            w.server.clock.set(t)
            let r = try await robot.ingest(simpleCall("v1", remote: "0505551101", at: t, talk: 10, line: "101"))
            let m = try await robot.ingest(simpleMail("v-mail", from: "v@example.org", at: t))
            #expect(try await w.dev2.call("lead.get", ["id": num(r.leadID)])["id"]?.int64Value == r.leadID, "same department")
            for (method, id) in [("lead.get", r.leadID), ("call.get", r.callID)] {
                #expect(await failure { _ = try await w.service.call(method, ["id": num(id)]) }?.kind == .notFound, "\(method)")
            }
            #expect(try await w.service.call("lead.list", [:])["leads"]?.items.allSatisfy { $0["owner_id"]?.int64Value != w.devUser.id } == true)
            #expect(try await w.service.call("call.list", [:])["total"]?.int == 0)
            #expect(try await w.service.call("inquiry.list", ["lead_id": num(r.leadID)])["total"]?.int == 0)
            let mine = try await w.admin.call("message.get", ["id": num(m.messageID)])
            let owner = try await w.lead(m.leadID)["owner_id"]?.int64Value
            #expect(mine["id"]?.int64Value == m.messageID)
            if owner == w.devUser.id || owner == w.dev2User.id {
                #expect(await failure { _ = try await w.service.call("message.get", ["id": num(m.messageID)]) }?.kind == .notFound)
            }
            #expect(await failure { _ = try await w.service.call("inquiry.respond", ["lead_id": num(r.leadID)]) }?.kind == .notFound)
            await robot.close()
        }
    }
}

@Suite("Leads: the protocol reference")
struct LeadDocsTests {
    @Test("every ingestion and lead method is documented in docs/PROTOCOL.md with its parameters")
    func documented() throws {
        let doc = try String(contentsOf: TestEnvironment.projectRoot.appendingPathComponent("docs/PROTOCOL.md"), encoding: .utf8)
        let headings = doc.split(separator: "\n").filter { $0.hasPrefix("#### ") }
        for m in IngestMethods.catalogue + LeadMethods.catalogue {
            #expect(headings.contains { $0.contains("`\(m.name)`") }, "no heading for \(m.name)")
            for p in m.paramNames {
                #expect(doc.contains("`\(p)`"), "\(m.name): parameter \(p) is not described")
            }
        }
    }
}
