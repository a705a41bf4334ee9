import Foundation

/// A `jsonb` value: bound as a parameter and decoded from `json`/`jsonb` columns.
///
/// Holds the raw UTF-8 JSON so that callers who already have bytes (an event body) pass them
/// through without a decode/encode round trip, and callers with Swift values use `Codable`.
public struct PostgresJSON: Sendable, Equatable {
    /// The JSON document as UTF-8 bytes.
    public var bytes: [UInt8]

    /// Wraps JSON bytes as they are; the server validates them.
    public init(rawBytes: [UInt8]) { self.bytes = rawBytes }

    /// Encodes a value with `JSONEncoder` (sorted keys, so equal values give equal bytes).
    public init<T: Encodable>(encoding value: T, encoder: JSONEncoder? = nil) throws {
        let encoder = encoder ?? {
            let e = JSONEncoder()
            e.outputFormatting = [.sortedKeys]
            return e
        }()
        self.bytes = Array(try encoder.encode(value))
    }

    /// Decodes the document into `type`.
    public func decode<T: Decodable>(_ type: T.Type, decoder: JSONDecoder = JSONDecoder()) throws -> T {
        try decoder.decode(type, from: Data(bytes))
    }
}

extension PostgresJSON: PostgresArrayElement, PostgresDecodable {
    public static var postgresType: PostgresDataType { .jsonb }
    public static var postgresArrayType: PostgresDataType { .jsonbArray }
    public func postgresEncoded() -> [UInt8]? { bytes }

    public static func postgresDecode(text: String, type: PostgresDataType) throws -> PostgresJSON {
        guard type == .jsonb || type == .json else { throw mismatch(type) }
        return PostgresJSON(rawBytes: Array(text.utf8))
    }
}
