import Foundation
import KontorDomain
import Postgres

extension Role: PostgresCodable {
    public var postgresText: String { rawValue }
    public init?(postgresText text: String) { self.init(rawValue: text) }
}

extension Department: PostgresCodable {
    public var postgresText: String { rawValue }
    public init?(postgresText text: String) { self.init(rawValue: text) }
}

/// `numeric(14,2)` ⇄ `Money` (exact, through the decimal text).
extension Money: PostgresCodable {
    public var postgresText: String { description }
    public static var postgresOID: UInt32 { PostgresOID.numeric }
    public init?(postgresText text: String) { self.init(text) }
}

/// Random tokens for sessions and robots: 32 bytes from the system CSPRNG
/// (`getrandom(2)` behind `SystemRandomNumberGenerator`), base64url without padding,
/// with a prefix that says what the token is.
public enum TokenGenerator {
    public static func make(prefix: String) -> String {
        var g = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: 32)
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255, using: &g) }
        let b64 = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return prefix + b64
    }
}
