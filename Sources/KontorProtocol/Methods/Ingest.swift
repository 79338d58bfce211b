import Foundation
import KontorDomain

/// Robot ingestion: calls, messages and contact imports (issues 4 and 7).
///
/// Every event carries an external id; delivering it again changes nothing and answers
/// the original result with `duplicate: true`.
public enum IngestMethods {
    public static let catalogue: [MethodInfo] = [
        MethodInfo("call.ingest", "Record one telephony call record (a leg); creates or updates the call, inquiry and lead.",
                   params: ["external_id: string", "provider: string", "linked_id: string?", "direction: inbound|outbound|internal",
                            "remote_number: string?", "remote_name: string?", "our_number: string?", "manager_line: string?", "manager_login: string?",
                            "started_at: time", "answered_at: time?", "ended_at: time?", "talk_seconds: int", "wait_seconds: int?",
                            "disposition: string?", "recording_url: string?", "raw: json?"]),
        MethodInfo("message.ingest", "Record one e-mail, messenger, social or site-form message; creates the inquiry and lead.",
                   params: ["external_id: string", "channel: email|telegram|viber|facebook|instagram|site", "direction: inbound|outbound?",
                            "sender: {email?, phone?, messenger_id?, username?, name?, company?}", "recipient: string?", "subject: string?",
                            "text: string", "received_at: time", "thread_id: string?", "attachments: [{name?, content_type?, size?}]?",
                            "manager_login: string?", "edit_of: string?", "raw: json?"]),
    ]

    /// `contact.import` (issue 7), served on its own: `MethodCatalogue.all` includes this
    /// list, and the ingestion methods above join it when they are served.
    public static let importCatalogue: [MethodInfo] = [
        MethodInfo("contact.import", "Import contacts and companies from rows (CSV); per-row results; dry run and update mode.",
                   params: ["rows: [row]", "mode: create_only|update_existing", "dry_run: bool?", "source: string?"]),
    ]

    /// At most this many rows per `contact.import` call.
    public static let importMaxRows = 1000

    /// The largest `raw` payload `call.ingest` and `message.ingest` keep: 256 KiB of JSON
    /// text (`invalid_params` beyond; the bridge cuts larger payloads down before sending).
    public static let rawMaxBytes = 256 * 1024

    /// The most attachments one message may list.
    public static let attachmentsMax = 500

    /// Direction of a call or message relative to us.
    public enum Direction: String, Codable, Sendable, CaseIterable {
        case inbound
        case outbound
        /// Between two of our own lines (never makes inquiries or contacts).
        case `internal`
    }

    /// One call record as a PBX or telephony provider reports it: one leg of a call.
    ///
    /// Several legs of one call (ring groups, transfers) share `linked_id`; the call's
    /// outcome comes from its final state (talk time > 0 on any leg = answered), not from
    /// the order records arrive.
    public struct CallIngestParams: Codable, Sendable, Equatable {
        /// The provider's unique id of this record (Binotel `generalCallID`+leg, Asterisk
        /// `uniqueid`, Twilio `CallSid`, FreeSWITCH `uuid`). Idempotency key together with `provider`.
        public var externalID: String
        /// `binotel`, `twilio`, `asterisk`, `freeswitch`, `generic`, ...
        public var provider: String
        /// Groups legs of one call (Asterisk `linkedid`, Twilio `ParentCallSid`, Binotel
        /// `generalCallID`); nil = the call has one leg.
        public var linkedID: String?
        /// Inbound (the client called), outbound (we called), internal (between our lines).
        public var direction: Direction
        /// The client's number as the provider wrote it; nil when the caller id is hidden.
        public var remoteNumber: String?
        /// The caller id name the PBX shows for the client (Asterisk `clid`, Binotel
        /// `customerData.name`), when it knows one: the name of the contact kontord makes
        /// for an unknown caller. Optional and additive: absent = no name.
        public var remoteName: String?
        /// Our number (DID/line) involved.
        public var ourNumber: String?
        /// The internal line (extension, SIP peer) that handled the call.
        public var managerLine: String?
        /// A Kontor login, when the provider knows it.
        public var managerLogin: String?
        /// When the leg started (ringing began).
        public var startedAt: Date
        /// When someone picked up; nil when nobody did.
        public var answeredAt: Date?
        /// When the leg ended.
        public var endedAt: Date?
        /// Seconds of conversation (billsec); 0 = not answered on this leg.
        public var talkSeconds: Int
        /// Seconds of ringing/waiting before answer or hang-up.
        public var waitSeconds: Int?
        /// The provider's own final status (`ANSWER`, `NO ANSWER`, `BUSY`, `completed`, ...), kept as given.
        public var disposition: String?
        /// Where the provider keeps the recording.
        public var recordingURL: String?
        /// The provider's payload, kept as JSONB for audit; at most `IngestMethods.rawMaxBytes` as JSON text.
        public var raw: JSONValue?

        /// A call record; the optional fields default to nil.
        public init(externalID: String, provider: String, linkedID: String? = nil, direction: Direction, remoteNumber: String?,
                    remoteName: String? = nil, ourNumber: String? = nil, managerLine: String? = nil, managerLogin: String? = nil, startedAt: Date,
                    answeredAt: Date? = nil, endedAt: Date? = nil, talkSeconds: Int, waitSeconds: Int? = nil,
                    disposition: String? = nil, recordingURL: String? = nil, raw: JSONValue? = nil) {
            self.externalID = externalID; self.provider = provider; self.linkedID = linkedID; self.direction = direction
            self.remoteNumber = remoteNumber; self.remoteName = remoteName; self.ourNumber = ourNumber; self.managerLine = managerLine
            self.managerLogin = managerLogin; self.startedAt = startedAt; self.answeredAt = answeredAt; self.endedAt = endedAt
            self.talkSeconds = talkSeconds; self.waitSeconds = waitSeconds; self.disposition = disposition
            self.recordingURL = recordingURL; self.raw = raw
        }
    }

    /// What `call.ingest` did.
    public struct CallIngestResult: Codable, Sendable, Equatable {
        /// The logical call (the same for every leg of it).
        public var callID: Int64
        /// The client's contact, when there is one.
        public var contactID: Int64?
        /// The inquiry the call made or joined (inbound calls with a contact).
        public var inquiryID: Int64?
        /// The lead the call belongs to.
        public var leadID: Int64?
        /// The lead's status code after this record (`identification`, `overdue_identification`, ...).
        public var leadStatus: String?
        /// True when this external id was delivered before: nothing changed.
        public var duplicate: Bool

        /// A result as kontord answers it.
        public init(callID: Int64, contactID: Int64?, inquiryID: Int64?, leadID: Int64?, leadStatus: String?, duplicate: Bool) {
            self.callID = callID; self.contactID = contactID; self.inquiryID = inquiryID; self.leadID = leadID
            self.leadStatus = leadStatus; self.duplicate = duplicate
        }
    }

    /// Channels of written messages.
    public enum MessageChannel: String, Codable, Sendable, CaseIterable {
        case email, telegram, viber, facebook, instagram, site
    }

    /// Who wrote a message, as far as the channel tells.
    public struct MessageSender: Codable, Sendable, Equatable {
        /// An e-mail address, as written.
        public var email: String?
        /// A phone number, as written (a shared contact, a form's phone field).
        public var phone: String?
        /// The channel's user id (Telegram user id, Viber user id, ...), as a string: ids
        /// beyond 2^53 must survive exactly.
        public var messengerID: String?
        /// The channel's public user name (Telegram `@username`, without the `@`).
        public var username: String?
        /// The sender's name as the channel shows it.
        public var name: String?
        /// The sender's organisation (a site form's company field, an e-mail's
        /// `Organization:` header): the organisation of the contact kontord makes for an
        /// unknown sender. Optional and additive.
        public var company: String?

        /// A sender; every part is optional.
        public init(email: String? = nil, phone: String? = nil, messengerID: String? = nil, username: String? = nil, name: String? = nil,
                    company: String? = nil) {
            self.email = email; self.phone = phone; self.messengerID = messengerID; self.username = username; self.name = name
            self.company = company
        }
    }

    /// An attachment's description; its content is not stored in the database.
    public struct Attachment: Codable, Sendable, Equatable {
        /// The file name.
        public var name: String?
        /// The MIME type.
        public var contentType: String?
        /// Bytes (decoded size); nil when the channel does not say.
        public var size: Int?

        /// An attachment's description.
        public init(name: String?, contentType: String?, size: Int?) {
            self.name = name; self.contentType = contentType; self.size = size
        }
    }

    /// One written message as a channel delivered it (`message.ingest`).
    public struct MessageIngestParams: Codable, Sendable, Equatable {
        /// The channel's unique id of the message (e-mail Message-ID, Telegram
        /// `chat_id:message_id`, Viber `message_token`, form submission id). Idempotency key
        /// together with `channel`.
        public var externalID: String
        /// The channel it came through.
        public var channel: MessageChannel
        /// Default inbound; outbound = a manager's reply recorded by the robot.
        public var direction: Direction?
        /// Who wrote it.
        public var sender: MessageSender
        /// Our address/bot/form that received it.
        public var recipient: String?
        /// The subject (e-mail) or title (site form).
        public var subject: String?
        /// Plain text (HTML-only mail already converted to text); may be empty (an
        /// e-mail with attachments only).
        public var text: String
        /// When it was written or received.
        public var receivedAt: Date
        /// Conversation id (Telegram chat id, e-mail thread root, Viber user id).
        public var threadID: String?
        /// Attachments (metadata only), at most `IngestMethods.attachmentsMax`.
        public var attachments: [Attachment]?
        /// For outbound messages: the manager who wrote it.
        public var managerLogin: String?
        /// The external id (same channel) of the message this one edits (a Telegram
        /// `edited_message`): kontord records it as an edit of that message, on its
        /// inquiry and lead, without making a new inquiry. Optional and additive.
        public var editOf: String?
        /// The original payload (JSON) for audit; at most `IngestMethods.rawMaxBytes` as JSON text.
        public var raw: JSONValue?

        /// A message; the optional fields default to nil.
        public init(externalID: String, channel: MessageChannel, direction: Direction? = nil, sender: MessageSender,
                    recipient: String? = nil, subject: String? = nil, text: String, receivedAt: Date, threadID: String? = nil,
                    attachments: [Attachment]? = nil, managerLogin: String? = nil, editOf: String? = nil, raw: JSONValue? = nil) {
            self.externalID = externalID; self.channel = channel; self.direction = direction; self.sender = sender
            self.recipient = recipient; self.subject = subject; self.text = text; self.receivedAt = receivedAt
            self.threadID = threadID; self.attachments = attachments; self.managerLogin = managerLogin; self.editOf = editOf; self.raw = raw
        }
    }

    /// What `message.ingest` did.
    public struct MessageIngestResult: Codable, Sendable, Equatable {
        /// The message's record.
        public var messageID: Int64
        /// The sender's (inbound) or recipient's (outbound) contact, when there is one.
        public var contactID: Int64?
        /// The inquiry the message made or joined (an edit: the edited message's).
        public var inquiryID: Int64?
        /// The lead it belongs to.
        public var leadID: Int64?
        /// The lead's status code after this message.
        public var leadStatus: String?
        /// True when this external id was delivered before: nothing changed.
        public var duplicate: Bool

        /// A result as kontord answers it.
        public init(messageID: Int64, contactID: Int64?, inquiryID: Int64?, leadID: Int64?, leadStatus: String?, duplicate: Bool) {
            self.messageID = messageID; self.contactID = contactID; self.inquiryID = inquiryID; self.leadID = leadID
            self.leadStatus = leadStatus; self.duplicate = duplicate
        }
    }

    // MARK: contact.import

    public enum ImportMode: String, Codable, Sendable {
        /// Rows matching an existing contact (by phone or e-mail) are reported `unchanged`.
        case createOnly = "create_only"
        /// Rows matching an existing contact update it (fills and adds, never deletes).
        case updateExisting = "update_existing"
    }

    public enum ImportKind: String, Codable, Sendable {
        case contact
        /// A company row (B2B exports list organisations and their people).
        case company
    }

    public struct ImportPhone: Codable, Sendable, Equatable {
        public var number: String
        public var label: String?
        public init(number: String, label: String? = nil) { self.number = number; self.label = label }
    }

    /// One row of a contacts file after column mapping.
    public struct ImportRow: Codable, Sendable, Equatable {
        /// The row's line number in the file (for the report).
        public var line: Int
        public var kind: ImportKind?
        public var fullName: String?
        public var position: String?
        public var phones: [ImportPhone]?
        public var emails: [String]?
        public var telegram: String?
        public var viber: String?
        /// The company this person belongs to (matched by name or EDRPOU, created when missing).
        public var companyName: String?
        public var edrpou: String?
        public var address: String?
        public var website: String?
        public var notes: String?
        /// `lead`, `contact` or `client`.
        public var group: String?
        public var ownerLogin: String?

        public init(line: Int, kind: ImportKind? = nil, fullName: String? = nil, position: String? = nil, phones: [ImportPhone]? = nil,
                    emails: [String]? = nil, telegram: String? = nil, viber: String? = nil, companyName: String? = nil,
                    edrpou: String? = nil, address: String? = nil, website: String? = nil, notes: String? = nil,
                    group: String? = nil, ownerLogin: String? = nil) {
            self.line = line; self.kind = kind; self.fullName = fullName; self.position = position; self.phones = phones
            self.emails = emails; self.telegram = telegram; self.viber = viber; self.companyName = companyName
            self.edrpou = edrpou; self.address = address; self.website = website; self.notes = notes
            self.group = group; self.ownerLogin = ownerLogin
        }
    }

    public struct ContactImportParams: Codable, Sendable, Equatable {
        public var rows: [ImportRow]
        public var mode: ImportMode
        /// Report what would happen; change nothing.
        public var dryRun: Bool?
        /// Contact source to record (default `import`).
        public var source: String?

        public init(rows: [ImportRow], mode: ImportMode, dryRun: Bool? = nil, source: String? = nil) {
            self.rows = rows; self.mode = mode; self.dryRun = dryRun; self.source = source
        }
    }

    public enum ImportAction: String, Codable, Sendable {
        case created, updated, unchanged, rejected
    }

    public struct ImportRowResult: Codable, Sendable, Equatable {
        public var line: Int
        public var action: ImportAction
        /// The contact the row created, updated or matched (for a rejected row: the
        /// existing contact it clashed with). Null in a dry run for records the run
        /// would have created.
        public var contactID: Int64?
        /// The company the row created, updated, matched or linked.
        public var companyID: Int64?
        /// Why a row was rejected; for other rows, what was noticed (numbers kept
        /// unread, values that differ from the card and were left as they are), for people.
        public var reason: String?
        /// The offending field of a rejected row (`emails[0]`, `phones[1]`, `owner_login`).
        public var field: String?
        /// A rejected row that names several existing contacts: all of them.
        public var existingIDs: [Int64]?

        public init(line: Int, action: ImportAction, contactID: Int64? = nil, companyID: Int64? = nil, reason: String? = nil,
                    field: String? = nil, existingIDs: [Int64]? = nil) {
            self.line = line; self.action = action; self.contactID = contactID; self.companyID = companyID; self.reason = reason
            self.field = field; self.existingIDs = existingIDs
        }
    }

    public struct ContactImportResult: Codable, Sendable, Equatable {
        public var results: [ImportRowResult]
        public var created: Int
        public var updated: Int
        public var unchanged: Int
        public var rejected: Int
        public var dryRun: Bool

        public init(results: [ImportRowResult], created: Int, updated: Int, unchanged: Int, rejected: Int, dryRun: Bool) {
            self.results = results; self.created = created; self.updated = updated; self.unchanged = unchanged
            self.rejected = rejected; self.dryRun = dryRun
        }
    }
}
