internal import CLibPQ

extension PostgresRow {
    /// The `json`/`jsonb` column at `position`, its text copied once from libpq into the bytes
    /// (`decode(PostgresJSON.self, …)` makes a `String` first, then copies that). For readers of
    /// many rows — a backtest reads a million stored messages. In a binary result
    /// (`PostgresQuery.binaryResults`) a `jsonb` is its format version (1) and then the same text.
    /// Throws `decoding` as `decode` does: for NULL, another column type or an unknown version.
    public func json(at position: Int) throws -> PostgresJSON {
        guard position >= 0, position < rows.columnCount else {
            throw PostgresError(code: .decoding, message: "no column at index \(position) in result")
        }
        let raw = rows.result.raw, row = Int32(index), column = Int32(position)
        let type = rows.columnType(position)
        guard PQgetisnull(raw, row, column) == 0, type == .jsonb || type == .json else {
            let name = rows.columnName(position)
            throw PostgresError(code: .decoding, message: "column \"\(name)\": cannot decode \(type) as JSON", column: name)
        }
        let value = UnsafeRawBufferPointer(start: PQgetvalue(raw, row, column), count: Int(PQgetlength(raw, row, column)))
        guard PQfformat(raw, column) == 1, type == .jsonb else { return PostgresJSON(rawBytes: Array(value)) }
        guard value.first == 1 else {
            let name = rows.columnName(position)
            throw PostgresError(code: .decoding, message: "column \"\(name)\": unknown binary jsonb version", column: name)
        }
        return PostgresJSON(rawBytes: Array(value.dropFirst()))
    }
}
