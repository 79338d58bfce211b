import Foundation
import KontorDomain
import KontorProtocol
import KontorStore
import Postgres

/// The lead process's decisions, made inside one transaction from repository calls:
/// who a call or message is from, which lead it belongs to, who gets it, and what its
/// status becomes. No SQL here; no role checks (the handlers did them).
///
/// Lock order, everywhere: contact → leads (by id) → inquiries, so that ingestion, the
/// overdue sweep and people's edits of one client never wait on each other in a circle.
struct LeadService {
    let conn: PostgresConnection
    let stamp: ChangeStamp
    /// The business time zone's identifier (periods of inquiries and leads).
    let zone: String
    let settings: LeadSettings
    let normalizer: PhoneNormalizer

    init(_ conn: PostgresConnection, app: App, stamp: ChangeStamp) throws {
        self.conn = conn
        self.stamp = stamp
        self.zone = app.configuration.timeZone.identifier
        self.normalizer = PhoneNormalizer(defaultRegion: app.configuration.phoneRegion)
        self.settings = try LeadConfigRepository(conn).settings()
    }

    var config: LeadConfigRepository { LeadConfigRepository(conn) }
    var leads: LeadRepository { LeadRepository(conn) }
    var inquiries: InquiryRepository { InquiryRepository(conn) }
    var contacts: ContactRepository { ContactRepository(conn) }

    // MARK: - Calls

    /// `call.ingest` for one cleaned leg; `remoteName` (the caller id name) names a
    /// contact the call makes.
    func ingestCall(_ leg: CallLegDraft, remoteName: String? = nil) throws -> IngestMethods.CallIngestResult {
        let calls = CallRepository(conn)
        var leg = leg
        leg.managerID = try config.activeSalesUser(login: leg.managerLogin) ?? config.lineUser(leg.managerLine.flatMap { LineKey.make($0, normalizer: normalizer) })
        guard let legID = try calls.claimLeg(leg, stamp: stamp) else {
            guard let o = try calls.legOutcome(provider: leg.provider, externalID: leg.externalID) else {
                throw KontorError(.internal, "call leg \(leg.provider)/\(leg.externalID) vanished")
            }
            return Self.callResult(o, duplicate: true)
        }
        let callID = try calls.claimCall(legID: legID, provider: leg.provider, key: leg.callKey, direction: leg.direction,
                                         startedAt: leg.startedAt, at: stamp.at)
        let state = try calls.recompute(callID)
        let remoteIsOurs = try config.isOurLine(state.remoteKey)
        let external = state.direction != .internal && !remoteIsOurs
        var contactID = state.contactID
        var inquiryID = state.inquiryID
        var leadID = state.leadID
        var createdContact = state.createdContact
        var createdLead = state.createdLead

        if external, let remote = state.remoteNumber {
            // Who is calling (or being called).
            var pending: (ownerID: Int64?, by: LeadAssignment)?
            if contactID == nil {
                let phone = normalizer.normalize(remote)
                if let found = try contacts.lookup(phone: phone, email: nil, messenger: nil).first {
                    contactID = found.id
                } else if state.direction == .inbound, phone.e164 != nil {
                    let entries = try RecordInput.phones([(remote, nil)], normalizer: normalizer)
                    let made = try createContact(source: .phone, name: remoteName, phones: entries, emails: [], messengers: []) {
                        try assignee(line: state.answeredBy, direct: config.lineUser(state.ourKey), contactOwner: nil)
                    }
                    contactID = made.id
                    pending = made.assignee
                    createdContact = made.assignee != nil
                }
            }
            if let found = contactID, state.direction == .inbound, let owner = try leads.lockContact(found) {
                let cid = owner.id
                contactID = cid
                let lead: LockedLead
                if let iid = inquiryID, let lid = leadID, let l = try leads.lock(lid) {
                    // A later leg of a call we know: the call may have started earlier than we thought.
                    try inquiries.receivedNoLaterThan(iid, at: state.startedAt, zone: zone)
                    lead = l
                } else {
                    if let open = try leads.openLead(contactID: cid, since: state.startedAt.addingTimeInterval(-Double(settings.openLeadWindowSeconds))) {
                        lead = open
                    } else {
                        let a = try pending ?? assignee(line: state.answeredBy, direct: config.lineUser(state.ourKey), contactOwner: owner.ownerID)
                        let id = try leads.create(LeadDraft(contactID: cid, status: .inquiry, source: .phone, ownerID: a.ownerID,
                                                            assignedBy: a.by, lastInquiryAt: state.startedAt), zone: zone, stamp: stamp)
                        guard let l = try leads.lock(id) else { throw KontorError.notFound("lead \(id)") }
                        lead = l
                        createdLead = true
                    }
                    inquiryID = try inquiries.create(leadID: lead.id, contactID: cid, source: .phone, kind: .call, receivedAt: state.startedAt,
                                                     zone: zone, stamp: stamp)
                    leadID = lead.id
                }
                try leads.touch(leadID: lead.id, inquiryAt: state.startedAt)
                if let iid = inquiryID {
                    if state.answered {
                        // The call's final state so far: answered (whatever order the legs came in).
                        try inquiries.clearMissed(iid)
                        _ = try respond(contactID: cid, at: state.answeredAt ?? state.startedAt, by: state.answeredBy, kind: .callAnswered,
                                        cause: .callAnswered, alsoLeads: [])
                        if createdLead, let taker = state.answeredBy, lead.assignedBy.isFallback, lead.ownerID != taker,
                           let current = try leads.lock(lead.id), current.assignedBy.isFallback {
                            // A later leg shows whose line took the call: the lead (and the contact this call made) go to them.
                            try leads.update(current, summary: nil, owner: (taker, .line), stamp: stamp)
                            if createdContact {
                                try contacts.update(id: cid, version: nil, changes: ContactChanges(ownerID: .some(taker)), visibility: .everything,
                                                    stamp: stamp)
                            }
                        }
                    } else {
                        try inquiries.markMissed(iid, at: state.endedAt ?? state.startedAt)
                        if let current = try leads.lock(lead.id), current.status == .inquiry {
                            try leads.transition(current, to: .overdueIdentification, cause: .callMissed, inquiryID: iid, stamp: stamp)
                        }
                    }
                }
            } else if let found = contactID, state.direction == .outbound, let locked = try leads.lockContact(found) {
                let cid = locked.id
                contactID = cid
                if state.answered {
                    _ = try respond(contactID: cid, at: state.answeredAt ?? state.startedAt, by: state.answeredBy ?? state.anyManager,
                                    kind: .callOutbound, cause: .response, alsoLeads: [])
                }
                if leadID == nil { leadID = try leads.latestOpenLead(contactID: cid) }
            }
        }

        let kind: CallKind
        switch (external, state.direction, state.answered) {
        case (false, _, _), (_, .internal, _): kind = .internal
        case (true, .inbound, true): kind = .incomingAnswered
        case (true, .inbound, false): kind = .incomingMissed
        case (true, .outbound, true): kind = .outgoingAnswered
        case (true, .outbound, false): kind = .outgoingMissed
        }
        try calls.setOutcome(callID, kind: kind, contactID: contactID, inquiryID: inquiryID, leadID: leadID, createdContact: createdContact,
                             createdLead: createdLead, at: stamp.at)
        let outcome = IngestOutcome(recordID: callID, contactID: contactID, inquiryID: inquiryID, leadID: leadID,
                                    leadStatus: try leadID.flatMap { try leads.lock($0)?.status.rawValue })
        try calls.saveLegOutcome(legID: legID, outcome)
        return Self.callResult(outcome, duplicate: false)
    }

    static func callResult(_ o: IngestOutcome, duplicate: Bool) -> IngestMethods.CallIngestResult {
        IngestMethods.CallIngestResult(callID: o.recordID, contactID: o.contactID, inquiryID: o.inquiryID, leadID: o.leadID,
                                       leadStatus: o.leadStatus, duplicate: duplicate)
    }

    // MARK: - Messages

    /// Who wrote an inbound message, as the keys contacts are found by.
    struct SenderKeys {
        var messenger: ContactMessenger?
        var email: EmailEntry?
        var phone: PhoneEntry?
        var name: String?
        /// The organisation a new contact gets.
        var company: String?
        var isEmpty: Bool { messenger == nil && email == nil && phone == nil }
    }

    /// `message.ingest` for one cleaned message. `editOf` is the external id of the
    /// message this one edits: when that message is known, this one is recorded as its
    /// edit, on its contact, inquiry and lead, and makes no inquiry (an unknown original:
    /// a message like any other).
    func ingestMessage(_ m: MessageDraft, sender keys: SenderKeys, managerLogin: String?,
                       editOf: String? = nil) throws -> IngestMethods.MessageIngestResult {
        let messages = MessageRepository(conn)
        var m = m
        if m.direction == .outbound { m.managerID = try config.activeSalesUser(login: managerLogin) }
        let original = try editOf.flatMap { id in id == m.externalID ? nil : try messages.original(channel: m.channel, externalID: id) }
        m.editOf = original?.id
        guard let messageID = try messages.claim(m, stamp: stamp) else {
            guard let externalID = m.externalID, let o = try messages.outcome(channel: m.channel, externalID: externalID) else {
                throw KontorError(.internal, "message \(m.channel.rawValue)/\(m.externalID ?? "") vanished")
            }
            return Self.messageResult(o, duplicate: true)
        }
        var contactID: Int64?
        var inquiryID: Int64?
        var leadID: Int64?
        if let original {
            // An edit: where the original is. The contact's lock (merges are followed) keeps
            // the order of locks; the lead and its status do not change.
            if let cid = original.contactID, let locked = try leads.lockContact(cid) {
                contactID = locked.id
            }
            inquiryID = original.inquiryID
            leadID = original.leadID
        } else if m.direction == .inbound {
            var keys = keys
            // Our own lines are never made into contacts.
            if let phone = keys.phone, try config.isOurLine(phone.normalized.e164) { keys.phone = nil }
            var pending: (ownerID: Int64?, by: LeadAssignment)?
            contactID = try find(keys)
            if contactID == nil, !keys.isEmpty || keys.name != nil {
                let made = try createContact(source: m.channel, name: keys.name, organization: keys.company, phones: keys.phone.map { [$0] } ?? [],
                                             emails: keys.email.map { [$0] } ?? [],
                                             messengers: keys.messenger.map { [$0] } ?? []) {
                    try assignee(line: nil, direct: nil, contactOwner: nil)
                }
                contactID = made.id
                pending = made.assignee
            }
            if let found = contactID, let owner = try leads.lockContact(found) {
                let cid = owner.id
                contactID = cid
                let lead: LockedLead
                if let open = try leads.openLead(contactID: cid, since: m.receivedAt.addingTimeInterval(-Double(settings.openLeadWindowSeconds))) {
                    lead = open
                } else {
                    let a = try pending ?? assignee(line: nil, direct: nil, contactOwner: owner.ownerID)
                    let id = try leads.create(LeadDraft(contactID: cid, status: .inquiry, source: m.channel, ownerID: a.ownerID, assignedBy: a.by,
                                                        lastInquiryAt: m.receivedAt), zone: zone, stamp: stamp)
                    guard let l = try leads.lock(id) else { throw KontorError.notFound("lead \(id)") }
                    lead = l
                }
                if let waiting = try inquiries.waitingMessageInquiry(leadID: lead.id, source: m.channel) {
                    inquiryID = waiting
                } else {
                    inquiryID = try inquiries.create(leadID: lead.id, contactID: cid, source: m.channel, kind: .message, receivedAt: m.receivedAt,
                                                     zone: zone, stamp: stamp)
                }
                try leads.touch(leadID: lead.id, inquiryAt: m.receivedAt)
                leadID = lead.id
            }
        } else {
            if let found = try findRecipient(m), let locked = try leads.lockContact(found) {
                let cid = locked.id
                contactID = cid
                _ = try respond(contactID: cid, at: m.receivedAt, by: m.managerID, kind: .messageOutbound, cause: .response, alsoLeads: [])
                leadID = try leads.latestOpenLead(contactID: cid)
            }
        }
        let outcome = IngestOutcome(recordID: messageID, contactID: contactID, inquiryID: inquiryID, leadID: leadID,
                                    leadStatus: try leadID.flatMap { try leads.lock($0)?.status.rawValue })
        try messages.link(messageID, outcome)
        return Self.messageResult(outcome, duplicate: false)
    }

    static func messageResult(_ o: IngestOutcome, duplicate: Bool) -> IngestMethods.MessageIngestResult {
        IngestMethods.MessageIngestResult(messageID: o.recordID, contactID: o.contactID, inquiryID: o.inquiryID, leadID: o.leadID,
                                          leadStatus: o.leadStatus, duplicate: duplicate)
    }

    /// The live contact holding one of the sender's keys: messenger account first, then
    /// e-mail, then phone (any written form).
    func find(_ keys: SenderKeys) throws -> Int64? {
        if let m = keys.messenger {
            if m.externalID != nil, let c = try contacts.lookup(phone: nil, email: nil, messenger: ContactMessenger(kind: m.kind, externalID: m.externalID, handle: nil)).first {
                return c.id
            }
            if m.handle != nil, let c = try contacts.lookup(phone: nil, email: nil, messenger: ContactMessenger(kind: m.kind, externalID: nil, handle: m.handle)).first {
                return c.id
            }
        }
        if let e = keys.email, let c = try contacts.lookup(phone: nil, email: e.address.normalized, messenger: nil).first { return c.id }
        if let p = keys.phone, let c = try contacts.lookup(phone: p.normalized, email: nil, messenger: nil).first { return c.id }
        return nil
    }

    /// The client an outbound message went to: its recipient (an e-mail address, or a
    /// messenger user id) or its thread (a private chat's id is the user's id).
    func findRecipient(_ m: MessageDraft) throws -> Int64? {
        switch m.channel {
        case .email:
            guard let r = m.recipient, let a = EmailAddress.normalize(r).address else { return nil }
            return try contacts.lookup(phone: nil, email: a.normalized, messenger: nil).first?.id
        case .telegram, .viber, .facebook, .instagram:
            guard let kind = MessengerKind(rawValue: m.channel.rawValue) else { return nil }
            for id in [m.recipient, m.threadID].compactMap({ $0 }) {
                if let c = try contacts.lookup(phone: nil, email: nil, messenger: ContactMessenger(kind: kind, externalID: id, handle: nil)).first {
                    return c.id
                }
            }
            return nil
        default:
            return nil
        }
    }

    // MARK: - Shared steps

    /// Creates a contact (group `lead`) for an unknown sender, owned by the manager
    /// `assign` picks. When a concurrent delivery created the same person a moment
    /// earlier (`duplicate`), everything done here is rolled back (the round-robin turn
    /// included) and that contact is used.
    func createContact(source: ContactSource, name: String?, organization: String? = nil, phones: [PhoneEntry], emails: [EmailEntry],
                       messengers: [ContactMessenger],
                       assign: () throws -> (ownerID: Int64?, by: LeadAssignment)) throws -> (id: Int64, assignee: (ownerID: Int64?, by: LeadAssignment)?) {
        try conn.execute("SAVEPOINT leads_new_contact")
        do {
            let a = try assign()
            let id = try contacts.create(ContactDraft(fullName: name, position: nil, organization: organization, companyID: nil, group: .lead, source: source,
                                                      ownerID: a.ownerID, phones: phones, emails: emails, messengers: messengers), stamp: stamp)
            try conn.execute("RELEASE SAVEPOINT leads_new_contact")
            return (id, a)
        } catch let e as KontorError where e.kind == .duplicate {
            try conn.execute("ROLLBACK TO SAVEPOINT leads_new_contact")
            guard case .int(let existing)? = e.data["existing_id"] else { throw e }
            return (Int64(existing), nil)
        }
    }

    /// Who gets a new lead: the manager whose line took the call, else the manager whose
    /// own number was dialled, else the contact's owner, else the next in the
    /// round-robin, else nobody.
    func assignee(line: Int64?, direct: Int64?, contactOwner: Int64?) throws -> (ownerID: Int64?, by: LeadAssignment) {
        if let u = line { return (u, .line) }
        if let u = direct { return (u, .directNumber) }
        if let u = contactOwner { return (u, .contactOwner) }
        if let u = try config.nextInTurn(among: settings.roundRobinUserIDs, at: stamp.at) { return (u, .roundRobin) }
        return (nil, .unassigned)
    }

    /// A response to the contact at `at`: every inquiry of the contact received by then
    /// and unanswered gets it as its first response, and their leads (plus `alsoLeads`)
    /// that wait for identification (`inquiry`, `overdue_identification`) move to
    /// `identification`. The caller holds the contact's lock.
    /// - Returns: the inquiries answered now and every lead moved.
    func respond(contactID: Int64, at: Date, by: Int64?, kind: ResponseKind, cause: LeadCause,
                 alsoLeads: [Int64]) throws -> (inquiries: [RespondedInquiry], leads: [Int64]) {
        // Lock the leads first (lock order), then answer the inquiries.
        let candidates = Array(Set(try inquiries.unansweredLeadIDs(contactID: contactID, at: at) + alsoLeads)).sorted()
        let locked = try leads.lockUnidentified(candidates)
        let answered = try inquiries.respond(contactID: contactID, at: at, by: by, kind: kind)
        var moved: [Int64] = []
        for lead in locked where answered.contains(where: { $0.leadID == lead.id }) || alsoLeads.contains(lead.id) {
            try leads.transition(lead, to: .identification, cause: cause, inquiryID: answered.first { $0.leadID == lead.id }?.id, stamp: stamp)
            moved.append(lead.id)
        }
        return (answered, moved)
    }

    // MARK: - The overdue sweep

    /// Marks message inquiries unanswered past the configured time as overdue and moves
    /// their leads from `inquiry` to `overdue_identification`. Each inquiry is marked
    /// once whatever the number of instances sweeping (the row is re-checked under the
    /// lead's lock).
    /// - Returns: how many were marked, and when the next one falls due (nil: none waits).
    func sweepOverdueMessages(now: Date, limit: Int) throws -> (marked: Int, next: Date?) {
        var marked = 0
        for c in try inquiries.overdueMessageCandidates(now: now, timeout: settings.messageResponseSeconds, limit: limit) {
            guard let lead = try leads.lock(c.leadID) else { continue }
            guard try inquiries.markOverdue(c.id, at: c.dueAt) else { continue }
            marked += 1
            if lead.status == .inquiry {
                try leads.transition(lead, to: .overdueIdentification, cause: .messageUnanswered, inquiryID: c.id, stamp: stamp)
            }
        }
        return (marked, try inquiries.nextMessageDeadline(timeout: settings.messageResponseSeconds))
    }
}
