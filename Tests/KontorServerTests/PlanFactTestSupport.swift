import Foundation
import KontorClient
import KontorDomain
import KontorProtocol
import KontorServer
import KontorTestSupport
import Postgres
import Testing

/// An instant from RFC 3339 text; a malformed literal is a recorded issue (and the epoch).
func instant(_ s: String) -> Date {
    guard let d = RFC3339.parse(s) else {
        Issue.record("bad timestamp \(s)")
        return Date(timeIntervalSince1970: 0)
    }
    return d
}

/// A JSON number from an id.
func num(_ v: Int64) -> JSONValue { .number(String(v)) }

/// A server whose clock starts frozen at `at`, with an admin, a tech admin, two
/// Development managers, a Service manager and a robot, each on a connection of their own.
struct PlanFactWorld {
    let server: TestServer
    let clock: KontorClock
    let admin: KontorConnection
    let tech: KontorConnection
    let robot: KontorConnection
    let devUser: User
    let dev: KontorConnection
    let dev2User: User
    let dev2: KontorConnection
    let serviceUser: User
    let service: KontorConnection

    static func start(at: String, database: TestDatabase? = nil) async throws -> PlanFactWorld {
        let clock = KontorClock()
        clock.set(instant(at))
        let server = try await TestServer.start(database: database, clock: clock)
        do {
            try await server.createUser("boss", role: .admin, fullName: "Boss Admin")
            try await server.createUser("techie", role: .techAdmin, fullName: "Tech Admin")
            let devUser = try await server.createUser("olena", role: .user, department: .development, fullName: "Olena Dev")
            let dev2User = try await server.createUser("taras", role: .user, department: .development, fullName: "Taras Dev")
            let serviceUser = try await server.createUser("marta", role: .user, department: .service, fullName: "Marta Service")
            return PlanFactWorld(server: server, clock: clock, admin: try await server.login("boss"), tech: try await server.login("techie"),
                                 robot: try await server.robot("accounting"), devUser: devUser, dev: try await server.login("olena"),
                                 dev2User: dev2User, dev2: try await server.login("taras"), serviceUser: serviceUser,
                                 service: try await server.login("marta"))
        } catch {
            await server.stop()
            throw error
        }
    }

    func stop(dropDatabase: Bool = true) async {
        for c in [admin, tech, robot, dev, dev2, service] { await c.close() }
        await server.stop(dropDatabase: dropDatabase)
    }

    /// Moves the frozen clock and lets the scheduler run once (waits for a run that
    /// started after the move).
    func advance(to at: String) async {
        clock.set(instant(at))
        await server.server.job("scheduler")?.runNow()
    }

    /// A company owned by `owner` (admin-created).
    func company(_ name: String, owner: User?) async throws -> Int64 {
        var p: [String: JSONValue] = ["name": .string(name)]
        if let owner { p["owner_id"] = num(owner.id) }
        return try await admin.call("company.create", .object(p)).id
    }

    /// Records a shipment as the robot.
    @discardableResult
    func ship(_ company: Int64, _ amount: String, at: String, doc: String? = nil, external: String? = nil,
              contact: Int64? = nil, manager: Int64? = nil) async throws -> JSONValue {
        let d = doc ?? "RN-\(UUID().uuidString.prefix(8))"
        var p: [String: JSONValue] = ["company_id": num(company), "document_number": .string(d), "amount": .string(amount),
                                      "shipped_at": .string(at), "external_id": .string(external ?? "1c:\(d)")]
        if let contact { p["contact_id"] = num(contact) }
        if let manager { p["manager_id"] = num(manager) }
        return try await robot.call("shipment.record", .object(p))
    }

    /// Runs `body` on a connection to the world's database.
    func sql<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        try await server.database.with(body)
    }
}

/// Runs `body` with a fresh world (clock frozen at `at`) and always stops it.
func withPlanFactWorld(at: String = "2026-11-10T12:00:00+02:00", _ body: (PlanFactWorld) async throws -> Void) async throws {
    let w = try await PlanFactWorld.start(at: at)
    do {
        try await body(w)
    } catch {
        await w.stop()
        throw error
    }
    await w.stop()
}

/// The invariant of the monthly close, checked in SQL: every closed month has exactly one
/// close row whose totals, and whose history's company, manager and contact sums, equal
/// the month's shipments; every shipment counts in exactly one month, never before the
/// month it was shipped in. Returns the closed months.
func checkCloseInvariant(_ db: TestDatabase) async throws -> [String] {
    try await db.with { conn in
        var closed: [String] = []
        for r in try conn.query("SELECT to_char(period, 'YYYY-MM') AS p, shipments, fact::text AS fact FROM planfact_closes ORDER BY period") {
            let p: String = try r.decode("p")
            closed.append(p)
            let sums = try conn.query("""
                SELECT (SELECT count(*) FROM shipments WHERE to_char(period, 'YYYY-MM') = \(p)) AS n,
                       (SELECT coalesce(sum(amount), 0)::text FROM shipments WHERE to_char(period, 'YYYY-MM') = \(p)) AS total,
                       (SELECT coalesce(sum(fact), 0)::text FROM planfact_history WHERE kind = 'company' AND to_char(period, 'YYYY-MM') = \(p)) AS companies,
                       (SELECT coalesce(sum(fact), 0)::text FROM planfact_history WHERE kind = 'manager' AND to_char(period, 'YYYY-MM') = \(p)) AS managers,
                       (SELECT coalesce(sum(shipments), 0) FROM planfact_history WHERE kind = 'company' AND to_char(period, 'YYYY-MM') = \(p)) AS docs,
                       (SELECT coalesce(sum(s.amount), 0)::text FROM shipments s WHERE s.contact_id IS NOT NULL AND to_char(s.period, 'YYYY-MM') = \(p)) AS with_contact,
                       (SELECT coalesce(sum(fact), 0)::text FROM planfact_history WHERE kind = 'contact' AND to_char(period, 'YYYY-MM') = \(p)) AS contacts
                """).one()
            let total = Money(try sums.decode("total", as: String.self))
            #expect(try r.decode("shipments", as: Int.self) == sums.decode("n", as: Int.self), "close of \(p): shipment count")
            #expect(Money(try r.decode("fact", as: String.self)) == total, "close of \(p): fact")
            #expect(Money(try sums.decode("companies", as: String.self)) == total, "history of \(p): companies")
            #expect(Money(try sums.decode("managers", as: String.self)) == total, "history of \(p): managers")
            #expect(try sums.decode("docs", as: Int.self) == sums.decode("n", as: Int.self), "history of \(p): documents")
            #expect(Money(try sums.decode("contacts", as: String.self)) == Money(try sums.decode("with_contact", as: String.self)),
                    "history of \(p): contacts")
        }
        let bad = try conn.query("""
            SELECT count(*) AS n FROM shipments WHERE period < shipped_period OR extract(day FROM period) <> 1
            """).one().decode("n", as: Int.self)
        #expect(bad == 0, "a shipment counts in one month, never before it was shipped")
        return closed
    }
}
