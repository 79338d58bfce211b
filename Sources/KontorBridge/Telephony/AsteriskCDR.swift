import Foundation
import KontorProtocol

/// Asterisk CDR CSV files → `call.ingest`, one call per CSV record (a leg).
///
/// Sources: Asterisk documentation "CDR Fields" and the `cdr_csv` module (Master.csv:
/// `accountcode, src, dst, dcontext, clid, channel, dstchannel, lastapp, lastdata,
/// start, answer, end, duration, billsec, disposition, amaflags, uniqueid, userfield`,
/// every value quoted, times as local `YYYY-MM-DD HH:MM:SS` unless `usegmtime`), and
/// `cdr_custom.conf.sample` (the columns are whatever the `Master.csv => ${CSV_QUOTE(...)}`
/// mapping lists; the shipped sample starts with `clid` and ends with an unquoted
/// `${CDR(sequence)}`).
///
/// Rules:
/// * `external_id` = `uniqueid`, plus `#sequence` when the layout has a sequence (one
///   channel may write several CDRs); without a `uniqueid` column, `sha256:` + the
///   record's bytes.
/// * `linked_id` = `linkedid` when the layout has it; legs are grouped by it in batch
///   imports (each leg is still its own `call.ingest`).
/// * answered when `disposition` is `ANSWERED` and `billsec` > 0; `wait_seconds` =
///   `duration − billsec`.
/// * the direction and parties come from `src`/`dst` through the ``NumberPlan``; the
///   manager's line falls back to the SIP peer of `dstchannel`/`channel`.
/// * the caller id name of `clid` names an inbound caller (`remote_name`);
/// * bytes that are not UTF-8 are decoded lossily and kept as base64 in `raw`.
public enum AsteriskCDR {
    /// `cdr_csv`'s Master.csv columns (Asterisk `cdr_csv.c`, with `loguniqueid` and `loguserfield`).
    public static let standardColumns = [
        "accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp", "lastdata",
        "start", "answer", "end", "duration", "billsec", "disposition", "amaflags", "uniqueid", "userfield",
    ]
    /// The layout of Asterisk's `cdr_custom.conf.sample` `Master.csv` mapping.
    public static let customSampleColumns = [
        "clid", "src", "dst", "dcontext", "channel", "dstchannel", "lastapp", "lastdata", "start", "answer", "end",
        "duration", "billsec", "disposition", "amaflags", "accountcode", "uniqueid", "userfield", "sequence",
    ]
    static let dispositions: Set<String> = ["ANSWERED", "NO ANSWER", "BUSY", "FAILED", "CONGESTION"]

    /// Which columns a file has.
    public enum Layout: Sendable, Equatable {
        /// Decide from the first record: where the disposition column is.
        case auto
        /// `cdr_csv`'s Master.csv (18 columns; further columns: `linkedid` when the
        /// value looks like a unique id, `sequence` when it is an integer).
        case standard
        /// A `cdr_custom` mapping: the CDR variable names in file order.
        case custom([String])
    }

    /// How to read a file: its layout, its zone and whose numbers are ours.
    public struct Options: Sendable, Equatable {
        public var layout: Layout
        /// The PBX's zone for its local times (Asterisk's `usegmtime=yes` → UTC).
        public var timeZone: TimeZone
        public var plan: NumberPlan

        public init(layout: Layout = .auto, timeZone: TimeZone, plan: NumberPlan = NumberPlan()) {
            self.layout = layout; self.timeZone = timeZone; self.plan = plan
        }
    }

    /// One record that could not be read, with why.
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        public var line: Int
        public var reason: String
        public var description: String { "line \(line): \(reason)" }
    }

    /// The calls of a file (grouped by linked id) and the records that were refused.
    public struct Batch: Sendable {
        public var calls: [IngestMethods.CallIngestParams]
        public var problems: [Problem]
    }

    /// Column names for a record of this layout.
    public static func columns(for record: CSVRecord, layout: Layout) -> [String] {
        switch layout {
        case .custom(let c): return c.map { $0.lowercased() }
        case .standard: return standardWithExtras(record)
        case .auto:
            let text = record.fields.map { TextDecoding.lossyUTF8($0).trimmed.uppercased() }
            if text.count > 14, dispositions.contains(text[14]) { return standardWithExtras(record) }
            if text.count > 13, dispositions.contains(text[13]), text.count <= customSampleColumns.count { return customSampleColumns }
            return standardWithExtras(record)
        }
    }

    static func standardWithExtras(_ record: CSVRecord) -> [String] {
        var cols = standardColumns
        var sawLinked = false, sawSequence = false
        for i in standardColumns.count..<max(standardColumns.count, record.fields.count) {
            let v = TextDecoding.lossyUTF8(record.fields[i]).trimmed
            if !sawLinked, v.contains("."), v.allSatisfy({ $0.isNumber || $0 == "." || $0.isLetter || $0 == "-" }) {
                cols.append("linkedid"); sawLinked = true
            } else if !sawSequence, !v.isEmpty, v.allSatisfy(\.isNumber) {
                cols.append("sequence"); sawSequence = true
            } else {
                cols.append("extra\(i + 1)")
            }
        }
        return cols
    }

    /// Turns one record into a call. `bytes` are the record's raw bytes (for `raw`).
    public static func call(record: CSVRecord, columns: [String], bytes: ArraySlice<UInt8>,
                            options: Options) throws -> IngestMethods.CallIngestParams {
        var values: [String: String] = [:]
        var rawFields: [String: JSONValue] = [:]
        var validUTF8 = true
        for (i, f) in record.fields.enumerated() {
            let name = i < columns.count ? columns[i] : "extra\(i + 1)"
            if !TextDecoding.isValidUTF8(f) { validUTF8 = false }
            let text = TextDecoding.lossyUTF8(f)
            values[name] = text
            rawFields[name] = .string(text)
        }
        func v(_ k: String) -> String? { values[k]?.nonEmpty }
        guard record.fields.count >= min(columns.count, 12) else {
            throw PayloadError("\(record.fields.count) fields; the layout has \(columns.count)")
        }
        guard let startText = v("start") else { throw PayloadError("no start time") }
        guard let started = Times.localDateTime(startText, in: options.timeZone) else {
            throw PayloadError("start time \"\(startText)\" is not YYYY-MM-DD HH:MM:SS")
        }
        let answerTime = v("answer").flatMap { Times.localDateTime($0, in: options.timeZone) }
        let endTime = v("end").flatMap { Times.localDateTime($0, in: options.timeZone) }
        let duration = try Times.seconds(v("duration"), field: "duration")
        let billsec = try Times.seconds(v("billsec"), field: "billsec") ?? 0
        let disposition = v("disposition")
        let answered = (disposition?.uppercased() == "ANSWERED") && billsec > 0

        var recordBytes = Array(bytes)
        while let last = recordBytes.last, last == 10 || last == 13 { recordBytes.removeLast() }
        var externalID: String
        if let u = v("uniqueid") {
            externalID = u
            if let s = v("sequence") { externalID += "#" + s }
        } else {
            externalID = "sha256:" + Hashing.sha256Hex(recordBytes)
        }

        let clid = parseCallerID(v("clid"))
        let src = v("src") ?? clid.number
        let dst = v("dst")
        var parties = options.plan.classify(from: src, to: dst)
        if parties.managerLine == nil {
            switch parties.direction {
            case .inbound: parties.managerLine = peer(of: v("dstchannel"))
            case .outbound, .internal: parties.managerLine = peer(of: v("channel"))
            }
        }
        var raw: [String: JSONValue] = ["fields": .object(rawFields), "line": .number(String(record.line))]
        if let name = clid.name { raw["caller_name"] = .string(name) }
        if !validUTF8 {
            raw["invalid_utf8"] = true
            raw["bytes_base64"] = .string(Data(recordBytes).base64EncodedString())
        }
        return IngestMethods.CallIngestParams(
            externalID: externalID, provider: "asterisk", linkedID: v("linkedid"), direction: parties.direction,
            remoteNumber: parties.remoteNumber,
            remoteName: parties.direction == .inbound ? NumberPlan.callerName(clid.name, number: parties.remoteNumber) : nil,
            ourNumber: parties.ourNumber, managerLine: parties.managerLine,
            managerLogin: nil, startedAt: started, answeredAt: answered ? answerTime : nil, endedAt: endTime,
            talkSeconds: answered ? billsec : 0, waitSeconds: duration.map { max(0, $0 - billsec) },
            disposition: disposition, recordingURL: nil, raw: .object(raw))
    }

    /// `"Олег" <0671234567>` → ("Олег", "0671234567"); `"" <client1>` → (nil, "client1").
    static func parseCallerID(_ s: String?) -> (name: String?, number: String?) {
        guard let s else { return (nil, nil) }
        guard let lt = s.lastIndex(of: "<"), let gt = s.lastIndex(of: ">"), lt < gt else { return (nil, s.nonEmpty) }
        let number = String(s[s.index(after: lt)..<gt]).nonEmpty
        var name = String(s[..<lt]).trimmed
        if name.hasPrefix("\""), name.hasSuffix("\""), name.count >= 2 { name = String(name.dropFirst().dropLast()) }
        return (name.nonEmpty, number)
    }

    /// `PJSIP/client2-00000003` → `client2`; `SIP/101-0000a1` → `101`; `Local/...` → nil.
    static func peer(of channel: String?) -> String? {
        guard let c = channel, let slash = c.firstIndex(of: "/") else { return nil }
        let tech = c[..<slash].uppercased()
        guard ["PJSIP", "SIP", "IAX2", "DAHDI"].contains(tech) else { return nil }
        var rest = c[c.index(after: slash)...]
        if let dash = rest.lastIndex(of: "-") { rest = rest[..<dash] }
        return String(rest).nonEmpty
    }

    /// Reads a whole CDR file: records → calls grouped by linked id (groups in order of
    /// first appearance, legs by start time); bad records are reported, never fatal.
    public static func parse(file bytes: [UInt8], options: Options) -> Batch {
        let (records, _, _) = CSVParser.parse(bytes, delimiter: UInt8(ascii: ","), final: true)
        var calls: [IngestMethods.CallIngestParams] = []
        var problems: [Problem] = []
        var columns: [String]? = nil
        if case .custom(let c) = options.layout { columns = c.map { $0.lowercased() } }
        for r in records where !r.isBlank {
            let cols: [String]
            if let columns { cols = columns } else {
                let detected = AsteriskCDR.columns(for: r, layout: options.layout)
                if options.layout == .auto { columns = detected }
                cols = detected
            }
            do {
                calls.append(try call(record: r, columns: cols, bytes: bytes[r.start..<r.end], options: options))
            } catch {
                problems.append(Problem(line: r.line, reason: "\(error)"))
            }
        }
        return Batch(calls: group(calls), problems: problems)
    }

    /// Legs of one call next to each other: groups by `linked_id` (a leg without one is
    /// its own group) in order of first appearance, legs sorted by start time.
    public static func group(_ calls: [IngestMethods.CallIngestParams]) -> [IngestMethods.CallIngestParams] {
        var order: [String] = []
        var groups: [String: [IngestMethods.CallIngestParams]] = [:]
        for c in calls {
            let key = c.linkedID.map { "L:" + $0 } ?? "E:" + c.externalID
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(c)
        }
        return order.flatMap { key in
            (groups[key] ?? []).enumerated().sorted { a, b in
                a.element.startedAt != b.element.startedAt ? a.element.startedAt < b.element.startedAt : a.offset < b.offset
            }.map(\.element)
        }
    }
}
