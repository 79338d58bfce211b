import Foundation
import Logging
import Postgres

/// Applies `sql/migrations/NNNN_name.sql` in order and re-applies `sql/views/*.sql`.
///
/// * Each migration runs in its own transaction and is recorded in `schema_migrations`
///   with the SHA-256 of its text; a recorded migration whose file changed is an error
///   (`MigrationError.edited`), so released migrations are never edited.
/// * A session-level advisory lock serialises concurrent migrators (several `kontord`
///   instances starting at once): the second waits, then finds nothing to do.
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

    /// Advisory lock key: "kontor" in ASCII, so it does not collide by accident.
    static let lockKey: Int64 = 0x6B_6F_6E_74_6F_72

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
    /// - Parameter conn: a connection of its own (the advisory lock is held on it).
    @discardableResult
    public func migrate(_ conn: PostgresConnection) throws -> [Int] {
        let all = try migrations()
        let views = try views()
        try conn.execute("SELECT pg_advisory_lock(\(Self.lockKey))")
        defer { _ = try? conn.execute("SELECT pg_advisory_unlock(\(Self.lockKey))") }
        try conn.execute(script: """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version integer PRIMARY KEY,
                name text NOT NULL,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """)
        var applied: [Int: String] = [:]
        for row in try conn.query("SELECT version, checksum FROM schema_migrations") {
            applied[try row.decode("version", as: Int.self)] = try row.decode("checksum", as: String.self)
        }
        var done: [Int] = []
        for m in all {
            let sum = try checksum(conn, m.sql)
            if let recorded = applied[m.version] {
                guard recorded == sum else { throw MigrationError.edited(version: m.version, name: m.name) }
                continue
            }
            logger.info("applying migration", metadata: ["version": "\(m.version)", "name": "\(m.name)"])
            do {
                try conn.transaction { c in
                    try c.execute(script: m.sql)
                    try c.execute("INSERT INTO schema_migrations (version, name, checksum) VALUES (\(m.version), \(m.name), \(sum))")
                }
            } catch {
                throw MigrationError.failed(version: m.version, name: m.name, underlying: "\(error)")
            }
            done.append(m.version)
        }
        let known = Set(all.map(\.version))
        if let unknown = applied.keys.filter({ !known.contains($0) }).max() {
            logger.warning("the database has a migration this build does not know: it is newer than the code", metadata: ["version": "\(unknown)"])
        }
        if !views.isEmpty {
            do {
                try conn.transaction { c in
                    for v in views { try c.execute(script: v.sql) }
                }
            } catch {
                throw MigrationError.viewFailed("\(error)")
            }
        }
        return done
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
