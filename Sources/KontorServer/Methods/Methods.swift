import KontorProtocol

/// Where each method family plugs into the server. Add one line per family.
enum Methods {
    static func registerAll(_ t: inout MethodTable) {
        SessionHandlers.register(&t)
        RecordHandlers.register(&t)
        PlanFactHandlers.register(&t)
        LeadHandlers.register(&t)
        ImportHandlers.register(&t)
        TaskHandlers.register(&t); ReminderHandlers.register(&t)
    }

    /// Long-running jobs of the instance (schedulers, dispatchers), run while serving.
    /// Add one line per family.
    static func backgroundJobs(_ app: App) -> [BackgroundJob] {
        [Scheduler.backgroundJob(app), LeadConfigHandlers.overdueJob(app)]
            + ReminderHandlers.backgroundJobs(app)
    }

    /// LISTEN channels and what to do with their payloads (may wake jobs). The payload ""
    /// is sent after every (re)connect of the listener: re-read whatever you track.
    static func notificationHandlers(_ app: App, jobs: [String: BackgroundJob]) -> [String: @Sendable (String) -> Void] {
        let handlers: [String: @Sendable (String) -> Void] = ["kontor_schedules": { [scheduler = jobs[Scheduler.jobName]] _ in scheduler?.wake() }]
        return handlers.merging(ReminderHandlers.notificationHandlers(app, jobs: jobs)) { a, _ in a }
    }
}
