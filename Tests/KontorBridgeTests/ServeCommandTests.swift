import Foundation
import KontorBridge
import KontorClient
import KontorProtocol
import KontorTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `kontor-bridge serve` and `kontor-bridge status` through the built binary, as an
/// operator runs them: a configuration file with a token file, real HTTP from a
/// "provider", SIGTERM, a kontord that is down for a while.
@Suite(.serialized) struct ServeCommandTests {
    static let binotelSecret = "binotel-secret-0123456789"

    /// Starts `serve` and waits for the port it listens on (from its log line).
    static func serve(_ exe: URL, config: URL, environment: [String: String], in dir: URL) async throws -> (Spawned, Int) {
        let p = try Spawned(exe, ["serve", "--config", config.path], environment: environment, in: dir)
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let log = p.stderr
            if let r = log.range(of: #"address=[0-9.]+:([0-9]+)"#, options: .regularExpression) {
                let text = String(log[r])
                if let port = Int(text.split(separator: ":").last ?? "") { return (p, port) }
            }
            if let status = await p.wait(seconds: 0) {
                throw PayloadError("serve exited with \(status): \(p.stderr)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw PayloadError("serve did not start listening: \(p.stderr)")
    }

    /// The Binotel JSON sample as another call (another id, another client), missed.
    static func otherBinotelCall(_ id: String, number: String) throws -> [UInt8] {
        guard case .object(var root) = try JSONValue.parse(sample("telephony/binotel_apiCallCompleted_answered.json")),
              case .object(var d)? = root["callDetails"] else { throw PayloadError("binotel sample shape") }
        d["callID"] = .string(id)
        d["generalCallID"] = .string(id)
        d["externalNumber"] = .string(number)
        d["billsec"] = "0"
        d["disposition"] = "NO ANSWER"
        root["callDetails"] = .object(d)
        return Array(JSONValue.object(root).jsonText.utf8)
    }

    /// The row of `source` in `status`'s table, as its cells.
    static func row(_ status: String, _ source: String) -> [String] {
        status.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }.first { $0.first == source } ?? []
    }

    @Test func serveStatusAndSIGTERMThroughTheBinary() async throws {
        guard let exe = bridgeExecutable() else { return }
        let w = try await BridgeWorld.start()
        do {
            let tokenFile = w.dir.appendingPathComponent("token")
            FileManager.default.createFile(atPath: tokenFile.path, contents: Data((w.token + "\n").utf8), attributes: [.posixPermissions: 0o600])
            let config = w.dir.appendingPathComponent("bridge.json")
            let spoolDir = w.dir.appendingPathComponent("spool")
            try Data("""
                {"kontord": {"host": "127.0.0.1", "port": \(w.server.port), "token_file": "token"},
                 "spool_dir": "spool",
                 "http": {"host": "127.0.0.1", "port": 0},
                 "binotel": {"secret": "\(Self.binotelSecret)"},
                 "sender": {"backoff_initial_ms": 20, "backoff_max_ms": 200}}
                """.utf8).write(to: config)
            let environment = ["PATH": "/usr/bin:/bin"]

            // 1. serve, a Binotel webhook over real HTTP, the lead in kontord.
            var (bridge, port) = try await Self.serve(exe, config: config, environment: environment, in: w.dir)
            let r = try await post(port: port, path: "/hooks/binotel/\(Self.binotelSecret)",
                                   body: try sample("telephony/binotel_apiCallCompleted_answered.form.txt"),
                                   headers: ["Content-Type": "application/x-www-form-urlencoded"])
            #expect(r.status == 200)
            #expect(r.body == #"{"status":"success"}"#)
            var leads: [JSONValue] = []
            let deadline = Date().addingTimeInterval(60)
            while leads.isEmpty, Date() < deadline {
                leads = try await w.admin.call("lead.list", [:])["leads"]?.items ?? []
                if leads.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
            }
            try #require(leads.count == 1, "the lead appears")
            #expect(leads[0]["status"] == "identification")
            #expect(leads[0]["source"] == "phone")
            #expect(leads[0]["owner_id"]?.int64Value == w.manager.id)

            // SIGTERM: a clean stop, the spool empty, the sender lock free.
            bridge.signal(SIGTERM)
            #expect(await bridge.wait(seconds: 20) == 0, "\(bridge.stderr)")
            let spool = try Spool(directory: spoolDir), state = try StateStore(directory: spoolDir)
            #expect(try spool.depth() == 0)
            #expect(state.read().sources["binotel"]?.spooled == 1)
            #expect(state.read().sources["binotel"]?.delivered == 1)
            try await SpoolSender(spool: spool, state: state, endpoint: { ("127.0.0.1", 1) }, token: "unused",
                                  configuration: BridgeWorld.fast, logger: TestEnvironment.logger).drain()  // would throw Busy if held
            for secret in [w.token, Self.binotelSecret] {
                #expect(!bridge.stderr.contains(secret), "the log never shows a secret")
            }

            // 2. kontord unreachable (nothing listens on the port): webhooks are still
            //    taken; SIGTERM leaves them in the spool.
            let down = try LocalCluster.freePort()
            (bridge, port) = try await Self.serve(exe, config: config, environment: environment.merging(["KONTOR_BRIDGE_KONTORD_PORT": String(down)]) { $1 },
                                                  in: w.dir)
            for (i, number) in ["0675550201", "0675550202"].enumerated() {
                let r = try await post(port: port, path: "/hooks/binotel/\(Self.binotelSecret)", body: try Self.otherBinotelCall("7000\(i)", number: number),
                                       headers: ["Content-Type": "application/json"])
                #expect(r.status == 200)
            }
            let bad = try await post(port: port, path: "/hooks/binotel/not-the-secret-at-all", body: [], headers: [:])
            #expect(bad.status == 403)
            try await eventually("the sender records that kontord is unreachable", seconds: 60) {
                state.read().lastError?.contains("cannot connect") == true
            }
            bridge.signal(SIGTERM)
            #expect(await bridge.wait(seconds: 20) == 0, "\(bridge.stderr)")
            #expect(try spool.depth() == 2)
            #expect(try spool.pending().map(\.key) == ["70000", "70001"])

            // 3. status: spool depth, last error, per-source counters.
            let text = try await Spawned.run(exe, ["status", "--config", config.path], environment: environment, in: w.dir)
            #expect(text.status == 0, "\(text.errors)")
            #expect(text.output.contains("spool:        \(spoolDir.path)"), "\(text.output)")
            #expect(text.output.contains("pending:      2 event(s) (oldest spooled "), "\(text.output)")
            #expect(text.output.contains("dead letters: 0"))
            let lastError = text.output.split(separator: "\n").first { $0.hasPrefix("last error:") }.map(String.init) ?? ""
            #expect(!lastError.isEmpty && !lastError.hasSuffix("none"), "\(text.output)")
            #expect(lastError.contains("cannot connect: 127.0.0.1:\(down)"), "the error names the address tried: \(lastError)")
            #expect(!text.output.contains(w.token) && !text.output.contains(Self.binotelSecret))
            #expect(text.output.contains("source     spooled  delivered  duplicates  dead  rejected  ignored") ||
                    text.output.contains("source   spooled  delivered  duplicates  dead  rejected  ignored"), "\(text.output)")
            #expect(Self.row(text.output, "binotel") == ["binotel", "3", "1", "0", "0", "1", "0"], "\(text.output)")
            let json = try await Spawned.run(exe, ["status", "--json", "--config", config.path], environment: environment, in: w.dir)
            #expect(json.status == 0)
            let v = try JSONValue.parse(Array(json.output.utf8))
            #expect(v["pending"]?.int == 2)
            #expect(v["dead_letters"]?.int == 0)
            #expect(v["oldest_pending_at"]?.stringValue != nil)
            #expect(v["last_error"]?.stringValue?.contains("cannot connect: 127.0.0.1:\(down)") == true, "\(json.output)")
            #expect(v["sources"]?["binotel"]?["spooled"]?.int == 3)
            #expect(v["sources"]?["binotel"]?["rejected"]?.int == 1)

            // An import while kontord is still unreachable gives up waiting and leaves its
            // calls in the spool.
            let imported = try await Spawned.run(exe, ["import-cdr", sampleURL("telephony/asterisk_Master_cdr_custom_pjsip.csv").path,
                                                       "--config", config.path, "--deliver-timeout", "1"],
                                                 environment: environment.merging(["KONTOR_BRIDGE_KONTORD_PORT": String(down)]) { $1 }, in: w.dir)
            #expect(imported.status == 0, "\(imported.errors)")
            #expect(imported.output.contains("14 call record(s) spooled, 0 refused"), "\(imported.output)")
            #expect(imported.output.contains("not delivered within 1 s"), "\(imported.output)")
            #expect(imported.output.contains("16 event(s) stay in the spool"), "\(imported.output)")

            // 4. serve again with kontord back: what waited is delivered, once.
            (bridge, port) = try await Self.serve(exe, config: config, environment: environment, in: w.dir)
            do {
                try await eventually("the spool drains", seconds: 90) { try spool.depth() == 0 }
            } catch {
                Issue.record("serve's log: \(bridge.stderr)")
                throw error
            }
            bridge.signal(SIGTERM)
            #expect(await bridge.wait(seconds: 20) == 0)
            #expect(try await w.admin.call("lead.list", [:])["total"]?.int == 3)
            #expect(try await w.counts()["call_legs"] == 3 + 14)
            let after = try await Spawned.run(exe, ["status", "--config", config.path], environment: environment, in: w.dir)
            #expect(after.output.contains("pending:      0 event(s)\n"), "\(after.output)")
            #expect(Self.row(after.output, "binotel") == ["binotel", "3", "3", "0", "0", "1", "0"], "\(after.output)")
            #expect(Self.row(after.output, "asterisk") == ["asterisk", "14", "14", "0", "0", "0", "0"], "\(after.output)")
            #expect(after.output.contains("last delivery: 20"), "\(after.output)")
        } catch {
            Issue.record(error)
        }
        await w.stop()
    }
}
