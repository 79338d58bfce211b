import Foundation
import KontorClient
import KontorDomain
import KontorProtocol
import KontorServer
import KontorTestSupport
import Postgres
import Testing

@Suite("Chronicle and live notifications")
struct NotificationTests {
    /// Writes `n` feed entries for `user` straight into the database (the triggers notify).
    func flood(_ w: RecordWorld, user: Int64, count n: Int, text: Int = 3900) async throws {
        _ = try await w.server.database.with { conn in
            try conn.execute("""
                INSERT INTO chronicle (user_id, kind, at, text)
                SELECT \(user), 'mention', now(), g::text || ' ' || repeat('x', \(text)::int) FROM generate_series(1, \(n)::int) g
                """)
        }
    }

    @Test("assignments, overdue leads and mentions land in the right feeds, are pushed live, and can be marked read")
    func feedFromTriggers() async throws {
        try await withWorld { w in
            let start = at("2026-11-20T10:00:00+02:00")
            w.server.clock.set(start)
            let pushes = PushLog(w.dev)
            _ = try await w.dev.call("notify.subscribe")
            // An admin gives Olena a lead.
            let contact = try await w.dev2.newContact("Taras's Client")
            let lead = try await w.dev2.call("lead.create", ["contact_id": num(contact.id)])
            _ = try await w.admin.call("lead.update", ["id": num(lead.id), "version": lead["version"]!, "owner_id": num(w.devUser.id)])
            // Mentions: Olena and the admin are named; Marta (Service) may not see the card; Taras names himself.
            let comment = try await w.dev2.call("contact.comment", ["id": num(contact.id),
                                                                     "body": "@olena please call them. cc @boss, @marta; note to @taras. mail ivan@olena.ua"])
            // A missed call on Olena's line makes her a lead that is overdue at once.
            _ = try await w.admin.call("line.set", ["line": "901", "user_id": num(w.devUser.id)])
            let robot = try await w.robot()
            _ = try await robot.ingest(simpleCall("missed-1", remote: "0671112233", at: start, line: "901"))

            #expect(await pushes.wait { $0.filter { $0.method == "chronicle.entry" }.count >= 4 })
            let feed = try await w.dev.call("chronicle.list")
            let kinds = feed["entries"]?.items.compactMap { $0["kind"]?.stringValue } ?? []
            #expect(kinds == ["lead_overdue", "lead_assigned", "mention", "lead_assigned"], "\(kinds)")
            #expect(feed["unread"]?.int == 4)
            let mention = try #require(feed["entries"]?.items.first { $0["kind"]?.stringValue == "mention" })
            #expect(mention["comment_id"]?.int64Value == comment.id && mention["actor_id"]?.int64Value == w.dev2User.id)
            #expect(mention["text"]?.stringValue?.hasPrefix("Taras Dev mentioned you: @olena please call them.") == true)
            #expect(mention["contact_name"]?.stringValue == "Taras's Client")
            #expect(pushes.of("chronicle.entry").map(\.id) == feed["entries"]?.items.reversed().map(\.id))
            #expect(try await w.admin.call("chronicle.list")["entries"]?.items.compactMap { $0["kind"]?.stringValue } == ["mention"])
            #expect(try await w.service.call("chronicle.list")["entries"]?.items.isEmpty == true)
            #expect(try await w.dev2.call("chronicle.list")["entries"]?.items.isEmpty == true)

            // Read and unread.
            let ids = feed["entries"]?.ids ?? []
            #expect(try await w.dev.call("chronicle.mark_read", ["ids": [num(ids[0]), num(ids[1])]])["unread"]?.int == 2)
            #expect(try await w.dev.call("chronicle.list", ["unread": true])["entries"]?.ids == Array(ids[2...]))
            #expect(try await w.dev.call("chronicle.mark_unread", ["ids": [num(ids[0])]])["changed"]?.int == 1)
            #expect(try await w.dev.call("chronicle.mark_read", ["all": true])["unread"]?.int == 0)
            // Nobody marks another's entries.
            #expect(try await w.dev2.call("chronicle.mark_unread", ["ids": [num(ids[0])]])["changed"]?.int == 0)
            #expect(await failure { _ = try await w.dev.call("chronicle.mark_read", [:]) }?.kind == .invalidParams)

            // An overdue lead nobody owns goes to every admin.
            let mail = try await robot.ingest(simpleMail("unowned-1", from: "nobody@example.com", at: start))
            let l = try await w.admin.call("lead.get", ["id": num(mail.leadID)])
            _ = try await w.admin.call("lead.update", ["id": num(mail.leadID), "version": l["version"]!, "owner_id": .null])
            w.server.clock.set(start.addingTimeInterval(2 * 3600))
            await w.server.server.job("leads.overdue")?.runNow()
            let adminFeed = try await w.admin.call("chronicle.list", ["kind": "lead_overdue"])["entries"]?.items ?? []
            #expect(adminFeed.count == 1 && adminFeed.first?["lead_id"]?.int64Value == mail.leadID)
        }
    }

    @Test("a slow client that never reads does not hold up pushes to others, and is told it lagged")
    func slowClient() async throws {
        try await withWorld { w in
            let fast = PushLog(w.dev)
            _ = try await w.dev.call("notify.subscribe")
            let slow = try RawSocket(port: w.server.port, receiveBuffer: 4096)
            slow.send(line: #"{"jsonrpc":"2.0","id":1,"method":"auth.login","params":{"login":"olena","password":"\#(TestServer.password)"}}"#)
            slow.send(line: #"{"jsonrpc":"2.0","id":2,"method":"notify.subscribe"}"#)
            #expect(await slow.read(seconds: 30, until: #""subscribed":true"#).contains(#""subscribed":true"#))
            // Ten waves of 200 large entries (~8 MB); the slow client reads none of it.
            let started = Date()
            for wave in 1...10 {
                try await flood(w, user: w.devUser.id, count: 200)
                let got = await fast.wait(seconds: 20) { $0.filter { $0.method == "chronicle.entry" }.count >= wave * 200 }
                #expect(got, "wave \(wave): the fast client got \(fast.of("chronicle.entry").count)")
            }
            #expect(Date().timeIntervalSince(started) < 60)
            #expect(fast.of("chronicle.entry").count == 2000)
            #expect(fast.of("notify.lagged").isEmpty)
            // Once the slow client reads again, it learns it lagged (and got fewer entries).
            let text = await slow.read(seconds: 20, until: "notify.lagged")
            let lines = text.split(separator: "\n")
            #expect(lines.contains { $0.contains(#""method":"notify.lagged""#) })
            let entries = lines.filter { $0.contains(#""method":"chronicle.entry""#) }.count
            #expect(entries < 2000, "the slow client got \(entries) entries")
            let lagged = try #require(lines.first { $0.contains("notify.lagged") })
            let params = try JSONValue.parse(Array(lagged.utf8))["params"]
            #expect(params?["first_missed_id"]?.int64Value != nil)
        }
    }

    @Test("after the listener reconnects, what was missed is pushed, once, and nothing already pushed is repeated")
    func listenerReconnect() async throws {
        try await withWorld { w in
            let pushes = PushLog(w.dev)
            _ = try await w.dev.call("notify.subscribe")
            try await flood(w, user: w.devUser.id, count: 1, text: 10)
            #expect(await pushes.wait { $0.count >= 1 })
            // Written without a notification (as if it went out while the listener was down).
            try await w.server.database.with { conn in
                try conn.execute(script: "ALTER TABLE chronicle DISABLE TRIGGER chronicle_notify")
                try conn.execute("INSERT INTO chronicle (user_id, kind, at, text) VALUES (\(w.devUser.id), 'mention', now(), 'missed while away')")
                try conn.execute(script: "ALTER TABLE chronicle ENABLE TRIGGER chronicle_notify")
            }
            try await Task.sleep(nanoseconds: 2_500_000_000)
            #expect(pushes.of("chronicle.entry").count == 1)
            let killed: Int = try await w.server.database.with { conn in
                try conn.query("""
                    SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) AS n FROM pg_stat_activity
                    WHERE datname = current_database() AND query ILIKE 'LISTEN%' AND pid <> pg_backend_pid()
                    """).one().decode("n")
            }
            #expect(killed == 1)
            #expect(await pushes.wait(seconds: 10) { $0.count >= 2 })
            try await Task.sleep(nanoseconds: 1_000_000_000)
            let texts = pushes.of("chronicle.entry").compactMap { $0["text"]?.stringValue }
            #expect(texts.count == 2 && texts.last == "missed while away", "\(texts)")
            #expect(Set(pushes.of("chronicle.entry").map(\.id)).count == 2)
        }
    }

    @Test("unsubscribing stops pushes; a session that logs in as someone else gets none of the first user's")
    func unsubscribe() async throws {
        try await withWorld { w in
            let pushes = PushLog(w.dev)
            _ = try await w.dev.call("notify.subscribe")
            try await flood(w, user: w.devUser.id, count: 1, text: 10)
            #expect(await pushes.wait { $0.count == 1 })
            _ = try await w.dev.call("notify.unsubscribe")
            try await flood(w, user: w.devUser.id, count: 1, text: 10)
            try await Task.sleep(nanoseconds: 1_000_000_000)
            #expect(pushes.count == 1)
            _ = try await w.dev.call("notify.subscribe")
            _ = try await w.dev.call("auth.login", ["login": "taras", "password": .string(TestServer.password)])
            try await flood(w, user: w.devUser.id, count: 1, text: 10)
            try await Task.sleep(nanoseconds: 1_000_000_000)
            #expect(pushes.count == 1)
        }
    }
}

extension PushLog {
    var count: Int { all.count }
}
