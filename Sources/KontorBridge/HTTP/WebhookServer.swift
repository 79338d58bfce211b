import Foundation
import HTTPTypes
import Hummingbird
import KontorProtocol
import Logging
import NIOCore
import ServiceLifecycle

/// The webhook endpoints (Hummingbird, HTTP/1.1). docs/BRIDGE.md, "Endpoints", lists them.
///
/// Every endpoint: an unknown or unconfigured source is 404; a bad secret or signature is
/// 403; a body over `max_body_bytes` is 413; a payload that cannot be read is 400 — and
/// in all of these nothing is spooled. A good payload is appended to the spool (fsynced)
/// and only then answered 2xx; when the spool cannot be written the answer is 503, so
/// the provider retries. Payloads with nothing to ingest (status pings, receipts) are
/// answered 2xx and not spooled.
public struct WebhookServer: Sendable {
    public let configuration: BridgeConfiguration
    public let spool: Spool
    public let state: StateStore
    public let logger: Logger

    /// Endpoints for the sources `configuration` switches on, spooling into `spool`.
    public init(configuration: BridgeConfiguration, spool: Spool, state: StateStore, logger: Logger = Logger(label: "kontor-bridge.http")) {
        self.configuration = configuration; self.spool = spool; self.state = state; self.logger = logger
    }

    /// What a handler decided.
    enum Outcome {
        case events([SpoolEvent])
        case ignored(String)
    }

    struct Refusal: Error {
        var status: HTTPResponse.Status
        var message: String
    }

    /// The Hummingbird application; `onRunning` gets the bound port (for port 0).
    public func application(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let router = Router()
        router.get("/health") { _, _ -> Response in
            Self.text(.ok, "ok\n")
        }
        router.post("/hooks/binotel/:secret") { req, ctx in
            await self.receive("binotel", req, ctx, ok: Self.json(#"{"status":"success"}"#)) { body, req, ctx in
                guard let cfg = self.configuration.binotel else { throw Refusal(status: .notFound, message: "binotel is not configured") }
                try Self.checkPathSecret(ctx, cfg.secret)
                switch try BinotelParser.parse(body: body, contentType: req.headers[.contentType]) {
                case .event(let p): return .events([try SpoolEvent.call(p, source: "binotel")])
                case .ignored(let why): return .ignored(why)
                }
            }
        }
        router.post("/hooks/twilio") { req, ctx in
            await self.receive("twilio", req, ctx, ok: Self.xml("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>")) { body, req, _ in
                guard let cfg = self.configuration.twilio else { throw Refusal(status: .notFound, message: "twilio is not configured") }
                let pairs = FormEncoding.pairs(body)
                let url = self.publicURL(req)
                guard TwilioParser.verify(signature: Self.header(req, "X-Twilio-Signature"), url: url, pairs: pairs, authToken: cfg.authToken) else {
                    throw Refusal(status: .forbidden, message: "bad X-Twilio-Signature")
                }
                switch try TwilioParser.parse(pairs: pairs, plan: self.configuration.plan, receivedAt: Date()) {
                case .event(let p): return .events([try SpoolEvent.call(p, source: "twilio")])
                case .ignored(let why): return .ignored(why)
                }
            }
        }
        router.post("/hooks/freeswitch/:secret") { req, ctx in
            await self.receive("freeswitch", req, ctx, ok: Self.text(.ok, "")) { body, _, ctx in
                guard let cfg = self.configuration.freeswitch else { throw Refusal(status: .notFound, message: "freeswitch is not configured") }
                try Self.checkPathSecret(ctx, cfg.secret)
                switch try FreeSwitchParser.parse(body: body, plan: self.configuration.plan) {
                case .event(let p): return .events([try SpoolEvent.call(p, source: "freeswitch")])
                case .ignored(let why): return .ignored(why)
                }
            }
        }
        router.post("/hooks/pbx/:secret") { req, ctx in
            await self.receive("pbx", req, ctx, ok: Self.json(#"{"ok":true}"#)) { body, _, ctx in
                guard let cfg = self.configuration.pbx else { throw Refusal(status: .notFound, message: "pbx is not configured") }
                try Self.checkPathSecret(ctx, cfg.secret)
                let calls = try GenericCallParser.parse(body: body, plan: self.configuration.plan)
                return .events(try calls.map { try SpoolEvent.call($0, source: "pbx") })
            }
        }
        router.post("/hooks/telegram") { req, ctx in
            await self.receive("telegram", req, ctx, ok: Self.text(.ok, "")) { body, req, _ in
                guard let cfg = self.configuration.telegram else { throw Refusal(status: .notFound, message: "telegram is not configured") }
                let given = Self.header(req, "X-Telegram-Bot-Api-Secret-Token") ?? ""
                guard Secrets.constantTimeEqual(given, cfg.secretToken) else {
                    throw Refusal(status: .forbidden, message: "bad X-Telegram-Bot-Api-Secret-Token")
                }
                switch try TelegramParser.parse(update: try JSONValue.payload(body), botUsername: cfg.botUsername) {
                case .event(let p): return .events([try SpoolEvent.message(p, source: "telegram")])
                case .ignored(let why): return .ignored(why)
                }
            }
        }
        router.post("/hooks/viber") { req, ctx in
            await self.receive("viber", req, ctx, ok: Self.text(.ok, "")) { body, req, _ in
                guard let cfg = self.configuration.viber else { throw Refusal(status: .notFound, message: "viber is not configured") }
                guard ViberParser.verify(signature: Self.header(req, "X-Viber-Content-Signature"), body: body, authToken: cfg.authToken) else {
                    throw Refusal(status: .forbidden, message: "bad X-Viber-Content-Signature")
                }
                switch try ViberParser.parse(body: body, botName: cfg.botName) {
                case .event(let p): return .events([try SpoolEvent.message(p, source: "viber")])
                case .ignored(let why): return .ignored(why)
                }
            }
        }
        router.post("/hooks/form/:name/:secret") { req, ctx in
            let name = ctx.parameters.get("name") ?? ""
            return await self.receive("form:\(name)", req, ctx, ok: Self.json(#"{"ok":true}"#)) { body, req, ctx in
                guard let cfg = self.configuration.forms[name] else { throw Refusal(status: .notFound, message: "no form named \(name)") }
                try Self.checkPathSecret(ctx, cfg.secret)
                let p = try WebFormParser.parse(body: body, contentType: req.headers[.contentType], formName: name,
                                                mapping: cfg.mapping, receivedAt: Date())
                return .events([try SpoolEvent.message(p, source: "form:\(name)")])
            }
        }
        return Application(
            router: router,
            configuration: .init(address: .hostname(configuration.httpHost, port: configuration.httpPort), serverName: "kontor-bridge"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    static func header(_ req: Request, _ name: String) -> String? {
        HTTPField.Name(name).flatMap { req.headers[$0] }
    }

    static func checkPathSecret(_ ctx: BasicRequestContext, _ secret: String) throws {
        guard Secrets.constantTimeEqual(ctx.parameters.get("secret") ?? "", secret) else {
            throw Refusal(status: .forbidden, message: "bad secret")
        }
    }

    /// The URL as the provider called it (for Twilio's signature): the configured public
    /// URL, else `http(s)://Host` from the request (`X-Forwarded-Proto` honoured).
    func publicURL(_ req: Request) -> String {
        let pathAndQuery = req.uri.path + (req.uri.query.map { "?" + $0 } ?? "")
        if let base = configuration.publicURL {
            return (base.hasSuffix("/") ? String(base.dropLast()) : base) + pathAndQuery
        }
        let scheme = Self.header(req, "X-Forwarded-Proto") ?? "http"
        let host = req.head.authority ?? "\(configuration.httpHost):\(configuration.httpPort)"
        return "\(scheme)://\(host)\(pathAndQuery)"
    }

    /// The shared path of every endpoint: read, check, parse, spool, answer.
    func receive(_ source: String, _ request: Request, _ context: BasicRequestContext, ok: Response,
                 _ handle: @escaping @Sendable ([UInt8], Request, BasicRequestContext) throws -> Outcome) async -> Response {
        var req = request
        let body: [UInt8]
        do {
            var buffer = try await req.collectBody(upTo: configuration.maxBodyBytes)
            body = buffer.readBytes(length: buffer.readableBytes) ?? []
        } catch {
            state.count(source, \.rejected)
            return Self.text(.contentTooLarge, "body too large\n")
        }
        let outcome: Outcome
        do {
            outcome = try handle(body, req, context)
        } catch let r as Refusal {
            if r.status != .notFound { state.count(source, \.rejected) }
            logger.notice("webhook refused", metadata: ["source": "\(source)", "status": "\(r.status.code)", "why": "\(r.message)"])
            return Self.text(r.status, r.message + "\n")
        } catch let e as PayloadError {
            state.count(source, \.rejected)
            logger.notice("webhook payload refused", metadata: ["source": "\(source)", "why": "\(e.message)"])
            return Self.text(.badRequest, e.message + "\n")
        } catch {
            state.count(source, \.rejected)
            return Self.text(.badRequest, "\(error)\n")
        }
        switch outcome {
        case .ignored(let why):
            state.count(source, \.ignored)
            logger.debug("webhook ignored", metadata: ["source": "\(source)", "what": "\(why)"])
            return ok
        case .events(let events):
            do {
                try await spool.append(events)
            } catch {
                logger.error("cannot write the spool", metadata: ["source": "\(source)", "error": "\(error)"])
                state.recordError("spool write failed: \(error)")
                return Self.text(.serviceUnavailable, "cannot store the event; retry\n")
            }
            state.count(source, \.spooled, events.count)
            logger.info("webhook spooled", metadata: ["source": "\(source)", "events": "\(events.count)", "key": "\(events.first?.key ?? "-")"])
            return ok
        }
    }

    static func text(_ status: HTTPResponse.Status, _ s: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: s)))
    }

    static func json(_ s: String) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: s)))
    }

    static func xml(_ s: String) -> Response {
        Response(status: .ok, headers: [.contentType: "text/xml"], body: .init(byteBuffer: ByteBuffer(string: s)))
    }
}

/// A webhook server running in this process (for embedding and tests).
public final class RunningWebhookServer: Sendable {
    /// The port it listens on (useful with port 0).
    public let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, Error>

    init(port: Int, group: ServiceGroup, task: Task<Void, Error>) {
        self.port = port; self.group = group; self.task = task
    }

    /// Graceful shutdown; returns when the server has stopped.
    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}

extension WebhookServer {
    /// Starts the server and returns once it listens.
    public func start() async throws -> RunningWebhookServer {
        let (events, sink) = AsyncStream<Result<Int, Error>>.makeStream()
        let app = application(onRunning: { port in sink.yield(.success(port)) })
        let group = ServiceGroup(configuration: .init(services: [.init(service: app)], logger: logger))
        let task = Task {
            do {
                try await group.run()
                sink.yield(.failure(CancellationError()))
            } catch {
                sink.yield(.failure(error))
                throw error
            }
        }
        for await r in events {
            switch r {
            case .success(let port): return RunningWebhookServer(port: port, group: group, task: task)
            case .failure(let e): throw e
            }
        }
        throw CancellationError()
    }
}
