import Foundation
import KontorDomain
import KontorProtocol
import KontorStore
import Logging
import NIOConcurrencyHelpers
import Postgres

/// What a scheduled job gets.
struct ScheduledJobContext: Sendable {
    let app: App
    /// The instant the job is for: the occurrence, or now for a manual run.
    let reference: Date
    /// The run's id (`schedule_runs`).
    let runID: Int64
    /// The server clock's now.
    let now: Date
}

/// A job a schedule can name: runs inside the transaction that claimed the occurrence,
/// returns what it did (stored in `schedule_runs.result`).
typealias ScheduledJobBody = @Sendable (PostgresConnection, ScheduledJobContext) throws -> JSONValue

/// The stored-schedule runner (BackgroundJob `scheduler`).
///
/// Each tick: schedules without a next occurrence get one (the first after now); then, one
/// transaction per occurrence, the earliest due schedule is claimed (`FOR UPDATE SKIP
/// LOCKED`), its run inserted under the unique key (schedule, occurrence), the job run and
/// the next occurrence stored, and all of it committed together. A second instance skips
/// the locked row and afterwards sees the occurrence done; the unique key keeps a claim
/// that slipped through (e.g. a hand-edited `next_fire_at`) from running the job again.
/// Occurrences missed while no instance ran are due at the next tick and run in order.
/// A failed job rolls back whole; the failure is recorded in a transaction of its own and
/// retried after a back-off (1, 2, 4 ... 60 minutes).
enum Scheduler {
    static let jobName = "scheduler"
    /// Seconds between ticks at most (a tick also comes on `kontor_schedules`
    /// notifications and when the next occurrence is due).
    static let interval: Double = 30
    /// Occurrences run per tick at most (the rest at the next tick).
    static let maxPerTick = 1000

    /// Jobs by the name `schedules.job` gives.
    static let jobs: [String: ScheduledJobBody] = [
        "planfact.close_month": closeMonth,
    ]

    /// `planfact.close_month`: closes every open month before the business-zone month of
    /// the reference instant.
    static func closeMonth(_ conn: PostgresConnection, _ ctx: ScheduledJobContext) throws -> JSONValue {
        let zone = ctx.app.configuration.timeZone
        let through = Period(containing: ctx.reference, in: zone).previous
        let closed = try PlanFactRepository(conn).closeMonths(through: through, timeZone: zone.identifier, runID: ctx.runID, at: ctx.now)
        return try ctx.app.encoder.encode(CloseResult(through: through, closed: closed))
    }

    /// What `planfact.close_month` reports.
    struct CloseResult: Encodable, Sendable {
        /// The last month that must be closed after this run.
        let through: Period
        /// The months closed by this run (none when they were closed already).
        let closed: [ClosedPeriod]
    }

    static func backgroundJob(_ app: App) -> BackgroundJob {
        BackgroundJob(name: jobName, interval: interval, app: app) { app in try await tick(app) }
    }

    /// The next occurrence of a schedule after `instant`.
    static func next(_ s: Schedule, after instant: Date) throws -> Date? {
        guard let zone = TimeZone(identifier: s.timeZone) else {
            throw KontorError.invalidParams("time_zone", "schedule \(s.name): unknown time zone \(s.timeZone)")
        }
        do {
            return try CronExpression(s.cron).next(after: instant, in: zone)
        } catch let e as CronExpression.ParseError {
            throw KontorError.invalidParams("cron", "schedule \(s.name): \(e.message)")
        }
    }

    static func tick(_ app: App) async throws -> Double? {
        let now = app.clock.now()
        try await app.transaction { conn in
            let repo = ScheduleRepository(conn)
            for s in try repo.uninitialized() {
                try repo.setNext(name: s.name, next: try? next(s, after: now))
            }
        }
        for _ in 0..<maxPerTick {
            guard try await runOneDue(app, now: now) else { break }
        }
        let wake = try await app.read { conn in try ScheduleRepository(conn).nextWake() }
        return wake.map { max(0.05, $0.timeIntervalSince(app.clock.now())) }
    }

    /// Which occurrence a failed attempt was for.
    private struct Attempt: Sendable {
        var name: String?
        var occurrence: Date?
        var failures = 0
        var started = Date()
    }

    /// Runs the earliest due occurrence, if any. Returns false when nothing is due.
    static func runOneDue(_ app: App, now: Date) async throws -> Bool {
        let attempt = NIOLockedValueBox(Attempt())
        let instance = app.configuration.instanceName
        do {
            return try await app.transaction { conn in
                let repo = ScheduleRepository(conn)
                guard let s = try repo.claimDue(now: now), let occurrence = s.nextFireAt else { return false }
                let started = app.clock.now()
                attempt.withLockedValue { $0 = Attempt(name: s.name, occurrence: occurrence, failures: s.failures, started: started) }
                let following = try next(s, after: occurrence)
                guard let body = jobs[s.job] else { throw KontorError.invalidParams("job", "kontord has no job named \(s.job)") }
                guard let runID = try repo.begin(name: s.name, occurrence: occurrence, trigger: "schedule", instance: instance,
                                                 startedAt: started, requestedBy: nil) else {
                    // This occurrence ran already: only move on.
                    try repo.setNext(name: s.name, next: following)
                    return true
                }
                let result = try body(conn, ScheduledJobContext(app: app, reference: occurrence, runID: runID, now: started))
                try repo.finish(runID: runID, name: s.name, occurrence: occurrence, result: PostgresJSONB(result.jsonText),
                                finishedAt: app.clock.now(), next: .some(following))
                app.logger.notice("schedule ran", metadata: ["schedule": "\(s.name)", "occurrence": "\(occurrence)", "run": "\(runID)"])
                return true
            }
        } catch let e as PostgresError where e.isUnavailable {
            throw e
        } catch {
            let a = attempt.withLockedValue { $0 }
            guard let name = a.name else { throw error }
            let backoff = min(3600, 60 * pow(2, Double(min(a.failures, 6))))
            let failedAt = app.clock.now()
            app.logger.error("schedule failed; will retry", metadata: ["schedule": "\(name)", "error": "\(error)", "retry_in_s": "\(backoff)"])
            _ = try await app.transaction { conn in
                try ScheduleRepository(conn).recordFailure(name: name, occurrence: a.occurrence, trigger: "schedule", instance: instance,
                                                           startedAt: a.started, finishedAt: failedAt, requestedBy: nil,
                                                           error: "\(error)", retryAt: failedAt.addingTimeInterval(backoff))
            }
            return true
        }
    }

    /// Runs a schedule's job now (`schedule.run_now`), recorded as a manual run; waits for
    /// a scheduler that is running the same schedule. A failed job rolls back and is
    /// recorded as a failed run.
    static func runNow(_ app: App, name: String, requestedBy: Int64?) async throws -> Int64 {
        let instance = app.configuration.instanceName
        let started = app.clock.now()
        do {
            return try await app.transaction { conn in
                let repo = ScheduleRepository(conn)
                guard let s = try repo.get(name: name, lock: true) else { throw KontorError.notFound("schedule \(name)") }
                guard let body = jobs[s.job] else { throw JobFailure(message: "kontord has no job named \(s.job)") }
                guard let runID = try repo.begin(name: name, occurrence: nil, trigger: "manual", instance: instance, startedAt: started,
                                                 requestedBy: requestedBy) else { throw JobFailure(message: "the run could not be recorded") }
                let result = try body(conn, ScheduledJobContext(app: app, reference: started, runID: runID, now: started))
                try repo.finish(runID: runID, name: name, occurrence: nil, result: PostgresJSONB(result.jsonText),
                                finishedAt: app.clock.now(), next: nil)
                return runID
            }
        } catch let e as KontorError where e.kind == .notFound {
            throw e
        } catch let e as PostgresError where e.isUnavailable {
            throw e
        } catch {
            let failedAt = app.clock.now()
            return try await app.transaction { conn in
                try ScheduleRepository(conn).recordFailure(name: name, occurrence: nil, trigger: "manual", instance: instance, startedAt: started,
                                                           finishedAt: failedAt, requestedBy: requestedBy, error: "\(error)", retryAt: nil)
            }
        }
    }

    struct JobFailure: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }
}

extension PostgresError {
    /// The database could not be reached (not a failure of the job itself).
    var isUnavailable: Bool {
        switch self {
        case .unavailable, .poolTimeout, .poolClosed: return true
        default: return false
        }
    }
}
