import Foundation
import KontorClient
import KontorDomain
import KontorProtocol
import KontorServer
import KontorStore
import KontorTestSupport
import Postgres
import Testing

@Suite("Funnels: stages, allowed moves, history, stage management")
struct FunnelTests {
    @Test("a new company enters the first Development stage; moves follow the rules; every move is recorded")
    func moves() async throws {
        try await withPlanFactWorld { w in
            let co = try await w.company("Папір і Ко", owner: w.devUser)
            let viaContact = try await w.dev.call("contact.create", ["full_name": "Ольга", "organization": "Фірма О"])
            let made = try await w.dev.call("contact.to_company", ["id": num(viaContact.id), "version": 1])
            #expect(made["company"]?["funnel"] == nil, "contact.to_company keeps its shape")
            let card = try await w.dev.call("company.get", ["id": num(made["company"]?.id ?? -1)])
            #expect(card["funnel"]?["stage"] == "new", "every way of creating a company puts it in the funnel")

            func move(_ c: KontorConnection, _ stage: String, extra: [String: JSONValue] = [:]) async throws -> JSONValue {
                var p: [String: JSONValue] = ["id": num(co), "stage": .string(stage)]
                for (k, v) in extra { p[k] = v }
                return try await c.call("company.set_stage", .object(p))
            }
            var info = try await move(w.dev, "contacted")
            #expect(info["stage"] == "contacted" && info["funnel"] == "development")
            #expect(info["allowed_moves"]?.items.compactMap(\.stringValue) == ["new", "needs_identified"])
            // Skipping forward, staying, going straight to Service: refused, nothing changes.
            for bad in ["proposal", "contacted", "deal_planned", "first_order"] {
                let e = await failure { _ = try await move(w.dev, bad) }
                #expect(e?.kind == .invalidTransition, "contacted → \(bad): \(String(describing: e))")
            }
            #expect(await failure { _ = try await move(w.dev, "no_such_stage") }?.data["field"] == .string("stage"))
            // Back one step, then forward step by step through Development into Service.
            info = try await move(w.dev, "new")
            w.clock.advance(86_400 * 2)
            for stage in ["contacted", "needs_identified", "proposal", "negotiation", "first_order"] {
                info = try await move(w.dev2, stage)
                w.clock.advance(86_400)
            }
            #expect(info["allowed_moves"]?.items.compactMap(\.stringValue) == ["new", "contacted", "needs_identified", "proposal",
                                                                                "negotiation", "deal_planned"])
            info = try await move(w.dev, "deal_planned", extra: ["note": "first order shipped; to Service"])
            #expect(info["funnel"] == "service")
            #expect(info["allowed_moves"]?.items.compactMap(\.stringValue) == ["deal_partially_completed", "deal_completed"])
            _ = try await move(w.dev, "deal_partially_completed")
            #expect(await failure { _ = try await move(w.dev, "deal_planned") }?.kind == .invalidTransition)
            _ = try await move(w.dev, "deal_completed")
            _ = try await move(w.dev, "deal_planned")
            _ = try await move(w.dev, "deal_completed")
            // Service → Development: refused for users; admins may force it, only with force.
            #expect(await failure { _ = try await move(w.dev, "new") }?.kind == .invalidTransition)
            #expect(await failure { _ = try await move(w.dev, "new", extra: ["force": true]) }?.kind == .forbidden)
            #expect(await failure { _ = try await move(w.admin, "new") }?.kind == .invalidTransition)
            info = try await move(w.admin, "new", extra: ["force": true, "note": "lost the client; start over"])
            #expect(info["stage"] == "new")
            // A stale `from`: conflict.
            let stale = await failure { _ = try await move(w.dev, "contacted", extra: ["from": "deal_completed"]) }
            #expect(stale?.kind == .conflict && stale?.data["current_stage"] == .string("new"))
            _ = try await move(w.dev, "contacted", extra: ["from": "new"])
            // Visibility: Service cannot see or move a Development manager's company.
            #expect(await failure { _ = try await move(w.service, "needs_identified") }?.kind == .notFound)
            // The history: who, when, from, to, and the time spent in each stage.
            let h = try await w.dev.call("company.stage_history", ["id": num(co)])
            let moves = h["moves"]?.items ?? []
            #expect(moves.first?["kind"] == "entered" && moves.first?["from"] == .null && moves.first?["to"] == "new")
            #expect(moves.map { $0["to"]?.stringValue ?? "" } == ["new", "contacted", "new", "contacted", "needs_identified", "proposal",
                                                                  "negotiation", "first_order", "deal_planned", "deal_partially_completed",
                                                                  "deal_completed", "deal_planned", "deal_completed", "new", "contacted"])
            let handover = try #require(moves.first { $0["to"] == "deal_planned" })
            #expect(handover["from"] == "first_order" && handover["actor_name"] == "Olena Dev" && handover["note"] == "first order shipped; to Service")
            #expect(handover["days_in_previous"] == .number("1"))
            let secondContacted = moves[3]
            #expect(secondContacted["days_in_previous"] == .number("2"), "two days in `new`")
            #expect(secondContacted["actor_name"] == "Taras Dev")
            #expect(moves.first { $0["kind"] == "forced" }?["actor_name"] == "Boss Admin")
            #expect(h["current"]?["stage"] == "contacted")
            // The card's last change moved with the stage.
            let after = try await w.dev.call("company.get", ["id": num(co)])
            #expect(after["last_change_at"] == .string(RFC3339.format(w.clock.now(), timeZone: TimeZone(identifier: "Europe/Kyiv")!)))
        }
    }

    @Test("admins add, rename, reorder and remove Development stages; removal with companies needs a target and deletes nothing")
    func stageManagement() async throws {
        try await withPlanFactWorld { w in
            let a = try await w.company("A", owner: w.devUser)
            let b = try await w.company("B", owner: w.dev2User)
            _ = try await w.dev.call("company.set_stage", ["id": num(a), "stage": "contacted"])
            _ = try await w.dev.call("company.set_stage", ["id": num(b), "stage": "contacted"])
            // Add a stage between `contacted` and `needs_identified`.
            let added = try await w.admin.call("funnel.add_stage", ["code": "meeting", "name": "Meeting held", "position": 3])
            #expect(added["position"] == 3 && added["funnel"] == "development")
            var list = try await w.dev.call("funnel.list", [:])
            let dev = list["stages"]?.items.filter { $0["funnel"] == "development" } ?? []
            #expect(dev.map { $0["code"]?.stringValue ?? "" } == ["new", "contacted", "meeting", "needs_identified", "proposal", "negotiation", "first_order"])
            #expect(dev.map { $0["position"]?.int ?? 0 } == [1, 2, 3, 4, 5, 6, 7])
            #expect(dev.first { $0["code"] == "contacted" }?["companies"] == 2)
            #expect(list["stages"]?.items.filter { $0["funnel"] == "service" }.map { $0["code"]?.stringValue ?? "" }
                    == ["deal_planned", "deal_partially_completed", "deal_completed"])
            // The rules follow the new order.
            #expect(await failure { _ = try await w.dev.call("company.set_stage", ["id": num(a), "stage": "needs_identified"]) }?.kind
                    == .invalidTransition)
            _ = try await w.dev.call("company.set_stage", ["id": num(a), "stage": "meeting"])
            // Bad codes and taken codes.
            #expect(await failure { _ = try await w.admin.call("funnel.add_stage", ["code": "Bad Code", "name": "x"]) }?.data["field"] == .string("code"))
            #expect(await failure { _ = try await w.admin.call("funnel.add_stage", ["code": "proposal", "name": "x"]) }?.kind == .duplicate)
            #expect(await failure { _ = try await w.admin.call("funnel.add_stage", ["code": "late", "name": "x", "position": 9]) }?.data["field"]
                    == .string("position"))
            #expect(await failure { _ = try await w.dev.call("funnel.add_stage", ["code": "mine", "name": "x"]) }?.kind == .forbidden)
            // Rename: the code stays.
            let renamed = try await w.admin.call("funnel.rename_stage", ["code": "meeting", "name": "Зустріч"])
            #expect(renamed["code"] == "meeting" && renamed["name"] == "Зустріч" && renamed["companies"] == 1)
            _ = try await w.admin.call("funnel.rename_stage", ["code": "deal_planned", "name": "Угода запланована"])
            // Reorder: every live code once.
            #expect(await failure { _ = try await w.admin.call("funnel.reorder_stages", ["codes": ["new", "contacted"]]) }?.data["field"] == .string("codes"))
            list = try await w.admin.call("funnel.reorder_stages", ["codes": ["new", "meeting", "contacted", "needs_identified", "proposal",
                                                                              "negotiation", "first_order"]])
            #expect(list["stages"]?.items.prefix(3).map { $0["code"]?.stringValue ?? "" } == ["new", "meeting", "contacted"])
            // Remove a stage holding a company: refused without a target; nothing changes.
            let refused = await failure { _ = try await w.admin.call("funnel.remove_stage", ["code": "meeting"]) }
            #expect(refused?.kind == .invalidParams && refused?.data["field"] == .string("target") && refused?.data["companies"] == .int(1))
            #expect(try await w.dev.call("company.get", ["id": num(a)])["funnel"]?["stage"] == "meeting")
            // With a target: the company moves (recorded), the stage stays as removed.
            let removed = try await w.admin.call("funnel.remove_stage", ["code": "meeting", "target": "contacted"])
            #expect(removed["moved_companies"]?.items.compactMap(\.int64Value) == [a])
            #expect(removed["stage"]?["removed_at"] != .null)
            #expect(try await w.dev.call("company.get", ["id": num(a)])["funnel"]?["stage"] == "contacted")
            let h = try await w.dev.call("company.stage_history", ["id": num(a)])
            let last = h["moves"]?.items.last
            #expect(last?["kind"] == "stage_removed" && last?["from"] == "meeting" && last?["to"] == "contacted" && last?["actor_name"] == "Boss Admin")
            #expect(h["moves"]?.items.contains { $0["to"] == "meeting" } == true, "moves into the removed stage stay in the history")
            let all = try await w.admin.call("funnel.list", ["include_removed": true])
            #expect(all["stages"]?.items.first { $0["code"] == "meeting" }?["removed_at"] != .null)
            #expect(try await w.admin.call("funnel.list", [:])["stages"]?.items.contains { $0["code"] == "meeting" } == false)
            // Nobody moves into a removed stage; its code is never reused.
            #expect(await failure { _ = try await w.dev.call("company.set_stage", ["id": num(b), "stage": "meeting"]) }?.data["field"] == .string("stage"))
            #expect(await failure { _ = try await w.admin.call("funnel.add_stage", ["code": "meeting", "name": "again"]) }?.kind == .duplicate)
            // An empty stage goes without a target; Service stages and the last stage cannot go.
            _ = try await w.admin.call("funnel.remove_stage", ["code": "negotiation"])
            #expect(await failure { _ = try await w.admin.call("funnel.remove_stage", ["code": "deal_completed", "target": "deal_planned"]) }?
                .data["field"] == .string("code"))
            #expect(await failure { _ = try await w.admin.call("funnel.remove_stage", ["code": "contacted", "target": "contacted"]) }?
                .data["field"] == .string("target"))
            for code in ["proposal", "first_order", "needs_identified"] {
                _ = try await w.admin.call("funnel.remove_stage", ["code": .string(code), "target": "new"])
            }
            _ = try await w.admin.call("funnel.remove_stage", ["code": "contacted", "target": "new"])
            #expect(await failure { _ = try await w.admin.call("funnel.remove_stage", ["code": "new", "target": "deal_planned"]) }?.data["field"]
                    == .string("code"))
            // The one stage left is also the last: it hands over to Service.
            let info = try await w.dev.call("company.set_stage", ["id": num(a), "stage": "deal_planned"])
            #expect(info["funnel"] == "service")
            // Nothing was deleted: every stage row is still there.
            let count = try await w.sql { conn in try conn.query("SELECT count(*) AS n FROM funnel_stages").one().decode("n", as: Int.self) }
            #expect(count == 10)
        }
    }

    @Test("report.funnel: companies per stage and manager with days in stage; users see their department's")
    func report() async throws {
        try await withPlanFactWorld { w in
            let a = try await w.company("A", owner: w.devUser)
            _ = try await w.company("B", owner: w.devUser)
            _ = try await w.company("C", owner: w.dev2User)
            _ = try await w.company("S", owner: w.serviceUser)
            w.clock.advance(86_400 * 3)
            _ = try await w.dev.call("company.set_stage", ["id": num(a), "stage": "contacted"])
            w.clock.advance(86_400)
            let adm = try await w.admin.call("report.funnel", [:])
            let rows = adm["rows"]?.items ?? []
            let newOlena = try #require(rows.first { $0["stage"] == "new" && $0["manager_id"]?.int64Value == w.devUser.id })
            #expect(newOlena["companies"] == 1 && newOlena["avg_days_in_stage"] == .number("4") && newOlena["manager_name"] == "Olena Dev")
            let contacted = try #require(rows.first { $0["stage"] == "contacted" })
            #expect(contacted["avg_days_in_stage"] == .number("1") && contacted["stage_position"] == 2)
            #expect(adm["stages"]?.items.first { $0["code"] == "new" }?["companies"] == 3)
            #expect(adm["stages"]?.items.first { $0["code"] == "deal_completed" }?["companies"] == 0, "empty stages are listed")
            let svc = try await w.service.call("report.funnel", [:])
            #expect(svc["rows"]?.items.compactMap { $0["manager_id"]?.int64Value } == [w.serviceUser.id])
            let one = try await w.admin.call("report.funnel", ["funnel": "development", "manager_id": num(w.dev2User.id)])
            #expect(one["rows"]?.items.count == 1)
            #expect(one["stages"]?.items.allSatisfy { $0["funnel"] == "development" } == true)
            // The BI view agrees.
            let viewCount = try await w.sql { conn in
                try conn.query("SELECT sum(companies)::int AS n FROM reporting.funnel_v1 WHERE stage = 'new'").one().decode("n", as: Int.self)
            }
            #expect(viewCount == 3)
        }
    }

    @Test("companies that existed before the funnels enter the first Development stage")
    func existingCompanies() async throws {
        // A database migrated up to the records schema, with a company, then migrated to the end.
        let name = "kontor_t_\(ProcessInfo.processInfo.processIdentifier)_funnel_\(UInt32.random(in: 0...UInt32.max))"
        let admin = TestEnvironment.conninfo(database: "postgres")
        try await TestDatabase.blocking {
            let c = try PostgresConnection(conninfo: admin)
            defer { c.close() }
            try c.execute(script: "CREATE DATABASE \(name)")
        }
        let partial = FileManager.default.temporaryDirectory.appendingPathComponent("kontor-sql-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: partial) }
        do {
            let fm = FileManager.default
            let full = TestEnvironment.projectRoot.appendingPathComponent("sql")
            try fm.createDirectory(at: partial.appendingPathComponent("migrations"), withIntermediateDirectories: true)
            for f in try fm.contentsOfDirectory(atPath: full.appendingPathComponent("migrations").path) where f < "0030" {
                try fm.copyItem(at: full.appendingPathComponent("migrations/\(f)"), to: partial.appendingPathComponent("migrations/\(f)"))
            }
            let info = TestEnvironment.conninfo(database: name)
            let stages: [String] = try await TestDatabase.blocking {
                let c = try PostgresConnection(conninfo: info)
                defer { c.close() }
                try Migrator(directory: partial, logger: TestEnvironment.logger).migrate(c)
                try c.execute("""
                    INSERT INTO companies (name, created_at, updated_at, last_change_at)
                    VALUES ('Old One', now(), now(), now()), ('Old Two', now(), now(), now())
                    """)
                try Migrator(directory: full, logger: TestEnvironment.logger).migrate(c)
                return try c.query("""
                    SELECT st.code FROM companies co JOIN company_funnel cf ON cf.company_id = co.id
                    JOIN funnel_stages st ON st.id = cf.stage_id ORDER BY co.id
                    """).map { try $0.decode("code") } + c.query("SELECT kind FROM funnel_moves ORDER BY id").map { try $0.decode("kind") }
            }
            #expect(stages == ["new", "new", "entered", "entered"])
        } catch {
            Issue.record("\(error)")
        }
        try? await TestDatabase.blocking {
            let c = try PostgresConnection(conninfo: admin)
            defer { c.close() }
            try c.execute(script: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        }
    }
}

@Suite("Funnel rules (pure)")
struct FunnelRuleTests {
    let order = ["new", "contacted", "needs_identified", "proposal", "negotiation", "first_order"]
    func dev(_ code: String) -> FunnelStage {
        FunnelStage(id: Int64(order.firstIndex(of: code) ?? 99), funnel: .development, code: code, name: code, position: 1, removedAt: nil)
    }
    func svc(_ code: String) -> FunnelStage {
        FunnelStage(id: 100 + Int64(FunnelRules.serviceCodes.firstIndex(of: code) ?? 9), funnel: .service, code: code, name: code, position: 1,
                    removedAt: nil)
    }

    @Test("allowed and refused moves")
    func rules() {
        #expect(FunnelRules.allowedTargets(from: dev("new"), developmentOrder: order) == ["contacted"])
        #expect(FunnelRules.allowedTargets(from: dev("proposal"), developmentOrder: order) == ["new", "contacted", "needs_identified", "negotiation"])
        #expect(FunnelRules.allowedTargets(from: dev("first_order"), developmentOrder: order).last == "deal_planned")
        #expect(FunnelRules.allowedTargets(from: svc("deal_completed"), developmentOrder: order) == ["deal_planned"])
        #expect(throws: Never.self) { try FunnelRules.check(from: dev("first_order"), to: svc("deal_planned"), developmentOrder: order, force: false) }
        #expect(throws: KontorError.self) { try FunnelRules.check(from: dev("negotiation"), to: svc("deal_planned"), developmentOrder: order, force: false) }
        #expect(throws: KontorError.self) { try FunnelRules.check(from: dev("first_order"), to: svc("deal_completed"), developmentOrder: order, force: false) }
        #expect(throws: Never.self) { try FunnelRules.check(from: svc("deal_completed"), to: dev("new"), developmentOrder: order, force: true) }
        #expect(throws: KontorError.self) { try FunnelRules.check(from: dev("new"), to: dev("new"), developmentOrder: order, force: true) }
        #expect(FunnelRules.validateCode("needs_identified") == nil)
        for bad in ["N", "1abc", "has space", "Upper", "x", String(repeating: "a", count: 41), "dash-ed"] {
            #expect(FunnelRules.validateCode(bad) != nil, "\(bad)")
        }
    }
}
