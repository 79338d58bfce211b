import Foundation
import KontorDomain
import KontorProtocol
import KontorStore
import Postgres

/// `schedule.list`, `schedule.update`, `schedule.run_now`, `schedule.history` (issue 6),
/// for tech admins. The runner itself is `Scheduler`.
enum ScheduleHandlers {
    typealias M = PlanFactMethods

    static func register(_ t: inout MethodTable) {
        t.register("schedule.list", NoParams.self) { ctx, _ in
            let now = ctx.now
            let schedules = try await ctx.app.read { conn in try ScheduleRepository(conn).list() }
            return M.ScheduleList(schedules: schedules.map { info($0, now: now) })
        }
        t.register("schedule.update", M.ScheduleUpdateParams.self, update)
        t.register("schedule.run_now", M.ScheduleNameParams.self) { ctx, p in
            let me = try ctx.requirePrincipal()
            let app = ctx.app
            let runID = try await Scheduler.runNow(app, name: p.name, requestedBy: me.userID)
            guard let run = try await app.read({ conn in try ScheduleRepository(conn).run(id: runID) }) else {
                throw KontorError.notFound("run \(runID)")
            }
            return try runInfo(run)
        }
        t.register("schedule.history", M.ScheduleHistoryParams.self) { ctx, p in
            let limit = try RecordHandlers.checkedLimit(p.limit, default: 50, max: 500)
            let beforeID: Int64? = try p.cursor.map { c in
                guard let id = Int64(c), id > 0 else { throw KontorError.invalidParams("cursor", "not a cursor this server gave out") }
                return id
            }
            let runs = try await ctx.app.read { conn -> [ScheduleRun] in
                let repo = ScheduleRepository(conn)
                guard try repo.get(name: p.name) != nil else { throw KontorError.notFound("schedule \(p.name)") }
                return try repo.history(name: p.name, beforeID: beforeID, limit: limit)
            }
            return M.ScheduleHistory(runs: try runs.map(runInfo), nextCursor: runs.count == limit ? runs.last.map { String($0.id) } : nil)
        }
    }

    /// A schedule with its next three occurrences (from its stored next one).
    static func info(_ s: Schedule, now: Date) -> M.ScheduleInfo {
        var upcoming: [Date] = []
        if s.enabled, let zone = TimeZone(identifier: s.timeZone), let cron = try? CronExpression(s.cron) {
            var t = s.nextFireAt ?? cron.next(after: now, in: zone)
            while let d = t, upcoming.count < 3 {
                upcoming.append(d)
                t = cron.next(after: d, in: zone)
            }
        }
        return M.ScheduleInfo(schedule: s, upcoming: upcoming)
    }

    static func runInfo(_ r: ScheduleRun) throws -> M.ScheduleRunInfo {
        M.ScheduleRunInfo(id: r.id, schedule: r.scheduleName, occurrence: r.occurrence, trigger: r.trigger, status: r.status,
                          instance: r.instance, startedAt: r.startedAt, finishedAt: r.finishedAt, requestedBy: r.requestedBy,
                          result: try r.result.map { try JSONValue.parse($0) } ?? .null, error: r.error)
    }

    static func update(_ ctx: RequestContext, _ p: M.ScheduleUpdateParams) async throws -> M.ScheduleInfo {
        let me = try ctx.requirePrincipal()
        var parsed: CronExpression?
        if let text = p.cron {
            do { parsed = try CronExpression(text) } catch let e as CronExpression.ParseError {
                throw KontorError.invalidParams("cron", e.message)
            }
        }
        let cron = parsed
        if let z = p.timeZone, TimeZone(identifier: z) == nil {
            throw KontorError.invalidParams("time_zone", "\(z) is not an IANA time zone (like Europe/Kyiv)")
        }
        let now = ctx.now
        let app = ctx.app
        let s = try await app.transaction { conn -> Schedule in
            let repo = ScheduleRepository(conn)
            guard let current = try repo.get(name: p.name, lock: true) else { throw KontorError.notFound("schedule \(p.name)") }
            let newCron = try cron ?? CronExpression(current.cron)
            let zoneName = p.timeZone ?? current.timeZone
            guard let zone = TimeZone(identifier: zoneName) else { throw KontorError.invalidParams("time_zone", "unknown time zone \(zoneName)") }
            let enabled = p.enabled ?? current.enabled
            let timingChanged = (cron != nil && newCron.text != current.cron) || zoneName != current.timeZone || (enabled && !current.enabled)
            var next: Date?? = nil
            if timingChanged {
                // From now on: no catch-up of occurrences of the old timing or of the time it was off.
                let n = newCron.next(after: now, in: zone)
                if n == nil { throw KontorError.invalidParams("cron", "\(newCron.text) never fires") }
                next = .some(n)
            }
            return try repo.update(name: p.name, version: p.version, enabled: p.enabled, cron: cron?.text, timeZone: p.timeZone,
                                   next: next, at: now, by: me.userID)
        }
        return info(s, now: now)
    }
}
