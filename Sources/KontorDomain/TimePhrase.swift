import Foundation

// When a reminder (or a task) is due, as people write it (issue 5).
// The grammar is documented in docs/TASKS.md ("When: the time grammar").

/// Days and weeks of the business time zone, DST included: where a local day or week
/// starts, as an instant.
public struct BusinessCalendar: Sendable {
    /// The business time zone.
    public let zone: TimeZone
    let clock: ZoneClock

    /// Makes one from its fields.
    public init(zone: TimeZone) {
        self.zone = zone
        self.clock = ZoneClock(zone)
    }

    /// The local day number (days since 1970-01-01 on the zone's wall clock) of an instant.
    public func dayNumber(of instant: Date) -> Int64 {
        let t = Int64(instant.timeIntervalSince1970.rounded(.down))
        return CronExpression.floorDiv(t + Int64(clock.offset(at: t)), 86_400)
    }

    /// The instant the local day `day` starts (its first instant: 00:00, or the end of a
    /// gap when midnight does not happen that day).
    public func start(ofDay day: Int64) -> Date {
        Date(timeIntervalSince1970: Double(clock.instant(forWall: day * 86_400)))
    }

    /// The instant a wall time happens on local day `day`: the earlier one when it happens
    /// twice (clocks going back), the first instant after the gap when it does not happen
    /// (clocks going forward), as the schedules do.
    public func instant(day: Int64, hour: Int, minute: Int, second: Int = 0) -> Date {
        Date(timeIntervalSince1970: Double(clock.instant(forWall: day * 86_400 + Int64(hour * 3600 + minute * 60 + second))))
    }

    /// The day of the week of local day `day`: 1 = Monday ... 7 = Sunday (ISO 8601).
    public func weekday(ofDay day: Int64) -> Int {
        // 1970-01-01 was a Thursday (4).
        Int(CronExpression.floorMod(day + 3, 7)) + 1
    }

    /// Local day number of a civil date.
    public func day(year: Int, month: Int, day: Int) -> Int64 {
        RFC3339.daysFromCivil(Int64(year), Int64(month), Int64(day))
    }

    /// The half-open range of instants of the local day containing `instant`, shifted by
    /// `days` (0 = that day, 1 = the next).
    public func dayRange(containing instant: Date, offsetDays days: Int64 = 0) -> Range<Date> {
        let d = dayNumber(of: instant) + days
        return start(ofDay: d)..<start(ofDay: d + 1)
    }

    /// The half-open range of instants of the ISO week (Monday to Sunday) containing `instant`.
    public func weekRange(containing instant: Date) -> Range<Date> {
        let d = dayNumber(of: instant)
        let monday = d - Int64(weekday(ofDay: d) - 1)
        return start(ofDay: monday)..<start(ofDay: monday + 7)
    }
}

/// A due time as a person writes it: an RFC 3339 instant, or a phrase resolved on the
/// wall clock of the business time zone, DST included.
///
/// Grammar (case and extra spaces ignored):
///
/// * an RFC 3339 instant with its offset: `2026-03-29T09:00:00+03:00`;
/// * `now`;
/// * `in` followed by amounts: `in 2 hours`, `in 90 min`, `in 1h 30m`, `in 3 days`,
///   `in 1 week` — units `minute(s)`/`min`/`m`, `hour(s)`/`h`, `day(s)`/`d`,
///   `week(s)`/`w`. Minutes and hours are exact durations; days and weeks move the
///   calendar date and keep the wall-clock time (`in 1 day` at 10:00 the day before a
///   clock change is 10:00 the next day, 23 or 25 hours later);
/// * a day and/or a time: `today 17:30`, `tomorrow 09:00`, `tomorrow` (09:00),
///   `monday 10:00`, `fri` (09:00), `next monday`, `2026-12-01 14:00`, `2026-12-01`
///   (09:00), `17:30` (today, or tomorrow when 17:30 has passed); `at` may stand before
///   the time (`tomorrow at 9:30`). A weekday is the nearest such day whose time is still
///   ahead (today counts); `next <weekday>` is the nearest one after today.
///
/// A wall time that does not happen (the hour skipped when clocks go forward) resolves to
/// the first instant after the gap; one that happens twice (clocks going back) to the
/// first time it happens.
public enum TimePhrase {
    /// Why a phrase could not be read.
    public struct ParseError: Error, Sendable, CustomStringConvertible {
        /// A sentence for people, naming what was not understood.
        public let message: String
        /// The message, for logs.
        public var description: String { message }
    }

    /// The time used when a phrase names a day but no time.
    public static let defaultHour = 9

    static let weekdays: [(names: [String], iso: Int)] = [
        (["monday", "mon"], 1), (["tuesday", "tue", "tues"], 2), (["wednesday", "wed"], 3), (["thursday", "thu", "thur", "thurs"], 4),
        (["friday", "fri"], 5), (["saturday", "sat"], 6), (["sunday", "sun"], 7),
    ]

    /// The earliest time a phrase or instant may name: 1970-01-01T00:00:00Z.
    public static let earliest = Date(timeIntervalSince1970: 0)
    /// The first time a phrase or instant may no longer name: 2201-01-01T00:00:00Z. Times
    /// are stored and shown as RFC 3339 with a four-digit year; "in 100000 weeks" said 400
    /// times would otherwise reach past what can be formatted at all.
    public static let end = Date(timeIntervalSince1970: 7_289_654_400)

    /// Resolves `text` at `now` in the business calendar.
    /// - Throws: `ParseError` with a message naming what was not understood, or saying
    ///   that the time is outside 1970 to 2200.
    public static func resolve(_ text: String, now: Date, calendar: BusinessCalendar) throws -> Date {
        let d = try unchecked(text, now: now, calendar: calendar)
        guard d >= earliest, d < end else {
            throw ParseError(message: "“\(text.trimmingCharacters(in: .whitespacesAndNewlines).prefix(60))”: times are from 1970 to 2200")
        }
        return d
    }

    static func unchecked(_ text: String, now: Date, calendar: BusinessCalendar) throws -> Date {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw ParseError(message: "empty time; write e.g. \"in 2 hours\", \"tomorrow 09:00\" or 2026-12-01T09:00:00+02:00") }
        if let d = RFC3339.parse(trimmed) { return d }
        let words = trimmed.lowercased().split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        if words == ["now"] { return now }
        if words.first == "in" { return try relative(Array(words.dropFirst()), now: now, calendar: calendar, original: trimmed) }
        return try dayAndTime(words, now: now, calendar: calendar, original: trimmed)
    }

    /// `in 2 hours`, `in 1h 30m`, `in 3 days`; whole seconds.
    static func relative(_ words: [String], now: Date, calendar: BusinessCalendar, original: String) throws -> Date {
        // Split glued amounts ("2h", "90min") into number and unit.
        var tokens: [String] = []
        for w in words {
            let digits = w.prefix(while: { $0.isASCII && $0.isNumber })
            if !digits.isEmpty, digits.count < w.count {
                tokens.append(String(digits))
                tokens.append(String(w.dropFirst(digits.count)))
            } else {
                tokens.append(w)
            }
        }
        guard !tokens.isEmpty, tokens.count % 2 == 0 else {
            throw ParseError(message: "“\(original)”: after “in” write amounts with units, e.g. “in 2 hours”, “in 1h 30m”, “in 3 days”")
        }
        var seconds: Int64 = 0
        var days: Int64 = 0
        var i = 0
        while i < tokens.count {
            guard let n = Int64(tokens[i]), n >= 0, n <= 100_000 else {
                throw ParseError(message: "“\(original)”: “\(tokens[i])” is not a whole number (0 to 100000)")
            }
            switch tokens[i + 1].trimmingCharacters(in: CharacterSet(charactersIn: ",")) {
            case "m", "min", "mins", "minute", "minutes": seconds += n * 60
            case "h", "hr", "hrs", "hour", "hours": seconds += n * 3600
            case "d", "day", "days": days += n
            case "w", "wk", "week", "weeks": days += 7 * n
            default:
                throw ParseError(message: "“\(original)”: unknown unit “\(tokens[i + 1])” (minutes, hours, days or weeks)")
            }
            i += 2
        }
        var result = now
        if days > 0 {
            // Move the calendar date, keep the wall-clock time.
            let t = Int64(now.timeIntervalSince1970.rounded(.down))
            let wall = t + Int64(calendar.clock.offset(at: t))
            let moved = calendar.clock.instant(forWall: wall + days * 86_400)
            result = Date(timeIntervalSince1970: Double(moved) + (now.timeIntervalSince1970 - Double(t)))
        }
        // To the whole second: "in 2 hours" shows as 11:42:17, not 11:42:17.720378.
        return Date(timeIntervalSince1970: result.addingTimeInterval(Double(seconds)).timeIntervalSince1970.rounded(.down))
    }

    /// `tomorrow 09:00`, `monday`, `2026-12-01 14:00`, `17:30`.
    static func dayAndTime(_ words: [String], now: Date, calendar: BusinessCalendar, original: String) throws -> Date {
        var words = words.filter { $0 != "at" }
        // "2026-12-01T14:00" without an offset: a local date and time.
        if words.count == 1, let t = words[0].firstIndex(of: "t"), words[0].first?.isNumber == true {
            let w = words[0]
            words = [String(w[..<t]), String(w[w.index(after: t)...])]
        }
        var time: (hour: Int, minute: Int)?
        if let last = words.last, let t = try clockTime(last, original: original) {
            time = t
            words.removeLast()
        }
        let today = calendar.dayNumber(of: now)
        func at(_ day: Int64, _ t: (hour: Int, minute: Int)) -> Date { calendar.instant(day: day, hour: t.hour, minute: t.minute) }
        let hint = "write e.g. “tomorrow 09:00”, “monday 10:00”, “in 2 hours”, “2026-12-01 14:00” or an RFC 3339 time"
        switch words.count {
        case 0:
            guard let t = time else { throw ParseError(message: "“\(original)”: \(hint)") }
            let candidate = at(today, t)
            return candidate > now ? candidate : at(today + 1, t)
        case 1, 2:
            var next = false
            var word = words[0]
            if words.count == 2 {
                guard words[0] == "next" else { throw ParseError(message: "“\(original)”: \(hint)") }
                next = true
                word = words[1]
            }
            if !next, word == "today" {
                guard let t = time else { throw ParseError(message: "“\(original)”: say what time today, e.g. “today 17:30”") }
                return at(today, t)
            }
            if !next, word == "tomorrow" { return at(today + 1, time ?? (defaultHour, 0)) }
            if let iso = weekdays.first(where: { $0.names.contains(word) })?.iso {
                let t = time ?? (defaultHour, 0)
                var day = today + (next ? 1 : 0)
                for _ in 0..<8 {
                    if calendar.weekday(ofDay: day) == iso, at(day, t) > now { return at(day, t) }
                    day += 1
                }
                return at(day, t)
            }
            if !next, let date = civilDate(word) {
                return at(calendar.day(year: date.year, month: date.month, day: date.day), time ?? (defaultHour, 0))
            }
            throw ParseError(message: "“\(original)”: “\(words.joined(separator: " "))” is not a day I know; \(hint)")
        default:
            throw ParseError(message: "“\(original)”: \(hint)")
        }
    }

    /// `9:30`, `09:30`, `17:05:00` → hour and minute; nil when the word is not a time.
    static func clockTime(_ word: String, original: String) throws -> (hour: Int, minute: Int)? {
        let parts = word.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }) else {
            return nil
        }
        guard parts[0].count <= 2, parts[1].count == 2, let h = Int(parts[0]), let m = Int(parts[1]), (0...23).contains(h), (0...59).contains(m),
              parts.count == 2 || (parts[2].count == 2 && Int(parts[2]) == 0) else {
            throw ParseError(message: "“\(original)”: “\(word)” is not a time of day (00:00 to 23:59)")
        }
        return (h, m)
    }

    /// `2026-12-01` → its parts, nil when the word is not such a date.
    static func civilDate(_ word: String) -> (year: Int, month: Int, day: Int)? {
        let parts = word.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]), (1970...2200).contains(y), (1...12).contains(m) else { return nil }
        let days = RFC3339.daysFromCivil(Int64(y), Int64(m), 1)
        let nextMonth = m == 12 ? RFC3339.daysFromCivil(Int64(y + 1), 1, 1) : RFC3339.daysFromCivil(Int64(y), Int64(m + 1), 1)
        guard d >= 1, Int64(d) <= nextMonth - days else { return nil }
        return (y, m, d)
    }
}
