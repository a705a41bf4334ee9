import Essentials
import Foundation

/// One bound parameter exactly as libpq sends it: type OID, bytes (nil for NULL) and format.
public struct PostgresBind: Sendable, Equatable {
    /// The parameter's type OID, sent even for NULL.
    public var type: PostgresDataType
    /// The encoded value; nil is SQL NULL.
    public var bytes: [UInt8]?
    /// Binary format is used only for `bytea`, which would otherwise double in size as hex.
    public var isBinary: Bool

    /// A parameter with the given type, bytes and wire format.
    public init(type: PostgresDataType, bytes: [UInt8]?, isBinary: Bool = false) {
        self.type = type
        self.bytes = bytes
        self.isBinary = isBinary
    }
}

/// A Swift value that can be bound as a query parameter.
///
/// Values go out in PostgreSQL's text format with an explicit type OID (binary for `bytea`):
/// the text forms are stable, readable in logs of the server, and cost nothing measurable next to
/// a network round trip.
public protocol PostgresEncodable {
    /// The OID sent with the parameter, also when the value is NULL.
    static var postgresType: PostgresDataType { get }
    /// True when `postgresEncoded()` produces PostgreSQL's binary format.
    static var postgresBinaryFormat: Bool { get }
    /// The value's bytes; nil means SQL NULL.
    func postgresEncoded() -> [UInt8]?
}

extension PostgresEncodable {
    public static var postgresBinaryFormat: Bool { false }

    /// The parameter this value becomes.
    public var postgresBind: PostgresBind {
        PostgresBind(type: Self.postgresType, bytes: postgresEncoded(), isBinary: Self.postgresBinaryFormat)
    }
}

/// A value that can also be an element of a PostgreSQL array parameter (`text[]`, `uuid[]`, …).
public protocol PostgresArrayElement: PostgresEncodable {
    /// The OID of the array type whose elements are of this type.
    static var postgresArrayType: PostgresDataType { get }
    /// The element's text form inside an array literal (UTF-8), unquoted; nil for NULL.
    func postgresArrayElementText() -> [UInt8]?
}

extension PostgresArrayElement {
    /// By default the element's own text form.
    public func postgresArrayElementText() -> [UInt8]? { postgresEncoded() }
}

extension String: PostgresArrayElement {
    public static var postgresType: PostgresDataType { .text }
    public static var postgresArrayType: PostgresDataType { .textArray }
    public func postgresEncoded() -> [UInt8]? { Array(utf8) }
}

extension Int: PostgresArrayElement {
    public static var postgresType: PostgresDataType { .int8 }
    public static var postgresArrayType: PostgresDataType { .int8Array }
    public func postgresEncoded() -> [UInt8]? { Array(String(self).utf8) }
}

extension Int64: PostgresArrayElement {
    public static var postgresType: PostgresDataType { .int8 }
    public static var postgresArrayType: PostgresDataType { .int8Array }
    public func postgresEncoded() -> [UInt8]? { Array(String(self).utf8) }
}

extension Int32: PostgresArrayElement {
    public static var postgresType: PostgresDataType { .int4 }
    public static var postgresArrayType: PostgresDataType { .int4Array }
    public func postgresEncoded() -> [UInt8]? { Array(String(self).utf8) }
}

extension Double: PostgresArrayElement {
    public static var postgresType: PostgresDataType { .float8 }
    public static var postgresArrayType: PostgresDataType { .float8Array }
    /// Swift's shortest round-trip form; PostgreSQL reads `inf`, `-inf` and `nan` too.
    public func postgresEncoded() -> [UInt8]? { Array(description.utf8) }
}

extension Bool: PostgresArrayElement {
    public static var postgresType: PostgresDataType { .bool }
    public static var postgresArrayType: PostgresDataType { .boolArray }
    public func postgresEncoded() -> [UInt8]? { self ? [UInt8(ascii: "t")] : [UInt8(ascii: "f")] }
}

extension UUID: PostgresArrayElement {
    public static var postgresType: PostgresDataType { .uuid }
    public static var postgresArrayType: PostgresDataType { .uuidArray }
    public func postgresEncoded() -> [UInt8]? {
        var text: [UInt8] = []
        text.reserveCapacity(36)
        appendLowercasedText(to: &text)
        return text
    }
}

extension Date: PostgresArrayElement {
    public static var postgresType: PostgresDataType { .timestamptz }
    public static var postgresArrayType: PostgresDataType { .timestamptzArray }
    /// ISO 8601 in UTC with microseconds (PostgreSQL's precision).
    public func postgresEncoded() -> [UInt8]? { Array(PostgresTimestamp.format(self).utf8) }
}

extension Data: PostgresArrayElement {
    public static var postgresType: PostgresDataType { .bytea }
    public static var postgresArrayType: PostgresDataType { .byteaArray }
    public static var postgresBinaryFormat: Bool { true }
    public func postgresEncoded() -> [UInt8]? { Array(self) }
    /// Inside an array literal (always text) bytea is written in hex form.
    public func postgresArrayElementText() -> [UInt8]? { Array(PostgresHex.encode(self).utf8) }
}

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    public static var postgresType: PostgresDataType { Wrapped.postgresType }
    public static var postgresBinaryFormat: Bool { Wrapped.postgresBinaryFormat }
    public func postgresEncoded() -> [UInt8]? { self.flatMap { $0.postgresEncoded() } }
}

extension Optional: PostgresArrayElement where Wrapped: PostgresArrayElement {
    public static var postgresArrayType: PostgresDataType { Wrapped.postgresArrayType }
    /// nil (NULL) for `.none`.
    public func postgresArrayElementText() -> [UInt8]? { self.flatMap { $0.postgresArrayElementText() } }
}

extension Array: PostgresEncodable where Element: PostgresArrayElement {
    public static var postgresType: PostgresDataType { Element.postgresArrayType }
    /// A one-dimensional array literal: every element quoted, NULL bare. Built byte by byte
    /// (`"` and `\` never occur inside a multi-byte UTF-8 sequence): lane batches bind arrays
    /// of hundreds of ids, and appending to a String scalar by scalar was a visible cost.
    public func postgresEncoded() -> [UInt8]? {
        let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")
        var literal: [UInt8] = [UInt8(ascii: "{")]
        literal.reserveCapacity(2 + count * 40)
        for (index, element) in enumerated() {
            if index > 0 { literal.append(UInt8(ascii: ",")) }
            guard let text = element.postgresArrayElementText() else {
                literal.append(contentsOf: "NULL".utf8)
                continue
            }
            literal.append(quote)
            for byte in text {
                if byte == quote || byte == backslash { literal.append(backslash) }
                literal.append(byte)
            }
            literal.append(quote)
        }
        literal.append(UInt8(ascii: "}"))
        return literal
    }
}

/// `bytea` hex form (`\x0a1b…`), used inside array literals and to decode text results: the
/// `\x` prefix around `Hex`.
enum PostgresHex {
    static func encode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var out = [UInt8(ascii: "\\"), UInt8(ascii: "x")]
        out.reserveCapacity(2 + bytes.count * 2)
        Hex.append(bytes, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes `\x…`; nil when the text is not hex form.
    static func decode(_ text: String) -> [UInt8]? {
        var text = text
        return text.withUTF8 { utf8 in
            guard utf8.count >= 2, utf8[0] == UInt8(ascii: "\\"), utf8[1] == UInt8(ascii: "x") else { return nil }
            return Hex.decode(UnsafeBufferPointer(rebasing: utf8[2...]))
        }
    }
}
