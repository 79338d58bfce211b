import Foundation
import KontorBridge
import KontorProtocol
import Testing

/// Asterisk CDR CSV: the sample cdr_custom file, the standard layout, grouping by
/// linked id, bytes that are not UTF-8. The calls each file makes in kontord, and that
/// importing twice changes nothing: `EndToEndTests.everyTelephonySampleMakesTheExpectedCallInquiryAndLead`.
@Suite struct AsteriskTests {
    let options = AsteriskCDR.Options(layout: .auto, timeZone: kyiv)

    @Test func customLayoutSample() throws {
        let batch = AsteriskCDR.parse(file: try sample("telephony/asterisk_Master_cdr_custom_pjsip.csv"), options: options)
        #expect(batch.problems.isEmpty)
        try #require(batch.calls.count == 14)
        #expect(batch.calls.filter { $0.talkSeconds > 0 }.count == 11)
        #expect(batch.calls.filter { $0.talkSeconds == 0 }.count == 3)
        #expect(Set(batch.calls.map(\.externalID)).count == 14)
        let a = batch.calls[0]
        #expect(a.externalID == "1690325492.2#2")
        #expect(a.provider == "asterisk")
        #expect(a.linkedID == nil)
        #expect(a.direction == .internal)  // SIP peer client1 dialled extension 6789
        #expect(a.managerLine == "client1")
        #expect(a.remoteNumber == "6789")
        #expect(a.startedAt == utc("2023-07-25T22:51:32Z"))  // 01:51:32 in Kyiv (EEST)
        #expect(a.answeredAt == utc("2023-07-25T22:51:50Z"))
        #expect(a.endedAt == utc("2023-07-25T22:52:04Z"))
        #expect(a.talkSeconds == 13)
        #expect(a.waitSeconds == 18)
        #expect(a.disposition == "ANSWERED")
        #expect(a.raw?["fields"]?["clid"] == "\"\" <client1>")
        #expect(a.raw?["invalid_utf8"] == nil)
        let b = batch.calls[1]
        #expect(b.externalID == "1690325531.5#4")
        #expect(b.disposition == "NO ANSWER")
        #expect(b.answeredAt == nil)
        #expect(b.talkSeconds == 0)
        #expect(b.waitSeconds == 30)
        #expect(b.managerLine == "client2")
        #expect(b.remoteNumber == "1234")
    }

    @Test func configuredPlanChangesDirection() throws {
        // When short numbers are not extensions (extension_max_digits = 0), 6789 is a
        // client's number and client1's calls are outbound.
        let o = AsteriskCDR.Options(layout: .custom(AsteriskCDR.customSampleColumns), timeZone: kyiv,
                                    plan: NumberPlan(extensionMaxDigits: 0))
        let batch = AsteriskCDR.parse(file: try sample("telephony/asterisk_Master_cdr_custom_pjsip.csv"), options: o)
        try #require(batch.calls.count == 14)
        #expect(batch.calls[0].direction == .outbound)
        #expect(batch.calls[0].remoteNumber == "6789")
        #expect(batch.calls[0].managerLine == "client1")
    }

    static let cp1251Oleg: [UInt8] = [0xCE, 0xEB, 0xE5, 0xE3]  // "Олег" in windows-1251

    /// A standard cdr_csv Master.csv with linkedid/sequence columns: a ring group (two
    /// legs of one call), another call in between, a non-UTF-8 caller name, a bad row.
    static func standardFile() -> [UInt8] {
        var out: [UInt8] = []
        func line(_ s: String) { out += Array(s.utf8) + [10] }
        line(#""","0671234567","0445550100","from-trunk","""Клієнт"" <0671234567>","PJSIP/trunk-00000010","PJSIP/101-00000011","Dial","PJSIP/101,20","2026-03-02 10:00:00","","2026-03-02 10:00:20",20,0,"NO ANSWER","DOCUMENTATION","1772438400.16","","1772438400.16",16"#)
        line(#""","0501112233","0445550100","from-trunk","""Інший"" <0501112233>","PJSIP/trunk-00000012","PJSIP/103-00000013","Dial","PJSIP/103,20","2026-03-02 10:00:05","2026-03-02 10:00:09","2026-03-02 10:01:09",64,60,"ANSWERED","DOCUMENTATION","1772438405.18","","1772438405.18",18"#)
        line(#""","0671234567","0445550100","from-trunk","""Клієнт"" <0671234567>","PJSIP/trunk-00000010","PJSIP/102-00000014","Dial","PJSIP/102,20","2026-03-02 10:00:20","2026-03-02 10:00:25","2026-03-02 10:02:25",145,120,"ANSWERED","DOCUMENTATION","1772438420.20","","1772438400.16",20"#)
        out += Array(#""","0931234567","0445550100","from-trunk",""#.utf8) + [0x22] + cp1251Oleg + Array(#"" <0931234567>","PJSIP/trunk-00000020","PJSIP/101-00000021","Dial","PJSIP/101,20","2026-03-02 11:00:00","2026-03-02 11:00:03","2026-03-02 11:00:33",33,30,"ANSWERED","DOCUMENTATION","1772442000.30","","1772442000.30",30"#.utf8) + [10]
        line(#""","0931234567","0445550100","from-trunk","x","PJSIP/trunk","","Dial","","yesterday","","",1,0,"FAILED","DOCUMENTATION","1772442001.31","","1772442001.31",31"#)
        return out
    }

    @Test func standardLayoutGroupsLegsByLinkedID() throws {
        let plan = NumberPlan(ourNumbers: ["+380445550100"])
        let batch = AsteriskCDR.parse(file: Self.standardFile(), options: .init(layout: .auto, timeZone: kyiv, plan: plan))
        #expect(batch.problems.count == 1)
        #expect(batch.problems.first?.line == 5)
        try #require(batch.calls.map(\.externalID) == ["1772438400.16#16", "1772438420.20#20", "1772438405.18#18", "1772442000.30#30"])
        #expect(batch.calls[0].linkedID == "1772438400.16")
        #expect(batch.calls[1].linkedID == "1772438400.16")
        let missedLeg = batch.calls[0], answeredLeg = batch.calls[1]
        #expect(missedLeg.direction == .inbound)
        #expect(missedLeg.remoteNumber == "0671234567")
        #expect(missedLeg.ourNumber == "0445550100")
        #expect(missedLeg.managerLine == "101")  // from dstchannel PJSIP/101-...
        #expect(missedLeg.talkSeconds == 0)
        #expect(answeredLeg.managerLine == "102")
        #expect(answeredLeg.talkSeconds == 120)
        #expect(answeredLeg.raw?["caller_name"] == "Клієнт")
    }

    @Test func invalidUTF8IsKeptNotFatal() throws {
        let batch = AsteriskCDR.parse(file: Self.standardFile(), options: .init(layout: .standard, timeZone: kyiv))
        let c = try #require(batch.calls.first { $0.externalID == "1772442000.30#30" })
        #expect(c.raw?["invalid_utf8"] == .bool(true))
        #expect(c.raw?["fields"]?["clid"]?.stringValue?.contains("\u{FFFD}") == true)
        let b64 = try #require(c.raw?["bytes_base64"]?.stringValue)
        let bytes = try #require(Data(base64Encoded: b64))
        #expect(Array(bytes).firstRange(of: Self.cp1251Oleg) != nil)
        #expect(c.talkSeconds == 30)
    }
}
