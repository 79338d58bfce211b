import Foundation

/// A phone ready to store: the written text (trimmed), its label and what
/// libphonenumber made of it.
public struct PhoneEntry: Sendable, Equatable {
    public let written: String
    public let label: String?
    public let normalized: NormalizedPhone
    /// The uniqueness key among live contacts: E.164 plus extension; nil when not parsed.
    public var lineKey: String? { normalized.e164.map { $0 + ";" + (normalized.extensionNumber ?? "") } }
}

/// An e-mail ready to store.
public struct EmailEntry: Sendable, Equatable {
    public let address: EmailAddress
    public let label: String?
}

/// Cleaning and checking of what people type into record fields. Pure; every failure is
/// `invalid_params` naming the field (`phones[1].number`).
public enum RecordInput {
    /// Trims whitespace and control characters at both ends; empty → nil.
    ///
    /// - Parameter multiline: allow line breaks and tabs inside (notes, comments).
    /// - Throws: `invalid_params` when longer than `max` characters or holding control
    ///   characters (other than line breaks/tabs in multiline text).
    public static func text(_ s: String?, field: String, max: Int, multiline: Bool = false) throws -> String? {
        guard let s else { return nil }
        let t = s.trimmingCharacters(in: .whitespacesAndNewlines.union(.controlCharacters))
        if t.isEmpty { return nil }
        if t.count > max { throw KontorError.invalidParams(field, "\(field) is longer than \(max) characters") }
        let allowed: Set<Unicode.Scalar> = multiline ? ["\n", "\r", "\t"] : []
        if t.unicodeScalars.contains(where: { $0.properties.generalCategory == .control && !allowed.contains($0) }) {
            throw KontorError.invalidParams(field, "\(field) contains control characters")
        }
        return t
    }

    /// An identifier another system gave (`external_id` of calls, messages and
    /// shipments, a call's `linked_id`, a message's `edit_of`): a key, compared byte for
    /// byte, so it is never trimmed, case-folded or otherwise rewritten — two different
    /// ids must never be taken for one (a repeat answered as a duplicate). Text that
    /// cannot be kept exactly is refused instead: control characters (PostgreSQL cannot
    /// store NUL; a tab would have been made a space) and an id of nothing but spaces.
    /// Empty → nil.
    /// - Throws: `invalid_params` (field `field`): control characters, only whitespace,
    ///   longer than `max` characters.
    public static func key(_ s: String?, field: String, max: Int) throws -> String? {
        guard let s, !s.isEmpty else { return nil }
        if s.count > max { throw KontorError.invalidParams(field, "\(field) is longer than \(max) characters") }
        if s.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw KontorError.invalidParams(field, "\(field) contains control characters; an id is kept exactly as sent, so they are refused")
        }
        if s.allSatisfy(\.isWhitespace) { throw KontorError.invalidParams(field, "\(field) is only whitespace") }
        return s
    }

    /// Like `text`, but the value is required.
    public static func required(_ s: String, field: String, max: Int, multiline: Bool = false) throws -> String {
        guard let t = try text(s, field: field, max: max, multiline: multiline) else {
            throw KontorError.invalidParams(field, "\(field) must not be empty")
        }
        return t
    }

    /// Normalises a list of phones (position = order). Unreadable numbers are kept, not
    /// refused. The same line (E.164 + extension) twice in one list is refused.
    public static func phones(_ inputs: [(number: String, label: String?)], normalizer: PhoneNormalizer,
                              field: String = "phones") throws -> [PhoneEntry] {
        if inputs.count > 20 { throw KontorError.invalidParams(field, "at most 20 phones per contact") }
        var out: [PhoneEntry] = []
        var seen: [String: Int] = [:]
        for (i, input) in inputs.enumerated() {
            let f = "\(field)[\(i)]"
            // Pasted numbers carry TABs and line breaks: libphonenumber gets the text as
            // given (the normaliser strips them); the stored form has them as spaces.
            let n = normalizer.normalize(input.number)
            let spaced = String(String.UnicodeScalarView(input.number.unicodeScalars.map {
                $0.properties.generalCategory == .control ? " " : $0
            }))
            let written = try required(spaced, field: f + ".number", max: 100)
            let label = try text(input.label, field: f + ".label", max: 40)
            let entry = PhoneEntry(written: written, label: label, normalized: n)
            let key = entry.lineKey ?? "written:" + (n.searchKey.isEmpty ? written : n.searchKey)
            if let j = seen[key] { throw KontorError.invalidParams(f + ".number", "\(f) is the same number as \(field)[\(j)]") }
            seen[key] = i
            out.append(entry)
        }
        return out
    }

    /// Normalises a list of e-mails (`EmailAddress.normalize`); refuses invalid ones and
    /// repeats.
    public static func emails(_ inputs: [(address: String, label: String?)], field: String = "emails") throws -> [EmailEntry] {
        if inputs.count > 20 { throw KontorError.invalidParams(field, "at most 20 e-mails per contact") }
        var out: [EmailEntry] = []
        var seen: [String: Int] = [:]
        for (i, input) in inputs.enumerated() {
            let f = "\(field)[\(i)]"
            let label = try text(input.label, field: f + ".label", max: 40)
            switch EmailAddress.normalize(input.address) {
            case .invalid(let why):
                throw KontorError.invalidParams(f + ".address", "\(input.address) is not an e-mail address (\(why))")
            case .normalized(let a):
                if let j = seen[a.normalized] { throw KontorError.invalidParams(f + ".address", "\(f) is the same address as \(field)[\(j)]") }
                seen[a.normalized] = i
                out.append(EmailEntry(address: a, label: label))
            }
        }
        return out
    }

    /// Checks messenger accounts: an external id (1–200 characters) and/or a handle
    /// (`@` stripped, lower-cased, letters, digits, `_` and `.`, 1–100); no repeats.
    public static func messengers(_ inputs: [ContactMessenger], field: String = "messengers") throws -> [ContactMessenger] {
        if inputs.count > 20 { throw KontorError.invalidParams(field, "at most 20 messenger accounts per contact") }
        var out: [ContactMessenger] = []
        var seen: Set<String> = []
        for (i, m) in inputs.enumerated() {
            let f = "\(field)[\(i)]"
            let id = try text(m.externalID, field: f + ".external_id", max: 200)
            var handle = try text(m.handle, field: f + ".handle", max: 101)
            if let h = handle {
                let bare = (h.hasPrefix("@") ? String(h.dropFirst()) : h).lowercased()
                guard !bare.isEmpty, bare.count <= 100,
                      bare.unicodeScalars.allSatisfy({ ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || $0 == "_" || $0 == "." })
                else { throw KontorError.invalidParams(f + ".handle", "a handle is 1 to 100 letters, digits, '_' or '.'") }
                handle = bare
            }
            guard id != nil || handle != nil else {
                throw KontorError.invalidParams(f + ".external_id", "a messenger account needs an external_id or a handle")
            }
            for key in [id.map { "\(m.kind):id:\($0)" }, handle.map { "\(m.kind):h:\($0)" }].compactMap({ $0 }) {
                guard seen.insert(key).inserted else { throw KontorError.invalidParams(f, "\(f) repeats an account given before") }
            }
            out.append(ContactMessenger(kind: m.kind, externalID: id, handle: handle))
        }
        return out
    }

    /// ЄДРПОУ (8 digits) or РНОКПП (10 digits), spaces allowed in the input.
    public static func edrpou(_ s: String?, field: String = "edrpou") throws -> String? {
        guard let t = try text(s, field: field, max: 20) else { return nil }
        let digits = t.filter { !$0.isWhitespace }
        guard digits.allSatisfy({ $0.isASCII && $0.isNumber }), digits.count == 8 || digits.count == 10 else {
            throw KontorError.invalidParams(field, "an EDRPOU code is 8 digits (10 for a sole trader's tax number)")
        }
        return digits
    }

    /// A VAT payer number (ІПН платника ПДВ): 10 or 12 digits.
    public static func vatNumber(_ s: String?, field: String = "vat_number") throws -> String? {
        guard let t = try text(s, field: field, max: 20) else { return nil }
        let digits = t.filter { !$0.isWhitespace }
        guard digits.allSatisfy({ $0.isASCII && $0.isNumber }), digits.count == 10 || digits.count == 12 else {
            throw KontorError.invalidParams(field, "a VAT number is 10 or 12 digits")
        }
        return digits
    }
}
