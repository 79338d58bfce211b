import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOPosix

/// A bounded pool of `PostgresConnection`s.
///
/// * At most `maxConnections` connections exist; callers wait in FIFO order (a released
///   connection goes to the longest waiter, never to a newcomer) for up to
///   `acquireTimeout`, then get `PostgresError.poolTimeout`.
/// * Bodies run on the pool's own `NIOThreadPool` (one thread per connection), never on
///   an event loop or the Swift cooperative pool, because libpq blocks.
/// * A connection found broken after use (or, while idle, closed by the server) is
///   dropped and its slot reopened on demand. While the database is down every acquire
///   that needs a new connection fails fast with `PostgresError.unavailable`; once it is
///   back, new connections succeed again: no restart needed.
public final class PostgresPool: Sendable {
    public struct Configuration: Sendable {
        /// libpq connection string or URI, passed through untouched.
        public var conninfo: String
        /// Upper bound on open connections.
        public var maxConnections: Int
        /// How long an acquire may wait for a free connection, in seconds.
        public var acquireTimeout: Double
        /// Statements run on every new connection (session settings such as time zone
        /// and timeouts).
        public var sessionSetup: String

        public init(conninfo: String, maxConnections: Int = 10, acquireTimeout: Double = 10,
                    sessionSetup: String = PostgresPool.sessionSetup()) {
            self.conninfo = conninfo
            self.maxConnections = max(1, maxConnections)
            self.acquireTimeout = acquireTimeout
            self.sessionSetup = sessionSetup
        }
    }

    /// The session settings of pooled connections: UTC and ISO output (what the decoders
    /// read), and limits so that no statement, lock wait or forgotten transaction can hold
    /// a connection forever (SQLSTATE 57014 / 55P03 / 25P03 end it instead).
    public static func sessionSetup(statementTimeout: Double = 30, lockTimeout: Double = 10, idleInTransaction: Double = 60) -> String {
        func ms(_ s: Double) -> Int { Int((s * 1000).rounded()) }
        return "SET TIME ZONE 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'iso_8601'; "
            + "SET statement_timeout = \(ms(statementTimeout)); SET lock_timeout = \(ms(lockTimeout)); "
            + "SET idle_in_transaction_session_timeout = \(ms(idleInTransaction))"
    }

    private enum Grant {
        case connection(PostgresConnection)
        case slot  // permission to open a new connection
    }

    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Grant, Error>
    }

    private struct State {
        var idle: [PostgresConnection] = []
        var open = 0           // connections existing or being opened
        var waiters: [Waiter] = []
        var nextWaiterID: UInt64 = 0
        var closed = false
    }

    public let configuration: Configuration
    private let state = NIOLockedValueBox(State())
    private let threadPool: NIOThreadPool
    private let logger: Logger

    public init(_ configuration: Configuration, logger: Logger = Logger(label: "kontor.postgres")) {
        self.configuration = configuration
        self.logger = logger
        threadPool = NIOThreadPool(numberOfThreads: configuration.maxConnections + 1)
        threadPool.start()
    }

    /// Connections currently open (in use or idle), for diagnostics.
    public var openConnections: Int { state.withLockedValue { $0.open } }

    /// Runs `body` with a connection of its own on a blocking thread.
    ///
    /// - Throws: `unavailable` (database down), `poolTimeout`, `poolClosed`,
    ///   `CancellationError` while waiting, or whatever `body` throws.
    public func withConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        let grant = try await acquire()
        let outcome: (PostgresConnection?, Result<T, Error>)
        do {
            outcome = try await threadPool.runIfActive { [configuration] () -> (PostgresConnection?, Result<T, Error>) in
                let conn: PostgresConnection
                switch grant {
                case .connection(let c): conn = c
                case .slot:
                    do { conn = try PostgresConnection(conninfo: configuration.conninfo, sessionSetup: configuration.sessionSetup) } catch {
                        return (nil, .failure(error))
                    }
                }
                let result: Result<T, Error> = Result { try body(conn) }
                if conn.inTransaction, !conn.isBroken {
                    // A body left a transaction open: never hand that state to anyone else.
                    try? conn.execute(script: "ROLLBACK")
                }
                return (conn, result)
            }
        } catch {
            // The thread pool refused (shutting down): give the grant back.
            releaseGrant(grant)
            throw PostgresError.poolClosed
        }
        if let conn = outcome.0 { release(conn) } else { releaseSlot() }
        return try outcome.1.get()
    }

    /// Runs `body` in a transaction (`BEGIN`/`COMMIT`, `ROLLBACK` when it throws).
    ///
    /// - Parameter isolation: e.g. `"SERIALIZABLE"`; nil = READ COMMITTED.
    /// - Parameter retries: extra attempts after a serialization failure or deadlock
    ///   (SQLSTATE 40001/40P01); the body must be safe to run again.
    /// - Parameter rollback: roll back at the end even on success (a dry run).
    public func withTransaction<T: Sendable>(isolation: String? = nil, retries: Int = 3, rollback: Bool = false,
                                             _ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        var attempt = 0
        while true {
            do {
                return try await withConnection { conn in try conn.transaction(isolation: isolation, rollback: rollback, body) }
            } catch let e as PostgresError where (e.sqlState == .serializationFailure || e.sqlState == .deadlockDetected) && attempt < retries {
                attempt += 1
                try await Task.sleep(nanoseconds: UInt64.random(in: 1_000_000...(10_000_000 * UInt64(attempt))))
            }
        }
    }

    /// Closes idle connections, fails waiters with `poolClosed` and stops the threads.
    /// Connections in use are closed when they come back.
    public func shutdown() async {
        let (idle, waiters) = state.withLockedValue { s -> ([PostgresConnection], [Waiter]) in
            s.closed = true
            let r = (s.idle, s.waiters)
            s.open -= s.idle.count
            s.idle = []
            s.waiters = []
            return r
        }
        for w in waiters { w.continuation.resume(throwing: PostgresError.poolClosed) }
        if !idle.isEmpty {
            _ = try? await threadPool.runIfActive { for c in idle { c.close() } }
        }
        try? await threadPool.shutdownGracefully()
    }

    // MARK: - acquire / release

    private func acquire() async throws -> Grant {
        // Fast path without suspending.
        enum Fast { case grant(Grant), wait, closed }
        let fast: Fast = state.withLockedValue { s in
            if s.closed { return .closed }
            if s.waiters.isEmpty {
                while let c = s.idle.popLast() {
                    if c.isReusable { return .grant(.connection(c)) }
                    s.open -= 1
                    c.close()
                }
                if s.open < configuration.maxConnections {
                    s.open += 1
                    return .grant(.slot)
                }
            }
            return .wait
        }
        switch fast {
        case .closed: throw PostgresError.poolClosed
        case .grant(let g): return g
        case .wait: break
        }
        let id = state.withLockedValue { s -> UInt64 in s.nextWaiterID += 1; return s.nextWaiterID }
        let timeout = configuration.acquireTimeout
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (cont: CheckedContinuation<Grant, Error>) in
                let immediate: Result<Grant, Error>? = state.withLockedValue { s in
                    if s.closed { return .failure(PostgresError.poolClosed) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    s.waiters.append(Waiter(id: id, continuation: cont))
                    return nil
                }
                if let immediate { cont.resume(with: immediate); return }
                // A newcomer may have queued behind a free slot; hand it out.
                dispatch()
                Task { [weak self] in
                    try? await Task.sleep(nanoseconds: UInt64(min(timeout, 86_400) * 1_000_000_000))
                    self?.failWaiter(id, with: PostgresError.poolTimeout(seconds: timeout))
                }
            }
        } onCancel: {
            failWaiter(id, with: CancellationError())
        }
    }

    private func failWaiter(_ id: UInt64, with error: Error) {
        let w: Waiter? = state.withLockedValue { s in
            guard let i = s.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return s.waiters.remove(at: i)
        }
        w?.continuation.resume(throwing: error)
    }

    /// Gives free capacity to waiters in FIFO order.
    private func dispatch() {
        var grants: [(Waiter, Grant)] = []
        var toClose: [PostgresConnection] = []
        state.withLockedValue { s in
            while !s.waiters.isEmpty {
                if let c = s.idle.popLast() {
                    if !c.isReusable { s.open -= 1; toClose.append(c); continue }
                    grants.append((s.waiters.removeFirst(), .connection(c)))
                } else if s.open < configuration.maxConnections {
                    s.open += 1
                    grants.append((s.waiters.removeFirst(), .slot))
                } else {
                    break
                }
            }
        }
        for c in toClose { c.close() }
        for (w, g) in grants { w.continuation.resume(returning: g) }
    }

    private func release(_ conn: PostgresConnection) {
        let broken = conn.isBroken || conn.inTransaction
        let closeIt: Bool = state.withLockedValue { s in
            if broken || s.closed {
                s.open -= 1
                return true
            }
            s.idle.append(conn)
            return false
        }
        if closeIt { conn.close() }
        dispatch()
    }

    private func releaseSlot() {
        state.withLockedValue { $0.open -= 1 }
        dispatch()
    }

    private func releaseGrant(_ grant: Grant) {
        switch grant {
        case .connection(let c): release(c)
        case .slot: releaseSlot()
        }
    }
}
