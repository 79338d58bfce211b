import Foundation
import KontorClient
import KontorDomain
import KontorProtocol
import KontorTestSupport
import Testing

@Suite("Contacts: phones, e-mails, duplicates, find, versions")
struct ContactTests {
    @Test("every shared written phone form normalises to its E.164; other forms of the number clash as duplicate")
    func phoneSamples() async throws {
        let url = TestEnvironment.samplesDirectory.appendingPathComponent("phones/ua_phone_written_forms.json")
        let samples = try JSONValue.parse(Array(try Data(contentsOf: url))).items
        #expect(!samples.isEmpty, "no samples in \(url.path)")
        try await withWorld { w in
            for (i, sample) in samples.enumerated() {
                let input = try #require(sample["input"]?.stringValue)
                let expected = try #require(sample["expected_e164"]?.stringValue)
                let c = try await w.dev.newContact("Sample \(i)", phones: [input])
                let phone = try #require(c["phones"]?[0])
                #expect(phone["e164"]?.stringValue == expected, "\(input.debugDescription)")
                #expect(phone["parsed"] == .bool(true))
                #expect(phone["number"]?.stringValue == input.trimmingCharacters(in: .whitespacesAndNewlines), "stored as written")
                // Other written forms of the same line: E.164, without plus, international
                // grouping, national with trunk 0, and the old trunk form 8 0XX.
                var forms = [expected, String(expected.dropFirst()), phone["international"]?.stringValue ?? expected]
                if expected.hasPrefix("+380") {
                    let nsn = expected.dropFirst(4)
                    forms += ["0\(nsn)", "8 0\(nsn)"]
                }
                for form in forms {
                    let e = await failure { _ = try await w.service.newContact("Other", phones: [form]) }
                    #expect(e?.kind == .duplicate, "\(form) should clash with \(input.debugDescription)")
                    #expect(e?.data["existing_id"] == .int(Int(c.id)))
                    #expect(e?.data["field"] == .string("phones[0].number"))
                    // The owner is named even though a Service user cannot see the card.
                    #expect(e?.data["owner_name"] == .string("Olena Dev"))
                }
            }
        }
    }

    @Test("an unreadable number is kept as written, flagged, and still found")
    func unparsedPhone() async throws {
        try await withWorld { w in
            let c = try await w.dev.newContact("Odd Number", phones: ["ext 12-34 ask Olga"])
            let phone = try #require(c["phones"]?[0])
            #expect(phone["parsed"] == .bool(false))
            #expect(phone["e164"] == .null)
            #expect(phone["number"]?.stringValue == "ext 12-34 ask Olga")
            let found = try await w.dev.call("contact.find", ["query": "12-34"])
            #expect(ids(found["contacts"]?.items ?? []) == [c.id])
            // Unparsed numbers do not take part in uniqueness.
            _ = try await w.dev.newContact("Another Odd", phones: ["ext 12-34 ask Olga"])
        }
    }

    @Test("find by any written form of a phone, by e-mail, messenger handle and name fragment")
    func find() async throws {
        try await withWorld { w in
            let ivan = try await w.dev.call("contact.create", [
                "full_name": "Іван Петренко", "organization": "ТОВ Канцтовари",
                "phones": ["+380 44 123 45 67", ["number": "050 888 99 00", "label": "mobile"]],
                "emails": ["Ivan.Petrenko@Firma.UA"],
                "messengers": [["kind": "telegram", "handle": "@Ivan_P", "external_id": "4912661846"]],
            ])
            _ = try await w.dev.newContact("Петро Іваненко", phones: ["067 000 11 22"])
            for q in ["044-123-45-67", "0441234567", "380441234567", "+38 (044) 123 45 67", "8 044 123 45 67", "123-45-67", "(050)8889900"] {
                let r = try await w.dev.call("contact.find", ["query": .string(q)])
                #expect(ids(r["contacts"]?.items ?? []) == [ivan.id], "phone form \(q)")
                #expect(r["contacts"]?[0]?["matched_by"]?[0] == "phone")
            }
            for q in ["IVAN.PETRENKO@firma.ua", "@firma.ua", "@ivan_p", "4912661846", "петренко", "Канцтов"] {
                let r = try await w.dev.call("contact.find", ["query": .string(q)])
                let found = ids(r["contacts"]?.items ?? [])
                #expect(found.contains(ivan.id), "query \(q)")
            }
            // A fragment matching both names returns both, and nothing else.
            let both = try await w.dev.call("contact.find", ["query": "Петр"])
            #expect(both["contacts"]?.items.count == 2)
            let none = try await w.dev.call("contact.find", ["query": "Nobody"])
            #expect(none["contacts"]?.items.isEmpty == true)
        }
    }

    @Test("e-mails and messenger accounts are unique across live contacts; bad input is refused with its field")
    func emailsAndInput() async throws {
        try await withWorld { w in
            let a = try await w.dev.call("contact.create", ["full_name": "A", "emails": [["address": "Sales@Firma.ua", "label": "work"]],
                                                             "messengers": [["kind": "viber", "external_id": "01234567890A=="]]])
            #expect(a["emails"]?[0]?["address"] == "Sales@Firma.ua")
            var e = await failure { _ = try await w.dev2.call("contact.create", ["full_name": "B", "emails": [" sales@firma.UA "]]) }
            #expect(e?.kind == .duplicate)
            #expect(e?.data["existing_id"] == .int(Int(a.id)))
            #expect(e?.data["field"] == .string("emails[0].address"))
            e = await failure { _ = try await w.dev2.call("contact.create", ["full_name": "B", "messengers": [["kind": "viber", "external_id": "01234567890A=="]]]) }
            #expect(e?.kind == .duplicate)
            e = await failure { _ = try await w.dev.call("contact.create", ["full_name": "C", "emails": ["not an address"]]) }
            #expect(e?.kind == .invalidParams)
            #expect(e?.data["field"] == .string("emails[0].address"))
            e = await failure { _ = try await w.dev.call("contact.create", ["full_name": "C", "phones": ["044 123 45 67", "+380441234567"]]) }
            #expect(e?.data["field"] == .string("phones[1].number"))
            e = await failure { _ = try await w.dev.call("contact.create", ["full_name": "C", "group": "vip"]) }
            #expect(e?.data["field"] == .string("group"))
            e = await failure { _ = try await w.dev.call("contact.create", ["full_name": "C", "nickname": "x"]) }
            #expect(e?.data["field"] == .string("nickname"))
            e = await failure { _ = try await w.dev.call("contact.create", ["full_name": "  "]) }
            #expect(e?.kind == .invalidParams)
            // Nothing of the refused calls was stored.
            let list = try await w.admin.call("contact.list", [:])
            #expect(list["total"]?.int == 1)
        }
    }

    @Test("a stale version answers conflict and changes nothing; null clears, absent leaves")
    func staleVersion() async throws {
        try await withWorld { w in
            let c = try await w.dev.newContact("Ivan", phones: ["0441234567"], extra: ["position": "buyer"])
            let u1 = try await w.dev.call("contact.update", ["id": .number("\(c.id)"), "version": 1, "full_name": "Ivan P.", "position": nil])
            #expect(u1["version"]?.int == 2)
            #expect(u1["position"] == .null)
            #expect(u1["phones"]?.items.count == 1, "absent lists stay")
            let e = await failure { _ = try await w.dev2.call("contact.update", ["id": .number("\(c.id)"), "version": 1, "full_name": "Other"]) }
            #expect(e?.kind == .conflict)
            #expect(e?.data["current_version"] == .int(2))
            let now = try await w.dev.call("contact.get", ["id": .number("\(c.id)")])
            #expect(now["full_name"] == "Ivan P.")
            #expect(now["version"]?.int == 2)
        }
    }

    @Test("two concurrent updates of one card: exactly one wins, the other gets conflict")
    func concurrentUpdates() async throws {
        try await withWorld { w in
            let c = try await w.dev.newContact("Race")
            var version = 1
            for round in 0..<6 {
                let current = version
                let outcomes = await withTaskGroup(of: (String, KontorError?).self) { g in
                    for (name, conn) in [("A\(round)", w.dev), ("B\(round)", w.dev2)] {
                        g.addTask {
                            (name, await failure {
                                _ = try await conn.call("contact.update", ["id": .number("\(c.id)"), "version": .number("\(current)"),
                                                                           "full_name": .string(name), "phones": [.string("067 100 00 0\(round)")]])
                            })
                        }
                    }
                    var out: [(String, KontorError?)] = []
                    for await o in g { out.append(o) }
                    return out
                }
                let winners = outcomes.filter { $0.1 == nil }
                #expect(winners.count == 1, "round \(round): \(outcomes.map { $0.1?.kind.rawValue ?? "ok" })")
                #expect(outcomes.filter { $0.1?.kind == .conflict }.count == 1)
                let now = try await w.dev.call("contact.get", ["id": .number("\(c.id)")])
                version += 1
                #expect(now["version"]?.int == version)
                #expect(now["full_name"]?.stringValue == winners.first?.0)
            }
        }
    }

    @Test("concurrent creates with one number in different forms: exactly one wins, the others get duplicate")
    func concurrentCreates() async throws {
        try await withWorld { w in
            let forms = ["+380 67 123 45 67", "067-123-45-67", "0671234567", "380671234567", "8 067 123 45 67", "(067) 1234567",
                         "+380671234567", "067 123 4567"]
            let conns = [w.dev, w.dev2, w.service, w.admin]
            let results = await withTaskGroup(of: Result<Int64, KontorError>.self) { g in
                for (i, form) in forms.enumerated() {
                    let conn = conns[i % conns.count]
                    g.addTask {
                        do { return .success(try await conn.newContact("Racer \(i)", phones: [form]).id) } catch let e as KontorError {
                            return .failure(e)
                        } catch { return .failure(KontorError(.internal, "\(error)")) }
                    }
                }
                var out: [Result<Int64, KontorError>] = []
                for await r in g { out.append(r) }
                return out
            }
            let winners = results.compactMap { try? $0.get() }
            #expect(winners.count == 1)
            for case .failure(let e) in results {
                #expect(e.kind == .duplicate)
                #expect(e.data["existing_id"] == .int(Int(winners.first ?? 0)))
            }
            let list = try await w.admin.call("contact.list", [:])
            #expect(list["total"]?.int == 1)
        }
    }

    @Test("delete frees the numbers; restore clashes with a newer card; merged cards cannot be restored")
    func deleteRestore() async throws {
        try await withWorld { w in
            let old = try await w.dev.newContact("Old", phones: ["0501112233"])
            let deleted = try await w.dev.call("contact.delete", ["id": .number("\(old.id)"), "version": 1])
            #expect(deleted["deleted_at"] != .null)
            #expect(try await w.dev.call("contact.list", [:])["total"]?.int == 0)
            let trash = try await w.dev.call("contact.list", ["deleted": true])
            #expect(ids(trash["contacts"]?.items ?? []) == [old.id])
            #expect(try await w.dev.call("contact.find", ["query": "0501112233"])["contacts"]?.items.isEmpty == true)
            let new = try await w.dev.newContact("New", phones: ["+380 50 111 22 33"])
            var e = await failure { _ = try await w.dev.call("contact.restore", ["id": .number("\(old.id)")]) }
            #expect(e?.kind == .duplicate)
            #expect(e?.data["existing_id"] == .int(Int(new.id)))
            e = await failure { _ = try await w.dev.call("contact.merge", ["survivor_id": .number("\(old.id)"), "merged_id": .number("\(new.id)")]) }
            #expect(e?.kind == .invalidParams, "a deleted contact cannot be a merge survivor")
            let extra = try await w.dev.newContact("Extra")
            _ = try await w.dev.call("contact.merge", ["survivor_id": .number("\(new.id)"), "merged_id": .number("\(extra.id)")])
            e = await failure { _ = try await w.dev.call("contact.restore", ["id": .number("\(extra.id)")]) }
            #expect(e?.kind == .invalidParams, "a merged contact cannot be restored")
            _ = try await w.dev.call("contact.delete", ["id": .number("\(new.id)")])
            let restored = try await w.dev.call("contact.restore", ["id": .number("\(old.id)")])
            #expect(restored["deleted_at"] == .null)
            #expect(restored["version"]?.int == 3)
            let audit = try await w.dev.call("audit.list", ["entity": "contact", "entity_id": .number("\(old.id)")])
            #expect(audit["entries"]?.items.map { $0["action"]?.stringValue ?? "" } == ["restore", "delete", "create"])
        }
    }

    @Test("owners: users assign within their department, admins anywhere; robots and tech admins own nothing")
    func ownership() async throws {
        try await withWorld { w in
            let c = try await w.dev.newContact("Owned")
            #expect(c["owner_id"]?.int64Value == w.devUser.id, "a user owns what they create")
            #expect(c["owner_name"] == "Olena Dev")
            var e = await failure {
                _ = try await w.dev.call("contact.update", ["id": .number("\(c.id)"), "version": 1, "owner_id": .number("\(w.serviceUser.id)")])
            }
            #expect(e?.kind == .forbidden)
            let handed = try await w.dev.call("contact.update", ["id": .number("\(c.id)"), "version": 1, "owner_id": .number("\(w.dev2User.id)")])
            #expect(handed["owner_id"]?.int64Value == w.dev2User.id)
            let moved = try await w.admin.call("contact.update", ["id": .number("\(c.id)"), "version": 2, "owner_id": .number("\(w.serviceUser.id)")])
            #expect(moved["owner_name"] == "Marta Service")
            let tech = try await w.server.createUser("techie", role: .techAdmin)
            e = await failure { _ = try await w.admin.call("contact.create", ["full_name": "X", "owner_id": .number("\(tech.id)")]) }
            #expect(e?.kind == .invalidParams)
            #expect(e?.data["field"] == .string("owner_id"))
            let unowned = try await w.admin.newContact("Nobody's")
            #expect(unowned["owner_id"] == .null, "admins create unowned records unless they name an owner")
            // The change of owner is in the audit.
            let audit = try await w.admin.call("audit.list", ["entity": "contact", "entity_id": .number("\(c.id)")])
            let last = try #require(audit["entries"]?[0])
            #expect(last["changes"]?["owner_id"]?["before"]?.int64Value == w.dev2User.id)
            #expect(last["changes"]?["owner_id"]?["after"]?.int64Value == w.serviceUser.id)
            #expect(last["actor_name"] == "Boss Admin")
            #expect(last["method"] == "contact.update")
        }
    }

    @Test("robots look up routing data by phone, e-mail or messenger and may not read cards")
    func robotLookup() async throws {
        try await withWorld { w in
            let c = try await w.dev.call("contact.create", ["full_name": "Caller", "phones": ["044 123 45 67 доб. 12"],
                                                             "emails": ["caller@firma.ua"],
                                                             "messengers": [["kind": "telegram", "external_id": "777"]]])
            let robot = try await w.server.robot()
            for params: JSONValue in [["phone": "+380441234567"], ["email": "CALLER@firma.ua"], ["messenger": ["kind": "telegram", "external_id": "777"]]] {
                let r = try await robot.call("contact.lookup", params)
                let hit = try #require(r["contacts"]?[0])
                #expect(hit.id == c.id)
                #expect(hit["owner_name"] == "Olena Dev")
                #expect(hit["owner_department"] == "development")
                #expect(hit["phones"] == nil, "routing data only")
            }
            #expect(try await robot.call("contact.lookup", ["phone": "0509999999"])["contacts"]?.items.isEmpty == true)
            #expect(await failure { _ = try await robot.call("contact.get", ["id": .number("\(c.id)")]) }?.kind == .forbidden)
            #expect(await failure { _ = try await robot.call("contact.lookup", ["phone": "1", "email": "a@b.ua"]) }?.kind == .invalidParams)
            #expect(await failure { _ = try await w.dev.call("contact.lookup", ["phone": "0441234567"]) }?.kind == .forbidden)
            await robot.close()
        }
    }
}
