import Foundation
import KontorBridge
import KontorProtocol
import KontorTestSupport
import Testing

/// The configuration file, the environment, `status`, and the CLI binary.
@Suite struct ConfigurationTests {
    static let file = """
    {
      "kontord": {"host": "10.0.0.5", "port": 7412, "token_file": "token"},
      "spool_dir": "spool",
      "time_zone": "Europe/Warsaw",
      "http": {"host": "0.0.0.0", "port": 8781, "public_url": "https://bridge.example.ua", "max_body_bytes": 65536},
      "numbers": {"ours": ["+380445550100", "044 555 01 01"], "extension_max_digits": 4, "extension_patterns": ["7[0-9]{3}"]},
      "binotel": {"secret": "binotel-secret-0123456789"},
      "twilio": {"auth_token": "twilio-auth-token"},
      "telegram": {"secret_token": "telegram-secret-0123456789", "bot_username": "kontor_bot"},
      "viber": {"auth_token": "viber-auth-token", "bot_name": "Kontor"},
      "forms": {"site": {"secret": "form-secret-0123456789ab", "message": ["Питання"], "id": ["data.uuid"]}},
      "asterisk": [{"path": "/var/log/asterisk/cdr-csv/Master.csv", "layout": ["clid", "src", "dst", "start", "uniqueid"], "follow": true}],
      "mail": {"path": "/home/sales/Maildir", "recipient": "sales@firma.ua"},
      "sender": {"backoff_initial_ms": 100, "backoff_max_ms": 5000}
    }
    """

    @Test func fileAndEnvironment() throws {
        let dir = try temporaryDirectory("config")
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data(Self.file.utf8).write(to: dir.appendingPathComponent("bridge.json"))
        try Data("kr_from_file\n".utf8).write(to: dir.appendingPathComponent("token"))
        let c = try BridgeConfiguration.load(file: dir.appendingPathComponent("bridge.json").path, environment: [:])
        #expect(c.kontordHost == "10.0.0.5")
        #expect(c.kontordPort == 7412)
        #expect(c.token == "kr_from_file")
        #expect(c.spoolDirectory.path == dir.appendingPathComponent("spool").path)
        #expect(c.httpPort == 8781)
        #expect(c.plan.isOurLine("0445550101"))
        #expect(c.plan.isExtension("7001"))
        #expect(!c.plan.isExtension("70011"))
        #expect(c.forms["site"]?.mapping.message == ["Питання"])
        #expect(c.asterisk.first?.layout == .custom(["clid", "src", "dst", "start", "uniqueid"]))
        #expect(c.mail?.recipient == "sales@firma.ua")
        #expect(c.sender.backoffMax == .milliseconds(5000))
        #expect(c.cdrOptions(for: c.asterisk[0]).timeZone.identifier == "Europe/Warsaw")
        let env = try BridgeConfiguration.load(file: dir.appendingPathComponent("bridge.json").path, environment: [
            "KONTOR_BRIDGE_TOKEN": "kr_env", "KONTOR_BRIDGE_KONTORD_PORT": "9000", "KONTOR_BRIDGE_OUR_NUMBERS": "+380501112233, 0445550199",
            "KONTOR_BRIDGE_FORM_LANDING_SECRET": "landing-secret-0123456789", "KONTOR_BRIDGE_SPOOL_DIR": "/tmp/x",
        ])
        #expect(env.token == "kr_env")
        #expect(env.kontordPort == 9000)
        #expect(env.plan.isOurLine("050 111 22 33"))
        #expect(env.plan.isExtension("7001"))
        #expect(env.forms["landing"]?.secret == "landing-secret-0123456789")
        #expect(env.spoolDirectory.path == "/tmp/x")
    }

    @Test func mistakesAreNamed() throws {
        func error(_ json: String) -> String {
            var c = BridgeConfiguration()
            do {
                try c.apply(json: try JSONValue.parse(json), base: URL(fileURLWithPath: "/"))
                return "no error"
            } catch { return "\(error)" }
        }
        #expect(error(#"{"binotl": {"secret": "x"}}"#).contains("unknown key binotl"))
        #expect(error(#"{"binotel": {"secret": "short"}}"#).contains("binotel.secret is shorter"))
        #expect(error(#"{"http": {"port": "80"}}"#).contains("http.port must be an integer"))
        #expect(error(#"{"time_zone": "Mars/Olympus"}"#).contains("unknown zone"))
        #expect(error(#"{"numbers": {"extension_patterns": ["("]}}"#).contains("not a regular expression"))
        #expect(error(#"{"forms": {"site": {"secret": "form-secret-0123456789ab", "colour": 1}}}"#).contains("forms.site.colour"))
    }

    @Test func statusShowsDepthErrorsAndCounters() throws {
        let dir = try temporaryDirectory("status")
        defer { try? FileManager.default.removeItem(at: dir) }
        let spool = try Spool(directory: dir), state = try StateStore(directory: dir)
        try spool.appendBlocking([SpoolEvent(source: "binotel", method: "call.ingest", params: [:], key: "1")])
        state.count("binotel", \.spooled)
        state.count("viber", \.rejected, 2)
        state.recordError("cannot connect: 127.0.0.1:7411")
        let text = BridgeStatus.text(spool: spool, state: state)
        #expect(text.contains("pending:      1 event(s)"))
        #expect(text.contains("cannot connect: 127.0.0.1:7411"))
        #expect(text.contains("binotel"))
        let json = BridgeStatus.json(spool: spool, state: state)
        #expect(json["pending"] == 1)
        #expect(json["sources"]?["viber"]?["rejected"] == 2)
    }

    /// The real binary: `import-cdr --dry-run`, `import-contacts --parse-only`, `status`.
    @Test func commandLine() throws {
        let exe = TestEnvironment.productsDirectory.appendingPathComponent("kontor-bridge")
        guard FileManager.default.isExecutableFile(atPath: exe.path) else {
            Issue.record("kontor-bridge is not built at \(exe.path)")
            return
        }
        let dir = try temporaryDirectory("cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        func run(_ args: [String]) throws -> (Int32, String) {
            let p = Process()
            p.executableURL = exe
            p.arguments = args
            p.environment = ["KONTOR_BRIDGE_SPOOL_DIR": dir.path, "PATH": "/usr/bin:/bin"]
            let out = Pipe()
            p.standardOutput = out
            p.standardError = Pipe()
            try p.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return (p.terminationStatus, String(decoding: data, as: UTF8.self))
        }
        let (s1, o1) = try run(["import-cdr", sampleURL("telephony/asterisk_Master_cdr_custom_pjsip.csv").path, "--dry-run"])
        #expect(s1 == 0)
        #expect(o1.contains("14 call record(s), 0 refused (dry run)"))
        let (s2, o2) = try run(["import-contacts", sampleURL("contacts/google_contacts_csv_cyrillic_multivalue_phone.csv").path, "--parse-only"])
        #expect(s2 == 0)
        #expect(o2.contains("2 row(s); encoding utf-8, delimiter ,"))
        #expect(o2.contains("line 2: contact name=Пётр phones=mobile:+7 916 000-11-22|mobile:8 903 000 33 44"))
        let (s3, o3) = try run(["status"])
        #expect(s3 == 0)
        #expect(o3.contains("pending:      0 event(s)"))
        // import-cdr without a token: the calls stay spooled, the command says why.
        let (s4, _) = try run(["import-cdr", sampleURL("telephony/asterisk_Master_cdr_custom_pjsip.csv").path])
        #expect(s4 != 0)
        let (_, o5) = try run(["status", "--json"])
        #expect(o5.contains("\"pending\": 14"))
    }
}
