import Foundation
import KontorClient
import KontorDomain
import KontorProtocol
import KontorServer
import KontorTestSupport
import Postgres
import Testing

@Suite("Plan and fact: shipments, Kyiv months, refunds, idempotency, cards, reports")
struct PlanFactTests {
    @Test("Kyiv month boundaries both ways around midnight, winter and summer time; refunds lower the fact")
    func kyivBoundaries() async throws {
        try await withPlanFactWorld { w in
            let co = try await w.company("ТОВ Папір", owner: w.devUser)
            let cases: [(String, String, String)] = [
                ("2026-10-31T23:30:00+02:00", "100.00", "2026-10"),   // last day, 23:30 Kyiv: the old month
                ("2026-10-31T22:30:00Z", "200.00", "2026-11"),        // 00:30 on the 1st Kyiv = 22:30 UTC the day before
                ("2026-11-01T00:00:00+02:00", "0.01", "2026-11"),     // midnight itself opens the month
                ("2026-10-31T21:59:59.999Z", "0.02", "2026-10"),      // 23:59:59.999 Kyiv
                ("2026-03-31T23:30:00+03:00", "300.00", "2026-03"),   // summer time: 20:30 UTC
                ("2026-03-31T21:30:00Z", "400.00", "2026-04"),        // 00:30 on 1 April EEST
                ("2026-03-29T03:30:00+03:00", "7.00", "2026-03"),     // the DST change day itself
                ("2026-11-15T10:00:00+02:00", "-50.50", "2026-11"),   // a refund
            ]
            for (at, amount, period) in cases {
                let s = try await w.ship(co, amount, at: at)
                #expect(s["period"] == .string(period), "\(at) → \(period), got \(String(describing: s["period"]))")
                #expect(s["late"] == false)
            }
            func fact(_ p: String) async throws -> JSONValue? {
                try await w.admin.call("plan.get", ["company_id": num(co), "period": .string(p)])["fact"]
            }
            #expect(try await fact("2026-10") == "100.02")
            #expect(try await fact("2026-11") == "149.51", "200.00 + 0.01 − 50.50: the refund lowers the fact")
            #expect(try await fact("2026-03") == "307.00")
            #expect(try await fact("2026-04") == "400.00")
            // The shipment's instants come back in the business zone, as sent.
            let list = try await w.admin.call("shipment.list", ["period": "2026-11", "company_id": num(co)])
            #expect(list["total"] == 3)
            #expect(list["sum"] == "149.51")
            #expect(list["shipments"]?.items.contains { $0["shipped_at"] == "2026-11-01T00:30:00+02:00" } == true)
            // The same through the reporting view (what BI reads).
            let viewFacts = try await w.sql { conn in
                try conn.query("""
                    SELECT period_label, fact::text AS fact FROM reporting.plan_fact_by_company_v1 ORDER BY period
                    """).map { "\(try $0.decode("period_label", as: String.self))=\(try $0.decode("fact", as: String.self))" }
            }
            #expect(viewFacts == ["2026-03=307.00", "2026-04=400.00", "2026-10=100.02", "2026-11=149.51"])
        }
    }

    @Test("plan.set, plan.get, plan.list: exact money, versions, history in the audit, difference and ratio")
    func plans() async throws {
        try await withPlanFactWorld { w in
            let co = try await w.company("Канцелярія Плюс", owner: w.devUser)
            let set = try await w.admin.call("plan.set", ["period": "2026-11", "manager_id": num(w.devUser.id), "plan": "100000.10",
                                                          "potential": "250000"])
            #expect(set["plan"] == "100000.10")
            #expect(set["potential"] == "250000.00")
            #expect(set["version"] == 1)
            #expect(set["name"] == "Olena Dev")
            // A stale version: conflict, nothing changes.
            let stale = await failure { _ = try await w.admin.call("plan.set", ["period": "2026-11", "manager_id": num(w.devUser.id),
                                                                                "plan": "1", "version": 0]) }
            #expect(stale?.kind == .conflict)
            #expect(stale?.data["current_version"] == .int(1))
            let upd = try await w.admin.call("plan.set", ["period": "2026-11", "manager_id": num(w.devUser.id), "plan": "120000", "version": 1])
            #expect(upd["plan"] == "120000.00")
            #expect(upd["potential"] == "250000.00", "absent keeps")
            // Bad input: typed errors.
            for (params, field) in [(["period": "2026-13", "manager_id": num(w.devUser.id), "plan": "1"] as JSONValue, "period"),
                                    (["period": "2026-11", "manager_id": num(w.devUser.id), "plan": .number("1.5")] as JSONValue, "plan"),
                                    (["period": "2026-11", "manager_id": num(w.devUser.id), "plan": "1.005"] as JSONValue, "plan"),
                                    (["period": "2026-11", "manager_id": num(w.devUser.id), "plan": "-1"] as JSONValue, "plan"),
                                    (["period": "2026-11", "plan": "1"] as JSONValue, "manager_id"),
                                    (["period": "2026-11", "manager_id": num(w.devUser.id), "company_id": num(co), "plan": "1"] as JSONValue, "company_id"),
                                    (["period": "2026-11", "manager_id": num(w.devUser.id)] as JSONValue, "plan")] {
                let e = await failure { _ = try await w.admin.call("plan.set", params) }
                #expect(e?.kind == .invalidParams && e?.data["field"] == .string(field), "\(params): \(String(describing: e))")
            }
            #expect(await failure { _ = try await w.dev.call("plan.set", ["period": "2026-11", "manager_id": num(w.devUser.id), "plan": "1"]) }?.kind
                    == .forbidden)
            _ = try await w.admin.call("plan.set", ["period": "2026-11", "company_id": num(co), "plan": "1000", "potential": "5000"])
            try await w.ship(co, "1250.00", at: "2026-11-05T10:00:00+02:00", manager: w.devUser.id)
            let got = try await w.dev.call("plan.get", ["period": "2026-11", "manager_id": num(w.devUser.id)])
            #expect(got["fact"] == "1250.00")
            #expect(got["difference"] == "-118750.00")
            #expect(got["ratio"] == .number("0.0104"))
            #expect(got["closed"] == false)
            let history = got["history"]?.items ?? []
            #expect(history.count == 2)
            #expect(history.first?["changes"]?["plan"]?["before"] == "100000.10")
            #expect(history.first?["changes"]?["plan"]?["after"] == "120000.00")
            #expect(history.first?["actor_name"] == "Boss Admin")
            let cget = try await w.dev.call("plan.get", ["period": "2026-11", "company_id": num(co)])
            #expect(cget["ratio"] == .number("1.25"))
            #expect(cget["difference"] == "250.00")
            // No plan set: zeros and a null ratio.
            let none = try await w.dev.call("plan.get", ["period": "2026-12", "company_id": num(co)])
            #expect(none["plan"] == "0.00" && none["version"] == 0 && none["ratio"] == .null)
            // A user sees only their own manager plan, and companies of their department.
            #expect(await failure { _ = try await w.dev.call("plan.get", ["period": "2026-11", "manager_id": num(w.dev2User.id)]) }?.kind == .forbidden)
            #expect(await failure { _ = try await w.service.call("plan.get", ["period": "2026-11", "company_id": num(co)]) }?.kind == .notFound)
            let mine = try await w.dev.call("plan.list", ["kind": "manager", "from": "2026-10", "to": "2026-12"])
            #expect(mine["plans"]?.items.map { $0["manager_id"]?.int64Value } == [w.devUser.id])
            let all = try await w.admin.call("plan.list", ["kind": "company", "period": "2026-11"])
            #expect(all["plans"]?.items.count == 1)
            #expect(try await w.service.call("plan.list", ["kind": "company", "period": "2026-11"])["plans"]?.items.isEmpty == true)
        }
    }

    @Test("shipment.record is idempotent by external id, also under concurrency; other data under the same id is refused")
    func idempotency() async throws {
        try await withPlanFactWorld { w in
            let co = try await w.company("Офіс Центр", owner: w.dev2User)
            let first = try await w.ship(co, "999.99", at: "2026-11-03T09:00:00+02:00", doc: "RN-1", external: "1c:RN-1")
            #expect(first["duplicate"] == false)
            #expect(first["manager_id"]?.int64Value == w.dev2User.id, "the company's owner by default")
            let again = try await w.ship(co, "999.99", at: "2026-11-03T07:00:00Z", doc: "RN-1", external: "1c:RN-1")
            #expect(again["duplicate"] == true)
            #expect(again.id == first.id)
            let other = await failure { try await w.ship(co, "1.00", at: "2026-11-03T09:00:00+02:00", doc: "RN-1", external: "1c:RN-1") }
            #expect(other?.kind == .duplicate)
            #expect(other?.data["existing_id"] == .int(Int(first.id)))
            // Twenty deliveries of one document at once, from four connections: one row.
            let conns = [w.robot, try await w.server.robot("bridge2"), try await w.server.robot("bridge3"), w.admin]
            let results = try await withThrowingTaskGroup(of: JSONValue.self) { g in
                for i in 0..<20 {
                    let c = conns[i % conns.count]
                    g.addTask {
                        try await c.call("shipment.record", ["company_id": num(co), "document_number": "RN-2", "amount": "10.00",
                                                              "shipped_at": "2026-11-04T09:00:00+02:00", "external_id": "1c:RN-2"])
                    }
                }
                var out: [JSONValue] = []
                for try await r in g { out.append(r) }
                return out
            }
            #expect(Set(results.map(\.id)).count == 1)
            #expect(results.filter { $0["duplicate"] == false }.count == 1)
            let rows = try await w.sql { conn in
                try conn.query("SELECT count(*) AS n FROM shipments WHERE external_id = '1c:RN-2'").one().decode("n", as: Int.self)
            }
            #expect(rows == 1)
            #expect(try await w.admin.call("plan.get", ["company_id": num(co), "period": "2026-11"])["fact"] == "1009.99")
            // Robots must send an external id; a zero amount, a foreign counterparty or contact are refused.
            let noExt = await failure { _ = try await w.robot.call("shipment.record", ["company_id": num(co), "document_number": "X",
                                                                                       "amount": "1", "shipped_at": "2026-11-04T09:00:00+02:00"]) }
            #expect(noExt?.data["field"] == .string("external_id"))
            let zero = await failure { try await w.ship(co, "0.00", at: "2026-11-04T09:00:00+02:00") }
            #expect(zero?.data["field"] == .string("amount"))
            let other2 = try await w.company("Інша", owner: nil)
            let cp = try await w.admin.call("counterparty.add", ["company_id": num(other2), "legal_name": "ТОВ Інша"])
            let wrongCp = await failure { _ = try await w.robot.call("shipment.record", ["company_id": num(co), "counterparty_id": num(cp.id),
                                                                                         "document_number": "X", "amount": "1", "external_id": "x1",
                                                                                         "shipped_at": "2026-11-04T09:00:00+02:00"]) }
            #expect(wrongCp?.data["field"] == .string("counterparty_id"))
            #expect(await failure { try await w.ship(99_999, "1.00", at: "2026-11-04T09:00:00+02:00") }?.kind == .notFound)
            // Nothing was written by the refused calls.
            #expect(try await w.sql { conn in try conn.query("SELECT count(*) AS n FROM shipments").one().decode("n", as: Int.self) } == 2)
            // An accounting robot knows the counterparty's EDRPOU code, not our ids.
            let cp2 = try await w.admin.call("counterparty.add", ["company_id": num(co), "legal_name": "ТОВ Офіс Центр", "edrpou": "40123456"])
            let byCode = try await w.robot.call("shipment.record", ["edrpou": "40123456", "document_number": "RN-3", "amount": "3.00",
                                                                    "external_id": "1c:RN-3", "shipped_at": "2026-11-04T09:00:00+02:00"])
            #expect(byCode["company_id"]?.int64Value == co && byCode["counterparty_id"]?.int64Value == cp2.id)
            #expect(await failure { _ = try await w.robot.call("shipment.record", ["edrpou": "49999999", "document_number": "RN-4", "amount": "3",
                                                                                   "external_id": "1c:RN-4", "shipped_at": "2026-11-04T09:00:00+02:00"]) }?
                .kind == .notFound)
            #expect(await failure { _ = try await w.robot.call("shipment.record", ["company_id": num(other2), "edrpou": "40123456", "document_number": "RN-5",
                                                                                   "amount": "3", "external_id": "1c:RN-5",
                                                                                   "shipped_at": "2026-11-04T09:00:00+02:00"]) }?.data["field"] == .string("edrpou"))
            // Users record for companies they see; robots may not list.
            let byUser = try await w.dev.call("shipment.record", ["company_id": num(co), "document_number": "MAN-1", "amount": "5",
                                                                  "shipped_at": "2026-11-05T09:00:00+02:00"])
            #expect(byUser["duplicate"] == false && byUser["recorded_by"]?.int64Value == w.devUser.id)
            #expect(await failure { _ = try await w.service.call("shipment.record", ["company_id": num(co), "document_number": "MAN-2",
                                                                                    "amount": "5", "shipped_at": "2026-11-05T09:00:00+02:00"]) }?.kind
                    == .notFound)
            #expect(await failure { _ = try await w.robot.call("shipment.list", [:]) }?.kind == .forbidden)
        }
    }

    @Test("cards show the current month's plan, potential, fact and difference; a company's three contacts do not triple one shipment")
    func cards() async throws {
        try await withPlanFactWorld { w in
            let co = try await w.company("Папірус", owner: w.devUser)
            var contacts: [Int64] = []
            for name in ["Іван", "Петро", "Марія"] {
                contacts.append(try await w.dev.call("contact.create", ["full_name": .string(name), "company_id": num(co)]).id)
            }
            _ = try await w.admin.call("plan.set", ["period": "2026-11", "company_id": num(co), "plan": "2000", "potential": "9000"])
            try await w.ship(co, "1500.00", at: "2026-11-02T10:00:00+02:00", contact: contacts[1])
            try await w.ship(co, "300.00", at: "2026-10-20T10:00:00+02:00")   // last month: not on the card
            let card = try await w.dev.call("company.get", ["id": num(co)])
            #expect(card["name"] == "Папірус", "the card keeps its fields")
            #expect(card["contacts"]?.items.count == 3)
            let f = try #require(card["figures"])
            #expect(f["period"] == "2026-11" && f["plan"] == "2000.00" && f["potential"] == "9000.00" && f["fact"] == "1500.00"
                    && f["difference"] == "-500.00" && f["ratio"] == .number("0.75"))
            #expect(card["funnel"]?["stage"] == "new")
            let c1 = try await w.dev.call("contact.get", ["id": num(contacts[1])])
            #expect(c1["full_name"] == "Петро" && c1["comments"] != nil)
            #expect(c1["figures"]?["fact"] == "1500.00" && c1["figures"]?["contact_fact"] == "1500.00" && c1["figures"]?["company_id"]?.int64Value == co)
            let c0 = try await w.dev.call("contact.get", ["id": num(contacts[0])])
            #expect(c0["figures"]?["fact"] == "1500.00" && c0["figures"]?["contact_fact"] == "0.00")
            // One document, counted once in the company view and the report.
            let viewRow = try await w.sql { conn in
                try conn.query("""
                    SELECT fact::text AS fact, shipments FROM reporting.plan_fact_by_company_v1 WHERE period_label = '2026-11'
                    """).one()
            }
            #expect(try viewRow.decode("fact", as: String.self) == "1500.00")
            #expect(try viewRow.decode("shipments", as: Int.self) == 1)
            // The 1st: the cards show the new month, at zero; the old month is still in reports.
            w.clock.set(instant("2026-12-01T00:00:01+02:00"))
            let dec = try await w.dev.call("company.get", ["id": num(co)])["figures"]
            #expect(dec?["period"] == "2026-12" && dec?["fact"] == "0.00" && dec?["plan"] == "0.00" && dec?["ratio"] == .null)
            let rep = try await w.dev.call("report.plan_fact", ["by": "company", "period": "2026-11"])
            #expect(rep["rows"]?[0]?["fact"] == "1500.00")
        }
    }

    @Test("report.plan_fact: per manager or company, a period or a range, one company or all; users see their own and their department's")
    func reports() async throws {
        try await withPlanFactWorld { w in
            let a = try await w.company("Alpha", owner: w.devUser)
            let b = try await w.company("Beta", owner: w.dev2User)
            let s = try await w.company("Sigma", owner: w.serviceUser)
            for (m, plan) in [(w.devUser.id, "1000"), (w.dev2User.id, "2000"), (w.serviceUser.id, "3000")] {
                _ = try await w.admin.call("plan.set", ["period": "2026-10", "manager_id": num(m), "plan": .string(plan)])
            }
            _ = try await w.admin.call("plan.set", ["period": "2026-11", "company_id": num(a), "plan": "500", "potential": "800"])
            try await w.ship(a, "600.00", at: "2026-10-05T10:00:00+03:00")
            try await w.ship(a, "700.00", at: "2026-11-05T10:00:00+02:00")
            try await w.ship(b, "100.00", at: "2026-10-06T10:00:00+03:00")
            try await w.ship(s, "900.00", at: "2026-10-07T10:00:00+03:00")
            // Admin, by manager, one month: everyone.
            let adm = try await w.admin.call("report.plan_fact", ["by": "manager", "period": "2026-10"])
            let rows = adm["rows"]?.items ?? []
            #expect(rows.map { $0["manager_name"]?.stringValue ?? "" } == ["Marta Service", "Olena Dev", "Taras Dev"])
            let olena = try #require(rows.first { $0["manager_id"]?.int64Value == w.devUser.id })
            #expect(olena["period"] == "2026-10" && olena["plan"] == "1000.00" && olena["fact"] == "600.00" && olena["difference"] == "-400.00"
                    && olena["ratio"] == .number("0.6") && olena["potential"] == "0.00" && olena["company_id"] == .null)
            #expect(adm["totals"]?["fact"] == "1600.00" && adm["totals"]?["plan"] == "6000.00")
            // A range: one row per month per manager, months without data at zero.
            let range = try await w.admin.call("report.plan_fact", ["by": "manager", "from": "2026-09", "to": "2026-11", "manager_id": num(w.devUser.id)])
            #expect(range["rows"]?.items.map { "\($0["period"]?.stringValue ?? "")=\($0["fact"]?.stringValue ?? "")" }
                    == ["2026-09=0.00", "2026-10=600.00", "2026-11=700.00"])
            // A user: their own figures only, whatever they ask.
            let mine = try await w.dev.call("report.plan_fact", ["period": "2026-10"])
            #expect(mine["rows"]?.items.map { $0["manager_id"]?.int64Value } == [w.devUser.id])
            #expect(await failure { _ = try await w.dev.call("report.plan_fact", ["manager_id": num(w.dev2User.id)]) }?.kind == .forbidden)
            // By company: the department's companies.
            let devCompanies = try await w.dev2.call("report.plan_fact", ["by": "company", "from": "2026-10", "to": "2026-11"])
            #expect(Set(devCompanies["rows"]?.items.compactMap { $0["company_name"]?.stringValue } ?? []) == ["Alpha", "Beta"])
            let alphaNov = devCompanies["rows"]?.items.first { $0["company_name"] == "Alpha" && $0["period"] == "2026-11" }
            #expect(alphaNov?["plan"] == "500.00" && alphaNov?["potential"] == "800.00" && alphaNov?["fact"] == "700.00"
                    && alphaNov?["manager_name"] == "Olena Dev")
            let svc = try await w.service.call("report.plan_fact", ["by": "company", "period": "2026-10"])
            #expect(svc["rows"]?.items.compactMap { $0["company_name"]?.stringValue } == ["Sigma"])
            // One company: visible → its rows (zeros when empty); invisible → not_found.
            let one = try await w.admin.call("report.plan_fact", ["by": "company", "company_id": num(b), "from": "2026-11", "to": "2026-12"])
            #expect(one["rows"]?.items.map { $0["fact"]?.stringValue ?? "" } == ["0.00", "0.00"])
            #expect(await failure { _ = try await w.service.call("report.plan_fact", ["by": "company", "company_id": num(a)]) }?.kind == .notFound)
            // Bad ranges.
            #expect(await failure { _ = try await w.admin.call("report.plan_fact", ["from": "2026-11", "to": "2026-10"]) }?.data["field"] == .string("from"))
            #expect(await failure { _ = try await w.admin.call("report.plan_fact", ["from": "2010-01", "to": "2026-10"]) }?.data["field"] == .string("to"))
            #expect(await failure { _ = try await w.admin.call("report.plan_fact", ["by": "deal"]) }?.data["field"] == .string("by"))
        }
    }
}
