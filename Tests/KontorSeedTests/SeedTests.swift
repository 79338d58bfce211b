import Foundation
import KontorClient
import KontorDomain
import KontorProtocol
import KontorServer
import KontorTestSupport
import Postgres
import Testing

/// `make run`'s seeding path: the built `kontor-seed` against a live kontord.
@Suite("kontor-seed: the demo through the protocol", .serialized)
struct SeedTests {
    static var executable: String { TestEnvironment.productsDirectory.appendingPathComponent("kontor-seed").path }

    /// A server with the two admins `make run` creates before seeding.
    static func server() async throws -> TestServer {
        let server = try await TestServer.start()
        try await server.createUser("admin", role: .admin, fullName: "Demo Admin")
        try await server.createUser("tech", role: .techAdmin, fullName: "Demo Tech")
        return server
    }

    static func seed(_ server: TestServer, tokenFile: String? = nil) async throws -> CommandOutput {
        var argv = [executable, "--server", "127.0.0.1:\(server.port)", "--data", TestEnvironment.projectRoot.appendingPathComponent("seeds").path]
        if let tokenFile { argv += ["--token-file", tokenFile] }
        let env = ["KONTOR_SEED_ADMIN_PASSWORD": TestServer.password, "KONTOR_SEED_TECH_PASSWORD": TestServer.password,
                   "KONTOR_SEED_PASSWORD": "kontor-demo", "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
                   "LANG": "C.UTF-8"]
        return try await runCapturing(argv, environment: env)
    }

    /// Names and phones of everything the demo made, in one digest.
    static func digest(_ server: TestServer) async throws -> String {
        try await server.database.with { conn in
            try conn.query("""
                SELECT md5(string_agg(line, E'\\n' ORDER BY line)) AS digest, count(*) AS lines FROM (
                  SELECT 'u|' || login || '|' || full_name || '|' || role || '|' || coalesce(department, '') AS line FROM users
                  UNION ALL SELECT 'c|' || name || '|' || coalesce(website, '') || '|' || coalesce(address, '') FROM companies
                  UNION ALL SELECT 'k|' || legal_name || '|' || coalesce(edrpou, '') FROM counterparties
                  UNION ALL SELECT 'p|' || coalesce(c.full_name, '') || '|' || coalesce(c.position, '') || '|'
                         || coalesce((SELECT string_agg(coalesce(p.e164, p.written) || coalesce('x' || p.extension, ''), ',' ORDER BY p.e164, p.extension)
                                      FROM contact_phones p WHERE p.contact_id = c.id AND p.live), '') || '|'
                         || coalesce((SELECT string_agg(e.normalized, ',' ORDER BY e.normalized) FROM contact_emails e
                                      WHERE e.contact_id = c.id AND e.live), '')
                    FROM contacts c WHERE c.deleted_at IS NULL
                ) t
                """).one().decode("digest")
        }
    }

    @Test("an empty database gets the whole demo; a second run refuses; a second database gets the same demo; the quickstart's tour works")
    func seedsRefusesAndRepeats() async throws {
        let server = try await Self.server()
        let token = NSTemporaryDirectory() + "kontor-seed-\(UUID().uuidString.prefix(8))/robot.token"
        defer { try? FileManager.default.removeItem(atPath: (token as NSString).deletingLastPathComponent) }
        let run = try await Self.seed(server, tokenFile: token)
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        #expect(run.stdout.contains("seeded in"))

        // Counts, straight from the database.
        struct Counts: Sendable {
            var users: [String: Int] = [:], companies = 0, contacts = 0, leads: [String: Int] = [:], calls: [String: Int] = [:]
            var messages: [String: Int] = [:], managerPlans = 0, companyPlans = 0, shipments = 0, refunds = 0, stages: [String: Int] = [:]
            var comments = 0, closes = 0, counterparties = 0, deleted = 0, merged = 0
        }
        let c: Counts = try await server.database.with { conn in
            var c = Counts()
            for r in try conn.query("SELECT role, count(*) AS n FROM users GROUP BY role") { c.users[try r.decode("role")] = try r.decode("n") }
            c.companies = try conn.query("SELECT count(*) AS n FROM companies WHERE deleted_at IS NULL").one().decode("n")
            c.contacts = try conn.query("SELECT count(*) AS n FROM contacts WHERE deleted_at IS NULL").one().decode("n")
            c.deleted = try conn.query("SELECT count(*) AS n FROM contacts WHERE deleted_at IS NOT NULL AND merged_into_id IS NULL").one().decode("n")
            c.merged = try conn.query("SELECT count(*) AS n FROM contacts WHERE merged_into_id IS NOT NULL").one().decode("n")
            c.counterparties = try conn.query("SELECT count(*) AS n FROM counterparties").one().decode("n")
            for r in try conn.query("SELECT status, count(*) AS n FROM leads GROUP BY status") { c.leads[try r.decode("status")] = try r.decode("n") }
            for r in try conn.query("SELECT kind, count(*) AS n FROM calls GROUP BY kind") { c.calls[try r.decode("kind")] = try r.decode("n") }
            for r in try conn.query("SELECT channel, count(*) AS n FROM messages GROUP BY channel") { c.messages[try r.decode("channel")] = try r.decode("n") }
            c.managerPlans = try conn.query("SELECT count(*) AS n FROM manager_plans").one().decode("n")
            c.companyPlans = try conn.query("SELECT count(*) AS n FROM company_plans").one().decode("n")
            c.shipments = try conn.query("SELECT count(*) AS n FROM shipments WHERE amount > 0").one().decode("n")
            c.refunds = try conn.query("SELECT count(*) AS n FROM shipments WHERE amount < 0").one().decode("n")
            for r in try conn.query("SELECT s.code, count(*) AS n FROM company_funnel f JOIN funnel_stages s ON s.id = f.stage_id GROUP BY s.code") {
                c.stages[try r.decode("code")] = try r.decode("n")
            }
            c.comments = try conn.query("SELECT count(*) AS n FROM comments").one().decode("n")
            c.closes = try conn.query("SELECT count(*) AS n FROM planfact_closes").one().decode("n")
            return c
        }
        #expect(c.users == ["admin": 1, "tech_admin": 1, "robot": 1, "user": 6], "\(c.users)")
        #expect((180...230).contains(c.companies), "\(c.companies) companies")
        #expect(c.counterparties > c.companies, "\(c.counterparties) counterparties")
        #expect((450...560).contains(c.contacts), "\(c.contacts) contacts")
        #expect(c.deleted >= 1 && c.merged >= 1, "deleted \(c.deleted), merged \(c.merged)")
        for status in ["inquiry", "identification", "overdue_identification", "target", "rejected"] {
            #expect((c.leads[status] ?? 0) > 0, "no lead in \(status): \(c.leads)")
        }
        #expect((c.leads["target"] ?? 0) > 500 && (c.leads["rejected"] ?? 0) > 50, "\(c.leads)")
        for kind in ["incoming_answered", "incoming_missed", "outgoing_answered", "outgoing_missed"] {
            #expect((c.calls[kind] ?? 0) > 0, "no \(kind) call: \(c.calls)")
        }
        #expect(c.calls.values.reduce(0, +) > 1000, "\(c.calls)")
        for channel in ["email", "telegram", "viber", "site"] { #expect((c.messages[channel] ?? 0) > 0, "no \(channel) message: \(c.messages)") }
        #expect(c.managerPlans >= 6 * 4 && c.companyPlans > 300, "plans: managers \(c.managerPlans), companies \(c.companyPlans)")
        #expect(c.shipments > 400 && c.refunds > 0, "shipments \(c.shipments), refunds \(c.refunds)")
        #expect(c.stages.count >= 8 && (c.stages["deal_planned"] ?? 0) > 0 && (c.stages["new"] ?? 0) > 0, "\(c.stages)")
        #expect(c.comments > 200)
        #expect(c.closes == 3, "closed months: \(c.closes)")

        // The reports have something to show, as the head of sales reads them.
        let admin = try await server.login("admin")
        let period = Self.period(offset: -1)
        let report = try await admin.call("report.plan_fact", ["by": "manager", "period": .string(period)])
        let rows = report["rows"]?.arrayValue ?? []
        #expect(rows.count == 6, "\(report)")
        #expect(rows.allSatisfy { $0["plan"] != "0.00" && $0["closed"] == true }, "\(rows)")
        let funnel = try await admin.call("report.funnel", ["funnel": "service"])
        #expect((funnel["rows"]?.arrayValue ?? []).count >= 3)

        // Tasks and reminders were sent and kept (a refusal is only a note in the output),
        // and the planners have something in them: the team's and a manager's.
        let (tasks, overdueTasks, reminders): (Int, Int, Int) = try await server.database.with { conn in
            (try conn.query("SELECT count(*) AS n FROM tasks WHERE status = 'open'").one().decode("n"),
             try conn.query("SELECT count(*) AS n FROM tasks WHERE status = 'open' AND due_at < now()").one().decode("n"),
             try conn.query("SELECT count(*) AS n FROM reminders WHERE status = 'pending'").one().decode("n"))
        }
        #expect(tasks >= 60 && overdueTasks > 0 && reminders >= 30, "tasks \(tasks) (overdue \(overdueTasks)), reminders \(reminders)")
        #expect(!run.stdout.contains("refused kontor-seed's params") && !run.stdout.contains("not served"), "\(run.stdout)")
        let team = try await admin.call("planner.get", ["team": true])
        for section in ["tasks_overdue", "missed_calls", "overdue_leads"] {
            #expect((team[section]?["count"]?.int64Value ?? 0) > 0, "team planner: no \(section): \(team)")
            let items = team[section]?["items"]?.arrayValue ?? []
            #expect(items.count > 0, "team planner: no \(section) items")
        }
        let busiest: Int64 = try await server.database.with { conn in
            try conn.query("SELECT assignee_id FROM tasks WHERE status = 'open' GROUP BY assignee_id ORDER BY count(*) DESC, assignee_id LIMIT 1").one().decode("assignee_id")
        }
        let one = try await admin.call("planner.get", ["user_id": .number(String(busiest))])
        let counts = ["tasks_overdue", "tasks_due_today", "missed_calls", "unanswered_messages", "waiting_inquiries", "overdue_leads"]
            .map { one[$0]?["count"]?.int64Value ?? 0 }
        #expect(counts.reduce(0, +) > 0, "planner of user \(busiest) is empty: \(one)")
        let chronicle: Int = try await server.database.with { try $0.query("SELECT count(*) AS n FROM chronicle").one().decode("n") }
        #expect(chronicle > 100, "chronicle entries: \(chronicle)")
        await admin.close()

        // The robot's token was written for the bridge, readable by its owner only, and works.
        let attrs = try FileManager.default.attributesOfItem(atPath: token)
        #expect((attrs[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let secret = try String(contentsOfFile: token, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let robot = try await server.connect()
        let who = try await robot.call("auth.token", ["token": .string(secret)])
        #expect(who["user"]?["role"] == "robot")
        await robot.close()

        // A database with data: refused, with the reason, and nothing written.
        let before = try await Self.digest(server)
        let again = try await Self.seed(server)
        #expect(again.status == 3, "\(again.stdout)\n\(again.stderr)")
        #expect(again.stderr == "kontor-seed: database already has \(c.contacts + c.deleted + c.merged) contacts; not seeding\n", "\(again.stderr)")
        #expect(try await Self.digest(server) == before)

        // A second empty database gets the same people, companies and numbers.
        let twin = try await Self.server()
        let second = try await Self.seed(twin)
        #expect(second.status == 0, "\(second.stdout)\n\(second.stderr)")
        #expect(try await Self.digest(twin) == before)
        await twin.stop()

        // Every command of docs/QUICKSTART.md's tour works on the demo, as written.
        let tour = try await Self.runQuickstart(server: server, token: token)
        #expect(tour.status == 0, "the quickstart stopped:\n\(tour.stdout.suffix(3000))\n\(tour.stderr)")
        await server.stop()
    }

    /// The shell commands of docs/QUICKSTART.md from "Log in" on, as one bash script:
    /// `make` and the bare REPL left out, logins given their password, the port and the
    /// token file the test's. Runs it with `set -e` in a scratch folder.
    static func runQuickstart(server: TestServer, token: String) async throws -> CommandOutput {
        let doc = try String(contentsOf: TestEnvironment.projectRoot.appendingPathComponent("docs/QUICKSTART.md"), encoding: .utf8)
        guard let start = doc.range(of: "## Log in") else { throw QuickstartError(message: "no \"## Log in\" in QUICKSTART.md") }
        let passwords = ["admin": TestServer.password, "tech": TestServer.password]
        var script = ["set -e", "cd \"$WORK\""]
        var rest = doc[start.upperBound...]
        while let open = rest.range(of: "```sh\n"), let close = rest[open.upperBound...].range(of: "```") {
            let block = rest[open.upperBound..<close.lowerBound].replacingOccurrences(of: "\\\n", with: " ")
            for raw in block.split(separator: "\n") {
                var line = raw.trimmingCharacters(in: .whitespaces)
                let bare = line.split(separator: "#", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? line
                if line.isEmpty || line.hasPrefix("make ") || line.hasPrefix("export PATH=") || bare == "kontor" { continue }
                if line.hasPrefix("kontor login ") {
                    let login = line.dropFirst("kontor login ".count).prefix { !$0.isWhitespace }
                    line = "KONTOR_PASSWORD=\(passwords[String(login)] ?? "kontor-demo") kontor login \(login)"
                }
                line = line.replacingOccurrences(of: "127.0.0.1 7411", with: "127.0.0.1 \(server.port)")
                    .replacingOccurrences(of: "var/demo/robot.token", with: token)
                script.append("printf '\\n$ %s\\n' '\(line.replacingOccurrences(of: "'", with: "'\\''"))'")
                script.append(line)
            }
            rest = rest[close.upperBound...]
        }
        let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("kontor-tour-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("tour.sh").path
        try script.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let system = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return try await runCapturing(["/bin/bash", path], environment: [
            "PATH": TestEnvironment.productsDirectory.path + ":" + system, "HOME": dir.path,
            "XDG_CONFIG_HOME": dir.appendingPathComponent(".config").path, "WORK": dir.path,
            "KONTOR_SERVER": "127.0.0.1:\(server.port)", "LANG": "C.UTF-8", "COLUMNS": "100",
        ])
    }

    struct QuickstartError: Error { var message: String }

    @Test("one contact is enough to refuse; a wrong admin password too; both say why and write nothing")
    func refusals() async throws {
        let server = try await Self.server()
        let admin = try await server.login("admin")
        _ = try await admin.call("contact.create", ["full_name": "Іван Петренко", "phones": ["067 555 00 11"]])
        await admin.close()
        let run = try await Self.seed(server)
        #expect(run.status == 3)
        #expect(run.stderr == "kontor-seed: database already has 1 contact; not seeding\n", "\(run.stderr)")
        let users: Int = try await server.database.with { try $0.query("SELECT count(*) AS n FROM users").one().decode("n") }
        #expect(users == 2)

        let empty = try await Self.server()
        let env = ["KONTOR_SEED_ADMIN_PASSWORD": "wrong-password", "KONTOR_SEED_TECH_PASSWORD": TestServer.password,
                   "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        let denied = try await runCapturing([Self.executable, "--server", "127.0.0.1:\(empty.port)"], environment: env)
        #expect(denied.status == 3)
        #expect(denied.stderr.hasPrefix("kontor-seed: cannot log in as admin ("), "\(denied.stderr)")
        #expect(denied.stderr.hasSuffix("; not seeding\n"))
        await empty.stop()
        await server.stop()
    }

    /// `YYYY-MM` of the month `offset` months from now in Kyiv.
    static func period(offset: Int) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Kyiv") ?? .current
        let d = calendar.date(byAdding: .month, value: offset, to: Date()) ?? Date()
        let c = calendar.dateComponents([.year, .month], from: d)
        return String(format: "%04d-%02d", c.year ?? 2026, c.month ?? 1)
    }
}
