import Foundation
import KontorDomain
import Logging

/// Everything `kontord` can be told. Each field has a `KONTOR_*` environment variable
/// and a command-line flag (see `kontord serve --help` and docs/OPERATIONS.md).
public struct ServerConfiguration: Sendable {
    /// libpq connection string or URI (`KONTOR_DATABASE_URL`), passed to libpq untouched.
    /// Default: the project's local cluster (`deploy/pg.sh`), see `localDatabaseURL`.
    public var databaseURL: String
    /// Listen address (`KONTOR_HOST`), default 127.0.0.1.
    public var host: String
    /// Listen port (`KONTOR_PORT`), default 7411; 0 picks a free port (tests).
    public var port: Int
    /// The business time zone (`KONTOR_TIME_ZONE`), default Europe/Kyiv: days, months,
    /// "today" and the monthly close are computed in it.
    public var timeZone: TimeZone
    /// Default region for phone numbers written without a country code (`KONTOR_PHONE_REGION`), default UA.
    public var phoneRegion: String
    /// Log level (`KONTOR_LOG_LEVEL`): trace, debug, info, notice, warning, error, critical.
    public var logLevel: Logger.Level
    /// Connections in the pool (`KONTOR_DB_POOL`), default 10.
    public var poolSize: Int
    /// Seconds a request waits for a free database connection (`KONTOR_DB_ACQUIRE_TIMEOUT`).
    public var poolAcquireTimeout: Double
    /// Seconds without any incoming line before a connection is closed (`KONTOR_IDLE_TIMEOUT`), default 1800.
    public var idleTimeout: Double
    /// Longest accepted line in bytes, default 1 MiB (protocol rule).
    public var maxLineBytes: Int
    /// Requests one connection may have in flight at once; reading pauses beyond it.
    public var maxInFlightPerConnection: Int
    /// Simultaneous client connections per instance (`KONTOR_MAX_CONNECTIONS`), default
    /// 2000; beyond it a connection gets an `unavailable` line and is closed.
    public var maxConnections: Int = 2000
    /// Requests in one JSON-RPC batch line, at most (default 100).
    public var maxBatch: Int = 100
    /// Seconds a graceful shutdown waits for answers to be read before it closes the
    /// remaining connections (`KONTOR_SHUTDOWN_GRACE`), default 10.
    public var shutdownGrace: Double = 10
    /// Per-statement limit on the database, seconds (`KONTOR_DB_STATEMENT_TIMEOUT`), default 30.
    public var statementTimeout: Double = 30
    /// How long a statement waits for a row lock, seconds (`KONTOR_DB_LOCK_TIMEOUT`), default 10.
    public var lockTimeout: Double = 10
    /// bcrypt cost for new password hashes (`KONTOR_BCRYPT_COST`), default 12, 4–15.
    public var bcryptCost: Int
    /// How long a login session lives, in seconds (`KONTOR_SESSION_TTL`), default 30 days.
    public var sessionTTL: Double
    /// Failed logins allowed per login / per peer address within `loginWindow` seconds.
    public var maxFailuresPerLogin: Int
    public var maxFailuresPerPeer: Int
    public var loginWindow: Double
    /// Where `sql/` is (`KONTOR_SQL_DIR`); nil = search (see `Migrator.locateSQLDirectory`).
    public var sqlDirectory: String?
    /// Apply migrations when serving starts (`KONTOR_MIGRATE`, default true).
    public var migrateOnStart: Bool
    /// A name for this instance in logs and `server.info` (`KONTOR_INSTANCE`), default host:pid.
    public var instanceName: String

    // Reminder webhooks (issue 5; docs/OPERATIONS.md, "Reminder webhooks").
    /// Also accept `http://` webhook URLs on the loopback address (127.0.0.1, ::1,
    /// localhost) (`KONTOR_WEBHOOK_ALLOW_HTTP_LOOPBACK`), default false: for tests and a
    /// push gateway on the same machine. Every other webhook must be `https://`.
    public var webhookAllowHTTPLoopback: Bool = false
    /// Accept `https://` webhook URLs on the loopback address (`KONTOR_WEBHOOK_ALLOW_LOOPBACK`),
    /// default false: a webhook may not make kontord probe its own machine (SSRF).
    /// `webhookAllowHTTPLoopback` implies it.
    public var webhookAllowLoopback: Bool = false
    /// A PEM file of CA certificates to trust for webhook TLS instead of the system's
    /// (`KONTOR_WEBHOOK_CA_FILE`): a private push gateway with its own CA.
    public var webhookCAFile: String?
    /// Seconds one webhook attempt may take (`KONTOR_WEBHOOK_TIMEOUT`), default 10.
    public var webhookTimeout: Double = 10
    /// Attempts before a delivery is given up (`KONTOR_WEBHOOK_MAX_ATTEMPTS`), default 8.
    public var webhookMaxAttempts: Int = 8
    /// Seconds before the first retry (`KONTOR_WEBHOOK_RETRY_BASE`), default 30; each
    /// retry waits twice as long as the one before, at most an hour.
    public var webhookRetryBase: Double = 30

    public init(databaseURL: String = ServerConfiguration.localDatabaseURL(), host: String = "127.0.0.1", port: Int = 7411,
                timeZone: TimeZone = TimeZone(identifier: "Europe/Kyiv") ?? .current, phoneRegion: String = "UA",
                logLevel: Logger.Level = .info, poolSize: Int = 10, poolAcquireTimeout: Double = 10,
                idleTimeout: Double = 1800, maxLineBytes: Int = 1 << 20, maxInFlightPerConnection: Int = 32,
                bcryptCost: Int = 12, sessionTTL: Double = 30 * 86_400, maxFailuresPerLogin: Int = 5,
                maxFailuresPerPeer: Int = 30, loginWindow: Double = 900, sqlDirectory: String? = nil,
                migrateOnStart: Bool = true, instanceName: String? = nil) {
        self.databaseURL = databaseURL; self.host = host; self.port = port; self.timeZone = timeZone
        self.phoneRegion = phoneRegion; self.logLevel = logLevel; self.poolSize = poolSize
        self.poolAcquireTimeout = poolAcquireTimeout; self.idleTimeout = idleTimeout; self.maxLineBytes = maxLineBytes
        self.maxInFlightPerConnection = maxInFlightPerConnection; self.bcryptCost = bcryptCost
        self.sessionTTL = sessionTTL; self.maxFailuresPerLogin = maxFailuresPerLogin
        self.maxFailuresPerPeer = maxFailuresPerPeer; self.loginWindow = loginWindow
        self.sqlDirectory = sqlDirectory; self.migrateOnStart = migrateOnStart
        self.instanceName = instanceName ?? "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"
    }

    /// The project's throwaway cluster made by `deploy/pg.sh`: its Unix socket under
    /// `<project>/var/pg/run`, port `KONTOR_PG_PORT` (default 55432), database `kontor`,
    /// user `kontor`. `<project>` is `KONTOR_HOME`, else the source tree this binary was
    /// built from.
    public static func localDatabaseURL(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let home = environment["KONTOR_HOME"] ?? projectRoot()
        let port = environment["KONTOR_PG_PORT"] ?? "55432"
        return "host=\(home)/var/pg/run port=\(port) dbname=kontor user=kontor"
    }

    /// The source tree's root, from this file's compile-time path.
    public static func projectRoot() -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    /// Reads `KONTOR_*` variables over the defaults.
    /// - Throws: `ConfigurationError` naming the variable with a bad value.
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> ServerConfiguration {
        var c = ServerConfiguration(databaseURL: localDatabaseURL(environment: env))
        func int(_ k: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard let s = env[k] else { return nil }
            guard let v = Int(s), range.contains(v) else { throw ConfigurationError(variable: k, value: s, expected: "an integer in \(range)") }
            return v
        }
        func double(_ k: String, max: Double) throws -> Double? {
            guard let s = env[k] else { return nil }
            guard let v = Double(s), v > 0, v <= max else {
                throw ConfigurationError(variable: k, value: s, expected: "a number of seconds above 0 and at most \(Int(max))")
            }
            return v
        }
        if let v = env["KONTOR_DATABASE_URL"], !v.isEmpty { c.databaseURL = v }
        if let v = env["KONTOR_HOST"], !v.isEmpty { c.host = v }
        if let v = try int("KONTOR_PORT", 0...65535) { c.port = v }
        if let v = env["KONTOR_TIME_ZONE"] {
            guard let tz = TimeZone(identifier: v) else { throw ConfigurationError(variable: "KONTOR_TIME_ZONE", value: v, expected: "an IANA time zone like Europe/Kyiv") }
            c.timeZone = tz
        }
        if let v = env["KONTOR_PHONE_REGION"] {
            guard v.count == 2, v.allSatisfy({ $0.isASCII && $0.isLetter }) else { throw ConfigurationError(variable: "KONTOR_PHONE_REGION", value: v, expected: "a two-letter region code like UA") }
            c.phoneRegion = v.uppercased()
        }
        if let v = env["KONTOR_LOG_LEVEL"] {
            guard let l = Logger.Level(rawValue: v.lowercased()) else { throw ConfigurationError(variable: "KONTOR_LOG_LEVEL", value: v, expected: "trace, debug, info, notice, warning, error or critical") }
            c.logLevel = l
        }
        if let v = try int("KONTOR_DB_POOL", 1...500) { c.poolSize = v }
        if let v = try double("KONTOR_DB_ACQUIRE_TIMEOUT", max: 3600) { c.poolAcquireTimeout = v }
        if let v = try double("KONTOR_IDLE_TIMEOUT", max: 7 * 86_400) { c.idleTimeout = v }
        if let v = try int("KONTOR_MAX_CONNECTIONS", 1...100_000) { c.maxConnections = v }
        if let v = try double("KONTOR_SHUTDOWN_GRACE", max: 3600) { c.shutdownGrace = v }
        if let v = try double("KONTOR_DB_STATEMENT_TIMEOUT", max: 86_400) { c.statementTimeout = v }
        if let v = try double("KONTOR_DB_LOCK_TIMEOUT", max: 3600) { c.lockTimeout = v }
        if let v = try int("KONTOR_BCRYPT_COST", 4...15) { c.bcryptCost = v }
        if let v = try double("KONTOR_SESSION_TTL", max: 366 * 86_400) { c.sessionTTL = v }
        if let v = env["KONTOR_SQL_DIR"], !v.isEmpty { c.sqlDirectory = v }
        if let v = env["KONTOR_MIGRATE"] { c.migrateOnStart = !["0", "false", "no", "off"].contains(v.lowercased()) }
        if let v = env["KONTOR_INSTANCE"], !v.isEmpty { c.instanceName = v }
        if let v = env["KONTOR_WEBHOOK_ALLOW_HTTP_LOOPBACK"] { c.webhookAllowHTTPLoopback = ["1", "true", "yes", "on"].contains(v.lowercased()) }
        if let v = env["KONTOR_WEBHOOK_ALLOW_LOOPBACK"] { c.webhookAllowLoopback = ["1", "true", "yes", "on"].contains(v.lowercased()) }
        if let v = env["KONTOR_WEBHOOK_CA_FILE"], !v.isEmpty {
            guard FileManager.default.isReadableFile(atPath: v) else {
                throw ConfigurationError(variable: "KONTOR_WEBHOOK_CA_FILE", value: v, expected: "a readable PEM file of CA certificates")
            }
            c.webhookCAFile = v
        }
        if let v = try double("KONTOR_WEBHOOK_TIMEOUT", max: 300) { c.webhookTimeout = v }
        if let v = try int("KONTOR_WEBHOOK_MAX_ATTEMPTS", 1...50) { c.webhookMaxAttempts = v }
        if let v = try double("KONTOR_WEBHOOK_RETRY_BASE", max: 3600) { c.webhookRetryBase = v }
        return c
    }
}

public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public let variable: String
    public let value: String
    public let expected: String
    public var description: String { "\(variable)=\(value): expected \(expected)" }
}

/// The server's notion of now. Production reads the system clock; tests move it.
public final class KontorClock: @unchecked Sendable {
    private let lock = NSLock()
    private var offset: TimeInterval = 0
    private var fixed: Date?

    public init() {}

    /// The current instant (UTC `Date`).
    public func now() -> Date {
        lock.lock(); defer { lock.unlock() }
        if let fixed { return fixed }
        return Date().addingTimeInterval(offset)
    }

    /// Freezes the clock at `date` (tests).
    public func set(_ date: Date) {
        lock.lock(); fixed = date; lock.unlock()
    }

    /// Lets the clock run again, shifted so that it continues from `date` (tests).
    public func run(from date: Date) {
        lock.lock(); fixed = nil; offset = date.timeIntervalSinceNow; lock.unlock()
    }

    /// Moves a frozen or running clock forward by `seconds`.
    public func advance(_ seconds: TimeInterval) {
        lock.lock()
        if let f = fixed { fixed = f.addingTimeInterval(seconds) } else { offset += seconds }
        lock.unlock()
    }
}
