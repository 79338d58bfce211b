import Foundation
import KontorDomain
import KontorProtocol
import KontorStore

/// `contact.import` (issue 7): contacts and companies from a spreadsheet, row by row.
///
/// Callers: the bridge's robot (`kontor-bridge import-contacts`), admins and sales users
/// (a person importing a file through `kontor`). The whole call is one transaction with
/// a savepoint per row: a bad row is reported and rolled back alone, the rest of the file
/// goes on; a dry run runs every row exactly the same way and rolls everything back.
/// Rules: `ContactImport`; wire: `docs/PROTOCOL.md`.
enum ImportHandlers {
    static func register(_ t: inout MethodTable) {
        t.register("contact.import", IngestMethods.ContactImportParams.self, contactImport)
    }

    /// What the transaction hands back: the rows' results and the records it created.
    struct Outcome: Sendable {
        var results: [IngestMethods.ImportRowResult]
        var createdContacts: Set<Int64>
        var createdCompanies: Set<Int64>
    }

    static func contactImport(_ ctx: RequestContext, _ p: IngestMethods.ContactImportParams) async throws -> IngestMethods.ContactImportResult {
        let me = try ctx.requirePrincipal()
        guard p.rows.count <= IngestMethods.importMaxRows else {
            throw KontorError.invalidParams("rows", "at most \(IngestMethods.importMaxRows) rows per call, got \(p.rows.count); send the file in chunks")
        }
        var source = ContactSource.import
        if let s = p.source {
            guard let v = ContactSource(rawValue: s.trimmingCharacters(in: .whitespaces).lowercased()) else {
                throw KontorError.invalidParams("source", "source is one of \(ContactSource.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            source = v
        }
        let dryRun = p.dryRun ?? false
        let normalizer = RecordHandlers.normalizer(ctx)
        let prepared = p.rows.map { ImportRowInput.prepare($0, normalizer: normalizer) }
        let lines = p.rows.map(\.line)
        // Robots and admins match against every card; a user only changes what they see
        // (and is told, not shown, about the rest).
        let visibility: Visibility = me.role == .user ? Visibility(me) : .everything
        let settings = ContactImport.Settings(principal: me, visibility: visibility, mode: p.mode, source: source, stamp: ctx.stamp,
                                              normalizer: normalizer, requestID: ctx.requestID)
        let logger = ctx.app.logger
        let outcome = try await ctx.app.transaction(dryRun: dryRun) { conn in
            var run = ContactImport(conn: conn, settings: settings, logger: logger)
            var results: [IngestMethods.ImportRowResult] = []
            results.reserveCapacity(prepared.count)
            for (row, line) in zip(prepared, lines) { results.append(try run.run(row, line: line)) }
            return Outcome(results: results, createdContacts: Set(run.createdContacts.keys), createdCompanies: Set(run.createdCompanies.keys))
        }
        var results = outcome.results
        if dryRun {
            // Ids of records a dry run created were never committed: they name nothing.
            results = results.map { r in
                var r = r
                if let c = r.contactID, outcome.createdContacts.contains(c) { r.contactID = nil }
                if let c = r.companyID, outcome.createdCompanies.contains(c) { r.companyID = nil }
                r.existingIDs = r.existingIDs?.filter { !outcome.createdContacts.contains($0) }
                return r
            }
        }
        func count(_ a: IngestMethods.ImportAction) -> Int { results.filter { $0.action == a }.count }
        return IngestMethods.ContactImportResult(results: results, created: count(.created), updated: count(.updated),
                                                 unchanged: count(.unchanged), rejected: count(.rejected), dryRun: dryRun)
    }
}
