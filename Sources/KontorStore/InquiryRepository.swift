import Foundation
import KontorDomain
import Postgres

/// `inquiry.list` filters; nil = any. Issue 5's planners use `unanswered` and
/// `waitingOver` ("inquiries left unanswered for a long time").
public struct InquiryFilter: Sendable {
    public var leadID: Int64?
    public var contactID: Int64?
    public var companyID: Int64?
    /// The lead's owner.
    public var ownerID: Int64?
    public var sources: [ContactSource]?
    /// Only inquiries of open leads without a response yet.
    public var unanswered: Bool
    /// Only unanswered inquiries of open leads that have waited more than this many
    /// seconds at `now`.
    public var waitingOver: Int?
    /// Only inquiries that became overdue.
    public var overdue: Bool
    public var receivedFrom: Date?
    public var receivedTo: Date?

    public init(leadID: Int64? = nil, contactID: Int64? = nil, companyID: Int64? = nil, ownerID: Int64? = nil, sources: [ContactSource]? = nil,
                unanswered: Bool = false, waitingOver: Int? = nil, overdue: Bool = false, receivedFrom: Date? = nil, receivedTo: Date? = nil) {
        self.leadID = leadID; self.contactID = contactID; self.companyID = companyID; self.ownerID = ownerID; self.sources = sources
        self.unanswered = unanswered; self.waitingOver = waitingOver; self.overdue = overdue; self.receivedFrom = receivedFrom
        self.receivedTo = receivedTo
    }
}

/// An inquiry and its lead, as touched by a response.
public struct RespondedInquiry: Sendable {
    public var id: Int64
    public var leadID: Int64
}

/// Inquiries: creation, attaching, first responses, the overdue sweep, reads. Reads
/// apply the caller's `Visibility` to the owner of the inquiry's lead. No role checks.
public struct InquiryRepository {
    let conn: PostgresConnection

    public init(_ conn: PostgresConnection) { self.conn = conn }

    // MARK: - Writing

    /// A new inquiry of a lead. - Parameter zone: the business time zone.
    public func create(leadID: Int64, contactID: Int64, source: ContactSource, kind: InquiryKind, receivedAt: Date, zone: String,
                       stamp: ChangeStamp) throws -> Int64 {
        try conn.query("""
            INSERT INTO inquiries (lead_id, contact_id, source, kind, received_at, received_period, created_at, created_by)
            VALUES (\(leadID), \(contactID), \(source), \(kind), \(receivedAt), \(periodSQL("\(receivedAt)::timestamptz", zone: zone)),
                    \(stamp.at), \(stamp.actorID))
            RETURNING id
            """).one().decode("id")
    }

    /// The lead's message inquiry in `source` still waiting for an answer, if any (a
    /// client's follow-up messages before anyone answered join it).
    public func waitingMessageInquiry(leadID: Int64, source: ContactSource) throws -> Int64? {
        try conn.query("""
            SELECT id FROM inquiries
            WHERE lead_id = \(leadID) AND source = \(source) AND kind = 'message' AND first_response_at IS NULL
            ORDER BY received_at DESC, id DESC LIMIT 1 FOR UPDATE
            """).first?.decode("id")
    }

    /// Moves the inquiry's reception back to `at` when a leg of its call that started
    /// earlier arrives late.
    public func receivedNoLaterThan(_ id: Int64, at: Date, zone: String) throws {
        try conn.execute("""
            UPDATE inquiries SET received_at = \(at), received_period = \(periodSQL("\(at)::timestamptz", zone: zone))
            WHERE id = \(id) AND received_at > \(at)
            """)
    }

    /// Records a first response at `at` on every inquiry of the contact received by then
    /// and still unanswered.
    /// - Returns: the inquiries answered now, with their leads.
    public func respond(contactID: Int64, at: Date, by: Int64?, kind: ResponseKind) throws -> [RespondedInquiry] {
        try conn.query("""
            UPDATE inquiries SET first_response_at = \(at), first_response_by = \(by), first_response_kind = \(kind)
            WHERE contact_id = \(contactID) AND first_response_at IS NULL AND received_at <= \(at)
            RETURNING id, lead_id
            """).map { RespondedInquiry(id: try $0.decode("id"), leadID: try $0.decode("lead_id")) }
    }

    /// Marks a call's inquiry overdue at `at` (a missed call), unless answered.
    public func markMissed(_ id: Int64, at: Date) throws {
        try conn.execute("""
            UPDATE inquiries SET overdue_at = \(at) WHERE id = \(id) AND overdue_at IS NULL AND first_response_at IS NULL
            """)
    }

    /// Clears a call inquiry's overdue mark: a later leg showed the call was answered.
    public func clearMissed(_ id: Int64) throws {
        try conn.execute("UPDATE inquiries SET overdue_at = NULL WHERE id = \(id) AND kind = 'call' AND overdue_at IS NOT NULL")
    }

    /// The leads of the contact's inquiries received by `at` and still unanswered.
    public func unansweredLeadIDs(contactID: Int64, at: Date) throws -> [Int64] {
        try conn.query("""
            SELECT DISTINCT lead_id FROM inquiries
            WHERE contact_id = \(contactID) AND first_response_at IS NULL AND received_at <= \(at)
            """).map { try $0.decode("lead_id") }
    }

    /// Message inquiries of open leads unanswered `timeout` seconds after reception at
    /// `now` and not yet marked, oldest first (not locked: the sweep locks each one's lead, then marks
    /// it with `markOverdue`, which re-checks).
    /// - Returns: inquiry, lead and the instant each became overdue.
    public func overdueMessageCandidates(now: Date, timeout: Int, limit: Int) throws -> [(id: Int64, leadID: Int64, dueAt: Date)] {
        try conn.query("""
            SELECT i.id, i.lead_id, i.received_at + \(Int64(timeout))::bigint * interval '1 second' AS due_at
            FROM inquiries i JOIN leads l ON l.id = i.lead_id
            WHERE i.kind = 'message' AND i.first_response_at IS NULL AND i.overdue_at IS NULL
              AND l.status IN ('inquiry', 'identification', 'overdue_identification')
              AND i.received_at <= \(now)::timestamptz - \(Int64(timeout))::bigint * interval '1 second'
            ORDER BY i.received_at, i.id
            LIMIT \(limit)
            """).map { (try $0.decode("id"), try $0.decode("lead_id"), try $0.decode("due_at")) }
    }

    /// Marks a message inquiry overdue at `at` if it is still unanswered and unmarked.
    /// - Returns: whether it was marked now.
    public func markOverdue(_ id: Int64, at: Date) throws -> Bool {
        try conn.execute("""
            UPDATE inquiries i SET overdue_at = \(at) FROM leads l
            WHERE i.id = \(id) AND l.id = i.lead_id AND i.overdue_at IS NULL AND i.first_response_at IS NULL
              AND l.status IN ('inquiry', 'identification', 'overdue_identification')
            """) > 0
    }

    /// When the next message inquiry will become overdue, nil when none is waiting.
    public func nextMessageDeadline(timeout: Int) throws -> Date? {
        try conn.query("""
            SELECT min(i.received_at) + \(Int64(timeout))::bigint * interval '1 second' AS due
            FROM inquiries i JOIN leads l ON l.id = i.lead_id
            WHERE i.kind = 'message' AND i.first_response_at IS NULL AND i.overdue_at IS NULL
              AND l.status IN ('inquiry', 'identification', 'overdue_identification')
            """).one().decode("due", as: Date?.self)
    }

    // MARK: - Reading

    static func select(_ vis: Visibility, now: Date) -> SQL {
        """
        SELECT i.id, i.lead_id, l.status AS lead_status, l.owner_id, ou.full_name AS owner_name, i.contact_id,
               CASE WHEN \(vis.predicate(owner: "c.owner_id")) THEN \(LeadRepository.contactName("c")) END AS contact_name,
               i.source, i.kind, i.received_at, i.received_at::text AS received_at_key, i.first_response_at, i.first_response_by,
               ru.full_name AS first_response_by_name, i.first_response_kind,
               greatest(0, floor(extract(epoch FROM i.first_response_at - i.received_at)))::bigint AS response_seconds,
               CASE WHEN i.first_response_at IS NULL
                    THEN greatest(0, floor(extract(epoch FROM \(now)::timestamptz - i.received_at)))::bigint END AS waiting_seconds,
               i.overdue_at,
               (SELECT min(ca.id) FROM calls ca WHERE ca.inquiry_id = i.id) AS call_id,
               (SELECT count(*) FROM messages m WHERE m.inquiry_id = i.id AND m.edit_of IS NULL) AS messages
        FROM inquiries i
        JOIN leads l ON l.id = i.lead_id
        JOIN contacts c ON c.id = i.contact_id
        LEFT JOIN users ou ON ou.id = l.owner_id
        LEFT JOIN users ru ON ru.id = i.first_response_by
        """
    }

    static func inquiry(_ r: PostgresRow) throws -> Inquiry {
        Inquiry(id: try r.decode("id"), leadID: try r.decode("lead_id"), leadStatus: try r.decode("lead_status"),
                ownerID: try r.decode("owner_id", as: Int64?.self), ownerName: try r.decode("owner_name", as: String?.self),
                contactID: try r.decode("contact_id"), contactName: try r.decode("contact_name", as: String?.self), source: try r.decode("source"),
                kind: try r.decode("kind"), receivedAt: try r.decode("received_at"), firstResponseAt: try r.decode("first_response_at", as: Date?.self),
                firstResponseBy: try r.decode("first_response_by", as: Int64?.self),
                firstResponseByName: try r.decode("first_response_by_name", as: String?.self),
                firstResponseKind: try r.decode("first_response_kind", as: ResponseKind?.self),
                responseSeconds: try r.decode("response_seconds", as: Int64?.self).map { Int($0) },
                waitingSeconds: try r.decode("waiting_seconds", as: Int64?.self).map { Int($0) },
                overdueAt: try r.decode("overdue_at", as: Date?.self), callID: try r.decode("call_id", as: Int64?.self),
                messages: try r.decode("messages"))
    }

    static func conditions(_ f: InquiryFilter, _ vis: Visibility, now: Date) -> SQL {
        var conds: [SQL] = [vis.predicate(owner: "l.owner_id")]
        if let id = f.leadID { conds.append("i.lead_id = \(id)") }
        if let id = f.contactID { conds.append("i.contact_id = \(id)") }
        if let id = f.companyID { conds.append("c.company_id = \(id)") }
        if let id = f.ownerID { conds.append("l.owner_id = \(id)") }
        if let s = f.sources { conds.append("i.source = ANY(\(s.map(\.rawValue)))") }
        // Waiting means waiting on an open lead: qualifying or rejecting a lead works its inquiries.
        if f.unanswered { conds.append("i.first_response_at IS NULL AND l.status IN ('inquiry', 'identification', 'overdue_identification')") }
        if let w = f.waitingOver {
            conds.append("""
                i.first_response_at IS NULL AND l.status IN ('inquiry', 'identification', 'overdue_identification')
                AND i.received_at < \(now)::timestamptz - \(Int64(w))::bigint * interval '1 second'
                """)
        }
        if f.overdue { conds.append("i.overdue_at IS NOT NULL") }
        if let d = f.receivedFrom { conds.append("i.received_at >= \(d)") }
        if let d = f.receivedTo { conds.append("i.received_at < \(d)") }
        return SQL.joined(conds, separator: " AND ")
    }

    /// A page of inquiries, newest first, with the total. Call inside a snapshot.
    public func list(_ filter: InquiryFilter, visibility: Visibility, now: Date, after cursor: KeysetCursor?, limit: Int) throws -> Page<Inquiry> {
        let whereSQL = Self.conditions(filter, visibility, now: now)
        let total: Int = try conn.query("""
            SELECT count(*) AS n FROM inquiries i JOIN leads l ON l.id = i.lead_id JOIN contacts c ON c.id = i.contact_id WHERE \(whereSQL)
            """).one().decode("n")
        let keyset: SQL = cursor?.after(at: "i.received_at", id: "i.id") ?? "TRUE"
        let rows = try conn.query("""
            \(Self.select(visibility, now: now)) WHERE \(whereSQL) AND \(keyset) ORDER BY i.received_at DESC, i.id DESC LIMIT \(limit + 1)
            """)
        var items = try rows.map(Self.inquiry)
        var next: KeysetCursor?
        if items.count > limit {
            items.removeLast()
            next = KeysetCursor(at: try rows[limit - 1].decode("received_at_key"), id: items[limit - 1].id)
        }
        return Page(items: items, total: total, next: next)
    }

    /// The inquiries of one lead, oldest first (the caller checked the lead's visibility).
    public func forLead(_ leadID: Int64, visibility: Visibility, now: Date) throws -> [Inquiry] {
        try conn.query("\(Self.select(visibility, now: now)) WHERE i.lead_id = \(leadID) ORDER BY i.received_at, i.id").map(Self.inquiry)
    }

    /// Inquiries by id, as the caller sees them.
    public func get(ids: [Int64], visibility: Visibility, now: Date) throws -> [Inquiry] {
        if ids.isEmpty { return [] }
        return try conn.query("""
            \(Self.select(visibility, now: now)) WHERE i.id = ANY(\(ids)) AND \(visibility.predicate(owner: "l.owner_id")) ORDER BY i.received_at, i.id
            """).map(Self.inquiry)
    }
}
