import Foundation
import KontorDomain
import KontorProtocol
import KontorStore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Postgres
import ServiceLifecycle

/// The `kontord` server: a TCP listener speaking the line protocol (JSON-RPC 2.0, one
/// object per line; see docs/PROTOCOL.md), backed by PostgreSQL.
///
/// Runs as a swift-service-lifecycle `Service`: on graceful shutdown it stops accepting,
/// stops reading new requests, lets requests in flight finish and answer, closes the
/// connections, then the database pool.
public final class KontorServer: Service, Sendable {
    public let app: App
    let table: MethodTable
    private let group: MultiThreadedEventLoopGroup
    private let ownsGroup: Bool
    private let bound = NIOLockedValueBox<(port: Int?, waiters: [CheckedContinuation<Int, Error>])>((nil, []))
    private let background: [BackgroundJob]
    private let listenerBox = NIOLockedValueBox<PostgresListener?>(nil)
    private let channels = NIOLockedValueBox<[ObjectIdentifier: Channel]>([:])
    private let listenerHandlers: [String: @Sendable (String) -> Void]

    /// - Parameters:
    ///   - configuration: see `ServerConfiguration`.
    ///   - clock: the server's clock (tests pass one they move).
    ///   - group: an event loop group to share; nil = one thread per core, owned.
    public init(configuration: ServerConfiguration, clock: KontorClock = KontorClock(), logger: Logger,
                group: MultiThreadedEventLoopGroup? = nil) {
        let app = App(configuration: configuration, clock: clock, logger: logger)
        self.app = app
        var table = MethodTable()
        Methods.registerAll(&table)
        self.table = table
        self.ownsGroup = group == nil
        self.group = group ?? MultiThreadedEventLoopGroup(numberOfThreads: max(1, System.coreCount))
        let jobs = Methods.backgroundJobs(app)
        self.background = jobs
        var handlers: [String: @Sendable (String) -> Void] = [
            "kontor_auth": { [app] payload in app.authCache.evict(payload: payload) },
        ]
        let byName = Dictionary(jobs.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for (channel, h) in Methods.notificationHandlers(app, jobs: byName) { handlers[channel] = h }
        self.listenerHandlers = handlers
    }

    /// A background job by name (tests wake them after moving the clock).
    public func job(_ name: String) -> BackgroundJob? {
        background.first { $0.name == name }
    }

    /// Every method the server answers.
    public var methods: [String] { table.methods }

    /// The bound port once listening (waits for it).
    public func waitUntilListening() async throws -> Int {
        try await withCheckedThrowingContinuation { cont in
            let port: Int? = bound.withLockedValue { s in
                if let p = s.port { return p }
                s.waiters.append(cont)
                return nil
            }
            if let port { cont.resume(returning: port) }
        }
    }

    /// Applies migrations (and views) with a connection of its own.
    public func migrate() async throws {
        guard let dir = Migrator.locateSQLDirectory(override: app.configuration.sqlDirectory) else {
            throw ConfigurationError(variable: "KONTOR_SQL_DIR", value: "", expected: "the folder holding migrations/ and views/")
        }
        let migrator = Migrator(directory: dir, logger: app.logger)
        // On a pool thread (libpq blocks), on a connection that is closed afterwards:
        // migrations lift the pool's statement and lock timeouts for themselves.
        try await app.db.withConnection { conn in
            defer { conn.close() }
            try conn.execute(script: "SET statement_timeout = 0; SET lock_timeout = 0; SET idle_in_transaction_session_timeout = 0")
            try migrator.migrate(conn)
        }
    }

    public func run() async throws {
        if app.configuration.migrateOnStart { try await migrate() }
        let listener = PostgresListener(conninfo: app.configuration.databaseURL, channels: Array(listenerHandlers.keys),
                                        logger: app.logger) { [app, listenerHandlers] event in
            switch event {
            case .connected:
                app.authCache.setListening(true)
                for (_, h) in listenerHandlers { h("") }  // "" = re-read everything you track
                app.logger.debug("listening for database notifications")
            case .disconnected(let why):
                app.authCache.setListening(false)
                app.logger.warning("database notifications lost; reconnecting", metadata: ["error": "\(why)"])
            case .notification(let channel, let payload, _):
                listenerHandlers[channel]?(payload)
            }
        }
        listenerBox.withLockedValue { $0 = listener }
        listener.start()

        do {
            try await serveUntilShutdown()
        } catch {
            await listener.shutdown()
            await app.db.shutdown()
            if ownsGroup { try? await group.shutdownGracefully() }
            throw error
        }
        await listener.shutdown()
        await app.db.shutdown()
        if ownsGroup { try? await group.shutdownGracefully() }
    }

    /// Binds, accepts and serves until graceful shutdown; runs the background jobs.
    private func serveUntilShutdown() async throws {
        let cfg = app.configuration
        let maxLine = cfg.maxLineBytes
        let idle = TimeAmount.nanoseconds(Int64(cfg.idleTimeout * 1_000_000_000))
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 512)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .bind(host: cfg.host, port: cfg.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: idle))
                    try channel.pipeline.syncOperations.addHandler(IdleCloser())
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineDecoder(maxLength: maxLine)))
                    return try NIOAsyncChannel<LineFrame, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let port = server.channel.localAddress?.port ?? cfg.port
        app.logger.notice("kontord listening", metadata: ["address": "\(cfg.host):\(port)", "instance": "\(cfg.instanceName)"])
        let waiters = bound.withLockedValue { s -> [CheckedContinuation<Int, Error>] in
            s.port = port
            let w = s.waiters
            s.waiters = []
            return w
        }
        for w in waiters { w.resume(returning: port) }

        let dispatcher = Dispatcher(app: app, table: table)
        try await withThrowingDiscardingTaskGroup { outer in
            for service in background {
                outer.addTask { try await service.run() }
            }
            // Connections live in a group of their own, awaited before anything stops:
            // requests in flight at shutdown still finish and answer.
            try await withThrowingDiscardingTaskGroup { connections in
                try await withGracefulShutdownHandler {
                    try await server.executeThenClose { inbound in
                        for try await connection in inbound {
                            connections.addTask { [self] in
                                await self.serve(connection, dispatcher: dispatcher)
                            }
                        }
                    }
                } onGracefulShutdown: { [self] in
                    // Stop accepting; stop reading on every connection (in-flight requests
                    // still finish and are answered, then each connection closes).
                    server.channel.close(promise: nil)
                    for ch in channels.withLockedValue({ Array($0.values) }) {
                        ch.close(mode: .input, promise: nil)
                    }
                    // A client that never reads its answers must not hold shutdown
                    // forever: after the grace period, close whatever is left.
                    let grace = app.configuration.shutdownGrace
                    Task { [self] in
                        try? await Task.sleep(nanoseconds: UInt64(grace * 1_000_000_000))
                        for ch in channels.withLockedValue({ Array($0.values) }) { ch.close(promise: nil) }
                    }
                }
            }
            // Every connection is done: background services stop now.
            outer.cancelAll()
        }
    }

    /// One connection: reads lines, runs requests concurrently (pipelining, bounded),
    /// writes responses in completion order, each carrying its request's id.
    ///
    /// Back-pressure: a request holds one of `maxInFlightPerConnection` permits from the
    /// moment its line is read until its answer has been written to the socket, so a
    /// client that sends but never reads stops being read after that many answers wait
    /// for it; the server's memory per connection stays bounded.
    private func serve(_ connection: NIOAsyncChannel<LineFrame, ByteBuffer>, dispatcher: Dispatcher) async {
        let channel = connection.channel
        let key = ObjectIdentifier(channel)
        let admitted = channels.withLockedValue { c -> Bool in
            if c.count >= app.configuration.maxConnections { return false }
            c[key] = channel
            return true
        }
        guard admitted else {
            app.logger.warning("connection refused: too many connections", metadata: ["limit": "\(app.configuration.maxConnections)"])
            try? await connection.executeThenClose { _, outbound in
                try await outbound.write(ByteBuffer(string: JSONRPC.errorLine(
                    id: nil, error: .unavailable("too many connections (\(app.configuration.maxConnections)); retry later")) + "\n"))
            }
            return
        }
        defer { _ = channels.withLockedValue { $0.removeValue(forKey: key) } }
        let address = channel.remoteAddress?.ipAddress ?? "unknown"
        let peer = channel.remoteAddress.map { a in "\(a.ipAddress ?? "?"):\(a.port ?? 0)" } ?? "unknown"
        let session = ConnectionSession(id: app.sessions.nextID(), peer: peer, peerAddress: address, maxQueuedPushes: 256)
        app.sessions.add(session)
        defer { app.sessions.remove(session) }
        let limit = AsyncSemaphore(permits: app.configuration.maxInFlightPerConnection)
        let maxBatch = app.configuration.maxBatch
        let logger = app.logger
        do {
            try await connection.executeThenClose { inbound, outbound in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    // The writer: the only task that writes to the socket.
                    group.addTask {
                        for await item in session.outbox.stream {
                            switch item {
                            case .response(let line, let written):
                                try await outbound.write(ByteBuffer(string: line + "\n"))
                                written?()
                            case .push(let line):
                                session.outbox.pushWritten()
                                try await outbound.write(ByteBuffer(string: line + "\n"))
                            case .close:
                                return
                            }
                        }
                    }
                    // The reader.
                    group.addTask {
                        try await withThrowingDiscardingTaskGroup { requests in
                            readLoop: for try await frame in inbound {
                                switch frame {
                                case .tooLong:
                                    session.outbox.respond(JSONRPC.errorLine(id: nil, error: KontorError(.invalidRequest, "line longer than \(self.app.configuration.maxLineBytes) bytes; closing")))
                                    break readLoop
                                case .line(let buffer):
                                    // Blank lines (keep-alives, stray CRs) are ignored.
                                    if buffer.readableBytesView.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
                                    let incoming = JSONRPC.read(line: buffer.readableBytesView, maxBatch: maxBatch)
                                    if Self.changesSession(incoming) {
                                        // Login/logout are barriers: they run after every
                                        // earlier request has been answered and before any
                                        // later one, so a pipelined "login, then work"
                                        // behaves as written.
                                        guard await limit.waitAll() else { break readLoop }
                                        let line = await Self.answer(incoming, session: session, dispatcher: dispatcher)
                                        if let line { session.outbox.respond(line) }
                                        limit.signalAll()
                                        continue
                                    }
                                    guard await limit.wait() else { break readLoop }
                                    requests.addTask {
                                        if let line = await Self.answer(incoming, session: session, dispatcher: dispatcher) {
                                            session.outbox.respond(line, onWritten: { limit.signal() })
                                        } else {
                                            limit.signal()
                                        }
                                    }
                                }
                            }
                        }
                        // Input ended (or too long): in-flight requests have answered.
                        session.outbox.close()
                    }
                    try await group.next()
                    try await group.next()
                }
            }
        } catch {
            logger.debug("connection ended", metadata: ["conn": "\(session.id)", "error": "\(error)"])
        }
        session.outbox.finish()
        session.unbind()
    }

    /// Whether the line holds a method that changes who the connection is logged in as.
    static func changesSession(_ incoming: JSONRPCIncoming) -> Bool {
        func isAuth(_ r: Result<JSONRPCRequest, JSONRPCReadError>) -> Bool {
            if case .success(let req) = r { return req.method.hasPrefix("auth.") }
            return false
        }
        switch incoming {
        case .single(let r): return isAuth(r)
        case .batch(let items): return items.contains(where: isAuth)
        }
    }

    /// Runs a line's request(s); returns the answer line, nil when nothing is answered
    /// (notifications). A batch runs its requests one after another.
    static func answer(_ incoming: JSONRPCIncoming, session: ConnectionSession, dispatcher: Dispatcher) async -> String? {
        switch incoming {
        case .single(.success(let req)):
            return await dispatcher.handle(req, session: session)
        case .single(.failure(let e)):
            return JSONRPC.errorLine(id: e.id, error: e.error)
        case .batch(let items):
            var parts: [String] = []
            for item in items {
                switch item {
                case .success(let req):
                    if let line = await dispatcher.handle(req, session: session) { parts.append(line) }
                case .failure(let e):
                    parts.append(JSONRPC.errorLine(id: e.id, error: e.error))
                }
            }
            return parts.isEmpty ? nil : "[" + parts.joined(separator: ",") + "]"
        }
    }
}

/// A counting semaphore for async code (FIFO). Waiting ends early when the waiting task
/// is cancelled (the connection closed), so nobody stays suspended forever.
final class AsyncSemaphore: Sendable {
    private struct State {
        var permits: Int
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Bool, Never>)] = []
        var nextID: UInt64 = 0
    }
    private let state: NIOLockedValueBox<State>

    let total: Int

    init(permits: Int) {
        total = permits
        state = NIOLockedValueBox(State(permits: permits))
    }

    /// Takes a permit. Returns false (holding nothing) when the task was cancelled.
    @discardableResult
    func wait() async -> Bool {
        let id = state.withLockedValue { s -> UInt64 in s.nextID += 1; return s.nextID }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
                let now: Bool? = state.withLockedValue { s in
                    if Task.isCancelled { return false }
                    if s.permits > 0 { s.permits -= 1; return true }
                    s.waiters.append((id, c))
                    return nil
                }
                if let now { c.resume(returning: now) }
            }
        } onCancel: {
            let w = state.withLockedValue { s -> CheckedContinuation<Bool, Never>? in
                guard let i = s.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return s.waiters.remove(at: i).continuation
            }
            w?.resume(returning: false)
        }
    }

    /// Takes every permit (waits for all holders to give theirs back). Returns false when
    /// cancelled; the permits taken so far are given back.
    @discardableResult
    func waitAll() async -> Bool {
        for n in 0..<total {
            if await !wait() {
                for _ in 0..<n { signal() }
                return false
            }
        }
        return true
    }

    func signalAll() {
        for _ in 0..<total { signal() }
    }

    func signal() {
        let w = state.withLockedValue { s -> CheckedContinuation<Bool, Never>? in
            if s.waiters.isEmpty { s.permits += 1; return nil }
            return s.waiters.removeFirst().continuation
        }
        w?.resume(returning: true)
    }
}
