import Foundation
import KontorClient
import KontorDomain
import KontorProtocol
import KontorServer
import KontorTestSupport
import Testing

@Suite("Planners: counts equal the records listed, for a manager and for the team")
struct PlannerTests {
    static let sections = ["tasks_overdue", "tasks_due_today", "missed_calls", "unanswered_messages", "waiting_inquiries", "overdue_leads"]

    /// Section → count, checking that every count equals the records listed and that each
    /// threshold's count equals the listed inquiries waiting longer than it.
    func counts(_ p: JSONValue) -> [String: Int] {
        var out: [String: Int] = [:]
        for s in Self.sections {
            let count = p[s]?["count"]?.int ?? -1
            let items = p[s]?["items"]?.items ?? []
            #expect(count == items.count, "\(s): count \(count), listed \(items.count)")
            #expect(p[s]?["more"] == .bool(false))
            out[s] = count
        }
        let waiting = p["waiting_inquiries"]?["items"]?.items ?? []
        for t in p["waiting_inquiries"]?["thresholds"]?.items ?? [] {
            let over = t["over_seconds"]?.int ?? 0
            #expect(t["count"]?.int == waiting.filter { ($0["waiting_seconds"]?.int ?? 0) > over }.count, "threshold \(over)")
        }
        return out
    }

    func thresholdCounts(_ p: JSONValue) -> [Int] {
        p["waiting_inquiries"]?["thresholds"]?.items.compactMap { $0["count"]?.int } ?? []
    }

    @Test("a manager's planner, an admin's view of a manager, the team's; users see only their own")
    func planner() async throws {
        try await withWorld { w in
            let now = at("2026-11-20T15:00:00+02:00")
            w.server.clock.set(now)
            func due(_ hhmm: String, day: String = "2026-11-20") -> JSONValue { .string("\(day)T\(hhmm):00+02:00") }
            // Tasks.
            _ = try await w.dev.newTask("O overdue 1", ["due_at": due("09:00")])
            _ = try await w.dev.newTask("O overdue 2", ["due_at": due("14:00")])
            _ = try await w.dev.newTask("O later today", ["due_at": due("17:00")])
            _ = try await w.dev.newTask("O tomorrow", ["due_at": due("10:00", day: "2026-11-21")])
            _ = try await w.dev.newTask("O no due time")
            let done = try await w.dev.newTask("O done", ["due_at": due("08:00")])
            _ = try await w.dev.call("task.complete", ["id": num(done.id)])
            _ = try await w.dev2.newTask("T overdue", ["due_at": due("11:00")])
            _ = try await w.dev2.newTask("T later today", ["due_at": due("16:00")])
            _ = try await w.service.newTask("M overdue", ["due_at": due("12:00")])
            // Calls and messages.
            _ = try await w.admin.call("line.set", ["line": "901", "user_id": num(w.devUser.id)])
            _ = try await w.admin.call("line.set", ["line": "902", "user_id": num(w.dev2User.id)])
            _ = try await w.dev.newContact("O Mail Client", extra: ["emails": ["o@example.com"]])
            _ = try await w.dev2.newContact("T Mail Client", extra: ["emails": ["t@example.com"]])
            let robot = try await w.robot()
            _ = try await robot.ingest(simpleCall("o-missed", remote: "0671110001", at: at("2026-11-20T14:00:00+02:00"), line: "901"))
            _ = try await robot.ingest(simpleCall("o-answered", remote: "0671110002", at: at("2026-11-20T13:00:00+02:00"), talk: 60, line: "901"))
            _ = try await robot.ingest(simpleCall("t-missed", remote: "0671110003", at: at("2026-11-20T12:00:00+02:00"), line: "902"))
            _ = try await robot.ingest(simpleMail("o-mail", from: "o@example.com", at: at("2026-11-20T12:30:00+02:00")))
            _ = try await robot.ingest(simpleMail("t-mail", from: "t@example.com", at: at("2026-11-20T14:30:00+02:00")))
            await w.server.server.job("leads.overdue")?.runNow()

            let olena = try await w.dev.call("planner.get")
            #expect(olena["subject"]?["kind"]?.stringValue == "user" && olena["subject"]?["user_id"]?.int64Value == w.devUser.id)
            #expect(counts(olena) == ["tasks_overdue": 2, "tasks_due_today": 1, "missed_calls": 1, "unanswered_messages": 1,
                                      "waiting_inquiries": 2, "overdue_leads": 2])
            #expect(thresholdCounts(olena) == [2, 2, 1, 0])
            #expect(olena["tasks_overdue"]?["items"]?.items.compactMap { $0["title"]?.stringValue } == ["O overdue 1", "O overdue 2"])

            let taras = try await w.admin.call("planner.get", ["user_id": num(w.dev2User.id)])
            #expect(counts(taras) == ["tasks_overdue": 1, "tasks_due_today": 1, "missed_calls": 1, "unanswered_messages": 1,
                                      "waiting_inquiries": 2, "overdue_leads": 1])
            #expect(thresholdCounts(taras) == [2, 1, 1, 0])
            // Taras sees the same for himself.
            #expect(counts(try await w.dev2.call("planner.get")) == counts(taras))

            let team = try await w.admin.call("planner.get", ["team": true])
            #expect(team["subject"]?["kind"]?.stringValue == "team")
            #expect(counts(team) == ["tasks_overdue": 4, "tasks_due_today": 2, "missed_calls": 2, "unanswered_messages": 2,
                                     "waiting_inquiries": 4, "overdue_leads": 3])
            #expect(thresholdCounts(team) == [4, 3, 2, 0])

            // Marta (Service) sees only her own work.
            #expect(counts(try await w.service.call("planner.get")) == ["tasks_overdue": 1, "tasks_due_today": 0, "missed_calls": 0,
                                                                         "unanswered_messages": 0, "waiting_inquiries": 0, "overdue_leads": 0])
            // A limit lists fewer and says so; the count stays.
            let short = try await w.admin.call("planner.get", ["team": true, "limit": 1])
            #expect(short["tasks_overdue"]?["count"]?.int == 4 && short["tasks_overdue"]?["items"]?.items.count == 1)
            #expect(short["tasks_overdue"]?["more"] == .bool(true))
            // Users see only their own planner.
            #expect(await failure { _ = try await w.dev.call("planner.get", ["user_id": num(w.dev2User.id)]) }?.kind == .forbidden)
            #expect(await failure { _ = try await w.dev.call("planner.get", ["team": true]) }?.kind == .forbidden)
            #expect(await failure { _ = try await w.admin.call("planner.get", ["user_id": 999_999]) }?.kind == .notFound)

            // Working a record takes it off the planner: answering the missed call's lead.
            let missed = try #require(olena["missed_calls"]?["items"]?[0]?["lead_id"]?.int64Value)
            _ = try await w.dev.call("inquiry.respond", ["lead_id": num(missed)])
            let after = try await w.dev.call("planner.get")
            #expect(counts(after)["missed_calls"] == 0 && counts(after)["overdue_leads"] == 1 && counts(after)["waiting_inquiries"] == 1)
        }
    }
}
