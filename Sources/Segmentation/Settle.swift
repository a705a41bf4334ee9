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
    /// primary segment, band and suppressions at `env.now`. Mutates `env.lead` and `env.members`.
    func settle(_ env: EvalEnv) -> Settled {
        let rs = ruleset
        decayScore(env)
        let stage = rs.stages.first { $0.when.holds(env) }?.stage
        env.lead.stage = stage
        var changes: [(Int, String)] = []
        for i in rs.evaluationOrder {
            let seg = rs.segments[i]
            if env.members[i] {
                env.enteredAt = env.lead.memberships[seg.name]?.milliseconds ?? env.now
                let leaves = seg.exit.map { $0.holds(env) } ?? !seg.enter.holds(env)
                if leaves { env.members[i] = false; changes.append((i, "exited")) }
            } else if seg.enter.holds(env) {
                env.enteredAt = env.now
                if !(seg.exit?.holds(env) ?? false) { env.members[i] = true; changes.append((i, "entered")) }
            }
        }
        env.enteredAt = nil
        var primary: Int?
        for i in rs.segments.indices where env.members[i] {
            if let p = primary {
                let a = rs.segments[i], b = rs.segments[p]
                if a.priority > b.priority || (a.priority == b.priority && a.name < b.name) { primary = i }
            } else { primary = i }
        }
        let band = band(for: env.lead.score)
        var suppressed: [SuppressedAction] = []
        if let p = primary {
            let route = rs.segments[p].route
            let routed: Set<String> = Set([route.email.map { _ in "email" }, route.ads.map { _ in "ads" },
                                           route.sales.map { _ in "sales" }].compactMap { $0 })
            for s in rs.suppress where routed.contains(s.channel) && s.condition.holds(env) {
                suppressed.append(SuppressedAction(channel: s.channel, reason: s.condition.text))
            }
        }
        return Settled(stage: stage, changes: changes, primary: primary, band: band, suppressed: suppressed,
                       outcome: Outcome(stage: stage, members: env.members, primary: primary, band: band,
                                        suppressed: suppressed.map(\.channel)))
    }
}
