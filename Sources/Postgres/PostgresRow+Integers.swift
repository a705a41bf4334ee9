internal import CLibPQ

extension PostgresRow {
    /// The integer column at `position` (`int2`, `int4`, `int8`, `oid`), read from libpq's text
    /// without making a `String`. For results of thousands of rows (a year of hourly segment
    /// metrics is 8 784 rows of 9 integers), where `decode(Int.self, …)` spends more on the
    /// string and the column lookup than on the number. Throws `decoding` as `decode` does: for
    /// NULL, another column type, or text that is not a number in range.
    public func int(at position: Int) throws -> Int {
        guard position >= 0, position < rows.columnCount else {
            throw PostgresError(code: .decoding, message: "no column at index \(position) in result")
        }
        let raw = rows.result.raw, row = Int32(index), column = Int32(position)
        let type = rows.columnType(position)
        let value: Int? =
            if PQgetisnull(raw, row, column) == 1 || !(type == .int2 || type == .int4 || type == .int8 || type == .oid) { nil }
            else { Self.parseInteger(UnsafeRawPointer(PQgetvalue(raw, row, column)).assumingMemoryBound(to: UInt8.self), count: Int(PQgetlength(raw, row, column))) }
        guard let value else {
            let name = rows.columnName(position)
            throw PostgresError(code: .decoding, message: "column \"\(name)\": cannot decode \(type) as Int", column: name)
        }
        return value
    }

    /// An optional `-` and decimal digits, nil on anything else or on overflow.
    static func parseInteger(_ text: UnsafePointer<UInt8>, count: Int) -> Int? {
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
        guard position >= 0, position < rows.columnCount else {
            throw PostgresError(code: .decoding, message: "no column at index \(position) in result")
        }
        let raw = rows.result.raw, row = Int32(index), column = Int32(position)
        if PQgetisnull(raw, row, column) == 1 { return nil }
        let text = UnsafeRawBufferPointer(start: PQgetvalue(raw, row, column), count: Int(PQgetlength(raw, row, column)))
        return candidates.firstIndex { $0.count == text.count && $0.elementsEqual(text) }
    }
}
