import NIOCore

/// One inbound frame of the line protocol.
enum LineFrame: Sendable {
    /// A line without its `\n` (and without a `\r` before it).
    case line(ByteBuffer)
    /// A line longer than the limit: the connection answers an error and closes.
    case tooLong
}

/// Splits the byte stream at `\n` with a cap on line length (the protocol's 1 MiB).
/// After `tooLong` it discards everything: the connection is about to close.
struct LineDecoder: ByteToMessageDecoder {
    typealias InboundOut = LineFrame
    let maxLength: Int
    private var scanned = 0
    private var failed = false

    init(maxLength: Int) { self.maxLength = maxLength }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if failed {
            buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
            return .needMoreData
        }
        let view = buffer.readableBytesView
        let searchStart = view.startIndex + scanned
        if let nl = view[searchStart...].firstIndex(of: UInt8(ascii: "\n")) {
            let length = nl - view.startIndex
            scanned = 0
            // The limit is on the line's content: a `\r` before the `\n` does not count.
            let content = length > 0 && view[nl - 1] == UInt8(ascii: "\r") ? length - 1 : length
            if content > maxLength {
                failed = true
                buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
                context.fireChannelRead(wrapInboundOut(.tooLong))
                return .needMoreData
            }
            var line = buffer.readSlice(length: length) ?? ByteBuffer()
            buffer.moveReaderIndex(forwardBy: 1)
            if line.readableBytesView.last == UInt8(ascii: "\r") { line = line.getSlice(at: line.readerIndex, length: line.readableBytes - 1) ?? line }
            context.fireChannelRead(wrapInboundOut(.line(line)))
            return .continue
        }
        scanned = view.count
        // More than the limit plus room for "\r" and still no newline: too long.
        if view.count > maxLength + 1 {
            failed = true
            buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
            context.fireChannelRead(wrapInboundOut(.tooLong))
        }
        return .needMoreData
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        // A last line without a newline (e.g. `printf '...' | nc`) still counts.
        if !failed, buffer.readableBytes > 0 {
            var line = buffer.readSlice(length: buffer.readableBytes) ?? ByteBuffer()
            if line.readableBytesView.last == UInt8(ascii: "\r") { line = line.getSlice(at: line.readerIndex, length: line.readableBytes - 1) ?? line }
            if line.readableBytesView.contains(where: { $0 != 0x20 && $0 != 0x09 }) {
                context.fireChannelRead(wrapInboundOut(.line(line)))
            }
        }
        return .needMoreData
    }
}

/// Closes the connection when nothing was read for the idle timeout.
final class IdleCloser: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}
