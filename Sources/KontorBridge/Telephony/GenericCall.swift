import Foundation
import KontorProtocol

/// The bridge's own JSON shape for any other PBX (documented in docs/BRIDGE.md,
/// "Generic PBX JSON"): one call record (leg) per object, or an array of them.
///
/// ```json
/// {"id": "pbx-1700000000.42", "linked_id": "1700000000.40",
///  "from": "0671234567", "to": "0445550100",
///  "started_at": "2026-11-29T10:15:00+02:00", "answered_at": "2026-11-29T10:15:09+02:00",
///  "ended_at": "2026-11-29T10:17:12+02:00", "talk_seconds": 123,
///  "disposition": "ANSWERED", "manager_line": "101", "recording_url": "https://..."}
/// ```
///
/// Required: `id` (or `external_id`, at most 200 characters) and `started_at`. `remote_name`
/// (the caller's name) names a new contact of an inbound call. `provider` is 1–40 of
/// `a-z 0-9 _ . -`; seconds are 0 to 7 days. Times are RFC 3339 or unix
/// seconds. `direction` (`inbound`/`outbound`/`internal`) with `remote_number` /
/// `our_number` may be given instead of `from`/`to`; when absent the ``NumberPlan``
/// decides from `from`/`to`. `talk_seconds` defaults to `ended_at − answered_at` when
/// both are given, else 0 (missed). Numbers may be strings or JSON numbers.
public enum GenericCallParser {
    /// Parses a body holding one record or an array of records.
    public static func parse(body: [UInt8], plan: NumberPlan) throws -> [IngestMethods.CallIngestParams] {
        let json = try JSONValue.payload(body)
        switch json {
        case .array(let items):
            guard !items.isEmpty else { throw PayloadError("pbx: an empty array") }
            return try items.enumerated().map { i, item in
                do { return try parse(record: item, plan: plan) } catch let e as PayloadError {
                    throw PayloadError("record \(i): \(e.message)")
                }
            }
        case .object: return [try parse(record: json, plan: plan)]
        default: throw PayloadError("pbx: expected an object or an array of objects")
        }
    }

    /// Parses one record.
    public static func parse(record r: JSONValue, plan: NumberPlan) throws -> IngestMethods.CallIngestParams {
        guard r.objectValue != nil else { throw PayloadError("pbx: a record must be an object") }
        guard let id = r["id"]?.text ?? r["external_id"]?.text else { throw PayloadError("pbx: id is missing") }
        guard let started = Times.flexible(r["started_at"]) else { throw PayloadError("pbx: started_at is missing or not a time") }
        let answeredAt = Times.flexible(r["answered_at"])
        let ended = Times.flexible(r["ended_at"])
        var parties: NumberPlan.Parties
        if let d = r["direction"]?.text {
            guard let dir = IngestMethods.Direction(rawValue: d.lowercased()) else {
                throw PayloadError("pbx: direction must be inbound, outbound or internal")
            }
            let from = r["from"]?.text, to = r["to"]?.text
            let remote = r["remote_number"]?.text ?? (dir == .outbound ? to : from)
            let ours = r["our_number"]?.text ?? (dir == .outbound ? from : to)
            parties = .init(direction: dir, remoteNumber: NumberPlan.clean(remote), ourNumber: ours, managerLine: nil)
            if plan.isExtension(ours) { parties.managerLine = ours; parties.ourNumber = nil }
        } else {
            parties = plan.classify(from: r["from"]?.text, to: r["to"]?.text)
        }
        if let line = r["manager_line"]?.text { parties.managerLine = line }
        var talk = try Times.seconds(r["talk_seconds"] ?? r["billsec"], field: "pbx: talk_seconds")
        if talk == nil, let a = answeredAt, let e = ended {
            talk = try Times.seconds(.number(String(max(0, Int(e.timeIntervalSince(a).rounded())))), field: "pbx: ended_at − answered_at")
        }
        let provider = (r["provider"]?.text ?? "generic").lowercased()
        guard provider.range(of: "^[a-z0-9][a-z0-9_.-]{0,39}$", options: .regularExpression) != nil else {
            throw PayloadError("pbx: provider is 1 to 40 of a-z 0-9 _ . -")
        }
        guard id.count <= 200 else { throw PayloadError("pbx: id is longer than 200 characters") }
        return IngestMethods.CallIngestParams(
            externalID: id, provider: provider, linkedID: r["linked_id"]?.text,
            direction: parties.direction, remoteNumber: parties.remoteNumber,
            remoteName: parties.direction == .inbound ? NumberPlan.callerName(r["remote_name"]?.text, number: parties.remoteNumber) : nil,
            ourNumber: parties.ourNumber,
            managerLine: parties.managerLine, managerLogin: r["manager_login"]?.text, startedAt: started,
            answeredAt: (talk ?? 0) > 0 ? answeredAt : nil, endedAt: ended, talkSeconds: talk ?? 0,
            waitSeconds: try Times.seconds(r["wait_seconds"], field: "pbx: wait_seconds"), disposition: r["disposition"]?.text,
            recordingURL: r["recording_url"]?.text, raw: r)
    }
}
