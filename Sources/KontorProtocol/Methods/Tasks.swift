import Foundation
import KontorDomain

/// Tasks, reminders, users' webhooks, the chronicle, live notifications and the planners
/// (issue 5). docs/PROTOCOL.md ("Tasks", "Reminders", "Chronicle and live notifications",
/// "Planners") has the shapes; docs/TASKS.md the rules.
public enum TaskMethods {
    /// The methods of this family, for `MethodCatalogue.all`.
    public static let catalogue: [MethodInfo] = [
        MethodInfo("task.create", "Create a task: title, assignee, due time (RFC 3339 or \"tomorrow 09:00\"), related contact, company or lead, source.",
                   params: ["title: string", "notes: string?", "assignee_id: int?", "due_at: time?", "source: string?", "contact_id: int?",
                            "company_id: int?", "lead_id: int?"],
                   positional: ["title"]),
        MethodInfo("task.get", "A task with its related records and waiting time.", params: ["id: int"]),
        MethodInfo("task.update", "Change a task's title, notes, assignee, due time or source (send the version you read).",
                   params: ["id: int", "version: int", "title: string?", "notes: string?", "assignee_id: int?", "due_at: time?", "source: string?"]),
        MethodInfo("task.complete", "Mark a task done, with an optional note on what was done.",
                   params: ["id: int", "version: int?", "note: string?"], positional: ["id", "note"]),
        MethodInfo("task.reopen", "Open a done or cancelled task again.", params: ["id: int", "version: int?"]),
        MethodInfo("task.cancel", "Cancel a task that is no longer needed.", params: ["id: int", "version: int?", "note: string?"],
                   positional: ["id", "note"]),
        MethodInfo("task.list", "Tasks, soonest due first; filters by status, assignee, due (business time zone), source and waiting time.",
                   params: ["status: open|done|cancelled|all|[string]?", "assignee_id: int?", "mine: bool?", "unassigned: bool?",
                            "due: overdue|today|tomorrow|this_week|none?", "due_from: time?", "due_to: time?",
                            "source: phone|email|messengers|social|site|telegram|viber|facebook|instagram|manual|import|[string]?",
                            "waiting_over: int?", "contact_id: int?", "company_id: int?", "lead_id: int?", "cursor: string?", "limit: int?"]),
        MethodInfo("reminder.create", "Leave a reminder on a contact or company card for yourself (admins: for anyone), due at a time or \"in 2 hours\".",
                   params: ["text: string", "when: time", "contact_id: int?", "company_id: int?", "user_id: int?", "channels: [chronicle|app|webhook]?"],
                   positional: ["text"]),
        MethodInfo("reminder.get", "A reminder with every firing and its webhook delivery attempts.", params: ["id: int"]),
        MethodInfo("reminder.list", "Reminders, soonest due first: yours, a user's (admins) or a card's.",
                   params: ["user_id: int?", "contact_id: int?", "company_id: int?", "status: pending|fired|cancelled|all|[string]?",
                            "due_from: time?", "due_to: time?", "cursor: string?", "limit: int?"]),
        MethodInfo("reminder.cancel", "Cancel a pending reminder.", params: ["id: int", "version: int?"]),
        MethodInfo("reminder.snooze", "Move a pending or fired reminder to a later time (default: in 10 minutes); it fires again then.",
                   params: ["id: int", "version: int?", "when: time?"], positional: ["id", "when"]),
        MethodInfo("user.webhook.get", "Your webhook for reminders (admins: anyone's): the URL, never the secret.", params: ["user_id: int?"]),
        MethodInfo("user.webhook.set", "Set your webhook URL for reminders (HTTPS); the signing secret is shown once, when made or rotated.",
                   params: ["url: url", "user_id: int?", "rotate_secret: bool?"], positional: ["url"]),
        MethodInfo("user.webhook.delete", "Remove your webhook (admins: anyone's).", params: ["user_id: int?"]),
        MethodInfo("chronicle.list", "Your activity feed, newest first: reminders, assignments, overdue leads, mentions; with the unread count.",
                   params: ["unread: bool?", "kind: reminder|task_assigned|lead_assigned|lead_overdue|mention|[string]?", "cursor: string?", "limit: int?"]),
        MethodInfo("chronicle.mark_read", "Mark feed entries read: some ids, everything up to an id, or all.",
                   params: ["ids: [int]?", "through_id: int?", "all: bool?"]),
        MethodInfo("chronicle.mark_unread", "Mark feed entries unread again.", params: ["ids: [int]"]),
        MethodInfo("notify.subscribe", "Receive live pushes on this connection: chronicle.entry, reminder.due, notify.lagged."),
        MethodInfo("notify.unsubscribe", "Stop live pushes on this connection."),
        MethodInfo("planner.get", "The planner: tasks overdue and due today, missed calls, unanswered messages, long-waiting inquiries, overdue leads; counts and records. Admins: any manager or the team.",
                   params: ["user_id: int?", "team: bool?", "limit: int?"]),
    ]

    // MARK: - Tasks

    /// `task.create`. Only `title` is required.
    public struct TaskCreateParams: Codable, Sendable {
        /// What to do, in a line (1–500 characters).
        public var title: String
        /// Details (1–10000 characters).
        public var notes: String?
        /// Default: the caller.
        public var assigneeID: Int64?
        /// RFC 3339, or a phrase (`tomorrow 09:00`, `in 2 hours`; docs/TASKS.md).
        public var dueAt: String?
        /// Default: the lead's source, else `manual`.
        public var source: ContactSource?
        /// The contact it concerns.
        public var contactID: Int64?
        /// The company it concerns.
        public var companyID: Int64?
        /// The lead it concerns.
        public var leadID: Int64?

        /// Makes one from its fields.
        public init(title: String, notes: String? = nil, assigneeID: Int64? = nil, dueAt: String? = nil, source: ContactSource? = nil,
                    contactID: Int64? = nil, companyID: Int64? = nil, leadID: Int64? = nil) {
            self.title = title; self.notes = notes; self.assigneeID = assigneeID; self.dueAt = dueAt; self.source = source
            self.contactID = contactID; self.companyID = companyID; self.leadID = leadID
        }
    }

    /// `task.update`: absent = leave; `null` clears `notes`, `assignee_id`, `due_at`.
    public struct TaskUpdateParams: Codable, Sendable {
        /// The task.
        public var id: Int64
        /// The version read (optimistic concurrency).
        public var version: Int
        /// The new title.
        public var title: String?
        /// New notes; `null` clears.
        public var notes: Patch<String>
        /// The new assignee; `null` unassigns.
        public var assigneeID: Patch<Int64>
        /// The new due time (RFC 3339 or a phrase); `null` clears.
        public var dueAt: Patch<String>
        /// The new source.
        public var source: ContactSource?

        /// Makes one from its fields.
        public init(id: Int64, version: Int, title: String? = nil, notes: Patch<String> = .absent, assigneeID: Patch<Int64> = .absent,
                    dueAt: Patch<String> = .absent, source: ContactSource? = nil) {
            self.id = id; self.version = version; self.title = title; self.notes = notes; self.assigneeID = assigneeID; self.dueAt = dueAt
            self.source = source
        }

        enum CodingKeys: String, CodingKey { case id, version, title, notes, assigneeID, dueAt, source }

        /// Decodes the wire form (absent and `null` told apart).
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            id = try c.decode(Int64.self, forKey: .id)
            version = try c.decode(Int.self, forKey: .version)
            title = try c.decodeIfPresent(String.self, forKey: .title)
            notes = try Patch(c, .notes)
            assigneeID = try Patch(c, .assigneeID)
            dueAt = try Patch(c, .dueAt)
            source = try c.decodeIfPresent(ContactSource.self, forKey: .source)
        }

        /// Encodes the wire form.
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(version, forKey: .version)
            try c.encodeIfPresent(title, forKey: .title)
            try notes.encode(into: &c, .notes)
            try assigneeID.encode(into: &c, .assigneeID)
            try dueAt.encode(into: &c, .dueAt)
            try c.encodeIfPresent(source, forKey: .source)
        }
    }

    /// `task.complete`, `task.cancel`: the task, the version read (checked when given), a note.
    public struct TaskCloseParams: Codable, Sendable {
        /// The task.
        public var id: Int64
        /// The version read, checked when given.
        public var version: Int?
        /// What was done, or why not.
        public var note: String?
        /// Makes one from its fields.
        public init(id: Int64, version: Int? = nil, note: String? = nil) { self.id = id; self.version = version; self.note = note }
    }

    /// A status filter word: a status, or `all`.
    public enum StatusWord: String, Codable, Sendable, Equatable, CaseIterable {
        case open, done, cancelled, pending, fired, all
    }

    /// `task.list` filters (all optional). Without `status`, open tasks only.
    public struct TaskListParams: Codable, Sendable {
        /// Statuses wanted (default `open`; `all` = any).
        public var status: RecordMethods.OneOrMany<StatusWord>?
        /// Only tasks of this assignee.
        public var assigneeID: Int64?
        /// Only the caller's tasks.
        public var mine: Bool?
        /// Only tasks without an assignee.
        public var unassigned: Bool?
        /// A due bucket in the business time zone.
        public var due: TaskDue?
        /// Due at or after this instant.
        public var dueFrom: Date?
        /// Due before this instant.
        public var dueTo: Date?
        /// Channels or groups of channels wanted.
        public var source: RecordMethods.OneOrMany<TaskSourceFilter>?
        /// Seconds: tasks whose related inquiry has waited longer (1200, 2400, 7200, 14400 ...).
        public var waitingOver: Int?
        /// Only tasks about this contact.
        public var contactID: Int64?
        /// Only tasks about this company or its contacts.
        public var companyID: Int64?
        /// Only tasks about this lead.
        public var leadID: Int64?
        /// The `next_cursor` of the previous page.
        public var cursor: String?
        /// Records per page.
        public var limit: Int?

        /// Makes one from its fields.
        public init(status: RecordMethods.OneOrMany<StatusWord>? = nil, assigneeID: Int64? = nil, mine: Bool? = nil, unassigned: Bool? = nil,
                    due: TaskDue? = nil, dueFrom: Date? = nil, dueTo: Date? = nil, source: RecordMethods.OneOrMany<TaskSourceFilter>? = nil,
                    waitingOver: Int? = nil, contactID: Int64? = nil, companyID: Int64? = nil, leadID: Int64? = nil, cursor: String? = nil,
                    limit: Int? = nil) {
            self.status = status; self.assigneeID = assigneeID; self.mine = mine; self.unassigned = unassigned; self.due = due
            self.dueFrom = dueFrom; self.dueTo = dueTo; self.source = source; self.waitingOver = waitingOver; self.contactID = contactID
            self.companyID = companyID; self.leadID = leadID; self.cursor = cursor; self.limit = limit
        }
    }

    /// A page of `task.list`.
    public struct TaskList: Encodable, Sendable {
        /// The page, soonest due first.
        public var tasks: [TaskRecord]
        /// Every record matching the filters.
        public var total: Int
        /// The cursor of the next page, nil on the last.
        public var nextCursor: String?
        /// The configured waiting thresholds, for offering the waiting filters.
        public var waitThresholdsSeconds: [Int]
        /// Makes one from its fields.
        public init(tasks: [TaskRecord], total: Int, nextCursor: String?, waitThresholdsSeconds: [Int]) {
            self.tasks = tasks; self.total = total; self.nextCursor = nextCursor; self.waitThresholdsSeconds = waitThresholdsSeconds
        }
    }

    // MARK: - Reminders

    /// `reminder.create`.
    public struct ReminderCreateParams: Codable, Sendable {
        /// What to remember (1–2000 characters).
        public var text: String
        /// RFC 3339, or a phrase resolved in the business time zone (docs/TASKS.md).
        public var when: String
        /// The contact card (or `company_id`).
        public var contactID: Int64?
        /// The company card (or `contact_id`).
        public var companyID: Int64?
        /// Default: the caller. Admins may name any active sales user or admin.
        public var userID: Int64?
        /// Default: `["chronicle", "app"]`.
        public var channels: [ReminderChannel]?

        /// Makes one from its fields.
        public init(text: String, when: String, contactID: Int64? = nil, companyID: Int64? = nil, userID: Int64? = nil,
                    channels: [ReminderChannel]? = nil) {
            self.text = text; self.when = when; self.contactID = contactID; self.companyID = companyID; self.userID = userID
            self.channels = channels
        }
    }

    /// `reminder.snooze`.
    public struct ReminderSnoozeParams: Codable, Sendable {
        /// The reminder.
        public var id: Int64
        /// The version read, checked when given.
        public var version: Int?
        /// Default `in 10 minutes`.
        public var when: String?
        /// Makes one from its fields.
        public init(id: Int64, version: Int? = nil, when: String? = nil) { self.id = id; self.version = version; self.when = when }
    }

    /// `reminder.list` filters.
    public struct ReminderListParams: Codable, Sendable {
        /// Default: the caller's own, unless a card is given (then everyone's on it that you may see).
        public var userID: Int64?
        /// Only reminders on this contact.
        public var contactID: Int64?
        /// Only reminders on this company or its contacts.
        public var companyID: Int64?
        /// Default `pending`.
        public var status: RecordMethods.OneOrMany<StatusWord>?
        /// Due at or after this instant.
        public var dueFrom: Date?
        /// Due before this instant.
        public var dueTo: Date?
        /// The `next_cursor` of the previous page.
        public var cursor: String?
        /// Records per page.
        public var limit: Int?
        /// Makes one from its fields.
        public init(userID: Int64? = nil, contactID: Int64? = nil, companyID: Int64? = nil, status: RecordMethods.OneOrMany<StatusWord>? = nil,
                    dueFrom: Date? = nil, dueTo: Date? = nil, cursor: String? = nil, limit: Int? = nil) {
            self.userID = userID; self.contactID = contactID; self.companyID = companyID; self.status = status; self.dueFrom = dueFrom
            self.dueTo = dueTo; self.cursor = cursor; self.limit = limit
        }
    }

    /// A page of `reminder.list`.
    public struct ReminderList: Encodable, Sendable {
        /// The page, soonest due first.
        public var reminders: [Reminder]
        /// Every record matching the filters.
        public var total: Int
        /// The cursor of the next page, nil on the last.
        public var nextCursor: String?
        /// Makes one from its fields.
        public init(reminders: [Reminder], total: Int, nextCursor: String?) { self.reminders = reminders; self.total = total; self.nextCursor = nextCursor }
    }

    /// One firing of a reminder.
    public struct ReminderFiring: Encodable, Sendable {
        /// The firing id.
        public var id: Int64
        /// The due time this firing was for.
        public var dueAt: Date
        /// When it fired (later than `due_at` after downtime).
        public var firedAt: Date
        /// The instance that fired it.
        public var instance: String
        /// Its chronicle entry (null when the chronicle and app channels were not chosen).
        public var chronicleID: Int64?
        /// Its webhook delivery with every attempt (null without the webhook channel).
        public var webhook: WebhookDelivery?
        /// Makes one from its fields.
        public init(id: Int64, dueAt: Date, firedAt: Date, instance: String, chronicleID: Int64?, webhook: WebhookDelivery?) {
            self.id = id; self.dueAt = dueAt; self.firedAt = firedAt; self.instance = instance; self.chronicleID = chronicleID; self.webhook = webhook
        }
    }

    /// `reminder.get`: the reminder plus `firings`, oldest first.
    public struct ReminderCard: Encodable, Sendable {
        /// The reminder.
        public var reminder: Reminder
        /// Every firing, oldest first.
        public var firings: [ReminderFiring]
        /// Makes one from its fields.
        public init(reminder: Reminder, firings: [ReminderFiring]) { self.reminder = reminder; self.firings = firings }

        enum CodingKeys: String, CodingKey { case firings }

        /// Encodes the wire form.
        public func encode(to encoder: Encoder) throws {
            try reminder.encode(to: encoder)
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(firings, forKey: .firings)
        }
    }

    // MARK: - Webhooks

    /// `user.webhook.get`, `user.webhook.delete`: whose (default: the caller's).
    public struct WebhookUserParams: Codable, Sendable {
        /// Whose (admins; default the caller).
        public var userID: Int64?
        /// Makes one from its fields.
        public init(userID: Int64? = nil) { self.userID = userID }
    }

    /// `user.webhook.set`.
    public struct WebhookSetParams: Codable, Sendable {
        /// The HTTPS endpoint.
        public var url: String
        /// Whose (admins; default the caller).
        public var userID: Int64?
        /// Make a new secret (the old one stops working at once).
        public var rotateSecret: Bool?
        /// Makes one from its fields.
        public init(url: String, userID: Int64? = nil, rotateSecret: Bool? = nil) { self.url = url; self.userID = userID; self.rotateSecret = rotateSecret }
    }

    /// A user's webhook as shown: the secret only in the answer that made it.
    public struct WebhookInfo: Encodable, Sendable {
        /// Whose webhook.
        public var userID: Int64
        /// null when none is set.
        public var url: String?
        /// The HMAC-SHA256 key: only in the `user.webhook.set` answer that created or rotated it.
        public var secret: String?
        /// `hmac-sha256`: how deliveries are signed (docs/TASKS.md).
        public var signature: String
        /// When it was made.
        public var createdAt: Date?
        /// The last change.
        public var updatedAt: Date?
        /// Makes one from its fields.
        public init(userID: Int64, url: String?, secret: String?, createdAt: Date?, updatedAt: Date?) {
            self.userID = userID; self.url = url; self.secret = secret; self.signature = "hmac-sha256"; self.createdAt = createdAt
            self.updatedAt = updatedAt
        }
    }

    // MARK: - Chronicle and notifications

    /// `chronicle.list`.
    public struct ChronicleListParams: Codable, Sendable {
        /// Only unread entries.
        public var unread: Bool?
        /// Kinds wanted.
        public var kind: RecordMethods.OneOrMany<ChronicleKind>?
        /// The `next_cursor` of the previous page.
        public var cursor: String?
        /// Records per page.
        public var limit: Int?
        /// Makes one from its fields.
        public init(unread: Bool? = nil, kind: RecordMethods.OneOrMany<ChronicleKind>? = nil, cursor: String? = nil, limit: Int? = nil) {
            self.unread = unread; self.kind = kind; self.cursor = cursor; self.limit = limit
        }
    }

    /// A page of the feed.
    public struct ChronicleList: Encodable, Sendable {
        /// The page, newest first.
        public var entries: [ChronicleEntry]
        /// Unread entries in the whole feed.
        public var unread: Int
        /// The cursor of the next page, nil on the last.
        public var nextCursor: String?
        /// Makes one from its fields.
        public init(entries: [ChronicleEntry], unread: Int, nextCursor: String?) { self.entries = entries; self.unread = unread; self.nextCursor = nextCursor }
    }

    /// `chronicle.mark_read`: exactly one of `ids`, `through_id`, `all: true`.
    public struct MarkReadParams: Codable, Sendable {
        /// The entries (1–1000).
        public var ids: [Int64]?
        /// Every entry up to this id.
        public var throughID: Int64?
        /// Every entry.
        public var all: Bool?
        /// Makes one from its fields.
        public init(ids: [Int64]? = nil, throughID: Int64? = nil, all: Bool? = nil) { self.ids = ids; self.throughID = throughID; self.all = all }
    }

    /// `chronicle.mark_unread`.
    public struct MarkUnreadParams: Codable, Sendable {
        /// The entries (1–1000).
        public var ids: [Int64]
        /// Makes one from its fields.
        public init(ids: [Int64]) { self.ids = ids }
    }

    /// What marking changed.
    public struct MarkResult: Encodable, Sendable {
        /// Entries changed now.
        public var changed: Int
        /// Unread entries left.
        public var unread: Int
        /// Makes one from its fields.
        public init(changed: Int, unread: Int) { self.changed = changed; self.unread = unread }
    }

    /// `notify.subscribe`'s answer.
    public struct SubscribeResult: Encodable, Sendable {
        /// True: pushes come on this connection.
        public var subscribed: Bool
        /// The instance the connection is on.
        public var instance: String
        /// Unread feed entries now (pushes bring what comes next; `chronicle.list` what came before).
        public var unread: Int
        /// Makes one from its fields.
        public init(subscribed: Bool, instance: String, unread: Int) { self.subscribed = subscribed; self.instance = instance; self.unread = unread }
    }

    /// `reminder.due` push params.
    public struct ReminderDuePush: Encodable, Sendable {
        /// The reminder that fired.
        public var reminderID: Int64
        /// What to remember.
        public var text: String
        /// The due time of this firing.
        public var dueAt: Date?
        /// When it fired.
        public var firedAt: Date?
        /// The contact it concerns.
        public var contactID: Int64?
        /// The contact's display name.
        public var contactName: String?
        /// The company it concerns.
        public var companyID: Int64?
        /// The company's name.
        public var companyName: String?
        /// The feed entry (null when the reminder is not in the chronicle channel).
        public var chronicleID: Int64?
        /// Makes one from its fields.
        public init(reminderID: Int64, text: String, dueAt: Date?, firedAt: Date?, contactID: Int64?, contactName: String?, companyID: Int64?,
                    companyName: String?, chronicleID: Int64?) {
            self.reminderID = reminderID; self.text = text; self.dueAt = dueAt; self.firedAt = firedAt; self.contactID = contactID
            self.contactName = contactName; self.companyID = companyID; self.companyName = companyName; self.chronicleID = chronicleID
        }
    }

    /// `notify.lagged` push params.
    public struct LaggedPush: Encodable, Sendable {
        /// What happened, for people.
        public var text: String
        /// The first entry id that was not pushed (null when unknown); `chronicle.list` has it.
        public var firstMissedID: Int64?
        /// Makes one from its fields.
        public init(text: String, firstMissedID: Int64?) { self.text = text; self.firstMissedID = firstMissedID }
    }

    // MARK: - Planner

    /// `planner.get`: yourself by default; admins name `user_id` or `team: true`.
    public struct PlannerParams: Codable, Sendable {
        /// Whose planner (admins; default the caller).
        public var userID: Int64?
        /// The whole team (admins).
        public var team: Bool?
        /// Records listed per section at most (1–1000, default 200).
        public var limit: Int?
        /// Makes one from its fields.
        public init(userID: Int64? = nil, team: Bool? = nil, limit: Int? = nil) { self.userID = userID; self.team = team; self.limit = limit }
    }

    /// One section of a planner: how many, and the records.
    public struct PlannerSection<Item: Encodable & Sendable>: Encodable, Sendable {
        /// Every matching record.
        public var count: Int
        /// The records (all of them unless `more`).
        public var items: [Item]
        /// True when `count` is larger than the records listed (raise `limit`).
        public var more: Bool
        /// Makes one from its fields.
        public init(count: Int, items: [Item]) { self.count = count; self.items = items; self.more = count > items.count }
    }

    /// Inquiries past one waiting threshold.
    public struct ThresholdCount: Encodable, Sendable {
        /// The threshold, in seconds.
        public var overSeconds: Int
        /// How many waited longer.
        public var count: Int
        /// Makes one from its fields.
        public init(overSeconds: Int, count: Int) { self.overSeconds = overSeconds; self.count = count }
    }

    /// Unanswered inquiries waiting longer than the smallest threshold, with the count past
    /// each threshold.
    public struct WaitingSection: Encodable, Sendable {
        /// Every inquiry waiting past the smallest threshold.
        public var count: Int
        /// The inquiries (all unless `more`).
        public var items: [Inquiry]
        /// True when `count` is larger than the records listed.
        public var more: Bool
        /// For each configured threshold, ascending: how many have waited longer.
        public var thresholds: [ThresholdCount]
        /// Makes one from its fields.
        public init(count: Int, items: [Inquiry], thresholds: [ThresholdCount]) {
            self.count = count; self.items = items; self.more = count > items.count; self.thresholds = thresholds
        }
    }

    /// Whose planner it is.
    public struct PlannerSubject: Encodable, Sendable {
        /// `user` or `team`.
        public var kind: String
        /// The manager (nil for the team).
        public var userID: Int64?
        /// The user's full name.
        public var userName: String?
        /// Makes one from its fields.
        public init(kind: String, userID: Int64?, userName: String?) { self.kind = kind; self.userID = userID; self.userName = userName }
    }

    /// `planner.get`'s answer.
    public struct Planner: Encodable, Sendable {
        /// Whose planner it is.
        public var subject: PlannerSubject
        /// The instant it was computed for.
        public var asOf: Date
        /// Open tasks due before now.
        public var tasksOverdue: PlannerSection<TaskRecord>
        /// Open tasks due from now to the end of today (business time zone).
        public var tasksDueToday: PlannerSection<TaskRecord>
        /// Missed inbound calls nobody has followed up, on open leads.
        public var missedCalls: PlannerSection<Call>
        /// Inbound messages without a response, on open leads.
        public var unansweredMessages: PlannerSection<ChannelMessage>
        /// Inquiries without a response past the thresholds.
        public var waitingInquiries: WaitingSection
        /// Leads in `overdue_identification`.
        public var overdueLeads: PlannerSection<Lead>
        /// Makes one from its fields.
        public init(subject: PlannerSubject, asOf: Date, tasksOverdue: PlannerSection<TaskRecord>, tasksDueToday: PlannerSection<TaskRecord>,
                    missedCalls: PlannerSection<Call>, unansweredMessages: PlannerSection<ChannelMessage>, waitingInquiries: WaitingSection,
                    overdueLeads: PlannerSection<Lead>) {
            self.subject = subject; self.asOf = asOf; self.tasksOverdue = tasksOverdue; self.tasksDueToday = tasksDueToday
            self.missedCalls = missedCalls; self.unansweredMessages = unansweredMessages; self.waitingInquiries = waitingInquiries
            self.overdueLeads = overdueLeads
        }
    }
}
