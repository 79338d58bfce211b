import Crypto
import Foundation
import KontorProtocol

/// A payload the bridge cannot turn into an event: answered with HTTP 400 (webhooks) or
/// reported per record (files). Never spooled.
public struct PayloadError: Error, Sendable, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// What a provider payload becomes.
public enum ParseOutcome<T: Sendable>: Sendable {
    /// An event to ingest.
    case event(T)
    /// A well-formed payload that carries nothing to ingest (a Twilio `ringing`
    /// callback, a Viber `delivered` receipt, a Telegram `callback_query`): answered
    /// 2xx, nothing spooled. The string says what it was, for the counters and logs.
    case ignored(String)

    /// The event, or nil when the payload was ignored.
    public var event: T? {
        if case .event(let e) = self { return e }
        return nil
    }
}

enum Hashing {
    /// Lower-case hex SHA-256 of `bytes`.
    static func sha256Hex<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        TextDecoding.hex(Array(SHA256.hash(data: Array(bytes))))
    }
}

extension JSONValue {
    /// Parses a body as JSON, or throws a `PayloadError`.
    static func payload(_ bytes: [UInt8]) throws -> JSONValue {
        do { return try JSONValue.parse(bytes) } catch { throw PayloadError("the body is not JSON: \(error)") }
    }

    /// Form pairs as a flat JSON object (the last value of a repeated key wins).
    static func formObject(_ pairs: [(key: String, value: String)]) -> JSONValue {
        var o: [String: JSONValue] = [:]
        for (k, v) in pairs { o[k] = .string(v) }
        return .object(o)
    }
}

extension Array where Element == UInt8 {
    /// The first byte that is not ASCII whitespace (or a UTF-8 byte-order mark).
    var firstNonSpace: UInt8? {
        var i = 0
        if count >= 3, self[0] == 0xEF, self[1] == 0xBB, self[2] == 0xBF { i = 3 }
        while i < count {
            switch self[i] {
            case 0x20, 0x09, 0x0A, 0x0D: i += 1
            default: return self[i]
            }
        }
        return nil
    }
}
