/// One method of the protocol, as the catalogue describes it (for `kontor` help, tab
/// completion and the docs test).
public struct MethodInfo: Sendable {
    /// `noun.verb`, e.g. `contact.create`.
    public let name: String
    /// One line: what it does.
    public let summary: String
    /// Parameter fields: `name: type` with `?` for optional, e.g. `"phones: [phone]?"`.
    public let params: [String]

    public init(_ name: String, _ summary: String, params: [String] = []) {
        self.name = name
        self.summary = summary
        self.params = params
    }

    /// Parameter names without types.
    public var paramNames: [String] {
        params.map { String($0.prefix(while: { $0 != ":" })).trimmingCharacters(in: .whitespaces) }
    }
}

/// Every method of the protocol. Each family adds its list here; the server refuses to
/// start a method missing from the catalogue (a test checks both ways).
public enum MethodCatalogue {
    public static let all: [MethodInfo] = SessionMethods.catalogue
        + RecordMethods.catalogue
        + IngestMethods.catalogue + LeadMethods.catalogue

    public static let byName: [String: MethodInfo] = Dictionary(all.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
}
