import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTLS
import KontorClient
import KontorDomain
import KontorProtocol
import KontorServer
import KontorTestSupport
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import Postgres
import ServiceLifecycle
import Testing

/// Pushes a connection received, collected in the background.
final class PushLog: Sendable {
    private let box = NIOLockedValueBox<[(method: String, params: JSONValue)]>([])
    private let task: Task<Void, Never>

    init(_ c: KontorConnection) {
        let box = self.box
        task = Task { for await n in c.notifications { box.withLockedValue { $0.append(n) } } }
    }

    deinit { task.cancel() }

    var all: [(method: String, params: JSONValue)] { box.withLockedValue { $0 } }
    func of(_ method: String) -> [JSONValue] { all.filter { $0.method == method }.map(\.params) }

    /// Waits until `condition` holds on the pushes (or `seconds` pass); returns whether it did.
    @discardableResult
    func wait(seconds: Double = 5, _ condition: ([(method: String, params: JSONValue)]) -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition(all) { return true }
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
        return condition(all)
    }
}

/// A webhook endpoint in the test: answers the statuses it is given in turn (then 200),
/// keeps every request, and checks each signature with the secret it is told.
final class WebhookReceiver: Sendable {
    struct Received: Sendable {
        var body: String
        var timestamp: String?
        var signature: String?
        var delivery: String?
        var event: String?
        var signatureValid: Bool
    }

    private let state: NIOLockedValueBox<(answers: [Int], received: [Received], secret: String)>
    let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, Error>

    var received: [Received] { state.withLockedValue { $0.received } }
    func setSecret(_ s: String) { state.withLockedValue { $0.secret = s } }

    /// Starts a receiver on 127.0.0.1; with `tls`, it speaks HTTPS.
    static func start(answers: [Int], tls: TLSConfiguration? = nil) async throws -> WebhookReceiver {
        let state = NIOLockedValueBox<(answers: [Int], received: [Received], secret: String)>((answers, [], ""))
        let router = Router()
        router.post("/hook") { req, _ -> Response in
            let body = String(buffer: try await req.body.collect(upTo: 1 << 20))
            func header(_ n: String) -> String? { HTTPField.Name(n).flatMap { req.headers[$0] } }
            let ts = header(WebhookSignature.timestampHeader)
            let sig = header(WebhookSignature.signatureHeader)
            let status = state.withLockedValue { s -> Int in
                // The receiving side's check: HMAC-SHA256 over "<timestamp>.<body>" with the secret.
                let expected = HMAC<SHA256>.authenticationCode(for: Data("\(ts ?? "").\(body)".utf8), using: SymmetricKey(data: Data(s.secret.utf8)))
                let hex = "sha256=" + expected.map { String(format: "%02x", $0) }.joined()
                s.received.append(Received(body: body, timestamp: ts, signature: sig, delivery: header(WebhookSignature.deliveryHeader),
                                           event: header(WebhookSignature.eventHeader), signatureValid: sig == hex))
                return s.answers.isEmpty ? 200 : s.answers.removeFirst()
            }
            return Response(status: .init(code: status), body: .init(byteBuffer: ByteBuffer(string: "ok")))
        }
        // Endpoints that hang: no answer at all, or a 200 whose body trickles in a byte at a
        // time (both until the receiver stops).
        let stopping = state
        @Sendable func stopped() -> Bool { stopping.withLockedValue { $0.secret == "(stopped)" } }
        router.post("/hang") { _, _ -> Response in
            while !stopped() { try await Task.sleep(nanoseconds: 50_000_000) }
            return Response(status: .ok)
        }
        router.post("/drip") { _, _ -> Response in
            Response(status: .ok, body: ResponseBody { writer in
                while !stopped() {
                    try await writer.write(ByteBuffer(string: "."))
                    try await Task.sleep(nanoseconds: 200_000_000)
                }
                try await writer.finish(nil)
            })
        }
        let (events, sink) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "test.webhook")
        logger.logLevel = .critical
        let running: @Sendable (any Channel) async -> Void = { ch in sink.yield(ch.localAddress?.port ?? 0) }
        let service: any Service
        if let tls {
            service = Application(router: router, server: try .tls(tlsConfiguration: tls),
                                  configuration: .init(address: .hostname("127.0.0.1", port: 0)), onServerRunning: running, logger: logger)
        } else {
            service = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), onServerRunning: running,
                                  logger: logger)
        }
        let group = ServiceGroup(configuration: .init(services: [.init(service: service)], logger: logger))
        let task = Task { try await group.run() }
        var port = 0
        for await p in events { port = p; break }
        return WebhookReceiver(state: state, port: port, group: group, task: task)
    }

    private init(state: NIOLockedValueBox<(answers: [Int], received: [Received], secret: String)>, port: Int, group: ServiceGroup,
                 task: Task<Void, Error>) {
        self.state = state; self.port = port; self.group = group; self.task = task
    }

    func stop() async {
        state.withLockedValue { $0.secret = "(stopped)" }
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}

@Suite("Reminders: time grammar, exactly once across instances and downtime, channels, webhooks")
struct ReminderTests {
    @Test("a reminder due at 09:00 Kyiv on the day clocks go forward fires at 06:00 UTC, not a second earlier")
    func dstMorning() async throws {
        try await withWorld { w in
            w.server.clock.set(at("2026-03-28T20:00:00+02:00"))
            let contact = try await w.dev.newContact("Spring Client")
            let pushes = PushLog(w.dev)
            _ = try await w.dev.call("notify.subscribe")
            let r = try await w.dev.call("reminder.create", ["text": "Call about the spring order", "when": "tomorrow 09:00",
                                                             "contact_id": num(contact.id)])
            #expect(r["due_at"]?.stringValue == "2026-03-29T09:00:00+03:00")
            #expect(r["due_at"]?.date == at("2026-03-29T06:00:00Z"))
            #expect(r["when"]?.stringValue == "tomorrow 09:00")
            #expect(r["channels"]?.items.compactMap(\.stringValue) == ["chronicle", "app"])
            let fire = try #require(w.server.server.job("reminders.fire"))

            w.server.clock.set(at("2026-03-29T05:59:59Z"))
            await fire.runNow()
            #expect(try await w.dev.call("reminder.get", ["id": num(r.id)])["status"]?.stringValue == "pending")

            w.server.clock.set(at("2026-03-29T06:00:00Z"))
            await fire.runNow()
            let fired = try await w.dev.call("reminder.get", ["id": num(r.id)])
            #expect(fired["status"]?.stringValue == "fired")
            #expect(fired["fired_at"]?.date == at("2026-03-29T06:00:00Z"))
            #expect(fired["firings"]?.items.count == 1)
            let feed = try await w.dev.call("chronicle.list")
            #expect(feed["entries"]?[0]?["kind"]?.stringValue == "reminder")
            #expect(feed["entries"]?[0]?["at"]?.stringValue == "2026-03-29T09:00:00+03:00")
            #expect(feed["entries"]?[0]?["contact_name"]?.stringValue == "Spring Client")
            #expect(feed["unread"]?.int == 1)
            // Pushed once, as reminder.due (it is in the feed too: chronicle_id says where).
            #expect(await pushes.wait { $0.contains { $0.method == "reminder.due" } })
            try await Task.sleep(nanoseconds: 300_000_000)
            let due = pushes.of("reminder.due")
            #expect(due.count == 1 && pushes.of("chronicle.entry").isEmpty)
            #expect(due.first?["reminder_id"]?.int64Value == r.id)
            #expect(due.first?["chronicle_id"]?.int64Value == feed["entries"]?[0]?.id)
            #expect(due.first?["text"]?.stringValue == "Call about the spring order")
        }
    }

    @Test("two instances on one database: a reminder for a user on instance B is pushed there once and written once")
    func twoInstances() async throws {
        let clock = KontorClock()
        clock.set(at("2026-11-20T10:00:00+02:00"))
        let a = try await TestServer.start(clock: clock)
        let b = try await TestServer.start(database: a.database, clock: clock)
        do {
            try await a.createUser("boss", role: .admin)
            let olena = try await a.createUser("olena", role: .user, department: .development)
            let onA = try await a.login("olena")
            let onB = try await b.login("olena")
            let pushesB = PushLog(onB)
            let pushesA = PushLog(onA)
            #expect(try await onB.call("notify.subscribe")["subscribed"] == .bool(true))
            _ = try await onA.call("notify.subscribe")
            let contact = try await onA.newContact("Shared Client")
            var ids: Set<Int64> = []
            for i in 0..<30 {
                ids.insert(try await onA.call("reminder.create", ["text": .string("Reminder \(i)"), "when": "in 10 minutes",
                                                                  "contact_id": num(contact.id)]).id)
            }
            clock.advance(600)
            // Both instances fire at the same moment.
            async let fa: Void = a.server.job("reminders.fire")!.runNow()
            async let fb: Void = b.server.job("reminders.fire")!.runNow()
            _ = await (fa, fb)
            #expect(await pushesB.wait { $0.filter { $0.method == "reminder.due" }.count >= 30 })
            #expect(await pushesA.wait { $0.filter { $0.method == "reminder.due" }.count >= 30 })
            try await Task.sleep(nanoseconds: 1_000_000_000)
            let onBIDs = pushesB.of("reminder.due").compactMap { $0["reminder_id"]?.int64Value }
            #expect(onBIDs.count == 30 && Set(onBIDs) == ids, "instance B pushed \(onBIDs.count)")
            #expect(pushesA.of("reminder.due").count == 30)
            let counts = try await a.database.with { conn in
                try conn.query("""
                    SELECT (SELECT count(*) FROM chronicle WHERE user_id = \(olena.id) AND kind = 'reminder') AS entries,
                           (SELECT count(*) FROM reminder_firings) AS firings,
                           (SELECT count(DISTINCT instance) FROM reminder_firings) AS instances
                    """).one()
            }
            #expect(try counts.decode("entries", as: Int.self) == 30)
            #expect(try counts.decode("firings", as: Int.self) == 30)
            #expect(try await onB.call("chronicle.list", ["limit": 200])["entries"]?.items.count == 30)
            await onA.close(); await onB.close()
        } catch {
            await b.stop(dropDatabase: false); await a.stop()
            throw error
        }
        await b.stop(dropDatabase: false)
        await a.stop()
    }

    @Test("server stopped across a reminder's due time: it fires on the next start, late, once")
    func downtime() async throws {
        let clock = KontorClock()
        clock.set(at("2026-11-20T10:00:00+02:00"))
        let first = try await TestServer.start(clock: clock)
        try await first.createUser("olena", role: .user, department: .development)
        let c = try await first.login("olena")
        let contact = try await c.newContact("Patient Client")
        let r = try await c.call("reminder.create", ["text": "Ring back", "when": "in 5 minutes", "contact_id": num(contact.id)])
        await c.close()
        await first.stop(dropDatabase: false)

        // Nobody runs while the reminder falls due.
        clock.advance(3600)
        let second = try await TestServer.start(database: first.database, clock: clock)
        await second.server.job("reminders.fire")?.runNow()
        let d = try await second.login("olena")
        let got = try await d.call("reminder.get", ["id": num(r.id)])
        #expect(got["status"]?.stringValue == "fired")
        #expect(got["due_at"]?.date == at("2026-11-20T10:05:00+02:00"))
        #expect(got["fired_at"]?.date == at("2026-11-20T11:00:00+02:00"))
        await d.close()
        await second.stop(dropDatabase: false)
        // A third start finds nothing left to fire.
        let third = try await TestServer.start(database: first.database, clock: clock)
        await third.server.job("reminders.fire")?.runNow()
        let n: Int = try await third.database.with { conn in
            try conn.query("SELECT (SELECT count(*) FROM reminder_firings) + (SELECT count(*) FROM chronicle WHERE kind = 'reminder') AS n").one().decode("n")
        }
        #expect(n == 2)
        await third.stop()
    }

    @Test("a webhook that fails twice then succeeds gets the same signed body three times, backing off, and is marked delivered")
    func webhookRetries() async throws {
        let receiver = try await WebhookReceiver.start(answers: [500, 503])
        let clock = KontorClock()
        clock.set(at("2026-11-20T10:00:00+02:00"))
        let server = try await TestServer.start(clock: clock) { $0.webhookAllowHTTPLoopback = true }
        do {
            try await server.createUser("olena", role: .user, department: .development)
            let c = try await server.login("olena")
            // https is required unless the loopback exception is configured (it is here).
            #expect(await failure { _ = try await c.call("user.webhook.set", ["url": "http://push.example.com/hook"]) }?.kind == .invalidParams)
            let set = try await c.call("user.webhook.set", ["url": .string("http://127.0.0.1:\(receiver.port)/hook")])
            let secret = try #require(set["secret"]?.stringValue)
            receiver.setSecret(secret)
            #expect(try await c.call("user.webhook.get")["secret"] == .null)
            // Changing the URL keeps the secret; only a rotation shows a new one.
            #expect(try await c.call("user.webhook.set", ["url": .string("http://127.0.0.1:\(receiver.port)/hook")])["secret"] == .null)

            let contact = try await c.newContact("Hooked Client")
            let r = try await c.call("reminder.create", ["text": "Send the contract", "when": "in 1 minute", "contact_id": num(contact.id),
                                                         "channels": ["webhook"]])
            clock.advance(60)
            await server.server.job("reminders.fire")?.runNow()
            let deliver = try #require(server.server.job("webhooks.deliver"))
            await deliver.runNow()
            #expect(receiver.received.count == 1)
            var state = try await c.call("reminder.get", ["id": num(r.id)])["webhook"]
            #expect(state?["status"]?.stringValue == "pending" && state?["attempts"]?.int == 1 && state?["last_status_code"]?.int == 500)
            #expect(state?["next_attempt_at"]?.date == at("2026-11-20T10:01:30+02:00"))   // 30 s later
            // Not due yet: nothing is sent.
            clock.advance(29)
            await deliver.runNow()
            #expect(receiver.received.count == 1)
            clock.advance(1)
            await deliver.runNow()
            #expect(receiver.received.count == 2)
            state = try await c.call("reminder.get", ["id": num(r.id)])["webhook"]
            #expect(state?["last_status_code"]?.int == 503 && state?["next_attempt_at"]?.date == at("2026-11-20T10:02:30+02:00"))   // 60 s later
            clock.advance(60)
            await deliver.runNow()
            #expect(receiver.received.count == 3)
            clock.advance(3600)
            await deliver.runNow()
            #expect(receiver.received.count == 3)

            let card = try await c.call("reminder.get", ["id": num(r.id)])
            #expect(card["webhook"]?["status"]?.stringValue == "delivered")
            #expect(card["webhook"]?["attempts"]?.int == 3)
            let log = card["firings"]?[0]?["webhook"]?["attempt_log"]?.items ?? []
            #expect(log.compactMap { $0["status_code"]?.int } == [500, 503, 200])
            #expect(log.last?["error"] == .null)
            let got = receiver.received
            #expect(got.allSatisfy { $0.signatureValid })
            #expect(Set(got.map(\.body)).count == 1, "every attempt sends the same body")
            #expect(Set(got.compactMap(\.delivery)).count == 1)
            #expect(got.map(\.event) == ["reminder.due", "reminder.due", "reminder.due"])
            #expect(got.compactMap(\.timestamp) == ["1795161660", "1795161690", "1795161750"])
            let body = try JSONValue.parse(Array(got[0].body.utf8))
            #expect(body["event"]?.stringValue == "reminder.due")
            #expect(body["reminder"]?["text"]?.stringValue == "Send the contract")
            #expect(body["reminder"]?["contact_name"]?.stringValue == "Hooked Client")
            #expect(body["user"]?["login"]?.stringValue == "olena")
            // Webhook only: nothing in the feed.
            #expect(try await c.call("chronicle.list")["entries"]?.items.isEmpty == true)
            await c.close()
        } catch {
            await server.stop(); await receiver.stop()
            throw error
        }
        await server.stop()
        await receiver.stop()
    }

    /// A private CA's certificate for `localhost` and 127.0.0.1, made by openssl in `dir`:
    /// (certificate file, key file).
    static func makeCertificate(in dir: URL) throws -> (cert: String, key: String) {
        let cert = dir.appendingPathComponent("hook.crt").path, key = dir.appendingPathComponent("hook.key").path
        let rc = try runCommand(["/usr/bin/env", "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                                 "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
                                 "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                                environment: ProcessInfo.processInfo.environment)
        guard rc == 0 else { throw PostgresError.client("openssl req exited with \(rc)") }
        return (cert, key)
    }

    @Test("an https webhook of a private CA (KONTOR_WEBHOOK_CA_FILE) is delivered over TLS; a URL fixed after a failure gets the retry")
    func webhookOverTLS() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kontor-hook-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let (certFile, keyFile) = try Self.makeCertificate(in: dir)
        let tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certFile).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem)))
        let receiver = try await WebhookReceiver.start(answers: [], tls: tls)
        let clock = KontorClock()
        clock.set(at("2026-11-20T10:00:00+02:00"))
        // https only (no loopback exception), trusting the private CA.
        let server = try await TestServer.start(clock: clock) {
            $0.webhookCAFile = certFile
            $0.webhookAllowLoopback = true   // the receiver runs on this machine
            $0.webhookRetryBase = 10
            // A refused connection is retried by the HTTP client until the attempt's deadline.
            $0.webhookTimeout = 2
        }
        do {
            try await server.createUser("olena", role: .user, department: .development)
            let c = try await server.login("olena")
            #expect(await c.refusal("user.webhook.set", ["url": .string("http://127.0.0.1:\(receiver.port)/hook")])?.kind == .invalidParams)
            // First a URL where nothing listens (port 1): the attempt fails and is retried.
            let set = try await c.call("user.webhook.set", ["url": "https://localhost:1/hook"])
            receiver.setSecret(try #require(set["secret"]?.stringValue))
            let contact = try await c.newContact("Secure Client")
            let r = try await c.call("reminder.create", ["text": "Renew the contract", "when": "in 1 minute", "contact_id": num(contact.id),
                                                         "channels": ["webhook", "chronicle"]])
            clock.advance(60)
            await server.server.job("reminders.fire")?.runNow()
            let deliver = try #require(server.server.job("webhooks.deliver"))
            await deliver.runNow()
            var hook = try await c.call("reminder.get", ["id": num(r.id)])["webhook"]
            #expect(hook?["status"]?.stringValue == "pending" && hook?["attempts"]?.int == 1 && hook?["last_status_code"] == .null)
            #expect(hook?["last_error"]?.stringValue?.isEmpty == false)
            // The user fixes the URL; the retry goes there, over TLS, and is delivered.
            _ = try await c.call("user.webhook.set", ["url": .string("https://localhost:\(receiver.port)/hook")])
            clock.advance(10)
            await deliver.runNow()
            hook = try await c.call("reminder.get", ["id": num(r.id)])["webhook"]
            #expect(hook?["status"]?.stringValue == "delivered" && hook?["attempts"]?.int == 2 && hook?["last_status_code"]?.int == 200,
                    "\(String(describing: hook))")
            #expect(hook?["url"]?.stringValue == "https://localhost:\(receiver.port)/hook")
            #expect(receiver.received.count == 1 && receiver.received.allSatisfy(\.signatureValid))
            #expect(try await c.call("chronicle.list")["entries"]?.items.count == 1)
            await c.close()
        } catch {
            await server.stop(); await receiver.stop()
            throw error
        }
        await server.stop()
        await receiver.stop()
    }

    @Test("a job woken early (a reminder created anywhere) runs once more and then sleeps: it does not spin")
    func wokenJobsSleep() async throws {
        try await withWorld { w in
            let jobs = ["reminders.fire", "webhooks.deliver", "notify.push", "scheduler"].compactMap { w.server.server.job($0) }
            #expect(jobs.count == 4)
            try await Task.sleep(nanoseconds: 300_000_000)
            let contact = try await w.dev.newContact("Quiet Client")
            for j in jobs { j.wake() }
            _ = try await w.dev.call("reminder.create", ["text": "Later", "when": "in 2 hours", "contact_id": num(contact.id)])
            try await Task.sleep(nanoseconds: 300_000_000)
            let before = jobs.map(\.runCount)
            try await Task.sleep(nanoseconds: 1_500_000_000)
            let after = jobs.map(\.runCount)
            for (i, j) in jobs.enumerated() {
                #expect(after[i] - before[i] <= 1, "\(j.name) ran \(after[i] - before[i]) times in 1.5 s while nothing was due")
            }
        }
    }

    @Test("the signature example of docs/TASKS.md is what kontord computes")
    func signatureExample() {
        #expect(WebhookSigner.signature(secret: "kwh_test-secret", timestamp: 1_795_161_660, body: #"{"event":"reminder.due"}"#)
                == "sha256=345909628a3d0975617b9a999970d7860913e123d38e78c7ba41a65e4e381eeb")
    }

    @Test("who may set, cancel and snooze reminders; a snoozed reminder fires again; bad input changes nothing")
    func rules() async throws {
        try await withWorld { w in
            w.server.clock.set(at("2026-11-20T10:00:00+02:00"))
            let devCard = try await w.dev.newContact("Dev Card")
            let company = try await w.dev.call("company.create", ["name": "ТОВ Папір"])
            // Users set reminders for themselves only; admins for anyone who may see the card.
            #expect(await failure { _ = try await w.dev.call("reminder.create", ["text": "x", "when": "in 1 hour", "contact_id": num(devCard.id),
                                                                                   "user_id": num(w.dev2User.id)]) }?.kind == .forbidden)
            let forTaras = try await w.admin.call("reminder.create", ["text": "Check Olena's card", "when": "in 1 hour", "contact_id": num(devCard.id),
                                                                      "user_id": num(w.dev2User.id)])
            #expect(forTaras["user_id"]?.int64Value == w.dev2User.id)
            let notHers = await w.admin.refusal("reminder.create", ["text": "x", "when": "in 1 hour", "contact_id": num(devCard.id),
                                                                                   "user_id": num(w.serviceUser.id)])
            #expect(notHers?.kind == .invalidParams && notHers?.data["field"] == .string("user_id"), "\(String(describing: notHers))")
            #expect(await failure { _ = try await w.service.call("reminder.create", ["text": "x", "when": "in 1 hour",
                                                                                       "contact_id": num(devCard.id)]) }?.kind == .notFound)
            #expect(await failure { _ = try await w.dev.call("reminder.create", ["text": "x", "when": "yesterday 10:00",
                                                                                   "contact_id": num(devCard.id)]) }?.kind == .invalidParams)
            #expect(await failure { _ = try await w.dev.call("reminder.create", ["text": "x", "when": "2026-11-20T09:00:00+02:00",
                                                                                   "contact_id": num(devCard.id)]) }?.kind == .invalidParams)
            #expect(await failure { _ = try await w.dev.call("reminder.create", ["text": "x", "when": "in 1 hour", "contact_id": num(devCard.id),
                                                                                   "company_id": num(company.id)]) }?.kind == .invalidParams)
            #expect(await failure { _ = try await w.dev.call("reminder.create", ["text": "x", "when": "in 1 hour", "contact_id": num(devCard.id),
                                                                                   "channels": ["webhook"]]) }?.kind == .invalidParams)
            let mine = try await w.dev.call("reminder.create", ["text": "Invoice", "when": "monday 10:00", "company_id": num(company.id)])
            #expect(mine["due_at"]?.stringValue == "2026-11-23T10:00:00+02:00")
            #expect(mine["company_name"]?.stringValue == "ТОВ Папір")
            #expect(try await w.count("reminders") == 2)

            // Lists: mine by default; a card's for everyone who sees it; the service department sees none of these.
            #expect(try await w.dev.call("reminder.list")["reminders"]?.ids == [mine.id])
            #expect(try await w.dev.call("reminder.list", ["contact_id": num(devCard.id)])["reminders"]?.ids == [forTaras.id])
            #expect(try await w.service.call("reminder.list", ["user_id": num(w.dev2User.id)])["total"]?.int == 0)
            // A colleague who sees it may not cancel it; its user may.
            #expect(await failure { _ = try await w.dev.call("reminder.cancel", ["id": num(forTaras.id)]) }?.kind == .forbidden)
            #expect(await failure { _ = try await w.dev2.call("reminder.cancel", ["id": num(forTaras.id), "version": 9]) }?.kind == .conflict)
            #expect(try await w.dev2.call("reminder.cancel", ["id": num(forTaras.id)])["status"]?.stringValue == "cancelled")
            #expect(await failure { _ = try await w.dev2.call("reminder.cancel", ["id": num(forTaras.id)]) }?.kind == .invalidTransition)

            // Fire, then snooze: it fires again at the new time, a second occurrence.
            w.server.clock.set(at("2026-11-23T10:00:00+02:00"))
            await w.server.server.job("reminders.fire")?.runNow()
            #expect(try await w.dev.call("reminder.get", ["id": num(mine.id)])["status"]?.stringValue == "fired")
            let snoozed = try await w.dev.call("reminder.snooze", ["id": num(mine.id), "when": "in 15 minutes"])
            #expect(snoozed["status"]?.stringValue == "pending" && snoozed["snoozes"]?.int == 1)
            #expect(snoozed["due_at"]?.stringValue == "2026-11-23T10:15:00+02:00")
            w.server.clock.advance(15 * 60)
            await w.server.server.job("reminders.fire")?.runNow()
            let twice = try await w.dev.call("reminder.get", ["id": num(mine.id)])
            #expect(twice["status"]?.stringValue == "fired" && twice["firings"]?.items.count == 2)
            #expect(try await w.dev.call("chronicle.list", ["kind": "reminder"])["entries"]?.items.count == 2)
            #expect(try await w.dev.call("reminder.list", ["status": "fired"])["reminders"]?.ids == [mine.id])
            let audit = try await w.dev.call("audit.list", ["entity": "reminder", "entity_id": num(mine.id)])["entries"]?.items ?? []
            #expect(audit.compactMap { $0["action"]?.stringValue } == ["snooze", "create"])
        }
    }
    @Test("a webhook endpoint that never answers, or answers 200 and then trickles its body, costs one attempt's deadline, not the job")
    func webhookThatHangs() async throws {
        let receiver = try await WebhookReceiver.start(answers: [])
        let clock = KontorClock()
        clock.set(at("2026-11-20T10:00:00+02:00"))
        let server = try await TestServer.start(clock: clock) { $0.webhookAllowHTTPLoopback = true; $0.webhookTimeout = 1 }
        do {
            try await server.createUser("olena", role: .user, department: .development)
            let c = try await server.login("olena")
            let contact = try await c.newContact("Slow Client")
            let deliver = try #require(server.server.job("webhooks.deliver"))
            for (path, delivered) in [("drip", true), ("hang", false)] {
                _ = try await c.call("user.webhook.set", ["url": .string("http://127.0.0.1:\(receiver.port)/\(path)")])
                let r = try await c.call("reminder.create", ["text": .string(path), "when": "in 1 minute", "contact_id": num(contact.id),
                                                             "channels": ["webhook"]])
                clock.advance(60)
                await server.server.job("reminders.fire")?.runNow()
                let t0 = Date()
                await deliver.runNow()
                let took = Date().timeIntervalSince(t0)
                #expect(took < 6, "\(path): the delivery job was held \(took) s by one endpoint")
                let hook = try await c.call("reminder.get", ["id": num(r.id)])["webhook"]
                #expect(hook?["attempts"]?.int == 1, "\(path): \(String(describing: hook))")
                if delivered {
                    // The 2xx status arrived: the receiver has it, whatever its body does.
                    #expect(hook?["status"]?.stringValue == "delivered" && hook?["last_status_code"]?.int == 200, "\(String(describing: hook))")
                } else {
                    #expect(hook?["status"]?.stringValue == "pending" && hook?["last_error"]?.stringValue?.isEmpty == false)
                }
            }
            await c.close()
        } catch {
            await server.stop(); await receiver.stop()
            throw error
        }
        await server.stop()
        await receiver.stop()
    }

    @Test("webhook URLs to this machine or link-local addresses (SSRF) are refused in every spelling; other hosts are fine")
    func webhookSSRF() async throws {
        try await withWorld { w in
            for url in ["https://127.0.0.1/hook", "https://localhost/hook", "https://LOCALHOST./hook", "https://api.localhost/hook",
                        "https://[::1]/hook", "https://127.1/hook", "https://2130706433/hook", "https://0x7f.0.0.1/hook", "https://0177.0.0.1/hook",
                        "https://0.0.0.0/hook", "https://0/hook", "https://169.254.169.254/latest/meta-data", "https://[fe80::1]/hook",
                        "https://[::ffff:127.0.0.1]/hook", "https://[::]/hook", "https://224.0.0.1/hook"] {
                let refused = await w.dev.refusal("user.webhook.set", ["url": .string(url)])
                #expect(refused?.kind == .invalidParams, "\(url) was accepted")
            }
            #expect(try await w.dev.call("user.webhook.get")["url"] == .null)
            _ = try await w.dev.call("user.webhook.set", ["url": "https://10.1.2.3/hook"])
            _ = try await w.dev.call("user.webhook.set", ["url": "https://push.example.com/kontor"])
        }
    }

    @Test("an app reminder that fired while its user was offline is pushed when they next subscribe, once")
    func appReminderWhileOffline() async throws {
        try await withWorld { w in
            w.server.clock.set(at("2026-11-20T10:00:00+02:00"))
            let contact = try await w.dev.newContact("Offline Client")
            let appOnly = try await w.dev.call("reminder.create", ["text": "App only", "when": "in 1 minute", "contact_id": num(contact.id),
                                                                   "channels": ["app"]])
            let both = try await w.dev.call("reminder.create", ["text": "Both", "when": "in 1 minute", "contact_id": num(contact.id)])
            w.server.clock.advance(60)
            await w.server.server.job("reminders.fire")?.runNow()
            // Nobody was subscribed. The user comes back.
            let later = try await w.server.login("olena")
            let pushes = PushLog(later)
            _ = try await later.call("notify.subscribe")
            #expect(await pushes.wait { $0.filter { $0.method == "reminder.due" }.count >= 2 })
            try await Task.sleep(nanoseconds: 500_000_000)
            #expect(Set(pushes.of("reminder.due").compactMap { $0["reminder_id"]?.int64Value }) == [appOnly.id, both.id])
            #expect(pushes.of("reminder.due").count == 2)
            // Delivered: another session subscribing later does not get them again.
            let third = try await w.server.login("olena")
            let again = PushLog(third)
            _ = try await third.call("notify.subscribe")
            try await Task.sleep(nanoseconds: 700_000_000)
            #expect(again.of("reminder.due").isEmpty)
            // One fired while a session was subscribed is not repeated to the next one either.
            let live = try await w.dev.call("reminder.create", ["text": "Live", "when": "in 1 minute", "contact_id": num(contact.id),
                                                                "channels": ["app"]])
            w.server.clock.advance(60)
            await w.server.server.job("reminders.fire")?.runNow()
            #expect(await pushes.wait { $0.contains { $0.params["reminder_id"]?.int64Value == live.id } })
            try await Task.sleep(nanoseconds: 300_000_000)
            let fourth = try await w.server.login("olena")
            let none = PushLog(fourth)
            _ = try await fourth.call("notify.subscribe")
            try await Task.sleep(nanoseconds: 700_000_000)
            #expect(none.of("reminder.due").isEmpty)
            #expect(again.of("reminder.due").compactMap { $0["reminder_id"]?.int64Value } == [live.id])
            await later.close(); await third.close(); await fourth.close()
        }
    }

    @Test("reminder times around the autumn clock change, with offsets, far away or malformed: right instant or invalid_params, nothing written")
    func reminderTimes() async throws {
        try await withWorld { w in
            let contact = try await w.dev.newContact("Autumn Client")
            func due(_ when: String) async throws -> String? {
                try await w.dev.call("reminder.create", ["text": "x", "when": .string(when), "contact_id": num(contact.id)])["due_at"]?.stringValue
            }
            // 20:00 on the Saturday before clocks go back at 04:00 (to 03:00) on 2026-10-25.
            w.server.clock.set(at("2026-10-24T20:00:00+03:00"))
            #expect(try await due("tomorrow 03:30") == "2026-10-25T03:30:00+03:00")   // the first 03:30
            #expect(try await due("tomorrow 09:00") == "2026-10-25T09:00:00+02:00")
            #expect(try await due("in 1 day") == "2026-10-25T20:00:00+02:00")          // 25 hours later
            #expect(try await due("in 24 hours") == "2026-10-25T19:00:00+02:00")
            #expect(try await due("2026-10-25T03:30:00+02:00") == "2026-10-25T03:30:00+02:00")   // the second 03:30, by its offset
            #expect(try await due("2026-10-25T01:30:00Z") == "2026-10-25T03:30:00+02:00")
            // Spring: 03:30 does not happen on 2026-03-29; it is 04:00.
            w.server.clock.set(at("2026-03-28T20:00:00+02:00"))
            #expect(try await due("tomorrow 03:30") == "2026-03-29T04:00:00+03:00")
            #expect(try await due("in 1 day") == "2026-03-29T20:00:00+03:00")          // 23 hours later
            let before = try await w.count("reminders")
            for bad in ["", "   ", "tomorrow 24:00", "tomorrow 9", "in -1 hours", "in 1.5 hours", "in 2 hours ago", "in", "next",
                        "2026-02-30", "2026-13-01 10:00", "yesterday", "at", "завтра 09:00", "in 100001 minutes", "in 99999999999999999999 days",
                        "2026-03-28T10:00:00+02:00", "1969-12-31T23:59:59Z", "2032-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
                        "99999-01-01T00:00:00Z", "2026-11-20T25:00:00+02:00", "2026-11-20T10:00:00+25:00", "in 100000 weeks",
                        String(repeating: "in 1 hour ", count: 1000)] {
                let refused = await w.dev.refusal("reminder.create", ["text": "x", "when": .string(bad), "contact_id": num(contact.id)])
                #expect(refused?.kind == .invalidParams && refused?.data["field"] == .string("when"), "\(bad.prefix(40)): \(String(describing: refused))")
            }
            #expect(try await w.count("reminders") == before)
        }
    }
}
