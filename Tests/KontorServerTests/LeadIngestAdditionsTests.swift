import Foundation
import KontorClient
import KontorDomain
import KontorProtocol
import KontorTestSupport
import Postgres
import Testing

/// The optional ingestion fields added for kontor-bridge phase 2 (`remote_name`,
/// `sender.company`, `edit_of`, an attachment without `size`) and the payload limits
/// (an empty text, a 15 KB `raw`, a `raw` over 256 KiB).
@Suite("Leads: optional ingestion fields and payload limits")
struct LeadIngestAdditionsTests {
    @Test("remote_name names the contact an unknown caller becomes; a name without letters, or a known caller, changes nothing")
    func remoteName() async throws {
        try await withWorld { w in
            let robot = try await w.robot()
            var call = simpleCall("rn-1", remote: "0671112233", at: kyivMorning, talk: 30)
            call.remoteName = "  Олег Петренко\n"
            let r = try await robot.ingest(call)
            let contact = try await w.admin.call("contact.get", ["id": num(r.contactID)])
            #expect(contact["full_name"] == "Олег Петренко")
            // The same person calls again with another caller id name: the card keeps its name.
            var again = simpleCall("rn-2", remote: "+380671112233", at: kyivMorning.addingTimeInterval(60), talk: 30)
            again.remoteName = "Someone Else"
            let r2 = try await robot.ingest(again)
            #expect(r2.contactID == r.contactID)
            #expect(try await w.admin.call("contact.get", ["id": num(r.contactID)])["full_name"] == "Олег Петренко")
            // A caller id "name" that is the number: no name.
            var digits = simpleCall("rn-3", remote: "0671112244", at: kyivMorning, talk: 0)
            digits.remoteName = "0671112244"
            let r3 = try await robot.ingest(digits)
            #expect(try await w.admin.call("contact.get", ["id": num(r3.contactID)])["full_name"] == .null)
            await robot.close()
        }
    }

    @Test("sender.company becomes the organisation of the contact a message makes")
    func senderCompany() async throws {
        try await withWorld { w in
            let robot = try await w.robot()
            var mail = simpleMail("co-1@firma.ua", from: "ivan@firma.ua", at: kyivMorning, name: "Іван Петренко")
            mail.sender.company = "ТОВ «Фірма»"
            let r = try await robot.ingest(mail)
            let contact = try await w.admin.call("contact.get", ["id": num(r.contactID)])
            #expect(contact["organization"] == "ТОВ «Фірма»")
            #expect(contact["full_name"] == "Іван Петренко")
            await robot.close()
        }
    }

    @Test("edit_of records an edit on the original's inquiry and lead, without a new inquiry; an unknown original is a new message")
    func edits() async throws {
        try await withWorld { w in
            let robot = try await w.robot()
            let original = try await robot.ingest(try Samples.telegram())
            var edit = try Samples.telegram()
            edit.externalID += ":edit:1569518400"
            edit.editOf = try Samples.telegram().externalID
            edit.text = "hello there, edited"
            edit.receivedAt = edit.receivedAt.addingTimeInterval(3 * 86_400)  // days later: outside the open-lead window
            let tables = ["contacts", "inquiries", "leads", "lead_status_history"]
            var before: [Int] = []
            for t in tables { before.append(try await w.count(t)) }
            let leadBefore = try await w.lead(original.leadID)
            let e = try await robot.ingest(edit)
            #expect(e.duplicate == false)
            #expect(e.messageID != original.messageID)
            #expect(e.contactID == original.contactID && e.inquiryID == original.inquiryID && e.leadID == original.leadID)
            #expect(e.leadStatus == "inquiry")
            var after: [Int] = []
            for t in tables { after.append(try await w.count(t)) }
            #expect(after == before, "no contact, inquiry, lead or status change")
            let card = try await w.admin.call("message.get", ["id": .number(String(e.messageID))])
            #expect(card["edit_of"]?.int64Value == original.messageID)
            #expect(card["text"] == "hello there, edited")
            #expect(try await w.admin.call("message.get", ["id": .number(String(original.messageID))])["edit_of"] == .null)
            let lead = try await w.lead(original.leadID)
            #expect(lead["inquiries"]?[0]?["messages"]?.int == 1, "an edit is not another message of the inquiry")
            #expect(lead["last_inquiry_at"] == leadBefore["last_inquiry_at"], "the lead is not touched")
            #expect(lead["version"] == leadBefore["version"])
            // Delivered again: duplicate, the first answer.
            let again = try await robot.ingest(edit)
            #expect(again.duplicate && again.messageID == e.messageID && again.inquiryID == e.inquiryID)
            // An edit of a message kontord never had: a message like any other.
            var orphan = try Samples.telegram()
            orphan.externalID = "555000101:9999:edit:1"
            orphan.editOf = "555000101:9999"
            let o = try await robot.ingest(orphan)
            #expect(o.inquiryID != nil)
            #expect(try await w.admin.call("message.get", ["id": .number(String(o.messageID))])["edit_of"] == .null)
            await robot.close()
        }
    }

    @Test("an attachment without a size, an empty text (attachments only) and a 15 KB raw payload are taken; raw over 256 KiB is refused")
    func payloads() async throws {
        try await withWorld { w in
            let robot = try await w.robot()
            var mail = simpleMail("att-1@firma.ua", from: "att@firma.ua", at: kyivMorning, text: "")
            mail.attachments = [.init(name: "price.pdf", contentType: "application/pdf", size: nil),
                                .init(name: "logo.png", contentType: "image/png", size: 1325)]
            mail.raw = ["cdr": .string(String(repeating: "абв", count: 2_600))]  // ~15 KB of JSON
            let r = try await robot.ingest(mail)
            #expect(r.inquiryID != nil)
            let card = try await w.admin.call("message.get", ["id": .number(String(r.messageID))])
            #expect(card["text"] == "")
            #expect(card["attachments"]?[0]?["size"] == .null)
            #expect(card["attachments"]?[1]?["size"]?.int == 1325)
            #expect(card["raw"]?["cdr"]?.stringValue?.count == 7_800)
            // The same over the wire, without the key at all.
            _ = try await robot.call("message.ingest", [
                "external_id": "att-2@firma.ua", "channel": "email", "sender": ["email": "att@firma.ua"], "text": "",
                "received_at": "2026-11-20T10:00:00+02:00", "attachments": [["name": "a.pdf"]],
            ])
            // raw beyond the limit: invalid_params naming raw, nothing recorded.
            var big = simpleMail("big-1@firma.ua", from: "big@firma.ua", at: kyivMorning)
            big.raw = ["x": .string(String(repeating: "x", count: IngestMethods.rawMaxBytes))]
            let messages = try await w.count("messages")
            do {
                _ = try await robot.ingest(big)
                Issue.record("a raw payload over the limit was taken")
            } catch let e as KontorError {
                #expect(e.kind == .invalidParams)
                #expect(e.data["field"] == .string("raw"))
            }
            var bigCall = simpleCall("big-call", remote: "0671112299", at: kyivMorning)
            bigCall.raw = big.raw
            #expect(await errorKind { _ = try await robot.ingest(bigCall) } == .invalidParams)
            #expect(try await w.count("messages") == messages)
            #expect(try await w.count("call_legs") == 0)
            await robot.close()
        }
    }
}
