internal import CLibPQ

extension PostgresRow {
    /// The `bytea` column at `position` of a result asked for in binary
    /// (`PostgresQuery.binaryResults`), lent to `body` where libpq holds it: no copy and no hex
    /// text. For packed columns read row by row (a year of the stage funnel by hour is 8 760
    /// packed hours, migration 0086). Throws `decoding` as `decode` does: for NULL, another
    /// column type, or a text column.
    public func withBytes<R>(at position: Int, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        guard position >= 0, position < rows.columnCount else {
            throw PostgresError(code: .decoding, message: "no column at index \(position) in result")
        }
        let raw = rows.result.raw, row = Int32(index), column = Int32(position)
        let type = rows.columnType(position)
        guard PQgetisnull(raw, row, column) == 0, type == .bytea, PQfformat(raw, column) == 1 else {
            let name = rows.columnName(position)
            throw PostgresError(code: .decoding, message: "column \"\(name)\": cannot decode \(type) as binary bytes", column: name)
        }
        return try body(UnsafeRawBufferPointer(start: PQgetvalue(raw, row, column), count: Int(PQgetlength(raw, row, column))))
    }
}
