extension PostgresRow {
    /// The `bytea` column at `position` of a result asked for in binary
    /// (`PostgresQuery.binaryResults`), lent to `body` where libpq holds it: no copy and no hex
    /// text. For packed columns read row by row (a year of the stage funnel by hour is 8 760
    /// packed hours, migration 0086). Throws `decoding` as `decode` does: for NULL, another
    /// column type, or a text column.
    public func withBytes<R>(at position: Int, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        try body(try binaryBytes(at: position, of: [.bytea], as: "binary bytes"))
    }
}
