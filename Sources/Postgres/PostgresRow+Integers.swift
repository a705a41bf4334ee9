extension PostgresRow {
    /// The integer column at `position` (`int2`, `int4`, `int8`, `oid`), read from libpq's text
    /// without making a `String` (or from its bytes when the result is binary). For results of thousands of rows (a year of hourly segment
    /// metrics is 8 784 rows of 9 integers), where `decode(Int.self, …)` spends more on the
    /// string and the column lookup than on the number. Throws `decoding` as `decode` does: for
    /// NULL, another column type, or text that is not a number in range.
    public func int(at position: Int) throws -> Int {
        let cell = try cell(at: position)
        let type = cell.type
        let value: Int? =
            if cell.isNull || !(type == .int2 || type == .int4 || type == .int8 || type == .oid) { nil }
            else if cell.isBinary { Self.bigEndian(cell.bytes).map { type == .oid ? Int(UInt32(truncatingIfNeeded: $0)) : $0 } }
            else { Self.parseInteger(cell.bytes) }
        guard let value else { throw cannotDecode(position, type, as: "Int") }
        return value
    }

    /// The `timestamptz` (or `timestamp`) column at `position` of a result asked for in binary
    /// (`PostgresQuery.binaryResults`), as microseconds since 1970-01-01 UTC: the server sends
    /// its 8-byte count from 2000-01-01 as stored, formatting nothing. Throws `decoding` for NULL,
    /// another type, or a text column.
    public func epochMicroseconds(at position: Int) throws -> Int64 {
        let what = "binary timestamp microseconds"
        let bytes = try binaryBytes(at: position, of: [.timestamptz, .timestamp], as: what)
        guard let micros = Self.bigEndian(bytes) else { throw cannotDecode(position, rows.columnType(position), as: what) }
        return Int64(micros) + Self.microsecondsFrom1970To2000
    }

    /// PostgreSQL's binary timestamps count from 2000-01-01 00:00:00 UTC.
    static let microsecondsFrom1970To2000: Int64 = 946_684_800_000_000

    /// A binary integer of 2, 4 or 8 bytes, network order, signed; nil for any other length.
    static func bigEndian(_ bytes: UnsafeRawBufferPointer) -> Int? {
        switch bytes.count {
        case 2: return Int(Int16(bigEndian: bytes.loadUnaligned(as: Int16.self)))
        case 4: return Int(Int32(bigEndian: bytes.loadUnaligned(as: Int32.self)))
        case 8: return Int(Int64(bigEndian: bytes.loadUnaligned(as: Int64.self)))
        default: return nil
        }
    }

    /// An optional `-` and decimal digits, nil on anything else or on overflow.
    static func parseInteger(_ text: UnsafeRawBufferPointer) -> Int? {
        let count = text.count
        var i = 0, negative = false
        if count > 0, text[0] == UInt8(ascii: "-") { negative = true; i = 1 }
        guard i < count else { return nil }
        var value = 0
        while i < count {
            let digit = Int(text[i]) - 48
            guard digit >= 0, digit <= 9 else { return nil }
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = negative ? times.subtractingReportingOverflow(digit) : times.addingReportingOverflow(digit)
            guard !o1, !o2 else { return nil }
            value = next
            i += 1
        }
        return value
    }
}

extension PostgresRow {
    /// Which of `candidates` (UTF-8 bytes) the text in column `position` is, compared byte for
    /// byte without making a `String`; nil for NULL or a text that is none of them. For columns
    /// that repeat a few names over many rows (a year of hourly stage moves is 105 000 rows
    /// naming 4 stages twice each).
    public func index(at position: Int, in candidates: [[UInt8]]) throws -> Int? {
        let cell = try cell(at: position)
        if cell.isNull { return nil }
        return candidates.firstIndex { $0.count == cell.bytes.count && $0.elementsEqual(cell.bytes) }
    }
}
