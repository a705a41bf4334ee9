import Foundation
import JSONCoding
import Postgres

/// Reading documents that are stored either packed (`PackedJSON`: decisions and membership
/// reasons written since migrations/0060) or as jsonb (rows written before it, and those SQL
/// writes itself: merge and erasure reasons, erased decisions).
extension Store {
    /// The document of `row`: column `packed` unpacked when set, else the jsonb column `json`.
    static func storedDocument(_ row: PostgresRow, json: String, packed: String) throws -> PostgresJSON? {
        if let bytes = try row.decode(Data?.self, packed) { return try PackedJSON.unpack(Array(bytes)) }
        return try row.decode(PostgresJSON?.self, json)
    }

    /// An exported row (`to_jsonb` text of its other columns, `doc`) with the packed document
    /// `packed` (when the row has one) unpacked in as member `key`.
    static func exportDocument(_ row: PostgresRow, key: String, packed: String) throws -> [UInt8] {
        var doc = Array(try row.decode(String.self, "doc").utf8)
        guard let bytes = try row.decode(Data?.self, packed) else { return doc }
        // `to_jsonb` of a row is a non-empty object: its last byte is the closing brace.
        doc.removeLast()
        doc += Array(", \"\(key)\": ".utf8) + (try PackedJSON.unpack(Array(bytes))).bytes + [UInt8(ascii: "}")]
        return doc
    }

    /// Decisions of `leads` stored packed, unpacked (for an erasure, which edits them as jsonb).
    func packedDecisions(of leads: [UUID]) throws -> [(leadId: UUID, id: UUID, document: PostgresJSON)] {
        try connection.query("SELECT lead_id, id, packed FROM decisions WHERE lead_id = ANY(\(leads)) AND packed IS NOT NULL").map {
            (try $0.decode(UUID.self, "lead_id"), try $0.decode(UUID.self, "id"),
             try PackedJSON.unpack(Array(try $0.decode(Data.self, "packed"))))
        }
    }
}

extension Store {
    /// Stores `decisions` (from `packedDecisions`) as jsonb again, packed bytes cleared.
    func unpackDecisionsQuery(_ decisions: [(leadId: UUID, id: UUID, document: PostgresJSON)]) -> PostgresQuery {
        let rows = Self.rows(decisions) { j, f, d in
            j.member("d", first: &f); j.append(json: d.document)
            j.member("id", first: &f); j.uuid(d.id)
            j.member("l", first: &f); j.uuid(d.leadId)
        }
        return """
            UPDATE decisions d SET decision = r -> 'd', packed = NULL
            FROM jsonb_array_elements(\(rows)) AS e(r) WHERE d.lead_id = (r ->> 'l')::uuid AND d.id = (r ->> 'id')::uuid
            """
    }
}
