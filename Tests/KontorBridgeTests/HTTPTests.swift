import Foundation
import KontorBridge
import KontorProtocol
import KontorTestSupport
import Testing

/// Every webhook sample POSTed to the running bridge over real TCP: 2xx only with a good
/// secret or signature (and then the event is in the spool), 4xx otherwise with nothing
/// spooled, 5xx when the spool cannot be written.
@Suite struct HTTPTests {
    static let binotelSecret = "binotel-secret-0123456789"
    static let formSecret = "form-secret-0123456789ab"

    static func configuration(_ dir: URL) -> BridgeConfiguration {
        var c = BridgeConfiguration()
        c.httpPort = 0
        c.spoolDirectory = dir
        c.publicURL = "https://bridge.example.ua"
        c.binotel = .init(secret: binotelSecret)
        c.pbx = .init(secret: "pbx-secret-0123456789abc")
        c.twilio = .init(authToken: "twilio-auth-token")
        c.telegram = .init(secretToken: "telegram-secret-0123456789", botUsername: "kontor_sales_bot")
        c.viber = .init(authToken: "viber-auth-token", botName: "KontorBot")
        c.forms = ["site": .init(secret: formSecret), "tally": .init(secret: formSecret, mapping: FormMapping(message: ["short answer"]))]
        return c
    }

    /// Runs `body` with a bridge listening on a free port and an empty spool.
    func withBridge(_ configure: (inout BridgeConfiguration) -> Void = { _ in },
                    _ body: (Int, Spool, StateStore, URL) async throws -> Void) async throws {
        let dir = try temporaryDirectory("http")
        var config = Self.configuration(dir)
        configure(&config)
        let spool = try Spool(directory: dir), state = try StateStore(directory: dir)
        let server = try await WebhookServer(configuration: config, spool: spool, state: state, logger: TestEnvironment.logger).start()
        do { try await body(server.port, spool, state, dir) } catch { Issue.record(error) }
        await server.stop()
        try? FileManager.default.removeItem(at: dir)
    }

    @Test func binotelJSONAndFormWithPathSecret() async throws {
        try await withBridge { port, spool, state, _ in
            let json = try sample("telephony/binotel_apiCallCompleted_answered.json")
            let form = try sample("telephony/binotel_apiCallCompleted_answered.form.txt")
            var r = try await post(port: port, path: "/hooks/binotel/wrong-secret-0123456789", body: json, headers: ["Content-Type": "application/json"])
            #expect(r.status == 403)
            r = try await post(port: port, path: "/hooks/binotel", body: json)
            #expect(r.status == 404)
            #expect(try spool.depth() == 0)
            r = try await post(port: port, path: "/hooks/binotel/\(Self.binotelSecret)", body: json, headers: ["Content-Type": "application/json"])
            #expect(r.status == 200)
            #expect(r.body == #"{"status":"success"}"#)
            r = try await post(port: port, path: "/hooks/binotel/\(Self.binotelSecret)", body: form, headers: ["Content-Type": "application/x-www-form-urlencoded"])
            #expect(r.status == 200)
            let pending = try spool.pending()
            #expect(pending.count == 2)
            #expect(pending.allSatisfy { $0.method == "call.ingest" && $0.source == "binotel" && $0.key == "612107649" })
            let expected = try #require(try BinotelParser.parse(body: json, contentType: nil).event)
            #expect(pending[0].params == (try SpoolEvent.call(expected, source: "binotel").params))
            // Bad payload with a good secret: 400, nothing spooled.
            r = try await post(port: port, path: "/hooks/binotel/\(Self.binotelSecret)", body: Array("{\"requestType\":\"apiCallCompleted\"}".utf8),
                               headers: ["Content-Type": "application/json"])
            #expect(r.status == 400)
            #expect(try spool.depth() == 2)
            #expect(state.read().sources["binotel"]?.spooled == 2)
            #expect(state.read().sources["binotel"]?.rejected == 2)
        }
    }

    @Test func twilioSignature() async throws {
        try await withBridge { port, spool, _, _ in
            let body = try sample("telephony/twilio_status_callback_completed.form.txt")
            let good = TwilioParser.signature(url: "https://bridge.example.ua/hooks/twilio", pairs: FormEncoding.pairs(body), authToken: "twilio-auth-token")
            var r = try await post(port: port, path: "/hooks/twilio", body: body)
            #expect(r.status == 403)
            r = try await post(port: port, path: "/hooks/twilio", body: body, headers: ["X-Twilio-Signature": "hj1+8hP12emyVgkvJrqVf2u+HBA="])
            #expect(r.status == 403)
            // Signed for another URL.
            let other = TwilioParser.signature(url: "https://evil.example/hooks/twilio", pairs: FormEncoding.pairs(body), authToken: "twilio-auth-token")
            r = try await post(port: port, path: "/hooks/twilio", body: body, headers: ["X-Twilio-Signature": other])
            #expect(r.status == 403)
            #expect(try spool.depth() == 0)
            r = try await post(port: port, path: "/hooks/twilio", body: body, headers: ["X-Twilio-Signature": good])
            #expect(r.status == 200)
            #expect(try spool.pending().map(\.key) == ["CA00000000000000000000000000000001"])
            // A signed non-final status: acknowledged, nothing spooled.
            let ringing = Array(String(decoding: body, as: UTF8.self).replacingOccurrences(of: "CallStatus=completed", with: "CallStatus=ringing").utf8)
            let sig = TwilioParser.signature(url: "https://bridge.example.ua/hooks/twilio", pairs: FormEncoding.pairs(ringing), authToken: "twilio-auth-token")
            r = try await post(port: port, path: "/hooks/twilio", body: ringing, headers: ["X-Twilio-Signature": sig])
            #expect(r.status == 200)
            #expect(try spool.depth() == 1)
        }
    }

    @Test func freeswitchNotConfiguredIs404AndGenericPBX() async throws {
        try await withBridge { port, spool, _, _ in
            var r = try await post(port: port, path: "/hooks/freeswitch/anything-0123456789",
                                   body: try sample("telephony/freeswitch_mod_json_cdr_answered.json"))
            #expect(r.status == 404)
            let pbx = #"{"id":"pbx-7","from":"0671234567","to":"101","started_at":"2026-11-29T10:00:00+02:00","talk_seconds":30,"answered_at":"2026-11-29T10:00:05+02:00"}"#
            r = try await post(port: port, path: "/hooks/pbx/pbx-secret-0123456789abc", body: Array(pbx.utf8))
            #expect(r.status == 200)
            #expect(try spool.pending().first?.params["manager_line"] == "101")
        }
        try await withBridge({ $0.freeswitch = .init(secret: "fs-secret-0123456789abcd") }) { port, spool, _, _ in
            let r = try await post(port: port, path: "/hooks/freeswitch/fs-secret-0123456789abcd",
                                   body: try sample("telephony/freeswitch_mod_json_cdr_answered.json"))
            #expect(r.status == 200)
            #expect(try spool.pending().first?.key == "3da8bf84-c133-4959-9e24-e72875cb33a1")
        }
    }

    @Test func telegramSecretHeader() async throws {
        try await withBridge { port, spool, _, _ in
            let body = try sample("messenger/telegram_update_message_text.json")
            var r = try await post(port: port, path: "/hooks/telegram", body: body)
            #expect(r.status == 403)
            r = try await post(port: port, path: "/hooks/telegram", body: body, headers: ["X-Telegram-Bot-Api-Secret-Token": "telegram-secret-012345678X"])
            #expect(r.status == 403)
            #expect(try spool.depth() == 0)
            r = try await post(port: port, path: "/hooks/telegram", body: body, headers: ["X-Telegram-Bot-Api-Secret-Token": "telegram-secret-0123456789"])
            #expect(r.status == 200)
            let e = try #require(try spool.pending().first)
            #expect(e.method == "message.ingest")
            #expect(e.params["external_id"] == "555000101:6557")
            #expect(e.params["recipient"] == "kontor_sales_bot")
            r = try await post(port: port, path: "/hooks/telegram", body: Array("not json".utf8), headers: ["X-Telegram-Bot-Api-Secret-Token": "telegram-secret-0123456789"])
            #expect(r.status == 400)
            #expect(try spool.depth() == 1)
        }
    }

    @Test func viberSignatureAndExactToken() async throws {
        try await withBridge { port, spool, _, dir in
            let body = try sample("messenger/viber_callback_message_text_unicode.json")
            let good = ViberParser.signature(body: body, authToken: "viber-auth-token")
            var r = try await post(port: port, path: "/hooks/viber", body: body)
            #expect(r.status == 403)
            r = try await post(port: port, path: "/hooks/viber", body: body + [10], headers: ["X-Viber-Content-Signature": good])
            #expect(r.status == 403)
            #expect(try spool.depth() == 0)
            r = try await post(port: port, path: "/hooks/viber", body: body, headers: ["X-Viber-Content-Signature": good])
            #expect(r.status == 200)
            // The token is in the spool file as written, digit for digit.
            let segment = try String(contentsOf: dir.appendingPathComponent("segments/000000000001.jsonl"), encoding: .utf8)
            #expect(segment.contains(#""external_id":"4912661846655238145""#))
            #expect(segment.contains(#""message_token":4912661846655238145"#))
        }
    }

    @Test func formsWithSecretAndMapping() async throws {
        try await withBridge { port, spool, _, _ in
            let webflow = try sample("webform/webflow_form_submission.json")
            let tally = try sample("webform/tally_form_response_webhook.json")
            var r = try await post(port: port, path: "/hooks/form/site/wrong", body: webflow)
            #expect(r.status == 403)
            r = try await post(port: port, path: "/hooks/form/nosuch/\(Self.formSecret)", body: webflow)
            #expect(r.status == 404)
            #expect(try spool.depth() == 0)
            r = try await post(port: port, path: "/hooks/form/site/\(Self.formSecret)", body: webflow, headers: ["Content-Type": "application/json"])
            #expect(r.status == 200)
            r = try await post(port: port, path: "/hooks/form/tally/\(Self.formSecret)", body: tally, headers: ["Content-Type": "application/json"])
            #expect(r.status == 200)
            let pending = try spool.pending()
            #expect(pending.map(\.source) == ["form:site", "form:tally"])
            #expect(pending[0].params["sender"]?["name"] == "Pipedream Test")
            #expect(pending[1].params["text"] == "Test 1540 1")
        }
    }

    @Test func oversizedBodyIs413() async throws {
        try await withBridge({ $0.maxBodyBytes = 1000 }) { port, spool, _, _ in
            let r = try await post(port: port, path: "/hooks/binotel/\(Self.binotelSecret)",
                                   body: try sample("telephony/binotel_apiCallCompleted_answered.form.txt"))
            #expect(r.status == 413)
            #expect(try spool.depth() == 0)
        }
    }

    @Test func spoolThatCannotBeWrittenIs503() async throws {
        try await withBridge { port, spool, state, dir in
            // The spool's segment folder is replaced by a plain file: appends fail.
            let segments = dir.appendingPathComponent("segments")
            try FileManager.default.removeItem(at: segments)
            try Data("not a folder".utf8).write(to: segments)
            let r = try await post(port: port, path: "/hooks/binotel/\(Self.binotelSecret)",
                                   body: try sample("telephony/binotel_apiCallCompleted_answered.json"), headers: ["Content-Type": "application/json"])
            #expect(r.status == 503)
            #expect(state.read().lastError?.contains("spool") == true)
            try FileManager.default.removeItem(at: segments)
            try FileManager.default.createDirectory(at: segments, withIntermediateDirectories: true)
            #expect(try spool.depth() == 0)
        }
    }
}
