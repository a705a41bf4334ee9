import Yams

/// `owners:` (who may own a segment) and the `goal:` of a segment or stage.
extension RulesetLoader {
    /// `owners: [marketing, crm]`: the people or groups segments name as `owner`. A team under
    /// `teams:` and a team member's id are owners too, so a sales segment can name its team.
    func loadOwners(_ n: Node?) -> [String] {
        guard let n else { return [] }
        let list = y.strings(n, "`owners`") ?? []
        var seen = Set<String>()
        for name in list where !seen.insert(name).inserted {
            sink.error(y.loc(n), "owner `\(name)` is listed twice under `owners:`")
        }
        return list
    }

    /// Reports a segment `owner` that names nothing the ruleset declares: an owner nobody can find
    /// is an owner nobody asks when the segment's numbers move.
    func checkOwner(_ n: Node, _ owner: String, segment: String, owners: [String], teams: [String: Team]) {
        let known = owners + teams.keys.sorted() + teams.values.flatMap { $0.members.map(\.id) }.sorted()
        guard !known.contains(owner) else { return }
        let hint = known.isEmpty ? "declare it with `owners: [\(owner)]`"
            : "declare it under `owners:` or name a team; owners are \(Set(known).sorted().joined(separator: ", "))"
        sink.error(y.loc(n), "segment `\(segment)` names owner `\(owner)`, which is not an owner or team of the ruleset\(didYouMean(owner, known)); \(hint)")
    }

    /// `goal: { when: RULE, within: 30d }`: what an entrant should reach, and how soon. `when`
    /// reads the lead and the event like a scoring rule; it never schedules a re-evaluation.
    func loadGoal(_ n: Node, of what: String, _ c: ExprCompiler) -> Goal? {
        guard let m = y.mapping(n, "the `goal` of \(what)", allowed: ["when", "within"]) else { return nil }
        let f = Dictionary(m.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        guard let w = f["when"] else {
            sink.error(y.loc(n), "the `goal` of \(what) needs a `when` rule, e.g. 'lead.status == \"converted\"'")
            return nil
        }
        guard let wn = f["within"] else {
            sink.error(y.loc(n), "the `goal` of \(what) needs a horizon `within`, e.g. 30d")
            return nil
        }
        let within = y.duration(wn, "`within`")
        c.currentRole = .other
        let rule = rule(w, "the goal's `when`", RuleScope(name: "a `goal` rule"), c)
        guard let rule, let within else { return nil }
        return Goal(when: rule, within: within)
    }
}
