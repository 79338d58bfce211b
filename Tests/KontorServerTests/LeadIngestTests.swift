import Foundation
import KontorClient
import KontorDomain
import KontorProtocol
import KontorTestSupport
import Postgres
import Testing

@Suite("Leads: robot ingestion of calls and messages")
struct LeadIngestTests {
    @Test("an answered Binotel call makes a contact, an inquiry and a lead in identification, owned by the manager on the line")
    func answeredCall() async throws {
        try await withWorld(Self.answeredCallBody)
    }

    static func answeredCallBody(_ w: RecordWorld) async throws {
        do {
            _ = try await w.admin.call("line.set", ["line": "901", "label": "Olena's desk", "user_id": num(w.devUser.id)])
            let robot = try await w.robot()
            let r = try await robot.ingest(try Samples.binotel())
            #expect(r.duplicate == false)
            #expect(r.leadStatus == "identification")
            let lead = try await w.lead(r.leadID)
            #expect(lead["status"] == "identification")
            #expect(lead["source"] == "phone")
            #expect(lead["owner_id"]?.int64Value == w.devUser.id)
            #expect(lead["assigned_by"] == "line")
            #expect(lead["inquiry_count"]?.int == 1)
            let inquiry = try #require(lead["inquiries"]?[0])
            #expect(inquiry["source"] == "phone")
            #expect(inquiry["kind"] == "call")
            #expect(inquiry["received_at"] == "2018-05-18T13:20:35+03:00", "the call's start, in the business time zone")
            #expect(inquiry["response_seconds"]?.int == 0, "waitsec 0: answered at once")
            #expect(inquiry["first_response_kind"] == "call_answered")
            #expect(inquiry["first_response_by"]?.int64Value == w.devUser.id)
            #expect(lead["history"]?.items.map { $0["to_status"] } == ["inquiry", "identification"])
            #expect(lead["history"]?[1]?["cause"] == "call_answered")
            let contact = try await w.admin.call("contact.get", ["id": num(r.contactID)])
            #expect(contact["group"] == "lead")
            #expect(contact["source"] == "phone")
            #expect(contact["owner_id"]?.int64Value == w.devUser.id)
            #expect(contact["phones"]?[0]?["e164"] == "+380675550123")
            // The manager sees the call with its leg and raw payload.
            let call = try await w.dev.call("call.get", ["id": num(r.callID)])
            #expect(call["kind"] == "incoming_answered")
            #expect(call["manager_id"]?.int64Value == w.devUser.id)
            #expect(call["talk_seconds"]?.int == 122)
            #expect(call["legs"]?.items.count == 1)
            #expect(call["legs"]?[0]?["raw"]?["callDetails"]?["employeeName"] == "Оператор1")
            #expect(call["legs"]?[0]?["manager_line"] == "901")
            await robot.close()
        }
    }

    @Test("a missed call makes the lead overdue_identification; it stays until a manager calls back")
    func missedCall() async throws {
        try await withWorld(Self.missedCallBody)
    }

    static func missedCallBody(_ w: RecordWorld) async throws {
        do {
            let robot = try await w.robot()
            let missed = try Samples.binotel { d in
                d["billsec"] = "0"
                d["disposition"] = "NO ANSWER"
                d["dstNumbers"] = .object(["0": .object(["dstNumber": "801 > 901", "waitsec": "25", "billsec": "0", "disposition": "NO ANSWER"])])
                d["waitsec"] = "25"
            }
            let r = try await robot.ingest(missed)
            #expect(r.leadStatus == "overdue_identification")
            var lead = try await w.lead(r.leadID)
            #expect(lead["status"] == "overdue_identification")
            #expect(lead["history"]?[1]?["cause"] == "call_missed")
            #expect(lead["inquiries"]?[0]?["overdue_at"] != .null)
            #expect(lead["inquiries"]?[0]?["first_response_at"] == .null)
            // Round-robin gave it to a Development manager (no line is mapped).
            #expect(lead["assigned_by"] == "round_robin")
            #expect([w.devUser.id, w.dev2User.id].contains(lead["owner_id"]?.int64Value ?? -1))
            // It is in the planner's lists: missed calls not followed up.
            let missedCalls = try await w.admin.call("call.list", ["missed_unanswered": true])
            #expect(missedCalls["total"]?.int == 1)
            // Another missed call later does not change anything but adds an inquiry.
            let start = Date(timeIntervalSince1970: 1_526_638_835)
            let again = try await robot.ingest(simpleCall("again-1", remote: "+380675550123", at: start.addingTimeInterval(600)))
            #expect(again.leadID == r.leadID)
            #expect(again.leadStatus == "overdue_identification")
            // The manager calls back and the client answers: an outbound answered call.
            let back = try await robot.ingest(simpleCall("callback-1", remote: "0675550123", at: start.addingTimeInterval(1200), talk: 60,
                                                         direction: .outbound))
            #expect(back.contactID == r.contactID)
            #expect(back.leadID == r.leadID)
            #expect(back.inquiryID == nil, "an outbound call is no inquiry")
            #expect(back.leadStatus == "identification")
            lead = try await w.lead(r.leadID)
            #expect(lead["inquiries"]?.items.allSatisfy { $0["first_response_kind"] == "call_outbound" } == true)
            #expect(lead["inquiries"]?[0]?["response_seconds"]?.int == 1205, "from the start of the missed call to the answered callback")
            #expect(lead["history"]?.items.last?["cause"] == "response")
            #expect(try await w.admin.call("call.list", ["missed_unanswered": true])["total"]?.int == 0)
            await robot.close()
        }
    }

    @Test("the same call delivered twice changes nothing and answers the original result with duplicate: true")
    func duplicateDelivery() async throws {
        try await withWorld(Self.duplicateDeliveryBody)
    }

    static func duplicateDeliveryBody(_ w: RecordWorld) async throws {
        do {
            let robot = try await w.robot()
            let first = try await robot.ingest(try Samples.binotel())
            let tables = ["contacts", "calls", "call_legs", "inquiries", "leads", "lead_status_history", "audit_log"]
            // Meanwhile the lead moved on: the repeat still answers what the first delivery answered.
            _ = try await w.admin.call("lead.reject", ["id": num(first.leadID), "version": 2, "reason": "spam"])
            var before: [Int] = []
            for t in tables { before.append(try await w.count(t)) }
            let second = try await robot.ingest(try Samples.binotel())
            #expect(second.duplicate)
            #expect(second.callID == first.callID && second.contactID == first.contactID && second.inquiryID == first.inquiryID)
            #expect(second.leadID == first.leadID)
            #expect(second.leadStatus == first.leadStatus)
            var after: [Int] = []
            for t in tables { after.append(try await w.count(t)) }
            #expect(after == before)
            await robot.close()
        }
    }

    @Test("legs of one call in either order: one inquiry, one lead, answered, received at the earliest leg")
    func legsInAnyOrder() async throws {
        try await withWorld(Self.legsInAnyOrderBody)
    }

    static func legsInAnyOrderBody(_ w: RecordWorld) async throws {
        do {
            _ = try await w.admin.call("line.set", ["line": "client1", "user_id": num(w.dev2User.id)])
            let robot = try await w.robot()
            let rows = try Samples.asterisk()
            // A ring: the first attempt was not answered, the next one was (records 2 and 3 of the sample).
            let missedRow = try #require(rows.first { $0[16] == "1690325531.5" })
            let answeredRow = try #require(rows.first { $0[16] == "1690325659.8" })
            for (n, order) in [[missedRow, answeredRow], [answeredRow, missedRow]].enumerated() {
                let remote = n == 0 ? "+380 44 555 01 01" : "+380 44 555 01 02"
                var results: [IngestMethods.CallIngestResult] = []
                for row in order { results.append(try await robot.ingest(Samples.asteriskLeg(row, linkedID: "ring-\(n)", remote: remote, pbx: "@pbx\(n)"))) }
                #expect(Set(results.map(\.callID)).count == 1, "one call")
                #expect(Set(results.map(\.inquiryID)).count == 1, "one inquiry")
                #expect(Set(results.map(\.leadID)).count == 1, "one lead")
                #expect(results.last?.leadStatus == "identification")
                let lead = try await w.lead(results[0].leadID)
                #expect(lead["status"] == "identification")
                #expect(lead["inquiries"]?.items.count == 1)
                #expect(lead["inquiries"]?[0]?["received_at"] == "2023-07-26T01:52:11+03:00", "the earliest leg's start")
                #expect(lead["inquiries"]?[0]?["overdue_at"] == .null, "the call was answered in the end")
                #expect(lead["owner_id"]?.int64Value == w.dev2User.id, "the manager whose line took the call")
                #expect(lead["assigned_by"] == "line")
                let call = try await w.admin.call("call.get", ["id": num(results[0].callID)])
                #expect(call["kind"] == "incoming_answered")
                #expect(call["legs"]?.items.count == 2)
                #expect(call["started_at"] == "2023-07-26T01:52:11+03:00")
                // Repeating both legs changes nothing.
                for row in order.reversed() {
                    #expect(try await robot.ingest(Samples.asteriskLeg(row, linkedID: "ring-\(n)", remote: remote, pbx: "@pbx\(n)")).duplicate)
                }
            }
            #expect(try await w.count("calls") == 2)
            #expect(try await w.count("inquiries") == 2)
            #expect(try await w.count("leads") == 2)
            // The missed-first order went through overdue and back; the report counts neither as overdue.
            let history = try await w.server.database.with { conn in
                try conn.query("SELECT count(*) AS n FROM inquiries WHERE overdue_at IS NOT NULL").one().decode("n", as: Int.self)
            }
            #expect(history == 0)
            await robot.close()
        }
    }

    @Test("two robots delivering the same event at once make one call; two legs of one call at once make one inquiry")
    func concurrentDeliveries() async throws {
        try await withWorld(Self.concurrentDeliveriesBody)
    }

    static func concurrentDeliveriesBody(_ w: RecordWorld) async throws {
        do {
            let a = try await w.robot("robot-a")
            let b = try await w.robot("robot-b")
            let base = Date(timeIntervalSince1970: 1_700_000_000)
            for round in 0..<5 {
                let p = simpleCall("same-\(round)", remote: "+38050555010\(round)", at: base.addingTimeInterval(Double(round) * 86_400 * 3), talk: 30)
                async let ra = a.ingest(p)
                async let rb = b.ingest(p)
                let (x, y) = try await (ra, rb)
                #expect(x.callID == y.callID && x.leadID == y.leadID && x.contactID == y.contactID)
                #expect([x.duplicate, y.duplicate].filter { $0 }.count == 1, "exactly one is the repeat")
            }
            #expect(try await w.count("call_legs") == 5)
            #expect(try await w.count("calls") == 5)
            #expect(try await w.count("contacts") == 5)
            #expect(try await w.count("leads") == 5)
            // Two different legs of one call, from a new number, at once.
            let t = base.addingTimeInterval(100 * 86_400)
            async let l1 = a.ingest(simpleCall("leg-1", remote: "+380505550200", at: t, linked: "L"))
            async let l2 = b.ingest(simpleCall("leg-2", remote: "+380505550200", at: t.addingTimeInterval(3), talk: 40, linked: "L"))
            let (r1, r2) = try await (l1, l2)
            #expect(r1.callID == r2.callID && r1.inquiryID == r2.inquiryID && r1.leadID == r2.leadID && r1.contactID == r2.contactID)
            #expect(try await w.lead(r1.leadID)["status"] == "identification")
            #expect(try await w.count("contacts", where: "id IN (SELECT contact_id FROM contact_phones WHERE e164 = '+380505550200')") == 1)
            await a.close()
            await b.close()
        }
    }

    @Test("a call from +380 44 … finds the contact stored as 044-…; the lead goes to its owner; the company card shows the call")
    func matchesWrittenForms() async throws {
        try await withWorld(Self.matchesWrittenFormsBody)
    }

    static func matchesWrittenFormsBody(_ w: RecordWorld) async throws {
        do {
            let company = try await w.dev2.call("company.create", ["name": "ТОВ Папір"])
            let contact = try await w.dev2.call("contact.create", ["full_name": "Іван Петренко", "phones": ["044-555-01-23"],
                                                                  "company_id": num(company.id)])
            let robot = try await w.robot()
            let at = Date(timeIntervalSince1970: 1_790_000_000)
            let r = try await robot.ingest(simpleCall("c1", remote: "+380 44 555 01 23", at: at))
            #expect(r.contactID == contact.id)
            #expect(try await w.count("contacts") == 1)
            let lead = try await w.lead(r.leadID)
            #expect(lead["owner_id"]?.int64Value == w.dev2User.id)
            #expect(lead["assigned_by"] == "contact_owner")
            #expect(lead["company_id"]?.int64Value == company.id)
            var card = try await w.dev2.call("company.get", ["id": num(company.id)])
            #expect(card["last_call_kind"] == "incoming_missed")
            #expect(card["last_call_at"]?.stringValue == RFC3339.format(at, timeZone: TimeZone(identifier: "Europe/Kyiv") ?? .current))
            // Written differently again, answered a minute later: the same contact and lead, the card follows.
            let r2 = try await robot.ingest(simpleCall("c2", remote: "380445550123", at: at.addingTimeInterval(60), talk: 20))
            #expect(r2.contactID == contact.id && r2.leadID == r.leadID)
            card = try await w.dev2.call("company.get", ["id": num(company.id)])
            #expect(card["last_call_kind"] == "incoming_answered")
            // The head sees the manager's calls with this client.
            let calls = try await w.admin.call("call.list", ["company_id": num(company.id)])
            #expect(calls["total"]?.int == 2)
            #expect(try await w.admin.call("call.list", ["manager_id": num(w.dev2User.id)])["total"]?.int == 2)
            await robot.close()
        }
    }

    @Test("our own lines never become contacts, inquiries or leads")
    func ownLines() async throws {
        try await withWorld(Self.ownLinesBody)
    }

    static func ownLinesBody(_ w: RecordWorld) async throws {
        do {
            _ = try await w.admin.call("line.set", ["line": "067 555 01 00", "label": "main DID"])
            let lines = try await w.admin.call("line.list")
            #expect(lines["lines"]?[0]?["key"] == "+380675550100")
            let robot = try await w.robot()
            let r = try await robot.ingest(simpleCall("own-1", remote: "+380675550100", at: Date(timeIntervalSince1970: 1_790_000_000), talk: 10))
            #expect(r.contactID == nil && r.inquiryID == nil && r.leadID == nil)
            let call = try await w.admin.call("call.get", ["id": num(r.callID)])
            #expect(call["kind"] == "internal")
            // A site form sent from our own number with no other identity: no contact by phone.
            let m = try await robot.ingest(IngestMethods.MessageIngestParams(
                externalID: "form-1", channel: .site, sender: IngestMethods.MessageSender(phone: "0675550100"), text: "test",
                receivedAt: Date(timeIntervalSince1970: 1_790_000_000)))
            #expect(m.contactID == nil && m.leadID == nil)
            #expect(try await w.count("contacts") == 0)
            #expect(try await w.count("leads") == 0)
            // Users may not manage lines.
            #expect(await failure { _ = try await w.dev.call("line.set", ["line": "902"]) }?.kind == .forbidden)
            await robot.close()
        }
    }

    @Test("three calls within the window are one lead; a call after the window opens a new lead")
    func openLeadWindow() async throws {
        try await withWorld(Self.openLeadWindowBody)
    }

    static func openLeadWindowBody(_ w: RecordWorld) async throws {
        do {
            let settings = try await w.admin.call("lead.settings.update", ["open_lead_window_seconds": 3600])
            #expect(settings["open_lead_window_seconds"]?.int == 3600)
            let robot = try await w.robot()
            let t0 = Date(timeIntervalSince1970: 1_790_000_000)
            var leads: [Int64?] = []
            for (i, minutes) in [0, 20, 50].enumerated() {
                leads.append(try await robot.ingest(simpleCall("w\(i)", remote: "0505550303", at: t0.addingTimeInterval(Double(minutes) * 60))).leadID)
            }
            #expect(Set(leads).count == 1)
            let lead = try await w.lead(leads[0])
            #expect(lead["inquiries"]?.items.count == 3)
            #expect(lead["status"] == "overdue_identification")
            // 61 minutes after the last one.
            let later = try await robot.ingest(simpleCall("w3", remote: "0505550303", at: t0.addingTimeInterval(111 * 60)))
            #expect(later.leadID != leads[0])
            #expect(try await w.count("leads") == 2)
            #expect(try await w.count("contacts") == 1)
            // A rejected lead is closed: the next call opens a new one even within the window.
            let v = try await w.lead(later.leadID)["version"]?.int ?? 0
            _ = try await w.admin.call("lead.reject", ["id": num(later.leadID), "version": .number("\(v)"), "reason": "wrong_number"])
            let next = try await robot.ingest(simpleCall("w4", remote: "0505550303", at: t0.addingTimeInterval(115 * 60)))
            #expect(next.leadID != later.leadID && next.leadID != leads[0])
            await robot.close()
        }
    }

    @Test("round-robin spreads new leads evenly across the active Development managers, concurrently")
    func roundRobin() async throws {
        try await withWorld(Self.roundRobinBody)
    }

    static func roundRobinBody(_ w: RecordWorld) async throws {
        do {
            let third = try await w.server.createUser("ivan", role: .user, department: .development)
            let gone = try await w.server.createUser("old", role: .user, department: .development)
            let v = try await w.admin.call("user.get", ["id": num(gone.id)])["version"] ?? 1
            _ = try await w.admin.call("user.update", ["id": num(gone.id), "version": v, "active": false])
            let r1 = try await w.robot("r1")
            let r2 = try await w.robot("r2")
            let r3 = try await w.robot("r3")
            let robots = [r1, r2, r3]
            let t0 = Date(timeIntervalSince1970: 1_790_000_000)
            let calls = (0..<12).map { i in (robots[i % 3], simpleCall("rr\(i)", remote: String(format: "+3805055504%02d", i), at: t0)) }
            let results = try await ingestConcurrently(calls)
            #expect(results.count == 12)
            var perOwner: [Int64: Int] = [:]
            for lead in try await leadsOf(w, results) {
                #expect(lead["assigned_by"] == "round_robin")
                perOwner[lead["owner_id"]?.int64Value ?? -1, default: 0] += 1
            }
            #expect(perOwner == [w.devUser.id: 4, w.dev2User.id: 4, third.id: 4], "Service and inactive managers take no turn")
            // A configured list restricts the turn.
            _ = try await w.admin.call("lead.settings.update", ["round_robin_user_ids": [num(third.id)]])
            let r = try await robots[0].ingest(simpleCall("rr-x", remote: "+380505550499", at: t0))
            #expect(try await w.lead(r.leadID)["owner_id"]?.int64Value == third.id)
            let refused = await failure { _ = try await w.admin.call("lead.settings.update", ["round_robin_user_ids": [num(w.serviceUser.id), 99999]]) }
            #expect(refused?.kind == .invalidParams)
            for r in robots { await r.close() }
        }
    }

    static func leadsOf(_ w: RecordWorld, _ results: [IngestMethods.CallIngestResult]) async throws -> [JSONValue] {
        var out: [JSONValue] = []
        for r in results { out.append(try await w.lead(r.leadID)) }
        return out
    }

    @Test("merge moves leads, calls, messages and inquiries to the survivor")
    func mergeMovesEverything() async throws {
        try await withWorld(Self.mergeMovesEverythingBody)
    }

    static func mergeMovesEverythingBody(_ w: RecordWorld) async throws {
        do {
            let robot = try await w.robot()
            let t0 = Date(timeIntervalSince1970: 1_790_000_000)
            w.server.clock.set(t0.addingTimeInterval(60))
            let byPhone = try await robot.ingest(simpleCall("m1", remote: "0505550601", at: t0, talk: 30))
            let byMail = try await robot.ingest(simpleMail("mail-1@example.org", from: "client@example.org", at: t0))
            #expect(byPhone.contactID != byMail.contactID)
            let r = try await w.admin.call("contact.merge", ["survivor_id": num(byPhone.contactID), "merged_id": num(byMail.contactID)])
            let moved = r["moved"]
            #expect(moved?["leads.contact_id"]?.int == 1)
            #expect(moved?["inquiries.contact_id"]?.int == 1)
            #expect(moved?["messages.contact_id"]?.int == 1)
            #expect(moved?["calls.contact_id"]?.int == 0)
            let survivor = num(byPhone.contactID)
            #expect(try await w.admin.call("lead.list", ["contact_id": survivor])["total"]?.int == 2)
            #expect(try await w.admin.call("inquiry.list", ["contact_id": survivor])["total"]?.int == 2)
            #expect(try await w.admin.call("message.list", ["contact_id": survivor])["total"]?.int == 1)
            #expect(try await w.admin.call("call.list", ["contact_id": survivor])["total"]?.int == 1)
            // The next e-mail from that address finds the survivor.
            let again = try await robot.ingest(simpleMail("mail-2@example.org", from: "Client@Example.org", at: t0.addingTimeInterval(30)))
            #expect(again.contactID == byPhone.contactID)
            await robot.close()
        }
    }

    @Test("a Telegram message makes a contact with the account; follow-ups join the waiting inquiry; unanswered in time it goes overdue; a reply answers it")
    func telegramMessage() async throws {
        try await withWorld(Self.telegramMessageBody)
    }

    static func telegramMessageBody(_ w: RecordWorld) async throws {
        do {
            let robot = try await w.robot()
            let p = try Samples.telegram()
            w.server.clock.set(p.receivedAt.addingTimeInterval(30))
            let r = try await robot.ingest(p)
            #expect(r.leadStatus == "inquiry")
            let contact = try await w.admin.call("contact.get", ["id": num(r.contactID)])
            #expect(contact["full_name"] == "Olha")
            #expect(contact["source"] == "telegram")
            #expect(contact["messengers"]?[0]?["external_id"] == "555000101")
            #expect(contact["messengers"]?[0]?["handle"] == "olha_example")
            // A follow-up before anyone answered joins the same inquiry.
            var more = p
            more.externalID = "555000101:6558"
            more.text = "are you there?"
            more.receivedAt = p.receivedAt.addingTimeInterval(120)
            let r2 = try await robot.ingest(more)
            #expect(r2.inquiryID == r.inquiryID && r2.leadID == r.leadID)
            var inquiry = try await w.admin.call("inquiry.list", ["lead_id": num(r.leadID)])
            #expect(inquiry["inquiries"]?[0]?["messages"]?.int == 2)
            // The configured response time (default 1 hour) passes.
            let job = try #require(w.server.server.job("leads.overdue"))
            w.server.clock.set(p.receivedAt.addingTimeInterval(3599))
            await job.runNow()
            #expect(try await w.lead(r.leadID)["status"] == "inquiry")
            w.server.clock.set(p.receivedAt.addingTimeInterval(3601))
            await job.runNow()
            var lead = try await w.lead(r.leadID)
            #expect(lead["status"] == "overdue_identification")
            #expect(lead["history"]?.items.last?["cause"] == "message_unanswered")
            #expect(lead["inquiries"]?[0]?["overdue_at"]?.stringValue == RFC3339.format(p.receivedAt.addingTimeInterval(3600),
                                                                                         timeZone: TimeZone(identifier: "Europe/Kyiv") ?? .current))
            await job.runNow()
            #expect(try await w.count("lead_status_history", where: "cause = 'message_unanswered'") == 1, "once")
            // Planners: unanswered messages.
            #expect(try await w.admin.call("message.list", ["unanswered": true])["total"]?.int == 2)
            // The owner replies in Telegram (recorded by hand).
            let owner = lead["owner_id"]?.int64Value == w.devUser.id ? w.dev : w.dev2
            let done = try await owner.call("inquiry.respond", ["lead_id": num(r.leadID), "channel": "telegram", "text": "Hello Olha, yes!"])
            #expect(done["inquiries"]?.items.count == 1)
            #expect(done["message"]?["direction"] == "outbound")
            lead = try await w.lead(r.leadID)
            #expect(lead["status"] == "identification")
            #expect(lead["inquiries"]?[0]?["first_response_kind"] == "manual")
            #expect(lead["inquiries"]?[0]?["overdue_at"] != .null, "it was overdue, and stays counted so")
            inquiry = try await w.admin.call("inquiry.list", ["unanswered": true])
            #expect(inquiry["total"]?.int == 0)
            // The correspondence, as the head reads it.
            let mail = try await w.admin.call("message.list", ["contact_id": num(r.contactID)])
            #expect(mail["messages"]?.items.map { $0["direction"] } == ["outbound", "inbound", "inbound"])
            await robot.close()
        }
    }

    @Test("a Viber message keeps its token beyond 2^53 exactly, and its raw payload")
    func viberMessage() async throws {
        try await withWorld(Self.viberMessageBody)
    }

    static func viberMessageBody(_ w: RecordWorld) async throws {
        do {
            let robot = try await w.robot()
            let p = try Samples.viber()
            w.server.clock.set(p.receivedAt.addingTimeInterval(10))
            let r = try await robot.ingest(p)
            #expect(try await robot.ingest(p).duplicate)
            let m = try await w.admin.call("message.get", ["id": num(r.messageID)])
            #expect(m["external_id"] == "4912661846655238145")
            #expect(m["raw"]?["message_token"] == .number("4912661846655238145"))
            #expect(m["raw"]?["message"]?["tracking_data"] == "אל תעקוב אחרי!")
            #expect(m["channel"] == "viber")
            let contact = try await w.admin.call("contact.get", ["id": num(r.contactID)])
            #expect(contact["messengers"]?[0]?["external_id"] == "01234567890A=")
            #expect(contact["source"] == "viber")
            #expect(try await w.lead(r.leadID)["source"] == "viber")
            await robot.close()
        }
    }

    @Test("an e-mail from an address a contact holds joins that contact; a bad address does not stop the message")
    func emailMessages() async throws {
        try await withWorld(Self.emailMessagesBody)
    }

    static func emailMessagesBody(_ w: RecordWorld) async throws {
        do {
            let known = try await w.dev.call("contact.create", ["full_name": "Known", "emails": ["Buyer@Firma.ua"]])
            let robot = try await w.robot()
            let t = Date(timeIntervalSince1970: 1_790_000_000)
            w.server.clock.set(t.addingTimeInterval(5))
            var mail = simpleMail("<a1@firma.ua>", from: "buyer@firma.ua", at: t)
            mail.attachments = [IngestMethods.Attachment(name: "Cromwell.png", contentType: "image/png", size: 1024),
                                IngestMethods.Attachment(name: nil, contentType: "application/octet-stream", size: 0)]
            let r = try await robot.ingest(mail)
            #expect(r.contactID == known.id)
            let stored = try await w.dev.call("message.get", ["id": num(r.messageID)])
            #expect(stored["attachments"]?[0]?["name"] == "Cromwell.png")
            #expect(stored["attachments"]?[0]?["size"]?.int == 1024)
            #expect(stored["attachments"]?[1]?["name"] == .null)
            #expect(try await w.lead(r.leadID)["owner_id"]?.int64Value == w.devUser.id)
            // The webflow sample's address is not one: the sender is kept on the message, the contact gets the name.
            let form = try Samples.json("webform/webflow_form_submission.json")
            let f = try await robot.ingest(IngestMethods.MessageIngestParams(
                externalID: Samples.text(form["_id"]) ?? "?", channel: .site,
                sender: IngestMethods.MessageSender(email: Samples.text(form["data"]?["Email"]), name: Samples.text(form["data"]?["Name"])),
                recipient: "form:" + (Samples.text(form["name"]) ?? ""), text: Samples.text(form["data"]?["Message"]) ?? "", receivedAt: t, raw: form))
            let c = try await w.admin.call("contact.get", ["id": num(f.contactID)])
            #expect(c["full_name"] == "Pipedream Test")
            #expect(c["emails"]?.items.isEmpty == true)
            #expect(c["source"] == "site")
            let m = try await w.admin.call("message.get", ["id": num(f.messageID)])
            #expect(m["sender"]?["email"] == "pipedream@test")
            // The manager's written reply, recorded by the mail robot, answers the inquiry.
            let reply = try await robot.ingest(IngestMethods.MessageIngestParams(
                externalID: "<re-a1@kontor>", channel: .email, direction: .outbound, sender: IngestMethods.MessageSender(email: "sales@kontor.example"),
                recipient: "buyer@firma.ua", subject: "Re: Question", text: "Yes", receivedAt: t.addingTimeInterval(600), managerLogin: "olena"))
            #expect(reply.contactID == known.id)
            #expect(reply.leadStatus == "identification")
            let inq = try await w.admin.call("inquiry.list", ["contact_id": num(known.id)])
            #expect(inq["inquiries"]?[0]?["first_response_kind"] == "message_outbound")
            #expect(inq["inquiries"]?[0]?["first_response_by"]?.int64Value == w.devUser.id)
            #expect(inq["inquiries"]?[0]?["response_seconds"]?.int == 600)
            await robot.close()
        }
    }
}

extension LeadIngestTests {
    @Test("the Twilio and FreeSWITCH samples: an outbound call to a stranger and a call between two extensions make no contact")
    func otherTelephonySamples() async throws {
        try await withWorld(Self.otherTelephonySamplesBody)
    }

    static func otherTelephonySamplesBody(_ w: RecordWorld) async throws {
        let robot = try await w.robot()
        // Twilio status callback (form-encoded).
        let form = try String(contentsOf: Samples.url("telephony/twilio_status_callback_completed.form.txt"), encoding: .utf8)
        var q: [String: String] = [:]
        for item in URLComponents(string: "?" + form.trimmingCharacters(in: .whitespacesAndNewlines))?.queryItems ?? [] { q[item.name] = item.value }
        let fmt = DateFormatter()
        fmt.locale = Locale(identifier: "en_US_POSIX")
        fmt.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        let ended = try #require(fmt.date(from: q["Timestamp"] ?? ""))
        let talk = Int(q["CallDuration"] ?? "0") ?? 0
        let twilio = try await robot.ingest(IngestMethods.CallIngestParams(
            externalID: q["CallSid"] ?? "?", provider: "twilio", direction: .outbound, remoteNumber: q["To"], ourNumber: q["From"],
            startedAt: ended.addingTimeInterval(-Double(talk)), answeredAt: ended.addingTimeInterval(-Double(talk)), endedAt: ended,
            talkSeconds: q["CallStatus"] == "completed" ? talk : 0, disposition: q["CallStatus"],
            raw: .object(q.mapValues { .string($0) })))
        #expect(twilio.contactID == nil && twilio.leadID == nil && twilio.inquiryID == nil)
        let call = try await w.admin.call("call.get", ["id": num(twilio.callID)])
        #expect(call["kind"] == "outgoing_answered")
        #expect(call["remote_number"] == "+551135550112")
        #expect(call["legs"]?[0]?["raw"]?["CalledCity"] == "São Paulo")
        #expect(try await w.dev.call("call.list", [:])["total"]?.int == 0, "a call without a contact is for admins")
        // FreeSWITCH JSON CDR of a bridged call between extensions 1001 and 1002.
        let cdr = try Samples.json("telephony/freeswitch_mod_json_cdr_answered.json")
        let v = cdr["variables"]
        func epoch(_ k: String) -> Date? { Samples.text(v?[k]).flatMap(Double.init).map { Date(timeIntervalSince1970: $0) } }
        let fs = try await robot.ingest(IngestMethods.CallIngestParams(
            externalID: Samples.text(v?["uuid"]) ?? "?", provider: "freeswitch", linkedID: Samples.text(v?["call_uuid"]), direction: .internal,
            remoteNumber: Samples.text(v?["sip_to_user"]), ourNumber: Samples.text(v?["sip_from_user"]), managerLine: Samples.text(v?["sip_from_user"]),
            startedAt: try #require(epoch("start_epoch")), answeredAt: epoch("answer_epoch"), endedAt: epoch("end_epoch"),
            talkSeconds: Int(Samples.text(v?["billsec"]) ?? "0") ?? 0, disposition: Samples.text(v?["hangup_cause"]), raw: cdr))
        #expect(fs.contactID == nil && fs.leadID == nil)
        #expect(try await w.admin.call("call.get", ["id": num(fs.callID)])["kind"] == "internal")
        #expect(try await w.count("contacts") == 0)
        await robot.close()
    }
}

@Suite("Leads: the overdue sweep across instances")
struct LeadSweepTests {
    @Test("two kontord instances sweeping one database mark each unanswered message once")
    func twoInstances() async throws {
        let db = try await TestDatabase.create()
        let a = try await TestServer.start(database: db)
        let b = try await TestServer.start(database: db)
        do {
            let robot = try await a.robot()
            let t0 = Date(timeIntervalSince1970: 1_790_000_000)
            for s in [a, b] { s.clock.set(t0) }
            for i in 0..<24 {
                _ = try await robot.ingest(simpleMail("sweep-\(i)", from: "sweep\(i)@example.org", at: t0.addingTimeInterval(Double(i))))
            }
            // One of them is rejected as spam before anyone answered: it is worked, not overdue.
            let spam = try await a.robot("robot-2").ingest(simpleMail("sweep-spam", from: "spam@example.org", at: t0))
            try await a.createUser("boss", role: .admin)
            let boss = try await a.login("boss")
            _ = try await boss.call("lead.reject", ["id": num(spam.leadID), "version": 1, "reason": "spam"])
            await boss.close()
            for s in [a, b] { s.clock.set(t0.addingTimeInterval(2 * 3600)) }
            let ja = try #require(a.server.job("leads.overdue"))
            let jb = try #require(b.server.job("leads.overdue"))
            async let ra: Void = ja.runNow()
            async let rb: Void = jb.runNow()
            _ = await (ra, rb)
            let (history, overdue, marked) = try await db.with { conn in
                (try conn.query("SELECT count(*) AS n FROM lead_status_history WHERE cause = 'message_unanswered'").one().decode("n", as: Int.self),
                 try conn.query("SELECT count(*) AS n FROM leads WHERE status = 'overdue_identification'").one().decode("n", as: Int.self),
                 try conn.query("SELECT count(*) AS n FROM inquiries WHERE overdue_at IS NOT NULL").one().decode("n", as: Int.self))
            }
            #expect(history == 24)
            #expect(overdue == 24)
            #expect(marked == 24, "the rejected lead's message is not swept")
            await robot.close()
        } catch {
            await a.stop(dropDatabase: false)
            await b.stop()
            throw error
        }
        await a.stop(dropDatabase: false)
        await b.stop()
    }
}
