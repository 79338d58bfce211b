import CivilTime
import Foundation

/// The one rule for the instants robots and people report as "when it happened": a
/// call's start, answer and end, a message's reception, a shipment's date, a reply's
/// time (`inquiry.respond`).
///
/// PBXs, mail servers and ERPs send clocks that are wrong: unset (1970, year 1), far in
/// the future (2999), or a few hours off. An instant outside the sane range is refused
/// (`invalid_params`) instead of being stored: one call dated 2999 would otherwise keep
/// its client's lead open for ever and sort above everything else. Inside the range the
/// instant is taken as given; small inconsistencies between the instants of one event
/// (an answer stamped before the start) are normalised where the event is built
/// (`CallTimes`).
public enum EventTime {
    /// The earliest instant accepted: 2000-01-01T00:00:00Z (Kontor keeps no older history;
    /// earlier stamps are unset clocks).
    public static let earliest = Date(timeIntervalSince1970: Double(CivilTime.daysFromCivil(2000, 1, 1) * 86_400))

    /// How far after the server's now an event may be dated: clocks of other machines
    /// run ahead, and time zones get confused (at most a day).
    public static let futureTolerance: TimeInterval = 86_400

    /// How far after now a business document may be dated (a shipment: ERPs issue
    /// documents for planned dates, and months are booked ahead): a year. Later is a typo.
    public static let documentFutureTolerance: TimeInterval = 366 * 86_400

    /// Whether `date` is within the sane range at `now`.
    public static func isSane(_ date: Date, now: Date, futureTolerance: TimeInterval = EventTime.futureTolerance) -> Bool {
        date >= earliest && date <= now.addingTimeInterval(futureTolerance)
    }

    /// Checks a reported instant.
    /// - Parameters:
    ///   - field: the parameter's name, for the error.
    ///   - futureTolerance: how far after `now` it may be (default: a day, for events that
    ///     happened; `inquiry.respond` allows a minute, a reply cannot be in the future;
    ///     documents `documentFutureTolerance`).
    /// - Returns: `date`.
    /// - Throws: `invalid_params` (field `field`) when it is before 2000 or too far ahead.
    @discardableResult
    public static func check(_ date: Date, field: String, now: Date, futureTolerance: TimeInterval = EventTime.futureTolerance) throws -> Date {
        if date < earliest {
            throw KontorError.invalidParams(field, "\(field) is before 2000-01-01: the sender's clock is not set")
        }
        if date > now.addingTimeInterval(futureTolerance) {
            throw KontorError.invalidParams(field, "\(field) is in the future (after \(RFC3339.format(now.addingTimeInterval(futureTolerance), timeZone: TimeZone(secondsFromGMT: 0)!)))")
        }
        return date
    }

    /// Checks an optional instant (nil passes).
    @discardableResult
    public static func check(_ date: Date?, field: String, now: Date, futureTolerance: TimeInterval = EventTime.futureTolerance) throws -> Date? {
        try date.map { try check($0, field: field, now: now, futureTolerance: futureTolerance) }
    }
}

/// A call leg's instants made consistent: PBXs stamp the answer a few seconds before the
/// start (clocks of two components, rounding), or the end before the answer. Talk time
/// is what says a call was answered, never the order of the stamps, so nothing is
/// refused: the answer is moved to no earlier than the start, the end to no earlier than
/// the answer (or the start).
public struct CallTimes: Sendable, Equatable {
    /// When the leg started (unchanged).
    public var startedAt: Date
    /// When it was answered, at or after `startedAt`.
    public var answeredAt: Date?
    /// When it ended, at or after `answeredAt` (or `startedAt`).
    public var endedAt: Date?

    /// Normalises the reported instants.
    public init(startedAt: Date, answeredAt: Date?, endedAt: Date?) {
        self.startedAt = startedAt
        self.answeredAt = answeredAt.map { max($0, startedAt) }
        self.endedAt = endedAt.map { max($0, self.answeredAt ?? startedAt) }
    }
}
