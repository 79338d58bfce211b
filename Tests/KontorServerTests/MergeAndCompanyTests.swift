import Foundation
import KontorClient
import KontorDomain
import KontorProtocol
import KontorTestSupport
import Postgres
import Testing

@Suite("Merge, companies, counterparties, derived company fields, audit")
struct MergeAndCompanyTests {
    @Test("merge keeps every comment, phone and lead, records it in the audit, and leaves totals unchanged")
    func merge() async throws {
        try await withWorld { w in
            // A stand-in for issue 4's leads, registered through the documented hook.
            _ = try await w.server.database.with { conn in
                try conn.execute(script: """
                    CREATE TABLE test_leads (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, contact_id bigint NOT NULL REFERENCES contacts(id));
                    INSERT INTO contact_merge_refs (table_name, column_name) VALUES ('test_leads', 'contact_id');
                    """)
            }
            let a = try await w.dev.call("contact.create", ["full_name": "Ivan", "phones": ["0441234567"], "emails": ["ivan@firma.ua"]])
            let b = try await w.dev2.call("contact.create", ["organization": "Firma", "position": "buyer", "group": "client",
                                                             "phones": ["0501112233", ["number": "0672223344", "label": "home"]],
                                                             "messengers": [["kind": "telegram", "handle": "ivan_p"]]])
            for (c, body) in [(a, "a1"), (a, "a2"), (b, "b1")] {
                _ = try await w.dev.call("contact.comment", ["id": .number("\(c.id)"), "body": .string(body)])
            }
            _ = try await w.server.database.with { [b] conn in
                try conn.execute("INSERT INTO test_leads (contact_id) VALUES (\(b.id)), (\(b.id))")
            }
            func totals() async throws -> [Int] {
                try await w.server.database.with { conn in
                    try ["contact_phones", "contact_emails", "contact_messengers", "comments", "test_leads"].map { t in
                        try conn.query("SELECT count(*) AS n FROM \(identifier: t)").one().decode("n", as: Int.self)
                    }
                }
            }
            let before = try await totals()
            let r = try await w.dev.call("contact.merge", ["survivor_id": .number("\(a.id)"), "merged_id": .number("\(b.id)"),
                                                          "survivor_version": 1, "merged_version": 1])
            #expect(try await totals() == before, "nothing lost, nothing copied")
            let s = try #require(r["contact"])
            #expect(s["phones"]?.items.compactMap { $0["e164"]?.stringValue } == ["+380441234567", "+380501112233", "+380672223344"])
            #expect(s["phones"]?[2]?["label"] == "home")
            #expect(s["messengers"]?.items.count == 1)
            #expect(s["full_name"] == "Ivan", "the survivor keeps its own fields")
            #expect(s["organization"] == "Firma", "empty fields are filled from the merged card")
            #expect(s["group"] == "client", "the more advanced group")
            #expect(r["moved"]?["test_leads.contact_id"]?.int == 2)
            #expect(r["moved"]?["comments.contact_id"]?.int == 1)
            let card = try await w.dev.call("contact.get", ["id": .number("\(a.id)")])
            #expect(Set(card["comments"]?.items.compactMap { $0["body"]?.stringValue } ?? []) == ["a1", "a2", "b1"])
            let leads = try await w.server.database.with { [a] conn in
                try conn.query("SELECT count(*) AS n FROM test_leads WHERE contact_id = \(a.id)").one().decode("n", as: Int.self)
            }
            #expect(leads == 2)
            let gone = try await w.dev.call("contact.get", ["id": .number("\(b.id)")])
            #expect(gone["merged_into_id"]?.int64Value == a.id)
            #expect(gone["deleted_at"] != .null)
            // The merged card's numbers now lead to the survivor.
            let found = try await w.dev.call("contact.find", ["query": "050 111 22 33"])
            #expect(ids(found["contacts"]?.items ?? []) == [a.id])
            let e = await failure { _ = try await w.service.newContact("Again", phones: ["+380672223344"]) }
            #expect(e?.data["existing_id"] == .int(Int(a.id)))
            // The audit of the survivor shows the merge and the merged card's history.
            let audit = try await w.dev.call("audit.list", ["entity": "contact", "entity_id": .number("\(a.id)")])
            let entries = audit["entries"]?.items ?? []
            let merge = try #require(entries.first { $0["action"] == "merge" })
            #expect(merge["changes"]?["merged_contact_id"]?["after"]?.int64Value == b.id)
            #expect(merge["changes"]?["moved"]?["after"]?["test_leads.contact_id"]?.int == 2)
            #expect(merge["changes"]?["phones"] != nil)
            #expect(entries.contains { $0["action"] == "merged_into" && $0["entity_id"]?.int64Value == b.id })
            #expect(entries.contains { $0["action"] == "create" && $0["entity_id"]?.int64Value == b.id })
            #expect(entries.filter { $0["action"] == "comment" }.count == 3)
            // Totals over the list: one contact fewer.
            #expect(try await w.dev.call("contact.list", [:])["total"]?.int == 1)
        }
    }

    @Test("every foreign key to contacts is registered for merge or exempt")
    func mergeRegistryCoversForeignKeys() async throws {
        let db = try await TestDatabase.create()
        defer { Task { await db.drop() } }
        let missing: [String] = try await db.with { conn in
            try conn.query("""
                SELECT rel.relname AS t, att.attname AS c
                FROM pg_constraint con
                JOIN pg_class rel ON rel.oid = con.conrelid
                JOIN pg_attribute att ON att.attrelid = con.conrelid AND att.attnum = con.conkey[1]
                WHERE con.contype = 'f' AND con.confrelid = 'contacts'::regclass
                  AND NOT EXISTS (SELECT 1 FROM contact_merge_refs r WHERE r.table_name = rel.relname AND r.column_name = att.attname)
                  AND NOT EXISTS (SELECT 1 FROM contact_merge_exempt x WHERE x.table_name = rel.relname AND x.column_name = att.attname)
                """).map { "\(try $0.decode("t", as: String.self)).\(try $0.decode("c", as: String.self))" }
        }
        #expect(missing.isEmpty, "register these in contact_merge_refs (or contact_merge_exempt with a reason): \(missing)")
    }

    @Test("a comment on a contact appears on its company; a contact change moves last_change_at; calls feed last_call_*")
    func companyDerivedFields() async throws {
        try await withWorld { w in
            let t0 = Date(timeIntervalSince1970: 1_790_000_000)
            w.server.clock.set(t0)
            let company = try await w.dev.call("company.create", ["name": "Papir LLC", "website": "papir.ua"])
            let cid = JSONValue.number("\(company.id)")
            let c = try await w.dev.newContact("Buyer", extra: ["company_id": cid])
            w.server.clock.set(t0.addingTimeInterval(600))
            let comment = try await w.dev.call("contact.comment", ["id": .number("\(c.id)"), "body": "Wants A4 paper, 20 boxes"])
            var card = try await w.dev.call("company.get", ["id": cid])
            #expect(card["comments"]?[0]?["id"]?.int64Value == comment.id)
            #expect(card["comments"]?[0]?["contact_id"]?.int64Value == c.id)
            #expect(card["last_change_at"].flatMap { $0.stringValue.flatMap(RFC3339.parse) } == t0.addingTimeInterval(600))
            w.server.clock.set(t0.addingTimeInterval(3600))
            _ = try await w.dev.call("contact.update", ["id": .number("\(c.id)"), "version": 1, "position": "Head of purchasing"])
            card = try await w.dev.call("company.get", ["id": cid])
            #expect(card["last_change_at"].flatMap { $0.stringValue.flatMap(RFC3339.parse) } == t0.addingTimeInterval(3600))
            #expect(card["version"]?.int == 1, "derived fields never bump the card's version")
            #expect(card["contacts"]?[0]?["position"] == "Head of purchasing")

            // Issue 4's recipe: a calls table feeding records_contact_calls.
            _ = try await w.server.database.with { conn in
                try conn.execute(script: """
                    CREATE TABLE test_calls (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                                             contact_id bigint REFERENCES contacts(id), started_at timestamptz NOT NULL, kind text NOT NULL);
                    INSERT INTO contact_merge_refs (table_name, column_name) VALUES ('test_calls', 'contact_id');
                    CREATE OR REPLACE VIEW records_contact_calls AS SELECT contact_id, started_at AS at, kind FROM test_calls;
                    CREATE TRIGGER test_calls_company AFTER INSERT OR UPDATE OR DELETE ON test_calls
                        FOR EACH ROW EXECUTE FUNCTION records_contact_activity();
                    """)
            }
            let callAt = t0.addingTimeInterval(4000)
            _ = try await w.server.database.with { [c] conn in
                try conn.execute("INSERT INTO test_calls (contact_id, started_at, kind) VALUES (\(c.id), \(callAt), 'incoming_missed')")
            }
            card = try await w.dev.call("company.get", ["id": cid])
            #expect(card["last_call_kind"] == "incoming_missed")
            #expect(card["last_call_at"].flatMap { $0.stringValue.flatMap(RFC3339.parse) } == callAt)
            // A contact with a later call joins the company: its call shows up.
            let other = try await w.dev.newContact("Accountant")
            _ = try await w.server.database.with { [other] conn in
                try conn.execute("INSERT INTO test_calls (contact_id, started_at, kind) VALUES (\(other.id), \(callAt.addingTimeInterval(60)), 'outgoing_answered')")
            }
            _ = try await w.dev.call("contact.update", ["id": .number("\(other.id)"), "version": 1, "company_id": cid])
            card = try await w.dev.call("company.get", ["id": cid])
            #expect(card["last_call_kind"] == "outgoing_answered")
            // ...and leaves with it.
            _ = try await w.dev.call("contact.update", ["id": .number("\(other.id)"), "version": 2, "company_id": nil])
            card = try await w.dev.call("company.get", ["id": cid])
            #expect(card["last_call_kind"] == "incoming_missed")
        }
    }

    @Test("contact.to_company names the company from the card, links the contact as a client, in one transaction")
    func toCompany() async throws {
        try await withWorld { w in
            let a = try await w.dev.newContact("Ivan Petrenko", extra: ["organization": "ТОВ Папір"])
            let r = try await w.dev.call("contact.to_company", ["id": .number("\(a.id)"), "version": 1])
            let company = try #require(r["company"])
            #expect(company["name"] == "ТОВ Папір")
            #expect(company["owner_id"]?.int64Value == w.devUser.id)
            #expect(ids(company["contacts"]?.items ?? []) == [a.id])
            #expect(r["contact"]?["company_id"]?.int64Value == company.id)
            #expect(r["contact"]?["company_name"] == "ТОВ Папір")
            #expect(r["contact"]?["group"] == "client")
            #expect(r["contact"]?["version"]?.int == 2)
            let b = try await w.dev.newContact("Olha Bondar")
            #expect(try await w.dev.call("contact.to_company", ["id": .number("\(b.id)"), "version": 1])["company"]?["name"] == "Olha Bondar")
            // Already linked, or a stale version: refused, and no company is left behind.
            var e = await failure { _ = try await w.dev.call("contact.to_company", ["id": .number("\(a.id)"), "version": 2]) }
            #expect(e?.kind == .invalidParams)
            let c = try await w.dev.newContact("Stale")
            _ = try await w.dev.call("contact.update", ["id": .number("\(c.id)"), "version": 1, "position": "x"])
            e = await failure { _ = try await w.dev.call("contact.to_company", ["id": .number("\(c.id)"), "version": 1]) }
            #expect(e?.kind == .conflict)
            #expect(try await w.dev.call("company.list", [:])["total"]?.int == 2)
            let audit = try await w.dev.call("audit.list", ["entity": "contact", "entity_id": .number("\(a.id)")])
            #expect(audit["entries"]?[0]?["action"] == "to_company")
            #expect(audit["entries"]?[0]?["changes"]?["group"]?["after"] == "client")
        }
    }

    @Test("companies: update with versions, soft delete and restore, list by name; counterparties with unique EDRPOU")
    func companiesAndCounterparties() async throws {
        try await withWorld { w in
            let co = try await w.dev.call("company.create", ["name": "Офіс Плюс", "address": "Київ, вул. Хрещатик, 1", "notes": "line 1\nline 2"])
            let cid = JSONValue.number("\(co.id)")
            let u = try await w.dev.call("company.update", ["id": cid, "version": 1, "website": "office.plus", "notes": nil])
            #expect(u["version"]?.int == 2)
            #expect(u["notes"] == .null)
            #expect(await failure { _ = try await w.dev2.call("company.update", ["id": cid, "version": 1, "name": "x"]) }?.kind == .conflict)
            let cp = try await w.dev.call("counterparty.add", ["company_id": cid, "legal_name": "ТОВ «Офіс Плюс»", "edrpou": "4012 3456",
                                                               "vat_number": "401234526548"])
            #expect(cp["edrpou"] == "40123456")
            let other = try await w.service.call("company.create", ["name": "Other"])
            var e = await failure {
                _ = try await w.service.call("counterparty.add", ["company_id": .number("\(other.id)"), "legal_name": "Copy", "edrpou": "40123456"])
            }
            #expect(e?.kind == .duplicate)
            #expect(e?.data["existing_id"] == .int(Int(cp.id)))
            #expect(e?.data["owner_name"] == .string("Olena Dev"))
            e = await failure { _ = try await w.dev.call("counterparty.add", ["company_id": cid, "legal_name": "Bad", "edrpou": "123"]) }
            #expect(e?.data["field"] == .string("edrpou"))
            let cp2 = try await w.dev.call("counterparty.update", ["id": .number("\(cp.id)"), "version": 1, "address": "Київ"])
            #expect(cp2["version"]?.int == 2)
            #expect(try await w.dev.call("counterparty.list", ["edrpou": "40123456"])["counterparties"]?.items.count == 1)
            #expect(try await w.service.call("counterparty.list", ["edrpou": "40123456"])["counterparties"]?.items.isEmpty == true)
            let card = try await w.dev.call("company.get", ["id": cid])
            #expect(card["counterparties"]?[0]?["legal_name"] == "ТОВ «Офіс Плюс»")
            #expect(ids(try await w.dev.call("company.list", ["query": "плюс"])["companies"]?.items ?? []) == [co.id])
            _ = try await w.dev.call("company.delete", ["id": cid])
            #expect(try await w.dev.call("company.list", [:])["total"]?.int == 0)
            #expect(try await w.dev.call("company.list", ["deleted": true])["total"]?.int == 1)
            e = await failure { _ = try await w.dev.newContact("Late", extra: ["company_id": cid]) }
            #expect(e?.kind == .notFound)
            let back = try await w.dev.call("company.restore", ["id": cid])
            #expect(back["deleted_at"] == .null)
            let audit = try await w.dev.call("audit.list", ["entity": "company", "entity_id": cid])
            #expect(audit["entries"]?.items.map { $0["action"]?.stringValue ?? "" } == ["restore", "delete", "update", "create"])
            let cpAudit = try await w.dev.call("audit.list", ["entity": "counterparty", "entity_id": .number("\(cp.id)")])
            #expect(cpAudit["entries"]?[0]?["changes"]?["address"]?["after"] == "Київ")
        }
    }

    @Test("audit.list by user is for admins; entries page by cursor")
    func auditByActor() async throws {
        try await withWorld { w in
            for i in 0..<5 { _ = try await w.dev.newContact("C\(i)") }
            _ = try await w.dev2.newContact("Other")
            #expect(await failure { _ = try await w.dev.call("audit.list", ["actor_id": .number("\(w.devUser.id)")]) }?.kind == .forbidden)
            #expect(await failure { _ = try await w.dev.call("audit.list", [:]) }?.kind == .invalidParams)
            var seen: [JSONValue] = []
            var cursor: JSONValue = .null
            repeat {
                var p: [String: JSONValue] = ["actor_id": .number("\(w.devUser.id)"), "limit": 2]
                if cursor != .null { p["cursor"] = cursor }
                let page = try await w.admin.call("audit.list", .object(p))
                seen += page["entries"]?.items ?? []
                cursor = page["next_cursor"] ?? .null
            } while cursor != .null
            #expect(seen.count == 5)
            #expect(Set(seen.map(\.id)).count == 5)
            #expect(seen.allSatisfy { $0["actor_id"]?.int64Value == w.devUser.id && $0["method"] == "contact.create" })
        }
    }
}
