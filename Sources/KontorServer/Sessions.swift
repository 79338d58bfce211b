import Foundation
import KontorDomain
import NIOConcurrencyHelpers

/// One client connection's session: who is logged in on it, and its outgoing queue.
public final class ConnectionSession: Sendable {
    /// Per-instance connection number, for logs.
    public let id: UInt64
    /// The peer (`ip:port`), for logs.
    public let peer: String
    /// The peer's address without the port, for login throttling.
    public let peerAddress: String
    let outbox: Outbox

    private struct Auth {
        var principal: Principal?
        var credential: Credential?
    }
    private let auth = NIOLockedValueBox(Auth())
    /// Set by `notify.subscribe`: the session wants live pushes.
    private let subscribed = NIOLockedValueBox(false)

    init(id: UInt64, peer: String, peerAddress: String, maxQueuedPushes: Int) {
        self.id = id
        self.peer = peer
        self.peerAddress = peerAddress
        self.outbox = Outbox(maxQueuedPushes: maxQueuedPushes)
    }

    /// The principal bound at login, nil before.
    public var principal: Principal? { auth.withLockedValue { $0.principal } }
    public var credential: Credential? { auth.withLockedValue { $0.credential } }

    /// Binds the connection to a user (after `auth.login`, `auth.token`, `auth.resume`).
    public func bind(_ principal: Principal, credential: Credential) {
        auth.withLockedValue { $0 = Auth(principal: principal, credential: credential) }
    }

    /// Refreshes the principal (role or department changed) without re-login.
    func refresh(_ principal: Principal) {
        auth.withLockedValue { $0.principal = principal }
    }

    /// Forgets the login (logout, revoked session, deactivated user).
    public func unbind() {
        auth.withLockedValue { $0 = Auth() }
        subscribed.withLockedValue { $0 = false }
    }

    public var isSubscribed: Bool { subscribed.withLockedValue { $0 } }
    public func setSubscribed(_ on: Bool) { subscribed.withLockedValue { $0 = on } }

    /// Queues a server push (a JSON-RPC notification line). Never blocks: when the client
    /// is too slow and the queue is full, the push is dropped and the session is marked
    /// lagging (see `Outbox`). Returns false when dropped.
    @discardableResult
    public func push(_ line: String) -> Bool { outbox.push(line) }

    /// Whether pushes were dropped since the last `takeLagging()`.
    public func takeLagging() -> Bool { outbox.takeLagging() }
}

/// A connection's outgoing lines. Responses are never dropped; their number is bounded
/// because a request keeps its in-flight permit until its answer is written. Pushes are
/// bounded per session and dropped (lagging) beyond it.
final class Outbox: Sendable {
    enum Item: Sendable {
        /// An answer; `written` runs once it is on the socket (the request's permit).
        case response(String, written: (@Sendable () -> Void)?)
        case push(String)
        case close
    }

    private struct State {
        var queuedPushes = 0
        var lagging = false
        var finished = false
    }

    let stream: AsyncStream<Item>
    private let continuation: AsyncStream<Item>.Continuation
    private let state = NIOLockedValueBox(State())
    let maxQueuedPushes: Int

    init(maxQueuedPushes: Int) {
        self.maxQueuedPushes = maxQueuedPushes
        (stream, continuation) = AsyncStream.makeStream(of: Item.self)
    }

    func respond(_ line: String, onWritten: (@Sendable () -> Void)? = nil) {
        if case .terminated = continuation.yield(.response(line, written: onWritten)) { onWritten?() }
    }

    func push(_ line: String) -> Bool {
        let ok = state.withLockedValue { s -> Bool in
            if s.finished { return false }
            if s.queuedPushes >= maxQueuedPushes { s.lagging = true; return false }
            s.queuedPushes += 1
            return true
        }
        if ok { continuation.yield(.push(line)) }
        return ok
    }

    /// Called by the writer after writing a line that was a push.
    func pushWritten() {
        state.withLockedValue { $0.queuedPushes -= 1 }
    }

    func takeLagging() -> Bool {
        state.withLockedValue { s in
            let l = s.lagging
            s.lagging = false
            return l
        }
    }

    /// Asks the writer to close the connection after what is queued.
    func close() {
        continuation.yield(.close)
    }

    func finish() {
        state.withLockedValue { $0.finished = true }
        continuation.finish()
    }
}

/// Live sessions on this instance, by user, for pushes.
public final class SessionRegistry: Sendable {
    private let sessions = NIOLockedValueBox([UInt64: ConnectionSession]())
    private let counter = NIOLockedValueBox(UInt64(0))

    func nextID() -> UInt64 { counter.withLockedValue { $0 += 1; return $0 } }

    func add(_ s: ConnectionSession) { sessions.withLockedValue { $0[s.id] = s } }
    func remove(_ s: ConnectionSession) { _ = sessions.withLockedValue { $0.removeValue(forKey: s.id) } }

    /// Every live session of a user on this instance.
    public func sessions(ofUser userID: Int64) -> [ConnectionSession] {
        sessions.withLockedValue { $0.values.filter { $0.principal?.userID == userID } }
    }

    /// All live sessions on this instance.
    public var all: [ConnectionSession] { sessions.withLockedValue { Array($0.values) } }

    public var count: Int { sessions.withLockedValue { $0.count } }
}
