/// Turning a route's experiments into actions: the lead's arm decides between the variant's
/// ordinary action (tagged with `experiment` and `variant`) and nothing (`holdout`, listed in
/// `suppressed`). Only routes that have experiments come here, so rulesets without any pay nothing.
extension Settled {
    func appendExperiments(_ segment: String, _ route: Route, channels: UInt8, now: Int64, env: EvalEnv,
                           notes: inout [ActionExplanation], held: inout [SuppressedAction], into out: inout [Action]) {
        for e in route.experiments {
            let bit = EvaluationPlan.Seg.channelBit(e.channel)
            guard channels & bit != 0, !held.contains(where: { $0.channel == e.channel && $0.reason == Self.holdoutReason }) else { continue }
            let arm = e.arm(leadId: env.lead.id.text ?? "")
            if env.explains {
                var note = ActionExplanation(channel: e.channel, segment: segment, field: "variant")
                note.value = arm
                note.rule = Self.describe(e, arm: arm)
                notes.append(note)
            }
            if arm == ExperimentAssignment.holdout {
                held.append(SuppressedAction(channel: e.channel, reason: Self.holdoutReason, experiment: e.name, segment: segment))
                continue
            }
            guard let variant = e.variants.first(where: { $0.key == arm }) else { continue }
            let first = out.count
            appendRoute(segment, variant.route, channels: bit, now: now, env: env, notes: &notes, held: &held, into: &out)
            for k in first..<out.count { out[k].experiment = e.name; out[k].variant = arm }
        }
    }

    /// The `reason` of a held-out channel in `suppressed`.
    static let holdoutReason = "holdout"

    /// Channel bits of the holdouts in `held`.
    static func heldBits(_ held: [SuppressedAction]) -> UInt8 {
        held.reduce(UInt8(0)) { $1.reason == holdoutReason ? $0 | EvaluationPlan.Seg.channelBit($1.channel) : $0 }
    }

    /// `experiment pricing-copy by lead id: holdout 10%, a 50, b 50 → b`: the explanation's rule.
    static func describe(_ e: RouteExperiment, arm: String) -> String {
        let weights = e.variants.map { "\($0.key) \(Self.number($0.weight))" }.joined(separator: ", ")
        return "experiment \(e.name) by lead id: holdout \(Self.number(e.holdout))%, \(weights) → \(arm)"
    }

    private static func number(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v)
    }
}
