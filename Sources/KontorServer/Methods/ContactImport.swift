import Foundation
import KontorDomain
import KontorProtocol
import KontorStore
import Logging
import Postgres

/// The rows of one `contact.import` call, written in the caller's transaction: each row
/// under a savepoint of its own, so that a row that fails leaves nothing behind and the
/// rest of the file goes on. Matching, filling and visibility rules: `docs/BRIDGE.md`
/// ("Importing contacts: the rules") and `docs/PROTOCOL.md` (`contact.import`).
///
/// Records are written only through the records repositories (`ContactRepository`,
/// `CompanyRepository`), so every create and update is audited with method
/// `contact.import` exactly as the single-record methods are.
struct ContactImport {
    /// What the whole call shares.
    struct Settings: Sendable {
        var principal: Principal
        /// What the caller may see and change: a user's department rule; everything for
        /// admins and robots (the bridge must see every card to match it).
        var visibility: Visibility
        var mode: IngestMethods.ImportMode
        var source: ContactSource
        var stamp: ChangeStamp
        var normalizer: PhoneNormalizer
        var requestID: String
    }

    /// Where one row ended, with the records it created (kept only when the row's
    /// savepoint is released).
    struct RowOutcome {
        var result: IngestMethods.ImportRowResult
        var createdContact: Int64?
        var createdCompany: Int64?
    }

    /// A company the row names, as far as this caller may use it.
    enum CompanyLookup {
        case none
        case found(CompanyHolder, byEDRPOU: Bool)
        /// It exists but may not be used: invisible to the caller, deleted, or ambiguous.
        case unusable(RowRejection)
    }

    /// The card the row's contact part names.
    enum ContactLookup {
        case none
        case existing(Int64)
    }

    let conn: PostgresConnection
    let settings: Settings
    let logger: Logger
    /// Records created by earlier rows of this call → their line (for reports, and to
    /// hide their ids in a dry run).
    private(set) var createdContacts: [Int64: Int] = [:]
    private(set) var createdCompanies: [Int64: Int] = [:]
    /// Owner logins already resolved in this call.
    private var owners: [String: Result<Int64, RowRejection>] = [:]

    init(conn: PostgresConnection, settings: Settings, logger: Logger) {
        self.conn = conn; self.settings = settings; self.logger = logger
    }

    var contacts: ContactRepository { ContactRepository(conn) }
    var companies: CompanyRepository { CompanyRepository(conn) }
    var updating: Bool { settings.mode == .updateExisting }

    // MARK: - One row

    /// Imports one prepared row. Never throws for a problem of the row itself (that is a
    /// `rejected` result); throws what must end the whole call: the database gone, a
    /// deadlock or serialization failure (the call's transaction is retried whole).
    mutating func run(_ input: Result<ImportRowInput, RowRejection>, line: Int) throws -> IngestMethods.ImportRowResult {
        let row: ImportRowInput
        switch input {
        case .failure(let r): return r.result(line: line)
        case .success(let r): row = r
        }
        var attempt = 0
        while true {
            do {
                let outcome = try conn.savepoint("contact_import_row") { try self.importRow(row) }
                if let id = outcome.createdContact { createdContacts[id] = row.line }
                if let id = outcome.createdCompany { createdCompanies[id] = row.line }
                return outcome.result
            } catch let r as RowRejection {
                return r.result(line: row.line)
            } catch let e as KontorError where e.kind == .duplicate && attempt == 0 {
                // Another transaction committed one of the row's phones, e-mails or
                // EDRPOU codes between our look and our write: look again, it is found now.
                attempt += 1
            } catch let e as KontorError where e.kind == .unavailable {
                throw e
            } catch let e as KontorError {
                return RowRejection(e).result(line: row.line)
            } catch let e as PostgresError {
                guard case .server(let s) = e, !conn.isBroken, !s.sqlState.isConnectionLoss,
                      s.sqlState != .deadlockDetected, s.sqlState != .serializationFailure else { throw e }
                logger.error("contact.import: line \(row.line) could not be stored: \(e)", metadata: ["request": .string(settings.requestID)])
                return RowRejection(reason: "could not be stored (internal error; reference \(settings.requestID), line \(row.line))", field: nil)
                    .result(line: row.line)
            }
        }
    }

    /// The row's work, under its savepoint: look everything up first, then write.
    mutating func importRow(_ row: ImportRowInput) throws -> RowOutcome {
        var remarks = row.remarks
        let explicitOwner = try owner(row)
        let newOwner = explicitOwner ?? Ownership.defaultOwner(for: settings.principal)
        let company = try lookupCompany(row)
        let match = try lookupContact(row, company: company)

        if row.isCompanyRow {
            return try importCompanyRow(row, company: company, match: match, explicitOwner: explicitOwner, newOwner: newOwner, remarks: &remarks)
        }
        return try importPersonRow(row, company: company, match: match, explicitOwner: explicitOwner, newOwner: newOwner, remarks: &remarks)
    }

    /// A person: create the card (and its company when missing), or, for a card that
    /// exists, leave it (`create_only`) or fill it (`update_existing`).
    mutating func importPersonRow(_ row: ImportRowInput, company: CompanyLookup, match: ContactLookup, explicitOwner: Int64?,
                                  newOwner: Int64?, remarks: inout [String]) throws -> RowOutcome {
        switch match {
        case .none:
            var createdCompany: Int64?
            let link = try companyToLink(row, company, owner: newOwner, remarks: &remarks, created: &createdCompany)
            let id = try createContact(row, organization: row.companyName, companyID: link, owner: newOwner, remarks: &remarks)
            if let body = row.personComment { _ = try contacts.comment(contactID: id, body: body, visibility: settings.visibility, stamp: settings.stamp) }
            return outcome(row, .created, contactID: id, companyID: link, remarks: remarks, createdContact: id, createdCompany: createdCompany)
        case .existing(let id):
            remarks.insert(contentsOf: sameAsEarlierRow(id), at: 0)
            guard let card = try contacts.get(id: id, visibility: .everything) else { throw KontorError.notFound("contact \(id)") }
            guard updating else {
                return outcome(row, .unchanged, contactID: id, companyID: card.companyID, remarks: remarks)
            }
            var changes = try fill(card, row, organization: row.companyName, explicitOwner: explicitOwner, remarks: &remarks)
            var createdCompany: Int64?
            var linked = card.companyID
            if card.companyID == nil, row.companyName != nil || row.edrpou != nil {
                linked = try companyToLink(row, company, owner: card.ownerID ?? newOwner, remarks: &remarks, created: &createdCompany)
                if let linked { changes.companyID = .some(linked) }
            } else if let current = card.companyID, case .found(let h, _) = company, h.holder.id != current {
                remarks.append("company differs: the card is linked to company \(current), the file names “\(h.name)” (company \(h.holder.id)); kept the card's")
            }
            var changed = try apply(changes, to: id)
            if let body = row.personComment, try !contacts.hasComment(contactID: id, body: body) {
                _ = try contacts.comment(contactID: id, body: body, visibility: settings.visibility, stamp: settings.stamp)
                changed = true
            }
            return outcome(row, changed ? .updated : .unchanged, contactID: id, companyID: linked, remarks: remarks, createdCompany: createdCompany)
        }
    }

    /// A company: create it (with its counterparty and the card of its own phone lines),
    /// or, when it exists, leave it (`create_only`) or fill it (`update_existing`).
    mutating func importCompanyRow(_ row: ImportRowInput, company: CompanyLookup, match: ContactLookup, explicitOwner: Int64?,
                                   newOwner: Int64?, remarks: inout [String]) throws -> RowOutcome {
        switch company {
        case .unusable(let r):
            throw r
        case .none:
            guard let name = row.companyName else {
                throw RowRejection(reason: "no company has the EDRPOU code \(row.edrpou ?? ""); a company row needs the company's name to create it",
                                   field: "company_name")
            }
            let companyID = try createCompany(row, name: name, owner: newOwner, withDetails: true)
            var createdContact: Int64?
            var contactID: Int64?
            if row.hasContactPart {
                switch match {
                case .none:
                    contactID = try createContact(row, organization: name, companyID: companyID, owner: newOwner, remarks: &remarks)
                    createdContact = contactID
                case .existing(let id):
                    // The company's number is on a card already: link that card when it
                    // has no company (update mode), else just name it.
                    remarks.insert(contentsOf: sameAsEarlierRow(id), at: 0)
                    contactID = id
                    if updating, let card = try contacts.get(id: id, visibility: .everything) {
                        var changes = try fill(card, row, organization: name, explicitOwner: explicitOwner, remarks: &remarks)
                        link(card, to: companyID, &changes, &remarks)
                        _ = try apply(changes, to: id)
                    }
                }
            }
            return outcome(row, .created, contactID: contactID, companyID: companyID, remarks: remarks, createdContact: createdContact,
                           createdCompany: companyID)
        case .found(let h, let byEDRPOU):
            let companyID = h.holder.id
            guard updating else {
                var contactID: Int64?
                if case .existing(let id) = match { contactID = id }
                return outcome(row, .unchanged, contactID: contactID, companyID: companyID, remarks: sameAsEarlierCompany(companyID) + remarks)
            }
            remarks.insert(contentsOf: sameAsEarlierCompany(companyID), at: 0)
            var changed = try fillCompany(h, row, byEDRPOU: byEDRPOU, explicitOwner: explicitOwner, remarks: &remarks)
            var contactID: Int64?
            var createdContact: Int64?
            if row.hasContactPart {
                switch match {
                case .none:
                    contactID = try createContact(row, organization: h.name, companyID: companyID, owner: h.holder.ownerID ?? newOwner,
                                                  remarks: &remarks)
                    createdContact = contactID
                    changed = true
                case .existing(let id):
                    contactID = id
                    if let card = try contacts.get(id: id, visibility: .everything) {
                        var changes = try fill(card, row, organization: h.name, explicitOwner: explicitOwner, remarks: &remarks)
                        link(card, to: companyID, &changes, &remarks)
                        changed = try apply(changes, to: id) || changed
                    }
                }
            }
            return outcome(row, changed ? .updated : .unchanged, contactID: contactID, companyID: companyID, remarks: remarks,
                           createdContact: createdContact)
        }
    }

    func outcome(_ row: ImportRowInput, _ action: IngestMethods.ImportAction, contactID: Int64?, companyID: Int64?, remarks: [String],
                 createdContact: Int64? = nil, createdCompany: Int64? = nil) -> RowOutcome {
        RowOutcome(result: IngestMethods.ImportRowResult(line: row.line, action: action, contactID: contactID, companyID: companyID,
                                                         reason: remarks.isEmpty ? nil : remarks.joined(separator: "; ")),
                   createdContact: createdContact, createdCompany: createdCompany)
    }

    // MARK: - Looking up

    /// The owner the row names (`owner_login`), checked for this caller; nil when none.
    mutating func owner(_ row: ImportRowInput) throws -> Int64? {
        guard let login = row.ownerLogin else { return nil }
        let key = login.lowercased()
        if let known = owners[key] { return try known.get() }
        let resolved: Result<Int64, RowRejection>
        if let user = try UserRepository(conn).get(login: login) {
            do {
                try Ownership.checkImportOwner(user, by: settings.principal, field: "owner_login")
                resolved = .success(user.id)
            } catch let e as KontorError {
                resolved = .failure(RowRejection(reason: "owner “\(login)”: \(e.message)", field: "owner_login"))
            }
        } else {
            resolved = .failure(RowRejection(reason: "no user has the login “\(login)”", field: "owner_login"))
        }
        owners[key] = resolved
        return try resolved.get()
    }

    /// The company the row names: by EDRPOU code, else by name (`records_name_key`).
    /// Locks the code and the name first, so that two imports naming one new company
    /// create it once.
    func lookupCompany(_ row: ImportRowInput) throws -> CompanyLookup {
        guard row.companyName != nil || row.edrpou != nil else { return .none }
        let locks = RecordLocks(conn)
        if let code = row.edrpou { try locks.lock("company.edrpou", code) }
        if let name = row.companyName { try locks.lock("company.name", name: name) }
        if let code = row.edrpou, let h = try companies.holder(edrpou: code, visibility: settings.visibility) {
            if !h.holder.visible {
                return .unusable(exists(owner: h.holder, "the EDRPOU code \(code) belongs to company \(h.holder.id)", field: "edrpou",
                                        companyID: h.holder.id))
            }
            if h.deleted {
                return .unusable(RowRejection(reason: "the EDRPOU code \(code) belongs to company \(h.holder.id), which is deleted; restore it first",
                                              field: "edrpou", companyID: h.holder.id))
            }
            return .found(h, byEDRPOU: true)
        }
        guard let name = row.companyName else { return .none }
        let named = try companies.holders(named: name, visibility: settings.visibility)
        let visible = named.filter(\.holder.visible)
        if visible.count == 1 { return .found(visible[0], byEDRPOU: false) }
        if visible.count > 1 {
            let ids = visible.map { describeCompany($0.holder.id) }.joined(separator: ", ")
            return .unusable(RowRejection(reason: "several companies are named “\(name)”: \(ids); give the EDRPOU code to choose",
                                          field: "company_name"))
        }
        if let h = named.first {
            return .unusable(exists(owner: h.holder, "company “\(h.name)” (\(h.holder.id))", field: "company_name", companyID: h.holder.id))
        }
        return .none
    }

    /// The card the row's phones, e-mails and messenger accounts name. A row naming two
    /// different cards, or a card the caller may not see, is refused. A row with none of
    /// those that can identify anyone is matched by the person's name at the same
    /// company, among cards the caller sees.
    func lookupContact(_ row: ImportRowInput, company: CompanyLookup) throws -> ContactLookup {
        guard row.hasContactPart else { return .none }
        let keys = row.keys.filter { $0.key.isUsable }
        let locks = RecordLocks(conn)
        // The database keeps parsed numbers, e-mails and accounts unique; numbers that
        // could not be read and bare names are kept unique here, under a lock.
        for digits in Set(keys.compactMap { k -> String? in
            if case .phone(let p) = k.key, !k.key.isUnique { return p.normalized.searchKey }
            return nil
        }).sorted() {
            try locks.lock("contact.digits", digits)
        }
        let matches = try contacts.holders(of: keys, visibility: settings.visibility)
        var ids: [Int64] = []
        for m in matches where !ids.contains(m.holder.id) { ids.append(m.holder.id) }
        if ids.count > 1 {
            let firsts = ids.compactMap { id in matches.first { $0.holder.id == id } }
            let parts = firsts.map { "\($0.key.description) (\($0.field)) belongs to \(describeContact($0.holder.id))" }
            throw RowRejection(reason: "the row names \(ids.count) different contacts: " + parts.joined(separator: ", ") + "; merge them or fix the row",
                               field: firsts[1].field, existingIDs: ids)
        }
        if let m = matches.first {
            if !m.holder.visible {
                throw exists(owner: m.holder, "\(m.key.description) belongs to contact \(m.holder.id)", field: m.field, contactID: m.holder.id)
            }
            return .existing(m.holder.id)
        }
        guard keys.isEmpty, let name = row.fullName else { return .none }
        var companyID: Int64?
        if case .found(let h, _) = company { companyID = h.holder.id }
        try locks.lock("contact.name", name: name)
        let same = try contacts.sameName(name, companyID: companyID, organization: companyID == nil ? row.companyName : nil,
                                         visibility: settings.visibility)
        if same.count > 1 {
            throw RowRejection(reason: "several contacts are named “\(name)” here: \(same.map(describeContact).joined(separator: ", ")); add a phone or e-mail to choose",
                               field: "full_name", existingIDs: same)
        }
        return same.first.map(ContactLookup.existing) ?? .none
    }

    /// "exists, owned by <name>": what the caller may know about a record they cannot
    /// see (the same facts a `duplicate` error gives).
    func exists(owner h: RecordHolder, _ what: String, field: String, contactID: Int64? = nil, companyID: Int64? = nil) -> RowRejection {
        let owner = h.ownerName.map { "owned by \($0)" } ?? "without an owner"
        return RowRejection(reason: "exists, \(owner): \(what), which you cannot see; ask its owner", field: field, contactID: contactID,
                            companyID: companyID, existingIDs: contactID.map { [$0] })
    }

    /// `contact 12`, or `the contact from line 4` for one this call created (its id means
    /// nothing in a dry run).
    func describeContact(_ id: Int64) -> String {
        createdContacts[id].map { "the contact from line \($0)" } ?? "contact \(id)"
    }

    func describeCompany(_ id: Int64) -> String {
        createdCompanies[id].map { "the company from line \($0)" } ?? "company \(id)"
    }

    func sameAsEarlierRow(_ id: Int64) -> [String] {
        createdContacts[id].map { ["the same contact as line \($0)"] } ?? []
    }

    func sameAsEarlierCompany(_ id: Int64) -> [String] {
        createdCompanies[id].map { ["the same company as line \($0)"] } ?? []
    }

    // MARK: - Writing

    /// The company a person's card is linked to: the one found, else a new one named as
    /// the row says (with its counterparty); none when the company cannot be used (then
    /// the card keeps the name as its organisation and `remarks` say why).
    func companyToLink(_ row: ImportRowInput, _ company: CompanyLookup, owner: Int64?, remarks: inout [String],
                       created: inout Int64?) throws -> Int64? {
        switch company {
        case .found(let h, _):
            return h.holder.id
        case .unusable(let r):
            remarks.append("not linked to a company: \(r.reason)")
            return nil
        case .none:
            guard let name = row.companyName else {
                if let code = row.edrpou { remarks.append("no company has the EDRPOU code \(code); not linked (give the company's name to create it)") }
                return nil
            }
            let id = try createCompany(row, name: name, owner: owner, withDetails: false)
            created = id
            return id
        }
    }

    /// Creates a company (audited), with a counterparty when the row gives an EDRPOU
    /// code. `withDetails`: the row's website, address and notes are the company's (a
    /// company row), not a person's.
    func createCompany(_ row: ImportRowInput, name: String, owner: Int64?, withDetails: Bool) throws -> Int64 {
        let draft = CompanyDraft(name: name, website: withDetails ? row.website : nil, address: withDetails ? row.address : nil,
                                 notes: withDetails ? row.notes : nil, ownerID: owner)
        let id = try companies.create(draft, stamp: settings.stamp)
        if let code = row.edrpou {
            _ = try companies.addCounterparty(companyID: id, CounterpartyDraft(legalName: name, edrpou: code, vatNumber: nil, address: nil),
                                              visibility: .everything, stamp: settings.stamp)
        }
        return id
    }

    /// Creates the row's card (audited); remarks name its numbers that were kept unread.
    func createContact(_ row: ImportRowInput, organization: String?, companyID: Int64?, owner: Int64?,
                       remarks: inout [String]) throws -> Int64 {
        let draft = ContactDraft(fullName: row.fullName, position: row.position, organization: organization, companyID: companyID,
                                 group: row.group ?? .lead, source: settings.source, ownerID: owner, phones: row.phones,
                                 emails: row.emails, messengers: row.messengers)
        let id = try contacts.create(draft, stamp: settings.stamp)
        remarks += row.phones.indices.compactMap(row.phoneRemark)
        return id
    }

    /// What `update_existing` changes on a card: empty fields filled, new phones,
    /// e-mails and accounts added after the card's own. Nothing is removed, and a value
    /// the card has is never replaced: a different value is named in `remarks`.
    func fill(_ card: Contact, _ row: ImportRowInput, organization: String?, explicitOwner: Int64?,
              remarks: inout [String]) throws -> ContactChanges {
        var c = ContactChanges()
        c.fullName = fillText(card.fullName, row.fullName, "full_name", &remarks)
        c.position = fillText(card.position, row.position, "position", &remarks)
        if card.organization == nil, let o = organization { c.organization = .some(o) }
        if let g = row.group, g != card.group {
            remarks.append("group differs: the card is “\(card.group.rawValue)”, the file says “\(g.rawValue)”; kept the card's")
        }
        if let o = explicitOwner {
            if card.ownerID == nil {
                c.ownerID = .some(o)
            } else if card.ownerID != o {
                remarks.append("owner differs: the card is owned by \(card.ownerName ?? "user \(card.ownerID ?? 0)"); kept")
            }
        }
        let normalizer = settings.normalizer
        func phoneKey(_ n: NormalizedPhone, _ written: String) -> String {
            n.e164.map { "e164:" + $0 + ";" + (n.extensionNumber ?? "") } ?? (n.searchKey.isEmpty ? "written:" + written : "digits:" + n.searchKey)
        }
        let have = Set(card.phones.map { phoneKey(normalizer.normalize($0.number), $0.number) })
        let newPhones = row.phones.indices.filter { !have.contains(phoneKey(row.phones[$0].normalized, row.phones[$0].written)) }
        if !newPhones.isEmpty {
            let all = card.phones.map { (number: $0.number, label: $0.label) } + newPhones.map { (number: row.phones[$0].written, label: row.phones[$0].label) }
            c.phones = try RecordInput.phones(all, normalizer: normalizer)
            remarks += newPhones.compactMap(row.phoneRemark)
        }
        let haveEmails = Set(card.emails.compactMap { EmailAddress($0.address)?.normalized })
        let newEmails = row.emails.filter { !haveEmails.contains($0.address.normalized) }
        if !newEmails.isEmpty {
            c.emails = try RecordInput.emails(card.emails.map { (address: $0.address, label: $0.label) } + newEmails.map { (address: $0.address.address, label: $0.label) })
        }
        let newAccounts = row.messengers.filter { m in
            !card.messengers.contains { $0.kind == m.kind && (($0.externalID != nil && $0.externalID == m.externalID) || ($0.handle != nil && $0.handle == m.handle)) }
        }
        if !newAccounts.isEmpty { c.messengers = try RecordInput.messengers(card.messengers + newAccounts) }
        return c
    }

    /// Links the card holding a company row's phones to the company when it has no
    /// company; a card of another company keeps its link (reported).
    func link(_ card: Contact, to companyID: Int64, _ changes: inout ContactChanges, _ remarks: inout [String]) {
        if card.companyID == nil {
            changes.companyID = .some(companyID)
        } else if let other = card.companyID, other != companyID {
            remarks.append("\(describeContact(card.id)) holds the company's number but belongs to \(describeCompany(other)); kept")
        }
    }

    /// Fills an empty text field; a different value is only reported.
    func fillText(_ current: String?, _ new: String?, _ field: String, _ remarks: inout [String]) -> String?? {
        guard let new else { return nil }
        guard let current else { return .some(new) }
        if Self.sameText(current, new) { return nil }
        remarks.append("\(field) differs: the card has “\(current)”, the file “\(new)”; kept the card's")
        return nil
    }

    /// Equal ignoring case and runs of whitespace.
    static func sameText(_ a: String, _ b: String) -> Bool {
        func key(_ s: String) -> String { s.lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ") }
        return key(a) == key(b)
    }

    /// Applies `changes` when there are any; true when something changed.
    func apply(_ changes: ContactChanges, to id: Int64) throws -> Bool {
        let empty = changes.fullName == nil && changes.position == nil && changes.organization == nil && changes.companyID == nil
            && changes.group == nil && changes.source == nil && changes.ownerID == nil && changes.phones == nil && changes.emails == nil
            && changes.messengers == nil
        if empty { return false }
        try contacts.update(id: id, version: nil, changes: changes, visibility: settings.visibility, stamp: settings.stamp)
        return true
    }

    /// `update_existing` on a company: empty website, address, notes and owner filled; a
    /// counterparty added for a new EDRPOU code; differences reported. True when
    /// something changed.
    func fillCompany(_ h: CompanyHolder, _ row: ImportRowInput, byEDRPOU: Bool, explicitOwner: Int64?, remarks: inout [String]) throws -> Bool {
        guard let card = try companies.get(id: h.holder.id, visibility: .everything) else { throw KontorError.notFound("company \(h.holder.id)") }
        var c = CompanyChanges()
        if byEDRPOU, let name = row.companyName, !Self.sameText(name, card.name) {
            remarks.append("company_name differs: the company with EDRPOU \(row.edrpou ?? "") is “\(card.name)”, the file says “\(name)”; kept")
        }
        c.website = fillText(card.website, row.website, "website", &remarks)
        c.address = fillText(card.address, row.address, "address", &remarks)
        c.notes = fillText(card.notes, row.notes, "notes", &remarks)
        if let o = explicitOwner {
            if card.ownerID == nil {
                c.ownerID = .some(o)
            } else if card.ownerID != o {
                remarks.append("owner differs: the company is owned by \(card.ownerName ?? "user \(card.ownerID ?? 0)"); kept")
            }
        }
        var changed = false
        if c.website != nil || c.address != nil || c.notes != nil || c.ownerID != nil {
            try companies.update(id: card.id, version: nil, changes: c, visibility: settings.visibility, stamp: settings.stamp)
            changed = true
        }
        if let code = row.edrpou, !byEDRPOU {
            // Found by name, and no counterparty anywhere has this code (looked up first).
            _ = try companies.addCounterparty(companyID: card.id,
                                              CounterpartyDraft(legalName: row.companyName ?? card.name, edrpou: code, vatNumber: nil, address: nil),
                                              visibility: settings.visibility, stamp: settings.stamp)
            changed = true
        }
        return changed
    }
}
