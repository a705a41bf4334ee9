import Foundation
import LeadStore
import Postgres
import Segmentation

/// One experiment's numbers: per arm (each variant, then `holdout`) the leads assigned, goal
/// conversions and rate with its Wilson interval; each variant against the holdout; and whether the
/// observed split departs from the weights (sample-ratio mismatch). See docs/rulesets.md.
public struct ExperimentReport: Sendable {
    public let name: String
    /// The active ruleset's definition; nil when only recorded assignments remain (the experiment
    /// was removed): arms are then listed without weights or a sample-ratio check.
    public let definition: ExperimentDefinition?
    public let arms: [Arm]
    public let sampleRatio: SampleRatio?

    public struct Arm: Sendable {
        public let arm: String
        /// Share of leads the ruleset sends to this arm (nil: the arm is no longer defined).
        public let expectedShare: Double?
        public let weight: Double?
        public let leads: Int
        public let conversions: Int
        public var rate: Double? { leads > 0 ? Double(conversions) / Double(leads) : nil }
        public let interval: (low: Double, high: Double)?
        /// A variant against the holdout (nil for the holdout itself, or without one).
        public let versusHoldout: Comparison?
    }

    public struct Comparison: Sendable {
        /// Variant rate minus holdout rate.
        public let difference: Double
        public let z: Double?
        public let pValue: Double?
        public let minimumDetectableEffect: Double?
        /// No test possible, or the MDE exceeds the observed difference: more leads are needed.
        public var tooSmallToSay: Bool { minimumDetectableEffect.map { $0 > abs(difference) } ?? true }
    }

    public struct SampleRatio: Sendable {
        public let chiSquared: Double
        public let degreesOfFreedom: Int
        public let pValue: Double
        /// p < 0.001: the split is not what the weights say (a bug in exposure, not chance).
        public var mismatch: Bool { pValue < ExperimentReport.mismatchThreshold }
    }

    public static let mismatchThreshold = 0.001

    /// Builds the report from the definition (if any) and the recorded counts of this experiment.
    public init(name: String, definition: ExperimentDefinition?, counts: [ExperimentArmCount]) {
        self.name = name; self.definition = definition
        let byArm = Dictionary(counts.map { ($0.arm, $0) }, uniquingKeysWith: { a, _ in a })
        var order: [(arm: String, share: Double?, weight: Double?)] = []
        if let definition {
            let weights = Dictionary(definition.variants.map { ($0.key, $0.weight) }, uniquingKeysWith: { a, _ in a })
            for (arm, share) in definition.expectedShares where arm != ExperimentAssignment.holdout || share > 0 || byArm[arm] != nil {
                order.append((arm, share, weights[arm]))
            }
        }
        for c in counts where !order.contains(where: { $0.arm == c.arm }) { order.append((c.arm, nil, nil)) }
        let holdout = byArm[ExperimentAssignment.holdout]
        arms = order.map { arm, share, weight in
            let c = byArm[arm]
            let leads = c?.leads ?? 0, conversions = c?.conversions ?? 0
            var versus: Comparison?
            if arm != ExperimentAssignment.holdout, let h = holdout, h.leads > 0, leads > 0 {
                let test = ExperimentStatistics.twoProportion(x1: conversions, n1: leads, x2: h.conversions, n2: h.leads)
                versus = Comparison(difference: Double(conversions) / Double(leads) - Double(h.conversions) / Double(h.leads),
                                    z: test?.z, pValue: test?.pValue,
                                    minimumDetectableEffect: ExperimentStatistics.minimumDetectableEffect(
                                        x1: conversions, n1: leads, x2: h.conversions, n2: h.leads))
            }
            return Arm(arm: arm, expectedShare: share, weight: weight, leads: leads, conversions: conversions,
                       interval: ExperimentStatistics.wilson(successes: conversions, n: leads), versusHoldout: versus)
        }
        let defined = arms.filter { $0.expectedShare != nil }
        sampleRatio = ExperimentStatistics.chiSquared(observed: defined.map(\.leads), expectedShares: defined.map { $0.expectedShare! })
            .map { SampleRatio(chiSquared: $0.statistic, degreesOfFreedom: $0.degreesOfFreedom, pValue: $0.pValue) }
    }

    public var leads: Int { arms.reduce(0) { $0 + $1.leads } }
    public var conversions: Int { arms.reduce(0) { $0 + $1.conversions } }
}

/// `GET /v1/experiments[/{name}]`: the active ruleset's experiments with their recorded counts.
public struct ExperimentReports: Sendable {
    let pool: PostgresPool
    let rules: ActiveEngine

    public init(pool: PostgresPool, rules: ActiveEngine) { self.pool = pool; self.rules = rules }

    /// Every experiment of the active ruleset, then any other with recorded assignments, by name.
    public func all() throws -> [ExperimentReport] {
        let definitions = rules.engine.ruleset.experiments
        let counts = try pool.withConnection { try Store($0).experimentCounts() }
        let names = Set(definitions.map(\.name)).union(counts.map(\.experiment)).sorted()
        return names.map { name in
            ExperimentReport(name: name, definition: definitions.first { $0.name == name }, counts: counts.filter { $0.experiment == name })
        }
    }

    /// One experiment; nil when the active ruleset does not define it and no lead was ever assigned.
    public func report(_ name: String) throws -> ExperimentReport? {
        let definition = rules.engine.ruleset.experiments.first { $0.name == name }
        let counts = try pool.withConnection { try Store($0).experimentCounts(name) }
        guard definition != nil || !counts.isEmpty else { return nil }
        return ExperimentReport(name: name, definition: definition, counts: counts)
    }
}
