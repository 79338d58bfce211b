import Foundation
import KontorDomain

/// Converts a Swift property name to the wire's `snake_case` (`fullName` → `full_name`,
/// `existingID` → `existing_id`, `e164` → `e164`).
public func snakeCase(_ key: String) -> String {
    let chars = Array(key)
    guard chars.contains(where: { $0.isUppercase }) else { return key }
    var out = ""
    for (i, c) in chars.enumerated() {
        if c.isUppercase {
            let prevLower = i > 0 && (chars[i - 1].isLowercase || chars[i - 1].isNumber)
            let nextLower = i + 1 < chars.count && chars[i + 1].isLowercase
            let prevUpper = i > 0 && chars[i - 1].isUppercase
            if i > 0 && (prevLower || (prevUpper && nextLower)) && out.last != "_" { out += "_" }
            out += c.lowercased()
        } else {
            out.append(c)
        }
    }
    return out
}

private func render(_ path: [CodingKey]) -> String {
    var s = ""
    for k in path {
        if let i = k.intValue, k.stringValue.hasPrefix("Index") || k.stringValue == String(i) {
            s += "[\(i)]"
        } else {
            if !s.isEmpty { s += "." }
            s += snakeCase(k.stringValue)
        }
    }
    return s.isEmpty ? "params" : s
}

struct IndexKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(_ i: Int) { stringValue = String(i); intValue = i }
    init?(stringValue: String) { self.stringValue = stringValue; intValue = Int(stringValue) }
    init?(intValue: Int) { self.init(intValue) }
}

// MARK: - Decoding

/// Decodes `Decodable` values from a `JSONValue`, strictly:
/// * keys are the `snake_case` of Swift property names;
/// * a field the type does not know is an error (a typo never passes silently);
/// * numbers must fit the Swift type exactly (no rounding, `1.5` is not an `Int`);
/// * `Date` is an RFC 3339 string with offset, `Decimal` a number or decimal string,
///   `UUID` a string, `JSONValue` any JSON kept as is.
///
/// Every failure is a `KontorError` of kind `invalid_params` whose `data.field` is the
/// path of the offending field (`phones[1].number`).
public struct JSONValueDecoder: Sendable {
    /// When false, unknown fields are ignored (clients reading a newer server's results).
    public var strict: Bool

    public init(strict: Bool = true) { self.strict = strict }

    public func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        let storage = DecoderStorage()
        let decoder = ValueDecoder(value: value, codingPath: [], storage: storage)
        let result: T
        do {
            result = try decoder.decodeValue(T.self)
        } catch let e as DecodingError {
            throw Self.translate(e)
        }
        // Unknown fields, checked after the whole value decoded.
        guard strict else { return result }
        for (path, entry) in storage.objects.sorted(by: { $0.key < $1.key }) {
            let used = storage.used[path] ?? []
            for key in entry.keys.sorted() where !used.contains(key) {
                let field = path.isEmpty ? key : "\(path).\(key)"
                throw KontorError.invalidParams(field, "unknown field \(field)")
            }
        }
        return result
    }

    static func translate(_ e: DecodingError) -> KontorError {
        switch e {
        case .keyNotFound(let key, let ctx):
            let field = render(ctx.codingPath + [key])
            return .invalidParams(field, "missing field \(field)")
        case .valueNotFound(_, let ctx):
            let field = render(ctx.codingPath)
            return .invalidParams(field, "\(field) must not be null")
        case .typeMismatch(_, let ctx):
            let field = render(ctx.codingPath)
            return .invalidParams(field, "\(field): \(ctx.debugDescription)")
        case .dataCorrupted(let ctx):
            let field = render(ctx.codingPath)
            return .invalidParams(field, "\(field): \(ctx.debugDescription)")
        @unknown default:
            return .invalidParams("params", "\(e)")
        }
    }
}

final class DecoderStorage: @unchecked Sendable {
    /// path → the object decoded there (only objects read through a keyed container).
    var objects: [String: [String: JSONValue]] = [:]
    /// path → keys the type asked for.
    var used: [String: Set<String>] = [:]
}

struct ValueDecoder: Decoder {
    let value: JSONValue
    let codingPath: [CodingKey]
    let storage: DecoderStorage
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let o) = value else {
            throw DecodingError.typeMismatch([String: JSONValue].self, .init(codingPath: codingPath, debugDescription: "expected an object, got \(value.typeName)"))
        }
        let path = render(codingPath) == "params" && codingPath.isEmpty ? "" : render(codingPath)
        storage.objects[path] = o
        return KeyedDecodingContainer(KeyedValueDecoder<Key>(object: o, path: path, codingPath: codingPath, storage: storage))
    }

    func unkeyedContainer() throws -> UnkeyedDecodingContainer {
        guard case .array(let a) = value else {
            throw DecodingError.typeMismatch([JSONValue].self, .init(codingPath: codingPath, debugDescription: "expected an array, got \(value.typeName)"))
        }
        return UnkeyedValueDecoder(array: a, codingPath: codingPath, storage: storage)
    }

    func singleValueContainer() throws -> SingleValueDecodingContainer { self }

    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        if T.self == JSONValue.self { return value as! T }
        if T.self == Date.self {
            guard case .string(let s) = value, let d = RFC3339.parse(s) else {
                throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "expected an RFC 3339 timestamp with offset, like \"2026-11-29T09:00:00+02:00\""))
            }
            return d as! T
        }
        if T.self == Decimal.self {
            let text: String
            switch value {
            case .number(let n): text = n
            case .string(let s): text = s
            default: throw mismatch("a decimal number")
            }
            guard let d = DecimalText.parse(text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "\(text) is not an exact decimal number (digits, an optional point, at most 38 digits)"))
            }
            return d as! T
        }
        if T.self == UUID.self {
            guard case .string(let s) = value, let u = UUID(uuidString: s) else { throw mismatch("a UUID string") }
            return u as! T
        }
        if let dictType = T.self as? any StringKeyedDictionary.Type {
            // Keys of a dictionary are data, not field names: no snake_case mapping.
            guard case .object(let o) = value else { throw mismatch("an object") }
            return try dictType.decodeEntries(o, codingPath: codingPath, storage: storage) as! T
        }
        return try T(from: self)
    }

    func mismatch(_ expected: String) -> DecodingError {
        DecodingError.typeMismatch(Any.self, .init(codingPath: codingPath, debugDescription: "expected \(expected), got \(value.typeName)"))
    }

    func integer<T: FixedWidthInteger>(_ t: T.Type) throws -> T {
        guard case .number(let n) = value else { throw mismatch("an integer") }
        guard let v = T(n) else {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "\(n) is not an integer in range"))
        }
        return v
    }
}

extension ValueDecoder: SingleValueDecodingContainer {
    func decodeNil() -> Bool { value == .null }
    func decode(_ type: Bool.Type) throws -> Bool {
        guard case .bool(let b) = value else { throw nullOr("a boolean") }
        return b
    }
    func decode(_ type: String.Type) throws -> String {
        guard case .string(let s) = value else { throw nullOr("a string") }
        return s
    }
    func decode(_ type: Double.Type) throws -> Double {
        guard case .number(let n) = value, let d = Double(n) else { throw nullOr("a number") }
        return d
    }
    func decode(_ type: Float.Type) throws -> Float {
        guard case .number(let n) = value, let d = Float(n) else { throw nullOr("a number") }
        return d
    }
    func decode(_ type: Int.Type) throws -> Int { try checked { try integer(Int.self) } }
    func decode(_ type: Int8.Type) throws -> Int8 { try checked { try integer(Int8.self) } }
    func decode(_ type: Int16.Type) throws -> Int16 { try checked { try integer(Int16.self) } }
    func decode(_ type: Int32.Type) throws -> Int32 { try checked { try integer(Int32.self) } }
    func decode(_ type: Int64.Type) throws -> Int64 { try checked { try integer(Int64.self) } }
    func decode(_ type: UInt.Type) throws -> UInt { try checked { try integer(UInt.self) } }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try checked { try integer(UInt8.self) } }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try checked { try integer(UInt16.self) } }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try checked { try integer(UInt32.self) } }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try checked { try integer(UInt64.self) } }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decodeValue(T.self) }

    private func checked<T>(_ f: () throws -> T) throws -> T {
        if value == .null { throw DecodingError.valueNotFound(T.self, .init(codingPath: codingPath, debugDescription: "null")) }
        return try f()
    }

    private func nullOr(_ expected: String) -> DecodingError {
        if value == .null { return DecodingError.valueNotFound(Any.self, .init(codingPath: codingPath, debugDescription: "null")) }
        return mismatch(expected)
    }
}

/// Dictionaries keyed by strings decode their keys verbatim.
protocol StringKeyedDictionary {
    static func decodeEntries(_ o: [String: JSONValue], codingPath: [CodingKey], storage: DecoderStorage) throws -> Self
}

extension Dictionary: StringKeyedDictionary where Key == String, Value: Decodable {
    static func decodeEntries(_ o: [String: JSONValue], codingPath: [CodingKey], storage: DecoderStorage) throws -> Self {
        var out: [String: Value] = [:]
        for (k, v) in o {
            let path = codingPath + [IndexKey(stringValue: k) ?? IndexKey(0)]
            if v == .null, Value.self != JSONValue.self {
                throw DecodingError.valueNotFound(Value.self, .init(codingPath: path, debugDescription: "null"))
            }
            out[k] = try ValueDecoder(value: v, codingPath: path, storage: storage).decodeValue(Value.self)
        }
        return out
    }
}

struct KeyedValueDecoder<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let object: [String: JSONValue]
    let path: String
    let codingPath: [CodingKey]
    let storage: DecoderStorage

    var allKeys: [Key] {
        object.keys.compactMap { wire in
            storage.used[path, default: []].insert(wire)
            return Key(stringValue: wire)
        }
    }

    private func wire(_ key: Key) -> String {
        let w = snakeCase(key.stringValue)
        storage.used[path, default: []].insert(w)
        return w
    }

    func contains(_ key: Key) -> Bool { object[wire(key)] != nil }

    func decodeNil(forKey key: Key) throws -> Bool {
        guard let v = object[wire(key)] else { return true }
        return v == .null
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        guard let v = object[wire(key)] else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "missing"))
        }
        let sub = ValueDecoder(value: v, codingPath: codingPath + [key], storage: storage)
        if v == .null, T.self != JSONValue.self {
            throw DecodingError.valueNotFound(T.self, .init(codingPath: codingPath + [key], debugDescription: "null"))
        }
        return try sub.decodeValue(T.self)
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let v = object[wire(key)], v != .null else { return nil }
        return try ValueDecoder(value: v, codingPath: codingPath + [key], storage: storage).decodeValue(T.self)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        let v = object[wire(key)] ?? .null
        return try ValueDecoder(value: v, codingPath: codingPath + [key], storage: storage).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer {
        let v = object[wire(key)] ?? .null
        return try ValueDecoder(value: v, codingPath: codingPath + [key], storage: storage).unkeyedContainer()
    }

    func superDecoder() throws -> Decoder { ValueDecoder(value: .object(object), codingPath: codingPath, storage: storage) }
    func superDecoder(forKey key: Key) throws -> Decoder {
        ValueDecoder(value: object[wire(key)] ?? .null, codingPath: codingPath + [key], storage: storage)
    }
}

struct UnkeyedValueDecoder: UnkeyedDecodingContainer {
    let array: [JSONValue]
    let codingPath: [CodingKey]
    let storage: DecoderStorage
    var currentIndex = 0

    init(array: [JSONValue], codingPath: [CodingKey], storage: DecoderStorage) {
        self.array = array
        self.codingPath = codingPath
        self.storage = storage
    }

    var count: Int? { array.count }
    var isAtEnd: Bool { currentIndex >= array.count }

    private mutating func next() throws -> ValueDecoder {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(Any.self, .init(codingPath: codingPath, debugDescription: "array too short"))
        }
        let d = ValueDecoder(value: array[currentIndex], codingPath: codingPath + [IndexKey(currentIndex)], storage: storage)
        currentIndex += 1
        return d
    }

    mutating func decodeNil() throws -> Bool {
        if !isAtEnd, array[currentIndex] == .null { currentIndex += 1; return true }
        return false
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let d = try next()
        if d.value == .null, T.self != JSONValue.self {
            throw DecodingError.valueNotFound(T.self, .init(codingPath: d.codingPath, debugDescription: "null"))
        }
        return try d.decodeValue(T.self)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next().container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> UnkeyedDecodingContainer {
        try next().unkeyedContainer()
    }

    mutating func superDecoder() throws -> Decoder { try next() }
}

// MARK: - Encoding

/// Encodes `Encodable` values into a `JSONValue`: keys become `snake_case`, `nil`
/// optionals become `null` (every field of a result is always present), `Date` becomes
/// RFC 3339 in `timeZone`, `Decimal` an exact number, `UUID` a lower-case string.
public struct JSONValueEncoder: Sendable {
    public var timeZone: TimeZone

    public init(timeZone: TimeZone = TimeZone(identifier: "UTC") ?? .current) {
        self.timeZone = timeZone
    }

    public func encode<T: Encodable>(_ value: T) throws -> JSONValue {
        let root = EncNode()
        try EncoderImpl(node: root, codingPath: [], timeZone: timeZone).encodeValue(value)
        return root.build()
    }
}

final class EncNode {
    enum Kind { case empty, value(JSONValue), object([String: EncNode], [String]), array([EncNode]) }
    var kind: Kind = .empty

    func build() -> JSONValue {
        switch kind {
        case .empty: return .object([:])
        case .value(let v): return v
        case .object(let o, _):
            var out: [String: JSONValue] = [:]
            out.reserveCapacity(o.count)
            for (k, n) in o { out[k] = n.build() }
            return .object(out)
        case .array(let a): return .array(a.map { $0.build() })
        }
    }

    func child(forKey key: String) -> EncNode {
        var (o, order): ([String: EncNode], [String])
        if case .object(let o0, let ord) = kind { (o, order) = (o0, ord) } else { (o, order) = ([:], []) }
        if let existing = o[key] { return existing }
        let n = EncNode()
        o[key] = n
        order.append(key)
        kind = .object(o, order)
        return n
    }

    func appendChild() -> EncNode {
        var a: [EncNode] = []
        if case .array(let a0) = kind { a = a0 }
        let n = EncNode()
        a.append(n)
        kind = .array(a)
        return n
    }
}

struct EncoderImpl: Encoder {
    let node: EncNode
    let codingPath: [CodingKey]
    let timeZone: TimeZone
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .object = node.kind {} else { node.kind = .object([:], []) }
        return KeyedEncodingContainer(KeyedEnc<Key>(node: node, codingPath: codingPath, timeZone: timeZone))
    }

    func unkeyedContainer() -> UnkeyedEncodingContainer {
        if case .array = node.kind {} else { node.kind = .array([]) }
        return UnkeyedEnc(node: node, codingPath: codingPath, timeZone: timeZone)
    }

    func singleValueContainer() -> SingleValueEncodingContainer { self }

    func encodeValue<T: Encodable>(_ value: T) throws {
        switch value {
        case let v as JSONValue: node.kind = .value(v)
        case let d as Date: node.kind = .value(.string(RFC3339.format(d, timeZone: timeZone)))
        case let d as Decimal: node.kind = .value(.number(d.description))
        case let u as UUID: node.kind = .value(.string(u.uuidString.lowercased()))
        case let dict as [String: any Encodable]:
            // Keys of a dictionary are data, not field names: no snake_case mapping.
            node.kind = .object([:], [])
            for (k, v) in dict {
                let sub = EncoderImpl(node: node.child(forKey: k), codingPath: codingPath + [IndexKey(stringValue: k) ?? IndexKey(0)], timeZone: timeZone)
                try sub.encodeValue(v)
            }
        default: try value.encode(to: self)
        }
    }
}

extension EncoderImpl: SingleValueEncodingContainer {
    func encodeNil() { node.kind = .value(.null) }
    func encode(_ value: Bool) { node.kind = .value(.bool(value)) }
    func encode(_ value: String) { node.kind = .value(.string(value)) }
    func encode(_ value: Double) throws {
        guard value.isFinite else { throw EncodingError.invalidValue(value, .init(codingPath: codingPath, debugDescription: "not finite")) }
        node.kind = .value(.number(value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"))
    }
    func encode(_ value: Float) throws { try encode(Double(value)) }
    func encode(_ value: Int) { node.kind = .value(.number(String(value))) }
    func encode(_ value: Int8) { node.kind = .value(.number(String(value))) }
    func encode(_ value: Int16) { node.kind = .value(.number(String(value))) }
    func encode(_ value: Int32) { node.kind = .value(.number(String(value))) }
    func encode(_ value: Int64) { node.kind = .value(.number(String(value))) }
    func encode(_ value: UInt) { node.kind = .value(.number(String(value))) }
    func encode(_ value: UInt8) { node.kind = .value(.number(String(value))) }
    func encode(_ value: UInt16) { node.kind = .value(.number(String(value))) }
    func encode(_ value: UInt32) { node.kind = .value(.number(String(value))) }
    func encode(_ value: UInt64) { node.kind = .value(.number(String(value))) }
    func encode<T: Encodable>(_ value: T) throws { try encodeValue(value) }
}

struct KeyedEnc<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: EncNode
    let codingPath: [CodingKey]
    let timeZone: TimeZone

    private func sub(_ key: Key) -> EncoderImpl {
        EncoderImpl(node: node.child(forKey: snakeCase(key.stringValue)), codingPath: codingPath + [key], timeZone: timeZone)
    }

    func encodeNil(forKey key: Key) { sub(key).encodeNil() }
    func encode<T: Encodable>(_ value: T, forKey key: Key) throws { try sub(key).encodeValue(value) }
    func encodeIfPresent<T: Encodable>(_ value: T?, forKey key: Key) throws {
        if let value { try sub(key).encodeValue(value) } else { sub(key).encodeNil() }
    }
    func encodeIfPresent(_ value: Bool?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { encodeNil(forKey: key) } }
    func encodeIfPresent(_ value: String?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { encodeNil(forKey: key) } }
    func encodeIfPresent(_ value: Int?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { encodeNil(forKey: key) } }
    func encodeIfPresent(_ value: Int64?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { encodeNil(forKey: key) } }
    func encodeIfPresent(_ value: Double?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { encodeNil(forKey: key) } }

    func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        sub(key).container(keyedBy: keyType)
    }
    func nestedUnkeyedContainer(forKey key: Key) -> UnkeyedEncodingContainer { sub(key).unkeyedContainer() }
    func superEncoder() -> Encoder { EncoderImpl(node: node, codingPath: codingPath, timeZone: timeZone) }
    func superEncoder(forKey key: Key) -> Encoder { sub(key) }
}

struct UnkeyedEnc: UnkeyedEncodingContainer {
    let node: EncNode
    let codingPath: [CodingKey]
    let timeZone: TimeZone

    var count: Int {
        if case .array(let a) = node.kind { return a.count }
        return 0
    }

    private func sub() -> EncoderImpl {
        EncoderImpl(node: node.appendChild(), codingPath: codingPath + [IndexKey(count)], timeZone: timeZone)
    }

    mutating func encodeNil() { sub().encodeNil() }
    mutating func encode<T: Encodable>(_ value: T) throws { try sub().encodeValue(value) }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        sub().container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer() -> UnkeyedEncodingContainer { sub().unkeyedContainer() }
    mutating func superEncoder() -> Encoder { sub() }
}

// MARK: - JSONValue as Codable (for Foundation coders and nested use)

extension JSONValue: Codable {
    public init(from decoder: Decoder) throws {
        if let d = decoder as? ValueDecoder { self = d.value; return }
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int64.self) { self = .number(String(i)) }
        else if let d = try? c.decode(Decimal.self) { self = .number(d.description) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        if let e = encoder as? EncoderImpl { e.node.kind = .value(self); return }
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let n):
            if let i = Int64(n) { try c.encode(i) } else if let d = Decimal(string: n) { try c.encode(d) } else { try c.encode(n) }
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }
}
