import Foundation
import KontorDomain
import KontorProtocol

/// The time formats providers write.
public enum Times {
    /// The latest instant a provider's time may name: 9999-12-31T23:59:59Z. Later values
    /// (`1e300`, `9223372036854775807`) are garbage, and formatting them would overflow.
    public static let latestUnixSeconds: Double = 253_402_300_799

    /// The longest call or wait a record may state, in seconds (kontord's limit: 7 days).
    public static let maxCallSeconds = 604_800

    /// Unix time in seconds from a JSON string or number (`"1526638835"`, `1569518342`,
    /// `"1515666344.5"`); nil for anything else, for 0, for negative values and for
    /// values past the year 9999.
    public static func unixSeconds(_ v: JSONValue?) -> Date? {
        let text: String
        switch v {
        case .string(let s)?: text = s.trimmed
        case .number(let n)?: text = n
        default: return nil
        }
        guard let d = Double(text), d > 0, d.isFinite, d <= latestUnixSeconds else { return nil }
        if let i = Int64(text) { return Date(timeIntervalSince1970: TimeInterval(i)) }
        return Date(timeIntervalSince1970: d)
    }

    /// A number of seconds a call record states (`billsec`, `waitsec`, `duration`): nil
    /// when absent or empty.
    /// - Throws: `PayloadError` naming `field` when it is not a whole number from 0 to
    ///   ``maxCallSeconds`` (such a record is refused, never sent to be dead-lettered).
    public static func seconds(_ v: JSONValue?, field: String) throws -> Int? {
        guard let t = v?.text else { return nil }
        guard let n = JSONValue.string(t).intValue, (0...maxCallSeconds).contains(n) else {
            throw PayloadError("\(field) \"\(t.prefix(40))\" is not a number of seconds from 0 to \(maxCallSeconds)")
        }
        return n
    }

    /// ``seconds(_:field:)`` of a text.
    public static func seconds(_ text: String?, field: String) throws -> Int? {
        try seconds(text.map(JSONValue.string), field: field)
    }

    /// Unix time in milliseconds (Viber `timestamp`).
    public static func unixMilliseconds(_ v: JSONValue?) -> Date? {
        let text: String
        switch v {
        case .string(let s)?: text = s.trimmed
        case .number(let n)?: text = n
        default: return nil
        }
        guard let ms = Int64(text), ms > 0, Double(ms) / 1000 <= latestUnixSeconds else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(ms / 1000) + TimeInterval(ms % 1000) / 1000)
    }

    /// Unix time in microseconds (FreeSWITCH `*_uepoch`).
    public static func unixMicroseconds(_ v: JSONValue?) -> Date? {
        guard case .string(let s)? = v, let us = Int64(s.trimmed), us > 0, Double(us) / 1_000_000 <= latestUnixSeconds else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(us / 1_000_000) + TimeInterval(us % 1_000_000) / 1_000_000)
    }

    /// A local wall-clock time `YYYY-MM-DD HH:MM:SS` (optionally `T` instead of the space
    /// and a fraction) in `zone`, as Asterisk and FreeSWITCH write CDR times; nil when
    /// empty or malformed.
    public static func localDateTime(_ text: String, in zone: TimeZone) -> Date? {
        let t = text.trimmed
        let u = Array(t.utf8)
        guard u.count >= 19 else { return nil }
        func num(_ r: Range<Int>) -> Int? {
            var v = 0
            for i in r {
                let c = u[i]
                guard c >= 48, c <= 57 else { return nil }
                v = v * 10 + Int(c - 48)
            }
            return v
        }
        guard u[4] == 45, u[7] == 45, u[10] == 32 || u[10] == 84, u[13] == 58, u[16] == 58,
              let y = num(0..<4), let mo = num(5..<7), let d = num(8..<10),
              let h = num(11..<13), let mi = num(14..<16), let s = num(17..<19) else { return nil }
        var fraction = 0.0
        if u.count > 19 {
            guard u[19] == 46, let f = Double("0" + String(decoding: u[19...], as: UTF8.self)) else { return nil }
            fraction = f
        }
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = zone
        let comps = DateComponents(year: y, month: mo, day: d, hour: h, minute: mi, second: s)
        guard (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, s < 61,
              let date = cal.date(from: comps) else { return nil }
        return date.addingTimeInterval(fraction)
    }

    /// RFC 3339 (`2023-10-02T18:07:01.854Z`) or, failing that, unix seconds.
    public static func flexible(_ v: JSONValue?) -> Date? {
        if case .string(let s)? = v, let d = RFC3339.parse(s.trimmed) { return d }
        return unixSeconds(v)
    }

    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    private static let zones: [String: Int] = [
        "ut": 0, "utc": 0, "gmt": 0, "z": 0, "est": -5, "edt": -4, "cst": -6, "cdt": -5, "mst": -7, "mdt": -6, "pst": -8, "pdt": -7,
    ]

    /// An RFC 5322 / RFC 2822 date-time (`Sun, 25 Mar 2018 09:53:19 +0000`), the format
    /// of e-mail `Date:` headers and Twilio's `Timestamp`. Accepts the obsolete zone
    /// names of RFC 5322 section 4.3 and a missing day of week or seconds.
    public static func rfc2822(_ text: String) -> Date? {
        var s = text.trimmed
        if let paren = s.firstIndex(of: "(") { s = String(s[..<paren]).trimmed }  // "(PDT)" comments
        if let comma = s.firstIndex(of: ",") { s = String(s[s.index(after: comma)...]) }
        let parts = s.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard parts.count >= 4, let day = Int(parts[0]), (1...31).contains(day),
              let monthIndex = months.firstIndex(of: parts[1].prefix(3).lowercased()),
              var year = Int(parts[2]), (0...9999).contains(year) else { return nil }
        if year < 50 { year += 2000 } else if year < 1000 { year += 1900 }
        let hms = parts[3].split(separator: ":").compactMap { Int($0) }
        guard hms.count >= 2, hms.count == parts[3].split(separator: ":").count, hms.count <= 3,
              (0...23).contains(hms[0]), (0...59).contains(hms[1]), hms.count == 2 || (0...60).contains(hms[2]) else { return nil }
        var offsetSeconds = 0
        if parts.count >= 5 {
            let z = parts[4]
            if let sign = z.first, sign == "+" || sign == "-", z.count == 5, let v = Int(z.dropFirst()), v >= 0, v <= 2359 {
                offsetSeconds = (v / 100 * 3600 + v % 100 * 60) * (sign == "-" ? -1 : 1)
            } else if let h = zones[z.lowercased()] {
                offsetSeconds = h * 3600
            }
        }
        var cal = Calendar(identifier: .gregorian)
        guard let utc = TimeZone(secondsFromGMT: 0) else { return nil }
        cal.timeZone = utc
        let comps = DateComponents(year: year, month: monthIndex + 1, day: day, hour: hms[0], minute: hms[1],
                                   second: hms.count > 2 ? hms[2] : 0)
        guard let d = cal.date(from: comps) else { return nil }
        return d.addingTimeInterval(TimeInterval(-offsetSeconds))
    }

    /// The zone named `identifier`, or Europe/Kyiv (the business default) when unknown.
    public static func zone(_ identifier: String?) -> TimeZone {
        if let identifier, let z = TimeZone(identifier: identifier) { return z }
        return TimeZone(identifier: "Europe/Kyiv") ?? TimeZone(secondsFromGMT: 7200) ?? .current
    }
}

extension JSONValue {
    /// A string, or a number's text, or a boolean's text; nil for null, arrays and objects.
    var scalarText: String? {
        switch self {
        case .string(let s): return s
        case .number(let n): return n
        case .bool(let b): return b ? "true" : "false"
        default: return nil
        }
    }

    /// `scalarText`, trimmed, nil when empty.
    var text: String? { scalarText?.nonEmpty }

    /// An integer from a number or a numeric string (`"122"`, `122`, `"12.0"`).
    var intValue: Int? {
        guard let t = scalarText?.trimmed else { return nil }
        if let i = Int(t) { return i }
        if let d = Double(t), d.isFinite, d == d.rounded(), abs(d) < 1e15 { return Int(d) }
        return nil
    }

    /// A byte size: a non-negative integer below 2^53; nil for anything else.
    var sizeValue: Int? {
        guard let n = intValue, n >= 0, n < 1 << 53 else { return nil }
        return n
    }
}
