import Foundation
import KontorProtocol

/// Binotel "API CALL COMPLETED" webhooks → `call.ingest`.
///
/// Source: Binotel API documentation, "API CALL COMPLETED" (the PBX POSTs
/// `requestType=apiCallCompleted` and `callDetails[...]` after every call, form-encoded
/// with PHP bracket keys; some integrations relay it as JSON with the same tree; every
/// value is a string). Fields used: `callDetails.generalCallID`, `callID`, `startTime`
/// (unix seconds), `callType` (`0` incoming, `1` outgoing), `externalNumber` (the
/// client), `internalNumber` (the employee's line), `did`/`didNumber` (our number),
/// `waitsec`, `billsec`, `disposition`, `linkToCallRecordInMyBusiness`, and
/// `customerData.name` (the client's name in Binotel's customer base, when it knows the
/// number: `remote_name`).
///
/// Answered or missed: Binotel's `disposition` alone is not enough (`VM-SUCCESS` has
/// billable seconds but nobody spoke to the client; `ANSWER` with `billsec` 0 is a
/// pick-up and immediate hang-up). A call counts as answered when `disposition` is
/// `ANSWER`, `TRANSFER` or `ONLINE` **and** `billsec` > 0; otherwise `talk_seconds` is 0.
public enum BinotelParser {
    /// Dispositions in which an employee talked to the caller.
    public static let answeredDispositions: Set<String> = ["ANSWER", "TRANSFER", "ONLINE"]

    /// Parses a request body (form-encoded or JSON, told by the content type or, when
    /// absent, by the first byte).
    public static func parse(body: [UInt8], contentType: String?) throws -> ParseOutcome<IngestMethods.CallIngestParams> {
        let isJSON: Bool
        if let ct = contentType?.lowercased(), ct.contains("json") {
            isJSON = true
        } else if let ct = contentType?.lowercased(), ct.contains("x-www-form-urlencoded") {
            isJSON = false
        } else {
            isJSON = body.firstNonSpace == UInt8(ascii: "{")
        }
        let tree = isJSON ? try JSONValue.payload(body) : FormEncoding.phpTree(FormEncoding.pairs(body))
        return try parse(tree: tree)
    }

    /// Parses the request as a JSON tree (the form's bracket keys already expanded).
    public static func parse(tree: JSONValue) throws -> ParseOutcome<IngestMethods.CallIngestParams> {
        let requestType = tree["requestType"]?.text
        if let requestType, requestType != "apiCallCompleted" {
            return .ignored("binotel \(requestType)")
        }
        guard let d = tree["callDetails"], d.objectValue != nil else {
            throw PayloadError("binotel: no callDetails")
        }
        guard let callID = d["callID"]?.text ?? d["generalCallID"]?.text else {
            throw PayloadError("binotel: callDetails.callID is missing")
        }
        guard let started = Times.unixSeconds(d["startTime"]) else {
            throw PayloadError("binotel: callDetails.startTime is missing or not unix time")
        }
        let billsec = try Times.seconds(d["billsec"], field: "binotel: billsec") ?? 0
        let waitsec = try Times.seconds(d["waitsec"], field: "binotel: waitsec")
        let disposition = d["disposition"]?.text
        let answered = billsec > 0 && answeredDispositions.contains((disposition ?? "").uppercased())
        let direction: IngestMethods.Direction
        switch d["callType"]?.text {
        case "1": direction = .outbound
        case "0", nil: direction = .inbound
        default: direction = .inbound
        }
        let answeredAt = answered ? started.addingTimeInterval(TimeInterval(waitsec ?? 0)) : nil
        let ended = started.addingTimeInterval(TimeInterval((waitsec ?? 0) + billsec))
        return .event(IngestMethods.CallIngestParams(
            externalID: callID,
            provider: "binotel",
            linkedID: d["generalCallID"]?.text,
            direction: direction,
            remoteNumber: NumberPlan.clean(d["externalNumber"]?.text ?? d["srcNumber"]?.text),
            remoteName: d["customerData"]?["name"]?.text,
            ourNumber: d["didNumber"]?.text ?? d["did"]?.text,
            managerLine: d["internalNumber"]?.text,
            managerLogin: nil,
            startedAt: started,
            answeredAt: answeredAt,
            endedAt: ended,
            talkSeconds: answered ? billsec : 0,
            waitSeconds: waitsec,
            disposition: disposition,
            recordingURL: d["linkToCallRecordInMyBusiness"]?.text ?? d["linkToCallRecordOverlayInMyBusiness"]?.text,
            raw: tree))
    }
}
