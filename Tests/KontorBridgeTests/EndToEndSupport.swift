import Foundation
import KontorBridge
import KontorClient
import KontorDomain
import KontorProtocol
import KontorTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A real kontord (TestServer: in-process, own database, real TCP) with a robot token
/// for the bridge and an admin connection to look at what the bridge made, through the
/// protocol (`call.list`, `lead.get`, …) and through SQL on `server.database`.
final class BridgeWorld: Sendable {
    let server: TestServer
    let token: String
    let admin: KontorConnection
    /// A Development manager (Olena), who sits on line 901.
    let manager: User
    let dir: URL
    let spool: Spool
    let state: StateStore

    static let fast = SenderConfiguration(backoffInitial: .milliseconds(20), backoffMax: .milliseconds(300), idlePoll: .milliseconds(20))

    private init(server: TestServer, token: String, admin: KontorConnection, manager: User, dir: URL, spool: Spool, state: StateStore) {
        self.server = server; self.token = token; self.admin = admin; self.manager = manager; self.dir = dir; self.spool = spool
        self.state = state
    }

    static func start() async throws -> BridgeWorld {
        let server = try await TestServer.start()
        do {
            let token = try await DeliveryTests.robotToken(server)
            try await server.createUser("boss", role: .admin, fullName: "Boss Admin")
            let manager = try await server.createUser("olena", role: .user, department: .development, fullName: "Olena Dev")
            let admin = try await server.login("boss")
            _ = try await admin.call("line.set", ["line": "901", "label": "Olena's desk", "user_id": .number(String(manager.id))])
            let dir = try temporaryDirectory("e2e")
            return BridgeWorld(server: server, token: token, admin: admin, manager: manager, dir: dir, spool: try Spool(directory: dir),
                               state: try StateStore(directory: dir))
        } catch {
            await server.stop()
            throw error
        }
    }

    func stop() async {
        await admin.close()
        await server.stop()
        try? FileManager.default.removeItem(at: dir)
    }

    /// A sender on this world's spool, delivering to kontord with the robot token.
    func sender(deliver: @escaping SpoolDelivery = SpoolSender.defaultDelivery) -> SpoolSender {
        let port = server.port
        return SpoolSender(spool: spool, state: state, endpoint: { ("127.0.0.1", port) }, token: token, configuration: Self.fast,
                           logger: TestEnvironment.logger, deliver: deliver)
    }

    /// Spools `events` and delivers the whole spool through the real ingestion methods.
    func deliver(_ events: [SpoolEvent]) async throws {
        try spool.appendBlocking(events)
        try await sender().drain()
    }

    /// Rows of the tables ingestion writes.
    func counts() async throws -> [String: Int] {
        try await server.database.with { conn in
            let r = try conn.query("""
                SELECT (SELECT count(*) FROM calls) AS calls, (SELECT count(*) FROM call_legs) AS call_legs,
                       (SELECT count(*) FROM messages) AS messages, (SELECT count(*) FROM inquiries) AS inquiries,
                       (SELECT count(*) FROM leads) AS leads, (SELECT count(*) FROM contacts) AS contacts,
                       (SELECT count(*) FROM lead_status_history) AS history, (SELECT count(*) FROM audit_log) AS audit
                """).one()
            var out: [String: Int] = [:]
            for k in ["calls", "call_legs", "messages", "inquiries", "leads", "contacts", "history", "audit"] { out[k] = try r.decode(k) }
            return out
        }
    }

    /// Every call, latest first, as an admin sees them.
    func calls() async throws -> [JSONValue] {
        try await admin.call("call.list", ["limit": 200])["calls"]?.items ?? []
    }

    /// Every message, as an admin sees them, by external id.
    func messages() async throws -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for m in try await admin.call("message.list", ["limit": 200])["messages"]?.items ?? [] {
            if let id = m["external_id"]?.stringValue { out[id] = m }
        }
        return out
    }

    /// The call whose legs include `externalID` (provider's id), with its legs.
    func call(leg externalID: String) async throws -> JSONValue? {
        let id: Int64? = try await server.database.with { conn in
            try conn.query("SELECT call_id FROM call_legs WHERE external_id = \(externalID)").first?.decode("call_id")
        }
        guard let id else { return nil }
        return try await admin.call("call.get", ["id": .number(String(id))])
    }

    func lead(_ id: JSONValue?) async throws -> JSONValue {
        try await admin.call("lead.get", ["id": id ?? .null])
    }

    func contact(_ id: JSONValue?) async throws -> JSONValue {
        try await admin.call("contact.get", ["id": id ?? .null])
    }
}

extension JSONValue {
    /// The elements of an array; empty for anything else.
    var items: [JSONValue] {
        if case .array(let a) = self { return a }
        return []
    }

    /// The element at `index` of an array; nil for anything else.
    subscript(index: Int) -> JSONValue? {
        guard case .array(let a) = self, a.indices.contains(index) else { return nil }
        return a[index]
    }

    /// An integer number, as `Int`.
    var int: Int? { int64Value.map { Int($0) } }
}

/// A child process started with posix_spawn (Foundation's `Process.waitUntilExit` was
/// seen to hang in the test process): standard output and error go to files, signals
/// are sent by pid, and it is killed when the test forgets it.
final class Spawned: @unchecked Sendable {
    let pid: pid_t
    let stdoutPath: String
    let stderrPath: String
    private var exitStatus: Int32?

    /// Starts `executable` with `arguments` and exactly `environment`.
    init(_ executable: URL, _ arguments: [String], environment: [String: String], in dir: URL) throws {
        let tag = UUID().uuidString.prefix(8)
        stdoutPath = dir.appendingPathComponent("stdout-\(tag).txt").path
        stderrPath = dir.appendingPathComponent("stderr-\(tag).txt").path
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv = [executable.path] + arguments
        let cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        let cenv: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in cargs + cenv { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable.path, &actions, nil, cargs, cenv)
        guard rc == 0 else { throw PayloadError("cannot start \(executable.path): errno \(rc)") }
        self.pid = pid
    }

    deinit {
        if exitStatus == nil {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            _ = waitpid(pid, &status, 0)
        }
    }

    var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    func signal(_ sig: Int32) { kill(pid, sig) }

    /// Waits for the process to end (polling, never blocking a thread of the pool for
    /// long); its exit status, 128 + the signal when a signal ended it; nil on timeout.
    func wait(seconds: Double = 30) async -> Int32? {
        if let s = exitStatus { return s }
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            var status: Int32 = 0
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid {
                let s = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
                exitStatus = s
                return s
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    /// Runs a command to its end: its exit status and standard output.
    static func run(_ executable: URL, _ arguments: [String], environment: [String: String], in dir: URL,
                    seconds: Double = 60) async throws -> (status: Int32, output: String, errors: String) {
        let p = try Spawned(executable, arguments, environment: environment, in: dir)
        guard let status = await p.wait(seconds: seconds) else {
            p.signal(SIGKILL)
            _ = await p.wait(seconds: 5)
            throw PayloadError("\(arguments.joined(separator: " ")) did not end in \(seconds) s; stderr: \(p.stderr)")
        }
        return (status, p.stdout, p.stderr)
    }
}

/// The built `kontor-bridge`, or nil (recorded as a test issue) when it is not built.
func bridgeExecutable() -> URL? {
    let exe = TestEnvironment.productsDirectory.appendingPathComponent("kontor-bridge")
    guard FileManager.default.isExecutableFile(atPath: exe.path) else {
        Issue.record("kontor-bridge is not built at \(exe.path)")
        return nil
    }
    return exe
}
