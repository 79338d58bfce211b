import Foundation
import KontorTestSupport
import Postgres
import Testing

@Suite("Postgres over libpq")
struct PostgresTests {
    @Test("values round-trip through bind parameters and typed decoding")
    func roundTrip() async throws {
        let db = try await TestDatabase.create()
        defer { Task { await db.drop() } }
        _ = try await db.with { c in
            let when = Date(timeIntervalSince1970: 1_764_442_800.123456)
            let day = PostgresDate(year: 2026, month: 3, day: 29)
            let id = UUID()
            let amount = Decimal(string: "123456789012.34")!
            let texts = ["plain", "quote \" and \\ backslash", "comma, brace {x}", "NULL", "", "Ünïcødé ✓ Київ"]
            let r = try c.query("""
                SELECT \(Int64.max)::int8 AS big, \(Int32.min)::int4 AS small, \(true) AS yes, \("O'Reilly; DROP TABLE x; --") AS sneaky,
                       \(amount)::numeric(14,2) AS money, \(when)::timestamptz AS at, \(day)::date AS day, \(id)::uuid AS id,
                       \(PostgresJSONB("{\"token\": 4912661846655238145}"))::jsonb AS doc, \(texts)::text[] AS texts,
                       \([1, 2, 3] as [Int])::int8[] AS ints, \(Optional<String>.none)::text AS nothing
                """).one()
            #expect(try r.decode("big", as: Int64.self) == Int64.max)
            #expect(try r.decode("small", as: Int32.self) == Int32.min)
            #expect(try r.decode("yes", as: Bool.self))
            #expect(try r.decode("sneaky", as: String.self) == "O'Reilly; DROP TABLE x; --")
            #expect(try r.decode("money", as: Decimal.self) == amount)
            #expect(abs(try r.decode("at", as: Date.self).timeIntervalSince(when)) < 0.000_001)
            #expect(try r.decode("day", as: PostgresDate.self) == day)
            #expect(try r.decode("id", as: UUID.self) == id)
            #expect(try r.decode("doc", as: String.self) == "{\"token\": 4912661846655238145}")
            #expect(try r.decode("texts", as: [String].self) == texts)
            #expect(try r.decode("ints", as: [Int].self) == [1, 2, 3])
            #expect(try r.decode("nothing", as: String?.self) == nil)
            #expect(throws: PostgresError.self) { try r.decode("nothing", as: String.self) }
            #expect(throws: PostgresError.self) { try r.decode("no_such_column", as: String.self) }
        }
    }

    @Test("timestamps printed in other zones and DateStyles decode to the same instant")
    func timestampParsing() {
        let a = PostgresTimestamp.parse("2026-03-29 09:00:00+03")
        let b = PostgresTimestamp.parse("2026-03-29T06:00:00Z")
        let c = PostgresTimestamp.parse("2026-03-29 11:30:00.000+05:30")
        #expect(a != nil && a == b && b == c)
        #expect(PostgresTimestamp.parse("2026-03-29 06:00:00.1234567Z") != nil)
        #expect(PostgresTimestamp.parse("garbage") == nil)
        let d = Date(timeIntervalSince1970: -1.5)
        #expect(PostgresTimestamp.parse(PostgresTimestamp.format(d)) == d)
    }

    @Test("years before 1000 and before 1 survive a round trip through PostgreSQL")
    func earlyYearsRoundTrip() async throws {
        let db = try await TestDatabase.create()
        defer { Task { await db.drop() } }
        // 0001-01-01, 0999-05-01 12:00:00.25, 1 BC (year 0) and 2 BC, all UTC.
        let dates = [Date(timeIntervalSince1970: -62_135_596_800), Date(timeIntervalSince1970: -30_631_348_800 + 0.25),
                     Date(timeIntervalSince1970: -62_135_596_800 - 86_400), Date(timeIntervalSince1970: -62_198_755_200)]
        #expect(PostgresTimestamp.format(dates[2]) == "0001-12-31T00:00:00.000000Z BC")
        for d in dates { #expect(PostgresTimestamp.parse(PostgresTimestamp.format(d)) == d) }
        let back: [(Date, String)] = try await db.with { c in
            try dates.map { d in
                let r = try c.query("SELECT \(d)::timestamptz AS t, to_char(\(d)::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD BC') AS y").one()
                return (try r.decode("t", as: Date.self), try r.decode("y", as: String.self))
            }
        }
        #expect(back.map(\.0) == dates)
        #expect(back.map(\.1) == ["0001-01-01 AD", "0999-05-01 AD", "0001-12-31 BC", "0002-01-01 BC"])
    }

    @Test("nested SQL fragments keep their own parameters")
    func fragments() async throws {
        let db = try await TestDatabase.create()
        defer { Task { await db.drop() } }
        _ = try await db.with { c in
            let filter: SQL = "x > \(2) AND x < \(5)"
            let whereClause = SQL.joined([filter, "x <> \(3)"], separator: " AND ")
            let rows = try c.query("SELECT x FROM generate_series(\(1), \(10)) AS x WHERE \(whereClause) AND '$1' = '$1' ORDER BY x")
            #expect(try rows.map { try $0.decode("x", as: Int.self) } == [4])
        }
    }

    @Test("errors carry SQLSTATE; a transaction rolls back when its body throws")
    func errorsAndTransactions() async throws {
        let db = try await TestDatabase.create()
        defer { Task { await db.drop() } }
        _ = try await db.with { c in
            try c.execute(script: "CREATE TABLE t (id int PRIMARY KEY, v text)")
            try c.execute("INSERT INTO t VALUES (\(Int32(1)), \("a"))")
            do {
                try c.execute("INSERT INTO t VALUES (\(Int32(1)), \("b"))")
                Issue.record("expected a unique violation")
            } catch let e as PostgresError {
                #expect(e.sqlState == .uniqueViolation)
                if case .server(let s) = e { #expect(s.constraint == "t_pkey") }
            }
            struct Boom: Error {}
            #expect(throws: Boom.self) {
                try c.transaction { t in
                    try t.execute("INSERT INTO t VALUES (\(Int32(2)), \("c"))")
                    throw Boom()
                }
            }
            #expect(try c.query("SELECT count(*) AS n FROM t").one().decode("n", as: Int.self) == 1)
            #expect(!c.inTransaction)
            // A NUL cannot be stored: refused before it reaches libpq, with PostgreSQL's SQLSTATE.
            #expect(throws: PostgresError.self) { try c.execute("INSERT INTO t VALUES (\(Int32(3)), \("a\u{0}b"))") }
            #expect(try c.query("SELECT count(*) AS n FROM t").one().decode("n", as: Int.self) == 1)
        }
    }

    @Test("the pool bounds connections, waits fairly, times out, and replaces dead connections")
    func pool() async throws {
        let db = try await TestDatabase.create()
        defer { Task { await db.drop() } }
        // Waiting is fair and bounded here, not fast: a generous timeout keeps a busy machine
        // (the whole suite at once) from failing it; the timeout has its own case below.
        let pool = PostgresPool(.init(conninfo: db.conninfo, maxConnections: 3, acquireTimeout: 120))
        // 30 concurrent bodies never see more than 3 connections.
        let pids = try await withThrowingTaskGroup(of: Int32.self) { g in
            for _ in 0..<30 {
                g.addTask {
                    try await pool.withConnection { c in
                        try c.execute("SELECT pg_sleep(0.02)")
                        return c.backendPID
                    }
                }
            }
            var s = Set<Int32>()
            for try await p in g { s.insert(p) }
            return s
        }
        #expect(pids.count <= 3)
        #expect(pool.openConnections <= 3)

        // A connection killed by the server while idle in the pool is noticed and replaced.
        let victim = try await pool.withConnection { c in c.backendPID }
        try await db.with { c in _ = try c.query("SELECT pg_terminate_backend(\(victim))") }
        try await Task.sleep(nanoseconds: 200_000_000)
        for _ in 0..<6 {
            let n = try await pool.withConnection { c in try c.query("SELECT 1 AS one").one().decode("one", as: Int.self) }
            #expect(n == 1)
        }

        // Timeout: hold every connection, the next acquire gives up.
        let small = PostgresPool(.init(conninfo: db.conninfo, maxConnections: 1, acquireTimeout: 0.3))
        async let holder: Void = small.withConnection { c in try c.execute("SELECT pg_sleep(1)") }
        try await Task.sleep(nanoseconds: 100_000_000)
        await #expect(throws: PostgresError.self) {
            try await small.withConnection { _ in 1 }
        }
        try await holder
        #expect(try await small.withConnection { _ in 2 } == 2)
        await small.shutdown()
        await pool.shutdown()
    }

    @Test("withTransaction commits, rolls back on throw, and leaves no transaction open")
    func poolTransactions() async throws {
        let db = try await TestDatabase.create()
        defer { Task { await db.drop() } }
        let pool = PostgresPool(.init(conninfo: db.conninfo, maxConnections: 2))
        try await pool.withConnection { c in try c.execute(script: "CREATE TABLE t (v int)") }
        struct Boom: Error {}
        await #expect(throws: Boom.self) {
            try await pool.withTransaction { c in
                try c.execute("INSERT INTO t VALUES (\(Int32(1)))")
                throw Boom()
            }
        }
        _ = try await pool.withTransaction { c in try c.execute("INSERT INTO t VALUES (\(Int32(2)))") }
        // A body that opens a transaction and forgets it does not leak it to the next user.
        try await pool.withConnection { c in try c.execute(script: "BEGIN; INSERT INTO t VALUES (3)") }
        let n = try await pool.withConnection { c in try c.query("SELECT coalesce(sum(v), 0) AS s FROM t").one().decode("s", as: Int.self) }
        #expect(n == 2)
        await pool.shutdown()
    }

    @Test("a failed connect reports unavailable with libpq's message")
    func unavailable() async throws {
        let pool = PostgresPool(.init(conninfo: "host=127.0.0.1 port=1 dbname=x user=x connect_timeout=2", maxConnections: 2))
        do {
            _ = try await pool.withConnection { _ in 1 }
            Issue.record("expected unavailable")
        } catch let e as PostgresError {
            guard case .unavailable(let m) = e else { Issue.record("got \(e)"); return }
            #expect(m.contains("127.0.0.1") || m.lowercased().contains("connect"))
        }
        #expect(pool.openConnections == 0)
        await pool.shutdown()
    }

    @Test("the listener receives notifications and re-listens after its connection is killed")
    func listener() async throws {
        let db = try await TestDatabase.create()
        defer { Task { await db.drop() } }
        let events = AsyncStream.makeStream(of: PostgresListenerEvent.self)
        let listener = PostgresListener(conninfo: db.conninfo, channels: ["chan one"]) { e in events.continuation.yield(e) }
        listener.start()
        defer { listener.stop() }
        var it = events.stream.makeAsyncIterator()
        func next(_ want: (PostgresListenerEvent) -> Bool) async -> PostgresListenerEvent? {
            for _ in 0..<50 {
                guard let e = await it.next() else { return nil }
                if want(e) { return e }
            }
            return nil
        }
        #expect(await next { if case .connected = $0 { true } else { false } } != nil)
        try await db.with { c in try c.execute("SELECT pg_notify(\("chan one"), \("hello"))") }
        let got = await next { if case .notification = $0 { true } else { false } }
        if case .notification(let ch, let payload, _)? = got {
            #expect(ch == "chan one")
            #expect(payload == "hello")
        } else { Issue.record("no notification") }

        // Kill the listener's backend: it reconnects, re-LISTENs and reports .connected.
        _ = try await db.with { c in
            _ = try c.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE 'LISTEN%'")
        }
        #expect(await next { if case .connected = $0 { true } else { false } } != nil)
        listener.listen("second")
        try await Task.sleep(nanoseconds: 300_000_000)
        _ = try await db.with { c in
            try c.execute("SELECT pg_notify(\("chan one"), \("again"))")
            try c.execute("SELECT pg_notify(\("second"), \("two"))")
        }
        var payloads: Set<String> = []
        while payloads.count < 2, let e = await next({ if case .notification = $0 { true } else { false } }) {
            if case .notification(_, let p, _) = e { payloads.insert(p) }
        }
        #expect(payloads == ["again", "two"])
    }
}
