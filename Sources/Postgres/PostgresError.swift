/// A PostgreSQL error condition code (SQLSTATE), five characters.
///
/// Source: PostgreSQL documentation, Appendix A "PostgreSQL Error Codes".
public struct SQLState: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The five-character code, e.g. `23505`.
    public let code: String

    public init(_ code: String) { self.code = code }
    public init(stringLiteral value: String) { self.code = value }

    public var description: String { code }

    /// The two-character class (e.g. `23` for integrity constraint violations).
    public var errorClass: Substring { code.prefix(2) }

    public static let uniqueViolation: SQLState = "23505"
    public static let foreignKeyViolation: SQLState = "23503"
    public static let notNullViolation: SQLState = "23502"
    public static let checkViolation: SQLState = "23514"
    public static let exclusionViolation: SQLState = "23P01"
    public static let serializationFailure: SQLState = "40001"
    public static let deadlockDetected: SQLState = "40P01"
    public static let lockNotAvailable: SQLState = "55P03"
    public static let queryCanceled: SQLState = "57014"
    public static let adminShutdown: SQLState = "57P01"
    public static let crashShutdown: SQLState = "57P02"
    public static let cannotConnectNow: SQLState = "57P03"
    public static let undefinedTable: SQLState = "42P01"
    public static let undefinedColumn: SQLState = "42703"
    public static let syntaxError: SQLState = "42601"
    public static let insufficientPrivilege: SQLState = "42501"
    public static let invalidTextRepresentation: SQLState = "22P02"
    public static let numericValueOutOfRange: SQLState = "22003"
    public static let stringDataRightTruncation: SQLState = "22001"
    public static let invalidDatetimeFormat: SQLState = "22007"
    public static let datetimeFieldOverflow: SQLState = "22008"
    public static let readOnlySQLTransaction: SQLState = "25006"
    public static let raiseException: SQLState = "P0001"

    /// True for class 08 (connection exception) and the shutdown codes of class 57.
    public var isConnectionLoss: Bool {
        errorClass == "08" || self == .adminShutdown || self == .crashShutdown || self == .cannotConnectNow
    }
}

/// Details PostgreSQL attaches to an error response (`PQresultErrorField`).
public struct PostgresServerError: Sendable, CustomStringConvertible {
    public let sqlState: SQLState
    public let severity: String
    public let message: String
    public let detail: String?
    public let hint: String?
    public let constraint: String?
    public let table: String?
    public let column: String?

    public var description: String {
        var s = "\(severity) \(sqlState): \(message)"
        if let detail { s += " (\(detail))" }
        return s
    }
}

/// Every failure the `Postgres` module reports.
public enum PostgresError: Error, Sendable, CustomStringConvertible {
    /// The database could not be reached (connect failed, connection lost, pool cannot
    /// open a connection). Safe to retry later. The message is libpq's.
    case unavailable(String)
    /// The connection was lost during `COMMIT`: the transaction may or may not have
    /// committed. Check before repeating a non-idempotent write.
    case commitOutcomeUnknown(String)
    /// No pooled connection became free within the pool's acquire timeout.
    case poolTimeout(seconds: Double)
    /// The pool was shut down.
    case poolClosed
    /// The server answered with an error (`ERROR`/`FATAL`), with its SQLSTATE.
    case server(PostgresServerError)
    /// A value could not be decoded as the requested Swift type.
    case decoding(column: String, type: String, value: String?)
    /// A column name that the result does not have.
    case noSuchColumn(String)
    /// The result had no row where exactly one was required.
    case noRows
    /// A libpq call failed in a way that is neither a server error nor a lost connection.
    case client(String)

    /// The SQLSTATE when this is a server error.
    public var sqlState: SQLState? {
        if case .server(let e) = self { return e.sqlState }
        return nil
    }

    public var description: String {
        switch self {
        case .unavailable(let m): return "database unavailable: \(m)"
        case .commitOutcomeUnknown(let m): return "connection lost during COMMIT, outcome unknown: \(m)"
        case .poolTimeout(let s): return "no database connection became free within \(s) s"
        case .poolClosed: return "the connection pool is shut down"
        case .server(let e): return e.description
        case .decoding(let c, let t, let v): return "cannot decode column \(c) as \(t) from \(v.map { "'\($0)'" } ?? "NULL")"
        case .noSuchColumn(let c): return "no column named \(c) in the result"
        case .noRows: return "the query returned no rows"
        case .client(let m): return "libpq: \(m)"
        }
    }
}
