import Essentials
import Foundation
import Postgres
import Segmentation

/// A compact JSON writer producing exactly the bytes Foundation's `JSONEncoder` produces with
/// `[.sortedKeys, .withoutEscapingSlashes]`: keys sorted by their UTF-8 bytes, numbers as
/// `Double.description` without a trailing `.0`, control characters escaped as `\b \t \n \f \r`
/// or `\u00xx`, everything else (slashes included) written as is. Ingest writes a decision, its
/// outbox payloads and the stored event per message, and `JSONEncoder` was the largest CPU cost
/// of the write path; this appends to one byte buffer instead. Tests compare its output with
/// `JSONEncoder`'s byte for byte.
package struct JSONWriter {
    /// The document written so far.
    package private(set) var bytes: [UInt8] = []

    package init(capacity: Int = 512) { bytes.reserveCapacity(capacity) }

    /// The document as a `jsonb` parameter.
    package var json: PostgresJSON { PostgresJSON(rawBytes: bytes) }

    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    package mutating func byte(_ b: UInt8) { bytes.append(b) }

    /// JSON text written in the source (punctuation and keys, e.g. `,"exits":`), appended as is:
    /// for writers of many objects of one shape, one copy instead of a call per key and comma.
    package mutating func fragment(_ text: StaticString) { raw(text) }

    /// JSON text already written (a value formatted once and repeated), appended as is.
    package mutating func fragment(_ text: ArraySlice<UInt8>) { bytes.append(contentsOf: text) }

    /// A document already in JSON (a payload written before), copied as it is.
    package mutating func append(json: PostgresJSON) { bytes.append(contentsOf: json.bytes) }

    package mutating func null() { raw("null") }

    package mutating func bool(_ value: Bool) { if value { raw("true") } else { raw("false") } }

    /// Up to `room` bytes written by `body` through a cursor on the stack, then appended in one
    /// copy: for writers of many small pieces of one shape (a stage step), one append and one
    /// uniqueness check a piece instead of one a key and a value.
    package mutating func write(room: Int, _ body: (inout JSONCursor) -> Void) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: room) { buffer in
            var cursor = JSONCursor(buffer)
            body(&cursor)
            bytes.append(contentsOf: UnsafeBufferPointer(start: buffer.baseAddress, count: buffer.baseAddress!.distance(to: cursor.position)))
        }
    }

    /// Decimal digits written straight into the buffer (no `String` per number: a year of hourly
    /// metrics holds about 100 000 of them).
    package mutating func int(_ value: Int) {
        if value >= 0, value < 10 { bytes.append(UInt8(truncatingIfNeeded: 48 + value)); return }
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        JSONCursor.digits(of: value.magnitude) { bytes.append(contentsOf: $0) }
    }

    /// A number as `JSONEncoder` writes a `Double` (`JSONCursor.number`).
    package mutating func number(_ value: Double) { JSONCursor.numberText(value) { bytes.append(contentsOf: $0) } }

    /// `Double(tenThousandths) / 10_000` as `number` writes it (`JSONCursor.tenThousandths`).
    package mutating func tenThousandths(_ value: Int) { write(room: 32) { $0.tenThousandths(value) } }

    /// A UUID as a JSON string in its lower-case text form (no `uuidString` formatting).
    package mutating func uuid(_ id: UUID) {
        bytes.append(UInt8(ascii: "\""))
        id.appendLowercasedText(to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    package mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            var start = 0
            for i in 0..<utf8.count {
                let c = utf8[i]
                guard c < 0x20 || c == 0x22 || c == 0x5C else { continue }
                if start < i { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<i])) }
                start = i + 1
                switch c {
                case 0x22: raw("\\\"")
                case 0x5C: raw("\\\\")
                case 0x08: raw("\\b")
                case 0x09: raw("\\t")
                case 0x0A: raw("\\n")
                case 0x0C: raw("\\f")
                case 0x0D: raw("\\r")
                default:
                    raw("\\u00")
                    Hex.append(c, to: &bytes)
                }
            }
            if start < utf8.count { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...])) }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    package mutating func optionalString(_ value: String?) { if let value { string(value) } else { null() } }

    /// A `Timestamp` as a JSON string (its text never needs escaping).
    package mutating func timestamp(_ value: Timestamp) {
        bytes.append(UInt8(ascii: "\""))
        value.appendDescription(to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    /// A `Date` as whole epoch microseconds, rounded as a bound `timestamptz` parameter is.
    package mutating func micros(_ date: Date) {
        bytes.append(contentsOf: String(Int64((date.timeIntervalSince1970 * 1_000_000).rounded())).utf8)
    }

    /// A `Timestamp` (milliseconds) as epoch microseconds.
    package mutating func micros(_ t: Timestamp) { bytes.append(contentsOf: String(t.milliseconds * 1000).utf8) }

    /// Bytes as a lower-case hex string (`bytea` through `decode(…, 'hex')`).
    package mutating func hex(_ data: [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        bytes.reserveCapacity(bytes.count + data.count * 2 + 1)
        Hex.append(data, to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    package mutating func stringArray(_ values: [String]) { array(values) { w, v in w.string(v) } }

    /// An array, each item written by `write`.
    package mutating func array<T>(_ items: [T], _ write: (inout JSONWriter, T) -> Void) {
        byte(UInt8(ascii: "["))
        var first = true
        for item in items {
            if !first { byte(UInt8(ascii: ",")) }
            first = false
            write(&self, item)
        }
        byte(UInt8(ascii: "]"))
    }

    /// An object of fixed members: `body` writes them with `member(_:first:)`, in sorted order.
    package mutating func fixedObject(_ body: (inout JSONWriter, inout Bool) -> Void) {
        var first = true
        byte(UInt8(ascii: "{"))
        body(&self, &first)
        byte(UInt8(ascii: "}"))
    }

    /// A free-form value; object keys sorted.
    package mutating func value(_ value: Value) {
        switch value {
        case .null: null()
        case .bool(let b): bool(b)
        case .number(let n): number(n)
        case .string(let s): string(s)
        case .array(let items):
            array(items) { w, item in w.value(item) }
        case .object(let fields):
            object(fields) { w, v in w.value(v) }
        }
    }

    /// An object of `fields` with keys in `JSONEncoder`'s sorted order (UTF-8 byte order).
    package mutating func object<T>(_ fields: [String: T], _ write: (inout JSONWriter, T) -> Void) {
        byte(UInt8(ascii: "{"))
        var first = true
        for key in Self.sortedKeys(fields.keys) {
            if !first { byte(UInt8(ascii: ",")) }
            first = false
            self.key(key)
            write(&self, fields[key]!)
        }
        byte(UInt8(ascii: "}"))
    }

    package static func sortedKeys(_ keys: some Collection<String>) -> [String] {
        keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// `"key":` (a comma before it is the caller's).
    package mutating func key(_ name: String) {
        string(name)
        byte(UInt8(ascii: ":"))
    }

    /// `,"key":` or `"key":` for the first member: the writers of fixed-shape objects use it.
    package mutating func member(_ name: StaticString, first: inout Bool) {
        if !first { byte(UInt8(ascii: ",")) }
        first = false
        byte(UInt8(ascii: "\""))
        raw(name)
        raw("\":")
    }
}
