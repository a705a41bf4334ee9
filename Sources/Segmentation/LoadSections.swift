import Yams

/// The sections of a ruleset other than segments.
extension RulesetLoader {
    func loadSources(_ n: Node?, _ c: ExprCompiler) -> [SourceRule] {
        namedRules(n, section: "sources", entry: "a source", nameKey: "channel",
                   scope: RuleScope(name: "a source rule"), c, role: { _ in .other })
            .map { SourceRule(channel: $0.0, when: $0.1) }
    }

    func loadStages(_ n: Node?, _ c: ExprCompiler) -> [StageRule] {
        namedRules(n, section: "stages", entry: "a stage entry", nameKey: "stage",
                   scope: RuleScope(name: "a stage rule", timeSensitive: true), c, extraKeys: ["goal"], role: { .stage($0) })
            .map { name, rule, m in
                var stage = StageRule(stage: name, when: rule)
                stage.goal = m["goal"].flatMap { loadGoal($0, of: "stage `\(name)`", c) }
                return stage
            }
    }

    /// An ordered list of `{ <nameKey>: NAME, when: RULE }` entries (sources, stages).
    private func namedRules(_ n: Node?, section: String, entry: String, nameKey: String, scope: RuleScope,
                            _ c: ExprCompiler, extraKeys: [String] = [],
                            role: (Int) -> EvaluationPlan.RuleEntry.Role) -> [(String, Rule, [String: Node])] {
        guard let n, let items = y.sequence(n, "`\(section)`") else { return [] }
        var out: [(String, Rule, [String: Node])] = []
        for item in items {
            guard let m = y.mapping(item, entry, allowed: [nameKey, "when"] + extraKeys) else { continue }
            let f = Dictionary(m.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
            let name = f[nameKey].flatMap { y.string($0, "`\(nameKey)`") }
            if f[nameKey] == nil { sink.error(y.loc(item), "\(entry) needs a `\(nameKey)`") }
            guard let w = f["when"] else { sink.error(y.loc(item), "\(entry) needs a `when` rule"); continue }
            c.currentRole = role(out.count)
            let r = rule(w, "`when`", scope, c)
            c.currentRole = .other
            if let name, let r { out.append((name, r, f)) }
        }
        return out
    }

    func loadScoring(_ n: Node?, teams: [String: Team], _ c: ExprCompiler) -> Scoring {
        guard let n, let m = y.mapping(n, "`scoring`", allowed: ["half_life", "rules", "bands"]) else {
            return Scoring(halfLife: nil, rules: [], bands: [])
        }
        var halfLife: Duration?
        var rules: [ScoreRule] = []
        var bands: [Band] = []
        for (key, _, value) in m {
            switch key {
            case "half_life": halfLife = y.duration(value, "`half_life`")
            case "rules":
                for item in y.sequence(value, "`scoring.rules`") ?? [] {
                    guard let rm = y.mapping(item, "a scoring rule", allowed: ["when", "points", "cap"]) else { continue }
                    let f = Dictionary(rm.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
                    guard let w = f["when"], let p = f["points"] else {
                        sink.error(y.loc(item), "a scoring rule needs `when` and `points`")
                        continue
                    }
                    let r = rule(w, "`when`", RuleScope(name: "a scoring rule"), c)
                    let points = y.number(p, "`points`")
                    var cap: Double?
                    if let cn = f["cap"] {
                        cap = y.number(cn, "`cap`")
                        if let cv = cap, cv <= 0 { sink.error(y.loc(cn), "`cap` must be more than 0 (it is the most points this rule can contribute)") }
                    }
                    if let r, let points {
                        var key = "r" + String(stableHash(r.text + "|" + Expr.formatNumber(points)), radix: 16)
                        if rules.contains(where: { $0.key == key }) { key += "-\(rules.count)" }
                        rules.append(ScoreRule(key: key, when: r, points: points, cap: cap))
                    }
                }
            default: bands = loadBands(value, section: "`scoring.bands`", teams: teams, c)
            }
        }
        return Scoring(halfLife: halfLife, rules: rules, bands: bands)
    }

    /// `scoring.bands`, or top-level `bands:` (the same list, as issue 20 writes it; one of the two).
    func loadBands(_ value: Node, section: String, teams: [String: Team], _ c: ExprCompiler) -> [Band] {
        var bands: [Band] = []
        let items = y.sequence(value, section) ?? []
        for (i, item) in items.enumerated() {
            guard let bm = y.mapping(item, "a band", allowed: ["below", "action", "route"]) else { continue }
            let f = Dictionary(bm.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
            let below = f["below"].flatMap { y.number($0, "`below`") }
            guard let an = f["action"], let action = y.string(an, "`action`") else {
                sink.error(y.loc(item), "a band needs an `action`"); continue
            }
            let isLast = i == items.count - 1
            if isLast, f["below"] != nil {
                sink.error(y.loc(item), "the last band must have no `below`: it takes every score above the others")
            } else if !isLast, f["below"] == nil {
                sink.error(y.loc(item), "only the last band may omit `below`")
            }
            if let below, let prev = bands.last?.below, below <= prev {
                sink.error(y.loc(f["below"]!), "bands must be in increasing order of `below` (\(Expr.formatNumber(below)) comes after \(Expr.formatNumber(prev)))")
            }
            var band = Band(below: below, action: action)
            band.route = f["route"].map { loadRoute($0, teams: teams, c) }
            bands.append(band)
        }
        return bands
    }

    func loadTeams(_ n: Node?) -> [String: Team] {
        guard let n, let m = y.mapping(n, "`teams`", allowed: []) else { return [:] }
        var teams: [String: Team] = [:]
        var escalations: [(String, Node)] = []
        for (name, _, value) in m {
            guard let tm = y.mapping(value, "team `\(name)`", allowed: ["strategy", "members", "escalate_to", "territory_fallback"]) else { continue }
            var strategy = "round_robin"
            var fallback = "all"
            var members: [TeamMember] = []
            var escalate: String?
            for (key, _, v) in tm {
                switch key {
                case "strategy":
                    if let s = y.string(v, "`strategy`") {
                        if RulesetLoader.strategies.contains(s) { strategy = s } else {
                            sink.error(y.loc(v), "unknown strategy `\(s)`\(didYouMean(s, RulesetLoader.strategies)); use round_robin, least_loaded or territory")
                        }
                    }
                case "members":
                    for item in y.sequence(v, "`members`") ?? [] {
                        guard let mm = y.mapping(item, "a team member", allowed: ["id", "capacity", "territories"]) else { continue }
                        let f = Dictionary(mm.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
                        guard let idn = f["id"], let id = y.string(idn, "`id`") else { sink.error(y.loc(item), "a team member needs an `id`"); continue }
                        let cap = f["capacity"].flatMap { y.integer($0, "`capacity`") }
                        let terr = f["territories"].flatMap { y.strings($0, "`territories`") } ?? []
                        members.append(TeamMember(id: id, capacity: cap, territories: terr))
                    }
                case "territory_fallback":
                    if let s = y.string(v, "`territory_fallback`") {
                        if Team.territoryFallbacks.contains(s) { fallback = s } else {
                            sink.error(y.loc(v), "unknown territory_fallback `\(s)`\(didYouMean(s, Team.territoryFallbacks)); use all (leads no territory covers go round robin to every member) or unassigned_members (only to members without territories)")
                        }
                    }
                default:
                    if let s = y.string(v, "`escalate_to`") { escalate = s; escalations.append((s, v)) }
                }
            }
            teams[name] = Team(name: name, strategy: strategy, members: members, escalateTo: escalate, territoryFallback: fallback)
        }
        for (target, node) in escalations where teams[target] == nil {
            sink.error(y.loc(node), "unknown team `\(target)` in `escalate_to`\(didYouMean(target, teams.keys.sorted()))")
        }
        return teams
    }

    /// `consent:` — `channels` maps a channel to the consent category it needs (`email:
    /// marketing`), `default` (granted or denied) says what a lead that never answered for a
    /// category gets. Each mapping becomes a suppression with reason `consent` over the lead's
    /// `traits.consent.<category>` (kept by ingest from Segment's consent object or a
    /// `consent` trait), checked before the `suppress:` conditions.
    func loadConsent(_ n: Node?, _ c: ExprCompiler) -> [Suppression] {
        guard let n, let m = y.mapping(n, "`consent`", allowed: ["default", "channels"]) else { return [] }
        var grantedByDefault = true
        var channels: [(channel: String, category: String, node: Node)] = []
        for (key, _, value) in m {
            switch key {
            case "default":
                switch y.string(value, "`consent.default`") {
                case "granted": grantedByDefault = true
                case "denied": grantedByDefault = false
                case nil: break
                case let other?: sink.error(y.loc(value), "`consent.default` must be granted or denied, not `\(other)`")
                }
            default:
                guard let pairs = y.mapping(value, "`consent.channels`", allowed: RulesetLoader.channels) else { continue }
                for (channel, _, categoryNode) in pairs {
                    guard let category = y.string(categoryNode, "the consent category of `\(channel)`") else { continue }
                    guard category.range(of: "^[a-z][a-z0-9_]{0,63}$", options: .regularExpression) != nil else {
                        sink.error(y.loc(categoryNode), "consent category `\(category)` must be a lowercase name (letters, digits, _), e.g. marketing")
                        continue
                    }
                    channels.append((channel, category, categoryNode))
                }
            }
        }
        var out: [Suppression] = []
        for (channel, category, node) in channels {
            // Missing answers are null: `null == false` is false (granted), `not (null == true)` true (denied).
            let text = grantedByDefault ? "lead.traits.consent.\(category) == false" : "not (lead.traits.consent.\(category) == true)"
            c.currentRole = .suppress(channel)
            defer { c.currentRole = .other }
            let at = y.loc(node)
            if let rule = c.compileRule(text, scope: RuleScope(name: "a consent check", timeSensitive: true, allowsInSegment: false),
                                        locate: { _ in at }) {
                out.append(Suppression(channel: channel, condition: rule, reason: "consent"))
            }
        }
        return out.sorted { $0.channel < $1.channel }
    }

    func loadSuppress(_ n: Node?, _ c: ExprCompiler) -> [Suppression] {
        guard let n, let m = y.mapping(n, "`suppress`", allowed: RulesetLoader.channels) else { return [] }
        var out: [Suppression] = []
        for (channel, _, value) in m {
            c.currentRole = .suppress(channel)
            defer { c.currentRole = .other }
            if let r = rule(value, "the `\(channel)` suppression", RuleScope(name: "a suppress condition", timeSensitive: true, allowsInSegment: true), c) {
                out.append(Suppression(channel: channel, condition: r))
            }
        }
        return out.sorted { $0.channel < $1.channel }
    }
}
