/// Where an expression is used decides what it may refer to.
struct RuleScope {
    /// Name used in messages, e.g. "a stage rule".
    var name: String
    /// Evaluated without an event by time-based re-evaluation (stages, segments, suppress): uses of
    /// `since`, `membership.age` and `lead.score` must be compared with constants so re-evaluation
    /// can be scheduled exactly.
    var timeSensitive = false
    var allowsMembershipAge = false
    var allowsInSegment = false
    var inWhere = false
}

/// Type-checks an expression and compiles it to closures in one pass, reporting every error with
/// its file position. Also records the signals and time atoms the expression needs.
final class ExprCompiler {
    let sink: DiagnosticSink
    let knownTypes: [String]
    let segmentIndex: [String: Int]
    var signals = SignalRegistry()
    var atoms = TimeAtoms()
    /// Compiled time-sensitive rules by id (the ids atoms refer to), with their segment if any.
    var ruleTable: [EvaluationPlan.RuleEntry] = []
    /// The segment whose enter/exit is being compiled (set by the loader).
    var currentSegment: Int?
    var currentRole = EvaluationPlan.RuleEntry.Role.other
    var currentRule: Int { ruleTable.count }
    /// Set when any expression or template reads `lead.interest.*` (then the engine keeps it).
    var usesInterest = false
    /// Where `lead.interest` is first read (for the error when its event type is unknown).
    var interestUse: SourceLocation?
    /// Half-life of `lead.interest` counts, from the `interest:` section (read before any rule).
    var interestHalfLife: Int64? = InterestSpec().halfLife?.milliseconds

    // Per expression.
    var locate: (Int) -> SourceLocation = { _ in SourceLocation(line: 1, column: 1) }
    var scope = RuleScope(name: "a rule")
    var dependencies: [Int] = []
    var failed = false
    var counts: [(node: CNode, slot: Int, window: Int64, offset: Int)] = []
    var timeUses: [(node: CNode, use: TimeUse, offset: Int)] = []
    /// Constants a node is compared with, operator normalised so the node is on the left.
    var thresholds: [ObjectIdentifier: [(BinaryOp, RV)]] = [:]

    /// A continuously changing value that must be compared with a constant in time-sensitive rules.
    enum TimeUse { case since(Int), age, score }

    func thresholds(for node: CNode, append op: BinaryOp, _ value: RV) {
        thresholds[ObjectIdentifier(node), default: []].append((op, value))
    }

    /// Which most-recent occurrence leaving the window flips `count op c` (nil: cannot tell).
    static func ranks(_ op: BinaryOp, _ value: RV) -> [Int]? {
        guard case .num(let c) = value else { return [] }
        guard abs(c) < 1e6 else { return nil }
        let ks: [Int]
        switch op {
        case .ge, .lt: ks = [Int(c.rounded(.up))]
        case .gt, .le: ks = [Int(c.rounded(.down)) + 1]
        case .eq, .ne: ks = c == c.rounded() ? [Int(c), Int(c) + 1] : []
        default: return nil
        }
        return ks.filter { $0 > 0 }
    }

    init(sink: DiagnosticSink, knownTypes: [String], segments: [String: Int]) {
        self.sink = sink; self.knownTypes = knownTypes; self.segmentIndex = segments
    }

    func error(_ offset: Int, _ message: String) {
        failed = true
        sink.error(locate(offset), message)
    }

    /// Compiles `text` (a `when`/`enter`/`exit`/condition) that must be true/false.
    func compileRule(_ text: String, scope: RuleScope, locate: @escaping (Int) -> SourceLocation) -> Rule? {
        self.locate = locate
        self.scope = scope
        dependencies = []
        failed = false
        counts = []; timeUses = []; thresholds = [:]
        let ast: Expr
        do { ast = try Parser.parse(text) } catch {
            sink.error(locate(error.offset), error.message)
            return nil
        }
        guard let node = compile(ast) else { return nil }
        if node.type != .bool, node.type != .dynamic {
            error(ast.offset, "\(scope.name) must be true or false, but `\(node.text)` is a \(node.type.name)")
        }
        finishUses()
        if failed { return nil }
        if scope.timeSensitive { ruleTable.append(EvaluationPlan.RuleEntry(fn: node.eval, segment: currentSegment, role: currentRole)) }
        return Rule(text: node.text, location: locate(ast.offset), node: node)
    }

    /// Compiles the `lead.*` path of a template hole (`{{ lead.interest.top_category }}`).
    func compileTemplatePath(_ text: String, locate: @escaping (Int) -> SourceLocation) -> CNode? {
        self.locate = locate
        scope = RuleScope(name: "a template")
        dependencies = []; failed = false
        counts = []; timeUses = []; thresholds = [:]
        let ast: Expr
        do { ast = try Parser.parse(text) } catch {
            sink.error(locate(error.offset), error.message)
            return nil
        }
        guard case .path(let parts) = ast.kind, parts.first == "lead" else {
            error(ast.offset, "a template can only show a `lead.*` path, e.g. {{ lead.interest.top_category }}, not `\(text)`")
            return nil
        }
        let node = compile(ast)
        finishUses()
        return failed ? nil : node
    }

    /// Settles how much of each counted signal must be kept, and refuses time uses that cannot be scheduled.
    private func finishUses() {
        for (node, slot, window, offset) in counts {
            let ts = thresholds[ObjectIdentifier(node)]
            if scope.timeSensitive {
                var ranks: [Int]? = []
                for (op, v) in ts ?? [] { if let r = ExprCompiler.ranks(op, v), let have = ranks { ranks = have + r } else { ranks = nil } }
                atoms.add(window: slot, window, ranks: ts == nil ? nil : ranks, rule: currentRule)
            }
            if let ts {
                var keep = 1
                for (_, t) in ts { if case .num(let c) = t { keep = max(keep, c < 0 ? 1 : Int(min(c, 1e6).rounded(.down)) + 1) } }
                if keep > SignalState.maxTimesPerSignal {
                    error(offset, "`\(node.text)` is compared with a number above \(SignalState.maxTimesPerSignal - 1); counts are kept exactly only up to \(SignalState.maxTimesPerSignal) occurrences per lead")
                }
                signals.need(slot, keep: keep)
            } else {
                signals.need(slot, keep: SignalState.maxTimesPerSignal)
            }
        }
        guard scope.timeSensitive, !failed else { return }
        for (node, use, offset) in timeUses {
            guard let ts = thresholds[ObjectIdentifier(node)] else {
                let example: String
                if case .score = use { example = "\(node.text) >= 50" } else { example = "\(node.text) > 3d" }
                error(offset, "`\(node.text)` must be compared with a fixed value (e.g. `\(example)`) so the lead can be re-evaluated exactly when it changes")
                continue
            }
            for (_, t) in ts {
                switch (use, t) {
                case (.since(let slot), .dur(let d)): atoms.add(TimeAtoms.Since(slot: slot, ms: d, rule: currentRule))
                // `since(x) == null` flips when a (future-dated) occurrence is reached.
                case (.since(let slot), _): atoms.add(TimeAtoms.Since(slot: slot, ms: 0, rule: currentRule))
                case (.age, .dur(let d)): atoms.add(TimeAtoms.Age(ms: d, segment: currentSegment ?? 0, rule: currentRule))
                case (.score, .num(let n)): atoms.add(TimeAtoms.Score(value: n, rule: currentRule))
                default: break
                }
            }
        }
    }

    func compile(_ e: Expr) -> CNode? {
        switch e.kind {
        case .number(let n): return .literal(.num(n), type: .number, text: e.canonical)
        case .duration(let d): return .literal(.dur(d), type: .duration, text: e.canonical)
        case .string(let s): return .literal(.str(s), type: .string, text: e.canonical)
        case .bool(let b): return .literal(.bool(b), type: .bool, text: e.canonical)
        case .null: return .literal(.null, type: .null, text: "null")
        case .eventType(let t):
            error(e.offset, "`\(t)` is an event type; it can only be the first argument of count() or since()")
            return nil
        case .eventField(let t, let f):
            error(e.offset, "`\(([t] + f).joined(separator: "."))` is an event property; it can only be the first argument of sum(), max(), min() or avg()")
            return nil
        case .list(let items): return compileList(e, items)
        case .path(let parts): return compilePath(e, parts)
        case .not(let inner):
            guard let c = compile(inner) else { return nil }
            requireBool(c, inner.offset, "`not`")
            let text = e.canonical
            if let k = c.constant { return .literal(.bool(!k.isTrue), type: .bool, text: text) }
            let f = c.eval
            return CNode(kind: .not, type: .bool, text: text, children: [c], eval: { .bool(!f($0).isTrue) })
        case .negate(let inner):
            guard let c = compile(inner) else { return nil }
            guard [.number, .duration, .dynamic].contains(c.type) else {
                error(inner.offset, "cannot negate `\(c.text)`: it is a \(c.type.name), not a number or duration")
                return nil
            }
            let text = e.canonical
            let neg: @Sendable (RV) -> RV = { v in
                switch v { case .num(let n): return .num(-n); case .dur(let d): return .dur(-d); default: return .null }
            }
            if let k = c.constant { return .literal(neg(k), type: c.type, text: text) }
            let f = c.eval
            return CNode(kind: .arithmetic, type: c.type, text: text, children: [c], eval: { neg(f($0)) })
        case .binary(let op, let l, let r):
            return compileBinary(e, op, l, r)
        case .call(let name, let args, let w):
            return compileCall(e, name, args, w)
        }
    }

    private func compileList(_ e: Expr, _ items: [Expr]) -> CNode? {
        var nodes: [CNode] = []
        var elem: VType?
        var ok = true
        for item in items {
            guard let n = compile(item) else { ok = false; continue }
            guard n.constant != nil else {
                error(item.offset, "list items must be fixed values; `\(n.text)` depends on the lead or event")
                ok = false; continue
            }
            if n.type != .null {
                if let el = elem, el != n.type {
                    error(item.offset, "a list mixes \(el.name) and \(n.type.name); keep one kind of value per list")
                    ok = false
                }
                elem = n.type
            }
            nodes.append(n)
        }
        guard ok else { return nil }
        let value = RV.list(nodes.map { $0.constant! })
        return .literal(value, type: .list(elem ?? .dynamic), text: e.canonical)
    }

    func requireBool(_ c: CNode, _ offset: Int, _ context: String) {
        if c.type != .bool, c.type != .dynamic {
            error(offset, "\(context) needs true/false, but `\(c.text)` is a \(c.type.name)")
        }
    }
}
