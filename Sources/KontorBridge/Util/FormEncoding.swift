import KontorProtocol

/// `application/x-www-form-urlencoded` bodies, as providers send webhooks.
///
/// Source: WHATWG URL Standard, section 5.1 "application/x-www-form-urlencoded parsing"
/// (`&`-separated pairs, `+` is a space, percent-escapes are bytes of UTF-8).
public enum FormEncoding {
    /// The pairs of a form body in the order written; keys and values decoded.
    /// Invalid UTF-8 after percent-decoding is replaced with U+FFFD, never fatal.
    public static func pairs<C: Collection>(_ body: C) -> [(key: String, value: String)] where C.Element == UInt8 {
        var out: [(String, String)] = []
        var bytes = Array(body)
        // A trailing line break (as `curl -d @file` or an editor leaves) is no part of a value.
        while let last = bytes.last, last == 10 || last == 13 { bytes.removeLast() }
        for piece in bytes.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let eq = piece.firstIndex(of: UInt8(ascii: "="))
            let k = eq.map { piece[piece.startIndex..<$0] } ?? piece[...]
            let v = eq.map { piece[piece.index(after: $0)...] } ?? []
            let key = decodeComponent(k)
            if key.isEmpty && v.isEmpty { continue }
            out.append((key, decodeComponent(v)))
        }
        return out
    }

    /// Percent-decodes one component (`+` → space).
    public static func decodeComponent<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        let a = Array(bytes)
        var i = 0
        func hexValue(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x41...0x46: return c - 0x41 + 10
            case 0x61...0x66: return c - 0x61 + 10
            default: return nil
            }
        }
        while i < a.count {
            let c = a[i]
            if c == UInt8(ascii: "+") {
                out.append(0x20); i += 1
            } else if c == UInt8(ascii: "%"), i + 2 < a.count, let h = hexValue(a[i + 1]), let l = hexValue(a[i + 2]) {
                out.append(h << 4 | l); i += 3
            } else {
                out.append(c); i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Percent-encodes for a form body (the inverse of ``decodeComponent(_:)``; for tests
    /// and for building signed URLs).
    public static func encodeComponent(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "*"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            case 0x20: out += "+"
            default:
                let h = String(b, radix: 16, uppercase: true)
                out += "%" + (h.count == 1 ? "0" + h : h)
            }
        }
        return out
    }

    /// Builds a JSON tree from PHP-style bracket keys, as PHP's `parse_str` does:
    /// `a[b][0][c]=v` → `{"a":{"b":{"0":{"c":"v"}}}}`; `a[]=x&a[]=y` → `{"a":{"0":"x","1":"y"}}`.
    /// Every value is a JSON string (forms carry no types). A later plain value replaces
    /// an earlier one with the same key, as in PHP. Like PHP (`max_input_nesting_level`),
    /// keys nested deeper than ``maxNesting`` levels are dropped.
    ///
    /// Source: PHP manual, "Variables From External Sources" (HTML forms, arrays in
    /// names) and `parse_str`.
    public static func phpTree(_ pairs: [(key: String, value: String)]) -> JSONValue {
        var root = Node.object([:], next: 0)
        for (key, value) in pairs {
            let path = splitBracketKey(key)
            guard !path.isEmpty, path.count <= maxNesting else { continue }
            root.insert(path: path[...], value: value)
        }
        return root.json
    }

    /// The deepest bracket nesting kept (PHP's default `max_input_nesting_level`).
    public static let maxNesting = 64

    /// `a[b][]` → `["a", "b", ""]`. A key with unbalanced brackets is taken whole.
    static func splitBracketKey(_ key: String) -> [String] {
        guard let open = key.firstIndex(of: "["), open != key.startIndex else { return [key] }
        var parts = [String(key[..<open])]
        var rest = key[open...]
        while rest.first == "[" {
            guard let close = rest.firstIndex(of: "]") else { return [key] }
            parts.append(String(rest[rest.index(after: rest.startIndex)..<close]))
            rest = rest[rest.index(after: close)...]
        }
        if !rest.isEmpty { return [key] }
        return parts
    }

    private indirect enum Node {
        case value(String)
        /// Children, and the next index `[]` gives (one more than the largest integer
        /// key so far, as in PHP).
        case object([String: Node], next: Int)

        mutating func insert(path: ArraySlice<String>, value: String) {
            guard let head = path.first else { self = .value(value); return }
            var children: [String: Node] = [:]
            var next = 0
            if case .object(let c, let n) = self { children = c; next = n }
            self = .value("")  // let go of the payload, so that it changes in place (no copy per key)
            var key = head
            if key.isEmpty { key = String(next) }
            if let i = Int(key), i >= next, i < Int.max { next = i + 1 }
            if path.count == 1 {
                children[key] = .value(value)
            } else {
                children[key, default: .object([:], next: 0)].insert(path: path.dropFirst(), value: value)
            }
            self = .object(children, next: next)
        }

        var json: JSONValue {
            switch self {
            case .value(let s): return .string(s)
            case .object(let c, _): return .object(c.mapValues { $0.json })
            }
        }
    }
}
