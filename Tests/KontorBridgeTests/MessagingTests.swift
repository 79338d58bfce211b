import Foundation
import KontorBridge
import KontorProtocol
import Testing

/// Every messenger and site-form sample → the expected `message.ingest` params. Each
/// delivered to kontord (message, inquiry, lead; a second delivery changes nothing):
/// `EndToEndTests.everyMessageSampleMakesAMessageInquiryAndLead`.
@Suite struct MessagingTests {
    // MARK: Telegram

    @Test func telegramTextMessage() throws {
        let update = try JSONValue.parse(sample("messenger/telegram_update_message_text.json"))
        let p = try #require(try TelegramParser.parse(update: update, botUsername: "kontor_sales_bot").event)
        #expect(p.externalID == "555000101:6557")
        #expect(p.channel == .telegram)
        #expect(p.direction == .inbound)
        #expect(p.sender == .init(messengerID: "555000101", username: "olha_example", name: "Olha"))
        #expect(p.text == "hello there")
        #expect(p.receivedAt == Date(timeIntervalSince1970: 1569518342))
        #expect(p.threadID == "555000101")
        #expect(p.recipient == "kontor_sales_bot")
        #expect(p.raw == update)
    }

    /// The sample, with its `message` renamed and changed.
    func telegramVariant(_ kind: String = "message", _ change: (inout [String: JSONValue]) -> Void) throws -> JSONValue {
        guard case .object(var root) = try JSONValue.parse(sample("messenger/telegram_update_message_text.json")),
              case .object(var m)? = root["message"] else { throw PayloadError("shape") }
        change(&m)
        root["message"] = nil
        root[kind] = .object(m)
        return .object(root)
    }

    @Test func telegramEditIsANewMessage() throws {
        let edited = try telegramVariant("edited_message") { m in
            m["edit_date"] = 1569518400
            m["text"] = "hello there, edited"
        }
        let p = try #require(try TelegramParser.parse(update: edited, botUsername: nil).event)
        #expect(p.externalID == "555000101:6557:edit:1569518400")
        #expect(p.text == "hello there, edited")
        #expect(p.receivedAt == Date(timeIntervalSince1970: 1569518400))
        #expect(p.raw?["edited_message"] != nil)
    }

    @Test func telegramSharedContactGivesThePhone() throws {
        let shared = try telegramVariant { m in
            m["text"] = nil
            m["contact"] = ["phone_number": "+380671234567", "first_name": "Olha", "user_id": 555000101]
        }
        let p = try #require(try TelegramParser.parse(update: shared, botUsername: nil).event)
        #expect(p.sender.phone == "+380671234567")
        #expect(p.text == "[contact] Olha +380671234567")
        // Someone else's contact: in the text only.
        let other = try telegramVariant { m in
            m["text"] = nil
            m["contact"] = ["phone_number": "+380501112233", "first_name": "Petro", "user_id": 42]
        }
        let q = try #require(try TelegramParser.parse(update: other, botUsername: nil).event)
        #expect(q.sender.phone == nil)
        #expect(q.text == "[contact] Petro +380501112233")
    }

    @Test func telegramOtherUpdatesIgnored() throws {
        let u: JSONValue = ["update_id": 1, "callback_query": ["id": "1"]]
        #expect(try TelegramParser.parse(update: u, botUsername: nil).event == nil)
        #expect(throws: PayloadError.self) { try TelegramParser.parse(update: ["message": ["text": "x"]], botUsername: nil) }
    }

    // MARK: Viber

    @Test func viberMessageTokenSurvivesExactly() throws {
        let body = try sample("messenger/viber_callback_message_text_unicode.json")
        let p = try #require(try ViberParser.parse(body: body, botName: "KontorBot").event)
        // 4912661846655238145 > 2^53: a Double would make it 4912661846655238144.
        #expect(p.externalID == "4912661846655238145")
        #expect(p.channel == .viber)
        #expect(p.sender.messengerID == "01234567890A=")
        #expect(p.sender.name == "ふで都急ぼちラり面関ごル期販ずラ否裁ぞるめ数努むや正記味てょ")
        #expect(p.text.hasPrefix("批封廟根縄華勢田郎報株聞。"))
        #expect(p.receivedAt == Date(timeIntervalSince1970: 1457764197.627))
        #expect(p.threadID == "01234567890A=")
        #expect(p.recipient == "KontorBot")
        // ...and on the wire, after the spool round trip, too.
        let event = try SpoolEvent.message(p, source: "viber")
        #expect(event.params["external_id"] == "4912661846655238145")
        #expect(event.params["raw"]?["message_token"] == .number("4912661846655238145"))
        #expect(event.params.jsonText.contains("\"message_token\":4912661846655238145"))
    }

    @Test func viberConversationStartedContactAndIgnored() throws {
        let started = #"{"event":"conversation_started","timestamp":1457764197627,"message_token":4912661846655238146,"type":"open","context":"price-list","user":{"id":"01234567890A=","name":"Олена","language":"uk","country":"UA","api_version":8},"subscribed":false}"#
        let s = try #require(try ViberParser.parse(body: Array(started.utf8), botName: nil).event)
        #expect(s.externalID == "4912661846655238146")
        #expect(s.text == "[conversation started] price-list")
        #expect(s.sender.name == "Олена")
        let contact = #"{"event":"message","timestamp":1457764197627,"message_token":5000000000000000001,"sender":{"id":"abc=","name":"Олена"},"message":{"type":"contact","contact":{"name":"Олена","phone_number":"+380671234567"}}}"#
        let c = try #require(try ViberParser.parse(body: Array(contact.utf8), botName: nil).event)
        #expect(c.sender.phone == "+380671234567")
        #expect(c.text == "[contact] Олена +380671234567")
        let delivered = #"{"event":"delivered","timestamp":1457764197627,"message_token":491266184665523814,"user_id":"01234567890A="}"#
        #expect(try ViberParser.parse(body: Array(delivered.utf8), botName: nil).event == nil)
    }

    @Test func viberSignatureMatchesAnIndependentImplementation() throws {
        let body = try sample("messenger/viber_callback_message_text_unicode.json")
        // Computed with Python's hmac over the file's bytes.
        let expected = "e790ad8959a7222f6614115e9416917b6311747b7e59c8f28939b249e5ebc88e"
        #expect(ViberParser.signature(body: body, authToken: "viber-auth-token") == expected)
        #expect(ViberParser.verify(signature: expected, body: body, authToken: "viber-auth-token"))
        #expect(ViberParser.verify(signature: expected.uppercased(), body: body, authToken: "viber-auth-token"))
        #expect(!ViberParser.verify(signature: expected, body: body + [32], authToken: "viber-auth-token"))
        #expect(!ViberParser.verify(signature: "zz", body: body, authToken: "viber-auth-token"))
    }

    // MARK: Site forms

    @Test func webflowSubmission() throws {
        let body = try sample("webform/webflow_form_submission.json")
        let (fields, _) = try WebFormParser.fields(body: body, contentType: "application/json")
        let mapped = WebFormParser.map(fields, mapping: FormMapping())
        #expect(mapped.name == "Pipedream Test")
        #expect(mapped.email == "pipedream@test")
        #expect(mapped.message == "This is a test")
        #expect(mapped.phone == nil)
        let p = try WebFormParser.parse(body: body, contentType: "application/json", formName: "site", mapping: FormMapping(), receivedAt: Date())
        #expect(p.externalID == "site:6434d9d6071644bc075238ab")
        #expect(p.channel == .site)
        #expect(p.subject == "Email Form")
        #expect(p.recipient == "form:site")
        #expect(p.sender.name == "Pipedream Test")
        // `pipedream@test` has no dot in its domain: kept in the text, not as the sender's address.
        #expect(p.sender.email == nil)
        #expect(p.text == "This is a test\n\nE-mail: pipedream@test")
        #expect(p.receivedAt == utc("2023-04-11T03:53:58.624Z"))
    }

    @Test func tallyResponseDefaultAndMapped() throws {
        let body = try sample("webform/tally_form_response_webhook.json")
        let p = try WebFormParser.parse(body: body, contentType: "application/json", formName: "tally", mapping: FormMapping(), receivedAt: Date())
        #expect(p.externalID == "tally:jyqVba")
        #expect(p.subject == "TEST")
        #expect(p.text == "short answer: Test 1540 1")
        #expect(p.receivedAt == utc("2023-10-02T18:07:01Z"))
        let mapped = try WebFormParser.parse(body: body, contentType: "application/json", formName: "tally",
                                             mapping: FormMapping(message: ["short answer"]), receivedAt: Date())
        #expect(mapped.text == "Test 1540 1")
    }

    @Test func tallyTypedFieldsAndPlainHTMLForm() throws {
        let tally = #"{"eventId":"e1","eventType":"FORM_RESPONSE","createdAt":"2026-11-29T08:00:00Z","data":{"submissionId":"s1","formName":"Запит","fields":[{"key":"q1","label":"Ваше ім'я","type":"INPUT_TEXT","value":"Іван Петренко"},{"key":"q2","label":"Пошта для відповіді","type":"INPUT_EMAIL","value":"ivan@firma.ua"},{"key":"q3","label":"Номер","type":"INPUT_PHONE_NUMBER","value":"+380501234567"},{"key":"q4","label":"Що потрібно?","type":"TEXTAREA","value":"Папір А4, 20 пачок"},{"key":"q5","label":"Доставка","type":"MULTIPLE_CHOICE","value":["o2"],"options":[{"id":"o1","text":"Самовивіз"},{"id":"o2","text":"Нова пошта"}]}]}}"#
        let p = try WebFormParser.parse(body: Array(tally.utf8), contentType: "application/json", formName: "site", mapping: FormMapping(), receivedAt: Date())
        #expect(p.sender == .init(email: "ivan@firma.ua", phone: "+380501234567", name: "Іван Петренко"))
        #expect(p.text == "Папір А4, 20 пачок\n\nДоставка: Нова пошта")
        #expect(p.subject == "Запит")
        let form = "name=%D0%86%D0%B2%D0%B0%D0%BD&phone=%2B380501234567&email=ivan%40firma.ua&company=%D0%A2%D0%9E%D0%92+%D0%A4%D1%96%D1%80%D0%BC%D0%B0&message=%D0%9F%D0%BE%D1%82%D1%80%D1%96%D0%B1%D0%B5%D0%BD+%D0%BF%D0%B0%D0%BF%D1%96%D1%80"
        let q = try WebFormParser.parse(body: Array(form.utf8), contentType: "application/x-www-form-urlencoded", formName: "site",
                                        mapping: FormMapping(), receivedAt: utc("2026-11-29T09:00:00Z"))
        #expect(q.sender == .init(email: "ivan@firma.ua", phone: "+380501234567", name: "Іван", company: "ТОВ Фірма"))
        #expect(q.text == "Потрібен папір\n\nCompany: ТОВ Фірма")
        #expect(q.receivedAt == utc("2026-11-29T09:00:00Z"))
        #expect(q.externalID.hasPrefix("site:sha256:"))
        // The same body again is the same event.
        let again = try WebFormParser.parse(body: Array(form.utf8), contentType: nil, formName: "site", mapping: FormMapping(), receivedAt: Date())
        #expect(again.externalID == q.externalID)
    }
}
