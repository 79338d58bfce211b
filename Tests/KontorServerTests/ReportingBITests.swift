import Foundation
import KontorClient
import KontorDomain
import KontorProtocol
import KontorServer
import KontorTestSupport
import Postgres
import Testing

/// Runs a program, returns its exit status, stdout and stderr (small outputs).
private func run(_ argv: [String], environment: [String: String]? = nil) throws -> (status: Int32, out: String, err: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = argv
    if let environment { p.environment = environment }
    let out = Pipe()
    let err = Pipe()
    p.standardOutput = out
    p.standardError = err
    p.standardInput = FileHandle.nullDevice
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

/// The reporting views of issue 6.
private let planfactViews = ["plan_fact_by_manager_v1", "plan_fact_by_company_v1", "funnel_v1", "funnel_stages_v1", "funnel_companies_v1"]

/// A libpq conninfo for the test cluster as `user` (later keywords override earlier ones).
private func conninfo(_ db: TestDatabase, user: String) -> String {
    "\(TestEnvironment.clusterConninfo) dbname=\(db.name) user=\(user)"
}

/// Gives `kontor_bi` LOGIN for `body` and takes it back afterwards. Roles are cluster-wide:
/// the suite is serialized so no other test sees the role with LOGIN.
private func withBILogin(_ body: () async throws -> Void) async throws {
    let admin = TestEnvironment.conninfo(database: "postgres")
    try await TestDatabase.blocking {
        let c = try PostgresConnection(conninfo: admin)
        defer { c.close() }
        try c.execute(script: "ALTER ROLE kontor_bi LOGIN")
    }
    var failure: Error?
    do { try await body() } catch { failure = error }
    try await TestDatabase.blocking {
        let c = try PostgresConnection(conninfo: admin)
        defer { c.close() }
        try c.execute(script: "ALTER ROLE kontor_bi NOLOGIN")
    }
    if let failure { throw failure }
}

/// A world with data in every view. Its database is migrated once more, as every start of
/// kontord does (test databases are clones of a template, and database-level privileges
/// do not travel with a clone).
private func seeded(_ body: (PlanFactWorld) async throws -> Void) async throws {
    try await withPlanFactWorld(at: "2026-11-10T12:00:00+02:00") { w in
        try await w.server.server.migrate()
        let a = try await w.company("Alpha", owner: w.devUser)
        for name in ["Іван", "Петро", "Марія"] {
            _ = try await w.dev.call("contact.create", ["full_name": .string(name), "company_id": num(a)])
        }
        _ = try await w.admin.call("plan.set", ["period": "2026-11", "company_id": num(a), "plan": "1000.00"])
        _ = try await w.admin.call("plan.set", ["period": "2026-11", "manager_id": num(w.devUser.id), "plan": "4000.00"])
        try await w.ship(a, "1234.56", at: "2026-11-02T10:00:00+02:00")
        _ = try await w.dev.call("company.set_stage", ["id": num(a), "stage": "contacted"])
        try await body(w)
    }
}

@Suite("BI access: kontor_bi reads the reporting views and nothing else", .serialized)
struct ReportingBITests {
    @Test("through psql: every view reads; base tables, writes, temporary tables, our functions and pg_read_file fail")
    func psql() async throws {
        try await seeded { w in
            let db = w.server.database
            let bi = conninfo(db, user: "kontor_bi")
            func psql(_ sql: String) throws -> (status: Int32, out: String, err: String) {
                try run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", bi, "-c", sql])
            }
            // NOLOGIN by default.
            let refused = try psql("SELECT 1")
            #expect(refused.status != 0 && refused.err.contains("not permitted to log in"), "\(refused.err)")
            try await withBILogin {
                for v in planfactViews {
                    let r = try psql("SELECT count(*) FROM reporting.\(v)")
                    #expect(r.status == 0 && Int(r.out.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0 >= 1, "\(v): \(r.err)")
                }
                let fact = try psql("SELECT fact || '/' || plan || '/' || ratio || '/' || shipments FROM reporting.plan_fact_by_company_v1")
                #expect(fact.out.trimmingCharacters(in: .whitespacesAndNewlines) == "1234.56/1000.00/1.2346/1",
                        "one document, counted once whatever the number of contacts")
                // The search path is the reporting schema.
                #expect(try psql("SELECT count(*) FROM funnel_v1").status == 0)
                #expect(try psql("SHOW default_transaction_read_only").out.contains("on"))
                #expect(try psql("SHOW statement_timeout").out.contains("1min"))
                #expect(try psql("SELECT rolconnlimit FROM pg_roles WHERE rolname = current_user").out.contains("5"))
                let forbidden: [(String, String)] = [
                    ("SELECT login, password_hash FROM public.users", "permission denied for schema public"),
                    ("SELECT * FROM users", "does not exist"),
                    ("SELECT count(*) FROM public.shipments", "permission denied for schema public"),
                    ("SELECT count(*) FROM public.sessions", "permission denied for schema public"),
                    ("INSERT INTO public.shipments (company_id, document_number, amount, shipped_at, shipped_period, period, recorded_at) VALUES (1, 'x', 1, now(), '2026-11-01', '2026-11-01', now())", "permission denied for schema public"),
                    ("BEGIN READ WRITE; INSERT INTO public.audit_log (at, method, entity, entity_id, action, changes) VALUES (now(), 'x', 'x', 1, 'x', '{}'); COMMIT", "permission denied for schema public"),
                    ("INSERT INTO reporting.funnel_stages_v1 (funnel, stage, stage_name, stage_position) VALUES ('development', 'x', 'x', 1)", "permission denied for view"),
                    ("BEGIN READ WRITE; INSERT INTO reporting.funnel_stages_v1 (funnel, stage, stage_name, stage_position) VALUES ('development', 'x', 'x', 1); COMMIT", "permission denied for view"),
                    ("BEGIN READ WRITE; DELETE FROM reporting.funnel_stages_v1; COMMIT", "permission denied for view"),
                    ("BEGIN READ WRITE; UPDATE reporting.funnel_stages_v1 SET stage_name = 'x'; COMMIT", "permission denied for view"),
                    ("BEGIN READ WRITE; CREATE TABLE reporting.mine (a int); COMMIT", "permission denied for schema reporting"),
                    ("BEGIN READ WRITE; CREATE TABLE public.mine (a int); COMMIT", "permission denied for schema public"),
                    ("BEGIN READ WRITE; CREATE TEMP TABLE mine (a int); COMMIT", "permission denied to create temporary tables"),
                    ("SELECT pg_read_file('/etc/hostname')", "permission denied for function pg_read_file"),
                    ("SELECT pg_ls_dir('.')", "permission denied for function pg_ls_dir"),
                    ("COPY (SELECT 1) TO '/tmp/kontor_bi_copy'", "pg_write_server_files"),
                    ("SELECT public.records_jsonb_diff('{}', '{}')", "permission denied for schema public"),
                    ("SELECT public.crypt('x', 'y')", "permission denied for schema public"),
                ]
                for (sql, why) in forbidden {
                    let r = try psql(sql)
                    #expect(r.status != 0 && r.err.contains(why), "\(sql) should fail with \(why): \(r.status) \(r.err)")
                }
            }
            // Nothing was written.
            let n = try await w.sql { conn in try conn.query("SELECT count(*) AS n FROM shipments").one().decode("n", as: Int.self) }
            #expect(n == 1)
        }
    }

    @Test("through a Python client (psycopg): every view reads; a base table, INSERT and pg_read_file fail")
    func python() async throws {
        let interpreters = ["/usr/bin/python3", "python3"]
        var python: String?
        for candidate in interpreters {
            if let r = try? run([candidate, "-c", "import importlib.util as u, sys; sys.exit(0 if u.find_spec('psycopg') or u.find_spec('psycopg2') else 1)"]),
               r.status == 0 {
                python = candidate
                break
            }
        }
        guard let python else {
            Issue.record("no Python with psycopg or psycopg2: install python3-psycopg2 (deploy/install-deps.sh does)")
            return
        }
        let script = """
            import sys
            try:
                import psycopg as driver
            except ImportError:
                import psycopg2 as driver
            dsn, views = sys.argv[1], sys.argv[2].split(",")
            ok = True
            def attempt(label, sql, must_fail):
                global ok
                conn = driver.connect(dsn)
                try:
                    cur = conn.cursor()
                    cur.execute(sql)
                    rows = cur.fetchall() if cur.description else []
                    conn.commit()
                    if must_fail:
                        ok = False
                        print("FAIL", label, "succeeded")
                    else:
                        print("OK", label, len(rows))
                except Exception as e:
                    conn.rollback()
                    if must_fail:
                        print("OK", label, "refused:", str(e).splitlines()[0])
                    else:
                        ok = False
                        print("FAIL", label, e)
                finally:
                    conn.close()
            for v in views:
                attempt("view " + v, "SELECT * FROM reporting." + v, False)
            attempt("money", "SELECT fact::text FROM reporting.plan_fact_by_company_v1", False)
            attempt("users", "SELECT password_hash FROM public.users", True)
            attempt("insert", "INSERT INTO public.companies (name, created_at, updated_at, last_change_at) VALUES ('x', now(), now(), now())", True)
            attempt("insert-view", "INSERT INTO reporting.funnel_stages_v1 VALUES ('development', 'x', 'x', 1, false)", True)
            attempt("read-file", "SELECT pg_read_file('/etc/hostname')", True)
            sys.exit(0 if ok else 1)
            """
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("kontor_bi_\(UUID().uuidString).py")
        try script.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        try await seeded { w in
            let dsn = conninfo(w.server.database, user: "kontor_bi")
            try await withBILogin {
                let r = try run([python, file.path, dsn, planfactViews.joined(separator: ",")])
                #expect(r.status == 0, "\(r.out)\n\(r.err)")
                for v in planfactViews { #expect(r.out.contains("OK view \(v)"), "\(r.out)") }
                for label in ["users", "insert", "insert-view", "read-file"] {
                    #expect(r.out.contains("OK \(label) refused"), "\(r.out)")
                }
            }
        }
    }

    @Test("docs/REPORTING.md documents every column of every plan/fact and funnel view, in order")
    func documented() async throws {
        let doc = try String(contentsOf: TestEnvironment.projectRoot.appendingPathComponent("docs/REPORTING.md"), encoding: .utf8)
        var documented: [String: [String]] = [:]
        var current: String?
        for line in doc.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("### `reporting.") {
                let name = String(line.dropFirst("### `reporting.".count).prefix { $0 != "`" })
                current = name
                documented[name] = []
            } else if line.hasPrefix("#") {
                current = nil
            } else if let c = current, line.hasPrefix("| `") {
                documented[c]?.append(String(line.dropFirst(3).prefix { $0 != "`" }))
            }
        }
        let db = try await TestDatabase.create()
        let actual = try await db.with { conn in
            var out: [String: [String]] = [:]
            for r in try conn.query("""
                SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'reporting'
                ORDER BY table_name, ordinal_position
                """) {
                out[try r.decode("table_name"), default: []].append(try r.decode("column_name"))
            }
            return out
        }
        await db.drop()
        for v in planfactViews {
            #expect(documented[v] == actual[v], "reporting.\(v): documented \(documented[v] ?? []) vs \(actual[v] ?? [])")
        }
    }
}
