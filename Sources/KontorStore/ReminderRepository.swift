import Foundation
import KontorDomain
import Postgres

extension ReminderStatus: PostgresCodable {
    public var postgresText: String { rawValue }
    public init?(postgresText text: String) { self.init(rawValue: text) }
}

extension ReminderChannel: PostgresCodable {
    public var postgresText: String { rawValue }
    public init?(postgresText text: String) { self.init(rawValue: text) }
}

extension DeliveryStatus: PostgresCodable {
    public var postgresText: String { rawValue }
    public init?(postgresText text: String) { self.init(rawValue: text) }
}

extension AuditEntity {
    /// Reminders: for whom, card, text, due time, channels, status.
    public static let reminder = AuditEntity(name: "reminder", snapshotFunction: "reminders_snapshot")
}

/// A new reminder, cleaned and checked by the caller.
public struct ReminderDraft: Sendable {
    /// For whom.
    public var userID: Int64
    /// The contact card.
    public var contactID: Int64?
    /// The company card.
    public var companyID: Int64?
    /// What to remember.
    public var text: String
    /// When it is due.
    public var dueAt: Date
    /// The time as it was written, for display.
    public var when: String?
    /// Where it goes when due.
    public var channels: [ReminderChannel]

    /// Makes one from its fields.
    public init(userID: Int64, contactID: Int64?, companyID: Int64?, text: String, dueAt: Date, when: String?, channels: [ReminderChannel]) {
        self.userID = userID; self.contactID = contactID; self.companyID = companyID; self.text = text; self.dueAt = dueAt
        self.when = when; self.channels = channels
    }
}

/// `reminder.list` filters; nil = any.
public struct ReminderFilter: Sendable {
    /// Only this user's reminders.
    public var userID: Int64?
    /// Only reminders on this contact.
    public var contactID: Int64?
    /// Only reminders on this company or its contacts.
    public var companyID: Int64?
    /// Statuses wanted; nil = any.
    public var statuses: [ReminderStatus]?
    /// Due at or after this instant.
    public var dueFrom: Date?
    /// Due before this instant.
    public var dueTo: Date?

    /// Makes one from its fields.
    public init(userID: Int64? = nil, contactID: Int64? = nil, companyID: Int64? = nil, statuses: [ReminderStatus]? = nil,
                dueFrom: Date? = nil, dueTo: Date? = nil) {
        self.userID = userID; self.contactID = contactID; self.companyID = companyID; self.statuses = statuses
        self.dueFrom = dueFrom; self.dueTo = dueTo
    }
}

/// A reminder row locked for a change.
public struct LockedReminder: Sendable {
    /// The record id.
    public var id: Int64
    /// Its version.
    public var version: Int
    /// Its status.
    public var status: ReminderStatus
    /// For whom.
    public var userID: Int64
    /// Who made it.
    public var createdBy: Int64?
}

/// A reminder whose time came, claimed for firing.
public struct DueReminder: Sendable {
    /// The record id.
    public var id: Int64
    /// For whom.
    public var userID: Int64
    /// The user's login.
    public var userLogin: String
    /// The user's full name.
    public var userName: String
    /// The contact card.
    public var contactID: Int64?
    /// The contact's display name.
    public var contactName: String?
    /// The company card.
    public var companyID: Int64?
    /// The company's name.
    public var companyName: String?
    /// What to remember.
    public var text: String
    /// The due time of this occurrence.
    public var dueAt: Date
    /// Where it goes when due.
    public var channels: [ReminderChannel]
    /// Who set it (the chronicle names them).
    public var createdBy: Int64?
}

/// A user's webhook endpoint.
public struct WebhookEndpoint: Sendable, Equatable {
    /// Whose.
    public var userID: Int64
    /// The HTTPS endpoint.
    public var url: String
    /// The HMAC key; never sent to clients after it was first shown.
    public var secret: String
    /// When it was made.
    public var createdAt: Date
    /// The last change.
    public var updatedAt: Date
}

/// A webhook delivery claimed by one instance for an attempt.
public struct ClaimedDelivery: Sendable {
    /// The delivery id.
    public var id: Int64
    /// Whose webhook.
    public var userID: Int64
    /// The event name (`reminder.due`).
    public var event: String
    /// The URL when the reminder fired.
    public var url: String?
    /// The exact body every attempt sends.
    public var body: String
    /// Attempts made so far.
    public var attempts: Int
}

/// Reminders, their firings, the users' webhook endpoints and the webhook deliveries.
/// Reads apply the caller's `Visibility` twice: to the card the reminder is on and to the
/// user it is for (a sales user sees their department's reminders on cards they see).
/// Writes are audited (entity `reminder`). No role checks.
public struct ReminderRepository {
    let conn: PostgresConnection
    var audit: AuditRepository { AuditRepository(conn) }

    /// Makes one from its fields.
    public init(_ conn: PostgresConnection) { self.conn = conn }

    static func visible(_ vis: Visibility) -> SQL {
        "(\(vis.predicate(owner: "coalesce(c.owner_id, co.owner_id)")) AND \(vis.predicate(owner: "r.user_id")))"
    }

    static func select() -> SQL {
        """
        SELECT r.id, r.user_id, u.full_name AS user_name, r.contact_id, \(LeadRepository.contactName("c")) AS contact_name,
               r.company_id, co.name AS company_name, r.text, r.due_at, r.when_text, r.channels, r.status, r.fired_at, r.snoozes,
               r.version, r.created_at, r.created_by, r.updated_at, r.due_at::text AS due_key,
               d.id AS d_id, d.status AS d_status, d.url AS d_url, d.attempts AS d_attempts, d.next_attempt_at AS d_next,
               d.last_status_code AS d_code, d.last_error AS d_error, d.delivered_at AS d_delivered
        FROM reminders r
        JOIN users u ON u.id = r.user_id
        LEFT JOIN contacts c ON c.id = r.contact_id
        LEFT JOIN companies co ON co.id = r.company_id
        LEFT JOIN LATERAL (
            SELECT wd.* FROM reminder_firings f JOIN webhook_deliveries wd ON wd.firing_id = f.id
            WHERE f.reminder_id = r.id ORDER BY f.id DESC LIMIT 1
        ) d ON true
        """
    }

    static func delivery(_ r: PostgresRow, prefix p: String) throws -> WebhookDelivery? {
        guard let id = try r.decode("\(p)id", as: Int64?.self) else { return nil }
        return WebhookDelivery(id: id, status: try r.decode("\(p)status"), url: try r.decode("\(p)url", as: String?.self),
                               attempts: try r.decode("\(p)attempts"), nextAttemptAt: try r.decode("\(p)next", as: Date?.self),
                               lastStatusCode: try r.decode("\(p)code", as: Int?.self), lastError: try r.decode("\(p)error", as: String?.self),
                               deliveredAt: try r.decode("\(p)delivered", as: Date?.self), attemptLog: nil)
    }

    static func reminder(_ r: PostgresRow) throws -> Reminder {
        Reminder(id: try r.decode("id"), userID: try r.decode("user_id"), userName: try r.decode("user_name"),
                 contactID: try r.decode("contact_id", as: Int64?.self), contactName: try r.decode("contact_name", as: String?.self),
                 companyID: try r.decode("company_id", as: Int64?.self), companyName: try r.decode("company_name", as: String?.self),
                 text: try r.decode("text"), dueAt: try r.decode("due_at"), when: try r.decode("when_text", as: String?.self),
                 channels: try r.decode("channels"), status: try r.decode("status"), firedAt: try r.decode("fired_at", as: Date?.self),
                 snoozes: try r.decode("snoozes"), webhook: try delivery(r, prefix: "d_"), version: try r.decode("version"),
                 createdAt: try r.decode("created_at"), createdBy: try r.decode("created_by", as: Int64?.self),
                 updatedAt: try r.decode("updated_at"))
    }

    // MARK: - Reading

    /// One reminder, nil when missing or invisible.
    public func get(id: Int64, visibility: Visibility) throws -> Reminder? {
        try conn.query("\(Self.select()) WHERE r.id = \(id) AND \(Self.visible(visibility))").first.map(Self.reminder)
    }

    /// A page of reminders, soonest due first, and how many match. Call inside
    /// `PostgresConnection.snapshot` so that the total and the page agree.
    public func list(_ f: ReminderFilter, visibility: Visibility, after cursor: KeysetCursor?, limit: Int) throws -> Page<Reminder> {
        var conds: [SQL] = [Self.visible(visibility)]
        if let u = f.userID { conds.append("r.user_id = \(u)") }
        if let c = f.contactID { conds.append("r.contact_id = \(c)") }
        if let c = f.companyID { conds.append("(r.company_id = \(c) OR c.company_id = \(c))") }
        if let s = f.statuses { conds.append("r.status = ANY(\(s.map(\.rawValue)))") }
        if let d = f.dueFrom { conds.append("r.due_at >= \(d)") }
        if let d = f.dueTo { conds.append("r.due_at < \(d)") }
        let whereSQL = SQL.joined(conds, separator: " AND ")
        let total: Int = try conn.query("""
            SELECT count(*) AS n FROM reminders r LEFT JOIN contacts c ON c.id = r.contact_id LEFT JOIN companies co ON co.id = r.company_id
            WHERE \(whereSQL)
            """).one().decode("n")
        let keyset: SQL = cursor.map { "(r.due_at, r.id) > (\($0.at)::timestamptz, \($0.id))" } ?? "TRUE"
        let rows = try conn.query("\(Self.select()) WHERE \(whereSQL) AND \(keyset) ORDER BY r.due_at, r.id LIMIT \(limit + 1)")
        var items = try rows.map(Self.reminder)
        var next: KeysetCursor?
        if items.count > limit {
            items.removeLast()
            next = KeysetCursor(at: try rows[limit - 1].decode("due_key"), id: items[limit - 1].id)
        }
        return Page(items: items, total: total, next: next)
    }

    /// Every firing of a reminder with its webhook delivery and attempts, oldest first.
    public func firings(reminderID: Int64) throws -> [(id: Int64, dueAt: Date, firedAt: Date, instance: String, chronicleID: Int64?, webhook: WebhookDelivery?)] {
        let rows = try conn.query("""
            SELECT f.id, f.due_at, f.fired_at, f.instance, f.chronicle_id,
                   d.id AS d_id, d.status AS d_status, d.url AS d_url, d.attempts AS d_attempts, d.next_attempt_at AS d_next,
                   d.last_status_code AS d_code, d.last_error AS d_error, d.delivered_at AS d_delivered
            FROM reminder_firings f LEFT JOIN webhook_deliveries d ON d.firing_id = f.id
            WHERE f.reminder_id = \(reminderID) ORDER BY f.id
            """)
        return try rows.map { r in
            var d = try Self.delivery(r, prefix: "d_")
            if let id = d?.id { d?.attemptLog = try attempts(deliveryID: id) }
            return (try r.decode("id"), try r.decode("due_at"), try r.decode("fired_at"), try r.decode("instance"),
                    try r.decode("chronicle_id", as: Int64?.self), d)
        }
    }

    /// The attempts of one delivery, oldest first.
    public func attempts(deliveryID: Int64) throws -> [WebhookAttempt] {
        try conn.query("""
            SELECT attempt, started_at, duration_ms, status_code, error, instance FROM webhook_attempts
            WHERE delivery_id = \(deliveryID) ORDER BY attempt
            """).map { r in
            WebhookAttempt(attempt: try r.decode("attempt"), startedAt: try r.decode("started_at"), durationMs: try r.decode("duration_ms"),
                           statusCode: try r.decode("status_code", as: Int?.self), error: try r.decode("error", as: String?.self),
                           instance: try r.decode("instance"))
        }
    }

    /// Locks a visible reminder and checks its version.
    /// - Throws: `not_found` (missing or invisible), `conflict` (stale version).
    public func lock(_ id: Int64, version: Int?, visibility: Visibility) throws -> LockedReminder {
        guard let r = try conn.query("""
            SELECT r.id, r.version, r.status, r.user_id, r.created_by FROM reminders r
            LEFT JOIN contacts c ON c.id = r.contact_id LEFT JOIN companies co ON co.id = r.company_id
            WHERE r.id = \(id) AND \(Self.visible(visibility)) FOR UPDATE OF r
            """).first else { throw KontorError.notFound("reminder \(id)") }
        let l = LockedReminder(id: try r.decode("id"), version: try r.decode("version"), status: try r.decode("status"),
                               userID: try r.decode("user_id"), createdBy: try r.decode("created_by", as: Int64?.self))
        if let version, version != l.version { throw KontorError.conflict(currentVersion: l.version) }
        return l
    }

    // MARK: - Writing

    /// Creates a reminder; audited as `create`.
    public func create(_ d: ReminderDraft, stamp: ChangeStamp) throws -> Int64 {
        let id: Int64 = try conn.query("""
            INSERT INTO reminders (user_id, contact_id, company_id, text, due_at, when_text, channels, status, created_at, created_by,
                                   updated_at, updated_by)
            VALUES (\(d.userID), \(d.contactID), \(d.companyID), \(d.text), \(d.dueAt), \(d.when), \(d.channels.map(\.rawValue)), 'pending',
                    \(stamp.at), \(stamp.actorID), \(stamp.at), \(stamp.actorID))
            RETURNING id
            """).one().decode("id")
        try audit.record(.reminder, id: id, action: "create", before: nil, stamp: stamp)
        return id
    }

    /// Cancels a locked pending reminder; audited as `cancel`.
    public func cancel(_ r: LockedReminder, stamp: ChangeStamp) throws {
        let before = try audit.snapshot(.reminder, id: r.id)
        try conn.execute("""
            UPDATE reminders SET status = 'cancelled', version = version + 1, updated_at = \(stamp.at), updated_by = \(stamp.actorID)
            WHERE id = \(r.id)
            """)
        try audit.record(.reminder, id: r.id, action: "cancel", before: before, stamp: stamp)
    }

    /// Sets a locked reminder's due time again (pending, to fire once more); audited as `snooze`.
    public func snooze(_ r: LockedReminder, until: Date, when: String?, stamp: ChangeStamp) throws {
        let before = try audit.snapshot(.reminder, id: r.id)
        try conn.execute("""
            UPDATE reminders SET status = 'pending', due_at = \(until), when_text = \(when), snoozes = snoozes + 1, version = version + 1,
                   updated_at = \(stamp.at), updated_by = \(stamp.actorID)
            WHERE id = \(r.id)
            """)
        try audit.record(.reminder, id: r.id, action: "snooze", before: before, stamp: stamp)
    }

    // MARK: - Firing

    /// Claims pending reminders due at `now`, soonest first. Rows another transaction
    /// holds (another instance firing them) are skipped, and a row fired meanwhile no
    /// longer matches, so each is claimed by one transaction only.
    public func claimDue(now: Date, limit: Int) throws -> [DueReminder] {
        try conn.query("""
            SELECT r.id, r.user_id, u.login, u.full_name, r.contact_id, \(LeadRepository.contactName("c")) AS contact_name, r.company_id,
                   co.name AS company_name, r.text, r.due_at, r.channels, r.created_by
            FROM reminders r
            JOIN users u ON u.id = r.user_id
            LEFT JOIN contacts c ON c.id = r.contact_id
            LEFT JOIN companies co ON co.id = r.company_id
            WHERE r.status = 'pending' AND r.due_at <= \(now)
            ORDER BY r.due_at, r.id
            LIMIT \(limit)
            FOR UPDATE OF r SKIP LOCKED
            """).map { r in
            DueReminder(id: try r.decode("id"), userID: try r.decode("user_id"), userLogin: try r.decode("login"), userName: try r.decode("full_name"),
                        contactID: try r.decode("contact_id", as: Int64?.self), contactName: try r.decode("contact_name", as: String?.self),
                        companyID: try r.decode("company_id", as: Int64?.self), companyName: try r.decode("company_name", as: String?.self),
                        text: try r.decode("text"), dueAt: try r.decode("due_at"), channels: try r.decode("channels"),
                        createdBy: try r.decode("created_by", as: Int64?.self))
        }
    }

    /// Records the firing of a claimed reminder's current occurrence and marks it fired.
    /// - Returns: the firing id, nil when this occurrence had fired already (the unique
    ///   occurrence key refused it; nothing is delivered again).
    public func fire(_ r: DueReminder, at: Date, instance: String) throws -> Int64? {
        let firing: Int64? = try conn.query("""
            INSERT INTO reminder_firings (reminder_id, due_at, fired_at, instance)
            VALUES (\(r.id), \(r.dueAt), \(at), \(instance))
            ON CONFLICT (reminder_id, due_at) DO NOTHING
            RETURNING id
            """).first?.decode("id")
        try conn.execute("""
            UPDATE reminders SET status = 'fired', fired_at = \(at), version = version + 1, updated_at = \(at)
            WHERE id = \(r.id) AND status = 'pending'
            """)
        return firing
    }

    /// Links a firing to the chronicle entry it wrote.
    public func setFiringChronicle(firingID: Int64, chronicleID: Int64) throws {
        try conn.execute("UPDATE reminder_firings SET chronicle_id = \(chronicleID) WHERE id = \(firingID)")
    }

    /// When the next pending reminder is due, nil when none is.
    public func nextDue() throws -> Date? {
        try conn.query("SELECT min(due_at) AS d FROM reminders WHERE status = 'pending'").one().decode("d", as: Date?.self)
    }

    // MARK: - Webhook endpoints

    /// The user's endpoint, nil when none.
    public func webhook(userID: Int64) throws -> WebhookEndpoint? {
        try conn.query("SELECT user_id, url, secret, created_at, updated_at FROM user_webhooks WHERE user_id = \(userID)").first.map { r in
            WebhookEndpoint(userID: try r.decode("user_id"), url: try r.decode("url"), secret: try r.decode("secret"),
                            createdAt: try r.decode("created_at"), updatedAt: try r.decode("updated_at"))
        }
    }

    /// Sets the user's endpoint. A new secret is stored when `newSecret` is given (the
    /// first time, or a rotation); otherwise the secret stays. Audited (entity `user_webhook`,
    /// never the secret).
    public func setWebhook(userID: Int64, url: String, newSecret: String?, stamp: ChangeStamp) throws {
        let before = try webhook(userID: userID)
        if before == nil {
            guard let newSecret else { throw PostgresError.client("a new webhook needs a secret") }
            try conn.execute("""
                INSERT INTO user_webhooks (user_id, url, secret, created_at, updated_at, updated_by)
                VALUES (\(userID), \(url), \(newSecret), \(stamp.at), \(stamp.at), \(stamp.actorID))
                """)
        } else {
            try conn.execute("""
                UPDATE user_webhooks SET url = \(url), secret = coalesce(\(newSecret), secret), version = version + 1,
                       updated_at = \(stamp.at), updated_by = \(stamp.actorID)
                WHERE user_id = \(userID)
                """)
        }
        let change = "{\"url\":{\"before\":\(Self.jsonString(before?.url)),\"after\":\(Self.jsonString(url))}"
            + (newSecret != nil ? ",\"secret\":{\"before\":null,\"after\":\"(new secret)\"}}" : "}")
        try audit.record(.userWebhook, id: userID, action: before == nil ? "create" : "update", before: nil, after: nil, stamp: stamp,
                         extra: PostgresJSONB(change))
    }

    /// Removes the user's endpoint. - Returns: whether there was one.
    public func deleteWebhook(userID: Int64, stamp: ChangeStamp) throws -> Bool {
        guard let before = try webhook(userID: userID) else { return false }
        try conn.execute("DELETE FROM user_webhooks WHERE user_id = \(userID)")
        try audit.record(.userWebhook, id: userID, action: "delete", before: nil, after: nil, stamp: stamp,
                         extra: PostgresJSONB("{\"url\":{\"before\":\(Self.jsonString(before.url)),\"after\":null}}"))
        return true
    }

    static func jsonString(_ s: String?) -> String {
        guard let s else { return "null" }
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }

    // MARK: - Webhook deliveries

    /// A delivery for a firing: `pending` and due at `at` when the user has an endpoint,
    /// else `failed` at once with the reason.
    public func createDelivery(firingID: Int64, userID: Int64, event: String, url: String?, body: String, at: Date) throws -> Int64 {
        try conn.query("""
            INSERT INTO webhook_deliveries (firing_id, user_id, event, url, body, status, attempts, next_attempt_at, last_error, created_at)
            VALUES (\(firingID), \(userID), \(event), \(url), \(body), \(url == nil ? "failed" : "pending"), 0,
                    \(url == nil ? nil : at), \(url == nil ? "the user has no webhook (user.webhook.set)" : nil), \(at))
            RETURNING id
            """).one().decode("id")
    }

    /// Claims pending deliveries due at `now` for one attempt each: they are leased to
    /// `instance` until `leaseUntil` (a crashed instance's lease runs out and another
    /// takes over), so two instances never attempt one delivery at the same time.
    public func claimDeliveries(now: Date, leaseUntil: Date, instance: String, limit: Int) throws -> [ClaimedDelivery] {
        try conn.query("""
            UPDATE webhook_deliveries d SET lease_until = \(leaseUntil), lease_instance = \(instance)
            FROM (
                SELECT id FROM webhook_deliveries
                WHERE status = 'pending' AND next_attempt_at <= \(now) AND (lease_until IS NULL OR lease_until <= \(now))
                ORDER BY next_attempt_at, id
                LIMIT \(limit)
                FOR UPDATE SKIP LOCKED
            ) due
            WHERE d.id = due.id
            RETURNING d.id, d.user_id, d.event, d.url, d.body, d.attempts
            """).map { r in
            ClaimedDelivery(id: try r.decode("id"), userID: try r.decode("user_id"), event: try r.decode("event"),
                            url: try r.decode("url", as: String?.self), body: try r.decode("body"), attempts: try r.decode("attempts"))
        }
    }

    /// Records one attempt and its outcome: delivered, retried at `retryAt`, or (retryAt
    /// nil after a failure) given up. Only the instance holding the lease records.
    /// `url` is where it was posted (the user's URL at the attempt), nil when not posted.
    /// - Returns: false when the lease was lost (another instance took the delivery over).
    public func recordAttempt(deliveryID: Int64, instance: String, attempt: Int, url: String? = nil, startedAt: Date, durationMs: Int, statusCode: Int?,
                              error: String?, delivered: Bool, retryAt: Date?) throws -> Bool {
        let status: DeliveryStatus = delivered ? .delivered : (retryAt == nil ? .failed : .pending)
        let updated = try conn.execute("""
            UPDATE webhook_deliveries SET status = \(status), attempts = \(attempt), url = coalesce(\(url), url), last_status_code = \(statusCode), last_error = \(error),
                   delivered_at = CASE WHEN \(delivered) THEN \(startedAt)::timestamptz END,
                   next_attempt_at = \(retryAt), lease_until = NULL, lease_instance = NULL
            WHERE id = \(deliveryID) AND status = 'pending' AND lease_instance = \(instance)
            """)
        guard updated > 0 else { return false }
        try conn.execute("""
            INSERT INTO webhook_attempts (delivery_id, attempt, started_at, duration_ms, status_code, error, instance)
            VALUES (\(deliveryID), \(attempt), \(startedAt), \(durationMs), \(statusCode), \(error), \(instance))
            """)
        return true
    }

    /// When the next pending delivery is due, nil when none waits.
    public func nextDeliveryDue() throws -> Date? {
        try conn.query("""
            SELECT min(greatest(next_attempt_at, coalesce(lease_until, next_attempt_at))) AS d FROM webhook_deliveries WHERE status = 'pending'
            """).one().decode("d", as: Date?.self)
    }
}

extension AuditEntity {
    /// Users' webhook endpoints (URL changes and secret rotations, never the secret).
    public static let userWebhook = AuditEntity(name: "user_webhook", snapshotFunction: nil)
}
