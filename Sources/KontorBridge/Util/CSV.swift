/// One record of a delimited text file, with its fields as bytes.
public struct CSVRecord: Sendable, Equatable {
    /// The fields, unquoted (`""` inside quotes already turned into `"`).
    public var fields: [[UInt8]]
    /// 1-based physical line where the record starts (CR, LF and CRLF each end a line,
    /// inside quotes too), for reports.
    public var line: Int
    /// Byte offset of the record's first byte.
    public var start: Int
    /// Byte offset just past the record's terminator.
    public var end: Int

    /// True when every field is empty (a blank line).
    public var isBlank: Bool { fields.allSatisfy { $0.isEmpty } }
}

/// A reader of delimited text (CSV) following RFC 4180, leniently.
///
/// Source: RFC 4180 section 2 (fields separated by a delimiter, records by line breaks,
/// fields with delimiters, quotes or line breaks enclosed in double quotes, a quote
/// inside escaped by doubling). Lenient where real exports are not strict: CR, LF and
/// CRLF all end records; a bare CR or LF inside quotes is kept; a quote inside an
/// unquoted field is a literal character; text after a closing quote is appended.
public enum CSVParser {
    /// Splits `bytes` into records.
    /// - Parameters:
    ///   - final: true when `bytes` is the whole input (the last record may lack a line
    ///     break); false when more may follow (follow mode): then a record is returned
    ///     only once its line break has been read, and `consumed` says how far.
    ///   - firstLine: the line number of `bytes[0]`.
    ///   - baseOffset: added to the offsets reported.
    public static func parse(_ bytes: [UInt8], delimiter: UInt8, final: Bool = true, firstLine: Int = 1,
                             baseOffset: Int = 0) -> (records: [CSVRecord], consumed: Int, nextLine: Int) {
        var records: [CSVRecord] = []
        var fields: [[UInt8]] = []
        var field: [UInt8] = []
        var i = 0
        var line = firstLine
        var recordStart = 0
        var recordLine = firstLine
        var inQuotes = false
        var fieldWasQuoted = false
        var consumed = 0
        var consumedLine = firstLine
        let n = bytes.count
        let quote = UInt8(ascii: "\""), cr = UInt8(13), lf = UInt8(10)

        func endRecord(at end: Int) {
            fields.append(field)
            records.append(CSVRecord(fields: fields, line: recordLine, start: baseOffset + recordStart, end: baseOffset + end))
            fields = []
            field = []
            fieldWasQuoted = false
        }

        while i < n {
            let c = bytes[i]
            if inQuotes {
                if c == quote {
                    if i + 1 < n, bytes[i + 1] == quote {
                        field.append(quote); i += 2; continue
                    }
                    if i + 1 == n, !final { break }  // can't tell yet whether "" follows
                    inQuotes = false; i += 1; continue
                }
                if c == cr {
                    if i + 1 < n, bytes[i + 1] == lf { field.append(cr); field.append(lf); i += 2; line += 1; continue }
                    if i + 1 == n, !final { break }
                    line += 1
                } else if c == lf {
                    line += 1
                }
                field.append(c); i += 1
                continue
            }
            if c == delimiter {
                fields.append(field); field = []; fieldWasQuoted = false; i += 1; continue
            }
            if c == cr || c == lf {
                var end = i + 1
                if c == cr {
                    if i + 1 < n, bytes[i + 1] == lf { end = i + 2 } else if i + 1 == n, !final { break }
                }
                line += 1
                endRecord(at: end)
                i = end
                recordStart = i
                recordLine = line
                consumed = i
                consumedLine = line
                continue
            }
            if c == quote, field.isEmpty, !fieldWasQuoted {
                inQuotes = true; fieldWasQuoted = true; i += 1; continue
            }
            field.append(c); i += 1
        }
        if final {
            if recordStart < n { endRecord(at: n) }
            return (records, n, line)
        }
        // Drop the incomplete record (everything after `consumed`).
        return (records.filter { $0.end - baseOffset <= consumed }, consumed, consumedLine)
    }

    /// Guesses the delimiter from the first record: the most frequent of `,` `;` TAB
    /// (outside quotes) in the first line; comma on a tie or when none occurs.
    public static func detectDelimiter(_ bytes: [UInt8]) -> UInt8 {
        var comma = 0, semi = 0, tab = 0
        var inQuotes = false
        for c in bytes {
            if c == UInt8(ascii: "\"") { inQuotes.toggle(); continue }
            if inQuotes { continue }
            if c == 10 || c == 13 { break }
            switch c {
            case UInt8(ascii: ","): comma += 1
            case UInt8(ascii: ";"): semi += 1
            case 9: tab += 1
            default: break
            }
        }
        if tab > comma && tab >= semi { return 9 }
        if semi > comma { return UInt8(ascii: ";") }
        return UInt8(ascii: ",")
    }
}
