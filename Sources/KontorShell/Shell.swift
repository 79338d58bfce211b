import Foundation
import KontorClient
import KontorDomain
import KontorProtocol

/// What the shell needs from the terminal (or the pipe) it runs in.
public protocol ShellConsole: Sendable {
    /// Writes text and a newline to standard output.
    func print(_ text: String)
    /// Writes text and a newline to standard error.
    func printError(_ text: String)
    /// Shows a server push (the REPL prints it above the line being edited).
    func push(_ text: String)
    /// Reads a secret without echo; nil when cancelled or at end of input.
    func readSecret(prompt: String) async -> String?
    /// Reads a line with echo; nil when cancelled or at end of input.
    func readLine(prompt: String) async -> String?
    /// Columns of the output.
    var width: Int { get }
    /// Colours, when the output wants them.
    var style: ANSIStyle { get }
}

/// The client's engine, shared by the REPL, scripts on standard input and the one-shot
/// subcommands: it parses a command (one code path, `HumanSyntax`), calls the server,
/// and prints the result as a table, key/value lines or JSON, and charts for reports.
public actor Shell {
    /// The command syntax (over the protocol's catalogue unless a test gives another).
    public let syntax: HumanSyntax
    let console: ShellConsole
    let host: String
    let port: Int
    var connection: KontorConnection?
    var pushTask: Task<Void, Never>?
    /// The logged-in user (`login`, `full_name`, `role`), nil when not logged in.
    public private(set) var user: [String: JSONValue]?
    var token: String?
    var subscribeUnsupported = false
    /// Whether to ask for live pushes after login: the REPL does; a one-shot command
    /// (`kontor user list`) has nobody to show them to.
    let livePushes: Bool
    var interrupted = false
    /// Set by `quit`.
    public private(set) var finished = false

    /// `host:port` of the server.
    public var address: String { "\(host):\(port)" }

    /// A shell talking to `host:port` and printing to `console`; it connects on first use.
    public init(syntax: HumanSyntax = HumanSyntax(), console: ShellConsole, host: String, port: Int, livePushes: Bool = true) {
        self.livePushes = livePushes
        self.syntax = syntax
        self.console = console
        self.host = host
        self.port = port
    }

    /// Where the server is: `explicit` (`--server`), else `KONTOR_SERVER`, else the saved
    /// session's server, else 127.0.0.1:7411.
    public static func address(explicit: String?) throws -> (String, Int) {
        let text = explicit ?? ProcessInfo.processInfo.environment["KONTOR_SERVER"].flatMap { $0.isEmpty ? nil : $0 }
            ?? SessionFile.load()?.server ?? "127.0.0.1:7411"
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else {
            throw ShellError.usage("the server address must be host:port, got \(text)")
        }
        return (String(text[..<colon]), port)
    }

    /// The REPL prompt: `kontor> `, or `kontor(olena)> ` when logged in.
    public var prompt: String {
        if let login = user?["login"]?.stringValue { return "kontor(\(login))> " }
        return "kontor> "
    }

    // MARK: - Connection and session

    /// Connects (when not connected) and resumes the saved session for this server.
    @discardableResult
    func ensureConnection() async throws -> KontorConnection {
        if let c = connection, !c.isClosed { return c }
        let c = try await KontorConnection.connect(host: host, port: port)
        connection = c
        startPushes(c)
        if token == nil, let saved = SessionFile.load(), saved.server == address { token = saved.sessionToken }
        if let t = token {
            do {
                let r = try await c.call("auth.resume", ["session_token": .string(t)])
                user = r["user"]?.objectValue
                await subscribe(c)
            } catch let e as KontorError where e.kind == .unauthenticated {
                token = nil
                user = nil
                console.printError("note: the saved session has ended; log in again (login LOGIN)")
            }
        }
        return c
    }

    func startPushes(_ c: KontorConnection) {
        pushTask?.cancel()
        let console = self.console
        pushTask = Task {
            for await (method, params) in c.notifications {
                console.push(PushText.line(method: method, params: params, width: console.width))
            }
        }
    }

    /// Asks for live pushes when the server offers them (`notify.subscribe`).
    func subscribe(_ c: KontorConnection) async {
        guard livePushes, !subscribeUnsupported else { return }
        do {
            _ = try await c.call("notify.subscribe")
        } catch let e as KontorError where e.kind == .methodNotFound || e.kind == .forbidden {
            // An older server, or a role with nothing to push (the tech admin): no note.
            subscribeUnsupported = true
        } catch {
            console.printError("note: live notifications are off: " + ErrorText.line(error).dropFirst(7))
        }
    }

    /// Connects at REPL start and says where and who; failures are only noted (the
    /// next command tries again).
    public func start(banner: Bool) async {
        do {
            let c = try await ensureConnection()
            if banner {
                let info = try? await c.call("server.info")
                var line = "kontor: connected to \(address)"
                if let v = info?["version"]?.stringValue { line += " (kontord \(v)" + (info?["time_zone"]?.stringValue.map { ", \($0)" } ?? "") + ")" }
                console.print(line)
                if let u = user {
                    console.print("logged in as \(Self.describe(u)); help lists the commands, Tab completes, Ctrl-D quits")
                } else {
                    console.print("not logged in: type login LOGIN; help lists the commands, Tab completes, Ctrl-D quits")
                }
            }
        } catch {
            console.printError(ErrorText.line(error))
        }
    }

    static func describe(_ u: [String: JSONValue]) -> String {
        let name = u["full_name"]?.stringValue ?? u["login"]?.stringValue ?? "?"
        let role = u["role"]?.stringValue ?? "?"
        return "\(name) (\(role))"
    }

    /// Logs in, keeps the session in the session file, subscribes to pushes.
    public func login(_ login: String, password: String) async throws {
        let c = try await ensureConnection()
        let r = try await c.call("auth.login", ["login": .string(login), "password": .string(password)])
        guard let t = r["session_token"]?.stringValue else { throw KontorClientError.badResponse("no session token") }
        token = t
        user = r["user"]?.objectValue
        try SessionFile.save(.init(server: address, login: login, sessionToken: t))
        await subscribe(c)
    }

    /// Ends the session on the server and forgets it here.
    public func logout() async {
        if let c = connection, !c.isClosed, user != nil { _ = try? await c.call("auth.logout") }
        if let saved = SessionFile.load(), saved.server == address { SessionFile.remove() }
        token = nil
        user = nil
    }

    /// Stops waiting for the command in flight: the connection is dropped (the next
    /// command reconnects and resumes the session).
    public func interrupt() async {
        interrupted = true
        let c = connection
        connection = nil
        await c?.close()
    }

    /// Closes the connection.
    public func shutdown() async {
        pushTask?.cancel()
        let c = connection
        connection = nil
        await c?.close()
    }

    // MARK: - Commands

    /// Runs one REPL or script line; false when it failed.
    public func run(line raw: String) async -> Bool {
        let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        if line.isEmpty || line.hasPrefix("#") { return true }
        interrupted = false
        do {
            try await dispatch(line)
            return true
        } catch {
            report(error)
            return false
        }
    }

    /// Runs the program's arguments as one command (`kontor user get 1 --json`);
    /// returns the exit status.
    public func run(arguments: [String]) async -> Int32 {
        do {
            let call = try syntax.parse(arguments: arguments)
            try await perform(call)
            return 0
        } catch {
            report(error)
            return ErrorText.exitStatus(error)
        }
    }

    func report(_ error: Error) {
        if interrupted, error is KontorClientError {
            // `\r` writes over the `^C` the terminal echoed.
            console.printError("\rinterrupted (the server may still finish the request)")
            interrupted = false
            return
        }
        if let e = error as? KontorClientError, case .connectionClosed = e {
            connection = nil
        }
        console.printError(ErrorText.line(error))
    }

    func dispatch(_ line: String) async throws {
        let tokens: [ShellToken]
        do { tokens = try Tokenizer.tokenize(line) } catch let f as Tokenizer.Failure { throw ShellError.usage(f.message) }
        guard let first = tokens.first, !first.quoted, first.assignment == nil else {
            try await perform(try syntax.parse(line: line))
            return
        }
        let args = tokens.dropFirst().map(\.text)
        switch first.text.lowercased() {
        case "quit", "exit", "\\q":
            finished = true
        case "help", "?":
            console.print(help(args))
        case "methods":
            console.print(methodList(args.first))
        case "login":
            var login = args.first
            if login == nil { login = await console.readLine(prompt: "login: ") }
            guard let login, !login.isEmpty else { throw ShellError.usage("login LOGIN") }
            let env = ProcessInfo.processInfo.environment["KONTOR_PASSWORD"].flatMap { $0.isEmpty ? nil : $0 }
            var password = env
            if password == nil { password = await console.readSecret(prompt: "password for \(login): ") }
            guard let password, !password.isEmpty else { throw ShellError.usage("no password given") }
            try await self.login(login, password: password)
            console.print("logged in as \(user.map(Self.describe) ?? login) at \(address)")
        case "logout":
            await logout()
            console.print("logged out")
        case "whoami":
            let c = try await ensureConnection()
            let r = try await c.call("auth.whoami")
            console.print(ResultRenderer(width: console.width, style: console.style).render(r["user"] ?? r))
        case "call" where isRawCall(tokens):
            try await perform(try rawCall(line, tokens: tokens))
        default:
            try await perform(try syntax.parse(line: line))
        }
    }

    /// `call METHOD …` means the builtin unless the second word is a verb of the
    /// `call` family (`call ingest …`).
    func isRawCall(_ tokens: [ShellToken]) -> Bool {
        guard tokens.count >= 2 else { return true }
        let second = tokens[1].text
        if second.contains(".") || syntax.byName[second] != nil { return true }
        return syntax.resolve(["call", second]) == nil
    }

    /// `call METHOD {json}` / `call METHOD field=value …`: any method, even one the
    /// catalogue does not know.
    func rawCall(_ line: String, tokens: [ShellToken]) throws -> MethodCall {
        guard tokens.count >= 2 else { throw ShellError.usage("call METHOD [{json params}]") }
        let method = tokens[1].text
        if let brace = line.firstIndex(of: "{") {
            let (object, trailer) = try syntax.splitJSON(String(line[brace...]), method: method)
            var options = OutputOptions()
            _ = try syntax.takeOptions(try syntax.tokenize(trailer), into: &options, allowWords: false)
            return MethodCall(method: method, params: object, options: options)
        }
        if let info = syntax.byName[method] {
            var options = OutputOptions()
            let rest = try syntax.takeOptions(Array(tokens.dropFirst(2)), into: &options)
            return MethodCall(method: method, params: try syntax.bind(rest, to: info), options: options)
        }
        var options = OutputOptions()
        let rest = try syntax.takeOptions(Array(tokens.dropFirst(2)), into: &options)
        guard rest.isEmpty else { throw ShellError.usage("\(method) is not in the catalogue: give its params as a JSON object") }
        return MethodCall(method: method, params: .object([:]), options: options)
    }

    /// Sends a call and shows the result.
    public func perform(_ call: MethodCall) async throws {
        let c = try await ensureConnection()
        let result = try await c.call(call.method, call.params)
        if call.method == "auth.login" || call.method == "auth.resume" {
            user = result["user"]?.objectValue
            token = result["session_token"]?.stringValue ?? token
        }
        if call.method == "auth.logout" { user = nil; token = nil }
        show(result, for: call)
    }

    func show(_ result: JSONValue, for call: MethodCall) {
        if call.options.json {
            console.print(result.prettyText)
        } else {
            console.print(ResultRenderer(width: console.width, style: console.style).render(result))
        }
        let chart = ReportCharts.chart(method: call.method, params: call.params, result: result)
        if let chart, !call.options.json {
            console.print("")
            console.print(TerminalChartRenderer(width: console.width, style: console.style).render(chart))
        }
        if let given = call.options.svg {
            let path = NSString(string: given).expandingTildeInPath
            guard let chart else {
                console.printError("note: \(call.method) has no chart to write to \(path)")
                return
            }
            do {
                try SVGChartRenderer().render(chart).write(toFile: path, atomically: true, encoding: .utf8)
                if !call.options.json { console.print("chart written to \(path)") }
            } catch {
                console.printError("error: io: cannot write \(path): \(error.localizedDescription)")
            }
        }
    }

    // MARK: - Help

    /// `help`, `help user`, `help user get`, `help user.get`.
    public func help(_ words: [String]) -> String {
        if !words.isEmpty {
            if let (info, _) = syntax.resolve(words) { return methodHelp(info) }
            let family = syntax.methods(in: words.joined(separator: "."))
            if !family.isEmpty { return methodList(words.joined(separator: ".")) }
            return ErrorText.line(syntax.unknownMethodError(words))
        }
        return """
        Type a method as words, with fields as key=value:
          user list                          user get 1
          contact find 044 123 45 67         lead reject 42 reason=wrong_department "looking for accounting"
          report plan-fact 2026-11 by=manager --svg plan.svg
        Values: key=value is typed by the method (numbers, yes/no, amounts like 1500.50, lists a,b,c);
          key:=json sets JSON (phones:=["044 123 45 67"]); "quoted text" keeps spaces;
          bare words fill the method's main params; --json prints raw JSON.
        Commands:
          login [LOGIN]      log in; the session is kept (mode 0600) for kontor commands too
          logout             end the session            whoami        who is logged in
          methods [FAMILY]   list methods               help METHOD   a method's fields
          call METHOD {json} any method with JSON params
          quit               leave (or Ctrl-D); Ctrl-C cancels the line; Tab completes
        Families: \(syntax.families.joined(separator: ", "))
        """
    }

    func methodHelp(_ info: MethodInfo) -> String {
        var lines = ["\(info.name) — \(info.summary)", "usage: \(info.usage)"]
        let specs = info.specs
        if !specs.isEmpty {
            lines.append("fields:")
            let w = specs.map { TerminalText.width($0.name) }.max() ?? 0
            let tw = specs.map { TerminalText.width($0.type.description) }.max() ?? 0
            let pos = info.positionalParams
            for s in specs {
                var note = s.optional ? "optional" : "required"
                if let i = pos.firstIndex(of: s.name) {
                    note += i == pos.count - 1 && s.type.isTextLike ? ", the words from the \(Self.ordinal(i + 1)) on" : ", the \(Self.ordinal(i + 1)) word"
                }
                lines.append("  " + TerminalText.pad(s.name, to: w) + "  " + TerminalText.pad(s.type.description, to: tw) + "  " + note)
            }
        }
        return lines.joined(separator: "\n")
    }

    static func ordinal(_ n: Int) -> String {
        switch n {
        case 1: return "1st"
        case 2: return "2nd"
        case 3: return "3rd"
        default: return "\(n)th"
        }
    }

    /// The catalogue, or one family of it, one method a line.
    public func methodList(_ family: String?) -> String {
        let list = family.map { syntax.methods(in: $0) } ?? syntax.catalogue
        if list.isEmpty { return ErrorText.line(syntax.unknownMethodError([family ?? ""])) }
        let w = list.map { TerminalText.width($0.humanName) }.max() ?? 0
        return list.map { TerminalText.pad($0.humanName, to: w) + "  " + $0.summary }.joined(separator: "\n")
    }
}
