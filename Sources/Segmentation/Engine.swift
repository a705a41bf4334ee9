import Foundation

/// The result of one evaluation: the lead state to store and the decision to answer with.
public struct Evaluation: Sendable {
    /// State to store on the lead row (signals pruned, memberships, score, stage, status updated).
    public var newState: LeadState
    /// The decision (also carries `event_type` and `unknown_event_type`).
    public var decision: Decision
    /// Memberships (current, or left by this evaluation) whose segment `goal` holds within its
    /// horizon of the entry: what segment metrics count as conversions. Not part of the decision.
    public var goalsReached: [GoalReached] = []
    /// Stage goals that hold now (see `StageGoals.swift`): the store counts those within horizon.
    public var stageGoalsHeld: [StageGoalHeld] = []

    /// One membership whose goal held: the segment and the membership's entry time.
    public struct GoalReached: Sendable, Equatable {
        public var segment: String
        public var enteredAt: Timestamp
    }
}

/// Evaluates leads against one ruleset. Pure: no clock, no I/O; `now` is an argument, so the same
/// ruleset, state, event and `now` always give the same result.
public struct Engine: Sendable {
    /// The ruleset behind one reference: copying an engine (every nested function of the hot path
    /// captures it) then costs one retain instead of one per field of the ruleset.
    final class Core: Sendable {
        let ruleset: Ruleset
        init(_ ruleset: Ruleset) { self.ruleset = ruleset }
    }
    private let core: Core
    /// Whether decisions carry `next_evaluation_at` (when the sweeper should look again). A
    /// backtest replays events, not sweeps, and turns it off: working it out was a third of each
    /// evaluation there (docs/benchmarks/backtest.md). Nothing else in the evaluation changes.
    public var computesNextEvaluation = true
    /// Whether decisions carry their explanation (segments, score, status, actions in words). A
    /// backtest needs it only for the few leads it shows as examples, and replays those again
    /// with it: building the texts was most of an evaluation's cost there
    /// (docs/benchmarks/backtest.md). Off, `decision.explanation` is empty; the state, the rest
    /// of the decision and `next_evaluation_at` are the same.
    public var explains = true
    /// Whether the decision carries `segments.current` and `segment_scores`, and the evaluation
    /// its `stageGoalsHeld`: parts that describe the lead after the evaluation and change nothing
    /// in it. A backtest's replay reads none of them (only what entered and left, the schedule,
    /// the goals reached and the state; the report reads its final decision's primary segment
    /// and actions), and building them was a few per cent of its evaluations
    /// (docs/benchmarks/backtest.md). Off, `current` is empty, `segmentScores` nil and
    /// `stageGoalsHeld` empty; the state and every other part are the same. Ingest leaves it on.
    public var describesLead = true

    /// The compiled ruleset.
    public var ruleset: Ruleset { core.ruleset }

    /// Creates an engine for a ruleset.
    public init(_ ruleset: Ruleset) { core = Core(ruleset) }

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
        evaluate(state: state, event: event, now: now, nextEvaluationBefore: .max)
    }

    /// `evaluate(state:event:now:)` for a caller that needs `next_evaluation_at` only when it is
    /// before `horizon` (epoch milliseconds): the decision carries it then, exactly as without a
    /// horizon, and nil otherwise; the search for it stops at the horizon. A backtest's replay
    /// keeps the earliest time scheduled, so an event's evaluation matters only when it schedules
    /// earlier, and nothing at or after the period's end is ever swept (docs/rulesets.md#backtest).
    /// Everything else in the evaluation is the same.
    ///
    /// `state` is consumed: a caller that hands over its only copy (`Backtest.replay` does) lets
    /// the evaluation take the lead's signal series over and change them in place; a caller that
    /// keeps its copy pays for the copies the evaluation then makes, as before.
    public func evaluate(state: consuming LeadState, event: Event?, now: Timestamp, nextEvaluationBefore horizon: Int64) -> Evaluation {
        let rs = core.ruleset
        let plan = rs.plan
        let nowMs = now.milliseconds
        let resolved = event.map(resolve)
        let enteredBefore = rs.enteredTimes(state.memberships)
        let previousScore = state.score, previousScoreAt = state.scoreAt, previousStage = state.stage
        let decayedBefore = explains ? decayedScore(state, to: nowMs) : 0
        // The series leave the state (its stored table is replaced at the end anyway).
        let series = prepareSeries(&state)
        // Moved, not copied (the compiler already did; `consume` keeps it so): a copy kept beside
        // the environment's would share every collection with it, and the first change to the
        // score parts, interest counts, memberships or sent logs would copy that collection.
        let env = EvalEnv(lead: consume state, event: resolved, now: nowMs, series: series, entered: enteredBefore)
        env.explains = explains
        var applications: [ScoreRuleApplication] = []
        var statusChange: StatusExplanation?
        if let ev = resolved { applications = applyEvent(ev, env, status: &statusChange) }
        let settled = settle(env)

        // Explanations of changed segments, with the values the rules saw.
        var explanation = Explanation()
        if explains {
            explanation.status = statusChange
            for (i, change) in settled.changes {
                let seg = rs.segments[i]
                env.enteredAt = change == "entered" ? nowMs : enteredBefore[i]
                // An entry is decided by `enter`; an exit by `exit`, or by `enter` failing when there is none.
                let byExit = change == "exited" && seg.exit != nil
                let why = Explainer.explain(byExit ? seg.exit!.node : seg.enter.node, env)
                explanation.segments[seg.name] = SegmentExplanation(
                    change: change, enter: byExit ? nil : why.text, exit: byExit ? why.text : nil, clauses: why.clauses, terms: why.terms)
            }
            env.enteredAt = nil
        }
        if explains, !rs.scoring.rules.isEmpty || !rs.scoring.bands.isEmpty {
            explanation.score = ScoreExplanation(
                previous: round3(previousScore), previousAt: previousScoreAt, decayed: round3(decayedBefore),
                halfLife: plan.halfLifeText, rules: applications, score: round3(env.lead.score), band: settled.band,
                text: ScoreWords.total(previous: previousScore, previousAt: previousScoreAt?.milliseconds, decayed: decayedBefore,
                                       halfLife: plan.halfLifeText, now: nowMs, added: applications.map(\.added),
                                       score: env.lead.score, band: settled.band))
        }

        // Store: memberships, stage, band, pruned signals. The environment becomes the stored
        // state in place, so `next_evaluation_at` reads it without another copy.
        env.lead.stage = settled.stage
        env.lead.band = settled.band
        let goals = rs.hasGoals ? goalsReached(env, enteredBefore: enteredBefore, now: nowMs) : []
        let stageGoals = describesLead && rs.hasStageGoals ? stageGoalsHeld(env, left: previousStage) : []
        applySegmentScores(env, changes: settled.changes, event: resolved)
        // Actions read the settled lead (and the event, for choices that look at it).
        var actionNotes: [ActionExplanation] = []
        var suppressed = settled.suppressed
        var actions = settled.actions(rs, members: env.members, now: nowMs, env: env, notes: &actionNotes, held: &suppressed)
        explanation.actions = actionNotes
        applyCaps(&actions, suppressed: &suppressed, env: env)
        storeMemberships(env, settled.changes, before: enteredBefore)
        // In place through a buffer pointer (one uniqueness check, not one per slot); an empty
        // series has nothing to prune.
        env.series.withUnsafeMutableBufferPointer { series in
            for slot in series.indices where !series[slot].times.isEmpty { series[slot].prune(now: nowMs) }
        }
        env.event = nil

        var current: [String] = []
        if describesLead { for i in plan.byName where env.members[i] { current.append(plan.segments[i].name) } }
        // Every answer is after now (now + 1 ms at the earliest): with the horizon no later than
        // that, none can be before it, and there is nothing to look for.
        let next = !computesNextEvaluation || horizon <= nowMs &+ 1 ? nil : nextEvaluation(
            env, now: nowMs, current: settled.outcome,
            checkFixedPoint: (resolved != nil && rs.timeRulesReadEvent) || settled.changes.contains { $0.1 == "exited" },
            before: horizon).flatMap { $0 < horizon ? $0 : nil }
        // The environment is done with: move the series into the stored state, and that out,
        // rather than copy them (`next_evaluation_at` above still read the series).
        env.lead.signals = rs.storedSignals(moving: &env.series)
        let lead = env.takeLead()
        let decision = Decision(
            leadId: nil, eventId: nil, rulesetVersion: rs.version, evaluatedAt: now,
            segments: .init(entered: settled.changed("entered", plan), exited: settled.changed("exited", plan), current: current),
            primarySegment: settled.primary.map { plan.segments[$0].name }, stage: settled.stage, status: lead.status,
            score: round3(lead.score), band: settled.band, actions: actions,
            suppressed: suppressed, explanation: explanation, nextEvaluationAt: next.map { Timestamp(milliseconds: $0) },
            eventType: resolved?.type, unknownEventType: resolved.map { !$0.known } ?? false,
            segmentScores: describesLead ? segmentScores(lead) : nil)
        return Evaluation(newState: lead, decision: decision, goalsReached: goals, stageGoalsHeld: stageGoals)
    }

    /// The goals that hold for a membership held after this evaluation or left by it (a checkout
    /// that makes the lead a customer and ends its cart segment reached the cart segment's goal),
    /// within the goal's horizon of the entry.
    private func goalsReached(_ env: EvalEnv, enteredBefore: [Int64?], now: Int64) -> [Evaluation.GoalReached] {
        var out: [Evaluation.GoalReached] = []
        // Read in place through a buffer pointer: iterating the checks copied each one (retaining
        // its rule) though most belong to segments the lead is not in (docs/benchmarks/backtest.md).
        ruleset.goalChecks.withUnsafeBufferPointer { goals in
            for k in goals.indices {
                let i = goals[k].segment
                guard let entered = env.entered[i] ?? enteredBefore[i], now - entered <= goals[k].withinMs, goals[k].when.eval(env).isTrue else { continue }
                out.append(Evaluation.GoalReached(segment: ruleset.plan.segments[i].name, enteredAt: Timestamp(milliseconds: entered)))
            }
        }
        return out
    }

    /// Memberships after settling: only the changed segments are written when the stored
    /// memberships all belong to this ruleset (the usual case); otherwise they are rebuilt, which
    /// drops segments the ruleset no longer has.
    private func storeMemberships(_ env: EvalEnv, _ changes: [(Int, String)], before: [Int64?]) {
        let plan = ruleset.plan
        var known = 0
        for e in before where e != nil { known += 1 }
        if known == env.lead.memberships.count {
            guard !changes.isEmpty else { return }
            for (i, _) in changes {
                if let e = env.entered[i] {
                    env.lead.memberships[plan.segments[i].name] = Timestamp(milliseconds: e)
                } else {
                    env.lead.memberships.removeValue(forKey: plan.segments[i].name)
                }
            }
            return
        }
        var memberships: [String: Timestamp] = [:]
        for (i, seg) in plan.segments.enumerated() {
            if let e = env.entered[i] { memberships[seg.name] = Timestamp(milliseconds: e) }
        }
        env.lead.memberships = memberships
    }

    /// Rebuilds the signals this ruleset is missing for `state` (see `Ruleset.signalsMissing`) from the
    /// lead's stored events, oldest first. Other signals and all other fields are left as they are.
    /// The same as feeding `events` to a `Backfill` in one page.
    public func backfill(state: LeadState, events: [Event], now: Timestamp) -> LeadState {
        var backfill = Backfill(engine: self, state: state, now: now)
        backfill.add(events)
        return backfill.finish()
    }

    /// A backfill fed page by page, so a lead's history never has to be in memory at once: each
    /// page's occurrences are added and the series pruned right away, so what is held between pages
    /// is bounded by the signals' `keep` (and `SignalState.maxTimesPerSignal`) plus one page.
    /// Pages must come in `(occurred_at, id)` order, oldest first (as `Store` reads them): pruning
    /// drops only the oldest occurrences, which later, newer ones can never bring back, so the
    /// result equals a backfill over the whole history at once.
    public struct Backfill {
        let engine: Engine
        let now: Timestamp
        let env: EvalEnv
        var lead: LeadState
        /// The specs of the missing signals with their series being rebuilt.
        var rebuilding: [(spec: SignalSpec, series: SignalSeries)]
        /// `lead.interest` being rebuilt (`Ruleset.interestMissing`), nil when it is kept.
        var interest: InterestState?

        public init(engine: Engine, state: LeadState, now: Timestamp) {
            self.engine = engine
            self.now = now
            self.lead = state
            let missing = Set(engine.ruleset.signalsMissing(from: state.signals).map(\.key))
            env = EvalEnv(lead: state, event: nil, now: now.milliseconds, series: [], entered: [])
            rebuilding = engine.ruleset.signals.filter { missing.contains($0.key) }.map {
                ($0, SignalSeries(times: [], keep: $0.keep, window: $0.window, keepsLatest: $0.keepsLatest))
            }
            interest = engine.ruleset.interestMissing(state) ? InterestState() : nil
        }

        /// False when the state has nothing to rebuild: the caller need not read any history.
        public var isNeeded: Bool { !rebuilding.isEmpty || interest != nil }

        /// Adds the next page of events (each page newer than the last).
        public mutating func add(_ events: [Event]) {
            guard isNeeded, !events.isEmpty else { return }
            let resolved = events.map(engine.resolve)
            if interest != nil, let spec = engine.ruleset.interest {
                // Each view counted as if it had been seen when it happened: the counts then
                // decay from there, exactly as views counted live.
                for r in resolved where r.type == spec.event {
                    interest!.record(category: InterestSpec.key(r.properties[spec.categoryProperty]),
                                     product: InterestSpec.key(r.properties[spec.productProperty]),
                                     occurredAt: r.at, now: Swift.min(r.at, now.milliseconds), spec: spec)
                }
            }
            for i in rebuilding.indices {
                for r in resolved {
                    env.event = r
                    if rebuilding[i].spec.matches(env, type: r.type) { rebuilding[i].spec.record(r, into: &rebuilding[i].series) }
                }
                rebuilding[i].series.prune(now: now.milliseconds)
            }
        }

        /// The state with the rebuilt signals.
        public func finish() -> LeadState {
            var lead = lead
            for (spec, series) in rebuilding {
                var s = series
                s.prune(now: now.milliseconds)
                lead.signals.series[spec.key] = s
            }
            if var rebuilt = interest {
                if rebuilt.at == nil { rebuilt.at = now }   // counted from the history: not missing any more
                lead.interest = rebuilt
            }
            return lead
        }
    }

    /// Canonical type through the aliases, with what the type implies (one table lookup).
    func resolve(_ e: Event) -> ResolvedEvent {
        let plan = ruleset.plan
        // The table compares bytes; a name it misses goes to the dictionary, which also matches
        // canonically equivalent spellings, so the resolution is the dictionary's in every case.
        let found = plan.eventNames.index(of: e.name).map { plan.eventInfos[$0] } ?? plan.events[e.name]
        guard let info = found else {
            return ResolvedEvent(type: e.name, name: e.name, properties: e.properties, context: e.context,
                                 at: e.occurredAt.milliseconds, known: false, slots: [], status: [], scoreRules: plan.allScoreRules)
        }
        return ResolvedEvent(type: info.type, name: e.name, properties: e.properties, context: e.context,
                             at: e.occurredAt.milliseconds, known: info.known, slots: info.slots, status: info.status,
                             scoreRules: info.scoreRules)
    }

    /// Stored series in slot order, kept from now on as the spec says, taken out of `state` when
    /// they are this ruleset's (the evaluation stores its own at the end). A series that did not cover
    /// the spec (new signal on a lead with history, longer window, higher threshold) is marked
    /// incomplete, so `signalsMissing` reports it until it is backfilled. A state stored by this
    /// ruleset holds exactly its signals in key order, so slots are found without lookups.
    func prepareSeries(_ state: inout LeadState) -> [SignalSeries] {
        let fresh = state.lastEventAt == nil
        let specs = ruleset.signals
        var out: [SignalSeries]
        if state.signals.series.keys == ruleset.sortedSignalKeys {
            // The stored array itself, put in slot order in place by undoing `sortingSwaps`: when
            // the state was the only owner, no series is copied (retaining its arrays) and the
            // evaluation's inserts and prunes change the series without copying them first (a
            // backtest's replay hands its state over, docs/benchmarks/backtest.md).
            out = state.signals.series.takeValues()
            out.withUnsafeMutableBufferPointer { buffer in
                for (a, b) in ruleset.sortingSwaps.reversed() { buffer.swapAt(a, b) }
            }
        } else {
            let table = state.signals.series
            out = specs.map { table[$0.key] ?? SignalSeries(times: [], complete: fresh) }
        }
        // Through a buffer pointer: indexing the array checked its uniqueness on every write.
        ruleset.plan.signalNeeds.withUnsafeBufferPointer { needs in
            out.withUnsafeMutableBufferPointer { out in
                for slot in out.indices { out[slot].adopt(needs[slot], fresh: fresh) }
            }
        }
        return out
    }

    /// Event effects before rules are settled: profile times, signals, source, status, score points.
    private func applyEvent(_ ev: ResolvedEvent, _ env: EvalEnv, status change: inout StatusExplanation?) -> [ScoreRuleApplication] {
        let at = Timestamp(milliseconds: ev.at)
        if ev.context.member("timezone") != nil { LeadZone.remember(ev, in: &env.lead) }
        let firstEvent = env.lead.lastEventAt == nil
        if env.lead.firstSeen.map({ at < $0 }) ?? true { env.lead.firstSeen = at }
        if env.lead.lastEventAt.map({ at > $0 }) ?? true { env.lead.lastEventAt = at }
        let plan = ruleset.plan
        for slot in plan.anySlots { env.series[slot].insert(ev.at) }
        for slot in ev.slots where plan.signalFilters[slot]?.holds(env) ?? true {
            if let field = plan.signalFields[slot] {
                SignalSpec.record(ev, field: field, into: &env.series[slot])
            } else {
                env.series[slot].insert(ev.at)
            }
        }
        // A lead whose first event this ruleset sees has its whole history counted from now on:
        // `interest.at` set says so (a lead without it has events from before `lead.interest`
        // was counted, and is backfilled, `Ruleset.interestMissing`).
        if ruleset.interest != nil, env.lead.interest.at == nil, firstEvent {
            env.lead.interest.at = Timestamp(milliseconds: env.now)
        }
        if let spec = ruleset.interest, ev.type == spec.event {
            env.lead.interest.record(category: InterestSpec.key(ev.properties.member(spec.categoryProperty)),
                                     product: InterestSpec.key(ev.properties.member(spec.productProperty)),
                                     occurredAt: ev.at, now: env.now, spec: spec)
        }
        if let src = ruleset.sources.first(where: { $0.when.holds(env) }) {
            let touch = LeadState.Touch(channel: src.channel, at: at)
            if env.lead.firstSource.map({ at < $0.at }) ?? true { env.lead.firstSource = touch }
            if env.lead.lastSource.map({ at >= $0.at }) ?? true { env.lead.lastSource = touch }
        } else if env.lead.firstSource == nil {
            let touch = LeadState.Touch(channel: SourceFallback.channel(context: ev.context, properties: ev.properties), at: at)
            env.lead.firstSource = touch
            env.lead.lastSource = touch
        }
        if !ev.status.isEmpty, env.lead.statusAt.map({ at >= $0 }) ?? true {
            change = applyStatusRules(ev, env, at: at)
        }
        return applyScoreRules(ev, env)
    }
}

extension Engine {
    /// `statuses.on_event` for one event: the first entry whose `when` holds moves the status,
    /// except a customer's move to a pre-customer status by an entry without `when` (no silent
    /// regression: only an explicit rule takes a customer backwards). What happened is explained.
    func applyStatusRules(_ ev: ResolvedEvent, _ env: EvalEnv, at: Timestamp) -> StatusExplanation? {
        let from = env.lead.status
        var notes: [String] = []
        for rule in ev.status {
            if let when = rule.when {
                // The rule in words only when the decision is explained (`Engine.explains`).
                let rendered = env.explains ? Explainer.render(when.node, env) : ""
                guard when.holds(env) else { if env.explains { notes.append("\(rule.to): \(rendered)") }; continue }
                if rule.to == from { return nil }
                env.lead.setStatus(rule.to, at: at)
                return StatusExplanation(from: from, to: rule.to, event: ev.type, rule: rendered, kept: nil)
            }
            if rule.to == from { return nil }
            if env.lead.customer, ruleset.preCustomerStatuses.contains(rule.to) {
                return StatusExplanation(from: from, to: nil, event: ev.type,
                                         rule: (notes + ["\(rule.to): a customer moves to a pre-customer status only by an entry with `when`"]).joined(separator: "; "),
                                         kept: true)
            }
            env.lead.setStatus(rule.to, at: at)
            return StatusExplanation(from: from, to: rule.to, event: ev.type, rule: notes.isEmpty ? nil : notes.joined(separator: "; "), kept: nil)
        }
        return notes.isEmpty ? nil : StatusExplanation(from: from, to: nil, event: ev.type, rule: notes.joined(separator: "; "), kept: true)
    }
}

/// A score as every resource shows it (decision, lead, segment members): 3 decimals, so one
/// lead never shows two values for one score.
public func round3(_ v: Double) -> Double { (v * 1000).rounded() / 1000 }
