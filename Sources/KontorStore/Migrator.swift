import Foundation
import Logging
import Postgres

/// Applies `sql/migrations/NNNN_name.sql` in order and re-applies `sql/views/*.sql`.
///
/// * Each migration runs in its own transaction and is recorded in `schema_migrations`
///   with the SHA-256 of its text; a recorded migration whose file changed is an error
///   (`MigrationError.edited`), so released migrations are never edited.
/// * A lock on `schema_migrations` (`LOCK TABLE`, held by the run's transaction)
///   serialises concurrent migrators (several `kontord` instances starting at once): the
///   second waits, then finds nothing to do. Advisory locks are not used: every role may
///   take those keys (the BI role could stall every start).
/// * After migrations, every view file is applied in name order in one transaction
///   (views are `CREATE OR REPLACE`, and change only by adding columns).
public struct Migrator: Sendable {
    public struct Migration: Sendable {
        public let version: Int
        public let name: String
        public let sql: String
    }

    /// The SQL directory: it holds `migrations/` and `views/`.
    public let directory: URL
    let logger: Logger

    public init(directory: URL, logger: Logger = Logger(label: "kontor.migrate")) {
        self.directory = directory
        self.logger = logger
    }

    /// Finds the SQL directory: `override` when given, else `KONTOR_SQL_DIR`, else
    /// `<exe>/../share/kontor/sql`, else the first `sql/migrations` found walking up from
    /// the executable and from the current directory.
    public static func locateSQLDirectory(override: String? = nil) -> URL? {
        let fm = FileManager.default
        func ok(_ u: URL) -> Bool { fm.fileExists(atPath: u.appendingPathComponent("migrations").path) }
        if let o = override ?? ProcessInfo.processInfo.environment["KONTOR_SQL_DIR"], !o.isEmpty {
            return URL(fileURLWithPath: o)
        }
        var starts: [URL] = []
        let exe = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath().deletingLastPathComponent()
        let share = exe.deletingLastPathComponent().appendingPathComponent("share/kontor/sql")
        if ok(share) { return share }
        starts.append(exe)
        starts.append(URL(fileURLWithPath: fm.currentDirectoryPath))
        // The source tree this binary was built from.
        starts.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent())
        for start in starts {
            var dir = start
            for _ in 0..<8 {
                let candidate = dir.appendingPathComponent("sql")
                if ok(candidate) { return candidate }
                dir = dir.deletingLastPathComponent()
            }
        }
        return nil
    }

    /// Reads the migration files, sorted by version.
    /// - Throws: `MigrationError.badName` for a file not named `NNNN_name.sql`,
    ///   `.duplicateVersion` for two files with one number.
    public func migrations() throws -> [Migration] {
        let dir = directory.appendingPathComponent("migrations")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".sql") }.sorted()
        var seen: Set<Int> = []
        var out: [Migration] = []
        for f in files {
            let stem = f.dropLast(4)
            guard let us = stem.firstIndex(of: "_"), let v = Int(stem[..<us]), stem[..<us].count == 4 else {
                throw MigrationError.badName(f)
            }
            guard seen.insert(v).inserted else { throw MigrationError.duplicateVersion(v) }
            let text = try String(contentsOf: dir.appendingPathComponent(f), encoding: .utf8)
            out.append(Migration(version: v, name: String(stem[stem.index(after: us)...]), sql: text))
        }
        return out.sorted { $0.version < $1.version }
    }

    /// The view files, sorted by name.
    public func views() throws -> [(name: String, sql: String)] {
        let dir = directory.appendingPathComponent("views")
        guard FileManager.default.fileExists(atPath: dir.path) else { return [] }
        return try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".sql") }.sorted().map {
            ($0, try String(contentsOf: dir.appendingPathComponent($0), encoding: .utf8))
        }
    }

    /// Applies what is missing. Returns the versions applied now.
    ///
    /// The whole run is one transaction that first takes `LOCK TABLE schema_migrations IN
    /// SHARE ROW EXCLUSIVE MODE`: a second migrator waits there, then finds nothing to do.
    /// Each migration runs under a savepoint of its own, so a failing one leaves nothing
    /// behind and is not recorded while the ones before it in the run are kept. (No
    /// advisory lock: any role may take advisory keys, so the BI role could stall every
    /// start; locking the table needs privileges on it that only the owner has.)
    /// - Parameter conn: a connection of its own, outside a transaction.
    @discardableResult
    public func migrate(_ conn: PostgresConnection) throws -> [Int] {
        let all = try migrations()
        let views = try views()
        try createLedger(conn)
        var done: [Int] = []
        var failure: MigrationError?
        try conn.transaction { c in
            try c.execute("LOCK TABLE schema_migrations IN SHARE ROW EXCLUSIVE MODE")
            var applied: [Int: String] = [:]
            for row in try c.query("SELECT version, checksum FROM schema_migrations") {
                applied[try row.decode("version", as: Int.self)] = try row.decode("checksum", as: String.self)
            }
            for m in all {
                let sum = try checksum(c, m.sql)
                if let recorded = applied[m.version] {
                    guard recorded == sum else { throw MigrationError.edited(version: m.version, name: m.name) }
                    continue
                }
                logger.info("applying migration", metadata: ["version": "\(m.version)", "name": "\(m.name)"])
                do {
                    try c.execute("SAVEPOINT kontor_migration")
                    try c.execute(script: m.sql)
                    try c.execute("INSERT INTO schema_migrations (version, name, checksum) VALUES (\(m.version), \(m.name), \(sum))")
                    try c.execute("RELEASE SAVEPOINT kontor_migration")
                } catch {
                    try c.execute("ROLLBACK TO SAVEPOINT kontor_migration")
                    failure = .failed(version: m.version, name: m.name, underlying: "\(error)")
                    return  // commit the migrations applied before this one
                }
                done.append(m.version)
            }
            let known = Set(all.map(\.version))
            if let unknown = applied.keys.filter({ !known.contains($0) }).max() {
                logger.warning("the database has a migration this build does not know: it is newer than the code", metadata: ["version": "\(unknown)"])
            }
            if !views.isEmpty {
                do {
                    try c.execute("SAVEPOINT kontor_views")
                    for v in views { try c.execute(script: v.sql) }
                    try c.execute("RELEASE SAVEPOINT kontor_views")
                } catch {
                    try c.execute("ROLLBACK TO SAVEPOINT kontor_views")
                    failure = .viewFailed("\(error)")
                }
            }
        }
        if let failure { throw failure }
        for gap in try biGaps(conn) {
            logger.warning("kontor_bi is not fully locked down; a superuser must run this (docs/REPORTING.md, \"What a DBA runs\")",
                           metadata: ["sql": "\(gap)"])
        }
        return done
    }

    /// What a superuser still has to run so that the BI role can only read the reporting
    /// views (`kontor_bi_gaps()`, migration 0035): statements, empty when nothing is left
    /// (or before 0035 is applied).
    public func biGaps(_ conn: PostgresConnection) throws -> [String] {
        let present: Bool = try conn.query("SELECT to_regprocedure('kontor_bi_gaps()') IS NOT NULL AS p").one().decode("p")
        guard present else { return [] }
        return try conn.query("SELECT g FROM kontor_bi_gaps() g").map { try $0.decode("g") }
    }

    /// Creates `schema_migrations` when missing (its own statement, outside the run's
    /// transaction). Two first starts at once may both try: the loser sees the table.
    func createLedger(_ conn: PostgresConnection) throws {
        for attempt in 0..<3 {
            do {
                try conn.execute(script: """
                    CREATE TABLE IF NOT EXISTS schema_migrations (
                        version integer PRIMARY KEY,
                        name text NOT NULL,
                        checksum text NOT NULL,
                        applied_at timestamptz NOT NULL DEFAULT now()
                    )
                    """)
                return
            } catch let e as PostgresError where attempt < 2 && (e.sqlState == .uniqueViolation || e.sqlState == "42P07") {
                continue  // created by a concurrent migrator a moment ago
            }
        }
    }

    func checksum(_ conn: PostgresConnection, _ text: String) throws -> String {
        try conn.query("SELECT encode(sha256(convert_to(\(text), 'UTF8')), 'hex') AS sum").one().decode("sum")
    }
}

public enum MigrationError: Error, CustomStringConvertible, Sendable {
    case badName(String)
    case duplicateVersion(Int)
    case edited(version: Int, name: String)
    case failed(version: Int, name: String, underlying: String)
    case viewFailed(String)

    public var description: String {
        switch self {
        case .badName(let f): return "migration file \(f) is not named NNNN_name.sql"
        case .duplicateVersion(let v): return "two migration files have version \(v)"
        case .edited(let v, let n): return "migration \(v) (\(n)) was edited after it was applied; add a new migration instead"
        case .failed(let v, let n, let u): return "migration \(v) (\(n)) failed: \(u)"
        case .viewFailed(let u): return "applying sql/views failed: \(u)"
        }
    }
}
