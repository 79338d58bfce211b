import Foundation
import KontorDomain
import KontorProtocol
import KontorStore
import Postgres

/// `contact.*`, `company.*`, `counterparty.*`, `audit.list` (issue 3).
///
/// Every handler derives the caller's `Visibility` from the principal and hands it to
/// the repositories, which apply it in SQL to every read; writes pass a `ChangeStamp`
/// so the audit entry lands in the same transaction.
enum RecordHandlers {
    static func register(_ t: inout MethodTable) {
        // MARK: contacts
        t.register("contact.create", RecordMethods.ContactCreateParams.self, contactCreate)
        t.register("contact.get", SessionMethods.IDParams.self) { ctx, p in
            let vis = try visibility(ctx)
            let period = PlanFactHandlers.currentPeriod(ctx)
            return try await ctx.app.read { conn in
                try conn.snapshot { conn in
                    let repo = ContactRepository(conn)
                    guard let c = try repo.get(id: p.id, visibility: vis) else { throw KontorError.notFound("contact \(p.id)") }
                    let card = RecordMethods.ContactCard(contact: c, comments: try repo.comments(contactID: p.id))
                    return try PlanFactHandlers.contactCard(conn, card, period: period)   // + figures (issue 6)
                }
            }
        }
        t.register("contact.update", RecordMethods.ContactUpdateParams.self, contactUpdate)
        t.register("contact.list", RecordMethods.ContactListParams.self, contactList)
        t.register("contact.find", RecordMethods.ContactFindParams.self, contactFind)
        t.register("contact.lookup", RecordMethods.ContactLookupParams.self, contactLookup)
        t.register("contact.merge", RecordMethods.ContactMergeParams.self) { ctx, p in
            let vis = try visibility(ctx)
            let stamp = ctx.stamp
            return try await ctx.app.transaction { conn in
                let repo = ContactRepository(conn)
                let moved = try repo.merge(survivorID: p.survivorID, mergedID: p.mergedID, survivorVersion: p.survivorVersion,
                                           mergedVersion: p.mergedVersion, visibility: vis, stamp: stamp)
                return RecordMethods.ContactMergeResult(contact: try reread(repo, p.survivorID, vis), moved: moved)
            }
        }
        t.register("contact.delete", RecordMethods.VersionedID.self) { ctx, p in
            let vis = try visibility(ctx)
            let stamp = ctx.stamp
            return try await ctx.app.transaction { conn in
                let repo = ContactRepository(conn)
                try repo.delete(id: p.id, version: p.version, visibility: vis, stamp: stamp)
                return try reread(repo, p.id, vis)
            }
        }
        t.register("contact.restore", RecordMethods.VersionedID.self) { ctx, p in
            let vis = try visibility(ctx)
            let stamp = ctx.stamp
            return try await ctx.app.transaction { conn in
                let repo = ContactRepository(conn)
                try repo.restore(id: p.id, version: p.version, visibility: vis, stamp: stamp)
                return try reread(repo, p.id, vis)
            }
        }
        t.register("contact.comment", RecordMethods.CommentParams.self) { ctx, p in
            let vis = try visibility(ctx)
            let body = try RecordInput.required(p.body, field: "body", max: 10_000, multiline: true)
            let stamp = ctx.stamp
            return try await ctx.app.transaction { conn in
                try ContactRepository(conn).comment(contactID: p.id, body: body, visibility: vis, stamp: stamp)
            }
        }
        t.register("contact.to_company", RecordMethods.ToCompanyParams.self, contactToCompany)

        // MARK: companies
        t.register("company.create", RecordMethods.CompanyCreateParams.self, companyCreate)
        t.register("company.get", SessionMethods.IDParams.self) { ctx, p in
            let vis = try visibility(ctx)
            let (period, now) = (PlanFactHandlers.currentPeriod(ctx), ctx.now)
            return try await ctx.app.read { conn in
                try conn.snapshot { conn in   // + figures and funnel (issue 6)
                    try PlanFactHandlers.companyCard(conn, try companyCard(conn, p.id, vis), period: period, now: now)
                }
            }
        }
        t.register("company.update", RecordMethods.CompanyUpdateParams.self, companyUpdate)
        t.register("company.list", RecordMethods.CompanyListParams.self, companyList)
        t.register("company.delete", RecordMethods.VersionedID.self) { ctx, p in
            let vis = try visibility(ctx)
            let stamp = ctx.stamp
            return try await ctx.app.transaction { conn in
                try CompanyRepository(conn).delete(id: p.id, version: p.version, visibility: vis, stamp: stamp)
                return try rereadCompany(conn, p.id, vis)
            }
        }
        t.register("company.restore", RecordMethods.VersionedID.self) { ctx, p in
            let vis = try visibility(ctx)
            let stamp = ctx.stamp
            return try await ctx.app.transaction { conn in
                try CompanyRepository(conn).restore(id: p.id, version: p.version, visibility: vis, stamp: stamp)
                return try rereadCompany(conn, p.id, vis)
            }
        }
        t.register("company.comment", RecordMethods.CommentParams.self) { ctx, p in
            let vis = try visibility(ctx)
            let body = try RecordInput.required(p.body, field: "body", max: 10_000, multiline: true)
            let stamp = ctx.stamp
            return try await ctx.app.transaction { conn in
                try CompanyRepository(conn).comment(companyID: p.id, body: body, visibility: vis, stamp: stamp)
            }
        }

        // MARK: counterparties
        t.register("counterparty.add", RecordMethods.CounterpartyAddParams.self) { ctx, p in
            let vis = try visibility(ctx)
            let draft = CounterpartyDraft(
                legalName: try RecordInput.required(p.legalName, field: "legal_name", max: 300),
                edrpou: try RecordInput.edrpou(p.edrpou), vatNumber: try RecordInput.vatNumber(p.vatNumber),
                address: try RecordInput.text(p.address, field: "address", max: 1000))
            let stamp = ctx.stamp
            return try await ctx.app.transaction { conn in
                let repo = CompanyRepository(conn)
                let id = try repo.addCounterparty(companyID: p.companyID, draft, visibility: vis, stamp: stamp)
                guard let cp = try repo.counterparty(id: id, visibility: vis) else { throw KontorError.notFound("counterparty \(id)") }
                return cp
            }
        }
        t.register("counterparty.update", RecordMethods.CounterpartyUpdateParams.self) { ctx, p in
            let vis = try visibility(ctx)
            let changes = CounterpartyChanges(
                companyID: p.companyID,
                legalName: try p.legalName.map { try RecordInput.required($0, field: "legal_name", max: 300) },
                edrpou: try patch(p.edrpou) { try RecordInput.edrpou($0) },
                vatNumber: try patch(p.vatNumber) { try RecordInput.vatNumber($0) },
                address: try patch(p.address) { try RecordInput.text($0, field: "address", max: 1000) })
            let stamp = ctx.stamp
            return try await ctx.app.transaction { conn in
                let repo = CompanyRepository(conn)
                try repo.updateCounterparty(id: p.id, version: p.version, changes: changes, visibility: vis, stamp: stamp)
                guard let cp = try repo.counterparty(id: p.id, visibility: vis) else { throw KontorError.notFound("counterparty \(p.id)") }
                return cp
            }
        }
        t.register("counterparty.list", RecordMethods.CounterpartyListParams.self) { ctx, p in
            let vis = try visibility(ctx)
            let limit = try checkedLimit(p.limit, default: 100, max: 500)
            let edrpou = try RecordInput.edrpou(p.edrpou)
            let query = try RecordInput.text(p.query, field: "query", max: 200)
            return RecordMethods.CounterpartyList(counterparties: try await ctx.app.read { conn in
                try CompanyRepository(conn).listCounterparties(companyID: p.companyID, edrpou: edrpou, nameFragment: query,
                                                               visibility: vis, limit: limit)
            })
        }

        // MARK: audit
        t.register("audit.list", RecordMethods.AuditListParams.self, auditList)
    }

    // MARK: - Shared helpers

    /// The caller's row visibility.
    static func visibility(_ ctx: RequestContext) throws -> Visibility {
        Visibility(try ctx.requirePrincipal())
    }

    static func normalizer(_ ctx: RequestContext) -> PhoneNormalizer {
        PhoneNormalizer(defaultRegion: ctx.app.configuration.phoneRegion)
    }

    /// A `limit` parameter: default when absent, else within 1...max.
    static func checkedLimit(_ limit: Int?, default d: Int, max m: Int) throws -> Int {
        guard let limit else { return d }
        guard (1...m).contains(limit) else { throw KontorError.invalidParams("limit", "limit must be between 1 and \(m)") }
        return limit
    }

    static func cursor(_ token: String?) throws -> KeysetCursor? {
        guard let token else { return nil }
        guard let c = KeysetCursor(token: token) else { throw KontorError.invalidParams("cursor", "not a cursor this server gave out") }
        return c
    }

    /// A patch with its value cleaned by `clean` (which may turn it into nil = clear).
    static func patch<T, U>(_ p: Patch<T>, _ clean: (T) throws -> U?) rethrows -> U?? {
        switch p {
        case .absent: return nil
        case .clear: return .some(nil)
        case .set(let v): return .some(try clean(v))
        }
    }

    /// Checks that the caller may make user `id` an owner.
    static func checkOwner(_ conn: PostgresConnection, _ id: Int64, by me: Principal) throws {
        guard let owner = try UserRepository(conn).get(id: id) else { throw KontorError.invalidParams("owner_id", "no user \(id)") }
        try Ownership.checkAssignable(owner, by: me)
    }

    static func checkCompany(_ conn: PostgresConnection, _ id: Int64, _ vis: Visibility) throws {
        guard try CompanyRepository(conn).isLiveAndVisible(id: id, visibility: vis) else { throw KontorError.notFound("company \(id)") }
    }

    /// The contact after a write in the same transaction, as the caller sees it (a write
    /// never takes a record out of its writer's sight: owners are assigned within the
    /// caller's department).
    static func reread(_ repo: ContactRepository, _ id: Int64, _ vis: Visibility) throws -> Contact {
        guard let c = try repo.get(id: id, visibility: vis) else { throw KontorError.notFound("contact \(id)") }
        return c
    }

    static func rereadCompany(_ conn: PostgresConnection, _ id: Int64, _ vis: Visibility) throws -> Company {
        guard let c = try CompanyRepository(conn).get(id: id, visibility: vis) else { throw KontorError.notFound("company \(id)") }
        return c
    }

    static func companyCard(_ conn: PostgresConnection, _ id: Int64, _ vis: Visibility) throws -> RecordMethods.CompanyCardResult {
        guard let card = try CompanyRepository(conn).card(id: id, visibility: vis) else { throw KontorError.notFound("company \(id)") }
        return RecordMethods.CompanyCardResult(company: card.company, counterparties: card.counterparties, contacts: card.contacts,
                                               comments: card.comments)
    }

    // MARK: - Contacts

    static func phones(_ ctx: RequestContext, _ list: [RecordMethods.PhoneInput]?) throws -> [PhoneEntry]? {
        try list.map { try RecordInput.phones($0.map { ($0.number, $0.label) }, normalizer: normalizer(ctx)) }
    }

    static func emails(_ list: [RecordMethods.EmailInput]?) throws -> [EmailEntry]? {
        try list.map { try RecordInput.emails($0.map { ($0.address, $0.label) }) }
    }

    static func contactCreate(_ ctx: RequestContext, _ p: RecordMethods.ContactCreateParams) async throws -> Contact {
        let me = try ctx.requirePrincipal()
        let vis = Visibility(me)
        let draft = ContactDraft(
            fullName: try RecordInput.text(p.fullName, field: "full_name", max: 200),
            position: try RecordInput.text(p.position, field: "position", max: 200),
            organization: try RecordInput.text(p.organization, field: "organization", max: 300),
            companyID: p.companyID, group: p.group ?? .lead, source: p.source ?? .manual,
            ownerID: p.ownerID ?? Ownership.defaultOwner(for: me),
            phones: try phones(ctx, p.phones) ?? [], emails: try emails(p.emails) ?? [],
            messengers: try RecordInput.messengers(p.messengers ?? []))
        guard draft.fullName != nil || draft.organization != nil || !draft.phones.isEmpty || !draft.emails.isEmpty || !draft.messengers.isEmpty else {
            throw KontorError.invalidParams("full_name", "a contact needs a name, an organisation, a phone, an e-mail or a messenger account")
        }
        let stamp = ctx.stamp
        return try await ctx.app.transaction { conn in
            if let owner = p.ownerID { try checkOwner(conn, owner, by: me) }
            if let company = draft.companyID { try checkCompany(conn, company, vis) }
            let repo = ContactRepository(conn)
            return try reread(repo, try repo.create(draft, stamp: stamp), vis)
        }
    }

    static func contactUpdate(_ ctx: RequestContext, _ p: RecordMethods.ContactUpdateParams) async throws -> Contact {
        let me = try ctx.requirePrincipal()
        let vis = Visibility(me)
        let changes = ContactChanges(
            fullName: try patch(p.fullName) { try RecordInput.text($0, field: "full_name", max: 200) },
            position: try patch(p.position) { try RecordInput.text($0, field: "position", max: 200) },
            organization: try patch(p.organization) { try RecordInput.text($0, field: "organization", max: 300) },
            companyID: patch(p.companyID) { $0 }, group: p.group, source: p.source, ownerID: patch(p.ownerID) { $0 },
            phones: try phones(ctx, p.phones), emails: try emails(p.emails),
            messengers: try p.messengers.map { try RecordInput.messengers($0) })
        let stamp = ctx.stamp
        return try await ctx.app.transaction { conn in
            if case .set(let owner) = p.ownerID { try checkOwner(conn, owner, by: me) }
            if case .set(let company) = p.companyID { try checkCompany(conn, company, vis) }
            let repo = ContactRepository(conn)
            try repo.update(id: p.id, version: p.version, changes: changes, visibility: vis, stamp: stamp)
            return try reread(repo, p.id, vis)
        }
    }

    static func contactList(_ ctx: RequestContext, _ p: RecordMethods.ContactListParams) async throws -> RecordMethods.ContactList {
        let vis = try visibility(ctx)
        let limit = try checkedLimit(p.limit, default: 50, max: 200)
        let after = try cursor(p.cursor)
        let filter = ContactFilter(sources: p.source?.values, groups: p.group?.values, ownerID: p.ownerID, unowned: p.unowned ?? false,
                                   companyID: p.companyID, createdFrom: p.createdFrom, createdTo: p.createdTo,
                                   changedFrom: p.changedFrom, changedTo: p.changedTo, deleted: p.deleted ?? false)
        let page = try await ctx.app.read { conn in
            try conn.snapshot { try ContactRepository($0).list(filter, visibility: vis, after: after, limit: limit) }
        }
        return RecordMethods.ContactList(contacts: page.items, total: page.total, nextCursor: page.next?.token)
    }

    /// Reads one search text as every kind of key it could be.
    static func search(_ q: String, normalizer: PhoneNormalizer) -> ContactSearch {
        var s = ContactSearch()
        s.phoneKeys = normalizer.searchKeys(for: q)
        let digits = String(q.unicodeScalars.filter { $0.isASCII && ("0"..."9").contains($0) }.map(Character.init))
        let phoneish = q.unicodeScalars.allSatisfy { ($0.isASCII && ("0"..."9").contains($0)) || " +-().\u{A0}/".unicodeScalars.contains($0) }
        if phoneish, digits.count >= 3 { s.phoneDigits = digits }
        if q.contains("@") {
            s.email = EmailAddress.normalize(q).address?.normalized
            s.emailFragment = q.lowercased()
        }
        if q.hasPrefix("@"), q.count > 1 { s.messengerHandle = String(q.dropFirst()).lowercased() }
        if !q.contains(where: \.isWhitespace) {
            s.messengerID = q
            if s.messengerHandle == nil, !q.contains("@") { s.messengerHandle = q.lowercased() }
        }
        if !q.contains("@"), q.contains(where: \.isLetter), q.count >= 2 { s.nameFragment = q }
        return s
    }

    static func contactFind(_ ctx: RequestContext, _ p: RecordMethods.ContactFindParams) async throws -> RecordMethods.ContactFindResult {
        let vis = try visibility(ctx)
        let q = try RecordInput.required(p.query, field: "query", max: 200)
        let limit = try checkedLimit(p.limit, default: 20, max: 100)
        let s = search(q, normalizer: normalizer(ctx))
        let found = try await ctx.app.read { conn in
            try conn.snapshot { try ContactRepository($0).find(s, visibility: vis, limit: limit) }
        }
        return RecordMethods.ContactFindResult(contacts: found.map { RecordMethods.ContactFound(contact: $0.contact, matchedBy: $0.matchedBy) })
    }

    static func contactLookup(_ ctx: RequestContext, _ p: RecordMethods.ContactLookupParams) async throws -> RecordMethods.ContactLookupResult {
        let given = [p.phone != nil, p.email != nil, p.messenger != nil].filter { $0 }.count
        guard given == 1 else { throw KontorError.invalidParams("phone", "give exactly one of phone, email, messenger") }
        var phone: NormalizedPhone?
        var email: String?
        var messenger: ContactMessenger?
        if let raw = p.phone {
            _ = try RecordInput.required(raw, field: "phone", max: 100)
            phone = normalizer(ctx).normalize(raw)
        }
        if let raw = p.email {
            switch EmailAddress.normalize(raw) {
            case .normalized(let a): email = a.normalized
            case .invalid(let why): throw KontorError.invalidParams("email", "\(raw) is not an e-mail address (\(why))")
            }
        }
        if let m = p.messenger { messenger = try RecordInput.messengers([m], field: "messenger").first }
        let (byPhone, byEmail, byMessenger) = (phone, email, messenger)
        let routes = try await ctx.app.read { conn in
            try ContactRepository(conn).lookup(phone: byPhone, email: byEmail, messenger: byMessenger)
        }
        return RecordMethods.ContactLookupResult(contacts: routes.map {
            RecordMethods.ContactRouteInfo(id: $0.id, fullName: $0.fullName, group: $0.group, ownerID: $0.ownerID, ownerName: $0.ownerName,
                                           ownerDepartment: $0.ownerDepartment, companyID: $0.companyID, companyName: $0.companyName)
        })
    }

    static func contactToCompany(_ ctx: RequestContext, _ p: RecordMethods.ToCompanyParams) async throws -> RecordMethods.ToCompanyResult {
        let vis = try visibility(ctx)
        let override = try RecordInput.text(p.name, field: "name", max: 300)
        let stamp = ctx.stamp
        return try await ctx.app.transaction { conn in
            try toCompany(conn, contactID: p.id, version: p.version, name: override, visibility: vis, stamp: stamp)
        }
    }

    /// `contact.to_company` in the caller's transaction (also used by `lead.qualify`):
    /// creates a company named after the card, links the contact and makes it a client.
    /// - Throws: `not_found`, `conflict`, `invalid_params` (deleted, already linked).
    static func toCompany(_ conn: PostgresConnection, contactID id: Int64, version: Int, name override: String?, visibility vis: Visibility,
                          stamp: ChangeStamp) throws -> RecordMethods.ToCompanyResult {
        let contacts = ContactRepository(conn)
        guard let c = try contacts.get(id: id, visibility: vis) else { throw KontorError.notFound("contact \(id)") }
        guard c.version == version else { throw KontorError.conflict(currentVersion: c.version) }
        if c.deletedAt != nil { throw KontorError.invalidParams("id", "contact \(id) is deleted; restore it first") }
        if let existing = c.companyID { throw KontorError.invalidParams("id", "contact \(id) already belongs to company \(existing)") }
        let name = String((override ?? c.organization ?? c.fullName ?? c.displayName).prefix(300))
        let companyID = try CompanyRepository(conn).create(CompanyDraft(name: name, ownerID: c.ownerID), stamp: stamp)
        try contacts.update(id: id, version: version, changes: ContactChanges(companyID: .some(companyID), group: .client),
                            visibility: vis, stamp: stamp, action: "to_company")
        return RecordMethods.ToCompanyResult(company: try companyCard(conn, companyID, vis), contact: try reread(contacts, id, vis))
    }

    // MARK: - Companies

    static func companyCreate(_ ctx: RequestContext, _ p: RecordMethods.CompanyCreateParams) async throws -> Company {
        let me = try ctx.requirePrincipal()
        let draft = CompanyDraft(
            name: try RecordInput.required(p.name, field: "name", max: 300),
            website: try RecordInput.text(p.website, field: "website", max: 300),
            address: try RecordInput.text(p.address, field: "address", max: 1000),
            notes: try RecordInput.text(p.notes, field: "notes", max: 10_000, multiline: true),
            ownerID: p.ownerID ?? Ownership.defaultOwner(for: me))
        let stamp = ctx.stamp
        return try await ctx.app.transaction { conn in
            if let owner = p.ownerID { try checkOwner(conn, owner, by: me) }
            return try rereadCompany(conn, try CompanyRepository(conn).create(draft, stamp: stamp), Visibility(me))
        }
    }

    static func companyUpdate(_ ctx: RequestContext, _ p: RecordMethods.CompanyUpdateParams) async throws -> Company {
        let me = try ctx.requirePrincipal()
        let vis = Visibility(me)
        let changes = CompanyChanges(
            name: try p.name.map { try RecordInput.required($0, field: "name", max: 300) },
            website: try patch(p.website) { try RecordInput.text($0, field: "website", max: 300) },
            address: try patch(p.address) { try RecordInput.text($0, field: "address", max: 1000) },
            notes: try patch(p.notes) { try RecordInput.text($0, field: "notes", max: 10_000, multiline: true) },
            ownerID: patch(p.ownerID) { $0 })
        let stamp = ctx.stamp
        return try await ctx.app.transaction { conn in
            if case .set(let owner) = p.ownerID { try checkOwner(conn, owner, by: me) }
            try CompanyRepository(conn).update(id: p.id, version: p.version, changes: changes, visibility: vis, stamp: stamp)
            return try rereadCompany(conn, p.id, vis)
        }
    }

    static func companyList(_ ctx: RequestContext, _ p: RecordMethods.CompanyListParams) async throws -> RecordMethods.CompanyList {
        let vis = try visibility(ctx)
        let limit = try checkedLimit(p.limit, default: 50, max: 200)
        let after = try cursor(p.cursor)
        let filter = CompanyFilter(nameFragment: try RecordInput.text(p.query, field: "query", max: 200), ownerID: p.ownerID,
                                   unowned: p.unowned ?? false, createdFrom: p.createdFrom, createdTo: p.createdTo,
                                   changedFrom: p.changedFrom, changedTo: p.changedTo, deleted: p.deleted ?? false)
        let page = try await ctx.app.read { conn in
            try conn.snapshot { try CompanyRepository($0).list(filter, visibility: vis, after: after, limit: limit) }
        }
        return RecordMethods.CompanyList(companies: page.items, total: page.total, nextCursor: page.next?.token)
    }

    // MARK: - Audit

    /// Who may read the audit of one record: entity name → the ids whose entries make up
    /// that record's history when the caller may see it, nil when not. Later issues add
    /// their entities here (e.g. `"lead"`), with the same visibility rule as their reads.
    static let auditSubjects: [String: @Sendable (PostgresConnection, Int64, Visibility) throws -> [Int64]?] = [
        "contact": { conn, id, vis in
            let repo = ContactRepository(conn)
            guard try repo.get(id: id, visibility: vis) != nil else { return nil }
            return [id] + (try repo.mergedIDs(into: id))
        },
        "company": { conn, id, vis in try CompanyRepository(conn).get(id: id, visibility: vis) == nil ? nil : [id] },
        "counterparty": { conn, id, vis in try CompanyRepository(conn).counterparty(id: id, visibility: vis) == nil ? nil : [id] },
        "lead": { conn, id, vis in try LeadRepository(conn).visibleIDs([id], visibility: vis).isEmpty ? nil : [id] },
        "task": { conn, id, vis in try TaskRepository(conn).isVisible(id, visibility: vis) ? [id] : nil },
        "reminder": { conn, id, vis in try ReminderRepository(conn).get(id: id, visibility: vis) == nil ? nil : [id] },
    ]

    static func auditList(_ ctx: RequestContext, _ p: RecordMethods.AuditListParams) async throws -> RecordMethods.AuditList {
        let me = try ctx.requirePrincipal()
        let vis = Visibility(me)
        let limit = try checkedLimit(p.limit, default: 100, max: 500)
        let beforeID: Int64? = try p.cursor.map { c in
            guard let id = Int64(c), id > 0 else { throw KontorError.invalidParams("cursor", "not a cursor this server gave out") }
            return id
        }
        if p.actorID != nil, me.role != .admin { throw KontorError.forbidden("only admins list a user's actions") }
        if p.actorID == nil, p.entity == nil || p.entityID == nil {
            throw KontorError.invalidParams(p.entity == nil ? "entity" : "entity_id", "give entity and entity_id (one record) or actor_id (one user's actions)")
        }
        if let e = p.entity, auditSubjects[e] == nil {
            throw KontorError.invalidParams("entity", "entity is one of \(auditSubjects.keys.sorted().joined(separator: ", "))")
        }
        let records = try await ctx.app.read { conn -> [AuditRecord] in
            var ids: [Int64]?
            if let e = p.entity, let id = p.entityID, let subject = auditSubjects[e] {
                guard let found = try subject(conn, id, vis) else { throw KontorError.notFound("\(e) \(id)") }
                ids = found
            }
            return try AuditRepository(conn).list(entity: p.entity, entityIDs: ids, actorID: p.actorID, from: p.from, to: p.to,
                                                  beforeID: beforeID, limit: limit)
        }
        let entries = try records.map { r in
            RecordMethods.AuditEntry(id: r.id, at: r.at, actorID: r.actorID, actorName: r.actorName, method: r.method, entity: r.entity,
                                     entityID: r.entityID, action: r.action, changes: try JSONValue.parse(r.changes))
        }
        return RecordMethods.AuditList(entries: entries, nextCursor: entries.count == limit ? entries.last.map { String($0.id) } : nil)
    }
}

extension RequestContext {
    /// Who/when/which method, for the audit log of a write in this request.
    var stamp: ChangeStamp {
        ChangeStamp(actorID: principal?.userID, method: method, at: now, requestID: requestID)
    }
}
