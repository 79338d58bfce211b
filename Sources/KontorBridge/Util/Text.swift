import CGMime
import Foundation

/// Turning bytes written by others into text without ever failing.
public enum TextDecoding {
    /// True when `bytes` are well-formed UTF-8.
    public static func isValidUTF8<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
        var it = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&it) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }

    /// UTF-8 with every ill-formed sequence replaced by U+FFFD.
    public static func lossyUTF8<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        String(decoding: Array(bytes), as: UTF8.self)
    }

    /// Converts `bytes` in `charset` (any name iconv or GMime knows: `koi8-r`,
    /// `windows-1251`, `cp1251`, `iso-8859-5`, ...) to a string; nil when the charset
    /// is unknown or the bytes are not valid in it.
    public static func decode(_ bytes: [UInt8], charset: String) -> String? {
        let lower = charset.lowercased()
        if lower == "utf-8" || lower == "utf8" || lower == "us-ascii" || lower == "ascii" {
            return isValidUTF8(bytes) ? String(decoding: bytes, as: UTF8.self) : nil
        }
        if bytes.isEmpty { return "" }
        GMimeRuntime.ensureInitialised()
        var outLength: Int = 0
        let converted: UnsafeMutablePointer<CChar>? = bytes.withUnsafeBufferPointer { buf in
            buf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buf.count) { p in
                charset.withCString { cs in kb_to_utf8(p, buf.count, cs, &outLength) }
            }
        }
        guard let converted else { return nil }
        defer { g_free(converted) }
        let out = UnsafeBufferPointer(start: UnsafeRawPointer(converted).assumingMemoryBound(to: UInt8.self), count: outLength)
        return String(decoding: out, as: UTF8.self)
    }

    /// UTF-8 when the bytes are valid UTF-8, else windows-1251 (the usual legacy
    /// encoding of Ukrainian and Russian files), else lossy UTF-8.
    public static func utf8OrCP1251(_ bytes: [UInt8]) -> String {
        if isValidUTF8(bytes) { return String(decoding: bytes, as: UTF8.self) }
        return decode(bytes, charset: "windows-1251") ?? lossyUTF8(bytes)
    }

    /// Lower-case hexadecimal.
    public static func hex<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Bytes of a hexadecimal string (either case); nil when it is not hexadecimal.
    public static func bytes(hex: String) -> [UInt8]? {
        let u = Array(hex.utf8)
        guard u.count % 2 == 0 else { return nil }
        func v(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x41...0x46: return c - 0x41 + 10
            case 0x61...0x66: return c - 0x61 + 10
            default: return nil
            }
        }
        var out = [UInt8]()
        out.reserveCapacity(u.count / 2)
        var i = 0
        while i < u.count {
            guard let hi = v(u[i]), let lo = v(u[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }
}

extension String {
    /// The string with leading and trailing whitespace and newlines removed.
    var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }

    /// nil when the trimmed string is empty, else the trimmed string.
    var nonEmpty: String? {
        let t = trimmed
        return t.isEmpty ? nil : t
    }
}

/// GMime must be initialised once per process before use.
enum GMimeRuntime {
    private static let once: Void = { g_mime_init() }()

    static func ensureInitialised() { _ = once }
}
