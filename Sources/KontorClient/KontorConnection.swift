import Foundation
import KontorDomain
import KontorProtocol
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Failures of the client itself (not errors the server answered).
public enum KontorClientError: Error, Sendable, CustomStringConvertible {
    /// The TCP connection could not be opened (message from the OS).
    case connectFailed(String)
    /// The connection closed before the answer arrived.
    case connectionClosed
    /// The server sent a line that is not a JSON-RPC message.
    case badResponse(String)

    public var description: String {
        switch self {
        case .connectFailed(let m): return "cannot connect: \(m)"
        case .connectionClosed: return "the connection closed"
        case .badResponse(let m): return "unexpected answer from the server: \(m)"
        }
    }
}

/// A protocol connection to `kontord`: JSON-RPC 2.0 over TCP, one object per line.
///
/// `call` may be used from many tasks at once (requests are pipelined; answers matched
/// by id). Server pushes arrive on `notifications`; error answers without an id (for a
/// line the server could not read) arrive on `unmatched`.
public final class KontorConnection: Sendable {
    private struct State {
        var nextID = 0
        var pending: [Int: CheckedContinuation<JSONRPCMessage, Error>] = [:]
        var closed = false
    }

    private let state = NIOLockedValueBox(State())
    private let channel: Channel
    private let writer: NIOLockedValueBox<NIOAsyncChannelOutboundWriter<ByteBuffer>?> = NIOLockedValueBox(nil)
    private let readerTask: NIOLockedValueBox<Task<Void, Never>?> = NIOLockedValueBox(nil)

    /// Server pushes (`reminder.due`, ...), as method and params.
    public let notifications: AsyncStream<(method: String, params: JSONValue)>
    private let notificationsContinuation: AsyncStream<(method: String, params: JSONValue)>.Continuation
    /// Answers that carry no id (errors for lines the server could not read).
    public let unmatched: AsyncStream<JSONRPCMessage>
    private let unmatchedContinuation: AsyncStream<JSONRPCMessage>.Continuation

    /// Opens a connection.
    /// - Throws: `KontorClientError.connectFailed`.
    public static func connect(host: String = "127.0.0.1", port: Int = 7411,
                               group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> KontorConnection {
        let async: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            async = try await ClientBootstrap(group: group)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connectTimeout(.seconds(10))
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(ClientLineDecoder()))
                        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw KontorClientError.connectFailed("\(host):\(port): \(error)")
        }
        let c = KontorConnection(channel: async.channel)
        await c.start(async)
        return c
    }

    private init(channel: Channel) {
        self.channel = channel
        (notifications, notificationsContinuation) = AsyncStream.makeStream(of: (method: String, params: JSONValue).self, bufferingPolicy: .bufferingNewest(10_000))
        (unmatched, unmatchedContinuation) = AsyncStream.makeStream(of: JSONRPCMessage.self, bufferingPolicy: .bufferingNewest(1000))
    }

    private func start(_ async: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        await withCheckedContinuation { (ready: CheckedContinuation<Void, Never>) in
            let task = Task {
                do {
                    try await async.executeThenClose { inbound, outbound in
                        self.writer.withLockedValue { $0 = outbound }
                        ready.resume()
                        for try await line in inbound {
                            self.deliver(line)
                        }
                    }
                } catch {
                    // Connection ended with an error; fall through to failing waiters.
                }
                self.finish()
            }
            readerTask.withLockedValue { $0 = task }
        }
    }

    private func deliver(_ line: ByteBuffer) {
        let message: JSONRPCMessage
        do {
            message = try JSONRPCMessage.parse(line.readableBytesView)
        } catch {
            unmatchedContinuation.yield(.error(id: nil, error: KontorError(.parseError, "bad line from server: \(String(buffer: line))")))
            return
        }
        route(message)
    }

    private func route(_ message: JSONRPCMessage) {
        switch message {
        case .notification(let m, let p):
            notificationsContinuation.yield((m, p))
        case .result(let id, _), .error(let id, _):
            if case .number(let n)? = id, let i = Int(n),
               let cont = state.withLockedValue({ $0.pending.removeValue(forKey: i) }) {
                cont.resume(returning: message)
            } else {
                unmatchedContinuation.yield(message)
            }
        case .batch(let items):
            unmatchedContinuation.yield(.batch(items))
        }
    }

    private func finish() {
        let pending = state.withLockedValue { s -> [CheckedContinuation<JSONRPCMessage, Error>] in
            s.closed = true
            let p = Array(s.pending.values)
            s.pending = [:]
            return p
        }
        for p in pending { p.resume(throwing: KontorClientError.connectionClosed) }
        notificationsContinuation.finish()
        unmatchedContinuation.finish()
    }

    /// True once the connection has closed.
    public var isClosed: Bool { state.withLockedValue { $0.closed } }

    /// Calls a method and returns its `result`.
    /// - Throws: `KontorError` for an error answer (its kind and data as the server sent
    ///   them), `KontorClientError` when the connection fails.
    public func call(_ method: String, _ params: JSONValue = .object([:])) async throws -> JSONValue {
        let id = state.withLockedValue { s -> Int in s.nextID += 1; return s.nextID }
        let line = JSONRPC.requestLine(id: .number(String(id)), method: method, params: params)
        let message: JSONRPCMessage = try await withCheckedThrowingContinuation { cont in
            let closed = state.withLockedValue { s -> Bool in
                if s.closed { return true }
                s.pending[id] = cont
                return false
            }
            if closed { cont.resume(throwing: KontorClientError.connectionClosed); return }
            Task {
                do { try await self.send(line) } catch {
                    if let c = self.state.withLockedValue({ $0.pending.removeValue(forKey: id) }) {
                        c.resume(throwing: KontorClientError.connectionClosed)
                    }
                }
            }
        }
        switch message {
        case .result(_, let r): return r
        case .error(_, let e): throw e
        default: throw KontorClientError.badResponse("not a response")
        }
    }

    /// Calls with typed params and result (keys in `snake_case`).
    public func call<P: Encodable, R: Decodable>(_ method: String, _ params: P, as: R.Type = R.self) async throws -> R {
        let v = try JSONValueEncoder().encode(params)
        return try LenientDecoding.decode(R.self, from: try await call(method, v))
    }

    /// Sends a raw line (a newline is added). For tests and tools.
    public func send(_ line: String) async throws {
        guard let w = writer.withLockedValue({ $0 }) else { throw KontorClientError.connectionClosed }
        try await w.write(ByteBuffer(string: line + "\n"))
    }

    /// Sends raw bytes as they are (no newline added).
    public func sendBytes(_ bytes: [UInt8]) async throws {
        guard let w = writer.withLockedValue({ $0 }) else { throw KontorClientError.connectionClosed }
        try await w.write(ByteBuffer(bytes: bytes))
    }

    /// Closes the connection; calls in flight fail with `connectionClosed`.
    public func close() async {
        try? await channel.close()
        let t = readerTask.withLockedValue { $0 }
        await t?.value
    }
}

/// Decodes results without refusing unknown fields (a newer server may add fields).
enum LenientDecoding {
    static func decode<R: Decodable>(_ type: R.Type, from value: JSONValue) throws -> R {
        try JSONValueDecoder(strict: false).decode(R.self, from: value)
    }
}

/// Splits the server's byte stream into lines (no length cap: results can be large).
struct ClientLineDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer
    private var scanned = 0

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let view = buffer.readableBytesView
        guard let nl = view[(view.startIndex + scanned)...].firstIndex(of: UInt8(ascii: "\n")) else {
            scanned = view.count
            return .needMoreData
        }
        scanned = 0
        let length = nl - view.startIndex
        var line = buffer.readSlice(length: length) ?? ByteBuffer()
        buffer.moveReaderIndex(forwardBy: 1)
        if line.readableBytesView.last == UInt8(ascii: "\r") { line.moveWriterIndex(to: line.writerIndex - 1) }
        context.fireChannelRead(wrapInboundOut(line))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}
