import KontorDomain
import KontorProtocol
import KontorShell
import Testing

/// Methods like those the other families are adding, to test the syntax against.
let fixtureCatalogue: [MethodInfo] = SessionMethods.catalogue + [
    MethodInfo("contact.find", "Find contacts.", params: ["query: string", "limit: int?"]),
    MethodInfo("contact.create", "Create a contact.",
               params: ["full_name: string?", "group: lead|contact|client?", "phones: [phone]?", "messengers: [messenger]?", "owner_id: int?"]),
    MethodInfo("contact.list", "Contacts.", params: ["source: string|[string]?", "group: string|[string]?", "unowned: bool?", "limit: int?"]),
    MethodInfo("lead.reject", "Reject a lead.", params: ["id: int", "reason: wrong_department|spam|duplicate|other", "text: string?"],
               positional: ["id", "reason", "text"]),
    MethodInfo("report.plan_fact", "Plan vs fact.", params: ["period: period", "by: manager|company?", "company_id: int?"]),
    MethodInfo("plan.set", "Set a plan.", params: ["user_id: int", "period: period", "amount: money"]),
    MethodInfo("task.tag", "Tag tasks.", params: ["ids: [int]", "score: number?"]),
]

let syntax = HumanSyntax(catalogue: fixtureCatalogue)

func parsed(_ line: String) throws -> MethodCall { try syntax.parse(line: line) }

func failure(_ line: String) -> ShellError? {
    do {
        _ = try syntax.parse(line: line)
        return nil
    } catch let e as ShellError {
        return e
    } catch {
        return ShellError("other", "\(error)")
    }
}

@Suite("Human command syntax")
struct HumanSyntaxTests {
    @Test("the issue's three examples")
    func issueExamples() throws {
        let find = try parsed("contact find 044 123 45 67")
        #expect(find.method == "contact.find")
        #expect(find.params == ["query": "044 123 45 67"])

        let reject = try parsed(#"lead reject 42 reason=wrong_department "looking for accounting""#)
        #expect(reject.method == "lead.reject")
        #expect(reject.params == ["id": 42, "reason": "wrong_department", "text": "looking for accounting"])

        let report = try parsed("report plan-fact 2026-11 by=manager")
        #expect(report.method == "report.plan_fact")
        #expect(report.params == ["period": "2026-11", "by": "manager"])
    }

    @Test("method names: noun verb, dashes, dotted, three words, case")
    func methodNames() throws {
        #expect(try parsed("report.plan_fact 2026-11").method == "report.plan_fact")
        #expect(try parsed("REPORT Plan-Fact 2026-11").method == "report.plan_fact")
        #expect(try parsed("auth change-password current_password=a new_password=b").method == "auth.change_password")
        let token = try parsed("robot token create user_id=5 label=binotel")
        #expect(token.method == "robot.token.create")
        #expect(token.params == ["user_id": 5, "label": "binotel"])
        #expect(try parsed("robot.token.list").params == [:])
        #expect(try parsed("ping").method == "ping")
    }

    @Test("positional words: in order, named ones skipped, the last takes the rest")
    func positional() throws {
        #expect(try parsed("lead reject 42 wrong-department looking for accounting").params
                == ["id": 42, "reason": "wrong_department", "text": "looking for accounting"])
        #expect(try parsed("lead reject 42 spam").params == ["id": 42, "reason": "spam"])
        #expect(try parsed("user get 7").params == ["id": 7])
        #expect(try parsed("user update 2 version=3 active=no").params == ["id": 2, "version": 3, "active": false])
        #expect(try parsed("contact find limit=5 Олена").params == ["query": "Олена", "limit": 5])
        // A list param at the end takes each word.
        #expect(try parsed("task tag 1 2,3 4").params == ["ids": [1, 2, 3, 4]])
    }

    @Test("values typed by the catalogue")
    func typing() throws {
        #expect(try parsed(#"plan set user_id=2 period=2026-11 amount="12 500,5""#).params
                == ["user_id": 2, "period": "2026-11", "amount": "12500.50"])
        #expect(try parsed("plan set 2 2026-11 -20").params["amount"] == "-20.00")
        #expect(try parsed("user list active=yes").params == ["active": true])
        #expect(try parsed("user list active=0").params == ["active": false])
        #expect(try parsed("contact list source=site,phone unowned=on").params == ["source": ["site", "phone"], "unowned": true])
        #expect(try parsed("contact list source=site").params == ["source": "site"])
        #expect(try parsed(#"contact create full_name="Іван Петренко" phones="044 123 45 67, 050 111 22 33" group=CLIENT"#).params
                == ["full_name": "Іван Петренко", "phones": ["044 123 45 67", "050 111 22 33"], "group": "client"])
        #expect(try parsed("task tag ids=1,2 score=2,5").params == ["ids": [1, 2], "score": .number("2.5")])
        // An integer beyond 2^53 stays exact.
        #expect(try parsed("user get 9007199254740993").params == ["id": .number("9007199254740993")])
    }

    @Test("key:=json literals and a JSON object of params")
    func json() throws {
        let c = try parsed(#"contact create phones:=["044 123 45 67", "050 111"] messengers:={"kind": "telegram", "id": "@ivan"} owner_id:=null"#)
        #expect(c.params == ["phones": ["044 123 45 67", "050 111"], "messengers": ["kind": "telegram", "id": "@ivan"], "owner_id": nil])
        #expect(try parsed(#"contact create phones:='["a b"]'"#).params == ["phones": ["a b"]])
        #expect(try parsed(#"contact create {"full_name": "Ivan {Jr}"}"#).params == ["full_name": "Ivan {Jr}"])
        #expect(try parsed(#"contact.create {"full_name":"Ivan"} --json"#).options.json)
        // With `=` the quotes are the line's, not JSON's: `:=` is the way to write JSON.
        #expect(failure(#"contact create messengers={"kind":"viber"}"#)?.kind == "invalid_params")
    }

    @Test("quoting")
    func quoting() throws {
        #expect(try parsed(#"contact find "a \"b\" c""#).params == ["query": #"a "b" c"#])
        #expect(try parsed("contact find 'two  spaces'").params == ["query": "two  spaces"])
        #expect(try parsed(#"contact find "a=b""#).params == ["query": "a=b"])
        #expect(try parsed(#"contact find O\'Brien"#).params == ["query": "O'Brien"])
        #expect(try parsed(#"contact find "--json""#).options.json == false)
        #expect(try parsed(#"lead reject 1 other text="""#).params == ["id": 1, "reason": "other", "text": ""])
        #expect(try parsed("contact find http://x.ua/?a=b").params == ["query": "http://x.ua/?a=b"])
    }

    @Test("options: --json and --svg")
    func options() throws {
        #expect(try parsed("user list --json").options == OutputOptions(json: true))
        #expect(try parsed("report plan-fact 2026-11 --svg out.svg by=manager").options.svg == "out.svg")
        #expect(try parsed("report plan-fact 2026-11 --svg=out.svg").params == ["period": "2026-11"])
        #expect(failure("user list --bogus")?.kind == "usage")
        #expect(failure("report plan-fact 2026-11 --svg")?.kind == "usage")
    }

    @Test("clear errors for unknown methods, verbs, fields and bad values")
    func errors() {
        #expect(failure("contcat find x") == ShellError("method_not_found", "no command contcat; did you mean contact?"))
        let verb = failure("contact fnd x")
        #expect(verb?.kind == "method_not_found")
        #expect(verb?.message.contains("did you mean contact find?") == true)
        #expect(verb?.message.contains("verbs: find, create, list") == true)
        #expect(failure("no.such_method")?.kind == "method_not_found")
        #expect(failure("zzzz")?.message.contains("help") == true)

        let field = failure("user list departmen=service")
        #expect(field?.kind == "invalid_params")
        #expect(field?.message.contains("user.list has no field departmen; did you mean department?") == true)
        #expect(failure(#"contact create {"nope": 1}"#)?.message.contains("no field nope") == true)

        #expect(failure("user get abc") == ShellError("invalid_params", #"id: expected a whole number, got "abc""#))
        #expect(failure("user get 1 2")?.kind == "invalid_params")
        #expect(failure("user get")?.message == "user.get needs id; usage: user get ID")
        #expect(failure("lead reject 4 reason=maybe")?.message == "reason: expected one of wrong_department, spam, duplicate, other, got \"maybe\"")
        #expect(failure("plan set 2 2026-11 12.345")?.message.contains("expected an amount like 1500.50") == true)
        #expect(failure("user list active=perhaps")?.message.contains("expected yes or no") == true)
        #expect(failure("user list role=user role=admin")?.message == "role is given twice")
        #expect(failure("user list admins")?.kind == "usage")
        #expect(failure("contact create owner_id:=[1")?.kind == "usage")
        #expect(failure(#"contact find "open"#)?.kind == "usage")
        #expect(failure("contact create owner_id:={bad}")?.kind == "invalid_params")
        #expect(failure("")?.kind == "usage")
    }

    @Test("program arguments go through the same rules, quotes already taken off")
    func arguments() throws {
        let a = try syntax.parse(arguments: ["lead", "reject", "42", "reason=wrong_department", "looking for accounting"])
        #expect(a == (try parsed(#"lead reject 42 reason=wrong_department "looking for accounting""#)))
        #expect(try syntax.parse(arguments: ["contact", "find", "044", "123", "45", "67"]).params == ["query": "044 123 45 67"])
        #expect(try syntax.parse(arguments: ["contact", "create", "full_name=Ivan Petrenko"]).params == ["full_name": "Ivan Petrenko"])
        #expect(try syntax.parse(arguments: ["contact", "create", "phones:=[\"044 1\"]"]).params == ["phones": ["044 1"]])
        #expect(try syntax.parse(arguments: ["contact", "create", #"{"full_name":"Ivan"}"#, "--json"])
                == MethodCall(method: "contact.create", params: ["full_name": "Ivan"], options: OutputOptions(json: true)))
        #expect(try syntax.parse(arguments: ["user", "list", "--json"]).options.json)
    }

    @Test("catalogue types are read from the param lines")
    func paramTypes() {
        #expect(ParamSpec(catalogueLine: "group: lead|contact|client?") == ParamSpec(name: "group", type: .choice(["lead", "contact", "client"]), optional: true))
        #expect(ParamSpec(catalogueLine: "id: int").type == .int)
        #expect(ParamSpec(catalogueLine: "id: int").optional == false)
        #expect(ParamSpec(catalogueLine: "source: string|[string]?").type == .union([.string(hint: "string"), .list(.string(hint: "string"))]))
        #expect(ParamSpec(catalogueLine: "phones: [phone]?").type == .list(.string(hint: "phone")))
        #expect(ParamSpec(catalogueLine: "messenger: messenger?").type == .json(hint: "messenger"))
        #expect(ParamSpec(catalogueLine: "amount: money").type == .money)
        #expect(ParamSpec(catalogueLine: "role: user|admin|tech_admin|robot").type.choices == ["user", "admin", "tech_admin", "robot"])
        #expect(ParamSpec(catalogueLine: "extra").optional)
    }

    @Test("positional params: the default rule and explicit hints; the old initializer still works")
    func positionalRule() {
        let m = MethodInfo("x.y", "An entry written the old way.", params: ["name: string", "id: int", "version: int", "note: string?"])
        #expect(m.positional == nil)
        #expect(m.requiredParamNames == ["name", "id", "version"])
        #expect(m.positionalParams == ["id", "name"])
        #expect(MethodInfo("x.z", "No params.").positionalParams == [])
        #expect(syntax.byName["lead.reject"]?.positionalParams == ["id", "reason", "text"])
        #expect(syntax.byName["lead.reject"]?.usage == "lead reject ID REASON [TEXT…]")
        #expect(syntax.byName["user.get"]?.usage == "user get ID")
    }

    @Test("every method of the real catalogue parses from its own usage words")
    func realCatalogue() throws {
        let real = HumanSyntax()
        for m in MethodCatalogue.all {
            let (info, used) = try #require(real.resolve(m.humanName.split(separator: " ").map(String.init)))
            #expect(info.name == m.name)
            #expect(used == m.name.split(separator: ".").count)
        }
    }
}

@Suite("Tab completion from the catalogue")
struct CompleterTests {
    let completer = Completer(syntax: syntax)

    @Test("families, verbs, fields and choices")
    func completes() {
        let us = completer.complete("us")
        #expect(us.candidates == ["user"])
        #expect(us.insertion == "er ")
        #expect(completer.complete("user ").candidates == ["create", "get", "list", "set-password", "update"])
        #expect(completer.complete("user g").insertion == "et ")
        #expect(completer.complete("user list dep").insertion == "artment=")
        #expect(completer.complete("user create role=a").candidates == ["role=admin"])
        #expect(completer.complete("user list active=").candidates == ["active=no", "active=yes"])
        #expect(completer.complete("robot ").candidates == ["token"])
        #expect(completer.complete("robot token ").candidates == ["create", "list", "revoke"])
        #expect(completer.complete("auth change").insertion == "-password ")
        #expect(completer.complete("report pl").insertion == "an-fact ")
        #expect(completer.complete("user.g").candidates == ["user.get"])
        #expect(completer.complete("help us").candidates == ["user"])
        #expect(completer.complete("lo").candidates == ["login", "logout"])
        #expect(completer.complete("lo").insertion == "g")
        #expect(completer.complete("lead reject 4 reason=w").candidates == ["reason=wrong_department"])
        #expect(completer.complete("user list role=user ro").candidates == [])
        #expect(completer.complete("contact find \"open q").candidates == [])
        #expect(completer.complete("zz").candidates == [])
    }
}
