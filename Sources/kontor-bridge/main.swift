// kontor-bridge: the robot that brings telephony, e-mail, messengers, site forms and
// spreadsheets into Kontor. See docs/BRIDGE.md.
import ArgumentParser
import Foundation
import KontorBridge
import KontorProtocol
import Logging
import ServiceLifecycle

struct Options: ParsableArguments {
    @Option(name: .long, help: "Configuration file (JSON); default $KONTOR_BRIDGE_CONFIG.")
    var config: String?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func bridge() throws -> Bridge {
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = .info
            return h
        }
        var logger = Logger(label: "kontor-bridge")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        return try Bridge(configuration: BridgeConfiguration.load(file: config), logger: logger)
    }
}

@main
struct KontorBridgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kontor-bridge",
        abstract: "Brings telephony, e-mail, messengers, site forms and contact files into Kontor.",
        subcommands: [Serve.self, ImportCDR.self, ImportEML.self, ImportContacts.self, Status.self])
}

/// Delivers what an import spooled, unless a running bridge holds the spool. Gives up
/// after `seconds` when kontord cannot take them (unreachable, refusing the token): the
/// events stay in the spool for `serve` or the next import.
func deliver(_ bridge: Bridge, spooled: Int, seconds: Int) async throws {
    guard spooled > 0 else { return }
    print("delivering to kontord at \(bridge.configuration.kontordHost):\(bridge.configuration.kontordPort)…")
    let sender = try bridge.sender()
    let outcome: String = try await withThrowingTaskGroup(of: String.self) { group in
        group.addTask {
            do {
                try await sender.drain()
                return "delivered; spool empty"
            } catch is SpoolSender.Busy {
                return "a running kontor-bridge is sending this spool; it will deliver them"
            }
        }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            let depth = (try? bridge.spool.depth()).map(String.init) ?? "some"
            let why = bridge.state.read().lastError.map { ": \($0)" } ?? ""
            return "not delivered within \(seconds) s\(why)\n\(depth) event(s) stay in the spool; `kontor-bridge serve` (or the next import) delivers them"
        }
        defer { group.cancelAll() }
        return try await group.next() ?? ""
    }
    print(outcome)
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Webhooks, the spool sender, CDR follow and the mail folder, until SIGTERM/SIGINT.")
    @OptionGroup var options: Options

    func run() async throws {
        let bridge = try options.bridge()
        let logger = bridge.logger
        let services = try bridge.services(onHTTPRunning: { port in
            logger.notice("listening", metadata: ["address": "\(bridge.configuration.httpHost):\(port)"])
        })
        let group = ServiceGroup(configuration: .init(services: services.map { .init(service: $0) },
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

struct ImportCDR: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "import-cdr", abstract: "Import an Asterisk CDR CSV file (Master.csv).")
    @OptionGroup var options: Options
    @Argument(help: "The CSV file.") var file: String
    @Option(help: "auto, standard, custom, or a comma-separated column list.") var layout: String = "auto"
    @Option(help: "Zone of the file's times (default: the configuration's).") var timeZone: String?
    @Flag(help: "Print the calls as JSON lines; spool and send nothing.") var dryRun = false
    @Option(help: "Seconds to wait for kontord before leaving the calls in the spool.") var deliverTimeout: Int = 60

    func run() async throws {
        let bridge = try options.bridge()
        guard let bytes = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
        let l: AsteriskCDR.Layout
        switch layout {
        case "auto": l = .auto
        case "standard": l = .standard
        case "custom": l = .custom(AsteriskCDR.customSampleColumns)
        default: l = .custom(layout.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) })
        }
        let cdr = BridgeConfiguration.CDRFile(path: file, layout: l, timeZone: timeZone)
        let batch = AsteriskCDR.parse(file: Array(bytes), options: bridge.configuration.cdrOptions(for: cdr))
        for p in batch.problems { print("refused \(p)") }
        let events = try batch.calls.map { try SpoolEvent.call($0, source: "asterisk") }
        if dryRun {
            for e in events { print(e.params.jsonText) }
            print("\(events.count) call record(s), \(batch.problems.count) refused (dry run)")
            return
        }
        try bridge.spool.appendBlocking(events)
        bridge.state.count("asterisk", \.spooled, events.count)
        if !batch.problems.isEmpty { bridge.state.count("asterisk", \.rejected, batch.problems.count) }
        print("\(events.count) call record(s) spooled, \(batch.problems.count) refused")
        try await deliver(bridge, spooled: events.count, seconds: deliverTimeout)
    }
}

struct ImportEML: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "import-eml", abstract: "Import e-mails from a Maildir or a folder of .eml files.")
    @OptionGroup var options: Options
    @Argument(help: "A Maildir (with new/) or a folder of .eml files.") var directory: String
    @Option(help: "Quarantine folder (default DIR/quarantine).") var quarantine: String?
    @Option(help: "Our address to record as the recipient.") var recipient: String?
    @Flag(help: "Leave the files of a plain folder where they are.") var keep = false
    @Flag(help: "Print the messages as JSON lines; spool, move and send nothing.") var dryRun = false
    @Option(help: "Seconds to wait for kontord before leaving the messages in the spool.") var deliverTimeout: Int = 60

    func run() async throws {
        let bridge = try options.bridge()
        let folder = MailFolder(directory: URL(fileURLWithPath: directory), quarantine: quarantine.map { URL(fileURLWithPath: $0) },
                                recipient: recipient, moveProcessed: !keep, spool: dryRun ? nil : bridge.spool,
                                state: dryRun ? nil : bridge.state, logger: bridge.logger)
        let summary = try folder.runOnce()
        for p in summary.problems { print("quarantined \(p)") }
        if dryRun {
            for m in summary.messages { print(try JSONValueEncoder().encode(m).jsonText) }
            print("\(summary.messages.count) message(s), \(summary.quarantined) unreadable (dry run)")
            return
        }
        print("\(summary.spooled) message(s) spooled, \(summary.quarantined) quarantined")
        try await deliver(bridge, spooled: summary.spooled, seconds: deliverTimeout)
    }
}

struct ImportContacts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "import-contacts",
                                                    abstract: "Import contacts and companies from a CSV (or .vcf) file through contact.import.")
    @OptionGroup var options: Options
    @Argument(help: "The CSV or vCard file.") var file: String
    @Option(help: "Column mapping file (JSON: {\"columns\": {\"Header\": \"target\"}}).") var mapping: String?
    @Flag(help: "Ask kontord what would be created, updated or rejected; change nothing.") var dryRun = false
    @Flag(help: "Update contacts found by phone or e-mail (default: leave them unchanged).") var updateExisting = false
    @Flag(help: "Only show how the file was read; do not contact kontord.") var parseOnly = false
    @Option(help: "Contact source to record.") var source: String = "import"

    func run() async throws {
        let bridge = try options.bridge()
        guard let bytes = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
        let rows: [IngestMethods.ImportRow]
        if file.lowercased().hasSuffix(".vcf") {
            rows = VCardParser.parse(Array(bytes))
            print("\(rows.count) card(s)")
        } else {
            var map: [String: ContactTarget] = [:]
            if let mapping {
                guard let m = FileManager.default.contents(atPath: mapping) else { throw ValidationError("cannot read \(mapping)") }
                map = try ContactsCSV.mapping(fromJSON: Array(m))
            }
            let r = ContactsCSV.parse(Array(bytes), mapping: map)
            rows = r.rows
            let delimiter = r.delimiter == "\t" ? "TAB" : String(r.delimiter)
            print("\(rows.count) row(s); encoding \(r.encoding), delimiter \(delimiter)")
            for (h, t) in r.columns { print("  column \"\(h)\" → \(t)") }
        }
        if parseOnly {
            print(ContactImporter.describe(rows))
            return
        }
        let connection = try await bridge.connect()
        do {
            let result = try await ContactImporter.run(rows, mode: updateExisting ? .updateExisting : .createOnly, dryRun: dryRun,
                                                       source: source, connection: connection)
            print(ContactImporter.report(result))
        } catch {
            await connection.close()
            throw error
        }
        await connection.close()
    }
}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Spool depth, last error and per-source counters.")
    @OptionGroup var options: Options
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let bridge = try options.bridge()
        print(json ? BridgeStatus.json(spool: bridge.spool, state: bridge.state).prettyText
              : BridgeStatus.text(spool: bridge.spool, state: bridge.state))
    }
}
