import Foundation
import KontorBridge
import KontorClient
import KontorDomain
import KontorProtocol
import KontorTestSupport
import Synchronization
import Testing

/// The delivery machinery against a REAL kontord (TestServer: in-process, own database,
/// real TCP) and its real `call.ingest` / `message.ingest`: robot-token login, order,
/// retries with backoff while kontord is down, resume after a crash between send and
/// mark, dead letters; kontord's own counts say every event is there once.
///
/// `contactSamplesThroughContactImport` and `importContactsCommandDryRun` run against
/// kontord's real `contact.import`. EndToEndTests looks at what every sample made.
@Suite(.serialized) struct DeliveryTests {
    /// A robot user and its token, made through the protocol by a tech admin.
    static func robotToken(_ server: TestServer) async throws -> String {
        let robot = try await server.createUser("bridge-robot", role: .robot)
        try await server.createUser("tech", role: .techAdmin)
        let admin = try await server.login("tech")
        let created = try await admin.call("robot.token.create", ["user_id": .number(String(robot.id)), "label": "kontor-bridge test"])
        await admin.close()
        guard let token = created["token"]?.stringValue else { throw PayloadError("no token in \(created.jsonText)") }
        return token
    }

    static let fast = SenderConfiguration(backoffInitial: .milliseconds(20), backoffMax: .milliseconds(300), idlePoll: .milliseconds(20))

    /// Delivers through the real method (`SpoolSender.defaultDelivery`) and records what
    /// was sent and what kontord answered, per event key.
    final class Recorder: Sendable {
        let answered = Mutex<[(key: String, result: JSONValue)]>([])
        let sent = Mutex<[String]>([])
        var keys: [String] { answered.withLock { $0.map(\.key) } }
        var results: [JSONValue] { answered.withLock { $0.map(\.result) } }

        func delivery(crashAfterSending crashKey: String? = nil) -> SpoolDelivery {
            { conn, event in
                self.sent.withLock { $0.append(event.key ?? "?") }
                let r = try await SpoolSender.defaultDelivery(conn, event)
                if event.key == crashKey {
                    // The process dies after kontord answered, before the cursor moved.
                    throw CancellationError()
                }
                self.answered.withLock { $0.append((event.key ?? "?", r)) }
                return r
            }
        }
    }

    /// A minimal inbound call record from `remote` (a real `call.ingest` event).
    static func callEvent(_ id: String, remote: String = "0671234567", provider: String = "generic") throws -> SpoolEvent {
        try .call(IngestMethods.CallIngestParams(externalID: id, provider: provider, direction: .inbound, remoteNumber: remote,
                                                 startedAt: utc("2026-03-02T08:00:00Z"), talkSeconds: 0), source: "pbx")
    }

    /// How many legs kontord holds for each external id.
    static func legsByID(_ server: TestServer) async throws -> [String: Int] {
        try await server.database.with { conn in
            var out: [String: Int] = [:]
            for r in try conn.query("SELECT external_id, count(*) AS n FROM call_legs GROUP BY external_id") {
                out[try r.decode("external_id")] = try r.decode("n")
            }
            return out
        }
    }

    @Test func deliversInOrderWithTheRobotToken() async throws {
        let server = try await TestServer.start()
        let dir = try temporaryDirectory("delivery")
        do {
            let token = try await Self.robotToken(server)
            let spool = try Spool(directory: dir), state = try StateStore(directory: dir)
            try spool.appendBlocking(try (1...5).map { try Self.callEvent("e\($0)", remote: "06712345\(60 + $0)") })
            let rec = Recorder()
            let port = server.port
            let sender = SpoolSender(spool: spool, state: state, endpoint: { ("127.0.0.1", port) }, token: token,
                                     configuration: Self.fast, logger: TestEnvironment.logger, deliver: rec.delivery())
            try await sender.drain()
            #expect(rec.keys == ["e1", "e2", "e3", "e4", "e5"])
            #expect(rec.results.allSatisfy { $0["duplicate"] == false && $0["lead_status"] == "overdue_identification" })
            #expect(try spool.depth() == 0)
            #expect(state.read().sources["pbx"]?.delivered == 5)
            // kontord recorded them in spool order.
            let order: [String] = try await server.database.with { conn in
                try conn.query("SELECT external_id FROM call_legs ORDER BY id").map { try $0.decode("external_id") }
            }
            #expect(order == ["e1", "e2", "e3", "e4", "e5"])
        } catch {
            Issue.record(error)
        }
        try? FileManager.default.removeItem(at: dir)
        await server.stop()
    }

    @Test func badTokenKeepsEventsSpooled() async throws {
        let server = try await TestServer.start()
        let dir = try temporaryDirectory("delivery")
        let spool = try Spool(directory: dir), state = try StateStore(directory: dir)
        try spool.appendBlocking([try Self.callEvent("x")])
        let port = server.port
        let sender = SpoolSender(spool: spool, state: state, endpoint: { ("127.0.0.1", port) }, token: "kr_not-a-token",
                                 configuration: Self.fast, logger: TestEnvironment.logger)
        let task = Task { try await sender.run() }
        try await eventually("the refusal is recorded") { state.read().lastError?.contains("unauthenticated") == true }
        task.cancel()
        _ = try? await task.value
        #expect(try spool.depth() == 1)
        #expect(try await Self.legsByID(server).isEmpty)
        try? FileManager.default.removeItem(at: dir)
        await server.stop()
    }

    @Test func permanentErrorGoesToDeadLetterAndTheQueueMovesOn() async throws {
        let server = try await TestServer.start()
        let dir = try temporaryDirectory("delivery")
        do {
            let token = try await Self.robotToken(server)
            let spool = try Spool(directory: dir), state = try StateStore(directory: dir)
            // A provider name kontord refuses: invalid_params, for good.
            try spool.appendBlocking([try Self.callEvent("bad", provider: "Not A Provider!"), try Self.callEvent("good")])
            let port = server.port
            try await SpoolSender(spool: spool, state: state, endpoint: { ("127.0.0.1", port) }, token: token, configuration: Self.fast, logger: TestEnvironment.logger).drain()
            #expect(try spool.depth() == 0)
            #expect(try spool.deadLetterCount() == 1)
            let dead = try String(contentsOf: dir.appendingPathComponent("dead-letter.jsonl"), encoding: .utf8)
            let v = try JSONValue.parse(dead.trimmingCharacters(in: .newlines))
            #expect(v["kind"] == "invalid_params")
            #expect(v["record"]?["key"] == "bad")
            #expect(state.read().sources["pbx"]?.dead == 1)
            #expect(state.read().sources["pbx"]?.delivered == 1)
            #expect(try await Self.legsByID(server) == ["good": 1])
        } catch {
            Issue.record(error)
        }
        try? FileManager.default.removeItem(at: dir)
        await server.stop()
    }

    @Test func methodMissingOnServerWaitsInTheSpool() async throws {
        // A kontord older than the bridge (no such method): the event waits, not dropped.
        let server = try await TestServer.start()
        let dir = try temporaryDirectory("delivery")
        do {
            let token = try await Self.robotToken(server)
            let spool = try Spool(directory: dir), state = try StateStore(directory: dir)
            let call = try BinotelParser.parse(body: sample("telephony/binotel_apiCallCompleted_answered.json"), contentType: nil).event
            var event = try SpoolEvent.call(try #require(call), source: "binotel")
            event.method = "call.ingest_not_in_this_kontord"
            try spool.appendBlocking([event])
            let port = server.port
            let sender = SpoolSender(spool: spool, state: state, endpoint: { ("127.0.0.1", port) }, token: token, configuration: Self.fast, logger: TestEnvironment.logger)
            let task = Task { try await sender.run() }
            try await eventually("kontord's answer is recorded") { state.read().lastError?.contains("method_not_found") == true }
            task.cancel()
            _ = try? await task.value
            #expect(try spool.depth() == 1)
            #expect(try spool.deadLetterCount() == 0)
        } catch {
            Issue.record(error)
        }
        try? FileManager.default.removeItem(at: dir)
        await server.stop()
    }

    /// A kontord older than the bridge refuses an optional field it does not know
    /// (simulated: the delivery answers as such a kontord would); the bridge sends the
    /// event again without it, and it is delivered, not dead-lettered.
    @Test func olderKontordWithoutTheNewOptionalFields() async throws {
        let server = try await TestServer.start()
        let dir = try temporaryDirectory("delivery")
        do {
            let token = try await Self.robotToken(server)
            let spool = try Spool(directory: dir), state = try StateStore(directory: dir)
            var call = try #require(try BinotelParser.parse(body: sample("telephony/binotel_apiCallCompleted_answered.json"), contentType: nil).event)
            call.remoteName = "Олег"
            let mail = IngestMethods.MessageIngestParams(externalID: "old@firma.ua", channel: .email,
                                                         sender: .init(email: "old@firma.ua", company: "Firma"), text: "",
                                                         receivedAt: utc("2026-03-02T08:00:00Z"),
                                                         attachments: [.init(name: "a.pdf", contentType: "application/pdf", size: nil)])
            try spool.appendBlocking([try .call(call, source: "binotel"), try .message(mail, source: "email")])
            let seen = Mutex<[String]>([])
            let older: SpoolDelivery = { conn, event in
                // What kontord before these fields answered (JSONValueDecoder's messages).
                let p = event.params
                if p["remote_name"] != nil { throw KontorError.invalidParams("remote_name", "unknown field remote_name") }
                if p["sender"]?["company"] != nil { throw KontorError.invalidParams("sender.company", "unknown field sender.company") }
                if let a = p["attachments"]?[0], a["size"] == nil { throw KontorError.invalidParams("attachments[0].size", "missing field attachments[0].size") }
                seen.withLock { $0.append(p.jsonText) }
                return try await SpoolSender.defaultDelivery(conn, event)
            }
            let port = server.port
            try await SpoolSender(spool: spool, state: state, endpoint: { ("127.0.0.1", port) }, token: token, configuration: Self.fast,
                                  logger: TestEnvironment.logger, deliver: older).drain()
            #expect(try spool.deadLetterCount() == 0)
            #expect(seen.withLock { $0.count } == 2)
            #expect(seen.withLock { $0.allSatisfy { !$0.contains("\"remote_name\"") && !$0.contains("\"company\"") } })
            #expect(try spool.depth() == 0)
            // Events without the new fields never carry them (not even as null).
            let plain = try SpoolEvent.call(try #require(try BinotelParser.parse(body: sample("telephony/binotel_apiCallCompleted_answered.json"),
                                                                                   contentType: nil).event), source: "binotel")
            #expect(plain.params["remote_name"] == nil)
            #expect(plain.params["answered_at"] != nil)
        } catch {
            Issue.record(error)
        }
        try? FileManager.default.removeItem(at: dir)
        await server.stop()
    }

    @Test func crashBetweenSendAndMarkResends() async throws {
        let server = try await TestServer.start()
        let dir = try temporaryDirectory("delivery")
        do {
            let token = try await Self.robotToken(server)
            let spool = try Spool(directory: dir), state = try StateStore(directory: dir)
            try spool.appendBlocking([try Self.callEvent("e1", remote: "0671234561"), try Self.callEvent("e2", remote: "0671234562"),
                                      try Self.callEvent("e3", remote: "0671234563")])
            let port = server.port
            let rec = Recorder()
            let first = SpoolSender(spool: spool, state: state, endpoint: { ("127.0.0.1", port) }, token: token,
                                    configuration: Self.fast, logger: TestEnvironment.logger, deliver: rec.delivery(crashAfterSending: "e2"))
            await #expect(throws: CancellationError.self) { try await first.drain() }
            #expect(rec.sent.withLock { $0 } == ["e1", "e2"])  // kontord answered e2...
            #expect(try spool.next()?.event?.key == "e2")     // ...but the cursor did not move past it
            #expect(try spool.depth() == 2)
            #expect(try await Self.legsByID(server) == ["e1": 1, "e2": 1])
            // Restart: a new sender on the same spool resends e2, then e3.
            let second = SpoolSender(spool: spool, state: state, endpoint: { ("127.0.0.1", port) }, token: token,
                                     configuration: Self.fast, logger: TestEnvironment.logger, deliver: rec.delivery())
            try await second.drain()
            #expect(rec.sent.withLock { $0 } == ["e1", "e2", "e2", "e3"])
            #expect(rec.keys == ["e1", "e2", "e3"])
            #expect(rec.results.map { $0["duplicate"] } == [false, true, false], "the resent e2 is answered duplicate: true")
            #expect(try spool.depth() == 0)
            #expect(try await Self.legsByID(server) == ["e1": 1, "e2": 1, "e3": 1], "counted once server-side")
            let inquiries: Int = try await server.database.with { try $0.query("SELECT count(*) AS n FROM inquiries").one().decode("n") }
            #expect(inquiries == 3)
            #expect(state.read().sources["pbx"]?.duplicates == 1)
        } catch {
            Issue.record(error)
        }
        try? FileManager.default.removeItem(at: dir)
        await server.stop()
    }

    /// Webhooks arrive over HTTP while kontord is stopped; all are delivered once it is
    /// back (on another port: the endpoint is asked again before each connection), each
    /// once: kontord's own counts.
    @Test func kontordStoppedWhileWebhooksArrive() async throws {
        let server1 = try await TestServer.start()
        let dir = try temporaryDirectory("delivery")
        let token = try await Self.robotToken(server1)
        var config = BridgeConfiguration()
        config.httpPort = 0
        config.spoolDirectory = dir
        config.publicURL = "https://bridge.example.ua"
        config.binotel = .init(secret: "binotel-secret-0123456789")
        config.twilio = .init(authToken: "twilio-auth-token")
        config.telegram = .init(secretToken: "telegram-secret-0123456789")
        config.viber = .init(authToken: "viber-auth-token")
        let spool = try Spool(directory: dir), state = try StateStore(directory: dir)
        let http = try await WebhookServer(configuration: config, spool: spool, state: state, logger: TestEnvironment.logger).start()
        let kontordPort = Mutex<Int>(server1.port)
        let sender = SpoolSender(spool: spool, state: state, endpoint: { ("127.0.0.1", kontordPort.withLock { $0 }) }, token: token,
                                 configuration: Self.fast, logger: TestEnvironment.logger)
        let senderTask = Task { try await sender.run() }
        var server2: TestServer? = nil
        do {
            // kontord up: delivered at once.
            let r1 = try await post(port: http.port, path: "/hooks/binotel/binotel-secret-0123456789",
                                    body: try sample("telephony/binotel_apiCallCompleted_answered.json"), headers: ["Content-Type": "application/json"])
            #expect(r1.status == 200)
            try await eventually("the first event is delivered") { state.read().sources["binotel"]?.delivered == 1 }

            // kontord down: webhooks are still acknowledged (spooled), nothing is delivered.
            await server1.stop(dropDatabase: false)
            let twilioBody = try sample("telephony/twilio_status_callback_completed.form.txt")
            let signature = TwilioParser.signature(url: "https://bridge.example.ua/hooks/twilio", pairs: FormEncoding.pairs(twilioBody),
                                                   authToken: "twilio-auth-token")
            let r2 = try await post(port: http.port, path: "/hooks/twilio", body: twilioBody,
                                    headers: ["Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature])
            let r3 = try await post(port: http.port, path: "/hooks/telegram", body: try sample("messenger/telegram_update_message_text.json"),
                                    headers: ["X-Telegram-Bot-Api-Secret-Token": "telegram-secret-0123456789"])
            let viberBody = try sample("messenger/viber_callback_message_text_unicode.json")
            let r4 = try await post(port: http.port, path: "/hooks/viber", body: viberBody,
                                    headers: ["X-Viber-Content-Signature": ViberParser.signature(body: viberBody, authToken: "viber-auth-token")])
            // Binotel retries its webhook while we are down: spooled again.
            let r5 = try await post(port: http.port, path: "/hooks/binotel/binotel-secret-0123456789",
                                    body: try sample("telephony/binotel_apiCallCompleted_answered.form.txt"),
                                    headers: ["Content-Type": "application/x-www-form-urlencoded"])
            #expect([r2.status, r3.status, r4.status, r5.status] as [Int] == [200, 200, 200, 200])
            try await eventually("the sender notices kontord is gone") { state.read().lastError?.contains("connect") == true }
            try await Task.sleep(for: .milliseconds(300))
            #expect(try spool.depth() == 4)

            // kontord back, on the same database but another port.
            let s2 = try await TestServer.start(database: server1.database)
            server2 = s2
            kontordPort.withLock { $0 = s2.port }
            // The cursor moves before the counters: wait for both.
            try await eventually("everything is delivered") {
                try spool.depth() == 0 && state.read().sources.values.map(\.delivered).reduce(0, +) == 5
            }
            let counts = state.read().sources
            #expect(counts["binotel"]?.delivered == 2)
            #expect(counts["binotel"]?.duplicates == 1)
            for source in ["twilio", "telegram", "viber"] {
                #expect(counts[source]?.delivered == 1, "\(source)")
                #expect(counts[source]?.duplicates == 0, "\(source)")
            }
            #expect(try spool.deadLetterCount() == 0)
            // kontord's own counts: every external id once.
            #expect(try await Self.legsByID(s2) == ["612107649": 1, "CA00000000000000000000000000000001": 1])
            let (messages, inquiries, statuses): ([String: Int], Int, [String]) = try await s2.database.with { conn in
                var m: [String: Int] = [:]
                for r in try conn.query("SELECT external_id, count(*) AS n FROM messages GROUP BY external_id") { m[try r.decode("external_id")] = try r.decode("n") }
                let i: Int = try conn.query("SELECT count(*) AS n FROM inquiries").one().decode("n")
                let s: [String] = try conn.query("SELECT status FROM leads ORDER BY id").map { try $0.decode("status") }
                return (m, i, s)
            }
            #expect(messages == ["555000101:6557": 1, "4912661846655238145": 1])
            #expect(inquiries == 3, "the Binotel call, the Telegram and the Viber message; Twilio's outbound call to a stranger makes none")
            #expect(statuses == ["identification", "inquiry", "inquiry"])
        } catch {
            Issue.record(error)
        }
        senderTask.cancel()
        _ = try? await senderTask.value
        await http.stop()
        if let server2 { await server2.stop() } else { await server1.database.drop() }
        try? FileManager.default.removeItem(at: dir)
    }

    /// Every sample, parsed and spooled as the bridge does, through the default delivery
    /// (the real ingestion methods): everything delivered, nothing dead-lettered; a
    /// replay of every event is answered `duplicate: true` and changes no table.
    /// (EndToEndTests looks at what each sample made.)
    @Test func everySampleThroughTheRealIngestionMethods() async throws {
        let server = try await TestServer.start()
        let dir = try temporaryDirectory("delivery")
        do {
            let token = try await Self.robotToken(server)
            let spool = try Spool(directory: dir), state = try StateStore(directory: dir)
            let events = try Self.allSampleEvents()
            try spool.appendBlocking(events)
            let port = server.port
            try await SpoolSender(spool: spool, state: state, endpoint: { ("127.0.0.1", port) }, token: token,
                                  configuration: Self.fast, logger: TestEnvironment.logger).drain()
            #expect(try spool.deadLetterCount() == 0)
            #expect(state.read().sources.values.map(\.delivered).reduce(0, +) == events.count)
            func counts() async throws -> [Int] {
                try await server.database.with { conn in
                    try ["call_legs", "calls", "messages", "inquiries", "leads", "contacts", "lead_status_history"].map { t in
                        try conn.query("SELECT count(*) AS n FROM \(identifier: t)").one().decode("n")
                    }
                }
            }
            let once = try await counts()
            #expect(once[0] == events.filter { $0.method == "call.ingest" }.count)
            #expect(once[2] == events.filter { $0.method == "message.ingest" }.count)
            try spool.appendBlocking(events)
            try await SpoolSender(spool: spool, state: state, endpoint: { ("127.0.0.1", port) }, token: token,
                                  configuration: Self.fast, logger: TestEnvironment.logger).drain()
            #expect(try spool.deadLetterCount() == 0)
            #expect(state.read().sources.values.map(\.duplicates).reduce(0, +) == events.count)
            #expect(try await counts() == once)
        } catch {
            Issue.record(error)
        }
        try? FileManager.default.removeItem(at: dir)
        await server.stop()
    }

    /// What the bridge spools for every telephony, messenger, web-form and e-mail sample.
    static func allSampleEvents() throws -> [SpoolEvent] {
        var out: [SpoolEvent] = []
        let plan = NumberPlan()
        if let c = try BinotelParser.parse(body: sample("telephony/binotel_apiCallCompleted_answered.json"), contentType: nil).event {
            out.append(try .call(c, source: "binotel"))
        }
        if let c = try TwilioParser.parse(pairs: FormEncoding.pairs(sample("telephony/twilio_status_callback_completed.form.txt")),
                                          plan: plan, receivedAt: Date()).event {
            out.append(try .call(c, source: "twilio"))
        }
        if let c = try FreeSwitchParser.parse(body: sample("telephony/freeswitch_mod_json_cdr_answered.json"), plan: plan).event {
            out.append(try .call(c, source: "freeswitch"))
        }
        for c in AsteriskCDR.parse(file: try sample("telephony/asterisk_Master_cdr_custom_pjsip.csv"),
                                   options: .init(timeZone: kyiv)).calls {
            out.append(try .call(c, source: "asterisk"))
        }
        if let m = try TelegramParser.parse(update: JSONValue.parse(sample("messenger/telegram_update_message_text.json")), botUsername: nil).event {
            out.append(try .message(m, source: "telegram"))
        }
        if let m = try ViberParser.parse(body: sample("messenger/viber_callback_message_text_unicode.json"), botName: nil).event {
            out.append(try .message(m, source: "viber"))
        }
        for (name, file) in [("site", "webform/webflow_form_submission.json"), ("tally", "webform/tally_form_response_webhook.json")] {
            let m = try WebFormParser.parse(body: sample(file), contentType: "application/json", formName: name, mapping: FormMapping(), receivedAt: Date())
            out.append(try .message(m, source: "form:\(name)"))
        }
        for name in FilesTests.emailSamples {
            out.append(try .message(EmailParser.parse(raw: sample("email/" + name), fallbackDate: Date()), source: "email"))
        }
        return out
    }

    /// What importing each contacts sample must do, worked out by reading the files (the
    /// server's rules: docs/BRIDGE.md, "Importing contacts: the rules"). Numbers are per
    /// file, imported one after the other into one database.
    struct ContactSampleExpectation: Sendable {
        var file: String
        var rows: Int
        var created: Int
        var rejected: Int
        /// New cards, companies, counterparties, phones in the database.
        var contacts: Int
        var companies: Int
        var counterparties = 0
        var phones: Int
    }

    static let contactSamples: [ContactSampleExpectation] = [
        // Google Contacts: 2 people. Пётр's two numbers in one cell (" ::: ") are kept both:
        // +7 916 … is a Russian mobile; "8 903 000 33 44" (Russian trunk 8 + mobile code)
        // cannot be read in region UA, so it is stored as written and flagged, not refused.
        // Anna Smith's +44 20 … is a London number. 2 created, 0 rejected, 3 phones.
        .init(file: "google_contacts_csv_cyrillic_multivalue_phone.csv", rows: 2, created: 2, rejected: 0, contacts: 2, companies: 0,
              phones: 3),
        // Odoo res.partner: 2 companies (Grocery Outlet, Agrolait: `Company Type` =
        // Company), each with its switchboard number on a card of its own linked to it;
        // 4 individuals of Grocery Outlet (Bob, Bill, "Warehouse", "Accounting dep." —
        // Odoo keeps addresses as partners), linked to the company line 2 created. US
        // numbers written without +1 are read in region UA: kept, and flagged where they
        // are no valid Ukrainian number. 6 rows created: 6 cards, 2 companies, 6 phones.
        .init(file: "odoo_res_partner_companies_and_contacts.csv", rows: 6, created: 6, rejected: 0, contacts: 6, companies: 2, phones: 6),
        // Thunderbird (quoted, multi-line): both people have addresses at the bare domain
        // "invalid" (contact1@invalid): no dot, not an address (as contact.create says):
        // both rows rejected, field emails[0]; nothing created.
        .init(file: "thunderbird_export_quoted_multiline_unicode.csv", rows: 2, created: 0, rejected: 2, contacts: 0, companies: 0, phones: 0),
        // The same two people as vCard 4.0: the same two rejections.
        .init(file: "thunderbird_export_vcard40_escapes.vcf", rows: 2, created: 0, rejected: 2, contacts: 0, companies: 0, phones: 0),
        // Thunderbird with semicolons: John and Jane Doe at doe.invalid (a reserved TLD,
        // but a well-formed address): 2 created.
        .init(file: "thunderbird_semicolon_delimited.csv", rows: 2, created: 2, rejected: 0, contacts: 2, companies: 0, phones: 0),
    ]

    static func contactRows(_ file: String) throws -> [IngestMethods.ImportRow] {
        let bytes = try sample("contacts/" + file)
        return file.hasSuffix(".vcf") ? VCardParser.parse(bytes) : ContactsCSV.parse(bytes).rows
    }

    /// Every contacts sample through the bridge's importer and the real `contact.import`
    /// with a robot token: a dry run (nothing changes), the import (the expected numbers
    /// of cards, companies and rejected rows, counted in the database), a second import
    /// (everything `unchanged`) and an `update_existing` import (nothing created or
    /// changed).
    @Test func contactSamplesThroughContactImport() async throws {
        let server = try await TestServer.start()
        do {
            let token = try await Self.robotToken(server)
            let conn = try await server.connect()
            _ = try await conn.call("auth.token", ["token": .string(token)])
            let onDisk = try FileManager.default.contentsOfDirectory(atPath: sampleURL("contacts").path).filter { !$0.hasPrefix(".") }
            #expect(Set(onDisk) == Set(Self.contactSamples.map(\.file)), "every contacts sample has its expected numbers")
            for e in Self.contactSamples {
                let rows = try Self.contactRows(e.file)
                #expect(rows.count == e.rows, "\(e.file)")
                let before = try await TableCounts.of(server)
                let dry = try await ContactImporter.run(rows, mode: .createOnly, dryRun: true, source: "import", connection: conn)
                #expect(dry.dryRun)
                #expect((dry.created, dry.updated, dry.unchanged, dry.rejected) == (e.created, 0, 0, e.rejected), "\(e.file) dry run")
                #expect(try await TableCounts.of(server) == before, "\(e.file): a dry run changes nothing")

                let real = try await ContactImporter.run(rows, mode: .createOnly, dryRun: false, source: "import", connection: conn)
                #expect(real.results.map(\.line) == rows.map(\.line), "\(e.file)")
                #expect(real.results.map(\.action) == dry.results.map(\.action), "\(e.file): the dry run told the truth")
                #expect((real.created, real.updated, real.unchanged, real.rejected) == (e.created, 0, 0, e.rejected), "\(e.file)")
                let after = try await TableCounts.of(server)
                #expect(after.contacts - before.contacts == e.contacts, "\(e.file) contacts")
                #expect(after.companies - before.companies == e.companies, "\(e.file) companies")
                #expect(after.counterparties - before.counterparties == e.counterparties, "\(e.file) counterparties")
                #expect(after.phones - before.phones == e.phones, "\(e.file) phones")

                let again = try await ContactImporter.run(rows, mode: .createOnly, dryRun: false, source: "import", connection: conn)
                #expect((again.created, again.updated, again.unchanged, again.rejected) == (0, 0, e.created, e.rejected), "\(e.file) again")
                #expect(again.results.map(\.contactID) == real.results.map(\.contactID), "\(e.file): the same cards")
                let update = try await ContactImporter.run(rows, mode: .updateExisting, dryRun: false, source: "import", connection: conn)
                #expect((update.created, update.updated, update.unchanged, update.rejected) == (0, 0, e.created, e.rejected),
                        "\(e.file) update_existing: \(update.results.filter { $0.action != .unchanged })")
                #expect(try await TableCounts.of(server) == after, "\(e.file): nothing new after the first import")

                switch e.file {
                case "google_contacts_csv_cyrillic_multivalue_phone.csv":
                    #expect(real.results[0].reason == "phones[1] “8 903 000 33 44” could not be read as a phone number; kept as written")
                    #expect(real.results[1].reason == nil)
                case "odoo_res_partner_companies_and_contacts.csv":
                    let grocery = real.results[0].companyID
                    #expect(grocery != nil)
                    #expect(real.results[1...4].allSatisfy { $0.companyID == grocery }, "Bob, Bill, Warehouse, Accounting → Grocery Outlet")
                    #expect(real.results[5].companyID != grocery)
                    #expect(real.results[0].reason == "phones[0] “123456789” (+380123456789) is not a valid number; kept as written")
                case "thunderbird_export_quoted_multiline_unicode.csv", "thunderbird_export_vcard40_escapes.vcf":
                    #expect(real.results.map(\.field) == ["emails[0]", "emails[0]"])
                    #expect(real.results[0].reason == "“contact1@invalid” is not an e-mail address: the domain has no dot, so mail cannot reach it")
                default:
                    break
                }
            }
            await conn.close()
        } catch {
            Issue.record(error)
        }
        await server.stop()
    }

    /// `kontor-bridge import-contacts FILE --dry-run` through the built binary, against a
    /// real kontord: one line per row (would be created / updated / unchanged / rejected,
    /// with the reason and field), then the totals; nothing changes.
    @Test func importContactsCommandDryRun() async throws {
        guard let exe = bridgeExecutable() else { return }
        let server = try await TestServer.start()
        let dir = try temporaryDirectory("import-contacts")
        do {
            let token = try await Self.robotToken(server)
            let environment = ["KONTOR_BRIDGE_SPOOL_DIR": dir.path, "KONTOR_BRIDGE_KONTORD_HOST": "127.0.0.1",
                               "KONTOR_BRIDGE_KONTORD_PORT": String(server.port), "KONTOR_BRIDGE_TOKEN": token, "PATH": "/usr/bin:/bin"]
            func run(_ args: [String]) async throws -> (status: Int32, output: String) {
                let r = try await Spawned.run(exe, args, environment: environment, in: dir)
                return (r.status, r.output)
            }
            let before = try await TableCounts.of(server)
            let odoo = try await run(["import-contacts", sampleURL("contacts/odoo_res_partner_companies_and_contacts.csv").path, "--dry-run"])
            #expect(odoo.status == 0, "\(odoo.output)")
            #expect(odoo.output.contains("6 row(s); encoding utf-8, delimiter ,"))
            for line in 2...7 { #expect(odoo.output.contains("line \(line): would be created"), "line \(line) in \(odoo.output)") }
            #expect(odoo.output.contains("line 3: would be created — phones[0] “4157654321” (+3804157654321) is not a valid number; kept as written"))
            #expect(odoo.output.contains("dry run: 6 created, 0 updated, 0 unchanged, 0 rejected"))
            let thunderbird = try await run(["import-contacts", sampleURL("contacts/thunderbird_export_quoted_multiline_unicode.csv").path, "--dry-run"])
            #expect(thunderbird.output.contains("line 2: would be rejected — “contact1@invalid” is not an e-mail address: the domain has no dot, so mail cannot reach it [emails[0]]"),
                    "\(thunderbird.output)")
            #expect(thunderbird.output.contains("dry run: 0 created, 0 updated, 0 unchanged, 2 rejected"))
            #expect(try await TableCounts.of(server) == before, "--dry-run changes nothing")

            // Against cards that exist: a file of one known person with a new e-mail, one
            // new person and one bad address, in update mode.
            let conn = try await server.connect()
            _ = try await conn.call("auth.token", ["token": .string(token)])
            _ = try await ContactImporter.run(try Self.contactRows("thunderbird_semicolon_delimited.csv"), mode: .createOnly, dryRun: false,
                                              source: nil, connection: conn)
            await conn.close()
            let file = dir.appendingPathComponent("people.csv")
            try Data("Name;E-mail;Phone\nJohn Doe;john@doe.invalid, john.doe@gmail.com;\nNew Person;new@person.ua;050 123 45 67\nBroken;broken@;\n".utf8)
                .write(to: file)
            let mixed = try await run(["import-contacts", file.path, "--dry-run", "--update-existing"])
            #expect(mixed.output.contains("line 2: would be updated contact "), "\(mixed.output)")
            #expect(mixed.output.contains("line 3: would be created\n"), "\(mixed.output)")
            #expect(mixed.output.contains("line 4: would be rejected — “broken@” is not an e-mail address: nothing after the @ [emails[0]]"))
            #expect(mixed.output.contains("dry run: 1 created, 1 updated, 0 unchanged, 1 rejected"))
            let afterImport = try await TableCounts.of(server)
            _ = try await run(["import-contacts", file.path, "--dry-run", "--update-existing"])
            #expect(try await TableCounts.of(server) == afterImport)
        } catch {
            Issue.record(error)
        }
        try? FileManager.default.removeItem(at: dir)
        await server.stop()
    }
}
