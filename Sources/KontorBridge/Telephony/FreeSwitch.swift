import Foundation
import KontorProtocol

/// FreeSWITCH `mod_json_cdr` records → `call.ingest`.
///
/// Source: FreeSWITCH documentation, "mod_json_cdr" (one JSON object per call leg,
/// POSTed to a URL or written to a file; `variables` holds the channel variables as
/// strings, `callflow` the caller profiles — an array in current versions, an object in
/// old ones) and "Channel Variables" (`uuid`, `call_uuid`, `originating_leg_uuid`,
/// `start_uepoch`, `answer_uepoch`, `end_uepoch`, `billsec`, `waitsec`, `hangup_cause`,
/// `caller_id_number`, `destination_number`). With `encode` on, the module sends
/// `cdr=<url-encoded JSON>` as a form; both bodies are accepted.
///
/// One leg per record: `external_id` = `variables.uuid`; `linked_id` =
/// `originating_leg_uuid` (B legs) or `call_uuid`. Answered when `billsec` > 0 and the
/// leg has an answer time. Direction from the numbers through the ``NumberPlan``. An
/// inbound caller's `caller_id_name` (when it is a name, not the number) is `remote_name`.
public enum FreeSwitchParser {
    /// Parses an HTTP body: the JSON, or a form whose `cdr` field holds it.
    public static func parse(body: [UInt8], plan: NumberPlan) throws -> ParseOutcome<IngestMethods.CallIngestParams> {
        var bytes = body
        let pairs = body.firstNonSpace == UInt8(ascii: "{") ? [] : FormEncoding.pairs(body)
        if let cdr = pairs.first(where: { $0.key == "cdr" }) { bytes = Array(cdr.value.utf8) }
        return try parse(json: JSONValue.payload(bytes), plan: plan)
    }

    /// Parses one CDR already read as JSON.
    public static func parse(json: JSONValue, plan: NumberPlan) throws -> ParseOutcome<IngestMethods.CallIngestParams> {
        guard let vars = json["variables"], vars.objectValue != nil else { throw PayloadError("freeswitch: no variables") }
        var profile: JSONValue?
        switch json["callflow"] {
        case .array(let a)?: profile = a.first?["caller_profile"]
        case .object(let o)?: profile = o["caller_profile"]
        default: profile = nil
        }
        guard let uuid = vars["uuid"]?.text ?? profile?["uuid"]?.text else { throw PayloadError("freeswitch: variables.uuid is missing") }
        guard let started = Times.unixMicroseconds(vars["start_uepoch"]) ?? Times.unixSeconds(vars["start_epoch"]) else {
            throw PayloadError("freeswitch: start_epoch is missing")
        }
        let answeredAt = Times.unixMicroseconds(vars["answer_uepoch"]) ?? Times.unixSeconds(vars["answer_epoch"])
        let ended = Times.unixMicroseconds(vars["end_uepoch"]) ?? Times.unixSeconds(vars["end_epoch"])
        let billsec = try Times.seconds(vars["billsec"], field: "freeswitch: billsec") ?? 0
        let answered = billsec > 0 && answeredAt != nil
        let caller = profile?["caller_id_number"]?.text ?? vars["caller_id_number"]?.text ?? vars["sip_from_user"]?.text
        let callee = profile?["destination_number"]?.text ?? vars["destination_number"]?.text ?? vars["sip_req_user"]?.text
        let parties = plan.classify(from: caller, to: callee)
        let wait = try Times.seconds(vars["waitsec"], field: "freeswitch: waitsec")
            ?? (answered ? nil : try Times.seconds(vars["duration"], field: "freeswitch: duration"))
        let callerName = profile?["caller_id_name"]?.text ?? vars["caller_id_name"]?.text
        return .event(IngestMethods.CallIngestParams(
            externalID: uuid, provider: "freeswitch",
            linkedID: vars["originating_leg_uuid"]?.text ?? vars["call_uuid"]?.text,
            direction: parties.direction, remoteNumber: parties.remoteNumber,
            remoteName: parties.direction == .inbound ? NumberPlan.callerName(callerName, number: parties.remoteNumber) : nil,
            ourNumber: parties.ourNumber,
            managerLine: parties.managerLine, managerLogin: nil, startedAt: started,
            answeredAt: answered ? answeredAt : nil, endedAt: ended, talkSeconds: answered ? billsec : 0,
            waitSeconds: wait, disposition: vars["hangup_cause"]?.text,
            recordingURL: vars["recording_url"]?.text, raw: json))
    }
}
