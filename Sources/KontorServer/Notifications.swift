import Foundation
import KontorDomain
import KontorProtocol
import KontorStore
import NIOConcurrencyHelpers
import Postgres

/// Live notifications of one instance (issue 5): whatever is written to a user's
/// chronicle is pushed to that user's subscribed sessions on this instance.
///
/// * A chronicle insert sends `NOTIFY kontor_chronicle '<user>:<id>'` (a trigger); every
///   instance marks the user dirty and wakes the `notify.push` job, which re-reads the
///   user's new rows (the notification is only a wake-up) and pushes them.
/// * Which rows are new, per session: rows are read by the transaction that wrote them
///   (`xid`), from a *horizon* (`pg_snapshot_xmin` of the previous read: every
///   transaction older than it had ended, so its rows were seen then or never come),
///   minus the ids already handled at or above it. Ids alone would not do: a row with a
///   smaller id can commit after a larger one. So nothing is pushed twice and nothing
///   committed is skipped, also after the listener reconnects (payload "" marks every
///   user dirty: what may have been missed is re-read, and sent once).
/// * Pushes go through the session's bounded queue and never wait: a slow client's
///   pushes are dropped, and once its queue has room again it gets `notify.lagged`
///   (with the first entry it missed), so it can catch up with `chronicle.list`.
public final class PushHub: Sendable {
    /// The background job's name.
    public static let jobName = "notify.push"

    struct Cursor {
        var userID: Int64
        var horizon: UInt64
        /// Rows at or above the horizon already handled: id → xid.
        var seen: [Int64: UInt64]
        /// The first entry dropped since the client was last told it lagged.
        var firstMissed: Int64?
        /// Bumped by every (re)subscription, so a read that started before it is not applied.
        var generation: UInt64
    }

    struct State {
        var cursors: [UInt64: Cursor] = [:]
        var dirty: Set<Int64> = []
        var everyone = false
        var generation: UInt64 = 0
    }

    private let state = NIOLockedValueBox(State())
    private let jobBox = NIOLockedValueBox<BackgroundJob?>(nil)

    /// Makes one from its fields.
    public init() {}

    /// The job that pushes; woken by `changed`.
    func job(_ app: App) -> BackgroundJob {
        let j = BackgroundJob(name: Self.jobName, interval: 2, app: app) { [self] app in try await tick(app) }
        jobBox.withLockedValue { $0 = j }
        return j
    }

    /// A `kontor_chronicle` notification: `<user>:<id>`, or "" after the listener
    /// (re)connected (anything may have been missed: re-read everyone).
    func notification(_ payload: String) {
        if let user = payload.split(separator: ":").first.flatMap({ Int64($0) }) {
            state.withLockedValue { _ = $0.dirty.insert(user) }
        } else {
            state.withLockedValue { $0.everyone = true }
        }
        jobBox.withLockedValue { $0 }?.wake()
    }

    /// Starts pushing to `session` what is written for `userID` from now on.
    func subscribe(_ session: ConnectionSession, userID: Int64, horizon: UInt64, visible: [(id: Int64, xid: UInt64)]) {
        state.withLockedValue { s in
            s.generation += 1
            s.cursors[session.id] = Cursor(userID: userID, horizon: horizon, seen: Dictionary(visible.map { ($0.id, $0.xid) }, uniquingKeysWith: { a, _ in a }),
                                           firstMissed: nil, generation: s.generation)
            // Something may have been written between the read and now: look again.
            s.dirty.insert(userID)
        }
        session.setSubscribed(true)
        jobBox.withLockedValue { $0 }?.wake()
    }

    /// Stops pushing to `session`.
    func unsubscribe(_ session: ConnectionSession) {
        session.setSubscribed(false)
        _ = state.withLockedValue { $0.cursors.removeValue(forKey: session.id) }
    }

    /// Whether `session` has a live subscription here (tests, `server.info`-like checks).
    public func isSubscribed(_ session: ConnectionSession) -> Bool {
        state.withLockedValue { $0.cursors[session.id] != nil } && session.isSubscribed
    }

    /// One round: drop cursors of sessions gone, push new rows of dirty users, tell
    /// lagging sessions. Returns how soon to look again.
    func tick(_ app: App) async throws -> Double? {
        let live = Dictionary(app.sessions.all.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let (work, cursors) = state.withLockedValue { s -> (Set<Int64>, [UInt64: Cursor]) in
            s.cursors = s.cursors.filter { id, c in
                guard let session = live[id], session.isSubscribed, session.principal?.userID == c.userID else { return false }
                return true
            }
            let users = s.everyone ? Set(s.cursors.values.map(\.userID)) : s.dirty.intersection(s.cursors.values.map(\.userID))
            s.dirty = []
            s.everyone = false
            return (users, s.cursors)
        }
        var failed: Set<Int64> = []
        for user in work {
            let mine = cursors.filter { $0.value.userID == user }
            guard let minHorizon = mine.values.map(\.horizon).min(),
                  let principal = mine.keys.lazy.compactMap({ live[$0]?.principal }).first else { continue }
            let vis = Visibility(principal)
            let snap: PushSnapshot
            do {
                snap = try await app.read { conn in
                    try conn.snapshot { try ChronicleRepository($0).pushable(userID: user, since: minHorizon, visibility: vis) }
                }
            } catch {
                failed.insert(user)
                app.logger.warning("live notifications: reading the chronicle failed; retrying", metadata: ["user": "\(user)", "error": "\(error)"])
                continue
            }
            var appPushed: Set<Int64> = []
            for (sessionID, cursor) in mine {
                guard let session = live[sessionID] else { continue }
                var c = cursor
                for row in snap.rows where row.xid >= c.horizon && c.seen[row.entry.id] == nil {
                    c.seen[row.entry.id] = row.xid
                    for line in Self.lines(for: row, encoder: app.encoder) {
                        let queued = session.push(line)
                        if !queued, c.firstMissed == nil { c.firstMissed = row.entry.id }
                        if queued, row.pushApp { appPushed.insert(row.entry.id) }
                    }
                }
                c.horizon = max(c.horizon, snap.horizon)
                c.seen = c.seen.filter { $0.value >= c.horizon }
                let updated = c
                state.withLockedValue { s in
                    guard var current = s.cursors[sessionID], current.generation == cursor.generation else { return }
                    current.horizon = updated.horizon
                    current.seen = updated.seen
                    current.firstMissed = current.firstMissed ?? updated.firstMissed
                    s.cursors[sessionID] = current
                }
            }
            if !appPushed.isEmpty { await Self.markAppPushed(app, Array(appPushed)) }
        }
        if !failed.isEmpty {
            state.withLockedValue { $0.dirty.formUnion(failed) }
        }
        // Tell sessions whose pushes were dropped, once their queue has room.
        var stillLagging = false
        for (sessionID, cursor) in state.withLockedValue({ $0.cursors }) {
            guard let session = live[sessionID], session.takeLagging() else { continue }
            let notice = TaskMethods.LaggedPush(
                text: "some notifications were dropped because this connection reads too slowly; chronicle.list has everything",
                firstMissedID: cursor.firstMissed)
            guard let params = try? app.encoder.encode(notice) else { continue }
            if session.push(JSONRPC.notificationLine(method: "notify.lagged", params: params)) {
                state.withLockedValue { s in
                    if s.cursors[sessionID]?.generation == cursor.generation { s.cursors[sessionID]?.firstMissed = nil }
                }
            } else {
                stillLagging = true
            }
        }
        if !failed.isEmpty { return 1 }
        return stillLagging ? 0.5 : nil
    }

    /// Pushes to a session that just subscribed the reminders for the app its user missed
    /// while offline (`ChronicleRepository.unpushedApp`, read in the snapshot the
    /// subscription starts from, so the push job never sends them to this session again),
    /// and records them as pushed.
    func pushBacklog(_ session: ConnectionSession, _ rows: [PushableEntry], app: App) async {
        var queued: [Int64] = []
        for row in rows {
            let lines = Self.lines(for: row, encoder: app.encoder)
            if !lines.isEmpty, lines.allSatisfy({ session.push($0) }) { queued.append(row.entry.id) }
        }
        await Self.markAppPushed(app, queued)
    }

    /// Records app pushes made; a failure only means they are pushed again at the user's
    /// next subscription (at least once, never lost).
    static func markAppPushed(_ app: App, _ ids: [Int64]) async {
        guard !ids.isEmpty else { return }
        let now = app.clock.now()
        do {
            try await app.transaction { conn in try ChronicleRepository(conn).markAppPushed(ids: ids, at: now) }
        } catch {
            app.logger.warning("live notifications: app pushes could not be recorded", metadata: ["ids": "\(ids.count)", "error": "\(error)"])
        }
    }

    /// The push lines for one chronicle row: `reminder.due` for a reminder sent to the
    /// app (it carries its `chronicle_id` when it is also in the feed, so a reminder with
    /// both channels arrives once), `chronicle.entry` for any other feed entry.
    static func lines(for row: PushableEntry, encoder: JSONValueEncoder) -> [String] {
        let e = row.entry
        if row.pushApp, let rid = e.reminderID {
            let push = TaskMethods.ReminderDuePush(reminderID: rid, text: e.text, dueAt: row.reminderDueAt, firedAt: row.firedAt,
                                                   contactID: e.contactID, contactName: e.contactName, companyID: e.companyID,
                                                   companyName: e.companyName, chronicleID: row.inFeed ? e.id : nil)
            guard let params = try? encoder.encode(push) else { return [] }
            return [JSONRPC.notificationLine(method: "reminder.due", params: params)]
        }
        guard row.inFeed, let params = try? encoder.encode(e) else { return [] }
        return [JSONRPC.notificationLine(method: "chronicle.entry", params: params)]
    }
}
