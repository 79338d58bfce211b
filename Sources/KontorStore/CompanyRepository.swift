import Foundation
import KontorDomain
import Postgres

/// A new company, cleaned (see `RecordInput`).
public struct CompanyDraft: Sendable {
    public var name: String
    public var website: String?
    public var address: String?
    public var notes: String?
    public var ownerID: Int64?
    public init(name: String, website: String? = nil, address: String? = nil, notes: String? = nil, ownerID: Int64?) {
        self.name = name; self.website = website; self.address = address; self.notes = notes; self.ownerID = ownerID
    }
}

/// Changes to a company: nil = leave; `.some(nil)` = clear.
public struct CompanyChanges: Sendable {
    public var name: String?
    public var website: String??
    public var address: String??
    public var notes: String??
    public var ownerID: Int64??
    public init(name: String? = nil, website: String?? = nil, address: String?? = nil, notes: String?? = nil, ownerID: Int64?? = nil) {
        self.name = name; self.website = website; self.address = address; self.notes = notes; self.ownerID = ownerID
    }
}

/// `company.list` filters; nil = any.
public struct CompanyFilter: Sendable {
    /// A fragment of the name (trigram index).
    public var nameFragment: String?
    public var ownerID: Int64?
    public var unowned: Bool
    public var createdFrom: Date?
    public var createdTo: Date?
    /// `last_change_at` in `[changedFrom, changedTo)`.
    public var changedFrom: Date?
    public var changedTo: Date?
    public var deleted: Bool
    public init(nameFragment: String? = nil, ownerID: Int64? = nil, unowned: Bool = false, createdFrom: Date? = nil,
                createdTo: Date? = nil, changedFrom: Date? = nil, changedTo: Date? = nil, deleted: Bool = false) {
        self.nameFragment = nameFragment; self.ownerID = ownerID; self.unowned = unowned; self.createdFrom = createdFrom
        self.createdTo = createdTo; self.changedFrom = changedFrom; self.changedTo = changedTo; self.deleted = deleted
    }
}

/// A counterparty's fields, cleaned.
public struct CounterpartyDraft: Sendable {
    public var legalName: String
    public var edrpou: String?
    public var vatNumber: String?
    public var address: String?
    public init(legalName: String, edrpou: String?, vatNumber: String?, address: String?) {
        self.legalName = legalName; self.edrpou = edrpou; self.vatNumber = vatNumber; self.address = address
    }
}

/// Changes to a counterparty: nil = leave; `.some(nil)` = clear.
public struct CounterpartyChanges: Sendable {
    public var companyID: Int64?
    public var legalName: String?
    public var edrpou: String??
    public var vatNumber: String??
    public var address: String??
    public init(companyID: Int64? = nil, legalName: String? = nil, edrpou: String?? = nil, vatNumber: String?? = nil, address: String?? = nil) {
        self.companyID = companyID; self.legalName = legalName; self.edrpou = edrpou; self.vatNumber = vatNumber; self.address = address
    }
}

/// The company card as `company.get` shows it.
public struct CompanyCard: Sendable {
    public var company: Company
    public var counterparties: [Counterparty]
    /// Live contacts the caller may see.
    public var contacts: [Contact]
    /// The company's own comments, those written on its contacts while they belonged to
    /// it, and those of its current live contacts; only those the caller may see; newest first.
    public var comments: [RecordComment]
}

/// Companies, their counterparties and comments. Every write is audited in the same
/// transaction; every read takes a `Visibility` (a company's owner decides it; a
/// counterparty is visible with its company). No role checks.
public struct CompanyRepository {
    let conn: PostgresConnection
    var audit: AuditRepository { AuditRepository(conn) }

    public init(_ conn: PostgresConnection) { self.conn = conn }

    static let select: SQL = """
        SELECT co.id, co.name, co.website, co.address, co.notes, co.owner_id, u.full_name AS owner_name, co.version,
               co.created_at, co.created_by, co.updated_at, co.updated_by, co.deleted_at, co.last_change_at,
               co.last_change_at::text AS last_change_key, co.last_call_at, co.last_call_kind
        FROM companies co LEFT JOIN users u ON u.id = co.owner_id
        """

    static func company(_ r: PostgresRow) throws -> Company {
        Company(id: try r.decode("id"), name: try r.decode("name"), website: try r.decode("website", as: String?.self),
                address: try r.decode("address", as: String?.self), notes: try r.decode("notes", as: String?.self),
                ownerID: try r.decode("owner_id", as: Int64?.self), ownerName: try r.decode("owner_name", as: String?.self),
                version: try r.decode("version"), createdAt: try r.decode("created_at"), createdBy: try r.decode("created_by", as: Int64?.self),
                updatedAt: try r.decode("updated_at"), updatedBy: try r.decode("updated_by", as: Int64?.self),
                deletedAt: try r.decode("deleted_at", as: Date?.self), lastChangeAt: try r.decode("last_change_at"),
                lastCallAt: try r.decode("last_call_at", as: Date?.self), lastCallKind: try r.decode("last_call_kind", as: String?.self))
    }

    // MARK: - Reading

    /// One company (live or deleted), nil when missing or not visible.
    public func get(id: Int64, visibility: Visibility) throws -> Company? {
        try conn.query("\(Self.select) WHERE co.id = \(id) AND \(visibility.predicate(owner: "co.owner_id"))").first.map(Self.company)
    }

    /// Whether a live company exists and is visible, locking it for the caller's write
    /// (linking a contact, a comment, a counterparty). The lock is `FOR NO KEY UPDATE`,
    /// not `FOR SHARE`: every such write then touches the company row (its
    /// `last_change_at` trigger), and two share locks that both upgrade deadlock.
    public func isLiveAndVisible(id: Int64, visibility: Visibility) throws -> Bool {
        try conn.query("""
            SELECT 1 FROM companies co WHERE co.id = \(id) AND co.deleted_at IS NULL AND \(visibility.predicate(owner: "co.owner_id"))
            FOR NO KEY UPDATE OF co
            """).count == 1
    }

    /// The company card, nil when missing or not visible.
    public func card(id: Int64, visibility: Visibility) throws -> CompanyCard? {
        guard let company = try get(id: id, visibility: visibility) else { return nil }
        let comments = try conn.query("""
            SELECT cm.id, cm.contact_id, cm.company_id, cm.author_id, au.full_name AS author_name, cm.body, cm.created_at
            FROM comments cm
            LEFT JOIN contacts ct ON ct.id = cm.contact_id
            LEFT JOIN users au ON au.id = cm.author_id
            WHERE (cm.company_id = \(id) OR (ct.company_id = \(id) AND ct.deleted_at IS NULL))
              AND (cm.contact_id IS NULL OR \(visibility.predicate(owner: "ct.owner_id")))
            ORDER BY cm.created_at DESC, cm.id DESC
            """).map(ContactRepository.comment)
        return CompanyCard(company: company, counterparties: try counterparties(companyID: id),
                           contacts: try ContactRepository(conn).contacts(ofCompany: id, visibility: visibility), comments: comments)
    }

    static func conditions(_ f: CompanyFilter, _ vis: Visibility) -> SQL {
        var conds: [SQL] = [vis.predicate(owner: "co.owner_id"), f.deleted ? "co.deleted_at IS NOT NULL" : "co.deleted_at IS NULL"]
        if let n = f.nameFragment { conds.append("co.name ILIKE \("%" + likeEscaped(n) + "%")") }
        if let o = f.ownerID { conds.append("co.owner_id = \(o)") }
        if f.unowned { conds.append("co.owner_id IS NULL") }
        if let d = f.createdFrom { conds.append("co.created_at >= \(d)") }
        if let d = f.createdTo { conds.append("co.created_at < \(d)") }
        if let d = f.changedFrom { conds.append("co.last_change_at >= \(d)") }
        if let d = f.changedTo { conds.append("co.last_change_at < \(d)") }
        return SQL.joined(conds, separator: " AND ")
    }

    /// A page of companies, last changed first (`last_change_at`), with the total the
    /// caller can page through. Call inside `PostgresConnection.snapshot`.
    public func list(_ filter: CompanyFilter, visibility: Visibility, after cursor: KeysetCursor?, limit: Int) throws -> Page<Company> {
        let whereSQL = Self.conditions(filter, visibility)
        let total: Int = try conn.query("SELECT count(*) AS n FROM companies co WHERE \(whereSQL)").one().decode("n")
        let keyset: SQL = cursor?.after(at: "co.last_change_at", id: "co.id") ?? "TRUE"
        let rows = try conn.query("""
            \(Self.select) WHERE \(whereSQL) AND \(keyset)
            ORDER BY co.last_change_at DESC, co.id DESC LIMIT \(limit + 1)
            """)
        var items = try rows.map(Self.company)
        var next: KeysetCursor?
        if items.count > limit {
            items.removeLast()
            next = KeysetCursor(at: try rows[limit - 1].decode("last_change_key"), id: items[limit - 1].id)
        }
        return Page(items: items, total: total, next: next)
    }

    // MARK: - Writing

    /// Creates a company; audited as `create`.
    public func create(_ d: CompanyDraft, stamp: ChangeStamp) throws -> Int64 {
        let id: Int64 = try conn.query("""
            INSERT INTO companies (name, website, address, notes, owner_id, created_at, created_by, updated_at, updated_by, last_change_at)
            VALUES (\(d.name), \(d.website), \(d.address), \(d.notes), \(d.ownerID), \(stamp.at), \(stamp.actorID), \(stamp.at),
                    \(stamp.actorID), \(stamp.at))
            RETURNING id
            """).one().decode("id")
        try audit.record(.company, id: id, action: "create", before: nil, stamp: stamp)
        return id
    }

    struct Locked {
        var version: Int
        var deleted: Bool
    }

    func lock(_ id: Int64, version: Int?, visibility: Visibility) throws -> Locked {
        guard let r = try conn.query("""
            SELECT co.version, co.deleted_at IS NOT NULL AS deleted FROM companies co
            WHERE co.id = \(id) AND \(visibility.predicate(owner: "co.owner_id")) FOR UPDATE OF co
            """).first else { throw KontorError.notFound("company \(id)") }
        let l = Locked(version: try r.decode("version"), deleted: try r.decode("deleted"))
        if let version, version != l.version { throw KontorError.conflict(currentVersion: l.version) }
        return l
    }

    /// Applies `changes` when `version` is current; audited.
    /// - Throws: `not_found`, `conflict`, `invalid_params` (deleted company).
    public func update(id: Int64, version: Int?, changes c: CompanyChanges, visibility: Visibility, stamp: ChangeStamp) throws {
        let l = try lock(id, version: version, visibility: visibility)
        if l.deleted { throw KontorError.invalidParams("id", "company \(id) is deleted; restore it first") }
        let before = try audit.snapshot(.company, id: id)
        try conn.execute("""
            UPDATE companies SET
                name = coalesce(\(c.name), name),
                website = CASE WHEN \(c.website != nil) THEN \(c.website ?? nil) ELSE website END,
                address = CASE WHEN \(c.address != nil) THEN \(c.address ?? nil) ELSE address END,
                notes = CASE WHEN \(c.notes != nil) THEN \(c.notes ?? nil) ELSE notes END,
                owner_id = CASE WHEN \(c.ownerID != nil) THEN \(c.ownerID ?? nil) ELSE owner_id END,
                version = version + 1, updated_at = \(stamp.at), updated_by = \(stamp.actorID)
            WHERE id = \(id) AND version = \(l.version)
            """)
        try audit.record(.company, id: id, action: "update", before: before, stamp: stamp)
    }

    /// Soft-deletes a company (its contacts keep the link; the card leaves lists).
    public func delete(id: Int64, version: Int?, visibility: Visibility, stamp: ChangeStamp) throws {
        let l = try lock(id, version: version, visibility: visibility)
        if l.deleted { return }
        let before = try audit.snapshot(.company, id: id)
        try conn.execute("""
            UPDATE companies SET deleted_at = \(stamp.at), deleted_by = \(stamp.actorID), version = version + 1,
                                 updated_at = \(stamp.at), updated_by = \(stamp.actorID)
            WHERE id = \(id)
            """)
        try audit.record(.company, id: id, action: "delete", before: before, stamp: stamp)
    }

    /// Restores a deleted company.
    public func restore(id: Int64, version: Int?, visibility: Visibility, stamp: ChangeStamp) throws {
        let l = try lock(id, version: version, visibility: visibility)
        if !l.deleted { return }
        let before = try audit.snapshot(.company, id: id)
        try conn.execute("""
            UPDATE companies SET deleted_at = NULL, deleted_by = NULL, version = version + 1,
                                 updated_at = \(stamp.at), updated_by = \(stamp.actorID)
            WHERE id = \(id)
            """)
        try audit.record(.company, id: id, action: "restore", before: before, stamp: stamp)
    }

    /// Adds a comment to a live visible company; audited as `comment`.
    public func comment(companyID: Int64, body: String, visibility: Visibility, stamp: ChangeStamp) throws -> RecordComment {
        guard try isLiveAndVisible(id: companyID, visibility: visibility) else { throw KontorError.notFound("company \(companyID)") }
        let comment = try ContactRepository.comment(conn.query("""
            WITH ins AS (
                INSERT INTO comments (contact_id, company_id, author_id, body, created_at)
                VALUES (NULL, \(companyID), \(stamp.actorID), \(body), \(stamp.at))
                RETURNING *
            )
            SELECT ins.id, ins.contact_id, ins.company_id, ins.author_id, u.full_name AS author_name, ins.body, ins.created_at
            FROM ins LEFT JOIN users u ON u.id = ins.author_id
            """).one())
        try ContactRepository(conn).recordComment(.company, id: companyID, comment: comment, stamp: stamp)
        return comment
    }

    // MARK: - Counterparties

    static let counterpartyColumns: SQL = """
        cp.id, cp.company_id, cp.legal_name, cp.edrpou, cp.vat_number, cp.address, cp.version, cp.created_at, cp.updated_at
        """

    static func counterparty(_ r: PostgresRow) throws -> Counterparty {
        Counterparty(id: try r.decode("id"), companyID: try r.decode("company_id"), legalName: try r.decode("legal_name"),
                     edrpou: try r.decode("edrpou", as: String?.self), vatNumber: try r.decode("vat_number", as: String?.self),
                     address: try r.decode("address", as: String?.self), version: try r.decode("version"),
                     createdAt: try r.decode("created_at"), updatedAt: try r.decode("updated_at"))
    }

    /// A company's counterparties by legal name (no visibility check: check the company first).
    public func counterparties(companyID: Int64) throws -> [Counterparty] {
        try conn.query("SELECT \(Self.counterpartyColumns) FROM counterparties cp WHERE cp.company_id = \(companyID) ORDER BY cp.legal_name, cp.id")
            .map(Self.counterparty)
    }

    /// One counterparty whose company the caller may see.
    public func counterparty(id: Int64, visibility: Visibility) throws -> Counterparty? {
        try conn.query("""
            SELECT \(Self.counterpartyColumns) FROM counterparties cp JOIN companies co ON co.id = cp.company_id
            WHERE cp.id = \(id) AND \(visibility.predicate(owner: "co.owner_id"))
            """).first.map(Self.counterparty)
    }

    /// Counterparties of visible companies: of one company (deleted or not), or of live
    /// companies matching an EDRPOU code or a legal-name fragment.
    public func listCounterparties(companyID: Int64?, edrpou: String?, nameFragment: String?, visibility: Visibility, limit: Int) throws -> [Counterparty] {
        var conds: [SQL] = [visibility.predicate(owner: "co.owner_id")]
        if let companyID { conds.append("cp.company_id = \(companyID)") } else { conds.append("co.deleted_at IS NULL") }
        if let edrpou { conds.append("cp.edrpou = \(edrpou)") }
        if let n = nameFragment { conds.append("cp.legal_name ILIKE \("%" + likeEscaped(n) + "%")") }
        return try conn.query("""
            SELECT \(Self.counterpartyColumns) FROM counterparties cp JOIN companies co ON co.id = cp.company_id
            WHERE \(SQL.joined(conds, separator: " AND "))
            ORDER BY cp.legal_name, cp.id LIMIT \(limit)
            """).map(Self.counterparty)
    }

    func edrpouClash(_ edrpou: String?, excluding: Int64?) throws -> KontorError {
        guard let edrpou, let r = try conn.query("""
            SELECT cp.id, co.owner_id, u.full_name AS owner_name, cp.company_id
            FROM counterparties cp JOIN companies co ON co.id = cp.company_id LEFT JOIN users u ON u.id = co.owner_id
            WHERE cp.edrpou = \(edrpou) AND cp.id IS DISTINCT FROM \(excluding)
            """).first else { return KontorError(.duplicate, "a counterparty with this EDRPOU code exists") }
        var e = duplicateError("the EDRPOU code \(edrpou)", field: "edrpou", existingID: try r.decode("id"),
                               ownerID: try r.decode("owner_id", as: Int64?.self), ownerName: try r.decode("owner_name", as: String?.self))
        e.data["company_id"] = .int(Int(try r.decode("company_id", as: Int64.self)))
        return e
    }

    /// Adds a counterparty to a live visible company; audited.
    /// - Throws: `not_found` (company), `duplicate` (EDRPOU taken: `existing_id` is the
    ///   counterparty, `company_id` its company).
    public func addCounterparty(companyID: Int64, _ d: CounterpartyDraft, visibility: Visibility, stamp: ChangeStamp) throws -> Int64 {
        guard try isLiveAndVisible(id: companyID, visibility: visibility) else { throw KontorError.notFound("company \(companyID)") }
        let id: Int64 = try guardingUnique(conn, {
            try conn.query("""
                INSERT INTO counterparties (company_id, legal_name, edrpou, vat_number, address, created_at, created_by, updated_at, updated_by)
                VALUES (\(companyID), \(d.legalName), \(d.edrpou), \(d.vatNumber), \(d.address), \(stamp.at), \(stamp.actorID), \(stamp.at), \(stamp.actorID))
                RETURNING id
                """).one().decode("id")
        }, explain: { try edrpouClash(d.edrpou, excluding: nil) })
        try audit.record(.counterparty, id: id, action: "create", before: nil, stamp: stamp)
        return id
    }

    /// Changes a counterparty when `version` is current; moving it to another company
    /// needs that company live and visible. Audited.
    public func updateCounterparty(id: Int64, version: Int?, changes c: CounterpartyChanges, visibility: Visibility, stamp: ChangeStamp) throws {
        guard let r = try conn.query("""
            SELECT cp.version FROM counterparties cp JOIN companies co ON co.id = cp.company_id
            WHERE cp.id = \(id) AND \(visibility.predicate(owner: "co.owner_id")) FOR UPDATE OF cp
            """).first else { throw KontorError.notFound("counterparty \(id)") }
        let current: Int = try r.decode("version")
        if let version, version != current { throw KontorError.conflict(currentVersion: current) }
        if let to = c.companyID, try !isLiveAndVisible(id: to, visibility: visibility) { throw KontorError.notFound("company \(to)") }
        let before = try audit.snapshot(.counterparty, id: id)
        _ = try guardingUnique(conn, {
            try conn.execute("""
                UPDATE counterparties SET
                    company_id = coalesce(\(c.companyID), company_id),
                    legal_name = coalesce(\(c.legalName), legal_name),
                    edrpou = CASE WHEN \(c.edrpou != nil) THEN \(c.edrpou ?? nil) ELSE edrpou END,
                    vat_number = CASE WHEN \(c.vatNumber != nil) THEN \(c.vatNumber ?? nil) ELSE vat_number END,
                    address = CASE WHEN \(c.address != nil) THEN \(c.address ?? nil) ELSE address END,
                    version = version + 1, updated_at = \(stamp.at), updated_by = \(stamp.actorID)
                WHERE id = \(id) AND version = \(current)
                """)
        }, explain: { try edrpouClash(c.edrpou ?? nil, excluding: id) })
        try audit.record(.counterparty, id: id, action: "update", before: before, stamp: stamp)
    }
}
