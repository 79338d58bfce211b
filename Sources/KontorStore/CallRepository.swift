import Foundation
import KontorDomain
import Postgres

/// One leg as a provider reported it, cleaned.
public struct CallLegDraft: Sendable {
    public var provider: String
    public var externalID: String
    public var linkedID: String?
    public var direction: CommDirection
    public var remoteNumber: String?
    public var remoteKey: String?
    public var ourNumber: String?
    public var ourKey: String?
    public var managerLine: String?
    public var managerLogin: String?
    public var managerID: Int64?
    public var startedAt: Date
    public var answeredAt: Date?
    public var endedAt: Date?
    public var talkSeconds: Int
    public var waitSeconds: Int?
    public var disposition: String?
    public var recordingURL: String?
    /// The provider's payload as JSON text.
    public var raw: String?

    public init(provider: String, externalID: String, linkedID: String?, direction: CommDirection, remoteNumber: String?, remoteKey: String?,
                ourNumber: String?, ourKey: String?, managerLine: String?, managerLogin: String?, managerID: Int64?, startedAt: Date,
                answeredAt: Date?, endedAt: Date?, talkSeconds: Int, waitSeconds: Int?, disposition: String?, recordingURL: String?, raw: String?) {
        self.provider = provider; self.externalID = externalID; self.linkedID = linkedID; self.direction = direction
        self.remoteNumber = remoteNumber; self.remoteKey = remoteKey; self.ourNumber = ourNumber; self.ourKey = ourKey
        self.managerLine = managerLine; self.managerLogin = managerLogin; self.managerID = managerID; self.startedAt = startedAt
        self.answeredAt = answeredAt; self.endedAt = endedAt; self.talkSeconds = talkSeconds; self.waitSeconds = waitSeconds
        self.disposition = disposition; self.recordingURL = recordingURL; self.raw = raw
    }

    /// The key that groups legs into one call: the linked id, or this leg's own id.
    public var callKey: String { linkedID ?? externalID }
}

/// What an ingestion answered the first time (kept on the leg or message so that a
/// repeat answers it again).
public struct IngestOutcome: Sendable, Equatable {
    public var recordID: Int64
    public var contactID: Int64?
    public var inquiryID: Int64?
    public var leadID: Int64?
    public var leadStatus: String?
    public init(recordID: Int64, contactID: Int64?, inquiryID: Int64?, leadID: Int64?, leadStatus: String?) {
        self.recordID = recordID; self.contactID = contactID; self.inquiryID = inquiryID; self.leadID = leadID; self.leadStatus = leadStatus
    }
}

/// A logical call as computed from all its legs so far.
public struct CallState: Sendable {
    public var id: Int64
    public var direction: CommDirection
    public var remoteNumber: String?
    public var remoteKey: String?
    public var ourKey: String?
    public var startedAt: Date
    public var endedAt: Date?
    /// Talk time > 0 on any leg.
    public var answered: Bool
    public var answeredAt: Date?
    /// The manager of the first answered leg.
    public var answeredBy: Int64?
    /// The first manager any leg names (who it rang for, who dialled).
    public var anyManager: Int64?
    public var contactID: Int64?
    public var inquiryID: Int64?
    public var leadID: Int64?
    public var createdContact: Bool
    public var createdLead: Bool
}

/// `call.list` filters; nil = any. Issue 5's planners use `missedUnanswered` ("missed
/// calls not yet followed up").
public struct CallFilter: Sendable {
    public var contactID: Int64?
    public var companyID: Int64?
    /// Calls the manager took or made, or of the manager's leads.
    public var managerID: Int64?
    public var leadID: Int64?
    public var kinds: [CallKind]?
    /// Missed inbound calls whose inquiry has no response yet, on a lead still open.
    public var missedUnanswered: Bool
    public var startedFrom: Date?
    public var startedTo: Date?

    public init(contactID: Int64? = nil, companyID: Int64? = nil, managerID: Int64? = nil, leadID: Int64? = nil, kinds: [CallKind]? = nil,
                missedUnanswered: Bool = false, startedFrom: Date? = nil, startedTo: Date? = nil) {
        self.contactID = contactID; self.companyID = companyID; self.managerID = managerID; self.leadID = leadID; self.kinds = kinds
        self.missedUnanswered = missedUnanswered; self.startedFrom = startedFrom; self.startedTo = startedTo
    }
}

/// Calls and their legs. Ingestion writes (no visibility: robots act for everyone);
/// reads apply the caller's `Visibility` to the owner of the call's contact (calls
/// without a contact are visible to admins only). No role checks.
public struct CallRepository {
    let conn: PostgresConnection

    public init(_ conn: PostgresConnection) { self.conn = conn }

    // MARK: - Ingestion

    /// Inserts a leg unless (provider, external id) exists. The unique key makes a
    /// concurrent repeat wait for this transaction and then find the leg.
    /// - Returns: the new leg's id, nil when the leg was delivered before.
    public func claimLeg(_ d: CallLegDraft, stamp: ChangeStamp) throws -> Int64? {
        try conn.query("""
            INSERT INTO call_legs (provider, external_id, linked_id, direction, remote_number, remote_key, our_number, our_key, manager_line,
                                   manager_login, manager_id, started_at, answered_at, ended_at, talk_seconds, wait_seconds, disposition,
                                   recording_url, raw, ingested_at, ingested_by)
            VALUES (\(d.provider), \(d.externalID), \(d.linkedID), \(d.direction), \(d.remoteNumber), \(d.remoteKey), \(d.ourNumber), \(d.ourKey),
                    \(d.managerLine), \(d.managerLogin), \(d.managerID), \(d.startedAt), \(d.answeredAt), \(d.endedAt), \(d.talkSeconds),
                    \(d.waitSeconds), \(d.disposition), \(d.recordingURL), \(d.raw.map(PostgresJSONB.init)), \(stamp.at), \(stamp.actorID))
            ON CONFLICT (provider, external_id) DO NOTHING
            RETURNING id
            """).first?.decode("id")
    }

    /// What the first delivery of a leg answered.
    public func legOutcome(provider: String, externalID: String) throws -> IngestOutcome? {
        try conn.query("""
            SELECT call_id, result_contact_id, result_inquiry_id, result_lead_id, result_lead_status FROM call_legs
            WHERE provider = \(provider) AND external_id = \(externalID)
            """).first.map { r in
            IngestOutcome(recordID: try r.decode("call_id"), contactID: try r.decode("result_contact_id", as: Int64?.self),
                          inquiryID: try r.decode("result_inquiry_id", as: Int64?.self), leadID: try r.decode("result_lead_id", as: Int64?.self),
                          leadStatus: try r.decode("result_lead_status", as: String?.self))
        }
    }

    /// Keeps what a leg's ingestion answered.
    public func saveLegOutcome(legID: Int64, _ o: IngestOutcome) throws {
        try conn.execute("""
            UPDATE call_legs SET result_contact_id = \(o.contactID), result_inquiry_id = \(o.inquiryID), result_lead_id = \(o.leadID),
                                 result_lead_status = \(o.leadStatus)
            WHERE id = \(legID)
            """)
    }

    /// The logical call of `(provider, key)`, made when missing, locked, with the leg
    /// attached: concurrent legs of one call take turns here.
    public func claimCall(legID: Int64, provider: String, key: String, direction: CommDirection, startedAt: Date, at: Date) throws -> Int64 {
        let id: Int64 = try conn.query("""
            INSERT INTO calls (provider, call_key, direction, kind, started_at, created_at, updated_at)
            VALUES (\(provider), \(key), \(direction), 'internal', \(startedAt), \(at), \(at))
            ON CONFLICT (provider, call_key) DO UPDATE SET updated_at = greatest(calls.updated_at, EXCLUDED.updated_at)
            RETURNING id
            """).one().decode("id")
        try conn.execute("UPDATE call_legs SET call_id = \(id) WHERE id = \(legID)")
        return id
    }

    /// Recomputes the call from all its legs (order of arrival does not matter): its
    /// direction (inbound over outbound over internal), numbers, start, end, talk time,
    /// answer time and manager; returns the state.
    public func recompute(_ id: Int64) throws -> CallState {
        let r = try conn.query("""
            WITH legs AS (
                -- An answer stamped before its leg's start counts at the start (CallTimes; legs stored before that rule).
                SELECT *, CASE WHEN answered_at IS NOT NULL THEN greatest(answered_at, started_at)
                               ELSE started_at + coalesce(wait_seconds, 0) * interval '1 second' END AS took_at
                FROM call_legs WHERE call_id = \(id)
            ), agg AS (
                SELECT CASE WHEN bool_or(direction = 'inbound') THEN 'inbound'
                            WHEN bool_or(direction = 'outbound') THEN 'outbound' ELSE 'internal' END AS direction,
                       min(started_at) AS started_at,
                       max(greatest(ended_at, started_at + (talk_seconds + coalesce(wait_seconds, 0)) * interval '1 second')) AS ended_at,
                       bool_or(talk_seconds > 0) AS answered,
                       min(took_at) FILTER (WHERE talk_seconds > 0) AS answered_at,
                       coalesce(sum(talk_seconds), 0) AS talk_seconds,
                       (array_agg(remote_number ORDER BY (direction = 'internal'), started_at, id) FILTER (WHERE remote_number IS NOT NULL))[1] AS remote_number,
                       (array_agg(remote_key ORDER BY (direction = 'internal'), started_at, id) FILTER (WHERE remote_number IS NOT NULL))[1] AS remote_key,
                       (array_agg(our_number ORDER BY started_at, id) FILTER (WHERE our_number IS NOT NULL))[1] AS our_number,
                       (array_agg(our_key ORDER BY started_at, id) FILTER (WHERE our_number IS NOT NULL))[1] AS our_key,
                       (array_agg(manager_id ORDER BY took_at, id) FILTER (WHERE talk_seconds > 0 AND manager_id IS NOT NULL))[1] AS answered_by,
                       (array_agg(manager_id ORDER BY started_at, id) FILTER (WHERE manager_id IS NOT NULL))[1] AS any_manager,
                       (array_agg(recording_url ORDER BY talk_seconds DESC, id) FILTER (WHERE recording_url IS NOT NULL))[1] AS recording_url,
                       count(*) AS legs
                FROM legs
            )
            UPDATE calls c SET direction = agg.direction, started_at = agg.started_at, ended_at = agg.ended_at,
                   answered_at = agg.answered_at, talk_seconds = agg.talk_seconds,
                   wait_seconds = greatest(0, floor(extract(epoch FROM coalesce(agg.answered_at, agg.ended_at) - agg.started_at)))::integer,
                   remote_number = agg.remote_number, our_number = agg.our_number, recording_url = agg.recording_url, legs = agg.legs,
                   manager_id = coalesce(agg.answered_by, agg.any_manager)
            FROM agg WHERE c.id = \(id)
            RETURNING c.id, c.direction, c.remote_number, agg.remote_key, agg.our_key, c.started_at, c.ended_at, agg.answered, c.answered_at,
                      agg.answered_by, agg.any_manager, c.contact_id, c.inquiry_id, c.lead_id, c.created_contact, c.created_lead
            """).one()
        return CallState(id: try r.decode("id"), direction: try r.decode("direction"), remoteNumber: try r.decode("remote_number", as: String?.self),
                         remoteKey: try r.decode("remote_key", as: String?.self), ourKey: try r.decode("our_key", as: String?.self),
                         startedAt: try r.decode("started_at"), endedAt: try r.decode("ended_at", as: Date?.self), answered: try r.decode("answered"),
                         answeredAt: try r.decode("answered_at", as: Date?.self), answeredBy: try r.decode("answered_by", as: Int64?.self),
                         anyManager: try r.decode("any_manager", as: Int64?.self), contactID: try r.decode("contact_id", as: Int64?.self),
                         inquiryID: try r.decode("inquiry_id", as: Int64?.self), leadID: try r.decode("lead_id", as: Int64?.self),
                         createdContact: try r.decode("created_contact"), createdLead: try r.decode("created_lead"))
    }

    /// Stores what ingestion decided for the call. Changing `contact_id` or `kind`
    /// refreshes the company card's last call (trigger `calls_company_activity`).
    public func setOutcome(_ id: Int64, kind: CallKind, contactID: Int64?, inquiryID: Int64?, leadID: Int64?, createdContact: Bool,
                           createdLead: Bool, at: Date) throws {
        try conn.execute("""
            UPDATE calls SET kind = \(kind), contact_id = \(contactID), inquiry_id = \(inquiryID), lead_id = \(leadID),
                   created_contact = \(createdContact), created_lead = \(createdLead), updated_at = greatest(updated_at, \(at))
            WHERE id = \(id)
              AND (kind, contact_id, inquiry_id, lead_id, created_contact, created_lead)
                  IS DISTINCT FROM (\(kind), \(contactID), \(inquiryID), \(leadID), \(createdContact), \(createdLead))
            """)
    }

    // MARK: - Reading

    static func visible(_ vis: Visibility) -> SQL {
        "(\(vis.predicate(owner: "c.owner_id")) AND (ca.contact_id IS NOT NULL OR \(vis == .everything)))"
    }

    static func select(_ vis: Visibility) -> SQL {
        """
        SELECT ca.id, ca.provider, ca.call_key, ca.direction, ca.kind, ca.talk_seconds > 0 AS answered, ca.remote_number, ca.our_number,
               ca.contact_id, \(LeadRepository.contactName("c")) AS contact_name, ca.inquiry_id, ca.lead_id, ca.manager_id,
               mu.full_name AS manager_name, ca.started_at, ca.started_at::text AS started_at_key, ca.answered_at, ca.ended_at,
               ca.talk_seconds, ca.wait_seconds, ca.recording_url, ca.legs
        FROM calls ca
        LEFT JOIN contacts c ON c.id = ca.contact_id
        LEFT JOIN users mu ON mu.id = ca.manager_id
        LEFT JOIN leads l ON l.id = ca.lead_id
        """
    }

    static func call(_ r: PostgresRow) throws -> Call {
        Call(id: try r.decode("id"), provider: try r.decode("provider"), callKey: try r.decode("call_key"), direction: try r.decode("direction"),
             kind: try r.decode("kind"), answered: try r.decode("answered"), remoteNumber: try r.decode("remote_number", as: String?.self),
             ourNumber: try r.decode("our_number", as: String?.self), contactID: try r.decode("contact_id", as: Int64?.self),
             contactName: try r.decode("contact_name", as: String?.self), inquiryID: try r.decode("inquiry_id", as: Int64?.self),
             leadID: try r.decode("lead_id", as: Int64?.self), managerID: try r.decode("manager_id", as: Int64?.self),
             managerName: try r.decode("manager_name", as: String?.self), startedAt: try r.decode("started_at"),
             answeredAt: try r.decode("answered_at", as: Date?.self), endedAt: try r.decode("ended_at", as: Date?.self),
             talkSeconds: try r.decode("talk_seconds"), waitSeconds: try r.decode("wait_seconds", as: Int?.self),
             recordingURL: try r.decode("recording_url", as: String?.self), legs: try r.decode("legs"))
    }

    static func conditions(_ f: CallFilter, _ vis: Visibility) -> SQL {
        var conds: [SQL] = [visible(vis)]
        if let id = f.contactID { conds.append("ca.contact_id = \(id)") }
        if let id = f.companyID { conds.append("c.company_id = \(id)") }
        if let id = f.managerID { conds.append("(ca.manager_id = \(id) OR l.owner_id = \(id))") }
        if let id = f.leadID { conds.append("ca.lead_id = \(id)") }
        if let k = f.kinds { conds.append("ca.kind = ANY(\(k.map(\.rawValue)))") }
        if f.missedUnanswered {
            conds.append("""
                ca.kind = 'incoming_missed' AND EXISTS (
                    SELECT 1 FROM inquiries iq JOIN leads il ON il.id = iq.lead_id
                    WHERE iq.id = ca.inquiry_id AND iq.first_response_at IS NULL
                      AND il.status IN ('inquiry', 'identification', 'overdue_identification'))
                """)
        }
        if let d = f.startedFrom { conds.append("ca.started_at >= \(d)") }
        if let d = f.startedTo { conds.append("ca.started_at < \(d)") }
        return SQL.joined(conds, separator: " AND ")
    }

    /// A page of calls, latest first, with the total. Call inside a snapshot.
    public func list(_ filter: CallFilter, visibility: Visibility, after cursor: KeysetCursor?, limit: Int) throws -> Page<Call> {
        let whereSQL = Self.conditions(filter, visibility)
        let total: Int = try conn.query("""
            SELECT count(*) AS n FROM calls ca LEFT JOIN contacts c ON c.id = ca.contact_id LEFT JOIN leads l ON l.id = ca.lead_id
            WHERE \(whereSQL)
            """).one().decode("n")
        let keyset: SQL = cursor?.after(at: "ca.started_at", id: "ca.id") ?? "TRUE"
        let rows = try conn.query("""
            \(Self.select(visibility)) WHERE \(whereSQL) AND \(keyset) ORDER BY ca.started_at DESC, ca.id DESC LIMIT \(limit + 1)
            """)
        var items = try rows.map(Self.call)
        var next: KeysetCursor?
        if items.count > limit {
            items.removeLast()
            next = KeysetCursor(at: try rows[limit - 1].decode("started_at_key"), id: items[limit - 1].id)
        }
        return Page(items: items, total: total, next: next)
    }

    /// One call, nil when missing or invisible.
    public func get(id: Int64, visibility: Visibility) throws -> Call? {
        try conn.query("\(Self.select(visibility)) WHERE ca.id = \(id) AND \(Self.visible(visibility))").first.map(Self.call)
    }

    /// The legs of a call in start order, with their raw payloads as JSON text.
    public func legs(callID: Int64) throws -> [(leg: CallLeg, raw: String?)] {
        try conn.query("""
            SELECT id, external_id, linked_id, direction, remote_number, our_number, manager_line, manager_login, manager_id, started_at,
                   answered_at, ended_at, talk_seconds, wait_seconds, disposition, recording_url, ingested_at, raw::text AS raw
            FROM call_legs WHERE call_id = \(callID) ORDER BY started_at, id
            """).map { r in
            (CallLeg(id: try r.decode("id"), externalID: try r.decode("external_id"), linkedID: try r.decode("linked_id", as: String?.self),
                     direction: try r.decode("direction"), remoteNumber: try r.decode("remote_number", as: String?.self),
                     ourNumber: try r.decode("our_number", as: String?.self), managerLine: try r.decode("manager_line", as: String?.self),
                     managerLogin: try r.decode("manager_login", as: String?.self), managerID: try r.decode("manager_id", as: Int64?.self),
                     startedAt: try r.decode("started_at"), answeredAt: try r.decode("answered_at", as: Date?.self),
                     endedAt: try r.decode("ended_at", as: Date?.self), talkSeconds: try r.decode("talk_seconds"),
                     waitSeconds: try r.decode("wait_seconds", as: Int?.self), disposition: try r.decode("disposition", as: String?.self),
                     recordingURL: try r.decode("recording_url", as: String?.self), ingestedAt: try r.decode("ingested_at")),
             try r.decode("raw", as: String?.self))
        }
    }
}
