import Foundation
import KontorDomain

/// One word of a command, after quotes are taken off.
public struct ShellToken: Sendable, Equatable {
    /// How a `key…` word assigns.
    public enum Operator: String, Sendable {
        /// `key=value`: the value is typed by the catalogue.
        case typed = "="
        /// `key:=json`: the value is a JSON literal.
        case json = ":="
    }

    /// The word as typed, quotes removed.
    public var text: String
    /// True when any part of the word was quoted (a quoted word is never an option or
    /// an assignment).
    public var quoted: Bool
    /// `key=value` or `key:=json`, when the word starts with an unquoted `key=`.
    public var assignment: (key: String, op: Operator, value: String)?

    /// A word.
    public init(text: String, quoted: Bool = false, assignment: (key: String, op: Operator, value: String)? = nil) {
        self.text = text; self.quoted = quoted; self.assignment = assignment
    }

    /// Words are equal when their text, quoting and assignment are.
    public static func == (a: ShellToken, b: ShellToken) -> Bool {
        a.text == b.text && a.quoted == b.quoted && a.assignment?.key == b.assignment?.key
            && a.assignment?.op == b.assignment?.op && a.assignment?.value == b.assignment?.value
    }

    /// A word from the program's arguments: the shell took the quotes off already, so
    /// the text is taken as it is (`full_name=Ivan Petrenko` is one assignment).
    public static func argument(_ s: String) -> ShellToken {
        var t = ShellToken(text: s)
        if let (key, op, rest) = splitAssignment(Substring(s)) {
            t.assignment = (key, op, String(rest))
        }
        return t
    }

    /// `key=` / `key:=` at the start of `s` (the key is a field name: letters, digits,
    /// `_` and `-`, not starting with a digit).
    static func splitAssignment(_ s: Substring) -> (String, Operator, Substring)? {
        var i = s.startIndex
        while i < s.endIndex, isKeyChar(s[i], first: i == s.startIndex) { i = s.index(after: i) }
        guard i > s.startIndex, i < s.endIndex else { return nil }
        let key = String(s[s.startIndex..<i]).replacingOccurrences(of: "-", with: "_")
        if s[i] == "=" { return (key, .typed, s[s.index(after: i)...]) }
        if s[i] == ":", s.index(after: i) < s.endIndex, s[s.index(after: i)] == "=" {
            return (key, .json, s[s.index(i, offsetBy: 2)...])
        }
        return nil
    }

    static func isKeyChar(_ c: Character, first: Bool) -> Bool {
        guard c.isASCII else { return false }
        if c.isLetter || c == "_" { return true }
        if first { return false }
        return c.isNumber || c == "-"
    }
}

/// Splits a command line into words, the way a shell would, plus `key:=json`:
///
/// * words are separated by blanks;
/// * `"double quotes"` keep blanks and take `\"`, `\\`, `\n`, `\t` escapes;
///   `'single quotes'` keep everything as it is; outside quotes `\` escapes the next
///   character;
/// * `key=value` with a quoted value (`text="looking for accounting"`) is one word;
/// * `key:=` is followed by a JSON literal taken as written up to the next blank
///   outside brackets and strings: `phones:=["044 123 45 67", "050 111 22 33"]`.
public enum Tokenizer {
    /// Why a line could not be split.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        /// What is wrong with the line.
        public var message: String
        /// The message.
        public var description: String { message }
    }

    /// The words of `line`; throws `Failure` for an unclosed quote or bracket.
    public static func tokenize(_ line: String) throws -> [ShellToken] {
        let chars = Array(line)
        var tokens: [ShellToken] = []
        var i = 0
        while i < chars.count {
            if chars[i].isWhitespace { i += 1; continue }
            // `key:=json`: the JSON is taken raw.
            if let (key, end) = jsonAssignmentKey(chars, from: i) {
                var j = end
                let value: String
                if j < chars.count, chars[j] == "'" {
                    guard let close = chars[(j + 1)...].firstIndex(of: "'") else {
                        throw Failure(message: "unclosed ' in \(key):=")
                    }
                    value = String(chars[(j + 1)..<close])
                    j = close + 1
                } else {
                    let start = j
                    j = try scanRawJSON(chars, from: j, key: key)
                    value = String(chars[start..<j])
                }
                tokens.append(ShellToken(text: key + ":=" + value, quoted: false, assignment: (key, .json, value)))
                i = j
                continue
            }
            var text = ""
            var quoted = false
            var assignment: (String, ShellToken.Operator)?
            var valueStart = 0
            while i < chars.count, !chars[i].isWhitespace {
                let c = chars[i]
                if c == "\"" {
                    quoted = true
                    i += 1
                    var closed = false
                    while i < chars.count {
                        let d = chars[i]
                        if d == "\"" { closed = true; i += 1; break }
                        if d == "\\", i + 1 < chars.count {
                            let e = chars[i + 1]
                            switch e {
                            case "n": text.append("\n")
                            case "t": text.append("\t")
                            case "\"", "\\": text.append(e)
                            default: text.append("\\"); text.append(e)
                            }
                            i += 2
                            continue
                        }
                        text.append(d)
                        i += 1
                    }
                    if !closed { throw Failure(message: "unclosed \" in the line") }
                    continue
                }
                if c == "'" {
                    quoted = true
                    guard let close = chars[(i + 1)...].firstIndex(of: "'") else {
                        throw Failure(message: "unclosed ' in the line")
                    }
                    text.append(contentsOf: chars[(i + 1)..<close])
                    i = close + 1
                    continue
                }
                if c == "\\", i + 1 < chars.count {
                    text.append(chars[i + 1])
                    i += 2
                    continue
                }
                if c == "=", assignment == nil, !quoted, !text.isEmpty,
                   ShellToken.splitAssignment(Substring(text + "=")) != nil {
                    assignment = (text.replacingOccurrences(of: "-", with: "_"), .typed)
                    text.append(c)
                    valueStart = text.count
                    i += 1
                    continue
                }
                text.append(c)
                i += 1
            }
            var token = ShellToken(text: text, quoted: quoted)
            if let (key, op) = assignment {
                token.assignment = (key, op, String(text.dropFirst(valueStart)))
                token.quoted = false
            }
            tokens.append(token)
        }
        return tokens
    }

    /// When a word at `i` starts with `key:=`, its key and where the JSON starts.
    static func jsonAssignmentKey(_ chars: [Character], from i: Int) -> (String, Int)? {
        var j = i
        while j < chars.count, ShellToken.isKeyChar(chars[j], first: j == i) { j += 1 }
        guard j > i, j + 1 < chars.count, chars[j] == ":", chars[j + 1] == "=" else { return nil }
        return (String(chars[i..<j]).replacingOccurrences(of: "-", with: "_"), j + 2)
    }

    /// The end of a JSON literal written at `from`: the first blank outside brackets and
    /// strings.
    static func scanRawJSON(_ chars: [Character], from start: Int, key: String) throws -> Int {
        var j = start
        var depth = 0
        var inString = false
        while j < chars.count {
            let c = chars[j]
            if inString {
                if c == "\\" { j += 2; continue }
                if c == "\"" { inString = false }
            } else if c == "\"" {
                inString = true
            } else if c == "[" || c == "{" {
                depth += 1
            } else if c == "]" || c == "}" {
                depth -= 1
            } else if c.isWhitespace && depth <= 0 {
                break
            }
            j += 1
        }
        if inString { throw Failure(message: "unclosed string in \(key):=") }
        if depth > 0 { throw Failure(message: "unclosed bracket in \(key):=") }
        return min(j, chars.count)
    }
}
