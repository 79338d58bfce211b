import KontorDomain
import KontorProtocol

/// A parameter's type as the catalogue writes it (`int`, `bool?`, `lead|contact|client?`,
/// `[phone]?`, `string|[string]?`), read so that typed words become the right JSON.
public indirect enum ParamType: Sendable, Equatable, CustomStringConvertible {
    case int
    case bool
    /// A decimal JSON number.
    case number
    /// Money: sent as a decimal string with two fraction digits.
    case money
    /// Text, including times, dates, periods, phones and e-mails.
    case string(hint: String)
    /// One of fixed words.
    case choice([String])
    /// Comma-separated values of the element type.
    case list(ParamType)
    /// Any of these (the first that accepts the word wins; a list when it has commas).
    case union([ParamType])
    /// A JSON value the catalogue names but the client does not model (`messenger`):
    /// a word that is JSON is sent as JSON, anything else as a string.
    case json(hint: String)

    /// The type as the catalogue would write it.
    public var description: String {
        switch self {
        case .int: return "int"
        case .bool: return "bool"
        case .number: return "number"
        case .money: return "money"
        case .string(let h): return h
        case .choice(let c): return c.joined(separator: "|")
        case .list(let e): return "[\(e)]"
        case .union(let u): return u.map(\.description).joined(separator: "|")
        case .json(let h): return h
        }
    }

    /// The fixed words of a choice (or of the choices inside a union or list).
    public var choices: [String] {
        switch self {
        case .choice(let c): return c
        case .list(let e): return e.choices
        case .union(let u): return u.flatMap(\.choices)
        default: return []
        }
    }

    var isList: Bool {
        if case .list = self { return true }
        return false
    }

    static let stringWords: Set<String> = ["string", "str", "text", "time", "timestamp", "datetime", "date", "period",
                                           "month", "phone", "email", "url", "uuid", "login", "password", "token"]
    static let intWords: Set<String> = ["int", "integer", "int64", "id"]
    static let moneyWords: Set<String> = ["money", "decimal", "amount", "uah"]
    static let jsonWords: Set<String> = ["json", "object", "any", "value", "messenger"]

    /// Reads a catalogue type (without the optional `?`).
    public static func parse(_ text: String) -> ParamType {
        let alternatives = splitTopLevel(text.trimmingCharacters(in: .whitespaces))
        if alternatives.count == 1 { return single(alternatives[0], alone: true) }
        // Words that are not type names are the choices: `lead|contact|client`.
        var types: [ParamType] = []
        var words: [String] = []
        for a in alternatives {
            let t = single(a, alone: false)
            if case .choice(let w) = t { words += w } else { types.append(t) }
        }
        if !words.isEmpty { types.insert(.choice(words), at: 0) }
        return types.count == 1 ? types[0] : .union(types)
    }

    static func single(_ raw: String, alone: Bool) -> ParamType {
        let t = raw.trimmingCharacters(in: .whitespaces)
        if t.hasPrefix("["), t.hasSuffix("]") {
            return .list(parse(String(t.dropFirst().dropLast())))
        }
        let lower = t.lowercased()
        if intWords.contains(lower) { return .int }
        if lower == "bool" || lower == "boolean" { return .bool }
        if lower == "number" || lower == "float" { return .number }
        if moneyWords.contains(lower) { return .money }
        if stringWords.contains(lower) { return .string(hint: lower) }
        if jsonWords.contains(lower) || alone { return .json(hint: lower.isEmpty ? "json" : lower) }
        return .choice([t])
    }

    static func splitTopLevel(_ s: String) -> [String] {
        var parts: [String] = []
        var depth = 0
        var cur = ""
        for c in s {
            if c == "[" { depth += 1 } else if c == "]" { depth -= 1 }
            if c == "|" && depth == 0 { parts.append(cur); cur = "" } else { cur.append(c) }
        }
        parts.append(cur)
        return parts
    }
}

/// One parameter of a method, read from its catalogue line (`"group: lead|contact?"`).
public struct ParamSpec: Sendable, Equatable {
    /// The field name (`snake_case`).
    public var name: String
    /// How a typed value is read.
    public var type: ParamType
    /// True when the catalogue marks it with `?`.
    public var optional: Bool

    /// Reads `name: type` with `?` for optional; a line without a type is an optional
    /// JSON value.
    public init(catalogueLine line: String) {
        guard let colon = line.firstIndex(of: ":") else {
            name = line.trimmingCharacters(in: .whitespaces)
            type = .json(hint: "value")
            optional = true
            return
        }
        name = line[..<colon].trimmingCharacters(in: .whitespaces)
        var t = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        optional = t.hasSuffix("?")
        if optional { t.removeLast() }
        type = ParamType.parse(t)
    }

    /// A parameter spelled out.
    public init(name: String, type: ParamType, optional: Bool) {
        self.name = name; self.type = type; self.optional = optional
    }
}

extension MethodInfo {
    /// The params with their types.
    public var specs: [ParamSpec] { params.map(ParamSpec.init(catalogueLine:)) }

    /// The human form of the name: `report plan-fact`.
    public var humanName: String {
        name.split(separator: ".").map { $0.replacingOccurrences(of: "_", with: "-") }.joined(separator: " ")
    }

    /// `user get ID [role=…] …`: how a person types it.
    public var usage: String {
        let specs = self.specs
        let pos = positionalParams
        var parts = [humanName]
        for (i, p) in pos.enumerated() {
            let optional = specs.first(where: { $0.name == p })?.optional ?? false
            var w = p.uppercased()
            if i == pos.count - 1, specs.first(where: { $0.name == p })?.type.isTextLike == true { w += "…" }
            parts.append(optional ? "[\(w)]" : w)
        }
        for s in specs where !pos.contains(s.name) {
            let v = s.type.choices.isEmpty ? s.type.description : s.type.choices.joined(separator: "|")
            parts.append(s.optional ? "[\(s.name)=\(v)]" : "\(s.name)=\(v)")
        }
        return parts.joined(separator: " ")
    }
}

extension ParamType {
    var isTextLike: Bool {
        switch self {
        case .string, .json: return true
        case .union(let u): return u.contains { $0.isTextLike }
        default: return false
        }
    }
}
