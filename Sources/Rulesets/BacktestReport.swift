import Foundation
import Segmentation

/// What a backtest found, built lead by lead (`add`) in one part per replay worker, the parts
/// `merged` into the job's `result`.
public struct BacktestReport: Encodable, Sendable {
    public struct Side: Encodable, Sendable {
        /// Members at `to`; entries and exits during the replay.
        public var sizeAtEnd = 0
        public var entries = 0
        public var exits = 0
        /// Goal conversion of would-be members, when the segment has a `goal` in this version:
        /// the period's entries whose goal held within its horizon by `to`, and their share of
        /// the entries (null without entries). Absent for a segment without a goal.
        public var goal: GoalFigures?
        enum CodingKeys: String, CodingKey { case sizeAtEnd = "size_at_end", entries, exits, goal }
    }
    public struct GoalFigures: Encodable, Sendable {
        public var reached = 0
        public var conversion: Double?
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(reached, forKey: .reached); try c.encode(conversion, forKey: .conversion)
        }
        enum CodingKeys: String, CodingKey { case reached, conversion }
    }
    public struct SegmentFigures: Encodable, Sendable {
        public var name: String
        public var candidate = Side()
        public var active = Side()
        /// Candidate members at `to` that are members today.
        public var overlapWithCurrent = 0
        /// Members today among the replayed leads.
        public var currentMembers = 0
        enum CodingKeys: String, CodingKey {
            case name, candidate, active, overlapWithCurrent = "overlap_with_current", currentMembers = "current_members"
        }
    }
    public struct Changed: Encodable, Sendable {
        public var primarySegment = 0
        public var route = 0
        public var owner = 0
        enum CodingKeys: String, CodingKey { case primarySegment = "primary_segment", route, owner }
    }
    /// A lead whose routing would change, with both sides' primary segment, actions and the
    /// decision that explains its memberships.
    public struct Example: Encodable, Sendable {
        public struct Side: Encodable, Sendable {
            public var primarySegment: String?
            public var actions: [Action]
            public var explanation: Decision?
            enum CodingKeys: String, CodingKey { case primarySegment = "primary_segment", actions, explanation }
            public func encode(to encoder: Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(primarySegment, forKey: .primarySegment); try c.encode(actions, forKey: .actions)
                try c.encode(explanation, forKey: .explanation)
            }
        }
        public var leadId: String
        public var active: Side
        public var candidate: Side
        enum CodingKeys: String, CodingKey { case leadId = "lead_id", active, candidate }
    }

    public var version: Int
    public var activeVersion: Int
    public var from: Timestamp
    public var to: Timestamp
    public var sample: Double
    public var leads = 0
    public var events = 0
    public var seconds = 0.0
    public var eventsPerSecond = 0.0
    public var segments: [SegmentFigures]
    public var changed = Changed()
    /// Leads whose primary segment, route or owner would change, over leads replayed.
    public var routingChangedShare = 0.0
    public var examples: [Example] = []
    static let maxExamples = 10

    enum CodingKeys: String, CodingKey {
        case version, activeVersion = "active_version", from, to, sample, leads, events, seconds
        case eventsPerSecond = "events_per_second", segments, changed, routingChangedShare = "routing_changed_share"
        case examples
    }

    private var index: [String: Int] = [:]
    private var routingChanged = 0

    public init(backtest: Backtest) {
        version = backtest.candidate.ruleset.version
        activeVersion = backtest.active.ruleset.version
        from = Timestamp(backtest.from); to = Timestamp(backtest.to); sample = backtest.sample
        var names: [String] = []
        for name in backtest.active.ruleset.segments.map(\.name) + backtest.candidate.ruleset.segments.map(\.name) where !names.contains(name) {
            names.append(name)
        }
        segments = names.map { SegmentFigures(name: $0) }
        for (i, name) in names.enumerated() { index[name] = i }
        for segment in backtest.candidate.ruleset.segments where segment.goal != nil { segments[index[segment.name]!].candidate.goal = GoalFigures() }
        for segment in backtest.active.ruleset.segments where segment.goal != nil { segments[index[segment.name]!].active.goal = GoalFigures() }
    }

    /// The sales teams a decision routes to (the person is assigned when routed, not replayed).
    static func owners(_ d: Decision) -> [String] { d.actions.compactMap(\.team) }

    public mutating func add(_ outcome: Backtest.LeadOutcome) {
        leads += 1
        events += outcome.events
        let c = outcome.candidate, a = outcome.active
        for (side, replay) in [(\SegmentFigures.candidate, c), (\SegmentFigures.active, a)] {
            for name in replay.final.newState.memberships.keys { if let i = index[name] { segments[i][keyPath: side].sizeAtEnd += 1 } }
            for (name, n) in replay.entries { if let i = index[name] { segments[i][keyPath: side].entries += n } }
            for (name, n) in replay.exits { if let i = index[name] { segments[i][keyPath: side].exits += n } }
            for (name, n) in replay.goalsReached { if let i = index[name] { segments[i][keyPath: side].goal?.reached += n } }
        }
        for name in outcome.current {
            guard let i = index[name] else { continue }
            segments[i].currentMembers += 1
            if c.final.newState.memberships[name] != nil { segments[i].overlapWithCurrent += 1 }
        }
        let cd = c.final.decision, ad = a.final.decision
        let primary = cd.primarySegment != ad.primarySegment, route = cd.actions != ad.actions, owner = Self.owners(cd) != Self.owners(ad)
        if primary { changed.primarySegment += 1 }
        if route { changed.route += 1 }
        if owner { changed.owner += 1 }
        if primary || route || owner {
            routingChanged += 1
            if examples.count < Self.maxExamples {
                // Replayed again with explanations (a part keeps its first examples only, so at
                // most `maxExamples` leads per part pay for them).
                let explained = outcome.explainedEntries()
                examples.append(Example(leadId: outcome.leadId.uuidString.lowercased(),
                                        active: .init(primarySegment: ad.primarySegment, actions: ad.actions, explanation: explained.active),
                                        candidate: .init(primarySegment: cd.primarySegment, actions: cd.actions, explanation: explained.candidate)))
            }
        }
    }

    /// The workers' parts (`add`ed lead by lead, each over its own leads) as one report: the
    /// counts summed, the examples the first by lead id (each part keeps its first, and a
    /// worker's leads come in id order, so these are the first of all), the shares worked out
    /// once. The same for any number of parts the leads were split into.
    public static func merged(_ parts: [BacktestReport]) -> BacktestReport {
        var total = parts[0]
        for part in parts.dropFirst() {
            total.leads += part.leads
            total.events += part.events
            total.routingChanged += part.routingChanged
            total.changed.primarySegment += part.changed.primarySegment
            total.changed.route += part.changed.route
            total.changed.owner += part.changed.owner
            total.examples += part.examples
            for i in total.segments.indices {
                let other = part.segments[i]
                total.segments[i].currentMembers += other.currentMembers
                total.segments[i].overlapWithCurrent += other.overlapWithCurrent
                for side in [\SegmentFigures.candidate, \SegmentFigures.active] {
                    total.segments[i][keyPath: side].sizeAtEnd += other[keyPath: side].sizeAtEnd
                    total.segments[i][keyPath: side].entries += other[keyPath: side].entries
                    total.segments[i][keyPath: side].exits += other[keyPath: side].exits
                    if let reached = other[keyPath: side].goal?.reached { total.segments[i][keyPath: side].goal?.reached += reached }
                }
            }
        }
        total.examples = Array(total.examples.sorted { $0.leadId < $1.leadId }.prefix(maxExamples))
        for i in total.segments.indices {
            for side in [\SegmentFigures.candidate, \SegmentFigures.active] where total.segments[i][keyPath: side].goal != nil {
                let entries = total.segments[i][keyPath: side].entries
                total.segments[i][keyPath: side].goal!.conversion = entries == 0 ? nil : Double(total.segments[i][keyPath: side].goal!.reached) / Double(entries)
            }
        }
        total.routingChangedShare = total.leads == 0 ? 0 : Double(total.routingChanged) / Double(total.leads)
        return total
    }
}
