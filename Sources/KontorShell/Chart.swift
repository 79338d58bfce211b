import Foundation
import KontorProtocol

/// A horizontal bar chart: labels, and for each label one value per named series.
/// Values are exact decimals (money stays money); only the drawing rounds.
public struct BarChart: Sendable, Equatable {
    /// One named row of values (`plan`, `fact`, `companies`).
    public struct Series: Sendable, Equatable {
        /// The series name shown in the legend (`plan`).
        public var name: String
        /// One per label; nil where the row had no value.
        public var values: [Decimal?]
        /// A series: its name and one value per label.
        public init(name: String, values: [Decimal?]) { self.name = name; self.values = values }
    }

    /// The heading above the bars.
    public var title: String
    /// One per group of bars (a manager, a stage).
    public var labels: [String]
    /// The named rows of values, drawn as one bar each per label.
    public var series: [Series]
    /// Per label, a short remark printed after the values (`65%`, `no plan`).
    public var notes: [String?]
    /// Digits after the point when values are printed (2 for money, 0 for counts).
    public var fractionDigits: Int

    /// A chart; `notes` default to none.
    public init(title: String, labels: [String], series: [Series], notes: [String?] = [], fractionDigits: Int = 0) {
        self.title = title; self.labels = labels; self.series = series
        self.notes = notes.isEmpty ? Array(repeating: nil, count: labels.count) : notes
        self.fractionDigits = fractionDigits
    }

    /// The largest positive value and the largest magnitude of a negative one.
    var extent: (positive: Decimal, negative: Decimal) {
        var pos = Decimal(0), neg = Decimal(0)
        for s in series {
            for case let v? in s.values {
                if v > pos { pos = v }
                if -v > neg { neg = -v }
            }
        }
        return (pos, neg)
    }

    /// `12500.5` → `12 500.50`: grouped by thousands, `fractionDigits` after the point.
    public func format(_ v: Decimal?) -> String {
        guard let v else { return "—" }
        return Self.format(v, fractionDigits: fractionDigits)
    }

    /// A decimal as text with thin grouping: `-1 234 567.80`.
    public static func format(_ v: Decimal, fractionDigits: Int) -> String {
        var value = v
        var rounded = Decimal()
        NSDecimalRound(&rounded, &value, fractionDigits, .plain)
        var s = rounded.description
        let negative = s.hasPrefix("-")
        if negative { s.removeFirst() }
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        let whole = String(parts.first ?? "0")
        var frac = parts.count > 1 ? String(parts[1]) : ""
        if frac.count < fractionDigits { frac += String(repeating: "0", count: fractionDigits - frac.count) }
        var grouped = ""
        for (i, c) in whole.enumerated() {
            if i > 0, (whole.count - i) % 3 == 0 { grouped.append(" ") }
            grouped.append(c)
        }
        let isZero = rounded == 0
        return (negative && !isZero ? "-" : "") + grouped + (fractionDigits > 0 ? "." + frac : "")
    }

    /// A decimal from a JSON number or a decimal string (`"1500.50"`, `"-20"`); nil for
    /// anything else.
    public static func decimal(_ v: JSONValue?) -> Decimal? {
        let text: String
        switch v {
        case .number(let n)?: text = n
        case .string(let s)?: text = s.trimmingCharacters(in: .whitespaces)
        default: return nil
        }
        var body = Substring(text)
        if body.first == "-" || body.first == "+" { body = body.dropFirst() }
        let parts = body.split(separator: ".", omittingEmptySubsequences: false)
        guard !body.isEmpty, parts.count <= 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } })
        else {
            // JSON numbers may carry an exponent.
            if case .number? = v { return Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")) }
            return nil
        }
        return Decimal(string: text.hasPrefix("+") ? String(text.dropFirst()) : text, locale: Locale(identifier: "en_US_POSIX"))
    }
}

// MARK: - Terminal

/// Draws a `BarChart` with Unicode blocks: eighths of a cell for positive bars (`▏▎▍▌▋▊▉█`),
/// halves for negative ones, which grow left from the zero axis (`▐█`).
public struct TerminalChartRenderer: Sendable {
    /// The widest a line may be, in cells.
    public var width: Int
    /// Colours for the bars, when wanted.
    public var style: ANSIStyle

    /// A renderer for this width and style.
    public init(width: Int, style: ANSIStyle = ANSIStyle(enabled: false)) { self.width = width; self.style = style }

    static let eighths = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]
    static let palette = ["36", "32", "33", "35", "34"]

    /// The chart as lines of text no wider than `width` (no trailing newline).
    public func render(_ chart: BarChart) -> String {
        var out = [style.paint(TerminalText.sanitize(chart.title), "1")]
        guard !chart.labels.isEmpty else { return (out + ["(nothing to draw)"]).joined(separator: "\n") }
        let multi = chart.series.count > 1
        if multi {
            out.append(chart.series.enumerated().map { i, s in
                style.paint("█", Self.palette[i % Self.palette.count]) + " " + TerminalText.sanitize(s.name)
            }.joined(separator: "   "))
        }
        let labels = chart.labels.map { TerminalText.sanitize($0) }
        let labelWidth = min(24, labels.map(TerminalText.width).max() ?? 0)
        let tagWidth = multi ? chart.series.map { TerminalText.width($0.name) }.max() ?? 0 : 0
        let texts = chart.series.map { s in s.values.map { chart.format($0) } }
        let valueWidth = texts.flatMap { $0 }.map(TerminalText.width).max() ?? 0
        let notes = chart.notes.map { $0.map { TerminalText.sanitize($0) } ?? "" }
        let noteWidth = notes.map(TerminalText.width).max() ?? 0
        let fixed = labelWidth + 1 + (multi ? tagWidth + 1 : 0) + 1 + 1 + valueWidth + (noteWidth > 0 ? 2 + noteWidth : 0)
        let barWidth = max(10, min(60, width - fixed))
        let (pos, neg) = chart.extent
        var negCells = 0
        if neg > 0 {
            let share = (neg / (neg + pos)) * Decimal(barWidth)
            negCells = max(1, min(barWidth - 1, Self.round(share)))
            if pos == 0 { negCells = barWidth }
        }
        let posCells = barWidth - negCells
        for (i, label) in labels.enumerated() {
            if multi && i > 0 { out.append("") }
            for (k, s) in chart.series.enumerated() {
                let v = i < s.values.count ? s.values[i] : nil
                let color = (v ?? 0) < 0 ? "31" : Self.palette[k % Self.palette.count]
                var line = TerminalText.pad(k == 0 ? TerminalText.truncate(label, to: labelWidth) : "", to: labelWidth) + " "
                if multi { line += TerminalText.pad(s.name, to: tagWidth) + " " }
                let (left, right) = bar(v, negCells: negCells, posCells: posCells, pos: pos, neg: neg)
                line += (negCells > 0 ? style.paint(left, color) : "") + "│" + style.paint(right, color)
                line += " " + TerminalText.pad(texts[k][i], to: valueWidth, right: true)
                if k == chart.series.count - 1, !notes[i].isEmpty { line += "  " + notes[i] }
                out.append(line.trimmingTrailingSpaces())
            }
        }
        return out.joined(separator: "\n")
    }

    /// The bar's text left of the axis (negative) and right of it (positive), padded.
    func bar(_ v: Decimal?, negCells: Int, posCells: Int, pos: Decimal, neg: Decimal) -> (String, String) {
        let blank = (String(repeating: " ", count: negCells), String(repeating: " ", count: posCells))
        guard let v, v != 0 else { return blank }
        if v > 0 {
            var units = Self.round(v / pos * Decimal(posCells * 8))
            units = max(1, min(units, posCells * 8))
            let text = String(repeating: "█", count: units / 8) + Self.eighths[units % 8]
            return (blank.0, text + String(repeating: " ", count: posCells - TerminalText.width(text)))
        }
        var halves = Self.round(-v / neg * Decimal(negCells * 2))
        halves = max(1, min(halves, negCells * 2))
        let text = (halves % 2 == 1 ? "▐" : "") + String(repeating: "█", count: halves / 2)
        return (String(repeating: " ", count: negCells - TerminalText.width(text)) + text, blank.1)
    }

    static func round(_ d: Decimal) -> Int {
        var v = d
        var r = Decimal()
        NSDecimalRound(&r, &v, 0, .plain)
        return NSDecimalNumber(decimal: r).intValue
    }
}

// MARK: - SVG

/// Draws a `BarChart` as a standalone SVG document (text escaped, no external files).
public struct SVGChartRenderer: Sendable {
    /// An SVG renderer (it has no settings).
    public init() {}

    static let colors = ["#5b8fd1", "#2e9d5b", "#e0a030", "#9b59b6", "#34495e"]
    static let negativeColor = "#c0392b"

    /// The chart as an SVG document.
    public func render(_ chart: BarChart) -> String {
        let multi = chart.series.count > 1
        let barHeight = 14.0, barGap = 3.0, groupGap = multi ? 12.0 : 6.0
        let charWidth = 7.0
        let labelWidth = min(240, max(60, Double(chart.labels.map(TerminalText.width).max() ?? 0) * charWidth + 12))
        let texts = chart.series.map { s in s.values.map { chart.format($0) } }
        let valueWidth = Double(texts.flatMap { $0 }.map(TerminalText.width).max() ?? 0) * charWidth + 16
        let noteWidth = Double(chart.notes.compactMap { $0 }.map(TerminalText.width).max() ?? 0) * charWidth + 8
        let barArea = 420.0
        let left = 16.0
        let width = left + labelWidth + barArea + valueWidth + noteWidth + 16
        let top = multi ? 58.0 : 40.0
        let groupHeight = Double(chart.series.count) * barHeight + Double(max(0, chart.series.count - 1)) * barGap
        let height = top + Double(chart.labels.count) * (groupHeight + groupGap) + 16

        let (pos, neg) = chart.extent
        let total = pos + neg
        let negShare = total > 0 ? Self.double(neg / total) : 0
        let axisX = left + labelWidth + barArea * negShare
        var s = ""
        s += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        s += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(n(width))\" height=\"\(n(height))\" viewBox=\"0 0 \(n(width)) \(n(height))\" font-family=\"DejaVu Sans, Arial, sans-serif\" font-size=\"12\">\n"
        s += "<title>\(Self.escape(chart.title))</title>\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
        s += "<text x=\"\(n(left))\" y=\"22\" font-size=\"15\" font-weight=\"bold\" fill=\"#222222\">\(Self.escape(chart.title))</text>\n"
        if multi {
            var x = left
            for (i, series) in chart.series.enumerated() {
                s += "<rect x=\"\(n(x))\" y=\"34\" width=\"12\" height=\"12\" fill=\"\(Self.colors[i % Self.colors.count])\"/>"
                s += "<text x=\"\(n(x + 17))\" y=\"44\" fill=\"#222222\">\(Self.escape(series.name))</text>\n"
                x += 17 + Double(TerminalText.width(series.name)) * charWidth + 22
            }
        }
        var y = top
        for (i, label) in chart.labels.enumerated() {
            s += "<text x=\"\(n(left + labelWidth - 8))\" y=\"\(n(y + barHeight - 3))\" text-anchor=\"end\" fill=\"#222222\">\(Self.escape(label))</text>\n"
            for (k, series) in chart.series.enumerated() {
                let v = i < series.values.count ? series.values[i] : nil
                let by = y + Double(k) * (barHeight + barGap)
                if let v, v != 0, total > 0 {
                    let len = max(1, barArea * Self.double((v < 0 ? -v : v) / total))
                    let x = v < 0 ? axisX - len : axisX
                    let fill = v < 0 ? Self.negativeColor : Self.colors[k % Self.colors.count]
                    s += "<rect x=\"\(n(x))\" y=\"\(n(by))\" width=\"\(n(len))\" height=\"\(n(barHeight))\" fill=\"\(fill)\">"
                    s += "<title>\(Self.escape(label + " — " + series.name + ": " + texts[k][i]))</title></rect>\n"
                }
                s += "<text x=\"\(n(left + labelWidth + barArea + valueWidth - 4))\" y=\"\(n(by + barHeight - 3))\" text-anchor=\"end\" fill=\"#444444\">\(Self.escape(texts[k][i]))</text>\n"
            }
            if let note = chart.notes[i] {
                s += "<text x=\"\(n(left + labelWidth + barArea + valueWidth + 4))\" y=\"\(n(y + groupHeight - 3))\" fill=\"#666666\">\(Self.escape(note))</text>\n"
            }
            y += groupHeight + groupGap
        }
        s += "<line x1=\"\(n(axisX))\" y1=\"\(n(top - 4))\" x2=\"\(n(axisX))\" y2=\"\(n(y - groupGap + 4))\" stroke=\"#333333\" stroke-width=\"1\"/>\n"
        s += "</svg>\n"
        return s
    }

    /// A coordinate with at most one decimal, without a trailing `.0`.
    func n(_ v: Double) -> String {
        let tenths = Int((v * 10).rounded())
        let sign = tenths < 0 ? "-" : ""
        let a = abs(tenths)
        return a % 10 == 0 ? "\(sign)\(a / 10)" : "\(sign)\(a / 10).\(a % 10)"
    }

    static func double(_ d: Decimal) -> Double { NSDecimalNumber(decimal: d).doubleValue }

    /// Text as XML character data or an attribute value: `& < > " '` escaped, characters
    /// XML 1.0 forbids (most controls) dropped.
    public static func escape(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out += " "
            default:
                if u.value < 0x20 || u.value == 0xFFFE || u.value == 0xFFFF { continue }
                out.unicodeScalars.append(u)
            }
        }
        return out
    }
}

// MARK: - Adapters from report results

/// Charts for report results whose shapes are still settling: each adapter accepts a
/// few spellings and gives nil when the result has nothing to draw.
public enum ReportCharts {
    /// The chart for a method's result, if the method is a chartable report.
    public static func chart(method: String, params: JSONValue, result: JSONValue) -> BarChart? {
        if method == "report.plan_fact" || method.hasSuffix(".plan_fact") { return planFact(result, params: params) }
        if method.contains("funnel") { return funnel(result, params: params) }
        return nil
    }

    /// The rows of a report: the result itself when it is a list, else its `rows`
    /// (or `items`, `managers`, `companies`, `stages`), else its only list of records.
    public static func rows(_ result: JSONValue) -> [[String: JSONValue]] {
        if case .array(let a) = result { return a.compactMap(\.objectValue) }
        guard case .object(let o) = result else { return [] }
        for k in ["rows", "items", "managers", "companies", "stages", "data", "funnel"] {
            if case .array(let a)? = o[k] { return a.compactMap(\.objectValue) }
        }
        let lists = o.values.compactMap { v -> [[String: JSONValue]]? in
            guard case .array(let a) = v, !a.isEmpty, a.allSatisfy({ $0.objectValue != nil }) else { return nil }
            return a.compactMap(\.objectValue)
        }
        return lists.count == 1 ? lists[0] : []
    }

    static func label(_ row: [String: JSONValue], keys: [String]) -> String? {
        for k in keys {
            switch row[k] {
            case .string(let s)? where !s.isEmpty: return s
            case .number(let n)?: return n
            case .object(let o)?:
                let s = ResultRenderer.summary(o)
                if !s.isEmpty { return s }
            default: continue
            }
        }
        return nil
    }

    static func isTotal(_ row: [String: JSONValue]) -> Bool {
        row["total"] == .bool(true) || row["is_total"] == .bool(true) || row["kind"] == .string("total")
    }

    static func text(_ v: JSONValue?) -> String? {
        switch v {
        case .string(let s)? where !s.isEmpty: return s
        case .number(let n)?: return n
        default: return nil
        }
    }

    /// Plan vs fact per manager or company: rows with a name (`name`, `manager_name`,
    /// `company_name`, `manager`, `company`, `login`; the company's first when the report
    /// is `by: company`, whose rows also name the company's owner) and `plan`, `fact` as
    /// decimal strings. Rows of several months carry their `period` in the label. Notes
    /// give the fact as a share of the plan.
    public static func planFact(_ result: JSONValue, params: JSONValue = .object([:])) -> BarChart? {
        var labels: [String] = []
        var plan: [Decimal?] = [], fact: [Decimal?] = []
        var notes: [String?] = []
        let byCompany = (text(params["by"]) ?? text(result["by"])) == "company"
        let keys = byCompany
            ? ["company_name", "company", "name", "manager_name", "full_name", "manager", "label", "login", "title", "id"]
            : ["name", "manager_name", "company_name", "full_name", "manager", "company", "label", "login", "title", "id"]
        let all = rows(result).filter { !isTotal($0) }
        let periods = Set(all.compactMap { text($0["period"]) })
        for row in all {
            let p = BarChart.decimal(row["plan"]), f = BarChart.decimal(row["fact"])
            guard p != nil || f != nil else { continue }
            var name = label(row, keys: keys) ?? "—"
            if periods.count > 1, let period = text(row["period"]) { name += " " + period }
            labels.append(name)
            plan.append(p)
            fact.append(f)
            if let p, p > 0 {
                notes.append(BarChart.format((f ?? 0) / p * 100, fractionDigits: 0) + "%")
            } else if (f ?? 0) != 0 {
                notes.append("no plan")
            } else {
                notes.append(nil)
            }
        }
        guard !labels.isEmpty else { return nil }
        var title = "Plan vs fact"
        if let period = text(params["period"]) ?? text(result["period"]) { title += ", " + period }
        if let by = text(params["by"]) ?? text(result["by"]) { title += ", by " + by }
        return BarChart(title: title, labels: labels,
                        series: [.init(name: "plan", values: plan), .init(name: "fact", values: fact)],
                        notes: notes, fractionDigits: 2)
    }

    /// Companies per funnel stage: rows with `stage` (or `name`, `label`) and `count`
    /// (or `companies`, `value`). A result with `stages` is drawn from them (one bar per
    /// stage), not from its per-manager `rows`.
    public static func funnel(_ result: JSONValue, params: JSONValue = .object([:])) -> BarChart? {
        var labels: [String] = []
        var counts: [Decimal?] = []
        let source: [[String: JSONValue]]
        if case .array(let stages)? = result["stages"] { source = stages.compactMap(\.objectValue) } else { source = rows(result) }
        for row in source where !isTotal(row) {
            guard let c = BarChart.decimal(row["count"] ?? row["companies"] ?? row["value"] ?? row["total"]) else { continue }
            let l = label(row, keys: ["stage", "name", "label", "title", "status"]) ?? "—"
            labels.append(l.replacingOccurrences(of: "_", with: " "))
            counts.append(c)
        }
        guard !labels.isEmpty else { return nil }
        var title = "Funnel"
        if let f = text(params["funnel"]) ?? text(result["funnel"]) { title += ": " + f }
        if let period = text(params["period"]) ?? text(result["period"]) { title += ", " + period }
        let digits = counts.compactMap { $0 }.contains { $0 != Decimal(TerminalChartRenderer.round($0)) } ? 2 : 0
        return BarChart(title: title, labels: labels, series: [.init(name: "companies", values: counts)], fractionDigits: digits)
    }
}
