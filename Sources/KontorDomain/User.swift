import Foundation

/// A person or robot that logs in. Never carries the password hash.
///
/// Wire shape (`user.get`): `{"id":3,"login":"olena","full_name":"Olena Kovalenko",
/// "role":"user","department":"development","email":null,"active":true,"version":1,
/// "created_at":"...","updated_at":"..."}`.
public struct User: Sendable, Codable, Equatable {
    public var id: Int64
    public var login: String
    public var fullName: String
    public var role: Role
    /// The sales department; nil for admins, tech admins and robots outside Sales.
    public var department: Department?
    public var email: String?
    public var active: Bool
    /// Optimistic-concurrency version; `user.update` must send the one it read.
    public var version: Int
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: Int64, login: String, fullName: String, role: Role, department: Department?, email: String?,
                active: Bool, version: Int, createdAt: Date, updatedAt: Date) {
        self.id = id; self.login = login; self.fullName = fullName; self.role = role
        self.department = department; self.email = email; self.active = active; self.version = version
        self.createdAt = createdAt; self.updatedAt = updatedAt
    }
}

/// Who is acting in a request: the logged-in user as of this request.
public struct Principal: Sendable, Equatable {
    public var userID: Int64
    public var login: String
    public var fullName: String
    public var role: Role
    public var department: Department?

    public init(userID: Int64, login: String, fullName: String, role: Role, department: Department?) {
        self.userID = userID; self.login = login; self.fullName = fullName; self.role = role; self.department = department
    }

    public init(_ u: User) {
        self.init(userID: u.id, login: u.login, fullName: u.fullName, role: u.role, department: u.department)
    }
}

/// Rules for logins and passwords.
public enum Credentials {
    /// Logins: 2–64 characters of `A-Z a-z 0-9 . _ @ -`; compared case-insensitively.
    public static func validateLogin(_ login: String) -> String? {
        let ok = (2...64).contains(login.count) && login.unicodeScalars.allSatisfy {
            ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || "._@-".unicodeScalars.contains($0)
        }
        return ok ? nil : "a login is 2 to 64 characters of letters, digits, '.', '_', '@' or '-'"
    }

    /// Passwords: at least 8 characters, at most 200 (bcrypt reads 72 bytes; longer
    /// passphrases are still accepted whole by our length rule), no NUL.
    public static func validatePassword(_ password: String) -> String? {
        if password.count < 8 { return "a password must have at least 8 characters" }
        if password.utf8.count > 200 { return "a password must have at most 200 bytes" }
        if password.utf8.contains(0) { return "a password must not contain NUL" }
        return nil
    }
}

/// Who may manage which accounts. The two kinds of administrators manage separate
/// worlds, so that neither can reach data it may not see by impersonation:
/// * `admin` (head of sales) creates, edits and resets passwords of `user` and `admin`
///   accounts;
/// * `tech_admin` does the same for `tech_admin` and `robot` accounts, and may only
///   activate or deactivate sales accounts (an employee leaving): giving a tech admin a
///   sales account's password or an admin role would hand them sales data.
public enum UserAdministration {
    /// Whether `actor` may give an account the role `role` (create or change role).
    public static func mayAssign(_ role: Role, by actor: Role) -> Bool {
        switch actor {
        case .admin: return role == .user || role == .admin
        case .techAdmin: return role == .techAdmin || role == .robot
        default: return false
        }
    }

    /// Whether `actor` may edit an account of role `target` beyond its `active` flag
    /// (name, department, e-mail, role, password).
    public static func mayManage(_ target: Role, by actor: Role) -> Bool {
        mayAssign(target, by: actor)
    }

    /// Whether `actor` may activate or deactivate an account of role `target`.
    public static func mayToggleActive(_ target: Role, by actor: Role) -> Bool {
        actor == .techAdmin || mayManage(target, by: actor)
    }
}
