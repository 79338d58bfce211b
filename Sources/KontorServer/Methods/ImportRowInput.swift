import Foundation
import KontorDomain
import KontorProtocol
import KontorStore

/// Why one imported row is refused: the reason for people, the offending field, and the
/// existing records it names (the same facts a `duplicate` error gives).
struct RowRejection: Error, Sendable {
    var reason: String
    var field: String?
    var contactID: Int64? = nil
    var companyID: Int64? = nil
    var existingIDs: [Int64]? = nil

    func result(line: Int) -> IngestMethods.ImportRowResult {
        IngestMethods.ImportRowResult(line: line, action: .rejected, contactID: contactID, companyID: companyID, reason: reason,
                                      field: field, existingIDs: existingIDs)
    }

    /// A rejection from a validation error (`invalid_params` and the like).
    init(_ e: KontorError) {
        reason = e.message
        field = e.data["field"]?.description
    }

    init(reason: String, field: String?, contactID: Int64? = nil, companyID: Int64? = nil, existingIDs: [Int64]? = nil) {
        self.reason = reason; self.field = field; self.contactID = contactID; self.companyID = companyID; self.existingIDs = existingIDs
    }
}

/// One `contact.import` row, cleaned and normalised before the database is touched: the
/// same rules as `contact.create` / `company.create` (`RecordInput`), plus what a
/// spreadsheet needs (repeated numbers dropped, Telegram links, Viber phone numbers).
///
/// A row has up to two parts: a **company** (`company_name` / `edrpou`) and a **contact**
/// (a person's name, or a phone, e-mail or messenger account that can identify someone).
/// A *company row* (`kind: company`, or a row with nothing but a company) is about the
/// company: its contact part, if any, is the company's own line (a card without a
/// person's name, linked to the company). Any other row is about a person, and its
/// company is the one the person is linked to.
struct ImportRowInput: Sendable {
    var line: Int
    var isCompanyRow: Bool
    var fullName: String?
    var position: String?
    var phones: [PhoneEntry] = []
    /// The row field of each phone (`phones[2]`, `viber`), parallel to `phones`.
    var phoneFields: [String] = []
    var emails: [EmailEntry] = []
    var emailFields: [String] = []
    var messengers: [ContactMessenger] = []
    var messengerFields: [String] = []
    var group: ContactGroup?
    var companyName: String?
    var edrpou: String?
    var address: String?
    var website: String?
    var notes: String?
    var ownerLogin: String?
    /// Remarks about the row that hold whatever happens to it (e.g. a number dropped).
    var remarks: [String] = []

    /// The phones, e-mails and messenger accounts as keys, with their row fields.
    var keys: [(key: ContactKey, field: String)] {
        zip(phones, phoneFields).map { (ContactKey.phone($0), $1) } + zip(emails, emailFields).map { (ContactKey.email($0), $1) }
            + zip(messengers, messengerFields).map { (ContactKey.messenger($0), $1) }
    }

    /// Whether any phone, e-mail or account can find a card (see `ContactKey.isUsable`).
    var hasUsableKey: Bool { keys.contains { $0.key.isUsable } }

    /// Whether the row describes a card at all (a person's name, or something that can
    /// identify one).
    var hasContactPart: Bool { fullName != nil || hasUsableKey }

    /// What a person row says that a contact card has no field for (notes, address,
    /// website): written as one comment on the card.
    var personComment: String? {
        var lines: [String] = []
        if let n = notes { lines.append(n) }
        if let a = address { lines.append("Address: \(a)") }
        if let w = website { lines.append("Website: \(w)") }
        return lines.isEmpty ? nil : lines.joined(separator: "\n")
    }

    /// The remark for a stored phone that could not be read, or is not a valid number.
    func phoneRemark(_ i: Int) -> String? {
        let p = phones[i]
        guard let e164 = p.normalized.e164 else {
            return "\(phoneFields[i]) “\(p.written)” could not be read as a phone number; kept as written"
        }
        if !p.normalized.isValid { return "\(phoneFields[i]) “\(p.written)” (\(e164)) is not a valid number; kept as written" }
        return nil
    }

    // MARK: - Preparing

    /// Cleans one row; a row that breaks a rule is refused with the reason and field.
    static func prepare(_ row: IngestMethods.ImportRow, normalizer: PhoneNormalizer) -> Result<ImportRowInput, RowRejection> {
        do {
            return .success(try make(row, normalizer: normalizer))
        } catch let r as RowRejection {
            return .failure(r)
        } catch let e as KontorError {
            return .failure(RowRejection(e))
        } catch {
            return .failure(RowRejection(reason: "\(error)", field: nil))
        }
    }

    static func make(_ row: IngestMethods.ImportRow, normalizer: PhoneNormalizer) throws -> ImportRowInput {
        var fullName = try RecordInput.text(oneLine(row.fullName), field: "full_name", max: 200)
        var companyName = try RecordInput.text(oneLine(row.companyName), field: "company_name", max: 300)
        if row.kind == .company, companyName == nil {
            // A company row that wrote the company in the name column.
            companyName = fullName
            fullName = nil
        }
        var r = ImportRowInput(line: row.line, isCompanyRow: false, fullName: fullName)
        r.companyName = companyName
        r.position = try RecordInput.text(oneLine(row.position), field: "position", max: 200)
        r.edrpou = try RecordInput.edrpou(row.edrpou, field: "edrpou")
        r.address = try RecordInput.text(oneLine(row.address, joiner: ", "), field: "address", max: 1000)
        r.website = try RecordInput.text(oneLine(row.website), field: "website", max: 300)
        r.notes = try RecordInput.text(row.notes, field: "notes", max: 8_500, multiline: true)
        r.ownerLogin = try RecordInput.text(row.ownerLogin, field: "owner_login", max: 64)
        if let g = try RecordInput.text(row.group, field: "group", max: 20) {
            guard let group = ContactGroup(rawValue: g.lowercased()) else {
                throw RowRejection(reason: "group is one of lead, contact, client (not “\(g)”)", field: "group")
            }
            r.group = group
        }

        // Phones: repeats of one line dropped (Google exports repeat numbers across columns).
        var phoneInputs: [(number: String, label: String?)] = []
        var seenPhones: Set<String> = []
        func addPhone(_ number: String, label: String?, field: String) {
            guard !number.trimmingCharacters(in: .whitespacesAndNewlines.union(.controlCharacters)).isEmpty else { return }
            let n = normalizer.normalize(number)
            let key = n.e164.map { "e164:" + $0 + ";" + (n.extensionNumber ?? "") }
                ?? (n.searchKey.isEmpty ? "written:" + number.trimmingCharacters(in: .whitespaces) : "digits:" + n.searchKey)
            guard seenPhones.insert(key).inserted else { return }
            phoneInputs.append((number, label))
            r.phoneFields.append(field)
        }
        for (i, p) in (row.phones ?? []).enumerated() { addPhone(p.number, label: p.label, field: "phones[\(i)]") }

        // Messenger accounts. A Viber "id" in a spreadsheet is the person's phone number.
        var accounts: [ContactMessenger] = []
        if let t = try RecordInput.text(row.telegram, field: "telegram", max: 200) {
            var v = t
            for prefix in ["https://t.me/", "http://t.me/", "t.me/", "https://telegram.me/", "tg://resolve?domain="]
            where v.lowercased().hasPrefix(prefix) {
                v = String(v.dropFirst(prefix.count))
            }
            let isID = !v.isEmpty && v.unicodeScalars.allSatisfy { $0.isASCII && ("0"..."9").contains($0) }
            accounts.append(ContactMessenger(kind: .telegram, externalID: isID ? v : nil, handle: isID ? nil : v))
            r.messengerFields.append("telegram")
        }
        if let v = try RecordInput.text(row.viber, field: "viber", max: 200) {
            let n = normalizer.normalize(v)
            if n.e164 != nil, n.isValid {
                addPhone(v, label: "viber", field: "viber")
            } else {
                accounts.append(ContactMessenger(kind: .viber, externalID: v, handle: nil))
                r.messengerFields.append("viber")
            }
        }
        r.phones = try remapping("phones", r.phoneFields) { try RecordInput.phones(phoneInputs, normalizer: normalizer) }
        r.messengers = try remapping("messengers", r.messengerFields) { try RecordInput.messengers(accounts) }

        // E-mails: an address that is not one refuses the row (as contact.create does).
        var emailInputs: [(address: String, label: String?)] = []
        var seenEmails: Set<String> = []
        for (i, e) in (row.emails ?? []).enumerated() {
            guard !e.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { continue }
            switch EmailAddress.normalize(e) {
            case .invalid(let why):
                throw RowRejection(reason: "“\(e)” is not an e-mail address: \(explain(why))", field: "emails[\(i)]")
            case .normalized(let a):
                guard seenEmails.insert(a.normalized).inserted else { continue }
                emailInputs.append((e, nil))
                r.emailFields.append("emails[\(i)]")
            }
        }
        r.emails = try remapping("emails", r.emailFields) { try RecordInput.emails(emailInputs) }

        // What the row is about.
        r.isCompanyRow = row.kind == .company || (!r.hasContactPart && (r.companyName != nil || r.edrpou != nil))
        let junk = r.phones.indices.filter { !ContactKey.phone(r.phones[$0]).isUsable }
        if !r.hasContactPart {
            if r.companyName == nil, r.edrpou == nil {
                if let i = junk.first {
                    throw RowRejection(reason: "nothing to import: \(r.phoneFields[i]) “\(r.phones[i].written)” is not a phone number, and the row has no name, company, e-mail or messenger account",
                                       field: r.phoneFields[i])
                }
                throw RowRejection(reason: "nothing to import: the row has no name, company, EDRPOU code, phone number, e-mail or messenger account",
                                   field: "full_name")
            }
            for i in junk { r.remarks.append("\(r.phoneFields[i]) “\(r.phones[i].written)” is not a phone number; not imported") }
            r.phones = []
            r.phoneFields = []
        }
        if row.kind == .company, r.companyName == nil, r.edrpou == nil {
            throw RowRejection(reason: "a company row needs the company's name or EDRPOU code", field: "company_name")
        }
        return r
    }

    /// Runs a `RecordInput` list check and names the row's own field in its error
    /// (`phones[1].number` of the cleaned list → the row's `phones[3]` or `viber`).
    static func remapping<T>(_ list: String, _ fields: [String], _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let e as KontorError {
            var r = RowRejection(e)
            if let f = r.field, f.hasPrefix(list + "["), let close = f.firstIndex(of: "]"),
               let k = Int(f[f.index(f.startIndex, offsetBy: list.count + 1)..<close]), fields.indices.contains(k) {
                r.field = fields[k]
            }
            throw r
        }
    }

    /// Line breaks and tabs inside a one-line field (a spreadsheet cell with Alt+Enter)
    /// become `joiner`; the rules of `RecordInput.text` apply after that.
    static func oneLine(_ s: String?, joiner: String = " ") -> String? {
        guard let s else { return nil }
        let parts = s.components(separatedBy: CharacterSet.newlines.union(.controlCharacters))
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return parts.joined(separator: joiner)
    }

    /// Why an address is not one, for people.
    static func explain(_ e: EmailAddressError) -> String {
        switch e {
        case .empty: return "it is empty"
        case .containsWhitespace: return "it contains spaces or control characters"
        case .missingAt: return "there is no @"
        case .multipleAt: return "there is more than one @"
        case .emptyLocalPart: return "nothing before the @"
        case .emptyDomain: return "nothing after the @"
        case .localPartTooLong: return "the part before the @ is longer than 64 characters"
        case .domainTooLong: return "the domain is too long"
        case .invalidLocalPart: return "the part before the @ has characters an address cannot have"
        case .invalidDomain: return "the domain is not a domain name"
        case .domainWithoutDot: return "the domain has no dot, so mail cannot reach it"
        }
    }
}
