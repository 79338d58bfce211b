import Foundation
import KontorDomain
import Postgres

extension Funnel: PostgresCodable {
    public var postgresText: String { rawValue }
    public init?(postgresText text: String) { self.init(rawValue: text) }
}

/// Where a company stands in the funnels.
public struct CompanyStage: Sendable {
    public var companyID: Int64
    public var stage: FunnelStage
    /// When it entered this stage.
    public var since: Date
}

/// One recorded funnel move of a company.
public struct FunnelMove: Sendable {
    public var id: Int64
    public var companyID: Int64
    public var at: Date
    public var actorID: Int64?
    public var actorName: String?
    public var method: String
    /// `entered`, `move`, `forced`, `stage_removed`.
    public var kind: String
    public var fromStage: String?
    public var fromName: String?
    public var toStage: String
    public var toName: String
    public var note: String?
    /// Seconds the company had spent in `fromStage` (nil for entering the funnel).
    public var secondsInPrevious: Double?
}

/// Funnel stages, companies' positions in them and the moves between them. No role
/// checks; the move rules are `FunnelRules` (KontorDomain), applied by the caller.
public struct FunnelRepository {
    let conn: PostgresConnection

    public init(_ conn: PostgresConnection) { self.conn = conn }

    static let stageColumns: SQL = "st.id, st.funnel, st.code, st.name, st.position, st.removed_at"

    static func stage(_ r: PostgresRow) throws -> FunnelStage {
        FunnelStage(id: try r.decode("id"), funnel: try r.decode("funnel"), code: try r.decode("code"), name: try r.decode("name"),
                    position: try r.decode("position"), removedAt: try r.decode("removed_at", as: Date?.self))
    }

    // MARK: - Stages

    /// Stages of both funnels in order (Development first); removed ones only when asked.
    public func stages(includeRemoved: Bool = false) throws -> [FunnelStage] {
        try conn.query("""
            SELECT \(Self.stageColumns) FROM funnel_stages st
            WHERE \(includeRemoved) OR st.removed_at IS NULL
            ORDER BY st.funnel, st.removed_at IS NOT NULL, st.position, st.id
            """).map(Self.stage)
    }

    /// One stage by code (also a removed one).
    public func stage(code: String, lock: Bool = false) throws -> FunnelStage? {
        try conn.query("""
            SELECT \(Self.stageColumns) FROM funnel_stages st WHERE st.code = \(code)
            \(lock ? "FOR SHARE" : "" as SQL)
            """).first.map(Self.stage)
    }

    /// Live Development stage codes in order.
    public func developmentOrder() throws -> [String] {
        try conn.query("""
            SELECT code FROM funnel_stages WHERE funnel = 'development' AND removed_at IS NULL ORDER BY position, id
            """).map { try $0.decode("code") }
    }

    /// Live companies per stage id that `visibility` lets the caller see.
    public func companyCounts(visibility: Visibility) throws -> [Int64: Int] {
        var out: [Int64: Int] = [:]
        for r in try conn.query("""
            SELECT cf.stage_id, count(*) AS n FROM company_funnel cf JOIN companies co ON co.id = cf.company_id
            WHERE co.deleted_at IS NULL AND \(visibility.predicate(owner: "co.owner_id"))
            GROUP BY cf.stage_id
            """) {
            out[try r.decode("stage_id")] = try r.decode("n")
        }
        return out
    }

    /// Serialises stage management: locks every stage row of the Development funnel.
    func lockDevelopment() throws {
        try conn.execute("SELECT id FROM funnel_stages WHERE funnel = 'development' ORDER BY id FOR UPDATE")
    }

    /// Renumbers the live Development stages 1...n in the given order.
    func renumber(_ codes: [String], at: Date) throws {
        try conn.execute("""
            UPDATE funnel_stages st SET position = o.n, updated_at = \(at)
            FROM unnest(\(codes)::text[]) WITH ORDINALITY AS o(code, n)
            WHERE st.code = o.code AND st.position IS DISTINCT FROM o.n::integer
            """)
    }

    /// Adds a Development stage at `position` (1-based; nil = last), shifting later ones.
    /// - Throws: `duplicate` when the code is taken (also by a removed stage: codes are
    ///   never reused), `invalid_params` for a position out of range.
    public func addStage(code: String, name: String, position: Int?, at: Date) throws -> FunnelStage {
        try lockDevelopment()
        if let existing = try stage(code: code) {
            throw KontorError(.duplicate, "the stage code \(code) is taken\(existing.removedAt != nil ? " by a removed stage; codes are never reused" : "")",
                              data: ["existing_id": .int(Int(existing.id)), "field": .string("code")])
        }
        var order = try developmentOrder()
        let index = (position ?? order.count + 1) - 1
        guard (0...order.count).contains(index) else {
            throw KontorError.invalidParams("position", "position must be between 1 and \(order.count + 1)")
        }
        try conn.execute("""
            INSERT INTO funnel_stages (funnel, code, name, position, created_at, updated_at)
            VALUES ('development', \(code), \(name), \(order.count + 1), \(at), \(at))
            """)
        order.insert(code, at: index)
        try renumber(order, at: at)
        guard let s = try stage(code: code) else { throw KontorError.notFound("stage \(code)") }
        return s
    }

    /// Renames a live stage of either funnel.
    public func renameStage(code: String, name: String, at: Date) throws -> FunnelStage {
        guard try conn.execute("""
            UPDATE funnel_stages SET name = \(name), updated_at = \(at) WHERE code = \(code) AND removed_at IS NULL
            """) == 1, let s = try stage(code: code) else { throw KontorError.notFound("stage \(code)") }
        return s
    }

    /// Puts the live Development stages in the given order.
    /// - Throws: `invalid_params` unless `codes` is exactly the live Development codes.
    public func reorder(codes: [String], at: Date) throws {
        try lockDevelopment()
        let current = try developmentOrder()
        guard codes.count == current.count, Set(codes) == Set(current) else {
            throw KontorError.invalidParams("codes", "give every live Development stage exactly once: \(current.joined(separator: ", "))")
        }
        try renumber(codes, at: at)
    }

    /// Removes a Development stage. Its companies move to `target` (recorded as
    /// `stage_removed` moves); nothing is deleted: the stage stays, marked removed, for the
    /// moves and reports that name it.
    /// - Returns: the ids of the companies moved.
    /// - Throws: `invalid_params` when it holds companies and no target is given, for a
    ///   Service stage, for the last Development stage, for a bad target; `not_found`.
    public func removeStage(code: String, target: String?, stamp: ChangeStamp) throws -> [Int64] {
        try lockDevelopment()
        guard let s = try stage(code: code), s.removedAt == nil else { throw KontorError.notFound("stage \(code)") }
        guard s.funnel == .development else {
            throw KontorError.invalidParams("code", "the Service stages are fixed; only Development stages are removed")
        }
        let order = try developmentOrder()
        guard order.count > 1 else { throw KontorError.invalidParams("code", "the Development funnel needs at least one stage") }
        // Lock the companies in it (a concurrent move into it waits, or sees it removed).
        let held: [Int64] = try conn.query("""
            SELECT company_id FROM company_funnel WHERE stage_id = \(s.id) ORDER BY company_id FOR UPDATE
            """).map { try $0.decode("company_id") }
        var targetStage: FunnelStage?
        if let target {
            guard let t = try stage(code: target), t.removedAt == nil else {
                throw KontorError.invalidParams("target", "no live stage \(target)")
            }
            guard t.id != s.id else { throw KontorError.invalidParams("target", "the target must be another stage") }
            targetStage = t
        }
        if !held.isEmpty, targetStage == nil {
            throw KontorError(.invalidParams, "stage \(code) holds \(held.count) companies; give a target stage to move them to",
                              data: ["field": .string("target"), "companies": .int(held.count)])
        }
        if let t = targetStage, !held.isEmpty {
            try conn.execute("""
                INSERT INTO funnel_moves (company_id, from_stage_id, to_stage_id, at, actor_id, method, kind, note)
                SELECT company_id, \(s.id), \(t.id), \(stamp.at), \(stamp.actorID), \(stamp.method), 'stage_removed',
                       \("stage \(code) was removed")
                FROM company_funnel WHERE stage_id = \(s.id)
                """)
            try conn.execute("UPDATE company_funnel SET stage_id = \(t.id), since = \(stamp.at) WHERE stage_id = \(s.id)")
        }
        try conn.execute("""
            UPDATE funnel_stages SET removed_at = \(stamp.at), removed_by = \(stamp.actorID), updated_at = \(stamp.at) WHERE id = \(s.id)
            """)
        try renumber(order.filter { $0 != code }, at: stamp.at)
        return held
    }

    // MARK: - Companies

    /// The company's current stage; `lock` takes the row for an update.
    public func position(companyID: Int64, lock: Bool = false) throws -> CompanyStage? {
        guard let r = try conn.query("""
            SELECT cf.company_id, cf.since, \(Self.stageColumns)
            FROM company_funnel cf JOIN funnel_stages st ON st.id = cf.stage_id
            WHERE cf.company_id = \(companyID)
            \(lock ? "FOR UPDATE OF cf" : "" as SQL)
            """).first else { return nil }
        return CompanyStage(companyID: try r.decode("company_id"), stage: try Self.stage(r), since: try r.decode("since"))
    }

    /// Moves a company (rules checked by the caller) and records the move; the company
    /// card's `last_change_at` moves too.
    public func move(companyID: Int64, from: FunnelStage, to: FunnelStage, kind: String, note: String?, stamp: ChangeStamp) throws {
        try conn.execute("""
            INSERT INTO funnel_moves (company_id, from_stage_id, to_stage_id, at, actor_id, method, kind, note)
            VALUES (\(companyID), \(from.id), \(to.id), \(stamp.at), \(stamp.actorID), \(stamp.method), \(kind), \(note))
            """)
        try conn.execute("UPDATE company_funnel SET stage_id = \(to.id), since = \(stamp.at) WHERE company_id = \(companyID)")
        try conn.execute("SELECT records_touch_company(\(companyID), \(stamp.at))")
    }

    /// Every move of a company, oldest first, with the time spent in the stage it left.
    public func history(companyID: Int64) throws -> [FunnelMove] {
        try conn.query("""
            SELECT m.id, m.company_id, m.at, m.actor_id, u.full_name AS actor_name, m.method, m.kind, m.note,
                   fs.code AS from_code, fs.name AS from_name, ts.code AS to_code, ts.name AS to_name,
                   extract(epoch FROM m.at - lag(m.at) OVER (ORDER BY m.id))::float8 AS seconds_in_previous
            FROM funnel_moves m
            JOIN funnel_stages ts ON ts.id = m.to_stage_id
            LEFT JOIN funnel_stages fs ON fs.id = m.from_stage_id
            LEFT JOIN users u ON u.id = m.actor_id
            WHERE m.company_id = \(companyID)
            ORDER BY m.id
            """).map { r in
            FunnelMove(id: try r.decode("id"), companyID: try r.decode("company_id"), at: try r.decode("at"),
                       actorID: try r.decode("actor_id", as: Int64?.self), actorName: try r.decode("actor_name", as: String?.self),
                       method: try r.decode("method"), kind: try r.decode("kind"), fromStage: try r.decode("from_code", as: String?.self),
                       fromName: try r.decode("from_name", as: String?.self), toStage: try r.decode("to_code"), toName: try r.decode("to_name"),
                       note: try r.decode("note", as: String?.self),
                       secondsInPrevious: try r.isNull("from_code") ? nil : try r.decode("seconds_in_previous", as: Double?.self))
        }
    }

    // MARK: - Report

    /// One row of the funnel report: companies of one stage and one manager.
    public struct ReportRow: Sendable {
        public var funnel: Funnel
        public var stage: String
        public var stageName: String
        public var stagePosition: Int
        public var managerID: Int64?
        public var managerName: String?
        public var companies: Int
        public var avgDaysInStage: Decimal
        public var maxDaysInStage: Decimal
    }

    /// Live companies the caller may see, per stage and owner, with the days they have
    /// spent in the stage as of `now`.
    public func report(visibility: Visibility, now: Date, funnel: Funnel?, managerID: Int64?) throws -> [ReportRow] {
        var conds: [SQL] = ["co.deleted_at IS NULL", visibility.predicate(owner: "co.owner_id")]
        if let funnel { conds.append("st.funnel = \(funnel)") }
        if let managerID { conds.append("co.owner_id = \(managerID)") }
        return try conn.query("""
            SELECT st.funnel, st.code, st.name, st.position, co.owner_id, u.full_name AS owner_name, count(*) AS companies,
                   round((avg(extract(epoch FROM (\(now)::timestamptz - cf.since))) / 86400)::numeric, 1) AS avg_days,
                   round((max(extract(epoch FROM (\(now)::timestamptz - cf.since))) / 86400)::numeric, 1) AS max_days
            FROM company_funnel cf
            JOIN funnel_stages st ON st.id = cf.stage_id
            JOIN companies co ON co.id = cf.company_id
            LEFT JOIN users u ON u.id = co.owner_id
            WHERE \(SQL.joined(conds, separator: " AND "))
            GROUP BY st.funnel, st.code, st.name, st.position, co.owner_id, u.full_name
            ORDER BY st.funnel, st.position, u.full_name NULLS LAST, co.owner_id
            """).map { r in
            ReportRow(funnel: try r.decode("funnel"), stage: try r.decode("code"), stageName: try r.decode("name"),
                      stagePosition: try r.decode("position"), managerID: try r.decode("owner_id", as: Int64?.self),
                      managerName: try r.decode("owner_name", as: String?.self), companies: try r.decode("companies"),
                      avgDaysInStage: try r.decode("avg_days"), maxDaysInStage: try r.decode("max_days"))
        }
    }
}
