import Foundation
import KontorClient
import KontorDomain
import KontorProtocol
import KontorTestSupport
import Testing

@Suite("Visibility of sales records and list pagination")
struct VisibilityTests {
    @Test("a Service user cannot get, list, find, count, change, comment, merge or audit a Development record")
    func serviceCannotSeeDevelopment() async throws {
        try await withWorld { w in
            let devContact = try await w.dev.newContact("Dev Secret", phones: ["0441234567"], extra: ["emails": ["secret@dev.ua"]])
            let devCompany = try await w.dev.call("company.create", ["name": "Dev Corp"])
            let mine = try await w.service.newContact("Service Own", phones: ["0501234567"])
            let shared = try await w.admin.newContact("Unowned", phones: ["0671234567"])
            let id = JSONValue.number("\(devContact.id)")
            for (method, params) in [("contact.get", ["id": id]), ("contact.update", ["id": id, "version": 1, "full_name": "x"]),
                                     ("contact.comment", ["id": id, "body": "hi"]), ("contact.delete", ["id": id]),
                                     ("contact.to_company", ["id": id, "version": 1]),
                                     ("contact.merge", ["survivor_id": .number("\(mine.id)"), "merged_id": id]),
                                     ("contact.merge", ["survivor_id": id, "merged_id": .number("\(mine.id)")]),
                                     ("audit.list", ["entity": "contact", "entity_id": id]),
                                     ("company.get", ["id": .number("\(devCompany.id)")]),
                                     ("company.update", ["id": .number("\(devCompany.id)"), "version": 1, "name": "x"]),
                                     ("counterparty.add", ["company_id": .number("\(devCompany.id)"), "legal_name": "x"]),
                                     ("contact.update", ["id": .number("\(mine.id)"), "version": 1, "company_id": .number("\(devCompany.id)")])]
                as [(String, JSONValue)] {
                let e = await failure { _ = try await w.service.call(method, params) }
                #expect(e?.kind == .notFound, "\(method) \(params)")
            }
            // Lists, totals and searches leave it out.
            let list = try await w.service.call("contact.list", [:])
            #expect(Set(ids(list["contacts"]?.items ?? [])) == [mine.id, shared.id])
            #expect(list["total"]?.int == 2)
            let byOwner = try await w.service.call("contact.list", ["owner_id": .number("\(w.devUser.id)")])
            #expect(byOwner["total"]?.int == 0)
            for q in ["0441234567", "secret@dev.ua", "Dev Secret", "Secret"] {
                #expect(try await w.service.call("contact.find", ["query": .string(q)])["contacts"]?.items.isEmpty == true, "find \(q)")
            }
            #expect(try await w.service.call("company.list", [:])["total"]?.int == 0)
            // A colleague of the owner and the admin see it; nothing changed it.
            let seen = try await w.dev2.call("contact.get", ["id": id])
            #expect(seen["version"]?.int == 1)
            #expect(try await w.admin.call("contact.list", [:])["total"]?.int == 3)
            #expect(try await w.dev2.call("contact.list", [:])["total"]?.int == 2, "Development sees its own and the unowned")
        }
    }

    @Test("a company card shows only the contacts and comments the caller may see")
    func companyCardContents() async throws {
        try await withWorld { w in
            let company = try await w.admin.call("company.create", ["name": "Shared Ltd"])
            let cid = JSONValue.number("\(company.id)")
            let devContact = try await w.dev.newContact("Dev Person", extra: ["company_id": cid])
            let serviceContact = try await w.service.newContact("Service Person", extra: ["company_id": cid])
            _ = try await w.dev.call("contact.comment", ["id": .number("\(devContact.id)"), "body": "dev-only note"])
            _ = try await w.service.call("contact.comment", ["id": .number("\(serviceContact.id)"), "body": "service note"])
            _ = try await w.admin.call("company.comment", ["id": cid, "body": "company note"])
            let seenByService = try await w.service.call("company.get", ["id": cid])
            #expect(ids(seenByService["contacts"]?.items ?? []) == [serviceContact.id])
            #expect(Set(seenByService["comments"]?.items.compactMap { $0["body"]?.stringValue } ?? []) == ["service note", "company note"])
            let seenByAdmin = try await w.admin.call("company.get", ["id": cid])
            #expect(seenByAdmin["contacts"]?.items.count == 2)
            #expect(seenByAdmin["comments"]?.items.count == 3)
            // A contact of a company the caller cannot see does not reveal its name.
            let devCompany = try await w.dev.call("company.create", ["name": "Dev Only Ltd"])
            let linked = try await w.admin.newContact("Linked", extra: ["company_id": .number("\(devCompany.id)"),
                                                                        "owner_id": .number("\(w.serviceUser.id)")])
            let asService = try await w.service.call("contact.get", ["id": .number("\(linked.id)")])
            #expect(asService["company_name"] == .null)
            #expect(try await w.admin.call("contact.get", ["id": .number("\(linked.id)")])["company_name"] == "Dev Only Ltd")
            // Nor does a merge that brings that company onto a card the caller sees.
            let u1 = try await w.admin.newContact("Unowned 1")
            let u2 = try await w.admin.newContact("Unowned 2", extra: ["company_id": .number("\(devCompany.id)")])
            let merged = try await w.service.call("contact.merge", ["survivor_id": .number("\(u1.id)"), "merged_id": .number("\(u2.id)")])
            #expect(merged["contact"]?["company_id"]?.int64Value == devCompany.id)
            #expect(merged["contact"]?["company_name"] == .null)
        }
    }

    @Test("a list's total equals the rows the caller can page through; keyset pages neither repeat nor skip")
    func paginationTotals() async throws {
        try await withWorld { w in
            // A frozen clock makes every updated_at equal: the id breaks the tie.
            w.server.clock.set(Date(timeIntervalSince1970: 1_790_000_000))
            var visible: Set<Int64> = []
            for i in 0..<7 { visible.insert(try await w.service.newContact("Service \(i)").id) }
            for i in 0..<5 { _ = try await w.dev.newContact("Dev \(i)") }
            visible.insert(try await w.admin.newContact("Unowned").id)
            let (rows, totals) = try await w.service.pageAll(limit: 3)
            #expect(totals == [8])
            #expect(rows.count == 8)
            #expect(Set(ids(rows)) == visible)
            let all = try await w.admin.pageAll(limit: 5)
            #expect(all.totals == [13])
            #expect(Set(ids(all.rows)).count == 13)
        }
    }

    @Test("contact.list filters by source, group, owner, company and time ranges, last change first")
    func filters() async throws {
        try await withWorld { w in
            let t0 = Date(timeIntervalSince1970: 1_790_000_000)
            w.server.clock.set(t0)
            let company = try await w.dev.call("company.create", ["name": "Filter Co"])
            let a = try await w.dev.newContact("A", extra: ["source": "telegram", "group": "client", "company_id": .number("\(company.id)")])
            w.server.clock.set(t0.addingTimeInterval(3600))
            let b = try await w.dev.newContact("B", extra: ["source": "site"])
            w.server.clock.set(t0.addingTimeInterval(7200))
            let c = try await w.dev2.newContact("C", extra: ["source": "phone", "group": "contact"])
            w.server.clock.set(t0.addingTimeInterval(9000))
            _ = try await w.dev.call("contact.update", ["id": .number("\(a.id)"), "version": 1, "position": "CEO"])
            func listed(_ p: JSONValue) async throws -> [Int64] { ids(try await w.dev.call("contact.list", p)["contacts"]?.items ?? []) }
            #expect(try await listed([:]) == [a.id, c.id, b.id], "last change first")
            #expect(try await listed(["source": "site"]) == [b.id])
            #expect(try await listed(["source": ["site", "phone"]]) == [c.id, b.id])
            #expect(try await listed(["group": "lead"]) == [b.id])
            #expect(try await listed(["owner_id": .number("\(w.dev2User.id)")]) == [c.id])
            #expect(try await listed(["company_id": .number("\(company.id)")]) == [a.id])
            let from = RFC3339.format(t0.addingTimeInterval(1800), timeZone: TimeZone(identifier: "Europe/Kyiv")!)
            let to = RFC3339.format(t0.addingTimeInterval(7200), timeZone: TimeZone(identifier: "UTC")!)
            #expect(try await listed(["created_from": .string(from), "created_to": .string(to)]) == [b.id])
            #expect(try await listed(["changed_from": .string(to)]) == [a.id, c.id])
            let e = await failure { _ = try await w.dev.call("contact.list", ["cursor": "bogus"]) }
            #expect(e?.data["field"] == .string("cursor"))
        }
    }

    @Test("tech admins see no sales records; robots only look up")
    func roles() async throws {
        try await withWorld { w in
            try await w.server.createUser("techie", role: .techAdmin)
            let tech = try await w.server.login("techie")
            for m in ["contact.list", "contact.get", "company.list", "audit.list", "contact.find"] {
                #expect(await failure { _ = try await tech.call(m, [:]) }?.kind == .forbidden, "\(m)")
            }
            await tech.close()
        }
    }
}
