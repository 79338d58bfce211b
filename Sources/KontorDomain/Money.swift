import Foundation

/// An exact amount of money in kopecks (1/100 of a hryvnia, UAH).
///
/// On the wire and in text it is a decimal string with up to two fraction digits
/// (`"1500.50"`, `"-20"`, `"0.05"`); SQL stores `numeric(14,2)`. Never a float.
public struct Money: Sendable, Hashable, Comparable, Codable, CustomStringConvertible, AdditiveArithmetic {
    /// The amount in kopecks.
    public var kopecks: Int64

    public init(kopecks: Int64) { self.kopecks = kopecks }

    public static let zero = Money(kopecks: 0)

    /// The largest magnitude `numeric(14,2)` holds: 999 999 999 999.99.
    public static let limit: Int64 = 99_999_999_999_999

    /// Parses `-?digits[.d[d]]`. Returns nil for anything else (exponents, commas,
    /// more than two fraction digits, magnitudes beyond `numeric(14,2)`).
    public init?(_ text: String) {
        var s = Substring(text)
        var negative = false
        if s.first == "-" { negative = true; s = s.dropFirst() } else if s.first == "+" { s = s.dropFirst() }
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = parts.first, !whole.isEmpty || parts.count == 2 else { return nil }
        guard whole.allSatisfy({ $0.isASCII && $0.isNumber }), whole.count <= 12 else { return nil }
        var frac: Substring = ""
        if parts.count == 2 {
            frac = parts[1]
            guard frac.count <= 2, !frac.isEmpty || !whole.isEmpty, frac.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        }
        guard !(whole.isEmpty && frac.isEmpty) else { return nil }
        let w = Int64(whole.isEmpty ? "0" : whole) ?? 0
        var f = Int64(frac.isEmpty ? "0" : frac) ?? 0
        if frac.count == 1 { f *= 10 }
        let k = w * 100 + f
        guard k <= Money.limit else { return nil }
        kopecks = negative ? -k : k
    }

    /// `"1500.50"`, `"-0.05"`, `"0.00"`: always two fraction digits.
    public var description: String {
        let a = kopecks.magnitude
        let f = a % 100
        return (kopecks < 0 ? "-" : "") + "\(a / 100)." + (f < 10 ? "0\(f)" : "\(f)")
    }

    public static func < (a: Money, b: Money) -> Bool { a.kopecks < b.kopecks }
    public static func + (a: Money, b: Money) -> Money { Money(kopecks: a.kopecks + b.kopecks) }
    public static func - (a: Money, b: Money) -> Money { Money(kopecks: a.kopecks - b.kopecks) }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        let s = try c.decode(String.self)
        guard let m = Money(s) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "money must be a decimal string like \"1500.50\"")
        }
        self = m
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// Strict decimal text: `-?digits[.digits][e±digits]`, at most 38 significant digits
/// (what `Decimal` holds exactly). Anything else (commas, hex, trailing letters,
/// more digits) is refused instead of being read partly or rounded.
public enum DecimalText {
    public static func parse(_ text: String) -> Decimal? {
        var u = Substring(text).utf8[...]
        if u.first == UInt8(ascii: "-") { u = u.dropFirst() }
        let digit: (UInt8) -> Bool = { $0 >= 48 && $0 <= 57 }
        let whole = u.prefix(while: digit)
        guard !whole.isEmpty else { return nil }
        u = u.dropFirst(whole.count)
        var frac: Substring.UTF8View.SubSequence = u.prefix(0)
        if u.first == UInt8(ascii: ".") {
            u = u.dropFirst()
            frac = u.prefix(while: digit)
            guard !frac.isEmpty else { return nil }
            u = u.dropFirst(frac.count)
        }
        if u.first == UInt8(ascii: "e") || u.first == UInt8(ascii: "E") {
            u = u.dropFirst()
            if u.first == UInt8(ascii: "+") || u.first == UInt8(ascii: "-") { u = u.dropFirst() }
            let exp = u.prefix(while: digit)
            guard !exp.isEmpty, exp.count <= 3 else { return nil }
            u = u.dropFirst(exp.count)
        }
        guard u.isEmpty else { return nil }
        let significant = (Array(whole) + Array(frac)).drop(while: { $0 == UInt8(ascii: "0") })
        guard significant.count <= 38 else { return nil }
        return Decimal(string: text, locale: Locale(identifier: "en_US_POSIX"))
    }
}
