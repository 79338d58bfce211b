import Foundation
import KontorDomain
import Postgres

/// A message as a channel (or a manager) delivered it, cleaned.
public struct MessageDraft: Sendable {
    public var channel: ContactSource
    /// nil for replies recorded by hand.
    public var externalID: String?
    public var direction: CommDirection
    public var sender: MessageParty
    public var recipient: String?
    public var subject: String?
    public var text: String
    public var receivedAt: Date
    public var threadID: String?
    public var attachments: [MessageAttachment]
    public var managerID: Int64?
    /// The original payload as JSON text.
    public var raw: String?
    /// The message this one edits (its record id).
    public var editOf: Int64?

    /// A message to record; `editOf` defaults to nil (an original).
    public init(channel: ContactSource, externalID: String?, direction: CommDirection, sender: MessageParty, recipient: String?, subject: String?,
                text: String, receivedAt: Date, threadID: String?, attachments: [MessageAttachment], managerID: Int64?, raw: String?,
                editOf: Int64? = nil) {
        self.channel = channel; self.externalID = externalID; self.direction = direction; self.sender = sender; self.recipient = recipient
        self.subject = subject; self.text = text; self.receivedAt = receivedAt; self.threadID = threadID; self.attachments = attachments
        self.managerID = managerID; self.raw = raw; self.editOf = editOf
    }
}

/// `message.list` filters; nil = any. Issue 5's planners use `unanswered` ("missed
/// messages": inbound messages whose inquiry has no response yet).
public struct MessageFilter: Sendable {
    public var contactID: Int64?
    public var companyID: Int64?
    /// Messages the manager wrote, or of the manager's leads.
    public var managerID: Int64?
    public var leadID: Int64?
    public var inquiryID: Int64?
    public var channels: [ContactSource]?
    public var direction: CommDirection?
    /// Inbound messages whose inquiry has no response yet, on a lead still open.
    public var unanswered: Bool
    public var receivedFrom: Date?
    public var receivedTo: Date?

    public init(contactID: Int64? = nil, companyID: Int64? = nil, managerID: Int64? = nil, leadID: Int64? = nil, inquiryID: Int64? = nil,
                channels: [ContactSource]? = nil, direction: CommDirection? = nil, unanswered: Bool = false, receivedFrom: Date? = nil,
                receivedTo: Date? = nil) {
        self.contactID = contactID; self.companyID = companyID; self.managerID = managerID; self.leadID = leadID; self.inquiryID = inquiryID
        self.channels = channels; self.direction = direction; self.unanswered = unanswered; self.receivedFrom = receivedFrom
        self.receivedTo = receivedTo
    }
}

/// Messages. Ingestion writes (no visibility); reads apply the caller's `Visibility` to
/// the owner of the message's contact (messages without a contact: admins only). No
/// role checks.
public struct MessageRepository {
    let conn: PostgresConnection

    public init(_ conn: PostgresConnection) { self.conn = conn }

    /// Inserts a message unless (channel, external id) exists; a concurrent repeat waits
    /// for this transaction and then finds it.
    /// - Returns: the new message's id, nil when it was delivered before.
    public func claim(_ d: MessageDraft, stamp: ChangeStamp) throws -> Int64? {
        let attachments = Self.attachmentsJSON(d.attachments)
        return try conn.query("""
            INSERT INTO messages (channel, external_id, direction, sender_email, sender_phone, sender_messenger_id, sender_username,
                                  sender_name, recipient, subject, body, received_at, thread_id, attachments, manager_id, raw,
                                  created_at, created_by, edit_of)
            VALUES (\(d.channel), \(d.externalID), \(d.direction), \(d.sender.email), \(d.sender.phone), \(d.sender.messengerID),
                    \(d.sender.username), \(d.sender.name), \(d.recipient), \(d.subject), \(d.text), \(d.receivedAt), \(d.threadID),
                    \(PostgresJSONB(attachments)), \(d.managerID), \(d.raw.map(PostgresJSONB.init)), \(stamp.at), \(stamp.actorID),
                    \(d.editOf))
            ON CONFLICT (channel, external_id) DO NOTHING
            RETURNING id
            """).first?.decode("id")
    }

    static func attachmentsJSON(_ list: [MessageAttachment]) -> String {
        func str(_ s: String?) -> String {
            guard let s else { return "null" }
            var out = "\""
            for u in s.unicodeScalars {
                switch u {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                default: out += u.value < 0x20 ? String(format: "\\u%04x", u.value) : String(u)
                }
            }
            return out + "\""
        }
        return "[" + list.map { "{\"name\":\(str($0.name)),\"content_type\":\(str($0.contentType)),\"size\":\($0.size.map(String.init) ?? "null")}" }
            .joined(separator: ",") + "]"
    }

    /// The message an edit refers to: the record with that external id in the channel,
    /// with what it is linked to. nil when there is none (yet).
    public func original(channel: ContactSource, externalID: String) throws -> (id: Int64, contactID: Int64?, inquiryID: Int64?, leadID: Int64?)? {
        try conn.query("""
            SELECT id, contact_id, inquiry_id, lead_id FROM messages WHERE channel = \(channel) AND external_id = \(externalID)
            """).first.map { r in
            (try r.decode("id"), try r.decode("contact_id", as: Int64?.self), try r.decode("inquiry_id", as: Int64?.self),
             try r.decode("lead_id", as: Int64?.self))
        }
    }

    /// What the first delivery of a message answered.
    public func outcome(channel: ContactSource, externalID: String) throws -> IngestOutcome? {
        try conn.query("""
            SELECT id, result_contact_id, result_inquiry_id, result_lead_id, result_lead_status FROM messages
            WHERE channel = \(channel) AND external_id = \(externalID)
            """).first.map { r in
            IngestOutcome(recordID: try r.decode("id"), contactID: try r.decode("result_contact_id", as: Int64?.self),
                          inquiryID: try r.decode("result_inquiry_id", as: Int64?.self), leadID: try r.decode("result_lead_id", as: Int64?.self),
                          leadStatus: try r.decode("result_lead_status", as: String?.self))
        }
    }

    /// Links the message to its contact, inquiry and lead, and keeps what ingestion answered.
    public func link(_ id: Int64, _ o: IngestOutcome) throws {
        try conn.execute("""
            UPDATE messages SET contact_id = \(o.contactID), inquiry_id = \(o.inquiryID), lead_id = \(o.leadID),
                   result_contact_id = \(o.contactID), result_inquiry_id = \(o.inquiryID), result_lead_id = \(o.leadID),
                   result_lead_status = \(o.leadStatus)
            WHERE id = \(id)
            """)
    }

    // MARK: - Reading

    static func visible(_ vis: Visibility) -> SQL {
        "(\(vis.predicate(owner: "c.owner_id")) AND (m.contact_id IS NOT NULL OR \(vis == .everything)))"
    }

    static func select(_ vis: Visibility) -> SQL {
        """
        SELECT m.id, m.channel, m.external_id, m.direction, m.contact_id, \(LeadRepository.contactName("c")) AS contact_name,
               m.inquiry_id, m.lead_id, m.sender_email, m.sender_phone, m.sender_messenger_id, m.sender_username, m.sender_name,
               m.recipient, m.subject, m.body, m.received_at, m.received_at::text AS received_at_key, m.thread_id,
               m.attachments::text AS attachments, m.manager_id, mu.full_name AS manager_name, m.created_at, m.edit_of
        FROM messages m
        LEFT JOIN contacts c ON c.id = m.contact_id
        LEFT JOIN users mu ON mu.id = m.manager_id
        LEFT JOIN leads l ON l.id = m.lead_id
        """
    }

    func message(_ r: PostgresRow) throws -> ChannelMessage {
        let attachments = try conn.query("""
            SELECT a->>'name' AS name, a->>'content_type' AS content_type, (a->>'size')::bigint AS size
            FROM jsonb_array_elements(\(PostgresJSONB(try r.decode("attachments", as: String.self)))) a
            """).map { a in
            MessageAttachment(name: try a.decode("name", as: String?.self), contentType: try a.decode("content_type", as: String?.self),
                              size: try a.decode("size", as: Int?.self))
        }
        return ChannelMessage(
            id: try r.decode("id"), channel: try r.decode("channel"), externalID: try r.decode("external_id", as: String?.self),
            direction: try r.decode("direction"), contactID: try r.decode("contact_id", as: Int64?.self),
            contactName: try r.decode("contact_name", as: String?.self), inquiryID: try r.decode("inquiry_id", as: Int64?.self),
            leadID: try r.decode("lead_id", as: Int64?.self),
            sender: MessageParty(email: try r.decode("sender_email", as: String?.self), phone: try r.decode("sender_phone", as: String?.self),
                                 messengerID: try r.decode("sender_messenger_id", as: String?.self),
                                 username: try r.decode("sender_username", as: String?.self), name: try r.decode("sender_name", as: String?.self)),
            recipient: try r.decode("recipient", as: String?.self), subject: try r.decode("subject", as: String?.self), text: try r.decode("body"),
            receivedAt: try r.decode("received_at"), threadID: try r.decode("thread_id", as: String?.self), attachments: attachments,
            managerID: try r.decode("manager_id", as: Int64?.self), managerName: try r.decode("manager_name", as: String?.self),
            createdAt: try r.decode("created_at"), editOf: try r.decode("edit_of", as: Int64?.self))
    }

    static func conditions(_ f: MessageFilter, _ vis: Visibility) -> SQL {
        var conds: [SQL] = [visible(vis)]
        if let id = f.contactID { conds.append("m.contact_id = \(id)") }
        if let id = f.companyID { conds.append("c.company_id = \(id)") }
        if let id = f.managerID { conds.append("(m.manager_id = \(id) OR l.owner_id = \(id))") }
        if let id = f.leadID { conds.append("m.lead_id = \(id)") }
        if let id = f.inquiryID { conds.append("m.inquiry_id = \(id)") }
        if let ch = f.channels { conds.append("m.channel = ANY(\(ch.map(\.rawValue)))") }
        if let d = f.direction { conds.append("m.direction = \(d)") }
        if f.unanswered {
            conds.append("""
                m.direction = 'inbound' AND EXISTS (
                    SELECT 1 FROM inquiries iq JOIN leads il ON il.id = iq.lead_id
                    WHERE iq.id = m.inquiry_id AND iq.first_response_at IS NULL
                      AND il.status IN ('inquiry', 'identification', 'overdue_identification'))
                """)
        }
        if let d = f.receivedFrom { conds.append("m.received_at >= \(d)") }
        if let d = f.receivedTo { conds.append("m.received_at < \(d)") }
        return SQL.joined(conds, separator: " AND ")
    }

    /// A page of messages, latest first, with the total. Call inside a snapshot.
    public func list(_ filter: MessageFilter, visibility: Visibility, after cursor: KeysetCursor?, limit: Int) throws -> Page<ChannelMessage> {
        let whereSQL = Self.conditions(filter, visibility)
        let total: Int = try conn.query("""
            SELECT count(*) AS n FROM messages m LEFT JOIN contacts c ON c.id = m.contact_id LEFT JOIN leads l ON l.id = m.lead_id
            WHERE \(whereSQL)
            """).one().decode("n")
        let keyset: SQL = cursor?.after(at: "m.received_at", id: "m.id") ?? "TRUE"
        let rows = try conn.query("""
            \(Self.select(visibility)) WHERE \(whereSQL) AND \(keyset) ORDER BY m.received_at DESC, m.id DESC LIMIT \(limit + 1)
            """)
        var items = try rows.map(message)
        var next: KeysetCursor?
        if items.count > limit {
            items.removeLast()
            next = KeysetCursor(at: try rows[limit - 1].decode("received_at_key"), id: items[limit - 1].id)
        }
        return Page(items: items, total: total, next: next)
    }

    /// One message with its raw payload (JSON text), nil when missing or invisible.
    public func get(id: Int64, visibility: Visibility) throws -> (message: ChannelMessage, raw: String?)? {
        guard let r = try conn.query("""
            SELECT x.*, (SELECT raw::text FROM messages WHERE id = x.id) AS raw
            FROM (\(Self.select(visibility)) WHERE m.id = \(id) AND \(Self.visible(visibility))) x
            """).first else { return nil }
        return (try message(r), try r.decode("raw", as: String?.self))
    }
}
