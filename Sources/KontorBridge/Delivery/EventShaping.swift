import Foundation
import KontorProtocol

/// Makes every spooled event one that kontord can take, whatever the provider sent.
///
/// kontord reads one request per line and closes the connection on a line over 1 MiB
/// (docs/PROTOCOL.md, "Framing"); it refuses a `raw` payload over
/// `IngestMethods.rawMaxBytes` and more than `IngestMethods.attachmentsMax` attachments.
/// An event that broke one of those limits would never be delivered: the sender would
/// either dead-letter it or, for an over-long line, retry it forever at the head of the
/// queue. So before an event is spooled:
/// * `text` is cut to ``maxTextCharacters`` characters, with a note of how much was cut;
/// * `raw` over the limit loses its largest members first (each replaced by a note of its
///   size), and when that is not enough becomes `{"dropped": …}` with its size and SHA-256;
/// * attachments beyond the limit are left out;
/// * if the params are still over ``maxParamsBytes`` the text is halved until they fit.
///
/// Optional fields that are absent are left out of the JSON (not sent as `null`), so a
/// kontord that does not know a newer optional field (`remote_name`, `edit_of`,
/// `sender.company`) never sees it unless it carries a value; see ``degrade(_:field:)``
/// for when it does.
public enum EventShaping {
    /// The longest text kept, in characters (as `inquiry.respond` takes).
    public static let maxTextCharacters = 100_000
    /// The largest params object sent, as JSON bytes: the protocol's 1 MiB line less the
    /// envelope, with room to spare.
    public static let maxParamsBytes = 1_000_000

    /// A call record fit for kontord.
    public static func fit(_ p: IngestMethods.CallIngestParams) -> IngestMethods.CallIngestParams {
        var p = p
        p.raw = fit(raw: p.raw)
        return p
    }

    /// A message fit for kontord.
    public static func fit(_ p: IngestMethods.MessageIngestParams) -> IngestMethods.MessageIngestParams {
        var p = p
        p.raw = fit(raw: p.raw)
        p.text = cut(p.text, to: maxTextCharacters)
        if let a = p.attachments, a.count > IngestMethods.attachmentsMax {
            p.attachments = Array(a.prefix(IngestMethods.attachmentsMax))
        }
        return p
    }

    /// The params of a message, cut further until their JSON fits ``maxParamsBytes``.
    static func encodeFitting(_ p: IngestMethods.MessageIngestParams) throws -> JSONValue {
        var p = fit(p)
        var json = withoutNulls(try JSONValueEncoder().encode(p))
        var limit = p.text.unicodeScalars.count
        while json.jsonText.utf8.count > maxParamsBytes, limit > 0 {
            limit /= 2
            p.text = cut(p.text, to: limit)
            json = withoutNulls(try JSONValueEncoder().encode(p))
        }
        return json
    }

    /// The params of a call record as JSON (raw already fitted; nothing else can grow).
    static func encodeFitting(_ p: IngestMethods.CallIngestParams) throws -> JSONValue {
        withoutNulls(try JSONValueEncoder().encode(fit(p)))
    }

    /// `text` cut to `limit` Unicode scalars, with a note of what was cut.
    static func cut(_ text: String, to limit: Int) -> String {
        let scalars = text.unicodeScalars
        guard scalars.count > limit else { return text }
        let kept = String(String.UnicodeScalarView(scalars.prefix(limit)))
        return kept + "\n[… \(scalars.count - limit) more characters not kept]"
    }

    /// `raw` made small enough for kontord (see the type's description).
    static func fit(raw: JSONValue?) -> JSONValue? {
        guard let raw else { return nil }
        let max = IngestMethods.rawMaxBytes - 1024  // room for the notes added here
        var size = raw.jsonText.utf8.count
        guard size > max else { return raw }
        let original = size
        if case .object(var o) = raw {
            var sizes = o.mapValues { $0.jsonText.utf8.count }
            while size > max, let (key, bytes) = sizes.max(by: { $0.value < $1.value }), bytes > 64 {
                let note = JSONValue.string("[dropped by kontor-bridge: \(bytes) bytes]")
                o[key] = note
                sizes[key] = 0
                size = JSONValue.object(o).jsonText.utf8.count
            }
            if size <= max {
                o["kontor_bridge_dropped"] = .number(String(original - size))
                return .object(o)
            }
        }
        return .object([
            "dropped": .string("the payload was \(original) bytes of JSON; kontord keeps at most \(IngestMethods.rawMaxBytes)"),
            "bytes": .number(String(original)),
            "sha256": .string(Hashing.sha256Hex(Array(raw.jsonText.utf8))),
        ])
    }

    /// The params without `null` members at the top, in `sender` and in each attachment
    /// (absent and null mean the same in `*.ingest`); `raw` is left as the provider sent it.
    static func withoutNulls(_ params: JSONValue) -> JSONValue {
        guard case .object(var o) = params else { return params }
        o = o.filter { $0.value != .null }
        if case .object(let s)? = o["sender"] { o["sender"] = .object(s.filter { $0.value != .null }) }
        if case .array(let list)? = o["attachments"] {
            o["attachments"] = .array(list.map { item in
                guard case .object(let a) = item else { return item }
                return .object(a.filter { $0.value != .null })
            })
        }
        return .object(o)
    }

    /// The optional fields newer than some kontord versions, which the sender may take
    /// out of an event that such a kontord refuses because of them.
    public static let newerOptionalFields: Set<String> = ["remote_name", "edit_of", "sender.company"]

    /// The params with `field` taken out (or, for an attachment's size, every missing
    /// size given as 0, which an older kontord requires), so that a kontord older than the
    /// bridge, which refused them with `invalid_params` naming that field, takes the rest.
    /// nil when `field` is not one of those newer optional fields (the refusal stands).
    public static func degrade(_ params: JSONValue, field: String) -> JSONValue? {
        guard case .object(var o) = params else { return nil }
        switch field {
        case "remote_name", "edit_of":
            guard o[field] != nil else { return nil }
            o[field] = nil
        case "sender.company":
            guard case .object(var s)? = o["sender"], s["company"] != nil else { return nil }
            s["company"] = nil
            o["sender"] = .object(s)
        default:
            guard field.hasPrefix("attachments["), field.hasSuffix("].size"), case .array(let list)? = o["attachments"] else { return nil }
            var changed = false
            o["attachments"] = .array(list.map { item in
                guard case .object(var a) = item, a["size"] == nil || a["size"] == .null else { return item }
                a["size"] = 0
                changed = true
                return .object(a)
            })
            guard changed else { return nil }
        }
        return .object(o)
    }
}
