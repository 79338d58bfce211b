import Foundation
import KontorDomain
import Testing

/// One entry of shared/samples/phones/ua_phone_written_forms.json.
private struct WrittenFormSample: Decodable {
    let input: String
    let expected_e164: String
    let type: String?
    let source: String?
}

/// The sample file: `$KONTOR_SAMPLES_DIR/phones/…` when the variable is set, else
/// `../shared/samples/phones/…` next to the checkout when it is there, else the copy
/// kept in `Tests/Fixtures/samples` (identical; a test checks it).
private func samplesFile() -> URL {
    let name = "phones/ua_phone_written_forms.json"
    if let dir = ProcessInfo.processInfo.environment["KONTOR_SAMPLES_DIR"], !dir.isEmpty {
        return URL(fileURLWithPath: dir).appendingPathComponent(name)
    }
    let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    let shared = tests.deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("shared/samples").appendingPathComponent(name)
    if FileManager.default.fileExists(atPath: shared.path) { return shared }
    return tests.appendingPathComponent("Fixtures/samples").appendingPathComponent(name)
}

@Suite("PhoneNormalizer")
struct PhoneNormalizerTests {
    let ua = PhoneNormalizer(defaultRegion: "UA")

    // MARK: Shared samples

    @Test("every shared written form normalises to its expected E.164")
    func sharedSamples() throws {
        let url = samplesFile()
        // A missing file is a failure, not a skip: the samples are the spec.
        let data = try #require(FileManager.default.contents(atPath: url.path),
                                "sample file missing: \(url.path)")
        let samples = try JSONDecoder().decode([WrittenFormSample].self, from: data)
        #expect(!samples.isEmpty, "no samples in \(url.path)")
        for sample in samples {
            let result = ua.normalize(sample.input)
            #expect(result.e164 == sample.expected_e164, "input \(String(reflecting: sample.input))")
            #expect(result.isValid, "input \(String(reflecting: sample.input))")
            #expect(result.written == sample.input)
            if let type = sample.type {
                #expect(result.kind.rawValue == type, "input \(String(reflecting: sample.input))")
            }
        }
    }

    // MARK: One line, many written forms

    @Test("Kyiv landline in every common written form",
          arguments: [
              "8 044 123 45 67", "+380 44 123 45 67", "044-123-45-67", "0441234567",
              "380441234567", "+38 (044) 123-45-67", "38(044)1234567", "8(044)123-45-67",
              "+380 (44) 123.45.67", "(044) 123 45 67", "441234567", "+3800441234567",
              "00380441234567", "тел.: 044 123 45 67", "tel:+380441234567",
              "\u{200E}+380\u{00A0}44\u{2009}123\u{2011}45\u{2011}67", "０４４ １２３ ４５ ６７",
              "044\t123\t45\t67", "\t044 123 45 67\r\n", "044 123 45 67\0",
              "044 123 45 67 (бухгалтерія)",
          ])
    func kyivForms(written: String) {
        let result = ua.normalize(written)
        #expect(result.e164 == "+380441234567")
        #expect(result.isValid)
        #expect(result.kind == .fixedLine)
        #expect(result.countryCode == 380)
        #expect(result.region == "UA")
        #expect(result.extensionNumber == nil)
        #expect(result.searchKey == "380441234567")
        #expect(result.written == written)
    }

    @Test("old Ukrainian trunk prefix 8 0XX", arguments: [
        ("8 044 123 45 67", "+380441234567"),
        ("8(050)1234567", "+380501234567"),
        ("8-067-123-45-67", "+380671234567"),
        ("8 0800 123 456", "+380800123456"),
    ])
    func oldTrunkPrefix(written: String, expected: String) {
        #expect(ua.normalize(written).e164 == expected)
    }

    @Test("mobile and service numbers are typed")
    func kinds() {
        #expect(ua.normalize("+38(050)123-45-67").kind == .mobile)
        #expect(ua.normalize("0 800 123 456").kind == .tollFree)
        #expect(ua.normalize("0 900 212 345").kind == .premiumRate)
        #expect(ua.normalize("089 123 4567").kind == .voip)
    }

    @Test("old international prefix 8 10")
    func oldInternationalPrefix() {
        let result = ua.normalize("8 10 48 22 123 45 67")
        #expect(result.e164 == "+48221234567")
        #expect(result.region == "PL")
    }

    // MARK: Foreign numbers

    @Test("foreign numbers with plus keep their country", arguments: [
        ("+48 22 123 45 67", "+48221234567", 48, "PL"),
        ("+1 650 253 0000", "+16502530000", 1, "US"),
        ("+44 20 7946 0018", "+442079460018", 44, "GB"),
        ("0048 22 123 45 67", "+48221234567", 48, "PL"),
    ])
    func foreign(written: String, e164: String, code: Int, region: String) {
        let result = ua.normalize(written)
        #expect(result.e164 == e164)
        #expect(result.countryCode == code)
        #expect(result.region == region)
        #expect(result.isValid)
    }

    @Test("another default region")
    func polishDefault() {
        let pl = PhoneNormalizer(defaultRegion: "pl")
        #expect(pl.defaultRegion == "PL")
        #expect(pl.normalize("22 123 45 67").e164 == "+48221234567")
        // The UA-only rewrites do not apply elsewhere.
        #expect(pl.normalize("8 044 123 45 67").e164 == nil)
        #expect(pl.normalize("+380 44 123 45 67").e164 == "+380441234567")
    }

    @Test("supported regions")
    func regions() {
        #expect(PhoneNormalizer.isSupportedRegion("UA"))
        #expect(PhoneNormalizer.isSupportedRegion("pl"))
        #expect(!PhoneNormalizer.isSupportedRegion("XX"))
        #expect(!PhoneNormalizer.isSupportedRegion(""))
        #expect(PhoneNormalizer(defaultRegion: "XX").normalize("044 123 45 67").e164 == nil)
        #expect(PhoneNormalizer(defaultRegion: "XX").normalize("+380 44 123 45 67").e164 == "+380441234567")
    }

    // MARK: Garbage

    @Test("garbage gives no E.164 but keeps a digit search key", arguments: [
        ("abc", ""),
        ("12", "12"),
        ("", ""),
        ("   \t\n", ""),
        ("123 45 67", "1234567"),       // local number without area code
        ("+380 44 123", "38044123"),    // too short
        ("0441234567890123", "0441234567890123"),  // too long
        ("+48 22 123 45 67 89 01 23", "48221234567890123"),
        ("8 10 99 123", "81099123"),
    ])
    func garbage(written: String, searchKey: String) {
        let result = ua.normalize(written)
        #expect(result.e164 == nil)
        #expect(result.number == nil)
        #expect(!result.isValid)
        #expect(result.kind == .unknown)
        #expect(result.countryCode == nil)
        #expect(result.region == nil)
        #expect(result.searchKey == searchKey)
        #expect(result.written == written)
    }

    @Test("a possible but unallocated number keeps its E.164 and is not valid")
    func possibleButInvalid() {
        let result = ua.normalize("+380 12 345 67 89")
        #expect(result.e164 == "+380123456789")
        #expect(!result.isValid)
        #expect(result.kind == .unknown)
    }

    // MARK: Extensions

    @Test("extensions are kept apart from the main number", arguments: [
        "044 123 45 67 доб. 12", "044 123 45 67 Доб.12", "044 123 45 67 (доб. 12)",
        "044 123 45 67 ext. 12", "044 123 45 67 EXT 12", "044 123 45 67 x12",
        "044 123 45 67 #12", "044 123 45 67 вн. 12", "044 123 45 67 внутр. 12",
        "044 123 45 67 дод. 12", "+380441234567;ext=12", "tel:+380441234567;ext=12",
        "044 123 45 67 доп. 12", "044 123 45 67 х 12", "044 123 45 67 extension: 12",
    ])
    func extensions(written: String) {
        let result = ua.normalize(written)
        #expect(result.e164 == "+380441234567")
        #expect(result.extensionNumber == "12")
        #expect(result.number?.extensionNumber == "12")
        #expect(result.searchKey == "380441234567")
    }

    @Test("an extension of an unreadable number is still reported")
    func extensionOfGarbage() {
        let result = ua.normalize("12 доб. 5")
        #expect(result.e164 == nil)
        #expect(result.extensionNumber == "5")
        #expect(result.searchKey == "12")
    }

    @Test("digits after unknown words: libphonenumber reads the whole text")
    func unknownTail() {
        // libphonenumber knows "anexo" (Spanish); we do not.
        let result = ua.normalize("044 123 45 67 anexo 12")
        #expect(result.e164 == "+380441234567")
        #expect(result.extensionNumber == "12")
        // Two glued numbers are not one number.
        let glued = ua.normalize("044 123 45 67 моб 050 123 45 67")
        #expect(glued.e164 == nil)
        #expect(glued.searchKey == "04412345670501234567")
    }

    // MARK: Formatting

    @Test("formatting")
    func formatting() throws {
        let number = try #require(ua.normalize("0441234567").number)
        #expect(number.formatted(.e164) == "+380441234567")
        #expect(number.formatted(.international) == "+380 44 123 4567")
        #expect(number.formatted(.national) == "044 123 4567")
        #expect(number.formatted(.rfc3966) == "tel:+380-44-123-4567")
        #expect(number.description == "+380 44 123 4567")
        #expect(number.digits == "380441234567")
        let withExtension = try #require(ua.normalize("044 123 45 67 доб. 12").number)
        #expect(withExtension.formatted(.national) == "044 123 4567 ext. 12")
        #expect(withExtension.formatted(.rfc3966) == "tel:+380-44-123-4567;ext=12")
        #expect(withExtension.formatted(.e164) == "+380441234567")
        let us = try #require(ua.normalize("+1 650 253 0000").number)
        #expect(us.formatted(.national) == "(650) 253-0000")
    }

    @Test("PhoneNumber checks the E.164 shape")
    func phoneNumberShape() {
        #expect(PhoneNumber(e164: "+380441234567") != nil)
        #expect(PhoneNumber(e164: "380441234567") == nil)
        #expect(PhoneNumber(e164: "+0441234567") == nil)
        #expect(PhoneNumber(e164: "+1234567890123456") == nil)  // 16 digits
        #expect(PhoneNumber(e164: "+38044 1234567") == nil)
        #expect(PhoneNumber(e164: "+380441234567", extensionNumber: "") == nil)
        #expect(PhoneNumber(e164: "+380441234567", extensionNumber: "12a") == nil)
        #expect(PhoneNumber(e164: "+380441234567", extensionNumber: "12") != PhoneNumber(e164: "+380441234567"))
        // An unknown country code still formats, as E.164.
        #expect(PhoneNumber(e164: "+999123456")?.formatted(.national) == "+999123456")
    }

    // MARK: Search keys

    @Test("search keys for a written fragment")
    func searchKeys() {
        #expect(ua.searchKeys(for: "8 044 123 45 67") == ["+380441234567"])
        #expect(ua.searchKeys(for: "+380441234567") == ["+380441234567"])
        // Digits that read both as a UA national number and as an
        // international one without the plus.
        #expect(ua.searchKeys(for: "48221234567") == ["+48221234567"])
        #expect(ua.searchKeys(for: "16502530000") == ["+16502530000"])
        #expect(ua.searchKeys(for: "123 45 67").isEmpty)
        #expect(ua.searchKeys(for: "abc").isEmpty)
        // Every written form of one line finds the same key.
        let forms = ["044-123-45-67", "0441234567", "380441234567", "8 044 123 45 67", "+38 044 123 45 67"]
        for form in forms {
            #expect(ua.searchKeys(for: form).first == "+380441234567", "\(form)")
        }
    }

    // MARK: Splitting

    @Test("split on list separators", arguments: [
        ("044 123 45 67, 050 123 45 67", ["044 123 45 67", "050 123 45 67"]),
        ("044 123 45 67; 050 123 45 67;", ["044 123 45 67", "050 123 45 67"]),
        ("044 123 45 67:::050 123 45 67", ["044 123 45 67", "050 123 45 67"]),
        ("044 123 45 67 / 050 123 45 67", ["044 123 45 67", "050 123 45 67"]),
        ("044/123-45-67", ["044/123-45-67"]),
        ("044 123 45 67\n050 123 45 67\r\n\r\n067 123 45 67", ["044 123 45 67", "050 123 45 67", "067 123 45 67"]),
        ("044 123 45 67, доб. 12; 050 123 45 67", ["044 123 45 67 доб. 12", "050 123 45 67"]),
        ("+380441234567;ext=12", ["+380441234567 ext=12"]),
        ("", []),
        (" ,; \t:::", []),
        ("(095) 234-5678\n", ["(095) 234-5678"]),
    ])
    func split(text: String, expected: [String]) {
        #expect(PhoneNormalizer.split(text) == expected)
    }

    @Test("split pieces normalise")
    func splitThenNormalize() {
        let keys = PhoneNormalizer.split("8 044 123 45 67, 050-123-45-67 доб. 3 / +48 22 123 45 67")
            .map { ua.normalize($0).e164 }
        #expect(keys == ["+380441234567", "+380501234567", "+48221234567"])
        #expect(ua.normalize("+380441234567 ext=12").extensionNumber == "12")
    }

    // MARK: Concurrency

    @Test("normalising from many tasks at once")
    func concurrent() async {
        let normalizer = ua
        let inputs = ["8 044 123 45 67", "+48 22 123 45 67", "abc", "044 123 45 67 доб. 12", "+1 650 253 0000"]
        let expected = inputs.map { normalizer.normalize($0) }
        let mismatches = await withTaskGroup(of: Int.self) { group in
            for task in 0..<32 {
                group.addTask {
                    var bad = 0
                    for round in 0..<200 {
                        let index = (task + round) % inputs.count
                        if normalizer.normalize(inputs[index]) != expected[index] { bad += 1 }
                    }
                    return bad
                }
            }
            return await group.reduce(0, +)
        }
        #expect(mismatches == 0)
    }
}
