import Crypto
import Foundation
import KontorProtocol

/// Twilio voice status callbacks → `call.ingest`.
///
/// Source: Twilio Voice docs, "StatusCallback" (form-encoded POST with `CallSid`,
/// `ParentCallSid`, `From`, `To`, `Direction` = `inbound` / `outbound-api` /
/// `outbound-dial`, `CallStatus` = `queued` `initiated` `ringing` `in-progress`
/// `completed` `busy` `no-answer` `canceled` `failed`, `CallDuration` in seconds for
/// finished calls, `Timestamp` in RFC 2822, `RecordingUrl`, `AnsweredBy`), and
/// "Webhooks security" (`X-Twilio-Signature`); `CallerName` (caller id lookup) names an
/// inbound caller (`remote_name`).
///
/// Only final statuses become a call record; the others are acknowledged and ignored.
/// `Timestamp` of a final callback is the end of the call; the start is the end minus
/// `CallDuration`. A call is answered when `CallStatus` is `completed`, `CallDuration`
/// > 0 and `AnsweredBy` (when answering-machine detection ran) does not say a machine
/// or fax answered.
public enum TwilioParser {
    /// `CallStatus` values after which the call is over.
    public static let finalStatuses: Set<String> = ["completed", "busy", "no-answer", "canceled", "failed"]

    /// Parses the form pairs of a status callback. `receivedAt` stands in for a missing
    /// `Timestamp`.
    public static func parse(pairs: [(key: String, value: String)], plan: NumberPlan,
                             receivedAt: Date) throws -> ParseOutcome<IngestMethods.CallIngestParams> {
        let raw = JSONValue.formObject(pairs)
        func v(_ k: String) -> String? { raw[k]?.text }
        guard let sid = v("CallSid") else { throw PayloadError("twilio: CallSid is missing") }
        guard let status = v("CallStatus")?.lowercased() else { throw PayloadError("twilio: CallStatus is missing") }
        guard finalStatuses.contains(status) else { return .ignored("twilio \(status)") }
        let ended = v("Timestamp").flatMap(Times.rfc2822) ?? receivedAt
        let duration = try Times.seconds(v("CallDuration"), field: "twilio: CallDuration") ?? 0
        let answeredBy = v("AnsweredBy")?.lowercased() ?? ""
        let machine = answeredBy.hasPrefix("machine") || answeredBy == "fax"
        let answered = status == "completed" && duration > 0 && !machine
        let started = ended.addingTimeInterval(-TimeInterval(duration))
        let from = NumberPlan.clean(v("From")), to = NumberPlan.clean(v("To"))
        var parties: NumberPlan.Parties
        switch v("Direction")?.lowercased() {
        case "inbound"?:
            parties = .init(direction: .inbound, remoteNumber: from, ourNumber: to, managerLine: nil)
        case let d? where d.hasPrefix("outbound"):
            parties = .init(direction: .outbound, remoteNumber: to, ourNumber: from, managerLine: nil)
            if d == "outbound-dial", plan.isOurs(to) {
                // The forwarding leg of an inbound call, dialled to a manager's line.
                parties = .init(direction: .inbound, remoteNumber: from, ourNumber: nil, managerLine: to)
            }
        default:
            parties = plan.classify(from: from, to: to)
        }
        if parties.direction != .inbound, plan.isExtension(parties.ourNumber) {
            parties.managerLine = parties.ourNumber
            parties.ourNumber = nil
        }
        return .event(IngestMethods.CallIngestParams(
            externalID: sid, provider: "twilio", linkedID: v("ParentCallSid"), direction: parties.direction,
            remoteNumber: parties.remoteNumber, remoteName: parties.direction == .inbound ? NumberPlan.callerName(v("CallerName"), number: parties.remoteNumber) : nil,
            ourNumber: parties.ourNumber, managerLine: parties.managerLine,
            managerLogin: nil, startedAt: started, answeredAt: answered ? started : nil, endedAt: ended,
            talkSeconds: answered ? duration : 0, waitSeconds: nil, disposition: v("CallStatus"),
            recordingURL: v("RecordingUrl"), raw: raw))
    }

    /// The `X-Twilio-Signature` of a form POST: Base64 of HMAC-SHA1, keyed with the
    /// account's auth token, over the full URL followed by every POST parameter's name
    /// and value, sorted by name.
    public static func signature(url: String, pairs: [(key: String, value: String)], authToken: String) -> String {
        var data = Array(url.utf8)
        let sorted = pairs.enumerated().sorted { a, b in
            a.element.key != b.element.key ? Array(a.element.key.utf8).lexicographicallyPrecedes(Array(b.element.key.utf8)) : a.offset < b.offset
        }
        for (_, p) in sorted {
            data += Array(p.key.utf8)
            data += Array(p.value.utf8)
        }
        let mac = HMAC<Insecure.SHA1>.authenticationCode(for: data, using: SymmetricKey(data: Array(authToken.utf8)))
        return Data(mac).base64EncodedString()
    }

    /// Checks a signature in constant time.
    public static func verify(signature: String?, url: String, pairs: [(key: String, value: String)], authToken: String) -> Bool {
        guard let signature, let given = Data(base64Encoded: signature.trimmed) else { return false }
        let expected = Data(base64Encoded: self.signature(url: url, pairs: pairs, authToken: authToken)) ?? Data()
        return Secrets.constantTimeEqual(Array(given), Array(expected))
    }
}
