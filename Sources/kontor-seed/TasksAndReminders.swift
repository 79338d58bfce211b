import Foundation
import KontorDomain
import KontorProtocol

/// Tasks and reminders (issue 5). The world already holds them (`World.tasks`,
/// `World.reminders`); this is the one place that sends them.
///
/// The params follow docs/PROTOCOL.md ("Tasks", "Reminders and webhooks"). An older
/// kontord without `task.create` or `reminder.create` answers the probe with
/// `method_not_found`: the part is skipped, and the report says so. A served method that
/// refuses the params (`invalid_params`) stops that part with a message naming the
/// function to fix; the rest of the demo stands.
extension Seeder {
    func seedTasksAndReminders() async throws {
        let tasks = world.tasks
        let reminders = world.reminders
        try await send("task.create", count: tasks.count) { i in
            let t = tasks[i]
            return (t.assigneeLogin, self.taskParams(t))
        }
        try await send("reminder.create", count: reminders.count) { i in
            let r = reminders[i]
            return (r.forLogin, self.reminderParams(r))
        }
    }

    /// `task.create` params for one task.
    func taskParams(_ t: TaskSeed) -> JSONValue {
        object([
            ("title", .string(t.title)), ("contact_id", ledger.contact(t.contactKey).map { .int($0) }),
            ("assignee_id", ledger.user(t.assigneeLogin).map { .int($0) }), ("due_at", .string(calendar.text(t.due))),
            ("source", .string(t.source)),
        ])
    }

    /// `reminder.create` params for one reminder (sent by its user: `user_id` is their own).
    func reminderParams(_ r: ReminderSeed) -> JSONValue {
        object([
            ("contact_id", ledger.contact(r.contactKey).map { .int($0) }), ("user_id", ledger.user(r.forLogin).map { .int($0) }),
            ("when", .string(calendar.text(r.at))), ("text", .string(r.text)), ("channels", .array(r.channels.map { .string($0) })),
        ])
    }

    /// Sends `count` calls of `method` (each as the login `make` names), unless the
    /// server does not serve the method.
    private func send(_ method: String, count: Int, _ make: @escaping @Sendable (Int) -> (String, JSONValue)) async throws {
        if case .failure(let e) = try await admin.attempt(method, [:]), e.kind == .methodNotFound {
            say("\(method): not served by this kontord; \(count) skipped (kontor-seed sends them once it is)")
            return
        }
        let refused = FirstNote()
        try await concurrently(Array(0..<count), limit: options.concurrency) { i in
            if refused.value != nil { return }
            let (login, params) = make(i)
            if case .failure(let e) = try await self.member(login).attempt(method, params) {
                guard e.kind == .invalidParams else {
                    throw SeedError.server("\(login): \(method) \(Member.brief(params)) answered \(e.kind.rawValue): \(e.message)")
                }
                refused.set("\(e.message)")
            }
        }
        if let why = refused.value {
            say("\(method): served, but it refused kontor-seed's params (\(why)); fix Seeder.\(method == "task.create" ? "taskParams" : "reminderParams")")
        } else {
            say("\(method): \(count) sent")
        }
    }
}

/// A first message, kept once, readable from many tasks.
final class FirstNote: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: String?
    var value: String? { lock.lock(); defer { lock.unlock() }; return stored }
    func set(_ v: String) { lock.lock(); if stored == nil { stored = v }; lock.unlock() }
}
