import Foundation
import KontorBridge
import KontorProtocol
import KontorTestSupport
import Testing

/// CDR follow mode (tail -f with rotation, truncation and a remembered offset) and the
/// Maildir / folder runner with its quarantine. Delivered to kontord after a file is read
/// again (one call / message per external id): `EndToEndTests.filesReadAgainAreDeliveredOnce`.
@Suite struct FilesTests {
    static let lines: [String] = {
        let text = (try? String(contentsOf: sampleURL("telephony/asterisk_Master_cdr_custom_pjsip.csv"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map { String($0) + "\n" }
    }()

    func append(_ s: String, to url: URL) throws {
        if !FileManager.default.fileExists(atPath: url.path) { FileManager.default.createFile(atPath: url.path, contents: nil) }
        let h = try FileHandle(forWritingTo: url)
        try h.seekToEnd()
        try h.write(contentsOf: Data(s.utf8))
        try h.close()
    }

    @Test func followTakesCompleteRecordsAndRemembersItsOffset() throws {
        let dir = try temporaryDirectory("cdr")
        defer { try? FileManager.default.removeItem(at: dir) }
        let spoolDir = dir.appendingPathComponent("spool")
        let file = dir.appendingPathComponent("Master.csv")
        let spool = try Spool(directory: spoolDir), state = try StateStore(directory: spoolDir)
        let options = AsteriskCDR.Options(layout: .auto, timeZone: kyiv)
        #expect(Self.lines.count == 14)
        let follower = CDRFollower(path: file.path, options: options, spool: spool, state: state, logger: TestEnvironment.logger)
        #expect(try follower.poll() == 0)  // no file yet: fine
        try append(Self.lines[0] + Self.lines[1] + String(Self.lines[2].prefix(40)), to: file)
        #expect(try follower.poll() == 2)
        #expect(try follower.poll() == 0)  // the third record is not complete
        try append(String(Self.lines[2].dropFirst(40)), to: file)
        #expect(try follower.poll() == 1)
        // A restart resumes from the saved offset: nothing is spooled twice.
        let restarted = CDRFollower(path: file.path, options: options, spool: spool, state: state, logger: TestEnvironment.logger)
        #expect(try restarted.poll() == 0)
        try append(Self.lines[3], to: file)
        #expect(try restarted.poll() == 1)
        #expect(try spool.pending().map(\.key) == ["1690325492.2#2", "1690325531.5#4", "1690325659.8#6", "1690327106.0#0"])
        #expect(state.read().sources["asterisk"]?.spooled == 4)
        // Short records (shorter than the remembered tail) do not look like a truncation.
        for i in 0..<3 { try append("\n", to: file); #expect(try restarted.poll() == 0, "blank line \(i)") }
        try append(Self.lines[4], to: file)
        #expect(try restarted.poll() == 1)
        #expect(try spool.depth() == 5)
    }

    @Test func followSurvivesRotationAndTruncation() throws {
        let dir = try temporaryDirectory("cdr")
        defer { try? FileManager.default.removeItem(at: dir) }
        let spoolDir = dir.appendingPathComponent("spool")
        let file = dir.appendingPathComponent("Master.csv")
        let spool = try Spool(directory: spoolDir), state = try StateStore(directory: spoolDir)
        let follower = CDRFollower(path: file.path, options: .init(layout: .auto, timeZone: kyiv), spool: spool, state: state,
                                   logger: TestEnvironment.logger)
        try append(Self.lines[0], to: file)
        #expect(try follower.poll() == 1)
        // logrotate renames the file; Asterisk writes one more record to the old one
        // before reopening, then starts a new file.
        let rotated = dir.appendingPathComponent("Master.csv.1")
        try FileManager.default.moveItem(at: file, to: rotated)
        try append(Self.lines[1], to: rotated)
        try append(Self.lines[2], to: file)
        #expect(try follower.poll() == 2)
        // copytruncate: the same file shrinks to nothing and grows again.
        let h = try FileHandle(forWritingTo: file)
        try h.truncate(atOffset: 0)
        try h.close()
        try append(Self.lines[3], to: file)
        #expect(try follower.poll() == 1)
        #expect(try spool.pending().map(\.key) == ["1690325492.2#2", "1690325531.5#4", "1690325659.8#6", "1690327106.0#0"])
    }

    @Test func followKeepsGoingPastBadRecordsAndQuotedLineBreaks() throws {
        let dir = try temporaryDirectory("cdr")
        defer { try? FileManager.default.removeItem(at: dir) }
        let spoolDir = dir.appendingPathComponent("spool")
        let file = dir.appendingPathComponent("Master.csv")
        let spool = try Spool(directory: spoolDir), state = try StateStore(directory: spoolDir)
        let follower = CDRFollower(path: file.path, options: .init(layout: .custom(AsteriskCDR.customSampleColumns), timeZone: kyiv),
                                   spool: spool, state: state, logger: TestEnvironment.logger)
        try append(#""x","1","2","d","c","dc","Dial","","not a time","","","1","0","FAILED","DOCUMENTATION","","9.9","",1"# + "\n", to: file)
        // A caller name with a line break inside quotes, written in two pieces.
        try append("\"\"\"Multi\n", to: file)
        #expect(try follower.poll() == 0)
        try append("line\"\" <0671234567>\",\"0671234567\",\"101\"" + Self.lines[0].drop(while: { $0 != "," }).dropFirst(1).drop(while: { $0 != "," }).dropFirst(1).drop(while: { $0 != "," }), to: file)
        #expect(try follower.poll() == 1)
        let e = try #require(try spool.pending().first)
        #expect(e.params["remote_number"] == "0671234567")
        #expect(e.params["raw"]?["caller_name"] == "Multi\nline")
        #expect(state.read().sources["asterisk"]?.rejected == 1)
    }

    // MARK: e-mail folders

    static let emailSamples = [
        "mikel_online_lead_notification_folded_to.eml", "pmmp_m0001_iso8859_Q_subject_multipart_attachment.eml",
        "tb_sample01_utf8_B_encoded_subject.eml", "tb_sample02_multipart_png_attachments_iso8859_Q_to.eml",
        "tb_sample04_koi8r_subject_and_base64_body.eml",
    ]

    @Test func maildirNewToCurWithQuarantine() throws {
        let dir = try temporaryDirectory("maildir")
        defer { try? FileManager.default.removeItem(at: dir) }
        let maildir = dir.appendingPathComponent("Maildir")
        for sub in ["new", "cur", "tmp"] {
            try FileManager.default.createDirectory(at: maildir.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        for (i, name) in Self.emailSamples.enumerated() {
            try FileManager.default.copyItem(at: sampleURL("email/" + name), to: maildir.appendingPathComponent("new/1700000000.\(i).host"))
        }
        try Data([0, 0xFF, 1, 2]).write(to: maildir.appendingPathComponent("new/1700000001.9.host"))
        let spoolDir = dir.appendingPathComponent("spool")
        let spool = try Spool(directory: spoolDir), state = try StateStore(directory: spoolDir)
        let folder = MailFolder(directory: maildir, spool: spool, state: state, logger: TestEnvironment.logger)
        #expect(folder.isMaildir)
        let summary = try folder.runOnce()
        #expect(summary.spooled == 5)
        #expect(summary.quarantined == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: maildir.appendingPathComponent("new").path).isEmpty)
        let cur = try FileManager.default.contentsOfDirectory(atPath: maildir.appendingPathComponent("cur").path).sorted()
        #expect(cur.count == 5)
        #expect(cur.allSatisfy { $0.hasSuffix(":2,") })
        let q = try FileManager.default.contentsOfDirectory(atPath: maildir.appendingPathComponent("quarantine").path).sorted()
        #expect(q == ["1700000001.9.host", "1700000001.9.host.reason.txt"])
        let reason = try String(contentsOf: maildir.appendingPathComponent("quarantine/1700000001.9.host.reason.txt"), encoding: .utf8)
        #expect(reason.contains("reason:"))
        let pending = try spool.pending()
        #expect(pending.allSatisfy { $0.method == "message.ingest" && $0.source == "email" })
        #expect(Set(pending.compactMap(\.key)) == ["4cb5c7d0a3cce_120e..fdbed2b861958562@s.t-example.com.tmail",
                                                    "CAH_ZkVmUSM8t2JxgqcuLCQ8d+R_hkKpNHTubJOQK07y=36+d4Q@mail.gmail.com",
                                                    "01.eml@mime.sample", "02.eml@mime.sample", "04.eml@mime.sample"])
        #expect(try folder.runOnce().spooled == 0)
        #expect(state.read().sources["email"]?.rejected == 1)
    }

    @Test func plainFolderKeepOrMove() throws {
        let dir = try temporaryDirectory("eml")
        defer { try? FileManager.default.removeItem(at: dir) }
        for name in Self.emailSamples { try FileManager.default.copyItem(at: sampleURL("email/" + name), to: dir.appendingPathComponent(name)) }
        try Data("not an e-mail".utf8).write(to: dir.appendingPathComponent("notes.txt"))  // not *.eml: left alone
        let spoolDir = dir.appendingPathComponent(".spool")
        let spool = try Spool(directory: spoolDir), state = try StateStore(directory: spoolDir)
        // Dry run: parse only.
        let dry = try MailFolder(directory: dir, spool: nil, state: nil, logger: TestEnvironment.logger).runOnce()
        #expect(dry.messages.count == 5)
        #expect(try spool.depth() == 0)
        // --keep: spooled, files stay.
        let kept = try MailFolder(directory: dir, moveProcessed: false, spool: spool, state: state, logger: TestEnvironment.logger).runOnce()
        #expect(kept.spooled == 5)
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(Self.emailSamples[0]).path))
        // Default: moved into processed/.
        let moved = try MailFolder(directory: dir, spool: spool, state: state, logger: TestEnvironment.logger).runOnce()
        #expect(moved.spooled == 5)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("processed").path).count == 5)
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("notes.txt").path))
        #expect(try spool.depth() == 10)  // the same messages twice: kontord answers the second `duplicate`
    }
}
