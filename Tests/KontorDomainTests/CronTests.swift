import Foundation
import KontorDomain
import Testing

private let kyiv = TimeZone(identifier: "Europe/Kyiv")!
private let utc = TimeZone(identifier: "UTC")!

/// An instant from RFC 3339 text (with offset).
/// A malformed literal is recorded as a test issue and read as the epoch.
private func at(_ s: String) -> Date {
    guard let d = RFC3339.parse(s) else {
        Issue.record("bad test timestamp \(s)")
        return Date(timeIntervalSince1970: 0)
    }
    return d
}

private func fmt(_ d: Date?, _ tz: TimeZone = kyiv) -> String {
    d.map { RFC3339.format($0, timeZone: tz) } ?? "never"
}

private func nexts(_ expr: String, after start: String, count: Int, tz: TimeZone = kyiv) throws -> [String] {
    let c = try CronExpression(expr)
    var t = at(start)
    var out: [String] = []
    for _ in 0..<count {
        guard let n = c.next(after: t, in: tz) else { out.append("never"); break }
        out.append(fmt(n, tz))
        t = n
    }
    return out
}

@Suite("Cron expressions: parsing and evaluation in a time zone")
struct CronTests {
    @Test("fields, lists, ranges, steps, names and macros parse; nonsense is refused with the field named")
    func parsing() throws {
        for ok in ["* * * * *", "0 0 1 * *", "*/15 9-17 * * MON-FRI", "0,30 8 1,15 JAN,jul sun", "5/10 * * * *",
                   "0 0 * * 7", "@monthly", "@Daily", "@hourly", "@weekly", "@yearly", "@annually", "@midnight",
                   "  0 0 1 * *  ", "0 0 1-31/2 * *", "59 23 31 12 6"] {
            #expect(throws: Never.self, "\(ok)") { _ = try CronExpression(ok) }
        }
        let bad: [(String, String)] = [
            ("", "5 fields"), ("* * * *", "5 fields"), ("* * * * * *", "5 fields"), ("60 * * * *", "minute"),
            ("* 24 * * *", "hour"), ("* * 0 * *", "day of month"), ("* * 32 * *", "day of month"), ("* * * 13 *", "month"),
            ("* * * * 8", "day of week"), ("*/0 * * * *", "step"), ("5-1 * * * *", "backwards"), ("a * * * *", "minute"),
            ("1,,2 * * * *", "empty"), ("* * * FOO *", "month"), ("@sometimes", "macro"), ("1/2/3 * * * *", "more than one step"),
            ("-1 * * * *", "minute"),
        ]
        for (text, why) in bad {
            do {
                _ = try CronExpression(text)
                Issue.record("\(text) should not parse")
            } catch let e as CronExpression.ParseError {
                #expect(e.message.contains(why), "\(text): \(e.message)")
            }
        }
    }

    @Test("the monthly close: 00:00 on the 1st, Kyiv wall time, winter and summer offsets")
    func monthly() throws {
        #expect(try nexts("0 0 1 * *", after: "2026-01-15T12:00:00+02:00", count: 13) == [
            "2026-02-01T00:00:00+02:00", "2026-03-01T00:00:00+02:00", "2026-04-01T00:00:00+03:00", "2026-05-01T00:00:00+03:00",
            "2026-06-01T00:00:00+03:00", "2026-07-01T00:00:00+03:00", "2026-08-01T00:00:00+03:00", "2026-09-01T00:00:00+03:00",
            "2026-10-01T00:00:00+03:00", "2026-11-01T00:00:00+02:00", "2026-12-01T00:00:00+02:00", "2027-01-01T00:00:00+02:00",
            "2027-02-01T00:00:00+02:00",
        ])
        // In UTC that is 22:00 (winter) or 21:00 (summer) on the last day of the month before.
        let c = try CronExpression("@monthly")
        #expect(fmt(c.next(after: at("2026-03-20T00:00:00Z"), in: kyiv), utc) == "2026-03-31T21:00:00Z")
        #expect(fmt(c.next(after: at("2026-10-20T00:00:00Z"), in: kyiv), utc) == "2026-10-31T22:00:00Z")
        // Strictly after: an occurrence is not its own successor.
        #expect(fmt(c.next(after: at("2026-02-01T00:00:00+02:00"), in: kyiv)) == "2026-03-01T00:00:00+02:00")
        #expect(fmt(c.next(after: at("2026-01-31T23:59:59.999+02:00"), in: kyiv)) == "2026-02-01T00:00:00+02:00")
    }

    @Test("steps, ranges and lists expand as cron does")
    func expansion() throws {
        #expect(try nexts("*/20 * * * *", after: "2026-05-05T10:05:00Z", count: 4, tz: utc)
                == ["2026-05-05T10:20:00Z", "2026-05-05T10:40:00Z", "2026-05-05T11:00:00Z", "2026-05-05T11:20:00Z"])
        #expect(try nexts("5/20 8-9 * * *", after: "2026-05-05T00:00:00Z", count: 7, tz: utc)
                == ["2026-05-05T08:05:00Z", "2026-05-05T08:25:00Z", "2026-05-05T08:45:00Z", "2026-05-05T09:05:00Z",
                    "2026-05-05T09:25:00Z", "2026-05-05T09:45:00Z", "2026-05-06T08:05:00Z"])
        #expect(try nexts("0 12 1-10/3 * *", after: "2026-05-01T12:00:00Z", count: 4, tz: utc)
                == ["2026-05-04T12:00:00Z", "2026-05-07T12:00:00Z", "2026-05-10T12:00:00Z", "2026-06-01T12:00:00Z"])
        #expect(try nexts("30 9 * FEB,aug *", after: "2026-02-27T10:00:00Z", count: 3, tz: utc)
                == ["2026-02-28T09:30:00Z", "2026-08-01T09:30:00Z", "2026-08-02T09:30:00Z"])
    }

    @Test("day of month and day of week: either when both are restricted, both otherwise; Sunday is 0 and 7")
    func dayRules() throws {
        // 2026-11-01 is a Sunday.
        #expect(try nexts("0 0 13 * FRI", after: "2026-11-01T00:00:00Z", count: 4, tz: utc)
                == ["2026-11-06T00:00:00Z", "2026-11-13T00:00:00Z", "2026-11-20T00:00:00Z", "2026-11-27T00:00:00Z"])
        #expect(try nexts("0 0 * * 5", after: "2026-11-01T00:00:00Z", count: 2, tz: utc)
                == ["2026-11-06T00:00:00Z", "2026-11-13T00:00:00Z"])
        #expect(try nexts("0 0 */10 * *", after: "2026-11-01T00:00:00Z", count: 3, tz: utc)
                == ["2026-11-11T00:00:00Z", "2026-11-21T00:00:00Z", "2026-12-01T00:00:00Z"])
        #expect(try nexts("0 0 * * 7", after: "2026-11-01T00:00:00Z", count: 1, tz: utc) == ["2026-11-08T00:00:00Z"])
        #expect(try nexts("0 0 * * 0", after: "2026-11-01T00:00:00Z", count: 1, tz: utc) == ["2026-11-08T00:00:00Z"])
        #expect(try nexts("0 0 * * MON-FRI", after: "2026-11-06T00:00:00Z", count: 2, tz: utc)
                == ["2026-11-09T00:00:00Z", "2026-11-10T00:00:00Z"])
        // The 31st only in months that have one; 29 February only in leap years.
        #expect(try nexts("0 0 31 * *", after: "2026-01-31T00:00:00Z", count: 3, tz: utc)
                == ["2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z", "2026-07-31T00:00:00Z"])
        #expect(try nexts("0 0 29 2 *", after: "2026-01-01T00:00:00Z", count: 2, tz: utc)
                == ["2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"])
        // Never: 30 February.
        #expect(try CronExpression("0 0 30 2 *").next(after: at("2026-01-01T00:00:00Z"), in: utc) == nil)
        // The last day of the year, at the last minute, rolls over years.
        #expect(try nexts("59 23 31 12 *", after: "2026-12-31T23:59:00Z", count: 1, tz: utc) == ["2027-12-31T23:59:00Z"])
    }

    @Test("Kyiv spring forward (29 March 2026, 03:00 → 04:00): skipped times fire once, right after the gap")
    func springForward() throws {
        // 03:30 does not exist that day: it fires at 04:00 EEST (01:00 UTC), and on other days at 03:30.
        #expect(try nexts("30 3 * * *", after: "2026-03-28T00:00:00+02:00", count: 3) ==
                ["2026-03-28T03:30:00+02:00", "2026-03-29T04:00:00+03:00", "2026-03-30T03:30:00+03:00"])
        // Every 15 minutes through the night: 02:45 +02, then four skipped times collapse into one
        // firing at 04:00 +03 (which also matches), then 04:15.
        #expect(try nexts("*/15 * * * *", after: "2026-03-29T02:40:00+02:00", count: 3) ==
                ["2026-03-29T02:45:00+02:00", "2026-03-29T04:00:00+03:00", "2026-03-29T04:15:00+03:00"])
        // Hourly: 02:00, (03:00 skipped → 04:00), 05:00: one hour of real time between each.
        #expect(try nexts("0 * * * *", after: "2026-03-29T01:30:00+02:00", count: 3) ==
                ["2026-03-29T02:00:00+02:00", "2026-03-29T04:00:00+03:00", "2026-03-29T05:00:00+03:00"])
        // Daily at 03:00 on the day of the change fires at 04:00, once.
        #expect(try nexts("0 3 29 3 *", after: "2026-03-01T00:00:00+02:00", count: 2) ==
                ["2026-03-29T04:00:00+03:00", "2027-03-29T03:00:00+03:00"])
    }

    @Test("Kyiv fall back (25 October 2026, 04:00 → 03:00): a repeated time fires once, at its first occurrence")
    func fallBack() throws {
        #expect(try nexts("30 3 * * *", after: "2026-10-24T12:00:00+03:00", count: 3) ==
                ["2026-10-25T03:30:00+03:00", "2026-10-26T03:30:00+02:00", "2026-10-27T03:30:00+02:00"])
        // Every 30 minutes: 03:00 and 03:30 summer time, then no repeat in winter time, then 04:00 +02.
        let list = try nexts("*/30 * * * *", after: "2026-10-25T02:40:00+03:00", count: 4)
        #expect(list == ["2026-10-25T03:00:00+03:00", "2026-10-25T03:30:00+03:00", "2026-10-25T04:00:00+02:00",
                         "2026-10-25T04:30:00+02:00"])
        // Starting inside the repeated hour (its second pass) does not fire it again.
        #expect(try nexts("45 3 * * *", after: "2026-10-25T03:10:00+02:00", count: 1) == ["2026-10-26T03:45:00+02:00"])
        // Real time between the two hourly firings around the change is two hours: the repeated 03:00 fires once.
        let c = try CronExpression("0 * * * *")
        let a = c.next(after: at("2026-10-25T02:30:00+03:00"), in: kyiv)
        let b = a.flatMap { c.next(after: $0, in: kyiv) }
        let d = b.flatMap { c.next(after: $0, in: kyiv) }
        #expect(fmt(a) == "2026-10-25T03:00:00+03:00")
        #expect(fmt(b) == "2026-10-25T04:00:00+02:00")
        #expect(fmt(d) == "2026-10-25T05:00:00+02:00")
    }

    @Test("occurrences between two instants: the catch-up list after downtime, in order")
    func occurrences() throws {
        let c = try CronExpression("0 0 1 * *")
        let list = c.occurrences(after: at("2026-01-20T10:00:00+02:00"), through: at("2026-04-10T10:00:00+03:00"), in: kyiv)
        #expect(list.map { fmt($0) } == ["2026-02-01T00:00:00+02:00", "2026-03-01T00:00:00+02:00", "2026-04-01T00:00:00+03:00"])
        #expect(c.occurrences(after: at("2026-01-20T10:00:00+02:00"), through: at("2026-01-31T23:59:00+02:00"), in: kyiv).isEmpty)
        // `through` is inclusive.
        #expect(c.occurrences(after: at("2026-01-20T10:00:00+02:00"), through: at("2026-02-01T00:00:00+02:00"), in: kyiv).count == 1)
    }

    @Test("a zone far from UTC: the wall clock of the zone decides, not UTC")
    func otherZones() throws {
        let ny = TimeZone(identifier: "America/New_York")!
        // US spring forward 8 March 2026 at 02:00 → 03:00.
        #expect(try nexts("30 2 * * *", after: "2026-03-07T12:00:00-05:00", count: 3, tz: ny) ==
                ["2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00", "2026-03-10T02:30:00-04:00"])
        let c = try CronExpression("30 2 * * *")
        let first = c.next(after: at("2026-03-07T12:00:00-05:00"), in: ny)
        #expect(fmt(first, utc) == "2026-03-08T07:00:00Z", "02:30 does not exist: fires at 03:00 EDT = 07:00 UTC")
        let tokyo = TimeZone(identifier: "Asia/Tokyo")!
        #expect(fmt(try CronExpression("0 0 1 * *").next(after: at("2026-05-15T00:00:00Z"), in: tokyo), utc) == "2026-05-31T15:00:00Z")
    }

    @Test("periods: Kyiv months around midnight, DST, parsing and arithmetic")
    func periods() {
        func p(_ s: String) -> String { Period(containing: at(s), in: kyiv).description }
        // 00:30 on the 1st Kyiv time is 22:30 UTC the day before: the new month.
        #expect(p("2026-10-31T22:30:00Z") == "2026-11")
        #expect(p("2026-10-31T21:59:59Z") == "2026-10")   // 23:59:59 +02
        #expect(p("2026-10-31T23:30:00+02:00") == "2026-10")
        // Summer time: the month turns at 21:00 UTC.
        #expect(p("2026-03-31T20:59:59Z") == "2026-03")
        #expect(p("2026-03-31T21:00:00Z") == "2026-04")
        #expect(p("2026-07-31T21:30:00Z") == "2026-08")
        #expect(Period("2026-11")?.start(in: kyiv) == at("2026-11-01T00:00:00+02:00"))
        #expect(Period("2026-04")?.start(in: kyiv) == at("2026-04-01T00:00:00+03:00"))
        #expect(Period("2026-01")?.previous.description == "2025-12")
        #expect(Period("2026-12")?.next.description == "2027-01")
        #expect(Period("2026-01")?.adding(months: -13).description == "2024-12")
        #expect(Period("2026-01")!.months(to: Period("2027-03")!) == 14)
        for bad in ["2026-13", "2026-00", "2026-1", "26-01", "2026/01", "2026-01-01", "abcd-ef", "+026-01"] {
            #expect(Period(bad) == nil, "\(bad)")
        }
        #expect(Period(firstDay: "2026-11-01") == Period("2026-11"))
    }
}
