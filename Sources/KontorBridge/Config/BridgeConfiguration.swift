import Foundation
import KontorProtocol

/// A configuration mistake, named by its key.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "configuration: \(message)" }
}

/// Everything `kontor-bridge` is told: a JSON file (`--config`, `KONTOR_BRIDGE_CONFIG`)
/// overridden by `KONTOR_BRIDGE_*` environment variables. docs/BRIDGE.md lists every key.
///
/// Secrets (the robot token, webhook secrets and provider tokens) are never logged and
/// never printed by `status`.
public struct BridgeConfiguration: Sendable {
    public var kontordHost = "127.0.0.1"
    public var kontordPort = 7411
    /// The robot token for `auth.token` (`token`, `token_file` or `KONTOR_BRIDGE_TOKEN`).
    public var token: String?
    /// Spool, state and offsets.
    public var spoolDirectory = URL(fileURLWithPath: "var/kontor-bridge")
    public var httpHost = "127.0.0.1"
    public var httpPort = 8780
    /// The URL the providers call, without a trailing slash (`https://bridge.example.ua`);
    /// needed for Twilio's signature when the bridge sits behind a proxy.
    public var publicURL: String?
    public var maxBodyBytes = 1 << 20
    /// Zone of local times without an offset (Asterisk CDRs).
    public var timeZone = "Europe/Kyiv"
    public var plan = NumberPlan()
    public var binotel: PathSecret?
    public var freeswitch: PathSecret?
    public var pbx: PathSecret?
    public var twilio: Twilio?
    public var telegram: Telegram?
    public var viber: Viber?
    public var forms: [String: Form] = [:]
    public var asterisk: [CDRFile] = []
    public var mail: Mail?
    public var sender = SenderConfiguration()

    /// The defaults (no source switched on).
    public init() {}

    /// A per-source secret that must appear in the endpoint's URL path.
    public struct PathSecret: Sendable, Equatable {
        public var secret: String
        public init(secret: String) { self.secret = secret }
    }

    /// Twilio status callbacks.
    public struct Twilio: Sendable, Equatable {
        /// The account's auth token: the HMAC key of `X-Twilio-Signature`.
        public var authToken: String
        public init(authToken: String) { self.authToken = authToken }
    }

    /// A Telegram bot's webhook.
    public struct Telegram: Sendable, Equatable {
        /// The `secret_token` given to `setWebhook`, checked against
        /// `X-Telegram-Bot-Api-Secret-Token`.
        public var secretToken: String
        public var botUsername: String?
        public init(secretToken: String, botUsername: String? = nil) { self.secretToken = secretToken; self.botUsername = botUsername }
    }

    /// A Viber bot's webhook.
    public struct Viber: Sendable, Equatable {
        /// The bot's auth token: the HMAC key of `X-Viber-Content-Signature`.
        public var authToken: String
        public var botName: String?
        public init(authToken: String, botName: String? = nil) { self.authToken = authToken; self.botName = botName }
    }

    /// A site form endpoint `/hooks/form/<name>/<secret>`.
    public struct Form: Sendable, Equatable {
        public var secret: String
        public var mapping: FormMapping
        public init(secret: String, mapping: FormMapping = FormMapping()) { self.secret = secret; self.mapping = mapping }
    }

    /// An Asterisk CDR CSV file.
    public struct CDRFile: Sendable, Equatable {
        public var path: String
        public var layout: AsteriskCDR.Layout
        public var timeZone: String?
        /// Follow the file while serving (like `tail -f`).
        public var follow: Bool
        public var pollMilliseconds: Int
        public init(path: String, layout: AsteriskCDR.Layout = .auto, timeZone: String? = nil, follow: Bool = true, pollMilliseconds: Int = 1000) {
            self.path = path; self.layout = layout; self.timeZone = timeZone; self.follow = follow; self.pollMilliseconds = pollMilliseconds
        }
    }

    /// The mail folder `serve` watches.
    public struct Mail: Sendable, Equatable {
        /// A Maildir (with `new/`) or a plain folder of `.eml` files.
        public var path: String
        public var quarantine: String?
        /// Our address, recorded as the recipient (default: the first `To:`).
        public var recipient: String?
        public var pollSeconds: Int
        public init(path: String, quarantine: String? = nil, recipient: String? = nil, pollSeconds: Int = 10) {
            self.path = path; self.quarantine = quarantine; self.recipient = recipient; self.pollSeconds = pollSeconds
        }
    }

    /// The options for CDR files.
    public func cdrOptions(for file: CDRFile) -> AsteriskCDR.Options {
        AsteriskCDR.Options(layout: file.layout, timeZone: Times.zone(file.timeZone ?? timeZone), plan: plan)
    }

    // MARK: loading

    /// Reads the file (when given) and applies the environment.
    public static func load(file: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> BridgeConfiguration {
        var c = BridgeConfiguration()
        let path = file ?? environment["KONTOR_BRIDGE_CONFIG"]
        if let path {
            guard let bytes = try? Data(contentsOf: URL(fileURLWithPath: path)) else {
                throw ConfigurationError("cannot read \(path)")
            }
            let json: JSONValue
            do { json = try JSONValue.parse(Array(bytes)) } catch { throw ConfigurationError("\(path) is not JSON: \(error)") }
            try c.apply(json: json, base: URL(fileURLWithPath: path).deletingLastPathComponent())
        }
        try c.apply(environment: environment)
        return c
    }

    /// Applies a parsed configuration file. Unknown keys are errors (a typo must not
    /// silently disable a source). Relative paths are relative to `base`.
    public mutating func apply(json: JSONValue, base: URL) throws {
        let r = try ConfigObject(json, "")
        if let k = try r.object("kontord") {
            kontordHost = try k.string("host") ?? kontordHost
            kontordPort = try k.int("port", in: 1...65535) ?? kontordPort
            token = try k.string("token") ?? token
            if let f = try k.string("token_file") { token = try Self.readSecretFile(Self.resolve(f, base)) }
            try k.finish()
        }
        if let s = try r.string("spool_dir") { spoolDirectory = URL(fileURLWithPath: Self.resolve(s, base)) }
        timeZone = try r.string("time_zone") ?? timeZone
        if let h = try r.object("http") {
            httpHost = try h.string("host") ?? httpHost
            httpPort = try h.int("port", in: 0...65535) ?? httpPort
            publicURL = try h.string("public_url") ?? publicURL
            maxBodyBytes = try h.int("max_body_bytes", in: 1024...(64 << 20)) ?? maxBodyBytes
            try h.finish()
        }
        if let n = try r.object("numbers") {
            plan = NumberPlan(ourNumbers: try n.strings("ours") ?? plan.ourNumbers,
                              extensionMaxDigits: try n.int("extension_max_digits") ?? plan.extensionMaxDigits,
                              extensionPatterns: try n.strings("extension_patterns") ?? plan.extensionPatterns,
                              region: try n.string("region") ?? plan.region)
            for p in plan.extensionPatterns where (try? Regex(p)) == nil {
                throw ConfigurationError("numbers.extension_patterns: \"\(p)\" is not a regular expression")
            }
            try n.finish()
        }
        if let o = try r.object("binotel") { binotel = PathSecret(secret: try o.secret("secret")); try o.finish() }
        if let o = try r.object("freeswitch") { freeswitch = PathSecret(secret: try o.secret("secret")); try o.finish() }
        if let o = try r.object("pbx") { pbx = PathSecret(secret: try o.secret("secret")); try o.finish() }
        if let o = try r.object("twilio") {
            twilio = Twilio(authToken: try o.secret("auth_token", minimumLength: 8))
            try o.finish()
        }
        if let o = try r.object("telegram") {
            telegram = Telegram(secretToken: try o.secret("secret_token"), botUsername: try o.string("bot_username"))
            try o.finish()
        }
        if let o = try r.object("viber") {
            viber = Viber(authToken: try o.secret("auth_token", minimumLength: 8), botName: try o.string("bot_name"))
            try o.finish()
        }
        if let f = try r.object("forms") {
            for name in f.keys {
                guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
                    throw ConfigurationError("forms: the name \"\(name)\" may only have letters, digits, - and _")
                }
                guard let o = try f.object(name) else { continue }
                let m = FormMapping(name: try o.strings("name") ?? [], firstName: try o.strings("first_name") ?? [],
                                    lastName: try o.strings("last_name") ?? [], email: try o.strings("email") ?? [],
                                    phone: try o.strings("phone") ?? [], message: try o.strings("message") ?? [],
                                    company: try o.strings("company") ?? [], id: try o.strings("id") ?? [],
                                    time: try o.strings("time") ?? [], title: try o.strings("title") ?? [])
                forms[name] = Form(secret: try o.secret("secret"), mapping: m)
                try o.finish()
            }
            try f.finish()
        }
        if let list = try r.array("asterisk") {
            for (i, item) in list.enumerated() {
                let o = try ConfigObject(item, "asterisk[\(i)]")
                guard let p = try o.string("path") else { throw ConfigurationError("asterisk[\(i)].path is missing") }
                var layout = AsteriskCDR.Layout.auto
                switch o.raw("layout") {
                case nil, .string("auto")?: layout = .auto
                case .string("standard")?: layout = .standard
                case .string("custom")?: layout = .custom(AsteriskCDR.customSampleColumns)
                case .array(let cols)?:
                    let names = cols.compactMap(\.stringValue)
                    guard names.count == cols.count, !names.isEmpty else { throw ConfigurationError("asterisk[\(i)].layout: a list of column names") }
                    layout = .custom(names)
                default: throw ConfigurationError("asterisk[\(i)].layout: \"auto\", \"standard\", \"custom\" or a list of columns")
                }
                asterisk.append(CDRFile(path: Self.resolve(p, base), layout: layout, timeZone: try o.string("time_zone"),
                                        follow: try o.bool("follow") ?? true, pollMilliseconds: try o.int("poll_ms", in: 50...3_600_000) ?? 1000))
                try o.finish()
            }
        }
        if let o = try r.object("mail") {
            guard let p = try o.string("path") else { throw ConfigurationError("mail.path is missing") }
            mail = Mail(path: Self.resolve(p, base), quarantine: try o.string("quarantine").map { Self.resolve($0, base) },
                        recipient: try o.string("recipient"), pollSeconds: try o.int("poll_seconds", in: 1...86_400) ?? 10)
            try o.finish()
        }
        if let o = try r.object("sender") {
            if let v = try o.int("backoff_initial_ms", in: 1...3_600_000) { sender.backoffInitial = .milliseconds(v) }
            if let v = try o.int("backoff_max_ms", in: 1...3_600_000) { sender.backoffMax = .milliseconds(v) }
            if let v = try o.int("max_internal_retries", in: 0...1000) { sender.maxInternalRetries = v }
            try o.finish()
        }
        try r.finish()
        guard TimeZone(identifier: timeZone) != nil else { throw ConfigurationError("time_zone: unknown zone \(timeZone)") }
    }

    /// `KONTOR_BRIDGE_*` variables (docs/BRIDGE.md, "Environment").
    public mutating func apply(environment env: [String: String]) throws {
        func v(_ k: String) -> String? { env["KONTOR_BRIDGE_" + k]?.nonEmpty }
        if let s = v("KONTORD_HOST") { kontordHost = s }
        if let s = v("KONTORD_PORT") {
            guard let p = Int(s), (1...65535).contains(p) else { throw ConfigurationError("KONTOR_BRIDGE_KONTORD_PORT is not a port number") }
            kontordPort = p
        }
        if let s = v("TOKEN_FILE") { token = try Self.readSecretFile(s) }
        if let s = v("TOKEN") { token = s }
        if let s = v("SPOOL_DIR") { spoolDirectory = URL(fileURLWithPath: s) }
        if let s = v("HTTP_HOST") { httpHost = s }
        if let s = v("HTTP_PORT") {
            guard let p = Int(s), (0...65535).contains(p) else { throw ConfigurationError("KONTOR_BRIDGE_HTTP_PORT is not a port number") }
            httpPort = p
        }
        if let s = v("PUBLIC_URL") { publicURL = s }
        if let s = v("TIME_ZONE") {
            guard TimeZone(identifier: s) != nil else { throw ConfigurationError("KONTOR_BRIDGE_TIME_ZONE: unknown zone \(s)") }
            timeZone = s
        }
        if let s = v("OUR_NUMBERS") {
            plan = NumberPlan(ourNumbers: s.split(separator: ",").map { String($0).trimmed }.filter { !$0.isEmpty },
                              extensionMaxDigits: plan.extensionMaxDigits, extensionPatterns: plan.extensionPatterns, region: plan.region)
        }
        // Path secrets from the environment obey the file's rule (at least 16 characters);
        // the message names the variable, never the value.
        func pathSecret(_ k: String) throws -> PathSecret? {
            guard let s = v(k) else { return nil }
            guard s.count >= 16 else { throw ConfigurationError("KONTOR_BRIDGE_\(k) is shorter than 16 characters") }
            return PathSecret(secret: s)
        }
        if let s = try pathSecret("BINOTEL_SECRET") { binotel = s }
        if let s = try pathSecret("FREESWITCH_SECRET") { freeswitch = s }
        if let s = try pathSecret("PBX_SECRET") { pbx = s }
        if let s = v("TWILIO_AUTH_TOKEN") { twilio = Twilio(authToken: s) }
        if let s = v("TELEGRAM_SECRET_TOKEN") { telegram = Telegram(secretToken: s, botUsername: telegram?.botUsername) }
        if let s = v("VIBER_AUTH_TOKEN") { viber = Viber(authToken: s, botName: viber?.botName) }
        for (k, value) in env where k.hasPrefix("KONTOR_BRIDGE_FORM_") && k.hasSuffix("_SECRET") {
            let name = String(k.dropFirst("KONTOR_BRIDGE_FORM_".count).dropLast("_SECRET".count)).lowercased()
            guard !name.isEmpty, let s = value.nonEmpty else { continue }
            guard s.count >= 16 else { throw ConfigurationError("\(k) is shorter than 16 characters") }
            forms[name] = Form(secret: s, mapping: forms[name]?.mapping ?? FormMapping())
        }
    }

    static func resolve(_ path: String, _ base: URL) -> String {
        path.hasPrefix("/") ? path : base.appendingPathComponent(path).standardizedFileURL.path
    }

    static func readSecretFile(_ path: String) throws -> String {
        guard let d = try? Data(contentsOf: URL(fileURLWithPath: path)), let s = String(data: d, encoding: .utf8)?.nonEmpty else {
            throw ConfigurationError("cannot read the token file \(path)")
        }
        return s
    }
}

/// A JSON object of the configuration file, remembering which keys were read.
final class ConfigObject {
    let object: [String: JSONValue]
    let path: String
    private var seen = Set<String>()

    init(_ v: JSONValue, _ path: String) throws {
        guard let o = v.objectValue else { throw ConfigurationError("\(path.isEmpty ? "the file" : path) must be an object") }
        object = o
        self.path = path
    }

    var keys: [String] { object.keys.sorted() }
    func name(_ k: String) -> String { path.isEmpty ? k : path + "." + k }
    func raw(_ k: String) -> JSONValue? { seen.insert(k); return object[k] }

    func string(_ k: String) throws -> String? {
        switch raw(k) {
        case nil, .null?: return nil
        case .string(let s)?: return s
        default: throw ConfigurationError("\(name(k)) must be a string")
        }
    }

    func secret(_ k: String, minimumLength: Int = 16) throws -> String {
        guard let s = try string(k), !s.isEmpty else { throw ConfigurationError("\(name(k)) is missing") }
        guard s.count >= minimumLength else { throw ConfigurationError("\(name(k)) is shorter than \(minimumLength) characters") }
        return s
    }

    func int(_ k: String) throws -> Int? {
        switch raw(k) {
        case nil, .null?: return nil
        case .number(let n)?: if let i = Int(n) { return i }
        default: break
        }
        throw ConfigurationError("\(name(k)) must be an integer")
    }

    func int(_ k: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let i = try int(k) else { return nil }
        guard range.contains(i) else { throw ConfigurationError("\(name(k)) must be from \(range.lowerBound) to \(range.upperBound)") }
        return i
    }

    func bool(_ k: String) throws -> Bool? {
        switch raw(k) {
        case nil, .null?: return nil
        case .bool(let b)?: return b
        default: throw ConfigurationError("\(name(k)) must be true or false")
        }
    }

    func strings(_ k: String) throws -> [String]? {
        switch raw(k) {
        case nil, .null?: return nil
        case .string(let s)?: return [s]
        case .array(let a)?:
            let s = a.compactMap(\.stringValue)
            if s.count == a.count { return s }
        default: break
        }
        throw ConfigurationError("\(name(k)) must be a list of strings")
    }

    func object(_ k: String) throws -> ConfigObject? {
        guard let v = raw(k), v != .null else { return nil }
        return try ConfigObject(v, name(k))
    }

    func array(_ k: String) throws -> [JSONValue]? {
        switch raw(k) {
        case nil, .null?: return nil
        case .array(let a)?: return a
        default: throw ConfigurationError("\(name(k)) must be a list")
        }
    }

    /// Fails on keys nobody read.
    func finish() throws {
        let unknown = object.keys.filter { !seen.contains($0) }.sorted()
        if let k = unknown.first { throw ConfigurationError("unknown key \(name(k))") }
    }
}
