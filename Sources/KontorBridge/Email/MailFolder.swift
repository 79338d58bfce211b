import Foundation
import KontorProtocol
import Logging

/// Takes e-mail files from a Maildir or a plain folder into the spool.
///
/// * Maildir (the folder has `new/`): each file in `new/` is parsed, spooled, then moved
///   to `cur/` with the `:2,` info suffix (Maildir spec, "cur" and "info").
/// * Plain folder: each `*.eml` file is parsed, spooled, then moved into `processed/`
///   (or left where it is with `moveProcessed: false`; a second run spools it again and
///   kontord answers `duplicate`).
/// * A file GMime cannot read, or one larger than ``maxMessageBytes``, is moved to the
///   quarantine folder with a `<name>.reason.txt` beside it; the run goes on.
public final class MailFolder: Sendable {
    public let directory: URL
    public let quarantine: URL
    public let recipient: String?
    public let moveProcessed: Bool
    public let spool: Spool?
    public let state: StateStore?
    private let logger: Logger

    /// What one run did.
    public struct Summary: Sendable, Equatable {
        public var spooled = 0
        public var quarantined = 0
        /// The parsed messages (for `--dry-run` and tests).
        public var messages: [IngestMethods.MessageIngestParams] = []
        /// Quarantined files and why.
        public var problems: [String] = []
    }

    /// The largest message file read (a file is parsed in memory): 64 MiB.
    public static let maxMessageBytes = 64 << 20

    /// `spool` nil = dry run: parse and report, move nothing.
    public init(directory: URL, quarantine: URL? = nil, recipient: String? = nil, moveProcessed: Bool = true,
                spool: Spool?, state: StateStore?, logger: Logger = Logger(label: "kontor-bridge.mail")) {
        self.directory = directory
        self.quarantine = quarantine ?? directory.appendingPathComponent("quarantine")
        self.recipient = recipient; self.moveProcessed = moveProcessed; self.spool = spool; self.state = state; self.logger = logger
    }

    /// True when the folder is a Maildir (it has `new/`).
    public var isMaildir: Bool {
        var dir: ObjCBool = false
        return FileManager.default.fileExists(atPath: directory.appendingPathComponent("new").path, isDirectory: &dir) && dir.boolValue
    }

    /// The files waiting, oldest name first.
    func pendingFiles() throws -> [URL] {
        let fm = FileManager.default
        let folder = isMaildir ? directory.appendingPathComponent("new") : directory
        let names = try fm.contentsOfDirectory(atPath: folder.path).filter { !$0.hasPrefix(".") }.sorted()
        return names.compactMap { name -> URL? in
            let url = folder.appendingPathComponent(name)
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: url.path, isDirectory: &isDir), !isDir.boolValue else { return nil }
            if !isMaildir, !name.lowercased().hasSuffix(".eml") { return nil }
            return url
        }
    }

    /// Processes every waiting file once. Throws only when the spool cannot be written
    /// (the file then stays for the next run).
    public func runOnce() throws -> Summary {
        var summary = Summary()
        for file in try pendingFiles() {
            if let size = FileIO.stat(file.path)?.size, size > Self.maxMessageBytes {
                let why = "the file is \(size) bytes; messages larger than \(Self.maxMessageBytes) bytes are not read"
                summary.quarantined += 1
                summary.problems.append("\(file.lastPathComponent): \(why)")
                if spool != nil { try quarantineFile(file, reason: why) }
                state?.count("email", \.rejected)
                continue
            }
            let raw: [UInt8]
            do { raw = Array(try Data(contentsOf: file)) } catch {
                logger.warning("cannot read \(file.path): \(error)")
                continue
            }
            let mtime = (try? FileManager.default.attributesOfItem(atPath: file.path)[.modificationDate] as? Date) ?? Date()
            let message: IngestMethods.MessageIngestParams
            do {
                message = try EmailParser.parse(raw: raw, recipient: recipient, fallbackDate: mtime)
            } catch {
                summary.quarantined += 1
                summary.problems.append("\(file.lastPathComponent): \(error)")
                if spool != nil { try quarantineFile(file, reason: "\(error)") }
                state?.count("email", \.rejected)
                continue
            }
            summary.messages.append(message)
            guard let spool else { continue }
            try spool.appendBlocking([try SpoolEvent.message(message, source: "email")])
            summary.spooled += 1
            state?.count("email", \.spooled)
            try markProcessed(file)
        }
        return summary
    }

    /// Runs every `interval` until cancelled.
    public func run(interval: Duration) async {
        while !Task.isCancelled {
            do { _ = try runOnce() } catch {
                logger.warning("mail folder: \(error)")
                state?.recordError("mail \(directory.path): \(error)")
            }
            try? await Task.sleep(for: interval)
        }
    }

    private func markProcessed(_ file: URL) throws {
        let fm = FileManager.default
        if isMaildir {
            let cur = directory.appendingPathComponent("cur")
            try fm.createDirectory(at: cur, withIntermediateDirectories: true)
            let name = file.lastPathComponent.contains(":2,") ? file.lastPathComponent : file.lastPathComponent + ":2,"
            try fm.moveItem(at: file, to: unique(cur.appendingPathComponent(name)))
        } else if moveProcessed {
            let done = directory.appendingPathComponent("processed")
            try fm.createDirectory(at: done, withIntermediateDirectories: true)
            try fm.moveItem(at: file, to: unique(done.appendingPathComponent(file.lastPathComponent)))
        }
    }

    private func quarantineFile(_ file: URL, reason: String) throws {
        let fm = FileManager.default
        try fm.createDirectory(at: quarantine, withIntermediateDirectories: true)
        let target = unique(quarantine.appendingPathComponent(file.lastPathComponent))
        try fm.moveItem(at: file, to: target)
        let note = "file: \(file.path)\nquarantined: \(Date())\nreason: \(reason)\n"
        try Data(note.utf8).write(to: URL(fileURLWithPath: target.path + ".reason.txt"))
        logger.warning("e-mail quarantined", metadata: ["file": "\(file.lastPathComponent)", "why": "\(reason)"])
    }

    private func unique(_ url: URL) -> URL {
        var candidate = url
        var n = 1
        while FileManager.default.fileExists(atPath: candidate.path) {
            candidate = url.deletingLastPathComponent().appendingPathComponent("\(url.lastPathComponent).\(n)")
            n += 1
        }
        return candidate
    }
}
