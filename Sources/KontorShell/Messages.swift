import Foundation
import KontorClient
import KontorDomain
import KontorProtocol

/// Errors as one line a person can read: `error: KIND: message (detail=value …)`.
public enum ErrorText {
    /// The one line for any failure (no trailing newline).
    public static func line(_ error: Error) -> String {
        switch error {
        case let e as KontorError:
            var extra = e.data.filter { $0.key != "kind" }.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " ")
            if !extra.isEmpty { extra = " (" + extra + ")" }
            return TerminalText.sanitize("error: \(e.kind.rawValue): \(e.message)\(extra)")
        case let e as ShellError:
            return TerminalText.sanitize("error: \(e.kind): \(e.message)")
        case let e as KontorClientError:
            return TerminalText.sanitize("error: connection: \(e)")
        default:
            return TerminalText.sanitize("error: \(error)")
        }
    }

    /// The exit status for a failure: 2 for a command the client could not read, 1 for
    /// anything else.
    public static func exitStatus(_ error: Error) -> Int32 {
        if let e = error as? ShellError, e.kind == "usage" { return 2 }
        return 1
    }
}

/// Server pushes as one line: `» reminder.due: Call back about the toner (contact_id=12)`.
public enum PushText {
    static let textKeys = ["text", "message", "title", "body", "summary", "subject", "note"]

    /// One line for a push: its text field first, then its other fields as `key=value`, cut to `width`.
    public static func line(method: String, params: JSONValue, width: Int) -> String {
        var parts: [String] = []
        var details: [String] = []
        if case .object(let o) = params {
            if let k = textKeys.first(where: { o[$0]?.stringValue?.isEmpty == false }), let t = o[k]?.stringValue {
                parts.append(t)
            }
            for k in ResultRenderer.ordered(o.keys) where !textKeys.contains(k) {
                guard let v = o[k], !ResultRenderer.isEmpty(v) else { continue }
                let text = ResultRenderer.cellText(v, key: k)
                details.append("\(k)=\(text.contains(" ") ? "\"\(text)\"" : text)")
            }
        } else if params != .null {
            details.append(ResultRenderer.scalarText(params))
        }
        var line = "» \(method)"
        if !parts.isEmpty { line += ": " + parts.joined(separator: " ") }
        if !details.isEmpty { line += (parts.isEmpty ? ": " : " (") + details.joined(separator: " ") + (parts.isEmpty ? "" : ")") }
        return TerminalText.truncate(TerminalText.sanitize(line), to: max(20, width))
    }
}

/// Where the client keeps its files: `$XDG_CONFIG_HOME/kontor` (default `~/.config/kontor`).
public enum ConfigFiles {
    /// The client's folder.
    public static var directory: URL { directory(environment: ProcessInfo.processInfo.environment) }

    /// The folder for these environment variables. `~` is `$HOME` as every Unix program
    /// reads it (Foundation on Linux ignores `$HOME` for root and asks the password
    /// database), then the password database's home.
    public static func directory(environment env: [String: String]) -> URL {
        let home = env["HOME"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser
        let base = env["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
            ?? home.appendingPathComponent(".config")
        return base.appendingPathComponent("kontor")
    }

    /// The REPL's history (mode 0600).
    public static var history: URL { directory.appendingPathComponent("history") }

    /// Makes the folder (mode 0700) if needed.
    public static func ensureDirectory() throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    /// Creates `url` empty with mode 0600 when missing, and sets 0600 when present.
    public static func makePrivate(_ url: URL) throws {
        try ensureDirectory()
        let fd = open(url.path, O_WRONLY | O_CREAT, 0o600)
        guard fd >= 0 else { throw ShellError("io", "cannot open \(url.path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        _ = fchmod(fd, 0o600)
    }
}

/// The saved login: `session.json` in `ConfigFiles.directory`, file mode 0600. Holds
/// the server address, login and session token (never the password).
public enum SessionFile {
    /// What is kept about a login.
    public struct Saved: Codable, Sendable, Equatable {
        /// `host:port` of the server the session belongs to.
        public var server: String
        /// The login name.
        public var login: String
        /// The secret to resume the session with (`auth.resume`).
        public var sessionToken: String
        /// A saved session.
        public init(server: String, login: String, sessionToken: String) {
            self.server = server; self.login = login; self.sessionToken = sessionToken
        }
    }

    /// The file (`session.json`).
    public static var url: URL { ConfigFiles.directory.appendingPathComponent("session.json") }

    /// The saved session, or nil when there is none or it cannot be read.
    public static func load() -> Saved? {
        guard let data = try? Data(contentsOf: url), let v = try? JSONValue.parse(Array(data)) else { return nil }
        return try? JSONValueDecoder(strict: false).decode(Saved.self, from: v)
    }

    /// Writes the session (the file is created with mode 0600 before the secret goes in).
    public static func save(_ s: Saved) throws {
        try ConfigFiles.ensureDirectory()
        let text = try JSONValueEncoder().encode(s).prettyText + "\n"
        // Created with 0600 before the secret is written.
        let fd = open(url.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw ShellError("io", "cannot write \(url.path)") }
        defer { close(fd) }
        _ = fchmod(fd, 0o600)
        let bytes = Array(text.utf8)
        guard write(fd, bytes, bytes.count) == bytes.count else { throw ShellError("io", "cannot write \(url.path)") }
    }

    /// Forgets the saved session.
    public static func remove() { try? FileManager.default.removeItem(at: url) }
}
