/// An experiment on one channel of a route: `email: {experiment: pricing-copy, variants: {a: {…, weight: 50},
/// b: {…, weight: 50}}, holdout: 10%}`. Each variant is an ordinary action of the channel (templates,
/// choices, `delay`/`window` all work) with a weight; held-out leads get no action on the channel.
public struct RouteExperiment: Sendable {
    /// The experiment's name, e.g. `pricing-copy`: the key its statistics are kept under.
    public let name: String
    /// `email`, `ads` or `sales`.
    public let channel: String
    /// Share of leads held out, in percent (0 ≤ holdout < 100).
    public let holdout: Double
    /// The variants, sorted by key, so the file order never changes an assignment.
    public let variants: [Variant]
    /// Where the experiment is written (for diagnostics that compare two uses of one name).
    let location: SourceLocation

    /// One arm that acts: its key, its weight and the route holding its action on `channel`.
    public struct Variant: Sendable {
        public let key: String
        public let weight: Double
        public let route: Route
    }

    init(name: String, channel: String, holdout: Double, variants: [Variant], location: SourceLocation) {
        self.name = name; self.channel = channel; self.holdout = holdout; self.location = location
        self.variants = variants.sorted { $0.key < $1.key }
    }

    /// The arm a lead is in: `holdout` or a variant's key.
    public func arm(leadId: String) -> String {
        ExperimentAssignment.arm(leadId: leadId, experiment: name, holdout: holdout,
                                 weights: variants.map { ($0.key, $0.weight) })
    }
}

/// Deterministic assignment of leads to arms. It reads only the lead id and the experiment name —
/// never the ruleset version, the file order of the variants or the time — so a lead keeps its
/// arm when the ruleset is edited, re-pushed or rolled back. Two independent draws: the first
/// decides the holdout (raising the holdout from 10 % to 20 % moves only leads into the holdout,
/// the variant split of the others is untouched), the second picks a variant by cumulative weight
/// over the keys in sorted order (changing weights moves only the leads between the old and the
/// new boundaries).
public enum ExperimentAssignment {
    /// Marker arm of held-out leads.
    public static let holdout = "holdout"

    /// The arm of `leadId` in `experiment`: `holdout` with probability `holdout`/100, else a key of
    /// `weights` with probability proportional to its weight.
    public static func arm(leadId: String, experiment: String, holdout: Double, weights: [(key: String, weight: Double)]) -> String {
        if holdout > 0, unit(leadId, experiment, salt: 1) * 100 < holdout { return Self.holdout }
        let total = weights.reduce(0) { $0 + $1.weight }
        guard total > 0, let last = weights.last else { return Self.holdout }
        let point = unit(leadId, experiment, salt: 2) * total
        var cumulative = 0.0
        for w in weights {
            cumulative += w.weight
            if point < cumulative { return w.key }
        }
        return last.key
    }

    /// A uniform number in [0, 1) from the lead id, experiment name and salt: FNV-1a 64 over the
    /// UTF-8 bytes, then the SplitMix64 finaliser so that ids differing in one character spread
    /// over the whole range. Stable across processes and platforms (no `Hasher`, which is seeded).
    static func unit(_ leadId: String, _ experiment: String, salt: UInt8) -> Double {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ b: UInt8) { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        mix(salt)
        for b in experiment.utf8 { mix(b) }
        mix(0)
        for b in leadId.lowercased().utf8 { mix(b) }
        var z = h &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        z ^= z >> 31
        return Double(z >> 11) / Double(UInt64(1) << 53)
    }
}

/// One experiment as the ruleset defines it, for reports: where it runs and its arms' weights.
public struct ExperimentDefinition: Sendable, Equatable {
    public let name: String
    /// Channels it decides (one, or several in one route sharing the same arms).
    public let channels: [String]
    /// The segments whose route carries it (a band route's experiment: `nil` entry is not listed).
    public let segments: [String]
    /// Percent held out.
    public let holdout: Double
    /// Variant keys and weights, sorted by key.
    public let variants: [Arm]

    public struct Arm: Sendable, Equatable {
        public let key: String
        public let weight: Double
        public init(key: String, weight: Double) { self.key = key; self.weight = weight }
    }

    public init(name: String, channels: [String], segments: [String], holdout: Double, variants: [Arm]) {
        self.name = name; self.channels = channels; self.segments = segments; self.holdout = holdout; self.variants = variants
    }

    /// Expected share of each arm (variants, then `holdout`), summing to 1.
    public var expectedShares: [(arm: String, share: Double)] {
        let total = variants.reduce(0) { $0 + $1.weight }
        let acting = 1 - holdout / 100
        return variants.map { ($0.key, total > 0 ? acting * $0.weight / total : 0) } + [(ExperimentAssignment.holdout, holdout / 100)]
    }
}

extension Ruleset {
    /// Whether any route runs an experiment: decisions then carry arms worth recording.
    public var hasExperiments: Bool { plan.hasExperiments }

    /// Every experiment of the segments' routes and the score bands' routes, by name.
    public var experiments: [ExperimentDefinition] {
        var byName: [String: (RouteExperiment, [String], [String])] = [:]
        func add(_ e: RouteExperiment, segment: String?) {
            var entry = byName[e.name] ?? (e, [], [])
            if !entry.1.contains(e.channel) { entry.1.append(e.channel) }
            if let segment, !entry.2.contains(segment) { entry.2.append(segment) }
            byName[e.name] = entry
        }
        for s in segments { for e in s.route.experiments { add(e, segment: s.name) } }
        for b in scoring.bands { for e in b.route?.experiments ?? [] { add(e, segment: nil) } }
        return byName.keys.sorted().map { name in
            let (e, channels, segs) = byName[name]!
            return ExperimentDefinition(name: name, channels: channels.sorted(), segments: segs.sorted(), holdout: e.holdout,
                                        variants: e.variants.map { .init(key: $0.key, weight: $0.weight) })
        }
    }
}
