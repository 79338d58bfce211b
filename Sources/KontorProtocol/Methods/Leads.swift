import Foundation
import KontorDomain

/// Leads, inquiries, calls and messages as people read and work them, the lead
/// process's configuration, and the response report (issue 4).
/// docs/PROTOCOL.md ("Ingestion", "Leads and inquiries") has the shapes.
public enum LeadMethods {
    /// The methods of this family, for `MethodCatalogue.all`.
    public static let catalogue: [MethodInfo] = [
        MethodInfo("lead.create", "Create a lead from a contact card, optionally from a template (source, owner, summary, first task).",
                   params: ["contact_id: int", "template_id: int?", "source: string?", "owner_id: int?", "summary: string?",
                            "first_task_title: string?", "first_task_due_at: time?"]),
        MethodInfo("lead.get", "A lead with its inquiries, status history and first task.", params: ["id: int"]),
        MethodInfo("lead.list", "Leads, newest first; filters by status, source, owner and waiting time without a response.",
                   params: ["status: string|[string]?", "source: string|[string]?", "owner_id: int?", "unowned: bool?", "contact_id: int?",
                            "company_id: int?", "waiting_over: int?", "created_from: time?", "created_to: time?", "cursor: string?", "limit: int?"]),
        MethodInfo("lead.update", "Change a lead's summary or owner (send the version you read).",
                   params: ["id: int", "version: int", "summary: string?", "owner_id: int?"]),
        MethodInfo("lead.qualify", "Make a lead target: link its contact to a company (existing, or created from the card) in one go.",
                   params: ["id: int", "version: int?", "company_id: int?", "company_name: string?", "contact_version: int?"]),
        MethodInfo("lead.reject", "Reject a lead with a reason from the list (and free text).",
                   params: ["id: int", "version: int?", "reason: string?", "reason_text: string?"], positional: ["id", "reason", "reason_text"]),
        MethodInfo("lead.reopen", "Admins: reopen a target or rejected lead (back to the status it had).", params: ["id: int", "version: int?"]),
        MethodInfo("inquiry.list", "Inquiries with their response times; filters by lead, contact, company, owner, source, waiting time.",
                   params: ["lead_id: int?", "contact_id: int?", "company_id: int?", "owner_id: int?", "source: string|[string]?",
                            "unanswered: bool?", "waiting_over: int?", "overdue: bool?", "received_from: time?", "received_to: time?",
                            "cursor: string?", "limit: int?"]),
        MethodInfo("inquiry.respond", "Record a reply or an outbound contact: answers the contact's waiting inquiries.",
                   params: ["contact_id: int?", "lead_id: int?", "channel: string?", "at: time?", "subject: string?", "text: string?"]),
        MethodInfo("call.list", "Calls with clients, latest first; filters by contact, company, manager, lead, kind.",
                   params: ["contact_id: int?", "company_id: int?", "manager_id: int?", "lead_id: int?", "kind: string|[string]?",
                            "missed_unanswered: bool?", "started_from: time?", "started_to: time?", "cursor: string?", "limit: int?"]),
        MethodInfo("call.get", "A call with every leg the provider sent (and its raw payload).", params: ["id: int"]),
        MethodInfo("message.list", "Correspondence with clients, latest first; filters by contact, company, manager, lead, channel.",
                   params: ["contact_id: int?", "company_id: int?", "manager_id: int?", "lead_id: int?", "inquiry_id: int?",
                            "channel: string|[string]?", "direction: inbound|outbound?", "unanswered: bool?", "received_from: time?",
                            "received_to: time?", "cursor: string?", "limit: int?"]),
        MethodInfo("message.get", "A message with its raw payload.", params: ["id: int"]),
        MethodInfo("report.lead_response", "Inquiries, answered, overdue and first-response times per manager and month.",
                   params: ["from: period?", "to: period?", "manager_id: int?"]),
        MethodInfo("lead.settings.get", "The lead process settings: open-lead window, message response time, wait thresholds, round-robin."),
        MethodInfo("lead.settings.update", "Change the lead process settings.",
                   params: ["open_lead_window_seconds: int?", "message_response_seconds: int?", "wait_thresholds_seconds: [int]?",
                            "round_robin_user_ids: [int]?"]),
        MethodInfo("lead.status.list", "Lead status codes with their display labels."),
        MethodInfo("lead.status.update", "Change a status's display label.", params: ["code: string", "label: string"]),
        MethodInfo("lead.reason.list", "Reasons for rejecting a lead.", params: ["all: bool?"]),
        MethodInfo("lead.reason.create", "Add a reason for rejecting a lead.",
                   params: ["code: string", "label: string", "text_required: bool?", "position: int?"]),
        MethodInfo("lead.reason.update", "Change or deactivate a rejection reason (send the version you read).",
                   params: ["code: string", "version: int", "label: string?", "text_required: bool?", "active: bool?", "position: int?"]),
        MethodInfo("lead.template.list", "Templates for leads made by hand.", params: ["all: bool?"]),
        MethodInfo("lead.template.create", "Add a lead template.",
                   params: ["name: string", "source: string?", "owner_id: int?", "summary: string?", "first_task_title: string?",
                            "first_task_due_minutes: int?"]),
        MethodInfo("lead.template.update", "Change a lead template (send the version you read).",
                   params: ["id: int", "version: int", "name: string?", "source: string?", "owner_id: int?", "summary: string?",
                            "first_task_title: string?", "first_task_due_minutes: int?", "active: bool?"]),
        MethodInfo("line.list", "Our phone lines: numbers of ours and internal lines, with the manager on each."),
        MethodInfo("line.set", "Add or change one of our lines (a number of ours, an extension, a SIP peer) and its manager.",
                   params: ["line: string", "label: string?", "user_id: int?"]),
        MethodInfo("line.delete", "Remove one of our lines.", params: ["line: string"]),
    ]

    // MARK: - Leads

    /// `lead.create`.
    public struct LeadCreateParams: Codable, Sendable {
        public var contactID: Int64
        public var templateID: Int64?
        /// Default: the template's, else `manual`.
        public var source: ContactSource?
        /// Default: the template's, else the caller (a sales user), else the contact's owner.
        public var ownerID: Int64?
        public var summary: String?
        public var firstTaskTitle: String?
        public var firstTaskDueAt: Date?

        public init(contactID: Int64, templateID: Int64? = nil, source: ContactSource? = nil, ownerID: Int64? = nil, summary: String? = nil,
                    firstTaskTitle: String? = nil, firstTaskDueAt: Date? = nil) {
            self.contactID = contactID; self.templateID = templateID; self.source = source; self.ownerID = ownerID; self.summary = summary
            self.firstTaskTitle = firstTaskTitle; self.firstTaskDueAt = firstTaskDueAt
        }
    }

    /// `lead.get`: the lead plus `inquiries` (oldest first), `history` (oldest first) and `first_task`.
    public struct LeadCard: Encodable, Sendable {
        public var lead: Lead
        public var inquiries: [Inquiry]
        public var history: [LeadHistoryEntry]
        public var firstTask: LeadFirstTask?
        public init(lead: Lead, inquiries: [Inquiry], history: [LeadHistoryEntry], firstTask: LeadFirstTask?) {
            self.lead = lead; self.inquiries = inquiries; self.history = history; self.firstTask = firstTask
        }

        enum CodingKeys: String, CodingKey { case inquiries, history, firstTask }

        public func encode(to encoder: Encoder) throws {
            try lead.encode(to: encoder)
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(inquiries, forKey: .inquiries)
            try c.encode(history, forKey: .history)
            try c.encodeIfPresent(firstTask, forKey: .firstTask)
        }
    }

    /// `lead.list` filters (all optional).
    public struct LeadListParams: Codable, Sendable {
        public var status: RecordMethods.OneOrMany<LeadStatus>?
        public var source: RecordMethods.OneOrMany<ContactSource>?
        public var ownerID: Int64?
        public var unowned: Bool?
        public var contactID: Int64?
        public var companyID: Int64?
        /// Seconds: open leads waiting for a response longer than this (e.g. 1200, 2400,
        /// 7200, 14400, the configured thresholds).
        public var waitingOver: Int?
        public var createdFrom: Date?
        public var createdTo: Date?
        public var cursor: String?
        public var limit: Int?

        public init(status: RecordMethods.OneOrMany<LeadStatus>? = nil, source: RecordMethods.OneOrMany<ContactSource>? = nil,
                    ownerID: Int64? = nil, unowned: Bool? = nil, contactID: Int64? = nil, companyID: Int64? = nil, waitingOver: Int? = nil,
                    createdFrom: Date? = nil, createdTo: Date? = nil, cursor: String? = nil, limit: Int? = nil) {
            self.status = status; self.source = source; self.ownerID = ownerID; self.unowned = unowned; self.contactID = contactID
            self.companyID = companyID; self.waitingOver = waitingOver; self.createdFrom = createdFrom; self.createdTo = createdTo
            self.cursor = cursor; self.limit = limit
        }
    }

    /// A page of `lead.list`.
    public struct LeadList: Encodable, Sendable {
        public var leads: [Lead]
        public var total: Int
        public var nextCursor: String?
        /// The configured thresholds, for offering the waiting filters.
        public var waitThresholdsSeconds: [Int]
        public init(leads: [Lead], total: Int, nextCursor: String?, waitThresholdsSeconds: [Int]) {
            self.leads = leads; self.total = total; self.nextCursor = nextCursor; self.waitThresholdsSeconds = waitThresholdsSeconds
        }
    }

    /// `lead.update`: absent = leave; `null` clears the summary or the owner.
    public struct LeadUpdateParams: Codable, Sendable {
        public var id: Int64
        public var version: Int
        public var summary: Patch<String>
        public var ownerID: Patch<Int64>

        public init(id: Int64, version: Int, summary: Patch<String> = .absent, ownerID: Patch<Int64> = .absent) {
            self.id = id; self.version = version; self.summary = summary; self.ownerID = ownerID
        }

        enum CodingKeys: String, CodingKey { case id, version, summary, ownerID }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            id = try c.decode(Int64.self, forKey: .id)
            version = try c.decode(Int.self, forKey: .version)
            summary = try Patch(c, .summary)
            ownerID = try Patch(c, .ownerID)
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(version, forKey: .version)
            try summary.encode(into: &c, .summary)
            try ownerID.encode(into: &c, .ownerID)
        }
    }

    /// `lead.qualify`: `company_id` links the contact to that company; without it the
    /// contact's own company is used, or one is created (named `company_name`, else the
    /// contact's organisation, else its name).
    public struct LeadQualifyParams: Codable, Sendable {
        public var id: Int64
        /// The lead's version, checked when given (the status rules refuse a second move anyway).
        public var version: Int?
        public var companyID: Int64?
        public var companyName: String?
        /// The contact card's version, checked when given.
        public var contactVersion: Int?
        public init(id: Int64, version: Int? = nil, companyID: Int64? = nil, companyName: String? = nil, contactVersion: Int? = nil) {
            self.id = id; self.version = version; self.companyID = companyID; self.companyName = companyName; self.contactVersion = contactVersion
        }
    }

    /// What `lead.qualify` did: the lead, the contact and the company card.
    public struct LeadQualifyResult: Encodable, Sendable {
        public var lead: Lead
        public var contact: Contact
        public var company: RecordMethods.CompanyCardResult
        public init(lead: Lead, contact: Contact, company: RecordMethods.CompanyCardResult) {
            self.lead = lead; self.contact = contact; self.company = company
        }
    }

    /// `lead.reject`: `reason` (a code from `lead.reason.list`) is required
    /// (`reason_required` without it), `reason_text` too when the reason says so.
    public struct LeadRejectParams: Codable, Sendable {
        public var id: Int64
        /// The lead's version, checked when given.
        public var version: Int?
        /// The reason's code.
        public var reason: String?
        /// Free text: what happened.
        public var reasonText: String?
        public init(id: Int64, version: Int? = nil, reason: String? = nil, reasonText: String? = nil) {
            self.id = id; self.version = version; self.reason = reason; self.reasonText = reasonText
        }
    }

    // MARK: - Inquiries

    /// `inquiry.list` filters (all optional).
    public struct InquiryListParams: Codable, Sendable {
        public var leadID: Int64?
        public var contactID: Int64?
        public var companyID: Int64?
        public var ownerID: Int64?
        public var source: RecordMethods.OneOrMany<ContactSource>?
        public var unanswered: Bool?
        public var waitingOver: Int?
        public var overdue: Bool?
        public var receivedFrom: Date?
        public var receivedTo: Date?
        public var cursor: String?
        public var limit: Int?

        public init(leadID: Int64? = nil, contactID: Int64? = nil, companyID: Int64? = nil, ownerID: Int64? = nil,
                    source: RecordMethods.OneOrMany<ContactSource>? = nil, unanswered: Bool? = nil, waitingOver: Int? = nil, overdue: Bool? = nil,
                    receivedFrom: Date? = nil, receivedTo: Date? = nil, cursor: String? = nil, limit: Int? = nil) {
            self.leadID = leadID; self.contactID = contactID; self.companyID = companyID; self.ownerID = ownerID; self.source = source
            self.unanswered = unanswered; self.waitingOver = waitingOver; self.overdue = overdue; self.receivedFrom = receivedFrom
            self.receivedTo = receivedTo; self.cursor = cursor; self.limit = limit
        }
    }

    /// A page of `inquiry.list`.
    public struct InquiryList: Encodable, Sendable {
        public var inquiries: [Inquiry]
        public var total: Int
        public var nextCursor: String?
        public init(inquiries: [Inquiry], total: Int, nextCursor: String?) { self.inquiries = inquiries; self.total = total; self.nextCursor = nextCursor }
    }

    /// `inquiry.respond`: exactly one of `contact_id`, `lead_id`. `channel` is how the
    /// manager answered (`phone` default); with `text` and a written channel the reply is
    /// kept as an outbound message.
    public struct InquiryRespondParams: Codable, Sendable {
        public var contactID: Int64?
        public var leadID: Int64?
        public var channel: ContactSource?
        /// When the reply was made; default now, never in the future.
        public var at: Date?
        public var subject: String?
        public var text: String?
        public init(contactID: Int64? = nil, leadID: Int64? = nil, channel: ContactSource? = nil, at: Date? = nil, subject: String? = nil,
                    text: String? = nil) {
            self.contactID = contactID; self.leadID = leadID; self.channel = channel; self.at = at; self.subject = subject; self.text = text
        }
    }

    /// What `inquiry.respond` did: the inquiries answered now, the leads touched, and the
    /// reply kept as a message (when text was given in a written channel).
    public struct InquiryRespondResult: Encodable, Sendable {
        public var inquiries: [Inquiry]
        public var leads: [Lead]
        public var message: ChannelMessage?
        public init(inquiries: [Inquiry], leads: [Lead], message: ChannelMessage?) { self.inquiries = inquiries; self.leads = leads; self.message = message }
    }

    // MARK: - Calls and messages

    /// `call.list` filters (all optional).
    public struct CallListParams: Codable, Sendable {
        public var contactID: Int64?
        public var companyID: Int64?
        public var managerID: Int64?
        public var leadID: Int64?
        public var kind: RecordMethods.OneOrMany<CallKind>?
        /// Missed inbound calls nobody has followed up yet.
        public var missedUnanswered: Bool?
        public var startedFrom: Date?
        public var startedTo: Date?
        public var cursor: String?
        public var limit: Int?

        public init(contactID: Int64? = nil, companyID: Int64? = nil, managerID: Int64? = nil, leadID: Int64? = nil,
                    kind: RecordMethods.OneOrMany<CallKind>? = nil, missedUnanswered: Bool? = nil, startedFrom: Date? = nil,
                    startedTo: Date? = nil, cursor: String? = nil, limit: Int? = nil) {
            self.contactID = contactID; self.companyID = companyID; self.managerID = managerID; self.leadID = leadID; self.kind = kind
            self.missedUnanswered = missedUnanswered; self.startedFrom = startedFrom; self.startedTo = startedTo; self.cursor = cursor
            self.limit = limit
        }
    }

    /// A page of `call.list`.
    public struct CallList: Encodable, Sendable {
        public var calls: [Call]
        public var total: Int
        public var nextCursor: String?
        public init(calls: [Call], total: Int, nextCursor: String?) { self.calls = calls; self.total = total; self.nextCursor = nextCursor }
    }

    /// One leg with its raw payload.
    public struct CallLegInfo: Encodable, Sendable {
        public var leg: CallLeg
        public var raw: JSONValue?
        public init(leg: CallLeg, raw: JSONValue?) { self.leg = leg; self.raw = raw }

        enum CodingKeys: String, CodingKey { case raw }

        public func encode(to encoder: Encoder) throws {
            try leg.encode(to: encoder)
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(raw ?? .null, forKey: .raw)
        }
    }

    /// `call.get`: the call plus `legs` (start order).
    public struct CallCard: Encodable, Sendable {
        public var call: Call
        public var legs: [CallLegInfo]
        public init(call: Call, legs: [CallLegInfo]) { self.call = call; self.legs = legs }

        enum CodingKeys: String, CodingKey { case legs }

        public func encode(to encoder: Encoder) throws {
            try call.encode(to: encoder)
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(legs, forKey: .legs)
        }
    }

    /// `message.list` filters (all optional).
    public struct MessageListParams: Codable, Sendable {
        public var contactID: Int64?
        public var companyID: Int64?
        public var managerID: Int64?
        public var leadID: Int64?
        public var inquiryID: Int64?
        public var channel: RecordMethods.OneOrMany<ContactSource>?
        public var direction: CommDirection?
        /// Inbound messages whose inquiry has no response yet.
        public var unanswered: Bool?
        public var receivedFrom: Date?
        public var receivedTo: Date?
        public var cursor: String?
        public var limit: Int?

        public init(contactID: Int64? = nil, companyID: Int64? = nil, managerID: Int64? = nil, leadID: Int64? = nil, inquiryID: Int64? = nil,
                    channel: RecordMethods.OneOrMany<ContactSource>? = nil, direction: CommDirection? = nil, unanswered: Bool? = nil,
                    receivedFrom: Date? = nil, receivedTo: Date? = nil, cursor: String? = nil, limit: Int? = nil) {
            self.contactID = contactID; self.companyID = companyID; self.managerID = managerID; self.leadID = leadID; self.inquiryID = inquiryID
            self.channel = channel; self.direction = direction; self.unanswered = unanswered; self.receivedFrom = receivedFrom
            self.receivedTo = receivedTo; self.cursor = cursor; self.limit = limit
        }
    }

    /// A page of `message.list`.
    public struct MessageList: Encodable, Sendable {
        public var messages: [ChannelMessage]
        public var total: Int
        public var nextCursor: String?
        public init(messages: [ChannelMessage], total: Int, nextCursor: String?) { self.messages = messages; self.total = total; self.nextCursor = nextCursor }
    }

    /// `message.get`: the message plus `raw`.
    public struct MessageCard: Encodable, Sendable {
        public var message: ChannelMessage
        public var raw: JSONValue?
        public init(message: ChannelMessage, raw: JSONValue?) { self.message = message; self.raw = raw }

        enum CodingKeys: String, CodingKey { case raw }

        public func encode(to encoder: Encoder) throws {
            try message.encode(to: encoder)
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(raw ?? .null, forKey: .raw)
        }
    }

    // MARK: - Report

    /// `report.lead_response`: months `from`..`to` (`YYYY-MM`, default the current month
    /// for both); `manager_id` one manager (a sales user always gets their own).
    public struct LeadResponseParams: Codable, Sendable {
        public var from: String?
        public var to: String?
        public var managerID: Int64?
        public init(from: String? = nil, to: String? = nil, managerID: Int64? = nil) { self.from = from; self.to = to; self.managerID = managerID }
    }

    /// `report.lead_response` rows, by month then manager.
    public struct LeadResponseReport: Encodable, Sendable {
        public var rows: [LeadResponseRow]
        public init(rows: [LeadResponseRow]) { self.rows = rows }
    }

    // MARK: - Configuration

    /// `lead.settings.update`: any of the fields; absent = leave.
    public struct LeadSettingsUpdateParams: Codable, Sendable {
        public var openLeadWindowSeconds: Int?
        public var messageResponseSeconds: Int?
        public var waitThresholdsSeconds: [Int]?
        public var roundRobinUserIDs: [Int64]?

        enum CodingKeys: String, CodingKey {
            case openLeadWindowSeconds, messageResponseSeconds, waitThresholdsSeconds, roundRobinUserIDs = "roundRobinUserIds"
        }

        public init(openLeadWindowSeconds: Int? = nil, messageResponseSeconds: Int? = nil, waitThresholdsSeconds: [Int]? = nil,
                    roundRobinUserIDs: [Int64]? = nil) {
            self.openLeadWindowSeconds = openLeadWindowSeconds; self.messageResponseSeconds = messageResponseSeconds
            self.waitThresholdsSeconds = waitThresholdsSeconds; self.roundRobinUserIDs = roundRobinUserIDs
        }
    }

    /// `lead.status.update`.
    public struct StatusLabelParams: Codable, Sendable {
        public var code: LeadStatus
        public var label: String
        public init(code: LeadStatus, label: String) { self.code = code; self.label = label }
    }

    /// `lead.status.list` (and `lead.status.update`'s result).
    public struct StatusList: Encodable, Sendable {
        public var statuses: [LeadStatusLabel]
        public init(statuses: [LeadStatusLabel]) { self.statuses = statuses }
    }

    /// `lead.reason.list` and `lead.template.list`: `all: true` includes inactive entries.
    public struct AllParams: Codable, Sendable {
        public var all: Bool?
        public init(all: Bool? = nil) { self.all = all }
    }

    /// `lead.reason.list`.
    public struct ReasonList: Encodable, Sendable {
        public var reasons: [RejectionReason]
        public init(reasons: [RejectionReason]) { self.reasons = reasons }
    }

    /// `lead.reason.create`.
    public struct ReasonCreateParams: Codable, Sendable {
        /// Lower case letters, digits and `_`, starting with a letter; 1–40.
        public var code: String
        public var label: String
        public var textRequired: Bool?
        public var position: Int?
        public init(code: String, label: String, textRequired: Bool? = nil, position: Int? = nil) {
            self.code = code; self.label = label; self.textRequired = textRequired; self.position = position
        }
    }

    /// `lead.reason.update`: absent = leave.
    public struct ReasonUpdateParams: Codable, Sendable {
        public var code: String
        public var version: Int
        public var label: String?
        public var textRequired: Bool?
        public var active: Bool?
        public var position: Int?
        public init(code: String, version: Int, label: String? = nil, textRequired: Bool? = nil, active: Bool? = nil, position: Int? = nil) {
            self.code = code; self.version = version; self.label = label; self.textRequired = textRequired; self.active = active
            self.position = position
        }
    }

    /// `lead.template.list`.
    public struct TemplateList: Encodable, Sendable {
        public var templates: [LeadTemplate]
        public init(templates: [LeadTemplate]) { self.templates = templates }
    }

    /// `lead.template.create`.
    public struct TemplateCreateParams: Codable, Sendable {
        public var name: String
        public var source: ContactSource?
        public var ownerID: Int64?
        public var summary: String?
        public var firstTaskTitle: String?
        public var firstTaskDueMinutes: Int?
        public init(name: String, source: ContactSource? = nil, ownerID: Int64? = nil, summary: String? = nil, firstTaskTitle: String? = nil,
                    firstTaskDueMinutes: Int? = nil) {
            self.name = name; self.source = source; self.ownerID = ownerID; self.summary = summary; self.firstTaskTitle = firstTaskTitle
            self.firstTaskDueMinutes = firstTaskDueMinutes
        }
    }

    /// `lead.template.update`: absent = leave; `null` clears the optional fields.
    public struct TemplateUpdateParams: Codable, Sendable {
        public var id: Int64
        public var version: Int
        public var name: String?
        public var source: ContactSource?
        public var ownerID: Patch<Int64>
        public var summary: Patch<String>
        public var firstTaskTitle: Patch<String>
        public var firstTaskDueMinutes: Patch<Int>
        public var active: Bool?

        public init(id: Int64, version: Int, name: String? = nil, source: ContactSource? = nil, ownerID: Patch<Int64> = .absent,
                    summary: Patch<String> = .absent, firstTaskTitle: Patch<String> = .absent, firstTaskDueMinutes: Patch<Int> = .absent,
                    active: Bool? = nil) {
            self.id = id; self.version = version; self.name = name; self.source = source; self.ownerID = ownerID; self.summary = summary
            self.firstTaskTitle = firstTaskTitle; self.firstTaskDueMinutes = firstTaskDueMinutes; self.active = active
        }

        enum CodingKeys: String, CodingKey { case id, version, name, source, ownerID, summary, firstTaskTitle, firstTaskDueMinutes, active }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            id = try c.decode(Int64.self, forKey: .id)
            version = try c.decode(Int.self, forKey: .version)
            name = try c.decodeIfPresent(String.self, forKey: .name)
            source = try c.decodeIfPresent(ContactSource.self, forKey: .source)
            ownerID = try Patch(c, .ownerID)
            summary = try Patch(c, .summary)
            firstTaskTitle = try Patch(c, .firstTaskTitle)
            firstTaskDueMinutes = try Patch(c, .firstTaskDueMinutes)
            active = try c.decodeIfPresent(Bool.self, forKey: .active)
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(version, forKey: .version)
            if let name { try c.encode(name, forKey: .name) }
            if let source { try c.encode(source, forKey: .source) }
            try ownerID.encode(into: &c, .ownerID)
            try summary.encode(into: &c, .summary)
            try firstTaskTitle.encode(into: &c, .firstTaskTitle)
            try firstTaskDueMinutes.encode(into: &c, .firstTaskDueMinutes)
            if let active { try c.encode(active, forKey: .active) }
        }
    }

    /// `line.list`.
    public struct LineList: Encodable, Sendable {
        public var lines: [PhoneLine]
        public init(lines: [PhoneLine]) { self.lines = lines }
    }

    /// `line.set`: creates the line or changes it (matched by its key: the E.164 form of a
    /// number, else the text lower-cased without spaces). `user_id` null = nobody's.
    public struct LineSetParams: Codable, Sendable {
        public var line: String
        public var label: String?
        public var userID: Int64?
        public init(line: String, label: String? = nil, userID: Int64? = nil) { self.line = line; self.label = label; self.userID = userID }
    }

    /// `line.delete`.
    public struct LineDeleteParams: Codable, Sendable {
        public var line: String
        public init(line: String) { self.line = line }
    }
}
