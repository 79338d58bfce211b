import Foundation
import KontorBridge
import KontorProtocol
import Testing

/// The spool on its own: order, durability layout, torn records, segments, dead letters.
@Suite struct SpoolTests {
    func event(_ key: String, _ method: String = "ping") -> SpoolEvent {
        SpoolEvent(source: "test", method: method, params: [:], key: key)
    }

    @Test func appendReadMarkAndResumeFromAnotherInstance() throws {
        let dir = try temporaryDirectory("spool")
        defer { try? FileManager.default.removeItem(at: dir) }
        let spool = try Spool(directory: dir)
        try spool.appendBlocking([event("a"), event("b")])
        try spool.appendBlocking([event("c")])
        #expect(try spool.depth() == 3)
        let first = try #require(try spool.next())
        #expect(first.event?.key == "a")
        // Not marked: read again gives the same record.
        #expect(try spool.next()?.event?.key == "a")
        try spool.markDone(first)
        #expect(try spool.depth() == 2)
        // A new process (a new Spool on the same folder) resumes at the cursor.
        let again = try Spool(directory: dir)
        #expect(try again.next()?.event?.key == "b")
        #expect(try again.pending().map(\.key) == ["b", "c"])
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("cursor").path))
    }

    @Test func tornRecordIsCutBeforeTheNextAppend() throws {
        let dir = try temporaryDirectory("spool")
        defer { try? FileManager.default.removeItem(at: dir) }
        let spool = try Spool(directory: dir)
        try spool.appendBlocking([event("a")])
        // A crash in the middle of an append leaves half a line (never acknowledged).
        let segment = dir.appendingPathComponent("segments/000000000001.jsonl")
        let h = try FileHandle(forWritingTo: segment)
        try h.seekToEnd()
        try h.write(contentsOf: Data(#"{"source":"test","meth"#.utf8))
        try h.close()
        #expect(try spool.next()?.event?.key == "a")
        try spool.markDone(try #require(try spool.next()))
        #expect(try spool.next() == nil)  // the torn tail is not a record
        try spool.appendBlocking([event("b")])
        let b = try #require(try spool.next())
        #expect(b.event?.key == "b")
        #expect(try spool.depth() == 1)
    }

    @Test func segmentsRollOverAndAreRemovedWhenDelivered() throws {
        let dir = try temporaryDirectory("spool")
        defer { try? FileManager.default.removeItem(at: dir) }
        let spool = try Spool(directory: dir, segmentMaxBytes: 200)
        for i in 0..<10 { try spool.appendBlocking([event("e\(i)")]) }
        let segments = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("segments").path)
        #expect(segments.count > 2)
        var seen: [String] = []
        while let e = try spool.next() {
            seen.append(e.event?.key ?? "?")
            try spool.markDone(e)
        }
        #expect(seen == (0..<10).map { "e\($0)" })
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("segments").path)
        #expect(left.count == 1)
        #expect(try spool.depth() == 0)
    }

    @Test func concurrentAppendersFromTwoSpoolObjects() async throws {
        let dir = try temporaryDirectory("spool")
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = try Spool(directory: dir, segmentMaxBytes: 4096)
        let b = try Spool(directory: dir, segmentMaxBytes: 4096)
        await withTaskGroup(of: Void.self) { g in
            for i in 0..<40 {
                g.addTask { try? await (i % 2 == 0 ? a : b).append([SpoolEvent(source: "t", method: "ping", params: ["i": .number(String(i)), "pad": .string(String(repeating: "x", count: 300))], key: "k\(i)")]) }
            }
        }
        let keys = try a.pending().compactMap(\.key)
        #expect(keys.count == 40)
        #expect(Set(keys).count == 40)
    }

    @Test func deadLetterKeepsTheRecordAndTheError() throws {
        let dir = try temporaryDirectory("spool")
        defer { try? FileManager.default.removeItem(at: dir) }
        let spool = try Spool(directory: dir)
        try spool.appendBlocking([event("bad")])
        let e = try #require(try spool.next())
        try spool.deadLetter(e, error: "no such field", kind: "invalid_params")
        try spool.markDone(e)
        #expect(try spool.deadLetterCount() == 1)
        let line = try String(contentsOf: dir.appendingPathComponent("dead-letter.jsonl"), encoding: .utf8)
        let v = try JSONValue.parse(line.trimmingCharacters(in: .newlines))
        #expect(v["kind"] == "invalid_params")
        #expect(v["record"]?["key"] == "bad")
    }
}
