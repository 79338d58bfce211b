import Foundation
import KontorDomain
import Postgres

/// A period is stored as the `date` of its first day.
extension Period: PostgresCodable {
    public var postgresText: String { firstDay }
    public static var postgresOID: UInt32 { PostgresOID.date }
    public init?(postgresText text: String) { self.init(firstDay: text) }
}

/// Whose plan: a manager's or a company's.
public enum PlanSubject: Sendable, Equatable, Hashable {
    case manager(Int64)
    case company(Int64)

    /// `manager` or `company`.
    public var kind: String {
        switch self {
        case .manager: return "manager"
        case .company: return "company"
        }
    }

    public var id: Int64 {
        switch self {
        case .manager(let id), .company(let id): return id
        }
    }

    var table: String {
        if case .manager = self { return "manager_plans" }
        return "company_plans"
    }
    var column: String {
        if case .manager = self { return "manager_id" }
        return "company_id"
    }
    /// The audit entity of this kind of plan (`manager_plan`, `company_plan`).
    public var audit: AuditEntity {
        if case .manager = self { return AuditEntity(name: "manager_plan", snapshotFunction: "planfact_manager_plan_snapshot") }
        return AuditEntity(name: "company_plan", snapshotFunction: "planfact_company_plan_snapshot")
    }
}

/// A stored plan of one subject and month.
public struct PlanRecord: Sendable {
    /// nil when no plan was set (plan and potential are zero then).
    public var id: Int64?
    public var subject: PlanSubject
    public var subjectName: String?
    public var period: Period
    public var plan: Money
    public var potential: Money
    /// 0 when no plan was set.
    public var version: Int
    public var updatedAt: Date?
    public var updatedBy: Int64?
}

/// A shipment to record, checked by the caller.
public struct ShipmentDraft: Sendable {
    public var externalID: String?
    public var companyID: Int64
    public var counterpartyID: Int64?
    public var contactID: Int64?
    public var managerID: Int64?
    public var documentNumber: String
    public var amount: Money
    public var shippedAt: Date
    public init(externalID: String?, companyID: Int64, counterpartyID: Int64?, contactID: Int64?, managerID: Int64?,
                documentNumber: String, amount: Money, shippedAt: Date) {
        self.externalID = externalID; self.companyID = companyID; self.counterpartyID = counterpartyID; self.contactID = contactID
        self.managerID = managerID; self.documentNumber = documentNumber; self.amount = amount; self.shippedAt = shippedAt
    }
}

/// `shipment.list` filters.
public struct ShipmentFilter: Sendable {
    public var from: Period?
    public var to: Period?
    public var companyID: Int64?
    public var managerID: Int64?
    public var contactID: Int64?
    public init(from: Period? = nil, to: Period? = nil, companyID: Int64? = nil, managerID: Int64? = nil, contactID: Int64? = nil) {
        self.from = from; self.to = to; self.companyID = companyID; self.managerID = managerID; self.contactID = contactID
    }
}

/// One closed month, as the close wrote it.
public struct ClosedPeriod: Sendable, Codable, Equatable {
    public var period: Period
    public var shipments: Int
    public var fact: Money
    /// History rows written: managers, companies, contacts.
    public var managers: Int
    public var companies: Int
    public var contacts: Int
}

/// One row of `report.plan_fact`.
public struct PlanFactRow: Sendable {
    public var period: Period
    public var managerID: Int64?
    public var managerName: String?
    public var companyID: Int64?
    public var companyName: String?
    public var plan: Money
    public var potential: Money
    public var fact: Money
    public var difference: Money
    /// fact / plan, 4 decimals; nil when the plan is 0.
    public var ratio: Decimal?
    public var shipments: Int
    public var closed: Bool

    public init(period: Period, managerID: Int64?, managerName: String?, companyID: Int64?, companyName: String?, plan: Money,
                potential: Money, fact: Money, difference: Money, ratio: Decimal?, shipments: Int, closed: Bool) {
        self.period = period; self.managerID = managerID; self.managerName = managerName; self.companyID = companyID
        self.companyName = companyName; self.plan = plan; self.potential = potential; self.fact = fact; self.difference = difference
        self.ratio = ratio; self.shipments = shipments; self.closed = closed
    }
}

/// Plans, shipments, the figures of cards and reports, and the monthly close. No role
/// checks; callers pass the caller's `Visibility` where rows depend on it.
///
/// Plans and shipments take the `planfact.months` lock (`AppLocks`) shared and the close
/// takes it exclusively, so a month is closed either before or after a write, never
/// during it: a shipment for a closed month is booked into the first open month, and a
/// plan of a closed month is refused. Every month up to the last closed one counts as
/// closed, also months before the first close (their shipments are booked past them).
public struct PlanFactRepository {
    let conn: PostgresConnection
    var audit: AuditRepository { AuditRepository(conn) }

    /// The `AppLocks` key that plan and shipment writes hold shared and the close exclusively.
    static let lockKey = "planfact.months"

    public init(_ conn: PostgresConnection) { self.conn = conn }

    func lockShared() throws {
        try AppLocks(conn).lock(Self.lockKey, .shared)
    }

    func lockExclusive() throws {
        try AppLocks(conn).lock(Self.lockKey, .exclusive)
    }

    /// The last closed month (months are closed in order, without gaps).
    public func closedThrough() throws -> Period? {
        try conn.query("SELECT max(period) AS p FROM planfact_closes").one().decode("p", as: Period?.self)
    }

    /// Whether a month is closed: it is the last closed month or earlier. Months before
    /// the first close have no `planfact_closes` row, but are frozen all the same (a
    /// shipment dated in them is booked into the first open month).
    public func isClosed(_ p: Period) throws -> Bool {
        try conn.query("SELECT EXISTS (SELECT 1 FROM planfact_closes WHERE period >= \(p)) AS closed").one().decode("closed")
    }

    // MARK: - Plans

    static func plan(_ r: PostgresRow, subject: PlanSubject) throws -> PlanRecord {
        PlanRecord(id: try r.decode("id", as: Int64?.self), subject: subject, subjectName: try r.decode("subject_name", as: String?.self),
                   period: try r.decode("period"), plan: try r.decode("plan"), potential: try r.decode("potential"),
                   version: try r.decode("version"), updatedAt: try r.decode("updated_at", as: Date?.self),
                   updatedBy: try r.decode("updated_by", as: Int64?.self))
    }

    func subjectName(_ s: PlanSubject) -> SQL {
        switch s {
        case .manager(let id): return "(SELECT full_name FROM users WHERE id = \(id))"
        case .company(let id): return "(SELECT name FROM companies WHERE id = \(id))"
        }
    }

    /// The plan of one subject and month; zeros (id nil, version 0) when none was set.
    public func plan(_ subject: PlanSubject, period: Period, lock: Bool = false) throws -> PlanRecord {
        let row = try conn.query("""
            SELECT id, period, plan, potential, version, updated_at, updated_by, \(subjectName(subject)) AS subject_name
            FROM \(identifier: subject.table) WHERE \(identifier: subject.column) = \(subject.id) AND period = \(period)
            \(lock ? "FOR UPDATE" : "" as SQL)
            """).first
        if let row { return try Self.plan(row, subject: subject) }
        let name: String? = try conn.query("SELECT \(subjectName(subject)) AS n").one().decode("n", as: String?.self)
        return PlanRecord(id: nil, subject: subject, subjectName: name, period: period, plan: .zero, potential: .zero, version: 0,
                          updatedAt: nil, updatedBy: nil)
    }

    /// Sets a plan and/or potential (absent = keep); audited as `manager_plan`/`company_plan`.
    /// - Parameter version: when given, the version read (0 = none was set).
    /// - Throws: `conflict`, `invalid_params` (field `period`) for a closed month.
    public func setPlan(_ subject: PlanSubject, period: Period, plan: Money?, potential: Money?, version: Int?,
                        stamp: ChangeStamp) throws -> PlanRecord {
        try lockShared()
        if try isClosed(period) {
            throw KontorError.invalidParams("period", "\(period) is closed; its plan is history now")
        }
        var current = try self.plan(subject, period: period, lock: true)
        if current.id == nil {
            // Version 0 until the update below; when someone created it at the same moment,
            // theirs (version 1 or more) is what the version check sees.
            try conn.execute("""
                INSERT INTO \(identifier: subject.table) (\(identifier: subject.column), period, plan, potential, version, created_at, updated_at, updated_by)
                VALUES (\(subject.id), \(period), 0, 0, 0, \(stamp.at), \(stamp.at), \(stamp.actorID))
                ON CONFLICT DO NOTHING
                """)
            current = try self.plan(subject, period: period, lock: true)
        }
        if let version, version != current.version { throw KontorError.conflict(currentVersion: current.version) }
        guard let id = current.id else { throw KontorError.notFound("plan") }
        let before = current.version == 0 ? nil : try audit.snapshot(subject.audit, id: id)
        try conn.execute("""
            UPDATE \(identifier: subject.table) SET plan = coalesce(\(plan), plan), potential = coalesce(\(potential), potential),
                   version = version + 1, updated_at = \(stamp.at), updated_by = \(stamp.actorID)
            WHERE id = \(id)
            """)
        try audit.record(subject.audit, id: id, action: current.version == 0 ? "create" : "update", before: before, stamp: stamp)
        return try self.plan(subject, period: period)
    }

    /// Plans in `[from, to]`: managers' (`kind` manager) or companies'; `subjects` limits to
    /// those ids; companies are filtered by `visibility`.
    public func plans(kind: String, from: Period, to: Period, subjects: [Int64]?, visibility: Visibility) throws -> [PlanRecord] {
        if kind == "manager" {
            var conds: [SQL] = ["p.period BETWEEN \(from) AND \(to)"]
            if let subjects { conds.append("p.manager_id = ANY(\(subjects))") }
            return try conn.query("""
                SELECT p.id, p.manager_id AS subject_id, u.full_name AS subject_name, p.period, p.plan, p.potential, p.version,
                       p.updated_at, p.updated_by
                FROM manager_plans p JOIN users u ON u.id = p.manager_id
                WHERE \(SQL.joined(conds, separator: " AND "))
                ORDER BY p.period, u.full_name, p.manager_id
                """).map { try Self.plan($0, subject: .manager(try $0.decode("subject_id"))) }
        }
        var conds: [SQL] = ["p.period BETWEEN \(from) AND \(to)", visibility.predicate(owner: "co.owner_id")]
        if let subjects { conds.append("p.company_id = ANY(\(subjects))") }
        return try conn.query("""
            SELECT p.id, p.company_id AS subject_id, co.name AS subject_name, p.period, p.plan, p.potential, p.version,
                   p.updated_at, p.updated_by
            FROM company_plans p JOIN companies co ON co.id = p.company_id
            WHERE \(SQL.joined(conds, separator: " AND "))
            ORDER BY p.period, co.name, p.company_id
            """).map { try Self.plan($0, subject: .company(try $0.decode("subject_id"))) }
    }

    // MARK: - Shipments

    static let shipmentSelect: SQL = """
        SELECT s.id, s.external_id, s.company_id, co.name AS company_name, s.counterparty_id, s.contact_id, s.manager_id,
               u.full_name AS manager_name, s.document_number, s.amount, s.shipped_at, s.period, s.shipped_period,
               s.recorded_at, s.recorded_by, s.shipped_at::text AS shipped_key
        FROM shipments s JOIN companies co ON co.id = s.company_id LEFT JOIN users u ON u.id = s.manager_id
        """

    static func shipment(_ r: PostgresRow) throws -> Shipment {
        Shipment(id: try r.decode("id"), externalID: try r.decode("external_id", as: String?.self), companyID: try r.decode("company_id"),
                 companyName: try r.decode("company_name"), counterpartyID: try r.decode("counterparty_id", as: Int64?.self),
                 contactID: try r.decode("contact_id", as: Int64?.self), managerID: try r.decode("manager_id", as: Int64?.self),
                 managerName: try r.decode("manager_name", as: String?.self), documentNumber: try r.decode("document_number"),
                 amount: try r.decode("amount"), shippedAt: try r.decode("shipped_at"), period: try r.decode("period"),
                 shippedPeriod: try r.decode("shipped_period"), recordedAt: try r.decode("recorded_at"),
                 recordedBy: try r.decode("recorded_by", as: Int64?.self))
    }

    /// One shipment (no visibility: callers check the company).
    public func shipment(id: Int64) throws -> Shipment? {
        try conn.query("\(Self.shipmentSelect) WHERE s.id = \(id)").first.map(Self.shipment)
    }

    /// Records a shipment, or finds the one recorded under the same external id.
    ///
    /// The month it counts in is the month of `shippedAt` in `timeZone`, or the first open
    /// month when that one is closed. The unique index on `external_id` makes concurrent
    /// deliveries of one document record it once: the loser waits for the winner's commit
    /// and finds its row.
    /// - Returns: the shipment and whether it existed already.
    public func record(_ d: ShipmentDraft, timeZone: String, stamp: ChangeStamp) throws -> (Shipment, duplicate: Bool) {
        try lockShared()
        let rows = try conn.query("""
            WITH p AS (SELECT date_trunc('month', (\(d.shippedAt)::timestamptz AT TIME ZONE \(timeZone)))::date AS natural)
            INSERT INTO shipments (external_id, company_id, counterparty_id, contact_id, manager_id, document_number, amount,
                                   shipped_at, shipped_period, period, recorded_at, recorded_by)
            SELECT \(d.externalID), \(d.companyID), \(d.counterpartyID), \(d.contactID), \(d.managerID), \(d.documentNumber),
                   \(d.amount), \(d.shippedAt), p.natural,
                   greatest(p.natural, (SELECT (max(period) + interval '1 month')::date FROM planfact_closes)),
                   \(stamp.at), \(stamp.actorID)
            FROM p
            ON CONFLICT (external_id) WHERE external_id IS NOT NULL DO NOTHING
            RETURNING id
            """)
        if let r = rows.first {
            let id: Int64 = try r.decode("id")
            guard let s = try shipment(id: id) else { throw KontorError.notFound("shipment \(id)") }
            return (s, false)
        }
        guard let ext = d.externalID, let existing = try conn.query("\(Self.shipmentSelect) WHERE s.external_id = \(ext)").first else {
            throw KontorError.notFound("shipment")
        }
        return (try Self.shipment(existing), true)
    }

    /// Shipments whose company `visibility` lets the caller see, newest first (keyset on
    /// `shipped_at`, id). Call inside a snapshot for a stable total.
    /// - Returns: the page, and the sum of the amounts of every match (all pages).
    public func list(_ f: ShipmentFilter, visibility: Visibility, after cursor: KeysetCursor?, limit: Int) throws -> (page: Page<Shipment>, sum: Money) {
        var conds: [SQL] = [visibility.predicate(owner: "co.owner_id")]
        if let p = f.from { conds.append("s.period >= \(p)") }
        if let p = f.to { conds.append("s.period <= \(p)") }
        if let c = f.companyID { conds.append("s.company_id = \(c)") }
        if let m = f.managerID { conds.append("s.manager_id = \(m)") }
        if let c = f.contactID { conds.append("s.contact_id = \(c)") }
        let whereSQL = SQL.joined(conds, separator: " AND ")
        let totals = try conn.query("""
            SELECT count(*) AS n, coalesce(sum(s.amount), 0) AS amount FROM shipments s JOIN companies co ON co.id = s.company_id
            WHERE \(whereSQL)
            """).one()
        let keyset: SQL = cursor?.after(at: "s.shipped_at", id: "s.id") ?? "TRUE"
        let rows = try conn.query("""
            \(Self.shipmentSelect) WHERE \(whereSQL) AND \(keyset) ORDER BY s.shipped_at DESC, s.id DESC LIMIT \(limit + 1)
            """)
        var items = try rows.map(Self.shipment)
        var next: KeysetCursor?
        if items.count > limit {
            items.removeLast()
            next = KeysetCursor(at: try rows[limit - 1].decode("shipped_key"), id: items[limit - 1].id)
        }
        return (Page(items: items, total: try totals.decode("n"), next: next), try totals.decode("amount", as: Money.self))
    }

    // MARK: - Figures of cards

    /// A company's plan, potential and fact of one month.
    public func companyFigures(companyID: Int64, period: Period) throws -> Figures {
        let r = try conn.query("""
            SELECT coalesce((SELECT plan FROM company_plans WHERE company_id = \(companyID) AND period = \(period)), 0) AS plan,
                   coalesce((SELECT potential FROM company_plans WHERE company_id = \(companyID) AND period = \(period)), 0) AS potential,
                   coalesce((SELECT sum(amount) FROM shipments WHERE company_id = \(companyID) AND period = \(period)), 0) AS fact
            """).one()
        return Figures(period: period, plan: try r.decode("plan"), potential: try r.decode("potential"), fact: try r.decode("fact"))
    }

    /// The fact of a manager's shipments in one month.
    public func managerFact(managerID: Int64, period: Period) throws -> Money {
        try conn.query("""
            SELECT coalesce(sum(amount), 0) AS fact FROM shipments WHERE manager_id = \(managerID) AND period = \(period)
            """).one().decode("fact")
    }

    /// The fact of the shipments that name a contact, in one month.
    public func contactFact(contactID: Int64, period: Period) throws -> Money {
        try conn.query("""
            SELECT coalesce(sum(amount), 0) AS fact FROM shipments WHERE contact_id = \(contactID) AND period = \(period)
            """).one().decode("fact")
    }

    // MARK: - The monthly close

    /// Closes every open month up to and including `through`, in order: from the month
    /// after the last closed one (or, when none is, the earliest month with a plan or a
    /// shipment, at most `through`). Each month gets one `planfact_closes` row (primary
    /// key) and its history rows; a month closed already is left as it is.
    /// - Returns: the months closed now (empty when there was nothing to do).
    public func closeMonths(through: Period, timeZone: String, runID: Int64?, at: Date) throws -> [ClosedPeriod] {
        try lockExclusive()
        let start: Period
        if let last = try closedThrough() {
            start = last.next
        } else {
            let earliest = try conn.query("""
                SELECT least((SELECT min(period) FROM shipments), (SELECT min(period) FROM manager_plans),
                             (SELECT min(period) FROM company_plans)) AS p
                """).one().decode("p", as: Period?.self)
            start = min(earliest ?? through, through)
        }
        guard start <= through else { return [] }
        var out: [ClosedPeriod] = []
        var p = start
        while p <= through {
            if let c = try closeOne(p, timeZone: timeZone, runID: runID, at: at) { out.append(c) }
            p = p.next
        }
        return out
    }

    /// Writes one month's close and history; nil when it was closed already.
    func closeOne(_ p: Period, timeZone: String, runID: Int64?, at: Date) throws -> ClosedPeriod? {
        guard let closed = try conn.query("""
            INSERT INTO planfact_closes (period, closed_at, schedule_run_id, time_zone, shipments, fact)
            SELECT \(p), \(at), \(runID), \(timeZone), count(*), coalesce(sum(amount), 0) FROM shipments WHERE period = \(p)
            ON CONFLICT (period) DO NOTHING
            RETURNING shipments, fact
            """).first else { return nil }
        let managers = try conn.execute("""
            INSERT INTO planfact_history (period, kind, subject_id, subject_name, department, plan, potential, fact, shipments)
            SELECT \(p), 'manager', k.manager_id, coalesce(u.full_name, '(no manager)'), u.department,
                   coalesce(mp.plan, 0), coalesce(mp.potential, 0), coalesce(f.fact, 0), coalesce(f.n, 0)
            FROM (SELECT manager_id FROM manager_plans WHERE period = \(p)
                  UNION SELECT manager_id FROM shipments WHERE period = \(p)) k
            LEFT JOIN manager_plans mp ON mp.period = \(p) AND mp.manager_id = k.manager_id
            LEFT JOIN (SELECT manager_id, sum(amount) AS fact, count(*) AS n FROM shipments WHERE period = \(p) GROUP BY manager_id) f
                   ON f.manager_id IS NOT DISTINCT FROM k.manager_id
            LEFT JOIN users u ON u.id = k.manager_id
            """)
        let companies = try conn.execute("""
            INSERT INTO planfact_history (period, kind, subject_id, subject_name, department, owner_id, plan, potential, fact, shipments)
            SELECT \(p), 'company', k.company_id, co.name, u.department, co.owner_id,
                   coalesce(cp.plan, 0), coalesce(cp.potential, 0), coalesce(f.fact, 0), coalesce(f.n, 0)
            FROM (SELECT company_id FROM company_plans WHERE period = \(p)
                  UNION SELECT company_id FROM shipments WHERE period = \(p)) k
            JOIN companies co ON co.id = k.company_id
            LEFT JOIN company_plans cp ON cp.period = \(p) AND cp.company_id = k.company_id
            LEFT JOIN (SELECT company_id, sum(amount) AS fact, count(*) AS n FROM shipments WHERE period = \(p) GROUP BY company_id) f
                   ON f.company_id = k.company_id
            LEFT JOIN users u ON u.id = co.owner_id
            """)
        let contacts = try conn.execute("""
            INSERT INTO planfact_history (period, kind, subject_id, subject_name, company_id, fact, shipments)
            SELECT \(p), 'contact', s.contact_id, coalesce(c.full_name, c.organization, 'contact ' || c.id), c.company_id,
                   sum(s.amount), count(*)
            FROM shipments s JOIN contacts c ON c.id = s.contact_id
            WHERE s.period = \(p)
            GROUP BY s.contact_id, c.full_name, c.organization, c.id, c.company_id
            """)
        return ClosedPeriod(period: p, shipments: try closed.decode("shipments"), fact: try closed.decode("fact"),
                            managers: managers, companies: companies, contacts: contacts)
    }

    // MARK: - Reports

    /// Plan and fact per manager for every month in `[from, to]` and every manager with a
    /// plan or a shipment in the range (months without either show zeros). `managerID`
    /// limits to one manager (a user's own figures).
    public func byManager(from: Period, to: Period, managerID: Int64?) throws -> [PlanFactRow] {
        let cond: SQL = managerID.map { "v.manager_id = \($0)" } ?? "TRUE"
        return try conn.query("""
            WITH v AS (SELECT * FROM reporting.plan_fact_by_manager_v1 v WHERE v.period BETWEEN \(from) AND \(to) AND \(cond)),
                 subjects AS (SELECT DISTINCT manager_id, manager_name FROM v),
                 months AS (SELECT generate_series(\(from)::date, \(to)::date, interval '1 month')::date AS period)
            SELECT m.period, s.manager_id, s.manager_name, NULL::bigint AS company_id, NULL::text AS company_name,
                   coalesce(v.plan, 0) AS plan, coalesce(v.potential, 0) AS potential, coalesce(v.fact, 0) AS fact,
                   coalesce(v.difference, 0) AS difference, v.ratio, coalesce(v.shipments, 0) AS shipments,
                   coalesce(m.period <= (SELECT max(c.period) FROM planfact_closes c), false) AS closed
            FROM subjects s CROSS JOIN months m
            LEFT JOIN v ON v.period = m.period AND v.manager_id IS NOT DISTINCT FROM s.manager_id
            ORDER BY m.period, s.manager_name, s.manager_id NULLS LAST
            """).map(Self.row)
    }

    /// Plan and fact per company the caller may see, for every month in `[from, to]` and
    /// every company with a plan or a shipment in the range.
    public func byCompany(from: Period, to: Period, companyID: Int64?, managerID: Int64?, visibility: Visibility) throws -> [PlanFactRow] {
        var conds: [SQL] = ["v.period BETWEEN \(from) AND \(to)", visibility.predicate(owner: "v.manager_id")]
        if let companyID { conds.append("v.company_id = \(companyID)") }
        if let managerID { conds.append("v.manager_id = \(managerID)") }
        return try conn.query("""
            WITH v AS (SELECT * FROM reporting.plan_fact_by_company_v1 v WHERE \(SQL.joined(conds, separator: " AND "))),
                 subjects AS (SELECT DISTINCT company_id, company_name, manager_id, manager_name FROM v),
                 months AS (SELECT generate_series(\(from)::date, \(to)::date, interval '1 month')::date AS period)
            SELECT m.period, s.manager_id, s.manager_name, s.company_id, s.company_name,
                   coalesce(v.plan, 0) AS plan, coalesce(v.potential, 0) AS potential, coalesce(v.fact, 0) AS fact,
                   coalesce(v.difference, 0) AS difference, v.ratio, coalesce(v.shipments, 0) AS shipments,
                   coalesce(m.period <= (SELECT max(c.period) FROM planfact_closes c), false) AS closed
            FROM subjects s CROSS JOIN months m
            LEFT JOIN v ON v.period = m.period AND v.company_id = s.company_id
            ORDER BY m.period, s.company_name, s.company_id
            """).map(Self.row)
    }

    static func row(_ r: PostgresRow) throws -> PlanFactRow {
        PlanFactRow(period: try r.decode("period"), managerID: try r.decode("manager_id", as: Int64?.self),
                    managerName: try r.decode("manager_name", as: String?.self), companyID: try r.decode("company_id", as: Int64?.self),
                    companyName: try r.decode("company_name", as: String?.self), plan: try r.decode("plan"),
                    potential: try r.decode("potential"), fact: try r.decode("fact"), difference: try r.decode("difference"),
                    ratio: try r.decode("ratio", as: Decimal?.self), shipments: try r.decode("shipments"), closed: try r.decode("closed"))
    }
}
