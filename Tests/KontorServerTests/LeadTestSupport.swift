import Foundation
import KontorClient
import KontorDomain
import KontorProtocol
import KontorServer
import KontorTestSupport
import Postgres
import Testing

/// The public telephony and messenger samples, read the way a bridge would: minimally,
/// into the ingestion params the bridge team's parsers produce.
enum Samples {
    static func url(_ path: String) -> URL { TestEnvironment.samplesDirectory.appendingPathComponent(path) }

    static func json(_ path: String) throws -> JSONValue {
        try JSONValue.parse(Array(try Data(contentsOf: url(path))))
    }

    static func text(_ v: JSONValue?) -> String? {
        switch v {
        case .string(let s)?: return s
        case .number(let n)?: return n
        default: return nil
        }
    }

    /// `binotel_apiCallCompleted_answered.json` (`callDetails` may be changed by `edit`
    /// first, e.g. to make the missed variant) → a call leg.
    static func binotel(_ edit: (inout [String: JSONValue]) -> Void = { _ in }) throws -> IngestMethods.CallIngestParams {
        var tree = try json("telephony/binotel_apiCallCompleted_answered.json")
        guard case .object(var root) = tree, case .object(var d)? = root["callDetails"] else { throw PostgresError.client("binotel sample shape") }
        edit(&d)
        root["callDetails"] = .object(d)
        tree = .object(root)
        let start = Date(timeIntervalSince1970: Double(text(d["startTime"]) ?? "0") ?? 0)
        let billsec = Int(text(d["billsec"]) ?? "0") ?? 0
        let waitsec = Int(text(d["waitsec"]) ?? "0") ?? 0
        let answered = billsec > 0 && text(d["disposition"]) == "ANSWER"
        return IngestMethods.CallIngestParams(
            externalID: text(d["callID"]) ?? "?", provider: "binotel", linkedID: text(d["generalCallID"]),
            direction: text(d["callType"]) == "1" ? .outbound : .inbound, remoteNumber: text(d["externalNumber"]),
            ourNumber: text(d["didNumber"]), managerLine: text(d["internalNumber"]), startedAt: start,
            answeredAt: answered ? start.addingTimeInterval(Double(waitsec)) : nil,
            endedAt: start.addingTimeInterval(Double(waitsec + billsec)), talkSeconds: answered ? billsec : 0, waitSeconds: waitsec,
            disposition: text(d["disposition"]), raw: tree)
    }

    /// The records of `asterisk_Master_cdr_custom_pjsip.csv` (cdr_custom layout: clid,
    /// src, dst, dcontext, channel, dstchannel, lastapp, lastdata, start, answer, end,
    /// duration, billsec, disposition, amaflags, accountcode, uniqueid, userfield, sequence).
    static func asterisk() throws -> [[String]] {
        let text = try String(contentsOf: url("telephony/asterisk_Master_cdr_custom_pjsip.csv"), encoding: .utf8)
        return text.split(whereSeparator: \.isNewline).map { line in
            // Every field is quoted except the last; quotes inside are doubled.
            var fields: [String] = []
            var current = ""
            var quoted = false
            var chars = Array(line)[...]
            while let c = chars.popFirst() {
                if quoted {
                    if c == "\"" {
                        if chars.first == "\"" { current.append("\""); chars.removeFirst() } else { quoted = false }
                    } else { current.append(c) }
                } else if c == "\"" {
                    quoted = true
                } else if c == "," {
                    fields.append(current); current = ""
                } else { current.append(c) }
            }
            fields.append(current)
            return fields
        }
    }

    /// One Asterisk record as a leg of the call `linkedID`, from the client `remote`
    /// (the sample's parties are SIP peers; a real trunk would give the caller's number).
    /// `pbx` tells apart the same record replayed as another PBX's.
    static func asteriskLeg(_ f: [String], linkedID: String, remote: String, pbx: String = "") -> IngestMethods.CallIngestParams {
        let fmt = DateFormatter()
        fmt.locale = Locale(identifier: "en_US_POSIX")
        fmt.timeZone = TimeZone(identifier: "Europe/Kyiv")
        fmt.dateFormat = "yyyy-MM-dd HH:mm:ss"
        let start = fmt.date(from: f[8]) ?? Date()
        let billsec = Int(f[12]) ?? 0
        let duration = Int(f[11]) ?? 0
        let answered = f[13] == "ANSWERED" && billsec > 0
        let peer = f[5].split(separator: "/").dropFirst().first.map { String($0.split(separator: "-")[0]) }
        return IngestMethods.CallIngestParams(
            externalID: f[16] + "#" + f[18] + pbx, provider: "asterisk", linkedID: linkedID, direction: .inbound, remoteNumber: remote,
            ourNumber: nil, managerLine: peer, startedAt: start, answeredAt: answered ? fmt.date(from: f[9]) : nil, endedAt: fmt.date(from: f[10]),
            talkSeconds: answered ? billsec : 0, waitSeconds: max(0, duration - billsec), disposition: f[13],
            raw: .object(["fields": .array(f.map { .string($0) })]))
    }

    /// `telegram_update_message_text.json` → a message.
    static func telegram() throws -> IngestMethods.MessageIngestParams {
        let u = try json("messenger/telegram_update_message_text.json")
        let m = u["message"]
        let from = m?["from"]
        let chat = text(m?["chat"]?["id"]) ?? "?"
        return IngestMethods.MessageIngestParams(
            externalID: chat + ":" + (text(m?["message_id"]) ?? "?"), channel: .telegram,
            sender: IngestMethods.MessageSender(messengerID: text(from?["id"]), username: text(from?["username"]), name: text(from?["first_name"])),
            recipient: "kontor_bot", text: text(m?["text"]) ?? "", receivedAt: Date(timeIntervalSince1970: Double(text(m?["date"]) ?? "0") ?? 0),
            threadID: chat, raw: u)
    }

    /// `viber_callback_message_text_unicode.json` → a message (its token beyond 2^53).
    static func viber() throws -> IngestMethods.MessageIngestParams {
        let c = try json("messenger/viber_callback_message_text_unicode.json")
        let ms = Double(text(c["timestamp"]) ?? "0") ?? 0
        return IngestMethods.MessageIngestParams(
            externalID: text(c["message_token"]) ?? "?", channel: .viber,
            sender: IngestMethods.MessageSender(messengerID: text(c["sender"]?["id"]), name: text(c["sender"]?["name"])),
            recipient: "kontor", text: text(c["message"]?["text"]) ?? "", receivedAt: Date(timeIntervalSince1970: ms / 1000),
            threadID: text(c["sender"]?["id"]), raw: c)
    }
}

extension KontorConnection {
    func ingest(_ p: IngestMethods.CallIngestParams) async throws -> IngestMethods.CallIngestResult {
        try await call("call.ingest", p, as: IngestMethods.CallIngestResult.self)
    }

    func ingest(_ p: IngestMethods.MessageIngestParams) async throws -> IngestMethods.MessageIngestResult {
        try await call("message.ingest", p, as: IngestMethods.MessageIngestResult.self)
    }
}

/// A minimal call from `remote` at `at`: answered when `talk` > 0.
func simpleCall(_ id: String, remote: String?, at: Date, talk: Int = 0, wait: Int = 5, line: String? = nil, our: String? = nil,
                direction: IngestMethods.Direction = .inbound, linked: String? = nil) -> IngestMethods.CallIngestParams {
    IngestMethods.CallIngestParams(externalID: id, provider: "generic", linkedID: linked, direction: direction, remoteNumber: remote, ourNumber: our,
                                   managerLine: line, startedAt: at, answeredAt: talk > 0 ? at.addingTimeInterval(Double(wait)) : nil,
                                   endedAt: at.addingTimeInterval(Double(wait + talk)), talkSeconds: talk, waitSeconds: wait,
                                   disposition: talk > 0 ? "ANSWER" : "NO ANSWER")
}

/// A minimal inbound e-mail.
func simpleMail(_ id: String, from: String, at: Date, name: String? = nil, text: String = "Hello") -> IngestMethods.MessageIngestParams {
    IngestMethods.MessageIngestParams(externalID: id, channel: .email, sender: IngestMethods.MessageSender(email: from, name: name),
                                      subject: "Question", text: text, receivedAt: at)
}

/// 2026-11-20 10:00 Kyiv time (UTC+2), a fixed instant for tests that move the clock.
let kyivMorning = Date(timeIntervalSince1970: 1_795_161_600)

extension RecordWorld {
    /// A robot connection.
    func robot(_ name: String = "robot") async throws -> KontorConnection { try await server.robot(name) }

    /// Rows of `table` (count).
    func count(_ table: String, where condition: String = "TRUE") async throws -> Int {
        try await server.database.with { conn in
            try conn.query("SELECT count(*) AS n FROM \(identifier: table) WHERE \(SQL(unsafeSQL: condition))").one().decode("n")
        }
    }

    /// A lead as `lead.get` shows it to the admin.
    func lead(_ id: Int64?) async throws -> JSONValue {
        try await admin.call("lead.get", ["id": .number("\(id ?? -1)")])
    }
}

func num(_ i: Int64?) -> JSONValue { .number("\(i ?? -1)") }

/// Delivers every call at once, each through its connection.
func ingestConcurrently(_ calls: [(KontorConnection, IngestMethods.CallIngestParams)]) async throws -> [IngestMethods.CallIngestResult] {
    try await withThrowingTaskGroup(of: IngestMethods.CallIngestResult.self) { g in
        for c in calls {
            let conn = c.0
            let p = c.1
            g.addTask { try await conn.ingest(p) }
        }
        var out: [IngestMethods.CallIngestResult] = []
        for try await r in g { out.append(r) }
        return out
    }
}
