import ArgumentParser
import Foundation

/// `kontor-seed`: loads the demo distributor into an empty kontord over the protocol.
@main
struct KontorSeed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kontor-seed",
        abstract: "Load the demo office-supplies distributor into a running, empty kontord (over the protocol).",
        discussion: """
            The admin and the tech admin must exist (kontord user add-admin); kontor-seed logs in as them, refuses a \
            database that has any contact, company, lead, call or other user, then creates the robot, six managers, \
            ~200 companies, ~500 contacts, three months of calls and messages through the robot, leads in every status, \
            funnels, plans, shipments and the monthly close. Times are relative to the server's today.

            Passwords: KONTOR_SEED_ADMIN_PASSWORD (default kontor-admin), KONTOR_SEED_TECH_PASSWORD (default kontor-tech), \
            KONTOR_SEED_PASSWORD for the managers (default kontor-demo).

            Exit status: 0 seeded; 3 not seeded because the database has data (or the admins cannot log in); \
            2 bad data files or options; 1 a call failed.
            """)

    @Option(help: "kontord's address, host:port (KONTOR_SERVER).")
    var server: String = ProcessInfo.processInfo.environment["KONTOR_SERVER"] ?? "127.0.0.1:7411"
    @Option(help: "The admin's login (the head of sales; default: staff.json's).")
    var admin: String?
    @Option(help: "The tech admin's login (default: staff.json's).")
    var tech: String?
    @Option(name: .customLong("token-file"), help: "Write the robot's token to this file (mode 0600).")
    var tokenFile: String?
    @Option(name: .customLong("data"), help: "The folder with staff.json, names.json, … (default: seeds/ of the source tree).")
    var dataDirectory: String?
    @Option(help: "The random seed: the same seed and day give the same demo.")
    var seed: UInt64 = 20_240_601
    @Option(help: "Requests in flight at once.")
    var concurrency: Int = 12
    @Flag(help: "Print only the summary.")
    var quiet = false
    @Flag(help: "Also print how long each method took.")
    var timings = false

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        let parts = server.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count >= 2, let port = Int(parts[parts.count - 1]), (1...65535).contains(port) else {
            throw ValidationError("--server must be host:port, got \(server)")
        }
        guard (1...64).contains(concurrency) else { throw ValidationError("--concurrency must be 1...64") }
        let host = parts.dropLast().joined(separator: ":")
        guard let dir = SeedData.locate(override: dataDirectory) else {
            FileHandle.standardError.write(Data("kontor-seed: cannot find the seeds/ folder; pass --data\n".utf8))
            throw ExitCode(2)
        }
        do {
            let data = try SeedData.load(from: dir)
            let options = SeedOptions(
                host: host.isEmpty ? "127.0.0.1" : host, port: port, adminLogin: admin ?? data.staff.admin.login,
                adminPassword: env["KONTOR_SEED_ADMIN_PASSWORD"] ?? "kontor-admin", techLogin: tech ?? data.staff.techAdmin.login,
                techPassword: env["KONTOR_SEED_TECH_PASSWORD"] ?? "kontor-tech", managerPassword: env["KONTOR_SEED_PASSWORD"] ?? "kontor-demo",
                tokenFile: tokenFile, seed: seed, concurrency: concurrency, quiet: quiet)
            let summary = try await Seeder.run(options: options, data: data)
            for line in summary.lines { print(line) }
            print(String(format: "seeded in %.1f s (%d requests)", summary.seconds, summary.requests))
            if timings { for line in Timings.shared.lines { print(line) } }
        } catch SeedError.refused(let why) {
            FileHandle.standardError.write(Data("kontor-seed: \(why)\n".utf8))
            throw ExitCode(3)
        } catch SeedError.data(let why) {
            FileHandle.standardError.write(Data("kontor-seed: \(why)\n".utf8))
            throw ExitCode(2)
        } catch {
            FileHandle.standardError.write(Data("kontor-seed: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
