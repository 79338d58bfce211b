import Foundation
import KontorDomain
import Postgres

extension LeadStatus: PostgresCodable {
    public var postgresText: String { rawValue }
    public init?(postgresText text: String) { self.init(rawValue: text) }
}

extension LeadCause: PostgresCodable {
    public var postgresText: String { rawValue }
    public init?(postgresText text: String) { self.init(rawValue: text) }
}

extension LeadAssignment: PostgresCodable {
    public var postgresText: String { rawValue }
    public init?(postgresText text: String) { self.init(rawValue: text) }
}

extension ResponseKind: PostgresCodable {
    public var postgresText: String { rawValue }
    public init?(postgresText text: String) { self.init(rawValue: text) }
}

extension InquiryKind: PostgresCodable {
    public var postgresText: String { rawValue }
    public init?(postgresText text: String) { self.init(rawValue: text) }
}

extension CallKind: PostgresCodable {
    public var postgresText: String { rawValue }
    public init?(postgresText text: String) { self.init(rawValue: text) }
}

extension CommDirection: PostgresCodable {
    public var postgresText: String { rawValue }
    public init?(postgresText text: String) { self.init(rawValue: text) }
}

extension AuditEntity {
    /// Leads: status, owner, source, summary, company, rejection reason.
    public static let lead = AuditEntity(name: "lead", snapshotFunction: "leads_snapshot")
    /// Configuration of the lead process (settings, lines, statuses, reasons, templates);
    /// entries carry explicit before/after.
    public static let leadConfig = AuditEntity(name: "lead_config", snapshotFunction: nil)
}

/// SQL for "the first day of the month of `at` in the business time zone `zone`".
func periodSQL(_ at: SQL, zone: String) -> SQL {
    "(date_trunc('month', (\(at)) AT TIME ZONE \(zone)))::date"
}

/// A template's fields, cleaned.
public struct LeadTemplateDraft: Sendable {
    public var name: String
    public var source: ContactSource
    public var ownerID: Int64?
    public var summary: String?
    public var firstTaskTitle: String?
    public var firstTaskDueMinutes: Int?
    public var active: Bool
    public init(name: String, source: ContactSource, ownerID: Int64?, summary: String?, firstTaskTitle: String?, firstTaskDueMinutes: Int?,
                active: Bool) {
        self.name = name; self.source = source; self.ownerID = ownerID; self.summary = summary; self.firstTaskTitle = firstTaskTitle
        self.firstTaskDueMinutes = firstTaskDueMinutes; self.active = active
    }
}

/// Configuration of the lead process: settings, our lines, status labels, rejection
/// reasons, templates and the round-robin. No role checks; config changes are audited
/// as entity `lead_config`.
public struct LeadConfigRepository {
    let conn: PostgresConnection
    var audit: AuditRepository { AuditRepository(conn) }

    public init(_ conn: PostgresConnection) { self.conn = conn }

    // MARK: - Settings

    /// The current settings; a key missing from the table takes its default.
    public func settings() throws -> LeadSettings {
        var s = LeadSettings.defaults
        for r in try conn.query("SELECT key, value::text AS value FROM settings WHERE key LIKE 'leads.%'") {
            let key: String = try r.decode("key")
            let value: String = try r.decode("value")
            guard let k = LeadSettings.Key(rawValue: key) else { continue }
            switch k {
            case .openLeadWindowSeconds: if let v = Int(value) { s.openLeadWindowSeconds = v }
            case .messageResponseSeconds: if let v = Int(value) { s.messageResponseSeconds = v }
            case .waitThresholdsSeconds: s.waitThresholdsSeconds = Self.intList(value).map { Int($0) }
            case .roundRobinUserIDs: s.roundRobinUserIDs = Self.intList(value)
            }
        }
        if s.waitThresholdsSeconds.isEmpty { s.waitThresholdsSeconds = LeadSettings.defaults.waitThresholdsSeconds }
        return s
    }

    static func intList(_ json: String) -> [Int64] {
        json.trimmingCharacters(in: CharacterSet(charactersIn: "[] \n")).split(separator: ",").compactMap {
            Int64($0.trimmingCharacters(in: .whitespaces))
        }
    }

    /// Stores every field of `s` (validated by the caller); audited with the changes.
    public func saveSettings(_ s: LeadSettings, stamp: ChangeStamp) throws {
        let before = try settings()
        let values: [(LeadSettings.Key, String)] = [
            (.openLeadWindowSeconds, String(s.openLeadWindowSeconds)),
            (.messageResponseSeconds, String(s.messageResponseSeconds)),
            (.waitThresholdsSeconds, "[" + s.waitThresholdsSeconds.map(String.init).joined(separator: ",") + "]"),
            (.roundRobinUserIDs, "[" + s.roundRobinUserIDs.map(String.init).joined(separator: ",") + "]"),
        ]
        for (k, v) in values {
            try conn.execute("""
                INSERT INTO settings (key, value, updated_at, updated_by) VALUES (\(k.rawValue), \(PostgresJSONB(v)), \(stamp.at), \(stamp.actorID))
                ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by
                WHERE settings.value IS DISTINCT FROM EXCLUDED.value
                """)
        }
        try auditConfig(0, action: "settings", before: Self.settingsJSON(before), after: Self.settingsJSON(s), stamp: stamp)
    }

    static func settingsJSON(_ s: LeadSettings) -> String {
        "{\"open_lead_window_seconds\":\(s.openLeadWindowSeconds),\"message_response_seconds\":\(s.messageResponseSeconds)," +
            "\"wait_thresholds_seconds\":[\(s.waitThresholdsSeconds.map(String.init).joined(separator: ","))]," +
            "\"round_robin_user_ids\":[\(s.roundRobinUserIDs.map(String.init).joined(separator: ","))]}"
    }

    func auditConfig(_ id: Int64, action: String, before: String?, after: String?, stamp: ChangeStamp) throws {
        try audit.record(.leadConfig, id: id, action: action, before: before.map(PostgresJSONB.init), after: after.map(PostgresJSONB.init),
                         stamp: stamp)
    }

    /// Ids among `ids` that are not active sales users (role `user`).
    public func notSalesUsers(_ ids: [Int64]) throws -> [Int64] {
        if ids.isEmpty { return [] }
        let ok: Set<Int64> = Set(try conn.query("SELECT id FROM users WHERE id = ANY(\(ids)) AND active AND role = 'user'").map { try $0.decode("id") })
        return ids.filter { !ok.contains($0) }
    }

    // MARK: - Round-robin

    /// The next manager in turn among the active Development managers (or `among`, when
    /// not empty, restricted to active sales users), advancing the turn. The turn's row
    /// stays locked until the caller's transaction ends, so concurrent assignments take
    /// turns. nil when nobody can take leads.
    public func nextInTurn(among: [Int64], at: Date) throws -> Int64? {
        let last = try conn.query("SELECT last_user_id FROM lead_round_robin WHERE id = 1 FOR UPDATE").first?.decode("last_user_id", as: Int64?.self)
        let candidates: [Int64] = try conn.query("""
            SELECT id FROM users
            WHERE active AND role = 'user'
              AND (CASE WHEN cardinality(\(among)::bigint[]) = 0 THEN department = 'development' ELSE id = ANY(\(among)) END)
            ORDER BY id
            """).map { try $0.decode("id") }
        guard let first = candidates.first else { return nil }
        let next = last.flatMap { l in candidates.first { $0 > l } } ?? first
        try conn.execute("UPDATE lead_round_robin SET last_user_id = \(next), updated_at = \(at) WHERE id = 1")
        return next
    }

    // MARK: - Lines

    static let lineSelect: SQL = """
        SELECT pl.id, pl.written, pl.line_key, pl.label, pl.user_id, u.full_name AS user_name, pl.version
        FROM phone_lines pl LEFT JOIN users u ON u.id = pl.user_id
        """

    static func line(_ r: PostgresRow) throws -> PhoneLine {
        PhoneLine(id: try r.decode("id"), line: try r.decode("written"), key: try r.decode("line_key"), label: try r.decode("label", as: String?.self),
                  userID: try r.decode("user_id", as: Int64?.self), userName: try r.decode("user_name", as: String?.self), version: try r.decode("version"))
    }

    /// Every line of ours, by key.
    public func lines() throws -> [PhoneLine] {
        try conn.query("\(Self.lineSelect) ORDER BY pl.line_key").map(Self.line)
    }

    /// Creates or changes the line with this key; audited.
    public func saveLine(key: String, written: String, label: String?, userID: Int64?, stamp: ChangeStamp) throws -> PhoneLine {
        let before = try conn.query("SELECT row_to_json(pl)::text AS j FROM phone_lines pl WHERE line_key = \(key)").first?.decode("j", as: String.self)
        let id: Int64 = try conn.query("""
            INSERT INTO phone_lines (line_key, written, label, user_id, created_at, updated_at, updated_by)
            VALUES (\(key), \(written), \(label), \(userID), \(stamp.at), \(stamp.at), \(stamp.actorID))
            ON CONFLICT (line_key) DO UPDATE SET written = EXCLUDED.written, label = EXCLUDED.label, user_id = EXCLUDED.user_id,
                version = phone_lines.version + 1, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by
            RETURNING id
            """).one().decode("id")
        let after: String = try conn.query("SELECT row_to_json(pl)::text AS j FROM phone_lines pl WHERE id = \(id)").one().decode("j")
        try auditConfig(id, action: before == nil ? "line_create" : "line_update", before: before, after: after, stamp: stamp)
        return try Self.line(conn.query("\(Self.lineSelect) WHERE pl.id = \(id)").one())
    }

    /// Removes the line with this key. Returns false when there is none.
    public func deleteLine(key: String, stamp: ChangeStamp) throws -> Bool {
        guard let r = try conn.query("DELETE FROM phone_lines pl WHERE line_key = \(key) RETURNING id, row_to_json(pl)::text AS j").first else { return false }
        try auditConfig(try r.decode("id"), action: "line_delete", before: try r.decode("j"), after: nil, stamp: stamp)
        return true
    }

    /// Whether a line key is one of our lines.
    public func isOurLine(_ key: String?) throws -> Bool {
        guard let key else { return false }
        return try conn.query("SELECT 1 FROM phone_lines WHERE line_key = \(key)").count > 0
    }

    /// The active user on a line of ours, if any.
    public func lineUser(_ key: String?) throws -> Int64? {
        guard let key else { return nil }
        return try conn.query("""
            SELECT pl.user_id FROM phone_lines pl JOIN users u ON u.id = pl.user_id
            WHERE pl.line_key = \(key) AND u.active AND u.role IN ('user', 'admin')
            """).first?.decode("user_id", as: Int64?.self)
    }

    /// An active sales user or admin by login.
    public func activeSalesUser(login: String?) throws -> Int64? {
        guard let login, !login.isEmpty else { return nil }
        return try conn.query("""
            SELECT id FROM users WHERE lower(login) = lower(\(login)) AND active AND role IN ('user', 'admin')
            """).first?.decode("id")
    }

    // MARK: - Statuses

    /// Every status code with its label, in process order.
    public func statuses() throws -> [LeadStatusLabel] {
        try conn.query("SELECT code, label, position FROM lead_statuses ORDER BY position, code").map {
            LeadStatusLabel(code: try $0.decode("code"), label: try $0.decode("label"), position: try $0.decode("position"))
        }
    }

    /// Changes a status's label (display only); audited.
    public func setStatusLabel(_ code: LeadStatus, label: String, stamp: ChangeStamp) throws {
        let before: String = try conn.query("SELECT label FROM lead_statuses WHERE code = \(code) FOR UPDATE").one().decode("label")
        try conn.execute("UPDATE lead_statuses SET label = \(label), updated_at = \(stamp.at), updated_by = \(stamp.actorID) WHERE code = \(code)")
        try auditConfig(0, action: "status_label", before: Self.json(["code": code.rawValue, "label": before]),
                        after: Self.json(["code": code.rawValue, "label": label]), stamp: stamp)
    }

    static func json(_ fields: [String: String]) -> String {
        "{" + fields.sorted { $0.key < $1.key }.map { k, v in
            "\"\(k)\":\"" + v.unicodeScalars.map { s -> String in
                switch s {
                case "\"": return "\\\""
                case "\\": return "\\\\"
                default: return s.value < 0x20 ? String(format: "\\u%04x", s.value) : String(s)
                }
            }.joined() + "\""
        }.joined(separator: ",") + "}"
    }

    // MARK: - Rejection reasons

    static func reason(_ r: PostgresRow) throws -> RejectionReason {
        RejectionReason(code: try r.decode("code"), label: try r.decode("label"), textRequired: try r.decode("text_required"),
                        active: try r.decode("active"), position: try r.decode("position"), version: try r.decode("version"))
    }

    /// Reasons in order; inactive ones only when asked.
    public func reasons(includeInactive: Bool) throws -> [RejectionReason] {
        try conn.query("""
            SELECT code, label, text_required, active, position, version FROM lead_rejection_reasons
            WHERE active OR \(includeInactive) ORDER BY position, code
            """).map(Self.reason)
    }

    /// One rejection reason (active or not), nil when the code is unknown.
    public func reason(code: String) throws -> RejectionReason? {
        try conn.query("SELECT code, label, text_required, active, position, version FROM lead_rejection_reasons WHERE code = \(code)").first.map(Self.reason)
    }

    /// Adds a reason. - Throws: `duplicate` when the code exists.
    public func createReason(code: String, label: String, textRequired: Bool, position: Int, stamp: ChangeStamp) throws -> RejectionReason {
        let inserted = try conn.query("""
            INSERT INTO lead_rejection_reasons (code, label, text_required, position, created_at, updated_at, updated_by)
            VALUES (\(code), \(label), \(textRequired), \(position), \(stamp.at), \(stamp.at), \(stamp.actorID))
            ON CONFLICT (code) DO NOTHING RETURNING code
            """)
        guard !inserted.isEmpty, let r = try reason(code: code) else {
            throw KontorError(.duplicate, "a rejection reason with code \(code) exists", data: ["field": .string("code")])
        }
        try auditConfig(0, action: "reason_create", before: nil, after: Self.json(["code": code, "label": label]), stamp: stamp)
        return r
    }

    /// Changes a reason (send the version you read). - Throws: `not_found`, `conflict`.
    public func updateReason(code: String, version: Int, label: String?, textRequired: Bool?, active: Bool?, position: Int?,
                             stamp: ChangeStamp) throws -> RejectionReason {
        guard let current = try conn.query("SELECT version, label FROM lead_rejection_reasons WHERE code = \(code) FOR UPDATE").first else {
            throw KontorError.notFound("rejection reason \(code)")
        }
        let v: Int = try current.decode("version")
        guard v == version else { throw KontorError.conflict(currentVersion: v) }
        try conn.execute("""
            UPDATE lead_rejection_reasons SET label = coalesce(\(label), label), text_required = coalesce(\(textRequired), text_required),
                active = coalesce(\(active), active), position = coalesce(\(position), position),
                version = version + 1, updated_at = \(stamp.at), updated_by = \(stamp.actorID)
            WHERE code = \(code)
            """)
        guard let r = try reason(code: code) else { throw KontorError.notFound("rejection reason \(code)") }
        try auditConfig(0, action: "reason_update", before: Self.json(["code": code, "label": try current.decode("label")]),
                        after: Self.json(["code": code, "label": r.label, "active": String(r.active), "text_required": String(r.textRequired)]),
                        stamp: stamp)
        return r
    }

    // MARK: - Templates

    static let templateSelect: SQL = """
        SELECT t.id, t.name, t.source, t.owner_id, u.full_name AS owner_name, t.summary, t.first_task_title, t.first_task_due_minutes,
               t.active, t.version
        FROM lead_templates t LEFT JOIN users u ON u.id = t.owner_id
        """

    static func template(_ r: PostgresRow) throws -> LeadTemplate {
        LeadTemplate(id: try r.decode("id"), name: try r.decode("name"), source: try r.decode("source"),
                     ownerID: try r.decode("owner_id", as: Int64?.self), ownerName: try r.decode("owner_name", as: String?.self),
                     summary: try r.decode("summary", as: String?.self), firstTaskTitle: try r.decode("first_task_title", as: String?.self),
                     firstTaskDueMinutes: try r.decode("first_task_due_minutes", as: Int?.self), active: try r.decode("active"),
                     version: try r.decode("version"))
    }

    /// Lead templates by name; inactive ones only when asked.
    public func templates(includeInactive: Bool) throws -> [LeadTemplate] {
        try conn.query("\(Self.templateSelect) WHERE t.active OR \(includeInactive) ORDER BY lower(t.name), t.id").map(Self.template)
    }

    /// One template (active or not), nil when missing.
    public func template(id: Int64) throws -> LeadTemplate? {
        try conn.query("\(Self.templateSelect) WHERE t.id = \(id)").first.map(Self.template)
    }

    /// Adds a template. - Throws: `duplicate` (the name is taken, ignoring case).
    public func createTemplate(_ d: LeadTemplateDraft, stamp: ChangeStamp) throws -> LeadTemplate {
        let id: Int64 = try guardingUnique(conn, {
            try conn.query("""
                INSERT INTO lead_templates (name, source, owner_id, summary, first_task_title, first_task_due_minutes, active,
                                            created_at, created_by, updated_at, updated_by)
                VALUES (\(d.name), \(d.source), \(d.ownerID), \(d.summary), \(d.firstTaskTitle), \(d.firstTaskDueMinutes), \(d.active),
                        \(stamp.at), \(stamp.actorID), \(stamp.at), \(stamp.actorID))
                RETURNING id
                """).one().decode("id")
        }, explain: { try templateClash(d.name) })
        guard let t = try template(id: id) else { throw KontorError.notFound("lead template \(id)") }
        try auditConfig(id, action: "template_create", before: nil, after: Self.json(["name": t.name]), stamp: stamp)
        return t
    }

    func templateClash(_ name: String) throws -> KontorError {
        let existing = try conn.query("SELECT id FROM lead_templates WHERE lower(name) = lower(\(name))").first?.decode("id", as: Int64.self)
        var data: [String: ErrorDatum] = ["field": .string("name")]
        if let existing { data["existing_id"] = .int(Int(existing)) }
        return KontorError(.duplicate, "a lead template named \(name) exists", data: data)
    }

    /// Replaces a template's fields (send the version you read). - Throws: `not_found`,
    /// `conflict`, `duplicate`.
    public func updateTemplate(id: Int64, version: Int, _ d: LeadTemplateDraft, stamp: ChangeStamp) throws -> LeadTemplate {
        guard let current = try conn.query("SELECT version, name FROM lead_templates WHERE id = \(id) FOR UPDATE").first else {
            throw KontorError.notFound("lead template \(id)")
        }
        let v: Int = try current.decode("version")
        guard v == version else { throw KontorError.conflict(currentVersion: v) }
        _ = try guardingUnique(conn, {
            try conn.execute("""
                UPDATE lead_templates SET name = \(d.name), source = \(d.source), owner_id = \(d.ownerID), summary = \(d.summary),
                    first_task_title = \(d.firstTaskTitle), first_task_due_minutes = \(d.firstTaskDueMinutes), active = \(d.active),
                    version = version + 1, updated_at = \(stamp.at), updated_by = \(stamp.actorID)
                WHERE id = \(id)
                """)
        }, explain: { try templateClash(d.name) })
        guard let t = try template(id: id) else { throw KontorError.notFound("lead template \(id)") }
        try auditConfig(id, action: "template_update", before: Self.json(["name": try current.decode("name")]),
                        after: Self.json(["name": t.name, "active": String(t.active)]), stamp: stamp)
        return t
    }
}
