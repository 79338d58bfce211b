import Foundation
import KontorDomain
import KontorProtocol
import KontorTestSupport
import Testing

/// docs/PROTOCOL.md against the method catalogue and the permission table.
@Suite("docs/PROTOCOL.md describes every method")
struct ProtocolDocsTests {
    /// Each `#### ` heading's methods with the roles written after them:
    /// `` #### `lead.settings.get` (U A T), `lead.settings.update` (A T) ``.
    static func headings() throws -> [(method: String, roles: String?)] {
        let doc = try String(contentsOf: TestEnvironment.projectRoot.appendingPathComponent("docs/PROTOCOL.md"), encoding: .utf8)
        let pattern = try NSRegularExpression(pattern: #"`([a-z_]+(?:\.[a-z_]+)*)`(?:\s*\(([UATR* ]+)\))?"#)
        var out: [(String, String?)] = []
        for line in doc.split(separator: "\n") where line.hasPrefix("#### ") {
            let text = String(line)
            let ns = text as NSString
            for m in pattern.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
                let roles = m.range(at: 2).location == NSNotFound ? nil : ns.substring(with: m.range(at: 2))
                out.append((ns.substring(with: m.range(at: 1)), roles))
            }
        }
        return out
    }

    @Test("every method of the catalogue has a #### heading, and every heading names a method of the catalogue")
    func bothWays() throws {
        let documented = try Self.headings().map(\.method)
        let catalogue = Set(MethodCatalogue.all.map(\.name))
        // Not vacuous: the catalogue is the served table (PermissionTableTests), and the
        // document really has a heading per method (two empty sets would agree).
        #expect(catalogue.count >= 90 && catalogue == Set(Permissions.table.keys), "catalogue \(catalogue.count), table \(Permissions.table.count)")
        #expect(documented.count >= catalogue.count, "\(documented.count) methods in #### headings")
        let missing = catalogue.subtracting(documented).sorted()
        let unknown = Set(documented).subtracting(catalogue).sorted()
        #expect(missing.isEmpty, "methods without a #### heading in docs/PROTOCOL.md: \(missing)")
        #expect(unknown.isEmpty, "#### headings for methods the catalogue does not have: \(unknown)")
        let twice = Dictionary(grouping: documented, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted()
        #expect(twice.isEmpty, "methods with two headings: \(twice)")
    }

    /// The text under each `#### ` heading (to the next heading of any level), with the
    /// methods the heading names. Headings inside fenced blocks are not headings.
    static func sections() throws -> [(methods: [String], body: String)] {
        let doc = try String(contentsOf: TestEnvironment.projectRoot.appendingPathComponent("docs/PROTOCOL.md"), encoding: .utf8)
        let name = try NSRegularExpression(pattern: #"`([a-z_]+(?:\.[a-z_]+)*)`"#)
        var out: [(methods: [String], body: String)] = []
        var fenced = false
        for line in doc.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") { fenced.toggle() }
            if !fenced && line.hasPrefix("#") {
                if line.hasPrefix("#### ") {
                    let text = String(line), ns = text as NSString
                    let methods = name.matches(in: text, range: NSRange(location: 0, length: ns.length)).map { ns.substring(with: $0.range(at: 1)) }
                    out.append((methods, ""))
                } else {
                    out.append(([], ""))
                }
            } else if !out.isEmpty {
                out[out.count - 1].body += line + "\n"
            }
        }
        return out.filter { !$0.methods.isEmpty }
    }

    @Test("every method has an example request line under its heading: valid JSON-RPC, calling that method")
    func examples() throws {
        var exampled = Set<String>()
        for section in try Self.sections() {
            for line in section.body.split(separator: "\n") where line.hasPrefix("{\"jsonrpc\"") && line.contains("\"method\"") {
                guard case .object(let request)? = try? JSONValue.parse(String(line)) else {
                    Issue.record("\(section.methods): an example that is not JSON: \(line)")
                    continue
                }
                guard case .string(let method)? = request["method"] else { continue }  // a notification's params, an answer
                if section.methods.contains(method) { exampled.insert(method) }
            }
        }
        let catalogue = MethodCatalogue.all.map(\.name)
        #expect(catalogue.count >= 90)
        let missing = catalogue.filter { !exampled.contains($0) }
        #expect(missing.isEmpty, "methods with no example request under their heading in docs/PROTOCOL.md: \(missing)")
    }

    @Test("the roles in each heading are the permission table's")
    func roles() throws {
        let letters: [Role: String] = [.user: "U", .admin: "A", .techAdmin: "T", .robot: "R"]
        for (method, written) in try Self.headings() {
            guard let written else {
                Issue.record("\(method): the heading gives no roles")
                continue
            }
            let expected: String
            switch Permissions.table[method] {
            case .anonymous?: expected = "*"
            case .roles(let roles)?: expected = Role.allCases.filter(roles.contains).compactMap { letters[$0] }.joined(separator: " ")
            case nil: expected = "(not in the permission table)"
            }
            #expect(written == expected, "\(method): docs say (\(written)), the permission table (\(expected))")
        }
    }
}
