import CivilTime
import Foundation

/// A five-field cron expression (`minute hour day-of-month month day-of-week`) and its
/// evaluation in a time zone, daylight saving time included.
///
/// Syntax (the common Vixie-cron dialect):
/// * each field is a comma-separated list of items; an item is `*`, a value `v`, a range
///   `a-b`, or any of those followed by a step `/n` (`*/15`, `1-31/2`, `5/10` = 5, 15, ...
///   up to the field's maximum);
/// * ranges: minute 0–59, hour 0–23, day of month 1–31, month 1–12 or `JAN`–`DEC`,
///   day of week 0–7 or `SUN`–`SAT` (0 and 7 are both Sunday); names ignore case;
/// * macros: `@yearly` (`@annually`), `@monthly`, `@weekly`, `@daily` (`@midnight`),
///   `@hourly`;
/// * day of month and day of week: when both are restricted (neither starts with `*`), a
///   day matches when **either** matches (as in cron); otherwise both must match.
///
/// Evaluation happens on the wall clock of the schedule's time zone:
/// * a local time that does not exist (the hour skipped when clocks go forward) fires at
///   the first instant after the gap, once, however many skipped times matched;
/// * a local time that happens twice (the hour repeated when clocks go back) fires once,
///   at its first occurrence.
public struct CronExpression: Sendable, Equatable, CustomStringConvertible {
    /// The expression as given (trimmed).
    public let text: String
    let minutes: [Int]
    let hours: [Int]
    let daysOfMonth: Set<Int>
    let months: Set<Int>
    /// 0 = Sunday ... 6 = Saturday.
    let daysOfWeek: Set<Int>
    let domRestricted: Bool
    let dowRestricted: Bool

    public var description: String { text }

    /// A parse failure with a message for people.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    static let macros: [String: String] = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
        "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]
    static let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    static let dayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

    /// Parses an expression.
    /// - Throws: `ParseError` naming the field and the item that is wrong.
    public init(_ text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        self.text = trimmed
        let expanded = Self.macros[trimmed.lowercased()] ?? trimmed
        if expanded.hasPrefix("@") { throw ParseError(message: "unknown macro \(trimmed)") }
        let fields = expanded.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else {
            throw ParseError(message: "a cron expression has 5 fields (minute hour day-of-month month day-of-week), got \(fields.count)")
        }
        minutes = try Self.field(fields[0], name: "minute", range: 0...59, names: nil).sorted()
        hours = try Self.field(fields[1], name: "hour", range: 0...23, names: nil).sorted()
        daysOfMonth = try Self.field(fields[2], name: "day of month", range: 1...31, names: nil)
        months = try Self.field(fields[3], name: "month", range: 1...12, names: (Self.monthNames, 1))
        let dow = try Self.field(fields[4], name: "day of week", range: 0...7, names: (Self.dayNames, 0))
        daysOfWeek = Set(dow.map { $0 % 7 })
        domRestricted = !fields[2].hasPrefix("*")
        dowRestricted = !fields[4].hasPrefix("*")
    }

    static func field(_ text: String, name: String, range: ClosedRange<Int>, names: ([String], Int)?) throws -> Set<Int> {
        var out: Set<Int> = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            guard !item.isEmpty else { throw ParseError(message: "empty item in the \(name) field \(text)") }
            let parts = item.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard parts.count <= 2 else { throw ParseError(message: "\(name): \(item) has more than one step") }
            var step = 1
            if parts.count == 2 {
                guard let s = Int(parts[1]), s >= 1, s <= range.upperBound + 1 else {
                    throw ParseError(message: "\(name): the step in \(item) must be a number from 1 to \(range.upperBound + 1)")
                }
                step = s
            }
            let base = parts[0]
            var lo: Int
            var hi: Int
            if base == "*" {
                lo = range.lowerBound; hi = range.upperBound
                if name == "day of week" { hi = 6 }
            } else if let dash = base.firstIndex(of: "-") {
                lo = try value(String(base[..<dash]), name: name, range: range, names: names)
                hi = try value(String(base[base.index(after: dash)...]), name: name, range: range, names: names)
                guard lo <= hi else { throw ParseError(message: "\(name): the range \(base) runs backwards") }
            } else {
                lo = try value(base, name: name, range: range, names: names)
                // `5/10` means from 5 to the end, every 10.
                hi = parts.count == 2 ? (name == "day of week" ? 6 : range.upperBound) : lo
                if hi < lo { hi = lo }
            }
            var v = lo
            while v <= hi {
                out.insert(v)
                v += step
            }
        }
        return out
    }

    static func value(_ s: String, name: String, range: ClosedRange<Int>, names: ([String], Int)?) throws -> Int {
        if let n = Int(s), s.allSatisfy({ $0.isASCII && $0.isNumber }) {
            guard range.contains(n) else {
                throw ParseError(message: "\(name): \(n) is outside \(range.lowerBound)-\(range.upperBound)")
            }
            return n
        }
        if let (list, first) = names, let i = list.firstIndex(of: s.uppercased()) { return i + first }
        throw ParseError(message: "\(name): \(s) is not a number\(names == nil ? "" : " or a name")")
    }

    // MARK: - Evaluation

    /// Whether a calendar day matches the day-of-month, month and day-of-week fields.
    /// `weekday`: 0 = Sunday.
    public func matchesDay(year: Int, month: Int, day: Int, weekday: Int) -> Bool {
        guard months.contains(month) else { return false }
        let dom = daysOfMonth.contains(day)
        let dow = daysOfWeek.contains(weekday)
        if domRestricted && dowRestricted { return dom || dow }
        return dom && dow
    }

    /// The first firing instant strictly after `instant`, evaluated on the wall clock of
    /// `timeZone`; nil when the expression never fires (e.g. `0 0 30 2 *`) within 400 years.
    public func next(after instant: Date, in timeZone: TimeZone) -> Date? {
        let zone = ZoneClock(timeZone)
        let t = Int64(instant.timeIntervalSince1970.rounded(.down))
        // Local wall time of `instant`, as seconds on a UTC-like scale. Candidates whose
        // wall time is more than two hours before it cannot be after it (offsets change
        // by less than that), so they are skipped without asking the zone.
        let localT = t + Int64(zone.offset(at: t))
        let startDay = Self.floorDiv(localT, 86_400) - 1
        var (year, month, _) = RFC3339.civilFromDays(startDay)
        let startDate = RFC3339.civilFromDays(startDay)
        var firstDay = Int(startDate.2)
        for _ in 0..<(400 * 12) {
            if months.contains(Int(month)) {
                let length = Int(CivilTime.daysIn(month: month, year: year))
                for day in firstDay...max(firstDay, length) where day <= length {
                    let dayNumber = RFC3339.daysFromCivil(year, month, Int64(day))
                    let weekday = Int(Self.floorMod(dayNumber + 4, 7))   // 1970-01-01 was a Thursday
                    guard matchesDay(year: Int(year), month: Int(month), day: day, weekday: weekday) else { continue }
                    for h in hours {
                        for m in minutes {
                            let wall = dayNumber * 86_400 + Int64(h) * 3600 + Int64(m) * 60
                            if wall < localT - 7200 { continue }
                            let fire = zone.instant(forWall: wall)
                            if fire > t { return Date(timeIntervalSince1970: Double(fire)) }
                        }
                    }
                }
            }
            firstDay = 1
            month += 1
            if month > 12 { month = 1; year += 1 }
        }
        return nil
    }

    /// Every firing instant in `(after, through]`, in order, at most `limit` of them.
    public func occurrences(after start: Date, through end: Date, in timeZone: TimeZone, limit: Int = 10_000) -> [Date] {
        var out: [Date] = []
        var t = start
        while out.count < limit, let n = next(after: t, in: timeZone), n <= end {
            out.append(n)
            t = n
        }
        return out
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }
    static func floorMod(_ a: Int64, _ b: Int64) -> Int64 { a - floorDiv(a, b) * b }
}

/// Wall-clock arithmetic of one time zone at whole-second precision.
struct ZoneClock {
    let zone: TimeZone
    init(_ zone: TimeZone) { self.zone = zone }

    /// Seconds east of UTC at an instant (seconds since 1970).
    func offset(at t: Int64) -> Int {
        zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(t)))
    }

    /// The instant a wall time (local seconds on a UTC-like scale) happens: the earlier one
    /// when it happens twice; the first instant after the gap when it does not happen.
    func instant(forWall wall: Int64) -> Int64 {
        // Every offset in force within a day around the wall time.
        var offsets = Set<Int>()
        for probe in [wall - 86_400, wall - 43_200, wall, wall + 43_200, wall + 86_400] { offsets.insert(offset(at: probe)) }
        let valid = offsets.map { wall - Int64($0) }.filter { Int64(offset(at: $0)) == wall - $0 }
        if let earliest = valid.min() { return earliest }
        // A gap: the transition lies between the instants the wall time would have under
        // the offset after the change (earlier instant) and before it (later instant).
        guard let maxOffset = offsets.max(), let minOffset = offsets.min() else { return wall }
        var lo = wall - Int64(maxOffset)   // before the transition
        var hi = wall - Int64(minOffset)   // after it
        let before = offset(at: lo)
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2
            if offset(at: mid) == before { lo = mid } else { hi = mid }
        }
        return hi
    }
}
