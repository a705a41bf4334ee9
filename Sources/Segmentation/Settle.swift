/// What time alone can change: compared between instants to find `next_evaluation_at`.
/// Stage and band are ids (the first rule or band with the same name; -1: none) and suppressed
/// channels a bit set (`Seg.channelBit`), so comparing outcomes compares no strings.
struct Outcome: Equatable {
    var stage: Int
    var members: [Bool]
    var primary: Int?
    var band: Int
    var suppressed: UInt8
}

/// The result of settling rules at one instant.
struct Settled {
    var stage: String?
    /// (segment index, "entered"/"exited") in evaluation order.
    var changes: [(Int, String)]
    var primary: Int?
    var band: String?
    /// Index of the band in `scoring.bands` (-1: none).
    var bandIndex: Int = -1
    var suppressed: [SuppressedAction]
    var outcome: Outcome

    /// Names of the segments with this change, sorted.
    func changed(_ change: String, _ plan: EvaluationPlan) -> [String] {
        guard !changes.isEmpty else { return [] }
        var out: [String] = []
        for i in plan.byName where changes.contains(where: { $0.0 == i && $0.1 == change }) { out.append(plan.segments[i].name) }
        return out
    }

    /// The primary segment's route as actions, then, for the channels of `routing.all_segments`,
    /// the routes of the other current segments (highest priority first, ties by name; an audience
    /// or sequence already listed is not repeated) — minus suppressed channels. Templated and
    /// chosen fields are filled from `env` (the settled lead) and explained in `notes`.
    /// A lead held out of an experiment gets no action on that channel from any segment: the
    /// holdout is appended to `held` and blocks the channel for the rest of the decision.
    func actions(_ rs: Ruleset, members: [Bool], now: Int64, env: EvalEnv, notes: inout [ActionExplanation],
                 held: inout [SuppressedAction]) -> [Action] {
        guard let p = primary else { return [] }
        let plan = rs.plan
        var blocked = suppressed.reduce(UInt8(0)) { $0 | EvaluationPlan.Seg.channelBit($1.channel) }
        var out: [Action] = []
        let primaryName = plan.segments[p].name
        appendRoute(primaryName, rs.segments[p].route, channels: ~blocked, now: now, env: env, notes: &notes, held: &held, into: &out)
        if plan.hasExperiments { blocked |= Self.heldBits(held) }
        if bandIndex >= 0, let route = rs.scoring.bands[bandIndex].route {
            // The band's route fills the channels the primary segment's route leaves open.
            let open = plan.bandRouteBits[bandIndex] & ~plan.segments[p].channelBits & ~blocked
            let first = out.count
            if open != 0 { appendRoute(primaryName, route, channels: open, now: now, env: env, notes: &notes, held: &held, into: &out) }
            for k in first..<out.count { out[k].band = rs.scoring.bands[bandIndex].action }
        }
        if plan.hasExperiments { blocked |= Self.heldBits(held) }
        let others = plan.allSegmentBits & ~blocked
        guard others != 0 else { return out }
        var rest = members.indices.filter { members[$0] && $0 != p }
        rest.sort { plan.priorities[$0] != plan.priorities[$1] ? plan.priorities[$0] > plan.priorities[$1] : plan.nameRank[$0] < plan.nameRank[$1] }
        for i in rest {
            let open = plan.hasExperiments ? others & ~Self.heldBits(held) : others
            appendRoute(plan.segments[i].name, rs.segments[i].route, channels: open, now: now, env: env, notes: &notes, held: &held, into: &out)
        }
        return out
    }

    /// Appends a segment's route on the given channels, skipping an email sequence or ad audience
    /// (with the same landing page) that an earlier segment already gave.
    func appendRoute(_ segment: String, _ route: Route, channels: UInt8, now: Int64, env: EvalEnv,
                     notes: inout [ActionExplanation], held: inout [SuppressedAction], into out: inout [Action]) {
        if !route.experiments.isEmpty { appendExperiments(segment, route, channels: channels, now: now, env: env, notes: &notes, held: &held, into: &out) }
        // Each action is made in its place at the end of `out`, filled there and taken off again
        // when incomplete or already given: made apart and appended, it was copied (eighteen
        // fields) and then destroyed (docs/benchmarks/backtest.md).
        if let e = route.email, channels & 1 != 0 {
            out.append(Action(channel: "email", segment: segment, sequence: e.sequence))
            let k = out.count - 1
            if !fill(&out[k], route, env, &notes)
                || out[..<k].contains(where: { $0.channel == "email" && $0.sequence == out[k].sequence }) { out.removeLast() }
        }
        if let ads = route.ads, channels & 2 != 0 {
            out.append(Action(channel: "ads", segment: segment, audience: ads.audience, landingPage: ads.landingPage))
            let k = out.count - 1
            if !fill(&out[k], route, env, &notes)
                || out[..<k].contains(where: { $0.channel == "ads" && $0.audience == out[k].audience && $0.landingPage == out[k].landingPage }) {
                out.removeLast()
            }
        }
        if let s = route.sales, channels & 4 != 0 {
            var a = Action(channel: "sales", segment: segment, queue: s.queue, team: s.team,
                           slaDueAt: s.sla.map { Timestamp(milliseconds: now + $0.milliseconds) })
            a.script = s.script
            if fill(&a, route, env, &notes) { out.append(a) }
        }
    }

    /// Fills the action's templated and chosen fields; false when a field the action cannot do
    /// without (sequence, audience, queue) had no choice that held — the segment then gives no
    /// action on that channel.
    private func fill(_ a: inout Action, _ route: Route, _ env: EvalEnv, _ notes: inout [ActionExplanation]) -> Bool {
        if !route.timing.isEmpty, let timing = route.timing[a.channel] {
            let (zone, zoneText) = LeadZone.zone(timezone: env.lead.timezone, country: env.lead.country)
            let at = Timestamp(milliseconds: timing.sendAt(now: env.now, zone: zone))
            a.sendAt = at
            if env.explains {
                var note = ActionExplanation(channel: a.channel, segment: a.segment, field: "send_at")
                note.value = at.description
                note.rule = (timing.delayMs > 0 ? "now + \(Duration.format(timing.delayMs))" : "now")
                    + (timing.windowText.map { ", inside \($0)" } ?? "") + " in \(zoneText)"
                notes.append(note)
            }
        }
        guard !route.dynamic.isEmpty else { return true }
        var complete = true
        for d in route.dynamic where d.channel == a.channel {
            var note = ActionExplanation(channel: a.channel, segment: a.segment, field: d.field)
            let value = d.text.resolve(env, urlEncoded: DynamicField.urlLike.contains(d.field), into: &note)
            if env.explains { notes.append(note) }
            switch d.field {
            case "sequence": a.sequence = value
            case "audience": a.audience = value
            case "landing_page": a.landingPage = value
            case "queue": a.queue = value
            case "team": a.team = value
            default: a.script = value
            }
            if value == nil, DynamicField.required.contains(d.field) { complete = false }
        }
        return complete
    }
}

extension Engine {
    /// Decays the score, then sets the stage, memberships (in dependency order, with hysteresis),
    /// primary segment, band and suppressions at `env.now`. Mutates `env.lead`, `env.members` and
    /// `env.entered`. `scoreOnly` decays just the score value and leaves `changes` and
    /// `suppressed` empty (for probes that only compare the outcome and store nothing).
    func settle(_ env: EvalEnv, scoreOnly: Bool = false) -> Settled {
        let record = !scoreOnly
        let plan = ruleset.plan
        if scoreOnly {
            env.lead.score *= decayFactor(plan.halfLifeMs, from: env.lead.scoreAt?.milliseconds, to: env.now)
        } else {
            decayScore(env)
        }
        var stageIndex = -1
        // Rules are called from buffer pointers: loading a closure out of an array retains it.
        plan.stageFns.withUnsafeBufferPointer { stage in
            for k in stage.indices where stage[k].holds(env) { stageIndex = k; break }
        }
        let stage = stageIndex >= 0 ? plan.stageLabels[stageIndex] : nil
        env.lead.stage = stage
        var changes: [(Int, String)] = []
        // Rules are called from buffer pointers: loading a closure out of an array retains it.
        plan.enterFns.withUnsafeBufferPointer { enter in
            plan.exitFns.withUnsafeBufferPointer { exit in
                for i in plan.order {
                    if let since = env.entered[i] {
                        env.enteredAt = since
                        let leaves = exit[i] != nil ? exit[i]!.holds(env) : !enter[i].holds(env)
                        if leaves { env.members[i] = false; env.entered[i] = nil; if record { changes.append((i, "exited")) } }
                    } else if enter[i].holds(env) {
                        env.enteredAt = env.now
                        if !(exit[i]?.holds(env) ?? false) {
                            env.members[i] = true; env.entered[i] = env.now
                            if record { changes.append((i, "entered")) }
                        }
                    }
                }
            }
        }
        env.enteredAt = nil
        // Highest priority, ties by name (`nameRank` is the position in name order).
        var primary = -1
        for i in env.members.indices where env.members[i] {
            if primary < 0 || plan.priorities[i] > plan.priorities[primary]
                || (plan.priorities[i] == plan.priorities[primary] && plan.nameRank[i] < plan.nameRank[primary]) { primary = i }
        }
        let band = plan.band(for: env.lead.score)
        var suppressed: [SuppressedAction] = []
        var suppressedBits: UInt8 = 0
        if primary >= 0 {
            let routed = plan.routedChannels(members: env.members, primary: primary, band: band)
            // One reason per channel: the first that holds (consent comes before `suppress:`).
            plan.suppressFns.withUnsafeBufferPointer { suppress in
                for k in suppress.indices where routed & plan.suppressBits[k] & ~suppressedBits != 0 && suppress[k].holds(env) {
                    if record { suppressed.append(SuppressedAction(channel: plan.suppress[k].label, reason: plan.suppress[k].text)) }
                    suppressedBits |= plan.suppressBits[k]
                }
            }
        }
        return Settled(stage: stage, changes: changes, primary: primary >= 0 ? primary : nil,
                       band: band >= 0 ? plan.bandActions[band] : nil, bandIndex: band, suppressed: suppressed,
                       outcome: Outcome(stage: stageIndex >= 0 ? plan.stageID[stageIndex] : -1, members: env.members,
                                        primary: primary >= 0 ? primary : nil, band: band >= 0 ? plan.bandID[band] : -1,
                                        suppressed: suppressedBits))
    }
}
