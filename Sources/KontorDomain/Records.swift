import Foundation

// Sales records (issue 3): contacts, companies, counterparties, comments.
// Source: docs DOMAIN glossary ("Records"). These are the wire shapes too: field names
// become snake_case (`fullName` → `full_name`).

/// Where a contact stands with us. Source: DOMAIN ("Group: lead, contact, client").
public enum ContactGroup: String, Sendable, Codable, CaseIterable, Hashable {
    /// Someone who got in touch; not qualified yet.
    case lead
    /// A known person we talk to.
    case contact
    /// A person of a company that buys from us.
    case client

    /// Order of advancement (lead < contact < client); a merge keeps the more advanced.
    public var rank: Int {
        switch self {
        case .lead: return 0
        case .contact: return 1
        case .client: return 2
        }
    }
}

/// The channel a contact first came through. Source: issue 3 ("source (phone, email, ...)").
public enum ContactSource: String, Sendable, Codable, CaseIterable, Hashable {
    case phone, email, telegram, viber, facebook, instagram, site, manual, `import`
}

/// A messenger or social network where a contact has an account.
public enum MessengerKind: String, Sendable, Codable, CaseIterable, Hashable {
    case telegram, viber, facebook, instagram
}

/// One phone number of a contact: as written, and as E.164 when libphonenumber could
/// read it.
///
/// Wire: `{"number":"044 123-45-67","label":"work","e164":"+380441234567","extension":null,
/// "parsed":true,"valid":true,"kind":"fixedLine","international":"+380 44 123 4567"}`.
/// A number that could not be read has `parsed` false, `e164` null, and is still found by
/// `contact.find` through its digits.
public struct ContactPhone: Sendable, Codable, Equatable {
    /// The number as the user wrote it (trimmed at both ends).
    public var number: String
    /// Free label (`mobile`, `work`, `home`, `fax`, ...), at most 40 characters; nil = none.
    public var label: String?
    /// ITU-T E.164 form, nil when the number could not be read.
    public var e164: String?
    /// Extension digits (`доб. 12` → `"12"`), nil when none.
    public var extensionNumber: String?
    /// True when the number was read (`e164` is set); false = kept as written, flagged.
    public var parsed: Bool
    /// libphonenumber's `IsValidNumber` (the number is in an allocated range).
    public var valid: Bool
    /// Line kind as libphonenumber classifies it (`PhoneNumberKind` raw value).
    public var kind: String
    /// The number grouped for dialling from abroad (`+380 44 123 4567`), nil when not parsed.
    public var international: String?

    enum CodingKeys: String, CodingKey {
        case number, label, e164, extensionNumber = "extension", parsed, valid, kind, international
    }

    public init(number: String, label: String?, e164: String?, extensionNumber: String?, valid: Bool, kind: String) {
        self.number = number; self.label = label; self.e164 = e164; self.extensionNumber = extensionNumber
        self.parsed = e164 != nil; self.valid = valid; self.kind = kind
        self.international = e164.flatMap { PhoneNumber(e164: $0, extensionNumber: extensionNumber)?.formatted(.international) }
    }
}

/// One e-mail address of a contact. Wire: `{"address":"Ivan@Firma.ua","label":"work"}`;
/// compared case-insensitively (see `EmailAddress`).
public struct ContactEmail: Sendable, Codable, Equatable {
    /// The cleaned address, case as written.
    public var address: String
    public var label: String?
    public init(address: String, label: String?) { self.address = address; self.label = label }
}

/// A messenger account of a contact. Wire: `{"kind":"telegram","external_id":"123456789","handle":"ivan_p"}`.
public struct ContactMessenger: Sendable, Codable, Equatable {
    public var kind: MessengerKind
    /// The network's stable user id (Telegram user id, Viber user id, Facebook PSID, ...).
    public var externalID: String?
    /// The public user name without `@`, lower case.
    public var handle: String?
    public init(kind: MessengerKind, externalID: String?, handle: String?) {
        self.kind = kind; self.externalID = externalID; self.handle = handle
    }
}

/// A contact card: a person we talk to.
///
/// Wire shape (lists, `contact.create`, `contact.update`): every field below, `null` when
/// empty. `contact.get` adds `comments`.
public struct Contact: Sendable, Codable, Equatable {
    public var id: Int64
    /// What to show for the card: the name, else the organisation, else the first phone,
    /// e-mail or messenger handle.
    public var displayName: String
    public var fullName: String?
    public var position: String?
    /// The organisation the person named, as written (free text).
    public var organization: String?
    /// The linked company card, if any.
    public var companyID: Int64?
    /// The linked company's name, null when the caller may not see that company.
    public var companyName: String?
    public var group: ContactGroup
    public var source: ContactSource
    public var ownerID: Int64?
    public var ownerName: String?
    /// Phones, emails and messengers in order; the first is the primary one.
    public var phones: [ContactPhone]
    public var emails: [ContactEmail]
    public var messengers: [ContactMessenger]
    /// Optimistic-concurrency version; updates send the one they read.
    public var version: Int
    public var createdAt: Date
    public var createdBy: Int64?
    /// The card's last change (the sort key of `contact.list`).
    public var updatedAt: Date
    public var updatedBy: Int64?
    /// Set when the card is deleted (restorable unless merged).
    public var deletedAt: Date?
    /// Set when the card was merged into another: that card's id.
    public var mergedIntoID: Int64?

    public init(id: Int64, fullName: String?, position: String?, organization: String?, companyID: Int64?, companyName: String?,
                group: ContactGroup, source: ContactSource, ownerID: Int64?, ownerName: String?, phones: [ContactPhone],
                emails: [ContactEmail], messengers: [ContactMessenger], version: Int, createdAt: Date, createdBy: Int64?,
                updatedAt: Date, updatedBy: Int64?, deletedAt: Date?, mergedIntoID: Int64?) {
        self.id = id; self.fullName = fullName; self.position = position; self.organization = organization
        self.companyID = companyID; self.companyName = companyName; self.group = group; self.source = source
        self.ownerID = ownerID; self.ownerName = ownerName; self.phones = phones; self.emails = emails
        self.messengers = messengers; self.version = version; self.createdAt = createdAt; self.createdBy = createdBy
        self.updatedAt = updatedAt; self.updatedBy = updatedBy; self.deletedAt = deletedAt; self.mergedIntoID = mergedIntoID
        self.displayName = Contact.displayName(fullName: fullName, organization: organization, phones: phones,
                                               emails: emails, messengers: messengers, id: id)
    }

    /// The name a card is shown (and a company generated) under.
    public static func displayName(fullName: String?, organization: String?, phones: [ContactPhone], emails: [ContactEmail],
                                   messengers: [ContactMessenger], id: Int64) -> String {
        if let n = fullName { return n }
        if let o = organization { return o }
        if let p = phones.first { return p.international ?? p.number }
        if let e = emails.first { return e.address }
        if let m = messengers.first { return m.handle.map { "@" + $0 } ?? "\(m.kind.rawValue) \(m.externalID ?? "")" }
        return "contact \(id)"
    }
}

/// A comment on a contact or a company. A contact's comments also show on its company.
public struct RecordComment: Sendable, Codable, Equatable {
    public var id: Int64
    /// The contact it was written on; nil for a comment on the company itself.
    public var contactID: Int64?
    /// The company it belongs to (for a contact's comment: the contact's company when written).
    public var companyID: Int64?
    public var authorID: Int64?
    public var authorName: String?
    public var body: String
    public var createdAt: Date
    public init(id: Int64, contactID: Int64?, companyID: Int64?, authorID: Int64?, authorName: String?, body: String, createdAt: Date) {
        self.id = id; self.contactID = contactID; self.companyID = companyID; self.authorID = authorID
        self.authorName = authorName; self.body = body; self.createdAt = createdAt
    }
}

/// A company card: an organisation we sell to.
///
/// `lastChangeAt`, `lastCallAt` and `lastCallKind` are derived by the database (see
/// `sql/migrations/0002_records.sql`, "Company card derived fields"); they are read-only.
public struct Company: Sendable, Codable, Equatable {
    public var id: Int64
    public var name: String
    public var website: String?
    public var address: String?
    public var notes: String?
    public var ownerID: Int64?
    public var ownerName: String?
    public var version: Int
    public var createdAt: Date
    public var createdBy: Int64?
    public var updatedAt: Date
    public var updatedBy: Int64?
    public var deletedAt: Date?
    /// The latest change of the card, of any of its contacts' cards, counterparties or comments.
    public var lastChangeAt: Date
    /// The latest call with any of its live contacts (from `records_contact_calls`).
    public var lastCallAt: Date?
    public var lastCallKind: String?

    public init(id: Int64, name: String, website: String?, address: String?, notes: String?, ownerID: Int64?, ownerName: String?,
                version: Int, createdAt: Date, createdBy: Int64?, updatedAt: Date, updatedBy: Int64?, deletedAt: Date?,
                lastChangeAt: Date, lastCallAt: Date?, lastCallKind: String?) {
        self.id = id; self.name = name; self.website = website; self.address = address; self.notes = notes
        self.ownerID = ownerID; self.ownerName = ownerName; self.version = version; self.createdAt = createdAt
        self.createdBy = createdBy; self.updatedAt = updatedAt; self.updatedBy = updatedBy; self.deletedAt = deletedAt
        self.lastChangeAt = lastChangeAt; self.lastCallAt = lastCallAt; self.lastCallKind = lastCallKind
    }
}

/// A legal entity of a company that orders and pays.
public struct Counterparty: Sendable, Codable, Equatable {
    public var id: Int64
    public var companyID: Int64
    public var legalName: String
    /// ЄДРПОУ (8 digits) or a sole trader's РНОКПП (10 digits); unique.
    public var edrpou: String?
    /// ІПН платника ПДВ (10 or 12 digits).
    public var vatNumber: String?
    public var address: String?
    public var version: Int
    public var createdAt: Date
    public var updatedAt: Date
    public init(id: Int64, companyID: Int64, legalName: String, edrpou: String?, vatNumber: String?, address: String?,
                version: Int, createdAt: Date, updatedAt: Date) {
        self.id = id; self.companyID = companyID; self.legalName = legalName; self.edrpou = edrpou
        self.vatNumber = vatNumber; self.address = address; self.version = version; self.createdAt = createdAt; self.updatedAt = updatedAt
    }
}
