import Foundation
import Postgres
import Segmentation

/// A lead row: the engine's `LeadState` plus what only the service knows (id, merge pointer,
/// ruleset version, owner, timestamps). Mapped column by column so SQL can filter and index
/// the profile, while the state still round-trips exactly.
public struct LeadRecord: Sendable {
    public var id: UUID
    public var state: LeadState
    public var primarySegment: String?
    public var ownerId: String?
    public var rulesetVersion: Int?
    public var nextEvaluationAt: Date?
    public var mergedInto: UUID?
    public var createdAt: Date
    public var updatedAt: Date

    /// The columns `init(row:)` reads, in one place so every SELECT of a lead stays in step.
    static let columns = """
        id, email, user_id, country, region, ship_to_region, company_domain, company_size, company_industry,
        company_tech_stack, traits, source_first, source_last, first_seen_at, last_event_at, stage, status,
        status_at, score, score_at, score_parts, band, customer, segment_entered, signal_state, ruleset_version,
        next_evaluation_at, merged_into, created_at, updated_at, owner_id, primary_segment
        """

    /// A lead that does not exist yet (its INSERT goes out with its first writes).
    init(newLeadAt now: Date) {
        id = UUID(); state = LeadState(); state.status = "new"
        primarySegment = nil; ownerId = nil; rulesetVersion = nil; nextEvaluationAt = nil; mergedInto = nil
        createdAt = now; updatedAt = now
    }

    init(row: PostgresRow) throws {
        id = try row.decode(UUID.self, "id")
        var s = LeadState()
        s.email = try row.decode(String?.self, "email")
        s.userId = try row.decode(String?.self, "user_id")
        s.country = try row.decode(String?.self, "country")
        s.region = try row.decode(String?.self, "region")
        s.shipToRegion = try row.decode(String?.self, "ship_to_region")
        s.company = LeadState.Company(
            domain: try row.decode(String?.self, "company_domain"),
            size: try row.decode(String?.self, "company_size").flatMap(Double.init),
            industry: try row.decode(String?.self, "company_industry"),
            techStack: try row.decode([String].self, "company_tech_stack"))
        s.traits = try Self.object(row.decode(PostgresJSON.self, "traits"))
        s.firstSource = try row.decode(PostgresJSON?.self, "source_first").flatMap(Self.touch)
        s.lastSource = try row.decode(PostgresJSON?.self, "source_last").flatMap(Self.touch)
        s.lastEventAt = try row.decode(Date?.self, "last_event_at").map(Timestamp.init)
        // first_seen_at is NOT NULL (defaults to creation); the engine's firstSeen is the first event.
        s.firstSeen = s.lastEventAt == nil ? nil : Timestamp(try row.decode(Date.self, "first_seen_at"))
        s.stage = try row.decode(String?.self, "stage")
        s.status = try row.decode(String.self, "status")
        s.statusAt = try row.decode(Date?.self, "status_at").map(Timestamp.init)
        s.customer = try row.decode(Bool.self, "customer")
        s.score = try row.decode(Double.self, "score")
        s.scoreAt = try row.decode(Date?.self, "score_at").map(Timestamp.init)
        s.scoreParts = try Self.object(row.decode(PostgresJSON.self, "score_parts")).compactMapValues {
            if case .number(let n) = $0 { return n } else { return nil }
        }
        s.band = try row.decode(String?.self, "band")
        s.memberships = try Self.object(row.decode(PostgresJSON.self, "segment_entered")).compactMapValues {
            $0.stringValue.flatMap(Timestamp.parse)
        }
        if let bytes = try row.decode(Data?.self, "signal_state") {
            s.signals = try SignalState(decoding: Array(bytes))
        }
        state = s
        primarySegment = try row.decode(String?.self, "primary_segment")
        ownerId = try row.decode(String?.self, "owner_id")
        rulesetVersion = try row.decode(Int?.self, "ruleset_version")
        nextEvaluationAt = try row.decode(Date?.self, "next_evaluation_at")
        mergedInto = try row.decode(UUID?.self, "merged_into")
        createdAt = try row.decode(Date.self, "created_at")
        updatedAt = try row.decode(Date.self, "updated_at")
    }
}

extension LeadRecord {
    /// A JSON object column, read with `JSONReader` (rows are read for every message; `JSONDecoder`
    /// was a visible cost).
    static func object(_ json: PostgresJSON) throws -> [String: Value] {
        guard case .object(let fields) = try JSONReader.parse(json.bytes) else {
            throw PostgresError(code: .queryFailed, message: "a lead JSON column is not an object")
        }
        return fields
    }

    /// A touch as stored in `source_first`/`source_last` (`{"channel": …, "at": …}`).
    static func touch(_ json: PostgresJSON) throws -> LeadState.Touch? {
        let fields = try object(json)
        guard let channel = fields["channel"]?.stringValue, let at = fields["at"]?.stringValue.flatMap(Timestamp.parse) else { return nil }
        return LeadState.Touch(channel: channel, at: at)
    }
}

extension SignalStateDecodingError: CustomStringConvertible {
    public var description: String { "stored signal state cannot be decoded (\(String(reflecting: self)))" }
}
