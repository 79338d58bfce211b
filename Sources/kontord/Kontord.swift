import ArgumentParser
import Foundation
import KontorDomain
import KontorServer
import KontorStore
import Logging
import Postgres
import ServiceLifecycle

/// `kontord`: the Kontor server.
@main
struct Kontord: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kontord",
        abstract: "Kontor sales workspace server (JSON-RPC 2.0 line protocol over TCP, PostgreSQL).",
        subcommands: [Serve.self, Migrate.self, UserCommand.self],
        defaultSubcommand: Serve.self
    )
}

/// Flags shared by every subcommand; each overrides its `KONTOR_*` variable.
struct CommonOptions: ParsableArguments {
    @Option(name: .customLong("database-url"), help: "libpq connection string or URI (KONTOR_DATABASE_URL).")
    var databaseURL: String?
    @Option(name: .customLong("log-level"), help: "trace|debug|info|notice|warning|error|critical (KONTOR_LOG_LEVEL).")
    var logLevel: String?
    @Option(name: .customLong("sql-dir"), help: "Folder with migrations/ and views/ (KONTOR_SQL_DIR).")
    var sqlDir: String?

    func load() throws -> ServerConfiguration {
        var env = ProcessInfo.processInfo.environment
        if let databaseURL { env["KONTOR_DATABASE_URL"] = databaseURL }
        if let logLevel { env["KONTOR_LOG_LEVEL"] = logLevel }
        if let sqlDir { env["KONTOR_SQL_DIR"] = sqlDir }
        do { return try ServerConfiguration.fromEnvironment(env) } catch let e as ConfigurationError {
            throw ValidationError(e.description)
        }
    }
}

func makeLogger(_ level: Logger.Level) -> Logger {
    LoggingSystem.bootstrap { label in
        var h = StreamLogHandler.standardError(label: label)
        h.logLevel = level
        return h
    }
    return Logger(label: "kontord")
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the line protocol (migrates first unless --no-migrate).")

    @OptionGroup var common: CommonOptions
    @Option(help: "Listen address (KONTOR_HOST).") var host: String?
    @Option(help: "Listen port, 0 = any free (KONTOR_PORT).") var port: Int?
    @Option(name: .customLong("time-zone"), help: "Business time zone, IANA name (KONTOR_TIME_ZONE).") var timeZone: String?
    @Flag(name: .customLong("no-migrate"), help: "Do not apply migrations on start (KONTOR_MIGRATE=0).") var noMigrate = false
    @Option(name: .customLong("port-file"), help: "Write the bound port to this file once listening.") var portFile: String?

    func run() async throws {
        var cfg = try common.load()
        if let host { cfg.host = host }
        if let port {
            guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535") }
            cfg.port = port
        }
        if let timeZone {
            guard let tz = TimeZone(identifier: timeZone) else { throw ValidationError("unknown time zone \(timeZone)") }
            cfg.timeZone = tz
        }
        if noMigrate { cfg.migrateOnStart = false }
        let logger = makeLogger(cfg.logLevel)
        let server = KontorServer(configuration: cfg, logger: logger)
        if let portFile {
            let s = server
            Task {
                if let p = try? await s.waitUntilListening() {
                    try? "\(p)\n".write(toFile: portFile, atomically: true, encoding: .utf8)
                }
            }
        }
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: server)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        do {
            try await group.run()
        } catch let e as MigrationError {
            logger.critical("cannot migrate", metadata: ["error": "\(e)"])
            throw ExitCode(2)
        } catch let e as PostgresError {
            logger.critical("database error", metadata: ["error": "\(e)"])
            throw ExitCode(3)
        }
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending migrations and re-apply views, then exit.")
    @OptionGroup var common: CommonOptions

    func run() async throws {
        let cfg = try common.load()
        let logger = makeLogger(cfg.logLevel)
        guard let dir = Migrator.locateSQLDirectory(override: cfg.sqlDirectory) else {
            throw ValidationError("cannot find the sql/ folder; pass --sql-dir")
        }
        do {
            let conn = try PostgresConnection(conninfo: cfg.databaseURL)
            defer { conn.close() }
            let applied = try Migrator(directory: dir, logger: logger).migrate(conn)
            print(applied.isEmpty ? "schema is up to date" : "applied migrations: \(applied.map(String.init).joined(separator: ", "))")
        } catch {
            logger.critical("migration failed", metadata: ["error": "\(error)"])
            throw ExitCode(2)
        }
    }
}

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "user", abstract: "Manage users from the server side.",
                                                    subcommands: [AddAdmin.self])
}

struct AddAdmin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add-admin",
        abstract: "Create an admin; the password is read from KONTOR_ADMIN_PASSWORD or the first line of stdin.")

    @OptionGroup var common: CommonOptions
    @Option(help: "The admin's login.") var login: String
    @Option(name: .customLong("name"), help: "Full name.") var fullName: String = "Administrator"
    @Option(help: "Role: admin or tech_admin.") var role: String = "admin"
    @Flag(name: .customLong("if-missing"), help: "Do nothing (exit 0) when the login exists.") var ifMissing = false

    func run() async throws {
        let cfg = try common.load()
        guard let r = Role(rawValue: role), r == .admin || r == .techAdmin else { throw ValidationError("--role must be admin or tech_admin") }
        if let why = Credentials.validateLogin(login) { throw ValidationError(why) }
        var password = ProcessInfo.processInfo.environment["KONTOR_ADMIN_PASSWORD"]
        if password == nil || password == "" { password = readLine(strippingNewline: true) }
        guard let password, !password.isEmpty else { throw ValidationError("give the password in KONTOR_ADMIN_PASSWORD or on stdin") }
        if let why = Credentials.validatePassword(password) { throw ValidationError(why) }
        let conn = try PostgresConnection(conninfo: cfg.databaseURL)
        defer { conn.close() }
        let repo = UserRepository(conn)
        if let existing = try repo.get(login: login) {
            if ifMissing { print("user \(existing.login) exists (id \(existing.id))"); return }
            throw ValidationError("the login \(login) is taken (id \(existing.id))")
        }
        let u = try repo.create(login: login, fullName: fullName, role: r, department: nil, email: nil, password: password,
                                bcryptCost: cfg.bcryptCost, now: Date())
        print("created \(u.role.rawValue) \(u.login) (id \(u.id))")
    }
}
