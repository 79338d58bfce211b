import Foundation
import KontorStore
import KontorTestSupport
import Postgres
import Testing

@Suite("Migrations")
struct MigratorTests {
    static func emptyDatabase() async throws -> (String, @Sendable () async -> Void) {
        let name = "kontor_m_\(ProcessInfo.processInfo.processIdentifier)_\(UInt32.random(in: 0...UInt32.max))"
        try await TestDatabase.blocking {
            let admin = try PostgresConnection(conninfo: TestEnvironment.conninfo(database: "postgres"))
            defer { admin.close() }
            try admin.execute(script: "CREATE DATABASE \(name)")
        }
        return (TestEnvironment.conninfo(database: name), {
            _ = try? await TestDatabase.blocking {
                let admin = try PostgresConnection(conninfo: TestEnvironment.conninfo(database: "postgres"))
                defer { admin.close() }
                try admin.execute(script: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            }
        })
    }

    static var sql: URL { TestEnvironment.projectRoot.appendingPathComponent("sql") }

    @Test("fresh apply, then a re-apply does nothing")
    func freshAndReapply() async throws {
        let (info, drop) = try await Self.emptyDatabase()
        let all = try Migrator(directory: Self.sql).migrations().map(\.version)
        let (first, second, recorded) = try await TestDatabase.blocking {
            let c = try PostgresConnection(conninfo: info)
            defer { c.close() }
            let m = Migrator(directory: Self.sql)
            let a = try m.migrate(c)
            let b = try m.migrate(c)
            let n: Int = try c.query("SELECT count(*) AS n FROM schema_migrations").one().decode("n")
            return (a, b, n)
        }
        #expect(first == all)
        #expect(second.isEmpty)
        #expect(recorded == all.count)
        await drop()
    }

    @Test("an applied migration that was edited is refused")
    func editedRefused() async throws {
        let (info, drop) = try await Self.emptyDatabase()
        let copy = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("kontor-sql-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: Self.sql, to: copy)
        defer { try? FileManager.default.removeItem(at: copy) }
        let result: Result<Void, Error> = try await TestDatabase.blocking {
            let c = try PostgresConnection(conninfo: info)
            defer { c.close() }
            try Migrator(directory: copy).migrate(c)
            let first = copy.appendingPathComponent("migrations/0001_foundation.sql")
            let text = try String(contentsOf: first, encoding: .utf8) + "\n-- an innocent edit\n"
            try text.write(to: first, atomically: true, encoding: .utf8)
            return Result { try Migrator(directory: copy).migrate(c) }
        }
        switch result {
        case .success: Issue.record("the edited migration was accepted")
        case .failure(let e):
            guard case MigrationError.edited(let v, _)? = e as? MigrationError else { Issue.record("wrong error \(e)"); break }
            #expect(v == 1)
        }
        await drop()
    }

    @Test("a failing migration leaves nothing behind and is not recorded")
    func failingRollsBack() async throws {
        let (info, drop) = try await Self.emptyDatabase()
        let copy = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("kontor-sql-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: Self.sql, to: copy)
        defer { try? FileManager.default.removeItem(at: copy) }
        try "CREATE TABLE half_done (x int);\nSELECT no_such_function();\n".write(
            to: copy.appendingPathComponent("migrations/9999_broken.sql"), atomically: true, encoding: .utf8)
        let (failed, hasTable, recorded) = try await TestDatabase.blocking {
            let c = try PostgresConnection(conninfo: info)
            defer { c.close() }
            let failed = (try? Migrator(directory: copy).migrate(c)) == nil
            let t: Bool = try c.query("SELECT to_regclass('half_done') IS NOT NULL AS t").one().decode("t")
            let r: Int = try c.query("SELECT count(*) AS n FROM schema_migrations WHERE version = 9999").one().decode("n")
            return (failed, t, r)
        }
        #expect(failed)
        #expect(!hasTable)
        #expect(recorded == 0)
        await drop()
    }

    @Test("two migrators starting at once: each migration applied exactly once")
    func concurrent() async throws {
        let (info, drop) = try await Self.emptyDatabase()
        let count = try Migrator(directory: Self.sql).migrations().count
        async let a = TestDatabase.blocking { () -> [Int] in
            let c = try PostgresConnection(conninfo: info)
            defer { c.close() }
            return try Migrator(directory: Self.sql).migrate(c)
        }
        async let b = TestDatabase.blocking { () -> [Int] in
            let c = try PostgresConnection(conninfo: info)
            defer { c.close() }
            return try Migrator(directory: Self.sql).migrate(c)
        }
        let (ra, rb) = try await (a, b)
        #expect(ra.count + rb.count == count)
        #expect(ra.isEmpty || rb.isEmpty)
        await drop()
    }
}
