import Foundation
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// A loop that runs `tick` now and then, for work that must happen without a request:
/// firing due reminders, running stored schedules, delivering webhooks.
///
/// It runs `tick` at start, whenever `wake()` is called (e.g. from a LISTEN/NOTIFY
/// handler, or a test that moved the clock), and at the latest `interval` seconds after
/// the previous run. `tick` returns how soon it wants to run again (seconds), or nil for
/// the default interval. Errors are logged and retried on the next round. Exactly-once
/// across instances is the tick's business (claim rows in the database with
/// `FOR UPDATE SKIP LOCKED` or a unique occurrence key), not this loop's.
public final class BackgroundJob: Service, Sendable {
    public let name: String
    let interval: Double
    let app: App
    let tick: @Sendable (App) async throws -> Double?

    private struct State {
        var woken = false
        var waiter: CheckedContinuation<Void, Never>?
        var runs: UInt64 = 0
        var inProgress = false
        var runWaiters: [(UInt64, CheckedContinuation<Void, Never>)] = []
    }
    private let state = NIOLockedValueBox(State())

    public init(name: String, interval: Double, app: App, tick: @escaping @Sendable (App) async throws -> Double?) {
        self.name = name
        self.interval = interval
        self.app = app
        self.tick = tick
    }

    /// How many runs have finished (tests).
    public var runCount: UInt64 { state.withLockedValue { $0.runs } }

    /// Asks for a run as soon as possible.
    public func wake() {
        let w = state.withLockedValue { s -> CheckedContinuation<Void, Never>? in
            s.woken = true
            let w = s.waiter
            s.waiter = nil
            return w
        }
        w?.resume()
    }

    /// Wakes the job and waits until a run that started after this call has finished
    /// (tests use it after moving the clock).
    public func runNow() async {
        // A run already under way may have read the clock before this call: wait for the next.
        let target = state.withLockedValue { $0.runs + ($0.inProgress ? 2 : 1) }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let done = state.withLockedValue { s -> Bool in
                if s.runs >= target { return true }
                s.runWaiters.append((target, c))
                return false
            }
            if done { c.resume() }
            wake()
        }
    }

    public func run() async throws {
        while !Task.isCancelled {
            var next = interval
            state.withLockedValue { $0.inProgress = true }
            do {
                if let n = try await tick(app) { next = max(0.01, min(n, interval)) }
            } catch is CancellationError {
                break
            } catch {
                app.logger.warning("background job failed; retrying", metadata: ["job": "\(name)", "error": "\(error)"])
                next = min(interval, 1)
            }
            finishedRun()
            await sleep(seconds: next)
        }
        // Release anyone waiting for a run.
        let waiters = state.withLockedValue { s -> [CheckedContinuation<Void, Never>] in
            let w = s.runWaiters.map(\.1)
            s.runWaiters = []
            return w
        }
        for w in waiters { w.resume() }
    }

    private func finishedRun() {
        let ready = state.withLockedValue { s -> [CheckedContinuation<Void, Never>] in
            s.runs += 1
            s.inProgress = false
            let r = s.runWaiters.filter { $0.0 <= s.runs }.map(\.1)
            s.runWaiters.removeAll { $0.0 <= s.runs }
            return r
        }
        for c in ready { c.resume() }
    }

    /// Sleeps until woken, cancelled, or `seconds` passed.
    private func sleep(seconds: Double) async {
        let timer = Task { [weak self] in
            // A timer cancelled because the job woke early must not wake it again: that
            // wake would end the next sleep at once, whose cancelled timer would wake it
            // again, and the job would spin (it did, from the first NOTIFY on).
            do { try await Task.sleep(nanoseconds: UInt64(seconds * 1_000_000_000)) } catch { return }
            self?.wake()
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let now = state.withLockedValue { s -> Bool in
                    if s.woken || Task.isCancelled { s.woken = false; return true }
                    s.waiter = c
                    return false
                }
                if now { c.resume() }
            }
        } onCancel: {
            wake()
        }
        state.withLockedValue { $0.woken = false }
        timer.cancel()
    }
}
