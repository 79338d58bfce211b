import Foundation
import KontorDomain
import KontorProtocol
import KontorStore

/// `ping`, `server.info`, `auth.*`, `user.*`, `robot.token.*`.
enum SessionHandlers {
    static let version = "0.1.0"

    static func register(_ t: inout MethodTable) {
        t.register("ping", NoParams.self) { ctx, _ in SessionMethods.PingResult(time: ctx.now) }

        t.register("server.info", NoParams.self) { ctx, _ in
            let c = ctx.app.configuration
            return SessionMethods.ServerInfo(name: "kontord", version: version, protocolVersion: 1, instance: c.instanceName,
                                             timeZone: c.timeZone.identifier, phoneRegion: c.phoneRegion, time: ctx.now)
        }

        t.register("auth.login", SessionMethods.LoginParams.self) { ctx, p in try await login(ctx, p) }

        t.register("auth.token", SessionMethods.TokenParams.self) { ctx, p in
            let peer = ctx.session.peerAddress
            let app = ctx.app
            let now = ctx.now
            // Throttled like passwords, per peer address: a token is a secret too.
            let found: (id: Int64, user: User)? = try await app.transaction { conn in
                let repo = UserRepository(conn)
                try repo.lockLoginAttempts(login: "robot-token", peer: peer)
                let since = now.addingTimeInterval(-app.configuration.loginWindow)
                if try repo.recentFailures(login: "robot-token", peer: peer, since: since).peer >= app.configuration.maxFailuresPerPeer {
                    throw KontorError(.rateLimited, "too many failed logins from \(peer); wait and retry")
                }
                guard let f = try repo.findRobotToken(token: p.token), f.user.active, f.user.role == .robot else {
                    try repo.recordFailure(login: "robot-token", peer: peer, now: now)
                    return nil
                }
                try repo.touchRobotToken(id: f.id, now: now)
                return f
            }
            guard let found else { throw KontorError(.unauthenticated, "unknown or revoked robot token") }
            ctx.session.bind(Principal(found.user), credential: .robotToken(found.id))
            return SessionMethods.WhoAmI(user: found.user, expiresAt: nil)
        }

        t.register("auth.resume", SessionMethods.ResumeParams.self) { ctx, p in
            let now = ctx.now
            let found = try await ctx.app.transaction { conn -> (id: Int64, user: User, expiresAt: Date)? in
                let repo = UserRepository(conn)
                guard let s = try repo.findSession(token: p.sessionToken, now: now), s.user.active else { return nil }
                try repo.touchSession(id: s.id, now: now)
                return s
            }
            guard let found else { throw KontorError(.unauthenticated, "the session token is unknown, expired or revoked; log in again") }
            ctx.session.bind(Principal(found.user), credential: .session(found.id))
            return SessionMethods.WhoAmI(user: found.user, expiresAt: found.expiresAt)
        }

        t.register("auth.logout", NoParams.self) { ctx, _ in
            if case .session(let id)? = ctx.session.credential {
                let now = ctx.now
                try await ctx.app.transaction { conn in try UserRepository(conn).revokeSession(id: id, now: now) }
            }
            if let c = ctx.session.credential { ctx.app.authCache.evict(c) }
            ctx.session.unbind()
            return OK()
        }

        t.register("auth.whoami", NoParams.self) { ctx, _ in
            let p = try ctx.requirePrincipal()
            let user = try await ctx.app.read { conn in try UserRepository(conn).get(id: p.userID) }
            guard let user else { throw KontorError.notFound("user") }
            return SessionMethods.WhoAmI(user: user, expiresAt: nil)
        }

        t.register("auth.change_password", SessionMethods.ChangePasswordParams.self) { ctx, p in
            let me = try ctx.requirePrincipal()
            if let why = Credentials.validatePassword(p.newPassword) { throw KontorError.invalidParams("new_password", why) }
            let app = ctx.app
            let now = ctx.now
            var keep: Int64? = nil
            if case .session(let id)? = ctx.session.credential { keep = id }
            let keepSession = keep
            try await app.transaction { conn in
                let repo = UserRepository(conn)
                guard try repo.verify(login: me.login, password: p.currentPassword, cost: app.configuration.bcryptCost) != nil else {
                    throw KontorError(.unauthenticated, "the current password is wrong")
                }
                try repo.setPassword(id: me.userID, password: p.newPassword, bcryptCost: app.configuration.bcryptCost,
                                     keepSession: keepSession, now: now)
            }
            return OK()
        }

        // MARK: users

        t.register("user.create", SessionMethods.UserCreateParams.self) { ctx, p in
            let me = try ctx.requirePrincipal()
            try checkMayAssign(role: p.role, by: me)
            let login = p.login.trimmingCharacters(in: .whitespaces)
            if let why = Credentials.validateLogin(login) { throw KontorError.invalidParams("login", why) }
            let name = p.fullName.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !name.isEmpty, name.count <= 200 else { throw KontorError.invalidParams("full_name", "a name of 1 to 200 characters is required") }
            if let pw = p.password, let why = Credentials.validatePassword(pw) { throw KontorError.invalidParams("password", why) }
            if p.role == .robot, p.password != nil { throw KontorError.invalidParams("password", "robots log in with tokens, not passwords") }
            if p.role == .user, p.department == nil { throw KontorError.invalidParams("department", "a sales user needs a department: development or service") }
            let email = try normalizedEmail(p.email, field: "email")
            let app = ctx.app
            let now = ctx.now
            return try await app.transaction { conn in
                try UserRepository(conn).create(login: login, fullName: name, role: p.role, department: p.department, email: email,
                                                password: p.password, bcryptCost: app.configuration.bcryptCost, now: now)
            }
        }

        t.register("user.list", SessionMethods.UserListParams.self) { ctx, p in
            SessionMethods.UserList(users: try await ctx.app.read { conn in
                try UserRepository(conn).list(role: p.role, department: p.department, active: p.active)
            })
        }

        t.register("user.get", SessionMethods.IDParams.self) { ctx, p in
            guard let u = try await ctx.app.read({ conn in try UserRepository(conn).get(id: p.id) }) else {
                throw KontorError.notFound("user \(p.id)")
            }
            return u
        }

        t.register("user.update", SessionMethods.UserUpdateParams.self) { ctx, p in
            let me = try ctx.requirePrincipal()
            if let role = p.role { try checkMayAssign(role: role, by: me) }
            if let n = p.fullName, n.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty || n.count > 200 {
                throw KontorError.invalidParams("full_name", "a name of 1 to 200 characters is required")
            }
            if p.id == me.userID, p.active == false { throw KontorError.invalidParams("active", "you cannot deactivate yourself") }
            if p.id == me.userID, let r = p.role, r != me.role { throw KontorError.invalidParams("role", "you cannot change your own role") }
            var email: String?? = nil
            if case .set(let e) = p.email { email = .some(try normalizedEmail(e, field: "email")) } else if case .clear = p.email { email = .some(nil) }
            let emailChange = email
            let now = ctx.now
            return try await ctx.app.transaction { conn in
                let repo = UserRepository(conn)
                guard let target = try repo.get(id: p.id) else { throw KontorError.notFound("user \(p.id)") }
                let onlyActive = p.fullName == nil && p.role == nil && p.department.isAbsent && p.email.isAbsent
                if !UserAdministration.mayManage(target.role, by: me.role)
                    && !(onlyActive && UserAdministration.mayToggleActive(target.role, by: me.role)) {
                    throw KontorError.forbidden("a \(me.role.rawValue) may not edit \(target.role.rawValue) accounts"
                        + (me.role == .techAdmin ? " (only activate or deactivate them)" : ""))
                }
                let newRole = p.role ?? target.role
                let newDept = p.department.change ?? target.department
                if newRole == .user, newDept == nil {
                    throw KontorError.invalidParams("department", "a sales user needs a department: development or service")
                }
                let u = try repo.update(id: p.id, version: p.version, fullName: p.fullName?.trimmingCharacters(in: .whitespacesAndNewlines),
                                        role: p.role, department: p.department.change, email: emailChange, active: p.active, now: now)
                if p.active == false { try repo.revokeAllSessions(userID: u.id, now: now) }
                return u
            }.evictingAuth(ctx, user: p.id)
        }

        t.register("user.set_password", SessionMethods.SetPasswordParams.self) { ctx, p in
            let me = try ctx.requirePrincipal()
            if let why = Credentials.validatePassword(p.password) { throw KontorError.invalidParams("password", why) }
            let app = ctx.app
            let now = ctx.now
            try await app.transaction { conn in
                let repo = UserRepository(conn)
                guard let target = try repo.get(id: p.id) else { throw KontorError.notFound("user \(p.id)") }
                if target.role == .robot { throw KontorError.invalidParams("id", "robots log in with tokens, not passwords") }
                guard UserAdministration.mayManage(target.role, by: me.role) else {
                    throw KontorError.forbidden("a \(me.role.rawValue) may not set passwords of \(target.role.rawValue) accounts")
                }
                try repo.setPassword(id: p.id, password: p.password, bcryptCost: app.configuration.bcryptCost, keepSession: nil, now: now)
            }
            app.authCache.evict(payload: "u:\(p.id)")
            return OK()
        }

        // MARK: robot tokens

        t.register("robot.token.create", SessionMethods.RobotTokenCreateParams.self) { ctx, p in
            let me = try ctx.requirePrincipal()
            let label = p.label.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !label.isEmpty, label.count <= 100 else { throw KontorError.invalidParams("label", "a label of 1 to 100 characters is required") }
            let token = TokenGenerator.make(prefix: "kr_")
            let now = ctx.now
            let rec = try await ctx.app.transaction { conn in
                let repo = UserRepository(conn)
                guard let u = try repo.get(id: p.userID) else { throw KontorError.notFound("user \(p.userID)") }
                guard u.role == .robot else { throw KontorError.invalidParams("user_id", "tokens are for robot users; this user is \(u.role.rawValue)") }
                return try repo.createRobotToken(userID: u.id, label: label, token: token, createdBy: me.userID, now: now)
            }
            return SessionMethods.RobotTokenCreated(id: rec.id, userID: rec.userID, label: rec.label, token: token, createdAt: rec.createdAt)
        }

        t.register("robot.token.revoke", SessionMethods.IDParams.self) { ctx, p in
            let now = ctx.now
            let done = try await ctx.app.transaction { conn in try UserRepository(conn).revokeRobotToken(id: p.id, now: now) }
            guard done else { throw KontorError.notFound("live robot token \(p.id)") }
            ctx.app.authCache.evict(.robotToken(p.id))
            return OK()
        }

        t.register("robot.token.list", SessionMethods.RobotTokenListParams.self) { ctx, p in
            let list = try await ctx.app.read { conn in try UserRepository(conn).robotTokens(userID: p.userID) }
            return SessionMethods.RobotTokenList(tokens: list.map {
                SessionMethods.RobotTokenInfo(id: $0.id, userID: $0.userID, label: $0.label, createdAt: $0.createdAt,
                                              lastUsedAt: $0.lastUsedAt, revokedAt: $0.revokedAt)
            })
        }
    }

    /// Password login with throttling per login and per peer address.
    static func login(_ ctx: RequestContext, _ p: SessionMethods.LoginParams) async throws -> SessionMethods.LoginResult {
        let app = ctx.app
        let cfg = app.configuration
        let peer = ctx.session.peerAddress
        let now = ctx.now
        let token = TokenGenerator.make(prefix: "ks_")
        let expires = now.addingTimeInterval(cfg.sessionTTL)
        let outcome: Result<(User, Int64), KontorError> = try await app.transaction { conn in
            let repo = UserRepository(conn)
            try repo.lockLoginAttempts(login: p.login, peer: peer)
            let counts = try repo.recentFailures(login: p.login, peer: peer, since: now.addingTimeInterval(-cfg.loginWindow))
            if counts.login >= cfg.maxFailuresPerLogin || counts.peer >= cfg.maxFailuresPerPeer {
                return .failure(KontorError(.rateLimited, "too many failed logins; wait \(Int(cfg.loginWindow / 60)) minutes and retry"))
            }
            guard let user = try repo.verify(login: p.login, password: p.password, cost: cfg.bcryptCost) else {
                try repo.recordFailure(login: p.login, peer: peer, now: now)
                return .failure(KontorError(.unauthenticated, "wrong login or password, or the account is inactive"))
            }
            try repo.clearFailures(login: p.login)
            let sid = try repo.createSession(userID: user.id, token: token, peer: ctx.session.peer, expiresAt: expires, now: now)
            return .success((user, sid))
        }
        let (user, sid) = try outcome.get()
        ctx.session.bind(Principal(user), credential: .session(sid))
        return SessionMethods.LoginResult(sessionToken: token, expiresAt: expires, user: user)
    }

    /// Admins create and promote sales users and admins; tech admins tech admins and
    /// robots (see `UserAdministration`).
    static func checkMayAssign(role: Role, by me: Principal) throws {
        guard UserAdministration.mayAssign(role, by: me.role) else {
            throw KontorError.forbidden("a \(me.role.rawValue) may not create or assign the role \(role.rawValue)")
        }
    }

    static func normalizedEmail(_ e: String?, field: String) throws -> String? {
        guard let e, !e.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return nil }
        switch EmailAddress.normalize(e) {
        case .normalized(let a): return a.normalized
        case .invalid(let why): throw KontorError.invalidParams(field, "\(e) is not an e-mail address (\(why))")
        }
    }
}

extension User {
    /// Drops cached logins of `user` on this instance right away (other instances follow
    /// through the `kontor_auth` notification), then passes the value on.
    func evictingAuth(_ ctx: RequestContext, user: Int64) -> User {
        ctx.app.authCache.evict(payload: "u:\(user)")
        return self
    }
}
