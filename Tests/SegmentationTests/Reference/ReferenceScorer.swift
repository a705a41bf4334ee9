import Foundation

// The score reference: written from DESIGN.md §7 and docs/rules.md, sharing no code with the
// engine. It keeps every scored arrival and recomputes each rule's contribution at any instant as
// the sum of its additions, each decayed directly from the instant it was added
// (`added · 0.5^((t − added_at) / half_life)`), instead of the engine's one multiplication per
// evaluation of stored contributions.

/// A random scoring section: half-life (or none), rules on event type with an optional property
/// filter, points (some negative), caps (on positive points), bands.
struct RefScoring {
    static let types = ["viewed", "carted", "priced", "clicked"]

    struct Rule: CustomStringConvertible {
        var type: String
        /// `event.properties.n >= minN` when set.
        var minN: Int?
        var points: Double
        var cap: Double?

        /// The `when` text as the engine normalises it.
        var when: String { "event.type == \"\(type)\"" + (minN.map { " and event.properties.n >= \($0)" } ?? "") }
        var description: String { "\(when): \(points)" + (cap.map { " cap \($0)" } ?? "") }

        func matches(_ event: RefEvent) -> Bool {
            guard event.type == type else { return false }
            guard let minN else { return true }
            guard case let .int(n)? = event.props["n"] else { return false }
            return n >= minN
        }
    }

    /// Half-life text (e.g. `3d`) and milliseconds; nil: no decay.
    var halfLife: (text: String, ms: Int64)?
    var rules: [Rule]
    var bands: [(below: Double?, action: String)]

    static func random(_ rng: inout SeededGenerator) -> RefScoring {
        let halfLives: [(String, Int64)] = [("1h", 3_600_000), ("12h", 43_200_000), ("1d", 86_400_000), ("3d", 259_200_000),
                                            ("14d", 1_209_600_000), ("90m", 5_400_000)]
        let halfLife = rng.chance(0.15) ? nil : rng.pick(halfLives)
        var rules: [Rule] = []
        for _ in 0..<Int.random(in: 1...5, using: &rng) {
            let points: Double = rng.pick([1, 2, 2.5, 3, 5, 10, 15, 40, -1, -3, -5.5, 0.125])
            let cap: Double? = points > 0 && rng.chance(0.6) ? rng.pick([4, 5, 10, 12.5, 30]) : nil
            rules.append(Rule(type: rng.pick(types), minN: rng.chance(0.3) ? Int.random(in: 1...3, using: &rng) : nil,
                              points: points, cap: cap))
        }
        let low = Double(Int.random(in: 2...10, using: &rng))
        let bands: [(below: Double?, action: String)] = rng.chance(0.2)
            ? [] : [(low, "low"), (low + Double(Int.random(in: 1...20, using: &rng)), "mid"), (nil, "high")]
        return RefScoring(halfLife: halfLife, rules: rules, bands: bands)
    }

    var yaml: String {
        var lines = ["version: 1", "events:", "  types: [\(Self.types.joined(separator: ", "))]",
                     "stages:", "  - { stage: awareness, when: 'true' }", "scoring:"]
        lines += body(indent: "  ")
        lines.append("segments: []")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The section's keys (`half_life`, `rules`, `bands`), each line starting with `indent`: under
    /// `scoring:` for the lead score, under a segment's `score:` (without bands) for its own.
    func body(indent: String) -> [String] {
        var lines: [String] = []
        if let halfLife { lines.append("\(indent)half_life: \(halfLife.text)") }
        lines.append("\(indent)rules:")
        for rule in rules {
            lines.append("\(indent)  - { when: '\(rule.when)', points: \(rule.points)" + (rule.cap.map { ", cap: \($0)" } ?? "") + " }")
        }
        if !bands.isEmpty {
            lines.append("\(indent)bands:")
            for band in bands {
                lines.append("\(indent)  - { " + (band.below.map { "below: \($0), " } ?? "") + "action: \(band.action) }")
            }
        }
        return lines
    }

    /// The first band whose `below` exceeds the score, else the last (nil without bands).
    func band(for score: Double) -> String? {
        bands.first { $0.below.map { score < $0 } ?? true }?.action
    }
}

/// A lead's scoring history, recomputed from scratch at every question.
struct ReferenceScorer {
    let scoring: RefScoring

    /// One rule's points as added on an arrival.
    struct Addition {
        var rule: Int
        /// When it was added (the evaluation's `now`).
        var at: Int64
        /// The points the event offered (decayed by the event's age if it was late).
        var offered: Double
        /// What the cap let through.
        var added: Double
        /// Whether the cap reduced it.
        var capped: Bool
    }

    private(set) var additions: [Addition] = []

    init(scoring: RefScoring) { self.scoring = scoring }

    /// `0.5^(Δ / half_life)` for Δ > 0; 1 without half-life or for Δ ≤ 0 (nothing grows).
    func decay(_ delta: Int64) -> Double {
        guard let hl = scoring.halfLife?.ms, delta > 0 else { return 1 }
        return pow(0.5, Double(delta) / Double(hl))
    }

    /// Rule `rule`'s contribution at `t`: every addition decayed from its own instant.
    func contribution(of rule: Int, at t: Int64) -> Double {
        var sum = 0.0
        for a in additions where a.rule == rule { sum += a.added * decay(t - a.at) }
        return sum
    }

    /// The score at `t`: the sum of every addition, decayed.
    func score(at t: Int64) -> Double {
        var sum = 0.0
        for a in additions { sum += a.added * decay(t - a.at) }
        return sum
    }

    /// Scores the event (if any) at `now`: each matching rule offers its points decayed by the
    /// event's age; a capped rule with positive points takes at most `cap − its contribution now`,
    /// never less than 0. Returns the additions in rule order.
    mutating func evaluate(event: RefEvent?, now: Int64) -> [Addition] {
        guard let event else { return [] }
        var out: [Addition] = []
        for (i, rule) in scoring.rules.enumerated() where rule.matches(event) {
            let offered = rule.points * decay(now - event.at)
            var added = offered
            if let cap = rule.cap, rule.points > 0 { added = max(0, min(offered, cap - contribution(of: i, at: now))) }
            let addition = Addition(rule: i, at: now, offered: offered, added: added, capped: added < offered)
            additions.append(addition)
            out.append(addition)
        }
        return out
    }
}
