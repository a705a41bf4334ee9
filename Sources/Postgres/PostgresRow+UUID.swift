import Foundation

extension PostgresRow {
    /// The `uuid` column at `position` of a result asked for in binary
    /// (`PostgresQuery.binaryResults`): its 16 bytes as stored, so the server formats no text and
    /// nothing parses hex. For readers of many rows (a backtest reads a million events' lead and
    /// event ids). Throws `decoding` as `decode` does: for NULL, another type, or a text column.
    public func uuid(at position: Int) throws -> UUID {
        let bytes = try binaryBytes(at: position, of: [.uuid], as: "binary uuid")
        guard bytes.count == 16 else { throw cannotDecode(position, .uuid, as: "binary uuid") }
        return UUID(uuid: bytes.loadUnaligned(as: uuid_t.self))
    }
}
