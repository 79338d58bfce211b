import Foundation

/// Times in the demo: minutes from the seeding day's local midnight (negative = earlier
/// days). `-1440 + 9 * 60` is 09:00 yesterday. Converted to instants by `DemoCalendar`.
typealias Minute = Int

/// One manager of the demo team.
struct ManagerSeed: Sendable {
    var login: String
    var fullName: String
    var department: String
    var `extension`: String
    /// National significant digits of the manager's own number of ours.
    var directNSN: String
}

/// A phone as the card will hold it.
struct PhoneSeed: Sendable {
    /// As written on the card (one of many forms).
    var written: String
    var label: String?
    /// National significant digits (9), the key the PBX sends.
    var nsn: String
    var ext: String?
}

/// An invented person's name.
struct PersonName: Sendable {
    var first: String
    var patronymic: String
    var surname: String
    var female: Bool
    /// `Прізвище Ім'я По батькові` (formal, as in documents) or `Ім'я Прізвище`.
    var formal: Bool

    var display: String { formal ? "\(surname) \(first) \(patronymic)" : "\(first) \(surname)" }
    /// `Коваленко О. М.`, as on a sole trader's sign.
    var initials: String { "\(surname) \(first.prefix(1)). \(patronymic.prefix(1))." }
    var full: String { "\(surname) \(first) \(patronymic)" }
}

/// A contact card the demo creates with `contact.create` (people of client companies).
struct ContactSeed: Sendable {
    var key: Int
    var name: PersonName
    var position: String?
    var companyKey: Int
    var ownerLogin: String
    var group: String
    var source: String
    var phones: [PhoneSeed]
    var email: String?
    var telegram: (id: String, handle: String)?
    var viber: String?
}

/// A legal entity of a company.
struct CounterpartySeed: Sendable {
    var legalName: String
    var edrpou: String?
    var vat: String?
    var address: String?
}

/// A company card.
struct CompanySeed: Sendable {
    var key: Int
    var name: String
    var industry: Int
    var address: String
    var city: Int
    var website: String?
    var notes: String?
    var ownerLogin: String
    /// `service`: an existing client; `development`: a prospect.
    var segment: String
    /// Development prospects: how many stages forward from the first one (0 = stays new).
    var devStep: Int
    /// Service clients: where the head of sales placed them at the rollout, and the move
    /// their manager made since (nil = none).
    var serviceStage: String
    var serviceMove: String?
    var counterparties: [CounterpartySeed]
    var contactKeys: [Int]
    /// How often they order, per month, and the size of an order (a factor).
    var ordersPerMonth: Double
    var size: Double
}

/// What a person who is not in the book yet turns out to be.
enum StrangerOutcome: Sendable {
    /// A new client: a company is made from the lead (`lead.qualify` with a name), with
    /// a counterparty, and moved a stage or two along Development.
    case newClient(name: String, legal: CounterpartySeed, website: String?, address: String, devStep: Int)
    /// A new person at a prospect we know.
    case joins(companyKey: Int)
    /// Not a client: rejected with a reason.
    case reject(reason: String, text: String)
    /// Arrived in the last days: still being worked.
    case open
}

/// Someone who first reaches us through a call or a message (a card made by ingestion).
struct StrangerSeed: Sendable {
    var key: Int
    var name: PersonName
    /// `phone`, `site`, `email`, `telegram`, `viber`, `facebook`, `instagram`.
    var channel: String
    var mobile: PhoneSeed
    var email: String?
    var messengerID: String?
    var handle: String?
    var organization: String
    var position: String
    var outcome: StrangerOutcome
    /// The Development manager who answers them (calls to the main number ring Development).
    var answeredBy: String
    /// Another card of the same person (`contact.merge` puts them together afterwards).
    var duplicateOf: Int?
    /// Deleted after rejection (spam), to have something in the trash.
    var deleteAfter: Bool
}

/// One leg of a call as the PBX reports it.
struct LegSeed: Sendable {
    var ext: String?
    var offset: Int
    var wait: Int
    var talk: Int
    var disposition: String
}

/// A call (one or more legs).
struct CallSeed: Sendable {
    var generalID: String
    var direction: String
    var remote: String
    var our: String
    var legs: [LegSeed]
    var answered: Bool { legs.contains { $0.talk > 0 } }
}

/// A written message.
struct MessageSeed: Sendable {
    var externalID: String
    var channel: String
    var direction: String
    var senderEmail: String?
    var senderPhone: String?
    var senderMessengerID: String?
    var senderUsername: String?
    var senderName: String?
    var recipient: String?
    var subject: String?
    var text: String
    var threadID: String?
    var managerLogin: String?
    var attachment: (name: String, type: String, size: Int)?
}

/// Whose history an event belongs to: the events of one person are delivered in order.
enum Party: Hashable, Sendable {
    case contact(Int)
    case stranger(Int)
}

/// What the manager does with the lead an inbound event opened.
enum LeadPlan: Sendable {
    case qualify
    case reject(reason: String, text: String)
    case keepOpen
}

/// One event the robot delivers.
struct EventSeed: Sendable {
    enum Kind: Sendable {
        case call(CallSeed)
        case message(MessageSeed)
    }
    var key: Int
    var party: Party
    var at: Minute
    var kind: Kind
    /// For inbound events: the lead's fate when this event opened one.
    var lead: LeadPlan?
    /// An order placed by this event: a shipment follows.
    var order: Bool
}

/// A shipment (or a refund: negative) the accounting robot records.
struct ShipmentSeed: Sendable {
    var companyKey: Int
    var counterparty: Int
    var contactKey: Int?
    var at: Minute
    var kopecks: Int64
    var document: String
}

/// A plan: a manager's or a company's, for a month (months from the current one).
struct PlanSeed: Sendable {
    var monthOffset: Int
    var managerLogin: String?
    var companyKey: Int?
    var planKopecks: Int64
    var potentialKopecks: Int64
}

/// A comment a manager leaves on a card.
struct CommentSeed: Sendable {
    var contactKey: Int?
    var companyKey: Int?
    var authorLogin: String
    var body: String
}

/// A lead a manager makes by hand from a contact card (with a template).
struct ManualLeadSeed: Sendable {
    var contactKey: Int
    var ownerLogin: String
    var template: Int
    var summary: String
}

/// A task for a manager about a client (issue 5: `task.create`).
struct TaskSeed: Sendable {
    var title: String
    var contactKey: Int
    var assigneeLogin: String
    /// When it is due (past = overdue).
    var due: Minute
    /// The channel the work came from: `phone`, `email`, `site`, `telegram`, ...
    var source: String
}

/// A reminder left on a contact card (issue 5: `reminder.create`).
struct ReminderSeed: Sendable {
    var contactKey: Int
    var forLogin: String
    var at: Minute
    var text: String
    /// Where it is delivered: `chronicle` (the feed) and `app` (pushed to the user's open
    /// sessions); the demo users have no `webhook` (the mobile and browser push gateways).
    var channels: [String]
}

/// Everything the demo consists of, before a single request is sent. Made by
/// `WorldBuilder` from the data files and the seed alone (the calendar only decides
/// which days are working days), so two runs make the same demo.
struct World: Sendable {
    var managers: [ManagerSeed]
    var companies: [CompanySeed]
    var contacts: [ContactSeed]
    var strangers: [StrangerSeed]
    var events: [EventSeed]
    var shipments: [ShipmentSeed]
    var plans: [PlanSeed]
    var comments: [CommentSeed]
    var manualLeads: [ManualLeadSeed]
    var tasks: [TaskSeed]
    var reminders: [ReminderSeed]
    /// The earliest month with data, as an offset from the current month (e.g. -3).
    var firstMonthOffset: Int
}
