import Foundation

// Inquiries, leads, calls and messages (issue 4).
// Source: docs DOMAIN ("Lead statuses (the Leads process)") and issue 4. These are the
// wire shapes too: field names become snake_case (`contactID` → `contact_id`).

/// Where a lead stands. The codes are stable and drive every rule; the labels people
/// see live in the `lead_statuses` table and never drive logic.
public enum LeadStatus: String, Sendable, Codable, CaseIterable, Hashable {
    /// Just arrived; nobody has answered yet.
    case inquiry
    /// A manager answered (the call was taken, or a reply was recorded).
    case identification
    /// Missed call, or a message not answered in time: stays in every planner until a
    /// manager responds, qualifies or rejects it.
    case overdueIdentification = "overdue_identification"
    /// Qualified: the contact belongs to a company card.
    case target
    /// A mistaken inquiry, with a reason.
    case rejected

    /// Not yet qualified nor rejected.
    public var isOpen: Bool { self != .target && self != .rejected }

    /// The open statuses, in process order.
    public static let open: [LeadStatus] = [.inquiry, .identification, .overdueIdentification]
}

/// Why a lead's status changed (recorded in the status history).
public enum LeadCause: String, Sendable, Codable, CaseIterable, Hashable {
    /// The lead was made (from an inquiry, or by hand).
    case created
    /// An inbound call attached to the lead was answered.
    case callAnswered = "call_answered"
    /// An inbound call attached to the lead was missed.
    case callMissed = "call_missed"
    /// A message was not answered within the configured time.
    case messageUnanswered = "message_unanswered"
    /// A manager responded (an outbound call answered, a reply recorded).
    case response
    /// `lead.qualify`.
    case qualified
    /// `lead.reject`.
    case rejected
    /// `lead.reopen`.
    case reopened
}

/// How a lead got its owner.
public enum LeadAssignment: String, Sendable, Codable, CaseIterable, Hashable {
    /// The manager whose line (or login) took the call.
    case line
    /// The client dialled a number of ours that belongs to one manager.
    case directNumber = "direct_number"
    /// The contact's owner.
    case contactOwner = "contact_owner"
    /// Round-robin among the active Development managers.
    case roundRobin = "round_robin"
    /// Chosen by hand (`lead.create` with `owner_id`, `lead.update`).
    case manual
    /// The template's default owner.
    case template
    /// The sales user who created the lead by hand.
    case creator
    /// Nobody could be chosen (no active manager).
    case unassigned

    /// Assignments that a better-informed one may replace while the lead's first call is
    /// still arriving (a later leg shows who took the call).
    public var isFallback: Bool { self == .directNumber || self == .contactOwner || self == .roundRobin || self == .unassigned }
}

/// How an inquiry got its first response.
public enum ResponseKind: String, Sendable, Codable, CaseIterable, Hashable {
    /// The inbound call itself (or a later inbound call of the contact) was answered.
    case callAnswered = "call_answered"
    /// A manager's outbound call to the contact was answered.
    case callOutbound = "call_outbound"
    /// A manager's written reply came in through a robot (`message.ingest`, outbound).
    case messageOutbound = "message_outbound"
    /// Recorded by a manager with `inquiry.respond`.
    case manual
}

/// What an inquiry came as.
public enum InquiryKind: String, Sendable, Codable, CaseIterable, Hashable {
    case call, message
}

/// A logical call's kind, as the company card's `last_call_kind` shows it.
public enum CallKind: String, Sendable, Codable, CaseIterable, Hashable {
    case incomingAnswered = "incoming_answered"
    case incomingMissed = "incoming_missed"
    case outgoingAnswered = "outgoing_answered"
    case outgoingMissed = "outgoing_missed"
    /// Between our own lines (or with a hidden or own number): no contact, no inquiry.
    case `internal`
}

/// Direction of a call or message relative to us (the same codes as the ingestion wire).
public enum CommDirection: String, Sendable, Codable, CaseIterable, Hashable {
    case inbound, outbound, `internal`
}

/// The rules of the lead process: which moves are allowed from which status.
///
/// Automatic moves (ingestion, the overdue sweep, responses) never fail: a move that does
/// not apply is simply not made. Moves asked for by people (`lead.qualify`, `lead.reject`,
/// `lead.reopen`) answer `invalid_transition` when they do not apply.
public enum LeadRules {
    /// Whether the system moves a lead from `from` to `to` on its own.
    ///
    /// * `inquiry` → `identification` (a response) or `overdue_identification` (missed
    ///   call, message unanswered in time);
    /// * `overdue_identification` → `identification` (a response; also a later leg of the
    ///   same call showing it was answered after all).
    public static func isAutomatic(from: LeadStatus, to: LeadStatus) -> Bool {
        switch (from, to) {
        case (.inquiry, .identification), (.inquiry, .overdueIdentification), (.overdueIdentification, .identification): return true
        default: return false
        }
    }

    /// `lead.qualify` and `lead.reject` apply to open leads only.
    /// - Throws: `invalid_transition` for a lead already qualified or rejected.
    public static func checkClose(from: LeadStatus, to: LeadStatus) throws {
        guard from.isOpen else {
            throw KontorError(.invalidTransition, "the lead is \(from.rawValue) already; only open leads (inquiry, identification, overdue_identification) can become \(to.rawValue)",
                              data: ["status": .string(from.rawValue)])
        }
    }

    /// `lead.reopen` applies to closed leads only; they go back to `previous` (the status
    /// before they were closed), or `identification` when that is unknown.
    /// - Throws: `invalid_transition` for an open lead.
    public static func reopenTarget(from: LeadStatus, previous: LeadStatus?) throws -> LeadStatus {
        guard !from.isOpen else {
            throw KontorError(.invalidTransition, "the lead is \(from.rawValue), not closed; only target or rejected leads can be reopened",
                              data: ["status": .string(from.rawValue)])
        }
        if let previous, previous.isOpen { return previous }
        return .identification
    }
}

/// Settings of the lead process, kept in the `settings` table (keys `leads.*`).
public struct LeadSettings: Sendable, Codable, Equatable {
    /// A new inquiry from a contact with an open lead whose latest inquiry is at most this
    /// old attaches to that lead (a client who calls three times in an hour is one lead).
    public var openLeadWindowSeconds: Int
    /// An inbound message not answered within this many seconds makes its lead
    /// `overdue_identification`.
    public var messageResponseSeconds: Int
    /// The "waiting without a response over …" thresholds, ascending (default 20 min,
    /// 40 min, 2 h, 4 h).
    public var waitThresholdsSeconds: [Int]
    /// Who takes part in the round-robin; empty = every active Development manager.
    public var roundRobinUserIDs: [Int64]

    public init(openLeadWindowSeconds: Int, messageResponseSeconds: Int, waitThresholdsSeconds: [Int], roundRobinUserIDs: [Int64]) {
        self.openLeadWindowSeconds = openLeadWindowSeconds; self.messageResponseSeconds = messageResponseSeconds
        self.waitThresholdsSeconds = waitThresholdsSeconds; self.roundRobinUserIDs = roundRobinUserIDs
    }

    enum CodingKeys: String, CodingKey {
        // `IDs` would read as `i_ds` on the wire.
        case openLeadWindowSeconds, messageResponseSeconds, waitThresholdsSeconds, roundRobinUserIDs = "roundRobinUserIds"
    }

    /// The values a fresh installation starts with.
    public static let defaults = LeadSettings(openLeadWindowSeconds: 86_400, messageResponseSeconds: 3_600,
                                              waitThresholdsSeconds: [1_200, 2_400, 7_200, 14_400], roundRobinUserIDs: [])

    /// The `settings` table key of each field.
    public enum Key: String, CaseIterable, Sendable {
        case openLeadWindowSeconds = "leads.open_lead_window_seconds"
        case messageResponseSeconds = "leads.message_response_seconds"
        case waitThresholdsSeconds = "leads.wait_thresholds_seconds"
        case roundRobinUserIDs = "leads.round_robin_user_ids"
    }

    /// Checks the values.
    /// - Throws: `invalid_params` naming the field.
    public func validate() throws {
        guard (60...30 * 86_400).contains(openLeadWindowSeconds) else {
            throw KontorError.invalidParams("open_lead_window_seconds", "the open-lead window is 60 seconds to 30 days")
        }
        guard (60...30 * 86_400).contains(messageResponseSeconds) else {
            throw KontorError.invalidParams("message_response_seconds", "the message response time is 60 seconds to 30 days")
        }
        guard (1...10).contains(waitThresholdsSeconds.count),
              waitThresholdsSeconds.allSatisfy({ (60...30 * 86_400).contains($0) }),
              zip(waitThresholdsSeconds, waitThresholdsSeconds.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw KontorError.invalidParams("wait_thresholds_seconds", "1 to 10 thresholds, ascending, each 60 seconds to 30 days")
        }
        guard roundRobinUserIDs.count <= 200, Set(roundRobinUserIDs).count == roundRobinUserIDs.count else {
            throw KontorError.invalidParams("round_robin_user_ids", "at most 200 users, each once")
        }
    }

    /// The largest threshold a wait of `seconds` is over, nil when under all of them.
    public func bucket(waitingSeconds seconds: Int?) -> Int? {
        guard let seconds else { return nil }
        return waitThresholdsSeconds.last { seconds > $0 }
    }
}

/// The key under which one of our lines is stored and matched: the E.164 form when the
/// text is a plausible phone number (`044 555 01 00` → `+380445550100`), otherwise the
/// text lower-cased without whitespace (an extension `901`, a SIP peer `pjsip/client1`).
public enum LineKey {
    /// The key of `raw`, nil when it is empty or longer than 100 characters.
    public static func make(_ raw: String?, normalizer: PhoneNormalizer) -> String? {
        guard let raw else { return nil }
        let trimmed = raw.unicodeScalars.filter { !$0.properties.isWhitespace && $0.properties.generalCategory != .control }
        let text = String(String.UnicodeScalarView(trimmed)).lowercased()
        guard !text.isEmpty, text.count <= 100 else { return nil }
        if let e164 = normalizer.normalize(raw).e164 { return e164 }
        return text
    }
}

// MARK: - Records

/// A lead: the unit of work made for an inquiry, or by hand from a contact card.
public struct Lead: Sendable, Codable, Equatable {
    /// The record id.
    public var id: Int64
    /// The contact it concerns.
    public var contactID: Int64
    /// The contact's display name.
    public var contactName: String?
    /// The contact's company (after qualification: the company it was linked to).
    public var companyID: Int64?
    /// The company's name (null when the caller may not see it).
    public var companyName: String?
    /// The stable status code.
    public var status: LeadStatus
    /// The status's configured label (display only).
    public var statusLabel: String
    /// The channel it came through (`phone`, `email`, `telegram`, ..., `manual`).
    public var source: ContactSource
    /// The owner (the manager responsible).
    public var ownerID: Int64?
    /// The owner's full name.
    public var ownerName: String?
    /// How the owner was chosen.
    public var assignedBy: LeadAssignment
    /// What the client wants, in a line (by hand or from a template).
    public var summary: String?
    /// The template it was made from.
    public var templateID: Int64?
    /// Why it was rejected (a code of `lead_rejection_reasons`).
    public var rejectReasonCode: String?
    /// The reason's label.
    public var rejectReasonLabel: String?
    /// The free text given with the reason.
    public var rejectReasonText: String?
    /// The latest inquiry attached (or the creation): the open-lead window runs from it.
    public var lastInquiryAt: Date
    /// When the status last changed.
    public var statusChangedAt: Date
    /// When it was qualified or rejected; nil while open.
    public var closedAt: Date?
    /// The oldest inquiry of this open lead still without a response; nil when none.
    public var waitingSince: Date?
    /// Seconds since `waitingSince` at the request's time.
    public var waitingSeconds: Int?
    /// The largest configured threshold `waitingSeconds` is over (e.g. 7200), nil when under all.
    public var waitingOver: Int?
    /// How many inquiries the lead has.
    public var inquiryCount: Int
    /// Optimistic-concurrency version; changes send the one they read.
    public var version: Int
    /// When it was made (server clock).
    public var createdAt: Date
    /// Who made it (a robot for ingested records).
    public var createdBy: Int64?
    /// The last change.
    public var updatedAt: Date
    /// Who changed it last.
    public var updatedBy: Int64?

    public init(id: Int64, contactID: Int64, contactName: String?, companyID: Int64?, companyName: String?, status: LeadStatus,
                statusLabel: String, source: ContactSource, ownerID: Int64?, ownerName: String?, assignedBy: LeadAssignment,
                summary: String?, templateID: Int64?, rejectReasonCode: String?, rejectReasonLabel: String?, rejectReasonText: String?,
                lastInquiryAt: Date, statusChangedAt: Date, closedAt: Date?, waitingSince: Date?, waitingSeconds: Int?,
                waitingOver: Int?, inquiryCount: Int, version: Int, createdAt: Date, createdBy: Int64?, updatedAt: Date, updatedBy: Int64?) {
        self.id = id; self.contactID = contactID; self.contactName = contactName; self.companyID = companyID
        self.companyName = companyName; self.status = status; self.statusLabel = statusLabel; self.source = source
        self.ownerID = ownerID; self.ownerName = ownerName; self.assignedBy = assignedBy; self.summary = summary
        self.templateID = templateID; self.rejectReasonCode = rejectReasonCode; self.rejectReasonLabel = rejectReasonLabel
        self.rejectReasonText = rejectReasonText; self.lastInquiryAt = lastInquiryAt; self.statusChangedAt = statusChangedAt
        self.closedAt = closedAt; self.waitingSince = waitingSince; self.waitingSeconds = waitingSeconds
        self.waitingOver = waitingOver; self.inquiryCount = inquiryCount; self.version = version; self.createdAt = createdAt
        self.createdBy = createdBy; self.updatedAt = updatedAt; self.updatedBy = updatedBy
    }
}

/// One status change of a lead: who, when, from, to and why.
public struct LeadHistoryEntry: Sendable, Codable, Equatable {
    /// The record id.
    public var id: Int64
    /// nil for the lead's creation.
    public var fromStatus: LeadStatus?
    /// The status after.
    public var toStatus: LeadStatus
    /// Why it changed.
    public var cause: LeadCause
    /// When (server clock).
    public var at: Date
    /// Who (nil: the system, e.g. the overdue sweep).
    public var actorID: Int64?
    /// The actor's full name.
    public var actorName: String?
    /// The protocol method or job that made the change.
    public var method: String
    /// The rejection reason, for rejections.
    public var reasonCode: String?
    /// The free text of a rejection.
    public var reasonText: String?
    /// The inquiry that caused it, when one did.
    public var inquiryID: Int64?

    public init(id: Int64, fromStatus: LeadStatus?, toStatus: LeadStatus, cause: LeadCause, at: Date, actorID: Int64?, actorName: String?,
                method: String, reasonCode: String?, reasonText: String?, inquiryID: Int64?) {
        self.id = id; self.fromStatus = fromStatus; self.toStatus = toStatus; self.cause = cause; self.at = at; self.actorID = actorID
        self.actorName = actorName; self.method = method; self.reasonCode = reasonCode; self.reasonText = reasonText; self.inquiryID = inquiryID
    }
}

/// The first task a lead template asks for; issue 5 (tasks) turns it into a task and
/// sets `taskID`.
public struct LeadFirstTask: Sendable, Codable, Equatable {
    /// What to do.
    public var title: String
    /// When it is due.
    public var dueAt: Date?
    /// Who is to do it (the lead owner).
    public var assigneeID: Int64?
    /// Set once the task exists.
    public var taskID: Int64?
    public init(title: String, dueAt: Date?, assigneeID: Int64?, taskID: Int64?) {
        self.title = title; self.dueAt = dueAt; self.assigneeID = assigneeID; self.taskID = taskID
    }
}

/// An incoming communication (a call or a message) with its response time.
public struct Inquiry: Sendable, Codable, Equatable {
    /// The record id.
    public var id: Int64
    /// The lead it belongs to.
    public var leadID: Int64
    /// The lead's status now.
    public var leadStatus: LeadStatus
    /// The lead's owner: the manager responsible for answering.
    public var ownerID: Int64?
    /// The owner's full name.
    public var ownerName: String?
    /// The contact it concerns.
    public var contactID: Int64
    /// The contact's display name (null when the caller may not see the contact).
    public var contactName: String?
    /// The channel it came through.
    public var source: ContactSource
    /// What kind of record.
    public var kind: InquiryKind
    /// When it was received (the event time the robot reported).
    public var receivedAt: Date
    /// When it got its first response.
    public var firstResponseAt: Date?
    /// Who responded first (nil when unknown, e.g. an answered call without a known line).
    public var firstResponseBy: Int64?
    /// The responder's full name.
    public var firstResponseByName: String?
    /// How it was answered first.
    public var firstResponseKind: ResponseKind?
    /// `firstResponseAt - receivedAt` in seconds.
    public var responseSeconds: Int?
    /// Seconds without a response at the request's time; nil once answered.
    public var waitingSeconds: Int?
    /// When it became overdue (missed call, message unanswered in time); nil if it never did.
    public var overdueAt: Date?
    /// The call it came as, when a call.
    public var callID: Int64?
    /// Messages attached to it (a client writing three times before anyone answers is one inquiry).
    public var messages: Int

    public init(id: Int64, leadID: Int64, leadStatus: LeadStatus, ownerID: Int64?, ownerName: String?, contactID: Int64, contactName: String?,
                source: ContactSource, kind: InquiryKind, receivedAt: Date, firstResponseAt: Date?, firstResponseBy: Int64?,
                firstResponseByName: String?, firstResponseKind: ResponseKind?, responseSeconds: Int?, waitingSeconds: Int?,
                overdueAt: Date?, callID: Int64?, messages: Int) {
        self.id = id; self.leadID = leadID; self.leadStatus = leadStatus; self.ownerID = ownerID; self.ownerName = ownerName
        self.contactID = contactID; self.contactName = contactName; self.source = source; self.kind = kind; self.receivedAt = receivedAt
        self.firstResponseAt = firstResponseAt; self.firstResponseBy = firstResponseBy; self.firstResponseByName = firstResponseByName
        self.firstResponseKind = firstResponseKind; self.responseSeconds = responseSeconds; self.waitingSeconds = waitingSeconds
        self.overdueAt = overdueAt; self.callID = callID; self.messages = messages
    }
}

/// A logical call: every leg (record) a provider sent for it, grouped by linked id.
public struct Call: Sendable, Codable, Equatable {
    /// The record id.
    public var id: Int64
    /// The telephony provider (`binotel`, `asterisk`, ...).
    public var provider: String
    /// The linked id shared by the legs (or the only leg's external id).
    public var callKey: String
    /// Relative to us.
    public var direction: CommDirection
    /// What kind of record.
    public var kind: CallKind
    /// Talk time > 0 on any leg.
    public var answered: Bool
    /// The client's number as the provider wrote it.
    public var remoteNumber: String?
    /// Our number (DID, line) involved.
    public var ourNumber: String?
    /// The contact it concerns.
    public var contactID: Int64?
    /// The contact's display name (null when the caller may not see the contact).
    public var contactName: String?
    /// The inquiry it made or joined.
    public var inquiryID: Int64?
    /// The lead it belongs to.
    public var leadID: Int64?
    /// Who took the call (answered calls), who it rang for or who dialled.
    public var managerID: Int64?
    /// The manager's full name.
    public var managerName: String?
    /// When it started.
    public var startedAt: Date
    /// When it was answered.
    public var answeredAt: Date?
    /// When it ended.
    public var endedAt: Date?
    /// Seconds of conversation.
    public var talkSeconds: Int
    /// Seconds before the answer (or the hang-up).
    public var waitSeconds: Int?
    /// Where the recording is.
    public var recordingURL: String?
    /// How many records (legs) the provider sent for it.
    public var legs: Int

    public init(id: Int64, provider: String, callKey: String, direction: CommDirection, kind: CallKind, answered: Bool, remoteNumber: String?,
                ourNumber: String?, contactID: Int64?, contactName: String?, inquiryID: Int64?, leadID: Int64?, managerID: Int64?,
                managerName: String?, startedAt: Date, answeredAt: Date?, endedAt: Date?, talkSeconds: Int, waitSeconds: Int?,
                recordingURL: String?, legs: Int) {
        self.id = id; self.provider = provider; self.callKey = callKey; self.direction = direction; self.kind = kind; self.answered = answered
        self.remoteNumber = remoteNumber; self.ourNumber = ourNumber; self.contactID = contactID; self.contactName = contactName
        self.inquiryID = inquiryID; self.leadID = leadID; self.managerID = managerID; self.managerName = managerName
        self.startedAt = startedAt; self.answeredAt = answeredAt; self.endedAt = endedAt; self.talkSeconds = talkSeconds
        self.waitSeconds = waitSeconds; self.recordingURL = recordingURL; self.legs = legs
    }
}

/// One record (leg) of a call as the provider sent it.
public struct CallLeg: Sendable, Codable, Equatable {
    /// The record id.
    public var id: Int64
    /// The provider's or channel's id of it.
    public var externalID: String
    /// The id its legs share.
    public var linkedID: String?
    /// Relative to us.
    public var direction: CommDirection
    /// The client's number as the provider wrote it.
    public var remoteNumber: String?
    /// Our number (DID, line) involved.
    public var ourNumber: String?
    /// The internal line (extension, SIP peer) as the provider wrote it.
    public var managerLine: String?
    /// The Kontor login the provider named.
    public var managerLogin: String?
    /// The manager resolved from the login or the line.
    public var managerID: Int64?
    /// When it started.
    public var startedAt: Date
    /// When it was answered.
    public var answeredAt: Date?
    /// When it ended.
    public var endedAt: Date?
    /// Seconds of conversation.
    public var talkSeconds: Int
    /// Seconds before the answer (or the hang-up).
    public var waitSeconds: Int?
    /// The provider's final status, as given.
    public var disposition: String?
    /// Where the recording is.
    public var recordingURL: String?
    /// When the robot delivered it (server clock).
    public var ingestedAt: Date

    public init(id: Int64, externalID: String, linkedID: String?, direction: CommDirection, remoteNumber: String?, ourNumber: String?,
                managerLine: String?, managerLogin: String?, managerID: Int64?, startedAt: Date, answeredAt: Date?, endedAt: Date?,
                talkSeconds: Int, waitSeconds: Int?, disposition: String?, recordingURL: String?, ingestedAt: Date) {
        self.id = id; self.externalID = externalID; self.linkedID = linkedID; self.direction = direction; self.remoteNumber = remoteNumber
        self.ourNumber = ourNumber; self.managerLine = managerLine; self.managerLogin = managerLogin; self.managerID = managerID
        self.startedAt = startedAt; self.answeredAt = answeredAt; self.endedAt = endedAt; self.talkSeconds = talkSeconds
        self.waitSeconds = waitSeconds; self.disposition = disposition; self.recordingURL = recordingURL; self.ingestedAt = ingestedAt
    }
}

/// Who wrote a message, as the channel told.
public struct MessageParty: Sendable, Codable, Equatable {
    /// An e-mail address, as written.
    public var email: String?
    /// A phone number, as written.
    public var phone: String?
    /// The channel's user id (a string: ids beyond 2^53 stay exact).
    public var messengerID: String?
    /// The public user name.
    public var username: String?
    /// A name.
    public var name: String?
    public init(email: String?, phone: String?, messengerID: String?, username: String?, name: String?) {
        self.email = email; self.phone = phone; self.messengerID = messengerID; self.username = username; self.name = name
    }
}

/// An attachment's description (the content is not stored).
public struct MessageAttachment: Sendable, Codable, Equatable {
    /// A name.
    public var name: String?
    /// The MIME type.
    public var contentType: String?
    /// Bytes; nil when the channel did not say.
    public var size: Int?
    /// An attachment's description.
    public init(name: String?, contentType: String?, size: Int?) { self.name = name; self.contentType = contentType; self.size = size }
}

/// An e-mail, messenger, social or site-form message (or a reply recorded by hand).
public struct ChannelMessage: Sendable, Codable, Equatable {
    /// The record id.
    public var id: Int64
    /// `email`, `telegram`, `viber`, `facebook`, `instagram`, `site` (and `phone` for a
    /// reply recorded by hand over the phone).
    public var channel: ContactSource
    /// The provider's or channel's id of it.
    public var externalID: String?
    /// Relative to us.
    public var direction: CommDirection
    /// The contact it concerns.
    public var contactID: Int64?
    /// The contact's display name (null when the caller may not see the contact).
    public var contactName: String?
    /// The inquiry it made or joined.
    public var inquiryID: Int64?
    /// The lead it belongs to.
    public var leadID: Int64?
    /// Who wrote it.
    public var sender: MessageParty
    /// Our address, bot or form that received it (for outbound: the client).
    public var recipient: String?
    /// The subject.
    public var subject: String?
    /// The plain text.
    public var text: String
    /// When it was received (the event time the robot reported).
    public var receivedAt: Date
    /// The conversation it belongs to.
    public var threadID: String?
    /// Attachment descriptions (contents are not stored).
    public var attachments: [MessageAttachment]
    /// For outbound messages: who wrote it.
    public var managerID: Int64?
    /// The manager's full name.
    public var managerName: String?
    /// When it was made (server clock).
    public var createdAt: Date
    /// The message this one edits (a messenger's edited message), nil for an original.
    public var editOf: Int64?

    /// A message as read from the database.
    public init(id: Int64, channel: ContactSource, externalID: String?, direction: CommDirection, contactID: Int64?, contactName: String?,
                inquiryID: Int64?, leadID: Int64?, sender: MessageParty, recipient: String?, subject: String?, text: String,
                receivedAt: Date, threadID: String?, attachments: [MessageAttachment], managerID: Int64?, managerName: String?, createdAt: Date,
                editOf: Int64? = nil) {
        self.id = id; self.channel = channel; self.externalID = externalID; self.direction = direction; self.contactID = contactID
        self.contactName = contactName; self.inquiryID = inquiryID; self.leadID = leadID; self.sender = sender; self.recipient = recipient
        self.subject = subject; self.text = text; self.receivedAt = receivedAt; self.threadID = threadID; self.attachments = attachments
        self.managerID = managerID; self.managerName = managerName; self.createdAt = createdAt; self.editOf = editOf
    }
}

/// A status code with its configured label.
public struct LeadStatusLabel: Sendable, Codable, Equatable {
    /// The stable code.
    public var code: LeadStatus
    /// The label people see.
    public var label: String
    /// Sort order.
    public var position: Int
    public init(code: LeadStatus, label: String, position: Int) { self.code = code; self.label = label; self.position = position }
}

/// One entry of the editable list of reasons for rejecting a lead.
public struct RejectionReason: Sendable, Codable, Equatable {
    /// Stable code (`wrong_department`); never changes once made.
    public var code: String
    /// The label people see.
    public var label: String
    /// The free text is required with this reason (e.g. `other`).
    public var textRequired: Bool
    /// Inactive reasons stay on old leads but cannot be chosen.
    public var active: Bool
    /// Sort order.
    public var position: Int
    /// Optimistic-concurrency version; changes send the one they read.
    public var version: Int
    public init(code: String, label: String, textRequired: Bool, active: Bool, position: Int, version: Int) {
        self.code = code; self.label = label; self.textRequired = textRequired; self.active = active; self.position = position; self.version = version
    }
}

/// A template for leads made by hand: default source, owner, summary and first task.
public struct LeadTemplate: Sendable, Codable, Equatable {
    /// The record id.
    public var id: Int64
    /// A name.
    public var name: String
    /// The channel it came through.
    public var source: ContactSource
    /// The owner (the manager responsible).
    public var ownerID: Int64?
    /// The owner's full name.
    public var ownerName: String?
    /// What the client wants, in a line.
    public var summary: String?
    /// The first task a lead from this template gets.
    public var firstTaskTitle: String?
    /// The first task is due this many minutes after the lead is made; nil = no due time.
    public var firstTaskDueMinutes: Int?
    /// Whether it can be used.
    public var active: Bool
    /// Optimistic-concurrency version; changes send the one they read.
    public var version: Int
    public init(id: Int64, name: String, source: ContactSource, ownerID: Int64?, ownerName: String?, summary: String?, firstTaskTitle: String?,
                firstTaskDueMinutes: Int?, active: Bool, version: Int) {
        self.id = id; self.name = name; self.source = source; self.ownerID = ownerID; self.ownerName = ownerName; self.summary = summary
        self.firstTaskTitle = firstTaskTitle; self.firstTaskDueMinutes = firstTaskDueMinutes; self.active = active; self.version = version
    }
}

/// One of our lines: a number of ours (never made into a contact) or an internal line
/// (extension, SIP peer), optionally belonging to a manager.
public struct PhoneLine: Sendable, Codable, Equatable {
    /// The record id.
    public var id: Int64
    /// As entered.
    public var line: String
    /// How it is matched (see `LineKey`).
    public var key: String
    /// The label people see.
    public var label: String?
    /// The manager on the line.
    public var userID: Int64?
    /// The manager's full name.
    public var userName: String?
    /// Optimistic-concurrency version; changes send the one they read.
    public var version: Int
    public init(id: Int64, line: String, key: String, label: String?, userID: Int64?, userName: String?, version: Int) {
        self.id = id; self.line = line; self.key = key; self.label = label; self.userID = userID; self.userName = userName; self.version = version
    }
}

/// One row of `reporting.lead_response_v1`.
public struct LeadResponseRow: Sendable, Codable, Equatable {
    /// `YYYY-MM` in the business time zone.
    public var period: String
    /// The manager resolved from the login or the line.
    public var managerID: Int64?
    /// The manager's full name.
    public var managerName: String
    /// Inquiries received.
    public var inquiries: Int
    /// Talk time > 0 on any leg (calls); inquiries with a first response (reports).
    public var answered: Int
    /// Inquiries that became overdue.
    public var overdueIdentifications: Int
    /// Median first-response time, seconds.
    public var medianFirstResponseSeconds: Int?
    /// 90th percentile first-response time, seconds.
    public var p90FirstResponseSeconds: Int?
    public init(period: String, managerID: Int64?, managerName: String, inquiries: Int, answered: Int, overdueIdentifications: Int,
                medianFirstResponseSeconds: Int?, p90FirstResponseSeconds: Int?) {
        self.period = period; self.managerID = managerID; self.managerName = managerName; self.inquiries = inquiries
        self.answered = answered; self.overdueIdentifications = overdueIdentifications
        self.medianFirstResponseSeconds = medianFirstResponseSeconds; self.p90FirstResponseSeconds = p90FirstResponseSeconds
    }
}
