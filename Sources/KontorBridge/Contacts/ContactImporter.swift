import Foundation
import KontorClient
import KontorProtocol

/// Sends contact rows to `contact.import` in chunks and reports per row.
///
/// Contact imports are interactive (a person runs them and reads the report), so they
/// go straight to kontord instead of through the spool.
public enum ContactImporter {
    /// Rows per `contact.import` call.
    public static let chunkSize = 500

    /// Imports `rows`; the results of every chunk merged into one.
    public static func run(_ rows: [IngestMethods.ImportRow], mode: IngestMethods.ImportMode, dryRun: Bool, source: String?,
                           connection: KontorConnection) async throws -> IngestMethods.ContactImportResult {
        var merged = IngestMethods.ContactImportResult(results: [], created: 0, updated: 0, unchanged: 0, rejected: 0, dryRun: dryRun)
        var start = 0
        while start < rows.count {
            let chunk = Array(rows[start..<min(rows.count, start + chunkSize)])
            let params = IngestMethods.ContactImportParams(rows: chunk, mode: mode, dryRun: dryRun, source: source)
            let r: IngestMethods.ContactImportResult = try await connection.call("contact.import", params)
            merged.results += r.results
            merged.created += r.created
            merged.updated += r.updated
            merged.unchanged += r.unchanged
            merged.rejected += r.rejected
            start += chunkSize
        }
        return merged
    }

    /// One line per row (`line 7: created contact 42`), then the totals.
    public static func report(_ r: IngestMethods.ContactImportResult) -> String {
        var lines: [String] = []
        for row in r.results.sorted(by: { $0.line < $1.line }) {
            var s = "line \(row.line): \(r.dryRun ? "would be " : "")\(row.action.rawValue)"
            if let c = row.contactID { s += " contact \(c)" }
            if let c = row.companyID { s += " company \(c)" }
            if let reason = row.reason { s += " — \(reason)" }
            if let f = row.field { s += " [\(f)]" }
            lines.append(s)
        }
        lines.append("\(r.dryRun ? "dry run: " : "")\(r.created) created, \(r.updated) updated, \(r.unchanged) unchanged, \(r.rejected) rejected")
        return lines.joined(separator: "\n")
    }

    /// What the bridge read from the file, without kontord (for `--parse-only`).
    public static func describe(_ rows: [IngestMethods.ImportRow]) -> String {
        rows.map { r in
            var parts: [String] = []
            if let k = r.kind { parts.append(k.rawValue) }
            if let n = r.fullName { parts.append("name=\(n)") }
            if let c = r.companyName { parts.append("company=\(c)") }
            if let p = r.phones, !p.isEmpty { parts.append("phones=" + p.map { $0.label.map { l in "\(l):" } ?? "" }.enumerated().map { i, l in l + p[i].number }.joined(separator: "|")) }
            if let e = r.emails, !e.isEmpty { parts.append("emails=" + e.joined(separator: "|")) }
            return "line \(r.line): " + parts.joined(separator: " ")
        }.joined(separator: "\n")
    }
}

extension Bridge {
    /// A connection to kontord logged in with the robot token.
    public func connect() async throws -> KontorConnection {
        let c = try await KontorConnection.connect(host: configuration.kontordHost, port: configuration.kontordPort)
        do {
            _ = try await c.call("auth.token", ["token": .string(try token())])
        } catch {
            await c.close()
            throw error
        }
        return c
    }
}
