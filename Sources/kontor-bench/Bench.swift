import ArgumentParser
import Foundation
import KontorClient
import KontorDomain
import KontorProtocol
import NIOConcurrencyHelpers

/// `kontor-bench`: a load generator speaking the line protocol. It runs scenarios against
/// a live kontord, prints throughput and latency percentiles, reads the server's memory
/// (`/proc/<pid>/status` VmRSS when `--server-pid` is given), and checks the goals in a
/// JSON file. Exit status 1 when a goal is missed.
@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "kontor-bench",
                                                    abstract: "Load-test a kontord and check speed and memory goals.")

    @Option(help: "host:port of kontord.") var server = "127.0.0.1:7411"
    @Option(help: "Admin login to use.") var login = "admin"
    @Option(help: "Its password (or KONTOR_PASSWORD).") var password: String?
    @Option(name: .customLong("server-pid"), help: "kontord's pid, to read its memory.") var serverPID: Int32?
    @Option(help: "Goals file (JSON): scenario → {min_rps, max_p99_ms, max_rss_mb}.") var goals: String?
    @Option(help: "Seconds per scenario.") var duration: Double = 5
    @Option(help: "Comma-separated scenarios: ping, user_list, contact_create, contact_find, idle_connections.")
    var scenarios = "ping,user_list,contact_create,contact_find,idle_connections"

    func run() async throws {
        guard let colon = server.lastIndex(of: ":"), let port = Int(server[server.index(after: colon)...]) else {
            throw ValidationError("--server must be host:port")
        }
        let host = String(server[..<colon])
        let pw = password ?? ProcessInfo.processInfo.environment["KONTOR_PASSWORD"] ?? ""
        var goalTable: [String: JSONValue] = [:]
        if let goals {
            guard let data = FileManager.default.contents(atPath: goals), let v = try? JSONValue.parse(Array(data)), let o = v.objectValue else {
                throw ValidationError("cannot read goals from \(goals)")
            }
            goalTable = o
        }
        let ctx = BenchContext(host: host, port: port, login: login, password: pw, duration: duration, serverPID: serverPID)
        var failed: [String] = []
        print(BenchResult.row(["scenario", "conns", "req/s", "p50 ms", "p95 ms", "p99 ms", "rss MB"]))
        for name in scenarios.split(separator: ",").map(String.init) {
            let result: BenchResult
            switch name {
            case "ping": result = try await ctx.closedLoop(name: name, connections: 100) { c, _ in _ = try await c.call("ping") }
            case "user_list": result = try await ctx.closedLoop(name: name, connections: 50, login: true) { c, _ in _ = try await c.call("user.list") }
            case "contact_create":
                result = try await ctx.closedLoop(name: name, connections: 20, login: true) { c, n in
                    _ = try await c.call("contact.create", [
                        "full_name": .string("Bench Contact \(n)"),
                        "source": "phone",
                        "phones": [.string(BenchContext.phone(n))],
                    ])
                }
            case "contact_find":
                result = try await ctx.closedLoop(name: name, connections: 20, login: true) { c, n in
                    // Look numbers up in another written form than stored.
                    let digits = BenchContext.phone(n % max(1, ctx.created.withLockedValue { $0 })).filter(\.isNumber)
                    _ = try await c.call("contact.find", ["query": .string("0" + digits.suffix(9))])
                }
            case "idle_connections":
                result = try await ctx.idle(connections: 500)
            default:
                throw ValidationError("unknown scenario \(name)")
            }
            var r = result
            if let pid = serverPID { r.rssMB = name == "idle_connections" ? ctx.rssWhileIdle.withLockedValue { $0 } : BenchContext.rss(pid: pid) }
            print(r.line)
            if let g = goalTable[name]?.objectValue {
                failed += r.check(g)
            }
        }
        if !goalTable.isEmpty {
            if failed.isEmpty { print("all goals met") } else {
                for f in failed { print("GOAL MISSED: \(f)") }
                throw ExitCode(1)
            }
        }
    }
}

struct BenchResult {
    var name: String
    var connections: Int
    var requests: Int
    var errors: Int
    var seconds: Double
    var latencies: [Double]  // ms, sorted
    var rssMB: Double?

    /// Fixed-width columns: the first left-aligned in 18, the rest right-aligned in 9.
    static func row(_ cells: [String]) -> String {
        cells.enumerated().map { i, c in
            i == 0 ? c.padding(toLength: 18, withPad: " ", startingAt: 0) : String(repeating: " ", count: max(0, 9 - c.count)) + c
        }.joined(separator: " ")
    }

    var rps: Double { seconds > 0 ? Double(requests) / seconds : 0 }

    func percentile(_ p: Double) -> Double {
        guard !latencies.isEmpty else { return 0 }
        let i = min(latencies.count - 1, Int((Double(latencies.count) * p).rounded(.up)) - 1)
        return latencies[max(0, i)]
    }

    var line: String {
        let rss = rssMB.map { String(format: "%.0f", $0) } ?? "-"
        var s = BenchResult.row([name, "\(connections)", String(format: "%.0f", rps), String(format: "%.2f", percentile(0.5)),
                                 String(format: "%.2f", percentile(0.95)), String(format: "%.2f", percentile(0.99)), rss])
        if errors > 0 { s += "  errors: \(errors)" }
        return s
    }

    /// Goals: `min_rps`, `max_p99_ms`, `max_rss_mb`, `max_errors` (default 0).
    func check(_ g: [String: JSONValue]) -> [String] {
        var out: [String] = []
        func num(_ k: String) -> Double? { if case .number(let n)? = g[k] { return Double(n) } else { return nil } }
        if let v = num("min_rps"), rps < v { out.append("\(name): \(Int(rps)) req/s < \(Int(v))") }
        if let v = num("max_p99_ms"), percentile(0.99) > v { out.append("\(name): p99 \(percentile(0.99)) ms > \(v)") }
        if let v = num("max_rss_mb"), let r = rssMB, r > v { out.append("\(name): RSS \(Int(r)) MB > \(Int(v))") }
        if errors > Int(num("max_errors") ?? 0) { out.append("\(name): \(errors) errors") }
        return out
    }
}

final class BenchContext: Sendable {
    let host: String
    let port: Int
    let login: String
    let password: String
    let duration: Double
    let created = NIOLockedValueBox(0)
    let run = UInt32.random(in: 0...9_999)
    let serverPID: Int32?
    /// kontord's memory measured while the idle connections were open.
    let rssWhileIdle = NIOLockedValueBox<Double?>(nil)

    init(host: String, port: Int, login: String, password: String, duration: Double, serverPID: Int32?) {
        self.host = host; self.port = port; self.login = login; self.password = password; self.duration = duration
        self.serverPID = serverPID
    }

    /// A distinct, valid Ukrainian mobile number for sequence number `n`.
    static func phone(_ n: Int) -> String {
        let body = String(format: "%07d", n % 10_000_000)
        return "+38050\(body)"
    }

    func connect(login: Bool) async throws -> KontorConnection {
        let c = try await KontorConnection.connect(host: host, port: port)
        if login { _ = try await c.call("auth.login", ["login": .string(self.login), "password": .string(password)]) }
        return c
    }

    /// `connections` clients each send one request, wait for it, send the next, for `duration`.
    func closedLoop(name: String, connections: Int, login: Bool = false,
                    _ body: @escaping @Sendable (KontorConnection, Int) async throws -> Void) async throws -> BenchResult {
        var conns: [KontorConnection] = []
        for _ in 0..<connections { conns.append(try await connect(login: login)) }
        let counter = NIOLockedValueBox(name == "contact_create" ? Int(run) * 100_000 : 0)
        let deadline = Date().addingTimeInterval(duration)
        let started = Date()
        let results = try await withThrowingTaskGroup(of: ([Double], Int).self) { g in
            for c in conns {
                g.addTask {
                    var lat: [Double] = []
                    var errors = 0
                    while Date() < deadline {
                        let n = counter.withLockedValue { $0 += 1; return $0 }
                        let t = DispatchTime.now().uptimeNanoseconds
                        do { try await body(c, n) } catch { errors += 1 }
                        lat.append(Double(DispatchTime.now().uptimeNanoseconds - t) / 1_000_000)
                    }
                    return (lat, errors)
                }
            }
            var all: [Double] = []
            var errors = 0
            for try await (l, e) in g { all += l; errors += e }
            return (all, errors)
        }
        let seconds = Date().timeIntervalSince(started)
        for c in conns { await c.close() }
        if name == "contact_create" { created.withLockedValue { $0 = results.0.count } }
        return BenchResult(name: name, connections: connections, requests: results.0.count, errors: results.1,
                           seconds: seconds, latencies: results.0.sorted(), rssMB: nil)
    }

    /// Opens `connections` idle logged-in connections, pings each once, keeps them open
    /// while memory is read.
    func idle(connections: Int) async throws -> BenchResult {
        var conns: [KontorConnection] = []
        var lat: [Double] = []
        let started = Date()
        for _ in 0..<connections {
            let c = try await connect(login: false)
            let t = DispatchTime.now().uptimeNanoseconds
            _ = try await c.call("ping")
            lat.append(Double(DispatchTime.now().uptimeNanoseconds - t) / 1_000_000)
            conns.append(c)
        }
        let seconds = Date().timeIntervalSince(started)
        try await Task.sleep(nanoseconds: 500_000_000)
        rssWhileIdle.withLockedValue { $0 = serverPID.flatMap(BenchContext.rss) }
        for c in conns { await c.close() }
        return BenchResult(name: "idle_connections", connections: connections, requests: connections, errors: 0,
                           seconds: seconds, latencies: lat.sorted(), rssMB: nil)
    }

    /// Resident memory of a process in MiB (Linux `/proc/<pid>/status`, VmRSS in kB).
    static func rss(pid: Int32) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let kb = line.split(separator: " ").compactMap { Double($0) }.first
            return kb.map { $0 / 1024 }
        }
        return nil
    }
}
