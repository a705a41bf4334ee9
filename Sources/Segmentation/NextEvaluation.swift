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
/// `lead.score` threshold or a band limit. The engine lists these candidates in order and, at each
/// instant where some rule's value moved, works out the outcome until it differs, so the answer is
/// exact. The outcome is read from the rule values remembered at their candidates (a rule's value
/// only changes at its own candidates) rather than by settling all rules again: the segments of
/// the rules that moved first, then stage, every segment, band and suppressions. When the returned state is
/// not settled (an event-less evaluation right now would already differ — rules reading `event.*`,
/// or a segment left by `membership.age` whose `enter` still holds, so it re-enters), the answer is
/// `now + 1 ms`. Conservative case: after
/// `maxProbes` (16) candidates without a change it returns the next candidate, which is earlier
/// than (or equal to) the real change — never later.
extension Engine {
    static let maxProbes = 16

    /// `env` holds the state just stored (no event); it is used for every probe and left with
    /// the stored memberships, stage and score. Instants at or after `horizon` are not looked at:
    /// the answer is exact when it is before it, and nil or some instant at or after it otherwise.
    func nextEvaluation(_ env: EvalEnv, now: Int64, current: Outcome, checkFixedPoint: Bool, before horizon: Int64 = .max) -> Int64? {
        let storedScore = env.lead.score, storedStage = env.lead.stage
        defer { env.lead.score = storedScore; env.now = now; env.enteredAt = nil }
        let scoreAt = env.lead.scoreAt?.milliseconds
        let entered = env.entered, memberFlags = env.members
        let series = env.series
        // A full settle at `t` from the stored state; the environment is put back afterwards.
        func outcome(at t: Int64) -> Outcome {
            env.now = t
            env.lead.score = storedScore
            env.lead.stage = storedStage
            env.enteredAt = nil
            let o = settle(env, scoreOnly: true).outcome
            env.entered = entered
            env.members = memberFlags
            env.lead.stage = storedStage
            return o
        }
        // Rules reading `event.*`, or a member that just left while `enter` still holds, can make an
        // event-less evaluation at this very instant differ: then the next millisecond already changes.
        if checkFixedPoint, outcome(at: now) != current { return now + 1 }
        // A candidate can only change the outcome if one of its rules changes value compared with
        // now (memberships, stage and score as stored); only then settle everything to be sure.
        let plan = ruleset.plan
        let ruleCount = plan.ruleFns.count
        let halfLife = plan.halfLifeMs
        // Per rule: its value at now, whether it is relevant, its value at its last candidate
        // (each 0 = not computed yet, 1 = false, 2 = true); per segment whether one of its rules
        // has moved since now (1); and the stage holding now (`stageHolding`); in one stack buffer:
        // no copy-on-write or exclusivity checks per access.
        let segmentCount = plan.segments.count
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 3 * ruleCount + segmentCount + 1) { memo -> Int64? in
            memo.initialize(repeating: 0)
            let nowAt = 0, relevantAt = ruleCount, lastAt = 2 * ruleCount, movedAt = 3 * ruleCount
            func value(_ r: Int, at t: Int64) -> Bool {
                env.now = t
                env.lead.score = storedScore * decayFactor(halfLife, from: scoreAt, to: t)
                let seg = plan.ruleFacts[r].segment
                env.enteredAt = seg >= 0 ? (entered[seg] ?? t) : nil
                return plan.ruleFns[r].holds(env)
            }
            func valueNow(_ r: Int) -> Bool {
                if memo[nowAt + r] == 0 { memo[nowAt + r] = value(r, at: now) ? 2 : 1 }
                return memo[nowAt + r] == 2
            }
            // Some rules cannot matter until the outcome changes first: a member (with an exit) only
            // leaves by `exit`; stage rules after one that holds and cannot change with time are
            // shadowed by it; a suppress condition only matters for a channel the primary segment routes.
            let stageRules = plan.stageRules
            // The stage rule that holds now, remembered in the buffer's last byte (0: not known
            // yet, else index + 1): a captured `var` cost two dynamic exclusivity checks each time
            // a stage rule's relevance was asked (docs/benchmarks/backtest.md).
            let holdingAt = movedAt + segmentCount
            func stageHolding() -> Int {
                if memo[holdingAt] != 0 { return Int(memo[holdingAt]) - 1 }
                let h = stageRules.firstIndex { $0 < 0 || valueNow($0) } ?? stageRules.count
                if h < 255 { memo[holdingAt] = UInt8(h + 1) }
                return h
            }
            let routedChannels = plan.routedChannels(members: current.members, primary: current.primary, band: current.band)
            func relevant(_ r: Int) -> Bool {
                if r == TimeAtoms.alwaysProbe { return true }
                if memo[relevantAt + r] == 0 {
                    let f = plan.ruleFacts[r]
                    var yes = true
                    switch f.kind {
                    case .enter:
                        yes = entered[f.segment] == nil || !plan.hasExit[f.segment]
                    case .stage:
                        let h = stageHolding()
                        yes = f.stage <= h || h >= stageRules.count || stageRules[h] < 0 || plan.ruleFacts[stageRules[h]].timeDependent
                    case .suppress:
                        yes = routedChannels & f.channel != 0
                    case .exit, .other:
                        yes = true
                    }
                    memo[relevantAt + r] = yes ? 2 : 1
                }
                return memo[relevantAt + r] == 2
            }
            // A rule's value at t: its value at its last candidate up to t, else at now.
            func valueAt(_ r: Int) -> Bool { memo[lastAt + r] == 0 ? valueNow(r) : memo[lastAt + r] == 2 }
            // A rule without an id of its own (`EvaluationPlan.enterRule`) is evaluated at t.
            func direct(_ fn: EvaluationPlan.Fn, at t: Int64, enteredAt: Int64?) -> Bool {
                env.now = t
                env.lead.score = storedScore * decayFactor(halfLife, from: scoreAt, to: t)
                env.enteredAt = enteredAt
                return fn.holds(env)
            }
            // Whether segment i's membership as stored would change at t, judged by its rules' values
            // with the stored memberships: if it would, either an earlier segment (in dependency
            // order) changes too or the settle sees exactly these values; the outcome differs both ways.
            func segmentChanges(_ i: Int, at t: Int64) -> Bool {
                func enter() -> Bool { plan.enterRule[i] >= 0 ? valueAt(plan.enterRule[i]) : direct(plan.enterFns[i], at: t, enteredAt: entered[i] ?? t) }
                func exit() -> Bool {
                    guard let fn = plan.exitFns[i] else { return false }
                    return plan.exitRule[i] >= 0 ? valueAt(plan.exitRule[i]) : direct(fn, at: t, enteredAt: entered[i] ?? t)
                }
                if entered[i] != nil { return plan.hasExit[i] ? exit() : !enter() }
                return enter() && !exit()
            }
            // `outcome(at: t) != current` without settling: the settle's outcome is a function of the
            // rule values, which only moved at their candidates; the segments of the rules that moved
            // at t are looked at first (usually one of them enters or leaves).
            func outcomeDiffers(at t: Int64, moved: UnsafeMutableBufferPointer<Int>, count: Int) -> Bool {
                let decayed = storedScore * decayFactor(halfLife, from: scoreAt, to: t)
                let band = plan.band(for: decayed)
                if (band >= 0 ? plan.bandID[band] : -1) != current.band { return true }
                for k in 0..<count {
                    let f = plan.ruleFacts[moved[k]]
                    if f.kind == .enter || f.kind == .exit, f.segment >= 0, segmentChanges(f.segment, at: t) { return true }
                }
                var stage = -1
                for k in plan.stageFns.indices {
                    let holds = plan.stageRule[k] >= 0 ? valueAt(plan.stageRule[k]) : direct(plan.stageFns[k], at: t, enteredAt: nil)
                    if holds { stage = plan.stageID[k]; break }
                }
                if stage != current.stage { return true }
                // At now no segment changes (the outcome at now is `current`: checked, or certain
                // without `checkFixedPoint`), and a segment judged by its rules' remembered values
                // can only change once one of them has moved; one evaluated directly is always looked at.
                for i in plan.order where memo[movedAt + i] != 0 || plan.enterRule[i] < 0 || (plan.hasExit[i] && plan.exitRule[i] < 0) {
                    if segmentChanges(i, at: t) { return true }
                }
                guard let primary = current.primary else { return current.suppressed != 0 }
                let routed = plan.routedChannels(members: current.members, primary: primary, band: band)
                var bits: UInt8 = 0
                for k in plan.suppressFns.indices where routed & plan.suppressBits[k] & ~bits != 0 && direct(plan.suppressFns[k], at: t, enteredAt: nil) {
                    bits |= plan.suppressBits[k]
                }
                return bits != current.suppressed
            }
            // The candidates go to a stack buffer, an array only past its capacity: the array cost one
            // allocation per search, and 64 held every search on the sample (docs/benchmarks/backtest.md).
            return withUnsafeTemporaryAllocation(of: Candidate.self, capacity: 64) { stack -> Int64? in
                var sink = CandidateSink(stack)
                candidateInstants(score: storedScore, scoreAt: scoreAt, entered: entered, series: series, now: now,
                                  before: horizon, relevant: relevant, into: &sink)
                return sink.withHeap { heap -> Int64? in
                    var candidates = heap
                    // A rule's value is constant between its own candidate instants, so comparing it with the
                    // value it had at its previous candidate (or now) finds every instant the rule values move.
                    var probes = 0
                    return withUnsafeTemporaryAllocation(of: Int.self, capacity: 16) { moved -> Int64? in
                        while let t = candidates.minTime {
                            var probe = false, count = 0
                            // All rules concerned at this instant; each must be brought up to date even once one
                            // has moved.
                            while candidates.minTime == t {
                                let r = candidates.popMin().rule
                                if r == TimeAtoms.alwaysProbe { probe = true; continue }
                                let before = valueAt(r)
                                let after = value(r, at: t)
                                memo[lastAt + r] = after ? 2 : 1
                                if after != before {
                                    probe = true
                                    if count < moved.count { moved[count] = r; count += 1 }
                                    let f = plan.ruleFacts[r]
                                    if f.kind == .enter || f.kind == .exit, f.segment >= 0 { memo[movedAt + f.segment] = 1 }
                                }
                            }
                            guard probe else { continue }
                            if probes == Engine.maxProbes { return t }
                            probes += 1
                            if outcomeDiffers(at: t, moved: moved, count: count) { return t }
                        }
                        return nil
                    }
                }
            }
        }
    }

    struct Candidate { var time: Int64; var rule: Int }

    /// Where a search's candidates are appended: a caller's (stack) buffer, then an array for the
    /// ones past its capacity.
    struct CandidateSink {
        private let buffer: UnsafeMutableBufferPointer<Candidate>
        private var count = 0
        private var spill: [Candidate] = []

        init(_ buffer: UnsafeMutableBufferPointer<Candidate>) { self.buffer = buffer }

        @inline(__always)
        mutating func append(_ c: Candidate) {
            if count < buffer.count { (buffer.baseAddress! + count).initialize(to: c); count += 1 } else { spill.append(c) }
        }

        /// `body` with the candidates as a heap: in the buffer itself, or in one array with the spilled ones.
        func withHeap<R>(_ body: (CandidateHeap) -> R) -> R {
            if spill.isEmpty { return body(CandidateHeap(UnsafeMutableBufferPointer(rebasing: buffer[..<count]))) }
            var all = Array(buffer[..<count])
            all.append(contentsOf: spill)
            return all.withUnsafeMutableBufferPointer { body(CandidateHeap($0)) }
        }
    }

    /// Candidates as a binary min-heap by time: the walk usually stops after a few instants, so
    /// popping them in order (O(log n) each) beats sorting them all (the sort was most of the cost).
    /// It orders the memory it is given in place (`CandidateSink.withHeap`'s).
    struct CandidateHeap {
        private let items: UnsafeMutableBufferPointer<Candidate>
        private var n: Int

        init(_ items: UnsafeMutableBufferPointer<Candidate>) {
            self.items = items
            n = items.count
            var i = n / 2
            while i > 0 { i -= 1; siftDown(i) }
        }

        /// The earliest time left, nil when empty.
        var minTime: Int64? { n > 0 ? items[0].time : nil }

        mutating func popMin() -> Candidate {
            let top = items[0]
            n -= 1
            if n > 0 { items[0] = items[n]; siftDown(0) }
            return top
        }

        private func siftDown(_ start: Int) {
            var i = start
            while true {
                let l = 2 * i + 1
                guard l < n else { return }
                var m = l
                if l + 1 < n, items[l + 1].time < items[l].time { m = l + 1 }
                guard items[m].time < items[i].time else { return }
                items.swapAt(i, m)
                i = m
            }
        }
    }

    /// Every instant after `now` and before `horizon` at which some time-dependent rule part could
    /// change value, with the rules concerned, in no particular order, appended to `out`.
    func candidateInstants(score: Double, scoreAt: Int64?, entered: [Int64?], series: [SignalSeries], now: Int64,
                           before horizon: Int64 = .max, relevant: (Int) -> Bool, into out: inout CandidateSink) {
        // Appends go through a plain inout helper rather than a closure capturing `out`: the closure
        // cost a retain and a dynamic exclusivity check per candidate.
        @inline(__always) func add(_ out: inout CandidateSink, _ t: Int64, _ rule: Int) { Self.add(&out, t, rule, after: now, before: horizon) }
        let plan = ruleset.plan
        seriesEdges(series, now: now, before: horizon, relevant: relevant, into: &out)
        for a in plan.ageAtoms where relevant(a.rule) {
            // A member ages from its entry; a non-member would enter at the next evaluation (age 0).
            let since = entered[a.segment] ?? now
            add(&out, since &+ a.ms, a.rule); add(&out, since &+ a.ms &+ 1, a.rule)
        }
        if let hl = plan.halfLifeMs, score != 0 {
            let base = scoreAt ?? now
            for a in plan.scoreAtoms where relevant(a.rule) && a.value != 0 && (a.value > 0) == (score > 0) && abs(a.value) < abs(score) {
                let t = Double(base) + Double(hl) * log2(score / a.value)
                guard t.isFinite, t < 9e15 else { continue }
                let f = Int64(t.rounded(.down))
                for d in -1...2 { add(&out, f + Int64(d), a.rule) }
            }
        }
    }

    /// Appends `t` as a candidate of `rule` when it is after `now` and before `horizon`.
    @inline(__always)
    private static func add(_ out: inout CandidateSink, _ t: Int64, _ rule: Int, after now: Int64, before horizon: Int64) {
        if t > now && t < horizon { out.append(Candidate(time: t, rule: rule)) }
    }

    /// The window and `since` atoms' candidates, appended to `out`. A function of its own so that
    /// `out` is an inout parameter: as a local variable captured by the closures below, each slot
    /// visited paid two dynamic exclusivity checks (docs/benchmarks/backtest.md).
    @inline(__always)
    private func seriesEdges(_ series: [SignalSeries], now: Int64, before horizon: Int64, relevant: (Int) -> Bool,
                             into out: inout CandidateSink) {
        @inline(__always) func add(_ out: inout CandidateSink, _ t: Int64, _ rule: Int) { Self.add(&out, t, rule, after: now, before: horizon) }
        let plan = ruleset.plan
        // Atoms, ranks, series and times are read through buffer pointers: no retain per atom.
        // Only the slots whose series has occurrences are visited, and their atoms (in slot order,
        // `EvaluationPlan.windowAtomsOfSlot`): most of a ruleset's atoms count events a lead never
        // had, and checking each one's series was most of this function's own cost
        // (docs/benchmarks/backtest.md). A slot's times are lent out once for all its atoms. The
        // candidates are the same; only their order differs, which the walk does not see (it
        // takes every candidate of an instant before judging it).
        plan.windowAtoms.withUnsafeBufferPointer { atoms in
            plan.windowRanks.withUnsafeBufferPointer { ranks in
                plan.windowAtomsOfSlot.withUnsafeBufferPointer { ofSlot in
                    series.withUnsafeBufferPointer { series in
                        for slot in series.indices where !series[slot].times.isEmpty && !ofSlot[slot].isEmpty {
                            series[slot].times.withUnsafeBufferPointer { times in
                                for a in ofSlot[slot] where relevant(atoms[a].rule) {
                                    windowEdges(atoms[a], times, ranks, now: now, before: horizon, into: &out)
                                }
                            }
                        }
                    }
                }
            }
        }
        plan.sinceAtoms.withUnsafeBufferPointer { atoms in
            plan.sinceAtomsOfSlot.withUnsafeBufferPointer { ofSlot in
                series.withUnsafeBufferPointer { series in
                    for slot in series.indices where !series[slot].times.isEmpty && !ofSlot[slot].isEmpty {
                        series[slot].times.withUnsafeBufferPointer { times in
                            // Times are in order: the future-dated ones (rare) are the last, the
                            // latest before them is the one `since` reads.
                            var first = times.count
                            while first > 0, times[first - 1] > now { first -= 1 }
                            for a in ofSlot[slot] where relevant(atoms[a].rule) {
                                let rule = atoms[a].rule, ms = atoms[a].ms
                                for t in times[first...] { add(&out, t, rule); add(&out, t &+ ms, rule); add(&out, t &+ ms &+ 1, rule) }
                                if first > 0 { let l = times[first - 1]; add(&out, l &+ ms, rule); add(&out, l &+ ms &+ 1, rule) }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The instants at which a count over a window can change: future-dated occurrences entering and
    /// leaving, and (with ranks) the k-th most recent occurrence leaving the window.
    @inline(__always)
    private func windowEdges(_ w: EvaluationPlan.WindowAtom, _ times: UnsafeBufferPointer<Int64>, _ ranks: UnsafeBufferPointer<Int>,
                             now: Int64, before horizon: Int64, into out: inout CandidateSink) {
        let rule = w.rule, ms = w.ms
        // Future-dated occurrences enter at t and leave at t + w; with any of them the rank
        // shortcut below does not hold, so every edge is a candidate.
        var end = times.count
        while end > 0, times[end - 1] > now { end -= 1 }
        for t in times[end...] {
            if t < horizon { out.append(Candidate(time: t, rule: rule)) }
            if t &+ ms > now, t &+ ms < horizon { out.append(Candidate(time: t &+ ms, rule: rule)) }
        }
        if w.hasRanks, end == times.count {
            // The k-th most recent occurrence in the window leaving it is when `count >= k` stops holding.
            for j in w.ranks {
                let k = ranks[j]
                if k <= end && times[end - k] > now &- ms, times[end - k] &+ ms > now, times[end - k] &+ ms < horizon {
                    out.append(Candidate(time: times[end - k] &+ ms, rule: rule))
                }
            }
        } else {
            // Times are in order, so the occurrences that leave the window after now and before
            // the horizon are one run of them: found by two binary searches, not a walk over all.
            let start = Self.firstLeaving(times, end, after: now, window: ms)
            let stop = horizon == .max ? end : Self.firstLeaving(times, end, after: horizon &- 1, window: ms)
            var i = start
            while i < stop { out.append(Candidate(time: times[i] &+ ms, rule: rule)); i += 1 }
        }
    }

    /// The first index of `times[..<end]` (in order) whose occurrence leaves a window of `ms`
    /// after `bound` (`t + ms > bound`); `end` when none does.
    @inline(__always)
    static func firstLeaving(_ times: UnsafeBufferPointer<Int64>, _ end: Int, after bound: Int64, window ms: Int64) -> Int {
        var low = 0, high = end
        while low < high {
            let mid = (low + high) / 2
            if times[mid] &+ ms > bound { high = mid } else { low = mid + 1 }
        }
        return low
    }
}
