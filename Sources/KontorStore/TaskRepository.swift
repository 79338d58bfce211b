import Foundation
import KontorDomain
import Postgres

extension TaskStatus: PostgresCodable {
    public var postgresText: String { rawValue }
    public init?(postgresText text: String) { self.init(rawValue: text) }
}

extension AuditEntity {
    /// Tasks: title, notes, status, assignee, due time, source, related records.
    public static let task = AuditEntity(name: "task", snapshotFunction: "tasks_snapshot")
}

/// A new task, cleaned and checked by the caller.
public struct TaskDraft: Sendable {
    /// What to do.
    public var title: String
    /// Details.
    public var notes: String?
    /// Who does it (nil: unassigned).
    public var assigneeID: Int64?
    /// When it is due.
    public var dueAt: Date?
    /// The channel the work came from.
    public var source: ContactSource
    /// The contact it concerns.
    public var contactID: Int64?
    /// The company it concerns.
    public var companyID: Int64?
    /// The lead it concerns.
    public var leadID: Int64?

    /// Makes one from its fields.
    public init(title: String, notes: String? = nil, assigneeID: Int64?, dueAt: Date?, source: ContactSource, contactID: Int64? = nil,
                companyID: Int64? = nil, leadID: Int64? = nil) {
        self.title = title; self.notes = notes; self.assigneeID = assigneeID; self.dueAt = dueAt; self.source = source
        self.contactID = contactID; self.companyID = companyID; self.leadID = leadID
    }
}

/// Changes to a task: nil = leave; `.some(nil)` = clear.
public struct TaskChanges: Sendable {
    /// The new title.
    public var title: String?
    /// New notes; `.some(nil)` clears.
    public var notes: String??
    /// The new assignee; `.some(nil)` unassigns.
    public var assigneeID: Int64??
    /// The new due time; `.some(nil)` clears.
    public var dueAt: Date??
    /// The new source.
    public var source: ContactSource?

    /// Makes one from its fields.
    public init(title: String? = nil, notes: String?? = nil, assigneeID: Int64?? = nil, dueAt: Date?? = nil, source: ContactSource? = nil) {
        self.title = title; self.notes = notes; self.assigneeID = assigneeID; self.dueAt = dueAt; self.source = source
    }
}

/// `task.list` filters; nil = any. The planners use the same filters.
public struct TaskFilter: Sendable {
    /// Statuses wanted; nil = any.
    public var statuses: [TaskStatus]?
    /// Only tasks of this assignee.
    public var assigneeID: Int64?
    /// Several assignees (a planner for a group).
    public var assigneeIDs: [Int64]?
    /// Only tasks without an assignee.
    public var unassigned: Bool
    /// Open tasks due before this instant (overdue at `now`).
    public var dueBefore: Date?
    /// Due within `[from, to)`.
    public var dueFrom: Date?
    /// Due before this instant.
    public var dueTo: Date?
    /// Only tasks without a due time.
    public var noDue: Bool
    /// Channels wanted; nil = any.
    public var sources: [ContactSource]?
    /// Tasks whose related inquiry has waited more than this many seconds at `now`.
    public var waitingOver: Int?
    /// Only tasks about this contact.
    public var contactID: Int64?
    /// Only tasks about this company or its contacts.
    public var companyID: Int64?
    /// Only tasks about this lead.
    public var leadID: Int64?

    /// Makes one from its fields.
    public init(statuses: [TaskStatus]? = nil, assigneeID: Int64? = nil, assigneeIDs: [Int64]? = nil, unassigned: Bool = false,
                dueBefore: Date? = nil, dueFrom: Date? = nil, dueTo: Date? = nil, noDue: Bool = false, sources: [ContactSource]? = nil,
                waitingOver: Int? = nil, contactID: Int64? = nil, companyID: Int64? = nil, leadID: Int64? = nil) {
        self.statuses = statuses; self.assigneeID = assigneeID; self.assigneeIDs = assigneeIDs; self.unassigned = unassigned
        self.dueBefore = dueBefore; self.dueFrom = dueFrom; self.dueTo = dueTo; self.noDue = noDue; self.sources = sources
        self.waitingOver = waitingOver; self.contactID = contactID; self.companyID = companyID; self.leadID = leadID
    }
}

/// A task row locked for a change.
public struct LockedTask: Sendable {
    /// The record id.
    public var id: Int64
    /// Its version.
    public var version: Int
    /// Its status.
    public var status: TaskStatus
    /// Its assignee.
    public var assigneeID: Int64?
}

/// A first task of a lead template not yet made into a task (`lead_first_tasks`).
public struct PendingFirstTask: Sendable {
    /// The lead.
    public var leadID: Int64
    /// The task title.
    public var title: String
    /// When the task is due.
    public var dueAt: Date?
    /// Who does it.
    public var assigneeID: Int64?
    /// When the row was written.
    public var createdAt: Date
    /// The lead's source, contact and creator.
    public var source: ContactSource
    /// The lead's contact.
    public var contactID: Int64
    /// Who made the lead.
    public var createdBy: Int64?
}

/// Tasks. Every write is audited (entity `task`); reads apply the caller's `Visibility`
/// to the assignee (the records rule: a user sees the tasks of their department's
/// members and unassigned ones). No role checks.
public struct TaskRepository {
    let conn: PostgresConnection
    var audit: AuditRepository { AuditRepository(conn) }

    /// Makes one from its fields.
    public init(_ conn: PostgresConnection) { self.conn = conn }

    /// A far-future stand-in for "no due time" in the list order and its cursor.
    static let noDueKey = "9999-12-31 00:00:00+00"

    static func select(_ vis: Visibility, now: Date) -> SQL {
        """
        SELECT t.id, t.title, t.notes, t.status, t.assignee_id, au.full_name AS assignee_name, t.due_at,
               (t.status = 'open' AND t.due_at < \(now)::timestamptz) AS overdue, t.source, t.contact_id,
               CASE WHEN c.id IS NOT NULL AND \(vis.predicate(owner: "c.owner_id")) THEN \(LeadRepository.contactName("c")) END AS contact_name,
               t.company_id, CASE WHEN co.id IS NOT NULL AND \(vis.predicate(owner: "co.owner_id")) THEN co.name END AS company_name,
               t.lead_id, l.status AS lead_status, w.waiting_since,
               (extract(epoch FROM (\(now)::timestamptz - w.waiting_since)) * 1000000)::bigint AS waiting_micros,
               t.completed_at, t.completed_by, t.completion_note, t.version, t.created_at, t.created_by, t.updated_at, t.updated_by,
               coalesce(t.due_at, \(noDueKey)::timestamptz)::text AS due_key
        FROM tasks t
        LEFT JOIN users au ON au.id = t.assignee_id
        LEFT JOIN contacts c ON c.id = t.contact_id
        LEFT JOIN companies co ON co.id = t.company_id
        LEFT JOIN leads l ON l.id = t.lead_id
        LEFT JOIN LATERAL (
            SELECT min(i.received_at) AS waiting_since
            FROM inquiries i JOIN leads wl ON wl.id = i.lead_id
            WHERE i.first_response_at IS NULL AND wl.status IN ('inquiry', 'identification', 'overdue_identification')
              AND (i.lead_id = t.lead_id OR (t.lead_id IS NULL AND i.contact_id = t.contact_id))
        ) w ON true
        """
    }

    static func task(_ r: PostgresRow, thresholds: [Int]) throws -> TaskRecord {
        // The lead lists' rule (WaitingTime): the exact wait decides the bucket, as it decides
        // the `waiting_over` filter, so a task the filter returns reports that bucket too.
        let waiting = try r.decode("waiting_micros", as: Int64?.self).map(WaitingTime.init(micros:))
        return TaskRecord(id: try r.decode("id"), title: try r.decode("title"), notes: try r.decode("notes", as: String?.self),
                          status: try r.decode("status"), assigneeID: try r.decode("assignee_id", as: Int64?.self),
                          assigneeName: try r.decode("assignee_name", as: String?.self), dueAt: try r.decode("due_at", as: Date?.self),
                          overdue: try r.decode("overdue", as: Bool?.self) ?? false, source: try r.decode("source"),
                          contactID: try r.decode("contact_id", as: Int64?.self), contactName: try r.decode("contact_name", as: String?.self),
                          companyID: try r.decode("company_id", as: Int64?.self), companyName: try r.decode("company_name", as: String?.self),
                          leadID: try r.decode("lead_id", as: Int64?.self), leadStatus: try r.decode("lead_status", as: LeadStatus?.self),
                          waitingSince: try r.decode("waiting_since", as: Date?.self), waitingSeconds: waiting?.seconds,
                          waitingOver: waiting?.bucket(thresholds),
                          completedAt: try r.decode("completed_at", as: Date?.self), completedBy: try r.decode("completed_by", as: Int64?.self),
                          completionNote: try r.decode("completion_note", as: String?.self), version: try r.decode("version"),
                          createdAt: try r.decode("created_at"), createdBy: try r.decode("created_by", as: Int64?.self),
                          updatedAt: try r.decode("updated_at"), updatedBy: try r.decode("updated_by", as: Int64?.self))
    }

    // MARK: - Reading

    /// One task, nil when missing or invisible.
    public func get(id: Int64, visibility: Visibility, clock: LeadClock) throws -> TaskRecord? {
        try conn.query("""
            \(Self.select(visibility, now: clock.now)) WHERE t.id = \(id) AND \(visibility.predicate(owner: "t.assignee_id"))
            """).first.map { try Self.task($0, thresholds: clock.thresholds) }
    }

    /// Whether the task exists and the caller may see it.
    public func isVisible(_ id: Int64, visibility: Visibility) throws -> Bool {
        try !conn.query("SELECT 1 FROM tasks t WHERE t.id = \(id) AND \(visibility.predicate(owner: "t.assignee_id"))").isEmpty
    }

    static func conditions(_ f: TaskFilter, _ vis: Visibility, now: Date) -> SQL {
        var conds: [SQL] = [vis.predicate(owner: "t.assignee_id")]
        if let s = f.statuses { conds.append("t.status = ANY(\(s.map(\.rawValue)))") }
        if let a = f.assigneeID { conds.append("t.assignee_id = \(a)") }
        if let a = f.assigneeIDs { conds.append("t.assignee_id = ANY(\(a))") }
        if f.unassigned { conds.append("t.assignee_id IS NULL") }
        if let d = f.dueBefore { conds.append("t.status = 'open' AND t.due_at < \(d)") }
        if let d = f.dueFrom { conds.append("t.due_at >= \(d)") }
        if let d = f.dueTo { conds.append("t.due_at < \(d)") }
        if f.noDue { conds.append("t.due_at IS NULL") }
        if let s = f.sources { conds.append("t.source = ANY(\(s.map(\.rawValue)))") }
        if let w = f.waitingOver {
            conds.append("w.waiting_since < \(now)::timestamptz - \(Int64(w))::bigint * interval '1 second'")
        }
        if let c = f.contactID { conds.append("t.contact_id = \(c)") }
        if let c = f.companyID { conds.append("(t.company_id = \(c) OR c.company_id = \(c))") }
        if let l = f.leadID { conds.append("t.lead_id = \(l)") }
        return SQL.joined(conds, separator: " AND ")
    }

    /// A page of tasks, soonest due first (no due time last), and the total. Call inside
    /// `PostgresConnection.snapshot` so that the total and the page agree.
    public func list(_ filter: TaskFilter, visibility: Visibility, clock: LeadClock, after cursor: KeysetCursor?, limit: Int) throws -> Page<TaskRecord> {
        let whereSQL = Self.conditions(filter, visibility, now: clock.now)
        let base = Self.select(visibility, now: clock.now)
        let total: Int = try conn.query("SELECT count(*) AS n FROM (\(base) WHERE \(whereSQL)) x").one().decode("n")
        let keyset: SQL = cursor.map { "(coalesce(t.due_at, \(Self.noDueKey)::timestamptz), t.id) > (\($0.at)::timestamptz, \($0.id))" } ?? "TRUE"
        let rows = try conn.query("""
            \(base) WHERE \(whereSQL) AND \(keyset)
            ORDER BY coalesce(t.due_at, \(Self.noDueKey)::timestamptz), t.id LIMIT \(limit + 1)
            """)
        var items = try rows.map { try Self.task($0, thresholds: clock.thresholds) }
        var next: KeysetCursor?
        if items.count > limit {
            items.removeLast()
            next = KeysetCursor(at: try rows[limit - 1].decode("due_key"), id: items[limit - 1].id)
        }
        return Page(items: items, total: total, next: next)
    }

    /// Locks a visible task and checks its version.
    /// - Throws: `not_found` (missing or invisible), `conflict` (stale version).
    public func lock(_ id: Int64, version: Int?, visibility: Visibility) throws -> LockedTask {
        guard let r = try conn.query("""
            SELECT t.id, t.version, t.status, t.assignee_id FROM tasks t
            WHERE t.id = \(id) AND \(visibility.predicate(owner: "t.assignee_id")) FOR UPDATE OF t
            """).first else { throw KontorError.notFound("task \(id)") }
        let t = LockedTask(id: try r.decode("id"), version: try r.decode("version"), status: try r.decode("status"),
                           assigneeID: try r.decode("assignee_id", as: Int64?.self))
        if let version, version != t.version { throw KontorError.conflict(currentVersion: t.version) }
        return t
    }

    // MARK: - Writing

    /// Creates a task; audited as `create`.
    public func create(_ d: TaskDraft, stamp: ChangeStamp) throws -> Int64 {
        let id: Int64 = try conn.query("""
            INSERT INTO tasks (title, notes, status, assignee_id, due_at, source, contact_id, company_id, lead_id,
                               created_at, created_by, updated_at, updated_by)
            VALUES (\(d.title), \(d.notes), 'open', \(d.assigneeID), \(d.dueAt), \(d.source), \(d.contactID), \(d.companyID), \(d.leadID),
                    \(stamp.at), \(stamp.actorID), \(stamp.at), \(stamp.actorID))
            RETURNING id
            """).one().decode("id")
        try audit.record(.task, id: id, action: "create", before: nil, stamp: stamp)
        return id
    }

    /// Changes a locked task; audited as `update` (nothing written when nothing changed;
    /// the version moves only when something did).
    public func update(_ t: LockedTask, _ c: TaskChanges, stamp: ChangeStamp) throws {
        let before = try audit.snapshot(.task, id: t.id)
        try conn.execute("""
            WITH n AS (
                SELECT coalesce(\(c.title), title) AS title,
                       CASE WHEN \(c.notes != nil) THEN \(c.notes ?? nil) ELSE notes END AS notes,
                       CASE WHEN \(c.assigneeID != nil) THEN \(c.assigneeID ?? nil) ELSE assignee_id END AS assignee_id,
                       CASE WHEN \(c.dueAt != nil) THEN \(c.dueAt ?? nil)::timestamptz ELSE due_at END AS due_at,
                       coalesce(\(c.source), source) AS source
                FROM tasks WHERE id = \(t.id)
            )
            UPDATE tasks SET title = n.title, notes = n.notes, assignee_id = n.assignee_id, due_at = n.due_at, source = n.source,
                   version = version + 1, updated_at = \(stamp.at), updated_by = \(stamp.actorID)
            FROM n
            WHERE tasks.id = \(t.id)
              AND (tasks.title, tasks.notes, tasks.assignee_id, tasks.due_at, tasks.source)
                  IS DISTINCT FROM (n.title, n.notes, n.assignee_id, n.due_at, n.source)
            """)
        try audit.record(.task, id: t.id, action: "update", before: before, stamp: stamp)
    }

    /// Moves a locked task to `status` (`done`/`cancelled` record who and when, `open`
    /// clears them); audited as `complete`, `cancel` or `reopen`.
    public func setStatus(_ t: LockedTask, to status: TaskStatus, note: String?, stamp: ChangeStamp) throws {
        let before = try audit.snapshot(.task, id: t.id)
        let closing = status != .open
        try conn.execute("""
            UPDATE tasks SET status = \(status),
                   completed_at = CASE WHEN \(closing) THEN \(stamp.at)::timestamptz END,
                   completed_by = CASE WHEN \(closing) THEN \(stamp.actorID)::bigint END,
                   completion_note = CASE WHEN \(closing) THEN \(note) END,
                   version = version + 1, updated_at = \(stamp.at), updated_by = \(stamp.actorID)
            WHERE id = \(t.id)
            """)
        let action: String
        switch status {
        case .done: action = "complete"
        case .cancelled: action = "cancel"
        case .open: action = "reopen"
        }
        try audit.record(.task, id: t.id, action: action, before: before, stamp: stamp)
    }

    // MARK: - First tasks of lead templates

    /// Claims first tasks not yet made into tasks, oldest first, skipping rows another
    /// transaction is turning into a task right now (`FOR UPDATE SKIP LOCKED`).
    /// - Parameter leadID: only that lead's (nil: any).
    public func claimPendingFirstTasks(leadID: Int64? = nil, limit: Int) throws -> [PendingFirstTask] {
        let only: SQL = leadID.map { "AND f.lead_id = \($0)" } ?? ""
        return try conn.query("""
            SELECT f.lead_id, f.title, f.due_at, f.assignee_id, f.created_at, l.source, l.contact_id, l.created_by
            FROM lead_first_tasks f JOIN leads l ON l.id = f.lead_id
            WHERE f.task_id IS NULL \(only)
            ORDER BY f.created_at, f.lead_id
            LIMIT \(limit)
            FOR UPDATE OF f SKIP LOCKED
            """).map { r in
            PendingFirstTask(leadID: try r.decode("lead_id"), title: try r.decode("title"), dueAt: try r.decode("due_at", as: Date?.self),
                             assigneeID: try r.decode("assignee_id", as: Int64?.self), createdAt: try r.decode("created_at"),
                             source: try r.decode("source"), contactID: try r.decode("contact_id"),
                             createdBy: try r.decode("created_by", as: Int64?.self))
        }
    }

    /// Records the task a first task became.
    public func linkFirstTask(leadID: Int64, taskID: Int64) throws {
        try conn.execute("UPDATE lead_first_tasks SET task_id = \(taskID) WHERE lead_id = \(leadID) AND task_id IS NULL")
    }
}
