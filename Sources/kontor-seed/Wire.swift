import Foundation
import KontorClient
import KontorDomain
import KontorProtocol
import NIOConcurrencyHelpers

/// A connection logged in as one member of the demo team. Requests may be sent from
/// many tasks at once (the connection pipelines them).
final class Member: Sendable {
    let login: String
    let connection: KontorConnection
    private let sent = NIOLockedValueBox(0)

    init(login: String, connection: KontorConnection) {
        self.login = login
        self.connection = connection
    }

    /// Connects and logs in with a password (`auth.login`) or a robot token (`auth.token`).
    static func connect(host: String, port: Int, login: String, password: String? = nil, token: String? = nil) async throws -> Member {
        let c = try await KontorConnection.connect(host: host, port: port)
        let m = Member(login: login, connection: c)
        if let token {
            _ = try await m.call("auth.token", ["token": .string(token)])
        } else if let password {
            _ = try await m.call("auth.login", ["login": .string(login), "password": .string(password)])
        }
        return m
    }

    /// Calls a method; an error answer becomes a `SeedError.server` naming who called what.
    func call(_ method: String, _ params: JSONValue = .object([:])) async throws -> JSONValue {
        sent.withLockedValue { $0 += 1 }
        let start = Date()
        defer { Timings.shared.add(method, Date().timeIntervalSince(start)) }
        do {
            return try await connection.call(method, params)
        } catch let e as KontorError {
            throw SeedError.server("\(login): \(method) \(Member.brief(params)) answered \(e.kind.rawValue): \(e.message)")
        }
    }

    /// Calls a method and hands back the server's error instead of throwing it (for the
    /// answers the generator expects, such as `method_not_found`).
    func attempt(_ method: String, _ params: JSONValue = .object([:])) async throws -> Result<JSONValue, KontorError> {
        sent.withLockedValue { $0 += 1 }
        do {
            return .success(try await connection.call(method, params))
        } catch let e as KontorError {
            return .failure(e)
        }
    }

    /// Requests sent so far.
    var requests: Int { sent.withLockedValue { $0 } }

    func close() async { await connection.close() }

    /// The params, shortened for an error message (secrets left out).
    static func brief(_ params: JSONValue) -> String {
        var p = params
        if case .object(var o) = p {
            for k in ["password", "token"] where o[k] != nil { o[k] = "…" }
            p = .object(o)
        }
        let text = p.jsonText
        return text.count > 300 ? String(text.prefix(300)) + "…" : text
    }
}

/// A JSON object from pairs, leaving out the nil values.
func object(_ pairs: [(String, JSONValue?)]) -> JSONValue {
    var o: [String: JSONValue] = [:]
    for (k, v) in pairs { if let v { o[k] = v } }
    return .object(o)
}

extension JSONValue {
    /// A JSON string, or nil for nil.
    static func text(_ s: String?) -> JSONValue? { s.map { .string($0) } }
    /// A JSON number from a whole number.
    static func int(_ i: Int64) -> JSONValue { .number(String(i)) }
    /// `self[key]` as a whole number.
    func int64(_ key: String) -> Int64? { self[key]?.int64Value }
}

/// Runs `body` for every item, at most `limit` at a time; the first error stops the rest.
func concurrently<T: Sendable>(_ items: [T], limit: Int, _ body: @escaping @Sendable (T) async throws -> Void) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        var iterator = items.makeIterator()
        var running = 0
        while running < limit, let item = iterator.next() {
            group.addTask { try await body(item) }
            running += 1
        }
        while try await group.next() != nil {
            if let item = iterator.next() { group.addTask { try await body(item) } }
        }
    }
}

/// Ids the server gave to what the demo made, filled from many tasks.
final class Ledger: Sendable {
    private struct State {
        var users: [String: Int64] = [:]
        var companies: [Int: Int64] = [:]
        var counterparties: [Int: [Int64]] = [:]
        var contacts: [Int: Int64] = [:]
        var strangers: [Int: Int64] = [:]
        var strangerCompanies: [Int: Int64] = [:]
        /// lead id → the plan of the event that opened it, whose it is, and the latest
        /// inbound event time seen on it.
        var leads: [Int64: (plan: LeadPlan, party: Party, latest: Minute)] = [:]
        var templates: [Int64] = []
    }
    private let state = NIOLockedValueBox(State())

    func user(_ login: String) -> Int64? { state.withLockedValue { $0.users[login] } }
    func setUser(_ login: String, _ id: Int64) { state.withLockedValue { $0.users[login] = id } }
    func company(_ key: Int) -> Int64? { state.withLockedValue { $0.companies[key] } }
    func setCompany(_ key: Int, _ id: Int64) { state.withLockedValue { $0.companies[key] = id } }
    func counterparties(_ key: Int) -> [Int64] { state.withLockedValue { $0.counterparties[key] ?? [] } }
    func addCounterparty(_ key: Int, _ id: Int64) { state.withLockedValue { $0.counterparties[key, default: []].append(id) } }
    func contact(_ key: Int) -> Int64? { state.withLockedValue { $0.contacts[key] } }
    func setContact(_ key: Int, _ id: Int64) { state.withLockedValue { $0.contacts[key] = id } }
    func stranger(_ key: Int) -> Int64? { state.withLockedValue { $0.strangers[key] } }
    func setStranger(_ key: Int, _ id: Int64) { state.withLockedValue { if $0.strangers[key] == nil { $0.strangers[key] = id } } }
    func strangerCompany(_ key: Int) -> Int64? { state.withLockedValue { $0.strangerCompanies[key] } }
    func setStrangerCompany(_ key: Int, _ id: Int64) { state.withLockedValue { $0.strangerCompanies[key] = id } }
    var templates: [Int64] { state.withLockedValue { $0.templates } }
    func addTemplate(_ id: Int64) { state.withLockedValue { $0.templates.append(id) } }

    /// Notes an inbound event's lead: the first event names the plan; later ones only
    /// move the latest time.
    func noteLead(_ id: Int64, plan: LeadPlan, party: Party, at: Minute) {
        state.withLockedValue { s in
            if var l = s.leads[id] {
                l.latest = max(l.latest, at)
                s.leads[id] = l
            } else {
                s.leads[id] = (plan, party, at)
            }
        }
    }

    var leads: [Int64: (plan: LeadPlan, party: Party, latest: Minute)] { state.withLockedValue { $0.leads } }
}

/// How long each method took, answered (for `--timings`).
final class Timings: Sendable {
    static let shared = Timings()
    private let box = NIOLockedValueBox([String: (count: Int, seconds: Double)]())

    func add(_ method: String, _ seconds: Double) {
        box.withLockedValue { $0[method, default: (0, 0)].count += 1; $0[method, default: (0, 0)].seconds += seconds }
    }

    /// One line per method: count, mean and total wall time, busiest first.
    var lines: [String] {
        box.withLockedValue { $0 }.sorted { $0.value.seconds > $1.value.seconds }.map {
            $0.key.padding(toLength: 22, withPad: " ", startingAt: 0)
                + String(format: "%6d calls %8.1f ms mean %8.1f s in all", $0.value.count,
                         $0.value.seconds / Double(max(1, $0.value.count)) * 1000, $0.value.seconds)
        }
    }
}
