import Foundation
import KontorProtocol

/// A table of text cells, laid out to a width.
public struct TextTable: Sendable {
    /// One column: its title and whether its cells are right-aligned (numbers).
    public struct Column: Sendable {
        /// The header text.
        public var title: String
        /// True for numbers.
        public var rightAligned: Bool
        /// A column.
        public init(title: String, rightAligned: Bool = false) { self.title = title; self.rightAligned = rightAligned }
    }

    /// The columns, left to right.
    public var columns: [Column]
    /// The cells, one array per row, one cell per column.
    public var rows: [[String]]
    /// Column indexes in order of importance (the last ones are hidden first when the
    /// table is too wide). Nil: left to right.
    public var importance: [Int]?

    /// A table; `importance` lists column indexes, most important first.
    public init(columns: [Column], rows: [[String]], importance: [Int]? = nil) {
        self.columns = columns; self.rows = rows; self.importance = importance
    }

    /// Widest a column grows before long text is cut.
    public static let maxColumnWidth = 40
    static let softWidth = 20
    static let gap = 2

    /// The table as lines no wider than `width` cells: a header, a rule, the rows.
    /// Columns that do not fit are hidden, least important first, and named in
    /// `hidden`; long cells end in `…`.
    public func render(width: Int, style: ANSIStyle = ANSIStyle(enabled: false), indent: Int = 0) -> (text: String, hidden: [String]) {
        let available = max(20, width - indent)
        var visible = Array(columns.indices)
        var widths = columns.indices.map { c in
            min(TextTable.maxColumnWidth, max(TerminalText.width(columns[c].title),
                                              rows.map { TerminalText.width($0[c]) }.max() ?? 0))
        }
        func total() -> Int { visible.map { widths[$0] }.reduce(0, +) + TextTable.gap * max(0, visible.count - 1) }
        // 1. Long text columns give way first, down to a soft width.
        while total() > available, let c = visible.filter({ widths[$0] > TextTable.softWidth }).max(by: { widths[$0] < widths[$1] }) {
            widths[c] -= 1
        }
        // 2. Then the least important columns are hidden (two always stay).
        var hidden: [String] = []
        let order = importance ?? Array(columns.indices)
        while total() > available, visible.count > 2 {
            guard let drop = order.last(where: { visible.contains($0) }) else { break }
            visible.removeAll { $0 == drop }
            hidden.append(columns[drop].title)
        }
        // 3. Then the widest shrinks, down to three cells.
        while total() > available, let c = visible.filter({ widths[$0] > 3 }).max(by: { widths[$0] < widths[$1] }) {
            widths[c] -= 1
        }
        let pad = String(repeating: " ", count: indent)
        let sep = String(repeating: " ", count: TextTable.gap)
        func line(_ cells: [String], header: Bool) -> String {
            var parts: [String] = []
            for (k, c) in visible.enumerated() {
                let cut = TerminalText.truncate(cells[c], to: widths[c])
                let last = k == visible.count - 1
                var cell: String
                if columns[c].rightAligned {
                    cell = TerminalText.pad(cut, to: widths[c], right: true)
                } else {
                    cell = last ? cut : TerminalText.pad(cut, to: widths[c])
                }
                if header { cell = style.paint(cell, "1") }
                parts.append(cell)
            }
            return pad + parts.joined(separator: sep)
        }
        var out: [String] = []
        out.append(line(columns.map(\.title), header: true))
        out.append(pad + visible.map { String(repeating: "─", count: widths[$0]) }.joined(separator: sep))
        for r in rows { out.append(line(r, header: false)) }
        return (out.map { $0.trimmingTrailingSpaces() }.joined(separator: "\n"), hidden)
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = Substring(self)
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}

/// Turns a method's JSON result into text for people: a list of records becomes a
/// table, one record becomes `key  value` lines, nested records are flattened or
/// summarised by their name.
public struct ResultRenderer: Sendable {
    /// The widest a line may be (the terminal's columns).
    public var width: Int
    /// Colours for headers and notes, when wanted.
    public var style: ANSIStyle

    /// A renderer for this width and style.
    public init(width: Int, style: ANSIStyle = ANSIStyle(enabled: false)) {
        self.width = width; self.style = style
    }

    /// Field names shown first, in this order; other fields follow alphabetically,
    /// then ids of other records, then times, then `version`.
    static let preferredOrder = [
        "id", "login", "full_name", "name", "legal_name", "title", "label", "manager_name", "company_name", "contact_name",
        "organization", "position",
        "stage", "status", "kind", "group", "role", "department", "phones", "phone", "number", "emails", "email", "edrpou",
        "company", "contact", "owner", "owner_name", "manager", "user", "period", "plan", "potential", "fact", "difference",
        "amount", "count", "source", "channel", "direction", "reason", "subject", "text", "body", "due_at", "active",
    ]
    static let rank: [String: Int] = Dictionary(uniqueKeysWithValues: preferredOrder.enumerated().map { ($1, $0) })

    static func rank(of key: String) -> (Int, String) {
        if let r = rank[key] { return (r, "") }
        if key == "version" { return (4000, key) }
        if key.hasSuffix("_at") || key == "time" || key.hasSuffix("_time") { return (3000, key) }
        if key.hasSuffix("_id") || key.hasSuffix("_ids") { return (2000, key) }
        if key.hasSuffix("_by") { return (2500, key) }
        if key == "display_name" { return (1500, key) }
        return (1000, key)
    }

    static func ordered(_ keys: some Sequence<String>) -> [String] {
        keys.sorted { rank(of: $0) < rank(of: $1) }
    }

    /// Name-like fields that summarise a nested record.
    static let summaryKeys = ["full_name", "display_name", "name", "legal_name", "title", "login", "label", "number", "address", "value", "stage", "status", "id"]

    // MARK: - Whole results

    /// The result as text (no trailing newline).
    public func render(_ result: JSONValue) -> String {
        switch result {
        case .null: return "(nothing)"
        case .array(let items):
            if items.allSatisfy({ $0.objectValue != nil }) { return table(items, noun: "rows") }
            return items.map { TerminalText.sanitize(Self.scalarText($0)) }.joined(separator: "\n")
        case .object(let o):
            if o.isEmpty || o == ["ok": .bool(true)] { return "ok" }
            let listKeys = o.keys.filter { k in
                guard case .array(let a)? = o[k] else { return false }
                return a.allSatisfy { $0.objectValue != nil }
            }
            let otherComplex = o.filter { k, v in
                guard !listKeys.contains(k) else { return false }
                if case .array(let a) = v { return a.contains { $0.objectValue != nil } }
                return false
            }
            // A list result (`{"users":[…]}`, maybe with a cursor or a period) is a table;
            // a record that holds a list (a card with its comments) is key/value lines.
            if listKeys.count == 1, let key = listKeys.first, otherComplex.isEmpty, o["id"] == nil, o.count <= 5,
               case .array(let items)? = o[key] {
                var rest = o.filter { !Self.isEmpty($0.value) }
                rest.removeValue(forKey: key)
                var text = table(items, noun: key)
                if !rest.isEmpty { text += "\n" + keyValues(rest, indent: 0) }
                return text
            }
            return keyValues(o, indent: 0)
        default:
            return TerminalText.sanitize(Self.scalarText(result))
        }
    }

    // MARK: - Tables

    /// A list of records as a table, with a count line (`(3 users)`).
    public func table(_ items: [JSONValue], noun: String, indent: Int = 0) -> String {
        let pad = String(repeating: " ", count: indent)
        if items.isEmpty { return pad + "(no \(noun.replacingOccurrences(of: "_", with: " ")))" }
        let objects = items.compactMap(\.objectValue)
        var keys = Set<String>()
        for o in objects { keys.formUnion(o.keys) }
        // Columns with nothing in any row are left out.
        let used = keys.filter { k in objects.contains { o in !Self.isEmpty(o[k]) } }
        let columns = Self.ordered(used.isEmpty ? keys : used)
        var rows: [[String]] = []
        for o in objects {
            rows.append(columns.map { TerminalText.sanitize(Self.cellText(o[$0], key: $0)) })
        }
        let cols = columns.enumerated().map { i, k in
            TextTable.Column(title: k, rightAligned: rows.allSatisfy { Self.looksNumeric($0[i]) } && rows.contains { !$0[i].isEmpty })
        }
        // Importance: the preferred order, but times and versions go before other ids.
        let importance = columns.indices.sorted { Self.rank(of: columns[$0]) < Self.rank(of: columns[$1]) }
        let (text, hidden) = TextTable(columns: cols, rows: rows, importance: importance).render(width: width, style: style, indent: indent)
        var out = text + "\n" + pad + "(\(objects.count) \(Self.countNoun(noun, objects.count)))"
        if !hidden.isEmpty {
            out += style.paint(" not shown: " + hidden.joined(separator: ", ") + " (--json shows all)", "2")
        }
        return out
    }

    /// What the rows of the list at `path` are called: its last key, or the one before
    /// when that is generic (`missed_calls.items` → `missed_calls`).
    static func noun(ofPath path: String) -> String {
        let parts = path.split(separator: ".").map(String.init)
        if parts.count > 1, let last = parts.last, ["items", "rows", "list"].contains(last) { return parts[parts.count - 2] }
        return parts.last ?? path
    }

    static func countNoun(_ noun: String, _ n: Int) -> String {
        let words = noun.replacingOccurrences(of: "_", with: " ")
        if n == 1, words.hasSuffix("ies") { return String(words.dropLast(3)) + "y" }
        if n == 1, words.hasSuffix("s"), !words.hasSuffix("ss") { return String(words.dropLast()) }
        return words
    }

    // MARK: - Key/value lines

    /// One record as `key  value` lines; nested records flattened to `key.sub`, lists of
    /// records as indented tables after the fields.
    public func keyValues(_ o: [String: JSONValue], indent: Int) -> String {
        var pairs: [(String, String)] = []
        var tables: [(String, [JSONValue])] = []
        func add(_ prefix: String, _ value: JSONValue, depth: Int) {
            switch value {
            case .object(let sub) where depth < 2 && !sub.isEmpty:
                for k in Self.ordered(sub.keys) { add(prefix + "." + k, sub[k] ?? .null, depth: depth + 1) }
            case .array(let a) where !a.isEmpty && a.allSatisfy({ $0.objectValue != nil }):
                // A record's lists, and those one level down (a planner's `missed_calls.items`,
                // a qualified lead's `contact.phones`), are tables; deeper ones are summaries.
                if depth <= 1 { tables.append((prefix, a)) } else { pairs.append((prefix, Self.cellText(value, key: prefix))) }
            case .null, .array([]):
                pairs.append((prefix, "—"))
            default:
                pairs.append((prefix, Self.cellText(value, key: prefix, fullTimes: true)))
            }
        }
        for k in Self.ordered(o.keys) { add(k, o[k] ?? .null, depth: 0) }
        let pad = String(repeating: " ", count: indent)
        let keyWidth = min(28, pairs.map { TerminalText.width($0.0) }.max() ?? 0)
        let valueWidth = max(10, width - indent - keyWidth - 2)
        var lines = pairs.map { k, v in
            let value = TerminalText.sanitize(v)
            let shown = TerminalText.width(value) > valueWidth * 3 ? TerminalText.truncate(value, to: valueWidth * 3) : value
            return (pad + style.paint(TerminalText.pad(k, to: keyWidth), "2") + "  " + shown).trimmingTrailingSpaces()
        }
        for (k, items) in tables {
            lines.append("")
            lines.append(pad + style.paint(k, "1") + ":")
            lines.append(table(items, noun: Self.noun(ofPath: k), indent: indent + 2))
        }
        return lines.joined(separator: "\n")
    }

    // MARK: - Cells

    static func isEmpty(_ v: JSONValue?) -> Bool {
        switch v {
        case nil, .null?: return true
        case .array(let a)?: return a.isEmpty
        case .string(let s)?: return s.isEmpty
        default: return false
        }
    }

    /// A value as one cell: times shortened to minutes (unless `fullTimes`), booleans as
    /// yes/no, records by their name, lists joined with commas.
    static func cellText(_ v: JSONValue?, key: String, fullTimes: Bool = false) -> String {
        switch v {
        case nil, .null?: return ""
        case .bool(let b)?: return b ? "yes" : "no"
        case .number(let n)?: return n
        case .string(let s)?: return fullTimes ? s : shortTime(s) ?? s
        case .object(let o)?: return summary(o)
        case .array(let a)?:
            return a.map { item -> String in
                if case .object(let o) = item { return summary(o) }
                return scalarText(item)
            }.joined(separator: ", ")
        }
    }

    static func summary(_ o: [String: JSONValue]) -> String {
        for k in summaryKeys {
            if let v = o[k], !isEmpty(v), v.objectValue == nil, v.arrayValue == nil { return scalarText(v) }
        }
        return JSONValue.object(o).jsonText
    }

    static func scalarText(_ v: JSONValue) -> String {
        switch v {
        case .null: return ""
        case .bool(let b): return b ? "yes" : "no"
        case .number(let n): return n
        case .string(let s): return s
        default: return v.jsonText
        }
    }

    /// `2026-11-29T09:05:00.123+02:00` → `2026-11-29 09:05` (results carry the business
    /// time zone's offset already).
    static func shortTime(_ s: String) -> String? {
        let u = Array(s.utf8)
        guard u.count >= 16, u[4] == UInt8(ascii: "-"), u[7] == UInt8(ascii: "-"), u[10] == UInt8(ascii: "T"),
              u[13] == UInt8(ascii: ":"), u[0..<4].allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        return String(decoding: u[0..<10], as: UTF8.self) + " " + String(decoding: u[11..<16], as: UTF8.self)
    }

    /// Whether a cell is a number or a decimal string (right-aligned).
    static func looksNumeric(_ s: String) -> Bool {
        if s.isEmpty { return true }
        var body = Substring(s)
        if body.first == "-" { body = body.dropFirst() }
        guard !body.isEmpty else { return false }
        var dot = false
        for c in body {
            if c == "." { if dot { return false }; dot = true; continue }
            guard c.isASCII, c.isNumber else { return false }
        }
        return true
    }
}
