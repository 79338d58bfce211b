import Foundation
import KontorClient
import KontorDomain
import KontorProtocol
import KontorServer
import KontorTestSupport
import Testing

/// An instant written in RFC 3339.
func at(_ s: String) -> Date { RFC3339.parse(s)! }

/// An RFC 3339 instant as a JSON value.
func time(_ s: String) -> JSONValue { .string(s) }

extension JSONValue {
    /// A time field read back as an instant.
    var date: Date? { stringValue.flatMap(RFC3339.parse) }
    /// The ids of a list of records.
    var ids: [Int64] { items.map(\.id) }
}

extension KontorConnection {
    /// `task.create` with a title and more fields.
    func newTask(_ title: String, _ extra: [String: JSONValue] = [:]) async throws -> JSONValue {
        var p: [String: JSONValue] = ["title": .string(title)]
        for (k, v) in extra { p[k] = v }
        return try await call("task.create", .object(p))
    }

    /// The error `method` is refused with, nil when it succeeds. No closure: a closure
    /// after `#expect(await failure { ... })` in one test body was seen to run the
    /// other closure's code (Swift 6.3), so the tests of issue 5 use this form.
    func refusal(_ method: String, _ params: JSONValue = .object([:])) async -> KontorError? {
        do {
            _ = try await call(method, params)
            return nil
        } catch let e as KontorError {
            return e
        } catch {
            return KontorError(.internal, "\(error)")
        }
    }

    /// The ids `task.list` answers for `params` (one page of up to 200).
    func taskIDs(_ params: [String: JSONValue]) async throws -> [Int64] {
        var p = params
        p["limit"] = 200
        return try await call("task.list", .object(p))["tasks"]?.ids ?? []
    }
}

@Suite("Tasks: create, change, complete, filters, visibility, first tasks of lead templates")
struct TaskTests {
    @Test("a task is created, changed with its version, completed, reopened and cancelled; every change is audited")
    func lifecycle() async throws {
        try await withWorld { w in
            w.server.clock.set(at("2026-11-20T10:00:00+02:00"))
            let contact = try await w.dev.newContact("Іван Петренко", phones: ["044 123 45 67"])
            let t = try await w.dev.newTask("Call back about A4 paper", ["contact_id": num(contact.id), "due_at": "tomorrow 09:00",
                                                                         "notes": "Wants 20 boxes"])
            #expect(t["status"]?.stringValue == "open")
            #expect(t["assignee_id"]?.int64Value == w.devUser.id)
            #expect(t["due_at"]?.stringValue == "2026-11-21T09:00:00+02:00")
            #expect(t["contact_name"]?.stringValue == "Іван Петренко")
            #expect(t["source"]?.stringValue == "manual")
            #expect(t["overdue"] == .bool(false))
            let v1 = try #require(t["version"]?.int)

            // A stale version is a conflict; nothing changes.
            let stale = await failure { _ = try await w.dev.call("task.update", ["id": num(t.id), "version": .number("\(v1 + 1)"), "title": "X"]) }
            #expect(stale?.kind == .conflict)
            let u = try await w.dev.call("task.update", ["id": num(t.id), "version": .number("\(v1)"), "title": "Call Ivan back",
                                                         "due_at": "2026-11-20T09:00:00+02:00", "assignee_id": num(w.dev2User.id)])
            #expect(u["title"]?.stringValue == "Call Ivan back")
            #expect(u["overdue"] == .bool(true))
            #expect(u["assignee_id"]?.int64Value == w.dev2User.id)
            #expect(u["version"]?.int == v1 + 1)
            // A user assigns only within their department.
            let outside = await failure {
                _ = try await w.dev.call("task.update", ["id": num(t.id), "version": u["version"]!, "assignee_id": num(w.serviceUser.id)])
            }
            #expect(outside?.kind == .forbidden)
            // Bad time words are refused with the field named.
            let bad = await failure { _ = try await w.dev.call("task.update", ["id": num(t.id), "version": u["version"]!, "due_at": "someday"]) }
            #expect(bad?.kind == .invalidParams && bad?.data["field"] == .string("due_at"))

            let done = try await w.dev2.call("task.complete", ["id": num(t.id), "note": "Called, he orders on Monday"])
            #expect(done["status"]?.stringValue == "done")
            #expect(done["completed_by"]?.int64Value == w.dev2User.id)
            #expect(done["completion_note"]?.stringValue == "Called, he orders on Monday")
            #expect(done["overdue"] == .bool(false))
            #expect(await failure { _ = try await w.dev.call("task.complete", ["id": num(t.id)]) }?.kind == .invalidTransition)
            let reopened = try await w.dev.call("task.reopen", ["id": num(t.id), "version": done["version"]!])
            #expect(reopened["status"]?.stringValue == "open" && reopened["completed_at"] == .null)
            let cancelled = try await w.dev.call("task.cancel", ["id": num(t.id), "note": "Not needed"])
            #expect(cancelled["status"]?.stringValue == "cancelled")

            let audit = try await w.dev.call("audit.list", ["entity": "task", "entity_id": num(t.id)])["entries"]?.items ?? []
            #expect(audit.compactMap { $0["action"]?.stringValue } == ["cancel", "reopen", "complete", "update", "create"])
            #expect(audit[3]["changes"]?["assignee_id"]?["after"]?.int64Value == w.dev2User.id)

            // Bad input changes nothing.
            #expect(await failure { _ = try await w.dev.newTask("") }?.kind == .invalidParams)
            #expect(await failure { _ = try await w.dev.newTask("x", ["contact_id": 999_999]) }?.kind == .notFound)
            #expect(await failure { _ = try await w.dev.newTask("x", ["source": "pigeon"]) }?.kind == .invalidParams)
            #expect(try await w.count("tasks") == 1)
        }
    }

    @Test("due buckets follow the Kyiv day around midnight: overdue, today, tomorrow, this week, none")
    func dueBuckets() async throws {
        try await withWorld { w in
            // Friday 2026-11-20, 23:30 in Kyiv (21:30 UTC).
            w.server.clock.set(at("2026-11-20T23:30:00+02:00"))
            func task(_ title: String, _ due: String?) async throws -> Int64 {
                try await w.dev.newTask(title, due.map { ["due_at": .string($0)] } ?? [:]).id
            }
            let yesterdayLate = try await task("yesterday 23:55", "2026-11-19T23:55:00+02:00")
            let todayEarly = try await task("today 00:05", "2026-11-20T00:05:00+02:00")
            let todayLate = try await task("today 23:45", "2026-11-20T23:45:00+02:00")
            let tomorrowEarly = try await task("tomorrow 00:15", "2026-11-21T00:15:00+02:00")
            let sunday = try await task("sunday 23:59", "2026-11-22T23:59:00+02:00")
            let nextMonday = try await task("monday 00:30", "2026-11-23T00:30:00+02:00")
            let noDue = try await task("whenever", nil)
            let done = try await task("done today", "2026-11-20T09:00:00+02:00")
            _ = try await w.dev.call("task.complete", ["id": num(done)])

            #expect(Set(try await w.dev.taskIDs(["due": "overdue"])) == [yesterdayLate, todayEarly])
            #expect(Set(try await w.dev.taskIDs(["due": "today"])) == [todayEarly, todayLate])
            #expect(Set(try await w.dev.taskIDs(["due": "today", "status": "all"])) == [todayEarly, todayLate, done])
            #expect(Set(try await w.dev.taskIDs(["due": "tomorrow"])) == [tomorrowEarly])
            #expect(Set(try await w.dev.taskIDs(["due": "this_week"])) == [yesterdayLate, todayEarly, todayLate, tomorrowEarly, sunday])
            #expect(Set(try await w.dev.taskIDs(["due": "none"])) == [noDue])
            // Soonest first, no due time last.
            #expect(try await w.dev.taskIDs([:]) == [yesterdayLate, todayEarly, todayLate, tomorrowEarly, sunday, nextMonday, noDue])

            // 40 minutes later it is Saturday in Kyiv (still Friday in UTC).
            w.server.clock.set(at("2026-11-21T00:10:00+02:00"))
            #expect(Set(try await w.dev.taskIDs(["due": "today"])) == [tomorrowEarly])
            #expect(Set(try await w.dev.taskIDs(["due": "overdue"])) == [yesterdayLate, todayEarly, todayLate])
            #expect(Set(try await w.dev.taskIDs(["due": "tomorrow"])) == [sunday])
            // Monday 00:05: a new week.
            w.server.clock.set(at("2026-11-23T00:05:00+02:00"))
            #expect(Set(try await w.dev.taskIDs(["due": "this_week"])) == [nextMonday])
            #expect(Set(try await w.dev.taskIDs(["due": "today"])) == [nextMonday])
        }
    }

    @Test("waiting buckets at a fixed clock: over 20 min, 40 min, 2 h, 4 h (strictly over), answered leads drop out")
    func waitingBuckets() async throws {
        try await withWorld { w in
            let now = at("2026-11-20T15:00:00+02:00")
            w.server.clock.set(now)
            let robot = try await w.robot()
            var tasks: [Int: Int64] = [:]
            // Minutes waited by each lead's e-mail; 20 exactly is not over 20.
            for minutes in [10, 20, 30, 50, 150, 300] {
                let m = try await robot.ingest(simpleMail("mail-\(minutes)", from: "client\(minutes)@example.com",
                                                          at: now.addingTimeInterval(Double(-minutes * 60))))
                tasks[minutes] = try await w.admin.newTask("Answer client \(minutes)", ["lead_id": num(m.leadID)]).id
            }
            let t50 = try await w.admin.call("task.get", ["id": num(tasks[50])])
            #expect(t50["waiting_seconds"]?.int == 3000 && t50["waiting_over"]?.int == 2400)
            #expect(t50["source"]?.stringValue == "email")
            #expect(Set(try await w.admin.taskIDs(["waiting_over": 1200])) == [tasks[30]!, tasks[50]!, tasks[150]!, tasks[300]!])
            #expect(Set(try await w.admin.taskIDs(["waiting_over": 2400])) == [tasks[50]!, tasks[150]!, tasks[300]!])
            #expect(Set(try await w.admin.taskIDs(["waiting_over": 7200])) == [tasks[150]!, tasks[300]!])
            #expect(Set(try await w.admin.taskIDs(["waiting_over": 14400])) == [tasks[300]!])
            let list = try await w.admin.call("task.list", ["waiting_over": 14400])
            #expect(list["wait_thresholds_seconds"]?.items.compactMap(\.int) == [1200, 2400, 7200, 14400])
            // Answering the client takes the task out of the waiting lists.
            let lead150 = try #require(try await w.admin.call("task.get", ["id": num(tasks[150])])["lead_id"]?.int64Value)
            _ = try await w.admin.call("inquiry.respond", ["lead_id": num(lead150), "channel": "email"])
            #expect(Set(try await w.admin.taskIDs(["waiting_over": 7200])) == [tasks[300]!])
            #expect(await failure { _ = try await w.admin.call("task.list", ["waiting_over": 0]) }?.kind == .invalidParams)
        }
    }

    @Test("source filter: channels and the groups messengers (Telegram, Viber) and social (Facebook, Instagram)")
    func sourceFilter() async throws {
        try await withWorld { w in
            var ids: [String: Int64] = [:]
            for s in ["phone", "email", "telegram", "viber", "facebook", "instagram", "site", "manual"] {
                ids[s] = try await w.dev.newTask("from \(s)", ["source": .string(s)]).id
            }
            #expect(Set(try await w.dev.taskIDs(["source": "messengers"])) == [ids["telegram"]!, ids["viber"]!])
            #expect(Set(try await w.dev.taskIDs(["source": "social"])) == [ids["facebook"]!, ids["instagram"]!])
            #expect(Set(try await w.dev.taskIDs(["source": ["phone", "site"]])) == [ids["phone"]!, ids["site"]!])
            #expect(Set(try await w.dev.taskIDs(["source": "email"])) == [ids["email"]!])
        }
    }

    @Test("visibility: a user sees their department's tasks and unassigned ones; admins all; assignments stay in the department")
    func visibility() async throws {
        try await withWorld { w in
            let mine = try await w.dev.newTask("Olena's")
            let colleague = try await w.dev2.newTask("Taras's")
            let service = try await w.service.newTask("Marta's")
            let unassigned = try await w.admin.call("task.update", ["id": num(try await w.admin.newTask("Nobody's").id), "version": 1,
                                                                     "assignee_id": .null])
            #expect(unassigned["assignee_id"] == .null)
            #expect(Set(try await w.dev.taskIDs([:])) == [mine.id, colleague.id, unassigned.id])
            #expect(Set(try await w.dev.taskIDs(["mine": true])) == [mine.id])
            #expect(Set(try await w.dev.taskIDs(["unassigned": true])) == [unassigned.id])
            #expect(Set(try await w.service.taskIDs([:])) == [service.id, unassigned.id])
            #expect(Set(try await w.admin.taskIDs([:])) == [mine.id, colleague.id, service.id, unassigned.id])
            #expect(await failure { _ = try await w.service.call("task.get", ["id": num(mine.id)]) }?.kind == .notFound)
            #expect(await failure { _ = try await w.service.call("task.complete", ["id": num(mine.id)]) }?.kind == .notFound)
            #expect(await failure { _ = try await w.service.call("audit.list", ["entity": "task", "entity_id": num(mine.id)]) }?.kind == .notFound)
            #expect(await failure { _ = try await w.dev.newTask("for Marta", ["assignee_id": num(w.serviceUser.id)]) }?.kind == .forbidden)
            // An admin assigns anyone; the task then leaves the other department's sight.
            let handed = try await w.admin.newTask("For Marta", ["assignee_id": num(w.serviceUser.id)])
            #expect(try await w.service.call("task.get", ["id": num(handed.id)])["assignee_name"]?.stringValue == "Marta Service")
            // A task on a contact the assignee's colleague may not see hides the contact's name.
            let devContact = try await w.dev.newContact("Dev Client")
            let onDevCard = try await w.admin.newTask("Check the dev client", ["assignee_id": num(w.serviceUser.id), "contact_id": num(devContact.id)])
            let seen = try await w.service.call("task.get", ["id": num(onDevCard.id)])
            #expect(seen["contact_id"]?.int64Value == devContact.id && seen["contact_name"] == .null)
            // A user may not relate a task to a card they cannot see.
            #expect(await failure { _ = try await w.service.newTask("peek", ["contact_id": num(devContact.id)]) }?.kind == .notFound)
        }
    }

    @Test("a lead template's first task becomes a real task, linked to the lead, in the lead's transaction")
    func firstTaskOfTemplate() async throws {
        try await withWorld { w in
            w.server.clock.set(at("2026-11-20T10:00:00+02:00"))
            let template = try await w.admin.call("lead.template.create", ["name": "Price request", "source": "site",
                                                                           "first_task_title": "Send the price list", "first_task_due_minutes": 30])
            let contact = try await w.dev.newContact("Site Visitor")
            let lead = try await w.admin.call("lead.create", ["contact_id": num(contact.id), "template_id": num(template.id),
                                                              "owner_id": num(w.devUser.id)])
            let card = try await w.admin.call("lead.get", ["id": num(lead.id)])
            let taskID = try #require(card["first_task"]?["task_id"]?.int64Value)
            let task = try await w.dev.call("task.get", ["id": num(taskID)])
            #expect(task["title"]?.stringValue == "Send the price list")
            #expect(task["lead_id"]?.int64Value == lead.id && task["contact_id"]?.int64Value == contact.id)
            #expect(task["source"]?.stringValue == "site")
            #expect(task["assignee_id"]?.int64Value == w.devUser.id)
            #expect(task["due_at"]?.date == at("2026-11-20T10:30:00+02:00"))
            // Olena hears of both: the lead and the task were given to her by the admin.
            let feed = try await w.dev.call("chronicle.list")["entries"]?.items ?? []
            #expect(Set(feed.compactMap { $0["kind"]?.stringValue }) == ["lead_assigned", "task_assigned"])
            // A row written without a task (older data) is picked up by the job, once.
            let lead2 = try await w.dev.call("lead.create", ["contact_id": num(try await w.dev.newContact("Second").id)])
            _ = try await w.server.database.with { conn in
                try conn.execute("INSERT INTO lead_first_tasks (lead_id, title, created_at) VALUES (\(lead2.id), 'Legacy first task', now())")
            }
            await w.server.server.job("tasks.first_tasks")?.runNow()
            await w.server.server.job("tasks.first_tasks")?.runNow()
            #expect(try await w.count("tasks", where: "title = 'Legacy first task'") == 1)
            #expect(try await w.count("lead_first_tasks", where: "task_id IS NULL") == 0)
        }
    }

    @Test("merging contacts moves their tasks and reminders to the survivor")
    func mergeMovesTasks() async throws {
        try await withWorld { w in
            w.server.clock.set(at("2026-11-20T10:00:00+02:00"))
            let a = try await w.dev.newContact("Keep Me")
            let b = try await w.dev.newContact("Merge Me")
            let t = try await w.dev.newTask("On the merged card", ["contact_id": num(b.id)])
            let r = try await w.dev.call("reminder.create", ["text": "Ring", "when": "in 1 hour", "contact_id": num(b.id)])
            let merged = try await w.dev.call("contact.merge", ["survivor_id": num(a.id), "merged_id": num(b.id)])
            #expect(merged["moved"]?["tasks.contact_id"]?.int == 1)
            #expect(merged["moved"]?["reminders.contact_id"]?.int == 1)
            #expect(try await w.dev.call("task.get", ["id": num(t.id)])["contact_id"]?.int64Value == a.id)
            #expect(try await w.dev.call("reminder.get", ["id": num(r.id)])["contact_id"]?.int64Value == a.id)
        }
    }
}

@Suite("Tasks, reminders, chronicle, planners: the protocol reference")
struct TaskDocsTests {
    @Test("every method of issue 5 is documented in docs/PROTOCOL.md with its parameters, and docs/TASKS.md exists")
    func documented() throws {
        let doc = try String(contentsOf: TestEnvironment.projectRoot.appendingPathComponent("docs/PROTOCOL.md"), encoding: .utf8)
        let headings = doc.split(separator: "\n").filter { $0.hasPrefix("#### ") }
        for m in TaskMethods.catalogue {
            #expect(headings.contains { $0.contains("`\(m.name)`") }, "no heading for \(m.name)")
            for p in m.paramNames {
                #expect(doc.contains("`\(p)`"), "\(m.name): parameter \(p) is not described")
            }
        }
        let tasks = try String(contentsOf: TestEnvironment.projectRoot.appendingPathComponent("docs/TASKS.md"), encoding: .utf8)
        #expect(tasks.contains("X-Kontor-Signature"))
    }
    @Test("a task's waiting follows the lead's rule: waited 1200.7 s is over 20 minutes in the filter, the bucket and the lead alike")
    func waitingOneRule() async throws {
        try await withWorld { w in
            let received = at("2026-11-20T14:40:00+02:00")
            w.server.clock.set(received.addingTimeInterval(1200.7))
            let robot = try await w.robot()
            let m = try await robot.ingest(simpleMail("mail-edge", from: "edge@example.com", at: received))
            let task = try await w.admin.newTask("Answer the edge", ["lead_id": num(m.leadID)])
            let lead = try await w.admin.call("lead.get", ["id": num(m.leadID)])
            #expect(lead["waiting_over"]?.int == 1200)
            #expect(try await w.admin.taskIDs(["waiting_over": 1200]).contains(task.id))
            let got = try await w.admin.call("task.get", ["id": num(task.id)])
            #expect(got["waiting_seconds"]?.int == lead["waiting_seconds"]?.int)
            #expect(got["waiting_over"]?.int == 1200, "the filter says over 1200, the task says \(String(describing: got["waiting_over"]))")
        }
    }

    @Test("task due times: far past and future within PostgreSQL's range are kept; beyond it or malformed is invalid_params, nothing written")
    func dueExtremes() async throws {
        try await withWorld { w in
            w.server.clock.set(at("2026-11-20T10:00:00+02:00"))
            let old = try await w.dev.newTask("Logged late", ["due_at": "2000-01-01T09:00:00+02:00"])
            #expect(old["due_at"]?.stringValue == "2000-01-01T09:00:00+02:00" && old["overdue"] == .bool(true))
            let before = try await w.count("tasks")
            for bad in ["0000-01-01T00:00:00Z", "-0001-01-01T00:00:00Z", "99999-01-01T00:00:00Z", "1000000-01-01T00:00:00Z",
                        "in " + String(repeating: "100000w ", count: 400),
                        "tomorrow 25:00", "someday", "2026-11-31", ""] {
                let refused = await w.dev.refusal("task.create", ["title": "x", "due_at": .string(bad)])
                #expect(refused?.kind == .invalidParams, "\(bad.prefix(40)): \(String(describing: refused))")
            }
            #expect(try await w.count("tasks") == before)
        }
    }
}
