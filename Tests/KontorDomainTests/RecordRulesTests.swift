import Foundation
import KontorDomain
import Testing

@Suite("Record rules: visibility, ownership, input cleaning")
struct RecordRulesTests {
    func principal(_ role: Role, _ d: Department?, id: Int64 = 1) -> Principal {
        Principal(userID: id, login: "u\(id)", fullName: "U", role: role, department: d)
    }

    func user(_ id: Int64, _ role: Role, _ d: Department?, active: Bool = true) -> User {
        User(id: id, login: "u\(id)", fullName: "U\(id)", role: role, department: d, email: nil, active: active, version: 1,
             createdAt: Date(), updatedAt: Date())
    }

    @Test("visibility by role and owner's department")
    func visibility() {
        let dev = Visibility(principal(.user, .development))
        #expect(dev == .department(.development))
        #expect(dev.allows(ownerID: nil, ownerDepartment: nil))
        #expect(dev.allows(ownerID: 5, ownerDepartment: .development))
        #expect(!dev.allows(ownerID: 5, ownerDepartment: .service))
        #expect(!dev.allows(ownerID: 5, ownerDepartment: nil), "records owned by an admin are not a department's")
        #expect(Visibility(principal(.admin, nil)) == .everything)
        #expect(Visibility(principal(.techAdmin, nil)) == .nothing)
        #expect(Visibility(principal(.robot, nil)) == .nothing)
        #expect(!Visibility.nothing.allows(ownerID: nil, ownerDepartment: nil))
        #expect(Visibility(principal(.user, nil)) == .unownedOnly)
    }

    @Test("ownership: users within their department, admins anywhere, only active sales people own")
    func ownership() throws {
        let me = principal(.user, .development)
        try Ownership.checkAssignable(user(2, .user, .development), by: me)
        #expect(throws: KontorError.self) { try Ownership.checkAssignable(user(3, .user, .service), by: me) }
        #expect(throws: KontorError.self) { try Ownership.checkAssignable(user(4, .admin, nil), by: me) }
        try Ownership.checkAssignable(user(3, .user, .service), by: principal(.admin, nil))
        try Ownership.checkAssignable(user(4, .admin, nil), by: principal(.admin, nil))
        #expect(throws: KontorError.self) { try Ownership.checkAssignable(user(5, .robot, nil), by: principal(.admin, nil)) }
        #expect(throws: KontorError.self) { try Ownership.checkAssignable(user(2, .user, .development, active: false), by: me) }
        #expect(Ownership.defaultOwner(for: me) == 1)
        #expect(Ownership.defaultOwner(for: principal(.admin, nil)) == nil)
    }

    @Test("phones: kept when unreadable, cleaned of control characters, repeats refused")
    func phones() throws {
        let n = PhoneNormalizer(defaultRegion: "UA")
        let list = try RecordInput.phones([("044\t123 45 67\n", "work"), ("nonsense", nil), ("044 123 45 67 доб. 12", nil)], normalizer: n)
        #expect(list[0].written == "044 123 45 67")
        #expect(list[0].normalized.e164 == "+380441234567")
        #expect(list[1].normalized.e164 == nil)
        #expect(list[2].lineKey == "+380441234567;12", "an extension is another line")
        #expect(throws: KontorError.self) { try RecordInput.phones([("0441234567", nil), ("+380 44 123 45 67", nil)], normalizer: n) }
        #expect(throws: KontorError.self) { try RecordInput.phones([("  ", nil)], normalizer: n) }
    }

    @Test("e-mails, messenger handles, EDRPOU and VAT numbers")
    func otherInputs() throws {
        let e = try RecordInput.emails([("Ivan@Firma.UA", nil)])
        #expect(e[0].address.normalized == "ivan@firma.ua")
        #expect(throws: KontorError.self) { try RecordInput.emails([("a@firma.ua", nil), ("A@FIRMA.ua", nil)]) }
        let m = try RecordInput.messengers([ContactMessenger(kind: .telegram, externalID: nil, handle: "@Ivan_P")])
        #expect(m[0].handle == "ivan_p")
        #expect(throws: KontorError.self) { try RecordInput.messengers([ContactMessenger(kind: .viber, externalID: " ", handle: nil)]) }
        #expect(throws: KontorError.self) { try RecordInput.messengers([ContactMessenger(kind: .telegram, externalID: nil, handle: "bad handle")]) }
        #expect(try RecordInput.edrpou(" 1234 5678 ") == "12345678")
        #expect(try RecordInput.edrpou("1234567890") == "1234567890")
        #expect(try RecordInput.edrpou(nil) == nil)
        #expect(throws: KontorError.self) { try RecordInput.edrpou("1234567") }
        #expect(throws: KontorError.self) { try RecordInput.vatNumber("12345") }
        #expect(throws: KontorError.self) { try RecordInput.text("a\u{0}b", field: "x", max: 10) }
        #expect(try RecordInput.text("  a\nb ", field: "x", max: 10, multiline: true) == "a\nb")
    }

    @Test("a card's display name falls back from name to organisation to phone")
    func displayName() {
        let phone = ContactPhone(number: "0441234567", label: nil, e164: "+380441234567", extensionNumber: nil, valid: true, kind: "fixedLine")
        #expect(Contact.displayName(fullName: nil, organization: "Firma", phones: [phone], emails: [], messengers: [], id: 1) == "Firma")
        #expect(Contact.displayName(fullName: nil, organization: nil, phones: [phone], emails: [], messengers: [], id: 1) == "+380 44 123 4567")
        #expect(Contact.displayName(fullName: nil, organization: nil, phones: [], emails: [], messengers: [], id: 7) == "contact 7")
    }
}
