/// A segment's own score (`score:` inside a segment): ranks its members by that segment's signals
/// ("within product comparers, prioritise those who read shipping and returns"). Same rules,
/// caps and decay as the lead score, kept per member from the moment it entered: entering resets
/// it to 0 (the entering event's points count), leaving drops it.
public struct SegmentScoreState: Sendable, Equatable, Codable {
    /// Score at `at`.
    public var score: Double
    /// When it was last computed (ms).
    public var at: Int64
    /// Per rule key, its contribution at `at` (caps apply per rule, as for the lead score).
    public var parts: [String: Double]

    public init(score: Double = 0, at: Int64, parts: [String: Double] = [:]) { self.score = score; self.at = at; self.parts = parts }
}

extension Engine {
    /// Updates the segment scores of the current members after memberships settled (rules see the
    /// settled lead and the event); drops those of segments the lead is not in.
    func applySegmentScores(_ env: EvalEnv, changes: [(Int, String)], event: ResolvedEvent?) {
        let rs = ruleset
        guard !rs.scoredSegments.isEmpty || !env.lead.segmentScores.isEmpty else { return }
        // Nothing kept and nothing to keep: the usual case for a lead in no scored segment.
        if env.lead.segmentScores.isEmpty, !rs.scoredSegments.contains(where: { env.members[$0] }) { return }
        var kept: [String: SegmentScoreState] = [:]
        for i in rs.scoredSegments where env.members[i] {
            let seg = rs.segments[i]
            guard let scoring = seg.score else { continue }
            let hl = scoring.halfLife?.milliseconds
            var s = env.lead.segmentScores[seg.name] ?? SegmentScoreState(at: env.now)
            if changes.contains(where: { $0.0 == i && $0.1 == "entered" }) { s = SegmentScoreState(at: env.now) }
            let f = Decay.factor(hl, from: s.at, to: env.now)
            if f != 1 { s.score *= f; s.parts = s.parts.mapValues { $0 * f } }
            s.at = max(s.at, env.now)
            if let ev = event {
                let age = Decay.factor(hl, from: ev.at, to: env.now)
                for rule in scoring.rules where rule.when.holds(env) {
                    let points = rule.points * age
                    let current = s.parts[rule.key] ?? 0
                    var add = points
                    if let cap = rule.cap, points > 0 { add = max(0, min(points, cap - current)) }
                    s.parts[rule.key] = current + add
                    s.score += add
                }
            }
            kept[seg.name] = s
        }
        env.lead.segmentScores = kept
    }

    /// The current segments' scores at `now`, rounded as every score is shown (nil when no segment
    /// of the ruleset has a score).
    func segmentScores(_ lead: LeadState) -> [String: Double]? {
        guard !ruleset.scoredSegments.isEmpty else { return nil }
        return lead.segmentScores.mapValues { round3($0.score) }
    }
}
