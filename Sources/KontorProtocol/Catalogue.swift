/// One method of the protocol, as the catalogue describes it (for `kontor` help, tab
/// completion, the human command syntax and the docs test).
public struct MethodInfo: Sendable {
    /// `noun.verb`, e.g. `contact.create`.
    public let name: String
    /// One line: what it does.
    public let summary: String
    /// Parameter fields: `name: type` with `?` for optional, e.g. `"phones: [phone]?"`.
    ///
    /// Types the `kontor` client understands: `int`, `bool`, `money` (a decimal string),
    /// `number`, `string`, `time`, `date`, `period`, enumerations `a|b|c`, lists `[type]`
    /// (typed as comma-separated values), unions `string|[string]`; any other word is a
    /// JSON value (an object may be given with `key:=json`).
    public let params: [String]
    /// The params that bare words fill, in order, when a person types the method
    /// (`lead reject 42 wrong_department looking for accounting`); the last one takes
    /// all the remaining words. Nil means the default rule (see `positionalParams`).
    public let positional: [String]?

    /// A catalogue entry. `positional` is optional: leave it out for the default rule.
    public init(_ name: String, _ summary: String, params: [String] = [], positional: [String]? = nil) {
        self.name = name
        self.summary = summary
        self.params = params
        self.positional = positional
    }

    /// Parameter names without types.
    public var paramNames: [String] {
        params.map { String($0.prefix(while: { $0 != ":" })).trimmingCharacters(in: .whitespaces) }
    }

    /// Names of the params whose type does not end in `?`, in catalogue order.
    public var requiredParamNames: [String] {
        params.compactMap { p in
            let name = String(p.prefix(while: { $0 != ":" })).trimmingCharacters(in: .whitespaces)
            let type = p.drop(while: { $0 != ":" }).dropFirst().trimmingCharacters(in: .whitespaces)
            return type.hasSuffix("?") ? nil : name
        }
    }

    /// The params bare words fill: `positional` when the entry gives it, else the
    /// required params in catalogue order with `id` first and `version` left out (a
    /// version is better named: `version=3`).
    public var positionalParams: [String] {
        if let positional { return positional }
        let required = requiredParamNames.filter { $0 != "version" }
        return required.filter { $0 == "id" } + required.filter { $0 != "id" }
    }
}

/// Every method of the protocol. Each family adds its list here; the server refuses to
/// start a method missing from the catalogue (a test checks both ways).
public enum MethodCatalogue {
    public static let all: [MethodInfo] = SessionMethods.catalogue
        + RecordMethods.catalogue
        + PlanFactMethods.catalogue
        + IngestMethods.catalogue + LeadMethods.catalogue
        + IngestMethods.importCatalogue
        + TaskMethods.catalogue

    public static let byName: [String: MethodInfo] = Dictionary(all.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
}
