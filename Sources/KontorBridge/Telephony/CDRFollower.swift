import Foundation
import KontorProtocol
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Follows an Asterisk CDR CSV file like `tail -f`, spooling each new record.
///
/// * Only complete records are taken (a record is complete once its line break is
///   written; a quoted line break inside a field does not end it).
/// * The offset (with the file's device and inode) is kept in
///   `cdr-<hash of the path>.offset` in the spool directory and written durably **after**
///   the records are spooled: a crash in between spools them again (ingestion is
///   idempotent by external id), never loses them.
/// * Rotation (the path now names another file): the old file is read to its end, then
///   the new one from its start. Truncation (the file shrank): read again from the start.
/// * On start, a saved offset is used when it belongs to the same file; otherwise the
///   file is read from the beginning.
/// * Records that cannot be read are counted as rejected and logged; never fatal.
/// * The file is read ``chunkBytes`` at a time (a large file met for the first time is
///   not read into memory whole). A record still incomplete after ``maxRecordBytes``
///   (a quote that never closes: an Asterisk CDR is a few hundred bytes) is refused up to
///   its first line break, so one broken record never stops the records after it.
public final class CDRFollower: Sendable {
    public let path: String
    public let options: AsteriskCDR.Options
    public let spool: Spool
    public let state: StateStore
    public let source: String
    let offsetPath: String
    private let logger: Logger
    private let position = Mutex<Position>(Position())

    struct Position {
        var fd: Int32 = -1
        var device: UInt64 = 0
        var inode: UInt64 = 0
        var offset = 0
        var line = 1
        var columns: [String]? = nil
        /// The last bytes before `offset`: when they change, the file was truncated and
        /// rewritten (copytruncate), even if it has grown past the offset again.
        var tail: [UInt8] = []
    }

    static let tailLength = 128
    /// The most bytes read at once.
    static let chunkBytes = 4 << 20
    /// The longest record taken.
    static let maxRecordBytes = 64 << 10

    private func readTail(_ fd: Int32, before offset: Int) -> [UInt8] {
        let n = min(offset, Self.tailLength)
        guard n > 0 else { return [] }
        var buf = [UInt8](repeating: 0, count: n)
        let got = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, n, off_t(offset - n)) }
        return got == n ? buf : []
    }

    /// A follower of `path`; its offset file lives in the spool directory.
    public init(path: String, options: AsteriskCDR.Options, spool: Spool, state: StateStore, source: String = "asterisk",
                logger: Logger = Logger(label: "kontor-bridge.cdr")) {
        self.path = path; self.options = options; self.spool = spool; self.state = state; self.source = source; self.logger = logger
        offsetPath = spool.directory.appendingPathComponent("cdr-\(Hashing.sha256Hex(Array(path.utf8)).prefix(16)).offset").path
    }

    deinit {
        let fd = position.withLock { $0.fd }
        if fd >= 0 { close(fd) }
    }

    /// Reads what is new and spools it. Returns the number of records spooled.
    @discardableResult
    public func poll() throws -> Int {
        try position.withLock { p in
            var total = 0
            if p.fd < 0 { try open(&p) }
            guard p.fd >= 0 else { return 0 }
            total += try readNew(&p)
            // Rotated: the path names another file (or none yet). Finish the old one first.
            let current = FileIO.stat(path)
            if let current, current.device != p.device || current.inode != p.inode {
                total += try readNew(&p)
                logger.info("CDR file rotated; reading the new one", metadata: ["path": "\(path)"])
                close(p.fd)
                p = Position()
                try open(&p)
                if p.fd >= 0 { total += try readNew(&p) }
            }
            return total
        }
    }

    /// Polls every `interval` until cancelled; errors are logged and retried.
    public func run(interval: Duration) async {
        while !Task.isCancelled {
            do { try poll() } catch {
                logger.warning("CDR follow: \(error)", metadata: ["path": "\(path)"])
                state.recordError("CDR \(path): \(error)")
            }
            try? await Task.sleep(for: interval)
        }
    }

    private func open(_ p: inout Position) throws {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return }
            throw FileIOError("open", path)
        }
        guard let st = FileIO.fstat(fd) else { close(fd); throw FileIOError("fstat", path) }
        p.fd = fd
        p.device = st.device
        p.inode = st.inode
        p.offset = 0
        p.line = 1
        p.columns = nil
        if let saved = try FileIO.read(offsetPath).flatMap({ try? JSONValue.parse($0) }),
           saved["device"]?.scalarText == String(st.device), saved["inode"]?.scalarText == String(st.inode),
           let offset = saved["offset"]?.intValue, offset <= st.size {
            p.offset = offset
            p.line = saved["line"]?.intValue ?? 1
            p.tail = saved["tail"]?.stringValue.flatMap(TextDecoding.bytes(hex:)) ?? readTail(fd, before: offset)
            if case .array(let cols)? = saved["columns"] { p.columns = cols.compactMap(\.stringValue) }
        }
    }

    private func readNew(_ p: inout Position) throws -> Int {
        guard let st = FileIO.fstat(p.fd) else { throw FileIOError("fstat", path) }
        if st.size < p.offset || (p.offset > 0 && readTail(p.fd, before: p.offset) != p.tail) {
            logger.info("CDR file truncated; reading from the start", metadata: ["path": "\(path)"])
            p.offset = 0
            p.line = 1
            p.columns = nil
            p.tail = []
        }
        var total = 0
        while st.size > p.offset {
            let bytes = try FileIO.readChunk(p.fd, path: path, from: p.offset, count: min(Self.chunkBytes, st.size - p.offset))
            guard !bytes.isEmpty else { break }
            let (records, consumed, nextLine) = CSVParser.parse(bytes, delimiter: UInt8(ascii: ","), final: false,
                                                                firstLine: p.line, baseOffset: p.offset)
            if consumed > 0 {
                total += try take(records, bytes: bytes, consumed: consumed, nextLine: nextLine, &p)
                continue
            }
            guard bytes.count >= Self.maxRecordBytes else { break }  // the record is not complete yet
            // No record ends within maxRecordBytes: an unclosed quote. Refuse its first line.
            let skip = (bytes.firstIndex(of: 10) ?? (bytes.count - 1)) + 1
            logger.warning("CDR record refused", metadata: ["path": "\(path)", "line": "\(p.line)",
                                                              "why": "no complete record within \(Self.maxRecordBytes) bytes (an unclosed quote?)"])
            state.count(source, \.rejected)
            state.recordError("CDR \(path): line \(p.line) is not a complete record; skipped")
            try take([], bytes: bytes, consumed: skip, nextLine: p.line + 1, &p)
        }
        return total
    }

    /// Spools the records of one chunk, then moves the offset past `consumed` bytes.
    @discardableResult
    private func take(_ records: [CSVRecord], bytes: [UInt8], consumed: Int, nextLine: Int, _ p: inout Position) throws -> Int {
        var events: [SpoolEvent] = []
        var rejected = 0
        for r in records where !r.isBlank {
            let cols: [String]
            if let c = p.columns { cols = c } else {
                cols = AsteriskCDR.columns(for: r, layout: options.layout)
                if case .standard = options.layout {} else { p.columns = cols }
            }
            do {
                let local = bytes[(r.start - p.offset)..<(r.end - p.offset)]
                let call = try AsteriskCDR.call(record: r, columns: cols, bytes: local, options: options)
                events.append(try SpoolEvent.call(call, source: source))
            } catch {
                rejected += 1
                logger.warning("CDR record refused", metadata: ["path": "\(path)", "line": "\(r.line)", "why": "\(error)"])
            }
        }
        try spool.appendBlocking(events)
        p.offset += consumed
        p.line = nextLine
        p.tail = readTail(p.fd, before: p.offset)
        var saved: [String: JSONValue] = [
            "path": .string(path), "device": .number(String(p.device)), "inode": .number(String(p.inode)),
            "offset": .number(String(p.offset)), "line": .number(String(p.line)), "tail": .string(TextDecoding.hex(p.tail)),
        ]
        if let c = p.columns { saved["columns"] = .array(c.map(JSONValue.string)) }
        try FileIO.replaceDurably(offsetPath, Array(JSONValue.object(saved).jsonText.utf8))
        if !events.isEmpty { state.count(source, \.spooled, events.count) }
        if rejected > 0 {
            state.count(source, \.rejected, rejected)
            state.recordError("CDR \(path): \(rejected) record(s) could not be read")
        }
        return events.count
    }
}
