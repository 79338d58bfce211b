import CEditLine
import Foundation
import KontorShell

#if canImport(Glibc)
import Glibc
#endif

/// The REPL's line editor over libedit: emacs keys, history in
/// `~/.config/kontor/history` (0600), Tab completion from the catalogue, and server
/// pushes printed above the line being edited.
final class LineEditor: @unchecked Sendable {
    enum Input: Sendable { case line(String), cancelled, endOfInput }

    let completer: Completer
    private var editor: OpaquePointer?
    /// Guards `reading` and `pending`.
    private let lock = NSLock()
    private var reading = false
    private var pending: [String] = []
    /// The prompt being shown (for measuring rows).
    private var prompt = ""

    init(completer: Completer) { self.completer = completer }

    func open() -> Bool {
        let context = Unmanaged.passUnretained(self).toOpaque()
        editor = kontor_editor_open("kontor", context, { ctx, el in
            guard let ctx, let el else { return UInt8(KONTOR_CC_ERROR) }
            return Unmanaged<LineEditor>.fromOpaque(ctx).takeUnretainedValue().complete(el)
        }, { ctx, el in
            guard let ctx, let el else { return UInt8(KONTOR_CC_NORM) }
            return Unmanaged<LineEditor>.fromOpaque(ctx).takeUnretainedValue().showPending(el)
        }, 1000)
        return editor != nil
    }

    func close() {
        if let e = editor { kontor_editor_close(e) }
        editor = nil
    }

    // MARK: - History

    func loadHistory() {
        guard let e = editor else { return }
        let path = ConfigFiles.history.path
        if FileManager.default.fileExists(atPath: path) {
            try? ConfigFiles.makePrivate(ConfigFiles.history)
            _ = kontor_editor_history_load(e, path)
        }
    }

    /// Adds a line to the history and saves the file (mode 0600).
    func remember(_ line: String) {
        guard let e = editor else { return }
        _ = kontor_editor_history_add(e, line)
        do {
            try ConfigFiles.makePrivate(ConfigFiles.history)
            _ = kontor_editor_history_save(e, ConfigFiles.history.path)
        } catch {
            // History is a convenience: a read-only home must not stop the REPL.
        }
    }

    // MARK: - Reading

    /// Reads a line on a thread of its own.
    func read(prompt: String) async -> Input {
        guard let e = editor else { return .endOfInput }
        let box = UncheckedBox(e)
        return await Terminal.blocking { [self] in
            self.lock.lock()
            self.reading = true
            self.prompt = prompt
            let wake = !self.pending.isEmpty
            self.lock.unlock()
            if wake { kontor_editor_wake() }
            var status: Int32 = 0
            let text = prompt.withCString { kontor_editor_read(box.value, $0, &status) }
            let result: Input
            switch status {
            case Int32(KONTOR_READ_LINE): result = .line(text.map { String(cString: $0) } ?? "")
            case Int32(KONTOR_READ_CANCELLED): result = .cancelled
            default: result = .endOfInput
            }
            self.lock.lock()
            self.reading = false
            let left = self.pending
            self.pending = []
            self.lock.unlock()
            for m in left { Terminal.write(m + "\n") }
            return result
        }
    }

    /// A line to show now: above the prompt while a line is edited, else at once.
    func post(_ message: String) {
        lock.lock()
        if reading {
            pending.append(message)
            lock.unlock()
            kontor_editor_wake()
        } else {
            lock.unlock()
            Terminal.write(message + "\n")
        }
    }

    // MARK: - Key actions (on the editing thread)

    /// The text of the line: all of it, and the part left of the cursor.
    private func lineText(_ el: OpaquePointer) -> (all: String, beforeCursor: String) {
        guard let li = el_line(el)?.pointee, let start = li.buffer else { return ("", "") }
        let all = UnsafeBufferPointer(start: UnsafeRawPointer(start).assumingMemoryBound(to: UInt8.self),
                                      count: max(0, li.lastchar - start))
        let before = max(0, min(all.count, li.cursor - start))
        return (String(decoding: all, as: UTF8.self), String(decoding: all[..<before], as: UTF8.self))
    }

    /// Rows the edited text spans above the cursor and below it.
    private func rows(_ el: OpaquePointer) -> (above: Int, below: Int) {
        let cols = max(1, Terminal.columns)
        let (all, before) = lineText(el)
        let p = TerminalText.width(prompt)
        let cursor = p + TerminalText.width(before)
        let end = p + TerminalText.width(all)
        return (cursor / cols, max(0, end / cols - cursor / cols))
    }

    /// Prints waiting pushes above the prompt, then draws the prompt and the line again.
    func showPending(_ el: OpaquePointer) -> UInt8 {
        lock.lock()
        let messages = pending
        pending = []
        lock.unlock()
        guard !messages.isEmpty else { return UInt8(KONTOR_CC_NORM) }
        let (above, _) = rows(el)
        var out = "\r"
        if above > 0 { out += "\u{1B}[\(above)A" }
        out += "\u{1B}[J"
        out += messages.map { $0 + "\r\n" }.joined()
        Terminal.write(out)
        kontor_editor_redraw(el)
        return UInt8(KONTOR_CC_NORM)
    }

    /// Tab: completes the word at the cursor, or lists the choices below the line.
    func complete(_ el: OpaquePointer) -> UInt8 {
        let (_, before) = lineText(el)
        let c = completer.complete(before)
        if let insertion = c.insertion, !insertion.isEmpty {
            _ = insertion.withCString { el_insertstr(el, $0) }
            return UInt8(KONTOR_CC_REFRESH)
        }
        guard c.candidates.count > 1 else { return UInt8(KONTOR_CC_REFRESH_BEEP) }
        let (_, below) = rows(el)
        var out = below > 0 ? "\u{1B}[\(below)B" : ""
        out += "\r\n" + Self.columns(c.candidates, width: Terminal.columns).replacingOccurrences(of: "\n", with: "\r\n") + "\r\n"
        Terminal.write(out)
        kontor_editor_redraw(el)
        return UInt8(KONTOR_CC_NORM)
    }

    /// Words laid out in columns, like a shell's completion list.
    static func columns(_ words: [String], width: Int) -> String {
        let w = (words.map { TerminalText.width($0) }.max() ?? 0) + 2
        let perRow = max(1, width / max(1, w))
        let rows = (words.count + perRow - 1) / perRow
        var lines: [String] = []
        for r in 0..<rows {
            var line = ""
            for c in 0..<perRow {
                let i = c * rows + r
                if i < words.count { line += TerminalText.pad(words[i], to: w) }
            }
            lines.append(line.trimmingCharacters(in: .whitespaces))
        }
        return lines.joined(separator: "\n")
    }
}

/// Moves a non-Sendable pointer to the reading thread (used there only).
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// The REPL's console: pushes go through the editor; secrets are read without echo.
struct EditorConsole: ShellConsole {
    let editor: LineEditor

    func print(_ text: String) { Terminal.write(text + "\n") }
    func printError(_ text: String) { Terminal.write(Terminal.style.paint(text, "31") + "\n", fd: STDERR_FILENO) }
    func push(_ text: String) { editor.post(Terminal.style.paint(text, "33")) }
    func readSecret(prompt: String) async -> String? {
        await Terminal.blocking { Terminal.readSecretBlocking(prompt: prompt) }
    }
    func readLine(prompt: String) async -> String? {
        if case .line(let s) = await editor.read(prompt: prompt) { return s }
        return nil
    }
    var width: Int { Terminal.columns }
    var style: ANSIStyle { Terminal.style }
}
