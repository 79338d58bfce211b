import Foundation
import KontorDomain
import Postgres

/// A new lead.
public struct LeadDraft: Sendable {
    public var contactID: Int64
    public var status: LeadStatus
    public var source: ContactSource
    public var ownerID: Int64?
    public var assignedBy: LeadAssignment
    public var summary: String?
    public var templateID: Int64?
    /// When the window starts (the first inquiry's time; the creation for leads by hand).
    public var lastInquiryAt: Date

    public init(contactID: Int64, status: LeadStatus, source: ContactSource, ownerID: Int64?, assignedBy: LeadAssignment,
                summary: String? = nil, templateID: Int64? = nil, lastInquiryAt: Date) {
        self.contactID = contactID; self.status = status; self.source = source; self.ownerID = ownerID; self.assignedBy = assignedBy
        self.summary = summary; self.templateID = templateID; self.lastInquiryAt = lastInquiryAt
    }
}

/// `lead.list` filters; nil = any. Issue 5's planners use the same filters (e.g.
/// `statuses: [.overdueIdentification]`, `waitingOver: 7200`).
public struct LeadFilter: Sendable {
    public var statuses: [LeadStatus]?
    public var sources: [ContactSource]?
    public var ownerID: Int64?
    public var unowned: Bool
    public var contactID: Int64?
    /// The contact's company (or the company it was qualified into).
    public var companyID: Int64?
    /// Open leads whose oldest unanswered inquiry has waited more than this many seconds
    /// at `now`.
    public var waitingOver: Int?
    public var createdFrom: Date?
    public var createdTo: Date?

    public init(statuses: [LeadStatus]? = nil, sources: [ContactSource]? = nil, ownerID: Int64? = nil, unowned: Bool = false,
                contactID: Int64? = nil, companyID: Int64? = nil, waitingOver: Int? = nil, createdFrom: Date? = nil, createdTo: Date? = nil) {
        self.statuses = statuses; self.sources = sources; self.ownerID = ownerID; self.unowned = unowned; self.contactID = contactID
        self.companyID = companyID; self.waitingOver = waitingOver; self.createdFrom = createdFrom; self.createdTo = createdTo
    }
}

/// A lead row locked for a change.
public struct LockedLead: Sendable {
    public var id: Int64
    public var version: Int
    public var status: LeadStatus
    public var contactID: Int64
    public var ownerID: Int64?
    public var assignedBy: LeadAssignment
}

/// What the read methods need besides the filter: the request's time (waiting is
/// computed from it) and the configured thresholds.
public struct LeadClock: Sendable {
    public var now: Date
    public var thresholds: [Int]
    public init(now: Date, thresholds: [Int]) { self.now = now; self.thresholds = thresholds }
}

/// Leads, their status history and first tasks. Every write is audited (entity `lead`)
/// and every status change recorded in `lead_status_history`; reads apply the caller's
/// `Visibility` to the lead's owner. No role checks.
public struct LeadRepository {
    let conn: PostgresConnection
    var audit: AuditRepository { AuditRepository(conn) }

    public init(_ conn: PostgresConnection) { self.conn = conn }

    /// The display name of contact `c` (a trusted alias), as SQL.
    static func contactName(_ c: String) -> SQL {
        SQL(unsafeSQL: """
            coalesce(\(c).full_name, \(c).organization,
                     (SELECT p.written FROM contact_phones p WHERE p.contact_id = \(c).id ORDER BY p.position, p.id LIMIT 1),
                     (SELECT e.address FROM contact_emails e WHERE e.contact_id = \(c).id ORDER BY e.position, e.id LIMIT 1),
                     (SELECT coalesce('@' || m.handle, m.kind || ' ' || m.external_id) FROM contact_messengers m
                      WHERE m.contact_id = \(c).id ORDER BY m.position, m.id LIMIT 1))
            """)
    }

    static func select(_ vis: Visibility, now: Date) -> SQL {
        """
        SELECT l.id, l.contact_id,
               CASE WHEN \(vis.predicate(owner: "c.owner_id")) THEN \(contactName("c")) END AS contact_name,
               coalesce(l.company_id, c.company_id) AS company_id,
               CASE WHEN co.deleted_at IS NULL AND \(vis.predicate(owner: "co.owner_id")) THEN co.name END AS company_name,
               l.status, st.label AS status_label, l.source, l.owner_id, ou.full_name AS owner_name, l.assigned_by, l.summary,
               l.template_id, l.reject_reason_code, rr.label AS reject_reason_label, l.reject_reason_text, l.last_inquiry_at,
               l.status_changed_at, l.closed_at, w.waiting_since,
               (extract(epoch FROM (\(now)::timestamptz - w.waiting_since)) * 1000000)::bigint AS waiting_micros,
               (SELECT count(*) FROM inquiries i2 WHERE i2.lead_id = l.id) AS inquiry_count,
               l.version, l.created_at, l.created_at::text AS created_at_key, l.created_by, l.updated_at, l.updated_by
        FROM leads l
        JOIN contacts c ON c.id = l.contact_id
        LEFT JOIN companies co ON co.id = coalesce(l.company_id, c.company_id)
        JOIN lead_statuses st ON st.code = l.status
        LEFT JOIN users ou ON ou.id = l.owner_id
        LEFT JOIN lead_rejection_reasons rr ON rr.code = l.reject_reason_code
        LEFT JOIN LATERAL (
            SELECT min(i.received_at) AS waiting_since FROM inquiries i
            WHERE i.lead_id = l.id AND i.first_response_at IS NULL
              AND l.status IN ('inquiry', 'identification', 'overdue_identification')
        ) w ON true
        """
    }

    static func lead(_ r: PostgresRow, thresholds: [Int]) throws -> Lead {
        // One computation for the number shown, the bucket and the `waitingOver` filter (WaitingTime).
        let waiting = try r.decode("waiting_micros", as: Int64?.self).map(WaitingTime.init(micros:))
        return Lead(id: try r.decode("id"), contactID: try r.decode("contact_id"), contactName: try r.decode("contact_name", as: String?.self),
                    companyID: try r.decode("company_id", as: Int64?.self), companyName: try r.decode("company_name", as: String?.self),
                    status: try r.decode("status"), statusLabel: try r.decode("status_label"), source: try r.decode("source"),
                    ownerID: try r.decode("owner_id", as: Int64?.self), ownerName: try r.decode("owner_name", as: String?.self),
                    assignedBy: try r.decode("assigned_by"), summary: try r.decode("summary", as: String?.self),
                    templateID: try r.decode("template_id", as: Int64?.self), rejectReasonCode: try r.decode("reject_reason_code", as: String?.self),
                    rejectReasonLabel: try r.decode("reject_reason_label", as: String?.self),
                    rejectReasonText: try r.decode("reject_reason_text", as: String?.self), lastInquiryAt: try r.decode("last_inquiry_at"),
                    statusChangedAt: try r.decode("status_changed_at"), closedAt: try r.decode("closed_at", as: Date?.self),
                    waitingSince: try r.decode("waiting_since", as: Date?.self), waitingSeconds: waiting?.seconds,
                    waitingOver: waiting?.bucket(thresholds), inquiryCount: try r.decode("inquiry_count"),
                    version: try r.decode("version"), createdAt: try r.decode("created_at"), createdBy: try r.decode("created_by", as: Int64?.self),
                    updatedAt: try r.decode("updated_at"), updatedBy: try r.decode("updated_by", as: Int64?.self))
    }

    // MARK: - Reading

    /// One lead, nil when missing or invisible.
    public func get(id: Int64, visibility: Visibility, clock: LeadClock) throws -> Lead? {
        try conn.query("""
            \(Self.select(visibility, now: clock.now)) WHERE l.id = \(id) AND \(visibility.predicate(owner: "l.owner_id"))
            """).first.map { try Self.lead($0, thresholds: clock.thresholds) }
    }

    static func conditions(_ f: LeadFilter, _ vis: Visibility, now: Date) -> SQL {
        var conds: [SQL] = [vis.predicate(owner: "l.owner_id")]
        if let s = f.statuses { conds.append("l.status = ANY(\(s.map(\.rawValue)))") }
        if let s = f.sources { conds.append("l.source = ANY(\(s.map(\.rawValue)))") }
        if let o = f.ownerID { conds.append("l.owner_id = \(o)") }
        if f.unowned { conds.append("l.owner_id IS NULL") }
        if let c = f.contactID { conds.append("l.contact_id = \(c)") }
        if let co = f.companyID { conds.append("coalesce(l.company_id, c.company_id) = \(co)") }
        if let d = f.createdFrom { conds.append("l.created_at >= \(d)") }
        if let d = f.createdTo { conds.append("l.created_at < \(d)") }
        if let w = f.waitingOver {
            // Strictly over, on the exact wait: WaitingTime.isOver.
            conds.append("w.waiting_since < \(now)::timestamptz - \(Int64(w))::bigint * interval '1 second'")
        }
        return SQL.joined(conds, separator: " AND ")
    }

    /// A page of leads, newest first, and the total the caller can page through. Call
    /// inside `PostgresConnection.snapshot` so the total and the page agree.
    public func list(_ filter: LeadFilter, visibility: Visibility, clock: LeadClock, after cursor: KeysetCursor?, limit: Int) throws -> Page<Lead> {
        let whereSQL = Self.conditions(filter, visibility, now: clock.now)
        let base = Self.select(visibility, now: clock.now)
        let total: Int = try conn.query("SELECT count(*) AS n FROM (\(base) WHERE \(whereSQL)) x").one().decode("n")
        let keyset: SQL = cursor?.after(at: "l.created_at", id: "l.id") ?? "TRUE"
        let rows = try conn.query("\(base) WHERE \(whereSQL) AND \(keyset) ORDER BY l.created_at DESC, l.id DESC LIMIT \(limit + 1)")
        var items = try rows.map { try Self.lead($0, thresholds: clock.thresholds) }
        var next: KeysetCursor?
        if items.count > limit {
            items.removeLast()
            next = KeysetCursor(at: try rows[limit - 1].decode("created_at_key"), id: items[limit - 1].id)
        }
        return Page(items: items, total: total, next: next)
    }

    /// The lead's status changes, oldest first.
    public func history(leadID: Int64) throws -> [LeadHistoryEntry] {
        try conn.query("""
            SELECT h.id, h.from_status, h.to_status, h.cause, h.at, h.actor_id, u.full_name AS actor_name, h.method, h.reason_code,
                   h.reason_text, h.inquiry_id
            FROM lead_status_history h LEFT JOIN users u ON u.id = h.actor_id
            WHERE h.lead_id = \(leadID) ORDER BY h.id
            """).map { r in
            LeadHistoryEntry(id: try r.decode("id"), fromStatus: try r.decode("from_status", as: LeadStatus?.self), toStatus: try r.decode("to_status"),
                             cause: try r.decode("cause"), at: try r.decode("at"), actorID: try r.decode("actor_id", as: Int64?.self),
                             actorName: try r.decode("actor_name", as: String?.self), method: try r.decode("method"),
                             reasonCode: try r.decode("reason_code", as: String?.self), reasonText: try r.decode("reason_text", as: String?.self),
                             inquiryID: try r.decode("inquiry_id", as: Int64?.self))
        }
    }

    /// The first task the lead's template asked for, if any.
    public func firstTask(leadID: Int64) throws -> LeadFirstTask? {
        try conn.query("SELECT title, due_at, assignee_id, task_id FROM lead_first_tasks WHERE lead_id = \(leadID)").first.map { r in
            LeadFirstTask(title: try r.decode("title"), dueAt: try r.decode("due_at", as: Date?.self),
                          assigneeID: try r.decode("assignee_id", as: Int64?.self), taskID: try r.decode("task_id", as: Int64?.self))
        }
    }

    /// The ids of the leads a caller may see among `ids`.
    public func visibleIDs(_ ids: [Int64], visibility: Visibility) throws -> Set<Int64> {
        if ids.isEmpty { return [] }
        return Set(try conn.query("SELECT l.id FROM leads l WHERE l.id = ANY(\(ids)) AND \(visibility.predicate(owner: "l.owner_id"))").map {
            try $0.decode("id")
        })
    }

    // MARK: - Ingestion support

    /// Locks a contact so that inquiries of one contact are attached one at a time (two
    /// calls from one client at once make one lead). A contact merged meanwhile is
    /// followed to the card it was merged into.
    /// - Returns: the contact locked, its owner (when an active sales user or admin) and
    ///   whether it is live; nil when it does not exist.
    public func lockContact(_ id: Int64) throws -> (id: Int64, ownerID: Int64?, live: Bool)? {
        var current = id
        for _ in 0..<10 {
            guard let r = try conn.query("""
                SELECT c.deleted_at IS NULL AS live, c.merged_into_id,
                       CASE WHEN u.active AND u.role IN ('user', 'admin') THEN c.owner_id END AS owner_id
                FROM contacts c LEFT JOIN users u ON u.id = c.owner_id
                WHERE c.id = \(current) FOR NO KEY UPDATE OF c
                """).first else { return nil }
            if let next = try r.decode("merged_into_id", as: Int64?.self) {
                current = next
                continue
            }
            return (current, try r.decode("owner_id", as: Int64?.self), try r.decode("live"))
        }
        return nil
    }

    /// The contact's open lead that an inquiry received at `at` joins, locked: one whose
    /// latest inquiry (or start, for a lead made by hand) or any of whose inquiries lies
    /// within `window` seconds of `at`, on either side; the most recently active one when
    /// several do. Bounded on both sides, so a lead whose latest inquiry is dated far
    /// ahead does not take every later inquiry.
    public func openLead(contactID: Int64, around at: Date, window: TimeInterval) throws -> LockedLead? {
        let from = at.addingTimeInterval(-window), to = at.addingTimeInterval(window)
        return try conn.query("""
            SELECT l.id, l.version, l.status, l.contact_id, l.owner_id, l.assigned_by FROM leads l
            WHERE l.contact_id = \(contactID) AND l.status IN ('inquiry', 'identification', 'overdue_identification')
              AND (l.last_inquiry_at BETWEEN \(from) AND \(to)
                   OR EXISTS (SELECT 1 FROM inquiries i WHERE i.lead_id = l.id AND i.received_at BETWEEN \(from) AND \(to)))
            ORDER BY l.last_inquiry_at DESC, l.id DESC LIMIT 1
            FOR UPDATE OF l
            """).first.map(Self.locked)
    }

    /// The contact's most recently active open lead (for linking outbound calls and replies).
    public func latestOpenLead(contactID: Int64) throws -> Int64? {
        try conn.query("""
            SELECT id FROM leads WHERE contact_id = \(contactID) AND status IN ('inquiry', 'identification', 'overdue_identification')
            ORDER BY last_inquiry_at DESC, id DESC LIMIT 1
            """).first?.decode("id")
    }

    static func locked(_ r: PostgresRow) throws -> LockedLead {
        LockedLead(id: try r.decode("id"), version: try r.decode("version"), status: try r.decode("status"), contactID: try r.decode("contact_id"),
                   ownerID: try r.decode("owner_id", as: Int64?.self), assignedBy: try r.decode("assigned_by"))
    }

    /// Locks a lead by id without visibility (ingestion and the sweep act for everyone).
    public func lock(_ id: Int64) throws -> LockedLead? {
        try conn.query("SELECT id, version, status, contact_id, owner_id, assigned_by FROM leads WHERE id = \(id) FOR UPDATE").first.map(Self.locked)
    }

    /// Locks a visible lead and checks its version.
    /// - Throws: `not_found` (missing or invisible), `conflict` (stale version).
    public func lock(_ id: Int64, version: Int?, visibility: Visibility) throws -> LockedLead {
        guard let r = try conn.query("""
            SELECT l.id, l.version, l.status, l.contact_id, l.owner_id, l.assigned_by FROM leads l
            WHERE l.id = \(id) AND \(visibility.predicate(owner: "l.owner_id")) FOR UPDATE OF l
            """).first else { throw KontorError.notFound("lead \(id)") }
        let l = try Self.locked(r)
        if let version, version != l.version { throw KontorError.conflict(currentVersion: l.version) }
        return l
    }

    /// Moves the lead's window forward to `at` (never back).
    public func touch(leadID: Int64, inquiryAt at: Date) throws {
        try conn.execute("UPDATE leads SET last_inquiry_at = \(at) WHERE id = \(leadID) AND last_inquiry_at < \(at)")
    }

    // MARK: - Writing

    /// Creates a lead with its creation in the history; audited as `create`.
    /// - Parameter zone: the business time zone (for `created_period`).
    public func create(_ d: LeadDraft, zone: String, cause inquiryID: Int64? = nil, stamp: ChangeStamp) throws -> Int64 {
        let id: Int64 = try conn.query("""
            INSERT INTO leads (contact_id, status, source, owner_id, assigned_by, summary, template_id, last_inquiry_at, status_changed_at,
                               closed_at, created_at, created_by, created_period, updated_at, updated_by)
            VALUES (\(d.contactID), \(d.status), \(d.source), \(d.ownerID), \(d.assignedBy), \(d.summary), \(d.templateID), \(d.lastInquiryAt),
                    \(stamp.at), NULL, \(stamp.at), \(stamp.actorID), \(periodSQL("\(d.lastInquiryAt)::timestamptz", zone: zone)), \(stamp.at), \(stamp.actorID))
            RETURNING id
            """).one().decode("id")
        try writeHistory(id, from: nil, to: d.status, cause: .created, inquiryID: inquiryID, stamp: stamp)
        try audit.record(.lead, id: id, action: "create", before: nil, stamp: stamp)
        return id
    }

    func writeHistory(_ id: Int64, from: LeadStatus?, to: LeadStatus, cause: LeadCause, reasonCode: String? = nil, reasonText: String? = nil,
                      inquiryID: Int64?, stamp: ChangeStamp) throws {
        try conn.execute("""
            INSERT INTO lead_status_history (lead_id, from_status, to_status, cause, at, actor_id, method, reason_code, reason_text, inquiry_id)
            VALUES (\(id), \(from), \(to), \(cause), \(stamp.at), \(stamp.actorID), \(stamp.method), \(reasonCode), \(reasonText), \(inquiryID))
            """)
    }

    /// Moves a locked lead to `to`, recording who, when and why; audited as `status`.
    /// The caller checked the move (`LeadRules`).
    public func transition(_ lead: LockedLead, to: LeadStatus, cause: LeadCause, reasonCode: String? = nil, reasonText: String? = nil,
                           companyID: Int64? = nil, inquiryID: Int64? = nil, stamp: ChangeStamp) throws {
        let before = try audit.snapshot(.lead, id: lead.id)
        try conn.execute("""
            UPDATE leads SET status = \(to), status_changed_at = \(stamp.at),
                closed_at = CASE WHEN \(to.isOpen) THEN NULL ELSE \(stamp.at)::timestamptz END,
                reject_reason_code = CASE WHEN \(to == .rejected) THEN \(reasonCode) ELSE NULL END,
                reject_reason_text = CASE WHEN \(to == .rejected) THEN \(reasonText) ELSE NULL END,
                company_id = CASE WHEN \(to == .target) THEN \(companyID) WHEN \(to.isOpen) THEN NULL ELSE company_id END,
                version = version + 1, updated_at = \(stamp.at), updated_by = \(stamp.actorID)
            WHERE id = \(lead.id)
            """)
        try writeHistory(lead.id, from: lead.status, to: to, cause: cause, reasonCode: reasonCode, reasonText: reasonText,
                         inquiryID: inquiryID, stamp: stamp)
        try audit.record(.lead, id: lead.id, action: "status", before: before, stamp: stamp)
    }

    /// The status a lead had before it was last closed (for `lead.reopen`).
    public func statusBeforeClose(leadID: Int64) throws -> LeadStatus? {
        try conn.query("""
            SELECT from_status FROM lead_status_history
            WHERE lead_id = \(leadID) AND to_status IN ('target', 'rejected') ORDER BY id DESC LIMIT 1
            """).first?.decode("from_status", as: LeadStatus?.self)
    }

    /// Changes the summary and/or owner of a locked lead; audited as `update` (nothing
    /// written when nothing changed).
    public func update(_ lead: LockedLead, summary: String??, owner: (id: Int64?, by: LeadAssignment)?, stamp: ChangeStamp) throws {
        let before = try audit.snapshot(.lead, id: lead.id)
        try conn.execute("""
            UPDATE leads SET
                summary = CASE WHEN \(summary != nil) THEN \(summary ?? nil) ELSE summary END,
                owner_id = CASE WHEN \(owner != nil) THEN \(owner.flatMap { $0.id }) ELSE owner_id END,
                assigned_by = CASE WHEN \(owner != nil) THEN \(owner?.by ?? lead.assignedBy) ELSE assigned_by END,
                version = version + 1, updated_at = \(stamp.at), updated_by = \(stamp.actorID)
            WHERE id = \(lead.id)
              AND (summary IS DISTINCT FROM CASE WHEN \(summary != nil) THEN \(summary ?? nil) ELSE summary END
                   OR owner_id IS DISTINCT FROM CASE WHEN \(owner != nil) THEN \(owner.flatMap { $0.id }) ELSE owner_id END
                   OR assigned_by IS DISTINCT FROM CASE WHEN \(owner != nil) THEN \(owner?.by ?? lead.assignedBy) ELSE assigned_by END)
            """)
        try audit.record(.lead, id: lead.id, action: "update", before: before, stamp: stamp)
    }

    /// Stores the first task a template asked for (issue 5 makes it a task).
    public func setFirstTask(leadID: Int64, _ task: LeadFirstTask, at: Date) throws {
        try conn.execute("""
            INSERT INTO lead_first_tasks (lead_id, title, due_at, assignee_id, created_at)
            VALUES (\(leadID), \(task.title), \(task.dueAt), \(task.assigneeID), \(at))
            """)
    }

    /// The ids of the contact's lead ids that are open and not yet identified
    /// (`inquiry`, `overdue_identification`) among `ids`, locked, in id order.
    public func lockUnidentified(_ ids: [Int64]) throws -> [LockedLead] {
        if ids.isEmpty { return [] }
        return try conn.query("""
            SELECT id, version, status, contact_id, owner_id, assigned_by FROM leads
            WHERE id = ANY(\(ids)) AND status IN ('inquiry', 'overdue_identification')
            ORDER BY id FOR UPDATE
            """).map(Self.locked)
    }
}
