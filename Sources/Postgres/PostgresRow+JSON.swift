internal import CLibPQ

extension PostgresRow {
    /// The `json`/`jsonb` column at `position`, its text copied once from libpq into the bytes
    /// (`decode(PostgresJSON.self, …)` makes a `String` first, then copies that). For readers of
    /// many rows — a backtest reads a million stored messages. Throws `decoding` as `decode` does:
    /// for NULL or another column type.
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
        let text = UnsafeRawBufferPointer(start: PQgetvalue(raw, row, column), count: Int(PQgetlength(raw, row, column)))
        return PostgresJSON(rawBytes: Array(text))
    }
}
