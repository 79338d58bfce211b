import Foundation
import KontorBridge
import KontorClient
import KontorDomain
import KontorProtocol
import KontorTestSupport
import Synchronization
import Testing

/// The delivery machinery against a REAL kontord (TestServer: in-process, own database,
/// real TCP): robot-token login, order, retries with backoff while kontord is down,
/// resume after a crash between send and mark, dead letters.
///
/// kontord has no `call.ingest` / `message.ingest` yet (phase 1), so the sender's
/// delivery is injected: each spooled event is delivered as a `ping` call (a method that
/// exists), and the test records which events kontord answered.
///
/// PHASE 2 — once `call.ingest` and `message.ingest` exist on kontord:
/// * `kontordStoppedWhileWebhooksArrive`: drop the injected delivery (use
///   `SpoolSender.defaultDelivery`) and assert kontord's own counts: one call/message per
///   external id, with the expected inquiry and lead status;
/// * `crashBetweenSendAndMarkResends`: spool real `call.ingest` events and assert the
///   resent one is answered `duplicate: true` and counted once in the database;
/// * `everySampleThroughTheRealIngestionMethods` already takes the phase-2 branch when
///   the methods exist; add the database-side counts (calls, messages, inquiries, lead
///   statuses).
///
/// `contactSamplesThroughContactImport` and `importContactsCommandDryRun` run against
/// kontord's real `contact.import` (done: issue 7, contacts from files).
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

    /// Delivers every event as `ping` and records the keys kontord answered.
    final class Recorder: Sendable {
        let answered = Mutex<[String]>([])
        let sent = Mutex<[String]>([])
        var keys: [String] { answered.withLock { $0 } }

        func delivery(crashAfterSending crashKey: String? = nil) -> SpoolDelivery {
            { conn, event in
                self.sent.withLock { $0.append(event.key ?? "?") }
                let r = try await conn.call("ping")
                if event.key == crashKey {
                    // The process dies after kontord answered, before the cursor moved.
                    throw CancellationError()
                }
                self.answered.withLock { $0.append(event.key ?? "?") }
                return r
            }
        }
    }

    func pingEvent(_ key: String) -> SpoolEvent { SpoolEvent(source: "test", method: "ping", params: [:], key: key) }

    @Test func deliversInOrderWithTheRobotToken() async throws {
        let server = try await TestServer.start()
        let dir = try temporaryDirectory("delivery")
        do {
            let token = try await Self.robotToken(server)
            let spool = try Spool(directory: dir), state = try StateStore(directory: dir)
            try spool.appendBlocking((1...5).map { pingEvent("e\($0)") })
            let rec = Recorder()
            let port = server.port
            let sender = SpoolSender(spool: spool, state: state, endpoint: { ("127.0.0.1", port) }, token: token,
                                     configuration: Self.fast, logger: TestEnvironment.logger, deliver: rec.delivery())
            try await sender.drain()
            #expect(rec.keys == ["e1", "e2", "e3", "e4", "e5"])
            #expect(try spool.depth() == 0)
            #expect(state.read().sources["test"]?.delivered == 5)
            // Through the real method table: the default delivery calls event.method.
            try spool.appendBlocking([pingEvent("plain")])
            try await SpoolSender(spool: spool, state: state, endpoint: { ("127.0.0.1", port) }, token: token, configuration: Self.fast, logger: TestEnvironment.logger).drain()
            #expect(try spool.depth() == 0)
            #expect(state.read().sources["test"]?.delivered == 6)
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
        try spool.appendBlocking([pingEvent("x")])
        let port = server.port
        let sender = SpoolSender(spool: spool, state: state, endpoint: { ("127.0.0.1", port) }, token: "kr_not-a-token",
                                 configuration: Self.fast, logger: TestEnvironment.logger)
        let task = Task { try await sender.run() }
        try await eventually("the refusal is recorded") { state.read().lastError?.contains("unauthenticated") == true }
        task.cancel()
        _ = try? await task.value
        #expect(try spool.depth() == 1)
        try? FileManager.default.removeItem(at: dir)
        await server.stop()
    }

    @Test func permanentErrorGoesToDeadLetterAndTheQueueMovesOn() async throws {
        let server = try await TestServer.start()
        let dir = try temporaryDirectory("delivery")
        do {
            let token = try await Self.robotToken(server)
            let spool = try Spool(directory: dir), state = try StateStore(directory: dir)
            // `ping` takes no parameters: kontord answers invalid_params, for good.
            try spool.appendBlocking([SpoolEvent(source: "test", method: "ping", params: ["unexpected": 1], key: "bad"), pingEvent("good")])
            let port = server.port
            try await SpoolSender(spool: spool, state: state, endpoint: { ("127.0.0.1", port) }, token: token, configuration: Self.fast, logger: TestEnvironment.logger).drain()
            #expect(try spool.depth() == 0)
            #expect(try spool.deadLetterCount() == 1)
            let dead = try String(contentsOf: dir.appendingPathComponent("dead-letter.jsonl"), encoding: .utf8)
            let v = try JSONValue.parse(dead.trimmingCharacters(in: .newlines))
            #expect(v["kind"] == "invalid_params")
            #expect(v["record"]?["key"] == "bad")
            #expect(state.read().sources["test"]?.dead == 1)
            #expect(state.read().sources["test"]?.delivered == 1)
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

    @Test func crashBetweenSendAndMarkResends() async throws {
        let server = try await TestServer.start()
        let dir = try temporaryDirectory("delivery")
        do {
            let token = try await Self.robotToken(server)
            let spool = try Spool(directory: dir), state = try StateStore(directory: dir)
            try spool.appendBlocking([pingEvent("e1"), pingEvent("e2"), pingEvent("e3")])
            let port = server.port
            let rec = Recorder()
            let first = SpoolSender(spool: spool, state: state, endpoint: { ("127.0.0.1", port) }, token: token,
                                    configuration: Self.fast, logger: TestEnvironment.logger, deliver: rec.delivery(crashAfterSending: "e2"))
            await #expect(throws: CancellationError.self) { try await first.drain() }
            #expect(rec.sent.withLock { $0 } == ["e1", "e2"])  // kontord answered e2...
            #expect(try spool.next()?.event?.key == "e2")     // ...but the cursor did not move past it
            #expect(try spool.depth() == 2)
            // Restart: a new sender on the same spool resends e2, then e3.
            let second = SpoolSender(spool: spool, state: state, endpoint: { ("127.0.0.1", port) }, token: token,
                                     configuration: Self.fast, logger: TestEnvironment.logger, deliver: rec.delivery())
            try await second.drain()
            #expect(rec.sent.withLock { $0 } == ["e1", "e2", "e2", "e3"])
            #expect(rec.keys == ["e1", "e2", "e3"])
            #expect(try spool.depth() == 0)
        } catch {
            Issue.record(error)
        }
        try? FileManager.default.removeItem(at: dir)
        await server.stop()
    }

    /// Webhooks arrive over HTTP while kontord is stopped; all are delivered once it is
    /// back (on another port: the endpoint is asked again before each connection).
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
        let rec = Recorder()
        let sender = SpoolSender(spool: spool, state: state, endpoint: { ("127.0.0.1", kontordPort.withLock { $0 }) }, token: token,
                                 configuration: Self.fast, logger: TestEnvironment.logger, deliver: rec.delivery())
        let senderTask = Task { try await sender.run() }
        var server2: TestServer? = nil
        do {
            // kontord up: delivered at once.
            let r1 = try await post(port: http.port, path: "/hooks/binotel/binotel-secret-0123456789",
                                    body: try sample("telephony/binotel_apiCallCompleted_answered.json"), headers: ["Content-Type": "application/json"])
            #expect(r1.status == 200)
            try await eventually("the first event is delivered") { rec.keys == ["612107649"] }

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
            #expect([r2.status, r3.status, r4.status] as [Int] == [200, 200, 200])
            try await eventually("the sender notices kontord is gone") { state.read().lastError?.contains("connect") == true }
            try await Task.sleep(for: .milliseconds(300))
            #expect(rec.keys == ["612107649"])
            #expect(try spool.depth() == 3)

            // kontord back, on the same database but another port.
            let s2 = try await TestServer.start(database: server1.database)
            server2 = s2
            kontordPort.withLock { $0 = s2.port }
            try await eventually("everything is delivered") { try spool.depth() == 0 }
            #expect(rec.keys == ["612107649", "CA00000000000000000000000000000001", "555000101:6557", "4912661846655238145"])
            let counts = state.read().sources
            #expect(counts["binotel"]?.delivered == 1)
            #expect(counts["twilio"]?.delivered == 1)
            #expect(counts["telegram"]?.delivered == 1)
            #expect(counts["viber"]?.delivered == 1)
            #expect(counts["viber"]?.spooled == 1)
        } catch {
            Issue.record(error)
        }
        senderTask.cancel()
        _ = try? await senderTask.value
        await http.stop()
        if let server2 { await server2.stop() } else { await server1.database.drop() }
        try? FileManager.default.removeItem(at: dir)
    }

    /// Every sample, parsed and spooled as the bridge does, through the DEFAULT delivery
    /// (the real ingestion methods). Valid in both phases:
    /// * phase 1 (kontord lacks the method): the first event of a missing method waits at
    ///   the head of the spool, nothing is dead-lettered, nothing is lost;
    /// * phase 2 (the methods exist): everything is delivered with no dead letter, and a
    ///   replay of every event is answered `duplicate: true`.
    /// PHASE 2 must add the database-side assertions (calls, inquiries, lead statuses).
    @Test func everySampleThroughTheRealIngestionMethods() async throws {
        let server = try await TestServer.start()
        let dir = try temporaryDirectory("delivery")
        do {
            let token = try await Self.robotToken(server)
            let spool = try Spool(directory: dir), state = try StateStore(directory: dir)
            let events = try Self.allSampleEvents()
            try spool.appendBlocking(events)
            let port = server.port
            let sender = SpoolSender(spool: spool, state: state, endpoint: { ("127.0.0.1", port) }, token: token,
                                     configuration: Self.fast, logger: TestEnvironment.logger)
            let task = Task { try await sender.run() }
            try await eventually("delivered, or waiting for a method kontord lacks") {
                try spool.depth() == 0 || state.read().lastError?.contains("method_not_found") == true
            }
            task.cancel()
            _ = try? await task.value
            #expect(try spool.deadLetterCount() == 0)
            let pending = try spool.pending()
            if let head = pending.first {
                // Phase 1: the head's method is the missing one; all before it were delivered.
                #expect(state.read().lastError?.contains(head.method) == true)
                #expect(pending.count + (state.read().sources.values.map(\.delivered).reduce(0, +)) == events.count)
            } else {
                // Phase 2: a replay changes nothing.
                try spool.appendBlocking(events)
                try await SpoolSender(spool: spool, state: state, endpoint: { ("127.0.0.1", port) }, token: token,
                                      configuration: Self.fast, logger: TestEnvironment.logger).drain()
                #expect(try spool.deadLetterCount() == 0)
                #expect(state.read().sources.values.map(\.duplicates).reduce(0, +) == events.count)
            }
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
        let exe = TestEnvironment.productsDirectory.appendingPathComponent("kontor-bridge")
        guard FileManager.default.isExecutableFile(atPath: exe.path) else {
            Issue.record("kontor-bridge is not built at \(exe.path)")
            return
        }
        let server = try await TestServer.start()
        let dir = try temporaryDirectory("import-contacts")
        do {
            let token = try await Self.robotToken(server)
            let environment = ["KONTOR_BRIDGE_SPOOL_DIR": dir.path, "KONTOR_BRIDGE_KONTORD_HOST": "127.0.0.1",
                               "KONTOR_BRIDGE_KONTORD_PORT": String(server.port), "KONTOR_BRIDGE_TOKEN": token, "PATH": "/usr/bin:/bin"]
            func run(_ args: [String]) async throws -> (status: Int32, output: String) {
                try await TestDatabase.blocking {
                    let p = Process()
                    p.executableURL = exe
                    p.arguments = args
                    p.environment = environment
                    let out = Pipe()
                    p.standardOutput = out
                    p.standardError = Pipe()
                    try p.run()
                    let data = out.fileHandleForReading.readDataToEndOfFile()
                    p.waitUntilExit()
                    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
                }
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
