import Foundation
import KontorBridge
import KontorProtocol
import Testing

/// Every contacts sample → the expected rows and fields; encodings and delimiters.
///
/// Through kontord's real `contact.import` (expected numbers of contacts, companies and
/// rejected rows per sample; a second import creates nothing; `--dry-run` changes
/// nothing): `DeliveryTests.contactSamplesThroughContactImport` and
/// `importContactsCommandDryRun`.
@Suite struct ContactsTests {
    @Test func googleContactsMultiValuePhone() throws {
        let r = ContactsCSV.parse(try sample("contacts/google_contacts_csv_cyrillic_multivalue_phone.csv"))
        #expect(r.encoding == "utf-8")
        #expect(r.delimiter == ",")
        try #require(r.rows.count == 2)
        #expect(r.rows[0] == .init(line: 2, kind: .contact, fullName: "Пётр",
                                   phones: [.init(number: "+7 916 000-11-22", label: "mobile"), .init(number: "8 903 000 33 44", label: "mobile")]))
        #expect(r.rows[1] == .init(line: 3, kind: .contact, fullName: "Anna Smith", phones: [.init(number: "+44 20 7946 0958", label: "mobile")]))
    }

    @Test func odooCompaniesAndContacts() throws {
        let r = ContactsCSV.parse(try sample("contacts/odoo_res_partner_companies_and_contacts.csv"))
        try #require(r.rows.count == 6)
        #expect(r.rows.filter { $0.kind == .company }.count == 2)
        #expect(r.rows.filter { $0.kind == .contact }.count == 4)
        #expect(r.rows[0] == .init(line: 2, kind: .company, phones: [.init(number: "123456789")], companyName: "Grocery Outlet",
                                   address: "51 Federal Street, #401, San Francisco, California, 94107, United States",
                                   website: "groceryoutlet.com"))
        #expect(r.rows[1] == .init(line: 3, kind: .contact, fullName: "Bob", phones: [.init(number: "4157654321", label: "mobile")],
                                   companyName: "Grocery Outlet", notes: "Address Type: Contact"))
        #expect(r.rows[3].fullName == "Warehouse")
        #expect(r.rows[3].emails == ["bill@odoo.com"])
        #expect(r.rows[3].phones == [.init(number: "415659874")])
        #expect(r.rows[3].notes == "Address Type: Shipping address")
        #expect(r.rows[5].companyName == "Agrolait")
        #expect(r.rows[5].kind == .company)
        #expect(r.rows[5].phones == [.init(number: "654978123")])
    }

    @Test func thunderbirdQuotedMultilineUnicode() throws {
        let r = ContactsCSV.parse(try sample("contacts/thunderbird_export_quoted_multiline_unicode.csv"))
        try #require(r.rows.count == 2)
        #expect(r.rows[0] == .init(line: 2, kind: .contact, fullName: "contact number one", emails: ["contact1@invalid"]))
        let two = r.rows[1]
        #expect(two.line == 3)
        #expect(two.fullName == "contact number two")
        #expect(two.emails == ["contact2@invalid"])
        #expect(two.position == "\"worker\"")
        #expect(two.notes == "here's some unicode text…")
    }

    @Test func thunderbirdSemicolons() throws {
        let r = ContactsCSV.parse(try sample("contacts/thunderbird_semicolon_delimited.csv"))
        #expect(r.delimiter == ";")
        #expect(r.rows == [
            .init(line: 2, kind: .contact, fullName: "John Doe", emails: ["john@doe.invalid"]),
            .init(line: 3, kind: .contact, fullName: "Jane Doe", emails: ["jane@doe.invalid"]),
        ])
    }

    @Test func vcard40() throws {
        let rows = VCardParser.parse(try sample("contacts/thunderbird_export_vcard40_escapes.vcf"))
        try #require(rows.count == 2)
        #expect(rows[0] == .init(line: 1, kind: .contact, fullName: "contact number one", emails: ["contact1@invalid"]))
        #expect(rows[1].line == 8)
        #expect(rows[1].fullName == "contact number two")
        #expect(rows[1].position == "\"worker\"")
        #expect(rows[1].notes == "here's some unicode text…")
    }

    // MARK: encodings, delimiters, Ukrainian headers, mapping files

    static let sheet = "Ім'я\tПрізвище\tТелефон\tE-mail\tКомпанія\tКод ЄДРПОУ\tПримітка\nОлег\tКоваль\t050 123 45 67, 067-765-43-21\toleg@firma.ua\tТОВ \"Фірма\"\t12345678\tпостійний клієнт\n\t\t\t\tТОВ Папір\t87654321\t\n"

    @Test func utf16LittleEndianTabsWithUkrainianHeaders() throws {
        // Excel's "Unicode text" export: UTF-16 LE with BOM, TAB-delimited.
        var bytes: [UInt8] = [0xFF, 0xFE]
        for u in Self.sheet.utf16 { bytes += [UInt8(u & 0xFF), UInt8(u >> 8)] }
        let r = ContactsCSV.parse(bytes)
        #expect(r.encoding == "utf-16le")
        #expect(r.delimiter == "\t")
        try #require(r.rows.count == 2)
        #expect(r.rows[0] == .init(line: 2, kind: .contact, fullName: "Олег Коваль",
                                   phones: [.init(number: "050 123 45 67"), .init(number: "067-765-43-21")],
                                   emails: ["oleg@firma.ua"], companyName: "ТОВ \"Фірма\"", edrpou: "12345678", notes: "постійний клієнт"))
        #expect(r.rows[1] == .init(line: 3, kind: .company, companyName: "ТОВ Папір", edrpou: "87654321"))
    }

    @Test func utf16BigEndianAndUTF8BOM() throws {
        var be: [UInt8] = [0xFE, 0xFF]
        for u in Self.sheet.utf16 { be += [UInt8(u >> 8), UInt8(u & 0xFF)] }
        let a = ContactsCSV.parse(be)
        #expect(a.encoding == "utf-16be")
        let b = ContactsCSV.parse([0xEF, 0xBB, 0xBF] + Array(Self.sheet.utf8))
        #expect(b.encoding == "utf-8-bom")
        #expect(a.rows == b.rows)
        try #require(b.rows.count == 2)
        #expect(b.rows[0].fullName == "Олег Коваль")
    }

    @Test func windows1251Semicolons() throws {
        // "Имя;Телефон;Компания" + a row, in windows-1251 (Excel in a ru/uk locale).
        let bytes: [UInt8] = [0xC8, 0xEC, 0xFF, 0x3B, 0xD2, 0xE5, 0xEB, 0xE5, 0xF4, 0xEE, 0xED, 0x3B, 0xCA, 0xEE, 0xEC, 0xEF, 0xE0, 0xED, 0xE8, 0xFF, 0x0D, 0x0A,
                              0xC8, 0xE2, 0xE0, 0xED, 0x20, 0xCF, 0xE5, 0xF2, 0xF0, 0xEE, 0xE2, 0x3B, 0x22, 0x30, 0x34, 0x34, 0x20, 0x31, 0x32, 0x33, 0x2D, 0x34, 0x35, 0x2D, 0x36, 0x37, 0x3B, 0x30, 0x35, 0x30, 0x31, 0x31, 0x31, 0x32, 0x32, 0x33, 0x33, 0x22, 0x3B,
                              0xCE, 0xCE, 0xCE, 0x20, 0x22, 0x22, 0xCA, 0xE0, 0xED, 0xF6, 0xE5, 0xEB, 0xFF, 0xF0, 0xE8, 0xFF, 0x22, 0x22, 0x0D, 0x0A]
        let r = ContactsCSV.parse(bytes)
        #expect(r.encoding == "windows-1251")
        #expect(r.delimiter == ";")
        #expect(r.rows == [.init(line: 2, kind: .contact, fullName: "Иван Петров",
                                 phones: [.init(number: "044 123-45-67"), .init(number: "0501112233")],
                                 companyName: "ООО \"\"Канцелярия\"\"")])
    }

    @Test func mappingFileOverridesDefaults() throws {
        let csv = "Клієнт,Тел. моб,Контакт\r\nТОВ Ромашка,0501234567,Ірина\r\n"
        let mapping = try ContactsCSV.mapping(fromJSON: Array(#"{"columns": {"клієнт": "company", "Тел. моб": "phone:mobile", "Контакт": "full_name"}}"#.utf8))
        let r = ContactsCSV.parse(Array(csv.utf8), mapping: mapping)
        #expect(r.rows == [.init(line: 2, kind: .contact, fullName: "Ірина", phones: [.init(number: "0501234567", label: "mobile")], companyName: "ТОВ Ромашка")])
        #expect(throws: PayloadError.self) { try ContactsCSV.mapping(fromJSON: Array(#"{"columns": {"x": "nonsense"}}"#.utf8)) }
    }

    @Test func rfc4180EdgeCases() throws {
        let csv = "name,phone,notes\r\n\"Doe, John\",\"050 111 22 33\n067 444 55 66\",\"say \"\"hi\"\"\rtwice\"\r\n\r\n\"Unterminated,0441234567"
        let r = ContactsCSV.parse(Array(csv.utf8))
        try #require(r.rows.count == 2)
        #expect(r.rows[0].fullName == "Doe, John")
        #expect(r.rows[0].phones == [.init(number: "050 111 22 33"), .init(number: "067 444 55 66")])
        #expect(r.rows[0].notes == "say \"hi\"\rtwice")
        #expect(r.rows[1].line == 6)
        #expect(r.rows[1].fullName == "Unterminated,0441234567")
    }
}
