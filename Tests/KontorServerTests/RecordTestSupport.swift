import Foundation
import KontorClient
import KontorDomain
import KontorProtocol
import KontorServer
import KontorTestSupport
import Testing

/// A server with an admin and sales users of both departments, each logged in on a
/// connection of their own.
struct RecordWorld {
    let server: TestServer
    let admin: KontorConnection
    let devUser: User
    /// A Development manager.
    let dev: KontorConnection
    let dev2User: User
    /// Another Development manager.
    let dev2: KontorConnection
    let serviceUser: User
    /// A Service manager.
    let service: KontorConnection

    static func start() async throws -> RecordWorld {
        let server = try await TestServer.start()
        do {
            try await server.createUser("boss", role: .admin, fullName: "Boss Admin")
            let devUser = try await server.createUser("olena", role: .user, department: .development, fullName: "Olena Dev")
            let dev2User = try await server.createUser("taras", role: .user, department: .development, fullName: "Taras Dev")
            let serviceUser = try await server.createUser("marta", role: .user, department: .service, fullName: "Marta Service")
            return RecordWorld(server: server, admin: try await server.login("boss"), devUser: devUser, dev: try await server.login("olena"),
                               dev2User: dev2User, dev2: try await server.login("taras"), serviceUser: serviceUser,
                               service: try await server.login("marta"))
        } catch {
            await server.stop()
            throw error
        }
    }

    func stop() async {
        for c in [admin, dev, dev2, service] { await c.close() }
        await server.stop()
    }
}

/// Runs `body` with a fresh world and always stops it.
func withWorld(_ body: (RecordWorld) async throws -> Void) async throws {
    let w = try await RecordWorld.start()
    do {
        try await body(w)
    } catch {
        await w.stop()
        throw error
    }
    await w.stop()
}

/// The error a call failed with, nil when it succeeded.
func failure(_ body: () async throws -> Void) async -> KontorError? {
    do {
        try await body()
        return nil
    } catch let e as KontorError {
        return e
    } catch {
        return KontorError(.internal, "\(error)")
    }
}

extension JSONValue {
    subscript(index: Int) -> JSONValue? {
        guard let a = arrayValue, index >= 0, index < a.count else { return nil }
        return a[index]
    }

    /// `id` of a record result.
    var id: Int64 { self["id"]?.int64Value ?? -1 }
    var int: Int? { int64Value.map { Int($0) } }
    var items: [JSONValue] { arrayValue ?? [] }
}

extension KontorConnection {
    /// `contact.create` with a name and phones.
    func newContact(_ name: String, phones: [String] = [], extra: [String: JSONValue] = [:]) async throws -> JSONValue {
        var p: [String: JSONValue] = ["full_name": .string(name), "phones": .array(phones.map { .string($0) })]
        for (k, v) in extra { p[k] = v }
        return try await call("contact.create", .object(p))
    }

    /// Every contact `contact.list` pages through with `params`, page size `limit`, and
    /// the totals it reported.
    func pageAll(_ method: String = "contact.list", key: String = "contacts", _ params: [String: JSONValue] = [:],
                 limit: Int = 3) async throws -> (rows: [JSONValue], totals: Set<Int>) {
        var rows: [JSONValue] = []
        var totals: Set<Int> = []
        var cursor: JSONValue = .null
        for _ in 0..<1000 {
            var p = params
            p["limit"] = .number(String(limit))
            if cursor != .null { p["cursor"] = cursor }
            let page = try await call(method, .object(p))
            rows += page[key]?.items ?? []
            totals.insert(page["total"]?.int ?? -1)
            cursor = page["next_cursor"] ?? .null
            if cursor == .null { break }
        }
        return (rows, totals)
    }
}

func ids(_ list: [JSONValue]) -> [Int64] { list.map(\.id) }
