import Foundation
import KontorDomain
import KontorProtocol
import Testing

/// Review regressions (issue 2 review): the strict decoder promises "numbers must fit the
/// Swift type exactly (no rounding)", and money will be decoded as `Decimal`. Foundation's
/// `Decimal(string:)` accepts a valid prefix and ignores the rest, and rounds past 38
/// digits, so these currently decode silently to a different amount.
@Suite("Review: Decimal parameters are exact or refused")
struct ReviewDecimalTests {
    struct Amount: Decodable, Sendable { var amount: Decimal }

    @Test("a decimal string with trailing garbage or a comma is invalid_params, not a truncated amount",
          arguments: ["12,5", "1500.50abc", "0x10"])
    func garbageRefused(text: String) {
        let v: JSONValue = ["amount": .string(text)]
        #expect(throws: KontorError.self, "\(text) decoded to \(String(describing: try? JSONValueDecoder().decode(Amount.self, from: v).amount))") {
            _ = try JSONValueDecoder().decode(Amount.self, from: v)
        }
    }

    @Test("a number with more digits than Decimal holds is refused, not rounded")
    func noSilentRounding() {
        let text = "99999999999999999999999999999999999999999999999999.01"
        let v: JSONValue = ["amount": .number(text)]
        if let d = try? JSONValueDecoder().decode(Amount.self, from: v).amount {
            #expect(d.description == text, "decoded \(text) as \(d)")
        }
    }
}
