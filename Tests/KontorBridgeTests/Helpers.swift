import Foundation
import KontorBridge
import KontorProtocol
import KontorTestSupport
import Testing

/// A sample file from `../shared/samples` (read only; never changed).
func sample(_ path: String) throws -> [UInt8] {
    let url = TestEnvironment.samplesDirectory.appendingPathComponent(path)
    return Array(try Data(contentsOf: url))
}

func sampleURL(_ path: String) -> URL {
    TestEnvironment.samplesDirectory.appendingPathComponent(path)
}

/// `2023-07-25T22:51:32Z` → Date.
func utc(_ s: String) -> Date {
    guard let d = Times.flexible(.string(s)) else {
        Issue.record("bad test date \(s)")
        return Date(timeIntervalSince1970: 0)
    }
    return d
}

/// A fresh temporary directory, removed by the caller (`defer`).
func temporaryDirectory(_ name: String = "bridge") throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("kontor-\(name)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

let kyiv = TimeZone(identifier: "Europe/Kyiv") ?? .current
