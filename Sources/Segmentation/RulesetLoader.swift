import Yams

extension Ruleset {
    /// Parses and compiles a ruleset from YAML text. Never reads files: `fileName` is only used in
    /// diagnostics. Every error found is reported (not only the first), each with line and column.
    public static func load(yaml: String, fileName: String) throws(RulesetLoadError) -> LoadedRuleset {
        let sink = DiagnosticSink(file: fileName)
        let node: Node?
        do { node = try Yams.compose(yaml: yaml) } catch {
            sink.error(yamlErrorLocation(error), "the file is not valid YAML: \(yamlErrorMessage(error))")
            throw RulesetLoadError(diagnostics: sink.errors)
        }
        guard let root = node else {
            sink.error(SourceLocation(line: 1, column: 1), "the ruleset is empty: it needs at least `version` and `segments`")
            throw RulesetLoadError(diagnostics: sink.errors)
        }
        let loader = RulesetLoader(sink: sink, reader: YAMLReader(sink: sink, text: yaml), fileName: fileName)
        let ruleset = loader.load(root)
        if sink.hasErrors || ruleset == nil { throw RulesetLoadError(diagnostics: sink.errors) }
        return LoadedRuleset(ruleset: ruleset!, warnings: sink.warnings)
    }

    private static func yamlErrorLocation(_ error: Error) -> SourceLocation {
        switch error as? YamlError {
        case .scanner(_, _, let m, _)?, .parser(_, _, let m, _)?, .composer(_, _, let m, _)?:
            return SourceLocation(line: m.line, column: m.column)
        case .duplicatedKeysInMapping(_, let context)?:
            return SourceLocation(line: context.mark.line, column: context.mark.column)
        default:
            return SourceLocation(line: 1, column: 1)
        }
    }

    private static func yamlErrorMessage(_ error: Error) -> String {
        switch error as? YamlError {
        case .scanner(let c, let p, _, _)?, .parser(let c, let p, _, _)?, .composer(let c, let p, _, _)?:
            return c.map { "\(p) (\($0.text))" } ?? p
        case .duplicatedKeysInMapping(let keys, _)?:
            return "duplicate key \(keys.map { "`\($0)`" }.joined(separator: ", ")) in one mapping"
        default:
            return "\(error)"
        }
    }
}

/// Walks the YAML tree section by section, compiling every rule; collects all diagnostics.
final class RulesetLoader {
    let sink: DiagnosticSink
    let y: YAMLReader
    let fileName: String
    /// Experiments loaded so far, to keep a name to one set of arms (`checkUnique`).
    var experimentUses: [RouteExperiment] = []
    static let rootKeys = ["version", "events", "sources", "stages", "statuses", "scoring", "suppress", "consent", "teams", "routing", "segments", "sales", "owners", "key_events", "interest", "caps", "bands"]
    static let channels = ["email", "ads", "sales"]
    static let strategies = ["round_robin", "least_loaded", "territory"]

    init(sink: DiagnosticSink, reader: YAMLReader, fileName: String) {
        self.sink = sink; self.y = reader; self.fileName = fileName
    }

    func load(_ root: Node) -> Ruleset? {
        guard let top = y.mapping(root, "the ruleset", allowed: RulesetLoader.rootKeys) else { return nil }
        let section = Dictionary(top.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        var version = 0
        if let v = section["version"] {
            version = y.integer(v, "`version`") ?? 0
        } else {
            sink.error(y.loc(root), "the ruleset needs `version: <number>` (it is copied into every decision)")
        }

        // Events: aliases and the known types.
        var aliases: [String: String] = [:]
        var types: [String] = ["page_viewed"]
        if let ev = section["events"], let m = y.mapping(ev, "`events`", allowed: ["aliases", "types"]) {
            for (key, _, value) in m {
                if key == "aliases", let am = y.mapping(value, "`events.aliases`", allowed: []) {
                    for (name, _, target) in am { if let t = y.string(target, "alias `\(name)`") { aliases[name] = t; types.append(t) } }
                }
                if key == "types", let list = y.strings(value, "`events.types`") { types += list }
            }
        }
        let statuses = readStatuses(section["statuses"])
        var onEvent: [String: String] = [:]
        for r in statuses.rules where onEvent[r.type] == nil { onEvent[r.type] = r.to }
        types += statuses.rules.map(\.type)
        let knownTypes = Array(Set(types)).sorted()

        // Segment names first, so in_segment() can refer to later segments.
        let segmentNodes = section["segments"].flatMap { y.sequence($0, "`segments`") } ?? []
        if section["segments"] == nil { sink.error(y.loc(root), "the ruleset needs a `segments:` list") }
        var names: [String: Int] = [:]
        var nameList: [String?] = []
        for n in segmentNodes {
            var name: String?
            if case .mapping(let m) = n, let nn = m["name"], let s = nn.string, !s.isEmpty {
                if names[s] != nil {
                    sink.error(y.loc(nn), "duplicate segment `\(s)`: segment names must be unique")
                } else {
                    names[s] = nameList.count
                    name = s
                }
            }
            nameList.append(name)
        }

        let c = ExprCompiler(sink: sink, knownTypes: knownTypes, segments: names)
        let interestSpec = loadInterest(section["interest"], knownTypes: knownTypes)
        c.interestHalfLife = interestSpec.halfLife?.milliseconds
        let sources = loadSources(section["sources"], c)
        let stages = loadStages(section["stages"], c)
        let statusRules = compileStatusRules(statuses.rules, c)
        let teams = loadTeams(section["teams"])
        let owners = loadOwners(section["owners"])
        var scoring = loadScoring(section["scoring"], teams: teams, c)
        if let top = section["bands"] {
            // The issue's syntax: `bands:` beside `scoring:`, the same as `scoring.bands`.
            if case .mapping(let m)? = section["scoring"], m["bands"] != nil {
                sink.error(y.loc(top), "bands are given twice: at the top level and as `scoring.bands`; keep one")
            } else {
                scoring = Scoring(halfLife: scoring.halfLife, rules: scoring.rules, bands: loadBands(top, section: "`bands`", teams: teams, c))
            }
        }
        let suppress = loadConsent(section["consent"], c) + loadSuppress(section["suppress"], c)
        let routing = loadRouting(section["routing"])
        let outcomes = loadSales(section["sales"])
        let caps = loadCaps(section["caps"], c)
        let keyEvents = loadKeyEvents(section["key_events"], knownTypes: knownTypes)
        var segments: [Segment] = []
        var deps: [[Int]] = []
        var nameNodes: [Node?] = []
        for (i, n) in segmentNodes.enumerated() {
            let (seg, d, nameNode) = loadSegment(n, index: i, name: nameList[i], stages: stages, teams: teams, owners: owners, c)
            if let seg { segments.append(seg); deps.append(d); nameNodes.append(nameNode) }
        }
        let order = segments.count == segmentNodes.count ? dependencyOrder(segments, deps, nameNodes) : []
        let interest = section["interest"] != nil || c.usesInterest ? interestSpec : nil
        if section["interest"] == nil, c.usesInterest, !knownTypes.contains(interestSpec.event) {
            sink.error(c.interestUse ?? y.loc(root), "`lead.interest` counts `\(interestSpec.event)` events, which is not a known event type; map product views to it under `events.aliases` or name the type under `interest: { event: … }`")
        }
        if sink.hasErrors { return nil }
        var atoms = c.atoms
        for b in scoring.bands { if let below = b.below { atoms.add(TimeAtoms.Score(value: below, rule: TimeAtoms.alwaysProbe)) } }
        let timeRules = stages.map(\.when) + segments.flatMap { [$0.enter] + ($0.exit.map { [$0] } ?? []) } + suppress.map(\.condition)
        let timeDependent = Set(atoms.windows.map(\.rule) + atoms.since.map(\.rule) + atoms.ages.map(\.rule) + atoms.scores.map(\.rule))
        let bySortedKey = c.signals.specs.indices.sorted { c.signals.specs[$0].key < c.signals.specs[$1].key }
        var ruleset = Ruleset(
            version: version, fileName: fileName, aliases: aliases, knownEventTypes: knownTypes,
            sources: sources, stages: stages, statusOnEvent: onEvent, statusRules: statusRules,
            preCustomerStatuses: statuses.preCustomer, scoring: scoring,
            suppress: suppress, teams: teams, routing: routing, salesOutcomes: outcomes ?? SalesOutcome.defaults, segments: segments, signals: c.signals.specs,
            evaluationOrder: order,
            timeRulesReadEvent: timeRules.contains { readsEvent($0.node) },
            segmentIndex: Dictionary(uniqueKeysWithValues: segments.enumerated().map { ($1.name, $0) }),
            plan: EvaluationPlan(stages: stages, segments: segments, order: order, suppress: suppress, signals: c.signals.specs, rules: c.ruleTable, knownTypes: knownTypes,
                                 aliases: aliases, statusOnEvent: statusRules, halfLife: scoring.halfLife,
                                 atoms: atoms, timeDependentRules: timeDependent, bands: scoring.bands,
                                 allSegmentChannels: routing.allSegments, scoreRules: scoring.rules),
            sortedSignalKeys: bySortedKey.map { c.signals.specs[$0].key }, slotBySortedPosition: bySortedKey,
            sortingSwaps: Ruleset.sortingSwaps(bySortedKey),
            interest: interest, caps: caps, scoredSegments: segments.indices.filter { segments[$0].score != nil })
        ruleset.owners = owners
        ruleset.hasGoals = segments.contains { $0.goal != nil }
        ruleset.goalChecks = segments.indices.compactMap { i in
            segments[i].goal.map { GoalCheck(segment: i, withinMs: $0.within.milliseconds, when: $0.when.node) }
        }
        ruleset.keyEvents = keyEvents
        return ruleset
    }

    private func readsEvent(_ n: CNode) -> Bool {
        (n.kind == .path && n.text.hasPrefix("event.")) || n.children.contains { readsEvent($0) }
    }

    func rule(_ n: Node, _ what: String, _ scope: RuleScope, _ c: ExprCompiler) -> Rule? {
        guard let (text, locate) = y.expression(n, what) else { return nil }
        return c.compileRule(text, scope: scope, locate: locate)
    }

    /// Kahn's algorithm, lowest file index first, so the order is stable; a cycle is reported once.
    private func dependencyOrder(_ segments: [Segment], _ deps: [[Int]], _ nameNodes: [Node?]) -> [Int] {
        let n = segments.count
        var indegree = deps.map { Set($0).count }
        var users = Array(repeating: [Int](), count: n)
        for (i, d) in deps.enumerated() { for j in Set(d) where j < n { users[j].append(i) } }
        var order: [Int] = []
        var ready = (0..<n).filter { indegree[$0] == 0 }
        while let next = ready.min() {
            ready.removeAll { $0 == next }
            order.append(next)
            for u in users[next] { indegree[u] -= 1; if indegree[u] == 0 { ready.append(u) } }
        }
        if order.count < n {
            let stuck = Set(0..<n).subtracting(order)
            // Walk dependencies inside the stuck set until a segment repeats: that is the cycle.
            var path: [Int] = [stuck.min()!]
            while true {
                let next = deps[path.last!].filter { stuck.contains($0) }.min()!
                if let k = path.firstIndex(of: next) {
                    let cycle = Array(path[k...]) + [next]
                    let at = nameNodes[cycle[0]].map { y.loc($0) } ?? SourceLocation(line: 1, column: 1)
                    sink.error(at, "in_segment() cycle: \(cycle.map { segments[$0].name }.joined(separator: " → ")); a segment cannot depend on itself")
                    break
                }
                path.append(next)
            }
        }
        return order
    }
}
