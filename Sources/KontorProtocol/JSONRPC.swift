import KontorDomain

/// A JSON-RPC 2.0 request id: a number (kept as written) or a string.
/// Source: JSON-RPC 2.0 specification, section 4.
public enum JSONRPCID: Hashable, Sendable, CustomStringConvertible {
    case number(String)
    case string(String)
    /// `"id": null`: allowed (though discouraged) by JSON-RPC 2.0 for a request, which is
    /// then answered with `"id": null`. Only a *missing* id makes a notification.
    case null

    public var json: JSONValue {
        switch self {
        case .number(let n): return .number(n)
        case .string(let s): return .string(s)
        case .null: return .null
        }
    }

    public var description: String {
        switch self {
        case .number(let n): return n
        case .string(let s): return "\"\(s)\""
        case .null: return "null"
        }
    }
}

/// One request as read off the wire.
public struct JSONRPCRequest: Sendable {
    /// nil for a JSON-RPC notification (no `id` member): executed, never answered.
    public var id: JSONRPCID?
    public var method: String
    /// `params`, or an empty object when absent. Positional (array) params are refused.
    public var params: JSONValue

    public init(id: JSONRPCID?, method: String, params: JSONValue = .object([:])) {
        self.id = id
        self.method = method
        self.params = params
    }
}

/// A request that could not be read, with the id to answer to (null when unknown).
public struct JSONRPCReadError: Error, Sendable {
    public var id: JSONRPCID?
    public var error: KontorError
}

/// What one line carries: a single request or a batch (JSON-RPC 2.0 section 6).
public enum JSONRPCIncoming: Sendable {
    case single(Result<JSONRPCRequest, JSONRPCReadError>)
    case batch([Result<JSONRPCRequest, JSONRPCReadError>])
}

public enum JSONRPC {
    /// Reads one line (without its terminator).
    /// - Returns: `.single(.failure)` with `parse_error` when the line is not JSON,
    ///   `invalid_request` when it is JSON but not a request.
    public static func read<Bytes: Collection>(line: Bytes, maxBatch: Int = 100) -> JSONRPCIncoming where Bytes.Element == UInt8 {
        let value: JSONValue
        do {
            value = try JSONValue.parse(line)
        } catch {
            return .single(.failure(JSONRPCReadError(id: nil, error: KontorError(.parseError, "the line is not JSON: \(error)"))))
        }
        if case .array(let items) = value {
            if items.isEmpty {
                return .single(.failure(JSONRPCReadError(id: nil, error: KontorError(.invalidRequest, "an empty batch"))))
            }
            if items.count > maxBatch {
                return .single(.failure(JSONRPCReadError(id: nil, error: KontorError(.invalidRequest, "a batch of \(items.count) requests; at most \(maxBatch) per line"))))
            }
            return .batch(items.map(request(from:)))
        }
        return .single(request(from: value))
    }

    static func request(from value: JSONValue) -> Result<JSONRPCRequest, JSONRPCReadError> {
        guard case .object(let o) = value else {
            return .failure(JSONRPCReadError(id: nil, error: KontorError(.invalidRequest, "a request must be a JSON object")))
        }
        var id: JSONRPCID? = nil
        switch o["id"] {
        case nil: id = nil
        case .number(let n)?: id = .number(n)
        case .string(let s)?: id = .string(s)
        case .null?: id = .null
        case .some:
            return .failure(JSONRPCReadError(id: nil, error: KontorError(.invalidRequest, "id must be a number or a string")))
        }
        let fail = { (m: String) in Result<JSONRPCRequest, JSONRPCReadError>.failure(JSONRPCReadError(id: id, error: KontorError(.invalidRequest, m))) }
        guard o["jsonrpc"] == .string("2.0") else { return fail("jsonrpc must be \"2.0\"") }
        guard case .string(let method)? = o["method"], !method.isEmpty else { return fail("method must be a non-empty string") }
        for key in o.keys where !["jsonrpc", "id", "method", "params"].contains(key) {
            return fail("unknown member \(key)")
        }
        var params: JSONValue = .object([:])
        switch o["params"] {
        case nil, .null?: break
        case .object?: params = o["params"]!
        case .array?:
            return .failure(JSONRPCReadError(id: id, error: .invalidParams("params", "params must be an object (by-name parameters)")))
        default:
            return fail("params must be an object")
        }
        return .success(JSONRPCRequest(id: id, method: method, params: params))
    }

    /// `{"jsonrpc":"2.0","id":...,"result":...}` as one line without the newline.
    public static func resultLine(id: JSONRPCID?, result: JSONValue) -> String {
        var out = "{\"jsonrpc\":\"2.0\",\"id\":"
        out += id?.json.jsonText ?? "null"
        out += ",\"result\":"
        result.write(to: &out, indent: nil, level: 0)
        out += "}"
        return out
    }

    /// `{"jsonrpc":"2.0","id":...,"error":{"code":..,"message":..,"data":{"kind":..}}}`.
    public static func errorValue(id: JSONRPCID?, error: KontorError) -> JSONValue {
        var data: [String: JSONValue] = ["kind": .string(error.kind.rawValue)]
        for (k, v) in error.data {
            switch v {
            case .string(let s): data[k] = .string(s)
            case .int(let i): data[k] = .number(String(i))
            case .bool(let b): data[k] = .bool(b)
            }
        }
        return .object([
            "jsonrpc": "2.0",
            "id": id?.json ?? .null,
            "error": .object([
                "code": .number(String(error.kind.code)),
                "message": .string(error.message),
                "data": .object(data),
            ]),
        ])
    }

    public static func errorLine(id: JSONRPCID?, error: KontorError) -> String {
        errorValue(id: id, error: error).jsonText
    }

    /// A server push: `{"jsonrpc":"2.0","method":...,"params":...}` (no id).
    public static func notificationLine(method: String, params: JSONValue) -> String {
        JSONValue.object(["jsonrpc": "2.0", "method": .string(method), "params": params]).jsonText
    }

    /// A request line, for clients.
    public static func requestLine(id: JSONRPCID?, method: String, params: JSONValue) -> String {
        var o: [String: JSONValue] = ["jsonrpc": "2.0", "method": .string(method), "params": params]
        if let id { o["id"] = id.json }
        return JSONValue.object(o).jsonText
    }
}

/// What a client reads off the wire.
public enum JSONRPCMessage: Sendable {
    case result(id: JSONRPCID?, result: JSONValue)
    case error(id: JSONRPCID?, error: KontorError)
    case notification(method: String, params: JSONValue)
    case batch([JSONRPCMessage])

    /// Parses a server line. Throws `JSONParseError` or `KontorError(.invalidRequest)`.
    public static func parse(_ line: some Collection<UInt8>) throws -> JSONRPCMessage {
        try from(JSONValue.parse(line))
    }

    static func from(_ v: JSONValue) throws -> JSONRPCMessage {
        if case .array(let a) = v { return .batch(try a.map(from)) }
        guard case .object(let o) = v else { throw KontorError(.invalidRequest, "not a JSON-RPC message") }
        var id: JSONRPCID? = nil
        switch o["id"] {
        case .number(let n)?: id = .number(n)
        case .string(let s)?: id = .string(s)
        default: id = nil
        }
        if let r = o["result"] { return .result(id: id, result: r) }
        if let e = o["error"]?.objectValue {
            let code = e["code"]?.int64Value.map(Int.init) ?? ErrorKind.internal.code
            let message = e["message"]?.stringValue ?? ""
            let dataObj = e["data"]?.objectValue ?? [:]
            let kind = dataObj["kind"]?.stringValue.flatMap(ErrorKind.init(rawValue:)) ?? ErrorKind(code: code) ?? .internal
            var data: [String: ErrorDatum] = [:]
            for (k, v) in dataObj where k != "kind" {
                switch v {
                case .string(let s): data[k] = .string(s)
                case .number(let n): data[k] = Int(n).map(ErrorDatum.int) ?? .string(n)
                case .bool(let b): data[k] = .bool(b)
                default: data[k] = .string(v.jsonText)
                }
            }
            return .error(id: id, error: KontorError(kind, message, data: data))
        }
        if case .string(let m)? = o["method"] { return .notification(method: m, params: o["params"] ?? .object([:])) }
        throw KontorError(.invalidRequest, "not a JSON-RPC message")
    }
}
