import Foundation
import KontorDomain
import KontorStore
import NIOConcurrencyHelpers
import Postgres

/// What a connection logged in with.
public enum Credential: Sendable, Hashable {
    /// A password login's session (`sessions.id`).
    case session(Int64)
    /// A robot token (`robot_tokens.id`).
    case robotToken(Int64)
}

/// Per-instance cache: credential → the principal behind it, as of now.
///
/// Every request checks that its credential is still live and the user still active
/// (a deactivated user's sessions are refused on their next request). The answer is
/// cached while this instance's LISTEN connection is up: triggers on `users`,
/// `sessions` and `robot_tokens` send `kontor_auth` notifications that evict entries.
/// When the listener is down nothing is cached, so nothing stale is served. An epoch
/// counter keeps a lookup that raced an eviction from storing a stale answer.
final class AuthCache: Sendable {
    struct Entry {
        var principal: Principal
        /// When the credential stops being valid (a session's `expires_at`); nil = never.
        var expiresAt: Date?
    }

    private struct State {
        var entries: [Credential: Entry] = [:]
        var listening = false
        var epoch: UInt64 = 0
    }

    private let state = NIOLockedValueBox(State())

    /// The cached principal, unless the credential expired by `now` (expiry sends no
    /// notification, so it is checked here).
    func lookup(_ c: Credential, now: Date) -> Principal? {
        state.withLockedValue { s in
            guard s.listening, let e = s.entries[c] else { return nil }
            if let exp = e.expiresAt, exp <= now {
                s.entries[c] = nil
                return nil
            }
            return e.principal
        }
    }

    /// The epoch to pass to `store` after a database lookup.
    func currentEpoch() -> UInt64 { state.withLockedValue { $0.epoch } }

    func store(_ c: Credential, _ p: Principal, expiresAt: Date?, epoch: UInt64) {
        state.withLockedValue { s in
            if s.listening && s.epoch == epoch { s.entries[c] = Entry(principal: p, expiresAt: expiresAt) }
        }
    }

    /// Handles one `kontor_auth` payload: `u:<user id>`, `s:<session id>`, `t:<token id>`.
    func evict(payload: String) {
        let parts = payload.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, let id = Int64(parts[1]) else { clear(); return }
        state.withLockedValue { s in
            s.epoch &+= 1
            switch parts[0] {
            case "u": s.entries = s.entries.filter { $0.value.principal.userID != id }
            case "s": s.entries[.session(id)] = nil
            case "t": s.entries[.robotToken(id)] = nil
            default: s.entries = [:]
            }
        }
    }

    /// Drops one credential right away (this instance changed it).
    func evict(_ c: Credential) {
        switch c {
        case .session(let id): evict(payload: "s:\(id)")
        case .robotToken(let id): evict(payload: "t:\(id)")
        }
    }

    func setListening(_ on: Bool) {
        state.withLockedValue { s in
            s.listening = on
            s.epoch &+= 1
            s.entries = [:]
        }
    }

    func clear() {
        state.withLockedValue { s in s.epoch &+= 1; s.entries = [:] }
    }
}
