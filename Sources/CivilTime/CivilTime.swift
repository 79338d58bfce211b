import Foundation

/// Calendar arithmetic and timestamp text shared by the PostgreSQL layer and the
/// protocol: proleptic Gregorian dates, seconds since 1970, fixed UTC offsets. No time
/// zone rules live here (those come from Foundation's `TimeZone` where needed).
public enum CivilTime {
    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm,
    /// "chrono-Compatible Low-Level Date Algorithms").
    public static func daysFromCivil(_ y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (m + 9) % 12
        let doy = (153 * mp + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The proleptic Gregorian date (year, month, day) of a day number since 1970-01-01.
    public static func civilFromDays(_ z0: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    /// Days in a month of a Gregorian year.
    public static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Which timestamp texts `parse` accepts.
    public enum Dialect: Sendable {
        /// RFC 3339 section 5.6: an offset is required (`Z` or `±HH:MM`); `T`, `t` or a
        /// space between date and time; hours 00–23; the day must exist in its month.
        case rfc3339
        /// PostgreSQL's output (`2026-11-29 21:30:00.5+02`, `+05:30`, `+00:00:00`, ISO
        /// DateStyle): offsets `±HH`, `±HHMM`, `±HH:MM[:SS]`; no offset = UTC.
        case postgres
    }

    /// Parses `YYYY-MM-DD[T ]HH:MM:SS[.fraction][offset]`; fraction digits beyond
    /// microseconds are truncated; a leap second (:60) counts as :59.
    public static func parse(_ text: String, _ dialect: Dialect) -> Date? {
        let u = Array(text.utf8)
        var i = 0
        func digits(_ n: Int) -> Int64? {
            guard i + n <= u.count else { return nil }
            var v: Int64 = 0
            for k in 0..<n {
                let c = u[i + k]
                guard c >= 48, c <= 57 else { return nil }
                v = v * 10 + Int64(c - 48)
            }
            i += n
            return v
        }
        func expect(_ c: UInt8) -> Bool {
            guard i < u.count, u[i] == c else { return false }
            i += 1
            return true
        }
        guard let y = digits(4), expect(45), let mo = digits(2), expect(45), let d = digits(2) else { return nil }
        guard i < u.count, u[i] == 32 || u[i] == 84 || u[i] == 116 else { return nil }
        i += 1
        guard let h = digits(2), expect(58), let mi = digits(2), expect(58), let s = digits(2) else { return nil }
        guard (1...12).contains(mo), d >= 1, d <= daysIn(month: mo, year: y), mi <= 59, s <= 60,
              h <= (dialect == .rfc3339 ? 23 : 24) else { return nil }
        var micros: Int64 = 0
        if expect(46) {
            var n = 0
            while i < u.count, u[i] >= 48, u[i] <= 57 {
                if n < 6 { micros = micros * 10 + Int64(u[i] - 48) }
                n += 1
                i += 1
            }
            guard n > 0 else { return nil }
            if n < 6 { for _ in n..<6 { micros *= 10 } }
        }
        var offset: Int64 = 0
        if i == u.count {
            guard dialect == .postgres else { return nil }
        } else if u[i] == 90 || u[i] == 122 {
            i += 1
        } else if u[i] == 43 || u[i] == 45 {
            let sign: Int64 = u[i] == 45 ? -1 : 1
            i += 1
            guard let oh = digits(2), oh <= 23 else { return nil }
            var om: Int64 = 0, os: Int64 = 0
            switch dialect {
            case .rfc3339:
                guard expect(58), let m = digits(2) else { return nil }
                om = m
            case .postgres:
                if expect(58) { guard let m = digits(2) else { return nil }; om = m } else if let m = digits(2) { om = m }
                if expect(58) { guard let sec = digits(2) else { return nil }; os = sec }
            }
            guard om <= 59, os <= 59 else { return nil }
            offset = sign * (oh * 3600 + om * 60 + os)
        } else {
            return nil
        }
        guard i == u.count else { return nil }
        let secs = daysFromCivil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + min(s, 59) - offset
        return Date(timeIntervalSince1970: Double(secs) + Double(micros) / 1_000_000)
    }

    /// How many fraction digits `format` writes.
    public enum Fraction: Sendable {
        /// Always six (microseconds).
        case micros
        /// None when whole seconds, three when whole milliseconds, else six.
        case shortest
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` at a fixed offset (seconds east of UTC).
    public static func format(_ date: Date, offset: Int64, fraction: Fraction) -> String {
        let totalMicros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        var secs = totalMicros >= 0 ? totalMicros / 1_000_000 : (totalMicros - 999_999) / 1_000_000
        let micros = totalMicros - secs * 1_000_000
        secs += offset
        let days = secs >= 0 ? secs / 86_400 : (secs - 86_399) / 86_400
        let rem = secs - days * 86_400
        let (y, m, d) = civilFromDays(days)
        var out = "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(rem / 3600, 2)):\(pad(rem % 3600 / 60, 2)):\(pad(rem % 60, 2))"
        switch fraction {
        case .micros:
            out += "." + pad(micros, 6)
        case .shortest:
            if micros != 0 { out += micros % 1000 == 0 ? "." + pad(micros / 1000, 3) : "." + pad(micros, 6) }
        }
        if offset == 0 { return out + "Z" }
        let a = abs(offset)
        return out + (offset < 0 ? "-" : "+") + pad(a / 3600, 2) + ":" + pad(a % 3600 / 60, 2)
    }

    static func pad(_ v: Int64, _ n: Int) -> String {
        let s = String(v)
        return s.count >= n ? s : String(repeating: "0", count: n - s.count) + s
    }
}
