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
