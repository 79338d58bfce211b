import Foundation
import KontorBridge
import KontorClient
import KontorDomain
import KontorProtocol
import KontorTestSupport
import Testing

/// The bridge end to end against kontord's real `call.ingest` and `message.ingest`:
/// every sample (untouched, from `TestEnvironment.samplesDirectory`) parsed as the
/// bridge parses it, spooled, delivered by the sender with a robot token, and what it
/// made looked at as an admin (`call.get`, `lead.get`, `message.list`, `contact.get`)
/// and counted in the database. Replaying everything twice changes nothing.
@Suite(.serialized) struct EndToEndTests {
    // MARK: telephony

    /// The Binotel sample turned into a missed call from another client.
    static func binotelMissed() throws -> IngestMethods.CallIngestParams {
        guard case .object(var root) = try JSONValue.parse(sample("telephony/binotel_apiCallCompleted_answered.json")),
              case .object(var d)? = root["callDetails"] else { throw PayloadError("binotel sample shape") }
        d["callID"] = "612107650"
        d["generalCallID"] = "612107650"
        d["externalNumber"] = "0675550199"
        d["disposition"] = "NO ANSWER"
        d["billsec"] = "0"
        d["waitsec"] = "25"
        d["customerData"] = ["name": "Марія Коваль"]
        root["callDetails"] = .object(d)
        return try #require(try BinotelParser.parse(tree: .object(root)).event)
    }

    /// Every telephony sample (Binotel form and JSON, Twilio, FreeSWITCH, the Asterisk
    /// cdr_custom file) plus a missed Binotel call and a standard-layout Asterisk file with
    /// a ring group, from outside: the calls, inquiries, contacts and lead statuses.
    static func telephonyEvents() throws -> [SpoolEvent] {
        var out: [SpoolEvent] = []
        let plan = NumberPlan(ourNumbers: ["+380445550100"])
        out.append(try .call(try #require(try BinotelParser.parse(body: sample("telephony/binotel_apiCallCompleted_answered.form.txt"),
                                                                   contentType: "application/x-www-form-urlencoded").event), source: "binotel"))
        out.append(try .call(try #require(try BinotelParser.parse(body: sample("telephony/binotel_apiCallCompleted_answered.json"),
                                                                   contentType: "application/json").event), source: "binotel"))
        out.append(try .call(try binotelMissed(), source: "binotel"))
        out.append(try .call(try #require(try TwilioParser.parse(pairs: FormEncoding.pairs(sample("telephony/twilio_status_callback_completed.form.txt")),
                                                                  plan: plan, receivedAt: Date()).event), source: "twilio"))
        out.append(try .call(try #require(try FreeSwitchParser.parse(body: sample("telephony/freeswitch_mod_json_cdr_answered.json"),
                                                                      plan: plan).event), source: "freeswitch"))
        let custom = AsteriskCDR.parse(file: try sample("telephony/asterisk_Master_cdr_custom_pjsip.csv"), options: .init(timeZone: kyiv, plan: plan))
        #expect(custom.problems.isEmpty)
        out += try custom.calls.map { try .call($0, source: "asterisk") }
        let standard = AsteriskCDR.parse(file: AsteriskTests.standardFile(), options: .init(timeZone: kyiv, plan: plan))
        #expect(standard.problems.count == 1)  // the record without a start time is refused by the bridge
        out += try standard.calls.map { try .call($0, source: "asterisk") }
        return out
    }

    @Test func everyTelephonySampleMakesTheExpectedCallInquiryAndLead() async throws {
        let w = try await BridgeWorld.start()
        do {
            let events = try Self.telephonyEvents()
            try await w.deliver(events)
            #expect(try w.spool.deadLetterCount() == 0)

            // Binotel, form then JSON: one call (the JSON is the same record: duplicate).
            #expect(w.state.read().sources["binotel"]?.delivered == 3)
            #expect(w.state.read().sources["binotel"]?.duplicates == 1)
            let binotel = try #require(try await w.call(leg: "612107649"))
            #expect(binotel["kind"] == "incoming_answered")
            #expect(binotel["provider"] == "binotel")
            #expect(binotel["remote_number"] == "0675550123")
            #expect(binotel["talk_seconds"]?.int == 122)
            #expect(binotel["manager_id"]?.int64Value == w.manager.id, "line 901 is Olena's")
            #expect(binotel["legs"]?.items.count == 1)
            #expect(binotel["legs"]?[0]?["raw"]?["callDetails"]?["employeeName"] == "Оператор1")
            #expect(binotel["legs"]?[0]?["raw"]?["callDetails"]?["getCallData"]?["utm_campaign"] == "(not set}")
            let lead = try await w.lead(binotel["lead_id"])
            #expect(lead["status"] == "identification")
            #expect(lead["source"] == "phone")
            #expect(lead["owner_id"]?.int64Value == w.manager.id)
            #expect(lead["assigned_by"] == "line")
            #expect(lead["inquiries"]?.items.map { $0["kind"] } == ["call"])
            #expect(lead["inquiries"]?[0]?["id"] == binotel["inquiry_id"])
            #expect(lead["inquiries"]?[0]?["first_response_kind"] == "call_answered")
            #expect(lead["inquiries"]?[0]?["received_at"] == "2018-05-18T13:20:35+03:00")
            let caller = try await w.contact(binotel["contact_id"])
            #expect(caller["phones"]?[0]?["e164"] == "+380675550123")
            #expect(caller["group"] == "lead")
            #expect(caller["source"] == "phone")

            // The missed Binotel call: overdue at once; Binotel's customer name names the contact.
            let missed = try #require(try await w.call(leg: "612107650"))
            #expect(missed["kind"] == "incoming_missed")
            #expect(try await w.lead(missed["lead_id"])["status"] == "overdue_identification")
            let maria = try await w.contact(missed["contact_id"])
            #expect(maria["full_name"] == "Марія Коваль")
            #expect(maria["phones"]?[0]?["e164"] == "+380675550199")

            // Twilio: an outbound call to a stranger (Brazil) — no contact, inquiry or lead.
            let twilio = try #require(try await w.call(leg: "CA00000000000000000000000000000001"))
            #expect(twilio["kind"] == "outgoing_answered")
            #expect(twilio["remote_number"] == "+551135550112")
            #expect(twilio["talk_seconds"]?.int == 49)
            #expect(twilio["contact_id"] == .null)
            #expect(twilio["inquiry_id"] == .null)
            #expect(twilio["lead_id"] == .null)

            // FreeSWITCH: extension 1001 called 1002 — internal.
            let fs = try #require(try await w.call(leg: "3da8bf84-c133-4959-9e24-e72875cb33a1"))
            #expect(fs["kind"] == "internal")
            #expect(fs["talk_seconds"]?.int == 68)
            #expect(fs["inquiry_id"] == .null)

            // Asterisk cdr_custom sample: SIP peers dialling extensions — 14 internal calls.
            let custom = AsteriskCDR.parse(file: try sample("telephony/asterisk_Master_cdr_custom_pjsip.csv"), options: .init(timeZone: kyiv))
            for c in custom.calls {
                let call = try #require(try await w.call(leg: c.externalID), "\(c.externalID)")
                #expect(call["kind"] == "internal", "\(c.externalID)")
                #expect(call["inquiry_id"] == .null)
                #expect(call["talk_seconds"]?.int == c.talkSeconds)
            }

            // Asterisk standard layout: a ring group (missed on 101, answered on 102) is one
            // answered call and one inquiry; the caller id name names the new contact.
            let ring = try #require(try await w.call(leg: "1772438400.16#16"))
            #expect(ring["id"] == (try await w.call(leg: "1772438420.20#20"))?["id"])
            #expect(ring["kind"] == "incoming_answered")
            #expect(ring["legs"]?.items.count == 2)
            #expect(ring["talk_seconds"]?.int == 120)
            #expect(try await w.lead(ring["lead_id"])["inquiry_count"]?.int == 1)
            #expect(try await w.lead(ring["lead_id"])["status"] == "identification")
            #expect(try await w.contact(ring["contact_id"])["full_name"] == "Клієнт")
            let other = try #require(try await w.call(leg: "1772438405.18#18"))
            #expect(try await w.contact(other["contact_id"])["full_name"] == "Інший")
            // The windows-1251 caller name is no name (U+FFFD is no letter): kept in raw only.
            let cp1251 = try #require(try await w.call(leg: "1772442000.30#30"))
            #expect(try await w.contact(cp1251["contact_id"])["full_name"] == .null)
            #expect(cp1251["legs"]?[0]?["raw"]?["invalid_utf8"] == .bool(true))

            let once = try await w.counts()
            #expect(once["call_legs"] == events.count - 1)  // the Binotel JSON is the form's record
            #expect(once["inquiries"] == 5, "Binotel answered and missed, the ring group, Інший, the windows-1251 caller")

            // Replaying every sample twice changes nothing.
            let before = w.state.read().sources.values.map(\.duplicates).reduce(0, +)
            try await w.deliver(events + events)
            #expect(try await w.counts() == once)
            #expect(w.state.read().sources.values.map(\.duplicates).reduce(0, +) == before + 2 * events.count)
            #expect(try w.spool.deadLetterCount() == 0)
        } catch {
            Issue.record(error)
        }
        await w.stop()
    }

    // MARK: messages

    /// Every messenger, site-form and e-mail sample, plus a Telegram edit, a windows-1251
    /// e-mail and an HTML form post that names a company.
    static func messageEvents() throws -> [SpoolEvent] {
        var out: [SpoolEvent] = []
        let update = try JSONValue.parse(sample("messenger/telegram_update_message_text.json"))
        out.append(try .message(try #require(try TelegramParser.parse(update: update, botUsername: "kontor_sales_bot").event), source: "telegram"))
        guard case .object(var root) = update, case .object(var m)? = root["message"] else { throw PayloadError("telegram shape") }
        m["edit_date"] = 1569518400
        m["text"] = "hello there, edited"
        root["message"] = nil
        root["edited_message"] = .object(m)
        out.append(try .message(try #require(try TelegramParser.parse(update: .object(root), botUsername: "kontor_sales_bot").event),
                                source: "telegram"))
        out.append(try .message(try #require(try ViberParser.parse(body: sample("messenger/viber_callback_message_text_unicode.json"),
                                                                    botName: "KontorBot").event), source: "viber"))
        for (name, file) in [("site", "webform/webflow_form_submission.json"), ("tally", "webform/tally_form_response_webhook.json")] {
            out.append(try .message(try WebFormParser.parse(body: sample(file), contentType: "application/json", formName: name,
                                                            mapping: FormMapping(), receivedAt: Date()), source: "form:\(name)"))
        }
        let form = "name=%D0%86%D0%B2%D0%B0%D0%BD&phone=%2B380501234567&email=ivan%40firma.ua&company=%D0%A2%D0%9E%D0%92+%D0%A4%D1%96%D1%80%D0%BC%D0%B0&message=%D0%9F%D0%BE%D1%82%D1%80%D1%96%D0%B1%D0%B5%D0%BD+%D0%BF%D0%B0%D0%BF%D1%96%D1%80"
        out.append(try .message(try WebFormParser.parse(body: Array(form.utf8), contentType: "application/x-www-form-urlencoded", formName: "site",
                                                        mapping: FormMapping(), receivedAt: utc("2026-11-29T09:00:00Z")), source: "form:site"))
        for name in FilesTests.emailSamples {
            out.append(try .message(EmailParser.parse(raw: sample("email/" + name), fallbackDate: Date(timeIntervalSince1970: 0)), source: "email"))
        }
        out.append(try .message(EmailParser.parse(raw: EmailTests.windows1251Message(), fallbackDate: Date()), source: "email"))
        return out
    }

    @Test func everyMessageSampleMakesAMessageInquiryAndLead() async throws {
        let w = try await BridgeWorld.start()
        do {
            let events = try Self.messageEvents()
            try await w.deliver(events)
            #expect(try w.spool.deadLetterCount() == 0)
            let all = try await w.messages()
            #expect(all.count == events.count)

            /// The message, its lead, and checks common to inbound messages with a contact.
            func check(_ id: String, channel: String, subject: String?, text: String, senderName: String? = nil, senderEmail: String? = nil,
                       sourceLocation: SourceLocation = #_sourceLocation) async throws -> (message: JSONValue, lead: JSONValue) {
                let m = try #require(all[id], "message \(id)", sourceLocation: sourceLocation)
                #expect(m["channel"] == .string(channel), sourceLocation: sourceLocation)
                #expect(m["subject"] == (subject.map(JSONValue.string) ?? .null), "\(id) subject", sourceLocation: sourceLocation)
                #expect(m["text"] == .string(text), "\(id) text", sourceLocation: sourceLocation)
                if let senderName { #expect(m["sender"]?["name"] == .string(senderName), sourceLocation: sourceLocation) }
                if let senderEmail { #expect(m["sender"]?["email"] == .string(senderEmail), sourceLocation: sourceLocation) }
                #expect(m["inquiry_id"] != .null, "\(id) has its inquiry", sourceLocation: sourceLocation)
                let lead = try await w.lead(m["lead_id"])
                #expect(lead["status"] == "inquiry", "\(id)", sourceLocation: sourceLocation)
                #expect(lead["source"] == .string(channel), sourceLocation: sourceLocation)
                #expect(lead["inquiries"]?.items.contains { $0["id"] == m["inquiry_id"] } == true, sourceLocation: sourceLocation)
                return (m, lead)
            }

            // Telegram, and its edit: recorded on the original's inquiry, no inquiry of its own.
            let tg = try await check("555000101:6557", channel: "telegram", subject: nil, text: "hello there", senderName: "Olha")
            #expect(tg.message["sender"]?["messenger_id"] == "555000101")
            let edit = try #require(all["555000101:6557:edit:1569518400"])
            #expect(edit["edit_of"] == tg.message["id"])
            #expect(edit["text"] == "hello there, edited")
            #expect(edit["inquiry_id"] == tg.message["inquiry_id"])
            #expect(edit["lead_id"] == tg.message["lead_id"])
            #expect(tg.lead["inquiry_count"]?.int == 1)
            #expect(tg.lead["inquiries"]?[0]?["messages"]?.int == 1, "an edit is not another message of the inquiry")
            let olha = try await w.contact(tg.message["contact_id"])
            #expect(olha["messengers"]?[0]?["external_id"] == "555000101")

            // Viber: the token beyond 2^53, exactly.
            let viber = try await check("4912661846655238145", channel: "viber", subject: nil,
                                        text: try #require(all["4912661846655238145"]?["text"]?.stringValue),
                                        senderName: "ふで都急ぼちラり面関ごル期販ずラ否裁ぞるめ数努むや正記味てょ")
            #expect(viber.message["text"]?.stringValue?.hasPrefix("批封廟根縄華勢田郎報株聞。") == true)

            // Site forms: Webflow's address is not one (kept in the text); the HTML form
            // names a company, which becomes the new contact's organisation.
            _ = try await check("site:6434d9d6071644bc075238ab", channel: "site", subject: "Email Form", text: "This is a test\n\nE-mail: pipedream@test",
                                senderName: "Pipedream Test")
            let formID = try #require(all.keys.first { $0.hasPrefix("site:sha256:") })
            let ivan = try await check(formID, channel: "site", subject: nil, text: "Потрібен папір\n\nCompany: ТОВ Фірма", senderName: "Іван",
                                       senderEmail: "ivan@firma.ua")
            let ivanCard = try await w.contact(ivan.message["contact_id"])
            #expect(ivanCard["organization"] == "ТОВ Фірма")
            #expect(ivanCard["full_name"] == "Іван")
            #expect(ivanCard["phones"]?[0]?["e164"] == "+380501234567")
            // Tally's sample names nobody (no name, e-mail or phone): the message is kept
            // (admins see it) but makes no contact or inquiry — nobody could be answered.
            let tally = try #require(all["tally:jyqVba"])
            #expect(tally["subject"] == "TEST")
            #expect(tally["text"] == "short answer: Test 1540 1")
            #expect(tally["contact_id"] == .null)
            #expect(tally["inquiry_id"] == .null)

            // E-mail: KOI8-R, windows-1251, UTF-8 and ISO-8859 encoded words, attachments,
            // an attachment-only message with an empty text.
            _ = try await check("04.eml@mime.sample", channel: "email", subject: "Алфавит", text: "Вопрос", senderName: "Bug Reporter",
                                senderEmail: "new@thunderbird.bug")
            let cp = try await check("cp1251@firma.ua", channel: "email", subject: "Запит ціни", text: "Добрий день! Папір А4, 40 пачок.",
                                     senderName: "Петро", senderEmail: "petro@firma.ua")
            #expect(try await w.contact(cp.message["contact_id"])["organization"] == "Транс-Метал")
            _ = try await check("01.eml@mime.sample", channel: "email", subject: "αλφάβητο", text: "Άλφα", senderEmail: "new@thunderbird.bug")
            let png = try await check("02.eml@mime.sample", channel: "email", subject: "Test message from Microsoft Outlook 00",
                                      text: "Die Hasen und die Frösche", senderName: "Doug Sauder", senderEmail: "doug@example.com")
            #expect(png.message["attachments"]?.items.map { $0["size"] } == [1325, 1298, 1453])
            let empty = try await check("CAH_ZkVmUSM8t2JxgqcuLCQ8d+R_hkKpNHTubJOQK07y=36+d4Q@mail.gmail.com", channel: "email",
                                        subject: "Mail avec fichier attaché de 1ko", text: "", senderEmail: "name@company.com")
            #expect(empty.message["attachments"]?[0]?["name"] == "attach01")
            let lead = try await check("4cb5c7d0a3cce_120e..fdbed2b861958562@s.t-example.com.tmail", channel: "email",
                                       subject: "[Online Lead] Online Lead #1111111",
                                       text: try #require(all["4cb5c7d0a3cce_120e..fdbed2b861958562@s.t-example.com.tmail"]?["text"]?.stringValue),
                                       senderEmail: "l@gcn-example.com")
            #expect(lead.message["text"]?.stringValue?.hasPrefix("<?xml") == true)

            // Replaying every message twice changes nothing.
            let once = try await w.counts()
            try await w.deliver(events + events)
            #expect(try await w.counts() == once)
            #expect(w.state.read().sources.values.map(\.duplicates).reduce(0, +) == 2 * events.count)
        } catch {
            Issue.record(error)
        }
        await w.stop()
    }

    // MARK: limits

    /// A message kontord could never take as sent (a 3 MB text, a 600 KB raw payload,
    /// 600 attachments) is cut to fit before it is spooled, so it is delivered instead
    /// of blocking the queue.
    @Test func oversizedMessageIsCutToFitAndDelivered() async throws {
        let w = try await BridgeWorld.start()
        do {
            let text = String(repeating: "Папір А4. ", count: 300_000)
            let raw: JSONValue = ["big": .string(String(repeating: "x", count: 600_000)), "keep": "me"]
            let p = IngestMethods.MessageIngestParams(
                externalID: "huge@firma.ua", channel: .email, sender: .init(email: "huge@firma.ua"), subject: "Big", text: text,
                receivedAt: utc("2026-03-02T08:00:00Z"),
                attachments: (0..<600).map { .init(name: "f\($0).pdf", contentType: "application/pdf", size: $0) }, raw: raw)
            try await w.deliver([try .message(p, source: "email"), try .call(IngestMethods.CallIngestParams(
                externalID: "after-the-big-one", provider: "generic", direction: .inbound, remoteNumber: "0671234567",
                startedAt: utc("2026-03-02T08:00:00Z"), talkSeconds: 0), source: "pbx")])
            #expect(try w.spool.deadLetterCount() == 0)
            #expect(try w.spool.depth() == 0)
            let m = try #require(try await w.messages()["huge@firma.ua"])
            #expect(m["text"]?.stringValue?.hasSuffix("more characters not kept]") == true)
            #expect(m["attachments"]?.items.count == IngestMethods.attachmentsMax)
            let card = try await w.admin.call("message.get", ["id": m["id"] ?? .null])
            #expect(card["raw"]?["keep"] == "me")
            #expect(card["raw"]?["big"]?.stringValue?.hasPrefix("[dropped by kontor-bridge") == true)
            #expect(try await w.call(leg: "after-the-big-one") != nil, "the queue went on")
        } catch {
            Issue.record(error)
        }
        await w.stop()
    }

    // MARK: files read again

    /// A crash between spooling CDR records and saving the follower's offset (here: the
    /// offset file lost) spools them again; a plain mail folder run with `--keep` twice
    /// spools its messages twice. kontord keeps each once.
    @Test func filesReadAgainAreDeliveredOnce() async throws {
        let w = try await BridgeWorld.start()
        do {
            let file = w.dir.appendingPathComponent("Master.csv")
            try Data(FilesTests.lines.prefix(4).joined().utf8).write(to: file)
            let options = AsteriskCDR.Options(layout: .auto, timeZone: kyiv)
            #expect(try CDRFollower(path: file.path, options: options, spool: w.spool, state: w.state, logger: TestEnvironment.logger).poll() == 4)
            for name in try FileManager.default.contentsOfDirectory(atPath: w.dir.path) where name.hasPrefix("cdr-") {
                try FileManager.default.removeItem(at: w.dir.appendingPathComponent(name))
            }
            #expect(try CDRFollower(path: file.path, options: options, spool: w.spool, state: w.state, logger: TestEnvironment.logger).poll() == 4)

            let mail = w.dir.appendingPathComponent("mail")
            try FileManager.default.createDirectory(at: mail, withIntermediateDirectories: true)
            for name in FilesTests.emailSamples { try FileManager.default.copyItem(at: sampleURL("email/" + name), to: mail.appendingPathComponent(name)) }
            for _ in 0..<2 {
                #expect(try MailFolder(directory: mail, moveProcessed: false, spool: w.spool, state: w.state, logger: TestEnvironment.logger).runOnce().spooled == 5)
            }
            try await w.sender().drain()
            let counts = try await w.counts()
            #expect(counts["call_legs"] == 4)
            #expect(counts["messages"] == 5)
            #expect(w.state.read().sources["asterisk"]?.duplicates == 4)
            #expect(w.state.read().sources["email"]?.duplicates == 5)
        } catch {
            Issue.record(error)
        }
        await w.stop()
    }
}
