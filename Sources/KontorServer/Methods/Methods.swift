import KontorProtocol
import ServiceLifecycle

/// Where each method family plugs into the server. Add one line per family.
enum Methods {
    static func registerAll(_ t: inout MethodTable) {
        SessionHandlers.register(&t)
        RecordHandlers.register(&t)
    }

    /// Long-running jobs of the instance (schedulers, dispatchers), run while serving.
    static func backgroundServices(_ app: App) -> [any Service] {
        []
    }

    /// LISTEN channels and what to do with their payloads. The payload "" is sent after
    /// every (re)connect of the listener: re-read whatever you track.
    static func notificationHandlers(_ app: App) -> [String: @Sendable (String) -> Void] {
        [:]
    }
}
