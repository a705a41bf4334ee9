// Random rulesets and random event sequences for the differential test, from a seeded PRNG so
// that a failure is reproduced by its seed alone.

/// SplitMix64: small, fast, and the same sequence on every platform for a given seed.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func chance(_ probability: Double) -> Bool {
        Double.random(in: 0..<1, using: &self) < probability
    }

    mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &self)] }
}

/// Builds random rulesets over a few event types and properties.
struct RandomRulesetFactory {
    static let types = ["viewed", "carted", "priced", "clicked"]
    static let colors = ["red", "blue"]

    var rng: SeededGenerator
    /// Whether rulesets get sales routes, caps with `when` on email and sales and
    /// `routing.all_segments: [email]` (the differential test); off, a seed gives the same ruleset
    /// as before these existed (the benchmark's generated ruleset stays comparable across commits).
    var actionVariety = false

    mutating func duration(short: Bool = false) -> RefDuration {
        let unit: Character = rng.pick(short ? ["s", "m", "h"] : ["s", "m", "h", "d", "w"])
        let amount: Int
        switch unit {
        case "s": amount = Int.random(in: 1...90, using: &rng)
        case "m": amount = Int.random(in: 1...90, using: &rng)
        case "h": amount = Int.random(in: 1...48, using: &rng)
        case "d": amount = Int.random(in: 1...14, using: &rng)
        default: amount = Int.random(in: 1...4, using: &rng)
        }
        return RefDuration(amount: amount, unit: unit)
    }

    mutating func filter() -> RefFilter? {
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: return .stringEquals(key: "color", value: rng.pick(Self.colors))
        // With the property missing every comparison is false, `!=` included (DESIGN.md §7).
        case 1: return .intCompare(key: "n", op: rng.pick(RefOp.allCases), value: Int.random(in: 0...5, using: &rng))
        default: return nil
        }
    }

    /// One time-dependent atom; `inExit` allows `membership.age`, `earlier` are the segments
    /// `in_segment` may name.
    mutating func atom(inExit: Bool, earlier: [String]) -> RefExpr {
        switch Int.random(in: 0..<14, using: &rng) {
        case 12, 13:
            let fn = rng.pick(["sum", "max", "min", "avg"])
            return .aggregate(fn: fn, type: rng.pick(Self.types), filter: filter(), window: duration(),
                              op: rng.pick(RefOp.allCases), k: Int.random(in: 0...(fn == "sum" ? 12 : 6), using: &rng))
        case 0...4:
            return .count(type: rng.pick(Self.types), filter: filter(), window: duration(),
                          op: rng.pick(RefOp.allCases), k: Int.random(in: 0...4, using: &rng))
        case 5, 6:
            return .since(type: rng.pick(Self.types), op: rng.pick([.lt, .le, .gt, .ge]), d: duration())
        case 7:
            return .sinceNull(type: rng.pick(Self.types), isNull: rng.chance(0.5))
        case 8, 9:
            return .inactive(duration())
        case 10 where inExit:
            return .membershipAge(op: rng.pick([.lt, .le, .gt, .ge]), d: duration())
        case 11 where !earlier.isEmpty:
            return .inSegment(rng.pick(earlier))
        default:
            return .count(type: rng.pick(Self.types), filter: nil, window: duration(short: true),
                          op: .ge, k: Int.random(in: 1...3, using: &rng))
        }
    }

    mutating func expression(depth: Int, inExit: Bool, earlier: [String]) -> RefExpr {
        guard depth > 0, rng.chance(0.55) else { return atom(inExit: inExit, earlier: earlier) }
        switch Int.random(in: 0..<5, using: &rng) {
        case 0: return .not(expression(depth: depth - 1, inExit: inExit, earlier: earlier))
        case 1, 2:
            return .and(expression(depth: depth - 1, inExit: inExit, earlier: earlier),
                        expression(depth: depth - 1, inExit: inExit, earlier: earlier))
        default:
            return .or(expression(depth: depth - 1, inExit: inExit, earlier: earlier),
                       expression(depth: depth - 1, inExit: inExit, earlier: earlier))
        }
    }

    /// A ruleset of `count` segments, priorities 1 to 4 so that ties (broken by name) happen. Some
    /// are "probes" whose exit is the negation of their enter (so membership reads the enter's
    /// truth directly), the rest have independent enter and exit (to exercise hysteresis and
    /// `membership.age`).
    mutating func ruleset(segments count: Int) -> RefRuleset {
        var segments: [RefSegment] = []
        for index in 0..<count {
            let earlier = segments.map(\.name)
            let name = "awareness.random.s\(index)"
            let enter = expression(depth: 2, inExit: false, earlier: earlier)
            let exit: RefExpr = rng.chance(0.4) ? .not(enter) : expression(depth: 2, inExit: true, earlier: earlier)
            var segment = RefSegment(name: name, priority: Int.random(in: 1...4, using: &rng), enter: enter, exit: exit)
            if rng.chance(0.4) { segment.score = scoring(bands: false) }
            if rng.chance(0.4) { segment.timing = timing() }
            if actionVariety { segment.sales = rng.chance(0.4) }
            segments.append(segment)
        }
        // Stage rules read time too (no in_segment or membership.age there).
        var stages: [(name: String, when: RefExpr)] = []
        for name in ["decision", "consideration"] where rng.chance(0.6) {
            stages.append((name, expression(depth: 1, inExit: false, earlier: [])))
        }
        let lead = rng.chance(0.5) ? scoring(bands: false) : nil  // bands schedule re-evaluations the reference does not model
        var ruleset = RefRuleset(types: Self.types, stages: stages, segments: segments, scoring: lead)
        guard actionVariety else {
            if rng.chance(0.4) { ruleset.caps["email"] = [RefCap(when: nil, max: Int.random(in: 0...3, using: &rng), per: duration())] }
            return ruleset
        }
        if rng.chance(0.5) { ruleset.caps["email"] = caps() }
        if segments.contains(where: \.sales), rng.chance(0.4) { ruleset.caps["sales"] = caps() }
        ruleset.allSegmentsEmail = rng.chance(0.35)
        return ruleset
    }

    /// One channel's caps: one to three entries, each but the last with a `when` (engagement read
    /// through counts, `since`, `inactive` and aggregates; `in_segment` is refused there), the
    /// last with one now and then (then no entry may hold: the action is sent uncounted).
    mutating func caps() -> [RefCap] {
        let count = Int.random(in: 1...3, using: &rng)
        return (0..<count).map { k in
            let when = k < count - 1 || rng.chance(0.25) ? expression(depth: 1, inExit: false, earlier: []) : nil
            return RefCap(when: when, max: Int.random(in: 0...3, using: &rng), per: duration())
        }
    }

    /// A random email timing: a delay, a window of local time (some across midnight), or both.
    mutating func timing() -> RefTiming {
        var timing = RefTiming()
        if rng.chance(0.6) { timing.delay = duration(short: true) }
        if timing.delay == nil || rng.chance(0.6) {
            let start = Int.random(in: 0..<96, using: &rng) * 15
            var end = Int.random(in: 0..<96, using: &rng) * 15
            if end == start { end = (start + 60) % 1440 }
            timing.window = (start, end)
        }
        return timing
    }

    /// A random zone for a lead (half-hour offsets and daylight saving included).
    mutating func zone() -> String {
        rng.pick(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "America/Sao_Paulo"])
    }

    /// A random score section (`RefScoring.random`: half-life or none, points of both signs,
    /// caps, property filters); a segment's has no bands.
    mutating func scoring(bands: Bool) -> RefScoring {
        var scoring = RefScoring.random(&rng)
        if !bands { scoring.bands = [] }
        return scoring
    }

    /// A random event at `at`.
    mutating func event(at: Int64) -> RefEvent {
        var props: [String: RefValue] = [:]
        if rng.chance(0.7) { props["color"] = .string(rng.pick(Self.colors + ["green"])) }
        if rng.chance(0.7) { props["n"] = .int(Int.random(in: 0...6, using: &rng)) }
        return RefEvent(type: rng.pick(Self.types), at: at, props: props)
    }

    /// A random gap between two steps in milliseconds: often none or seconds, sometimes hours or
    /// weeks, now and then with odd milliseconds so window edges are hit off the second.
    mutating func gap() -> Int64 {
        let seconds: Int64
        switch Int.random(in: 0..<10, using: &rng) {
        case 0: seconds = 0
        case 1, 2: seconds = Int64.random(in: 1...120, using: &rng)
        case 3, 4: seconds = Int64.random(in: 60...7_200, using: &rng)
        case 5, 6: seconds = Int64.random(in: 3_600...172_800, using: &rng)
        case 7, 8: seconds = Int64.random(in: 86_400...1_209_600, using: &rng)
        default: seconds = Int64.random(in: 1_209_600...4_000_000, using: &rng)
        }
        return seconds * 1_000 + (rng.chance(0.2) ? Int64.random(in: 1...999, using: &rng) : 0)
    }
}
