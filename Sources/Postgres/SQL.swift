/// A SQL statement with its bind parameters.
///
/// Written as a string literal with interpolations; every interpolated value becomes a
/// `$n` placeholder and a separate parameter, so values can never be spliced into the SQL
/// text:
///
/// ```swift
/// let rows = try conn.query("SELECT id FROM contact WHERE owner_id = \(userID) AND name ILIKE \(pattern)")
/// ```
///
/// Nested `SQL` fragments keep their own parameters (renumbered). Identifiers that cannot
/// be parameters are interpolated with `identifier:` and are quoted.
public struct SQL: Sendable, ExpressibleByStringInterpolation, CustomStringConvertible {
    /// The statement text with `$1`, `$2`, ... placeholders.
    public private(set) var text: String
    /// Parameter values in PostgreSQL text format; nil is SQL NULL.
    public private(set) var binds: [String?]
    /// Parameter type OIDs (0 = let the server infer).
    public private(set) var types: [UInt32]

    public init(stringLiteral value: String) {
        text = value; binds = []; types = []
    }

    public init(stringInterpolation: StringInterpolation) {
        text = stringInterpolation.text
        binds = stringInterpolation.binds
        types = stringInterpolation.types
    }

    /// Builds a statement from trusted text only (no parameters). For migrations and
    /// statements assembled from constants.
    public init(unsafeSQL text: String) {
        self.text = text; binds = []; types = []
    }

    /// The text only; parameter values are never printed (they may be secrets).
    public var description: String { text }

    /// Appends another fragment, renumbering its placeholders.
    public mutating func append(_ other: SQL) {
        var i = StringInterpolation(literalCapacity: 0, interpolationCount: 0)
        i.text = text; i.binds = binds; i.types = types
        i.appendInterpolation(other)
        text = i.text; binds = i.binds; types = i.types
    }

    /// Joins fragments with a separator (e.g. `" AND "`).
    public static func joined(_ parts: [SQL], separator: String) -> SQL {
        var out = SQL(unsafeSQL: "")
        for (n, p) in parts.enumerated() {
            if n > 0 { out.text += separator }
            out.append(p)
        }
        return out
    }

    public struct StringInterpolation: StringInterpolationProtocol, Sendable {
        var text = ""
        var binds: [String?] = []
        var types: [UInt32] = []

        public init(literalCapacity: Int, interpolationCount: Int) {
            text.reserveCapacity(literalCapacity + interpolationCount * 3)
        }

        public mutating func appendLiteral(_ literal: String) { text += literal }

        /// A bind parameter.
        public mutating func appendInterpolation<T: PostgresEncodable>(_ value: T) {
            binds.append(value.postgresText)
            types.append(T.postgresOID)
            text += "$\(binds.count)"
        }

        /// A bind parameter that may be NULL.
        public mutating func appendInterpolation<T: PostgresEncodable>(_ value: T?) {
            binds.append(value?.postgresText)
            types.append(T.postgresOID)
            text += "$\(binds.count)"
        }

        /// A nested fragment; its placeholders are renumbered after ours.
        public mutating func appendInterpolation(_ fragment: SQL) {
            let base = binds.count
            if base == 0 {
                text += fragment.text
            } else {
                text += Self.renumber(fragment.text, by: base)
            }
            binds += fragment.binds
            types += fragment.types
        }

        /// A quoted identifier (table, column, channel): `"name"` with `"` doubled.
        public mutating func appendInterpolation(identifier: String) {
            text += "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }

        /// Shifts every `$n` placeholder outside string literals and quoted identifiers.
        static func renumber(_ s: String, by base: Int) -> String {
            var out = ""
            out.reserveCapacity(s.utf8.count + 8)
            var it = s.unicodeScalars.makeIterator()
            var pending: Unicode.Scalar? = nil
            var quote: Unicode.Scalar? = nil
            while let c = pending ?? it.next() {
                pending = nil
                if let q = quote {
                    out.unicodeScalars.append(c)
                    if c == q { quote = nil }
                    continue
                }
                if c == "'" || c == "\"" {
                    quote = c
                    out.unicodeScalars.append(c)
                    continue
                }
                if c == "$" {
                    var digits = ""
                    while let d = it.next() {
                        if d.properties.numericType != nil, d.isASCII {
                            digits.unicodeScalars.append(d)
                        } else {
                            pending = d
                            break
                        }
                    }
                    if let n = Int(digits) {
                        out += "$\(n + base)"
                    } else {
                        out += "$" + digits
                    }
                    continue
                }
                out.unicodeScalars.append(c)
            }
            return out
        }
    }
}
