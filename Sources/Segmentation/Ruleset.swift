/// A loaded, compiled ruleset (DESIGN.md §7). Immutable and `Sendable`: load once, share between threads.
public struct Ruleset: Sendable {
    /// The version copied into every decision as `ruleset_version`: `version:` from the file
    /// until the service numbers the stored version (`numbered(_:)`).
    public private(set) var version: Int
    /// The file name given to the loader (for messages only).
    public let fileName: String
    /// Incoming event name → canonical type.
    public let aliases: [String: String]
    /// Every type `count`/`since` may name, sorted.
    public let knownEventTypes: [String]
    /// Channel derivation, first match wins.
    public let sources: [SourceRule]
    /// Ordered stage rules, first match wins.
    public let stages: [StageRule]
    /// Canonical event type → status it moves the lead to (the first entry's, for reports).
    public let statusOnEvent: [String: String]
    /// Canonical event type → its `statuses.on_event` entries, in file order (the first whose
    /// `when` holds moves the status).
    public let statusRules: [String: [StatusRule]]
    /// Statuses a customer (`lead.customer`) only moves to through an entry with `when`
    /// (`statuses.pre_customer`, by default the shared funnel statuses).
    public let preCustomerStatuses: Set<String>
    /// Score rules, decay and bands.
    public let scoring: Scoring
    /// Channel → condition under which that channel gets no action, sorted by channel.
    public let suppress: [Suppression]
    /// Sales teams by name.
    public let teams: [String: Team]
    /// `owners:`: who, besides teams and their members, may own a segment.
    public var owners: [String] = []
    /// Whether any segment has a `goal` (the engine then checks goals with each evaluation).
    public var hasGoals = false
    /// The segments with a `goal`, flattened at load: checked on every evaluation without copying
    /// each `Segment` (a copy retains every field; it was a sixth of an evaluation).
    var goalChecks: [GoalCheck] = []

    /// The `owner` of the segment named `name` (nil for an unknown segment or none declared).
    public func owner(of name: String) -> String? { segmentIndex[name].flatMap { segments[$0].owner } }
    /// Which channels act for every current segment, not only the primary one.
    public let routing: Routing
    /// What a rep may report with an ack (`sales.outcomes`; `SalesOutcome.defaults` without it).
    public let salesOutcomes: [String: SalesOutcome]
    /// Segments in file order.
    public let segments: [Segment]
    /// `key_events`: event types whose silence drift reports, sorted by type.
    public internal(set) var keyEvents: [KeyEvent] = []
    /// Signals the ruleset counts, in first-use order (their slots).
    public let signals: [SignalSpec]
    /// Segment indices in dependency order (a segment after every segment its rules `in_segment`).
    let evaluationOrder: [Int]
    /// Whether stage/segment/suppress rules read `event.*` (then an event-less evaluation at the
    /// same instant can differ from the evaluation with the event).
    let timeRulesReadEvent: Bool
    let segmentIndex: [String: Int]
    let plan: EvaluationPlan
    /// The signal keys sorted, and for each position in that order the signal's slot: a stored
    /// state with exactly these keys maps to slots without a lookup.
    let sortedSignalKeys: [UInt64]
    let slotBySortedPosition: [Int]
    /// Swaps that turn an array in slot order into sorted-key order in place (`storedSignals`).
    let sortingSwaps: [(Int, Int)]
    /// How `lead.interest` counts product views; nil when no rule or template reads it and the
    /// ruleset has no `interest:` section (then nothing is counted).
    public var interest: InterestSpec? = nil
    /// Frequency caps (`caps:`) per channel, sorted by channel (decisions list them in a fixed order).
    public var caps: [ChannelCaps] = []
    /// Indices of the segments with a `score:` (computed once at load: read on every evaluation).
    public var scoredSegments: [Int] = []

    /// The same ruleset under the version number the service gave it when storing it (a file's
    /// `version:` is informational once rulesets are versioned in the database).
    public func numbered(_ version: Int) -> Ruleset {
        var copy = self
        copy.version = version
        return copy
    }

    /// Entered-at per segment index from stored memberships.
    /// Walks the (few) stored memberships rather than looking every segment up by name.
    func enteredTimes(_ memberships: [String: Timestamp]) -> [Int64?] {
        var out = [Int64?](repeating: nil, count: plan.segments.count)
        for (name, at) in memberships { if let i = plan.segmentNames.index(of: name) { out[i] = at.milliseconds } }
        return out
    }

    /// The series (in slot order) moved into a stored signal state: exactly this ruleset's
    /// signals; `series` is left empty. The array is put in key order in place by `sortingSwaps`
    /// and handed over: copying each series retained its two arrays here and released them again
    /// when the evaluation environment went away (about 1.8 k instructions per evaluation).
    func storedSignals(moving series: inout [SignalSeries]) -> SignalState {
        var values: [SignalSeries] = []
        swap(&values, &series)
        values.withUnsafeMutableBufferPointer { buffer in
            for (a, b) in sortingSwaps { buffer.swapAt(a, b) }
        }
        var state = SignalState()
        state.series = SeriesTable(sortedKeys: sortedSignalKeys, values: values)
        return state
    }

    /// Signals this ruleset needs that `state` does not hold (or holds with less history than
    /// needed, e.g. a longer window or a higher count threshold). The service backfills them with
    /// `Engine.backfill(state:events:now:)` from stored events.
    public func signalsMissing(from state: SignalState) -> [SignalSpec] {
        signals.filter { spec in state.series[spec.key].map { !spec.isCovered(by: $0) } ?? true }
    }

    /// True when this ruleset counts `lead.interest` and `state` has not been counted since its
    /// first event (`interest.at` unset: the lead has events from before a ruleset read
    /// `lead.interest`). The service rebuilds it from stored events, as missing signals.
    public func interestMissing(_ state: LeadState) -> Bool {
        interest != nil && state.interest.at == nil
    }

    /// Whether a lead with history must be backfilled from its stored events before this ruleset
    /// decides: a signal is missing (`signalsMissing`) or `lead.interest` is (`interestMissing`).
    public func needsBackfill(_ state: LeadState) -> Bool {
        state.lastEventAt != nil && (interestMissing(state) || !signalsMissing(from: state.signals).isEmpty)
    }
}

/// `sources:` entry: a lead touch gets `channel` when `when` holds on the event.
public struct SourceRule: Sendable {
    /// Channel name, e.g. `paid_search`.
    public let channel: String
    /// Condition over the event (usually `event.context.campaign.*`).
    public let when: Rule
}

/// `stages:` entry.
public struct StageRule: Sendable {
    /// Stage name, e.g. `decision`.
    public let stage: String
    /// Condition.
    public let when: Rule
    /// What a lead at this stage should reach (`goal:`), if declared.
    public var goal: Goal? = nil
}

/// A segment's or stage's `goal`: the condition an entrant should reach and the horizon within
/// which reaching it counts as a conversion (segment metrics).
public struct Goal: Sendable {
    /// The goal condition, e.g. `lead.status == "converted"`.
    public let when: Rule
    /// How long after entering reaching the goal still counts.
    public let within: Duration
}

/// One segment's goal as the engine checks it: segment index, horizon, compiled condition.
struct GoalCheck: Sendable {
    let segment: Int
    let withinMs: Int64
    let when: CNode
}

/// `scoring:`: points with exponential decay, per-rule caps, bands.
public struct Scoring: Sendable {
    /// Points halve every `halfLife`; nil means no decay.
    public let halfLife: Duration?
    /// Score rules in file order.
    public let rules: [ScoreRule]
    /// Bands in file order; the first whose `below` exceeds the score applies, the last has no `below`.
    public let bands: [Band]
}

/// One scoring rule.
public struct ScoreRule: Sendable {
    /// Stable key of the rule (hash of its `when` and points), under which its contribution is stored.
    public let key: String
    /// Condition checked on each event.
    public let when: Rule
    /// Points added when it holds (may be negative).
    public let points: Double
    /// Largest (decayed) total this rule may contribute at any time; nil = no cap.
    public let cap: Double?
}

/// A score band.
public struct Band: Sendable {
    /// Upper bound (exclusive); nil for the last band.
    public let below: Double?
    /// Action name, e.g. `route_to_sales`; reported as the decision's `band`.
    public let action: String
    /// Routes for the channels the primary segment's route does not set (`route:` of the band).
    public var route: Route? = nil
}

extension Ruleset {
    /// Statuses that make a lead a customer for good (`LeadState.setStatus`).
    public static let customerStatuses: Set<String> = ["converted"]
    /// What a sales queue ack sets when it names no outcome.
    public static let defaultSalesOutcome = "sales_outreach_started"
    /// Statuses every ruleset knows: a lead's first status and the default ack outcome.
    public static let builtInStatuses: Set<String> = ["new", defaultSalesOutcome]

    /// Every status the ruleset knows: the built-in ones and those `statuses.on_event` moves to.
    public static func knownStatuses(statusOnEvent: [String: String]) -> Set<String> {
        builtInStatuses.union(statusOnEvent.values)
    }
}

/// `suppress:` entry.
public struct Suppression: Sendable {
    /// `email`, `ads` or `sales`.
    public let channel: String
    /// When it holds the channel gets no action; its text is the reason reported.
    public let condition: Rule
    /// The reason reported instead of the condition's text (`consent` for the suppressions the
    /// `consent:` section makes).
    public var reason: String? = nil
}

/// `routing:`. By default only the primary segment's route acts (one email sequence, one ad
/// audience, one sales hand-off per lead). A channel listed in `all_segments` acts for every current
/// segment that routes it: typically `ads`, since a lead can sit in several ad audiences at once.
public struct Routing: Sendable {
    /// Channels (`email`, `ads`; sorted) whose actions come from every current segment.
    public let allSegments: [String]
}

/// A sales team.
public struct Team: Sendable {
    /// Team name (the key under `teams:`).
    public let name: String
    /// Assignment strategy: `round_robin`, `least_loaded` or `territory`.
    public let strategy: String
    /// Members in file order.
    public let members: [TeamMember]
    /// Team to escalate to when no member can take the lead.
    public let escalateTo: String?
    /// Who takes a lead no member's territory covers: `all` members (the default) or only the
    /// members without territories (`unassigned_members`).
    public var territoryFallback: String = "all"

    static let territoryFallbacks = ["all", "unassigned_members"]
}

/// A team member.
public struct TeamMember: Sendable {
    /// Owner id, e.g. `rep_anna`.
    public let id: String
    /// Open items the member can hold; nil = unlimited.
    public let capacity: Int?
    /// Country or region codes the member covers.
    public let territories: [String]
}

/// A segment: `<stage>.<intent>.<theme>` with entry and exit rules and a route.
public struct Segment: Sendable {
    /// Name, e.g. `decision.high-intent.cart`.
    public let name: String
    /// What it means, for people.
    public let description: String?
    /// Who owns it (marketing, sales).
    public let owner: String?
    /// Highest priority membership is the primary segment (ties by name).
    public let priority: Int
    /// A non-member enters when this holds and `exit` does not.
    public let enter: Rule
    /// A member leaves when this holds; nil means when `enter` no longer holds.
    public let exit: Rule?
    /// Where members are routed.
    public let route: Route
    /// What an entrant should reach (`goal:`), if declared.
    public var goal: Goal? = nil
    /// The segment's own score of its members (`score:`; no bands), nil without one.
    public var score: Scoring? = nil
}

/// A segment's routing.
public struct Route: Sendable {
    /// Email sequence.
    public let email: EmailRoute?
    /// Ad audience and landing page.
    public let ads: AdsRoute?
    /// Sales queue.
    public let sales: SalesRoute?
    /// Fields written as templates or choices, filled in at each decision (in file order).
    public var dynamic: [DynamicField] = []
    /// Channel → its `delay`/`window` (the action then carries `send_at`).
    public var timing: [String: SendTiming] = [:]
    /// Channels whose action is an experiment (`RouteExperiment`); those channels are nil above.
    public var experiments: [RouteExperiment] = []
}

/// `route.email`.
public struct EmailRoute: Sendable {
    /// Sequence name in the email tool.
    public let sequence: String
}

/// `route.ads`.
public struct AdsRoute: Sendable {
    /// Audience name in the ads platform.
    public let audience: String
    /// Landing page path, if any.
    public let landingPage: String?
}

/// `route.sales`.
public struct SalesRoute: Sendable {
    /// Queue name.
    public let queue: String
    /// Team (a key of `teams:`).
    public let team: String?
    /// Time to first touch; `sla_due_at = now + sla`.
    public let sla: Duration?
    /// Call script for the rep (usually chosen by how the lead arrived).
    public var script: String? = nil
}

/// A ruleset that loaded, with its warnings (suspicious but valid rules).
public struct LoadedRuleset: Sendable {
    /// The compiled ruleset.
    public let ruleset: Ruleset
    /// Warnings in file order.
    public let warnings: [Diagnostic]
}

/// One `statuses.on_event` entry: the status an event moves the lead to, when `when` holds.
public struct StatusRule: Sendable {
    /// The status.
    public let to: String
    /// The condition (nil: always). Evaluated with the event, after its signals and source.
    public let when: Rule?

    /// The statuses a new lead goes through before it buys (the shared CRM statuses).
    public static let defaultPreCustomer: Set<String> = ["new", "engaged", "qualified", "sales_outreach_started", "meeting_scheduled"]
}

extension Ruleset {
    /// The swaps, applied in order, after which position `p` holds the series of slot
    /// `slotBySortedPosition[p]` (at most one swap per position; none when the orders agree).
    static func sortingSwaps(_ slotBySortedPosition: [Int]) -> [(Int, Int)] {
        var slotAt = Array(slotBySortedPosition.indices)  // the slot whose series sits at each position
        var positionOf = slotAt                            // where each slot's series sits
        var swaps: [(Int, Int)] = []
        for (target, slot) in slotBySortedPosition.enumerated() where slotAt[target] != slot {
            let from = positionOf[slot], displaced = slotAt[target]
            swaps.append((target, from))
            slotAt[from] = displaced; positionOf[displaced] = from
            slotAt[target] = slot; positionOf[slot] = target
        }
        return swaps
    }
}
