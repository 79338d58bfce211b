import Foundation
import KontorProtocol

/// vCard files (`.vcf`) → `contact.import` rows.
///
/// Source: RFC 6350 (vCard 4.0): content lines `NAME;PARAMS:value` ended by CRLF,
/// folded lines continue with a space or TAB (section 3.2), value escapes `\,` `\;` `\\`
/// `\n` (section 3.4), properties `FN`, `N` (family;given;additional;prefix;suffix),
/// `TEL`, `EMAIL`, `ORG`, `TITLE`, `NOTE`, `ADR`, `URL`. vCard 3.0 and 2.1 files read the
/// same for these properties. Only CRLF or LF end a line; a bare CR stays in the value.
public enum VCardParser {
    /// One row per card; `line` is the line of its `BEGIN:VCARD`.
    public static func parse(_ bytes: [UInt8]) -> [IngestMethods.ImportRow] {
        let text = ContactsCSV.decode(bytes).text
        // Split into physical lines on LF (a CR before it is dropped), keep line numbers.
        var physical: [(line: Int, text: Substring)] = []
        var n = 0
        // "\r\n" is one Character in Swift: split on it and on "\n"; a bare CR stays.
        for l in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            n += 1
            physical.append((n, l))
        }
        // Unfold.
        var logical: [(line: Int, text: String)] = []
        for (line, l) in physical {
            if let f = l.first, f == " " || f == "\t", !logical.isEmpty {
                logical[logical.count - 1].text += l.dropFirst()
            } else {
                logical.append((line, String(l)))
            }
        }
        var rows: [IngestMethods.ImportRow] = []
        var current: IngestMethods.ImportRow? = nil
        var n4: [String] = []
        for (line, l) in logical {
            guard let colon = l.firstIndex(of: ":") else { continue }
            let head = l[..<colon]
            let value = String(l[l.index(after: colon)...])
            let nameAndParams = head.split(separator: ";")
            guard let rawName = nameAndParams.first else { continue }
            // Group prefix: "item1.TEL".
            let name = rawName.split(separator: ".").last.map { $0.uppercased() } ?? ""
            let params = nameAndParams.dropFirst().map { $0.lowercased() }
            switch name {
            case "BEGIN" where value.trimmed.uppercased() == "VCARD":
                current = IngestMethods.ImportRow(line: line, kind: .contact)
                n4 = []
            case "END" where value.trimmed.uppercased() == "VCARD":
                if var r = current {
                    if r.fullName == nil {
                        let parts = [n4.count > 1 ? n4[1] : "", n4.count > 2 ? n4[2] : "", n4.first ?? ""].compactMap { $0.nonEmpty }
                        if !parts.isEmpty { r.fullName = parts.joined(separator: " ") }
                    }
                    if r.fullName == nil, r.companyName != nil { r.kind = .company }
                    rows.append(r)
                }
                current = nil
            default:
                guard var card = current else { continue }
                defer { current = card }
                let v = unescape(value)
                switch name {
                case "FN": card.fullName = v.nonEmpty
                case "N": n4 = splitUnescaped(value, ";").map { unescape($0).trimmed }
                case "TEL":
                    let number = v.hasPrefix("tel:") ? String(v.dropFirst(4)) : v
                    guard let t = number.nonEmpty else { break }
                    let type = params.first(where: { $0.hasPrefix("type=") }).map { String($0.dropFirst(5)).replacingOccurrences(of: "\"", with: "") }
                    let label = type.flatMap { t in ["cell", "work", "home"].first(where: t.contains) }.map { $0 == "cell" ? "mobile" : $0 }
                    card.phones = (card.phones ?? []) + [.init(number: t, label: label)]
                case "EMAIL":
                    if let e = v.nonEmpty { card.emails = (card.emails ?? []) + [e] }
                case "ORG": card.companyName = splitUnescaped(value, ";").first.map(unescape)?.nonEmpty
                case "TITLE": card.position = v.nonEmpty
                case "NOTE": card.notes = v.nonEmpty
                case "URL": card.website = card.website ?? v.nonEmpty
                case "ADR":
                    let parts = splitUnescaped(value, ";").map { unescape($0).trimmed }.filter { !$0.isEmpty }
                    if !parts.isEmpty { card.address = card.address ?? parts.joined(separator: ", ") }
                default: break
                }
            }
        }
        return rows
    }

    /// Splits on `sep` not preceded by a backslash.
    static func splitUnescaped(_ s: String, _ sep: Character) -> [String] {
        var out: [String] = []
        var cur = ""
        var escaped = false
        for c in s {
            if escaped { cur.append("\\"); cur.append(c); escaped = false; continue }
            if c == "\\" { escaped = true; continue }
            if c == sep { out.append(cur); cur = ""; continue }
            cur.append(c)
        }
        if escaped { cur.append("\\") }
        out.append(cur)
        return out
    }

    /// `\n` → newline, `\,` → `,`, `\;` → `;`, `\\` → `\`.
    static func unescape(_ s: String) -> String {
        var out = ""
        var escaped = false
        for c in s {
            if escaped {
                switch c {
                case "n", "N": out.append("\n")
                default: out.append(c)
                }
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else {
                out.append(c)
            }
        }
        if escaped { out.append("\\") }
        return out
    }
}
