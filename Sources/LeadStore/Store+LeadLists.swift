import Foundation
import Postgres

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
}

extension Store {
    /// A page of live leads matching `query`, `limit` per page; `cursor` is the previous page's
    /// (the last lead id). The SQL text depends only on which filters are given, so each shape is
    /// its own prepared statement with its own plan: an absent filter is not in the statement
    /// (an `$n IS NULL OR …` would keep the cursor from bounding the index scan).
    public func leads(_ query: LeadListQuery, limit: Int, cursor: String?) throws -> Page<LeadRecord> {
        var q = PostgresQuery(unsafeRaw: "")
        let key = query.order == .score ? "score" : "updated_at"
        var conditions = ["l.merged_into IS NULL"]
        if let segment = query.segment {
            conditions.append("EXISTS (SELECT 1 FROM memberships m WHERE m.segment = \(q.bind(segment))::text AND m.lead_id = l.id)")
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
            SELECT \(columns) FROM leads l WHERE \(conditions.joined(separator: " AND "))
            ORDER BY l.\(key) DESC, l.id DESC LIMIT \(q.bind(limit + 1))
            """
        let records = try connection.query(q).map(LeadRecord.decoded)
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
        for row in try connection.query("""
            WITH RECURSIVE m(survivor, id) AS (
                SELECT merged_into, id FROM leads WHERE merged_into = ANY(\(leads)::uuid[])
                UNION
                SELECT m.survivor, l.id FROM leads l JOIN m ON l.merged_into = m.id)
            SELECT survivor, id FROM m ORDER BY survivor, id
            """) {
            found[try row.decode(UUID.self, "survivor"), default: []].append(try row.decode(UUID.self, "id"))
        }
        return found
    }

    /// A page of a segment's members in `order`; `cursor` is the last lead id of the previous page.
    public func members(of segment: String, order: MemberOrder, limit: Int, cursor: String?) throws -> Page<SegmentMember> {
        var q = PostgresQuery(unsafeRaw: "")
        let name = q.bind(segment)
        var conditions = ["m.segment = \(name)::text"]
        let sort: String
        switch order {
        case .enteredAt:
            sort = "m.entered_at DESC, m.lead_id DESC"
            if let after = cursor.map({ UUID(uuidString: $0) }) {
                conditions.append("""
                    (m.entered_at, m.lead_id) < (SELECT c.entered_at, c.lead_id FROM memberships c
                                                 WHERE c.segment = \(name)::text AND c.lead_id = \(q.bind(after ?? UUID())))
                    """)
            }
        case .score:
            sort = "l.score DESC, l.id DESC"
            if let after = cursor.map({ UUID(uuidString: $0) }) {
                conditions.append("(l.score, l.id) < (SELECT c.score, c.id FROM leads c WHERE c.id = \(q.bind(after ?? UUID())))")
            }
        }
        q.sql = """
            SELECT m.lead_id, m.entered_at, l.email, l.score, l.stage FROM memberships m JOIN leads l ON l.id = m.lead_id
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
