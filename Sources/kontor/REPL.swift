import CEditLine
import Foundation
import KontorShell

#if canImport(Glibc)
import Glibc
#endif

/// The interactive loop, and its script twin for standard input that is not a terminal.
enum REPL {
    /// Runs until `quit`, Ctrl-D or the end of input; returns the exit status (1 when a
    /// scripted command failed).
    static func run(server: String?) async -> Int32 {
        let host: String, port: Int
        do { (host, port) = try Shell.address(explicit: server) } catch {
            PlainConsole().printError(ErrorText.line(error))
            return 2
        }
        if !Terminal.stdinIsTTY { return await script(host: host, port: port) }
        return await interactive(host: host, port: port)
    }

    /// Commands line by line from standard input; every failure is printed, the rest
    /// still run, and the status says whether any failed.
    static func script(host: String, port: Int) async -> Int32 {
        let shell = Shell(console: PlainConsole(), host: host, port: port)
        await shell.start(banner: false)
        var failed = false
        while let line = await Terminal.blocking({ Terminal.readRawLine(echo: true, interruptible: false) }) {
            if await !shell.run(line: line) { failed = true }
            if await shell.finished { break }
        }
        await shell.shutdown()
        return failed ? 1 : 0
    }

    static func interactive(host: String, port: Int) async -> Int32 {
        let syntax = HumanSyntax()
        let editor = LineEditor(completer: Completer(syntax: syntax))
        let console = EditorConsole(editor: editor)
        let shell = Shell(syntax: syntax, console: console, host: host, port: port)
        guard editor.open() else {
            PlainConsole().printError("error: io: cannot start the line editor")
            return 1
        }
        editor.loadHistory()
        await shell.start(banner: true)
        loop: while true {
            let prompt = await shell.prompt
            switch await editor.read(prompt: prompt) {
            case .endOfInput:
                Terminal.write("\n")
                break loop
            case .cancelled:
                continue
            case .line(let line):
                if shouldRemember(line, syntax: syntax) { editor.remember(line) }
                kontor_interrupt_drain()
                let watch = InterruptWatch { Task { await shell.interrupt() } }
                _ = await shell.run(line: line)
                watch.stop()
                if await shell.finished { break loop }
            }
        }
        await shell.shutdown()
        editor.close()
        return 0
    }

    /// History keeps neither lines starting with a blank nor lines that carry a
    /// password or a token.
    static func shouldRemember(_ line: String, syntax: HumanSyntax) -> Bool {
        if line.first == " " || line.trimmingCharacters(in: .whitespaces).isEmpty { return false }
        let lower = line.lowercased()
        for secret in ["password", "token", "secret"] where lower.contains(secret + "=") || lower.contains(secret + ":=") {
            return false
        }
        if let call = try? syntax.parse(line: line), let keys = call.params.objectValue?.keys,
           keys.contains(where: { $0.contains("password") || $0.contains("token") }) {
            return false
        }
        return true
    }
}

/// Calls `action` once if Ctrl-C is pressed before `stop()`.
final class InterruptWatch: @unchecked Sendable {
    private var stopPipe: [Int32] = [-1, -1]
    private let done = DispatchSemaphore(value: 0)

    init(_ action: @escaping @Sendable () -> Void) {
        guard pipe(&stopPipe) == 0 else { return }
        let stopRead = stopPipe[0]
        let start = kontor_interrupt_count()
        let done = self.done
        Thread.detachNewThread {
            defer { done.signal() }
            while true {
                var fds = [pollfd(fd: kontor_interrupt_fd(), events: Int16(POLLIN), revents: 0),
                           pollfd(fd: stopRead, events: Int16(POLLIN), revents: 0)]
                let r = poll(&fds, 2, -1)
                if r < 0 && errno == EINTR { continue }
                if fds[1].revents != 0 || r < 0 { return }
                if kontor_interrupt_count() != start {
                    action()
                    return
                }
                // Readable without a new Ctrl-C: a stale byte.
                kontor_interrupt_drain()
            }
        }
    }

    func stop() {
        guard stopPipe[1] >= 0 else { return }
        var b: UInt8 = 1
        _ = write(stopPipe[1], &b, 1)
        done.wait()
        close(stopPipe[0])
        close(stopPipe[1])
    }
}
