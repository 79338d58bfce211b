import CGMime
import Foundation
import KontorProtocol

/// Why an e-mail could not be read (the file goes to the quarantine with this reason).
public struct EmailParseError: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}

/// E-mail messages (`.eml`, Maildir files) → `message.ingest`, parsed with GMime 3.
///
/// Sources: RFC 5322 (message format), RFC 2045–2049 (MIME: multipart, transfer
/// encodings, charsets), RFC 2047 (encoded words in headers), RFC 2183 / RFC 2231
/// (Content-Disposition, file names), and the GMime 3 reference manual (GMimeParser,
/// GMimeMessage, GMimePart, InternetAddress).
///
/// * headers: GMime decodes RFC 2047 words in any charset iconv knows (KOI8-R,
///   windows-1251, ISO-8859-x, UTF-8); raw 8-bit headers are tried as UTF-8, then
///   windows-1251;
/// * text: the first non-empty `text/plain` part that is not an attachment, decoded from
///   its charset (none or unknown: UTF-8, else windows-1251); else the first `text/html`
///   part converted to text;
/// * attachments: every other leaf part with a file name, an `attachment` disposition or
///   a non-text type, and attached messages: name, type, decoded size (content is not
///   sent);
/// * `external_id` = Message-ID without angle brackets, or `sha256:` + the raw bytes;
/// * `thread_id` = the first id in References, else In-Reply-To, else the message's own id;
/// * `sender.company` = the `Organization:` header (RFC 2076), when there is one;
/// * a leading mbox `From ` line is skipped.
public enum EmailParser {
    /// Parses one message. `fallbackDate` is used when there is no valid `Date:` header
    /// (the file's modification time, so the value is the same on every run).
    public static func parse(raw input: [UInt8], recipient: String? = nil,
                             fallbackDate: Date) throws -> IngestMethods.MessageIngestParams {
        GMimeRuntime.ensureInitialised()
        var raw = input
        if raw.starts(with: Array("From ".utf8)), let nl = raw.firstIndex(of: 10) { raw = Array(raw[(nl + 1)...]) }
        guard raw.contains(where: { $0 != 10 && $0 != 13 && $0 != 32 && $0 != 9 }) else {
            throw EmailParseError(reason: "the file is empty")
        }
        let stream: UnsafeMutablePointer<GMimeStream>? = raw.withUnsafeBufferPointer { buf in
            buf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buf.count) { g_mime_stream_mem_new_with_buffer($0, buf.count) }
        }
        guard let stream else { throw EmailParseError(reason: "GMime could not open a memory stream") }
        defer { kb_unref(stream) }
        guard let parser = g_mime_parser_new_with_stream(stream) else { throw EmailParseError(reason: "GMime could not create a parser") }
        defer { kb_unref(parser) }
        g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE)
        let options = g_mime_parser_options_new()
        defer { g_mime_parser_options_free(options) }
        withCStrings(["UTF-8", "windows-1251"]) { g_mime_parser_options_set_fallback_charsets(options, $0) }
        guard let message = g_mime_parser_construct_message(parser, options) else {
            throw EmailParseError(reason: "GMime found no message in the file")
        }
        defer { kb_unref(message) }

        let subject = string(g_mime_message_get_subject(message))?.trimmed.nonEmpty
        let from = addresses(g_mime_message_get_from(message)).first
            ?? addresses(g_mime_message_get_sender(message)).first
            ?? addresses(g_mime_message_get_reply_to(message)).first
        let to = addresses(g_mime_message_get_to(message)).first
        let messageID = string(g_mime_message_get_message_id(message))?.trimmed.nonEmpty
        var date: Date? = nil
        if let dt = g_mime_message_get_date(message) {
            date = Date(timeIntervalSince1970: TimeInterval(g_date_time_to_unix(dt)))
        }
        guard subject != nil || from != nil || messageID != nil || date != nil else {
            throw EmailParseError(reason: "no message headers (From, Subject, Date, Message-ID) found")
        }

        var walker = Walker()
        if let top = g_mime_message_get_mime_part(message) { walker.walk(top) }
        var text = walker.plain.first(where: { !$0.trimmed.isEmpty })
            ?? walker.html.lazy.map(HTMLText.toText).first(where: { !$0.trimmed.isEmpty }) ?? ""
        text = text.trimmingCharacters(in: .whitespacesAndNewlines)

        let refs = header(message, "References").map(messageIDs) ?? []
        let inReplyTo = header(message, "In-Reply-To").map(messageIDs) ?? []
        let thread = refs.first ?? inReplyTo.first ?? messageID
        return IngestMethods.MessageIngestParams(
            externalID: messageID ?? "sha256:" + Hashing.sha256Hex(input),
            channel: .email, direction: .inbound,
            sender: IngestMethods.MessageSender(email: from?.address, name: from?.name,
                                                company: decodedHeader(message, "Organization") ?? decodedHeader(message, "Organisation")),
            recipient: recipient ?? to?.address, subject: subject, text: text,
            receivedAt: date ?? fallbackDate, threadID: thread,
            attachments: walker.attachments.isEmpty ? nil : walker.attachments,
            managerLogin: nil,
            raw: .object([
                "message_id": messageID.map(JSONValue.string) ?? .null,
                "from": from.map { .string($0.display) } ?? .null,
                "to": .array(addresses(g_mime_message_get_to(message)).map { .string($0.display) }),
                "cc": .array(addresses(g_mime_message_get_cc(message)).map { .string($0.display) }),
                "date_header": header(message, "Date").map(JSONValue.string) ?? .null,
                "size": .number(String(input.count)),
            ]))
    }

    struct Address {
        var name: String?
        var address: String
        var display: String { name.map { "\($0) <\(address)>" } ?? address }
    }

    static func addresses(_ list: UnsafeMutablePointer<InternetAddressList>?) -> [Address] {
        guard let list else { return [] }
        var out: [Address] = []
        let n = internet_address_list_length(list)
        guard n > 0 else { return [] }
        for i in 0..<n {
            guard let a = internet_address_list_get_address(list, i) else { continue }
            if kb_address_is_mailbox(a) != 0 {
                if let addr = string(kb_mailbox_addr(a))?.trimmed.nonEmpty {
                    out.append(Address(name: string(internet_address_get_name(a))?.trimmed.nonEmpty, address: addr))
                }
            } else if kb_address_is_group(a) != 0 {
                out += addresses(kb_group_members(a))
            }
        }
        return out
    }

    static func string(_ p: UnsafePointer<CChar>?) -> String? {
        guard let p else { return nil }
        return String(decoding: UnsafeRawBufferPointer(start: p, count: strlen(p)), as: UTF8.self)
    }

    static func header(_ message: UnsafeMutablePointer<GMimeMessage>, _ name: String) -> String? {
        string(g_mime_object_get_header(kb_object(message), name))?.trimmed.nonEmpty
    }

    /// An unstructured header with its RFC 2047 encoded words decoded (and 8-bit text read
    /// as UTF-8, else windows-1251), or nil when absent or empty.
    static func decodedHeader(_ message: UnsafeMutablePointer<GMimeMessage>, _ name: String) -> String? {
        guard let value = header(message, name) else { return nil }
        guard value.contains("=?") else { return value }
        guard let decoded = value.withCString({ g_mime_utils_header_decode_text(nil, $0) }) else { return value }
        defer { g_free(decoded) }
        return string(decoded)?.trimmed.nonEmpty
    }

    /// `<a@b> <c@d>` → `["a@b", "c@d"]`.
    static func messageIDs(_ s: String) -> [String] {
        var out: [String] = []
        var rest = Substring(s)
        while let lt = rest.firstIndex(of: "<"), let gt = rest[lt...].firstIndex(of: ">") {
            let id = rest[rest.index(after: lt)..<gt].trimmingCharacters(in: .whitespaces)
            if !id.isEmpty { out.append(id) }
            rest = rest[rest.index(after: gt)...]
        }
        return out
    }

    static func withCStrings(_ strings: [String], _ body: (UnsafeMutablePointer<UnsafePointer<CChar>?>) -> Void) {
        let dup = strings.map { strdup($0) }
        defer { dup.forEach { free($0) } }
        var ptrs: [UnsafePointer<CChar>?] = dup.map { $0.map { UnsafePointer($0) } }
        ptrs.append(nil)
        ptrs.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
    }

    /// Collects the text parts and attachments of a MIME tree.
    struct Walker {
        var plain: [String] = []
        var html: [String] = []
        var attachments: [IngestMethods.Attachment] = []

        /// Multiparts nested deeper than this are not looked into (a hostile message
        /// must not exhaust the stack; real mail nests a few levels).
        static let maxDepth = 32

        mutating func walk(_ object: UnsafeMutablePointer<GMimeObject>, depth: Int = 0) {
            if kb_is_multipart(object) != 0 {
                guard depth < Self.maxDepth else { return }
                let mp = kb_as_multipart(object)
                let n = g_mime_multipart_get_count(mp)
                guard n > 0 else { return }
                for i in 0..<n {
                    if let child = g_mime_multipart_get_part(mp, i) { walk(child, depth: depth + 1) }
                }
                return
            }
            let mime = mimeType(object)
            if kb_is_message_part(object) != 0 {
                let mem = g_mime_stream_mem_new()
                defer { kb_unref(mem) }
                var name: String? = nil
                if let inner = g_mime_message_part_get_message(kb_as_message_part(object)) {
                    _ = g_mime_object_write_to_stream(kb_object(inner), nil, mem)
                    name = EmailParser.string(g_mime_message_get_subject(inner))?.trimmed.nonEmpty.map { $0 + ".eml" }
                }
                var len = 0
                _ = kb_mem_bytes(mem, &len)
                attachments.append(.init(name: name, contentType: mime, size: len))
                return
            }
            guard kb_is_part(object) != 0 else { return }
            let part = kb_as_part(object)
            let filename = EmailParser.string(g_mime_part_get_filename(part))?.trimmed.nonEmpty
            let disposition = EmailParser.string(g_mime_object_get_disposition(object))?.lowercased()
            let content = decodedContent(part)
            let isText = mime == "text/plain" || mime == "text/html"
            if isText, filename == nil, disposition != "attachment" {
                let charset = EmailParser.string(g_mime_object_get_content_type_parameter(object, "charset"))?.trimmed
                let text = charset.flatMap { TextDecoding.decode(content, charset: $0) } ?? TextDecoding.utf8OrCP1251(content)
                if mime == "text/plain" { plain.append(text) } else { html.append(text) }
                return
            }
            attachments.append(.init(name: filename, contentType: mime, size: content.count))
        }

        func mimeType(_ object: UnsafeMutablePointer<GMimeObject>) -> String? {
            guard let ct = g_mime_object_get_content_type(object), let s = g_mime_content_type_get_mime_type(ct) else { return nil }
            defer { g_free(s) }
            return EmailParser.string(s)?.lowercased()
        }

        /// The part's bytes with the transfer encoding (base64, quoted-printable) undone.
        func decodedContent(_ part: UnsafeMutablePointer<GMimePart>?) -> [UInt8] {
            guard let wrapper = g_mime_part_get_content(part) else { return [] }
            let mem = g_mime_stream_mem_new()
            defer { kb_unref(mem) }
            _ = g_mime_data_wrapper_write_to_stream(wrapper, mem)
            var len = 0
            guard let p = kb_mem_bytes(mem, &len), len > 0 else { return [] }
            return Array(UnsafeBufferPointer(start: p, count: len))
        }
    }
}
