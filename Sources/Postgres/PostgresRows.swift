import Foundation
internal import CLibPQ

/// The rows a statement returned, decoded lazily by column name or index.
///
/// Owns the libpq result (freed when the last reference goes away); immutable, so it may be
/// handed to another thread.
public struct PostgresRows: Sendable, RandomAccessCollection {
    let result: PGResultHandle
    /// Rows returned (0 for commands).
    public let count: Int

    init(result: PGResultHandle) {
        self.result = result
        count = Int(PQntuples(result.raw))
    }

    /// Column names in result order (read from libpq on demand: most callers never need them).
    public var columns: [String] {
        (0..<columnCount).map { String(cString: PQfname(result.raw, Int32($0))) }
    }

    var columnCount: Int { Int(PQnfields(result.raw)) }

    /// The position of the first column called `name` (exact match, no case folding).
    func columnPosition(_ name: String) -> Int? {
        name.withCString { wanted in
            (0..<columnCount).first { strcmp(PQfname(result.raw, Int32($0)), wanted) == 0 }
        }
    }

    func columnName(_ position: Int) -> String { String(cString: PQfname(result.raw, Int32(position))) }

    func columnType(_ position: Int) -> PostgresDataType {
        PostgresDataType(rawValue: PQftype(result.raw, Int32(position)))
    }

    /// Rows affected by INSERT/UPDATE/DELETE (from the command tag), 0 when not applicable.
    public var affectedRows: Int { Int(String(cString: PQcmdTuples(result.raw))) ?? 0 }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    /// The row at `position` (0-based).
    public subscript(position: Int) -> PostgresRow {
        PostgresRow(rows: self, index: position)
    }

    /// The first row, or nil when the statement returned none.
    public var first: PostgresRow? { isEmpty ? nil : self[0] }

    /// The single value of a one-row, one-column result (e.g. `SELECT count(*)`).
    public func scalar<T: PostgresDecodable>(_ type: T.Type = T.self) throws -> T {
        guard let row = first, columnCount > 0 else {
            throw PostgresError(code: .decoding, message: "expected one row, got none")
        }
        return try row.decode(type, at: 0)
    }
}

/// One row of a result; decode columns with `row.decode(T.self, "name")` or by index.
public struct PostgresRow: Sendable {
    let rows: PostgresRows
    let index: Int

    /// Decodes the named column; throws `decoding` naming the column if it is missing, NULL for a
    /// non-optional type, or of a type that does not convert.
    public func decode<T: PostgresDecodable>(_ type: T.Type = T.self, _ column: String) throws -> T {
        guard let position = rows.columnPosition(column) else {
            throw PostgresError(
                code: .decoding, message: "no column \"\(column)\" in result", column: column)
        }
        return try decode(type, at: position)
    }

    /// Decodes the column at `position` (0-based).
    public func decode<T: PostgresDecodable>(_ type: T.Type = T.self, at position: Int) throws -> T {
        guard position >= 0, position < rows.columnCount else {
            throw PostgresError(code: .decoding, message: "no column at index \(position) in result")
        }
        let result = rows.result
        guard PQfformat(result.raw, Int32(position)) == 0 else {
            let name = rows.columnName(position)
            throw PostgresError(code: .decoding, message: "column \"\(name)\" is binary: read it with int(at:), index(at:in:) or epochMicroseconds(at:)", column: name)
        }
        do {
            if PQgetisnull(result.raw, Int32(index), Int32(position)) == 1 {
                return try T.postgresDecodeNull()
            }
            let text = String(cString: PQgetvalue(result.raw, Int32(index), Int32(position)))
            return try T.postgresDecode(text: text, type: rows.columnType(position))
        } catch let failure as PostgresDecodingFailure {
            let name = rows.columnName(position)
            throw PostgresError(
                code: .decoding, message: "column \"\(name)\": \(failure.reason)", column: name)
        }
    }

    /// Whether column `position` holds the same value, byte for byte, in this row and in row
    /// `other` of the same result (both NULL counts as the same): a reader of sorted rows
    /// decodes a value repeated over consecutive rows once (a backtest's lead ids).
    public func hasSameValue(at position: Int, asRow other: Int) -> Bool {
        guard position >= 0, position < rows.columnCount, other >= 0, other < rows.count else { return false }
        let raw = rows.result.raw, row = Int32(index), otherRow = Int32(other), column = Int32(position)
        let null = PQgetisnull(raw, row, column) == 1
        guard null == (PQgetisnull(raw, otherRow, column) == 1) else { return false }
        if null { return true }
        let length = PQgetlength(raw, row, column)
        guard length == PQgetlength(raw, otherRow, column) else { return false }
        return memcmp(PQgetvalue(raw, row, column), PQgetvalue(raw, otherRow, column), Int(length)) == 0
    }

    /// Whether column `position` is SQL NULL in this row, without looking a name up per row (false
    /// for a position out of range).
    public func isNull(at position: Int) -> Bool {
        guard position >= 0, position < rows.columnCount else { return false }
        return PQgetisnull(rows.result.raw, Int32(index), Int32(position)) == 1
    }

    /// True when the named column is SQL NULL in this row.
    public func isNull(_ column: String) -> Bool {
        guard let position = rows.columnPosition(column) else { return true }
        return PQgetisnull(rows.result.raw, Int32(index), Int32(position)) == 1
    }
}
