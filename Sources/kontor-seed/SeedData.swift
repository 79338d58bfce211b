import Foundation

/// The word lists in `seeds/*.json`: the team, names, places, company name parts,
/// product lines and texts. The generator combines them; none holds a real person or
/// company.
struct SeedData: Sendable {
    var staff: Staff
    var names: Names
    var places: Places
    var companies: CompanyParts
    var products: Products
    var texts: Texts

    /// The team of the demo distributor (`seeds/staff.json`).
    struct Staff: Decodable, Sendable {
        struct Person: Decodable, Sendable {
            var login: String
            var fullName: String
            var title: String?
        }
        struct Robot: Decodable, Sendable {
            var login: String
            var fullName: String
            var tokenLabel: String
        }
        struct Manager: Decodable, Sendable {
            var login: String
            var fullName: String
            var department: String
            var `extension`: String
            var direct: String
        }
        struct Line: Decodable, Sendable {
            var line: String
            var label: String
        }
        var company: String
        var mailDomain: String
        var mainNumbers: [Line]
        var admin: Person
        var techAdmin: Person
        var robot: Robot
        var managers: [Manager]
    }

    /// Given names, surnames (`masc|fem` when they differ) and patronymic pairs.
    struct Names: Decodable, Sendable {
        var male: [String]
        var female: [String]
        var surnames: [String]
        var patronymics: [[String]]
    }

    /// Cities (postcode prefix, `[a-b]` for a digit range; area code; subscriber digits;
    /// weight) and streets.
    struct Places: Decodable, Sendable {
        struct City: Decodable, Sendable {
            var name: String
            var postcode: String
            var area: String
            var digits: Int
            var weight: Double
        }
        var cities: [City]
        var streets: [String]
        var premises: [String]
        var businessCentres: [String]
    }

    /// Legal forms, name roots and industries.
    struct CompanyParts: Decodable, Sendable {
        struct Form: Decodable, Sendable {
            var short: String
            var weight: Double
        }
        struct Industry: Decodable, Sendable {
            var code: String
            var label: String
            var weight: Double
            var suffixes: [String]
            var positions: [String]
            var needs: [String]
        }
        var legalForms: [Form]
        var roots: [String]
        var industries: [Industry]
        var soleTraderSuffixes: [String]
        var notes: [String]
    }

    /// Product lines with the amount range of one delivery.
    struct Products: Decodable, Sendable {
        struct Line: Decodable, Sendable {
            var code: String
            var name: String
            var weight: Double
            var amount: [Double]
            var items: [String]
        }
        var lines: [Line]
    }

    /// Message, reply and comment templates, rejection reasons.
    struct Texts: Decodable, Sendable {
        struct Rejection: Decodable, Sendable {
            var reason: String
            var weight: Double
            var texts: [String]
        }
        struct Email: Decodable, Sendable {
            var subject: String
            var body: String
        }
        var emails: [Email]
        var chatTexts: [String]
        var newClientChatTexts: [String]
        var siteTexts: [String]
        var socialTexts: [String]
        var replies: [String]
        var comments: [String]
        var callSummaries: [String]
        var rejections: [Rejection]
        var weekdays: [String]
    }

    /// Reads every file from `directory`.
    /// - Throws: `SeedError.data` naming the file that is missing or malformed.
    static func load(from directory: URL) throws -> SeedData {
        func read<T: Decodable>(_ name: String, _ type: T.Type) throws -> T {
            let url = directory.appendingPathComponent(name)
            let data: Data
            do { data = try Data(contentsOf: url) } catch {
                throw SeedError.data("cannot read \(url.path): \(error.localizedDescription)")
            }
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            do { return try decoder.decode(T.self, from: data) } catch {
                throw SeedError.data("\(url.path) is not what kontor-seed expects: \(error)")
            }
        }
        let data = SeedData(staff: try read("staff.json", Staff.self), names: try read("names.json", Names.self),
                            places: try read("places.json", Places.self), companies: try read("companies.json", CompanyParts.self),
                            products: try read("products.json", Products.self), texts: try read("texts.json", Texts.self))
        try data.check()
        return data
    }

    /// The lists the generator draws from must not be empty.
    func check() throws {
        let lists: [(String, Int)] = [
            ("names.json male", names.male.count), ("names.json female", names.female.count),
            ("names.json surnames", names.surnames.count), ("names.json patronymics", names.patronymics.count),
            ("places.json cities", places.cities.count), ("places.json streets", places.streets.count),
            ("companies.json roots", companies.roots.count), ("companies.json industries", companies.industries.count),
            ("products.json lines", products.lines.count), ("texts.json rejections", texts.rejections.count),
            ("texts.json emails", texts.emails.count), ("texts.json replies", texts.replies.count),
            ("staff.json managers", staff.managers.count),
        ]
        for (name, count) in lists where count == 0 { throw SeedError.data("\(name) is empty") }
        if !staff.managers.contains(where: { $0.department == "development" }) || !staff.managers.contains(where: { $0.department == "service" }) {
            throw SeedError.data("staff.json needs managers in both development and service")
        }
        if names.patronymics.contains(where: { $0.count != 2 }) { throw SeedError.data("names.json patronymics are [masculine, feminine] pairs") }
        if companies.industries.contains(where: { $0.suffixes.isEmpty || $0.positions.isEmpty || $0.needs.isEmpty }) {
            throw SeedError.data("companies.json: every industry needs suffixes, positions and needs")
        }
        if products.lines.contains(where: { $0.amount.count != 2 || $0.items.isEmpty }) {
            throw SeedError.data("products.json: every line needs amount [min, max] and items")
        }
    }

    /// Where the lists are: `--data`, else `KONTOR_SEED_DATA`, else a `seeds/` folder next
    /// to (or above) the executable, else the source tree's `seeds/`.
    static func locate(override: String?) -> URL? {
        let fm = FileManager.default
        func ok(_ u: URL) -> Bool { fm.fileExists(atPath: u.appendingPathComponent("staff.json").path) }
        if let override, !override.isEmpty { return URL(fileURLWithPath: override) }
        if let env = ProcessInfo.processInfo.environment["KONTOR_SEED_DATA"], !env.isEmpty { return URL(fileURLWithPath: env) }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            for candidate in [dir.appendingPathComponent("seeds"), dir.appendingPathComponent("share/kontor/seeds")] where ok(candidate) {
                return candidate
            }
            dir = dir.deletingLastPathComponent()
        }
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("seeds")
        return ok(source) ? source : nil
    }
}

/// Why seeding stopped.
enum SeedError: Error, CustomStringConvertible {
    /// The data files are missing or malformed.
    case data(String)
    /// The database already holds data; nothing was written.
    case refused(String)
    /// A call answered an error the generator did not expect.
    case server(String)

    var description: String {
        switch self {
        case .data(let m), .refused(let m), .server(let m): return m
        }
    }
}
