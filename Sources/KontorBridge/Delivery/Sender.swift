import Foundation
import KontorClient
import KontorDomain
import KontorProtocol
import Logging
import Synchronization

/// Where kontord is, asked again before every connection attempt (so a restarted
/// server on another address or port is found).
public typealias KontordEndpoint = @Sendable () async throws -> (host: String, port: Int)

/// Makes the protocol call for one spooled event and returns kontord's result. The
/// default calls `event.method` with `event.params`; tests inject others.
public typealias SpoolDelivery = @Sendable (KontorConnection, SpoolEvent) async throws -> JSONValue

/// How the sender retries.
public struct SenderConfiguration: Sendable {
    /// First wait after a failure.
    public var backoffInitial: Duration
    /// Longest wait between attempts.
    public var backoffMax: Duration
    /// `internal` errors (a server bug) are retried this many times, then the event goes
    /// to the dead letters so that one poisonous event does not stop the queue.
    public var maxInternalRetries: Int
    /// How often an empty spool is looked at again.
    public var idlePoll: Duration

    /// Production defaults: 200 ms doubling to 30 s, 5 internal retries, 100 ms idle poll.
    public init(backoffInitial: Duration = .milliseconds(200), backoffMax: Duration = .seconds(30),
                maxInternalRetries: Int = 5, idlePoll: Duration = .milliseconds(100)) {
        self.backoffInitial = backoffInitial; self.backoffMax = backoffMax
        self.maxInternalRetries = maxInternalRetries; self.idlePoll = idlePoll
    }
}

/// Delivers the spool to kontord, in order, one event at a time.
///
/// * Logs in with the robot token (`auth.token`) on every new connection.
/// * Retries with exponential backoff and full jitter while kontord is unreachable,
///   answers `unavailable` or `rate_limited`, refuses the token or the method (a
///   configuration or version problem: the events wait in the spool).
/// * Marks an event done only after kontord answered: with a result, or with a
///   permanent error (`invalid_params`, `invalid_request`, `parse_error`, `not_found`,
///   `duplicate`, `conflict`, `invalid_transition`, `reason_required`), which sends the
///   event to `dead-letter.jsonl` with the error.
/// * A crash between the answer and the mark resends the event on restart; ingestion is
///   idempotent by external id, so nothing is duplicated.
public final class SpoolSender: Sendable {
    public let spool: Spool
    public let state: StateStore
    private let endpoint: KontordEndpoint
    private let token: String
    private let configuration: SenderConfiguration
    private let logger: Logger
    private let deliver: SpoolDelivery
    private let connection = Mutex<KontorConnection?>(nil)
    /// The last problem logged and when: a retry loop logs a repeated problem once a minute.
    private let lastLogged = Mutex<(message: String, at: Date)?>(nil)

    /// The permanent error kinds: the event can never succeed as it is.
    public static let permanentKinds: Set<ErrorKind> = [
        .invalidParams, .invalidRequest, .parseError, .notFound, .duplicate, .conflict, .invalidTransition, .reasonRequired,
    ]

    /// Calls `event.method` with `event.params`.
    public static let defaultDelivery: SpoolDelivery = { conn, event in
        try await conn.call(event.method, event.params)
    }

    /// A sender for `spool`; `endpoint` is asked before every connection, `token` logs in.
    public init(spool: Spool, state: StateStore, endpoint: @escaping KontordEndpoint, token: String,
                configuration: SenderConfiguration = SenderConfiguration(), logger: Logger = Logger(label: "kontor-bridge.sender"),
                deliver: @escaping SpoolDelivery = SpoolSender.defaultDelivery) {
        self.spool = spool; self.state = state; self.endpoint = endpoint; self.token = token
        self.configuration = configuration; self.logger = logger; self.deliver = deliver
    }

    /// kontord could not be reached (the address tried and why).
    struct ConnectError: Error, CustomStringConvertible {
        var description: String
    }

    /// Another sender holds the spool.
    public struct Busy: Error, CustomStringConvertible {
        public var description: String { "another kontor-bridge is sending this spool" }
    }

    /// Delivers until cancelled. Throws `Busy` when another sender holds the spool.
    public func run() async throws {
        guard let lock = try spool.trySenderLock() else { throw Busy() }
        defer { lock.unlock() }
        do {
            try await loop(untilEmpty: false)
        } catch {
            await dropConnection()
            throw error
        }
    }

    /// Delivers until cancelled, like ``run()``; while another process holds the spool
    /// (a second `serve` on the same directory), waits and takes over once it is free,
    /// checking every `retry`.
    public func runWhenFree(retry: Duration = .seconds(2)) async throws {
        var told = false
        while true {
            do {
                try await run()
                return
            } catch is Busy {
                if !told {
                    logger.notice("another kontor-bridge is sending this spool; this one takes over when it stops")
                    told = true
                }
                try await Task.sleep(for: retry)
            }
        }
    }

    /// Delivers until the spool is empty, then returns (for the import commands).
    /// Throws `Busy` when another sender holds the spool (it will deliver them).
    public func drain() async throws {
        guard let lock = try spool.trySenderLock() else { throw Busy() }
        defer { lock.unlock() }
        do {
            try await loop(untilEmpty: true)
        } catch {
            await dropConnection()
            throw error
        }
        await dropConnection()
    }

    private func loop(untilEmpty: Bool) async throws {
        var failures = 0
        var internalFailures = 0
        while true {
            try Task.checkCancellation()
            let entry: SpoolEntry
            do {
                guard let e = try spool.next() else {
                    if untilEmpty { return }
                    try await Task.sleep(for: configuration.idlePoll)
                    continue
                }
                entry = e
            } catch let e as CancellationError {
                throw e
            } catch {
                note("cannot read the spool: \(error)")
                try await backoff(&failures)
                continue
            }
            guard let event = entry.event else {
                do {
                    try spool.deadLetter(entry, error: "unreadable spool record", kind: nil)
                    try spool.markDone(entry)
                    state.count("unknown", \.dead)
                } catch {
                    note("cannot write the dead letter: \(error)")
                    try await backoff(&failures)
                }
                continue
            }
            do {
                let conn = try await connected()
                let result = try await deliverDegrading(conn, event)
                try Task.checkCancellation()
                try spool.markDone(entry)
                if failures > 0 {
                    logger.notice("kontord answers again; delivering the spool")
                    lastLogged.withLock { $0 = nil }
                }
                failures = 0
                internalFailures = 0
                let duplicate = result["duplicate"] == .bool(true)
                state.update { s in
                    s.sources[event.source, default: SourceCounters()].delivered += 1
                    if duplicate { s.sources[event.source, default: SourceCounters()].duplicates += 1 }
                    s.lastDeliveryAt = Date()
                }
            } catch let e as CancellationError {
                throw e
            } catch let e as KontorError {
                if SpoolSender.permanentKinds.contains(e.kind)
                    || (e.kind == .internal && internalFailures >= configuration.maxInternalRetries) {
                    logger.warning("event refused; moved to the dead letters",
                                   metadata: ["source": "\(event.source)", "key": "\(event.key ?? "-")", "error": "\(e)"])
                    do {
                        try spool.deadLetter(entry, error: e.message, kind: e.kind.rawValue)
                        try spool.markDone(entry)
                    } catch {
                        note("cannot write the dead letter: \(error)")
                        try await backoff(&failures)
                        continue
                    }
                    state.count(event.source, \.dead)
                    state.recordError("\(event.source) \(event.key ?? ""): \(e)")
                    internalFailures = 0
                    continue
                }
                if e.kind == .internal { internalFailures += 1 }
                if e.kind == .unauthenticated { await dropConnection() }
                note("kontord answered \(e) for \(event.method) (\(event.source) \(event.key ?? "-")); retrying")
                try await backoff(&failures)
            } catch {
                await dropConnection()
                note("\(error)")
                try await backoff(&failures)
            }
        }
    }

    /// Delivers `event`; when kontord refuses one of the optional fields newer than it
    /// (`invalid_params` naming `remote_name`, `edit_of`, `sender.company`, an
    /// attachment's `size`), delivers it again without that field (docs/BRIDGE.md,
    /// "Spool", on a kontord older than the bridge).
    private func deliverDegrading(_ conn: KontorConnection, _ event: SpoolEvent) async throws -> JSONValue {
        var attempt = event
        for _ in 0...EventShaping.newerOptionalFields.count + 1 {
            do {
                return try await deliver(conn, attempt)
            } catch let e as KontorError where e.kind == .invalidParams {
                guard case .string(let field)? = e.data["field"], let params = EventShaping.degrade(attempt.params, field: field) else { throw e }
                logger.notice("kontord does not take an optional field; sending without it",
                              metadata: ["source": "\(event.source)", "key": "\(event.key ?? "-")", "field": "\(field)"])
                attempt.params = params
            }
        }
        return try await deliver(conn, attempt)
    }

    private func note(_ message: String) {
        let now = Date()
        let log = lastLogged.withLock { last -> Bool in
            if let l = last, l.message == message, now.timeIntervalSince(l.at) < 60 { return false }
            last = (message, now)
            return true
        }
        if log { logger.warning("\(message)") }
        state.recordError(message)
    }

    /// The current connection, or a new logged-in one.
    private func connected() async throws -> KontorConnection {
        if let c = connection.withLock({ $0 }), !c.isClosed { return c }
        let (host, port) = try await endpoint()
        let c: KontorConnection
        do {
            c = try await KontorConnection.connect(host: host, port: port)
        } catch {
            throw ConnectError(description: "cannot connect: \(host):\(port): \(error)")
        }
        do {
            _ = try await c.call("auth.token", ["token": .string(token)])
        } catch {
            await c.close()
            throw error
        }
        connection.withLock { $0 = c }
        return c
    }

    private func dropConnection() async {
        if let c = connection.withLock({ c -> KontorConnection? in let x = c; c = nil; return x }) { await c.close() }
    }

    /// Exponential backoff with full jitter: a random wait in [d/2, d], d doubling per
    /// failure from `backoffInitial` up to `backoffMax`.
    private func backoff(_ failures: inout Int) async throws {
        let initial = Double(configuration.backoffInitial.components.seconds) + Double(configuration.backoffInitial.components.attoseconds) / 1e18
        let maximum = Double(configuration.backoffMax.components.seconds) + Double(configuration.backoffMax.components.attoseconds) / 1e18
        let d = min(maximum, initial * pow(2, Double(min(failures, 30))))
        failures += 1
        let wait = Double.random(in: (d / 2)...max(d / 2, d))
        try await Task.sleep(for: .milliseconds(Int(wait * 1000)))
    }
}
