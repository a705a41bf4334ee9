import Foundation
import Postgres

/// A page of rows and the cursor of the next page (nil on the last).
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    public var nextCursor: String?

    public init(items: [Item], nextCursor: String?) { self.items = items; self.nextCursor = nextCursor }

    /// A page from the `limit + 1` rows a list query fetched: the extra row only says there is a
    /// next page, whose cursor is the id of this page's last item.
    init(fetched: [Item], limit: Int, cursor: (Item) -> UUID) {
        var items = fetched
        var next: String?
        if items.count > limit {
            items.removeLast()
            next = items.last.map { cursor($0).uuidString.lowercased() }
        }
        self.init(items: items, nextCursor: next)
    }
}

/// One row of `GET /v1/leads/{id}/segments` history.
public struct MembershipHistoryRow: Sendable {
    public var segment: String
    public var change: String
    public var reason: PostgresJSON?
    public var rulesetVersion: Int
    public var eventId: UUID?
    public var occurredAt: Date
}

/// One stored decision (`GET /v1/leads/{id}/decisions`).
public struct DecisionRow: Sendable {
    public var id: UUID
    /// Its number among the lead's decisions (`decisions.seq`).
    public var sequence: Int
    public var evaluatedAt: Date
    public var document: PostgresJSON
}

extension Store {
    /// Follows `merged_into` from `id` to the lead that answers for it now, however long the
    /// chain (one statement, `leadrouter_live_lead` of migration 0056: a lookup per link, which
    /// Citus can run; a pointer cycle, which merges never write, ends as nil).
    public func liveLead(_ id: UUID) throws -> LeadRecord? {
        try leadRecordsOrThrow(connection.query("SELECT \(unsafeRaw: LeadRecord.columns) FROM leadrouter_live_lead(\(id)) AS leads")).first
    }

    /// The lead holding an identity key.
    public func leadId(for key: IdentityKey) throws -> UUID? {
        try connection.query("SELECT lead_id FROM identities WHERE kind = \(key.kind.rawValue) AND value = \(key.value)")
            .first?.decode(UUID.self, "lead_id")
    }

    /// Current memberships with entry times, by priority order of the caller (here: by name).
    public func memberships(of lead: UUID) throws -> [(segment: String, enteredAt: Date)] {
        try connection.query("SELECT segment, entered_at FROM memberships WHERE lead_id = \(lead) ORDER BY segment").map {
            (try $0.decode(String.self, "segment"), try $0.decode(Date.self, "entered_at"))
        }
    }

    /// Entries and exits of a lead, oldest first.
    public func membershipHistory(of lead: UUID, limit: Int = 500) throws -> [MembershipHistoryRow] {
        try connection.query("""
            SELECT segment, change, reason, reason_packed, ruleset_version, event_id, occurred_at FROM membership_history
            WHERE lead_id = \(lead) ORDER BY occurred_at, id LIMIT \(limit)
            """).map { row in
            MembershipHistoryRow(segment: try row.decode(String.self, "segment"), change: try row.decode(String.self, "change"),
                                 reason: try Self.storedDocument(row, json: "reason", packed: "reason_packed"),
                                 rulesetVersion: try row.decode(Int.self, "ruleset_version"),
                                 eventId: try row.decode(UUID?.self, "event_id"), occurredAt: try row.decode(Date.self, "occurred_at"))
        }
    }

    /// Decisions of a lead, newest first by sequence (the order they were made, whatever their
    /// clock readings), `limit` per page; `cursor` is the previous page's.
    public func decisions(of lead: UUID, limit: Int, cursor: String?) throws -> Page<DecisionRow> {
        // The cursor is the last decision id of the previous page; its row gives the position (an
        // unknown cursor, none). Documents stored before 0020 get their number from the column;
        // packed ones (0060) were written with it.
        let after = cursor.flatMap { UUID(uuidString: $0) }
        let rows = try connection.query("""
            SELECT id, seq, evaluated_at, decision || jsonb_build_object('sequence', seq) AS decision, packed FROM decisions
            WHERE lead_id = \(lead) AND seq < coalesce((SELECT seq FROM decisions WHERE lead_id = \(lead) AND id = \(after ?? UUID())),
                                                       \(after == nil ? Int.max : 0))
            ORDER BY seq DESC LIMIT \(limit + 1)
            """)
        let items = try rows.map {
            DecisionRow(id: try $0.decode(UUID.self, "id"), sequence: try $0.decode(Int.self, "seq"),
                        evaluatedAt: try $0.decode(Date.self, "evaluated_at"),
                        document: try Self.storedDocument($0, json: "decision", packed: "packed") ?? PostgresJSON(rawBytes: Array("{}".utf8)))
        }
        return Page(fetched: items, limit: limit) { $0.id }
    }

    /// Live size of every segment with members.
    public func segmentSizes() throws -> [String: Int] {
        var sizes: [String: Int] = [:]
        for row in try connection.query("SELECT segment, count(*) AS n FROM memberships GROUP BY segment") {
            sizes[try row.decode(String.self, "segment")] = try row.decode(Int.self, "n")
        }
        return sizes
    }
}
