internal import CLibPQ

/// One cell of a result, as libpq holds it: the first step every by-position reader shares
/// (`int(at:)`, `uuid(at:)`, `epochMicroseconds(at:)`, `withBytes(at:)`, `json(at:)`,
/// `index(at:in:)`), so each of them states only what it accepts and how it reads the bytes.
/// The bytes stay valid while the row's result does.
struct PostgresCell {
    let type: PostgresDataType
    let isNull: Bool
    /// Sent in binary (`PostgresQuery.binaryResults`) rather than as text.
    let isBinary: Bool
    let bytes: UnsafeRawBufferPointer
}

extension PostgresRow {
    /// The cell at `position`; throws `decoding` when the result has no such column.
    func cell(at position: Int) throws -> PostgresCell {
        guard position >= 0, position < rows.columnCount else {
            throw PostgresError(code: .decoding, message: "no column at index \(position) in result")
        }
        let raw = rows.result.raw, row = Int32(index), column = Int32(position)
        return PostgresCell(type: rows.columnType(position), isNull: PQgetisnull(raw, row, column) == 1,
                            isBinary: PQfformat(raw, column) == 1,
                            bytes: UnsafeRawBufferPointer(start: PQgetvalue(raw, row, column), count: Int(PQgetlength(raw, row, column))))
    }

    /// The bytes of the binary, non-NULL cell at `position` when its type is one of `types`;
    /// otherwise throws `decoding` naming the column and `what` it was to be read as.
    func binaryBytes(at position: Int, of types: [PostgresDataType], as what: String) throws -> UnsafeRawBufferPointer {
        let cell = try cell(at: position)
        guard !cell.isNull, cell.isBinary, types.contains(cell.type) else { throw cannotDecode(position, cell.type, as: what) }
        return cell.bytes
    }

    /// The `decoding` error for the column at `position`, of `type`, that cannot be read as `what`.
    func cannotDecode(_ position: Int, _ type: PostgresDataType, as what: String) -> PostgresError {
        let name = rows.columnName(position)
        return PostgresError(code: .decoding, message: "column \"\(name)\": cannot decode \(type) as \(what)", column: name)
    }
}
