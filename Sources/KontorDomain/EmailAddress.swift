// E-mail address normalisation for the domain layer: the de-duplication and
// search key for contacts' e-mails. Shape checks only; nothing is resolved or
// sent.

import Foundation

/// Why a written e-mail address was rejected.
public enum EmailAddressError: Error, Sendable, Hashable, CaseIterable {
    /// Nothing left after trimming and unwrapping.
    case empty
    /// Whitespace or a control character inside the address (e.g. two
    /// addresses glued together, or a TAB pasted from a spreadsheet).
    case containsWhitespace
    /// No `@`.
    case missingAt
    /// More than one `@`. Quoted local parts (`"a@b"@example.com`, RFC 5322
    /// §3.4.1) are legal but not accepted here: nobody writes them to a
    /// salesperson, and a second `@` is almost always a typing error.
    case multipleAt
    /// Nothing before the `@`.
    case emptyLocalPart
    /// Nothing after the `@`.
    case emptyDomain
    /// The local part is longer than 64 octets (RFC 5321 §4.5.3.1.1).
    case localPartTooLong
    /// The domain is longer than 253 octets, or a label longer than 63
    /// (RFC 1035 §2.3.4).
    case domainTooLong
    /// The local part starts or ends with `.`, has `..`, or contains a
    /// character that is special in RFC 5322 (`<>()[],;:\"`) outside quotes.
    case invalidLocalPart
    /// A domain label is empty, starts or ends with `-`, or contains a
    /// character other than a letter, a digit or `-`; or the last label is
    /// all digits (an IP address, RFC 3696 §2).
    case invalidDomain
    /// The domain has no dot (`user@localhost`, `user@intranet`): such
    /// names are never deliverable on the public Internet (ICANN SAC053
    /// forbids dotless domains), and Kontor only stores addresses of
    /// customers outside the company.
    case domainWithoutDot
}

/// An e-mail address that passed ``EmailAddress/normalize(_:)``.
///
/// Two values are equal when their ``normalized`` forms are: the comparison
/// is case-insensitive over the whole address, local part included. (RFC 5321
/// lets a server treat `Ivan@` and `ivan@` as different mailboxes; no real
/// server does, and treating them as one keeps one person one contact.)
public struct EmailAddress: Sendable, Hashable, CustomStringConvertible {
    /// The cleaned address with the case as written (`Ivan.Petrenko@Firma.ua`),
    /// for display and for sending.
    public let address: String
    /// The comparison and storage key: ``address`` lower-cased and in Unicode
    /// NFC (`ivan.petrenko@firma.ua`). IDN domains stay in Unicode
    /// (`info@пошта.укр`), never Punycode.
    public let normalized: String
    /// The part before `@`, lower-cased.
    public var localPart: Substring { normalized[..<atIndex] }
    /// The part after `@`, lower-cased.
    public var domain: Substring { normalized[normalized.index(after: atIndex)...] }

    private let atIndex: String.Index

    /// The cleaned address if `written` is valid, else nil. See
    /// ``normalize(_:)`` for the rules and ``EmailNormalization`` for the
    /// reason of a rejection.
    public init?(_ written: String) {
        guard case .normalized(let email) = EmailAddress.normalize(written) else { return nil }
        self = email
    }

    private init(address: String, normalized: String, atIndex: String.Index) {
        self.address = address
        self.normalized = normalized
        self.atIndex = atIndex
    }

    /// ``address``.
    public var description: String { address }

    /// Equal when the ``normalized`` forms are equal.
    public static func == (lhs: EmailAddress, rhs: EmailAddress) -> Bool {
        lhs.normalized == rhs.normalized
    }

    /// Hashes the ``normalized`` form.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(normalized)
    }

    /// Cleans and checks one written e-mail address.
    ///
    /// Cleaning, in order:
    /// 1. Remove format characters anywhere (zero-width spaces, direction
    ///    marks, BOM: invisible copy-paste debris) and trim whitespace and
    ///    control characters at both ends.
    /// 2. If the text ends with `>` and has a `<`, keep what is inside the
    ///    last `<…>`: `<ivan@firma.ua>` and `Іван Петренко <ivan@firma.ua>`.
    /// 3. Strip a `mailto:` prefix (any case) and its `?subject=…` query
    ///    (RFC 6068). Percent-escapes are not decoded.
    ///
    /// Checks (first failure wins): not empty; no whitespace or control
    /// character inside; exactly one `@`; non-empty local part and domain;
    /// RFC 5321 lengths; local part a dot-atom without RFC 5322 specials
    /// (Unicode allowed, RFC 6531); domain labels of letters (any script),
    /// digits and inner `-`; at least one dot; last label not all digits.
    public static func normalize(_ written: String) -> EmailNormalization {
        let text = unwrap(written)
        if text.isEmpty { return .invalid(.empty) }
        if text.unicodeScalars.contains(where: isWhitespaceOrControl) {
            return .invalid(.containsWhitespace)
        }
        let atCount = text.unicodeScalars.reduce(0) { $0 + ($1 == "@" ? 1 : 0) }
        if atCount == 0 { return .invalid(.missingAt) }
        if atCount > 1 { return .invalid(.multipleAt) }

        let address = text.precomposedStringWithCanonicalMapping
        let normalized = address.lowercased().precomposedStringWithCanonicalMapping
        guard let at = normalized.firstIndex(of: "@") else { return .invalid(.missingAt) }
        let local = normalized[..<at]
        let domain = normalized[normalized.index(after: at)...]

        if local.isEmpty { return .invalid(.emptyLocalPart) }
        if domain.isEmpty { return .invalid(.emptyDomain) }
        if local.utf8.count > 64 { return .invalid(.localPartTooLong) }
        if domain.utf8.count > 253 { return .invalid(.domainTooLong) }
        if let problem = checkLocalPart(local) { return .invalid(problem) }
        if let problem = checkDomain(domain) { return .invalid(problem) }
        return .normalized(EmailAddress(address: address, normalized: normalized, atIndex: at))
    }

    // MARK: Cleaning

    private static func isWhitespaceOrControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .spaceSeparator, .lineSeparator, .paragraphSeparator: return true
        default: return scalar.properties.isWhitespace
        }
    }

    private static func trim(_ text: Substring) -> Substring {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !isWhitespaceOrControl($0) }),
              let last = scalars.lastIndex(where: { !isWhitespaceOrControl($0) })
        else { return "" }
        return Substring(scalars[first...last])
    }

    private static func unwrap(_ written: String) -> String {
        var view = String.UnicodeScalarView()
        for scalar in written.unicodeScalars where scalar.properties.generalCategory != .format {
            view.append(scalar)
        }
        var text = trim(Substring(String(view)))
        if text.hasSuffix(">"), let open = text.lastIndex(of: "<") {
            text = trim(text[text.index(after: open)..<text.index(before: text.endIndex)])
        }
        if text.lowercased().hasPrefix("mailto:") {
            text = text.dropFirst("mailto:".count)
            if let query = text.firstIndex(of: "?") { text = text[..<query] }
            text = trim(text)
        }
        return String(text)
    }

    // MARK: Checks

    /// RFC 5322 specials that may only appear inside a quoted local part.
    private static let localSpecials: Set<Unicode.Scalar> = ["<", ">", "(", ")", "[", "]", ",", ";", ":", "\\", "\""]

    private static func checkLocalPart(_ local: Substring) -> EmailAddressError? {
        if local.hasPrefix(".") || local.hasSuffix(".") || local.contains("..") { return .invalidLocalPart }
        if local.unicodeScalars.contains(where: { localSpecials.contains($0) }) { return .invalidLocalPart }
        return nil
    }

    private static func checkDomain(_ domain: Substring) -> EmailAddressError? {
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        for label in labels {
            if label.isEmpty || label.hasPrefix("-") || label.hasSuffix("-") { return .invalidDomain }
            if label.utf8.count > 63 { return .domainTooLong }
            let ok = label.unicodeScalars.allSatisfy { scalar in
                scalar == "-" || scalar.properties.isAlphabetic || scalar.properties.numericType == .decimal
                    || scalar.properties.generalCategory == .nonspacingMark
                    || scalar.properties.generalCategory == .spacingMark
            }
            if !ok { return .invalidDomain }
        }
        if labels.count < 2 { return .domainWithoutDot }
        if let last = labels.last, last.unicodeScalars.allSatisfy({ $0.properties.numericType == .decimal }) {
            return .invalidDomain
        }
        return nil
    }
}

/// The outcome of ``EmailAddress/normalize(_:)``.
public enum EmailNormalization: Sendable, Hashable {
    /// The address is well-formed; here it is, cleaned.
    case normalized(EmailAddress)
    /// The address was rejected, for this reason.
    case invalid(EmailAddressError)

    /// The address, or nil when invalid.
    public var address: EmailAddress? {
        if case .normalized(let address) = self { return address }
        return nil
    }

    /// The reason of a rejection, or nil when valid.
    public var error: EmailAddressError? {
        if case .invalid(let error) = self { return error }
        return nil
    }
}
