import KontorDomain
import KontorProtocol
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

    // Over the wire (every method × role, catalogue = served = table) is main's generic
    // PermissionTableTests; this suite only pins down who the records methods are for.
}
