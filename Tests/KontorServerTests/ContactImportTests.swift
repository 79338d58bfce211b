import Foundation
import KontorClient
import KontorDomain
import KontorProtocol
import KontorTestSupport
import Testing

typealias Row = IngestMethods.ImportRow
typealias Phone = IngestMethods.ImportPhone

/// Calls `contact.import`.
func importRows(_ c: KontorConnection, _ rows: [Row], mode: IngestMethods.ImportMode = .createOnly, dryRun: Bool = false,
                source: String? = nil) async throws -> IngestMethods.ContactImportResult {
    try await c.call("contact.import", IngestMethods.ContactImportParams(rows: rows, mode: mode, dryRun: dryRun, source: source))
}

extension IngestMethods.ContactImportResult {
    var actions: [IngestMethods.ImportAction] { results.map(\.action) }
    func row(_ line: Int) -> IngestMethods.ImportRowResult? { results.first { $0.line == line } }
}

@Suite("contact.import: contacts and companies from rows", .serialized)
struct ContactImportTests {
    /// A small B2B sheet: a company with its EDRPOU and switchboard, two of its people
    /// (one naming the company with other quotes and case), a person of another new
    /// company, and a person known only by name.
    static let sheet: [Row] = [
        Row(line: 2, kind: .company, phones: [Phone(number: "044 555 01 00")], companyName: "ТОВ «Папір»", edrpou: "40123456",
            address: "Київ, вул. Хрещатик, 1", website: "papir.ua"),
        Row(line: 3, kind: .contact, fullName: "Іван Петренко", position: "Закупівельник",
            phones: [Phone(number: "050 123 45 67", label: "mobile"), Phone(number: "+380 50 123 45 67")],
            emails: ["Ivan@Papir.UA"], telegram: "@ivan_p", companyName: "тов \"Папір\"", notes: "Бере А4, 20 коробок"),
        Row(line: 4, fullName: "Олена Бойко", phones: [Phone(number: "067 765 43 21")], companyName: "ТОВ Папір", edrpou: "40123456"),
        Row(line: 5, fullName: "Петро Сидоренко", emails: ["petro@kanc.ua"], companyName: "ФОП Канцелярія"),
        Row(line: 6, fullName: "Марія без телефону", companyName: "ФОП Канцелярія"),
    ]

    @Test("creates contacts, companies and counterparties once; a second import creates nothing, in either mode")
    func createsOnceAndIsIdempotent() async throws {
        try await withWorld { w in
            let robot = try await w.server.robot()
            let before = try await TableCounts.of(w.server)
            let first = try await importRows(robot, Self.sheet)
            #expect(first.actions == [.created, .created, .created, .created, .created], "\(first.results)")
            #expect((first.created, first.updated, first.unchanged, first.rejected, first.dryRun) == (5, 0, 0, 0, false))
            #expect(first.results.map(\.line) == [2, 3, 4, 5, 6])
            let after = try await TableCounts.of(w.server)
            // 2 companies (Папір from line 2, Канцелярія from line 5), 1 counterparty, 5 cards:
            // Папір's switchboard, Іван, Олена, Петро, Марія.
            #expect(after.companies - before.companies == 2)
            #expect(after.counterparties - before.counterparties == 1)
            #expect(after.contacts - before.contacts == 5)
            #expect(after.phones - before.phones == 3, "Іван's two forms of one number are one phone")
            #expect(after.comments - before.comments == 1, "Іван's note")
            let papir = try #require(first.row(2)?.companyID)
            #expect(first.row(3)?.companyID == papir, "found by name despite quotes and case")
            #expect(first.row(4)?.companyID == papir, "found by EDRPOU")
            #expect(first.row(6)?.companyID == first.row(5)?.companyID)

            let ivan = try await w.admin.call("contact.get", ["id": .number(String(try #require(first.row(3)?.contactID)))])
            #expect(ivan["source"] == "import")
            #expect(ivan["company_name"] == "ТОВ «Папір»")
            #expect(ivan["organization"] == "тов \"Папір\"")
            #expect(ivan["owner_id"] == .null, "a robot's import is unowned")
            #expect(ivan["messengers"]?[0]?["handle"] == "ivan_p")
            #expect(ivan["comments"]?[0]?["body"] == "Бере А4, 20 коробок")
            let card = try await w.admin.call("company.get", ["id": .number(String(papir))])
            #expect(card["website"] == "papir.ua")
            #expect(card["counterparties"]?[0]?["edrpou"] == "40123456")
            #expect(card["contacts"]?.items.count == 3, "switchboard, Іван, Олена")
            // Audited like any other create, as contact.import by the robot.
            let audit = try await w.admin.call("audit.list", ["entity": "contact", "entity_id": .number(String(ivan.id))])
            #expect(audit["entries"]?[0]?["method"] == "contact.import")
            #expect(audit["entries"]?.items.contains { $0["action"] == "create" } == true)

            let again = try await importRows(robot, Self.sheet)
            #expect(again.actions == Array(repeating: .unchanged, count: 5), "\(again.results)")
            #expect(again.results.map(\.contactID) == first.results.map(\.contactID))
            let update = try await importRows(robot, Self.sheet, mode: .updateExisting)
            #expect(update.actions == Array(repeating: .unchanged, count: 5), "\(update.results)")
            #expect(try await TableCounts.of(w.server) == after)
        }
    }

    @Test("a dry run reports what would happen and leaves every table as it was")
    func dryRunChangesNothing() async throws {
        try await withWorld { w in
            let robot = try await w.server.robot()
            _ = try await w.dev.newContact("Existing", phones: ["050 123 45 67"])
            let before = try await TableCounts.of(w.server)
            for mode in [IngestMethods.ImportMode.createOnly, .updateExisting] {
                let dry = try await importRows(robot, Self.sheet, mode: mode, dryRun: true)
                #expect(dry.dryRun)
                #expect(try await TableCounts.of(w.server) == before, "\(mode)")
                // Line 3 names the existing card; the rest would be created. Ids of
                // records that were never committed are not given out.
                #expect(dry.actions == [.created, mode == .createOnly ? .unchanged : .updated, .created, .created, .created])
                #expect(dry.row(2)?.companyID == nil)
                #expect(dry.row(3)?.contactID != nil, "an existing card keeps its id")
                #expect(dry.row(3)?.companyID == nil)
            }
            let real = try await importRows(robot, Self.sheet, mode: .updateExisting)
            #expect(real.actions == [.created, .updated, .created, .created, .created])
            #expect(try await TableCounts.of(w.server) != before)
        }
    }

    @Test("a bad row in the middle is rejected with its reason and field; the rows around it are imported")
    func badRowDoesNotAbort() async throws {
        try await withWorld { w in
            let rows = [
                Row(line: 10, fullName: "First", phones: [Phone(number: "050 000 00 01")]),
                Row(line: 11, fullName: "Bad Mail", emails: ["contact1@invalid"]),
                Row(line: 12, fullName: "Second", phones: [Phone(number: "050 000 00 02")]),
                Row(line: 13, notes: "only a note"),
                Row(line: 14, fullName: "Bad group", phones: [Phone(number: "050 000 00 03")], group: "vip"),
                Row(line: 15, fullName: "Bad code", companyName: "X", edrpou: "123"),
                Row(line: 16, kind: .company, phones: [Phone(number: "050 000 00 04")]),
                Row(line: 17, fullName: "Third", emails: ["third@firma.ua"]),
            ]
            let r = try await importRows(w.admin, rows)
            #expect(r.actions == [.created, .rejected, .created, .rejected, .rejected, .rejected, .rejected, .created])
            #expect((r.created, r.rejected) == (3, 5))
            #expect(r.row(11)?.field == "emails[0]")
            #expect(r.row(11)?.reason?.contains("no dot") == true)
            #expect(r.row(13)?.field == "full_name")
            #expect(r.row(13)?.reason?.hasPrefix("nothing to import") == true)
            #expect(r.row(14)?.field == "group")
            #expect(r.row(15)?.field == "edrpou")
            #expect(r.row(16)?.field == "company_name")
            let list = try await w.admin.call("contact.list", ["source": "import"])
            #expect(list["total"] == 3)
        }
    }

    @Test("a database error in one row (here: a value the schema refuses) rejects that row only")
    func storageErrorRejectsTheRow() async throws {
        try await withWorld { w in
            // A trigger that refuses one name stands in for any constraint the checks miss.
            try await w.server.database.with { conn in
                try conn.execute(script: """
                    CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN IF NEW.full_name = 'Refused' THEN RAISE EXCEPTION 'refused by test'; END IF; RETURN NEW; END $$;
                    CREATE TRIGGER test_refuse BEFORE INSERT ON contacts FOR EACH ROW EXECUTE FUNCTION test_refuse();
                    """)
            }
            let r = try await importRows(w.admin, [
                Row(line: 2, fullName: "Before", phones: [Phone(number: "050 000 00 11")]),
                Row(line: 3, fullName: "Refused", phones: [Phone(number: "050 000 00 12")], companyName: "Left Behind"),
                Row(line: 4, fullName: "After", phones: [Phone(number: "050 000 00 13")]),
            ])
            #expect(r.actions == [.created, .rejected, .created])
            #expect(r.row(3)?.reason?.contains("internal error") == true)
            // Its company was rolled back with it.
            #expect(try await w.admin.call("company.list", ["query": "Left Behind"])["total"] == 0)
        }
    }

    @Test("two rows with one number in one file make one card: the second finds the first")
    func duplicatesWithinOneFile() async throws {
        try await withWorld { w in
            let rows = [
                Row(line: 2, fullName: "Оксана", phones: [Phone(number: "050 111 22 33")]),
                Row(line: 3, fullName: "Оксана Ткач", phones: [Phone(number: "+380501112233")], emails: ["oksana@firma.ua"]),
            ]
            let create = try await importRows(w.dev, rows)
            #expect(create.actions == [.created, .unchanged])
            #expect(create.row(3)?.contactID == create.row(2)?.contactID)
            #expect(create.row(3)?.reason?.contains("the same contact as line 2") == true)
            #expect(try await w.dev.call("contact.find", ["query": "050 111 22 33"])["contacts"]?.items.count == 1)

            let rows2 = rows.map { r in var r = r; r.line += 100; r.phones = [Phone(number: "067 111 22 33")]; return r }
            let update = try await importRows(w.dev, rows2, mode: .updateExisting)
            #expect(update.actions == [.created, .updated])
            let id = try #require(update.row(102)?.contactID)
            #expect(update.row(103)?.contactID == id)
            let card = try await w.dev.call("contact.get", ["id": .number(String(id))])
            #expect(card["full_name"] == "Оксана", "a name is never overwritten")
            #expect(card["emails"]?[0]?["address"] == "oksana@firma.ua", "the e-mail was added")
            #expect(update.row(103)?.reason?.contains("full_name differs") == true)
        }
    }

    @Test("update_existing fills empty fields and adds phones and e-mails; never removes or overwrites; unchanged when nothing is new")
    func updateExistingFillsAndAdds() async throws {
        try await withWorld { w in
            let c = try await w.dev.call("contact.create", [
                "full_name": "Андрій Коваль", "position": "Директор", "phones": ["044 222 33 44"], "emails": ["a.koval@firma.ua"],
            ])
            let row = Row(line: 7, fullName: "Andrii Koval", position: "Менеджер",
                          phones: [Phone(number: "(044) 222-33-44"), Phone(number: "097 222 33 44", label: "mobile")],
                          emails: ["A.Koval@firma.ua", "andrii@gmail.com"], viber: "+380 97 222 33 44", companyName: "Коваль і Ко",
                          group: "client", ownerLogin: "taras")
            let r = try await importRows(w.dev, [row], mode: .updateExisting)
            #expect(r.actions == [.updated])
            let reason = r.row(7)?.reason ?? ""
            #expect(reason.contains("full_name differs"))
            #expect(reason.contains("position differs"))
            #expect(reason.contains("group differs"))
            #expect(reason.contains("owner differs"), "the card is Olena's: the file's owner is not taken")
            let card = try await w.dev.call("contact.get", ["id": .number(String(c.id))])
            #expect(card["full_name"] == "Андрій Коваль")
            #expect(card["position"] == "Директор")
            #expect(card["group"] == "lead")
            #expect(card["owner_id"] == .number(String(w.devUser.id)))
            #expect(card["phones"]?.items.map { $0["e164"]?.stringValue } == ["+380442223344", "+380972223344"],
                    "the new number is added after the card's own; the Viber number is the same line")
            #expect(card["emails"]?.items.map { $0["address"]?.stringValue } == ["a.koval@firma.ua", "andrii@gmail.com"])
            #expect(card["organization"] == "Коваль і Ко")
            #expect(card["company_name"] == "Коваль і Ко", "the empty company link is filled (a new company)")
            #expect(card["version"] == 2)
            let audit = try await w.dev.call("audit.list", ["entity": "contact", "entity_id": .number(String(c.id))])
            #expect(audit["entries"]?[0]?["method"] == "contact.import")
            #expect(audit["entries"]?[0]?["action"] == "update")

            let again = try await importRows(w.dev, [row], mode: .updateExisting)
            #expect(again.actions == [.unchanged])
            #expect(try await w.dev.call("contact.get", ["id": .number(String(c.id))])["version"] == 2)
        }
    }

    @Test("a row naming two different cards is rejected with both ids; nothing changes")
    func clashWithTwoContacts() async throws {
        try await withWorld { w in
            let a = try await w.dev.newContact("A", phones: ["050 333 44 55"])
            let b = try await w.dev.call("contact.create", ["full_name": "B", "emails": ["b@firma.ua"]])
            let before = try await TableCounts.of(w.server)
            for mode in [IngestMethods.ImportMode.createOnly, .updateExisting] {
                let r = try await importRows(w.admin, [Row(line: 4, fullName: "AB", phones: [Phone(number: "0503334455")], emails: ["B@firma.ua"])],
                                             mode: mode)
                #expect(r.actions == [.rejected])
                #expect(r.row(4)?.existingIDs == [a.id, b.id])
                #expect(r.row(4)?.field == "emails[0]")
                #expect(r.row(4)?.reason?.contains("contact \(a.id)") == true)
                #expect(r.row(4)?.reason?.contains("contact \(b.id)") == true)
            }
            #expect(try await TableCounts.of(w.server) == before)
        }
    }

    @Test("a number that cannot be read is kept as written and flagged, not rejected; a second import finds it by its digits")
    func unreadablePhone() async throws {
        try await withWorld { w in
            let row = Row(line: 2, fullName: "Пётр", phones: [Phone(number: "8 903 000 33 44", label: "mobile")])
            let r = try await importRows(w.admin, [row])
            #expect(r.actions == [.created])
            #expect(r.row(2)?.reason?.contains("phones[0] “8 903 000 33 44” could not be read") == true)
            let card = try await w.admin.call("contact.get", ["id": .number(String(try #require(r.row(2)?.contactID)))])
            #expect(card["phones"]?[0]?["parsed"] == .bool(false))
            #expect(card["phones"]?[0]?["number"] == "8 903 000 33 44")
            let again = try await importRows(w.admin, [Row(line: 2, fullName: "Пётр Другий", phones: [Phone(number: "8-903-000-33-44")])])
            #expect(again.actions == [.unchanged])
            #expect(again.row(2)?.contactID == card.id)
        }
    }

    @Test("a user is told about cards they cannot see, never shown or changed; robots and admins match them")
    func visibilityForAUser() async throws {
        try await withWorld { w in
            let marta = try await w.service.call("contact.create", ["full_name": "Клієнт Марти", "phones": ["050 444 55 66"], "position": "CEO"])
            let martasCompany = try await w.service.call("company.create", ["name": "Сервісна Фірма"])
            let row = Row(line: 9, fullName: "Клієнт Олени", phones: [Phone(number: "+380504445566")], emails: ["new@firma.ua"])
            for mode in [IngestMethods.ImportMode.createOnly, .updateExisting] {
                let r = try await importRows(w.dev, [row], mode: mode)
                #expect(r.actions == [.rejected])
                #expect(r.row(9)?.reason?.hasPrefix("exists, owned by Marta Service") == true, "\(r.results)")
                #expect(r.row(9)?.contactID == marta.id)
                #expect(r.row(9)?.field == "phones[0]")
            }
            let card = try await w.service.call("contact.get", ["id": .number(String(marta.id))])
            #expect(card["version"] == 1)
            #expect(card["emails"]?.items.isEmpty == true)

            // A company the user cannot see: a company row is rejected; a person row is
            // imported without the link, keeping the name as written.
            let rows = [
                Row(line: 20, kind: .company, companyName: "сервісна фірма", website: "x.ua"),
                Row(line: 21, fullName: "Людина Олени", emails: ["olena.person@firma.ua"], companyName: "Сервісна фірма"),
            ]
            let r = try await importRows(w.dev, rows, mode: .updateExisting)
            #expect(r.actions == [.rejected, .created])
            #expect(r.row(20)?.reason?.hasPrefix("exists, owned by Marta Service") == true)
            #expect(r.row(20)?.companyID == martasCompany.id)
            #expect(r.row(21)?.companyID == nil)
            #expect(r.row(21)?.reason?.contains("not linked to a company") == true)
            let person = try await w.dev.call("contact.get", ["id": .number(String(try #require(r.row(21)?.contactID)))])
            #expect(person["organization"] == "Сервісна фірма")
            #expect(person["owner_id"] == .number(String(w.devUser.id)), "a user owns what they import")
            #expect(try await w.service.call("company.get", ["id": .number(String(martasCompany.id))])["website"] == .null)

            // Robots and admins see every card: the same row matches Marta's card.
            let robot = try await w.server.robot()
            #expect(try await importRows(robot, [row]).row(9)?.contactID == marta.id)
            let admin = try await importRows(w.admin, [row], mode: .updateExisting)
            #expect(admin.actions == [.updated])
            #expect(try await w.service.call("contact.get", ["id": .number(String(marta.id))])["emails"]?[0]?["address"] == "new@firma.ua")
        }
    }

    @Test("owners: owner_login within the rules of the caller; else the importing user, none for robots and admins")
    func owners() async throws {
        try await withWorld { w in
            let robot = try await w.server.robot()
            try await w.server.createUser("gone", role: .user, department: .service)
            _ = try await w.server.database.with { conn in try conn.execute("UPDATE users SET active = false WHERE login = 'gone'") }
            let rows = [
                Row(line: 2, fullName: "One", phones: [Phone(number: "050 600 00 01")], ownerLogin: "taras"),
                Row(line: 3, fullName: "Two", phones: [Phone(number: "050 600 00 02")], ownerLogin: "marta"),
                Row(line: 4, fullName: "Three", phones: [Phone(number: "050 600 00 03")], ownerLogin: "nobody"),
                Row(line: 5, fullName: "Four", phones: [Phone(number: "050 600 00 04")]),
                Row(line: 6, fullName: "Five", phones: [Phone(number: "050 600 00 05")], ownerLogin: "gone"),
                Row(line: 7, fullName: "Six", phones: [Phone(number: "050 600 00 06")], ownerLogin: "bridge-owner-robot"),
            ]
            try await w.server.createUser("bridge-owner-robot", role: .robot)
            let byUser = try await importRows(w.dev, rows)
            #expect(byUser.actions == [.created, .rejected, .rejected, .created, .rejected, .rejected])
            #expect(byUser.row(3)?.field == "owner_login")
            #expect(byUser.row(3)?.reason?.contains("your department") == true)
            #expect(byUser.row(4)?.reason?.contains("no user has the login") == true)
            #expect(byUser.row(6)?.reason?.contains("deactivated") == true)
            #expect(byUser.row(7)?.reason?.contains("cannot own") == true)
            func owner(_ r: IngestMethods.ContactImportResult, _ line: Int) async throws -> JSONValue? {
                try await w.admin.call("contact.get", ["id": .number(String(try #require(r.row(line)?.contactID)))])["owner_id"]
            }
            #expect(try await owner(byUser, 2) == .number(String(w.dev2User.id)))
            #expect(try await owner(byUser, 5) == .number(String(w.devUser.id)))

            // A robot assigns anyone who can own records; without owner_login, nobody.
            let byRobot = try await importRows(robot, rows.map { r in var r = r; r.line += 10; r.phones = [Phone(number: "067" + (r.phones?.first?.number ?? "").dropFirst(3))]; return r })
            #expect(byRobot.actions == [.created, .created, .rejected, .created, .rejected, .rejected])
            #expect(try await owner(byRobot, 13) == .number(String(w.serviceUser.id)))
            #expect(try await owner(byRobot, 15) == .null)
            let byAdmin = try await importRows(w.admin, [Row(line: 1, fullName: "Seven", phones: [Phone(number: "050 600 00 07")])])
            #expect(try await owner(byAdmin, 1) == .null, "as contact.create: an admin's new cards are unowned")
        }
    }

    @Test("companies: found by EDRPOU, else by name; company rows fill in update mode; a new code becomes a counterparty")
    func companies() async throws {
        try await withWorld { w in
            let existing = try await w.admin.call("company.create", ["name": "ПАТ Завод", "website": "zavod.ua"])
            let rows = [
                Row(line: 2, kind: .company, phones: [Phone(number: "056 777 88 99")], companyName: "пат  ЗАВОД", edrpou: "00191158",
                    address: "Дніпро", website: "other.ua", notes: "Великий клієнт"),
                Row(line: 3, fullName: "Головний Інженер", emails: ["engineer@zavod.ua"], edrpou: "00191158"),
            ]
            let create = try await importRows(w.admin, rows)
            #expect(create.actions == [.unchanged, .created], "create_only leaves the existing company as it is")
            #expect(create.row(3)?.companyID == nil, "the code is not on any company yet")
            #expect(create.row(3)?.reason?.contains("no company has the EDRPOU code 00191158") == true)

            let update = try await importRows(w.admin, rows, mode: .updateExisting)
            #expect(update.actions == [.updated, .updated])
            #expect(update.row(2)?.companyID == existing.id)
            #expect(update.row(2)?.reason?.contains("website differs") == true)
            let card = try await w.admin.call("company.get", ["id": .number(String(existing.id))])
            #expect(card["website"] == "zavod.ua")
            #expect(card["address"] == "Дніпро")
            #expect(card["notes"] == "Великий клієнт")
            #expect(card["counterparties"]?[0]?["edrpou"] == "00191158")
            #expect(card["counterparties"]?[0]?["legal_name"] == "пат  ЗАВОД")
            // The switchboard's card, and the engineer linked through the code now.
            #expect(Set(card["contacts"]?.items.map { $0["display_name"]?.stringValue ?? "" } ?? []) == ["ПАТ Завод", "Головний Інженер"])
            #expect(update.row(3)?.companyID == existing.id)

            let again = try await importRows(w.admin, rows, mode: .updateExisting)
            #expect(again.actions == [.unchanged, .unchanged])

            // Two visible companies of one name: a company row cannot choose.
            _ = try await w.admin.call("company.create", ["name": "Двійник"])
            _ = try await w.admin.call("company.create", ["name": "ДВІЙНИК"])
            let twins = try await importRows(w.admin, [Row(line: 5, kind: .company, companyName: "Двійник", website: "a.ua"),
                                                      Row(line: 6, fullName: "Працівник Двійника", emails: ["t@dv.ua"], companyName: "Двійник")])
            #expect(twins.actions == [.rejected, .created])
            #expect(twins.row(5)?.reason?.contains("several companies are named") == true)
            #expect(twins.row(6)?.companyID == nil)
        }
    }

    @Test("limits and parameters: 1000 rows per call, known sources, line numbers echoed")
    func limits() async throws {
        try await withWorld { w in
            let many = (1...1001).map { Row(line: $0, fullName: "N\($0)") }
            let e = await failure { _ = try await importRows(w.admin, many) }
            #expect(e?.kind == .invalidParams)
            #expect(e?.data["field"] == .string("rows"))
            let bad = await failure { _ = try await importRows(w.admin, [Row(line: 1, fullName: "x")], source: "fax") }
            #expect(bad?.data["field"] == .string("source"))
            let r = try await importRows(w.admin, [Row(line: 42, fullName: "Site Person", emails: ["site@firma.ua"])], source: "site")
            #expect(r.results.map(\.line) == [42])
            let card = try await w.admin.call("contact.get", ["id": .number(String(try #require(r.row(42)?.contactID)))])
            #expect(card["source"] == "site")
            let thousand = try await importRows(w.admin, (1...1000).map { Row(line: $0 + 1, fullName: "Person \($0)", phones: [Phone(number: String(format: "050%07d", $0))]) }, dryRun: true)
            #expect(thousand.created == 1000)
            try await w.server.createUser("tech", role: .techAdmin)
            let tech = try await w.server.login("tech")
            #expect(await failure { _ = try await importRows(tech, [Row(line: 1, fullName: "x")]) }?.kind == .forbidden)
            await tech.close()
        }
    }

    @Test("two imports of one file at the same time make each card and company once")
    func concurrentImports() async throws {
        try await withWorld { w in
            let a = try await w.server.robot("robot-a")
            let b = try await w.server.robot("robot-b")
            var rows = Self.sheet
            for i in 0..<40 {
                rows.append(Row(line: 100 + i, fullName: "Person \(i)", phones: [Phone(number: String(format: "063%07d", i))],
                                emails: i % 3 == 0 ? ["p\(i)@firma.ua"] : nil, companyName: "Firm \(i % 7)"))
            }
            rows.append(Row(line: 200, fullName: "Unread", phones: [Phone(number: "8 903 111 22 33")]))
            let file = rows
            let before = try await TableCounts.of(w.server)
            for round in 0..<3 {
                let mode: IngestMethods.ImportMode = round == 1 ? .updateExisting : .createOnly
                async let ra = importRows(a, file, mode: mode)
                async let rb = importRows(b, file, mode: mode)
                let (x, y) = try await (ra, rb)
                #expect(x.rejected == 0 && y.rejected == 0, "\(x.results.filter { $0.action == .rejected }) \(y.results.filter { $0.action == .rejected })")
                if round == 0 {
                    #expect(x.created + y.created == file.count, "each row created once: \(x.created) + \(y.created)")
                } else {
                    #expect(x.created + y.created == 0)
                }
                for (p, q) in zip(x.results, y.results) { #expect(p.contactID == q.contactID, "line \(p.line)") }
            }
            let after = try await TableCounts.of(w.server)
            // sheet: 5 cards, 2 companies; 40 people at 7 firms; the unread number.
            #expect(after.contacts - before.contacts == 5 + 40 + 1)
            #expect(after.companies - before.companies == 2 + 7)

            // Rows the database cannot keep unique by itself (no parsed number, e-mail or
            // account): people known by name at a company, numbers that cannot be read.
            // Here only the import's own locks keep the second import from creating again.
            let weak = (0..<20).map { i in Row(line: 2 + i, fullName: "Name \(i)", companyName: "Weak Firm \(i % 5)") }
                + (0..<5).map { i in Row(line: 30 + i, phones: [Phone(number: "8 903 222 33 4\(i)")]) }
            for _ in 0..<2 {
                async let ra = importRows(a, weak)
                async let rb = importRows(b, weak)
                let (x, y) = try await (ra, rb)
                #expect(x.rejected + y.rejected == 0)
            }
            let end = try await TableCounts.of(w.server)
            #expect(end.contacts - after.contacts == 25)
            #expect(end.companies - after.companies == 5)
        }
    }
}
