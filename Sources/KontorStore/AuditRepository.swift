import Foundation
import KontorDomain
import Postgres

/// A kind of audited record: its name in `audit_log.entity` and, optionally, the SQL
/// function `f(bigint) RETURNS jsonb` that snapshots its audited fields.
///
/// Later issues declare their own (`AuditEntity(name: "lead", snapshotFunction: "leads_snapshot")`).
public struct AuditEntity: Sendable, Hashable {
    public let name: String
    public let snapshotFunction: String?

    public init(name: String, snapshotFunction: String?) {
        self.name = name
        self.snapshotFunction = snapshotFunction
    }

    public static let contact = AuditEntity(name: "contact", snapshotFunction: "records_contact_snapshot")
    public static let company = AuditEntity(name: "company", snapshotFunction: "records_company_snapshot")
    public static let counterparty = AuditEntity(name: "counterparty", snapshotFunction: "records_counterparty_snapshot")
}

/// One row of the audit log. `changes` is the JSON text
/// `{"field": {"before": ..., "after": ...}, ...}`.
public struct AuditRecord: Sendable {
    public var id: Int64
    public var at: Date
    public var actorID: Int64?
    public var actorName: String?
    public var method: String
    public var requestID: String?
    public var entity: String
    public var entityID: Int64
    public var action: String
    public var changes: String
}

/// The audit log: written in the transaction of the change it describes, read by
/// `audit.list`. No role checks here.
public struct AuditRepository {
    let conn: PostgresConnection

    public init(_ conn: PostgresConnection) { self.conn = conn }

    /// The audited fields of a record as JSON, nil when it does not exist or the entity
    /// has no snapshot function. Take it before changing the record.
    public func snapshot(_ entity: AuditEntity, id: Int64) throws -> PostgresJSONB? {
        guard let fn = entity.snapshotFunction else { return nil }
        return try conn.query("SELECT \(identifier: fn)(\(id)) AS s").one().decode("s", as: PostgresJSONB?.self)
    }

    /// Writes one entry whose `changes` are the fields that differ between `before` and
    /// the record's snapshot now (the entity's snapshot function), plus `extra` (a JSON
    /// object of `{"field": {"before":..,"after":..}}` merged in).
    ///
    /// An `update` that changed nothing is not written.
    public func record(_ entity: AuditEntity, id: Int64, action: String, before: PostgresJSONB?, stamp: ChangeStamp,
                       extra: PostgresJSONB? = nil) throws {
        guard let fn = entity.snapshotFunction else {
            throw PostgresError.client("audit entity \(entity.name) has no snapshot function; pass `after`")
        }
        try insert(entity, id: id, action: action, before: "\(before)::jsonb", after: "\(identifier: fn)(\(id))", extra: extra, stamp: stamp)
    }

    /// Writes one entry from explicit snapshots (for entities without a snapshot function).
    public func record(_ entity: AuditEntity, id: Int64, action: String, before: PostgresJSONB?, after: PostgresJSONB?,
                       stamp: ChangeStamp, extra: PostgresJSONB? = nil) throws {
        try insert(entity, id: id, action: action, before: "\(before)::jsonb", after: "\(after)::jsonb", extra: extra, stamp: stamp)
    }

    func insert(_ entity: AuditEntity, id: Int64, action: String, before: SQL, after: SQL, extra: PostgresJSONB?, stamp: ChangeStamp) throws {
        try conn.execute("""
            INSERT INTO audit_log (at, actor_id, method, request_id, entity, entity_id, action, changes)
            SELECT \(stamp.at), \(stamp.actorID), \(stamp.method), \(stamp.requestID), \(entity.name), \(id), \(action), d.changes
            FROM (SELECT records_jsonb_diff(\(before), \(after)) || coalesce(\(extra)::jsonb, '{}') AS changes) d
            WHERE \(action) <> 'update' OR d.changes <> '{}'::jsonb
            """)
    }

    /// Entries newest first.
    ///
    /// - Parameters:
    ///   - entity/entityIDs: one record (several ids: a contact and the contacts merged into it).
    ///   - actorID: one user's actions.
    ///   - from/to: `at` in `[from, to)`.
    ///   - beforeID: keyset cursor: entries with a smaller id.
    public func list(entity: String?, entityIDs: [Int64]?, actorID: Int64?, from: Date?, to: Date?,
                     beforeID: Int64?, limit: Int) throws -> [AuditRecord] {
        var conds: [SQL] = ["TRUE"]
        if let entity { conds.append("a.entity = \(entity)") }
        if let entityIDs { conds.append("a.entity_id = ANY(\(entityIDs))") }
        if let actorID { conds.append("a.actor_id = \(actorID)") }
        if let from { conds.append("a.at >= \(from)") }
        if let to { conds.append("a.at < \(to)") }
        if let beforeID { conds.append("a.id < \(beforeID)") }
        return try conn.query("""
            SELECT a.id, a.at, a.actor_id, u.full_name AS actor_name, a.method, a.request_id, a.entity, a.entity_id,
                   a.action, a.changes::text AS changes
            FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id
            WHERE \(SQL.joined(conds, separator: " AND "))
            ORDER BY a.id DESC
            LIMIT \(limit)
            """).map { r in
            AuditRecord(id: try r.decode("id"), at: try r.decode("at"), actorID: try r.decode("actor_id", as: Int64?.self),
                        actorName: try r.decode("actor_name", as: String?.self), method: try r.decode("method"),
                        requestID: try r.decode("request_id", as: String?.self), entity: try r.decode("entity"),
                        entityID: try r.decode("entity_id"), action: try r.decode("action"), changes: try r.decode("changes"))
        }
    }
}
