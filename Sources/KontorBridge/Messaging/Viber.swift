import Crypto
import Foundation
import KontorProtocol

/// Viber REST bot API callbacks → `message.ingest`.
///
/// Source: Viber REST Bot API documentation, "Callbacks" (events `webhook`,
/// `subscribed`, `unsubscribed`, `conversation_started`, `delivered`, `seen`, `failed`,
/// `message`; message types `text`, `picture`, `video`, `file`, `sticker`, `contact`,
/// `url`, `location`) and "Authentication" (`X-Viber-Content-Signature`: hex HMAC-SHA256
/// of the body keyed with the bot's auth token).
///
/// Rules:
/// * `message` → a message; `external_id` = `message_token` **copied from the JSON text**
///   (tokens exceed 2^53; reading them as a double would change them).
/// * `conversation_started` → a message `[conversation started]` (with its `context`),
///   because a client who opened the chat is an inquiry; `external_id` = its token.
/// * a `contact` message puts the shared phone into `sender.phone`.
/// * every other event is acknowledged and ignored.
public enum ViberParser {
    /// Parses a callback body (read with exact numbers).
    public static func parse(body: [UInt8], botName: String?) throws -> ParseOutcome<IngestMethods.MessageIngestParams> {
        try parse(callback: JSONValue.payload(body), botName: botName)
    }

    /// Parses a callback already read as JSON; `botName` is recorded as the recipient.
    public static func parse(callback c: JSONValue, botName: String?) throws -> ParseOutcome<IngestMethods.MessageIngestParams> {
        guard let event = c["event"]?.text else { throw PayloadError("viber: event is missing") }
        guard event == "message" || event == "conversation_started" else { return .ignored("viber \(event)") }
        guard let token = c["message_token"]?.scalarText?.nonEmpty else { throw PayloadError("viber: message_token is missing") }
        guard let at = Times.unixMilliseconds(c["timestamp"]) else { throw PayloadError("viber: timestamp is missing") }
        let who = event == "message" ? c["sender"] : c["user"]
        guard let userID = who?["id"]?.text else { throw PayloadError("viber: sender.id is missing") }
        var sender = IngestMethods.MessageSender(messengerID: userID, name: who?["name"]?.text)
        var text: String
        var attachments: [IngestMethods.Attachment] = []
        if event == "conversation_started" {
            text = "[conversation started]"
            if let ctx = c["context"]?.text { text += " " + ctx }
        } else {
            guard let m = c["message"], let type = m["type"]?.text else { throw PayloadError("viber: message.type is missing") }
            var lines: [String] = []
            if let t = m["text"]?.stringValue, !t.isEmpty { lines.append(t) }
            switch type {
            case "contact":
                if let phone = m["contact"]?["phone_number"]?.text {
                    sender.phone = phone
                    lines.append("[contact] \(m["contact"]?["name"]?.text.map { $0 + " " } ?? "")\(phone)")
                }
            case "file", "picture", "video":
                let defaultType = type == "picture" ? "image/jpeg" : type == "video" ? "video/mp4" : nil
                attachments.append(.init(name: m["file_name"]?.text, contentType: defaultType, size: m["size"]?.sizeValue))
                if lines.isEmpty { lines.append("[\(type)]") }
            case "location":
                if let lat = m["location"]?["lat"]?.scalarText, let lon = m["location"]?["lon"]?.scalarText {
                    lines.append("[location] \(lat), \(lon)")
                }
            case "url":
                if let u = m["media"]?.text, !lines.contains(u) { lines.append(u) }
            case "sticker":
                lines.append("[sticker]")
            default:
                if lines.isEmpty { lines.append("[\(type)]") }
            }
            text = lines.joined(separator: "\n")
        }
        return .event(IngestMethods.MessageIngestParams(
            externalID: token, channel: .viber, direction: .inbound, sender: sender, recipient: botName, subject: nil,
            text: text, receivedAt: at, threadID: userID, attachments: attachments.isEmpty ? nil : attachments,
            managerLogin: nil, raw: c))
    }

    /// Checks `X-Viber-Content-Signature` (hex HMAC-SHA256 of the body) in constant time.
    public static func verify(signature: String?, body: [UInt8], authToken: String) -> Bool {
        guard let signature, let given = TextDecoding.bytes(hex: signature.trimmed) else { return false }
        let key = SymmetricKey(data: Array(authToken.utf8))
        return HMAC<SHA256>.isValidAuthenticationCode(given, authenticating: body, using: key)
    }

    /// The signature Viber would send (for tests and tools).
    public static func signature(body: [UInt8], authToken: String) -> String {
        TextDecoding.hex(Array(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(authToken.utf8)))))
    }
}
