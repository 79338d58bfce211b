import Foundation

/// Writing helpers: Latin spellings of Ukrainian names (for logins, e-mails and
/// websites), phone numbers in the many forms people write them, tax codes of the
/// right shape, amounts.
enum Words {
    /// The official Ukrainian romanisation (2010), lower case: `Олена Коваленко` →
    /// `olena kovalenko`. Letters with a word-initial form (`є ї й ю я`) use it at the
    /// start of a word. Apostrophes and soft signs vanish.
    static func latin(_ text: String) -> String {
        let table: [Character: String] = [
            "а": "a", "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "е": "e", "є": "ie", "ж": "zh", "з": "z",
            "и": "y", "і": "i", "ї": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p",
            "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch",
            "ь": "", "ю": "iu", "я": "ia", "'": "", "’": "", "ʼ": "",
        ]
        let initial: [Character: String] = ["є": "ye", "ї": "yi", "й": "y", "ю": "yu", "я": "ya"]
        var out = ""
        var atStart = true
        var previous: Character = " "
        for ch in text.lowercased() {
            if ch == "г" && previous == "з" {
                out += "gh"
            } else if atStart, let s = initial[ch] {
                out += s
            } else if let s = table[ch] {
                out += s
            } else {
                out.append(ch)
            }
            atStart = !(ch.isLetter || ch == "'" || ch == "’")
            previous = ch
        }
        return out
    }

    /// A slug for a domain or a handle: Latin letters and digits, words joined by `sep`.
    static func slug(_ text: String, sep: String = "-") -> String {
        let words = latin(text).split(whereSeparator: { !($0.isASCII && ($0.isLetter || $0.isNumber)) })
        return words.joined(separator: sep)
    }

    /// Mobile operator codes (without the leading 0).
    static let mobileCodes = ["50", "66", "95", "99", "67", "68", "96", "97", "98", "63", "73", "93"]

    /// A mobile number's national significant digits: operator code + `555` + four digits.
    /// Every demo number has `555` (or `55`/`5` for longer area codes) after its code, so
    /// it is easy to recognise as invented.
    static func mobileDigits(_ dice: inout Dice) -> String {
        dice.pick(mobileCodes) + "555" + dice.digits(4)
    }

    /// A landline's national significant digits in a city: area code + `555…`/`55…`/`5…`.
    static func landlineDigits(area: String, digits: Int, _ dice: inout Dice) -> String {
        let mark = String(repeating: "5", count: max(1, digits - 4))
        return area + mark + dice.digits(digits - mark.count)
    }

    /// `nsn` (9 national significant digits) written the way a person might: `+380 67 555
    /// 12 34`, `067-555-12-34`, `0675551234`, `380675551234`, `(067) 555 12 34`, ...
    /// `areaLength` is the length of the code (2 for mobiles and big cities).
    static func written(_ nsn: String, areaLength: Int = 2, style: Int) -> String {
        let area = String(nsn.prefix(areaLength))
        let rest = String(nsn.dropFirst(areaLength))
        func grouped(_ s: String, _ sep: String) -> String {
            // 7 digits: 3-2-2; 6: 2-2-2; 5: 1-2-2.
            let c = Array(s)
            let first = c.count - 4
            return String(c[0..<first]) + sep + String(c[first..<(first + 2)]) + sep + String(c[(first + 2)...])
        }
        switch style % 9 {
        case 0: return "+380 \(area) \(grouped(rest, " "))"
        case 1: return "0\(area)-\(grouped(rest, "-"))"
        case 2: return "0\(nsn)"
        case 3: return "380\(nsn)"
        case 4: return "(0\(area)) \(grouped(rest, " "))"
        case 5: return "+38 (0\(area)) \(grouped(rest, "-"))"
        case 6: return "+380\(nsn)"
        case 7: return "0\(area) \(grouped(rest, " "))"
        default: return "8 0\(area) \(grouped(rest, " "))"
        }
    }

    /// How Binotel writes a number in its call records: `0675551234`.
    static func pbx(_ nsn: String) -> String { "0" + nsn }

    /// An 8-digit EDRPOU code with a correct check digit. The demo's codes all start with
    /// `99`, so they stand out from registered ones.
    static func edrpou(_ dice: inout Dice) -> String {
        let body = "99" + dice.digits(5)
        let d = body.compactMap { Int(String($0)) }
        let value = Int(body + "0") ?? 0
        let low = value < 30_000_000 || value > 60_000_000
        var weights = low ? [1, 2, 3, 4, 5, 6, 7] : [7, 1, 2, 3, 4, 5, 6]
        var sum = zip(d, weights).reduce(0) { $0 + $1.0 * $1.1 } % 11
        if sum == 10 {
            weights = weights.map { $0 + 2 }
            sum = zip(d, weights).reduce(0) { $0 + $1.0 * $1.1 } % 11
            if sum == 10 { sum = 0 }
        }
        return body + String(sum)
    }

    /// A sole trader's 10-digit tax number of the right shape: the birth date as days
    /// since 1899-12-31, a serial in the `99xx` range (odd 9th digit for men, even for
    /// women) and the check digit.
    static func soleTraderTaxNumber(female: Bool, _ dice: inout Dice) -> String {
        let days = dice.int(22_000...33_000)  // born 1960…1990
        var serial = 9900 + dice.int(0...99)
        let ninth = (serial / 10) % 10
        if (ninth % 2 == 1) == female { serial = serial >= 9990 ? serial - 10 : serial + 10 }
        let body = String(format: "%05d%04d", days, serial)
        let weights = [-1, 5, 7, 9, 4, 6, 10, 5, 7]
        let d = body.compactMap { Int(String($0)) }
        var check = zip(d, weights).reduce(0) { $0 + $1.0 * $1.1 } % 11
        if check < 0 { check += 11 }
        return body + String(check % 10)
    }

    /// A VAT payer's 12-digit number built from the EDRPOU code.
    static func vatNumber(edrpou: String, _ dice: inout Dice) -> String {
        String(edrpou.prefix(7)) + dice.digits(5)
    }

    /// Kopecks as a protocol amount: `152340` → `"1523.40"`, `-5000` → `"-50.00"`.
    static func money(kopecks: Int64) -> String {
        let sign = kopecks < 0 ? "-" : ""
        let a = abs(kopecks)
        return "\(sign)\(a / 100).\(String(format: "%02d", Int(a % 100)))"
    }

    /// Fills `{key}` placeholders.
    static func fill(_ template: String, _ values: [String: String]) -> String {
        var s = template
        for (k, v) in values { s = s.replacingOccurrences(of: "{\(k)}", with: v) }
        return s
    }
}
