import Foundation
import KontorBridge
import KontorProtocol
import Testing

/// Every e-mail sample → subject, sender, text and attachments; synthetic windows-1251,
/// HTML-only and broken messages. Each delivered to kontord (message, inquiry, lead; a
/// second delivery changes nothing): `EndToEndTests.everyMessageSampleMakesAMessageInquiryAndLead`.
@Suite struct EmailTests {
    func parse(_ name: String) throws -> IngestMethods.MessageIngestParams {
        try EmailParser.parse(raw: sample("email/" + name), fallbackDate: Date(timeIntervalSince1970: 0))
    }

    @Test func koi8rSubjectAndBody() throws {
        let p = try parse("tb_sample04_koi8r_subject_and_base64_body.eml")
        #expect(p.subject == "Алфавит")
        #expect(p.text == "Вопрос")
        #expect(p.sender == .init(email: "new@thunderbird.bug", name: "Bug Reporter"))
        #expect(p.externalID == "04.eml@mime.sample")
        #expect(p.channel == .email)
        #expect(p.receivedAt == utc("2001-05-27T20:23:35Z"))
        #expect(p.attachments == nil)
    }

    @Test func utf8EncodedWordSubject() throws {
        let p = try parse("tb_sample01_utf8_B_encoded_subject.eml")
        #expect(p.subject == "αλφάβητο")
        #expect(p.text == "Άλφα")
        #expect(p.externalID == "01.eml@mime.sample")
        #expect(p.receivedAt == utc("2021-05-27T20:23:35Z"))
    }

    @Test func multipartWithPNGAttachments() throws {
        let p = try parse("tb_sample02_multipart_png_attachments_iso8859_Q_to.eml")
        #expect(p.subject == "Test message from Microsoft Outlook 00")
        #expect(p.sender == .init(email: "doug@example.com", name: "Doug Sauder"))
        #expect(p.recipient == "mueller@example.com")
        #expect(p.raw?["to"]?.arrayValue?.first == "Heinz Müller <mueller@example.com>")
        #expect(p.text == "Die Hasen und die Frösche")
        // Sizes are the decoded bytes; `filename=` wins over `name=` (RFC 2183).
        #expect(p.attachments == [
            .init(name: "blueball2.png", contentType: "image/png", size: 1325),
            .init(name: "greenball.png", contentType: "image/png", size: 1298),
            .init(name: "redball.png", contentType: "image/png", size: 1453),
        ])
        #expect(p.receivedAt == utc("2000-05-17T23:32:47Z"))
    }

    @Test func mboxFromLineQEncodedSubjectAndOctetStreamAttachment() throws {
        let p = try parse("pmmp_m0001_iso8859_Q_subject_multipart_attachment.eml")
        #expect(p.subject == "Mail avec fichier attaché de 1ko")
        #expect(p.sender == .init(email: "name@company.com", name: "Name"))
        #expect(p.text == "")  // the plain part is empty and the HTML part is a lone <br>
        #expect(p.attachments == [.init(name: "attach01", contentType: "application/octet-stream", size: 2)])
        #expect(p.externalID == "CAH_ZkVmUSM8t2JxgqcuLCQ8d+R_hkKpNHTubJOQK07y=36+d4Q@mail.gmail.com")
        #expect(p.receivedAt == utc("2013-06-16T15:50:12Z"))
    }

    @Test func websiteLeadNotificationWithFoldedTo() throws {
        let p = try parse("mikel_online_lead_notification_folded_to.eml")
        #expect(p.subject == "[Online Lead] Online Lead #1111111")
        #expect(p.sender == .init(email: "l@gcn-example.com"))
        #expect(p.recipient == "leads@sg.dc.com")
        #expect(p.text.hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"))
        #expect(p.externalID == "4cb5c7d0a3cce_120e..fdbed2b861958562@s.t-example.com.tmail")
        #expect(p.receivedAt == utc("2010-10-13T14:53:04Z"))
        #expect((p.raw?["to"]?.arrayValue?.count ?? 0) >= 6)
    }

    static func cp1251(_ s: String) -> [UInt8] {
        // windows-1251 for the Cyrillic letters used here.
        let table: [Character: UInt8] = ["З": 0xC7, "а": 0xE0, "п": 0xEF, "и": 0xE8, "т": 0xF2, "ц": 0xF6, "і": 0xB3, "н": 0xED,
                                         "Д": 0xC4, "о": 0xEE, "б": 0xE1, "р": 0xF0, "д": 0xE4, "е": 0xE5, "ь": 0xFC, "П": 0xCF,
                                         "Ф": 0xD4, "м": 0xEC, "я": 0xFF, "А": 0xC0, "4": 0x34, "к": 0xEA, "с": 0xF1, "л": 0xEB, "й": 0xE9, "ч": 0xF7]
        return s.map { c in table[c] ?? (c.asciiValue ?? 0x3F) }
    }

    /// A windows-1251 message as an old Ukrainian mailer writes it: an encoded-word
    /// name, a raw 8-bit subject, an 8-bit body, and an `Organization:` header.
    static func windows1251Message() -> [UInt8] {
        var raw = Array("From: =?windows-1251?B?z+Xy8O4=?= <petro@firma.ua>\r\nTo: sales@kontor.example.ua\r\nSubject: ".utf8)
        raw += cp1251("Запит ціни")  // raw 8-bit header, as old mailers send it
        raw += Array("\r\nDate: Mon, 2 Mar 2026 10:00:00 +0200\r\nMessage-ID: <cp1251@firma.ua>\r\nOrganization: =?windows-1251?B?0vDg7fEtzOXy4Os=?=\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=windows-1251\r\nContent-Transfer-Encoding: 8bit\r\n\r\n".utf8)
        raw += cp1251("Добрий день! Папір А4, 40 пачок.") + [13, 10]
        return raw
    }

    @Test func windows1251HeadersAndBody() throws {
        let p = try EmailParser.parse(raw: Self.windows1251Message(), fallbackDate: Date())
        #expect(p.sender.company == "Транс-Метал")
        #expect(p.sender == .init(email: "petro@firma.ua", name: "Петро", company: "Транс-Метал"))
        #expect(p.subject == "Запит ціни")
        #expect(p.text == "Добрий день! Папір А4, 40 пачок.")
        #expect(p.receivedAt == utc("2026-03-02T08:00:00Z"))
    }

    @Test func htmlOnlyMailBecomesText() throws {
        let raw = Array("""
        From: Shop <shop@example.com>\r
        Subject: =?UTF-8?Q?=D0=97=D0=B0=D0=BC=D0=BE=D0=B2=D0=BB=D0=B5=D0=BD=D0=BD=D1=8F?=\r
        Date: Mon, 2 Mar 2026 10:00:00 +0000\r
        Content-Type: text/html; charset=utf-8\r
        \r
        <html><head><style>p {color: red}</style><title>x</title></head><body><p>Hello&nbsp;there,</p><p>order <b>#42</b> &amp; invoice&#33;</p><script>alert(1)</script><div>Line<br>break &laquo;ok&raquo;</div></body></html>\r

        """.utf8)
        let p = try EmailParser.parse(raw: raw, fallbackDate: Date())
        #expect(p.subject == "Замовлення")
        #expect(p.text == "Hello there,\n\norder #42 & invoice!\n\nLine\nbreak «ok»")
        // No Message-ID: the id is a hash of the bytes, the same on every run.
        #expect(p.externalID.hasPrefix("sha256:"))
        #expect(try EmailParser.parse(raw: raw, fallbackDate: Date()).externalID == p.externalID)
    }

    @Test func unparseableMessages() {
        #expect(throws: EmailParseError.self) { try EmailParser.parse(raw: [], fallbackDate: Date()) }
        #expect(throws: EmailParseError.self) { try EmailParser.parse(raw: Array("\r\n\r\n".utf8), fallbackDate: Date()) }
        #expect(throws: EmailParseError.self) {
            try EmailParser.parse(raw: [0x00, 0xFF, 0xFE, 0x01, 0x02, 0x80, 0x81, 0x00, 0x0A, 0x0A, 0x41], fallbackDate: Date())
        }
    }
}
