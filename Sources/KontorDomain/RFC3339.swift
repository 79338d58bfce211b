import CivilTime
import Foundation

/// RFC 3339 timestamps (`2026-11-29T21:30:00+02:00`, `2026-11-29T19:30:00.25Z`).
///
/// Source: RFC 3339 section 5.6. The protocol requires an explicit offset: a local time
/// without one is ambiguous and refused.
public enum RFC3339 {
    /// Parses a full date-time with offset; fraction digits beyond microseconds are
    /// truncated. Lower-case `t`/`z` and a space instead of `T` are accepted (RFC 3339
    /// section 5.6 note). Returns nil for anything else (no offset, impossible dates).
    public static func parse(_ text: String) -> Date? {
        CivilTime.parse(text, .rfc3339)
    }

    /// Formats in `timeZone` with its offset at that instant, e.g.
    /// `2026-03-29T09:00:00+03:00`; fraction digits only when there are any
    /// (milliseconds, or microseconds when needed).
    public static func format(_ date: Date, timeZone: TimeZone) -> String {
        CivilTime.format(date, offset: Int64(timeZone.secondsFromGMT(for: date)), fraction: .shortest)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date.
    public static func daysFromCivil(_ y: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        CivilTime.daysFromCivil(y, m, d)
    }

    /// The proleptic Gregorian date of a day number since 1970-01-01.
    public static func civilFromDays(_ z: Int64) -> (Int64, Int64, Int64) {
        let c = CivilTime.civilFromDays(z)
        return (c.year, c.month, c.day)
    }
}
