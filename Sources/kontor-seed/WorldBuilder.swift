import Foundation

/// Builds the demo `World` from the data files, the seed and the calendar.
///
/// Every part draws from its own named stream (`Dice.fork`), so the people and companies
/// depend on the seed only, and the events on the seed and which days are working days.
/// Volumes are the constants below.
struct WorldBuilder {
    /// Existing clients (Service) and prospects (Development) in the book at the rollout.
    static let serviceCompanies = 118
    static let developmentCompanies = 70
    /// People who first reach us through a call or a message during the history.
    static let strangers = 110
    /// Of them, this many arrive in the last two days (still open in the planners).
    static let recentStrangers = 14
    /// Full months of history before the current month.
    static let historyMonths = 3

    let data: SeedData
    let calendar: DemoCalendar
    let root: Dice

    init(data: SeedData, calendar: DemoCalendar, seed: UInt64) {
        self.data = data
        self.calendar = calendar
        self.root = Dice(seed: seed)
    }

    // MARK: - State while building

    private var usedNSN = Set<String>()
    private var usedEmails = Set<String>()
    private var usedMessengerIDs = Set<String>()
    private var usedHandles = Set<String>()
    private var usedCompanyNames = Set<String>()
    private var usedCodes = Set<String>()
    private var usedOfficeLines = Set<String>()

    private var managers: [ManagerSeed] = []
    private var companies: [CompanySeed] = []
    private var contacts: [ContactSeed] = []
    private var strangers: [StrangerSeed] = []
    private var events: [EventSeed] = []
    private var shipments: [ShipmentSeed] = []

    /// The first day of history (the first day of the month `historyMonths` back), as an
    /// offset from today.
    var firstDay: Int {
        let t = calendar.civil(0)
        var y = t.year, m = t.month - WorldBuilder.historyMonths
        while m < 1 { m += 12; y -= 1 }
        var d = 0
        while true {
            let c = calendar.civil(d)
            if c.year == y && c.month == m && c.day == 1 { return d }
            d -= 1
        }
    }

    // MARK: - Build

    /// The whole demo.
    mutating func build() -> World {
        managers = data.staff.managers.map {
            ManagerSeed(login: $0.login, fullName: $0.fullName, department: $0.department, extension: $0.extension,
                        directNSN: WorldBuilder.nsn($0.direct))
        }
        for m in managers { usedNSN.insert(m.directNSN) }
        for n in data.staff.mainNumbers { usedNSN.insert(WorldBuilder.nsn(n.line)) }

        var people = root.fork("people")
        makeCompanies(&people)
        makeStrangers(&people)
        var ev = root.fork("events")
        makeCompanyEvents(&ev)
        makeStrangerEvents(&ev)
        makeRecentMessages(&ev)
        makeRecentMissedCalls(&ev)
        events.sort { ($0.at, $0.key) < ($1.at, $1.key) }
        // The PBX numbers calls as they happen.
        var serial = 0
        for i in events.indices {
            if case .call(var call) = events[i].kind {
                serial += 1
                call.generalID = String(640_000_000 + serial * 7)
                events[i].kind = .call(call)
            }
        }
        var sh = root.fork("shipments")
        makeShipments(&sh)
        var pl = root.fork("plans")
        let plans = makePlans(&pl)
        var cm = root.fork("comments")
        let comments = makeComments(&cm)
        var ml = root.fork("manual leads")
        let manual = makeManualLeads(&ml)
        var tr = root.fork("tasks and reminders")
        let (tasks, reminders) = makeTasksAndReminders(&tr)
        return World(managers: managers, companies: companies, contacts: contacts, strangers: strangers, events: events,
                     shipments: shipments, plans: plans, comments: comments, manualLeads: manual, tasks: tasks, reminders: reminders,
                     firstMonthOffset: -WorldBuilder.historyMonths)
    }

    /// National significant digits of a number written in `staff.json`.
    static func nsn(_ written: String) -> String {
        var d = written.filter(\.isNumber)
        if d.hasPrefix("380") { d.removeFirst(2) }
        if d.hasPrefix("0") { d.removeFirst() }
        return d
    }

    var development: [ManagerSeed] { managers.filter { $0.department == "development" } }
    var service: [ManagerSeed] { managers.filter { $0.department == "service" } }
    func manager(_ login: String) -> ManagerSeed? { managers.first { $0.login == login } }

    // MARK: - People and companies

    private mutating func personName(_ d: inout Dice, female: Bool? = nil) -> PersonName {
        let f = female ?? d.chance(0.6)
        let first = f ? d.pick(data.names.female) : d.pick(data.names.male)
        let forms = d.pick(data.names.surnames).split(separator: "|").map(String.init)
        let surname = f && forms.count > 1 ? forms[1] : forms[0]
        let patronymic = d.pick(data.names.patronymics)[f ? 1 : 0]
        return PersonName(first: first, patronymic: patronymic, surname: surname, female: f, formal: d.chance(0.35))
    }

    private mutating func mobile(_ d: inout Dice) -> PhoneSeed {
        var n = Words.mobileDigits(&d)
        while usedNSN.contains(n) { n = Words.mobileDigits(&d) }
        usedNSN.insert(n)
        return PhoneSeed(written: Words.written(n, style: d.int(0...8)), label: "mobile", nsn: n, ext: nil)
    }

    private static func unique(_ make: (inout Dice) -> String, in set: inout Set<String>, _ d: inout Dice) -> String {
        var v = make(&d)
        var tries = 0
        while set.contains(v) {
            tries += 1
            v = make(&d) + (tries > 5 ? String(d.int(2...99)) : "")
        }
        set.insert(v)
        return v
    }

    private mutating func personalEmail(_ name: PersonName, domain: String?, _ d: inout Dice) -> String {
        let first = Words.slug(name.first, sep: "")
        let last = Words.slug(name.surname, sep: "")
        let local: String
        let host: String
        if let domain {
            host = domain
            switch d.int(0...3) {
            case 0: local = "\(first).\(last)"
            case 1: local = "\(first.prefix(1)).\(last)"
            case 2: local = last
            default: local = "\(first)"
            }
        } else {
            host = d.pick(["ukr.example", "i.example", "mail.example", "meta.example"])
            local = d.chance(0.5) ? "\(last).\(first)\(d.int(70...99))" : "\(first)_\(last)"
        }
        var address = "\(local)@\(host)"
        var n = 2
        while usedEmails.contains(address) {
            address = "\(local)\(n)@\(host)"
            n += 1
        }
        usedEmails.insert(address)
        return address
    }

    private mutating func telegram(_ name: PersonName, _ d: inout Dice) -> (id: String, handle: String) {
        let id = WorldBuilder.unique({ "5" + $0.digits(9) }, in: &usedMessengerIDs, &d)
        let base = Words.slug(name.first, sep: "") + "_" + Words.slug(name.surname, sep: "")
        var handle = d.chance(0.5) ? base : base + String(d.int(1...99))
        var n = 2
        while usedHandles.contains(handle) {
            handle = base + String(n)
            n += 1
        }
        usedHandles.insert(handle)
        return (id, handle)
    }

    private mutating func viberID(_ d: inout Dice) -> String {
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        return WorldBuilder.unique({ dice in String((0..<22).map { _ in letters[dice.int(0...(letters.count - 1))] }) + "==" }, in: &usedMessengerIDs, &d)
    }

    private mutating func companyName(industry: Int, _ d: inout Dice) -> String {
        let ind = data.companies.industries[industry]
        for attempt in 0..<40 {
            var name = d.pick(data.companies.roots) + d.pick(ind.suffixes)
            if attempt > 20 { name += " \(d.pick(data.places.cities).name)" }
            if !usedCompanyNames.contains(name) {
                usedCompanyNames.insert(name)
                return name
            }
        }
        let name = "\(d.pick(data.companies.roots))\(d.pick(ind.suffixes)) \(usedCompanyNames.count)"
        usedCompanyNames.insert(name)
        return name
    }

    private mutating func address(city: Int, _ d: inout Dice) -> String {
        let c = data.places.cities[city]
        var prefix = c.postcode
        // `0[1-4]`: one digit drawn from the range.
        if let open = prefix.firstIndex(of: "["), let close = prefix.firstIndex(of: "]") {
            let range = prefix[prefix.index(after: open)..<close].split(separator: "-").compactMap { Int($0) }
            let digit = range.count == 2 && range[0] <= range[1] ? d.int(range[0]...range[1]) : 0
            prefix = String(prefix[..<open]) + String(digit) + String(prefix[prefix.index(after: close)...])
        }
        let postcode = prefix + d.digits(max(0, 5 - prefix.count))
        var s = "\(postcode), м. \(c.name), \(d.pick(data.places.streets)), \(d.int(1...180))"
        if d.chance(0.15) { s += "/\(d.int(1...9))" }
        let premises = d.pick(data.places.premises)
        if !premises.isEmpty {
            s += ", " + Words.fill(premises, ["n": String(d.int(1...520)), "bc": d.pick(data.places.businessCentres)])
        }
        return s
    }

    private mutating func edrpou(_ d: inout Dice) -> String {
        WorldBuilder.unique({ Words.edrpou(&$0) }, in: &usedCodes, &d)
    }

    private mutating func makeCompanies(_ d: inout Dice) {
        let forms = data.companies.legalForms
        let industries = data.companies.industries
        let cities = data.places.cities
        let dev = development.map(\.login), svc = service.map(\.login)
        let total = WorldBuilder.serviceCompanies + WorldBuilder.developmentCompanies
        for key in 0..<total {
            let segment = key < WorldBuilder.serviceCompanies ? "service" : "development"
            let industry = d.weighted(industries.map(\.weight))
            let form = forms[d.weighted(forms.map(\.weight))].short
            let city = d.weighted(cities.map(\.weight))
            let addr = address(city: city, &d)
            var name: String
            var legal: CounterpartySeed
            var owner: PersonName?
            if form == "ФОП" {
                let p = personName(&d)
                owner = p
                name = "ФОП \(p.initials)\(d.pick(data.companies.soleTraderSuffixes))"
                while usedCompanyNames.contains(name) { name += " \(cities[city].name)" }
                usedCompanyNames.insert(name)
                let code = WorldBuilder.unique({ Words.soleTraderTaxNumber(female: p.female, &$0) }, in: &usedCodes, &d)
                legal = CounterpartySeed(legalName: "ФОП \(p.full)", edrpou: code, vat: nil, address: addr)
            } else {
                name = companyName(industry: industry, &d)
                let code = edrpou(&d)
                legal = CounterpartySeed(legalName: "\(form) «\(name)»", edrpou: code,
                                         vat: d.chance(0.55) ? Words.vatNumber(edrpou: code, &d) : nil, address: addr)
            }
            var counterparties = [legal]
            if form != "ФОП", d.chance(0.18) {
                if d.chance(0.5) {
                    let p = personName(&d)
                    let code = WorldBuilder.unique({ Words.soleTraderTaxNumber(female: p.female, &$0) }, in: &usedCodes, &d)
                    counterparties.append(CounterpartySeed(legalName: "ФОП \(p.full)", edrpou: code, vat: nil, address: nil))
                } else {
                    let branchCity = d.weighted(cities.map(\.weight))
                    let code = edrpou(&d)
                    counterparties.append(CounterpartySeed(legalName: "\(form) «\(name) \(cities[branchCity].name)»", edrpou: code,
                                                           vat: d.chance(0.5) ? Words.vatNumber(edrpou: code, &d) : nil,
                                                           address: address(city: branchCity, &d)))
                }
                if d.chance(0.2) {
                    let code = edrpou(&d)
                    counterparties.append(CounterpartySeed(legalName: "ТОВ «\(name) Сервіс»", edrpou: code, vat: nil, address: nil))
                }
            }
            let website: String? = form != "ФОП" && d.chance(0.7) ? Words.slug(name) + ".example" : nil
            let note = d.pick(data.companies.notes)
            let ownerLogin = segment == "service" ? svc[(key + d.int(0...1)) % svc.count] : dev[(key + d.int(0...1)) % dev.count]
            var devStep = 0
            var stage = "deal_planned"
            var move: String?
            if segment == "development" {
                devStep = d.weighted([0.14, 0.2, 0.2, 0.2, 0.14, 0.12])
            } else {
                stage = ["deal_planned", "deal_partially_completed", "deal_completed"][d.weighted([0.35, 0.45, 0.2])]
                if d.chance(0.3) {
                    switch stage {
                    case "deal_planned": move = d.chance(0.6) ? "deal_partially_completed" : "deal_completed"
                    case "deal_partially_completed": move = "deal_completed"
                    default: move = "deal_planned"
                    }
                }
            }
            var company = CompanySeed(key: key, name: name, industry: industry, address: addr, city: city, website: website,
                                      notes: note.isEmpty ? nil : note, ownerLogin: ownerLogin, segment: segment, devStep: devStep,
                                      serviceStage: stage, serviceMove: move, counterparties: counterparties, contactKeys: [],
                                      ordersPerMonth: segment == "service" ? 0.5 + d.unit() * 1.8 : 0,
                                      size: 0.5 + d.unit() * d.unit() * 2.5)
            // The company's office line: people there have extensions on it.
            var office = Words.landlineDigits(area: cities[city].area, digits: cities[city].digits, &d)
            while usedOfficeLines.contains(office) || usedNSN.contains(office) {
                office = Words.landlineDigits(area: cities[city].area, digits: cities[city].digits, &d)
            }
            usedOfficeLines.insert(office)
            let count = segment == "service" ? 1 + d.weighted([0.1, 0.4, 0.32, 0.18]) : 1 + d.weighted([0.5, 0.5])
            var extensions = Set<Int>()
            for i in 0..<count {
                let ind = industries[industry]
                let soleTrader = i == 0 ? owner : nil
                let pname = soleTrader ?? personName(&d)
                let position = soleTrader != nil ? "Підприємець" : d.pick(ind.positions)
                var phones: [PhoneSeed] = []
                if d.chance(0.93) || i > 0 { phones.append(mobile(&d)) }
                if d.chance(0.35) || phones.isEmpty {
                    var ext = d.int(10...399)
                    while extensions.contains(ext) { ext = d.int(10...399) }
                    extensions.insert(ext)
                    let area = cities[city].area.count
                    let written = Words.written(office, areaLength: area, style: [1, 4, 7, 0][d.int(0...3)])
                    let extText = [", доб. \(ext)", " доб. \(ext)", " вн. \(ext)", " ext. \(ext)"][d.int(0...3)]
                    phones.append(PhoneSeed(written: written + extText, label: "work", nsn: office, ext: String(ext)))
                }
                let email: String? = d.chance(0.85) ? personalEmail(pname, domain: website, &d) : nil
                let tg: (id: String, handle: String)? = d.chance(0.22) ? telegram(pname, &d) : nil
                let vb: String? = d.chance(0.1) ? viberID(&d) : nil
                let sources = ["phone", "manual", "email", "site", "telegram", "viber", "facebook", "instagram"]
                var source = sources[d.weighted([40, 25, 15, 8, 5, 4, 2, 1])]
                if source == "email" && email == nil { source = "phone" }
                if source == "telegram" && tg == nil { source = "manual" }
                if source == "viber" && vb == nil { source = "phone" }
                let group = segment == "service" ? "client" : (devStep >= 2 ? "contact" : "lead")
                let ck = contacts.count
                contacts.append(ContactSeed(key: ck, name: pname, position: position, companyKey: key, ownerLogin: ownerLogin,
                                            group: group, source: source, phones: phones, email: email, telegram: tg, viber: vb))
                company.contactKeys.append(ck)
            }
            companies.append(company)
        }
    }

    private mutating func makeStrangers(_ d: inout Dice) {
        let dev = development.map(\.login)
        let prospects = companies.filter { $0.segment == "development" }.map(\.key)
        let channels = ["phone", "site", "email", "telegram", "viber", "facebook", "instagram"]
        let rejections = data.texts.rejections
        for key in 0..<WorldBuilder.strangers {
            let name = personName(&d)
            let channel = channels[d.weighted([66, 11, 8, 7, 3, 3, 2])]
            var industry = d.weighted(data.companies.industries.map(\.weight))
            let recent = key < WorldBuilder.recentStrangers
            var outcome: StrangerOutcome
            var organization = ""
            if recent {
                outcome = .open
                organization = d.chance(0.8) ? companyName(industry: industry, &d) : ""
            } else {
                switch d.weighted([18, 12, 62, 8]) {
                case 0:
                    let cname = companyName(industry: industry, &d)
                    let city = d.weighted(data.places.cities.map(\.weight))
                    let addr = address(city: city, &d)
                    let code = edrpou(&d)
                    outcome = .newClient(name: cname, legal: CounterpartySeed(legalName: "ТОВ «\(cname)»", edrpou: code, vat: nil, address: addr),
                                         website: d.chance(0.6) ? Words.slug(cname) + ".example" : nil, address: addr,
                                         devStep: 1 + d.weighted([0.5, 0.35, 0.15]))
                    organization = cname
                case 1:
                    let ck = d.pick(prospects)
                    outcome = .joins(companyKey: ck)
                    organization = companies[ck].name
                    industry = companies[ck].industry
                case 2:
                    let r = rejections[d.weighted(rejections.map(\.weight))]
                    outcome = .reject(reason: r.reason, text: d.pick(r.texts))
                default:
                    outcome = .open
                }
            }
            let position = d.pick(data.companies.industries[industry].positions)
            let mobilePhone = mobile(&d)
            var email: String?
            var messengerID: String?
            var handle: String?
            switch channel {
            case "email": email = personalEmail(name, domain: nil, &d)
            case "site": email = d.chance(0.6) ? personalEmail(name, domain: nil, &d) : nil
            case "telegram":
                let t = telegram(name, &d)
                messengerID = t.id
                handle = t.handle
            case "viber": messengerID = viberID(&d)
            case "facebook", "instagram": messengerID = WorldBuilder.unique({ "10" + $0.digits(14) }, in: &usedMessengerIDs, &d)
            default: break
            }
            strangers.append(StrangerSeed(key: key, name: name, channel: channel, mobile: mobilePhone, email: email, messengerID: messengerID,
                                          handle: handle, organization: organization, position: position, outcome: outcome,
                                          answeredBy: dev[d.int(0...(dev.count - 1))], duplicateOf: nil, deleteAfter: false))
        }
        // Two spam senders end in the trash.
        var deleted = 0
        for i in strangers.indices where deleted < 2 {
            if case .reject(let reason, _) = strangers[i].outcome, reason == "spam" {
                strangers[i].deleteAfter = true
                deleted += 1
            }
        }
        // Three people who wrote in a messenger call later: a second card, merged afterwards.
        var dupes = 0
        for i in strangers.indices where dupes < 3 && (strangers[i].channel == "telegram" || strangers[i].channel == "viber") {
            if case .open = strangers[i].outcome { continue }
            if strangers[i].deleteAfter { continue }
            var twin = strangers[i]
            twin.key = strangers.count
            twin.channel = "phone"
            twin.email = nil
            twin.messengerID = nil
            twin.handle = nil
            twin.mobile = mobile(&d)
            twin.outcome = .reject(reason: "duplicate", text: "Той самий клієнт, що вже писав у месенджер")
            twin.duplicateOf = strangers[i].key
            twin.deleteAfter = false
            strangers.append(twin)
            dupes += 1
        }
    }

    // MARK: - Events

    /// Working days of the history (Monday–Friday, and one Saturday in ten), as offsets.
    private func workingDays() -> [Int] {
        var days: [Int] = []
        for day in firstDay...0 {
            let w = calendar.weekday(day)
            var saturday = root.fork("saturday \(calendar.civil(day))")
            if w <= 5 || (w == 6 && saturday.chance(0.1)) { days.append(day) }
        }
        return days
    }

    /// A working-hours minute of `day`, before now when the day is today; nil when today
    /// has no working time left before now.
    private func workTime(_ day: Int, _ d: inout Dice) -> Minute? {
        let start = 8 * 60 + 40, end = 18 * 60 + 50
        if day < 0 { return day * 1440 + d.int(start...end) }
        let latest = min(end, calendar.nowMinute - 8)
        guard latest > start else { return nil }
        return d.int(start...latest)
    }

    private var nowMinute: Minute { calendar.nowMinute }
    /// Events after this are recent: their leads are still being worked.
    private var recentFrom: Minute { -2 * 1440 + calendar.nowMinute }

    private mutating func add(_ party: Party, _ at: Minute, _ kind: EventSeed.Kind, lead: LeadPlan? = nil, order: Bool = false) {
        events.append(EventSeed(key: events.count, party: party, at: at, kind: kind, lead: lead, order: order))
    }

    private var nextCallID = 0
    private mutating func callID() -> String {
        nextCallID += 1
        return String(640_000_000 + nextCallID * 7)
    }

    private func ext(_ login: String) -> String { manager(login)?.extension ?? "" }

    private var mainNSN: String { WorldBuilder.nsn(data.staff.mainNumbers.first?.line ?? "044 555 00 00") }

    /// An inbound call: legs ringing the department; `taker` answers unless missed.
    private mutating func inboundCall(from nsn: String, our: String, department: String, taker: String, missed: Bool,
                                      _ d: inout Dice) -> CallSeed {
        let team = managers.filter { $0.department == department }.map(\.login)
        var legs: [LegSeed] = []
        var offset = 0
        if missed {
            for login in d.shuffled(team).prefix(d.int(1...2)) {
                let wait = d.int(12...35)
                legs.append(LegSeed(ext: ext(login), offset: offset, wait: wait, talk: 0, disposition: d.chance(0.8) ? "NO ANSWER" : "BUSY"))
                offset += wait
            }
        } else {
            if d.chance(0.35), let other = team.filter({ $0 != taker }).first {
                let wait = d.int(10...25)
                legs.append(LegSeed(ext: ext(other), offset: 0, wait: wait, talk: 0, disposition: "NO ANSWER"))
                offset = wait
            }
            legs.append(LegSeed(ext: ext(taker), offset: offset, wait: d.int(3...18), talk: d.int(35...540), disposition: "ANSWER"))
        }
        return CallSeed(generalID: callID(), direction: "inbound", remote: Words.pbx(nsn), our: Words.pbx(our), legs: legs)
    }

    private mutating func outboundCall(to nsn: String, by login: String, answered: Bool, _ d: inout Dice) -> CallSeed {
        let leg = answered
            ? LegSeed(ext: ext(login), offset: 0, wait: d.int(4...20), talk: d.int(40...420), disposition: "ANSWER")
            : LegSeed(ext: ext(login), offset: 0, wait: d.int(20...40), talk: 0, disposition: d.chance(0.7) ? "NO ANSWER" : "BUSY")
        return CallSeed(generalID: callID(), direction: "outbound", remote: Words.pbx(nsn), our: Words.pbx(mainNSN), legs: [leg])
    }

    private func item(_ d: inout Dice) -> String {
        let lines = data.products.lines
        return d.pick(lines[d.weighted(lines.map(\.weight))].items)
    }

    private func weekday(_ d: inout Dice) -> String { d.pick(data.texts.weekdays) }

    private func values(first: String, org: String, manager: String, _ d: inout Dice) -> [String: String] {
        ["item": item(&d), "first": first, "org": org, "manager": manager, "day": weekday(&d),
         "n": String(d.int(1000...9999)), "city": d.pick(data.places.cities).name]
    }

    private func fillText(_ t: String, first: String, org: String, manager: String, _ d: inout Dice) -> String {
        Words.fill(t, values(first: first, org: org, manager: manager, &d))
    }

    /// An e-mail's subject and body, filled with the same values.
    private func composeEmail(first: String, org: String, _ d: inout Dice) -> (subject: String, body: String) {
        let e = d.pick(data.texts.emails)
        let v = values(first: first, org: org, manager: "", &d)
        return (Words.fill(e.subject, v), Words.fill(e.body, v))
    }

    private var messageSerial = 0
    private mutating func messageID(_ channel: String, _ d: inout Dice, chat: String? = nil) -> String {
        messageSerial += 1
        switch channel {
        case "email": return "<\(String(d.next() & 0xFFFF_FFFF_FFFF, radix: 16)).\(messageSerial)@mail.example>"
        case "telegram": return "\(chat ?? "0"):\(1000 + messageSerial)"
        case "viber": return String(5_300_000_000_000_000_000 as UInt64 + UInt64(messageSerial) * 7919)
        case "site": return "form-\(20_000 + messageSerial)"
        default: return "m_\(String(d.next() & 0xFFFF_FFFF_FFFF, radix: 16))"
        }
    }

    private var ourMail: String { "sales@\(data.staff.mailDomain)" }

    /// The lead plan of an inbound event from a client's person.
    private func clientLead(_ at: Minute, _ d: inout Dice) -> LeadPlan {
        if at >= recentFrom || d.chance(0.012) { return .keepOpen }
        if d.chance(0.06) {
            return d.chance(0.5) ? .reject(reason: "duplicate", text: "Повторне звернення щодо вже оформленого замовлення")
                : .reject(reason: "other", text: "Уточнення щодо доставки, не нове замовлення")
        }
        return .qualify
    }

    private mutating func makeCompanyEvents(_ d0: inout Dice) {
        let days = workingDays()
        for company in companies {
            var d = d0.fork("company \(company.key)")
            let owner = company.ownerLogin
            let team = managers.filter { $0.department == company.segment }.map(\.login)
            let inboundRate = company.segment == "service" ? company.ordersPerMonth / 21 : 0.4 / 21
            let outboundRate = company.segment == "service" ? 0.4 / 21 : 1.0 / 21
            let lastDevStage = company.segment == "development" && company.devStep == 5
            for day in days {
                if d.chance(inboundRate), let at = workTime(day, &d) {
                    let ck = company.contactKeys[d.weighted(company.contactKeys.indices.map { $0 == 0 ? 3.0 : 1.5 })]
                    let person = contacts[ck]
                    let lead = clientLead(at, &d)
                    let order = company.segment == "service" || (lastDevStage && d.chance(0.5))
                    let roll = d.unit()
                    if roll < 0.24, let email = person.email {
                        let org = company.name
                        let (subject, body) = composeEmail(first: person.name.first, org: org, &d)
                        let id = messageID("email", &d)
                        let attach: (name: String, type: String, size: Int)? = d.chance(0.2)
                            ? ("zamovlennia.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", d.int(9_000...60_000)) : nil
                        add(.contact(ck), at, .message(MessageSeed(externalID: id, channel: "email", direction: "inbound", senderEmail: email,
                                                                   senderName: person.name.display, recipient: ourMail, subject: subject,
                                                                   text: body, threadID: id, attachment: attach)), lead: lead, order: order)
                        if d.chance(0.85) {
                            let replyAt = at + d.int(8...170)
                            if replyAt < nowMinute - 2 {
                                let mgr = manager(owner)?.fullName.split(separator: " ").first.map(String.init) ?? ""
                                let text = fillText(d.pick(data.texts.replies), first: person.name.first, org: org, manager: mgr, &d)
                                add(.contact(ck), replyAt, .message(MessageSeed(externalID: messageID("email", &d), channel: "email",
                                                                                direction: "outbound", senderEmail: ourMail,
                                                                                recipient: email, subject: "Re: \(subject)", text: text,
                                                                                threadID: id, managerLogin: owner)))
                            }
                        }
                    } else if roll < 0.3, person.telegram != nil || person.viber != nil {
                        let channel = person.telegram != nil ? "telegram" : "viber"
                        let uid = person.telegram?.id ?? person.viber ?? ""
                        let text = fillText(d.pick(data.texts.chatTexts), first: person.name.first, org: company.name, manager: "", &d)
                        add(.contact(ck), at, .message(MessageSeed(externalID: messageID(channel, &d, chat: uid), channel: channel,
                                                                   direction: "inbound", senderMessengerID: uid,
                                                                   senderUsername: person.telegram?.handle, senderName: person.name.display,
                                                                   recipient: "ofisdim_bot", text: text, threadID: uid)),
                            lead: lead, order: order)
                        if d.chance(0.85) {
                            let replyAt = at + d.int(3...60)
                            if replyAt < nowMinute - 2 {
                                let mgr = manager(owner)?.fullName.split(separator: " ").first.map(String.init) ?? ""
                                let text = fillText(d.pick(data.texts.replies), first: person.name.first, org: company.name, manager: mgr, &d)
                                add(.contact(ck), replyAt, .message(MessageSeed(externalID: messageID(channel, &d, chat: uid), channel: channel,
                                                                                direction: "outbound", recipient: uid, text: text, threadID: uid,
                                                                                managerLogin: owner)))
                            }
                        }
                    } else if let phone = person.phones.first {
                        let missed = d.chance(0.14)
                        let taker = d.chance(0.8) ? owner : d.pick(team)
                        let our = d.chance(0.3) ? (manager(owner)?.directNSN ?? mainNSN) : mainNSN
                        let callBack = !missed || d.chance(at >= recentFrom ? 0.4 : 0.75)
                        // A missed call nobody returned is sometimes forgotten: it stays overdue in the planners.
                        let fate: LeadPlan = !callBack && d.chance(0.35) ? .keepOpen : lead
                        add(.contact(ck), at, .call(inboundCall(from: phone.nsn, our: our, department: company.segment, taker: taker,
                                                                missed: missed, &d)), lead: fate, order: order)
                        if missed && callBack {
                            let back = at + d.int(4...110)
                            if back < nowMinute - 2 {
                                add(.contact(ck), back, .call(outboundCall(to: phone.nsn, by: owner, answered: d.chance(0.85), &d)))
                            }
                        }
                    }
                }
                if d.chance(outboundRate), let at = workTime(day, &d) {
                    let ck = d.pick(company.contactKeys)
                    if let phone = contacts[ck].phones.first {
                        add(.contact(ck), at, .call(outboundCall(to: phone.nsn, by: owner, answered: d.chance(0.7), &d)))
                    }
                }
            }
        }
    }

    private mutating func makeStrangerEvents(_ d0: inout Dice) {
        let days = workingDays()
        let olderDays = days.filter { $0 * 1440 + 1200 < recentFrom }
        for s in strangers {
            var d = d0.fork("stranger \(s.key)")
            let party = Party.stranger(s.key)
            var at: Minute
            if let original = s.duplicateOf {
                // The twin calls one to three days after the first message.
                let first = events.first { $0.party == .stranger(original) }?.at ?? (olderDays.first ?? 0) * 1440 + 600
                at = first + 1440 * d.int(1...3) + d.int(-120...120)
                if at >= recentFrom { at = first + d.int(60...300) }
            } else if s.key < WorldBuilder.recentStrangers {
                // The newest people came in over the last hours, at fixed distances from
                // now: their leads (1…14) look the same whenever the demo is seeded.
                at = nowMinute - 25 - s.key * 33 - d.int(0...10)
            } else {
                at = workTime(d.pick(olderDays.isEmpty ? [-1] : olderDays), &d) ?? -1440 + 600
            }
            var lead: LeadPlan
            switch s.outcome {
            case .newClient, .joins: lead = .qualify
            case .reject(let reason, let text): lead = .reject(reason: reason, text: text)
            case .open: lead = .keepOpen
            }
            let taker = s.answeredBy
            let org = s.organization
            let answerLater: (inout Dice) -> Bool = { [recent = at >= recentFrom] in $0.chance(recent ? 0.5 : 0.8) }
            switch s.channel {
            case "phone":
                let missed = d.chance(0.25)
                add(party, at, .call(inboundCall(from: s.mobile.nsn, our: mainNSN, department: "development", taker: taker, missed: missed, &d)),
                    lead: lead)
                if missed && answerLater(&d) {
                    let back = at + d.int(6...90)
                    if back < nowMinute - 2 { add(party, back, .call(outboundCall(to: s.mobile.nsn, by: taker, answered: d.chance(0.85), &d))) }
                }
                if d.chance(0.15) {
                    let again = at + d.int(60...300)
                    if again < nowMinute - 2 {
                        add(party, again, .call(inboundCall(from: s.mobile.nsn, our: mainNSN, department: "development", taker: taker,
                                                            missed: d.chance(0.3), &d)))
                    }
                }
            case "site":
                let text = fillText(d.pick(data.texts.siteTexts), first: s.name.first, org: org, manager: "", &d)
                add(party, at, .message(MessageSeed(externalID: messageID("site", &d), channel: "site", direction: "inbound",
                                                    senderEmail: s.email, senderPhone: s.mobile.written, senderName: s.name.display,
                                                    recipient: "\(data.staff.mailDomain)/contacts", subject: "Заявка з сайту",
                                                    text: org.isEmpty ? text : "\(text) Компанія: \(org).")), lead: lead)
                if answerLater(&d) {
                    let back = at + d.int(10...120)
                    if back < nowMinute - 2 { add(party, back, .call(outboundCall(to: s.mobile.nsn, by: taker, answered: d.chance(0.85), &d))) }
                }
            case "email":
                let (subject, body) = composeEmail(first: s.name.first, org: org.isEmpty ? "нашої компанії" : org, &d)
                let id = messageID("email", &d)
                add(party, at, .message(MessageSeed(externalID: id, channel: "email", direction: "inbound", senderEmail: s.email,
                                                    senderName: s.name.display, recipient: ourMail, subject: subject, text: body,
                                                    threadID: id)), lead: lead)
                if answerLater(&d), let email = s.email {
                    let back = at + d.int(10...150)
                    if back < nowMinute - 2 {
                        let mgr = manager(taker)?.fullName.split(separator: " ").first.map(String.init) ?? ""
                        add(party, back, .message(MessageSeed(externalID: messageID("email", &d), channel: "email", direction: "outbound",
                                                              senderEmail: ourMail, recipient: email, subject: "Re: \(subject)",
                                                              text: fillText(d.pick(data.texts.replies), first: s.name.first, org: org,
                                                                             manager: mgr, &d),
                                                              threadID: id, managerLogin: taker)))
                    }
                }
            default:
                let uid = s.messengerID ?? ""
                let texts = s.channel == "facebook" || s.channel == "instagram" ? data.texts.socialTexts : data.texts.newClientChatTexts
                add(party, at, .message(MessageSeed(externalID: messageID(s.channel, &d, chat: uid), channel: s.channel, direction: "inbound",
                                                    senderMessengerID: uid, senderUsername: s.handle, senderName: s.name.display,
                                                    recipient: "ofisdim", text: fillText(d.pick(texts), first: s.name.first, org: org, manager: "", &d),
                                                    threadID: uid)), lead: lead)
                if answerLater(&d) {
                    let back = at + d.int(3...90)
                    if back < nowMinute - 2 {
                        let mgr = manager(taker)?.fullName.split(separator: " ").first.map(String.init) ?? ""
                        add(party, back, .message(MessageSeed(externalID: messageID(s.channel, &d, chat: uid), channel: s.channel,
                                                              direction: "outbound", recipient: uid,
                                                              text: fillText(d.pick(data.texts.replies), first: s.name.first, org: org,
                                                                             manager: mgr, &d),
                                                              threadID: uid, managerLogin: taker)))
                    }
                }
            }
        }
    }

    /// Messages of the last hour nobody has answered yet: their leads are `inquiry`.
    private mutating func makeRecentMessages(_ d0: inout Dice) {
        var d = d0.fork("recent messages")
        // People with nothing else going on lately, so each message opens a lead of its own.
        let busy = Set(events.filter { $0.at >= recentFrom - 1440 }.map(\.party))
        let withEmail = contacts.filter { $0.email != nil && companies[$0.companyKey].segment == "service" && !busy.contains(.contact($0.key)) }
        for (i, p) in d.shuffled(withEmail).prefix(3).enumerated() {
            let at = nowMinute - 6 - i * 14 - d.int(0...5)
            let org = companies[p.companyKey].name
            let (subject, body) = composeEmail(first: p.name.first, org: org, &d)
            let id = messageID("email", &d)
            add(.contact(p.key), at, .message(MessageSeed(externalID: id, channel: "email", direction: "inbound", senderEmail: p.email,
                                                         senderName: p.name.display, recipient: ourMail, subject: subject,
                                                         text: body, threadID: id)), lead: .keepOpen)
        }
    }

    /// Calls of the last hours nobody has returned yet: their leads are overdue.
    private mutating func makeRecentMissedCalls(_ d0: inout Dice) {
        var d = d0.fork("recent missed calls")
        let busy = Set(events.filter { $0.at >= recentFrom - 1440 }.map(\.party))
        let quiet = contacts.filter { companies[$0.companyKey].segment == "service" && !busy.contains(.contact($0.key)) && !$0.phones.isEmpty }
        for (i, p) in d.shuffled(quiet).prefix(3).enumerated() {
            let at = nowMinute - 25 - i * 40 - d.int(0...10)
            let c = companies[p.companyKey]
            add(.contact(p.key), at, .call(inboundCall(from: p.phones[0].nsn, our: mainNSN, department: c.segment, taker: c.ownerLogin,
                                                       missed: true, &d)), lead: .keepOpen)
        }
    }

    // MARK: - Shipments, plans, comments

    /// The amount of one order of a company: a product line's range times the company's size.
    private func orderKopecks(_ c: CompanySeed, _ d: inout Dice) -> Int64 {
        let lines = data.products.lines
        let line = lines[d.weighted(lines.map(\.weight))]
        let uah = (line.amount[0] + d.unit() * (line.amount[1] - line.amount[0])) * c.size
        return Int64(uah.rounded(.down)) * 100 + Int64(d.int(0...99))
    }

    private var meanOrderKopecks: Double {
        let lines = data.products.lines
        let total = lines.map(\.weight).reduce(0, +)
        return lines.map { $0.weight * ($0.amount[0] + $0.amount[1]) / 2 }.reduce(0, +) / total * 100
    }

    private mutating func makeShipments(_ d0: inout Dice) {
        var list: [ShipmentSeed] = []
        for e in events where e.order {
            guard case .contact(let ck) = e.party, case .qualify? = e.lead else { continue }
            var d = d0.fork("order \(e.key)")
            let c = companies[contacts[ck].companyKey]
            let at = (Int((Double(e.at) / 1440).rounded(.down)) + d.int(1...3)) * 1440 + d.int(600...1000)
            guard at < nowMinute - 60 else { continue }
            let cp = c.counterparties.count > 1 && d.chance(0.2) ? d.int(1...(c.counterparties.count - 1)) : 0
            list.append(ShipmentSeed(companyKey: c.key, counterparty: cp, contactKey: d.chance(0.7) ? ck : nil, at: at,
                                     kopecks: orderKopecks(c, &d), document: ""))
        }
        // Prospects buy too: the first orders of those at the last Development stage, a
        // trial order of some in negotiation (the Development managers' fact).
        for c in companies where c.segment == "development" && c.devStep >= 4 {
            var d = d0.fork("first order \(c.key)")
            let orders = c.devStep == 5 ? d.int(2...3) : (d.chance(0.4) ? 1 : 0)
            for _ in 0..<orders {
                let at = -d.int(2...(c.devStep == 5 ? 60 : 30)) * 1440 + d.int(600...1000)
                list.append(ShipmentSeed(companyKey: c.key, counterparty: 0, contactKey: c.contactKeys.first, at: at,
                                         kopecks: orderKopecks(c, &d), document: ""))
            }
        }
        // Refunds: part of a delivery comes back a few days later.
        var refunds: [ShipmentSeed] = []
        var rd = d0.fork("refunds")
        for s in list where rd.chance(0.03) {
            let at = s.at + rd.int(1...6) * 1440
            guard at < nowMinute - 60 else { continue }
            let part = Int64(Double(s.kopecks) * (0.1 + rd.unit() * 0.5))
            refunds.append(ShipmentSeed(companyKey: s.companyKey, counterparty: s.counterparty, contactKey: s.contactKey, at: at, kopecks: -part,
                                        document: ""))
        }
        var all = (list + refunds).enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }.map(\.element)
        var n = 1200, r = 40
        for i in all.indices {
            if all[i].kopecks < 0 {
                r += 1
                all[i].document = "ПН-\(String(format: "%06d", r))"
            } else {
                n += 1
                all[i].document = "РН-\(String(format: "%06d", n))"
            }
        }
        shipments = all
    }

    private func roundTo(_ kopecks: Double, _ stepUAH: Double) -> Int64 {
        let step = stepUAH * 100
        return Int64(max(step, (kopecks / step).rounded() * step))
    }

    private func makePlans(_ d: inout Dice) -> [PlanSeed] {
        var plans: [PlanSeed] = []
        let months = Array(-WorldBuilder.historyMonths...0)
        var byManager: [String: [Int: Double]] = [:]
        for c in companies where c.segment == "service" {
            let expected = c.ordersPerMonth * meanOrderKopecks * c.size
            for m in months {
                let plan = roundTo(expected * (0.85 + d.unit() * 0.35), 500)
                let potential = roundTo(Double(plan) * (1.3 + d.unit() * 0.9), 1000)
                plans.append(PlanSeed(monthOffset: m, managerLogin: nil, companyKey: c.key, planKopecks: plan, potentialKopecks: potential))
                byManager[c.ownerLogin, default: [:]][m, default: 0] += Double(plan)
            }
        }
        for c in companies where c.segment == "development" && c.devStep >= 3 {
            let potential = roundTo(meanOrderKopecks * c.size * (1.5 + d.unit() * 2), 1000)
            plans.append(PlanSeed(monthOffset: 0, managerLogin: nil, companyKey: c.key, planKopecks: c.devStep == 5 ? potential / 2 : 0,
                                  potentialKopecks: potential))
        }
        for m in managers {
            for month in months + [1] {
                let base: Double
                if m.department == "service" {
                    base = (byManager[m.login]?[min(month, 0)] ?? 0) * (1.0 + d.unit() * 0.12)
                } else {
                    base = (60_000 + d.unit() * 60_000) * 100
                }
                plans.append(PlanSeed(monthOffset: month, managerLogin: m.login, companyKey: nil, planKopecks: roundTo(base, 5000),
                                      potentialKopecks: roundTo(base * (1.6 + d.unit() * 0.6), 10_000)))
            }
        }
        return plans
    }

    private func makeComments(_ d: inout Dice) -> [CommentSeed] {
        var list: [CommentSeed] = []
        for c in contacts where d.chance(0.62) {
            let company = companies[c.companyKey]
            let mgr = manager(c.ownerLogin)?.fullName.split(separator: " ").first.map(String.init) ?? ""
            for _ in 0..<(d.chance(0.25) ? 2 : 1) {
                list.append(CommentSeed(contactKey: c.key, companyKey: nil, authorLogin: c.ownerLogin,
                                        body: fillText(d.pick(data.texts.comments), first: c.name.first, org: company.name, manager: mgr, &d)))
            }
        }
        for c in companies where d.chance(0.22) {
            let needs = data.companies.industries[c.industry].needs
            list.append(CommentSeed(contactKey: nil, companyKey: c.key, authorLogin: c.ownerLogin,
                                    body: "Основні потреби: \(d.pick(needs)), \(d.pick(needs)). \(data.companies.industries[c.industry].label.capitalizedFirst)."))
        }
        return list
    }

    private func makeManualLeads(_ d: inout Dice) -> [ManualLeadSeed] {
        var list: [ManualLeadSeed] = []
        for _ in 0..<12 {
            let c = d.pick(contacts)
            let summary = fillText(d.pick(data.texts.callSummaries), first: c.name.first, org: companies[c.companyKey].name, manager: "", &d)
            list.append(ManualLeadSeed(contactKey: c.key, ownerLogin: c.ownerLogin, template: d.int(0...1), summary: summary))
        }
        return list
    }
}

extension WorldBuilder {
    /// Follow-ups for the managers: some overdue, most in the coming days; reminders on
    /// cards for the next days.
    func makeTasksAndReminders(_ d: inout Dice) -> ([TaskSeed], [ReminderSeed]) {
        let titles = ["Передзвонити щодо {item}", "Надіслати рахунок: {item}", "Погодити доставку на {day}", "Надіслати КП: {item}",
                      "Звірити взаєморозрахунки", "Уточнити потребу в меблях для нового офісу"]
        let notes = ["Нагадати про повторне замовлення", "Запитати, чи підійшли сумісні картриджі", "Привітати з відкриттям нового офісу",
                     "Уточнити бюджет на наступний квартал"]
        var tasks: [TaskSeed] = []
        var reminders: [ReminderSeed] = []
        for _ in 0..<60 {
            let c = d.pick(contacts)
            let due = d.chance(0.25) ? calendar.nowMinute - d.int(60...4 * 1440) : calendar.nowMinute + d.int(30...6 * 1440)
            tasks.append(TaskSeed(title: fillText(d.pick(titles), first: c.name.first, org: companies[c.companyKey].name, manager: "", &d),
                                  contactKey: c.key, assigneeLogin: c.ownerLogin, due: due,
                                  source: ["phone", "email", "site", "telegram"][d.weighted([60, 25, 10, 5])]))
        }
        for _ in 0..<30 {
            let c = d.pick(contacts)
            reminders.append(ReminderSeed(contactKey: c.key, forLogin: c.ownerLogin, at: calendar.nowMinute + d.int(20...5 * 1440),
                                          text: d.pick(notes), channels: d.chance(0.5) ? ["chronicle"] : ["chronicle", "app"]))
        }
        return (tasks, reminders)
    }
}

extension String {
    /// The text with its first letter in upper case.
    var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
}
