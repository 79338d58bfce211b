import Foundation
import KontorDomain
import Testing

@Suite("Due times as people write them, in the business time zone")
struct TimePhraseTests {
    let kyiv = BusinessCalendar(zone: TimeZone(identifier: "Europe/Kyiv")!)

    func t(_ s: String) -> Date { RFC3339.parse(s)! }
    func resolve(_ phrase: String, at now: String) throws -> Date { try TimePhrase.resolve(phrase, now: t(now), calendar: kyiv) }

    @Test("tomorrow 09:00 on the evening before clocks go forward is 06:00 UTC (UTC+3 from 03:00)")
    func tomorrowAcrossSpringForward() throws {
        #expect(try resolve("tomorrow 09:00", at: "2026-03-28T20:00:00+02:00") == t("2026-03-29T06:00:00Z"))
        #expect(try resolve("Tomorrow at 9:00", at: "2026-03-28T20:00:00+02:00") == t("2026-03-29T06:00:00Z"))
        // The default time is 09:00.
        #expect(try resolve("tomorrow", at: "2026-03-28T20:00:00+02:00") == t("2026-03-29T06:00:00Z"))
        // And in winter 09:00 is 07:00 UTC.
        #expect(try resolve("tomorrow 09:00", at: "2026-11-20T10:00:00+02:00") == t("2026-11-21T07:00:00Z"))
    }

    @Test("relative amounts: minutes and hours are durations, days and weeks keep the wall clock")
    func relative() throws {
        #expect(try resolve("in 2 hours", at: "2026-11-20T10:00:00+02:00") == t("2026-11-20T12:00:00+02:00"))
        #expect(try resolve("in 90 min", at: "2026-11-20T10:00:00+02:00") == t("2026-11-20T11:30:00+02:00"))
        #expect(try resolve("in 1h 30m", at: "2026-11-20T10:00:00+02:00") == t("2026-11-20T11:30:00+02:00"))
        #expect(try resolve("in 1 day", at: "2026-03-28T10:00:00+02:00") == t("2026-03-29T10:00:00+03:00"))   // 23 hours
        #expect(try resolve("in 1 week", at: "2026-10-20T10:00:00+03:00") == t("2026-10-27T10:00:00+02:00"))
        // Two hours across the spring gap are two hours.
        #expect(try resolve("in 2 hours", at: "2026-03-29T02:30:00+02:00") == t("2026-03-29T05:30:00+03:00"))
        #expect(try resolve("now", at: "2026-11-20T10:00:00+02:00") == t("2026-11-20T10:00:00+02:00"))
    }

    @Test("weekdays and bare times: the nearest one still ahead")
    func weekdays() throws {
        // 2026-11-23 is a Monday.
        #expect(try resolve("monday 10:00", at: "2026-11-23T08:00:00+02:00") == t("2026-11-23T10:00:00+02:00"))
        #expect(try resolve("monday 10:00", at: "2026-11-23T11:00:00+02:00") == t("2026-11-30T10:00:00+02:00"))
        #expect(try resolve("next monday 10:00", at: "2026-11-23T08:00:00+02:00") == t("2026-11-30T10:00:00+02:00"))
        #expect(try resolve("fri", at: "2026-11-23T08:00:00+02:00") == t("2026-11-27T09:00:00+02:00"))
        #expect(try resolve("17:30", at: "2026-11-23T08:00:00+02:00") == t("2026-11-23T17:30:00+02:00"))
        #expect(try resolve("07:30", at: "2026-11-23T08:00:00+02:00") == t("2026-11-24T07:30:00+02:00"))
        #expect(try resolve("2026-12-01 14:00", at: "2026-11-23T08:00:00+02:00") == t("2026-12-01T14:00:00+02:00"))
        #expect(try resolve("2026-12-01T14:00", at: "2026-11-23T08:00:00+02:00") == t("2026-12-01T14:00:00+02:00"))
        #expect(try resolve("2026-07-01", at: "2026-11-23T08:00:00+02:00") == t("2026-07-01T09:00:00+03:00"))
        #expect(try resolve("2026-12-01T14:00:00+01:00", at: "2026-11-23T08:00:00+02:00") == t("2026-12-01T13:00:00Z"))
    }

    @Test("a skipped wall time is the first instant after the gap; a repeated one the first time")
    func gapsAndRepeats() throws {
        // 2026-03-29: 03:00 → 04:00 in Kyiv; 03:30 does not happen.
        #expect(try resolve("2026-03-29 03:30", at: "2026-03-20T08:00:00+02:00") == t("2026-03-29T04:00:00+03:00"))
        // 2026-10-25: 04:00 → 03:00; 03:30 happens twice.
        #expect(try resolve("2026-10-25 03:30", at: "2026-10-20T08:00:00+03:00") == t("2026-10-25T03:30:00+03:00"))
    }

    @Test("phrases that are not understood say why")
    func refusals() {
        for bad in ["", "in 2 parsecs", "in two hours", "tomorrow 25:00", "yesterday", "today", "2026-02-30", "monday tuesday", "in"] {
            #expect(throws: TimePhrase.ParseError.self, "\(bad)") { try resolve(bad, at: "2026-11-23T08:00:00+02:00") }
        }
    }

    @Test("days and weeks of the business calendar, DST days included")
    func calendarRanges() {
        let spring = kyiv.dayRange(containing: t("2026-03-29T12:00:00+03:00"))
        #expect(spring.lowerBound == t("2026-03-29T00:00:00+02:00"))
        #expect(spring.upperBound == t("2026-03-30T00:00:00+03:00"))
        #expect(spring.upperBound.timeIntervalSince(spring.lowerBound) == 23 * 3600)
        let late = kyiv.dayRange(containing: t("2026-11-20T23:30:00+02:00"))
        #expect(late.lowerBound == t("2026-11-20T00:00:00+02:00"))
        // 00:30 in Kyiv is still the previous day in UTC, and already the next day here.
        #expect(kyiv.dayRange(containing: t("2026-11-20T22:30:00Z")).lowerBound == t("2026-11-21T00:00:00+02:00"))
        let week = kyiv.weekRange(containing: t("2026-11-22T23:59:00+02:00"))   // a Sunday
        #expect(week.lowerBound == t("2026-11-16T00:00:00+02:00"))
        #expect(week.upperBound == t("2026-11-23T00:00:00+02:00"))
        #expect(TaskDue.tomorrow.range(now: t("2026-11-20T23:30:00+02:00"), calendar: kyiv)?.lowerBound == t("2026-11-21T00:00:00+02:00"))
    }

    @Test("webhook URLs: https only; http to the loopback when allowed")
    func webhookURLs() {
        #expect(WebhookURL.problem("https://push.example.com/kontor", allowHTTPLoopback: false) == nil)
        #expect(WebhookURL.problem("http://push.example.com/kontor", allowHTTPLoopback: false) != nil)
        #expect(WebhookURL.problem("http://127.0.0.1:8080/hook", allowHTTPLoopback: false) != nil)
        #expect(WebhookURL.problem("http://127.0.0.1:8080/hook", allowHTTPLoopback: true) == nil)
        #expect(WebhookURL.problem("http://10.0.0.5/hook", allowHTTPLoopback: true) != nil)
        #expect(WebhookURL.problem("https://user:pw@push.example.com/", allowHTTPLoopback: false) != nil)
        #expect(WebhookURL.problem("ftp://push.example.com/", allowHTTPLoopback: false) != nil)
        #expect(WebhookURL.problem("not a url", allowHTTPLoopback: false) != nil)
    }
}
