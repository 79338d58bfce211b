import Foundation
import KontorDomain
import KontorProtocol

/// Compares column and field names as people write them: lower case, letters and
/// digits only (`E-mail` = `email`, `Full_Name` = `full name`, `Ім'я` = `ім’я`).
public func normalizedLabel(_ s: String) -> String {
    String(s.lowercased().unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) }.map(Character.init))
}

/// Which fields of a site form are the name, e-mail, phone and message.
///
/// Each list holds field names or labels (compared with ``normalizedLabel(_:)``); the
/// configuration's lists come before the defaults. `id` and `time` are dotted JSON paths
/// of the submission id and time.
public struct FormMapping: Sendable, Equatable {
    public var name: [String]
    public var firstName: [String]
    public var lastName: [String]
    public var email: [String]
    public var phone: [String]
    public var message: [String]
    public var company: [String]
    public var id: [String]
    public var time: [String]
    public var title: [String]

    /// Extra names per target (tried before the defaults).
    public init(name: [String] = [], firstName: [String] = [], lastName: [String] = [], email: [String] = [],
                phone: [String] = [], message: [String] = [], company: [String] = [], id: [String] = [],
                time: [String] = [], title: [String] = []) {
        self.name = name; self.firstName = firstName; self.lastName = lastName; self.email = email; self.phone = phone
        self.message = message; self.company = company; self.id = id; self.time = time; self.title = title
    }

    /// The built-in names (English, Ukrainian, Russian).
    public static let defaults = FormMapping(
        name: ["name", "full name", "your name", "contact name", "fio", "ім'я", "імя", "піб", "ім'я та прізвище", "имя", "фио", "ваше имя", "ваше ім'я"],
        firstName: ["first name", "given name", "firstname"],
        lastName: ["last name", "family name", "surname", "прізвище", "фамилия"],
        email: ["email", "e-mail", "email address", "mail", "your email", "пошта", "електронна пошта", "почта", "электронная почта"],
        phone: ["phone", "telephone", "tel", "phone number", "mobile", "your phone", "телефон", "номер телефону", "номер телефона", "тел"],
        message: ["message", "comment", "comments", "text", "question", "details", "your message", "повідомлення", "коментар",
                  "питання", "сообщение", "комментарий", "вопрос"],
        company: ["company", "organization", "organisation", "company name", "компанія", "компания", "организация", "організація"],
        id: ["data.submissionId", "data.responseId", "_id", "id", "submission_id", "submissionId", "eventId"],
        time: ["data.createdAt", "createdAt", "d", "submitted_at", "submittedAt", "date", "timestamp"],
        title: ["data.formName", "formName", "form_name", "form"])

    /// These lists first, then the defaults.
    public func overDefaults() -> FormMapping {
        let d = FormMapping.defaults
        return FormMapping(name: name + d.name, firstName: firstName + d.firstName, lastName: lastName + d.lastName,
                           email: email + d.email, phone: phone + d.phone, message: message + d.message,
                           company: company + d.company, id: id + d.id, time: time + d.time, title: title + d.title)
    }
}

/// Site-form submissions (webhooks of form builders, or a plain HTML form POST) →
/// `message.ingest` with channel `site`.
///
/// Accepted bodies:
/// * JSON with `data.fields[]` of `{key, label, type, value}` (Tally and similar
///   builders; source: Tally docs "Webhooks", event `FORM_RESPONSE`);
/// * JSON with a `data` object of field → value (Webflow `form_submission`; source:
///   Webflow docs "Form submission" webhook: `name`, `site`, `data`, `d`, `_id`);
/// * any other JSON object (its scalar members, nested objects as dotted names);
/// * `application/x-www-form-urlencoded` (an HTML form posting straight to the bridge).
///
/// The ``FormMapping`` picks name, e-mail, phone, company and message; every other field
/// is added to the text as `label: value`. The company is `sender.company` (a new
/// contact's organisation) and also a `Company:` line of the text. An e-mail that is not a valid address is kept
/// in the text, not in `sender.email`. `external_id` is `<form name>:` followed by the
/// submission id (mapping `id`) or, failing that, `sha256:` of the body — a provider's
/// retry of the same body is then the same event. The form name keeps two forms' ids
/// apart: kontord's idempotency key is (channel, external id) and every form is `site`.
public enum WebFormParser {
    /// One field of a submission.
    public struct Field: Sendable, Equatable {
        public var label: String
        public var key: String?
        public var type: String?
        public var value: String
    }

    /// The fields and the JSON (for ids and times) of a body.
    public static func fields(body: [UInt8], contentType: String?) throws -> (fields: [Field], json: JSONValue) {
        let isForm = contentType?.lowercased().contains("x-www-form-urlencoded") == true
            || (contentType == nil && body.firstNonSpace != UInt8(ascii: "{"))
        if isForm {
            let pairs = FormEncoding.pairs(body)
            guard !pairs.isEmpty else { throw PayloadError("form: no fields") }
            return (pairs.map { Field(label: $0.key, key: $0.key, type: nil, value: $0.value) }, JSONValue.formObject(pairs))
        }
        let json = try JSONValue.payload(body)
        guard json.objectValue != nil else { throw PayloadError("form: expected a JSON object") }
        if case .array(let items)? = json["data"]?["fields"] {
            let fs = items.compactMap { item -> Field? in
                guard let label = item["label"]?.text ?? item["key"]?.text else { return nil }
                return Field(label: label, key: item["key"]?.text, type: item["type"]?.text, value: valueText(item["value"], options: item["options"]))
            }
            return (fs, json)
        }
        if case .object(let data)? = json["data"], data.values.allSatisfy({ $0.scalarText != nil || $0 == .null }) {
            return (data.keys.sorted().map { Field(label: $0, key: $0, type: nil, value: data[$0]?.scalarText ?? "") }, json)
        }
        var out: [Field] = []
        flatten(json, prefix: "", into: &out)
        return (out, json)
    }

    static func flatten(_ v: JSONValue, prefix: String, into out: inout [Field]) {
        switch v {
        case .object(let o):
            for k in o.keys.sorted() { flatten(o[k] ?? .null, prefix: prefix.isEmpty ? k : prefix + "." + k, into: &out) }
        case .array:
            out.append(Field(label: prefix, key: prefix, type: nil, value: valueText(v, options: nil)))
        case .null: break
        default:
            out.append(Field(label: prefix, key: prefix, type: nil, value: v.scalarText ?? ""))
        }
    }

    /// A field value as text: scalars as written; arrays joined with ", " (choice ids
    /// replaced by their option texts when the builder sends `options`).
    static func valueText(_ v: JSONValue?, options: JSONValue?) -> String {
        switch v {
        case .array(let a)?:
            return a.map { item -> String in
                let id = item.scalarText ?? item.jsonText
                if case .array(let opts)? = options, let o = opts.first(where: { $0["id"]?.scalarText == id }), let t = o["text"]?.text {
                    return t
                }
                return id
            }.joined(separator: ", ")
        case .object?: return v?.jsonText ?? ""
        case .null?, nil: return ""
        default: return v?.scalarText ?? ""
        }
    }

    static func lookup(_ json: JSONValue, path: String) -> JSONValue? {
        var cur: JSONValue? = json
        for p in path.split(separator: ".") { cur = cur?[String(p)] }
        return cur
    }

    /// What a submission says, after mapping (for tests and `--dry-run`).
    public struct Mapped: Sendable, Equatable {
        public var name: String?
        public var email: String?
        public var phone: String?
        public var company: String?
        public var message: String?
        /// Fields that matched nothing, as `label: value`.
        public var other: [String]
    }

    /// Picks name, e-mail, phone, company and message out of `fields`.
    public static func map(_ fields: [Field], mapping: FormMapping) -> Mapped {
        let m = mapping.overDefaults()
        var used = Set<Int>()
        func pick(_ names: [String], types: [String] = []) -> String? {
            for n in names.map(normalizedLabel) {
                for (i, f) in fields.enumerated() where !used.contains(i) {
                    if normalizedLabel(f.label) == n || f.key.map(normalizedLabel) == n {
                        used.insert(i)
                        return f.value.nonEmpty
                    }
                }
            }
            for (i, f) in fields.enumerated() where !used.contains(i) {
                if let t = f.type?.uppercased(), types.contains(t) { used.insert(i); return f.value.nonEmpty }
            }
            return nil
        }
        let email = pick(m.email, types: ["INPUT_EMAIL", "EMAIL"])
        let phone = pick(m.phone, types: ["INPUT_PHONE_NUMBER", "PHONE", "PHONE_NUMBER"])
        var name = pick(m.name)
        let first = pick(m.firstName), last = pick(m.lastName)
        if name == nil, first != nil || last != nil { name = [first, last].compactMap { $0 }.joined(separator: " ") }
        let company = pick(m.company)
        let message = pick(m.message, types: ["TEXTAREA"])
        var other: [String] = []
        for (i, f) in fields.enumerated() where !used.contains(i) {
            if let v = f.value.nonEmpty { other.append("\(f.label): \(v)") }
        }
        return Mapped(name: name, email: email, phone: phone, company: company, message: message, other: other)
    }

    /// Parses one submission of the form configured as `formName`.
    public static func parse(body: [UInt8], contentType: String?, formName: String, mapping: FormMapping,
                             receivedAt: Date) throws -> IngestMethods.MessageIngestParams {
        let (fs, json) = try fields(body: body, contentType: contentType)
        let mapped = map(fs, mapping: mapping)
        let m = mapping.overDefaults()
        let id = m.id.lazy.compactMap { lookup(json, path: $0)?.text }.first ?? ("sha256:" + Hashing.sha256Hex(body))
        let time = m.time.lazy.compactMap { Times.flexible(lookup(json, path: $0)) }.first ?? receivedAt
        var title = m.title.lazy.compactMap { path -> String? in
            guard let v = lookup(json, path: path), case .string(let s) = v else { return nil }
            return s.nonEmpty
        }.first
        if title == nil, json["data"]?.objectValue != nil, let n = json["name"]?.stringValue?.nonEmpty {
            title = n  // Webflow: the form's name next to its data
        }
        var sender = IngestMethods.MessageSender(phone: mapped.phone, name: mapped.name, company: mapped.company)
        var lines: [String] = []
        if let msg = mapped.message { lines.append(msg) }
        var extra: [String] = []
        if let e = mapped.email {
            if EmailAddress(e) != nil { sender.email = e } else { extra.append("E-mail: \(e)") }
        }
        if let c = mapped.company { extra.append("Company: \(c)") }
        extra += mapped.other
        if !extra.isEmpty {
            if !lines.isEmpty { lines.append("") }
            lines += extra
        }
        return IngestMethods.MessageIngestParams(
            externalID: "\(formName):\(id)", channel: .site, direction: .inbound, sender: sender, recipient: "form:\(formName)",
            subject: title, text: lines.joined(separator: "\n"), receivedAt: time, threadID: nil, attachments: nil,
            managerLogin: nil, raw: json)
    }
}
