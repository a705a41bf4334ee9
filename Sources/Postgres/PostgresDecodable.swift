import Foundation

/// Why a value could not be decoded; the row adds the column name before it reaches the caller.
public struct PostgresDecodingFailure: Error, Sendable {
    /// What went wrong, without the value.
    public var reason: String
    /// A failure with a reason that must not quote the value itself.
    public init(_ reason: String) { self.reason = reason }
}

/// A Swift type that a result column can be decoded into (from PostgreSQL's text format).
public protocol PostgresDecodable {
    /// Decodes a non-NULL value of column type `type`; throw `PostgresDecodingFailure` on mismatch.
    static func postgresDecode(text: String, type: PostgresDataType) throws -> Self
    /// The value for SQL NULL; non-optional types throw, `Optional` answers nil.
    static func postgresDecodeNull() throws -> Self
}

extension PostgresDecodable {
    public static func postgresDecodeNull() throws -> Self {
        throw PostgresDecodingFailure("unexpected NULL")
    }

    static func mismatch(_ type: PostgresDataType) -> PostgresDecodingFailure {
        PostgresDecodingFailure("cannot decode \(type) as \(Self.self)")
    }
}

private let integerTypes: Set<PostgresDataType> = [.int2, .int4, .int8, .oid]

extension String: PostgresDecodable {
    /// Any column decodes as String: its text form.
    public static func postgresDecode(text: String, type: PostgresDataType) throws -> String { text }
}

extension Int: PostgresDecodable {
    public static func postgresDecode(text: String, type: PostgresDataType) throws -> Int {
        guard integerTypes.contains(type), let value = Int(text) else { throw mismatch(type) }
        return value
    }
}

extension Int64: PostgresDecodable {
    public static func postgresDecode(text: String, type: PostgresDataType) throws -> Int64 {
        guard integerTypes.contains(type), let value = Int64(text) else { throw mismatch(type) }
        return value
    }
}

extension Int32: PostgresDecodable {
    public static func postgresDecode(text: String, type: PostgresDataType) throws -> Int32 {
        guard integerTypes.contains(type), let value = Int32(text) else {
            throw PostgresDecodingFailure("cannot decode \(type) as Int32 (wrong type or out of range)")
        }
        return value
    }
}

extension Double: PostgresDecodable {
    public static func postgresDecode(text: String, type: PostgresDataType) throws -> Double {
        let numeric: Set<PostgresDataType> = [.float4, .float8, .numeric, .int2, .int4, .int8]
        guard numeric.contains(type), let value = Double(text) else { throw mismatch(type) }
        return value
    }
}

extension Bool: PostgresDecodable {
    public static func postgresDecode(text: String, type: PostgresDataType) throws -> Bool {
        guard type == .bool else { throw mismatch(type) }
        switch text {
        case "t": return true
        case "f": return false
        default: throw mismatch(type)
        }
    }
}

extension UUID: PostgresDecodable {
    public static func postgresDecode(text: String, type: PostgresDataType) throws -> UUID {
        guard type == .uuid, let value = UUID(uuidString: text) else { throw mismatch(type) }
        return value
    }
}

extension Date: PostgresDecodable {
    public static func postgresDecode(text: String, type: PostgresDataType) throws -> Date {
        guard type == .timestamptz || type == .timestamp || type == .date,
            let value = PostgresTimestamp.parse(text)
        else { throw mismatch(type) }
        return value
    }
}

extension Data: PostgresDecodable {
    public static func postgresDecode(text: String, type: PostgresDataType) throws -> Data {
        guard type == .bytea, let bytes = PostgresHex.decode(text) else { throw mismatch(type) }
        return Data(bytes)
    }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public static func postgresDecode(text: String, type: PostgresDataType) throws -> Wrapped? {
        try Wrapped.postgresDecode(text: text, type: type)
    }
    public static func postgresDecodeNull() throws -> Wrapped? { nil }
}

/// Element types of arrays decoded from `{…}` text: the array OID maps to the element's OID.
private let arrayElementTypes: [PostgresDataType: PostgresDataType] = [
    .boolArray: .bool, .byteaArray: .bytea, .int2Array: .int2, .int4Array: .int4,
    .textArray: .text, .varcharArray: .varchar, .int8Array: .int8, .float8Array: .float8,
    .timestamptzArray: .timestamptz, .uuidArray: .uuid, .jsonbArray: .jsonb,
]

extension Array: PostgresDecodable where Element: PostgresDecodable {
    /// One-dimensional arrays only; NULL elements decode through `Element.postgresDecodeNull()`.
    public static func postgresDecode(text: String, type: PostgresDataType) throws -> [Element] {
        guard let elementType = arrayElementTypes[type] else { throw mismatch(type) }
        guard let items = PostgresArrayLiteral.parse(text) else {
            throw PostgresDecodingFailure("malformed or multi-dimensional \(type) value")
        }
        return try items.map { item in
            guard let item else { return try Element.postgresDecodeNull() }
            return try Element.postgresDecode(text: item, type: elementType)
        }
    }
}

/// Parses the text form of a one-dimensional array: `{a,"b c",NULL}`.
enum PostgresArrayLiteral {
    static func parse(_ text: String) -> [String?]? {
        let s = Array(text.unicodeScalars)
        guard s.first == "{", s.last == "}" else { return nil }
        var items: [String?] = []
        var i = 1
        let end = s.count - 1
        if end == 1 { return [] }
        while i <= end {
            if s[i] == "\"" {
                var item = String.UnicodeScalarView()
                i += 1
                while i < end, s[i] != "\"" {
                    if s[i] == "\\" { i += 1 }
                    guard i < end else { return nil }
                    item.append(s[i])
                    i += 1
                }
                guard i < end else { return nil }
                i += 1  // closing quote
                items.append(String(item))
            } else {
                var item = String.UnicodeScalarView()
                while i < end, s[i] != "," {
                    if s[i] == "{" { return nil }  // nested: more than one dimension
                    item.append(s[i])
                    i += 1
                }
                let word = String(item)
                items.append(word == "NULL" ? nil : word)
            }
            guard i == end || s[i] == "," else { return nil }
            i += 1
        }
        return items
    }
}
