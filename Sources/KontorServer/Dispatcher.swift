import Foundation
import KontorDomain
import KontorProtocol
import KontorStore
import Logging
import Postgres

/// What a handler gets besides its parameters.
public struct RequestContext: Sendable {
    public let app: App
    public let session: ConnectionSession
    /// The caller as of this request; nil only for anonymous methods called before login.
    public let principal: Principal?
    public let method: String
    /// Correlation id of this request (in logs and `internal` error messages).
    public let requestID: String
    /// The request's instant, from the server clock.
    public let now: Date

    /// The caller; anonymous methods that need one call this.
    /// - Throws: `unauthenticated` before login.
    public func requirePrincipal() throws -> Principal {
        guard let principal else { throw KontorError(.unauthenticated, "log in first (auth.login or auth.token)") }
        return principal
    }
}

/// Parameters of methods that take none. Any field given is refused as unknown.
public struct NoParams: Decodable, Sendable {
    private enum CodingKeys: CodingKey {}
    public init() {}
    public init(from decoder: Decoder) throws { _ = try decoder.container(keyedBy: CodingKeys.self) }
}

/// `{"ok": true}`.
public struct OK: Encodable, Sendable {
    public let ok = true
    public init() {}
}

/// The method table: name → handler. Built once at start-up; every request goes
/// through `Dispatcher.handle`, which checks login and the permission table before
/// any handler runs.
public struct MethodTable: Sendable {
    public typealias RawHandler = @Sendable (RequestContext, JSONValue) async throws -> JSONValue
    private(set) var handlers: [String: RawHandler] = [:]

    public init() {}

    /// Registers a typed handler. Params are decoded strictly (unknown fields refused),
    /// results encoded with `snake_case` keys and RFC 3339 times in the business zone.
    public mutating func register<P: Decodable & Sendable, R: Encodable & Sendable>(
        _ method: String, _ params: P.Type,
        _ handler: @escaping @Sendable (RequestContext, P) async throws -> R
    ) {
        precondition(handlers[method] == nil, "method \(method) registered twice")
        handlers[method] = { ctx, raw in
            let p = try ctx.app.decoder.decode(P.self, from: raw)
            let r = try await handler(ctx, p)
            return try ctx.app.encoder.encode(r)
        }
    }

    public var methods: [String] { handlers.keys.sorted() }

    func handler(_ method: String) -> RawHandler? { handlers[method] }
}

/// Runs requests: method lookup, login check, permission table, handler, error mapping,
/// one log line.
public struct Dispatcher: Sendable {
    let app: App
    let table: MethodTable

    public init(app: App, table: MethodTable) {
        self.app = app
        self.table = table
    }

    /// Answers one request; returns the response line, or nil for a JSON-RPC notification.
    func handle(_ request: JSONRPCRequest, session: ConnectionSession) async -> String? {
        let started = DispatchTime.now().uptimeNanoseconds
        let requestID = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        var who = session.principal?.login ?? "-"
        let outcome: Result<JSONValue, KontorError>
        do {
            guard let handler = table.handler(request.method) else {
                throw KontorError(.methodNotFound, "no method named \(request.method)")
            }
            // Methods open to everyone need no check of the login (and keep working
            // while the database is down); the others re-check it every time.
            let principal = Permissions.isAnonymous(request.method)
                ? session.principal
                : try await authenticate(session: session, method: request.method)
            who = principal?.login ?? who
            guard Permissions.allows(principal?.role, request.method) else {
                guard let principal else { throw KontorError(.unauthenticated, "log in first (auth.login or auth.token)") }
                throw KontorError.forbidden("the role \(principal.role.rawValue) may not call \(request.method)")
            }
            let ctx = RequestContext(app: app, session: session, principal: principal, method: request.method,
                                     requestID: requestID, now: app.clock.now())
            outcome = .success(try await handler(ctx, request.params))
        } catch {
            outcome = .failure(mapError(error, requestID: requestID, method: request.method))
        }
        let micros = (DispatchTime.now().uptimeNanoseconds - started) / 1000
        var meta: Logger.Metadata = [
            "method": "\(request.method)", "user": "\(who)", "us": "\(micros)", "conn": "\(session.id)", "req": "\(requestID)",
        ]
        switch outcome {
        case .success: meta["outcome"] = "ok"
        case .failure(let e): meta["outcome"] = "\(e.kind.rawValue)"
        }
        app.logger.info("request", metadata: meta)
        guard let id = request.id else { return nil }
        switch outcome {
        case .success(let v): return JSONRPC.resultLine(id: id, result: v)
        case .failure(let e): return JSONRPC.errorLine(id: id, error: e)
        }
    }

    /// The session's principal, re-checked against the database (through the cache):
    /// a revoked session, a revoked token or a deactivated user ends the login here.
    func authenticate(session: ConnectionSession, method: String) async throws -> Principal? {
        guard let credential = session.credential else { return nil }
        let now = app.clock.now()
        if let cached = app.authCache.lookup(credential, now: now) {
            if cached != session.principal { session.refresh(cached) }
            return cached
        }
        let epoch = app.authCache.currentEpoch()
        let found: (user: User, expiresAt: Date?)? = try await app.read { conn in
            let repo = UserRepository(conn)
            switch credential {
            case .session(let id): return try repo.sessionUser(sessionID: id, now: now).map { ($0.user, $0.expiresAt) }
            case .robotToken(let id): return try repo.robotTokenUser(tokenID: id).map { ($0, nil) }
            }
        }
        guard let found, found.user.active else {
            session.unbind()
            if Permissions.isAnonymous(method) { return nil }
            throw KontorError(.unauthenticated, "your session has ended (logged out, expired or the account was deactivated); log in again")
        }
        let p = Principal(found.user)
        app.authCache.store(credential, p, expiresAt: found.expiresAt, epoch: epoch)
        session.refresh(p)
        return p
    }

    /// Turns any error into a protocol error kind. Unknown errors are `internal`, logged
    /// with the correlation id the message names.
    func mapError(_ error: Error, requestID: String, method: String) -> KontorError {
        switch error {
        case let e as KontorError:
            return e
        case let e as PostgresError:
            switch e {
            case .commitOutcomeUnknown:
                app.logger.error("connection lost during COMMIT", metadata: ["req": "\(requestID)", "error": "\(e)"])
                return KontorError(.unavailable, "the database connection broke while saving; the change may or may not be saved: check before repeating it",
                                   data: ["outcome_unknown": .bool(true)])
            case .unavailable, .poolTimeout, .poolClosed:
                app.logger.warning("database unavailable", metadata: ["req": "\(requestID)", "error": "\(e)"])
                return .unavailable()
            case .server(let s):
                switch s.sqlState {
                case .serializationFailure, .deadlockDetected, .lockNotAvailable, .queryCanceled, .readOnlySQLTransaction:
                    return .unavailable("the database is busy; retry (\(s.sqlState))")
                case .uniqueViolation:
                    return KontorError(.duplicate, "a record with these values exists (\(s.constraint ?? "unique"))")
                case .foreignKeyViolation:
                    return KontorError(.notFound, "a referenced record does not exist (\(s.constraint ?? "foreign key"))")
                case .checkViolation, .notNullViolation:
                    return .invalidParams(s.column ?? s.constraint ?? "params", "a value is not allowed here (\(s.constraint ?? s.message))")
                default:
                    if s.sqlState.errorClass == "22" {
                        return .invalidParams(s.column ?? "params", "invalid value: \(s.message)")
                    }
                }
            default: break
            }
        case is CancellationError:
            return .unavailable("the server is shutting down; retry")
        default: break
        }
        app.logger.error("internal error", metadata: ["req": "\(requestID)", "method": "\(method)", "error": "\(error)"])
        return KontorError(.internal, "internal error; reference \(requestID) in the server log")
    }
}
