import Foundation
import KontorDomain
import KontorProtocol
import Testing

@Suite("JSON and the strict parameter decoder")
struct JSONTests {
    @Test("RFC 8259 parsing: exact numbers, escapes, surrogates, duplicates, depth, trailing data", arguments: [
        (#"{"a":4912661846655238145}"#, true),
        (#"{"a":-0.000000000000000000001e-7}"#, true),
        (#""\ud83d\ude00 \u00e9 \n\t\"""#, true),
        (#"{"a":1,"a":2}"#, false),
        (#"[1,2,]"#, false),
        (#"{"a":01}"#, false),
        (#"{"a":1} x"#, false),
        (#""\ud83d""#, false),
        ("\"tab\u{09}inside\"", false),
        (#"nul"#, false),
        ("\"\u{FF}\"", true),
        ("", false),
    ])
    func parsing(text: String, valid: Bool) {
        #expect(((try? JSONValue.parse(text)) != nil) == valid, "\(text)")
    }

    @Test("invalid UTF-8 inside a string is refused")
    func invalidUTF8() {
        let bytes: [UInt8] = [0x22, 0xC3, 0x28, 0x22]
        #expect(throws: JSONParseError.self) { try JSONValue.parse(bytes) }
    }

    @Test("nesting deeper than 64 is refused")
    func depth() {
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(deep) }
        let ok = String(repeating: "[", count: 60) + String(repeating: "]", count: 60)
        #expect((try? JSONValue.parse(ok)) != nil)
    }

    @Test("numbers beyond 2^53 survive a parse-write round trip exactly")
    func bigNumbers() throws {
        let text = #"{"message_token":4912661846655238145,"money":"1500.50","x":1.0e+300}"#
        let v = try JSONValue.parse(text)
        #expect(v["message_token"] == .number("4912661846655238145"))
        #expect(try JSONValue.parse(v.jsonText) == v)
        struct T: Decodable { var messageToken: Int64; var money: Money; var x: Double }
        let t = try JSONValueDecoder().decode(T.self, from: v)
        #expect(t.messageToken == 4_912_661_846_655_238_145)
        #expect(t.money == Money("1500.50"))
    }

    struct Params: Codable, Equatable {
        var fullName: String
        var phones: [Phone]
        var existingID: Int64?
        var when: Date?
        struct Phone: Codable, Equatable { var number: String; var label: String? }
    }

    @Test("snake_case keys, unknown fields refused with their path, wrong types named")
    func strictDecoding() throws {
        let d = JSONValueDecoder()
        let ok: JSONValue = ["full_name": "Olena", "phones": [["number": "044"]], "existing_id": 5, "when": "2026-03-29T09:00:00+03:00"]
        let p = try d.decode(Params.self, from: ok)
        #expect(p.fullName == "Olena" && p.existingID == 5 && p.phones[0].label == nil)
        func field(_ v: JSONValue) -> String? {
            do { _ = try d.decode(Params.self, from: v); return nil } catch let e as KontorError {
                #expect(e.kind == .invalidParams)
                return e.data["field"]?.description
            } catch { return "?" }
        }
        #expect(field(["full_name": "x", "phones": [], "ful_name": "typo"]) == "ful_name")
        #expect(field(["full_name": "x", "phones": [["number": "1", "lable": "home"]]]) == "phones[0].lable")
        #expect(field(["phones": []]) == "full_name")
        #expect(field(["full_name": 5, "phones": []]) == "full_name")
        #expect(field(["full_name": "x", "phones": [["number": 44]]]) == "phones[0].number")
        #expect(field(["full_name": "x", "phones": [], "existing_id": .number("1.5")]) == "existing_id")
        #expect(field(["full_name": "x", "phones": [], "when": "2026-03-29 09:00"]) == "when")
        #expect(field(["full_name": nil, "phones": []]) == "full_name")
    }

    @Test("the encoder writes snake_case, nulls for absent optionals, dates in the business zone")
    func encoding() throws {
        let kyiv = try #require(TimeZone(identifier: "Europe/Kyiv"))
        let e = JSONValueEncoder(timeZone: kyiv)
        let v = try e.encode(Params(fullName: "A", phones: [.init(number: "1", label: nil)], existingID: nil,
                                    when: RFC3339.parse("2026-07-01T00:00:00Z")))
        #expect(v["full_name"] == "A")
        #expect(v["existing_id"] == .null)
        #expect(v["phones"]?.arrayValue?.first?["label"] == .null)
        #expect(v["when"] == "2026-07-01T03:00:00+03:00")
        let counts: [String: Int] = ["Telegram": 2, "e-mail": 1]
        #expect(try e.encode(counts)["Telegram"] == 2)
    }

    @Test("JSON-RPC: requests, notifications, batches, and what is not a request")
    func jsonrpc() {
        func kind(_ s: String) -> ErrorKind? {
            if case .single(.failure(let e)) = JSONRPC.read(line: Array(s.utf8)) { return e.error.kind }
            return nil
        }
        #expect(kind("{") == .parseError)
        #expect(kind("42") == .invalidRequest)
        #expect(kind(#"{"jsonrpc":"2.0","id":1}"#) == .invalidRequest)
        #expect(kind(#"{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}"#) == .invalidRequest)
        #expect(kind(#"{"jsonrpc":"2.0","id":1,"method":"ping","params":[1]}"#) == .invalidParams)
        #expect(kind(#"{"jsonrpc":"2.0","id":1,"method":"ping","extra":true}"#) == .invalidRequest)
        #expect(kind("[]") == .invalidRequest)
        if case .single(.success(let r)) = JSONRPC.read(line: Array(#"{"jsonrpc":"2.0","method":"ping"}"#.utf8)) {
            #expect(r.id == nil)
        } else { Issue.record("a notification should parse") }
        if case .batch(let items) = JSONRPC.read(line: Array(#"[{"jsonrpc":"2.0","id":"x","method":"a"},5]"#.utf8)) {
            #expect(items.count == 2)
        } else { Issue.record("a batch should parse") }
        let line = JSONRPC.errorLine(id: .string("q"), error: KontorError(.duplicate, "exists", data: ["existing_id": .int(7)]))
        guard case .error(let id, let err)? = try? JSONRPCMessage.parse(Array(line.utf8)) else { Issue.record("bad error line"); return }
        #expect(id == .string("q") && err.kind == .duplicate && err.data["existing_id"] == .int(7))
    }
}

@Suite("Money and RFC 3339")
struct ValueTests {
    @Test("money parses only exact decimals with at most two fraction digits", arguments: [
        ("1500.50", Int64(150050)), ("-20", -2000), ("0.05", 5), ("+3.5", 350), (".5", 50), ("999999999999.99", 99_999_999_999_999),
    ])
    func moneyValid(text: String, kopecks: Int64) {
        #expect(Money(text)?.kopecks == kopecks)
    }

    @Test("money refuses floats, commas, exponents, excess digits and overflow", arguments: [
        "1.005", "1,50", "1e3", "", "-", ".", "abc", "1000000000000.00", "NaN", " 1", "1.2.3",
    ])
    func moneyInvalid(text: String) {
        #expect(Money(text) == nil)
    }

    @Test("money prints two fraction digits")
    func moneyPrint() {
        #expect(Money(kopecks: -5).description == "-0.05")
        #expect(Money(kopecks: 150050).description == "1500.50")
        #expect((Money("10")! - Money("10.01")!).description == "-0.01")
    }

    @Test("RFC 3339 needs an offset and rejects impossible dates")
    func rfc3339() throws {
        #expect(RFC3339.parse("2026-03-29T09:00:00+03:00") == RFC3339.parse("2026-03-29T06:00:00Z"))
        #expect(RFC3339.parse("2026-03-29T09:00:00") == nil)
        #expect(RFC3339.parse("2026-02-29T09:00:00Z") == nil)
        #expect(RFC3339.parse("2024-02-29T09:00:00Z") != nil)
        #expect(RFC3339.parse("2026-13-01T00:00:00Z") == nil)
        let kyiv = try #require(TimeZone(identifier: "Europe/Kyiv"))
        // DST starts in Kyiv on 2026-03-29 at 03:00 local (01:00 UTC).
        #expect(RFC3339.format(RFC3339.parse("2026-03-29T00:59:59Z")!, timeZone: kyiv) == "2026-03-29T02:59:59+02:00")
        #expect(RFC3339.format(RFC3339.parse("2026-03-29T01:00:00Z")!, timeZone: kyiv) == "2026-03-29T04:00:00+03:00")
        let d = Date(timeIntervalSince1970: 1_764_442_800.25)
        #expect(RFC3339.parse(RFC3339.format(d, timeZone: kyiv)) == d)
    }
}
