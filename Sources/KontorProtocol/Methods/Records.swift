import Foundation
import KontorDomain

/// Contacts, companies, counterparties, comments and the audit log (issue 3).
/// docs/PROTOCOL.md ("Contacts", "Companies and counterparties", "Audit") has the shapes.
public enum RecordMethods {
    public static let catalogue: [MethodInfo] = [
        MethodInfo("contact.create", "Create a contact card; phones are normalised, duplicates refused.",
                   params: ["full_name: string?", "position: string?", "organization: string?", "company_id: int?", "group: lead|contact|client?",
                            "source: string?", "owner_id: int?", "phones: [phone]?", "emails: [email]?", "messengers: [messenger]?"]),
        MethodInfo("contact.get", "A contact card with its comments.", params: ["id: int"]),
        MethodInfo("contact.update", "Change a contact card (send the version you read).",
                   params: ["id: int", "version: int", "full_name: string?", "position: string?", "organization: string?", "company_id: int?",
                            "group: string?", "source: string?", "owner_id: int?", "phones: [phone]?", "emails: [email]?", "messengers: [messenger]?"]),
        MethodInfo("contact.list", "Contacts, last changed first, with filters and a cursor.",
                   params: ["source: string|[string]?", "group: string|[string]?", "owner_id: int?", "unowned: bool?", "company_id: int?",
                            "created_from: time?", "created_to: time?", "changed_from: time?", "changed_to: time?", "deleted: bool?",
                            "cursor: string?", "limit: int?"]),
        MethodInfo("contact.find", "Find contacts by any written form of a phone, an e-mail, a messenger handle or a name fragment.",
                   params: ["query: string", "limit: int?"]),
        MethodInfo("contact.lookup", "Robots: who is behind a phone, e-mail or messenger account (routing data only).",
                   params: ["phone: string?", "email: string?", "messenger: messenger?"]),
        MethodInfo("contact.merge", "Merge one contact into another: everything moves to the survivor.",
                   params: ["survivor_id: int", "merged_id: int", "survivor_version: int?", "merged_version: int?"]),
        MethodInfo("contact.delete", "Delete a contact (restorable).", params: ["id: int", "version: int?"]),
        MethodInfo("contact.restore", "Restore a deleted contact.", params: ["id: int", "version: int?"]),
        MethodInfo("contact.comment", "Comment on a contact; the comment also shows on its company.", params: ["id: int", "body: string"]),
        MethodInfo("contact.to_company", "Make a company from a contact card and link the contact to it as a client.",
                   params: ["id: int", "version: int", "name: string?"]),
        MethodInfo("company.create", "Create a company card.",
                   params: ["name: string", "website: string?", "address: string?", "notes: string?", "owner_id: int?"]),
        MethodInfo("company.get", "The company card: counterparties, contacts, comments, last change and last call.", params: ["id: int"]),
        MethodInfo("company.update", "Change a company card (send the version you read).",
                   params: ["id: int", "version: int", "name: string?", "website: string?", "address: string?", "notes: string?", "owner_id: int?"]),
        MethodInfo("company.list", "Companies, last changed first, with filters and a cursor.",
                   params: ["query: string?", "owner_id: int?", "unowned: bool?", "created_from: time?", "created_to: time?",
                            "changed_from: time?", "changed_to: time?", "deleted: bool?", "cursor: string?", "limit: int?"]),
        MethodInfo("company.delete", "Delete a company (restorable).", params: ["id: int", "version: int?"]),
        MethodInfo("company.restore", "Restore a deleted company.", params: ["id: int", "version: int?"]),
        MethodInfo("company.comment", "Comment on a company.", params: ["id: int", "body: string"]),
        MethodInfo("counterparty.add", "Add a legal entity to a company; the EDRPOU code is unique.",
                   params: ["company_id: int", "legal_name: string", "edrpou: string?", "vat_number: string?", "address: string?"]),
        MethodInfo("counterparty.update", "Change a counterparty (send the version you read).",
                   params: ["id: int", "version: int", "company_id: int?", "legal_name: string?", "edrpou: string?", "vat_number: string?", "address: string?"]),
        MethodInfo("counterparty.list", "Counterparties of a company, or by EDRPOU code or legal-name fragment.",
                   params: ["company_id: int?", "edrpou: string?", "query: string?", "limit: int?"]),
        MethodInfo("audit.list", "Audit entries of one record, or of one user's actions (admins).",
                   params: ["entity: contact|company|counterparty|lead|task|reminder?", "entity_id: int?", "actor_id: int?", "from: time?", "to: time?",
                            "cursor: string?", "limit: int?"]),
    ]

    // MARK: - Inputs shared by several methods

    /// A phone as given: `{"number":"044 123 45 67","label":"work"}` or just `"044 123 45 67"`.
    public struct PhoneInput: Codable, Sendable, Equatable {
        public var number: String
        public var label: String?
        public init(number: String, label: String? = nil) { self.number = number; self.label = label }

        enum CodingKeys: String, CodingKey { case number, label }

        public init(from decoder: Decoder) throws {
            if let s = try? decoder.singleValueContainer().decode(String.self) {
                self.init(number: s)
                return
            }
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(number: try c.decode(String.self, forKey: .number), label: try c.decodeIfPresent(String.self, forKey: .label))
        }
    }

    /// An e-mail as given: `{"address":"ivan@firma.ua","label":"work"}` or just `"ivan@firma.ua"`.
    public struct EmailInput: Codable, Sendable, Equatable {
        public var address: String
        public var label: String?
        public init(address: String, label: String? = nil) { self.address = address; self.label = label }

        enum CodingKeys: String, CodingKey { case address, label }

        public init(from decoder: Decoder) throws {
            if let s = try? decoder.singleValueContainer().decode(String.self) {
                self.init(address: s)
                return
            }
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(address: try c.decode(String.self, forKey: .address), label: try c.decodeIfPresent(String.self, forKey: .label))
        }
    }

    /// One value or a list of them: `"phone"` or `["phone","site"]`.
    public struct OneOrMany<T: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
        public var values: [T]
        public init(_ values: [T]) { self.values = values }

        public init(from decoder: Decoder) throws {
            if let list = try? decoder.unkeyedContainer() {
                var c = list
                var out: [T] = []
                while !c.isAtEnd { out.append(try c.decode(T.self)) }
                values = out
            } else {
                values = [try decoder.singleValueContainer().decode(T.self)]
            }
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.unkeyedContainer()
            for v in values { try c.encode(v) }
        }
    }

    /// `{"id": 7, "version": 3}`; `version` optional (checked when given).
    public struct VersionedID: Codable, Sendable {
        public var id: Int64
        public var version: Int?
        public init(id: Int64, version: Int? = nil) { self.id = id; self.version = version }
    }

    /// `{"id": 7, "body": "..."}`.
    public struct CommentParams: Codable, Sendable {
        public var id: Int64
        public var body: String
        public init(id: Int64, body: String) { self.id = id; self.body = body }
    }

    // MARK: - Contacts

    /// `contact.create`. All optional, but the card needs a name, an organisation, a phone,
    /// an e-mail or a messenger account.
    public struct ContactCreateParams: Codable, Sendable {
        public var fullName: String?
        public var position: String?
        public var organization: String?
        public var companyID: Int64?
        /// Default `lead`.
        public var group: ContactGroup?
        /// Default `manual`.
        public var source: ContactSource?
        /// Default: the caller when a sales user, else none.
        public var ownerID: Int64?
        public var phones: [PhoneInput]?
        public var emails: [EmailInput]?
        public var messengers: [ContactMessenger]?

        public init(fullName: String? = nil, position: String? = nil, organization: String? = nil, companyID: Int64? = nil,
                    group: ContactGroup? = nil, source: ContactSource? = nil, ownerID: Int64? = nil, phones: [PhoneInput]? = nil,
                    emails: [EmailInput]? = nil, messengers: [ContactMessenger]? = nil) {
            self.fullName = fullName; self.position = position; self.organization = organization; self.companyID = companyID
            self.group = group; self.source = source; self.ownerID = ownerID; self.phones = phones; self.emails = emails
            self.messengers = messengers
        }
    }

    /// `contact.update`: absent = leave; null = clear (for the nullable fields); a list
    /// replaces the whole list.
    public struct ContactUpdateParams: Codable, Sendable {
        public var id: Int64
        public var version: Int
        public var fullName: Patch<String>
        public var position: Patch<String>
        public var organization: Patch<String>
        public var companyID: Patch<Int64>
        public var group: ContactGroup?
        public var source: ContactSource?
        public var ownerID: Patch<Int64>
        public var phones: [PhoneInput]?
        public var emails: [EmailInput]?
        public var messengers: [ContactMessenger]?

        public init(id: Int64, version: Int, fullName: Patch<String> = .absent, position: Patch<String> = .absent,
                    organization: Patch<String> = .absent, companyID: Patch<Int64> = .absent, group: ContactGroup? = nil,
                    source: ContactSource? = nil, ownerID: Patch<Int64> = .absent, phones: [PhoneInput]? = nil,
                    emails: [EmailInput]? = nil, messengers: [ContactMessenger]? = nil) {
            self.id = id; self.version = version; self.fullName = fullName; self.position = position; self.organization = organization
            self.companyID = companyID; self.group = group; self.source = source; self.ownerID = ownerID; self.phones = phones
            self.emails = emails; self.messengers = messengers
        }

        enum CodingKeys: String, CodingKey {
            case id, version, fullName, position, organization, companyID, group, source, ownerID, phones, emails, messengers
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            id = try c.decode(Int64.self, forKey: .id)
            version = try c.decode(Int.self, forKey: .version)
            fullName = try Patch(c, .fullName)
            position = try Patch(c, .position)
            organization = try Patch(c, .organization)
            companyID = try Patch(c, .companyID)
            group = try c.decodeIfPresent(ContactGroup.self, forKey: .group)
            source = try c.decodeIfPresent(ContactSource.self, forKey: .source)
            ownerID = try Patch(c, .ownerID)
            phones = try c.decodeIfPresent([PhoneInput].self, forKey: .phones)
            emails = try c.decodeIfPresent([EmailInput].self, forKey: .emails)
            messengers = try c.decodeIfPresent([ContactMessenger].self, forKey: .messengers)
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(version, forKey: .version)
            try fullName.encode(into: &c, .fullName)
            try position.encode(into: &c, .position)
            try organization.encode(into: &c, .organization)
            try companyID.encode(into: &c, .companyID)
            if let group { try c.encode(group, forKey: .group) }
            if let source { try c.encode(source, forKey: .source) }
            try ownerID.encode(into: &c, .ownerID)
            if let phones { try c.encode(phones, forKey: .phones) }
            if let emails { try c.encode(emails, forKey: .emails) }
            if let messengers { try c.encode(messengers, forKey: .messengers) }
        }
    }

    /// `contact.get`: the contact's fields plus `comments` (newest first).
    public struct ContactCard: Encodable, Sendable {
        public var contact: Contact
        public var comments: [RecordComment]
        public init(contact: Contact, comments: [RecordComment]) { self.contact = contact; self.comments = comments }

        enum CodingKeys: String, CodingKey { case comments }

        public func encode(to encoder: Encoder) throws {
            try contact.encode(to: encoder)
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(comments, forKey: .comments)
        }
    }

    /// `contact.list` filters (all optional; lists are AND-ed, values within a list OR-ed).
    public struct ContactListParams: Codable, Sendable {
        public var source: OneOrMany<ContactSource>?
        public var group: OneOrMany<ContactGroup>?
        public var ownerID: Int64?
        public var unowned: Bool?
        public var companyID: Int64?
        public var createdFrom: Date?
        public var createdTo: Date?
        public var changedFrom: Date?
        public var changedTo: Date?
        /// true = the trash (deleted contacts) instead of live ones.
        public var deleted: Bool?
        /// `next_cursor` of the previous page.
        public var cursor: String?
        /// 1–200, default 50.
        public var limit: Int?

        public init(source: OneOrMany<ContactSource>? = nil, group: OneOrMany<ContactGroup>? = nil, ownerID: Int64? = nil,
                    unowned: Bool? = nil, companyID: Int64? = nil, createdFrom: Date? = nil, createdTo: Date? = nil,
                    changedFrom: Date? = nil, changedTo: Date? = nil, deleted: Bool? = nil, cursor: String? = nil, limit: Int? = nil) {
            self.source = source; self.group = group; self.ownerID = ownerID; self.unowned = unowned; self.companyID = companyID
            self.createdFrom = createdFrom; self.createdTo = createdTo; self.changedFrom = changedFrom; self.changedTo = changedTo
            self.deleted = deleted; self.cursor = cursor; self.limit = limit
        }
    }

    /// A page of `contact.list`.
    public struct ContactList: Encodable, Sendable {
        public var contacts: [Contact]
        /// Every contact matching the filter that the caller may see, over all pages.
        public var total: Int
        /// Pass as `cursor` for the next page; null on the last page.
        public var nextCursor: String?
        public init(contacts: [Contact], total: Int, nextCursor: String?) { self.contacts = contacts; self.total = total; self.nextCursor = nextCursor }
    }

    /// `contact.find`: one search text, read as every kind of key it could be.
    public struct ContactFindParams: Codable, Sendable {
        public var query: String
        /// 1–100, default 20.
        public var limit: Int?
        public init(query: String, limit: Int? = nil) { self.query = query; self.limit = limit }
    }

    /// A found contact: its fields plus `matched_by` (`phone`, `email`, `messenger`, `name`).
    public struct ContactFound: Encodable, Sendable {
        public var contact: Contact
        public var matchedBy: [String]
        public init(contact: Contact, matchedBy: [String]) { self.contact = contact; self.matchedBy = matchedBy }

        enum CodingKeys: String, CodingKey { case matchedBy }

        public func encode(to encoder: Encoder) throws {
            try contact.encode(to: encoder)
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(matchedBy, forKey: .matchedBy)
        }
    }

    /// `contact.find` result, best match first.
    public struct ContactFindResult: Encodable, Sendable {
        public var contacts: [ContactFound]
        public init(contacts: [ContactFound]) { self.contacts = contacts }
    }

    /// Exactly one of `phone`, `email`, `messenger`.
    public struct ContactLookupParams: Codable, Sendable {
        public var phone: String?
        public var email: String?
        public var messenger: ContactMessenger?
        public init(phone: String? = nil, email: String? = nil, messenger: ContactMessenger? = nil) {
            self.phone = phone; self.email = email; self.messenger = messenger
        }
    }

    /// Routing data of one contact: `id`, `full_name`, `group`, `owner_id`, `owner_name`,
    /// `owner_department`, `company_id`, `company_name`.
    public struct ContactRouteInfo: Codable, Sendable {
        public var id: Int64
        public var fullName: String?
        public var group: ContactGroup
        public var ownerID: Int64?
        public var ownerName: String?
        public var ownerDepartment: Department?
        public var companyID: Int64?
        public var companyName: String?
        public init(id: Int64, fullName: String?, group: ContactGroup, ownerID: Int64?, ownerName: String?, ownerDepartment: Department?,
                    companyID: Int64?, companyName: String?) {
            self.id = id; self.fullName = fullName; self.group = group; self.ownerID = ownerID; self.ownerName = ownerName
            self.ownerDepartment = ownerDepartment; self.companyID = companyID; self.companyName = companyName
        }
    }

    /// `contact.lookup` result.
    public struct ContactLookupResult: Encodable, Sendable {
        /// Live contacts holding the phone/e-mail/account; the best match first.
        public var contacts: [ContactRouteInfo]
        public init(contacts: [ContactRouteInfo]) { self.contacts = contacts }
    }

    /// `contact.merge`: versions are optional and checked when given.
    public struct ContactMergeParams: Codable, Sendable {
        /// The card that stays.
        public var survivorID: Int64
        /// The card merged into it (deleted afterwards, `merged_into_id` set).
        public var mergedID: Int64
        public var survivorVersion: Int?
        public var mergedVersion: Int?
        public init(survivorID: Int64, mergedID: Int64, survivorVersion: Int? = nil, mergedVersion: Int? = nil) {
            self.survivorID = survivorID; self.mergedID = mergedID; self.survivorVersion = survivorVersion; self.mergedVersion = mergedVersion
        }
    }

    /// `contact.merge` result.
    public struct ContactMergeResult: Encodable, Sendable {
        /// The survivor after the merge.
        public var contact: Contact
        /// Rows moved per `table.column` (`contact_phones.contact_id`, `comments.contact_id`, ...).
        public var moved: [String: Int]
        public init(contact: Contact, moved: [String: Int]) { self.contact = contact; self.moved = moved }
    }

    /// `contact.to_company`.
    public struct ToCompanyParams: Codable, Sendable {
        public var id: Int64
        public var version: Int
        /// The company's name; default: the organisation the contact named, else the
        /// contact's name.
        public var name: String?
        public init(id: Int64, version: Int, name: String? = nil) { self.id = id; self.version = version; self.name = name }
    }

    /// `contact.to_company` result: the new company card and the linked contact.
    public struct ToCompanyResult: Encodable, Sendable {
        public var company: CompanyCardResult
        public var contact: Contact
        public init(company: CompanyCardResult, contact: Contact) { self.company = company; self.contact = contact }
    }

    // MARK: - Companies

    /// `company.create`.
    public struct CompanyCreateParams: Codable, Sendable {
        public var name: String
        public var website: String?
        public var address: String?
        public var notes: String?
        /// Default: the caller when a sales user, else none.
        public var ownerID: Int64?
        public init(name: String, website: String? = nil, address: String? = nil, notes: String? = nil, ownerID: Int64? = nil) {
            self.name = name; self.website = website; self.address = address; self.notes = notes; self.ownerID = ownerID
        }
    }

    /// `company.update`: absent = leave; null clears `website`, `address`, `notes`, `owner_id`.
    public struct CompanyUpdateParams: Codable, Sendable {
        public var id: Int64
        public var version: Int
        public var name: String?
        public var website: Patch<String>
        public var address: Patch<String>
        public var notes: Patch<String>
        public var ownerID: Patch<Int64>

        public init(id: Int64, version: Int, name: String? = nil, website: Patch<String> = .absent, address: Patch<String> = .absent,
                    notes: Patch<String> = .absent, ownerID: Patch<Int64> = .absent) {
            self.id = id; self.version = version; self.name = name; self.website = website; self.address = address
            self.notes = notes; self.ownerID = ownerID
        }

        enum CodingKeys: String, CodingKey { case id, version, name, website, address, notes, ownerID }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            id = try c.decode(Int64.self, forKey: .id)
            version = try c.decode(Int.self, forKey: .version)
            name = try c.decodeIfPresent(String.self, forKey: .name)
            website = try Patch(c, .website)
            address = try Patch(c, .address)
            notes = try Patch(c, .notes)
            ownerID = try Patch(c, .ownerID)
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(version, forKey: .version)
            if let name { try c.encode(name, forKey: .name) }
            try website.encode(into: &c, .website)
            try address.encode(into: &c, .address)
            try notes.encode(into: &c, .notes)
            try ownerID.encode(into: &c, .ownerID)
        }
    }

    /// `company.get`: the company's fields plus `counterparties`, `contacts` (live ones the
    /// caller may see) and `comments` (newest first).
    public struct CompanyCardResult: Encodable, Sendable {
        public var company: Company
        public var counterparties: [Counterparty]
        public var contacts: [Contact]
        public var comments: [RecordComment]
        public init(company: Company, counterparties: [Counterparty], contacts: [Contact], comments: [RecordComment]) {
            self.company = company; self.counterparties = counterparties; self.contacts = contacts; self.comments = comments
        }

        enum CodingKeys: String, CodingKey { case counterparties, contacts, comments }

        public func encode(to encoder: Encoder) throws {
            try company.encode(to: encoder)
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(counterparties, forKey: .counterparties)
            try c.encode(contacts, forKey: .contacts)
            try c.encode(comments, forKey: .comments)
        }
    }

    /// `company.list` filters (all optional).
    public struct CompanyListParams: Codable, Sendable {
        /// A fragment of the name.
        public var query: String?
        public var ownerID: Int64?
        public var unowned: Bool?
        public var createdFrom: Date?
        public var createdTo: Date?
        /// On `last_change_at`.
        public var changedFrom: Date?
        public var changedTo: Date?
        public var deleted: Bool?
        public var cursor: String?
        public var limit: Int?
        public init(query: String? = nil, ownerID: Int64? = nil, unowned: Bool? = nil, createdFrom: Date? = nil, createdTo: Date? = nil,
                    changedFrom: Date? = nil, changedTo: Date? = nil, deleted: Bool? = nil, cursor: String? = nil, limit: Int? = nil) {
            self.query = query; self.ownerID = ownerID; self.unowned = unowned; self.createdFrom = createdFrom; self.createdTo = createdTo
            self.changedFrom = changedFrom; self.changedTo = changedTo; self.deleted = deleted; self.cursor = cursor; self.limit = limit
        }
    }

    /// A page of `company.list`.
    public struct CompanyList: Encodable, Sendable {
        public var companies: [Company]
        public var total: Int
        public var nextCursor: String?
        public init(companies: [Company], total: Int, nextCursor: String?) { self.companies = companies; self.total = total; self.nextCursor = nextCursor }
    }

    // MARK: - Counterparties

    /// `counterparty.add`. `edrpou`: 8 digits (10 for a sole trader), unique; `vat_number`: 10 or 12 digits.
    public struct CounterpartyAddParams: Codable, Sendable {
        public var companyID: Int64
        public var legalName: String
        public var edrpou: String?
        public var vatNumber: String?
        public var address: String?
        public init(companyID: Int64, legalName: String, edrpou: String? = nil, vatNumber: String? = nil, address: String? = nil) {
            self.companyID = companyID; self.legalName = legalName; self.edrpou = edrpou; self.vatNumber = vatNumber; self.address = address
        }
    }

    /// `counterparty.update`: absent = leave; null clears `edrpou`, `vat_number`, `address`.
    public struct CounterpartyUpdateParams: Codable, Sendable {
        public var id: Int64
        public var version: Int
        public var companyID: Int64?
        public var legalName: String?
        public var edrpou: Patch<String>
        public var vatNumber: Patch<String>
        public var address: Patch<String>

        public init(id: Int64, version: Int, companyID: Int64? = nil, legalName: String? = nil, edrpou: Patch<String> = .absent,
                    vatNumber: Patch<String> = .absent, address: Patch<String> = .absent) {
            self.id = id; self.version = version; self.companyID = companyID; self.legalName = legalName; self.edrpou = edrpou
            self.vatNumber = vatNumber; self.address = address
        }

        enum CodingKeys: String, CodingKey { case id, version, companyID, legalName, edrpou, vatNumber, address }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            id = try c.decode(Int64.self, forKey: .id)
            version = try c.decode(Int.self, forKey: .version)
            companyID = try c.decodeIfPresent(Int64.self, forKey: .companyID)
            legalName = try c.decodeIfPresent(String.self, forKey: .legalName)
            edrpou = try Patch(c, .edrpou)
            vatNumber = try Patch(c, .vatNumber)
            address = try Patch(c, .address)
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(version, forKey: .version)
            if let companyID { try c.encode(companyID, forKey: .companyID) }
            if let legalName { try c.encode(legalName, forKey: .legalName) }
            try edrpou.encode(into: &c, .edrpou)
            try vatNumber.encode(into: &c, .vatNumber)
            try address.encode(into: &c, .address)
        }
    }

    /// `counterparty.list`: one company's, or by EDRPOU / legal-name fragment over live companies.
    public struct CounterpartyListParams: Codable, Sendable {
        public var companyID: Int64?
        public var edrpou: String?
        /// A fragment of the legal name.
        public var query: String?
        /// 1–500, default 100.
        public var limit: Int?
        public init(companyID: Int64? = nil, edrpou: String? = nil, query: String? = nil, limit: Int? = nil) {
            self.companyID = companyID; self.edrpou = edrpou; self.query = query; self.limit = limit
        }
    }

    /// `counterparty.list` result.
    public struct CounterpartyList: Encodable, Sendable {
        public var counterparties: [Counterparty]
        public init(counterparties: [Counterparty]) { self.counterparties = counterparties }
    }

    // MARK: - Audit

    /// One record (`entity` + `entity_id`) or one user's actions (`actor_id`, admins).
    public struct AuditListParams: Codable, Sendable {
        public var entity: String?
        public var entityID: Int64?
        public var actorID: Int64?
        public var from: Date?
        public var to: Date?
        public var cursor: String?
        /// 1–500, default 100.
        public var limit: Int?
        public init(entity: String? = nil, entityID: Int64? = nil, actorID: Int64? = nil, from: Date? = nil, to: Date? = nil,
                    cursor: String? = nil, limit: Int? = nil) {
            self.entity = entity; self.entityID = entityID; self.actorID = actorID; self.from = from; self.to = to
            self.cursor = cursor; self.limit = limit
        }
    }

    /// One audit entry. `changes`: `{"field": {"before": ..., "after": ...}}`.
    public struct AuditEntry: Codable, Sendable {
        public var id: Int64
        public var at: Date
        public var actorID: Int64?
        public var actorName: String?
        public var method: String
        public var entity: String
        public var entityID: Int64
        /// `create`, `update`, `delete`, `restore`, `merge`, `merged_into`, `comment`, `to_company`, ...
        public var action: String
        public var changes: JSONValue
        public init(id: Int64, at: Date, actorID: Int64?, actorName: String?, method: String, entity: String, entityID: Int64,
                    action: String, changes: JSONValue) {
            self.id = id; self.at = at; self.actorID = actorID; self.actorName = actorName; self.method = method
            self.entity = entity; self.entityID = entityID; self.action = action; self.changes = changes
        }
    }

    /// A page of `audit.list`, newest first; `next_cursor` continues it.
    public struct AuditList: Encodable, Sendable {
        public var entries: [AuditEntry]
        public var nextCursor: String?
        public init(entries: [AuditEntry], nextCursor: String?) { self.entries = entries; self.nextCursor = nextCursor }
    }
}
