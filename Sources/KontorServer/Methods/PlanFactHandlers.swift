import Foundation
import KontorDomain
import KontorProtocol
import KontorStore
import Postgres

/// `funnel.*`, `company.set_stage`, `company.stage_history`, `plan.*`, `shipment.*`,
/// `report.plan_fact`, `report.funnel` (issue 6), plus `schedule.*` (`ScheduleHandlers`)
/// and the figures the contact and company cards show.
///
/// Rows follow `Visibility`: a sales user sees the companies of their department and only
/// their own manager figures; an admin everything; robots record shipments for any company.
enum PlanFactHandlers {
    typealias M = PlanFactMethods

    static func register(_ t: inout MethodTable) {
        // MARK: funnels
        t.register("funnel.list", M.FunnelListParams.self) { ctx, p in
            let vis = try RecordHandlers.visibility(ctx)
            return try await ctx.app.read { conn in
                try conn.snapshot { conn in
                    let repo = FunnelRepository(conn)
                    let counts = try repo.companyCounts(visibility: vis)
                    return M.FunnelList(stages: try repo.stages(includeRemoved: p.includeRemoved ?? false).map {
                        M.StageInfo(stage: $0, companies: counts[$0.id] ?? 0)
                    })
                }
            }
        }
        t.register("funnel.add_stage", M.StageAddParams.self) { ctx, p in
            let code = try stageCode(p.code, field: "code")
            let name = try RecordInput.required(p.name, field: "name", max: 100)
            if let pos = p.position, pos < 1 { throw KontorError.invalidParams("position", "position starts at 1") }
            let now = ctx.now
            return try await ctx.app.transaction { conn in
                M.StageInfo(stage: try FunnelRepository(conn).addStage(code: code, name: name, position: p.position, at: now), companies: 0)
            }
        }
        t.register("funnel.rename_stage", M.StageRenameParams.self) { ctx, p in
            let name = try RecordInput.required(p.name, field: "name", max: 100)
            let now = ctx.now
            return try await ctx.app.transaction { conn in
                let repo = FunnelRepository(conn)
                let s = try repo.renameStage(code: p.code, name: name, at: now)
                return M.StageInfo(stage: s, companies: try repo.companyCounts(visibility: .everything)[s.id] ?? 0)
            }
        }
        t.register("funnel.reorder_stages", M.StageReorderParams.self) { ctx, p in
            let now = ctx.now
            return try await ctx.app.transaction { conn in
                let repo = FunnelRepository(conn)
                try repo.reorder(codes: p.codes, at: now)
                let counts = try repo.companyCounts(visibility: .everything)
                return M.FunnelList(stages: try repo.stages().map { M.StageInfo(stage: $0, companies: counts[$0.id] ?? 0) })
            }
        }
        t.register("funnel.remove_stage", M.StageRemoveParams.self) { ctx, p in
            let stamp = ctx.stamp
            return try await ctx.app.transaction { conn in
                let repo = FunnelRepository(conn)
                let moved = try repo.removeStage(code: p.code, target: p.target, stamp: stamp)
                guard let s = try repo.stage(code: p.code) else { throw KontorError.notFound("stage \(p.code)") }
                return M.StageRemoveResult(stage: M.StageInfo(stage: s, companies: 0), target: p.target, movedCompanies: moved)
            }
        }
        t.register("company.set_stage", M.SetStageParams.self, setStage)
        t.register("company.stage_history", SessionMethods.IDParams.self) { ctx, p in
            let vis = try RecordHandlers.visibility(ctx)
            let now = ctx.now
            return try await ctx.app.read { conn in
                try conn.snapshot { conn in
                    guard try CompanyRepository(conn).get(id: p.id, visibility: vis) != nil else { throw KontorError.notFound("company \(p.id)") }
                    let repo = FunnelRepository(conn)
                    let moves = try repo.history(companyID: p.id).map { m in
                        M.MoveInfo(id: m.id, at: m.at, actorID: m.actorID, actorName: m.actorName, method: m.method, kind: m.kind,
                                   from: m.fromStage, fromName: m.fromName, to: m.toStage, toName: m.toName, note: m.note,
                                   daysInPrevious: m.secondsInPrevious.map(days))
                    }
                    return M.StageHistory(current: try funnelInfo(conn, companyID: p.id, now: now), moves: moves)
                }
            }
        }

        // MARK: plans
        t.register("plan.set", M.PlanSetParams.self, planSet)
        t.register("plan.get", M.PlanGetParams.self, planGet)
        t.register("plan.list", M.PlanListParams.self, planList)

        // MARK: shipments
        t.register("shipment.record", M.ShipmentRecordParams.self, shipmentRecord)
        t.register("shipment.list", M.ShipmentListParams.self) { ctx, p in
            let vis = try RecordHandlers.visibility(ctx)
            let limit = try RecordHandlers.checkedLimit(p.limit, default: 100, max: 500)
            let after = try RecordHandlers.cursor(p.cursor)
            let (from, to) = try range(period: p.period, from: p.from, to: p.to, default: nil)
            let filter = ShipmentFilter(from: from, to: to, companyID: p.companyID, managerID: p.managerID, contactID: p.contactID)
            let (page, sum) = try await ctx.app.read { conn in
                try conn.snapshot { try PlanFactRepository($0).list(filter, visibility: vis, after: after, limit: limit) }
            }
            return M.ShipmentList(shipments: page.items.map { M.ShipmentInfo(shipment: $0) }, total: page.total, sum: sum,
                                  nextCursor: page.next?.token)
        }

        // MARK: reports
        t.register("report.plan_fact", M.ReportPlanFactParams.self, reportPlanFact)
        t.register("report.funnel", M.ReportFunnelParams.self) { ctx, p in
            let vis = try RecordHandlers.visibility(ctx)
            let now = ctx.now
            return try await ctx.app.read { conn in
                try conn.snapshot { conn in
                    let repo = FunnelRepository(conn)
                    let counts = try repo.companyCounts(visibility: vis)
                    let stages = try repo.stages().filter { p.funnel == nil || $0.funnel == p.funnel }
                    let rows = try repo.report(visibility: vis, now: now, funnel: p.funnel, managerID: p.managerID).map { r in
                        M.FunnelRowInfo(funnel: r.funnel, stage: r.stage, stageName: r.stageName, stagePosition: r.stagePosition,
                                        managerID: r.managerID, managerName: r.managerName, companies: r.companies,
                                        avgDaysInStage: r.avgDaysInStage, maxDaysInStage: r.maxDaysInStage)
                    }
                    // Stage totals: of the rows shown (one manager's when filtered).
                    var totals: [String: Int] = [:]
                    for r in rows { totals[r.stage, default: 0] += r.companies }
                    return M.FunnelReport(asOf: now, stages: stages.map {
                        M.StageInfo(stage: $0, companies: p.managerID == nil ? counts[$0.id] ?? 0 : totals[$0.code] ?? 0)
                    }, rows: rows)
                }
            }
        }

        ScheduleHandlers.register(&t)
    }

    // MARK: - Helpers

    /// Days (one decimal) from seconds: a duration for people, not money.
    static func days(_ seconds: Double) -> Decimal {
        Decimal(Int((seconds / 8640).rounded())) / 10
    }

    static func stageCode(_ code: String, field: String) throws -> String {
        if let why = FunnelRules.validateCode(code) { throw KontorError.invalidParams(field, why) }
        return code
    }

    /// The month of `now` in the business time zone.
    static func currentPeriod(_ ctx: RequestContext) -> Period {
        Period(containing: ctx.now, in: ctx.app.configuration.timeZone)
    }

    /// `period`, or `from`/`to` (both inclusive; one of them alone means that single
    /// month), or `default`; at most 120 months.
    static func range(period: Period?, from: Period?, to: Period?, default d: Period?) throws -> (Period?, Period?) {
        if let period {
            if from != nil || to != nil { throw KontorError.invalidParams("period", "give period, or from and to, not both") }
            return (period, period)
        }
        let lo = from ?? to ?? d
        let hi = to ?? from ?? d
        if let lo, let hi {
            guard lo <= hi else { throw KontorError.invalidParams("from", "from is after to") }
            guard lo.months(to: hi) < 120 else { throw KontorError.invalidParams("to", "a range spans at most 120 months") }
        }
        return (lo, hi)
    }

    static func funnelInfo(_ conn: PostgresConnection, companyID: Int64, now: Date) throws -> M.CompanyFunnelInfo {
        let repo = FunnelRepository(conn)
        guard let pos = try repo.position(companyID: companyID) else { throw KontorError.notFound("company \(companyID)") }
        let allowed = FunnelRules.allowedTargets(from: pos.stage, developmentOrder: try repo.developmentOrder())
        return M.CompanyFunnelInfo(companyID: companyID, funnel: pos.stage.funnel, stage: pos.stage.code, stageName: pos.stage.name,
                                   since: pos.since, daysInStage: days(max(0, now.timeIntervalSince(pos.since))), allowedMoves: allowed)
    }

    // MARK: - Funnel moves

    static func setStage(_ ctx: RequestContext, _ p: M.SetStageParams) async throws -> M.CompanyFunnelInfo {
        let me = try ctx.requirePrincipal()
        let vis = Visibility(me)
        let force = p.force ?? false
        if force, me.role != .admin { throw KontorError.forbidden("only admins force a funnel move") }
        let note = try RecordInput.text(p.note, field: "note", max: 1000, multiline: true)
        let stamp = ctx.stamp
        return try await ctx.app.transaction { conn in
            guard let company = try CompanyRepository(conn).get(id: p.id, visibility: vis) else { throw KontorError.notFound("company \(p.id)") }
            if company.deletedAt != nil { throw KontorError.invalidParams("id", "company \(p.id) is deleted; restore it first") }
            let repo = FunnelRepository(conn)
            // Shared lock on the target first (stage management locks stages before companies,
            // so this order cannot deadlock with it): a concurrent removal of that stage waits
            // for us or wins first.
            guard let target = try repo.stage(code: p.stage, lock: true), target.removedAt == nil else {
                throw KontorError.invalidParams("stage", "no live stage \(p.stage)")
            }
            guard let pos = try repo.position(companyID: p.id, lock: true) else { throw KontorError.notFound("company \(p.id)") }
            if let from = p.from, from != pos.stage.code {
                throw KontorError(.conflict, "the company has moved to \(pos.stage.code) since you looked; reload it",
                                  data: ["current_stage": .string(pos.stage.code)])
            }
            let order = try repo.developmentOrder()
            let byRules = FunnelRules.allowedTargets(from: pos.stage, developmentOrder: order).contains(target.code)
            try FunnelRules.check(from: pos.stage, to: target, developmentOrder: order, force: force)
            try repo.move(companyID: p.id, from: pos.stage, to: target, kind: byRules ? "move" : "forced", note: note, stamp: stamp)
            return try funnelInfo(conn, companyID: p.id, now: stamp.at)
        }
    }

    // MARK: - Plans

    /// Exactly one of a manager and a company.
    static func subject(managerID: Int64?, companyID: Int64?) throws -> PlanSubject {
        switch (managerID, companyID) {
        case (let m?, nil): return .manager(m)
        case (nil, let c?): return .company(c)
        default: throw KontorError.invalidParams(managerID == nil ? "manager_id" : "company_id", "give exactly one of manager_id and company_id")
        }
    }

    /// Checks that a plan's subject exists and the caller may see it: a user only
    /// themselves and the companies of their department.
    static func checkSubject(_ conn: PostgresConnection, _ s: PlanSubject, me: Principal, forWriting: Bool) throws {
        switch s {
        case .manager(let id):
            if me.role == .user, id != me.userID { throw KontorError.forbidden("you see only your own plan and figures") }
            guard let u = try UserRepository(conn).get(id: id), u.role == .user || u.role == .admin else {
                throw KontorError.invalidParams("manager_id", "user \(id) is not a sales manager")
            }
        case .company(let id):
            guard let c = try CompanyRepository(conn).get(id: id, visibility: Visibility(me)) else { throw KontorError.notFound("company \(id)") }
            if forWriting, c.deletedAt != nil { throw KontorError.invalidParams("company_id", "company \(id) is deleted") }
        }
    }

    static func info(_ r: PlanRecord) -> M.PlanInfo {
        var managerID: Int64?
        var companyID: Int64?
        switch r.subject {
        case .manager(let id): managerID = id
        case .company(let id): companyID = id
        }
        return M.PlanInfo(kind: r.subject.kind, managerID: managerID, companyID: companyID, name: r.subjectName, period: r.period,
                          plan: r.plan, potential: r.potential, version: r.version, updatedAt: r.updatedAt, updatedBy: r.updatedBy)
    }

    static func planSet(_ ctx: RequestContext, _ p: M.PlanSetParams) async throws -> M.PlanInfo {
        let me = try ctx.requirePrincipal()
        let s = try subject(managerID: p.managerID, companyID: p.companyID)
        guard p.plan != nil || p.potential != nil else { throw KontorError.invalidParams("plan", "give plan, potential or both") }
        if let v = p.plan, v < .zero { throw KontorError.invalidParams("plan", "a plan is not negative") }
        if let v = p.potential, v < .zero { throw KontorError.invalidParams("potential", "a potential is not negative") }
        let stamp = ctx.stamp
        return try await ctx.app.transaction { conn in
            try checkSubject(conn, s, me: me, forWriting: true)
            return info(try PlanFactRepository(conn).setPlan(s, period: p.period, plan: p.plan, potential: p.potential,
                                                             version: p.version, stamp: stamp))
        }
    }

    static func planGet(_ ctx: RequestContext, _ p: M.PlanGetParams) async throws -> M.PlanDetail {
        let me = try ctx.requirePrincipal()
        let s = try subject(managerID: p.managerID, companyID: p.companyID)
        return try await ctx.app.read { conn in
            try conn.snapshot { conn in
                try checkSubject(conn, s, me: me, forWriting: false)
                let repo = PlanFactRepository(conn)
                let plan = try repo.plan(s, period: p.period)
                let fact: Money
                switch s {
                case .manager(let id): fact = try repo.managerFact(managerID: id, period: p.period)
                case .company(let id): fact = try repo.companyFigures(companyID: id, period: p.period).fact
                }
                var history: [M.PlanChange] = []
                if let id = plan.id {
                    history = try AuditRepository(conn).list(entity: s.audit.name, entityIDs: [id], actorID: nil, from: nil, to: nil,
                                                             beforeID: nil, limit: 500).map { a in
                        M.PlanChange(at: a.at, actorID: a.actorID, actorName: a.actorName, action: a.action, changes: try JSONValue.parse(a.changes))
                    }
                }
                return M.PlanDetail(plan: info(plan), fact: fact, ratio: M.ratio(fact: fact, plan: plan.plan),
                                    closed: try repo.isClosed(p.period), history: history)
            }
        }
    }

    static func planList(_ ctx: RequestContext, _ p: M.PlanListParams) async throws -> M.PlanList {
        let me = try ctx.requirePrincipal()
        guard p.kind == "manager" || p.kind == "company" else { throw KontorError.invalidParams("kind", "kind is manager or company") }
        let (lo, hi) = try range(period: p.period, from: p.from, to: p.to, default: currentPeriod(ctx))
        guard let from = lo, let to = hi else { throw KontorError.invalidParams("period", "give a period") }
        var subjects: [Int64]?
        if p.kind == "manager" {
            if p.companyID != nil { throw KontorError.invalidParams("company_id", "company_id goes with kind company") }
            if me.role == .user {
                if let m = p.managerID, m != me.userID { throw KontorError.forbidden("you see only your own plan and figures") }
                subjects = [me.userID]
            } else if let m = p.managerID {
                subjects = [m]
            }
        } else {
            if p.managerID != nil { throw KontorError.invalidParams("manager_id", "manager_id goes with kind manager") }
            subjects = p.companyID.map { [$0] }
        }
        let vis = Visibility(me)
        let found = subjects
        return M.PlanList(plans: try await ctx.app.read { conn in
            try PlanFactRepository(conn).plans(kind: p.kind, from: from, to: to, subjects: found, visibility: vis).map(info)
        })
    }

    // MARK: - Shipments

    static func shipmentRecord(_ ctx: RequestContext, _ p: M.ShipmentRecordParams) async throws -> M.ShipmentInfo {
        let me = try ctx.requirePrincipal()
        // Robots ingest for every company (see docs/RECORDS.md, "Visibility").
        let vis: Visibility = me.role == .robot ? .everything : Visibility(me)
        let externalID = try RecordInput.key(p.externalID, field: "external_id", max: 200)
        if me.role == .robot, externalID == nil {
            throw KontorError.invalidParams("external_id", "robots send the document's external_id, so that a repeat is recorded once")
        }
        let edrpou = try RecordInput.edrpou(p.edrpou)
        guard p.companyID != nil || p.counterpartyID != nil || edrpou != nil else {
            throw KontorError.invalidParams("company_id", "name the company: company_id, counterparty_id or edrpou")
        }
        let document = try RecordInput.required(p.documentNumber, field: "document_number", max: 100)
        guard p.amount != .zero else { throw KontorError.invalidParams("amount", "an amount is not zero (a refund is negative)") }
        try EventTime.check(p.shippedAt, field: "shipped_at", now: ctx.now, futureTolerance: EventTime.documentFutureTolerance)
        let timeZone = ctx.app.configuration.timeZone.identifier
        let stamp = ctx.stamp
        return try await ctx.app.transaction { conn in
            let companies = CompanyRepository(conn)
            // The counterparty, by id or by EDRPOU code; it names the company when no id does.
            var counterparty: Counterparty?
            if let cp = p.counterpartyID {
                guard let c = try companies.counterparty(id: cp, visibility: vis) else { throw KontorError.notFound("counterparty \(cp)") }
                counterparty = c
            }
            if let code = edrpou {
                guard let c = try companies.listCounterparties(companyID: nil, edrpou: code, nameFragment: nil, visibility: vis, limit: 1).first else {
                    throw KontorError.notFound("counterparty with EDRPOU \(code)")
                }
                if let named = counterparty, named.id != c.id {
                    throw KontorError.invalidParams("edrpou", "EDRPOU \(code) is counterparty \(c.id), not \(named.id)")
                }
                counterparty = c
            }
            let companyID = p.companyID ?? counterparty?.companyID ?? 0
            if let c = counterparty, c.companyID != companyID {
                throw KontorError.invalidParams(p.counterpartyID != nil ? "counterparty_id" : "edrpou",
                                                "counterparty \(c.id) belongs to company \(c.companyID), not \(companyID)")
            }
            guard let company = try companies.get(id: companyID, visibility: vis) else {
                throw KontorError.notFound("company \(companyID)")
            }
            if let ct = p.contactID {
                guard let c = try ContactRepository(conn).get(id: ct, visibility: vis) else { throw KontorError.notFound("contact \(ct)") }
                guard c.companyID == companyID else {
                    throw KontorError.invalidParams("contact_id", "contact \(ct) is not a contact of company \(companyID)")
                }
            }
            var manager = p.managerID
            if let m = manager {
                guard let u = try UserRepository(conn).get(id: m), u.role == .user || u.role == .admin else {
                    throw KontorError.invalidParams("manager_id", "user \(m) is not a sales manager")
                }
                if me.role == .user, u.id != me.userID, u.department != me.department {
                    throw KontorError.forbidden("you may name only managers of your department")
                }
            } else {
                manager = company.ownerID ?? (me.role == .user ? me.userID : nil)
            }
            let draft = ShipmentDraft(externalID: externalID, companyID: companyID, counterpartyID: counterparty?.id, contactID: p.contactID,
                                      managerID: manager, documentNumber: document, amount: p.amount, shippedAt: p.shippedAt)
            let (s, duplicate) = try PlanFactRepository(conn).record(draft, timeZone: timeZone, stamp: stamp)
            if duplicate {
                let same = s.companyID == companyID && s.counterpartyID == counterparty?.id && s.contactID == p.contactID
                    && s.documentNumber == document && s.amount == p.amount && s.shippedAt == p.shippedAt
                    && (p.managerID == nil || s.managerID == p.managerID)
                guard same else {
                    throw KontorError(.duplicate, "external_id \(externalID ?? "") was recorded before with other data (shipment \(s.id))",
                                      data: ["existing_id": .int(Int(s.id)), "field": .string("external_id")])
                }
            }
            return M.ShipmentInfo(shipment: s, duplicate: duplicate)
        }
    }

    // MARK: - Reports

    static func reportPlanFact(_ ctx: RequestContext, _ p: M.ReportPlanFactParams) async throws -> M.PlanFactReport {
        let me = try ctx.requirePrincipal()
        let vis = Visibility(me)
        let by = p.by ?? "manager"
        guard by == "manager" || by == "company" else { throw KontorError.invalidParams("by", "by is manager or company") }
        let (lo, hi) = try range(period: p.period, from: p.from, to: p.to, default: currentPeriod(ctx))
        guard let from = lo, let to = hi else { throw KontorError.invalidParams("period", "give a period") }
        var managerID = p.managerID
        if by == "manager" {
            if p.companyID != nil { throw KontorError.invalidParams("company_id", "a company's figures are by: company") }
            if me.role == .user {
                if let m = managerID, m != me.userID { throw KontorError.forbidden("you see only your own plan and figures") }
                managerID = me.userID
            }
        }
        let manager = managerID
        let rows: [PlanFactRow] = try await ctx.app.read { conn in
            try conn.snapshot { conn in
                let repo = PlanFactRepository(conn)
                var rows: [PlanFactRow]
                if by == "manager" {
                    rows = try repo.byManager(from: from, to: to, managerID: manager)
                    // A manager without plans or shipments in the range still gets a row per month.
                    if rows.isEmpty, let m = manager {
                        guard let u = try UserRepository(conn).get(id: m) else { throw KontorError.notFound("user \(m)") }
                        rows = try zeroRows(repo, from: from, to: to) { PlanFactRow.zero($0, managerID: m, managerName: u.fullName) }
                    }
                } else {
                    rows = try repo.byCompany(from: from, to: to, companyID: p.companyID, managerID: manager, visibility: vis)
                    if rows.isEmpty, let c = p.companyID {
                        guard let co = try CompanyRepository(conn).get(id: c, visibility: vis) else { throw KontorError.notFound("company \(c)") }
                        if manager == nil || manager == co.ownerID {
                            rows = try zeroRows(repo, from: from, to: to) {
                                var r = PlanFactRow.zero($0, managerID: co.ownerID, managerName: co.ownerName)
                                r.companyID = co.id
                                r.companyName = co.name
                                return r
                            }
                        }
                    }
                }
                return rows
            }
        }
        return M.PlanFactReport(by: by, from: from, to: to, rows: rows.map {
            M.PlanFactRowInfo(period: $0.period, managerID: $0.managerID, managerName: $0.managerName, companyID: $0.companyID,
                              companyName: $0.companyName, plan: $0.plan, potential: $0.potential, fact: $0.fact, difference: $0.difference,
                              ratio: $0.ratio, shipments: $0.shipments, closed: $0.closed)
        })
    }

    static func zeroRows(_ repo: PlanFactRepository, from: Period, to: Period, _ make: (Period) -> PlanFactRow) throws -> [PlanFactRow] {
        var out: [PlanFactRow] = []
        var m = from
        while m <= to {
            var r = make(m)
            r.closed = try repo.isClosed(m)
            out.append(r)
            m = m.next
        }
        return out
    }

    // MARK: - Cards

    /// `contact.get` with `figures`: the contact's company's figures of the current month
    /// and `contact_fact`.
    static func contactCard(_ conn: PostgresConnection, _ card: RecordMethods.ContactCard, period: Period)
        throws -> M.CardWithFigures<RecordMethods.ContactCard, M.ContactFigures> {
        let repo = PlanFactRepository(conn)
        let companyID = card.contact.companyID
        let company = try companyID.map { try repo.companyFigures(companyID: $0, period: period) }
            ?? Figures(period: period, plan: .zero, potential: .zero, fact: .zero)
        return M.CardWithFigures(card: card, figures: M.ContactFigures(companyID: companyID, company: company,
                                                                      contactFact: try repo.contactFact(contactID: card.contact.id, period: period)))
    }

    /// `company.get` with `figures` (the current month) and `funnel` (its stage).
    static func companyCard(_ conn: PostgresConnection, _ card: RecordMethods.CompanyCardResult, period: Period, now: Date)
        throws -> M.CardWithFigures<RecordMethods.CompanyCardResult, M.CompanyFigures> {
        M.CardWithFigures(card: card, figures: M.CompanyFigures(try PlanFactRepository(conn).companyFigures(companyID: card.company.id, period: period)),
                          funnel: try funnelInfo(conn, companyID: card.company.id, now: now))
    }
}

extension PlanFactRow {
    /// A month with no plan and no shipment.
    static func zero(_ period: Period, managerID: Int64?, managerName: String?) -> PlanFactRow {
        PlanFactRow(period: period, managerID: managerID, managerName: managerName, companyID: nil, companyName: nil, plan: .zero,
                    potential: .zero, fact: .zero, difference: .zero, ratio: nil, shipments: 0, closed: false)
    }
}
