import Crypto
import Foundation

/// Secret comparison that takes the same time wherever the strings differ.
public enum Secrets {
    /// Compares two byte strings in time independent of their contents (their lengths
    /// are compared first through fixed-size digests, so no length is leaked either).
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        let da = Array(SHA256.hash(data: a)), db = Array(SHA256.hash(data: b))
        var diff: UInt8 = 0
        for i in 0..<da.count { diff |= da[i] ^ db[i] }
        return diff == 0
    }

    /// Compares the UTF-8 bytes of two strings in constant time.
    public static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        constantTimeEqual(Array(a.utf8), Array(b.utf8))
    }
}
