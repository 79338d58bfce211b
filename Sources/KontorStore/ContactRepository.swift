import Foundation
import KontorDomain
import Postgres

/// A new contact, cleaned and normalised (see `RecordInput`).
public struct ContactDraft: Sendable {
    public var fullName: String?
    public var position: String?
    public var organization: String?
    public var companyID: Int64?
    public var group: ContactGroup
    public var source: ContactSource
    public var ownerID: Int64?
    public var phones: [PhoneEntry]
    public var emails: [EmailEntry]
    public var messengers: [ContactMessenger]

    public init(fullName: String?, position: String?, organization: String?, companyID: Int64?, group: ContactGroup,
                source: ContactSource, ownerID: Int64?, phones: [PhoneEntry], emails: [EmailEntry], messengers: [ContactMessenger]) {
        self.fullName = fullName; self.position = position; self.organization = organization; self.companyID = companyID
        self.group = group; self.source = source; self.ownerID = ownerID; self.phones = phones; self.emails = emails
        self.messengers = messengers
    }
}

/// Changes to a contact: nil = leave the field; `.some(nil)` = clear it; a list replaces
/// the whole list (order = new positions).
public struct ContactChanges: Sendable {
    public var fullName: String??
    public var position: String??
    public var organization: String??
    public var companyID: Int64??
    public var group: ContactGroup?
    public var source: ContactSource?
    public var ownerID: Int64??
    public var phones: [PhoneEntry]?
    public var emails: [EmailEntry]?
    public var messengers: [ContactMessenger]?

    public init(fullName: String?? = nil, position: String?? = nil, organization: String?? = nil, companyID: Int64?? = nil,
                group: ContactGroup? = nil, source: ContactSource? = nil, ownerID: Int64?? = nil, phones: [PhoneEntry]? = nil,
                emails: [EmailEntry]? = nil, messengers: [ContactMessenger]? = nil) {
        self.fullName = fullName; self.position = position; self.organization = organization; self.companyID = companyID
        self.group = group; self.source = source; self.ownerID = ownerID; self.phones = phones; self.emails = emails
        self.messengers = messengers
    }
}

/// `contact.list` filters; nil = any.
public struct ContactFilter: Sendable {
    public var sources: [ContactSource]?
    public var groups: [ContactGroup]?
    public var ownerID: Int64?
    /// Only contacts without an owner.
    public var unowned: Bool
    public var companyID: Int64?
    /// `created_at` in `[createdFrom, createdTo)`.
    public var createdFrom: Date?
    public var createdTo: Date?
    /// `updated_at` (last change) in `[changedFrom, changedTo)`.
    public var changedFrom: Date?
    public var changedTo: Date?
    /// Deleted contacts (the trash) instead of live ones.
    public var deleted: Bool

    public init(sources: [ContactSource]? = nil, groups: [ContactGroup]? = nil, ownerID: Int64? = nil, unowned: Bool = false,
                companyID: Int64? = nil, createdFrom: Date? = nil, createdTo: Date? = nil, changedFrom: Date? = nil,
                changedTo: Date? = nil, deleted: Bool = false) {
        self.sources = sources; self.groups = groups; self.ownerID = ownerID; self.unowned = unowned; self.companyID = companyID
        self.createdFrom = createdFrom; self.createdTo = createdTo; self.changedFrom = changedFrom; self.changedTo = changedTo
        self.deleted = deleted
    }
}

/// What `contact.find` looks for; built by the caller from one search text.
public struct ContactSearch: Sendable {
    /// E.164 keys of a phone written any way (`PhoneNormalizer.searchKeys`).
    public var phoneKeys: [String] = []
    /// Digits (3+) to find inside stored numbers, parsed or not.
    public var phoneDigits: String?
    /// A normalised e-mail for an exact match.
    public var email: String?
    /// A fragment to find inside e-mails (lower case).
    public var emailFragment: String?
    /// A fragment of a name or organisation (trigram index).
    public var nameFragment: String?
    /// A messenger handle (lower case, no `@`).
    public var messengerHandle: String?
    /// A messenger's external user id (exact).
    public var messengerID: String?

    public init() {}
}

/// A contact found by `find`, with what matched (`phone`, `email`, `name`, `messenger`).
public struct ContactMatch: Sendable {
    public var contact: Contact
    public var matchedBy: [String]
}

/// The minimal routing data a robot gets from `contact.lookup`.
public struct ContactRoute: Sendable, Codable, Equatable {
    public var id: Int64
    public var fullName: String?
    public var group: ContactGroup
    public var ownerID: Int64?
    public var ownerName: String?
    public var ownerDepartment: Department?
    public var companyID: Int64?
    public var companyName: String?
}

/// Contacts, their phones, e-mails, messenger ids and comments. Every write is audited
/// in the same transaction (`ChangeStamp`); every read takes a `Visibility` and returns
/// nothing the caller may not see. No role checks.
public struct ContactRepository {
    let conn: PostgresConnection
    var audit: AuditRepository { AuditRepository(conn) }

    public init(_ conn: PostgresConnection) { self.conn = conn }

    // MARK: - Reading

    static func select(_ vis: Visibility) -> SQL {
        """
        SELECT c.id, c.full_name, c.position, c.organization, c.company_id,
               CASE WHEN co.deleted_at IS NULL AND \(vis.predicate(owner: "co.owner_id")) THEN co.name END AS company_name,
               c.contact_group, c.source, c.owner_id, ou.full_name AS owner_name, c.version, c.created_at, c.created_by,
               c.updated_at, c.updated_at::text AS updated_at_key, c.updated_by, c.deleted_at, c.merged_into_id
        FROM contacts c
        LEFT JOIN companies co ON co.id = c.company_id
        LEFT JOIN users ou ON ou.id = c.owner_id
        """
    }

    /// Rows of `select` into contacts, with their phones, e-mails and messengers.
    func contacts(_ rows: PostgresRows) throws -> [Contact] {
        let ids: [Int64] = try rows.map { try $0.decode("id") }
        if ids.isEmpty { return [] }
        var phones: [Int64: [ContactPhone]] = [:]
        for r in try conn.query("""
            SELECT contact_id, written, label, e164, extension, valid, kind FROM contact_phones
            WHERE contact_id = ANY(\(ids)) ORDER BY contact_id, position, id
            """) {
            phones[try r.decode("contact_id"), default: []].append(ContactPhone(
                number: try r.decode("written"), label: try r.decode("label", as: String?.self), e164: try r.decode("e164", as: String?.self),
                extensionNumber: try r.decode("extension", as: String?.self), valid: try r.decode("valid"), kind: try r.decode("kind")))
        }
        var emails: [Int64: [ContactEmail]] = [:]
        for r in try conn.query("""
            SELECT contact_id, address, label FROM contact_emails WHERE contact_id = ANY(\(ids)) ORDER BY contact_id, position, id
            """) {
            emails[try r.decode("contact_id"), default: []].append(ContactEmail(address: try r.decode("address"), label: try r.decode("label", as: String?.self)))
        }
        var messengers: [Int64: [ContactMessenger]] = [:]
        for r in try conn.query("""
            SELECT contact_id, kind, external_id, handle FROM contact_messengers WHERE contact_id = ANY(\(ids)) ORDER BY contact_id, position, id
            """) {
            messengers[try r.decode("contact_id"), default: []].append(ContactMessenger(
                kind: try r.decode("kind"), externalID: try r.decode("external_id", as: String?.self), handle: try r.decode("handle", as: String?.self)))
        }
        return try rows.map { r in
            let id: Int64 = try r.decode("id")
            return Contact(id: id, fullName: try r.decode("full_name", as: String?.self), position: try r.decode("position", as: String?.self),
                           organization: try r.decode("organization", as: String?.self), companyID: try r.decode("company_id", as: Int64?.self),
                           companyName: try r.decode("company_name", as: String?.self), group: try r.decode("contact_group"),
                           source: try r.decode("source"), ownerID: try r.decode("owner_id", as: Int64?.self),
                           ownerName: try r.decode("owner_name", as: String?.self), phones: phones[id] ?? [], emails: emails[id] ?? [],
                           messengers: messengers[id] ?? [], version: try r.decode("version"), createdAt: try r.decode("created_at"),
                           createdBy: try r.decode("created_by", as: Int64?.self), updatedAt: try r.decode("updated_at"),
                           updatedBy: try r.decode("updated_by", as: Int64?.self), deletedAt: try r.decode("deleted_at", as: Date?.self),
                           mergedIntoID: try r.decode("merged_into_id", as: Int64?.self))
        }
    }

    /// One contact (live or deleted), nil when it does not exist or is not visible.
    public func get(id: Int64, visibility: Visibility) throws -> Contact? {
        try contacts(conn.query("\(Self.select(visibility)) WHERE c.id = \(id) AND \(visibility.predicate(owner: "c.owner_id"))")).first
    }

    /// The comments written on a contact, newest first.
    public func comments(contactID: Int64) throws -> [RecordComment] {
        try conn.query("""
            SELECT cm.id, cm.contact_id, cm.company_id, cm.author_id, u.full_name AS author_name, cm.body, cm.created_at
            FROM comments cm LEFT JOIN users u ON u.id = cm.author_id
            WHERE cm.contact_id = \(contactID)
            ORDER BY cm.created_at DESC, cm.id DESC
            """).map(Self.comment)
    }

    static func comment(_ r: PostgresRow) throws -> RecordComment {
        RecordComment(id: try r.decode("id"), contactID: try r.decode("contact_id", as: Int64?.self), companyID: try r.decode("company_id", as: Int64?.self),
                authorID: try r.decode("author_id", as: Int64?.self), authorName: try r.decode("author_name", as: String?.self),
                body: try r.decode("body"), createdAt: try r.decode("created_at"))
    }

    /// The live contacts of a company that the caller may see, by name.
    public func contacts(ofCompany companyID: Int64, visibility: Visibility) throws -> [Contact] {
        try contacts(conn.query("""
            \(Self.select(visibility))
            WHERE c.company_id = \(companyID) AND c.deleted_at IS NULL AND \(visibility.predicate(owner: "c.owner_id"))
            ORDER BY c.full_name NULLS LAST, c.id
            """))
    }

    static func conditions(_ f: ContactFilter, _ vis: Visibility) -> SQL {
        var conds: [SQL] = [vis.predicate(owner: "c.owner_id"), f.deleted ? "c.deleted_at IS NOT NULL" : "c.deleted_at IS NULL"]
        if let s = f.sources { conds.append("c.source = ANY(\(s.map(\.rawValue)))") }
        if let g = f.groups { conds.append("c.contact_group = ANY(\(g.map(\.rawValue)))") }
        if let o = f.ownerID { conds.append("c.owner_id = \(o)") }
        if f.unowned { conds.append("c.owner_id IS NULL") }
        if let co = f.companyID { conds.append("c.company_id = \(co)") }
        if let d = f.createdFrom { conds.append("c.created_at >= \(d)") }
        if let d = f.createdTo { conds.append("c.created_at < \(d)") }
        if let d = f.changedFrom { conds.append("c.updated_at >= \(d)") }
        if let d = f.changedTo { conds.append("c.updated_at < \(d)") }
        return SQL.joined(conds, separator: " AND ")
    }

    /// A page of contacts, last changed first, and the total the caller can page through.
    /// Call inside `PostgresConnection.snapshot` so the total and the page agree.
    public func list(_ filter: ContactFilter, visibility: Visibility, after cursor: KeysetCursor?, limit: Int) throws -> Page<Contact> {
        let whereSQL = Self.conditions(filter, visibility)
        let total: Int = try conn.query("SELECT count(*) AS n FROM contacts c WHERE \(whereSQL)").one().decode("n")
        let keyset: SQL = cursor?.after(at: "c.updated_at", id: "c.id") ?? "TRUE"
        let rows = try conn.query("""
            \(Self.select(visibility)) WHERE \(whereSQL) AND \(keyset)
            ORDER BY c.updated_at DESC, c.id DESC LIMIT \(limit + 1)
            """)
        var items = try contacts(rows)
        var next: KeysetCursor?
        if items.count > limit {
            items.removeLast()
            next = KeysetCursor(at: try rows[limit - 1].decode("updated_at_key"), id: items[limit - 1].id)
        }
        return Page(items: items, total: total, next: next)
    }

    /// Live contacts matching any part of `search` that the caller may see: exact phone,
    /// e-mail and messenger matches first, then fragments by trigram similarity.
    public func find(_ search: ContactSearch, visibility: Visibility, limit: Int) throws -> [ContactMatch] {
        let nameLike = search.nameFragment.map { "%" + likeEscaped($0) + "%" }
        let emailLike = search.emailFragment.map { "%" + likeEscaped($0) + "%" }
        let digitsLike = search.phoneDigits.map { "%" + $0 + "%" }
        let found = try conn.query("""
            WITH m(contact_id, how, score) AS (
                SELECT contact_id, 'phone', 3.0::float8 FROM contact_phones WHERE live AND e164 = ANY(\(search.phoneKeys))
                UNION ALL
                SELECT contact_id, 'phone', 2.0 FROM contact_phones WHERE live AND \(digitsLike)::text IS NOT NULL AND search_key LIKE \(digitsLike)
                UNION ALL
                SELECT contact_id, 'email', 3.0 FROM contact_emails WHERE live AND normalized = \(search.email)
                UNION ALL
                SELECT contact_id, 'email', 2.0 FROM contact_emails WHERE live AND \(emailLike)::text IS NOT NULL AND normalized LIKE \(emailLike)
                UNION ALL
                SELECT contact_id, 'messenger', 3.0 FROM contact_messengers
                WHERE live AND (handle = \(search.messengerHandle) OR external_id = \(search.messengerID))
                UNION ALL
                SELECT id, 'name', 1.0 + greatest(similarity(coalesce(full_name, ''), \(search.nameFragment)), similarity(coalesce(organization, ''), \(search.nameFragment)))
                FROM contacts
                WHERE deleted_at IS NULL AND \(nameLike)::text IS NOT NULL AND (full_name ILIKE \(nameLike) OR organization ILIKE \(nameLike))
            )
            SELECT m.contact_id, array_agg(DISTINCT m.how ORDER BY m.how) AS how, max(m.score) AS score
            FROM m JOIN contacts c ON c.id = m.contact_id
            WHERE c.deleted_at IS NULL AND \(visibility.predicate(owner: "c.owner_id"))
            GROUP BY m.contact_id, c.updated_at
            ORDER BY max(m.score) DESC, c.updated_at DESC, m.contact_id DESC
            LIMIT \(limit)
            """)
        let order: [(Int64, [String])] = try found.map { (try $0.decode("contact_id"), try $0.decode("how")) }
        if order.isEmpty { return [] }
        let byID = Dictionary(uniqueKeysWithValues: try contacts(conn.query(
            "\(Self.select(visibility)) WHERE c.id = ANY(\(order.map(\.0)))")).map { ($0.id, $0) })
        return order.compactMap { id, how in byID[id].map { ContactMatch(contact: $0, matchedBy: how) } }
    }

    /// Routing lookup for robots, over all live contacts (no visibility: the result is
    /// minimal). A phone matches on E.164 (the same extension first), or, for numbers
    /// that could not be parsed, on their digits.
    public func lookup(phone: NormalizedPhone?, email: String?, messenger: ContactMessenger?) throws -> [ContactRoute] {
        var match: SQL
        var order: SQL = "c.updated_at DESC"
        if let phone {
            if let e164 = phone.e164 {
                match = "c.id IN (SELECT contact_id FROM contact_phones WHERE live AND e164 = \(e164))"
                order = """
                    (SELECT bool_or(coalesce(p.extension, '') = \(phone.extensionNumber ?? "")) FROM contact_phones p
                     WHERE p.contact_id = c.id AND p.e164 = \(e164)) DESC, c.updated_at DESC
                    """
            } else {
                guard !phone.searchKey.isEmpty else { return [] }
                match = "c.id IN (SELECT contact_id FROM contact_phones WHERE live AND e164 IS NULL AND search_key = \(phone.searchKey))"
            }
        } else if let email {
            match = "c.id IN (SELECT contact_id FROM contact_emails WHERE live AND normalized = \(email))"
        } else if let m = messenger {
            match = """
                c.id IN (SELECT contact_id FROM contact_messengers WHERE live AND kind = \(m.kind)
                         AND (external_id = \(m.externalID) OR handle = \(m.handle)))
                """
        } else {
            return []
        }
        return try conn.query("""
            SELECT c.id, c.full_name, c.contact_group, c.owner_id, u.full_name AS owner_name, u.department AS owner_department,
                   c.company_id, co.name AS company_name
            FROM contacts c LEFT JOIN users u ON u.id = c.owner_id LEFT JOIN companies co ON co.id = c.company_id
            WHERE c.deleted_at IS NULL AND \(match)
            ORDER BY \(order), c.id DESC
            LIMIT 20
            """).map { r in
            ContactRoute(id: try r.decode("id"), fullName: try r.decode("full_name", as: String?.self), group: try r.decode("contact_group"),
                         ownerID: try r.decode("owner_id", as: Int64?.self), ownerName: try r.decode("owner_name", as: String?.self),
                         ownerDepartment: try r.decode("owner_department", as: Department?.self),
                         companyID: try r.decode("company_id", as: Int64?.self), companyName: try r.decode("company_name", as: String?.self))
        }
    }

    /// The ids of contacts merged into `id`, directly or through other merges.
    public func mergedIDs(into id: Int64) throws -> [Int64] {
        try conn.query("""
            WITH RECURSIVE m(id) AS (
                SELECT id FROM contacts WHERE merged_into_id = \(id)
                UNION SELECT c.id FROM contacts c JOIN m ON c.merged_into_id = m.id
            ) SELECT id FROM m ORDER BY id
            """).map { try $0.decode("id") }
    }

    // MARK: - Writing

    /// The state of a contact row locked for a change.
    struct Locked {
        var id: Int64
        var version: Int
        var group: ContactGroup
        var companyID: Int64?
        var deleted: Bool
        var mergedInto: Int64?
    }

    /// Locks a visible contact (`FOR UPDATE`) and checks its version.
    /// - Throws: `not_found` (missing or invisible), `conflict` (stale `version`).
    func lock(_ id: Int64, version: Int?, visibility: Visibility, field: String = "version") throws -> Locked {
        guard let r = try conn.query("""
            SELECT c.id, c.version, c.contact_group, c.company_id, c.deleted_at IS NOT NULL AS deleted, c.merged_into_id
            FROM contacts c WHERE c.id = \(id) AND \(visibility.predicate(owner: "c.owner_id"))
            FOR UPDATE OF c
            """).first else { throw KontorError.notFound("contact \(id)") }
        let l = Locked(id: try r.decode("id"), version: try r.decode("version"), group: try r.decode("contact_group"),
                       companyID: try r.decode("company_id", as: Int64?.self), deleted: try r.decode("deleted"),
                       mergedInto: try r.decode("merged_into_id", as: Int64?.self))
        if let version, version != l.version {
            var e = KontorError.conflict(currentVersion: l.version)
            e.data["field"] = .string(field)
            e.data["id"] = .int(Int(id))
            throw e
        }
        return l
    }

    func requireLive(_ l: Locked, field: String = "id") throws {
        if let into = l.mergedInto { throw KontorError.invalidParams(field, "contact \(l.id) was merged into contact \(into)") }
        if l.deleted { throw KontorError.invalidParams(field, "contact \(l.id) is deleted; restore it first") }
    }

    /// Creates a contact with its phones, e-mails and messengers; audited as `create`.
    /// - Throws: `duplicate` (a phone, e-mail or messenger account of a live contact),
    ///   with `existing_id`, `field` and the owner.
    public func create(_ d: ContactDraft, stamp: ChangeStamp) throws -> Int64 {
        let id: Int64 = try guardingUnique(conn, {
            let id: Int64 = try conn.query("""
                INSERT INTO contacts (full_name, position, organization, company_id, contact_group, source, owner_id,
                                      created_at, created_by, updated_at, updated_by)
                VALUES (\(d.fullName), \(d.position), \(d.organization), \(d.companyID), \(d.group), \(d.source), \(d.ownerID),
                        \(stamp.at), \(stamp.actorID), \(stamp.at), \(stamp.actorID))
                RETURNING id
                """).one().decode("id")
            try writePhones(id, d.phones)
            try writeEmails(id, d.emails)
            try writeMessengers(id, d.messengers)
            return id
        }, explain: { try clash(keys(d.phones, d.emails, d.messengers), excluding: nil) })
        try audit.record(.contact, id: id, action: "create", before: nil, stamp: stamp)
        return id
    }

    /// Applies `changes` when `version` is current; audited as `action`.
    /// - Throws: `not_found`, `conflict`, `invalid_params` (deleted contact), `duplicate`.
    public func update(id: Int64, version: Int?, changes c: ContactChanges, visibility: Visibility, stamp: ChangeStamp,
                       action: String = "update") throws {
        let locked = try lock(id, version: version, visibility: visibility)
        try requireLive(locked)
        let before = try audit.snapshot(.contact, id: id)
        try guardingUnique(conn, {
            try conn.execute("""
                UPDATE contacts SET
                    full_name = CASE WHEN \(c.fullName != nil) THEN \(c.fullName ?? nil) ELSE full_name END,
                    position = CASE WHEN \(c.position != nil) THEN \(c.position ?? nil) ELSE position END,
                    organization = CASE WHEN \(c.organization != nil) THEN \(c.organization ?? nil) ELSE organization END,
                    company_id = CASE WHEN \(c.companyID != nil) THEN \(c.companyID ?? nil) ELSE company_id END,
                    owner_id = CASE WHEN \(c.ownerID != nil) THEN \(c.ownerID ?? nil) ELSE owner_id END,
                    contact_group = coalesce(\(c.group), contact_group),
                    source = coalesce(\(c.source), source),
                    version = version + 1, updated_at = \(stamp.at), updated_by = \(stamp.actorID)
                WHERE id = \(id) AND version = \(locked.version)
                """)
            if let p = c.phones {
                try conn.execute("DELETE FROM contact_phones WHERE contact_id = \(id)")
                try writePhones(id, p)
            }
            if let e = c.emails {
                try conn.execute("DELETE FROM contact_emails WHERE contact_id = \(id)")
                try writeEmails(id, e)
            }
            if let m = c.messengers {
                try conn.execute("DELETE FROM contact_messengers WHERE contact_id = \(id)")
                try writeMessengers(id, m)
            }
        }, explain: { try clash(keys(c.phones ?? [], c.emails ?? [], c.messengers ?? []), excluding: id) })
        try audit.record(.contact, id: id, action: action, before: before, stamp: stamp)
    }

    /// Soft-deletes a live contact; its phones, e-mails and messenger ids stop counting
    /// for uniqueness. Deleting a deleted contact changes nothing.
    public func delete(id: Int64, version: Int?, visibility: Visibility, stamp: ChangeStamp) throws {
        let locked = try lock(id, version: version, visibility: visibility)
        if locked.deleted { return }
        let before = try audit.snapshot(.contact, id: id)
        try conn.execute("""
            UPDATE contacts SET deleted_at = \(stamp.at), deleted_by = \(stamp.actorID), version = version + 1,
                                updated_at = \(stamp.at), updated_by = \(stamp.actorID)
            WHERE id = \(id)
            """)
        try audit.record(.contact, id: id, action: "delete", before: before, stamp: stamp)
    }

    /// Restores a deleted contact. Restoring a live one changes nothing.
    /// - Throws: `duplicate` when a live contact now has one of its phones, e-mails or
    ///   messenger ids; `invalid_params` for a merged contact.
    public func restore(id: Int64, version: Int?, visibility: Visibility, stamp: ChangeStamp) throws {
        let locked = try lock(id, version: version, visibility: visibility)
        if !locked.deleted { return }
        if let into = locked.mergedInto { throw KontorError.invalidParams("id", "contact \(id) was merged into contact \(into); it cannot be restored") }
        let before = try audit.snapshot(.contact, id: id)
        _ = try guardingUnique(conn, {
            try conn.execute("""
                UPDATE contacts SET deleted_at = NULL, deleted_by = NULL, version = version + 1,
                                    updated_at = \(stamp.at), updated_by = \(stamp.actorID)
                WHERE id = \(id)
                """)
        }, explain: { try clash(storedKeys(of: id), excluding: id) })
        try audit.record(.contact, id: id, action: "restore", before: before, stamp: stamp)
    }

    /// Merges `mergedID` into `survivorID` in the caller's transaction: every row that
    /// references the merged contact and is registered in `contact_merge_refs` (phones,
    /// e-mails, messenger ids, comments, and whatever later issues register: leads,
    /// calls, tasks, reminders) moves to the survivor; the survivor's empty fields are
    /// filled from the merged card and its group becomes the more advanced of the two;
    /// the merged card is deleted with `merged_into_id` set. Both are audited.
    ///
    /// - Returns: rows moved per `table.column`.
    /// - Throws: `not_found` (either missing or invisible), `conflict`, `invalid_params`
    ///   (the same contact twice, a deleted contact).
    public func merge(survivorID: Int64, mergedID: Int64, survivorVersion: Int?, mergedVersion: Int?, visibility: Visibility,
                      stamp: ChangeStamp) throws -> [String: Int] {
        guard survivorID != mergedID else { throw KontorError.invalidParams("merged_id", "a contact cannot be merged into itself") }
        // Lock in id order so that two opposite merges cannot deadlock.
        var locks: [Int64: Locked] = [:]
        for id in [survivorID, mergedID].sorted() {
            let isSurvivor = id == survivorID
            locks[id] = try lock(id, version: isSurvivor ? survivorVersion : mergedVersion, visibility: visibility,
                                 field: isSurvivor ? "survivor_version" : "merged_version")
        }
        guard let survivor = locks[survivorID], let merged = locks[mergedID] else { throw KontorError.notFound("contact") }
        try requireLive(survivor, field: "survivor_id")
        try requireLive(merged, field: "merged_id")
        let beforeSurvivor = try audit.snapshot(.contact, id: survivorID)
        let beforeMerged = try audit.snapshot(.contact, id: mergedID)
        // The merged card's phones, e-mails and messengers go after the survivor's.
        for table in ["contact_phones", "contact_emails", "contact_messengers"] {
            try conn.execute("""
                UPDATE \(identifier: table) SET position = position + 1000 +
                    (SELECT coalesce(max(position), 0) FROM \(identifier: table) WHERE contact_id = \(survivorID))
                WHERE contact_id = \(mergedID)
                """)
        }
        let movedJSON: String = try conn.query("SELECT records_move_contact_refs(\(mergedID), \(survivorID))::text AS moved").one().decode("moved")
        let group = [survivor.group, merged.group].max { $0.rank < $1.rank } ?? survivor.group
        try conn.execute("""
            UPDATE contacts s SET
                full_name = coalesce(s.full_name, m.full_name), position = coalesce(s.position, m.position),
                organization = coalesce(s.organization, m.organization), company_id = coalesce(s.company_id, m.company_id),
                owner_id = coalesce(s.owner_id, m.owner_id), contact_group = \(group),
                version = s.version + 1, updated_at = \(stamp.at), updated_by = \(stamp.actorID)
            FROM contacts m WHERE s.id = \(survivorID) AND m.id = \(mergedID)
            """)
        try conn.execute("""
            UPDATE contacts SET deleted_at = \(stamp.at), deleted_by = \(stamp.actorID), merged_into_id = \(survivorID),
                                version = version + 1, updated_at = \(stamp.at), updated_by = \(stamp.actorID)
            WHERE id = \(mergedID)
            """)
        // Renumber positions 0..n-1 on the survivor.
        for table in ["contact_phones", "contact_emails", "contact_messengers"] {
            try conn.execute("""
                UPDATE \(identifier: table) t SET position = r.n - 1
                FROM (SELECT id, row_number() OVER (ORDER BY position, id) AS n FROM \(identifier: table) WHERE contact_id = \(survivorID)) r
                WHERE t.id = r.id
                """)
        }
        let extra = try conn.query("""
            SELECT jsonb_build_object('merged_contact_id', jsonb_build_object('before', NULL, 'after', \(mergedID)),
                                      'moved', jsonb_build_object('before', NULL, 'after', \(movedJSON)::jsonb))::text AS extra
            """).one().decode("extra", as: String.self)
        try audit.record(.contact, id: survivorID, action: "merge", before: beforeSurvivor, stamp: stamp, extra: PostgresJSONB(extra))
        try audit.record(.contact, id: mergedID, action: "merged_into", before: beforeMerged, stamp: stamp)
        var moved: [String: Int] = [:]
        for r in try conn.query("SELECT key, value::bigint AS n FROM jsonb_each_text(\(PostgresJSONB(movedJSON)))") {
            moved[try r.decode("key")] = try r.decode("n")
        }
        return moved
    }

    /// Adds a comment to a live visible contact; it also shows on its company's card.
    /// Audited as `comment`.
    public func comment(contactID: Int64, body: String, visibility: Visibility, stamp: ChangeStamp) throws -> RecordComment {
        guard let r = try conn.query("""
            SELECT c.company_id, c.deleted_at IS NOT NULL AS deleted FROM contacts c
            WHERE c.id = \(contactID) AND \(visibility.predicate(owner: "c.owner_id")) FOR SHARE OF c
            """).first else { throw KontorError.notFound("contact \(contactID)") }
        if try r.decode("deleted", as: Bool.self) { throw KontorError.invalidParams("id", "contact \(contactID) is deleted; restore it first") }
        let companyID = try r.decode("company_id", as: Int64?.self)
        let comment = try Self.comment(conn.query("""
            WITH ins AS (
                INSERT INTO comments (contact_id, company_id, author_id, body, created_at)
                VALUES (\(contactID), \(companyID), \(stamp.actorID), \(body), \(stamp.at))
                RETURNING *
            )
            SELECT ins.id, ins.contact_id, ins.company_id, ins.author_id, u.full_name AS author_name, ins.body, ins.created_at
            FROM ins LEFT JOIN users u ON u.id = ins.author_id
            """).one())
        try recordComment(.contact, id: contactID, comment: comment, stamp: stamp)
        return comment
    }

    func recordComment(_ entity: AuditEntity, id: Int64, comment: RecordComment, stamp: ChangeStamp) throws {
        let after: String = try conn.query("""
            SELECT jsonb_build_object('comment', jsonb_build_object('id', \(comment.id), 'body', \(comment.body)::text))::text AS j
            """).one().decode("j")
        try audit.record(entity, id: id, action: "comment", before: PostgresJSONB("{}"), after: PostgresJSONB(after), stamp: stamp)
    }

    // MARK: - Children and uniqueness

    func writePhones(_ id: Int64, _ phones: [PhoneEntry]) throws {
        for (i, p) in phones.enumerated() {
            let n = p.normalized
            try conn.execute("""
                INSERT INTO contact_phones (contact_id, position, label, written, e164, extension, search_key, valid, kind)
                VALUES (\(id), \(Int32(i)), \(p.label), \(p.written), \(n.e164), \(n.extensionNumber), \(n.searchKey), \(n.isValid), \(n.kind.rawValue))
                """)
        }
    }

    func writeEmails(_ id: Int64, _ emails: [EmailEntry]) throws {
        for (i, e) in emails.enumerated() {
            try conn.execute("""
                INSERT INTO contact_emails (contact_id, position, label, address, normalized)
                VALUES (\(id), \(Int32(i)), \(e.label), \(e.address.address), \(e.address.normalized))
                """)
        }
    }

    func writeMessengers(_ id: Int64, _ messengers: [ContactMessenger]) throws {
        for (i, m) in messengers.enumerated() {
            try conn.execute("""
                INSERT INTO contact_messengers (contact_id, position, kind, external_id, handle)
                VALUES (\(id), \(Int32(i)), \(m.kind), \(m.externalID), \(m.handle))
                """)
        }
    }

    /// The unique keys of a set of phones, e-mails and messengers, with the field each
    /// came from.
    struct Keys {
        var phones: [(e164: String, ext: String, written: String, field: String)] = []
        var emails: [(normalized: String, field: String)] = []
        var messengers: [(kind: MessengerKind, externalID: String?, handle: String?, field: String)] = []
    }

    func keys(_ phones: [PhoneEntry], _ emails: [EmailEntry], _ messengers: [ContactMessenger]) -> Keys {
        var k = Keys()
        for (i, p) in phones.enumerated() {
            if let e = p.normalized.e164 { k.phones.append((e, p.normalized.extensionNumber ?? "", p.written, "phones[\(i)].number")) }
        }
        for (i, e) in emails.enumerated() { k.emails.append((e.address.normalized, "emails[\(i)].address")) }
        for (i, m) in messengers.enumerated() { k.messengers.append((m.kind, m.externalID, m.handle, "messengers[\(i)]")) }
        return k
    }

    func storedKeys(of id: Int64) throws -> Keys {
        var k = Keys()
        for (i, r) in try conn.query("SELECT e164, coalesce(extension, '') AS ext, written FROM contact_phones WHERE contact_id = \(id) AND e164 IS NOT NULL ORDER BY position, id").enumerated() {
            k.phones.append((try r.decode("e164"), try r.decode("ext"), try r.decode("written"), "phones[\(i)].number"))
        }
        for (i, r) in try conn.query("SELECT normalized FROM contact_emails WHERE contact_id = \(id) ORDER BY position, id").enumerated() {
            k.emails.append((try r.decode("normalized"), "emails[\(i)].address"))
        }
        for (i, r) in try conn.query("SELECT kind, external_id, handle FROM contact_messengers WHERE contact_id = \(id) ORDER BY position, id").enumerated() {
            k.messengers.append((try r.decode("kind"), try r.decode("external_id", as: String?.self), try r.decode("handle", as: String?.self), "messengers[\(i)]"))
        }
        return k
    }

    /// The first live contact (other than `excluding`) holding one of `keys`, as a
    /// `duplicate` error.
    func clash(_ keys: Keys, excluding: Int64?) throws -> KontorError {
        func owner(_ sql: SQL) throws -> (Int64, Int64?, String?)? {
            guard let r = try conn.query("""
                SELECT c.id, c.owner_id, u.full_name AS owner_name FROM contacts c LEFT JOIN users u ON u.id = c.owner_id
                WHERE c.deleted_at IS NULL AND c.id IS DISTINCT FROM \(excluding) AND c.id IN (\(sql))
                ORDER BY c.id LIMIT 1
                """).first else { return nil }
            return (try r.decode("id"), try r.decode("owner_id", as: Int64?.self), try r.decode("owner_name", as: String?.self))
        }
        for p in keys.phones {
            if let (id, oid, oname) = try owner("SELECT contact_id FROM contact_phones WHERE live AND e164 = \(p.e164) AND coalesce(extension, '') = \(p.ext)") {
                return duplicateError("the phone \(p.written)", field: p.field, existingID: id, ownerID: oid, ownerName: oname)
            }
        }
        for e in keys.emails {
            if let (id, oid, oname) = try owner("SELECT contact_id FROM contact_emails WHERE live AND normalized = \(e.normalized)") {
                return duplicateError("the e-mail \(e.normalized)", field: e.field, existingID: id, ownerID: oid, ownerName: oname)
            }
        }
        for m in keys.messengers {
            if let (id, oid, oname) = try owner("""
                SELECT contact_id FROM contact_messengers WHERE live AND kind = \(m.kind)
                AND (external_id = \(m.externalID) OR handle = \(m.handle))
                """) {
                return duplicateError("the \(m.kind.rawValue) account", field: m.field, existingID: id, ownerID: oid, ownerName: oname)
            }
        }
        return KontorError(.duplicate, "another live contact has one of these phones, e-mails or messenger accounts")
    }
}
