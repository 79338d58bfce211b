import Foundation
import KontorClient
import KontorDomain
import KontorProtocol
import KontorTestSupport
import Testing

@Suite("The permission table, method by method and role by role")
struct PermissionTableTests {
    @Test("every served method is in the catalogue and the permission table, and back")
    func sameMethodsEverywhere() async throws {
        let server = try await TestServer.start()
        let served = Set(server.server.methods)
        let catalogue = Set(MethodCatalogue.all.map(\.name))
        let table = Set(Permissions.table.keys)
        #expect(served.subtracting(catalogue).isEmpty, "served but not in the catalogue: \(served.subtracting(catalogue).sorted())")
        #expect(catalogue.subtracting(served).isEmpty, "in the catalogue but not served: \(catalogue.subtracting(served).sorted())")
        #expect(served.subtracting(table).isEmpty, "served without a permission row: \(served.subtracting(table).sorted())")
        #expect(table.subtracting(served).isEmpty, "permission rows for methods nobody serves: \(table.subtracting(served).sorted())")
        await server.stop()
    }

    /// Calls every method as every role with empty params. A role the table denies must get
    /// `forbidden` (or `unauthenticated` when not logged in) before any handler runs; a role
    /// it allows must get past the check (any other answer: result, invalid_params, ...).
    @Test("every method × role answers as the table says")
    func everyMethodEveryRole() async throws {
        let server = try await TestServer.start()
        var connections: [Role?: KontorConnection] = [:]
        for role in Role.allCases {
            if role == .robot {
                connections[role] = try await server.robot("robot1")
            } else {
                try await server.createUser("u_\(role.rawValue)", role: role, department: role == .user ? .development : nil)
                connections[role] = try await server.login("u_\(role.rawValue)")
            }
        }
        connections[nil] = try await server.connect()
        let sessionEnders: Set<String> = ["auth.logout"]
        for method in server.server.methods.sorted() where !sessionEnders.contains(method) {
            for (role, c) in connections {
                let kind = await errorKind { _ = try await c.call(method, [:]) }
                let allowed = Permissions.allows(role, method)
                if allowed {
                    // Allowed: past the check. auth.* may still answer unauthenticated
                    // for bad credentials (their own business), never forbidden.
                    #expect(kind != .forbidden && (kind != .unauthenticated || method.hasPrefix("auth.")),
                            "\(method) as \(role?.rawValue ?? "anonymous") should pass the check, got \(String(describing: kind))")
                } else if role == nil {
                    #expect(kind == .unauthenticated, "\(method) without login should be unauthenticated, got \(String(describing: kind))")
                } else {
                    #expect(kind == .forbidden, "\(method) as \(role!.rawValue) should be forbidden, got \(String(describing: kind))")
                }
            }
        }
        // auth.logout is allowed to every logged-in role.
        for role in Role.allCases {
            #expect(await errorKind { _ = try await connections[role]!.call("auth.logout") } == nil)
        }
        await server.stop()
    }

    @Test("deny by default: a method missing from the table is refused to every role")
    func denyByDefault() {
        for role in Role.allCases { #expect(!Permissions.allows(role, "contact.secret_export")) }
        #expect(!Permissions.allows(nil, "user.list"))
        #expect(Permissions.allows(nil, "ping"))
        #expect(!Permissions.allows(.robot, "user.create"))
        #expect(!Permissions.allows(.user, "robot.token.create"))
    }
}
