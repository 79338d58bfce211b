import Foundation
import KontorClient
import KontorDomain
import KontorProtocol
import KontorTestSupport
import Testing

@Suite("Line protocol round trips through a live kontord")
struct ProtocolRoundTripTests {
    @Test("ping, server.info, unknown method, non-JSON line, batch, notification, unknown field")
    func basics() async throws {
        let server = try await TestServer.start()
        let c = try await server.connect()
        let pong = try await c.call("ping")
        #expect(pong["pong"] == .bool(true))
        let info = try await c.call("server.info")
        #expect(info["time_zone"] == "Europe/Kyiv")
        #expect(await errorKind { _ = try await c.call("no.such_method") } == .methodNotFound)
        #expect(await errorKind { _ = try await c.call("ping", ["unexpected": 1]) } == .invalidParams)

        // A line that is not JSON: parse_error with id null, connection stays usable.
        var unmatched = c.unmatched.makeAsyncIterator()
        try await c.send("this is not json")
        guard case .error(let id, let e)? = await unmatched.next() else { Issue.record("no answer"); return }
        #expect(id == nil)
        #expect(e.kind == .parseError)
        try await c.send(#"{"jsonrpc":"1.0","id":5,"method":"ping"}"#)
        guard case .error(_, let e2)? = await unmatched.next() else { Issue.record("no answer"); return }
        #expect(e2.kind == .invalidRequest)
        #expect(try await c.call("ping")["pong"] == .bool(true))

        // A batch is answered as an array; a notification (no id) is not answered.
        try await c.send(#"[{"jsonrpc":"2.0","id":"a","method":"ping"},{"jsonrpc":"2.0","method":"ping"},{"jsonrpc":"2.0","id":"b","method":"nope"}]"#)
        guard case .batch(let items)? = await unmatched.next() else { Issue.record("no batch answer"); return }
        #expect(items.count == 2)
        await c.close()
        await server.stop()
    }

    @Test("login: good, bad, resume, logout, whoami, rate limiting")
    func login() async throws {
        let server = try await TestServer.start()
        try await server.createUser("olena", role: .user, department: .development)
        let c = try await server.connect()
        #expect(await errorKind { _ = try await c.call("auth.whoami") } == .unauthenticated)
        #expect(await errorKind { _ = try await c.call("auth.login", ["login": "olena", "password": "wrong-password"]) } == .unauthenticated)
        #expect(await errorKind { _ = try await c.call("auth.login", ["login": "nobody", "password": "wrong-password"]) } == .unauthenticated)
        let r = try await c.call("auth.login", ["login": "OLENA", "password": .string(TestServer.password)])
        let token = try #require(r["session_token"]?.stringValue)
        #expect(r["user"]?["login"] == "olena")
        #expect(r["user"]?["password_hash"] == nil)
        #expect(try await c.call("auth.whoami")["user"]?["role"] == "user")

        // Another connection resumes the session; logout ends it everywhere.
        let d = try await server.connect()
        _ = try await d.call("auth.resume", ["session_token": .string(token)])
        #expect(try await d.call("auth.whoami")["user"]?["login"] == "olena")
        _ = try await c.call("auth.logout")
        #expect(await errorKind { _ = try await c.call("auth.whoami") } == .unauthenticated)
        #expect(await errorKind { _ = try await d.call("auth.whoami") } == .unauthenticated)
        #expect(await errorKind { _ = try await d.call("auth.resume", ["session_token": .string(token)]) } == .unauthenticated)

        // Five failures for one login → rate_limited, even with the right password.
        try await server.createUser("taras", role: .user, department: .service)
        for _ in 0..<5 {
            #expect(await errorKind { _ = try await c.call("auth.login", ["login": "taras", "password": "bad-password"]) } == .unauthenticated)
        }
        #expect(await errorKind { _ = try await c.call("auth.login", ["login": "taras", "password": .string(TestServer.password)]) } == .rateLimited)
        // After the window passes, the right password works again.
        server.clock.advance(16 * 60)
        _ = try await c.call("auth.login", ["login": "taras", "password": .string(TestServer.password)])
        await c.close(); await d.close()
        await server.stop()
    }

    @Test("a deactivated user's open session is refused on its next request; a revoked robot token too")
    func deactivation() async throws {
        let server = try await TestServer.start()
        try await server.createUser("boss", role: .admin)
        let olena = try await server.createUser("olena", role: .user, department: .development)
        let admin = try await server.login("boss")
        let o = try await server.login("olena")
        #expect(try await o.call("user.list")["users"]?.arrayValue?.count == 2)
        _ = try await admin.call("user.update", ["id": .number(String(olena.id)), "version": 1, "active": false])
        #expect(await errorKind { _ = try await o.call("user.list") } == .unauthenticated)
        #expect(await errorKind { _ = try await o.call("auth.login", ["login": "olena", "password": .string(TestServer.password)]) } == .unauthenticated)

        // Robot tokens: create as tech admin, use, revoke → refused.
        try await server.createUser("tech", role: .techAdmin)
        let robotUser = try await server.createUser("pbx", role: .robot)
        let tech = try await server.login("tech")
        let created = try await tech.call("robot.token.create", ["user_id": .number(String(robotUser.id)), "label": "pbx"])
        let token = try #require(created["token"]?.stringValue)
        let r = try await server.connect()
        _ = try await r.call("auth.token", ["token": .string(token)])
        #expect(try await r.call("auth.whoami")["user"]?["role"] == "robot")
        let list = try await tech.call("robot.token.list")
        #expect(list["tokens"]?.arrayValue?.first?["token"] == nil)
        _ = try await tech.call("robot.token.revoke", ["id": created["id"]!])
        #expect(await errorKind { _ = try await r.call("auth.whoami") } == .unauthenticated)
        await server.stop()
    }

    @Test("a 2 MiB line gets an error and its connection closes; the server keeps serving others")
    func longLine() async throws {
        let server = try await TestServer.start()
        let other = try await server.connect()
        let c = try await server.connect()
        var unmatched = c.unmatched.makeAsyncIterator()
        let big = #"{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":""# + String(repeating: "a", count: 2 << 20) + "\"}}"
        try? await c.send(big)
        guard case .error(_, let e)? = await unmatched.next() else { Issue.record("no error for a long line"); return }
        #expect(e.kind == .invalidRequest)
        // The connection is closed by the server.
        #expect(await unmatched.next() == nil)
        #expect(try await other.call("ping")["pong"] == .bool(true))
        await server.stop()
    }

    @Test("200 concurrent connections pipelining requests get every answer matched by id")
    func concurrency() async throws {
        let server = try await TestServer.start()
        try await server.createUser("boss", role: .admin)
        let ok = try await withThrowingTaskGroup(of: Int.self) { g in
            for n in 0..<200 {
                g.addTask {
                    let c = try await server.connect()
                    defer { Task { await c.close() } }
                    // Pipelined: a login then 10 requests sent without waiting.
                    return try await withThrowingTaskGroup(of: Bool.self) { inner in
                        if n % 10 == 0 {
                            _ = try await c.call("auth.login", ["login": "boss", "password": .string(TestServer.password)])
                        }
                        for i in 0..<10 {
                            inner.addTask {
                                if n % 10 == 0 && i % 2 == 0 {
                                    let users = try await c.call("user.list")
                                    return users["users"]?.arrayValue?.count == 1
                                }
                                let r = try await c.call("ping")
                                return r["pong"] == .bool(true)
                            }
                        }
                        var good = 0
                        for try await b in inner where b { good += 1 }
                        return good
                    }
                }
            }
            var total = 0
            for try await n in g { total += n }
            return total
        }
        #expect(ok == 2000)
        await server.stop()
    }

    @Test("graceful shutdown answers the request in flight, then closes")
    func gracefulShutdown() async throws {
        // A grace period far longer than the request, so that only "finish what is in
        // flight" is tested here (the grace limit has its own test).
        let server = try await TestServer.start { $0.shutdownGrace = 120 }
        let u = try await server.createUser("slow", role: .admin)
        // A cost-13 bcrypt hash makes this login take a noticeable while.
        try await server.database.with { c in
            try c.execute("UPDATE users SET password_hash = crypt(\(TestServer.password), gen_salt('bf', 13)) WHERE id = \(u.id)")
        }
        let c = try await server.connect()
        async let answer = c.call("auth.login", ["login": "slow", "password": .string(TestServer.password)])
        try await Task.sleep(nanoseconds: 100_000_000)
        await server.stop()
        let r = try await answer
        #expect(r["user"]?["login"] == "slow")
    }

    @Test("an idle connection is closed after the idle timeout")
    func idleTimeout() async throws {
        let server = try await TestServer.start { $0.idleTimeout = 3 }
        let c = try await server.connect()
        _ = try await c.call("ping")
        var it = c.unmatched.makeAsyncIterator()
        #expect(await it.next() == nil)  // stream ends when the server closes
        #expect(c.isClosed)
        await server.stop()
    }

    @Test("users: create, duplicate login, update with version conflict, admin limits")
    func users() async throws {
        let server = try await TestServer.start()
        try await server.createUser("boss", role: .admin)
        let a = try await server.login("boss")
        let made = try await a.call("user.create", ["login": "mykola", "full_name": "Mykola", "role": "user", "department": "service", "password": "mykola-pass-1", "email": " Mykola@Example.COM "])
        #expect(made["email"] == "mykola@example.com")
        #expect(await errorKind { _ = try await a.call("user.create", ["login": "MYKOLA", "full_name": "X", "role": "admin", "password": "whatever-123"]) } == .duplicate)
        #expect(await errorKind { _ = try await a.call("user.create", ["login": "x", "full_name": "X", "role": "admin"]) } == .invalidParams)
        #expect(await errorKind { _ = try await a.call("user.create", ["login": "robo", "full_name": "R", "role": "robot"]) } == .forbidden)
        #expect(await errorKind { _ = try await a.call("user.create", ["login": "nodept", "full_name": "N", "role": "user", "password": "whatever-123"]) } == .invalidParams)
        let id = made["id"]!
        _ = try await a.call("user.update", ["id": id, "version": 1, "full_name": "Mykola P."])
        do {
            _ = try await a.call("user.update", ["id": id, "version": 1, "full_name": "Stale"])
            Issue.record("expected conflict")
        } catch let e as KontorError {
            #expect(e.kind == .conflict)
            #expect(e.data["current_version"] == .int(2))
        }
        #expect(try await a.call("user.get", ["id": id])["full_name"] == "Mykola P.")
        // The new user can log in and change their password.
        let m = try await server.login("mykola", password: "mykola-pass-1")
        _ = try await m.call("auth.change_password", ["current_password": "mykola-pass-1", "new_password": "mykola-pass-2"])
        #expect(await errorKind { _ = try await server.login("mykola", password: "mykola-pass-1") } == .unauthenticated)
        _ = try await server.login("mykola", password: "mykola-pass-2")
        await server.stop()
    }
}

@Suite("Who manages which accounts")
struct AccountAdministrationTests {
    @Test("a tech admin cannot create admins, reset sales passwords or edit sales accounts; may deactivate them")
    func techAdminStaysOutOfSales() async throws {
        let server = try await TestServer.start()
        let boss = try await server.createUser("boss", role: .admin)
        let olena = try await server.createUser("olena", role: .user, department: .development)
        try await server.createUser("tech", role: .techAdmin)
        let t = try await server.login("tech")
        #expect(await errorKind { _ = try await t.call("user.create", ["login": "evil", "full_name": "E", "role": "admin", "password": "evil-pass-1"]) } == .forbidden)
        #expect(await errorKind { _ = try await t.call("user.create", ["login": "sales2", "full_name": "S", "role": "user", "department": "service", "password": "pass-pass-1"]) } == .forbidden)
        #expect(await errorKind { _ = try await t.call("user.set_password", ["id": .number(String(boss.id)), "password": "hijack-pass-1"]) } == .forbidden)
        #expect(await errorKind { _ = try await t.call("user.set_password", ["id": .number(String(olena.id)), "password": "hijack-pass-1"]) } == .forbidden)
        #expect(await errorKind { _ = try await t.call("user.update", ["id": .number(String(olena.id)), "version": 1, "role": "admin"]) } == .forbidden)
        #expect(await errorKind { _ = try await t.call("user.update", ["id": .number(String(olena.id)), "version": 1, "full_name": "X"]) } == .forbidden)
        // An employee leaving: the tech admin may switch the account off.
        _ = try await t.call("user.update", ["id": .number(String(olena.id)), "version": 1, "active": false])
        // Tech admins and robots are the tech admin's own world.
        _ = try await t.call("user.create", ["login": "tech2", "full_name": "T2", "role": "tech_admin", "password": "tech-pass-12"])
        _ = try await t.call("user.create", ["login": "pbx", "full_name": "PBX", "role": "robot"])
        // And the admin cannot touch those.
        let b = try await server.login("boss")
        #expect(await errorKind { _ = try await b.call("user.create", ["login": "tech3", "full_name": "T3", "role": "tech_admin", "password": "tech-pass-12"]) } == .forbidden)
        #expect(await errorKind { _ = try await b.call("user.set_password", ["id": 3, "password": "tech-pass-99"]) } == .forbidden)
        await server.stop()
    }
}
