/// Stage goals (`goal:` on a stage entry): which of them hold after an evaluation. The engine
/// does not know when a lead entered its stage (the stage history is the store's), so it reports
/// the goals that hold with their horizon, and the store keeps the first one reached within the
/// horizon of the stay's entry (docs/insight.md, the stage funnel).
extension Evaluation {
    /// A stage whose goal held at this evaluation: the lead's stage after it, or the one it just left.
    public struct StageGoalHeld: Sendable, Equatable {
        public var stage: String
        /// The goal's horizon (`within`), in milliseconds.
        public var withinMilliseconds: Int64
    }
}

extension Engine {
    /// The goals holding for the stage settled in `env` and for `left` (the stage before this
    /// evaluation) when it differs: a checkout that makes the lead a customer reaches the goal of
    /// the `decision` stage as it moves the lead to `retention`. Read like a segment's goal, on the
    /// settled lead and the event being evaluated.
    func stageGoalsHeld(_ env: EvalEnv, left: String?) -> [Evaluation.StageGoalHeld] {
        var out: [Evaluation.StageGoalHeld] = []
        for rule in ruleset.stages where rule.stage == env.lead.stage || rule.stage == left {
            guard let goal = rule.goal, goal.when.holds(env) else { continue }
            out.append(Evaluation.StageGoalHeld(stage: rule.stage, withinMilliseconds: goal.within.milliseconds))
        }
        return out
    }
}

extension Ruleset {
    /// Whether any stage has a `goal` (a scan of the few stages, cheaper than keeping a flag in step).
    var hasStageGoals: Bool { stages.contains { $0.goal != nil } }
}
