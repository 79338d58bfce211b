import CEditLine
import Foundation
import KontorShell

#if canImport(Glibc)
import Glibc
#endif

/// Terminal facts and raw reads shared by the consoles.
enum Terminal {
    static var stdinIsTTY: Bool { isatty(STDIN_FILENO) == 1 }
    static var stdoutIsTTY: Bool { isatty(STDOUT_FILENO) == 1 }

    /// Columns of standard output: the terminal's, else `COLUMNS`, else 120.
    static var columns: Int {
        let c = Int(kontor_terminal_columns(STDOUT_FILENO))
        if c > 0 { return c }
        if let s = ProcessInfo.processInfo.environment["COLUMNS"], let n = Int(s), n > 0 { return n }
        return 120
    }

    /// Colours when writing to a terminal that is not `dumb` and `NO_COLOR` is unset.
    static var style: ANSIStyle {
        let env = ProcessInfo.processInfo.environment
        return ANSIStyle(enabled: stdoutIsTTY && env["NO_COLOR"] == nil && env["TERM"] != "dumb")
    }

    /// Serialises writes to standard output and error.
    static let outputLock = NSLock()

    static func write(_ text: String, fd: Int32 = STDOUT_FILENO) {
        outputLock.lock()
        defer { outputLock.unlock() }
        fflush(nil)
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; return }
            bytes = bytes.dropFirst(n)
        }
    }

    /// Reads one line from standard input, byte by byte (no stdio buffer that would
    /// swallow what the editor reads next). Nil at end of input or after Ctrl-C.
    static func readRawLine(echo: Bool, interruptible: Bool) -> String? {
        var old = termios()
        let tty = isatty(STDIN_FILENO) == 1
        if tty && !echo {
            tcgetattr(STDIN_FILENO, &old)
            var silent = old
            silent.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(STDIN_FILENO, TCSANOW, &silent)
        }
        defer {
            if tty && !echo {
                tcsetattr(STDIN_FILENO, TCSANOW, &old)
                write("\n", fd: STDERR_FILENO)
            }
        }
        let startCount = kontor_interrupt_count()
        var bytes: [UInt8] = []
        while true {
            var fds = [pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: kontor_interrupt_fd(), events: Int16(POLLIN), revents: 0)]
            let r = poll(&fds, interruptible ? 2 : 1, -1)
            if interruptible && kontor_interrupt_count() != startCount { return nil }
            if r < 0 { if errno == EINTR { continue }; return nil }
            if fds[0].revents == 0 {
                // A Ctrl-C from before this read: forget it.
                if interruptible && fds[1].revents != 0 {
                    kontor_interrupt_drain()
                    if kontor_interrupt_count() != startCount { return nil }
                }
                continue
            }
            var b: UInt8 = 0
            let n = read(STDIN_FILENO, &b, 1)
            if n < 0 { if errno == EINTR || errno == EAGAIN { continue }; return nil }
            if n == 0 { return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self) }
            if b == UInt8(ascii: "\n") { break }
            bytes.append(b)
        }
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A password from the terminal without echo (a plain line when not a terminal).
    static func readSecretBlocking(prompt: String) -> String? {
        if isatty(STDIN_FILENO) == 1 { write(prompt, fd: STDERR_FILENO) }
        return readRawLine(echo: false, interruptible: isatty(STDIN_FILENO) == 1)
    }

    /// Runs blocking work on a thread of its own (never on the cooperative pool).
    static func blocking<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { cont in
            Thread.detachNewThread { cont.resume(returning: body()) }
        }
    }
}

/// Output for scripts and one-shot commands: plain lines; pushes printed as they come.
struct PlainConsole: ShellConsole {
    func print(_ text: String) { Terminal.write(text + "\n") }
    func printError(_ text: String) { Terminal.write(text + "\n", fd: STDERR_FILENO) }
    func push(_ text: String) { Terminal.write(text + "\n") }
    func readSecret(prompt: String) async -> String? {
        await Terminal.blocking { Terminal.readSecretBlocking(prompt: prompt) }
    }
    func readLine(prompt: String) async -> String? {
        await Terminal.blocking { Terminal.readRawLine(echo: true, interruptible: false) }
    }
    var width: Int { Terminal.columns }
    var style: ANSIStyle { Terminal.style }
}
