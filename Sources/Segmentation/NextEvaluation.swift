import Foundation

/// `next_evaluation_at`: the earliest instant T > now (millisecond resolution) at which an
/// evaluation without an event, from the returned state, would give a different outcome (stage,
/// memberships, primary segment, band, suppressed channels) than an evaluation without an event at
/// `now` — or nil when time alone never changes anything.
///
/// How: between events, rule values only change at known instants — an occurrence leaving a count
/// window (`t + window`; for `count(x, w) op c` only the k-th most recent, k from `c`) or a
/// future-dated occurrence entering (`t`), an `inactive` deadline
/// (latest + window), a `since(x) op d` threshold (latest + d, latest + d + 1 ms), a
/// `membership.age op d` threshold (entered_at + d, + 1 ms) and the decaying score crossing a
/// `lead.score` threshold or a band limit. The engine lists these candidates in order and settles
/// the rules at each until the outcome differs, so the answer is exact. When the returned state is
/// not settled (an event-less evaluation right now would already differ — rules reading `event.*`,
/// or a segment left by `membership.age` whose `enter` still holds, so it re-enters), the answer is
/// `now + 1 ms`. Conservative case: after
/// `maxProbes` (16) candidates without a change it returns the next candidate, which is earlier
/// than (or equal to) the real change — never later.
extension Engine {
    static let maxProbes = 16

    func nextEvaluation(lead: LeadState, series: [SignalSeries], now: Int64, current: Outcome, checkFixedPoint: Bool) -> Int64? {
        let memberFlags = ruleset.segments.map { lead.memberships[$0.name] != nil }
        func outcome(at t: Int64) -> Outcome {
            let env = EvalEnv(lead: lead, event: nil, now: t, series: series, members: memberFlags)
            return settle(env).outcome
        }
        // Rules reading `event.*`, or a member that just left while `enter` still holds, can make an
        // event-less evaluation at this very instant differ: then the next millisecond already changes.
        if checkFixedPoint, outcome(at: now) != current { return now + 1 }
        let baseline = current
        let candidates = candidateInstants(lead: lead, series: series, now: now)
        for (i, t) in candidates.enumerated() {
            if i == Engine.maxProbes { return t }
            if outcome(at: t) != baseline { return t }
        }
        return nil
    }

    /// Every instant after `now` at which some time-dependent rule part could change value, ascending.
    func candidateInstants(lead: LeadState, series: [SignalSeries], now: Int64) -> [Int64] {
        var out = Set<Int64>()
        func add(_ t: Int64) { if t > now { out.insert(t) } }
        let atoms = ruleset.atoms
        for w in atoms.windows {
            let times = series[w.slot].times
            for t in times where t > now { add(t) }
            if let ranks = w.ranks {
                // The k-th most recent occurrence in the window leaving it is when `count >= k` stops holding.
                let inWindow = times.filter { $0 <= now && $0 > now &- w.ms }
                for k in ranks where k <= inWindow.count { add(inWindow[inWindow.count - k] &+ w.ms) }
            } else {
                for t in times where t <= now { add(t &+ w.ms) }
            }
        }
        for s in atoms.since {
            let ser = series[s.slot]
            var points = ser.times.filter { $0 > now }
            if let l = ser.latest(atOrBefore: now) { points.append(l) }
            for t in points { add(t); add(t &+ s.ms); add(t &+ s.ms &+ 1) }
        }
        for age in atoms.ages {
            for (_, entered) in lead.memberships {
                add(entered.milliseconds &+ age); add(entered.milliseconds &+ age &+ 1)
            }
        }
        if let hl = ruleset.scoring.halfLife?.milliseconds, lead.score != 0 {
            let base = lead.scoreAt?.milliseconds ?? now
            for c in atoms.scores where c != 0 && (c > 0) == (lead.score > 0) && abs(c) < abs(lead.score) {
                let t = Double(base) + Double(hl) * log2(lead.score / c)
                guard t.isFinite, t < 9e15 else { continue }
                let f = Int64(t.rounded(.down))
                for d in -1...2 { add(f + Int64(d)) }
            }
        }
        return out.sorted()
    }
}
