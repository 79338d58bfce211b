import KontorDomain
import Testing

@Suite("EmailAddress")
struct EmailAddressTests {
    @Test("written forms of one address are equal", arguments: [
        "ivan.petrenko@firma.ua", "Ivan.Petrenko@Firma.UA", "  ivan.petrenko@firma.ua\t\r\n",
        "<ivan.petrenko@firma.ua>", "Іван Петренко <Ivan.Petrenko@firma.ua>",
        "mailto:ivan.petrenko@firma.ua", "MAILTO:Ivan.Petrenko@firma.ua?subject=Order%2012",
        "<mailto:ivan.petrenko@firma.ua>", "\u{FEFF}ivan.petrenko@firma.ua\u{200B}",
        "\"Petrenko, Ivan\" <ivan.petrenko@firma.ua>",
    ])
    func equalForms(written: String) throws {
        let email = try #require(EmailAddress(written), "\(String(reflecting: written))")
        #expect(email.normalized == "ivan.petrenko@firma.ua")
        #expect(email.localPart == "ivan.petrenko")
        #expect(email.domain == "firma.ua")
        #expect(email == EmailAddress("ivan.petrenko@firma.ua"))
    }

    @Test("the written case is kept for display")
    func displayCase() throws {
        let email = try #require(EmailAddress(" <Ivan.Petrenko@Firma.ua> "))
        #expect(email.address == "Ivan.Petrenko@Firma.ua")
        #expect(email.description == "Ivan.Petrenko@Firma.ua")
        #expect(email.normalized == "ivan.petrenko@firma.ua")
        #expect(Set([email, EmailAddress("ivan.petrenko@firma.ua")]).count == 1)
    }

    @Test("IDN domains stay Unicode, lower-cased")
    func idn() throws {
        let email = try #require(EmailAddress("Info@Пошта.УКР"))
        #expect(email.normalized == "info@пошта.укр")
        #expect(email.domain == "пошта.укр")
        #expect(EmailAddress("Müller@Bücher.DE")?.normalized == "müller@bücher.de")
        // Composed and decomposed ü give one key.
        #expect(EmailAddress("mu\u{0308}ller@bu\u{0308}cher.de")?.normalized.unicodeScalars.count
                == "müller@bücher.de".unicodeScalars.count)
    }

    @Test("common valid shapes", arguments: [
        "a@b.co", "first.last+tag@sub.firma.com.ua", "o'brien@example.ie", "1234@123.ua",
        "sales-dept@xn--80a1acny.xn--j1amh", "user_name@my-firma.ua",
    ])
    func valid(written: String) {
        #expect(EmailAddress.normalize(written).address != nil, "\(written)")
    }

    /// Inputs and the reason each must be rejected for.
    static let rejections: [(String, EmailAddressError)] = {
        let longLocal = String(repeating: "a", count: 65) + "@firma.ua"
        let longLabel = "ivan@" + String(repeating: "a", count: 64) + ".ua"
        let longDomain = "ivan@" + Array(repeating: "abcdefghi", count: 26).joined(separator: ".") + ".ua"
        let list: [(String, EmailAddressError)] = [
            ("", .empty),
            ("  \t ", .empty),
            ("<>", .empty),
            ("mailto:", .empty),
            ("ivan petrenko@firma.ua", .containsWhitespace),
            ("ivan@firma.ua\tolga@firma.ua", .containsWhitespace),
            ("ivan.firma.ua", .missingAt),
            ("ivan@@firma.ua", .multipleAt),
            ("ivan@firma.ua@x.ua", .multipleAt),
            ("@firma.ua", .emptyLocalPart),
            ("ivan@", .emptyDomain),
            (longLocal, .localPartTooLong),
            (longLabel, .domainTooLong),
            (longDomain, .domainTooLong),
            (".ivan@firma.ua", .invalidLocalPart),
            ("ivan.@firma.ua", .invalidLocalPart),
            ("iv..an@firma.ua", .invalidLocalPart),
            ("ivan,olga@firma.ua", .invalidLocalPart),
            ("ivan@firma..ua", .invalidDomain),
            ("ivan@.firma.ua", .invalidDomain),
            ("ivan@firma.ua.", .invalidDomain),
            ("ivan@-firma.ua", .invalidDomain),
            ("ivan@firma_x.ua", .invalidDomain),
            ("ivan@192.168.0.1", .invalidDomain),
            ("ivan@[192.168.0.1]", .invalidDomain),
            ("ivan@localhost", .domainWithoutDot),
            ("ivan@firma", .domainWithoutDot),
        ]
        return list
    }()

    @Test("rejections carry a reason", arguments: rejections)
    func invalid(written: String, reason: EmailAddressError) {
        let result = EmailAddress.normalize(written)
        #expect(result == .invalid(reason), "\(String(reflecting: written))")
        #expect(result.error == reason)
        #expect(result.address == nil)
        #expect(EmailAddress(written) == nil)
    }
}
