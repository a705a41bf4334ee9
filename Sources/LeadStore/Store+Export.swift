import Foundation
import Postgres

/// The parts of a data export (`GET /v1/leads/{id}/export`), in the order they are written.
/// The first five are small and read at once; the others are read in keyset pages, so an
/// export of any size holds one page in memory.
public enum ExportSection: String, Sendable, CaseIterable {
    case leads, identities, memberships
    case queueItems = "queue_items"
    /// The lead's arms of running and past experiments (one row per experiment).
    case experimentAssignments = "experiment_assignments"
    case membershipHistory = "membership_history"
    /// Every change of the lead's stage (migration 0048).
    case stageHistory = "stage_history"
    case decisions
    /// Outbox messages about the person, each with its deliveries.
    case webhooks
    case events

    public var isPaged: Bool {
        switch self {
        case .leads, .identities, .memberships, .queueItems, .experimentAssignments: return false
        case .membershipHistory, .stageHistory, .decisions, .webhooks, .events: return true
        }
    }
}

/// Where the next page of a paged section starts: the last row's time and id (as text).
public struct ExportCursor: Sendable, Equatable {
    public var at: Date
    public var id: String
    /// Before every row.
    public static let start = ExportCursor(at: Date(timeIntervalSince1970: -62_135_596_800), id: "")
}

extension Store {
    /// Rows per page of a paged section.
    public static let exportPageSize = 1000

    /// The rows of `section` for one lead id, as JSON documents (each row's columns as
    /// PostgreSQL's `to_jsonb` gives them; a lead's opaque signal state left out; a packed
    /// decision, reason, action state or message unpacked into its `decision`, `reason`,
    /// `action_state` or `message` member; a lead's NULL `source_last`, the same touch as its
    /// `source_first`, filled in; a lead's `segments`, the keys of its `segment_entered`, derived
    /// since migration 0106; a NULL `company_tech_stack` as the empty list, 0107), and the cursor of the next page (nil when this was the last).
    /// Unpaged sections come whole.
    /// One id per call (not `ANY` of a group's ids) so that a page is a range of the index that
    /// starts with `lead_id`, found without reading the pages before it.
    public func exportRows(_ section: ExportSection, lead: UUID, after cursor: ExportCursor = .start)
        throws -> (documents: [[UInt8]], next: ExportCursor?) {
        let limit = Self.exportPageSize
        let rows: PostgresRows
        switch section {
        case .leads:
            rows = try connection.query("""
                SELECT action_packed,
                       (to_jsonb(l) - 'signal_state' - 'action_packed'
                        - CASE WHEN action_packed IS NULL THEN '' ELSE 'action_state' END
                        || jsonb_build_object('source_last', coalesce(source_last, source_first),
                                              'segments', leadrouter_lead_segments(segment_entered),
                                              'company_tech_stack', coalesce(company_tech_stack, '{}')))::text AS doc
                FROM leads l WHERE id = \(lead)
                """)
        case .identities:
            rows = try connection.query("SELECT to_jsonb(i)::text AS doc FROM identities i WHERE lead_id = \(lead) ORDER BY created_at, kind, value")
        case .memberships:
            rows = try connection.query("SELECT to_jsonb(m)::text AS doc FROM memberships m WHERE lead_id = \(lead) ORDER BY entered_at, segment")
        case .queueItems:
            // The skipped list is stored packed (migration 0105): exported as it was always read.
            rows = try connection.query("""
                SELECT ((to_jsonb(q) - 'skipped_packed')
                        || jsonb_build_object('assignment', leadrouter_queue_assignment(assignment, skipped_packed)))::text AS doc
                FROM queue_items q WHERE lead_id = \(lead) ORDER BY created_at, id
                """)
        case .experimentAssignments:
            rows = try connection.query("SELECT to_jsonb(x)::text AS doc FROM experiment_assignments x WHERE lead_id = \(lead) ORDER BY assigned_at, experiment")
        case .stageHistory:
            rows = try connection.query("""
                SELECT occurred_at AS t, id::text AS k, to_jsonb(s)::text AS doc FROM stage_history s
                WHERE lead_id = \(lead) AND (occurred_at, id) > (\(cursor.at), \(Int64(cursor.id) ?? -1)::bigint)
                ORDER BY occurred_at, id LIMIT \(limit)
                """)
        case .membershipHistory:
            rows = try connection.query("""
                SELECT occurred_at AS t, id::text AS k, reason_packed,
                       (to_jsonb(h) - 'reason_packed' - CASE WHEN reason_packed IS NULL THEN '' ELSE 'reason' END)::text AS doc
                FROM membership_history h
                WHERE lead_id = \(lead) AND (occurred_at, id) > (\(cursor.at), \(Int64(cursor.id) ?? -1)::bigint)
                ORDER BY occurred_at, id LIMIT \(limit)
                """)
        case .decisions:
            rows = try connection.query("""
                SELECT evaluated_at AS t, id::text AS k, packed,
                       (to_jsonb(d) - 'packed' - CASE WHEN packed IS NULL THEN '' ELSE 'decision' END)::text AS doc
                FROM decisions d
                WHERE lead_id = \(lead) AND (evaluated_at, id) > (\(cursor.at), \(UUID(uuidString: cursor.id) ?? Self.nilUUID)::uuid)
                ORDER BY evaluated_at, id LIMIT \(limit)
                """)
        case .webhooks:
            // The outbox has no lead index (ingest writes it on every event): pages walk its
            // primary key, so a whole export reads the outbox once.
            rows = try connection.query("""
                SELECT created_at AS t, id::text AS k,
                       (to_jsonb(o) || jsonb_build_object('deliveries', (
                           SELECT coalesce(jsonb_agg(to_jsonb(d) - 'lead_id' ORDER BY d.id), '[]'::jsonb)
                           FROM deliveries d WHERE d.outbox_id = o.id AND d.lead_id = o.lead_id)))::text AS doc
                FROM outbox o WHERE lead_id = \(lead) AND id > \(Int64(cursor.id) ?? 0)::bigint ORDER BY id LIMIT \(limit)
                """)
        case .events:
            rows = try connection.query("""
                SELECT occurred_at AS t, id::text AS k, message_packed,
                       (to_jsonb(e) - 'message_packed' - CASE WHEN message_packed IS NULL THEN '' ELSE 'message' END)::text AS doc
                FROM events e
                WHERE lead_id = \(lead) AND (occurred_at, id) > (\(cursor.at), \(UUID(uuidString: cursor.id) ?? Self.nilUUID)::uuid)
                ORDER BY occurred_at, id LIMIT \(limit)
                """)
        }
        var documents: [[UInt8]] = []
        documents.reserveCapacity(rows.count)
        var last: ExportCursor?
        for row in rows {
            switch section {
            case .decisions: documents.append(try Self.exportDocument(row, key: "decision", packed: "packed"))
            case .membershipHistory: documents.append(try Self.exportDocument(row, key: "reason", packed: "reason_packed"))
            case .leads: documents.append(try Self.exportDocument(row, key: "action_state", packed: "action_packed"))
            case .events: documents.append(try Self.exportDocument(row, key: "message", packed: "message_packed"))
            default: documents.append(Array(try row.decode(String.self, "doc").utf8))
            }
            if section.isPaged { last = ExportCursor(at: try row.decode(Date.self, "t"), id: try row.decode(String.self, "k")) }
        }
        return (documents, section.isPaged && documents.count == limit ? last : nil)
    }

    /// The all-zero UUID: before every id, and the id of nothing.
    public static let nilUUID = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))

    /// Makes the rest of this transaction read one snapshot (an export is consistent even
    /// while the person's events keep arriving). Must be the transaction's first statement.
    public func readOneSnapshot() throws {
        try connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
    }
}
