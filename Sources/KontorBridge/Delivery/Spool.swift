import Dispatch
import Foundation
import KontorDomain
import KontorProtocol
#if canImport(Glibc)
import Glibc
#endif

/// One event waiting to be delivered: a protocol call to make.
public struct SpoolEvent: Sendable, Equatable {
    /// Where it came from (`binotel`, `twilio`, `asterisk`, `telegram`, `form:site`,
    /// `email`, ...), for counters and logs.
    public var source: String
    /// The method to call (`call.ingest`, `message.ingest`).
    public var method: String
    public var params: JSONValue
    /// The event's external id, for logs and the dead-letter file.
    public var key: String?
    /// When the bridge accepted it.
    public var spooledAt: Date

    /// An event; `spooledAt` defaults to now.
    public init(source: String, method: String, params: JSONValue, key: String? = nil, spooledAt: Date = Date()) {
        self.source = source; self.method = method; self.params = params; self.key = key; self.spooledAt = spooledAt
    }

    /// A call record, fitted to kontord's limits (``EventShaping``).
    public static func call(_ p: IngestMethods.CallIngestParams, source: String, at: Date = Date()) throws -> SpoolEvent {
        SpoolEvent(source: source, method: "call.ingest", params: try EventShaping.encodeFitting(p), key: p.externalID, spooledAt: at)
    }

    /// A message, fitted to kontord's limits (``EventShaping``).
    public static func message(_ p: IngestMethods.MessageIngestParams, source: String, at: Date = Date()) throws -> SpoolEvent {
        SpoolEvent(source: source, method: "message.ingest", params: try EventShaping.encodeFitting(p), key: p.externalID, spooledAt: at)
    }

    var json: JSONValue {
        var o: [String: JSONValue] = [
            "v": 1, "source": .string(source), "method": .string(method), "params": params,
            "spooled_at": .string(RFC3339.format(spooledAt, timeZone: TimeZone(secondsFromGMT: 0) ?? .current)),
        ]
        if let key { o["key"] = .string(key) }
        return .object(o)
    }

    init?(json: JSONValue) {
        guard let source = json["source"]?.stringValue, let method = json["method"]?.stringValue,
              let params = json["params"], let at = json["spooled_at"]?.stringValue.flatMap(RFC3339.parse) else { return nil }
        self.init(source: source, method: method, params: params, key: json["key"]?.stringValue, spooledAt: at)
    }
}

/// A place in the spool: a segment file and a byte offset in it.
public struct SpoolPosition: Sendable, Equatable, Comparable, CustomStringConvertible {
    public var segment: Int
    public var offset: Int
    public static func < (a: SpoolPosition, b: SpoolPosition) -> Bool {
        (a.segment, a.offset) < (b.segment, b.offset)
    }
    public var description: String { "\(segment):\(offset)" }
}

/// One record read from the spool.
public struct SpoolEntry: Sendable {
    public var position: SpoolPosition
    /// Offset just past the record's newline.
    public var end: Int
    /// nil when the line is not a readable record (it goes to the dead letters).
    public var event: SpoolEvent?
    public var line: [UInt8]
}

/// The on-disk queue between the providers and `kontord`.
///
/// Layout of the directory:
/// * `segments/NNNNNNNNNNNN.jsonl` — records, one JSON object per line, appended in
///   order; a new segment starts when the last one passes `segmentMaxBytes`;
/// * `cursor` — `{"segment":N,"offset":B}`: everything before it is delivered (or dead);
/// * `dead-letter.jsonl` — records kontord refused for good, with the error;
/// * `append.lock`, `sender.lock` — `flock` files: appends from several processes are
///   serialised; one sender at a time.
///
/// Guarantees: ``append(_:)`` returns only after the records and (for a new segment)
/// the directory entry are fsynced, so an acknowledged event survives a crash or power
/// loss. A record torn by a crash in the middle of an append was never acknowledged and
/// is cut off before the next append. The cursor moves only after kontord answered, so
/// a crash between the call and the cursor update resends the record (ingestion is
/// idempotent by external id).
public final class Spool: Sendable {
    public let directory: URL
    public let segmentMaxBytes: Int
    let segmentsPath: String
    let cursorPath: String
    let deadLetterPath: String
    private let appendLock: FileLock
    private let queue = DispatchQueue(label: "kontor-bridge.spool")

    /// Opens the spool in `directory`, creating it when missing.
    public init(directory: URL, segmentMaxBytes: Int = 8 << 20) throws {
        self.directory = directory
        self.segmentMaxBytes = segmentMaxBytes
        segmentsPath = directory.appendingPathComponent("segments").path
        cursorPath = directory.appendingPathComponent("cursor").path
        deadLetterPath = directory.appendingPathComponent("dead-letter.jsonl").path
        try FileIO.makeDirectory(segmentsPath)
        appendLock = try FileLock(path: directory.appendingPathComponent("append.lock").path)
    }

    func segmentPath(_ n: Int) -> String {
        let s = String(n)
        return segmentsPath + "/" + String(repeating: "0", count: max(0, 12 - s.count)) + s + ".jsonl"
    }

    /// Segment numbers present, ascending.
    func segments() throws -> [Int] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: segmentsPath) } catch {
            throw FileIOError("list", segmentsPath, ENOENT)
        }
        return names.compactMap { n -> Int? in
            guard n.hasSuffix(".jsonl") else { return nil }
            return Int(n.dropLast(6))
        }.sorted()
    }

    // MARK: appending

    /// Appends records durably (blocking): written, fsynced, then returns.
    public func appendBlocking(_ events: [SpoolEvent]) throws {
        guard !events.isEmpty else { return }
        var bytes: [UInt8] = []
        for e in events {
            bytes += Array(e.json.jsonText.utf8)
            bytes.append(10)
        }
        try appendLock.withLock {
            var segs = try segments()
            if segs.isEmpty { segs = [try cursor().segment] }
            var last = segs[segs.count - 1]
            var path = segmentPath(last)
            if let st = FileIO.stat(path) {
                try repairTail(path: path, size: st.size)
                if (FileIO.stat(path)?.size ?? 0) >= segmentMaxBytes {
                    last += 1
                    path = segmentPath(last)
                }
            }
            try FileIO.appendDurably(path, bytes)
        }
    }

    /// Appends records durably without blocking the caller's thread.
    public func append(_ events: [SpoolEvent]) async throws {
        try await withCheckedThrowingContinuation { (cont: CheckedContinuation<Void, Error>) in
            queue.async {
                cont.resume(with: Result { try self.appendBlocking(events) })
            }
        }
    }

    /// Cuts a record torn by a crash (a last line without its newline).
    private func repairTail(path: String, size: Int) throws {
        guard size > 0 else { return }
        let fd = try FileIO.open(path, O_RDWR)
        defer { close(fd) }
        var last: UInt8 = 0
        guard pread(fd, &last, 1, off_t(size - 1)) == 1 else { throw FileIOError("read", path) }
        if last == 10 { return }
        // Find the last newline.
        var keep = 0
        var pos = size
        var chunk = [UInt8](repeating: 0, count: 65536)
        search: while pos > 0 {
            let start = max(0, pos - chunk.count)
            let n = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, pos - start, off_t(start)) }
            guard n == pos - start else { throw FileIOError("read", path) }
            for i in stride(from: n - 1, through: 0, by: -1) where chunk[i] == 10 {
                keep = start + i + 1
                break search
            }
            pos = start
        }
        if ftruncate(fd, off_t(keep)) != 0 { throw FileIOError("ftruncate", path) }
        try FileIO.fsync(fd, path: path)
    }

    // MARK: reading (one sender at a time)

    /// Where the next undelivered record is.
    public func cursor() throws -> SpoolPosition {
        if let bytes = try FileIO.read(cursorPath), let v = try? JSONValue.parse(bytes),
           let s = v["segment"]?.int64Value, let o = v["offset"]?.int64Value {
            return SpoolPosition(segment: Int(s), offset: Int(o))
        }
        let first = try segments().first ?? 1
        return SpoolPosition(segment: first, offset: 0)
    }

    func saveCursor(_ p: SpoolPosition) throws {
        let text = JSONValue.object(["segment": .number(String(p.segment)), "offset": .number(String(p.offset))]).jsonText
        try FileIO.replaceDurably(cursorPath, Array(text.utf8))
    }

    /// The record at the cursor, or nil when everything was delivered.
    public func next() throws -> SpoolEntry? {
        var pos = try cursor()
        while true {
            let segs = try segments()
            guard let first = segs.first else { return nil }
            if pos.segment < first { pos = SpoolPosition(segment: first, offset: 0) }
            let path = segmentPath(pos.segment)
            if let line = try readLine(path: path, offset: pos.offset) {
                return SpoolEntry(position: pos, end: pos.offset + line.count + 1,
                                  event: (try? JSONValue.parse(line)).flatMap(SpoolEvent.init(json:)), line: line)
            }
            // The segment is used up (or missing): move on when a later one exists.
            guard let later = segs.first(where: { $0 > pos.segment }) else { return nil }
            let old = pos.segment
            pos = SpoolPosition(segment: later, offset: 0)
            try saveCursor(pos)
            try? FileManager.default.removeItem(atPath: segmentPath(old))
        }
    }

    /// The complete line starting at `offset`, without its newline; nil at the end.
    private func readLine(path: String, offset: Int) throws -> [UInt8]? {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw FileIOError("open", path)
        }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        var at = offset
        while true {
            let n = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, $0.count, off_t(at)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileIOError("read", path)
            }
            if n == 0 { return nil }  // no newline yet: incomplete or end
            if let nl = chunk[0..<n].firstIndex(of: 10) {
                out += chunk[0..<nl]
                return out
            }
            out += chunk[0..<n]
            at += n
        }
    }

    /// Marks a record delivered: the cursor moves past it (durably).
    public func markDone(_ entry: SpoolEntry) throws {
        try saveCursor(SpoolPosition(segment: entry.position.segment, offset: entry.end))
    }

    /// Appends a refused record to `dead-letter.jsonl` with why (the caller then marks it done).
    public func deadLetter(_ entry: SpoolEntry, error: String, kind: String?) throws {
        var o: [String: JSONValue] = [
            "failed_at": .string(RFC3339.format(Date(), timeZone: TimeZone(secondsFromGMT: 0) ?? .current)),
            "error": .string(error),
        ]
        if let kind { o["kind"] = .string(kind) }
        if let record = try? JSONValue.parse(entry.line) {
            o["record"] = record
        } else {
            o["record_base64"] = .string(Data(entry.line).base64EncodedString())
        }
        try FileIO.appendDurably(deadLetterPath, Array((JSONValue.object(o).jsonText + "\n").utf8))
    }

    /// Records not delivered yet.
    public func depth() throws -> Int {
        let pos = try cursor()
        var count = 0
        for s in try segments() where s >= pos.segment {
            guard let bytes = try FileIO.read(segmentPath(s)) else { continue }
            let from = s == pos.segment ? min(pos.offset, bytes.count) : 0
            count += bytes[from...].reduce(0) { $1 == 10 ? $0 + 1 : $0 }
        }
        return count
    }

    /// Lines in the dead-letter file.
    public func deadLetterCount() throws -> Int {
        guard let bytes = try FileIO.read(deadLetterPath) else { return 0 }
        return bytes.reduce(0) { $1 == 10 ? $0 + 1 : $0 }
    }

    /// Every record not delivered yet, oldest first (for `status` and tests).
    public func pending() throws -> [SpoolEvent] {
        let pos = try cursor()
        var out: [SpoolEvent] = []
        for s in try segments() where s >= pos.segment {
            guard let bytes = try FileIO.read(segmentPath(s)) else { continue }
            let from = s == pos.segment ? min(pos.offset, bytes.count) : 0
            for line in bytes[from...].split(separator: 10) {
                if let e = (try? JSONValue.parse(line)).flatMap(SpoolEvent.init(json:)) { out.append(e) }
            }
        }
        return out
    }

    /// Takes the sender lock if no other sender holds it.
    func trySenderLock() throws -> FileLock? {
        let l = try FileLock(path: directory.appendingPathComponent("sender.lock").path)
        return l.tryLock() ? l : nil
    }
}
