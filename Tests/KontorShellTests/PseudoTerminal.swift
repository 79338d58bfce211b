import Foundation
import KontorTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A program running on a pseudo-terminal, and what its screen shows.
///
/// The child is started with `posix_spawn` (no fork in this threaded process) in a new
/// session whose controlling terminal is the pty, so Ctrl-C reaches it as SIGINT. The
/// output is fed to `Screen`, a small VT100/xterm emulator, so tests assert on what a
/// person would see rather than on escape sequences. Waiting never blocks the
/// cooperative pool: reads are non-blocking and the waits sleep.
final class PseudoTerminal: @unchecked Sendable {
    let master: Int32
    let pid: pid_t
    let screen: Screen
    private var transcript: [UInt8] = []
    private(set) var exitStatus: Int32?

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    init(executable: String, arguments: [String] = [], environment: [String: String], columns: Int = 100, rows: Int = 40) throws {
        let m = PTY.openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)
        var name = [CChar](repeating: 0, count: 128)
        guard m >= 0, PTY.grantpt(m) == 0, PTY.unlockpt(m) == 0, PTY.ptsname_r(m, &name, name.count) == 0 else {
            throw Failure(description: "cannot open a pseudo-terminal: errno \(errno)")
        }
        let slavePath = String(decoding: name.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var ws = winsize(ws_row: UInt16(rows), ws_col: UInt16(columns), ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(m, UInt(TIOCSWINSZ), &ws)
        _ = fcntl(m, F_SETFL, fcntl(m, F_GETFL) | O_NONBLOCK)

        let child: pid_t
        do {
            // A new session; opening the pty as descriptor 0 makes it the controlling
            // terminal, and 1 and 2 are the same terminal.
            child = try spawnChild([executable] + arguments, environment: environment, stdin: slavePath,
                                   stdout: slavePath, stderr: slavePath, newSession: true)
        } catch {
            Glibc.close(m)
            throw Failure(description: "\(error)")
        }
        master = m
        pid = child
        screen = Screen(columns: columns, rows: rows)
    }

    /// Types text (`\r` is Enter, `\t` Tab, `\u{3}` Ctrl-C, `\u{4}` Ctrl-D).
    func type(_ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { write(master, $0.baseAddress, $0.count) }
            if n > 0 { bytes = bytes.dropFirst(n) } else if errno != EAGAIN && errno != EINTR { return }
        }
    }

    /// Reads what the program wrote so far into the screen.
    func pump() {
        var buf = [UInt8](repeating: 0, count: 8192)
        while true {
            let n = read(master, &buf, buf.count)
            if n <= 0 { break }
            transcript.append(contentsOf: buf[0..<n])
            screen.feed(buf[0..<n])
        }
        if exitStatus == nil {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
            }
        }
    }

    /// Waits until `condition` holds for the screen; fails with the screen's text.
    func waitUntil(_ what: String, timeout: Double = 20, _ condition: (Screen) -> Bool) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            pump()
            if condition(screen) { return }
            if Date() > deadline || (exitStatus != nil && !condition(screen)) {
                pump()
                if condition(screen) { return }
                throw Failure(description: "waited for \(what); exit status \(exitStatus.map(String.init) ?? "none"); the screen:\n\(screen.text)")
            }
            try await Task.sleep(for: .milliseconds(25))
        }
    }

    /// Waits until `text` is on the screen (or scrolled off it), `times` times.
    func expect(_ text: String, times: Int = 1, timeout: Double = 20) async throws {
        try await waitUntil("\"\(text)\"" + (times > 1 ? " ×\(times)" : ""), timeout: timeout) { $0.count(of: text) >= times }
    }

    /// Waits until a `key  value` line shows (any number of blanks between).
    func expectField(_ key: String, _ value: String, timeout: Double = 20) async throws {
        try await waitUntil("the field \(key) = \(value)", timeout: timeout) { s in
            s.lines.contains { line in
                guard line.hasPrefix(key + " "), line.hasSuffix(" " + value) else { return false }
                return line.dropFirst(key.count).dropLast(value.count).allSatisfy { $0 == " " }
            }
        }
    }

    /// Waits until the cursor's row reads `line` (trailing blanks ignored).
    func expectCursorLine(_ line: String, timeout: Double = 20) async throws {
        try await waitUntil("the cursor line \"\(line)\"", timeout: timeout) { $0.cursorLine == line.trimmingTrailingBlanks() }
    }

    /// Waits for the program to exit.
    func waitForExit(timeout: Double = 20) async throws -> Int32 {
        try await waitUntil("the program to exit", timeout: timeout) { _ in self.exitStatus != nil }
        return exitStatus ?? -1
    }

    /// Ends the program if it still runs and closes the terminal.
    func close() {
        pump()
        if exitStatus == nil {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            _ = waitpid(pid, &status, 0)
        }
        Glibc.close(master)
    }
}

/// The pty functions of the C library. Swift's Glibc module leaves them out (they are
/// X/Open extensions), so they are looked up by name.
enum PTY {
    typealias IntFn = @convention(c) (Int32) -> Int32
    typealias NameFn = @convention(c) (Int32, UnsafeMutablePointer<CChar>?, Int) -> Int32

    static func symbol<T>(_ name: String, as: T.Type) -> T? {
        guard let p = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { return nil }
        return unsafeBitCast(p, to: T.self)
    }

    static func openpt(_ flags: Int32) -> Int32 { symbol("posix_openpt", as: IntFn.self)?(flags) ?? -1 }
    static func grantpt(_ fd: Int32) -> Int32 { symbol("grantpt", as: IntFn.self)?(fd) ?? -1 }
    static func unlockpt(_ fd: Int32) -> Int32 { symbol("unlockpt", as: IntFn.self)?(fd) ?? -1 }
    static func ptsname_r(_ fd: Int32, _ buf: UnsafeMutablePointer<CChar>, _ len: Int) -> Int32 {
        symbol("ptsname_r", as: NameFn.self)?(fd, buf, len) ?? -1
    }
}

extension String {
    func trimmingTrailingBlanks() -> String {
        var s = Substring(self)
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}

/// A terminal screen: enough of VT100/xterm for line editors (cursor moves, erases,
/// insert/delete characters, deferred wrap, scrolling with a scrollback).
final class Screen: @unchecked Sendable {
    let columns: Int
    let rows: Int
    private var grid: [[Character]]
    private var scrollback: [String] = []
    private(set) var row = 0
    private(set) var column = 0
    private var pendingWrap = false
    private var insertMode = false
    private var saved = (0, 0)
    private var utf8: [UInt8] = []
    private enum State { case normal, escape, csi(String), osc, charset }
    private var state = State.normal

    init(columns: Int, rows: Int) {
        self.columns = columns
        self.rows = rows
        grid = Array(repeating: Array(repeating: " ", count: columns), count: rows)
    }

    /// Every line: those scrolled off, then the screen's, trailing blanks removed.
    var lines: [String] {
        scrollback + grid.map { String($0).trimmingTrailingBlanks() }
    }

    var text: String {
        var l = lines
        while l.last == "" { l.removeLast() }
        return l.joined(separator: "\n")
    }

    /// The row the cursor is on.
    var cursorLine: String { String(grid[row]).trimmingTrailingBlanks() }

    /// How many times `s` appears (within lines).
    func count(of s: String) -> Int {
        lines.reduce(0) { n, line in
            var count = 0
            var rest = Substring(line)
            while let r = rest.range(of: s) {
                count += 1
                rest = rest[r.upperBound...]
            }
            return n + count
        }
    }

    func feed(_ bytes: ArraySlice<UInt8>) {
        for b in bytes {
            if !utf8.isEmpty || b >= 0x80 {
                utf8.append(b)
                let need = utf8[0] >= 0xF0 ? 4 : utf8[0] >= 0xE0 ? 3 : utf8[0] >= 0xC0 ? 2 : 1
                if utf8.count < need { continue }
                let s = String(decoding: utf8, as: UTF8.self)
                utf8 = []
                for u in s.unicodeScalars { scalar(u) }
            } else {
                scalar(Unicode.Scalar(b))
            }
        }
    }

    private func scalar(_ u: Unicode.Scalar) {
        switch state {
        case .normal:
            break
        case .escape:
            state = .normal
            switch u {
            case "[": state = .csi("")
            case "]": state = .osc
            case "(", ")", "*", "+": state = .charset
            case "7": saved = (row, column)
            case "8": (row, column) = saved; pendingWrap = false
            case "M": if row > 0 { row -= 1 }
            default: break
            }
            return
        case .csi(let params):
            if (0x40...0x7E).contains(u.value) {
                state = .normal
                csi(params, u)
            } else {
                state = .csi(params + String(u))
            }
            return
        case .osc:
            if u == "\u{07}" { state = .normal }
            if u == "\u{1B}" { state = .escape }
            return
        case .charset:
            state = .normal
            return
        }
        switch u.value {
        case 0x1B: state = .escape
        case 0x0D: column = 0; pendingWrap = false
        case 0x0A, 0x0B, 0x0C: lineFeed()
        case 0x08: if column > 0 { column -= 1 }; pendingWrap = false
        case 0x09: column = min(columns - 1, (column / 8 + 1) * 8)
        case 0..<0x20, 0x7F: break
        default: put(Character(u))
        }
    }

    private func put(_ c: Character) {
        if pendingWrap {
            column = 0
            lineFeed()
            pendingWrap = false
        }
        if insertMode {
            grid[row].insert(" ", at: column)
            grid[row].removeLast()
        }
        grid[row][column] = c
        if column == columns - 1 { pendingWrap = true } else { column += 1 }
    }

    private func lineFeed() {
        if row == rows - 1 {
            scrollback.append(String(grid[0]).trimmingTrailingBlanks())
            grid.removeFirst()
            grid.append(Array(repeating: " ", count: columns))
        } else {
            row += 1
        }
    }

    private func csi(_ params: String, _ final: Unicode.Scalar) {
        let isPrivate = params.hasPrefix("?")
        let numbers = params.drop(while: { $0 == "?" || $0 == ">" }).split(separator: ";", omittingEmptySubsequences: false).map { Int($0) ?? 0 }
        let n = max(1, numbers.first ?? 1)
        let blank: Character = " "
        pendingWrap = false
        switch final {
        case "A": row = max(0, row - n)
        case "B", "e": row = min(rows - 1, row + n)
        case "C", "a": column = min(columns - 1, column + n)
        case "D": column = max(0, column - n)
        case "E": row = min(rows - 1, row + n); column = 0
        case "F": row = max(0, row - n); column = 0
        case "G", "`": column = min(columns - 1, n - 1)
        case "d": row = min(rows - 1, n - 1)
        case "H", "f":
            row = min(rows - 1, max(1, numbers.first ?? 1) - 1)
            column = min(columns - 1, max(1, numbers.count > 1 ? numbers[1] : 1) - 1)
        case "J":
            switch numbers.first ?? 0 {
            case 0:
                for c in column..<columns { grid[row][c] = blank }
                for r in (row + 1)..<rows { grid[r] = Array(repeating: blank, count: columns) }
            case 1:
                for r in 0..<row { grid[r] = Array(repeating: blank, count: columns) }
                for c in 0...column { grid[row][c] = blank }
            default:
                grid = Array(repeating: Array(repeating: blank, count: columns), count: rows)
            }
        case "K":
            switch numbers.first ?? 0 {
            case 0: for c in column..<columns { grid[row][c] = blank }
            case 1: for c in 0...column { grid[row][c] = blank }
            default: grid[row] = Array(repeating: blank, count: columns)
            }
        case "P":
            for _ in 0..<min(n, columns - column) {
                grid[row].remove(at: column)
                grid[row].append(blank)
            }
        case "@":
            for _ in 0..<min(n, columns - column) {
                grid[row].insert(blank, at: column)
                grid[row].removeLast()
            }
        case "X":
            for c in column..<min(columns, column + n) { grid[row][c] = blank }
        case "L":
            for _ in 0..<min(n, rows - row) {
                grid.insert(Array(repeating: blank, count: columns), at: row)
                grid.removeLast()
            }
        case "M":
            for _ in 0..<min(n, rows - row) {
                grid.remove(at: row)
                grid.append(Array(repeating: blank, count: columns))
            }
        case "h", "l":
            if !isPrivate, numbers.contains(4) { insertMode = final == "h" }
        default:
            break  // colours (m), modes, scroll regions: nothing to draw
        }
    }
}
