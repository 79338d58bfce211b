import Foundation
/// HTML (an HTML-only e-mail body) → plain text for people.
///
/// Source: WHATWG HTML, sections "Parsing HTML documents" (tags, comments, raw-text
/// elements `script` and `style`), "White space" (runs collapse to one space) and
/// "Named character references" (the common ones; numeric references in full). Block
/// elements end lines; `br` is a line break; cells are separated by a space.
public enum HTMLText {
    static let blockTags: Set<String> = [
        "p", "div", "br", "tr", "li", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "hr",
        "section", "article", "header", "footer", "pre", "address", "dl", "dt", "dd", "title",
    ]
    static let skipTags: Set<String> = ["script", "style", "head", "template", "noscript"]
    static let entities: [String: String] = [
        "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": " ", "laquo": "«", "raquo": "»",
        "mdash": "—", "ndash": "–", "hellip": "…", "copy": "©", "reg": "®", "euro": "€", "bull": "•", "middot": "·",
        "lsquo": "‘", "rsquo": "’", "ldquo": "“", "rdquo": "”", "bdquo": "„", "trade": "™", "deg": "°", "times": "×",
        "shy": "",
    ]

    /// The text of `html`, lines trimmed, at most one blank line in a row.
    public static func toText(_ html: String) -> String {
        let s = Array(html.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        var pendingSpace = false
        func emit(_ c: Unicode.Scalar) {
            if c == " " || c == "\t" || c == "\n" || c == "\r" || c == "\u{0C}" {
                pendingSpace = true
                return
            }
            if pendingSpace, let last = out.last, last != "\n" { out.append(" ") }
            pendingSpace = false
            out.append(c)
        }
        func newline() {
            pendingSpace = false
            while out.last == " " { out.removeLast() }
            out.append("\n")
        }
        func lower(_ a: ArraySlice<Unicode.Scalar>) -> String {
            String(String.UnicodeScalarView(a)).lowercased()
        }
        // The first ">" at or after the last search: `i` only grows, so remembering it keeps
        // a text full of "<" (a malformed or hostile mail) linear instead of quadratic.
        var knownClose = -1
        func closeIndex(from i: Int) -> Int? {
            if knownClose < i { knownClose = s[i...].firstIndex(of: ">") ?? s.count }
            return knownClose < s.count ? knownClose : nil
        }
        while i < s.count {
            let c = s[i]
            if c == "<" {
                // Comment
                if i + 3 < s.count, s[i + 1] == "!", s[i + 2] == "-", s[i + 3] == "-" {
                    var j = i + 4
                    while j + 2 < s.count, !(s[j] == "-" && s[j + 1] == "-" && s[j + 2] == ">") { j += 1 }
                    i = min(s.count, j + 3)
                    continue
                }
                guard let close = closeIndex(from: i) else { emit(c); i += 1; continue }
                var nameStart = i + 1
                let closing = nameStart < close && s[nameStart] == "/"
                if closing { nameStart += 1 }
                var nameEnd = nameStart
                while nameEnd < close, s[nameEnd].properties.isAlphabetic || ("0"..."9").contains(s[nameEnd]) { nameEnd += 1 }
                let name = lower(s[nameStart..<nameEnd])
                if name.isEmpty, !(nameStart < close && s[nameStart] == "!") {
                    emit(c); i += 1; continue  // a lone "<" in text
                }
                i = close + 1
                if !closing, skipTags.contains(name) {
                    // Skip to the matching end tag.
                    let endTag = Array("</\(name)".unicodeScalars)
                    var j = i
                    while j + endTag.count <= s.count {
                        if lower(s[j..<(j + endTag.count)]) == "</\(name)" { break }
                        j += 1
                    }
                    if let gt = s[min(j, s.count)...].firstIndex(of: ">") { i = gt + 1 } else { i = s.count }
                    continue
                }
                if blockTags.contains(name) { newline() } else if name == "td" || name == "th" { pendingSpace = true }
                continue
            }
            if c == "&" {
                var j = i + 1
                while j < s.count, j - i <= 10, s[j] != ";", s[j] != "&", s[j] != "<", s[j] != " " { j += 1 }
                if j < s.count, s[j] == ";" {
                    let ref = String(String.UnicodeScalarView(s[(i + 1)..<j]))
                    var replacement: String? = nil
                    if ref.hasPrefix("#x") || ref.hasPrefix("#X") {
                        replacement = UInt32(ref.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init).map { String($0) }
                    } else if ref.hasPrefix("#") {
                        replacement = UInt32(ref.dropFirst()).flatMap(Unicode.Scalar.init).map { String($0) }
                    } else {
                        replacement = entities[ref.lowercased()]
                    }
                    if let replacement {
                        if replacement == " " && ref.lowercased() == "nbsp" {
                            if pendingSpace, let last = out.last, last != "\n" { out.append(" ") }
                            pendingSpace = false
                            out.append(" ")
                        } else {
                            for u in replacement.unicodeScalars { emit(u) }
                        }
                        i = j + 1
                        continue
                    }
                }
            }
            emit(c)
            i += 1
        }
        // Tidy: trim lines, at most one blank line in a row.
        var lines: [String] = []
        for line in String(out).split(separator: "\n", omittingEmptySubsequences: false) {
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.isEmpty, lines.last?.isEmpty ?? true { continue }
            lines.append(t)
        }
        while lines.last?.isEmpty == true { lines.removeLast() }
        return lines.joined(separator: "\n")
    }
}
