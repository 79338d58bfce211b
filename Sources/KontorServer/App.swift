import Foundation
import KontorDomain
import KontorProtocol
import KontorStore
import Logging
import Postgres

/// Shared state of one `kontord` instance: configuration, database pool, clock, caches,
/// live sessions. Handlers reach it through `RequestContext.app`.
public final class App: Sendable {
    public let configuration: ServerConfiguration
    public let db: PostgresPool
    public let clock: KontorClock
    public let logger: Logger
    /// A random id of this process's run, for logs and cross-instance messages.
    public let instanceID: String
    let authCache = AuthCache()
    public let sessions = SessionRegistry()
    /// Live notifications to this instance's subscribed sessions (issue 5).
    public let pushes = PushHub()
    public let encoder: JSONValueEncoder
    public let decoder = JSONValueDecoder()

    public init(configuration: ServerConfiguration, clock: KontorClock = KontorClock(), logger: Logger) {
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        self.instanceID = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        self.encoder = JSONValueEncoder(timeZone: configuration.timeZone)
        self.db = PostgresPool(.init(conninfo: configuration.databaseURL, maxConnections: configuration.poolSize,
                                     acquireTimeout: configuration.poolAcquireTimeout,
                                     sessionSetup: PostgresPool.sessionSetup(statementTimeout: configuration.statementTimeout,
                                                                             lockTimeout: configuration.lockTimeout)),
                               logger: logger)
    }

    /// Runs `body` in a transaction on a pooled connection (READ COMMITTED; retried on
    /// serialization failure or deadlock).
    public func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        try await db.withTransaction(body)
    }

    /// Like `transaction`, but rolled back at the end when `dryRun` is true: the body
    /// runs exactly as it would for real, sees its own writes, and leaves nothing behind.
    public func transaction<T: Sendable>(dryRun: Bool, _ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        try await db.withTransaction(rollback: dryRun, body)
    }

    /// Runs `body` on a pooled connection without opening a transaction (single reads).
    public func read<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        try await db.withConnection(body)
    }
}
