import Foundation
import KontorTestSupport
import Testing

@Suite("The repository's copy of the public samples")
struct SamplesCopyTests {
    /// Tests read `../shared/samples` when it is next to the checkout, and the copy in
    /// `Tests/Fixtures/samples` otherwise (CI's clone may stand alone). The copy must be
    /// byte-for-byte the shared folder whenever both exist.
    @Test("Tests/Fixtures/samples equals ../shared/samples file by file")
    func copyMatches() throws {
        let vendored = TestEnvironment.vendoredSamplesDirectory
        let files = try FileManager.default.subpathsOfDirectory(atPath: vendored.path).filter {
            var dir: ObjCBool = false
            return FileManager.default.fileExists(atPath: vendored.appendingPathComponent($0).path, isDirectory: &dir) && !dir.boolValue
        }
        #expect(files.count >= 20)
        guard let shared = TestEnvironment.sharedSamplesDirectory else { return }
        let sharedFiles = try FileManager.default.subpathsOfDirectory(atPath: shared.path).filter {
            var dir: ObjCBool = false
            return FileManager.default.fileExists(atPath: shared.appendingPathComponent($0).path, isDirectory: &dir) && !dir.boolValue
        }
        #expect(Set(files) == Set(sharedFiles))
        for f in sharedFiles {
            let a = FileManager.default.contents(atPath: shared.appendingPathComponent(f).path)
            let b = FileManager.default.contents(atPath: vendored.appendingPathComponent(f).path)
            #expect(a == b, "\(f) differs from the shared sample")
        }
    }
}
