import Foundation

// Funnels, plan and fact (issue 6). Source: DOMAIN.md ("Funnels", "Plan, Potential,
// Fact", "Shipment") and issue 6.

/// A calendar month of the business time zone: the unit of plans, facts and the
/// monthly close. Wire form `YYYY-MM`.
public struct Period: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let year: Int
    /// 1–12.
    public let month: Int

    /// A month; nil when `month` is not 1–12 or the year is outside 1900–9999.
    public init?(year: Int, month: Int) {
        guard (1...12).contains(month), (1900...9999).contains(year) else { return nil }
        self.year = year
        self.month = month
    }

    /// Parses `YYYY-MM`.
    public init?(_ text: String) {
        let u = Array(text.utf8)
        guard u.count == 7, u[4] == UInt8(ascii: "-"),
              u.enumerated().allSatisfy({ $0.offset == 4 || ($0.element >= 48 && $0.element <= 57) }),
              let y = Int(text.prefix(4)), let m = Int(text.suffix(2)) else { return nil }
        self.init(year: y, month: m)
    }

    /// The month of the business time zone that contains `instant`.
    public init(containing instant: Date, in timeZone: TimeZone) {
        let t = Int64(instant.timeIntervalSince1970.rounded(.down)) + Int64(timeZone.secondsFromGMT(for: instant))
        let days = CronExpression.floorDiv(t, 86_400)
        let (y, m, _) = RFC3339.civilFromDays(days)
        year = Int(y)
        month = Int(m)
    }

    /// `2026-11`.
    public var description: String {
        let m = month < 10 ? "0\(month)" : "\(month)"
        return "\(year)-\(m)"
    }

    /// The first day as `YYYY-MM-01` (the SQL `date` a period is stored as).
    public var firstDay: String { description + "-01" }

    /// Parses the first day of a month (`YYYY-MM-01`, as PostgreSQL prints a `date`).
    public init?(firstDay text: String) {
        guard text.count == 10, text.hasSuffix("-01") else { return nil }
        self.init(String(text.prefix(7)))
    }

    /// The month `n` months later (earlier when negative).
    public func adding(months n: Int) -> Period {
        let index = year * 12 + (month - 1) + n
        // Clamped by construction in practice; fall back to self outside 1900–9999.
        return Period(year: index / 12, month: index % 12 + 1) ?? self
    }

    public var next: Period { adding(months: 1) }
    public var previous: Period { adding(months: -1) }

    /// Months from `self` to `other` (positive when `other` is later).
    public func months(to other: Period) -> Int {
        (other.year * 12 + other.month) - (year * 12 + month)
    }

    /// The instant the month starts in `timeZone`: local midnight of the 1st (or the first
    /// instant after it, in a zone that skips midnight).
    public func start(in timeZone: TimeZone) -> Date {
        let day = RFC3339.daysFromCivil(Int64(year), Int64(month), 1)
        return Date(timeIntervalSince1970: Double(ZoneClock(timeZone).instant(forWall: day * 86_400)))
    }

    public static func < (a: Period, b: Period) -> Bool { (a.year, a.month) < (b.year, b.month) }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        let s = try c.decode(String.self)
        guard let p = Period(s) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "a period is a month written YYYY-MM, like \"2026-11\"")
        }
        self = p
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// The two funnels a company moves through. Source: DOMAIN.md ("Funnels").
public enum Funnel: String, Sendable, Codable, CaseIterable, Hashable {
    /// From identifying a potential client to handing the company over to Service.
    /// Stages are configured by admins.
    case development
    /// Serving existing accounts; three fixed stages.
    case service
}

/// One stage of a funnel, as configured.
public struct FunnelStage: Sendable, Codable, Equatable {
    public var id: Int64
    public var funnel: Funnel
    /// Stable code (`needs_identified`); never changes and is never reused.
    public var code: String
    /// The label people see; admins rename it freely.
    public var name: String
    /// Order within its funnel, 1-based.
    public var position: Int
    /// Set when an admin removed the stage; it stays for history and holds no company.
    public var removedAt: Date?

    public init(id: Int64, funnel: Funnel, code: String, name: String, position: Int, removedAt: Date?) {
        self.id = id; self.funnel = funnel; self.code = code; self.name = name; self.position = position; self.removedAt = removedAt
    }
}

/// The rules of moving a company between funnel stages.
///
/// * Development: one step forward, or back to any earlier Development stage (a lead
///   went cold). Skipping a stage forward is refused: the process is followed stage by stage.
/// * Handover: from the **last** Development stage to `deal_planned` only.
/// * Service: `deal_planned` → `deal_partially_completed` or `deal_completed`;
///   `deal_partially_completed` → `deal_completed`; `deal_completed` → `deal_planned`
///   (a new deal with the client).
/// * Service → Development: refused (an admin may force it, see below).
/// * Staying where it is: refused.
/// * An admin may `force` any other move (correcting a mistake); forced moves are recorded
///   as such.
public enum FunnelRules {
    /// The fixed Service stages, in order.
    public static let serviceCodes = ["deal_planned", "deal_partially_completed", "deal_completed"]

    /// Allowed Service moves.
    static let serviceMoves: [String: Set<String>] = [
        "deal_planned": ["deal_partially_completed", "deal_completed"],
        "deal_partially_completed": ["deal_completed"],
        "deal_completed": ["deal_planned"],
    ]

    /// Stage codes: 2–40 of `a-z 0-9 _`, starting with a letter.
    public static func validateCode(_ code: String) -> String? {
        let ok = (2...40).contains(code.count) && code.first.map { $0.isASCII && $0.isLowercase } == true
            && code.unicodeScalars.allSatisfy { ($0.isASCII && ($0.properties.isLowercase || ("0"..."9").contains($0))) || $0 == "_" }
        return ok ? nil : "a stage code is 2 to 40 characters of a-z, 0-9 and _, starting with a letter"
    }

    /// Checks a move.
    ///
    /// - Parameters:
    ///   - from: the current stage.
    ///   - to: the target stage (live).
    ///   - developmentOrder: the live Development stage codes in order.
    ///   - force: an admin's override: any move between different live stages.
    /// - Throws: `invalid_transition` naming what is allowed from `from`.
    public static func check(from: FunnelStage, to: FunnelStage, developmentOrder: [String], force: Bool) throws {
        if from.id == to.id { throw KontorError(.invalidTransition, "the company is already at stage \(to.code)") }
        if to.removedAt != nil { throw KontorError(.invalidTransition, "stage \(to.code) was removed") }
        if force { return }
        let allowed = allowedTargets(from: from, developmentOrder: developmentOrder)
        guard allowed.contains(to.code) else {
            let list = allowed.isEmpty ? "nothing" : allowed.joined(separator: ", ")
            throw KontorError(.invalidTransition, "a company at \(from.code) may move to \(list), not to \(to.code)",
                              data: ["from": .string(from.code), "to": .string(to.code)])
        }
    }

    /// Codes a company at `from` may move to without force.
    public static func allowedTargets(from: FunnelStage, developmentOrder: [String]) -> [String] {
        switch from.funnel {
        case .service:
            return serviceCodes.filter { serviceMoves[from.code]?.contains($0) == true }
        case .development:
            guard let i = developmentOrder.firstIndex(of: from.code) else {
                // A removed stage (should hold no company): back to any live stage.
                return developmentOrder
            }
            var out = Array(developmentOrder[..<i])
            if i + 1 < developmentOrder.count { out.append(developmentOrder[i + 1]) } else { out.append("deal_planned") }
            return out
        }
    }
}

/// Plan, potential, fact and difference for one subject and month. Money is exact.
public struct Figures: Sendable, Codable, Equatable {
    public var period: Period
    public var plan: Money
    public var potential: Money
    public var fact: Money
    /// fact − plan.
    public var difference: Money { fact - plan }

    public init(period: Period, plan: Money, potential: Money, fact: Money) {
        self.period = period; self.plan = plan; self.potential = potential; self.fact = fact
    }

    enum CodingKeys: String, CodingKey { case period, plan, potential, fact, difference }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        period = try c.decode(Period.self, forKey: .period)
        plan = try c.decode(Money.self, forKey: .plan)
        potential = try c.decode(Money.self, forKey: .potential)
        fact = try c.decode(Money.self, forKey: .fact)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(period, forKey: .period)
        try c.encode(plan, forKey: .plan)
        try c.encode(potential, forKey: .potential)
        try c.encode(fact, forKey: .fact)
        try c.encode(difference, forKey: .difference)
    }
}

/// A recorded shipment.
///
/// Wire shape (`shipment.record`, `shipment.list`): every field, snake_case, plus `late`
/// (true when it counts in a later month than it was shipped in).
public struct Shipment: Sendable, Codable, Equatable {
    public var id: Int64
    public var externalID: String?
    public var companyID: Int64
    public var companyName: String
    public var counterpartyID: Int64?
    public var contactID: Int64?
    public var managerID: Int64?
    public var managerName: String?
    public var documentNumber: String
    public var amount: Money
    public var shippedAt: Date
    /// The month it counts in.
    public var period: Period
    /// The business-zone month of `shippedAt`; earlier than `period` for a late document
    /// booked into the first open month.
    public var shippedPeriod: Period
    public var recordedAt: Date
    public var recordedBy: Int64?

    /// Memberwise initialiser.
    public init(id: Int64, externalID: String?, companyID: Int64, companyName: String, counterpartyID: Int64?, contactID: Int64?,
                managerID: Int64?, managerName: String?, documentNumber: String, amount: Money, shippedAt: Date, period: Period,
                shippedPeriod: Period, recordedAt: Date, recordedBy: Int64?) {
        self.id = id; self.externalID = externalID; self.companyID = companyID; self.companyName = companyName
        self.counterpartyID = counterpartyID; self.contactID = contactID; self.managerID = managerID; self.managerName = managerName
        self.documentNumber = documentNumber; self.amount = amount; self.shippedAt = shippedAt; self.period = period
        self.shippedPeriod = shippedPeriod; self.recordedAt = recordedAt; self.recordedBy = recordedBy
    }
}


/// A stored schedule (`schedules` row).
public struct Schedule: Sendable, Codable, Equatable {
    public var name: String
    /// The job it runs (`planfact.close_month`).
    public var job: String
    public var description: String
    public var cron: String
    public var timeZone: String
    public var enabled: Bool
    /// The next occurrence not run yet; nil until the scheduler first sees the schedule.
    public var nextFireAt: Date?
    /// After a failure, no attempt before this.
    public var retryAt: Date?
    /// Failed attempts since the last success.
    public var failures: Int
    public var lastRunID: Int64?
    public var lastFireAt: Date?
    public var lastStatus: String?
    public var lastError: String?
    public var version: Int
    public var updatedAt: Date
    public var updatedBy: Int64?

    /// Memberwise initialiser.
    public init(name: String, job: String, description: String, cron: String, timeZone: String, enabled: Bool, nextFireAt: Date?,
                retryAt: Date?, failures: Int, lastRunID: Int64?, lastFireAt: Date?, lastStatus: String?, lastError: String?,
                version: Int, updatedAt: Date, updatedBy: Int64?) {
        self.name = name; self.job = job; self.description = description; self.cron = cron; self.timeZone = timeZone
        self.enabled = enabled; self.nextFireAt = nextFireAt; self.retryAt = retryAt; self.failures = failures
        self.lastRunID = lastRunID; self.lastFireAt = lastFireAt; self.lastStatus = lastStatus; self.lastError = lastError
        self.version = version; self.updatedAt = updatedAt; self.updatedBy = updatedBy
    }
}
