import Foundation
import KontorProtocol
import KontorShell
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif

@Suite("Tables and key/value output")
struct TableTests {
    let renderer = ResultRenderer(width: 80)

    @Test("a list of records: columns in a sensible order, aligned with Cyrillic text, numbers on the right")
    func cyrillicAlignment() {
        let result: JSONValue = ["users": [
            ["id": 1, "login": "olena", "full_name": "Олена Коваленко", "role": "user", "version": 3, "department": nil],
            ["id": 12, "login": "taras", "full_name": "Тарас Шевчук-Петренко", "role": "admin", "version": 1, "department": nil],
        ]]
        #expect(renderer.render(result) == """
        id  login  full_name              role   version
        ──  ─────  ─────────────────────  ─────  ───────
         1  olena  Олена Коваленко        user         3
        12  taras  Тарас Шевчук-Петренко  admin        1
        (2 users)
        """)
    }

    @Test("every line fits the width: long cells end in …, the least important columns are hidden")
    func narrow() throws {
        let long = String(repeating: "довгий текст ", count: 10)
        let rows: [JSONValue] = (1...3).map { i in
            ["id": .number(String(i)), "full_name": .string("Контакт \(i)"), "notes": .string(long), "phones": ["+380441234567", "+380501112233"],
             "created_at": "2026-11-29T09:05:00.123+02:00", "updated_at": "2026-11-29T10:00:00+02:00", "version": 1, "owner_id": 7]
        }
        let text = ResultRenderer(width: 60).render(["contacts": .array(rows)])
        let lines = text.split(separator: "\n").map(String.init)
        for line in lines.dropLast() { #expect(TerminalText.width(line) <= 60, "\(line)") }
        #expect(lines[0].hasPrefix("id  full_name  phones"))
        #expect(text.contains("…"))
        #expect(lines.last?.hasPrefix("(3 contacts) not shown: version, updated_at, created_at") == true)
    }

    @Test("one record: key/value lines, nested records flattened, lists of records as tables")
    func keyValues() {
        let card: JSONValue = [
            "id": 5, "full_name": "Іван", "active": true, "email": nil,
            "owner": ["id": 2, "full_name": "Олена"],
            "tags": ["vip", "опт"],
            "comments": [["id": 1, "body": "Передзвонити", "created_at": "2026-11-29T09:05:00+02:00"]],
        ]
        let text = renderer.render(card)
        #expect(text == """
        id               5
        full_name        Іван
        email            —
        owner.id         2
        owner.full_name  Олена
        active           yes
        tags             vip, опт

        comments:
          id  body          created_at
          ──  ────────────  ────────────────
           1  Передзвонити  2026-11-29 09:05
          (1 comment)
        """)
        // One level down (a planner's sections) lists are tables too, named by their
        // section; deeper ones stay a summary.
        let planner: JSONValue = [
            "as_of": "2026-11-30T04:27:40+02:00",
            "missed_calls": ["count": 1, "more": false,
                             "items": [["id": 3, "contact_name": "Ольга Лисенко", "started_at": "2026-11-30T03:10:00+02:00"]]],
            "deep": ["a": ["b": [["id": 1, "title": "x"]]]],
        ]
        #expect(renderer.render(planner) == """
        as_of               2026-11-30T04:27:40+02:00
        deep.a.b            x
        missed_calls.count  1
        missed_calls.more   no

        missed_calls.items:
          id  contact_name   started_at
          ──  ─────────────  ────────────────
           3  Ольга Лисенко  2026-11-30 03:10
          (1 missed call)
        """)
        #expect(renderer.render(["ok": true]) == "ok")
        #expect(renderer.render(["users": []]) == "(no users)")
    }

    @Test("control characters from the server never reach the terminal")
    func sanitised() {
        let text = renderer.render(["users": [["id": 1, "full_name": "evil\u{1B}[2J\u{07}name\nnext"]]])
        #expect(!text.contains("\u{1B}"))
        #expect(!text.contains("\u{07}"))
        #expect(text.contains("evil�[2J�name⏎next"))
    }

    @Test("terminal widths: Cyrillic one cell, CJK and emoji two, combining marks none")
    func widths() {
        #expect(TerminalText.width("Олена") == 5)
        #expect(TerminalText.width("表格") == 4)
        #expect(TerminalText.width("й") == 1)
        #expect(TerminalText.width("e\u{301}") == 1)
        #expect(TerminalText.width("👍") == 2)
        #expect(TerminalText.truncate("Олена Коваленко", to: 8) == "Олена К…")
        #expect(TerminalText.pad("表", to: 4) == "表  ")
        #expect(TerminalText.stripANSI("\u{1B}[1mbold\u{1B}[0m") == "bold")
    }

    @Test("the client's folder: XDG_CONFIG_HOME, else $HOME/.config (also for root, whom Foundation gives the passwd home)")
    func configFolder() {
        #expect(ConfigFiles.directory(environment: ["HOME": "/tmp/h", "XDG_CONFIG_HOME": "/tmp/x"]).path == "/tmp/x/kontor")
        #expect(ConfigFiles.directory(environment: ["HOME": "/tmp/h"]).path == "/tmp/h/.config/kontor")
        #expect(ConfigFiles.directory(environment: ["HOME": "/tmp/h", "XDG_CONFIG_HOME": ""]).path == "/tmp/h/.config/kontor")
        #expect(ConfigFiles.directory(environment: [:]).path.hasSuffix("/.config/kontor"))
    }

    @Test("server pushes as one line")
    func pushes() {
        let line = PushText.line(method: "reminder.due", params: ["text": "Передзвонити щодо тонера", "contact_id": 12, "due_at": "2026-11-29T10:00:00+02:00"], width: 100)
        #expect(line == "» reminder.due: Передзвонити щодо тонера (due_at=\"2026-11-29 10:00\" contact_id=12)")
        #expect(PushText.line(method: "lead.assigned", params: ["lead_id": 7], width: 100) == "» lead.assigned: lead_id=7")
    }
}

@Suite("Charts in the terminal and as SVG")
struct ChartTests {
    static let planFactResult: JSONValue = ["period": "2026-11", "rows": [
        ["manager_name": "Олена Коваленко", "plan": "12000.00", "fact": "9000.50", "potential": "20000.00", "difference": "-2999.50"],
        ["name": "Тарас", "plan": "0.00", "fact": "1500.00"],
        ["manager": ["id": 3, "full_name": "Ірина"], "plan": "4000", "fact": "-500.00"],
        ["name": "Разом", "plan": "16000.00", "fact": "10000.50", "total": true],
    ]]

    @Test("plan/fact adapter: names under several keys, decimal strings, zero plan, totals left out")
    func planFactAdapter() throws {
        let chart = try #require(ReportCharts.chart(method: "report.plan_fact", params: ["period": "2026-11", "by": "manager"], result: Self.planFactResult))
        #expect(chart.title == "Plan vs fact, 2026-11, by manager")
        #expect(chart.labels == ["Олена Коваленко", "Тарас", "Ірина"])
        #expect(chart.series.map(\.name) == ["plan", "fact"])
        #expect(chart.series[0].values == [Decimal(12000), Decimal(0), Decimal(4000)])
        #expect(chart.series[1].values == [Decimal(string: "9000.5"), Decimal(1500), Decimal(-500)])
        #expect(chart.notes == ["75%", "no plan", "-13%"])
        #expect(ReportCharts.chart(method: "report.plan_fact", params: [:], result: ["rows": [["name": "x"]]]) == nil)
        #expect(ReportCharts.chart(method: "user.list", params: [:], result: Self.planFactResult) == nil)
        // A plain list of rows works too.
        #expect(ReportCharts.planFact([["company_name": "ТОВ Ромашка", "plan": 100, "fact": "50"]])?.labels == ["ТОВ Ромашка"])
        // By company, rows name the company and its owner: the company is the label; rows
        // of several months say which month.
        let byCompany: JSONValue = ["by": "company", "rows": [
            ["period": "2026-10", "manager_name": "Оксана", "company_name": "Вектор-Мед", "plan": "100.00", "fact": "90.00"],
            ["period": "2026-11", "manager_name": "Оксана", "company_name": "Вектор-Мед", "plan": "100.00", "fact": "120.00"],
        ]]
        #expect(ReportCharts.chart(method: "report.plan_fact", params: [:], result: byCompany)?.labels == ["Вектор-Мед 2026-10", "Вектор-Мед 2026-11"])
    }

    @Test("the funnel is drawn from a result's stages, not its per-manager rows")
    func funnelStages() throws {
        let result: JSONValue = ["stages": [["code": "new", "name": "New company", "companies": 5], ["code": "contacted", "name": "Contacted", "companies": 3]],
                                 "rows": [["stage": "new", "manager_name": "Олена", "companies": 2], ["stage": "new", "manager_name": "Тарас", "companies": 3]]]
        let chart = try #require(ReportCharts.chart(method: "report.funnel", params: ["funnel": "development"], result: result))
        #expect(chart.labels == ["New company", "Contacted"])
        #expect(chart.series[0].values == [Decimal(5), Decimal(3)])
    }

    @Test("numbers: exact decimals, grouped thousands")
    func formatting() throws {
        #expect(BarChart.format(try #require(Decimal(string: "12500.5")), fractionDigits: 2) == "12 500.50")
        #expect(BarChart.format(Decimal(-1234567), fractionDigits: 0) == "-1 234 567")
        #expect(BarChart.format(try #require(Decimal(string: "-0.001")), fractionDigits: 2) == "0.00")
        #expect(BarChart.decimal("0.10") == Decimal(string: "0.1"))
        #expect(BarChart.decimal("12abc") == nil)
        #expect(BarChart.decimal(.number("1e3")) == Decimal(1000))
    }

    @Test("terminal bars: eighths for positive values, halves left of the axis for negative, values and notes")
    func terminal() throws {
        let chart = try #require(ReportCharts.planFact(Self.planFactResult, params: ["period": "2026-11"]))
        let text = TerminalChartRenderer(width: 80).render(chart)
        #expect(text == TerminalChartRendererExpected.planFact)
        for line in text.split(separator: "\n") { #expect(TerminalText.width(String(line)) <= 80) }
    }

    @Test("terminal bars: all positive, one series (the funnel)")
    func funnel() throws {
        let result: JSONValue = ["funnel": "service", "stages": [
            ["stage": "deal_planned", "count": 8], ["stage": "deal_partially_completed", "count": 3], ["stage": "deal_completed", "count": 1],
        ]]
        let chart = try #require(ReportCharts.chart(method: "report.funnel", params: [:], result: result))
        #expect(chart.title == "Funnel: service")
        #expect(TerminalChartRenderer(width: 60).render(chart) == TerminalChartRendererExpected.funnel)
    }

    @Test("eighths of a cell")
    func eighths() {
        let chart = BarChart(title: "t", labels: ["a", "b", "c", "d"],
                             series: [.init(name: "v", values: [Decimal(80), Decimal(1), Decimal(0), Decimal(string: "0.01")])])
        let lines = TerminalChartRenderer(width: 16).render(chart).split(separator: "\n").map(String.init)
        // 10 cells of bar: 80 → 10 full cells, 1 → one eighth, 0 → nothing, a sliver still shows.
        #expect(lines[1] == "a │██████████ 80")
        #expect(lines[2] == "b │▏           1")
        #expect(lines[3] == "c │            0")
        #expect(lines[4] == "d │▏           0")
    }

    @Test("SVG: a standalone, well-formed document with the text escaped")
    func svg() throws {
        var chart = try #require(ReportCharts.planFact(Self.planFactResult, params: ["period": "2026-11"]))
        chart.labels[0] = "A & B <Co> \"quoted\" 'x'\u{1}"
        let svg = SVGChartRenderer().render(chart)
        #expect(svg.hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(svg.contains("A &amp; B &lt;Co&gt; &quot;quoted&quot; &apos;x&apos;</text>"))
        #expect(!svg.contains("\u{1}"))
        #expect(svg.contains(">12 000.00</text>"))
        #expect(svg.contains(">no plan</text>"))
        #expect(svg.contains("fill=\"#c0392b\""))  // the negative fact
        #expect(svg == SVGChartRenderer().render(chart))  // deterministic
        let parser = XMLParser(data: Data(svg.utf8))
        #expect(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "")")
    }
}

/// Expected drawings, kept apart so the tests read.
enum TerminalChartRendererExpected {
    // The negative fact of Ірина takes the two cells left of the axis; Тарас has no plan.
    static let planFact = """
    Plan vs fact, 2026-11
    █ plan   █ fact
    Олена Коваленко plan   │█████████████████████████████████████ 12 000.00
                    fact   │███████████████████████████▊           9 000.50  75%

    Тарас           plan   │                                           0.00
                    fact   │████▋                                  1 500.00  no plan

    Ірина           plan   │████████████▍                          4 000.00
                    fact ██│                                        -500.00  -13%
    """

    static let funnel = """
    Funnel: service
    deal planned             │████████████████████████████████ 8
    deal partially completed │████████████                     3
    deal completed           │████                             1
    """
}
