import Foundation
import KontorProtocol

/// Tab completion from the method catalogue: the first word completes to families and
/// commands (`us` → `user`), the next words to verbs (`user l` → `user list`), then to
/// field names (`user list dep` → `department=`) and to a field's fixed choices
/// (`role=a` → `role=admin`).
public struct Completer: Sendable {
    /// The catalogue the words come from.
    public let syntax: HumanSyntax

    /// The REPL's own commands.
    public static let builtins = ["login", "logout", "whoami", "help", "methods", "call", "quit"]

    /// A completer over `syntax`'s catalogue.
    public init(syntax: HumanSyntax) { self.syntax = syntax }

    /// What to complete: the word under the cursor as typed, and the words it may
    /// become (sorted, unique). A word ending in `=` or `.` takes no space after it.
    public struct Completion: Sendable, Equatable {
        /// The word left of the cursor, as typed (empty after a blank).
        public var word: String
        /// What the word may become, sorted.
        public var candidates: [String]

        /// The longest text every candidate starts with.
        public var commonPrefix: String {
            guard var p = candidates.first else { return word }
            for c in candidates.dropFirst() {
                while !c.hasPrefix(p) { p.removeLast() }
            }
            return p
        }

        /// What to insert at the cursor: the rest of the only candidate (and a space),
        /// or of the common prefix; nil when there is nothing to add.
        public var insertion: String? {
            if candidates.count == 1, let only = candidates.first, only.hasPrefix(word) {
                let rest = String(only.dropFirst(word.count))
                return rest + (only.hasSuffix("=") || only.hasSuffix(".") ? "" : " ")
            }
            let p = commonPrefix
            guard p.count > word.count, p.hasPrefix(word) else { return nil }
            return String(p.dropFirst(word.count))
        }
    }

    /// Completes the text left of the cursor.
    public func complete(_ before: String) -> Completion {
        // Inside an open quote there is nothing to complete.
        if before.filter({ $0 == "\"" }).count % 2 == 1 { return Completion(word: "", candidates: []) }
        var words = before.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        var word = ""
        if let last = before.last, last != " ", last != "\t" { word = words.removeLast() }
        return Completion(word: word, candidates: Array(Set(candidates(words, word))).sorted())
    }

    func candidates(_ words: [String], _ word: String) -> [String] {
        guard let first = words.first else {
            if word.contains(".") { return syntax.catalogue.map(\.name).filter { $0.hasPrefix(word) } }
            return (syntax.families + Completer.builtins).filter { $0.hasPrefix(word.lowercased()) }
        }
        switch first.lowercased() {
        case "help", "methods":
            return candidates(Array(words.dropFirst()), word).filter { !Completer.builtins.contains($0) }
        case "call" where words.count == 1:
            let names = syntax.catalogue.map(\.name).filter { $0.hasPrefix(word) }
            return names + (syntax.methods(in: "call").isEmpty ? [] : verbs(after: ["call"], word))
        case "login", "logout", "whoami", "quit":
            return []
        default:
            break
        }
        // The method words typed so far.
        var methodWords: [String] = []
        for w in words {
            if w.contains("=") || w.hasPrefix("\"") || w.hasPrefix("'") || w.hasPrefix("--") { break }
            methodWords.append(w)
        }
        var info: MethodInfo?
        if first.lowercased() == "call", words.count >= 2 {
            info = syntax.byName[words[1]]
        } else if let (m, used) = syntax.resolve(methodWords) {
            info = m
            // `user ` + `get`: the typed words so far are exactly a method, but a longer
            // name may continue it (`robot token` + `create`).
            if used == words.count, !word.contains("=") {
                let deeper = verbs(after: words, word)
                if !deeper.isEmpty && !word.isEmpty { return deeper + fields(of: m, given: words, word) }
            }
        }
        guard let info else { return verbs(after: words, word) }
        return fields(of: info, given: words, word)
    }

    /// The next name segments after `words` (`robot` → `token`; `user` → `list`, …),
    /// with dashes for underscores.
    func verbs(after words: [String], _ word: String) -> [String] {
        let prefix = words.map { $0.lowercased().replacingOccurrences(of: "-", with: "_") }.joined(separator: ".") + "."
        let typed = word.lowercased().replacingOccurrences(of: "-", with: "_")
        var out: [String] = []
        for m in syntax.catalogue where m.name.hasPrefix(prefix) {
            let next = m.name.dropFirst(prefix.count).prefix(while: { $0 != "." })
            if next.hasPrefix(typed) { out.append(next.replacingOccurrences(of: "_", with: "-")) }
        }
        return out
    }

    /// Field names not given yet (`name=`), or a field's choices after `name=`.
    func fields(of info: MethodInfo, given words: [String], _ word: String) -> [String] {
        let specs = info.specs
        if let eq = word.firstIndex(of: "=") {
            let key = String(word[..<eq]).replacingOccurrences(of: "-", with: "_")
            let typed = String(word[word.index(after: eq)...])
            guard let spec = specs.first(where: { $0.name == key }) else { return [] }
            var values = spec.type.choices
            if spec.type == .bool { values = ["yes", "no"] }
            return values.filter { $0.hasPrefix(typed) }.map { "\(key)=\($0)" }
        }
        let given = Set(words.compactMap { w -> String? in
            guard let eq = w.firstIndex(of: "=") else { return nil }
            return String(w[..<eq]).replacingOccurrences(of: ":", with: "").replacingOccurrences(of: "-", with: "_")
        })
        return specs.map(\.name).filter { !given.contains($0) && $0.hasPrefix(word) }.map { $0 + "=" }
    }
}
