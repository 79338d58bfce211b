import Foundation
import KontorBridge
import KontorProtocol
import KontorTestSupport
import Testing

/// What the phase-2 review of the bridge fixed: payloads that crashed or stalled it,
/// unbounded reads, configuration values that made it spin, and the optional fields the
/// parsers now fill.
@Suite struct ReviewTests {
    // MARK: absurd numbers are refused, never a crash

    func binotel(_ change: (inout [String: JSONValue]) -> Void) throws -> [UInt8] {
        guard case .object(var root) = try JSONValue.parse(sample("telephony/binotel_apiCallCompleted_answered.json")),
              case .object(var d)? = root["callDetails"] else { throw PayloadError("shape") }
        change(&d)
        root["callDetails"] = .object(d)
        return Array(JSONValue.object(root).jsonText.utf8)
    }

    @Test func absurdNumbersAndTimesAreRefusedNotFatal() throws {
        // Int.max seconds used to overflow `waitsec + billsec` (a trap: the process died).
        #expect(throws: PayloadError.self) { try BinotelParser.parse(body: binotel { $0["billsec"] = "9223372036854775807" }, contentType: nil) }
        #expect(throws: PayloadError.self) { try BinotelParser.parse(body: binotel { $0["waitsec"] = "-5" }, contentType: nil) }
        // A time past the year 9999 used to trap when formatted as RFC 3339.
        #expect(throws: PayloadError.self) { try BinotelParser.parse(body: binotel { $0["startTime"] = "1e300" }, contentType: nil) }
        #expect(throws: PayloadError.self) { try BinotelParser.parse(body: binotel { $0["startTime"] = "9223372036854775807" }, contentType: nil) }
        let update: JSONValue = ["update_id": 1, "message": ["message_id": 1, "chat": ["id": 5], "date": .number("100000000000000000000"), "text": "x"]]
        #expect(throws: PayloadError.self) { try TelegramParser.parse(update: update, botUsername: nil) }
        let viber = #"{"event":"message","timestamp":9223372036854775807,"message_token":1,"sender":{"id":"a"},"message":{"type":"text","text":"x"}}"#
        #expect(throws: PayloadError.self) { try ViberParser.parse(body: Array(viber.utf8), botName: nil) }
        var pairs = FormEncoding.pairs(try sample("telephony/twilio_status_callback_completed.form.txt"))
        pairs = pairs.filter { $0.key != "CallDuration" } + [("CallDuration", "99999999999999999999")]
        #expect(throws: PayloadError.self) { try TwilioParser.parse(pairs: pairs, plan: NumberPlan(), receivedAt: Date()) }
        #expect(throws: PayloadError.self) {
            try GenericCallParser.parse(body: Array(#"{"id":"x","started_at":1764404100,"talk_seconds":1e12}"#.utf8), plan: NumberPlan())
        }
        #expect(throws: PayloadError.self) {
            try GenericCallParser.parse(body: Array(#"{"id":"x","started_at":1764404100,"provider":"My PBX!"}"#.utf8), plan: NumberPlan())
        }
        #expect(Times.rfc2822("Sun, 25 Mar 99999999999999 09:53:19 +0000") == nil)
        #expect(Times.rfc2822("Sun, 25 Mar 2018 99:53:19 +0000") == nil)
        // A CDR with a duration of Int.min: one refused record, the file goes on.
        let cdr = #""x","0671234567","101","d","c","dc","Dial","","2026-03-02 10:00:00","","2026-03-02 10:00:20","-9223372036854775808","0","NO ANSWER","DOCUMENTATION","","1.1","",1"# + "\n"
            + #""x","0671234567","101","d","c","dc","Dial","","2026-03-02 10:00:00","","2026-03-02 10:00:20","20","0","NO ANSWER","DOCUMENTATION","","1.2","",2"# + "\n"
        let batch = AsteriskCDR.parse(file: Array(cdr.utf8), options: .init(layout: .custom(AsteriskCDR.customSampleColumns), timeZone: kyiv))
        #expect(batch.problems.count == 1)
        #expect(batch.calls.map(\.externalID) == ["1.2#2"])
    }

    // MARK: PHP bracket keys

    @Test func bracketKeysAreBoundedAndLinear() {
        let deep = "a" + String(repeating: "[x]", count: 70) + "=1&b=2"
        #expect(FormEncoding.phpTree(FormEncoding.pairs(Array(deep.utf8))) == ["b": "2"], "nesting past 64 levels is dropped, as in PHP")
        let many = (0..<30_000).map { "a[]=\($0)" }.joined(separator: "&")
        let started = Date()
        let tree = FormEncoding.phpTree(FormEncoding.pairs(Array(many.utf8)))
        #expect(Date().timeIntervalSince(started) < 5, "one pass, not a copy per key")
        #expect(tree["a"]?["29999"] == "29999")
        #expect(tree["a"]?.objectValue?.count == 30_000)
        // PHP's numbering: after an explicit index, [] continues from it.
        #expect(FormEncoding.phpTree(FormEncoding.pairs(Array("a[5]=x&a[]=y&a[]=z".utf8))) == ["a": ["5": "x", "6": "y", "7": "z"]])
    }

    // MARK: CDR follow mode

    /// After a power loss a log file can end in a block of NUL bytes with no line break.
    /// The follower used to wait for that "record" to end, holding it in memory, and then
    /// glued the next real CDR to it (one call lost); now a record still open after
    /// 64 KiB is refused up to its line break (here: the whole block).
    @Test func followSkipsARecordThatNeverEnds() throws {
        let dir = try temporaryDirectory("cdr")
        defer { try? FileManager.default.removeItem(at: dir) }
        let spool = try Spool(directory: dir.appendingPathComponent("spool")), state = try StateStore(directory: dir.appendingPathComponent("spool"))
        let file = dir.appendingPathComponent("Master.csv")
        try Data(FilesTests.lines[0].utf8).write(to: file)
        let follower = CDRFollower(path: file.path, options: .init(layout: .auto, timeZone: kyiv), spool: spool, state: state,
                                   logger: TestEnvironment.logger)
        #expect(try follower.poll() == 1)
        let h = try FileHandle(forWritingTo: file)
        try h.seekToEnd()
        try h.write(contentsOf: Data(repeating: 0, count: 80 << 10))
        #expect(try follower.poll() == 0)
        #expect(state.read().sources["asterisk"]?.rejected == 1)
        try h.write(contentsOf: Data(FilesTests.lines[1...3].joined().utf8))
        try h.close()
        #expect(try follower.poll() == 3, "the records after the garbage")
        #expect(try spool.pending().map(\.key) == ["1690325492.2#2", "1690325531.5#4", "1690325659.8#6", "1690327106.0#0"])
    }

    @Test func aHugeMailFileIsQuarantinedUnread() throws {
        let dir = try temporaryDirectory("eml")
        defer { try? FileManager.default.removeItem(at: dir) }
        let huge = dir.appendingPathComponent("huge.eml")
        FileManager.default.createFile(atPath: huge.path, contents: nil)
        let h = try FileHandle(forWritingTo: huge)
        try h.truncate(atOffset: UInt64(MailFolder.maxMessageBytes + 1))  // sparse: nothing is written
        try h.close()
        let spool = try Spool(directory: dir.appendingPathComponent(".spool")), state = try StateStore(directory: dir.appendingPathComponent(".spool"))
        let summary = try MailFolder(directory: dir, spool: spool, state: state, logger: TestEnvironment.logger).runOnce()
        #expect(summary.quarantined == 1)
        #expect(summary.problems.first?.contains("larger than") == true)
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("quarantine/huge.eml.reason.txt").path))
    }

    // MARK: two bridges on one spool

    /// A second `serve` on the same spool used to stop at once (its sender threw
    /// `Busy`, ending the service group); now its sender waits and takes over.
    @Test func aSecondSenderWaitsAndTakesOver() async throws {
        let server = try await TestServer.start()
        let dir = try temporaryDirectory("two")
        do {
            let token = try await DeliveryTests.robotToken(server)
            let spool = try Spool(directory: dir), state = try StateStore(directory: dir)
            let port = server.port
            func sender() -> SpoolSender {
                SpoolSender(spool: spool, state: state, endpoint: { ("127.0.0.1", port) }, token: token, configuration: BridgeWorld.fast,
                            logger: TestEnvironment.logger)
            }
            let first = Task { try await sender().run() }
            try await Task.sleep(for: .milliseconds(200))
            let second = Task { try await sender().runWhenFree(retry: .milliseconds(50)) }
            try await Task.sleep(for: .milliseconds(200))
            first.cancel()
            _ = try? await first.value
            try spool.appendBlocking([try DeliveryTests.callEvent("taken-over")])
            try await eventually("the second sender delivers") { try spool.depth() == 0 }
            second.cancel()
            _ = try? await second.value
            #expect(try await DeliveryTests.legsByID(server) == ["taken-over": 1])
        } catch {
            Issue.record(error)
        }
        try? FileManager.default.removeItem(at: dir)
        await server.stop()
    }

    // MARK: HTML and MIME that would take forever

    @Test func hostileHTMLAndNestingStayCheap() throws {
        let started = Date()
        #expect(HTMLText.toText(String(repeating: "<", count: 200_000)).count == 200_000)
        _ = HTMLText.toText(String(repeating: "<", count: 200_000) + ">")
        _ = HTMLText.toText(String(repeating: "<a", count: 100_000))
        #expect(Date().timeIntervalSince(started) < 5, "linear, not quadratic")
        var raw = "From: a@b.ua\r\nSubject: deep\r\nMIME-Version: 1.0\r\n"
        for i in 0..<200 { raw += "Content-Type: multipart/mixed; boundary=\"b\(i)\"\r\n\r\n--b\(i)\r\n" }
        raw += "Content-Type: text/plain\r\n\r\nhello\r\n"
        _ = try EmailParser.parse(raw: Array(raw.utf8), fallbackDate: Date())  // no crash
    }

    // MARK: configuration

    @Test func configurationRefusesValuesThatWouldSpin() throws {
        func load(_ json: String) throws -> BridgeConfiguration {
            var c = BridgeConfiguration()
            try c.apply(json: try JSONValue.parse(Array(json.utf8)), base: URL(fileURLWithPath: "/tmp"))
            return c
        }
        #expect(throws: ConfigurationError.self) { try load(#"{"sender": {"backoff_initial_ms": 0}}"#) }
        #expect(throws: ConfigurationError.self) { try load(#"{"http": {"port": 70000}}"#) }
        #expect(throws: ConfigurationError.self) { try load(#"{"asterisk": [{"path": "x.csv", "poll_ms": 0}]}"#) }
        #expect(throws: ConfigurationError.self) { try load(#"{"mail": {"path": "m", "poll_seconds": -1}}"#) }
        #expect(try load(#"{"sender": {"backoff_initial_ms": 50}}"#).sender.backoffInitial == .milliseconds(50))
        var c = BridgeConfiguration()
        #expect(throws: ConfigurationError.self) { try c.apply(environment: ["KONTOR_BRIDGE_BINOTEL_SECRET": "short"]) }
        #expect(throws: ConfigurationError.self) { try c.apply(environment: ["KONTOR_BRIDGE_FORM_SITE_SECRET": "short"]) }
        do {
            try c.apply(environment: ["KONTOR_BRIDGE_PBX_SECRET": "tiny"])
        } catch let e as ConfigurationError {
            #expect(!e.description.contains("tiny"), "the message never shows the secret")
        }
    }

    // MARK: fitting events to kontord

    @Test func eventsAreCutToKontordsLimitsAndCarryNoNulls() throws {
        let text = String(repeating: "ї", count: EventShaping.maxTextCharacters + 10)
        let m = IngestMethods.MessageIngestParams(externalID: "m", channel: .email, sender: .init(email: "a@b.ua"), text: text,
                                                  receivedAt: Date(), raw: ["small": "kept", "big": .string(String(repeating: "x", count: 300_000))])
        let e = try SpoolEvent.message(m, source: "email")
        #expect(e.params["text"]?.stringValue?.hasSuffix("[… 10 more characters not kept]") == true)
        #expect(e.params["raw"]?["small"] == "kept")
        #expect(e.params["raw"]?["big"]?.stringValue?.hasPrefix("[dropped by kontor-bridge: 300002 bytes]") == true)
        #expect((e.params["raw"]?.jsonText.utf8.count ?? 0) <= IngestMethods.rawMaxBytes)
        #expect(e.params["subject"] == nil && e.params["edit_of"] == nil && e.params["sender"]?["name"] == nil, "absent, not null")
        // A raw that is not an object, or whose members are all small, is replaced whole.
        let array = IngestMethods.MessageIngestParams(externalID: "n", channel: .email, sender: .init(), text: "", receivedAt: Date(),
                                                      raw: .array((0..<60_000).map { .number(String($0)) }))
        let f = try SpoolEvent.message(array, source: "email")
        #expect(f.params["raw"]?["bytes"] != nil)
        #expect(f.params["raw"]?["sha256"]?.stringValue?.count == 64)
        // degrade: only the newer optional fields.
        #expect(EventShaping.degrade(["remote_name": "x", "a": 1], field: "remote_name") == ["a": 1])
        #expect(EventShaping.degrade(["sender": ["company": "c", "email": "e"]], field: "sender.company") == ["sender": ["email": "e"]])
        #expect(EventShaping.degrade(["attachments": [["name": "a"]]], field: "attachments[0].size") == ["attachments": [["name": "a", "size": 0]]])
        #expect(EventShaping.degrade(["provider": "x"], field: "provider") == nil)
        #expect(EventShaping.degrade(["a": 1], field: "remote_name") == nil)
    }

    // MARK: the optional fields the parsers fill

    @Test func parsersFillTheNewOptionalFields() throws {
        // Asterisk: the caller id name of an inbound call.
        let standard = AsteriskCDR.parse(file: AsteriskTests.standardFile(),
                                         options: .init(timeZone: kyiv, plan: NumberPlan(ourNumbers: ["+380445550100"])))
        #expect(standard.calls.first { $0.externalID == "1772438400.16#16" }?.remoteName == "Клієнт")
        #expect(standard.calls.first { $0.externalID == "1772442000.30#30" }?.remoteName == nil, "U+FFFD is no name")
        let internalCall = AsteriskCDR.parse(file: try sample("telephony/asterisk_Master_cdr_custom_pjsip.csv"), options: .init(timeZone: kyiv)).calls[0]
        #expect(internalCall.remoteName == nil)
        // Binotel: customerData.name.
        let named = try #require(try BinotelParser.parse(body: binotel { $0["customerData"] = ["id": "1", "name": "Олег"] }, contentType: nil).event)
        #expect(named.remoteName == "Олег")
        #expect(try BinotelParser.parse(body: sample("telephony/binotel_apiCallCompleted_answered.json"), contentType: nil).event?.remoteName == nil)
        // FreeSWITCH: caller_id_name "1001" is the number, no name.
        #expect(try FreeSwitchParser.parse(body: sample("telephony/freeswitch_mod_json_cdr_answered.json"), plan: NumberPlan()).event?.remoteName == nil)
        // Generic JSON.
        let g = try GenericCallParser.parse(body: Array(#"{"id":"g1","from":"0671234567","to":"101","started_at":1764404100,"remote_name":"Ірина"}"#.utf8),
                                            plan: NumberPlan())
        #expect(g.first?.remoteName == "Ірина")
        // Telegram: an edit names the message it edits; a document without a size has none.
        guard case .object(var root) = try JSONValue.parse(sample("messenger/telegram_update_message_text.json")),
              case .object(var m)? = root["message"] else { throw PayloadError("shape") }
        m["edit_date"] = 1569518400
        m["document"] = ["file_name": "price.pdf", "mime_type": "application/pdf"]
        root["message"] = nil
        root["edited_message"] = .object(m)
        let edit = try #require(try TelegramParser.parse(update: .object(root), botUsername: nil).event)
        #expect(edit.editOf == "555000101:6557")
        #expect(edit.externalID == "555000101:6557:edit:1569518400")
        #expect(edit.attachments == [.init(name: "price.pdf", contentType: "application/pdf", size: nil)])
        // A site form's company.
        let form = try WebFormParser.parse(body: Array("name=Ivan&phone=0501234567&company=Firma".utf8), contentType: nil, formName: "site",
                                           mapping: FormMapping(), receivedAt: Date())
        #expect(form.sender.company == "Firma")
    }
}
