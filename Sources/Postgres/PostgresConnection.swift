import CLibPQ
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One libpq connection (`PGconn`). Every call blocks the calling thread, so use it only
/// from a thread that may block (the pool runs bodies on its own thread pool) and from
/// one thread at a time: a connection has one owner.
public final class PostgresConnection: @unchecked Sendable {
    private var conn: OpaquePointer?
    /// The server's process id for this session (`PQbackendPID`).
    public let backendPID: Int32

    /// Default connection parameters that the caller's conninfo overrides.
    static let defaultKeywords = ["connect_timeout", "fallback_application_name", "keepalives", "keepalives_idle",
                                  "keepalives_interval", "keepalives_count"]
    static let defaultValues = ["5", "kontord", "1", "30", "10", "3"]

    /// Opens a connection.
    ///
    /// - Parameter conninfo: a libpq connection string (`host=... dbname=...`) or URI
    ///   (`postgresql://user@host:port/db?sslmode=require`), passed to libpq untouched;
    ///   only `connect_timeout` (5 s), `fallback_application_name` and TCP keepalives
    ///   (probe after 30 s idle, every 10 s, 3 tries) get defaults that the string overrides.
    /// - Parameter sessionSetup: statements run right after connecting (e.g. `SET TIME ZONE`).
    /// - Throws: `PostgresError.unavailable` with libpq's message when the connection fails.
    public init(conninfo: String, sessionSetup: String? = "SET TIME ZONE 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'iso_8601'") throws {
        let keywords = Self.defaultKeywords + ["dbname"]
        let values = Self.defaultValues + [conninfo]
        let c: OpaquePointer? = withCStringArray(keywords) { kw in
            withCStringArray(values) { vals in
                PQconnectdbParams(kw, vals, 1)
            }
        }
        guard let c else { throw PostgresError.unavailable("out of memory creating a connection") }
        guard PQstatus(c) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(c)).trimmingCharacters(in: .whitespacesAndNewlines)
            PQfinish(c)
            throw PostgresError.unavailable(message)
        }
        conn = c
        backendPID = PQbackendPID(c)
        // libpq prints notices to stderr by default; the server's own log has them.
        PQsetNoticeProcessor(c, { _, _ in }, nil)
        if let sessionSetup {
            do { try execute(script: sessionSetup) } catch {
                PQfinish(c)
                conn = nil
                throw error
            }
        }
    }

    deinit {
        if let conn { PQfinish(conn) }
    }

    /// Closes the connection (`PQfinish`). Further calls fail with `unavailable`.
    public func close() {
        if let conn { PQfinish(conn) }
        conn = nil
    }

    /// True when libpq reports the connection as broken or it was closed.
    public var isBroken: Bool {
        guard let conn else { return true }
        return PQstatus(conn) != CONNECTION_OK
    }

    /// True when the connection is idle, not inside a transaction and not broken.
    /// Checks the socket without blocking, so a connection that the server closed while
    /// it sat in the pool (a restart) is noticed before it is handed out again.
    public var isReusable: Bool {
        guard let conn, PQstatus(conn) == CONNECTION_OK else { return false }
        guard PQtransactionStatus(conn) == PQTRANS_IDLE else { return false }
        let fd = PQsocket(conn)
        guard fd >= 0 else { return false }
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let r = poll(&p, 1, 0)
        // Pooled connections do not LISTEN, so anything the server sends while they are
        // idle is, in practice, its goodbye ("terminating connection") before closing:
        // such a connection is not reused.
        return r == 0
    }

    /// Transaction state: true while a transaction block is open.
    public var inTransaction: Bool {
        guard let conn else { return false }
        let s = PQtransactionStatus(conn)
        return s == PQTRANS_INTRANS || s == PQTRANS_INERROR
    }

    /// The socket descriptor, for waiting on notifications.
    var socket: Int32 { conn.map { PQsocket($0) } ?? -1 }

    var raw: OpaquePointer? { conn }

    /// Runs one statement with bind parameters and returns its rows.
    /// - Throws: `PostgresError.server` (with SQLSTATE) or `.unavailable` when the
    ///   connection is lost.
    @discardableResult
    public func query(_ sql: SQL) throws -> PostgresRows {
        guard let conn else { throw PostgresError.unavailable("connection is closed") }
        // libpq takes C strings: a NUL would silently cut a value short. PostgreSQL text
        // cannot hold NUL either, so refuse it the way the server would (SQLSTATE 22021).
        for case let b? in sql.binds where b.utf8.contains(0) {
            throw PostgresError.server(PostgresServerError(
                sqlState: "22021", severity: "ERROR", message: "invalid byte sequence for encoding \"UTF8\": 0x00",
                detail: nil, hint: nil, constraint: nil, table: nil, column: nil))
        }
        let n = Int32(sql.binds.count)
        let result: OpaquePointer? = sql.text.withCString { text in
            withOptionalCStringArray(sql.binds) { values in
                sql.types.withUnsafeBufferPointer { types in
                    PQexecParams(conn, text, n, n == 0 ? nil : types.baseAddress, values, nil, nil, 0)
                }
            }
        }
        return try check(result)
    }

    /// Runs one statement and returns the number of rows it affected.
    @discardableResult
    public func execute(_ sql: SQL) throws -> Int {
        try query(sql).affectedRows
    }

    /// Runs several `;`-separated statements without parameters (`PQexec`), e.g. a
    /// migration file.
    public func execute(script: String) throws {
        guard let conn else { throw PostgresError.unavailable("connection is closed") }
        let result = PQexec(conn, script)
        _ = try check(result)
    }

    private func check(_ result: OpaquePointer?) throws -> PostgresRows {
        guard let conn else { throw PostgresError.unavailable("connection is closed") }
        guard let result else {
            let message = String(cString: PQerrorMessage(conn))
            if PQstatus(conn) != CONNECTION_OK { throw PostgresError.unavailable(message) }
            throw PostgresError.client(message)
        }
        let status = PQresultStatus(result)
        switch status {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return PostgresRows(result: result)
        default:
            defer { PQclear(result) }
            let field: (Int32) -> String? = { code in
                guard let p = PQresultErrorField(result, code) else { return nil }
                return String(cString: p)
            }
            let state = field(Int32(UInt8(ascii: "C")))  // PG_DIAG_SQLSTATE
            if PQstatus(conn) != CONNECTION_OK {
                let message = field(Int32(UInt8(ascii: "M"))) ?? String(cString: PQerrorMessage(conn))
                throw PostgresError.unavailable(message.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            guard let state else {
                throw PostgresError.client(String(cString: PQresultErrorMessage(result)).trimmingCharacters(in: .whitespacesAndNewlines))
            }
            let error = PostgresServerError(
                sqlState: SQLState(state),
                severity: field(Int32(UInt8(ascii: "V"))) ?? field(Int32(UInt8(ascii: "S"))) ?? "ERROR",
                message: field(Int32(UInt8(ascii: "M"))) ?? "",
                detail: field(Int32(UInt8(ascii: "D"))),
                hint: field(Int32(UInt8(ascii: "H"))),
                constraint: field(Int32(UInt8(ascii: "n"))),
                table: field(Int32(UInt8(ascii: "t"))),
                column: field(Int32(UInt8(ascii: "c")))
            )
            if error.sqlState.isConnectionLoss { throw PostgresError.unavailable(error.message) }
            throw PostgresError.server(error)
        }
    }

    /// Runs `body` inside `BEGIN ... COMMIT`; rolls back when it throws and rethrows.
    ///
    /// - Parameter isolation: e.g. `"SERIALIZABLE"`; nil keeps the default (READ COMMITTED).
    /// - Parameter rollback: end with `ROLLBACK` even when `body` succeeds (a dry run:
    ///   the body sees its own writes, nobody else ever does).
    public func transaction<T>(isolation: String? = nil, rollback: Bool = false, _ body: (PostgresConnection) throws -> T) throws -> T {
        try execute(script: isolation.map { "BEGIN ISOLATION LEVEL \($0)" } ?? "BEGIN")
        let value: T
        do {
            value = try body(self)
        } catch {
            if !isBroken { try? execute(script: "ROLLBACK") }
            throw error
        }
        do {
            try execute(script: rollback ? "ROLLBACK" : "COMMIT")
        } catch PostgresError.unavailable(let m) where !rollback {
            // The connection broke while COMMIT was under way: it may or may not have
            // committed. Say so, rather than "nothing happened, retry".
            throw PostgresError.commitOutcomeUnknown(m)
        }
        return value
    }

    /// Runs `body` under `SAVEPOINT name` inside the open transaction. When it throws,
    /// its changes are rolled back to the savepoint (the transaction stays usable, even
    /// after a failed statement) and the error is rethrown; otherwise the savepoint is
    /// released. `name` must be a constant SQL identifier.
    public func savepoint<T>(_ name: StaticString, _ body: () throws -> T) throws -> T {
        let n = "\(name)"
        try execute(script: "SAVEPOINT \(n)")
        let value: T
        do {
            value = try body()
        } catch {
            if !isBroken { try execute(script: "ROLLBACK TO SAVEPOINT \(n); RELEASE SAVEPOINT \(n)") }
            throw error
        }
        try execute(script: "RELEASE SAVEPOINT \(n)")
        return value
    }

    /// Quotes a string as an SQL identifier with libpq's rules (`PQescapeIdentifier`).
    public func escapeIdentifier(_ s: String) throws -> String {
        guard let conn else { throw PostgresError.unavailable("connection is closed") }
        guard let p = PQescapeIdentifier(conn, s, s.utf8.count) else {
            throw PostgresError.client(String(cString: PQerrorMessage(conn)))
        }
        defer { PQfreemem(p) }
        return String(cString: p)
    }
}

/// The rows of a result. Owns the `PGresult` and clears it when released.
public final class PostgresRows: @unchecked Sendable, RandomAccessCollection {
    private let result: OpaquePointer
    public let columnNames: [String]
    private let columnIndex: [String: Int32]
    public let count: Int

    init(result: OpaquePointer) {
        self.result = result
        let n = PQnfields(result)
        var names: [String] = []
        var index: [String: Int32] = [:]
        for i in 0..<n {
            let name = String(cString: PQfname(result, i))
            names.append(name)
            if index[name] == nil { index[name] = i }
        }
        columnNames = names
        columnIndex = index
        count = Int(PQntuples(result))
    }

    deinit { PQclear(result) }

    /// Rows affected by INSERT/UPDATE/DELETE (`PQcmdTuples`), 0 otherwise.
    public var affectedRows: Int {
        Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }
    public subscript(position: Int) -> PostgresRow { PostgresRow(rows: self, index: Int32(position)) }

    /// The only row; throws `noRows` when there is none.
    public func one() throws -> PostgresRow {
        guard let r = first else { throw PostgresError.noRows }
        return r
    }

    func column(_ name: String) throws -> Int32 {
        guard let i = columnIndex[name] else { throw PostgresError.noSuchColumn(name) }
        return i
    }

    func text(row: Int32, column: Int32) -> String? {
        if PQgetisnull(result, row, column) != 0 { return nil }
        guard let p = PQgetvalue(result, row, column) else { return nil }
        let len = Int(PQgetlength(result, row, column))
        return p.withMemoryRebound(to: UInt8.self, capacity: len) {
            String(decoding: UnsafeBufferPointer(start: $0, count: len), as: UTF8.self)
        }
    }
}

/// One row of a result, read by column name.
public struct PostgresRow: @unchecked Sendable {
    let rows: PostgresRows
    let index: Int32

    /// The raw text of a column, nil for NULL.
    public func text(_ column: String) throws -> String? {
        rows.text(row: index, column: try rows.column(column))
    }

    /// Decodes a non-NULL column. Throws `decoding` for NULL or a malformed value.
    public func decode<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        let raw = try text(column)
        guard let raw, let v = T(postgresText: raw) else {
            throw PostgresError.decoding(column: column, type: String(describing: T.self), value: raw)
        }
        return v
    }

    /// Decodes a column that may be NULL.
    public func decode<T: PostgresDecodable>(_ column: String, as type: T?.Type = T?.self) throws -> T? {
        guard let raw = try text(column) else { return nil }
        guard let v = T(postgresText: raw) else {
            throw PostgresError.decoding(column: column, type: String(describing: T.self), value: raw)
        }
        return v
    }

    /// True when the column is NULL.
    public func isNull(_ column: String) throws -> Bool {
        try text(column) == nil
    }
}

private func withCStringArray<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    pointers.append(nil)
    defer { for p in pointers { free(p) } }
    return pointers.withUnsafeBufferPointer { buf in
        buf.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: buf.count) { body($0) }
    }
}

private func withOptionalCStringArray<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
    if strings.isEmpty { return body(nil) }
    let pointers: [UnsafeMutablePointer<CChar>?] = strings.map { $0.map { strdup($0) } ?? nil }
    defer { for p in pointers { free(p) } }
    return pointers.withUnsafeBufferPointer { buf in
        buf.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: buf.count) { body($0) }
    }
}
