import ArgumentParser
import Foundation
import KontorClient
import KontorDomain
import KontorProtocol
import KontorShell

#if canImport(Glibc)
import Glibc
#endif

/// `kontor`: the client people use.
///
/// * no arguments: the REPL (or, when standard input is not a terminal, one command
///   per line from it);
/// * `kontor FAMILY VERB …` (`kontor contact find 044 123 45 67`): any method of the
///   catalogue, in the REPL's syntax;
/// * `login`, `logout`, `ping`, `call`, `methods`, `repl`: the fixed subcommands.
@main
enum KontorMain {
    /// Subcommands ArgumentParser handles; everything else is a method.
    static let fixed: Set<String> = ["login", "logout", "ping", "call", "methods", "repl", "help"]

    static func main() async {
        _ = setlocale(LC_ALL, "")
        if !localeIsUTF8() { _ = setlocale(LC_CTYPE, "C.UTF-8") }
        var args = Array(CommandLine.arguments.dropFirst())
        // Leading --server may come before a method or a subcommand.
        var server: String?
        while let first = args.first {
            if first == "--server", args.count >= 2 { server = args[1]; args.removeFirst(2); continue }
            if first.hasPrefix("--server=") { server = String(first.dropFirst(9)); args.removeFirst(); continue }
            break
        }
        let syntax = HumanSyntax()
        guard let word = args.first else {
            exit(await REPL.run(server: server))
        }
        if word == "help", args.count > 1, syntax.isCommandWord(args[1]) {
            let shell = Shell(syntax: syntax, console: PlainConsole(), host: "127.0.0.1", port: 7411)
            print(await shell.help(Array(args.dropFirst())))
            exit(0)
        }
        let isMethod = !word.hasPrefix("-") && (!fixed.contains(word) || (word == "call" && args.count > 1 && !args[1].contains(".")
            && syntax.resolve(["call", args[1]]) != nil))
        if isMethod {
            // --server may also come after the method's words.
            var words: [String] = []
            var i = 0
            while i < args.count {
                if args[i] == "--server", i + 1 < args.count { server = args[i + 1]; i += 2; continue }
                if args[i].hasPrefix("--server=") { server = String(args[i].dropFirst(9)); i += 1; continue }
                words.append(args[i])
                i += 1
            }
            exit(await runMethod(words, server: server, syntax: syntax))
        }
        var forwarded = args
        if let server, !word.hasPrefix("-") { forwarded.insert(contentsOf: ["--server", server], at: 1) }
        await KontorCommand.main(forwarded)
    }

    /// `kontor user get 1 --json`: one call, printed, exit status 0/1/2.
    static func runMethod(_ args: [String], server: String?, syntax: HumanSyntax) async -> Int32 {
        let console = PlainConsole()
        let host: String, port: Int
        do { (host, port) = try Shell.address(explicit: server) } catch {
            console.printError(ErrorText.line(error))
            return 2
        }
        let shell = Shell(syntax: syntax, console: console, host: host, port: port, livePushes: false)
        let status = await shell.run(arguments: args)
        await shell.shutdown()
        return status
    }

    static func localeIsUTF8() -> Bool {
        guard let codeset = nl_langinfo(nl_item(CODESET)) else { return false }
        let name = String(cString: codeset).uppercased()
        return name == "UTF-8" || name == "UTF8"
    }
}

/// The fixed subcommands, with every method family listed in the help.
struct KontorCommand: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "kontor",
            abstract: "Kontor client: a REPL, and every protocol method as a subcommand.",
            discussion: """
            With no arguments kontor opens a REPL (Tab completes, `help` explains the syntax);
            with standard input not a terminal it runs one command per line.

            Every method of the catalogue is a subcommand, in the REPL's syntax:
              kontor user list
              kontor contact find 044 123 45 67
              kontor lead reject 42 reason=wrong_department "looking for accounting"
              kontor report plan-fact 2026-11 by=manager --svg plan.svg
            Options: --server HOST:PORT (or KONTOR_SERVER), --json (raw JSON), --svg FILE (a report's chart).
            `kontor help FAMILY VERB` shows a method's fields.

            Method families: \(HumanSyntax().families.joined(separator: ", "))
            """,
            subcommands: [Login.self, Logout.self, Ping.self, Call.self, Methods.self, Repl.self]
        )
    }
}

/// Where the server is: `--server host:port`, else `KONTOR_SERVER`, else the saved
/// session's server, else 127.0.0.1:7411.
struct ServerOptions: ParsableArguments {
    @Option(name: .customLong("server"), help: "host:port of kontord (KONTOR_SERVER; default 127.0.0.1:7411).")
    var server: String?

    func shell(console: ShellConsole = PlainConsole()) throws -> Shell {
        let (host, port) = try Shell.address(explicit: server)
        return Shell(console: console, host: host, port: port, livePushes: false)
    }
}

/// Reads a password from the terminal without echo (or a line of stdin when not a
/// tty); `KONTOR_PASSWORD` wins when set.
func readPassword(prompt: String) -> String? {
    if let env = ProcessInfo.processInfo.environment["KONTOR_PASSWORD"], !env.isEmpty { return env }
    return Terminal.readSecretBlocking(prompt: prompt)
}

/// Prints a failure as one line and gives the exit status.
func fail(_ error: Error) -> ExitCode {
    FileHandle.standardError.write(Data((ErrorText.line(error) + "\n").utf8))
    return ExitCode(ErrorText.exitStatus(error))
}

struct Login: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Log in and keep the session (the password is never stored).")
    @OptionGroup var options: ServerOptions
    @Argument(help: "Your login.") var login: String

    func run() async throws {
        do {
            let shell = try options.shell()
            guard let password = readPassword(prompt: "password for \(login): "), !password.isEmpty else {
                throw ValidationError("no password given")
            }
            try await shell.login(login, password: password)
            let name = await shell.user?["full_name"]?.stringValue ?? login
            let role = await shell.user?["role"]?.stringValue ?? "?"
            let address = await shell.address
            await shell.shutdown()
            print("logged in as \(name) (\(role)) at \(address); session saved in \(SessionFile.url.path)")
        } catch let e as ValidationError {
            throw e
        } catch {
            throw fail(error)
        }
    }
}

struct Logout: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "End the saved session.")
    @OptionGroup var options: ServerOptions

    func run() async throws {
        if let shell = try? options.shell() {
            await shell.logout()
            await shell.shutdown()
        }
        SessionFile.remove()
        print("logged out")
    }
}

struct Ping: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check that kontord answers.")
    @OptionGroup var options: ServerOptions

    func run() async throws {
        do {
            let (host, port) = try Shell.address(explicit: options.server)
            let c = try await KontorConnection.connect(host: host, port: port)
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
        abstract: "Call any method: kontor call contact.find '{\"query\":\"044 123 45 67\"}' (or field=value words).")
    @OptionGroup var options: ServerOptions
    @Flag(name: .customLong("json"), help: "Print the result as JSON.") var json = false
    @Argument(help: "The method, e.g. user.list.") var method: String
    @Argument(parsing: .captureForPassthrough, help: "Params: a JSON object (- reads it from stdin), or field=value words.")
    var params: [String] = []

    func run() async throws {
        var words = params
        var json = self.json
        if words.contains("--json") { json = true; words.removeAll { $0 == "--json" } }
        if words == ["-"] { words = [readLine(strippingNewline: false) ?? "{}"] }
        let syntax = HumanSyntax()
        let call: MethodCall
        do {
            if words.count == 1, let only = words.first, only.trimmingCharacters(in: .whitespaces).hasPrefix("{") {
                let value: JSONValue
                do { value = try JSONValue.parse(only) } catch { throw ValidationError("params are not JSON: \(error)") }
                guard case .object = value else { throw ValidationError("params must be a JSON object") }
                call = MethodCall(method: method, params: value, options: OutputOptions(json: json))
            } else if let info = syntax.byName[method] {
                var c = MethodCall(method: method, params: try syntax.bind(words.map(ShellToken.argument), to: info))
                c.options.json = json
                call = c
            } else if words.isEmpty {
                call = MethodCall(method: method, params: .object([:]), options: OutputOptions(json: json))
            } else {
                throw ValidationError("\(method) is not in the catalogue: give its params as one JSON object")
            }
        } catch let e as ValidationError {
            throw e
        } catch {
            throw fail(error)
        }
        do {
            let shell = try options.shell()
            try await shell.perform(call)
            await shell.shutdown()
        } catch {
            throw fail(error)
        }
    }
}

struct Methods: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the protocol's methods (of one family) and their params.")
    @Argument(help: "A family, e.g. user.") var family: String?

    func run() async throws {
        let list = family.map { HumanSyntax().methods(in: $0) } ?? MethodCatalogue.all
        if list.isEmpty { throw fail(ShellError("method_not_found", "no family \(family ?? "")")) }
        for m in list {
            print("\(m.name.padding(toLength: 24, withPad: " ", startingAt: 0)) \(m.summary)")
            if !m.params.isEmpty { print(String(repeating: " ", count: 25) + m.params.joined(separator: ", ")) }
        }
    }
}

struct Repl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The interactive client (the default with no arguments).")
    @OptionGroup var options: ServerOptions

    func run() async throws {
        let status = await REPL.run(server: options.server)
        if status != 0 { throw ExitCode(status) }
    }
}
