/// The stable error kinds every layer reports, as `error.data.kind` on the wire.
///
/// Source: `docs/PROTOCOL.md` (error kinds table). Codes follow JSON-RPC 2.0 for the
/// first five; the rest are ours, in JSON-RPC's server-error range convention.
public enum ErrorKind: String, Sendable, CaseIterable, Codable {
    case parseError = "parse_error"
    case invalidRequest = "invalid_request"
    case methodNotFound = "method_not_found"
    case invalidParams = "invalid_params"
    case `internal` = "internal"
    case unauthenticated
    case forbidden
    case notFound = "not_found"
    case conflict
    case duplicate
    case invalidTransition = "invalid_transition"
    case reasonRequired = "reason_required"
    case rateLimited = "rate_limited"
    case unavailable

    /// The JSON-RPC `error.code` for this kind.
    public var code: Int {
        switch self {
        case .parseError: return -32700
        case .invalidRequest: return -32600
        case .methodNotFound: return -32601
        case .invalidParams: return -32602
        case .internal: return -32603
        case .unauthenticated: return -32001
        case .forbidden: return -32003
        case .notFound: return -32004
        case .conflict: return -32009
        case .duplicate: return -32010
        case .invalidTransition: return -32011
        case .reasonRequired: return -32012
        case .rateLimited: return -32029
        case .unavailable: return -32050
        }
    }

    public init?(code: Int) {
        guard let k = ErrorKind.allCases.first(where: { $0.code == code }) else { return nil }
        self = k
    }
}

/// A typed failure any layer can throw; the server turns it into a JSON-RPC error.
///
/// `data` carries the kind's extra fields (`field` for `invalid_params`,
/// `existing_id` for `duplicate`, `current_version` for `conflict`, ...), as plain
/// string/number values.
public struct KontorError: Error, Sendable, CustomStringConvertible {
    public var kind: ErrorKind
    public var message: String
    public var data: [String: ErrorDatum]

    public init(_ kind: ErrorKind, _ message: String, data: [String: ErrorDatum] = [:]) {
        self.kind = kind
        self.message = message
        self.data = data
    }

    public var description: String { "\(kind.rawValue): \(message)" }

    /// A missing or ill-typed parameter; `field` is its path (`phones[1].number`).
    public static func invalidParams(_ field: String, _ message: String) -> KontorError {
        KontorError(.invalidParams, message, data: ["field": .string(field)])
    }

    public static func notFound(_ what: String) -> KontorError {
        KontorError(.notFound, "\(what) not found")
    }

    public static func forbidden(_ message: String = "your role may not do this") -> KontorError {
        KontorError(.forbidden, message)
    }

    public static func conflict(currentVersion: Int) -> KontorError {
        KontorError(.conflict, "the record was changed by someone else; reload it (current version \(currentVersion))",
                    data: ["current_version": .int(currentVersion)])
    }

    public static func unavailable(_ message: String = "the database is unavailable; retry later") -> KontorError {
        KontorError(.unavailable, message)
    }
}

/// A scalar in `KontorError.data`.
public enum ErrorDatum: Sendable, Equatable, Codable, CustomStringConvertible {
    case string(String)
    case int(Int)
    case bool(Bool)

    public var description: String {
        switch self {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .bool(let b): return String(b)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .string(let s): try c.encode(s)
        case .int(let i): try c.encode(i)
        case .bool(let b): try c.encode(b)
        }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int.self) { self = .int(i) }
        else { self = .string(try c.decode(String.self)) }
    }
}
