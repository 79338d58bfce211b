import Foundation
import KontorDomain
import Postgres

/// Users, passwords, sessions, robot tokens and failed-login records. No role checks:
/// callers decide who may do what.
public struct UserRepository {
    let conn: PostgresConnection

    public init(_ conn: PostgresConnection) { self.conn = conn }

    static let columns: SQL = "id, login, full_name, role, department, email, active, version, created_at, updated_at"

    static func user(_ r: PostgresRow) throws -> User {
        User(id: try r.decode("id"), login: try r.decode("login"), fullName: try r.decode("full_name"),
             role: try r.decode("role"), department: try r.decode("department", as: Department?.self),
             email: try r.decode("email", as: String?.self), active: try r.decode("active"),
             version: try r.decode("version"), createdAt: try r.decode("created_at"), updatedAt: try r.decode("updated_at"))
    }

    /// Creates a user. `password` nil = cannot log in by password (robots).
    /// - Throws: `KontorError(.duplicate)` with `existing_id` when the login is taken.
    public func create(login: String, fullName: String, role: Role, department: Department?, email: String?,
                       password: String?, bcryptCost: Int, now: Date) throws -> User {
        if let existing = try conn.query("SELECT id FROM users WHERE lower(login) = lower(\(login))").first {
            throw KontorError(.duplicate, "the login \(login) is taken", data: ["existing_id": .int(Int(try existing.decode("id", as: Int64.self)))])
        }
        let hash: SQL = password.map { "crypt(\($0), gen_salt('bf', \(Int32(bcryptCost))))" } ?? "NULL"
        do {
            return try Self.user(conn.query("""
                INSERT INTO users (login, full_name, role, department, email, password_hash, created_at, updated_at)
                VALUES (\(login), \(fullName), \(role), \(department), \(email), \(hash), \(now), \(now))
                RETURNING \(Self.columns)
                """).one())
        } catch let e as PostgresError where e.sqlState == .uniqueViolation {
            throw KontorError(.duplicate, "the login \(login) is taken")
        }
    }

    public func get(id: Int64) throws -> User? {
        try conn.query("SELECT \(Self.columns) FROM users WHERE id = \(id)").first.map(Self.user)
    }

    public func get(login: String) throws -> User? {
        try conn.query("SELECT \(Self.columns) FROM users WHERE lower(login) = lower(\(login))").first.map(Self.user)
    }

    /// Users ordered by name, optionally filtered.
    public func list(role: Role?, department: Department?, active: Bool?) throws -> [User] {
        try conn.query("""
            SELECT \(Self.columns) FROM users
            WHERE (\(role)::text IS NULL OR role = \(role))
              AND (\(department)::text IS NULL OR department = \(department))
              AND (\(active)::boolean IS NULL OR active = \(active))
            ORDER BY full_name, id
            """).map(Self.user)
    }

    /// Applies the given changes when `version` is current.
    /// - Throws: `not_found`, or `conflict` with the current version.
    public func update(id: Int64, version: Int, fullName: String?, role: Role?, department: Department??,
                       email: String??, active: Bool?, now: Date) throws -> User {
        let setDepartment = department != nil
        let setEmail = email != nil
        let rows = try conn.query("""
            UPDATE users SET
                full_name = coalesce(\(fullName), full_name),
                role = coalesce(\(role), role),
                department = CASE WHEN \(setDepartment) THEN \(department ?? nil) ELSE department END,
                email = CASE WHEN \(setEmail) THEN \(email ?? nil) ELSE email END,
                active = coalesce(\(active), active),
                version = version + 1,
                updated_at = \(now)
            WHERE id = \(id) AND version = \(version)
            RETURNING \(Self.columns)
            """)
        if let r = rows.first { return try Self.user(r) }
        guard let current = try get(id: id) else { throw KontorError.notFound("user \(id)") }
        throw KontorError.conflict(currentVersion: current.version)
    }

    /// Sets a new password (bcrypt with `cost`) and revokes the user's sessions except `keepSession`.
    public func setPassword(id: Int64, password: String, bcryptCost: Int, keepSession: Int64?, now: Date) throws {
        let n = try conn.execute("""
            UPDATE users SET password_hash = crypt(\(password), gen_salt('bf', \(Int32(bcryptCost)))),
                version = version + 1, updated_at = \(now)
            WHERE id = \(id)
            """)
        guard n == 1 else { throw KontorError.notFound("user \(id)") }
        try conn.execute("""
            UPDATE sessions SET revoked_at = \(now)
            WHERE user_id = \(id) AND revoked_at IS NULL AND id IS DISTINCT FROM \(keepSession)
            """)
    }

    /// Checks a password. Returns the user when it matches and the user is active.
    ///
    /// Every attempt costs one bcrypt round of `cost` (the configured cost), whether the
    /// login exists, has no password (robots) or not, so timing does not tell them apart.
    public func verify(login: String, password: String, cost: Int) throws -> User? {
        let row = try conn.query("""
            SELECT \(Self.columns),
                   (password_hash IS NOT NULL AND password_hash = crypt(\(password), password_hash)) AS ok
            FROM users WHERE lower(login) = lower(\(login)) AND password_hash IS NOT NULL
            """).first
        guard let row else {
            _ = try conn.query("SELECT crypt(\(password), gen_salt('bf', \(Int32(cost))))")
            return nil
        }
        guard try row.decode("ok", as: Bool.self) else { return nil }
        let u = try Self.user(row)
        return u.active ? u : nil
    }

    /// Serialises login attempts for one login and one peer address until the end of
    /// the transaction, so that counting failures, checking and recording the failure
    /// cannot be raced by parallel attempts. Takes the login's lock first, then the
    /// peer's (one order everywhere: no deadlock). The locks are `AppLocks` buckets
    /// (`auth.login:<n>`, `auth.peer:<n>`), which nobody outside Kontor can hold and
    /// which names an attacker makes up cannot multiply.
    public func lockLoginAttempts(login: String, peer: String) throws {
        let locks = AppLocks(conn)
        try locks.lock("auth.login", bucketOf: login.lowercased())
        try locks.lock("auth.peer", bucketOf: peer)
    }

    // MARK: - failed logins

    /// Counts failures in the window for the login and for the peer.
    public func recentFailures(login: String, peer: String, since: Date) throws -> (login: Int, peer: Int) {
        let r = try conn.query("""
            SELECT (SELECT count(*) FROM login_failures WHERE lower(login) = lower(\(login)) AND at > \(since)) AS by_login,
                   (SELECT count(*) FROM login_failures WHERE peer = \(peer) AND at > \(since)) AS by_peer
            """).one()
        return (try r.decode("by_login"), try r.decode("by_peer"))
    }

    public func recordFailure(login: String, peer: String, now: Date) throws {
        try conn.execute("INSERT INTO login_failures (login, peer, at) VALUES (\(login), \(peer), \(now))")
        // Keep the table small: forget failures older than a day.
        try conn.execute("DELETE FROM login_failures WHERE at < \(now.addingTimeInterval(-86_400))")
    }

    public func clearFailures(login: String) throws {
        try conn.execute("DELETE FROM login_failures WHERE lower(login) = lower(\(login))")
    }

    // MARK: - sessions

    /// Stores a new session for `token` (only its SHA-256 is kept). Returns its id.
    public func createSession(userID: Int64, token: String, peer: String?, expiresAt: Date, now: Date) throws -> Int64 {
        try conn.query("""
            INSERT INTO sessions (user_id, token_hash, peer, created_at, expires_at, last_used_at)
            VALUES (\(userID), digest(\(token), 'sha256'), \(peer), \(now), \(expiresAt), \(now))
            RETURNING id
            """).one().decode("id")
    }

    /// The live session for a token: its id, user and expiry.
    public func findSession(token: String, now: Date) throws -> (id: Int64, user: User, expiresAt: Date)? {
        guard let r = try conn.query("""
            SELECT s.id AS session_id, s.expires_at AS session_expires_at, \(Self.prefixed("u"))
            FROM sessions s JOIN users u ON u.id = s.user_id
            WHERE s.token_hash = digest(\(token), 'sha256') AND s.revoked_at IS NULL AND s.expires_at > \(now)
            """).first else { return nil }
        return (try r.decode("session_id"), try Self.user(r), try r.decode("session_expires_at"))
    }

    /// The user behind a live session id and the session's expiry, or nil when revoked
    /// or expired.
    public func sessionUser(sessionID: Int64, now: Date) throws -> (user: User, expiresAt: Date)? {
        guard let r = try conn.query("""
            SELECT s.expires_at AS session_expires_at, \(Self.prefixed("u")) FROM sessions s JOIN users u ON u.id = s.user_id
            WHERE s.id = \(sessionID) AND s.revoked_at IS NULL AND s.expires_at > \(now)
            """).first else { return nil }
        return (try Self.user(r), try r.decode("session_expires_at"))
    }

    public func touchSession(id: Int64, now: Date) throws {
        try conn.execute("UPDATE sessions SET last_used_at = \(now) WHERE id = \(id)")
    }

    public func revokeSession(id: Int64, now: Date) throws {
        try conn.execute("UPDATE sessions SET revoked_at = \(now) WHERE id = \(id) AND revoked_at IS NULL")
    }

    public func revokeAllSessions(userID: Int64, now: Date) throws {
        try conn.execute("UPDATE sessions SET revoked_at = \(now) WHERE user_id = \(userID) AND revoked_at IS NULL")
    }

    // MARK: - robot tokens

    /// A robot token record (the token itself is shown once and never stored).
    public struct RobotToken: Sendable, Codable {
        public var id: Int64
        public var userID: Int64
        public var label: String
        public var createdAt: Date
        public var lastUsedAt: Date?
        public var revokedAt: Date?
    }

    static func robotToken(_ r: PostgresRow) throws -> RobotToken {
        RobotToken(id: try r.decode("id"), userID: try r.decode("user_id"), label: try r.decode("label"),
                   createdAt: try r.decode("created_at"), lastUsedAt: try r.decode("last_used_at", as: Date?.self),
                   revokedAt: try r.decode("revoked_at", as: Date?.self))
    }

    public func createRobotToken(userID: Int64, label: String, token: String, createdBy: Int64, now: Date) throws -> RobotToken {
        try Self.robotToken(conn.query("""
            INSERT INTO robot_tokens (user_id, label, token_hash, created_by, created_at)
            VALUES (\(userID), \(label), digest(\(token), 'sha256'), \(createdBy), \(now))
            RETURNING id, user_id, label, created_at, last_used_at, revoked_at
            """).one())
    }

    public func revokeRobotToken(id: Int64, now: Date) throws -> Bool {
        try conn.execute("UPDATE robot_tokens SET revoked_at = \(now) WHERE id = \(id) AND revoked_at IS NULL") == 1
    }

    public func robotTokens(userID: Int64?) throws -> [RobotToken] {
        try conn.query("""
            SELECT id, user_id, label, created_at, last_used_at, revoked_at FROM robot_tokens
            WHERE \(userID)::bigint IS NULL OR user_id = \(userID) ORDER BY id
            """).map(Self.robotToken)
    }

    /// The robot behind a live token.
    public func findRobotToken(token: String) throws -> (id: Int64, user: User)? {
        guard let r = try conn.query("""
            SELECT t.id AS token_id, \(Self.prefixed("u"))
            FROM robot_tokens t JOIN users u ON u.id = t.user_id
            WHERE t.token_hash = digest(\(token), 'sha256') AND t.revoked_at IS NULL AND u.role = 'robot'
            """).first else { return nil }
        return (try r.decode("token_id"), try Self.user(r))
    }

    public func robotTokenUser(tokenID: Int64) throws -> User? {
        try conn.query("""
            SELECT \(Self.prefixed("u")) FROM robot_tokens t JOIN users u ON u.id = t.user_id
            WHERE t.id = \(tokenID) AND t.revoked_at IS NULL AND u.role = 'robot'
            """).first.map(Self.user)
    }

    public func touchRobotToken(id: Int64, now: Date) throws {
        try conn.execute("UPDATE robot_tokens SET last_used_at = \(now) WHERE id = \(id)")
    }

    static func prefixed(_ alias: String) -> SQL {
        SQL(unsafeSQL: ["id", "login", "full_name", "role", "department", "email", "active", "version", "created_at", "updated_at"]
            .map { "\(alias).\($0)" }.joined(separator: ", "))
    }

    /// True when no user exists yet (a fresh database).
    public func isEmpty() throws -> Bool {
        try conn.query("SELECT NOT EXISTS (SELECT 1 FROM users) AS empty").one().decode("empty")
    }
}
