import Foundation
import KontorDomain
import Postgres

extension ContactGroup: PostgresCodable {
    public var postgresText: String { rawValue }
    public init?(postgresText text: String) { self.init(rawValue: text) }
}

extension ContactSource: PostgresCodable {
    public var postgresText: String { rawValue }
    public init?(postgresText text: String) { self.init(rawValue: text) }
}

extension MessengerKind: PostgresCodable {
    public var postgresText: String { rawValue }
    public init?(postgresText text: String) { self.init(rawValue: text) }
}

extension Visibility {
    /// The SQL form of the rule: a boolean expression that is true when the record whose
    /// owner column is `owner` (e.g. `"c.owner_id"`, a trusted column reference) is
    /// visible. Every read of sales records ANDs this into its WHERE clause; nothing else
    /// decides row visibility.
    public func predicate(owner: SQL) -> SQL {
        switch self {
        case .everything: return "TRUE"
        case .nothing: return "FALSE"
        case .unownedOnly: return "(\(owner) IS NULL)"
        case .department(let d):
            return "(\(owner) IS NULL OR \(owner) IN (SELECT vis_u.id FROM users vis_u WHERE vis_u.department = \(d)))"
        }
    }

    /// The rule stored with something that acts later on the caller's behalf (a response
    /// kept in `contact_responses` answers inquiries recorded after it): `all` for
    /// `everything`, else the department (nil: unowned records only). `nothing` is stored
    /// as "unowned only"; callers that see nothing do not act at all.
    public var stored: (all: Bool, department: Department?) {
        switch self {
        case .everything: return (true, nil)
        case .department(let d): return (false, d)
        case .unownedOnly, .nothing: return (false, nil)
        }
    }

    /// The SQL form of a stored rule (`stored`), read from the columns `all` and
    /// `department` (trusted column references): the same test as `predicate(owner:)`.
    public static func storedPredicate(all: SQL, department: SQL, owner: SQL) -> SQL {
        """
        (\(all) OR \(owner) IS NULL
         OR (\(department) IS NOT NULL AND \(owner) IN (SELECT vis_u.id FROM users vis_u WHERE vis_u.department = \(department))))
        """
    }
}

/// Who changes a record, when and through which method: passed to every repository
/// method that writes, which records it in the audit log in the same transaction.
public struct ChangeStamp: Sendable {
    /// The acting user (nil for the system itself, e.g. a migration or a schedule).
    public var actorID: Int64?
    /// The protocol method (`contact.update`) or job name.
    public var method: String
    /// The server clock's now for this request (`RequestContext.now`).
    public var at: Date
    /// The request's correlation id, for matching audit rows to log lines.
    public var requestID: String?

    public init(actorID: Int64?, method: String, at: Date, requestID: String? = nil) {
        self.actorID = actorID; self.method = method; self.at = at; self.requestID = requestID
    }
}

/// An opaque position in a list sorted by (timestamp DESC, id DESC): keyset pagination.
///
/// The timestamp is kept as PostgreSQL printed it (microseconds exact) and sent back as
/// text, so no row is skipped or repeated by float rounding. The token is base64url of
/// `k1|<timestamptz>|<id>`.
public struct KeysetCursor: Sendable, Equatable {
    /// `timestamptz` text as PostgreSQL printed it.
    public let at: String
    public let id: Int64

    public init(at: String, id: Int64) { self.at = at; self.id = id }

    /// Parses a token; nil when it is not one of ours.
    public init?(token: String) {
        var b64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b64.count % 4 != 0 { b64 += "=" }
        guard token.count <= 200, let data = Data(base64Encoded: b64), let text = String(data: data, encoding: .utf8) else { return nil }
        let parts = text.split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "k1", PostgresTimestamp.parse(String(parts[1])) != nil, let id = Int64(parts[2]) else { return nil }
        self.init(at: String(parts[1]), id: id)
    }

    /// The opaque token for clients.
    public var token: String {
        Data("k1|\(at)|\(id)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// `(<at column>, <id column>) < (cursor)`: the rows after this position in DESC order.
    func after(at atColumn: SQL, id idColumn: SQL) -> SQL {
        "(\(atColumn), \(idColumn)) < (\(at)::timestamptz, \(id))"
    }
}

/// One page of a keyset-paginated list.
public struct Page<T: Sendable>: Sendable {
    public var items: [T]
    /// Rows matching the filter that the caller may see, over all pages.
    public var total: Int
    /// Where the next page starts; nil on the last page.
    public var next: KeysetCursor?
    public init(items: [T], total: Int, next: KeysetCursor?) { self.items = items; self.total = total; self.next = next }
}

extension PostgresConnection {
    /// Runs `body` in a read-only REPEATABLE READ transaction: every statement sees one
    /// snapshot, so a list's total and its page agree.
    public func snapshot<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        try transaction(isolation: "REPEATABLE READ, READ ONLY", body)
    }
}

/// LIKE pattern text: `%`, `_` and `\` escaped (the default escape character is `\`).
func likeEscaped(_ s: String) -> String {
    var out = ""
    for ch in s {
        if ch == "%" || ch == "_" || ch == "\\" { out.append("\\") }
        out.append(ch)
    }
    return out
}

/// Runs `body` under a savepoint; a unique violation inside it is rolled back to the
/// savepoint and turned into what `explain` throws (the transaction stays usable for
/// the explaining query, which then sees the committed winner of a race).
func guardingUnique<T>(_ conn: PostgresConnection, _ body: () throws -> T, explain: () throws -> KontorError) throws -> T {
    try conn.execute("SAVEPOINT records_unique")
    do {
        let value = try body()
        try conn.execute("RELEASE SAVEPOINT records_unique")
        return value
    } catch let e as PostgresError where e.sqlState == .uniqueViolation {
        try conn.execute("ROLLBACK TO SAVEPOINT records_unique")
        throw try explain()
    }
}

/// `duplicate` with `existing_id`, `field` and, when the existing record has an owner,
/// `owner_id` and `owner_name` (so a caller who cannot see it knows whom to ask).
func duplicateError(_ what: String, field: String, existingID: Int64, ownerID: Int64?, ownerName: String?) -> KontorError {
    var data: [String: ErrorDatum] = ["existing_id": .int(Int(existingID)), "field": .string(field)]
    var message = "\(what) already belongs to record \(existingID)"
    if let ownerID { data["owner_id"] = .int(Int(ownerID)) }
    if let ownerName {
        data["owner_name"] = .string(ownerName)
        message += " (owner: \(ownerName))"
    } else {
        message += " (no owner)"
    }
    return KontorError(.duplicate, message, data: data)
}
