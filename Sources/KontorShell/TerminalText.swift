/// Text measured and cut in terminal cells: Cyrillic and Latin letters take one cell,
/// CJK and emoji two, combining marks none. Server data never reaches the terminal with
/// control characters in it (an escape sequence in a contact's name must not drive the
/// terminal).
public enum TerminalText {
    /// How many cells `s` takes on a terminal.
    public static func width(_ s: String) -> Int {
        var w = 0
        for c in s { w += width(c) }
        return w
    }

    /// Cells of one grapheme cluster.
    public static func width(_ c: Character) -> Int {
        guard let first = c.unicodeScalars.first else { return 0 }
        let v = first.value
        if v < 0x20 || (0x7F..<0xA0).contains(v) { return 0 }
        if v < 0x300 { return 1 }
        switch first.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return 0
        default: break
        }
        if isWide(v) { return 2 }
        // An emoji with a presentation selector or made of several scalars (flags,
        // families) is drawn two cells wide.
        if c.unicodeScalars.contains(where: { $0.value == 0xFE0F }) && first.properties.isEmoji { return 2 }
        if first.properties.isEmojiPresentation { return 2 }
        return 1
    }

    /// East Asian Wide and Fullwidth ranges (Unicode 15, abridged to the blocks that
    /// matter for text people type).
    static func isWide(_ v: UInt32) -> Bool {
        switch v {
        case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF,
             0xA000...0xA4CF, 0xA960...0xA97F, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE10...0xFE19,
             0xFE30...0xFE6F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x1F300...0x1F64F, 0x1F900...0x1F9FF,
             0x20000...0x2FFFD, 0x30000...0x3FFFD:
            return true
        default:
            return false
        }
    }

    /// `s` with control characters made harmless: tabs and line breaks become spaces
    /// (`⏎` for a line break inside a value), other C0/C1 controls and ESC become `�`.
    public static func sanitize(_ s: String, keepNewlines: Bool = false) -> String {
        guard s.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F..<0xA0).contains($0.value) }) else { return s }
        var out = String.UnicodeScalarView()
        for u in s.unicodeScalars {
            switch u.value {
            case 0x0A where keepNewlines: out.append(u)
            case 0x0A: out.append("⏎")
            case 0x0D: continue
            case 0x09: out.append(" ")
            case 0..<0x20, 0x7F..<0xA0: out.append("\u{FFFD}")
            default: out.append(u)
            }
        }
        return String(out)
    }

    /// `s` cut to at most `cells` cells, ending in `…` when cut.
    public static func truncate(_ s: String, to cells: Int) -> String {
        if cells <= 0 { return "" }
        if width(s) <= cells { return s }
        var out = ""
        var w = 0
        for c in s {
            let cw = width(c)
            if w + cw > cells - 1 { break }
            out.append(c)
            w += cw
        }
        return out + "…"
    }

    /// `s` padded with spaces to `cells` cells (on the right, or on the left when
    /// `right` is set). Longer text is returned as it is.
    public static func pad(_ s: String, to cells: Int, right: Bool = false) -> String {
        let w = width(s)
        if w >= cells { return s }
        let fill = String(repeating: " ", count: cells - w)
        return right ? fill + s : s + fill
    }

    /// Drops ANSI escape sequences (CSI and OSC) from `s`, to measure coloured text.
    public static func stripANSI(_ s: String) -> String {
        guard s.contains("\u{1B}") else { return s }
        var out = String.UnicodeScalarView()
        var it = s.unicodeScalars.makeIterator()
        while let u = it.next() {
            guard u == "\u{1B}" else { out.append(u); continue }
            guard let n = it.next() else { break }
            if n == "[" {
                while let c = it.next(), !(0x40...0x7E).contains(c.value) {}
            } else if n == "]" {
                while let c = it.next(), c != "\u{07}" {
                    if c == "\u{1B}" { _ = it.next(); break }
                }
            }
        }
        return String(out)
    }
}

/// ANSI colours, used only when the output is a terminal that wants them.
public struct ANSIStyle: Sendable {
    /// Whether escapes are written at all.
    public var enabled: Bool

    /// Colours on or off.
    public init(enabled: Bool) { self.enabled = enabled }

    /// `text` in the SGR colour `code` (e.g. `"36"` cyan, `"2"` dim, `"1;31"` bold red).
    public func paint(_ text: String, _ code: String) -> String {
        enabled && !text.isEmpty ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }
}
