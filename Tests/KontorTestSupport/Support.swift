import Foundation
import KontorClient
import KontorDomain
import KontorProtocol
import KontorServer
import KontorStore
import Logging
import NIOConcurrencyHelpers
import Postgres
import ServiceLifecycle
import Testing

/// Where the test PostgreSQL cluster is: `KONTOR_TEST_PG` (a libpq conninfo without
/// dbname, set by `make test`), else the project's local cluster.
public enum TestEnvironment {
    public static var clusterConninfo: String {
        if let s = ProcessInfo.processInfo.environment["KONTOR_TEST_PG"], !s.isEmpty { return s }
        let root = ServerConfiguration.projectRoot()
        let port = ProcessInfo.processInfo.environment["KONTOR_PG_PORT"] ?? "55432"
        return "host=\(root)/var/pg/run port=\(port) user=kontor"
    }

    public static func conninfo(database: String) -> String {
        "\(clusterConninfo) dbname=\(database)"
    }

    /// The project root (for `sql/`, `deploy/`, built binaries).
    public static var projectRoot: URL { URL(fileURLWithPath: ServerConfiguration.projectRoot()) }

    /// The folder of built products (`.build/debug`), where `kontord` is.
    public static var productsDirectory: URL {
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        for _ in 0..<5 {
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("kontord").path) { return dir }
            dir = dir.deletingLastPathComponent()
        }
        return projectRoot.appendingPathComponent(".build/debug")
    }

    /// The public sample inputs: `KONTOR_SAMPLES_DIR`, else `../shared/samples` next to
    /// the checkout when it is there, else the identical copy in `Tests/Fixtures/samples`
    /// (a test checks that the copy matches the shared folder whenever both exist).
    public static var samplesDirectory: URL {
        if let s = ProcessInfo.processInfo.environment["KONTOR_SAMPLES_DIR"], !s.isEmpty { return URL(fileURLWithPath: s) }
        if let shared = sharedSamplesDirectory { return shared }
        return vendoredSamplesDirectory
    }

    /// `../shared/samples`, when present.
    public static var sharedSamplesDirectory: URL? {
        let u = projectRoot.deletingLastPathComponent().appendingPathComponent("shared/samples")
        return FileManager.default.fileExists(atPath: u.path) ? u : nil
    }

    /// The copy kept in the repository.
    public static var vendoredSamplesDirectory: URL {
        projectRoot.appendingPathComponent("Tests/Fixtures/samples")
    }

    public static let logger: Logger = {
        var l = Logger(label: "kontor.test")
        l.logLevel = ProcessInfo.processInfo.environment["KONTOR_TEST_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
        return l
    }()
}

/// A database of its own for one test, cloned from a migrated template.
///
/// The template `kontor_tpl_<hash of sql/>` is migrated once per schema version and
/// reused; clones are named `kontor_t_<pid>_<n>`. Clones left by dead test processes
/// are dropped when the first database of a run is made.
public final class TestDatabase: Sendable {
    public let name: String
    public var conninfo: String { TestEnvironment.conninfo(database: name) }

    private static let counter = NIOLockedValueBox(0)
    private static let templateTask = NIOLockedValueBox<Task<String, Error>?>(nil)

    private init(name: String) { self.name = name }

    public static func create() async throws -> TestDatabase {
        let template = try await templateName()
        let n = counter.withLockedValue { $0 += 1; return $0 }
        let name = "kontor_t_\(ProcessInfo.processInfo.processIdentifier)_\(n)"
        try await blocking {
            let admin = try PostgresConnection(conninfo: TestEnvironment.conninfo(database: "postgres"))
            defer { admin.close() }
            // CREATE DATABASE ... TEMPLATE needs nobody connected to the template;
            // serialise clones within the cluster.
            try admin.execute("SELECT pg_advisory_lock(4242)")
            defer { _ = try? admin.execute("SELECT pg_advisory_unlock(4242)") }
            try admin.execute(script: "DROP DATABASE IF EXISTS \(name)")
            try admin.execute(script: "CREATE DATABASE \(name) TEMPLATE \(template)")
        }
        return TestDatabase(name: name)
    }

    /// Drops the database (closing anyone still connected).
    public func drop() async {
        let name = self.name
        try? await TestDatabase.blocking {
            let admin = try PostgresConnection(conninfo: TestEnvironment.conninfo(database: "postgres"))
            defer { admin.close() }
            try admin.execute(script: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        }
    }

    /// Opens a connection to this database (caller closes it).
    public func connect() throws -> PostgresConnection {
        try PostgresConnection(conninfo: conninfo)
    }

    /// Runs blocking work off the cooperative pool.
    public static func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { cont in
            Thread.detachNewThread { cont.resume(with: Result { try body() }) }
        }
    }

    /// Runs `body` on a connection to this database, off the cooperative pool.
    public func with<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        let info = conninfo
        return try await TestDatabase.blocking {
            let c = try PostgresConnection(conninfo: info)
            defer { c.close() }
            return try body(c)
        }
    }

    static func templateName() async throws -> String {
        let task = templateTask.withLockedValue { t -> Task<String, Error> in
            if let t { return t }
            let n = Task { try await blocking { try makeTemplate() } }
            t = n
            return n
        }
        return try await task.value
    }

    static var sqlDirectory: URL { TestEnvironment.projectRoot.appendingPathComponent("sql") }

    static func makeTemplate() throws -> String {
        // Name the template after the SQL it was built from.
        var hasher = FNV1a()
        let fm = FileManager.default
        for sub in ["migrations", "views"] {
            let dir = sqlDirectory.appendingPathComponent(sub)
            for f in ((try? fm.contentsOfDirectory(atPath: dir.path)) ?? []).sorted() where f.hasSuffix(".sql") {
                hasher.add(f)
                hasher.add((try? String(contentsOf: dir.appendingPathComponent(f), encoding: .utf8)) ?? "")
            }
        }
        let name = "kontor_tpl_\(String(hasher.value, radix: 16))"
        let admin = try PostgresConnection(conninfo: TestEnvironment.conninfo(database: "postgres"))
        defer { admin.close() }
        try admin.execute("SELECT pg_advisory_lock(4242)")
        defer { _ = try? admin.execute("SELECT pg_advisory_unlock(4242)") }
        // Clean up clones of dead test runs and templates of older schemas.
        for row in try admin.query("SELECT datname FROM pg_database WHERE datname LIKE 'kontor\\_t\\_%' OR datname LIKE 'kontor\\_tpl\\_%'") {
            let db: String = try row.decode("datname")
            if db.hasPrefix("kontor_tpl_") {
                if db != name { try? admin.execute(script: "DROP DATABASE IF EXISTS \(db) WITH (FORCE)") }
                continue
            }
            let parts = db.split(separator: "_")
            if parts.count >= 4, let pid = Int32(parts[2]), pid != ProcessInfo.processInfo.processIdentifier, kill(pid, 0) != 0 {
                try? admin.execute(script: "DROP DATABASE IF EXISTS \(db) WITH (FORCE)")
            }
        }
        let exists = try admin.query("SELECT 1 FROM pg_database WHERE datname = \(name)").count > 0
        if !exists {
            let building = name + "_building"
            try admin.execute(script: "DROP DATABASE IF EXISTS \(building) WITH (FORCE)")
            try admin.execute(script: "CREATE DATABASE \(building)")
            do {
                let c = try PostgresConnection(conninfo: TestEnvironment.conninfo(database: building))
                defer { c.close() }
                try Migrator(directory: sqlDirectory, logger: TestEnvironment.logger).migrate(c)
            }
            try admin.execute(script: "ALTER DATABASE \(building) RENAME TO \(name)")
        }
        return name
    }
}

struct FNV1a {
    var value: UInt64 = 0xcbf2_9ce4_8422_2325
    mutating func add(_ s: String) {
        for b in s.utf8 { value = (value ^ UInt64(b)) &* 0x100_0000_01b3 }
        value = (value ^ 0xff) &* 0x100_0000_01b3
    }
}

/// A `kontord` running in this process on a fresh database and a free port.
public final class TestServer: Sendable {
    public let server: KontorServer
    public let database: TestDatabase
    public let clock: KontorClock
    public let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, Error>

    /// Password of every user the helpers create.
    public static let password = "test-pass-123"

    public var app: App { server.app }

    /// Starts a server. `configure` may change the configuration (the database URL and
    /// port are set already).
    public static func start(database: TestDatabase? = nil, clock: KontorClock = KontorClock(),
                             configure: (inout ServerConfiguration) -> Void = { _ in }) async throws -> TestServer {
        let gateKey = await TestGate.shared.enter()
        let db: TestDatabase
        do {
            if let database { db = database } else { db = try await TestDatabase.create() }
        } catch {
            TestGate.shared.leave(gateKey)  // a server that never started holds no slot
            throw error
        }
        var cfg = ServerConfiguration(databaseURL: db.conninfo, port: 0)
        cfg.bcryptCost = 4
        cfg.poolSize = 8
        cfg.sqlDirectory = TestDatabase.sqlDirectory.path
        cfg.migrateOnStart = false
        cfg.instanceName = "test-\(db.name)"
        configure(&cfg)
        let server = KontorServer(configuration: cfg, clock: clock, logger: TestEnvironment.logger)
        let group = ServiceGroup(configuration: .init(services: [.init(service: server)], logger: TestEnvironment.logger))
        let task = Task { try await group.run() }
        let port: Int
        do {
            port = try await server.waitUntilListening()
        } catch {
            await group.triggerGracefulShutdown()
            _ = try? await task.value
            TestGate.shared.leave(gateKey)
            throw error
        }
        return TestServer(server: server, database: db, clock: clock, port: port, group: group, task: task, gateKey: gateKey)
    }

    private let gateKey: String

    private init(server: KontorServer, database: TestDatabase, clock: KontorClock, port: Int, group: ServiceGroup,
                 task: Task<Void, Error>, gateKey: String) {
        self.server = server; self.database = database; self.clock = clock; self.port = port; self.group = group; self.task = task
        self.gateKey = gateKey
    }

    /// Graceful shutdown, then (by default) drops the database.
    public func stop(dropDatabase: Bool = true) async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
        if dropDatabase { await database.drop() }
        TestGate.shared.leave(gateKey)
    }

    public func connect() async throws -> KontorConnection {
        try await KontorConnection.connect(host: "127.0.0.1", port: port)
    }

    /// A connection logged in as `login`.
    public func login(_ login: String, password: String = TestServer.password) async throws -> KontorConnection {
        let c = try await connect()
        _ = try await c.call("auth.login", ["login": .string(login), "password": .string(password)])
        return c
    }

    /// Creates a user straight in the database (password `TestServer.password`).
    @discardableResult
    public func createUser(_ login: String, role: Role, department: Department? = nil, fullName: String? = nil) async throws -> User {
        let now = clock.now()
        return try await database.with { conn in
            try UserRepository(conn).create(login: login, fullName: fullName ?? login.capitalized, role: role, department: department,
                                            email: nil, password: role == .robot ? nil : TestServer.password, bcryptCost: 4, now: now)
        }
    }

    /// A robot user with a token; returns a connection logged in with it.
    public func robot(_ login: String = "robot") async throws -> KontorConnection {
        let user = try await createUser(login, role: .robot)
        let token = TokenGenerator.make(prefix: "kr_")
        let now = clock.now()
        _ = try await database.with { conn in
            try UserRepository(conn).createRobotToken(userID: user.id, label: "test", token: token, createdBy: user.id, now: now)
        }
        let c = try await connect()
        _ = try await c.call("auth.token", ["token": .string(token)])
        return c
    }
}

/// Limits how many tests run live servers at once (`KONTOR_TEST_SERVERS`, default 8).
///
/// Swift Testing starts every test at once; on a small CI machine a hundred servers with
/// their pools starve each other and PostgreSQL's connection slots (the whole suite
/// peaked near 500 backends on 2 cores) and turn timing into noise. A test holds one slot
/// however many servers it starts (keyed by the running test), from its first
/// `TestServer.start` to its last `stop`. A test that fails without stopping keeps its
/// slot; waiting for a slot therefore gives up after 120 s and goes ahead, so a leaked
/// slot slows the run but never hangs it.
public final class TestGate: Sendable {
    /// The gate every `TestServer` passes.
    public static let shared = TestGate(limit: ProcessInfo.processInfo.environment["KONTOR_TEST_SERVERS"].flatMap(Int.init) ?? 8)

    private struct State {
        var holders: [String: Int] = [:]
        var waiters: [(key: String, c: CheckedContinuation<Void, Never>)] = []
    }
    private let state = NIOLockedValueBox(State())
    let limit: Int

    init(limit: Int) { self.limit = max(1, limit) }

    /// Enters for the current test (waiting for a slot); returns the key to leave with.
    func enter() async -> String {
        let key = Test.current.map { "\($0.id)" } ?? "task-\(UUID().uuidString)"
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLockedValue { s -> Bool in
                if let n = s.holders[key] { s.holders[key] = n + 1; return true }
                if s.holders.count < limit { s.holders[key] = 1; return true }
                s.waiters.append((key, c))
                return false
            }
            if now { c.resume(); return }
            Task {
                try? await Task.sleep(nanoseconds: 120_000_000_000)
                let w = self.state.withLockedValue { s -> CheckedContinuation<Void, Never>? in
                    guard let i = s.waiters.firstIndex(where: { $0.key == key }) else { return nil }
                    let w = s.waiters.remove(at: i)
                    s.holders[key, default: 0] += 1
                    return w.c
                }
                w?.resume()
            }
        }
        return key
    }

    /// Leaves one server's hold; the last server of a test frees its slot for the next.
    func leave(_ key: String) {
        var resume: [CheckedContinuation<Void, Never>] = []
        state.withLockedValue { s in
            guard let n = s.holders[key] else { return }
            if n > 1 { s.holders[key] = n - 1; return }
            s.holders[key] = nil
            while s.holders.count < limit, !s.waiters.isEmpty {
                let w = s.waiters.removeFirst()
                s.holders[w.key, default: 0] += 1
                resume.append(w.c)
                // Later waiters of the same test ride along.
                while let j = s.waiters.firstIndex(where: { $0.key == w.key }) {
                    s.holders[w.key, default: 0] += 1
                    resume.append(s.waiters.remove(at: j).c)
                }
            }
        }
        for c in resume { c.resume() }
    }
}

/// Reads the error kind of a failed call, or nil when it succeeded.
public func errorKind(_ body: () async throws -> Void) async -> ErrorKind? {
    do {
        try await body()
        return nil
    } catch let e as KontorError {
        return e.kind
    } catch {
        return .internal
    }
}

/// A PostgreSQL cluster of its own (made by `deploy/pg.sh` in a temporary folder), for
/// tests that stop and start the database.
public final class LocalCluster: Sendable {
    public let home: URL
    public let port: Int

    public var conninfo: String { "host=\(home.path)/var/pg/run port=\(port) dbname=kontor user=kontor" }

    /// Creates and starts a cluster on a free port. A port found free can be taken by
    /// someone else before PostgreSQL binds it, so a failed start is retried on another.
    public static func create() async throws -> LocalCluster {
        var lastError: Error = PostgresError.client("no attempt")
        for _ in 0..<3 {
            let base = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("kontor-pg-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
            let c = LocalCluster(home: base, port: try freePort())
            do {
                try await c.run("start")
                return c
            } catch {
                lastError = error
                await c.destroy()
            }
        }
        throw lastError
    }

    private init(home: URL, port: Int) {
        self.home = home
        self.port = port
        LocalCluster.live.withLockedValue { $0[home.path] = port }
        LocalCluster.installExitHook
    }

    /// Runs `body` with a fresh cluster and destroys it afterwards, also when `body` throws.
    public static func with<T: Sendable>(_ body: @Sendable (LocalCluster) async throws -> T) async throws -> T {
        let c = try await create()
        do {
            let v = try await body(c)
            await c.destroy()
            return v
        } catch {
            await c.destroy()
            throw error
        }
    }

    /// Clusters not destroyed yet: stopped when the test process exits, whatever happened.
    static let live = NIOLockedValueBox([String: Int]())
    static let installExitHook: Void = {
        atexit {
            let script = TestEnvironment.projectRoot.appendingPathComponent("deploy/pg.sh").path
            for (home, port) in LocalCluster.live.withLockedValue({ $0 }) {
                var env = ProcessInfo.processInfo.environment
                env["KONTOR_HOME"] = home
                env["KONTOR_PG_PORT"] = String(port)
                _ = try? runCommand(["/bin/bash", script, "destroy"], environment: env)
                try? FileManager.default.removeItem(atPath: home)
            }
        }
    }()

    public func start() async throws { try await run("start") }
    public func stop() async throws { try await run("stop") }
    public func destroy() async {
        try? await run("destroy")
        try? FileManager.default.removeItem(at: home)
        _ = LocalCluster.live.withLockedValue { $0.removeValue(forKey: home.path) }
    }

    func run(_ verb: String) async throws {
        let script = TestEnvironment.projectRoot.appendingPathComponent("deploy/pg.sh").path
        var env = ProcessInfo.processInfo.environment
        env["KONTOR_HOME"] = home.path
        env["KONTOR_PG_PORT"] = String(port)
        let environment = env
        let status: Int32 = try await TestDatabase.blocking {
            try runCommand(["/bin/bash", script, verb], environment: environment)
        }
        if status != 0 { throw PostgresError.client("deploy/pg.sh \(verb) exited with \(status)") }
    }

    /// A TCP port nobody listens on right now.
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw PostgresError.client("socket() failed") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sp in
                bind(fd, sp, len) == 0 && getsockname(fd, sp, &len) == 0
            }
        }
        guard ok else { throw PostgresError.client("bind() failed") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}

/// Runs a program and waits for it (posix_spawn + waitpid; stdout discarded, stderr
/// inherited). Returns its exit status.
public func runCommand(_ argv: [String], environment: [String: String]) throws -> Int32 {
    try waitChild(try spawnChild(argv, environment: environment, stdin: nil, stdout: "/dev/null"))
}

/// Rows of the tables an import writes, counted in the database itself.
public struct TableCounts: Equatable, Sendable, CustomStringConvertible {
    public var contacts = 0, companies = 0, counterparties = 0, phones = 0, emails = 0, messengers = 0, comments = 0, audit = 0

    public static func of(_ server: TestServer) async throws -> TableCounts {
        try await server.database.with { conn in
            let r = try conn.query("""
                SELECT (SELECT count(*) FROM contacts) AS contacts, (SELECT count(*) FROM companies) AS companies,
                       (SELECT count(*) FROM counterparties) AS counterparties, (SELECT count(*) FROM contact_phones) AS phones,
                       (SELECT count(*) FROM contact_emails) AS emails, (SELECT count(*) FROM contact_messengers) AS messengers,
                       (SELECT count(*) FROM comments) AS comments, (SELECT count(*) FROM audit_log) AS audit
                """).one()
            return TableCounts(contacts: try r.decode("contacts"), companies: try r.decode("companies"),
                               counterparties: try r.decode("counterparties"), phones: try r.decode("phones"),
                               emails: try r.decode("emails"), messengers: try r.decode("messengers"),
                               comments: try r.decode("comments"), audit: try r.decode("audit"))
        }
    }

    public var description: String {
        "contacts \(contacts), companies \(companies), counterparties \(counterparties), phones \(phones), emails \(emails), messengers \(messengers), comments \(comments), audit \(audit)"
    }
}

/// What a finished program said.
public struct CommandOutput: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs a program (posix_spawn + waitpid, off the cooperative pool) with standard input
/// from /dev/null, and returns its exit status and both outputs.
///
/// A program still running after `timeout` seconds is killed with its whole process
/// group (a script's children too), and its status is 128 + SIGKILL: a hung child fails
/// its test instead of hanging the run.
public func runCapturing(_ argv: [String], environment: [String: String], timeout: Double = 600) async throws -> CommandOutput {
    let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("kontor-cmd-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let outPath = dir.appendingPathComponent("out").path, errPath = dir.appendingPathComponent("err").path
    let status: Int32 = try await TestDatabase.blocking {
        let pid = try spawnChild(argv, environment: environment, stdout: outPath, stderr: errPath, newProcessGroup: true)
        return try waitChild(pid, timeout: timeout)
    }
    return CommandOutput(status: status, stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
                         stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
}

/// Starts a program the way a shell would, from this threaded test process: with
/// `posix_spawn` (no fork), every signal unblocked and at its default disposition
/// (threads of the test runner block or ignore most signals, and a child inherits both:
/// `nc -q1` then never sees its SIGALRM and waits for ever), and no descriptor of ours
/// beyond 0, 1 and 2 (sockets and pipes of other tests must not live on in it).
///
/// - Parameters:
///   - argv: the program's path, then its arguments.
///   - environment: exactly the child's environment.
///   - stdin, stdout, stderr: files opened for descriptors 0, 1, 2 (stdout and stderr
///     created or truncated with mode 0600); `nil` inherits ours.
///   - newSession: `setsid()` in the child (a pseudo-terminal opened as descriptor 0
///     then becomes its controlling terminal).
///   - newProcessGroup: the child leads a process group of its own (its pid), so that
///     `kill(-pid, …)` reaches everything it started.
/// - Returns: the child's pid.
/// - Throws: `PostgresError.client` when it cannot be started (errno in the message).
public func spawnChild(_ argv: [String], environment: [String: String], stdin: String? = "/dev/null",
                       stdout: String? = nil, stderr: String? = nil, newSession: Bool = false,
                       newProcessGroup: Bool = false) throws -> pid_t {
    var attr = posix_spawnattr_t()
    posix_spawnattr_init(&attr)
    defer { posix_spawnattr_destroy(&attr) }
    var none = sigset_t(), all = sigset_t()
    sigemptyset(&none)
    sigfillset(&all)
    posix_spawnattr_setsigmask(&attr, &none)
    posix_spawnattr_setsigdefault(&attr, &all)
    // glibc's POSIX_SPAWN_SETPGROUP 0x02, POSIX_SPAWN_SETSIGDEF 0x04, POSIX_SPAWN_SETSIGMASK 0x08,
    // POSIX_SPAWN_SETSID 0x80 (a new session is a new process group as well).
    posix_spawnattr_setpgroup(&attr, 0)
    posix_spawnattr_setflags(&attr, Int16(0x04 | 0x08 | (newSession ? 0x80 : newProcessGroup ? 0x02 : 0)))
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    if let stdin { posix_spawn_file_actions_addopen(&actions, 0, stdin, newSession ? O_RDWR : O_RDONLY, 0) }
    if let stdout { posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o600) }
    if let stderr { posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o600) }
    closeInheritedDescriptors(&actions)
    let cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
    let cenv: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { for p in cargs + cenv { free(p) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, argv[0], &actions, &attr, cargs, cenv)
    guard rc == 0 else { throw PostgresError.client("cannot start \(argv[0]): errno \(rc)") }
    return pid
}

/// Waits for a child started by `spawnChild` (blocking this thread; call it off the
/// cooperative pool). Returns its exit status, or 128 + the signal that ended it.
/// - Throws: `PostgresError.client` when waitpid fails other than by EINTR.
/// With a `timeout` (seconds), a child still running then is killed with SIGKILL, with
/// its process group when it leads one.
public func waitChild(_ pid: pid_t, timeout: Double? = nil) throws -> Int32 {
    var st: Int32 = 0
    if let timeout {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let r = waitpid(pid, &st, WNOHANG)
            if r == pid { break }
            if r < 0 && errno != EINTR { throw PostgresError.client("waitpid failed: errno \(errno)") }
            if Date() >= deadline {
                if getpgid(pid) == pid { kill(-pid, SIGKILL) } else { kill(pid, SIGKILL) }
                return try waitChild(pid)
            }
            usleep(20_000)
        }
    } else {
        while waitpid(pid, &st, 0) < 0 {
            if errno != EINTR { throw PostgresError.client("waitpid failed: errno \(errno)") }
        }
    }
    // WIFEXITED / WEXITSTATUS, else WTERMSIG.
    return (st & 0x7f) == 0 ? (st >> 8) & 0xff : 128 + (st & 0x7f)
}

/// Adds "close every descriptor from 3 up" to `actions`: glibc's
/// `posix_spawn_file_actions_addclosefrom_np` (2.34+; not visible to Swift's Glibc
/// module, so looked up by name), else a close for each descriptor open now.
private func closeInheritedDescriptors(_ actions: inout posix_spawn_file_actions_t) {
    typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    if let sym = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") {
        let closeFrom = unsafeBitCast(sym, to: CloseFrom.self)
        if closeFrom(&actions, 3) == 0 { return }
    }
    let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
    for fd in open.compactMap(Int32.init) where fd > 2 {
        posix_spawn_file_actions_addclose(&actions, fd)
    }
}
