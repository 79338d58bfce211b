import Foundation
import KontorDomain
import Postgres

/// One run of a schedule (`schedule_runs` row).
public struct ScheduleRun: Sendable {
    public var id: Int64
    public var scheduleName: String
    /// The occurrence it ran for; nil for a manual run.
    public var occurrence: Date?
    /// `schedule` or `manual`.
    public var trigger: String
    /// `succeeded` or `failed`.
    public var status: String
    public var instance: String
    public var startedAt: Date
    public var finishedAt: Date
    public var requestedBy: Int64?
    /// JSON text of what the job reported.
    public var result: String?
    public var error: String?
}

/// Schedules and their runs. The scheduler claims one due schedule at a time with
/// `FOR UPDATE SKIP LOCKED`, and `schedule_runs` allows one successful run per
/// occurrence: exactly once across instances. No role checks.
public struct ScheduleRepository {
    let conn: PostgresConnection

    public init(_ conn: PostgresConnection) { self.conn = conn }

    static let select: SQL = """
        SELECT name, job, description, cron, time_zone, enabled, next_fire_at, retry_at, failures, last_run_id, last_fire_at,
               last_status, last_error, version, updated_at, updated_by
        FROM schedules
        """

    static func schedule(_ r: PostgresRow) throws -> Schedule {
        Schedule(name: try r.decode("name"), job: try r.decode("job"), description: try r.decode("description"),
                 cron: try r.decode("cron"), timeZone: try r.decode("time_zone"), enabled: try r.decode("enabled"),
                 nextFireAt: try r.decode("next_fire_at", as: Date?.self), retryAt: try r.decode("retry_at", as: Date?.self),
                 failures: try r.decode("failures"), lastRunID: try r.decode("last_run_id", as: Int64?.self),
                 lastFireAt: try r.decode("last_fire_at", as: Date?.self), lastStatus: try r.decode("last_status", as: String?.self),
                 lastError: try r.decode("last_error", as: String?.self), version: try r.decode("version"),
                 updatedAt: try r.decode("updated_at"), updatedBy: try r.decode("updated_by", as: Int64?.self))
    }

    /// Every schedule by name.
    public func list() throws -> [Schedule] {
        try conn.query("\(Self.select) ORDER BY name").map(Self.schedule)
    }

    /// One schedule; `lock` takes its row (waits for a scheduler running it).
    public func get(name: String, lock: Bool = false) throws -> Schedule? {
        try conn.query("\(Self.select) WHERE name = \(name) \(lock ? "FOR UPDATE" : "" as SQL)").first.map(Self.schedule)
    }

    /// Enabled schedules that have no next occurrence yet (new ones), locked; others
    /// skip them.
    public func uninitialized() throws -> [Schedule] {
        try conn.query("\(Self.select) WHERE enabled AND next_fire_at IS NULL ORDER BY name FOR UPDATE SKIP LOCKED").map(Self.schedule)
    }

    /// The enabled schedule with the earliest due occurrence at `now` (and no pending retry
    /// delay), locked; a schedule another instance is running is skipped.
    public func claimDue(now: Date) throws -> Schedule? {
        try conn.query("""
            \(Self.select)
            WHERE enabled AND next_fire_at <= \(now) AND (retry_at IS NULL OR retry_at <= \(now))
            ORDER BY next_fire_at, name
            LIMIT 1
            FOR UPDATE SKIP LOCKED
            """).first.map(Self.schedule)
    }

    /// When the scheduler must look again: the earliest next occurrence (or retry) of an
    /// enabled schedule.
    public func nextWake() throws -> Date? {
        try conn.query("""
            SELECT min(greatest(next_fire_at, coalesce(retry_at, next_fire_at))) AS at FROM schedules WHERE enabled
            """).one().decode("at", as: Date?.self)
    }

    /// Sets the next occurrence (nil = none: the expression never fires again).
    public func setNext(name: String, next: Date?) throws {
        try conn.execute("UPDATE schedules SET next_fire_at = \(next) WHERE name = \(name)")
    }

    /// Claims an occurrence (or a manual run) by inserting its run as `succeeded`; returns
    /// nil when that occurrence already has a successful run. The caller runs the job in
    /// the same transaction and calls `finish`; if the job fails the transaction rolls
    /// back and the claim with it.
    public func begin(name: String, occurrence: Date?, trigger: String, instance: String, startedAt: Date, requestedBy: Int64?) throws -> Int64? {
        try conn.query("""
            INSERT INTO schedule_runs (schedule_name, occurrence, trigger, status, instance, started_at, finished_at, requested_by)
            VALUES (\(name), \(occurrence), \(trigger), 'succeeded', \(instance), \(startedAt), \(startedAt), \(requestedBy))
            ON CONFLICT (schedule_name, occurrence) WHERE occurrence IS NOT NULL AND status = 'succeeded' DO NOTHING
            RETURNING id
            """).first?.decode("id")
    }

    /// Records the job's result on a claimed run and on its schedule; for a scheduled
    /// occurrence, moves the schedule to `next`.
    public func finish(runID: Int64, name: String, occurrence: Date?, result: PostgresJSONB?, finishedAt: Date, next: Date??) throws {
        try conn.execute("UPDATE schedule_runs SET result = \(result), finished_at = \(finishedAt) WHERE id = \(runID)")
        try conn.execute("""
            UPDATE schedules SET last_run_id = \(runID), last_fire_at = coalesce(\(occurrence), \(finishedAt)),
                   last_status = 'succeeded', last_error = NULL, failures = 0, retry_at = NULL,
                   next_fire_at = CASE WHEN \(next != nil) THEN \(next ?? nil) ELSE next_fire_at END
            WHERE name = \(name)
            """)
    }

    /// Records a failed attempt (in a transaction of its own, after the job's rolled
    /// back): a `failed` run, the error on the schedule, and no new attempt before `retryAt`.
    public func recordFailure(name: String, occurrence: Date?, trigger: String, instance: String, startedAt: Date, finishedAt: Date,
                              requestedBy: Int64?, error: String, retryAt: Date?) throws -> Int64 {
        let id: Int64 = try conn.query("""
            INSERT INTO schedule_runs (schedule_name, occurrence, trigger, status, instance, started_at, finished_at, requested_by, error)
            VALUES (\(name), \(occurrence), \(trigger), 'failed', \(instance), \(startedAt), \(finishedAt), \(requestedBy), \(error))
            RETURNING id
            """).one().decode("id")
        try conn.execute("""
            UPDATE schedules SET last_run_id = \(id), last_status = 'failed', last_error = \(error),
                   failures = failures + CASE WHEN \(trigger) = 'schedule' THEN 1 ELSE 0 END,
                   retry_at = CASE WHEN \(trigger) = 'schedule' THEN \(retryAt) ELSE retry_at END
            WHERE name = \(name)
            """)
        return id
    }

    /// Changes a schedule when `version` is current (nil = any). `next` is the new next
    /// occurrence when the timing changed (cron, zone, enabling); `.none` keeps it.
    /// - Throws: `not_found`, `conflict`.
    public func update(name: String, version: Int?, enabled: Bool?, cron: String?, timeZone: String?, next: Date??,
                       at: Date, by: Int64?) throws -> Schedule {
        guard let current = try get(name: name, lock: true) else { throw KontorError.notFound("schedule \(name)") }
        if let version, version != current.version { throw KontorError.conflict(currentVersion: current.version) }
        try conn.execute("""
            UPDATE schedules SET enabled = coalesce(\(enabled), enabled), cron = coalesce(\(cron), cron),
                   time_zone = coalesce(\(timeZone), time_zone),
                   next_fire_at = CASE WHEN \(next != nil) THEN \(next ?? nil) ELSE next_fire_at END,
                   retry_at = CASE WHEN \(next != nil) THEN NULL ELSE retry_at END,
                   version = version + 1, updated_at = \(at), updated_by = \(by)
            WHERE name = \(name)
            """)
        guard let s = try get(name: name) else { throw KontorError.notFound("schedule \(name)") }
        return s
    }

    static func run(_ r: PostgresRow) throws -> ScheduleRun {
        ScheduleRun(id: try r.decode("id"), scheduleName: try r.decode("schedule_name"), occurrence: try r.decode("occurrence", as: Date?.self),
                    trigger: try r.decode("trigger"), status: try r.decode("status"), instance: try r.decode("instance"),
                    startedAt: try r.decode("started_at"), finishedAt: try r.decode("finished_at"),
                    requestedBy: try r.decode("requested_by", as: Int64?.self), result: try r.decode("result", as: String?.self),
                    error: try r.decode("error", as: String?.self))
    }

    /// One run.
    public func run(id: Int64) throws -> ScheduleRun? {
        try conn.query("""
            SELECT id, schedule_name, occurrence, trigger, status, instance, started_at, finished_at, requested_by, result::text AS result, error
            FROM schedule_runs WHERE id = \(id)
            """).first.map(Self.run)
    }

    /// Runs of a schedule, newest first; `beforeID` continues a page.
    public func history(name: String, beforeID: Int64?, limit: Int) throws -> [ScheduleRun] {
        try conn.query("""
            SELECT id, schedule_name, occurrence, trigger, status, instance, started_at, finished_at, requested_by, result::text AS result, error
            FROM schedule_runs WHERE schedule_name = \(name) AND (\(beforeID)::bigint IS NULL OR id < \(beforeID))
            ORDER BY id DESC LIMIT \(limit)
            """).map(Self.run)
    }
}
