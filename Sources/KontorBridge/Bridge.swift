import Foundation
import KontorClient
import KontorProtocol
import Logging
import ServiceLifecycle

/// Wraps a long-running loop as a service of a `ServiceGroup`: cancelled on graceful
/// shutdown.
public struct LoopService: Service {
    let name: String
    let body: @Sendable () async throws -> Void

    /// A service named `name` that runs `body`.
    public init(_ name: String, _ body: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.body = body
    }

    /// Runs the loop until it ends or a graceful shutdown cancels it.
    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            do { try await body() } catch is CancellationError {}
        }
    }
}

/// The parts of a running bridge, built from a configuration.
public struct Bridge: Sendable {
    public let configuration: BridgeConfiguration
    public let spool: Spool
    public let state: StateStore
    public let logger: Logger

    /// Opens (creating when needed) the spool and state file of `configuration`.
    public init(configuration: BridgeConfiguration, logger: Logger = Logger(label: "kontor-bridge")) throws {
        self.configuration = configuration
        self.spool = try Spool(directory: configuration.spoolDirectory)
        self.state = try StateStore(directory: configuration.spoolDirectory)
        self.logger = logger
    }

    /// The robot token, or a message saying how to give one.
    public func token() throws -> String {
        guard let t = configuration.token else {
            throw ConfigurationError("no robot token: set KONTOR_BRIDGE_TOKEN, KONTOR_BRIDGE_TOKEN_FILE or kontord.token_file")
        }
        return t
    }

    /// The sender for this configuration (kontord's address read from it on every connect).
    public func sender(deliver: @escaping SpoolDelivery = SpoolSender.defaultDelivery) throws -> SpoolSender {
        let host = configuration.kontordHost, port = configuration.kontordPort
        return SpoolSender(spool: spool, state: state, endpoint: { (host, port) }, token: try token(),
                           configuration: configuration.sender, logger: logger, deliver: deliver)
    }

    /// Everything `serve` runs: HTTP, the sender, CDR followers, the mail folder.
    public func services(onHTTPRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> [any Service] {
        var services: [any Service] = []
        services.append(WebhookServer(configuration: configuration, spool: spool, state: state, logger: logger)
            .application(onRunning: onHTTPRunning))
        let sender = try sender()
        services.append(LoopService("sender") { try await sender.runWhenFree() })
        for file in configuration.asterisk where file.follow {
            let follower = CDRFollower(path: file.path, options: configuration.cdrOptions(for: file), spool: spool, state: state, logger: logger)
            services.append(LoopService("cdr \(file.path)") { await follower.run(interval: .milliseconds(max(50, file.pollMilliseconds))) })
        }
        if let m = configuration.mail {
            let folder = MailFolder(directory: URL(fileURLWithPath: m.path), quarantine: m.quarantine.map { URL(fileURLWithPath: $0) },
                                    recipient: m.recipient, spool: spool, state: state, logger: logger)
            services.append(LoopService("mail") { await folder.run(interval: .seconds(max(1, m.pollSeconds))) })
        }
        return services
    }
}

/// What `kontor-bridge status` shows.
public enum BridgeStatus {
    /// The status as JSON (`status --json`).
    public static func json(spool: Spool, state: StateStore) -> JSONValue {
        let s = state.read()
        var out = s.json.objectValue ?? [:]
        out["spool_dir"] = .string(spool.directory.path)
        out["pending"] = (try? spool.depth()).map { .number(String($0)) } ?? .null
        out["dead_letters"] = (try? spool.deadLetterCount()).map { .number(String($0)) } ?? .null
        if let oldest = (try? spool.next())??.event {
            out["oldest_pending_at"] = .string(RFC3339Text.format(oldest.spooledAt))
        }
        return .object(out)
    }

    /// The status for people (`status`).
    public static func text(spool: Spool, state: StateStore) -> String {
        let s = state.read()
        var lines: [String] = []
        lines.append("spool:        \(spool.directory.path)")
        let depth = (try? spool.depth()).map(String.init) ?? "unreadable"
        var pending = "pending:      \(depth) event(s)"
        if let oldest = (try? spool.next())??.event { pending += " (oldest spooled \(RFC3339Text.format(oldest.spooledAt)))" }
        lines.append(pending)
        lines.append("dead letters: \((try? spool.deadLetterCount()) ?? 0) (\(spool.deadLetterPath))")
        lines.append("last delivery: \(s.lastDeliveryAt.map(RFC3339Text.format) ?? "never")")
        if let e = s.lastError {
            lines.append("last error:   \(s.lastErrorAt.map(RFC3339Text.format) ?? "?") \(e)")
        } else {
            lines.append("last error:   none")
        }
        lines.append("")
        let header = ["source", "spooled", "delivered", "duplicates", "dead", "rejected", "ignored"]
        var table = [header]
        for name in s.sources.keys.sorted() {
            let c = s.sources[name] ?? SourceCounters()
            table.append([name, String(c.spooled), String(c.delivered), String(c.duplicates), String(c.dead), String(c.rejected), String(c.ignored)])
        }
        if table.count == 1 { table.append(["(none yet)", "", "", "", "", "", ""]) }
        let widths = (0..<header.count).map { i in table.map { $0[i].count }.max() ?? 0 }
        for row in table {
            lines.append(row.enumerated().map { i, cell in
                i == 0 ? cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[i] - cell.count) + cell
            }.joined(separator: "  "))
        }
        return lines.joined(separator: "\n")
    }
}

enum RFC3339Text {
    static func format(_ d: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: d)
    }
}
