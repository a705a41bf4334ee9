// The naive reference evaluator: it keeps EVERY event a lead ever had and recomputes each
// count/since/inactive from that list at every evaluation. Slow and obviously right, it is the
// oracle the engine's compact signal state is checked against.

/// The reference's lead: the full event history and the current memberships with entry times.
struct RefLead {
    var events: [RefEvent] = []
    /// Segment name → instant the lead entered it.
    var memberships: [String: Int64] = [:]
}

/// What one reference evaluation produced.
struct RefOutcome {
    var current: Set<String>
    var entered: [String]
    var exited: [String]
    /// For each segment in order: did `enter` hold, did `exit` hold (before hysteresis).
    var truths: [Bool]
}

/// Evaluates a `RefRuleset` from a lead's full event history.
struct ReferenceEvaluator {
    let ruleset: RefRuleset
    /// The smallest step of time the engine distinguishes, in seconds: a strict comparison such as
    /// `since(x) > 2h` first holds one tick after `last + 2h`.
    var tick: Int64 = 1

    /// Adds the event (if any) to the history and evaluates every segment at `now`, applying the
    /// hysteresis: a non-member enters when `enter` holds and `exit` does not; a member leaves when
    /// `exit` holds. Segments are visited in order, so `in_segment` sees this evaluation's result.
    func evaluate(_ lead: inout RefLead, event: RefEvent?, now: Int64) -> RefOutcome {
        if let event { lead.events.append(event) }
        var result: [String: Int64] = [:]
        var outcome = RefOutcome(current: [], entered: [], exited: [], truths: [])
        for segment in ruleset.segments {
            let since = lead.memberships[segment.name]
            let context = Context(lead: lead, now: now, enteredAt: since, thisRun: result)
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
        return outcome
    }

    /// What rules see at `instant` for an already-evaluated lead: every segment's `enter` and
    /// `exit` truth, then the resulting membership. Two instants with the same vector are
    /// indistinguishable to the ruleset.
    func truthVector(_ lead: RefLead, at instant: Int64) -> [Bool] {
        var copy = lead
        let outcome = evaluate(&copy, event: nil, now: instant)
        return outcome.truths + ruleset.segments.map { outcome.current.contains($0.name) }
    }

    /// Every future instant (after `now`) at which some function's value may change with no new
    /// event: a counted event leaving its window, a `since` or `membership.age` threshold, an
    /// `inactive` deadline. Sorted, without duplicates.
    func candidateInstants(_ lead: RefLead, now: Int64) -> [Int64] {
        var instants = Set<Int64>()
        let lastAny = lead.events.lazy.filter { $0.at <= now }.map(\.at).max()
        func visit(_ expr: RefExpr, enteredAt: Int64?) {
            switch expr {
            case .literal, .inSegment, .sinceNull: break
            case let .count(type, filter, window, _, _):
                for event in lead.events where event.type == type && (filter?.matches(event) ?? true) {
                    let leaves = event.at + window.seconds
                    if event.at <= now && leaves > now { instants.insert(leaves) }
                }
            case let .since(type, op, d):
                if let last = lastOccurrence(of: type, in: lead, now: now) {
                    let edge = last + d.seconds + (op == .gt || op == .le ? tick : 0)
                    if edge > now { instants.insert(edge) }
                }
            case let .inactive(window):
                if let lastAny, lastAny + window.seconds > now { instants.insert(lastAny + window.seconds) }
            case let .membershipAge(op, d):
                if let enteredAt {
                    let edge = enteredAt + d.seconds + (op == .gt || op == .le ? tick : 0)
                    if edge > now { instants.insert(edge) }
                }
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
        return instants.sorted()
    }

    /// The first instant after `now` at which some rule's truth really changes without a new
    /// event, or nil if none ever does.
    func nextTruthChange(_ lead: RefLead, now: Int64) -> Int64? {
        let before = truthVector(lead, at: now)
        for instant in candidateInstants(lead, now: now) where truthVector(lead, at: instant) != before {
            return instant
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
            let n = context.lead.events.lazy.filter {
                $0.type == type && $0.at <= now && $0.at > now - window.seconds && (filter?.matches($0) ?? true)
            }.count
            return op.holds(n, k)
        case let .since(type, op, d):
            guard let last = lastOccurrence(of: type, in: context.lead, now: now) else { return false }
            return op.holds(now - last, d.seconds)
        case let .sinceNull(type, isNull):
            return (lastOccurrence(of: type, in: context.lead, now: now) == nil) == isNull
        case let .inactive(window):
            return !context.lead.events.contains { $0.at <= now && $0.at > now - window.seconds }
        case let .membershipAge(op, d):
            guard let enteredAt = context.enteredAt else { return false }
            return op.holds(now - enteredAt, d.seconds)
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
        lead.events.lazy.filter { $0.type == type && $0.at <= now }.map(\.at).max()
    }
}
