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

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// POSTs over real TCP to the bridge; returns the status and the body.
func post(port: Int, path: String, body: [UInt8], headers: [String: String] = [:]) async throws -> (status: Int, body: String) {
    guard let url = URL(string: "http://127.0.0.1:\(port)\(path)") else { throw PayloadError("bad url") }
    var req = URLRequest(url: url)
    req.httpMethod = "POST"
    req.httpBody = Data(body)
    for (k, v) in headers { req.setValue(v, forHTTPHeaderField: k) }
    let (data, response) = try await URLSession.shared.data(for: req)
    let status = (response as? HTTPURLResponse)?.statusCode ?? 0
    return (status, String(decoding: data, as: UTF8.self))
}

/// Waits until `condition` holds (polling), or fails the test after `seconds`.
func eventually(_ what: String, seconds: Double = 20, _ condition: () throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    Issue.record("timed out waiting for: \(what)")
    throw PayloadError("timed out waiting for: \(what)")
}
