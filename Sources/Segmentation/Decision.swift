/// What one evaluation decided, in the JSON shape of DESIGN.md §6 (snake_case keys). Encode with
/// `Decision.jsonEncoder` (sorted keys) for byte-identical output.
public struct Decision: Codable, Sendable, Equatable {
    /// Filled by the service; the engine leaves it nil.
    public var leadId: String?
    /// Filled by the service; the engine leaves it nil.
    public var eventId: String?
    /// The decision's number among its lead's (1, 2, …, in the order they were made); filled by
    /// the service, which keeps the count on the lead's row.
    public var sequence: Int?
    /// When the evaluated event happened (its `timestamp`); nil for a decision without event
    /// (time passed, a CRM status change). Filled by the service.
    public var occurredAt: Timestamp?
    /// `version:` of the ruleset that decided.
    public var rulesetVersion: Int
    /// The `now` of the evaluation.
    public var evaluatedAt: Timestamp
    /// Segment changes and current memberships (sorted by name).
    public var segments: SegmentChanges
    /// Highest-priority current segment (ties: first by name).
    public var primarySegment: String?
    /// Funnel stage.
    public var stage: String?
    /// CRM status.
    public var status: String
    /// Score after decay and this event's points, rounded to 3 decimals.
    public var score: Double
    /// Band action for the score.
    public var band: String?
    /// Actions of the primary segment's route, then, for the channels in `routing.all_segments`,
    /// of the other current segments (by priority); minus suppressed channels.
    public var actions: [Action]
    /// Channels that would have acted (see `actions`) but were suppressed, with the reason.
    public var suppressed: [SuppressedAction]
    /// Why segments changed and how the score moved.
    public var explanation: Explanation
    /// Earliest instant the decision could change without a new event, if any.
    public var nextEvaluationAt: Timestamp?
    /// Canonical type of the event evaluated (nil without event).
    public var eventType: String?
    /// True when the event's name is neither an alias nor a known type (kept as-is; count it).
    public var unknownEventType: Bool
    /// The lead's score in each current segment that has a `score:` (absent when the ruleset has none).
    public var segmentScores: [String: Double]? = nil

    /// Entered, exited and current segment names.
    public struct SegmentChanges: Codable, Sendable, Equatable {
        /// Segments the lead entered in this evaluation (sorted).
        public var entered: [String]
        /// Segments the lead left in this evaluation (sorted).
        public var exited: [String]
        /// All current memberships (sorted).
        public var current: [String]
    }

    /// A JSONEncoder with sorted keys: the same decision always encodes to the same bytes.
    public static var jsonEncoder: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }

    enum CodingKeys: String, CodingKey {
        case leadId = "lead_id", eventId = "event_id", rulesetVersion = "ruleset_version", evaluatedAt = "evaluated_at"
        case segments, primarySegment = "primary_segment", stage, status, score, band, actions, suppressed, explanation
        case nextEvaluationAt = "next_evaluation_at", eventType = "event_type", unknownEventType = "unknown_event_type"
        case sequence, occurredAt = "occurred_at", segmentScores = "segment_scores"
    }

    /// Writes every key, with explicit nulls, so consumers see a stable shape.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(leadId, forKey: .leadId)
        try c.encode(eventId, forKey: .eventId)
        try c.encode(rulesetVersion, forKey: .rulesetVersion)
        try c.encode(evaluatedAt, forKey: .evaluatedAt)
        try c.encode(segments, forKey: .segments)
        try c.encode(primarySegment, forKey: .primarySegment)
        try c.encode(stage, forKey: .stage)
        try c.encode(status, forKey: .status)
        try c.encode(score, forKey: .score)
        try c.encode(band, forKey: .band)
        try c.encode(actions, forKey: .actions)
        try c.encode(suppressed, forKey: .suppressed)
        try c.encode(explanation, forKey: .explanation)
        try c.encode(nextEvaluationAt, forKey: .nextEvaluationAt)
        try c.encode(eventType, forKey: .eventType)
        try c.encode(unknownEventType, forKey: .unknownEventType)
        try c.encode(sequence, forKey: .sequence)
        try c.encode(occurredAt, forKey: .occurredAt)
        try c.encodeIfPresent(segmentScores, forKey: .segmentScores)
    }
}

import Foundation

/// One routing action. Fields not relevant to the channel are nil (omitted in JSON).
public struct Action: Codable, Sendable, Equatable {
    /// `email`, `ads` or `sales`.
    public var channel: String
    /// The segment whose route produced it.
    public var segment: String
    /// Email sequence.
    public var sequence: String?
    /// Ad audience.
    public var audience: String?
    /// Ad landing page.
    public var landingPage: String?
    /// Sales queue.
    public var queue: String?
    /// Sales team (owner assignment is the service's job).
    public var team: String?
    /// Assigned owner; nil from the engine, set by the service.
    public var ownerId: String?
    /// `now + sla`.
    public var slaDueAt: Timestamp?
    /// How the owner was chosen; set by the service.
    public var assignedBy: String?
    /// The queue item the lead sits in; set by the service.
    public var itemId: String?
    /// Members assignment passed over, and why; set by the service.
    public var skipped: [AssignmentSkip]?
    /// The queue the lead's open item was in before this route moved it; set by the service.
    public var movedFrom: String?
    /// Sales call script (`route.sales.script`).
    public var script: String?
    /// When to send, from the route's `delay`/`window` in the lead's time zone.
    public var sendAt: Timestamp?
    /// The score band whose `route` gave this action (for a channel the primary segment does not route).
    public var band: String?
    /// The experiment that chose this action (`route.<channel>.experiment`), if any.
    public var experiment: String?
    /// The experiment's variant key the lead is assigned to (see `ExperimentAssignment`).
    public var variant: String?

    enum CodingKeys: String, CodingKey {
        case channel, segment, sequence, audience, landingPage = "landing_page", queue, team
        case ownerId = "owner_id", slaDueAt = "sla_due_at", assignedBy = "assigned_by", itemId = "item_id", skipped
        case movedFrom = "moved_from", script, sendAt = "send_at", band, experiment, variant
    }
}

/// One owner that owner assignment did not pick: the step that considered them (`account`,
/// `territory`, `round_robin`, `least_loaded`) and why (`unavailable`, `at_capacity (25/25)`, …),
/// so a decision explains its sales routing as it explains its segments.
public struct AssignmentSkip: Codable, Sendable, Equatable {
    /// The owner passed over (nil when the team itself was missing).
    public var ownerId: String?
    /// The assignment step.
    public var step: String
    /// Why they could not take the lead.
    public var reason: String

    /// A skip record.
    public init(ownerId: String?, step: String, reason: String) { self.ownerId = ownerId; self.step = step; self.reason = reason }

    enum CodingKeys: String, CodingKey { case ownerId = "owner_id", step, reason }
}

/// A channel that got no action, and the suppress condition that held.
public struct SuppressedAction: Codable, Sendable, Equatable {
    /// `email`, `ads` or `sales`.
    public var channel: String
    /// The suppress condition text, e.g. `lead.customer`.
    public var reason: String
    /// For reason `frequency_cap`: the cap that fired, e.g. `max 3 per 7d`.
    public var cap: String?
    /// For reason `holdout`: the experiment the lead is held out of.
    public var experiment: String?
    /// For reason `holdout`: the segment whose route runs the experiment.
    public var segment: String?

    public init(channel: String, reason: String, cap: String? = nil, experiment: String? = nil, segment: String? = nil) {
        self.channel = channel; self.reason = reason; self.cap = cap; self.experiment = experiment; self.segment = segment
    }
}
