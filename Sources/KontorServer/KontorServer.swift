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
        let conninfo = app.configuration.databaseURL
        try await Task.detached {
            let conn = try PostgresConnection(conninfo: conninfo)
            defer { conn.close() }
            try migrator.migrate(conn)
        }.value
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
        defer {
            listener.stop()
        }

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
                }
            }
            // Every connection is done: background services stop now.
            outer.cancelAll()
        }
        await app.db.shutdown()
        if ownsGroup { try? await group.shutdownGracefully() }
    }

    /// One connection: reads lines, runs requests concurrently (pipelining, bounded),
    /// writes responses in completion order, each carrying its request's id.
    private func serve(_ connection: NIOAsyncChannel<LineFrame, ByteBuffer>, dispatcher: Dispatcher) async {
        let channel = connection.channel
        let key = ObjectIdentifier(channel)
        channels.withLockedValue { $0[key] = channel }
        defer { _ = channels.withLockedValue { $0.removeValue(forKey: key) } }
        let peer = channel.remoteAddress.map { a in "\(a.ipAddress ?? "?"):\(a.port ?? 0)" } ?? "unknown"
        let session = ConnectionSession(id: app.sessions.nextID(), peer: peer, maxQueuedPushes: 256)
        app.sessions.add(session)
        defer { app.sessions.remove(session) }
        let limit = AsyncSemaphore(permits: app.configuration.maxInFlightPerConnection)
        let logger = app.logger
        do {
            try await connection.executeThenClose { inbound, outbound in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    // The writer: the only task that writes to the socket.
                    group.addTask {
                        for await item in session.outbox.stream {
                            switch item {
                            case .response(let line):
                                try await outbound.write(ByteBuffer(string: line + "\n"))
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
                                    if buffer.readableBytes == 0 { continue }
                                    let incoming = JSONRPC.read(line: buffer.readableBytesView)
                                    if Self.changesSession(incoming) {
                                        // Login/logout are barriers: they run after every
                                        // earlier request and before any later one, so a
                                        // pipelined "login, then work" behaves as written.
                                        await limit.waitAll()
                                        await Self.answer(incoming, session: session, dispatcher: dispatcher)
                                        limit.signalAll()
                                        continue
                                    }
                                    await limit.wait()
                                    requests.addTask {
                                        defer { limit.signal() }
                                        await Self.answer(incoming, session: session, dispatcher: dispatcher)
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

    static func answer(_ incoming: JSONRPCIncoming, session: ConnectionSession, dispatcher: Dispatcher) async {
        switch incoming {
        case .single(.success(let req)):
            if let line = await dispatcher.handle(req, session: session) { session.outbox.respond(line) }
        case .single(.failure(let e)):
            session.outbox.respond(JSONRPC.errorLine(id: e.id, error: e.error))
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
            if !parts.isEmpty { session.outbox.respond("[" + parts.joined(separator: ",") + "]") }
        }
    }
}

/// A counting semaphore for async code (FIFO).
final class AsyncSemaphore: Sendable {
    private struct State {
        var permits: Int
        var waiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state: NIOLockedValueBox<State>

    let total: Int

    init(permits: Int) {
        total = permits
        state = NIOLockedValueBox(State(permits: permits))
    }

    func wait() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let go = state.withLockedValue { s -> Bool in
                if s.permits > 0 { s.permits -= 1; return true }
                s.waiters.append(c)
                return false
            }
            if go { c.resume() }
        }
    }

    /// Takes every permit (waits for all holders to give theirs back).
    func waitAll() async {
        for _ in 0..<total { await wait() }
    }

    func signalAll() {
        for _ in 0..<total { signal() }
    }

    func signal() {
        let w = state.withLockedValue { s -> CheckedContinuation<Void, Never>? in
            if s.waiters.isEmpty { s.permits += 1; return nil }
            return s.waiters.removeFirst()
        }
        w?.resume()
    }
}
