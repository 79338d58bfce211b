import Foundation
import KontorTestSupport
import Testing

/// The programs tests start (kontor, kontor-seed, kontor-bridge, nc in the quickstart's
/// tour) must start as from a shell: `nc -q1` once waited for ever because it inherited
/// the test runner's blocked SIGALRM.
@Suite("Child processes of the tests")
struct ChildProcessTests {
    @Test("a child starts with no signal blocked or ignored and only descriptors 0, 1 and 2")
    func cleanChild() async throws {
        // Hold a descriptor of our own open while the child starts: it must not inherit it.
        let held = open("/dev/null", O_RDONLY)
        defer { close(held) }
        // The signal masks grep starts with are those of the shell it replaces (exec):
        // a shell's own mask can read as "all blocked" for a moment while it forks.
        let out = try await runCapturing(["/bin/sh", "-c", "exec grep -E '^Sig(Blk|Ign)' /proc/self/status"],
                                         environment: ["PATH": "/usr/bin:/bin"])
        #expect(out.status == 0, "\(out.stderr)")
        let lines = out.stdout.split(separator: "\n").map(String.init)
        // Masks in hex, bit n-1 for signal n; glibc keeps its own real-time signals 32 and
        // 33 to itself, so the standard signals 1...31 are what a program can rely on.
        func mask(_ name: String) -> UInt64? {
            lines.first { $0.hasPrefix(name + ":") }.flatMap { UInt64($0.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces), radix: 16) }
        }
        #expect(mask("SigBlk").map { $0 & 0x7fff_ffff } == 0, "\(out.stdout)")
        #expect(mask("SigIgn").map { $0 & 0x7fff_ffff } == 0, "\(out.stdout)")
        let listing = try await runCapturing(["/bin/sh", "-c", "ls /proc/$$/fd"], environment: ["PATH": "/usr/bin:/bin"])
        let fds = listing.stdout.split(separator: "\n").compactMap { Int($0) }.sorted()
        #expect(fds == [0, 1, 2], "the shell has descriptors \(fds)")
    }

}

extension ChildProcessTests {
    @Test("a child that hangs is killed with what it started after the timeout, not waited for")
    func hungChildKilled() async throws {
        let started = Date()
        let out = try await runCapturing(["/bin/sh", "-c", "sleep 300 & wait"], environment: ["PATH": "/usr/bin:/bin"], timeout: 1)
        #expect(out.status == 128 + SIGKILL)
        #expect(Date().timeIntervalSince(started) < 60)
    }
}
