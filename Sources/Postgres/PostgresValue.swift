import CivilTime
import Foundation

/// PostgreSQL type OIDs used as bind parameter type hints (`pg_type.oid`).
public enum PostgresOID {
    public static let unknown: UInt32 = 0
    public static let bool: UInt32 = 16
    public static let int8: UInt32 = 20
    public static let int2: UInt32 = 21
    public static let int4: UInt32 = 23
    public static let text: UInt32 = 25
    public static let json: UInt32 = 114
    public static let float8: UInt32 = 701
    public static let date: UInt32 = 1082
    public static let timestamptz: UInt32 = 1184
    public static let numeric: UInt32 = 1700
    public static let uuid: UInt32 = 2950
    public static let jsonb: UInt32 = 3802
    public static let boolArray: UInt32 = 1000
    public static let int2Array: UInt32 = 1005
    public static let int4Array: UInt32 = 1007
    public static let textArray: UInt32 = 1009
    public static let int8Array: UInt32 = 1016
    public static let uuidArray: UInt32 = 2951
    public static let numericArray: UInt32 = 1231
}

/// A Swift value that can be sent as a bind parameter, in PostgreSQL's text format.
public protocol PostgresEncodable: Sendable {
    /// The value in PostgreSQL text input format.
    var postgresText: String { get }
    /// The type hint sent with the parameter; `0` lets the server infer it.
    static var postgresOID: UInt32 { get }
    /// The OID of an array of this type, used when `[Self]` is bound.
    static var postgresArrayOID: UInt32 { get }
}

extension PostgresEncodable {
    public static var postgresOID: UInt32 { PostgresOID.unknown }
    public static var postgresArrayOID: UInt32 { PostgresOID.unknown }
}

/// A Swift value that can be read from a column in PostgreSQL's text output format.
public protocol PostgresDecodable: Sendable {
    /// Parses the text form. Returns nil when the text is not a valid value of this type.
    init?(postgresText text: String)
}

public typealias PostgresCodable = PostgresEncodable & PostgresDecodable

extension String: PostgresCodable {
    public var postgresText: String { self }
    public static var postgresArrayOID: UInt32 { PostgresOID.textArray }
    public init?(postgresText text: String) { self = text }
}

extension Substring: PostgresEncodable {
    public var postgresText: String { String(self) }
}

extension Bool: PostgresCodable {
    public var postgresText: String { self ? "t" : "f" }
    public static var postgresOID: UInt32 { PostgresOID.bool }
    public static var postgresArrayOID: UInt32 { PostgresOID.boolArray }
    public init?(postgresText text: String) {
        switch text {
        case "t", "true", "TRUE", "on", "1", "yes": self = true
        case "f", "false", "FALSE", "off", "0", "no": self = false
        default: return nil
        }
    }
}

extension Int: PostgresCodable {
    public var postgresText: String { String(self) }
    public static var postgresOID: UInt32 { PostgresOID.int8 }
    public static var postgresArrayOID: UInt32 { PostgresOID.int8Array }
    public init?(postgresText text: String) { self.init(text) }
}

extension Int64: PostgresCodable {
    public var postgresText: String { String(self) }
    public static var postgresOID: UInt32 { PostgresOID.int8 }
    public static var postgresArrayOID: UInt32 { PostgresOID.int8Array }
    public init?(postgresText text: String) { self.init(text) }
}

extension Int32: PostgresCodable {
    public var postgresText: String { String(self) }
    public static var postgresOID: UInt32 { PostgresOID.int4 }
    public static var postgresArrayOID: UInt32 { PostgresOID.int4Array }
    public init?(postgresText text: String) { self.init(text) }
}

extension Int16: PostgresCodable {
    public var postgresText: String { String(self) }
    public static var postgresOID: UInt32 { PostgresOID.int2 }
    public static var postgresArrayOID: UInt32 { PostgresOID.int2Array }
    public init?(postgresText text: String) { self.init(text) }
}

/// Floating point is for measurements (durations, ratios), never money.
extension Double: PostgresCodable {
    public var postgresText: String {
        if isNaN { return "NaN" }
        if isInfinite { return self > 0 ? "Infinity" : "-Infinity" }
        return "\(self)"
    }
    public static var postgresOID: UInt32 { PostgresOID.float8 }
    public init?(postgresText text: String) {
        switch text {
        case "NaN": self = .nan
        case "Infinity": self = .infinity
        case "-Infinity": self = -.infinity
        default: self.init(text)
        }
    }
}

/// `numeric` as an exact decimal.
extension Decimal: PostgresCodable {
    public var postgresText: String { description }
    public static var postgresOID: UInt32 { PostgresOID.numeric }
    public static var postgresArrayOID: UInt32 { PostgresOID.numericArray }
    public init?(postgresText text: String) {
        guard !text.isEmpty, text != "NaN", let d = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")) else { return nil }
        self = d
    }
}

extension UUID: PostgresCodable {
    public var postgresText: String { uuidString.lowercased() }
    public static var postgresOID: UInt32 { PostgresOID.uuid }
    public static var postgresArrayOID: UInt32 { PostgresOID.uuidArray }
    public init?(postgresText text: String) { self.init(uuidString: text) }
}

/// `timestamptz`: sent as RFC 3339 in UTC with microseconds; read in any offset
/// PostgreSQL prints (`2026-11-29 21:30:00.5+02`, `+05:30`, `+00`).
extension Date: PostgresCodable {
    public var postgresText: String { PostgresTimestamp.format(self) }
    public static var postgresOID: UInt32 { PostgresOID.timestamptz }
    public init?(postgresText text: String) {
        guard let d = PostgresTimestamp.parse(text) else { return nil }
        self = d
    }
}

/// A calendar date without time or zone (`date`), e.g. a business day in the business time zone.
public struct PostgresDate: Hashable, Sendable, Comparable, CustomStringConvertible, PostgresCodable {
    public var year: Int
    public var month: Int
    public var day: Int

    public init(year: Int, month: Int, day: Int) {
        self.year = year; self.month = month; self.day = day
    }

    public var description: String {
        let y = String(year), m = month < 10 ? "0\(month)" : "\(month)", d = day < 10 ? "0\(day)" : "\(day)"
        return "\(String(repeating: "0", count: max(0, 4 - y.count)))\(y)-\(m)-\(d)"
    }

    public var postgresText: String { description }
    public static var postgresOID: UInt32 { PostgresOID.date }

    public init?(postgresText text: String) {
        let parts = text.split(separator: "-")
        guard parts.count == 3, let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
              (1...12).contains(m), (1...31).contains(d) else { return nil }
        self.init(year: y, month: m, day: d)
    }

    public static func < (a: PostgresDate, b: PostgresDate) -> Bool {
        (a.year, a.month, a.day) < (b.year, b.month, b.day)
    }
}

/// JSON text sent as `jsonb` and read back as its text (parse it with a JSON decoder).
public struct PostgresJSONB: Hashable, Sendable, PostgresCodable {
    public var text: String
    public init(_ text: String) { self.text = text }
    public var postgresText: String { text }
    public static var postgresOID: UInt32 { PostgresOID.jsonb }
    public init?(postgresText text: String) { self.text = text }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public init?(postgresText text: String) {
        guard let w = Wrapped(postgresText: text) else { return nil }
        self = .some(w)
    }
}

/// One-dimensional arrays, in PostgreSQL's array text format (`{a,"b c",NULL}`).
extension Array: PostgresEncodable where Element: PostgresEncodable {
    public var postgresText: String { PostgresArrayText.format(self.map { Optional($0.postgresText) }) }
    public static var postgresOID: UInt32 { Element.postgresArrayOID }
}

extension Array: PostgresDecodable where Element: PostgresDecodable {
    public init?(postgresText text: String) {
        guard let items = PostgresArrayText.parse(text) else { return nil }
        var out: [Element] = []
        out.reserveCapacity(items.count)
        for item in items {
            guard let item, let v = Element(postgresText: item) else { return nil }
            out.append(v)
        }
        self = out
    }
}

/// The text format of one-dimensional PostgreSQL arrays.
public enum PostgresArrayText {
    /// Formats elements (nil = NULL), quoting every element so any content is safe.
    public static func format(_ items: [String?]) -> String {
        var s = "{"
        for (i, item) in items.enumerated() {
            if i > 0 { s += "," }
            guard let item else { s += "NULL"; continue }
            s += "\""
            for ch in item.unicodeScalars {
                if ch == "\"" || ch == "\\" { s += "\\" }
                s.unicodeScalars.append(ch)
            }
            s += "\""
        }
        return s + "}"
    }

    /// Parses `{...}` into elements (nil = NULL). Nested arrays are not supported (nil).
    public static func parse(_ text: String) -> [String?]? {
        var scalars = Substring(text).unicodeScalars[...]
        // Optional dimension decoration: [1:3]={...}
        if scalars.first == "[" {
            guard let eq = scalars.firstIndex(of: "=") else { return nil }
            scalars = scalars[scalars.index(after: eq)...]
        }
        guard scalars.first == "{", scalars.last == "}" else { return nil }
        scalars = scalars.dropFirst().dropLast()
        var out: [String?] = []
        if scalars.isEmpty { return out }
        var i = scalars.startIndex
        while true {
            var item = String.UnicodeScalarView()
            var quoted = false
            if i < scalars.endIndex, scalars[i] == "\"" {
                quoted = true
                i = scalars.index(after: i)
                while i < scalars.endIndex, scalars[i] != "\"" {
                    if scalars[i] == "\\" {
                        i = scalars.index(after: i)
                        guard i < scalars.endIndex else { return nil }
                    }
                    item.append(scalars[i])
                    i = scalars.index(after: i)
                }
                guard i < scalars.endIndex else { return nil }
                i = scalars.index(after: i)
            } else {
                while i < scalars.endIndex, scalars[i] != "," {
                    if scalars[i] == "{" { return nil }
                    if scalars[i] == "\\" {
                        i = scalars.index(after: i)
                        guard i < scalars.endIndex else { return nil }
                    }
                    item.append(scalars[i])
                    i = scalars.index(after: i)
                }
            }
            let s = String(item)
            out.append(!quoted && s == "NULL" ? nil : s)
            if i == scalars.endIndex { break }
            guard scalars[i] == "," else { return nil }
            i = scalars.index(after: i)
        }
        return out
    }
}

/// Conversion between `Date` and PostgreSQL's timestamp text (see `CivilTime`).
public enum PostgresTimestamp {
    /// `2026-11-29T19:30:00.123456Z` (UTC, microseconds).
    public static func format(_ date: Date) -> String {
        CivilTime.format(date, offset: 0, fraction: .micros)
    }

    /// Parses PostgreSQL's timestamp output in any offset it prints; no offset = UTC.
    public static func parse(_ text: String) -> Date? {
        CivilTime.parse(text, .postgres)
    }
}
