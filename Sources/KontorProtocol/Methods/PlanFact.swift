import Foundation
import KontorDomain

/// Funnels, plans, shipments, reports and schedules (issue 6). docs/PROTOCOL.md
/// ("Funnels", "Plan and fact", "Reports", "Schedules") has the shapes and rules.
public enum PlanFactMethods {
    public static let catalogue: [MethodInfo] = [
        // Funnels
        MethodInfo("funnel.list", "The stages of both funnels in order, with the companies you can see in each.",
                   params: ["include_removed: bool?"]),
        MethodInfo("funnel.add_stage", "Admins: add a Development stage (a new stable code) at a position.",
                   params: ["code: string", "name: string", "position: int?"]),
        MethodInfo("funnel.rename_stage", "Admins: rename a stage (its code stays).", params: ["code: string", "name: string"]),
        MethodInfo("funnel.reorder_stages", "Admins: put the Development stages in a new order.", params: ["codes: [string]"]),
        MethodInfo("funnel.remove_stage", "Admins: remove a Development stage; its companies move to the target stage.",
                   params: ["code: string", "target: string?"]),
        MethodInfo("company.set_stage", "Move a company to another funnel stage (allowed moves only; admins may force).",
                   params: ["id: int", "stage: string", "from: string?", "force: bool?", "note: string?"]),
        MethodInfo("company.stage_history", "Every funnel move of a company, with the time spent in each stage.", params: ["id: int"]),
        // Plans and shipments
        MethodInfo("plan.set", "Admins: set the plan and/or potential of a manager or a company for a month.",
                   params: ["period: YYYY-MM", "manager_id: int?", "company_id: int?", "plan: money?", "potential: money?", "version: int?"]),
        MethodInfo("plan.get", "The plan, potential, fact and difference of a manager or a company for a month, with the plan's history.",
                   params: ["period: YYYY-MM", "manager_id: int?", "company_id: int?"]),
        MethodInfo("plan.list", "Plans of managers or companies for a month or a range of months.",
                   params: ["kind: manager|company", "period: YYYY-MM?", "from: YYYY-MM?", "to: YYYY-MM?", "manager_id: int?", "company_id: int?"]),
        MethodInfo("shipment.record", "Record a shipment (a refund is a negative amount); idempotent by external_id.",
                   params: ["external_id: string?", "company_id: int?", "counterparty_id: int?", "edrpou: string?", "contact_id: int?",
                            "manager_id: int?", "document_number: string", "amount: money", "shipped_at: time"]),
        MethodInfo("shipment.list", "Shipments, newest first, with filters, a cursor, the total count and sum.",
                   params: ["period: YYYY-MM?", "from: YYYY-MM?", "to: YYYY-MM?", "company_id: int?", "manager_id: int?", "contact_id: int?",
                            "cursor: string?", "limit: int?"]),
        // Reports
        MethodInfo("report.plan_fact", "Plan, potential, fact, difference and ratio per manager or per company and month.",
                   params: ["by: manager|company?", "period: YYYY-MM?", "from: YYYY-MM?", "to: YYYY-MM?", "company_id: int?", "manager_id: int?"],
                   positional: ["period"]),
        MethodInfo("report.funnel", "Companies per funnel stage and manager, with days in stage.",
                   params: ["funnel: development|service?", "manager_id: int?"],
                   positional: ["funnel"]),
        // Schedules
        MethodInfo("schedule.list", "Tech admins: the stored schedules with their next occurrences."),
        MethodInfo("schedule.update", "Tech admins: enable or disable a schedule, change its cron expression or time zone.",
                   params: ["name: string", "version: int?", "enabled: bool?", "cron: string?", "time_zone: string?"]),
        MethodInfo("schedule.run_now", "Tech admins: run a schedule's job now (re-running a close changes nothing).", params: ["name: string"]),
        MethodInfo("schedule.history", "Tech admins: the runs of a schedule, newest first.",
                   params: ["name: string", "cursor: string?", "limit: int?"]),
    ]

    // MARK: - Funnels

    /// `funnel.list`.
    public struct FunnelListParams: Codable, Sendable {
        /// Also list removed stages (default false).
        public var includeRemoved: Bool?
        public init(includeRemoved: Bool? = nil) { self.includeRemoved = includeRemoved }
    }

    /// A stage with the number of live companies in it that the caller may see.
    public struct StageInfo: Codable, Sendable, Equatable {
        public var id: Int64
        public var funnel: Funnel
        public var code: String
        public var name: String
        public var position: Int
        public var removedAt: Date?
        public var companies: Int
        public init(stage s: FunnelStage, companies: Int) {
            id = s.id; funnel = s.funnel; code = s.code; name = s.name; position = s.position; removedAt = s.removedAt
            self.companies = companies
        }
    }

    /// `funnel.list` result: Development stages first, each funnel in order.
    public struct FunnelList: Encodable, Sendable {
        public var stages: [StageInfo]
        public init(stages: [StageInfo]) { self.stages = stages }
    }

    /// `funnel.add_stage`.
    public struct StageAddParams: Codable, Sendable {
        /// Stable code: 2–40 of `a-z 0-9 _`, starting with a letter; never reused.
        public var code: String
        public var name: String
        /// 1-based; default: last.
        public var position: Int?
        public init(code: String, name: String, position: Int? = nil) { self.code = code; self.name = name; self.position = position }
    }

    /// `funnel.rename_stage`.
    public struct StageRenameParams: Codable, Sendable {
        public var code: String
        public var name: String
        public init(code: String, name: String) { self.code = code; self.name = name }
    }

    /// `funnel.reorder_stages`: every live Development code once, in the new order.
    public struct StageReorderParams: Codable, Sendable {
        public var codes: [String]
        public init(codes: [String]) { self.codes = codes }
    }

    /// `funnel.remove_stage`.
    public struct StageRemoveParams: Codable, Sendable {
        public var code: String
        /// Where its companies go; required when it holds any.
        public var target: String?
        public init(code: String, target: String? = nil) { self.code = code; self.target = target }
    }

    /// `funnel.remove_stage` result.
    public struct StageRemoveResult: Encodable, Sendable {
        /// The removed stage (with `removed_at`).
        public var stage: StageInfo
        public var target: String?
        /// Ids of the companies moved to the target.
        public var movedCompanies: [Int64]
        public init(stage: StageInfo, target: String?, movedCompanies: [Int64]) {
            self.stage = stage; self.target = target; self.movedCompanies = movedCompanies
        }
    }

    /// `company.set_stage`.
    public struct SetStageParams: Codable, Sendable {
        /// The company.
        public var id: Int64
        /// The target stage's code.
        public var stage: String
        /// The stage you saw the company at; when it has moved since, `conflict`.
        public var from: String?
        /// Admins only: make a move the rules do not allow (a correction).
        public var force: Bool?
        public var note: String?
        public init(id: Int64, stage: String, from: String? = nil, force: Bool? = nil, note: String? = nil) {
            self.id = id; self.stage = stage; self.from = from; self.force = force; self.note = note
        }
    }

    /// Where a company stands in the funnels.
    public struct CompanyFunnelInfo: Codable, Sendable, Equatable {
        public var companyID: Int64
        public var funnel: Funnel
        public var stage: String
        public var stageName: String
        /// When it entered the stage.
        public var since: Date
        /// Days in the stage as of the request (one decimal).
        public var daysInStage: Decimal
        /// Codes it may move to without force.
        public var allowedMoves: [String]
        public init(companyID: Int64, funnel: Funnel, stage: String, stageName: String, since: Date, daysInStage: Decimal, allowedMoves: [String]) {
            self.companyID = companyID; self.funnel = funnel; self.stage = stage; self.stageName = stageName; self.since = since
            self.daysInStage = daysInStage; self.allowedMoves = allowedMoves
        }
    }

    /// One recorded move.
    public struct MoveInfo: Codable, Sendable, Equatable {
        public var id: Int64
        public var at: Date
        public var actorID: Int64?
        public var actorName: String?
        public var method: String
        /// `entered`, `move`, `forced`, `stage_removed`.
        public var kind: String
        public var from: String?
        public var fromName: String?
        public var to: String
        public var toName: String
        public var note: String?
        /// Days spent in `from` before this move; null when entering the funnel.
        public var daysInPrevious: Decimal?
        public init(id: Int64, at: Date, actorID: Int64?, actorName: String?, method: String, kind: String, from: String?, fromName: String?,
                    to: String, toName: String, note: String?, daysInPrevious: Decimal?) {
            self.id = id; self.at = at; self.actorID = actorID; self.actorName = actorName; self.method = method; self.kind = kind
            self.from = from; self.fromName = fromName; self.to = to; self.toName = toName; self.note = note; self.daysInPrevious = daysInPrevious
        }
    }

    /// `company.stage_history` result.
    public struct StageHistory: Encodable, Sendable {
        public var current: CompanyFunnelInfo
        /// Oldest first.
        public var moves: [MoveInfo]
        public init(current: CompanyFunnelInfo, moves: [MoveInfo]) { self.current = current; self.moves = moves }
    }

    // MARK: - Plans

    /// `plan.set`: exactly one of `manager_id`, `company_id`; at least one of `plan`, `potential`.
    public struct PlanSetParams: Codable, Sendable {
        public var period: Period
        public var managerID: Int64?
        public var companyID: Int64?
        public var plan: Money?
        public var potential: Money?
        /// The version read (0 when none was set); checked when given.
        public var version: Int?
        public init(period: Period, managerID: Int64? = nil, companyID: Int64? = nil, plan: Money? = nil, potential: Money? = nil, version: Int? = nil) {
            self.period = period; self.managerID = managerID; self.companyID = companyID; self.plan = plan; self.potential = potential
            self.version = version
        }
    }

    /// `plan.get`: exactly one of `manager_id`, `company_id`.
    public struct PlanGetParams: Codable, Sendable {
        public var period: Period
        public var managerID: Int64?
        public var companyID: Int64?
        public init(period: Period, managerID: Int64? = nil, companyID: Int64? = nil) {
            self.period = period; self.managerID = managerID; self.companyID = companyID
        }
    }

    /// A plan: `kind` is `manager` or `company`; the other id is null.
    public struct PlanInfo: Encodable, Sendable {
        public var kind: String
        public var managerID: Int64?
        public var companyID: Int64?
        /// The manager's or company's name.
        public var name: String?
        public var period: Period
        public var plan: Money
        public var potential: Money
        /// 0 when no plan was set.
        public var version: Int
        public var updatedAt: Date?
        public var updatedBy: Int64?
        public init(kind: String, managerID: Int64?, companyID: Int64?, name: String?, period: Period, plan: Money, potential: Money,
                    version: Int, updatedAt: Date?, updatedBy: Int64?) {
            self.kind = kind; self.managerID = managerID; self.companyID = companyID; self.name = name; self.period = period
            self.plan = plan; self.potential = potential; self.version = version; self.updatedAt = updatedAt; self.updatedBy = updatedBy
        }
    }

    /// One change of a plan (from the audit log).
    public struct PlanChange: Encodable, Sendable {
        public var at: Date
        public var actorID: Int64?
        public var actorName: String?
        /// `create` or `update`.
        public var action: String
        /// `{"plan": {"before": "…", "after": "…"}, ...}`
        public var changes: JSONValue
        public init(at: Date, actorID: Int64?, actorName: String?, action: String, changes: JSONValue) {
            self.at = at; self.actorID = actorID; self.actorName = actorName; self.action = action; self.changes = changes
        }
    }

    /// `plan.get` result: the plan's fields, the month's `fact`, `difference`, `ratio`,
    /// whether the month is `closed`, and `history` (newest first).
    public struct PlanDetail: Encodable, Sendable {
        public var plan: PlanInfo
        public var fact: Money
        public var difference: Money
        public var ratio: Decimal?
        public var closed: Bool
        public var history: [PlanChange]
        public init(plan: PlanInfo, fact: Money, ratio: Decimal?, closed: Bool, history: [PlanChange]) {
            self.plan = plan; self.fact = fact; self.difference = fact - plan.plan; self.ratio = ratio; self.closed = closed
            self.history = history
        }

        enum CodingKeys: String, CodingKey { case fact, difference, ratio, closed, history }

        public func encode(to encoder: Encoder) throws {
            try plan.encode(to: encoder)
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(fact, forKey: .fact)
            try c.encode(difference, forKey: .difference)
            try c.encode(ratio, forKey: .ratio)
            try c.encode(closed, forKey: .closed)
            try c.encode(history, forKey: .history)
        }
    }

    /// `plan.list`: `period`, or `from`/`to` (inclusive; default: one month).
    public struct PlanListParams: Codable, Sendable {
        /// `manager` or `company`.
        public var kind: String
        public var period: Period?
        public var from: Period?
        public var to: Period?
        public var managerID: Int64?
        public var companyID: Int64?
        public init(kind: String, period: Period? = nil, from: Period? = nil, to: Period? = nil, managerID: Int64? = nil, companyID: Int64? = nil) {
            self.kind = kind; self.period = period; self.from = from; self.to = to; self.managerID = managerID; self.companyID = companyID
        }
    }

    /// `plan.list` result.
    public struct PlanList: Encodable, Sendable {
        public var plans: [PlanInfo]
        public init(plans: [PlanInfo]) { self.plans = plans }
    }

    // MARK: - Shipments

    /// `shipment.record`.
    public struct ShipmentRecordParams: Codable, Sendable {
        /// The sender's document id; required for robots. The same id again returns the
        /// first record (`duplicate: true`).
        public var externalID: String?
        /// The company; may be left out when `counterparty_id` or `edrpou` names one of its
        /// counterparties.
        public var companyID: Int64?
        public var counterpartyID: Int64?
        /// The counterparty's EDRPOU code, as accounting systems know it (instead of the ids).
        public var edrpou: String?
        /// The person of the company the order came through.
        public var contactID: Int64?
        /// Default: the company's owner (a sales user recording: themselves when the
        /// company has no owner).
        public var managerID: Int64?
        public var documentNumber: String
        /// Non-zero; negative for a refund.
        public var amount: Money
        public var shippedAt: Date
        public init(externalID: String? = nil, companyID: Int64?, counterpartyID: Int64? = nil, edrpou: String? = nil, contactID: Int64? = nil,
                    managerID: Int64? = nil, documentNumber: String, amount: Money, shippedAt: Date) {
            self.externalID = externalID; self.companyID = companyID; self.counterpartyID = counterpartyID; self.edrpou = edrpou
            self.contactID = contactID
            self.managerID = managerID; self.documentNumber = documentNumber; self.amount = amount; self.shippedAt = shippedAt
        }
    }

    /// A shipment on the wire: its fields plus `late` and, from `shipment.record`, `duplicate`.
    public struct ShipmentInfo: Encodable, Sendable {
        public var shipment: Shipment
        /// Counted in a later month than it was shipped in (its month was closed).
        public var late: Bool { shipment.period != shipment.shippedPeriod }
        /// `shipment.record` only: the external id was recorded before; this is that record.
        public var duplicate: Bool?
        public init(shipment: Shipment, duplicate: Bool? = nil) { self.shipment = shipment; self.duplicate = duplicate }

        enum CodingKeys: String, CodingKey { case late, duplicate }

        public func encode(to encoder: Encoder) throws {
            try shipment.encode(to: encoder)
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(late, forKey: .late)
            if let duplicate { try c.encode(duplicate, forKey: .duplicate) }
        }
    }

    /// `shipment.list` filters: `period` or `from`/`to` on the month a shipment counts in.
    public struct ShipmentListParams: Codable, Sendable {
        public var period: Period?
        public var from: Period?
        public var to: Period?
        public var companyID: Int64?
        public var managerID: Int64?
        public var contactID: Int64?
        public var cursor: String?
        /// 1–500, default 100.
        public var limit: Int?
        public init(period: Period? = nil, from: Period? = nil, to: Period? = nil, companyID: Int64? = nil, managerID: Int64? = nil,
                    contactID: Int64? = nil, cursor: String? = nil, limit: Int? = nil) {
            self.period = period; self.from = from; self.to = to; self.companyID = companyID; self.managerID = managerID
            self.contactID = contactID; self.cursor = cursor; self.limit = limit
        }
    }

    /// A page of `shipment.list`.
    public struct ShipmentList: Encodable, Sendable {
        public var shipments: [ShipmentInfo]
        /// Matches over all pages, and the sum of their amounts.
        public var total: Int
        public var sum: Money
        public var nextCursor: String?
        public init(shipments: [ShipmentInfo], total: Int, sum: Money, nextCursor: String?) {
            self.shipments = shipments; self.total = total; self.sum = sum; self.nextCursor = nextCursor
        }
    }

    // MARK: - Cards

    /// The current month's figures on a company card (`figures`).
    public struct CompanyFigures: Encodable, Sendable {
        public var period: Period
        public var plan: Money
        public var potential: Money
        public var fact: Money
        public var difference: Money
        public var ratio: Decimal?
        public init(_ f: Figures) {
            period = f.period; plan = f.plan; potential = f.potential; fact = f.fact; difference = f.difference
            ratio = PlanFactMethods.ratio(fact: f.fact, plan: f.plan)
        }
    }

    /// The current month's figures on a contact card (`figures`): its company's plan,
    /// potential, fact and difference, and `contact_fact`, the shipments that name the contact.
    public struct ContactFigures: Encodable, Sendable {
        public var period: Period
        /// The company the figures are of; null when the contact has none (zeros then).
        public var companyID: Int64?
        public var plan: Money
        public var potential: Money
        public var fact: Money
        public var difference: Money
        public var ratio: Decimal?
        public var contactFact: Money
        public init(companyID: Int64?, company f: Figures, contactFact: Money) {
            self.companyID = companyID; period = f.period; plan = f.plan; potential = f.potential; fact = f.fact
            difference = f.difference; ratio = PlanFactMethods.ratio(fact: f.fact, plan: f.plan); self.contactFact = contactFact
        }
    }

    /// A card (`contact.get`, `company.get`) with `figures` and, for companies, `funnel`
    /// added: the card's own fields are unchanged.
    public struct CardWithFigures<Card: Encodable & Sendable, F: Encodable & Sendable>: Encodable, Sendable {
        public var card: Card
        public var figures: F
        public var funnel: CompanyFunnelInfo?
        public init(card: Card, figures: F, funnel: CompanyFunnelInfo? = nil) { self.card = card; self.figures = figures; self.funnel = funnel }

        enum CodingKeys: String, CodingKey { case figures, funnel }

        public func encode(to encoder: Encoder) throws {
            try card.encode(to: encoder)
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(figures, forKey: .figures)
            if let funnel { try c.encode(funnel, forKey: .funnel) }
        }
    }

    /// fact / plan rounded to 4 decimals; nil when the plan is 0.
    public static func ratio(fact: Money, plan: Money) -> Decimal? {
        guard plan.kopecks != 0 else { return nil }
        var q = Decimal(fact.kopecks) / Decimal(plan.kopecks)
        var r = Decimal()
        NSDecimalRound(&r, &q, 4, .plain)
        return r
    }

    // MARK: - Reports

    /// `report.plan_fact`: `period`, or `from`/`to` (inclusive, at most 120 months); default the current month.
    public struct ReportPlanFactParams: Codable, Sendable {
        /// `manager` (default) or `company`.
        public var by: String?
        public var period: Period?
        public var from: Period?
        public var to: Period?
        public var companyID: Int64?
        public var managerID: Int64?
        public init(by: String? = nil, period: Period? = nil, from: Period? = nil, to: Period? = nil, companyID: Int64? = nil, managerID: Int64? = nil) {
            self.by = by; self.period = period; self.from = from; self.to = to; self.companyID = companyID; self.managerID = managerID
        }
    }

    /// One row: a month of a manager (`company_*` null) or of a company (`manager_*` = its owner).
    public struct PlanFactRowInfo: Encodable, Sendable, Equatable {
        public var period: Period
        public var managerID: Int64?
        public var managerName: String?
        public var companyID: Int64?
        public var companyName: String?
        public var plan: Money
        public var potential: Money
        public var fact: Money
        public var difference: Money
        public var ratio: Decimal?
        /// Shipment documents counted.
        public var shipments: Int
        /// The month is closed (its history is written).
        public var closed: Bool
        public init(period: Period, managerID: Int64?, managerName: String?, companyID: Int64?, companyName: String?, plan: Money,
                    potential: Money, fact: Money, difference: Money, ratio: Decimal?, shipments: Int, closed: Bool) {
            self.period = period; self.managerID = managerID; self.managerName = managerName; self.companyID = companyID
            self.companyName = companyName; self.plan = plan; self.potential = potential; self.fact = fact; self.difference = difference
            self.ratio = ratio; self.shipments = shipments; self.closed = closed
        }
    }

    /// Sums over the rows.
    public struct PlanFactTotals: Encodable, Sendable {
        public var plan: Money
        public var potential: Money
        public var fact: Money
        public var difference: Money
        public var ratio: Decimal?
        public var shipments: Int
        public init(rows: [PlanFactRowInfo]) {
            plan = rows.reduce(.zero) { $0 + $1.plan }
            potential = rows.reduce(.zero) { $0 + $1.potential }
            fact = rows.reduce(.zero) { $0 + $1.fact }
            difference = fact - plan
            ratio = PlanFactMethods.ratio(fact: fact, plan: plan)
            shipments = rows.reduce(0) { $0 + $1.shipments }
        }
    }

    /// `report.plan_fact` result.
    public struct PlanFactReport: Encodable, Sendable {
        public var by: String
        public var from: Period
        public var to: Period
        public var rows: [PlanFactRowInfo]
        public var totals: PlanFactTotals
        public init(by: String, from: Period, to: Period, rows: [PlanFactRowInfo]) {
            self.by = by; self.from = from; self.to = to; self.rows = rows; self.totals = PlanFactTotals(rows: rows)
        }
    }

    /// `report.funnel`.
    public struct ReportFunnelParams: Codable, Sendable {
        public var funnel: Funnel?
        public var managerID: Int64?
        public init(funnel: Funnel? = nil, managerID: Int64? = nil) { self.funnel = funnel; self.managerID = managerID }
    }

    /// One row: the companies of one stage owned by one manager (null: unowned).
    public struct FunnelRowInfo: Encodable, Sendable {
        public var funnel: Funnel
        public var stage: String
        public var stageName: String
        public var stagePosition: Int
        public var managerID: Int64?
        public var managerName: String?
        public var companies: Int
        public var avgDaysInStage: Decimal
        public var maxDaysInStage: Decimal
        public init(funnel: Funnel, stage: String, stageName: String, stagePosition: Int, managerID: Int64?, managerName: String?,
                    companies: Int, avgDaysInStage: Decimal, maxDaysInStage: Decimal) {
            self.funnel = funnel; self.stage = stage; self.stageName = stageName; self.stagePosition = stagePosition
            self.managerID = managerID; self.managerName = managerName; self.companies = companies
            self.avgDaysInStage = avgDaysInStage; self.maxDaysInStage = maxDaysInStage
        }
    }

    /// `report.funnel` result: `stages` (every live stage with its total, empty ones too,
    /// for drawing the whole funnel) and `rows` (per stage and manager).
    public struct FunnelReport: Encodable, Sendable {
        public var asOf: Date
        public var stages: [StageInfo]
        public var rows: [FunnelRowInfo]
        public init(asOf: Date, stages: [StageInfo], rows: [FunnelRowInfo]) { self.asOf = asOf; self.stages = stages; self.rows = rows }
    }

    // MARK: - Schedules

    /// A schedule with its next `upcoming` occurrences (up to 3).
    public struct ScheduleInfo: Encodable, Sendable {
        public var schedule: Schedule
        public var upcoming: [Date]
        public init(schedule: Schedule, upcoming: [Date]) { self.schedule = schedule; self.upcoming = upcoming }

        enum CodingKeys: String, CodingKey { case upcoming }

        public func encode(to encoder: Encoder) throws {
            try schedule.encode(to: encoder)
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(upcoming, forKey: .upcoming)
        }
    }

    /// `schedule.list` result.
    public struct ScheduleList: Encodable, Sendable {
        public var schedules: [ScheduleInfo]
        public init(schedules: [ScheduleInfo]) { self.schedules = schedules }
    }

    /// `schedule.update`: absent = leave.
    public struct ScheduleUpdateParams: Codable, Sendable {
        public var name: String
        public var version: Int?
        public var enabled: Bool?
        public var cron: String?
        /// An IANA zone (`Europe/Kyiv`).
        public var timeZone: String?
        public init(name: String, version: Int? = nil, enabled: Bool? = nil, cron: String? = nil, timeZone: String? = nil) {
            self.name = name; self.version = version; self.enabled = enabled; self.cron = cron; self.timeZone = timeZone
        }
    }

    /// `schedule.run_now`.
    public struct ScheduleNameParams: Codable, Sendable {
        public var name: String
        public init(name: String) { self.name = name }
    }

    /// `schedule.history`.
    public struct ScheduleHistoryParams: Codable, Sendable {
        public var name: String
        public var cursor: String?
        /// 1–500, default 50.
        public var limit: Int?
        public init(name: String, cursor: String? = nil, limit: Int? = nil) { self.name = name; self.cursor = cursor; self.limit = limit }
    }

    /// One run of a schedule.
    public struct ScheduleRunInfo: Encodable, Sendable {
        public var id: Int64
        public var schedule: String
        /// The occurrence it ran for; null for `schedule.run_now`.
        public var occurrence: Date?
        /// `schedule` or `manual`.
        public var trigger: String
        /// `succeeded` or `failed`.
        public var status: String
        public var instance: String
        public var startedAt: Date
        public var finishedAt: Date
        public var requestedBy: Int64?
        /// What the job reported (the close: `closed`, the months it closed now).
        public var result: JSONValue
        public var error: String?
        public init(id: Int64, schedule: String, occurrence: Date?, trigger: String, status: String, instance: String, startedAt: Date,
                    finishedAt: Date, requestedBy: Int64?, result: JSONValue, error: String?) {
            self.id = id; self.schedule = schedule; self.occurrence = occurrence; self.trigger = trigger; self.status = status
            self.instance = instance; self.startedAt = startedAt; self.finishedAt = finishedAt; self.requestedBy = requestedBy
            self.result = result; self.error = error
        }
    }

    /// `schedule.history` result.
    public struct ScheduleHistory: Encodable, Sendable {
        public var runs: [ScheduleRunInfo]
        public var nextCursor: String?
        public init(runs: [ScheduleRunInfo], nextCursor: String?) { self.runs = runs; self.nextCursor = nextCursor }
    }
}
