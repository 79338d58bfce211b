import Foundation
import KontorDomain

/// Session, user and robot-token methods (issue 2).
public enum SessionMethods {
    public static let catalogue: [MethodInfo] = [
        MethodInfo("ping", "Liveness check; no login needed."),
        MethodInfo("server.info", "Server name, version, protocol version, business time zone; no login needed."),
        MethodInfo("auth.login", "Log in with login and password; returns a session token to resume with.",
                   params: ["login: string", "password: string"]),
        MethodInfo("auth.token", "Log a robot in with its token.", params: ["token: string"]),
        MethodInfo("auth.resume", "Bind this connection to an existing session token.", params: ["session_token: string"]),
        MethodInfo("auth.logout", "End the session (the token stops working everywhere)."),
        MethodInfo("auth.whoami", "The logged-in user."),
        MethodInfo("auth.change_password", "Change your own password.", params: ["current_password: string", "new_password: string"]),
        MethodInfo("user.create", "Create a user (admins: user/admin; tech admins: any role).",
                   params: ["login: string", "full_name: string", "role: user|admin|tech_admin|robot", "department: development|service?", "email: string?", "password: string?"]),
        MethodInfo("user.list", "List users.", params: ["role: string?", "department: string?", "active: bool?"]),
        MethodInfo("user.get", "One user.", params: ["id: int"]),
        MethodInfo("user.update", "Change a user's name, role, department, e-mail or active flag.",
                   params: ["id: int", "version: int", "full_name: string?", "role: string?", "department: string?", "email: string?", "active: bool?"]),
        MethodInfo("user.set_password", "Set a user's password (ends their sessions).", params: ["id: int", "password: string"]),
        MethodInfo("robot.token.create", "Issue a token for a robot user; the token is shown once.", params: ["user_id: int", "label: string"]),
        MethodInfo("robot.token.revoke", "Revoke a robot token.", params: ["id: int"]),
        MethodInfo("robot.token.list", "List robot tokens (never the tokens themselves).", params: ["user_id: int?"]),
    ]

    public struct PingResult: Codable, Sendable {
        public var pong: Bool
        public var time: Date
        public init(pong: Bool = true, time: Date) { self.pong = pong; self.time = time }
    }

    public struct ServerInfo: Codable, Sendable {
        public var name: String
        public var version: String
        /// Protocol revision; bumped only for incompatible changes.
        public var protocolVersion: Int
        public var instance: String
        /// IANA zone in which days and months are counted.
        public var timeZone: String
        public var phoneRegion: String
        public var time: Date
        public init(name: String, version: String, protocolVersion: Int, instance: String, timeZone: String, phoneRegion: String, time: Date) {
            self.name = name; self.version = version; self.protocolVersion = protocolVersion; self.instance = instance
            self.timeZone = timeZone; self.phoneRegion = phoneRegion; self.time = time
        }
    }

    public struct LoginParams: Codable, Sendable {
        public var login: String
        public var password: String
        public init(login: String, password: String) { self.login = login; self.password = password }
    }

    public struct LoginResult: Codable, Sendable {
        /// Secret: resume with it (`auth.resume`); never logged.
        public var sessionToken: String
        public var expiresAt: Date
        public var user: User
        public init(sessionToken: String, expiresAt: Date, user: User) { self.sessionToken = sessionToken; self.expiresAt = expiresAt; self.user = user }
    }

    public struct TokenParams: Codable, Sendable {
        public var token: String
        public init(token: String) { self.token = token }
    }

    public struct ResumeParams: Codable, Sendable {
        public var sessionToken: String
        public init(sessionToken: String) { self.sessionToken = sessionToken }
    }

    public struct WhoAmI: Codable, Sendable {
        public var user: User
        public var expiresAt: Date?
        public init(user: User, expiresAt: Date?) { self.user = user; self.expiresAt = expiresAt }
    }

    public struct ChangePasswordParams: Codable, Sendable {
        public var currentPassword: String
        public var newPassword: String
        public init(currentPassword: String, newPassword: String) { self.currentPassword = currentPassword; self.newPassword = newPassword }
    }

    public struct UserCreateParams: Codable, Sendable {
        public var login: String
        public var fullName: String
        public var role: Role
        public var department: Department?
        public var email: String?
        public var password: String?
        public init(login: String, fullName: String, role: Role, department: Department? = nil, email: String? = nil, password: String? = nil) {
            self.login = login; self.fullName = fullName; self.role = role; self.department = department; self.email = email; self.password = password
        }
    }

    public struct UserListParams: Codable, Sendable {
        public var role: Role?
        public var department: Department?
        public var active: Bool?
        public init(role: Role? = nil, department: Department? = nil, active: Bool? = nil) { self.role = role; self.department = department; self.active = active }
    }

    public struct UserList: Codable, Sendable {
        public var users: [User]
        public init(users: [User]) { self.users = users }
    }

    public struct IDParams: Codable, Sendable {
        public var id: Int64
        public init(id: Int64) { self.id = id }
    }

    /// `user.update`: absent fields stay; `department`/`email` given as null are cleared.
    public struct UserUpdateParams: Codable, Sendable {
        public var id: Int64
        public var version: Int
        public var fullName: String?
        public var role: Role?
        public var department: Patch<Department>
        public var email: Patch<String>
        public var active: Bool?

        public init(id: Int64, version: Int, fullName: String? = nil, role: Role? = nil, department: Patch<Department> = .absent,
                    email: Patch<String> = .absent, active: Bool? = nil) {
            self.id = id; self.version = version; self.fullName = fullName; self.role = role
            self.department = department; self.email = email; self.active = active
        }

        enum CodingKeys: String, CodingKey { case id, version, fullName, role, department, email, active }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            id = try c.decode(Int64.self, forKey: .id)
            version = try c.decode(Int.self, forKey: .version)
            fullName = try c.decodeIfPresent(String.self, forKey: .fullName)
            role = try c.decodeIfPresent(Role.self, forKey: .role)
            department = try Patch(c, .department)
            email = try Patch(c, .email)
            active = try c.decodeIfPresent(Bool.self, forKey: .active)
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(version, forKey: .version)
            if let fullName { try c.encode(fullName, forKey: .fullName) }
            if let role { try c.encode(role, forKey: .role) }
            try department.encode(into: &c, .department)
            try email.encode(into: &c, .email)
            if let active { try c.encode(active, forKey: .active) }
        }
    }

    public struct SetPasswordParams: Codable, Sendable {
        public var id: Int64
        public var password: String
        public init(id: Int64, password: String) { self.id = id; self.password = password }
    }

    public struct RobotTokenCreateParams: Codable, Sendable {
        public var userID: Int64
        public var label: String
        public init(userID: Int64, label: String) { self.userID = userID; self.label = label }
    }

    public struct RobotTokenCreated: Codable, Sendable {
        public var id: Int64
        public var userID: Int64
        public var label: String
        /// Shown once; only its SHA-256 is stored.
        public var token: String
        public var createdAt: Date
        public init(id: Int64, userID: Int64, label: String, token: String, createdAt: Date) {
            self.id = id; self.userID = userID; self.label = label; self.token = token; self.createdAt = createdAt
        }
    }

    public struct RobotTokenListParams: Codable, Sendable {
        public var userID: Int64?
        public init(userID: Int64? = nil) { self.userID = userID }
    }

    public struct RobotTokenInfo: Codable, Sendable {
        public var id: Int64
        public var userID: Int64
        public var label: String
        public var createdAt: Date
        public var lastUsedAt: Date?
        public var revokedAt: Date?
        public init(id: Int64, userID: Int64, label: String, createdAt: Date, lastUsedAt: Date?, revokedAt: Date?) {
            self.id = id; self.userID = userID; self.label = label; self.createdAt = createdAt; self.lastUsedAt = lastUsedAt; self.revokedAt = revokedAt
        }
    }

    public struct RobotTokenList: Codable, Sendable {
        public var tokens: [RobotTokenInfo]
        public init(tokens: [RobotTokenInfo]) { self.tokens = tokens }
    }
}

/// A field of an update: absent (leave it), null (clear it) or a new value.
public enum Patch<T: Codable & Sendable>: Sendable {
    case absent
    case clear
    case set(T)

    /// Reads `key` from a keyed container: missing → absent, null → clear.
    public init<K: CodingKey>(_ c: KeyedDecodingContainer<K>, _ key: K) throws {
        if !c.contains(key) { self = .absent } else if try c.decodeNil(forKey: key) { self = .clear } else { self = .set(try c.decode(T.self, forKey: key)) }
    }

    public func encode<K: CodingKey>(into c: inout KeyedEncodingContainer<K>, _ key: K) throws {
        switch self {
        case .absent: break
        case .clear: try c.encodeNil(forKey: key)
        case .set(let v): try c.encode(v, forKey: key)
        }
    }

    /// nil = leave; .some(nil) = clear; .some(v) = set.
    public var change: T?? {
        switch self {
        case .absent: return nil
        case .clear: return .some(nil)
        case .set(let v): return .some(v)
        }
    }

    public var isAbsent: Bool { if case .absent = self { return true } else { return false } }
}
