import Foundation
import KontorDomain
import Postgres

// Reads and locks for `contact.import` (issue 7): which existing records an imported row
// names, whoever owns them. The import decides what to do with them (and whether the
// caller may know about them); these functions only look, so they see every live record
// and say, through `visible`, whether the caller's `Visibility` covers it.

/// A live record holding something an imported row brings, whoever owns it.
public struct RecordHolder: Sendable, Equatable {
    public var id: Int64
    public var ownerID: Int64?
    public var ownerName: String?
    /// Whether the caller's visibility covers it.
    public var visible: Bool

    public init(id: Int64, ownerID: Int64?, ownerName: String?, visible: Bool) {
        self.id = id; self.ownerID = ownerID; self.ownerName = ownerName; self.visible = visible
    }
}

/// One unique key of a contact, as an imported row brings it.
public enum ContactKey: Sendable, Equatable {
    /// A phone line: E.164 plus extension; a number that could not be read is matched by
    /// its digits among stored numbers that could not be read either
    /// (`ContactKey.unreadDigitsMinimum` digits or more, else it is no key).
    case phone(PhoneEntry)
    case email(EmailEntry)
    case messenger(ContactMessenger)

    /// Fewer digits than this in a number that could not be read identify nobody.
    public static let unreadDigitsMinimum = 5

    /// Whether the key can find a contact at all (see `phone`).
    public var isUsable: Bool {
        if case .phone(let p) = self, p.normalized.e164 == nil { return p.normalized.searchKey.count >= Self.unreadDigitsMinimum }
        return true
    }

    /// Whether the database enforces it as unique among live contacts (parsed phones,
    /// e-mails, messenger accounts). Numbers that could not be read are not.
    public var isUnique: Bool {
        if case .phone(let p) = self { return p.normalized.e164 != nil }
        return true
    }

    /// How a person reads it: `the phone +380441234567`, `the e-mail a@b.ua`.
    public var description: String {
        switch self {
        case .phone(let p):
            let ext = p.normalized.extensionNumber.map { " ext. \($0)" } ?? ""
            return "the phone " + (p.normalized.e164.map { $0 + ext } ?? "\"\(p.written)\"")
        case .email(let e): return "the e-mail \(e.address.normalized)"
        case .messenger(let m): return "the \(m.kind.rawValue) account \(m.handle.map { "@" + $0 } ?? m.externalID ?? "")"
        }
    }
}

/// A contact that holds one of a row's keys.
public struct ContactKeyMatch: Sendable, Equatable {
    public var holder: RecordHolder
    /// The row's field that matched (`phones[0]`, `emails[1]`, `telegram`).
    public var field: String
    public var key: ContactKey
}

/// A company an imported row names.
public struct CompanyHolder: Sendable, Equatable {
    public var holder: RecordHolder
    public var name: String
    public var deleted: Bool
}

extension ContactRepository {
    static func holderSelect(_ vis: Visibility) -> SQL {
        """
        SELECT c.id, c.owner_id, u.full_name AS owner_name, \(vis.predicate(owner: "c.owner_id")) AS visible
        FROM contacts c LEFT JOIN users u ON u.id = c.owner_id
        """
    }

    static func holder(_ r: PostgresRow) throws -> RecordHolder {
        RecordHolder(id: try r.decode("id"), ownerID: try r.decode("owner_id", as: Int64?.self),
                     ownerName: try r.decode("owner_name", as: String?.self), visible: try r.decode("visible"))
    }

    /// Every live contact holding one of `keys` (whoever owns it), in the order of the
    /// keys; a contact holding several keys is listed for each. Keys that are not
    /// `isUsable` find nothing.
    public func holders(of keys: [(key: ContactKey, field: String)], visibility: Visibility) throws -> [ContactKeyMatch] {
        var out: [ContactKeyMatch] = []
        for (key, field) in keys where key.isUsable {
            let sub: SQL
            switch key {
            case .phone(let p):
                if let e164 = p.normalized.e164 {
                    sub = """
                        SELECT contact_id FROM contact_phones
                        WHERE live AND e164 = \(e164) AND coalesce(extension, '') = \(p.normalized.extensionNumber ?? "")
                        """
                } else {
                    sub = "SELECT contact_id FROM contact_phones WHERE live AND e164 IS NULL AND search_key = \(p.normalized.searchKey)"
                }
            case .email(let e):
                sub = "SELECT contact_id FROM contact_emails WHERE live AND normalized = \(e.address.normalized)"
            case .messenger(let m):
                sub = """
                    SELECT contact_id FROM contact_messengers WHERE live AND kind = \(m.kind)
                    AND (external_id = \(m.externalID) OR handle = \(m.handle))
                    """
            }
            for r in try conn.query("\(Self.holderSelect(visibility)) WHERE c.deleted_at IS NULL AND c.id IN (\(sub)) ORDER BY c.id") {
                out.append(ContactKeyMatch(holder: try Self.holder(r), field: field, key: key))
            }
        }
        return out
    }

    /// Live contacts the caller may see whose name equals `name` (compared by
    /// `records_name_key`: case, quotes and spacing ignored) and that are linked to
    /// `companyID`, or, when it is nil, to no company while naming `organization`
    /// (compared the same way; nil = none). Lowest id first.
    public func sameName(_ name: String, companyID: Int64?, organization: String?, visibility: Visibility) throws -> [Int64] {
        try conn.query("""
            SELECT c.id FROM contacts c
            WHERE c.deleted_at IS NULL AND c.full_name IS NOT NULL
              AND records_name_key(c.full_name) = records_name_key(\(name))
              AND CASE WHEN \(companyID)::bigint IS NOT NULL THEN c.company_id = \(companyID)
                       ELSE c.company_id IS NULL
                            AND records_name_key(c.organization) IS NOT DISTINCT FROM records_name_key(\(organization)) END
              AND \(visibility.predicate(owner: "c.owner_id"))
            ORDER BY c.id
            """).map { try $0.decode("id") }
    }

    /// Whether the contact already has a comment with exactly this body (so that a
    /// repeated import does not repeat a note).
    public func hasComment(contactID: Int64, body: String) throws -> Bool {
        try conn.query("SELECT 1 FROM comments WHERE contact_id = \(contactID) AND body = \(body) LIMIT 1").count == 1
    }
}

extension CompanyRepository {
    static func companyHolder(_ r: PostgresRow) throws -> CompanyHolder {
        CompanyHolder(holder: RecordHolder(id: try r.decode("id"), ownerID: try r.decode("owner_id", as: Int64?.self),
                                           ownerName: try r.decode("owner_name", as: String?.self), visible: try r.decode("visible")),
                      name: try r.decode("name"), deleted: try r.decode("deleted"))
    }

    static func companyHolderSelect(_ vis: Visibility) -> SQL {
        """
        SELECT co.id, co.name, co.owner_id, u.full_name AS owner_name, co.deleted_at IS NOT NULL AS deleted,
               \(vis.predicate(owner: "co.owner_id")) AS visible
        FROM companies co LEFT JOIN users u ON u.id = co.owner_id
        """
    }

    /// The company (live or deleted, whoever owns it) of the counterparty with this
    /// EDRPOU code, nil when no counterparty has it.
    public func holder(edrpou: String, visibility: Visibility) throws -> CompanyHolder? {
        try conn.query("""
            \(Self.companyHolderSelect(visibility))
            WHERE co.id = (SELECT company_id FROM counterparties WHERE edrpou = \(edrpou))
            """).first.map(Self.companyHolder)
    }

    /// Live companies named `name` (compared by `records_name_key`: case, quotes and
    /// spacing ignored), whoever owns them; lowest id first.
    public func holders(named name: String, visibility: Visibility) throws -> [CompanyHolder] {
        try conn.query("""
            \(Self.companyHolderSelect(visibility))
            WHERE co.deleted_at IS NULL AND records_name_key(co.name) = records_name_key(\(name))
            ORDER BY co.id
            """).map(Self.companyHolder)
    }
}

/// Transaction-scoped locks on text keys (`AppLocks`, keyed by the MD5 of the text), for
/// uniqueness the schema cannot state: a company's name, a number that could not be
/// read, a person known only by name. Lock, look, then create: a second transaction
/// locking the same key waits until the first ends and then sees what it committed.
/// Held until the transaction ends. Hash collisions only serialise more.
public struct RecordLocks {
    let conn: PostgresConnection

    public init(_ conn: PostgresConnection) { self.conn = conn }

    /// Locks `key` within `namespace` (`company.edrpou`, `contact.digits`, ...).
    public func lock(_ namespace: String, _ key: String) throws {
        try AppLocks(conn).lock("import." + namespace, hashing: key)
    }

    /// Locks a name as `records_name_key` compares names.
    public func lock(_ namespace: String, name: String) throws {
        let key: String = try conn.query("SELECT coalesce(records_name_key(\(name)), '') AS k").one().decode("k")
        try lock(namespace, key)
    }
}
