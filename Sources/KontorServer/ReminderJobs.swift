import AsyncHTTPClient
import Crypto
import Foundation
import KontorDomain
import KontorProtocol
import KontorStore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOSSL
import Postgres

/// The background work of issue 5: firing due reminders (`reminders.fire`), delivering
/// their webhooks (`webhooks.deliver`) and turning lead templates' first tasks into tasks
/// (`tasks.first_tasks`). docs/TASKS.md ("Exactly once") describes the design.
enum ReminderJobs {
    static let fireJobName = "reminders.fire"
    static let deliverJobName = "webhooks.deliver"
    static let firstTasksJobName = "tasks.first_tasks"
    /// Reminders fired per transaction.
    static let batch = 50

    /// The three jobs, the fire job waking the delivery job after a firing with a webhook.
    static func jobs(_ app: App) -> [BackgroundJob] {
        let deliver = BackgroundJob(name: deliverJobName, interval: 30, app: app) { app in try await deliverDue(app) }
        let fire = BackgroundJob(name: fireJobName, interval: 30, app: app) { [deliver] app in
            let (next, webhooks) = try await fireDue(app)
            if webhooks { deliver.wake() }
            return next
        }
        let firstTasks = BackgroundJob(name: firstTasksJobName, interval: 60, app: app) { app in
            let now = app.clock.now()
            let made = try await app.transaction { conn in
                try TaskService.materializeFirstTasks(conn, leadID: nil, limit: 100,
                                                      stamp: ChangeStamp(actorID: nil, method: firstTasksJobName, at: now))
            }
            return made >= 100 ? 0.01 : nil
        }
        return [fire, deliver, firstTasks]
    }

    // MARK: - Firing

    /// What a webhook receives for a due reminder (the body is fixed when the reminder
    /// fires: every retry sends the same bytes).
    struct WebhookBody: Encodable, Sendable {
        struct ReminderPart: Encodable, Sendable {
            var id: Int64
            var text: String
            var dueAt: Date
            var firedAt: Date
            var contactID: Int64?
            var contactName: String?
            var companyID: Int64?
            var companyName: String?
        }
        struct UserPart: Encodable, Sendable {
            var id: Int64
            var login: String
            var fullName: String
        }
        var event = "reminder.due"
        /// The firing: the same for every attempt, so a receiver can drop repeats.
        var firingID: Int64
        var reminder: ReminderPart
        var user: UserPart
    }

    /// Fires every reminder due at now, one transaction per batch. Returns when to look
    /// again (the next due time) and whether webhook deliveries were made.
    static func fireDue(_ app: App) async throws -> (Double?, Bool) {
        let now = app.clock.now()
        let instance = app.configuration.instanceName
        var webhooks = false
        while true {
            let (claimed, hooks) = try await app.transaction { conn -> (Int, Int) in
                let repo = ReminderRepository(conn)
                let due = try repo.claimDue(now: now, limit: batch)
                var hooks = 0
                for r in due {
                    guard let firing = try repo.fire(r, at: now, instance: instance) else { continue }
                    if r.channels.contains(.chronicle) || r.channels.contains(.app) {
                        let entry = try ChronicleRepository(conn).insert(
                            userID: r.userID, kind: .reminder, at: now, text: r.text, actorID: r.createdBy, contactID: r.contactID,
                            companyID: r.companyID, reminderID: r.id, firingID: firing, inFeed: r.channels.contains(.chronicle),
                            pushApp: r.channels.contains(.app))
                        try repo.setFiringChronicle(firingID: firing, chronicleID: entry)
                    }
                    if r.channels.contains(.webhook) {
                        let endpoint = try repo.webhook(userID: r.userID)
                        let body = WebhookBody(firingID: firing, reminder: .init(id: r.id, text: r.text, dueAt: r.dueAt, firedAt: now,
                                                                                 contactID: r.contactID, contactName: r.contactName,
                                                                                 companyID: r.companyID, companyName: r.companyName),
                                               user: .init(id: r.userID, login: r.userLogin, fullName: r.userName))
                        _ = try repo.createDelivery(firingID: firing, userID: r.userID, event: "reminder.due", url: endpoint?.url,
                                                    body: try app.encoder.encode(body).jsonText, at: now)
                        hooks += 1
                    }
                    if now.timeIntervalSince(r.dueAt) > 60 {
                        app.logger.notice("reminder fired late", metadata: ["reminder": "\(r.id)", "late_s": "\(Int(now.timeIntervalSince(r.dueAt)))"])
                    }
                }
                return (due.count, hooks)
            }
            if hooks > 0 { webhooks = true }
            if claimed < batch { break }
        }
        let next = try await app.read { conn in try ReminderRepository(conn).nextDue() }
        return (next.map { max(0.05, $0.timeIntervalSince(app.clock.now())) }, webhooks)
    }

    // MARK: - Webhook delivery

    /// One HTTP client per CA setting for the life of the process (clients are cheap to
    /// keep and must not be dropped without a shutdown).
    private static let clients = NIOLockedValueBox<[String: HTTPClient]>([:])

    static func client(caFile: String?) throws -> HTTPClient {
        try clients.withLockedValue { all in
            let key = caFile ?? ""
            if let c = all[key] { return c }
            var tls = TLSConfiguration.makeClientConfiguration()
            if let caFile { tls.trustRoots = .file(caFile) }
            var timeout = HTTPClient.Configuration.Timeout()
            timeout.connect = .seconds(10)
            timeout.read = .seconds(60)
            var cfg = HTTPClient.Configuration(tlsConfiguration: tls, redirectConfiguration: .disallow, timeout: timeout,
                                               connectionPool: HTTPClient.Configuration.ConnectionPool(), proxy: nil,
                                               ignoreUncleanSSLShutdown: false, decompression: .disabled)
            cfg.httpVersion = .http1Only
            let c = HTTPClient(eventLoopGroupProvider: .singleton, configuration: cfg)
            all[key] = c
            return c
        }
    }

    /// The wait before retry number `attempt` (1 = after the first failure): base, 2×base,
    /// 4×base ... at most an hour.
    static func backoff(attempt: Int, base: Double) -> Double {
        min(3600, base * pow(2, Double(max(0, attempt - 1))))
    }


    /// Attempts every delivery due now (leased to this instance), records each attempt.
    static func deliverDue(_ app: App) async throws -> Double? {
        let cfg = app.configuration
        let instance = cfg.instanceName
        let now = app.clock.now()
        let lease = now.addingTimeInterval(cfg.webhookTimeout * 2 + 60)
        let claimed = try await app.transaction { conn in
            try ReminderRepository(conn).claimDeliveries(now: now, leaseUntil: lease, instance: instance, limit: 20)
        }
        await withTaskGroup(of: Void.self) { group in
            for d in claimed {
                group.addTask { await attempt(app, d) }
            }
        }
        if claimed.count >= 20 { return 0.01 }
        let next = try await app.read { conn in try ReminderRepository(conn).nextDeliveryDue() }
        return next.map { max(0.05, $0.timeIntervalSince(app.clock.now())) }
    }

    /// One attempt of one delivery, recorded whatever happens.
    static func attempt(_ app: App, _ d: ClaimedDelivery) async {
        let cfg = app.configuration
        let number = d.attempts + 1
        let started = app.clock.now()
        let t0 = DispatchTime.now().uptimeNanoseconds
        var statusCode: Int?
        var failure: String?
        var permanent = false
        var postedURL: String?
        do {
            // The endpoint as it is now: a URL fixed after a failure gets the retries, signed
            // with the current secret.
            let endpoint = try await app.read { conn in try ReminderRepository(conn).webhook(userID: d.userID) }
            if let endpoint {
                let url = endpoint.url
                postedURL = url
                if let problem = WebhookURL.problem(url, allowHTTPLoopback: cfg.webhookAllowHTTPLoopback,
                                                      allowLoopback: cfg.webhookAllowLoopback) {
                    failure = "refused URL: \(problem)"
                    permanent = true
                } else {
                    let ts = Int64(started.timeIntervalSince1970.rounded(.down))
                    var request = HTTPClientRequest(url: url)
                    request.method = .POST
                    request.headers.add(name: "Content-Type", value: "application/json")
                    request.headers.add(name: "User-Agent", value: "kontord/\(SessionHandlers.version)")
                    request.headers.add(name: WebhookSignature.eventHeader, value: d.event)
                    request.headers.add(name: WebhookSignature.deliveryHeader, value: String(d.id))
                    request.headers.add(name: WebhookSignature.timestampHeader, value: String(ts))
                    request.headers.add(name: WebhookSignature.signatureHeader, value: WebhookSigner.signature(secret: endpoint.secret, timestamp: ts, body: d.body))
                    request.body = .bytes(ByteBuffer(string: d.body))
                    let response = try await client(caFile: cfg.webhookCAFile).execute(request, timeout: .milliseconds(Int64(cfg.webhookTimeout * 1000)))
                    statusCode = Int(response.status.code)
                    // Read (and drop) a little of the answer so the connection can be reused,
                    // but only within what is left of the attempt's deadline: the client's
                    // deadline ends with the response head, and a body that trickles in must
                    // not hold the delivery job (and every other user's deliveries) for ever.
                    // The status decides the outcome; the body is never looked at.
                    let left = cfg.webhookTimeout - Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
                    await withTaskGroup(of: Void.self) { group in
                        group.addTask { _ = try? await response.body.collect(upTo: 64 * 1024) }
                        group.addTask { try? await Task.sleep(nanoseconds: UInt64(max(0.05, left) * 1e9)) }
                        await group.next()
                        group.cancelAll()
                    }
                    if !(200..<300).contains(Int(response.status.code)) {
                        failure = "the endpoint answered \(response.status.code) \(response.status.reasonPhrase)"
                    }
                }
            } else {
                failure = "the user's webhook was removed (user.webhook.set makes one)"
                permanent = true
            }
        } catch {
            failure = "\(error)".prefix(500).description
        }
        let durationMs = Int((DispatchTime.now().uptimeNanoseconds - t0) / 1_000_000)
        let delivered = failure == nil
        let (code, errorText, url) = (statusCode, failure, postedURL)
        let retryAt: Date? = (delivered || permanent || number >= cfg.webhookMaxAttempts)
            ? nil : started.addingTimeInterval(backoff(attempt: number, base: cfg.webhookRetryBase))
        do {
            let kept = try await app.transaction { conn in
                try ReminderRepository(conn).recordAttempt(deliveryID: d.id, instance: cfg.instanceName, attempt: number, url: url, startedAt: started,
                                                           durationMs: durationMs, statusCode: code, error: errorText,
                                                           delivered: delivered, retryAt: retryAt)
            }
            if !kept {
                app.logger.warning("webhook attempt not recorded: the lease passed to another instance", metadata: ["delivery": "\(d.id)"])
            } else if !delivered {
                app.logger.notice("webhook attempt failed", metadata: ["delivery": "\(d.id)", "attempt": "\(number)", "error": "\(failure ?? "")",
                                                                       "retry_at": "\(retryAt.map { "\($0)" } ?? "never")"])
            }
        } catch {
            // The lease runs out and the attempt is made again: at least once, never lost.
            app.logger.warning("webhook attempt could not be recorded; it will be retried", metadata: ["delivery": "\(d.id)", "error": "\(error)"])
        }
    }
}

/// How kontord signs reminder webhooks (docs/TASKS.md, "Webhooks"; `WebhookSignature`
/// names the headers).
public enum WebhookSigner {
    /// The `X-Kontor-Signature` value: `sha256=` and the hex HMAC-SHA256 of
    /// `<timestamp>.<body>` keyed with the secret's UTF-8 bytes.
    public static func signature(secret: String, timestamp: Int64, body: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(WebhookSignature.signedPayload(timestamp: timestamp, body: body).utf8),
                                                  using: SymmetricKey(data: Data(secret.utf8)))
        return "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
    }
}

/// Tasks made by the system: a lead template's first task.
enum TaskService {
    /// Turns pending first tasks (`lead_first_tasks` rows without a task) into tasks:
    /// source the lead's, related to the lead and its contact, assigned as the row says;
    /// each row is claimed with `FOR UPDATE SKIP LOCKED`, so it becomes one task whoever
    /// (lead.create, the job on any instance) gets there first.
    /// - Returns: how many tasks were made.
    static func materializeFirstTasks(_ conn: PostgresConnection, leadID: Int64?, limit: Int, stamp: ChangeStamp) throws -> Int {
        let repo = TaskRepository(conn)
        let pending = try repo.claimPendingFirstTasks(leadID: leadID, limit: limit)
        for p in pending {
            var s = stamp
            if s.actorID == nil { s.actorID = p.createdBy }
            let id = try repo.create(TaskDraft(title: p.title, assigneeID: p.assigneeID, dueAt: p.dueAt, source: p.source, contactID: p.contactID,
                                               leadID: p.leadID), stamp: s)
            try repo.linkFirstTask(leadID: p.leadID, taskID: id)
        }
        return pending.count
    }
}
