import Foundation
import KontorProtocol

/// Telegram Bot API updates (webhook) → `message.ingest`.
///
/// Source: Telegram Bot API, "Getting updates" / `setWebhook` (one `Update` object per
/// POST; the `X-Telegram-Bot-Api-Secret-Token` header carries the `secret_token` set
/// with the webhook) and the types `Update`, `Message`, `User`, `Chat`, `Contact`,
/// `Document`, `PhotoSize`, `Voice`, `Location`.
///
/// Rules:
/// * `message` and `edited_message` (and `business_message` / `edited_business_message`)
///   are ingested; every other update kind is acknowledged and ignored.
/// * `external_id` = `chat.id:message_id`. An edit is a **new** message with
///   `external_id` = `chat.id:message_id:edit:<edit_date>`, so every version is kept once
///   (the same id would be swallowed as a duplicate), and `edit_of` = the original's
///   `chat.id:message_id`: kontord records it on the original's inquiry without making a
///   new one; `raw` holds the update, whose `edited_message` key tells the edit apart.
/// * a shared contact (`message.contact`) whose `user_id` is the sender's own (or not
///   given) puts its phone into `sender.phone`; the text says what was shared.
/// * ids are copied from the JSON text exactly (no floating point).
public enum TelegramParser {
    /// Parses one `Update`; `botUsername` is recorded as the recipient.
    public static func parse(update: JSONValue, botUsername: String?) throws -> ParseOutcome<IngestMethods.MessageIngestParams> {
        guard update.objectValue != nil else { throw PayloadError("telegram: the update must be an object") }
        guard update["update_id"] != nil else { throw PayloadError("telegram: update_id is missing") }
        let kinds = ["message", "edited_message", "business_message", "edited_business_message"]
        guard let kind = kinds.first(where: { update[$0]?.objectValue != nil }), let m = update[kind] else {
            let other = update.objectValue?.keys.filter { $0 != "update_id" }.sorted().first ?? "empty"
            return .ignored("telegram \(other)")
        }
        guard let chatID = m["chat"]?["id"]?.scalarText, let messageID = m["message_id"]?.scalarText else {
            throw PayloadError("telegram: message.chat.id or message.message_id is missing")
        }
        let edited = kind.hasPrefix("edited")
        var externalID = "\(chatID):\(messageID)"
        var editOf: String? = nil
        var when = Times.unixSeconds(m["date"])
        if edited {
            editOf = externalID
            let editDate = m["edit_date"]?.scalarText ?? "0"
            externalID += ":edit:\(editDate)"
            when = Times.unixSeconds(m["edit_date"]) ?? when
        }
        guard let receivedAt = when else { throw PayloadError("telegram: message.date is missing") }

        let from = m["from"]
        let nameParts = [from?["first_name"]?.text, from?["last_name"]?.text].compactMap { $0 }
        var sender = IngestMethods.MessageSender(
            messengerID: from?["id"]?.scalarText, username: from?["username"]?.text,
            name: nameParts.isEmpty ? m["chat"]?["title"]?.text : nameParts.joined(separator: " "))

        var lines: [String] = []
        var attachments: [IngestMethods.Attachment] = []
        if let t = m["text"]?.stringValue ?? m["caption"]?.stringValue { lines.append(t) }
        if let c = m["contact"], let phone = c["phone_number"]?.text {
            let cname = [c["first_name"]?.text, c["last_name"]?.text].compactMap { $0 }.joined(separator: " ")
            let own = c["user_id"] == nil || c["user_id"]?.scalarText == from?["id"]?.scalarText
            if own { sender.phone = phone }
            lines.append("[contact] \(cname.isEmpty ? "" : cname + " ")\(phone)")
        }
        if let d = m["document"] {
            attachments.append(.init(name: d["file_name"]?.text, contentType: d["mime_type"]?.text, size: d["file_size"]?.sizeValue))
        }
        if case .array(let sizes)? = m["photo"], let largest = sizes.last {
            attachments.append(.init(name: nil, contentType: "image/jpeg", size: largest["file_size"]?.sizeValue))
        }
        for (key, type) in [("voice", "audio/ogg"), ("audio", "audio/mpeg"), ("video", "video/mp4"), ("video_note", "video/mp4")] {
            if let a = m[key], a.objectValue != nil {
                attachments.append(.init(name: a["file_name"]?.text ?? key, contentType: a["mime_type"]?.text ?? type,
                                         size: a["file_size"]?.sizeValue))
            }
        }
        if let s = m["sticker"], s.objectValue != nil { lines.append("[sticker] \(s["emoji"]?.text ?? "")".trimmed) }
        if let l = m["location"], let lat = l["latitude"]?.scalarText, let lon = l["longitude"]?.scalarText {
            lines.append("[location] \(lat), \(lon)")
        }
        var text = lines.joined(separator: "\n")
        if text.isEmpty, !attachments.isEmpty { text = "[\(attachments.count == 1 ? "attachment" : "attachments")]" }
        return .event(IngestMethods.MessageIngestParams(
            externalID: externalID, channel: .telegram, direction: .inbound, sender: sender,
            recipient: botUsername, subject: nil, text: text, receivedAt: receivedAt, threadID: chatID,
            attachments: attachments.isEmpty ? nil : attachments, managerLogin: nil, editOf: editOf, raw: update))
    }
}
