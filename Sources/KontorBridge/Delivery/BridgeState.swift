import Foundation
import KontorDomain
import KontorProtocol

/// Counters of one source, as `kontor-bridge status` shows them.
public struct SourceCounters: Sendable, Equatable {
    /// Accepted into the spool.
    public var spooled = 0
    /// Delivered: kontord answered with a result.
    public var delivered = 0
    /// Of those, how many kontord already had (`duplicate: true`).
    public var duplicates = 0
    /// Refused by kontord for good (in the dead-letter file).
    public var dead = 0
    /// Refused by the bridge: bad secret or signature, unreadable payload or record.
    public var rejected = 0
    /// Well-formed payloads with nothing to ingest (acknowledged, not spooled).
    public var ignored = 0

    public init() {}

    static let fields = ["spooled", "delivered", "duplicates", "dead", "rejected", "ignored"]

    subscript(field: String) -> Int {
        get {
            switch field {
            case "spooled": return spooled
            case "delivered": return delivered
            case "duplicates": return duplicates
            case "dead": return dead
            case "rejected": return rejected
            case "ignored": return ignored
            default: return 0
            }
        }
        set {
            switch field {
            case "spooled": spooled = newValue
            case "delivered": delivered = newValue
            case "duplicates": duplicates = newValue
            case "dead": dead = newValue
            case "rejected": rejected = newValue
            case "ignored": ignored = newValue
            default: break
            }
        }
    }
}

/// The bridge's small state file (`state.json` in the spool directory): per-source
/// counters, the last error and the last delivery. Shared by every bridge process
/// working on one spool (updates take an `flock`). Informational: losing an update in
/// a crash loses a count, never an event.
public struct BridgeState: Sendable, Equatable {
    public var sources: [String: SourceCounters] = [:]
    public var lastError: String?
    public var lastErrorAt: Date?
    public var lastDeliveryAt: Date?

    public init() {}

    var json: JSONValue {
        var src: [String: JSONValue] = [:]
        for (k, c) in sources {
            var o: [String: JSONValue] = [:]
            for f in SourceCounters.fields { o[f] = .number(String(c[f])) }
            src[k] = .object(o)
        }
        let utc = TimeZone(secondsFromGMT: 0) ?? .current
        return .object([
            "sources": .object(src),
            "last_error": lastError.map(JSONValue.string) ?? .null,
            "last_error_at": lastErrorAt.map { .string(RFC3339.format($0, timeZone: utc)) } ?? .null,
            "last_delivery_at": lastDeliveryAt.map { .string(RFC3339.format($0, timeZone: utc)) } ?? .null,
        ])
    }

    init(json: JSONValue) {
        for (k, v) in json["sources"]?.objectValue ?? [:] {
            var c = SourceCounters()
            for f in SourceCounters.fields { c[f] = v[f]?.intValue ?? 0 }
            sources[k] = c
        }
        lastError = json["last_error"]?.stringValue
        lastErrorAt = json["last_error_at"]?.stringValue.flatMap(RFC3339.parse)
        lastDeliveryAt = json["last_delivery_at"]?.stringValue.flatMap(RFC3339.parse)
    }
}

/// Reads and updates `state.json`.
public final class StateStore: Sendable {
    public let path: String
    private let lock: FileLock

    /// The state file in `directory` (created when missing).
    public init(directory: URL) throws {
        try FileIO.makeDirectory(directory.path)
        path = directory.appendingPathComponent("state.json").path
        lock = try FileLock(path: directory.appendingPathComponent("state.lock").path)
    }

    /// The current state (empty when the file is missing or unreadable).
    public func read() -> BridgeState {
        guard let bytes = try? FileIO.read(path), let v = try? JSONValue.parse(bytes) else { return BridgeState() }
        return BridgeState(json: v)
    }

    /// Read, change, write back (atomically, not fsynced: counters are informational).
    public func update(_ change: (inout BridgeState) -> Void) {
        do {
            try lock.withLock {
                var s = read()
                change(&s)
                try FileIO.replaceDurably(path, Array(s.json.prettyText.utf8), sync: false)
            }
        } catch {
            // Counters are best effort; the event itself is safe in the spool.
        }
    }

    /// Adds `n` to one counter of one source.
    public func count(_ source: String, _ field: WritableKeyPath<SourceCounters, Int>, _ n: Int = 1) {
        update { $0.sources[source, default: SourceCounters()][keyPath: field] += n }
    }

    /// Remembers the latest problem for `status`.
    public func recordError(_ message: String) {
        update { $0.lastError = message; $0.lastErrorAt = Date() }
    }
}
