import Foundation

/// The result of one evaluation: the lead state to store and the decision to answer with.
public struct Evaluation: Sendable {
    /// State to store on the lead row (signals pruned, memberships, score, stage, status updated).
    public var newState: LeadState
    /// The decision (also carries `event_type` and `unknown_event_type`).
    public var decision: Decision
}

/// Evaluates leads against one ruleset. Pure: no clock, no I/O; `now` is an argument, so the same
/// ruleset, state, event and `now` always give the same result.
public struct Engine: Sendable {
    /// The compiled ruleset.
    public let ruleset: Ruleset

    /// Creates an engine for a ruleset.
    public init(_ ruleset: Ruleset) { self.ruleset = ruleset }

    /// Applies one event (or none, for time-based re-evaluation) at `now`.
    public func evaluate(state: LeadState, event: Event?, now: Date) -> Evaluation {
        evaluate(state: state, event: event, now: Timestamp(now))
    }

    /// Re-evaluates without an event (windows running out, `inactive`, `membership.age`, decay).
    public func evaluate(state: LeadState, now: Date) -> Evaluation {
        evaluate(state: state, event: nil, now: Timestamp(now))
    }

    /// Applies one event (or none) at `now`, millisecond resolution.
    public func evaluate(state: LeadState, event: Event?, now: Timestamp) -> Evaluation {
        let rs = ruleset
        let nowMs = now.milliseconds
        let resolved = event.map(resolve)
        let enteredBefore = rs.enteredTimes(state)
        let env = EvalEnv(lead: state, event: resolved, now: nowMs, series: prepareSeries(state), entered: enteredBefore)
        let previousScore = state.score, previousScoreAt = state.scoreAt
        var applications: [ScoreRuleApplication] = []
        if let ev = resolved { applications = applyEvent(ev, env) }
        let decayedBefore = decayedScore(state, to: nowMs)
        let settled = settle(env)

        // Explanations of changed segments, with the values the rules saw.
        var explanation = Explanation()
        for (i, change) in settled.changes {
            let seg = rs.segments[i]
            env.enteredAt = change == "entered" ? nowMs : enteredBefore[i]
            let nodes = [seg.enter.node] + (seg.exit.map { [$0.node] } ?? [])
            explanation.segments[seg.name] = SegmentExplanation(
                change: change, enter: Explainer.render(seg.enter.node, env),
                exit: seg.exit.map { Explainer.render($0.node, env) }, terms: Explainer.terms(nodes, env))
        }
        env.enteredAt = nil
        if !rs.scoring.rules.isEmpty || !rs.scoring.bands.isEmpty {
            explanation.score = ScoreExplanation(
                previous: round3(previousScore), previousAt: previousScoreAt, decayed: round3(decayedBefore),
                halfLife: rs.scoring.halfLife?.description, rules: applications, score: round3(env.lead.score), band: settled.band)
        }

        // Store: memberships, stage, band, pruned signals.
        var lead = env.lead
        lead.stage = settled.stage
        lead.band = settled.band
        var memberships: [String: Timestamp] = [:]
        for (i, seg) in rs.plan.segments.enumerated() {
            if let e = env.entered[i] { memberships[seg.name] = Timestamp(milliseconds: e) }
        }
        lead.memberships = memberships
        var series = env.series
        var stored = SignalState()
        stored.series.reserveCapacity(rs.signals.count)
        for (slot, spec) in rs.signals.enumerated() {
            series[slot].prune(now: nowMs)
            stored.series[spec.key] = series[slot]
        }
        lead.signals = stored

        let next = nextEvaluation(lead: lead, entered: env.entered, series: series, now: nowMs, current: settled.outcome,
                                  checkFixedPoint: (resolved != nil && rs.timeRulesReadEvent) || settled.changes.contains { $0.1 == "exited" })
        let current = rs.segments.indices.filter { env.members[$0] }.map { rs.segments[$0].name }.sorted()
        let decision = Decision(
            leadId: nil, eventId: nil, rulesetVersion: rs.version, evaluatedAt: now,
            segments: .init(entered: settled.changes.filter { $0.1 == "entered" }.map { rs.segments[$0.0].name }.sorted(),
                            exited: settled.changes.filter { $0.1 == "exited" }.map { rs.segments[$0.0].name }.sorted(),
                            current: current),
            primarySegment: settled.primary.map { rs.segments[$0].name }, stage: settled.stage, status: lead.status,
            score: round3(lead.score), band: settled.band, actions: settled.actions(rs, now: nowMs),
            suppressed: settled.suppressed, explanation: explanation, nextEvaluationAt: next.map { Timestamp(milliseconds: $0) },
            eventType: resolved?.type, unknownEventType: resolved.map { !$0.known } ?? false)
        return Evaluation(newState: lead, decision: decision)
    }

    /// Rebuilds the signals this ruleset is missing for `state` (see `Ruleset.signalsMissing`) from the
    /// lead's stored events. Other signals and all other fields are left as they are.
    public func backfill(state: LeadState, events: [Event], now: Timestamp) -> LeadState {
        let missing = Set(ruleset.signalsMissing(from: state.signals).map(\.key))
        guard !missing.isEmpty else { return state }
        var lead = state
        let env = EvalEnv(lead: state, event: nil, now: now.milliseconds, series: [], entered: [])
        for spec in ruleset.signals where missing.contains(spec.key) {
            var s = SignalSeries(times: [], keep: spec.keep, window: spec.window, keepsLatest: spec.keepsLatest)
            for e in events {
                let r = resolve(e)
                env.event = r
                if spec.matches(env, type: r.type) { s.insert(r.at) }
            }
            s.prune(now: now.milliseconds)
            lead.signals.series[spec.key] = s
        }
        return lead
    }

    func resolve(_ e: Event) -> ResolvedEvent {
        let alias = ruleset.aliases[e.name]
        let type = alias ?? e.name
        return ResolvedEvent(type: type, name: e.name, properties: e.properties, context: e.context,
                             at: e.occurredAt.milliseconds,
                             known: alias != nil || ruleset.plan.knownTypes.contains(type))
    }

    /// Stored series in slot order, kept from now on as the spec says. A series that did not cover
    /// the spec (new signal on a lead with history, longer window, higher threshold) is marked
    /// incomplete, so `signalsMissing` reports it until it is backfilled.
    func prepareSeries(_ state: LeadState) -> [SignalSeries] {
        let fresh = state.lastEventAt == nil
        return ruleset.signals.map { spec in
            var s = state.signals.series[spec.key] ?? SignalSeries(times: [], complete: fresh)
            s.complete = spec.isCovered(by: s) || (fresh && s.times.isEmpty)
            s.keep = spec.keep; s.window = spec.window; s.keepsLatest = spec.keepsLatest
            return s
        }
    }

    /// Event effects before rules are settled: profile times, signals, source, status, score points.
    private func applyEvent(_ ev: ResolvedEvent, _ env: EvalEnv) -> [ScoreRuleApplication] {
        let at = Timestamp(milliseconds: ev.at)
        if env.lead.firstSeen.map({ at < $0 }) ?? true { env.lead.firstSeen = at }
        if env.lead.lastEventAt.map({ at > $0 }) ?? true { env.lead.lastEventAt = at }
        let plan = ruleset.plan
        for slot in plan.anySlots { env.series[slot].insert(ev.at) }
        for slot in plan.slotsByType[ev.type] ?? [] where ruleset.signals[slot].matches(env, type: ev.type) {
            env.series[slot].insert(ev.at)
        }
        if let src = ruleset.sources.first(where: { $0.when.holds(env) }) {
            let touch = LeadState.Touch(channel: src.channel, at: at)
            if env.lead.firstSource.map({ at < $0.at }) ?? true { env.lead.firstSource = touch }
            if env.lead.lastSource.map({ at >= $0.at }) ?? true { env.lead.lastSource = touch }
        }
        if let status = ruleset.statusOnEvent[ev.type], env.lead.statusAt.map({ at >= $0 }) ?? true {
            env.lead.setStatus(status, at: at)
        }
        return applyScoreRules(ev, env)
    }
}

func round3(_ v: Double) -> Double { (v * 1000).rounded() / 1000 }
