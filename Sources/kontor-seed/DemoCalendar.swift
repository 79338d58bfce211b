import Foundation
import KontorDomain

/// The seeding day on the business clock: every time in the demo is relative to it.
///
/// "Today" is the server's date (from `server.info`) in the server's business time zone;
/// a demo time is a `Minute` from today's local midnight, so yesterday 09:00 is
/// `-1440 + 540`, whatever the date, and daylight saving time is the calendar's business.
struct DemoCalendar: Sendable {
    let zone: TimeZone
    let now: Date
    private let calendar: Calendar
    private let year: Int
    private let month: Int
    private let day: Int
    /// Minutes since today's local midnight at `now`.
    let nowMinute: Minute

    init(now: Date, zone: TimeZone) {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = zone
        self.calendar = c
        self.zone = zone
        self.now = now
        let parts = c.dateComponents([.year, .month, .day, .hour, .minute], from: now)
        year = parts.year ?? 2026
        month = parts.month ?? 1
        day = parts.day ?? 1
        nowMinute = (parts.hour ?? 0) * 60 + (parts.minute ?? 0)
    }

    /// Year, month and day of `dayOffset` days from today.
    func civil(_ dayOffset: Int) -> (year: Int, month: Int, day: Int) {
        let base = RFC3339.daysFromCivil(Int64(year), Int64(month), Int64(day)) + Int64(dayOffset)
        let (y, m, d) = RFC3339.civilFromDays(base)
        return (Int(y), Int(m), Int(d))
    }

    /// 1 = Monday … 7 = Sunday.
    func weekday(_ dayOffset: Int) -> Int {
        let days = RFC3339.daysFromCivil(Int64(year), Int64(month), Int64(day)) + Int64(dayOffset)
        // 1970-01-01 was a Thursday (4).
        let w = ((days % 7) + 7 + 3) % 7
        return Int(w) + 1
    }

    /// How many months `dayOffset` lies from the current month (0 = this month, -1 = last).
    func monthOffset(_ dayOffset: Int) -> Int {
        let c = civil(dayOffset)
        return (c.year - year) * 12 + (c.month - month)
    }

    /// `YYYY-MM` of the month `offset` months from the current one.
    func period(_ offset: Int) -> String {
        let total = year * 12 + (month - 1) + offset
        return String(format: "%04d-%02d", total / 12, total % 12 + 1)
    }

    /// The instant of a demo time (local wall clock; a time that does not exist on a
    /// daylight-saving day is moved forward by the calendar).
    func date(_ m: Minute) -> Date {
        let dayOffset = Int((Double(m) / 1440).rounded(.down))
        let minute = m - dayOffset * 1440
        let c = civil(dayOffset)
        var parts = DateComponents()
        parts.year = c.year
        parts.month = c.month
        parts.day = c.day
        parts.hour = minute / 60
        parts.minute = minute % 60
        return calendar.date(from: parts) ?? now
    }

    /// RFC 3339 text with the business zone's offset.
    func text(_ m: Minute, seconds: Int = 0) -> String {
        RFC3339.format(date(m).addingTimeInterval(Double(seconds)), timeZone: zone)
    }
}
