/// A flat, reference-typed view of a ruleset for the hot path: settling rules touches no struct
/// copies and looks up no names, which matters because `next_evaluation_at` settles several times.
final class EvaluationPlan: Sendable {
    final class Seg: Sendable {
        let name: String
        let priority: Int
        let enter: EvalFn
        let exit: EvalFn?
        let channels: Set<String>
        init(_ s: Segment) {
            name = s.name; priority = s.priority; enter = s.enter.node.eval; exit = s.exit?.node.eval
            channels = Set([s.route.email.map { _ in "email" }, s.route.ads.map { _ in "ads" },
                            s.route.sales.map { _ in "sales" }].compactMap { $0 })
        }
    }
    /// A time-sensitive rule: its closure and, for enter/exit, its segment (for `membership.age`).
    struct RuleEntry: Sendable {
        enum Role: Sendable, Equatable { case other, enter, exit, stage(Int), suppress(String) }
        let fn: EvalFn
        let segment: Int?
        let role: Role
    }
    struct Check: Sendable { let label: String; let text: String; let fn: EvalFn }

    let stages: [Check]
    let segments: [Seg]
    let order: [Int]
    let suppress: [Check]
    /// Signal slots by canonical event type; `anySlots` match every event.
    let slotsByType: [String: [Int]]
    let anySlots: [Int]
    /// Known canonical event types, for flagging unknown names.
    let knownTypes: Set<String>
    /// Time-sensitive rules by id (see `TimeAtoms`).
    let rules: [RuleEntry]
    /// Rule ids of the stage rules, in order.
    let stageRules: [Int]

    init(stages: [StageRule], segments: [Segment], order: [Int], suppress: [Suppression], signals: [SignalSpec],
         rules: [RuleEntry], knownTypes: [String]) {
        self.knownTypes = Set(knownTypes)
        self.rules = rules
        var stageIDs = Array(repeating: TimeAtoms.alwaysProbe, count: stages.count)
        for (id, r) in rules.enumerated() { if case .stage(let i) = r.role, i < stageIDs.count { stageIDs[i] = id } }
        self.stageRules = stageIDs
        self.stages = stages.map { Check(label: $0.stage, text: $0.when.text, fn: $0.when.node.eval) }
        self.segments = segments.map(Seg.init)
        self.order = order
        self.suppress = suppress.map { Check(label: $0.channel, text: $0.condition.text, fn: $0.condition.node.eval) }
        var byType: [String: [Int]] = [:]
        var any: [Int] = []
        for (i, s) in signals.enumerated() {
            if s.eventType == "*" { any.append(i) } else { byType[s.eventType, default: []].append(i) }
        }
        slotsByType = byType
        anySlots = any
    }
}
