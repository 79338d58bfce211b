import Foundation
import Postgres

/// Transaction-scoped locks on named keys, held as row locks on `app_locks` (migration
/// `0034_app_locks.sql`), a table only the application's role may touch.
///
/// Kontor used PostgreSQL advisory locks for this. Those live in one cluster-wide
/// namespace that every role may use (`pg_advisory_lock` is executable by PUBLIC), so
/// the read-only BI role could take the same keys and stall shipments, plans, logins or
/// migrations. A row lock on `app_locks` needs `UPDATE` (exclusive) or `SELECT` (shared)
/// on the table, which nobody but the owner has, so only Kontor can hold these.
///
/// * `exclusive` is `SELECT ... FOR UPDATE`; `shared` is `FOR KEY SHARE`, which only
///   `FOR UPDATE` conflicts with: shared holders never wait for each other.
/// * A key's row is made on first use (`INSERT ... ON CONFLICT DO NOTHING`); a concurrent
///   first use waits for the inserter's transaction, then locks the committed row. A
///   row deleted meanwhile (rows may be deleted at any time) is made again.
/// * Locks end with the transaction (commit or rollback), like `pg_advisory_xact_lock`,
///   and wait at most `lock_timeout` (the pool sets it), which answers `unavailable`.
/// * Keys that come from outside (names, logins, addresses) are hashed into the key so
///   the table stays small; a collision only serialises two unrelated writers.
///
/// Lock order where several are taken: in key order, or in a fixed order documented at
/// the caller (e.g. a login before its peer address).
public struct AppLocks {
    /// How strongly a key is held.
    public enum Mode: Sendable {
        /// Many holders at once; excludes `exclusive` holders.
        case shared
        /// One holder; excludes every other holder.
        case exclusive

        var clause: SQL { self == .shared ? "FOR KEY SHARE" : "FOR UPDATE" }
    }

    let conn: PostgresConnection

    public init(_ conn: PostgresConnection) { self.conn = conn }

    /// Locks `key` until the end of the transaction.
    /// - Throws: `PostgresError` (a lock timeout is `lockNotAvailable`).
    public func lock(_ key: String, _ mode: Mode = .exclusive) throws {
        try lock(keySQL: "\(key)::text", mode)
    }

    /// Locks `namespace:<md5 of value>`: for keys built from outside text of any length.
    public func lock(_ namespace: String, hashing value: String, _ mode: Mode = .exclusive) throws {
        try lock(keySQL: "\(namespace + ":") || md5(\(value)::text)", mode)
    }

    /// Locks `namespace:<n>` where `n` is one of `buckets` buckets of `value`'s hash: for
    /// keys an outsider can invent at will (login names, network addresses), so the table
    /// cannot be grown by them. Two values in one bucket serialise each other.
    public func lock(_ namespace: String, bucketOf value: String, buckets: Int32 = 4096, _ mode: Mode = .exclusive) throws {
        try lock(keySQL: "\(namespace + ":") || (abs(hashtext(\(value)::text)::bigint) % \(Int64(buckets)))::text", mode)
    }

    /// Locks the key computed by `keySQL` (a text expression with binds).
    func lock(keySQL: SQL, _ mode: Mode) throws {
        // A deleted row (cleanup at any time) is made again: at most a few rounds.
        for _ in 0..<5 {
            try conn.execute("INSERT INTO app_locks (key) VALUES (\(keySQL)) ON CONFLICT (key) DO NOTHING")
            if try conn.query("SELECT 1 FROM app_locks WHERE key = \(keySQL) \(mode.clause)").count == 1 { return }
        }
        throw PostgresError.client("app_locks: the key's row kept disappearing")
    }
}
