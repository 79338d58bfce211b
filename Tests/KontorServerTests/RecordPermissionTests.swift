import Foundation
import KontorClient
import KontorDomain
import KontorProtocol
import KontorTestSupport
import Testing

@Suite("Permissions of the records methods")
struct RecordPermissionTests {
    static let methods = RecordMethods.catalogue.map(\.name)

    @Test("the permission table: sales roles call the record methods, robots only contact.lookup, tech admins none")
    func table() {
        for m in Self.methods {
            let robotOnly = m == "contact.lookup"
            #expect(Permissions.allows(.user, m) == !robotOnly, "\(m) user")
            #expect(Permissions.allows(.admin, m) == !robotOnly, "\(m) admin")
            #expect(Permissions.allows(.robot, m) == robotOnly, "\(m) robot")
            #expect(!Permissions.allows(.techAdmin, m), "\(m) tech_admin")
            #expect(!Permissions.allows(nil, m), "\(m) anonymous")
        }
    }

    @Test("over the wire: every record method is registered and refused exactly where the table says")
    func wire() async throws {
        try await withWorld { w in
            let registered = Set(w.server.server.methods)
            for m in Self.methods { #expect(registered.contains(m), "\(m) has no handler") }
            try await w.server.createUser("techie", role: .techAdmin)
            let tech = try await w.server.login("techie")
            let robot = try await w.server.robot()
            let anonymous = try await w.server.connect()
            for m in Self.methods {
                for (role, conn) in [(Role.user, w.dev), (.admin, w.admin), (.techAdmin, tech), (.robot, robot)] {
                    // Empty params: allowed roles get past the permission check (and then
                    // invalid_params, not_found or a result); the others get forbidden.
                    let kind = await failure { _ = try await conn.call(m, [:]) }?.kind
                    if Permissions.allows(role, m) {
                        #expect(kind != .forbidden && kind != .internal, "\(m) as \(role): \(String(describing: kind))")
                    } else {
                        #expect(kind == .forbidden, "\(m) as \(role)")
                    }
                }
                #expect(await failure { _ = try await anonymous.call(m, [:]) }?.kind == .unauthenticated, "\(m)")
            }
            for c in [tech, robot, anonymous] { await c.close() }
        }
    }
}
