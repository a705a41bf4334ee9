import Rulesets

/// `GET /v1/experiments`.
struct ExperimentListView: Encodable {
    let experiments: [ExperimentView]
}

/// A value written as JSON `null` when absent (synthesized `Encodable` would leave the key out):
/// the report keeps one shape whether or not a number is defined yet.
struct Nullable<Wrapped: Encodable>: Encodable {
    let value: Wrapped?

    init(_ value: Wrapped?) { self.value = value }

    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        if let value { try c.encode(value) } else { try c.encodeNil() }
    }
}

/// One experiment report as the API shows it (snake_case; nulls where a number is undefined).
struct ExperimentView: Encodable {
    let name: String
    let active: Bool
    let channels: [String]
    let segments: [String]
    let holdout: Nullable<Double>
    let leads: Int
    let conversions: Int
    let arms: [ArmView]
    let sampleRatio: Nullable<SampleRatioView>

    init(_ report: ExperimentReport) {
        let d = report.definition
        name = report.name; active = d != nil; channels = d?.channels ?? []; segments = d?.segments ?? []
        holdout = Nullable(d.map { $0.holdout / 100 })
        leads = report.leads; conversions = report.conversions
        arms = report.arms.map(ArmView.init)
        sampleRatio = Nullable(report.sampleRatio.map(SampleRatioView.init))
    }

    enum CodingKeys: String, CodingKey {
        case name, active, channels, segments, holdout, leads, conversions, arms, sampleRatio = "sample_ratio"
    }

    struct ArmView: Encodable {
        let arm: String
        let weight: Nullable<Double>
        let expectedShare: Nullable<Double>
        let leads: Int
        let conversions: Int
        let rate: Nullable<Double>
        let interval: Nullable<[String: Double]>
        let versusHoldout: Nullable<ComparisonView>

        init(_ a: ExperimentReport.Arm) {
            arm = a.arm; weight = Nullable(a.weight); expectedShare = Nullable(a.expectedShare)
            leads = a.leads; conversions = a.conversions; rate = Nullable(a.rate)
            interval = Nullable(a.interval.map { ["low": $0.low, "high": $0.high] })
            versusHoldout = Nullable(a.versusHoldout.map(ComparisonView.init))
        }

        enum CodingKeys: String, CodingKey {
            case arm, weight, leads, conversions, rate, interval, expectedShare = "expected_share", versusHoldout = "versus_holdout"
        }
    }

    struct ComparisonView: Encodable {
        let difference: Double
        let z: Nullable<Double>
        let pValue: Nullable<Double>
        let minimumDetectableEffect: Nullable<Double>
        let tooSmallToSay: Bool

        init(_ c: ExperimentReport.Comparison) {
            difference = c.difference; z = Nullable(c.z); pValue = Nullable(c.pValue)
            minimumDetectableEffect = Nullable(c.minimumDetectableEffect); tooSmallToSay = c.tooSmallToSay
        }

        enum CodingKeys: String, CodingKey {
            case difference, z, pValue = "p_value", minimumDetectableEffect = "minimum_detectable_effect", tooSmallToSay = "too_small_to_say"
        }
    }

    struct SampleRatioView: Encodable {
        let chiSquared: Double
        let degreesOfFreedom: Int
        let pValue: Double
        let mismatch: Bool

        init(_ r: ExperimentReport.SampleRatio) {
            chiSquared = r.chiSquared; degreesOfFreedom = r.degreesOfFreedom; pValue = r.pValue; mismatch = r.mismatch
        }

        enum CodingKeys: String, CodingKey {
            case chiSquared = "chi_squared", degreesOfFreedom = "degrees_of_freedom", pValue = "p_value", mismatch
        }
    }
}
