extension PostgresRow {
    /// The `json`/`jsonb` column at `position`, its text copied once from libpq into the bytes
    /// (`decode(PostgresJSON.self, …)` makes a `String` first, then copies that). For readers of
    /// many rows — a backtest reads a million stored messages. In a binary result
    /// (`PostgresQuery.binaryResults`) a `jsonb` is its format version (1) and then the same text.
    /// Throws `decoding` as `decode` does: for NULL, another column type or an unknown version.
    public func json(at position: Int) throws -> PostgresJSON {
        let cell = try cell(at: position)
        guard !cell.isNull, cell.type == .jsonb || cell.type == .json else { throw cannotDecode(position, cell.type, as: "JSON") }
        guard cell.isBinary, cell.type == .jsonb else { return PostgresJSON(rawBytes: Array(cell.bytes)) }
        guard cell.bytes.first == 1 else { throw cannotDecode(position, cell.type, as: "JSON (unknown binary jsonb version)") }
        return PostgresJSON(rawBytes: Array(cell.bytes.dropFirst()))
    }
}
