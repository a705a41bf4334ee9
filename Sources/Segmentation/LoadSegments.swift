import Yams

/// Segments: names, rules, routes and the suspicious-rule warnings.
extension RulesetLoader {
    static let segmentKeys = ["name", "description", "owner", "priority", "enter", "exit", "route", "goal", "score"]

    /// `<stage>.<intent>.<theme>`: three lower-case parts of letters, digits and inner hyphens.
    static func isValidSegmentName(_ s: String) -> Bool {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 3 && parts.allSatisfy { p in
            !p.isEmpty && p.first != "-" && p.last != "-"
                && p.allSatisfy { ($0 >= "a" && $0 <= "z") || ($0 >= "0" && $0 <= "9") || $0 == "-" }
        }
    }

    func loadSegment(_ n: Node, index: Int, name: String?, stages: [StageRule], teams: [String: Team], owners: [String],
                     _ c: ExprCompiler) -> (Segment?, [Int], Node?) {
        guard let m = y.mapping(n, "a segment", allowed: RulesetLoader.segmentKeys) else { return (nil, [], nil) }
        let f = Dictionary(m.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        guard let nameNode = f["name"] else {
            sink.error(y.loc(n), "a segment needs a `name` like decision.high-intent.cart")
            return (nil, [], nil)
        }
        let segName = y.string(nameNode, "`name`") ?? ""
        var ok = name != nil
        if !RulesetLoader.isValidSegmentName(segName) {
            sink.error(y.loc(nameNode), "segment name `\(segName)` must look like <stage>.<intent>.<theme> in lower case, e.g. decision.high-intent.cart")
            ok = false
        } else if !stages.isEmpty, let st = segName.split(separator: ".").first.map(String.init), !stages.contains(where: { $0.stage == st }) {
            sink.error(y.loc(nameNode), "segment `\(segName)` starts with `\(st)`, which is not a stage\(didYouMean(st, stages.map(\.stage))); stages are \(stages.map(\.stage).joined(separator: ", "))")
            ok = false
        }
        let priority = f["priority"].flatMap { y.integer($0, "`priority`") } ?? 0
        let description = f["description"].flatMap { $0.string }
        let owner = f["owner"].flatMap { y.string($0, "`owner`") }
        if let on = f["owner"], let owner { checkOwner(on, owner, segment: segName, owners: owners, teams: teams) }
        c.dependencies = []
        c.currentSegment = index
        defer { c.currentSegment = nil; c.currentRole = .other }
        var enter: Rule?
        if let en = f["enter"] {
            c.currentRole = .enter
            enter = rule(en, "`enter`", RuleScope(name: "an `enter` rule", timeSensitive: true, allowsInSegment: true), c)
        } else {
            sink.error(y.loc(n), "segment `\(segName)` needs an `enter` rule")
        }
        var deps = c.dependencies
        var exit: Rule?
        if let ex = f["exit"] {
            c.currentRole = .exit
            exit = rule(ex, "`exit`", RuleScope(name: "an `exit` rule", timeSensitive: true, allowsMembershipAge: true, allowsInSegment: true), c)
            deps += c.dependencies
            if exit == nil { ok = false }
        }
        let route = f["route"].map { loadRoute($0, teams: teams, c) } ?? Route(email: nil, ads: nil, sales: nil)
        c.currentSegment = nil
        let goal = f["goal"].flatMap { loadGoal($0, of: "segment `\(segName)`", c) }
        if f["goal"] != nil, goal == nil { ok = false }
        guard ok, let enter else { return (nil, [], nameNode) }
        warnSuspicious(segName, enter, exit)
        if let en = f["enter"], let ex = f["exit"] { warnHysteresisTrap(segName, en, ex) }
        if route.email == nil, route.ads == nil, route.sales == nil {
            sink.warning(y.loc(nameNode), "segment `\(segName)` has no route: a segment should drive an email, ads or sales action")
        }
        var segment = Segment(name: segName, description: description, owner: owner, priority: priority,
                              enter: enter, exit: exit, route: route, goal: goal)
        if let sn = f["score"] {
            if case .mapping(let sm) = sn, let bands = sm["bands"] {
                sink.error(y.loc(bands), "a segment's `score` has no `bands`: bands belong to the lead score (`scoring.bands`)")
            }
            segment.score = loadScoring(sn, teams: teams, c)
        }
        return (segment, deps, nameNode)
    }

    /// Warns about an `enter` that can never hold and an `exit` that holds whenever `enter` does
    /// (it then contains `enter`, or one of `enter`'s `and` parts, as an `or` part, or is always true).
    private func warnSuspicious(_ name: String, _ enter: Rule, _ exit: Rule?) {
        if let k = enter.node.constant, !k.isTrue {
            sink.warning(enter.location, "the `enter` rule of `\(name)` can never hold, so no lead will ever enter")
        }
        guard let exit else { return }
        if let k = exit.node.constant, k.isTrue {
            sink.warning(exit.location, "the `exit` rule of `\(name)` always holds, so no lead will ever stay in the segment")
            return
        }
        let conjuncts = Set(parts(enter.node, .and).map(\.text) + [enter.node.text])
        if let same = parts(exit.node, .or).first(where: { conjuncts.contains($0.text) }) {
            sink.warning(exit.location, "the `exit` rule of `\(name)` holds whenever `enter` does (both need `\(same.text)`), so no lead will ever enter")
        }
    }

    /// The hysteresis trap: a member leaves only when `exit` holds, so an `enter` clause whose
    /// subject `exit` never reads keeps a lead in the segment after the clause stopped holding
    /// (a cart emptied, a customer converted). Each `and` part of `enter` needs a counterpart in
    /// `exit`: a shared field, event type or segment; `membership.age` in `exit` covers every part
    /// (the lead leaves in time anyway) and `inactive()` covers parts made only of counted events.
    /// `inactive()` parts of `enter` are waiting conditions (a quiet hour) and need none.
    private func warnHysteresisTrap(_ name: String, _ enterNode: Node, _ exitNode: Node) {
        guard let (enterText, locate) = y.expression(enterNode, "`enter`"), let (exitText, _) = y.expression(exitNode, "`exit`"),
              let enter = try? Parser.parse(enterText), let exit = try? Parser.parse(exitText) else { return }
        let exitSubjects = RuleSubjects.of(exit)
        let coversAll = exitSubjects.contains(RuleSubjects.age)
        for clause in RuleSubjects.parts(enter, .and) {
            let subjects = RuleSubjects.of(clause).subtracting([RuleSubjects.inactive])
            guard !subjects.isEmpty, !coversAll, subjects.isDisjoint(with: exitSubjects) else { continue }
            if exitSubjects.contains(RuleSubjects.inactive), subjects.allSatisfy(RuleSubjects.isCountedEvent) { continue }
            let text = clause.canonical
            sink.warning(locate(clause.offset), "`enter` of `\(name)` requires `\(text)`, but `exit` never reads it: a lead that stops matching it stays in the segment (hysteresis trap); add its negation to `exit`, e.g. `… or not (\(text))`")
        }
    }

    private func parts(_ n: CNode, _ op: BinaryOp) -> [CNode] {
        if case .logic(op) = n.kind { return n.children.flatMap { parts($0, op) } }
        return [n]
    }

    func loadRoute(_ n: Node, teams: [String: Team], _ c: ExprCompiler) -> Route {
        guard let m = y.mapping(n, "`route`", allowed: RulesetLoader.channels) else { return Route(email: nil, ads: nil, sales: nil) }
        var email: EmailRoute?, ads: AdsRoute?, sales: SalesRoute?
        var dynamic: [DynamicField] = []
        // A field as text: plain, or the first value of a template/choices (then filled per decision).
        func field(_ channel: String, _ name: String, _ v: Node?, templates: Bool = true,
                   check: (String, Node) -> Void = { _, _ in }) -> String? {
            guard let v else { return nil }
            switch actionField(v, "`\(name)`", templates: templates, c, check: check) {
            case .plain(let s)?: return s
            case .dynamic(let t, let display)?:
                dynamic.append(DynamicField(channel: channel, field: name, text: t))
                return display
            case nil: return nil
            }
        }
        var timing: [String: SendTiming] = [:]
        var experiments: [RouteExperiment] = []
        for (key, _, v) in m {
            if RulesetLoader.isExperiment(v) {
                if let e = loadExperiment(key, v, teams: teams, c) { experiments.append(e) }
                continue
            }
            if case .mapping(let fields) = v { timing[key] = sendTiming(key, fields) }
            switch key {
            case "email":
                guard let em = y.mapping(v, "`route.email`", allowed: ["sequence"] + RulesetLoader.timingKeys) else { continue }
                let f = Dictionary(em.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
                if let s = field("email", "sequence", f["sequence"]) {
                    email = EmailRoute(sequence: s)
                } else if f["sequence"] == nil { sink.error(y.loc(v), "`route.email` needs a `sequence`") }
            case "ads":
                guard let am = y.mapping(v, "`route.ads`", allowed: ["audience", "landing_page"] + RulesetLoader.timingKeys) else { continue }
                let f = Dictionary(am.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
                if let a = field("ads", "audience", f["audience"]) {
                    ads = AdsRoute(audience: a, landingPage: field("ads", "landing_page", f["landing_page"]))
                } else if f["audience"] == nil { sink.error(y.loc(v), "`route.ads` needs an `audience`") }
            default:
                guard let sm = y.mapping(v, "`route.sales`", allowed: ["queue", "team", "sla", "script"] + RulesetLoader.timingKeys) else { continue }
                let f = Dictionary(sm.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
                let team = field("sales", "team", f["team"], templates: false) { t, tn in
                    if teams[t] == nil {
                        sink.error(y.loc(tn), "unknown team `\(t)`\(didYouMean(t, teams.keys.sorted())); define it under `teams:`")
                    }
                }
                let sla = f["sla"].flatMap { y.duration($0, "`sla`") }
                if let q = field("sales", "queue", f["queue"], templates: false) {
                    sales = SalesRoute(queue: q, team: team, sla: sla, script: field("sales", "script", f["script"]))
                } else if f["queue"] == nil { sink.error(y.loc(v), "`route.sales` needs a `queue`") }
            }
        }
        var route = Route(email: email, ads: ads, sales: sales)
        route.dynamic = dynamic
        route.timing = timing
        route.experiments = experiments
        return route
    }

    static let timingKeys = ["delay", "window"]

    /// `delay` and `window` of one channel's action, if it has either.
    private func sendTiming(_ channel: String, _ fields: Node.Mapping) -> SendTiming? {
        let d = fields["delay"], w = fields["window"]
        guard d != nil || w != nil else { return nil }
        let delay = d.flatMap { y.duration($0, "`delay`") }
        var window: (Int, Int)?
        var text: String?
        if let w, let s = y.string(w, "`window`") {
            window = SendTiming.parseWindow(s)
            text = s
            if window == nil {
                sink.error(y.loc(w), "`window` `\(s)` is not a time window: write HH:MM-HH:MM in the lead's local time, e.g. 09:00-19:00 (22:00-07:00 wraps past midnight)")
            }
        }
        LeadZone.resolveZones()
        return SendTiming(delayMs: delay?.milliseconds ?? 0, window: window, windowText: window == nil ? nil : text)
    }
}

/// What a rule reads, for the hysteresis-trap warning: lead fields (`path:lead.source`), counted
/// event types (`type:added_to_cart`), segments (`segment:…`), `membership.age` and `inactive()`.
enum RuleSubjects {
    static let age = "membership.age"
    static let inactive = "inactive()"

    static func isCountedEvent(_ s: String) -> Bool { s.hasPrefix("type:") }

    /// The `op` parts of `e` (`a and (b and c)` → a, b, c).
    static func parts(_ e: Expr, _ op: BinaryOp) -> [Expr] {
        if case .binary(op, let l, let r) = e.kind { return parts(l, op) + parts(r, op) }
        return [e]
    }

    static func of(_ e: Expr) -> Set<String> {
        var out = Set<String>()
        func walk(_ e: Expr) {
            switch e.kind {
            case .path(let p):
                if p == ["membership", "age"] { out.insert(age) } else if p.first != "event" { out.insert("path:" + p.joined(separator: ".")) }
            case .eventType(let t), .eventField(let t, _): out.insert("type:" + t)
            case .call(let name, let args, _):
                if name == "inactive" { out.insert(inactive); return }
                if name == "in_segment", case .string(let target)? = args.first?.kind { out.insert("segment:" + target); return }
                args.forEach(walk)
            case .not(let x), .negate(let x): walk(x)
            case .binary(_, let l, let r): walk(l); walk(r)
            case .list(let items): items.forEach(walk)
            default: break
            }
        }
        walk(e)
        return out
    }
}
