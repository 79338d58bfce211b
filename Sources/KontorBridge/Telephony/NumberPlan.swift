import Foundation
import KontorDomain
import KontorProtocol

/// Which numbers are ours (our DIDs, extensions, SIP peers) and which are the client's.
///
/// Providers that say the direction themselves (Binotel `callType`, Twilio `Direction`)
/// are believed; for CDR files and generic JSON the plan decides:
/// * a number in `ourNumbers` (any written form; compared as E.164) is one of our lines;
/// * an extension is ours: a string of at most `extensionMaxDigits` digits (default 5),
///   or anything matching one of `extensionPatterns`, or a SIP peer name / URI (text
///   with letters, e.g. `client1`, `sip:101@pbx`) — clients' numbers are digits;
/// * anything else is the client's.
public struct NumberPlan: Sendable, Equatable {
    /// Our DIDs/lines as written in configuration.
    public var ourNumbers: [String]
    /// Digit strings of at most this length are extensions (0 disables the rule).
    public var extensionMaxDigits: Int
    /// Regular expressions (whole-string match) for extensions.
    public var extensionPatterns: [String]
    /// Region for reading national numbers (`UA`).
    public var region: String

    private let ourKeys: Set<String>

    /// A plan; the defaults know no DIDs and take numbers of up to 5 digits as extensions.
    public init(ourNumbers: [String] = [], extensionMaxDigits: Int = 5, extensionPatterns: [String] = [], region: String = "UA") {
        self.ourNumbers = ourNumbers
        self.extensionMaxDigits = extensionMaxDigits
        self.extensionPatterns = extensionPatterns
        self.region = region
        let n = PhoneNormalizer(defaultRegion: region)
        ourKeys = Set(ourNumbers.map { NumberPlan.key(n.normalize($0)) })
    }

    public static func == (a: NumberPlan, b: NumberPlan) -> Bool {
        a.ourNumbers == b.ourNumbers && a.extensionMaxDigits == b.extensionMaxDigits
            && a.extensionPatterns == b.extensionPatterns && a.region == b.region
    }

    private static func key(_ p: NormalizedPhone) -> String { p.e164 ?? p.searchKey }

    /// Caller-id values that mean "hidden".
    static let hiddenWords: Set<String> = ["anonymous", "unknown", "restricted", "private", "withheld", "unavailable", "hidden"]

    /// The number as written, or nil when it is empty or a "hidden caller id" word.
    public static func clean(_ s: String?) -> String? {
        guard let t = s?.nonEmpty else { return nil }
        if hiddenWords.contains(t.lowercased()) { return nil }
        return t
    }

    /// A caller id name worth naming a contact by: it has a letter and is not the number
    /// itself (PBXs often repeat the number, or say `Unknown`); nil otherwise.
    public static func callerName(_ name: String?, number: String?) -> String? {
        guard let n = name?.nonEmpty, n.contains(where: \.isLetter), !hiddenWords.contains(n.lowercased()) else { return nil }
        if let number, n == number { return nil }
        return n
    }

    /// True for one of our DIDs.
    public func isOurLine(_ s: String?) -> Bool {
        guard let s = NumberPlan.clean(s), !ourKeys.isEmpty else { return false }
        return ourKeys.contains(NumberPlan.key(PhoneNormalizer(defaultRegion: region).normalize(s)))
    }

    /// True for an extension or an internal SIP peer.
    public func isExtension(_ s: String?) -> Bool {
        guard let s = NumberPlan.clean(s) else { return false }
        for p in extensionPatterns {
            if let r = try? Regex(p), (try? r.wholeMatch(in: s)) != nil { return true }
        }
        let phoneShape = s.allSatisfy { $0.isASCII && ($0.isNumber || " +-().".contains($0)) }
        if !phoneShape {
            // Letters: a SIP peer or URI (`client1`, `sip:101@pbx.local`), never a client's number.
            return s.contains { $0.isLetter }
        }
        let digits = s.filter { $0.isASCII && $0.isNumber }
        return extensionMaxDigits > 0 && !digits.isEmpty && digits.count <= extensionMaxDigits && !s.hasPrefix("+")
    }

    /// Ours: an extension or a DID.
    public func isOurs(_ s: String?) -> Bool { isExtension(s) || isOurLine(s) }

    /// The call's direction and parties from its two ends, as a CDR gives them.
    public func classify(from: String?, to: String?) -> Parties {
        let f = NumberPlan.clean(from), t = NumberPlan.clean(to)
        let fromOurs = isOurs(f), toOurs = isOurs(t)
        switch (fromOurs, toOurs) {
        case (true, true):
            return Parties(direction: .internal, remoteNumber: t, ourNumber: isOurLine(f) ? f : nil,
                           managerLine: isExtension(f) ? f : nil)
        case (true, false):
            return Parties(direction: .outbound, remoteNumber: t, ourNumber: isOurLine(f) ? f : nil,
                           managerLine: isExtension(f) ? f : nil)
        case (false, true):
            return Parties(direction: .inbound, remoteNumber: f, ourNumber: isOurLine(t) ? t : nil,
                           managerLine: isExtension(t) ? t : nil)
        case (false, false):
            // Neither end is known as ours: a call from outside to a DID missing from
            // the configuration. Inbound is the common case (95% of inquiries).
            return Parties(direction: .inbound, remoteNumber: f, ourNumber: t, managerLine: nil)
        }
    }

    /// Direction and the three numbers of a call.
    public struct Parties: Sendable, Equatable {
        public var direction: IngestMethods.Direction
        public var remoteNumber: String?
        public var ourNumber: String?
        public var managerLine: String?

        public init(direction: IngestMethods.Direction, remoteNumber: String?, ourNumber: String?, managerLine: String?) {
            self.direction = direction; self.remoteNumber = remoteNumber; self.ourNumber = ourNumber; self.managerLine = managerLine
        }
    }
}
