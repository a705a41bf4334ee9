import Foundation
import Postgres
import Segmentation

/// What `GET /v1/leads` filters on and how it orders (every filter optional, all must hold).
public struct LeadListQuery: Sendable, Equatable {
    /// `score` (highest first, the stored score as of its last evaluation) or `updated_at` (most
    /// recently written first).
    public enum Order: String, Sendable, CaseIterable {
        case score
        case updatedAt = "updated_at"
    }

    public var segment: String?
    public var stage: String?
    public var status: String?
    public var ownerId: String?
    public var updatedSince: Date?
    public var order: Order

    public init(segment: String? = nil, stage: String? = nil, status: String? = nil, ownerId: String? = nil,
                updatedSince: Date? = nil, order: Order = .score) {
        self.segment = segment; self.stage = stage; self.status = status; self.ownerId = ownerId
        self.updatedSince = updatedSince; self.order = order
    }
}

/// How `GET /v1/segments/{name}/members` orders: newest entry first, or highest score first.
public enum MemberOrder: String, Sendable, CaseIterable {
    case enteredAt = "entered_at"
    case score
}

/// One member of a segment, with what a marketer reads about them.
public struct SegmentMember: Sendable {
    public var leadId: UUID
    public var enteredAt: Date
    public var email: String?
    public var score: Double
    public var stage: String?
    /// The member's score in this segment's own `score:` and its rank (ranked reads only).
    public var segmentRank: SegmentRank? = nil
}

extension Store {
    /// A segment with fewer members than this is read member first (its members, then their
    /// rows, sorted); a bigger one lead first (leads in the order's index, each checked for
    /// membership). Member first costs one row per member; lead first about `limit` ÷ the
    /// segment's share of all leads: they cross near √(limit × leads), 7 000 for pages of 50
    /// over 1 M leads. Counting stops at the threshold, so the choice costs at most that many
    /// index entries whatever the segment's size: the planner's own guess for a prepared
    /// statement is an average over all segments, and picked a hash join over 1 M leads.
    public static let smallSegment = 10_000

    /// Whether `segment` has fewer than `threshold` members (counting at most that many).
    func isSmall(_ segment: String, threshold: Int) throws -> Bool {
        try connection.query("""
            SELECT count(*) FROM (SELECT 1 FROM memberships WHERE segment = \(segment)::text LIMIT \(threshold)) AS t
            """).scalar(Int.self) < threshold
    }

    /// Plans the rest of the caller's transaction by index only (no table scan, no hash join):
    /// a list reads a page, never a table. Run it first in the read transaction of a list.
    public func planListsByIndex() throws {
        try connection.execute(Self.indexPlans)
    }

    /// A page of live leads matching `query`, `limit` per page; `cursor` is the previous page's
    /// (the last lead id). The SQL text depends only on which filters are given, so each shape is
    /// its own prepared statement with its own plan: an absent filter is not in the statement
    /// (an `$n IS NULL OR …` would keep the cursor from bounding the index scan). With a segment,
    /// see `smallSegment`.
    public func leads(_ query: LeadListQuery, limit: Int, cursor: String?, smallSegment: Int = Store.smallSegment) throws -> Page<LeadRecord> {
        var q = PostgresQuery(unsafeRaw: "")
        let key = query.order == .score ? "score" : "updated_at"
        // Erased leads keep their row (a tombstone's target) but are nobody to list.
        var conditions = ["l.merged_into IS NULL", "l.erased_at IS NULL"]
        var from = "leads l"
        if let segment = query.segment {
            if try isSmall(segment, threshold: smallSegment) {
                // OFFSET 0 keeps the members a subquery of their own: read first, then joined.
                from = "(SELECT lead_id FROM memberships WHERE segment = \(q.bind(segment))::text OFFSET 0) AS m JOIN leads l ON l.id = m.lead_id"
            } else {
                conditions.append("EXISTS (SELECT 1 FROM memberships m WHERE m.segment = \(q.bind(segment))::text AND m.lead_id = l.id)")
            }
        }
        if let stage = query.stage { conditions.append("l.stage = \(q.bind(stage))::text") }
        if let status = query.status { conditions.append("l.status = \(q.bind(status))::text") }
        if let owner = query.ownerId { conditions.append("l.owner_id = \(q.bind(owner))") }
        if let since = query.updatedSince { conditions.append("l.updated_at >= \(q.bind(since))") }
        if let after = cursor.map({ UUID(uuidString: $0) }) {
            // An unknown cursor (or a lead merged since) has no row: the page is empty.
            conditions.append("(l.\(key), l.id) < (SELECT c.\(key), c.id FROM leads c WHERE c.id = \(q.bind(after ?? UUID())))")
        }
        let columns = LeadRecord.Column.allCases.map { "l.\($0.name)" }.joined(separator: ", ")
        q.sql = """
            SELECT \(columns) FROM \(from) WHERE \(conditions.joined(separator: " AND "))
            ORDER BY l.\(key) DESC, l.id DESC LIMIT \(q.bind(limit + 1))
            """
        let records = try leadRecordsOrThrow(connection.query(q))
        return Page(fetched: records, limit: limit) { $0.id }
    }

    /// Identity keys of several leads at once (a page of a list), by lead.
    public func identities(of leads: [UUID]) throws -> [UUID: [IdentityKey]] {
        guard !leads.isEmpty else { return [:] }
        var found: [UUID: [IdentityKey]] = [:]
        for row in try connection.query("""
            SELECT lead_id, kind, value FROM identities WHERE lead_id = ANY(\(leads)::uuid[]) ORDER BY lead_id, created_at, value
            """) {
            guard let kind = IdentityKey.Kind(rawValue: try row.decode(String.self, "kind")) else { continue }
            found[try row.decode(UUID.self, "lead_id"), default: []].append(IdentityKey(kind, try row.decode(String.self, "value")))
        }
        return found
    }

    /// The leads merged into each of `leads`, directly or along a chain (their old ids keep
    /// answering with the survivor), sorted.
    public func mergedIds(into leads: [UUID]) throws -> [UUID: [UUID]] {
        guard !leads.isEmpty else { return [:] }
        var found: [UUID: [UUID]] = [:]
        // leadrouter_merged_into: the recursive CTE on plain PostgreSQL, a query per level on
        // Citus (migrations/0078).
        for row in try connection.query("""
            SELECT survivor, id FROM leadrouter_merged_into(\(leads)::uuid[]) ORDER BY survivor, id
            """) {
            found[try row.decode(UUID.self, "survivor"), default: []].append(try row.decode(UUID.self, "id"))
        }
        return found
    }

    /// A page of a segment's members in `order`; `cursor` is the last lead id of the previous page.
    /// By score, a small segment is read member first, a big one lead first (`smallSegment`).
    public func members(of segment: String, order: MemberOrder, limit: Int, cursor: String?,
                        smallSegment: Int = Store.smallSegment) throws -> Page<SegmentMember> {
        var q = PostgresQuery(unsafeRaw: "")
        let name = q.bind(segment)
        var conditions = ["l.merged_into IS NULL"]
        var from = "memberships m JOIN leads l ON l.id = m.lead_id"
        let sort: String
        switch order {
        case .enteredAt:
            sort = "m.entered_at DESC, m.lead_id DESC"
            conditions.append("m.segment = \(name)::text")
            if let after = cursor.map({ UUID(uuidString: $0) }) {
                conditions.append("""
                    (m.entered_at, m.lead_id) < (SELECT c.entered_at, c.lead_id FROM memberships c
                                                 WHERE c.segment = \(name)::text AND c.lead_id = \(q.bind(after ?? UUID())))
                    """)
            }
        case .score:
            sort = "l.score DESC, l.id DESC"
            if try isSmall(segment, threshold: smallSegment) {
                from = "(SELECT lead_id, entered_at FROM memberships WHERE segment = \(name)::text OFFSET 0) AS m JOIN leads l ON l.id = m.lead_id"
            } else {
                from = """
                    leads l JOIN LATERAL (SELECT c.lead_id, c.entered_at FROM memberships c
                                          WHERE c.segment = \(name)::text AND c.lead_id = l.id) AS m ON true
                    """
            }
            if let after = cursor.map({ UUID(uuidString: $0) }) {
                conditions.append("(l.score, l.id) < (SELECT c.score, c.id FROM leads c WHERE c.id = \(q.bind(after ?? UUID())))")
            }
        }
        q.sql = """
            SELECT m.lead_id, m.entered_at, l.email, l.score, l.stage FROM \(from)
            WHERE \(conditions.joined(separator: " AND ")) ORDER BY \(sort) LIMIT \(q.bind(limit + 1))
            """
        let members = try connection.query(q).map { row in
            SegmentMember(leadId: try row.decode(UUID.self, "lead_id"), enteredAt: try row.decode(Date.self, "entered_at"),
                          email: try row.decode(String?.self, "email"), score: try row.decode(Double.self, "score"),
                          stage: try row.decode(String?.self, "stage"))
        }
        return Page(fetched: members, limit: limit) { $0.leadId }
    }
}
