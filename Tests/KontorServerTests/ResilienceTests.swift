import Foundation
import KontorClient
import KontorDomain
import KontorProtocol
import KontorTestSupport
import Postgres
import Testing

/// A raw TCP client that writes without reading, or reads only when told to (what a
/// stuck, slow or hostile client does).
final class RawSocket {
    let fd: Int32

    /// Connects to 127.0.0.1:`port`, non-blocking; `receiveBuffer` (bytes) shrinks the
    /// kernel's receive buffer, so that a client that does not read fills up quickly.
    init(port: Int, receiveBuffer: Int32? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if var size = receiveBuffer {
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard ok else { throw PostgresError.client("connect failed") }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    deinit { close(fd) }

    /// Writes as much of `bytes` as the socket takes now; returns the count.
    func writeSome(_ bytes: [UInt8]) -> Int {
        bytes.withUnsafeBytes { b in
            let n = Glibc.send(fd, b.baseAddress, b.count, Int32(MSG_NOSIGNAL))
            return n < 0 ? 0 : n
        }
    }

    /// Sends one line (a newline is added), as much as the socket takes now.
    func send(line: String) {
        _ = writeSome(Array((line + "\n").utf8))
    }

    /// Reads until the peer closes, `until` has been read and nothing more is waiting, or
    /// `seconds` pass.
    func read(seconds: Double, until: String) async -> String {
        var out = [UInt8]()
        let deadline = Date().addingTimeInterval(seconds)
        var buf = [UInt8](repeating: 0, count: 65536)
        while Date() < deadline {
            let n = recv(fd, &buf, buf.count, 0)
            if n > 0 { out += buf[0..<n]; continue }
            if n == 0 || String(decoding: out, as: UTF8.self).contains(until) { break }
            try? await Task.sleep(nanoseconds: 10_000_000)  // yields: never block the pool kontord runs on
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Reads whatever is there within `seconds`.
    /// Reads until the peer closes, `lines` complete lines have arrived, or `seconds`
    /// pass (a bound for a busy machine, not a measured time).
    func readAvailable(seconds: Double, lines: Int? = nil) async -> String {
        var out = [UInt8]()
        let deadline = Date().addingTimeInterval(seconds)
        var buf = [UInt8](repeating: 0, count: 65536)
        while Date() < deadline {
            let n = recv(fd, &buf, buf.count, 0)
            // Waiting yields the thread: a test blocking one of the cooperative pool's few
            // threads starves the in-process kontord it is waiting for.
            if n > 0 { out += buf[0..<n] } else if n == 0 { break } else { try? await Task.sleep(nanoseconds: 10_000_000) }
            if let lines, out.lazy.filter({ $0 == 10 }).count >= lines { break }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

@Suite("kontord under clients that misbehave")
struct ResilienceTests {
    @Test("a client that sends without ever reading is stopped being read; others are served")
    func nonReadingClient() async throws {
        let server = try await TestServer.start()
        let raw = try RawSocket(port: server.port)
        let line = Array(#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#.utf8) + [10]
        let chunk = Array([[UInt8]](repeating: line, count: 10_000).joined())  // ~400 KB of pings
        var sent = 0
        var stalledSince: Date?
        // Offer 60 MB; a server that reads everything would take it all.
        let began = Date()
        while sent < 60_000_000, Date().timeIntervalSince(began) < 60 {
            let n = raw.writeSome(chunk)
            sent += n
            if n == 0 {
                if stalledSince == nil { stalledSince = Date() }
                if Date().timeIntervalSince(stalledSince!) > 2 { break }
                try await Task.sleep(nanoseconds: 20_000_000)
            } else {
                stalledSince = nil
            }
        }
        // Kernel buffers on both sides hold some megabytes; the server itself only a few
        // dozen answers. Far less than offered.
        #expect(sent < 30_000_000, "the server read \(sent) bytes from a client that never reads")
        let other = try await server.connect()
        let started = Date()
        #expect(try await other.call("ping")["pong"] == .bool(true))
        // Served at once (generous bound: the test machine may be busy).
        #expect(Date().timeIntervalSince(started) < 10)
        await other.close()
        await server.stop()
    }

    @Test("blank lines are ignored; a 1 MiB line ending in CRLF is accepted; a batch over 100 is refused")
    func framingEdges() async throws {
        let server = try await TestServer.start()
        let raw = try RawSocket(port: server.port)
        // Exactly 1 MiB of content, then \r\n.
        let prefix = #"{"jsonrpc":"2.0","id":7,"method":"ping","params":{"#
        let suffix = "}}"
        // {"x":"aaaa..."} padded so that the whole line is 1 MiB; params is refused as an
        // unknown field, which proves the line was read and parsed.
        let padding = (1 << 20) - prefix.utf8.count - suffix.utf8.count - #""x":"""#.utf8.count
        let big = prefix + #""x":""# + String(repeating: "a", count: padding) + "\"" + suffix
        #expect(big.utf8.count == 1 << 20)
        var bytes = Array("\n   \r\n\t\n".utf8) + Array(big.utf8) + [13, 10]
        let batch = "[" + Array(repeating: #"{"jsonrpc":"2.0","id":1,"method":"ping"}"#, count: 101).joined(separator: ",") + "]\n"
        bytes += Array(batch.utf8)
        // Written as a well-behaved client does: reading what has arrived whenever the
        // socket is full, so the server's back-pressure on non-reading clients never
        // stalls the exchange.
        var offset = 0
        var received = ""
        let writeDeadline = Date().addingTimeInterval(60)
        while offset < bytes.count, Date() < writeDeadline {
            let n = raw.writeSome(Array(bytes[offset...]))
            if n > 0 { offset += n } else {
                received += await raw.readAvailable(seconds: 0.005)
                try await Task.sleep(nanoseconds: 5_000_000)
            }
        }
        #expect(offset == bytes.count, "kontord took \(offset) of \(bytes.count) bytes")
        let seen = received.split(separator: "\n").count
        received += await raw.readAvailable(seconds: 30, lines: max(0, 2 - seen))
        let answers = received.split(separator: "\n")
        #expect(answers.count == 2, "\(answers.map { $0.prefix(120) })")
        #expect(answers.first?.contains("\"id\":7") == true && answers.first?.contains("invalid_params") == true)
        #expect(answers.last?.contains("at most 100") == true)
        await server.stop()
    }

    @Test("connections beyond the limit get one unavailable line and are closed")
    func connectionLimit() async throws {
        let server = try await TestServer.start { $0.maxConnections = 3 }
        var open: [KontorConnection] = []
        for _ in 0..<3 {
            let c = try await server.connect()
            _ = try await c.call("ping")
            open.append(c)
        }
        let extra = try RawSocket(port: server.port)
        let text = await extra.readAvailable(seconds: 30)  // returns when kontord closes it
        #expect(text.contains("unavailable") && text.contains("too many connections"))
        await open[0].close()
        try await Task.sleep(nanoseconds: 200_000_000)
        let again = try await server.connect()
        #expect(try await again.call("ping")["pong"] == .bool(true))
        await server.stop()
    }

    @Test("graceful shutdown does not wait forever for a client that never reads")
    func shutdownDeadline() async throws {
        let server = try await TestServer.start { $0.shutdownGrace = 1 }
        let raw = try RawSocket(port: server.port)
        let line = Array(#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#.utf8) + [10]
        let chunk = Array([[UInt8]](repeating: line, count: 20_000).joined())
        // Fill every buffer between us until the server stops reading us.
        var stalledSince: Date?
        let began = Date()
        while Date().timeIntervalSince(began) < 60 {
            if raw.writeSome(chunk) > 0 { stalledSince = nil; continue }
            if stalledSince == nil { stalledSince = Date() }
            if Date().timeIntervalSince(stalledSince!) > 1 { break }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        let started = Date()
        await server.stop(dropDatabase: false)
        // Without the grace period this would wait for the client forever.
        #expect(Date().timeIntervalSince(started) < 8)
        await server.database.drop()
    }

    @Test("a request waiting on a row lock held elsewhere gives up after the lock timeout with unavailable")
    func lockTimeout() async throws {
        let server = try await TestServer.start { $0.lockTimeout = 0.5 }
        try await server.createUser("olena", role: .user, department: .development)
        let o = try await server.login("olena")
        let created = try await o.call("contact.create", ["full_name": "Locked Person"])
        let id = try #require(created["id"]?.int64Value)
        // Another session holds the row.
        let holder = try server.database.connect()
        defer { holder.close() }
        try holder.execute(script: "BEGIN")
        try holder.execute("SELECT 1 FROM contacts WHERE id = \(id) FOR UPDATE")
        let started = Date()
        let kind = await errorKind { _ = try await o.call("contact.update", ["id": created["id"]!, "version": created["version"]!, "full_name": "Changed"]) }
        #expect(kind == .unavailable)
        #expect(Date().timeIntervalSince(started) < 5)
        try holder.execute(script: "ROLLBACK")
        // Once the lock is gone, the same update goes through.
        _ = try await o.call("contact.update", ["id": created["id"]!, "version": created["version"]!, "full_name": "Changed"])
        await server.stop()
    }
}
