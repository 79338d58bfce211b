import Foundation
import KontorDomain
import Postgres

extension ChronicleKind: PostgresCodable {
    public var postgresText: String { rawValue }
    public init?(postgresText text: String) { self.init(rawValue: text) }
}

/// A chronicle row as the live-notification fan-out reads it: the entry, how to push
/// it, and the transaction that wrote it.
public struct PushableEntry: Sendable {
    /// The entry (names as the feed's owner sees them).
    public var entry: ChronicleEntry
    /// The writing transaction's id (`xid8`), for the fan-out's horizon.
    public var xid: UInt64
    /// Shown in the feed (`chronicle.list`); false for a reminder sent to the app only.
    public var inFeed: Bool
    /// A reminder with the `app` channel: pushed as `reminder.due`.
    public var pushApp: Bool
    /// For reminders: the due time of the firing.
    public var reminderDueAt: Date?
    /// For reminders: when it fired.
    public var firedAt: Date?
}

/// What a reader saw at one moment: every transaction older than `horizon` had ended,
/// so a later read needs only rows written by transactions at or after it.
public struct PushSnapshot: Sendable {
    /// `pg_snapshot_xmin` of the read's snapshot.
    public var horizon: UInt64
    /// Rows of transactions at or after the previous horizon, visible now, oldest first.
    public var rows: [PushableEntry]
}

/// Each user's chronicle (activity feed). Rows are written by reminders (in Swift) and by
/// triggers (task and lead assignments, overdue leads, mentions; migration 0021); every
/// insert sends `NOTIFY kontor_chronicle '<user_id>:<id>'`. No role checks.
public struct ChronicleRepository {
    let conn: PostgresConnection

    /// Makes one from its fields.
    public init(_ conn: PostgresConnection) { self.conn = conn }

    /// Writes one entry. - Returns: its id.
    public func insert(userID: Int64, kind: ChronicleKind, at: Date, text: String, actorID: Int64?, contactID: Int64? = nil,
                       companyID: Int64? = nil, leadID: Int64? = nil, taskID: Int64? = nil, reminderID: Int64? = nil,
                       firingID: Int64? = nil, inFeed: Bool = true, pushApp: Bool = false) throws -> Int64 {
        try conn.query("""
            INSERT INTO chronicle (user_id, kind, at, text, actor_id, contact_id, company_id, lead_id, task_id, reminder_id, firing_id,
                                   in_feed, push_app)
            VALUES (\(userID), \(kind), \(at), \(text), \(actorID), \(contactID), \(companyID), \(leadID), \(taskID), \(reminderID),
                    \(firingID), \(inFeed), \(pushApp))
            RETURNING id
            """).one().decode("id")
    }

    static func select(_ vis: Visibility) -> SQL {
        """
        SELECT h.id, h.kind, h.at, h.text, h.actor_id, au.full_name AS actor_name, h.contact_id,
               CASE WHEN c.id IS NOT NULL AND \(vis.predicate(owner: "c.owner_id")) THEN \(LeadRepository.contactName("c")) END AS contact_name,
               h.company_id, CASE WHEN co.id IS NOT NULL AND \(vis.predicate(owner: "co.owner_id")) THEN co.name END AS company_name,
               h.lead_id, h.task_id, h.reminder_id, h.comment_id, h.read_at, h.in_feed, h.push_app, h.xid::text AS xid,
               f.due_at AS firing_due_at, f.fired_at AS firing_fired_at
        FROM chronicle h
        LEFT JOIN users au ON au.id = h.actor_id
        LEFT JOIN contacts c ON c.id = h.contact_id
        LEFT JOIN companies co ON co.id = h.company_id
        LEFT JOIN reminder_firings f ON f.id = h.firing_id
        """
    }

    static func entry(_ r: PostgresRow) throws -> ChronicleEntry {
        let readAt = try r.decode("read_at", as: Date?.self)
        return ChronicleEntry(id: try r.decode("id"), kind: try r.decode("kind"), at: try r.decode("at"), text: try r.decode("text"),
                              actorID: try r.decode("actor_id", as: Int64?.self), actorName: try r.decode("actor_name", as: String?.self),
                              contactID: try r.decode("contact_id", as: Int64?.self), contactName: try r.decode("contact_name", as: String?.self),
                              companyID: try r.decode("company_id", as: Int64?.self), companyName: try r.decode("company_name", as: String?.self),
                              leadID: try r.decode("lead_id", as: Int64?.self), taskID: try r.decode("task_id", as: Int64?.self),
                              reminderID: try r.decode("reminder_id", as: Int64?.self), commentID: try r.decode("comment_id", as: Int64?.self),
                              read: readAt != nil, readAt: readAt)
    }

    /// A user's feed, newest first.
    /// - Parameters:
    ///   - visibility: the user's own (names of records they may not see are left out).
    ///   - beforeID: keyset cursor: entries older than this one.
    public func list(userID: Int64, visibility: Visibility, unreadOnly: Bool, kinds: [ChronicleKind]?, beforeID: Int64?,
                     limit: Int) throws -> [ChronicleEntry] {
        var conds: [SQL] = ["h.user_id = \(userID)", "h.in_feed"]
        if unreadOnly { conds.append("h.read_at IS NULL") }
        if let kinds { conds.append("h.kind = ANY(\(kinds.map(\.rawValue)))") }
        if let beforeID { conds.append("h.id < \(beforeID)") }
        return try conn.query("""
            \(Self.select(visibility)) WHERE \(SQL.joined(conds, separator: " AND ")) ORDER BY h.id DESC LIMIT \(limit)
            """).map(Self.entry)
    }

    /// How many of the user's feed entries are unread.
    public func unreadCount(userID: Int64) throws -> Int {
        try conn.query("SELECT count(*) AS n FROM chronicle WHERE user_id = \(userID) AND in_feed AND read_at IS NULL").one().decode("n")
    }

    /// Marks entries read: `ids` (the user's own only), or every entry up to `throughID`,
    /// or all. Entries read already keep their time.
    /// - Returns: how many were marked now.
    public func markRead(userID: Int64, ids: [Int64]?, throughID: Int64?, at: Date) throws -> Int {
        var conds: [SQL] = ["user_id = \(userID)", "in_feed", "read_at IS NULL"]
        if let ids { conds.append("id = ANY(\(ids))") }
        if let throughID { conds.append("id <= \(throughID)") }
        return try conn.execute("UPDATE chronicle SET read_at = \(at) WHERE \(SQL.joined(conds, separator: " AND "))")
    }

    /// Marks entries unread again (the user's own).
    /// - Returns: how many changed.
    public func markUnread(userID: Int64, ids: [Int64]) throws -> Int {
        try conn.execute("UPDATE chronicle SET read_at = NULL WHERE user_id = \(userID) AND id = ANY(\(ids)) AND read_at IS NOT NULL")
    }

    // MARK: - Live notifications

    /// For the fan-out: the user's rows written by transactions at or after `horizon`
    /// (every row that may have become visible since a read whose horizon it was), plus
    /// the new horizon. Call inside a REPEATABLE READ snapshot so that both come from one
    /// moment; a row of a transaction older than the new horizon is visible now or never.
    public func pushable(userID: Int64, since horizon: UInt64, visibility: Visibility) throws -> PushSnapshot {
        let now: UInt64 = try Self.xid(conn.query("SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS h").one().decode("h"))
        let rows = try conn.query("""
            \(Self.select(visibility)) WHERE h.user_id = \(userID) AND h.xid >= \(String(horizon))::xid8 ORDER BY h.id
            """).map(Self.pushable)
        return PushSnapshot(horizon: now, rows: rows)
    }

    static func pushable(_ r: PostgresRow) throws -> PushableEntry {
        PushableEntry(entry: try entry(r), xid: try xid(r.decode("xid")), inFeed: try r.decode("in_feed"),
                      pushApp: try r.decode("push_app"), reminderDueAt: try r.decode("firing_due_at", as: Date?.self),
                      firedAt: try r.decode("firing_fired_at", as: Date?.self))
    }

    /// The user's reminders for the app that no session of theirs was pushed yet (they
    /// fired while the user was offline), oldest first, at most `limit`.
    public func unpushedApp(userID: Int64, visibility: Visibility, limit: Int) throws -> [PushableEntry] {
        try conn.query("""
            \(Self.select(visibility)) WHERE h.user_id = \(userID) AND h.push_app AND h.app_pushed_at IS NULL ORDER BY h.id LIMIT \(limit)
            """).map(Self.pushable)
    }

    /// Records that reminders for the app reached a session of their user (the first time
    /// counts), so that the next `notify.subscribe` does not push them again.
    public func markAppPushed(ids: [Int64], at: Date) throws {
        guard !ids.isEmpty else { return }
        try conn.execute("UPDATE chronicle SET app_pushed_at = \(at) WHERE id = ANY(\(ids)) AND push_app AND app_pushed_at IS NULL")
    }

    /// The fan-out's starting point for a session that subscribes now: the horizon and
    /// the ids of the user's rows already visible at or after it (not to be pushed).
    public func pushStart(userID: Int64) throws -> (horizon: UInt64, visible: [(id: Int64, xid: UInt64)]) {
        let h: UInt64 = try Self.xid(conn.query("SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS h").one().decode("h"))
        let rows = try conn.query("SELECT id, xid::text AS xid FROM chronicle WHERE user_id = \(userID) AND xid >= \(String(h))::xid8").map {
            (id: try $0.decode("id", as: Int64.self), xid: try Self.xid($0.decode("xid")))
        }
        return (h, rows)
    }

    static func xid(_ text: String) throws -> UInt64 {
        guard let v = UInt64(text) else { throw PostgresError.client("not a transaction id: \(text)") }
        return v
    }
}
