import Foundation
import KontorBridge
import KontorProtocol
import Testing

/// Every telephony sample → the expected `call.ingest` params. What each makes in kontord
/// (call, inquiry, lead status) and that replaying them twice changes nothing:
/// `EndToEndTests.everyTelephonySampleMakesTheExpectedCallInquiryAndLead`.
@Suite struct TelephonyTests {
    // MARK: Binotel

    @Test func binotelJSONAnsweredCall() throws {
        let p = try #require(try BinotelParser.parse(body: sample("telephony/binotel_apiCallCompleted_answered.json"), contentType: "application/json").event)
        #expect(p.externalID == "612107649")
        #expect(p.provider == "binotel")
        #expect(p.linkedID == "612107649")
        #expect(p.direction == .inbound)
        #expect(p.remoteNumber == "0675550123")
        #expect(p.ourNumber == "0675550100")
        #expect(p.managerLine == "901")
        #expect(p.startedAt == utc("2018-05-18T10:20:35Z"))
        #expect(p.answeredAt == utc("2018-05-18T10:20:35Z"))
        #expect(p.endedAt == utc("2018-05-18T10:22:37Z"))
        #expect(p.talkSeconds == 122)
        #expect(p.waitSeconds == 0)
        #expect(p.disposition == "ANSWER")
        #expect(p.raw?["callDetails"]?["employeeName"] == "Оператор1")
    }

    @Test func binotelFormEqualsJSON() throws {
        let form = try #require(try BinotelParser.parse(body: sample("telephony/binotel_apiCallCompleted_answered.form.txt"), contentType: "application/x-www-form-urlencoded").event)
        let json = try #require(try BinotelParser.parse(body: sample("telephony/binotel_apiCallCompleted_answered.json"), contentType: nil).event)
        // The bracket keys rebuild the same tree, so even `raw` is identical.
        #expect(form == json)
        #expect(form.raw?["callDetails"]?["dstNumbers"]?["0"]?["billsec"] == "122")
        #expect(form.raw?["callDetails"]?["getCallData"]?["utm_campaign"] == "(not set}")
        // Without a content type the first byte decides.
        let sniffed = try #require(try BinotelParser.parse(body: sample("telephony/binotel_apiCallCompleted_answered.form.txt"), contentType: nil).event)
        #expect(sniffed == form)
    }

    @Test func binotelMissedRule() throws {
        var tree = try JSONValue.parse(sample("telephony/binotel_apiCallCompleted_answered.json"))
        func with(_ disposition: String, billsec: String) throws -> IngestMethods.CallIngestParams? {
            guard case .object(var root) = tree, case .object(var d)? = root["callDetails"] else { return nil }
            d["disposition"] = .string(disposition)
            d["billsec"] = .string(billsec)
            d["waitsec"] = "25"
            root["callDetails"] = .object(d)
            tree = .object(root)
            return try BinotelParser.parse(tree: tree).event
        }
        let noAnswer = try #require(try with("NOANSWER", billsec: "0"))
        #expect(noAnswer.talkSeconds == 0)
        #expect(noAnswer.answeredAt == nil)
        #expect(noAnswer.endedAt == utc("2018-05-18T10:21:00Z"))
        // Voicemail has billable seconds, but no manager spoke: missed.
        let voicemail = try #require(try with("VM-SUCCESS", billsec: "40"))
        #expect(voicemail.talkSeconds == 0)
        #expect(voicemail.answeredAt == nil)
        // Picked up and hung up at once: missed.
        let zero = try #require(try with("ANSWER", billsec: "0"))
        #expect(zero.talkSeconds == 0)
        let answered = try #require(try with("ANSWER", billsec: "7"))
        #expect(answered.talkSeconds == 7)
        #expect(answered.answeredAt == utc("2018-05-18T10:21:00Z"))
    }

    @Test func binotelOtherRequestTypesAreIgnoredAndGarbageRefused() throws {
        let ignored = try BinotelParser.parse(body: Array("requestType=receivedTheCall&callDetails%5BcallID%5D=1".utf8), contentType: nil)
        #expect(ignored.event == nil)
        #expect(throws: PayloadError.self) { try BinotelParser.parse(body: Array("requestType=apiCallCompleted".utf8), contentType: nil) }
        #expect(throws: PayloadError.self) { try BinotelParser.parse(body: Array("{not json".utf8), contentType: "application/json") }
    }

    // MARK: Twilio

    @Test func twilioCompletedCallback() throws {
        let pairs = FormEncoding.pairs(try sample("telephony/twilio_status_callback_completed.form.txt"))
        let p = try #require(try TwilioParser.parse(pairs: pairs, plan: NumberPlan(), receivedAt: Date()).event)
        #expect(p.externalID == "CA00000000000000000000000000000001")
        #expect(p.provider == "twilio")
        #expect(p.linkedID == nil)
        #expect(p.direction == .outbound)  // Direction=outbound-api
        #expect(p.remoteNumber == "+551135550112")
        #expect(p.ourNumber == "+12025550143")
        #expect(p.endedAt == utc("2018-03-25T09:53:19Z"))
        #expect(p.startedAt == utc("2018-03-25T09:52:30Z"))
        #expect(p.answeredAt == p.startedAt)
        #expect(p.talkSeconds == 49)
        #expect(p.disposition == "completed")
        #expect(p.raw?["CalledCity"] == "São Paulo")
    }

    @Test func twilioNonFinalIgnoredAndMachineIsMissed() throws {
        var pairs = FormEncoding.pairs(try sample("telephony/twilio_status_callback_completed.form.txt"))
        func set(_ k: String, _ v: String) { pairs = pairs.filter { $0.key != k } + [(k, v)] }
        set("CallStatus", "ringing")
        #expect(try TwilioParser.parse(pairs: pairs, plan: NumberPlan(), receivedAt: Date()).event == nil)
        set("CallStatus", "completed")
        set("AnsweredBy", "machine_end_beep")
        let m = try #require(try TwilioParser.parse(pairs: pairs, plan: NumberPlan(), receivedAt: Date()).event)
        #expect(m.talkSeconds == 0)
        set("CallStatus", "no-answer")
        set("Direction", "inbound")
        set("ParentCallSid", "CA0000000000000000000000000000000P")
        let n = try #require(try TwilioParser.parse(pairs: pairs, plan: NumberPlan(), receivedAt: Date()).event)
        #expect(n.direction == .inbound)
        #expect(n.remoteNumber == "+12025550143")
        #expect(n.linkedID == "CA0000000000000000000000000000000P")
        #expect(n.talkSeconds == 0)
    }

    @Test func twilioSignatureMatchesAnIndependentImplementation() throws {
        // Expected value computed with Python's hmac/hashlib over the same URL and body.
        let pairs = FormEncoding.pairs(try sample("telephony/twilio_status_callback_completed.form.txt"))
        let sig = TwilioParser.signature(url: "https://bridge.example.ua/hooks/twilio", pairs: pairs, authToken: "twilio-auth-token")
        #expect(sig == "hj1+8hP12emyVgkvJrqVf2u+HBQ=")
        #expect(TwilioParser.verify(signature: sig, url: "https://bridge.example.ua/hooks/twilio", pairs: pairs, authToken: "twilio-auth-token"))
        #expect(!TwilioParser.verify(signature: sig, url: "https://bridge.example.ua/hooks/twilio", pairs: pairs, authToken: "other"))
        #expect(!TwilioParser.verify(signature: nil, url: "x", pairs: pairs, authToken: "twilio-auth-token"))
    }

    // MARK: FreeSWITCH

    @Test func freeswitchJSONCDR() throws {
        let p = try #require(try FreeSwitchParser.parse(body: sample("telephony/freeswitch_mod_json_cdr_answered.json"), plan: NumberPlan()).event)
        #expect(p.externalID == "3da8bf84-c133-4959-9e24-e72875cb33a1")
        #expect(p.provider == "freeswitch")
        #expect(p.linkedID == "3da8bf84-c133-4959-9e24-e72875cb33a1")
        #expect(p.direction == .internal)  // extension 1001 called extension 1002
        #expect(p.managerLine == "1001")
        #expect(p.remoteNumber == "1002")
        #expect(p.startedAt == Date(timeIntervalSince1970: 1515666344.534355))
        #expect(p.answeredAt == Date(timeIntervalSince1970: 1515666347.954373))
        #expect(p.endedAt == Date(timeIntervalSince1970: 1515666415.494269))
        #expect(p.talkSeconds == 68)
        #expect(p.waitSeconds == 3)
        #expect(p.disposition == "NORMAL_CLEARING")
        #expect(p.raw?["callStats"]?["audio"]?["inbound"]?["mos"] == .number("4.500000"))
        // The `encode` option of mod_json_cdr sends cdr=<url-encoded JSON>.
        let json = String(decoding: try sample("telephony/freeswitch_mod_json_cdr_answered.json"), as: UTF8.self)
        let form = try #require(try FreeSwitchParser.parse(body: Array(("cdr=" + FormEncoding.encodeComponent(json)).utf8), plan: NumberPlan()).event)
        #expect(form == p)
    }

    @Test func freeswitchInboundFromOutside() throws {
        var v = try JSONValue.parse(sample("telephony/freeswitch_mod_json_cdr_answered.json"))
        guard case .object(var root) = v, case .array(var flow)? = root["callflow"], case .object(var f0) = flow[0],
              case .object(var prof)? = f0["caller_profile"] else { Issue.record("shape"); return }
        prof["caller_id_number"] = "+380671234567"
        f0["caller_profile"] = .object(prof); flow[0] = .object(f0); root["callflow"] = .array(flow); v = .object(root)
        let p = try #require(try FreeSwitchParser.parse(json: v, plan: NumberPlan()).event)
        #expect(p.direction == .inbound)
        #expect(p.remoteNumber == "+380671234567")
        #expect(p.managerLine == "1002")
    }

    // MARK: Generic JSON

    @Test func genericShape() throws {
        let body = """
        [{"id": "pbx-1", "linked_id": "grp-1", "from": "0671234567", "to": "0445550100",
          "started_at": "2026-11-29T10:15:00+02:00", "answered_at": "2026-11-29T10:15:09+02:00",
          "ended_at": "2026-11-29T10:17:12+02:00", "disposition": "ANSWERED", "manager_line": "101",
          "recording_url": "https://pbx.example.ua/rec/1.mp3"},
         {"id": 2, "direction": "outbound", "from": 101, "to": "+380501112233", "started_at": 1764404100, "talk_seconds": 0}]
        """
        let plan = NumberPlan(ourNumbers: ["+380 44 555 01 00"])
        let calls = try GenericCallParser.parse(body: Array(body.utf8), plan: plan)
        #expect(calls.count == 2)
        let a = calls[0]
        #expect(a.externalID == "pbx-1")
        #expect(a.provider == "generic")
        #expect(a.linkedID == "grp-1")
        #expect(a.direction == .inbound)
        #expect(a.remoteNumber == "0671234567")
        #expect(a.ourNumber == "0445550100")
        #expect(a.managerLine == "101")
        #expect(a.talkSeconds == 123)
        #expect(a.answeredAt == utc("2026-11-29T08:15:09Z"))
        #expect(a.recordingURL == "https://pbx.example.ua/rec/1.mp3")
        let b = calls[1]
        #expect(b.externalID == "2")
        #expect(b.direction == .outbound)
        #expect(b.remoteNumber == "+380501112233")
        #expect(b.managerLine == "101")
        #expect(b.ourNumber == nil)
        #expect(b.startedAt == Date(timeIntervalSince1970: 1764404100))
        #expect(b.talkSeconds == 0)
        #expect(throws: PayloadError.self) { try GenericCallParser.parse(body: Array(#"{"from":"1"}"#.utf8), plan: plan) }
        #expect(throws: PayloadError.self) { try GenericCallParser.parse(body: Array(#"{"id":"x","started_at":"yesterday"}"#.utf8), plan: plan) }
    }

    // MARK: Number plan

    @Test func numberPlanDefaults() {
        let plan = NumberPlan(ourNumbers: ["044 555 01 00"])
        #expect(plan.isExtension("101"))
        #expect(plan.isExtension("12345"))
        #expect(!plan.isExtension("123456"))
        #expect(plan.isExtension("client1"))
        #expect(plan.isExtension("sip:101@pbx.local"))
        #expect(!plan.isExtension("+380445550100"))
        #expect(plan.isOurLine("+380445550100"))
        #expect(plan.isOurLine("380445550100"))
        #expect(!plan.isOurLine("0671234567"))
        #expect(plan.classify(from: "0671234567", to: "+380445550100").direction == .inbound)
        #expect(plan.classify(from: "101", to: "0671234567") == .init(direction: .outbound, remoteNumber: "0671234567", ourNumber: nil, managerLine: "101"))
        #expect(plan.classify(from: "anonymous", to: "101").remoteNumber == nil)
        let custom = NumberPlan(extensionMaxDigits: 0, extensionPatterns: ["7[0-9]{3}"])
        #expect(custom.isExtension("7001"))
        #expect(!custom.isExtension("101"))
    }
}
