import Foundation
import KontorClient
import KontorDomain
import KontorStore
import KontorTestSupport
import Postgres
import Testing

@Suite("kontord while PostgreSQL goes away and comes back")
struct DatabaseOutageTests {
    @Test("database stopped mid-run: unavailable, no crash; back: requests succeed without restarting kontord")
    func outageAndRecovery() async throws {
        try await LocalCluster.with { cluster in try await Self.outage(cluster) }
    }

    static func outage(_ cluster: LocalCluster) async throws {
        let conninfo = cluster.conninfo
        try await TestDatabase.blocking {
            let c = try PostgresConnection(conninfo: conninfo)
            defer { c.close() }
            try Migrator(directory: TestEnvironment.projectRoot.appendingPathComponent("sql")).migrate(c)
            _ = try UserRepository(c).create(login: "boss", fullName: "Boss", role: .admin, department: nil, email: nil,
                                             password: TestServer.password, bcryptCost: 4, now: Date())
        }
        let server = try await TestServer.start(database: nil) { cfg in
            cfg.databaseURL = conninfo
            cfg.poolAcquireTimeout = 2
        }
        let c = try await server.login("boss")
        #expect(try await c.call("user.list")["users"]?.arrayValue?.count == 1)

        try await cluster.stop()
        for _ in 0..<3 {
            #expect(await errorKind { _ = try await c.call("user.list") } == .unavailable)
        }
        #expect(await errorKind { _ = try await server.login("boss") } == .unavailable)
        #expect(try await c.call("ping")["pong"] == .bool(true))

        try await cluster.start()
        var recovered = false
        for _ in 0..<20 where !recovered {
            if (try? await c.call("user.list"))?["users"]?.arrayValue?.count == 1 { recovered = true } else {
                try await Task.sleep(nanoseconds: 250_000_000)
            }
        }
        #expect(recovered)
        // The very first request after the restart must not fail: stale pooled
        // connections are detected before use.
        #expect(await errorKind { _ = try await c.call("user.list") } == nil)
        _ = try await server.login("boss")
        await server.stop()
    }
}
