/// What time alone can change: compared between instants to find `next_evaluation_at`.
struct Outcome: Equatable {
    var stage: String?
    var members: [Bool]
    var primary: Int?
    var band: String?
    var suppressed: [String]
}

/// The result of settling rules at one instant.
struct Settled {
    var stage: String?
    /// (segment index, "entered"/"exited") in evaluation order.
    var changes: [(Int, String)]
    var primary: Int?
    var band: String?
    var suppressed: [SuppressedAction]
    var outcome: Outcome

    /// Names of the segments with this change, sorted.
    func changed(_ change: String, _ plan: EvaluationPlan) -> [String] {
        guard !changes.isEmpty else { return [] }
        var out: [String] = []
        for i in plan.byName where changes.contains(where: { $0.0 == i && $0.1 == change }) { out.append(plan.segments[i].name) }
        return out
    }

    /// The primary segment's route as actions, minus suppressed channels.
    func actions(_ rs: Ruleset, now: Int64) -> [Action] {
        guard let p = primary else { return [] }
        let seg = rs.segments[p]
        let blocked = Set(suppressed.map(\.channel))
        var out: [Action] = []
        if let e = seg.route.email, !blocked.contains("email") {
            out.append(Action(channel: "email", segment: seg.name, sequence: e.sequence))
        }
        if let a = seg.route.ads, !blocked.contains("ads") {
            out.append(Action(channel: "ads", segment: seg.name, audience: a.audience, landingPage: a.landingPage))
        }
        if let s = seg.route.sales, !blocked.contains("sales") {
            out.append(Action(channel: "sales", segment: seg.name, queue: s.queue, team: s.team,
                              slaDueAt: s.sla.map { Timestamp(milliseconds: now + $0.milliseconds) }))
        }
        return out
    }
}

extension Engine {
    /// Decays the score, then sets the stage, memberships (in dependency order, with hysteresis),
    /// primary segment, band and suppressions at `env.now`. Mutates `env.lead`, `env.members` and
    /// `env.entered`. `scoreOnly` decays just the score value (for probes that store nothing).
    func settle(_ env: EvalEnv, scoreOnly: Bool = false) -> Settled {
        let plan = ruleset.plan
        if scoreOnly {
            env.lead.score *= decayFactor(from: env.lead.scoreAt?.milliseconds, to: env.now)
        } else {
            decayScore(env)
        }
        var stage: String?
        for s in plan.stages where s.fn(env).isTrue { stage = s.label; break }
        env.lead.stage = stage
        var changes: [(Int, String)] = []
        for i in plan.order {
            let seg = plan.segments[i]
            if let since = env.entered[i] {
                env.enteredAt = since
                let leaves = seg.exit.map { $0(env).isTrue } ?? !seg.enter(env).isTrue
                if leaves { env.members[i] = false; env.entered[i] = nil; changes.append((i, "exited")) }
            } else if seg.enter(env).isTrue {
                env.enteredAt = env.now
                if !(seg.exit?(env).isTrue ?? false) { env.members[i] = true; env.entered[i] = env.now; changes.append((i, "entered")) }
            }
        }
        env.enteredAt = nil
        var primary: Int?
        for i in plan.segments.indices where env.members[i] {
            if let p = primary {
                let a = plan.segments[i], b = plan.segments[p]
                if a.priority > b.priority || (a.priority == b.priority && a.name < b.name) { primary = i }
            } else { primary = i }
        }
        let band = band(for: env.lead.score)
        var suppressed: [SuppressedAction] = []
        if let p = primary {
            let routed = plan.segments[p].channels
            for s in plan.suppress where routed.contains(s.label) && s.fn(env).isTrue {
                suppressed.append(SuppressedAction(channel: s.label, reason: s.text))
            }
        }
        return Settled(stage: stage, changes: changes, primary: primary, band: band, suppressed: suppressed,
                       outcome: Outcome(stage: stage, members: env.members, primary: primary, band: band,
                                        suppressed: suppressed.map(\.channel)))
    }
}
