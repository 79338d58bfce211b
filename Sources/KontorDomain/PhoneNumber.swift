// Phone-number normalisation for the domain layer.
//
// Parsing, validation and typing are delegated to Google's libphonenumber
// (Debian `libphonenumber-dev`, through the `CPhoneNumber` C shim). This file
// adds what libphonenumber does not do for Kontor's users:
//
// * cleaning of pasted text (control characters, every kind of whitespace,
//   Unicode digits) before parsing: libphonenumber rejects a TAB inside a
//   number;
// * the Ukrainian habits it misreads (old trunk prefix `8 0XX…`, old
//   international prefix `8 10…`);
// * extension words it does not know (`вн.`, `дод.`, `wew.`);
// * a digits-only search key for text that is not a number at all.

import CPhoneNumber

// MARK: - Kind

/// The kind of line a number belongs to, as libphonenumber's metadata
/// classifies it (`PhoneNumberUtil::PhoneNumberType`).
///
/// Raw values are stable lower-camel-case names, safe to store and to send on
/// the wire.
public enum PhoneNumberKind: String, Sendable, Hashable, CaseIterable {
    /// A geographic (landline) number, e.g. Kyiv `044 …`.
    case fixedLine
    /// A mobile number, e.g. UA `050 …`, `067 …`.
    case mobile
    /// The plan cannot tell fixed from mobile (e.g. the North American plan).
    case fixedLineOrMobile
    /// Freephone, e.g. UA `0 800 …`.
    case tollFree
    /// Premium rate, e.g. UA `0 900 …`.
    case premiumRate
    /// Shared cost between caller and callee.
    case sharedCost
    /// Voice over IP, e.g. UA `089 …`.
    case voip
    /// A personal number routed to some other line.
    case personalNumber
    /// A pager.
    case pager
    /// A universal access ("company") number.
    case uan
    /// Voicemail access.
    case voicemail
    /// Not classified: the number matches no pattern of its country's plan,
    /// or it could not be parsed at all.
    case unknown

    init(shimType: Int32) {
        switch shimType {
        case KONTOR_PHONE_TYPE_FIXED_LINE: self = .fixedLine
        case KONTOR_PHONE_TYPE_MOBILE: self = .mobile
        case KONTOR_PHONE_TYPE_FIXED_LINE_OR_MOBILE: self = .fixedLineOrMobile
        case KONTOR_PHONE_TYPE_TOLL_FREE: self = .tollFree
        case KONTOR_PHONE_TYPE_PREMIUM_RATE: self = .premiumRate
        case KONTOR_PHONE_TYPE_SHARED_COST: self = .sharedCost
        case KONTOR_PHONE_TYPE_VOIP: self = .voip
        case KONTOR_PHONE_TYPE_PERSONAL_NUMBER: self = .personalNumber
        case KONTOR_PHONE_TYPE_PAGER: self = .pager
        case KONTOR_PHONE_TYPE_UAN: self = .uan
        case KONTOR_PHONE_TYPE_VOICEMAIL: self = .voicemail
        default: self = .unknown
        }
    }
}

// MARK: - Format style

/// How to print a ``PhoneNumber`` (libphonenumber `PhoneNumberFormat`).
public enum PhoneFormatStyle: Sendable, Hashable, CaseIterable {
    /// ITU-T E.164: `+380441234567` (never carries the extension).
    case e164
    /// Grouped for dialling from abroad: `+380 44 123 4567`.
    case international
    /// Grouped for dialling inside the number's own country, with its trunk
    /// prefix: `044 123 4567`.
    case national
    /// An RFC 3966 URI: `tel:+380-44-123-4567;ext=12`.
    case rfc3966

    var shimStyle: Int32 {
        switch self {
        case .e164: KONTOR_PHONE_STYLE_E164
        case .international: KONTOR_PHONE_STYLE_INTERNATIONAL
        case .national: KONTOR_PHONE_STYLE_NATIONAL
        case .rfc3966: KONTOR_PHONE_STYLE_RFC3966
        }
    }
}

// MARK: - PhoneNumber

/// A phone number in canonical form: its ITU-T E.164 string and, optionally,
/// an extension.
///
/// Two written forms of the same line (`044-123-45-67`, `+380 44 123 45 67`)
/// have equal ``e164``. Equality and hashing also compare the extension, so
/// `… доб. 12` and `… доб. 13` are different values with the same ``e164``;
/// use ``e164`` alone as the "same line" key.
///
/// Build one with ``PhoneNormalizer/normalize(_:)``; ``init(e164:extensionNumber:)``
/// only checks the shape, not that the number exists.
public struct PhoneNumber: Sendable, Hashable, CustomStringConvertible {
    /// E.164 form: `+`, a country code that does not start with 0, and at
    /// most 15 digits in all (ITU-T E.164 §6), e.g. `+380441234567`.
    public let e164: String
    /// Extension digits dialled after the connection (`доб. 12` → `"12"`), or
    /// nil.
    public let extensionNumber: String?

    /// Wraps an already-canonical E.164 string.
    ///
    /// Returns nil unless `e164` is `+` followed by 2…15 ASCII digits whose
    /// first is not `0`, and `extensionNumber` (when given) is 1…20 ASCII
    /// digits (libphonenumber's limit). No lookup in the numbering plan is
    /// made.
    public init?(e164: String, extensionNumber: String? = nil) {
        let utf8 = Array(e164.utf8)
        guard utf8.count >= 3, utf8.count <= 16, utf8[0] == UInt8(ascii: "+"),
              utf8[1] != UInt8(ascii: "0"),
              utf8.dropFirst().allSatisfy(PhoneText.isASCIIDigit)
        else { return nil }
        if let ext = extensionNumber {
            guard !ext.isEmpty, ext.utf8.count <= 20, ext.utf8.allSatisfy(PhoneText.isASCIIDigit)
            else { return nil }
        }
        self.e164 = e164
        self.extensionNumber = extensionNumber
    }

    /// The E.164 digits without the plus (`380441234567`).
    public var digits: String { String(e164.dropFirst()) }

    /// The number printed in `style` by libphonenumber; the extension is
    /// included except in ``PhoneFormatStyle/e164``.
    ///
    /// Falls back to ``e164`` when libphonenumber cannot read the number
    /// (e.g. an unassigned country code), so it never fails.
    public func formatted(_ style: PhoneFormatStyle) -> String {
        if style == .e164 { return e164 }
        var text = e164
        if let ext = extensionNumber { text += ";ext=" + ext }
        var buffer = [CChar](repeating: 0, count: Int(KONTOR_PHONE_FORMAT_CAPACITY))
        let status = text.withCString { cText in
            "ZZ".withCString { cRegion in
                buffer.withUnsafeMutableBufferPointer { out in
                    kontor_phone_format(cText, cRegion, style.shimStyle, out.baseAddress, out.count)
                }
            }
        }
        guard status == KONTOR_PHONE_OK else { return e164 }
        let result = PhoneText.decode(buffer)
        return result.isEmpty ? e164 : result
    }

    /// ``formatted(_:)`` in the international style.
    public var description: String { formatted(.international) }
}

// MARK: - NormalizedPhone

/// The outcome of normalising one written phone number.
///
/// Always produced, never thrown: a number that cannot be read keeps its
/// ``written`` text and a digits-only ``searchKey``, with ``e164`` nil.
public struct NormalizedPhone: Sendable, Hashable {
    /// The input exactly as given (not trimmed, not cleaned).
    public let written: String
    /// The canonical number, or nil when the text is not a plausible number.
    ///
    /// "Plausible" means libphonenumber parsed it and its length is one that
    /// numbers of its country can have when dialled from anywhere
    /// (`IsPossibleNumberWithReason == IS_POSSIBLE`). Numbers dialled locally
    /// without an area code (5–7 digits in UA) are therefore nil: they name
    /// no single line.
    public let number: PhoneNumber?
    /// Extension digits found in the text (`доб. 12`, `ext. 12`, `#12`,
    /// `x12`, `вн. 12`, `;ext=12`), or nil. Kept even when the main number
    /// could not be read.
    public let extensionNumber: String?
    /// True when libphonenumber's `IsValidNumber` accepts the number: it
    /// matches an allocated range of its country's numbering plan. A
    /// plausible number can be invalid (a range opened after the metadata
    /// was published); it still gets an ``e164``.
    public let isValid: Bool
    /// The line kind from libphonenumber's metadata; ``PhoneNumberKind/unknown``
    /// when ``e164`` is nil or the number matches no known range.
    public let kind: PhoneNumberKind
    /// The country calling code (`380`, `48`, `1`), nil when ``e164`` is nil.
    public let countryCode: Int?
    /// The CLDR region of the number (`"UA"`, `"PL"`; `"001"` for
    /// non-geographic numbers), nil when ``e164`` is nil or unknown.
    public let region: String?
    /// Digits only, for substring search over every stored number.
    ///
    /// The E.164 digits without `+` (`380441234567`) when ``e164`` is set;
    /// otherwise the ASCII digits of the main part as written (`12` for
    /// `12`, `""` for `abc`). The extension is never part of it.
    public let searchKey: String

    /// The E.164 form of the main number (`+380441234567`), or nil when the
    /// text is not a plausible number. Equal for every written form of one
    /// line: the de-duplication key for contacts.
    public var e164: String? { number?.e164 }
}

// MARK: - PhoneNormalizer

/// Turns phone numbers as people write them into ``NormalizedPhone`` values.
///
/// Pure and thread-safe: no I/O, and libphonenumber's `PhoneNumberUtil`
/// singleton may be used from any thread.
///
/// Steps, in order:
/// 1. Drop control and format characters (TAB, CR, LF, NUL, zero-width and
///    direction marks) and all whitespace; map Unicode digits to ASCII.
/// 2. Skip a leading label (`тел.`, `tel:`), take the main number (digits,
///    a leading `+`, and `()[]-./` separators), and read a trailing extension
///    (`доб.`, `дод.`, `вн.`, `внутр.`, `ext`, `x`, `#`, `;ext=`, `wew.`).
/// 3. With default region `UA`, rewrite forms libphonenumber misreads
///    (Ukrainian numbering plan, NKRZI): `8 0XX …` (old trunk prefix `8`,
///    11–12 digits) → `0XX …`; `8 10 CC …` (old international prefix) →
///    `+CC …` when that gives a valid number; `380…` (12 digits, no plus) →
///    `+380…`.
/// 4. Parse with libphonenumber in the default region and keep the result
///    if it is plausible (see ``NormalizedPhone/number``).
public struct PhoneNormalizer: Sendable {
    /// Upper-case ISO 3166-1 alpha-2 region used for numbers written without
    /// an international prefix, e.g. `"UA"`.
    public let defaultRegion: String

    /// Creates a normaliser for numbers written in `defaultRegion`
    /// (upper-cased here).
    ///
    /// An unknown region is accepted but then only numbers with `+` or an
    /// international prefix can be read; check with
    /// ``isSupportedRegion(_:)`` where the region comes from configuration.
    public init(defaultRegion: String = "UA") {
        self.defaultRegion = defaultRegion.uppercased()
    }

    /// True when libphonenumber has numbering-plan metadata for `region`
    /// (an ISO 3166-1 alpha-2 code, any case).
    public static func isSupportedRegion(_ region: String) -> Bool {
        region.uppercased().withCString { kontor_phone_country_code_for_region($0) } != 0
    }

    /// Normalises one written phone number. Never fails: see
    /// ``NormalizedPhone`` for what an unreadable number looks like.
    ///
    /// Only one number per call: split lists first with ``split(_:)``.
    public func normalize(_ written: String) -> NormalizedPhone {
        let cleaned = PhoneText.clean(written)
        let parts = PhoneText.splitMainAndExtension(cleaned)
        var best: ShimParse?
        var extensionNumber = parts.extensionNumber
        var fallbackDigits = parts.mainDigits

        if parts.isUnderstood {
            for candidate in candidates(mainDigits: parts.mainDigits, hasPlus: parts.hasPlus) {
                let parsed = ShimParse(candidate.text, region: defaultRegion)
                if parsed.isPlausible, !candidate.requiresValid || parsed.isValid {
                    best = parsed
                    break
                }
            }
        } else {
            // Digits after something that is not a known extension word:
            // let libphonenumber, which knows more extension words in more
            // languages, read the whole cleaned text.
            let parsed = ShimParse(String(String.UnicodeScalarView(cleaned)), region: defaultRegion)
            if parsed.isPlausible {
                best = parsed
                if !parsed.extensionNumber.isEmpty { extensionNumber = parsed.extensionNumber }
            } else {
                fallbackDigits = PhoneText.asciiDigits(in: cleaned)
            }
        }

        guard let best, let number = PhoneNumber(e164: best.e164, extensionNumber: extensionNumber) else {
            return NormalizedPhone(
                written: written, number: nil, extensionNumber: extensionNumber,
                isValid: false, kind: .unknown, countryCode: nil, region: nil,
                searchKey: fallbackDigits)
        }
        return NormalizedPhone(
            written: written, number: number, extensionNumber: extensionNumber,
            isValid: best.isValid, kind: best.kind, countryCode: Int(best.countryCode),
            region: best.region == "ZZ" ? nil : best.region, searchKey: number.digits)
    }

    /// The E.164 keys a written fragment could stand for, most likely first,
    /// without duplicates: for "find a contact by any written form".
    ///
    /// Contains the ``NormalizedPhone/e164`` of ``normalize(_:)`` when there
    /// is one, and, for text written without `+`, the reading of its digits
    /// as an international number (`48221234567` → `+48221234567`) when
    /// libphonenumber finds that valid. Empty when the fragment is no
    /// plausible number (e.g. a partial `123 45 67`): search the stored
    /// ``NormalizedPhone/searchKey`` by digit substring instead.
    public func searchKeys(for fragment: String) -> [String] {
        var keys: [String] = []
        if let e164 = normalize(fragment).e164 { keys.append(e164) }
        let parts = PhoneText.splitMainAndExtension(PhoneText.clean(fragment))
        if !parts.hasPlus, parts.mainDigits.utf8.count >= 3 {
            let international = ShimParse("+" + parts.mainDigits, region: defaultRegion)
            if international.isPlausible, international.isValid, !keys.contains(international.e164) {
                keys.append(international.e164)
            }
        }
        return keys
    }

    /// Splits a field holding several numbers into one string per number.
    ///
    /// Separators: `,` `;` `:::` a `/` with whitespace on both sides, and line
    /// breaks (LF, CR, CRLF, U+2028, U+2029). A `/` without spaces stays:
    /// `044/123-45-67` is one number. A piece that starts with an extension
    /// word (`, доб. 12`, `;ext=12`) is joined back to the number before it.
    /// Pieces are trimmed of whitespace and control characters; empty pieces
    /// are dropped. The pieces are not normalised.
    public static func split(_ text: String) -> [String] {
        var pieces: [String] = []
        var current = ""
        let characters = Array(text)
        var index = 0
        func flush() {
            pieces.append(current)
            current = ""
        }
        while index < characters.count {
            let character = characters[index]
            if character == ":", index + 2 < characters.count,
               characters[index + 1] == ":", characters[index + 2] == ":" {
                flush()
                index += 3
                continue
            }
            if character == "," || character == ";" || character.isNewline {
                flush()
            } else if character == "/", index > 0, index + 1 < characters.count,
                      characters[index - 1].isWhitespace, characters[index + 1].isWhitespace {
                flush()
            } else {
                current.append(character)
            }
            index += 1
        }
        flush()

        var result: [String] = []
        for piece in pieces {
            let trimmed = PhoneText.trim(piece)
            if trimmed.isEmpty { continue }
            if let last = result.last, PhoneText.startsWithExtensionMarker(trimmed) {
                result[result.count - 1] = last + " " + trimmed
            } else {
                result.append(trimmed)
            }
        }
        return result
    }

    /// Text to try with libphonenumber, in order of preference.
    private func candidates(mainDigits digits: String, hasPlus: Bool) -> [Candidate] {
        guard !digits.isEmpty else { return [] }
        if hasPlus { return [Candidate(text: "+" + digits)] }
        var list: [Candidate] = []
        if defaultRegion == "UA" {
            let bytes = Array(digits.utf8)
            let count = bytes.count
            // Old trunk prefix: "8 0XX XXX XX XX" (area codes never start
            // with 0, so "8 00…" is not this form).
            if (count == 11 || count == 12), digits.hasPrefix("80"), bytes[2] != UInt8(ascii: "0") {
                list.append(Candidate(text: String(digits.dropFirst())))
            }
            // Old international prefix "8 10", still in use by some callers.
            if count > 5, digits.hasPrefix("810") {
                list.append(Candidate(text: "+" + digits.dropFirst(3), requiresValid: true))
            }
            // Country code without the plus: "380 44 123 45 67".
            if count == 12, digits.hasPrefix("380") {
                list.append(Candidate(text: "+" + digits))
            }
        }
        list.append(Candidate(text: digits))
        return list
    }
}

// MARK: - Internals

/// One string to hand to libphonenumber.
private struct Candidate {
    var text: String
    /// Accept only if `IsValidNumber` holds (for rewrites that could
    /// otherwise invent a number).
    var requiresValid = false
}

/// The result of one `kontor_phone_parse` call, decoded.
private struct ShimParse {
    var status: Int32
    var e164: String
    var extensionNumber: String
    var countryCode: Int32
    var possibility: Int32
    var isValid: Bool
    var kind: PhoneNumberKind
    var region: String

    init(_ text: String, region defaultRegion: String) {
        var info = kontor_phone_info()
        var e164Buffer = [CChar](repeating: 0, count: Int(KONTOR_PHONE_E164_CAPACITY))
        var extensionBuffer = [CChar](repeating: 0, count: Int(KONTOR_PHONE_EXTENSION_CAPACITY))
        status = text.withCString { cText in
            defaultRegion.withCString { cRegion in
                e164Buffer.withUnsafeMutableBufferPointer { e164Out in
                    extensionBuffer.withUnsafeMutableBufferPointer { extensionOut in
                        kontor_phone_parse(
                            cText, cRegion, &info,
                            e164Out.baseAddress, e164Out.count,
                            extensionOut.baseAddress, extensionOut.count)
                    }
                }
            }
        }
        e164 = PhoneText.decode(e164Buffer)
        extensionNumber = PhoneText.decode(extensionBuffer)
        countryCode = info.country_code
        possibility = info.possibility
        isValid = info.is_valid != 0
        kind = PhoneNumberKind(shimType: info.type)
        region = withUnsafeBytes(of: info.region) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    /// Parsed, and of a length its country's numbers have when dialled from
    /// anywhere.
    var isPlausible: Bool {
        status == KONTOR_PHONE_OK && possibility == KONTOR_PHONE_POSSIBLE && !e164.isEmpty
    }
}

/// Character-level helpers shared by the normaliser and the splitter.
enum PhoneText {
    static func isASCIIDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    static func isASCIIDigit(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII && isASCIIDigit(UInt8(scalar.value))
    }

    /// A NUL-terminated C buffer as a String (empty if no NUL is found).
    static func decode(_ buffer: [CChar]) -> String {
        guard let end = buffer.firstIndex(of: 0) else { return "" }
        return String(decoding: buffer[..<end].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// True for characters never part of a written number: controls (Cc),
    /// format characters (Cf: zero-width, direction marks, BOM), separators
    /// and any whitespace (including NBSP and thin spaces).
    static func isInvisible(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .spaceSeparator, .lineSeparator, .paragraphSeparator:
            return true
        default:
            return scalar.properties.isWhitespace
        }
    }

    /// Step 1: invisible characters removed, Unicode decimal digits (Arabic-
    /// Indic, full-width, …) mapped to ASCII, full-width plus to `+`.
    static func clean(_ text: String) -> [Unicode.Scalar] {
        var result: [Unicode.Scalar] = []
        result.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars where !isInvisible(scalar) {
            if !scalar.isASCII, scalar.properties.numericType == .decimal,
               let value = scalar.properties.numericValue, value >= 0, value <= 9,
               let ascii = Unicode.Scalar(UInt32(UInt8(ascii: "0")) + UInt32(value)) {
                result.append(ascii)
            } else if scalar == "\u{FF0B}" {
                result.append("+")
            } else {
                result.append(scalar)
            }
        }
        return result
    }

    /// `text` without leading and trailing whitespace or control characters.
    static func trim(_ text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        guard let first = scalars.firstIndex(where: { !isInvisible($0) }),
              let last = scalars.lastIndex(where: { !isInvisible($0) })
        else { return "" }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars[first...last])
        return String(view)
    }

    static func asciiDigits<S: Sequence>(in scalars: S) -> String where S.Element == Unicode.Scalar {
        var digits = String.UnicodeScalarView()
        for scalar in scalars where isASCIIDigit(scalar) { digits.append(scalar) }
        return String(digits)
    }

    /// Separators allowed between the digits of a written number.
    static func isSeparator(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "(", ")", "[", "]", "-", ".", "/", "+": return true
        default: return scalar.properties.generalCategory == .dashPunctuation
        }
    }

    /// Words that introduce an extension (compared lower-cased, by prefix
    /// where noted): English `ext`/`extn`/`extension`/`x`, Russian
    /// `доб.`(`добавочный`)/`доп.`, Ukrainian `дод.`(`додатковий`), both
    /// `вн.`/`внутр.`(`внутренний`, `внутрішній`), Polish `wew.`. The Cyrillic
    /// `х` is accepted as a look-alike of `x`.
    static func isExtensionWord(_ word: String) -> Bool {
        if word == "x" || word == "х" { return true }
        for prefix in ["ext", "доб", "доп", "дод", "вн", "wew"] where word.hasPrefix(prefix) {
            return true
        }
        return false
    }

    /// True when `text` (trimmed) begins with an extension word or `#`,
    /// possibly after punctuation (`(доб. 12)`).
    static func startsWithExtensionMarker(_ text: String) -> Bool {
        let scalars = clean(text)
        var index = 0
        while index < scalars.count, isLeadingPunctuation(scalars[index]) { index += 1 }
        guard index < scalars.count else { return false }
        if scalars[index] == "#" { return true }
        let word = letters(in: scalars, from: &index)
        return !word.isEmpty && isExtensionWord(word)
    }

    private static func isLeadingPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "(", "[", ",", ";", ":", ".", "-": return true
        default: return false
        }
    }

    /// The lower-cased run of letters starting at `index`; advances `index`.
    private static func letters(in scalars: [Unicode.Scalar], from index: inout Int) -> String {
        var word = String.UnicodeScalarView()
        while index < scalars.count, scalars[index].properties.isAlphabetic {
            word.append(scalars[index])
            index += 1
        }
        return String(word).lowercased()
    }

    /// Step 2's result.
    struct Parts {
        /// ASCII digits of the main number.
        var mainDigits: String
        /// The main number began with `+`.
        var hasPlus: Bool
        /// Extension digits, if an extension was recognised.
        var extensionNumber: String?
        /// False when digits follow the main number and are not introduced by
        /// a known extension word: the text is then handed to libphonenumber
        /// whole.
        var isUnderstood: Bool
    }

    /// Step 2: skip a label, take the main number, read the tail.
    static func splitMainAndExtension(_ scalars: [Unicode.Scalar]) -> Parts {
        guard let start = scalars.firstIndex(where: { isASCIIDigit($0) || $0 == "+" }) else {
            return Parts(mainDigits: "", hasPlus: false, extensionNumber: nil, isUnderstood: true)
        }
        var index = start
        while index < scalars.count, isASCIIDigit(scalars[index]) || isSeparator(scalars[index]) {
            index += 1
        }
        let main = scalars[start..<index]
        let mainDigits = asciiDigits(in: main)
        let hasPlus = scalars[start] == "+"
        let tail = Array(scalars[index...])
        if !tail.contains(where: isASCIIDigit) {
            // Nothing or a mere annotation after the number ("(бухгалтерія)").
            return Parts(mainDigits: mainDigits, hasPlus: hasPlus, extensionNumber: nil, isUnderstood: true)
        }
        if let ext = extensionDigits(tail) {
            return Parts(mainDigits: mainDigits, hasPlus: hasPlus, extensionNumber: ext, isUnderstood: true)
        }
        return Parts(mainDigits: mainDigits, hasPlus: hasPlus, extensionNumber: nil, isUnderstood: false)
    }

    /// The digits of `tail` when it is exactly "[punctuation] marker
    /// [letters/punctuation] digits [closing punctuation]", else nil.
    private static func extensionDigits(_ tail: [Unicode.Scalar]) -> String? {
        var index = 0
        while index < tail.count, isLeadingPunctuation(tail[index]) { index += 1 }
        guard index < tail.count else { return nil }
        if tail[index] == "#" {
            index += 1
        } else {
            let word = letters(in: tail, from: &index)
            guard isExtensionWord(word) else { return nil }
        }
        // Between the word and the digits: ".", ":", "=", "№", "-" or more
        // letters of an abbreviation such as "доб.ном.".
        while index < tail.count, !isASCIIDigit(tail[index]) {
            let scalar = tail[index]
            guard scalar.properties.isAlphabetic || ".:=№-#".unicodeScalars.contains(scalar) else { return nil }
            index += 1
        }
        var digits = String.UnicodeScalarView()
        while index < tail.count, isASCIIDigit(tail[index]) {
            digits.append(tail[index])
            index += 1
        }
        // Only closing punctuation may follow.
        guard !digits.isEmpty, digits.count <= 20,
              tail[index...].allSatisfy({ ")]. ".unicodeScalars.contains($0) })
        else { return nil }
        return String(digits)
    }
}
