import Foundation
#if canImport(Glibc)
import Glibc
#endif

// Tasks, reminders and the chronicle (issue 5). These are the wire shapes too: field
// names become snake_case (`assigneeID` → `assignee_id`). docs/TASKS.md explains them.

// MARK: - Tasks

/// Where a task stands.
public enum TaskStatus: String, Sendable, Codable, CaseIterable, Hashable {
    /// To do.
    case open
    /// Done (`task.complete`).
    case done
    /// Dropped (`task.cancel`): no longer needed.
    case cancelled
}

/// The `source` filter of the task lists: one channel, or a group of them as the sales
/// team names them (messengers, social networks).
public enum TaskSourceFilter: String, Sendable, Codable, CaseIterable, Hashable {
    case phone, email, site, telegram, viber, facebook, instagram, manual, `import`
    /// Telegram and Viber.
    case messengers
    /// Facebook and Instagram.
    case social

    /// The channels this filter stands for.
    public var sources: [ContactSource] {
        switch self {
        case .messengers: return [.telegram, .viber]
        case .social: return [.facebook, .instagram]
        case .phone: return [.phone]
        case .email: return [.email]
        case .site: return [.site]
        case .telegram: return [.telegram]
        case .viber: return [.viber]
        case .facebook: return [.facebook]
        case .instagram: return [.instagram]
        case .manual: return [.manual]
        case .import: return [.import]
        }
    }
}

/// The `due` filter of the task lists, in the business time zone.
public enum TaskDue: String, Sendable, Codable, CaseIterable, Hashable {
    /// Open and due before now.
    case overdue
    /// Due today (00:00 to 24:00 local), passed or not.
    case today
    /// Due tomorrow.
    case tomorrow
    /// Due this week, Monday 00:00 to the next Monday 00:00 local.
    case thisWeek = "this_week"
    /// Without a due time.
    case none

    /// The instants this bucket covers at `now` (nil for `none`, which means "no due time",
    /// and for `overdue`, which is "before now").
    public func range(now: Date, calendar: BusinessCalendar) -> Range<Date>? {
        switch self {
        case .overdue, .none: return nil
        case .today: return calendar.dayRange(containing: now)
        case .tomorrow: return calendar.dayRange(containing: now, offsetDays: 1)
        case .thisWeek: return calendar.weekRange(containing: now)
        }
    }
}

/// A task: work for a person, with a due time, a source and the records it concerns.
public struct TaskRecord: Sendable, Codable, Equatable {
    /// The record id.
    public var id: Int64
    /// What to do, in a line.
    public var title: String
    /// Details.
    public var notes: String?
    /// `open`, `done` or `cancelled`.
    public var status: TaskStatus
    /// Who does it (nil: unassigned).
    public var assigneeID: Int64?
    /// The assignee's full name.
    public var assigneeName: String?
    /// When it is due (nil: no due time).
    public var dueAt: Date?
    /// Open and due before the request's time.
    public var overdue: Bool
    /// Where the work came from: the channel (`phone`, `email`, `telegram`, ...) or `manual`.
    public var source: ContactSource
    /// The contact it concerns.
    public var contactID: Int64?
    /// The contact's display name (null when the caller may not see the contact).
    public var contactName: String?
    /// The company it concerns.
    public var companyID: Int64?
    /// The company's name (null when the caller may not see it).
    public var companyName: String?
    /// The lead it concerns.
    public var leadID: Int64?
    /// The lead's status.
    public var leadStatus: LeadStatus?
    /// The oldest inquiry still without a response that the task's lead (or, without a
    /// lead, its contact's open leads) has; nil when none waits.
    public var waitingSince: Date?
    /// Seconds since `waitingSince` at the request's time.
    public var waitingSeconds: Int?
    /// The largest configured threshold `waitingSeconds` is over (e.g. 7200), nil when under all.
    public var waitingOver: Int?
    /// When it was completed or cancelled.
    public var completedAt: Date?
    /// Who completed or cancelled it.
    public var completedBy: Int64?
    /// What was done (given with `task.complete`).
    public var completionNote: String?
    /// Optimistic-concurrency version; changes send the one they read.
    public var version: Int
    /// When it was made (server clock).
    public var createdAt: Date
    /// Who made it.
    public var createdBy: Int64?
    /// The last change.
    public var updatedAt: Date
    /// Who changed it last.
    public var updatedBy: Int64?

    /// Makes one from its fields.
    public init(id: Int64, title: String, notes: String?, status: TaskStatus, assigneeID: Int64?, assigneeName: String?, dueAt: Date?,
                overdue: Bool, source: ContactSource, contactID: Int64?, contactName: String?, companyID: Int64?, companyName: String?,
                leadID: Int64?, leadStatus: LeadStatus?, waitingSince: Date?, waitingSeconds: Int?, waitingOver: Int?, completedAt: Date?,
                completedBy: Int64?, completionNote: String?, version: Int, createdAt: Date, createdBy: Int64?, updatedAt: Date,
                updatedBy: Int64?) {
        self.id = id; self.title = title; self.notes = notes; self.status = status; self.assigneeID = assigneeID
        self.assigneeName = assigneeName; self.dueAt = dueAt; self.overdue = overdue; self.source = source; self.contactID = contactID
        self.contactName = contactName; self.companyID = companyID; self.companyName = companyName; self.leadID = leadID
        self.leadStatus = leadStatus; self.waitingSince = waitingSince; self.waitingSeconds = waitingSeconds; self.waitingOver = waitingOver
        self.completedAt = completedAt; self.completedBy = completedBy; self.completionNote = completionNote; self.version = version
        self.createdAt = createdAt; self.createdBy = createdBy; self.updatedAt = updatedAt; self.updatedBy = updatedBy
    }
}

// MARK: - Reminders

/// How a due reminder reaches its user.
public enum ReminderChannel: String, Sendable, Codable, CaseIterable, Hashable {
    /// An entry in the user's chronicle (activity feed), pushed to subscribed sessions as
    /// `chronicle.entry`.
    case chronicle
    /// A `reminder.due` push to the user's subscribed sessions, on whichever instance.
    case app
    /// A signed HTTPS POST to the user's webhook (mobile or browser push gateways),
    /// retried with back-off.
    case webhook
}

/// Where a reminder stands.
public enum ReminderStatus: String, Sendable, Codable, CaseIterable, Hashable {
    /// Waiting for its time.
    case pending
    /// Its time came and it was delivered to its channels (webhooks may still be retried).
    case fired
    /// Cancelled before it fired.
    case cancelled
}

/// A webhook delivery's state.
public enum DeliveryStatus: String, Sendable, Codable, CaseIterable, Hashable {
    /// Not delivered yet; retried at `next_attempt_at`.
    case pending
    /// The endpoint answered 2xx.
    case delivered
    /// Given up: every attempt failed, or the user has no webhook.
    case failed
}

/// The webhook side of one firing: its state and every attempt.
public struct WebhookDelivery: Sendable, Codable, Equatable {
    /// The delivery id (also sent as `X-Kontor-Delivery`, so receivers can drop repeats).
    public var id: Int64
    /// `pending`, `delivered` or `failed`.
    public var status: DeliveryStatus
    /// The URL it goes to.
    public var url: String?
    /// Attempts made so far.
    public var attempts: Int
    /// When the next attempt is due (pending only).
    public var nextAttemptAt: Date?
    /// The HTTP status of the last attempt, nil when it got none.
    public var lastStatusCode: Int?
    /// Why the last attempt failed.
    public var lastError: String?
    /// When it was delivered.
    public var deliveredAt: Date?
    /// Every attempt, oldest first (only in `reminder.get`).
    public var attemptLog: [WebhookAttempt]?

    /// Makes one from its fields.
    public init(id: Int64, status: DeliveryStatus, url: String?, attempts: Int, nextAttemptAt: Date?, lastStatusCode: Int?, lastError: String?,
                deliveredAt: Date?, attemptLog: [WebhookAttempt]?) {
        self.id = id; self.status = status; self.url = url; self.attempts = attempts; self.nextAttemptAt = nextAttemptAt
        self.lastStatusCode = lastStatusCode; self.lastError = lastError; self.deliveredAt = deliveredAt; self.attemptLog = attemptLog
    }
}

/// One HTTP attempt of a webhook delivery.
public struct WebhookAttempt: Sendable, Codable, Equatable {
    /// 1 for the first attempt.
    public var attempt: Int
    /// When it started (server clock).
    public var startedAt: Date
    /// How long it took, in milliseconds.
    public var durationMs: Int
    /// The HTTP status, nil when no answer came (connection refused, timeout).
    public var statusCode: Int?
    /// What went wrong, nil on success.
    public var error: String?
    /// The instance that made it.
    public var instance: String

    /// Makes one from its fields.
    public init(attempt: Int, startedAt: Date, durationMs: Int, statusCode: Int?, error: String?, instance: String) {
        self.attempt = attempt; self.startedAt = startedAt; self.durationMs = durationMs; self.statusCode = statusCode
        self.error = error; self.instance = instance
    }
}

/// A reminder left on a contact or company card for a user.
public struct Reminder: Sendable, Codable, Equatable {
    /// The record id.
    public var id: Int64
    /// For whom.
    public var userID: Int64
    /// Their full name.
    public var userName: String
    /// The contact card it is on.
    public var contactID: Int64?
    /// The contact's display name.
    public var contactName: String?
    /// The company card it is on.
    public var companyID: Int64?
    /// The company's name.
    public var companyName: String?
    /// What to remember.
    public var text: String
    /// When it is (or was) due.
    public var dueAt: Date
    /// The time as it was written (`tomorrow 09:00`), for display.
    public var when: String?
    /// Where it goes when due.
    public var channels: [ReminderChannel]
    /// `pending`, `fired` or `cancelled`.
    public var status: ReminderStatus
    /// When it last fired (server clock); later than `due_at` when the servers were down.
    public var firedAt: Date?
    /// How many times it was snoozed.
    public var snoozes: Int
    /// The webhook delivery of its last firing (null without the webhook channel).
    public var webhook: WebhookDelivery?
    /// Optimistic-concurrency version.
    public var version: Int
    /// When it was made.
    public var createdAt: Date
    /// Who made it.
    public var createdBy: Int64?
    /// The last change.
    public var updatedAt: Date

    /// Makes one from its fields.
    public init(id: Int64, userID: Int64, userName: String, contactID: Int64?, contactName: String?, companyID: Int64?, companyName: String?,
                text: String, dueAt: Date, when: String?, channels: [ReminderChannel], status: ReminderStatus, firedAt: Date?, snoozes: Int,
                webhook: WebhookDelivery?, version: Int, createdAt: Date, createdBy: Int64?, updatedAt: Date) {
        self.id = id; self.userID = userID; self.userName = userName; self.contactID = contactID; self.contactName = contactName
        self.companyID = companyID; self.companyName = companyName; self.text = text; self.dueAt = dueAt; self.when = when
        self.channels = channels; self.status = status; self.firedAt = firedAt; self.snoozes = snoozes; self.webhook = webhook
        self.version = version; self.createdAt = createdAt; self.createdBy = createdBy; self.updatedAt = updatedAt
    }
}

// MARK: - Chronicle

/// What a chronicle entry is about.
public enum ChronicleKind: String, Sendable, Codable, CaseIterable, Hashable {
    /// A reminder of the user's came due.
    case reminder
    /// A task was assigned to the user (by someone else, or from a lead template).
    case taskAssigned = "task_assigned"
    /// A lead was assigned to the user (by someone else or by the robots' routing).
    case leadAssigned = "lead_assigned"
    /// A lead of the user's (of nobody's: every admin's) became `overdue_identification`.
    case leadOverdue = "lead_overdue"
    /// Someone wrote `@login` in a comment.
    case mention
}

/// One entry of a user's chronicle (activity feed).
public struct ChronicleEntry: Sendable, Codable, Equatable {
    /// The entry id; entries of one user only grow.
    public var id: Int64
    /// What it is about.
    public var kind: ChronicleKind
    /// When it happened (server clock).
    public var at: Date
    /// One line for people.
    public var text: String
    /// Who caused it (nil: the system).
    public var actorID: Int64?
    /// Their full name.
    public var actorName: String?
    /// The contact it concerns.
    public var contactID: Int64?
    /// The contact's display name (null when the reader may not see the contact).
    public var contactName: String?
    /// The company it concerns.
    public var companyID: Int64?
    /// The company's name (null when the reader may not see it).
    public var companyName: String?
    /// The lead it concerns.
    public var leadID: Int64?
    /// The task it concerns.
    public var taskID: Int64?
    /// The reminder that fired.
    public var reminderID: Int64?
    /// The comment that mentions the user.
    public var commentID: Int64?
    /// Whether the user marked it read.
    public var read: Bool
    /// When it was marked read.
    public var readAt: Date?

    /// Makes one from its fields.
    public init(id: Int64, kind: ChronicleKind, at: Date, text: String, actorID: Int64?, actorName: String?, contactID: Int64?, contactName: String?,
                companyID: Int64?, companyName: String?, leadID: Int64?, taskID: Int64?, reminderID: Int64?, commentID: Int64?, read: Bool,
                readAt: Date?) {
        self.id = id; self.kind = kind; self.at = at; self.text = text; self.actorID = actorID; self.actorName = actorName
        self.contactID = contactID; self.contactName = contactName; self.companyID = companyID; self.companyName = companyName
        self.leadID = leadID; self.taskID = taskID; self.reminderID = reminderID; self.commentID = commentID; self.read = read; self.readAt = readAt
    }
}

// MARK: - Webhook signatures

/// How reminder webhooks are signed, so that receivers (and tests) agree on the bytes.
///
/// Each POST carries `X-Kontor-Timestamp: <unix seconds>` and
/// `X-Kontor-Signature: sha256=<hex>`, the HMAC-SHA256 with the user's webhook secret
/// (its UTF-8 bytes as the key) over `<timestamp>.<body>`. A receiver recomputes it,
/// compares in constant time, and refuses timestamps more than a few minutes away from
/// its clock (replays).
public enum WebhookSignature {
    /// The signed text: `<timestamp>.<body>`.
    public static func signedPayload(timestamp: Int64, body: String) -> String { "\(timestamp).\(body)" }

    /// The header with the signing time (unix seconds).
    public static let timestampHeader = "X-Kontor-Timestamp"
    /// The header with `sha256=<hex>`.
    public static let signatureHeader = "X-Kontor-Signature"
    /// The header with the delivery id (the same on every retry).
    public static let deliveryHeader = "X-Kontor-Delivery"
    /// The header with the event name (`reminder.due`).
    public static let eventHeader = "X-Kontor-Event"
}

/// Which webhook URLs kontord posts to: `https://` with a host, no credentials in the
/// URL, and not this machine or a link-local address (SSRF: any sales user sets their own
/// URL, and the attempt log shows what happened, so kontord must not become a probe of its
/// own ports or of a cloud metadata service). The loopback address is allowed only when the
/// configuration says so (`KONTOR_WEBHOOK_ALLOW_LOOPBACK`, or `…_ALLOW_HTTP_LOOPBACK`, which
/// also allows plain `http://` there: tests, a gateway on the same machine).
///
/// Refused hosts, in every spelling the resolver accepts (`127.1`, `2130706433`,
/// `0x7f.0.0.1`, `[::ffff:127.0.0.1]`): `localhost` and `*.localhost`, 127/8, 0/8,
/// 169.254/16, multicast and broadcast, `::1`, `::`, fe80::/10, ff00::/8. Private networks
/// (10/8, 172.16/12, 192.168/16, fc00::/7) are allowed: an in-house push gateway is a
/// normal place for a webhook. A DNS name is not resolved here, so a name that points at
/// one of these addresses is caught only by an egress firewall (docs/TASKS.md).
public enum WebhookURL {
    /// Why `text` is not an acceptable webhook URL, nil when it is.
    /// - Parameters:
    ///   - allowHTTPLoopback: the loopback address is allowed, with `http://` too.
    ///   - allowLoopback: the loopback address is allowed over `https://`.
    public static func problem(_ text: String, allowHTTPLoopback: Bool, allowLoopback: Bool = false) -> String? {
        guard text.count <= 2000, !text.contains(where: { $0.isWhitespace }), let url = URL(string: text),
              let scheme = url.scheme?.lowercased(), let host = url.host, !host.isEmpty else {
            return "not a URL; write e.g. https://push.example.com/kontor"
        }
        if url.user != nil || url.password != nil { return "a webhook URL may not carry a user name or password; the signature authenticates kontord" }
        if url.fragment != nil { return "a webhook URL has no #fragment" }
        let kind = classify(host)
        if kind == .local { return "a webhook may not point at a link-local, multicast or unspecified address" }
        switch scheme {
        case "https":
            if kind == .loopback, !(allowLoopback || allowHTTPLoopback) { return "a webhook may not point at this machine (the loopback address)" }
            return nil
        case "http":
            if allowHTTPLoopback, kind == .loopback { return nil }
            return allowHTTPLoopback ? "plain http is allowed only to the loopback address; use https://"
                                     : "webhooks must use https:// (plain http is refused)"
        default:
            return "webhooks must use https://"
        }
    }

    /// What a URL's host names, as far as can be told without resolving it.
    public enum HostKind: Sendable, Equatable {
        /// This machine: `localhost`, 127/8, `::1`.
        case loopback
        /// Link-local, multicast, broadcast or unspecified: never a webhook.
        case local
        /// Anything else (a name, a public or private address).
        case other
    }

    /// Classifies a URL host (brackets and a trailing dot allowed), reading IPv4 addresses as
    /// the C resolver does (`inet_aton`: `127.1`, `0x7f.1`, `2130706433`).
    public static func classify(_ rawHost: String) -> HostKind {
        var host = rawHost.lowercased()
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        while host.hasSuffix(".") { host.removeLast() }
        if host == "localhost" || host.hasSuffix(".localhost") { return .loopback }
        var v4 = in_addr()
        if !host.contains(":"), inet_aton(host, &v4) != 0 { return classify(v4: UInt32(bigEndian: v4.s_addr)) }
        var v6 = in6_addr()
        if host.contains(":"), inet_pton(AF_INET6, host.split(separator: "%", maxSplits: 1).first.map(String.init) ?? host, &v6) == 1 {
            let b = withUnsafeBytes(of: &v6) { Array($0) }
            if b[0..<10].allSatisfy({ $0 == 0 }), (b[10] == 0xff && b[11] == 0xff) || (b[10] == 0 && b[11] == 0 && b[12..<15].contains { $0 != 0 }) {
                // IPv4-mapped (::ffff:a.b.c.d) or IPv4-compatible (::a.b.c.d).
                return classify(v4: UInt32(b[12]) << 24 | UInt32(b[13]) << 16 | UInt32(b[14]) << 8 | UInt32(b[15]))
            }
            if b[0..<15].allSatisfy({ $0 == 0 }) { return b[15] == 1 ? .loopback : .local }   // ::1, ::
            if b[0] == 0xfe && b[1] & 0xc0 == 0x80 { return .local }   // fe80::/10
            if b[0] == 0xff { return .local }                          // multicast
            return .other
        }
        return .other
    }

    static func classify(v4 a: UInt32) -> HostKind {
        switch a >> 24 {
        case 127: return .loopback
        case 0: return .local
        case 224...255: return .local   // multicast, reserved, broadcast
        default: return a >> 16 == 0xa9fe ? .local : .other   // 169.254/16
        }
    }
}
