import Foundation
import KontorDomain
import KontorProtocol

/// A failure found by the client before anything is sent: a syntax slip (`usage`), or
/// the same kinds the server would answer (`method_not_found`, `invalid_params`).
public struct ShellError: Error, Sendable, CustomStringConvertible, Equatable {
    /// `usage`, `method_not_found`, `invalid_params`, `io`.
    public var kind: String
    /// What went wrong, for a person.
    public var message: String

    /// A failure of `kind` (`usage`, `method_not_found`, `invalid_params`, `io`).
    public init(_ kind: String, _ message: String) { self.kind = kind; self.message = message }

    /// `kind: message`.
    public var description: String { "\(kind): \(message)" }

    static func usage(_ m: String) -> ShellError { ShellError("usage", m) }
    static func unknownMethod(_ m: String) -> ShellError { ShellError(ErrorKind.methodNotFound.rawValue, m) }
    static func badParam(_ m: String) -> ShellError { ShellError(ErrorKind.invalidParams.rawValue, m) }
}

/// How to show a result: `--json`, `--svg FILE`.
public struct OutputOptions: Sendable, Equatable {
    /// Print the raw JSON result.
    public var json = false
    /// Also write the result's chart as SVG to this file.
    public var svg: String?

    /// Output options; by default a table and no SVG.
    public init(json: Bool = false, svg: String? = nil) { self.json = json; self.svg = svg }
}

/// A method call a person typed, ready to send.
public struct MethodCall: Sendable, Equatable {
    /// The protocol method name (`report.plan_fact`).
    public var method: String
    /// The params object to send.
    public var params: JSONValue
    /// How to show the result.
    public var options: OutputOptions

    /// A call ready to send.
    public init(method: String, params: JSONValue, options: OutputOptions = OutputOptions()) {
        self.method = method; self.params = params; self.options = options
    }
}

/// The human command syntax, mapped to protocol calls through the method catalogue.
///
/// * The method: `noun verb` (dashes for underscores: `report plan-fact`), deeper names
///   word by word (`robot token create`), or the protocol name (`report.plan_fact`).
/// * `key=value` sets a field; the catalogue's type decides the JSON: `int`, `bool`
///   (`yes/no/true/false/1/0`), money (a decimal string, `1500.50` or `1500,50`),
///   choices (checked), lists (`ids=1,2,3`). `key:=json` sets a JSON literal
///   (`phones:=["044 123 45 67"]`, `email:=null`).
/// * Bare words fill the method's positional params in order (`MethodInfo
///   .positionalParams`, skipping those given by name); the last takes the rest of the
///   words, joined by spaces: `contact find 044 123 45 67`.
/// * A JSON object instead of fields: `contact create {"full_name":"Ivan"}`.
/// * `--json` prints raw JSON; `--svg FILE` writes the chart of a report as SVG.
public struct HumanSyntax: Sendable {
    /// The methods this syntax knows, in catalogue order.
    public let catalogue: [MethodInfo]
    /// The same methods by protocol name.
    public let byName: [String: MethodInfo]

    /// The syntax over `catalogue` (the protocol's by default).
    public init(catalogue: [MethodInfo] = MethodCatalogue.all) {
        self.catalogue = catalogue
        self.byName = Dictionary(catalogue.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// Top-level nouns: `auth`, `user`, `robot`, … (and one-word methods like `ping`).
    public var families: [String] {
        var seen = Set<String>()
        return catalogue.compactMap { m in
            let f = String(m.name.prefix(while: { $0 != "." }))
            return seen.insert(f).inserted ? f : nil
        }
    }

    /// The methods whose name starts with `prefix.` (or is `prefix`).
    public func methods(in prefix: String) -> [MethodInfo] {
        let p = normalizeWord(prefix)
        return catalogue.filter { $0.name == p || $0.name.hasPrefix(p + ".") }
    }

    func normalizeWord(_ w: String) -> String { w.lowercased().replacingOccurrences(of: "-", with: "_") }

    /// The catalogue method named by the first words, and how many words it took.
    public func resolve(_ words: [String]) -> (MethodInfo, Int)? {
        guard let first = words.first else { return nil }
        if first.contains(".") {
            return byName[normalizeWord(first)].map { ($0, 1) }
        }
        for n in stride(from: min(3, words.count), through: 1, by: -1) {
            let name = words.prefix(n).map(normalizeWord).joined(separator: ".")
            if let m = byName[name] { return (m, n) }
        }
        return nil
    }

    /// Whether `word` starts some method name (`user`, `robot`, `ping`).
    public func isCommandWord(_ word: String) -> Bool {
        let w = normalizeWord(word)
        if w.contains(".") { return byName[w] != nil }
        return catalogue.contains { $0.name == w || $0.name.hasPrefix(w + ".") }
    }

    // MARK: - Parsing

    /// Parses a line typed in the REPL.
    public func parse(line: String) throws -> MethodCall {
        // A JSON object after the method words: `contact create {"full_name":"Ivan"}`.
        if let brace = line.firstIndex(of: "{") {
            let head = String(line[..<brace])
            if !head.contains("\""), !head.contains("'"), !head.contains("=") {
                let headTokens = try tokenize(head)
                var options = OutputOptions()
                let words = try takeOptions(headTokens, into: &options)
                if let (info, used) = resolve(words.map(\.text)), used == words.count {
                    let (object, trailer) = try splitJSON(String(line[brace...]), method: info.name)
                    _ = try takeOptions(try tokenize(trailer), into: &options, allowWords: false)
                    try checkFields(object, of: info)
                    return MethodCall(method: info.name, params: object, options: options)
                }
            }
        }
        return try parse(tokens: try tokenize(line))
    }

    /// Parses the program's arguments (`kontor contact find 044 123 45 67`); the same
    /// rules as a REPL line, without re-reading quotes.
    public func parse(arguments: [String]) throws -> MethodCall {
        let tokens = arguments.map(ShellToken.argument)
        // A single JSON-object argument after the method words.
        if let i = tokens.firstIndex(where: { $0.assignment == nil && $0.text.hasPrefix("{") }) {
            var options = OutputOptions()
            let words = try takeOptions(Array(tokens[..<i]), into: &options)
            if let (info, used) = resolve(words.map(\.text)), used == words.count {
                let object = try parseObject(tokens[i].text, method: info.name)
                _ = try takeOptions(Array(tokens[(i + 1)...]), into: &options, allowWords: false)
                try checkFields(object, of: info)
                return MethodCall(method: info.name, params: object, options: options)
            }
        }
        return try parse(tokens: tokens)
    }

    /// Parses words: the method, then fields and positional words.
    public func parse(tokens: [ShellToken]) throws -> MethodCall {
        var options = OutputOptions()
        let rest = try takeOptions(tokens, into: &options)
        var methodWords: [String] = []
        for t in rest {
            if t.quoted || t.assignment != nil { break }
            methodWords.append(t.text)
            if methodWords.count == 3 { break }
        }
        guard !methodWords.isEmpty else { throw ShellError.usage("type a method, e.g. `user list`; `help` lists them") }
        guard let (info, used) = resolve(methodWords) else { throw unknownMethodError(methodWords) }
        let params = try bind(Array(rest.dropFirst(used)), to: info)
        return MethodCall(method: info.name, params: params, options: options)
    }

    /// Fields and positional words → the params object of `info`.
    public func bind(_ tokens: [ShellToken], to info: MethodInfo) throws -> JSONValue {
        let specs = info.specs
        var params: [String: JSONValue] = [:]
        var words: [ShellToken] = []
        for t in tokens {
            guard let a = t.assignment else { words.append(t); continue }
            guard let spec = specs.first(where: { $0.name == a.key }) else {
                throw unknownFieldError(a.key, of: info)
            }
            guard params[a.key] == nil else { throw ShellError.badParam("\(a.key) is given twice") }
            switch a.op {
            case .json:
                do { params[a.key] = try JSONValue.parse(a.value) } catch {
                    throw ShellError.badParam("\(a.key):= needs a JSON value (\(error)); got \(a.value.isEmpty ? "nothing" : a.value)")
                }
            case .typed:
                params[a.key] = try Self.value(a.value, as: spec.type, field: a.key)
            }
        }
        let slots = info.positionalParams.filter { params[$0] == nil }
        if !words.isEmpty && slots.isEmpty {
            let given = words.map(\.text).joined(separator: " ")
            if info.positionalParams.isEmpty {
                let fields = info.paramNames
                throw ShellError.usage("\(info.name) takes no bare words (got \"\(given)\"); "
                    + (fields.isEmpty ? "it has no fields" : "use field=value with " + fields.joined(separator: ", ")))
            }
            throw ShellError.usage("too many words for \(info.name): \"\(given)\"; usage: \(info.usage)")
        }
        var k = 0
        for (i, slot) in slots.enumerated() where k < words.count {
            let type = specs.first(where: { $0.name == slot })?.type ?? .string(hint: "string")
            if i == slots.count - 1 {
                let remaining = Array(words[k...])
                k = words.count
                if case .list(let element) = type {
                    var items: [JSONValue] = []
                    for w in remaining { items += try Self.listItems(w.text, element: element, field: slot) }
                    params[slot] = .array(items)
                } else {
                    params[slot] = try Self.value(remaining.map(\.text).joined(separator: " "), as: type, field: slot)
                }
            } else {
                params[slot] = try Self.value(words[k].text, as: type, field: slot)
                k += 1
            }
        }
        let missing = info.requiredParamNames.filter { params[$0] == nil }
        if !missing.isEmpty {
            throw ShellError.badParam("\(info.name) needs \(missing.joined(separator: ", ")); usage: \(info.usage)")
        }
        return .object(params)
    }

    // MARK: - Values

    /// A typed word → JSON, by the catalogue type.
    public static func value(_ text: String, as type: ParamType, field: String) throws -> JSONValue {
        switch type {
        case .int:
            let t = text.replacingOccurrences(of: "_", with: "")
            guard !t.isEmpty, Int64(t) != nil else { throw ShellError.badParam("\(field): expected a whole number, got \(quote(text))") }
            return .number(String(Int64(t) ?? 0))
        case .bool:
            switch text.lowercased() {
            case "true", "yes", "y", "on", "1", "t": return .bool(true)
            case "false", "no", "n", "off", "0", "f": return .bool(false)
            default: throw ShellError.badParam("\(field): expected yes or no, got \(quote(text))")
            }
        case .number:
            let t = text.replacingOccurrences(of: ",", with: ".")
            if case .number(let n)? = try? JSONValue.parse(t) { return .number(n) }
            throw ShellError.badParam("\(field): expected a number, got \(quote(text))")
        case .money:
            var t = text.filter { $0 != " " && $0 != "\u{00A0}" && $0 != "\u{202F}" && $0 != "_" }
            if !t.contains("."), t.filter({ $0 == "," }).count == 1 { t = t.replacingOccurrences(of: ",", with: ".") }
            guard let m = Money(t) else {
                throw ShellError.badParam("\(field): expected an amount like 1500.50, got \(quote(text))")
            }
            return .string(m.description)
        case .string:
            return .string(text)
        case .choice(let choices):
            let n = text.lowercased().replacingOccurrences(of: "-", with: "_")
            if let c = choices.first(where: { $0.lowercased() == n }) { return .string(c) }
            throw ShellError.badParam("\(field): expected one of \(choices.joined(separator: ", ")), got \(quote(text))")
        case .list(let element):
            return .array(try listItems(text, element: element, field: field))
        case .union(let alternatives):
            if text.contains(","), let list = alternatives.first(where: \.isList) {
                return try value(text, as: list, field: field)
            }
            var firstError: Error?
            for a in alternatives where !a.isList {
                do { return try value(text, as: a, field: field) } catch { firstError = firstError ?? error }
            }
            if let list = alternatives.first(where: \.isList) { return try value(text, as: list, field: field) }
            throw firstError ?? ShellError.badParam("\(field): unexpected value \(quote(text))")
        case .json:
            if let f = text.first, f == "{" || f == "[" {
                do { return try JSONValue.parse(text) } catch {
                    throw ShellError.badParam("\(field): not JSON (\(error))")
                }
            }
            return .string(text)
        }
    }

    static func listItems(_ text: String, element: ParamType, field: String) throws -> [JSONValue] {
        try text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            .map { try value($0, as: element, field: field) }
    }

    static func quote(_ s: String) -> String { "\"" + s + "\"" }

    // MARK: - Helpers

    func tokenize(_ s: String) throws -> [ShellToken] {
        do { return try Tokenizer.tokenize(s) } catch let f as Tokenizer.Failure { throw ShellError.usage(f.message) }
    }

    /// Takes `--json` and `--svg FILE` out of the words.
    func takeOptions(_ tokens: [ShellToken], into options: inout OutputOptions, allowWords: Bool = true) throws -> [ShellToken] {
        var out: [ShellToken] = []
        var i = 0
        while i < tokens.count {
            let t = tokens[i]
            if !t.quoted, t.assignment == nil, t.text.hasPrefix("--"), t.text.count > 2 {
                switch t.text {
                case "--json": options.json = true
                case "--svg":
                    guard i + 1 < tokens.count else { throw ShellError.usage("--svg needs a file name") }
                    options.svg = tokens[i + 1].text
                    i += 1
                case let s where s.hasPrefix("--svg="): options.svg = String(s.dropFirst(6))
                default: throw ShellError.usage("unknown option \(t.text) (options: --json, --svg FILE)")
                }
            } else if t.assignment != nil, t.text.hasPrefix("--svg=") {
                options.svg = t.assignment?.value
            } else {
                if !allowWords { throw ShellError.usage("unexpected \(Self.quote(t.text)) after the JSON params") }
                out.append(t)
            }
            i += 1
        }
        return out
    }

    func splitJSON(_ text: String, method: String) throws -> (JSONValue, String) {
        if let v = try? JSONValue.parse(text) {
            guard case .object = v else { throw ShellError.usage("params of \(method) must be a JSON object") }
            return (v, "")
        }
        if let close = text.lastIndex(of: "}") {
            let head = String(text[...close])
            let v = try parseObject(head, method: method)
            return (v, String(text[text.index(after: close)...]))
        }
        return (try parseObject(text, method: method), "")
    }

    func parseObject(_ text: String, method: String) throws -> JSONValue {
        let v: JSONValue
        do { v = try JSONValue.parse(text) } catch { throw ShellError.usage("params of \(method) are not JSON: \(error)") }
        guard case .object = v else { throw ShellError.usage("params of \(method) must be a JSON object") }
        return v
    }

    func checkFields(_ object: JSONValue, of info: MethodInfo) throws {
        let names = Set(info.paramNames)
        for key in (object.objectValue ?? [:]).keys.sorted() where !names.contains(key) {
            throw unknownFieldError(key, of: info)
        }
    }

    func unknownFieldError(_ key: String, of info: MethodInfo) -> ShellError {
        let names = info.paramNames
        if names.isEmpty { return ShellError.badParam("\(info.name) has no fields (got \(key)=)") }
        var m = "\(info.name) has no field \(key)"
        if let s = Suggest.closest(key, among: names) { m += "; did you mean \(s)?" }
        return ShellError.badParam(m + " (fields: " + names.joined(separator: ", ") + ")")
    }

    func unknownMethodError(_ words: [String]) -> ShellError {
        let first = normalizeWord(words[0])
        if first.contains(".") {
            let names = catalogue.map(\.name)
            if let s = Suggest.closest(first, among: names) { return .unknownMethod("no method \(first); did you mean \(s)?") }
            return .unknownMethod("no method \(first); `methods` lists them")
        }
        let family = methods(in: first)
        if !family.isEmpty {
            let verbs = family.map { String($0.name.dropFirst(first.count + 1)).replacingOccurrences(of: "_", with: "-") }
                .map { $0.replacingOccurrences(of: ".", with: " ") }
            var m = words.count > 1 ? "\(first) has no verb \(words[1])" : "\(first) needs a verb"
            if words.count > 1, let s = Suggest.closest(normalizeWord(words[1]).replacingOccurrences(of: "_", with: "-"), among: verbs) {
                m += "; did you mean \(first) \(s)?"
            }
            return .unknownMethod(m + " (verbs: " + verbs.joined(separator: ", ") + ")")
        }
        var m = "no command \(words[0])"
        if let s = Suggest.closest(first, among: families) {
            m += "; did you mean \(s)?"
        } else {
            m += "; `help` lists the commands"
        }
        return .unknownMethod(m)
    }
}

/// "Did you mean": the nearest word by edit distance, when it is near enough.
public enum Suggest {
    /// The candidate nearest to `word` (at most a third of its letters off, at least
    /// one), or one that `word` begins, or nil.
    public static func closest(_ word: String, among candidates: [String]) -> String? {
        let w = Array(word.lowercased())
        var best: (word: String, distance: Int)?
        for c in candidates {
            let d = distance(w, Array(c.lowercased()))
            guard d <= max(1, min(3, w.count / 3)) else { continue }
            if let b = best, b.distance <= d { continue }
            best = (c, d)
        }
        if best == nil, w.count >= 3, let p = candidates.first(where: { $0.lowercased().hasPrefix(word.lowercased()) }) { return p }
        return best?.word
    }

    /// Edit distance with transpositions (optimal string alignment).
    static func distance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
                }
            }
        }
        return d[a.count][b.count]
    }
}
