import ArgumentParser
import Foundation
import KontorClient
import KontorDomain
import KontorProtocol

#if canImport(Glibc)
import Glibc
#endif

/// `kontor`: the command-line client people use.
@main
struct KontorCLI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kontor",
        abstract: "Kontor client: log in, call any method, read results.",
        subcommands: [Login.self, Logout.self, Ping.self, Call.self, Methods.self]
    )
}

/// Where the server is: `--server host:port`, else `KONTOR_SERVER`, else the saved
/// session's server, else 127.0.0.1:7411.
struct ServerOptions: ParsableArguments {
    @Option(name: .customLong("server"), help: "host:port of kontord (KONTOR_SERVER; default 127.0.0.1:7411).")
    var server: String?
    @Flag(name: .customLong("json"), help: "Print results as JSON.")
    var json = false

    func address(saved: SessionFile.Saved?) throws -> (String, Int) {
        let text = server ?? ProcessInfo.processInfo.environment["KONTOR_SERVER"] ?? saved?.server ?? "127.0.0.1:7411"
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else {
            throw ValidationError("the server address must be host:port, got \(text)")
        }
        return (String(text[..<colon]), port)
    }
}

/// The saved login: `$XDG_CONFIG_HOME/kontor/session.json` (default `~/.config/kontor`),
/// file mode 0600. Holds the server address, login and session token.
enum SessionFile {
    struct Saved: Codable {
        var server: String
        var login: String
        var sessionToken: String
    }

    static var url: URL {
        let env = ProcessInfo.processInfo.environment
        let base = env["XDG_CONFIG_HOME"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".config")
        return base.appendingPathComponent("kontor/session.json")
    }

    static func load() -> Saved? {
        guard let data = try? Data(contentsOf: url), let v = try? JSONValue.parse(Array(data)) else { return nil }
        return try? JSONValueDecoder(strict: false).decode(Saved.self, from: v)
    }

    static func save(_ s: Saved) throws {
        let dir = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let text = try JSONValueEncoder().encode(s).prettyText + "\n"
        // Create with 0600 before writing the secret.
        let fd = open(url.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw ValidationError("cannot write \(url.path)") }
        defer { close(fd) }
        _ = fchmod(fd, 0o600)
        let bytes = Array(text.utf8)
        guard write(fd, bytes, bytes.count) == bytes.count else { throw ValidationError("cannot write \(url.path)") }
    }

    static func remove() { try? FileManager.default.removeItem(at: url) }
}

/// Reads a password from the terminal without echo (or a line of stdin when not a tty).
func readPassword(prompt: String) -> String? {
    if let env = ProcessInfo.processInfo.environment["KONTOR_PASSWORD"], !env.isEmpty { return env }
    if isatty(STDIN_FILENO) == 0 { return readLine(strippingNewline: true) }
    FileHandle.standardError.write(Data(prompt.utf8))
    var old = termios()
    tcgetattr(STDIN_FILENO, &old)
    var silent = old
    silent.c_lflag &= ~tcflag_t(ECHO)
    tcsetattr(STDIN_FILENO, TCSANOW, &silent)
    defer {
        tcsetattr(STDIN_FILENO, TCSANOW, &old)
        FileHandle.standardError.write(Data("\n".utf8))
    }
    return readLine(strippingNewline: true)
}

/// Prints a kontord error as one line with its kind and exits non-zero.
func fail(_ error: Error) -> ExitCode {
    switch error {
    case let e as KontorError:
        var extra = e.data.filter { $0.key != "kind" }.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " ")
        if !extra.isEmpty { extra = " (" + extra + ")" }
        FileHandle.standardError.write(Data("error: \(e.kind.rawValue): \(e.message)\(extra)\n".utf8))
    default:
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    }
    return ExitCode(1)
}

/// Connects and resumes the saved session (when there is one for this server).
func connect(_ options: ServerOptions, resume: Bool = true) async throws -> KontorConnection {
    let saved = SessionFile.load()
    let (host, port) = try options.address(saved: saved)
    let c = try await KontorConnection.connect(host: host, port: port)
    if resume, let saved, saved.server == "\(host):\(port)" {
        do {
            _ = try await c.call("auth.resume", ["session_token": .string(saved.sessionToken)])
        } catch let e as KontorError where e.kind == .unauthenticated {
            FileHandle.standardError.write(Data("note: the saved session has ended; run `kontor login`\n".utf8))
        }
    }
    return c
}

struct Login: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Log in and keep the session (the password is never stored).")
    @OptionGroup var options: ServerOptions
    @Argument(help: "Your login.") var login: String

    func run() async throws {
        let (host, port) = try options.address(saved: SessionFile.load())
        guard let password = readPassword(prompt: "password for \(login): "), !password.isEmpty else {
            throw ValidationError("no password given")
        }
        do {
            let c = try await KontorConnection.connect(host: host, port: port)
            let r = try await c.call("auth.login", ["login": .string(login), "password": .string(password)])
            await c.close()
            guard let token = r["session_token"]?.stringValue else { throw KontorClientError.badResponse("no session token") }
            try SessionFile.save(.init(server: "\(host):\(port)", login: login, sessionToken: token))
            let name = r["user"]?["full_name"]?.stringValue ?? login
            let role = r["user"]?["role"]?.stringValue ?? "?"
            print("logged in as \(name) (\(role)) at \(host):\(port); session saved in \(SessionFile.url.path)")
        } catch {
            throw fail(error)
        }
    }
}

struct Logout: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "End the saved session.")
    @OptionGroup var options: ServerOptions

    func run() async throws {
        do {
            let c = try await connect(options)
            _ = try? await c.call("auth.logout")
            await c.close()
        } catch {}
        SessionFile.remove()
        print("logged out")
    }
}

struct Ping: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check that kontord answers.")
    @OptionGroup var options: ServerOptions

    func run() async throws {
        do {
            let c = try await connect(options, resume: false)
            let started = Date()
            _ = try await c.call("ping")
            let info = try await c.call("server.info")
            await c.close()
            let ms = Int(Date().timeIntervalSince(started) * 1000)
            print("kontord \(info["version"]?.stringValue ?? "?") answers in \(ms) ms; business time zone \(info["time_zone"]?.stringValue ?? "?")")
        } catch {
            throw fail(error)
        }
    }
}

struct Call: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Call any method with JSON params: kontor call contact.find '{\"query\":\"044 123 45 67\"}'.")
    @OptionGroup var options: ServerOptions
    @Argument(help: "The method, e.g. user.list.") var method: String
    @Argument(help: "Params as a JSON object (default {}); - reads it from stdin.") var params: String = "{}"

    func run() async throws {
        let text = params == "-" ? (readLine(strippingNewline: false) ?? "{}") : params
        let value: JSONValue
        do { value = try JSONValue.parse(text) } catch { throw ValidationError("params are not JSON: \(error)") }
        guard case .object = value else { throw ValidationError("params must be a JSON object") }
        do {
            let c = try await connect(options)
            let r = try await c.call(method, value)
            await c.close()
            print(r.prettyText)
        } catch {
            throw fail(error)
        }
    }
}

struct Methods: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the protocol's methods and their params.")

    func run() async throws {
        for m in MethodCatalogue.all {
            print("\(m.name.padding(toLength: 24, withPad: " ", startingAt: 0)) \(m.summary)")
            if !m.params.isEmpty { print(String(repeating: " ", count: 25) + m.params.joined(separator: ", ")) }
        }
    }
}
