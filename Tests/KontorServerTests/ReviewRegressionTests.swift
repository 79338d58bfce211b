import Foundation
import KontorClient
import KontorDomain
import KontorProtocol
import KontorTestSupport
import Testing

/// Failing regressions found in the review of issues 2 and 3 (see the review report).
@Suite("Review regressions: auth throttling, robot tokens, JSON-RPC ids")
struct ReviewRegressionTests {
    @Test("failed robot-token logins are throttled per peer address, not per TCP connection")
    func robotTokenThrottlePerAddress() async throws {
        let server = try await TestServer.start { cfg in cfg.maxFailuresPerPeer = 3 }
        var kinds: [ErrorKind?] = []
        for i in 0..<5 {
            let c = try await server.connect()  // a new source port every time
            kinds.append(await errorKind { _ = try await c.call("auth.token", ["token": .string("kr_guess_\(i)")]) })
            await c.close()
        }
        #expect(kinds.last == .rateLimited, "5 failures from 127.0.0.1 with a limit of 3: \(kinds)")
        await server.stop()
    }

    @Test("concurrent wrong passwords for one login: no more are checked than the limit allows")
    func loginThrottleIsAtomic() async throws {
        let server = try await TestServer.start { cfg in cfg.bcryptCost = 10 }
        try await server.createUser("victim", role: .user, department: .service)
        let limit = server.app.configuration.maxFailuresPerLogin
        var conns: [KontorConnection] = []
        for _ in 0..<20 { conns.append(try await server.connect()) }
        let kinds = await withTaskGroup(of: ErrorKind?.self) { g in
            for (i, c) in conns.enumerated() {
                g.addTask { await errorKind { _ = try await c.call("auth.login", ["login": "victim", "password": .string("wrong-\(i)")]) } }
            }
            var out: [ErrorKind?] = []
            for await k in g { out.append(k) }
            return out
        }
        let checked = kinds.filter { $0 == .unauthenticated }.count
        #expect(checked <= limit, "\(checked) passwords were tried against a limit of \(limit)")
        for c in conns { await c.close() }
        await server.stop()
    }

    @Test("a robot token's open session does not turn into an admin when the robot user's role changes")
    func robotTokenKeepsRobotRole() async throws {
        let server = try await TestServer.start()
        try await server.createUser("tech", role: .techAdmin)
        let robot = try await server.robot("pbx")
        let tech = try await server.login("tech")
        let users = try await tech.call("user.list", ["role": "robot"])
        let pbx = try #require(users["users"]?.arrayValue?.first)
        _ = try await tech.call("user.update", ["id": pbx["id"]!, "version": pbx["version"]!, "role": "admin"])
        // A fresh auth.token with the same token is refused (role is no longer robot) ...
        // ... so the open robot-token session must not gain admin powers either.
        let kind = await errorKind { _ = try await robot.call("contact.list") }
        #expect(kind == .unauthenticated || kind == .forbidden, "robot token session reached contact.list: \(String(describing: kind))")
        await server.stop()
    }

    @Test("concurrent writes hanging off one company (new contacts, counterparties, comments) all succeed",
          arguments: ["contact.create", "counterparty.add", "company.comment"])
    func concurrentWritesOnOneCompany(method: String) async throws {
        let server = try await TestServer.start()
        try await server.createUser("boss", role: .admin)
        let admin = try await server.login("boss")
        let company = try await admin.call("company.create", ["name": "Busy Co"])
        let companyID = try #require(company["id"])
        var conns: [KontorConnection] = []
        for _ in 0..<6 { conns.append(try await server.login("boss")) }
        let kinds = await withTaskGroup(of: ErrorKind?.self) { g in
            for (i, c) in conns.enumerated() {
                let params: JSONValue
                switch method {
                case "contact.create": params = ["full_name": .string("Person \(i)"), "company_id": companyID]
                case "counterparty.add": params = ["company_id": companyID, "legal_name": .string("Legal \(i)")]
                default: params = ["id": companyID, "body": .string("note \(i)")]
                }
                g.addTask { await errorKind { _ = try await c.call(method, params) } }
            }
            var out: [ErrorKind?] = []
            for await k in g { out.append(k) }
            return out
        }
        #expect(kinds.allSatisfy { $0 == nil }, "\(method) ×6 on one company: \(kinds)")
        await server.stop()
    }

    @Test("an expired session is refused on its next request, also when the login is cached")
    func expiredSessionRefused() async throws {
        let server = try await TestServer.start { cfg in cfg.sessionTTL = 60 }
        try await server.createUser("olena", role: .user, department: .development)
        let c = try await server.login("olena")
        // Warm the per-instance auth cache (the listener connects in the background).
        for _ in 0..<20 {
            _ = try await c.call("contact.list")
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        server.clock.advance(120)
        #expect(await errorKind { _ = try await c.call("contact.list") } == .unauthenticated,
                "a session 60 s past its expiry still works")
        await server.stop()
    }

    @Test("a request with \"id\": null is answered (JSON-RPC 2.0: only a missing id makes a notification)")
    func nullIDIsAnswered() async throws {
        let server = try await TestServer.start()
        let c = try await server.connect()
        let stream = c.unmatched
        try await c.send(#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#)
        let answered = await withTaskGroup(of: Bool.self) { g in
            g.addTask {
                for await _ in stream { return true }
                return false
            }
            g.addTask {
                try? await Task.sleep(nanoseconds: 2_000_000_000)
                return false
            }
            let first = await g.next() ?? false
            g.cancelAll()
            return first
        }
        #expect(answered, "no answer within 2 s to a request whose id is null")
        await c.close()
        await server.stop()
    }
}
