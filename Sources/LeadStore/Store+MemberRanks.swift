import Foundation
import Postgres
import Segmentation

/// Where a page of members ranked by segment score ends: the last member's rank key and lead id.
/// Keys never change by decay alone (`SegmentRank`), so the next page continues from the same
/// place however much time passed; a member whose points changed meanwhile is placed by its new
/// key (it can show again, or not at all, as with any cursor over changing data).
public struct MemberRankCursor: Sendable, Equatable {
    public var key: Double
    public var leadId: UUID

    public init(key: Double, leadId: UUID) { self.key = key; self.leadId = leadId }

    /// `<key as 16 hex digits of its IEEE-754 bits>.<lead id>`: exact, opaque to clients.
    public var text: String {
        let bits = String(key.bitPattern, radix: 16)
        return String(repeating: "0", count: 16 - bits.count) + bits + "." + leadId.uuidString.lowercased()
    }

    /// Nil for anything `text` does not produce (or a key that is not finite).
    public init?(text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].utf8.count == 16, let bits = UInt64(parts[0], radix: 16),
              let id = UUID(uuidString: String(parts[1])) else { return nil }
        let key = Double(bitPattern: bits)
        guard key.isFinite else { return nil }
        self.init(key: key, leadId: id)
    }
}

extension Store {
    /// A page of a scored segment's members, highest score (decayed to any common `now`) first:
    /// the order of `memberships.score_rank` (migration 0045), read along
    /// `memberships_segment_rank_idx` from `cursor`, lead id breaking ties.
    public func membersByRank(of segment: String, limit: Int,
                              after cursor: MemberRankCursor?) throws -> (items: [SegmentMember], next: MemberRankCursor?) {
        var q = PostgresQuery(unsafeRaw: "")
        let name = q.bind(segment)
        var conditions = ["m.segment = \(name)::text", "l.merged_into IS NULL"]
        if let cursor {
            conditions.append("(m.score_rank, m.lead_id) < (\(q.bind(cursor.key))::float8, \(q.bind(cursor.leadId))::uuid)")
        }
        q.sql = """
            SELECT m.lead_id, m.entered_at, l.email, l.score, l.stage, m.score AS segment_score, m.score_at, m.score_rank
            FROM memberships m JOIN leads l ON l.id = m.lead_id
            WHERE \(conditions.joined(separator: " AND "))
            ORDER BY m.score_rank DESC, m.lead_id DESC LIMIT \(q.bind(limit + 1))
            """
        var members = try connection.query(q).map { row in
            let at = try row.decode(Date?.self, "score_at").map { Timestamp($0).milliseconds } ?? 0
            return SegmentMember(leadId: try row.decode(UUID.self, "lead_id"), enteredAt: try row.decode(Date.self, "entered_at"),
                                 email: try row.decode(String?.self, "email"), score: try row.decode(Double.self, "score"),
                                 stage: try row.decode(String?.self, "stage"),
                                 segmentRank: SegmentRank(score: try row.decode(Double.self, "segment_score"), at: at,
                                                          key: try row.decode(Double.self, "score_rank")))
        }
        guard members.count > limit else { return (members, nil) }
        members.removeLast()
        return (members, members.last.map { MemberRankCursor(key: $0.segmentRank?.key ?? 0, leadId: $0.leadId) })
    }
}
