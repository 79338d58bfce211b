import Foundation
import KontorDomain
import KontorProtocol

/// Where a column's values go in an ``IngestMethods/ImportRow``.
public enum ContactTarget: Sendable, Equatable, Hashable {
    case fullName, firstName, lastName, middleName
    /// A phone column; `label` from the header (`mobile`, `work`), `group` pairs Google's
    /// `Phone N - Value` with its `Phone N - Type`.
    case phone(label: String?, group: Int?)
    case phoneType(group: Int)
    case email
    case company, position, website, notes
    /// A column whose value is added to the notes as `Header: value`.
    case labelledNote
    /// Part of an address: `set` names the address (``, `work`, `home`), `part` is
    /// 0 street, 1 street 2, 2 city, 3 state, 4 postal code, 5 country, 9 the whole address.
    case address(set: String, part: Int)
    case edrpou, telegram, viber, group, owner
    /// `Company`/`Individual` (Odoo `Company Type`) or true/false (`Is a Company`).
    case kind
    case ignore

    /// Reads a mapping-file target: `full_name`, `first_name`, `last_name`,
    /// `middle_name`, `phone`, `phone:<label>`, `email`, `company`, `position`, `website`,
    /// `notes`, `note` (as `Header: value`), `address`, `street`, `street2`, `city`,
    /// `state`, `zip`, `country`, `edrpou`, `telegram`, `viber`, `group`, `owner`, `kind`,
    /// `ignore`.
    public init?(mappingName s: String) {
        let t = s.trimmed.lowercased()
        if t.hasPrefix("phone:") { self = .phone(label: String(t.dropFirst(6)).nonEmpty, group: nil); return }
        switch t {
        case "full_name", "name": self = .fullName
        case "first_name": self = .firstName
        case "last_name": self = .lastName
        case "middle_name": self = .middleName
        case "phone": self = .phone(label: nil, group: nil)
        case "email": self = .email
        case "company": self = .company
        case "position": self = .position
        case "website": self = .website
        case "notes": self = .notes
        case "note": self = .labelledNote
        case "address": self = .address(set: "", part: 9)
        case "street": self = .address(set: "", part: 0)
        case "street2": self = .address(set: "", part: 1)
        case "city": self = .address(set: "", part: 2)
        case "state": self = .address(set: "", part: 3)
        case "zip": self = .address(set: "", part: 4)
        case "country": self = .address(set: "", part: 5)
        case "edrpou": self = .edrpou
        case "telegram": self = .telegram
        case "viber": self = .viber
        case "group": self = .group
        case "owner": self = .owner
        case "kind": self = .kind
        case "ignore": self = .ignore
        default: return nil
        }
    }
}

extension ContactTarget: CustomStringConvertible {
    /// The mapping-file name of the target.
    public var description: String {
        switch self {
        case .fullName: return "full_name"
        case .firstName: return "first_name"
        case .lastName: return "last_name"
        case .middleName: return "middle_name"
        case .phone(let label, let group):
            return "phone" + (label.map { ":" + $0 } ?? "") + (group.map { " (value \($0))" } ?? "")
        case .phoneType(let g): return "phone type (\(g))"
        case .email: return "email"
        case .company: return "company"
        case .position: return "position"
        case .website: return "website"
        case .notes: return "notes"
        case .labelledNote: return "note"
        case .address(let set, let part):
            let names = [0: "street", 1: "street2", 2: "city", 3: "state", 4: "zip", 5: "country", 9: "address"]
            return (names[part] ?? "address") + (set.isEmpty ? "" : " (\(set))")
        case .edrpou: return "edrpou"
        case .telegram: return "telegram"
        case .viber: return "viber"
        case .group: return "group"
        case .owner: return "owner"
        case .kind: return "kind"
        case .ignore: return "ignore"
        }
    }
}

/// Contacts and companies from CSV files (Google Contacts, Outlook, Thunderbird, Odoo
/// `res.partner` exports, Excel / Google Sheets tables) → `contact.import` rows.
///
/// Sources: RFC 4180 (CSV); Unicode FAQ "UTF-8, UTF-16, UTF-32 & BOM" (byte-order marks);
/// the export formats as the programs write them: Google Contacts ("Google CSV": `Name`,
/// `Given Name`, `Family Name`, `Phone 1 - Type`, `Phone 1 - Value`, several values in
/// one cell joined with ` ::: `), Outlook ("Outlook CSV": `First Name`, `Last Name`,
/// `Company`, `Job Title`, `Business Phone`, `Mobile Phone`, `E-mail Address`, ...),
/// Thunderbird (`First Name`, `Display Name`, `Primary Email`, `Work Phone`, `Mobile
/// Number`, `Organization`, ...), Odoo contacts export (`Name`, `Company Type`,
/// `Related Company`, `Phone`, `Mobile`, `Email`, `Street`, `City`, ...).
///
/// * encoding: UTF-8 with or without BOM, UTF-16 LE/BE with BOM, else windows-1251
///   (bytes that are not valid UTF-8);
/// * delimiter: the most frequent of `,` `;` TAB in the header line;
/// * columns: matched by name, case- and punctuation-insensitive, English, Ukrainian
///   and Russian (`Ім'я`, `Телефон`, `Компанія`, `Имя`, `Телефон`, `Компания`, ...), or by
///   a mapping file; unknown columns are ignored;
/// * several phones in a cell (` ::: `, `,`, `;`, line breaks) become several phones;
///   several e-mails likewise;
/// * numbers and e-mails are sent as written; kontord normalises and reports.
public enum ContactsCSV {
    /// The outcome of reading a file.
    public struct Result: Sendable {
        public var rows: [IngestMethods.ImportRow]
        /// The encoding found (`utf-8`, `utf-8-bom`, `utf-16le`, `utf-16be`, `windows-1251`).
        public var encoding: String
        /// `,`, `;` or TAB.
        public var delimiter: Character
        /// Header → what it was mapped to (for `--dry-run` and the report).
        public var columns: [(header: String, target: ContactTarget)]
    }

    /// Decodes a file's bytes to text.
    public static func decode(_ bytes: [UInt8]) -> (text: String, encoding: String) {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { return (TextDecoding.lossyUTF8(bytes.dropFirst(3)), "utf-8-bom") }
        if bytes.starts(with: [0xFF, 0xFE]) { return (utf16(bytes.dropFirst(2), bigEndian: false), "utf-16le") }
        if bytes.starts(with: [0xFE, 0xFF]) { return (utf16(bytes.dropFirst(2), bigEndian: true), "utf-16be") }
        if TextDecoding.isValidUTF8(bytes) { return (String(decoding: bytes, as: UTF8.self), "utf-8") }
        if let t = TextDecoding.decode(bytes, charset: "windows-1251") { return (t, "windows-1251") }
        return (TextDecoding.lossyUTF8(bytes), "utf-8-lossy")
    }

    static func utf16(_ bytes: ArraySlice<UInt8>, bigEndian: Bool) -> String {
        var units: [UInt16] = []
        units.reserveCapacity(bytes.count / 2)
        var i = bytes.startIndex
        while i + 1 < bytes.endIndex {
            let a = UInt16(bytes[i]), b = UInt16(bytes[i + 1])
            units.append(bigEndian ? a << 8 | b : b << 8 | a)
            i += 2
        }
        return String(decoding: units, as: UTF16.self)
    }

    /// Reads a file. `mapping` (header → target) overrides the built-in names.
    public static func parse(_ bytes: [UInt8], mapping: [String: ContactTarget] = [:]) -> Result {
        let (text, encoding) = decode(bytes)
        let utf8 = Array(text.utf8)
        let delimiter = CSVParser.detectDelimiter(utf8)
        let records = CSVParser.parse(utf8, delimiter: delimiter).records.filter { !$0.isBlank }
        guard let header = records.first else {
            return Result(rows: [], encoding: encoding, delimiter: Character(Unicode.Scalar(delimiter)), columns: [])
        }
        let headers = header.fields.map { TextDecoding.lossyUTF8($0).trimmed }
        let targets = resolveTargets(headers, mapping: mapping)
        var rows: [IngestMethods.ImportRow] = []
        for r in records.dropFirst() {
            let values = r.fields.map { String(decoding: $0, as: UTF8.self) }
            rows.append(row(line: r.line, headers: headers, targets: targets, values: values))
        }
        return Result(rows: rows, encoding: encoding, delimiter: Character(Unicode.Scalar(delimiter)),
                      columns: Array(zip(headers, targets)))
    }

    /// Reads a mapping file: `{"columns": {"Header as written": "target", ...}}` (see
    /// ``ContactTarget/init(mappingName:)``).
    public static func mapping(fromJSON bytes: [UInt8]) throws -> [String: ContactTarget] {
        let v = try JSONValue.payload(bytes)
        guard let cols = (v["columns"] ?? v).objectValue else { throw PayloadError("mapping: expected {\"columns\": {...}}") }
        var out: [String: ContactTarget] = [:]
        for (k, t) in cols {
            guard let name = t.stringValue, let target = ContactTarget(mappingName: name) else {
                throw PayloadError("mapping: unknown target \(t.jsonText) for column \"\(k)\"")
            }
            out[k] = target
        }
        return out
    }

    // MARK: column names

    static func names(_ list: [String]) -> Set<String> { Set(list.map(normalizedLabel)) }

    static let fullNames = names(["name", "full name", "display name", "contact name", "contact", "піб", "прізвище ім'я по батькові",
                                  "контактна особа", "фио", "контактное лицо", "контакт", "ім'я та прізвище"])
    /// `Ім'я` / `Имя`: the whole name, unless the file also has a surname column.
    static let ambiguousNames = names(["ім'я", "имя", "imya"])
    static let firstNames = names(["first name", "given name", "firstname"])
    static let lastNames = names(["last name", "family name", "surname", "прізвище", "фамилия"])
    static let middleNames = names(["middle name", "additional name", "по батькові", "отчество"])
    static let phoneLabels: [String: String?] = {
        var m: [String: String?] = [:]
        for n in ["phone", "telephone", "tel", "phone number", "phones", "телефон", "тел", "телефони", "телефоны", "номер телефону",
                  "номер телефона", "primary phone", "company main phone"] { m[normalizedLabel(n)] = .some(nil) }
        for n in ["mobile", "mobile phone", "mobile number", "cell", "cell phone", "мобільний", "мобільний телефон", "моб", "мобильный",
                  "мобильный телефон"] { m[normalizedLabel(n)] = .some("mobile") }
        for n in ["work phone", "business phone", "business phone 2", "робочий телефон", "рабочий телефон"] { m[normalizedLabel(n)] = .some("work") }
        for n in ["home phone", "home phone 2", "домашній телефон", "домашний телефон"] { m[normalizedLabel(n)] = .some("home") }
        for n in ["other phone", "car phone"] { m[normalizedLabel(n)] = .some("other") }
        return m
    }()
    static let emails = names(["email", "e-mail", "email address", "e-mail address", "e-mail 2 address", "e-mail 3 address",
                               "primary email", "secondary email", "mail", "emails", "електронна пошта", "пошта", "email адреса",
                               "почта", "электронная почта", "эл. почта", "ел. пошта"])
    static let companies = names(["company", "company name", "organization", "organisation", "organization name", "related company",
                                  "компанія", "назва компанії", "організація", "компания", "название компании", "организация",
                                  "фірма", "фирма", "контрагент"])
    static let positions = names(["job title", "position", "посада", "должность"])
    static let websites = names(["website", "web site", "web page", "web page 1", "url", "site", "сайт", "веб-сайт"])
    static let notes = names(["notes", "note", "comment", "comments", "примітки", "примітка", "коментар", "примечание", "примечания",
                              "комментарий"])
    static let labelledNotes = names(["address type", "department", "nickname", "відділ", "отдел"])
    static let edrpous = names(["edrpou", "єдрпоу", "код єдрпоу", "егрпоу", "код егрпоу", "tax id", "vat", "ідентифікаційний код"])
    static let telegrams = names(["telegram", "телеграм"])
    static let vibers = names(["viber", "вайбер"])
    static let groups = names(["group", "група", "группа", "contact group"])
    static let owners = names(["owner", "manager", "менеджер", "відповідальний", "ответственный"])
    static let kinds = names(["company type", "is a company", "is company", "тип контакту", "тип контакта"])
    static let addressSets: [(prefix: String, set: String)] = [
        ("business", "work"), ("work", "work"), ("home", "home"), ("other", "other"), ("", ""),
    ]
    static let addressParts: [(names: Set<String>, part: Int)] = [
        (names(["address", "full address", "formatted address", "адреса", "адрес"]), 9),
        (names(["street", "address 1", "street address", "вулиця", "улица"]), 0),
        (names(["street2", "street 2", "address 2", "extended address"]), 1),
        (names(["city", "місто", "город"]), 2),
        (names(["state", "region", "область", "регион", "регіон"]), 3),
        (names(["zip", "zip code", "zipcode", "postal code", "індекс", "индекс"]), 4),
        (names(["country", "country/region", "країна", "страна"]), 5),
    ]

    static func resolveTargets(_ headers: [String], mapping: [String: ContactTarget]) -> [ContactTarget] {
        let explicit = Dictionary(mapping.map { (normalizedLabel($0.key), $0.value) }, uniquingKeysWith: { a, _ in a })
        let normalized = headers.map(normalizedLabel)
        let hasSurname = normalized.contains { lastNames.contains($0) }
        return zip(headers, normalized).map { header, n in
            if let t = explicit[n] { return t }
            if let t = googleTarget(header) { return t }
            if fullNames.contains(n) { return .fullName }
            if ambiguousNames.contains(n) { return hasSurname ? .firstName : .fullName }
            if firstNames.contains(n) { return .firstName }
            if lastNames.contains(n) { return .lastName }
            if middleNames.contains(n) { return .middleName }
            if let label = phoneLabels[n] { return .phone(label: label, group: nil) }
            if emails.contains(n) { return .email }
            if companies.contains(n) { return .company }
            if positions.contains(n) { return .position }
            if websites.contains(n) { return .website }
            if notes.contains(n) { return .notes }
            if labelledNotes.contains(n) { return .labelledNote }
            if edrpous.contains(n) { return .edrpou }
            if telegrams.contains(n) { return .telegram }
            if vibers.contains(n) { return .viber }
            if groups.contains(n) { return .group }
            if owners.contains(n) { return .owner }
            if kinds.contains(n) { return .kind }
            for (prefix, set) in addressSets where n.hasPrefix(prefix) {
                let rest = String(n.dropFirst(prefix.count))
                // Thunderbird: "Home Address" is the street, "Home Address 2" the second line.
                if !prefix.isEmpty, rest == "address" { return .address(set: set, part: 0) }
                if !prefix.isEmpty, rest == "address2" { return .address(set: set, part: 1) }
                if let p = addressParts.first(where: { $0.names.contains(rest) }) { return .address(set: set, part: p.part) }
            }
            return .ignore
        }
    }

    /// Google's numbered columns: `Phone 1 - Value`, `Phone 1 - Type`, `E-mail 2 - Value`,
    /// `Organization 1 - Name`, `Organization 1 - Title`, `Address 1 - Formatted`, `Website 1 - Value`.
    static func googleTarget(_ header: String) -> ContactTarget? {
        let parts = header.components(separatedBy: " - ")
        guard parts.count == 2 else { return nil }
        let head = parts[0].trimmed.split(separator: " ")
        guard head.count >= 2, let n = Int(head[head.count - 1]) else { return nil }
        let kind = normalizedLabel(head.dropLast().joined(separator: " "))
        let field = normalizedLabel(parts[1])
        switch (kind, field) {
        case ("phone", "value"): return .phone(label: nil, group: n)
        case ("phone", "type"): return .phoneType(group: n)
        case ("email", "value"): return .email
        case ("organization", "name"): return .company
        case ("organization", "title"), ("organization", "jobtitle"): return .position
        case ("address", "formatted"): return .address(set: "google\(n)", part: 9)
        case ("address", "street"): return .address(set: "google\(n)", part: 0)
        case ("address", "city"): return .address(set: "google\(n)", part: 2)
        case ("address", "region"): return .address(set: "google\(n)", part: 3)
        case ("address", "postalcode"): return .address(set: "google\(n)", part: 4)
        case ("address", "country"): return .address(set: "google\(n)", part: 5)
        case ("website", "value"): return .website
        default: return .ignore
        }
    }

    // MARK: rows

    static let companyKindWords = names(["company", "компанія", "компания", "юридична особа", "юридическое лицо", "organization", "true", "yes", "1"])

    static func row(line: Int, headers: [String], targets: [ContactTarget], values: [String]) -> IngestMethods.ImportRow {
        var r = IngestMethods.ImportRow(line: line)
        var first: String?, last: String?, middle: String?
        var phones: [IngestMethods.ImportPhone] = []
        var emails: [String] = []
        var notes: [String] = []
        var address: [String: [Int: String]] = [:]
        var addressOrder: [String] = []
        var phoneTypes: [Int: String] = [:]
        var isCompany = false
        for (i, t) in targets.enumerated() where i < values.count {
            if case .phoneType(let g) = t, let v = values[i].nonEmpty { phoneTypes[g] = v }
        }
        for (i, raw) in values.enumerated() where i < targets.count {
            guard let v = raw.nonEmpty else { continue }
            switch targets[i] {
            case .fullName: r.fullName = r.fullName ?? v
            case .firstName: first = first ?? v
            case .lastName: last = last ?? v
            case .middleName: middle = middle ?? v
            case .phone(let label, let group):
                let l = group.flatMap { phoneTypes[$0] }.map { $0.lowercased().replacingOccurrences(of: "* ", with: "") } ?? label
                for p in PhoneNormalizer.split(v) { phones.append(.init(number: p, label: l)) }
            case .phoneType: break
            case .email:
                for e in v.components(separatedBy: ":::").flatMap({ $0.split(whereSeparator: { ",; \t\r\n".contains($0) }) }) {
                    if let t = String(e).nonEmpty, !emails.contains(t) { emails.append(t) }
                }
            case .company: r.companyName = r.companyName ?? v
            case .position: r.position = r.position ?? v
            case .website: r.website = r.website ?? v
            case .notes: notes.insert(v, at: 0)
            case .labelledNote: notes.append("\(headers[i]): \(v)")
            case .address(let set, let part):
                if address[set] == nil { addressOrder.append(set) }
                address[set, default: [:]][part] = v
            case .edrpou: r.edrpou = r.edrpou ?? v
            case .telegram: r.telegram = r.telegram ?? v
            case .viber: r.viber = r.viber ?? v
            case .group:
                let g = v.lowercased()
                if ["lead", "contact", "client"].contains(g) { r.group = g } else { notes.append("\(headers[i]): \(v)") }
            case .owner: r.ownerLogin = r.ownerLogin ?? v
            case .kind: isCompany = companyKindWords.contains(normalizedLabel(v))
            case .ignore: break
            }
        }
        if r.fullName == nil {
            let parts = [first, middle, last].compactMap { $0 }
            if !parts.isEmpty { r.fullName = parts.joined(separator: " ") }
        }
        // The first address set that has anything (generic, then work, home, other).
        let preferred = ["", "work", "home", "other"] + addressOrder
        if let set = preferred.first(where: { address[$0] != nil }), let parts = address[set] {
            r.address = parts[9] ?? [0, 1, 2, 3, 4, 5].compactMap { parts[$0] }.joined(separator: ", ").nonEmpty
        }
        if isCompany {
            r.kind = .company
            if r.companyName == nil { r.companyName = r.fullName; r.fullName = nil }
        } else if r.fullName == nil, r.companyName != nil, phones.isEmpty == false || emails.isEmpty == false || r.edrpou != nil {
            r.kind = .company
        } else {
            r.kind = .contact
        }
        r.phones = phones.isEmpty ? nil : phones
        r.emails = emails.isEmpty ? nil : emails
        r.notes = notes.isEmpty ? nil : notes.joined(separator: "\n")
        return r
    }
}
