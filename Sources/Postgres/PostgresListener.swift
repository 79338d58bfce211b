import CLibPQ
import Foundation
import Logging
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#endif

/// What a `PostgresListener` reports.
public enum PostgresListenerEvent: Sendable {
    /// A `NOTIFY` arrived on a channel we listen to.
    case notification(channel: String, payload: String, senderPID: Int32)
    /// The listener (re)connected and is listening on every channel again. Notifications
    /// sent while it was disconnected are lost, so consumers re-read what they track.
    case connected
    /// The connection was lost; the listener retries with backoff.
    case disconnected(String)
}

/// A dedicated LISTEN/NOTIFY connection on a thread of its own.
///
/// Waits on the connection's socket with `poll`, reads with `PQconsumeInput`, drains
/// `PQnotifies`; reconnects with exponential backoff (0.1 s to 5 s) and re-issues `LISTEN`
/// for every channel after each reconnect, then reports `.connected`.
public final class PostgresListener: @unchecked Sendable {
    private struct State {
        var channels: Set<String> = []
        var pendingListen: Set<String> = []
        var stopped = false
        var started = false
    }

    private let conninfo: String
    private let handler: @Sendable (PostgresListenerEvent) -> Void
    private let logger: Logger
    private let state = NIOLockedValueBox(State())
    private var wakeFDs: [Int32] = [-1, -1]
    private let done = NIOLockedValueBox(false)
    private var thread: Thread?

    /// - Parameters:
    ///   - conninfo: libpq connection string or URI, passed through untouched.
    ///   - channels: channels to LISTEN on from the start.
    ///   - handler: called on the listener's thread for every event; keep it short.
    public init(conninfo: String, channels: [String] = [], logger: Logger = Logger(label: "kontor.listener"),
                handler: @escaping @Sendable (PostgresListenerEvent) -> Void) {
        self.conninfo = conninfo
        self.handler = handler
        self.logger = logger
        state.withLockedValue { $0.channels = Set(channels) }
        var fds: [Int32] = [-1, -1]
        if pipe(&fds) == 0 {
            _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK)
            _ = fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK)
            wakeFDs = fds
        }
    }

    deinit {
        for fd in wakeFDs where fd >= 0 { Glibc.close(fd) }
    }

    /// Starts the listener thread. Calling it twice does nothing.
    public func start() {
        let go = state.withLockedValue { s -> Bool in
            if s.started { return false }
            s.started = true
            return true
        }
        guard go else { return }
        let t = Thread { [self] in self.run() }
        t.name = "kontor-pg-listener"
        thread = t
        t.start()
    }

    /// Adds a channel; takes effect within one wake-up.
    public func listen(_ channel: String) {
        state.withLockedValue { s in
            if s.channels.insert(channel).inserted { s.pendingListen.insert(channel) }
        }
        wake()
    }

    /// Stops the thread and closes the connection; waits up to 5 s for it to finish,
    /// without blocking the caller's thread.
    public func shutdown() async {
        state.withLockedValue { $0.stopped = true }
        wake()
        for _ in 0..<500 where thread != nil && !done.withLockedValue({ $0 }) {
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
    }

    /// Stops the thread and closes the connection; blocks up to 5 s for it to finish.
    /// From async code use `shutdown()`.
    public func stop() {
        state.withLockedValue { $0.stopped = true }
        wake()
        let deadline = Date().addingTimeInterval(5)
        while !done.withLockedValue({ $0 }) && Date() < deadline && thread != nil {
            usleep(5_000)
        }
    }

    private func wake() {
        if wakeFDs[1] >= 0 {
            var b: UInt8 = 1
            _ = Glibc.write(wakeFDs[1], &b, 1)
        }
    }

    private var isStopped: Bool { state.withLockedValue { $0.stopped } }

    private func run() {
        defer { done.withLockedValue { $0 = true } }
        var backoff = 0.1
        while !isStopped {
            let conn: PostgresConnection
            do {
                conn = try PostgresConnection(conninfo: conninfo)
                let channels = state.withLockedValue { s -> Set<String> in s.pendingListen = []; return s.channels }
                for ch in channels { try conn.execute(script: "LISTEN \(try conn.escapeIdentifier(ch))") }
            } catch {
                handler(.disconnected("\(error)"))
                sleepInterruptibly(backoff)
                backoff = min(backoff * 2, 5)
                continue
            }
            backoff = 0.1
            handler(.connected)
            let reason = loop(conn)
            conn.close()
            if !isStopped { handler(.disconnected(reason)) }
        }
    }

    /// Returns why the connection was given up.
    private func loop(_ conn: PostgresConnection) -> String {
        while !isStopped {
            let pending = state.withLockedValue { s -> Set<String> in let p = s.pendingListen; s.pendingListen = []; return p }
            do {
                for ch in pending { try conn.execute(script: "LISTEN \(try conn.escapeIdentifier(ch))") }
            } catch {
                state.withLockedValue { $0.pendingListen.formUnion(pending) }
                return "\(error)"
            }
            guard let raw = conn.raw else { return "closed" }
            // Deliver anything libpq already buffered (e.g. during the LISTEN round trips).
            drain(raw)
            var fds = [pollfd(fd: PQsocket(raw), events: Int16(POLLIN), revents: 0),
                       pollfd(fd: wakeFDs[0], events: Int16(POLLIN), revents: 0)]
            let r = poll(&fds, wakeFDs[0] >= 0 ? 2 : 1, 1000)
            if r < 0 && errno != EINTR { return "poll failed: errno \(errno)" }
            if fds.count > 1, fds[1].revents != 0 {
                var buf = [UInt8](repeating: 0, count: 64)
                while Glibc.read(wakeFDs[0], &buf, 64) > 0 {}
            }
            if fds[0].revents != 0 {
                if PQconsumeInput(raw) == 0 {
                    return String(cString: PQerrorMessage(raw)).trimmingCharacters(in: .whitespacesAndNewlines)
                }
                drain(raw)
            }
            if PQstatus(raw) != CONNECTION_OK { return "connection lost" }
        }
        return "stopped"
    }

    private func drain(_ raw: OpaquePointer) {
        while let n = PQnotifies(raw) {
            let channel = String(cString: n.pointee.relname)
            let payload = n.pointee.extra.map { String(cString: $0) } ?? ""
            let pid = n.pointee.be_pid
            PQfreemem(n)
            handler(.notification(channel: channel, payload: payload, senderPID: pid))
        }
    }

    private func sleepInterruptibly(_ seconds: Double) {
        var fd = pollfd(fd: wakeFDs[0], events: Int16(POLLIN), revents: 0)
        _ = poll(&fd, wakeFDs[0] >= 0 ? 1 : 0, Int32(seconds * 1000))
    }
}
