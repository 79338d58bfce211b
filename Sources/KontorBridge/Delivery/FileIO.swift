import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed system call, with the path and the OS's message.
public struct FileIOError: Error, Sendable, CustomStringConvertible {
    public var operation: String
    public var path: String
    public var code: Int32
    public var description: String { "\(operation) \(path): \(String(cString: strerror(code)))" }

    init(_ operation: String, _ path: String, _ code: Int32 = errno) {
        self.operation = operation; self.path = path; self.code = code
    }
}

/// The few POSIX file operations durability needs (Foundation has no fsync of a
/// directory and no flock).
typealias stat_t = Glibc.stat

private func systemStat(_ path: String, _ st: inout stat_t) -> Int32 { stat(path, &st) }
private func systemFstat(_ fd: Int32, _ st: inout stat_t) -> Int32 { fstat(fd, &st) }

enum FileIO {
    /// Opens `path` with `flags` (creating it with mode 0600 when asked).
    static func open(_ path: String, _ flags: Int32) throws -> Int32 {
        let fd = Glibc.open(path, flags | O_CLOEXEC, 0o600)
        if fd < 0 { throw FileIOError("open", path) }
        return fd
    }

    /// Writes all of `bytes` (retrying short writes and EINTR).
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { buf in Glibc.write(fd, buf.baseAddress! + done, buf.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileIOError("write", path)
            }
            done += n
        }
    }

    static func fsync(_ fd: Int32, path: String) throws {
        if Glibc.fsync(fd) != 0 { throw FileIOError("fsync", path) }
    }

    /// fsyncs a directory, so that a file created or renamed in it survives a crash.
    static func fsyncDirectory(_ path: String) throws {
        let fd = try open(path, O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        try fsync(fd, path: path)
    }

    /// Appends `bytes` to `path` and fsyncs it (and its directory when the file is new).
    static func appendDurably(_ path: String, _ bytes: [UInt8]) throws {
        let existed = access(path, F_OK) == 0
        let fd = try open(path, O_WRONLY | O_APPEND | O_CREAT)
        defer { close(fd) }
        try writeAll(fd, bytes, path: path)
        try fsync(fd, path: path)
        if !existed { try fsyncDirectory((path as NSString).deletingLastPathComponent) }
    }

    /// Replaces `path` atomically with `bytes`: write a temporary file, fsync, rename,
    /// fsync the directory.
    static func replaceDurably(_ path: String, _ bytes: [UInt8], sync: Bool = true) throws {
        let tmp = path + ".tmp"
        let fd = try open(tmp, O_WRONLY | O_CREAT | O_TRUNC)
        do {
            try writeAll(fd, bytes, path: tmp)
            if sync { try fsync(fd, path: tmp) }
            close(fd)
        } catch {
            close(fd)
            throw error
        }
        if rename(tmp, path) != 0 { throw FileIOError("rename", tmp) }
        if sync { try fsyncDirectory((path as NSString).deletingLastPathComponent) }
    }

    /// The whole file, or nil when it does not exist.
    static func read(_ path: String) throws -> [UInt8]? {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw FileIOError("open", path)
        }
        defer { close(fd) }
        return try readToEnd(fd, path: path)
    }

    static func readToEnd(_ fd: Int32, path: String, from offset: Int? = nil) throws -> [UInt8] {
        if let offset, lseek(fd, off_t(offset), SEEK_SET) < 0 { throw FileIOError("lseek", path) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileIOError("read", path)
            }
            if n == 0 { break }
            out.append(contentsOf: buf[0..<n])
        }
        return out
    }

    /// At most `count` bytes from `offset` (fewer at the end of the file).
    static func readChunk(_ fd: Int32, path: String, from offset: Int, count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: max(0, count))
        var got = 0
        while got < out.count {
            let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + got, $0.count - got, off_t(offset + got)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileIOError("read", path)
            }
            if n == 0 { break }
            got += n
        }
        out.removeLast(out.count - got)
        return out
    }

    /// Size and identity of a file, or nil when it does not exist.
    static func stat(_ path: String) -> (size: Int, device: UInt64, inode: UInt64)? {
        var st = stat_t()
        guard systemStat(path, &st) == 0 else { return nil }
        return (Int(st.st_size), UInt64(st.st_dev), UInt64(st.st_ino))
    }

    static func fstat(_ fd: Int32) -> (size: Int, device: UInt64, inode: UInt64)? {
        var st = stat_t()
        guard systemFstat(fd, &st) == 0 else { return nil }
        return (Int(st.st_size), UInt64(st.st_dev), UInt64(st.st_ino))
    }

    static func makeDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw FileIOError("mkdir", path, EIO)
        }
    }
}

/// An exclusive advisory lock on a file (`flock`), held until released or the process
/// ends. It excludes other processes and other `FileLock` objects on the same file; the
/// owner serialises its own use of one object.
final class FileLock: Sendable {
    private let fd: Int32
    let path: String
    /// Serialises `withLock` callers of this process (flock alone does not: it belongs
    /// to the open file, which every thread here shares).
    private let local = Mutex<Void>(())

    init(path: String) throws {
        self.path = path
        fd = try FileIO.open(path, O_RDWR | O_CREAT)
    }

    deinit { close(fd) }

    /// Waits for the lock.
    func lock() throws {
        while flock(fd, LOCK_EX) != 0 {
            if errno == EINTR { continue }
            throw FileIOError("flock", path)
        }
    }

    /// Takes the lock if nobody else holds it; false otherwise.
    func tryLock() -> Bool {
        flock(fd, LOCK_EX | LOCK_NB) == 0
    }

    func unlock() {
        _ = flock(fd, LOCK_UN)
    }

    func withLock<T>(_ body: () throws -> T) throws -> T {
        try local.withLock { _ in
            try lock()
            defer { unlock() }
            return try body()
        }
    }
}
