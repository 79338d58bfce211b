import Foundation
import KontorClient
import KontorDomain
import KontorProtocol
import KontorServer
import KontorTestSupport
import Postgres
import Testing

/// History rows per (period, kind) as `"2026-10 company=2"`.
private func historyCounts(_ db: TestDatabase) async throws -> [String] {
    try await db.with { conn in
        try conn.query("""
            SELECT to_char(period, 'YYYY-MM') || ' ' || kind || '=' || count(*) AS line FROM planfact_history
            GROUP BY period, kind ORDER BY period, kind
            """).map { try $0.decode("line") }
    }
}

private func succeededRuns(_ db: TestDatabase) async throws -> [String] {
    try await db.with { conn in
        try conn.query("""
            SELECT coalesce(to_char(occurrence AT TIME ZONE 'Europe/Kyiv', 'YYYY-MM-DD HH24:MI'), 'manual') AS o FROM schedule_runs
            WHERE status = 'succeeded' ORDER BY id
            """).map { try $0.decode("o") }
    }
}

@Suite("The monthly close: exactly once, catch-up after downtime, history equal to the shipments")
struct MonthlyCloseTests {
    /// Shipments in October and November 2026 for two companies, one with a contact.
    func seed(_ w: PlanFactWorld) async throws -> (Int64, Int64) {
        let a = try await w.company("Alpha", owner: w.devUser)
        let b = try await w.company("Beta", owner: w.serviceUser)
        let contact = try await w.admin.call("contact.create", ["full_name": "Іван", "company_id": num(a)]).id
        _ = try await w.admin.call("plan.set", ["period": "2026-10", "manager_id": num(w.devUser.id), "plan": "1000"])
        _ = try await w.admin.call("plan.set", ["period": "2026-10", "company_id": num(a), "plan": "800", "potential": "2000"])
        try await w.ship(a, "500.00", at: "2026-10-03T10:00:00+03:00", contact: contact)
        try await w.ship(a, "250.25", at: "2026-10-31T23:30:00+02:00")
        try await w.ship(b, "99.99", at: "2026-10-15T10:00:00+03:00")
        try await w.ship(a, "-50.00", at: "2026-10-20T10:00:00+03:00", contact: contact)
        try await w.ship(a, "700.00", at: "2026-10-31T22:30:00Z")   // 00:30 on 1 November Kyiv: November
        return (a, b)
    }

    @Test("the 1st closes the previous month once; running it again, by schedule or by hand, changes nothing")
    func closeTwice() async throws {
        try await withPlanFactWorld(at: "2026-10-10T12:00:00+03:00") { w in
            let (a, _) = try await seed(w)
            // The scheduler knows its next occurrence: midnight on the 1st, Kyiv time.
            let list = try await w.tech.call("schedule.list", [:])
            let close = try #require(list["schedules"]?.items.first { $0["name"] == "monthly_close" })
            #expect(close["next_fire_at"] == "2026-11-01T00:00:00+02:00")
            #expect(close["upcoming"]?.items.compactMap(\.stringValue) == ["2026-11-01T00:00:00+02:00", "2026-12-01T00:00:00+02:00",
                                                                           "2027-01-01T00:00:00+02:00"])
            // One minute before: nothing.
            await w.advance(to: "2026-10-31T23:59:00+02:00")
            #expect(try await checkCloseInvariant(w.server.database).isEmpty)
            await w.advance(to: "2026-11-01T00:00:30+02:00")
            #expect(try await checkCloseInvariant(w.server.database) == ["2026-10"])
            let counts = try await historyCounts(w.server.database)
            #expect(counts == ["2026-10 company=2", "2026-10 contact=1", "2026-10 manager=2"])
            let row = try await w.sql { conn in
                try conn.query("""
                    SELECT plan::text AS plan, potential::text AS potential, fact::text AS fact, shipments FROM planfact_history
                    WHERE kind = 'company' AND subject_id = \(a)
                    """).one()
            }
            #expect(try row.decode("plan", as: String.self) == "800.00" && row.decode("potential", as: String.self) == "2000.00")
            #expect(try row.decode("fact", as: String.self) == "700.25" && row.decode("shipments", as: Int.self) == 3)
            // Again: the scheduler (nothing due), run_now twice, the job woken many times.
            await w.advance(to: "2026-11-01T00:05:00+02:00")
            let r1 = try await w.tech.call("schedule.run_now", ["name": "monthly_close"])
            #expect(r1["status"] == "succeeded" && r1["trigger"] == "manual" && r1["result"]?["closed"]?.items.isEmpty == true)
            #expect(r1["result"]?["through"] == "2026-10")
            _ = try await w.tech.call("schedule.run_now", ["name": "monthly_close"])
            for _ in 0..<3 { await w.server.server.job("scheduler")?.runNow() }
            #expect(try await historyCounts(w.server.database) == counts)
            #expect(try await succeededRuns(w.server.database) == ["2026-11-01 00:00", "manual", "manual"])
            // The closed month is frozen: its plan cannot change; a late document counts in November.
            let frozen = await failure { _ = try await w.admin.call("plan.set", ["period": "2026-10", "company_id": num(a), "plan": "1"]) }
            #expect(frozen?.data["field"] == .string("period"))
            let late = try await w.ship(a, "33.00", at: "2026-10-30T10:00:00+02:00")
            #expect(late["period"] == "2026-11" && late["shipped_period"] == "2026-10" && late["late"] == true)
            #expect(try await checkCloseInvariant(w.server.database) == ["2026-10"])
            let plan = try await w.admin.call("plan.get", ["period": "2026-10", "company_id": num(a)])
            #expect(plan["fact"] == "700.25" && plan["closed"] == true)
            // The history of runs, newest first.
            let hist = try await w.tech.call("schedule.history", ["name": "monthly_close", "limit": 2])
            #expect(hist["runs"]?.items.count == 2 && hist["next_cursor"] != .null)
            let rest = try await w.tech.call("schedule.history", ["name": "monthly_close", "cursor": hist["next_cursor"] ?? .null])
            let first = try #require(rest["runs"]?.items.last)
            #expect(first["occurrence"] == "2026-11-01T00:00:00+02:00" && first["trigger"] == "schedule")
            #expect(first["result"]?["closed"]?[0]?["period"] == "2026-10" && first["result"]?["closed"]?[0]?["fact"] == "800.24")
            // Next occurrence moved on.
            let after = try await w.tech.call("schedule.list", [:])["schedules"]?[0]
            #expect(after?["next_fire_at"] == "2026-12-01T00:00:00+02:00" && after?["last_status"] == "succeeded")
        }
    }

    @Test("two instances racing over the same occurrence close the month once")
    func twoInstances() async throws {
        let clock = KontorClock()
        clock.set(instant("2026-10-10T12:00:00+03:00"))
        let w = try await PlanFactWorld.start(at: "2026-10-10T12:00:00+03:00")
        do {
            _ = try await seed(w)
            // A second kontord on the same database, with a clock at the same instant.
            let other = try await TestServer.start(database: w.server.database, clock: clock)
            for _ in 0..<3 {
                let target = "2026-11-01T00:00:00.5+02:00"
                w.clock.set(instant(target))
                clock.set(instant(target))
                let jobs = [w.server.server.job("scheduler"), other.server.job("scheduler")]
                let tech = w.tech
                await withTaskGroup(of: Void.self) { g in
                    for job in jobs { g.addTask { await job?.runNow() } }
                    g.addTask { _ = try? await tech.call("schedule.run_now", ["name": "monthly_close"]) }
                }
            }
            #expect(try await checkCloseInvariant(w.server.database) == ["2026-10"])
            #expect(try await historyCounts(w.server.database) == ["2026-10 company=2", "2026-10 contact=1", "2026-10 manager=2"])
            let scheduled = try await succeededRuns(w.server.database).filter { $0 != "manual" }
            #expect(scheduled == ["2026-11-01 00:00"], "one scheduled run of the occurrence")
            let closes = try await w.sql { conn in
                try conn.query("SELECT count(*) AS n FROM planfact_closes").one().decode("n", as: Int.self)
            }
            #expect(closes == 1)
            await other.stop(dropDatabase: false)
        } catch {
            Issue.record("\(error)")
        }
        await w.stop()
    }

    @Test("a server down over the 1st closes the month when it starts again")
    func downOverTheFirst() async throws {
        let w = try await PlanFactWorld.start(at: "2026-10-20T12:00:00+03:00")
        let db = w.server.database
        do {
            _ = try await seed(w)
            await w.stop(dropDatabase: false)
            // Three days later, a new instance.
            let w2 = try await PlanFactWorld.startAgain(database: db, at: "2026-11-03T09:00:00+02:00")
            #expect(try await checkCloseInvariant(db) == ["2026-10"])
            #expect(try await succeededRuns(db) == ["2026-11-01 00:00"])
            #expect(try await w2.call("schedule.list")["schedules"]?[0]?["next_fire_at"] == "2026-12-01T00:00:00+02:00")
            await w2.stop()
        } catch {
            Issue.record("\(error)")
            await db.drop()
        }
    }

    @Test("after three missed months every occurrence runs, in order, each closing its month once")
    func threeMissedMonths() async throws {
        let w = try await PlanFactWorld.start(at: "2026-01-20T12:00:00+02:00")
        let db = w.server.database
        do {
            let a = try await w.company("Alpha", owner: w.devUser)
            for (i, at) in ["2026-01-25T10:00:00+02:00", "2026-02-10T10:00:00+02:00", "2026-02-28T23:59:00+02:00",
                            "2026-03-31T23:30:00+03:00", "2026-03-31T21:30:00Z", "2026-04-05T10:00:00+03:00"].enumerated() {
                try await w.ship(a, "\(100 * (i + 1)).00", at: at)
            }
            _ = try await w.admin.call("plan.set", ["period": "2026-02", "manager_id": num(w.devUser.id), "plan": "5000"])
            await w.stop(dropDatabase: false)
            let w2 = try await PlanFactWorld.startAgain(database: db, at: "2026-04-10T09:00:00+03:00")
            #expect(try await checkCloseInvariant(db) == ["2026-01", "2026-02", "2026-03"])
            #expect(try await succeededRuns(db) == ["2026-02-01 00:00", "2026-03-01 00:00", "2026-04-01 00:00"])
            let facts = try await db.with { conn in
                try conn.query("SELECT to_char(period, 'YYYY-MM') || '=' || fact::text AS f FROM planfact_closes ORDER BY period")
                    .map { try $0.decode("f", as: String.self) }
            }
            #expect(facts == ["2026-01=100.00", "2026-02=500.00", "2026-03=400.00"], "April's shipments stay open")
            // Each run closed its own month (the result says which).
            let results = try await db.with { conn in
                try conn.query("SELECT result->'closed'->0->>'period' AS p FROM schedule_runs WHERE status = 'succeeded' ORDER BY id")
                    .map { try $0.decode("p", as: String.self) }
            }
            #expect(results == ["2026-01", "2026-02", "2026-03"])
            let manager = try await db.with { conn in
                try conn.query("""
                    SELECT plan::text || '/' || fact::text AS f FROM planfact_history WHERE kind = 'manager' AND period = '2026-02-01'
                    """).one().decode("f", as: String.self)
            }
            #expect(manager == "5000.00/500.00")
            await w2.stop()
        } catch {
            Issue.record("\(error)")
            await db.drop()
        }
    }

    @Test("tech admins list, disable, re-time and inspect schedules; bad cron and zones are refused; a failing job is retried")
    func scheduleMethods() async throws {
        try await withPlanFactWorld(at: "2026-10-10T12:00:00+03:00") { w in
            let s = try await w.tech.call("schedule.list", [:])["schedules"]?[0]
            let version = s?["version"] ?? 1
            for (params, field) in [(["name": "monthly_close", "cron": "0 0 32 * *"] as JSONValue, "cron"),
                                    (["name": "monthly_close", "cron": "0 0 30 2 *"] as JSONValue, "cron"),
                                    (["name": "monthly_close", "time_zone": "Europe/Atlantis"] as JSONValue, "time_zone")] {
                #expect(await failure { _ = try await w.tech.call("schedule.update", params) }?.data["field"] == .string(field))
            }
            #expect(await failure { _ = try await w.tech.call("schedule.update", ["name": "nope", "enabled": false]) }?.kind == .notFound)
            #expect(await failure { _ = try await w.admin.call("schedule.list", [:]) }?.kind == .forbidden)
            let off = try await w.tech.call("schedule.update", ["name": "monthly_close", "enabled": false, "version": version])
            #expect(off["enabled"] == false && off["upcoming"]?.items.isEmpty == true)
            #expect(await failure { _ = try await w.tech.call("schedule.update", ["name": "monthly_close", "enabled": true, "version": version]) }?
                .kind == .conflict)
            // Disabled over the 1st: nothing runs.
            await w.advance(to: "2026-11-01T00:10:00+02:00")
            #expect(try await succeededRuns(w.server.database).isEmpty)
            // Re-enabled with another time: from now on, no catch-up of the time it was off.
            let on = try await w.tech.call("schedule.update", ["name": "monthly_close", "enabled": true, "cron": "30 2 1 * *"])
            #expect(on["next_fire_at"] == "2026-11-01T02:30:00+02:00")
            // A job kontord does not know fails, is recorded, and waits before the retry.
            _ = try await w.sql { conn in
                try conn.execute("UPDATE schedules SET job = 'no.such.job', next_fire_at = '2026-11-01T00:20:00+02' WHERE name = 'monthly_close'")
            }
            await w.advance(to: "2026-11-01T00:30:00+02:00")
            let failed = try await w.tech.call("schedule.list", [:])["schedules"]?[0]
            #expect(failed?["last_status"] == "failed" && failed?["failures"] == 1 && failed?["retry_at"] != .null)
            #expect((failed?["last_error"]?.stringValue ?? "").contains("no.such.job"))
            let hist = try await w.tech.call("schedule.history", ["name": "monthly_close"])
            #expect(hist["runs"]?[0]?["status"] == "failed")
            // Fixed: the retry after the back-off runs the occurrence.
            _ = try await w.sql { conn in try conn.execute("UPDATE schedules SET job = 'planfact.close_month' WHERE name = 'monthly_close'") }
            await w.advance(to: "2026-11-01T00:30:59+02:00")
            #expect(try await succeededRuns(w.server.database).isEmpty, "not before the back-off")
            await w.advance(to: "2026-11-01T00:31:00+02:00")
            #expect(try await succeededRuns(w.server.database) == ["2026-11-01 00:20"])
            #expect(try await checkCloseInvariant(w.server.database) == ["2026-10"], "a month without data is closed too, empty")
        }
    }
}

extension PlanFactWorld {
    /// A new instance on an existing database (its users exist): the clock at `at`;
    /// waits for the scheduler's first run; returns a tech admin connection wrapper.
    static func startAgain(database: TestDatabase, at: String) async throws -> RestartedServer {
        let clock = KontorClock()
        clock.set(instant(at))
        let server = try await TestServer.start(database: database, clock: clock)
        await server.server.job("scheduler")?.runNow()
        return RestartedServer(server: server, tech: try await server.login("techie"))
    }
}

/// A server started again on a database that outlived its first server.
struct RestartedServer {
    let server: TestServer
    let tech: KontorConnection

    func call(_ method: String, _ params: JSONValue = [:]) async throws -> JSONValue { try await tech.call(method, params) }

    func stop() async {
        await tech.close()
        await server.stop()
    }
}
