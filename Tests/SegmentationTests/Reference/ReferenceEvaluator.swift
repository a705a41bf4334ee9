import Foundation

// The naive reference evaluator: it keeps EVERY event a lead ever had and recomputes each
// count/since/inactive from that list at every evaluation. Slow and obviously right, it is the
// oracle the engine's compact signal state is checked against.

/// The reference's lead: the full event history and the current memberships with entry times.
struct RefLead {
    var events: [RefEvent] = []
    /// Segment name → instant the lead entered it.
    var memberships: [String: Int64] = [:]
    /// The stage at the last evaluation.
    var stage = "awareness"
    /// Every scored arrival of the lead score (nil: the ruleset has no `scoring:`).
    var scorer: ReferenceScorer?
    /// Per current member segment with a `score:`, every scored arrival since it entered.
    var segmentScorers: [String: ReferenceScorer] = [:]
    /// Per channel: the segments whose action the last decision carried, and every send (kept forever).
    var carried: [String: Set<String>] = [:]
    var sends: [String: [Int64]] = [:]
    /// The lead's IANA zone (`context.timezone`), in which email windows are read.
    var zone = "UTC"
}

/// What one reference evaluation produced.
struct RefOutcome {
    var current: Set<String>
    var entered: [String]
    var exited: [String]
    /// For each segment in order: did `enter` hold, did `exit` hold (before hysteresis).
    var truths: [Bool]
    /// The member segment with the highest priority, ties to the first name.
    var primary: String?
    /// The first stage whose rule holds, and whether it differs from the previous evaluation's.
    var stage: String = "awareness"
    var stageChanged = false

    /// The lead score at the evaluation (nil without `scoring:`), recomputed from every arrival.
    var score: Double?
    /// The score of each current segment with a `score:`, recomputed from its arrivals since entry.
    var segmentScores: [String: Double] = [:]

    /// The email actions in decision order: the segment that gave each and its `send_at` (when its
    /// route has a delay or a window).
    var emails: [(segment: String, sendAt: Int64?)] = []
    /// The segment whose sales route the decision carries (the primary one's, unless capped).
    var sales: String?
    /// Per channel whose cap left an action out: the cap that fired (the first such), as
    /// `max N per D` and whether it has a `when`.
    var capped: [String: (text: String, hasWhen: Bool)] = [:]

    /// The first email action (the primary segment's, unless capped).
    var email: String? { emails.first?.segment }
    /// Whether a cap left an email out (`suppressed` reason `frequency_cap`).
    var emailCapped: Bool { capped["email"] != nil }
    /// The first email's `send_at`.
    var sendAt: Int64? { emails.first?.sendAt }

    /// Whether anything a decision reports as a change happened.
    var changed: Bool { !entered.isEmpty || !exited.isEmpty || stageChanged }
}

/// Evaluates a `RefRuleset` from a lead's full event history.
struct ReferenceEvaluator {
    let ruleset: RefRuleset
    /// The smallest step of time, in milliseconds: a strict comparison such as `since(x) > 2h`
    /// first holds one tick after `last + 2h`.
    var tick: Int64 = 1

    /// Adds the event (if any) to the history and evaluates every segment at `now`, applying the
    /// hysteresis: a non-member enters when `enter` holds and `exit` does not (with
    /// `membership.age` 0, as if it entered now); a member leaves when `exit` holds. Segments are
    /// visited in order, so `in_segment` sees this evaluation's result.
    func evaluate(_ lead: inout RefLead, event: RefEvent?, now: Int64) -> RefOutcome {
        if let event { lead.events.append(event) }
        var result: [String: Int64] = [:]
        var outcome = RefOutcome(current: [], entered: [], exited: [], truths: [], primary: nil)
        for segment in ruleset.segments {
            let since = lead.memberships[segment.name]
            // A non-member's exit is judged as if it entered now: membership.age is 0.
            let context = Context(lead: lead, now: now, enteredAt: since ?? now, thisRun: result)
            let enter = holds(segment.enter, context)
            let exit = holds(segment.exit, context)
            outcome.truths += [enter, exit]
            if let since {
                if exit { outcome.exited.append(segment.name) } else { result[segment.name] = since }
            } else if enter && !exit {
                result[segment.name] = now
                outcome.entered.append(segment.name)
            }
        }
        lead.memberships = result
        outcome.current = Set(result.keys)
        let stageContext = Context(lead: lead, now: now, enteredAt: nil, thisRun: [:])
        outcome.stage = ruleset.stages.first { holds($0.when, stageContext) }?.name ?? "awareness"
        outcome.stageChanged = outcome.stage != lead.stage
        lead.stage = outcome.stage
        outcome.primary = ruleset.segments.filter { result[$0.name] != nil }
            .max { ($0.priority, $1.name) < ($1.priority, $0.name) }?.name
        score(&lead, &outcome, event: event, now: now)
        actions(&lead, &outcome, now: now)
        return outcome
    }

    /// Actions and caps (docs/rules.md, "Actions of segments other than the primary", "Frequency
    /// caps", Timing). Email: the primary segment's, then with `routing.all_segments: [email]` every
    /// other current segment's, highest priority first, ties by name; sales: the primary's. Per
    /// channel and action in that order: an action the previous decision carried sends nothing new;
    /// a new one takes the first cap entry whose `when` holds (none: sent, not counted) and is left
    /// out when the channel already had `max` sends in `(now − per, now]` (sends earlier in this
    /// decision included), else sent now. `send_at` of an email is the first instant at or after
    /// `now + delay` inside its segment's window, in the lead's zone.
    func actions(_ lead: inout RefLead, _ outcome: inout RefOutcome, now: Int64) {
        var email: [RefSegment] = [], sales: [RefSegment] = []
        if let primary = ruleset.segments.first(where: { $0.name == outcome.primary }) {
            email.append(primary)
            if primary.sales { sales.append(primary) }
            if ruleset.allSegmentsEmail {
                email += ruleset.segments.filter { $0.name != primary.name && lead.memberships[$0.name] != nil }
                    .sorted { ($0.priority, $1.name) > ($1.priority, $0.name) }
            }
        }
        let context = Context(lead: lead, now: now, enteredAt: nil, thisRun: lead.memberships)
        func send(_ channel: String, _ segments: [RefSegment]) -> [RefSegment] {
            guard let entries = ruleset.caps[channel] else { return segments }
            let before = lead.carried[channel] ?? []
            var carried = Set<String>(), sent: [RefSegment] = []
            for segment in segments {
                if !before.contains(segment.name), let cap = entries.first(where: { $0.when.map { holds($0, context) } ?? true }) {
                    guard (lead.sends[channel] ?? []).filter({ $0 > now - cap.per.ms }).count < cap.max else {
                        if outcome.capped[channel] == nil { outcome.capped[channel] = ("max \(cap.max) per \(cap.per.canonical)", cap.when != nil) }
                        continue
                    }
                    lead.sends[channel, default: []].append(now)
                }
                carried.insert(segment.name)
                sent.append(segment)
            }
            lead.carried[channel] = carried
            return sent
        }
        let zone = TimeZone(identifier: lead.zone)!
        outcome.emails = send("email", email).map { ($0.name, $0.timing?.sendAt(now: now, zone: zone)) }
        outcome.sales = send("sales", sales).first?.name
    }

    /// Scores (docs/rules.md, Scoring and Segment scores): the lead score takes the event's
    /// points; each scored segment the lead is a member of after this evaluation takes them too,
    /// starting from nothing when the lead entered it now; a segment left forgets its score.
    func score(_ lead: inout RefLead, _ outcome: inout RefOutcome, event: RefEvent?, now: Int64) {
        if let scoring = ruleset.scoring {
            var scorer = lead.scorer ?? ReferenceScorer(scoring: scoring)
            _ = scorer.evaluate(event: event, now: now)
            lead.scorer = scorer
            outcome.score = scorer.score(at: now)
        }
        var kept: [String: ReferenceScorer] = [:]
        for segment in ruleset.segments where lead.memberships[segment.name] != nil {
            guard let scoring = segment.score else { continue }
            var scorer = outcome.entered.contains(segment.name) ? nil : lead.segmentScorers[segment.name]
            if scorer == nil { scorer = ReferenceScorer(scoring: scoring) }
            _ = scorer!.evaluate(event: event, now: now)
            kept[segment.name] = scorer
            outcome.segmentScores[segment.name] = scorer!.score(at: now)
        }
        lead.segmentScorers = kept
    }

    /// Every future instant (after `now`) at which some function's value may change with no new
    /// event: a counted event entering (if it is dated in the future) or leaving its window, a
    /// `since` or `membership.age` threshold, an `inactive` deadline. A superset is fine: the
    /// callers check the truth at each. Sorted, without duplicates.
    func candidateInstants(_ lead: RefLead, now: Int64) -> [Int64] {
        var instants = Set<Int64>()
        func add(_ instant: Int64) { if instant > now { instants.insert(instant) } }
        for event in lead.events { add(event.at) }
        func visit(_ expr: RefExpr, enteredAt: Int64?) {
            switch expr {
            case .literal, .inSegment, .sinceNull: break
            case let .count(type, filter, window, _, _):
                for event in lead.events where event.type == type && (filter?.matches(event) ?? true) {
                    add(event.at + window.ms)
                }
            case let .aggregate(_, type, filter, window, _, _):
                for event in lead.events where event.type == type && (filter?.matches(event) ?? true) {
                    add(event.at + window.ms)
                }
            case let .since(type, op, d):
                for event in lead.events where event.type == type {
                    add(event.at + d.ms + (op == .gt || op == .le ? tick : 0))
                }
            case let .inactive(window):
                for event in lead.events { add(event.at + window.ms) }
            case let .membershipAge(op, d):
                if let enteredAt { add(enteredAt + d.ms + (op == .gt || op == .le ? tick : 0)) }
            case let .not(inner): visit(inner, enteredAt: enteredAt)
            case let .and(lhs, rhs), let .or(lhs, rhs):
                visit(lhs, enteredAt: enteredAt)
                visit(rhs, enteredAt: enteredAt)
            }
        }
        for segment in ruleset.segments {
            visit(segment.enter, enteredAt: lead.memberships[segment.name])
            visit(segment.exit, enteredAt: lead.memberships[segment.name])
        }
        for stage in ruleset.stages { visit(stage.when, enteredAt: nil) }
        return instants.sorted()
    }

    /// Whether evaluating again right after `now` changes the memberships with no time-dependent
    /// value changing: a member just left a segment whose `enter` still holds and whose `exit` only
    /// held for members (through `membership.age`), so the next evaluation, whenever it comes,
    /// re-enters it.
    func reentersImmediately(_ lead: RefLead, now: Int64) -> Bool {
        var copy = lead
        return evaluate(&copy, event: nil, now: now).changed
    }

    /// The first instant after `now` at which the decision (memberships or stage) would change if
    /// the lead were evaluated then with no new event, or nil if it never does. A re-evaluation
    /// later than this misses a change; the engine's `next_evaluation_at` must not be later.
    func nextChange(_ lead: RefLead, now: Int64, upTo limit: Int64 = .max) -> Int64? {
        for instant in candidateInstants(lead, now: now) where instant <= limit {
            var copy = lead
            if evaluate(&copy, event: nil, now: instant).changed { return instant }
        }
        return nil
    }

    // MARK: - Expressions

    struct Context {
        var lead: RefLead
        var now: Int64
        var enteredAt: Int64?
        var thisRun: [String: Int64]
    }

    func holds(_ expr: RefExpr, _ context: Context) -> Bool {
        let now = context.now
        switch expr {
        case let .literal(value):
            return value
        case let .count(type, filter, window, op, k):
            var n = 0
            for event in context.lead.events
            where event.type == type && event.at <= now && event.at > now - window.ms && (filter?.matches(event) ?? true) {
                n += 1
            }
            return op.holds(n, k)
        case let .aggregate(fn, type, filter, window, op, k):
            var values: [Int] = []
            for event in context.lead.events
            where event.type == type && event.at <= now && event.at > now - window.ms && (filter?.matches(event) ?? true) {
                if case let .int(n)? = event.props["n"] { values.append(n) }
            }
            switch fn {
            case "sum": return op.holds(values.reduce(0, +), k)
            case "max": return values.max().map { op.holds($0, k) } ?? false
            case "min": return values.min().map { op.holds($0, k) } ?? false
            default:
                guard !values.isEmpty else { return false }
                return op.holds(Double(values.reduce(0, +)) / Double(values.count), Double(k))
            }
        case let .since(type, op, d):
            guard let last = lastOccurrence(of: type, in: context.lead, now: now) else { return false }
            return op.holds(now - last, d.ms)
        case let .sinceNull(type, isNull):
            return (lastOccurrence(of: type, in: context.lead, now: now) == nil) == isNull
        case let .inactive(window):
            for event in context.lead.events where event.at <= now && event.at > now - window.ms { return false }
            return true
        case let .membershipAge(op, d):
            guard let enteredAt = context.enteredAt else { return false }
            return op.holds(now - enteredAt, d.ms)
        case let .inSegment(name):
            return context.thisRun[name] != nil
        case let .not(inner):
            return !holds(inner, context)
        case let .and(lhs, rhs):
            return holds(lhs, context) && holds(rhs, context)
        case let .or(lhs, rhs):
            return holds(lhs, context) || holds(rhs, context)
        }
    }

    func lastOccurrence(of type: String, in lead: RefLead, now: Int64) -> Int64? {
        var last: Int64?
        for event in lead.events where event.type == type && event.at <= now && event.at > (last ?? Int64.min) {
            last = event.at
        }
        return last
    }
}
