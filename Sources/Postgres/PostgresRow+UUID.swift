import Foundation
internal import CLibPQ

extension PostgresRow {
    /// The `uuid` column at `position` of a result asked for in binary
    /// (`PostgresQuery.binaryResults`): its 16 bytes as stored, so the server formats no text and
    /// nothing parses hex. For readers of many rows (a backtest reads a million events' lead and
    /// event ids). Throws `decoding` as `decode` does: for NULL, another type, or a text column.
    public func uuid(at position: Int) throws -> UUID {
        guard position >= 0, position < rows.columnCount else {
            throw PostgresError(code: .decoding, message: "no column at index \(position) in result")
        }
        let raw = rows.result.raw, row = Int32(index), column = Int32(position)
        guard PQgetisnull(raw, row, column) == 0, rows.columnType(position) == .uuid, PQfformat(raw, column) == 1,
              PQgetlength(raw, row, column) == 16 else {
            let name = rows.columnName(position)
            throw PostgresError(code: .decoding, message: "column \"\(name)\": cannot decode \(rows.columnType(position)) as binary uuid", column: name)
        }
        return UUID(uuid: UnsafeRawPointer(PQgetvalue(raw, row, column)).loadUnaligned(as: uuid_t.self))
    }
}
